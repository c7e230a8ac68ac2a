# SPDX-License-Identifier: GPL-3.0-or-later
"""Qualifications: types, tests graded by an AnswerKey, requests, grants,
scores, the system qualifications computed from history, and
QualificationRequirements checked for the worker API."""

import base64
import os
import sys
import time

import boto3
import botocore.config

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kpserver import KpTestCase, WorkerClient, WorkerError, main, question_form  # noqa: E402

NUMBER_HITS_APPROVED = "00000000000000000040"
PERCENT_APPROVED = "000000000000000000L0"
LOCALE = "00000000000000000071"
ADULT = "00000000000000000060"
MASTERS = "2F1QJWKUDD8XADTFD2Q0G6UTO95ALH"

FORM_NS = ("http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/"
           "2017-11-06/QuestionForm.xsd")
KEY_NS = ("http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/"
          "2005-10-01/AnswerKey.xsd")


def selection_question(identifier, choices, max_count=1):
    selections = "".join("<Selection><SelectionIdentifier>%s</SelectionIdentifier>"
                         "<Text>%s</Text></Selection>" % (c, c) for c in choices)
    return ("<Question><QuestionIdentifier>%s</QuestionIdentifier>"
            "<IsRequired>true</IsRequired>"
            "<QuestionContent><Text>Pick %s</Text></QuestionContent>"
            "<AnswerSpecification><SelectionAnswer>"
            "<MinSelectionCount>1</MinSelectionCount>"
            "<MaxSelectionCount>%d</MaxSelectionCount>"
            "<StyleSuggestion>%s</StyleSuggestion>"
            "<Selections>%s</Selections></SelectionAnswer></AnswerSpecification>"
            "</Question>" % (identifier, identifier, max_count,
                             "checkbox" if max_count > 1 else "radiobutton", selections))


def test_form():
    """A qualification test: two single choices and one multiple choice."""
    return ('<QuestionForm xmlns="%s">%s%s%s</QuestionForm>'
            % (FORM_NS,
               selection_question("sky", ["blue", "green", "red"]),
               selection_question("grass", ["blue", "green", "red"]),
               selection_question("primes", ["two", "three", "four"], max_count=3)))


def answer_key(mapping=None, extra_question=""):
    """sky=blue: 2 points, grass=green: 2 points, primes={two,three}: 6
    points (a wrong set scores the default -1)."""
    mapping = mapping if mapping is not None else (
        "<QualificationValueMapping><PercentageMapping>"
        "<MaximumSummedScore>10</MaximumSummedScore>"
        "</PercentageMapping></QualificationValueMapping>")
    return ('<AnswerKey xmlns="%s">'
            '<Question><QuestionIdentifier>sky</QuestionIdentifier>'
            '<AnswerOption><SelectionIdentifier>blue</SelectionIdentifier>'
            '<AnswerScore>2</AnswerScore></AnswerOption></Question>'
            '<Question><QuestionIdentifier>grass</QuestionIdentifier>'
            '<AnswerOption><SelectionIdentifier>green</SelectionIdentifier>'
            '<AnswerScore>2</AnswerScore></AnswerOption></Question>'
            '<Question><QuestionIdentifier>primes</QuestionIdentifier>'
            '<AnswerOption><SelectionIdentifier>three</SelectionIdentifier>'
            '<SelectionIdentifier>two</SelectionIdentifier>'
            '<AnswerScore>6</AnswerScore></AnswerOption>'
            '<DefaultScore>-1</DefaultScore></Question>%s%s'
            '</AnswerKey>' % (KEY_NS, extra_question, mapping))


def answers(sky, grass, primes):
    return [{"QuestionIdentifier": "sky", "SelectionIdentifier": [sky]},
            {"QuestionIdentifier": "grass", "SelectionIdentifier": [grass]},
            {"QuestionIdentifier": "primes", "SelectionIdentifier": list(primes)}]


def unchecked_client(server, requester):
    """A client that sends what it is given: botocore's own checks off, so
    that the server's are what is tested."""
    return boto3.client("mturk", endpoint_url=server.url, region_name="us-east-1",
                        aws_access_key_id=requester["AccessKeyId"],
                        aws_secret_access_key=requester["SecretAccessKey"],
                        config=botocore.config.Config(parameter_validation=False,
                                                      retries={"total_max_attempts": 1}))


class Names:
    counter = 0

    @classmethod
    def next(cls, prefix="Qual"):
        cls.counter += 1
        return "%s %d" % (prefix, cls.counter)


