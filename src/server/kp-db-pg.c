/* kp-db-pg.c: the store's PostgreSQL backend (libpq)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Several kempelen-server processes may share one PostgreSQL database. The
 * modules' SQL is written for the store interface (kp-db.h); this backend
 * makes it mean on PostgreSQL what it means on SQLite:
 *
 * - A transaction takes one database-wide advisory lock
 *   (pg_advisory_xact_lock) as SQLite's BEGIN IMMEDIATE takes the write
 *   lock: the modules' read-modify-write sequences (the last free slot of
 *   a HIT, a job expiring an assignment) are race-free across processes,
 *   and each background job's work is done by exactly one of them. Waiting
 *   for the lock longer than lock_timeout is KP_DB_ERROR_BUSY, as SQLite's
 *   busy timeout is. Autocommit statements outside a transaction (the
 *   notifier's lease claims) do not take it; they are single conditional
 *   UPDATEs, atomic by themselves.
 * - Statements are prepared once per connection and parameter types, with
 *   explicit types (text, int8, bytea; NULLs untyped so that PostgreSQL
 *   infers them from their column), and results come back as text:
 *   booleans as 1/0 like SQLite's, bytea decoded.
 * - The schema's INTEGER columns become BIGINT (times, cents, sizes).
 * - kp_db_get_generation(): every transaction that wrote something bumps
 *   a counter row just before its COMMIT, so that response caches in every
 *   process see each other's changes; this process's own changes inside an
 *   open transaction are counted locally.
 * - A lost connection (PostgreSQL restarted, a network failure) fails the
 *   statement in flight with KP_DB_ERROR_UNAVAILABLE; the next transaction
 *   reconnects. Clients retry: nothing of a failed transaction was kept.
 */

#include "config.h"

#include <inttypes.h>

#include "kp-db-private.h"

#include <string.h>

#include <glib/gi18n.h>

#ifdef HAVE_LIBPQ

#include <libpq-fe.h>

/* OIDs of the built-in types we bind or read (pg_type.h). */
#define OID_BOOL  16
#define OID_BYTEA 17
#define OID_INT8  20
#define OID_TEXT  25

/* "kempelen" in ASCII, as the advisory lock's key. */
#define WRITE_LOCK_KEY "7018986426095133038"

#define LOCK_TIMEOUT "250ms"

struct _KpDbPg
{
  PGconn     *conn;
  char       *uri;
  GHashTable *statements;     /* parameter types + SQL -> prepared statement name */
  guint       n_statements;
  guint64     local_changes;  /* rows changed through this connection */
};

static gboolean pg_connect (KpDb *db, GError **error);

/* libpq's messages span lines ("server closed the connection
 * unexpectedly\n\tThis probably means…"): one line for the log. */
static char *
pg_message (const char *text)
{
  g_autofree char *message = g_strdup (text != NULL && *text != '\0' ? text : _("unknown error"));
  g_auto(GStrv) parts = g_strsplit_set (g_strstrip (message), "\n\t", -1);
  GString *out = g_string_new (NULL);

  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_strstrip (parts[i]);
      if (parts[i][0] == '\0')
        continue;
      if (out->len > 0)
        g_string_append_c (out, ' ');
      g_string_append (out, parts[i]);
    }

  return g_string_free (out, FALSE);
}

static KpDbError
error_code_from_state (PGconn     *conn,
                       const char *state)
{
  if (PQstatus (conn) != CONNECTION_OK)
    return KP_DB_ERROR_UNAVAILABLE;
  if (state == NULL)
    return KP_DB_ERROR_FAILED;
  if (g_str_has_prefix (state, "23"))
    return KP_DB_ERROR_CONSTRAINT;
  if (g_str_equal (state, "55P03") || g_str_equal (state, "40P01") ||
      g_str_equal (state, "40001") || g_str_equal (state, "57014"))
    return KP_DB_ERROR_BUSY;
  if (g_str_has_prefix (state, "53"))
    return KP_DB_ERROR_FULL;
  if (g_str_has_prefix (state, "08") || g_str_has_prefix (state, "57P"))
    return KP_DB_ERROR_UNAVAILABLE;
  if (g_str_has_prefix (state, "XX00"))
    return KP_DB_ERROR_CORRUPT;
  if (g_str_equal (state, "25006") || g_str_has_prefix (state, "42501"))
    return KP_DB_ERROR_READONLY;
  return KP_DB_ERROR_FAILED;
}

