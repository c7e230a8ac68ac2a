/* kp-server.c: the requester server's HTTP front (libsoup)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Requests go through one dispatcher: it finds the route, checks the
 * method, authenticates, runs the operation and turns any GError into the
 * wire format in respond_error(), the one place where error domains meet
 * HTTP status codes.
 *
 * Group commit. Every request runs inside a SAVEPOINT of the transaction
 * that is open for the current main-loop iteration; its response is built
 * at once but the message is paused. A commit source at default priority
 * runs in the next iteration, after libsoup has dispatched every other
 * request that was ready: one COMMIT (one fsync with synchronous=FULL)
 * makes the whole group durable, and only then are the responses released.
 * So an acknowledged submission is on disk, and many concurrent submissions
 * cost one fsync instead of one each. If the COMMIT fails (a full disk),
 * every response of the group becomes a ServiceFault: nothing was stored and
 * nothing is claimed.
 *
 * Deferred work. An operation that computes for long (a consolidation)
 * reads the store as above, then hands its computation to kp_api_defer ():
 * its message stays paused while a thread computes, and is answered from a
 * later group; meanwhile the main loop serves everyone else (see "Deferred
 * work" below).
 */

#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <sys/socket.h>

#include "kp-server.h"

#include <string.h>

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "kp-admin.h"
#include "kp-api.h"
#include "kp-hits.h"
#include "kp-hits-private.h"
#include "kp-notify.h"
#include "kp-core.h"
#include "kp-worker-api.h"
#include "kp-external.h"

G_DEFINE_QUARK (kp-server-error-quark, kp_server_error)

#define MTURK_TARGET_PREFIX "MTurkRequesterServiceV20170117."
#define MTURK_SERVICE "mturk-requester"
#define WORKER_API_PREFIX "/worker/v1"
#define DEFAULT_MAX_BODY_SIZE (8 * 1024 * 1024)
#define JOBS_INTERVAL_MS 1000

/* Failed authentications allowed per client address: 20 a second on
 * average, bursts of 40. Enough for a misconfigured client to see its
 * errors, far too few to guess keys or tokens. */
#define AUTH_FAILURE_RATE 20.0
#define AUTH_FAILURE_BURST 40
/* At most this many buckets are kept per limiter; beyond it the least
 * recently used one is dropped (it restarts full). */
#define RATE_LIMITER_MAX_BUCKETS 65536

struct _KpServer
{
  GObject     parent_instance;

  SoupServer *soup_server;
  GTlsCertificate *tls_certificate;
  char       *data_dir;
  char       *store;
  double      rate_limit;       /* requests per second per credential; 0: off */
  guint       rate_burst;
  struct _RateLimiter *credential_limiter; /* per access key id / worker id */
  struct _RateLimiter *auth_failure_limiter; /* failed authentications per address */
  KpDb       *db;
  KpNotifier *notifier;
  char       *notify_ca_file;
  gsize       max_body_size;
  char       *base_url;       /* cached: "http://127.0.0.1:PORT/" */
  gboolean    log_requests;

  /* Answers of read operations, valid while the store's generation and the
   * second they were made in are the same. */
  GHashTable *response_cache; /* requester \n operation \n body -> CachedResponse */
  GHashTable *requesters;     /* access key id -> { requester id, secret } */
  GHashTable *workers;        /* SHA-256 of a bearer token -> worker id */

  /* Group commit */
  GPtrArray  *pending;        /* SoupServerMessage, paused until COMMIT */
  GPtrArray  *committing_group; /* the group being committed on a thread, or NULL */
  GQueue     *queue;          /* SoupServerMessage arrived while committing */
  guint       commit_source;
  guint       jobs_source;
  guint       in_flight;      /* messages started and not yet finished */
  gboolean    draining;
  gboolean    stopping;

  /* Deferred work (kp_api_defer ()): the jobs with a message still to
   * answer, those waiting for a thread, and those computed while a commit
   * held the store. */
  GPtrArray  *jobs;           /* Job, not owned */
  GQueue     *jobs_waiting;   /* Job, owned */
  GQueue     *jobs_finishing; /* Job, owned */
  guint       jobs_running;
  guint       max_jobs;
};

G_DEFINE_FINAL_TYPE (KpServer, kp_server, G_TYPE_OBJECT)

static gboolean commit_group (KpServer *self);
static void finish_jobs (KpServer *self);

/* Rate limits. A token bucket per key (an access key id, a worker id, a
 * client address): it holds up to burst tokens, gains rate tokens a second
 * by the monotonic clock, and each request takes one. A bucket that has
 * been idle long enough to be full again is the same as no bucket, so
 * buckets are kept in least-recently-used order and idle ones are dropped
 * from the front: memory follows the number of recently active keys, and
 * a request costs one hash lookup plus O(1) list moves. */

static GQuark
rate_limit_error_quark (void)
{
  return g_quark_from_static_string ("kp-server-rate-limit-error-quark");
}

#define RATE_LIMIT_ERROR (rate_limit_error_quark ())

typedef struct
{
  GList    link;         /* in RateLimiter.lru; data is the bucket */
  char    *key;
  double   tokens;
  gint64   updated_us;   /* monotonic time tokens was computed at */
} RateBucket;

typedef struct _RateLimiter
{
  double      rate;      /* tokens per second; > 0 */
  double      burst;     /* bucket size; >= 1 */
  gint64      refill_us; /* time an empty bucket takes to fill */
  GHashTable *buckets;   /* key -> RateBucket (owned) */
  GQueue      lru;       /* least recently used first */
} RateLimiter;

static void
rate_bucket_free (RateBucket *bucket)
{
  g_free (bucket->key);
  g_free (bucket);
}

static RateLimiter *
rate_limiter_new (double rate,
                  guint  burst)
{
  RateLimiter *limiter = g_new0 (RateLimiter, 1);

  g_assert (rate > 0);

  limiter->rate = rate;
  limiter->burst = MAX (burst, 1);
  limiter->refill_us = (gint64)(limiter->burst / rate * G_USEC_PER_SEC) + 1;
  limiter->buckets = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                            (GDestroyNotify)rate_bucket_free);
  g_queue_init (&limiter->lru);

  return limiter;
}

static void
rate_limiter_free (RateLimiter *limiter)
{
  /* The links live inside the buckets, which the table frees. */
  g_queue_init (&limiter->lru);
  g_hash_table_unref (limiter->buckets);
  g_free (limiter);
}

/* Drops the least recently used buckets that are full again, and any
 * beyond the maximum. */
static void
rate_limiter_expire (RateLimiter *limiter,
                     gint64       now_us,
                     guint        max_drops)
{
  for (guint i = 0; i < max_drops; i++)
    {
      GList *head = limiter->lru.head;
      RateBucket *bucket;

      if (head == NULL)
        break;
      bucket = head->data;
      if (now_us - bucket->updated_us < limiter->refill_us &&
          g_hash_table_size (limiter->buckets) <= RATE_LIMITER_MAX_BUCKETS)
        break;

      g_queue_unlink (&limiter->lru, head);
      g_hash_table_remove (limiter->buckets, bucket->key);
    }
}

/* The bucket of key with its tokens brought up to now, or NULL if there
 * is none (it would be full). */
static RateBucket *
rate_limiter_lookup (RateLimiter *limiter,
                     const char  *key,
                     gint64       now_us)
{
  RateBucket *bucket = g_hash_table_lookup (limiter->buckets, key);

  if (bucket == NULL)
    return NULL;

  bucket->tokens = MIN (limiter->burst,
                        bucket->tokens +
                        (now_us - bucket->updated_us) * limiter->rate / G_USEC_PER_SEC);
  bucket->updated_us = now_us;

  /* Most recently used at the tail. */
  g_queue_unlink (&limiter->lru, &bucket->link);
  g_queue_push_tail_link (&limiter->lru, &bucket->link);

  return bucket;
}

/* Seconds until key may make a request again (at least 1), for
 * Retry-After. */
static guint
rate_limiter_retry_after (RateLimiter *limiter,
                          RateBucket  *bucket)
{
  double wait = (1.0 - bucket->tokens) / limiter->rate;
  guint seconds;

  if (wait >= 86400)
    return 86400;
  seconds = (guint)wait;
  if (seconds < wait)
    seconds++;

  return MAX (seconds, 1);
}

/* Whether key has a token left, without taking it; *retry_after is set
 * when it has not. */
static gboolean
rate_limiter_check (RateLimiter *limiter,
                    const char  *key,
                    guint       *retry_after)
{
  gint64 now_us = g_get_monotonic_time ();
  RateBucket *bucket;

  rate_limiter_expire (limiter, now_us, 2);
  bucket = rate_limiter_lookup (limiter, key, now_us);
  if (bucket == NULL || bucket->tokens >= 1.0)
    return TRUE;

  *retry_after = rate_limiter_retry_after (limiter, bucket);
  return FALSE;
}

/* Takes a token from key's bucket; FALSE (with *retry_after) if it is
 * empty. */
static gboolean
rate_limiter_take (RateLimiter *limiter,
                   const char  *key,
                   guint       *retry_after)
{
  gint64 now_us = g_get_monotonic_time ();
  RateBucket *bucket;

  rate_limiter_expire (limiter, now_us, 2);
  bucket = rate_limiter_lookup (limiter, key, now_us);
  if (bucket == NULL)
    {
      bucket = g_new0 (RateBucket, 1);
      bucket->link.data = bucket;
      bucket->key = g_strdup (key);
      bucket->tokens = limiter->burst;
      bucket->updated_us = now_us;
      g_hash_table_insert (limiter->buckets, bucket->key, bucket);
      g_queue_push_tail_link (&limiter->lru, &bucket->link);
    }

  if (bucket->tokens < 1.0)
    {
      *retry_after = rate_limiter_retry_after (limiter, bucket);
      return FALSE;
    }

  bucket->tokens -= 1.0;
  return TRUE;
}

