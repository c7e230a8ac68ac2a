/* test-store.c: the SQLite project store
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <fcntl.h>
#include <math.h>
#include <string.h>

#include <sqlite3.h>

#include "kp-core.h"
#include "kp-store-private.h"
#include "kp-test-util.h"
#include "../kp-test-privileges.h"

static int
query_int (KpStore    *store,
           const char *sql)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (_kp_store_get_db (store), sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  return sqlite3_column_int (stmt, 0);
}

static char *
query_text (KpStore    *store,
            const char *sql)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (_kp_store_get_db (store), sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  return g_strdup ((const char *)sqlite3_column_text (stmt, 0));
}

static KpMedia *
find_media (GPtrArray  *media,
            const char *path)
{
  for (guint i = 0; i < media->len; i++)
    {
      KpMedia *m = g_ptr_array_index (media, i);

      if (g_strcmp0 (m->path, path) == 0)
        return m;
    }
  return NULL;
}

static void
test_open_reopen (void)
{
  g_autofree char *folder = kp_test_make_folder ();
  g_autofree char *expected = g_build_filename (folder, ".kempelen", "project.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) labels = NULL;
  g_autofree char *mode = NULL;
  g_autofree char *value = NULL;
  g_autofree char *name = NULL;
  g_autofree char *base = g_path_get_basename (folder);
  KpStore *store;
  gint64 label;

  store = kp_store_open (folder, &error);
  g_assert_no_error (error);
  g_assert_nonnull (store);
  g_assert_cmpstr (kp_store_get_database_path (store), ==, expected);
  g_assert_cmpstr (kp_store_get_folder (store), ==, folder);
  name = kp_store_dup_name (store);
  g_assert_cmpstr (name, ==, base);
  g_assert_true (g_file_test (expected, G_FILE_TEST_IS_REGULAR));

  g_assert_cmpint (query_int (store, "PRAGMA user_version"), ==, KP_STORE_SCHEMA_VERSION);
  g_assert_cmpint (query_int (store, "PRAGMA foreign_keys"), ==, 1);
  g_assert_cmpint (query_int (store, "PRAGMA synchronous"), ==, 1); /* NORMAL */
  mode = query_text (store, "PRAGMA journal_mode");
  g_assert_cmpstr (mode, ==, "wal");
  /* Every table is STRICT. */
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM pragma_table_list WHERE strict = 1 "
                                     "AND name IN ('media', 'labels', 'annotations', 'settings')"), ==, 4);

  label = kp_store_add_label (store, "car", "#ff0000", 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (label, >, 0);
  g_assert_true (kp_store_set_setting (store, "last-media-id", "42", &error));
  g_assert_no_error (error);
  g_assert_finalize_object (store);

  /* Reopening finds everything, and migrating twice does nothing. */
  store = kp_store_open (folder, &error);
  g_assert_no_error (error);
  labels = kp_store_list_labels (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (labels->len, ==, 1);
  g_assert_cmpstr (((KpLabel *)labels->pdata[0])->name, ==, "car");
  g_assert_cmpint (((KpLabel *)labels->pdata[0])->id, ==, label);
  value = kp_store_dup_setting (store, "last-media-id");
  g_assert_cmpstr (value, ==, "42");
  g_assert_null (kp_store_dup_setting (store, "no-such-setting"));
  g_assert_true (kp_store_set_setting (store, "last-media-id", NULL, &error));
  g_assert_no_error (error);
  g_assert_null (kp_store_dup_setting (store, "last-media-id"));
  g_assert_finalize_object (store);

  kp_test_rm_rf (folder);
}

static void
test_open_missing_folder (void)
{
  g_autoptr(GError) error = NULL;
  KpStore *store;

  store = kp_store_open ("/nonexistent/kempelen/folder", &error);
  g_assert_null (store);
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_NOT_FOUND);
}

/* The location rules, with a predicate standing in for permissions so
 * they are tested even as root. */
typedef struct
{
  const char * const *read_only;
} FakePermissions;

static gboolean
fake_writable (const char *path,
               gpointer    user_data)
{
  FakePermissions *perms = user_data;

  for (guint i = 0; perms->read_only[i] != NULL; i++)
    if (g_strcmp0 (path, perms->read_only[i]) == 0)
      return FALSE;

  return TRUE;
}

