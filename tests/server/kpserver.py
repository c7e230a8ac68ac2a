# SPDX-License-Identifier: GPL-3.0-or-later
"""A real kempelen-server for Python tests, and clients to drive it.

Every test class gets its own data directory and server process on a free
loopback port (KpTestCase). Nothing is mocked: accounts are made with
`kempelenctl admin`, requests are signed by Debian's botocore, and the
server's clock is moved with libfaketime when a test needs time to pass.

Run the tests with Debian's /usr/bin/python3, which has boto3.
"""

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse

import boto3
import botocore.config

BUILD_ROOT = os.environ.get("KP_BUILD_ROOT") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", "_build"))
SERVER = os.path.join(BUILD_ROOT, "src", "server", "kempelen-server")
KEMPELENCTL = os.path.join(BUILD_ROOT, "src", "cli", "kempelenctl")
FAKETIME_LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"

QUESTION_FORM_NS = ("http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/"
                    "2017-11-06/QuestionForm.xsd")


def question_form(identifier="q1", text="What is in the picture?"):
    """A small valid QuestionForm with one free-text question."""
    return ('<QuestionForm xmlns="%s">'
            '<Question><QuestionIdentifier>%s</QuestionIdentifier>'
            '<IsRequired>true</IsRequired>'
            '<QuestionContent><Text>%s</Text></QuestionContent>'
            '<AnswerSpecification><FreeTextAnswer/></AnswerSpecification>'
            '</Question></QuestionForm>' % (QUESTION_FORM_NS, identifier, text))


def html_question(body="<p>Hello</p>", height=400):
    return ('<HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/'
            'AWSMechanicalTurkDataSchemas/2011-11-11/HTMLQuestion.xsd">'
            '<HTMLContent><![CDATA[<!DOCTYPE html><html><body>%s'
            '<crowd-form><crowd-input name="answer"></crowd-input></crowd-form>'
            '</body></html>]]></HTMLContent><FrameHeight>%d</FrameHeight>'
            '</HTMLQuestion>' % (body, height))


def kempelenctl(*args, check=True):
    result = subprocess.run([KEMPELENCTL, *args], capture_output=True, text=True, timeout=60)
    if check and result.returncode != 0:
        raise RuntimeError("kempelenctl %s failed: %s" % (" ".join(args), result.stderr))
    return result


