/* kp-admin.c: administration of a server's data directory
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Secrets come from the kernel's CSPRNG (getrandom), never from GRand.
 * Worker tokens are stored only as SHA-256 hashes; a requester's secret
 * access key has to be stored as it is, because SigV4 verification needs
 * it, so the database file is readable by its owner only.
 */

#include "config.h"

#include "kp-admin.h"
#include "kp-api.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

char *
kp_admin_db_path (const char *data_dir)
{
  return g_build_filename (data_dir, "kempelen.db", NULL);
}

KpDb *
kp_admin_open (const char  *data_dir,
               GError     **error)
{
  return kp_admin_open_store (data_dir, NULL, error);
}

KpDb *
kp_admin_open_store (const char  *data_dir,
                     const char  *store,
                     GError     **error)
{
  g_autofree char *path = NULL;

  g_return_val_if_fail (data_dir != NULL, NULL);

  if (g_mkdir_with_parents (data_dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Cannot create the data directory “%s”: %s"),
                   data_dir, g_strerror (saved_errno));
      return NULL;
    }

  if (store != NULL)
    return kp_db_open (store, error);

  path = kp_admin_db_path (data_dir);
  return kp_db_open (path, error);
}

static gboolean
random_string (const char  *alphabet,
               guint        length,
               char       **out,
               GError     **error)
{
  gsize n = strlen (alphabet);
  g_autofree char *text = g_malloc0 (length + 1);
  guint filled = 0;

  while (filled < length)
    {
      guint8 bytes[64];
      ssize_t got = getrandom (bytes, sizeof bytes, 0);

      if (got < 0)
        {
          int saved_errno = errno;

          if (saved_errno == EINTR)
            continue;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       _("Cannot get random bytes: %s"), g_strerror (saved_errno));
          return FALSE;
        }

      /* Rejection sampling keeps every character equally likely. */
      for (ssize_t i = 0; i < got && filled < length; i++)
        if (bytes[i] < 256 - (256 % n))
          text[filled++] = alphabet[bytes[i] % n];
    }

  *out = g_steal_pointer (&text);
  return TRUE;
}

gboolean
kp_admin_create_requester (KpDb        *db,
                           const char  *name,
                           char       **requester_id,
                           char       **access_key_id,
                           char       **secret_access_key,
                           GError     **error)
{
  g_autofree char *id = kp_api_new_customer_id ();
  g_autofree char *key_tail = NULL;
  g_autofree char *key_id = NULL;
  g_autofree char *secret = NULL;

  g_return_val_if_fail (db != NULL, FALSE);

  if (!random_string ("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16, &key_tail, error) ||
      !random_string ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                      40, &secret, error))
    return FALSE;

  key_id = g_strconcat ("AKKP", key_tail, NULL);

  if (!kp_db_exec (db, NULL, error,
                   "INSERT INTO requesters (id, access_key_id, secret_access_key, name, created) "
                   "VALUES ($1, $2, $3, $4, $5)",
                   "ssssi", id, key_id, secret, name, g_get_real_time () / G_USEC_PER_SEC))
    return FALSE;

  if (requester_id != NULL)
    *requester_id = g_steal_pointer (&id);
  if (access_key_id != NULL)
    *access_key_id = g_steal_pointer (&key_id);
  if (secret_access_key != NULL)
    *secret_access_key = g_steal_pointer (&secret);

  return TRUE;
}

gboolean
kp_admin_create_worker (KpDb        *db,
                        const char  *name,
                        char       **worker_id,
                        char       **token,
                        GError     **error)
{
  g_autofree char *id = kp_api_new_customer_id ();
  g_autofree char *secret = NULL;
  g_autofree char *hash = NULL;

  g_return_val_if_fail (db != NULL, FALSE);

  if (!random_string ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
                      43, &secret, error))
    return FALSE;

  hash = kp_api_sha256_hex (secret);
  if (!kp_db_exec (db, NULL, error,
                   "INSERT INTO workers (id, token_hash, name, created) VALUES ($1, $2, $3, $4)",
                   "sssi", id, hash, name, g_get_real_time () / G_USEC_PER_SEC))
    return FALSE;

  if (worker_id != NULL)
    *worker_id = g_steal_pointer (&id);
  if (token != NULL)
    *token = g_steal_pointer (&secret);

  return TRUE;
}

