/* kp-db.c: the server's store interface, and its SQLite backend
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The public functions check arguments and collect parameters; a backend
 * does the work through KpDbBackend. The SQLite backend keeps one
 * connection in WAL mode with synchronous=FULL: a COMMIT is on disk when it
 * returns, which is what lets the server acknowledge a submission only once
 * it is durable. Prepared statements are cached by their SQL text.
 */

#include "config.h"

#include <inttypes.h>

#include "kp-db.h"
#include "kp-db-private.h"
#include "kp-schema.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

G_DEFINE_QUARK (kp-db-error-quark, kp_db_error)

#define CHECKPOINT_PAGES 1000
#define CHECKPOINT_INTERVAL_US (1 * G_USEC_PER_SEC)

/* Errors */

static void
set_sqlite_error (KpDb        *db,
                  int          rc,
                  const char  *sql,
                  GError     **error)
{
  KpDbError code = KP_DB_ERROR_FAILED;

  switch (rc & 0xff)
    {
    case SQLITE_CONSTRAINT:
      code = KP_DB_ERROR_CONSTRAINT;
      break;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      code = KP_DB_ERROR_BUSY;
      break;
    case SQLITE_FULL:
      code = KP_DB_ERROR_FULL;
      break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      code = KP_DB_ERROR_CORRUPT;
      break;
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
      code = KP_DB_ERROR_READONLY;
      break;
    default:
      break;
    }

  if (code == KP_DB_ERROR_FULL)
    g_set_error (error, KP_DB_ERROR, code,
                 _("The disk holding the server’s database is full"));
  else if (code == KP_DB_ERROR_CORRUPT)
    g_set_error (error, KP_DB_ERROR, code,
                 _("The server’s database “%s” is damaged or is not a database (%s); "
                   "it was left unchanged"),
                 db->path != NULL ? db->path : "", sqlite3_errmsg (db->sqlite));
  else
    g_set_error (error, KP_DB_ERROR, code, "%s (%s)",
                 sqlite3_errmsg (db->sqlite), sql != NULL ? sql : "");
}

/* SQLite backend */

static sqlite3_stmt *
sqlite_prepare (KpDb        *db,
                const char  *sql,
                GError     **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (db->statements, sql);
  int rc;

  if (stmt != NULL)
    return stmt;

  rc = sqlite3_prepare_v3 (db->sqlite, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      set_sqlite_error (db, rc, sql, error);
      return NULL;
    }

  g_hash_table_insert (db->statements, g_strdup (sql), stmt);
  return stmt;
}

static gboolean
sqlite_bind (KpDb          *db,
             sqlite3_stmt  *stmt,
             const char    *sql,
             const Value   *values,
             guint          n_values,
             GError       **error)
{
  int n_params = sqlite3_bind_parameter_count (stmt);

  for (int i = 1; i <= n_params; i++)
    {
      const char *name = sqlite3_bind_parameter_name (stmt, i);
      guint64 index = 0;
      const Value *value;
      int rc;

      if (name == NULL || name[0] != '$' ||
          !g_ascii_string_to_unsigned (name + 1, 10, 1, n_values, &index, NULL))
        {
          g_set_error (error, KP_DB_ERROR, KP_DB_ERROR_FAILED,
                       "Parameter %d of “%s” has no value", i, sql);
          return FALSE;
        }

      value = &values[index - 1];
      switch (value->type)
        {
        case VALUE_NULL:
          rc = sqlite3_bind_null (stmt, i);
          break;
        case VALUE_TEXT:
          rc = sqlite3_bind_text (stmt, i, value->text, -1, SQLITE_STATIC);
          break;
        case VALUE_INT:
          rc = sqlite3_bind_int64 (stmt, i, value->integer);
          break;
        case VALUE_BLOB:
          {
            gsize size = 0;
            gconstpointer data = g_bytes_get_data (value->blob, &size);

            rc = sqlite3_bind_blob64 (stmt, i, data != NULL ? data : "", size, SQLITE_STATIC);
          }
          break;
        default:
          g_assert_not_reached ();
        }

      if (rc != SQLITE_OK)
        {
          set_sqlite_error (db, rc, sql, error);
          return FALSE;
        }
    }

  return TRUE;
}

