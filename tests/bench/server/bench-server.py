# SPDX-License-Identifier: GPL-3.0-or-later
"""Throughput and latency of kempelen-server on loopback, measured by wrk.

Prints BENCH lines:
  server_gethit_rps_baseline  a bare SoupServer answering a fixed JSON body of
                              the size of the GetHIT answer
  server_listhits_rps_baseline  the same, of the size of a 100-HIT page
  server_gethit_rps           GetHIT (SigV4-signed, replayed; repeated reads
                              of an unchanged store come from the response
                              cache, as a polling client's do)
  server_gethit_p99_ms
  server_gethit_ratio         server_gethit_rps / baseline (target >= 0.5)
  server_listhits_rps         ListHITs with MaxResults 100
  server_listhits_ratio       server_listhits_rps / its baseline (>= 0.5)
  server_gethit_uncached_rps, server_listhits_uncached_rps (and _ratio)
                              the same with --no-response-cache: every
                              answer computed from the store
  server_accept_rps           worker accepts, every one a new assignment
  server_submit_rps           worker submits, each fsync'd before its answer
                              (target >= 5000)
wrk runs on the same two cores as the server, so every figure includes the
load generator's share of the machine; the ratios compare like with like.
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "server"))

import botocore.auth
import botocore.awsrequest
import botocore.credentials

from kpserver import BUILD_ROOT, Server, WorkerClient, question_form

BARE = os.path.join(BUILD_ROOT, "tests", "bench", "server", "kp-bench-bare-server")
DURATION = os.environ.get("KP_BENCH_SECONDS", "4")
CONNECTIONS = "32"
THREADS = "1"


def bench(name, value, unit):
    print("BENCH %s %.3f %s" % (name, value, unit), flush=True)


def lua_string(text):
    level = "=" * 4
    assert ("]" + level + "]") not in text
    return "[" + level + "[" + text + "]" + level + "]"


def wrk(url, script, duration=DURATION, connections=CONNECTIONS):
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        result = subprocess.run(["wrk", "-t", THREADS, "-c", connections, "-d", duration + "s",
                                 "--latency", "-s", path, url],
                                capture_output=True, text=True, timeout=120)
    finally:
        os.unlink(path)
    out = result.stdout
    if result.returncode != 0:
        raise RuntimeError("wrk failed: %s %s" % (out, result.stderr))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    p99_ms = float(p99.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    total = int(re.search(r"(\d+) requests in", out).group(1))
    n_errors = int(errors.group(1)) if errors else 0
    if n_errors:
        print("# %d of %d responses were errors" % (n_errors, total), flush=True)
    return rps, p99_ms, total, n_errors, out


def signed_script(server, requester, operation, body):
    request = botocore.awsrequest.AWSRequest(
        method="POST", url=server.url, data=body.encode(),
        headers={"Content-Type": "application/x-amz-json-1.1",
                 "X-Amz-Target": "MTurkRequesterServiceV20170117." + operation})
    botocore.auth.SigV4Auth(
        botocore.credentials.Credentials(requester["AccessKeyId"], requester["SecretAccessKey"]),
        "mturk-requester", "us-east-1").add_auth(request)
    lines = ['wrk.method = "POST"', "wrk.body = " + lua_string(body)]
    for key, value in request.headers.items():
        lines.append("wrk.headers[ %s ] = %s" % (lua_string(key), lua_string(value)))
    return "\n".join(lines) + "\n"


def pairs_script(path_format, pairs_file, body_format=None):
    """Each wrk connection walks its own share of (token, id) pairs."""
    body = "nil"
    if body_format is not None:
        body = "string.format(%s, id, n)" % lua_string(body_format)
    return """
local pairs_file = %s
local list = {}
local n = 0
local step = 1
local first = 0
local threads = 0

function setup(thread)
  thread:set("first", threads)
  threads = threads + 1
end

