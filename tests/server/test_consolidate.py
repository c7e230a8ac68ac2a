# SPDX-License-Identifier: GPL-3.0-or-later
"""ConsolidateHIT and ConsolidateBatch, Kempelen's extension operations
(docs/quality.md), against a real server: HITs with a crowd form
(crowd-classifier "category" + crowd-bounding-box "boxes") answered through
the worker API by three careful workers and a spammer."""

import http.client
import json
import os
import random
import shutil
import tempfile
import threading
import time

import botocore.auth
import botocore.awsrequest
import botocore.credentials

from kpserver import KpTestCase, Server, WorkerClient, free_text, main

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

GOLD_POLICY = {
    "PolicyName": "ScoreMyKnownAnswers/2011-09-01",
    "Parameters": [{"Key": "AnswerKey",
                    "MapEntries": [{"Key": "category", "Values": ["Cat"]}]}],
}


def signed_request(server, requester, operation, body):
    """(body bytes, headers) of a signed request for any operation (boto3's
    model lacks Kempelen's own)."""
    request = botocore.awsrequest.AWSRequest(
        method="POST", url=server.url, data=json.dumps(body).encode(),
        headers={"Content-Type": "application/x-amz-json-1.1",
                 "X-Amz-Target": "MTurkRequesterServiceV20170117." + operation})
    credentials = botocore.credentials.Credentials(requester["AccessKeyId"],
                                                   requester["SecretAccessKey"])
    botocore.auth.SigV4Auth(credentials, "mturk-requester", "us-east-1").add_auth(request)
    return request.body, dict(request.headers.items())


def raw_call(server, requester, operation, body, timeout=10):
    """A signed request for any operation; gives (status, JSON)."""
    data, headers = signed_request(server, requester, operation, body)
    status, _, data = server.raw("POST", "/", data, headers, timeout=timeout)
    return status, json.loads(data)


def crowd_answer(label, boxes):
    """What crowd-form submits: one taskAnswers FreeText with a JSON array."""
    answer = {"category": {"label": label},
              "boxes": {"boundingBoxes": [dict(b, label="car") for b in boxes],
                        "inputImageProperties": {"width": 640, "height": 480}}}
    return [free_text("taskAnswers", json.dumps([answer]))]


def iou(a, b):
    left = max(a["left"], b["left"])
    top = max(a["top"], b["top"])
    right = min(a["left"] + a["width"], b["left"] + b["width"])
    bottom = min(a["top"] + a["height"], b["top"] + b["height"])
    inter = max(0, right - left) * max(0, bottom - top)
    union = a["width"] * a["height"] + b["width"] * b["height"] - inter
    return inter / union


def jitter(box, rng):
    return {k: v + rng.randint(-2, 2) for k, v in box.items()}


FAR_BOX = {"left": 500, "top": 400, "width": 40, "height": 30}
OTHER_FAR_BOX = {"left": 5, "top": 400, "width": 30, "height": 40}