static gboolean
sqlite_exec_real (KpDb         *db,
             const char   *sql,
             const Value  *values,
             guint         n_values,
             KpRows      **rows_out,
             guint        *n_changed,
             GError      **error)
{
  sqlite3_stmt *stmt;
  g_autoptr(KpRows) rows = NULL;
  gboolean ok = FALSE;
  int rc;

  stmt = sqlite_prepare (db, sql, error);
  if (stmt == NULL)
    return FALSE;

  if (!sqlite_bind (db, stmt, sql, values, n_values, error))
    goto out;

  if (rows_out != NULL)
    {
      rows = kp_rows_new (sqlite3_column_count (stmt));
    }

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      if (rows == NULL)
        continue;

      for (guint c = 0; c < rows->n_columns; c++)
        {
          Cell cell = { 0 };

          switch (sqlite3_column_type (stmt, c))
            {
            case SQLITE_NULL:
              cell.type = VALUE_NULL;
              break;
            case SQLITE_INTEGER:
              cell.type = VALUE_INT;
              cell.integer = sqlite3_column_int64 (stmt, c);
              break;
            case SQLITE_BLOB:
              cell.type = VALUE_BLOB;
              cell.size = sqlite3_column_bytes (stmt, c);
              cell.text = g_memdup2 (sqlite3_column_blob (stmt, c), cell.size);
              break;
            default:
              cell.type = VALUE_TEXT;
              cell.text = g_strdup ((const char *)sqlite3_column_text (stmt, c));
              cell.size = sqlite3_column_bytes (stmt, c);
              cell.integer = g_ascii_strtoll (cell.text, NULL, 10);
              break;
            }
          g_array_append_val (rows->cells, cell);
        }
      rows->n_rows++;
    }

  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (db, rc, sql, error);
      goto out;
    }

  if (n_changed != NULL)
    *n_changed = sqlite3_changes (db->sqlite);
  if (rows_out != NULL)
    *rows_out = g_steal_pointer (&rows);
  ok = TRUE;

out:
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  return ok;
}

/* With KP_DB_PROFILE=1 in the environment, the time spent in each statement
 * is summed up and printed when the database is closed: a developer's tool
 * for finding the statements that dominate an operation. */
static gboolean
sqlite_exec (KpDb         *db,
             const char   *sql,
             const Value  *values,
             guint         n_values,
             KpRows      **rows_out,
             guint        *n_changed,
             GError      **error)
{
  StatementProfile *profile;
  gint64 start;
  gboolean ok;

  if (db->profile == NULL)
    return sqlite_exec_real (db, sql, values, n_values, rows_out, n_changed, error);

  start = g_get_monotonic_time ();
  ok = sqlite_exec_real (db, sql, values, n_values, rows_out, n_changed, error);

  profile = g_hash_table_lookup (db->profile, sql);
  if (profile == NULL)
    {
      profile = g_new0 (StatementProfile, 1);
      g_hash_table_insert (db->profile, g_strdup (sql), profile);
    }
  profile->n_calls++;
  profile->total_us += g_get_monotonic_time () - start;

  return ok;
}

static int
compare_profiles (gconstpointer a,
                  gconstpointer b,
                  gpointer      user_data)
{
  GHashTable *profile = user_data;
  const StatementProfile *pa = g_hash_table_lookup (profile, *(const char **)a);
  const StatementProfile *pb = g_hash_table_lookup (profile, *(const char **)b);

  return (pb->total_us > pa->total_us) - (pb->total_us < pa->total_us);
}

static void
print_profile (KpDb *db)
{
  g_autoptr(GPtrArray) keys = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, db->profile);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (keys, key);

  g_ptr_array_sort_with_data (keys, compare_profiles, db->profile);
  g_printerr ("kp-db profile: total ms, calls, µs per call, statement\n");
  for (guint i = 0; i < MIN (keys->len, 40); i++)
    {
      const char *sql = g_ptr_array_index (keys, i);
      const StatementProfile *p = g_hash_table_lookup (db->profile, sql);

      g_printerr ("%10.1f %8" G_GUINT64_FORMAT " %8.1f  %.160s\n", p->total_us / 1000.0,
                  p->n_calls, (double)p->total_us / p->n_calls, sql);
    }
}