class QualificationTypeTests(KpTestCase):

    def create(self, mturk=None, **params):
        params.setdefault("Name", Names.next())
        params.setdefault("Description", "Knows things")
        params.setdefault("QualificationTypeStatus", "Active")
        return (mturk or self.mturk).create_qualification_type(**params)["QualificationType"]

    def test_create_and_get(self):
        created = self.create(Name="Bird spotter", Keywords="birds, nature",
                              Description="Can tell a finch from a sparrow",
                              RetryDelayInSeconds=600, Test=test_form(),
                              AnswerKey=answer_key(), TestDurationInSeconds=300)
        got = self.mturk.get_qualification_type(
            QualificationTypeId=created["QualificationTypeId"])["QualificationType"]
        self.assertEqual(got, created)
        self.assertRegex(got["QualificationTypeId"], r"^[A-Z0-9]{30}$")
        self.assertEqual(got["Name"], "Bird spotter")
        self.assertEqual(got["Keywords"], "birds, nature")
        self.assertEqual(got["Description"], "Can tell a finch from a sparrow")
        self.assertEqual(got["QualificationTypeStatus"], "Active")
        self.assertEqual(got["RetryDelayInSeconds"], 600)
        self.assertEqual(got["TestDurationInSeconds"], 300)
        self.assertEqual(got["Test"], test_form())
        self.assertEqual(got["AnswerKey"], answer_key())
        self.assertTrue(got["IsRequestable"])
        self.assertFalse(got["AutoGranted"])

        auto = self.create(AutoGranted=True, AutoGrantedValue=5)
        self.assertTrue(auto["AutoGranted"])
        self.assertEqual(auto["AutoGrantedValue"], 5)
        self.assertNotIn("Test", auto)
        self.assertNotIn("RetryDelayInSeconds", auto)

    def test_system_types(self):
        for type_id, name in [(NUMBER_HITS_APPROVED, "Worker_NumberHITsApproved"),
                              (PERCENT_APPROVED, "Worker_PercentAssignmentsApproved"),
                              (LOCALE, "Worker_Locale"), (ADULT, "Worker_Adult"),
                              (MASTERS, "Masters")]:
            got = self.mturk.get_qualification_type(
                QualificationTypeId=type_id)["QualificationType"]
            self.assertEqual(got["QualificationTypeId"], type_id)
            self.assertEqual(got["Name"], name)
            self.assertFalse(got["IsRequestable"])
        self.assertRequestError(self.mturk.update_qualification_type,
                                QualificationTypeId=LOCALE, Description="mine now")
        self.assertRequestError(self.mturk.delete_qualification_type, QualificationTypeId=MASTERS)
        self.assertEqual(self.mturk.get_qualification_type(
            QualificationTypeId=MASTERS)["QualificationType"]["Name"], "Masters")

    def test_duplicate_name(self):
        first = self.create(Name="Unique name")
        self.assertRequestError(self.create, Name="Unique name",
                                turk_code="AWS.MechanicalTurk.QualificationTypeAlreadyExists")
        # Deleting the type frees its name.
        self.mturk.delete_qualification_type(QualificationTypeId=first["QualificationTypeId"])
        second = self.create(Name="Unique name")
        self.assertNotEqual(first["QualificationTypeId"], second["QualificationTypeId"])

    def test_parameter_rules(self):
        code = "AWS.MechanicalTurk.ParameterValidation"
        self.assertRequestError(self.create, Test=test_form(), turk_code=code,
                                message="TestDurationInSeconds")
        self.assertRequestError(self.create, TestDurationInSeconds=60, turk_code=code)
        self.assertRequestError(self.create, AnswerKey=answer_key(), turk_code=code)
        self.assertRequestError(self.create, Test=test_form(), TestDurationInSeconds=60,
                                AutoGranted=True, turk_code=code, message="AutoGranted")
        self.assertRequestError(self.create, QualificationTypeStatus="Sleeping", turk_code=code)
        self.assertRequestError(self.create, Name="", turk_code=code)
        self.assertRequestError(self.create, RetryDelayInSeconds=-1, turk_code=code)
        unchecked = unchecked_client(self.server, self.requester)
        self.assertRequestError(unchecked.create_qualification_type, Name=Names.next(),
                                QualificationTypeStatus="Active",
                                turk_code="AWS.MechanicalTurk.ParameterMissing")
        self.assertRequestError(unchecked.create_qualification_type, Name=Names.next(),
                                Description="d", QualificationTypeStatus="Active",
                                AutoGranted="true", turk_code=code)
        # The test must be a valid QuestionForm.
        self.assertRequestError(self.create, Test="<QuestionForm>", TestDurationInSeconds=60,
                                turk_code=code, message="Test")
        html = ('<HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/'
                'AWSMechanicalTurkDataSchemas/2011-11-11/HTMLQuestion.xsd">'
                '<HTMLContent><![CDATA[<p>x</p>]]></HTMLContent><FrameHeight>100</FrameHeight>'
                '</HTMLQuestion>')
        self.assertRequestError(self.create, Test=html, TestDurationInSeconds=60,
                                turk_code=code, message="QuestionForm")
        # Nothing of the refused calls was stored.
        names = [t["Name"] for t in self.list_all(MustBeOwnedByCaller=True)]
        self.assertNotIn("", names)

    def test_bad_answer_keys(self):
        def refused(key, message=None):
            self.assertRequestError(self.create, Test=test_form(), TestDurationInSeconds=60,
                                    AnswerKey=key, turk_code="AWS.MechanicalTurk.ParameterValidation",
                                    message=message or "AnswerKey")

        refused("<AnswerKey")
        refused("<AnswerKey/>", "namespace")
        refused('<AnswerKey xmlns="urn:other"/>')
        refused('<!DOCTYPE AnswerKey [<!ENTITY x "blue">]><AnswerKey xmlns="%s">'
                '<Question><QuestionIdentifier>sky</QuestionIdentifier><AnswerOption>'
                '<SelectionIdentifier>&x;</SelectionIdentifier><AnswerScore>1</AnswerScore>'
                '</AnswerOption></Question></AnswerKey>' % KEY_NS)
        refused('<!DOCTYPE AnswerKey SYSTEM "http://127.0.0.1:9/x.dtd"><AnswerKey xmlns="%s"/>'
                % KEY_NS)
        laughs = '<!ENTITY l0 "ha">' + "".join(
            '<!ENTITY l%d "%s">' % (i, ("&l%d;" % (i - 1)) * 10) for i in range(1, 10))
        started = time.monotonic()
        refused('<!DOCTYPE AnswerKey [%s]><AnswerKey xmlns="%s"><Question>'
                '<QuestionIdentifier>&l9;</QuestionIdentifier></Question></AnswerKey>'
                % (laughs, KEY_NS))
        self.assertLess(time.monotonic() - started, 5)
        refused(answer_key(extra_question=(
            '<Question><QuestionIdentifier>nosuch</QuestionIdentifier><AnswerOption>'
            '<SelectionIdentifier>a</SelectionIdentifier><AnswerScore>1</AnswerScore>'
            '</AnswerOption></Question>')), "nosuch")
        refused(answer_key(extra_question=(
            '<Question><QuestionIdentifier>sky</QuestionIdentifier><AnswerOption>'
            '<SelectionIdentifier>red</SelectionIdentifier><AnswerScore>1</AnswerScore>'
            '</AnswerOption></Question>')), "twice")
        refused(answer_key(mapping="<QualificationValueMapping><PercentageMapping>"
                           "<MaximumSummedScore>0</MaximumSummedScore></PercentageMapping>"
                           "</QualificationValueMapping>"))
        refused(answer_key(mapping="<QualificationValueMapping><ScaleMapping>"
                           "<SummedScoreMultiplier>x</SummedScoreMultiplier></ScaleMapping>"
                           "</QualificationValueMapping>"))
        refused(answer_key(mapping="<QualificationValueMapping><RangeMapping>"
                           "<SummedScoreRange><InclusiveLowerBound>5</InclusiveLowerBound>"
                           "<InclusiveUpperBound>1</InclusiveUpperBound>"
                           "<QualificationValue>1</QualificationValue></SummedScoreRange>"
                           "</RangeMapping></QualificationValueMapping>"))
        refused(answer_key(mapping="<QualificationValueMapping><PercentageMapping>"
                           "<MaximumSummedScore>10</MaximumSummedScore></PercentageMapping>"
                           "<ScaleMapping><SummedScoreMultiplier>2</SummedScoreMultiplier>"
                           "</ScaleMapping></QualificationValueMapping>"))
        refused('<AnswerKey xmlns="%s"><Question><QuestionIdentifier>sky</QuestionIdentifier>'
                '<AnswerOption><AnswerScore>1</AnswerScore></AnswerOption></Question>'
                '</AnswerKey>' % KEY_NS)
        refused('<AnswerKey xmlns="%s"><Question><QuestionIdentifier>sky</QuestionIdentifier>'
                '<AnswerOption><SelectionIdentifier>blue</SelectionIdentifier>'
                '<AnswerScore>lots</AnswerScore></AnswerOption></Question></AnswerKey>' % KEY_NS)

    def test_update(self):
        created = self.create(Description="Old words")
        type_id = created["QualificationTypeId"]
        updated = self.mturk.update_qualification_type(
            QualificationTypeId=type_id, Description="New words",
            QualificationTypeStatus="Inactive", RetryDelayInSeconds=120)["QualificationType"]
        self.assertEqual(updated["Description"], "New words")
        self.assertEqual(updated["QualificationTypeStatus"], "Inactive")
        self.assertEqual(updated["RetryDelayInSeconds"], 120)
        self.assertEqual(updated["Name"], created["Name"])
        self.assertEqual(self.mturk.get_qualification_type(
            QualificationTypeId=type_id)["QualificationType"], updated)

        # A test is added with its duration; a new test without a key drops
        # the old key.
        self.assertRequestError(self.mturk.update_qualification_type,
                                QualificationTypeId=type_id, Test=test_form())
        self.assertRequestError(self.mturk.update_qualification_type,
                                QualificationTypeId=type_id, AnswerKey=answer_key())
        with_test = self.mturk.update_qualification_type(
            QualificationTypeId=type_id, Test=test_form(), TestDurationInSeconds=90,
            AnswerKey=answer_key())["QualificationType"]
        self.assertEqual(with_test["AnswerKey"], answer_key())
        self.assertEqual(with_test["TestDurationInSeconds"], 90)
        self.assertRequestError(self.mturk.update_qualification_type,
                                QualificationTypeId=type_id, AutoGranted=True)
        self.assertRequestError(self.mturk.update_qualification_type,
                                QualificationTypeId=type_id, Test=test_form(),
                                TestDurationInSeconds=90, AnswerKey="<AnswerKey/>")
        no_key = self.mturk.update_qualification_type(
            QualificationTypeId=type_id, Test=test_form(),
            TestDurationInSeconds=45)["QualificationType"]
        self.assertNotIn("AnswerKey", no_key)
        self.assertEqual(no_key["Test"], test_form())
        self.assertEqual(no_key["TestDurationInSeconds"], 45)

        auto = self.create()
        auto = self.mturk.update_qualification_type(
            QualificationTypeId=auto["QualificationTypeId"], AutoGranted=True,
            AutoGrantedValue=3)["QualificationType"]
        self.assertTrue(auto["AutoGranted"])
        self.assertEqual(auto["AutoGrantedValue"], 3)

        self.assertRequestError(self.mturk.update_qualification_type,
                                QualificationTypeId="3NOSUCHTYPE0000000000000000000",
                                Description="x",
                                turk_code="AWS.MechanicalTurk.QualificationTypeDoesNotExist")

    def test_delete(self):
        created = self.create(Name="Doomed type")
        type_id = created["QualificationTypeId"]
        worker = self.server.create_worker()
        self.mturk.associate_qualification_with_worker(QualificationTypeId=type_id,
                                                       WorkerId=worker["WorkerId"])
        self.mturk.delete_qualification_type(QualificationTypeId=type_id)
        missing = "AWS.MechanicalTurk.QualificationTypeDoesNotExist"
        self.assertRequestError(self.mturk.get_qualification_type,
                                QualificationTypeId=type_id, turk_code=missing)
        self.assertRequestError(self.mturk.delete_qualification_type,
                                QualificationTypeId=type_id, turk_code=missing)
        self.assertRequestError(self.mturk.update_qualification_type,
                                QualificationTypeId=type_id, Description="x", turk_code=missing)
        self.assertRequestError(self.mturk.associate_qualification_with_worker,
                                QualificationTypeId=type_id, WorkerId=worker["WorkerId"],
                                turk_code=missing)
        self.assertRequestError(self.mturk.list_workers_with_qualification_type,
                                QualificationTypeId=type_id, turk_code=missing)
        ids = [t["QualificationTypeId"] for t in self.list_all(MustBeOwnedByCaller=True)]
        self.assertNotIn(type_id, ids)

    def list_all(self, mturk=None, **params):
        mturk = mturk or self.mturk
        params.setdefault("MustBeRequestable", False)
        found = []
        token = None
        for _ in range(100):
            page = dict(params)
            if token:
                page["NextToken"] = token
            result = mturk.list_qualification_types(**page)
            self.assertEqual(result["NumResults"], len(result["QualificationTypes"]))
            found.extend(result["QualificationTypes"])
            token = result.get("NextToken")
            if not token:
                return found
        self.fail("pagination does not end")

    def test_list_and_search(self):
        requester = self.server.create_requester()
        mturk = self.server.mturk(requester)
        made = [self.create(mturk, Name="Sorter %d" % i, Description="Sorts socks",
                            Keywords="laundry") for i in range(7)]
        self.create(mturk, Name="Painter", Description="Paints 100% of walls",
                    Keywords="colour, Walls")

        everything = self.list_all(mturk)
        ids = [t["QualificationTypeId"] for t in everything]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertIn(LOCALE, ids)
        for t in made:
            self.assertIn(t["QualificationTypeId"], ids)

        # Paged three at a time: the same set, in the same order.
        paged = self.list_all(mturk, MaxResults=3)
        self.assertEqual([t["QualificationTypeId"] for t in paged], ids)
        first = mturk.list_qualification_types(MustBeRequestable=False, MaxResults=3)
        self.assertEqual(first["NumResults"], 3)
        self.assertIn("NextToken", first)

        own = self.list_all(mturk, MustBeOwnedByCaller=True)
        self.assertEqual(len(own), 8)
        requestable = self.list_all(mturk, MustBeRequestable=True)
        self.assertEqual({t["QualificationTypeId"] for t in requestable},
                         {t["QualificationTypeId"] for t in own})
        self.assertTrue(all(t["IsRequestable"] for t in requestable))

        # Query: a case-insensitive substring of the name, description or
        # keywords; wildcards are literal.
        self.assertEqual(len(self.list_all(mturk, Query="sorter")), 7)
        self.assertEqual(len(self.list_all(mturk, Query="SOCKS")), 7)
        self.assertEqual([t["Name"] for t in self.list_all(mturk, Query="walls")], ["Painter"])
        self.assertEqual([t["Name"] for t in self.list_all(mturk, Query="100%")], ["Painter"])
        self.assertEqual(self.list_all(mturk, Query="0%", MustBeOwnedByCaller=True)[0]["Name"],
                         "Painter")
        self.assertEqual(self.list_all(mturk, Query="%%"), [])
        # "_" is no wildcard either: "er_" is only in the system types' names.
        self.assertEqual({t["Name"] for t in self.list_all(mturk, Query="er_")},
                         {"Worker_NumberHITsApproved", "Worker_PercentAssignmentsApproved",
                          "Worker_Locale", "Worker_Adult"})
        self.assertEqual([t["QualificationTypeId"] for t in self.list_all(mturk, Query="locale")],
                         [LOCALE])

        unchecked = unchecked_client(self.server, requester)
        self.assertRequestError(unchecked.list_qualification_types,
                                turk_code="AWS.MechanicalTurk.ParameterMissing")
        self.assertRequestError(unchecked.list_qualification_types, MustBeRequestable="yes",
                                turk_code="AWS.MechanicalTurk.ParameterValidation")
        for size in (0, 101):
            self.assertRequestError(unchecked.list_qualification_types, MustBeRequestable=False,
                                    MaxResults=size)
        forged = base64.b64encode(b"0" * 32 + b"|0|A").decode()
        self.assertRequestError(mturk.list_qualification_types, MustBeRequestable=False,
                                NextToken=forged)
        # Another operation's token is refused too.
        other = self.mturk.list_qualification_types(MustBeRequestable=False, MaxResults=1)
        self.assertRequestError(mturk.list_workers_with_qualification_type,
                                QualificationTypeId=made[0]["QualificationTypeId"],
                                NextToken=other["NextToken"])

    def test_isolation(self):
        mine = self.create(Name="Shared name")
        other_requester = self.server.create_requester()
        other = self.server.mturk(other_requester)
        theirs = self.create(other, Name="Shared name")
        worker = self.server.create_worker()
        missing = "AWS.MechanicalTurk.QualificationTypeDoesNotExist"

        for type_id, client in [(mine["QualificationTypeId"], other),
                                (theirs["QualificationTypeId"], self.mturk)]:
            self.assertRequestError(client.get_qualification_type,
                                    QualificationTypeId=type_id, turk_code=missing)
            self.assertRequestError(client.update_qualification_type,
                                    QualificationTypeId=type_id, Description="x",
                                    turk_code=missing)
            self.assertRequestError(client.delete_qualification_type,
                                    QualificationTypeId=type_id, turk_code=missing)
            self.assertRequestError(client.associate_qualification_with_worker,
                                    QualificationTypeId=type_id, WorkerId=worker["WorkerId"],
                                    turk_code=missing)
            self.assertRequestError(client.disassociate_qualification_from_worker,
                                    QualificationTypeId=type_id, WorkerId=worker["WorkerId"],
                                    turk_code=missing)
            self.assertRequestError(client.get_qualification_score,
                                    QualificationTypeId=type_id, WorkerId=worker["WorkerId"],
                                    turk_code=missing)
            self.assertRequestError(client.list_workers_with_qualification_type,
                                    QualificationTypeId=type_id, turk_code=missing)
            self.assertRequestError(client.list_qualification_requests,
                                    QualificationTypeId=type_id, turk_code=missing)

        other_ids = {t["QualificationTypeId"] for t in self.list_all(other)}
        self.assertNotIn(mine["QualificationTypeId"], other_ids)
        self.assertIn(theirs["QualificationTypeId"], other_ids)
        # The other requester's type still works for them.
        self.assertEqual(other.get_qualification_type(
            QualificationTypeId=theirs["QualificationTypeId"])["QualificationType"]["Name"],
            "Shared name")

    def test_associate_disassociate_and_scores(self):
        type_id = self.create()["QualificationTypeId"]
        alice = self.server.create_worker()["WorkerId"]
        bob = self.server.create_worker()["WorkerId"]

        self.assertRequestError(self.mturk.get_qualification_score, QualificationTypeId=type_id,
                                WorkerId=alice,
                                turk_code="AWS.MechanicalTurk.QualificationDoesNotExist")
        self.mturk.associate_qualification_with_worker(QualificationTypeId=type_id,
                                                       WorkerId=alice, IntegerValue=42)
        self.mturk.associate_qualification_with_worker(QualificationTypeId=type_id,
                                                       WorkerId=bob)
        score = self.mturk.get_qualification_score(QualificationTypeId=type_id,
                                                   WorkerId=alice)["Qualification"]
        self.assertEqual(score["IntegerValue"], 42)
        self.assertEqual(score["Status"], "Granted")
        self.assertEqual(score["WorkerId"], alice)
        self.assertEqual(self.mturk.get_qualification_score(
            QualificationTypeId=type_id, WorkerId=bob)["Qualification"]["IntegerValue"], 1)

        # A new value replaces the old one.
        self.mturk.associate_qualification_with_worker(QualificationTypeId=type_id,
                                                       WorkerId=alice, IntegerValue=43)
        self.assertEqual(self.mturk.get_qualification_score(
            QualificationTypeId=type_id, WorkerId=alice)["Qualification"]["IntegerValue"], 43)

        self.mturk.disassociate_qualification_from_worker(QualificationTypeId=type_id,
                                                          WorkerId=alice, Reason="Too slow")
        self.assertEqual(self.mturk.get_qualification_score(
            QualificationTypeId=type_id, WorkerId=alice)["Qualification"]["Status"], "Revoked")
        self.assertRequestError(self.mturk.disassociate_qualification_from_worker,
                                QualificationTypeId=type_id, WorkerId=alice,
                                turk_code="AWS.MechanicalTurk.QualificationDoesNotExist")

        granted = self.mturk.list_workers_with_qualification_type(
            QualificationTypeId=type_id, Status="Granted")
        self.assertEqual([q["WorkerId"] for q in granted["Qualifications"]], [bob])
        revoked = self.mturk.list_workers_with_qualification_type(
            QualificationTypeId=type_id, Status="Revoked")
        self.assertEqual([q["WorkerId"] for q in revoked["Qualifications"]], [alice])
        both = self.mturk.list_workers_with_qualification_type(QualificationTypeId=type_id)
        self.assertEqual(both["NumResults"], 2)

        # Granting again restores it.
        self.mturk.associate_qualification_with_worker(QualificationTypeId=type_id,
                                                       WorkerId=alice, IntegerValue=7)
        score = self.mturk.get_qualification_score(QualificationTypeId=type_id,
                                                   WorkerId=alice)["Qualification"]
        self.assertEqual((score["Status"], score["IntegerValue"]), ("Granted", 7))

        self.assertRequestError(self.mturk.associate_qualification_with_worker,
                                QualificationTypeId=type_id, WorkerId="ANOSUCHWORKER00")
        self.assertRequestError(self.mturk.associate_qualification_with_worker,
                                QualificationTypeId=type_id, WorkerId="not-a-worker",
                                turk_code="AWS.MechanicalTurk.ParameterValidation")
        self.assertRequestError(self.mturk.associate_qualification_with_worker,
                                QualificationTypeId=LOCALE, WorkerId=alice)
        self.assertRequestError(self.mturk.list_workers_with_qualification_type,
                                QualificationTypeId=type_id, Status="Pending")

    def test_list_workers_pagination(self):
        type_id = self.create()["QualificationTypeId"]
        workers = [self.server.create_worker()["WorkerId"] for _ in range(5)]
        for i, worker in enumerate(workers):
            self.mturk.associate_qualification_with_worker(QualificationTypeId=type_id,
                                                           WorkerId=worker, IntegerValue=i)
        seen = []
        token = None
        pages = 0
        while True:
            params = dict(QualificationTypeId=type_id, MaxResults=2)
            if token:
                params["NextToken"] = token
            page = self.mturk.list_workers_with_qualification_type(**params)
            pages += 1
            self.assertLessEqual(page["NumResults"], 2)
            seen.extend((q["WorkerId"], q["IntegerValue"]) for q in page["Qualifications"])
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(pages, 3)
        self.assertEqual(sorted(seen), sorted((w, i) for i, w in enumerate(workers)))

    def test_notification_on_grant(self):
        type_id = self.create(Name="Announced")["QualificationTypeId"]
        client = WorkerClient(self.server)
        try:
            self.mturk.associate_qualification_with_worker(
                QualificationTypeId=type_id, WorkerId=client.worker_id, SendNotification=True)
            messages = client.messages()["messages"]
            self.assertEqual(len(messages), 1)
            self.assertIn("Announced", messages[0]["subject"])
        finally:
            client.close()


