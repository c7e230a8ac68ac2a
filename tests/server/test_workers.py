# SPDX-License-Identifier: GPL-3.0-or-later
"""Worker blocks, bonuses, messages to workers and the account balance.

Assignments are made the real way: CreateHIT, a worker accepts and submits
through the worker API, the requester approves or rejects. Balances are
checked through GetAccountBalance after every movement.
"""

import json
import os
import sys
import uuid
from decimal import Decimal

sys.path.insert(0, os.path.dirname(__file__))

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials

from kpserver import KpTestCase, WorkerClient, WorkerError, free_text, main


def loose_client(server, requester):
    """A client that sends what it is given: botocore checks required
    members and types on the client, the server must check them too."""
    config = botocore.config.Config(parameter_validation=False,
                                    retries={"total_max_attempts": 1})
    return boto3.client("mturk", endpoint_url=server.url, region_name="us-east-1",
                        aws_access_key_id=requester["AccessKeyId"],
                        aws_secret_access_key=requester["SecretAccessKey"],
                        config=config)


def raw_call(server, requester, operation, body):
    """Sends body (a dict) as a signed request without botocore's
    serialiser, which refuses unknown members; gives (status, JSON)."""
    request = botocore.awsrequest.AWSRequest(
        method="POST", url=server.url, data=json.dumps(body).encode(),
        headers={"Content-Type": "application/x-amz-json-1.1",
                 "X-Amz-Target": "MTurkRequesterServiceV20170117." + operation})
    credentials = botocore.credentials.Credentials(requester["AccessKeyId"],
                                                   requester["SecretAccessKey"])
    botocore.auth.SigV4Auth(credentials, "mturk-requester", "us-east-1").add_auth(request)
    status, _, data = server.raw("POST", "/", request.body, dict(request.headers.items()))
    return status, json.loads(data)


def balance(mturk):
    answer = mturk.get_account_balance()
    return Decimal(answer["AvailableBalance"]), Decimal(answer["OnHoldBalance"])


