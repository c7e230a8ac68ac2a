#!/usr/bin/env python3
"""A requester's keys open the media store, and nothing else of the worker
API: the review desk signs GET /worker/v1/media/{sha256} with SigV4
(service mturk-requester), as kp_mturk_client_sign_message() does."""

import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))

import botocore.auth
import botocore.awsrequest
import botocore.credentials

from kpserver import KpTestCase, add_media, main


class RequesterMediaTest(KpTestCase):
    def signed(self, method, path, requester=None, secret=None, headers=None):
        requester = requester or self.requester
        url = self.server.url.rstrip("/") + path
        request = botocore.awsrequest.AWSRequest(method=method, url=url, data=b"",
                                                 headers=headers or {})
        credentials = botocore.credentials.Credentials(
            requester["AccessKeyId"], secret or requester["SecretAccessKey"])
        botocore.auth.SigV4Auth(credentials, "mturk-requester", "us-east-1").add_auth(request)
        return self.server.raw(method, urllib.parse.urlsplit(url).path, b"",
                               dict(request.headers.items()))

    def test_requester_reads_media(self):
        data = os.urandom(5000)
        digest = add_media(self.server, data, "image/png")
        status, headers, body = self.signed("GET", "/worker/v1/media/" + digest)
        self.assertEqual(status, 200)
        self.assertEqual(body, data)
        self.assertEqual(headers.get("Content-Type"), "image/png")

        status, headers, body = self.signed("HEAD", "/worker/v1/media/" + digest)
        self.assertEqual(status, 200)
        self.assertEqual(body, b"")

        status, _, body = self.signed("GET", "/worker/v1/media/" + digest,
                                      headers={"Range": "bytes=10-19"})
        self.assertEqual(status, 206)
        self.assertEqual(body, data[10:20])

        status, _, _ = self.signed("GET", "/worker/v1/media/" + "0" * 64)
        self.assertEqual(status, 404)

    def test_wrong_keys_are_refused(self):
        digest = add_media(self.server, b"secret picture", "image/png")
        status, _, body = self.signed("GET", "/worker/v1/media/" + digest, secret="wrong" * 8)
        self.assertIn(status, (401, 403))
        self.assertNotIn(b"secret picture", body)

        status, _, body = self.server.raw("GET", "/worker/v1/media/" + digest, b"",
                                          {"Authorization": "AWS4-HMAC-SHA256 Credential=x"})
        self.assertIn(status, (400, 401, 403))
        self.assertNotIn(b"secret picture", body)

    def test_only_media_opens_to_requesters(self):
        for method, path in (("GET", "/worker/v1/me"), ("GET", "/worker/v1/groups"),
                             ("GET", "/worker/v1/assignments"),
                             ("POST", "/worker/v1/sync"),
                             ("GET", "/worker/v1/media/")):
            with self.subTest(path=path):
                status, _, _ = self.signed(method, path)
                self.assertEqual(status, 401)

    def test_other_requesters_media_is_shared_store(self):
        # Media are content-addressed and shared by every HIT of the server;
        # any requester with valid keys reads them by hash, as any worker does.
        other = self.server.create_requester()
        digest = add_media(self.server, b"shared", "text/plain")
        status, _, body = self.signed("GET", "/worker/v1/media/" + digest, requester=other)
        self.assertEqual(status, 200)
        self.assertEqual(body, b"shared")


if __name__ == "__main__":
    main()
