/* kp-cli-admin.c: kempelenctl admin, the administration of a server's
 * data directory
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * It works on the data directory itself, not through the network, so it
 * runs on the server's machine as the user owning the data. It can run
 * while the server does: SQLite serialises the writers.
 */

#include "config.h"

#include <inttypes.h>

#include "kp-cli-admin.h"

#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "kp-admin.h"
#include "kp-worker-api.h"

#define EXIT_USAGE 2

static int
usage (const char *message)
{
  g_printerr ("kempelenctl: %s\n", message);
  g_printerr ("%s\n", _("Usage: kempelenctl admin --data-dir DIR [--store URI] requester create [--name NAME] [--json]\n"
                        "       kempelenctl admin --data-dir DIR worker create [--name NAME] "
                        "[--country CC [--subdivision SS]] [--master] [--json]\n"
                        "       kempelenctl admin --data-dir DIR fund ACCESS_KEY_ID AMOUNT\n"
                        "       kempelenctl admin --data-dir DIR media add FILE… [--content-type TYPE] [--json]"));
  return EXIT_USAGE;
}

static int
fail (const char   *what,
      const GError *error)
{
  g_printerr ("kempelenctl: %s: %s\n", what, error->message);
  return EXIT_FAILURE;
}

static void
print_json (const char * const *names,
            const char * const *values)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;

  json_builder_begin_object (builder);
  for (guint i = 0; names[i] != NULL; i++)
    {
      json_builder_set_member_name (builder, names[i]);
      json_builder_add_string_value (builder, values[i]);
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  text = json_to_string (root, TRUE);
  g_print ("%s\n", text);
}

/* "10", "10.5", "10.50" -> cents; FALSE for anything else or ≤ 0. */
static gboolean
parse_amount (const char *text,
              gint64     *cents)
{
  g_auto(GStrv) parts = g_strsplit (text, ".", -1);
  guint64 units = 0;
  guint64 fraction = 0;
  guint n_parts = g_strv_length (parts);

  if (n_parts < 1 || n_parts > 2 ||
      !g_ascii_string_to_unsigned (parts[0], 10, 0, 10000000, &units, NULL))
    return FALSE;

  if (n_parts == 2)
    {
      gsize length = strlen (parts[1]);

      if (length < 1 || length > 2 ||
          !g_ascii_string_to_unsigned (parts[1], 10, 0, 99, &fraction, NULL))
        return FALSE;
      if (length == 1)
        fraction *= 10;
    }

  *cents = units * 100 + fraction;
  return *cents > 0;
}