static gboolean
set_rate_limited (GError     **error,
                  guint        retry_after,
                  const char  *message)
{
  g_set_error_literal (error, RATE_LIMIT_ERROR, (int)retry_after, message);
  return FALSE;
}

/* Charges a request to credential (NULL-safe when limits are off). */
static gboolean
limit_credential (KpServer    *self,
                  const char  *credential,
                  GError     **error)
{
  guint retry_after = 1;

  if (self->credential_limiter == NULL)
    return TRUE;

  if (rate_limiter_take (self->credential_limiter, credential, &retry_after))
    return TRUE;

  return set_rate_limited (error, retry_after,
                           _("Rate exceeded: too many requests with these credentials; "
                             "slow down and try again"));
}

/* Before authenticating: refuses a client address that failed too often
 * lately, without looking at its credentials at all. */
static gboolean
check_auth_failures (KpServer           *self,
                     SoupServerMessage  *msg,
                     GError            **error)
{
  const char *address = soup_server_message_get_remote_host (msg);
  guint retry_after = 1;

  if (address == NULL ||
      rate_limiter_check (self->auth_failure_limiter, address, &retry_after))
    return TRUE;

  return set_rate_limited (error, retry_after,
                           _("Too many failed authentications from this address; "
                             "try again later"));
}

static void
count_auth_failure (KpServer          *self,
                    SoupServerMessage *msg)
{
  const char *address = soup_server_message_get_remote_host (msg);
  guint retry_after;

  if (address != NULL)
    rate_limiter_take (self->auth_failure_limiter, address, &retry_after);
}

static gboolean
is_auth_failure (const GError *error)
{
  return error->domain == KP_SIGV4_ERROR ||
         g_error_matches (error, KP_API_ERROR, KP_API_ERROR_UNAUTHORIZED);
}

/* Paths as logged. A path can carry a credential: the signed URLs of
 * uploaded files (/files/TOKEN), or a token a client put in the wrong
 * place. Logs keep the segments that name things (MTurk-style ids, SHA-256
 * hashes of media, the API's own words) and blank out the rest. */

static gboolean
is_loggable_segment (const char *segment,
                     gsize       length)
{
  gboolean upper = TRUE, hex = TRUE, word = TRUE;

  if (length == 0)
    return TRUE;

  for (gsize i = 0; i < length; i++)
    {
      char c = segment[i];

      upper = upper && (g_ascii_isupper (c) || g_ascii_isdigit (c));
      hex = hex && (g_ascii_isdigit (c) || (c >= 'a' && c <= 'f'));
      word = word && (g_ascii_islower (c) || c == '-' || (i > 0 && g_ascii_isdigit (c)));
    }

  return (upper && length <= 64) || (hex && length == 64) || (word && length <= 32);
}

static char *
dup_loggable_path (const char *path)
{
  GString *out = g_string_new (NULL);
  const char *p = path;

  if (g_str_has_prefix (path, "/files/"))
    return g_strdup ("/files/…");

  while (*p != '\0')
    {
      const char *end = strchr (p + 1, '/');
      gsize length = end != NULL ? (gsize)(end - p) : strlen (p);

      /* p points at a '/', or at the start of a relative path. */
      if (*p == '/')
        {
          g_string_append_c (out, '/');
          p++;
          length--;
        }
      if (is_loggable_segment (p, length))
        g_string_append_len (out, p, length);
      else
        g_string_append (out, "…");
      p += length;
    }

  return g_string_free (out, FALSE);
}

/* Responses */

static void
respond_json (SoupServerMessage *msg,
              guint              status,
              JsonNode          *root,
              const char        *content_type)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *body = NULL;
  gsize len = 0;

  json_generator_set_root (generator, root);
  body = json_generator_to_data (generator, &len);

  /* set_response() appends: an answer replaced after the fact (a group
   * whose commit failed) must not keep the first one. */
  soup_message_body_truncate (soup_server_message_get_response_body (msg));
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, content_type,
                                    SOUP_MEMORY_TAKE, g_steal_pointer (&body), len);
}

typedef enum
{
  API_PLAIN,    /* /health and friends: {"__type", "Message"} */
  API_MTURK,    /* AWS JSON 1.1 errors with TurkErrorCode */
  API_WORKER,   /* {"error", "message"} */
} ApiKind;

/* The one mapping from errors to HTTP. Internal details are logged, not
 * sent. turk_code is MTurk's TurkErrorCode, if any. */
static void
respond_error (SoupServerMessage *msg,
               ApiKind            kind,
               const GError      *error,
               const char        *turk_code)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  const char *type = "ServiceFault";
  const char *worker_code = "internal";
  const char *message = error->message;
  guint status = SOUP_STATUS_INTERNAL_SERVER_ERROR;
  g_autofree char *retry_after = NULL;

  if (error->domain == KP_SERVER_ERROR)
    {
      switch ((KpServerError)error->code)
        {
        case KP_SERVER_ERROR_NOT_FOUND:
          status = SOUP_STATUS_NOT_FOUND;
          type = "NotFound";
          worker_code = "not-found";
          break;
        case KP_SERVER_ERROR_METHOD_NOT_ALLOWED:
          status = SOUP_STATUS_METHOD_NOT_ALLOWED;
          type = "MethodNotAllowed";
          worker_code = "method-not-allowed";
          break;
        case KP_SERVER_ERROR_INVALID_REQUEST:
          status = SOUP_STATUS_BAD_REQUEST;
          type = "RequestError";
          worker_code = "invalid-request";
          break;
        case KP_SERVER_ERROR_TOO_LARGE:
          status = SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE;
          type = "RequestEntityTooLarge";
          worker_code = "too-large";
          break;
        case KP_SERVER_ERROR_FAILED:
        case KP_SERVER_ERROR_CONFIG:
        default:
          break;
        }
    }
  else if (error->domain == KP_API_ERROR)
    {
      switch ((KpApiError)error->code)
        {
        case KP_API_ERROR_REQUEST:
          status = SOUP_STATUS_BAD_REQUEST;
          type = "RequestError";
          worker_code = "invalid-request";
          break;
        case KP_API_ERROR_THROTTLED:
          status = kind == API_WORKER ? SOUP_STATUS_SERVICE_UNAVAILABLE : SOUP_STATUS_BAD_REQUEST;
          type = "ThrottlingException";
          worker_code = "busy";
          break;
        case KP_API_ERROR_UNAUTHORIZED:
          status = SOUP_STATUS_UNAUTHORIZED;
          type = "UnrecognizedClientException";
          worker_code = "unauthorized";
          break;
        case KP_API_ERROR_FORBIDDEN:
          status = SOUP_STATUS_FORBIDDEN;
          type = "AccessDeniedException";
          worker_code = "forbidden";
          break;
        case KP_API_ERROR_NOT_FOUND:
          status = SOUP_STATUS_NOT_FOUND;
          type = "RequestError";
          worker_code = "not-found";
          break;
        case KP_API_ERROR_CONFLICT:
          status = SOUP_STATUS_CONFLICT;
          type = "RequestError";
          worker_code = "conflict";
          break;
        case KP_API_ERROR_GONE:
          status = SOUP_STATUS_GONE;
          type = "RequestError";
          worker_code = "gone";
          break;
        case KP_API_ERROR_SERVICE:
        default:
          break;
        }
      /* The MTurk API answers every client error with 400. */
      if (kind == API_MTURK && status >= 400 && status < 500 &&
          error->code != KP_API_ERROR_THROTTLED)
        status = SOUP_STATUS_BAD_REQUEST;
    }
  else if (error->domain == RATE_LIMIT_ERROR)
    {
      /* The code is the number of seconds to wait. */
      status = kind == API_WORKER ? 429 : SOUP_STATUS_BAD_REQUEST;  /* Too Many Requests */
      type = "ThrottlingException";
      worker_code = "rate-limited";
      retry_after = g_strdup_printf ("%d", MAX (error->code, 1));
    }
  else if (error->domain == KP_SIGV4_ERROR)
    {
      status = SOUP_STATUS_BAD_REQUEST;
      worker_code = "unauthorized";
      switch ((KpSigv4Error)error->code)
        {
        case KP_SIGV4_ERROR_MISSING:
          type = "MissingAuthenticationTokenException";
          break;
        case KP_SIGV4_ERROR_MALFORMED:
        case KP_SIGV4_ERROR_SCOPE:
          type = "IncompleteSignatureException";
          break;
        case KP_SIGV4_ERROR_STALE:
        case KP_SIGV4_ERROR_MISMATCH:
        default:
          type = "InvalidSignatureException";
          break;
        }
    }

  if (status == SOUP_STATUS_INTERNAL_SERVER_ERROR &&
      !g_error_matches (error, KP_API_ERROR, KP_API_ERROR_SERVICE))
    {
      g_autofree char *logged_path =
        dup_loggable_path (g_uri_get_path (soup_server_message_get_uri (msg)));

      g_warning ("Internal error for %s %s: %s",
                 soup_server_message_get_method (msg), logged_path, error->message);
      message = _("The server could not complete the request");
    }

  json_builder_begin_object (builder);
  if (kind == API_WORKER)
    {
      kp_json_add_string (builder, "error", worker_code);
      kp_json_add_string (builder, "message", message);
    }
  else
    {
      kp_json_add_string (builder, "__type", type);
      kp_json_add_string (builder, "Message", message);
      if (kind == API_MTURK && (g_str_equal (type, "RequestError") ||
                                g_str_equal (type, "ServiceFault")))
        kp_json_add_string (builder, "TurkErrorCode",
                            turk_code != NULL ? turk_code :
                            status >= 500 ? "AWS.MechanicalTurk.ServiceFault"
                                          : "AWS.MechanicalTurk.RequestError");
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);

  respond_json (msg, status, root,
                kind == API_MTURK ? "application/x-amz-json-1.1" : "application/json");
  if (retry_after != NULL)
    soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                  "Retry-After", retry_after);
  /* libsoup 3.2 has no phrase for 429 (RFC 6585). */
  if (status == 429)
    soup_server_message_set_status (msg, status, "Too Many Requests");
}

