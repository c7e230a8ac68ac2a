/* kp-worker-client.h: a client of the server's worker API (/worker/v1/)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define KP_WORKER_ERROR (kp_worker_error_quark ())

/* One code per documented `error` of the worker API (docs/worker-api.md),
 * plus what can go wrong before an answer arrives. The message of a
 * server error is the server's own sentence for the worker. */
typedef enum
{
  KP_WORKER_ERROR_FAILED,
  KP_WORKER_ERROR_INVALID_URL,            /* the server address is not an http(s) URL */
  KP_WORKER_ERROR_NETWORK,                /* no answer: refused, reset, timeout, TLS, DNS */
  KP_WORKER_ERROR_PROTOCOL,               /* an answer that is not what the API promises */
  KP_WORKER_ERROR_INVALID_REQUEST,        /* 400 invalid-request */
  KP_WORKER_ERROR_UNAUTHORIZED,           /* 401 unauthorized */
  KP_WORKER_ERROR_FORBIDDEN,              /* 403 forbidden */
  KP_WORKER_ERROR_NOT_FOUND,              /* 404 not-found */
  KP_WORKER_ERROR_METHOD_NOT_ALLOWED,     /* 405 method-not-allowed */
  KP_WORKER_ERROR_CONFLICT,               /* 409 conflict */
  KP_WORKER_ERROR_GONE,                   /* 410 gone */
  KP_WORKER_ERROR_TOO_LARGE,              /* 413 too-large */
  KP_WORKER_ERROR_RANGE_NOT_SATISFIABLE,  /* 416 range-not-satisfiable */
  KP_WORKER_ERROR_RATE_LIMITED,           /* 429: retry later */
  KP_WORKER_ERROR_INTERNAL,               /* 500 internal: retry later */
  KP_WORKER_ERROR_BUSY,                   /* 503 busy: retry later */
  KP_WORKER_ERROR_CORRUPT,                /* media whose bytes do not match their hash */
} KpWorkerError;

GQuark        kp_worker_error_quark        (void);
/* The code for an HTTP status (and, when known, the body's `error`). */
KpWorkerError kp_worker_error_from_status  (guint         status,
                                            const char   *error_code);
/* TRUE for failures that may go away by themselves (network, 429, 500,
 * 503, a corrupt download): retry them with back-off. Every other 4xx is
 * final: sending the same request again gets the same answer. */
gboolean      kp_worker_error_is_retryable (const GError *error);

/* Reports a media download's progress: bytes received so far and the
 * file's size (0 while unknown). Called on the thread-default main context
 * of the call. */
typedef void (*KpProgressFunc) (guint64  done,
                                guint64  total,
                                gpointer user_data);

#define KP_TYPE_WORKER_CLIENT (kp_worker_client_get_type ())
G_DECLARE_FINAL_TYPE (KpWorkerClient, kp_worker_client, KP, WORKER_CLIENT, GObject)

/* server_url: the server's address, e.g. "https://host:8443/" (the worker
 * API is below it, at worker/v1/); a URL that already ends in /worker/v1
 * is taken as it is. The token is sent as a bearer token and never logged.
 * A client runs its requests on the thread-default main context of the
 * thread that created it; use it from that thread only. */
KpWorkerClient *kp_worker_client_new          (const char          *server_url,
                                               const char          *token) G_GNUC_WARN_UNUSED_RESULT;
const char     *kp_worker_client_get_server_url (KpWorkerClient    *self);
/* The worker API's base, ending in "/worker/v1/". */
const char     *kp_worker_client_get_api_url  (KpWorkerClient      *self);
/* Connections kept to the server at once (default 8): parallel downloads. */
void            kp_worker_client_set_max_connections (KpWorkerClient *self,
                                               guint                n_connections);

/* The JSON calls. Each finishes with kp_worker_client_call_finish(), which
 * gives the answer's JSON object. params: nullable query parameters
 * (string to string); NULL values are left out. */
