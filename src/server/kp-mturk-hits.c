/* kp-mturk-hits.c: HITs and HIT types (MTurk operations), and the HIT and
 * assignment state machines shared with the worker API and the jobs
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A HIT's stored status is recomputed from its assignments and expiration
 * after every change (kp_hits_refresh_status()), so what GetHIT, the
 * listings and the ledger's hold see is always consistent with the
 * assignments. Only Reviewing (set by the requester) and Disposed are
 * never recomputed.
 */

#include "config.h"

#include <inttypes.h>

#include "kp-hits-private.h"

#include <string.h>

#include <glib/gi18n.h>

#include "kp-core.h"
#include "kp-ledger.h"
#include "kp-notify.h"
#include "kp-quals.h"
#include "kp-review-policy.h"

/* MTurk's limits, from its API reference. */
#define TITLE_MAX             128
#define DESCRIPTION_MAX       2000
#define KEYWORDS_MAX          1000
#define ANNOTATION_MAX        255
#define DURATION_MIN          30
#define DURATION_MAX          31536000   /* one year */
#define AUTO_APPROVAL_MAX     2592000    /* 30 days */
#define AUTO_APPROVAL_DEFAULT 2592000
#define MAX_ASSIGNMENTS_MAX   1000000
#define TOKEN_LIFETIME        86400      /* UniqueRequestToken: 24 hours */
#define JOB_BATCH             500
#define AUTO_DISPOSAL_AGE     (120 * 86400)

/* The HIT as the API shows it: the HIT's row, its type's, and the counts. */
#define HIT_COLUMNS \
  "h.id, h.hit_type_id, h.hit_layout_id, h.created, t.title, t.description, " \
  "h.question, t.keywords, h.status, h.max_assignments, t.reward_cents, " \
  "t.auto_approval_delay, h.expiration, t.assignment_duration, " \
  "h.requester_annotation, t.qualification_requirements, h.review_status, " \
  "(SELECT COUNT(*) FROM assignments a WHERE a.hit_id = h.id AND a.status = 'Accepted'), " \
  "(SELECT COUNT(*) FROM assignments a WHERE a.hit_id = h.id AND a.status = 'Submitted'), " \
  "(SELECT COUNT(*) FROM assignments a WHERE a.hit_id = h.id " \
  "   AND a.status IN ('Approved', 'Rejected')) " \
  "FROM hits h JOIN hit_types t ON t.id = h.hit_type_id "

enum {
  COL_ID, COL_TYPE_ID, COL_LAYOUT_ID, COL_CREATED, COL_TITLE, COL_DESCRIPTION,
  COL_QUESTION, COL_KEYWORDS, COL_STATUS, COL_MAX, COL_REWARD, COL_DELAY,
  COL_EXPIRATION, COL_DURATION, COL_ANNOTATION, COL_QUALS, COL_REVIEW_STATUS,
  COL_PENDING, COL_SUBMITTED, COL_COMPLETED,
};

/* Errors */

gboolean
_kp_hits_fail_no_hit (KpCtx       *ctx,
                      const char  *hit_id,
                      GError     **error)
{
  return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "HITDoesNotExist",
                      _("HIT %s does not exist."), hit_id);
}

static gboolean
fail_db (KpCtx   *ctx,
         GError **error,
         GError  *local_error)
{
  return kp_api_fail_db (ctx, error, local_error);
}

/* The status a HIT has by its assignments and expiration (Reviewing and
 * Disposed are the requester's and stay). */
static const char *
compute_status (const char *stored,
                gint64      now,
                gint64      expiration,
                gint64      max,
                gint64      pending,
                gint64      done)
{
  if (g_str_equal (stored, "Reviewing") || g_str_equal (stored, "Disposed"))
    return stored;
  if (done >= max)
    return "Reviewable";
  if (expiration <= now)
    return pending > 0 ? "Unassignable" : "Reviewable";
  if (pending + done >= max)
    return "Unassignable";
  return "Assignable";
}

/* Output */

static void
add_hit_object (KpCtx       *ctx,
                JsonBuilder *builder,
                KpRows      *rows,
                guint        r)
{
  gint64 max = kp_rows_get_int (rows, r, COL_MAX);
  gint64 pending = kp_rows_get_int (rows, r, COL_PENDING);
  gint64 submitted = kp_rows_get_int (rows, r, COL_SUBMITTED);
  gint64 completed = kp_rows_get_int (rows, r, COL_COMPLETED);
  gint64 available = 0;
  /* As stored, unless an expiry the background job has not handled yet
   * (it runs every second) already changes it. */
  const char *status = compute_status (kp_rows_get_text (rows, r, COL_STATUS), ctx->now,
                                       kp_rows_get_int (rows, r, COL_EXPIRATION), max,
                                       pending, submitted + completed);

  /* Slots a worker could take now: none once the HIT has expired or left
   * the marketplace. */
  if ((g_str_equal (status, "Assignable") || g_str_equal (status, "Unassignable")) &&
      kp_rows_get_int (rows, r, COL_EXPIRATION) > ctx->now)
    available = MAX (0, max - pending - submitted - completed);

  json_builder_begin_object (builder);
  kp_json_add_string (builder, "HITId", kp_rows_get_text (rows, r, COL_ID));
  kp_json_add_string (builder, "HITTypeId", kp_rows_get_text (rows, r, COL_TYPE_ID));
  /* MTurk groups HITs of identical properties into a HIT group; a HIT type
   * here is exactly such a set of properties, so the group id is the type
   * id. */
  kp_json_add_string (builder, "HITGroupId", kp_rows_get_text (rows, r, COL_TYPE_ID));
  kp_json_add_string (builder, "HITLayoutId", kp_rows_get_text (rows, r, COL_LAYOUT_ID));
  kp_json_add_timestamp (builder, "CreationTime", kp_rows_get_int (rows, r, COL_CREATED));
  kp_json_add_string (builder, "Title", kp_rows_get_text (rows, r, COL_TITLE));
  kp_json_add_string (builder, "Description", kp_rows_get_text (rows, r, COL_DESCRIPTION));
  kp_json_add_string (builder, "Question", kp_rows_get_text (rows, r, COL_QUESTION));
  kp_json_add_string (builder, "Keywords", kp_rows_get_text (rows, r, COL_KEYWORDS));
  kp_json_add_string (builder, "HITStatus", status);
  kp_json_add_int (builder, "MaxAssignments", max);
  kp_json_add_money (builder, "Reward", kp_rows_get_int (rows, r, COL_REWARD));
  kp_json_add_int (builder, "AutoApprovalDelayInSeconds", kp_rows_get_int (rows, r, COL_DELAY));
  kp_json_add_timestamp (builder, "Expiration", kp_rows_get_int (rows, r, COL_EXPIRATION));
  kp_json_add_int (builder, "AssignmentDurationInSeconds", kp_rows_get_int (rows, r, COL_DURATION));
  kp_json_add_string (builder, "RequesterAnnotation", kp_rows_get_text (rows, r, COL_ANNOTATION));
  kp_json_add_raw (builder, "QualificationRequirements", kp_rows_get_text (rows, r, COL_QUALS));
  kp_json_add_string (builder, "HITReviewStatus", kp_rows_get_text (rows, r, COL_REVIEW_STATUS));
  kp_json_add_int (builder, "NumberOfAssignmentsPending", pending);
  kp_json_add_int (builder, "NumberOfAssignmentsAvailable", available);
  kp_json_add_int (builder, "NumberOfAssignmentsCompleted", completed);
  json_builder_end_object (builder);
}

gboolean
_kp_hits_add_hit_member (KpCtx       *ctx,
                         JsonBuilder *builder,
                         const char  *name,
                         const char  *hit_id,
                         const char  *requester_id,
                         GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT " HIT_COLUMNS
                      "WHERE h.id = $1 AND (CAST($2 AS TEXT) IS NULL OR h.requester_id = $2)",
                      "ss", hit_id, requester_id);
  if (rows == NULL)
    return fail_db (ctx, error, local_error);
  if (kp_rows_get_n_rows (rows) == 0)
    return _kp_hits_fail_no_hit (ctx, hit_id, error);

  json_builder_set_member_name (builder, name);
  add_hit_object (ctx, builder, rows, 0);
  return TRUE;
}

/* The state machine */

static gboolean
notify (KpCtx       *ctx,
        const char  *event_type,
        const char  *hit_type_id,
        const char  *hit_id,
        const char  *assignment_id,
        GError     **error)
{
  return kp_notify_event (ctx, event_type, hit_type_id, hit_id, assignment_id, error);
}