/* Group commit */

static void start_commit (KpServer *self);
static void dispatch_message (KpServer          *self,
                              SoupServerMessage *msg,
                              const char        *path,
                              gint64             start_us);

static gboolean
commit_cb (gpointer user_data)
{
  KpServer *self = user_data;

  self->commit_source = 0;
  start_commit (self);

  return G_SOURCE_REMOVE;
}

static gboolean
ensure_group (KpServer  *self,
              GError   **error)
{
  g_assert (self->committing_group == NULL);

  if (kp_db_in_transaction (self->db))
    return TRUE;

  if (!kp_db_begin (self->db, error))
    return FALSE;

  if (self->commit_source == 0)
    self->commit_source = g_idle_add_full (G_PRIORITY_DEFAULT, commit_cb, self, NULL);

  return TRUE;
}

/* Sends the answers of a group once its fate is known. */
static void
release_group (KpServer     *self,
               GPtrArray    *group,
               const GError *error)
{
  for (guint i = 0; i < group->len; i++)
    {
      SoupServerMessage *msg = g_ptr_array_index (group, i);

      if (error != NULL)
        {
          const char *path = g_uri_get_path (soup_server_message_get_uri (msg));
          g_autoptr(GError) fault = NULL;

          if (g_error_matches (error, KP_DB_ERROR, KP_DB_ERROR_FULL))
            g_set_error (&fault, KP_API_ERROR, KP_API_ERROR_SERVICE,
                         _("The server cannot store anything right now (its disk is full); "
                           "nothing was changed, try again later"));
          else
            g_set_error (&fault, KP_API_ERROR, KP_API_ERROR_SERVICE,
                         _("The server could not store the request; nothing was changed, "
                           "try again"));
          respond_error (msg, g_str_has_prefix (path, WORKER_API_PREFIX) ? API_WORKER : API_MTURK,
                         fault, "AWS.MechanicalTurk.ServiceFault");
        }

      soup_server_message_unpause (msg);
    }

  if (error != NULL)
    g_warning ("Cannot commit %u requests: %s", group->len, error->message);
  else if (self->notifier != NULL)
    kp_notifier_kick (self->notifier);
}

/* Commits on this thread, waiting for the disk: for shutdown and for
 * kp_server_call_mturk(). */
static gboolean
commit_group (KpServer *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) group = NULL;
  gboolean ok = TRUE;

  g_assert (self->committing_group == NULL);
  g_clear_handle_id (&self->commit_source, g_source_remove);

  if (kp_db_in_transaction (self->db))
    ok = kp_db_commit (self->db, &error);

  group = g_steal_pointer (&self->pending);
  self->pending = g_ptr_array_new_with_free_func (g_object_unref);
  release_group (self, group, ok ? NULL : error);

  return ok;
}

static void
commit_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  KpDb *db = task_data;
  GError *error = NULL;

  if (kp_db_commit_run (db, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static void
commit_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  KpServer *self = KP_SERVER (source);
  g_autoptr(GPtrArray) group = g_steal_pointer (&self->committing_group);
  g_autoptr(GError) error = NULL;
  gboolean ok = g_task_propagate_boolean (G_TASK (result), &error);
  GQueue *queue;

  kp_db_commit_finish (self->db, ok);
  release_group (self, group, ok ? NULL : error);

  /* What arrived during the commit forms the next group. */
  queue = g_steal_pointer (&self->queue);
  self->queue = g_queue_new ();
  while (!g_queue_is_empty (queue))
    {
      g_autoptr(SoupServerMessage) msg = g_queue_pop_head (queue);
      gint64 start_us = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (msg), "kp-start-us"));

      soup_server_message_unpause (msg);
      dispatch_message (self, msg, g_uri_get_path (soup_server_message_get_uri (msg)),
                        start_us);
    }
  g_queue_free (queue);

  finish_jobs (self);
}

/* Commits the open group on a worker thread. Until it is on disk the main
 * loop keeps reading requests and queues them; they form the next group
 * when this one is done, so the next commit carries everything that
 * arrived meanwhile: the busier the server, the more one fsync covers. */
static void
start_commit (KpServer *self)
{
  g_autoptr(GTask) task = NULL;

  g_clear_handle_id (&self->commit_source, g_source_remove);

  if (self->committing_group != NULL)
    return;

  if (!kp_db_in_transaction (self->db))
    {
      commit_group (self);
      return;
    }

  self->committing_group = g_steal_pointer (&self->pending);
  self->pending = g_ptr_array_new_with_free_func (g_object_unref);

  task = g_task_new (self, NULL, commit_done_cb, NULL);
  g_task_set_source_tag (task, start_commit);
  g_task_set_task_data (task, self->db, NULL);
  g_task_run_in_thread (task, commit_thread);
}

/* Waits for a commit running on the worker thread to end. */
static void
wait_for_commit (KpServer *self)
{
  while (self->committing_group != NULL)
    g_main_context_iteration (NULL, TRUE);
}

static void
defer_response (KpServer          *self,
                SoupServerMessage *msg)
{
  soup_server_message_pause (msg);
  g_ptr_array_add (self->pending, g_object_ref (msg));

  /* Keep groups bounded, so one response never waits on a huge batch. */
  if (self->pending->len >= 1024)
    start_commit (self);
}

static void
ctx_clear (KpCtx *ctx)
{
  g_clear_pointer (&ctx->turk_error_code, g_free);
  g_clear_pointer (&ctx->deferred, kp_deferred_free);
}

static void
ctx_init (KpServer   *self,
          KpCtx      *ctx,
          const char *base_url)
{
  memset (ctx, 0, sizeof *ctx);
  ctx->db = self->db;
  ctx->data_dir = self->data_dir;
  ctx->base_url = base_url;
  ctx->now = g_get_real_time () / G_USEC_PER_SEC;
}

/* Runs func inside the request savepoint of the current group. */
typedef gboolean (*GroupFunc) (KpServer *self, KpCtx *ctx, gpointer data, GError **error);

static gboolean
run_in_group (KpServer   *self,
              KpCtx      *ctx,
              GroupFunc   func,
              gpointer    data,
              GError    **error)
{
  g_autoptr(GError) db_error = NULL;

  if (!ensure_group (self, &db_error) ||
      !kp_db_savepoint (self->db, "request", &db_error))
    return kp_api_fail_db (ctx, error, db_error);

  if (!func (self, ctx, data, error))
    {
      kp_db_rollback_to (self->db, "request");
      kp_db_release (self->db, "request", NULL);
      return FALSE;
    }

  if (!kp_db_release (self->db, "request", &db_error))
    {
      kp_db_rollback_to (self->db, "request");
      return kp_api_fail_db (ctx, error, db_error);
    }

  return TRUE;
}

/* Background jobs */

static gboolean
jobs_func (KpServer  *self,
           KpCtx     *ctx,
           gpointer   data,
           GError   **error)
{
  guint *n_changes = data;

  return kp_hits_run_jobs (ctx, n_changes, error);
}

static gboolean
jobs_cb (gpointer user_data)
{
  KpServer *self = user_data;
  g_autoptr(GError) error = NULL;
  const char *base_url = self->base_url;
  guint n_changes = 0;
  KpCtx ctx;

  /* Drop the buckets of credentials that went quiet. */
  if (self->credential_limiter != NULL)
    rate_limiter_expire (self->credential_limiter, g_get_monotonic_time (), G_MAXUINT);
  rate_limiter_expire (self->auth_failure_limiter, g_get_monotonic_time (), G_MAXUINT);

  if (self->committing_group != NULL)
    return G_SOURCE_CONTINUE;  /* the next tick will do */

  ctx_init (self, &ctx, base_url);
  if (!run_in_group (self, &ctx, jobs_func, &n_changes, &error))
    g_warning ("Background jobs failed: %s", error->message);
  else if (n_changes > 0)
    g_debug ("Background jobs made %u changes", n_changes);
  ctx_clear (&ctx);

  if (self->notifier != NULL)
    kp_notifier_kick (self->notifier);

  return G_SOURCE_CONTINUE;
}

/* Logging */

static void
log_request (KpServer          *self,
             SoupServerMessage *msg,
             const char        *operation,
             const char        *principal,
             gint64             start_us)
{
  double ms = (g_get_monotonic_time () - start_us) / 1000.0;
  g_autofree char *ms_text = NULL;
  g_autofree char *status_text = NULL;
  g_autofree char *path = NULL;

  if (!self->log_requests)
    return;

  /* Never the query: it may hold anything, tokens included. */
  path = dup_loggable_path (g_uri_get_path (soup_server_message_get_uri (msg)));

  ms_text = g_strdup_printf ("%.3f", ms);
  status_text = g_strdup_printf ("%u", soup_server_message_get_status (msg));

  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO,
                    "MESSAGE", "%s %s %s → %s (%s ms)",
                    soup_server_message_get_method (msg), path,
                    operation != NULL ? operation : "-", status_text, ms_text,
                    "KP_METHOD", soup_server_message_get_method (msg),
                    "KP_PATH", path,
                    "KP_OPERATION", operation != NULL ? operation : "",
                    "KP_PRINCIPAL", principal != NULL ? principal : "",
                    "KP_STATUS", status_text,
                    "KP_DURATION_MS", ms_text,
                    "KP_REMOTE", soup_server_message_get_remote_host (msg));
}