void        kp_worker_client_get_me_async             (KpWorkerClient      *self,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
void        kp_worker_client_list_groups_async        (KpWorkerClient      *self,
                                                       GHashTable          *params,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
void        kp_worker_client_get_group_async          (KpWorkerClient      *self,
                                                       const char          *hit_type_id,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
void        kp_worker_client_preview_group_async      (KpWorkerClient      *self,
                                                       const char          *hit_type_id,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
void        kp_worker_client_get_hit_async            (KpWorkerClient      *self,
                                                       const char          *hit_id,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
/* Accepting is not idempotent: after a NETWORK error, look at
 * list_assignments (status=Accepted) before accepting again. */
void        kp_worker_client_accept_group_async       (KpWorkerClient      *self,
                                                       const char          *hit_type_id,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
/* Up to count (1–100) HITs of the group in one request and one commit on
 * the server; the answer (kp_worker_client_call_finish()) is
 * {"assignments": [...]}, as many as the group had left for the worker,
 * or KP_WORKER_ERROR_GONE if none. Not idempotent either. */
void        kp_worker_client_accept_group_many_async  (KpWorkerClient      *self,
                                                       const char          *hit_type_id,
                                                       guint                count,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
void        kp_worker_client_accept_hit_async         (KpWorkerClient      *self,
                                                       const char          *hit_id,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
void        kp_worker_client_list_assignments_async   (KpWorkerClient      *self,
                                                       GHashTable          *params,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
void        kp_worker_client_get_assignment_async     (KpWorkerClient      *self,
                                                       const char          *assignment_id,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
void        kp_worker_client_return_assignment_async  (KpWorkerClient      *self,
                                                       const char          *assignment_id,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
/* answers: a JSON array of answer objects. */
void        kp_worker_client_submit_async             (KpWorkerClient      *self,
                                                       const char          *assignment_id,
                                                       const char          *submission_id,
                                                       JsonNode            *answers,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
/* body: the whole request, {"submissions": [...]}, as UTF-8 JSON. */
void        kp_worker_client_sync_async               (KpWorkerClient      *self,
                                                       GBytes              *body,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
void        kp_worker_client_get_earnings_async       (KpWorkerClient      *self,
                                                       GHashTable          *params,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
void        kp_worker_client_list_messages_async      (KpWorkerClient      *self,
                                                       GHashTable          *params,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
void        kp_worker_client_list_qualifications_async (KpWorkerClient     *self,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
void        kp_worker_client_get_qualification_type_async (KpWorkerClient  *self,
                                                       const char          *qualification_type_id,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
/* answers: NULL for a type without a test, else a JSON array. */
void        kp_worker_client_request_qualification_async (KpWorkerClient   *self,
                                                       const char          *qualification_type_id,
                                                       JsonNode            *answers,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
JsonObject *kp_worker_client_call_finish              (KpWorkerClient      *self,
                                                       GAsyncResult        *result,
                                                       GError             **error) G_GNUC_WARN_UNUSED_RESULT;

/* Downloads GET /media/{sha256} into dest_path, hashing while it streams.
 * The bytes go to "<dest_path>.part" first, which a later call resumes
 * with a Range request; the file is renamed to dest_path only when its
 * SHA-256 matches. A mismatch deletes the part and downloads again, up to
 * max_attempts times in all (0: 3), as does a network failure. */
void        kp_worker_client_download_media_async     (KpWorkerClient      *self,
                                                       const char          *sha256,
                                                       const char          *dest_path,
                                                       guint                max_attempts,
                                                       KpProgressFunc       progress,
                                                       gpointer             progress_data,
                                                       GDestroyNotify       progress_destroy,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
/* size and content_type (nullable) describe the verified file. */
gboolean    kp_worker_client_download_media_finish    (KpWorkerClient      *self,
                                                       GAsyncResult        *result,
                                                       guint64             *size,
                                                       char               **content_type,
                                                       GError             **error);

G_END_DECLS
