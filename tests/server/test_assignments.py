# SPDX-License-Identifier: GPL-3.0-or-later
"""Assignments through boto3 with real workers of the worker API: the HIT
and assignment state machines end to end, GetAssignment, listings,
approval (with the ledger), rejection, overriding a rejection, file upload
URLs and isolation between requesters."""

import decimal
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

from kpserver import (KpTestCase, WorkerClient, WorkerError, add_media, free_text, main,
                      question_form)
from test_hits import FollowServerClock, HitMixin

FILE_FORM = (
    '<QuestionForm xmlns="http://mechanicalturk.amazonaws.com/'
    'AWSMechanicalTurkDataSchemas/2005-10-01/QuestionForm.xsd">'
    '<Question><QuestionIdentifier>photo</QuestionIdentifier>'
    '<QuestionContent><Text>Upload a photo of a cat</Text></QuestionContent>'
    '<AnswerSpecification><FileUploadAnswer><MaxFileSizeInBytes>100000</MaxFileSizeInBytes>'
    '<MinFileSizeInBytes>1</MinFileSizeInBytes></FileUploadAnswer></AnswerSpecification>'
    '</Question>'
    '<Question><QuestionIdentifier>note</QuestionIdentifier>'
    '<QuestionContent><Text>Anything to add?</Text></QuestionContent>'
    '<AnswerSpecification><FreeTextAnswer/></AnswerSpecification></Question>'
    '</QuestionForm>')


class WorkerMixin(HitMixin):

    def worker(self):
        client = WorkerClient(self.server)
        self.addCleanup(client.close)
        return client

    def accept(self, worker, hit_id):
        return worker.accept_hit(hit_id)["assignment_id"]

    def work(self, hit_id, text="a red car", worker=None):
        """A worker accepts and submits; returns (worker, assignment id)."""
        worker = worker or self.worker()
        assignment_id = self.accept(worker, hit_id)
        worker.submit(assignment_id, [free_text("q1", text)])
        return worker, assignment_id

    def assertWorkerFails(self, status, call, *args):
        with self.assertRaises(WorkerError) as raised:
            call(*args)
        self.assertEqual(raised.exception.status, status, raised.exception.body)
        return raised.exception

    def hit(self, hit_id, mturk=None):
        return (mturk or self.mturk).get_hit(HITId=hit_id)["HIT"]

    def listed(self, hit_id, **kwargs):
        return self.mturk.list_assignments_for_hit(HITId=hit_id, **kwargs)["Assignments"]


