# SPDX-License-Identifier: GPL-3.0-or-later
"""The background jobs under a fake clock: abandonment at the deadline,
HIT expiry, auto-approval with its charge, and the events each sends."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from kpserver import KpTestCase, free_text, main, question_form
from test_assignments import WorkerMixin
from test_hits import FollowServerClock
from test_notify import Receiver, spec

EVENTS = ["AssignmentAccepted", "AssignmentAbandoned", "AssignmentReturned",
          "AssignmentSubmitted", "AssignmentRejected", "AssignmentApproved",
          "HITCreated", "HITExpired", "HITReviewable", "HITExtended", "HITDisposed"]


class JobsMixin(WorkerMixin):

    def wait_until(self, predicate, timeout=5):
        """Polls predicate() while the jobs (every second) catch up."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                self.fail("the background jobs did not get there in %d s" % timeout)
            time.sleep(0.1)


class JobsTest(FollowServerClock, JobsMixin, KpTestCase):

    FAKE_TIME = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.receiver = Receiver()

    @classmethod
    def tearDownClass(cls):
        cls.receiver.close()
        super().tearDownClass()

    def make_hit(self, title, mturk=None, **overrides):
        """A HIT of a new HIT type whose events all go to the receiver."""
        mturk = mturk or self.mturk
        type_params = dict(AssignmentDurationInSeconds=600, Reward="0.10", Title=title,
                           Description="Jobs test", AutoApprovalDelayInSeconds=86400)
        for key in list(overrides):
            if key in type_params:
                type_params[key] = overrides.pop(key)
        hit_type_id = mturk.create_hit_type(**type_params)["HITTypeId"]
        mturk.update_notification_settings(HITTypeId=hit_type_id,
                                           Notification=spec(self.receiver.url, EVENTS),
                                           Active=True)
        params = dict(HITTypeId=hit_type_id, MaxAssignments=1, LifetimeInSeconds=3600,
                      Question=question_form())
        params.update(overrides)
        return mturk.create_hit_with_hit_type(**params)["HIT"]

    def events_of(self, hit_id):
        return [(e["EventType"], e.get("AssignmentId"))
                for e in self.receiver.events() if e.get("HITId") == hit_id]

    def wait_for_event(self, hit_id, event_type, timeout=5):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.events_of(hit_id) if e[0] == event_type]
            if found:
                return found
            time.sleep(0.05)
        self.fail("no %s for %s; got %r" % (event_type, hit_id, self.events_of(hit_id)))

    def status(self, hit_id):
        return self.hit(hit_id)["HITStatus"]

    def test_abandoned_assignments_free_their_slot(self):
        hit_id = self.make_hit("Abandon me", AssignmentDurationInSeconds=60)["HITId"]
        self.wait_for_event(hit_id, "HITCreated")
        slow = self.worker()
        assignment_id = self.accept(slow, hit_id)
        self.assertEqual(self.status(hit_id), "Unassignable")

        self.server.advance(90)
        self.wait_until(lambda: self.hit(hit_id)["NumberOfAssignmentsPending"] == 0)
        hit = self.hit(hit_id)
        self.assertEqual(hit["HITStatus"], "Assignable")
        self.assertEqual(hit["NumberOfAssignmentsAvailable"], 1)
        self.assertEqual(self.wait_for_event(hit_id, "AssignmentAbandoned"),
                         [("AssignmentAbandoned", assignment_id)])

        # Too late to submit; the work is not the requester's.
        self.assertWorkerFails(410, slow.submit, assignment_id, [free_text("q1", "late")])
        self.assertEqual(self.listed(hit_id), [])
        # The slot is someone else's now (or the same worker's again).
        self.work(hit_id, worker=slow)
        self.assertEqual(self.status(hit_id), "Reviewable")

    def test_hits_expire(self):
        idle = self.make_hit("Nobody came")["HITId"]
        busy = self.make_hit("Work in progress", MaxAssignments=2,
                             LifetimeInSeconds=60)["HITId"]
        worker = self.worker()
        assignment_id = self.accept(worker, busy)
        self.mturk.update_expiration_for_hit(
            HITId=idle, ExpireAt=self.hit(idle)["CreationTime"].timestamp() + 60)

        self.server.advance(90)
        self.wait_for_event(busy, "HITExpired")
        self.wait_for_event(idle, "HITExpired")
        # Expired with work pending: Unassignable until that work ends.
        self.wait_until(lambda: self.status(idle) == "Reviewable")
        hit = self.hit(busy)
        self.assertEqual(hit["HITStatus"], "Unassignable")
        self.assertEqual(hit["NumberOfAssignmentsAvailable"], 0)
        self.assertWorkerFails(410, self.worker().accept_hit, busy)
        self.wait_for_event(idle, "HITReviewable")

        # The accepted work may still be submitted before its deadline.
        worker.submit(assignment_id, [free_text("q1", "done")])
        self.assertEqual(self.status(busy), "Reviewable")
        self.wait_for_event(busy, "HITReviewable")

        # Each expiry is announced once.
        self.server.advance(5)
        time.sleep(1.5)
        for hit_id in (idle, busy):
            self.assertEqual([e for e in self.events_of(hit_id) if e[0] == "HITExpired"],
                             [("HITExpired", None)])

        # Extending brings an expired HIT back, once more expiring later.
        later = self.server.now() + 3600
        self.mturk.update_expiration_for_hit(HITId=idle, ExpireAt=later)
        self.assertEqual(self.status(idle), "Assignable")
        self.wait_for_event(idle, "HITExtended")

        # Deleting a reviewed, expired HIT.
        self.mturk.approve_assignment(AssignmentId=assignment_id)
        self.mturk.delete_hit(HITId=busy)
        self.wait_for_event(busy, "HITDisposed")

    def test_auto_approval_charges(self):
        requester = self.server.create_requester(funds="10")
        mturk = self.client_for(requester)
        hit_id = self.make_hit("Approve yourself", mturk=mturk, Reward="0.50",
                               AutoApprovalDelayInSeconds=60)["HITId"]
        before = mturk.get_account_balance()
        self.assertEqual(before["AvailableBalance"], "9.40")
        _, assignment_id = self.work(hit_id)
        self.wait_for_event(hit_id, "AssignmentSubmitted")

        # Not yet due.
        time.sleep(1.3)
        self.assertEqual(mturk.get_assignment(AssignmentId=assignment_id)
                         ["Assignment"]["AssignmentStatus"], "Submitted")

        self.server.advance(90)
        self.wait_until(lambda: mturk.get_assignment(AssignmentId=assignment_id)
                        ["Assignment"]["AssignmentStatus"] == "Approved")
        assignment = mturk.get_assignment(AssignmentId=assignment_id)["Assignment"]
        self.assertIn("ApprovalTime", assignment)
        self.assertEqual(self.wait_for_event(hit_id, "AssignmentApproved"),
                         [("AssignmentApproved", assignment_id)])
        # Charged 0.50 + 0.10: off hold, and out of the account.
        balance = mturk.get_account_balance()
        self.assertEqual(balance["AvailableBalance"], "9.40")
        self.assertEqual(balance.get("OnHoldBalance", "0.00"), "0.00")

    def test_returned_and_rejected_events(self):
        hit_id = self.make_hit("Give it back", MaxAssignments=1)["HITId"]
        worker = self.worker()
        first = self.accept(worker, hit_id)
        worker.return_assignment(first)
        self.wait_for_event(hit_id, "AssignmentReturned")
        _, second = self.work(hit_id, worker=worker)
        self.mturk.reject_assignment(AssignmentId=second, RequesterFeedback="Blank")
        self.assertEqual(self.wait_for_event(hit_id, "AssignmentRejected"),
                         [("AssignmentRejected", second)])
        accepted = [e for e in self.events_of(hit_id) if e[0] == "AssignmentAccepted"]
        self.assertEqual(sorted(accepted), sorted([("AssignmentAccepted", first),
                                                   ("AssignmentAccepted", second)]))


