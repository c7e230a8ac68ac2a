# SPDX-License-Identifier: GPL-3.0-or-later
"""The SQLite store's checkpoints: committed pages reach the database file
while the server runs, so the WAL stays small. (The checkpoint connection
never read the database, so SQLite did not know it was in WAL mode and
every checkpoint did nothing: the WAL grew to gigabytes and every read got
slower with it.)"""

import os
import shutil
import sqlite3
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))

from kpserver import KpTestCase, main  # noqa: E402


@unittest.skipIf(os.environ.get("KP_TEST_STORE") == "postgresql", "SQLite only")
class CheckpointTest(KpTestCase):

    def hits_in_main_file(self):
        """The HITs in kempelen.db alone, as if the WAL were lost."""
        copy = os.path.join(self.server.tmp, "main-only.db")
        shutil.copyfile(os.path.join(self.server.data_dir, "kempelen.db"), copy)
        db = sqlite3.connect(copy)
        try:
            return db.execute("SELECT COUNT(*) FROM hits").fetchone()[0]
        except sqlite3.OperationalError:
            return 0  # not even the schema is there yet
        finally:
            db.close()
            os.unlink(copy)

    def test_commits_reach_the_database_file(self):
        for _ in range(40):
            self.create_hit()

        # The checkpointer runs at least every second.
        deadline = time.monotonic() + 10
        while self.hits_in_main_file() < 40:
            if time.monotonic() > deadline:
                self.fail("after 10 s the database file still lacks the HITs of the WAL")
            time.sleep(0.2)

    def test_wal_stays_small_under_writes(self):
        hit_type = self.mturk.create_hit_type(
            Title="WAL", Description="Many writes", Reward="0.01",
            AssignmentDurationInSeconds=600)["HITTypeId"]
        big = "<p>%s</p>" % ("x" * 60000)
        from kpserver import html_question
        for _ in range(150):  # about 9 MB of question text
            self.mturk.create_hit_with_hit_type(HITTypeId=hit_type, MaxAssignments=1,
                                                LifetimeInSeconds=3600,
                                                Question=html_question(big))
        # The checkpointer runs at least every second; on a loaded machine
        # it may be late, so wait for it (the WAL grew without bound before
        # it worked: then this waits in vain).
        wal = os.path.join(self.server.data_dir, "kempelen.db-wal")
        deadline = time.monotonic() + 10
        while True:
            size = os.path.getsize(wal) if os.path.exists(wal) else 0
            if size < 8 << 20 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertLess(size, 8 << 20, "the WAL holds %d bytes" % size)


if __name__ == "__main__":
    main()
