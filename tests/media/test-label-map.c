/* test-label-map.c: label maps written by core, read back through GdkPixbuf,
 * and a Ground Truth semantic segmentation imported with that decoder
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>

#include "kp-label-map.h"
#include "../core/kp-test-util.h"

/* The greyscale PNG core writes is a PNG GdkPixbuf reads, pixel for pixel. */
static void
test_png_gray8 (void)
{
  g_autofree char *folder = kp_test_make_folder ();
  g_autofree char *path = g_build_filename (folder, "map.png", NULL);
  g_autoptr(GBytes) png = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *rgb = NULL;
  guint8 pixels[7 * 5];
  int w = 0, h = 0;

  for (guint i = 0; i < sizeof pixels; i++)
    pixels[i] = (guint8)(i * 7);
  png = kp_export_png_gray8 (pixels, 7, 5);
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (png, NULL), g_bytes_get_size (png), &error));

  rgb = kp_label_map_load_rgb (path, &w, &h, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (w, ==, 7);
  g_assert_cmpint (h, ==, 5);
  for (guint i = 0; i < sizeof pixels; i++)
    {
      g_assert_cmpuint (rgb[i * 3], ==, pixels[i]);
      g_assert_cmpuint (rgb[i * 3 + 2], ==, pixels[i]);
    }

  g_assert_null (kp_label_map_load_rgb (folder, &w, &h, NULL, &error));
  g_assert_nonnull (error);

  kp_test_rm_rf (folder);
}

static void
test_ground_truth_segmentation (void)
{
  g_autofree char *folder = kp_test_make_folder ();
  g_autofree char *manifest = g_build_filename (folder, "out", "output.manifest", NULL);
  g_autofree char *mask_path = g_build_filename (folder, "out", "seg.png", NULL);
  g_autofree char *image_path = g_build_filename (folder, "scene.png", NULL);
  g_autofree char *out = g_build_filename (folder, "out", NULL);
  g_autoptr(GdkPixbuf) mask = gdk_pixbuf_new (GDK_COLORSPACE_RGB, TRUE, 8, 16, 12);
  g_autoptr(KpStore) store = NULL;
  g_autoptr(KpImportReport) report = NULL;
  g_autoptr(GPtrArray) media = NULL;
  g_autoptr(GPtrArray) annotations = NULL;
  g_autoptr(GError) error = NULL;
  const KpAnnotation *a;

  /* A 16 × 12 map: black background, a blue 4 × 3 block at (2, 5). */
  gdk_pixbuf_fill (mask, 0x000000ff);
  {
    g_autoptr(GdkPixbuf) block = gdk_pixbuf_new_subpixbuf (mask, 2, 5, 4, 3);

    gdk_pixbuf_fill (block, 0x0000ffff);
  }
  g_assert_true (g_mkdir_with_parents (out, 0755) == 0);
  g_assert_true (gdk_pixbuf_save (mask, mask_path, "png", &error, NULL));
  g_assert_true (gdk_pixbuf_save (mask, image_path, "png", &error, NULL));
  g_assert_true (g_file_set_contents (manifest,
                                      "{\"source-ref\": \"s3://b/scene.png\", \"sem-ref\": \"s3://b/x/seg.png\","
                                      " \"sem-ref-metadata\": {\"type\": \"groundtruth/semantic-segmentation\","
                                      " \"internal-color-map\": {\"0\": {\"class-name\": \"BACKGROUND\","
                                      " \"hex-color\": \"#000000\"}, \"1\": {\"class-name\": \"water\","
                                      " \"hex-color\": \"#0000ff\", \"confidence\": 0.5}}}}\n", -1, &error));

  store = kp_store_open (folder, &error);
  g_assert_no_error (error);
  g_assert_true (kp_store_scan (store, NULL, &error));
  media = kp_store_list_media (store, &error);
  g_assert_cmpuint (media->len, ==, 2);

  report = kp_import (store, KP_IMPORT_FORMAT_GROUND_TRUTH, manifest, KP_IMPORT_FLAGS_NONE,
                      kp_label_map_load_rgb, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (report->problems->len, ==, 0);
  g_assert_cmpuint (report->n_objects, ==, 1);

  for (guint i = 0; i < media->len; i++)
    if (g_str_equal (((KpMedia *)media->pdata[i])->path, "scene.png"))
      annotations = kp_store_list_annotations (store, ((KpMedia *)media->pdata[i])->id, &error);
  g_assert_nonnull (annotations);
  g_assert_cmpuint (annotations->len, ==, 1);
  a = annotations->pdata[0];
  g_assert_cmpint (a->shape, ==, KP_SHAPE_MASK);
  g_assert_cmpint (a->mask->x, ==, 2);
  g_assert_cmpint (a->mask->y, ==, 5);
  g_assert_cmpuint (kp_mask_get_area (a->mask), ==, 12);
  g_assert_cmpfloat (a->confidence, ==, 0.5);

  g_clear_object (&store);
  kp_test_rm_rf (folder);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/kempelen/media/label-map/png-gray8", test_png_gray8);
  g_test_add_func ("/kempelen/media/label-map/ground-truth-segmentation", test_ground_truth_segmentation);

  return g_test_run ();
}
