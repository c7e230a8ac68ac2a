/* test-geometry.c: exact expectations for the geometry helpers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>

#include "kp-core.h"
#include "kp-test-util.h"

#define assert_rect(r, ex, ey, ew, eh) G_STMT_START { \
  KpRect _r = (r); \
  g_assert_cmpfloat_with_epsilon (_r.x, (ex), 1e-9); \
  g_assert_cmpfloat_with_epsilon (_r.y, (ey), 1e-9); \
  g_assert_cmpfloat_with_epsilon (_r.width, (ew), 1e-9); \
  g_assert_cmpfloat_with_epsilon (_r.height, (eh), 1e-9); \
} G_STMT_END

static void
test_rect_basics (void)
{
  KpRect a = { 10, 20, 30, 40 };
  KpRect b = { 40, 60, 10, 10 };   /* touches a's bottom-right corner */
  KpRect c = { 41, 20, 5, 5 };
  KpRect empty = { 5, 5, 0, 10 };

  assert_rect (kp_rect_from_points (40, 60, 10, 20), 10, 20, 30, 40);
  assert_rect (kp_rect_from_points (10, 60, 40, 20), 10, 20, 30, 40);
  assert_rect (kp_rect_normalize ((KpRect) { 40, 60, -30, -40 }), 10, 20, 30, 40);
  assert_rect (kp_rect_translate (a, -5, 2.5), 5, 22.5, 30, 40);

  g_assert_false (kp_rect_is_empty (&a));
  g_assert_true (kp_rect_is_empty (&empty));

  g_assert_true (kp_rect_contains (&a, 10, 20));
  g_assert_true (kp_rect_contains (&a, 40, 60));
  g_assert_true (kp_rect_contains (&a, 25, 30));
  g_assert_false (kp_rect_contains (&a, 9.999, 30));
  g_assert_false (kp_rect_contains (&a, 25, 60.001));

  g_assert_true (kp_rect_intersects (&a, &b));
  g_assert_true (kp_rect_intersects (&b, &a));
  g_assert_false (kp_rect_intersects (&a, &c));

  g_assert_cmpfloat_with_epsilon (kp_rect_iou (&a, &a), 1.0, 1e-12);
  g_assert_cmpfloat (kp_rect_iou (&a, &b), ==, 0.0);
  {
    KpRect d = { 0, 0, 10, 10 };
    KpRect e = { 5, 0, 10, 10 };

    /* Intersection 50, union 150. */
    g_assert_cmpfloat_with_epsilon (kp_rect_iou (&d, &e), 1.0 / 3.0, 1e-12);
  }
}

static void
test_rect_clamp (void)
{
  /* Partly outside on every side. */
  assert_rect (kp_rect_clamp ((KpRect) { -10, -5, 50, 30 }, 30, 20), 0, 0, 30, 20);
  /* Inside: unchanged. */
  assert_rect (kp_rect_clamp ((KpRect) { 1, 2, 3, 4 }, 30, 20), 1, 2, 3, 4);
  /* Negative size is normalized first. */
  assert_rect (kp_rect_clamp ((KpRect) { 25, 15, -10, -10 }, 30, 20), 15, 5, 10, 10);
  /* Wholly outside: empty, on the border. */
  {
    KpRect r = kp_rect_clamp ((KpRect) { 50, 50, 10, 10 }, 30, 20);

    g_assert_true (kp_rect_is_empty (&r));
    g_assert_cmpfloat (r.x, ==, 30);
    g_assert_cmpfloat (r.y, ==, 20);
  }

  assert_rect (kp_rect_translate_clamped ((KpRect) { 10, 10, 10, 10 }, 100, -100, 50, 40),
               40, 0, 10, 10);
  assert_rect (kp_rect_translate_clamped ((KpRect) { 10, 10, 10, 10 }, 5, 5, 50, 40),
               15, 15, 10, 10);
  /* Bigger than the image: stuck to the top-left corner. */
  assert_rect (kp_rect_translate_clamped ((KpRect) { 0, 0, 80, 10 }, 5, 0, 50, 40),
               0, 0, 80, 10);
}