gboolean
kp_hits_refresh_status (KpCtx       *ctx,
                        const char  *hit_id,
                        GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  const char *old_status;
  const char *new_status;
  gint64 expiration, max, pending, done;

  /* Whatever changed may change what the HIT holds of the funds. */
  if (!kp_ledger_refresh_hold (ctx, hit_id, error))
    return FALSE;

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT h.status, h.expiration, h.max_assignments, h.hit_type_id, "
                      "(SELECT COUNT(*) FROM assignments a WHERE a.hit_id = h.id "
                      "   AND a.status = 'Accepted'), "
                      "(SELECT COUNT(*) FROM assignments a WHERE a.hit_id = h.id "
                      "   AND a.status IN ('Submitted', 'Approved', 'Rejected')) "
                      "FROM hits h WHERE h.id = $1",
                      "s", hit_id);
  if (rows == NULL)
    return fail_db (ctx, error, local_error);
  if (kp_rows_get_n_rows (rows) == 0)
    return _kp_hits_fail_no_hit (ctx, hit_id, error);

  old_status = kp_rows_get_text (rows, 0, 0);
  expiration = kp_rows_get_int (rows, 0, 1);
  max = kp_rows_get_int (rows, 0, 2);
  pending = kp_rows_get_int (rows, 0, 4);
  done = kp_rows_get_int (rows, 0, 5);

  new_status = compute_status (old_status, ctx->now, expiration, max, pending, done);
  if (g_str_equal (old_status, new_status))
    return TRUE;

  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "UPDATE hits SET status = $2 WHERE id = $1",
                   "ss", hit_id, new_status))
    return fail_db (ctx, error, local_error);

  if (g_str_equal (new_status, "Reviewable"))
    return notify (ctx, "HITReviewable", kp_rows_get_text (rows, 0, 3), hit_id, NULL, error);

  return TRUE;
}

/* Marks the HIT's expiration as handled (HITExpired) and refreshes it. */
static gboolean
expire_hit (KpCtx       *ctx,
            const char  *hit_id,
            const char  *hit_type_id,
            GError     **error)
{
  g_autoptr(GError) local_error = NULL;

  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "UPDATE hits SET expired_event = 1 WHERE id = $1",
                   "s", hit_id))
    return fail_db (ctx, error, local_error);

  if (!notify (ctx, "HITExpired", hit_type_id, hit_id, NULL, error))
    return FALSE;

  return kp_hits_refresh_status (ctx, hit_id, error);
}

static gboolean
dispose_hit (KpCtx       *ctx,
             const char  *hit_id,
             const char  *hit_type_id,
             GError     **error)
{
  g_autoptr(GError) local_error = NULL;

  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "UPDATE hits SET status = 'Disposed' WHERE id = $1",
                   "s", hit_id))
    return fail_db (ctx, error, local_error);
  if (!kp_ledger_refresh_hold (ctx, hit_id, error))
    return FALSE;

  return notify (ctx, "HITDisposed", hit_type_id, hit_id, NULL, error);
}

gboolean
kp_hits_accept (KpCtx       *ctx,
                const char  *hit_id,
                const char  *worker_id,
                char       **assignment_id,
                GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  g_autofree char *id = NULL;
  g_autofree char *reason = NULL;
  const char *status;
  const char *requester_id;
  const char *hit_type_id;
  gint64 value = 0;
  gboolean found = FALSE;
  gboolean allowed = FALSE;
  gint64 taken = 0;

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT h.status, h.expiration, h.max_assignments, h.requester_id, "
                      "h.hit_type_id, t.qualification_requirements, t.assignment_duration "
                      "FROM hits h JOIN hit_types t ON t.id = h.hit_type_id WHERE h.id = $1",
                      "s", hit_id);
  if (rows == NULL)
    return fail_db (ctx, error, local_error);
  if (kp_rows_get_n_rows (rows) == 0 ||
      g_str_equal (kp_rows_get_text (rows, 0, 0), "Disposed"))
    return kp_api_fail (ctx, error, KP_API_ERROR_NOT_FOUND, "HITDoesNotExist",
                        _("There is no HIT %s."), hit_id);

  status = kp_rows_get_text (rows, 0, 0);
  requester_id = kp_rows_get_text (rows, 0, 3);
  hit_type_id = kp_rows_get_text (rows, 0, 4);

  if (kp_rows_get_int (rows, 0, 1) <= ctx->now)
    return kp_api_fail (ctx, error, KP_API_ERROR_GONE, "InvalidHITState",
                        _("This HIT has expired and can no longer be accepted."));
  if (g_str_equal (status, "Reviewable") || g_str_equal (status, "Reviewing"))
    return kp_api_fail (ctx, error, KP_API_ERROR_GONE, "InvalidHITState",
                        _("This HIT is complete and can no longer be accepted."));

  if (!kp_db_query_int (ctx->db, &value, &found, &local_error,
                        "SELECT 1 FROM worker_blocks WHERE requester_id = $1 AND worker_id = $2",
                        "ss", requester_id, worker_id))
    return fail_db (ctx, error, local_error);
  if (found)
    return kp_api_fail (ctx, error, KP_API_ERROR_FORBIDDEN, "PermissionDenied",
                        _("The requester of this HIT has blocked you from working on their HITs."));

  if (!kp_db_query_int (ctx->db, &value, &found, &local_error,
                        "SELECT 1 FROM assignments WHERE hit_id = $1 AND worker_id = $2 "
                        "AND status NOT IN ('Returned', 'Abandoned')",
                        "ss", hit_id, worker_id))
    return fail_db (ctx, error, local_error);
  if (found)
    return kp_api_fail (ctx, error, KP_API_ERROR_CONFLICT, "InvalidAssignmentState",
                        _("You have already accepted this HIT; a HIT can be worked once."));

  if (!kp_quals_worker_may (ctx, worker_id, kp_rows_get_text (rows, 0, 5),
                            KP_QUALS_ACTION_ACCEPT, &allowed, &reason, error))
    return FALSE;
  if (!allowed)
    return kp_api_fail (ctx, error, KP_API_ERROR_FORBIDDEN, "DoesNotMeetRequirements",
                        "%s", reason != NULL ? reason
                        : _("You do not meet the qualification requirements of this HIT."));

  /* Counting and inserting within the request's transaction, which holds
   * the write lock (BEGIN IMMEDIATE), is race-free even across processes:
   * of racing accepts for the last slot exactly one sees it free. */
  if (!kp_db_query_int (ctx->db, &taken, NULL, &local_error,
                        "SELECT COUNT(*) FROM assignments WHERE hit_id = $1 "
                        "AND status IN ('Accepted', 'Submitted', 'Approved', 'Rejected')",
                        "s", hit_id))
    return fail_db (ctx, error, local_error);
  if (taken >= kp_rows_get_int (rows, 0, 2))
    return kp_api_fail (ctx, error, KP_API_ERROR_CONFLICT, "InvalidHITState",
                        _("Every assignment of this HIT has been taken."));

  /* Accepting is the request for the AutoGranted types the HIT requires. */
  if (!kp_review_policy_auto_grant (ctx, worker_id, kp_rows_get_text (rows, 0, 5), error))
    return FALSE;

  id = kp_api_new_id ();
  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "INSERT INTO assignments (id, hit_id, worker_id, status, accept_time, deadline) "
                   "VALUES ($1, $2, $3, 'Accepted', $4, $5)",
                   "sssii", id, hit_id, worker_id, ctx->now,
                   ctx->now + kp_rows_get_int (rows, 0, 6)))
    {
      if (g_error_matches (local_error, KP_DB_ERROR, KP_DB_ERROR_CONSTRAINT))
        return kp_api_fail (ctx, error, KP_API_ERROR_CONFLICT, "InvalidAssignmentState",
                            _("You have already accepted this HIT; a HIT can be worked once."));
      return fail_db (ctx, error, local_error);
    }

  if (!notify (ctx, "AssignmentAccepted", hit_type_id, hit_id, id, error))
    return FALSE;
  if (!kp_hits_refresh_status (ctx, hit_id, error))
    return FALSE;

  if (assignment_id != NULL)
    *assignment_id = g_steal_pointer (&id);
  return TRUE;
}

/* The worker's own assignment: hit id, type id, status, deadline,
 * auto-approval delay, whether the HIT has a review policy. */
