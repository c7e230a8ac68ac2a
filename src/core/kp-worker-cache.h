/* kp-worker-cache.h: a worker's local cache of one server account (SQLite)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#if !defined(KP_CORE_INSIDE) && !defined(KP_CORE_COMPILATION)
# error "Only <kp-core.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define KP_WORKER_CACHE_ERROR (kp_worker_cache_error_quark ())

typedef enum
{
  KP_WORKER_CACHE_ERROR_FAILED,
  KP_WORKER_CACHE_ERROR_DATABASE,   /* SQLite failed (disk full, corrupt file, …) */
  KP_WORKER_CACHE_ERROR_VERSION,    /* the file was written by a newer Kempelen */
  KP_WORKER_CACHE_ERROR_NOT_FOUND,  /* no such assignment, submission or media */
  KP_WORKER_CACHE_ERROR_EXISTS,     /* the assignment already has a live submission */
  KP_WORKER_CACHE_ERROR_INVALID,    /* an answer that is not JSON, an assignment without ids */
} KpWorkerCacheError;

GQuark kp_worker_cache_error_quark (void);

/* The state of one submission in the outbox. */
typedef enum
{
  KP_OUTBOX_STATE_QUEUED,    /* waiting to be sent (again) */
  KP_OUTBOX_STATE_SENDING,   /* in a request that has not been answered yet */
  KP_OUTBOX_STATE_ACCEPTED,  /* the server stored it (durably) */
  KP_OUTBOX_STATE_REFUSED,   /* the server refused it for good; kept as a draft */
} KpOutboxState;

#define KP_TYPE_OUTBOX_STATE (kp_outbox_state_get_type ())
GType       kp_outbox_state_get_type  (void) G_GNUC_CONST;
const char *kp_outbox_state_to_string (KpOutboxState state);

/* KpOutboxItem: a snapshot of one outbox row. The sync engine keeps one
 * object per submission and updates it in place (notify::state …) on the
 * main context, so a list widget bound to its model follows the states. */
#define KP_TYPE_OUTBOX_ITEM (kp_outbox_item_get_type ())
G_DECLARE_FINAL_TYPE (KpOutboxItem, kp_outbox_item, KP, OUTBOX_ITEM, GObject)

const char    *kp_outbox_item_get_submission_id (KpOutboxItem *self);
const char    *kp_outbox_item_get_assignment_id (KpOutboxItem *self);
const char    *kp_outbox_item_get_answer        (KpOutboxItem *self);
KpOutboxState  kp_outbox_item_get_state         (KpOutboxItem *self);
/* The server's HTTP status for the last answer about this item, or 0. */
guint          kp_outbox_item_get_status_code   (KpOutboxItem *self);
/* The server's `error` code ("gone", …) and message of a refusal or of the
 * last failed attempt, or NULL. */
const char    *kp_outbox_item_get_error_code    (KpOutboxItem *self);
const char    *kp_outbox_item_get_reason        (KpOutboxItem *self);
guint          kp_outbox_item_get_attempts      (KpOutboxItem *self);
/* Real time (µs since the epoch) of the next attempt while queued. */
gint64         kp_outbox_item_get_next_attempt  (KpOutboxItem *self);
gint64         kp_outbox_item_get_created       (KpOutboxItem *self);
gint64         kp_outbox_item_get_updated       (KpOutboxItem *self);
/* Copies every changing field of other (same submission) into self,
 * notifying what changed. */
void           kp_outbox_item_update_from       (KpOutboxItem *self,
                                                 KpOutboxItem *other);

/* How a batch of sent items ended, for kp_worker_cache_finish_items(). */
typedef enum
{
  KP_OUTBOX_RESULT_ACCEPTED,
  KP_OUTBOX_RESULT_REFUSED,
  KP_OUTBOX_RESULT_RETRY,
} KpOutboxResultKind;

