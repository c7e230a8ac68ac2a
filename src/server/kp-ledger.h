/* kp-ledger.h: the requester's money (kp-ledger.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every movement is a row of the ledger table, in integer cents. Funds are
 * added by an administrator; rewards and fees are charged when an assignment
 * is approved, bonuses and their fees when sent. What is still owed for
 * outstanding work (open slots of live HITs, accepted and submitted
 * assignments) is on hold. Both are kept as running totals (see
 * kp-ledger.c), changed in the same transaction as what changes them, so
 * a balance costs the same however many HITs a requester has.
 */

#pragma once

#include "kp-api.h"

G_BEGIN_DECLS

/* MTurk's fee for one assignment: 20 % of the reward, plus another 20 % for
 * HITs with 10 or more assignments; at least $0.01; half-up rounding. */
gint64   kp_ledger_fee_cents       (gint64       reward_cents,
                                    gint64       max_assignments);
/* The fee on a bonus: 20 %, at least $0.01, half-up. */
gint64   kp_ledger_bonus_fee_cents (gint64       bonus_cents);

/* available = funds − charges − on hold. */
gboolean kp_ledger_get_balance     (KpCtx       *ctx,
                                    const char  *requester_id,
                                    gint64      *available_cents,
                                    gint64      *on_hold_cents,
                                    GError     **error);
/* Appends a movement; amount_cents is signed (a charge is negative).
 * kind is one of "fund", "reward", "fee", "bonus", "bonus_fee". */
gboolean kp_ledger_add             (KpCtx       *ctx,
                                    const char  *requester_id,
                                    const char  *kind,
                                    gint64       amount_cents,
                                    const char  *hit_id,
                                    const char  *assignment_id,
                                    const char  *worker_id,
                                    const char  *memo,
                                    GError     **error);
/* Recomputes what one HIT holds and moves the difference into its
 * requester's total on hold. Call it after every change to the HIT's
 * assignments, maximum, reward, expiration or status (kp_hits_refresh_status()
 * does). */
gboolean kp_ledger_refresh_hold    (KpCtx       *ctx,
                                    const char  *hit_id,
                                    GError     **error);
/* Schema version 2: adds the running totals and computes them from the
 * existing rows, with now as the time that decides which HITs live. */
gboolean kp_ledger_migrate         (KpDb        *db,
                                    gint64       now,
                                    GError     **error);
/* Charges the reward and the fee of an approved assignment. */
gboolean kp_ledger_charge_assignment (KpCtx      *ctx,
                                      const char *assignment_id,
                                      GError    **error);

G_END_DECLS