static gpointer
checkpointer_thread (gpointer data)
{
  KpDb *db = data;
  sqlite3 *connection = NULL;

  if (sqlite3_open_v2 (db->path, &connection, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                       NULL) != SQLITE_OK)
    {
      g_warning ("Cannot open a checkpoint connection to “%s”; "
                 "checkpoints happen when the database is closed", db->path);
      sqlite3_close_v2 (connection);
      return NULL;
    }
  sqlite3_busy_timeout (connection, 1000);
  /* A connection learns that the database is in WAL mode when it first
   * reads it; until then sqlite3_wal_checkpoint_v2() does nothing (and
   * says so only through *pnLog = -1), so the WAL grew without end. */
  if (sqlite3_exec (connection, "PRAGMA journal_mode", NULL, NULL, NULL) != SQLITE_OK)
    g_warning ("Cannot read “%s” for checkpoints: %s", db->path, sqlite3_errmsg (connection));

  g_mutex_lock (&db->checkpoint_mutex);
  while (!db->checkpoint_quit)
    {
      gint64 deadline = g_get_monotonic_time () + CHECKPOINT_INTERVAL_US;
      int n_log = 0;
      int n_done = 0;
      int rc;

      while (!db->checkpoint_wanted && !db->checkpoint_quit)
        if (!g_cond_wait_until (&db->checkpoint_cond, &db->checkpoint_mutex, deadline))
          break;
      if (db->checkpoint_quit)
        break;
      db->checkpoint_wanted = FALSE;
      g_mutex_unlock (&db->checkpoint_mutex);

      /* PASSIVE never blocks the writer; pages a reader still needs are
       * left for the next round. */
      rc = sqlite3_wal_checkpoint_v2 (connection, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                      &n_log, &n_done);
      if (rc != SQLITE_OK && rc != SQLITE_BUSY)
        g_warning ("Checkpoint of “%s” failed: %s", db->path, sqlite3_errmsg (connection));

      g_mutex_lock (&db->checkpoint_mutex);
    }
  g_mutex_unlock (&db->checkpoint_mutex);

  sqlite3_close_v2 (connection);
  return NULL;
}

static int
wal_hook (void       *data,
          sqlite3    *connection,
          const char *name,
          int         n_pages)
{
  KpDb *db = data;

  if (n_pages >= CHECKPOINT_PAGES)
    {
      g_mutex_lock (&db->checkpoint_mutex);
      db->checkpoint_wanted = TRUE;
      g_cond_signal (&db->checkpoint_cond);
      g_mutex_unlock (&db->checkpoint_mutex);
    }

  return SQLITE_OK;
}

static void
stop_checkpointer (KpDb *db)
{
  if (db->checkpointer == NULL)
    return;

  g_mutex_lock (&db->checkpoint_mutex);
  db->checkpoint_quit = TRUE;
  g_cond_signal (&db->checkpoint_cond);
  g_mutex_unlock (&db->checkpoint_mutex);
  g_thread_join (g_steal_pointer (&db->checkpointer));
}