static void
test_location (void)
{
  g_autofree char *parent = kp_test_make_folder ();
  g_autofree char *folder = g_build_filename (parent, "photos", NULL);
  g_autofree char *in_folder = g_build_filename (folder, ".kempelen", "project.db", NULL);
  g_autofree char *beside = g_build_filename (parent, "photos.kempelen", "project.db", NULL);
  g_autofree char *beside_dir = g_build_filename (parent, "photos.kempelen", NULL);
  g_autofree char *in_folder_dir = g_build_filename (folder, ".kempelen", NULL);
  g_autofree char *digest = NULL;
  g_autofree char *per_user = NULL;
  g_autofree char *data_dir = NULL;
  g_auto(GStrv) candidates = NULL;
  g_autoptr(GError) error = NULL;
  char *copy_from = NULL;
  char *path;

  g_assert_cmpint (g_mkdir (folder, 0755), ==, 0);
  digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, folder, -1);
  per_user = g_build_filename (g_get_user_data_dir (), "kempelen", "projects", digest, "project.db", NULL);
  data_dir = g_strdup (g_get_user_data_dir ());
  g_assert_cmpint (g_mkdir_with_parents (data_dir, 0755), ==, 0);

  candidates = _kp_store_candidate_paths (folder);
  g_assert_cmpuint (g_strv_length (candidates), ==, 3);
  g_assert_cmpstr (candidates[0], ==, in_folder);
  g_assert_cmpstr (candidates[1], ==, beside);
  g_assert_cmpstr (candidates[2], ==, per_user);

  /* Everything writable: inside the folder. */
  {
    const char *ro[] = { NULL };
    FakePermissions perms = { ro };

    path = _kp_store_locate (folder, fake_writable, &perms, &copy_from, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (path, ==, in_folder);
    g_assert_null (copy_from);
    g_free (path);
  }

  /* A read-only folder: beside it. */
  {
    const char *ro[] = { folder, NULL };
    FakePermissions perms = { ro };

    path = _kp_store_locate (folder, fake_writable, &perms, &copy_from, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (path, ==, beside);
    g_assert_null (copy_from);
    g_free (path);
  }

  /* Folder and parent read-only: the per-user data folder. */
  {
    const char *ro[] = { folder, parent, NULL };
    FakePermissions perms = { ro };

    path = _kp_store_locate (folder, fake_writable, &perms, &copy_from, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (path, ==, per_user);
    g_assert_null (copy_from);
    g_free (path);
  }

  /* Nothing writable. */
  {
    const char *ro[] = { folder, parent, data_dir, NULL };
    FakePermissions perms = { ro };

    path = _kp_store_locate (folder, fake_writable, &perms, &copy_from, &error);
    g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_READ_ONLY);
    g_assert_null (path);
    g_assert_null (copy_from);
    g_clear_error (&error);
  }

  /* An existing read-only database inside the folder is copied beside it. */
  kp_test_write (folder, ".kempelen/project.db", "", 0);
  {
    const char *ro[] = { in_folder, in_folder_dir, folder, NULL };
    FakePermissions perms = { ro };

    path = _kp_store_locate (folder, fake_writable, &perms, &copy_from, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (path, ==, beside);
    g_assert_cmpstr (copy_from, ==, in_folder);
    g_clear_pointer (&copy_from, g_free);
    g_free (path);

    /* Once the copy exists, it is used as it is: never copied again. */
    kp_test_write (parent, "photos.kempelen/project.db", "", 0);
    path = _kp_store_locate (folder, fake_writable, &perms, &copy_from, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (path, ==, beside);
    g_assert_null (copy_from);
    g_free (path);
  }

  /* An existing writable database wins over an earlier empty location. */
  g_unlink (in_folder);
  {
    const char *ro[] = { NULL };
    FakePermissions perms = { ro };

    path = _kp_store_locate (folder, fake_writable, &perms, &copy_from, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (path, ==, beside);
    g_assert_null (copy_from);
    g_free (path);
  }

  g_unlink (beside);
  g_rmdir (beside_dir);
  kp_test_rm_rf (parent);
}

/* The same through real permissions. As root, the check runs in a child
 * without the capabilities that let root write anywhere. */
static void
test_read_only_folder (void)
{
  g_autofree char *parent = NULL;
  g_autofree char *folder = NULL;
  g_autofree char *inside_dir = NULL;
  g_autofree char *inside = NULL;
  g_autofree char *beside = NULL;
  g_autoptr(GBytes) before = NULL;
  g_autoptr(GBytes) after = NULL;
  g_autoptr(GPtrArray) labels = NULL;
  g_autoptr(GPtrArray) entries = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GError) error = NULL;
  const char *name;
  KpStore *store;

  if (!kp_test_run_without_dac ())
    return;

  parent = kp_test_make_folder ();
  folder = g_build_filename (parent, "photos", NULL);
  inside_dir = g_build_filename (folder, ".kempelen", NULL);
  inside = g_build_filename (inside_dir, "project.db", NULL);
  beside = g_build_filename (parent, "photos.kempelen", "project.db", NULL);

  kp_test_write (folder, "a.png", "x", 1);
  store = kp_store_open (folder, &error);
  g_assert_no_error (error);
  kp_store_add_label (store, "kept", "#00ff00", 0, &error);
  g_assert_no_error (error);
  g_assert_finalize_object (store);

  g_assert_cmpint (g_chmod (inside, 0444), ==, 0);
  g_assert_cmpint (g_chmod (inside_dir, 0555), ==, 0);
  g_assert_cmpint (g_chmod (folder, 0555), ==, 0);
  g_assert_cmpint (g_access (folder, W_OK), !=, 0);
  g_assert_cmpint (g_access (inside_dir, W_OK), !=, 0);

  before = kp_test_read (inside);
  store = kp_store_open (folder, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kp_store_get_database_path (store), ==, beside);
  labels = kp_store_list_labels (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (labels->len, ==, 1);
  g_assert_cmpstr (((KpLabel *)labels->pdata[0])->name, ==, "kept");
  kp_store_add_label (store, "new", "#0000ff", 0, &error);
  g_assert_no_error (error);
  g_assert_finalize_object (store);

  after = kp_test_read (inside);
  g_assert_true (g_bytes_equal (before, after));

  /* The next time, the copy is found and used, not made again. */
  store = kp_store_open (folder, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kp_store_get_database_path (store), ==, beside);
  g_clear_pointer (&labels, g_ptr_array_unref);
  labels = kp_store_list_labels (store, &error);
  g_assert_cmpuint (labels->len, ==, 2);
  g_assert_finalize_object (store);

  /* The folder itself is untouched: no journal or WAL file left in it. */
  entries = g_ptr_array_new_with_free_func (g_free);
  dir = g_dir_open (inside_dir, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (entries, g_strdup (name));
  g_assert_cmpuint (entries->len, ==, 1);
  g_assert_cmpstr (entries->pdata[0], ==, "project.db");

  /* Without CAP_DAC_OVERRIDE the tree can only go once writable again. */
  g_assert_cmpint (g_chmod (folder, 0755), ==, 0);
  g_assert_cmpint (g_chmod (inside_dir, 0755), ==, 0);
  kp_test_rm_rf (parent);
  g_assert_false (g_file_test (parent, G_FILE_TEST_EXISTS));
}

static void
make_sqlite_file (const char *path,
                  const char *sql)
{
  g_autofree char *dir = g_path_get_dirname (path);
  sqlite3 *db = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
}

static void
test_too_new (void)
{
  g_autofree char *folder = kp_test_make_folder ();
  g_autofree char *db = g_build_filename (folder, ".kempelen", "project.db", NULL);
  g_autoptr(GBytes) before = NULL;
  g_autoptr(GBytes) after = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *wal = g_strconcat (db, "-wal", NULL);
  KpStore *store;

  make_sqlite_file (db, "CREATE TABLE future (x INTEGER); INSERT INTO future VALUES (1);"
                        "PRAGMA user_version = 99;");
  before = kp_test_read (db);

  store = kp_store_open (folder, &error);
  g_assert_null (store);
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_TOO_NEW);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "newer version of Kempelen"));
  g_assert_nonnull (strstr (error->message, "schema 99"));
  g_assert_nonnull (strstr (error->message, db));

  after = kp_test_read (db);
  g_assert_true (g_bytes_equal (before, after));
  g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));

  kp_test_rm_rf (folder);
}

static void
check_corrupt (const char *folder,
               const char *db)
{
  g_autoptr(GBytes) before = kp_test_read (db);
  g_autoptr(GBytes) after = NULL;
  g_autoptr(GError) error = NULL;
  KpStore *store;

  store = kp_store_open (folder, &error);
  g_assert_null (store);
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_CORRUPT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, db));

  after = kp_test_read (db);
  g_assert_true (g_bytes_equal (before, after));
}

static void
test_corrupt (void)
{
  g_autofree char *folder = kp_test_make_folder ();
  g_autofree char *db = g_build_filename (folder, ".kempelen", "project.db", NULL);
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  guint8 noise[8192];
  g_autoptr(GBytes) good = NULL;

  /* Random bytes. */
  for (guint i = 0; i < sizeof noise; i++)
    noise[i] = g_rand_int_range (rand, 0, 256);
  kp_test_write (folder, ".kempelen/project.db", (const char *)noise, sizeof noise);
  check_corrupt (folder, db);

  /* A real SQLite header followed by garbage. */
  memcpy (noise, "SQLite format 3", 16);
  kp_test_write (folder, ".kempelen/project.db", (const char *)noise, sizeof noise);
  check_corrupt (folder, db);

  /* A real database with damaged pages. */
  g_unlink (db);
  make_sqlite_file (db, "CREATE TABLE t (x TEXT); CREATE INDEX ti ON t (x);"
                        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)"
                        " INSERT INTO t SELECT printf('row %d padding padding padding', i) FROM n;");
  good = kp_test_read (db);
  {
    gsize len;
    const guint8 *data = g_bytes_get_data (good, &len);
    g_autofree guint8 *bad = g_memdup2 (data, len);

    g_assert_cmpuint (len, >, 3 * 4096);
    /* Overwrite the second page (the table's root or an index page). */
    for (gsize i = 4096; i < 3 * 4096; i++)
      bad[i] = g_rand_int_range (rand, 0, 256);
    kp_test_write (folder, ".kempelen/project.db", (const char *)bad, len);
  }
  check_corrupt (folder, db);

  /* A folder where the file should be. */
  g_unlink (db);
  g_assert_cmpint (g_mkdir (db, 0755), ==, 0);
  {
    g_autoptr(GError) error = NULL;
    KpStore *store = kp_store_open (folder, &error);

    g_assert_null (store);
    g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_CORRUPT);
    g_assert_true (g_file_test (db, G_FILE_TEST_IS_DIR));
  }

  kp_test_rm_rf (folder);
}