static void
test_hit_handle (void)
{
  KpRect r = { 100, 100, 100, 50 };
  KpRect tiny = { 10, 10, 4, 4 };

  g_assert_cmpint (kp_rect_hit_handle (&r, 100, 100, 5), ==, KP_HANDLE_TOP_LEFT);
  g_assert_cmpint (kp_rect_hit_handle (&r, 104, 96, 5), ==, KP_HANDLE_TOP_LEFT);
  g_assert_cmpint (kp_rect_hit_handle (&r, 205, 100, 5), ==, KP_HANDLE_TOP_RIGHT);
  g_assert_cmpint (kp_rect_hit_handle (&r, 200, 150, 5), ==, KP_HANDLE_BOTTOM_RIGHT);
  g_assert_cmpint (kp_rect_hit_handle (&r, 97, 153, 5), ==, KP_HANDLE_BOTTOM_LEFT);
  g_assert_cmpint (kp_rect_hit_handle (&r, 150, 98, 5), ==, KP_HANDLE_TOP);
  g_assert_cmpint (kp_rect_hit_handle (&r, 150, 152, 5), ==, KP_HANDLE_BOTTOM);
  g_assert_cmpint (kp_rect_hit_handle (&r, 96, 125, 5), ==, KP_HANDLE_LEFT);
  g_assert_cmpint (kp_rect_hit_handle (&r, 203, 125, 5), ==, KP_HANDLE_RIGHT);
  g_assert_cmpint (kp_rect_hit_handle (&r, 150, 125, 5), ==, KP_HANDLE_INSIDE);
  /* Just beyond the tolerance. */
  g_assert_cmpint (kp_rect_hit_handle (&r, 94.9, 125, 5), ==, KP_HANDLE_NONE);
  g_assert_cmpint (kp_rect_hit_handle (&r, 150, 155.1, 5), ==, KP_HANDLE_NONE);
  /* Inside but within tolerance of an edge: the edge wins over INSIDE. */
  g_assert_cmpint (kp_rect_hit_handle (&r, 150, 104, 5), ==, KP_HANDLE_TOP);
  /* Within tolerance of a corner and an edge: the corner wins. */
  g_assert_cmpint (kp_rect_hit_handle (&r, 104, 104, 5), ==, KP_HANDLE_TOP_LEFT);
  /* A tiny box: every corner in reach, the nearest wins. */
  g_assert_cmpint (kp_rect_hit_handle (&tiny, 13, 13, 5), ==, KP_HANDLE_BOTTOM_RIGHT);
  g_assert_cmpint (kp_rect_hit_handle (&tiny, 11, 13.5, 5), ==, KP_HANDLE_BOTTOM_LEFT);
  /* Zero tolerance. */
  g_assert_cmpint (kp_rect_hit_handle (&r, 100, 100, 0), ==, KP_HANDLE_TOP_LEFT);
  g_assert_cmpint (kp_rect_hit_handle (&r, 100.5, 100, 0), ==, KP_HANDLE_TOP);

  g_assert_cmpstr (kp_handle_cursor_name (KP_HANDLE_TOP_LEFT), ==, "nw-resize");
  g_assert_cmpstr (kp_handle_cursor_name (KP_HANDLE_INSIDE), ==, "move");
  g_assert_cmpstr (kp_handle_cursor_name (KP_HANDLE_NONE), ==, "default");
}