typedef struct
{
  const char         *submission_id;
  KpOutboxResultKind  kind;
  guint               status_code;   /* HTTP status of the item, 0 if none */
  const char         *error_code;    /* nullable */
  const char         *reason;        /* nullable */
  const char         *response;      /* the server's JSON answer when accepted; nullable */
  gint64              next_attempt;  /* RETRY: real time in µs */
} KpOutboxResult;

/* An accepted assignment with its HIT, as stored in the cache. */
typedef struct
{
  char   *assignment_id;
  char   *hit_id;
  char   *hit_type_id;
  char   *requester_id;
  char   *title;
  char   *description;
  char   *reward;
  char   *question_kind;
  char   *question;
  char   *status;         /* "Accepted", "Submitted", "Returned", "Refused" */
  gint64  accept_time;    /* server seconds */
  gint64  deadline;       /* server seconds */
} KpCachedAssignment;

#define KP_TYPE_CACHED_ASSIGNMENT (kp_cached_assignment_get_type ())
GType               kp_cached_assignment_get_type (void) G_GNUC_CONST;
KpCachedAssignment *kp_cached_assignment_copy     (const KpCachedAssignment *self);
void                kp_cached_assignment_free     (KpCachedAssignment       *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpCachedAssignment, kp_cached_assignment_free)

#define KP_TYPE_WORKER_CACHE (kp_worker_cache_get_type ())
G_DECLARE_FINAL_TYPE (KpWorkerCache, kp_worker_cache, KP, WORKER_CACHE, GObject)

/* Opens (creating or migrating) the cache file at path; media go in the
 * folder "<path>.media". Every call blocks on SQLite: use one KpWorkerCache
 * per thread (several may share a file), never on the main thread of a UI. */
KpWorkerCache *kp_worker_cache_open               (const char            *path,
                                                   GError               **error) G_GNUC_WARN_UNUSED_RESULT;
const char    *kp_worker_cache_get_path           (KpWorkerCache         *self);
const char    *kp_worker_cache_get_media_dir      (KpWorkerCache         *self);

/* Assignments. put takes the server's assignment object (as answered by
 * accept, with its "hit"); it replaces an older copy. */
gboolean       kp_worker_cache_put_assignment     (KpWorkerCache         *self,
                                                   JsonObject            *assignment,
                                                   GError               **error);
/* Several at once, in one transaction (one sync to the disk), each linked
 * to the media its question refers to. */
gboolean       kp_worker_cache_put_assignments    (KpWorkerCache         *self,
                                                   JsonObject           **assignments,
                                                   guint                  n,
                                                   GError               **error);
KpCachedAssignment *kp_worker_cache_get_assignment (KpWorkerCache        *self,
                                                   const char            *assignment_id,
                                                   GError               **error) G_GNUC_WARN_UNUSED_RESULT;
