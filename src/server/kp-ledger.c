/* kp-ledger.c: the requester's money
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-ledger.h"

#include <string.h>

#include <glib/gi18n.h>

/* Half-up rounding of cents × percent / 100, at least one cent. */
static gint64
percent_fee (gint64 cents,
             gint64 percent)
{
  gint64 fee = (cents * percent + 50) / 100;

  return MAX (fee, 1);
}

gint64
kp_ledger_fee_cents (gint64 reward_cents,
                     gint64 max_assignments)
{
  return percent_fee (reward_cents, max_assignments >= 10 ? 40 : 20);
}

gint64
kp_ledger_bonus_fee_cents (gint64 bonus_cents)
{
  return percent_fee (bonus_cents, 20);
}

/* The same rule as kp_ledger_fee_cents(), in SQL, of a reward and a
 * number of assignments. */
#define FEE_SQL(REWARD, MAX) \
  "(CASE WHEN (" REWARD " * (CASE WHEN " MAX " >= 10 THEN 40 ELSE 20 END) + 50) / 100 < 1 " \
  "      THEN 1 " \
  "      ELSE (" REWARD " * (CASE WHEN " MAX " >= 10 THEN 40 ELSE 20 END) + 50) / 100 END)"

/* What is on hold is kept as running totals, so that reading a balance
 * costs the same with 10 HITs as with 100,000:
 *
 * - hits.held_cents: what the HIT holds (accepted and submitted
 *   assignments, and its open slots while it lives), as last computed by
 *   kp_ledger_refresh_hold(); hits.open_held_cents: the open slots' part;
 * - requesters.held_cents: the sum of their HITs' held_cents;
 * - requesters.ledger_cents: the sum of their ledger rows.
 *
 * Every change to a HIT's assignments, slots, reward, expiry or status
 * calls kp_ledger_refresh_hold() in the same transaction. Time alone ends
 * a HIT's open slots: until the expiry job refreshes an expired HIT, its
 * open_held_cents are left out when reading (an indexed look at the few
 * HITs in that state). tests/server/test_ledger.py checks the totals
 * against the SUM over every row after random operations. */

gboolean
kp_ledger_get_balance (KpCtx       *ctx,
                       const char  *requester_id,
                       gint64      *available_cents,
                       gint64      *on_hold_cents,
                       GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  gint64 total = 0;
  gint64 hold = 0;

  g_return_val_if_fail (ctx != NULL, FALSE);
  g_return_val_if_fail (requester_id != NULL, FALSE);

  /* "open_held_cents > 0" is the partial index hits_open_hold's own
   * condition. */
  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT r.ledger_cents, r.held_cents - COALESCE(("
                      "  SELECT SUM(h.open_held_cents) FROM hits h"
                      "  WHERE h.requester_id = r.id AND h.open_held_cents > 0"
                      "    AND h.expiration <= $2), 0) "
                      "FROM requesters r WHERE r.id = $1",
                      "si", requester_id, ctx->now);
  if (rows == NULL)
    return kp_api_fail_db (ctx, error, local_error);
  if (kp_rows_get_n_rows (rows) > 0)
    {
      total = kp_rows_get_int (rows, 0, 0);
      hold = kp_rows_get_int (rows, 0, 1);
    }

  if (available_cents != NULL)
    *available_cents = total - hold;
  if (on_hold_cents != NULL)
    *on_hold_cents = hold;

  return TRUE;
}

gboolean
kp_ledger_refresh_hold (KpCtx       *ctx,
                        const char  *hit_id,
                        GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  gint64 unit, active, taken, max, held, open_held, new_held, new_open;
  gboolean live;

  g_return_val_if_fail (ctx != NULL, FALSE);
  g_return_val_if_fail (hit_id != NULL, FALSE);

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT h.requester_id, h.held_cents, h.open_held_cents, h.status, "
                      "h.expiration, h.max_assignments, t.reward_cents, "
                      "(SELECT COUNT(*) FROM assignments a WHERE a.hit_id = h.id"
                      "   AND a.status IN ('Accepted', 'Submitted')), "
                      "(SELECT COUNT(*) FROM assignments a WHERE a.hit_id = h.id"
                      "   AND a.status NOT IN ('Returned', 'Abandoned')) "
                      "FROM hits h JOIN hit_types t ON t.id = h.hit_type_id WHERE h.id = $1",
                      "s", hit_id);
  if (rows == NULL)
    return kp_api_fail_db (ctx, error, local_error);
  if (kp_rows_get_n_rows (rows) == 0)
    return TRUE;

  held = kp_rows_get_int (rows, 0, 1);
  open_held = kp_rows_get_int (rows, 0, 2);
  live = !g_str_equal (kp_rows_get_text (rows, 0, 3), "Disposed");
  max = kp_rows_get_int (rows, 0, 5);
  unit = kp_rows_get_int (rows, 0, 6) + kp_ledger_fee_cents (kp_rows_get_int (rows, 0, 6), max);
  active = kp_rows_get_int (rows, 0, 7);
  taken = kp_rows_get_int (rows, 0, 8);

  new_open = live && kp_rows_get_int (rows, 0, 4) > ctx->now ? (max - taken) * unit : 0;
  new_held = live ? active * unit + new_open : 0;
  if (new_held == held && new_open == open_held)
    return TRUE;

  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "UPDATE hits SET held_cents = $2, open_held_cents = $3 WHERE id = $1",
                   "sii", hit_id, new_held, new_open) ||
      (new_held != held &&
       !kp_db_exec (ctx->db, NULL, &local_error,
                    "UPDATE requesters SET held_cents = held_cents + $2 WHERE id = $1",
                    "si", kp_rows_get_text (rows, 0, 0), new_held - held)))
    return kp_api_fail_db (ctx, error, local_error);

  return TRUE;
}

