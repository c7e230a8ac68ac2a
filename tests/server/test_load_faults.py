# SPDX-License-Identifier: GPL-3.0-or-later
"""Faults under load, with one store shared by two kempelen-server processes.

- kill -9 one of two servers while workers accept and submit: each client
  fails over to the other process and retries (idempotently, by submission
  id); in the end every submission is stored exactly once, and nothing is
  left half done. Half of the workers upload batches with POST /sync.
  Against SQLite (two processes on one --data-dir) and PostgreSQL (two
  processes on one database of a throwaway cluster, tests/server/kppg.py).
- PostgreSQL restarted under load (a clean restart, and a crash of
  PostgreSQL: pg_ctl stop -m immediate): requests in flight fail cleanly
  (500/503 with a JSON body, never a hang or a crash), the server
  reconnects by itself, retries succeed, nothing is lost or duplicated.
- A corrupt database at start (garbage, garbage behind a valid first page,
  a truncated file, text): the server refuses to start with a one-line
  message naming the data directory, exits non-zero, and leaves the file
  byte for byte as it was; so does `kempelenctl admin`.

The test command runs this file once per store: without KP_TEST_STORE the
SQLite classes, with KP_TEST_STORE=postgresql (test_load_faults-pg) the
PostgreSQL ones.

The store helpers here (SqliteStore, PostgresStore, StoreServer) are also
used by tests/bench/server/bench-load.py.
"""

import hashlib
import http.client
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(__file__))

import botocore.exceptions

from kpserver import SERVER, Server, free_text, kempelenctl, main, question_form

try:
    import kppg
except ImportError:
    kppg = None


# --- stores and servers on them ----------------------------------------------


class StoreServer(Server):
    """A Server on a shared store: the same data directory for every process
    (the SQLite store, and the media store) and, for PostgreSQL, the same
    --store URI (Server passes it to the server and `kempelenctl admin`).
    Loaded servers run with --rate-limit 0 and --quiet."""

    def __init__(self, store, args=()):
        # store.uri is "" for SQLite: explicitly no PostgreSQL, even when
        # KP_TEST_STORE asks Server for a database of its own.
        super().__init__(data_dir=store.data_dir, store=store.uri,
                         args=["--quiet", "--rate-limit", "0", *args])
        self.shared = store

    def alive(self):
        return self.process is not None and self.process.poll() is None


class SqliteStore:
    name = "sqlite"
    uri = ""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="kp-load-store-")
        self.data_dir = os.path.join(self.tmp, "data")

    def cleanup(self):
        shutil.rmtree(self.tmp, ignore_errors=True)


class PostgresStore(SqliteStore):
    """A throwaway PostgreSQL cluster (tests/server/kppg.py) with one
    database; the data directory holds the media store only."""

    name = "postgresql"

    def __init__(self):
        super().__init__()
        self.cluster = kppg.PgCluster().start()
        try:
            self.uri = self.cluster.create_database()
        except BaseException:
            self.cluster.stop()
            raise

    def restart(self, mode="fast"):
        """pg_ctl stop -m MODE, then start: "fast" is an administrator's
        restart, "immediate" a crash (recovery from the WAL at start)."""
        self.cluster.restart(mode)

    def cleanup(self):
        try:
            self.cluster.stop()
        finally:
            super().cleanup()


def postgres_missing():
    """Why PostgreSQL tests cannot run, or None."""
    if kppg is None:
        return "tests/server/kppg.py (the PostgreSQL fixture) is not there yet"
    if not kppg.available():
        return "PostgreSQL is not installed (Debian package postgresql)"
    probe = tempfile.mkdtemp(prefix="kp-pg-probe-")
    try:
        answer = subprocess.run(
            [SERVER, "--store", "postgresql://127.0.0.1:1/none", "--data-dir", probe,
             "--listen", "127.0.0.1:0"], capture_output=True, text=True, timeout=20)
    finally:
        shutil.rmtree(probe, ignore_errors=True)
    if "without PostgreSQL" in answer.stderr:
        return "kempelen-server was built without PostgreSQL support (libpq)"
    return None


def make_store(kind=None):
    """KP_LOAD_STORE=sqlite|postgresql|auto (default auto: PostgreSQL when the
    fixture is there)."""
    kind = kind or os.environ.get("KP_LOAD_STORE", "auto")
    if kind == "auto":
        kind = "sqlite" if postgres_missing() else "postgresql"
    return PostgresStore() if kind == "postgresql" else SqliteStore()


