/* fuzz-mturk-request.c: libFuzzer target for the MTurk request handler
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An input is "OperationName\n" followed by the request body. It goes
 * through everything a signed request goes through after SigV4 (the
 * operation lookup, the JSON parse, the member check, every parameter
 * validator, the operation itself and its store writes in a savepoint of a
 * committed group), against a real data directory with a funded
 * requester. Crashes, sanitizer reports and g_critical()s are findings;
 * refused requests are the expected outcome for most inputs.
 */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "kp-admin.h"
#include "kp-server.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static KpServer *server;
static char *requester_id;
static char *data_dir;

static GLogWriterOutput
quiet_writer (GLogLevelFlags   log_level,
              const GLogField *fields,
              gsize            n_fields,
              gpointer         user_data)
{
  /* Refused input is logged as warnings by design; programming errors
   * (criticals) must still abort. */
  if (log_level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    {
      g_log_writer_standard_streams (log_level, fields, n_fields, user_data);
      abort ();
    }

  return G_LOG_WRITER_HANDLED;
}

static void
remove_data_dir (void)
{
  const char *names[] = { "kempelen.db", "kempelen.db-wal", "kempelen.db-shm" };

  g_clear_object (&server);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (data_dir, names[i], NULL);

      g_remove (path);
    }
  g_rmdir (data_dir);
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KpDb) db = NULL;
  g_autofree char *key_id = NULL;
  g_autofree char *secret = NULL;

  g_log_set_writer_func (quiet_writer, NULL, NULL);

  data_dir = g_dir_make_tmp ("kp-fuzz-XXXXXX", &error);
  g_assert_no_error (error);

  db = kp_admin_open (data_dir, &error);
  g_assert_no_error (error);
  kp_admin_create_requester (db, "fuzz", &requester_id, &key_id, &secret, &error);
  g_assert_no_error (error);
  kp_admin_fund (db, key_id, 100000000, &error);
  g_assert_no_error (error);
  g_clear_pointer (&db, kp_db_close);

  server = kp_server_new ();
  kp_server_open_data_dir (server, data_dir, &error);
  g_assert_no_error (error);

  atexit (remove_data_dir);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  const uint8_t *newline = memchr (data, '\n', size);
  g_autofree char *operation = NULL;
  g_autofree char *response = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;

  if (newline == NULL || newline - data > 64)
    return 0;

  operation = g_strndup ((const char *)data, newline - data);
  body = g_bytes_new (newline + 1, size - (newline + 1 - data));

  if (kp_server_call_mturk (server, requester_id, operation, body, &response, &error))
    g_assert (response != NULL && response[0] == '{');
  else
    g_assert (error != NULL && error->message != NULL && error->message[0] != '\0');

  return 0;
}
