/* main.c: kempelen-server, the requester server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "kp-server.h"

#define DEFAULT_ADDRESS "127.0.0.1"
#define DEFAULT_PORT 8470
#define DEFAULT_RATE_LIMIT 1000.0
#define DEFAULT_RATE_BURST 2000
#define DRAIN_TIMEOUT_MS 5000

static gboolean log_json;
static gboolean log_verbose;

static gboolean
quit_cb (gpointer user_data)
{
  GMainLoop *loop = user_data;

  g_message ("Stopping on signal: finishing the requests in flight");
  g_main_loop_quit (loop);

  return G_SOURCE_CONTINUE;
}

static void
print_error (const char *message)
{
  g_printerr ("kempelen-server: %s\n", message);
}

/* Structured logs: one line per record on stderr, as text or as JSON
 * objects carrying every field (for log collectors); journald gets the
 * fields natively when stderr is the journal. */
static GLogWriterOutput
log_writer (GLogLevelFlags   log_level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  if ((log_level & G_LOG_LEVEL_DEBUG) != 0 && g_getenv ("G_MESSAGES_DEBUG") == NULL)
    return G_LOG_WRITER_HANDLED;
  /* Each request is logged at INFO; --quiet leaves them out. */
  if ((log_level & G_LOG_LEVEL_INFO) != 0 && !log_verbose)
    return G_LOG_WRITER_HANDLED;

  if (g_log_writer_is_journald (fileno (stderr)))
    return g_log_writer_journald (log_level, fields, n_fields, user_data);

  if (log_json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *line = NULL;
      g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
      g_autofree char *time = g_date_time_format_iso8601 (now);
      const char *level = "info";

      if (log_level & G_LOG_LEVEL_ERROR)
        level = "error";
      else if (log_level & G_LOG_LEVEL_CRITICAL)
        level = "critical";
      else if (log_level & G_LOG_LEVEL_WARNING)
        level = "warning";
      else if (log_level & G_LOG_LEVEL_MESSAGE)
        level = "notice";
      else if (log_level & G_LOG_LEVEL_DEBUG)
        level = "debug";

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "time");
      json_builder_add_string_value (builder, time);
      json_builder_set_member_name (builder, "level");
      json_builder_add_string_value (builder, level);
      for (gsize i = 0; i < n_fields; i++)
        {
          g_autofree char *name = NULL;

          if (fields[i].length >= 0 || g_str_equal (fields[i].key, "PRIORITY"))
            continue;  /* binary fields, and the level given above */
          name = g_ascii_strdown (fields[i].key, -1);
          json_builder_set_member_name (builder, name);
          json_builder_add_string_value (builder, fields[i].value);
        }
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      line = json_to_string (root, FALSE);
      fprintf (stderr, "%s\n", line);
      fflush (stderr);
      return G_LOG_WRITER_HANDLED;
    }

  /* Everything goes to stderr: stdout carries only the "listening on" line,
   * and a reader that stops after it must never block the server. */
  {
    g_autofree char *line = g_log_writer_format_fields (log_level, fields, n_fields, FALSE);

    fprintf (stderr, "%s\n", line);
    fflush (stderr);
  }
  return G_LOG_WRITER_HANDLED;
}

static gboolean
parse_listen (const char  *listen,
              char       **address,
              guint       *port,
              GError     **error)
{
  const char *colon = strrchr (listen, ':');
  guint64 value = 0;

  if (colon == NULL ||
      !g_ascii_string_to_unsigned (colon + 1, 10, 0, G_MAXUINT16, &value, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("--listen takes ADDRESS:PORT (e.g. 127.0.0.1:8443 or [::1]:8443), not “%s”"),
                   listen);
      return FALSE;
    }

  if (listen[0] == '[' && colon > listen && colon[-1] == ']')
    *address = g_strndup (listen + 1, colon - listen - 2);
  else
    *address = g_strndup (listen, colon - listen);
  *port = value;

  return TRUE;
}