static KpRows *
query_worker_assignment (KpCtx       *ctx,
                         const char  *assignment_id,
                         const char  *worker_id,
                         GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT a.hit_id, h.hit_type_id, a.status, a.deadline, t.auto_approval_delay, "
                      "CASE WHEN h.assignment_review_policy IS NULL "
                      "  AND h.hit_review_policy IS NULL THEN 0 ELSE 1 END "
                      "FROM assignments a JOIN hits h ON h.id = a.hit_id "
                      "JOIN hit_types t ON t.id = h.hit_type_id "
                      "WHERE a.id = $1 AND a.worker_id = $2",
                      "ss", assignment_id, worker_id);
  if (rows == NULL)
    {
      fail_db (ctx, error, local_error);
      return NULL;
    }
  if (kp_rows_get_n_rows (rows) == 0)
    {
      kp_api_fail (ctx, error, KP_API_ERROR_NOT_FOUND, "AssignmentDoesNotExist",
                   _("You have no assignment %s."), assignment_id);
      return NULL;
    }

  return g_steal_pointer (&rows);
}

gboolean
kp_hits_return (KpCtx       *ctx,
                const char  *assignment_id,
                const char  *worker_id,
                GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  const char *hit_id;

  rows = query_worker_assignment (ctx, assignment_id, worker_id, error);
  if (rows == NULL)
    return FALSE;

  hit_id = kp_rows_get_text (rows, 0, 0);
  if (!g_str_equal (kp_rows_get_text (rows, 0, 2), "Accepted"))
    return kp_api_fail (ctx, error, KP_API_ERROR_CONFLICT, "InvalidAssignmentState",
                        _("Assignment %s is %s; only an accepted assignment can be returned."),
                        assignment_id, kp_rows_get_text (rows, 0, 2));

  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "UPDATE assignments SET status = 'Returned' WHERE id = $1",
                   "s", assignment_id))
    return fail_db (ctx, error, local_error);

  if (!notify (ctx, "AssignmentReturned", kp_rows_get_text (rows, 0, 1), hit_id,
               assignment_id, error))
    return FALSE;

  return kp_hits_refresh_status (ctx, hit_id, error);
}

gboolean
kp_hits_submit (KpCtx       *ctx,
                const char  *assignment_id,
                const char  *worker_id,
                const char  *answer_xml,
                GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  const char *hit_id;

  rows = query_worker_assignment (ctx, assignment_id, worker_id, error);
  if (rows == NULL)
    return FALSE;

  hit_id = kp_rows_get_text (rows, 0, 0);
  if (!g_str_equal (kp_rows_get_text (rows, 0, 2), "Accepted"))
    {
      if (g_str_equal (kp_rows_get_text (rows, 0, 2), "Abandoned"))
        return kp_api_fail (ctx, error, KP_API_ERROR_GONE, "InvalidAssignmentState",
                            _("The time allowed for assignment %s ran out."), assignment_id);
      return kp_api_fail (ctx, error, KP_API_ERROR_CONFLICT, "InvalidAssignmentState",
                          _("Assignment %s is %s; only an accepted assignment can be submitted."),
                          assignment_id, kp_rows_get_text (rows, 0, 2));
    }
  if (ctx->now > kp_rows_get_int (rows, 0, 3))
    return kp_api_fail (ctx, error, KP_API_ERROR_GONE, "InvalidAssignmentState",
                        _("The time allowed for assignment %s ran out."), assignment_id);

  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "UPDATE assignments SET status = 'Submitted', submit_time = $2, "
                   "auto_approval_time = $3, answer = $4 WHERE id = $1",
                   "siis", assignment_id, ctx->now,
                   ctx->now + kp_rows_get_int (rows, 0, 4), answer_xml))
    return fail_db (ctx, error, local_error);

  if (!notify (ctx, "AssignmentSubmitted", kp_rows_get_text (rows, 0, 1), hit_id,
               assignment_id, error))
    return FALSE;

  if (!kp_hits_refresh_status (ctx, hit_id, error))
    return FALSE;

  /* The HIT's review policies, in this transaction: a submitted
   * assignment is never left unscored. */
  if (kp_rows_get_int (rows, 0, 5) == 0)
    return TRUE;
  return kp_review_policy_submitted (ctx, assignment_id, error);
}

/* MTurk lets a rejection be overridden for work submitted in the last 30
 * days, while the HIT exists. */
#define OVERRIDE_WINDOW (30 * 86400)

static gboolean check_funds (KpCtx       *ctx,
                             const char  *requester_id,
                             gint64       needed,
                             GError     **error);

gboolean
kp_hits_approve (KpCtx       *ctx,
                 const char  *assignment_id,
                 const char  *feedback,
                 gboolean     override_rejection,
                 GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  const char *status;

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT a.status, a.submit_time, a.hit_id, h.hit_type_id, h.status, "
                      "h.requester_id, t.reward_cents, h.max_assignments "
                      "FROM assignments a JOIN hits h ON h.id = a.hit_id "
                      "JOIN hit_types t ON t.id = h.hit_type_id WHERE a.id = $1",
                      "s", assignment_id);
  if (rows == NULL)
    return fail_db (ctx, error, local_error);
  if (kp_rows_get_n_rows (rows) == 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "AssignmentDoesNotExist",
                        _("Assignment %s does not exist."), assignment_id);

  status = kp_rows_get_text (rows, 0, 0);
  if (g_str_equal (status, "Rejected"))
    {
      gint64 reward = kp_rows_get_int (rows, 0, 6);

      if (!override_rejection)
        return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "InvalidAssignmentState",
                            _("Assignment %s was rejected; set OverrideRejection to approve it."),
                            assignment_id);
      if (g_str_equal (kp_rows_get_text (rows, 0, 4), "Disposed"))
        return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "InvalidAssignmentState",
                            _("The HIT of assignment %s was deleted; its rejection can no "
                              "longer be overridden."), assignment_id);
      if (ctx->now > kp_rows_get_int (rows, 0, 1) + OVERRIDE_WINDOW)
        return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "InvalidAssignmentState",
                            _("Assignment %s was submitted more than 30 days ago; its "
                              "rejection can no longer be overridden."), assignment_id);
      /* A rejected assignment is no longer on hold: the money must be
       * available now. */
      if (!check_funds (ctx, kp_rows_get_text (rows, 0, 5),
                        reward + kp_ledger_fee_cents (reward, kp_rows_get_int (rows, 0, 7)),
                        error))
        return FALSE;
    }
  else if (!g_str_equal (status, "Submitted"))
    {
      if (g_str_equal (status, "Approved"))
        return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "InvalidAssignmentState",
                            _("Assignment %s has already been approved."), assignment_id);
      return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "AssignmentDoesNotExist",
                          _("Assignment %s does not exist."), assignment_id);
    }

  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "UPDATE assignments SET status = 'Approved', approval_time = $2, "
                   "requester_feedback = COALESCE($3, requester_feedback) WHERE id = $1",
                   "sis", assignment_id, ctx->now, feedback))
    return fail_db (ctx, error, local_error);

  if (!kp_ledger_charge_assignment (ctx, assignment_id, error))
    return FALSE;

  if (!notify (ctx, "AssignmentApproved", kp_rows_get_text (rows, 0, 3),
               kp_rows_get_text (rows, 0, 2), assignment_id, error))
    return FALSE;

  return kp_hits_refresh_status (ctx, kp_rows_get_text (rows, 0, 2), error);
}