def all_assignments(mturk, hit_ids, statuses=None):
    """{assignment id: assignment} of the HITs, as the requester lists them;
    asserts that no assignment is listed twice."""
    found = {}
    for hit_id in hit_ids:
        token = None
        while True:
            kwargs = {"HITId": hit_id, "MaxResults": 100}
            if statuses:
                kwargs["AssignmentStatuses"] = statuses
            if token:
                kwargs["NextToken"] = token
            page = mturk.list_assignments_for_hit(**kwargs)
            for a in page["Assignments"]:
                if a["AssignmentId"] in found:
                    raise AssertionError("assignment %s listed twice" % a["AssignmentId"])
                found[a["AssignmentId"]] = a
            token = page.get("NextToken")
            if not token:
                break
    return found


# --- a worker that fails over between server processes --------------------------


class Unanswered(Exception):
    """No server answered in time."""


class FailoverWorker:
    """A worker of the worker API with a connection to each server process.
    It works on one process and moves to the next one on a connection error
    or a 5xx answer, with a short back-off, as a workstation with several
    server addresses would. Every answer that is not 200 is recorded in
    self.faults as (status or exception name, body) for the test to judge."""

    def __init__(self, servers, worker, first=0, timeout=10, patience=20):
        self.servers = servers
        self.worker_id = worker["WorkerId"]
        self.token = worker["Token"]
        self.current = first % len(servers)
        self.timeout = timeout
        self.patience = patience
        self.conns = [None] * len(servers)
        self.faults = []
        self.failovers = 0
        self.slowest = 0.0      # seconds, of one HTTP exchange

    def close(self):
        for i, conn in enumerate(self.conns):
            if conn is not None:
                conn.close()
                self.conns[i] = None

    def _once(self, method, path, body):
        server = self.servers[self.current]
        if server.port is None:
            raise ConnectionRefusedError("server %d is down" % self.current)
        if self.conns[self.current] is None:
            self.conns[self.current] = http.client.HTTPConnection(
                "127.0.0.1", server.port, timeout=self.timeout)
        conn = self.conns[self.current]
        headers = {"Authorization": "Bearer " + self.token}
        if body is not None:
            body = json.dumps(body)
            headers["Content-Type"] = "application/json"
        started = time.monotonic()
        try:
            conn.request(method, "/worker/v1" + path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.read()
        except BaseException:
            conn.close()
            self.conns[self.current] = None
            raise
        finally:
            self.slowest = max(self.slowest, time.monotonic() - started)

    def request(self, method, path, body=None, on_retry=None):
        """(status, JSON) of the first answer that is neither a network
        failure nor a 5xx. on_retry(), if given, is called before each
        retry that follows a failure whose outcome is unknown; it may
        return an answer to use instead of retrying."""
        deadline = time.monotonic() + self.patience
        delay = 0.01
        while True:
            unknown = False
            try:
                status, data = self._once(method, path, body)
                if status < 500:
                    return status, (json.loads(data) if data else None)
                self.faults.append((status, data))
                unknown = status != 503
            except (OSError, http.client.HTTPException) as e:
                self.faults.append((type(e).__name__, str(e)))
                unknown = True
            if time.monotonic() > deadline:
                raise Unanswered("%s %s: no answer in %d s (%r)"
                                 % (method, path, self.patience, self.faults[-1]))
            # The other process, after a pause that grows while all fail.
            self.current = (self.current + 1) % len(self.servers)
            self.failovers += 1
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
            if unknown and on_retry is not None:
                answer = on_retry()
                if answer is not None:
                    return answer

    def accept_group(self, hit_type_id, held=()):
        """The new assignment (or None when the group has nothing left).
        Accepting is not idempotent: after a failure whose outcome is
        unknown, look for an accepted assignment (other than those held
        already) before accepting again."""

        def already_accepted():
            status, page = self.request("GET", "/assignments?status=Accepted&limit=100")
            if status != 200:
                raise AssertionError("GET /assignments: %d %r" % (status, page))
            for assignment in page["assignments"]:
                if assignment["assignment_id"] not in held:
                    return 200, assignment
            return None

        status, body = self.request("POST", "/groups/%s/accept" % hit_type_id,
                                    on_retry=already_accepted)
        if status == 410:
            return None
        if status != 200:
            raise AssertionError("accept: %d %r" % (status, body))
        return body

    def sync(self, items):
        """POST /sync of [(assignment id, submission id)] until every item
        is answered 200 (items that failed with a 5xx are sent again, with
        their submission ids); returns {assignment id: response}."""
        pending = list(items)
        done = {}
        deadline = time.monotonic() + self.patience
        while pending:
            status, body = self.request("POST", "/sync", {"submissions": [
                {"submission_id": submission_id, "assignment_id": assignment_id,
                 "answers": [free_text("q1", "load " + submission_id)]}
                for assignment_id, submission_id in pending]})
            if status != 200:
                raise AssertionError("sync: %d %r" % (status, body))
            retry = []
            for item, result in zip(pending, body["results"]):
                if result["submission_id"] != item[1]:
                    raise AssertionError("sync answered out of order: %r" % body)
                if result["status"] == 200:
                    done[item[0]] = result["response"]
                elif result["status"] >= 500:
                    self.faults.append((result["status"], json.dumps(result).encode()))
                    retry.append(item)
                else:
                    raise AssertionError("sync %s: %r" % (item, result))
            if retry and time.monotonic() > deadline:
                raise Unanswered("sync: items still failing after %d s" % self.patience)
            pending = retry
        return done

    def submit(self, assignment_id, submission_id):
        status, body = self.request(
            "POST", "/assignments/%s/submit" % assignment_id,
            {"submission_id": submission_id,
             "answers": [free_text("q1", "load " + submission_id)]})
        if status != 200:
            raise AssertionError("submit %s: %d %r" % (assignment_id, status, body))
        return body


class LoadRun:
    """Workers (threads) accepting and submitting through a group until each
    has done `per_worker` submissions; `acknowledged` maps assignment id to
    submission id, for every 200 a worker got. Every other worker works
    as an offline workstation does: it accepts BATCH HITs, then uploads
    their submissions in one POST /sync."""

    BATCH = 3

    def __init__(self, servers, workers, hit_type_id, per_worker, patience=20):
        self.clients = [FailoverWorker(servers, w, first=i, patience=patience)
                        for i, w in enumerate(workers)]
        self.hit_type_id = hit_type_id
        self.per_worker = per_worker
        self.acknowledged = {}
        self.failures = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self._work, args=(c,), daemon=True)
                        for c in self.clients]

    def _acknowledge(self, assignment_id, submission_id, answer):
        if answer["status"] != "Submitted" or answer["submission_id"] != submission_id:
            raise AssertionError("submit answered %r" % answer)
        with self.lock:
            if assignment_id in self.acknowledged:
                raise AssertionError("assignment %s submitted twice" % assignment_id)
            self.acknowledged[assignment_id] = submission_id

    def _work(self, client):
        batch = self.BATCH if self.clients.index(client) % 2 else 1
        try:
            n = 0
            while n < self.per_worker:
                held = {}
                while len(held) < min(batch, self.per_worker - n):
                    assignment = client.accept_group(self.hit_type_id, held)
                    if assignment is None:
                        raise AssertionError("the group ran out of HITs")
                    held[assignment["assignment_id"]] = "%s-%d" % (client.worker_id,
                                                                   n + len(held))
                if batch == 1:
                    answers = {a: client.submit(a, s) for a, s in held.items()}
                else:
                    answers = client.sync(list(held.items()))
                for assignment_id, submission_id in held.items():
                    self._acknowledge(assignment_id, submission_id, answers[assignment_id])
                n += len(held)
        except BaseException as e:    # reported by join()
            with self.lock:
                self.failures.append("%s: %s" % (client.worker_id, e))
        finally:
            client.close()

    def start(self):
        for thread in self.threads:
            thread.start()
        return self

    def count(self):
        with self.lock:
            return len(self.acknowledged)

    def wait_for(self, n, timeout=20):
        deadline = time.monotonic() + timeout
        while self.count() < n and time.monotonic() < deadline and not self.failures:
            time.sleep(0.005)
        return self.count()

    def join(self, timeout=60):
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        hung = [t for t in self.threads if t.is_alive()]
        if hung:
            raise AssertionError("%d workers still waiting for an answer" % len(hung))
        if self.failures:
            raise AssertionError("; ".join(self.failures[:5]))

    def faults(self):
        return [f for c in self.clients for f in c.faults]