class DisposalTest(FollowServerClock, JobsMixin, KpTestCase):

    FAKE_TIME = True

    def test_finished_hits_are_disposed_of_after_120_days(self):
        done = self.create_hit(LifetimeInSeconds=86400)["HITId"]
        _, assignment_id = self.work(done)
        self.mturk.approve_assignment(AssignmentId=assignment_id)
        undecided = self.create_hit(LifetimeInSeconds=86400,
                                    AutoApprovalDelayInSeconds=2592000)["HITId"]
        self.work(undecided)
        long_lived = self.create_hit(LifetimeInSeconds=31536000)["HITId"]

        self.server.advance(119 * 86400)
        time.sleep(1.5)
        self.assertEqual(self.hit(done)["HITStatus"], "Reviewable")

        self.server.advance(2 * 86400)
        self.wait_until(lambda: self.hit(done)["HITStatus"] == "Disposed")
        self.assertNotIn(done, [h["HITId"] for h in
                                self.mturk.list_hits(MaxResults=100)["HITs"]])
        # Auto-approval decided the other one long ago: disposed too.
        self.wait_until(lambda: self.hit(undecided)["HITStatus"] == "Disposed")
        # Still open for work: kept.
        self.assertEqual(self.hit(long_lived)["HITStatus"], "Assignable")


if __name__ == "__main__":
    main()