/* "RATE" or "RATE/BURST": requests per second per credential (0: off). */
static gboolean
parse_rate_limit (const char  *option,
                  const char  *text,
                  double      *rate,
                  guint       *burst,
                  GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (text, "/", 2);
  char *end = NULL;
  double value;
  guint64 burst_value = 0;

  if (parts[0] == NULL)
    goto fail;
  value = g_ascii_strtod (parts[0], &end);
  if (parts[0][0] == '\0' || end == NULL || *end != '\0' || !(value >= 0) || value > 1e9)
    goto fail;
  if (parts[1] != NULL)
    {
      if (!g_ascii_string_to_unsigned (parts[1], 10, 1, G_MAXUINT, &burst_value, NULL))
        goto fail;
    }
  else
    burst_value = MAX (1, (guint64) (value * 2));

  *rate = value;
  *burst = value > 0 ? (guint) burst_value : 0;
  return TRUE;

fail:
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               _("%s takes RATE or RATE/BURST (requests per second, e.g. 200/400), "
                 "not “%s”"), option, text);
  return FALSE;
}

/* Settings from the config file fill what the command line left unset. */
static gboolean
load_config (const char  *path,
             char       **data_dir,
             char       **listen,
             char       **tls_cert,
             char       **tls_key,
             char       **notify_ca_file,
             char       **store,
             char       **rate_limit,
             char       **auth_failure_limit,
             gint64      *max_body_size,
             GError     **error)
{
  g_autoptr(GKeyFile) file = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;
  struct { const char *group; const char *key; char **value; } strings[] = {
    { "server", "data-dir", data_dir },
    { "server", "store", store },
    { "server", "rate-limit", rate_limit },
    { "server", "auth-failure-limit", auth_failure_limit },
    { "server", "listen", listen },
    { "server", "tls-cert", tls_cert },
    { "server", "tls-key", tls_key },
    { "notifications", "ca-file", notify_ca_file },
  };

  if (!g_key_file_load_from_file (file, path, G_KEY_FILE_NONE, &local_error))
    {
      g_set_error (error, local_error->domain, local_error->code,
                   _("Cannot read the configuration “%s”: %s"), path, local_error->message);
      return FALSE;
    }

  for (guint i = 0; i < G_N_ELEMENTS (strings); i++)
    {
      if (*strings[i].value != NULL || !g_key_file_has_key (file, strings[i].group, strings[i].key, NULL))
        continue;
      *strings[i].value = g_key_file_get_string (file, strings[i].group, strings[i].key, &local_error);
      if (*strings[i].value == NULL)
        {
          g_set_error (error, local_error->domain, local_error->code,
                       _("“%s”, [%s] %s: %s"), path, strings[i].group, strings[i].key,
                       local_error->message);
          return FALSE;
        }
    }

  if (*max_body_size == 0 && g_key_file_has_key (file, "server", "max-body-size", NULL))
    {
      *max_body_size = g_key_file_get_int64 (file, "server", "max-body-size", &local_error);
      if (local_error != NULL || *max_body_size <= 0)
        {
          g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_INVALID_VALUE,
                       _("“%s”, [server] max-body-size must be a positive number of bytes"),
                       path);
          return FALSE;
        }
    }

  /* Refuse keys we do not know: a typo must not silently fall back. */
  {
    const char *known_groups[] = { "server", "notifications", NULL };
    g_auto(GStrv) groups = g_key_file_get_groups (file, NULL);

    for (guint g = 0; groups[g] != NULL; g++)
      {
        g_auto(GStrv) keys = NULL;

        if (!g_strv_contains (known_groups, groups[g]))
          {
            g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_GROUP_NOT_FOUND,
                         _("“%s”: unknown section [%s]"), path, groups[g]);
            return FALSE;
          }

        keys = g_key_file_get_keys (file, groups[g], NULL, NULL);
        for (guint k = 0; keys[k] != NULL; k++)
          {
            gboolean known = g_str_equal (keys[k], "max-body-size") && g_str_equal (groups[g], "server");

            for (guint i = 0; i < G_N_ELEMENTS (strings) && !known; i++)
              known = g_str_equal (strings[i].group, groups[g]) && g_str_equal (strings[i].key, keys[k]);
            if (!known)
              {
                g_set_error (error, G_KEY_FILE_ERROR, G_KEY_FILE_ERROR_KEY_NOT_FOUND,
                             _("“%s”: unknown setting “%s” in [%s]"), path, keys[k], groups[g]);
                return FALSE;
              }
          }
      }
  }

  return TRUE;
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
  g_autofree char *listen = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *config = NULL;
  g_autofree char *tls_cert = NULL;
  g_autofree char *tls_key = NULL;
  g_autofree char *notify_ca_file = NULL;
  g_autofree char *log_format = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *store = NULL;
  g_autofree char *rate_limit = NULL;
  g_autofree char *auth_failure_limit = NULL;
  double auth_rate = 20;
  guint auth_burst = 40;
  double rate = DEFAULT_RATE_LIMIT;
  guint burst = DEFAULT_RATE_BURST;
  gint64 max_body_size = 0;
  gboolean version = FALSE;
  gboolean quiet = FALSE;
  gboolean no_response_cache = FALSE;
  int port = -1;
  guint listen_port = DEFAULT_PORT;
  guint sigint_id;
  guint sigterm_id;
  const GOptionEntry entries[] = {
    { "data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &data_dir,
      N_("Directory holding the database and media (default: ~/.local/share/kempelen-server)"),
      N_("DIR") },
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &listen,
      N_("Address and port to listen on (default: 127.0.0.1:8470; port 0 picks a free one)"),
      N_("ADDRESS:PORT") },
    { "store", 's', 0, G_OPTION_ARG_STRING, &store,
      N_("Keep the data in this PostgreSQL database (a libpq URI, postgresql://…) instead of "
         "DIR/kempelen.db; several servers may share one (default: SQLite in the data directory)"),
      N_("URI") },
    { "rate-limit", 0, 0, G_OPTION_ARG_STRING, &rate_limit,
      N_("Requests per second each access key or worker token may make, as RATE or RATE/BURST; "
         "0 turns the limit off (default: 1000/2000)"), N_("RATE[/BURST]") },
    { "auth-failure-limit", 0, 0, G_OPTION_ARG_STRING, &auth_failure_limit,
      N_("Failed authentications per second one client address may make, as RATE or "
         "RATE/BURST; over it the address is refused for a while (default: 20/40)"),
      N_("RATE[/BURST]") },
    { "tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &tls_cert,
      N_("Serve HTTPS with this PEM certificate (needs --tls-key)"), N_("PEM") },
    { "tls-key", 0, 0, G_OPTION_ARG_FILENAME, &tls_key,
      N_("The PEM private key of --tls-cert"), N_("PEM") },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config,
      N_("Read settings from this file ([server] data-dir, store, listen, tls-cert, tls-key, "
         "max-body-size, rate-limit, auth-failure-limit; [notifications] ca-file); the command line wins"), N_("FILE") },
    { "max-body-size", 0, 0, G_OPTION_ARG_INT64, &max_body_size,
      N_("Largest request body accepted, in bytes (default: 8388608)"), N_("BYTES") },
    { "log-format", 0, 0, G_OPTION_ARG_STRING, &log_format,
      N_("Log records as “text” (default) or “json”, one per line on stderr"), N_("FORMAT") },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet,
      N_("Do not log each request"), NULL },
    { "no-response-cache", 0, 0, G_OPTION_ARG_NONE, &no_response_cache,
      N_("Compute every answer anew, even of reads repeated while nothing changed"), NULL },
    { "address", 'a', 0, G_OPTION_ARG_STRING, &address,
      N_("IP address to listen on (older form of --listen)"), N_("ADDRESS") },
    { "port", 'p', 0, G_OPTION_ARG_INT, &port,
      N_("TCP port to listen on (older form of --listen)"), N_("PORT") },
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
                                _("Serves Kempelen requesters (the MTurk Requester API: boto3 and "
                                  "the AWS CLI work with --endpoint-url) and workers (/worker/v1/).\n"
                                  "Prints “kempelen-server: listening on URL” once ready; "
                                  "on SIGINT or SIGTERM it stops accepting, answers the requests "
                                  "in flight, and exits.\n"
                                  "Accounts are made with “kempelenctl admin --data-dir DIR”."));
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

  if (log_format != NULL && !g_str_equal (log_format, "text") && !g_str_equal (log_format, "json"))
    {
      print_error (_("--log-format takes “text” or “json”"));
      return 2;
    }
  log_json = g_strcmp0 (log_format, "json") == 0;
  log_verbose = !quiet;
  g_log_set_writer_func (log_writer, NULL, NULL);

  if (config != NULL &&
      !load_config (config, &data_dir, &listen, &tls_cert, &tls_key, &notify_ca_file,
                    &store, &rate_limit, &auth_failure_limit, &max_body_size, &error))
    {
      print_error (error->message);
      return 2;
    }

  if (listen != NULL && (address != NULL || port >= 0))
    {
      print_error (_("Use either --listen or --address/--port"));
      return 2;
    }
  if (listen != NULL)
    {
      if (!parse_listen (listen, &address, &listen_port, &error))
        {
          print_error (error->message);
          return 2;
        }
    }
  else if (port >= 0)
    {
      if (port > G_MAXUINT16)
        {
          g_autofree char *message = g_strdup_printf (_("The port must be between 0 and 65535, not %d"),
                                                      port);

          print_error (message);
          return 2;
        }
      listen_port = port;
    }

  if ((tls_cert == NULL) != (tls_key == NULL))
    {
      print_error (_("--tls-cert and --tls-key go together"));
      return 2;
    }

  if (max_body_size < 0)
    {
      print_error (_("--max-body-size must be a positive number of bytes"));
      return 2;
    }

  if (rate_limit != NULL && !parse_rate_limit ("--rate-limit", rate_limit, &rate, &burst, &error))
    {
      print_error (error->message);
      return 2;
    }

  if (auth_failure_limit != NULL &&
      (!parse_rate_limit ("--auth-failure-limit", auth_failure_limit, &auth_rate, &auth_burst, &error) || auth_rate <= 0))
    {
      print_error (error != NULL ? error->message
                                 : _("--auth-failure-limit must be more than 0"));
      return 2;
    }

  if (store != NULL && !g_str_has_prefix (store, "postgresql:") && !g_str_has_prefix (store, "postgres:"))
    {
      print_error (_("--store takes a PostgreSQL URI (postgresql://…)"));
      return 2;
    }

  if (data_dir == NULL)
    data_dir = g_build_filename (g_get_user_data_dir (), "kempelen-server", NULL);

  server = kp_server_new ();
  kp_server_set_log_requests (server, !quiet);
  kp_server_set_response_cache (server, !no_response_cache);
  kp_server_set_rate_limit (server, rate, burst);
  kp_server_set_auth_failure_limit (server, auth_rate, auth_burst);
  if (store != NULL)
    kp_server_set_store (server, store);
  if (max_body_size > 0)
    kp_server_set_max_body_size (server, max_body_size);
  if (notify_ca_file != NULL)
    kp_server_set_notify_ca_file (server, notify_ca_file);
  if (tls_cert != NULL && !kp_server_set_tls_files (server, tls_cert, tls_key, &error))
    {
      print_error (error->message);
      return 2;
    }

  if (!kp_server_open_data_dir (server, data_dir, &error))
    {
      g_autofree char *message = g_strdup_printf (_("Cannot open the data directory “%s”: %s"),
                                                  data_dir, error->message);

      print_error (message);
      return EXIT_FAILURE;
    }

  if (!kp_server_listen (server, address != NULL ? address : DEFAULT_ADDRESS, listen_port, &error))
    {
      print_error (error->message);
      return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT) ? 2 : EXIT_FAILURE;
    }

  loop = g_main_loop_new (NULL, FALSE);
  sigint_id = g_unix_signal_add (SIGINT, quit_cb, loop);
  sigterm_id = g_unix_signal_add (SIGTERM, quit_cb, loop);
  signal (SIGPIPE, SIG_IGN);

  /* Tests and scripts read this line to learn the port. */
  uri = kp_server_dup_uri (server);
  g_print ("kempelen-server: listening on %s\n", uri);
  fflush (stdout);

  g_main_loop_run (loop);

  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  kp_server_drain (server, DRAIN_TIMEOUT_MS);
  kp_server_stop (server);

  return EXIT_SUCCESS;
}
