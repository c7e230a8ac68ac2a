# SPDX-License-Identifier: GPL-3.0-or-later
"""kempelenctl batch against a real kempelen-server: create HITs from a
CSV file and a layout through the MTurk API (env credentials, --endpoint),
workers submit through the worker API, then status, results in every
format (parsed back), approve --where / --all and expire. Creating twice,
or again after a "crash" that lost the batch file, never duplicates a
HIT."""

import csv
import http.client
import http.server
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))

from kpserver import KEMPELENCTL, KpTestCase, WorkerClient, main  # noqa: E402

LAYOUT = """<crowd-form>
  <h2>${title}</h2>
  <crowd-bounding-box name="boxes" src="${image_url}" header="Draw a box around each animal"
                      labels="['cat', 'dog']"></crowd-bounding-box>
  <crowd-input name="comment" label="Anything to add?"></crowd-input>
</crowd-form>
"""

QUESTION_FORM = """<QuestionForm xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2017-11-06/QuestionForm.xsd">
<Question><QuestionIdentifier>colour</QuestionIdentifier><IsRequired>true</IsRequired>
<QuestionContent><Text>What colour is the ${thing}?</Text></QuestionContent>
<AnswerSpecification><FreeTextAnswer/></AnswerSpecification></Question>
</QuestionForm>
"""

ROWS = [
    {"image_url": "https://example.org/img/cat1.jpg", "title": "First, \"quoted\""},
    {"image_url": "https://example.org/img/dog2.png", "title": "Second"},
    {"image_url": "https://example.org/other/cat1.jpg", "title": "Third <b>"},
]


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        writer.writerows(rows)


class FlakyProxy:
    """Forwards MTurk API requests to the server unchanged (the SigV4
    signature still holds), after answering the first ones with the faults
    queued: "throttle" (400 ThrottlingException), "fault" (500
    ServiceFault) or "unavailable" (503, no body)."""

    def __init__(self, server):
        self.faults = []
        self.requests = 0
        self.swallow = set()   # numbers of requests forwarded and left unanswered
        self.targets = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                proxy.requests += 1
                proxy.targets.append(self.headers["X-Amz-Target"].split(".")[-1])
                if proxy.faults:
                    fault = proxy.faults.pop(0)
                    status, data = {
                        "throttle": (400, {"__type": "ThrottlingException",
                                           "message": "Rate exceeded"}),
                        "fault": (500, {"__type": "ServiceFault", "Message": "Try later"}),
                        "unavailable": (503, None),
                    }[fault]
                    data = json.dumps(data).encode() if data else b""
                    self.send_response(status)
                    self.send_header("Content-Type", "application/x-amz-json-1.1")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                    return
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                try:
                    conn.request("POST", self.path, body=body, headers=dict(self.headers))
                    response = conn.getresponse()
                    data = response.read()
                finally:
                    conn.close()
                if proxy.requests in proxy.swallow:
                    # Done at the server, but the answer is lost.
                    self.close_connection = True
                    return
                self.send_response(response.status)
                self.send_header("Content-Type", response.getheader("Content-Type"))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def crowd_answer(boxes, comment, width=400, height=300):
    answer = {"boxes": {"boundingBoxes": boxes,
                        "inputImageProperties": {"width": width, "height": height}},
              "comment": comment}
    return [{"QuestionIdentifier": "taskAnswers", "FreeText": json.dumps([answer])}]


def box(label, left, top, width, height):
    return {"label": label, "left": left, "top": top, "width": width, "height": height}


