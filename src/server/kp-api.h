/* kp-api.h: what every server operation shares
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A request runs as: kp-server.c authenticates it (SigV4 for the MTurk API,
 * a bearer token for the worker API), opens a savepoint in the current
 * group-commit transaction, fills a KpCtx and calls the operation. The
 * operation validates every parameter with the kp_param_*() helpers (botocore
 * checks almost nothing on the client), reads and writes through ctx->db and
 * builds its JSON answer. If it fails, the savepoint is rolled back, so an
 * operation never needs to undo its own partial writes. The answer is sent
 * only after the transaction holding it is committed (fsync'd).
 *
 * Errors: fail with kp_api_fail(), which records MTurk's TurkErrorCode in the
 * context and sets a KP_API_ERROR; kp-server.c maps it to the wire format
 * (HTTP 400 RequestError / 500 ServiceFault / throttling), in one place.
 */

#pragma once

#include <json-glib/json-glib.h>

#include "kp-db.h"

G_BEGIN_DECLS

#define KP_API_ERROR (kp_api_error_quark ())

typedef enum
{
  KP_API_ERROR_REQUEST,        /* 400 RequestError (MTurk) / 400 (worker API) */
  KP_API_ERROR_SERVICE,        /* 500 ServiceFault */
  KP_API_ERROR_THROTTLED,      /* 400 ThrottlingException, retried by botocore */
  KP_API_ERROR_UNAUTHORIZED,   /* 401 (worker API: no or bad token) */
  KP_API_ERROR_FORBIDDEN,      /* 403 (worker API: not qualified, blocked) */
  KP_API_ERROR_NOT_FOUND,      /* 404 (worker API) */
  KP_API_ERROR_CONFLICT,       /* 409 (worker API: state does not allow it) */
  KP_API_ERROR_GONE,           /* 410 (worker API: expired, deleted) */
} KpApiError;

GQuark kp_api_error_quark (void);

typedef struct
{
  KpDb        *db;
  const char  *data_dir;       /* the server's --data-dir */
  const char  *base_url;       /* "http://127.0.0.1:8443/" – for URLs the server hands out */
  const char  *requester_id;   /* MTurk API: the authenticated requester, else NULL */
  const char  *worker_id;      /* worker API: the authenticated worker, else NULL */
  gint64       now;            /* the request's time, epoch seconds */

  /* Set by kp_api_fail(): MTurk's TurkErrorCode, e.g.
   * "AWS.MechanicalTurk.HITDoesNotExist". */
  char        *turk_error_code;

  /* Set by kp_api_defer(); kp-server.c takes it (KpDeferred). */
  struct _KpDeferred *deferred;
} KpCtx;

/* Fails the request: sets *error (KP_API_ERROR, code) and, for the MTurk API,
 * ctx->turk_error_code to "AWS.MechanicalTurk." turk_code (turk_code may be
 * NULL: "AWS.MechanicalTurk.RequestError" is used, as botocore shows). The
 * message is what the client sees: precise and free of internals. Returns
 * FALSE so that handlers can `return kp_api_fail (…);`. */
gboolean kp_api_fail (KpCtx       *ctx,
                      GError     **error,
                      KpApiError   code,
                      const char  *turk_code,
                      const char  *format,
                      ...) G_GNUC_PRINTF (5, 6);
/* Passes on a store error as a ServiceFault (logged with details); a busy
 * store becomes ThrottlingException, a full disk a ServiceFault saying so.
 * db_error stays the caller's (it is not freed). */
gboolean kp_api_fail_db (KpCtx       *ctx,
                         GError     **error,
                         GError      *db_error);

/* --- MTurk operations --- */

/* An operation reads request (the JSON body) and adds the members of its
 * answer to response, which is an open JSON object (do not begin/end it). */
typedef gboolean (*KpOperationFunc) (KpCtx        *ctx,
                                     JsonObject   *request,
                                     JsonBuilder  *response,
                                     GError      **error);

typedef struct
{
  const char      *name;       /* "CreateHIT" */
  const char      *members;    /* every accepted member, space separated; others are refused */
  KpOperationFunc  func;
} KpOperation;

