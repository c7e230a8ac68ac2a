# SPDX-License-Identifier: GPL-3.0-or-later
"""The worker API (/worker/v1/, docs/worker-api.md): every endpoint and its
errors, checked against what the requester sees through boto3."""

import hashlib
import json
import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(__file__))

from kpserver import (QUESTION_FORM_NS, KpTestCase, WorkerClient, WorkerError, add_media,
                      free_text, html_question, main, question_form)


def choice_form(identifier="colour"):
    """A QuestionForm with one required single-choice question."""
    return ('<QuestionForm xmlns="%s"><Question>'
            '<QuestionIdentifier>%s</QuestionIdentifier><IsRequired>true</IsRequired>'
            '<QuestionContent><Text>Which colour?</Text></QuestionContent>'
            '<AnswerSpecification><SelectionAnswer>'
            '<StyleSuggestion>radiobutton</StyleSuggestion><Selections>'
            '<Selection><SelectionIdentifier>red</SelectionIdentifier><Text>Red</Text></Selection>'
            '<Selection><SelectionIdentifier>blue</SelectionIdentifier><Text>Blue</Text></Selection>'
            '</Selections></SelectionAnswer></AnswerSpecification>'
            '</Question></QuestionForm>' % (QUESTION_FORM_NS, identifier))


ANSWER_KEY = ('<AnswerKey xmlns="http://mechanicalturk.amazonaws.com/'
              'AWSMechanicalTurkDataSchemas/2005-10-01/AnswerKey.xsd">'
              '<Question><QuestionIdentifier>colour</QuestionIdentifier>'
              '<AnswerOption><SelectionIdentifier>blue</SelectionIdentifier>'
              '<AnswerScore>90</AnswerScore></AnswerOption>'
              '<AnswerOption><SelectionIdentifier>red</SelectionIdentifier>'
              '<AnswerScore>10</AnswerScore></AnswerOption>'
              '</Question></AnswerKey>')


def unique(word="batch"):
    return "%s%s" % (word, uuid.uuid4().hex[:10])


