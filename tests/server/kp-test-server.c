/* kp-test-server.c: runs the built kempelen-server for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-test-server.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#define LISTENING_PREFIX "kempelen-server: listening on "

char *
kp_test_server_dup_path (void)
{
  const char *build_root = g_getenv ("KP_BUILD_ROOT");

  g_assert_nonnull (build_root);
  return g_build_filename (build_root, "src", "server", "kempelen-server", NULL);
}

/* If the test crashes, the server goes with it instead of lingering. */
static void
child_setup (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

KpTestServer *
kp_test_server_start (const char * const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GDataInputStream) input = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autofree char *line = NULL;
  KpTestServer *server;

  gboolean has_data_dir = FALSE;
  static guint n_servers;

  g_ptr_array_add (argv, kp_test_server_dup_path ());
  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    {
      has_data_dir |= g_str_has_prefix (args[i], "--data-dir");
      g_ptr_array_add (argv, g_strdup (args[i]));
    }
  /* A data directory of its own, inside the test's isolated XDG dirs. */
  if (!has_data_dir)
    {
      g_ptr_array_add (argv, g_strdup ("--data-dir"));
      g_ptr_array_add (argv, g_strdup_printf ("%s/kp-test-server-%u", g_get_user_data_dir (),
                                              n_servers++));
    }
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);

  server = g_new0 (KpTestServer, 1);
  server->process = g_subprocess_launcher_spawnv (launcher, (const char * const *)argv->pdata,
                                                  &error);
  g_assert_no_error (error);

  input = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));
  line = g_data_input_stream_read_line_utf8 (input, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, LISTENING_PREFIX));

  server->url = g_strdup (line + strlen (LISTENING_PREFIX));
  uri = g_uri_parse (server->url, G_URI_FLAGS_NONE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_uri_get_scheme (uri), ==, "http");
  g_assert_cmpstr (g_uri_get_host (uri), ==, "127.0.0.1");
  g_assert_cmpstr (g_uri_get_path (uri), ==, "/");
  g_assert_cmpint (g_uri_get_port (uri), >, 0);
  server->port = g_uri_get_port (uri);

  return server;
}

static void
wait_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  gboolean *done = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *done = TRUE;
}

static gboolean
timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
kp_test_wait_exit (GSubprocess *process,
                   guint        timeout_ms)
{
  gboolean done = FALSE;
  gboolean timed_out = FALSE;
  guint timeout_id;

  g_subprocess_wait_async (process, NULL, wait_cb, &done);
  timeout_id = g_timeout_add (timeout_ms, timeout_cb, &timed_out);

  while (!done && !timed_out)
    g_main_context_iteration (NULL, TRUE);

  if (!timed_out)
    g_source_remove (timeout_id);

  /* Let the wait callback run so nothing refers to our stack later. */
  if (!done)
    {
      g_subprocess_force_exit (process);
      while (!done)
        g_main_context_iteration (NULL, TRUE);
      return FALSE;
    }

  return TRUE;
}

void
kp_test_server_stop (KpTestServer *server)
{
  g_subprocess_send_signal (server->process, SIGTERM);
  g_assert_true (kp_test_wait_exit (server->process, 5000));
  g_assert_true (g_subprocess_get_if_exited (server->process));
  g_assert_cmpint (g_subprocess_get_exit_status (server->process), ==, 0);

  g_clear_object (&server->process);
  g_free (server->url);
  g_free (server);
}
