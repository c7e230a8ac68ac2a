# SPDX-License-Identifier: GPL-3.0-or-later
"""HITs and HIT types through boto3: creation, validation, listings,
expiration, review status, deletion, additional assignments, review policy
results, idempotency tokens, isolation between requesters and balance."""

import contextlib
import datetime
import json
import os
import sys
import types
import unittest.mock

sys.path.insert(0, os.path.dirname(__file__))

import boto3
import botocore.auth
import botocore.config

from kpserver import KpTestCase, html_question, main, question_form

EXTERNAL_QUESTION = (
    '<ExternalQuestion xmlns="http://mechanicalturk.amazonaws.com/'
    'AWSMechanicalTurkDataSchemas/2006-07-14/ExternalQuestion.xsd">'
    '<ExternalURL>https://example.com/task?x=1</ExternalURL>'
    '<FrameHeight>600</FrameHeight></ExternalQuestion>')


def type_params(**overrides):
    params = dict(AssignmentDurationInSeconds=600, Reward="0.25",
                  Title="Tag the photo", Description="Pick every tag that fits",
                  Keywords="photo, tags", AutoApprovalDelayInSeconds=3600)
    params.update(overrides)
    return params


@contextlib.contextmanager
def client_clock(seconds):
    """Signs botocore's requests as if seconds had passed (to follow the
    server's fake clock past SigV4's 15-minute window). seconds may be a
    callable giving the offset at each request."""
    real = datetime.datetime
    offset = seconds if callable(seconds) else (lambda: seconds)

    class Shifted(real):
        @classmethod
        def utcnow(cls):
            return real.utcnow() + datetime.timedelta(seconds=offset())

    shifted = types.SimpleNamespace(**{**vars(datetime), "datetime": Shifted})
    with contextlib.ExitStack() as stack:
        # botocore signs with awscrt's signer when it is installed.
        for module in ("botocore.auth", "botocore.crt.auth"):
            if module in sys.modules:
                stack.enter_context(unittest.mock.patch.object(
                    sys.modules[module], "datetime", shifted))
        yield


