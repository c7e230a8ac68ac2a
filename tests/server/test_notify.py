# SPDX-License-Identifier: GPL-3.0-or-later
"""Notifications: settings, test events, HIT events, retries and HTTPS.

The server POSTs MTurk's notification JSON to a webhook; here the webhook is
a small HTTP(S) receiver on loopback run by the test. Plain http:// is
delivered only to loopback addresses; HTTPS is checked against the system's
CAs plus the server's [notifications] ca-file.
"""

import http.server
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))

import boto3
import botocore.config

from kpserver import KpTestCase, WorkerClient, free_text, main, question_form


class Receiver:
    """A webhook on 127.0.0.1 that records every POST and answers with the
    next status of `statuses` (200 once they are used up)."""

    def __init__(self, statuses=(), tls_files=None, delay=0, host="127.0.0.1"):
        self.posts = []
        self.statuses = list(statuses)
        self.active = 0
        self.max_active = 0
        self.condition = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver.condition:
                    receiver.active += 1
                    receiver.max_active = max(receiver.max_active, receiver.active)
                time.sleep(delay)
                with receiver.condition:
                    receiver.active -= 1
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                    receiver.posts.append({"path": self.path, "headers": dict(self.headers),
                                           "body": body, "status": status})
                    receiver.condition.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        scheme = "http"
        if tls_files is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls_files)
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
            scheme = "https"
        self.url = "%s://%s:%d/hook?secret=s3cr3t" % (scheme, host, self.httpd.server_port)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def wait(self, count, timeout=5):
        """The first `count` posts, waiting for them; fails on timeout."""
        deadline = time.monotonic() + timeout
        with self.condition:
            while len(self.posts) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError("expected %d notifications, got %d"
                                         % (count, len(self.posts)))
                self.condition.wait(left)
            return list(self.posts[:count])

    def count(self):
        with self.condition:
            return len(self.posts)

    def events(self):
        with self.condition:
            return [json.loads(p["body"])["Events"][0] for p in self.posts]


def spec(destination, event_types=("AssignmentSubmitted",), transport="SQS",
         version="2014-08-15"):
    return {"Destination": destination, "Transport": transport, "Version": version,
            "EventTypes": list(event_types)}


def outbox(server, destination=None, delete=False):
    """(attempts, last_error) of the messages waiting for destination (or
    all); delete=True removes them instead."""
    where = "" if destination is None else " WHERE destination = ?"
    args = () if destination is None else (destination,)
    if delete:
        server.sql("DELETE FROM notification_outbox" + where, args)
        return []
    return [tuple(row) for row in
            server.sql("SELECT attempts, last_error FROM notification_outbox" + where, args)]


def wait_outbox(server, destination, predicate, timeout=5):
    """Polls destination's messages until predicate(rows) holds."""
    deadline = time.monotonic() + timeout
    rows = outbox(server, destination)
    while not predicate(rows):
        if time.monotonic() > deadline:
            raise AssertionError("the outbox never got there: %r" % rows)
        time.sleep(0.05)
        rows = outbox(server, destination)
    return rows