class StateMachineTest(WorkerMixin, KpTestCase):

    def test_hit_and_assignments_end_to_end(self):
        hit_id = self.create_hit(MaxAssignments=2)["HITId"]
        alice, bob, carol = self.worker(), self.worker(), self.worker()

        a1 = self.accept(alice, hit_id)
        hit = self.hit(hit_id)
        self.assertEqual(hit["HITStatus"], "Assignable")
        self.assertEqual((hit["NumberOfAssignmentsPending"],
                          hit["NumberOfAssignmentsAvailable"]), (1, 1))
        # An accepted assignment is not the requester's business yet.
        self.assertEqual(self.listed(hit_id), [])
        self.assertRequestError(self.mturk.get_assignment, AssignmentId=a1,
                                turk_code="AWS.MechanicalTurk.AssignmentDoesNotExist")

        # A worker works a HIT once.
        self.assertWorkerFails(409, alice.accept_hit, hit_id)

        a2 = self.accept(bob, hit_id)
        hit = self.hit(hit_id)
        self.assertEqual(hit["HITStatus"], "Unassignable")
        self.assertEqual(hit["NumberOfAssignmentsAvailable"], 0)
        self.assertWorkerFails(409, carol.accept_hit, hit_id)

        alice.submit(a1, [free_text("q1", "two cars")])
        self.assertEqual(self.hit(hit_id)["HITStatus"], "Unassignable")
        # Too early to delete: work is outstanding.
        self.assertRequestError(self.mturk.delete_hit, HITId=hit_id,
                                turk_code="AWS.MechanicalTurk.InvalidHITState")

        # Bob gives his back: the slot opens again.
        bob.return_assignment(a2)
        hit = self.hit(hit_id)
        self.assertEqual(hit["HITStatus"], "Assignable")
        self.assertEqual((hit["NumberOfAssignmentsPending"],
                          hit["NumberOfAssignmentsAvailable"]), (0, 1))
        self.assertWorkerFails(409, bob.return_assignment, a2)

        a3 = self.accept(carol, hit_id)
        carol.submit(a3, [free_text("q1", "one car")])
        hit = self.hit(hit_id)
        self.assertEqual(hit["HITStatus"], "Reviewable")
        self.assertEqual(hit["NumberOfAssignmentsCompleted"], 0)
        self.assertIn(hit_id, [h["HITId"] for h in
                               self.mturk.list_reviewable_hits(MaxResults=100)["HITs"]])
        self.assertEqual(sorted(a["AssignmentId"] for a in self.listed(hit_id)),
                         sorted([a1, a3]))

        # Submitted but undecided: still too early.
        self.assertRequestError(self.mturk.delete_hit, HITId=hit_id,
                                turk_code="AWS.MechanicalTurk.InvalidHITState")
        self.mturk.approve_assignment(AssignmentId=a1)
        self.mturk.reject_assignment(AssignmentId=a3, RequesterFeedback="Wrong count")
        self.assertEqual(self.hit(hit_id)["NumberOfAssignmentsCompleted"], 2)

        self.mturk.delete_hit(HITId=hit_id)
        self.assertEqual(self.hit(hit_id)["HITStatus"], "Disposed")
        self.assertNotIn(hit_id, [h["HITId"] for h in
                                  self.mturk.list_hits(MaxResults=100)["HITs"]])
        self.assertWorkerFails(404, self.worker().accept_hit, hit_id)

    def test_blocked_workers_cannot_accept(self):
        hit_id = self.create_hit()["HITId"]
        worker = self.worker()
        self.mturk.create_worker_block(WorkerId=worker.worker_id, Reason="Spam answers")
        self.assertWorkerFails(403, worker.accept_hit, hit_id)
        self.assertEqual(self.hit(hit_id)["NumberOfAssignmentsPending"], 0)
        # Only this requester's HITs are closed to them.
        other = self.client_for(self.server.create_requester())
        other_hit = self.create_hit(mturk=other)["HITId"]
        self.accept(worker, other_hit)

    def test_qualification_requirements_guard_accept(self):
        requirement = {"QualificationTypeId": "00000000000000000071",
                       "Comparator": "EqualTo", "LocaleValues": [{"Country": "DE"}],
                       "ActionsGuarded": "Accept"}
        hit_id = self.create_hit(QualificationRequirements=[requirement])["HITId"]
        outsider = WorkerClient(self.server, self.server.create_worker(country="FR"))
        self.addCleanup(outsider.close)
        self.assertWorkerFails(403, outsider.accept_hit, hit_id)
        local = WorkerClient(self.server, self.server.create_worker(country="DE"))
        self.addCleanup(local.close)
        self.accept(local, hit_id)

    def test_expired_hits_cannot_be_accepted(self):
        import datetime
        hit_id = self.create_hit()["HITId"]
        self.mturk.update_expiration_for_hit(HITId=hit_id,
                                             ExpireAt=datetime.datetime(2015, 1, 1))
        self.assertWorkerFails(410, self.worker().accept_hit, hit_id)

    def test_additional_assignments_reopen_a_full_hit(self):
        hit_id = self.create_hit(MaxAssignments=1)["HITId"]
        self.work(hit_id)
        self.assertEqual(self.hit(hit_id)["HITStatus"], "Reviewable")
        self.mturk.create_additional_assignments_for_hit(HITId=hit_id,
                                                         NumberOfAdditionalAssignments=1)
        hit = self.hit(hit_id)
        self.assertEqual(hit["HITStatus"], "Assignable")
        self.assertEqual(hit["NumberOfAssignmentsAvailable"], 1)
        self.work(hit_id)
        self.assertEqual(self.hit(hit_id)["HITStatus"], "Reviewable")


