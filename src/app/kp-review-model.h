/* kp-review-model.h: a requester's batches, HITs and assignments, read
 * through the MTurk API and consolidated locally, and the decisions on them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "kp-mturk-client.h"

G_BEGIN_DECLS

/* The annotation kempelenctl gives each HIT of a batch. */
#define KP_REVIEW_BATCH_PREFIX "kempelen-batch:"

typedef struct
{
  char       *assignment_id;
  char       *worker_id;
  char       *status;          /* "Submitted", "Approved", "Rejected" */
  char       *feedback;        /* RequesterFeedback, or NULL */
  JsonObject *answer;          /* the crowd answer (element -> value); never NULL */
  double      agreement;       /* with the consolidated answer; -1 when unknown */
} KpReviewAssignment;

typedef struct
{
  char       *hit_id;
  char       *batch_id;        /* NULL for "Other HITs" */
  char       *title;
  char       *image_uri;       /* the first image of the question, or NULL */
  guint       max_assignments;
  guint       n_pending;       /* accepted, being worked on */
  GPtrArray  *assignments;     /* of KpReviewAssignment */
  JsonObject *result;          /* kp_consolidator_dup_result (), or NULL */
  double      agreement;       /* the result's Agreement; -1 without a result */
} KpReviewHit;

typedef struct
{
  char       *batch_id;        /* NULL for "Other HITs" */
  char       *title;
  GPtrArray  *hits;            /* of KpReviewHit, most disagreement first */
} KpReviewBatch;

typedef struct
{
  guint submitted;
  guint approved;
  guint rejected;
  guint pending;
  guint max;                   /* the sum of MaxAssignments */
} KpReviewProgress;

typedef enum
{
  KP_REVIEW_APPROVE,
  KP_REVIEW_REJECT,
  KP_REVIEW_BONUS,
  KP_REVIEW_BLOCK,
} KpReviewAction;

KpReviewHit   *kp_review_hit_new              (const char          *hit_id);
void           kp_review_hit_free             (KpReviewHit         *hit);
KpReviewAssignment *kp_review_assignment_new  (const char          *assignment_id,
                                               const char          *worker_id,
                                               const char          *status,
                                               JsonObject          *answer);
void           kp_review_assignment_free      (KpReviewAssignment  *assignment);
KpReviewAssignment *kp_review_hit_lookup      (KpReviewHit         *hit,
                                               const char          *assignment_id);
void           kp_review_batch_free           (KpReviewBatch       *batch);
void           kp_review_batch_get_progress   (KpReviewBatch       *batch,
                                               KpReviewProgress    *progress);
/* TRUE when bulk approval above threshold takes hit's Submitted
 * assignments. */
gboolean       kp_review_hit_is_above         (KpReviewHit         *hit,
                                               double               threshold);
/* How many assignments bulk approval above threshold would approve. */
guint          kp_review_batch_count_above    (KpReviewBatch       *batch,
                                               double               threshold);
/* The batch id of a RequesterAnnotation "kempelen-batch:ID:ROW", or NULL. */
char          *kp_review_parse_batch_id       (const char          *annotation) G_GNUC_WARN_UNUSED_RESULT;
/* The first image URL of a HIT's question (src= of a crowd element or
 * <img>, or a QuestionForm's DataURL), or NULL. */
char          *kp_review_find_image_uri       (const char          *question) G_GNUC_WARN_UNUSED_RESULT;
/* Groups hits (taken) into batches, consolidates each batch with
 * KpConsolidator and sorts its HITs by disagreement. Blocking: for
 * threads and tests. */
GPtrArray     *kp_review_build_batches        (GPtrArray           *hits,
                                               GCancellable        *cancellable,
                                               GError             **error) G_GNUC_WARN_UNUSED_RESULT;

#define KP_TYPE_REVIEW_MODEL (kp_review_model_get_type ())
G_DECLARE_FINAL_TYPE (KpReviewModel, kp_review_model, KP, REVIEW_MODEL, GObject)

KpReviewModel *kp_review_model_new            (const char               *endpoint,
                                               const KpMturkCredentials *credentials);
const char    *kp_review_model_get_endpoint   (KpReviewModel       *self);
/* Signs message with the requester's keys when it goes to the model's
 * endpoint (a kempelen-server serves its media to requesters who sign);
 * leaves other requests alone. Main thread. */
void           kp_review_model_sign_media     (KpReviewModel       *self,
                                               SoupMessage         *message);
/* The batches of the last load (of KpReviewBatch), borrowed. */
GPtrArray     *kp_review_model_get_batches    (KpReviewModel       *self);
/* Replaces the batches (taken), as a load does; for benchmarks. */
void           kp_review_model_take_batches   (KpReviewModel       *self,
                                               GPtrArray           *batches);

/* Checks the keys (GetAccountBalance). */
void           kp_review_model_connect_async  (KpReviewModel       *self,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean       kp_review_model_connect_finish (KpReviewModel       *self,
                                               GAsyncResult        *result,
                                               GError             **error);
/* Reads every HIT and its assignments (ListHITs, ListAssignmentsForHIT,
 * every page) and consolidates each batch, in a thread. */
void           kp_review_model_load_async     (KpReviewModel       *self,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean       kp_review_model_load_finish    (KpReviewModel       *self,
                                               GAsyncResult        *result,
                                               GError             **error);
/* One decision on assignment (of hit): APPROVE and REJECT with feedback
 * (text; REJECT needs one), BONUS with amount ("1.00") and text as the
 * reason, BLOCK the assignment's worker with text as the reason. On
 * success the assignment's status and feedback follow. */
void           kp_review_model_decide_async   (KpReviewModel       *self,
                                               KpReviewHit         *hit,
                                               KpReviewAssignment  *assignment,
                                               KpReviewAction       action,
                                               const char          *text,
                                               const char          *amount,
                                               GCancellable        *cancellable,
                                               GAsyncReadyCallback  callback,
                                               gpointer             user_data);
gboolean       kp_review_model_decide_finish  (KpReviewModel       *self,
                                               GAsyncResult        *result,
                                               GError             **error);

typedef void (*KpReviewProgressFunc) (guint    done,
                                      guint    total,
                                      gpointer user_data);

/* Approves every Submitted assignment of batch whose HIT's agreement is
 * at least threshold. progress is called on the caller's main context. */
void           kp_review_model_bulk_approve_async  (KpReviewModel       *self,
                                                    KpReviewBatch       *batch,
                                                    double               threshold,
                                                    const char          *feedback,
                                                    KpReviewProgressFunc progress,
                                                    gpointer             progress_data,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
/* n_approved: how many were approved; failures: "ASSIGNMENT: message"
 * for each one that was not (NULL-terminated, empty when none). FALSE
 * only when cancelled. */
gboolean       kp_review_model_bulk_approve_finish (KpReviewModel       *self,
                                                    GAsyncResult        *result,
                                                    guint               *n_approved,
                                                    char              ***failures,
                                                    GError             **error);

G_END_DECLS