class WorkerApiTest(KpTestCase):

    def worker(self):
        worker = WorkerClient(self.server)
        self.addCleanup(worker.close)
        return worker

    def hit(self, **overrides):
        overrides.setdefault("Title", unique("Label "))
        return self.create_hit(**overrides)

    def assertStatus(self, response, status, error=None):
        got, body = response
        self.assertEqual(got, status, body)
        if error is not None:
            self.assertEqual(body["error"], error, body)
            self.assertTrue(body["message"])
        return body

    def qualification_type(self, **params):
        params.setdefault("Name", unique("Qual "))
        params.setdefault("Description", "A test qualification")
        params.setdefault("QualificationTypeStatus", "Active")
        return self.mturk.create_qualification_type(**params)["QualificationType"]

    # --- authentication and routing ---

    def test_token_is_required_and_checked(self):
        w = self.worker()
        status, headers, body = self.server.raw("GET", "/worker/v1/me")
        self.assertEqual(status, 401)
        self.assertEqual(json.loads(body)["error"], "unauthorized")
        self.assertIn("Bearer", headers.get("WWW-Authenticate", ""))
        self.assertStatus(w.call("GET", "/me", token="not-a-token"), 401, "unauthorized")
        me = w.me()
        self.assertEqual(me["worker_id"], w.worker_id)
        self.assertIsInstance(me["server_time"], int)

    def test_unknown_paths_and_methods(self):
        w = self.worker()
        self.assertStatus(w.call("GET", "/nothing"), 404, "not-found")
        self.assertStatus(w.call("GET", "/groups/x/y/z"), 404, "not-found")
        self.assertStatus(w.call("GET", "/hits/lower-case"), 404, "not-found")
        status, headers, body = w.request("DELETE", "/groups")
        self.assertEqual(status, 405)
        self.assertEqual(headers["Allow"], "GET")
        self.assertEqual(json.loads(body)["error"], "method-not-allowed")
        status, headers, _ = w.request("GET", "/sync")
        self.assertEqual((status, headers["Allow"]), (405, "POST"))
        # A trailing slash is the same resource.
        self.assertEqual(w.call("GET", "/me/")[0], 200)

    def test_hostile_input_gets_clear_errors(self):
        w = self.worker()
        for path in ("/groups?q=%FF", "/groups?%FF=1", "/groups?q", "/assignments?status=%FF",
                     "/messages?since=%FF", "/groups?q=%00x"):
            self.assertStatus(w.call("GET", path), 400, "invalid-request")
        # SQL is never built from input: metacharacters are just text.
        self.assertEqual(w.groups(q="' OR 1=1 --")["total"], 0)
        self.assertStatus(w.call("GET", "/hits/X'%3B%20DROP%20TABLE%20hits"), 404, "not-found")
        self.assertStatus(w.call("GET", "/assignments?hit_id=%27%20OR%20%271%27%3D%271"),
                          400, "invalid-request")
        status, _, body = w.request("POST", "/assignments/ABC/submit",
                                    b'{"submission_id": "abcdefghij", "answers": '
                                    b'[{"QuestionIdentifier": "q\xff", "FreeText": "x"}]}')
        self.assertEqual((status, json.loads(body)["error"]), (400, "invalid-request"))
        result = w.sync([{"submission_id": "\u00e9" * 10, "assignment_id": "A", "answers": []},
                         {"submission_id": "abcdefghij", "assignment_id": "A'--", "answers": []}])
        self.assertEqual([r["status"] for r in result["results"]], [400, 404])
        # The server keeps serving.
        self.assertEqual(w.me()["worker_id"], w.worker_id)

    # --- the marketplace ---

    def test_groups_list_what_can_be_accepted(self):
        title = unique("Marketplace ")
        first = self.hit(Title=title, MaxAssignments=3, Reward="0.12", Keywords="cars, boxes")
        second = self.create_hit(Title=title, MaxAssignments=2, Reward="0.12", Keywords="cars, boxes")
        self.assertEqual(first["HITTypeId"], second["HITTypeId"])
        w = self.worker()

        groups = w.groups(q=title)
        self.assertEqual(groups["total"], 1)
        group = groups["groups"][0]
        self.assertEqual(group["hit_type_id"], first["HITTypeId"])
        self.assertEqual(group["title"], title)
        self.assertEqual(group["reward"], "0.12")
        self.assertEqual(group["keywords"], "cars, boxes")
        self.assertRegex(group["requester_id"], "^A[A-Z0-9]+$")
        self.assertEqual(group["hits_available"], 2)
        self.assertEqual(group["assignments_available"], 5)
        self.assertEqual(group["assignment_duration"], 600)
        self.assertEqual(group["standing"], "qualified")
        self.assertTrue(group["preview_allowed"])
        self.assertIsNone(group["reason"])
        self.assertEqual(w.group(first["HITTypeId"]), group)

        # Accepting one HIT: this worker cannot take it again, others can.
        w.accept_hit(first["HITId"])
        mine = w.group(first["HITTypeId"])
        self.assertEqual((mine["hits_available"], mine["assignments_available"]), (1, 2))
        other = self.worker().group(first["HITTypeId"])
        self.assertEqual((other["hits_available"], other["assignments_available"]), (2, 4))

    def test_groups_search_sort_filter_and_page(self):
        tag = unique("sorting")
        cheap = self.hit(Title="Cheap " + tag, Reward="0.05", LifetimeInSeconds=7200)
        rich = self.hit(Title="Rich " + tag, Reward="0.50", LifetimeInSeconds=3000)
        many = self.hit(Title="Many " + tag, Reward="0.20", MaxAssignments=1)
        self.create_hit(Title="Many " + tag, Reward="0.20", MaxAssignments=1)
        w = self.worker()

        def ids(**params):
            params.setdefault("q", tag)
            return [g["hit_type_id"] for g in w.groups(**params)["groups"]]

        self.assertEqual(ids(sort="reward"), [rich["HITTypeId"], many["HITTypeId"], cheap["HITTypeId"]])
        self.assertEqual(ids(sort="reward", order="asc"),
                         [cheap["HITTypeId"], many["HITTypeId"], rich["HITTypeId"]])
        self.assertEqual(ids(sort="expiration")[0], rich["HITTypeId"])
        self.assertEqual(ids(sort="available")[0], many["HITTypeId"])
        self.assertEqual(ids(sort="title"), [cheap["HITTypeId"], many["HITTypeId"], rich["HITTypeId"]])
        self.assertEqual(ids(min_reward="0.20", sort="reward"), [rich["HITTypeId"], many["HITTypeId"]])
        self.assertEqual(ids(q="rich " + tag.upper()), [rich["HITTypeId"]])
        self.assertEqual(ids(requester_id="A0000000000000"), [])
        self.assertEqual(len(ids(standing="qualified")), 3)
        self.assertEqual(ids(standing="not-qualified"), [])

        page = w.groups(q=tag, sort="reward", limit=2)
        self.assertEqual((page["total"], len(page["groups"]), page["next_offset"]), (3, 2, 2))
        last = w.groups(q=tag, sort="reward", limit=2, offset=page["next_offset"])
        self.assertEqual([g["hit_type_id"] for g in last["groups"]], [cheap["HITTypeId"]])
        self.assertIsNone(last["next_offset"])

        for query in ("sort=price", "order=up", "limit=0", "limit=101", "offset=-1",
                      "min_reward=1.234", "standing=maybe", "colour=red", "limit=ten"):
            self.assertStatus(w.call("GET", "/groups?" + query), 400, "invalid-request")

    def test_actions_guarded_by_qualifications(self):
        qual = self.qualification_type()
        tag = unique("guarded")

        def requirement(guard):
            return [{"QualificationTypeId": qual["QualificationTypeId"],
                     "Comparator": "GreaterThanOrEqualTo", "IntegerValues": [50],
                     "ActionsGuarded": guard}]

        hidden = self.hit(Title="Hidden " + tag,
                          QualificationRequirements=requirement("DiscoverPreviewAndAccept"))
        no_preview = self.hit(Title="NoPreview " + tag,
                              QualificationRequirements=requirement("PreviewAndAccept"))
        accept_only = self.hit(Title="AcceptOnly " + tag,
                               QualificationRequirements=requirement("Accept"))
        system = self.hit(Title="System " + tag, QualificationRequirements=[{
            "QualificationTypeId": "00000000000000000040", "Comparator": "GreaterThan",
            "IntegerValues": [1000], "ActionsGuarded": "Accept"}])
        w = self.worker()

        groups = {g["hit_type_id"]: g for g in w.groups(q=tag)["groups"]}
        self.assertNotIn(hidden["HITTypeId"], groups)
        self.assertEqual(len(groups), 3)
        self.assertEqual(groups[no_preview["HITTypeId"]]["standing"], "can-request")
        self.assertFalse(groups[no_preview["HITTypeId"]]["preview_allowed"])
        self.assertEqual(groups[accept_only["HITTypeId"]]["standing"], "can-request")
        self.assertTrue(groups[accept_only["HITTypeId"]]["preview_allowed"])
        self.assertTrue(groups[accept_only["HITTypeId"]]["reason"])
        self.assertEqual(groups[system["HITTypeId"]]["standing"], "not-qualified")

        # Hidden looks exactly like missing.
        self.assertStatus(w.call("GET", "/groups/" + hidden["HITTypeId"]), 404, "not-found")
        self.assertStatus(w.call("GET", "/hits/" + hidden["HITId"]), 404, "not-found")
        self.assertStatus(w.call("POST", "/groups/%s/accept" % hidden["HITTypeId"]), 404, "not-found")
        self.assertStatus(w.call("POST", "/hits/%s/accept" % hidden["HITId"]), 404, "not-found")
        self.assertStatus(w.call("GET", "/groups/%s/preview" % no_preview["HITTypeId"]), 403, "forbidden")
        self.assertStatus(w.call("GET", "/hits/" + no_preview["HITId"]), 403, "forbidden")
        self.assertIn("question", w.preview(accept_only["HITTypeId"]))
        self.assertStatus(w.call("POST", "/groups/%s/accept" % accept_only["HITTypeId"]), 403, "forbidden")
        self.assertStatus(w.call("POST", "/hits/%s/accept" % accept_only["HITId"]), 403, "forbidden")

        # Once qualified, everything opens up.
        self.mturk.associate_qualification_with_worker(
            QualificationTypeId=qual["QualificationTypeId"], WorkerId=w.worker_id,
            IntegerValue=60, SendNotification=False)
        groups = {g["hit_type_id"]: g for g in w.groups(q=tag)["groups"]}
        self.assertEqual(len(groups), 4)
        self.assertEqual(groups[hidden["HITTypeId"]]["standing"], "qualified")
        self.assertEqual(w.accept_group(hidden["HITTypeId"])["hit_id"], hidden["HITId"])
        self.assertEqual(w.accept_hit(no_preview["HITId"])["status"], "Accepted")

    def test_blocked_worker_does_not_see_the_requester(self):
        hit = self.hit()
        w = self.worker()
        self.mturk.create_worker_block(WorkerId=w.worker_id, Reason="Spam")
        try:
            self.assertEqual(w.groups(q=hit["Title"])["total"], 0)
            self.assertStatus(w.call("GET", "/groups/" + hit["HITTypeId"]), 404)
            self.assertStatus(w.call("POST", "/hits/%s/accept" % hit["HITId"]), 403, "forbidden")
        finally:
            self.mturk.delete_worker_block(WorkerId=w.worker_id, Reason="Done")
        self.assertEqual(w.groups(q=hit["Title"])["total"], 1)

    def test_preview_and_get_hit(self):
        hit = self.hit(Question=html_question("<p>Find the cat</p>"), MaxAssignments=2)
        w = self.worker()
        preview = w.preview(hit["HITTypeId"])
        self.assertEqual(preview["hit_id"], hit["HITId"])
        self.assertEqual(preview["question_kind"], "HTMLQuestion")
        self.assertIn("Find the cat", preview["question"])
        got = w.hit(hit["HITId"])
        self.assertEqual(got, preview)
        self.assertEqual((got["max_assignments"], got["assignments_available"]), (2, 2))
        self.assertStatus(w.call("GET", "/hits/3NOSUCHHIT"), 404, "not-found")
        self.assertStatus(w.call("GET", "/groups/3NOSUCHTYPE"), 404, "not-found")
        self.assertStatus(w.call("GET", "/groups/3NOSUCHTYPE/preview"), 404, "not-found")

    # --- accept and return ---

    def test_accept_by_group_takes_the_next_hit(self):
        title = unique("Queue ")
        first = self.hit(Title=title)
        second = self.create_hit(Title=title)
        w = self.worker()
        a = w.accept_group(first["HITTypeId"])
        b = w.accept_group(first["HITTypeId"])
        self.assertEqual({a["hit_id"], b["hit_id"]}, {first["HITId"], second["HITId"]})
        for assignment in (a, b):
            self.assertEqual(assignment["status"], "Accepted")
            self.assertEqual(assignment["deadline"], assignment["accept_time"] + 600)
            self.assertIn("QuestionForm", assignment["hit"]["question"])
            self.assertIsNone(assignment["answers"])
        # Both HITs are full now (MaxAssignments 1): the group is gone.
        self.assertStatus(w.call("POST", "/groups/%s/accept" % first["HITTypeId"]), 410, "gone")
        self.assertStatus(self.worker().call("POST", "/groups/%s/accept" % first["HITTypeId"]),
                          410, "gone")
        self.assertStatus(self.worker().call("GET", "/groups/" + first["HITTypeId"]), 410, "gone")
        got = self.mturk.get_hit(HITId=first["HITId"])["HIT"]
        self.assertEqual(got["NumberOfAssignmentsPending"], 1)
        self.assertEqual(got["NumberOfAssignmentsAvailable"], 0)

    def test_accept_many_of_a_group_in_one_request(self):
        title = unique("Batch ")
        hits = [self.hit(Title=title)]
        hits += [self.create_hit(Title=title) for _ in range(4)]
        group = hits[0]["HITTypeId"]
        w = self.worker()
        status, first = w.call("POST", "/groups/%s/accept?count=3" % group)
        self.assertEqual(status, 200, first)
        self.assertEqual(len(first["assignments"]), 3)
        # Fewer left than asked for: what there is.
        status, rest = w.call("POST", "/groups/%s/accept?count=10" % group)
        self.assertEqual(status, 200, rest)
        self.assertEqual(len(rest["assignments"]), 2)
        taken = first["assignments"] + rest["assignments"]
        self.assertEqual({a["hit_id"] for a in taken}, {h["HITId"] for h in hits})
        for assignment in taken:
            self.assertEqual(assignment["status"], "Accepted")
            self.assertIn("QuestionForm", assignment["hit"]["question"])
            self.assertEqual(w.assignment(assignment["assignment_id"])["hit_id"],
                             assignment["hit_id"])
        self.assertStatus(w.call("POST", "/groups/%s/accept?count=2" % group), 410, "gone")
        for bad in ("0", "101", "x"):
            self.assertStatus(w.call("POST", "/groups/%s/accept?count=%s" % (group, bad)),
                              400, "invalid-request")
        self.assertStatus(w.call("POST", "/groups/%s/accept?cnt=2" % group), 400,
                          "invalid-request")
        for h in hits:
            got = self.mturk.get_hit(HITId=h["HITId"])["HIT"]
            self.assertEqual(got["NumberOfAssignmentsPending"], 1)

    def test_accept_by_group_finds_reopened_hits(self):
        # A worker's group accepts continue after the last one (so that a
        # worker's thousandth accept does not step over the 999 HITs done),
        # and still find an earlier HIT that opened again once nothing is
        # left after it.
        title = unique("Reopened ")
        hits = [self.hit(Title=title)]
        hits += [self.create_hit(Title=title) for _ in range(2)]
        group = hits[0]["HITTypeId"]
        w = self.worker()
        first = w.accept_group(group)
        second = w.accept_group(group)
        w.return_assignment(first["assignment_id"])
        third = w.accept_group(group)
        self.assertEqual(len({first["hit_id"], second["hit_id"], third["hit_id"]}), 3)
        again = w.accept_group(group)
        self.assertEqual(again["hit_id"], first["hit_id"])
        self.assertStatus(w.call("POST", "/groups/%s/accept" % group), 410, "gone")

    def test_a_worker_works_a_hit_once(self):
        hit = self.hit(MaxAssignments=2)
        w = self.worker()
        a = w.accept_hit(hit["HITId"])
        self.assertStatus(w.call("POST", "/hits/%s/accept" % hit["HITId"]), 409, "conflict")
        w.submit(a["assignment_id"], [free_text("q1", "x")])
        self.assertStatus(w.call("POST", "/hits/%s/accept" % hit["HITId"]), 409, "conflict")
        # The second slot is someone else's; then the HIT is full.
        self.worker().accept_hit(hit["HITId"])
        self.assertStatus(self.worker().call("POST", "/hits/%s/accept" % hit["HITId"]),
                          409, "conflict")
        self.assertStatus(w.call("POST", "/hits/3NOSUCHHIT/accept"), 404, "not-found")
        # Actions take no parameters.
        hit = self.hit()
        self.assertStatus(w.call("POST", "/hits/%s/accept" % hit["HITId"], {"fast": True}),
                          400, "invalid-request")
        self.assertStatus(w.call("POST", "/groups/%s/accept" % hit["HITTypeId"], b"[1]"),
                          400, "invalid-request")
        a = w.accept_hit(hit["HITId"])
        self.assertEqual(w.call("POST", "/assignments/%s/return" % a["assignment_id"], {})[0], 200)

    def test_return_frees_the_slot(self):
        hit = self.hit()
        w = self.worker()
        a = w.accept_hit(hit["HITId"])
        self.assertEqual(self.mturk.get_hit(HITId=hit["HITId"])["HIT"]["NumberOfAssignmentsAvailable"], 0)
        returned = w.return_assignment(a["assignment_id"])
        self.assertEqual(returned["status"], "Returned")
        got = self.mturk.get_hit(HITId=hit["HITId"])["HIT"]
        self.assertEqual((got["NumberOfAssignmentsAvailable"], got["NumberOfAssignmentsPending"]), (1, 0))
        self.assertStatus(w.call("POST", "/assignments/%s/return" % a["assignment_id"]), 409, "conflict")
        self.assertStatus(w.call("POST", "/assignments/%s/submit" % a["assignment_id"],
                                 {"submission_id": str(uuid.uuid4()), "answers": [free_text("q1", "x")]}),
                          409, "conflict")
        # Someone else's assignment does not exist for this worker.
        b = w.accept_hit(hit["HITId"])
        self.assertNotEqual(a["assignment_id"], b["assignment_id"])
        other = self.worker()
        self.assertStatus(other.call("POST", "/assignments/%s/return" % b["assignment_id"]), 404, "not-found")
        self.assertStatus(other.call("GET", "/assignments/" + b["assignment_id"]), 404, "not-found")

    # --- submit ---

    def test_submit_is_idempotent(self):
        hit = self.hit()
        w = self.worker()
        a = w.accept_hit(hit["HITId"])
        sid = str(uuid.uuid4())
        body = {"submission_id": sid, "answers": [free_text("q1", "two cars")]}
        path = "/assignments/%s/submit" % a["assignment_id"]
        status, _, first = w.request("POST", path, body)
        self.assertEqual(status, 200, first)
        answer = json.loads(first)
        self.assertEqual((answer["submission_id"], answer["status"]), (sid, "Submitted"))
        self.assertIsNotNone(answer["submit_time"])

        # Retries (even with other answers, even from a new connection) get
        # the very same bytes, and nothing changes.
        for retry_body in (body, {"submission_id": sid, "answers": [free_text("q1", "other")]}):
            status, _, again = w.request("POST", path, retry_body)
            self.assertEqual((status, again), (200, first))
        w.close()
        self.assertEqual(w.request("POST", path, body)[2], first)

        listed = self.mturk.list_assignments_for_hit(HITId=hit["HITId"])["Assignments"]
        self.assertEqual(len(listed), 1)
        self.assertEqual(listed[0]["AssignmentId"], a["assignment_id"])
        self.assertIn("<FreeText>two cars</FreeText>", listed[0]["Answer"])

        # Still the first answer after the requester approved it.
        self.mturk.approve_assignment(AssignmentId=a["assignment_id"])
        self.assertEqual(w.request("POST", path, body)[2], first)
        self.assertEqual(w.assignment(a["assignment_id"])["status"], "Approved")

        # The same id for another assignment is a conflict; a new id for
        # the submitted assignment too.
        b = w.accept_hit(self.hit()["HITId"])
        self.assertStatus(w.call("POST", "/assignments/%s/submit" % b["assignment_id"], body),
                          409, "conflict")
        self.assertStatus(w.call("POST", path, {"submission_id": str(uuid.uuid4()),
                                                "answers": [free_text("q1", "x")]}), 409, "conflict")
        # Submission ids are per worker.
        other = self.worker()
        c = other.accept_hit(self.hit()["HITId"])
        self.assertEqual(other.submit(c["assignment_id"], [free_text("q1", "y")], sid)["assignment_id"],
                         c["assignment_id"])

    def test_submit_checks_answers_and_input(self):
        hit = self.hit(Question=choice_form())
        w = self.worker()
        a = w.accept_hit(hit["HITId"])
        path = "/assignments/%s/submit" % a["assignment_id"]
        sid = str(uuid.uuid4())
        bad = [
            {"answers": []},                                               # no id
            {"submission_id": "short", "answers": []},                     # too short
            {"submission_id": "bad id with spaces", "answers": []},
            {"submission_id": 12345678, "answers": []},
            {"submission_id": sid},                                        # no answers
            {"submission_id": sid, "answers": {"colour": "red"}},
            {"submission_id": sid, "answers": []},                         # required question
            {"submission_id": sid, "answers": [{"QuestionIdentifier": "colour",
                                                "SelectionIdentifier": ["green"]}]},
            {"submission_id": sid, "answers": [free_text("nope", "x")]},
            {"submission_id": sid, "answers": [], "extra": 1},
        ]
        for body in bad:
            self.assertStatus(w.call("POST", path, body), 400, "invalid-request")
        for raw in (b"{", b"[]", b"\xff\xfe", b'"text"'):
            status, _, data = w.request("POST", path, raw, {"Content-Type": "application/json"})
            self.assertEqual(status, 400, data)
        self.assertEqual(self.mturk.list_assignments_for_hit(HITId=hit["HITId"])["NumResults"], 0)

        # A failed attempt is not remembered: the same id may be used again.
        done = w.submit(a["assignment_id"], [{"QuestionIdentifier": "colour",
                                              "SelectionIdentifier": ["blue"]}], sid)
        self.assertEqual(done["status"], "Submitted")
        detail = w.assignment(a["assignment_id"])
        self.assertEqual(detail["answers"], [{"QuestionIdentifier": "colour",
                                              "SelectionIdentifier": ["blue"]}])
        self.assertEqual(detail["hit"]["hit_id"], hit["HITId"])
        self.assertStatus(w.call("POST", "/assignments/3NOSUCHASSIGNMENT/submit",
                                 {"submission_id": str(uuid.uuid4()), "answers": []}), 404, "not-found")

    def test_sync_submits_each_item_on_its_own(self):
        w = self.worker()
        a = w.accept_hit(self.hit()["HITId"])
        b = w.accept_hit(self.hit()["HITId"])
        c = w.accept_hit(self.hit()["HITId"])
        earlier = w.submit(c["assignment_id"], [free_text("q1", "c")], "sync-replay-" + w.worker_id)
        items = [
            {"submission_id": "sync-a-" + w.worker_id, "assignment_id": a["assignment_id"],
             "answers": [free_text("q1", "a")]},
            {"submission_id": "sync-bad-" + w.worker_id, "assignment_id": b["assignment_id"],
             "answers": [free_text("wrong", "b")]},
            {"submission_id": "sync-replay-" + w.worker_id, "assignment_id": c["assignment_id"],
             "answers": [free_text("q1", "c")]},
            {"submission_id": "sync-none-" + w.worker_id, "assignment_id": "3NOSUCHASSIGNMENT",
             "answers": []},
            "not an object",
            {"submission_id": "sync-b-" + w.worker_id, "assignment_id": b["assignment_id"],
             "answers": [free_text("q1", "b")]},
        ]
        result = w.sync(items)
        statuses = [r["status"] for r in result["results"]]
        self.assertEqual(statuses, [200, 400, 200, 404, 400, 200])
        self.assertEqual((result["succeeded"], result["failed"]), (3, 3))
        self.assertEqual(result["results"][2]["response"], earlier)
        self.assertEqual(result["results"][1]["error"], "invalid-request")
        self.assertIsNone(result["results"][4]["submission_id"])
        self.assertEqual(result["results"][0]["response"]["status"], "Submitted")

        # The whole batch again: every success replays, nothing doubles.
        again = w.sync(items)
        for first, second in zip(result["results"], again["results"]):
            if first["status"] == 200:
                self.assertEqual(first, second)
        self.assertEqual([r["status"] for r in again["results"]], [200, 409, 200, 404, 400, 200])
        submitted = w.assignments(status="Submitted")
        self.assertEqual(submitted["total"], 3)

        # The same submission twice in one batch is stored once.
        d = w.accept_hit(self.hit()["HITId"])
        twice = {"submission_id": "sync-twice-" + w.worker_id, "assignment_id": d["assignment_id"],
                 "answers": [free_text("q1", "d")]}
        result = w.sync([twice, twice])
        self.assertEqual([r["status"] for r in result["results"]], [200, 200])
        self.assertEqual(result["results"][0], result["results"][1])
        self.assertEqual(w.assignments(status="Submitted")["total"], 4)

        self.assertEqual(w.sync([])["results"], [])
        self.assertStatus(w.call("POST", "/sync", {}), 400, "invalid-request")
        self.assertStatus(w.call("POST", "/sync", {"submissions": {}}), 400, "invalid-request")
        self.assertStatus(w.call("POST", "/sync", {"submissions": [{}] * 101}), 400, "invalid-request")

    # --- the worker's lists ---

    def test_assignments_list_and_filter(self):
        w = self.worker()
        hits = [self.hit() for _ in range(3)]
        a = [w.accept_hit(h["HITId"]) for h in hits]
        w.submit(a[0]["assignment_id"], [free_text("q1", "x")])
        w.return_assignment(a[1]["assignment_id"])
        listed = w.assignments()
        self.assertEqual(listed["total"], 3)
        self.assertEqual({x["assignment_id"]: x["status"] for x in listed["assignments"]},
                         {a[0]["assignment_id"]: "Submitted", a[1]["assignment_id"]: "Returned",
                          a[2]["assignment_id"]: "Accepted"})
        self.assertEqual(w.assignments(status="Accepted,Submitted")["total"], 2)
        self.assertEqual([x["assignment_id"] for x in w.assignments(status="Returned")["assignments"]],
                         [a[1]["assignment_id"]])
        self.assertEqual(w.assignments(hit_id=hits[2]["HITId"])["assignments"][0]["assignment_id"],
                         a[2]["assignment_id"])
        page = w.assignments(limit=2)
        self.assertEqual((len(page["assignments"]), page["next_offset"]), (2, 2))
        self.assertEqual(len(w.assignments(limit=2, offset=2)["assignments"]), 1)
        self.assertStatus(w.call("GET", "/assignments?status=Done"), 400, "invalid-request")
        self.assertStatus(w.call("GET", "/assignments?hit_id=x'--"), 400, "invalid-request")
        self.assertEqual(self.worker().assignments()["total"], 0)

    def test_earnings(self):
        w = self.worker()
        a = [w.accept_hit(self.hit(Reward="0.30")["HITId"]) for _ in range(3)]
        for x in a:
            w.submit(x["assignment_id"], [free_text("q1", "x")])
        self.mturk.approve_assignment(AssignmentId=a[0]["assignment_id"])
        self.mturk.reject_assignment(AssignmentId=a[1]["assignment_id"],
                                     RequesterFeedback="Boxes missing")
        self.mturk.send_bonus(WorkerId=w.worker_id, BonusAmount="1.25",
                              AssignmentId=a[0]["assignment_id"], Reason="Careful work",
                              UniqueRequestToken=unique())
        e = w.earnings()
        self.assertEqual(e["pending"], {"count": 1, "amount": "0.30"})
        self.assertEqual(e["approved"], {"count": 1, "amount": "0.30"})
        self.assertEqual(e["rejected"], {"count": 1, "amount": "0.30"})
        self.assertEqual((e["bonuses"]["count"], e["bonuses"]["amount"]), (1, "1.25"))
        self.assertEqual(e["bonuses"]["items"][0]["reason"], "Careful work")
        self.assertEqual(e["total_earned"], "1.55")
        self.assertEqual(e["paid"], "1.55")  # the ledger agrees
        self.assertEqual(e["total"], 3)
        feedback = {x["assignment_id"]: x["requester_feedback"] for x in e["items"]}
        self.assertEqual(feedback[a[1]["assignment_id"]], "Boxes missing")
        self.assertEqual(len(w.earnings(limit=1)["items"]), 1)
        nobody = self.worker().earnings()
        self.assertEqual((nobody["total_earned"], nobody["paid"], nobody["items"]), ("0.00", "0.00", []))

    def test_messages(self):
        w = self.worker()
        other = self.worker()
        # Requesters may write only to workers whose work they reviewed.
        a = w.accept_hit(self.hit()["HITId"])
        w.submit(a["assignment_id"], [free_text("q1", "x")])
        self.mturk.approve_assignment(AssignmentId=a["assignment_id"])
        self.mturk.notify_workers(Subject="New batch", MessageText="500 more images",
                                  WorkerIds=[w.worker_id])
        messages = w.messages()
        self.assertEqual(messages["total"], 1)
        self.assertEqual((messages["messages"][0]["subject"], messages["messages"][0]["text"]),
                         ("New batch", "500 more images"))
        self.assertEqual(other.messages()["total"], 0)
        since = messages["messages"][0]["created"]
        self.assertEqual(w.messages(since=since)["total"], 1)
        self.assertEqual(w.messages(since=since + 1)["total"], 0)

    # --- qualifications ---

    def test_qualification_test_is_graded(self):
        qual = self.qualification_type(Test=choice_form(), AnswerKey=ANSWER_KEY,
                                       TestDurationInSeconds=600, RetryDelayInSeconds=3600)
        w = self.worker()
        t = w.qualification_type(qual["QualificationTypeId"])
        self.assertEqual(t["test"], choice_form())
        self.assertNotIn("answer_key", t)
        self.assertNotIn("AnswerKey", json.dumps(t))
        self.assertTrue(t["is_graded_automatically"])
        self.assertIsNone(t["mine"])

        path = "/qualification-types/%s/request" % qual["QualificationTypeId"]
        self.assertStatus(w.call("POST", path, {}), 400, "invalid-request")
        self.assertStatus(w.call("POST", path, {"answers": [{"QuestionIdentifier": "colour",
                                                            "SelectionIdentifier": ["pink"]}]}),
                          400, "invalid-request")
        result = w.request_qualification(qual["QualificationTypeId"],
                                         [{"QuestionIdentifier": "colour", "SelectionIdentifier": ["blue"]}])
        self.assertEqual((result["status"], result["value"]), ("Granted", 90))

        listed = {q["qualification_type_id"]: q for q in w.qualifications()["qualifications"]}
        self.assertEqual(listed[qual["QualificationTypeId"]]["value"], 90)
        self.assertEqual(w.qualification_type(qual["QualificationTypeId"])["mine"]["value"], 90)
        score = self.mturk.get_qualification_score(QualificationTypeId=qual["QualificationTypeId"],
                                                   WorkerId=w.worker_id)["Qualification"]
        self.assertEqual(score["IntegerValue"], 90)
        # Within the retry delay, no second try.
        self.assertStatus(w.call("POST", path, {"answers": [{"QuestionIdentifier": "colour",
                                                            "SelectionIdentifier": ["blue"]}]}),
                          409, "conflict")

    def test_taking_a_test_opens_a_group(self):
        qual = self.qualification_type(Test=choice_form(), AnswerKey=ANSWER_KEY,
                                       TestDurationInSeconds=600)
        hit = self.hit(MaxAssignments=2, QualificationRequirements=[{
            "QualificationTypeId": qual["QualificationTypeId"], "Comparator": "GreaterThan",
            "IntegerValues": [50], "ActionsGuarded": "Accept"}])
        w = self.worker()
        group = w.group(hit["HITTypeId"])
        self.assertEqual(group["standing"], "can-request")
        self.assertEqual(group["qualification_requirements"][0]["QualificationTypeId"],
                         qual["QualificationTypeId"])
        self.assertStatus(w.call("POST", "/groups/%s/accept" % hit["HITTypeId"]), 403, "forbidden")
        result = w.request_qualification(qual["QualificationTypeId"], [
            {"QuestionIdentifier": "colour", "SelectionIdentifier": ["blue"]}])
        self.assertEqual(result["status"], "Granted")
        self.assertEqual(w.group(hit["HITTypeId"])["standing"], "qualified")
        self.assertEqual(w.accept_group(hit["HITTypeId"])["hit_id"], hit["HITId"])

        # A low score is granted too, but does not qualify.
        other = self.worker()
        low = other.request_qualification(qual["QualificationTypeId"], [
            {"QuestionIdentifier": "colour", "SelectionIdentifier": ["red"]}])
        self.assertEqual((low["status"], low["value"]), ("Granted", 10))
        self.assertEqual(other.group(hit["HITTypeId"])["standing"], "not-qualified")

        # With a retry delay, the test can be taken again.
        retry = self.qualification_type(Test=choice_form(), AnswerKey=ANSWER_KEY,
                                        TestDurationInSeconds=600, RetryDelayInSeconds=60)
        hit = self.hit(QualificationRequirements=[{
            "QualificationTypeId": retry["QualificationTypeId"], "Comparator": "GreaterThan",
            "IntegerValues": [50], "ActionsGuarded": "Accept"}])
        other.request_qualification(retry["QualificationTypeId"], [
            {"QuestionIdentifier": "colour", "SelectionIdentifier": ["red"]}])
        self.assertEqual(other.group(hit["HITTypeId"])["standing"], "can-request")

    def test_qualification_request_waits_for_the_requester(self):
        qual = self.qualification_type()
        w = self.worker()
        path = "/qualification-types/%s/request" % qual["QualificationTypeId"]
        self.assertStatus(w.call("POST", path, {"answers": []}), 400, "invalid-request")
        result = w.request_qualification(qual["QualificationTypeId"])
        self.assertEqual(result["status"], "Pending")
        self.assertTrue(result["request_id"])
        self.assertIsNone(result["value"])
        requests = w.qualifications()["requests"]
        self.assertEqual([(r["request_id"], r["status"]) for r in requests],
                         [(result["request_id"], "Pending")])
        pending = self.mturk.list_qualification_requests(
            QualificationTypeId=qual["QualificationTypeId"])["QualificationRequests"]
        self.assertEqual([r["WorkerId"] for r in pending], [w.worker_id])
        self.assertStatus(w.call("POST", path), 409, "conflict")
        self.mturk.accept_qualification_request(QualificationRequestId=result["request_id"],
                                                IntegerValue=7)
        self.assertEqual(w.qualification_type(qual["QualificationTypeId"])["mine"]["value"], 7)

        auto = self.qualification_type(AutoGranted=True, AutoGrantedValue=3)
        granted = w.request_qualification(auto["QualificationTypeId"])
        self.assertEqual((granted["status"], granted["value"]), ("Granted", 3))

        self.assertStatus(w.call("GET", "/qualification-types/3NOSUCHQUAL"), 404, "not-found")
        self.assertStatus(w.call("POST", "/qualification-types/3NOSUCHQUAL/request"), 404, "not-found")

    # --- media ---

    def test_media_ranges(self):
        data = bytes(range(256)) * 40  # 10,240 bytes
        digest = add_media(self.server, data, "image/png")
        self.assertEqual(digest, hashlib.sha256(data).hexdigest())
        stored = os.path.join(self.server.data_dir, "media", digest[:2], digest)
        with open(stored, "rb") as f:
            self.assertEqual(f.read(), data)
        self.assertEqual(os.stat(stored).st_mode & 0o777, 0o600)
        self.assertEqual(add_media(self.server, data, "image/png"), digest)  # again: no change
        w = self.worker()
        path = "/media/" + digest

        status, headers, body = w.request("GET", path)
        self.assertEqual((status, body), (200, data))
        self.assertEqual(headers["Content-Type"], "image/png")
        self.assertEqual(headers["ETag"], '"%s"' % digest)
        self.assertEqual(headers["Accept-Ranges"], "bytes")

        def ranged(spec, **extra):
            return w.request("GET", path, headers={"Range": spec, **extra})

        status, headers, body = ranged("bytes=0-0")
        self.assertEqual((status, body, headers["Content-Range"]), (206, data[:1], "bytes 0-0/10240"))
        status, headers, body = ranged("bytes=1000-1999")
        self.assertEqual((status, body, headers["Content-Range"]),
                         (206, data[1000:2000], "bytes 1000-1999/10240"))
        self.assertEqual(headers["Content-Length"], "1000")
        status, headers, body = ranged("bytes=-100")
        self.assertEqual((status, body, headers["Content-Range"]),
                         (206, data[-100:], "bytes 10140-10239/10240"))
        status, headers, body = ranged("bytes=10000-")
        self.assertEqual((status, body), (206, data[10000:]))
        status, headers, body = ranged("bytes=10000-99999")
        self.assertEqual((status, body, headers["Content-Range"]),
                         (206, data[10000:], "bytes 10000-10239/10240"))
        status, headers, body = ranged("bytes=-99999")
        self.assertEqual((status, body), (206, data))
        for unsatisfiable in ("bytes=10240-", "bytes=20000-20001", "bytes=-0"):
            status, headers, body = ranged(unsatisfiable)
            self.assertEqual(status, 416, unsatisfiable)
            self.assertEqual(headers["Content-Range"], "bytes */10240")
            self.assertEqual(json.loads(body)["error"], "range-not-satisfiable")
        for ignored in ("bytes=0-1,5-6", "bytes=5-1", "pages=1-2", "bytes=x-y"):
            status, _, body = ranged(ignored)
            self.assertEqual((status, body), (200, data), ignored)
        status, _, body = ranged("bytes=0-9", **{"If-Range": '"%s"' % digest})
        self.assertEqual((status, body), (206, data[:10]))
        status, _, body = ranged("bytes=0-9", **{"If-Range": '"stale"'})
        self.assertEqual((status, body), (200, data))

        status, headers, body = w.request("HEAD", path)
        self.assertEqual((status, body, headers["Content-Length"]), (200, b"", "10240"))
        status, headers, body = w.request("HEAD", path, headers={"Range": "bytes=-10"})
        self.assertEqual((status, body, headers["Content-Range"]), (206, b"", "bytes 10230-10239/10240"))
        status, headers, body = w.request("GET", path, headers={"If-None-Match": '"%s"' % digest})
        self.assertEqual((status, body), (304, b""))

        self.assertStatus(w.call("GET", "/media/" + "0" * 64), 404, "not-found")
        self.assertStatus(w.call("GET", "/media/" + digest.upper()), 404, "not-found")
        self.assertStatus(w.call("GET", "/media/abc"), 404, "not-found")
        self.assertEqual(w.request("PUT", path, b"x")[0], 405)
        status, _, _ = self.server.raw("GET", "/worker/v1" + path)
        self.assertEqual(status, 401)

        # Recorded but lost on disk: gone.
        lost = add_media(self.server, b"soon gone", "text/plain")
        os.unlink(os.path.join(self.server.data_dir, "media", lost[:2], lost))
        self.assertStatus(w.call("GET", "/media/" + lost), 410, "gone")

    def test_media_type_is_guessed(self):
        png = b"\x89PNG\r\n\x1a\n" + bytes(100)
        digest = add_media(self.server, png, name="picture.png")
        status, headers, body = self.worker().request("GET", "/media/" + digest)
        self.assertEqual((status, headers["Content-Type"], body), (200, "image/png", png))

    def test_empty_media(self):
        digest = add_media(self.server, b"", "text/plain")
        w = self.worker()
        status, _, body = w.request("GET", "/media/" + digest)
        self.assertEqual((status, body), (200, b""))
        self.assertEqual(w.request("GET", "/media/" + digest, headers={"Range": "bytes=0-0"})[0], 416)


