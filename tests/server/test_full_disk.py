# SPDX-License-Identifier: GPL-3.0-or-later
"""A full disk under the server: a clear error, nothing acknowledged is lost,
everything works again once there is space, and the database is intact
(SQLite's integrity check, and a new server that has everything).

The server runs in a private mount namespace on a small tmpfs (unshare and
mount need root, as in CI's container; elsewhere the test says it is
skipped and why)."""

import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))

import botocore.config
import botocore.exceptions
import boto3

from kpserver import QUESTION_FORM_NS, SERVER, Server, main


def big_question(size):
    text = "x" * size
    return ('<QuestionForm xmlns="%s"><Question><QuestionIdentifier>q</QuestionIdentifier>'
            '<QuestionContent><Text>%s</Text></QuestionContent>'
            '<AnswerSpecification><FreeTextAnswer/></AnswerSpecification></Question>'
            '</QuestionForm>' % (QUESTION_FORM_NS, text))


def listed_hits(mturk):
    """Every HIT id ListHITs gives, page by page."""
    listed = set()
    token = None
    while True:
        kwargs = {"MaxResults": 100}
        if token:
            kwargs["NextToken"] = token
        page = mturk.list_hits(**kwargs)
        listed.update(h["HITId"] for h in page["HITs"])
        token = page.get("NextToken")
        if not token:
            return listed


def can_mount():
    if os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("nsenter") is None:
        return False
    probe = tempfile.mkdtemp(prefix="kp-mount-probe-")
    try:
        result = subprocess.run(["unshare", "-m", "sh", "-c",
                                 "mount -t tmpfs -o size=1m tmpfs '%s'" % probe],
                                capture_output=True, timeout=20)
        return result.returncode == 0
    finally:
        os.rmdir(probe)


@unittest.skipUnless(can_mount(), "needs root and mount namespaces (unshare -m) for a small tmpfs")
class FullDiskTest(unittest.TestCase):

    def setUp(self):
        self.server = Server()
        self.requester = self.server.create_requester(funds="100000")
        self.mount = os.path.join(self.server.tmp, "small-disk")
        os.makedirs(self.mount)
        script = ("mount -t tmpfs -o size=3m tmpfs '{m}' && cp -a '{d}/.' '{m}/' && "
                  "exec '{s}' --data-dir '{m}' --listen 127.0.0.1:0 --quiet"
                  ).format(m=self.mount, d=self.server.data_dir, s=SERVER)
        env = dict(os.environ, G_DEBUG="fatal-criticals")
        self.log = open(os.path.join(self.server.tmp, "server.log"), "wb")
        self.process = subprocess.Popen(["unshare", "-m", "sh", "-c", script],
                                        stdout=subprocess.PIPE, stderr=self.log, env=env)
        line = self.process.stdout.readline().decode()
        self.assertIn("listening on", line, self.server.log())
        self.url = line.split(" on ", 1)[1].strip()
        self.mturk = self.client(self.url)

    def client(self, url):
        return boto3.client(
            "mturk", endpoint_url=url, region_name="us-east-1",
            aws_access_key_id=self.requester["AccessKeyId"],
            aws_secret_access_key=self.requester["SecretAccessKey"],
            config=botocore.config.Config(retries={"total_max_attempts": 1}))

    def tearDown(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        self.log.close()
        self.server.cleanup()

    def create_hit(self, size):
        return self.mturk.create_hit(
            MaxAssignments=1, LifetimeInSeconds=3600, AssignmentDurationInSeconds=600,
            Reward="0.01", Title="Fill the disk", Description="Big question",
            Question=big_question(size))["HIT"]["HITId"]

    def test_full_disk(self):
        stored = []
        failure = None
        for _ in range(200):
            try:
                stored.append(self.create_hit(100000))
            except botocore.exceptions.ClientError as e:
                failure = e
                break
        self.assertIsNotNone(failure, "the 3 MB disk never filled up")
        self.assertGreater(len(stored), 3)
        error = failure.response["Error"]
        self.assertEqual(failure.response["ResponseMetadata"]["HTTPStatusCode"], 500, error)
        self.assertEqual(error["Code"], "ServiceFault", failure.response)
        self.assertIn("disk is full", error["Message"])

        # Still serving, and nothing acknowledged is lost.
        for hit_id in stored:
            self.assertEqual(self.mturk.get_hit(HITId=hit_id)["HIT"]["HITId"], hit_id)
        self.assertEqual(self.mturk.get_account_balance()["AvailableBalance"],
                         "%.2f" % (100000 - 0.02 * len(stored)))

        # Space comes back: writes work again, and the earlier HITs are there.
        subprocess.run(["nsenter", "-t", str(self.process.pid), "-m",
                        "mount", "-o", "remount,size=64m", self.mount], check=True)
        later = self.create_hit(1000)
        self.assertEqual(listed_hits(self.mturk), set(stored) | {later})

        # A sleeper keeps the mount namespace, and the small disk, once the
        # server has gone.
        holder = subprocess.Popen(["nsenter", "-t", str(self.process.pid), "-m",
                                   "sleep", "120"])
        self.addCleanup(holder.wait)
        self.addCleanup(holder.kill)
        namespace = os.readlink("/proc/%d/ns/mnt" % self.process.pid)
        for _ in range(1000):
            if os.readlink("/proc/%d/ns/mnt" % holder.pid) == namespace:
                break
            time.sleep(0.01)
        self.process.terminate()
        self.assertEqual(self.process.wait(20), 0)

        # The database is intact once space returns: SQLite's own check of
        # the file finds nothing, and a new server on it has every HIT.
        in_namespace = ["nsenter", "-t", str(holder.pid), "-m"]
        check = subprocess.run(
            in_namespace + ["/usr/bin/python3", "-c",
                            "import sqlite3, sys; print(sqlite3.connect(sys.argv[1])"
                            ".execute('PRAGMA integrity_check').fetchall())",
                            os.path.join(self.mount, "kempelen.db")],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(check.stdout.strip(), "[('ok',)]", check.stderr)
        again = subprocess.Popen(
            in_namespace + [SERVER, "--data-dir", self.mount, "--listen", "127.0.0.1:0", "--quiet"],
            stdout=subprocess.PIPE, stderr=self.log, env=dict(os.environ, G_DEBUG="fatal-criticals"))
        self.addCleanup(again.stdout.close)
        self.addCleanup(lambda: again.poll() is None and (again.kill(), again.wait()))
        line = again.stdout.readline().decode()
        self.assertIn("listening on", line, self.server.log())
        mturk = self.client(line.split(" on ", 1)[1].strip())
        self.assertEqual(listed_hits(mturk), set(stored) | {later})
        self.assertEqual(mturk.get_account_balance()["AvailableBalance"],
                         "%.2f" % (100000 - 0.02 * (len(stored) + 1)))
        mturk.close()
        again.terminate()
        self.assertEqual(again.wait(20), 0)


if __name__ == "__main__":
    main()
