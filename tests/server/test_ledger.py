# SPDX-License-Identifier: GPL-3.0-or-later
"""The requester's running totals (kp-ledger.c): what is on hold and the
ledger's sum are kept up to date by every operation instead of being summed
over all HITs. After a random mix of operations (create, extend, expire,
update the expiry or the HIT type, accept, return, abandon, submit, approve,
reject, bonus, delete) the running figures must equal the SUMs over every
row, and the balance GetAccountBalance answers must equal the one computed
from the rows. The migration to schema 2 computes the totals from the rows
of an existing store."""

import os
import random
import sys

sys.path.insert(0, os.path.dirname(__file__))

from kpserver import KpTestCase, WorkerClient, WorkerError, free_text, main  # noqa: E402
from test_hits import FollowServerClock  # noqa: E402

# The definition of what is on hold (the SUM kp_ledger_get_balance() used
# to run on every call): accepted and submitted assignments, and the open
# slots of HITs that have not expired, at reward + fee each.
FEE = ("(CASE WHEN (t.reward_cents * (CASE WHEN h.max_assignments >= 10 THEN 40 ELSE 20 END)"
       " + 50) / 100 < 1 THEN 1 ELSE (t.reward_cents * (CASE WHEN h.max_assignments >= 10"
       " THEN 40 ELSE 20 END) + 50) / 100 END)")
HOLD_SQL = (
    "SELECT COALESCE(SUM(("
    "    (SELECT COUNT(*) FROM assignments a"
    "     WHERE a.hit_id = h.id AND a.status IN ('Accepted', 'Submitted'))"
    "    + CASE WHEN h.expiration > ? THEN"
    "        h.max_assignments - (SELECT COUNT(*) FROM assignments a"
    "          WHERE a.hit_id = h.id AND a.status NOT IN ('Returned', 'Abandoned'))"
    "      ELSE 0 END"
    "  ) * (t.reward_cents + " + FEE + ")), 0) "
    "FROM hits h JOIN hit_types t ON t.id = h.hit_type_id "
    "WHERE h.requester_id = ? AND h.status <> 'Disposed'")


def cents(text):
    units, _, fraction = text.partition(".")
    return int(units) * 100 + int((fraction + "00")[:2])


