#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Builds Kempelen and runs every test, as build-aux/setup.sh test does.

1. _build: the normal build; every suite, under Xvfb (the GUI suites need a
   display; a private server is started by xvfb-run -a).
2. _build-asan: everything but the GUI built with AddressSanitizer and
   UndefinedBehaviorSanitizer; the core, media and server suites run there
   too (the server tests drive the sanitized kempelen-server).
3. _build-fuzz: clang with libFuzzer; each fuzz target runs briefly.

The last line printed is "N passed, N failed" counting every meson test of
both runs (a stage that fails to configure or build counts as one failure).
The exit status is non-zero when anything failed.
"""

import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

passed = 0
failed = 0
skipped = 0
failures = []


def run(cmd, **kw):
    print("+ " + " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=ROOT, **kw).returncode


def configure(builddir, *options, env=None):
    if os.path.exists(os.path.join(ROOT, builddir, "build.ninja")):
        return run(["meson", "setup", "--reconfigure", builddir, *options], env=env)
    return run(["meson", "setup", builddir, *options], env=env)


def count(builddir):
    global passed, failed, skipped
    log = os.path.join(ROOT, builddir, "meson-logs", "testlog.json")
    if not os.path.exists(log):
        failed += 1
        failures.append(builddir + ": no test log")
        return
    with open(log, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            entry = json.loads(line)
            result = entry.get("result")
            name = "%s: %s" % (builddir, entry.get("name"))
            if result in ("OK", "EXPECTEDFAIL"):
                passed += 1
            elif result == "SKIP":
                skipped += 1
            else:
                failed += 1
                failures.append("%s (%s)" % (name, result))


def stage(builddir, config_options, test_args, wrapper=None, env=None):
    global failed
    log = os.path.join(ROOT, builddir, "meson-logs", "testlog.json")
    if configure(builddir, *config_options, env=env) != 0:
        failed += 1
        failures.append(builddir + ": meson setup failed")
        return
    if run(["meson", "compile", "-C", builddir], env=env) != 0:
        failed += 1
        failures.append(builddir + ": build failed")
        return
    if os.path.exists(log):
        os.remove(log)
    cmd = (wrapper or []) + ["meson", "test", "-C", builddir, "--no-rebuild",
                             "--print-errorlogs"] + test_args
    run(cmd, env=env)
    count(builddir)


def main():
    global failed
    if not shutil.which("xvfb-run"):
        print("run-tests: xvfb-run is missing (package xvfb)", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1

    xvfb = ["xvfb-run", "-a", "-s", "-screen 0 1920x1200x24 -nolisten tcp"]
    stage("_build", [], [], wrapper=xvfb)

    env = dict(os.environ)
    env["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0"
    env["UBSAN_OPTIONS"] = "halt_on_error=1:print_stacktrace=1"
    env["LSAN_OPTIONS"] = "suppressions=" + os.path.join(ROOT, "tests", "lsan.supp")
    stage("_build-asan",
          ["-Dgui=false", "-Db_sanitize=address,undefined", "-Db_lundef=false",
           "-Dbuildtype=debug"],
          ["--suite", "core", "--suite", "media", "--suite", "server", "--suite", "net",
           "--suite", "cli",
           "--timeout-multiplier", "4"],
          env=env)

    # libFuzzer targets (clang), each run briefly from its seed corpus.
    if shutil.which("clang"):
        fuzz_env = dict(env)
        fuzz_env["CC"] = "clang"
        stage("_build-fuzz",
              ["-Dgui=false", "-Dfuzzing=true", "-Db_sanitize=address,undefined",
               "-Db_lundef=false", "-Dbuildtype=debugoptimized"],
              ["--suite", "fuzz"],
              env=fuzz_env)
    else:
        failed += 1
        failures.append("_build-fuzz: clang is missing (package clang)")

    if failures:
        print("\nFailed:")
        for f in failures:
            print("  " + f)
    if skipped:
        print("%d skipped" % skipped)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
