/* kp-client.h: the client side of the Kempelen server's API (libsoup)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define KP_CLIENT_ERROR (kp_client_error_quark ())

typedef enum
{
  KP_CLIENT_ERROR_FAILED,
  KP_CLIENT_ERROR_INVALID_URL,   /* the base URL is not an http(s) URL */
  KP_CLIENT_ERROR_UNREACHABLE,   /* connection refused, unknown host, timeout, TLS */
  KP_CLIENT_ERROR_SERVER,        /* the server answered with an error status */
  KP_CLIENT_ERROR_PROTOCOL,      /* the answer is not what the API promises */
} KpClientError;

GQuark kp_client_error_quark (void);

#define KP_TYPE_CLIENT (kp_client_get_type ())
G_DECLARE_FINAL_TYPE (KpClient, kp_client, KP, CLIENT, GObject)

/* base_url: e.g. "http://127.0.0.1:8470/"; a missing final slash is added. */
KpClient   *kp_client_new                 (const char           *base_url) G_GNUC_WARN_UNUSED_RESULT;
const char *kp_client_get_base_url        (KpClient             *self);

/* Asks GET /health; finishes with the server's version string. */
void        kp_client_check_health_async  (KpClient             *self,
                                           GCancellable         *cancellable,
                                           GAsyncReadyCallback   callback,
                                           gpointer              user_data);
char       *kp_client_check_health_finish (KpClient             *self,
                                           GAsyncResult         *result,
                                           GError              **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