static void
set_pg_error (KpDb           *db,
              const PGresult *result,
              const char     *sql,
              GError        **error)
{
  const char *state = result != NULL ? PQresultErrorField (result, PG_DIAG_SQLSTATE) : NULL;
  KpDbError code = error_code_from_state (db->pg->conn, state);
  g_autofree char *message = pg_message (result != NULL
                                         ? PQresultErrorField (result, PG_DIAG_MESSAGE_PRIMARY)
                                         : PQerrorMessage (db->pg->conn));

  if (result != NULL && PQresultErrorField (result, PG_DIAG_MESSAGE_PRIMARY) == NULL)
    {
      g_free (message);
      message = pg_message (PQerrorMessage (db->pg->conn));
    }

  switch (code)
    {
    case KP_DB_ERROR_UNAVAILABLE:
      g_set_error (error, KP_DB_ERROR, code,
                   _("The connection to the PostgreSQL server was lost: %s"), message);
      break;
    case KP_DB_ERROR_FULL:
      g_set_error (error, KP_DB_ERROR, code,
                   _("The PostgreSQL server cannot store anything right now: %s"), message);
      break;
    case KP_DB_ERROR_CORRUPT:
      g_set_error (error, KP_DB_ERROR, code,
                   _("The PostgreSQL database is damaged: %s"), message);
      break;
    default:
      g_set_error (error, KP_DB_ERROR, code, "%s (%s)", message, sql != NULL ? sql : "");
      break;
    }
}

/* The schema's DDL speaks SQLite's INTEGER (64 bits there); PostgreSQL's
 * INTEGER has 32, so tables get BIGINT. */
static char *
translate_ddl (const char *sql)
{
  GString *out;
  const char *p;

  if (!g_str_has_prefix (sql, "CREATE TABLE"))
    return NULL;

  out = g_string_sized_new (strlen (sql) + 64);
  p = sql;
  while (*p != '\0')
    {
      if (strncmp (p, "INTEGER", 7) == 0 &&
          (p == sql || !g_ascii_isalnum (p[-1])) && !g_ascii_isalnum (p[7]) && p[7] != '_')
        {
          g_string_append (out, "BIGINT");
          p += 7;
        }
      else
        g_string_append_c (out, *p++);
    }

  return g_string_free (out, FALSE);
}

static Oid
value_type (const Value *value,
            gboolean     untyped_nulls)
{
  if (value->type == VALUE_NULL && (untyped_nulls || value->kind == 'n'))
    return 0;  /* inferred from where it goes */
  switch (value->kind)
    {
    case 'i':
    case 'I':
      return OID_INT8;
    case 'b':
      return OID_BYTEA;
    default:
      return OID_TEXT;
    }
}

/* Statements without parameters that change the session or transaction
 * state are not worth preparing. */
static gboolean
is_utility (const char *sql)
{
  static const char * const prefixes[] = {
    "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "SET ", "CREATE ",
  };

  for (guint i = 0; i < G_N_ELEMENTS (prefixes); i++)
    if (g_str_has_prefix (sql, prefixes[i]))
      return TRUE;
  return FALSE;
}

static KpRows *
read_rows (const PGresult *result)
{
  int n_rows = PQntuples (result);
  int n_columns = PQnfields (result);
  KpRows *rows = kp_rows_new (n_columns);

  g_array_set_size (rows->cells, (guint)n_rows * n_columns);
  for (int r = 0; r < n_rows; r++)
    for (int c = 0; c < n_columns; c++)
      {
        Cell *cell = &g_array_index (rows->cells, Cell, (guint)r * n_columns + c);
        const char *text;

        if (PQgetisnull (result, r, c))
          {
            cell->type = VALUE_NULL;
            continue;
          }

        text = PQgetvalue (result, r, c);
        switch (PQftype (result, c))
          {
          case OID_BOOL:
            cell->type = VALUE_TEXT;
            cell->integer = text[0] == 't';
            cell->text = g_strdup (cell->integer ? "1" : "0");
            cell->size = 1;
            break;
          case OID_BYTEA:
            {
              size_t size = 0;
              unsigned char *data = PQunescapeBytea ((const unsigned char *)text, &size);

              cell->type = VALUE_BLOB;
              cell->text = g_memdup2 (data != NULL ? (gconstpointer)data : "", size);
              cell->size = size;
              PQfreemem (data);
            }
            break;
          default:
            cell->type = VALUE_TEXT;
            cell->text = g_strdup (text);
            cell->size = PQgetlength (result, r, c);
            cell->integer = g_ascii_strtoll (text, NULL, 10);
            break;
          }
      }
  rows->n_rows = n_rows;

  return rows;
}