static void
test_drag_handle (void)
{
  KpRect r = { 10, 20, 30, 40 };       /* right 40, bottom 60 */

  assert_rect (kp_rect_drag_handle (r, KP_HANDLE_BOTTOM_RIGHT, 5, 10), 10, 20, 35, 50);
  assert_rect (kp_rect_drag_handle (r, KP_HANDLE_TOP_LEFT, 5, 10), 15, 30, 25, 30);
  assert_rect (kp_rect_drag_handle (r, KP_HANDLE_TOP, 5, -10), 10, 10, 30, 50);
  assert_rect (kp_rect_drag_handle (r, KP_HANDLE_LEFT, -10, 99), 0, 20, 40, 40);
  assert_rect (kp_rect_drag_handle (r, KP_HANDLE_RIGHT, 1, 99), 10, 20, 31, 40);
  assert_rect (kp_rect_drag_handle (r, KP_HANDLE_BOTTOM, 99, -1), 10, 20, 30, 39);
  assert_rect (kp_rect_drag_handle (r, KP_HANDLE_INSIDE, -3, 4), 7, 24, 30, 40);
  assert_rect (kp_rect_drag_handle (r, KP_HANDLE_NONE, -3, 4), 10, 20, 30, 40);

  /* Dragging the bottom-right corner past the top-left one flips the box:
   * the old top-left corner becomes its bottom-right. */
  assert_rect (kp_rect_drag_handle (r, KP_HANDLE_BOTTOM_RIGHT, -50, -70), -10, -10, 20, 30);
  /* The left edge past the right one. */
  assert_rect (kp_rect_drag_handle (r, KP_HANDLE_LEFT, 40, 0), 40, 20, 10, 40);
  /* The top-right corner past the bottom-left. */
  assert_rect (kp_rect_drag_handle (r, KP_HANDLE_TOP_RIGHT, -35, 45), 5, 60, 5, 5);
}

static void
test_view_transform (void)
{
  KpView view = { 2.0, 10, -20 };
  double x, y;
  KpRect w;

  kp_view_image_to_widget (&view, 5, 7, &x, &y);
  g_assert_cmpfloat (x, ==, 20);
  g_assert_cmpfloat (y, ==, -6);
  kp_view_widget_to_image (&view, 20, -6, &x, &y);
  g_assert_cmpfloat (x, ==, 5);
  g_assert_cmpfloat (y, ==, 7);

  w = kp_view_rect_to_widget (&view, &(KpRect) { 1, 2, 3, 4 });
  assert_rect (w, 12, -16, 6, 8);

  assert_rect (kp_view_visible_rect (&view, 100, 50), -5, 10, 50, 25);
}

static void
test_view_fit (void)
{
  KpView v;

  /* A 400x200 image in an 800x800 widget: width limits (scale 2), centred
   * vertically. */
  v = kp_view_fit (400, 200, 800, 800, 64);
  g_assert_cmpfloat (v.scale, ==, 2);
  g_assert_cmpfloat (v.offset_x, ==, 0);
  g_assert_cmpfloat (v.offset_y, ==, 200);

  /* Never above max_scale: centred on both axes. */
  v = kp_view_fit (400, 200, 800, 800, 1);
  g_assert_cmpfloat (v.scale, ==, 1);
  g_assert_cmpfloat (v.offset_x, ==, 200);
  g_assert_cmpfloat (v.offset_y, ==, 300);

  /* A big image scaled down; height limits. */
  v = kp_view_fit (4000, 3000, 800, 300, 1);
  g_assert_cmpfloat (v.scale, ==, 0.1);
  g_assert_cmpfloat_with_epsilon (v.offset_x, 200, 1e-9);
  g_assert_cmpfloat_with_epsilon (v.offset_y, 0, 1e-9);
}

