/* kp-test-render.h: render a widget's last frame to pixels and compare them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Shared by the GUI tests. The frame is taken with a GtkWidgetPaintable and
 * drawn with gsk_render_node_draw() into a cairo image surface, so the
 * pixels do not depend on the window system or the GL driver.
 */

#pragma once

#include <gtk/gtk.h>

/* A pixel differs when a channel differs by more than this ... */
#define KP_TEST_CHANNEL_TOLERANCE 16
/* ... and a render matches when at most this fraction of pixels differ. */
#define KP_TEST_PIXEL_TOLERANCE 0.001

static void
kp_test_after_paint_cb (GdkFrameClock *clock,
                        gboolean      *painted)
{
  *painted = TRUE;
}

/* A GtkWidgetPaintable shows what the widget drew in its last frame: wait
 * for one to be painted. */
static inline void
kp_test_wait_for_frame (GtkWidget *widget)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (widget);
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  gboolean painted = FALSE;
  gulong handler;

  g_assert_nonnull (clock);
  handler = g_signal_connect (clock, "after-paint", G_CALLBACK (kp_test_after_paint_cb), &painted);
  gtk_widget_queue_draw (widget);
  while (!painted && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_signal_handler_disconnect (clock, handler);
  g_assert_true (painted);
}

/* The width×height region of the widget's next frame whose top-left corner
 * is at (x, y) in widget coordinates. Fractional x/y are fine: the region is
 * drawn translated, so content aligned to them lands on whole pixels. */
static inline cairo_surface_t *
kp_test_render_widget (GtkWidget *widget,
                       double     x,
                       double     y,
                       int        width,
                       int        height)
{
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  GtkSnapshot *snapshot;
  cairo_surface_t *surface;
  cairo_t *cr;

  kp_test_wait_for_frame (widget);
  paintable = gtk_widget_paintable_new (widget);
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot,
                          gdk_paintable_get_intrinsic_width (paintable),
                          gdk_paintable_get_intrinsic_height (paintable));
  node = gtk_snapshot_free_to_node (snapshot);
  g_assert_nonnull (node);

  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cr = cairo_create (surface);
  cairo_translate (cr, -x, -y);
  gsk_render_node_draw (node, cr);
  cairo_destroy (cr);
  cairo_surface_flush (surface);

  return surface;
}

/* The fraction of pixels where a channel differs by more than
 * KP_TEST_CHANNEL_TOLERANCE; 1.0 when the sizes differ. */
static inline double
kp_test_compare_surfaces (cairo_surface_t *a,
                          cairo_surface_t *b)
{
  int width = cairo_image_surface_get_width (a);
  int height = cairo_image_surface_get_height (a);
  const guint8 *da, *db;
  int sa, sb;
  guint differ = 0;

  if (width != cairo_image_surface_get_width (b) || height != cairo_image_surface_get_height (b))
    return 1.0;

  cairo_surface_flush (a);
  cairo_surface_flush (b);
  da = cairo_image_surface_get_data (a);
  db = cairo_image_surface_get_data (b);
  sa = cairo_image_surface_get_stride (a);
  sb = cairo_image_surface_get_stride (b);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        const guint8 *pa = da + y * sa + x * 4;
        const guint8 *pb = db + y * sb + x * 4;

        for (int c = 0; c < 4; c++)
          if (ABS ((int)pa[c] - (int)pb[c]) > KP_TEST_CHANNEL_TOLERANCE)
            {
              differ++;
              break;
            }
      }

  return (double)differ / (width * height);
}

/* tests/app/data/NAME in the source tree. */
static inline char *
kp_test_reference_path (const char *name)
{
  const char *root = g_getenv ("KP_SOURCE_ROOT");

  if (root != NULL)
    return g_build_filename (root, "tests", "app", "data", name, NULL);

  return g_test_build_filename (G_TEST_DIST, "data", name, NULL);
}

/* Compares rendered with the reference PNG NAME within the tolerance;
 * KP_UPDATE_REFERENCE=1 rewrites the reference first. On a mismatch the
 * render is written to the temporary folder for a look. */
static inline void
kp_test_assert_matches_reference (cairo_surface_t *rendered,
                                  const char      *name)
{
  g_autofree char *path = kp_test_reference_path (name);
  cairo_surface_t *reference;
  double difference;

  if (g_strcmp0 (g_getenv ("KP_UPDATE_REFERENCE"), "1") == 0)
    {
      g_assert_cmpint (cairo_surface_write_to_png (rendered, path), ==, CAIRO_STATUS_SUCCESS);
      g_test_message ("Rewrote %s", path);
    }

  reference = cairo_image_surface_create_from_png (path);
  g_assert_cmpint (cairo_surface_status (reference), ==, CAIRO_STATUS_SUCCESS);

  difference = kp_test_compare_surfaces (rendered, reference);
  if (difference > KP_TEST_PIXEL_TOLERANCE)
    {
      g_autofree char *base = g_strconcat ("actual-", name, NULL);
      g_autofree char *out = g_build_filename (g_get_tmp_dir (), base, NULL);

      cairo_surface_write_to_png (rendered, out);
      g_test_message ("Render differs from %s in %.3f %% of pixels; wrote %s",
                      path, difference * 100, out);
    }
  cairo_surface_destroy (reference);

  g_assert_cmpfloat (difference, <=, KP_TEST_PIXEL_TOLERANCE);
}