def make_certificate(folder):
    """A self-signed certificate for 127.0.0.1: (cert path, key path)."""
    cert = os.path.join(folder, "cert.pem")
    key = os.path.join(folder, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class NotificationTestCase(KpTestCase):

    def setUp(self):
        self.receiver = Receiver()
        self.addCleanup(self.receiver.close)

    def loose(self):
        config = botocore.config.Config(parameter_validation=False,
                                        retries={"total_max_attempts": 1})
        return boto3.client("mturk", endpoint_url=self.server.url, region_name="us-east-1",
                            aws_access_key_id=self.requester["AccessKeyId"],
                            aws_secret_access_key=self.requester["SecretAccessKey"],
                            config=config)

    def hit_type(self, mturk=None):
        return (mturk or self.mturk).create_hit_type(
            AssignmentDurationInSeconds=600, Reward="0.05", Title="Tag the image %f" % time.time(),
            Description="Pick the right tag")["HITTypeId"]

    def hit_with_type(self, hit_type_id, max_assignments=2):
        return self.mturk.create_hit_with_hit_type(
            HITTypeId=hit_type_id, MaxAssignments=max_assignments, LifetimeInSeconds=3600,
            Question=question_form())["HIT"]


class NotifyTest(NotificationTestCase):

    def test_send_test_event_notification(self):
        self.mturk.send_test_event_notification(
            Notification=spec(self.receiver.url, ["AssignmentSubmitted"]), TestEventType="Ping")
        post = self.receiver.wait(1)[0]
        self.assertEqual(post["path"], "/hook?secret=s3cr3t")
        self.assertEqual(post["headers"]["Content-Type"], "application/json")
        document = json.loads(post["body"])
        self.assertEqual(document["EventDocVersion"], "2014-08-15")
        self.assertTrue(document["EventDocId"])
        self.assertEqual(len(document["Events"]), 1)
        self.assertEqual(document["Events"][0]["EventType"], "Ping")
        self.assertRegex(document["Events"][0]["EventTimestamp"],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

        # The test event is sent even if the specification does not list it.
        self.mturk.send_test_event_notification(
            Notification=spec(self.receiver.url, ["HITCreated"], transport="SNS",
                              version="2006-05-05"),
            TestEventType="AssignmentSubmitted")
        event = json.loads(self.receiver.wait(2)[1]["body"])["Events"][0]
        self.assertEqual(event["EventType"], "AssignmentSubmitted")
        for member in ("HITTypeId", "HITId", "AssignmentId"):
            self.assertRegex(event[member], r"^[A-Z0-9]+$")
        # Delivered messages leave the outbox.
        wait_outbox(self.server, self.receiver.url, lambda rows: rows == [])

    def test_refused_specifications(self):
        loose = self.loose()
        hit_type_id = self.hit_type()
        arn = "arn:aws:sns:us-east-1:123456789012:my-topic"
        for bad, words in ((spec(arn, transport="SNS"), "HTTPS"),
                           (spec("me@example.com", transport="Email"), "HTTPS"),
                           (spec("http://example.com/hook"), "https://"),
                           (spec("ftp://127.0.0.1/hook"), "https://"),
                           (spec("not a url"), "https://"),
                           (spec("https://user:pw@example.com/"), "https://"),
                           (spec(self.receiver.url, version="2017-01-17"), "Version"),
                           (spec(self.receiver.url, event_types=["AssignmentEaten"]),
                            "EventTypes"),
                           (spec(self.receiver.url, event_types=[]), "EventTypes"),
                           (spec(self.receiver.url, transport="Pigeon"), "Transport")):
            self.assertRequestError(loose.send_test_event_notification, Notification=bad,
                                    TestEventType="Ping", message=words)
            self.assertRequestError(loose.update_notification_settings, HITTypeId=hit_type_id,
                                    Notification=bad, message=words)
        for member in ("Destination", "Transport", "Version", "EventTypes"):
            partial = spec(self.receiver.url)
            del partial[member]
            self.assertRequestError(loose.send_test_event_notification, Notification=partial,
                                    TestEventType="Ping")
        self.assertRequestError(loose.send_test_event_notification,
                                Notification=spec(self.receiver.url), TestEventType="Pong")
        self.assertRequestError(loose.send_test_event_notification, TestEventType="Ping")
        # Ping is only for tests.
        self.assertRequestError(self.mturk.update_notification_settings, HITTypeId=hit_type_id,
                                Notification=spec(self.receiver.url, ["Ping"]), message="Ping")
        # Active needs a specification, given now or before.
        self.assertRequestError(self.mturk.update_notification_settings, HITTypeId=hit_type_id,
                                Active=True)
        self.assertRequestError(loose.update_notification_settings, HITTypeId=hit_type_id)
        # Someone else's HIT type does not exist.
        other = self.server.mturk(self.server.create_requester())
        self.assertRequestError(other.update_notification_settings, HITTypeId=hit_type_id,
                                Notification=spec(self.receiver.url),
                                turk_code="AWS.MechanicalTurk.HITTypeDoesNotExist")
        self.assertEqual(outbox(self.server, self.receiver.url), [])
        self.assertEqual(self.receiver.count(), 0)

    def test_hit_events_follow_the_settings(self):
        hit_type_id = self.hit_type()
        self.mturk.update_notification_settings(
            HITTypeId=hit_type_id,
            Notification=spec(self.receiver.url, ["AssignmentAccepted", "AssignmentSubmitted",
                                                  "AssignmentSubmitted"]))
        hit = self.hit_with_type(hit_type_id)
        worker = WorkerClient(self.server)
        assignment_id = worker.accept_hit(hit["HITId"])["assignment_id"]
        worker.submit(assignment_id, [free_text("q1", "a dog")])
        posts = self.receiver.wait(2)
        events = sorted((json.loads(p["body"])["Events"][0] for p in posts),
                        key=lambda e: e["EventType"])
        self.assertEqual([e["EventType"] for e in events],
                         ["AssignmentAccepted", "AssignmentSubmitted"])
        for event in events:
            self.assertEqual((event["HITTypeId"], event["HITId"], event["AssignmentId"]),
                             (hit_type_id, hit["HITId"], assignment_id))
        document = json.loads(posts[0]["body"])
        self.assertEqual(document["CustomerId"], json.loads(posts[1]["body"])["CustomerId"])

        # Approval is not among the event types: nothing is sent for it.
        self.mturk.approve_assignment(AssignmentId=assignment_id)
        self.mturk.send_test_event_notification(Notification=spec(self.receiver.url),
                                                TestEventType="Ping")
        self.receiver.wait(3)
        time.sleep(0.5)
        self.assertEqual([e["EventType"] for e in self.receiver.events()][2:], ["Ping"])

        # Switched off, then on again without repeating the specification.
        self.mturk.update_notification_settings(HITTypeId=hit_type_id, Active=False)
        second = WorkerClient(self.server)
        second_id = second.accept_hit(hit["HITId"])["assignment_id"]
        time.sleep(1.5)
        self.assertEqual(self.receiver.count(), 3)
        self.mturk.update_notification_settings(HITTypeId=hit_type_id, Active=True)
        second.submit(second_id, [free_text("q1", "a cat")])
        event = json.loads(self.receiver.wait(4)[3]["body"])["Events"][0]
        self.assertEqual((event["EventType"], event["AssignmentId"]),
                         ("AssignmentSubmitted", second_id))

        # A new specification replaces the old one.
        other = Receiver()
        self.addCleanup(other.close)
        self.mturk.update_notification_settings(
            HITTypeId=hit_type_id, Notification=spec(other.url, ["AssignmentApproved"]))
        self.mturk.approve_assignment(AssignmentId=second_id)
        event = json.loads(other.wait(1)[0]["body"])["Events"][0]
        self.assertEqual((event["EventType"], event["AssignmentId"]),
                         ("AssignmentApproved", second_id))
        self.assertEqual(self.receiver.count(), 4)


class ConcurrencyTest(NotificationTestCase):

    def test_slow_destination_does_not_hold_up_others(self):
        # "localhost" and "127.0.0.1" are different hosts to the notifier.
        slow = Receiver(delay=0.4, host="localhost")
        self.addCleanup(slow.close)
        for _ in range(24):
            self.mturk.send_test_event_notification(Notification=spec(slow.url),
                                                    TestEventType="Ping")
        started = time.monotonic()
        self.mturk.send_test_event_notification(Notification=spec(self.receiver.url),
                                                TestEventType="HITCreated")
        # At most 4 at a time go to one host, and another host's message is
        # not queued behind all 24 of the slow one's.
        self.receiver.wait(1)
        self.assertLess(time.monotonic() - started, 2.0)
        posts = slow.wait(24, timeout=15)
        self.assertEqual(len({json.loads(p["body"])["EventDocId"] for p in posts}), 24)
        self.assertLessEqual(slow.max_active, 4)
        self.assertGreaterEqual(slow.max_active, 2)
        wait_outbox(self.server, slow.url, lambda rows: rows == [])
        time.sleep(0.5)
        self.assertEqual(slow.count(), 24)


class RetryTest(NotificationTestCase):
    FAKE_TIME = True

    def settle(self):
        """Lets the once-a-second delivery timer run."""
        time.sleep(1.5)

    def test_back_off_then_delivery(self):
        receiver = Receiver(statuses=[500, 503])
        self.addCleanup(receiver.close)
        self.mturk.send_test_event_notification(Notification=spec(receiver.url),
                                                TestEventType="Ping")
        receiver.wait(1)
        rows = wait_outbox(self.server, receiver.url, lambda rows: rows and rows[0][0] == 1)
        self.assertIn("500", rows[0][1])

        # The first retry comes 10 s later, not before.
        self.server.advance(6)
        self.settle()
        self.assertEqual(receiver.count(), 1)
        self.server.advance(5)
        receiver.wait(2)
        # (Recorded before the clock moves on.)
        wait_outbox(self.server, receiver.url, lambda rows: rows and rows[0][0] == 2)
        # The second 20 s after that.
        self.server.advance(12)
        self.settle()
        self.assertEqual(receiver.count(), 2)
        self.server.advance(9)
        posts = receiver.wait(3)
        self.assertEqual([p["status"] for p in posts], [500, 503, 200])
        self.assertEqual(len({p["body"] for p in posts}), 1)
        wait_outbox(self.server, receiver.url, lambda rows: rows == [])
        # The failures are logged, naming the host but not the URL, which
        # may carry a secret.
        log = self.server.log()
        self.assertIn("to 127.0.0.1 failed", log)
        self.assertNotIn("s3cr3t", log)
        # Delivered: never sent again.
        self.server.advance(120)
        self.settle()
        self.assertEqual(receiver.count(), 3)

    def test_unreachable_destination_is_retried(self):
        # A port nobody listens on.
        receiver = Receiver()
        url = receiver.url
        receiver.close()
        self.mturk.send_test_event_notification(Notification=spec(url), TestEventType="Ping")
        self.addCleanup(outbox, self.server, url, True)
        attempts, error = wait_outbox(self.server, url, lambda rows: rows and rows[0][0] >= 1)[0]
        self.assertEqual(attempts, 1)
        self.assertTrue(error)
        self.server.advance(11)
        wait_outbox(self.server, url, lambda rows: rows[0][0] == 2)

    def test_zz_gives_up_after_a_day(self):
        receiver = Receiver(statuses=[500] * 10)
        self.addCleanup(receiver.close)
        self.mturk.send_test_event_notification(Notification=spec(receiver.url),
                                                TestEventType="Ping")
        receiver.wait(1)
        wait_outbox(self.server, receiver.url, lambda rows: rows and rows[0][0] == 1)
        start = self.server.offset
        try:
            # No requests are signed while the clock is a day ahead.
            self.server.advance(25 * 3600)
            receiver.wait(2)
            wait_outbox(self.server, receiver.url, lambda rows: rows == [])
            self.server.advance(3600)
            self.settle()
            self.assertEqual(receiver.count(), 2)
        finally:
            self.server.advance(start - self.server.offset)


class HttpsTest(NotificationTestCase):
    """HTTPS to a receiver whose self-signed certificate the server trusts
    through [notifications] ca-file."""

    @classmethod
    def setUpClass(cls):
        cls.folder = tempfile.mkdtemp(prefix="kp-notify-tls-")
        cls.tls_files = make_certificate(cls.folder)
        config = os.path.join(cls.folder, "server.conf")
        with open(config, "w") as f:
            f.write("[notifications]\nca-file=%s\n" % cls.tls_files[0])
        cls.SERVER_ARGS = ("--config", config)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.folder, ignore_errors=True)

    def test_trusted_certificate(self):
        receiver = Receiver(tls_files=self.tls_files)
        self.addCleanup(receiver.close)
        self.assertTrue(receiver.url.startswith("https://"))
        self.mturk.send_test_event_notification(Notification=spec(receiver.url),
                                                TestEventType="HITExpired")
        try:
            event = json.loads(receiver.wait(1)[0]["body"])["Events"][0]
        except AssertionError:
            raise AssertionError("%r\n%s" % (outbox(self.server), self.server.log()))
        self.assertEqual(event["EventType"], "HITExpired")


class UntrustedHttpsTest(NotificationTestCase):
    """Without the CA file the same certificate is refused: nothing is
    POSTed, and the message waits for a retry."""

    def test_untrusted_certificate(self):
        folder = tempfile.mkdtemp(prefix="kp-notify-tls-")
        self.addCleanup(shutil.rmtree, folder, True)
        receiver = Receiver(tls_files=make_certificate(folder))
        self.addCleanup(receiver.close)
        self.mturk.send_test_event_notification(Notification=spec(receiver.url),
                                                TestEventType="Ping")
        attempts, error = wait_outbox(self.server, receiver.url,
                                      lambda rows: rows and rows[0][0] >= 1)[0]
        self.assertEqual(attempts, 1)
        self.assertIn("certificate", error.lower())
        self.assertEqual(receiver.count(), 0)


if __name__ == "__main__":
    main()
