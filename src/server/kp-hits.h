/* kp-hits.h: the HIT and assignment state machines, shared by the MTurk
 * API, the worker API and the background jobs (kp-mturk-hits.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * HIT: Assignable → Unassignable → Reviewable ↔ Reviewing → Disposed.
 * Assignment: Accepted → Submitted → Approved / Rejected, or Returned /
 * Abandoned. Every transition goes through here, so the stored HIT status,
 * the notifications and the ledger stay consistent.
 */

#pragma once

#include "kp-api.h"

G_BEGIN_DECLS

/* Recomputes and stores hits.status from its assignments and expiration
 * (not touching Reviewing / Disposed), sending HITReviewable when it
 * becomes Reviewable. */
gboolean kp_hits_refresh_status (KpCtx       *ctx,
                                 const char  *hit_id,
                                 GError     **error);

/* A worker accepts a HIT: it must be Assignable, not expired, have a free
 * slot, the worker must not have worked it, not be blocked by the
 * requester, and be qualified (kp_quals_worker_may … ACCEPT). Errors are
 * KP_API_ERROR_{NOT_FOUND, GONE, CONFLICT, FORBIDDEN} with a message for the
 * worker. *assignment_id gets the new assignment. */
gboolean kp_hits_accept         (KpCtx       *ctx,
                                 const char  *hit_id,
                                 const char  *worker_id,
                                 char       **assignment_id,
                                 GError     **error);
/* The worker gives an Accepted assignment back (→ Returned). */
gboolean kp_hits_return         (KpCtx       *ctx,
                                 const char  *assignment_id,
                                 const char  *worker_id,
                                 GError     **error);
/* The worker submits answer_xml (QuestionFormAnswers) for an Accepted
 * assignment before its deadline (→ Submitted, auto-approval time set). */
gboolean kp_hits_submit         (KpCtx       *ctx,
                                 const char  *assignment_id,
                                 const char  *worker_id,
                                 const char  *answer_xml,
                                 GError     **error);
/* Approves a Submitted (or, with override_rejection, a Rejected)
 * assignment: charges the ledger, notifies. Used by ApproveAssignment and
 * auto-approval. */
gboolean kp_hits_approve        (KpCtx       *ctx,
                                 const char  *assignment_id,
                                 const char  *feedback,
                                 gboolean     override_rejection,
                                 GError     **error);

/* The background jobs, due at ctx->now: abandonment at the deadline, HIT
 * expiry at the end of its lifetime, auto-approval after its delay. Runs in
 * the caller's transaction; returns the number of changes made. */
gboolean kp_hits_run_jobs       (KpCtx       *ctx,
                                 guint       *n_changes,
                                 GError     **error);

G_END_DECLS
