#!/usr/bin/python3
# test-sigv4-boto3.py: requests signed by botocore must verify with kp_sigv4_verify ()
#
# SPDX-License-Identifier: GPL-3.0-or-later
#
# Usage: test-sigv4-boto3.py PATH/TO/test-sigv4
#
# botocore's SigV4Auth signs each request the way boto3 and the AWS CLI
# do; test-sigv4 --verify-stdin verifies it and exits 0 if and only if the
# signature is good. Tampered copies must be refused.

import base64
import json
import subprocess
import sys
import time
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ACCESS_KEY = 'AKIAKEMPELENTEST0001'
SECRET = 'kempelen/Secret+Key/With=Odd/Characters0123456789'
SERVICE = 'mturk-requester'

failures = 0
count = 0


def sign(method, url, headers, body, region='us-east-1', service=SERVICE):
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET), service, region).add_auth(request)
    return request


def describe(request, body):
    parts = urlsplit(request.url)
    return {
        'method': request.method,
        'path': parts.path or '/',
        'query': parts.query,
        'headers': [[name, value] for name, value in request.headers.items()],
        'body_base64': base64.b64encode(body).decode('ascii'),
        'secret': SECRET,
        'service': SERVICE,
        'now': int(time.time()),
    }


def verify(description):
    result = subprocess.run([sys.argv[1], '--verify-stdin'],
                            input=json.dumps(description).encode('utf-8'),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            timeout=30)
    return result.returncode, result.stderr.decode('utf-8', 'replace').strip()


def check(name, description, expect_ok):
    global failures, count
    count += 1
    code, message = verify(description)
    ok = code == 0
    if code not in (0, 1) or ok != expect_ok:
        failures += 1
        print(f'not ok {count} - {name}: exit {code}, {message}')
    else:
        print(f'ok {count} - {name}' + (f' ({message})' if message else ''))


def mturk_request(operation, params):
    body = json.dumps(params).encode('utf-8')
    headers = {
        'Host': '127.0.0.1:8443',
        'X-Amz-Target': f'MTurkRequesterServiceV20170117.{operation}',
        'Content-Type': 'application/x-amz-json-1.1',
        'User-Agent': 'Boto3/1.26.27 Python/3.11.2 Linux/6.1 Botocore/1.29.27',
    }
    return sign('POST', 'http://127.0.0.1:8443/', headers, body), body


def main():
    # The shape of every MTurk call: POST /, JSON body, X-Amz-Target.
    request, body = mturk_request('CreateHIT', {
        'Title': 'Label the caf\u00e9 \u2603 images',
        'Reward': '0.10',
        'MaxAssignments': 3,
        'Question': '<HTMLQuestion xmlns="x"><HTMLContent><![CDATA[<p>a&b</p>]]></HTMLContent></HTMLQuestion>',
    })
    good = describe(request, body)
    check('CreateHIT as boto3 signs it', good, True)

    tampered = dict(good, body_base64=base64.b64encode(body.replace(b'0.10', b'9.10')).decode())
    check('CreateHIT with another body', tampered, False)

    tampered = dict(good, headers=[[n, v.replace('CreateHIT', 'DeleteHIT')] for n, v in good['headers']])
    check('CreateHIT with another X-Amz-Target', tampered, False)

    tampered = dict(good, method='PUT')
    check('CreateHIT with another method', tampered, False)

    tampered = dict(good, secret=SECRET + 'x')
    check('CreateHIT verified with another secret', tampered, False)

    tampered = dict(good, now=good['now'] + 16 * 60)
    check('CreateHIT 16 minutes later', tampered, False)

    tampered = dict(good, service='sqs')
    check('CreateHIT for another service', tampered, False)

    # An empty body and an empty JSON object.
    request, body = mturk_request('GetAccountBalance', {})
    check('GetAccountBalance', describe(request, body), True)
    request = sign('POST', 'http://127.0.0.1:8443/', {'Host': '127.0.0.1:8443'}, b'')
    check('empty body', describe(request, b''), True)

    # Paths and queries botocore canonicalizes: dot segments, doubled
    # slashes, escapes that are escaped again, parameters in any order.
    for url in ('http://localhost:8443/worker/v1/media/abc?range=0-10&a=1&a=0',
                'http://localhost:8443/a%20b/./c//d/../e/?x=%2F%20%E2%98%83&flag=&y=1',
                'http://localhost:8443/some~path/with-._chars/?k~=v~'):
        request = sign('GET', url, {'Host': 'localhost:8443',
                                    'X-Spaced': '  several   spaces\there  '}, b'')
        check(f'GET {urlsplit(url).path}?{urlsplit(url).query}', describe(request, b''), True)

    # A region other than us-east-1 and an explicit payload hash header.
    body = b'{"HITId":"3ABC"}'
    request = sign('POST', 'http://127.0.0.1:8443/',
                   {'Host': '127.0.0.1:8443',
                    'X-Amz-Content-SHA256': __import__('hashlib').sha256(body).hexdigest(),
                    'X-Amz-Target': 'MTurkRequesterServiceV20170117.GetHIT'},
                   body, region='eu-west-1')
    check('eu-west-1 with X-Amz-Content-SHA256', describe(request, body), True)

    print(f'1..{count}')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