class RequirementTests(KpTestCase):
    """QualificationRequirements as CreateHITType checks them, and as the
    worker API applies them."""

    def setUp(self):
        self.type_id = self.mturk.create_qualification_type(
            Name=Names.next("Req"), Description="d",
            QualificationTypeStatus="Active")["QualificationType"]["QualificationTypeId"]

    def hit_type(self, requirements, mturk=None):
        return (mturk or self.mturk).create_hit_type(
            AssignmentDurationInSeconds=600, Reward="0.05", Title="Label",
            Description="Label things", QualificationRequirements=requirements)["HITTypeId"]

    def test_invalid_requirements(self):
        code = "AWS.MechanicalTurk.ParameterValidation"
        bad = [
            {"QualificationTypeId": self.type_id, "Comparator": "Exists", "IntegerValues": [1]},
            {"QualificationTypeId": self.type_id, "Comparator": "EqualTo"},
            {"QualificationTypeId": self.type_id, "Comparator": "EqualTo",
             "IntegerValues": [1, 2]},
            {"QualificationTypeId": self.type_id, "Comparator": "In",
             "IntegerValues": list(range(16))},
            {"QualificationTypeId": self.type_id, "Comparator": "In", "IntegerValues": []},
            {"QualificationTypeId": self.type_id, "Comparator": "EqualTo",
             "LocaleValues": [{"Country": "US"}]},
            {"QualificationTypeId": LOCALE, "Comparator": "EqualTo", "IntegerValues": [1]},
            {"QualificationTypeId": LOCALE, "Comparator": "GreaterThan",
             "LocaleValues": [{"Country": "US"}]},
            {"QualificationTypeId": LOCALE, "Comparator": "EqualTo",
             "LocaleValues": [{"Country": "USA"}]},
            {"QualificationTypeId": LOCALE, "Comparator": "EqualTo",
             "LocaleValues": [{"Country": "U1"}]},
            {"QualificationTypeId": self.type_id, "Comparator": "Exists",
             "RequiredToPreview": True, "ActionsGuarded": "Accept"},
            {"QualificationTypeId": self.type_id, "Comparator": "Exists",
             "ActionsGuarded": "Everything"},
            {"QualificationTypeId": self.type_id, "Comparator": "Resembles",
             "IntegerValues": [1]},
        ]
        unchecked = unchecked_client(self.server, self.requester)
        bad += [
            {"QualificationTypeId": self.type_id},
            {"QualificationTypeId": self.type_id, "Comparator": "EqualTo",
             "IntegerValues": ["5"]},
            {"QualificationTypeId": self.type_id, "Comparator": "EqualTo",
             "IntegerValues": [2.5]},
            {"QualificationTypeId": LOCALE, "Comparator": "EqualTo",
             "LocaleValues": [{"Subdivision": "WA"}]},
        ]
        for requirement in bad:
            with self.subTest(requirement=requirement):
                self.assertRequestError(self.hit_type, [requirement], unchecked)
        self.assertRequestError(
            self.hit_type, [{"QualificationTypeId": self.type_id, "Comparator": "Exists"}] * 11,
            turk_code=code)

        # Unknown, another requester's and deleted types do not exist.
        missing = "AWS.MechanicalTurk.QualificationTypeDoesNotExist"
        self.assertRequestError(self.hit_type, [{"QualificationTypeId": "3NOSUCH",
                                                 "Comparator": "Exists"}], turk_code=missing)
        other = self.server.mturk(self.server.create_requester())
        self.assertRequestError(self.hit_type, [{"QualificationTypeId": self.type_id,
                                                 "Comparator": "Exists"}], other,
                                turk_code=missing)
        doomed = self.mturk.create_qualification_type(
            Name=Names.next(), Description="d",
            QualificationTypeStatus="Active")["QualificationType"]["QualificationTypeId"]
        self.mturk.delete_qualification_type(QualificationTypeId=doomed)
        self.assertRequestError(self.hit_type, [{"QualificationTypeId": doomed,
                                                 "Comparator": "Exists"}], turk_code=missing)

    def test_normalized(self):
        requirements = [
            {"QualificationTypeId": self.type_id, "Comparator": "GreaterThan",
             "IntegerValues": [5], "RequiredToPreview": True},
            {"QualificationTypeId": LOCALE, "Comparator": "In",
             "LocaleValues": [{"Country": "us", "Subdivision": "wa"}, {"Country": "DE"}]},
            {"QualificationTypeId": MASTERS, "Comparator": "Exists",
             "ActionsGuarded": "DiscoverPreviewAndAccept"},
        ]
        first = self.hit_type(requirements)
        same = [{"ActionsGuarded": "PreviewAndAccept", "IntegerValues": [5],
                 "Comparator": "GreaterThan", "QualificationTypeId": self.type_id},
                {"QualificationTypeId": LOCALE, "Comparator": "In",
                 "LocaleValues": [{"Country": "US", "Subdivision": "WA"}, {"Country": "de"}]},
                {"QualificationTypeId": MASTERS, "Comparator": "Exists",
                 "ActionsGuarded": "DiscoverPreviewAndAccept", "IntegerValues": []}]
        self.assertEqual(self.hit_type(same), first)
        self.assertNotEqual(self.hit_type(requirements[:2]), first)

        hit = self.mturk.create_hit_with_hit_type(
            HITTypeId=first, MaxAssignments=1, LifetimeInSeconds=600,
            Question=question_form())["HIT"]
        stored = self.mturk.get_hit(HITId=hit["HITId"])["HIT"]["QualificationRequirements"]
        self.assertEqual(stored[0]["ActionsGuarded"], "PreviewAndAccept")
        self.assertTrue(stored[0]["RequiredToPreview"])
        self.assertEqual(stored[1]["LocaleValues"],
                         [{"Country": "US", "Subdivision": "WA"}, {"Country": "DE"}])
        self.assertEqual(stored[2]["ActionsGuarded"], "DiscoverPreviewAndAccept")
        self.assertNotIn("IntegerValues", stored[2])

    def make_hit(self, requirements):
        return self.create_hit(QualificationRequirements=requirements)

    def can_accept(self, client, hit):
        try:
            assignment = client.accept_hit(hit["HITId"])
        except WorkerError as e:
            # 404 where the requirement hides the HIT from the worker.
            self.assertIn(e.status, (403, 404), e.body)
            return False
        client.return_assignment(assignment.get("assignment_id")
                                 or assignment["assignment"]["assignment_id"])
        return True

    def test_worker_gating(self):
        low = WorkerClient(self.server)
        high = WorkerClient(self.server)
        none = WorkerClient(self.server)
        try:
            self.mturk.associate_qualification_with_worker(
                QualificationTypeId=self.type_id, WorkerId=low.worker_id, IntegerValue=3)
            self.mturk.associate_qualification_with_worker(
                QualificationTypeId=self.type_id, WorkerId=high.worker_id, IntegerValue=9)

            greater = self.make_hit([{"QualificationTypeId": self.type_id,
                                      "Comparator": "GreaterThan", "IntegerValues": [5]}])
            with self.assertRaises(WorkerError) as refused:
                low.accept_hit(greater["HITId"])
            name = self.mturk.get_qualification_type(
                QualificationTypeId=self.type_id)["QualificationType"]["Name"]
            self.assertIn(name, refused.exception.body["message"])
            self.assertEqual([self.can_accept(w, greater) for w in (low, high, none)],
                             [False, True, False])

            # A missing qualification meets only DoesNotExist.
            not_equal = self.make_hit([{"QualificationTypeId": self.type_id,
                                        "Comparator": "NotEqualTo", "IntegerValues": [3]}])
            self.assertEqual([self.can_accept(w, not_equal) for w in (low, high, none)],
                             [False, True, False])
            not_in = self.make_hit([{"QualificationTypeId": self.type_id,
                                     "Comparator": "NotIn", "IntegerValues": [1, 9]}])
            self.assertEqual([self.can_accept(w, not_in) for w in (low, high, none)],
                             [True, False, False])
            absent = self.make_hit([{"QualificationTypeId": self.type_id,
                                     "Comparator": "DoesNotExist"}])
            self.assertEqual([self.can_accept(w, absent) for w in (low, high, none)],
                             [False, False, True])

            # A revoked qualification counts as missing.
            self.mturk.disassociate_qualification_from_worker(
                QualificationTypeId=self.type_id, WorkerId=high.worker_id)
            self.assertTrue(self.can_accept(high, absent))
            self.assertFalse(self.can_accept(high, greater))
        finally:
            for w in (low, high, none):
                w.close()

    def test_deleted_type_keeps_gating(self):
        doomed = self.mturk.create_qualification_type(
            Name=Names.next(), Description="d",
            QualificationTypeStatus="Active")["QualificationType"]["QualificationTypeId"]
        holder = WorkerClient(self.server)
        other = WorkerClient(self.server)
        try:
            self.mturk.associate_qualification_with_worker(QualificationTypeId=doomed,
                                                           WorkerId=holder.worker_id)
            hit = self.make_hit([{"QualificationTypeId": doomed, "Comparator": "Exists"}])
            self.mturk.delete_qualification_type(QualificationTypeId=doomed)
            self.assertTrue(self.can_accept(holder, hit))
            self.assertFalse(self.can_accept(other, hit))
        finally:
            holder.close()
            other.close()

    def test_locale_and_masters(self):
        us = WorkerClient(self.server, self.server.create_worker(country="US"))
        de = WorkerClient(self.server, self.server.create_worker(country="DE", master=True))
        nowhere = WorkerClient(self.server)
        try:
            in_us = self.make_hit([{"QualificationTypeId": LOCALE, "Comparator": "EqualTo",
                                    "LocaleValues": [{"Country": "US"}]}])
            self.assertEqual([self.can_accept(w, in_us) for w in (us, de, nowhere)],
                             [True, False, False])
            not_us = self.make_hit([{"QualificationTypeId": LOCALE, "Comparator": "NotIn",
                                     "LocaleValues": [{"Country": "US"}, {"Country": "FR"}]}])
            self.assertEqual([self.can_accept(w, not_us) for w in (us, de, nowhere)],
                             [False, True, False])
            masters = self.make_hit([{"QualificationTypeId": MASTERS, "Comparator": "Exists"}])
            self.assertEqual([self.can_accept(w, masters) for w in (us, de, nowhere)],
                             [False, True, False])
        finally:
            for w in (us, de, nowhere):
                w.close()

    def test_actions_guarded(self):
        outsider = WorkerClient(self.server)
        try:
            def visible(hit_type_id):
                groups = outsider.groups(limit=100)["groups"]
                return hit_type_id in [g["hit_type_id"] for g in groups]

            def previewable(hit_type_id):
                try:
                    outsider.preview(hit_type_id)
                    return True
                except WorkerError as e:
                    self.assertIn(e.status, (403, 404), e.body)
                    return False

            results = {}
            for actions in ("Accept", "PreviewAndAccept", "DiscoverPreviewAndAccept"):
                hit = self.make_hit([{"QualificationTypeId": self.type_id,
                                      "Comparator": "Exists", "ActionsGuarded": actions}])
                results[actions] = (visible(hit["HITTypeId"]), previewable(hit["HITTypeId"]),
                                    self.can_accept(outsider, hit))
            self.assertEqual(results["Accept"], (True, True, False))
            self.assertEqual(results["PreviewAndAccept"], (True, False, False))
            self.assertEqual(results["DiscoverPreviewAndAccept"][0], False)
            self.assertEqual(results["DiscoverPreviewAndAccept"][2], False)
        finally:
            outsider.close()