/* The end of every request that used the store: its log line, and its
 * answer held back until the group it read or wrote is committed. */
static void
finish_request (KpServer          *self,
                SoupServerMessage *msg,
                KpCtx             *ctx,
                const char        *operation,
                const char        *principal,
                gint64             start_us)
{
  log_request (self, msg, operation, principal, start_us);
  ctx_clear (ctx);

  if (kp_db_in_transaction (self->db))
    defer_response (self, msg);
}

/* The MTurk API */

typedef struct
{
  const KpOperation *op;
  JsonObject        *request;
  JsonNode          *response;
  KpDeferred        *deferred;
} MturkCall;

static gboolean
mturk_func (KpServer  *self,
            KpCtx     *ctx,
            gpointer   data,
            GError   **error)
{
  MturkCall *call = data;
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  if (!call->op->func (ctx, call->request, builder, error))
    return FALSE;
  json_builder_end_object (builder);

  /* It answers later: what it read is in its data. */
  call->deferred = kp_api_steal_deferred (ctx);
  if (call->deferred == NULL)
    call->response = json_builder_get_root (builder);
  return TRUE;
}

/* json-glib 1.6 accepts several top-level values ("{}{}") and keeps the
 * last; a request must be exactly one object. Finds where the top-level
 * object that text starts with ends (skipping strings), and checks that
 * only whitespace follows. */
static gboolean
is_single_object (const char *text,
                  gsize       size)
{
  gsize i = 0;
  int depth = 0;

  while (i < size && g_ascii_isspace (text[i]))
    i++;
  if (i == size || text[i] != '{')
    return FALSE;

  for (; i < size; i++)
    {
      char c = text[i];

      if (c == '"')
        {
          for (i++; i < size && text[i] != '"'; i++)
            if (text[i] == '\\')
              i++;
        }
      else if (c == '{' || c == '[')
        depth++;
      else if (c == '}' || c == ']')
        {
          if (--depth == 0)
            break;
        }
    }

  for (i++; i < size; i++)
    if (!g_ascii_isspace (text[i]))
      return FALSE;

  return depth == 0;
}

/* The response cache. MTurk clients poll: ListHITs, ListReviewableHITs,
 * GetAccountBalance and friends arrive again and again with the same body
 * while nothing changed. Only operations whose answer depends on nothing
 * but the store, the requester, the body and the current second are
 * cached; any write through any connection changes the generation. */

#define RESPONSE_CACHE_SIZE 1024

typedef struct
{
  guint64  generation;
  gint64   now;
  char    *text;
  gsize    length;
} CachedResponse;

static void
cached_response_free (CachedResponse *cached)
{
  g_free (cached->text);
  g_free (cached);
}

static gboolean
is_cacheable (const char *operation)
{
  static const char * const operations[] = {
    "GetHIT", "ListHITs", "ListReviewableHITs", "ListHITsForQualificationType",
    "GetAssignment", "ListAssignmentsForHIT", "GetAccountBalance", NULL,
  };

  return operation != NULL && g_strv_contains (operations, operation);
}

static char *
cache_key (const char *requester_id,
           const char *operation,
           GBytes     *body)
{
  gsize size = 0;
  const char *data = g_bytes_get_data (body, &size);
  GString *key = g_string_sized_new (strlen (requester_id) + strlen (operation) + size + 2);

  g_string_append (key, requester_id);
  g_string_append_c (key, '\n');
  g_string_append (key, operation);
  g_string_append_c (key, '\n');
  g_string_append_len (key, data, size);

  return g_string_free (key, FALSE);
}

void
kp_server_set_response_cache (KpServer *self,
                              gboolean  enabled)
{
  g_return_if_fail (KP_IS_SERVER (self));

  g_clear_pointer (&self->response_cache, g_hash_table_unref);
  if (enabled)
    self->response_cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                  (GDestroyNotify)cached_response_free);
}

/* Everything after authentication: the operation, its JSON body, its run
 * in the current group. Gives the answer, or the work that will make it
 * (kp_api_defer ()), or fails. */
static gboolean
run_mturk (KpServer    *self,
           KpCtx       *ctx,
           const char  *operation,
           GBytes      *body,
           JsonNode   **response,
           KpDeferred **deferred,
           GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  MturkCall call = { 0 };
  JsonNode *root;
  gsize size = 0;
  const char *data = g_bytes_get_data (body, &size);

  call.op = kp_api_find_operation (operation);
  if (call.op == NULL)
    {
      kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "UnknownOperation",
                   _("Unknown operation “%.64s”"), operation);
      return FALSE;
    }

  if (size == 0 || !g_utf8_validate_len (data, size, NULL))
    {
      kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "RequestError",
                   size == 0 ? _("The request body must be a JSON object")
                             : _("The request body is not valid UTF-8"));
      return FALSE;
    }

  parser = json_parser_new_immutable ();
  if (!is_single_object (data, size) ||
      !json_parser_load_from_data (parser, data, size, NULL) ||
      (root = json_parser_get_root (parser)) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (root))
    {
      kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "RequestError",
                   _("The request body must be a JSON object"));
      return FALSE;
    }
  call.request = json_node_get_object (root);

  if (!kp_param_check_members (ctx, call.request, NULL, call.op->members, error))
    return FALSE;

  if (!run_in_group (self, ctx, mturk_func, &call, error))
    {
      g_clear_pointer (&call.deferred, kp_deferred_free);
      return FALSE;
    }

  *response = call.response;
  *deferred = call.deferred;
  return TRUE;
}

/* Deferred work (kp_api_defer ())
 *
 * The operation has read what it needs; its message stays paused while
 * its thread_func runs on a GTask thread. At most max_jobs run at once
 * (max (1, processors - 1): a core stays free for the main loop and the
 * commit thread); later ones wait in jobs_waiting, first come, first
 * served. Back on the main loop the job's finish_func runs in a group of
 * its own (after any commit under way, which holds the store), and the
 * answer joins that group's pending responses.
 *
 * A client that goes away while its job waits or runs: the job is
 * cancelled, its result dropped, its message answered with an error (to
 * nobody) and released, so that libsoup finishes it. libsoup 3.2 does not
 * read a paused message's connection, so a hang-up is found by watching
 * the socket (see job_hangup_cb). */

typedef struct
{
  KpServer          *server;
  SoupServerMessage *msg;         /* NULL once answered or gone */
  KpDeferred        *deferred;
  GCancellable      *cancellable;
  char              *requester_id;
  char              *operation;
  gint64             now;
  gint64             start_us;
  gpointer           result;
  gboolean           has_result;
  gulong             disconnected_id;
  GSource           *hangup_source;
} Job;

static void
job_release_message (Job *job)
{
  if (job->hangup_source != NULL)
    {
      g_source_destroy (job->hangup_source);
      g_clear_pointer (&job->hangup_source, g_source_unref);
    }
  if (job->msg != NULL)
    {
      g_clear_signal_handler (&job->disconnected_id, job->msg);
      g_clear_object (&job->msg);
      g_ptr_array_remove_fast (job->server->jobs, job);
    }
}

static void
job_free (Job *job)
{
  job_release_message (job);
  if (job->has_result && job->deferred->result_free != NULL && job->result != NULL)
    job->deferred->result_free (job->result);
  kp_deferred_free (job->deferred);
  g_clear_object (&job->cancellable);
  g_free (job->requester_id);
  g_free (job->operation);
  g_free (job);
}

/* For tests only: KP_TEST_HOLD_DEFERRED=FILE makes every deferred
 * computation wait before it starts until FILE exists (or it is
 * cancelled); it creates FILE.waiting when it starts waiting. So a test
 * can see what the server does while one runs, without timing. */
static const char *
hold_file (void)
{
  static gsize once = 0;
  static char *file = NULL;

  if (g_once_init_enter (&once))
    {
      const char *value = g_getenv ("KP_TEST_HOLD_DEFERRED");

      if (value != NULL && value[0] != '\0')
        file = g_strdup (value);
      g_once_init_leave (&once, 1);
    }

  return file;
}

static void
job_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  Job *job = task_data;
  const char *hold = hold_file ();
  gpointer result = NULL;

  if (hold != NULL)
    {
      g_autofree char *waiting = g_strconcat (hold, ".waiting", NULL);

      g_file_set_contents (waiting, "", 0, NULL);
      while (!g_file_test (hold, G_FILE_TEST_EXISTS) &&
             !g_cancellable_is_cancelled (cancellable))
        g_usleep (10 * 1000);
    }

  if (!g_cancellable_is_cancelled (cancellable))
    result = job->deferred->thread_func (job->deferred->data, cancellable);

  g_task_return_pointer (task, result, NULL);
}

static void job_computed_cb (GObject      *source,
                             GAsyncResult *result,
                             gpointer      user_data);

static void
job_start (KpServer *self,
           Job      *job)
{
  g_autoptr(GTask) task = g_task_new (self, job->cancellable, job_computed_cb, job);

  g_task_set_source_tag (task, job_start);
  g_task_set_task_data (task, job, NULL);
  /* The result is taken whether or not the job was cancelled. */
  g_task_set_check_cancellable (task, FALSE);
  self->jobs_running++;
  g_task_run_in_thread (task, job_thread);
}

static void
start_waiting_jobs (KpServer *self)
{
  while (self->jobs_running < self->max_jobs && !g_queue_is_empty (self->jobs_waiting))
    job_start (self, g_queue_pop_head (self->jobs_waiting));
}

typedef struct
{
  KpDeferred *deferred;
  gpointer    result;
  JsonNode   *response;
} FinishCall;