gboolean
kp_hits_run_jobs (KpCtx    *ctx,
                  guint    *n_changes,
                  GError  **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) abandoned = NULL;
  g_autoptr(KpRows) expired = NULL;
  g_autoptr(KpRows) due = NULL;
  g_autoptr(KpRows) disposable = NULL;
  guint changes = 0;

  /* Accepted assignments past their deadline are abandoned; their slot
   * opens again while the HIT lives. */
  abandoned = kp_db_query (ctx->db, &local_error,
                           "SELECT a.id, a.hit_id, h.hit_type_id FROM assignments a "
                           "JOIN hits h ON h.id = a.hit_id "
                           "WHERE a.status = 'Accepted' AND a.deadline < $1 LIMIT $2",
                           "ii", ctx->now, (gint64)JOB_BATCH);
  if (abandoned == NULL)
    return fail_db (ctx, error, local_error);

  for (guint r = 0; r < kp_rows_get_n_rows (abandoned); r++)
    {
      const char *id = kp_rows_get_text (abandoned, r, 0);
      const char *hit_id = kp_rows_get_text (abandoned, r, 1);

      if (!kp_db_exec (ctx->db, NULL, &local_error,
                       "UPDATE assignments SET status = 'Abandoned' WHERE id = $1",
                       "s", id))
        return fail_db (ctx, error, local_error);
      if (!notify (ctx, "AssignmentAbandoned", kp_rows_get_text (abandoned, r, 2),
                   hit_id, id, error))
        return FALSE;
      if (!kp_hits_refresh_status (ctx, hit_id, error))
        return FALSE;
      changes++;
    }

  /* HITs at the end of their lifetime. */
  expired = kp_db_query (ctx->db, &local_error,
                         "SELECT id, hit_type_id FROM hits "
                         "WHERE status IN ('Assignable', 'Unassignable') AND expiration <= $1 "
                         "AND expired_event = 0 LIMIT $2",
                         "ii", ctx->now, (gint64)JOB_BATCH);
  if (expired == NULL)
    return fail_db (ctx, error, local_error);

  for (guint r = 0; r < kp_rows_get_n_rows (expired); r++)
    {
      if (!expire_hit (ctx, kp_rows_get_text (expired, r, 0),
                       kp_rows_get_text (expired, r, 1), error))
        return FALSE;
      /* A HIT policy runs when the HIT becomes Reviewable, by expiry too
       * (not when the requester expires it: that is their decision). */
      if (!kp_review_policy_hit_reviewable (ctx, kp_rows_get_text (expired, r, 0), error))
        return FALSE;
      changes++;
    }

  /* Submitted work the requester did not decide on in time. */
  due = kp_db_query (ctx->db, &local_error,
                     "SELECT id FROM assignments "
                     "WHERE status = 'Submitted' AND auto_approval_time <= $1 LIMIT $2",
                     "ii", ctx->now, (gint64)JOB_BATCH);
  if (due == NULL)
    return fail_db (ctx, error, local_error);

  for (guint r = 0; r < kp_rows_get_n_rows (due); r++)
    {
      if (!kp_hits_approve (ctx, kp_rows_get_text (due, r, 0), NULL, FALSE, error))
        return FALSE;
      changes++;
    }

  /* As on MTurk, finished HITs are disposed of 120 days after their
   * creation. */
  disposable = kp_db_query (ctx->db, &local_error,
                            "SELECT h.id, h.hit_type_id FROM hits h "
                            "WHERE h.status IN ('Reviewable', 'Reviewing') AND h.expiration <= $1 "
                            "AND h.created <= $1 - $3 AND NOT EXISTS (SELECT 1 FROM assignments a "
                            "  WHERE a.hit_id = h.id AND a.status IN ('Accepted', 'Submitted')) "
                            "LIMIT $2",
                            "iii", ctx->now, (gint64)JOB_BATCH, (gint64)AUTO_DISPOSAL_AGE);
  if (disposable == NULL)
    return fail_db (ctx, error, local_error);

  for (guint r = 0; r < kp_rows_get_n_rows (disposable); r++)
    {
      if (!dispose_hit (ctx, kp_rows_get_text (disposable, r, 0),
                        kp_rows_get_text (disposable, r, 1), error))
        return FALSE;
      changes++;
    }

  if (n_changes != NULL)
    *n_changes = changes;
  return TRUE;
}

/* Parameters */

typedef struct
{
  const char *title;
  const char *description;
  const char *keywords;
  gint64      reward_cents;
  gint64      duration;
  gint64      delay;
  char       *requirements;   /* normalised JSON */
} TypeParams;

static void
type_params_clear (TypeParams *params)
{
  g_clear_pointer (&params->requirements, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (TypeParams, type_params_clear)

static gboolean
parse_type_params (KpCtx       *ctx,
                   JsonObject  *request,
                   TypeParams  *params,
                   GError     **error)
{
  JsonArray *requirements = NULL;

  params->delay = AUTO_APPROVAL_DEFAULT;

  if (!kp_param_string (ctx, request, "Title", TRUE, 1, TITLE_MAX, &params->title, error) ||
      !kp_param_string (ctx, request, "Description", TRUE, 1, DESCRIPTION_MAX,
                        &params->description, error) ||
      !kp_param_string (ctx, request, "Keywords", FALSE, 0, KEYWORDS_MAX,
                        &params->keywords, error) ||
      !kp_param_money (ctx, request, "Reward", TRUE, &params->reward_cents, error) ||
      !kp_param_int (ctx, request, "AssignmentDurationInSeconds", TRUE,
                     DURATION_MIN, DURATION_MAX, &params->duration, error) ||
      !kp_param_int (ctx, request, "AutoApprovalDelayInSeconds", FALSE,
                     0, AUTO_APPROVAL_MAX, &params->delay, error) ||
      !kp_param_array (ctx, request, "QualificationRequirements", FALSE, 0, 0,
                       &requirements, error))
    return FALSE;

  return kp_quals_validate_requirements (ctx, requirements, &params->requirements, error);
}

static void
append_field (GString    *fingerprint,
              const char *value)
{
  if (value == NULL)
    g_string_append (fingerprint, "-;");
  else
    g_string_append_printf (fingerprint, "%" "zu" ":%s;", strlen (value), value);
}

/* The id of the requester's HIT type with exactly these properties, made
 * if there is none yet. */
static gboolean
ensure_hit_type (KpCtx             *ctx,
                 const TypeParams  *params,
                 char             **hit_type_id,
                 GError           **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GString) text = g_string_new ("kempelen-hit-type-1;");
  g_autoptr(KpRows) rows = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *id = kp_api_new_id ();

  append_field (text, params->title);
  append_field (text, params->description);
  append_field (text, params->keywords);
  g_string_append_printf (text, "%" PRId64 ";%" PRId64 ";%" PRId64 ";",
                          params->reward_cents, params->duration, params->delay);
  append_field (text, params->requirements);
  fingerprint = kp_api_sha256_hex (text->str);

  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "INSERT INTO hit_types (id, requester_id, title, description, keywords, "
                   "reward_cents, assignment_duration, auto_approval_delay, "
                   "qualification_requirements, fingerprint, created) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
                   "ON CONFLICT (requester_id, fingerprint) DO NOTHING",
                   "sssssiiissi", id, ctx->requester_id, params->title, params->description,
                   params->keywords, params->reward_cents, params->duration, params->delay,
                   params->requirements, fingerprint, ctx->now))
    return fail_db (ctx, error, local_error);

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT id FROM hit_types WHERE requester_id = $1 AND fingerprint = $2",
                      "ss", ctx->requester_id, fingerprint);
  if (rows == NULL)
    return fail_db (ctx, error, local_error);
  if (kp_rows_get_n_rows (rows) == 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_SERVICE, "ServiceFault",
                        _("The server could not complete the request; nothing was changed"));

  *hit_type_id = g_strdup (kp_rows_get_text (rows, 0, 0));
  return TRUE;
}

typedef struct
{
  gint64          lifetime;
  gint64          max_assignments;
  const char     *annotation;
  const char     *token;
  const char     *question;
  const char     *question_kind;
  char           *assignment_policy;   /* JSON */
  char           *hit_policy;          /* JSON */
} HitParams;

static void
hit_params_clear (HitParams *params)
{
  g_clear_pointer (&params->assignment_policy, g_free);
  g_clear_pointer (&params->hit_policy, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (HitParams, hit_params_clear)

static gboolean
check_string_list (KpCtx       *ctx,
                   JsonObject  *object,
                   const char  *where,
                   GError     **error)
{
  JsonArray *values = NULL;

  if (!kp_param_array (ctx, object, "Values", FALSE, 0, 0, &values, error))
    return FALSE;

  for (guint i = 0; values != NULL && i < json_array_get_length (values); i++)
    {
      JsonNode *node = json_array_get_element (values, i);

      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
        return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                            _("%s.Values[%u] must be a string"), where, i);
    }

  return TRUE;
}

/* A ReviewPolicy: checked for shape, name and parameters
 * (kp_review_policy_validate()), kept verbatim; kp-review-policy.c
 * evaluates it at each submission. */
static gboolean
parse_policy (KpCtx       *ctx,
              JsonObject  *request,
              const char  *name,
              const char  *policy_name,
              char       **json,
              GError     **error)
{
  JsonObject *policy = NULL;
  JsonArray *parameters = NULL;
  const char *value = NULL;
  g_autoptr(JsonNode) node = NULL;

  if (!kp_param_object (ctx, request, name, FALSE, &policy, error))
    return FALSE;
  if (policy == NULL)
    return TRUE;

  if (!kp_param_check_members (ctx, policy, name, "PolicyName Parameters", error) ||
      !kp_param_string (ctx, policy, "PolicyName", TRUE, 1, 0, &value, error) ||
      !kp_param_array (ctx, policy, "Parameters", FALSE, 0, 0, &parameters, error))
    return FALSE;

  if (!g_str_equal (value, policy_name))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("%s.PolicyName must be “%s”, not “%s”"), name, policy_name, value);

  for (guint i = 0; parameters != NULL && i < json_array_get_length (parameters); i++)
    {
      JsonNode *element = json_array_get_element (parameters, i);
      g_autofree char *where = g_strdup_printf ("%s.Parameters[%u]", name, i);
      JsonObject *parameter;
      JsonArray *entries = NULL;
      const char *key = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                            _("%s must be an object"), where);
      parameter = json_node_get_object (element);

      if (!kp_param_check_members (ctx, parameter, where, "Key Values MapEntries", error) ||
          !kp_param_string (ctx, parameter, "Key", TRUE, 1, 0, &key, error) ||
          !check_string_list (ctx, parameter, where, error) ||
          !kp_param_array (ctx, parameter, "MapEntries", FALSE, 0, 0, &entries, error))
        return FALSE;

      for (guint j = 0; entries != NULL && j < json_array_get_length (entries); j++)
        {
          JsonNode *entry = json_array_get_element (entries, j);
          g_autofree char *entry_where = g_strdup_printf ("%s.MapEntries[%u]", where, j);

          if (!JSON_NODE_HOLDS_OBJECT (entry))
            return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                                _("%s must be an object"), entry_where);
          if (!kp_param_check_members (ctx, json_node_get_object (entry), entry_where,
                                       "Key Values", error) ||
              !kp_param_string (ctx, json_node_get_object (entry), "Key", TRUE, 1, 0,
                                &key, error) ||
              !check_string_list (ctx, json_node_get_object (entry), entry_where, error))
            return FALSE;
        }
    }

  if (!kp_review_policy_validate (ctx, name, policy_name, policy, error))
    return FALSE;

  node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, policy);
  *json = json_to_string (node, FALSE);
  return TRUE;
}