class SystemQualificationTests(KpTestCase):

    def score(self, type_id, worker_id):
        return self.mturk.get_qualification_score(QualificationTypeId=type_id,
                                                  WorkerId=worker_id)["Qualification"]

    def test_new_worker(self):
        worker = self.server.create_worker()["WorkerId"]
        self.assertEqual(self.score(NUMBER_HITS_APPROVED, worker)["IntegerValue"], 0)
        self.assertEqual(self.score(PERCENT_APPROVED, worker)["IntegerValue"], 100)
        for type_id in (LOCALE, MASTERS, ADULT):
            self.assertRequestError(self.mturk.get_qualification_score, QualificationTypeId=type_id,
                                    WorkerId=worker,
                                    turk_code="AWS.MechanicalTurk.QualificationDoesNotExist")
        located = self.server.create_worker(country="NZ", master=True)["WorkerId"]
        self.assertEqual(self.score(LOCALE, located)["LocaleValue"], {"Country": "NZ"})
        self.assertEqual(self.score(MASTERS, located)["Status"], "Granted")

    def test_scores_from_history(self):
        client = WorkerClient(self.server)
        other = WorkerClient(self.server)
        try:
            hits = [self.create_hit() for _ in range(4)]
            assignments = []
            for hit in hits:
                accepted = client.accept_hit(hit["HITId"])
                assignment_id = (accepted.get("assignment_id")
                                 or accepted["assignment"]["assignment_id"])
                client.submit(assignment_id, [{"QuestionIdentifier": "q1", "FreeText": "a car"}])
                assignments.append(assignment_id)
            # Submitted but not reviewed: nothing counts yet.
            self.assertEqual(self.score(NUMBER_HITS_APPROVED, client.worker_id)["IntegerValue"], 0)
            self.assertEqual(self.score(PERCENT_APPROVED, client.worker_id)["IntegerValue"], 100)

            for assignment_id in assignments[:2]:
                self.mturk.approve_assignment(AssignmentId=assignment_id)
            self.mturk.reject_assignment(AssignmentId=assignments[2],
                                         RequesterFeedback="Wrong object")
            self.assertEqual(self.score(NUMBER_HITS_APPROVED, client.worker_id)["IntegerValue"], 2)
            # 2 of 3 reviewed, rounded down.
            self.assertEqual(self.score(PERCENT_APPROVED, client.worker_id)["IntegerValue"], 66)

            # Requirements on system qualifications use the live values.
            demanding = self.create_hit(QualificationRequirements=[
                {"QualificationTypeId": PERCENT_APPROVED,
                 "Comparator": "GreaterThanOrEqualTo", "IntegerValues": [95]}])
            experienced = self.create_hit(QualificationRequirements=[
                {"QualificationTypeId": NUMBER_HITS_APPROVED,
                 "Comparator": "GreaterThan", "IntegerValues": [1]}])
            with self.assertRaises(WorkerError) as refused:
                client.accept_hit(demanding["HITId"])
            self.assertEqual(refused.exception.status, 403)
            other.accept_hit(demanding["HITId"])
            with self.assertRaises(WorkerError):
                other.accept_hit(experienced["HITId"])
            client.accept_hit(experienced["HITId"])

            self.mturk.approve_assignment(AssignmentId=assignments[3])
            self.assertEqual(self.score(NUMBER_HITS_APPROVED, client.worker_id)["IntegerValue"], 3)
            self.assertEqual(self.score(PERCENT_APPROVED, client.worker_id)["IntegerValue"], 75)
            # Overriding the rejection.
            self.mturk.approve_assignment(AssignmentId=assignments[2], OverrideRejection=True)
            self.assertEqual(self.score(PERCENT_APPROVED, client.worker_id)["IntegerValue"], 100)
        finally:
            client.close()
            other.close()


