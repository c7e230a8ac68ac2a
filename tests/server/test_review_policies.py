# SPDX-License-Identifier: GPL-3.0-or-later
"""Review policies (docs/quality.md, "Gold questions and worker scores")
against a real server: ScoreMyKnownAnswers and SimplePlurality evaluated at
submission, their results and actions through ListReviewPolicyResultsForHIT,
the gold score kept as a qualification, AutoGranted qualifications granted
at accept, parameter validation at CreateHIT, and gold HITs that look like
any other to workers."""

import json
import time

from kpserver import KpTestCase, WorkerClient, free_text, main, question_form

CROWD_HTML = (
    '<HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/'
    'AWSMechanicalTurkDataSchemas/2011-11-11/HTMLQuestion.xsd">'
    '<HTMLContent><![CDATA[<!DOCTYPE html><html><head>'
    '<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>'
    '</head><body><crowd-form>'
    '<crowd-classifier name="category" categories="[\'Cat\', \'Dog\']" '
    'header="What is it?"></crowd-classifier>'
    '<crowd-bounding-box name="boxes" src="https://example.com/a.jpg" '
    'header="Draw the car" labels="[\'car\']"></crowd-bounding-box>'
    '</crowd-form></body></html>]]></HTMLContent>'
    '<FrameHeight>600</FrameHeight></HTMLQuestion>')

KNOWN_ANSWERS = "ScoreMyKnownAnswers/2011-09-01"
PLURALITY = "SimplePlurality/2011-09-01"

CAR = {"left": 40, "top": 60, "width": 120, "height": 80}
NEAR_CAR = {"left": 42, "top": 61, "width": 118, "height": 80}
FAR = {"left": 500, "top": 400, "width": 40, "height": 30}


def crowd_answer(label, boxes=()):
    """What crowd-form submits: one taskAnswers FreeText with a JSON array."""
    answer = {"category": {"label": label},
              "boxes": {"boundingBoxes": [dict(b, label="car") for b in boxes],
                        "inputImageProperties": {"width": 640, "height": 480}}}
    return [free_text("taskAnswers", json.dumps([answer]))]


def param(key, *values):
    return {"Key": key, "Values": [str(v) for v in values]}


def answer_key(**known):
    return {"Key": "AnswerKey",
            "MapEntries": [{"Key": k, "Values": [v]} for k, v in known.items()]}


def known_policy(*parameters, key=None):
    return {"PolicyName": KNOWN_ANSWERS,
            "Parameters": [key or answer_key(category="Cat"), *parameters]}


def plurality_policy(*parameters):
    return {"PolicyName": PLURALITY,
            "Parameters": [param("QuestionIds", "category"),
                           param("QuestionAgreementThreshold", 50), *parameters]}


class PolicyTestCase(KpTestCase):
    """Helpers; the tests are in the subclasses."""

    def crowd_hit(self, max_assignments=1, title="Find the car", **params):
        params = dict(dict(MaxAssignments=max_assignments, LifetimeInSeconds=3600,
                           AssignmentDurationInSeconds=600, Reward="0.05", Title=title,
                           Description="Classify and draw a box", Question=CROWD_HTML), **params)
        return self.mturk.create_hit(**params)["HIT"]

    def worker(self):
        worker = WorkerClient(self.server)
        self.addCleanup(worker.close)
        return worker

    def work(self, worker, hit_id, label, boxes=()):
        assignment_id = worker.accept_hit(hit_id)["assignment_id"]
        worker.submit(assignment_id, crowd_answer(label, boxes))
        return assignment_id

    def report(self, hit_id, **kwargs):
        """The whole report, every page: {level: (results, actions)} with
        results as a set of (SubjectId, QuestionId, Key, Value) and actions
        as a list of (ActionName, TargetId, Status, Result)."""
        reports = {"Assignment": ([], []), "HIT": ([], [])}
        token = None
        while True:
            page = dict(HITId=hit_id, RetrieveActions=True, RetrieveResults=True,
                        MaxResults=3, **kwargs)
            if token:
                page["NextToken"] = token
            answer = self.mturk.list_review_policy_results_for_hit(**page)
            self.assertEqual(answer["HITId"], hit_id)
            for level, member in (("Assignment", "AssignmentReviewReport"),
                                  ("HIT", "HITReviewReport")):
                report = answer.get(member, {})
                reports[level][0].extend(report.get("ReviewResults", []))
                reports[level][1].extend(report.get("ReviewActions", []))
            token = answer.get("NextToken")
            if not token:
                break
        out = {}
        for level, (results, actions) in reports.items():
            for action in actions:
                self.assertEqual(set(action) - {"ErrorCode"},
                                 {"ActionId", "ActionName", "TargetId", "TargetType",
                                  "Status", "CompleteTime", "Result"}, action)
                self.assertLess(abs(action["CompleteTime"].timestamp() - time.time()), 120)
            out[level] = ({(r["SubjectId"], r.get("QuestionId"), r["Key"], r["Value"])
                           for r in results},
                          sorted((a["ActionName"], a["TargetId"], a["Status"], a["Result"])
                                 for a in actions))
        return out

    def assignment(self, assignment_id):
        return self.mturk.get_assignment(AssignmentId=assignment_id)["Assignment"]

    def score(self, type_id, worker):
        return self.mturk.get_qualification_score(QualificationTypeId=type_id,
                                                  WorkerId=worker.worker_id)["Qualification"]