static gboolean
finish_func (KpServer  *self,
             KpCtx     *ctx,
             gpointer   data,
             GError   **error)
{
  FinishCall *call = data;
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  if (!call->deferred->finish_func (ctx, call->deferred->data, call->result, builder, error))
    return FALSE;
  json_builder_end_object (builder);

  call->response = json_builder_get_root (builder);
  return TRUE;
}

/* Answers a computed job, in a group of its own. */
static void
job_finish (KpServer *self,
            Job      *job)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) response = NULL;
  FinishCall call = { job->deferred, job->result, NULL };
  SoupServerMessage *msg = g_object_ref (job->msg);
  KpCtx ctx;

  ctx_init (self, &ctx, self->base_url);
  ctx.requester_id = job->requester_id;
  ctx.now = job->now;

  if (run_in_group (self, &ctx, finish_func, &call, &error))
    {
      response = call.response;
      respond_json (msg, SOUP_STATUS_OK, response, "application/x-amz-json-1.1");
    }
  else
    respond_error (msg, API_MTURK, error, ctx.turk_error_code);

  job_release_message (job);
  log_request (self, msg, job->operation, job->requester_id, job->start_us);
  ctx_clear (&ctx);

  /* Paused already: answered once its group is committed. */
  if (kp_db_in_transaction (self->db))
    {
      g_ptr_array_add (self->pending, msg);
      if (self->pending->len >= 1024)
        start_commit (self);
    }
  else
    {
      soup_server_message_unpause (msg);
      g_object_unref (msg);
    }

  job_free (job);
}

/* Answers the computed jobs that waited for a commit to end. */
static void
finish_jobs (KpServer *self)
{
  while (self->committing_group == NULL && !g_queue_is_empty (self->jobs_finishing))
    job_finish (self, g_queue_pop_head (self->jobs_finishing));
}

static void
job_computed_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  KpServer *self = KP_SERVER (source);
  Job *job = user_data;

  g_assert (self->jobs_running > 0);
  self->jobs_running--;
  job->result = g_task_propagate_pointer (G_TASK (result), NULL);
  job->has_result = TRUE;

  start_waiting_jobs (self);

  if (job->msg == NULL || g_cancellable_is_cancelled (job->cancellable))
    job_free (job);   /* answered already */
  else
    {
      g_queue_push_tail (self->jobs_finishing, job);
      finish_jobs (self);
    }
}

/* Ends a job before its answer: its client went away (gone: libsoup
 * already dropped the connection, do not touch the message) or the server
 * is stopping. */
static void
job_abandon (KpServer     *self,
             Job          *job,
             const GError *error,
             gboolean      gone)
{
  g_autoptr(SoupServerMessage) msg = job->msg != NULL ? g_object_ref (job->msg) : NULL;

  g_cancellable_cancel (job->cancellable);
  job_release_message (job);

  if (msg != NULL && !gone)
    {
      respond_error (msg, API_MTURK, error, NULL);
      log_request (self, msg, job->operation, job->requester_id, job->start_us);
      soup_server_message_unpause (msg);
    }

  /* A running job is freed when its thread returns. */
  if (g_queue_remove (self->jobs_waiting, job) || g_queue_remove (self->jobs_finishing, job))
    job_free (job);
}

static void
job_lost (KpServer *self,
          Job      *job,
          gboolean  gone)
{
  g_autoptr(GError) error = NULL;

  g_message ("%s by %s cancelled: the client went away", job->operation, job->requester_id);
  g_set_error (&error, KP_API_ERROR, KP_API_ERROR_SERVICE,
               _("The request was cancelled"));
  job_abandon (self, job, error, gone);
}

static void
job_disconnected_cb (SoupServerMessage *msg,
                     gpointer           user_data)
{
  Job *job = user_data;

  job_lost (job->server, job, TRUE);
}

/* The paused message's socket became readable: either the client closed
 * it (a peek reads nothing) or sent more (pipelining; libsoup reads it
 * once this answer is out, so stop watching). */
static gboolean
job_hangup_cb (GSocket      *socket,
               GIOCondition  condition,
               gpointer      user_data)
{
  Job *job = user_data;
  char byte;
  gssize n = recv (g_socket_get_fd (socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);

  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    return G_SOURCE_CONTINUE;

  g_clear_pointer (&job->hangup_source, g_source_unref);
  if (n <= 0)
    job_lost (job->server, job, FALSE);

  return G_SOURCE_REMOVE;
}

/* Takes over msg (paused) until deferred's answer is ready. */
static void
defer_job (KpServer          *self,
           SoupServerMessage *msg,
           KpCtx             *ctx,
           KpDeferred        *deferred,
           const char        *operation,
           gint64             start_us)
{
  Job *job = g_new0 (Job, 1);
  GSocket *socket = soup_server_message_get_socket (msg);

  job->server = self;
  job->msg = g_object_ref (msg);
  job->deferred = deferred;
  job->cancellable = g_cancellable_new ();
  job->requester_id = g_strdup (ctx->requester_id);
  job->operation = g_strdup (operation);
  job->now = ctx->now;
  job->start_us = start_us;

  soup_server_message_pause (msg);
  g_ptr_array_add (self->jobs, job);
  job->disconnected_id = g_signal_connect (msg, "disconnected",
                                           G_CALLBACK (job_disconnected_cb), job);
  if (socket != NULL)
    {
      job->hangup_source = g_socket_create_source (socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
      g_source_set_callback (job->hangup_source, G_SOURCE_FUNC (job_hangup_cb), job, NULL);
      g_source_attach (job->hangup_source, NULL);
    }

  g_queue_push_tail (self->jobs_waiting, job);
  if (self->draining || self->stopping)
    {
      g_autoptr(GError) error = NULL;

      g_set_error (&error, KP_API_ERROR, KP_API_ERROR_SERVICE,
                   _("The server is shutting down; try again later"));
      job_abandon (self, job, error, FALSE);
      return;
    }
  start_waiting_jobs (self);
}

/* Stopping: every job still to answer is answered with an error at once,
 * running ones are cancelled, and this waits until their threads return. */
static void
cancel_jobs (KpServer *self)
{
  g_autoptr(GError) error = NULL;

  g_set_error (&error, KP_API_ERROR, KP_API_ERROR_SERVICE,
               _("The server is shutting down; try again later"));
  while (self->jobs->len > 0)
    job_abandon (self, g_ptr_array_index (self->jobs, self->jobs->len - 1), error, FALSE);
  while (!g_queue_is_empty (self->jobs_waiting))
    job_free (g_queue_pop_head (self->jobs_waiting));

  while (self->jobs_running > 0)
    g_main_context_iteration (NULL, TRUE);
}

/* In-process calls: the work at once, on this thread. */
static JsonNode *
run_deferred_now (KpServer    *self,
                  KpCtx       *ctx,
                  KpDeferred  *deferred,
                  GError     **error)
{
  FinishCall call = { deferred, NULL, NULL };
  gboolean ok;

  call.result = deferred->thread_func (deferred->data, NULL);
  ok = run_in_group (self, ctx, finish_func, &call, error);
  if (deferred->result_free != NULL && call.result != NULL)
    deferred->result_free (call.result);

  return ok ? call.response : NULL;
}

gboolean
kp_server_call_mturk (KpServer     *self,
                      const char   *requester_id,
                      const char   *operation,
                      GBytes       *body,
                      char        **response,
                      GError      **error)
{
  const char *base_url = self->base_url;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(KpDeferred) deferred = NULL;
  KpCtx ctx;

  g_return_val_if_fail (KP_IS_SERVER (self), FALSE);
  g_return_val_if_fail (self->db != NULL, FALSE);

  ctx_init (self, &ctx, base_url);
  ctx.requester_id = requester_id;
  if (run_mturk (self, &ctx, operation, body, &root, &deferred, error) && deferred != NULL)
    {
      gint64 now = ctx.now;

      /* The read is done: a fresh context for the answer, as over HTTP. */
      ctx_clear (&ctx);
      ctx_init (self, &ctx, base_url);
      ctx.requester_id = requester_id;
      ctx.now = now;
      root = run_deferred_now (self, &ctx, deferred, error);
    }
  ctx_clear (&ctx);
  commit_group (self);

  if (root == NULL)
    return FALSE;

  if (response != NULL)
    *response = json_to_string (root, FALSE);
  return TRUE;
}

/* Whether a query string carries X-Amz-* parameters (a presigned URL). */
static gboolean
has_query_credentials (const char *query)
{
  g_auto(GStrv) pairs = NULL;

  if (query == NULL || *query == '\0')
    return FALSE;

  pairs = g_strsplit (query, "&", -1);
  for (guint i = 0; pairs[i] != NULL; i++)
    if (g_ascii_strncasecmp (pairs[i], "X-Amz-", 6) == 0 ||
        g_ascii_strncasecmp (pairs[i], "X%2DAmz%2D", 10) == 0)
      return TRUE;

  return FALSE;
}

static gboolean
authenticate_requester (KpServer           *self,
                        SoupServerMessage  *msg,
                        GBytes             *body,
                        KpCtx              *ctx,
                        char              **access_key_id_out,
                        char              **requester_id,
                        gboolean            need_target,
                        GError            **error)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  GUri *uri = soup_server_message_get_uri (msg);
  g_autoptr(KpSigv4Request) request = NULL;
  g_autoptr(GError) db_error = NULL;
  g_autofree char *access_key_id = NULL;
  g_autofree char *secret = NULL;
  char **cached;
  SoupMessageHeadersIter iter;
  const char *name;
  const char *value;

  /* This server hands out no temporary credentials, so a session token is
   * never valid, and the MTurk API is signed in the Authorization header,
   * never in the URL. Both are refused before anything is computed from
   * the request, so that they never reach a debug log either. */
  if (soup_message_headers_get_one (headers, "X-Amz-Security-Token") != NULL)
    {
      g_set_error (error, KP_API_ERROR, KP_API_ERROR_UNAUTHORIZED,
                   _("The security token included in the request is invalid"));
      return FALSE;
    }
  if (has_query_credentials (g_uri_get_query (uri)))
    {
      g_set_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MALFORMED,
                   _("Requests must be signed in the Authorization header, not in the URL"));
      return FALSE;
    }

  request = kp_sigv4_request_new (soup_server_message_get_method (msg),
                                  g_uri_get_path (uri), g_uri_get_query (uri), body);
  soup_message_headers_iter_init (&iter, headers);
  while (soup_message_headers_iter_next (&iter, &name, &value))
    kp_sigv4_request_add_header (request, name, value);

  if (!kp_sigv4_parse (request, &access_key_id, NULL, error))
    return FALSE;

  if (need_target && !kp_sigv4_request_is_signed (request, "x-amz-target"))
    {
      g_set_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MALFORMED,
                   _("The X-Amz-Target header must be signed"));
      return FALSE;
    }

  /* Access keys never change once made: known ones are kept in memory. */
  cached = g_hash_table_lookup (self->requesters, access_key_id);
  if (cached != NULL)
    {
      *requester_id = g_strdup (cached[0]);
      secret = g_strdup (cached[1]);
    }
  else
    {
      if (!kp_admin_find_requester (self->db, access_key_id, requester_id, &secret, &db_error))
        return kp_api_fail_db (ctx, error, db_error);

      if (*requester_id == NULL)
        {
          g_set_error (error, KP_API_ERROR, KP_API_ERROR_UNAUTHORIZED,
                       _("The security token included in the request is invalid"));
          return FALSE;
        }

      if (g_hash_table_size (self->requesters) >= 4096)
        g_hash_table_remove_all (self->requesters);
      g_hash_table_insert (self->requesters, g_strdup (access_key_id),
                           g_strdupv ((char *[]) { *requester_id, secret, NULL }));
    }

  if (!kp_sigv4_verify (request, secret, MTURK_SERVICE, ctx->now, error))
    return FALSE;

  *access_key_id_out = g_steal_pointer (&access_key_id);
  return TRUE;
}