class RequestTests(KpTestCase):
    """Workers ask for qualifications through the worker API."""

    # The clock only moves forward, and SigV4 refuses requests more than 15
    # minutes off: all the tests of this class together move it less than 7.
    FAKE_TIME = True

    def create(self, **params):
        params.setdefault("Name", Names.next("Requested"))
        params.setdefault("Description", "Ask for it")
        params.setdefault("QualificationTypeStatus", "Active")
        return self.mturk.create_qualification_type(**params)["QualificationType"]

    def request_status(self, client, type_id, answers=None):
        try:
            client.request_qualification(type_id, answers)
            return 200
        except WorkerError as e:
            return e.status

    def test_pending_accept_reject(self):
        type_id = self.create(RetryDelayInSeconds=0)["QualificationTypeId"]
        alice = WorkerClient(self.server)
        bob = WorkerClient(self.server)
        try:
            reply = alice.request_qualification(type_id)
            self.assertEqual(reply["status"], "Pending")
            bob.request_qualification(type_id)
            # A second request while one is pending is refused.
            self.assertEqual(self.request_status(alice, type_id), 409)

            listed = self.mturk.list_qualification_requests(QualificationTypeId=type_id)
            self.assertEqual(listed["NumResults"], 2)
            by_worker = {r["WorkerId"]: r for r in listed["QualificationRequests"]}
            self.assertEqual(set(by_worker), {alice.worker_id, bob.worker_id})
            self.assertEqual(by_worker[alice.worker_id]["QualificationRequestId"],
                             reply["request_id"])
            paged = self.mturk.list_qualification_requests(MaxResults=1)
            self.assertEqual(paged["NumResults"], 1)
            self.assertIn("NextToken", paged)
            rest = self.mturk.list_qualification_requests(MaxResults=1,
                                                          NextToken=paged["NextToken"])
            self.assertNotEqual(rest["QualificationRequests"][0]["QualificationRequestId"],
                                paged["QualificationRequests"][0]["QualificationRequestId"])

            self.mturk.accept_qualification_request(
                QualificationRequestId=by_worker[alice.worker_id]["QualificationRequestId"],
                IntegerValue=77)
            self.mturk.reject_qualification_request(
                QualificationRequestId=by_worker[bob.worker_id]["QualificationRequestId"],
                Reason="Not enough experience")
            score = self.mturk.get_qualification_score(QualificationTypeId=type_id,
                                                       WorkerId=alice.worker_id)["Qualification"]
            self.assertEqual((score["Status"], score["IntegerValue"]), ("Granted", 77))
            self.assertRequestError(self.mturk.get_qualification_score,
                                    QualificationTypeId=type_id, WorkerId=bob.worker_id,
                                    turk_code="AWS.MechanicalTurk.QualificationDoesNotExist")
            self.assertEqual(self.mturk.list_qualification_requests(
                QualificationTypeId=type_id)["NumResults"], 0)

            # Decided requests cannot be decided again.
            for call in (self.mturk.accept_qualification_request,
                         self.mturk.reject_qualification_request):
                self.assertRequestError(
                    call, QualificationRequestId=by_worker[bob.worker_id]["QualificationRequestId"])
            self.assertRequestError(self.mturk.accept_qualification_request,
                                    QualificationRequestId="3NOSUCHREQUEST",
                                    turk_code="AWS.MechanicalTurk.QualificationRequestDoesNotExist")
            # Another requester cannot see or decide them.
            other = self.server.mturk(self.server.create_requester())
            bob.request_qualification(type_id)
            pending = self.mturk.list_qualification_requests(
                QualificationTypeId=type_id)["QualificationRequests"]
            self.assertEqual(other.list_qualification_requests()["NumResults"], 0)
            self.assertRequestError(other.accept_qualification_request,
                                    QualificationRequestId=pending[0]["QualificationRequestId"],
                                    turk_code="AWS.MechanicalTurk.QualificationRequestDoesNotExist")
        finally:
            alice.close()
            bob.close()

    def test_auto_granted_and_inactive(self):
        auto = self.create(AutoGranted=True, AutoGrantedValue=12)["QualificationTypeId"]
        client = WorkerClient(self.server)
        try:
            reply = client.request_qualification(auto)
            self.assertEqual(reply["status"], "Granted")
            self.assertEqual(self.mturk.get_qualification_score(
                QualificationTypeId=auto, WorkerId=client.worker_id)["Qualification"]
                ["IntegerValue"], 12)
            self.assertEqual(self.mturk.list_qualification_requests(
                QualificationTypeId=auto)["NumResults"], 0)
            self.assertEqual(self.request_status(client, auto), 409)

            inactive = self.create(QualificationTypeStatus="Inactive")["QualificationTypeId"]
            self.assertIn(self.request_status(client, inactive), (409, 410))
            self.mturk.update_qualification_type(QualificationTypeId=inactive,
                                                 QualificationTypeStatus="Active")
            self.assertEqual(self.request_status(client, inactive), 200)

            self.assertEqual(self.request_status(client, LOCALE), 404)
            self.assertEqual(self.request_status(client, "3NOSUCHTYPE"), 404)
        finally:
            client.close()

    def test_graded_test(self):
        type_id = self.create(Test=test_form(), AnswerKey=answer_key(),
                              TestDurationInSeconds=600,
                              RetryDelayInSeconds=300)["QualificationTypeId"]
        perfect = WorkerClient(self.server)
        sloppy = WorkerClient(self.server)
        try:
            reply = perfect.request_qualification(type_id, answers("blue", "green",
                                                                   ["three", "two"]))
            self.assertEqual(reply["status"], "Granted")
            self.assertEqual(self.mturk.get_qualification_score(
                QualificationTypeId=type_id, WorkerId=perfect.worker_id)["Qualification"]
                ["IntegerValue"], 100)
            # 2 + 0 - 1 = 1 of 10.
            sloppy.request_qualification(type_id, answers("blue", "red", ["two"]))
            self.assertEqual(self.mturk.get_qualification_score(
                QualificationTypeId=type_id, WorkerId=sloppy.worker_id)["Qualification"]
                ["IntegerValue"], 10)
            # Graded requests need no decision.
            self.assertEqual(self.mturk.list_qualification_requests(
                QualificationTypeId=type_id)["NumResults"], 0)

            # Answers are checked against the test.
            self.assertEqual(self.request_status(sloppy, type_id), 400)

            # The retry delay runs from the last attempt.
            self.assertEqual(self.request_status(sloppy, type_id,
                                                 answers("blue", "green", ["two"])), 409)
            self.server.advance(200)
            self.assertEqual(self.request_status(sloppy, type_id,
                                                 answers("blue", "green", ["two"])), 409)
            self.server.advance(110)
            sloppy.request_qualification(type_id, answers("blue", "green", ["two"]))
            self.assertEqual(self.mturk.get_qualification_score(
                QualificationTypeId=type_id, WorkerId=sloppy.worker_id)["Qualification"]
                ["IntegerValue"], 30)
        finally:
            perfect.close()
            sloppy.close()

    def test_mappings_and_ungraded_test(self):
        scaled = self.create(Test=test_form(), TestDurationInSeconds=60, AnswerKey=answer_key(
            mapping="<QualificationValueMapping><ScaleMapping>"
                    "<SummedScoreMultiplier>3</SummedScoreMultiplier></ScaleMapping>"
                    "</QualificationValueMapping>"))["QualificationTypeId"]
        ranged = self.create(Test=test_form(), TestDurationInSeconds=60, AnswerKey=answer_key(
            mapping="<QualificationValueMapping><RangeMapping>"
                    "<SummedScoreRange><InclusiveLowerBound>8</InclusiveLowerBound>"
                    "<InclusiveUpperBound>10</InclusiveUpperBound>"
                    "<QualificationValue>1</QualificationValue></SummedScoreRange>"
                    "</RangeMapping></QualificationValueMapping>"))["QualificationTypeId"]
        summed = self.create(Test=test_form(), TestDurationInSeconds=60,
                             AnswerKey=answer_key(mapping=""))["QualificationTypeId"]
        manual = self.create(Test=test_form(), TestDurationInSeconds=60)["QualificationTypeId"]
        good = WorkerClient(self.server)
        poor = WorkerClient(self.server)
        try:
            good_answers = answers("blue", "green", ["two", "three"])
            poor_answers = answers("red", "green", ["four"])
            for type_id in (scaled, ranged, summed):
                good.request_qualification(type_id, good_answers)
                poor.request_qualification(type_id, poor_answers)

            def value(type_id, worker):
                return self.mturk.get_qualification_score(
                    QualificationTypeId=type_id, WorkerId=worker.worker_id
                )["Qualification"]["IntegerValue"]

            self.assertEqual((value(scaled, good), value(scaled, poor)), (30, 3))
            self.assertEqual((value(summed, good), value(summed, poor)), (10, 1))
            self.assertEqual(value(ranged, good), 1)
            # Out of every range and no OutOfRangeQualificationValue: not granted.
            self.assertRequestError(self.mturk.get_qualification_score,
                                    QualificationTypeId=ranged, WorkerId=poor.worker_id)

            # Without an AnswerKey the requester grades the answers.
            reply = good.request_qualification(manual, good_answers)
            self.assertEqual(reply["status"], "Pending")
            request = self.mturk.list_qualification_requests(
                QualificationTypeId=manual)["QualificationRequests"][0]
            self.assertEqual(request["Test"], test_form())
            self.assertIn("QuestionFormAnswers", request["Answer"])
            self.assertIn("<SelectionIdentifier>blue</SelectionIdentifier>", request["Answer"])
            self.mturk.accept_qualification_request(
                QualificationRequestId=request["QualificationRequestId"], IntegerValue=5)
            self.assertEqual(value(manual, good), 5)
            # No retry delay: one request only, whatever came of it.
            self.server.advance(60)
            self.assertEqual(self.request_status(good, manual, good_answers), 409)
            self.assertEqual(self.request_status(poor, ranged, good_answers), 409)
        finally:
            good.close()
            poor.close()


if __name__ == "__main__":
    main()
