#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes the seeds of fuzz-sigv4: requests signed by botocore (the
signer boto3 and the AWS CLI use) at 2026-01-01T00:00:00Z with the
target's secret, in the target's input format. Run it by hand when the
format changes: python3 make-sigv4-seeds.py seeds/sigv4"""

import datetime
import os
import sys
from unittest import mock

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
NOW = datetime.datetime(2026, 1, 1, 0, 0, 0)

REQUESTS = {
    "createhit": ("POST", "http://127.0.0.1:8470/", "",
                  {"X-Amz-Target": "MTurkRequesterServiceV20170117.CreateHIT",
                   "Content-Type": "application/x-amz-json-1.1"},
                  b'{"Title": "Tag a photo", "Reward": "0.05", "MaxAssignments": 3}'),
    "balance": ("POST", "http://localhost/", "",
                {"X-Amz-Target": "MTurkRequesterServiceV20170117.GetAccountBalance",
                 "Content-Type": "application/x-amz-json-1.1"},
                b"{}"),
    "query": ("GET", "https://mturk.example.com/a/./b/../c%20d/", "b=2&a=1&a=0&c=~&d=%2F&empty=&x",
              {"X-Amz-Target": "MTurkRequesterServiceV20170117.ListHITs",
               "X-Amz-Content-SHA256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
              b""),
    "spaces": ("POST", "http://127.0.0.1:8470/", "",
               {"X-Amz-Target": "MTurkRequesterServiceV20170117.GetHIT",
                "X-Custom": "  a   b \t c  ",
                "User-Agent": "Boto3/1.34 Python/3.11"},
               b'{"HITId": "3ABCDEFGHIJ"}'),
}


def main():
    out = sys.argv[1]
    creds = Credentials("AKIAIOSFODNN7EXAMPLE", SECRET)
    for name, (method, url, query, headers, body) in REQUESTS.items():
        full = url + ("?" + query if query else "")
        req = AWSRequest(method=method, url=full, headers=headers, data=body)
        with mock.patch("botocore.auth.get_current_datetime", return_value=NOW):
            SigV4Auth(creds, "mturk-requester", "us-east-1").add_auth(req)
        path = full.split("://", 1)[1]
        path = path[path.index("/"):].split("?", 1)[0]
        host = url.split("://", 1)[1].split("/", 1)[0]
        lines = [method, path, query, "Host: " + host]
        for key, value in req.headers.items():
            lines.append("%s: %s" % (key, value))
        with open(os.path.join(out, name), "wb") as f:
            f.write(("\n".join(lines) + "\n\n").encode() + body)


if __name__ == "__main__":
    main()