class ConsolidateTestCase(KpTestCase):
    """Batch "b1": HITs 0–5 (truth Cat for even, Dog for odd; one car box
    each), HIT 4 the hard one (one careful worker errs too), HIT 6 a gold
    HIT (known answer Cat). Four assignments each."""

    N_HITS = 6
    HARD = 4

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        rng = random.Random(8)
        cls.careful = [WorkerClient(cls.server) for _ in range(3)]
        cls.spammer = WorkerClient(cls.server)
        cls.hits = []
        cls.truth = {}
        for row in range(cls.N_HITS + 1):
            gold = row == cls.N_HITS
            params = {}
            if gold:
                params["AssignmentReviewPolicy"] = GOLD_POLICY
            hit = cls.create_crowd_hit(cls.mturk, "kempelen-batch:b1:%d" % row, **params)
            label = "Cat" if row % 2 == 0 or gold else "Dog"
            box = {"left": 40 + 10 * row, "top": 60, "width": 120, "height": 80}
            cls.hits.append(hit["HITId"])
            cls.truth[hit["HITId"]] = (label, box)
            for i, worker in enumerate(cls.careful):
                if row == cls.HARD and i == 2:
                    answer = crowd_answer("Dog", [OTHER_FAR_BOX])
                else:
                    answer = crowd_answer(label, [jitter(box, rng)])
                cls.answer(worker, hit["HITId"], answer)
            cls.answer(cls.spammer, hit["HITId"], crowd_answer("Dog", [FAR_BOX]))
        cls.gold_hit = cls.hits[cls.N_HITS]
        cls.hard_hit = cls.hits[cls.HARD]

        # Batches whose ids only look alike, and a HIT of no batch: none of
        # them is in b1.
        for annotation in ("kempelen-batch:b10:0", "kempelen-batch:B1:0", "b1", None):
            hit = cls.create_crowd_hit(cls.mturk, annotation)
            cls.answer(cls.careful[0], hit["HITId"], crowd_answer("Dog", [FAR_BOX]))
            if annotation is None:
                cls.lone_hit = hit["HITId"]

        # Another requester's HIT, in a batch of the same name.
        cls.other = cls.server.create_requester()
        cls.other_mturk = cls.server.mturk(cls.other)
        hit = cls.create_crowd_hit(cls.other_mturk, "kempelen-batch:b1:0")
        cls.other_hit = hit["HITId"]
        cls.answer(cls.careful[1], cls.other_hit, crowd_answer("Cat", [FAR_BOX]))

    @classmethod
    def create_crowd_hit(cls, mturk, annotation, **params):
        params = dict(MaxAssignments=4, LifetimeInSeconds=3600,
                      AssignmentDurationInSeconds=600, Reward="0.05",
                      Title="Find the car", Description="Classify and draw a box",
                      Question=CROWD_HTML, **params)
        if annotation is not None:
            params["RequesterAnnotation"] = annotation
        return mturk.create_hit(**params)["HIT"]

    @staticmethod
    def answer(worker, hit_id, answers):
        assignment_id = worker.accept_hit(hit_id)["assignment_id"]
        worker.submit(assignment_id, answers)
        return assignment_id

    def call(self, operation, body, requester=None):
        return raw_call(self.server, requester or self.requester, operation, body)

    def ok(self, operation, body, requester=None):
        status, answer = self.call(operation, body, requester)
        self.assertEqual(status, 200, answer)
        return answer

    def assertError(self, operation, body, turk_code=None, message=None):
        status, answer = self.call(operation, body)
        self.assertEqual((status, answer.get("__type")), (400, "RequestError"), answer)
        if turk_code is not None:
            self.assertEqual(answer.get("TurkErrorCode"), turk_code, answer)
        if message is not None:
            self.assertIn(message, answer["Message"])
        return answer

    def assertTruth(self, result):
        label, box = self.truth[result["ItemId"]]
        self.assertEqual(result["Answer"]["category"]["label"], label, result)
        boxes = result["Answer"]["boxes"]["boundingBoxes"]
        self.assertEqual(len(boxes), 1, result)
        self.assertEqual(boxes[0]["label"], "car")
        self.assertGreater(iou(boxes[0], box), 0.8, boxes[0])

    def batch(self, **body):
        body.setdefault("BatchId", "b1")
        return self.ok("ConsolidateBatch", body)

    def all_pages(self, **body):
        results = []
        pages = 0
        token = None
        while True:
            if token:
                body["NextToken"] = token
            page = self.batch(**body)
            pages += 1
            self.assertEqual(page["NumResults"], len(page["Results"]))
            results += page["Results"]
            token = page.get("NextToken")
            if not token:
                return results, pages

    # --- ConsolidateHIT ---

    def test_consolidate_hit(self):
        for hit_id in self.hits:
            if hit_id == self.hard_hit:
                continue
            answer = self.ok("ConsolidateHIT", {"HITId": hit_id})
            self.assertEqual(answer["HITId"], hit_id)
            result = answer["Result"]
            self.assertEqual(result["ItemId"], hit_id)
            self.assertTruth(result)
            self.assertEqual(result["Elements"]["category"]["Type"], "classification")
            self.assertEqual(result["Elements"]["category"]["Method"], "dawid-skene")
            self.assertEqual(result["Elements"]["boxes"]["Type"], "boxes")
            self.assertEqual(len(result["Assignments"]), 4)
            for member in ("Confidence", "Agreement"):
                self.assertGreaterEqual(result[member], 0.0)
                self.assertLessEqual(result[member], 1.0)

    def test_workers_quality_learned_over_the_batch(self):
        answer = self.ok("ConsolidateHIT", {"HITId": self.hits[0]})
        workers = answer["Workers"]
        spam = workers[self.spammer.worker_id]
        self.assertEqual(spam["Assignments"], self.N_HITS + 1)
        for worker in self.careful[:2]:
            self.assertGreater(workers[worker.worker_id]["Accuracy"], spam["Accuracy"])
            self.assertGreater(workers[worker.worker_id]["Agreement"], spam["Agreement"])
        # Only b1's workers' assignments count: careful[0] answered three
        # HITs outside b1.
        self.assertEqual(workers[self.careful[0].worker_id]["Assignments"], self.N_HITS + 1)

    def test_hard_hit_by_worker_quality(self):
        # Two careful workers say Cat, one careful worker and the spammer
        # Dog: Dawid–Skene trusts who was right on the rest of the batch.
        result = self.ok("ConsolidateHIT", {"HITId": self.hard_hit})["Result"]
        self.assertEqual(result["Answer"]["category"]["label"], "Cat")
        easy = self.ok("ConsolidateHIT", {"HITId": self.hits[0]})["Result"]
        self.assertLess(result["Agreement"], easy["Agreement"])

    def test_quorum(self):
        _, box = self.truth[self.hard_hit]
        # Two of four workers drew the car: no strict majority...
        result = self.ok("ConsolidateHIT", {"HITId": self.hard_hit})["Result"]
        self.assertEqual(result["Answer"]["boxes"]["boundingBoxes"], [])
        # ...enough with a quorum of two.
        result = self.ok("ConsolidateHIT", {"HITId": self.hard_hit, "Quorum": 2})["Result"]
        boxes = result["Answer"]["boxes"]["boundingBoxes"]
        self.assertEqual(len(boxes), 1, boxes)
        self.assertGreater(iou(boxes[0], box), 0.8)

    def test_iou_threshold(self):
        # The careful workers' boxes differ by a few pixels: they match at
        # 0.5 but not at 0.99.
        result = self.ok("ConsolidateHIT", {"HITId": self.hits[0], "IoUThreshold": 0.99})["Result"]
        self.assertEqual(result["Answer"]["boxes"]["boundingBoxes"], [])
        result = self.ok("ConsolidateHIT", {"HITId": self.hits[0], "IoUThreshold": 0.5})["Result"]
        self.assertEqual(len(result["Answer"]["boxes"]["boundingBoxes"]), 1)

    def test_methods(self):
        for method in ("majority", "one-coin", "dawid-skene"):
            result = self.ok("ConsolidateHIT", {"HITId": self.hits[1], "Method": method})["Result"]
            self.assertEqual(result["Elements"]["category"]["Method"], method)
            self.assertTruth(result)

    def test_gold(self):
        result = self.ok("ConsolidateHIT", {"HITId": self.gold_hit})["Result"]
        self.assertIs(result.get("Gold"), True)
        self.assertTruth(result)
        correct = {a["WorkerId"]: a["GoldCorrect"] for a in result["Assignments"]}
        self.assertEqual(correct[self.spammer.worker_id], 0)
        for worker in self.careful:
            self.assertEqual(correct[worker.worker_id], 1)
        # Other HITs are not gold.
        result = self.ok("ConsolidateHIT", {"HITId": self.hits[0]})["Result"]
        self.assertNotIn("Gold", result)
        self.assertTrue(all("GoldCorrect" not in a for a in result["Assignments"]))
        workers = self.ok("ConsolidateHIT", {"HITId": self.hits[0]})["Workers"]
        self.assertEqual(workers[self.spammer.worker_id]["GoldAnswers"], 1)
        self.assertEqual(workers[self.spammer.worker_id]["GoldAccuracy"], 0)
        self.assertEqual(workers[self.careful[0].worker_id]["GoldAccuracy"], 1)

    def test_hit_of_no_batch(self):
        answer = self.ok("ConsolidateHIT", {"HITId": self.lone_hit})
        self.assertEqual(answer["Result"]["Answer"]["category"]["label"], "Dog")
        self.assertEqual(list(answer["Workers"]), [self.careful[0].worker_id])

    def test_hit_without_answers(self):
        hit = self.create_crowd_hit(self.mturk, "kempelen-batch:empty:0")
        result = self.ok("ConsolidateHIT", {"HITId": hit["HITId"]})["Result"]
        self.assertEqual(result["ItemId"], hit["HITId"])
        self.assertEqual((result["Answer"], result["Assignments"]), ({}, []))

    def test_unknown_and_foreign_hit(self):
        status, expected = self.call("GetHIT", {"HITId": "NOSUCHHIT"})
        answer = self.assertError("ConsolidateHIT", {"HITId": "NOSUCHHIT"},
                                  turk_code="AWS.MechanicalTurk.HITDoesNotExist")
        self.assertEqual(answer["Message"], expected["Message"])
        self.assertError("ConsolidateHIT", {"HITId": self.other_hit},
                         turk_code="AWS.MechanicalTurk.HITDoesNotExist")

    def test_bad_parameters(self):
        hit = self.hits[0]
        self.assertError("ConsolidateHIT", {}, message="HITId")
        self.assertError("ConsolidateHIT", {"HITId": "lower-case"}, message="HITId")
        self.assertError("ConsolidateHIT", {"HITId": hit, "Method": "vote"}, message="Method")
        for iou_threshold in (0, -0.1, 1.5, "0.5", True):
            self.assertError("ConsolidateHIT", {"HITId": hit, "IoUThreshold": iou_threshold},
                             message="IoUThreshold")
        self.assertError("ConsolidateHIT", {"HITId": hit, "Quorum": -1}, message="Quorum")
        self.assertError("ConsolidateHIT", {"HITId": hit, "Quorum": 1.5}, message="Quorum")
        self.assertError("ConsolidateHIT", {"HITId": hit, "IncludeRejected": "yes"},
                         message="IncludeRejected")
        self.assertError("ConsolidateHIT", {"HITId": hit, "SortBy": "HITId"}, message="SortBy")
        self.assertError("ConsolidateBatch", {"BatchId": "b1", "Method": "Majority"},
                         message="Method")
        self.assertError("ConsolidateBatch", {"BatchId": "b1", "IoUThreshold": 2},
                         message="IoUThreshold")

    def test_unsigned_request_refused(self):
        status, _, _ = self.server.raw(
            "POST", "/", json.dumps({"HITId": self.hits[0]}).encode(),
            {"Content-Type": "application/x-amz-json-1.1",
             "X-Amz-Target": "MTurkRequesterServiceV20170117.ConsolidateHIT"})
        self.assertNotEqual(status, 200)

    # --- ConsolidateBatch ---

    def test_batch(self):
        answer = self.batch()
        self.assertEqual(answer["NumHITs"], self.N_HITS + 1)
        self.assertEqual(answer["NumResults"], self.N_HITS + 1)
        self.assertNotIn("NextToken", answer)
        ids = [r["ItemId"] for r in answer["Results"]]
        self.assertEqual(ids, sorted(self.hits))
        for result in answer["Results"]:
            if result["ItemId"] != self.hard_hit:
                self.assertTruth(result)
        self.assertEqual(set(answer["Workers"]),
                         {w.worker_id for w in self.careful + [self.spammer]})
        # The same as ConsolidateHIT's.
        single = self.ok("ConsolidateHIT", {"HITId": self.hits[2]})["Result"]
        self.assertEqual(answer["Results"][ids.index(self.hits[2])], single)

    def test_batch_by_disagreement(self):
        answer = self.batch(SortBy="Disagreement")
        agreement = [r["Agreement"] for r in answer["Results"]]
        self.assertEqual(agreement, sorted(agreement))
        self.assertEqual(answer["Results"][0]["ItemId"], self.hard_hit)
        self.assertEqual(len(answer["Results"]), self.N_HITS + 1)

    def test_pages(self):
        results, pages = self.all_pages(MaxResults=3)
        self.assertEqual(pages, 3)
        self.assertEqual([r["ItemId"] for r in results], sorted(self.hits))

        one_page = self.batch(SortBy="Disagreement")["Results"]
        results, pages = self.all_pages(MaxResults=2, SortBy="Disagreement")
        self.assertEqual(pages, 4)
        self.assertEqual([r["ItemId"] for r in results], [r["ItemId"] for r in one_page])

    def test_bad_pages(self):
        first = self.batch(MaxResults=2)
        self.assertError("ConsolidateBatch", {"BatchId": "b1", "MaxResults": 0},
                         message="MaxResults")
        self.assertError("ConsolidateBatch", {"BatchId": "b1", "MaxResults": 101},
                         message="MaxResults")
        self.assertError("ConsolidateBatch", {"BatchId": "b1", "NextToken": "forged"},
                         message="NextToken")
        # Another operation's token is not valid here.
        listed = self.mturk.list_hits(MaxResults=1)
        self.assertError("ConsolidateBatch", {"BatchId": "b1", "NextToken": listed["NextToken"]},
                         message="NextToken")
        # A HITId token does not continue a Disagreement listing.
        self.assertError("ConsolidateBatch", {"BatchId": "b1", "SortBy": "Disagreement",
                                              "NextToken": first["NextToken"]},
                         message="NextToken")

    def test_default_page_size(self):
        # 100 results a page unless asked (MTurk's listings default to 10).
        for row in range(12):
            hit = self.create_crowd_hit(self.mturk, "kempelen-batch:many:%d" % row)
            self.answer(self.careful[row % 3], hit["HITId"], crowd_answer("Cat", [FAR_BOX]))
        answer = self.batch(BatchId="many")
        self.assertEqual((answer["NumHITs"], answer["NumResults"]), (12, 12))
        self.assertNotIn("NextToken", answer)
        self.assertError("ConsolidateBatch", {"BatchId": "many", "SortBy": "Agreement"},
                         message="SortBy")

    def test_batch_id_is_a_prefix_not_a_pattern(self):
        for batch_id, n in (("b10", 1), ("B1", 1), ("b", 0), ("b%", 0), ("b_", 0), ("nothing", 0)):
            answer = self.batch(BatchId=batch_id)
            self.assertEqual((answer["NumHITs"], answer["NumResults"]), (n, n), batch_id)

    def test_hit_ids(self):
        answer = self.ok("ConsolidateBatch", {"HITIds": [self.hits[3], self.hits[0], self.hits[3]]})
        self.assertEqual(answer["NumHITs"], 2)
        self.assertEqual([r["ItemId"] for r in answer["Results"]], sorted(self.hits[i] for i in (0, 3)))
        for result in answer["Results"]:
            self.assertTruth(result)
            self.assertEqual(len(result["Assignments"]), 4)
        # HITs without answers are counted but not listed.
        hit = self.create_crowd_hit(self.mturk, None)
        answer = self.ok("ConsolidateBatch", {"HITIds": [hit["HITId"], self.hits[0]]})
        self.assertEqual((answer["NumHITs"], answer["NumResults"]), (2, 1))

    def test_hit_ids_limits(self):
        self.assertError("ConsolidateBatch", {"HITIds": []}, message="HITIds")
        self.assertError("ConsolidateBatch", {"HITIds": ["A%d" % i for i in range(1001)]},
                         message="HITIds")
        self.assertError("ConsolidateBatch", {"HITIds": [self.hits[0], 7]}, message="HITIds[1]")
        self.assertError("ConsolidateBatch", {"HITIds": ["not an id"]}, message="HITIds[0]")
        self.assertError("ConsolidateBatch", {}, message="BatchId")
        self.assertError("ConsolidateBatch", {"BatchId": "b1", "HITIds": [self.hits[0]]},
                         message="BatchId")
        self.assertError("ConsolidateBatch", {"BatchId": ""}, message="BatchId")
        # 1000 ids is the most; unknown ones fail as GetHIT does.
        self.assertError("ConsolidateBatch", {"HITIds": ["A%d" % i for i in range(1000)]},
                         turk_code="AWS.MechanicalTurk.HITDoesNotExist")

    def test_other_requesters_hits_invisible(self):
        self.assertError("ConsolidateBatch", {"HITIds": [self.hits[0], self.other_hit]},
                         turk_code="AWS.MechanicalTurk.HITDoesNotExist")
        mine = self.batch()
        self.assertNotIn(self.other_hit, [r["ItemId"] for r in mine["Results"]])
        theirs = self.ok("ConsolidateBatch", {"BatchId": "b1"}, requester=self.other)
        self.assertEqual([r["ItemId"] for r in theirs["Results"]], [self.other_hit])
        self.assertEqual(list(theirs["Workers"]), [self.careful[1].worker_id])
        status, answer = self.call("ConsolidateHIT", {"HITId": self.hits[0]}, requester=self.other)
        self.assertEqual(answer.get("TurkErrorCode"), "AWS.MechanicalTurk.HITDoesNotExist")

    def test_rejected_and_new_answers(self):
        # A batch of its own, so the other tests' figures stay.
        hit = self.create_crowd_hit(self.mturk, "kempelen-batch:rej:0")["HITId"]
        box = {"left": 100, "top": 100, "width": 50, "height": 50}
        ids = [self.answer(w, hit, crowd_answer("Cat", [box])) for w in self.careful[:2]]
        bad = self.answer(self.spammer, hit, crowd_answer("Dog", [FAR_BOX]))
        self.assertEqual(len(self.batch(BatchId="rej")["Results"][0]["Assignments"]), 3)

        # An approval changes nothing that is consolidated.
        before = self.batch(BatchId="rej")
        self.mturk.approve_assignment(AssignmentId=ids[0])
        self.assertEqual(self.batch(BatchId="rej"), before)

        self.mturk.reject_assignment(AssignmentId=bad, RequesterFeedback="Wrong")
        assignments = self.batch(BatchId="rej")["Results"][0]["Assignments"]
        self.assertEqual(sorted(a["AssignmentId"] for a in assignments), sorted(ids))
        assignments = self.batch(BatchId="rej", IncludeRejected=True)["Results"][0]["Assignments"]
        self.assertEqual(len(assignments), 3)

        # A new answer shows at once (nothing stale is served).
        self.answer(self.careful[2], hit, crowd_answer("Cat", [box]))
        self.assertEqual(len(self.batch(BatchId="rej")["Results"][0]["Assignments"]), 3)