static void
sqlite_close (KpDb *db)
{
  stop_checkpointer (db);
  if (db->profile != NULL)
    print_profile (db);
  g_clear_pointer (&db->profile, g_hash_table_unref);
  g_clear_pointer (&db->statements, g_hash_table_unref);
  if (db->sqlite != NULL)
    {
      /* Leave a small WAL behind (the last close checkpoints anyway). */
      sqlite3_wal_checkpoint_v2 (db->sqlite, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
      sqlite3_close_v2 (db->sqlite);
    }
  db->sqlite = NULL;
  g_clear_pointer (&db->path, g_free);
  g_mutex_clear (&db->checkpoint_mutex);
  g_cond_clear (&db->checkpoint_cond);
}

static gboolean
sqlite_begin (KpDb    *db,
              GError **error)
{
  return sqlite_exec (db, "BEGIN IMMEDIATE", NULL, 0, NULL, NULL, error);
}

static gboolean
sqlite_lost_transaction (KpDb *db)
{
  return db->sqlite != NULL && sqlite3_get_autocommit (db->sqlite);
}

static guint64 sqlite_generation (KpDb *db);

static const KpDbBackend sqlite_backend = {
  .name = "sqlite",
  .exec = sqlite_exec,
  .close = sqlite_close,
  .begin = sqlite_begin,
  .before_commit = NULL,
  .lost_transaction = sqlite_lost_transaction,
  .generation = sqlite_generation,
};

static gboolean
sqlite_setup (KpDb        *db,
              GError     **error)
{
  static const char * const pragmas[] = {
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
    /* Another process holding the write lock (kempelenctl admin, a second
     * server) is waited for briefly; after that the request is refused as
     * throttled, which clients retry, rather than stalling every request
     * behind it. */
    "PRAGMA busy_timeout = 250",
    /* Keep the working set in memory: reads come from the page cache
     * or the mapping instead of a pread() each. */
    "PRAGMA cache_size = -65536",
    "PRAGMA mmap_size = 1073741824",
    /* Temporary tables and indexes in memory; but savepoint journals
     * (one per request and per sync item) may go to a file past 64 KiB:
     * SQLite truncates an in-memory one on every RELEASE by walking its
     * chunks from the start, which made a long group commit quadratic
     * (a third of the server's time in a 100-item sync). */
    "PRAGMA temp_store = DEFAULT",
  };

  for (guint i = 0; i < G_N_ELEMENTS (pragmas); i++)
    {
      int rc = sqlite3_exec (db->sqlite, pragmas[i], NULL, NULL, NULL);

      if (rc != SQLITE_OK)
        {
          set_sqlite_error (db, rc, pragmas[i], error);
          return FALSE;
        }
    }

  return TRUE;
}

static KpDb *
sqlite_open (const char  *path,
             GError     **error)
{
  g_autoptr(KpDb) db = g_new0 (KpDb, 1);
  int fd;
  int rc;

  db->backend = &sqlite_backend;
  g_mutex_init (&db->checkpoint_mutex);
  g_cond_init (&db->checkpoint_cond);
  if (g_strcmp0 (g_getenv ("KP_DB_PROFILE"), "1") == 0)
    db->profile = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  db->statements = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify)sqlite3_finalize);

  /* Create the file owner-only before SQLite opens it: it holds the
   * requesters' secret keys. */
  fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, KP_DB_ERROR,
                   saved_errno == ENOSPC ? KP_DB_ERROR_FULL : KP_DB_ERROR_READONLY,
                   _("Cannot open the database “%s”: %s"), path, g_strerror (saved_errno));
      return NULL;
    }
  close (fd);

  db->path = g_strdup (path);
  rc = sqlite3_open_v2 (path, &db->sqlite,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                        NULL);
  if (rc != SQLITE_OK)
    {
      if (db->sqlite == NULL)
        g_set_error (error, KP_DB_ERROR, KP_DB_ERROR_FAILED,
                     _("Cannot open the database “%s”"), path);
      else
        set_sqlite_error (db, rc, NULL, error);
      return NULL;
    }

  sqlite3_extended_result_codes (db->sqlite, 1);
  if (!sqlite_setup (db, error))
    return NULL;

  sqlite3_wal_autocheckpoint (db->sqlite, 0);
  sqlite3_wal_hook (db->sqlite, wal_hook, db);
  db->checkpointer = g_thread_new ("kp-db-checkpoint", checkpointer_thread, db);

  return g_steal_pointer (&db);
}

/* Public interface */