int
kp_cli_admin_run (int    argc,
                  char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(KpDb) db = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *store = NULL;
  g_autofree char *name = NULL;
  g_autofree char *country = NULL;
  g_autofree char *subdivision = NULL;
  g_autofree char *content_type = NULL;
  gboolean json = FALSE;
  gboolean master = FALSE;
  const GOptionEntry entries[] = {
    { "data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &data_dir,
      N_("The server’s data directory (as given to kempelen-server --data-dir)"), N_("DIR") },
    { "store", 's', 0, G_OPTION_ARG_STRING, &store,
      N_("The server’s PostgreSQL database, if it uses one (as given to kempelen-server --store)"),
      N_("URI") },
    { "name", 'n', 0, G_OPTION_ARG_STRING, &name,
      N_("A name to remember the account by"), N_("NAME") },
    { "country", 0, 0, G_OPTION_ARG_STRING, &country,
      N_("The worker’s country (ISO 3166-1 alpha-2), for locale qualifications"), N_("CC") },
    { "subdivision", 0, 0, G_OPTION_ARG_STRING, &subdivision,
      N_("The worker’s subdivision (ISO 3166-2, e.g. WA)"), N_("SS") },
    { "master", 0, 0, G_OPTION_ARG_NONE, &master,
      N_("The worker holds the Masters qualification"), NULL },
    { "content-type", 0, 0, G_OPTION_ARG_STRING, &content_type,
      N_("The media type of the files added (default: guessed from name and content)"), N_("TYPE") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      N_("Print the result as JSON"), NULL },
    { NULL }
  };

  g_set_prgname ("kempelenctl admin");
  context = g_option_context_new (_("requester create | worker create | fund ACCESS_KEY_ID AMOUNT | media add FILE…"));
  g_option_context_set_summary (context,
                                _("Creates requesters and workers of a kempelen-server and adds funds.\n\n"
                                  "  requester create   prints a new requester’s AccessKeyId and SecretAccessKey\n"
                                  "  worker create      prints a new worker’s WorkerId and Token\n"
                                  "  fund KEY AMOUNT    adds prepaid funds in dollars (e.g. 100 or 25.50)\n"
                                  "  media add FILE…    puts files into the media store; prints each one’s SHA-256,\n"
                                  "                     which workers fetch as /worker/v1/media/SHA256"));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage (error->message);

  if (data_dir == NULL)
    return usage (_("--data-dir is required"));

  if (argc < 2)
    return usage (_("No admin command given"));

  if ((country == NULL && subdivision != NULL) ||
      (country != NULL && (strlen (country) != 2 || !g_ascii_isupper (country[0]) ||
                           !g_ascii_isupper (country[1]))))
    return usage (_("--country takes a two-letter upper-case country code such as US"));

  if (g_str_equal (argv[1], "requester") && argc == 3 && g_str_equal (argv[2], "create"))
    {
      g_autofree char *id = NULL;
      g_autofree char *key_id = NULL;
      g_autofree char *secret = NULL;

      db = kp_admin_open_store (data_dir, store, &error);
      if (db == NULL || !kp_admin_create_requester (db, name, &id, &key_id, &secret, &error))
        return fail (_("Cannot create the requester"), error);

      if (json)
        print_json ((const char *[]) { "RequesterId", "AccessKeyId", "SecretAccessKey", NULL },
                    (const char *[]) { id, key_id, secret, NULL });
      else
        g_print ("RequesterId: %s\nAccessKeyId: %s\nSecretAccessKey: %s\n", id, key_id, secret);
      return EXIT_SUCCESS;
    }

  if (g_str_equal (argv[1], "worker") && argc == 3 && g_str_equal (argv[2], "create"))
    {
      g_autofree char *id = NULL;
      g_autofree char *token = NULL;

      db = kp_admin_open_store (data_dir, store, &error);
      if (db == NULL || !kp_admin_create_worker (db, name, &id, &token, &error))
        return fail (_("Cannot create the worker"), error);
      if ((country != NULL || master) &&
          !kp_admin_update_worker (db, id, country, subdivision, master, &error))
        return fail (_("Cannot create the worker"), error);

      if (json)
        print_json ((const char *[]) { "WorkerId", "Token", NULL },
                    (const char *[]) { id, token, NULL });
      else
        g_print ("WorkerId: %s\nToken: %s\n", id, token);
      return EXIT_SUCCESS;
    }

  if (g_str_equal (argv[1], "fund") && argc == 4)
    {
      gint64 cents = 0;

      if (!parse_amount (argv[3], &cents))
        return usage (_("AMOUNT must be a positive number of dollars with at most two decimals"));

      db = kp_admin_open_store (data_dir, store, &error);
      if (db == NULL || !kp_admin_fund (db, argv[2], cents, &error))
        return fail (_("Cannot add funds"), error);

      g_print (_("Added $%" PRId64 ".%02d to %s\n"), cents / 100, (int)(cents % 100), argv[2]);
      return EXIT_SUCCESS;
    }

  if (g_str_equal (argv[1], "media") && argc >= 4 && g_str_equal (argv[2], "add"))
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      KpCtx ctx = { 0 };

      db = kp_admin_open_store (data_dir, store, &error);
      if (db == NULL)
        return fail (_("Cannot open the data directory"), error);

      ctx.db = db;
      ctx.data_dir = data_dir;
      ctx.now = g_get_real_time () / G_USEC_PER_SEC;

      json_builder_begin_array (builder);
      for (int i = 3; i < argc; i++)
        {
          g_autofree char *hash = NULL;
          g_autofree char *what = g_strdup_printf (_("Cannot add “%s”"), argv[i]);

          if (!kp_worker_api_store_media_file (&ctx, argv[i], content_type, &hash, &error))
            {
              g_clear_pointer (&ctx.turk_error_code, g_free);
              return fail (what, error);
            }

          if (json)
            {
              json_builder_begin_object (builder);
              json_builder_set_member_name (builder, "File");
              json_builder_add_string_value (builder, argv[i]);
              json_builder_set_member_name (builder, "SHA256");
              json_builder_add_string_value (builder, hash);
              json_builder_end_object (builder);
            }
          else
            g_print ("%s  %s\n", hash, argv[i]);
        }
      json_builder_end_array (builder);
      g_clear_pointer (&ctx.turk_error_code, g_free);

      if (json)
        {
          g_autoptr(JsonNode) root = json_builder_get_root (builder);
          g_autofree char *text = json_to_string (root, TRUE);

          g_print ("%s\n", text);
        }
      return EXIT_SUCCESS;
    }

  return usage (_("Unknown admin command"));
}