/* Each group file exports its table, terminated by { NULL }. */
extern const KpOperation kp_mturk_hits_operations[];         /* kp-mturk-hits.c */
extern const KpOperation kp_mturk_assignments_operations[];  /* kp-mturk-assignments.c */
extern const KpOperation kp_mturk_quals_operations[];        /* kp-mturk-quals.c */
extern const KpOperation kp_mturk_workers_operations[];      /* kp-mturk-workers.c */
/* Kempelen's own: ConsolidateHIT, ConsolidateBatch (docs/quality.md). */
extern const KpOperation kp_mturk_consolidate_operations[];  /* kp-mturk-consolidate.c */

const KpOperation *kp_api_find_operation (const char *name);

/* --- answering later ---
 * An operation that must compute for long (ConsolidateBatch over 10,000
 * HITs) reads what it needs from the store as usual, on the main loop, in
 * its savepoint, then calls kp_api_defer() and returns TRUE without adding
 * anything to response. The server then:
 *   1. commits or ends the request's group as usual, without answering;
 *   2. runs thread_func (data, cancellable) on a thread of a bounded pool
 *      (at most max (1, processors - 1) at once; later ones wait in line,
 *      first come, first served). thread_func must touch neither the store
 *      nor ctx; it may stop early once cancellable is cancelled (the
 *      client went away, or the server is stopping), its result is then
 *      dropped;
 *   3. back on the main loop, calls finish_func in a savepoint of a new
 *      group with a fresh ctx (the same requester and `now`, a new db
 *      state) to add the answer's members to response, or to fail as an
 *      operation does;
 *   4. answers once that group is committed, and logs the request with
 *      its whole duration.
 * In-process calls (kp_server_call_mturk()) run thread_func and
 * finish_func at once, on the caller's thread.
 * data is freed with data_free, result (thread_func's return value, which
 * may be NULL) with result_free, on the main loop, whatever happens. */
typedef gpointer (*KpDeferredThreadFunc) (gpointer      data,
                                          GCancellable *cancellable);
typedef gboolean (*KpDeferredFinishFunc) (KpCtx        *ctx,
                                          gpointer      data,
                                          gpointer      result,
                                          JsonBuilder  *response,
                                          GError      **error);

typedef struct _KpDeferred
{
  KpDeferredThreadFunc  thread_func;
  KpDeferredFinishFunc  finish_func;
  gpointer              data;
  GDestroyNotify        data_free;
  GDestroyNotify        result_free;
} KpDeferred;

void        kp_api_defer         (KpCtx                *ctx,
                                  KpDeferredThreadFunc  thread_func,
                                  KpDeferredFinishFunc  finish_func,
                                  gpointer              data,
                                  GDestroyNotify        data_free,
                                  GDestroyNotify        result_free);
/* For kp-server.c: takes ctx's deferred work (NULL if none). */
KpDeferred *kp_api_steal_deferred (KpCtx               *ctx);
/* Frees the deferred work and its data (not a result). */
void        kp_deferred_free     (KpDeferred           *deferred);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpDeferred, kp_deferred_free)

/* --- parameters ---
 * Each returns FALSE with a RequestError naming the parameter if it is
 * present but invalid, or absent and required. An absent optional
 * parameter leaves *out untouched (set your default first) and returns TRUE.
 * Strings: JSON strings only, valid UTF-8, no NUL; lengths in characters. */

gboolean kp_param_string     (KpCtx        *ctx,
                              JsonObject   *request,
                              const char   *name,
                              gboolean      required,
                              gsize         min_length,
                              gsize         max_length,     /* 0: no maximum */
                              const char  **out,
                              GError      **error);
/* ^[A-Z0-9]+$, 1–64 characters (HITId, AssignmentId, QualificationTypeId…) */
gboolean kp_param_entity_id  (KpCtx        *ctx,
                              JsonObject   *request,
                              const char   *name,
                              gboolean      required,
                              const char  **out,
                              GError      **error);
/* ^A[A-Z0-9]+$, 1–64 (WorkerId) */
gboolean kp_param_customer_id (KpCtx       *ctx,
                               JsonObject  *request,
                               const char  *name,
                               gboolean     required,
                               const char **out,
                               GError     **error);
