/* kp-db-private.h: what kp-db.c shares with its backends
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "kp-db.h"

#include <sqlite3.h>

G_BEGIN_DECLS

typedef enum
{
  VALUE_NULL,
  VALUE_TEXT,
  VALUE_INT,
  VALUE_BLOB,
} ValueType;

typedef struct
{
  ValueType   type;
  char        kind;     /* the parameter's fmt character: 's', 'i', 'I', 'n', 'b' */
  const char *text;
  gint64      integer;
  GBytes     *blob;
} Value;

#define MAX_PARAMS 32

typedef struct
{
  ValueType  type;
  char      *text;    /* also holds blob data */
  gsize      size;
  gint64     integer;
} Cell;

struct _KpRows
{
  guint  n_rows;
  guint  n_columns;
  GArray *cells;      /* Cell, n_rows * n_columns */
};

KpRows *kp_rows_new (guint n_columns);

typedef struct
{
  const char *name;
  gboolean  (*exec)          (KpDb *db, const char *sql, const Value *values, guint n_values,
                              KpRows **rows, guint *n_changed, GError **error);
  void      (*close)         (KpDb *db);
  /* Starts a transaction holding the store's write lock. */
  gboolean  (*begin)         (KpDb *db, GError **error);
  /* Runs inside the transaction just before its COMMIT (may be NULL). */
  gboolean  (*before_commit) (KpDb *db, GError **error);
  /* Whether the backend has already ended (rolled back) the transaction
   * by itself after an error. */
  gboolean  (*lost_transaction) (KpDb *db);
  guint64   (*generation)    (KpDb *db);
} KpDbBackend;

typedef struct
{
  guint64 n_calls;
  gint64  total_us;
} StatementProfile;

typedef struct _KpDbPg KpDbPg;

struct _KpDb
{
  const KpDbBackend *backend;
  GHashTable        *profile;        /* SQL -> StatementProfile, with KP_DB_PROFILE=1 */
  int                depth;          /* transaction depth: 0 none, 1 begun */

  /* SQLite */
  sqlite3           *sqlite;
  GHashTable        *statements;     /* SQL text -> sqlite3_stmt */

  /* Checkpoints run on a thread of their own, with their own connection,
   * so that a COMMIT never pays for copying the WAL into the database. */
  char              *path;
  GThread           *checkpointer;
  GMutex             checkpoint_mutex;
  GCond              checkpoint_cond;
  gboolean           checkpoint_wanted;
  gboolean           checkpoint_quit;

  /* kp_db_get_generation() */
  gint64             data_version;
  gint64             data_version_time;
  gint64             wal_stamp[3];   /* size, mtime s, mtime ns of the WAL */
  gboolean           wal_known;

  /* PostgreSQL (kp-db-pg.c) */
  KpDbPg            *pg;
};

/* kp-db-pg.c; NULL with error if built without libpq. */
KpDb *kp_db_pg_open (const char  *uri,
                     GError     **error);

G_END_DECLS
