# SPDX-License-Identifier: GPL-3.0-or-later
"""Durability of worker submissions: several threads stream submissions,
the server is killed with SIGKILL in the middle, and restarted on the same
data directory. Every acknowledged submission must be there exactly once
(a retry gets the same answer and adds nothing); unacknowledged ones are
either absent or there once."""

import os
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(__file__))

from kpserver import KpTestCase, WorkerClient, free_text, main

N_WORKERS = 4
N_HITS = 50           # each worker works every HIT: 200 submissions
KILL_AFTER = 40       # acknowledged submissions before the kill


class DurabilityTest(KpTestCase):

    def submitted_per_hit(self, hit_ids):
        """{hit_id: [assignment ids in Submitted]} as the requester sees it."""
        result = {}
        for hit_id in hit_ids:
            listed = self.mturk.list_assignments_for_hit(
                HITId=hit_id, MaxResults=100, AssignmentStatuses=["Submitted"])
            result[hit_id] = [a["AssignmentId"] for a in listed["Assignments"]]
        return result

    def test_kill_during_a_stream_of_submissions(self):
        title = "Durability " + uuid.uuid4().hex[:8]
        hits = [self.create_hit(Title=title, MaxAssignments=N_WORKERS)["HITId"]
                for _ in range(N_HITS)]
        workers = [WorkerClient(self.server) for _ in range(N_WORKERS)]
        # Every worker accepts every HIT beforehand: the stream is submits only.
        jobs = {w.worker_id: [] for w in workers}
        for w in workers:
            for hit_id in hits:
                a = w.accept_hit(hit_id)
                jobs[w.worker_id].append((a["assignment_id"], a["hit_id"], str(uuid.uuid4())))

        acknowledged = {}      # assignment id -> (worker, submission id, response bytes)
        in_flight = {}         # assignment id -> (worker, submission id): sent, no answer
        lock = threading.Lock()
        killed = threading.Event()

        def stream(worker):
            for assignment_id, _, submission_id in jobs[worker.worker_id]:
                body = {"submission_id": submission_id,
                        "answers": [free_text("q1", "answer " + submission_id)]}
                with lock:
                    in_flight[assignment_id] = (worker, submission_id)
                try:
                    status, _, data = worker.request(
                        "POST", "/assignments/%s/submit" % assignment_id, body)
                except OSError:
                    return            # the server is gone; this one stays in flight
                with lock:
                    del in_flight[assignment_id]
                    if status == 200:
                        acknowledged[assignment_id] = (worker, submission_id, data)
                    elif not killed.is_set():
                        raise AssertionError("submit failed: %d %r" % (status, data))
                    else:
                        return

        threads = [threading.Thread(target=stream, args=(w,)) for w in workers]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < KILL_AFTER and time.monotonic() < deadline:
            time.sleep(0.001)
        killed.set()
        self.server.kill()
        for thread in threads:
            thread.join(30)
        for w in workers:
            w.close()

        n_acknowledged = len(acknowledged)
        self.assertGreaterEqual(n_acknowledged, KILL_AFTER)
        self.assertLess(n_acknowledged, N_WORKERS * N_HITS, "the kill came after the stream")

        self.server.start("127.0.0.1:%d" % self.server.port)
        self.mturk = self.server.mturk(self.requester)

        # Every acknowledged submission survived the crash, once.
        stored = self.submitted_per_hit(hits)
        all_stored = [a for ids in stored.values() for a in ids]
        self.assertEqual(len(all_stored), len(set(all_stored)))
        for assignment_id in acknowledged:
            self.assertIn(assignment_id, all_stored)
        # What is stored beyond them was in flight at the kill.
        extra = set(all_stored) - set(acknowledged)
        self.assertLessEqual(extra, set(in_flight), "a submission appeared that nobody sent")

        # Retrying an acknowledged submission answers the very same bytes.
        for assignment_id, (worker, submission_id, data) in acknowledged.items():
            status, _, again = worker.request(
                "POST", "/assignments/%s/submit" % assignment_id,
                {"submission_id": submission_id, "answers": [free_text("q1", "retry")]})
            self.assertEqual((status, again), (200, data))

        # Retrying the unanswered ones, and sending the rest, stores each
        # once: the outbox of a workstation after a crash of the server.
        for w in workers:
            for assignment_id, _, submission_id in jobs[w.worker_id]:
                if assignment_id in acknowledged:
                    continue
                status, _, data = w.request(
                    "POST", "/assignments/%s/submit" % assignment_id,
                    {"submission_id": submission_id,
                     "answers": [free_text("q1", "answer " + submission_id)]})
                self.assertEqual(status, 200, data)
                # Stored before the crash or now: the answer is the first one.
                self.assertIn(b"Submitted", data)
            w.close()

        stored = self.submitted_per_hit(hits)
        for hit_id in hits:
            self.assertEqual(len(stored[hit_id]), N_WORKERS, hit_id)
            self.assertEqual(len(set(stored[hit_id])), N_WORKERS)
        for w in workers:
            self.assertEqual(w.assignments(status="Submitted")["total"], N_HITS)
            self.assertEqual(w.assignments(status="Accepted")["total"], 0)
            w.close()
        # The answers are the ones first sent, never a retry's.
        listed = self.mturk.list_assignments_for_hit(HITId=hits[0], MaxResults=100)["Assignments"]
        self.assertEqual(len(listed), N_WORKERS)
        for assignment in listed:
            self.assertNotIn("retry", assignment["Answer"])


if __name__ == "__main__":
    main()
