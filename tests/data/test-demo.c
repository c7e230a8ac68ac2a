/* test-demo.c: the demo project generator
 *
 * Copyright 2026 The Kempelen authors
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Usage (from meson): test-demo KP-MAKE-DEMO [GTest options]
 */

#include "config.h"

#include <string.h>

#include <gio/gio.h>

#include "kp-core.h"

#define N_IMAGES 6
#define N_LABELS 9

static const char *make_demo_path;

static void
run_make_demo (const char *folder)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = NULL;

  process = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error,
                              make_demo_path, folder, NULL);
  g_assert_no_error (error);
  g_subprocess_wait_check (process, NULL, &error);
  g_assert_no_error (error);
}

static char *
hash_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *hex = NULL;
  gsize length;

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  hex = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *)contents, length);

  return g_strconcat ("sha256:", hex, NULL);
}

static guint
count_boxes (KpStore *store,
             guint   *n_done)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) media = kp_store_list_media (store, &error);
  guint total = 0;

  g_assert_no_error (error);
  *n_done = 0;
  for (guint i = 0; i < media->len; i++)
    {
      const KpMedia *m = g_ptr_array_index (media, i);
      g_autoptr(GPtrArray) annotations = kp_store_list_annotations (store, m->id, &error);

      g_assert_no_error (error);
      total += annotations->len;
      if (m->status == KP_MEDIA_STATUS_DONE)
        (*n_done)++;
    }

  return total;
}

static void
test_demo_contents (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *folder = g_build_filename (g_get_user_data_dir (), "demo", NULL);
  g_autoptr(KpStore) store = NULL;
  g_autoptr(GPtrArray) labels = NULL;
  g_autoptr(GPtrArray) media = NULL;
  g_autofree char *db = NULL;
  gboolean found_sign = FALSE;
  guint n_done = 0;

  run_make_demo (folder);

  db = g_build_filename (folder, KP_STORE_DIRNAME, KP_STORE_FILENAME, NULL);
  g_assert_true (g_file_test (db, G_FILE_TEST_IS_REGULAR));

  store = kp_store_open (folder, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kp_store_get_database_path (store), ==, db);

  labels = kp_store_list_labels (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (labels->len, ==, N_LABELS);
  for (guint i = 0; i < labels->len; i++)
    {
      const KpLabel *label = g_ptr_array_index (labels, i);

      g_assert_cmpint (label->key, >=, 1);
      g_assert_cmpint (label->key, <=, 9);
      g_assert_true (g_str_has_prefix (label->color, "#"));
      g_assert_cmpuint (strlen (label->color), ==, 7);
      if (g_strcmp0 (label->name, "Verkehrsschild") == 0)
        found_sign = TRUE;
    }
  g_assert_true (found_sign);

  media = kp_store_list_media (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (media->len, ==, N_IMAGES);
  for (guint i = 0; i < media->len; i++)
    {
      const KpMedia *m = g_ptr_array_index (media, i);
      g_autofree char *file = kp_store_dup_media_file (store, m);
      g_autofree char *hash = hash_file (file);
      g_autoptr(GPtrArray) annotations = kp_store_list_annotations (store, m->id, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (m->hash, ==, hash);
      g_assert_cmpint (m->width, ==, 1280);
      g_assert_cmpint (m->height, ==, 800);

      /* Every box lies inside its image and is not degenerate. */
      for (guint j = 0; j < annotations->len; j++)
        {
          const KpAnnotation *a = g_ptr_array_index (annotations, j);

          g_assert_cmpint (a->shape, ==, KP_SHAPE_BOX);
          g_assert_cmpfloat (a->rect.x, >=, 0);
          g_assert_cmpfloat (a->rect.y, >=, 0);
          g_assert_cmpfloat (a->rect.width, >=, 8);
          g_assert_cmpfloat (a->rect.height, >=, 8);
          g_assert_cmpfloat (a->rect.x + a->rect.width, <=, m->width);
          g_assert_cmpfloat (a->rect.y + a->rect.height, <=, m->height);
        }

      if (g_str_equal (m->path, "01-street.png"))
        {
          g_assert_cmpint (m->status, ==, KP_MEDIA_STATUS_DONE);
          g_assert_cmpuint (annotations->len, ==, 7);
        }
      else if (g_str_equal (m->path, "06-park.png"))
        {
          g_assert_cmpint (m->status, ==, KP_MEDIA_STATUS_TODO);
          g_assert_cmpuint (annotations->len, ==, 0);
        }
      else
        {
          g_assert_cmpuint (annotations->len, >, 0);
        }
    }

  g_assert_cmpuint (count_boxes (store, &n_done), >=, 30);
  g_assert_cmpuint (n_done, ==, 2);
}

/* Running the generator again on the same folder must not add a second set
 * of labels and boxes, and must give the same images. */
static void
test_demo_rerun (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *folder = g_build_filename (g_get_user_data_dir (), "rerun", NULL);
  g_autofree char *street = g_build_filename (folder, "01-street.png", NULL);
  g_autofree char *first_hash = NULL;
  g_autofree char *second_hash = NULL;
  guint first_boxes, second_boxes, n_done;

  run_make_demo (folder);
  first_hash = hash_file (street);
  {
    g_autoptr(KpStore) store = kp_store_open (folder, &error);

    g_assert_no_error (error);
    first_boxes = count_boxes (store, &n_done);
  }

  run_make_demo (folder);
  second_hash = hash_file (street);
  {
    g_autoptr(KpStore) store = kp_store_open (folder, &error);
    g_autoptr(GPtrArray) labels = NULL;

    g_assert_no_error (error);
    second_boxes = count_boxes (store, &n_done);
    labels = kp_store_list_labels (store, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (labels->len, ==, N_LABELS);
  }

  g_assert_cmpuint (first_boxes, >, 0);
  g_assert_cmpuint (second_boxes, ==, first_boxes);
  g_assert_cmpuint (n_done, ==, 2);
  g_assert_cmpstr (first_hash, ==, second_hash);
}

/* The images in the build tree (what the README's run command opens) are the
 * ones the generator makes: the output is deterministic. */
static void
test_demo_build_output (void)
{
  const char *build_root = g_getenv ("KP_BUILD_ROOT");
  g_autofree char *folder = g_build_filename (g_get_user_data_dir (), "again", NULL);
  g_autofree char *built = NULL;
  g_autofree char *fresh = NULL;

  if (build_root == NULL)
    {
      g_test_skip ("KP_BUILD_ROOT is not set");
      return;
    }

  run_make_demo (folder);
  built = g_build_filename (build_root, "data", "demo", "03-harbour.png", NULL);
  fresh = g_build_filename (folder, "03-harbour.png", NULL);
  {
    g_autofree char *built_hash = hash_file (built);
    g_autofree char *fresh_hash = hash_file (fresh);

    g_assert_cmpstr (built_hash, ==, fresh_hash);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  if (argc < 2)
    {
      g_printerr ("Usage: %s KP-MAKE-DEMO\n", argv[0]);
      return 2;
    }
  make_demo_path = argv[1];

  g_test_add_func ("/kempelen/data/demo/contents", test_demo_contents);
  g_test_add_func ("/kempelen/data/demo/rerun", test_demo_rerun);
  g_test_add_func ("/kempelen/data/demo/build-output", test_demo_build_output);

  return g_test_run ();
}
