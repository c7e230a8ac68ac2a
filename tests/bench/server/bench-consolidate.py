# SPDX-License-Identifier: GPL-3.0-or-later
"""ConsolidateBatch on a large batch: 10,000 HITs x 3 assignments (a
crowd-classifier and a crowd-bounding-box each, answered by 30 workers of
whom 3 are spammers).

Prints BENCH lines:
  consolidate_batch_10k_ms         the first page of ConsolidateBatch on a
                                   store that changed since the last one: the
                                   whole batch read, parsed and consolidated
  consolidate_batch_10k_page_ms    a later page (the consolidation is kept
                                   while the store does not change)
  consolidate_batch_10k_after_approval_ms
                                   the first page again after an approval:
                                   the store changed, the selection did not
  consolidate_batch_10k_stall_ms   the longest a GetAccountBalance sent from
                                   another connection waited while the first
                                   page was computed (on a thread of its
                                   own since kp_api_defer (): only reading
                                   the rows and building the answer still
                                   hold the main loop)
  consolidate_batch_10k_server_anon_mb  the server's resident heap afterwards,
                                   with the consolidation kept (and
                                   _anon_before_mb before the first one)
  consolidate_batch_10k_accuracy   share of HITs whose consolidated label is
                                   the truth (sanity, not speed)

The batch is written straight into the SQLite store (with the server
stopped); submitting 30,000 answers through the worker API would measure
the worker API instead. The machine has two cores shared with everything
else running: the figures are noisy.
"""

import json
import os
import random
import sqlite3
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "server"))

import botocore.auth
import botocore.awsrequest
import botocore.credentials

from kpserver import Server, WorkerClient, free_text

N_HITS = int(os.environ.get("KP_BENCH_CONSOLIDATE_HITS", "10000"))
N_ASSIGNMENTS = 3
N_WORKERS = 30
N_SPAMMERS = 3
CLASSES = ["Cat", "Dog", "Bird", "Fish"]

QUESTION = (
    '<HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/'
    'AWSMechanicalTurkDataSchemas/2011-11-11/HTMLQuestion.xsd">'
    '<HTMLContent><![CDATA[<!DOCTYPE html><html><body><crowd-form>'
    '<crowd-classifier name="category" categories="[\'Cat\', \'Dog\', \'Bird\', \'Fish\']">'
    '</crowd-classifier><crowd-bounding-box name="boxes" src="https://example.com/a.jpg" '
    'labels="[\'car\']"></crowd-bounding-box></crowd-form></body></html>]]></HTMLContent>'
    '<FrameHeight>600</FrameHeight></HTMLQuestion>')


def bench(name, value, unit):
    print("BENCH %s %.3f %s" % (name, value, unit), flush=True)


def signed_call(server, requester, operation, body, timeout=120):
    request = botocore.awsrequest.AWSRequest(
        method="POST", url=server.url, data=json.dumps(body).encode(),
        headers={"Content-Type": "application/x-amz-json-1.1",
                 "X-Amz-Target": "MTurkRequesterServiceV20170117." + operation})
    credentials = botocore.credentials.Credentials(requester["AccessKeyId"],
                                                   requester["SecretAccessKey"])
    botocore.auth.SigV4Auth(credentials, "mturk-requester", "us-east-1").add_auth(request)
    status, _, data = server.raw("POST", "/", request.body, dict(request.headers.items()),
                                 timeout=timeout)
    if status != 200:
        raise RuntimeError("%s failed: %s" % (operation, data[:500]))
    return json.loads(data)


def crowd_json(label, box):
    return json.dumps([{"category": {"label": label},
                        "boxes": {"boundingBoxes": [dict(box, label="car")],
                                  "inputImageProperties": {"width": 640, "height": 480}}}])


def anon_memory(server):
    """The server's resident anonymous memory (the heap; SQLite's mapped
    store file is not counted), KiB."""
    with open("/proc/%d/status" % server.process.pid) as f:
        return int([line for line in f if line.startswith("RssAnon:")][0].split()[1])