/* A 0-byte file is what SQLite itself makes an empty database of: the
 * store treats it as a new one. */
static void
test_empty_file (void)
{
  g_autofree char *folder = kp_test_make_folder ();
  g_autoptr(GError) error = NULL;
  KpStore *store;

  kp_test_write (folder, ".kempelen/project.db", "", 0);
  store = kp_store_open (folder, &error);
  g_assert_no_error (error);
  g_assert_cmpint (query_int (store, "PRAGMA user_version"), ==, KP_STORE_SCHEMA_VERSION);
  g_assert_finalize_object (store);

  kp_test_rm_rf (folder);
}

/* A database of schema 0 with our tables missing is migrated. */
static void
test_migrate_from_zero (void)
{
  g_autofree char *folder = kp_test_make_folder ();
  g_autofree char *db = g_build_filename (folder, ".kempelen", "project.db", NULL);
  g_autoptr(GError) error = NULL;
  KpStore *store;

  make_sqlite_file (db, "CREATE TABLE unrelated (x INTEGER);");
  store = kp_store_open (folder, &error);
  g_assert_no_error (error);
  g_assert_cmpint (query_int (store, "PRAGMA user_version"), ==, KP_STORE_SCHEMA_VERSION);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM sqlite_schema WHERE name = 'annotations'"), ==, 1);
  g_assert_finalize_object (store);

  kp_test_rm_rf (folder);
}

/* A project written by the schema-1 program (boxes only), made by hand with
 * that program's exact schema, opens, migrates and keeps its boxes; the new
 * shapes, attributes, tags and undo history then work in it. */
static void
test_migrate_from_one (void)
{
  g_autofree char *folder = kp_test_make_folder ();
  g_autofree char *db = g_build_filename (folder, ".kempelen", "project.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) annotations = NULL;
  g_autoptr(KpAnnotation) polygon = g_new0 (KpAnnotation, 1);
  KpPoint points[] = { { 0, 0 }, { 10, 0 }, { 5, 8 } };
  const KpAnnotation *a;
  KpStore *store;
  gint64 id;

  kp_test_write (folder, "old.png", "", 0);
  make_sqlite_file (db,
                    "CREATE TABLE media (id INTEGER PRIMARY KEY AUTOINCREMENT, path TEXT NOT NULL UNIQUE,"
                    " size INTEGER NOT NULL DEFAULT 0, mtime INTEGER NOT NULL DEFAULT 0, hash TEXT,"
                    " width INTEGER NOT NULL DEFAULT 0, height INTEGER NOT NULL DEFAULT 0,"
                    " done INTEGER NOT NULL DEFAULT 0, error TEXT, missing INTEGER NOT NULL DEFAULT 0) STRICT;"
                    "CREATE TABLE labels (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE,"
                    " color TEXT NOT NULL, key INTEGER NOT NULL DEFAULT 0 CHECK (key BETWEEN 0 AND 9),"
                    " position INTEGER NOT NULL DEFAULT 0) STRICT;"
                    "CREATE UNIQUE INDEX labels_key ON labels (key) WHERE key <> 0;"
                    "CREATE TABLE annotations (id INTEGER PRIMARY KEY AUTOINCREMENT,"
                    " media_id INTEGER NOT NULL REFERENCES media (id) ON DELETE CASCADE,"
                    " label_id INTEGER NOT NULL REFERENCES labels (id) ON DELETE CASCADE,"
                    " shape INTEGER NOT NULL DEFAULT 0, x REAL NOT NULL, y REAL NOT NULL,"
                    " w REAL NOT NULL, h REAL NOT NULL, created INTEGER NOT NULL,"
                    " modified INTEGER NOT NULL) STRICT;"
                    "CREATE INDEX annotations_media ON annotations (media_id);"
                    "CREATE INDEX annotations_label ON annotations (label_id);"
                    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;"
                    "INSERT INTO media (id, path, width, height) VALUES (7, 'old.png', 100, 80);"
                    "INSERT INTO labels (id, name, color, key) VALUES (3, 'car', '#ff0000', 1);"
                    "INSERT INTO annotations (id, media_id, label_id, x, y, w, h, created, modified)"
                    " VALUES (41, 7, 3, 1.5, 2.5, 30, 40, 0, 0);"
                    "PRAGMA user_version = 1;");

  store = kp_store_open (folder, &error);
  g_assert_no_error (error);
  g_assert_cmpint (query_int (store, "PRAGMA user_version"), ==, KP_STORE_SCHEMA_VERSION);
  g_assert_cmpint (query_int (store, "SELECT count(*) FROM sqlite_schema"
                                     " WHERE name IN ('history', 'label_attributes', 'annotation_attributes',"
                                     " 'tag_groups', 'tags', 'media_tags')"), ==, 6);

  annotations = kp_store_list_annotations (store, 7, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (annotations->len, ==, 1);
  a = annotations->pdata[0];
  g_assert_cmpint (a->id, ==, 41);
  g_assert_cmpint (a->shape, ==, KP_SHAPE_BOX);
  g_assert_cmpfloat (a->rect.x, ==, 1.5);
  g_assert_cmpfloat (a->rect.height, ==, 40);
  g_assert_cmpint (a->z, ==, 0);
  g_assert_cmpint (a->flags, ==, 0);
  g_assert_cmpint (a->review, ==, KP_REVIEW_NONE);
  g_assert_null (a->source);
  g_assert_cmpuint (a->n_attributes, ==, 0);

  polygon->media_id = 7;
  polygon->label_id = 3;
  polygon->shape = KP_SHAPE_POLYGON;
  kp_annotation_set_points (polygon, points, 3);
  id = kp_store_add_annotation (store, polygon, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 41);
  g_assert_finalize_object (store);

  /* Reopening does not migrate again and keeps both. */
  store = kp_store_open (folder, &error);
  g_assert_no_error (error);
  g_clear_pointer (&annotations, g_ptr_array_unref);
  annotations = kp_store_list_annotations (store, 7, &error);
  g_assert_cmpuint (annotations->len, ==, 2);
  a = annotations->pdata[1];
  g_assert_cmpint (a->shape, ==, KP_SHAPE_POLYGON);
  g_assert_cmpuint (a->n_points, ==, 3);
  g_assert_cmpfloat (a->points[2].y, ==, 8);
  g_assert_cmpfloat (a->rect.width, ==, 10);
  g_assert_finalize_object (store);

  kp_test_rm_rf (folder);
}

/* Every shape and field is written and read back exactly. */
static void
test_shapes_round_trip (void)
{
  g_autofree char *folder = kp_test_make_folder ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) media = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GPtrArray) written = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_annotation_free);
  KpAttribute attr = { 0 };
  const char *options[] = { "red", "blue", NULL };
  gint64 label, media_id, attr_id;
  KpStore *store;

  kp_test_write (folder, "a.png", "", 0);
  store = kp_store_open (folder, &error);
  g_assert_true (kp_store_scan (store, NULL, &error));
  media = kp_store_list_media (store, &error);
  media_id = ((KpMedia *)media->pdata[0])->id;
  label = kp_store_add_label (store, "l", "#000000", 0, &error);
  g_assert_no_error (error);

  attr.label_id = label;
  attr.name = (char *)"colour";
  attr.kind = KP_ATTRIBUTE_CHOICE;
  attr.options = (char **)options;
  attr.min = -G_MAXDOUBLE;
  attr.max = G_MAXDOUBLE;
  attr_id = kp_store_add_attribute (store, &attr, &error);
  g_assert_no_error (error);

  for (KpShape shape = 0; shape < KP_N_SHAPES; shape++)
    {
      KpAnnotation *a = g_new0 (KpAnnotation, 1);
      KpPoint pts[] = { { 1.25, 2.5 }, { 10.125, 3 }, { 7, 9.75 }, { 0.5, 8 } };
      guint n = shape == KP_SHAPE_POINT ? 1 : shape == KP_SHAPE_LINE ? 2 : 4;

      a->media_id = media_id;
      a->label_id = label;
      a->shape = shape;
      a->rect = (KpRect) { 1, 2, 3, 4 };
      a->rotated = (KpRotatedBox) { 50, 40, 20, 10, 0.3 };
      if (shape >= KP_SHAPE_POLYGON && shape <= KP_SHAPE_POINT)
        kp_annotation_set_points (a, pts, n);
      if (shape == KP_SHAPE_MASK)
        a->mask = kp_mask_paint_circle (NULL, 20, 20, 5, TRUE);
      if (shape != KP_SHAPE_ROTATED_BOX)
        a->rotated = (KpRotatedBox) { 0 };
      if (shape == KP_SHAPE_POINT)
        {
          a->keypoint = g_strdup ("left_eye");
          a->occluded = TRUE;
        }
      a->z = (int)shape - 3;
      a->flags = KP_ANNOTATION_LOCKED | KP_ANNOTATION_MODIFIED_BY_PERSON;
      a->review = KP_REVIEW_PENDING;
      a->source = g_strdup ("coco:x.json");
      a->confidence = 0.875;
      kp_annotation_set_attribute (a, attr_id, "blue");
      kp_annotation_update_bounds (a);
      a->id = kp_store_add_annotation (store, a, &error);
      g_assert_no_error (error);
      g_ptr_array_add (written, a);
    }

  list = kp_store_list_annotations (store, media_id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, KP_N_SHAPES);
  for (guint i = 0; i < list->len; i++)
    g_assert_true (kp_annotation_equal (list->pdata[i], written->pdata[i]));

  /* Bounds follow the shape. */
  g_assert_cmpfloat (((KpAnnotation *)list->pdata[KP_SHAPE_POLYGON])->rect.x, ==, 0.5);
  g_assert_cmpfloat (((KpAnnotation *)list->pdata[KP_SHAPE_POLYGON])->rect.width, ==, 10.125 - 0.5);
  g_assert_cmpfloat (((KpAnnotation *)list->pdata[KP_SHAPE_MASK])->rect.width, ==, 10);

  /* Invalid geometry is refused. */
  {
    KpAnnotation bad = { 0 };
    KpPoint two[] = { { 0, 0 }, { 1, 1 } };

    bad.media_id = media_id;
    bad.label_id = label;
    bad.shape = KP_SHAPE_POLYGON;
    bad.points = two;
    bad.n_points = 2;
    g_assert_cmpint (kp_store_add_annotation (store, &bad, &error), ==, 0);
    g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID);
    g_clear_error (&error);
    bad.shape = KP_SHAPE_MASK;
    bad.points = NULL;
    bad.n_points = 0;
    g_assert_cmpint (kp_store_add_annotation (store, &bad, &error), ==, 0);
    g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID);
    g_clear_error (&error);
  }

  /* Deleting the attribute definition deletes its values. */
  g_assert_true (kp_store_delete_attribute (store, attr_id, &error));
  g_clear_pointer (&list, g_ptr_array_unref);
  list = kp_store_list_annotations (store, media_id, &error);
  g_assert_cmpuint (((KpAnnotation *)list->pdata[0])->n_attributes, ==, 0);

  g_assert_finalize_object (store);
  kp_test_rm_rf (folder);
}