/* JSON integers only (no floats, strings or booleans), within [min, max]. */
gboolean kp_param_int        (KpCtx        *ctx,
                              JsonObject   *request,
                              const char   *name,
                              gboolean      required,
                              gint64        min,
                              gint64        max,
                              gint64       *out,
                              GError      **error);
gboolean kp_param_bool       (KpCtx        *ctx,
                              JsonObject   *request,
                              const char   *name,
                              gboolean      required,
                              gboolean     *out,
                              GError      **error);
/* CurrencyAmount "^[0-9]+(\.)?[0-9]{0,2}$" -> cents; at most 1,000,000.00. */
gboolean kp_param_money      (KpCtx        *ctx,
                              JsonObject   *request,
                              const char   *name,
                              gboolean      required,
                              gint64       *cents,
                              GError      **error);
/* One of allowed (NULL-terminated). */
gboolean kp_param_enum       (KpCtx               *ctx,
                              JsonObject          *request,
                              const char          *name,
                              gboolean             required,
                              const char * const  *allowed,
                              const char         **out,
                              GError             **error);
/* A timestamp as botocore sends it: a JSON number of epoch seconds
 * (fractions allowed, truncated). */
gboolean kp_param_timestamp  (KpCtx        *ctx,
                              JsonObject   *request,
                              const char   *name,
                              gboolean      required,
                              gint64       *out,
                              GError      **error);
gboolean kp_param_array      (KpCtx        *ctx,
                              JsonObject   *request,
                              const char   *name,
                              gboolean      required,
                              guint         min_length,
                              guint         max_length,    /* 0: no maximum */
                              JsonArray   **out,
                              GError      **error);
gboolean kp_param_object     (KpCtx        *ctx,
                              JsonObject   *request,
                              const char   *name,
                              gboolean      required,
                              JsonObject  **out,
                              GError      **error);
/* Refuses members of object not in members (space separated); where names
 * the object in messages, e.g. "QualificationRequirements[2]". */
gboolean kp_param_check_members (KpCtx      *ctx,
                                 JsonObject *object,
                                 const char *where,
                                 const char *members,
                                 GError    **error);

/* --- pagination ---
 * Tokens are opaque to clients: they carry the operation's own cursor
 * string (e.g. "1700000000|3ABC…" for keyset paging), bound to the
 * operation and signed with the server's key, so a forged, foreign or
 * altered token is a RequestError. */
typedef struct
{
  gint64  max_results;   /* 1–100; default 10 */
  char   *cursor;        /* NULL on the first page */
} KpPage;

gboolean kp_page_parse  (KpCtx       *ctx,
                         JsonObject  *request,
                         const char  *operation,
                         KpPage      *page,
                         GError     **error);
/* Adds "NextToken" (only when next_cursor is not NULL) and "NumResults". */
void     kp_page_finish (KpCtx       *ctx,
                         JsonBuilder *response,
                         const char  *operation,
                         guint        num_results,
                         const char  *next_cursor);
void     kp_page_clear  (KpPage      *page);

/* --- output --- */
void     kp_json_add_string    (JsonBuilder *builder, const char *name, const char *value);  /* skipped if NULL */
void     kp_json_add_int       (JsonBuilder *builder, const char *name, gint64 value);
void     kp_json_add_bool      (JsonBuilder *builder, const char *name, gboolean value);
void     kp_json_add_money     (JsonBuilder *builder, const char *name, gint64 cents);      /* "0.10" */
void     kp_json_add_timestamp (JsonBuilder *builder, const char *name, gint64 epoch);      /* JSON number */
/* Adds a member holding already-serialised JSON text (e.g. stored
 * QualificationRequirements); skipped if json is NULL. */
void     kp_json_add_raw       (JsonBuilder *builder, const char *name, const char *json);

char    *kp_money_to_string    (gint64 cents);

/* --- ids --- */
/* 30 random upper-case letters and digits, like MTurk's HIT and assignment ids. */
char    *kp_api_new_id         (void);
/* "A" + 13 random upper-case letters and digits, like a WorkerId. */
char    *kp_api_new_customer_id (void);

/* Hex SHA-256 of a string (tokens are stored this way). */
char    *kp_api_sha256_hex     (const char *text);

G_END_DECLS
