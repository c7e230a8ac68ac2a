# SPDX-License-Identifier: GPL-3.0-or-later
"""Security of kempelen-server's front: rate limits per credential, limits
on failed authentication per client address, TLS with a self-signed
certificate, and secrets that never reach the logs."""

import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))

import boto3
import botocore.config
import botocore.exceptions

from kpserver import KpTestCase, Server, WorkerClient, main, question_form

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
    """--rate-limit 5/5: five requests at once per credential, then five a
    second."""

    SERVER_ARGS = ("--rate-limit", "5/5")
    RATE = 5
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


class AuthFailureLimitTest(KpTestCase):
    """Failed authentication is limited per client address (20 a second,
    bursts of 40), whatever the credential; while an address is refused,
    even a right credential is not looked at."""

    RATE = 20
    BURST = 40

    def setUp(self):
        # Start with a full bucket for 127.0.0.1.
        time.sleep(self.BURST / self.RATE + 0.1)

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
        time.sleep(2.0 / self.RATE + 0.1)
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
        time.sleep(2.0 / self.RATE + 0.1)
        self.assertIn("AvailableBalance", self.mturk.get_account_balance())

    def test_successes_are_not_counted(self):
        worker = WorkerClient(self.server)
        self.addCleanup(worker.close)
        for _ in range(2 * self.BURST):
            self.assertIn("AvailableBalance", self.mturk.get_account_balance())
            self.assertEqual(worker.me()["worker_id"], worker.worker_id)


if __name__ == "__main__":
    main()