static void
test_attributes (void)
{
  g_autofree char *folder = kp_test_make_folder ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  KpAttribute attr = { 0 };
  const char *no_options[] = { NULL };
  gint64 label, number, check;
  KpStore *store;

  store = kp_store_open (folder, &error);
  label = kp_store_add_label (store, "person", "#000000", 0, &error);
  g_assert_no_error (error);

  attr.label_id = label;
  attr.name = (char *)" age ";
  attr.kind = KP_ATTRIBUTE_NUMBER;
  attr.min = 0;
  attr.max = 150;
  attr.position = 1;
  number = kp_store_add_attribute (store, &attr, &error);
  g_assert_no_error (error);

  attr.name = (char *)"occluded";
  attr.kind = KP_ATTRIBUTE_CHECKBOX;
  attr.default_value = (char *)"false";
  attr.position = 0;
  check = kp_store_add_attribute (store, &attr, &error);
  g_assert_no_error (error);

  /* Duplicate name, empty choice, bad range, bad default. */
  g_assert_cmpint (kp_store_add_attribute (store, &attr, &error), ==, 0);
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID);
  g_clear_error (&error);
  attr.name = (char *)"colour";
  attr.kind = KP_ATTRIBUTE_CHOICE;
  attr.options = (char **)no_options;
  attr.default_value = NULL;
  g_assert_cmpint (kp_store_add_attribute (store, &attr, &error), ==, 0);
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID);
  g_clear_error (&error);
  attr.kind = KP_ATTRIBUTE_NUMBER;
  attr.min = 5;
  attr.max = 1;
  g_assert_cmpint (kp_store_add_attribute (store, &attr, &error), ==, 0);
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID);
  g_clear_error (&error);
  attr.kind = KP_ATTRIBUTE_CHECKBOX;
  attr.default_value = (char *)"yes";
  g_assert_cmpint (kp_store_add_attribute (store, &attr, &error), ==, 0);
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID);
  g_clear_error (&error);

  list = kp_store_list_attributes (store, label, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpint (((KpAttribute *)list->pdata[0])->id, ==, check);
  g_assert_cmpint (((KpAttribute *)list->pdata[1])->id, ==, number);
  g_assert_cmpstr (((KpAttribute *)list->pdata[1])->name, ==, "age");
  g_assert_cmpfloat (((KpAttribute *)list->pdata[1])->max, ==, 150);
  g_assert_cmpfloat (((KpAttribute *)list->pdata[0])->max, ==, G_MAXDOUBLE);

  g_assert_true (kp_attribute_validate (list->pdata[1], "42.5", NULL));
  g_assert_false (kp_attribute_validate (list->pdata[1], "151", NULL));
  g_assert_false (kp_attribute_validate (list->pdata[1], "4x", NULL));
  g_assert_true (kp_attribute_validate (list->pdata[0], "true", NULL));
  g_assert_false (kp_attribute_validate (list->pdata[0], "1", NULL));

  /* Deleting the label deletes its attributes. */
  g_assert_true (kp_store_delete_label (store, label, &error));
  g_clear_pointer (&list, g_ptr_array_unref);
  list = kp_store_list_all_attributes (store, &error);
  g_assert_cmpuint (list->len, ==, 0);

  g_assert_finalize_object (store);
  kp_test_rm_rf (folder);
}

