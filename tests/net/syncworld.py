# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers for the sync tests: a real kempelen-server (tests/server/kpserver.py),
the kp-sync-tool helper that runs KpSyncEngine in a process of its own, and
an HTTP proxy that breaks things on purpose (cut responses, corrupt media).
"""

import http.client
import http.server
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "server"))

import kpserver  # noqa: E402

TOOL = os.path.join(kpserver.BUILD_ROOT, "tests", "net", "kp-sync-tool")
SERVER_ARGS = ["--quiet", "--rate-limit", "0"]


def tool(*args, env=None, check=True, timeout=300):
    """Runs kp-sync-tool; returns its JSON answer."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    result = subprocess.run([TOOL, *args], capture_output=True, text=True, env=full_env,
                            timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError("kp-sync-tool %s failed (%d): %s %s"
                             % (args[0], result.returncode, result.stdout, result.stderr[-3000:]))
    return json.loads(result.stdout)


def tool_popen(*args, env=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.Popen([TOOL, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=full_env)


def outbox_counts(cache):
    """Counts by state, read with a connection of our own (as another
    process would)."""
    db = sqlite3.connect("file:%s?mode=ro" % cache, uri=True, timeout=10)
    try:
        rows = db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall()
    finally:
        db.close()
    names = ["queued", "sending", "accepted", "refused"]
    counts = dict.fromkeys(names, 0)
    for state, count in rows:
        counts[names[state]] = count
    return counts


class World:
    """One server, one requester and a HIT type; workers with caches."""

    def __init__(self, server_args=SERVER_ARGS):
        self.server = kpserver.Server(args=server_args).start()
        self.requester = self.server.create_requester(funds="1000000")
        self.mturk = self.server.mturk(self.requester)
        self.hit_type = self.mturk.create_hit_type(
            Title="Sync test", Description="Outbox", Reward="0.01",
            AssignmentDurationInSeconds=3600)["HITTypeId"]

    def close(self):
        if hasattr(self.mturk, "close"):
            self.mturk.close()
        self.server.cleanup()

    def make_hits(self, n, question=None, max_assignments=1, hit_type=None):
        args = ["make-hits", self.server.url, hit_type or self.hit_type, str(n)]
        if question is not None:
            path = os.path.join(self.server.tmp, "question-%s.xml" % uuid.uuid4())
            with open(path, "w") as f:
                f.write(question)
            args.append(path)
        made = tool(*args, env={"KP_ACCESS_KEY": self.requester["AccessKeyId"],
                                "KP_SECRET_KEY": self.requester["SecretAccessKey"],
                                "KP_MAX_ASSIGNMENTS": str(max_assignments)})
        assert made["made"] == n, made

    def worker(self):
        worker = self.server.create_worker()
        worker["cache"] = os.path.join(self.server.tmp, "cache-%s.sqlite" % worker["WorkerId"])
        worker["env"] = {"KP_TOKEN": worker["Token"]}
        return worker

    def take_offline(self, worker, n, url=None, hit_type=None, check=True):
        return tool("take-offline", worker["cache"], url or self.server.url,
                    hit_type or self.hit_type, str(n), env=worker["env"], check=check)

    def prepare(self, n, answer_bytes=200):
        """A worker with n accepted HITs whose submissions wait in the outbox."""
        self.make_hits(n)
        worker = self.worker()
        taken = self.take_offline(worker, n)
        assert taken["accepted"] == n, taken
        queued = tool("enqueue", worker["cache"], str(answer_bytes))
        assert queued["enqueued"] == n, queued
        return worker

    def sync(self, worker, *options, url=None, check=True, timeout=300):
        return tool("sync", worker["cache"], url or self.server.url, *options,
                    env=worker["env"], check=check, timeout=timeout)

    def status(self, worker):
        return tool("status", worker["cache"])


class FaultyProxy:
    """An HTTP/1.1 proxy to the server that misbehaves on purpose:

    cut_sync: the next N answers to POST /sync are cut off halfway (the
      server has committed them; the client never reads the end);
    corrupt_media / cut_media: the next N media answers get a flipped byte,
      or are cut off halfway.
    requests lists (method, path, Range header) of everything it saw.
    """

    def __init__(self, target_port, cut_sync=0, corrupt_media=0, cut_media=0):
        self.target_port = target_port
        self.cut_sync = cut_sync
        self.corrupt_media = corrupt_media
        self.cut_media = cut_media
        self.cuts = 0
        self.corrupted = 0
        self.requests = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                self.forward()

            def do_POST(self):
                self.forward()

            def do_HEAD(self):
                self.forward()

            def forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("connection", "keep-alive", "host")}
                conn = http.client.HTTPConnection("127.0.0.1", proxy.target_port, timeout=60)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    response = conn.getresponse()
                    data = response.read()
                finally:
                    conn.close()

                cut = corrupt = False
                with proxy.lock:
                    proxy.requests.append((self.command, self.path, self.headers.get("Range")))
                    if self.path.endswith("/sync") and proxy.cut_sync > 0:
                        proxy.cut_sync -= 1
                        proxy.cuts += 1
                        cut = True
                    elif "/media/" in self.path and response.status in (200, 206) and len(data) > 16:
                        if proxy.corrupt_media > 0:
                            proxy.corrupt_media -= 1
                            proxy.corrupted += 1
                            corrupt = True
                        elif proxy.cut_media > 0:
                            proxy.cut_media -= 1
                            proxy.cuts += 1
                            cut = True

                if corrupt:
                    middle = len(data) // 2
                    data = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1:]

                self.send_response(response.status, response.reason)
                for name, value in response.getheaders():
                    if name.lower() not in ("connection", "keep-alive", "transfer-encoding",
                                            "content-length"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if cut:
                    self.wfile.write(data[:len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    return
                if self.command != "HEAD":
                    self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = "http://127.0.0.1:%d/" % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def wait_until(predicate, timeout=60, interval=0.005):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out waiting")
