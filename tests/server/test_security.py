# SPDX-License-Identifier: GPL-3.0-or-later
"""Security of kempelen-server's front: rate limits per credential, limits
on failed authentication per client address, TLS with a self-signed
certificate, and secrets that never reach the logs."""

import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
import botocore.exceptions

from kpserver import (KEMPELENCTL, SERVER, KpTestCase, Server, WorkerClient, main,
                      question_form)

TARGET = "MTurkRequesterServiceV20170117."


def make_certificate(folder, name="cert"):
    """A self-signed certificate for 127.0.0.1: (cert path, key path)."""
    cert = os.path.join(folder, name + ".pem")
    key = os.path.join(folder, name + "-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def error_code(call):
    """The AWS error code call() fails with, or None if it succeeds."""
    try:
        call()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
    return None


class RateLimitTest(KpTestCase):
    """--rate-limit 2/5: five requests at once per credential, then two a
    second (slow enough that a loaded machine's pauses do not refill a
    bucket behind a test's back)."""

    SERVER_ARGS = ("--rate-limit", "2/5")
    RATE = 2
    BURST = 5

    def fresh_requester(self, retries=0):
        requester = self.server.create_requester()
        return requester, self.server.mturk(requester, retries=retries)

    def burst(self, call, n=20):
        """Makes n calls back to back: (results, seconds taken before the
        first refused one)."""
        results = []
        start = time.monotonic()
        first_refused = None
        for _ in range(n):
            result = call()
            if result is not None and first_refused is None:
                first_refused = time.monotonic() - start
            results.append(result)
        return results, first_refused if first_refused is not None else time.monotonic() - start

    def assertBurstThenRefused(self, results, elapsed, refused):
        """Exactly the burst passes, then refusals; a bucket refills while
        the burst runs, so on a slow machine a late request may pass."""
        self.assertEqual(results[:self.BURST], [None] * self.BURST, results)
        if elapsed < 1.0 / self.RATE:
            self.assertEqual(results[self.BURST], refused, results)
        passed = results.count(None)
        self.assertLessEqual(passed, self.BURST + int(elapsed * self.RATE) + 1, results)
        self.assertGreaterEqual(results.count(refused), len(results) - passed)
        self.assertGreater(results.count(refused), 0, results)

    def test_mturk_credential_is_throttled(self):
        requester_a, mturk_a = self.fresh_requester()
        requester_b, mturk_b = self.fresh_requester()
        # Build the clients' endpoints first (no request is made).
        results, elapsed = self.burst(lambda: error_code(mturk_a.get_account_balance))
        self.assertBurstThenRefused(results, elapsed, "ThrottlingException")

        # The refusal is the one botocore retries: 400 with ThrottlingException.
        try:
            mturk_a.get_account_balance()
            self.fail("not throttled")
        except botocore.exceptions.ClientError as e:
            self.assertEqual(e.response["ResponseMetadata"]["HTTPStatusCode"], 400)
            self.assertEqual(e.response["Error"]["Code"], "ThrottlingException")
            self.assertIn("Rate exceeded", e.response["Error"]["Message"])

        # Another credential has its own bucket.
        results, elapsed = self.burst(lambda: error_code(mturk_b.get_account_balance), n=self.BURST)
        self.assertEqual(results, [None] * self.BURST)

        # Throttled requests did nothing: creating HITs while throttled
        # stores only those that passed.
        time.sleep(self.BURST / self.RATE + 0.2)
        codes, _ = self.burst(lambda: error_code(lambda: self.create_hit(mturk=mturk_a)), n=8)
        time.sleep(self.BURST / self.RATE + 0.2)
        hits = mturk_a.list_hits(MaxResults=100)["HITs"]
        self.assertEqual(len(hits), codes.count(None))

    def test_bucket_refills(self):
        _, mturk = self.fresh_requester()
        results, _ = self.burst(lambda: error_code(mturk.get_account_balance), n=10)
        self.assertIn("ThrottlingException", results)
        # One token comes back every 1/RATE seconds ...
        time.sleep(1.0 / self.RATE + 0.05)
        self.assertIsNone(error_code(mturk.get_account_balance))
        # ... and after BURST/RATE seconds the whole burst is there again.
        time.sleep(self.BURST / self.RATE + 0.1)
        results, elapsed = self.burst(lambda: error_code(mturk.get_account_balance), n=12)
        self.assertBurstThenRefused(results, elapsed, "ThrottlingException")

    def test_boto3_retries_get_through(self):
        _, mturk = self.fresh_requester(retries=8)
        start = time.monotonic()
        for i in range(3 * self.BURST):
            self.assertIn("AvailableBalance", mturk.get_account_balance())
        # More than the burst went through, so the limit held them back.
        self.assertGreater(time.monotonic() - start, (2 * self.BURST - 1) / self.RATE / 2)

    def test_worker_is_limited(self):
        worker_1 = WorkerClient(self.server)
        worker_2 = WorkerClient(self.server)
        self.addCleanup(worker_1.close)
        self.addCleanup(worker_2.close)
        responses = []

        def me():
            status, headers, data = worker_1.request("GET", "/me")
            responses.append((status, headers, data))
            return None if status == 200 else status

        results, elapsed = self.burst(me)
        self.assertBurstThenRefused(results, elapsed, 429)
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        try:
            conn.request("GET", "/worker/v1/me",
                         headers={"Authorization": "Bearer " + worker_1.token})
            response = conn.getresponse()
            response.read()
            self.assertEqual((response.status, response.reason), (429, "Too Many Requests"))
        finally:
            conn.close()
        status, headers, data = next(r for r in responses if r[0] == 429)
        body = json.loads(data)
        self.assertEqual(body["error"], "rate-limited")
        self.assertTrue(body["message"])
        retry_after = int(headers["Retry-After"])
        self.assertGreaterEqual(retry_after, 1)
        self.assertLessEqual(retry_after, 2)

        # Worker 2 is not affected by worker 1's burst.
        for _ in range(self.BURST):
            self.assertEqual(worker_2.me()["worker_id"], worker_2.worker_id)

        # Waiting as told is enough.
        time.sleep(retry_after)
        self.assertEqual(worker_1.me()["worker_id"], worker_1.worker_id)

    def test_health_is_not_limited(self):
        for _ in range(4 * self.BURST):
            status, _, data = self.server.raw("GET", "/health")
            self.assertEqual(status, 200, data)


class RateLimitSettingsTest(unittest.TestCase):
    """The limit comes from [server] rate-limit or --rate-limit (which
    wins); 0 turns it off; a malformed value is a usage error."""

    def start(self, args):
        server = Server(args=args)
        self.addCleanup(server.cleanup)
        server.start()
        self.addCleanup(server.stop)
        return server

    def config(self, text):
        folder = tempfile.mkdtemp(prefix="kp-config-")
        self.addCleanup(subprocess.run, ["rm", "-rf", folder], check=False)
        path = os.path.join(folder, "server.conf")
        with open(path, "w") as f:
            f.write(text)
        return path

    def codes(self, server, n):
        mturk = server.mturk(server.create_requester())
        return [error_code(mturk.get_account_balance) for _ in range(n)]

    def test_config_file(self):
        server = self.start(["--config", self.config("[server]\nrate-limit = 0.5/2\n")])
        codes = self.codes(server, 4)
        self.assertEqual(codes[:2], [None, None])
        self.assertEqual(codes[2:], ["ThrottlingException"] * 2)

    def test_zero_turns_it_off(self):
        server = self.start(["--config", self.config("[server]\nrate-limit = 0.5/2\n"),
                             "--rate-limit", "0"])
        self.assertEqual(self.codes(server, 30), [None] * 30)

    def test_bad_values(self):
        # (An empty value crashes main.c's parser for now: reported.)
        for value in ("fast", "-1", "5/0", "5/x", "5/", "/5"):
            with self.subTest(value=value):
                result = subprocess.run([SERVER, "--data-dir", tempfile.gettempdir(),
                                         "--rate-limit", value, "--listen", "127.0.0.1:0"],
                                        capture_output=True, text=True, timeout=30)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn("--rate-limit", result.stderr)


class AuthFailureLimitTest(unittest.TestCase):
    """Failed authentication is limited per client address (by default 20 a
    second, bursts of 40; here --auth-failure-limit 0.5/10, slow enough that
    a loaded machine cannot refill the bucket behind the test's back),
    whatever the credential; while an address is refused, even a right
    credential is not looked at. A server per test: a full bucket."""

    RATE = 0.5
    BURST = 10

    def setUp(self):
        self.server = Server(args=["--auth-failure-limit", "%g/%d" % (self.RATE, self.BURST),
                                   "--rate-limit", "0"]).start()
        self.addCleanup(self.server.cleanup)
        self.requester = self.server.create_requester()
        self.mturk = self.server.mturk(self.requester)

    def test_default_is_20_per_second(self):
        server = Server().start()
        self.addCleanup(server.cleanup)
        worker = WorkerClient(server)
        self.addCleanup(worker.close)
        statuses = [worker.request("GET", "/me", token="guess%d" % i)[0] for i in range(100)]
        self.assertEqual(statuses[:40], [401] * 40)
        self.assertIn(429, statuses)

    def test_wrong_worker_tokens(self):
        worker = WorkerClient(self.server)
        self.addCleanup(worker.close)
        statuses = []
        start = time.monotonic()
        for i in range(self.BURST + 20):
            status, headers, data = worker.request("GET", "/me", token="guess%d" % i)
            statuses.append(status)
            if status == 429:
                self.assertEqual(json.loads(data)["error"], "rate-limited")
                self.assertGreaterEqual(int(headers["Retry-After"]), 1)
        elapsed = time.monotonic() - start
        self.assertEqual(statuses[:self.BURST], [401] * self.BURST)
        self.assertIn(429, statuses)
        self.assertLessEqual(statuses.count(401), self.BURST + int(elapsed * self.RATE) + 1)

        # The right token from the refused address is refused too (its
        # answer would tell a guesser it was right) ...
        status, _, data = worker.request("GET", "/me")
        self.assertEqual(status, 429, data)
        # ... and the requester API shares the address' limit.
        code = error_code(self.mturk.get_account_balance)
        self.assertEqual(code, "ThrottlingException")

        # Once the bucket has refilled, the worker gets in.
        time.sleep(1.0 / self.RATE + 0.1)
        self.assertEqual(worker.me()["worker_id"], worker.worker_id)

    def test_wrong_secret_keys(self):
        wrong = dict(self.requester, SecretAccessKey="x" * 40)
        guesser = self.server.mturk(wrong)
        unknown = self.server.mturk(dict(self.requester, AccessKeyId="AKIA" + "Z" * 16))
        codes = []
        start = time.monotonic()
        for i in range(self.BURST + 20):
            codes.append(error_code((guesser if i % 2 else unknown).get_account_balance))
        elapsed = time.monotonic() - start
        self.assertNotIn(None, codes)
        self.assertEqual(set(codes[:self.BURST]),
                         {"InvalidSignatureException", "UnrecognizedClientException"})
        self.assertIn("ThrottlingException", codes)
        failed = len(codes) - codes.count("ThrottlingException")
        self.assertLessEqual(failed, self.BURST + int(elapsed * self.RATE) + 1)
        time.sleep(1.0 / self.RATE + 0.1)
        self.assertIn("AvailableBalance", self.mturk.get_account_balance())

    def test_successes_are_not_counted(self):
        worker = WorkerClient(self.server)
        self.addCleanup(worker.close)
        for _ in range(2 * self.BURST):
            self.assertIn("AvailableBalance", self.mturk.get_account_balance())
            self.assertEqual(worker.me()["worker_id"], worker.worker_id)


class TlsTest(unittest.TestCase):
    """--tls-cert/--tls-key: HTTPS with a self-signed certificate."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kp-tls-test-")
        cls.cert, cls.key = make_certificate(cls.tmp)
        cls.other_cert, _ = make_certificate(cls.tmp, "other")
        # In a sanitizer build, LeakSanitizer's tracer crashes at exit
        # while glib-networking's TLS threads are around (seen with GnuTLS
        # on Debian 12); leaks are checked by the plain-HTTP tests.
        asan = (os.environ.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
        cls.server = Server(args=["--tls-cert", cls.cert, "--tls-key", cls.key],
                            env={"ASAN_OPTIONS": asan}).start()
        cls.requester = cls.server.create_requester()

    @classmethod
    def tearDownClass(cls):
        try:
            code = cls.server.stop()
            if code != 0:
                raise AssertionError("kempelen-server exited with %d:\n%s"
                                     % (code, cls.server.log()))
        finally:
            cls.server.cleanup()
            subprocess.run(["rm", "-rf", cls.tmp], check=False)

    def mturk(self, verify):
        return boto3.client("mturk", endpoint_url=self.server.url, region_name="us-east-1",
                            aws_access_key_id=self.requester["AccessKeyId"],
                            aws_secret_access_key=self.requester["SecretAccessKey"],
                            verify=verify,
                            config=botocore.config.Config(retries={"total_max_attempts": 1},
                                                          connect_timeout=5, read_timeout=10))

    def https(self, context):
        return http.client.HTTPSConnection("127.0.0.1", self.server.port, timeout=10,
                                           context=context)

    def test_url_is_https(self):
        self.assertTrue(self.server.url.startswith("https://127.0.0.1:"), self.server.url)

    def test_boto3_over_tls(self):
        mturk = self.mturk(self.cert)
        self.assertEqual(mturk.get_account_balance()["AvailableBalance"], "1000.00")
        hit = mturk.create_hit(MaxAssignments=1, LifetimeInSeconds=600,
                               AssignmentDurationInSeconds=60, Reward="0.10",
                               Title="Over TLS", Description="Encrypted",
                               Question=question_form())["HIT"]
        self.assertEqual(mturk.get_hit(HITId=hit["HITId"])["HIT"]["Title"], "Over TLS")

    def test_worker_api_over_tls(self):
        worker = self.server.create_worker()
        context = ssl.create_default_context(cafile=self.cert)
        conn = self.https(context)
        try:
            conn.request("GET", "/worker/v1/me",
                         headers={"Authorization": "Bearer " + worker["Token"]})
            response = conn.getresponse()
            body = json.loads(response.read())
            self.assertEqual(response.status, 200, body)
            self.assertEqual(body["worker_id"], worker["WorkerId"])
            # The connection really is TLS, with the server's certificate.
            self.assertIsNotNone(conn.sock.version())
            der = conn.sock.getpeercert(binary_form=True)
            with open(self.cert) as f:
                self.assertEqual(der, ssl.PEM_cert_to_DER_cert(f.read()))
        finally:
            conn.close()

    def test_plain_http_fails_cleanly(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        try:
            with self.assertRaises((http.client.HTTPException, ConnectionError, OSError)):
                conn.request("GET", "/health")
                response = conn.getresponse()
                response.read()
                # Whatever came back, it is no HTTP answer to the request.
                raise http.client.HTTPException("answered %d" % response.status)
        finally:
            conn.close()
        # The server is not hurt by it.
        conn = self.https(ssl.create_default_context(cafile=self.cert))
        try:
            conn.request("GET", "/health")
            self.assertEqual(conn.getresponse().status, 200)
        finally:
            conn.close()

    def test_untrusting_clients_are_refused(self):
        for cafile in (None, self.other_cert):
            with self.subTest(cafile=cafile):
                context = ssl.create_default_context(cafile=cafile)
                conn = self.https(context)
                try:
                    with self.assertRaises(ssl.SSLCertVerificationError):
                        conn.request("GET", "/health")
                finally:
                    conn.close()
        with self.assertRaises(botocore.exceptions.SSLError):
            self.mturk(self.other_cert).get_account_balance()
        with self.assertRaises(botocore.exceptions.SSLError):
            self.mturk(True).get_account_balance()


class CapturingServer(Server):
    """A Server whose standard output is kept until it stops."""

    stdout_rest = b""

    def stop(self, timeout=10):
        if self.process is None:
            return 0
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
            self.stdout_rest = self.process.stdout.read()
        finally:
            self.process.stdout.close()
            self.process = None
        return code

    def full_log(self):
        with open(self.log_path, "rb") as f:
            return f.read()


class SecretsTest(unittest.TestCase):
    """With every debug message on, neither format of the server's log, nor
    kempelenctl's output beyond what it must print, holds a secret access
    key, a worker token (right or wrong), an Authorization header's value
    or a signature."""

    def setUp(self):
        self.secrets = set()

    def remember(self, *values):
        for value in values:
            if value:
                self.secrets.add(value.encode() if isinstance(value, str) else value)

    def run_ctl(self, server, *args):
        env = dict(os.environ, G_MESSAGES_DEBUG="all")
        result = subprocess.run([KEMPELENCTL, "admin", "--data-dir", server.data_dir, *args],
                                capture_output=True, env=env, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result

    def make_accounts(self, server):
        """Accounts made with kempelenctl: each secret is printed once, on
        standard output, and nowhere else."""
        accounts = {}
        for json_mode in (False, True):
            args = ["requester", "create", "--name", "Lab"] + (["--json"] if json_mode else [])
            result = self.run_ctl(server, *args)
            if json_mode:
                requester = json.loads(result.stdout)
            else:
                requester = dict(line.split(": ", 1) for line in
                                 result.stdout.decode().strip().splitlines())
            secret = requester["SecretAccessKey"].encode()
            self.assertEqual(result.stdout.count(secret), 1, result.stdout)
            self.assertNotIn(secret, result.stderr)
            accounts.setdefault("requesters", []).append(requester)
            self.remember(requester["SecretAccessKey"])

            args = ["worker", "create"] + (["--json"] if json_mode else [])
            result = self.run_ctl(server, *args)
            if json_mode:
                worker = json.loads(result.stdout)
            else:
                worker = dict(line.split(": ", 1) for line in
                              result.stdout.decode().strip().splitlines())
            token = worker["Token"].encode()
            self.assertEqual(result.stdout.count(token), 1, result.stdout)
            self.assertNotIn(token, result.stderr)
            accounts.setdefault("workers", []).append(worker)
            self.remember(worker["Token"])

        for requester in accounts["requesters"]:
            result = self.run_ctl(server, "fund", requester["AccessKeyId"], "100")
            for secret in self.secrets:
                self.assertNotIn(secret, result.stdout + result.stderr)
        return accounts

    def client(self, server, key, secret, session_token=None):
        client = boto3.client("mturk", endpoint_url=server.url, region_name="us-east-1",
                              aws_access_key_id=key, aws_secret_access_key=secret,
                              aws_session_token=session_token,
                              config=botocore.config.Config(retries={"total_max_attempts": 1}))

        def capture(request, **kwargs):
            authorization = request.headers.get("Authorization")
            if authorization:
                value = authorization.decode() if isinstance(authorization, bytes) else authorization
                self.remember(value)
                self.remember(value.rsplit("Signature=", 1)[-1])

        client.meta.events.register("before-send.mturk.*", capture)
        return client

    def exercise(self, server, accounts):
        requester = accounts["requesters"][0]
        key, secret = requester["AccessKeyId"], requester["SecretAccessKey"]
        good = self.client(server, key, secret)
        good.get_account_balance()
        good.create_hit(MaxAssignments=1, LifetimeInSeconds=600, AssignmentDurationInSeconds=60,
                        Reward="0.10", Title="Secrets", Description="None logged",
                        Question=question_form())
        self.assertIsNotNone(error_code(lambda: good.get_hit(HITId="NOSUCHHIT")))

        # A wrong secret, an unknown key, a secret sent as the key.
        wrong_secret = secret[:-4] + ("AAAA" if not secret.endswith("AAAA") else "BBBB")
        self.remember(wrong_secret)
        for bad_key, bad_secret in ((key, wrong_secret), ("AKIAUNKNOWNKEY000000", secret),
                                    (secret, secret)):
            self.assertIsNotNone(error_code(self.client(server, bad_key, bad_secret)
                                            .get_account_balance))
        # Temporary credentials (there are none here): the session token
        # is refused, right secret or not.
        session_token = "FwoGZXIvYXdzEBYaDSESSIONTOKEN" + secret[:12]
        self.remember(session_token)
        for bad_secret in (secret, wrong_secret):
            session = self.client(server, key, bad_secret, session_token)
            self.assertEqual(error_code(session.get_account_balance),
                             "UnrecognizedClientException")

        worker = accounts["workers"][0]
        token = worker["Token"]
        wrong_token = token[:-3] + ("xyz" if not token.endswith("xyz") else "abc")
        self.remember(wrong_token)

        def raw(method, path, headers, body=b""):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                return response.status, response.read()
            finally:
                conn.close()

        fake_signature = "0123456789abcdef" * 4
        fake_authorization = ("AWS4-HMAC-SHA256 Credential=%s/20200101/us-east-1/"
                              "mturk-requester/aws4_request, SignedHeaders=host;x-amz-date;"
                              "x-amz-target, Signature=%s" % (key, fake_signature))
        self.remember(fake_signature, fake_authorization)
        mturk_headers = {"Content-Type": "application/x-amz-json-1.1",
                         "X-Amz-Target": TARGET + "GetAccountBalance"}
        statuses = [
            raw("GET", "/worker/v1/me", {"Authorization": "Bearer " + token})[0],
            raw("GET", "/worker/v1/me", {"Authorization": "bearer " + token})[0],
            raw("GET", "/worker/v1/me", {"Authorization": "Bearer " + wrong_token})[0],
            raw("GET", "/worker/v1/me", {"Authorization": "Token " + token})[0],
            raw("GET", "/worker/v1/me", {"Authorization": token})[0],
            raw("GET", "/worker/v1/me?access_token=" + token, {})[0],
            raw("GET", "/worker/v1/groups?token=" + wrong_token,
                {"Authorization": "Bearer " + token})[0],
            raw("GET", "/worker/v1/nowhere/" + token, {"Authorization": "Bearer " + token})[0],
            raw("GET", "/worker/v1/me", {"X-Auth-Token": token, "Cookie": "token=" + token})[0],
            raw("POST", "/", dict(mturk_headers, Authorization=fake_authorization), b"{}")[0],
            raw("POST", "/", dict(mturk_headers, Authorization="Bearer " + token), b"{}")[0],
            raw("POST", "/?X-Amz-Signature=%s&X-Amz-Credential=%s" % (fake_signature, key),
                dict(mturk_headers, Authorization=fake_authorization), b"{}")[0],
            raw("POST", "/", dict(mturk_headers, Authorization=secret), b"{}")[0],
            raw("GET", "/" + token, {"Authorization": "Bearer " + token})[0],
            raw("GET", "/files/" + token, {})[0],
        ]
        self.assertEqual(statuses[0], 200)
        self.assertEqual(statuses[1], 200)
        self.assertEqual(statuses[2], 401)
        self.assertEqual(statuses[-1], 404)

        # Requests signed now (so that a mismatch would be looked into)
        # with credentials in the URL, rightly or wrongly signed.
        for query, signing_secret in (("X-Amz-Signature=" + fake_signature, secret),
                                      ("X-Amz-Credential=" + key, wrong_secret),
                                      ("access_token=" + token, secret)):
            request = botocore.awsrequest.AWSRequest(
                method="POST", url=server.url + "?" + query, data=b"{}",
                headers=dict(mturk_headers))
            botocore.auth.SigV4Auth(botocore.credentials.Credentials(key, signing_secret),
                                    "mturk-requester", "us-east-1").add_auth(request)
            headers = dict(request.headers.items())
            self.remember(headers["Authorization"],
                          headers["Authorization"].rsplit("Signature=", 1)[-1])
            status, data = raw("POST", "/?" + query, headers, b"{}")
            if query.startswith("X-Amz-"):
                self.assertEqual(status, 400)
                self.assertEqual(json.loads(data)["__type"], "IncompleteSignatureException")

    def check_server(self, log_format):
        server = CapturingServer(args=["--log-format", log_format],
                                 env={"G_MESSAGES_DEBUG": "all"}).start()
        try:
            accounts = self.make_accounts(server)
            self.exercise(server, accounts)
        finally:
            code = server.stop()
        try:
            self.assertEqual(code, 0)
            log = server.full_log() + server.stdout_rest
            # The log is verbose: requests and debug messages are in it.
            self.assertIn(b"GetAccountBalance", log)
            self.assertIn(b"/worker/v1/me", log)
            self.assertIn(b"-DEBUG: " if log_format == "text" else b'"level":"debug"', log)
            if log_format == "json":
                for line in server.full_log().splitlines():
                    json.loads(line)
            self.assertGreater(len(self.secrets), 8)
            for secret in self.secrets:
                self.assertNotIn(secret, log, "a secret is in the %s log" % log_format)
        finally:
            server.cleanup()

    def test_text_log(self):
        self.check_server("text")

    # On a signature mismatch kp-sigv4.c logs (at debug level) which
    # headers were signed, never their values or the query string.
    def test_signed_values_on_mismatch(self):
        server = CapturingServer(env={"G_MESSAGES_DEBUG": "all"}).start()
        try:
            requester = server.create_requester()
            token = server.create_worker()["Token"]
            request = botocore.awsrequest.AWSRequest(
                method="POST", url=server.url + "?access_token=" + token, data=b"{}",
                headers={"Content-Type": "application/x-amz-json-1.1",
                         "X-Amz-Target": TARGET + "GetAccountBalance",
                         "X-Custom-Token": token})
            botocore.auth.SigV4Auth(botocore.credentials.Credentials(
                requester["AccessKeyId"], "wrong" * 8), "mturk-requester",
                "us-east-1").add_auth(request)
            status, _, data = server.raw("POST", "/?access_token=" + token, b"{}",
                                         dict(request.headers.items()))
            self.assertEqual(json.loads(data)["__type"], "InvalidSignatureException")
        finally:
            server.stop()
        try:
            self.assertNotIn(token.encode(), server.full_log())
        finally:
            server.cleanup()

    def test_json_log(self):
        self.check_server("json")


if __name__ == "__main__":
    main()
