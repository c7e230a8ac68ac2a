# SPDX-License-Identifier: GPL-3.0-or-later
"""/mturk/externalSubmit: the form an ExternalQuestion (or HTMLQuestion)
page posts becomes the assignment's answer, as MTurk does it: one FreeText
answer per field, repeated fields joined with "|", assignmentId required
plus at least one other field; unknown, previewed and finished
assignments are refused."""

import os
import sys
import urllib.parse
import uuid
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(__file__))

from kpserver import KpTestCase, WorkerClient, free_text, html_question, main, question_form

EXTERNAL = ('<ExternalQuestion xmlns="http://mechanicalturk.amazonaws.com/'
            'AWSMechanicalTurkDataSchemas/2006-07-14/ExternalQuestion.xsd">'
            '<ExternalURL>https://example.org/task?item=7</ExternalURL>'
            '<FrameHeight>600</FrameHeight></ExternalQuestion>')
ANSWERS_NS = ("{http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/"
              "2005-10-01/QuestionFormAnswers.xsd}")
PATH = "/mturk/externalSubmit"


def parse_answers(xml):
    """QuestionFormAnswers XML → [(identifier, free text)] in order."""
    root = ET.fromstring(xml)
    out = []
    for answer in root.findall(ANSWERS_NS + "Answer"):
        out.append((answer.find(ANSWERS_NS + "QuestionIdentifier").text,
                    answer.find(ANSWERS_NS + "FreeText").text or ""))
    return out