# --- the tests -------------------------------------------------------------------


class TwoProcessTestBase:
    """Mixed into unittest.TestCase subclasses that set STORE."""

    STORE = "sqlite"
    N_WORKERS = 8
    N_HITS = 40
    PER_WORKER = 30

    def setUp(self):
        self.store = make_store(self.STORE)
        self.servers = []
        self.addCleanup(self.cleanup)
        self.first = self.start_server()
        self.requester = self.first.create_requester(funds="100000")
        self.second = self.start_server()
        self.mturks = [s.mturk(self.requester) for s in self.servers]
        self.hit_type = self.mturks[0].create_hit_type(
            Title="Load and faults", Description="Survive a crash", Reward="0.01",
            AssignmentDurationInSeconds=3600)["HITTypeId"]
        self.hits = [self.mturks[i % 2].create_hit_with_hit_type(
            HITTypeId=self.hit_type, MaxAssignments=self.N_WORKERS, LifetimeInSeconds=86400,
            Question=question_form())["HIT"]["HITId"] for i in range(self.N_HITS)]
        self.workers = [self.first.create_worker() for _ in range(self.N_WORKERS)]

    def start_server(self):
        server = StoreServer(self.store)
        self.servers.append(server)
        return server.start()

    def cleanup(self):
        for mturk in getattr(self, "mturks", []):
            mturk.close()
        for server in self.servers:
            server.cleanup()
        self.store.cleanup()

    def check_stored_once(self, run, mturk):
        """Every acknowledged submission is stored, once, with its own
        answer; nothing else is stored and nothing is left accepted."""
        stored = all_assignments(mturk, self.hits)
        statuses = {}
        for a in stored.values():
            statuses[a["AssignmentStatus"]] = statuses.get(a["AssignmentStatus"], 0) + 1
        self.assertEqual(statuses, {"Submitted": len(run.acknowledged)})
        self.assertEqual(set(stored), set(run.acknowledged))
        pairs = {(a["WorkerId"], a["HITId"]) for a in stored.values()}
        self.assertEqual(len(pairs), len(stored), "a worker holds two assignments of a HIT")
        for assignment_id, submission_id in run.acknowledged.items():
            self.assertIn("load %s<" % submission_id, stored[assignment_id]["Answer"])
        for hit_id in self.hits:
            hit = mturk.get_hit(HITId=hit_id)["HIT"]
            n = sum(1 for a in stored.values() if a["HITId"] == hit_id)
            # Submitted, not yet reviewed: neither pending nor completed.
            self.assertEqual((hit["NumberOfAssignmentsPending"],
                              hit["NumberOfAssignmentsAvailable"],
                              hit["NumberOfAssignmentsCompleted"]),
                             (0, self.N_WORKERS - n, 0), hit_id)


