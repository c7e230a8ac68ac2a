# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 5's guarantees, against a real kempelen-server: every submission is
stored exactly once whatever crashes or breaks during a sync, the main loop
never stalls, refusals are kept, and media are checked by their hash.

The sync runs in kp-sync-tool (KpSyncEngine in a process of its own, so it
can be killed); the server comes from tests/server/kpserver.py.
"""

import hashlib
import json
import os
import signal
import sqlite3
import time
import unittest
import uuid

import syncworld
from syncworld import FaultyProxy, World, outbox_counts, tool, tool_popen, wait_until

import kpserver

N = 300


class ExactlyOnce(unittest.TestCase):
    """Each test has a server of its own: some kill it."""

    def setUp(self):
        self.world = World()
        self.server = self.world.server

    def tearDown(self):
        self.world.close()

    def assert_exactly_once(self, worker, n):
        """The cache shows every item accepted, and the server holds each
        assignment submitted once, with the cache's submission id and
        answer."""
        status = self.world.status(worker)
        self.assertEqual((status["accepted"], status["queued"], status["sending"], status["refused"]),
                         (n, 0, 0, 0), [i for i in status["items"] if i["state"] != "accepted"][:3])

        w = kpserver.WorkerClient(self.server, worker)
        submitted = w.assignments(status="Submitted", limit=100)
        self.assertEqual(submitted["total"], n)
        self.assertEqual(w.assignments(status="Accepted")["total"], 0)

        items = status["items"]
        for start in range(0, n, 100):
            chunk = items[start:start + 100]
            # The same ids again: each is known, and answered as the first time.
            replay = w.sync([{"submission_id": i["submission_id"], "assignment_id": i["assignment_id"],
                              "answers": []} for i in chunk])
            self.assertEqual(replay["succeeded"], len(chunk), replay["results"][:2])
            for item, result in zip(chunk, replay["results"]):
                self.assertEqual(result["response"]["assignment_id"], item["assignment_id"])
            # A new id for the same assignment: refused, it was submitted once.
            fresh = w.sync([{"submission_id": str(uuid.uuid4()), "assignment_id": i["assignment_id"],
                             "answers": []} for i in chunk])
            self.assertEqual(fresh["failed"], len(chunk))
            self.assertEqual({r["status"] for r in fresh["results"]}, {409})

        for item in items[::37]:
            answers = w.assignment(item["assignment_id"])["answers"]
            self.assertTrue(answers[0]["FreeText"].startswith(item["assignment_id"]), answers)
        w.close()

    def test_client_killed_during_sync(self):
        worker = self.world.prepare(N)
        kills = 0
        # Kill the syncing process three times, at different points, then
        # let a fresh one finish.
        for threshold in (20, 90, 180):
            process = tool_popen("sync", worker["cache"], self.server.url, "--batch", "10",
                                 "--in-flight", "2", env=worker["env"])
            wait_until(lambda: outbox_counts(worker["cache"])["accepted"] >= threshold
                       or process.poll() is not None)
            self.assertIsNone(process.poll(), "the sync ended before it could be killed")
            process.send_signal(signal.SIGKILL)
            process.wait()
            process.stdout.close()
            process.stderr.close()
            kills += 1
            counts = outbox_counts(worker["cache"])
            self.assertLess(counts["accepted"], N)
        self.assertEqual(kills, 3)

        done = self.world.sync(worker, "--measure-stalls")
        self.assertEqual(done["accepted"], N)
        self.assertFalse(done["timed_out"])
        self.assertLess(done["max_gap_ms"], 50)
        self.assert_exactly_once(worker, N)

    def test_server_killed_during_batch(self):
        worker = self.world.prepare(N)
        process = tool_popen("sync", worker["cache"], self.server.url, "--batch", "10",
                             "--in-flight", "2", "--retry-ms", "50,400", env=worker["env"])
        try:
            # kill -9 while a batch is on its way (items are "sending").
            wait_until(lambda: outbox_counts(worker["cache"])["accepted"] >= 60)
            wait_until(lambda: outbox_counts(worker["cache"])["sending"] > 0)
            self.server.kill()
            time.sleep(0.5)
            self.assertIsNone(process.poll(), "the sync must wait for the server, not give up")
            self.assertLess(outbox_counts(worker["cache"])["accepted"], N)
            self.server.start("127.0.0.1:%d" % self.server.port)
            out, err = process.communicate(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        self.assertEqual(process.returncode, 0, err[-2000:])
        result = json.loads(out)
        self.assertEqual(result["accepted"], N)

        status = self.world.status(worker)
        self.assertTrue(any(i["attempts"] > 1 for i in status["items"]),
                        "some items must have been sent again")
        self.assert_exactly_once(worker, N)

    def test_connection_cut_mid_response(self):
        worker = self.world.prepare(N)
        proxy = FaultyProxy(self.server.port, cut_sync=3)
        try:
            result = self.world.sync(worker, "--batch", "25", "--in-flight", "1",
                                     "--retry-ms", "20,200", url=proxy.url)
        finally:
            proxy.close()
        self.assertEqual(proxy.cuts, 3)
        self.assertEqual(result["accepted"], N)
        status = self.world.status(worker)
        resent = [i for i in status["items"] if i["attempts"] > 1]
        # Three whole batches were stored by the server yet never answered
        # to the client: they were sent again, and answered as the first time.
        self.assertGreaterEqual(len(resent), 3 * 25)
        self.assert_exactly_once(worker, N)


class Refusals(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.world = World()

    @classmethod
    def tearDownClass(cls):
        cls.world.close()

    def test_refused_items_stay_as_drafts(self):
        world = self.world
        world.make_hits(3)
        worker = world.worker()
        self.assertEqual(world.take_offline(worker, 3)["accepted"], 3)
        # One assignment is returned behind the cache's back: the server
        # will refuse its submission (409), the others go through.
        w = kpserver.WorkerClient(world.server, worker)
        returned = w.assignments(status="Accepted")["assignments"][0]["assignment_id"]
        w.return_assignment(returned)
        w.close()
        self.assertEqual(tool("enqueue", worker["cache"], "100",
                              env={"KP_FAKE_ASSIGNMENTS": "2"})["enqueued"], 5)

        result = world.sync(worker)
        self.assertEqual((result["accepted"], result["refused"]), (2, 3))
        status = world.status(worker)
        refused = {i["assignment_id"]: i for i in status["items"] if i["state"] == "refused"}
        self.assertEqual(refused[returned]["status"], 409)
        self.assertEqual(refused[returned]["error"], "conflict")
        self.assertTrue(refused[returned]["reason"])
        self.assertEqual(refused["3FAKEASSIGNMENT00000000"]["status"], 404)
        exported = json.loads(status["refused_export"])
        self.assertEqual({e["assignment_id"] for e in exported}, set(refused))
        for e in exported:
            self.assertEqual(e["answer"][0]["QuestionIdentifier"], "q1")
            self.assertTrue(e["reason"])

        # A refused item is never sent again by itself.
        again = world.sync(worker)
        self.assertEqual((again["accepted"], again["refused"]), (2, 3))
        self.assertEqual(sum(i["attempts"] for i in world.status(worker)["items"]), 5)


class LargeAnswers(unittest.TestCase):

    def test_batches_shrink_and_oversized_items_are_refused(self):
        """The server takes bodies of at most 64 KiB here: batches of 4 KB
        answers are halved until they fit, and an answer larger than that
        alone is refused for good (kept as a draft), not retried forever."""
        world = World(server_args=syncworld.SERVER_ARGS + ["--max-body-size", "65536"])
        try:
            worker = world.prepare(40, answer_bytes=4000)
            huge = tool("enqueue", worker["cache"], "100000", env={"KP_FAKE_ASSIGNMENTS": "1"})
            self.assertEqual(huge["enqueued"], 1)
            result = world.sync(worker, "--retry-ms", "20,200")
            status = world.status(worker)
        finally:
            world.close()
        self.assertEqual((result["accepted"], result["refused"]), (40, 1), result)
        refused, = [i for i in status["items"] if i["state"] == "refused"]
        self.assertEqual((refused["status"], refused["error"]), (413, "too-large"))
        self.assertEqual(refused["assignment_id"], "3FAKEASSIGNMENT00000000")


class MainLoop(unittest.TestCase):

    def test_no_stall_while_5000_sync(self):
        """5,000 queued submissions sync while a 5 ms timer runs on the main
        context: no gap between its dispatches may exceed 50 ms.

        (Creating 5,000 real HITs takes minutes here, so these are
        submissions for assignments the server never made: each is a real
        round trip and refused with 404, which costs the client more
        database work than an acceptance. The 10,000-item benchmark
        reports the same gap for real submissions.)"""
        world = World()
        try:
            worker = world.worker()
            queued = tool("enqueue", worker["cache"], "2000", env={"KP_FAKE_ASSIGNMENTS": "5000"})
            self.assertEqual(queued["enqueued"], 5000)
            result = world.sync(worker, "--measure-stalls")
        finally:
            world.close()
        self.assertEqual(result["refused"], 5000)
        self.assertEqual(result["model_items"], 5000)
        self.assertGreater(result["ticks"], 20)
        print("\n  5000 items: %s" % result)
        self.assertLess(result["max_gap_ms"], 50, result)


class Media(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.world = World()

    @classmethod
    def tearDownClass(cls):
        cls.world.close()

    def media_hits(self, n_hits, size=300_000):
        """n HITs of a new type, each showing its own image; returns the
        type, and the images' bytes by hash."""
        world = self.world
        hit_type = world.mturk.create_hit_type(
            Title="Media %s" % uuid.uuid4(), Description="Pictures", Reward="0.01",
            AssignmentDurationInSeconds=3600)["HITTypeId"]
        images = {}
        for _ in range(n_hits):
            data = os.urandom(size)
            digest = kpserver.add_media(world.server, data, "application/octet-stream")
            images[digest] = data
            question = kpserver.html_question('<img src="/worker/v1/media/%s">' % digest)
            world.make_hits(1, question=question, hit_type=hit_type)
        return hit_type, images

    def media_file(self, worker, digest):
        return os.path.join(worker["cache"] + ".media", digest[:2], digest)

    def verified(self, worker, digest):
        db = sqlite3.connect(worker["cache"])
        try:
            row = db.execute("SELECT verified, size FROM media WHERE sha256 = ?", (digest,)).fetchone()
        finally:
            db.close()
        return row

    def test_corrupt_once_is_retried(self):
        hit_type, images = self.media_hits(2)
        worker = self.world.worker()
        proxy = FaultyProxy(self.world.server.port, corrupt_media=1)
        try:
            taken = self.world.take_offline(worker, 2, url=proxy.url, hit_type=hit_type)
        finally:
            proxy.close()
        self.assertIsNone(taken["error"])
        self.assertEqual(taken["accepted"], 2)
        self.assertEqual(proxy.corrupted, 1)
        media_requests = [r for r in proxy.requests if "/media/" in r[1]]
        self.assertEqual(len(media_requests), 3)
        for digest, data in images.items():
            with open(self.media_file(worker, digest), "rb") as f:
                self.assertEqual(f.read(), data)
            self.assertEqual(self.verified(worker, digest), (1, len(data)))
            self.assertFalse(os.path.exists(self.media_file(worker, digest) + ".part"))
        self.assertEqual(taken["bytes"], sum(len(d) for d in images.values()))

    def test_always_corrupt_is_never_kept(self):
        hit_type, images = self.media_hits(1)
        (digest, _), = images.items()
        worker = self.world.worker()
        proxy = FaultyProxy(self.world.server.port, corrupt_media=100)
        try:
            taken = self.world.take_offline(worker, 1, url=proxy.url, hit_type=hit_type)
        finally:
            proxy.close()
        # The HIT is accepted and cached; its image is not.
        self.assertEqual(taken["accepted"], 0)
        self.assertIn("damaged", taken["error"])
        self.assertEqual(proxy.corrupted, 3)
        self.assertFalse(os.path.exists(self.media_file(worker, digest)))
        self.assertFalse(os.path.exists(self.media_file(worker, digest) + ".part"))
        self.assertIsNone(self.verified(worker, digest))

        # Later, without the bad proxy, the download succeeds.
        fetched = tool("download", worker["cache"], self.world.server.url, digest, env=worker["env"])
        self.assertTrue(fetched["ok"], fetched)
        self.assertTrue(fetched["verified"])
        with open(self.media_file(worker, digest), "rb") as f:
            self.assertEqual(hashlib.sha256(f.read()).hexdigest(), digest)

    def test_cut_download_resumes_with_range(self):
        hit_type, images = self.media_hits(1, size=2_000_000)
        (digest, data), = images.items()
        worker = self.world.worker()
        proxy = FaultyProxy(self.world.server.port, cut_media=1)
        try:
            taken = self.world.take_offline(worker, 1, url=proxy.url, hit_type=hit_type)
        finally:
            proxy.close()
        self.assertIsNone(taken["error"])
        media_requests = [r for r in proxy.requests if "/media/" in r[1]]
        self.assertEqual(len(media_requests), 2)
        self.assertIsNone(media_requests[0][2])
        self.assertTrue(media_requests[1][2].startswith("bytes="), media_requests)
        self.assertGreater(int(media_requests[1][2][6:].rstrip("-")), 0)
        with open(self.media_file(worker, digest), "rb") as f:
            self.assertEqual(f.read(), data)

    def test_cancel_take_offline(self):
        hit_type, _ = self.media_hits(6, size=3_000_000)
        worker = self.world.worker()
        taken = tool("take-offline", worker["cache"], self.world.server.url, hit_type, "6", "30",
                     env=worker["env"])
        self.assertTrue(taken["cancelled"], taken)
        self.assertLess(taken["accepted"], 6)
        # Nothing half-downloaded is taken for a verified file.
        db = sqlite3.connect(worker["cache"])
        try:
            for digest, size in db.execute("SELECT sha256, size FROM media WHERE verified"):
                with open(self.media_file(worker, digest), "rb") as f:
                    self.assertEqual(hashlib.sha256(f.read()).hexdigest(), digest)
        finally:
            db.close()


if __name__ == "__main__":
    kpserver.main()