static void
test_tags (void)
{
  g_autofree char *folder = kp_test_make_folder ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) media = NULL;
  g_autoptr(GArray) set = NULL;
  gint64 weather, flags, sunny, rainy, blurry, dark, media_id;
  KpStore *store;

  kp_test_write (folder, "a.png", "", 0);
  store = kp_store_open (folder, &error);
  g_assert_true (kp_store_scan (store, NULL, &error));
  media = kp_store_list_media (store, &error);
  media_id = ((KpMedia *)media->pdata[0])->id;

  weather = kp_store_add_tag_group (store, "Weather", FALSE, &error);
  flags = kp_store_add_tag_group (store, "Quality", TRUE, &error);
  sunny = kp_store_add_tag (store, weather, "sunny", &error);
  rainy = kp_store_add_tag (store, weather, "rainy", &error);
  blurry = kp_store_add_tag (store, flags, "blurry", &error);
  dark = kp_store_add_tag (store, flags, "dark", &error);
  g_assert_no_error (error);
  g_assert_cmpint (kp_store_add_tag (store, weather, "sunny", &error), ==, 0);
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID);
  g_clear_error (&error);

  g_assert_true (kp_store_set_media_tags (store, media_id, (gint64[]) { dark, sunny, blurry }, 3, &error));
  g_assert_no_error (error);
  set = kp_store_get_media_tags (store, media_id, &error);
  g_assert_cmpuint (set->len, ==, 3);

  /* Two of a single-select group are refused, and nothing changes. */
  g_assert_false (kp_store_set_media_tags (store, media_id, (gint64[]) { sunny, rainy }, 2, &error));
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_clear_pointer (&set, g_array_unref);
  set = kp_store_get_media_tags (store, media_id, &error);
  g_assert_cmpuint (set->len, ==, 3);

  g_assert_true (kp_store_delete_tag_group (store, flags, &error));
  g_clear_pointer (&set, g_array_unref);
  set = kp_store_get_media_tags (store, media_id, &error);
  g_assert_cmpuint (set->len, ==, 1);
  g_assert_cmpint (g_array_index (set, gint64, 0), ==, sunny);

  g_assert_finalize_object (store);
  kp_test_rm_rf (folder);
}

static void
test_path_is_image (void)
{
  g_assert_true (kp_media_path_is_image ("a.png"));
  g_assert_true (kp_media_path_is_image ("sub/dir/A.JPEG"));
  g_assert_true (kp_media_path_is_image ("x.TiF"));
  g_assert_true (kp_media_path_is_image ("x.webp"));
  g_assert_false (kp_media_path_is_image ("notes.txt"));
  g_assert_false (kp_media_path_is_image ("png"));
  g_assert_false (kp_media_path_is_image (".png"));
  g_assert_false (kp_media_path_is_image ("dir.png/file"));
  g_assert_false (kp_media_path_is_image ("a.png.bak"));
}

static void
test_scan (void)
{
  g_autofree char *folder = kp_test_make_folder ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) media = NULL;
  g_autofree char *file = NULL;
  static const char *expected[] = {
    "a.png", "b.JPG", "img2.png", "img10.png", "sub/c.png", "sub/deeper/d.jpeg",
  };
  KpAnnotation annotation = { 0 };
  KpStore *store;
  KpMedia *c;
  gint64 c_id, a_id, label;

  kp_test_write (folder, "a.png", "aaaa", 4);
  kp_test_write (folder, "b.JPG", "b", 1);
  kp_test_write (folder, "img10.png", "", 0);
  kp_test_write (folder, "img2.png", "", 0);
  kp_test_write (folder, "sub/c.png", "cc", 2);
  kp_test_write (folder, "sub/deeper/d.jpeg", "", 0);
  kp_test_write (folder, ".hidden.png", "", 0);
  kp_test_write (folder, ".hiddendir/e.png", "", 0);
  kp_test_write (folder, "sub/notes.txt", "", 0);
  kp_test_write (folder, "README", "", 0);

  store = kp_store_open (folder, &error);
  g_assert_no_error (error);
  g_assert_true (kp_store_scan (store, NULL, &error));
  g_assert_no_error (error);

  media = kp_store_list_media (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (media->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < media->len; i++)
    {
      KpMedia *m = g_ptr_array_index (media, i);

      g_assert_cmpstr (m->path, ==, expected[i]);
      g_assert_cmpint (m->status, ==, KP_MEDIA_STATUS_TODO);
      g_assert_cmpuint (m->n_annotations, ==, 0);
      g_assert_null (m->hash);
      g_assert_cmpint (m->width, ==, 0);
    }
  g_assert_cmpint (((KpMedia *)media->pdata[0])->size, ==, 4);
  c = find_media (media, "sub/c.png");
  c_id = c->id;
  a_id = ((KpMedia *)media->pdata[0])->id;
  file = kp_store_dup_media_file (store, c);
  {
    g_autofree char *want = g_build_filename (folder, "sub", "c.png", NULL);

    g_assert_cmpstr (file, ==, want);
  }
  g_clear_pointer (&media, g_ptr_array_unref);

  /* Status follows annotations and the done mark. */
  label = kp_store_add_label (store, "thing", "#123456", 0, &error);
  g_assert_no_error (error);
  annotation.media_id = c_id;
  annotation.label_id = label;
  annotation.rect = (KpRect) { 1, 2, 3, 4 };
  g_assert_cmpint (kp_store_add_annotation (store, &annotation, &error), >, 0);
  g_assert_no_error (error);
  {
    g_autoptr(KpMedia) m = kp_store_get_media (store, c_id, &error);

    g_assert_no_error (error);
    g_assert_cmpint (m->status, ==, KP_MEDIA_STATUS_IN_PROGRESS);
    g_assert_cmpuint (m->n_annotations, ==, 1);
  }
  g_assert_true (kp_store_set_media_done (store, c_id, TRUE, &error));
  {
    g_autoptr(KpMedia) m = kp_store_get_media (store, c_id, &error);

    g_assert_cmpint (m->status, ==, KP_MEDIA_STATUS_DONE);
  }
  g_assert_true (kp_store_set_media_done (store, c_id, FALSE, &error));
  {
    g_autoptr(KpMedia) m = kp_store_get_media (store, c_id, &error);

    g_assert_cmpint (m->status, ==, KP_MEDIA_STATUS_IN_PROGRESS);
  }

  /* A vanished file is MISSING, with its annotations kept. */
  {
    g_autofree char *path = g_build_filename (folder, "sub", "c.png", NULL);

    g_assert_cmpint (g_unlink (path), ==, 0);
  }
  g_assert_true (kp_store_scan (store, NULL, &error));
  g_assert_no_error (error);
  {
    g_autoptr(KpMedia) m = kp_store_get_media (store, c_id, &error);
    g_autoptr(GPtrArray) annotations = kp_store_list_annotations (store, c_id, &error);

    g_assert_no_error (error);
    g_assert_cmpint (m->status, ==, KP_MEDIA_STATUS_MISSING);
    g_assert_cmpuint (annotations->len, ==, 1);
  }

  /* It comes back: IN_PROGRESS again, same id. */
  kp_test_write (folder, "sub/c.png", "cc", 2);
  g_assert_true (kp_store_scan (store, NULL, &error));
  g_assert_no_error (error);
  {
    g_autoptr(KpMedia) m = kp_store_get_media (store, c_id, &error);

    g_assert_no_error (error);
    g_assert_cmpint (m->status, ==, KP_MEDIA_STATUS_IN_PROGRESS);
    g_assert_cmpuint (m->n_annotations, ==, 1);
  }

  /* Decoding results are kept while the file stays the same... */
  g_assert_true (kp_store_set_media_info (store, a_id, "sha256:abc", 640, 480, &error));
  g_assert_no_error (error);
  g_assert_true (kp_store_scan (store, NULL, &error));
  {
    g_autoptr(KpMedia) m = kp_store_get_media (store, a_id, &error);

    g_assert_cmpstr (m->hash, ==, "sha256:abc");
    g_assert_cmpint (m->width, ==, 640);
    g_assert_cmpint (m->height, ==, 480);
  }
  /* ...a NULL hash leaves the hash alone... */
  g_assert_true (kp_store_set_media_info (store, a_id, NULL, 64, 48, &error));
  {
    g_autoptr(KpMedia) m = kp_store_get_media (store, a_id, &error);

    g_assert_cmpstr (m->hash, ==, "sha256:abc");
    g_assert_cmpint (m->width, ==, 64);
  }
  /* ...and cleared when it changes. */
  g_assert_true (kp_store_set_media_error (store, a_id, "Not an image", &error));
  kp_test_write (folder, "a.png", "a longer file", -1);
  g_assert_true (kp_store_scan (store, NULL, &error));
  g_assert_no_error (error);
  {
    g_autoptr(KpMedia) m = kp_store_get_media (store, a_id, &error);

    g_assert_null (m->hash);
    g_assert_null (m->error);
    g_assert_cmpint (m->width, ==, 0);
    g_assert_cmpint (m->size, ==, 13);
    g_assert_cmpint (m->status, ==, KP_MEDIA_STATUS_TODO);
  }

  /* BROKEN and back. */
  g_assert_true (kp_store_set_media_error (store, a_id, "Truncated JPEG", &error));
  {
    g_autoptr(KpMedia) m = kp_store_get_media (store, a_id, &error);

    g_assert_cmpint (m->status, ==, KP_MEDIA_STATUS_BROKEN);
    g_assert_cmpstr (m->error, ==, "Truncated JPEG");
  }
  g_assert_true (kp_store_set_media_error (store, a_id, NULL, &error));
  {
    g_autoptr(KpMedia) m = kp_store_get_media (store, a_id, &error);

    g_assert_cmpint (m->status, ==, KP_MEDIA_STATUS_TODO);
  }

  /* Unknown ids. */
  g_assert_null (kp_store_get_media (store, 9999, &error));
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (kp_store_set_media_done (store, 9999, TRUE, &error));
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Ids are stable across scans. */
  media = kp_store_list_media (store, &error);
  g_assert_cmpuint (media->len, ==, G_N_ELEMENTS (expected));
  g_assert_cmpint (find_media (media, "sub/c.png")->id, ==, c_id);

  g_assert_finalize_object (store);
  kp_test_rm_rf (folder);
}