static void
handle_mturk (KpServer          *self,
              SoupServerMessage *msg,
              gint64             start_us)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *target = soup_message_headers_get_one (headers, "X-Amz-Target");
  const char *content_type = soup_message_headers_get_content_type (headers, NULL);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonNode) response = NULL;
  g_autoptr(KpDeferred) deferred = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *requester_id = NULL;
  g_autofree char *access_key_id = NULL;
  g_autofree char *bucket_key = NULL;
  const char *base_url = self->base_url;
  g_autofree char *request_id = kp_api_new_id ();
  g_autofree char *key = NULL;
  guint64 generation = G_MAXUINT64;
  const char *operation = NULL;
  KpCtx ctx;

  ctx_init (self, &ctx, base_url);

  if (target == NULL || !g_str_has_prefix (target, MTURK_TARGET_PREFIX))
    {
      g_set_error (&error, KP_API_ERROR, KP_API_ERROR_REQUEST,
                   _("The X-Amz-Target header must name an operation as “%s<Operation>”"),
                   MTURK_TARGET_PREFIX);
      goto out;
    }
  operation = target + strlen (MTURK_TARGET_PREFIX);

  if (g_strcmp0 (content_type, "application/x-amz-json-1.1") != 0 &&
      g_strcmp0 (content_type, "application/x-amz-json-1.0") != 0)
    {
      g_set_error (&error, KP_API_ERROR, KP_API_ERROR_REQUEST,
                   _("The Content-Type must be application/x-amz-json-1.1"));
      goto out;
    }

  if (!check_auth_failures (self, msg, &error))
    goto out;

  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  if (!authenticate_requester (self, msg, body, &ctx, &access_key_id, &requester_id, TRUE,
                               &error))
    {
      g_clear_pointer (&requester_id, g_free);
      if (is_auth_failure (error))
        count_auth_failure (self, msg);
      goto out;
    }
  ctx.requester_id = requester_id;

  bucket_key = g_strconcat ("k:", access_key_id, NULL);
  if (!limit_credential (self, bucket_key, &error))
    goto out;

  if (self->response_cache != NULL && is_cacheable (operation))
    {
      CachedResponse *cached;

      key = cache_key (requester_id, operation, body);
      generation = kp_db_get_generation (self->db);
      cached = g_hash_table_lookup (self->response_cache, key);
      if (cached != NULL && cached->generation == generation && cached->now == ctx.now &&
          generation != G_MAXUINT64)
        {
          soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
          soup_server_message_set_response (msg, "application/x-amz-json-1.1", SOUP_MEMORY_COPY,
                                            cached->text, cached->length);
          goto out;
        }
    }

  if (!run_mturk (self, &ctx, operation, body, &response, &deferred, &error))
    goto out;

  if (deferred != NULL)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "x-amzn-RequestId", request_id);
      ctx_clear (&ctx);
      defer_job (self, msg, &ctx, g_steal_pointer (&deferred), operation, start_us);
      return;
    }

  respond_json (msg, SOUP_STATUS_OK, response, "application/x-amz-json-1.1");

  if (key != NULL && generation != G_MAXUINT64)
    {
      SoupMessageBody *response_body = soup_server_message_get_response_body (msg);
      g_autoptr(GBytes) bytes = soup_message_body_flatten (response_body);
      CachedResponse *cached = g_new0 (CachedResponse, 1);

      cached->generation = generation;
      cached->now = ctx.now;
      cached->text = g_memdup2 (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
      cached->length = g_bytes_get_size (bytes);
      if (g_hash_table_size (self->response_cache) >= RESPONSE_CACHE_SIZE)
        g_hash_table_remove_all (self->response_cache);
      g_hash_table_replace (self->response_cache, g_steal_pointer (&key), cached);
    }

out:
  if (error != NULL)
    respond_error (msg, API_MTURK, error, ctx.turk_error_code);

  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "x-amzn-RequestId", request_id);
  finish_request (self, msg, &ctx, operation, requester_id, start_us);
}

/* The worker API */

typedef struct
{
  SoupServerMessage *msg;
  const char        *path;
} WorkerCall;

static gboolean
worker_func (KpServer  *self,
             KpCtx     *ctx,
             gpointer   data,
             GError   **error)
{
  WorkerCall *call = data;

  return kp_worker_api_handle (ctx, call->msg, call->path, error);
}

static gboolean
requester_media_func (KpServer  *self,
                      KpCtx     *ctx,
                      gpointer   data,
                      GError   **error)
{
  WorkerCall *call = data;

  return kp_worker_api_handle_media (ctx, call->msg, call->path + strlen ("/media/"), error);
}

/* GET /worker/v1/media/{sha256} signed with a requester's keys (SigV4,
 * service mturk-requester) instead of a worker's token: the review desk
 * shows the media of the requester's HITs. Nothing else of the worker API
 * is open to requesters. */
static void
handle_requester_media (KpServer          *self,
                        SoupServerMessage *msg,
                        WorkerCall        *call,
                        KpCtx             *ctx,
                        gint64             start_us)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = g_bytes_new_static ("", 0);
  g_autofree char *access_key_id = NULL;
  g_autofree char *requester_id = NULL;
  g_autofree char *bucket_key = NULL;
  const char *hash = call->path + strlen ("/media/");

  if (!g_str_has_prefix (call->path, "/media/") || hash[0] == '\0' || strchr (hash, '/') != NULL)
    {
      g_set_error (&error, KP_API_ERROR, KP_API_ERROR_UNAUTHORIZED,
                   _("Send your worker token as “Authorization: Bearer TOKEN”; requester keys "
                     "open only /worker/v1/media/…"));
      goto out;
    }

  if (!check_auth_failures (self, msg, &error))
    goto out;

  if (!authenticate_requester (self, msg, body, ctx, &access_key_id, &requester_id, FALSE,
                               &error))
    {
      g_clear_pointer (&requester_id, g_free);
      if (is_auth_failure (error))
        count_auth_failure (self, msg);
      goto out;
    }
  ctx->requester_id = requester_id;

  bucket_key = g_strconcat ("k:", access_key_id, NULL);
  if (!limit_credential (self, bucket_key, &error))
    goto out;

  run_in_group (self, ctx, requester_media_func, call, &error);

out:
  if (error != NULL)
    {
      /* A signature that does not verify is the worker API's 401, as a
       * bad token is. */
      if (error->domain == KP_SIGV4_ERROR)
        {
          GError *unauthorized = g_error_new_literal (KP_API_ERROR, KP_API_ERROR_UNAUTHORIZED,
                                                      error->message);

          g_clear_error (&error);
          error = unauthorized;
        }
      respond_error (msg, API_WORKER, error, NULL);
    }

  finish_request (self, msg, ctx, NULL, requester_id, start_us);
}

