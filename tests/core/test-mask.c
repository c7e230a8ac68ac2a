/* test-mask.c: run-length encoded masks, brush, eraser, polygon fill, COCO RLE
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "kp-core.h"
#include "kp-test-util.h"

static void
test_bitmap_round_trip (void)
{
  /* 5 × 4 with a border of empty rows and columns to crop away. */
  static const guint8 bits[] = {
    0, 0, 0, 0, 0,
    0, 1, 1, 0, 0,
    0, 0, 1, 1, 0,
    0, 0, 0, 0, 0,
  };
  g_autoptr(KpMask) mask = kp_mask_new_from_bitmap (100, 200, 5, 4, bits);
  g_autoptr(KpMask) copy = NULL;
  g_autofree guint8 *back = NULL;
  static const guint8 cropped[] = { 1, 1, 0, 0, 1, 1 };

  g_assert_cmpint (mask->x, ==, 101);
  g_assert_cmpint (mask->y, ==, 201);
  g_assert_cmpint (mask->width, ==, 3);
  g_assert_cmpint (mask->height, ==, 2);
  /* Runs start with unset pixels: 0 unset, 2 set, 2 unset, 2 set. */
  g_assert_cmpuint (mask->n_counts, ==, 4);
  g_assert_cmpuint (mask->counts[0], ==, 0);
  g_assert_cmpuint (mask->counts[1], ==, 2);
  g_assert_cmpuint (mask->counts[2], ==, 2);
  g_assert_cmpuint (mask->counts[3], ==, 2);
  g_assert_cmpuint (kp_mask_get_area (mask), ==, 4);

  back = kp_mask_to_bitmap (mask);
  g_assert_cmpmem (back, 6, cropped, 6);
  g_assert_true (kp_mask_get (mask, 101, 201));
  g_assert_false (kp_mask_get (mask, 103, 201));
  g_assert_true (kp_mask_get (mask, 103, 202));
  g_assert_false (kp_mask_get (mask, 0, 0));

  copy = kp_mask_copy (mask);
  g_assert_true (kp_mask_equal (mask, copy));
  g_assert_false (kp_mask_equal (mask, NULL));

  {
    static const guint8 none[4] = { 0 };
    g_autoptr(KpMask) empty = kp_mask_new_from_bitmap (0, 0, 2, 2, none);

    g_assert_true (kp_mask_is_empty (empty));
    g_assert_cmpuint (kp_mask_get_area (empty), ==, 0);
  }

  /* Counts that do not add up are refused. */
  g_assert_null (kp_mask_new_from_counts (0, 0, 2, 2, (guint32[]) { 1, 2 }, 2));
}

static void
test_serialize (void)
{
  g_autoptr(KpMask) mask = kp_mask_paint_circle (NULL, -3.5, 7, 20, TRUE);
  g_autoptr(GBytes) bytes = kp_mask_serialize (mask);
  g_autoptr(KpMask) back = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  g_assert_cmpint (mask->x, <, 0);
  back = kp_mask_deserialize (data, len);
  g_assert_nonnull (back);
  g_assert_true (kp_mask_equal (mask, back));

  /* Truncated or padded data is refused. */
  g_assert_null (kp_mask_deserialize (data, len - 1));
  {
    g_autofree guint8 *longer = g_malloc0 (len + 1);

    memcpy (longer, data, len);
    g_assert_null (kp_mask_deserialize (longer, len + 1));
  }
  g_assert_null (kp_mask_deserialize ((const guint8 *)"\xff\xff", 2));
}

static void
test_brush_eraser (void)
{
  g_autoptr(KpMask) dot = kp_mask_paint_circle (NULL, 10, 10, 3, TRUE);
  g_autoptr(KpMask) two = NULL;
  g_autoptr(KpMask) erased = NULL;
  g_autoptr(KpMask) gone = NULL;
  guint64 area;

  /* Pixel centres within 3 of (10, 10): a disc of 32 pixels over
   * columns and rows 7..12, the corners cut. */
  area = kp_mask_get_area (dot);
  g_assert_cmpuint (area, ==, 32);
  g_assert_cmpint (dot->x, ==, 7);
  g_assert_cmpint (dot->width, ==, 6);
  g_assert_true (kp_mask_get (dot, 9, 9));
  g_assert_false (kp_mask_get (dot, 7, 7));

  two = kp_mask_paint_circle (dot, 30, 10, 3, TRUE);
  g_assert_cmpuint (kp_mask_get_area (two), ==, 2 * area);
  g_assert_cmpint (two->width, ==, 26);

  /* The eraser takes the second disc away and the mask shrinks back. */
  erased = kp_mask_paint_circle (two, 30, 10, 4, FALSE);
  g_assert_true (kp_mask_equal (erased, dot));

  gone = kp_mask_paint_circle (erased, 10, 10, 100, FALSE);
  g_assert_true (kp_mask_is_empty (gone));
}