class WorkersTestCase(KpTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.loose = loose_client(cls.server, cls.requester)

    def make_assignment(self, status="Approved", mturk=None, worker=None, reward="0.10"):
        """(hit, assignment id, WorkerClient) with an assignment in status."""
        mturk = mturk or self.mturk
        hit = self.create_hit(mturk, Reward=reward)
        worker = worker or WorkerClient(self.server)
        assignment_id = worker.accept_hit(hit["HITId"])["assignment_id"]
        if status != "Accepted":
            worker.submit(assignment_id, [free_text("q1", "a car")])
        if status == "Approved":
            mturk.approve_assignment(AssignmentId=assignment_id)
        elif status == "Rejected":
            mturk.reject_assignment(AssignmentId=assignment_id,
                                    RequesterFeedback="Not what was asked")
        return hit, assignment_id, worker


class BlocksTest(WorkersTestCase):

    def list_all_blocks(self, mturk, page_size):
        blocks, pages, token = [], [], None
        while True:
            kwargs = {"MaxResults": page_size}
            if token:
                kwargs["NextToken"] = token
            answer = mturk.list_worker_blocks(**kwargs)
            self.assertEqual(answer["NumResults"], len(answer["WorkerBlocks"]))
            pages.append(len(answer["WorkerBlocks"]))
            blocks += answer["WorkerBlocks"]
            token = answer.get("NextToken")
            if not token:
                return blocks, pages

    def test_create_list_replace_delete(self):
        mturk = self.server.mturk(self.server.create_requester())
        ids = ["A%013d" % i for i in range(5)]
        for worker_id in reversed(ids):
            mturk.create_worker_block(WorkerId=worker_id, Reason="Boxes drawn at random")

        blocks, pages = self.list_all_blocks(mturk, 2)
        self.assertEqual(pages, [2, 2, 1])
        self.assertEqual([b["WorkerId"] for b in blocks], ids)
        self.assertEqual({b["Reason"] for b in blocks}, {"Boxes drawn at random"})

        # Blocking again replaces the reason and adds no second block.
        mturk.create_worker_block(WorkerId=ids[2], Reason="Copied answers")
        blocks, _ = self.list_all_blocks(mturk, 100)
        self.assertEqual(len(blocks), 5)
        self.assertEqual(blocks[2], {"WorkerId": ids[2], "Reason": "Copied answers"})

        mturk.delete_worker_block(WorkerId=ids[0], Reason="Appealed")
        # Deleting a block that does not exist succeeds, as on MTurk.
        mturk.delete_worker_block(WorkerId=ids[0])
        mturk.delete_worker_block(WorkerId="AUNKNOWN0000")
        blocks, _ = self.list_all_blocks(mturk, 100)
        self.assertEqual([b["WorkerId"] for b in blocks], ids[1:])

    def test_blocks_belong_to_their_requester(self):
        other = self.server.mturk(self.server.create_requester())
        self.mturk.create_worker_block(WorkerId="AISOLATED0001", Reason="Spam")
        self.assertEqual(other.list_worker_blocks()["WorkerBlocks"], [])
        # The other requester deleting it changes nothing here.
        other.delete_worker_block(WorkerId="AISOLATED0001")
        ids = [b["WorkerId"] for b in self.mturk.list_worker_blocks(MaxResults=100)["WorkerBlocks"]]
        self.assertIn("AISOLATED0001", ids)

    def test_blocked_worker_cannot_accept(self):
        mturk = self.server.mturk(self.server.create_requester())
        worker = WorkerClient(self.server)
        hit = self.create_hit(mturk, MaxAssignments=2)
        mturk.create_worker_block(WorkerId=worker.worker_id, Reason="Spam")
        with self.assertRaises(WorkerError) as raised:
            worker.accept_hit(hit["HITId"])
        self.assertEqual(raised.exception.status, 403)

        mturk.delete_worker_block(WorkerId=worker.worker_id)
        self.assertEqual(worker.accept_hit(hit["HITId"])["status"], "Accepted")

    def test_invalid_requests(self):
        self.assertRequestError(self.loose.create_worker_block, WorkerId="AGOOD000001")
        self.assertRequestError(self.loose.create_worker_block, WorkerId="AGOOD000001", Reason="")
        self.assertRequestError(self.loose.create_worker_block, Reason="No worker")
        for bad in ("a123", "B123", "A12 3", "A" + "1" * 64, 12):
            self.assertRequestError(self.loose.create_worker_block, WorkerId=bad, Reason="x")
        self.assertRequestError(self.loose.delete_worker_block, WorkerId="lowercase")
        for size in (0, 101, "5"):
            self.assertRequestError(self.loose.list_worker_blocks, MaxResults=size)
        self.assertRequestError(self.loose.list_worker_blocks, NextToken="Zm9yZ2VkfDA=")
        # Nothing was stored by the refused calls.
        ids = [b["WorkerId"] for b in self.mturk.list_worker_blocks(MaxResults=100)["WorkerBlocks"]]
        self.assertNotIn("AGOOD000001", ids)


class BonusTest(WorkersTestCase):

    def test_bonus_charges_amount_and_fee(self):
        hit, assignment_id, worker = self.make_assignment("Approved")
        # (bonus, total charged): the fee is 20 %, at least $0.01, rounded
        # half up to the cent.
        cases = [("1.00", "1.20"), ("0.01", "0.02"), ("0.03", "0.04"),
                 ("0.12", "0.14"), ("0.13", "0.16"), ("5", "6.00"), ("2.5", "3.00")]
        for amount, total in cases:
            before, hold_before = balance(self.mturk)
            self.mturk.send_bonus(WorkerId=worker.worker_id, BonusAmount=amount,
                                  AssignmentId=assignment_id, Reason="Thanks for " + amount)
            after, hold_after = balance(self.mturk)
            self.assertEqual(before - after, Decimal(total), amount)
            self.assertEqual(hold_before, hold_after)

        answer = self.mturk.list_bonus_payments(AssignmentId=assignment_id, MaxResults=100)
        self.assertEqual(answer["NumResults"], len(cases))
        self.assertNotIn("NextToken", answer)
        self.assertEqual(sorted(p["BonusAmount"] for p in answer["BonusPayments"]),
                         sorted("%.2f" % Decimal(a) for a, _ in cases))
        for payment in answer["BonusPayments"]:
            self.assertEqual(payment["WorkerId"], worker.worker_id)
            self.assertEqual(payment["AssignmentId"], assignment_id)
            self.assertTrue(payment["Reason"].startswith("Thanks for "))
            self.assertLess(abs(payment["GrantTime"].timestamp() - self.server.now()), 120)

        # Paging by HIT gives the same payments, each once.
        seen, token, pages = [], None, []
        while True:
            kwargs = {"HITId": hit["HITId"], "MaxResults": 3}
            if token:
                kwargs["NextToken"] = token
            page = self.mturk.list_bonus_payments(**kwargs)
            pages.append(page["NumResults"])
            seen += [p["Reason"] for p in page["BonusPayments"]]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(pages, [3, 3, 1])
        self.assertEqual(sorted(seen), sorted("Thanks for " + a for a, _ in cases))

    def test_submitted_and_rejected_work_can_get_a_bonus(self):
        for status in ("Submitted", "Rejected"):
            _, assignment_id, worker = self.make_assignment(status)
            self.mturk.send_bonus(WorkerId=worker.worker_id, BonusAmount="0.50",
                                  AssignmentId=assignment_id, Reason="Good effort")
            payments = self.mturk.list_bonus_payments(AssignmentId=assignment_id)
            self.assertEqual(payments["NumResults"], 1, status)

    def test_refused_bonuses_cost_nothing(self):
        hit, assignment_id, worker = self.make_assignment("Approved")
        _, accepted_id, accepted_worker = self.make_assignment("Accepted")
        other = self.server.mturk(self.server.create_requester())
        _, foreign_id, foreign_worker = self.make_assignment("Approved", mturk=other)
        before = balance(self.mturk)

        def bonus(**overrides):
            params = dict(WorkerId=worker.worker_id, BonusAmount="1.00",
                          AssignmentId=assignment_id, Reason="Well done")
            params.update(overrides)
            return params

        # Someone else's assignment does not exist for this requester.
        self.assertRequestError(self.mturk.send_bonus,
                                **bonus(WorkerId=foreign_worker.worker_id, AssignmentId=foreign_id),
                                turk_code="AWS.MechanicalTurk.AssignmentDoesNotExist")
        self.assertRequestError(self.mturk.send_bonus, **bonus(AssignmentId="3NOSUCHASSIGNMENT"),
                                turk_code="AWS.MechanicalTurk.AssignmentDoesNotExist")
        # The worker must be the one who did the assignment.
        self.assertRequestError(self.mturk.send_bonus, **bonus(WorkerId=accepted_worker.worker_id),
                                message=assignment_id)
        # Work still in progress has nothing to pay a bonus for.
        self.assertRequestError(self.mturk.send_bonus,
                                **bonus(WorkerId=accepted_worker.worker_id,
                                        AssignmentId=accepted_id),
                                message="Accepted")
        # Parameters the server checks itself.
        params = bonus()
        del params["Reason"]
        self.assertRequestError(self.loose.send_bonus, **params)
        self.assertRequestError(self.loose.send_bonus, **bonus(Reason=""))
        for amount in ("1.234", "-1", "abc", "", "0", "0.00", "1,00", "$1", "1e2",
                       "1000000.01", 1, None):
            params = bonus(BonusAmount=amount)
            if amount is None:
                del params["BonusAmount"]
            self.assertRequestError(self.loose.send_bonus, **params)
        self.assertRequestError(self.loose.send_bonus, **bonus(UniqueRequestToken="x" * 65))
        status, answer = raw_call(self.server, self.requester, "SendBonus", bonus(Extra="member"))
        self.assertEqual((status, answer["__type"]), (400, "RequestError"))
        self.assertIn("Extra", answer["Message"])

        self.assertEqual(balance(self.mturk), before)
        self.assertEqual(self.mturk.list_bonus_payments(HITId=hit["HITId"])["NumResults"], 0)
        self.assertEqual(other.list_bonus_payments(AssignmentId=foreign_id)["NumResults"], 0)

    def test_unique_request_token(self):
        _, assignment_id, worker = self.make_assignment("Approved")
        token = "bonus-" + uuid.uuid4().hex
        params = dict(WorkerId=worker.worker_id, BonusAmount="0.40",
                      AssignmentId=assignment_id, Reason="Retry me", UniqueRequestToken=token)
        self.mturk.send_bonus(**params)
        after_first = balance(self.mturk)
        error = self.assertRequestError(self.mturk.send_bonus, **params, message=token)
        self.assertIn("already", error.response["Error"]["Message"])
        self.assertEqual(balance(self.mturk), after_first)
        self.assertEqual(
            self.mturk.list_bonus_payments(AssignmentId=assignment_id)["NumResults"], 1)

        # Another requester may use the same token.
        other = self.server.mturk(self.server.create_requester())
        _, other_assignment, other_worker = self.make_assignment("Approved", mturk=other)
        other.send_bonus(**dict(params, WorkerId=other_worker.worker_id,
                                AssignmentId=other_assignment))

        # A token is remembered for 24 hours: age the first bonus by 25.
        self.server.sql("UPDATE bonuses SET created = created - 90000 "
                        "WHERE unique_request_token = ? AND assignment_id = ?",
                        (token, assignment_id))
        self.mturk.send_bonus(**params)
        self.assertEqual(
            self.mturk.list_bonus_payments(AssignmentId=assignment_id)["NumResults"], 2)

    def test_insufficient_funds(self):
        requester = self.server.create_requester(funds="1")
        mturk = self.server.mturk(requester)
        _, assignment_id, worker = self.make_assignment("Approved", mturk=mturk)
        # $1.00 funded, $0.10 reward + $0.02 fee charged on approval.
        self.assertEqual(balance(mturk), (Decimal("0.88"), Decimal("0.00")))

        # $0.74 + $0.15 fee is a cent too much.
        self.assertRequestError(mturk.send_bonus, WorkerId=worker.worker_id,
                                BonusAmount="0.74", AssignmentId=assignment_id,
                                Reason="Too generous",
                                turk_code="AWS.MechanicalTurk.InsufficientFunds")
        self.assertEqual(balance(mturk), (Decimal("0.88"), Decimal("0.00")))
        self.assertEqual(mturk.list_bonus_payments(AssignmentId=assignment_id)["NumResults"], 0)

        # $0.73 + $0.15 is exactly what is left.
        mturk.send_bonus(WorkerId=worker.worker_id, BonusAmount="0.73",
                         AssignmentId=assignment_id, Reason="All we have")
        self.assertEqual(balance(mturk), (Decimal("0.00"), Decimal("0.00")))
        self.assertRequestError(mturk.send_bonus, WorkerId=worker.worker_id,
                                BonusAmount="0.01", AssignmentId=assignment_id,
                                Reason="One more", turk_code="AWS.MechanicalTurk.InsufficientFunds")

    def test_list_bonus_payments_arguments(self):
        hit, assignment_id, _ = self.make_assignment("Submitted")
        self.assertRequestError(self.loose.list_bonus_payments)
        self.assertRequestError(self.loose.list_bonus_payments, HITId=hit["HITId"],
                                AssignmentId=assignment_id)
        self.assertRequestError(self.loose.list_bonus_payments, HITId="lower")
        self.assertRequestError(self.loose.list_bonus_payments, HITId=hit["HITId"], MaxResults=0)
        other = self.server.mturk(self.server.create_requester())
        self.assertRequestError(other.list_bonus_payments, HITId=hit["HITId"],
                                turk_code="AWS.MechanicalTurk.HITDoesNotExist")
        self.assertRequestError(other.list_bonus_payments, AssignmentId=assignment_id,
                                turk_code="AWS.MechanicalTurk.AssignmentDoesNotExist")
        answer = self.mturk.list_bonus_payments(HITId=hit["HITId"])
        self.assertEqual((answer["NumResults"], answer["BonusPayments"]), (0, []))


class BalanceTest(WorkersTestCase):

    def test_balance_follows_the_ledger(self):
        requester = self.server.create_requester(funds="100")
        mturk = self.server.mturk(requester)
        answer = mturk.get_account_balance()
        self.assertEqual((answer["AvailableBalance"], answer["OnHoldBalance"]),
                         ("100.00", "0.00"))
        self.server.admin("fund", requester["AccessKeyId"], "2.50")
        self.assertEqual(balance(mturk), (Decimal("102.50"), Decimal("0.00")))

        # Ten assignments at $0.10 are on hold with the 40 % fee of big HITs.
        self.create_hit(mturk, MaxAssignments=10, Reward="0.10")
        self.assertEqual(balance(mturk), (Decimal("101.10"), Decimal("1.40")))
        status, answer = raw_call(self.server, requester, "GetAccountBalance", {"Unexpected": 1})
        self.assertEqual((status, answer["__type"]), (400, "RequestError"))


class NotifyWorkersTest(WorkersTestCase):

    def test_only_workers_whose_work_was_reviewed_are_notified(self):
        _, _, approved = self.make_assignment("Approved")
        _, _, rejected = self.make_assignment("Rejected")
        _, _, submitted = self.make_assignment("Submitted")
        other = self.server.mturk(self.server.create_requester())
        _, _, elsewhere = self.make_assignment("Approved", mturk=other)
        unknown = "AUNKNOWNWORKER1"

        ids = [approved.worker_id, submitted.worker_id, rejected.worker_id,
               elsewhere.worker_id, unknown, approved.worker_id]
        answer = self.mturk.notify_workers(Subject="New batch", MessageText="More cars today.",
                                           WorkerIds=ids)
        failures = {f["WorkerId"]: f for f in answer["NotifyWorkersFailureStatuses"]}
        self.assertEqual(set(failures), {submitted.worker_id, elsewhere.worker_id, unknown})
        for failure in failures.values():
            self.assertEqual(failure["NotifyWorkersFailureCode"], "HardFailure")
            self.assertTrue(failure["NotifyWorkersFailureMessage"])

        # The reached workers see the message once, the others nothing.
        for worker in (approved, rejected):
            messages = worker.messages()["messages"]
            self.assertEqual([(m["subject"], m["text"]) for m in messages],
                             [("New batch", "More cars today.")])
        for worker in (submitted, elsewhere):
            self.assertEqual(worker.messages()["messages"], [])

    def test_invalid_requests(self):
        _, _, worker = self.make_assignment("Approved")
        good = dict(Subject="Hello", MessageText="Text", WorkerIds=[worker.worker_id])
        for bad in (dict(Subject="s" * 201), dict(Subject=""), dict(MessageText="m" * 4097),
                    dict(MessageText=""), dict(WorkerIds=[]),
                    dict(WorkerIds=["A%013d" % i for i in range(101)]),
                    dict(WorkerIds=["not-a-worker"]), dict(WorkerIds=[7]),
                    dict(WorkerIds=worker.worker_id)):
            self.assertRequestError(self.loose.notify_workers, **dict(good, **bad))
        for missing in ("Subject", "MessageText", "WorkerIds"):
            params = dict(good)
            del params[missing]
            self.assertRequestError(self.loose.notify_workers, **params)
        self.assertEqual(worker.messages()["messages"], [])

        # The limits themselves are fine.
        answer = self.mturk.notify_workers(Subject="s" * 200, MessageText="m" * 4096,
                                           WorkerIds=[worker.worker_id] * 100)
        self.assertEqual(answer["NotifyWorkersFailureStatuses"], [])
        self.assertEqual(len(worker.messages()["messages"]), 1)


if __name__ == "__main__":
    main()