static void
handle_worker (KpServer          *self,
               SoupServerMessage *msg,
               const char        *path,
               gint64             start_us)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *authorization = soup_message_headers_get_one (headers, "Authorization");
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) db_error = NULL;
  g_autofree char *worker_id = NULL;
  const char *base_url = self->base_url;
  WorkerCall call = { msg, path + strlen (WORKER_API_PREFIX) };
  g_autofree char *token_hash = NULL;
  g_autofree char *bucket_key = NULL;
  KpCtx ctx;

  ctx_init (self, &ctx, base_url);

  if (authorization != NULL && g_str_has_prefix (authorization, "AWS4-HMAC-SHA256 "))
    {
      handle_requester_media (self, msg, &call, &ctx, start_us);
      return;
    }

  if (!check_auth_failures (self, msg, &error))
    goto out;

  if (authorization == NULL || g_ascii_strncasecmp (authorization, "Bearer ", 7) != 0 ||
      authorization[7] == '\0')
    {
      g_set_error (&error, KP_API_ERROR, KP_API_ERROR_UNAUTHORIZED,
                   _("Send your worker token as “Authorization: Bearer TOKEN”"));
      goto out;
    }

  /* Tokens never change once made: known ones are kept, by their hash. */
  token_hash = kp_api_sha256_hex (authorization + 7);
  worker_id = g_strdup (g_hash_table_lookup (self->workers, token_hash));
  if (worker_id == NULL)
    {
      if (!kp_admin_find_worker (self->db, authorization + 7, &worker_id, &db_error))
        {
          kp_api_fail_db (&ctx, &error, db_error);
          goto out;
        }
      if (worker_id == NULL)
        {
          g_set_error (&error, KP_API_ERROR, KP_API_ERROR_UNAUTHORIZED,
                       _("The worker token is not valid"));
          goto out;
        }
      if (g_hash_table_size (self->workers) >= 65536)
        g_hash_table_remove_all (self->workers);
      g_hash_table_insert (self->workers, g_steal_pointer (&token_hash), g_strdup (worker_id));
    }
  ctx.worker_id = worker_id;

  bucket_key = g_strconcat ("w:", worker_id, NULL);
  if (!limit_credential (self, bucket_key, &error))
    goto out;

  if (call.path[0] == '\0')
    call.path = "/";

  run_in_group (self, &ctx, worker_func, &call, &error);

out:
  if (error != NULL)
    {
      if (worker_id == NULL && is_auth_failure (error))
        count_auth_failure (self, msg);
      respond_error (msg, API_WORKER, error, NULL);
      if (g_error_matches (error, KP_API_ERROR, KP_API_ERROR_UNAUTHORIZED))
        soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                      "WWW-Authenticate", "Bearer realm=\"kempelen\"");
    }

  finish_request (self, msg, &ctx, NULL, worker_id, start_us);
}

/* Uploaded files, through the signed, short-lived URLs GetFileUploadURL
 * hands out (the token is the credential). */

typedef struct
{
  SoupServerMessage *msg;
  const char        *token;
} FileCall;

static gboolean
file_func (KpServer  *self,
           KpCtx     *ctx,
           gpointer   data,
           GError   **error)
{
  FileCall *call = data;

  return kp_hits_serve_upload (ctx, call->msg, call->token, error);
}

static void
handle_file (KpServer          *self,
             SoupServerMessage *msg,
             const char        *path,
             gint64             start_us)
{
  g_autoptr(GError) error = NULL;
  FileCall call = { msg, path + strlen ("/files/") };
  KpCtx ctx;

  ctx_init (self, &ctx, self->base_url);
  if (!run_in_group (self, &ctx, file_func, &call, &error))
    respond_error (msg, API_WORKER, error, NULL);

  finish_request (self, msg, &ctx, NULL, NULL, start_us);
}

/* Health */

static void
handle_health (KpServer          *self,
               SoupServerMessage *msg)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  kp_json_add_string (builder, "status", self->draining ? "draining" : "ok");
  kp_json_add_string (builder, "version", PACKAGE_VERSION);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);

  respond_json (msg, self->draining ? SOUP_STATUS_SERVICE_UNAVAILABLE : SOUP_STATUS_OK,
                root, "application/json");
}

/* Dispatch */

static void
message_finished_cb (SoupServerMessage *msg,
                     KpServer          *self)
{
  g_assert (self->in_flight > 0);
  self->in_flight--;
}

static void
message_got_headers_cb (SoupServerMessage *msg,
                        KpServer          *self)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  goffset length = soup_message_headers_get_content_length (headers);

  if (length > (goffset)self->max_body_size)
    {
      g_autoptr(GError) error = NULL;
      const char *path = g_uri_get_path (soup_server_message_get_uri (msg));

      g_set_error (&error, KP_SERVER_ERROR, KP_SERVER_ERROR_TOO_LARGE,
                   _("The request body is larger than %" "zu" " bytes"),
                   self->max_body_size);
      respond_error (msg, g_str_has_prefix (path, WORKER_API_PREFIX) ? API_WORKER : API_MTURK,
                     error, NULL);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Connection", "close");
    }
}

static void
message_got_chunk_cb (SoupServerMessage *msg,
                      GBytes            *chunk,
                      KpServer          *self)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  /* Chunked bodies carry no Content-Length: stop reading past the limit. */
  if (body->length > (goffset)self->max_body_size &&
      soup_server_message_get_status (msg) == SOUP_STATUS_NONE)
    {
      g_autoptr(GIOStream) stream = NULL;

      g_message ("Closing a connection that sent more than %" "zu" " bytes",
                 self->max_body_size);
      stream = soup_server_message_steal_connection (msg);
      g_io_stream_close (stream, NULL, NULL);
    }
}

static void
request_started_cb (SoupServer        *soup_server,
                    SoupServerMessage *msg,
                    KpServer          *self)
{
  g_signal_connect_object (msg, "got-headers", G_CALLBACK (message_got_headers_cb), self, 0);
  g_signal_connect_object (msg, "got-chunk", G_CALLBACK (message_got_chunk_cb), self, 0);
}

static gboolean
needs_store (const char *path)
{
  return g_str_equal (path, "/") || g_str_has_prefix (path, "/files/") ||
         g_str_equal (path, KP_EXTERNAL_SUBMIT_PATH) ||
         g_str_equal (path, WORKER_API_PREFIX) || g_str_has_prefix (path, WORKER_API_PREFIX "/");
}

static void
dispatch_cb (SoupServer        *soup_server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  KpServer *self = user_data;
  gint64 start_us = g_get_monotonic_time ();

  /* Counted from here (the whole request has been read) until its response
   * is written or its connection lost, so that a drain waits for it. */
  self->in_flight++;
  g_signal_connect_object (msg, "finished", G_CALLBACK (message_finished_cb), self, 0);

  /* Already answered (413 from got-headers). */
  if (soup_server_message_get_status (msg) != SOUP_STATUS_NONE)
    return;

  /* The store belongs to the commit thread for now: wait in line. */
  if (self->committing_group != NULL && needs_store (path))
    {
      soup_server_message_pause (msg);
      g_object_set_data (G_OBJECT (msg), "kp-start-us", GSIZE_TO_POINTER ((gsize)start_us));
      g_queue_push_tail (self->queue, g_object_ref (msg));
      return;
    }

  dispatch_message (self, msg, path, start_us);
}

static void
dispatch_message (KpServer          *self,
                  SoupServerMessage *msg,
                  const char        *path,
                  gint64             start_us)
{
  const char *method = soup_server_message_get_method (msg);
  g_autoptr(GError) error = NULL;
  const char *allow = NULL;
  ApiKind kind = API_PLAIN;

  if (g_str_equal (path, "/health"))
    {
      allow = "GET, HEAD";
      if (g_str_equal (method, "GET") || g_str_equal (method, "HEAD"))
        {
          handle_health (self, msg);
          return;
        }
    }
  else if (g_str_equal (path, "/"))
    {
      allow = "POST";
      kind = API_MTURK;
      if (g_str_equal (method, "POST"))
        {
          if (self->db == NULL)
            g_set_error (&error, KP_SERVER_ERROR, KP_SERVER_ERROR_FAILED,
                         "No data directory is open");
          else
            handle_mturk (self, msg, start_us);
          if (error == NULL)
            return;
        }
    }
  else if (g_str_equal (path, KP_EXTERNAL_SUBMIT_PATH))
    {
      /* ExternalQuestion forms (kp-external.c); the page is the answer. */
      allow = "GET, POST";
      if (self->db != NULL && (g_str_equal (method, "POST") || g_str_equal (method, "GET")))
        {
          KpCtx ctx;

          ctx_init (self, &ctx, self->base_url);
          if (!run_in_group (self, &ctx, kp_external_submit, msg, &error))
            kp_external_respond_error (msg, error);
          finish_request (self, msg, &ctx, NULL, NULL, start_us);
          return;
        }
    }
  else if (g_str_has_prefix (path, "/files/"))
    {
      allow = "GET, HEAD";
      kind = API_WORKER;
      if (self->db == NULL)
        g_set_error (&error, KP_SERVER_ERROR, KP_SERVER_ERROR_FAILED,
                     "No data directory is open");
      else if (g_str_equal (method, "GET") || g_str_equal (method, "HEAD"))
        {
          handle_file (self, msg, path, start_us);
          return;
        }
    }
  else if (g_str_equal (path, WORKER_API_PREFIX) ||
           g_str_has_prefix (path, WORKER_API_PREFIX "/"))
    {
      kind = API_WORKER;
      if (self->db == NULL)
        g_set_error (&error, KP_SERVER_ERROR, KP_SERVER_ERROR_FAILED,
                     "No data directory is open");
      else
        {
          handle_worker (self, msg, path, start_us);
          return;
        }
    }

  if (error == NULL && allow != NULL)
    {
      g_set_error (&error, KP_SERVER_ERROR, KP_SERVER_ERROR_METHOD_NOT_ALLOWED,
                   _("“%s” does not accept %s requests"), path, method);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Allow", allow);
    }
  else if (error == NULL)
    {
      g_set_error (&error, KP_SERVER_ERROR, KP_SERVER_ERROR_NOT_FOUND,
                   _("There is nothing at “%s”"), path);
    }

  respond_error (msg, kind, error, NULL);
  log_request (self, msg, NULL, NULL, start_us);
}

/* Object */

static void
kp_server_dispose (GObject *object)
{
  KpServer *self = (KpServer *)object;

  kp_server_stop (self);
  g_clear_object (&self->soup_server);
  g_clear_object (&self->notifier);
  g_clear_object (&self->tls_certificate);

  G_OBJECT_CLASS (kp_server_parent_class)->dispose (object);
}

