# SPDX-License-Identifier: GPL-3.0-or-later
"""A realistic mix against one and two kempelen-server processes on one store,
measured by wrk with load-mix.lua, then checked by counting.

Every wrk connection is a client of its own (one connection per wrk
thread): 24 workers, each with its own bearer token, accept the next HIT of
a group and submit it with a fresh submission id, again and again; 4
requesters replay SigV4-signed GetHIT and ListAssignmentsForHIT calls; 4
more post HITs to the group (a replayed CreateHITWithHITType) as the workers
take them. With two processes, two wrk runs at once split the same
connections evenly between them. Busy answers (503, ThrottlingException)
are retried as a client must, and counted.

Prints, after a `# store: sqlite|postgresql` line:
  load_1proc_rps      requests per second, one server process
  load_p99_ms         its 99th percentile latency (load_p50_ms too)
  load_2proc_rps      requests per second, two processes on the same store
  load_2proc_p99_ms   the larger of the two wrk runs' 99th percentiles
                      (load_2proc_p50_ms likewise)
Afterwards the store is counted (and the MTurk API must agree on a sample):
every acknowledged submission is stored once, with its own answer; beyond
them only what was in flight when wrk stopped; no HIT has more assignments
than slots; no answer was an error (non-2xx other than retried busy
answers; 409/410 races would be allowed, none are expected).

The store: KP_LOAD_STORE=sqlite|postgresql|auto. auto (the default) runs
on PostgreSQL when tests/server/kppg.py and a kempelen-server with libpq
are there, then on SQLite with the names suffixed _sqlite
(load_1proc_rps_sqlite, …); without PostgreSQL, on SQLite under the names.
KP_BENCH_SECONDS sets each run's length (default 5). Servers run with
--rate-limit 0 --quiet.
"""

import concurrent.futures
import glob
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "server"))

import botocore.auth
import botocore.awsrequest
import botocore.credentials

from kpserver import question_form
from test_load_faults import StoreServer, all_assignments, make_store, postgres_missing

SCRIPT = os.path.join(HERE, "load-mix.lua")
DURATION = int(os.environ.get("KP_BENCH_SECONDS", "5"))
WORKER_CONNECTIONS = int(os.environ.get("KP_LOAD_WORKERS", "24"))   # per run, split
READER_CONNECTIONS = int(os.environ.get("KP_LOAD_READERS", "4"))     # between the
POSTER_CONNECTIONS = int(os.environ.get("KP_LOAD_POSTERS", "4"))     # processes
# A batch as requesters post them: HITs of one HIT type with a few
# assignments each, which workers go through oldest first. Posters add HITs
# while workers take them; the initial stock covers the difference.
N_HITS = int(os.environ.get("KP_LOAD_HITS", "600"))
SLOTS = 5


def bench(name, value, unit):
    print("BENCH %s %.3f %s" % (name, value, unit), flush=True)


def comment(text):
    print("# " + text, flush=True)


def lua(value):
    """value as a Lua literal (strings, numbers, lists, dicts)."""
    if isinstance(value, str):
        level = "=" * 4
        assert ("]" + level + "]") not in value
        return "[" + level + "[" + value + "]" + level + "]"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "{" + ", ".join(lua(v) for v in value) + "}"
    return "{" + ", ".join("[ %s ] = %s" % (lua(k), lua(v)) for k, v in value.items()) + "}"


def signed(server, requester, operation, body):
    """A SigV4-signed MTurk request for server, to replay."""
    request = botocore.awsrequest.AWSRequest(
        method="POST", url=server.url, data=body.encode(),
        headers={"Content-Type": "application/x-amz-json-1.1",
                 "X-Amz-Target": "MTurkRequesterServiceV20170117." + operation})
    botocore.auth.SigV4Auth(
        botocore.credentials.Credentials(requester["AccessKeyId"], requester["SecretAccessKey"]),
        "mturk-requester", "us-east-1").add_auth(request)
    return {"headers": dict(request.headers.items()), "body": body}


