/* test-server.c: the real kempelen-server on a loopback port
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <signal.h>
#include <string.h>

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "kp-test-server.h"

typedef struct
{
  guint    status;
  GBytes  *body;
  char    *content_type;
  char    *allow;
} Response;

static void
response_free (Response *response)
{
  g_clear_pointer (&response->body, g_bytes_unref);
  g_free (response->content_type);
  g_free (response->allow);
  g_free (response);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Response, response_free)

static Response *
request (KpTestServer *server,
         const char   *method,
         const char   *path)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(SoupMessage) msg = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *url = g_strconcat (server->url, path[0] == '/' ? path + 1 : path, NULL);
  SoupMessageHeaders *headers;
  Response *response = g_new0 (Response, 1);

  msg = soup_message_new (method, url);
  g_assert_nonnull (msg);
  response->body = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);

  response->status = soup_message_get_status (msg);
  headers = soup_message_get_response_headers (msg);
  response->content_type = g_strdup (soup_message_headers_get_content_type (headers, NULL));
  response->allow = g_strdup (soup_message_headers_get_one (headers, "Allow"));

  return response;
}

static JsonObject *
parse_object (GBytes *body)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  const char *data;
  gsize len;

  data = g_bytes_get_data (body, &len);
  json_parser_load_from_data (parser, data, len, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));

  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static void
test_health (void)
{
  const char *args[] = { "--port", "0", NULL };
  KpTestServer *server = kp_test_server_start (args);
  g_autoptr(Response) response = NULL;
  g_autoptr(JsonObject) object = NULL;

  response = request (server, "GET", "/health");
  g_assert_cmpuint (response->status, ==, 200);
  g_assert_cmpstr (response->content_type, ==, "application/json");
  object = parse_object (response->body);
  g_assert_cmpstr (json_object_get_string_member (object, "status"), ==, "ok");
  g_assert_cmpstr (json_object_get_string_member (object, "version"), ==, PACKAGE_VERSION);
  g_assert_cmpuint (json_object_get_size (object), ==, 2);
  g_clear_pointer (&response, response_free);

  /* HEAD: same status, no body. */
  response = request (server, "HEAD", "/health");
  g_assert_cmpuint (response->status, ==, 200);
  g_assert_cmpuint (g_bytes_get_size (response->body), ==, 0);

  kp_test_server_stop (server);
}

static void
test_errors (void)
{
  const char *args[] = { "--port", "0", "--address", "127.0.0.1", NULL };
  KpTestServer *server = kp_test_server_start (args);
  g_autoptr(Response) response = NULL;
  g_autoptr(JsonObject) object = NULL;

  response = request (server, "GET", "/nope");
  g_assert_cmpuint (response->status, ==, 404);
  g_assert_cmpstr (response->content_type, ==, "application/json");
  object = parse_object (response->body);
  g_assert_cmpstr (json_object_get_string_member (object, "__type"), ==, "NotFound");
  g_assert_nonnull (strstr (json_object_get_string_member (object, "Message"), "/nope"));
  g_clear_pointer (&response, response_free);
  g_clear_pointer (&object, json_object_unref);

  response = request (server, "POST", "/health");
  g_assert_cmpuint (response->status, ==, 405);
  g_assert_cmpstr (response->allow, ==, "GET, HEAD");
  object = parse_object (response->body);
  g_assert_cmpstr (json_object_get_string_member (object, "__type"), ==, "MethodNotAllowed");
  g_clear_pointer (&response, response_free);
  g_clear_pointer (&object, json_object_unref);

  /* "/" is the MTurk API: POST only. */
  response = request (server, "DELETE", "/");
  g_assert_cmpuint (response->status, ==, 405);
  g_assert_cmpstr (response->allow, ==, "POST");
  g_clear_pointer (&response, response_free);

  /* The server still works after the errors. */
  response = request (server, "GET", "/health");
  g_assert_cmpuint (response->status, ==, 200);

  kp_test_server_stop (server);
}