static void
test_view_zoom_at (void)
{
  KpView v = { 1.5, 33, -12 };
  double ax = 217, ay = 99;
  double ix0, iy0, ix1, iy1;
  KpView z;

  kp_view_widget_to_image (&v, ax, ay, &ix0, &iy0);
  z = kp_view_zoom_at (v, 4.0, ax, ay);
  g_assert_cmpfloat (z.scale, ==, 4.0);
  kp_view_widget_to_image (&z, ax, ay, &ix1, &iy1);
  g_assert_cmpfloat_with_epsilon (ix1, ix0, 1e-9);
  g_assert_cmpfloat_with_epsilon (iy1, iy0, 1e-9);

  /* Exact values: image point under (0, 0) of view {1, 0, 0} stays at 0. */
  z = kp_view_zoom_at ((KpView) { 1, 0, 0 }, 2, 100, 50);
  g_assert_cmpfloat (z.offset_x, ==, -100);
  g_assert_cmpfloat (z.offset_y, ==, -50);

  /* Clamped to the zoom range, anchor still fixed. */
  z = kp_view_zoom_at (v, 1000, ax, ay);
  g_assert_cmpfloat (z.scale, ==, KP_ZOOM_MAX);
  kp_view_widget_to_image (&z, ax, ay, &ix1, &iy1);
  g_assert_cmpfloat_with_epsilon (ix1, ix0, 1e-9);
  z = kp_view_zoom_at (v, 0.0001, ax, ay);
  g_assert_cmpfloat (z.scale, ==, KP_ZOOM_MIN);
}

static void
test_zoom_steps (void)
{
  double s;
  guint n = 0;

  g_assert_cmpfloat (kp_zoom_step_in (1.0), ==, 1.25);
  g_assert_cmpfloat (kp_zoom_step_in (1.1), ==, 1.25);
  g_assert_cmpfloat (kp_zoom_step_in (1.75), ==, 2.0);
  g_assert_cmpfloat (kp_zoom_step_out (1.0), ==, 0.875);
  g_assert_cmpfloat (kp_zoom_step_out (2.0), ==, 1.75);
  g_assert_cmpfloat (kp_zoom_step_in (64), ==, 64);
  g_assert_cmpfloat (kp_zoom_step_in (100), ==, 64);
  g_assert_cmpfloat (kp_zoom_step_out (1.0 / 64), ==, KP_ZOOM_MIN);

  /* Strictly monotonous all the way up, and powers of two are stops. */
  s = KP_ZOOM_MIN;
  while (s < KP_ZOOM_MAX)
    {
      double next = kp_zoom_step_in (s);

      g_assert_cmpfloat (next, >, s);
      g_assert_cmpfloat (kp_zoom_step_out (next), <, next);
      s = next;
      n++;
      g_assert_cmpuint (n, <, 100);
    }
  g_assert_cmpfloat (s, ==, KP_ZOOM_MAX);
  g_assert_cmpfloat (kp_zoom_step_in (0.5), ==, 0.625);
  g_assert_cmpfloat (kp_zoom_step_out (0.625), ==, 0.5);
}

static void
test_clamp_pan (void)
{
  KpView v;

  /* Image smaller than the widget on x (200 < 500): centred; bigger on y
   * (600 > 300): offset kept within [300 - 600, 0]. */
  v = kp_view_clamp_pan ((KpView) { 2, 999, 50 }, 100, 300, 500, 300);
  g_assert_cmpfloat (v.scale, ==, 2);
  g_assert_cmpfloat (v.offset_x, ==, 150);
  g_assert_cmpfloat (v.offset_y, ==, 0);

  v = kp_view_clamp_pan ((KpView) { 2, 0, -1000 }, 100, 300, 500, 300);
  g_assert_cmpfloat (v.offset_y, ==, -300);

  v = kp_view_clamp_pan ((KpView) { 2, 0, -123 }, 100, 300, 500, 300);
  g_assert_cmpfloat (v.offset_y, ==, -123);
}

static int
compare_int64 (gconstpointer a,
               gconstpointer b)
{
  gint64 x = *(const gint64 *)a;
  gint64 y = *(const gint64 *)b;

  return x < y ? -1 : x > y;
}

static GArray *
sorted_query (KpSpatialIndex *index,
              KpRect          area)
{
  GArray *ids = kp_spatial_index_query (index, &area);

  g_array_sort (ids, compare_int64);
  return ids;
}