class Server:
    """One kempelen-server process on a data directory."""

    def __init__(self, data_dir=None, fake_time=False, args=(), env=None, store=None):
        """store: a PostgreSQL URI, or None for the SQLite store in data_dir —
        unless KP_TEST_STORE=postgresql is set (the test command runs the
        store test files once per backend), which gives each Server a fresh
        database in a throwaway cluster (kppg.shared_cluster()). Two Servers
        with the same data_dir and store are two processes on one store."""
        self.tmp = tempfile.mkdtemp(prefix="kp-server-test-")
        self.data_dir = data_dir or os.path.join(self.tmp, "data")
        if store is None and os.environ.get("KP_TEST_STORE") == "postgresql":
            import kppg
            store = kppg.shared_cluster().create_database()
        self.store = store
        self.fake_time = fake_time
        self.args = list(args)
        self.env = dict(env or {})
        self.clock_file = os.path.join(self.tmp, "clock")
        self.offset = 0
        self.process = None
        self.url = None
        self.port = None
        self.log_path = os.path.join(self.tmp, "server.log")
        with open(self.clock_file, "w") as f:
            f.write("+0\n")

    # --- life cycle ---

    def start(self, listen="127.0.0.1:0", timeout=20):
        env = dict(os.environ)
        # Warnings are how the server reports refused input; only criticals
        # (programming errors) must abort it.
        env["G_DEBUG"] = "fatal-criticals"
        env.update(self.env)
        if self.fake_time:
            env["LD_PRELOAD"] = FAKETIME_LIB
            env["FAKETIME_TIMESTAMP_FILE"] = self.clock_file
            env["FAKETIME_NO_CACHE"] = "1"
            env["FAKETIME_DONT_FAKE_MONOTONIC"] = "1"
            env["FAKETIME_DONT_RESET"] = "1"
            # In a sanitizer build libfaketime comes before the ASan runtime.
            env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0").lstrip(":")
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [SERVER, "--data-dir", self.data_dir, "--listen", listen,
             *(["--store", self.store] if self.store else []), *self.args],
            stdout=subprocess.PIPE, stderr=log, env=env)
        log.close()
        deadline = time.monotonic() + timeout
        line = b""
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            if line.startswith(b"kempelen-server: listening on "):
                self.url = line.decode().split(" on ", 1)[1].strip()
                self.port = urllib.parse.urlparse(self.url).port
                return self
        self.kill()
        raise RuntimeError("kempelen-server did not start: %r\n%s" % (line, self.log()))

    def stop(self, timeout=10):
        """SIGTERM; asserts a clean exit."""
        if self.process is None:
            return 0
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        finally:
            self.process.stdout.close()
            self.process = None
        return code

    def kill(self):
        """kill -9, as a crash would."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait()
        self.process.stdout.close()
        self.process = None

    def restart(self):
        self.stop()
        return self.start("127.0.0.1:%d" % self.port)

    def cleanup(self):
        if self.process is not None:
            self.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    # --- the fake clock (server only; keep under 14 minutes per test
    # because SigV4 refuses requests more than 15 minutes off) ---

    def advance(self, seconds):
        """Moves the server's clock forward; returns the new offset."""
        assert self.fake_time, "start the Server with fake_time=True"
        self.offset += seconds
        with open(self.clock_file, "w") as f:
            f.write("%+ds\n" % self.offset)
        return self.offset

    def now(self):
        return time.time() + self.offset

    def wait_for_jobs(self):
        """The background jobs run every second."""
        time.sleep(1.3)

    # --- the store, for tests that set up states no API reaches ---

    def sql(self, statement, params=()):
        """Runs one statement on the server's store, with ? placeholders,
        in its own transaction; returns the rows of a query (or [])."""
        if self.store:
            import psycopg2
            connection = psycopg2.connect(self.store)
            try:
                with connection, connection.cursor() as cursor:
                    cursor.execute(statement.replace("?", "%s"), params)
                    return cursor.fetchall() if cursor.description else []
            finally:
                connection.close()
        import sqlite3
        db = sqlite3.connect(os.path.join(self.data_dir, "kempelen.db"), timeout=30)
        try:
            with db:
                return db.execute(statement, params).fetchall()
        finally:
            db.close()

    # --- accounts ---

    def admin(self, *args, check=True):
        store = ["--store", self.store] if self.store else []
        return kempelenctl("admin", "--data-dir", self.data_dir, *store, *args, check=check)

    def create_requester(self, funds="1000"):
        out = json.loads(self.admin("requester", "create", "--json").stdout)
        if funds:
            self.admin("fund", out["AccessKeyId"], funds)
        return out

    def create_worker(self, country=None, master=False):
        args = ["worker", "create", "--json"]
        if country:
            args += ["--country", country]
        if master:
            args.append("--master")
        return json.loads(self.admin(*args).stdout)

    def mturk(self, requester, retries=0):
        """A boto3 MTurk client for requester (a create_requester() result)."""
        config = botocore.config.Config(
            retries={"total_max_attempts": retries + 1, "mode": "standard"},
            connect_timeout=5, read_timeout=30)
        return boto3.client("mturk", endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id=requester["AccessKeyId"],
                            aws_secret_access_key=requester["SecretAccessKey"],
                            config=config)

    # --- raw HTTP, for hostile-input tests ---

    def raw(self, method, path, body=b"", headers=None, timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
            return response.status, dict(response.getheaders()), data
        finally:
            conn.close()


class KpTestCase(unittest.TestCase):
    """A server per test class, with one funded requester and its client.

    Set FAKE_TIME = True in a subclass to start the server under libfaketime.
    """

    FAKE_TIME = False
    SERVER_ARGS = ()

    @classmethod
    def setUpClass(cls):
        cls.server = Server(fake_time=cls.FAKE_TIME, args=cls.SERVER_ARGS).start()
        cls.requester = cls.server.create_requester()
        cls.mturk = cls.server.mturk(cls.requester)

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.server.stop()
            if code != 0:
                raise AssertionError("kempelen-server exited with %d:\n%s"
                                     % (code, cls.server.log()))
        finally:
            cls.server.cleanup()

    def assertRequestError(self, call, *args, turk_code=None, message=None, **kwargs):
        """Asserts call(*args, **kwargs) fails with MTurk's RequestError."""
        try:
            call(*args, **kwargs)
        except self.mturk.exceptions.RequestError as e:
            error = e.response["Error"]
            if turk_code is not None:
                self.assertEqual(e.response.get("TurkErrorCode")
                                 or error.get("TurkErrorCode"), turk_code, error)
            if message is not None:
                self.assertIn(message, error["Message"])
            return e
        self.fail("%s did not fail with RequestError" % getattr(call, "__name__", call))

    def create_hit(self, mturk=None, **overrides):
        params = dict(MaxAssignments=1, LifetimeInSeconds=3600,
                      AssignmentDurationInSeconds=600, Reward="0.10",
                      Title="Label the picture", Description="Draw boxes around cars",
                      Question=question_form())
        params.update(overrides)
        return (mturk or self.mturk).create_hit(**params)["HIT"]


# --- the worker API client --------------------------------------------------
# (written by the worker-API author: class WorkerClient below)


class WorkerError(Exception):
    """A worker API call answered with an unexpected status."""

    def __init__(self, status, body):
        super().__init__("HTTP %d: %r" % (status, body))
        self.status = status
        self.body = body


class WorkerClient:
    """A worker of the worker API (/worker/v1/), over one keep-alive
    connection of its own (so threads each get theirs).

    worker is a Server.create_worker() result ({"WorkerId", "Token"}).
    request() gives (status, headers, body bytes); call() decodes JSON;
    the named helpers raise WorkerError unless the answer is 200.
    """

    PREFIX = "/worker/v1"

    def __init__(self, server, worker=None, timeout=30):
        self.server = server
        worker = worker or server.create_worker()
        self.worker_id = worker["WorkerId"]
        self.token = worker["Token"]
        self.timeout = timeout
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, headers=None, token=None):
        """One HTTP request; path is relative to /worker/v1 ("/groups?q=x").
        body: bytes, str, or anything else (sent as JSON)."""
        all_headers = {"Authorization": "Bearer " + (token or self.token)}
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            all_headers["Content-Type"] = "application/json"
        all_headers.update(headers or {})
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.server.port,
                                                       timeout=self.timeout)
            try:
                self.conn.request(method, self.PREFIX + path, body=body, headers=all_headers)
                response = self.conn.getresponse()
                data = response.read()
                return response.status, dict(response.getheaders()), data
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError) if attempt == 0 else ():
                # The server closed an idle keep-alive connection: reconnect.
                self.close()
        raise AssertionError("unreachable")

    def call(self, method, path, body=None, **kwargs):
        """(status, decoded JSON or None)."""
        status, _, data = self.request(method, path, body, **kwargs)
        return status, (json.loads(data) if data else None)

    def _ok(self, method, path, body=None):
        status, data = self.call(method, path, body)
        if status != 200:
            raise WorkerError(status, data)
        return data

    @staticmethod
    def _query(params):
        params = {k: v for k, v in params.items() if v is not None}
        return ("?" + urllib.parse.urlencode(params)) if params else ""

    # --- the endpoints (docs/worker-api.md) ---

    def me(self):
        return self._ok("GET", "/me")

    def groups(self, **params):
        return self._ok("GET", "/groups" + self._query(params))

    def group(self, hit_type_id):
        return self._ok("GET", "/groups/" + hit_type_id)

    def preview(self, hit_type_id):
        return self._ok("GET", "/groups/%s/preview" % hit_type_id)

    def hit(self, hit_id):
        return self._ok("GET", "/hits/" + hit_id)

    def accept_group(self, hit_type_id):
        return self._ok("POST", "/groups/%s/accept" % hit_type_id)

    def accept_hit(self, hit_id):
        return self._ok("POST", "/hits/%s/accept" % hit_id)

    def return_assignment(self, assignment_id):
        return self._ok("POST", "/assignments/%s/return" % assignment_id)

    def submit(self, assignment_id, answers, submission_id=None):
        import uuid
        body = {"submission_id": submission_id or str(uuid.uuid4()), "answers": answers}
        return self._ok("POST", "/assignments/%s/submit" % assignment_id, body)

    def sync(self, submissions):
        return self._ok("POST", "/sync", {"submissions": submissions})

    def assignments(self, **params):
        return self._ok("GET", "/assignments" + self._query(params))

    def assignment(self, assignment_id):
        return self._ok("GET", "/assignments/" + assignment_id)

    def earnings(self, **params):
        return self._ok("GET", "/earnings" + self._query(params))

    def messages(self, **params):
        return self._ok("GET", "/messages" + self._query(params))

    def qualifications(self):
        return self._ok("GET", "/qualifications")

    def qualification_type(self, type_id):
        return self._ok("GET", "/qualification-types/" + type_id)

    def request_qualification(self, type_id, answers=None):
        body = {} if answers is None else {"answers": answers}
        return self._ok("POST", "/qualification-types/%s/request" % type_id, body)


def free_text(identifier, text):
    """One answer in the worker API's JSON form."""
    return {"QuestionIdentifier": identifier, "FreeText": text}


def add_media(server, data, content_type=None, name="media.bin"):
    """Puts bytes into the server's media store with `kempelenctl admin media
    add`, as an administrator would; works while the server runs. Without
    content_type the type is guessed from name and content. Returns the
    SHA-256."""
    path = os.path.join(server.tmp, name)
    with open(path, "wb") as f:
        f.write(data)
    args = ["media", "add", path, "--json"]
    if content_type:
        args += ["--content-type", content_type]
    try:
        added = json.loads(server.admin(*args).stdout)
    finally:
        os.unlink(path)
    return added[0]["SHA256"]


# --- end of the worker API client ---


def main():
    unittest.main(verbosity=2)