class AssignmentsTest(WorkerMixin, KpTestCase):

    def test_get_assignment(self):
        hit = self.create_hit(AutoApprovalDelayInSeconds=3600)
        worker, assignment_id = self.work(hit["HITId"], text="3 cars & 1 <bus>")
        got = self.mturk.get_assignment(AssignmentId=assignment_id)
        assignment = got["Assignment"]
        self.assertEqual(assignment["AssignmentId"], assignment_id)
        self.assertEqual(assignment["WorkerId"], worker.worker_id)
        self.assertEqual(assignment["HITId"], hit["HITId"])
        self.assertEqual(assignment["AssignmentStatus"], "Submitted")
        self.assertIn("QuestionFormAnswers", assignment["Answer"])
        self.assertIn("<QuestionIdentifier>q1</QuestionIdentifier>", assignment["Answer"])
        self.assertIn("3 cars &amp; 1 &lt;bus&gt;", assignment["Answer"])
        accepted = assignment["AcceptTime"].timestamp()
        submitted = assignment["SubmitTime"].timestamp()
        self.assertEqual(assignment["Deadline"].timestamp(), accepted + 600)
        self.assertEqual(assignment["AutoApprovalTime"].timestamp(), submitted + 3600)
        self.assertNotIn("ApprovalTime", assignment)
        self.assertNotIn("RejectionTime", assignment)
        self.assertEqual(got["HIT"]["HITId"], hit["HITId"])
        self.assertEqual(got["HIT"]["HITStatus"], "Reviewable")

        self.assertRequestError(self.mturk.get_assignment,
                                AssignmentId="3NOSUCHASSIGNMENT0000000000000",
                                turk_code="AWS.MechanicalTurk.AssignmentDoesNotExist")

    def test_list_assignments_filters_and_pages(self):
        hit_id = self.create_hit(MaxAssignments=4)["HITId"]
        ids = [self.work(hit_id, text="answer %d" % i)[1] for i in range(4)]
        self.mturk.approve_assignment(AssignmentId=ids[0])
        self.mturk.reject_assignment(AssignmentId=ids[1], RequesterFeedback="Empty")

        everything = self.mturk.list_assignments_for_hit(HITId=hit_id)
        self.assertEqual(everything["NumResults"], 4)
        self.assertEqual(sorted(a["AssignmentId"] for a in everything["Assignments"]),
                         sorted(ids))
        approved = self.listed(hit_id, AssignmentStatuses=["Approved"])
        self.assertEqual([a["AssignmentId"] for a in approved], [ids[0]])
        open_or_rejected = self.listed(hit_id, AssignmentStatuses=["Submitted", "Rejected"])
        self.assertEqual(sorted(a["AssignmentId"] for a in open_or_rejected),
                         sorted(ids[1:]))
        self.assertRequestError(self.unvalidated().list_assignments_for_hit, HITId=hit_id,
                                AssignmentStatuses=["Accepted"])

        seen, kwargs, sizes = [], {"MaxResults": 3}, []
        while True:
            page = self.mturk.list_assignments_for_hit(HITId=hit_id, **kwargs)
            sizes.append(page["NumResults"])
            seen += [a["AssignmentId"] for a in page["Assignments"]]
            if "NextToken" not in page:
                break
            kwargs["NextToken"] = page["NextToken"]
        self.assertEqual(sizes, [3, 1])
        self.assertEqual(sorted(seen), sorted(ids))
        self.assertRequestError(self.mturk.list_assignments_for_hit, HITId=hit_id,
                                NextToken="bm90IGEgdG9rZW4=")

    def test_approve_charges_once(self):
        requester = self.server.create_requester(funds="5")
        mturk = self.client_for(requester)
        hit_id = self.create_hit(mturk=mturk, MaxAssignments=2, Reward="0.50")["HITId"]
        # 2 × (0.50 + 0.10) on hold.
        self.assertEqual(self.balance(mturk)["AvailableBalance"], "3.80")
        _, assignment_id = self.work(hit_id)

        self.assertRequestError(self.unvalidated(requester).approve_assignment,
                                AssignmentId=assignment_id, RequesterFeedback="x" * 1025)

        mturk.approve_assignment(AssignmentId=assignment_id, RequesterFeedback="Great work")
        assignment = mturk.get_assignment(AssignmentId=assignment_id)["Assignment"]
        self.assertEqual(assignment["AssignmentStatus"], "Approved")
        self.assertEqual(assignment["RequesterFeedback"], "Great work")
        self.assertIn("ApprovalTime", assignment)
        # Charged 0.60, no longer on hold: the available balance is unchanged.
        balance = self.balance(mturk)
        self.assertEqual(balance["AvailableBalance"], "3.80")
        self.assertEqual(balance["OnHoldBalance"], "0.60")

        self.assertRequestError(mturk.approve_assignment, AssignmentId=assignment_id,
                                turk_code="AWS.MechanicalTurk.InvalidAssignmentState")
        self.assertRequestError(mturk.reject_assignment, AssignmentId=assignment_id,
                                RequesterFeedback="Changed my mind",
                                turk_code="AWS.MechanicalTurk.InvalidAssignmentState")
        self.assertEqual(self.balance(mturk)["AvailableBalance"], "3.80")

    def test_reject_and_override(self):
        hit_id = self.create_hit(MaxAssignments=1, Reward="1.00")["HITId"]
        _, assignment_id = self.work(hit_id)
        before = self.balance()

        # Feedback is required.
        self.assertRequestError(self.unvalidated().reject_assignment,
                                AssignmentId=assignment_id,
                                turk_code="AWS.MechanicalTurk.ParameterMissing")
        self.assertRequestError(self.unvalidated().reject_assignment,
                                AssignmentId=assignment_id, RequesterFeedback="")
        self.mturk.reject_assignment(AssignmentId=assignment_id,
                                     RequesterFeedback="Not what was asked")
        assignment = self.mturk.get_assignment(AssignmentId=assignment_id)["Assignment"]
        self.assertEqual(assignment["AssignmentStatus"], "Rejected")
        self.assertEqual(assignment["RequesterFeedback"], "Not what was asked")
        self.assertIn("RejectionTime", assignment)
        # Nothing charged, nothing held any more.
        after = self.balance()
        self.assertEqual(decimal.Decimal(after["AvailableBalance"]),
                         decimal.Decimal(before["AvailableBalance"]) + decimal.Decimal("1.20"))

        self.assertRequestError(self.mturk.reject_assignment, AssignmentId=assignment_id,
                                RequesterFeedback="Again",
                                turk_code="AWS.MechanicalTurk.InvalidAssignmentState")
        self.assertRequestError(self.mturk.approve_assignment, AssignmentId=assignment_id,
                                turk_code="AWS.MechanicalTurk.InvalidAssignmentState")
        self.mturk.approve_assignment(AssignmentId=assignment_id, OverrideRejection=True,
                                      RequesterFeedback="Sorry, it was right")
        assignment = self.mturk.get_assignment(AssignmentId=assignment_id)["Assignment"]
        self.assertEqual(assignment["AssignmentStatus"], "Approved")
        self.assertEqual(assignment["RequesterFeedback"], "Sorry, it was right")
        self.assertEqual(self.balance()["AvailableBalance"], before["AvailableBalance"])

    def test_override_needs_available_funds(self):
        requester = self.server.create_requester(funds="1")
        mturk = self.client_for(requester)
        hit_id = self.create_hit(mturk=mturk, Reward="0.80")["HITId"]
        _, assignment_id = self.work(hit_id)
        mturk.reject_assignment(AssignmentId=assignment_id, RequesterFeedback="No")
        # The rejection released the hold; another HIT takes the money.
        self.assertEqual(mturk.get_account_balance()["AvailableBalance"], "1.00")
        self.create_hit(mturk=mturk, Reward="0.80")
        self.assertRequestError(mturk.approve_assignment, AssignmentId=assignment_id,
                                OverrideRejection=True,
                                turk_code="AWS.MechanicalTurk.InsufficientFunds")
        self.assertEqual(mturk.get_assignment(AssignmentId=assignment_id)
                         ["Assignment"]["AssignmentStatus"], "Rejected")
        self.assertEqual(mturk.get_account_balance()["AvailableBalance"], "0.04")

    def test_foreign_assignments_do_not_exist(self):
        hit_id = self.create_hit()["HITId"]
        _, assignment_id = self.work(hit_id)
        other = self.client_for(self.server.create_requester())
        for call, kwargs in ((other.get_assignment, {}),
                             (other.approve_assignment, {}),
                             (other.reject_assignment, {"RequesterFeedback": "no"}),
                             (other.get_file_upload_url, {"QuestionIdentifier": "q1"})):
            with self.subTest(call=call.__name__):
                self.assertRequestError(call, AssignmentId=assignment_id,
                                        turk_code="AWS.MechanicalTurk.AssignmentDoesNotExist",
                                        **kwargs)
        self.assertRequestError(other.list_assignments_for_hit, HITId=hit_id,
                                turk_code="AWS.MechanicalTurk.HITDoesNotExist")
        self.assertEqual(self.mturk.get_assignment(AssignmentId=assignment_id)
                         ["Assignment"]["AssignmentStatus"], "Submitted")

    def test_file_upload_url(self):
        hit_id = self.create_hit(Question=FILE_FORM)["HITId"]
        worker = self.worker()
        assignment_id = self.accept(worker, hit_id)
        picture = b"\x89PNG\r\n\x1a\n a cat"
        digest = add_media(self.server, picture, "image/png")
        worker.submit(assignment_id, [
            {"QuestionIdentifier": "photo", "UploadedFileKey": digest,
             "UploadedFileSizeInBytes": len(picture)},
            free_text("note", "")])
        answer = self.mturk.get_assignment(AssignmentId=assignment_id)["Assignment"]["Answer"]
        self.assertIn(digest, answer)

        # No file yet for this question in the uploads table.
        self.assertRequestError(self.mturk.get_file_upload_url, AssignmentId=assignment_id,
                                QuestionIdentifier="photo")
        self.server.sql("INSERT INTO uploads (assignment_id, question_id, media_hash, size, "
                        "created) VALUES (?, 'photo', ?, ?, ?)",
                        (assignment_id, digest, len(picture), int(time.time())))

        url = self.mturk.get_file_upload_url(AssignmentId=assignment_id,
                                             QuestionIdentifier="photo")["FileUploadURL"]
        self.assertTrue(url.startswith(self.server.url.rstrip("/") + "/files/"), url)
        self.assertRequestError(self.mturk.get_file_upload_url, AssignmentId=assignment_id,
                                QuestionIdentifier="nope")
        self.assertRequestError(self.mturk.get_file_upload_url, AssignmentId=assignment_id,
                                QuestionIdentifier="note")

        path = url[len(self.server.url.rstrip("/")):]
        status, headers, body = self.server.raw("GET", path)
        self.assertEqual(status, 200, body)
        self.assertEqual(body, picture)
        self.assertEqual(headers.get("Content-Type"), "image/png")
        # An altered token is refused.
        status, _, _ = self.server.raw("GET", path[:-1] + ("0" if path[-1] != "0" else "1"))
        self.assertEqual(status, 404)


class OverrideWindowTest(FollowServerClock, WorkerMixin, KpTestCase):

    FAKE_TIME = True

    def test_rejection_can_be_overridden_for_30_days(self):
        hit_id = self.create_hit(MaxAssignments=2, AutoApprovalDelayInSeconds=2592000)["HITId"]
        _, early = self.work(hit_id)
        _, late = self.work(hit_id)
        self.mturk.reject_assignment(AssignmentId=early, RequesterFeedback="No")
        self.mturk.reject_assignment(AssignmentId=late, RequesterFeedback="No")

        self.server.advance(29 * 86400)
        self.mturk.approve_assignment(AssignmentId=early, OverrideRejection=True)
        self.assertEqual(self.mturk.get_assignment(AssignmentId=early)
                         ["Assignment"]["AssignmentStatus"], "Approved")

        self.server.advance(2 * 86400)
        self.assertRequestError(self.mturk.approve_assignment, AssignmentId=late,
                                OverrideRejection=True,
                                turk_code="AWS.MechanicalTurk.InvalidAssignmentState")
        self.assertEqual(self.mturk.get_assignment(AssignmentId=late)
                         ["Assignment"]["AssignmentStatus"], "Rejected")


if __name__ == "__main__":
    main()
