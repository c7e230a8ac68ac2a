# SPDX-License-Identifier: GPL-3.0-or-later
"""Two kempelen-server processes on one store (issue 9).

Run on SQLite (two processes on one data directory) and, with
KP_TEST_STORE=postgresql, on one PostgreSQL database: whatever a client does
through one process, the other sees at once; racing accepts through both
give out each slot once; background jobs and notifications happen once; a
pagination token from one is good at the other; the media store is shared.
"""

import json
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))

from kpserver import Server, WorkerClient, WorkerError, add_media, free_text, main, question_form
from test_notify import Receiver, spec


class TwoProcessesTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.a = Server(fake_time=True, args=["--quiet"]).start()
        # The same data directory and the same store: a second process.
        cls.b = Server(data_dir=cls.a.data_dir, store=cls.a.store or "", fake_time=True,
                       args=["--quiet"]).start()
        cls.requester = cls.a.create_requester(funds="100")
        cls.ma = cls.a.mturk(cls.requester)
        cls.mb = cls.b.mturk(cls.requester)
        cls.receiver = Receiver()

    @classmethod
    def tearDownClass(cls):
        cls.receiver.close()
        try:
            for server in (cls.b, cls.a):
                code = server.stop()
                if code != 0:
                    raise AssertionError("kempelen-server exited with %d:\n%s"
                                         % (code, server.log()))
        finally:
            cls.b.cleanup()
            cls.a.cleanup()

    def advance(self, seconds):
        self.a.advance(seconds)
        self.b.advance(seconds)

    def make_hit(self, mturk, title, events=(), **overrides):
        type_params = dict(AssignmentDurationInSeconds=600, Reward="0.50", Title=title,
                           Description="Two processes", AutoApprovalDelayInSeconds=86400)
        for key in list(overrides):
            if key in type_params:
                type_params[key] = overrides.pop(key)
        hit_type_id = mturk.create_hit_type(**type_params)["HITTypeId"]
        if events:
            mturk.update_notification_settings(HITTypeId=hit_type_id,
                                               Notification=spec(self.receiver.url, events),
                                               Active=True)
        params = dict(HITTypeId=hit_type_id, MaxAssignments=1, LifetimeInSeconds=3600,
                      Question=question_form())
        params.update(overrides)
        return mturk.create_hit_with_hit_type(**params)["HIT"]

    def events_of(self, hit_id):
        return sorted((e["EventType"], e.get("AssignmentId") or "")
                      for e in self.receiver.events() if e.get("HITId") == hit_id)

    def wait_until(self, predicate, timeout=8):
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                self.fail("not reached in %d s" % timeout)
            time.sleep(0.1)

    def test_each_process_sees_the_others_writes_at_once(self):
        hit = self.make_hit(self.ma, "Seen by both")
        # Read it through A twice, so that A's response cache holds it.
        for _ in range(2):
            self.assertEqual(self.ma.get_hit(HITId=hit["HITId"])["HIT"]["MaxAssignments"], 1)
        self.mb.create_additional_assignments_for_hit(HITId=hit["HITId"],
                                                      NumberOfAdditionalAssignments=2)
        self.assertEqual(self.ma.get_hit(HITId=hit["HITId"])["HIT"]["MaxAssignments"], 3)
        # And a HIT created through B is listed by A.
        other = self.make_hit(self.mb, "Made by B")
        listed = {h["HITId"] for h in self.ma.list_hits(MaxResults=100)["HITs"]}
        self.assertIn(other["HITId"], listed)

    def test_next_token_of_one_process_is_good_at_the_other(self):
        for i in range(3):
            self.make_hit(self.ma, "Paged %d" % i)
        total = len(self.ma.list_hits(MaxResults=100)["HITs"])
        seen = []
        page = self.ma.list_hits(MaxResults=2)
        seen += [h["HITId"] for h in page["HITs"]]
        clients = [self.mb, self.ma]
        n = 0
        while "NextToken" in page:
            page = clients[n % 2].list_hits(MaxResults=2, NextToken=page["NextToken"])
            seen += [h["HITId"] for h in page["HITs"]]
            n += 1
        self.assertGreaterEqual(n, 1)
        self.assertEqual(len(seen), total)
        self.assertEqual(len(set(seen)), total)

    def test_racing_accepts_through_both_processes(self):
        slots = 5
        hit = self.make_hit(self.ma, "Race", MaxAssignments=slots)
        workers = [WorkerClient(self.a if i % 2 == 0 else self.b) for i in range(16)]
        barrier = threading.Barrier(len(workers))
        results = []
        lock = threading.Lock()

        def accept(worker):
            barrier.wait()
            try:
                worker.accept_hit(hit["HITId"])
                outcome = 200
            except WorkerError as e:
                outcome = e.status
            with lock:
                results.append(outcome)

        threads = [threading.Thread(target=accept, args=(w,)) for w in workers]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        for w in workers:
            w.close()
        self.assertEqual(len(results), len(workers))
        self.assertEqual(results.count(200), slots, results)
        # The others were told the HIT is full (or, under SQLite's write lock
        # held by the other process, to retry); none got a slot twice.
        self.assertTrue(all(r in (200, 409, 410, 503) for r in results), results)
        rows = self.a.sql("SELECT COUNT(*), COUNT(DISTINCT worker_id) FROM assignments "
                          "WHERE hit_id = ? AND status = 'Accepted'", (hit["HITId"],))
        self.assertEqual(tuple(rows[0]), (slots, slots))

    def test_jobs_and_notifications_happen_once(self):
        requester = self.a.create_requester(funds="10")
        ma = self.a.mturk(requester)
        mb = self.b.mturk(requester)
        events = ["AssignmentAccepted", "AssignmentSubmitted", "AssignmentApproved",
                  "HITExpired", "HITReviewable"]
        approved = self.make_hit(ma, "Approved by the job", events=events,
                                 AutoApprovalDelayInSeconds=60)
        expiring = self.make_hit(mb, "Expired by the job", events=events,
                                 LifetimeInSeconds=60)
        worker = WorkerClient(self.b)
        assignment_id = worker.accept_hit(approved["HITId"])["assignment_id"]
        worker.submit(assignment_id, [free_text("q1", "a dog")])
        worker.close()
        # Let the deliveries in flight finish before the clocks jump: the two
        # processes' clocks cannot jump at the same instant, and a lease
        # taken by one before the jump looks long expired to the other after
        # it (servers' clocks must agree to well within a lease, 60 s).
        self.wait_until(lambda: len(self.events_of(approved["HITId"])) == 3)

        self.advance(120)
        self.wait_until(lambda: ma.get_assignment(AssignmentId=assignment_id)
                        ["Assignment"]["AssignmentStatus"] == "Approved")
        self.wait_until(lambda: mb.get_hit(HITId=expiring["HITId"])["HIT"]["HITStatus"]
                        == "Reviewable")
        # Several more rounds of both processes' jobs and notifiers.
        time.sleep(2.5)

        self.assertEqual(self.events_of(approved["HITId"]), sorted([
            ("AssignmentAccepted", assignment_id),
            ("AssignmentApproved", assignment_id),
            ("AssignmentSubmitted", assignment_id),
            ("HITReviewable", ""),
        ]))
        self.assertEqual([e for e in self.events_of(expiring["HITId"]) if e[0] == "HITExpired"],
                         [("HITExpired", "")])
        # Charged once: 0.50 reward + 0.10 fee, and the expired HIT's hold
        # released.
        balance = mb.get_account_balance()
        self.assertEqual(balance["AvailableBalance"], "9.40")
        self.assertEqual(balance.get("OnHoldBalance", "0.00"), "0.00")
        ledger = self.a.sql("SELECT kind, COUNT(*) FROM ledger WHERE requester_id = "
                            "(SELECT id FROM requesters WHERE access_key_id = ?) "
                            "AND assignment_id = ? GROUP BY kind ORDER BY kind",
                            (requester["AccessKeyId"], assignment_id))
        self.assertEqual([tuple(r) for r in ledger], [("fee", 1), ("reward", 1)])

    def test_media_store_is_shared(self):
        data = os.urandom(70000)
        digest = add_media(self.a, data, content_type="application/octet-stream")
        for server in (self.a, self.b):
            worker = WorkerClient(server)
            status, headers, body = worker.request("GET", "/media/" + digest)
            worker.close()
            self.assertEqual(status, 200)
            self.assertEqual(body, data)


if __name__ == "__main__":
    main()