static gboolean
parse_hit_params (KpCtx       *ctx,
                  JsonObject  *request,
                  HitParams   *params,
                  GError     **error)
{
  const char *layout_id = NULL;
  JsonArray *layout_parameters = NULL;
  g_autoptr(KpQuestionInfo) info = NULL;
  g_autoptr(GError) local_error = NULL;

  params->max_assignments = 1;

  if (!kp_param_int (ctx, request, "LifetimeInSeconds", TRUE, DURATION_MIN, DURATION_MAX,
                     &params->lifetime, error) ||
      !kp_param_int (ctx, request, "MaxAssignments", FALSE, 1, MAX_ASSIGNMENTS_MAX,
                     &params->max_assignments, error) ||
      !kp_param_string (ctx, request, "RequesterAnnotation", FALSE, 0, ANNOTATION_MAX,
                        &params->annotation, error) ||
      !kp_param_string (ctx, request, "UniqueRequestToken", FALSE, 1, 64,
                        &params->token, error) ||
      !kp_param_string (ctx, request, "Question", FALSE, 1, 0, &params->question, error) ||
      !kp_param_entity_id (ctx, request, "HITLayoutId", FALSE, &layout_id, error) ||
      !kp_param_array (ctx, request, "HITLayoutParameters", FALSE, 0, 0,
                       &layout_parameters, error) ||
      !parse_policy (ctx, request, "AssignmentReviewPolicy", "ScoreMyKnownAnswers/2011-09-01",
                     &params->assignment_policy, error) ||
      !parse_policy (ctx, request, "HITReviewPolicy", "SimplePlurality/2011-09-01",
                     &params->hit_policy, error))
    return FALSE;

  if (params->question != NULL && layout_id != NULL)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("Give either Question or HITLayoutId, not both"));
  /* HIT layouts are made on MTurk's requester website; there are none
   * here, so every layout id is unknown. */
  if (layout_id != NULL)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "HITLayoutDoesNotExist",
                        _("HIT layout %s does not exist; this server has no HIT layouts, "
                          "give the Question instead"), layout_id);
  if (layout_parameters != NULL)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("HITLayoutParameters can only be given with a HITLayoutId"));
  if (params->question == NULL)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterMissing",
                        _("Either Question or HITLayoutId must be given"));

  info = kp_question_parse (params->question, -1, &local_error);
  if (info == NULL)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "XMLParseError",
                        "%s", local_error->message);

  switch (info->kind)
    {
    case KP_QUESTION_FORM:
      params->question_kind = "QuestionForm";
      break;
    case KP_QUESTION_HTML:
      params->question_kind = "HTMLQuestion";
      break;
    case KP_QUESTION_EXTERNAL:
    default:
      params->question_kind = "ExternalQuestion";
      break;
    }

  return TRUE;
}

/* What max_assignments of a HIT will cost at most, in cents. */
static gint64
hit_cost (gint64 reward_cents,
          gint64 max_assignments,
          gint64 n_assignments)
{
  return n_assignments * (reward_cents + kp_ledger_fee_cents (reward_cents, max_assignments));
}

static gboolean
check_funds (KpCtx       *ctx,
             const char  *requester_id,
             gint64       needed,
             GError     **error)
{
  gint64 available = 0;
  gint64 on_hold = 0;
  g_autofree char *needed_text = NULL;
  g_autofree char *available_text = NULL;

  if (!kp_ledger_get_balance (ctx, requester_id, &available, &on_hold, error))
    return FALSE;

  if (available >= needed)
    return TRUE;

  needed_text = kp_money_to_string (needed);
  available_text = kp_money_to_string (available);
  return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "InsufficientFunds",
                      _("You do not have enough funds: this needs $%s (rewards and fees) "
                        "and your available balance is $%s."), needed_text, available_text);
}

/* The shared end of CreateHIT and CreateHITWithHITType. */
static gboolean
create_hit (KpCtx        *ctx,
            const char   *hit_type_id,
            gint64        reward_cents,
            HitParams    *params,
            JsonBuilder  *response,
            GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *id = kp_api_new_id ();

  if (params->token != NULL)
    {
      g_autoptr(KpRows) rows = NULL;

      rows = kp_db_query (ctx->db, &local_error,
                          "SELECT id, token_time FROM hits "
                          "WHERE requester_id = $1 AND unique_request_token = $2",
                          "ss", ctx->requester_id, params->token);
      if (rows == NULL)
        return fail_db (ctx, error, local_error);

      if (kp_rows_get_n_rows (rows) > 0)
        {
          if (ctx->now - kp_rows_get_int (rows, 0, 1) < TOKEN_LIFETIME)
            return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "HitAlreadyExists",
                                _("There is already a HIT with this UniqueRequestToken: %s"),
                                kp_rows_get_text (rows, 0, 0));

          /* The token has expired: it may name a new HIT. */
          if (!kp_db_exec (ctx->db, NULL, &local_error,
                           "UPDATE hits SET unique_request_token = NULL, token_time = NULL "
                           "WHERE id = $1",
                           "s", kp_rows_get_text (rows, 0, 0)))
            return fail_db (ctx, error, local_error);
        }
    }

  if (!check_funds (ctx, ctx->requester_id, hit_cost (reward_cents, params->max_assignments,
                                   params->max_assignments), error))
    return FALSE;

  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "INSERT INTO hits (id, hit_type_id, requester_id, question, question_kind, "
                   "requester_annotation, max_assignments, status, review_status, created, "
                   "expiration, unique_request_token, token_time, assignment_review_policy, "
                   "hit_review_policy) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7, 'Assignable', 'NotReviewed', $8, $9, "
                   "$10, CASE WHEN $10 IS NULL THEN NULL ELSE $11 END, $12, $13)",
                   "ssssssiiisiss", id, hit_type_id, ctx->requester_id, params->question,
                   params->question_kind, params->annotation, params->max_assignments,
                   ctx->now, ctx->now + params->lifetime, params->token,
                   ctx->now,
                   params->assignment_policy, params->hit_policy))
    return fail_db (ctx, error, local_error);
  if (!kp_ledger_refresh_hold (ctx, id, error))
    return FALSE;

  if (!notify (ctx, "HITCreated", hit_type_id, id, NULL, error))
    return FALSE;

  return _kp_hits_add_hit_member (ctx, response, "HIT", id, ctx->requester_id, error);
}

/* Operations */

static gboolean
op_create_hit_type (KpCtx        *ctx,
                    JsonObject   *request,
                    JsonBuilder  *response,
                    GError      **error)
{
  g_auto(TypeParams) params = { 0, };
  g_autofree char *hit_type_id = NULL;

  if (!parse_type_params (ctx, request, &params, error) ||
      !ensure_hit_type (ctx, &params, &hit_type_id, error))
    return FALSE;

  kp_json_add_string (response, "HITTypeId", hit_type_id);
  return TRUE;
}

static gboolean
op_create_hit (KpCtx        *ctx,
               JsonObject   *request,
               JsonBuilder  *response,
               GError      **error)
{
  g_auto(TypeParams) type_params = { 0, };
  g_auto(HitParams) hit_params = { 0, };
  g_autofree char *hit_type_id = NULL;

  if (!parse_type_params (ctx, request, &type_params, error) ||
      !parse_hit_params (ctx, request, &hit_params, error) ||
      !ensure_hit_type (ctx, &type_params, &hit_type_id, error))
    return FALSE;

  return create_hit (ctx, hit_type_id, type_params.reward_cents, &hit_params, response, error);
}

