#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runs a libFuzzer target briefly: seeds are copied into a scratch corpus
(libFuzzer adds what it finds to its first corpus directory), then it fuzzes
for the given number of seconds. Exit status is the fuzzer's: non-zero on a
crash, a sanitizer report or an abort; the reproducer is kept in the build
directory."""

import os
import shutil
import subprocess
import sys
import tempfile


def main():
    fuzzer, seeds, seconds, artifacts = sys.argv[1:5]
    extra = sys.argv[5:]
    os.makedirs(artifacts, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kp-corpus-") as corpus:
        for name in os.listdir(seeds):
            shutil.copy(os.path.join(seeds, name), corpus)
        # libFuzzer exits 77 on a finding by default, which meson counts as
        # a skipped test: make every finding a failure.
        cmd = [fuzzer, "-max_total_time=" + seconds, "-timeout=10", "-rss_limit_mb=2048",
               "-error_exitcode=1", "-timeout_exitcode=1",
               "-print_final_stats=1", "-artifact_prefix=" + artifacts + "/", *extra, corpus]
        print("+ " + " ".join(cmd), flush=True)
        return subprocess.run(cmd).returncode


if __name__ == "__main__":
    sys.exit(main())