static void
test_polygon_fill (void)
{
  KpPoint square[] = { { 2, 2 }, { 6, 2 }, { 6, 5 }, { 2, 5 } };
  KpPoint tri[] = { { 0, 0 }, { 100, 0 }, { 0, 100 } };
  g_autoptr(KpMask) mask = kp_mask_paint_polygon (NULL, square, 4, TRUE);
  g_autoptr(KpMask) big = kp_mask_paint_polygon (NULL, tri, 3, TRUE);
  g_autoptr(KpMask) holed = NULL;

  /* Pixel centres 2.5..5.5 × 2.5..4.5: exactly the 4 × 3 pixels covered. */
  g_assert_cmpint (mask->x, ==, 2);
  g_assert_cmpint (mask->y, ==, 2);
  g_assert_cmpint (mask->width, ==, 4);
  g_assert_cmpint (mask->height, ==, 3);
  g_assert_cmpuint (kp_mask_get_area (mask), ==, 12);
  g_assert_cmpuint (mask->n_counts, ==, 2);

  /* Half of 100 × 100 less the diagonal's share. */
  g_assert_cmpuint (kp_mask_get_area (big), >=, 4950);
  g_assert_cmpuint (kp_mask_get_area (big), <=, 5050);
  g_assert_true (kp_mask_get (big, 10, 10));
  g_assert_false (kp_mask_get (big, 60, 60));

  /* Polygon erase. */
  holed = kp_mask_paint_polygon (big, square, 4, FALSE);
  g_assert_cmpuint (kp_mask_get_area (holed), ==, kp_mask_get_area (big) - 12);
  g_assert_false (kp_mask_get (holed, 3, 3));
}

static void
test_coco (void)
{
  static const guint8 bits[] = {
    1, 0, 0,
    1, 1, 0,
  };
  g_autoptr(KpMask) mask = kp_mask_new_from_bitmap (1, 1, 3, 2, bits);
  g_autoptr(GArray) counts = NULL;
  g_autoptr(GArray) decoded = NULL;
  g_autoptr(KpMask) back = NULL;
  g_autofree char *text = NULL;

  /* In a 5 × 4 image, column-major: column 0 empty (4), column 1 has rows
   * 1, 2 set, column 2 row 2 set. */
  counts = kp_mask_to_coco_counts (mask, 5, 4);
  g_assert_cmpuint (counts->len, ==, 5);
  g_assert_cmpuint (g_array_index (counts, guint32, 0), ==, 5);
  g_assert_cmpuint (g_array_index (counts, guint32, 1), ==, 2);
  g_assert_cmpuint (g_array_index (counts, guint32, 2), ==, 3);
  g_assert_cmpuint (g_array_index (counts, guint32, 3), ==, 1);
  g_assert_cmpuint (g_array_index (counts, guint32, 4), ==, 9);

  back = kp_mask_from_coco_counts ((guint32 *)(void *)counts->data, counts->len, 5, 4);
  g_assert_true (kp_mask_equal (mask, back));
  g_assert_null (kp_mask_from_coco_counts ((guint32[]) { 3, 2 }, 2, 5, 4));

  /* The compressed string of pycocotools, both ways: from the fourth
   * count on, each is coded as the difference to the one two before
   * (1 - 2 = -1 is "O", 9 - 3 = 6 is "6"). */
  text = kp_coco_rle_encode ((guint32 *)(void *)counts->data, counts->len);
  g_assert_cmpstr (text, ==, "523O6");
  decoded = kp_coco_rle_decode (text);
  g_assert_nonnull (decoded);
  g_assert_cmpuint (decoded->len, ==, counts->len);
  g_assert_cmpmem (decoded->data, decoded->len * 4, counts->data, counts->len * 4);

  /* Large and decreasing runs use the difference coding and sign bits. */
  {
    guint32 runs[] = { 1000000, 3, 999990, 1, 0, 7 };
    g_autofree char *s = kp_coco_rle_encode (runs, G_N_ELEMENTS (runs));
    g_autoptr(GArray) r = kp_coco_rle_decode (s);

    g_assert_cmpuint (r->len, ==, G_N_ELEMENTS (runs));
    g_assert_cmpmem (r->data, r->len * 4, runs, sizeof runs);
  }

  g_assert_null (kp_coco_rle_decode ("\x01"));
  g_assert_null (kp_coco_rle_decode ("o"));   /* a continuation with nothing after it */
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/kempelen/core/mask/bitmap-round-trip", test_bitmap_round_trip);
  g_test_add_func ("/kempelen/core/mask/serialize", test_serialize);
  g_test_add_func ("/kempelen/core/mask/brush-eraser", test_brush_eraser);
  g_test_add_func ("/kempelen/core/mask/polygon-fill", test_polygon_fill);
  g_test_add_func ("/kempelen/core/mask/coco", test_coco);

  return g_test_run ();
}
