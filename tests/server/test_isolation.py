# SPDX-License-Identifier: GPL-3.0-or-later
"""Isolation: a requester never sees or acts on another requester's things,
and a worker never sees another worker's.

Requester A owns HITs, a HIT type, a qualification type with a grant and a
pending request, assignments in every state, a bonus and a block. Requester
B tries every MTurk operation on A's ids. Each answer must be exactly the
answer for an id that does not exist (same error, same message once the id
is blanked out), so B learns nothing, and A's state must be unchanged
afterwards. The list of operations comes from the server's own tables: an
operation added without an isolation case here fails the test.

Workers: worker 2 tries worker 1's assignments (get, submit, return, sync)
and must get what a nonexistent id gets; worker 2's lists (assignments,
earnings, messages, qualifications) never show worker 1's things.
"""

import json
import os
import random
import re
import string
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))

import botocore
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.exceptions

from kpserver import KpTestCase, WorkerClient, free_text, main, question_form

SOURCE_ROOT = os.environ.get("KP_SOURCE_ROOT") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))

TABLE_RE = re.compile(r"const KpOperation kp_mturk_\w+_operations\[\] = \{(.*?)\{ NULL \}", re.S)
ENTRY_RE = re.compile(r"\{\s*\"([A-Za-z]+)\"\s*,")


def server_operations():
    """Every operation in the server's tables (src/server/kp-mturk-*.c)."""
    folder = os.path.join(SOURCE_ROOT, "src", "server")
    operations = set()
    for name in sorted(os.listdir(folder)):
        if not (name.startswith("kp-mturk-") and name.endswith(".c")):
            continue
        with open(os.path.join(folder, name)) as f:
            for table in TABLE_RE.findall(f.read()):
                operations.update(ENTRY_RE.findall(table))
    return operations


def missing_like(existing):
    """A random id of the same shape as existing that names nothing."""
    alphabet = string.ascii_uppercase + string.digits
    if existing.startswith("A"):
        return "A" + "".join(random.choice(alphabet) for _ in existing[1:])
    return "".join(random.choice(alphabet) for _ in existing)


def method_name(operation):
    """boto3's method for an operation: "ListHITsForQualificationType" ->
    "list_hits_for_qualification_type"."""
    return botocore.xform_name(operation)


# Operations that take no id of anything a requester owns. Each says why it
# cannot reach another requester's things; the lists are checked too
# (test_lists_show_only_own).
NO_FOREIGN_ID = {
    "CreateQualificationType": "names are unique per requester (test_create_does_not_reuse)",
    "GetAccountBalance": "the caller's own balance (test_lists_show_only_own)",
    "ListHITs": "the caller's own HITs (test_lists_show_only_own)",
    "ListQualificationTypes": "system and own types (test_lists_show_only_own)",
    "ListWorkerBlocks": "the caller's own blocks (test_lists_show_only_own)",
    "SendTestEventNotification": "sends to a destination given in the request",
}

# Kempelen's own operations (docs/quality.md), not in botocore's model.
RAW_OPERATIONS = {"ConsolidateHIT", "ConsolidateBatch"}

NOTIFICATION = {"Destination": "https://127.0.0.1:9/hook", "Transport": "SQS",
                "Version": "2006-05-05", "EventTypes": ["AssignmentSubmitted"]}


