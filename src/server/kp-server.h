/* kp-server.h: the requester server's HTTP front (libsoup)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define KP_SERVER_ERROR (kp_server_error_quark ())

/* Errors of the HTTP layer itself; kp-server.c maps each to an HTTP status
 * and a JSON body in one place. */
typedef enum
{
  KP_SERVER_ERROR_FAILED,              /* 500 ServiceFault */
  KP_SERVER_ERROR_NOT_FOUND,           /* 404 NotFound */
  KP_SERVER_ERROR_METHOD_NOT_ALLOWED,  /* 405 MethodNotAllowed */
  KP_SERVER_ERROR_INVALID_REQUEST,     /* 400 RequestError */
  KP_SERVER_ERROR_TOO_LARGE,           /* 413 RequestEntityTooLarge */
  KP_SERVER_ERROR_CONFIG,              /* a bad setting (start-up only) */
} KpServerError;

GQuark kp_server_error_quark (void);

#define KP_TYPE_SERVER (kp_server_get_type ())
G_DECLARE_FINAL_TYPE (KpServer, kp_server, KP, SERVER, GObject)

KpServer *kp_server_new              (void) G_GNUC_WARN_UNUSED_RESULT;
/* Opens (creating if needed) the data directory: its database, media store
 * and server key. Must be called before listening. */
gboolean  kp_server_open_data_dir    (KpServer    *self,
                                      const char  *data_dir,
                                      GError     **error);
/* Uses this store instead of the data directory's SQLite database: a
 * PostgreSQL URI ("postgresql://…", see kp_db_open()). Before
 * kp_server_open_data_dir(). */
void      kp_server_set_store        (KpServer    *self,
                                      const char  *store);
/* Limits each credential (an access key, a worker token) to rate requests
 * per second on average with bursts of up to burst; 0 turns it off.
 * Requests over the limit get ThrottlingException (MTurk API) or 429
 * (worker API). */
void      kp_server_set_rate_limit   (KpServer    *self,
                                      double       rate,
                                      guint        burst);
/* Limits failed authentications per client address (default 20 a second,
 * bursts of 40): over it, every request from the address is refused
 * before its credentials are looked at. rate must be positive. */
void      kp_server_set_auth_failure_limit (KpServer *self,
                                            double    rate,
                                            guint     burst);
/* Serves HTTPS with this PEM certificate (chain) and key. */
gboolean  kp_server_set_tls_files    (KpServer    *self,
                                      const char  *cert_file,
                                      const char  *key_file,
                                      GError     **error);
/* Largest request body accepted (default 8 MiB); larger ones get 413. */
void      kp_server_set_max_body_size (KpServer   *self,
                                       gsize       max_body_size);
/* A PEM file of CA certificates trusted for notification webhooks, in
 * addition to the system's. */
void      kp_server_set_notify_ca_file (KpServer  *self,
                                        const char *ca_file);
/* Whether each request is logged (at INFO, with structured fields). */
void      kp_server_set_log_requests (KpServer    *self,
                                      gboolean     log_requests);
/* Whether answers of read operations (GetHIT, ListHITs, …) are reused
 * while nothing in the store changed within the same second (default:
 * yes). */
void      kp_server_set_response_cache (KpServer  *self,
                                        gboolean   enabled);
/* Listens on address (an IP address, e.g. "127.0.0.1" or "::1") and port
 * (0 picks a free one). */
gboolean  kp_server_listen           (KpServer    *self,
                                      const char  *address,
                                      guint        port,
                                      GError     **error);
/* The base URL it listens on, e.g. "http://127.0.0.1:8470/", or NULL. */
char     *kp_server_dup_uri          (KpServer    *self) G_GNUC_WARN_UNUSED_RESULT;
/* Stops accepting connections, commits and answers what is in flight
 * (waiting at most timeout_ms for responses to be written), then closes. */
void      kp_server_drain            (KpServer    *self,
                                      guint        timeout_ms);
void      kp_server_stop             (KpServer    *self);

/* Runs one MTurk operation for requester_id as if it had arrived signed
 * (body is the JSON request), commits, and returns the JSON answer. For
 * the fuzzer and for tools on the server's machine; HTTP requests take the
 * same path after authentication. */
gboolean  kp_server_call_mturk       (KpServer    *self,
                                      const char  *requester_id,
                                      const char  *operation,
                                      GBytes      *body,
                                      char       **response,
                                      GError     **error);

G_END_DECLS
