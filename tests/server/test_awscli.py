# SPDX-License-Identifier: GPL-3.0-or-later
"""Smoke test with Debian's AWS CLI (/usr/bin/aws): a requester's shell
scripts work against kempelen-server by changing only --endpoint-url."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))

from kpserver import KpTestCase, WorkerClient, free_text, main, question_form

AWS = "/usr/bin/aws"


@unittest.skipUnless(os.access(AWS, os.X_OK), "Debian's awscli is not installed")
class AwsCliTest(KpTestCase):

    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="kp-awscli-")
        self.addCleanup(shutil.rmtree, self.home, True)

    def aws(self, *args, requester=None, check=True):
        """Runs `aws mturk ARGS` with nothing of the user's configuration:
        credentials from the environment only, a fresh HOME."""
        requester = requester or self.requester
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": self.home,
            "LANG": "C.UTF-8",
            "AWS_ACCESS_KEY_ID": requester["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": requester["SecretAccessKey"],
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_PAGER": "",
            "AWS_EC2_METADATA_DISABLED": "true",
        }
        result = subprocess.run(
            [AWS, "mturk", *args, "--endpoint-url", self.server.url, "--region", "us-east-1",
             "--output", "json"],
            env=env, capture_output=True, text=True, timeout=60, cwd=self.home)
        if check:
            self.assertEqual(result.returncode, 0,
                             "aws mturk %s: %s" % (" ".join(args), result.stderr))
            return json.loads(result.stdout) if result.stdout.strip() else {}
        return result

    def test_requester_workflow(self):
        requester = self.server.create_requester(funds="50")

        balance = self.aws("get-account-balance", requester=requester)
        self.assertEqual(balance["AvailableBalance"], "50.00")
        self.assertEqual(balance["OnHoldBalance"], "0.00")

        hit_type = self.aws("create-hit-type", "--title", "Find the cats",
                            "--description", "Draw a box around every cat",
                            "--reward", "0.25", "--assignment-duration-in-seconds", "600",
                            "--keywords", "image, boxes", requester=requester)
        self.assertRegex(hit_type["HITTypeId"], r"^[A-Z0-9]+$")

        question = os.path.join(self.home, "question.xml")
        with open(question, "w") as f:
            f.write(question_form("cats", "How many cats are there?"))
        created = self.aws("create-hit-with-hit-type", "--hit-type-id", hit_type["HITTypeId"],
                           "--max-assignments", "2", "--lifetime-in-seconds", "3600",
                           "--question", "file://" + question,
                           "--requester-annotation", "batch 1", requester=requester)
        hit = created["HIT"]
        self.assertEqual(hit["HITTypeId"], hit_type["HITTypeId"])
        self.assertEqual(hit["Title"], "Find the cats")
        self.assertEqual(hit["Reward"], "0.25")
        self.assertEqual(hit["MaxAssignments"], 2)
        self.assertEqual(hit["HITStatus"], "Assignable")
        self.assertIn("How many cats are there?", hit["Question"])

        listed = self.aws("list-hits", requester=requester)
        self.assertEqual([h["HITId"] for h in listed["HITs"]], [hit["HITId"]])

        # Two assignments of $0.25 plus the 20 % fee each are on hold.
        balance = self.aws("get-account-balance", requester=requester)
        self.assertEqual((balance["AvailableBalance"], balance["OnHoldBalance"]),
                         ("49.40", "0.60"))

        # Review and bonus from the shell too.
        worker = WorkerClient(self.server)
        assignment_id = worker.accept_hit(hit["HITId"])["assignment_id"]
        worker.submit(assignment_id, [free_text("cats", "3")])
        self.aws("approve-assignment", "--assignment-id", assignment_id, requester=requester)
        self.aws("send-bonus", "--worker-id", worker.worker_id, "--assignment-id",
                 assignment_id, "--bonus-amount", "1.00", "--reason", "Careful boxes",
                 requester=requester)
        bonuses = self.aws("list-bonus-payments", "--assignment-id", assignment_id,
                           requester=requester)
        self.assertEqual([(b["WorkerId"], b["BonusAmount"]) for b in bonuses["BonusPayments"]],
                         [(worker.worker_id, "1.00")])
        self.aws("create-worker-block", "--worker-id", worker.worker_id,
                 "--reason", "Testing blocks", requester=requester)
        blocks = self.aws("list-worker-blocks", requester=requester)
        self.assertEqual(blocks["WorkerBlocks"],
                         [{"WorkerId": worker.worker_id, "Reason": "Testing blocks"}])
        # 50 − 0.30 (reward + fee) − 1.20 (bonus + fee) − 0.30 still on hold.
        balance = self.aws("get-account-balance", requester=requester)
        self.assertEqual((balance["AvailableBalance"], balance["OnHoldBalance"]),
                         ("48.20", "0.30"))

    def test_errors_reach_the_shell(self):
        result = self.aws("get-hit", "--hit-id", "3NOSUCHHIT0000000000000000000", check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("RequestError", result.stderr)
        self.assertEqual(result.stdout.strip(), "")

        # A wrong secret is refused; nothing is printed as if it worked.
        wrong = dict(self.requester, SecretAccessKey="x" * 40)
        result = self.aws("get-account-balance", requester=wrong, check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertNotIn("AvailableBalance", result.stdout)


if __name__ == "__main__":
    main()