static void
test_spatial_index (void)
{
  g_autoptr(KpSpatialIndex) index = kp_spatial_index_new (64);
  g_autoptr(GArray) ids = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  KpRect rects[500];

  /* A box spanning many cells is reported once. */
  kp_spatial_index_insert (index, 1, &(KpRect) { 0, 0, 300, 300 });
  kp_spatial_index_insert (index, 2, &(KpRect) { 500, 500, 10, 10 });
  kp_spatial_index_insert (index, 3, &(KpRect) { -100, -100, 20, 20 });
  g_assert_cmpuint (kp_spatial_index_get_size (index), ==, 3);

  ids = sorted_query (index, (KpRect) { 0, 0, 1000, 1000 });
  g_assert_cmpuint (ids->len, ==, 2);
  g_assert_cmpint (g_array_index (ids, gint64, 0), ==, 1);
  g_assert_cmpint (g_array_index (ids, gint64, 1), ==, 2);
  g_clear_pointer (&ids, g_array_unref);

  /* A point query, answered from one cell. */
  ids = sorted_query (index, (KpRect) { 150, 150, 0, 0 });
  g_assert_cmpuint (ids->len, ==, 1);
  g_assert_cmpint (g_array_index (ids, gint64, 0), ==, 1);
  g_clear_pointer (&ids, g_array_unref);

  ids = sorted_query (index, (KpRect) { -90, -90, 1, 1 });
  g_assert_cmpuint (ids->len, ==, 1);
  g_assert_cmpint (g_array_index (ids, gint64, 0), ==, 3);
  g_clear_pointer (&ids, g_array_unref);

  /* Moving a box by inserting its id again. */
  kp_spatial_index_insert (index, 1, &(KpRect) { 700, 700, 5, 5 });
  g_assert_cmpuint (kp_spatial_index_get_size (index), ==, 3);
  ids = sorted_query (index, (KpRect) { 150, 150, 0, 0 });
  g_assert_cmpuint (ids->len, ==, 0);
  g_clear_pointer (&ids, g_array_unref);

  kp_spatial_index_remove (index, 2);
  kp_spatial_index_remove (index, 999);
  g_assert_cmpuint (kp_spatial_index_get_size (index), ==, 2);
  ids = sorted_query (index, (KpRect) { 0, 0, 1000, 1000 });
  g_assert_cmpuint (ids->len, ==, 1);
  g_assert_cmpint (g_array_index (ids, gint64, 0), ==, 1);
  g_clear_pointer (&ids, g_array_unref);

  /* A huge box is found too. */
  kp_spatial_index_insert (index, 4, &(KpRect) { -1e7, -1e7, 2e7, 2e7 });
  ids = sorted_query (index, (KpRect) { 5, 5, 1, 1 });
  g_assert_cmpuint (ids->len, ==, 1);
  g_assert_cmpint (g_array_index (ids, gint64, 0), ==, 4);
  g_clear_pointer (&ids, g_array_unref);

  kp_spatial_index_clear (index);
  g_assert_cmpuint (kp_spatial_index_get_size (index), ==, 0);

  /* Random boxes against a brute-force answer. */
  for (guint i = 0; i < G_N_ELEMENTS (rects); i++)
    {
      rects[i] = (KpRect) { g_rand_double_range (rand, 0, 4000), g_rand_double_range (rand, 0, 3000),
                            g_rand_double_range (rand, 1, 300), g_rand_double_range (rand, 1, 300) };
      kp_spatial_index_insert (index, i + 1, &rects[i]);
    }
  for (guint q = 0; q < 50; q++)
    {
      KpRect area = { g_rand_double_range (rand, -100, 4000), g_rand_double_range (rand, -100, 3000),
                      g_rand_double_range (rand, 0, 800), g_rand_double_range (rand, 0, 800) };
      g_autoptr(GArray) found = sorted_query (index, area);
      guint k = 0;

      for (guint i = 0; i < G_N_ELEMENTS (rects); i++)
        {
          if (kp_rect_intersects (&rects[i], &area))
            {
              g_assert_cmpuint (k, <, found->len);
              g_assert_cmpint (g_array_index (found, gint64, k), ==, (gint64)i + 1);
              k++;
            }
        }
      g_assert_cmpuint (k, ==, found->len);
    }
}