KpDb *
kp_db_open (const char  *location,
            GError     **error)
{
  g_autoptr(KpDb) db = NULL;

  g_return_val_if_fail (location != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (g_str_has_prefix (location, "sqlite:"))
    location += strlen ("sqlite:");

  if (g_str_has_prefix (location, "postgresql:") || g_str_has_prefix (location, "postgres:"))
    db = kp_db_pg_open (location, error);
  else
    db = sqlite_open (location, error);
  if (db == NULL)
    return NULL;

  if (!kp_schema_migrate (db, error))
    return NULL;

  return g_steal_pointer (&db);
}

void
kp_db_close (KpDb *db)
{
  if (db == NULL)
    return;

  if (db->depth > 0)
    kp_db_rollback (db);
  db->backend->close (db);
  g_free (db);
}

const char *
kp_db_get_backend (KpDb *db)
{
  g_return_val_if_fail (db != NULL, NULL);

  return db->backend->name;
}

static gboolean
collect_values (const char  *fmt,
                va_list      args,
                Value       *values,
                guint       *n_values)
{
  guint n = 0;

  for (const char *p = fmt; p != NULL && *p != '\0'; p++)
    {
      Value *value;

      g_return_val_if_fail (n < MAX_PARAMS, FALSE);
      value = &values[n++];
      value->kind = *p;

      switch (*p)
        {
        case 's':
          value->text = va_arg (args, const char *);
          value->type = value->text != NULL ? VALUE_TEXT : VALUE_NULL;
          break;
        case 'i':
          value->integer = va_arg (args, gint64);
          value->type = VALUE_INT;
          break;
        case 'I':
          value->integer = va_arg (args, int);
          value->type = VALUE_INT;
          break;
        case 'n':
          value->type = VALUE_NULL;
          break;
        case 'b':
          value->blob = va_arg (args, GBytes *);
          value->type = value->blob != NULL ? VALUE_BLOB : VALUE_NULL;
          break;
        default:
          g_critical ("Unknown parameter type '%c' in “%s”", *p, fmt);
          return FALSE;
        }
    }

  *n_values = n;
  return TRUE;
}

/* What the three public entry points share: collect the parameters and
 * run the statement, reading rows if rows_out is not NULL. */
static gboolean
exec_valist (KpDb         *db,
             const char   *sql,
             const char   *fmt,
             va_list       args,
             KpRows      **rows_out,
             guint        *n_changed,
             GError      **error)
{
  Value values[MAX_PARAMS] = { 0 };
  guint n_values = 0;

  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (sql != NULL, FALSE);

  if (!collect_values (fmt, args, values, &n_values))
    {
      g_set_error (error, KP_DB_ERROR, KP_DB_ERROR_FAILED,
                   "Bad parameter description “%s” for “%s”", fmt, sql);
      return FALSE;
    }

  return db->backend->exec (db, sql, values, n_values, rows_out, n_changed, error);
}

gboolean
kp_db_exec (KpDb        *db,
            guint       *n_changed,
            GError     **error,
            const char  *sql,
            const char  *fmt,
            ...)
{
  gboolean ok;
  va_list args;

  va_start (args, fmt);
  ok = exec_valist (db, sql, fmt, args, NULL, n_changed, error);
  va_end (args);

  return ok;
}

KpRows *
kp_db_query (KpDb        *db,
             GError     **error,
             const char  *sql,
             const char  *fmt,
             ...)
{
  KpRows *rows = NULL;
  gboolean ok;
  va_list args;

  va_start (args, fmt);
  ok = exec_valist (db, sql, fmt, args, &rows, NULL, error);
  va_end (args);

  return ok ? rows : NULL;
}

gboolean
kp_db_query_int (KpDb        *db,
                 gint64      *value,
                 gboolean    *found,
                 GError     **error,
                 const char  *sql,
                 const char  *fmt,
                 ...)
{
  g_autoptr(KpRows) rows = NULL;
  gboolean ok;
  va_list args;

  va_start (args, fmt);
  ok = exec_valist (db, sql, fmt, args, &rows, NULL, error);
  va_end (args);
  if (!ok)
    return FALSE;

  if (found != NULL)
    *found = rows->n_rows > 0;
  if (rows->n_rows > 0 && value != NULL && !kp_rows_is_null (rows, 0, 0))
    *value = kp_rows_get_int (rows, 0, 0);

  return TRUE;
}

/* Rows */

KpRows *
kp_rows_new (guint n_columns)
{
  KpRows *rows = g_new0 (KpRows, 1);

  rows->n_columns = n_columns;
  rows->cells = g_array_new (FALSE, TRUE, sizeof (Cell));
  return rows;
}

static const Cell *
get_cell (KpRows *rows,
          guint   r,
          guint   c)
{
  g_return_val_if_fail (rows != NULL, NULL);
  g_return_val_if_fail (r < rows->n_rows, NULL);
  g_return_val_if_fail (c < rows->n_columns, NULL);

  return &g_array_index (rows->cells, Cell, r * rows->n_columns + c);
}

guint
kp_rows_get_n_rows (KpRows *rows)
{
  g_return_val_if_fail (rows != NULL, 0);

  return rows->n_rows;
}

guint
kp_rows_get_n_columns (KpRows *rows)
{
  g_return_val_if_fail (rows != NULL, 0);

  return rows->n_columns;
}

const char *
kp_rows_get_text (KpRows *rows,
                  guint   r,
                  guint   c)
{
  const Cell *cell = get_cell (rows, r, c);

  if (cell == NULL || cell->type == VALUE_NULL)
    return NULL;

  if (cell->type == VALUE_INT)
    {
      /* Materialise a text form on demand, as libpq would return it. */
      Cell *mutable_cell = (Cell *)cell;

      if (mutable_cell->text == NULL)
        mutable_cell->text = g_strdup_printf ("%" PRId64, cell->integer);
    }

  return cell->text;
}

gint64
kp_rows_get_int (KpRows *rows,
                 guint   r,
                 guint   c)
{
  const Cell *cell = get_cell (rows, r, c);

  if (cell == NULL || cell->type == VALUE_NULL)
    return 0;

  return cell->integer;
}

gboolean
kp_rows_is_null (KpRows *rows,
                 guint   r,
                 guint   c)
{
  const Cell *cell = get_cell (rows, r, c);

  return cell == NULL || cell->type == VALUE_NULL;
}

GBytes *
kp_rows_get_bytes (KpRows *rows,
                   guint   r,
                   guint   c)
{
  const Cell *cell = get_cell (rows, r, c);

  if (cell == NULL || cell->type == VALUE_NULL)
    return NULL;

  return g_bytes_new (cell->text, cell->size);
}

void
kp_rows_free (KpRows *rows)
{
  if (rows == NULL)
    return;

  for (guint i = 0; i < rows->cells->len; i++)
    g_free (g_array_index (rows->cells, Cell, i).text);
  g_array_unref (rows->cells);
  g_free (rows);
}

/* Another process's commit appends to the WAL file: while its size and
 * modification time stay the same, PRAGMA data_version (which needs a
 * read transaction, and so file locks) cannot have changed either. */
static gboolean
wal_changed (KpDb *db)
{
  g_autofree char *wal = g_strconcat (db->path, "-wal", NULL);
  struct stat st;
  gint64 stamp[3] = { 0, 0, 0 };

  if (stat (wal, &st) == 0)
    {
      stamp[0] = st.st_size;
      stamp[1] = st.st_mtim.tv_sec;
      stamp[2] = st.st_mtim.tv_nsec;
    }

  if (db->wal_known && memcmp (stamp, db->wal_stamp, sizeof stamp) == 0)
    return FALSE;

  memcpy (db->wal_stamp, stamp, sizeof stamp);
  db->wal_known = TRUE;
  return TRUE;
}

guint64
kp_db_get_generation (KpDb *db)
{
  g_return_val_if_fail (db != NULL, 0);

  return db->backend->generation (db);
}

static guint64
sqlite_generation (KpDb *db)
{
  /* File times tick coarsely (a few ms): re-read anyway every 100 ms, so
   * that two commits of another process within one tick, after the WAL
   * was reset to the same size, are seen soon all the same. */
  if (db->path == NULL || wal_changed (db) ||
      g_get_monotonic_time () - db->data_version_time > 100 * 1000)
    {
      gint64 data_version = 0;

      if (!kp_db_query_int (db, &data_version, NULL, NULL, "PRAGMA data_version", NULL))
        {
          db->wal_known = FALSE;
          return G_MAXUINT64;  /* unknown: never equal to a cached one */
        }
      db->data_version = data_version;
      db->data_version_time = g_get_monotonic_time ();
    }

  return ((guint64)db->data_version << 40) + (guint64)sqlite3_total_changes64 (db->sqlite);
}

/* Transactions */

gboolean
kp_db_begin (KpDb    *db,
             GError **error)
{
  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (db->depth == 0, FALSE);

  if (!db->backend->begin (db, error))
    return FALSE;

  db->depth = 1;
  return TRUE;
}

gboolean
kp_db_commit (KpDb    *db,
              GError **error)
{
  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (db->depth == 1, FALSE);

  if ((db->backend->before_commit != NULL && !db->backend->before_commit (db, error)) ||
      !kp_db_exec (db, NULL, error, "COMMIT", NULL))
    {
      kp_db_rollback (db);
      return FALSE;
    }

  db->depth = 0;
  return TRUE;
}

gboolean
kp_db_commit_run (KpDb    *db,
                  GError **error)
{
  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (db->depth == 1, FALSE);

  if (db->backend->before_commit != NULL && !db->backend->before_commit (db, error))
    return FALSE;

  return db->backend->exec (db, "COMMIT", NULL, 0, NULL, NULL, error);
}

void
kp_db_commit_finish (KpDb     *db,
                     gboolean  ok)
{
  g_return_if_fail (db != NULL);
  g_return_if_fail (db->depth == 1);

  if (ok)
    db->depth = 0;
  else
    kp_db_rollback (db);
}

void
kp_db_rollback (KpDb *db)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (db != NULL);

  if (db->depth == 0)
    return;

  db->depth = 0;
  if (db->backend->lost_transaction (db))
    return;  /* already rolled back (SQLite after SQLITE_FULL, a lost connection) */

  if (!kp_db_exec (db, NULL, &error, "ROLLBACK", NULL))
    g_warning ("Cannot roll back: %s", error->message);
}