/* Element type KpCachedAssignment, soonest deadline first. */
GPtrArray     *kp_worker_cache_list_assignments   (KpWorkerCache         *self,
                                                   GError               **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean       kp_worker_cache_set_assignment_status (KpWorkerCache      *self,
                                                   const char            *assignment_id,
                                                   const char            *status,
                                                   GError               **error);

/* Drafts: the answer JSON being edited for an assignment. Saving is one
 * small upsert, cheap enough for every edit. */
gboolean       kp_worker_cache_save_draft         (KpWorkerCache         *self,
                                                   const char            *assignment_id,
                                                   const char            *answer_json,
                                                   GError               **error);
/* NULL with a NOT_FOUND error when there is no draft. */
char          *kp_worker_cache_dup_draft          (KpWorkerCache         *self,
                                                   const char            *assignment_id,
                                                   GError               **error) G_GNUC_WARN_UNUSED_RESULT;
/* Drafts the server refused (or whose assignment expired) as a JSON array
 * of {assignment_id, hit_id, title, answer, reason, error, updated}. */
char          *kp_worker_cache_export_refused     (KpWorkerCache         *self,
                                                   GError               **error) G_GNUC_WARN_UNUSED_RESULT;

/* The outbox. enqueue stores a submission of answer_json (a JSON array of
 * answers) for assignment_id under submission_id (NULL: a new random UUID)
 * and returns its id. An assignment has at most one submission that is not
 * refused (EXISTS). */
char          *kp_worker_cache_enqueue            (KpWorkerCache         *self,
                                                   const char            *assignment_id,
                                                   const char            *answer_json,
                                                   const char            *submission_id,
                                                   GError               **error) G_GNUC_WARN_UNUSED_RESULT;
/* Enqueues n submissions in one transaction (all or none), e.g. "submit
 * everything finished"; returns their new ids in order. */
GStrv          kp_worker_cache_enqueue_many       (KpWorkerCache         *self,
                                                   guint                  n,
                                                   const char * const    *assignment_ids,
                                                   const char * const    *answers_json,
                                                   GError               **error) G_GNUC_WARN_UNUSED_RESULT;
/* Moves up to max_items queued items due at now (real µs) to SENDING,
 * counting an attempt, and returns them (KpOutboxItem), oldest first. */
GPtrArray     *kp_worker_cache_claim_batch        (KpWorkerCache         *self,
                                                   guint                  max_items,
                                                   gint64                 now,
                                                   GError               **error) G_GNUC_WARN_UNUSED_RESULT;
/* Records how sent items ended, in one transaction. Refused items keep
 * their answer as a draft. */
gboolean       kp_worker_cache_finish_items       (KpWorkerCache         *self,
                                                   const KpOutboxResult  *results,
                                                   guint                  n_results,
                                                   GError               **error);
/* After a crash: items left SENDING are queued again (sending them twice
 * is safe, the server knows their ids). Returns how many, or -1. */
int            kp_worker_cache_requeue_sending    (KpWorkerCache         *self,
                                                   GError               **error);
/* The earliest next_attempt of a queued item, or -1 when none is queued. */
gint64         kp_worker_cache_get_next_due       (KpWorkerCache         *self,
                                                   GError               **error);
/* counts[state] for each KpOutboxState (array of 4). */
gboolean       kp_worker_cache_count_outbox       (KpWorkerCache         *self,
                                                   guint                  counts[4],
                                                   GError               **error);
KpOutboxItem  *kp_worker_cache_get_outbox_item    (KpWorkerCache         *self,
                                                   const char            *submission_id,
                                                   GError               **error) G_GNUC_WARN_UNUSED_RESULT;
/* Every item (KpOutboxItem), oldest first. */
GPtrArray     *kp_worker_cache_list_outbox        (KpWorkerCache         *self,
                                                   GError               **error) G_GNUC_WARN_UNUSED_RESULT;
/* The items of these submission ids (KpOutboxItem), in any order. */
GPtrArray     *kp_worker_cache_get_outbox_items   (KpWorkerCache         *self,
                                                   const char * const    *submission_ids,
                                                   GError               **error) G_GNUC_WARN_UNUSED_RESULT;

/* Media by SHA-256 (lower-case hex). dup_media_path gives where the file
 * belongs in the media folder (it may not exist yet). lookup returns TRUE
 * when the hash is recorded as verified and the file is there. */
char          *kp_worker_cache_dup_media_path     (KpWorkerCache         *self,
                                                   const char            *sha256) G_GNUC_WARN_UNUSED_RESULT;
gboolean       kp_worker_cache_put_media          (KpWorkerCache         *self,
                                                   const char            *sha256,
                                                   const char            *content_type,
                                                   guint64                size,
                                                   gboolean               verified,
                                                   GError               **error);
gboolean       kp_worker_cache_lookup_media       (KpWorkerCache         *self,
                                                   const char            *sha256,
                                                   char                 **path,
                                                   guint64               *size);
gboolean       kp_worker_cache_link_media         (KpWorkerCache         *self,
                                                   const char            *assignment_id,
                                                   const char            *sha256,
                                                   GError               **error);

/* The SHA-256 hashes a question refers to: every run of exactly 64
 * lower-case hex digits (as in ".../media/<sha256>"), each once. */
GStrv          kp_worker_cache_find_media_refs    (const char            *question) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
