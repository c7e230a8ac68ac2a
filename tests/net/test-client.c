/* test-client.c: KpClient against the real server and a closed port
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "kp-client.h"
#include "kp-test-server.h"

typedef struct
{
  gboolean  done;
  char     *version;
  GError   *error;
} HealthResult;

static void
health_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  HealthResult *r = user_data;

  r->version = kp_client_check_health_finish (KP_CLIENT (source), result, &r->error);
  r->done = TRUE;
}

static void
check_health (KpClient     *client,
              GCancellable *cancellable,
              HealthResult *r)
{
  memset (r, 0, sizeof *r);
  kp_client_check_health_async (client, cancellable, health_cb, r);
  while (!r->done)
    g_main_context_iteration (NULL, TRUE);
}

static void
clear_result (HealthResult *r)
{
  g_clear_pointer (&r->version, g_free);
  g_clear_error (&r->error);
}

static void
test_health (void)
{
  const char *args[] = { "--port", "0", NULL };
  KpTestServer *server = kp_test_server_start (args);
  g_autoptr(KpClient) client = NULL;
  g_autofree char *no_slash = NULL;
  HealthResult r;

  client = kp_client_new (server->url);
  g_assert_cmpstr (kp_client_get_base_url (client), ==, server->url);
  check_health (client, NULL, &r);
  g_assert_no_error (r.error);
  g_assert_cmpstr (r.version, ==, PACKAGE_VERSION);
  clear_result (&r);
  g_assert_finalize_object (g_steal_pointer (&client));

  /* A base URL without the final slash means the same server. */
  no_slash = g_strndup (server->url, strlen (server->url) - 1);
  client = kp_client_new (no_slash);
  g_assert_cmpstr (kp_client_get_base_url (client), ==, server->url);
  check_health (client, NULL, &r);
  g_assert_no_error (r.error);
  g_assert_cmpstr (r.version, ==, PACKAGE_VERSION);
  clear_result (&r);
  g_clear_object (&client);

  /* A base URL below the root where the server has nothing: the server's
   * own message reaches the caller. */
  {
    g_autofree char *sub = g_strconcat (server->url, "sub/", NULL);

    client = kp_client_new (sub);
    check_health (client, NULL, &r);
    g_assert_null (r.version);
    g_assert_error (r.error, KP_CLIENT_ERROR, KP_CLIENT_ERROR_SERVER);
    g_assert_nonnull (strstr (r.error->message, "/sub/health"));
    clear_result (&r);
    g_clear_object (&client);
  }

  /* Once the server is gone, the client says it cannot reach it. */
  client = kp_client_new (server->url);
  kp_test_server_stop (server);
  check_health (client, NULL, &r);
  g_assert_null (r.version);
  g_assert_error (r.error, KP_CLIENT_ERROR, KP_CLIENT_ERROR_UNREACHABLE);
  clear_result (&r);
}

/* A port that is bound but not listening: connecting to it is refused,
 * and nobody else can take it while the socket lives. */
static GSocket *
bind_closed_port (guint *port)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  GSocket *socket;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (socket, address, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));

  return socket;
}

static void
test_closed_port (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(KpClient) client = NULL;
  g_autofree char *url = NULL;
  g_autofree char *expected = NULL;
  HealthResult r;
  guint port = 0;

  socket = bind_closed_port (&port);
  url = g_strdup_printf ("http://127.0.0.1:%u/", port);
  client = kp_client_new (url);

  check_health (client, NULL, &r);
  g_assert_null (r.version);
  g_assert_error (r.error, KP_CLIENT_ERROR, KP_CLIENT_ERROR_UNREACHABLE);
  expected = g_strdup_printf ("Cannot reach the server at %s", url);
  g_assert_true (g_str_has_prefix (r.error->message, expected));
  clear_result (&r);
}

static void
test_invalid_url (void)
{
  const char *bad[] = { "not a url", "", "ftp://example.com/", "/just/a/path" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(KpClient) client = kp_client_new (bad[i]);
      HealthResult r;

      check_health (client, NULL, &r);
      g_assert_null (r.version);
      g_assert_error (r.error, KP_CLIENT_ERROR, KP_CLIENT_ERROR_INVALID_URL);
      clear_result (&r);
    }
}

static void
test_cancelled (void)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(KpClient) client = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *url = NULL;
  HealthResult r;
  guint port = 0;

  socket = bind_closed_port (&port);
  url = g_strdup_printf ("http://127.0.0.1:%u/", port);
  client = kp_client_new (url);

  g_cancellable_cancel (cancellable);
  check_health (client, cancellable, &r);
  g_assert_null (r.version);
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  clear_result (&r);
}

int
main (int   argc,
      char *argv[])
{
  /* With isolated XDG dirs there is no GSettings schema for the system
   * proxy settings, and loopback needs no proxy anyway. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/kempelen/net/client/health", test_health);
  g_test_add_func ("/kempelen/net/client/closed-port", test_closed_port);
  g_test_add_func ("/kempelen/net/client/invalid-url", test_invalid_url);
  g_test_add_func ("/kempelen/net/client/cancelled", test_cancelled);

  return g_test_run ();
}