static void
test_scan_cancelled (void)
{
  g_autofree char *folder = kp_test_make_folder ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) media = NULL;
  KpStore *store;

  kp_test_write (folder, "a.png", "", 0);
  store = kp_store_open (folder, &error);
  g_assert_no_error (error);
  g_cancellable_cancel (cancellable);
  g_assert_false (kp_store_scan (store, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  media = kp_store_list_media (store, NULL);
  g_assert_cmpuint (media->len, ==, 0);
  g_assert_finalize_object (store);
  kp_test_rm_rf (folder);
}

/* As root too, in a child without the capabilities that let root read
 * any folder. */
static void
test_scan_unreadable_subfolder (void)
{
  g_autofree char *folder = NULL;
  g_autofree char *locked = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) media = NULL;
  KpStore *store;

  if (!kp_test_run_without_dac ())
    return;

  folder = kp_test_make_folder ();
  locked = g_build_filename (folder, "locked", NULL);
  kp_test_write (folder, "a.png", "", 0);
  kp_test_write (folder, "locked/b.png", "", 0);
  g_assert_cmpint (g_chmod (locked, 0), ==, 0);
  g_assert_cmpint (g_access (locked, R_OK), !=, 0);

  store = kp_store_open (folder, &error);
  g_assert_no_error (error);
  g_test_expect_message ("Kempelen-core", G_LOG_LEVEL_WARNING, "*Skipping unreadable folder*");
  g_assert_true (kp_store_scan (store, NULL, &error));
  g_test_assert_expected_messages ();
  g_assert_no_error (error);
  media = kp_store_list_media (store, &error);
  g_assert_cmpuint (media->len, ==, 1);
  g_assert_cmpstr (((KpMedia *)media->pdata[0])->path, ==, "a.png");

  g_assert_finalize_object (store);
  kp_test_rm_rf (folder);
  g_assert_false (g_file_test (folder, G_FILE_TEST_EXISTS));
}

static void
make_empty_files (const char *folder,
                  guint       n)
{
  for (guint i = 0; i < n; i++)
    {
      char name[32];
      g_autofree char *path = NULL;
      int fd;

      g_snprintf (name, sizeof name, "img%05u.png", i);
      path = g_build_filename (folder, name, NULL);
      fd = g_open (path, O_CREAT | O_WRONLY, 0644);
      g_assert_cmpint (fd, >=, 0);
      g_close (fd, NULL);
    }
}

static void
test_scan_10k (void)
{
  g_autofree char *folder = kp_test_make_folder ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) media = NULL;
  KpStore *store;
  gint64 start;
  double scan_ms, rescan_ms, list_ms;

  make_empty_files (folder, 10000);

  store = kp_store_open (folder, &error);
  g_assert_no_error (error);

  start = g_get_monotonic_time ();
  g_assert_true (kp_store_scan (store, NULL, &error));
  g_assert_no_error (error);
  scan_ms = (g_get_monotonic_time () - start) / 1000.0;

  start = g_get_monotonic_time ();
  media = kp_store_list_media (store, &error);
  g_assert_no_error (error);
  list_ms = (g_get_monotonic_time () - start) / 1000.0;

  g_assert_cmpuint (media->len, ==, 10000);
  g_assert_cmpstr (((KpMedia *)media->pdata[0])->path, ==, "img00000.png");
  g_assert_cmpstr (((KpMedia *)media->pdata[9999])->path, ==, "img09999.png");

  start = g_get_monotonic_time ();
  g_assert_true (kp_store_scan (store, NULL, &error));
  rescan_ms = (g_get_monotonic_time () - start) / 1000.0;

  g_test_message ("10,000 files: scan %.1f ms, rescan %.1f ms, list %.1f ms",
                  scan_ms, rescan_ms, list_ms);

  g_assert_finalize_object (store);
  kp_test_rm_rf (folder);
}