static void
test_rotated_box (void)
{
  KpRotatedBox flat = { 10, 20, 8, 4, 0 };
  KpRotatedBox quarter = { 10, 20, 8, 4, G_PI / 2 };
  KpRotatedBox diamond = { 0, 0, 2, 2, G_PI / 4 };
  KpPoint c[4];

  kp_rotated_box_corners (&flat, c);
  g_assert_cmpfloat_with_epsilon (c[0].x, 6, 1e-9);
  g_assert_cmpfloat_with_epsilon (c[0].y, 18, 1e-9);
  g_assert_cmpfloat_with_epsilon (c[2].x, 14, 1e-9);
  g_assert_cmpfloat_with_epsilon (c[2].y, 22, 1e-9);
  assert_rect (kp_rotated_box_bounds (&flat), 6, 18, 8, 4);

  /* A quarter turn clockwise on screen swaps width and height; the
   * top-left corner goes to the top-right. */
  assert_rect (kp_rotated_box_bounds (&quarter), 8, 16, 4, 8);
  kp_rotated_box_corners (&quarter, c);
  g_assert_cmpfloat_with_epsilon (c[0].x, 12, 1e-9);
  g_assert_cmpfloat_with_epsilon (c[0].y, 16, 1e-9);

  assert_rect (kp_rotated_box_bounds (&diamond), -sqrt (2), -sqrt (2), 2 * sqrt (2), 2 * sqrt (2));
  g_assert_true (kp_rotated_box_contains (&diamond, 0, 1.4));
  g_assert_false (kp_rotated_box_contains (&diamond, 1.0, 1.0));   /* inside the bounds, outside the box */
  g_assert_true (kp_rotated_box_contains (&quarter, 10, 23.9));
  g_assert_false (kp_rotated_box_contains (&quarter, 13, 20));

  g_assert_cmpfloat_with_epsilon (kp_angle_normalize (3 * G_PI), -G_PI, 1e-9);
  g_assert_cmpfloat_with_epsilon (kp_angle_normalize (-G_PI / 2), -G_PI / 2, 1e-9);
  g_assert_cmpfloat_with_epsilon (kp_angle_normalize (2 * G_PI + 0.5), 0.5, 1e-9);
}