class BatchTest(KpTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dir = tempfile.mkdtemp(prefix="kp-batch-test-", dir=cls.server.tmp)
        cls.layout = os.path.join(cls.dir, "layout.html")
        with open(cls.layout, "w") as f:
            f.write(LAYOUT)
        cls.rows = os.path.join(cls.dir, "rows.csv")
        write_csv(cls.rows, ROWS)
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

    # --- helpers ---

    def ctl(self, *args, code=0, env=None, batch_file=True, endpoint=True):
        argv = [KEMPELENCTL, "batch", *args]
        if batch_file:
            argv += ["--batch-file", self.batch_file]
        if endpoint:
            argv += ["--endpoint", self.server.url]
        result = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                                env=env or self.env)
        if code is not None:
            self.assertEqual(result.returncode, code,
                             "%s\nstdout: %s\nstderr: %s" % (argv, result.stdout, result.stderr))
        return result

    def create(self, *extra, layout=None, rows=None, code=0, **kwargs):
        return self.ctl("create", "--layout", layout or self.layout, "--input", rows or self.rows,
                        "--title", "Box the animals", "--reward", "0.05", "--assignments", "2",
                        "--lifetime", "3d", "--duration", "30m", "--keywords", "image,boxes",
                        "--json", *extra, code=code, **kwargs)

    def batch_hits(self, batch_id):
        hits = self.mturk.list_hits(MaxResults=100)["HITs"]
        prefix = "kempelen-batch:%s:" % batch_id
        return sorted((h for h in hits if h.get("RequesterAnnotation", "").startswith(prefix)),
                      key=lambda h: int(h["RequesterAnnotation"].rsplit(":", 1)[1]))

    def worker(self):
        client = WorkerClient(self.server)
        self.addCleanup(client.close)
        return client

    # --- the tests ---

    def test_help_and_usage(self):
        for command in ("create", "status", "results", "approve", "expire"):
            result = self.ctl(command, "--help", batch_file=False, endpoint=False)
            self.assertIn("kempelenctl batch " + command, result.stdout)
            self.assertIn("--batch-file", result.stdout)
        self.assertIn("approve", self.ctl("--help", batch_file=False, endpoint=False).stdout)

        result = self.ctl("frobnicate", code=2, batch_file=False, endpoint=False)
        self.assertTrue(result.stderr.startswith("kempelenctl: "))
        result = self.ctl("create", "--layout", self.layout, code=2)
        self.assertIn("--input", result.stderr)
        result = self.create("--duration", "soon", code=2)
        self.assertIn("--duration", result.stderr)
        result = self.ctl("create", "--layout", self.layout, "--input", self.rows, "--title", "t",
                          "--reward", "5 cents", "--lifetime", "1d", "--duration", "1h", code=2)
        self.assertIn("--reward", result.stderr)
        result = self.create("--qualification", "ABC:Bigger:3", code=2)
        self.assertIn("--qualification", result.stderr)
        result = self.create("--endpoint", "localhost:8470", code=1, endpoint=False)
        self.assertIn("not an http:// or https:// URL", result.stderr)
        # Never Amazon's production service by default.
        env = dict(self.env)
        env.pop("KEMPELEN_ENDPOINT", None)
        result = self.create(code=1, endpoint=False, env=env)
        self.assertIn("No endpoint", result.stderr)
        result = self.ctl("approve", code=2)
        self.assertIn("--all", result.stderr)
        result = self.ctl("approve", "--where", "answer.x ~ 3", code=2)
        self.assertIn("operator", result.stderr)

    def test_credentials(self):
        env = dict(self.env)
        del env["AWS_ACCESS_KEY_ID"]
        del env["AWS_SECRET_ACCESS_KEY"]
        result = self.create(code=1, env=env, batch_file=False)
        self.assertIn("AWS_ACCESS_KEY_ID", result.stderr)

        # A profile of ~/.aws/credentials (HOME is the test's folder).
        os.makedirs(os.path.join(self.dir, ".aws"), exist_ok=True)
        with open(os.path.join(self.dir, ".aws", "credentials"), "w") as f:
            f.write("[default]\naws_access_key_id = AKIANOBODY\naws_secret_access_key = nope\n"
                    "[kp]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
                    % (self.requester["AccessKeyId"], self.requester["SecretAccessKey"]))
        other_file = os.path.join(self.dir, "profile-batches.json")
        argv = ["--batch-file", other_file]
        result = self.create("--profile", "kp", "--batch", "profiled", *argv, env=env,
                             batch_file=False)
        self.assertEqual(json.loads(result.stdout)["Created"], 3)

        # Refused credentials: the server's message, and never the secret.
        env["AWS_ACCESS_KEY_ID"] = self.requester["AccessKeyId"]
        env["AWS_SECRET_ACCESS_KEY"] = "wrong-secret-wrong-secret"
        result = subprocess.run([KEMPELENCTL, "batch", "status", "profiled", "--batch-file",
                                 other_file], capture_output=True, text=True, env=env, timeout=60)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertTrue(result.stderr.startswith("kempelenctl: "))
        self.assertNotIn("wrong-secret", result.stderr + result.stdout)
        self.assertNotIn(self.requester["SecretAccessKey"], result.stderr + result.stdout)

    def test_layout_errors_create_nothing(self):
        bad = os.path.join(self.dir, "bad.html")
        with open(bad, "w") as f:
            f.write('<crowd-form><crowd-bounding-box name="b" src="${missing}" '
                    'labels="[\'a\'"></crowd-bounding-box></crowd-form>')
        before = len(self.mturk.list_hits(MaxResults=100)["HITs"])
        result = self.create("--batch", "bad", layout=bad, code=1)
        self.assertRegex(result.stderr, r"bad\.html:1:\d+: error: ")
        self.assertIn("no HIT was created", result.stderr)
        self.assertEqual(len(self.mturk.list_hits(MaxResults=100)["HITs"]), before)

    def test_question_form_batch(self):
        layout = os.path.join(self.dir, "form.xml")
        with open(layout, "w") as f:
            f.write(QUESTION_FORM)
        rows = os.path.join(self.dir, "things.csv")
        write_csv(rows, [{"thing": "sky"}, {"thing": "grass & moss"}])
        created = json.loads(self.create("--batch", "forms", layout=layout, rows=rows).stdout)
        hits = self.batch_hits("forms")
        self.assertEqual(len(hits), 2)
        self.assertEqual(created["HITs"], 2)
        self.assertIn("What colour is the grass &amp; moss?", hits[1]["Question"])
        self.assertIn("QuestionForm", hits[1]["Question"])

        worker = self.worker()
        assignment = worker.accept_hit(hits[1]["HITId"])["assignment_id"]
        worker.submit(assignment, [{"QuestionIdentifier": "colour", "FreeText": "green"}])
        lines = self.ctl("results", "forms", "--format", "jsonl").stdout.splitlines()
        self.assertEqual(len(lines), 1)
        result = json.loads(lines[0])
        self.assertEqual(result["Answer"], {"colour": "green"})
        self.assertEqual(result["Input"], {"thing": "grass & moss"})
        self.assertEqual(result["Row"], 2)

    def test_external_question_batch(self):
        layout = os.path.join(self.dir, "external.xml")
        with open(layout, "w") as f:
            f.write('<ExternalQuestion xmlns="http://mechanicalturk.amazonaws.com/'
                    'AWSMechanicalTurkDataSchemas/2006-07-14/ExternalQuestion.xsd">'
                    '<ExternalURL>https://survey.example.org/task?item=${item}</ExternalURL>'
                    '<FrameHeight>600</FrameHeight></ExternalQuestion>')
        rows = os.path.join(self.dir, "items.csv")
        write_csv(rows, [{"item": "17"}, {"item": "18"}])
        self.create("--batch", "external", layout=layout, rows=rows)
        hits = self.batch_hits("external")
        self.assertEqual(len(hits), 2)
        self.assertIn("https://survey.example.org/task?item=18", hits[1]["Question"])

        # The page posts its form to turkSubmitTo/mturk/externalSubmit.
        worker = self.worker()
        assignment = worker.accept_hit(hits[1]["HITId"])["assignment_id"]
        body = "assignmentId=%s&rating=4&tags=a&tags=b" % assignment
        status, _, page = self.server.raw("POST", "/mturk/externalSubmit", body.encode(), {
            "Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 200, page)

        lines = self.ctl("results", "external", "--format", "jsonl").stdout.splitlines()
        self.assertEqual(len(lines), 1)
        result = json.loads(lines[0])
        self.assertEqual(result["Answer"], {"rating": "4", "tags": "a|b"})
        self.assertEqual((result["Row"], result["Input"]), (2, {"item": "18"}))
        self.assertEqual(result["AssignmentId"], assignment)

    def test_end_to_end(self):
        created = json.loads(self.create("--batch", "animals").stdout)
        self.assertEqual((created["BatchId"], created["HITs"], created["Created"]),
                         ("animals", 3, 3))
        hits = self.batch_hits("animals")
        self.assertEqual(len(hits), 3)
        for hit, row in zip(hits, ROWS):
            self.assertEqual(hit["HITTypeId"], created["HITTypeId"])
            self.assertEqual(hit["MaxAssignments"], 2)
            self.assertEqual(hit["Reward"], "0.05")
            self.assertEqual(hit["Title"], "Box the animals")
            self.assertIn("HTMLQuestion", hit["Question"])
            self.assertIn(row["image_url"], hit["Question"])
        self.assertIn("Third &lt;b&gt;", hits[2]["Question"])
        self.assertIn("crowd-html-elements.js", hits[0]["Question"])

        # Again: the same HITs, nothing new.
        again = json.loads(self.create("--batch", "animals").stdout)
        self.assertEqual((again["Created"], again["AlreadyCreated"]), (0, 3))
        self.assertEqual(len(self.batch_hits("animals")), 3)

        # A "crash" after CreateHIT and before the batch file was saved:
        # the row's HIT id is lost; the next run finds it again.
        with open(self.batch_file) as f:
            saved = json.load(f)
        saved["batches"]["animals"]["rows"][1]["hit_id"] = None
        with open(self.batch_file, "w") as f:
            json.dump(saved, f)
        again = json.loads(self.create("--batch", "animals").stdout)
        self.assertEqual((again["Created"], again["AlreadyCreated"]), (0, 3))
        with open(self.batch_file) as f:
            self.assertEqual(json.load(f)["batches"]["animals"]["rows"][1]["hit_id"],
                             hits[1]["HITId"])

        # Lost entirely: the UniqueRequestTokens and annotations still hold.
        os.rename(self.batch_file, self.batch_file + ".lost")
        again = json.loads(self.create("--batch", "animals").stdout)
        self.assertEqual(again["Created"], 0)
        self.assertEqual(len(self.batch_hits("animals")), 3)
        with open(self.batch_file) as f:
            self.assertEqual([r["hit_id"] for r in json.load(f)["batches"]["animals"]["rows"]],
                             [h["HITId"] for h in hits])

        # Without --batch the id comes from the inputs: stable across runs.
        derived = json.loads(self.create().stdout)
        self.assertRegex(derived["BatchId"], r"^[0-9a-f]{16}$")
        self.assertEqual(json.loads(self.create().stdout)["BatchId"], derived["BatchId"])
        self.assertEqual(len(self.batch_hits(derived["BatchId"])), 3)
        # The same id with other settings is refused.
        result = self.ctl("create", "--layout", self.layout, "--input", self.rows, "--title",
                          "Other", "--reward", "0.05", "--lifetime", "1d", "--duration", "30m",
                          "--batch", "animals", code=1)
        self.assertIn("already exists", result.stderr)

        # Work: alice boxes all three rows, bob two of them.
        alice, bob = self.worker(), self.worker()
        answers = {
            (alice, 0): crowd_answer([box("cat", 10, 20, 100, 50)], "good"),
            (alice, 1): crowd_answer([box("dog", 0, 0, 40, 30), box("cat", 200, 100, 20, 20)],
                                     "good"),
            (alice, 2): crowd_answer([], "empty, \"really\""),
            (bob, 0): crowd_answer([box("cat", 12, 18, 98, 55)], "meh"),
            (bob, 1): crowd_answer([box("dog", 1, 2, 39, 29)], "good"),
        }
        assignment_ids = {}
        for (worker, index), answer in answers.items():
            assignment = worker.accept_hit(hits[index]["HITId"])["assignment_id"]
            worker.submit(assignment, answer)
            assignment_ids[(worker.worker_id, index)] = assignment
        # One more accepted and not submitted.
        carol = self.worker()
        carol.accept_hit(hits[2]["HITId"])

        status = json.loads(self.ctl("status", "animals", "--json").stdout)
        self.assertEqual(status["HITs"], 3)
        self.assertEqual(status["Assignments"], {"Requested": 6, "Available": 0, "Pending": 1,
                                                 "Submitted": 5, "Approved": 0, "Rejected": 0})
        self.assertAlmostEqual(status["Progress"], 5 / 6)
        self.assertEqual(sum(status["HITStatuses"].values()), 3)
        text = self.ctl("status", "animals").stdout
        self.assertIn("5/6", text)

        # results: csv
        out = self.ctl("results", "animals", "--format", "csv").stdout
        table = list(csv.DictReader(io.StringIO(out)))
        self.assertEqual(len(table), 5)
        by_assignment = {r["AssignmentId"]: r for r in table}
        row = by_assignment[assignment_ids[(alice.worker_id, 2)]]
        self.assertEqual(row["Input.title"], "Third <b>")
        self.assertEqual(row["Answer.comment"], "empty, \"really\"")
        self.assertEqual(row["WorkerId"], alice.worker_id)
        self.assertEqual(row["AssignmentStatus"], "Submitted")
        self.assertEqual(row["HITTypeId"], created["HITTypeId"])
        self.assertEqual(json.loads(row["Answer.boxes"])["boundingBoxes"], [])
        row = by_assignment[assignment_ids[(bob.worker_id, 0)]]
        self.assertEqual(row["Input.title"], "First, \"quoted\"")
        self.assertEqual(row["Row"], "1")
        self.assertRegex(row["SubmitTime"], r"^\d{4}-\d\d-\d\dT")

        # jsonl: the crowd answers exactly as submitted.
        lines = [json.loads(l) for l in
                 self.ctl("results", "animals", "--format", "jsonl").stdout.splitlines()]
        self.assertEqual(len(lines), 5)
        for line in lines:
            worker = alice if line["WorkerId"] == alice.worker_id else bob
            expected = json.loads(answers[(worker, line["Row"] - 1)][0]["FreeText"])[0]
            self.assertEqual(line["Answer"], expected)
            self.assertEqual(line["Input"], ROWS[line["Row"] - 1])
            self.assertEqual(line["BatchId"], "animals")

        # gt-manifest: one line per row with answers.
        manifest = [json.loads(l) for l in
                    self.ctl("results", "animals", "--format", "gt-manifest",
                             "--label-attribute", "animals").stdout.splitlines()]
        self.assertEqual(len(manifest), 3)
        first = manifest[0]
        self.assertEqual(first["image_url"], ROWS[0]["image_url"])
        workers = first["animals"]["annotationsFromAllWorkers"]
        self.assertEqual(sorted(w["workerId"] for w in workers),
                         sorted([alice.worker_id, bob.worker_id]))
        content = {w["workerId"]: json.loads(w["annotationData"]["content"]) for w in workers}
        self.assertEqual(content[bob.worker_id]["boxes"]["boundingBoxes"],
                         [box("cat", 12, 18, 98, 55)])
        self.assertEqual(first["animals-metadata"]["type"], "groundtruth/custom")
        self.assertEqual(first["animals-metadata"]["job-name"], "animals")

        # coco
        coco_path = os.path.join(self.dir, "coco.json")
        self.ctl("results", "animals", "--format", "coco", "--output", coco_path)
        with open(coco_path) as f:
            coco = json.load(f)
        self.assertEqual(coco["categories"], [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}])
        self.assertEqual([(i["id"], i["file_name"], i["width"], i["height"])
                          for i in coco["images"]],
                         [(1, ROWS[0]["image_url"], 400, 300), (2, ROWS[1]["image_url"], 400, 300),
                          (3, ROWS[2]["image_url"], 400, 300)])
        got = sorted((a["image_id"], a["category_id"], tuple(a["bbox"]), a["area"],
                      a["attributes"]["worker_id"]) for a in coco["annotations"])
        self.assertEqual(got, sorted([
            (1, 1, (10, 20, 100, 50), 5000, alice.worker_id),
            (1, 1, (12, 18, 98, 55), 98 * 55, bob.worker_id),
            (2, 2, (0, 0, 40, 30), 1200, alice.worker_id),
            (2, 1, (200, 100, 20, 20), 400, alice.worker_id),
            (2, 2, (1, 2, 39, 29), 39 * 29, bob.worker_id)]))
        self.assertEqual(len({a["id"] for a in coco["annotations"]}), 5)

        # voc: names from the images, the duplicate cat1 told apart.
        voc = os.path.join(self.dir, "voc")
        self.ctl("results", "animals", "--format", "voc", "--output", voc)
        self.assertEqual(sorted(os.listdir(voc)), ["cat1.xml", "cat1_3.xml", "dog2.xml"])
        root = ET.parse(os.path.join(voc, "dog2.xml")).getroot()
        self.assertEqual(root.findtext("filename"), ROWS[1]["image_url"])
        self.assertEqual(root.findtext("size/width"), "400")
        objects = sorted((o.findtext("name"), int(o.findtext("bndbox/xmin")),
                          int(o.findtext("bndbox/ymin")), int(o.findtext("bndbox/xmax")),
                          int(o.findtext("bndbox/ymax"))) for o in root.findall("object"))
        self.assertEqual(objects, [("cat", 201, 101, 220, 120), ("dog", 1, 1, 40, 30),
                                   ("dog", 2, 3, 40, 31)])
        self.assertEqual(ET.parse(os.path.join(voc, "cat1_3.xml")).getroot().findall("object"),
                         [])

        # yolo
        yolo = os.path.join(self.dir, "yolo")
        self.ctl("results", "animals", "--format", "yolo", "--output", yolo)
        with open(os.path.join(yolo, "classes.txt")) as f:
            self.assertEqual(f.read(), "cat\ndog\n")
        with open(os.path.join(yolo, "images.txt")) as f:
            self.assertEqual(f.read().split(), [r["image_url"] for r in ROWS])
        with open(os.path.join(yolo, "labels", "cat1.txt")) as f:
            lines = sorted(f.read().splitlines())
        self.assertEqual(lines, sorted(["0 0.150000 0.150000 0.250000 0.166667",
                                        "0 0.152500 0.151667 0.245000 0.183333"]))
        with open(os.path.join(yolo, "labels", "cat1_3.txt")) as f:
            self.assertEqual(f.read(), "")

        # approve --where: alice's good answers on rows 1 and 2 only.
        where = "answer.comment = good and row <= 2 and worker = '%s'" % alice.worker_id
        dry = self.ctl("approve", "animals", "--where", where, "--dry-run").stdout.split()
        self.assertEqual(sorted(dry), sorted([assignment_ids[(alice.worker_id, 0)],
                                              assignment_ids[(alice.worker_id, 1)]]))
        self.assertEqual(self.mturk.get_assignment(AssignmentId=dry[0])["Assignment"]
                         ["AssignmentStatus"], "Submitted")
        approved = self.ctl("approve", "animals", "--where", where).stdout.split()
        self.assertEqual(sorted(approved), sorted(dry))
        for assignment_id in assignment_ids.values():
            state = self.mturk.get_assignment(AssignmentId=assignment_id)["Assignment"][
                "AssignmentStatus"]
            self.assertEqual(state, "Approved" if assignment_id in approved else "Submitted")

        # Numbers compare as numbers; text that matches nothing approves nothing.
        self.assertEqual(self.ctl("approve", "animals", "--where",
                                  "answer.boxes.inputImageProperties.width > 1000",
                                  "--dry-run").stdout, "")
        self.assertEqual(len(self.ctl("approve", "animals", "--where",
                                      "answer.boxes.boundingBoxes.0.label = dog",
                                      "--dry-run").stdout.split()), 1)

        # approve --all: the rest; results default to Submitted and Approved.
        rest = self.ctl("approve", "animals", "--all", "--feedback", "Thanks").stdout.split()
        self.assertEqual(len(rest), 3)
        status = json.loads(self.ctl("status", "animals", "--json").stdout)
        self.assertEqual((status["Assignments"]["Submitted"], status["Assignments"]["Approved"]),
                         (0, 5))
        self.assertEqual(len(self.ctl("results", "animals", "--format", "jsonl",
                                      "--status", "Approved").stdout.splitlines()), 5)
        self.assertEqual(self.ctl("results", "animals", "--format", "jsonl",
                                  "--status", "Rejected").stdout, "")

        # expire: nobody can accept any more.
        self.assertIn("Expired 3 HITs", self.ctl("expire", "animals").stdout)
        for hit in hits:
            got = self.mturk.get_hit(HITId=hit["HITId"])["HIT"]
            self.assertNotEqual(got["HITStatus"], "Assignable")
        dave = self.worker()
        status_code, _ = dave.call("POST", "/hits/%s/accept" % hits[2]["HITId"])
        self.assertIn(status_code, (403, 404, 409, 410))

    def test_lost_answer_to_create_hit(self):
        proxy = FlakyProxy(self.server)
        self.addCleanup(proxy.close)
        # 1 CreateHITType, 2 row 1, 3 row 2: made, but its answer is lost.
        proxy.swallow = {3}
        created = json.loads(self.create("--batch", "lost", "--endpoint", proxy.url,
                                         endpoint=False).stdout)
        self.assertEqual(created["HITs"], 3)
        self.assertEqual(proxy.targets, [
            "CreateHITType", "CreateHITWithHITType", "CreateHITWithHITType",
            # Tried again: the token is taken, so the HIT is found by its annotation.
            "CreateHITWithHITType", "ListHITs", "CreateHITWithHITType"])
        hits = self.batch_hits("lost")
        self.assertEqual(len(hits), 3)
        with open(self.batch_file) as f:
            rows = json.load(f)["batches"]["lost"]["rows"]
        self.assertEqual([r["hit_id"] for r in rows], [h["HITId"] for h in hits])

    def test_unknown_or_damaged_batch(self):
        result = self.ctl("status", "no-such-batch", code=1)
        self.assertIn("no-such-batch", result.stderr)

        damaged = os.path.join(self.dir, "damaged.json")
        with open(damaged, "w") as f:
            json.dump({"version": 1, "batches": {"x": {"id": "x", "rows": 3}}}, f)
        result = subprocess.run([KEMPELENCTL, "batch", "status", "x", "--batch-file", damaged],
                                capture_output=True, text=True, env=self.env, timeout=60)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("damaged", result.stderr)

    def test_retries_throttling_and_server_errors(self):
        self.create("--batch", "flaky")
        proxy = FlakyProxy(self.server)
        self.addCleanup(proxy.close)
        argv = ("--endpoint", proxy.url)

        # Each fault is tried again; the command succeeds.
        proxy.faults = ["throttle", "fault", "unavailable"]
        result = self.ctl("status", "flaky", "--json", *argv, endpoint=False)
        self.assertEqual(json.loads(result.stdout)["HITs"], 3)
        # 3 GetHIT + 3 ListAssignmentsForHIT, plus the 3 failed tries.
        self.assertEqual(proxy.requests, 6 + 3)
        self.assertEqual(proxy.faults, [])

        # Throttled for good: five retries, then the server's message.
        proxy.requests = 0
        proxy.faults = ["throttle"] * 20
        result = self.ctl("status", "flaky", *argv, code=1, endpoint=False)
        self.assertEqual(result.stderr.strip(), "kempelenctl: Rate exceeded")
        self.assertEqual(proxy.requests, 6)

        # A RequestError is not tried again.
        proxy.faults = []
        proxy.requests = 0
        with open(self.batch_file) as f:
            saved = json.load(f)
        saved["batches"]["flaky"]["rows"][0]["hit_id"] = "3NOSUCHHIT000000000"
        with open(self.batch_file, "w") as f:
            json.dump(saved, f)
        result = self.ctl("status", "flaky", *argv, code=1, endpoint=False)
        self.assertIn("3NOSUCHHIT000000000", result.stderr)
        self.assertEqual(proxy.requests, 1)


if __name__ == "__main__":
    main()