class ReviewPoliciesTestCase(PolicyTestCase):

    # --- ScoreMyKnownAnswers ---

    def test_known_answers_approve_and_reject(self):
        hit = self.crowd_hit(2, AssignmentReviewPolicy=known_policy(
            param("ApproveIfKnownAnswerScoreIsAtLeast", 100), param("ApproveReason", "Well done"),
            param("RejectIfKnownAnswerScoreIsLessThan", 100), param("RejectReason", "Not this")))
        right, wrong = self.worker(), self.worker()
        a = self.work(right, hit["HITId"], "Cat")
        b = self.work(wrong, hit["HITId"], "Dog")

        report = self.report(hit["HITId"])
        self.assertEqual(report["Assignment"][0], {
            (a, "category", "KnownAnswerCorrect", "1"), (a, None, "KnownAnswerScore", "100"),
            (b, "category", "KnownAnswerCorrect", "0"), (b, None, "KnownAnswerScore", "0")})
        self.assertEqual(report["Assignment"][1], sorted([
            ("approve", a, "Succeeded", "Approved"), ("reject", b, "Succeeded", "Rejected")]))
        self.assertEqual(report["HIT"], (set(), []))

        self.assertEqual((self.assignment(a)["AssignmentStatus"],
                          self.assignment(a)["RequesterFeedback"]), ("Approved", "Well done"))
        self.assertEqual((self.assignment(b)["AssignmentStatus"],
                          self.assignment(b)["RequesterFeedback"]), ("Rejected", "Not this"))

        answer = self.mturk.list_review_policy_results_for_hit(
            HITId=hit["HITId"], PolicyLevels=["Assignment"], RetrieveResults=True)
        self.assertEqual(answer["AssignmentReviewPolicy"]["PolicyName"], KNOWN_ANSWERS)
        self.assertNotIn("HITReviewReport", answer)
        self.assertEqual(len(answer["AssignmentReviewReport"]["ReviewResults"]), 4)
        self.assertEqual(answer["AssignmentReviewReport"].get("ReviewActions", []), [])

    def test_known_answers_of_shapes(self):
        """A JSON AnswerKey for a bounding box: scored by IoU, and the
        assignment's score is the mean of its questions'."""
        key = answer_key(category="Cat", boxes=json.dumps({"boundingBoxes": [
            dict(CAR, label="car")]}))
        hit = self.crowd_hit(3, title="Find the car (shapes)",
                             AssignmentReviewPolicy=known_policy(key=key))
        a = self.work(self.worker(), hit["HITId"], "Cat", [NEAR_CAR])
        b = self.work(self.worker(), hit["HITId"], "Cat", [FAR])
        c = self.work(self.worker(), hit["HITId"], "Dog", [])

        results, actions = self.report(hit["HITId"])["Assignment"]
        self.assertEqual(results, {
            (a, "category", "KnownAnswerCorrect", "1"), (a, "boxes", "KnownAnswerCorrect", "1"),
            (a, None, "KnownAnswerScore", "100"),
            (b, "category", "KnownAnswerCorrect", "1"), (b, "boxes", "KnownAnswerCorrect", "0"),
            (b, None, "KnownAnswerScore", "50"),
            (c, "category", "KnownAnswerCorrect", "0"), (c, "boxes", "KnownAnswerCorrect", "0"),
            (c, None, "KnownAnswerScore", "0")})
        self.assertEqual(actions, [])
        for assignment_id in (a, b, c):
            self.assertEqual(self.assignment(assignment_id)["AssignmentStatus"], "Submitted")

    def test_known_answers_of_a_question_form(self):
        """A QuestionForm's free-text answer, compared as kp_consolidate_score()
        compares texts (case and surrounding space do not matter)."""
        hit = self.mturk.create_hit(
            MaxAssignments=2, LifetimeInSeconds=3600, AssignmentDurationInSeconds=600,
            Reward="0.05", Title="Name the animal", Description="One word",
            Question=question_form("animal"),
            AssignmentReviewPolicy=known_policy(
                param("ApproveIfKnownAnswerScoreIsAtLeast", 100),
                key=answer_key(animal="cat")))["HIT"]
        right, wrong = self.worker(), self.worker()
        a = right.accept_hit(hit["HITId"])["assignment_id"]
        right.submit(a, [free_text("animal", "  Cat ")])
        b = wrong.accept_hit(hit["HITId"])["assignment_id"]
        wrong.submit(b, [free_text("animal", "dog")])

        results, actions = self.report(hit["HITId"])["Assignment"]
        self.assertEqual(results, {
            (a, "animal", "KnownAnswerCorrect", "1"), (a, None, "KnownAnswerScore", "100"),
            (b, "animal", "KnownAnswerCorrect", "0"), (b, None, "KnownAnswerScore", "0")})
        self.assertEqual(actions, [("approve", a, "Succeeded", "Approved")])
        self.assertEqual(self.assignment(b)["AssignmentStatus"], "Submitted")

    def test_known_answers_extend(self):
        hit = self.crowd_hit(1, title="Find the car (extend)", AssignmentReviewPolicy=known_policy(
            param("ExtendIfKnownAnswerScoreIsLessThan", 100),
            param("ExtendMaximumAssignments", 3),
            param("ExtendMinimumTimeInSeconds", 7200)))
        hit_id = hit["HITId"]
        self.work(self.worker(), hit_id, "Dog")
        extended = self.mturk.get_hit(HITId=hit_id)["HIT"]
        self.assertEqual(extended["MaxAssignments"], 2)
        self.assertEqual(extended["HITStatus"], "Assignable")
        self.assertGreater(extended["Expiration"].timestamp(), time.time() + 7000)

        self.work(self.worker(), hit_id, "Dog")
        self.assertEqual(self.mturk.get_hit(HITId=hit_id)["HIT"]["MaxAssignments"], 3)
        self.work(self.worker(), hit_id, "Dog")
        final = self.mturk.get_hit(HITId=hit_id)["HIT"]
        self.assertEqual((final["MaxAssignments"], final["HITStatus"]), (3, "Reviewable"))

        actions = self.report(hit_id)["Assignment"][1]
        self.assertEqual(actions, sorted([
            ("extend", hit_id, "Succeeded", "Extended to 2 assignments"),
            ("extend", hit_id, "Succeeded", "Extended to 3 assignments"),
            ("extend", hit_id, "Succeeded",
             "The HIT already has 3 assignments, the most this policy extends it to")]))

    # --- the gold score as a qualification ---

    def test_gold_score_qualification(self):
        score_type = self.mturk.create_qualification_type(
            Name="Gold score", Description="Percentage right on gold questions",
            QualificationTypeStatus="Active")["QualificationType"]["QualificationTypeId"]
        policy = known_policy(param("ScoreQualificationTypeId", score_type),
                              param("RevokeScoreIfLessThan", 60),
                              param("MinimumKnownAnswers", 3))
        golds = [self.crowd_hit(2, title="Gold %d" % i, AssignmentReviewPolicy=policy)["HITId"]
                 for i in range(5)]
        gated = self.crowd_hit(1, title="Gated work", QualificationRequirements=[{
            "QualificationTypeId": score_type, "Comparator": "GreaterThanOrEqualTo",
            "IntegerValues": [60]}])["HITId"]
        worker = self.worker()

        self.assertRequestError(self.mturk.get_qualification_score,
                                QualificationTypeId=score_type, WorkerId=worker.worker_id,
                                turk_code="AWS.MechanicalTurk.QualificationDoesNotExist")
        expected = [("Cat", 100, "Granted"), ("Dog", 50, "Granted"), ("Cat", 66, "Granted"),
                    ("Dog", 50, "Revoked")]
        for hit_id, (label, value, status) in zip(golds, expected):
            self.work(worker, hit_id, label)
            got = self.score(score_type, worker)
            self.assertEqual((got["IntegerValue"], got["Status"]), (value, status), label)
        self.assertEqual(self.server.sql(
            "SELECT known, correct_micro FROM gold_scores WHERE worker_id = ?",
            (worker.worker_id,)), [(4, 2000000)])

        # Revoked: the gated HIT is closed to the worker…
        status, body = worker.call("POST", "/hits/%s/accept" % gated)
        self.assertEqual(status, 403, body)
        # …and a right answer later does not grant it again.
        self.work(worker, golds[4], "Cat")
        got = self.score(score_type, worker)
        self.assertEqual((got["IntegerValue"], got["Status"]), (50, "Revoked"))

        # Another worker who does well is granted, and may take the gated HIT.
        good = self.worker()
        self.work(good, golds[1], "Cat")
        self.assertEqual(self.score(score_type, good)["IntegerValue"], 100)
        self.assertTrue(good.accept_hit(gated)["assignment_id"])

    def test_auto_granted_at_accept(self):
        auto = self.mturk.create_qualification_type(
            Name="Auto", Description="Granted on request", QualificationTypeStatus="Active",
            AutoGranted=True, AutoGrantedValue=7)["QualificationType"]["QualificationTypeId"]
        title = "Auto granted work"
        hits = [self.crowd_hit(2, title=title, QualificationRequirements=[{
            "QualificationTypeId": auto, "Comparator": "GreaterThanOrEqualTo",
            "IntegerValues": [5]}])["HITId"] for _ in range(2)]
        worker = self.worker()

        groups = worker.groups(q=title)["groups"]
        self.assertEqual([g["standing"] for g in groups], ["qualified"])
        self.assertRequestError(self.mturk.get_qualification_score,
                                QualificationTypeId=auto, WorkerId=worker.worker_id,
                                turk_code="AWS.MechanicalTurk.QualificationDoesNotExist")
        worker.accept_hit(hits[0])
        got = self.score(auto, worker)
        self.assertEqual((got["IntegerValue"], got["Status"]), (7, "Granted"))

        # A revoked worker is not granted it again.
        revoked = self.worker()
        self.mturk.associate_qualification_with_worker(
            QualificationTypeId=auto, WorkerId=revoked.worker_id, IntegerValue=9)
        self.mturk.disassociate_qualification_from_worker(
            QualificationTypeId=auto, WorkerId=revoked.worker_id)
        status, body = revoked.call("POST", "/hits/%s/accept" % hits[1])
        self.assertEqual(status, 403, body)
        self.assertEqual(self.score(auto, revoked)["Status"], "Revoked")
        self.assertEqual([g["standing"] for g in revoked.groups(q=title)["groups"]],
                         ["not-qualified"])

    # --- SimplePlurality ---

    def test_plurality_approve_reject(self):
        hit = self.crowd_hit(3, title="Plurality", HITReviewPolicy=plurality_policy(
            param("ApproveIfWorkerAgreementScoreIsAtLeast", 100),
            param("RejectIfWorkerAgreementScoreIsLessThan", 100),
            param("RejectReason", "Disagreed")))
        hit_id = hit["HITId"]
        a = self.work(self.worker(), hit_id, "Cat")
        b = self.work(self.worker(), hit_id, "Dog")
        # Not Reviewable yet: nothing evaluated.
        self.assertEqual(self.report(hit_id)["HIT"], (set(), []))
        c = self.work(self.worker(), hit_id, "Cat")

        results, actions = self.report(hit_id)["HIT"]
        plurality = [r for r in results if r[2] == "PluralityAnswer"]
        self.assertEqual(len(plurality), 1)
        self.assertEqual(json.loads(plurality[0][3]), {"label": "Cat"})
        self.assertEqual(results - set(plurality), {
            (hit_id, "category", "PluralityLevel", "66"),
            (a, "category", "AgreedWithPlurality", "1"),
            (b, "category", "AgreedWithPlurality", "0"),
            (c, "category", "AgreedWithPlurality", "1"),
            (hit_id, None, "HITAgreementScore", "100"),
            (a, None, "WorkerAgreementScore", "100"),
            (b, None, "WorkerAgreementScore", "0"),
            (c, None, "WorkerAgreementScore", "100")})
        self.assertEqual(actions, sorted([("approve", a, "Succeeded", "Approved"),
                                          ("approve", c, "Succeeded", "Approved"),
                                          ("reject", b, "Succeeded", "Rejected")]))
        self.assertEqual(self.assignment(b)["RequesterFeedback"], "Disagreed")
        self.assertEqual(self.assignment(c)["AssignmentStatus"], "Approved")

    def test_refused_action_is_recorded_as_failed(self):
        """The requester approved an assignment the policy then rejects:
        RejectAssignment refuses, and the action says so."""
        hit = self.crowd_hit(2, title="Plurality refused", HITReviewPolicy=plurality_policy(
            param("RejectIfWorkerAgreementScoreIsLessThan", 100)))
        hit_id = hit["HITId"]
        a = self.work(self.worker(), hit_id, "Dog")
        self.mturk.approve_assignment(AssignmentId=a, RequesterFeedback="Thanks")
        # Three answers are needed for an agreed one at 50: none here, so
        # make the HIT bigger first.
        self.mturk.create_additional_assignments_for_hit(HITId=hit_id,
                                                         NumberOfAdditionalAssignments=1)
        b = self.work(self.worker(), hit_id, "Cat")
        c = self.work(self.worker(), hit_id, "Cat")

        answer = self.mturk.list_review_policy_results_for_hit(
            HITId=hit_id, PolicyLevels=["HIT"], RetrieveActions=True)
        actions = answer["HITReviewReport"]["ReviewActions"]
        self.assertEqual(len(actions), 1, actions)
        self.assertEqual((actions[0]["ActionName"], actions[0]["TargetId"],
                          actions[0]["TargetType"], actions[0]["Status"],
                          actions[0]["ErrorCode"]),
                         ("reject", a, "Assignment", "Failed",
                          "AWS.MechanicalTurk.InvalidAssignmentState"))
        self.assertIn("Approved", actions[0]["Result"])
        self.assertEqual(self.assignment(a)["AssignmentStatus"], "Approved")
        for other in (b, c):
            self.assertEqual(self.assignment(other)["AssignmentStatus"], "Submitted")

    def test_plurality_extends_until_agreement(self):
        hit = self.crowd_hit(2, title="Plurality extend", HITReviewPolicy=plurality_policy(
            param("ExtendIfHITAgreementScoreIsLessThan", 100),
            param("ExtendMaximumAssignments", 4),
            param("ExtendMinimumTimeInSeconds", 3600),
            param("ApproveIfWorkerAgreementScoreIsAtLeast", 100),
            param("RejectIfWorkerAgreementScoreIsLessThan", 100)))
        hit_id = hit["HITId"]
        a = self.work(self.worker(), hit_id, "Cat")
        b = self.work(self.worker(), hit_id, "Dog")

        results, actions = self.report(hit_id)["HIT"]
        self.assertIn((hit_id, "category", "PluralityLevel", "50"), results)
        self.assertIn((hit_id, None, "HITAgreementScore", "0"), results)
        self.assertFalse([r for r in results if r[2] == "WorkerAgreementScore"])
        self.assertEqual(actions, [("extend", hit_id, "Succeeded", "Extended to 3 assignments")])
        self.assertEqual(self.mturk.get_hit(HITId=hit_id)["HIT"]["HITStatus"], "Assignable")

        c = self.work(self.worker(), hit_id, "Cat")
        results, actions = self.report(hit_id)["HIT"]
        # The second evaluation replaced the first one's results.
        self.assertEqual([r for r in results if r[2] == "PluralityLevel"],
                         [(hit_id, "category", "PluralityLevel", "66")])
        self.assertIn((hit_id, None, "HITAgreementScore", "100"), results)
        self.assertEqual(actions, sorted([
            ("extend", hit_id, "Succeeded", "Extended to 3 assignments"),
            ("approve", a, "Succeeded", "Approved"), ("approve", c, "Succeeded", "Approved"),
            ("reject", b, "Succeeded", "Rejected")]))
        self.assertEqual(self.mturk.get_hit(HITId=hit_id)["HIT"]["HITStatus"], "Reviewable")

    def test_plurality_disregards_rejected_gold_answers(self):
        hit = self.crowd_hit(3, title="Both policies",
                             AssignmentReviewPolicy=known_policy(
                                 param("RejectIfKnownAnswerScoreIsLessThan", 100)),
                             HITReviewPolicy=plurality_policy(
                                 param("DisregardAssignmentIfRejected", "true"),
                                 param("ApproveIfWorkerAgreementScoreIsAtLeast", 100)))
        hit_id = hit["HITId"]
        a = self.work(self.worker(), hit_id, "Dog")
        b = self.work(self.worker(), hit_id, "Dog")
        c = self.work(self.worker(), hit_id, "Cat")

        results, actions = self.report(hit_id)["HIT"]
        self.assertIn((hit_id, "category", "PluralityLevel", "100"), results)
        self.assertEqual({r[0] for r in results if r[2] == "AgreedWithPlurality"}, {c})
        self.assertEqual(actions, [("approve", c, "Succeeded", "Approved")])
        self.assertEqual([self.assignment(x)["AssignmentStatus"] for x in (a, b, c)],
                         ["Rejected", "Rejected", "Approved"])

        # The same by known-answer score instead of the rejection.
        hit = self.crowd_hit(3, title="Both policies by score",
                             AssignmentReviewPolicy=known_policy(),
                             HITReviewPolicy=plurality_policy(
                                 param("DisregardAssignmentIfKnownAnswerScoreIsLessThan", 50)))
        hit_id = hit["HITId"]
        for label in ("Dog", "Dog", "Cat"):
            self.work(self.worker(), hit_id, label)
        results = self.report(hit_id)["HIT"][0]
        self.assertIn((hit_id, "category", "PluralityLevel", "100"), results)
        self.assertEqual(json.loads([r for r in results if r[2] == "PluralityAnswer"][0][3]),
                         {"label": "Cat"})

    # --- validation ---

    def test_bad_parameters_are_refused(self):
        other = self.server.create_requester()
        foreign = self.server.mturk(other).create_qualification_type(
            Name="Theirs", Description="Another requester's",
            QualificationTypeStatus="Active")["QualificationType"]["QualificationTypeId"]
        bad_known = [
            [answer_key(category="Cat"), param("ApproveIfKnownAnswerScoreIsAbove", 50)],
            [answer_key(category="Cat"), param("ApproveIfKnownAnswerScoreIsAtLeast", "lots")],
            [answer_key(category="Cat"), param("RejectIfKnownAnswerScoreIsLessThan", 102)],
            [answer_key(category="Cat"), param("ExtendMaximumAssignments", 30)],
            [answer_key(category="Cat"), param("ApproveIfKnownAnswerScoreIsAtLeast", 50, 60)],
            [answer_key(category="Cat"), param("ApproveReason", "x"),
             param("ApproveReason", "y")],
            [param("ApproveIfKnownAnswerScoreIsAtLeast", 50)],
            [{"Key": "AnswerKey", "MapEntries": []}],
            [answer_key(category="Cat"), param("RevokeScoreIfLessThan", 50)],
            [answer_key(category="Cat"), param("MinimumKnownAnswers", 0)],
        ]
        for parameters in bad_known:
            self.assertRequestError(self.crowd_hit, AssignmentReviewPolicy={
                "PolicyName": KNOWN_ANSWERS, "Parameters": parameters},
                turk_code="AWS.MechanicalTurk.ParameterValidation")
        for type_id in (foreign, "3NOSUCHTYPE0000000000000000000"):
            self.assertRequestError(self.crowd_hit, AssignmentReviewPolicy=known_policy(
                param("ScoreQualificationTypeId", type_id)),
                turk_code="AWS.MechanicalTurk.QualificationTypeDoesNotExist")

        bad_plurality = [
            [param("QuestionAgreementThreshold", 50)],
            [param("QuestionIds", "category")],
            [param("QuestionIds", " , "), param("QuestionAgreementThreshold", 50)],
            [param("QuestionIds", "category"), param("QuestionAgreementThreshold", 50),
             param("DisregardAssignmentIfRejected", "maybe")],
            [param("QuestionIds", "category"), param("QuestionAgreementThreshold", 50),
             param("ExtendIfHITAgreementScoreIsLessThan", 50)],
            [param("QuestionIds", "category"), param("QuestionAgreementThreshold", 50),
             param("ExtendIfHITAgreementScoreIsLessThan", 50),
             param("ExtendMaximumAssignments", 5), param("ExtendMinimumTimeInSeconds", 60)],
            [param("QuestionIds", "category"), param("QuestionAgreementThreshold", 50),
             answer_key(category="Cat")],
        ]
        for parameters in bad_plurality:
            self.assertRequestError(self.crowd_hit, HITReviewPolicy={
                "PolicyName": PLURALITY, "Parameters": parameters},
                turk_code="AWS.MechanicalTurk.ParameterValidation")

    # --- what workers see ---

    def test_gold_hits_look_like_any_other(self):
        title = "Indistinguishable"
        gold = self.crowd_hit(1, title=title, RequesterAnnotation="gold question",
                              AssignmentReviewPolicy=known_policy(
                                  param("ApproveIfKnownAnswerScoreIsAtLeast", 0)),
                              HITReviewPolicy=plurality_policy())["HITId"]
        plain = self.crowd_hit(1, title=title, RequesterAnnotation="plain")["HITId"]
        worker = self.worker()

        def shape(value):
            if isinstance(value, dict):
                return {k: shape(v) for k, v in value.items()}
            if isinstance(value, list):
                return [shape(v) for v in value]
            return type(value).__name__

        group = worker.groups(q=title)["groups"]
        self.assertEqual(len(group), 1)
        gold_view, plain_view = worker.hit(gold), worker.hit(plain)
        self.assertEqual(shape(gold_view), shape(plain_view))
        for text in (json.dumps(gold_view), json.dumps(worker.group(group[0]["hit_type_id"]))):
            for secret in ("gold", "AnswerKey", "ScoreMyKnownAnswers", "SimplePlurality",
                           "Policy", "annotation"):
                self.assertNotIn(secret, text)

        views = []
        for hit_id in (gold, plain):
            accepted = worker.accept_hit(hit_id)
            views.append(shape(accepted))
            views.append(shape(worker.assignment(accepted["assignment_id"])))
        self.assertEqual(views[0], views[2])
        self.assertEqual(views[1], views[3])