static void
test_polygon (void)
{
  /* An L shape: the notch at the top right is outside. */
  KpPoint l[] = { { 0, 0 }, { 4, 0 }, { 4, 2 }, { 8, 2 }, { 8, 6 }, { 0, 6 } };
  KpPoint line[] = { { 0, 0 }, { 10, 0 }, { 10, 10 } };
  KpPoint p = { 99, 99 };
  g_autofree KpPoint *more = NULL;
  g_autofree KpPoint *fewer = NULL;
  guint edge = 99;

  assert_rect (kp_points_bounds (l, G_N_ELEMENTS (l)), 0, 0, 8, 6);
  assert_rect (kp_points_bounds (NULL, 0), 0, 0, 0, 0);
  g_assert_true (kp_polygon_contains (l, 6, 1, 1));
  g_assert_true (kp_polygon_contains (l, 6, 6, 4));
  g_assert_false (kp_polygon_contains (l, 6, 6, 1));
  g_assert_false (kp_polygon_contains (l, 6, -1, 3));
  g_assert_false (kp_polygon_contains (l, 2, 0, 0));
  g_assert_cmpfloat_with_epsilon (kp_polygon_area (l, 6), 8 + 32, 1e-9);

  g_assert_cmpfloat_with_epsilon (kp_segment_distance (&line[0], &line[1], 5, 3), 3, 1e-9);
  g_assert_cmpfloat_with_epsilon (kp_segment_distance (&line[0], &line[1], -3, 4), 5, 1e-9);
  g_assert_cmpfloat_with_epsilon (kp_polyline_distance (line, 3, FALSE, 12, 5, &edge), 2, 1e-9);
  g_assert_cmpuint (edge, ==, 1);
  /* Closed, the diagonal back to the start is an edge too. */
  g_assert_cmpfloat_with_epsilon (kp_polyline_distance (line, 3, FALSE, 3, 7, NULL), 7, 1e-9);
  g_assert_cmpfloat_with_epsilon (kp_polyline_distance (line, 3, TRUE, 3, 7, &edge), 4 / sqrt (2), 1e-9);
  g_assert_cmpuint (edge, ==, 2);
  g_assert_cmpfloat (kp_polyline_distance (NULL, 0, FALSE, 0, 0, NULL), ==, G_MAXDOUBLE);

  g_assert_cmpint (kp_points_hit_vertex (line, 3, 10.5, 9.5, 1), ==, 2);
  g_assert_cmpint (kp_points_hit_vertex (line, 3, 5, 5, 1), ==, -1);

  more = kp_points_insert (line, 3, 1, &p);
  g_assert_cmpfloat (more[0].x, ==, 0);
  g_assert_cmpfloat (more[1].x, ==, 99);
  g_assert_cmpfloat (more[2].x, ==, 10);
  g_assert_cmpfloat (more[3].y, ==, 10);
  fewer = kp_points_remove (more, 4, 0);
  g_assert_cmpfloat (fewer[0].x, ==, 99);
  g_assert_cmpfloat (fewer[2].y, ==, 10);

  kp_points_translate (l, 6, 1, -1);
  assert_rect (kp_points_bounds (l, 6), 1, -1, 8, 6);
}

