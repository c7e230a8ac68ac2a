# SPDX-License-Identifier: GPL-3.0-or-later
"""50 workers race for 10 slots through the worker API, each on its own
connection and thread: exactly 10 win, the others are refused cleanly, and
the requester's counters agree."""

import os
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))

from kpserver import KpTestCase, WorkerClient, main

N_WORKERS = 50
N_SLOTS = 10


class AcceptRaceTest(KpTestCase):

    def setUp(self):
        # Fresh workers for each race: none has worked on anything yet.
        self.workers = [WorkerClient(self.server) for _ in range(N_WORKERS)]

    def tearDown(self):
        for worker in self.workers:
            worker.close()

    def race(self, path):
        """Every worker POSTs path at the same moment; returns
        [(worker, status, body)]."""
        # Open every connection first, so that the race is about the
        # requests and not about connecting.
        for worker in self.workers:
            self.assertEqual(worker.call("GET", "/me")[0], 200)

        barrier = threading.Barrier(N_WORKERS)
        results = [None] * N_WORKERS

        def run(i):
            worker = self.workers[i]
            barrier.wait()
            status, body = worker.call("POST", path)
            results[i] = (worker, status, body)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(N_WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertTrue(all(r is not None for r in results), "a worker got no answer")
        return results

    def check_winners(self, results, refused_statuses):
        winners = [(w, body) for w, status, body in results if status == 200]
        losers = [(w, status, body) for w, status, body in results if status != 200]
        self.assertEqual(len(winners), N_SLOTS, [s for _, s, _ in results])
        for _, status, body in losers:
            self.assertIn(status, refused_statuses, body)
            self.assertIn(body["error"], ("conflict", "gone"))
            self.assertTrue(body["message"])
        ids = {body["assignment_id"] for _, body in winners}
        self.assertEqual(len(ids), N_SLOTS)
        for worker, body in winners:
            self.assertEqual(body["status"], "Accepted")
            mine = worker.assignments(status="Accepted")["assignments"]
            self.assertIn(body["assignment_id"], [a["assignment_id"] for a in mine])
        for worker, _, _ in losers:
            self.assertEqual(worker.assignments(status="Accepted")["total"], 0)
        return winners

    def test_race_for_one_hit(self):
        hit = self.create_hit(MaxAssignments=N_SLOTS, Title="Race for one HIT")
        results = self.race("/hits/%s/accept" % hit["HITId"])
        self.check_winners(results, (409, 410))

        got = self.mturk.get_hit(HITId=hit["HITId"])["HIT"]
        self.assertEqual(got["NumberOfAssignmentsPending"], N_SLOTS)
        self.assertEqual(got["NumberOfAssignmentsAvailable"], 0)
        self.assertEqual(got["NumberOfAssignmentsCompleted"], 0)
        self.assertEqual(got["HITStatus"], "Unassignable")
        listed = [h for h in self.mturk.list_hits(MaxResults=100)["HITs"]
                  if h["HITId"] == hit["HITId"]]
        self.assertEqual(len(listed), 1)
        self.assertEqual((listed[0]["NumberOfAssignmentsPending"],
                          listed[0]["NumberOfAssignmentsAvailable"]), (N_SLOTS, 0))

        # The group is gone from every loser's marketplace.
        loser = next(w for w, status, _ in results if status != 200)
        self.assertEqual(loser.groups(q="Race for one HIT")["total"], 0)

    def test_race_for_a_group(self):
        title = "Race for a group"
        first = self.create_hit(MaxAssignments=N_SLOTS // 2, Title=title)
        second = self.create_hit(MaxAssignments=N_SLOTS // 2, Title=title)
        self.assertEqual(first["HITTypeId"], second["HITTypeId"])
        results = self.race("/groups/%s/accept" % first["HITTypeId"])
        winners = self.check_winners(results, (410,))

        per_hit = {}
        for _, body in winners:
            per_hit[body["hit_id"]] = per_hit.get(body["hit_id"], 0) + 1
        self.assertEqual(per_hit, {first["HITId"]: N_SLOTS // 2, second["HITId"]: N_SLOTS // 2})
        for hit in (first, second):
            got = self.mturk.get_hit(HITId=hit["HITId"])["HIT"]
            self.assertEqual((got["NumberOfAssignmentsPending"],
                              got["NumberOfAssignmentsAvailable"]), (N_SLOTS // 2, 0))


if __name__ == "__main__":
    main()
