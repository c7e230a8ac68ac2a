/* main.c: kempelen-server, the requester server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib-unix.h>
#include <glib/gi18n.h>

#include "kp-server.h"

#define DEFAULT_ADDRESS "127.0.0.1"
#define DEFAULT_PORT 8470

static gboolean
quit_cb (gpointer user_data)
{
  GMainLoop *loop = user_data;

  g_debug ("Stopping on signal");
  g_main_loop_quit (loop);

  return G_SOURCE_CONTINUE;
}

static void
print_error (const char *message)
{
  g_printerr ("kempelen-server: %s\n", message);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(KpServer) server = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  g_autofree char *uri = NULL;
  gboolean version = FALSE;
  int port = DEFAULT_PORT;
  guint sigint_id;
  guint sigterm_id;
  const GOptionEntry entries[] = {
    { "address", 'a', 0, G_OPTION_ARG_STRING, &address,
      N_("IP address to listen on (default: 127.0.0.1, this machine only)"), N_("ADDRESS") },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port,
      N_("TCP port to listen on (default: 8470; 0 picks a free port)"), N_("PORT") },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version,
      N_("Show the version and exit"), NULL },
    { NULL }
  };

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                _("Serves Kempelen requesters and workers over HTTP.\n"
                                  "Prints “kempelen-server: listening on URL” once ready; "
                                  "stops cleanly on SIGINT or SIGTERM."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      print_error (error->message);
      return 2;
    }

  if (version)
    {
      g_print ("kempelen-server %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }

  if (argc > 1)
    {
      g_autofree char *message = g_strdup_printf (_("Unexpected argument “%s”"), argv[1]);

      print_error (message);
      return 2;
    }

  if (port < 0 || port > G_MAXUINT16)
    {
      g_autofree char *message = g_strdup_printf (_("The port must be between 0 and 65535, not %d"),
                                                  port);

      print_error (message);
      return 2;
    }

  server = kp_server_new ();
  if (!kp_server_listen (server, address != NULL ? address : DEFAULT_ADDRESS, port, &error))
    {
      print_error (error->message);
      return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT) ? 2 : EXIT_FAILURE;
    }

  loop = g_main_loop_new (NULL, FALSE);
  sigint_id = g_unix_signal_add (SIGINT, quit_cb, loop);
  sigterm_id = g_unix_signal_add (SIGTERM, quit_cb, loop);

  /* Tests and scripts read this line to learn the port. */
  uri = kp_server_dup_uri (server);
  g_print ("kempelen-server: listening on %s\n", uri);
  fflush (stdout);

  g_main_loop_run (loop);

  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  kp_server_stop (server);

  return EXIT_SUCCESS;
}