static void
kp_server_finalize (GObject *object)
{
  KpServer *self = (KpServer *)object;

  g_clear_pointer (&self->pending, g_ptr_array_unref);
  /* kp_server_stop () ended every job. */
  g_clear_pointer (&self->jobs, g_ptr_array_unref);
  g_clear_pointer (&self->jobs_waiting, g_queue_free);
  g_clear_pointer (&self->jobs_finishing, g_queue_free);
  if (self->queue != NULL)
    g_queue_free_full (g_steal_pointer (&self->queue), g_object_unref);
  g_clear_pointer (&self->db, kp_db_close);
  g_free (self->data_dir);
  g_free (self->store);
  g_free (self->notify_ca_file);
  g_free (self->base_url);
  g_clear_pointer (&self->requesters, g_hash_table_unref);
  g_clear_pointer (&self->workers, g_hash_table_unref);
  g_clear_pointer (&self->response_cache, g_hash_table_unref);
  g_clear_pointer (&self->credential_limiter, rate_limiter_free);
  g_clear_pointer (&self->auth_failure_limiter, rate_limiter_free);

  G_OBJECT_CLASS (kp_server_parent_class)->finalize (object);
}

static void
kp_server_class_init (KpServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kp_server_dispose;
  object_class->finalize = kp_server_finalize;
}

static void
kp_server_init (KpServer *self)
{
  self->log_requests = TRUE;
  kp_server_set_response_cache (self, TRUE);
  self->requesters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify)g_strfreev);
  self->workers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->max_body_size = DEFAULT_MAX_BODY_SIZE;
  self->auth_failure_limiter = rate_limiter_new (AUTH_FAILURE_RATE, AUTH_FAILURE_BURST);
  self->pending = g_ptr_array_new_with_free_func (g_object_unref);
  self->queue = g_queue_new ();
  self->jobs = g_ptr_array_new ();
  self->jobs_waiting = g_queue_new ();
  self->jobs_finishing = g_queue_new ();
  self->max_jobs = MAX (1, g_get_num_processors () - 1);
}

static void
ensure_soup_server (KpServer *self)
{
  if (self->soup_server != NULL)
    return;

  self->soup_server = soup_server_new ("server-header", "kempelen-server/" PACKAGE_VERSION " ",
                                       "tls-certificate", self->tls_certificate,
                                       NULL);
  soup_server_add_handler (self->soup_server, NULL, dispatch_cb, self, NULL);
  g_signal_connect_object (self->soup_server, "request-started",
                           G_CALLBACK (request_started_cb), self, 0);
}

KpServer *
kp_server_new (void)
{
  return g_object_new (KP_TYPE_SERVER, NULL);
}

gboolean
kp_server_open_data_dir (KpServer    *self,
                         const char  *data_dir,
                         GError     **error)
{
  g_return_val_if_fail (KP_IS_SERVER (self), FALSE);
  g_return_val_if_fail (data_dir != NULL, FALSE);
  g_return_val_if_fail (self->db == NULL, FALSE);

  self->db = kp_admin_open_store (data_dir, self->store, error);
  if (self->db == NULL)
    return FALSE;

  self->data_dir = g_strdup (data_dir);
  self->notifier = kp_notifier_new (self->db);
  if (self->notify_ca_file != NULL)
    kp_notifier_set_ca_file (self->notifier, self->notify_ca_file);
  self->jobs_source = g_timeout_add (JOBS_INTERVAL_MS, jobs_cb, self);

  return TRUE;
}

void
kp_server_set_store (KpServer   *self,
                     const char *store)
{
  g_return_if_fail (KP_IS_SERVER (self));
  g_return_if_fail (self->db == NULL);

  g_free (self->store);
  self->store = g_strdup (store);
}

void
kp_server_set_rate_limit (KpServer *self,
                          double    rate,
                          guint     burst)
{
  g_return_if_fail (KP_IS_SERVER (self));
  g_return_if_fail (rate >= 0);

  self->rate_limit = rate;
  self->rate_burst = burst;

  g_clear_pointer (&self->credential_limiter, rate_limiter_free);
  if (rate > 0)
    self->credential_limiter = rate_limiter_new (rate, burst > 0 ? burst : MAX (1, (guint)(rate * 2)));
}

void
kp_server_set_auth_failure_limit (KpServer *self,
                                  double    rate,
                                  guint     burst)
{
  g_return_if_fail (KP_IS_SERVER (self));
  g_return_if_fail (rate > 0);

  g_clear_pointer (&self->auth_failure_limiter, rate_limiter_free);
  self->auth_failure_limiter = rate_limiter_new (rate, burst > 0 ? burst : MAX (1, (guint)(rate * 2)));
}

gboolean
kp_server_set_tls_files (KpServer    *self,
                         const char  *cert_file,
                         const char  *key_file,
                         GError     **error)
{
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (KP_IS_SERVER (self), FALSE);
  g_return_val_if_fail (self->soup_server == NULL, FALSE);

  g_clear_object (&self->tls_certificate);
  self->tls_certificate = g_tls_certificate_new_from_files (cert_file, key_file, &local_error);
  if (self->tls_certificate == NULL)
    {
      g_set_error (error, KP_SERVER_ERROR, KP_SERVER_ERROR_CONFIG,
                   _("Cannot use the TLS certificate “%s” with the key “%s”: %s"),
                   cert_file, key_file, local_error->message);
      return FALSE;
    }

  return TRUE;
}

void
kp_server_set_max_body_size (KpServer *self,
                             gsize     max_body_size)
{
  g_return_if_fail (KP_IS_SERVER (self));
  g_return_if_fail (max_body_size > 0);

  self->max_body_size = max_body_size;
}

void
kp_server_set_notify_ca_file (KpServer   *self,
                              const char *ca_file)
{
  g_return_if_fail (KP_IS_SERVER (self));

  g_free (self->notify_ca_file);
  self->notify_ca_file = g_strdup (ca_file);
  if (self->notifier != NULL && ca_file != NULL)
    kp_notifier_set_ca_file (self->notifier, ca_file);
}

gboolean
kp_server_listen (KpServer    *self,
                  const char  *address,
                  guint        port,
                  GError     **error)
{
  g_autoptr(GInetAddress) inet_address = NULL;
  g_autoptr(GSocketAddress) socket_address = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (KP_IS_SERVER (self), FALSE);
  g_return_val_if_fail (address != NULL, FALSE);
  g_return_val_if_fail (port <= G_MAXUINT16, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  inet_address = g_inet_address_new_from_string (address);
  if (inet_address == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not an IP address"), address);
      return FALSE;
    }

  ensure_soup_server (self);
  socket_address = g_inet_socket_address_new (inet_address, port);
  if (!soup_server_listen (self->soup_server, socket_address,
                           self->tls_certificate != NULL ? SOUP_SERVER_LISTEN_HTTPS : 0,
                           &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
        g_set_error (error, local_error->domain, local_error->code,
                     _("Cannot listen on %s port %u: another program is already using that port"),
                     address, port);
      else
        g_set_error (error, local_error->domain, local_error->code,
                     _("Cannot listen on %s port %u: %s"),
                     address, port, local_error->message);
      return FALSE;
    }

  g_free (self->base_url);
  self->base_url = kp_server_dup_uri (self);

  return TRUE;
}

void
kp_server_set_log_requests (KpServer *self,
                            gboolean  log_requests)
{
  g_return_if_fail (KP_IS_SERVER (self));

  self->log_requests = !!log_requests;
}

char *
kp_server_dup_uri (KpServer *self)
{
  g_autoslist(GUri) uris = NULL;

  g_return_val_if_fail (KP_IS_SERVER (self), NULL);

  if (self->soup_server == NULL)
    return NULL;

  uris = soup_server_get_uris (self->soup_server);
  if (uris == NULL)
    return NULL;

  return g_uri_to_string (uris->data);
}

static gboolean
drain_timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

void
kp_server_drain (KpServer *self,
                 guint     timeout_ms)
{
  gboolean timed_out = FALSE;
  guint timeout_id;

  g_return_if_fail (KP_IS_SERVER (self));

  self->draining = TRUE;
  g_clear_handle_id (&self->jobs_source, g_source_remove);

  /* Stop accepting; connections already open keep being served. */
  if (self->soup_server != NULL)
    {
      GSList *listeners = soup_server_get_listeners (self->soup_server);

      for (GSList *l = listeners; l != NULL; l = l->next)
        g_socket_close (l->data, NULL);
      g_slist_free (listeners);
    }

  if (self->db != NULL)
    {
      wait_for_commit (self);
      commit_group (self);
    }

  /* A long computation is not waited for: its client is told to retry. */
  cancel_jobs (self);

  timeout_id = g_timeout_add (timeout_ms, drain_timeout_cb, &timed_out);
  while (self->in_flight > 0 && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout_id);

  if (self->db != NULL)
    {
      wait_for_commit (self);
      if (kp_db_in_transaction (self->db))
        commit_group (self);
    }

  if (self->notifier != NULL)
    kp_notifier_stop (self->notifier);
}

void
kp_server_stop (KpServer *self)
{
  g_return_if_fail (KP_IS_SERVER (self));

  g_clear_handle_id (&self->jobs_source, g_source_remove);
  self->stopping = TRUE;
  cancel_jobs (self);
  if (self->db != NULL)
    {
      wait_for_commit (self);
      if (kp_db_in_transaction (self->db))
        commit_group (self);
    }
  if (self->soup_server != NULL)
    soup_server_disconnect (self->soup_server);
  if (self->notifier != NULL)
    kp_notifier_stop (self->notifier);
}