/* The requester's HIT type: its reward, or HITTypeDoesNotExist. */
static gboolean
lookup_hit_type (KpCtx       *ctx,
                 const char  *hit_type_id,
                 gint64      *reward_cents,
                 GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  gboolean found = FALSE;

  if (!kp_db_query_int (ctx->db, reward_cents, &found, &local_error,
                        "SELECT reward_cents FROM hit_types WHERE id = $1 AND requester_id = $2",
                        "ss", hit_type_id, ctx->requester_id))
    return fail_db (ctx, error, local_error);
  if (!found)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "HITTypeDoesNotExist",
                        _("HIT type %s does not exist."), hit_type_id);
  return TRUE;
}

static gboolean
op_create_hit_with_hit_type (KpCtx        *ctx,
                             JsonObject   *request,
                             JsonBuilder  *response,
                             GError      **error)
{
  g_auto(HitParams) hit_params = { 0, };
  const char *hit_type_id = NULL;
  gint64 reward_cents = 0;

  if (!kp_param_entity_id (ctx, request, "HITTypeId", TRUE, &hit_type_id, error) ||
      !parse_hit_params (ctx, request, &hit_params, error) ||
      !lookup_hit_type (ctx, hit_type_id, &reward_cents, error))
    return FALSE;

  return create_hit (ctx, hit_type_id, reward_cents, &hit_params, response, error);
}

static gboolean
op_get_hit (KpCtx        *ctx,
            JsonObject   *request,
            JsonBuilder  *response,
            GError      **error)
{
  const char *hit_id = NULL;

  if (!kp_param_entity_id (ctx, request, "HITId", TRUE, &hit_id, error))
    return FALSE;

  return _kp_hits_add_hit_member (ctx, response, "HIT", hit_id, ctx->requester_id, error);
}

/* Keyset paging over (created, id): the cursor is "created|id". */
static void
parse_cursor (const KpPage  *page,
              gint64        *created,
              const char   **id)
{
  const char *bar;

  *created = -1;
  *id = "";
  if (page->cursor == NULL)
    return;

  *created = g_ascii_strtoll (page->cursor, NULL, 10);
  bar = strchr (page->cursor, '|');
  *id = bar != NULL ? bar + 1 : "";
}

static void
add_hit_list (KpCtx       *ctx,
              JsonBuilder *response,
              const char  *operation,
              KpPage      *page,
              KpRows      *rows)
{
  guint n = MIN (kp_rows_get_n_rows (rows), (guint)page->max_results);
  g_autofree char *next = NULL;

  json_builder_set_member_name (response, "HITs");
  json_builder_begin_array (response);
  for (guint r = 0; r < n; r++)
    add_hit_object (ctx, response, rows, r);
  json_builder_end_array (response);

  if (kp_rows_get_n_rows (rows) > n)
    next = g_strdup_printf ("%" PRId64 "|%s",
                            kp_rows_get_int (rows, n - 1, COL_CREATED),
                            kp_rows_get_text (rows, n - 1, COL_ID));

  kp_page_finish (ctx, response, operation, n, next);
}

#define KEYSET \
  "AND (h.created > $2 OR (h.created = $2 AND h.id > $3)) " \
  "ORDER BY h.created, h.id LIMIT $4"

static gboolean
op_list_hits (KpCtx        *ctx,
              JsonObject   *request,
              JsonBuilder  *response,
              GError      **error)
{
  g_auto(KpHitsPage) page = { 0, };
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  gint64 created;
  const char *id;

  if (!kp_page_parse (ctx, request, "ListHITs", &page, error))
    return FALSE;
  parse_cursor (&page, &created, &id);

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT " HIT_COLUMNS
                      "WHERE h.requester_id = $1 AND h.status <> 'Disposed' " KEYSET,
                      "sisi", ctx->requester_id, created, id, page.max_results + 1);
  if (rows == NULL)
    return fail_db (ctx, error, local_error);

  add_hit_list (ctx, response, "ListHITs", &page, rows);
  return TRUE;
}

static gboolean
op_list_reviewable_hits (KpCtx        *ctx,
                         JsonObject   *request,
                         JsonBuilder  *response,
                         GError      **error)
{
  static const char * const statuses[] = { "Reviewable", "Reviewing", NULL };
  g_auto(KpHitsPage) page = { 0, };
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  const char *status = "Reviewable";
  const char *hit_type_id = NULL;
  gint64 created;
  const char *id;

  if (!kp_param_entity_id (ctx, request, "HITTypeId", FALSE, &hit_type_id, error) ||
      !kp_param_enum (ctx, request, "Status", FALSE, statuses, &status, error) ||
      !kp_page_parse (ctx, request, "ListReviewableHITs", &page, error))
    return FALSE;
  parse_cursor (&page, &created, &id);

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT " HIT_COLUMNS
                      "WHERE h.requester_id = $1 AND h.status = $5 "
                      "AND (CAST($6 AS TEXT) IS NULL OR h.hit_type_id = $6) " KEYSET,
                      "sisiss", ctx->requester_id, created, id, page.max_results + 1,
                      status, hit_type_id);
  if (rows == NULL)
    return fail_db (ctx, error, local_error);

  add_hit_list (ctx, response, "ListReviewableHITs", &page, rows);
  return TRUE;
}

static gboolean
is_system_qualification (const char *id)
{
  static const char * const ids[] = {
    KP_QUAL_NUMBER_HITS_APPROVED, KP_QUAL_PERCENT_ASSIGNMENTS_APPROVED, KP_QUAL_LOCALE,
    KP_QUAL_ADULT, KP_QUAL_MASTERS, KP_QUAL_MASTERS_SANDBOX, NULL,
  };

  return g_strv_contains (ids, id);
}

static gboolean
op_list_hits_for_qualification_type (KpCtx        *ctx,
                                     JsonObject   *request,
                                     JsonBuilder  *response,
                                     GError      **error)
{
  g_auto(KpHitsPage) page = { 0, };
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  g_autofree char *pattern = NULL;
  const char *qualification_type_id = NULL;
  gboolean found = FALSE;
  gint64 value = 0;
  gint64 created;
  const char *id;

  if (!kp_param_entity_id (ctx, request, "QualificationTypeId", TRUE,
                           &qualification_type_id, error) ||
      !kp_page_parse (ctx, request, "ListHITsForQualificationType", &page, error))
    return FALSE;
  parse_cursor (&page, &created, &id);

  if (!is_system_qualification (qualification_type_id))
    {
      if (!kp_db_query_int (ctx->db, &value, &found, &local_error,
                            "SELECT 1 FROM qualification_types WHERE id = $1 "
                            "AND (requester_id = $2 OR requester_id IS NULL) AND deleted = 0",
                            "ss", qualification_type_id, ctx->requester_id))
        return fail_db (ctx, error, local_error);
      if (!found)
        return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "QualificationTypeDoesNotExist",
                            _("Qualification type %s does not exist."), qualification_type_id);
    }

  /* Ids are upper-case alphanumerics, so the quoted id cannot match
   * anything but a QualificationTypeId value in the stored JSON. */
  pattern = g_strdup_printf ("%%\"%s\"%%", qualification_type_id);
  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT " HIT_COLUMNS
                      "WHERE h.requester_id = $1 AND h.status <> 'Disposed' "
                      "AND t.qualification_requirements LIKE $5 " KEYSET,
                      "sisis", ctx->requester_id, created, id, page.max_results + 1, pattern);
  if (rows == NULL)
    return fail_db (ctx, error, local_error);

  add_hit_list (ctx, response, "ListHITsForQualificationType", &page, rows);
  return TRUE;
}

/* The requester's live (not Disposed) HIT: its status, type, expiration,
 * max assignments, reward. */
static KpRows *
query_own_hit (KpCtx       *ctx,
               const char  *hit_id,
               GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT h.status, h.hit_type_id, h.expiration, h.max_assignments, "
                      "t.reward_cents, h.expired_event "
                      "FROM hits h JOIN hit_types t ON t.id = h.hit_type_id "
                      "WHERE h.id = $1 AND h.requester_id = $2 AND h.status <> 'Disposed'",
                      "ss", hit_id, ctx->requester_id);
  if (rows == NULL)
    {
      fail_db (ctx, error, local_error);
      return NULL;
    }
  if (kp_rows_get_n_rows (rows) == 0)
    {
      _kp_hits_fail_no_hit (ctx, hit_id, error);
      return NULL;
    }

  return g_steal_pointer (&rows);
}

