# SPDX-License-Identifier: GPL-3.0-or-later
"""Every constrained parameter of every operation is validated on the server.

botocore checks almost nothing on the client, so this test walks botocore's
own MTurk service model: for each operation and each top-level member with
a constraint (pattern, length, range, enum, type), it sends a request whose
other required members are valid and that member alone is wrong, and
expects a RequestError naming it — never a success, never a ServiceFault.
(About 420 requests.)
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import botocore.session

from kpserver import KpTestCase, main, question_form

MODEL = botocore.session.get_session().get_service_model("mturk")


def valid_value(shape, name, depth=0):
    """A value that satisfies shape's own constraints."""
    kind = shape.type_name
    if kind == "string":
        if shape.enum:
            return shape.enum[0]
        pattern = shape.metadata.get("pattern", "")
        if name == "Question" or shape.name == "String" and name in ("Test",):
            return question_form()
        if pattern.startswith("^A["):
            return "A1B2C3D4E5F6G7"
        if pattern.startswith("^[A-Z0-9]"):
            return "3" + "A" * 29
        if pattern.startswith("^[0-9]+(\\.)?"):
            return "0.10"
        if name in ("AnswerKey",):
            return None
        if name in ("Destination",):
            return "https://127.0.0.1:9/"
        if name.endswith("Id"):
            return "3" + "A" * 29  # ids this server makes (the model says String)
        return "valid text"
    if kind in ("integer", "long"):
        low = shape.metadata.get("min", 1)
        return max(low, 60) if shape.metadata.get("max", 10 ** 9) >= 60 else low
    if kind == "boolean":
        return False
    if kind == "timestamp":
        return 4102444800  # 2100-01-01
    if kind == "list":
        item = valid_value(shape.member, name, depth + 1)
        return [] if item is None else [item]
    if kind == "structure":
        if depth > 3:
            return {}
        return {m: valid_value(s, m, depth + 1) for m, s in shape.members.items()
                if m in shape.required_members}
    return None


def invalid_values(shape, name):
    """Values that break one of shape's constraints, with what they break."""
    kind = shape.type_name
    out = []
    if kind == "string":
        out.append((42, "a number for a string"))
        out.append((["x"], "a list for a string"))
        if shape.enum:
            out.append(("NotAValue", "enum"))
        pattern = shape.metadata.get("pattern")
        if pattern and pattern.startswith("^A["):
            out.append(("zz-not-an-id", "pattern"))
        elif pattern and pattern.startswith("^[A-Z0-9]"):
            out.append(("lower-case-id", "pattern"))
        elif pattern:
            out.append(("1.234", "pattern"))
        if "max" in shape.metadata:
            out.append(("A" * (shape.metadata["max"] + 1), "max length"))
        if shape.metadata.get("min", 0) >= 1:
            out.append(("", "min length"))
    elif kind in ("integer", "long"):
        out.append(("12", "a string for an integer"))
        out.append((1.5, "a fraction for an integer"))
        if "min" in shape.metadata:
            out.append((shape.metadata["min"] - 1, "below minimum"))
        if "max" in shape.metadata:
            out.append((shape.metadata["max"] + 1, "above maximum"))
    elif kind == "boolean":
        out.append(("true", "a string for a boolean"))
    elif kind == "timestamp":
        out.append(("tomorrow", "a string for a timestamp"))
    elif kind == "list":
        out.append(("not a list", "a string for a list"))
    elif kind == "structure":
        out.append(("not an object", "a string for a structure"))
    return out


class ValidationTest(KpTestCase):

    def send(self, operation, body):
        data = json.dumps(body).encode()
        request = botocore.awsrequest.AWSRequest(
            method="POST", url=self.server.url, data=data,
            headers={"Content-Type": "application/x-amz-json-1.1",
                     "X-Amz-Target": "MTurkRequesterServiceV20170117." + operation})
        botocore.auth.SigV4Auth(
            botocore.credentials.Credentials(self.requester["AccessKeyId"],
                                             self.requester["SecretAccessKey"]),
            "mturk-requester", "us-east-1").add_auth(request)
        status, _, raw = self.server.raw("POST", "/", data, dict(request.headers.items()))
        return status, json.loads(raw)

    def test_every_constrained_member(self):
        checked = 0
        problems = []
        unnamed = []
        for operation in MODEL.operation_names:
            shape = MODEL.operation_model(operation).input_shape
            if shape is None:
                continue
            base = {}
            for member in shape.required_members:
                value = valid_value(shape.members[member], member)
                if value is not None:
                    base[member] = value
            for member, member_shape in shape.members.items():
                for bad, what in invalid_values(member_shape, member):
                    body = dict(base)
                    body[member] = bad
                    status, answer = self.send(operation, body)
                    checked += 1
                    if status != 400 or answer.get("__type") != "RequestError":
                        problems.append("%s.%s (%s): HTTP %d %s" % (
                            operation, member, what, status, answer))
                    elif member not in answer.get("Message", ""):
                        unnamed.append("%s.%s (%s): %s" % (operation, member, what,
                                                          answer.get("Message")))
        self.assertGreater(checked, 300)
        self.assertEqual(problems, [], "\n".join(problems[:40]))
        # Each answer names the member that is wrong, as a requester needs.
        self.assertEqual(unnamed, [], "\n".join(unnamed[:40]))
        # The server is still well.
        self.assertIn("AvailableBalance", self.mturk.get_account_balance())


if __name__ == "__main__":
    main()