function init(args)
  for line in io.lines(pairs_file) do
    local token, id = line:match("(%%S+) (%%S+)")
    list[#list + 1] = {token, id}
  end
  n = first
end

function request()
  n = n + 1
  local pair = list[((n - 1) %% #list) + 1]
  local token, id = pair[1], pair[2]
  local body = %s
  local headers = {["Authorization"] = "Bearer " .. token,
                   ["Content-Type"] = "application/json"}
  return wrk.format("POST", string.format(%s, id), headers, body)
end
""" % (lua_string(pairs_file), body, lua_string(path_format))


def bare_server(body_size):
    """rps and p99 of a bare SoupServer answering body_size bytes of JSON."""
    bare = subprocess.Popen([BARE, str(body_size)], stdout=subprocess.PIPE)
    bare_url = bare.stdout.readline().decode().split(" on ", 1)[1].strip()
    try:
        rps, p99, _, _, _ = wrk(bare_url, 'wrk.method = "POST"\nwrk.body = "{}"\n')
    finally:
        bare.terminate()
        bare.wait()
        bare.stdout.close()
    return rps, p99


def main():
    tmp = tempfile.mkdtemp(prefix="kp-bench-server-")

    # Unthrottled: the benchmark measures the server, not its rate limit.
    server = Server(args=["--quiet", "--rate-limit", "0"]).start()
    try:
        requester = server.create_requester(funds="1000000")
        mturk = server.mturk(requester)

        # HITs: many slots each, so that every worker can take every HIT.
        n_workers, n_hits = 100, 400
        hit_type = mturk.create_hit_type(
            Title="Benchmark", Description="Throughput", Reward="0.01",
            AssignmentDurationInSeconds=3600)["HITTypeId"]
        hits = [mturk.create_hit_with_hit_type(
            HITTypeId=hit_type, MaxAssignments=n_workers, LifetimeInSeconds=86400,
            Question=question_form())["HIT"]["HITId"] for _ in range(n_hits)]

        # --- baselines: a bare SoupServer answering as many bytes ---
        get = mturk.get_hit(HITId=hits[0])
        gethit_size = len(json.dumps({"HIT": get["HIT"]}, default=str))
        base_rps, base_p99 = bare_server(gethit_size)
        bench("server_gethit_rps_baseline", base_rps, "req/s")
        bench("server_gethit_p99_ms_baseline", base_p99, "ms")
        page = mturk.list_hits(MaxResults=100)
        listhits_size = len(json.dumps({"HITs": page["HITs"], "NextToken": page.get("NextToken"),
                                        "NumResults": page["NumResults"]}, default=str))
        list_base_rps, _ = bare_server(listhits_size)
        bench("server_listhits_rps_baseline", list_base_rps, "req/s")

        # --- GetHIT ---
        body = json.dumps({"HITId": hits[0]})
        gethit_rps, gethit_p99, _, errors, _ = wrk(server.url, signed_script(
            server, requester, "GetHIT", body))
        bench("server_gethit_rps", gethit_rps, "req/s")
        bench("server_gethit_p99_ms", gethit_p99, "ms")
        bench("server_gethit_ratio", gethit_rps / base_rps, "x")
        assert errors == 0, "GetHIT answered errors"
        assert get["HIT"]["HITId"] == hits[0]

        # --- ListHITs, 100 per page ---
        listhits_rps, listhits_p99, _, errors, _ = wrk(server.url, signed_script(
            server, requester, "ListHITs", json.dumps({"MaxResults": 100})))
        bench("server_listhits_rps", listhits_rps, "req/s")
        bench("server_listhits_p99_ms", listhits_p99, "ms")
        bench("server_listhits_ratio", listhits_rps / list_base_rps, "x")
        assert errors == 0, "ListHITs answered errors"

        # --- the same reads computed anew each time (--no-response-cache) ---
        server.args.append("--no-response-cache")
        server.restart()
        rps, p99, _, errors, _ = wrk(server.url, signed_script(server, requester, "GetHIT", body))
        bench("server_gethit_uncached_rps", rps, "req/s")
        bench("server_gethit_uncached_p99_ms", p99, "ms")
        bench("server_gethit_uncached_ratio", rps / base_rps, "x")
        rps, p99, _, errors2, _ = wrk(server.url, signed_script(
            server, requester, "ListHITs", json.dumps({"MaxResults": 100})))
        bench("server_listhits_uncached_rps", rps, "req/s")
        bench("server_listhits_uncached_ratio", rps / list_base_rps, "x")
        assert errors == 0 and errors2 == 0, "uncached reads answered errors"

        # --- worker accepts: (worker, HIT) pairs, each accepted once ---
        workers = [server.create_worker() for _ in range(n_workers)]
        pairs_path = os.path.join(tmp, "accept-pairs")
        with open(pairs_path, "w") as f:
            for hit in hits:
                for worker in workers:
                    f.write("%s %s\n" % (worker["Token"], hit))
        accept_rps, accept_p99, accepted, errors, _ = wrk(
            server.url, pairs_script("/worker/v1/hits/%s/accept", pairs_path),
            duration=str(int(DURATION) + 2))
        bench("server_accept_rps", accept_rps, "req/s")
        bench("server_accept_p99_ms", accept_p99, "ms")
        assert accepted <= n_workers * n_hits, "ran out of (worker, HIT) pairs: shorten the run"
        assert errors == 0, "accepts answered errors"

        # --- worker submits, each durable before its answer ---
        submit_path = os.path.join(tmp, "submit-pairs")
        n_assignments = 0
        with open(submit_path, "w") as f:
            for worker in workers:
                client = WorkerClient(server, worker)
                offset = 0
                while True:
                    page = client.assignments(status="Accepted", limit=100, offset=offset)
                    for a in page["assignments"]:
                        f.write("%s %s\n" % (worker["Token"], a["assignment_id"]))
                        n_assignments += 1
                    if page.get("next_offset") is None:
                        break
                    offset = page["next_offset"]
                client.close()
        submit_body = ('{"submission_id": "bench-%s-%d", "answers": '
                       '[{"QuestionIdentifier": "q1", "FreeText": "a car"}]}')
        submit_rps, submit_p99, submitted, errors, _ = wrk(
            server.url, pairs_script("/worker/v1/assignments/%s/submit", submit_path,
                                     submit_body))
        bench("server_submit_rps", submit_rps, "req/s")
        bench("server_submit_p99_ms", submit_p99, "ms")
        assert submitted <= n_assignments, \
            "ran out of accepted assignments (%d) for %d submits" % (n_assignments, submitted)
        assert errors == 0, "submits answered errors"

        # Every acknowledged submission is stored, exactly once.
        stored = 0
        for hit in hits:
            token = None
            while True:
                kwargs = {"HITId": hit, "MaxResults": 100, "AssignmentStatuses": ["Submitted"]}
                if token:
                    kwargs["NextToken"] = token
                page = mturk.list_assignments_for_hit(**kwargs)
                stored += page["NumResults"]
                token = page.get("NextToken")
                if not token:
                    break
        print("# %d submits answered 200, %d assignments stored as Submitted"
              % (submitted, stored), flush=True)
        # wrk stops counting at the deadline; requests still in flight then
        # may be stored without their answer being counted.
        assert submitted <= stored <= submitted + int(CONNECTIONS), \
            "acknowledged submissions missing or duplicated"
    finally:
        code = server.stop(timeout=30)
        server.cleanup()
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