static gboolean
op_update_expiration_for_hit (KpCtx        *ctx,
                              JsonObject   *request,
                              JsonBuilder  *response,
                              GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  const char *hit_id = NULL;
  gint64 expire_at = 0;
  const char *hit_type_id;
  gboolean was_expired;

  if (!kp_param_entity_id (ctx, request, "HITId", TRUE, &hit_id, error) ||
      !kp_param_timestamp (ctx, request, "ExpireAt", TRUE, &expire_at, error))
    return FALSE;

  rows = query_own_hit (ctx, hit_id, error);
  if (rows == NULL)
    return FALSE;
  hit_type_id = kp_rows_get_text (rows, 0, 1);
  was_expired = kp_rows_get_int (rows, 0, 2) <= ctx->now;

  if (expire_at <= ctx->now)
    {
      /* A time in the past expires the HIT now. */
      if (was_expired)
        return kp_hits_refresh_status (ctx, hit_id, error);

      if (!kp_db_exec (ctx->db, NULL, &local_error,
                       "UPDATE hits SET expiration = $2 WHERE id = $1",
                       "si", hit_id, ctx->now))
        return fail_db (ctx, error, local_error);

      return expire_hit (ctx, hit_id, hit_type_id, error);
    }

  if (expire_at > ctx->now + DURATION_MAX)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("ExpireAt must be at most one year from now"));

  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "UPDATE hits SET expiration = $2, expired_event = 0 WHERE id = $1",
                   "si", hit_id, expire_at))
    return fail_db (ctx, error, local_error);

  if (was_expired && !notify (ctx, "HITExtended", hit_type_id, hit_id, NULL, error))
    return FALSE;

  return kp_hits_refresh_status (ctx, hit_id, error);
}

static gboolean
op_update_hit_review_status (KpCtx        *ctx,
                             JsonObject   *request,
                             JsonBuilder  *response,
                             GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  const char *hit_id = NULL;
  gboolean revert = FALSE;
  const char *status;

  if (!kp_param_entity_id (ctx, request, "HITId", TRUE, &hit_id, error) ||
      !kp_param_bool (ctx, request, "Revert", FALSE, &revert, error))
    return FALSE;

  rows = query_own_hit (ctx, hit_id, error);
  if (rows == NULL)
    return FALSE;
  status = kp_rows_get_text (rows, 0, 0);

  if (!revert && !g_str_equal (status, "Reviewable"))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "InvalidHITState",
                        _("HIT %s is %s; only a Reviewable HIT can be set to Reviewing."),
                        hit_id, status);
  if (revert && !g_str_equal (status, "Reviewing"))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "InvalidHITState",
                        _("HIT %s is %s; only a Reviewing HIT can be reverted to Reviewable."),
                        hit_id, status);

  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "UPDATE hits SET status = $2 WHERE id = $1",
                   "ss", hit_id, revert ? "Reviewable" : "Reviewing"))
    return fail_db (ctx, error, local_error);

  return TRUE;
}

static gboolean
op_update_hit_type_of_hit (KpCtx        *ctx,
                           JsonObject   *request,
                           JsonBuilder  *response,
                           GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  const char *hit_id = NULL;
  const char *hit_type_id = NULL;
  gint64 reward_cents = 0;
  gint64 max, old_cost, new_cost;

  if (!kp_param_entity_id (ctx, request, "HITId", TRUE, &hit_id, error) ||
      !kp_param_entity_id (ctx, request, "HITTypeId", TRUE, &hit_type_id, error))
    return FALSE;

  rows = query_own_hit (ctx, hit_id, error);
  if (rows == NULL)
    return FALSE;
  if (!lookup_hit_type (ctx, hit_type_id, &reward_cents, error))
    return FALSE;

  max = kp_rows_get_int (rows, 0, 3);
  old_cost = hit_cost (kp_rows_get_int (rows, 0, 4), max, 1);
  new_cost = hit_cost (reward_cents, max, 1);
  if (new_cost > old_cost)
    {
      gint64 outstanding = 0;

      /* What is on hold for the HIT (see kp_ledger_get_balance()) grows
       * with the reward: the difference must be available. */
      if (!kp_db_query_int (ctx->db, &outstanding, NULL, &local_error,
                            "SELECT (SELECT COUNT(*) FROM assignments a WHERE a.hit_id = h.id "
                            "          AND a.status IN ('Accepted', 'Submitted')) "
                            "  + CASE WHEN h.expiration > $2 THEN h.max_assignments - "
                            "      (SELECT COUNT(*) FROM assignments a WHERE a.hit_id = h.id "
                            "         AND a.status NOT IN ('Returned', 'Abandoned')) "
                            "    ELSE 0 END "
                            "FROM hits h WHERE h.id = $1",
                            "si", hit_id, ctx->now))
        return fail_db (ctx, error, local_error);

      if (!check_funds (ctx, ctx->requester_id, outstanding * (new_cost - old_cost), error))
        return FALSE;
    }

  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "UPDATE hits SET hit_type_id = $2 WHERE id = $1",
                   "ss", hit_id, hit_type_id))
    return fail_db (ctx, error, local_error);

  return kp_ledger_refresh_hold (ctx, hit_id, error);
}

static gboolean
op_delete_hit (KpCtx        *ctx,
               JsonObject   *request,
               JsonBuilder  *response,
               GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  g_autoptr(KpRows) refreshed = NULL;
  const char *hit_id = NULL;
  gint64 undecided = 0;
  const char *status;

  if (!kp_param_entity_id (ctx, request, "HITId", TRUE, &hit_id, error))
    return FALSE;

  rows = query_own_hit (ctx, hit_id, error);
  if (rows == NULL)
    return FALSE;

  /* An expired HIT whose expiry the job has not seen yet counts as
   * expired. */
  if (!kp_hits_refresh_status (ctx, hit_id, error))
    return FALSE;
  refreshed = query_own_hit (ctx, hit_id, error);
  if (refreshed == NULL)
    return FALSE;
  status = kp_rows_get_text (refreshed, 0, 0);

  if (!kp_db_query_int (ctx->db, &undecided, NULL, &local_error,
                        "SELECT COUNT(*) FROM assignments WHERE hit_id = $1 "
                        "AND status IN ('Accepted', 'Submitted')",
                        "s", hit_id))
    return fail_db (ctx, error, local_error);

  if (!(g_str_equal (status, "Reviewable") || g_str_equal (status, "Reviewing")))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "InvalidHITState",
                        _("HIT %s is %s; it can be deleted once it is Reviewable (expired, "
                          "or every assignment submitted)."), hit_id, status);
  if (undecided > 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "InvalidHITState",
                        _("HIT %s still has %" PRId64 " assignments that are not "
                          "approved or rejected."), hit_id, undecided);

  return dispose_hit (ctx, hit_id, kp_rows_get_text (rows, 0, 1), error);
}

static gboolean
op_create_additional_assignments_for_hit (KpCtx        *ctx,
                                          JsonObject   *request,
                                          JsonBuilder  *response,
                                          GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  const char *hit_id = NULL;
  const char *token = NULL;
  gint64 n_more = 0;
  gint64 max, new_max, reward_cents;

  if (!kp_param_entity_id (ctx, request, "HITId", TRUE, &hit_id, error) ||
      !kp_param_int (ctx, request, "NumberOfAdditionalAssignments", TRUE,
                     1, MAX_ASSIGNMENTS_MAX, &n_more, error) ||
      !kp_param_string (ctx, request, "UniqueRequestToken", FALSE, 1, 64, &token, error))
    return FALSE;

  rows = query_own_hit (ctx, hit_id, error);
  if (rows == NULL)
    return FALSE;
  max = kp_rows_get_int (rows, 0, 3);
  reward_cents = kp_rows_get_int (rows, 0, 4);
  new_max = max + n_more;

  if (token != NULL)
    {
      g_autoptr(KpRows) previous = NULL;

      previous = kp_db_query (ctx->db, &local_error,
                              "SELECT hit_id, created FROM hit_extensions "
                              "WHERE requester_id = $1 AND unique_request_token = $2",
                              "ss", ctx->requester_id, token);
      if (previous == NULL)
        return fail_db (ctx, error, local_error);

      if (kp_rows_get_n_rows (previous) > 0)
        {
          if (ctx->now - kp_rows_get_int (previous, 0, 1) < TOKEN_LIFETIME)
            return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "HitAlreadyExists",
                                _("HIT %s was already extended with this UniqueRequestToken."),
                                kp_rows_get_text (previous, 0, 0));
          if (!kp_db_exec (ctx->db, NULL, &local_error,
                           "DELETE FROM hit_extensions "
                           "WHERE requester_id = $1 AND unique_request_token = $2",
                           "ss", ctx->requester_id, token))
            return fail_db (ctx, error, local_error);
        }
    }

  /* The fee tier is fixed when the HIT is made: one made with fewer than
   * 10 assignments cannot grow to 10 or more. */
  if (max < 10 && new_max >= 10)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "InvalidMaximumAssignmentsIncrease",
                        _("HIT %s has %" PRId64 " assignments; a HIT created with "
                          "fewer than 10 assignments cannot be extended to 10 or more."),
                        hit_id, max);
  if (new_max > MAX_ASSIGNMENTS_MAX)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("A HIT can have at most %d assignments."), MAX_ASSIGNMENTS_MAX);

  /* The new slots go on hold: the balance must cover them. */
  if (!check_funds (ctx, ctx->requester_id, hit_cost (reward_cents, new_max, n_more), error))
    return FALSE;

  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "UPDATE hits SET max_assignments = $2 WHERE id = $1",
                   "si", hit_id, new_max))
    return fail_db (ctx, error, local_error);

  if (token != NULL &&
      !kp_db_exec (ctx->db, NULL, &local_error,
                   "INSERT INTO hit_extensions (requester_id, unique_request_token, hit_id, created) "
                   "VALUES ($1, $2, $3, $4)",
                   "sssi", ctx->requester_id, token, hit_id, ctx->now))
    return fail_db (ctx, error, local_error);

  return kp_hits_refresh_status (ctx, hit_id, error);
}