static void
test_disk_full (void)
{
  g_autofree char *folder = kp_test_make_folder ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) media = NULL;
  g_autofree char *sql = NULL;
  KpStore *store;

  make_empty_files (folder, 3000);
  store = kp_store_open (folder, &error);
  g_assert_no_error (error);

  /* SQLite reports SQLITE_FULL when the database may not grow. */
  sql = g_strdup_printf ("PRAGMA max_page_count = %d", query_int (store, "PRAGMA page_count"));
  g_assert_cmpint (sqlite3_exec (_kp_store_get_db (store), sql, NULL, NULL, NULL), ==, SQLITE_OK);

  g_assert_false (kp_store_scan (store, NULL, &error));
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_FULL);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "disk is full"));
  g_clear_error (&error);

  /* The scan was one transaction: nothing of it is left. */
  media = kp_store_list_media (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (media->len, ==, 0);

  g_assert_finalize_object (store);
  kp_test_rm_rf (folder);
}

static void
expect_invalid (gint64   id,
                GError **error)
{
  g_assert_cmpint (id, ==, 0);
  g_assert_error (*error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID);
  g_test_message ("%s", (*error)->message);
  g_clear_error (error);
}

static void
test_labels (void)
{
  g_autofree char *folder = kp_test_make_folder ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) labels = NULL;
  g_autoptr(KpLabel) fetched = NULL;
  const char *odd = "Fußgänger \"quoted\" a/b";
  KpStore *store;
  gint64 car, odd_id, none1, none2;
  KpLabel update;

  store = kp_store_open (folder, &error);
  g_assert_no_error (error);

  car = kp_store_add_label (store, "  car  ", "#FF0000", 1, &error);
  g_assert_no_error (error);
  odd_id = kp_store_add_label (store, odd, "#00ff00", 2, &error);
  g_assert_no_error (error);
  none1 = kp_store_add_label (store, "no key 1", "#000000", 0, &error);
  g_assert_no_error (error);
  none2 = kp_store_add_label (store, "no key 2", "#ffffff", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (none1, !=, none2);

  expect_invalid (kp_store_add_label (store, "", "#000000", 0, &error), &error);
  expect_invalid (kp_store_add_label (store, " \t ", "#000000", 0, &error), &error);
  expect_invalid (kp_store_add_label (store, "car", "#000000", 0, &error), &error);
  expect_invalid (kp_store_add_label (store, " car", "#000000", 0, &error), &error);
  expect_invalid (kp_store_add_label (store, "line\nbreak", "#000000", 0, &error), &error);
  expect_invalid (kp_store_add_label (store, "bad utf8 \xff", "#000000", 0, &error), &error);
  expect_invalid (kp_store_add_label (store, "x", "red", 0, &error), &error);
  expect_invalid (kp_store_add_label (store, "x", "#12345", 0, &error), &error);
  expect_invalid (kp_store_add_label (store, "x", "#12345g", 0, &error), &error);
  expect_invalid (kp_store_add_label (store, "x", "#1234567", 0, &error), &error);
  expect_invalid (kp_store_add_label (store, "x", NULL, 0, &error), &error);
  expect_invalid (kp_store_add_label (store, "x", "#000000", 10, &error), &error);
  expect_invalid (kp_store_add_label (store, "x", "#000000", -1, &error), &error);
  g_assert_cmpint (kp_store_add_label (store, "x", "#000000", 1, &error), ==, 0);
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "car"));
  g_clear_error (&error);

  labels = kp_store_list_labels (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (labels->len, ==, 4);
  {
    KpLabel *l0 = labels->pdata[0], *l1 = labels->pdata[1];

    g_assert_cmpint (l0->id, ==, car);
    g_assert_cmpstr (l0->name, ==, "car");
    g_assert_cmpstr (l0->color, ==, "#ff0000");
    g_assert_cmpint (l0->key, ==, 1);
    g_assert_cmpint (l1->id, ==, odd_id);
    g_assert_cmpstr (l1->name, ==, odd);
    g_assert_cmpint (l1->position, >, l0->position);
  }

  /* Updates are validated against the other labels, not themselves. */
  fetched = kp_store_get_label (store, car, &error);
  g_assert_no_error (error);
  update = *fetched;
  update.color = (char *)"#0000ff";
  g_assert_true (kp_store_update_label (store, &update, &error));
  g_assert_no_error (error);
  update.name = (char *)odd;
  g_assert_false (kp_store_update_label (store, &update, &error));
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID);
  g_clear_error (&error);
  update.name = (char *)"auto";
  update.key = 2;
  g_assert_false (kp_store_update_label (store, &update, &error));
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID);
  g_clear_error (&error);
  update.key = 3;
  update.position = 99;
  g_assert_true (kp_store_update_label (store, &update, &error));
  g_assert_no_error (error);
  {
    g_autoptr(KpLabel) l = kp_store_get_label (store, car, &error);

    g_assert_cmpstr (l->name, ==, "auto");
    g_assert_cmpstr (l->color, ==, "#0000ff");
    g_assert_cmpint (l->key, ==, 3);
    g_assert_cmpint (l->position, ==, 99);
  }
  update.id = 12345;
  update.name = (char *)"ghost";
  update.key = 0;
  g_assert_false (kp_store_update_label (store, &update, &error));
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (kp_store_get_label (store, 12345, &error));
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* The key of a deleted label is free again. */
  g_assert_true (kp_store_delete_label (store, odd_id, &error));
  g_assert_no_error (error);
  g_assert_cmpint (kp_store_add_label (store, "two", "#222222", 2, &error), >, 0);
  g_assert_no_error (error);
  g_assert_false (kp_store_delete_label (store, odd_id, &error));
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_finalize_object (store);
  kp_test_rm_rf (folder);
}