def cases(a):
    """(operation, parameters) pairs: B's request naming A's objects.
    Values in {braces} are A's ids; the same request with each replaced by
    a missing id of the same shape must be answered the same way."""
    future = int(time.time()) + 7200
    return [
        ("GetHIT", {"HITId": "{hit}"}),
        ("UpdateExpirationForHIT", {"HITId": "{hit}", "ExpireAt": future}),
        ("UpdateExpirationForHIT", {"HITId": "{hit}", "ExpireAt": 0}),
        ("DeleteHIT", {"HITId": "{hit}"}),
        ("DeleteHIT", {"HITId": "{done_hit}"}),
        ("ListAssignmentsForHIT", {"HITId": "{hit}"}),
        ("GetAssignment", {"AssignmentId": "{submitted}"}),
        ("GetAssignment", {"AssignmentId": "{accepted}"}),
        ("ApproveAssignment", {"AssignmentId": "{submitted}"}),
        ("ApproveAssignment", {"AssignmentId": "{rejected}", "OverrideRejection": True}),
        ("RejectAssignment", {"AssignmentId": "{submitted}", "RequesterFeedback": "No"}),
        ("GetFileUploadURL", {"AssignmentId": "{submitted}", "QuestionIdentifier": "q1"}),
        ("SendBonus", {"WorkerId": a["worker_1"], "AssignmentId": "{approved}",
                       "BonusAmount": "1.00", "Reason": "Thanks"}),
        ("ListBonusPayments", {"HITId": "{done_hit}"}),
        ("ListBonusPayments", {"AssignmentId": "{approved}"}),
        ("CreateAdditionalAssignmentsForHIT", {"HITId": "{hit}",
                                               "NumberOfAdditionalAssignments": 2}),
        ("UpdateHITReviewStatus", {"HITId": "{hit}", "Revert": False}),
        ("UpdateHITReviewStatus", {"HITId": "{done_hit}", "Revert": True}),
        ("UpdateHITTypeOfHIT", {"HITId": "{hit}", "HITTypeId": a["b_hit_type"]}),
        ("UpdateHITTypeOfHIT", {"HITId": a["b_hit"], "HITTypeId": "{hit_type}"}),
        ("CreateHITWithHITType", {"HITTypeId": "{hit_type}", "LifetimeInSeconds": 600,
                                  "MaxAssignments": 1, "Question": question_form()}),
        ("CreateHIT", {"Title": "Mine", "Description": "Mine", "Reward": "0.01",
                       "AssignmentDurationInSeconds": 60, "LifetimeInSeconds": 600,
                       "Question": question_form(),
                       "QualificationRequirements": [
                           {"QualificationTypeId": "{qual}", "Comparator": "Exists"}]}),
        ("CreateHITType", {"Title": "Mine", "Description": "Mine", "Reward": "0.01",
                           "AssignmentDurationInSeconds": 60,
                           "QualificationRequirements": [
                               {"QualificationTypeId": "{qual}", "Comparator": "Exists"}]}),
        ("ListReviewPolicyResultsForHIT", {"HITId": "{hit}"}),
        ("ConsolidateHIT", {"HITId": "{hit}"}),
        ("ConsolidateHIT", {"HITId": "{done_hit}", "Method": "majority"}),
        ("ConsolidateBatch", {"HITIds": ["{done_hit}"]}),
        ("ListReviewableHITs", {"HITTypeId": "{hit_type}"}),
        ("ListHITsForQualificationType", {"QualificationTypeId": "{qual}"}),
        ("GetQualificationType", {"QualificationTypeId": "{qual}"}),
        ("UpdateQualificationType", {"QualificationTypeId": "{qual}",
                                     "Description": "Taken over"}),
        ("DeleteQualificationType", {"QualificationTypeId": "{qual}"}),
        ("ListQualificationRequests", {"QualificationTypeId": "{qual}"}),
        ("AcceptQualificationRequest", {"QualificationRequestId": "{qual_request}",
                                        "IntegerValue": 99}),
        ("RejectQualificationRequest", {"QualificationRequestId": "{qual_request}",
                                        "Reason": "No"}),
        ("AssociateQualificationWithWorker", {"QualificationTypeId": "{qual}",
                                              "WorkerId": a["worker_2"], "IntegerValue": 1,
                                              "SendNotification": False}),
        ("DisassociateQualificationFromWorker", {"QualificationTypeId": "{qual}",
                                                 "WorkerId": a["worker_1"], "Reason": "x"}),
        ("GetQualificationScore", {"QualificationTypeId": "{qual}",
                                   "WorkerId": a["worker_1"]}),
        ("ListWorkersWithQualificationType", {"QualificationTypeId": "{qual}"}),
        ("UpdateNotificationSettings", {"HITTypeId": "{hit_type}", "Active": False}),
        ("UpdateNotificationSettings", {"HITTypeId": "{hit_type}",
                                        "Notification": NOTIFICATION}),
        # Workers who never worked for B: a real one and a missing one are
        # answered alike (MTurk lets a requester message only workers whose
        # work they reviewed, and block any worker id).
        ("NotifyWorkers", {"Subject": "Hi", "MessageText": "Hello",
                           "WorkerIds": ["{worker_1}", "{worker_2}"]}),
        ("CreateWorkerBlock", {"WorkerId": "{worker_3}", "Reason": "Spam"}),
        ("DeleteWorkerBlock", {"WorkerId": "{blocked}", "Reason": "Sorry"}),
    ]