class PolicyAtExpiryTestCase(PolicyTestCase):
    """SimplePlurality also runs when the HIT becomes Reviewable because its
    lifetime ended, on the background jobs' clock."""

    FAKE_TIME = True

    def test_plurality_at_expiry(self):
        policy = plurality_policy(param("ApproveIfWorkerAgreementScoreIsAtLeast", 100),
                                  param("ExtendIfHITAgreementScoreIsLessThan", 100),
                                  param("ExtendMaximumAssignments", 4),
                                  param("ExtendMinimumTimeInSeconds", 3600))
        agreed = self.crowd_hit(3, title="Expiring", LifetimeInSeconds=60,
                                HITReviewPolicy=policy)["HITId"]
        split = self.crowd_hit(3, title="Expiring split", LifetimeInSeconds=60,
                               HITReviewPolicy=policy)["HITId"]
        a = self.work(self.worker(), agreed, "Cat")
        b = self.work(self.worker(), agreed, "Cat")
        self.work(self.worker(), split, "Cat")
        self.work(self.worker(), split, "Dog")
        self.assertEqual(self.report(agreed)["HIT"], (set(), []))

        self.server.advance(90)
        self.server.wait_for_jobs()
        results, actions = self.report(agreed)["HIT"]
        self.assertIn((agreed, "category", "PluralityLevel", "100"), results)
        self.assertEqual(actions, sorted([("approve", a, "Succeeded", "Approved"),
                                          ("approve", b, "Succeeded", "Approved")]))
        self.assertEqual(self.mturk.get_hit(HITId=agreed)["HIT"]["HITStatus"], "Reviewable")

        # No agreement: one more assignment, and an hour to do it in.
        self.assertEqual(self.report(split)["HIT"][1],
                         [("extend", split, "Succeeded", "Extended to 4 assignments")])
        extended = self.mturk.get_hit(HITId=split)["HIT"]
        self.assertEqual((extended["MaxAssignments"], extended["HITStatus"]), (4, "Assignable"))


if __name__ == "__main__":
    main()