static void
test_annotations (void)
{
  g_autofree char *folder = kp_test_make_folder ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) media = NULL;
  g_autoptr(GPtrArray) list = NULL;
  KpAnnotation a = { 0 };
  KpStore *store;
  gint64 media_id, other_media, label, label2, id1, id2, id3;

  kp_test_write (folder, "one.png", "", 0);
  kp_test_write (folder, "two.png", "", 0);
  store = kp_store_open (folder, &error);
  g_assert_no_error (error);
  g_assert_true (kp_store_scan (store, NULL, &error));
  media = kp_store_list_media (store, &error);
  media_id = ((KpMedia *)media->pdata[0])->id;
  other_media = ((KpMedia *)media->pdata[1])->id;
  label = kp_store_add_label (store, "a", "#000000", 0, &error);
  label2 = kp_store_add_label (store, "b", "#000000", 0, &error);
  g_assert_no_error (error);

  a.media_id = media_id;
  a.label_id = label;
  a.rect = (KpRect) { 10.25, 20.5, 30.125, 40.0625 };
  id1 = kp_store_add_annotation (store, &a, &error);
  g_assert_no_error (error);
  /* Negative sizes are stored normalized. */
  a.rect = (KpRect) { 50, 50, -10, -20 };
  id2 = kp_store_add_annotation (store, &a, &error);
  g_assert_no_error (error);
  a.media_id = other_media;
  a.rect = (KpRect) { 1, 1, 1, 1 };
  id3 = kp_store_add_annotation (store, &a, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id1, <, id2);
  g_assert_cmpint (id2, <, id3);

  list = kp_store_list_annotations (store, media_id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  {
    KpAnnotation *b = list->pdata[0], *c = list->pdata[1];

    g_assert_cmpint (b->id, ==, id1);
    g_assert_cmpint (b->media_id, ==, media_id);
    g_assert_cmpint (b->label_id, ==, label);
    g_assert_cmpint (b->shape, ==, KP_SHAPE_BOX);
    g_assert_cmpfloat (b->rect.x, ==, 10.25);
    g_assert_cmpfloat (b->rect.y, ==, 20.5);
    g_assert_cmpfloat (b->rect.width, ==, 30.125);
    g_assert_cmpfloat (b->rect.height, ==, 40.0625);
    g_assert_cmpint (c->id, ==, id2);
    g_assert_cmpfloat (c->rect.x, ==, 40);
    g_assert_cmpfloat (c->rect.y, ==, 30);
    g_assert_cmpfloat (c->rect.width, ==, 10);
    g_assert_cmpfloat (c->rect.height, ==, 20);
  }
  g_clear_pointer (&list, g_ptr_array_unref);

  /* Update. */
  a.id = id1;
  a.media_id = media_id;
  a.label_id = label2;
  a.rect = (KpRect) { 1, 2, 3, 4 };
  g_assert_true (kp_store_update_annotation (store, &a, &error));
  g_assert_no_error (error);
  list = kp_store_list_annotations (store, media_id, &error);
  g_assert_cmpint (((KpAnnotation *)list->pdata[0])->label_id, ==, label2);
  g_assert_cmpfloat (((KpAnnotation *)list->pdata[0])->rect.height, ==, 4);
  g_clear_pointer (&list, g_ptr_array_unref);
  g_assert_cmpuint (kp_store_count_label_uses (store, label, &error), ==, 2);
  g_assert_cmpuint (kp_store_count_label_uses (store, label2, &error), ==, 1);

  /* Delete, then re-add with the same id (undo). */
  g_assert_true (kp_store_delete_annotation (store, id1, &error));
  g_assert_no_error (error);
  g_assert_false (kp_store_delete_annotation (store, id1, &error));
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (kp_store_update_annotation (store, &a, &error));
  g_assert_error (error, KP_STORE_ERROR, KP_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpint (kp_store_add_annotation (store, &a, &error), ==, id1);
  g_assert_no_error (error);
  /* The same id twice is refused. */
  expect_invalid (kp_store_add_annotation (store, &a, &error), &error);

  /* A new annotation never reuses an id, even the highest one deleted. */
  g_assert_true (kp_store_delete_annotation (store, id3, &error));
  a.id = 0;
  a.label_id = label2;
  g_assert_cmpint (kp_store_add_annotation (store, &a, &error), >, id3);

  /* Bad references and bad numbers. */
  a.label_id = 9999;
  expect_invalid (kp_store_add_annotation (store, &a, &error), &error);
  a.label_id = label;
  a.media_id = 9999;
  expect_invalid (kp_store_add_annotation (store, &a, &error), &error);
  a.media_id = media_id;
  a.rect.x = NAN;
  expect_invalid (kp_store_add_annotation (store, &a, &error), &error);
  a.rect.x = INFINITY;
  expect_invalid (kp_store_add_annotation (store, &a, &error), &error);

  /* Deleting a label deletes its annotations. */
  g_assert_true (kp_store_delete_label (store, label, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (kp_store_count_label_uses (store, label, &error), ==, 0);
  list = kp_store_list_annotations (store, media_id, &error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpint (((KpAnnotation *)list->pdata[0])->id, ==, id1);
  g_assert_cmpint (((KpAnnotation *)list->pdata[1])->label_id, ==, label2);

  g_assert_finalize_object (store);
  kp_test_rm_rf (folder);
}

static void
test_copies (void)
{
  KpMedia m = { 3, (char *)"a/b.png", (char *)"sha256:00", 10, 20, 30, 40, KP_MEDIA_STATUS_BROKEN,
                (char *)"bad", 5 };
  KpLabel l = { 4, (char *)"name", (char *)"#abcdef", 2, 7 };
  KpAnnotation a = { 5, 3, 4, KP_SHAPE_BOX, { 1, 2, 3, 4 } };
  g_autoptr(KpMedia) mc = kp_media_copy (&m);
  g_autoptr(KpLabel) lc = kp_label_copy (&l);
  g_autoptr(KpAnnotation) ac = kp_annotation_copy (&a);

  g_assert_true (mc->path != m.path);
  g_assert_cmpstr (mc->path, ==, m.path);
  g_assert_cmpstr (mc->hash, ==, m.hash);
  g_assert_cmpstr (mc->error, ==, m.error);
  g_assert_cmpint (mc->height, ==, 40);
  g_assert_cmpuint (mc->n_annotations, ==, 5);
  g_assert_cmpstr (lc->name, ==, "name");
  g_assert_cmpstr (lc->color, ==, "#abcdef");
  g_assert_cmpint (lc->position, ==, 7);
  g_assert_cmpint (ac->id, ==, 5);
  g_assert_cmpfloat (ac->rect.height, ==, 4);
}

int
main (int   argc,
      char *argv[])
{
  kp_test_drop_dac_in_subprocess (argc, argv);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/kempelen/core/store/open-reopen", test_open_reopen);
  g_test_add_func ("/kempelen/core/store/open-missing-folder", test_open_missing_folder);
  g_test_add_func ("/kempelen/core/store/location", test_location);
  g_test_add_func ("/kempelen/core/store/read-only-folder", test_read_only_folder);
  g_test_add_func ("/kempelen/core/store/too-new", test_too_new);
  g_test_add_func ("/kempelen/core/store/corrupt", test_corrupt);
  g_test_add_func ("/kempelen/core/store/empty-file", test_empty_file);
  g_test_add_func ("/kempelen/core/store/migrate-from-zero", test_migrate_from_zero);
  g_test_add_func ("/kempelen/core/store/path-is-image", test_path_is_image);
  g_test_add_func ("/kempelen/core/store/scan", test_scan);
  g_test_add_func ("/kempelen/core/store/scan-cancelled", test_scan_cancelled);
  g_test_add_func ("/kempelen/core/store/scan-unreadable-subfolder", test_scan_unreadable_subfolder);
  g_test_add_func ("/kempelen/core/store/scan-10k", test_scan_10k);
  g_test_add_func ("/kempelen/core/store/disk-full", test_disk_full);
  g_test_add_func ("/kempelen/core/store/labels", test_labels);
  g_test_add_func ("/kempelen/core/store/annotations", test_annotations);
  g_test_add_func ("/kempelen/core/store/migrate-from-one", test_migrate_from_one);
  g_test_add_func ("/kempelen/core/store/shapes-round-trip", test_shapes_round_trip);
  g_test_add_func ("/kempelen/core/store/attributes", test_attributes);
  g_test_add_func ("/kempelen/core/store/tags", test_tags);
  g_test_add_func ("/kempelen/core/store/copies", test_copies);

  return g_test_run ();
}
