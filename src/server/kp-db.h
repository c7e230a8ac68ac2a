/* kp-db.h: the server's store interface
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every server module talks to its database through this interface and
 * nothing else: portable SQL with numbered parameters ($1, $2, …), typed
 * binding, materialised result rows, transactions and savepoints. A backend
 * implements the small vtable in kp-db.c; SQLite is the embedded one, and
 * PostgreSQL (libpq, whose PQexecParams takes the same $n parameters and
 * returns materialised rows) can follow behind the same functions.
 *
 * SQL written for it sticks to what both dialects accept: INTEGER/TEXT
 * columns, ON CONFLICT … DO NOTHING/UPDATE, RETURNING, LIMIT, partial
 * indexes; no AUTOINCREMENT or rowid tricks (ids are made by the server).
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define KP_DB_ERROR (kp_db_error_quark ())

typedef enum
{
  KP_DB_ERROR_FAILED,      /* anything else (a bug or I/O) */
  KP_DB_ERROR_CONSTRAINT,  /* a UNIQUE / CHECK / FOREIGN KEY was violated */
  KP_DB_ERROR_BUSY,        /* locked by another process for too long */
  KP_DB_ERROR_FULL,        /* the disk is full */
  KP_DB_ERROR_CORRUPT,     /* not a database, or damaged */
  KP_DB_ERROR_TOO_NEW,     /* written by a newer kempelen-server */
  KP_DB_ERROR_READONLY,    /* cannot write */
  KP_DB_ERROR_UNAVAILABLE, /* the database server cannot be reached (PostgreSQL) */
} KpDbError;

GQuark kp_db_error_quark (void);

typedef struct _KpDb   KpDb;
typedef struct _KpRows KpRows;

/* Opens (creating if needed) the database at location: a file path for
 * SQLite ("sqlite:" prefix optional), or a libpq URI ("postgresql://…")
 * for PostgreSQL, whose database must exist (its tables are created). Applies the schema migrations of
 * kp-schema.c. The file is created readable by its owner only. */
KpDb       *kp_db_open            (const char  *location,
                                   GError     **error);
void        kp_db_close           (KpDb        *db);
const char *kp_db_get_backend     (KpDb        *db);   /* "sqlite" */

/* Parameters are described by fmt, one character each, followed by the
 * values in the same order, binding $1, $2, …:
 *   's'  const char *      (NULL binds SQL NULL)
 *   'i'  gint64
 *   'I'  int               (convenience for gboolean / enum values)
 *   'n'  nothing           (binds SQL NULL, takes no argument)
 *   'b'  GBytes *          (NULL binds SQL NULL)
 * fmt may be NULL or "" for no parameters. */

/* A statement without result rows; *n_changed (optional) gets the number of
 * rows inserted, updated or deleted. */
gboolean    kp_db_exec            (KpDb        *db,
                                   guint       *n_changed,
                                   GError     **error,
                                   const char  *sql,
                                   const char  *fmt,
                                   ...);
/* A query; all rows are read into the result. NULL on error. */
KpRows     *kp_db_query           (KpDb        *db,
                                   GError     **error,
                                   const char  *sql,
                                   const char  *fmt,
                                   ...) G_GNUC_WARN_UNUSED_RESULT;
/* A query expected to give at most one row: TRUE with *rows set (maybe to
 * an empty result) or FALSE with error. Convenience for lookups. */
gboolean    kp_db_query_int       (KpDb        *db,
                                   gint64      *value,    /* unchanged if no row */
                                   gboolean    *found,    /* optional */
                                   GError     **error,
                                   const char  *sql,
                                   const char  *fmt,
                                   ...);

guint       kp_rows_get_n_rows    (KpRows      *rows);
guint       kp_rows_get_n_columns (KpRows      *rows);
/* Column values of row r, column c; NULL / 0 for SQL NULL. Text is UTF-8
 * and stays valid until kp_rows_free(). */
const char *kp_rows_get_text      (KpRows      *rows,
                                   guint        r,
                                   guint        c);
gint64      kp_rows_get_int       (KpRows      *rows,
                                   guint        r,
                                   guint        c);
gboolean    kp_rows_is_null       (KpRows      *rows,
                                   guint        r,
                                   guint        c);
GBytes     *kp_rows_get_bytes     (KpRows      *rows,
                                   guint        r,
                                   guint        c);
void        kp_rows_free          (KpRows      *rows);

/* A number that changes whenever the database's contents may have changed,
 * through this connection or any other (SQLite: total changes and
 * PRAGMA data_version). Equal numbers mean equal contents; for caches. */
guint64     kp_db_get_generation  (KpDb        *db);

/* Transactions. begin() takes the write lock at once (SQLite BEGIN
 * IMMEDIATE), so read-modify-write sequences inside are race-free across
 * processes. Savepoints nest inside a transaction. */
gboolean    kp_db_begin           (KpDb        *db,
                                   GError     **error);
gboolean    kp_db_commit          (KpDb        *db,
                                   GError     **error);
void        kp_db_rollback        (KpDb        *db);
gboolean    kp_db_in_transaction  (KpDb        *db);
/* Committing on another thread, so that the fsync does not block the
 * thread serving requests: kp_db_commit_run() executes the COMMIT and may
 * run on any thread while nothing else uses db; kp_db_commit_finish() then
 * ends the transaction on the thread owning db (rolling back if ok is
 * FALSE). kp_db_in_transaction() stays TRUE in between. */
gboolean    kp_db_commit_run      (KpDb        *db,
                                   GError     **error);
void        kp_db_commit_finish   (KpDb        *db,
                                   gboolean     ok);
gboolean    kp_db_savepoint       (KpDb        *db,
                                   const char  *name,
                                   GError     **error);
gboolean    kp_db_release         (KpDb        *db,
                                   const char  *name,
                                   GError     **error);
void        kp_db_rollback_to     (KpDb        *db,
                                   const char  *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpRows, kp_rows_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpDb, kp_db_close)

G_END_DECLS