gboolean
kp_admin_update_worker (KpDb        *db,
                        const char  *worker_id,
                        const char  *country,
                        const char  *subdivision,
                        gboolean     is_master,
                        GError     **error)
{
  guint n_changed = 0;

  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (worker_id != NULL, FALSE);

  if (!kp_db_exec (db, &n_changed, error,
                   "UPDATE workers SET locale_country = $2, locale_subdivision = $3, is_master = $4 "
                   "WHERE id = $1",
                   "sssI", worker_id, country, subdivision, is_master ? 1 : 0))
    return FALSE;

  if (n_changed == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("There is no worker “%s”"), worker_id);
      return FALSE;
    }

  return TRUE;
}

gboolean
kp_admin_fund (KpDb        *db,
               const char  *access_key_id,
               gint64       cents,
               GError     **error)
{
  g_autoptr(KpRows) rows = NULL;
  g_autofree char *id = kp_api_new_id ();
  gboolean own_transaction = FALSE;

  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (access_key_id != NULL, FALSE);

  if (cents <= 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("The amount must be more than zero"));
      return FALSE;
    }

  rows = kp_db_query (db, error, "SELECT id FROM requesters WHERE access_key_id = $1",
                      "s", access_key_id);
  if (rows == NULL)
    return FALSE;
  if (kp_rows_get_n_rows (rows) == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("There is no requester with the access key “%s”"), access_key_id);
      return FALSE;
    }

  /* The row and the running total (kp-ledger.c) change together. */
  if (!kp_db_in_transaction (db))
    {
      if (!kp_db_begin (db, error))
        return FALSE;
      own_transaction = TRUE;
    }

  if (!kp_db_exec (db, NULL, error,
                   "INSERT INTO ledger (id, requester_id, kind, amount_cents, memo, created) "
                   "VALUES ($1, $2, 'fund', $3, 'prepaid funds', $4)",
                   "ssii", id, kp_rows_get_text (rows, 0, 0), cents,
                   g_get_real_time () / G_USEC_PER_SEC) ||
      !kp_db_exec (db, NULL, error,
                   "UPDATE requesters SET ledger_cents = ledger_cents + $2 WHERE id = $1",
                   "si", kp_rows_get_text (rows, 0, 0), cents))
    {
      if (own_transaction)
        kp_db_rollback (db);
      return FALSE;
    }

  return !own_transaction || kp_db_commit (db, error);
}

gboolean
kp_admin_find_requester (KpDb        *db,
                         const char  *access_key_id,
                         char       **requester_id,
                         char       **secret_access_key,
                         GError     **error)
{
  g_autoptr(KpRows) rows = NULL;

  *requester_id = NULL;
  *secret_access_key = NULL;

  rows = kp_db_query (db, error,
                      "SELECT id, secret_access_key FROM requesters WHERE access_key_id = $1",
                      "s", access_key_id);
  if (rows == NULL)
    return FALSE;

  if (kp_rows_get_n_rows (rows) > 0)
    {
      *requester_id = g_strdup (kp_rows_get_text (rows, 0, 0));
      *secret_access_key = g_strdup (kp_rows_get_text (rows, 0, 1));
    }

  return TRUE;
}

gboolean
kp_admin_find_worker (KpDb        *db,
                      const char  *token,
                      char       **worker_id,
                      GError     **error)
{
  g_autoptr(KpRows) rows = NULL;
  g_autofree char *hash = kp_api_sha256_hex (token);

  *worker_id = NULL;

  rows = kp_db_query (db, error, "SELECT id FROM workers WHERE token_hash = $1", "s", hash);
  if (rows == NULL)
    return FALSE;

  if (kp_rows_get_n_rows (rows) > 0)
    *worker_id = g_strdup (kp_rows_get_text (rows, 0, 0));

  return TRUE;
}