static const char * const running_totals[] = {
  "ALTER TABLE requesters ADD COLUMN ledger_cents BIGINT NOT NULL DEFAULT 0",
  "ALTER TABLE requesters ADD COLUMN held_cents BIGINT NOT NULL DEFAULT 0",
  "ALTER TABLE hits ADD COLUMN held_cents BIGINT NOT NULL DEFAULT 0",
  "ALTER TABLE hits ADD COLUMN open_held_cents BIGINT NOT NULL DEFAULT 0",
  "CREATE INDEX hits_open_hold ON hits (requester_id, expiration) WHERE open_held_cents > 0",
  "UPDATE requesters SET ledger_cents = ("
  "  SELECT COALESCE(SUM(l.amount_cents), 0) FROM ledger l WHERE l.requester_id = requesters.id)",
  /* The same figures as kp_ledger_refresh_hold(), for every HIT at once. */
  "UPDATE hits SET open_held_cents = CASE WHEN status <> 'Disposed' AND expiration > $1 THEN"
  "  (max_assignments - (SELECT COUNT(*) FROM assignments a WHERE a.hit_id = hits.id"
  "                      AND a.status NOT IN ('Returned', 'Abandoned')))"
  "  * (SELECT t.reward_cents + " FEE_SQL ("t.reward_cents", "hits.max_assignments")
  "     FROM hit_types t WHERE t.id = hits.hit_type_id)"
  "  ELSE 0 END",
  "UPDATE hits SET held_cents = CASE WHEN status <> 'Disposed' THEN open_held_cents +"
  "  (SELECT COUNT(*) FROM assignments a WHERE a.hit_id = hits.id"
  "   AND a.status IN ('Accepted', 'Submitted'))"
  "  * (SELECT t.reward_cents + " FEE_SQL ("t.reward_cents", "hits.max_assignments")
  "     FROM hit_types t WHERE t.id = hits.hit_type_id)"
  "  ELSE 0 END",
  "UPDATE requesters SET held_cents = ("
  "  SELECT COALESCE(SUM(h.held_cents), 0) FROM hits h WHERE h.requester_id = requesters.id)",
};

gboolean
kp_ledger_migrate (KpDb    *db,
                   gint64   now,
                   GError **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (running_totals); i++)
    if (!kp_db_exec (db, NULL, error, running_totals[i],
                     strstr (running_totals[i], "$1") != NULL ? "i" : NULL, now))
      return FALSE;

  return TRUE;
}

gboolean
kp_ledger_add (KpCtx       *ctx,
               const char  *requester_id,
               const char  *kind,
               gint64       amount_cents,
               const char  *hit_id,
               const char  *assignment_id,
               const char  *worker_id,
               const char  *memo,
               GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *id = kp_api_new_id ();

  g_return_val_if_fail (ctx != NULL, FALSE);
  g_return_val_if_fail (requester_id != NULL, FALSE);
  g_return_val_if_fail (kind != NULL, FALSE);

  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "INSERT INTO ledger (id, requester_id, kind, amount_cents, hit_id, "
                   "  assignment_id, worker_id, memo, created) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                   "sssissssi", id, requester_id, kind, amount_cents, hit_id,
                   assignment_id, worker_id, memo, ctx->now) ||
      !kp_db_exec (ctx->db, NULL, &local_error,
                   "UPDATE requesters SET ledger_cents = ledger_cents + $2 WHERE id = $1",
                   "si", requester_id, amount_cents))
    return kp_api_fail_db (ctx, error, local_error);

  return TRUE;
}

gboolean
kp_ledger_charge_assignment (KpCtx       *ctx,
                             const char  *assignment_id,
                             GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  const char *requester_id;
  const char *hit_id;
  const char *worker_id;
  gint64 reward;
  gint64 fee;
  gint64 already = 0;

  g_return_val_if_fail (ctx != NULL, FALSE);
  g_return_val_if_fail (assignment_id != NULL, FALSE);

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT h.requester_id, h.id, a.worker_id, t.reward_cents, h.max_assignments "
                      "FROM assignments a JOIN hits h ON h.id = a.hit_id "
                      "JOIN hit_types t ON t.id = h.hit_type_id WHERE a.id = $1",
                      "s", assignment_id);
  if (rows == NULL)
    return kp_api_fail_db (ctx, error, local_error);
  if (kp_rows_get_n_rows (rows) == 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "AssignmentDoesNotExist",
                        _("Assignment %s does not exist"), assignment_id);

  requester_id = kp_rows_get_text (rows, 0, 0);
  hit_id = kp_rows_get_text (rows, 0, 1);
  worker_id = kp_rows_get_text (rows, 0, 2);
  reward = kp_rows_get_int (rows, 0, 3);
  fee = kp_ledger_fee_cents (reward, kp_rows_get_int (rows, 0, 4));

  /* Never charge one assignment twice (an override of a rejection charges
   * once, on approval). */
  if (!kp_db_query_int (ctx->db, &already, NULL, &local_error,
                        "SELECT COUNT(*) FROM ledger WHERE assignment_id = $1 AND kind = 'reward'",
                        "s", assignment_id))
    return kp_api_fail_db (ctx, error, local_error);
  if (already > 0)
    return TRUE;

  return kp_ledger_add (ctx, requester_id, "reward", -reward, hit_id, assignment_id,
                        worker_id, NULL, error) &&
         kp_ledger_add (ctx, requester_id, "fee", -fee, hit_id, assignment_id,
                        worker_id, NULL, error);
}