static void
test_sigint (void)
{
  const char *args[] = { "--port", "0", NULL };
  KpTestServer *server = kp_test_server_start (args);

  g_subprocess_send_signal (server->process, SIGINT);
  g_assert_true (kp_test_wait_exit (server->process, 5000));
  g_assert_true (g_subprocess_get_if_exited (server->process));
  g_assert_cmpint (g_subprocess_get_exit_status (server->process), ==, 0);

  /* Nothing listens any more. */
  {
    g_autoptr(SoupSession) session = soup_session_new ();
    g_autoptr(SoupMessage) msg = soup_message_new ("GET", server->url);
    g_autoptr(GBytes) body = NULL;
    g_autoptr(GError) error = NULL;

    body = soup_session_send_and_read (session, msg, NULL, &error);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  }

  g_clear_object (&server->process);
  g_free (server->url);
  g_free (server);
}

/* Runs the server binary to completion and returns its exit status. */
static int
run_server (const char * const  *args,
            char               **out,
            char               **err)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;

  g_ptr_array_add (argv, kp_test_server_dup_path ());
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, g_strdup ("--data-dir"));
  g_ptr_array_add (argv, g_build_filename (g_get_user_data_dir (), "kp-run-server", NULL));
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char * const *)argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                               &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, out, err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));

  return g_subprocess_get_exit_status (process);
}

static void
test_port_in_use (void)
{
  const char *args[] = { "--port", "0", NULL };
  KpTestServer *server = kp_test_server_start (args);
  g_autofree char *port = g_strdup_printf ("%u", server->port);
  const char *second_args[] = { "--port", port, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  status = run_server (second_args, &out, &err);
  g_assert_cmpint (status, !=, 0);
  g_assert_cmpstr (out, ==, "");
  g_assert_true (g_str_has_prefix (err, "kempelen-server: "));
  g_assert_nonnull (strstr (err, port));
  g_assert_nonnull (strstr (err, "already using"));

  /* The first server is unharmed. */
  {
    g_autoptr(Response) response = request (server, "GET", "/health");

    g_assert_cmpuint (response->status, ==, 200);
  }

  kp_test_server_stop (server);
}

static void
test_command_line (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  {
    const char *args[] = { "--help", NULL };

    g_assert_cmpint (run_server (args, &out, &err), ==, 0);
    g_assert_nonnull (strstr (out, "--address"));
    g_assert_nonnull (strstr (out, "--port"));
    g_assert_nonnull (strstr (out, "--version"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }

  {
    const char *args[] = { "--version", NULL };

    g_assert_cmpint (run_server (args, &out, &err), ==, 0);
    g_assert_cmpstr (out, ==, "kempelen-server " PACKAGE_VERSION "\n");
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }

  {
    const char *args[] = { "--port", "70000", NULL };

    g_assert_cmpint (run_server (args, &out, &err), ==, 2);
    g_assert_true (g_str_has_prefix (err, "kempelen-server: "));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }

  {
    const char *args[] = { "--address", "not-an-address", "--port", "0", NULL };

    g_assert_cmpint (run_server (args, &out, &err), ==, 2);
    g_assert_nonnull (strstr (err, "not-an-address"));
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }

  {
    const char *args[] = { "--bogus", NULL };

    g_assert_cmpint (run_server (args, &out, &err), ==, 2);
    g_assert_true (g_str_has_prefix (err, "kempelen-server: "));
  }
}

int
main (int   argc,
      char *argv[])
{
  /* With isolated XDG dirs there is no GSettings schema for the system
   * proxy settings, and loopback needs no proxy anyway. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/kempelen/server/health", test_health);
  g_test_add_func ("/kempelen/server/errors", test_errors);
  g_test_add_func ("/kempelen/server/sigint", test_sigint);
  g_test_add_func ("/kempelen/server/port-in-use", test_port_in_use);
  g_test_add_func ("/kempelen/server/command-line", test_command_line);

  return g_test_run ();
}