/* Hit testing, bounds and moving at the level of annotations. */
static void
test_annotation_shapes (void)
{
  KpPoint tri[] = { { 0, 0 }, { 10, 0 }, { 0, 10 } };
  KpPoint seg[] = { { 0, 0 }, { 10, 0 } };
  KpPoint pt[] = { { 5, 5 } };
  g_auto(KpAnnotation) polygon = { 0 };
  g_auto(KpAnnotation) line = { 0 };
  g_auto(KpAnnotation) point = { 0 };
  g_auto(KpAnnotation) rotated = { 0 };
  g_auto(KpAnnotation) mask = { 0 };
  g_auto(KpAnnotation) copy = { 0 };

  polygon.shape = KP_SHAPE_POLYGON;
  kp_annotation_set_points (&polygon, tri, 3);
  assert_rect (polygon.rect, 0, 0, 10, 10);
  g_assert_true (kp_annotation_hit (&polygon, 2, 2, 0.5));
  g_assert_false (kp_annotation_hit (&polygon, 6, 6, 0.5));
  g_assert_true (kp_annotation_hit (&polygon, 5.2, 5.2, 0.5));   /* near the hypotenuse */

  line.shape = KP_SHAPE_LINE;
  kp_annotation_set_points (&line, seg, 2);
  g_assert_true (kp_annotation_hit (&line, 5, 0.9, 1));
  g_assert_false (kp_annotation_hit (&line, 5, 1.1, 1));

  point.shape = KP_SHAPE_POINT;
  kp_annotation_set_points (&point, pt, 1);
  assert_rect (point.rect, 5, 5, 0, 0);
  g_assert_true (kp_annotation_hit (&point, 5.5, 5.5, 1));
  g_assert_false (kp_annotation_hit (&point, 7, 5, 1));

  rotated.shape = KP_SHAPE_ROTATED_BOX;
  rotated.rotated = (KpRotatedBox) { 0, 0, 2, 2, G_PI / 4 };
  kp_annotation_update_bounds (&rotated);
  g_assert_true (kp_annotation_hit (&rotated, 0, 1.3, 0));
  g_assert_false (kp_annotation_hit (&rotated, 1, 1, 0));
  kp_annotation_translate (&rotated, 10, 5);
  g_assert_cmpfloat (rotated.rotated.cx, ==, 10);
  g_assert_cmpfloat_with_epsilon (rotated.rect.x, 10 - sqrt (2), 1e-9);

  mask.shape = KP_SHAPE_MASK;
  mask.mask = kp_mask_paint_polygon (NULL, tri, 3, TRUE);
  kp_annotation_update_bounds (&mask);
  g_assert_true (kp_annotation_hit (&mask, 1.5, 1.5, 0));
  g_assert_false (kp_annotation_hit (&mask, 8.5, 8.5, 0));
  kp_annotation_translate (&mask, 2.4, 3.6);
  g_assert_cmpint (mask.mask->x, ==, 2);
  g_assert_cmpint (mask.mask->y, ==, 4);
  g_assert_true (kp_annotation_hit (&mask, 3.5, 5.5, 0));

  kp_annotation_translate (&polygon, -1, 2);
  assert_rect (polygon.rect, -1, 2, 10, 10);
  g_assert_cmpfloat (polygon.points[1].x, ==, 9);

  kp_annotation_copy_to (&polygon, &copy);
  g_assert_true (kp_annotation_equal (&polygon, &copy));
  g_assert_true (copy.points != polygon.points);
  copy.points[0].x = 0.5;
  g_assert_false (kp_annotation_equal (&polygon, &copy));

  kp_annotation_set_attribute (&copy, 5, "a");
  kp_annotation_set_attribute (&copy, 2, "b");
  kp_annotation_set_attribute (&copy, 9, "c");
  kp_annotation_set_attribute (&copy, 5, "d");
  g_assert_cmpuint (copy.n_attributes, ==, 3);
  g_assert_cmpint (copy.attributes[0].attribute_id, ==, 2);
  g_assert_cmpstr (kp_annotation_get_attribute (&copy, 5), ==, "d");
  kp_annotation_set_attribute (&copy, 2, NULL);
  g_assert_cmpuint (copy.n_attributes, ==, 2);
  g_assert_null (kp_annotation_get_attribute (&copy, 2));

  {
    KpShape shape;

    g_assert_true (kp_shape_from_string ("Rotated-Box", &shape));
    g_assert_cmpint (shape, ==, KP_SHAPE_ROTATED_BOX);
    g_assert_false (kp_shape_from_string ("circle", &shape));
    g_assert_cmpstr (kp_shape_to_string (KP_SHAPE_MASK), ==, "mask");
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/kempelen/core/geometry/rect-basics", test_rect_basics);
  g_test_add_func ("/kempelen/core/geometry/rect-clamp", test_rect_clamp);
  g_test_add_func ("/kempelen/core/geometry/hit-handle", test_hit_handle);
  g_test_add_func ("/kempelen/core/geometry/drag-handle", test_drag_handle);
  g_test_add_func ("/kempelen/core/geometry/view-transform", test_view_transform);
  g_test_add_func ("/kempelen/core/geometry/view-fit", test_view_fit);
  g_test_add_func ("/kempelen/core/geometry/view-zoom-at", test_view_zoom_at);
  g_test_add_func ("/kempelen/core/geometry/zoom-steps", test_zoom_steps);
  g_test_add_func ("/kempelen/core/geometry/clamp-pan", test_clamp_pan);
  g_test_add_func ("/kempelen/core/geometry/spatial-index", test_spatial_index);
  g_test_add_func ("/kempelen/core/geometry/rotated-box", test_rotated_box);
  g_test_add_func ("/kempelen/core/geometry/polygon", test_polygon);
  g_test_add_func ("/kempelen/core/geometry/annotation-shapes", test_annotation_shapes);

  return g_test_run ();
}