def fill(value, ids):
    """value with each "{name}" replaced by ids[name]."""
    if isinstance(value, str):
        match = re.fullmatch(r"\{(\w+)\}", value)
        return ids[match.group(1)] if match else value
    if isinstance(value, list):
        return [fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, ids) for k, v in value.items()}
    return value


def placeholders(value):
    if isinstance(value, str):
        match = re.fullmatch(r"\{(\w+)\}", value)
        return {match.group(1)} if match else set()
    if isinstance(value, list):
        return set().union(*[placeholders(v) for v in value]) if value else set()
    if isinstance(value, dict):
        return set().union(*[placeholders(v) for v in value.values()]) if value else set()
    return set()


def blank(value, ids):
    """value (a response) as JSON text with the given ids blanked out and
    fresh values (times, new ids) reduced to their shape."""
    text = json.dumps(value, sort_keys=True, default=str)
    for name, id_ in ids.items():
        text = text.replace(id_, "<%s>" % name)
    return text


class IsolationTest(KpTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        server = cls.server
        cls.a = cls.mturk
        cls.requester_b = server.create_requester()
        cls.b = server.mturk(cls.requester_b)
        cls.w1 = WorkerClient(server)
        cls.w2 = WorkerClient(server)
        cls.w3 = WorkerClient(server)
        cls.w4 = WorkerClient(server)
        ids = {"worker_1": cls.w1.worker_id, "worker_2": cls.w2.worker_id,
               "worker_3": cls.w3.worker_id, "blocked": cls.w4.worker_id}

        def hit(max_assignments=3, **extra):
            params = dict(MaxAssignments=max_assignments, LifetimeInSeconds=3600,
                          AssignmentDurationInSeconds=600, Reward="0.10",
                          AutoApprovalDelayInSeconds=86400,
                          Title="A's work", Description="Only for A",
                          Question=question_form())
            params.update(extra)
            return cls.a.create_hit(**params)["HIT"]

        # A's HIT with one submitted, one rejected and one accepted assignment.
        main_hit = hit(max_assignments=4, UniqueRequestToken="a-token-1")
        ids["hit"] = main_hit["HITId"]
        ids["hit_type"] = main_hit["HITTypeId"]
        submitted = cls.w1.accept_hit(ids["hit"])["assignment_id"]
        cls.w1.submit(submitted, [free_text("q1", "one car")])
        rejected = cls.w2.accept_hit(ids["hit"])["assignment_id"]
        cls.w2.submit(rejected, [free_text("q1", "two cars")])
        cls.a.reject_assignment(AssignmentId=rejected, RequesterFeedback="Wrong")
        accepted = cls.w3.accept_hit(ids["hit"])["assignment_id"]
        ids.update(submitted=submitted, rejected=rejected, accepted=accepted)

        # A finished HIT: approved work, a bonus, a message to worker 1.
        done_hit = hit(max_assignments=1)["HITId"]
        approved = cls.w1.accept_hit(done_hit)["assignment_id"]
        cls.w1.submit(approved, [free_text("q1", "three cars")])
        cls.a.approve_assignment(AssignmentId=approved, RequesterFeedback="Good")
        cls.a.send_bonus(WorkerId=cls.w1.worker_id, AssignmentId=approved,
                         BonusAmount="0.50", Reason="Extra care",
                         UniqueRequestToken="a-bonus-1")
        cls.a.notify_workers(Subject="For worker 1", MessageText="Private to worker 1",
                             WorkerIds=[cls.w1.worker_id])
        ids.update(done_hit=done_hit, approved=approved)

        # A's qualification type: granted to worker 1, requested by worker 2.
        qual = cls.a.create_qualification_type(
            Name="A's secret skill", Description="Only A knows", Keywords="a, private",
            QualificationTypeStatus="Active", RetryDelayInSeconds=0)["QualificationType"]
        ids["qual"] = qual["QualificationTypeId"]
        cls.a.associate_qualification_with_worker(
            QualificationTypeId=ids["qual"], WorkerId=cls.w1.worker_id, IntegerValue=7,
            SendNotification=False)
        ids["qual_request"] = cls.w2.request_qualification(ids["qual"])["request_id"]
        hit(QualificationRequirements=[{"QualificationTypeId": ids["qual"],
                                        "Comparator": "Exists",
                                        "ActionsGuarded": "Accept"}])

        cls.a.create_worker_block(WorkerId=cls.w4.worker_id, Reason="A blocks")

        # B's own things.
        b_hit = cls.b.create_hit(MaxAssignments=1, LifetimeInSeconds=3600,
                                 AssignmentDurationInSeconds=600, Reward="0.05",
                                 Title="B's work", Description="B", Question=question_form())["HIT"]
        cls.b_ids = {"b_hit": b_hit["HITId"], "b_hit_type": b_hit["HITTypeId"]}
        cls.ids = ids

    @classmethod
    def tearDownClass(cls):
        for worker in (cls.w1, cls.w2, cls.w3, cls.w4):
            worker.close()
        super().tearDownClass()

    # --- A's state, as A and the workers see it ---

    def state_of_a(self):
        a, ids = self.a, self.ids
        state = {}

        def record(name, call, **params):
            try:
                response = call(**params)
            except botocore.exceptions.ClientError as e:
                response = {"error": e.response["Error"]}
            response.pop("ResponseMetadata", None)
            state[name] = response

        for key in ("hit", "done_hit"):
            record("GetHIT " + key, a.get_hit, HITId=ids[key])
            record("ListAssignmentsForHIT " + key, a.list_assignments_for_hit, HITId=ids[key])
            record("ListBonusPayments " + key, a.list_bonus_payments, HITId=ids[key])
        for key in ("submitted", "rejected", "approved"):
            record("GetAssignment " + key, a.get_assignment, AssignmentId=ids[key])
        record("ListHITs", a.list_hits, MaxResults=100)
        record("ListReviewableHITs", a.list_reviewable_hits, MaxResults=100)
        record("GetAccountBalance", a.get_account_balance)
        record("ListWorkerBlocks", a.list_worker_blocks, MaxResults=100)
        record("GetQualificationType", a.get_qualification_type, QualificationTypeId=ids["qual"])
        record("ListQualificationRequests", a.list_qualification_requests,
               QualificationTypeId=ids["qual"])
        record("ListWorkersWithQualificationType", a.list_workers_with_qualification_type,
               QualificationTypeId=ids["qual"])
        record("GetQualificationScore", a.get_qualification_score,
               QualificationTypeId=ids["qual"], WorkerId=ids["worker_1"])
        record("ListHITsForQualificationType", a.list_hits_for_qualification_type,
               QualificationTypeId=ids["qual"])
        record("ListQualificationTypes", a.list_qualification_types,
               MustBeRequestable=False, MustBeOwnedByCaller=True)
        for worker in (self.w1, self.w2, self.w3, self.w4):
            state["worker %s" % worker.worker_id] = [
                worker.assignments(limit=100), worker.earnings(limit=100),
                worker.messages(limit=100), worker.qualifications()]
        return state

    # --- probes ---

    def outcome(self, client, operation, params):
        """What B gets: ("ok", response) or ("error", status, code,
        TurkErrorCode, message)."""
        if operation in RAW_OPERATIONS:
            return self.raw_outcome(operation, params)
        try:
            response = getattr(client, method_name(operation))(**params)
        except botocore.exceptions.ClientError as e:
            error = e.response["Error"]
            return ("error", e.response["ResponseMetadata"]["HTTPStatusCode"],
                    error.get("Code"), e.response.get("TurkErrorCode") or error.get("TurkErrorCode"),
                    error.get("Message"))
        response.pop("ResponseMetadata", None)
        return ("ok", response)

    def raw_outcome(self, operation, params):
        """The same for Kempelen's own operations, which botocore's model
        lacks: a request signed with B's keys."""
        request = botocore.awsrequest.AWSRequest(
            method="POST", url=self.server.url, data=json.dumps(params).encode(),
            headers={"Content-Type": "application/x-amz-json-1.1",
                     "X-Amz-Target": "MTurkRequesterServiceV20170117." + operation})
        credentials = botocore.credentials.Credentials(self.requester_b["AccessKeyId"],
                                                       self.requester_b["SecretAccessKey"])
        botocore.auth.SigV4Auth(credentials, "mturk-requester", "us-east-1").add_auth(request)
        status, _, data = self.server.raw("POST", "/", request.body, dict(request.headers.items()))
        body = json.loads(data)
        if status != 200:
            return ("error", status, body.get("__type", "").split("#")[-1],
                    body.get("TurkErrorCode"), body.get("Message") or body.get("message"))
        return ("ok", body)

    def test_every_operation_has_a_case(self):
        operations = server_operations()
        self.assertGreaterEqual(len(operations), 30, operations)
        covered = {operation for operation, _ in cases(dict(self.ids, **self.b_ids))}
        self.assertFalse(covered & set(NO_FOREIGN_ID))
        unknown = (covered | set(NO_FOREIGN_ID)) - operations
        self.assertFalse(unknown, "cases for operations the server does not have")
        uncovered = operations - covered - set(NO_FOREIGN_ID)
        self.assertFalse(uncovered, "operations without an isolation case: %s"
                         % ", ".join(sorted(uncovered)))

    def test_foreign_ids_look_missing(self):
        before = self.state_of_a()
        all_ids = dict(self.ids, **self.b_ids)
        known = set(server_operations())
        checked = 0
        for operation, template in cases(all_ids):
            if operation not in known:
                continue
            with self.subTest(operation=operation, params=template):
                names = placeholders(template)
                self.assertTrue(names, "a case must name one of A's ids")
                missing = {name: missing_like(self.ids[name]) for name in names}
                foreign = self.outcome(self.b, operation, fill(template, self.ids))
                absent = self.outcome(self.b, operation, fill(template, missing))
                blanked_foreign = blank(foreign, {n: self.ids[n] for n in names})
                blanked_absent = blank(absent, missing)
                if os.environ.get("KP_ISOLATION_VERBOSE"):
                    print(operation, blanked_foreign, file=sys.stderr)
                self.assertEqual(blanked_foreign, blanked_absent,
                                 "%s answers A's id differently from a missing one"
                                 % operation)
                checked += 1
        self.assertGreater(checked, 30)
        after = self.state_of_a()
        for key in before:
            with self.subTest(state=key):
                self.assertEqual(before[key], after[key])

    def test_lists_show_only_own(self):
        secret_ids = [self.ids[k] for k in ("hit", "done_hit", "hit_type", "submitted",
                                            "rejected", "accepted", "approved", "qual",
                                            "qual_request")]
        b = self.b
        responses = [
            b.list_hits(MaxResults=100),
            b.list_reviewable_hits(MaxResults=100),
            b.list_reviewable_hits(MaxResults=100, Status="Reviewing"),
            b.list_qualification_types(MustBeRequestable=True, MustBeOwnedByCaller=False,
                                       MaxResults=100),
            b.list_qualification_types(MustBeRequestable=False, MustBeOwnedByCaller=False,
                                       MaxResults=100),
            b.list_qualification_types(Query="secret", MustBeRequestable=False, MaxResults=100),
            b.list_qualification_requests(MaxResults=100),
            b.list_worker_blocks(MaxResults=100),
            b.list_bonus_payments(HITId=self.b_ids["b_hit"]),
        ]
        for response in responses:
            text = json.dumps(response, default=str)
            for id_ in secret_ids:
                self.assertNotIn(id_, text)
            self.assertNotIn("Only A knows", text)
            self.assertNotIn("Extra care", text)
        self.assertNotIn(self.w4.worker_id, json.dumps(b.list_worker_blocks()))
        # A's page tokens do not open A's lists to B.
        for operation, a_params, b_params in (
                ("ListHITs", {}, {}),
                ("ListAssignmentsForHIT", {"HITId": self.ids["hit"]},
                 {"HITId": self.b_ids["b_hit"]})):
            page = getattr(self.a, method_name(operation))(MaxResults=1, **a_params)
            self.assertIn("NextToken", page, operation)
            answer = self.outcome(b, operation, dict(b_params, MaxResults=100,
                                                     NextToken=page["NextToken"]))
            text = json.dumps(answer, default=str)
            for id_ in secret_ids:
                self.assertNotIn(id_, text)
        # B's balance is B's alone: A paying a bonus does not touch it.
        balance = b.get_account_balance()["AvailableBalance"]
        self.a.send_bonus(WorkerId=self.w1.worker_id, AssignmentId=self.ids["approved"],
                          BonusAmount="0.25", Reason="Another")
        self.assertEqual(b.get_account_balance()["AvailableBalance"], balance)

    def test_create_does_not_reuse(self):
        """Names and request tokens are per requester: B reusing A's gets
        its own new object, not A's nor an error that tells A has one."""
        b = self.b
        qual = b.create_qualification_type(Name="A's secret skill", Description="B's own",
                                           QualificationTypeStatus="Active")["QualificationType"]
        self.assertNotEqual(qual["QualificationTypeId"], self.ids["qual"])
        hit = b.create_hit(MaxAssignments=4, LifetimeInSeconds=3600,
                           AssignmentDurationInSeconds=600, Reward="0.10",
                           AutoApprovalDelayInSeconds=86400, Title="A's work",
                           Description="Only for A", Question=question_form(),
                           UniqueRequestToken="a-token-1")["HIT"]
        self.assertNotEqual(hit["HITId"], self.ids["hit"])
        self.assertNotEqual(hit["HITTypeId"], self.ids["hit_type"])
        self.assertEqual(self.a.get_hit(HITId=self.ids["hit"])["HIT"]["HITTypeId"],
                         self.ids["hit_type"])

    # --- the worker API ---

    def worker_outcome(self, worker, method, path, body=None):
        status, headers, data = worker.request(method, path, body)
        return status, data

    def test_workers_cannot_reach_each_other(self):
        w1, w2, ids = self.w1, self.w2, self.ids
        before = self.state_of_a()
        for assignment in ("submitted", "approved"):
            mine = ids[assignment]
            missing = missing_like(mine)
            for method, path, body in (
                    ("GET", "/assignments/%s", None),
                    ("POST", "/assignments/%s/return", None),
                    ("POST", "/assignments/%s/submit",
                     {"submission_id": str(uuid.uuid4()),
                      "answers": [free_text("q1", "stolen")]})):
                with self.subTest(method=method, path=path, assignment=assignment):
                    foreign = self.worker_outcome(w2, method, path % mine, body)
                    absent = self.worker_outcome(w2, method, path % missing, body)
                    self.assertEqual(foreign[0], 404, foreign)
                    self.assertEqual(foreign[0], absent[0])
                    self.assertEqual(foreign[1].replace(mine.encode(), b"<id>"),
                                     absent[1].replace(missing.encode(), b"<id>"))
        # Worker 3's accepted assignment: worker 2 can neither submit nor
        # return it, nor reach it through a batch sync.
        accepted = ids["accepted"]
        missing = missing_like(accepted)
        for method, path in (("GET", "/assignments/%s"), ("POST", "/assignments/%s/return")):
            foreign = self.worker_outcome(w2, method, path % accepted)
            absent = self.worker_outcome(w2, method, path % missing)
            self.assertEqual(foreign[0], 404)
            self.assertEqual(foreign[1].replace(accepted.encode(), b"<id>"),
                             absent[1].replace(missing.encode(), b"<id>"))

        def sync(assignment_id):
            submission = {"submission_id": "0b0e7a43-8c1c-4c55-9d43-3c9b1c2f7a10",
                          "assignment_id": assignment_id,
                          "answers": [free_text("q1", "stolen")]}
            return w2.sync([submission])["results"][0]

        foreign = sync(accepted)
        absent = sync(missing)
        self.assertEqual(foreign["status"], 404, foreign)
        self.assertEqual(json.dumps(foreign).replace(accepted, "<id>"),
                         json.dumps(absent).replace(missing, "<id>"))
        self.assertEqual(self.w3.assignment(accepted)["status"], "Accepted")

        # Worker 2's lists hold only worker 2's things.
        w1_ids = [ids["submitted"], ids["approved"], ids["accepted"]]
        for listing in (w2.assignments(limit=100), w2.assignments(hit_id=ids["hit"]),
                        w2.earnings(limit=100), w2.messages(limit=100), w2.qualifications()):
            text = json.dumps(listing)
            for id_ in w1_ids:
                self.assertNotIn(id_, text)
            self.assertNotIn(w1.worker_id, text)
            self.assertNotIn("Private to worker 1", text)
            self.assertNotIn("Extra care", text)
        earnings = w2.earnings(limit=100)
        self.assertEqual(earnings["bonuses"]["count"], 0)
        self.assertEqual(earnings["approved"]["count"], 0)
        self.assertEqual([i["assignment_id"] for i in earnings["items"]], [ids["rejected"]])
        self.assertEqual(w2.messages()["total"], 0)
        # ... while worker 1 does see them (the probes are meaningful).
        self.assertGreaterEqual(w1.earnings()["bonuses"]["count"], 1)
        self.assertEqual(w1.messages()["total"], 1)
        self.assertEqual(self.state_of_a(), before)


if __name__ == "__main__":
    main()