class FollowServerClock:
    """For FAKE_TIME test classes: the clients sign with the server's fake
    time, so the clock can move by days."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._clock = contextlib.ExitStack()
        cls._clock.enter_context(client_clock(lambda: cls.server.offset))

    @classmethod
    def tearDownClass(cls):
        cls._clock.close()
        super().tearDownClass()


class HitMixin:

    def unvalidated(self, requester=None):
        """A client that lets botocore send anything, so that the server's
        own validation is what is tested."""
        requester = requester or self.requester
        client = boto3.client(
            "mturk", endpoint_url=self.server.url, region_name="us-east-1",
            aws_access_key_id=requester["AccessKeyId"],
            aws_secret_access_key=requester["SecretAccessKey"],
            config=botocore.config.Config(parameter_validation=False,
                                          retries={"total_max_attempts": 1}))
        self.addCleanup(client.close)
        return client

    def client_for(self, requester):
        """server.mturk(), closed at the end of the test."""
        client = self.server.mturk(requester)
        self.addCleanup(client.close)
        return client

    def balance(self, mturk=None):
        return (mturk or self.mturk).get_account_balance()

    def available(self, mturk=None):
        return self.balance(mturk)["AvailableBalance"]


class HitsTest(HitMixin, KpTestCase):

    def test_create_hit_answers_the_whole_hit(self):
        hit = self.create_hit(MaxAssignments=3, Keywords="cars, boxes",
                              RequesterAnnotation="batch-7", AutoApprovalDelayInSeconds=7200)

        self.assertRegex(hit["HITId"], r"^[A-Z0-9]{30}$")
        self.assertRegex(hit["HITTypeId"], r"^[A-Z0-9]+$")
        self.assertEqual(hit["HITGroupId"], hit["HITTypeId"])
        self.assertEqual(hit["Title"], "Label the picture")
        self.assertEqual(hit["Description"], "Draw boxes around cars")
        self.assertEqual(hit["Keywords"], "cars, boxes")
        self.assertEqual(hit["Question"], question_form())
        self.assertEqual(hit["HITStatus"], "Assignable")
        self.assertEqual(hit["HITReviewStatus"], "NotReviewed")
        self.assertEqual(hit["MaxAssignments"], 3)
        self.assertEqual(hit["Reward"], "0.10")
        self.assertEqual(hit["AutoApprovalDelayInSeconds"], 7200)
        self.assertEqual(hit["AssignmentDurationInSeconds"], 600)
        self.assertEqual(hit["RequesterAnnotation"], "batch-7")
        self.assertEqual(hit["QualificationRequirements"], [])
        self.assertEqual(hit["NumberOfAssignmentsAvailable"], 3)
        self.assertEqual(hit["NumberOfAssignmentsPending"], 0)
        self.assertEqual(hit["NumberOfAssignmentsCompleted"], 0)
        self.assertIsInstance(hit["CreationTime"], datetime.datetime)
        lifetime = hit["Expiration"] - hit["CreationTime"]
        self.assertEqual(lifetime.total_seconds(), 3600)

        got = self.mturk.get_hit(HITId=hit["HITId"])["HIT"]
        self.assertEqual(got, hit)

    def test_defaults(self):
        params = dict(LifetimeInSeconds=3600, AssignmentDurationInSeconds=600, Reward="1",
                      Title="Defaults", Description="Nothing optional given",
                      Question=question_form())
        hit = self.mturk.create_hit(**params)["HIT"]
        self.assertEqual(hit["MaxAssignments"], 1)
        self.assertEqual(hit["AutoApprovalDelayInSeconds"], 2592000)
        self.assertEqual(hit["Reward"], "1.00")
        self.assertNotIn("Keywords", hit)
        self.assertNotIn("RequesterAnnotation", hit)

    def test_every_question_kind(self):
        for question in (question_form(), html_question(), EXTERNAL_QUESTION):
            hit = self.create_hit(Question=question)
            self.assertEqual(self.mturk.get_hit(HITId=hit["HITId"])["HIT"]["Question"], question)

    def test_same_properties_give_the_same_hit_type(self):
        first = self.mturk.create_hit_type(**type_params())["HITTypeId"]
        again = self.mturk.create_hit_type(**type_params())["HITTypeId"]
        self.assertEqual(first, again)

        for change in (dict(Reward="0.26"), dict(Title="Tag the photos"),
                       dict(Description="Other"), dict(Keywords="photo"),
                       dict(AssignmentDurationInSeconds=601),
                       dict(AutoApprovalDelayInSeconds=3601)):
            other = self.mturk.create_hit_type(**type_params(**change))["HITTypeId"]
            self.assertNotEqual(other, first, change)

        # CreateHIT with the same properties lands in the same type.
        hit = self.mturk.create_hit(LifetimeInSeconds=3600, Question=question_form(),
                                    **type_params())["HIT"]
        self.assertEqual(hit["HITTypeId"], first)

        # Equal qualification requirements, however they are spelled.
        locale = {"QualificationTypeId": "00000000000000000071", "Comparator": "In",
                  "LocaleValues": [{"Country": "DE"}, {"Country": "AT"}],
                  "ActionsGuarded": "Accept"}
        respelled = {"ActionsGuarded": "Accept", "Comparator": "In",
                     "LocaleValues": [{"Country": "DE"}, {"Country": "AT"}],
                     "QualificationTypeId": "00000000000000000071"}
        with_locale = self.mturk.create_hit_type(
            **type_params(QualificationRequirements=[locale]))["HITTypeId"]
        self.assertNotEqual(with_locale, first)
        self.assertEqual(self.mturk.create_hit_type(
            **type_params(QualificationRequirements=[respelled]))["HITTypeId"], with_locale)
        stricter = dict(locale, ActionsGuarded="DiscoverPreviewAndAccept")
        self.assertNotEqual(self.mturk.create_hit_type(
            **type_params(QualificationRequirements=[stricter]))["HITTypeId"], with_locale)
        self.assertRequestError(self.mturk.create_hit_type, **type_params(
            QualificationRequirements=[dict(locale, QualificationTypeId="3NOSUCHTYPE00")]))

        # Another requester gets a type of their own.
        other_requester = self.server.create_requester()
        theirs = self.client_for(other_requester).create_hit_type(**type_params())
        self.assertNotEqual(theirs["HITTypeId"], first)

    def test_create_hit_with_hit_type(self):
        hit_type_id = self.mturk.create_hit_type(**type_params(Reward="0.30"))["HITTypeId"]
        hit = self.mturk.create_hit_with_hit_type(
            HITTypeId=hit_type_id, MaxAssignments=2, LifetimeInSeconds=600,
            Question=html_question(), RequesterAnnotation="x")["HIT"]
        self.assertEqual(hit["HITTypeId"], hit_type_id)
        self.assertEqual(hit["Title"], "Tag the photo")
        self.assertEqual(hit["Reward"], "0.30")
        self.assertEqual(hit["Keywords"], "photo, tags")
        self.assertEqual(hit["AutoApprovalDelayInSeconds"], 3600)
        self.assertEqual(hit["MaxAssignments"], 2)

        self.assertRequestError(self.mturk.create_hit_with_hit_type,
                                HITTypeId="3NOSUCHTYPE0000000000000000000",
                                LifetimeInSeconds=600, Question=html_question())

        other = self.client_for(self.server.create_requester())
        self.assertRequestError(other.create_hit_with_hit_type, HITTypeId=hit_type_id,
                                LifetimeInSeconds=600, Question=html_question())

    def test_invalid_parameters_are_refused(self):
        bad = [
            dict(Title=""),
            dict(Title="x" * 129),
            dict(Description=""),
            dict(Description="x" * 2001),
            dict(Keywords="x" * 1001),
            dict(LifetimeInSeconds=29),
            dict(LifetimeInSeconds=31536001),
            dict(AssignmentDurationInSeconds=29),
            dict(AssignmentDurationInSeconds=31536001),
            dict(AutoApprovalDelayInSeconds=-1),
            dict(AutoApprovalDelayInSeconds=2592001),
            dict(MaxAssignments=0),
            dict(MaxAssignments=1000001),
            dict(Reward="ten"),
            dict(Reward="0.101"),
            dict(Reward="-1"),
            dict(RequesterAnnotation="x" * 256),
            dict(UniqueRequestToken="x" * 65),
        ]
        count = len(self.mturk.list_hits(MaxResults=100)["HITs"])
        for change in bad:
            with self.subTest(change=change):
                self.assertRequestError(self.create_hit, mturk=self.unvalidated(), **change)
        self.assertEqual(len(self.mturk.list_hits(MaxResults=100)["HITs"]), count)

    def test_wrong_types_are_refused(self):
        client = self.unvalidated()
        for change in (dict(MaxAssignments="3"), dict(LifetimeInSeconds=3600.5),
                       dict(Title=7), dict(Reward=0.1), dict(MaxAssignments=True),
                       dict(RequesterAnnotation=["a"])):
            with self.subTest(change=change):
                self.assertRequestError(self.create_hit, mturk=client, **change)

    def test_questions_are_checked(self):
        e = self.assertRequestError(self.create_hit, Question="<QuestionForm>")
        self.assertTrue(e.response["Error"]["Message"])
        self.assertRequestError(self.create_hit, Question="<Foo xmlns='urn:x'/>")
        self.assertRequestError(self.create_hit, Question=question_form().replace(
            "<QuestionIdentifier>q1</QuestionIdentifier>", ""))
        self.assertRequestError(self.create_hit, Question=None, mturk=self.unvalidated())

    def test_hit_layouts_are_refused_clearly(self):
        self.assertRequestError(self.create_hit, Question=None, HITLayoutId="3LAYOUT",
                                HITLayoutParameters=[{"Name": "a", "Value": "b"}],
                                mturk=self.unvalidated(),
                                turk_code="AWS.MechanicalTurk.HITLayoutDoesNotExist")

    def test_review_policies_are_checked_and_kept(self):
        policy = {"PolicyName": "ScoreMyKnownAnswers/2011-09-01",
                  "Parameters": [{"Key": "AnswerKey",
                                  "MapEntries": [{"Key": "q1", "Values": ["cat"]}]},
                                 {"Key": "ApproveIfKnownAnswerScoreIsAtLeast",
                                  "Values": ["80"]}]}
        hit = self.create_hit(AssignmentReviewPolicy=policy)
        results = self.mturk.list_review_policy_results_for_hit(HITId=hit["HITId"])
        self.assertEqual(results["HITId"], hit["HITId"])
        self.assertEqual(results["AssignmentReviewPolicy"], policy)
        self.assertNotIn("HITReviewPolicy", results)
        self.assertEqual(results["AssignmentReviewReport"],
                         {"ReviewResults": [], "ReviewActions": []})
        self.assertNotIn("NextToken", results)

        only_hit_level = self.mturk.list_review_policy_results_for_hit(
            HITId=hit["HITId"], PolicyLevels=["HIT"], RetrieveResults=True)
        self.assertNotIn("AssignmentReviewPolicy", only_hit_level)
        self.assertEqual(only_hit_level["HITReviewReport"]["ReviewResults"], [])

        self.assertRequestError(self.create_hit,
                                AssignmentReviewPolicy={"PolicyName": "Nonsense/1"})
        self.assertRequestError(self.create_hit,
                                HITReviewPolicy={"PolicyName": "ScoreMyKnownAnswers/2011-09-01"})
        self.assertRequestError(self.unvalidated().list_review_policy_results_for_hit,
                                HITId=hit["HITId"], PolicyLevels=["Everything"])
        self.assertRequestError(self.mturk.list_review_policy_results_for_hit,
                                HITId="3NOSUCHHIT00000000000000000000",
                                turk_code="AWS.MechanicalTurk.HITDoesNotExist")

    def test_review_policy_results_filters_and_pages(self):
        # Evaluating policies is not this module's work: store results as
        # the evaluator would, then read them back.
        hit_id = self.create_hit()["HITId"]
        rows = []
        for i in range(3):
            rows.append(("R%d" % i, "Assignment", "ScoreMyKnownAnswers/2011-09-01", "result",
                         {"ActionId": "R%d" % i, "SubjectId": "3ASSIGNMENT%d" % i,
                          "SubjectType": "Assignment", "Key": "KnownAnswerScore",
                          "Value": str(50 + i)}))
        rows.append(("A0", "HIT", "SimplePlurality/2011-09-01", "action",
                     {"ActionId": "A0", "ActionName": "Extend", "TargetId": hit_id,
                      "TargetType": "HIT", "Status": "SUCCEEDED", "Result": "Extended"}))
        for n, (row_id, level, name, kind, body) in enumerate(rows):
            self.server.sql("INSERT INTO review_results (id, hit_id, policy_level, "
                            "policy_name, kind, body, created) VALUES (?, ?, ?, ?, ?, ?, ?)",
                            (row_id, hit_id, level, name, kind, json.dumps(body), 1000 + n))

        # Nothing is retrieved unless asked for.
        bare = self.mturk.list_review_policy_results_for_hit(HITId=hit_id)
        self.assertEqual(bare["AssignmentReviewReport"], {"ReviewResults": [],
                                                          "ReviewActions": []})

        first = self.mturk.list_review_policy_results_for_hit(
            HITId=hit_id, RetrieveResults=True, PolicyLevels=["Assignment"], MaxResults=2)
        self.assertEqual([r["ActionId"] for r in
                          first["AssignmentReviewReport"]["ReviewResults"]], ["R0", "R1"])
        self.assertEqual(first["AssignmentReviewReport"]["ReviewResults"][0]["Value"], "50")
        self.assertNotIn("HITReviewReport", first)
        second = self.mturk.list_review_policy_results_for_hit(
            HITId=hit_id, RetrieveResults=True, PolicyLevels=["Assignment"], MaxResults=2,
            NextToken=first["NextToken"])
        self.assertEqual([r["ActionId"] for r in
                          second["AssignmentReviewReport"]["ReviewResults"]], ["R2"])
        self.assertNotIn("NextToken", second)

        actions = self.mturk.list_review_policy_results_for_hit(
            HITId=hit_id, RetrieveActions=True)
        self.assertEqual(actions["HITReviewReport"]["ReviewActions"][0]["Status"], "SUCCEEDED")
        self.assertEqual(actions["AssignmentReviewReport"]["ReviewResults"], [])
        everything = self.mturk.list_review_policy_results_for_hit(
            HITId=hit_id, RetrieveActions=True, RetrieveResults=True, MaxResults=100)
        self.assertEqual(len(everything["AssignmentReviewReport"]["ReviewResults"]), 3)
        self.assertEqual(len(everything["HITReviewReport"]["ReviewActions"]), 1)
        self.assertRequestError(self.mturk.list_review_policy_results_for_hit,
                                HITId=hit_id, NextToken="Zm9yZ2VkfDEyMw==")

    def test_unknown_and_foreign_hits_do_not_exist(self):
        hit = self.create_hit()
        other = self.client_for(self.server.create_requester())
        for client, hit_id in ((self.mturk, "3NOSUCHHIT00000000000000000000"),
                               (other, hit["HITId"])):
            with self.subTest(hit_id=hit_id):
                self.assertRequestError(client.get_hit, HITId=hit_id,
                                        turk_code="AWS.MechanicalTurk.HITDoesNotExist")
                self.assertRequestError(client.delete_hit, HITId=hit_id,
                                        turk_code="AWS.MechanicalTurk.HITDoesNotExist")
                self.assertRequestError(client.update_expiration_for_hit, HITId=hit_id,
                                        ExpireAt=datetime.datetime(2020, 1, 1),
                                        turk_code="AWS.MechanicalTurk.HITDoesNotExist")
                self.assertRequestError(client.update_hit_review_status, HITId=hit_id,
                                        turk_code="AWS.MechanicalTurk.HITDoesNotExist")
                self.assertRequestError(client.create_additional_assignments_for_hit,
                                        HITId=hit_id, NumberOfAdditionalAssignments=1,
                                        turk_code="AWS.MechanicalTurk.HITDoesNotExist")
                self.assertRequestError(client.list_assignments_for_hit, HITId=hit_id,
                                        turk_code="AWS.MechanicalTurk.HITDoesNotExist")
        self.assertNotIn(hit["HITId"], [h["HITId"] for h in other.list_hits()["HITs"]])
        # Still untouched for its owner.
        self.assertEqual(self.mturk.get_hit(HITId=hit["HITId"])["HIT"]["HITStatus"],
                         "Assignable")
        self.assertRequestError(self.mturk.get_hit, HITId="not-an-id")

    def test_list_hits_pages(self):
        mturk = self.client_for(self.server.create_requester())
        created = {self.create_hit(mturk=mturk)["HITId"] for _ in range(5)}

        seen = []
        pages = []
        kwargs = {"MaxResults": 2}
        while True:
            page = mturk.list_hits(**kwargs)
            pages.append(page["NumResults"])
            self.assertEqual(page["NumResults"], len(page["HITs"]))
            seen += [h["HITId"] for h in page["HITs"]]
            if "NextToken" not in page:
                break
            kwargs["NextToken"] = page["NextToken"]
        self.assertEqual(pages, [2, 2, 1])
        self.assertEqual(len(seen), 5)
        self.assertEqual(set(seen), created)

        everything = mturk.list_hits(MaxResults=100)
        self.assertEqual(everything["NumResults"], 5)
        self.assertNotIn("NextToken", everything)
        self.assertEqual(mturk.list_hits()["NumResults"], 5)

        client = self.unvalidated()
        self.assertRequestError(client.list_hits, MaxResults=0)
        self.assertRequestError(client.list_hits, MaxResults=101)
        self.assertRequestError(mturk.list_hits, NextToken="Zm9yZ2VkfDEyMw==")
        first = mturk.list_hits(MaxResults=2)["NextToken"]
        self.assertRequestError(mturk.list_reviewable_hits, NextToken=first)

    def test_list_hits_for_qualification_type(self):
        requirement = {"QualificationTypeId": "00000000000000000071",
                       "Comparator": "EqualTo", "LocaleValues": [{"Country": "DE"}]}
        with_locale = self.create_hit(Title="Local task",
                                      QualificationRequirements=[requirement])
        without = self.create_hit()
        listed = self.mturk.list_hits_for_qualification_type(
            QualificationTypeId="00000000000000000071", MaxResults=100)
        ids = [h["HITId"] for h in listed["HITs"]]
        self.assertIn(with_locale["HITId"], ids)
        self.assertNotIn(without["HITId"], ids)
        self.assertEqual(listed["HITs"][ids.index(with_locale["HITId"])]
                         ["QualificationRequirements"][0]["QualificationTypeId"],
                         "00000000000000000071")
        self.assertRequestError(self.mturk.list_hits_for_qualification_type,
                                QualificationTypeId="3NOSUCHQUALTYPE000000000000000")

        # The requester's own qualification types, and nobody else's.
        qual = self.mturk.create_qualification_type(
            Name="Trusted annotator (hits test)", Description="Did well before",
            QualificationTypeStatus="Active")["QualificationType"]["QualificationTypeId"]
        trusted = self.create_hit(QualificationRequirements=[
            {"QualificationTypeId": qual, "Comparator": "Exists"}])
        listed = self.mturk.list_hits_for_qualification_type(QualificationTypeId=qual)
        self.assertEqual([h["HITId"] for h in listed["HITs"]], [trusted["HITId"]])
        other = self.client_for(self.server.create_requester())
        self.assertRequestError(other.list_hits_for_qualification_type,
                                QualificationTypeId=qual)

    def test_expire_and_extend(self):
        hit = self.create_hit(MaxAssignments=2)
        hit_id = hit["HITId"]
        self.mturk.update_expiration_for_hit(HITId=hit_id,
                                             ExpireAt=datetime.datetime(2015, 1, 1))
        expired = self.mturk.get_hit(HITId=hit_id)["HIT"]
        # Expired with nothing pending: Reviewable, nothing left to accept.
        self.assertEqual(expired["HITStatus"], "Reviewable")
        self.assertEqual(expired["NumberOfAssignmentsAvailable"], 0)
        self.assertLessEqual(expired["Expiration"].timestamp(), self.server.now() + 1)
        reviewable = [h["HITId"] for h in
                      self.mturk.list_reviewable_hits(MaxResults=100)["HITs"]]
        self.assertIn(hit_id, reviewable)

        # Extending an expired HIT makes it Assignable again.
        later = datetime.datetime.fromtimestamp(self.server.now() + 7200, datetime.timezone.utc)
        self.mturk.update_expiration_for_hit(HITId=hit_id, ExpireAt=later)
        extended = self.mturk.get_hit(HITId=hit_id)["HIT"]
        self.assertEqual(extended["HITStatus"], "Assignable")
        self.assertEqual(extended["NumberOfAssignmentsAvailable"], 2)
        self.assertAlmostEqual(extended["Expiration"].timestamp(), later.timestamp(), delta=1)

        too_late = datetime.datetime.fromtimestamp(self.server.now() + 2 * 31536000)
        self.assertRequestError(self.mturk.update_expiration_for_hit, HITId=hit_id,
                                ExpireAt=too_late)

    def test_review_status(self):
        hit_id = self.create_hit()["HITId"]
        # Only a Reviewable HIT can be set to Reviewing.
        self.assertRequestError(self.mturk.update_hit_review_status, HITId=hit_id,
                                turk_code="AWS.MechanicalTurk.InvalidHITState")
        self.mturk.update_expiration_for_hit(HITId=hit_id, ExpireAt=datetime.datetime(2015, 1, 1))
        self.mturk.update_hit_review_status(HITId=hit_id, Revert=False)
        self.assertEqual(self.mturk.get_hit(HITId=hit_id)["HIT"]["HITStatus"], "Reviewing")
        reviewing = self.mturk.list_reviewable_hits(Status="Reviewing", MaxResults=100)
        self.assertIn(hit_id, [h["HITId"] for h in reviewing["HITs"]])
        reviewable = self.mturk.list_reviewable_hits(MaxResults=100)
        self.assertNotIn(hit_id, [h["HITId"] for h in reviewable["HITs"]])
        self.assertRequestError(self.mturk.update_hit_review_status, HITId=hit_id)

        self.mturk.update_hit_review_status(HITId=hit_id, Revert=True)
        self.assertEqual(self.mturk.get_hit(HITId=hit_id)["HIT"]["HITStatus"], "Reviewable")
        self.assertRequestError(self.mturk.update_hit_review_status, HITId=hit_id, Revert=True)
        self.assertRequestError(self.unvalidated().list_reviewable_hits, Status="Assignable")

    def test_list_reviewable_hits_by_type(self):
        mturk = self.client_for(self.server.create_requester())
        a = self.create_hit(mturk=mturk, Title="Type A")
        b = self.create_hit(mturk=mturk, Title="Type B")
        for hit in (a, b):
            mturk.update_expiration_for_hit(HITId=hit["HITId"],
                                            ExpireAt=datetime.datetime(2015, 1, 1))
        listed = mturk.list_reviewable_hits(HITTypeId=a["HITTypeId"])
        self.assertEqual([h["HITId"] for h in listed["HITs"]], [a["HITId"]])
        self.assertEqual(mturk.list_reviewable_hits()["NumResults"], 2)

    def test_update_hit_type_of_hit(self):
        hit = self.create_hit()
        new_type = self.mturk.create_hit_type(**type_params(Title="Renamed", Reward="0.50"))
        self.mturk.update_hit_type_of_hit(HITId=hit["HITId"], HITTypeId=new_type["HITTypeId"])
        got = self.mturk.get_hit(HITId=hit["HITId"])["HIT"]
        self.assertEqual(got["HITTypeId"], new_type["HITTypeId"])
        self.assertEqual(got["Title"], "Renamed")
        self.assertEqual(got["Reward"], "0.50")
        self.assertRequestError(self.mturk.update_hit_type_of_hit, HITId=hit["HITId"],
                                HITTypeId="3NOSUCHTYPE0000000000000000000")
        other = self.client_for(self.server.create_requester())
        foreign_type = other.create_hit_type(**type_params())["HITTypeId"]
        self.assertRequestError(self.mturk.update_hit_type_of_hit, HITId=hit["HITId"],
                                HITTypeId=foreign_type)

    def test_delete_hit(self):
        hit_id = self.create_hit()["HITId"]
        # Still live: too early.
        self.assertRequestError(self.mturk.delete_hit, HITId=hit_id,
                                turk_code="AWS.MechanicalTurk.InvalidHITState")
        self.mturk.update_expiration_for_hit(HITId=hit_id, ExpireAt=datetime.datetime(2015, 1, 1))
        self.mturk.delete_hit(HITId=hit_id)
        self.assertEqual(self.mturk.get_hit(HITId=hit_id)["HIT"]["HITStatus"], "Disposed")
        listed = [h["HITId"] for h in self.mturk.list_hits(MaxResults=100)["HITs"]]
        self.assertNotIn(hit_id, listed)
        reviewable = [h["HITId"] for h in self.mturk.list_reviewable_hits(MaxResults=100)["HITs"]]
        self.assertNotIn(hit_id, reviewable)
        # Gone for every further change.
        self.assertRequestError(self.mturk.delete_hit, HITId=hit_id)
        self.assertRequestError(self.mturk.create_additional_assignments_for_hit,
                                HITId=hit_id, NumberOfAdditionalAssignments=1)

    def test_additional_assignments(self):
        hit_id = self.create_hit(MaxAssignments=5)["HITId"]
        self.mturk.create_additional_assignments_for_hit(HITId=hit_id,
                                                         NumberOfAdditionalAssignments=4)
        self.assertEqual(self.mturk.get_hit(HITId=hit_id)["HIT"]["MaxAssignments"], 9)
        # Under 10 cannot become 10 or more.
        self.assertRequestError(self.mturk.create_additional_assignments_for_hit,
                                HITId=hit_id, NumberOfAdditionalAssignments=1,
                                turk_code="AWS.MechanicalTurk.InvalidMaximumAssignmentsIncrease")
        self.assertEqual(self.mturk.get_hit(HITId=hit_id)["HIT"]["MaxAssignments"], 9)

        big = self.create_hit(MaxAssignments=10)["HITId"]
        self.mturk.create_additional_assignments_for_hit(HITId=big,
                                                         NumberOfAdditionalAssignments=5)
        got = self.mturk.get_hit(HITId=big)["HIT"]
        self.assertEqual(got["MaxAssignments"], 15)
        self.assertEqual(got["NumberOfAssignmentsAvailable"], 15)

        client = self.unvalidated()
        self.assertRequestError(client.create_additional_assignments_for_hit,
                                HITId=big, NumberOfAdditionalAssignments=0)
        self.assertRequestError(client.create_additional_assignments_for_hit,
                                HITId=big, NumberOfAdditionalAssignments="2")

        # UniqueRequestToken: a retry does not extend twice.
        self.mturk.create_additional_assignments_for_hit(
            HITId=big, NumberOfAdditionalAssignments=1, UniqueRequestToken="extend-1")
        e = self.assertRequestError(self.mturk.create_additional_assignments_for_hit,
                                    HITId=big, NumberOfAdditionalAssignments=1,
                                    UniqueRequestToken="extend-1")
        self.assertIn(big, e.response["Error"]["Message"])
        self.assertEqual(self.mturk.get_hit(HITId=big)["HIT"]["MaxAssignments"], 16)

    def test_extending_an_expired_reviewable_hit_with_assignments(self):
        hit_id = self.create_hit(MaxAssignments=2)["HITId"]
        self.mturk.update_expiration_for_hit(HITId=hit_id, ExpireAt=datetime.datetime(2015, 1, 1))
        self.mturk.create_additional_assignments_for_hit(HITId=hit_id,
                                                         NumberOfAdditionalAssignments=1)
        got = self.mturk.get_hit(HITId=hit_id)["HIT"]
        self.assertEqual(got["MaxAssignments"], 3)
        # Still expired: nothing can be accepted until the expiration moves.
        self.assertEqual(got["HITStatus"], "Reviewable")
        self.assertEqual(got["NumberOfAssignmentsAvailable"], 0)

    def test_unique_request_token_within_a_day(self):
        first = self.create_hit(UniqueRequestToken="token-1")
        e = self.assertRequestError(self.create_hit, UniqueRequestToken="token-1",
                                    turk_code="AWS.MechanicalTurk.HitAlreadyExists")
        self.assertIn(first["HITId"], e.response["Error"]["Message"])
        # Tokens are per requester.
        other = self.client_for(self.server.create_requester())
        self.create_hit(mturk=other, UniqueRequestToken="token-1")


class MoneyTest(HitMixin, KpTestCase):

    def test_balance_holds_open_slots(self):
        mturk = self.client_for(self.server.create_requester(funds="10"))
        self.assertEqual(self.available(mturk), "10.00")
        # 3 × (0.50 + 20 % fee 0.10) = 1.80 on hold.
        hit = self.create_hit(mturk=mturk, MaxAssignments=3, Reward="0.50")
        self.assertEqual(self.available(mturk), "8.20")
        self.assertEqual(self.balance(mturk).get("OnHoldBalance"), "1.80")
        # 10 or more assignments: 40 % fee. 10 × (0.10 + 0.04) = 1.40.
        self.create_hit(mturk=mturk, MaxAssignments=10, Reward="0.10")
        self.assertEqual(self.available(mturk), "6.80")
        # Expiring a HIT frees its open slots.
        mturk.update_expiration_for_hit(HITId=hit["HITId"], ExpireAt=datetime.datetime(2015, 1, 1))
        self.assertEqual(self.available(mturk), "8.60")

    def test_a_dearer_hit_type_needs_funds(self):
        mturk = self.client_for(self.server.create_requester(funds="2"))
        hit = self.create_hit(mturk=mturk, MaxAssignments=2, Reward="0.50")
        self.assertEqual(self.available(mturk), "0.80")
        dear = mturk.create_hit_type(**type_params(Reward="1.00"))["HITTypeId"]
        cheap = mturk.create_hit_type(**type_params(Reward="0.10"))["HITTypeId"]
        # 2 × (1.20 − 0.60) = 1.20 more on hold than is available.
        self.assertRequestError(mturk.update_hit_type_of_hit, HITId=hit["HITId"],
                                HITTypeId=dear,
                                turk_code="AWS.MechanicalTurk.InsufficientFunds")
        self.assertEqual(mturk.get_hit(HITId=hit["HITId"])["HIT"]["Reward"], "0.50")
        mturk.update_hit_type_of_hit(HITId=hit["HITId"], HITTypeId=cheap)
        self.assertEqual(self.available(mturk), "1.76")
        # 2 × (0.84 − 0.12) = 1.44 more fits in 1.76.
        middle = mturk.create_hit_type(**type_params(Reward="0.70"))["HITTypeId"]
        mturk.update_hit_type_of_hit(HITId=hit["HITId"], HITTypeId=middle)
        self.assertEqual(self.available(mturk), "0.32")

    def test_insufficient_funds(self):
        mturk = self.client_for(self.server.create_requester(funds="1"))
        # 2 × (0.40 + 0.08) = 0.96 fits, 3 × 0.48 does not.
        self.assertRequestError(self.create_hit, mturk=mturk, MaxAssignments=3, Reward="0.40",
                                turk_code="AWS.MechanicalTurk.InsufficientFunds")
        self.assertEqual(mturk.list_hits()["NumResults"], 0)
        hit = self.create_hit(mturk=mturk, MaxAssignments=2, Reward="0.40")
        self.assertEqual(self.available(mturk), "0.04")
        self.assertRequestError(mturk.create_additional_assignments_for_hit,
                                HITId=hit["HITId"], NumberOfAdditionalAssignments=1,
                                turk_code="AWS.MechanicalTurk.InsufficientFunds")
        self.assertEqual(mturk.get_hit(HITId=hit["HITId"])["HIT"]["MaxAssignments"], 2)


class TokenExpiryTest(HitMixin, KpTestCase):

    FAKE_TIME = True

    def test_unique_request_token_after_a_day(self):
        first = self.create_hit(UniqueRequestToken="daily", MaxAssignments=1)
        self.assertRequestError(self.create_hit, UniqueRequestToken="daily",
                                turk_code="AWS.MechanicalTurk.HitAlreadyExists")
        day = 86400 + 60
        self.server.advance(day)
        with client_clock(day):
            second = self.create_hit(UniqueRequestToken="daily")
            self.assertNotEqual(second["HITId"], first["HITId"])
            self.assertRequestError(self.create_hit, UniqueRequestToken="daily",
                                    turk_code="AWS.MechanicalTurk.HitAlreadyExists",
                                    message=second["HITId"])
            # The first one expired long ago and still exists.
            self.assertEqual(self.mturk.get_hit(HITId=first["HITId"])["HIT"]["HITStatus"],
                             "Reviewable")


if __name__ == "__main__":
    main()