class WorkerApiClockTest(KpTestCase):
    """Deadlines and expiry, with the server's clock moved."""

    FAKE_TIME = True

    def test_deadline_and_expiry(self):
        title = unique("Clock ")
        hit = self.create_hit(Title=title, LifetimeInSeconds=600, AssignmentDurationInSeconds=120,
                              MaxAssignments=2)
        w = WorkerClient(self.server)
        self.addCleanup(w.close)
        a = w.accept_hit(hit["HITId"])
        self.server.advance(180)
        self.server.wait_for_jobs()
        status, body = w.call("POST", "/assignments/%s/submit" % a["assignment_id"],
                              {"submission_id": str(uuid.uuid4()),
                               "answers": [free_text("q1", "late")]})
        self.assertEqual((status, body["error"]), (410, "gone"), body)
        self.assertEqual(w.assignment(a["assignment_id"])["status"], "Abandoned")
        result = w.sync([{"submission_id": str(uuid.uuid4()), "assignment_id": a["assignment_id"],
                          "answers": [free_text("q1", "late")]}])
        self.assertEqual(result["results"][0]["status"], 410)

        # After its lifetime the HIT leaves the marketplace.
        other = WorkerClient(self.server)
        self.addCleanup(other.close)
        self.assertEqual(other.groups(q=title)["total"], 1)
        self.server.advance(500)
        self.assertEqual(other.groups(q=title)["total"], 0)
        status, body = other.call("POST", "/hits/%s/accept" % hit["HITId"])
        self.assertEqual((status, body["error"]), (410, "gone"))
        status, body = other.call("GET", "/hits/" + hit["HITId"])
        self.assertEqual(status, 410)
        # The worker who had it still sees it.
        self.assertEqual(w.hit(hit["HITId"])["hit_id"], hit["HITId"])


if __name__ == "__main__":
    main()