def multipart(fields):
    boundary = "kp" + uuid.uuid4().hex
    parts = []
    for name, value in fields:
        parts.append("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                     % (boundary, name, value))
    body = "".join(parts) + "--%s--\r\n" % boundary
    return body.encode(), "multipart/form-data; boundary=" + boundary


class ExternalSubmitTest(KpTestCase):

    def worker(self):
        client = WorkerClient(self.server)
        self.addCleanup(client.close)
        return client

    def accepted(self, question=EXTERNAL, max_assignments=1):
        hit_id = self.create_hit(Question=question, MaxAssignments=max_assignments)["HITId"]
        worker = self.worker()
        assignment_id = worker.accept_hit(hit_id)["assignment_id"]
        return hit_id, worker, assignment_id

    def post(self, fields, content_type="application/x-www-form-urlencoded"):
        if content_type.startswith("multipart"):
            body, content_type = multipart(fields)
        else:
            body = urllib.parse.urlencode(fields).encode()
        return self.server.raw("POST", PATH, body, {"Content-Type": content_type})

    def assignment(self, assignment_id):
        return self.mturk.get_assignment(AssignmentId=assignment_id)["Assignment"]

    def test_urlencoded_form_becomes_free_text_answers(self):
        hit_id, worker, assignment_id = self.accepted()
        status, headers, body = self.post([
            ("assignmentId", assignment_id), ("weather", "sunny, 21 °C"),
            ("tags", "warm"), ("comment", ""), ("tags", "dry & calm"),
            ("workerId", worker.worker_id)])
        self.assertEqual(status, 200, body)
        self.assertTrue(headers["Content-Type"].startswith("text/html"))
        self.assertIn(b"submitted", body)

        assignment = self.assignment(assignment_id)
        self.assertEqual(assignment["AssignmentStatus"], "Submitted")
        self.assertEqual(assignment["WorkerId"], worker.worker_id)
        self.assertIn("SubmitTime", assignment)
        # Every field but assignmentId, in the order first sent; a repeated
        # field's values joined with "|".
        self.assertEqual(parse_answers(assignment["Answer"]), [
            ("weather", "sunny, 21 °C"), ("tags", "warm|dry & calm"), ("comment", ""),
            ("workerId", worker.worker_id)])
        hit = self.mturk.get_hit(HITId=hit_id)["HIT"]
        self.assertEqual(hit["HITStatus"], "Reviewable")
        self.assertEqual(hit["NumberOfAssignmentsPending"], 0)

        # A second post finds the assignment finished: refused, answer kept.
        status, _, body = self.post([("assignmentId", assignment_id), ("weather", "rain")])
        self.assertEqual(status, 409, body)
        self.assertIn(b"Submitted", body)
        self.assertEqual(parse_answers(self.assignment(assignment_id)["Answer"])[0],
                         ("weather", "sunny, 21 °C"))

        # The worker API sees the same state.
        self.assertEqual(worker.assignment(assignment_id)["status"], "Submitted")

    def test_multipart_form_and_get(self):
        _, _, first = self.accepted()
        status, _, body = self.post([("assignmentId", first), ("answer", "line 1\nline 2")],
                                    content_type="multipart/form-data")
        self.assertEqual(status, 200, body)
        self.assertEqual(parse_answers(self.assignment(first)["Answer"]),
                         [("answer", "line 1\nline 2")])

        # MTurk takes GET forms too.
        _, _, second = self.accepted()
        query = urllib.parse.urlencode([("assignmentId", second), ("choice", "b")])
        status, _, body = self.server.raw("GET", PATH + "?" + query)
        self.assertEqual(status, 200, body)
        self.assertEqual(parse_answers(self.assignment(second)["Answer"]), [("choice", "b")])

    def test_html_question_form(self):
        _, _, assignment_id = self.accepted(question=html_question())
        status, _, body = self.post([("assignmentId", assignment_id), ("answer", "cat")])
        self.assertEqual(status, 200, body)
        self.assertEqual(parse_answers(self.assignment(assignment_id)["Answer"]),
                         [("answer", "cat")])

    def test_question_form_checks_identifiers(self):
        _, _, assignment_id = self.accepted(question=question_form("q1"))
        status, _, body = self.post([("assignmentId", assignment_id), ("q2", "x")])
        self.assertEqual(status, 400, body)
        self.assertIn(b"q2", body)
        status, _, body = self.post([("assignmentId", assignment_id), ("q1", "a dog")])
        self.assertEqual(status, 200, body)
        self.assertEqual(parse_answers(self.assignment(assignment_id)["Answer"]),
                         [("q1", "a dog")])

    def test_refusals(self):
        hit_id, worker, assignment_id = self.accepted(max_assignments=2)

        cases = [
            ([("answer", "x")], 400, b"assignmentId"),
            ([("assignmentId", assignment_id)], 400, b"no field besides"),
            ([("assignmentId", "ASSIGNMENT_ID_NOT_AVAILABLE"), ("answer", "x")], 400,
             b"preview"),
            ([("assignmentId", "3NOSUCHASSIGNMENT0000"), ("answer", "x")], 404,
             b"does not exist"),
            ([("assignmentId", assignment_id), ("assignmentId", assignment_id),
              ("answer", "x")], 400, b"more than once"),
        ]
        for fields, code, text in cases:
            status, headers, body = self.post(fields)
            self.assertEqual(status, code, (fields, body))
            self.assertIn(text, body)
            self.assertTrue(headers["Content-Type"].startswith("text/html"))

        status, _, body = self.server.raw("POST", PATH, b"{}",
                                          {"Content-Type": "application/json"})
        self.assertEqual(status, 400, body)
        status, headers, _ = self.server.raw("PUT", PATH, b"")
        self.assertEqual(status, 405)
        self.assertIn("POST", headers["Allow"])

        # Nothing above touched the assignment.
        self.assertEqual(worker.assignment(assignment_id)["status"], "Accepted")

        # A returned assignment is finished too.
        worker.return_assignment(assignment_id)
        status, _, body = self.post([("assignmentId", assignment_id), ("answer", "x")])
        self.assertEqual(status, 409, body)
        self.assertIn(b"Returned", body)

        # Another worker's submission through the worker API is unaffected.
        other = self.worker()
        other_id = other.accept_hit(hit_id)["assignment_id"]
        other.submit(other_id, [free_text("answer", "y")])
        status, _, body = self.post([("assignmentId", other_id), ("answer", "z")])
        self.assertEqual(status, 409, body)


class ExternalSubmitDeadlineTest(KpTestCase):
    FAKE_TIME = True

    def test_too_late(self):
        hit_id = self.create_hit(Question=EXTERNAL, AssignmentDurationInSeconds=60)["HITId"]
        worker = WorkerClient(self.server)
        self.addCleanup(worker.close)
        assignment_id = worker.accept_hit(hit_id)["assignment_id"]
        self.server.advance(120)
        body = urllib.parse.urlencode([("assignmentId", assignment_id), ("a", "b")]).encode()
        status, _, data = self.server.raw("POST", PATH, body, {
            "Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual(status, 410, data)
        self.assertIn(b"ran out", data)


if __name__ == "__main__":
    main()