def main():
    rng = random.Random(8)
    server = Server(args=["--quiet", "--rate-limit", "0"]).start()
    try:
        if server.store:
            print("bench-consolidate writes the SQLite store; skipped on PostgreSQL")
            return 77
        requester = server.create_requester(funds="100000")
        mturk = server.mturk(requester)
        workers = [server.create_worker() for _ in range(N_WORKERS)]

        # One HIT made and answered through the API: the rows to copy.
        template = mturk.create_hit(
            MaxAssignments=N_ASSIGNMENTS, LifetimeInSeconds=86400,
            AssignmentDurationInSeconds=600, Reward="0.01", Title="Bench",
            Description="Consolidation", Question=QUESTION,
            RequesterAnnotation="kempelen-batch:template:0")["HIT"]
        client = WorkerClient(server, workers[0])
        assignment_id = client.accept_hit(template["HITId"])["assignment_id"]
        marker = "MARKER-JSON"
        client.submit(assignment_id, [free_text("taskAnswers", marker)])
        client.close()
        server.stop()

        db = sqlite3.connect(os.path.join(server.data_dir, "kempelen.db"), timeout=60)
        (answer_xml,) = db.execute("SELECT answer FROM assignments WHERE id = ?",
                                   (assignment_id,)).fetchone()
        assert marker in answer_xml, answer_xml
        row = db.execute("SELECT hit_type_id, requester_id, question, question_kind, "
                         "created, expiration FROM hits WHERE id = ?",
                         (template["HITId"],)).fetchone()
        from xml.sax.saxutils import escape

        hits = []
        assignments = []
        truth = {}
        now = int(time.time())
        for i in range(N_HITS):
            hit_id = "BENCH%025d" % i
            hits.append((hit_id, *row[:4], "kempelen-batch:big:%d" % i, N_ASSIGNMENTS,
                         "Reviewable", row[4], row[5]))
            label = rng.choice(CLASSES)
            box = {"left": rng.randint(0, 400), "top": rng.randint(0, 300),
                   "width": rng.randint(40, 200), "height": rng.randint(40, 150)}
            truth[hit_id] = label
            for j, w in enumerate(rng.sample(range(N_WORKERS), N_ASSIGNMENTS)):
                if w < N_SPAMMERS:
                    given = rng.choice(CLASSES)
                    given_box = {"left": rng.randint(0, 600), "top": rng.randint(0, 450),
                                 "width": 30, "height": 30}
                else:
                    given = label if rng.random() < 0.85 else rng.choice(CLASSES)
                    given_box = {k: v + rng.randint(-3, 3) for k, v in box.items()}
                xml = answer_xml.replace(marker, escape(crowd_json(given, given_box)))
                assignments.append(("BA%09d%02d" % (i, j), hit_id, workers[w]["WorkerId"],
                                    "Submitted", now, now + 600, now, now + 86400, xml))
        with db:
            db.executemany("INSERT INTO hits (id, hit_type_id, requester_id, question, "
                           "question_kind, requester_annotation, max_assignments, status, "
                           "created, expiration) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", hits)
            db.executemany("INSERT INTO assignments (id, hit_id, worker_id, status, "
                           "accept_time, deadline, submit_time, auto_approval_time, answer) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", assignments)
        db.close()
        server.start("127.0.0.1:%d" % server.port)
        signed_call(server, requester, "GetAccountBalance", {})
        bench("consolidate_batch_10k_server_anon_before_mb", anon_memory(server) / 1024, "MiB")

        # Another client polls meanwhile: how long does it wait?
        stop = threading.Event()
        waits = []

        def poll():
            while not stop.is_set():
                start = time.monotonic()
                signed_call(server, requester, "GetAccountBalance", {})
                waits.append(time.monotonic() - start)
                time.sleep(0.005)

        poller = threading.Thread(target=poll)
        poller.start()
        time.sleep(0.2)
        start = time.monotonic()
        first = signed_call(server, requester, "ConsolidateBatch",
                            {"BatchId": "big", "SortBy": "Disagreement"}, timeout=600)
        elapsed = time.monotonic() - start
        time.sleep(0.2)
        stop.set()
        poller.join()
        bench("consolidate_batch_10k_ms", elapsed * 1000, "ms")
        bench("consolidate_batch_10k_stall_ms", max(waits) * 1000, "ms")

        assert first["NumHITs"] == N_HITS, first["NumHITs"]
        start = time.monotonic()
        second = signed_call(server, requester, "ConsolidateBatch",
                             {"BatchId": "big", "SortBy": "Disagreement",
                              "NextToken": first["NextToken"]})
        bench("consolidate_batch_10k_page_ms", (time.monotonic() - start) * 1000, "ms")

        # An approval changes the store but not what is consolidated: the
        # kept consolidation is found valid by its fingerprint.
        signed_call(server, requester, "ApproveAssignment", {"AssignmentId": assignments[0][0]})
        start = time.monotonic()
        signed_call(server, requester, "ConsolidateBatch", {"BatchId": "big", "SortBy": "Disagreement"})
        bench("consolidate_batch_10k_after_approval_ms", (time.monotonic() - start) * 1000, "ms")

        agreement = [r["Agreement"] for r in first["Results"] + second["Results"]]
        assert agreement == sorted(agreement)
        correct = 0
        token = None
        while True:
            body = {"BatchId": "big"}
            if token:
                body["NextToken"] = token
            page = signed_call(server, requester, "ConsolidateBatch", body)
            for result in page["Results"]:
                if result["Answer"].get("category", {}).get("label") == truth[result["ItemId"]]:
                    correct += 1
            token = page.get("NextToken")
            if not token:
                break
        bench("consolidate_batch_10k_accuracy", correct / N_HITS, "share")
        bench("consolidate_batch_10k_server_anon_mb", anon_memory(server) / 1024, "MiB")
        return 0
    finally:
        server.stop()
        server.cleanup()


if __name__ == "__main__":
    sys.exit(main())