static gboolean
run_simple (KpDb        *db,
            const char  *sql,
            GError     **error)
{
  PGresult *result = PQexec (db->pg->conn, sql);
  gboolean ok = PQresultStatus (result) == PGRES_COMMAND_OK;

  if (!ok)
    set_pg_error (db, result, sql, error);
  PQclear (result);
  return ok;
}

/* Prepares sql with explicit parameter types: text, int8 or bytea by the
 * parameter's kind. A NULL has no value to go by, and SQLite-minded SQL
 * binds an 's' NULL to an integer column now and then: if typing NULLs by
 * their kind makes the statement ill-typed, they are left for PostgreSQL to
 * infer. The failed attempt is undone by a savepoint so that it does not
 * abort the transaction; this happens once per statement and connection. */
static gboolean
prepare (KpDb         *db,
         const char   *name,
         const char   *sql,
         const Value  *values,
         guint         n_values,
         GError      **error)
{
  PGconn *conn = db->pg->conn;
  gboolean has_nulls = FALSE;
  gboolean in_transaction = PQtransactionStatus (conn) == PQTRANS_INTRANS;

  for (guint i = 0; i < n_values; i++)
    has_nulls |= values[i].type == VALUE_NULL && values[i].kind != 'n';

  for (int attempt = 0; attempt < (has_nulls ? 2 : 1); attempt++)
    {
      Oid types[MAX_PARAMS];
      gboolean retry = has_nulls && attempt == 0;
      PGresult *result;
      const char *state;

      for (guint i = 0; i < n_values; i++)
        types[i] = value_type (&values[i], attempt > 0);

      if (retry && in_transaction && !run_simple (db, "SAVEPOINT kp_prepare", error))
        return FALSE;

      result = PQprepare (conn, name, sql, n_values, types);
      if (PQresultStatus (result) == PGRES_COMMAND_OK)
        {
          PQclear (result);
          return !(retry && in_transaction) || run_simple (db, "RELEASE SAVEPOINT kp_prepare", error);
        }

      state = PQresultErrorField (result, PG_DIAG_SQLSTATE);
      if (!retry || state == NULL ||
          !(g_str_equal (state, "42804") || g_str_equal (state, "42P18") ||
            g_str_equal (state, "42883") || g_str_equal (state, "42P08")))
        {
          set_pg_error (db, result, sql, error);
          PQclear (result);
          return FALSE;
        }
      PQclear (result);

      if (in_transaction &&
          (!run_simple (db, "ROLLBACK TO SAVEPOINT kp_prepare", error) ||
           !run_simple (db, "RELEASE SAVEPOINT kp_prepare", error)))
        return FALSE;
    }

  g_assert_not_reached ();
}