gboolean
kp_db_in_transaction (KpDb *db)
{
  g_return_val_if_fail (db != NULL, FALSE);

  return db->depth > 0;
}

static gboolean
valid_savepoint_name (const char *name)
{
  if (name == NULL || !g_ascii_isalpha (name[0]))
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '_')
      return FALSE;
  return TRUE;
}

gboolean
kp_db_savepoint (KpDb        *db,
                 const char  *name,
                 GError     **error)
{
  g_autofree char *sql = NULL;

  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (db->depth > 0, FALSE);
  g_return_val_if_fail (valid_savepoint_name (name), FALSE);

  /* SQLite rolls a whole transaction back by itself after some errors (a
   * full disk, for one). A savepoint now would silently start a new one,
   * committed on its release: refuse, so that nothing of this group is
   * acknowledged. */
  if (db->backend->lost_transaction (db))
    {
      g_set_error (error, KP_DB_ERROR, KP_DB_ERROR_FAILED,
                   _("The transaction was rolled back after an earlier error"));
      return FALSE;
    }

  sql = g_strdup_printf ("SAVEPOINT %s", name);
  return kp_db_exec (db, NULL, error, sql, NULL);
}

gboolean
kp_db_release (KpDb        *db,
               const char  *name,
               GError     **error)
{
  g_autofree char *sql = NULL;

  g_return_val_if_fail (db != NULL, FALSE);
  g_return_val_if_fail (valid_savepoint_name (name), FALSE);

  sql = g_strdup_printf ("RELEASE SAVEPOINT %s", name);
  return kp_db_exec (db, NULL, error, sql, NULL);
}

void
kp_db_rollback_to (KpDb       *db,
                   const char *name)
{
  g_autofree char *sql = NULL;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (db != NULL);
  g_return_if_fail (valid_savepoint_name (name));

  if (db->backend->lost_transaction (db))
    return;  /* nothing left to roll back to; the commit will fail */

  sql = g_strdup_printf ("ROLLBACK TO SAVEPOINT %s", name);
  if (!kp_db_exec (db, NULL, &error, sql, NULL))
    g_warning ("Cannot roll back to %s: %s", name, error->message);
}