class Wrk:
    """One wrk process with one connection per thread (see load-mix.lua)."""

    def __init__(self, tmp, name, server, requester, workers, n_readers, n_posters, group,
                 hits):
        self.out = os.path.join(tmp, name + "-acked-")
        reads = []
        for hit in hits[:20]:
            reads.append(signed(server, requester, "GetHIT", json.dumps({"HITId": hit})))
            reads.append(signed(server, requester, "ListAssignmentsForHIT",
                                json.dumps({"HITId": hit, "MaxResults": 10})))
        roles = ([{"kind": "worker", "token": w["Token"]} for w in workers] +
                 [{"kind": "requester"}] * n_readers + [{"kind": "poster"}] * n_posters)
        self.config = os.path.join(tmp, name + ".lua")
        with open(self.config, "w") as f:
            f.write("return " + lua({"group": group, "run": name, "out": self.out,
                                     "roles": roles, "signed": reads,
                                     "create": create_request(server, requester, group)})
                    + "\n")
        n = len(roles)
        self.n_workers = len(workers)
        self.args = ["wrk", "-t", str(n), "-c", str(n), "-d", "%ds" % DURATION,
                     "--timeout", "10s", "-s", SCRIPT, server.url, "--", self.config]
        self.process = None

    def start(self):
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        return self

    def wait(self):
        out, err = self.process.communicate(timeout=DURATION + 60)
        if self.process.returncode != 0:
            raise RuntimeError("wrk failed: %s %s" % (out, err))
        self.stats = {}
        self.last_errors = []
        for line in out.splitlines():
            parts = line.split(" ", 2)
            if parts[0] != "LOAD":
                continue
            if parts[1] == "last_error":
                self.last_errors.append(parts[2])
            else:
                self.stats[parts[1]] = int(parts[2])
        self.rps = self.stats["requests"] / (self.stats["duration_us"] / 1e6)
        return self

    def acknowledged(self):
        """{assignment id: submission id} of every 200 to a submit."""
        acked = {}
        for path in glob.glob(self.out + "*"):
            with open(path) as f:
                for line in f:
                    assignment, submission = line.split()
                    assert assignment not in acked, "%s acknowledged twice" % assignment
                    acked[assignment] = submission
        return acked