static void
add_review_report (JsonBuilder *response,
                   const char  *name,
                   KpRows      *rows,
                   guint        n,
                   const char  *level)
{
  json_builder_set_member_name (response, name);
  json_builder_begin_object (response);

  for (guint pass = 0; pass < 2; pass++)
    {
      const char *kind = pass == 0 ? "result" : "action";

      json_builder_set_member_name (response, pass == 0 ? "ReviewResults" : "ReviewActions");
      json_builder_begin_array (response);
      for (guint r = 0; r < n; r++)
        {
          g_autoptr(JsonNode) body = NULL;

          if (!g_str_equal (kp_rows_get_text (rows, r, 2), level) ||
              !g_str_equal (kp_rows_get_text (rows, r, 3), kind))
            continue;

          body = json_from_string (kp_rows_get_text (rows, r, 4), NULL);
          if (body != NULL && JSON_NODE_HOLDS_OBJECT (body))
            json_builder_add_value (response, g_steal_pointer (&body));
        }
      json_builder_end_array (response);
    }

  json_builder_end_object (response);
}

static gboolean
op_list_review_policy_results_for_hit (KpCtx        *ctx,
                                       JsonObject   *request,
                                       JsonBuilder  *response,
                                       GError      **error)
{
  static const char * const levels_allowed[] = { "Assignment", "HIT", NULL };
  g_auto(KpHitsPage) page = { 0, };
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) hit = NULL;
  g_autoptr(KpRows) rows = NULL;
  g_autofree char *next = NULL;
  const char *hit_id = NULL;
  JsonArray *levels = NULL;
  gboolean want_assignment = TRUE;
  gboolean want_hit = TRUE;
  gboolean retrieve_actions = FALSE;
  gboolean retrieve_results = FALSE;
  gint64 created;
  const char *id;
  guint n;

  if (!kp_param_entity_id (ctx, request, "HITId", TRUE, &hit_id, error) ||
      !kp_param_array (ctx, request, "PolicyLevels", FALSE, 0, 2, &levels, error) ||
      !kp_param_bool (ctx, request, "RetrieveActions", FALSE, &retrieve_actions, error) ||
      !kp_param_bool (ctx, request, "RetrieveResults", FALSE, &retrieve_results, error) ||
      !kp_page_parse (ctx, request, "ListReviewPolicyResultsForHIT", &page, error))
    return FALSE;

  if (levels != NULL && json_array_get_length (levels) > 0)
    {
      want_assignment = want_hit = FALSE;
      for (guint i = 0; i < json_array_get_length (levels); i++)
        {
          JsonNode *node = json_array_get_element (levels, i);
          const char *level = NULL;

          if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
            level = json_node_get_string (node);
          if (level == NULL || !g_strv_contains (levels_allowed, level))
            return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                                _("1 validation error detected: Value at “PolicyLevels[%u]” "
                                  "failed to satisfy constraint: Member must satisfy enum value "
                                  "set: [Assignment, HIT]"), i);
          if (g_str_equal (level, "Assignment"))
            want_assignment = TRUE;
          else
            want_hit = TRUE;
        }
    }

  hit = kp_db_query (ctx->db, &local_error,
                     "SELECT assignment_review_policy, hit_review_policy FROM hits "
                     "WHERE id = $1 AND requester_id = $2 AND status <> 'Disposed'",
                     "ss", hit_id, ctx->requester_id);
  if (hit == NULL)
    return fail_db (ctx, error, local_error);
  if (kp_rows_get_n_rows (hit) == 0)
    return _kp_hits_fail_no_hit (ctx, hit_id, error);

  parse_cursor (&page, &created, &id);
  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT r.created, r.id, r.policy_level, r.kind, r.body "
                      "FROM review_results r WHERE r.hit_id = $1 "
                      "AND r.policy_level IN ($5, $6) AND r.kind IN ($7, $8) "
                      "AND (r.created > $2 OR (r.created = $2 AND r.id > $3)) "
                      "ORDER BY r.created, r.id LIMIT $4",
                      "sisissss", hit_id, created, id, page.max_results + 1,
                      want_assignment ? "Assignment" : "", want_hit ? "HIT" : "",
                      retrieve_results ? "result" : "", retrieve_actions ? "action" : "");
  if (rows == NULL)
    return fail_db (ctx, error, local_error);

  n = MIN (kp_rows_get_n_rows (rows), (guint)page.max_results);
  if (kp_rows_get_n_rows (rows) > n)
    next = g_strdup_printf ("%" PRId64 "|%s",
                            kp_rows_get_int (rows, n - 1, 0), kp_rows_get_text (rows, n - 1, 1));

  kp_json_add_string (response, "HITId", hit_id);
  if (want_assignment)
    {
      kp_json_add_raw (response, "AssignmentReviewPolicy", kp_rows_get_text (hit, 0, 0));
      add_review_report (response, "AssignmentReviewReport", rows, n, "Assignment");
    }
  if (want_hit)
    {
      kp_json_add_raw (response, "HITReviewPolicy", kp_rows_get_text (hit, 0, 1));
      add_review_report (response, "HITReviewReport", rows, n, "HIT");
    }

  kp_page_finish (ctx, response, "ListReviewPolicyResultsForHIT", n, next);
  return TRUE;
}

#define TYPE_MEMBERS \
  "Title Description Keywords Reward AssignmentDurationInSeconds AutoApprovalDelayInSeconds " \
  "QualificationRequirements"
#define HIT_MEMBERS \
  "LifetimeInSeconds MaxAssignments RequesterAnnotation UniqueRequestToken Question " \
  "HITLayoutId HITLayoutParameters AssignmentReviewPolicy HITReviewPolicy"

const KpOperation kp_mturk_hits_operations[] = {
  { "CreateHITType", TYPE_MEMBERS, op_create_hit_type },
  { "CreateHIT", TYPE_MEMBERS " " HIT_MEMBERS, op_create_hit },
  { "CreateHITWithHITType", "HITTypeId " HIT_MEMBERS, op_create_hit_with_hit_type },
  { "GetHIT", "HITId", op_get_hit },
  { "ListHITs", "NextToken MaxResults", op_list_hits },
  { "ListReviewableHITs", "HITTypeId Status NextToken MaxResults", op_list_reviewable_hits },
  { "ListHITsForQualificationType", "QualificationTypeId NextToken MaxResults",
    op_list_hits_for_qualification_type },
  { "UpdateExpirationForHIT", "HITId ExpireAt", op_update_expiration_for_hit },
  { "UpdateHITReviewStatus", "HITId Revert", op_update_hit_review_status },
  { "UpdateHITTypeOfHIT", "HITId HITTypeId", op_update_hit_type_of_hit },
  { "DeleteHIT", "HITId", op_delete_hit },
  { "CreateAdditionalAssignmentsForHIT", "HITId NumberOfAdditionalAssignments UniqueRequestToken",
    op_create_additional_assignments_for_hit },
  { "ListReviewPolicyResultsForHIT",
    "HITId PolicyLevels RetrieveActions RetrieveResults NextToken MaxResults",
    op_list_review_policy_results_for_hit },
  { NULL }
};