class LedgerTest(FollowServerClock, KpTestCase):

    FAKE_TIME = True

    def requester_id(self, requester):
        return self.server.sql("SELECT id FROM requesters WHERE access_key_id = ?",
                               (requester["AccessKeyId"],))[0][0]

    def check(self, requester, mturk, where):
        """The running totals against the rows; the balance against both."""
        rid = self.requester_id(requester)
        ledger, held = self.server.sql(
            "SELECT ledger_cents, held_cents FROM requesters WHERE id = ?", (rid,))[0]
        ledger_sum = self.server.sql(
            "SELECT COALESCE(SUM(amount_cents), 0) FROM ledger WHERE requester_id = ?",
            (rid,))[0][0]
        held_sum = self.server.sql(
            "SELECT COALESCE(SUM(held_cents), 0) FROM hits WHERE requester_id = ?", (rid,))[0][0]
        self.assertEqual(ledger, ledger_sum, where)
        self.assertEqual(held, held_sum, where)

        # The balance, at the server's time. A HIT that expires within a
        # second or two of now may be counted either way: check again then.
        for attempt in range(3):
            now = int(self.server.now())
            near = self.server.sql(
                "SELECT COUNT(*) FROM hits WHERE requester_id = ? AND expiration BETWEEN ? AND ?",
                (rid, now - 2, now + 2))[0][0]
            if near:
                self.server.advance(5)
                continue
            hold = self.server.sql(HOLD_SQL, (now, rid))[0][0]
            available = cents(mturk.get_account_balance()["AvailableBalance"])
            # The background jobs run on their own: one that abandoned an
            # assignment past its deadline between the two readings
            # changed what is on hold. Read again then.
            if self.server.sql(HOLD_SQL, (now, rid))[0][0] != hold:
                continue
            self.assertEqual(available, ledger_sum - hold, where)
            return hold
        self.fail("HITs kept expiring, or jobs kept running, at the time of the check (%s)" % where)

    def test_running_totals_match_the_rows(self):
        seed = int(os.environ.get("KP_TEST_SEED", random.randrange(1 << 30)))
        rng = random.Random(seed)
        print("seed %d" % seed, file=sys.stderr)

        other = self.server.create_requester(funds="50")
        other_mturk = self.server.mturk(other)
        workers = [WorkerClient(self.server) for _ in range(4)]
        for worker in workers:
            self.addCleanup(worker.close)

        types = [self.mturk.create_hit_type(
            Title="Ledger %d" % i, Description="Running totals", Reward=reward,
            AssignmentDurationInSeconds=120, AutoApprovalDelayInSeconds=86400)["HITTypeId"]
            for i, reward in enumerate(["0.01", "0.10", "0.37", "1.25"])]
        other_type = other_mturk.create_hit_type(
            Title="Other", Description="Another requester", Reward="0.05",
            AssignmentDurationInSeconds=120)["HITTypeId"]

        hits, accepted, submitted, reviewed = [], [], [], []
        counts = {}

        def create():
            mturk, hit_type = ((other_mturk, other_type) if rng.random() < 0.15
                               else (self.mturk, rng.choice(types)))
            hit = mturk.create_hit_with_hit_type(
                HITTypeId=hit_type, MaxAssignments=rng.choice([1, 2, 3, 9, 10, 12]),
                LifetimeInSeconds=rng.choice([300, 900, 3600]),
                Question=self.question())["HIT"]
            if mturk is self.mturk:
                hits.append(hit["HITId"])

        def extend():
            self.mturk.create_additional_assignments_for_hit(
                HITId=rng.choice(hits), NumberOfAdditionalAssignments=rng.randint(1, 3))

        def update_expiration():
            import datetime
            when = int(self.server.now()) + rng.choice([-100, 0, 600, 1800])
            self.mturk.update_expiration_for_hit(
                HITId=rng.choice(hits),
                ExpireAt=datetime.datetime.fromtimestamp(when, datetime.timezone.utc))

        def update_type():
            self.mturk.update_hit_type_of_hit(HITId=rng.choice(hits), HITTypeId=rng.choice(types))

        def accept():
            worker = rng.choice(workers)
            assignment = worker.accept_hit(rng.choice(hits))["assignment_id"]
            accepted.append((worker, assignment))

        def give_back():
            worker, assignment = accepted.pop(rng.randrange(len(accepted)))
            worker.return_assignment(assignment)

        def submit():
            worker, assignment = accepted.pop(rng.randrange(len(accepted)))
            worker.submit(assignment, [free_text("q1", "an answer")])
            submitted.append(assignment)

        def approve():
            assignment = submitted.pop(rng.randrange(len(submitted)))
            self.mturk.approve_assignment(AssignmentId=assignment)
            reviewed.append(assignment)

        def reject():
            assignment = submitted.pop(rng.randrange(len(submitted)))
            self.mturk.reject_assignment(AssignmentId=assignment, RequesterFeedback="No")
            reviewed.append(assignment)

        def override():
            self.mturk.approve_assignment(AssignmentId=rng.choice(reviewed),
                                          OverrideRejection=True)

        def bonus():
            assignment = rng.choice(reviewed)
            worker_id = self.mturk.get_assignment(
                AssignmentId=assignment)["Assignment"]["WorkerId"]
            self.mturk.send_bonus(WorkerId=worker_id, BonusAmount="0.25", AssignmentId=assignment,
                                  Reason="Thanks", UniqueRequestToken=os.urandom(8).hex())

        def delete():
            self.mturk.delete_hit(HITId=rng.choice(hits))

        def time_passes():
            # Past assignment deadlines (abandoned) and some expiries, run
            # by the background jobs; or only a little, so that expired
            # HITs the jobs have not seen yet are read too.
            self.server.advance(rng.choice([30, 150, 400]))
            if rng.random() < 0.5:
                self.server.wait_for_jobs()

        operations = [
            (create, 6, lambda: True),
            (extend, 2, lambda: hits),
            (update_expiration, 2, lambda: hits),
            (update_type, 1, lambda: hits),
            (accept, 8, lambda: hits),
            (give_back, 2, lambda: accepted),
            (submit, 6, lambda: accepted),
            (approve, 3, lambda: submitted),
            (reject, 2, lambda: submitted),
            (override, 1, lambda: reviewed),
            (bonus, 1, lambda: reviewed),
            (delete, 2, lambda: hits),
            (time_passes, 1, lambda: True),
        ]
        holds = set()
        for step in range(160):
            possible = [(op, weight) for op, weight, ready in operations if ready()]
            op = rng.choices([op for op, _ in possible], [w for _, w in possible])[0]
            try:
                op()
                counts[op.__name__] = counts.get(op.__name__, 0) + 1
            except (self.mturk.exceptions.RequestError, WorkerError):
                pass  # refused (not in that state, expired, taken…): nothing changed
            if step % 40 == 20:
                # Time passes now and then whatever the draw (a draw of
                # 160 steps missed it about once in a hundred runs).
                time_passes()
                counts["time_passes"] = counts.get("time_passes", 0) + 1
            if step % 8 == 7:
                where = "step %d (seed %d) after %s" % (step, seed, op.__name__)
                holds.add(self.check(self.requester, self.mturk, where))
                self.check(other, other_mturk, where)

        # The mix did reach the interesting states.
        for name in ("create", "accept", "submit", "approve", "time_passes"):
            self.assertGreater(counts.get(name, 0), 0, (name, counts, seed))
        self.assertGreater(len(holds), 3, (holds, seed))
        self.assertGreater(self.server.sql("SELECT COUNT(*) FROM assignments WHERE status = "
                                           "'Abandoned'")[0][0]
                           + self.server.sql("SELECT COUNT(*) FROM hits WHERE expiration <= ?",
                                             (int(self.server.now()),))[0][0], 0, seed)

        # --- the migration: back to schema 1, then up again on restart ---
        before = self.mturk.get_account_balance()["AvailableBalance"]
        self.server.stop()
        for statement in ("DROP INDEX hits_open_hold",
                          "ALTER TABLE hits DROP COLUMN held_cents",
                          "ALTER TABLE hits DROP COLUMN open_held_cents",
                          "ALTER TABLE requesters DROP COLUMN held_cents",
                          "ALTER TABLE requesters DROP COLUMN ledger_cents",
                          "UPDATE kp_meta SET value = '1' WHERE key = 'schema_version'"):
            self.server.sql(statement)
        self.server.start("127.0.0.1:%d" % self.server.port)
        # The server's process time is the fake one again (the file keeps it).
        self.assertEqual(self.server.sql(
            "SELECT value FROM kp_meta WHERE key = 'schema_version'")[0][0], "3")
        self.check(self.requester, self.mturk, "after the migration")
        self.check(other, other_mturk, "after the migration")
        self.assertEqual(self.mturk.get_account_balance()["AvailableBalance"], before)

    def question(self):
        from kpserver import question_form
        return question_form()


if __name__ == "__main__":
    main()
