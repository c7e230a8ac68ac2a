# SPDX-License-Identifier: GPL-3.0-or-later
"""The MTurk wire protocol: AWS JSON 1.1, SigV4, errors, hostile input.

Each hostile request gets a clear error, and the server keeps serving.
"""

import datetime
import json
import os
import socket
import sys
import subprocess
import time

sys.path.insert(0, os.path.dirname(__file__))

import botocore.auth
import botocore.awsrequest
import botocore.config
import botocore.credentials
import botocore.exceptions
import boto3

from kpserver import SERVER, KpTestCase, Server, main, question_form

TARGET = "MTurkRequesterServiceV20170117."


class ProtocolTest(KpTestCase):

    def signed(self, operation, body, key=None, secret=None, when=None,
               content_type="application/x-amz-json-1.1", extra_headers=None,
               sign_target=True):
        """Signs a request the way botocore does and sends it raw."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        headers = {"Content-Type": content_type}
        if operation is not None:
            headers["X-Amz-Target"] = TARGET + operation
        headers.update(extra_headers or {})
        request = botocore.awsrequest.AWSRequest(method="POST", url=self.server.url,
                                                 data=body, headers=headers)
        credentials = botocore.credentials.Credentials(
            key or self.requester["AccessKeyId"], secret or self.requester["SecretAccessKey"])
        signer = botocore.auth.SigV4Auth(credentials, "mturk-requester", "us-east-1")
        if when is not None:
            # botocore takes the time from datetime.utcnow(): sign as of `when`.
            real = datetime.datetime

            class Fixed(real):
                @classmethod
                def utcnow(cls):
                    return when

            botocore.auth.datetime.datetime = Fixed
            try:
                signer.add_auth(request)
            finally:
                botocore.auth.datetime.datetime = real
        else:
            signer.add_auth(request)
        prepared = dict(request.headers.items())
        if not sign_target:
            prepared[("X-Amz-Target")] = TARGET + "GetAccountBalance"
        return self.server.raw("POST", "/", body, prepared)

    def assertWireError(self, response, status, error_type, message=None):
        code, headers, data = response
        self.assertEqual(code, status, data)
        body = json.loads(data)
        self.assertEqual(body["__type"], error_type, body)
        self.assertTrue(body["Message"], body)
        if message is not None:
            self.assertIn(message, body["Message"])
        return body

    def assertStillServing(self):
        balance = self.mturk.get_account_balance()
        self.assertIn("AvailableBalance", balance)

    # --- the happy path through boto3 and the raw protocol ---

    def test_boto3_round_trip(self):
        balance = self.mturk.get_account_balance()
        self.assertEqual(balance["AvailableBalance"], "1000.00")
        self.assertEqual(balance["ResponseMetadata"]["HTTPStatusCode"], 200)
        self.assertTrue(balance["ResponseMetadata"]["RequestId"])

    def test_raw_signed_request(self):
        code, headers, data = self.signed("GetAccountBalance", {})
        self.assertEqual(code, 200, data)
        self.assertEqual(headers["Content-Type"], "application/x-amz-json-1.1")
        self.assertEqual(json.loads(data)["AvailableBalance"], "1000.00")

    def test_repeated_reads_see_every_change(self):
        # Reads may be answered from the response cache; any change, also one
        # made by another process on the data directory, must show at once.
        before = self.mturk.get_account_balance()["AvailableBalance"]
        self.assertEqual(self.mturk.get_account_balance()["AvailableBalance"], before)
        self.server.admin("fund", self.requester["AccessKeyId"], "1.25")
        after = self.mturk.get_account_balance()["AvailableBalance"]
        self.assertEqual(float(after) - float(before), 1.25)
        hit = self.create_hit()
        listed = self.mturk.list_hits(MaxResults=100)["HITs"]
        self.assertIn(hit["HITId"], [h["HITId"] for h in listed])
        self.mturk.update_expiration_for_hit(HITId=hit["HITId"], ExpireAt=0)
        self.assertEqual(self.mturk.get_hit(HITId=hit["HITId"])["HIT"]["HITStatus"], "Reviewable")
        self.server.admin("fund", self.requester["AccessKeyId"], "0.75")
        # The expired HIT holds nothing any more: only the new funds count.
        self.assertAlmostEqual(float(self.mturk.get_account_balance()["AvailableBalance"]),
                               float(after) + 0.75)

    def test_throttling_is_retried_by_botocore(self):
        # Another process holds the store's write lock: the server answers
        # ThrottlingException instead of stalling, and botocore retries
        # until the lock is gone.
        import sqlite3
        import threading
        hit = self.create_hit()
        if self.server.store:
            # PostgreSQL: the store's write lock is an advisory lock
            # (kp-db-pg.c); another session holding it is another process.
            import psycopg2

            class Holder:
                def __init__(self, uri):
                    self.connection = psycopg2.connect(uri)
                    self.connection.autocommit = True
                    self.in_transaction = True
                    self.connection.cursor().execute(
                        "SELECT pg_advisory_lock (7018986426095133038)")

                def execute(self, statement):
                    assert statement == "COMMIT"
                    if self.in_transaction:
                        self.connection.cursor().execute(
                            "SELECT pg_advisory_unlock (7018986426095133038)")
                        self.in_transaction = False

                def close(self):
                    self.connection.close()
            db = Holder(self.server.store)
        else:
            db = sqlite3.connect(os.path.join(self.server.data_dir, "kempelen.db"),
                                 isolation_level=None, check_same_thread=False)
            db.execute("BEGIN EXCLUSIVE")
        try:
            no_retries = self.server.mturk(self.requester)
            with self.assertRaises(botocore.exceptions.ClientError) as context:
                no_retries.update_expiration_for_hit(HITId=hit["HITId"], ExpireAt=0)
            self.assertEqual(context.exception.response["Error"]["Code"], "ThrottlingException")
            release = threading.Timer(1.0, lambda: db.execute("COMMIT"))
            release.start()
            retrying = self.server.mturk(self.requester, retries=6)
            retrying.update_expiration_for_hit(HITId=hit["HITId"], ExpireAt=0)
            release.join()
        finally:
            if db.in_transaction:
                db.execute("COMMIT")
            db.close()
        self.assertEqual(self.mturk.get_hit(HITId=hit["HITId"])["HIT"]["HITStatus"], "Reviewable")

    # --- signatures ---

    def test_unsigned(self):
        response = self.server.raw("POST", "/", b"{}", {
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": TARGET + "GetAccountBalance"})
        self.assertWireError(response, 400, "MissingAuthenticationTokenException")
        self.assertStillServing()

    def test_wrong_secret(self):
        response = self.signed("GetAccountBalance", {}, secret="x" * 40)
        self.assertWireError(response, 400, "InvalidSignatureException",
                             "signature we calculated does not match")

    def test_unknown_key(self):
        response = self.signed("GetAccountBalance", {}, key="AKKPNOSUCHKEY0000000")
        self.assertWireError(response, 400, "UnrecognizedClientException")

    def test_stale_and_future(self):
        now = datetime.datetime.utcnow()
        for skew in (-16, 16):
            response = self.signed("GetAccountBalance", {},
                                   when=now + datetime.timedelta(minutes=skew))
            self.assertWireError(response, 400, "InvalidSignatureException", "Signature")
        response = self.signed("GetAccountBalance", {},
                               when=now - datetime.timedelta(minutes=10))
        self.assertEqual(response[0], 200, response[2])

    def test_tampered_body_and_target(self):
        body = json.dumps({}).encode()
        code, headers, data = self.signed("GetAccountBalance", body)
        self.assertEqual(code, 200)
        # Re-send the same signed headers with another body.
        request = botocore.awsrequest.AWSRequest(
            method="POST", url=self.server.url, data=body,
            headers={"Content-Type": "application/x-amz-json-1.1",
                     "X-Amz-Target": TARGET + "GetAccountBalance"})
        botocore.auth.SigV4Auth(botocore.credentials.Credentials(
            self.requester["AccessKeyId"], self.requester["SecretAccessKey"]),
            "mturk-requester", "us-east-1").add_auth(request)
        headers = dict(request.headers.items())
        response = self.server.raw("POST", "/", b'{"x": 1}', headers)
        self.assertWireError(response, 400, "InvalidSignatureException")
        headers["X-Amz-Target"] = TARGET + "ListHITs"
        response = self.server.raw("POST", "/", body, headers)
        self.assertWireError(response, 400, "InvalidSignatureException")

    def test_target_must_be_signed(self):
        request = botocore.awsrequest.AWSRequest(
            method="POST", url=self.server.url, data=b"{}",
            headers={"Content-Type": "application/x-amz-json-1.1"})
        botocore.auth.SigV4Auth(botocore.credentials.Credentials(
            self.requester["AccessKeyId"], self.requester["SecretAccessKey"]),
            "mturk-requester", "us-east-1").add_auth(request)
        headers = dict(request.headers.items())
        headers["X-Amz-Target"] = TARGET + "GetAccountBalance"
        response = self.server.raw("POST", "/", b"{}", headers)
        self.assertWireError(response, 400, "IncompleteSignatureException", "X-Amz-Target")

    def test_hostile_authorization_headers(self):
        for value in ["", "AWS4-HMAC-SHA256", "Basic dXNlcjpwYXNz",
                      "AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=zz",
                      "AWS4-HMAC-SHA256 " + "A" * 20000, "\u00ff".encode("latin-1").decode("latin-1"),
                      "AWS4-HMAC-SHA256 Credential=%s/20200101/us-east-1/mturk-requester/"
                      "aws4_request, SignedHeaders=host;x-amz-date;x-amz-target, Signature=%s"
                      % ("' OR 1=1 --", "0" * 64)]:
            response = self.server.raw("POST", "/", b"{}", {
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": TARGET + "GetAccountBalance",
                "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
                "Authorization": value})
            self.assertEqual(response[0], 400, (value[:40], response))
            self.assertIn(json.loads(response[2])["__type"],
                          ("MissingAuthenticationTokenException",
                           "IncompleteSignatureException", "InvalidSignatureException"))
        self.assertStillServing()

    # --- targets, content types, bodies ---

    def test_unknown_operation(self):
        response = self.signed("StealAllTheMoney", {})
        body = self.assertWireError(response, 400, "RequestError", "Unknown operation")
        self.assertEqual(body["TurkErrorCode"], "AWS.MechanicalTurk.UnknownOperation")

    def test_bad_target_prefix(self):
        response = self.signed(None, {}, extra_headers={"X-Amz-Target": "Other.GetHIT"})
        self.assertWireError(response, 400, "RequestError", "X-Amz-Target")

    def test_wrong_content_type(self):
        response = self.signed("GetAccountBalance", {}, content_type="text/plain")
        self.assertWireError(response, 400, "RequestError", "Content-Type")

    def test_malformed_json(self):
        for body in [b"", b"{", b"[]", b"42", b'"x"', b"null", b'{"a":}', b"{}" * 1000,
                     b'{"MaxResults": 1e999999}']:
            response = self.signed("ListHITs", body)
            self.assertWireError(response, 400, "RequestError")
        self.assertStillServing()

    def test_invalid_utf8(self):
        response = self.signed("ListHITs", b'{"NextToken": "\xff\xfe"}')
        self.assertWireError(response, 400, "RequestError", "UTF-8")

    def test_unknown_member(self):
        response = self.signed("GetAccountBalance", {"Surprise": 1})
        self.assertWireError(response, 400, "RequestError", "Surprise")

    def test_wrong_types(self):
        for value in ["10", 10.5, True, [], {}, -1, 0, 101]:
            response = self.signed("ListHITs", {"MaxResults": value})
            self.assertWireError(response, 400, "RequestError", "MaxResults")
        self.assertStillServing()

    def test_sql_metacharacters(self):
        for token in ["'; DROP TABLE hits; --", "\" OR \"1\"=\"1", "%' OR 1=1 --", "\\x00"]:
            response = self.signed("ListHITs", {"NextToken": token})
            self.assertWireError(response, 400, "RequestError", "NextToken")
        self.assertStillServing()

    def test_oversized_body(self):
        body = b'{"x": "' + b"a" * (9 * 1024 * 1024) + b'"}'
        try:
            response = self.server.raw("POST", "/", body, {
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": TARGET + "GetAccountBalance"})
            self.assertEqual(response[0], 413)
        except (ConnectionError, socket.timeout):
            pass  # the server may close before reading it all: also a refusal
        self.assertStillServing()

    def test_oversized_chunked_body(self):
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        try:
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                         b"Content-Type: application/x-amz-json-1.1\r\n\r\n")
            chunk = b"a" * (1024 * 1024)
            try:
                for _ in range(12):
                    sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            except (ConnectionError, socket.timeout):
                pass
        finally:
            sock.close()
        self.assertStillServing()

    def test_methods_and_paths(self):
        code, headers, data = self.server.raw("GET", "/")
        self.assertEqual(code, 405)
        self.assertEqual(headers["Allow"], "POST")
        code, headers, data = self.server.raw("GET", "/nothing-here")
        self.assertEqual(code, 404)
        code, headers, data = self.server.raw("GET", "/health")
        self.assertEqual(code, 200)
        self.assertEqual(json.loads(data)["status"], "ok")

    def test_half_open_connections(self):
        # Connections that send half a request and vanish do no harm.
        for _ in range(20):
            sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
            sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
            sock.close()
        self.assertStillServing()


class StartupTest(KpTestCase):

    def test_corrupt_database_is_refused_and_kept(self):
        server = Server(store="")  # SQLite, whatever KP_TEST_STORE says
        try:
            os.makedirs(server.data_dir)
            path = os.path.join(server.data_dir, "kempelen.db")
            with open(path, "wb") as f:
                f.write(b"this is not a database" * 100)
            with open(path, "rb") as f:
                before = f.read()
            with self.assertRaises(RuntimeError) as context:
                server.start()
            self.assertIn("damaged", str(context.exception))
            with open(path, "rb") as f:
                self.assertEqual(f.read(), before)
        finally:
            server.cleanup()

    def test_sigterm_under_load_drains(self):
        # SIGTERM while requests stream in: the server stops accepting,
        # answers what it has, exits 0, and every HIT it acknowledged is
        # there after a restart.
        import threading
        server = Server(args=["--quiet"]).start()
        try:
            requester = server.create_requester()
            acknowledged = []
            lock = threading.Lock()
            stop = threading.Event()

            def client():
                mturk = server.mturk(requester)
                while not stop.is_set():
                    try:
                        hit = mturk.create_hit(
                            MaxAssignments=1, LifetimeInSeconds=600,
                            AssignmentDurationInSeconds=60, Reward="0.01",
                            Title="Drain", Description="d", Question=question_form())
                    except Exception:
                        return  # refused or cut off once the server stops
                    with lock:
                        acknowledged.append(hit["HIT"]["HITId"])

            threads = [threading.Thread(target=client) for _ in range(4)]
            for t in threads:
                t.start()
            time.sleep(0.7)
            self.assertEqual(server.stop(timeout=15), 0)
            stop.set()
            for t in threads:
                t.join(30)
            self.assertGreater(len(acknowledged), 0)

            server.start()
            mturk = server.mturk(requester)
            for hit_id in acknowledged:
                self.assertEqual(mturk.get_hit(HITId=hit_id)["HIT"]["HITId"], hit_id)
        finally:
            server.cleanup()

    def test_sigterm_while_idle_exits_cleanly(self):
        server = Server().start()
        try:
            self.assertEqual(server.stop(), 0)
        finally:
            server.cleanup()


class TlsAndConfigTest(KpTestCase):
    """HTTPS with a self-signed certificate, and the configuration file."""

    def test_https_with_self_signed_certificate(self):
        # In the sanitizer build, LeakSanitizer's tracer crashes at exit on
        # the TLS server's threads (a sanitizer fault, not a leak): leak
        # checking is off for this one process; memory errors still abort.
        asan = os.environ.get("ASAN_OPTIONS")
        server = Server(env={"ASAN_OPTIONS": asan + ":detect_leaks=0"} if asan else None)
        try:
            cert = os.path.join(server.tmp, "cert.pem")
            key = os.path.join(server.tmp, "key.pem")
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                            "-keyout", key, "-out", cert, "-days", "2",
                            "-subj", "/CN=127.0.0.1",
                            "-addext", "subjectAltName=IP:127.0.0.1"],
                           check=True, capture_output=True)
            server.args = ["--tls-cert", cert, "--tls-key", key]
            server.start()
            self.assertTrue(server.url.startswith("https://"), server.url)
            requester = server.create_requester(funds="5")
            client = boto3.client("mturk", endpoint_url=server.url, region_name="us-east-1",
                                  aws_access_key_id=requester["AccessKeyId"],
                                  aws_secret_access_key=requester["SecretAccessKey"],
                                  verify=cert)
            self.assertEqual(client.get_account_balance()["AvailableBalance"], "5.00")
            # Without trusting the certificate, the client refuses.
            untrusting = boto3.client("mturk", endpoint_url=server.url, region_name="us-east-1",
                                      aws_access_key_id=requester["AccessKeyId"],
                                      aws_secret_access_key=requester["SecretAccessKey"],
                                      config=botocore.config.Config(retries={"total_max_attempts": 1}))
            with self.assertRaises(botocore.exceptions.SSLError):
                untrusting.get_account_balance()
            self.assertEqual(server.stop(), 0)
        finally:
            server.cleanup()

    def test_missing_key_file(self):
        result = subprocess.run([SERVER, "--tls-cert", "/nonexistent.pem", "--tls-key",
                                 "/nonexistent.key", "--listen", "127.0.0.1:0",
                                 "--data-dir", os.path.join(self.server.tmp, "x")],
                                capture_output=True, text=True, timeout=20)
        self.assertEqual(result.returncode, 2)
        self.assertIn("TLS certificate", result.stderr)

    def test_config_file(self):
        server = Server()
        try:
            config = os.path.join(server.tmp, "server.conf")
            with open(config, "w") as f:
                f.write("[server]\ndata-dir=%s\nlisten=127.0.0.1:0\nmax-body-size=1000\n"
                        % server.data_dir)
            server.args = ["--config", config]
            proc = subprocess.Popen([SERVER, "--config", config], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
            line = proc.stdout.readline().decode()
            self.assertIn("listening on http://127.0.0.1:", line)
            server.port = int(line.rsplit(":", 1)[1].strip().rstrip("/"))
            code, headers, data = server.raw("POST", "/", b"x" * 2000, {
                "Content-Type": "application/x-amz-json-1.1"})
            self.assertEqual(code, 413)
            proc.terminate()
            self.assertEqual(proc.wait(10), 0)
            proc.stdout.close()
            proc.stderr.close()
            self.assertTrue(os.path.exists(os.path.join(server.data_dir, "kempelen.db")))

            # The sample shipped in data/ parses (the command line wins).
            sample = os.path.join(os.environ.get("KP_SOURCE_ROOT", "."), "data",
                                  "kempelen-server.conf.sample")
            proc = subprocess.Popen([SERVER, "--config", sample, "--data-dir", server.data_dir,
                                     "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
            self.assertIn("listening on", proc.stdout.readline().decode())
            proc.terminate()
            self.assertEqual(proc.wait(10), 0)
            proc.stdout.close()
            proc.stderr.close()

            with open(config, "w") as f:
                f.write("[server]\nlisten=127.0.0.1:0\nlsiten=oops\n")
            result = subprocess.run([SERVER, "--config", config], capture_output=True,
                                    text=True, timeout=20)
            self.assertEqual(result.returncode, 2)
            self.assertIn("lsiten", result.stderr)
        finally:
            server.cleanup()


if __name__ == "__main__":
    main()
