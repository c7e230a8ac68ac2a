#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Startup and open-folder benchmarks of the workstation (run under Xvfb).

BENCH startup_first_frame_ms           process start to first frame, demo project
BENCH startup_first_frame_ms_baseline  the same for a minimal GTK window
BENCH open_folder_10k_ms               process start to an interactive window on a
                                       folder of 10,000 images never opened before
BENCH open_folder_10k_reopen_ms        the same folder opened again (store exists)

Each figure is the median of several runs; every run is a fresh process.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = os.environ["KP_BUILD_ROOT"]
KEMPELEN = os.path.join(BUILD, "src", "app", "kempelen")
BASELINE = os.path.join(BUILD, "tests", "bench", "kp-bench-minimal-window")
FIXTURE = os.path.join(BUILD, "tests", "e2e", "kp-e2e-fixture")
DEMO = os.path.join(BUILD, "data", "demo")
RUNS = int(os.environ.get("KP_BENCH_RUNS", "7"))


def time_until(argv, word, env_extra):
    """Milliseconds from spawning argv until it prints a line starting with word."""
    env = dict(os.environ)
    env.update(env_extra)
    start = time.monotonic()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    try:
        for line in proc.stdout:
            if line.startswith(word):
                return (time.monotonic() - start) * 1000.0
        raise RuntimeError("%s exited without printing %r" % (argv[0], word))
    finally:
        proc.kill()
        proc.wait()


def median_of(fn):
    fn()  # warm the page cache and font caches once
    return statistics.median(fn() for _ in range(RUNS))


def main():
    if "DISPLAY" not in os.environ:
        print("bench-startup: needs a display (run under xvfb-run)", file=sys.stderr)
        return 1

    base = median_of(lambda: time_until([BASELINE], "first-frame", {}))
    app = median_of(lambda: time_until([KEMPELEN, DEMO], "first-frame",
                                       {"KP_EXIT_AFTER_FIRST_FRAME": "1"}))
    print("BENCH startup_first_frame_ms %.1f ms" % app)
    print("BENCH startup_first_frame_ms_baseline %.1f ms" % base)
    print("# startup ratio %.2f (target <= 1.5)" % (app / base))

    with tempfile.TemporaryDirectory(prefix="kp-bench-") as tmp:
        folder = os.path.join(tmp, "many")
        subprocess.run([FIXTURE, folder, "10000"], check=True)

        def fresh():
            shutil.rmtree(os.path.join(folder, ".kempelen"), ignore_errors=True)
            return time_until([KEMPELEN, folder], "interactive", {"KP_REPORT_INTERACTIVE": "1"})

        def reopen():
            return time_until([KEMPELEN, folder], "interactive", {"KP_REPORT_INTERACTIVE": "1"})

        print("BENCH open_folder_10k_ms %.1f ms" % median_of(fresh))
        print("BENCH open_folder_10k_reopen_ms %.1f ms" % median_of(reopen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