class Held:
    """KP_TEST_HOLD_DEFERRED (kp-server.c, for tests only): every deferred
    computation of the server waits, before it starts, until the file
    exists, and creates FILE.waiting when it starts waiting."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="kp-hold-")
        self.path = os.path.join(self.dir, "release")

    @property
    def env(self):
        return {"KP_TEST_HOLD_DEFERRED": self.path}

    def hold(self):
        for path in (self.path, self.path + ".waiting"):
            if os.path.exists(path):
                os.unlink(path)

    def wait_held(self, testcase, timeout=30):
        """Until a computation waits (a deadline, not a measurement)."""
        deadline = time.monotonic() + timeout
        while not os.path.exists(self.path + ".waiting"):
            if time.monotonic() > deadline:
                testcase.fail("no deferred computation started")
            time.sleep(0.02)
        os.unlink(self.path + ".waiting")

    def release(self):
        with open(self.path, "w"):
            pass

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Call(threading.Thread):
    """A signed call on a thread of its own; status and answer once done."""

    def __init__(self, server, requester, operation, body):
        super().__init__(daemon=True)
        self.args = (server, requester, operation, body)
        self.status = self.answer = self.error = None
        self.start()

    def run(self):
        try:
            self.status, self.answer = raw_call(*self.args, timeout=60)
        except Exception as error:  # reported by the test
            self.error = error

    def result(self, testcase):
        self.join(60)
        testcase.assertFalse(self.is_alive(), "the call did not end")
        testcase.assertIsNone(self.error)
        return self.status, self.answer


class DeferredConsolidationTestCase(KpTestCase):
    """A consolidation runs off the main loop: while one is held, other
    clients are served; its answer comes once it is released; a client
    that hangs up meanwhile, or SIGTERM, leaves the server sound."""

    N_HITS = 4

    @classmethod
    def setUpClass(cls):
        cls.held = Held()
        # Debug lines say when a consolidation is read and computed.
        cls.server = Server(env=dict(cls.held.env, G_MESSAGES_DEBUG="Kempelen-server")).start()
        cls.requester = cls.server.create_requester()
        cls.mturk = cls.server.mturk(cls.requester)
        cls.workers = [WorkerClient(cls.server) for _ in range(3)]
        cls.truth = {}
        for row in range(cls.N_HITS):
            hit = ConsolidateTestCase.create_crowd_hit(cls.mturk, "kempelen-batch:held:%d" % row)
            label = "Cat" if row % 2 == 0 else "Dog"
            box = {"left": 30 + 20 * row, "top": 50, "width": 100, "height": 90}
            cls.truth[hit["HITId"]] = label
            for worker in cls.workers:
                ConsolidateTestCase.answer(worker, hit["HITId"], crowd_answer(label, [box]))

    @classmethod
    def tearDownClass(cls):
        cls.held.release()
        try:
            super().tearDownClass()
        finally:
            cls.held.cleanup()

    def setUp(self):
        self.held.hold()

    def assertConsolidated(self, status, answer):
        self.assertEqual(status, 200, answer)
        self.assertEqual((answer["NumHITs"], answer["NumResults"]), (self.N_HITS, self.N_HITS))
        self.assertEqual(sorted(r["ItemId"] for r in answer["Results"]), sorted(self.truth))
        for result in answer["Results"]:
            self.assertEqual(result["Answer"]["category"]["label"], self.truth[result["ItemId"]])
            self.assertEqual(len(result["Assignments"]), 3)
        self.assertEqual(set(answer["Workers"]), {w.worker_id for w in self.workers})

    def test_others_served_while_held(self):
        # Two consolidations (different options: not the same kept one);
        # with few cores the second waits in line for the first.
        first = Call(self.server, self.requester, "ConsolidateBatch",
                     {"BatchId": "held", "Quorum": 1})
        self.held.wait_held(self)
        second = Call(self.server, self.requester, "ConsolidateBatch",
                      {"BatchId": "held", "Quorum": 2, "SortBy": "Disagreement"})

        # A signed call, a write and a worker's call are all answered
        # while the consolidations cannot have finished.
        self.assertIn("AvailableBalance", self.mturk.get_account_balance())
        hit = ConsolidateTestCase.create_crowd_hit(self.mturk, "elsewhere")
        self.assertEqual(self.mturk.get_hit(HITId=hit["HITId"])["HIT"]["HITId"], hit["HITId"])
        self.assertEqual(self.workers[0].me()["worker_id"], self.workers[0].worker_id)
        self.assertTrue(first.is_alive() and second.is_alive())

        self.held.release()
        self.assertConsolidated(*first.result(self))
        status, answer = second.result(self)
        self.assertConsolidated(status, answer)
        agreement = [r["Agreement"] for r in answer["Results"]]
        self.assertEqual(agreement, sorted(agreement))

        # The consolidation is kept: the next page or HIT is answered at
        # once, even while computations are held again.
        self.held.hold()
        status, again = raw_call(self.server, self.requester, "ConsolidateBatch",
                                 {"BatchId": "held", "Quorum": 1})
        self.assertEqual((status, again), first.result(self))
        hit_id = sorted(self.truth)[1]
        status, single = raw_call(self.server, self.requester, "ConsolidateHIT",
                                  {"HITId": hit_id, "Quorum": 1})
        self.assertEqual(status, 200, single)
        self.assertEqual(single["Result"]["Answer"]["category"]["label"], self.truth[hit_id])

    def test_same_request_computed_once(self):
        # Options no other test uses: nothing kept for them yet.
        body = {"BatchId": "held", "Quorum": 3, "SortBy": "Disagreement"}
        read = "Read the answers of a consolidation"
        computed = "Consolidated %d HITs" % self.N_HITS
        reads, computations = self.server.log().count(read), self.server.log().count(computed)
        first = Call(self.server, self.requester, "ConsolidateBatch", body)
        self.held.wait_held(self)
        second = Call(self.server, self.requester, "ConsolidateBatch", body)
        deadline = time.monotonic() + 30
        while self.server.log().count(read) < reads + 2:
            self.assertLess(time.monotonic(), deadline, self.server.log())
            time.sleep(0.02)

        self.held.release()
        status, answer = first.result(self)
        self.assertConsolidated(status, answer)
        self.assertEqual(second.result(self), (status, answer))
        # One computation served both.
        self.assertEqual(self.server.log().count(computed), computations + 1, self.server.log())
        self.assertIn("served the same request that came meanwhile", self.server.log())

    def test_client_hangs_up_while_held(self):
        body = {"BatchId": "held", "Method": "majority"}
        data, headers = signed_request(self.server, self.requester, "ConsolidateBatch", body)
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        conn.request("POST", "/", body=data, headers=headers)
        self.held.wait_held(self)
        conn.close()

        # The server notices, cancels the computation and lets it go.
        deadline = time.monotonic() + 30
        while "cancelled: the client went away" not in self.server.log():
            self.assertLess(time.monotonic(), deadline, self.server.log())
            time.sleep(0.02)

        self.held.release()
        self.assertIn("AvailableBalance", self.mturk.get_account_balance())
        self.assertConsolidated(*raw_call(self.server, self.requester, "ConsolidateBatch", body))
        self.assertEqual(self.workers[1].me()["worker_id"], self.workers[1].worker_id)

    def test_sigterm_while_held(self):
        # A server of its own, stopped by the test.
        server = Server(env=self.held.env).start()
        try:
            requester = server.create_requester()
            call = Call(server, requester, "ConsolidateBatch", {"BatchId": "nothing"})
            self.held.wait_held(self)
            # Well within the drain timeout (5 s): the held computation is
            # cancelled, not waited for.
            self.assertEqual(server.stop(timeout=4), 0, server.log())
            # Answered, not dropped: told to come back later.
            status, answer = call.result(self)
            self.assertEqual((status, answer["__type"]), (500, "ServiceFault"), answer)
            self.assertIn("shutting down", answer["Message"])
        finally:
            server.cleanup()


if __name__ == "__main__":
    main()
