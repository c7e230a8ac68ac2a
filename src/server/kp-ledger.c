/* kp-ledger.c: the requester's money
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-ledger.h"

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

/* The same rule as kp_ledger_fee_cents(), in SQL, for the hold. */
#define FEE_SQL \
  "(CASE WHEN (t.reward_cents * (CASE WHEN h.max_assignments >= 10 THEN 40 ELSE 20 END) + 50) / 100 < 1 " \
  "      THEN 1 " \
  "      ELSE (t.reward_cents * (CASE WHEN h.max_assignments >= 10 THEN 40 ELSE 20 END) + 50) / 100 END)"

gboolean
kp_ledger_get_balance (KpCtx       *ctx,
                       const char  *requester_id,
                       gint64      *available_cents,
                       gint64      *on_hold_cents,
                       GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  gint64 total = 0;
  gint64 hold = 0;

  g_return_val_if_fail (ctx != NULL, FALSE);
  g_return_val_if_fail (requester_id != NULL, FALSE);

  if (!kp_db_query_int (ctx->db, &total, NULL, &local_error,
                        "SELECT COALESCE(SUM(amount_cents), 0) FROM ledger WHERE requester_id = $1",
                        "s", requester_id))
    return kp_api_fail_db (ctx, error, local_error);

  /* What outstanding work may still cost: accepted and submitted
   * assignments, and the open slots of HITs that have not expired. */
  if (!kp_db_query_int (ctx->db, &hold, NULL, &local_error,
                        "SELECT COALESCE(SUM(("
                        "    (SELECT COUNT(*) FROM assignments a"
                        "     WHERE a.hit_id = h.id AND a.status IN ('Accepted', 'Submitted'))"
                        "    + CASE WHEN h.expiration > $2 THEN"
                        "        h.max_assignments - (SELECT COUNT(*) FROM assignments a"
                        "          WHERE a.hit_id = h.id AND a.status NOT IN ('Returned', 'Abandoned'))"
                        "      ELSE 0 END"
                        "  ) * (t.reward_cents + " FEE_SQL ")), 0) "
                        "FROM hits h JOIN hit_types t ON t.id = h.hit_type_id "
                        "WHERE h.requester_id = $1 AND h.status <> 'Disposed'",
                        "si", requester_id, ctx->now))
    return kp_api_fail_db (ctx, error, local_error);

  if (available_cents != NULL)
    *available_cents = total - hold;
  if (on_hold_cents != NULL)
    *on_hold_cents = hold;

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
                   assignment_id, worker_id, memo, ctx->now))
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
