# SPDX-License-Identifier: GPL-3.0-or-later
"""A throwaway PostgreSQL cluster for tests.

PgCluster() runs Debian's PostgreSQL binaries (package postgresql): initdb in
a temporary directory, then a postmaster on a free loopback port with its
socket in the same directory. PostgreSQL refuses to run as root, so when the
tests run as root the cluster runs as the unprivileged user "nobody". The
directory is removed by stop().

    cluster = PgCluster().start()
    uri = cluster.create_database()     # postgresql://kempelen@127.0.0.1:PORT/kp_…
    ...
    cluster.restart()                    # e.g. under load
    cluster.stop()

shared_cluster() starts one cluster per test process on first use and stops
it at exit, for test files that want a database per test case.
"""

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid

USER = "kempelen"


def find_bindir():
    """The newest installed PostgreSQL's bin directory, or None."""
    candidates = []
    for path in glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        version = path.split("/")[4]
        try:
            candidates.append((float(version), os.path.dirname(path)))
        except ValueError:
            pass
    if candidates:
        return max(candidates)[1]
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


def available():
    return find_bindir() is not None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    def __init__(self, durable=True):
        self.bindir = find_bindir()
        if self.bindir is None:
            raise RuntimeError("PostgreSQL is not installed (Debian package postgresql)")
        self.durable = durable
        self.tmp = None
        self.port = None
        self.running = False

    # Commands run as the cluster's owner.
    def _run(self, args, check=True, timeout=60):
        cmd = [os.path.join(self.bindir, args[0]), *args[1:]]
        if os.geteuid() == 0:
            cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", *cmd]
        env = dict(os.environ, LC_ALL="C.UTF-8", LANG="C.UTF-8")
        env.pop("PGDATA", None)
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
        if check and result.returncode != 0:
            raise RuntimeError("%s failed (%d): %s%s" % (args[0], result.returncode,
                                                       result.stdout, result.stderr))
        return result

    @property
    def data(self):
        return os.path.join(self.tmp, "data")

    def start(self):
        self.tmp = tempfile.mkdtemp(prefix="kp-pg-")
        os.chmod(self.tmp, 0o700)
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(self.tmp, nobody.pw_uid, nobody.pw_gid)
        self._run(["initdb", "--no-sync", "-A", "trust", "-U", USER, "-E", "UTF8",
                   "--locale=C", "-D", self.data])
        self.port = free_port()
        settings = [
            "listen_addresses = '127.0.0.1'",
            "port = %d" % self.port,
            "unix_socket_directories = '%s'" % self.tmp,
            "max_connections = 200",
            "shared_buffers = 64MB",
            "logging_collector = off",
        ]
        if not self.durable:
            settings += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            f.write("\n".join(settings) + "\n")
        self._start()
        return self

    def _start(self):
        self._run(["pg_ctl", "-D", self.data, "-l", os.path.join(self.tmp, "postgres.log"),
                   "-w", "-t", "60", "start"])
        self.running = True

    def log(self):
        try:
            with open(os.path.join(self.tmp, "postgres.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def uri(self, database="postgres"):
        return "postgresql://%s@127.0.0.1:%d/%s" % (USER, self.port, database)

    def psql(self, sql, database="postgres"):
        result = self._run(["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1",
                            "-h", self.tmp, "-p", str(self.port), "-U", USER,
                            "-d", database, "-c", sql])
        return result.stdout.strip()

    def create_database(self, name=None):
        name = name or "kp_" + uuid.uuid4().hex[:12]
        self.psql('CREATE DATABASE "%s"' % name)
        return self.uri(name)

    def stop_server(self, mode="fast"):
        """Stops the postmaster, keeping the cluster (start it with start_server())."""
        if self.running:
            self._run(["pg_ctl", "-D", self.data, "-m", mode, "-w", "stop"], check=False)
            self.running = False

    def start_server(self):
        self._start()

    def restart(self, mode="fast"):
        self.stop_server(mode)
        self._start()

    def stop(self):
        if self.tmp is None:
            return
        self.stop_server("immediate")
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp = None


_shared = None


def shared_cluster():
    """One cluster per test process, started on first use, stopped at exit."""
    global _shared
    if _shared is None:
        _shared = PgCluster().start()
        atexit.register(_shared.stop)
    return _shared
