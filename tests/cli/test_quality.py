# SPDX-License-Identifier: GPL-3.0-or-later
"""kempelenctl batch create --gold, consolidate and scores against a real
kempelen-server: a batch of image rows with a crowd-image-classifier, 3
assignments each, and gold rows; two good workers and a spammer answer
through the worker API. The gold HITs carry ScoreMyKnownAnswers and look
like any other to workers; consolidate recovers every true label; scores
puts the spammer first; a boxes batch consolidates into one box per
object in COCO and YOLO; a bad gold.csv is refused with its line."""

import csv
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))

from kpserver import KEMPELENCTL, KpTestCase, WorkerClient, WorkerError, main  # noqa: E402

CLASSIFIER = """<crowd-form>
  <crowd-image-classifier name="animal" src="${image_url}" header="Which animal is it?"
                          categories="['cat', 'dog', 'bird']"></crowd-image-classifier>
</crowd-form>
"""

BOXES = """<crowd-form>
  <crowd-bounding-box name="boxes" src="${image_url}" header="Box each animal"
                      labels="['cat', 'dog']"></crowd-bounding-box>
</crowd-form>
"""

CLASSES = ["cat", "dog", "bird"]
N_ROWS = 20
TRUTH = [CLASSES[(i * 5 + i // 3) % 3] for i in range(N_ROWS)]
GOLD = [("https://example.org/img/g1.jpg", "dog"),
        ("https://example.org/img/g2.jpg", "cat"),
        ("https://example.org/img/g3.jpg", "bird")]
# The plain row (a cat) the second good worker gets wrong, calling it a
# dog; it does the same on the gold row of line 3, which tells the model
# whom to believe on that row.
SLIP = 4


def write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)


def label_answer(label):
    return [{"QuestionIdentifier": "taskAnswers",
             "FreeText": json.dumps([{"animal": {"label": label}}])}]


def box(label, left, top, width, height):
    return {"label": label, "left": left, "top": top, "width": width, "height": height}


def boxes_answer(boxes):
    answer = {"boxes": {"boundingBoxes": boxes,
                        "inputImageProperties": {"width": 400, "height": 300}}}
    return [{"QuestionIdentifier": "taskAnswers", "FreeText": json.dumps([answer])}]


class QualityTest(KpTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dir = tempfile.mkdtemp(prefix="kp-quality-test-", dir=cls.server.tmp)
        cls.layout = os.path.join(cls.dir, "classify.html")
        with open(cls.layout, "w") as f:
            f.write(CLASSIFIER)
        cls.rows = os.path.join(cls.dir, "rows.csv")
        write_csv(cls.rows, ["image_url"],
                  [["https://example.org/img/%02d.jpg" % i] for i in range(N_ROWS)])
        cls.gold = os.path.join(cls.dir, "gold.csv")
        write_csv(cls.gold, ["image_url", "answer.animal"], [list(g) for g in GOLD])
        cls.batch_file = os.path.join(cls.dir, "batches.json")
        cls.env = dict(os.environ)
        cls.env.update({
            "AWS_ACCESS_KEY_ID": cls.requester["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": cls.requester["SecretAccessKey"],
            "HOME": cls.dir,
            "XDG_DATA_HOME": os.path.join(cls.dir, "data"),
            "KEMPELENCTL_RETRY_DELAY_MS": "10",
        })
        cls.env.pop("AWS_PROFILE", None)
        cls.env.pop("AWS_SHARED_CREDENTIALS_FILE", None)
        cls.workers = []
        cls.classified = None

    @classmethod
    def tearDownClass(cls):
        for worker in cls.workers:
            worker.close()
        super().tearDownClass()

    # --- helpers ---

    @classmethod
    def run_ctl(cls, *args, code=0):
        argv = [KEMPELENCTL, "batch", *args, "--batch-file", cls.batch_file,
                "--endpoint", cls.server.url]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=cls.env)
        if code is not None and result.returncode != code:
            raise AssertionError("%s exited with %d, not %d\nstdout: %s\nstderr: %s"
                                 % (argv, result.returncode, code, result.stdout, result.stderr))
        return result

    def ctl(self, *args, code=0):
        return self.run_ctl(*args, code=code)

    @classmethod
    def create(cls, *extra, layout=None, rows=None, code=0, assignments="3"):
        return cls.run_ctl("create", "--layout", layout or cls.layout, "--input", rows or cls.rows,
                           "--title", "Name the animal", "--reward", "0.02",
                           "--assignments", assignments, "--lifetime", "1d", "--duration", "10m",
                           "--json", *extra, code=code)

    @classmethod
    def worker(cls):
        client = WorkerClient(cls.server)
        cls.workers.append(client)
        return client

    @classmethod
    def batch(cls, batch_id):
        with open(cls.batch_file) as f:
            return json.load(f)["batches"][batch_id]

    @classmethod
    def classified_batch(cls):
        """The classifier batch with gold, answered by two good workers
        and a spammer (made once, shared by the tests)."""
        if cls.classified is not None:
            return cls.classified
        created = json.loads(cls.create("--gold", cls.gold, "--gold-approve-at", "100",
                                         "--gold-reject-below", "50",
                                         "--gold-min-answers", "2").stdout)
        batch = cls.batch(created["BatchId"])
        good, careful, spammer = cls.worker(), cls.worker(), cls.worker()
        truth = {}
        for row in batch["rows"]:
            truth[row["hit_id"]] = (row["known"]["animal"] if row.get("gold")
                                    else TRUTH[row["row"] - 1])
        for row in batch["rows"]:
            hit_id = row["hit_id"]
            right = truth[hit_id]
            wrong = CLASSES[(CLASSES.index(right) + 1) % 3]
            # The careful worker slips once on a plain row and once on a
            # gold one alike: gold tells it is the one to trust less there.
            slipped = (row["row"] - 1 == SLIP if not row.get("gold")
                       else row["gold_line"] == 3)
            for worker, label in ((good, right), (careful, wrong if slipped else right),
                                  (spammer, "cat")):
                assignment = worker.accept_hit(hit_id)["assignment_id"]
                worker.submit(assignment, label_answer(label))
        cls.classified = (created, batch, truth, good, careful, spammer)
        return cls.classified

    # --- the tests ---

    def test_help(self):
        for command in ("consolidate", "scores"):
            result = self.ctl(command, "--help")
            self.assertIn("kempelenctl batch " + command, result.stdout)
            self.assertIn("--method", result.stdout)
        self.assertIn("--gold", self.ctl("create", "--help").stdout)
        self.assertIn("consolidate", self.ctl("--help").stdout)
        result = self.ctl("consolidate", "--method", "coin-toss", code=2)
        self.assertIn("coin-toss", result.stderr)
        result = self.ctl("consolidate", "--format", "xml", code=2)
        self.assertIn("xml", result.stderr)

    def test_gold_hits(self):
        created, batch, truth, good, _, _ = self.classified_batch()
        self.assertEqual(created["HITs"], N_ROWS + len(GOLD))
        self.assertEqual(created["GoldHITs"], len(GOLD))

        gold_rows = [r for r in batch["rows"] if r.get("gold")]
        plain_rows = [r for r in batch["rows"] if not r.get("gold")]
        self.assertEqual([r["known"] for r in gold_rows], [{"animal": g[1]} for g in GOLD])
        self.assertEqual([r["input"] for r in gold_rows], [{"image_url": g[0]} for g in GOLD])
        type_id = batch["gold"]["qualification_type_id"]

        # Gold HITs are shuffled among the others (in the order they were
        # made, the store's insertion order), not all made last.
        gold_ids = {r["hit_id"] for r in gold_rows}
        batch_ids = gold_ids | {r["hit_id"] for r in plain_rows}
        order = [h for (h,) in self.server.sql("SELECT id FROM hits ORDER BY rowid")
                 if h in batch_ids]
        self.assertEqual(len(order), N_ROWS + len(GOLD))
        positions = sorted(order.index(h) for h in gold_ids)
        self.assertNotEqual(positions, list(range(N_ROWS, N_ROWS + len(GOLD))))

        for row in gold_rows:
            result = self.mturk.list_review_policy_results_for_hit(
                HITId=row["hit_id"], PolicyLevels=["Assignment"])
            policy = result["AssignmentReviewPolicy"]
            self.assertEqual(policy["PolicyName"], "ScoreMyKnownAnswers/2011-09-01")
            parameters = {p["Key"]: p for p in policy["Parameters"]}
            self.assertEqual(parameters["AnswerKey"]["MapEntries"],
                             [{"Key": "animal", "Values": [row["known"]["animal"]]}])
            self.assertEqual(parameters["ApproveIfKnownAnswerScoreIsAtLeast"]["Values"], ["100"])
            self.assertEqual(parameters["RejectIfKnownAnswerScoreIsLessThan"]["Values"], ["50"])
            self.assertTrue(parameters["RejectReason"]["Values"][0])
            self.assertEqual(parameters["ScoreQualificationTypeId"]["Values"], [type_id])
            self.assertEqual(parameters["MinimumKnownAnswers"]["Values"], ["2"])
        for row in plain_rows[:3]:
            result = self.mturk.list_review_policy_results_for_hit(HITId=row["hit_id"])
            self.assertNotIn("AssignmentReviewPolicy", result)

        # The score qualification: made once, AutoGranted with 100.
        qual = self.mturk.get_qualification_type(QualificationTypeId=type_id)["QualificationType"]
        self.assertEqual(qual["Name"], "Gold score: " + created["BatchId"])
        self.assertTrue(qual["AutoGranted"])
        self.assertEqual(qual["AutoGrantedValue"], 100)

        # To a worker, a gold HIT looks like any other.
        gold_view = good.hit(gold_rows[0]["hit_id"])
        plain_view = good.hit(plain_rows[0]["hit_id"])
        self.assertEqual(sorted(gold_view), sorted(plain_view))
        text = json.dumps(gold_view)
        for secret in ("ScoreMyKnownAnswers", "AnswerKey", "gold", "Gold", "kempelen-batch"):
            self.assertNotIn(secret, text)

        # Running create again resumes: nothing new, the same type.
        again = json.loads(self.create("--gold", self.gold, "--gold-approve-at", "100",
                                       "--gold-reject-below", "50",
                                       "--gold-min-answers", "2").stdout)
        self.assertEqual(again["BatchId"], created["BatchId"])
        self.assertEqual(again["Created"], 0)
        self.assertEqual(self.batch(created["BatchId"])["gold"]["qualification_type_id"], type_id)

        # status counts gold HITs on their own; results marks their rows.
        status = json.loads(self.ctl("status", created["BatchId"], "--json").stdout)
        self.assertEqual(status["HITs"], N_ROWS)
        self.assertEqual(status["Gold"]["HITs"], len(GOLD))
        self.assertEqual(status["Assignments"]["Requested"], N_ROWS * 3)
        lines = [json.loads(l) for l in
                 self.ctl("results", created["BatchId"], "--format", "jsonl").stdout.splitlines()]
        marked = {l["HITId"] for l in lines if l.get("Gold")}
        self.assertEqual(marked, gold_ids)

    def test_consolidate_jsonl(self):
        created, batch, truth, _, _, _ = self.classified_batch()
        result = self.ctl("consolidate", created["BatchId"])
        lines = [json.loads(l) for l in result.stdout.splitlines()]
        self.assertEqual(len(lines), N_ROWS)
        for line in lines:
            self.assertNotIn("Gold", line)
            self.assertEqual(line["Answer"]["animal"]["label"], truth[line["ItemId"]],
                             line)
            self.assertEqual(line["Answer"]["animal"]["label"], TRUTH[line["Row"] - 1])
            # Where the good workers disagree, less sure.
            self.assertGreater(line["Confidence"], 0.4 if line["Row"] - 1 == SLIP else 0.8)
            self.assertLessEqual(line["Confidence"], 1.0)
            self.assertIn("image_url", line["input"])
            self.assertEqual(len(line["Assignments"]), 3)

        with_gold = self.ctl("consolidate", created["BatchId"], "--include-gold").stdout
        gold_lines = [json.loads(l) for l in with_gold.splitlines() if json.loads(l).get("Gold")]
        self.assertEqual(len(gold_lines), len(GOLD))

    def test_scores(self):
        created, _, _, good, careful, spammer = self.classified_batch()
        table = json.loads(self.ctl("scores", created["BatchId"], "--json").stdout)
        by_worker = {w["WorkerId"]: w for w in table}
        self.assertEqual(set(by_worker), {good.worker_id, careful.worker_id, spammer.worker_id})
        self.assertEqual(table[0]["WorkerId"], spammer.worker_id)
        for worker in (good, careful):
            self.assertGreater(by_worker[worker.worker_id]["Accuracy"],
                               by_worker[spammer.worker_id]["Accuracy"] + 0.3)
        self.assertEqual(by_worker[good.worker_id]["GoldAccuracy"], 1.0)
        self.assertAlmostEqual(by_worker[careful.worker_id]["GoldAccuracy"], 2 / 3, places=3)
        self.assertEqual(by_worker[spammer.worker_id]["GoldAnswers"], len(GOLD))
        self.assertLess(by_worker[spammer.worker_id]["GoldAccuracy"], 0.5)

        text = self.ctl("scores", created["BatchId"]).stdout.splitlines()
        self.assertIn("WORKER", text[0])
        self.assertTrue(text[1].startswith(spammer.worker_id))
        self.assertEqual(len(text), 4)

    def test_gt_manifest(self):
        created, _, _, _, _, _ = self.classified_batch()
        out = os.path.join(self.dir, "out.manifest")
        self.ctl("consolidate", created["BatchId"], "--format", "gt-manifest", "--output", out,
                 "--label-attribute", "animal-label", "--job-name", "animals")
        with open(out) as f:
            lines = [json.loads(l) for l in f]
        self.assertEqual(len(lines), N_ROWS)
        for line in lines:
            self.assertTrue(line["source-ref"].startswith("https://example.org/img/"))
            row = int(line["source-ref"][-6:-4])
            self.assertEqual(line["animal-label"], CLASSES.index(TRUTH[row]))
            metadata = line["animal-label-metadata"]
            self.assertEqual(metadata["class-name"], TRUTH[row])
            self.assertGreater(metadata["confidence"], 0.4 if row == SLIP else 0.8)
            self.assertEqual(metadata["type"], "groundtruth/image-classification")
            self.assertEqual(metadata["job-name"], "labeling-job/animals")
            self.assertEqual(metadata["human-annotated"], "yes")
            self.assertRegex(metadata["creation-date"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")

    def test_boxes(self):
        layout = os.path.join(self.dir, "boxes.html")
        with open(layout, "w") as f:
            f.write(BOXES)
        rows = os.path.join(self.dir, "box-rows.csv")
        write_csv(rows, ["image_url"], [["https://example.org/box/a.jpg"],
                                        ["https://example.org/box/b.jpg"]])
        created = json.loads(self.create(layout=layout, rows=rows, assignments="2").stdout)
        batch = self.batch(created["BatchId"])
        answers = [
            ([box("cat", 10, 20, 100, 50), box("dog", 200, 100, 60, 40)],
             [box("cat", 12, 18, 98, 54), box("dog", 204, 98, 58, 44)]),
            ([box("dog", 50, 50, 80, 80)], [box("dog", 52, 49, 78, 82)]),
        ]
        alice, bob = self.worker(), self.worker()
        for row, (first, second) in zip(batch["rows"], answers):
            for worker, boxes in ((alice, first), (bob, second)):
                assignment = worker.accept_hit(row["hit_id"])["assignment_id"]
                worker.submit(assignment, boxes_answer(boxes))

        out = os.path.join(self.dir, "boxes.json")
        self.ctl("consolidate", created["BatchId"], "--format", "coco", "--output", out)
        with open(out) as f:
            coco = json.load(f)
        self.assertEqual([c["name"] for c in coco["categories"]], ["cat", "dog"])
        per_image = {}
        for annotation in coco["annotations"]:
            per_image.setdefault(annotation["image_id"], []).append(annotation)
            self.assertGreater(annotation["score"], 0.5)
            self.assertLessEqual(annotation["score"], 1.0)
            self.assertNotIn("attributes", annotation)
        self.assertEqual(sorted(len(v) for v in per_image.values()), [1, 2])
        first = sorted(per_image[batch["rows"][0]["row"]], key=lambda a: a["bbox"][0])
        self.assertEqual([a["category_id"] for a in first], [1, 2])
        for got, want in zip(first[0]["bbox"], (11, 19, 99, 52)):
            self.assertAlmostEqual(got, want, delta=1.5)
        self.assertEqual({i["width"] for i in coco["images"]}, {400})

        folder = os.path.join(self.dir, "yolo")
        self.ctl("consolidate", created["BatchId"], "--format", "yolo", "--output", folder)
        with open(os.path.join(folder, "labels", "a.txt")) as f:
            a_lines = f.read().splitlines()
        with open(os.path.join(folder, "labels", "b.txt")) as f:
            b_lines = f.read().splitlines()
        self.assertEqual(len(a_lines), 2)
        self.assertEqual(len(b_lines), 1)
        self.assertEqual(b_lines[0].split()[0], "1")
        cx = float(b_lines[0].split()[1])
        self.assertAlmostEqual(cx, (51 + 79 / 2) / 400, delta=0.01)

        # gt-manifest of boxes: Ground Truth's object detection output.
        manifest = self.ctl("consolidate", created["BatchId"], "--format", "gt-manifest").stdout
        lines = [json.loads(l) for l in manifest.splitlines()]
        self.assertEqual(len(lines), 2)
        line = [l for l in lines if l["source-ref"].endswith("a.jpg")][0]
        self.assertEqual(len(line["boxes"]["annotations"]), 2)
        self.assertEqual(line["boxes"]["image_size"], [{"width": 400, "height": 300, "depth": 3}])
        metadata = line["boxes-metadata"]
        self.assertEqual(metadata["type"], "groundtruth/object-detection")
        self.assertEqual(metadata["class-map"], {"0": "cat", "1": "dog"})
        self.assertEqual(len(metadata["objects"]), 2)
        self.assertGreater(metadata["objects"][0]["confidence"], 0.5)

    def test_bad_gold(self):
        def gold_file(name, header, rows):
            path = os.path.join(self.dir, name)
            write_csv(path, header, rows)
            return path

        cases = [
            (gold_file("missing.csv", ["answer.animal"], [["cat"]]),
             ":1:", "image_url"),
            (gold_file("extra.csv", ["image_url", "colour", "answer.animal"],
                       [["https://example.org/x.jpg", "red", "cat"]]),
             ":1:", "colour"),
            (gold_file("noanswer.csv", ["image_url"], [["https://example.org/x.jpg"]]),
             ":1:", "answer."),
            (gold_file("unknown.csv", ["image_url", "answer.species"],
                       [["https://example.org/x.jpg", "cat"]]),
             ":1:", "answer.species"),
            (gold_file("badjson.csv", ["image_url", "answer.animal"],
                       [["https://example.org/x.jpg", "cat"],
                        ["https://example.org/y.jpg", '{"label": "dog"']]),
             ":3:", "JSON"),
        ]
        for path, line, word in cases:
            result = self.create("--gold", path, code=2)
            self.assertIn(os.path.basename(path) + line, result.stderr)
            self.assertIn(word, result.stderr)

        result = self.create("--gold-approve-at", "90", code=2)
        self.assertIn("--gold", result.stderr)
        result = self.create("--gold", self.gold, "--gold-min-score", "120", code=2)
        self.assertIn("--gold-min-score", result.stderr)

    def test_min_score_requirement(self):
        created = json.loads(self.create("--gold", self.gold, "--gold-min-score", "70",
                                         "--gold-min-answers", "1", "--batch", "strict").stdout)
        batch = self.batch(created["BatchId"])
        type_id = batch["gold"]["qualification_type_id"]
        hit = self.mturk.get_hit(HITId=batch["rows"][0]["hit_id"])["HIT"]
        requirements = hit["QualificationRequirements"]
        self.assertIn({"QualificationTypeId": type_id, "Comparator": "GreaterThanOrEqualTo",
                       "IntegerValues": [70]},
                      [{k: r[k] for k in ("QualificationTypeId", "Comparator", "IntegerValues")}
                       for r in requirements])
        gold_row = [r for r in batch["rows"] if r.get("gold")][0]
        policy = self.mturk.list_review_policy_results_for_hit(
            HITId=gold_row["hit_id"])["AssignmentReviewPolicy"]
        parameters = {p["Key"]: p.get("Values") for p in policy["Parameters"]}
        self.assertEqual(parameters["RevokeScoreIfLessThan"], ["70"])

        # A worker who gets a gold question wrong loses the score and cannot
        # take more of the batch; one who gets it right goes on.
        plain = [r for r in batch["rows"] if not r.get("gold")]
        wrong = CLASSES[(CLASSES.index(gold_row["known"]["animal"]) + 1) % 3]
        sloppy, diligent = self.worker(), self.worker()
        for worker, label in ((sloppy, wrong), (diligent, gold_row["known"]["animal"])):
            assignment = worker.accept_hit(gold_row["hit_id"])["assignment_id"]
            worker.submit(assignment, label_answer(label))
        diligent.accept_hit(plain[0]["hit_id"])
        with self.assertRaises(WorkerError) as refused:
            sloppy.accept_hit(plain[1]["hit_id"])
        self.assertEqual(refused.exception.status, 403)
        self.assertIn("Gold score: strict", refused.exception.body["message"])


if __name__ == "__main__":
    main()
