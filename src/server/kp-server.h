/* kp-server.h: the requester server's HTTP front (libsoup)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define KP_SERVER_ERROR (kp_server_error_quark ())

/* Errors a handler returns; kp-server.c maps each to an HTTP status and an
 * MTurk-style "__type" in one place. */
typedef enum
{
  KP_SERVER_ERROR_FAILED,              /* 500 ServiceFault */
  KP_SERVER_ERROR_NOT_FOUND,           /* 404 NotFound */
  KP_SERVER_ERROR_METHOD_NOT_ALLOWED,  /* 405 MethodNotAllowed */
  KP_SERVER_ERROR_INVALID_REQUEST,     /* 400 RequestError */
} KpServerError;

GQuark kp_server_error_quark (void);

#define KP_TYPE_SERVER (kp_server_get_type ())
G_DECLARE_FINAL_TYPE (KpServer, kp_server, KP, SERVER, GObject)

KpServer *kp_server_new     (void) G_GNUC_WARN_UNUSED_RESULT;
/* Listens on address (an IP address, e.g. "127.0.0.1" or "::1") and port
 * (0 picks a free one). */
gboolean  kp_server_listen  (KpServer    *self,
                             const char  *address,
                             guint        port,
                             GError     **error);
/* The base URL it listens on, e.g. "http://127.0.0.1:8470/", or NULL. */
char     *kp_server_dup_uri (KpServer    *self) G_GNUC_WARN_UNUSED_RESULT;
void      kp_server_stop    (KpServer    *self);

G_END_DECLS