static gboolean
pg_exec (KpDb         *db,
         const char   *sql,
         const Value  *values,
         guint         n_values,
         KpRows      **rows_out,
         guint        *n_changed,
         GError      **error)
{
  KpDbPg *pg = db->pg;
  g_autofree char *translated = NULL;
  PGresult *result = NULL;
  ExecStatusType status;
  gboolean ok = FALSE;

  /* Outside a transaction, a lost connection is simply made again. */
  if (db->depth == 0 && PQstatus (pg->conn) != CONNECTION_OK && !pg_connect (db, error))
    return FALSE;

  translated = translate_ddl (sql);
  if (translated != NULL)
    sql = translated;

  if (n_values == 0 && is_utility (sql))
    result = PQexec (pg->conn, sql);
  else
    {
      const char *texts[MAX_PARAMS];
      int lengths[MAX_PARAMS];
      int formats[MAX_PARAMS];
      char numbers[MAX_PARAMS][24];
      char signature[MAX_PARAMS + 2];
      g_autofree char *key = NULL;
      const char *name;

      for (guint i = 0; i < n_values; i++)
        {
          const Value *value = &values[i];

          /* NULLs may end up typed differently from values of the same
           * kind (see prepare()): they get statements of their own. */
          signature[i] = value->type == VALUE_NULL ? g_ascii_toupper (value->kind) : value->kind;
          lengths[i] = 0;
          formats[i] = 0;
          switch (value->type)
            {
            case VALUE_NULL:
              texts[i] = NULL;
              break;
            case VALUE_INT:
              g_snprintf (numbers[i], sizeof numbers[i], "%" PRId64, value->integer);
              texts[i] = numbers[i];
              break;
            case VALUE_TEXT:
              texts[i] = value->text;
              break;
            case VALUE_BLOB:
              {
                gsize size = 0;

                texts[i] = g_bytes_get_data (value->blob, &size);
                if (texts[i] == NULL)
                  texts[i] = "";
                lengths[i] = size;
                formats[i] = 1;
              }
              break;
            default:
              g_assert_not_reached ();
            }
        }
      signature[n_values] = '\n';
      signature[n_values + 1] = '\0';
      key = g_strconcat (signature, sql, NULL);

      name = g_hash_table_lookup (pg->statements, key);
      if (name == NULL)
        {
          g_autofree char *new_name = g_strdup_printf ("kp%u", ++pg->n_statements);

          if (!prepare (db, new_name, sql, values, n_values, error))
            return FALSE;
          name = new_name;
          g_hash_table_insert (pg->statements, g_steal_pointer (&key), g_steal_pointer (&new_name));
        }

      result = PQexecPrepared (pg->conn, name, n_values, texts, lengths, formats, 0);
    }

  status = PQresultStatus (result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
    {
      set_pg_error (db, result, sql, error);
      goto out;
    }

  {
    const char *tuples = PQcmdTuples (result);
    guint changed = tuples != NULL && *tuples != '\0' && status == PGRES_COMMAND_OK
                    ? (guint)g_ascii_strtoull (tuples, NULL, 10) : 0;

    /* INSERT … RETURNING and the like also change rows. */
    if (status == PGRES_TUPLES_OK && tuples != NULL && *tuples != '\0' &&
        !g_str_has_prefix (PQcmdStatus (result), "SELECT"))
      changed = (guint)g_ascii_strtoull (tuples, NULL, 10);

    pg->local_changes += changed;
    if (n_changed != NULL)
      *n_changed = changed;
  }

  if (rows_out != NULL)
    *rows_out = read_rows (result);
  ok = TRUE;

out:
  PQclear (result);
  return ok;
}

static void
notice_cb (void       *data,
           const char *message)
{
  /* "relation … already exists, skipping" and the like. */
  g_debug ("PostgreSQL: %s", message);
}

static gboolean
pg_connect (KpDb    *db,
            GError **error)
{
  KpDbPg *pg = db->pg;
  static const char * const setup[] = {
    "SET client_min_messages = warning",
    "SET TIME ZONE 'UTC'",
    /* Waiting for another process's transaction: as SQLite's busy timeout. */
    "SET lock_timeout = '" LOCK_TIMEOUT "'",
    /* No statement of ours runs this long; one that does is stuck. */
    "SET statement_timeout = '60s'",
    /* Our transactions last milliseconds: one left open (a process frozen
     * by a debugger or SIGSTOP) would hold the write lock for everyone. */
    "SET idle_in_transaction_session_timeout = '5s'",
  };

  if (pg->conn != NULL)
    {
      g_debug ("Reconnecting to PostgreSQL");
      PQfinish (pg->conn);
      g_hash_table_remove_all (pg->statements);
    }

  pg->conn = PQconnectdb (pg->uri);
  if (PQstatus (pg->conn) != CONNECTION_OK)
    {
      g_autofree char *message = pg_message (PQerrorMessage (pg->conn));

      /* The URI may hold a password: never repeat it. */
      g_set_error (error, KP_DB_ERROR, KP_DB_ERROR_UNAVAILABLE,
                   _("Cannot connect to the PostgreSQL server: %s"), message);
      return FALSE;
    }

  PQsetNoticeProcessor (pg->conn, notice_cb, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (setup); i++)
    {
      PGresult *result = PQexec (pg->conn, setup[i]);

      if (PQresultStatus (result) != PGRES_COMMAND_OK)
        {
          set_pg_error (db, result, setup[i], error);
          PQclear (result);
          return FALSE;
        }
      PQclear (result);
    }

  return TRUE;
}

static gboolean
pg_begin (KpDb    *db,
          GError **error)
{
  KpDbPg *pg = db->pg;
  GError *local_error = NULL;

  if (PQstatus (pg->conn) != CONNECTION_OK && !pg_connect (db, error))
    return FALSE;

  if (!pg_exec (db, "BEGIN", NULL, 0, NULL, NULL, error))
    return FALSE;

  if (!pg_exec (db, "SELECT pg_advisory_xact_lock (" WRITE_LOCK_KEY ")", NULL, 0, NULL, NULL,
                &local_error))
    {
      PGresult *result = PQexec (pg->conn, "ROLLBACK");

      PQclear (result);
      g_propagate_error (error, local_error);
      return FALSE;
    }

  return TRUE;
}

static gboolean
pg_before_commit (KpDb    *db,
                  GError **error)
{
  /* Only a transaction that wrote has a transaction id; a read-only one
   * leaves the counter alone (and stays cheap). */
  return pg_exec (db,
                  "UPDATE kp_generation SET value = value + 1 "
                  "WHERE id = 1 AND txid_current_if_assigned () IS NOT NULL",
                  NULL, 0, NULL, NULL, error);
}

static gboolean
pg_lost_transaction (KpDb *db)
{
  PGTransactionStatusType status;

  if (PQstatus (db->pg->conn) != CONNECTION_OK)
    return TRUE;

  status = PQtransactionStatus (db->pg->conn);
  return status == PQTRANS_IDLE || status == PQTRANS_UNKNOWN;
}

static guint64
pg_generation (KpDb *db)
{
  gint64 value = 0;
  gboolean found = FALSE;

  if (!kp_db_query_int (db, &value, &found, NULL, "SELECT value FROM kp_generation WHERE id = 1",
                        NULL) || !found)
    return G_MAXUINT64;  /* unknown: never equal to a cached one */

  return ((guint64)value << 24) + (db->pg->local_changes & 0xffffff);
}

static void
pg_close (KpDb *db)
{
  KpDbPg *pg = db->pg;

  if (pg == NULL)
    return;

  g_clear_pointer (&pg->conn, PQfinish);
  g_clear_pointer (&pg->statements, g_hash_table_unref);
  g_clear_pointer (&pg->uri, g_free);
  g_clear_pointer (&db->pg, g_free);
}

static const KpDbBackend pg_backend = {
  .name = "postgresql",
  .exec = pg_exec,
  .close = pg_close,
  .begin = pg_begin,
  .before_commit = pg_before_commit,
  .lost_transaction = pg_lost_transaction,
  .generation = pg_generation,
};

KpDb *
kp_db_pg_open (const char  *uri,
               GError     **error)
{
  g_autoptr(KpDb) db = g_new0 (KpDb, 1);

  db->backend = &pg_backend;
  db->pg = g_new0 (KpDbPg, 1);
  db->pg->uri = g_strdup (uri);
  db->pg->statements = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  if (!pg_connect (db, error))
    return NULL;

  /* The counter behind kp_db_get_generation(), outside the versioned
   * schema: it belongs to this backend. */
  if (!kp_db_begin (db, error))
    return NULL;
  if (!kp_db_exec (db, NULL, error,
                   "CREATE TABLE IF NOT EXISTS kp_generation ("
                   "  id INTEGER PRIMARY KEY,"
                   "  value INTEGER NOT NULL)", NULL) ||
      !kp_db_exec (db, NULL, error,
                   "INSERT INTO kp_generation (id, value) VALUES (1, 0) "
                   "ON CONFLICT (id) DO NOTHING", NULL) ||
      !kp_db_commit (db, error))
    return NULL;

  return g_steal_pointer (&db);
}

#else /* !HAVE_LIBPQ */

KpDb *
kp_db_pg_open (const char  *uri,
               GError     **error)
{
  g_set_error (error, KP_DB_ERROR, KP_DB_ERROR_FAILED,
               _("This kempelen-server was built without PostgreSQL support (libpq)"));
  return NULL;
}

#endif