class KillUnderLoad(TwoProcessTestBase):

    def test_kill_one_of_two_under_load(self):
        total = self.N_WORKERS * self.PER_WORKER
        run = LoadRun(self.servers, self.workers, self.hit_type, self.PER_WORKER).start()
        before = run.wait_for(total // 3)
        self.assertFalse(run.failures, run.failures)
        self.first.kill()
        self.first.port = None     # its clients now fail over to the second
        run.join()
        self.assertGreater(before, 0)
        self.assertLess(before, total, "the kill came after the load")
        self.assertEqual(len(run.acknowledged), total)
        self.assertTrue(self.second.alive(), self.second.log())
        # The first process's workers moved over.
        self.assertGreaterEqual(sum(c.failovers for c in run.clients), self.N_WORKERS // 2)
        # What failed was the dead process, or the store being busy: no
        # client error, no other server fault.
        for fault, body in run.faults():
            self.assertIn(fault, (503, "ConnectionRefusedError", "ConnectionResetError",
                                  "RemoteDisconnected", "BrokenPipeError",
                                  "IncompleteRead"), body)

        self.check_stored_once(run, self.mturks[1])
        # The killed process comes back on the same store and agrees.
        self.first.start()
        self.mturks.append(self.first.mturk(self.requester))
        self.check_stored_once(run, self.mturks[-1])
        for server in self.servers:
            self.assertEqual(server.stop(), 0, server.log())


# The test command runs this file once per store (test_load_faults and,
# with KP_TEST_STORE=postgresql, test_load_faults-pg): each run takes the
# classes of its store.
ON_POSTGRES = os.environ.get("KP_TEST_STORE") == "postgresql"
POSTGRES_MISSING = (postgres_missing() if ON_POSTGRES else
                    "PostgreSQL: runs with KP_TEST_STORE=postgresql (test_load_faults-pg)")
SQLITE_ELSEWHERE = "SQLite: runs without KP_TEST_STORE (test_load_faults)"


@unittest.skipIf(ON_POSTGRES, SQLITE_ELSEWHERE)
class SqliteKillTest(KillUnderLoad, unittest.TestCase):
    STORE = "sqlite"


@unittest.skipIf(POSTGRES_MISSING, POSTGRES_MISSING)
class PostgresKillTest(KillUnderLoad, unittest.TestCase):
    STORE = "postgresql"


@unittest.skipIf(POSTGRES_MISSING, POSTGRES_MISSING)
class PostgresRestartTest(TwoProcessTestBase, unittest.TestCase):
    STORE = "postgresql"
    PER_WORKER = 40

    def test_restart_postgresql_under_load(self):
        self.restart_under_load("fast")

    def test_crash_postgresql_under_load(self):
        self.restart_under_load("immediate")

    def restart_under_load(self, mode):
        total = self.N_WORKERS * self.PER_WORKER
        run = LoadRun(self.servers, self.workers, self.hit_type, self.PER_WORKER,
                      patience=25).start()

        # A requester polls too, through the MTurk API.
        reads = {"ok": 0, "faults": [], "other": []}
        stop = threading.Event()

        def poll():
            i = 0
            while not stop.is_set():
                mturk = self.mturks[i % 2]
                i += 1
                try:
                    mturk.get_hit(HITId=self.hits[i % len(self.hits)])
                    mturk.list_assignments_for_hit(HITId=self.hits[i % len(self.hits)],
                                                   MaxResults=10)
                    reads["ok"] += 1
                except botocore.exceptions.ClientError as e:
                    reads["faults"].append((e.response["ResponseMetadata"]["HTTPStatusCode"],
                                            e.response["Error"].get("Code")))
                except Exception as e:     # a hang (read timeout) or a crash
                    reads["other"].append(repr(e))
                time.sleep(0.005)

        poller = threading.Thread(target=poll, daemon=True)
        poller.start()
        before = run.wait_for(total // 4)
        self.assertFalse(run.failures, run.failures)
        started = time.monotonic()
        self.store.restart(mode)
        restart_time = time.monotonic() - started
        run.join(timeout=90)
        stop.set()
        poller.join(30)
        self.assertLess(before, total, "the restart came after the load")
        self.assertEqual(len(run.acknowledged), total)

        # Both processes lived through it, and reconnected by themselves.
        for server in self.servers:
            self.assertTrue(server.alive(), server.log())
        # In flight during the restart: clean 500/503 answers with a JSON
        # error, or (rarely) a connection the server closed; never a hang.
        for fault, body in run.faults():
            if isinstance(fault, int):
                self.assertIn(fault, (500, 503), body)
                error = json.loads(body)
                self.assertIn(error["error"], ("internal", "busy"), body)
                self.assertTrue(error["message"])
            else:
                self.assertNotIn("timeout", fault.lower(), body)
        self.assertEqual(reads["other"], [])
        for status, code in reads["faults"]:
            self.assertIn((status, code), ((500, "ServiceFault"), (503, "ServiceUnavailable"),
                                           (400, "ThrottlingException")))
        self.assertGreater(reads["ok"], 0)
        kinds = {}
        for fault, _ in run.faults():
            kinds[fault] = kinds.get(fault, 0) + 1
        for fault in reads["faults"]:
            kinds[fault] = kinds.get(fault, 0) + 1
        slowest = max(c.slowest for c in run.clients)
        print("# PostgreSQL %s restart took %.1f s; the slowest answer %.1f s; faults seen by "
              "the clients: %s" % (mode, restart_time, slowest, kinds), file=sys.stderr)
        # Nothing waited for PostgreSQL much longer than it was away.
        self.assertLess(slowest, restart_time + 5)

        self.check_stored_once(run, self.mturks[0])
        self.check_stored_once(run, self.mturks[1])
        for server in self.servers:
            self.assertEqual(server.stop(), 0, server.log())


@unittest.skipIf(ON_POSTGRES, SQLITE_ELSEWHERE)
class CorruptDatabaseTest(unittest.TestCase):
    """A damaged kempelen.db: the server refuses it and does not touch it."""

    @classmethod
    def setUpClass(cls):
        # A real database with some content, made by a server that stopped
        # cleanly (everything checkpointed into kempelen.db).
        cls.store = SqliteStore()
        server = StoreServer(cls.store).start()
        try:
            requester = server.create_requester()
            mturk = server.mturk(requester)
            for _ in range(20):
                mturk.create_hit(MaxAssignments=1, LifetimeInSeconds=3600,
                                 AssignmentDurationInSeconds=600, Reward="0.10",
                                 Title="Corrupt me", Description="x" * 1000,
                                 Question=question_form())
            mturk.close()
            if server.stop() != 0:
                raise AssertionError(server.log())
        finally:
            server.cleanup()
        cls.db_path = os.path.join(cls.store.data_dir, "kempelen.db")
        with open(cls.db_path, "rb") as f:
            cls.good = f.read()
        assert len(cls.good) > 8 * 4096, len(cls.good)

    @classmethod
    def tearDownClass(cls):
        cls.store.cleanup()

    def setUp(self):
        for name in os.listdir(self.store.data_dir):
            if name.startswith("kempelen.db-"):
                os.unlink(os.path.join(self.store.data_dir, name))

    def snapshot(self):
        files = {}
        for name in sorted(os.listdir(self.store.data_dir)):
            path = os.path.join(self.store.data_dir, name)
            if os.path.isfile(path):
                with open(path, "rb") as f:
                    files[name] = hashlib.sha256(f.read()).hexdigest()
        return files

    def assertRefused(self, content):
        with open(self.db_path, "wb") as f:
            f.write(content)
        before = self.snapshot()
        mtime = os.stat(self.db_path).st_mtime_ns
        result = subprocess.run(
            [SERVER, "--data-dir", self.store.data_dir, "--listen", "127.0.0.1:0", "--quiet"],
            capture_output=True, text=True, timeout=20,
            env=dict(os.environ, G_DEBUG="fatal-criticals"))
        self.assertNotEqual(result.returncode, 0, result.stdout)
        self.assertLess(result.returncode, 128, "crashed: %s" % result.stderr)
        self.assertNotIn("listening on", result.stdout)
        # A clear message: where, and what is wrong.
        self.assertIn(self.store.data_dir, result.stderr)
        self.assertRegex(result.stderr, r"damaged|not a database|malformed|corrupt")
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        # Byte for byte as it was, and nothing created beside it.
        self.assertEqual(self.snapshot(), before)
        self.assertEqual(os.stat(self.db_path).st_mtime_ns, mtime)

        # `kempelenctl admin` does not write into it either.
        admin = kempelenctl("admin", "--data-dir", self.store.data_dir, "requester", "create",
                            check=False)
        self.assertNotEqual(admin.returncode, 0, admin.stdout)
        self.assertEqual(self.snapshot(), before)
        return result.stderr

    def test_garbage(self):
        self.assertRefused(random.Random(1).randbytes(len(self.good)))

    def test_garbage_with_a_database_header(self):
        # The first page intact, every other one garbage.
        rng = random.Random(2)
        self.assertRefused(self.good[:4096] + rng.randbytes(len(self.good) - 4096))

    def test_truncated(self):
        self.assertRefused(self.good[:len(self.good) // 2])

    def test_truncated_inside_a_page(self):
        self.assertRefused(self.good[:3000])

    def test_text_file(self):
        self.assertRefused(b"This is not a database, just some notes.\n" * 100)

    def test_the_good_database_still_opens(self):
        # The control: the same steps with the real file start a server.
        with open(self.db_path, "wb") as f:
            f.write(self.good)
        server = StoreServer(self.store).start()
        try:
            self.assertEqual(server.stop(), 0, server.log())
        finally:
            server.cleanup()


if __name__ == "__main__":
    main()