def run(tmp, name, servers, requester, workers, group, hits):
    """wrk against each server at once, the connections split evenly."""
    n = len(servers)
    runs = []
    for i, server in enumerate(servers):
        share = workers[i * len(workers) // n:(i + 1) * len(workers) // n]
        runs.append(Wrk(tmp, "%s-%d" % (name, i), server, requester, share,
                        READER_CONNECTIONS // n, POSTER_CONNECTIONS // n, group, hits))
    for r in runs:
        r.start()
    for r in runs:
        r.wait()
    totals = {}
    for r in runs:
        for key, value in r.stats.items():
            totals[key] = totals.get(key, 0) + value
    comment("%s: %d requests (accepted %d, submitted %d, read %d, HITs posted %d), "
            "errors %d, 409 races %d, busy retried %d, socket errors %d, group empty %d"
            % (name, totals["requests"], totals["ok_accept"], totals["ok_submit"],
               totals["ok_read"], totals["ok_create"], totals["errors"], totals["races"],
               totals["busy"], totals["socket_errors"], totals["exhausted"]))
    for r in runs:
        for e in r.last_errors:
            comment("%s: last error: %s" % (name, e))
    rps = sum(r.rps for r in runs)
    p50 = max(r.stats["p50_us"] for r in runs) / 1000
    p99 = max(r.stats["p99_us"] for r in runs) / 1000
    acked = {}
    for r in runs:
        a = r.acknowledged()
        assert not set(a) & set(acked), "an assignment acknowledged by two runs"
        acked.update(a)
    assert len(acked) == totals["ok_submit"], (len(acked), totals["ok_submit"])
    return rps, p50, p99, totals, acked


def create_request(server, requester, group):
    """A signed CreateHITWithHITType; every replay makes a new HIT."""
    return signed(server, requester, "CreateHITWithHITType", json.dumps(
        {"HITTypeId": group, "MaxAssignments": SLOTS, "LifetimeInSeconds": 86400,
         "Question": question_form()}))


def create_hits(server, requester, group, n, threads=8):
    """n HITs of the group, oldest first, by parallel replays of one signed
    request (cheaper for this machine's two cores than boto3)."""
    request = create_request(server, requester, group)

    def create(i):
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        made = []
        try:
            for _ in range(n // threads + (i < n % threads)):
                conn.request("POST", "/", body=request["body"], headers=request["headers"])
                response = conn.getresponse()
                data = response.read()
                if response.status != 200:
                    raise RuntimeError("CreateHITWithHITType: %d %r" % (response.status, data))
                made.append(json.loads(data)["HIT"])
        finally:
            conn.close()
        return made

    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        made = [h for part in pool.map(create, range(threads)) for h in part]
    made.sort(key=lambda h: (h["CreationTime"], h["HITId"]))
    return [h["HITId"] for h in made]


def measure(kind, suffix=""):
    """Both runs on a new store of this kind; returns the failures."""
    tmp = tempfile.mkdtemp(prefix="kp-bench-load-")
    store = make_store(kind)
    comment("store: " + store.name)
    servers = []
    failures = []
    try:
        started = time.monotonic()
        first = StoreServer(store).start()
        servers.append(first)
        requester = first.create_requester(funds="1000000")
        mturk = first.mturk(requester)
        n_workers = 2 * WORKER_CONNECTIONS
        group = mturk.create_hit_type(
            Title="Load", Description="A realistic mix", Reward="0.01",
            AssignmentDurationInSeconds=3600)["HITTypeId"]
        hits = create_hits(first, requester, group, N_HITS)
        workers = [first.create_worker() for _ in range(n_workers)]
        comment("set-up: %d HITs, %d workers in %.1f s"
                % (N_HITS, n_workers, time.monotonic() - started))

        # One process, then two on the same store (fresh workers for each).
        rps1, p50_1, p99_1, totals1, acked = run(
            tmp, "1proc", [first], requester, workers[:WORKER_CONNECTIONS], group, hits)
        bench("load_1proc_rps" + suffix, rps1, "req/s")
        bench("load_p50_ms" + suffix, p50_1, "ms")
        bench("load_p99_ms" + suffix, p99_1, "ms")

        second = StoreServer(store).start()
        servers.append(second)
        rps2, p50_2, p99_2, totals2, acked2 = run(
            tmp, "2proc", [first, second], requester, workers[WORKER_CONNECTIONS:], group, hits)
        bench("load_2proc_rps" + suffix, rps2, "req/s")
        bench("load_2proc_p50_ms" + suffix, p50_2, "ms")
        bench("load_2proc_p99_ms" + suffix, p99_2, "ms")
        acked.update(acked2)

        # --- counting ---
        for totals in (totals1, totals2):
            if totals["errors"] or totals["socket_errors"]:
                failures.append("answers were errors (see above)")
            if totals["exhausted"]:
                failures.append("workers found the group empty: posters were too slow "
                                "for them; raise KP_LOAD_HITS")
        # The store itself (every HIT), then the MTurk API agreeing on a sample.
        # Requests wrk abandoned at its deadline may still be committing:
        # count once two snapshots a moment apart agree.
        rows = None
        for _ in range(30):
            time.sleep(0.2)
            again = sorted(first.sql(
                "SELECT id, hit_id, worker_id, status, answer FROM assignments"))
            if again == rows:
                break
            rows = again
        stored = {}
        for assignment_id, hit_id, worker_id, status, answer in rows:
            if assignment_id in stored:
                failures.append("assignment %s stored twice" % assignment_id)
            stored[assignment_id] = {"HITId": hit_id, "WorkerId": worker_id,
                                     "AssignmentStatus": status, "Answer": answer or ""}
        sample = all_assignments(mturk, hits[:10] + hits[len(hits) // 3:len(hits) // 3 + 10])
        for assignment_id, listed in sample.items():
            if (listed["AssignmentStatus"], listed["WorkerId"], listed["HITId"]) != (
                    stored[assignment_id]["AssignmentStatus"], stored[assignment_id]["WorkerId"],
                    stored[assignment_id]["HITId"]):
                failures.append("MTurk lists %s as %s, the store has %s" % (
                    assignment_id, (listed["AssignmentStatus"], listed["WorkerId"], listed["HITId"]),
                    stored[assignment_id]))
        per_hit = {}
        for v in stored.values():
            if v["AssignmentStatus"] in ("Accepted", "Submitted"):
                per_hit[v["HITId"]] = per_hit.get(v["HITId"], 0) + 1
        overbooked = [h for h, n in per_hit.items() if n > SLOTS]
        if overbooked:
            failures.append("%d HITs have more than %d assignments" % (len(overbooked), SLOTS))
        submitted = {a for a, v in stored.items() if v["AssignmentStatus"] == "Submitted"}
        accepted = {a for a, v in stored.items() if v["AssignmentStatus"] == "Accepted"}
        others = {v["AssignmentStatus"] for v in stored.values()} - {"Submitted", "Accepted"}
        lost = set(acked) - submitted
        unacknowledged = submitted - set(acked)
        wrong = [a for a, s in acked.items()
                 if a in stored and ("load %s<" % s) not in stored[a]["Answer"]]
        pairs = {(v["WorkerId"], v["HITId"]) for v in stored.values()}
        comment("stored: %d submitted (%d acknowledged, %d in flight when wrk stopped), "
                "%d accepted" % (len(submitted), len(acked), len(unacknowledged), len(accepted)))
        if lost:
            failures.append("%d acknowledged submissions are not stored" % len(lost))
        if wrong:
            failures.append("%d submissions stored with another answer" % len(wrong))
        if len(pairs) != len(stored):
            failures.append("a worker holds two assignments of one HIT")
        if others:
            failures.append("unexpected statuses %s" % others)
        # At the deadline each worker connection has at most one request in
        # flight and one assignment accepted but not submitted.
        if len(unacknowledged) + len(accepted) > 2 * WORKER_CONNECTIONS:
            failures.append("%d submissions and %d acceptances nobody was told about"
                            % (len(unacknowledged), len(accepted)))
        comment("the whole benchmark took %.1f s" % (time.monotonic() - started))
    finally:
        codes = []
        for server in servers:
            codes.append(server.stop(timeout=30))
            if codes[-1] != 0:
                failures.append("kempelen-server exited with %d: %s" % (codes[-1], server.log()))
            server.cleanup()
        store.cleanup()
        subprocess.run(["rm", "-rf", tmp])
    for failure in failures:
        print("FAIL: %s: %s" % (store.name, failure), flush=True)
    return failures


def main():
    kind = os.environ.get("KP_LOAD_STORE", "auto")
    if kind == "auto" and not postgres_missing():
        # PostgreSQL under the names, SQLite alongside for comparison.
        failures = measure("postgresql") + measure("sqlite", "_sqlite")
    else:
        failures = measure(kind)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
