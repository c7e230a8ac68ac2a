#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmarks of the worker's sync and prefetch (issue 5), against a real
kempelen-server on loopback, printing `BENCH <name> <value> <unit>`:

  sync_10k_per_s            10,000 queued ~2 KB submissions drained by
                            KpSyncEngine (POST /sync, 100 per batch)
  sync_10k_per_s_baseline   submissions of the same size (another worker's)
                            as single POST /submit one after another (2,000
                            of them: each costs the same)
  sync_10k_max_main_gap_ms  the longest main-loop gap during the 10,000
                            (a 5 ms timer on the main context)
  prefetch_mb_per_s         KpSyncEngine taking 200 HITs offline, each with
                            its own 1 MB image: accept, download, hash, store
  prefetch_mb_per_s_baseline  raw HTTP GETs of the same 200 files into
                            memory, as many at a time, nothing checked
  prefetch_ratio            prefetch / baseline
  prefetch_accept_s         of which the time until all 200 were accepted

KP_BENCH_SYNC_N changes the 10,000 (for a quick run), KP_BENCH_SYNC_BASELINE_N
the 2,000. submit_to_next_ms
needs the workstation's UI and is not measured here.
"""

import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "net"))

import syncworld  # noqa: E402
from syncworld import World, tool  # noqa: E402

import kpserver  # noqa: E402


def bench(name, value, unit):
    print("BENCH %s %.2f %s" % (name, value, unit), flush=True)


def note(text):
    print("# " + text, file=sys.stderr, flush=True)


def take_work(world, worker, count, per_group=500):
    """Up to count accepted HITs in the worker's cache, their submissions
    queued; returns how many. The HITs come in groups of 500: the server's
    accepts slow down as a group grows (the setup, not what is measured)."""
    started = time.monotonic()
    accepted = 0
    while accepted < count:
        size = min(per_group, count - accepted)
        hit_type = world.mturk.create_hit_type(
            Title="Sync %s" % os.urandom(4).hex(), Description="Outbox", Reward="0.01",
            AssignmentDurationInSeconds=3600)["HITTypeId"]
        world.make_hits(size, hit_type=hit_type)
        taken = world.take_offline(worker, size, hit_type=hit_type)
        accepted += taken["accepted"]
        if taken["accepted"] < size:
            # Seen near 9,600 accepted assignments: the server answers 410
            # (nothing left) to accepts while HITs remain. Measure with
            # what there is, and say so.
            note("only %d of %d HITs of a group could be accepted (%s); going on with %d"
                 % (taken["accepted"], size, taken["error"] or "410", accepted))
            break
    queued = tool("enqueue", worker["cache"], "2000")
    assert queued["enqueued"] == accepted, queued
    note("%d HITs made, accepted and queued in %.1f s" % (accepted, time.monotonic() - started))
    return accepted


def bench_sync(world, n, n_baseline):
    # Two workers with the same kind of work. The baseline's single POSTs
    # cost the same each, so fewer of them give its rate (creating HITs is
    # what takes long here).
    batched, single = world.worker(), world.worker()
    # The baseline's first: past about 10,000 HITs this server slows down
    # a lot (creating and accepting, reported to its owner).
    n_baseline = take_work(world, single, n_baseline)
    n = take_work(world, batched, n)

    each = tool("submit-each", single["cache"], world.server.url, env=single["env"], timeout=900)
    assert each["submitted"] == n_baseline, each
    synced = world.sync(batched, "--measure-stalls", timeout=900)
    assert synced["accepted"] == n and synced["newly_accepted"] == n, synced

    bench("sync_10k_per_s", n / synced["seconds"], "items/s")
    bench("sync_10k_per_s_baseline", n_baseline / each["seconds"], "items/s")
    bench("sync_10k_max_main_gap_ms", synced["max_gap_ms"], "ms")


def bench_prefetch(world, n=200, size=1 << 20):
    hit_type = world.mturk.create_hit_type(
        Title="Prefetch", Description="Pictures", Reward="0.01",
        AssignmentDurationInSeconds=3600)["HITTypeId"]

    folder = tempfile.mkdtemp(prefix="kp-bench-media-", dir=world.server.tmp)
    paths = []
    for i in range(n):
        path = os.path.join(folder, "image-%03d.bin" % i)
        with open(path, "wb") as f:
            f.write(os.urandom(size))
        paths.append(path)
    added = json.loads(world.server.admin(
        "media", "add", *paths, "--content-type", "image/png", "--json").stdout)
    digests = [entry["SHA256"] for entry in added]
    assert len(set(digests)) == n
    for digest in digests:
        world.make_hits(1, hit_type=hit_type,
                        question=kpserver.html_question('<img src="/worker/v1/media/%s">' % digest))

    worker = world.worker()
    taken = world.take_offline(worker, n, hit_type=hit_type)
    assert taken["accepted"] == n and taken["error"] is None, taken
    assert taken["bytes"] == n * size, taken
    raw = tool("raw-download", world.server.url, *digests, env=worker["env"])
    assert raw["bytes"] == n * size, raw

    prefetch = n * size / (1 << 20) / taken["seconds"]
    baseline = n * size / (1 << 20) / raw["seconds"]
    bench("prefetch_mb_per_s", prefetch, "MB/s")
    bench("prefetch_mb_per_s_baseline", baseline, "MB/s")
    bench("prefetch_ratio", prefetch / baseline, "x")
    # Accepting the 200 HITs is part of the prefetch, and the server's share.
    bench("prefetch_accept_s", taken["accept_seconds"], "s")


def main():
    n = int(os.environ.get("KP_BENCH_SYNC_N", "10000"))
    n_baseline = min(n, int(os.environ.get("KP_BENCH_SYNC_BASELINE_N", "2000")))
    world = World()
    try:
        bench_prefetch(world)
        bench_sync(world, n, n_baseline)
    finally:
        world.close()


if __name__ == "__main__":
    main()
