/* test-image-layer.c: KpImageLayer draws the right pixels within its cap
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <png.h>

#include "kp-image-layer.h"
#include "kp-image-pyramid.h"
#include "kp-media.h"

#define IMAGE_WIDTH  1500
#define IMAGE_HEIGHT 1100
#define TILE         64
#define TILE_BYTES   (TILE * TILE * 4)

typedef struct
{
  char         *dir;
  char         *cache;
  char         *path;
  GdkPixbuf    *pixbuf;
  KpImageLayer *layer;
  guint         n_invalidated;
  gsize         worst_used;
} Fixture;

static char *system_data_dirs;

static GdkPixbuf *
make_pixbuf (int width,
             int height)
{
  GdkPixbuf *pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  guint32 seed = 99;

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *p = pixels + (gsize)y * stride + x * 3;

        seed = seed * 1664525 + 1013904223;
        p[0] = (guint8)(x * 7 + y);
        p[1] = (guint8)(seed >> 24);
        p[2] = (guint8)(((x / 50 + y / 50) % 2) ? 220 : 30);
      }

  return pixbuf;
}

static void
invalidated_cb (KpImageLayer *layer,
                Fixture      *f)
{
  f->n_invalidated++;
  f->worst_used = MAX (f->worst_used, kp_image_layer_get_memory_used (layer));
}

static void
new_cb (GObject      *object,
        GAsyncResult *result,
        gpointer      user_data)
{
  GAsyncResult **out = user_data;

  (void)object;
  *out = g_object_ref (result);
}

static KpImageLayer *
open_layer (Fixture     *f,
            const char  *path,
            GCancellable *cancellable,
            GError     **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GAsyncResult) result = NULL;

  kp_image_layer_new_full_async (file, f->cache, TILE, cancellable, new_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);

  return kp_image_layer_new_finish (result, error);
}

static void
wait_built (KpImageLayer *layer)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while (kp_image_layer_get_building (layer) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (kp_image_layer_get_building (layer));
}

static gboolean
timeout_cb (gpointer data)
{
  gboolean *fired = data;

  *fired = TRUE;
  return G_SOURCE_REMOVE;
}

/* Draws the layer into a cairo surface of width x height. */
static cairo_surface_t *
render (KpImageLayer *layer,
        const KpView *view,
        int           width,
        int           height,
        gboolean      nearest)
{
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_t *cr;

  kp_image_layer_snapshot (layer, snapshot, view, width, height, 1, nearest);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node != NULL)
    {
      cr = cairo_create (surface);
      gsk_render_node_draw (node, cr);
      cairo_destroy (cr);
    }
  cairo_surface_flush (surface);

  return surface;
}

/* Draws frames, as a canvas would on "invalidated", until one has every
 * tile at the wanted level (unless until_quiet) or nothing more arrives
 * for quiet_ms. Returns the missing tiles of the last frame. */
static guint
settle_full (Fixture      *f,
             const KpView *view,
             int           width,
             int           height,
             gboolean      until_quiet,
             guint         quiet_ms)
{
  for (;;)
    {
      cairo_surface_t *surface = render (f->layer, view, width, height, FALSE);
      guint before = f->n_invalidated;
      gboolean fired = FALSE;
      guint id;

      cairo_surface_destroy (surface);
      g_assert_cmpuint (kp_image_layer_get_memory_used (f->layer), <=,
                        kp_image_layer_get_memory_cap (f->layer));
      if (!until_quiet && kp_image_layer_get_n_missing (f->layer) == 0)
        return 0;
      id = g_timeout_add (quiet_ms, timeout_cb, &fired);
      while (!fired && f->n_invalidated == before)
        g_main_context_iteration (NULL, TRUE);
      if (fired)
        return kp_image_layer_get_n_missing (f->layer);
      g_source_remove (id);
    }
}

static guint
settle (Fixture      *f,
        const KpView *view,
        int           width,
        int           height)
{
  return settle_full (f, view, width, height, FALSE, 1000);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  (void)data;
  g_setenv ("XDG_DATA_DIRS", system_data_dirs, TRUE);
  f->dir = g_dir_make_tmp ("kp-image-layer-XXXXXX", NULL);
  f->cache = g_build_filename (f->dir, "cache", NULL);
  f->path = g_build_filename (f->dir, "big.png", NULL);
  f->pixbuf = make_pixbuf (IMAGE_WIDTH, IMAGE_HEIGHT);
  gdk_pixbuf_save (f->pixbuf, f->path, "png", &error, "compression", "1", NULL);
  g_assert_no_error (error);
}

static void
rm_rf (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          rm_rf (child);
        }
      g_dir_close (dir);
    }
  g_remove (path);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  (void)data;
  if (f->layer != NULL)
    {
      gboolean fired = FALSE;
      guint id = g_timeout_add (5000, timeout_cb, &fired);

      /* Let tile reads in flight finish: they hold the layer. */
      while (G_OBJECT (f->layer)->ref_count > 1 && !fired)
        g_main_context_iteration (NULL, TRUE);
      if (!fired)
        g_source_remove (id);
      g_assert_finalize_object (f->layer);
    }
  g_clear_object (&f->pixbuf);
  rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->cache);
  g_free (f->path);
}

static void
open_fixture_layer (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  f->layer = open_layer (f, f->path, NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (f->layer, "invalidated", G_CALLBACK (invalidated_cb), f);
  g_assert_cmpint (kp_image_layer_get_width (f->layer), ==, IMAGE_WIDTH);
  g_assert_cmpint (kp_image_layer_get_height (f->layer), ==, IMAGE_HEIGHT);
}

/* The colour the reference shows at image pixel (x, y) of level: the mean
 * of the 2^level square, as doubles. */
static void
reference_pixel (GdkPixbuf *pixbuf,
                 int        level,
                 int        x,
                 int        y,
                 double     rgb[3])
{
  int n = 1 << level;
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  const guint8 *pixels = gdk_pixbuf_read_pixels (pixbuf);
  int count = 0;

  rgb[0] = rgb[1] = rgb[2] = 0;
  for (int dy = 0; dy < n; dy++)
    for (int dx = 0; dx < n; dx++)
      {
        const guint8 *p = pixels + (gsize)(y * n + dy) * stride + (x * n + dx) * 3;

        for (int c = 0; c < 3; c++)
          rgb[c] += p[c];
        count++;
      }
  for (int c = 0; c < 3; c++)
    rgb[c] /= count;
}

static double
compare_render (cairo_surface_t *surface,
                GdkPixbuf       *pixbuf,
                const KpView    *view,
                int              level,
                double           unit)
{
  const guint8 *data = cairo_image_surface_get_data (surface);
  int stride = cairo_image_surface_get_stride (surface);
  int width = cairo_image_surface_get_width (surface);
  int height = cairo_image_surface_get_height (surface);
  double worst = 0;

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint32 v;
        double rgb[3];
        /* The level pixel under the centre of this widget pixel. */
        int ix = (int)floor ((x + 0.5 - view->offset_x) / unit);
        int iy = (int)floor ((y + 0.5 - view->offset_y) / unit);

        memcpy (&v, data + (gsize)y * stride + x * 4, 4);
        reference_pixel (pixbuf, level, ix, iy, rgb);
        worst = MAX (worst, fabs (((v >> 16) & 0xff) - rgb[0]));
        worst = MAX (worst, fabs (((v >> 8) & 0xff) - rgb[1]));
        worst = MAX (worst, fabs ((v & 0xff) - rgb[2]));
        g_assert_cmpuint (v >> 24, ==, 255);
      }

  return worst;
}

static void
test_wants_size (void)
{
  g_assert_false (kp_image_layer_wants_size (4000, 3000));
  g_assert_true (kp_image_layer_wants_size (KP_IMAGE_LAYER_MIN_SIDE, 10));
  g_assert_true (kp_image_layer_wants_size (10, KP_IMAGE_LAYER_MIN_SIDE));
  g_assert_true (kp_image_layer_wants_size (8000, 7000));
  g_assert_true (kp_image_layer_wants_size (30000, 30000));
}

static void
test_pixels (Fixture       *f,
             gconstpointer  data)
{
  KpView full = { 1.0, -300, -200 };
  KpView half = { 0.5, -40, -30 };
  KpView zoomed = { 4.0, -2000, -1000 };
  cairo_surface_t *surface;

  (void)data;
  open_fixture_layer (f);
  wait_built (f->layer);
  g_assert_null (kp_image_layer_get_error (f->layer));

  /* 100 %: level 0, exactly the file's pixels. */
  g_assert_cmpuint (settle (f, &full, 256, 192), ==, 0);
  surface = render (f->layer, &full, 256, 192, FALSE);
  g_assert_cmpfloat (compare_render (surface, f->pixbuf, &full, 0, 1.0), ==, 0);
  cairo_surface_destroy (surface);

  /* 50 %: level 1, 2 x 2 means of the file's pixels. */
  g_assert_cmpuint (settle (f, &half, 256, 192), ==, 0);
  surface = render (f->layer, &half, 256, 192, FALSE);
  g_assert_cmpfloat (compare_render (surface, f->pixbuf, &half, 1, 1.0), <=, 1);
  cairo_surface_destroy (surface);

  /* 400 % nearest: every image pixel a 4 x 4 square of its colour. */
  g_assert_cmpuint (settle (f, &zoomed, 160, 120), ==, 0);
  surface = render (f->layer, &zoomed, 160, 120, TRUE);
  g_assert_cmpfloat (compare_render (surface, f->pixbuf, &zoomed, 0, 4.0), ==, 0);
  cairo_surface_destroy (surface);
}

static void
test_coarse_first (Fixture       *f,
                   gconstpointer  data)
{
  KpView full = { 1.0, -600, -500 };
  KpView fit = { 0.1, 0, 0 };
  cairo_surface_t *surface;

  (void)data;
  open_fixture_layer (f);
  wait_built (f->layer);

  /* Only the coarse tiles are in memory: a full-size view draws them,
   * blurred, instead of nothing, while the sharp ones load. */
  g_assert_cmpuint (settle (f, &fit, 150, 110), ==, 0);
  surface = render (f->layer, &full, 128, 128, FALSE);
  g_assert_cmpuint (kp_image_layer_get_n_missing (f->layer), >, 0);
  {
    const guint8 *p = cairo_image_surface_get_data (surface);
    guint32 v;

    memcpy (&v, p + 64 * cairo_image_surface_get_stride (surface) + 64 * 4, 4);
    g_assert_cmpuint (v >> 24, ==, 255);
  }
  cairo_surface_destroy (surface);
  g_assert_cmpuint (settle (f, &full, 128, 128), ==, 0);
}

static void
test_memory_cap (Fixture       *f,
                 gconstpointer  data)
{
  gsize cap = 12 * TILE_BYTES;
  int n_views = 0;

  (void)data;
  open_fixture_layer (f);
  g_assert_cmpuint (kp_image_layer_get_memory_cap (f->layer), ==, 256 * 1024 * 1024);
  kp_image_layer_set_memory_cap (f->layer, cap);
  wait_built (f->layer);

  /* Pan over the whole image at 100 %: 24 x 18 tiles pass through a
   * cache of 12, each view drawn sharp. */
  for (int y = 0; y < IMAGE_HEIGHT; y += 100)
    for (int x = 0; x < IMAGE_WIDTH; x += 100)
      {
        KpView view = { 1.0, -x, -y };

        g_assert_cmpuint (settle (f, &view, 128, 128), ==, 0);
        n_views++;
      }
  g_assert_cmpint (n_views, ==, 15 * 11);
  g_assert_cmpuint (kp_image_layer_get_memory_peak (f->layer), <=, cap);
  g_assert_cmpuint (f->worst_used, <=, cap);
  /* It held several tiles, not one at a time. */
  g_assert_cmpuint (kp_image_layer_get_memory_peak (f->layer), >=, 9 * TILE_BYTES);

  /* A cap smaller than the view: coarser tiles stand in, and it settles
   * instead of loading and dropping forever. */
  kp_image_layer_set_memory_cap (f->layer, 3 * TILE_BYTES);
  g_assert_cmpuint (kp_image_layer_get_memory_used (f->layer), <=, 3 * TILE_BYTES);
  {
    KpView view = { 1.0, -700, -500 };
    guint before;

    g_assert_cmpuint (settle (f, &view, 256, 256), >, 0);
    before = f->n_invalidated;
    g_assert_cmpuint (settle (f, &view, 256, 256), >, 0);
    g_assert_cmpuint (f->n_invalidated, <=, before + 1);
    g_assert_cmpuint (kp_image_layer_get_memory_peak (f->layer), <=, cap);
  }
}

static void
test_read_ahead (Fixture       *f,
                 gconstpointer  data)
{
  KpView view = { 1.0, -320, -320 };
  KpView next = { 1.0, -320 - TILE, -320 };
  cairo_surface_t *surface;
  gint64 deadline;

  (void)data;
  open_fixture_layer (f);
  wait_built (f->layer);
  g_assert_cmpuint (settle (f, &view, 128, 128), ==, 0);

  /* Once a view is sharp, the tiles around it are read without being
   * asked for, so a pan by one tile is sharp at its first frame. */
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (kp_image_layer_get_memory_used (f->layer) < 16 * TILE_BYTES &&
         g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (kp_image_layer_get_memory_used (f->layer), >=, 16 * TILE_BYTES);
  surface = render (f->layer, &next, 128, 128, FALSE);
  cairo_surface_destroy (surface);
  g_assert_cmpuint (kp_image_layer_get_n_missing (f->layer), ==, 0);
}

static void
test_gamma (Fixture       *f,
            gconstpointer  data)
{
  KpView full = { 1.0, 0, 0 };
  cairo_surface_t *surface;
  const guint8 *pixels;
  guint8 before, expected;
  gboolean matched = FALSE;

  (void)data;
  open_fixture_layer (f);
  wait_built (f->layer);
  g_assert_cmpuint (settle (f, &full, 64, 64), ==, 0);
  pixels = gdk_pixbuf_read_pixels (f->pixbuf);
  before = pixels[10 * gdk_pixbuf_get_rowstride (f->pixbuf) + 10 * 3 + 1];
  expected = (guint8)lround (255 * pow (before / 255.0, 1 / 2.2));
  g_assert_cmpuint (before, !=, expected);

  kp_image_layer_set_gamma (f->layer, 2.2);
  g_assert_cmpfloat (kp_image_layer_get_gamma (f->layer), ==, 2.2);
  for (int i = 0; i < 100 && !matched; i++)
    {
      guint32 v;

      surface = render (f->layer, &full, 64, 64, FALSE);
      memcpy (&v, cairo_image_surface_get_data (surface) + 10 * cairo_image_surface_get_stride (surface) + 10 * 4, 4);
      cairo_surface_destroy (surface);
      if (((v >> 8) & 0xff) == expected)
        matched = TRUE;
      else
        {
          /* Until the corrected tile arrives, the old one is drawn. */
          g_assert_cmpuint ((v >> 8) & 0xff, ==, before);
          g_main_context_iteration (NULL, TRUE);
        }
    }
  g_assert_true (matched);
}

static void
test_corrupt (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *bad = g_build_filename (f->dir, "bad.png", NULL);
  g_autofree char *cut = g_build_filename (f->dir, "cut.png", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(KpImageLayer) layer = NULL;
  gsize length;
  KpView view = { 1.0, 0, 0 };

  (void)data;
  g_assert_true (g_file_set_contents (bad, "\x89PNG\r\n\x1a\nnothing", 16, NULL));
  g_assert_null (open_layer (f, bad, NULL, &error));
  g_assert_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_CORRUPT);
  g_clear_error (&error);

  /* A truncated file opens (its header is whole), then reports the
   * damage; what was decoded before it is drawn. */
  g_assert_true (g_file_get_contents (f->path, &contents, &length, NULL));
  g_assert_true (g_file_set_contents (cut, contents, length / 3, NULL));
  f->layer = open_layer (f, cut, NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (f->layer, "invalidated", G_CALLBACK (invalidated_cb), f);
  wait_built (f->layer);
  g_assert_error (kp_image_layer_get_error (f->layer), KP_MEDIA_ERROR, KP_MEDIA_ERROR_CORRUPT);
  g_assert_nonnull (strstr (kp_image_layer_get_error (f->layer)->message, "cut.png"));
  g_assert_cmpuint (settle (f, &view, 64, 64), ==, 0);
}

static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  KpImageLayer *layer;

  (void)data;
  g_cancellable_cancel (cancellable);
  g_assert_null (open_layer (f, f->path, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  /* Dropping a layer while it builds stops the build; the half-made
   * cache is not taken for a finished one. */
  layer = open_layer (f, f->path, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (kp_image_layer_get_building (layer));
  g_assert_finalize_object (layer);

  layer = open_layer (f, f->path, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (kp_image_layer_get_building (layer));
  wait_built (layer);
  g_assert_null (kp_image_layer_get_error (layer));
  g_assert_finalize_object (layer);
}

static void
test_cache_reuse (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  KpImageLayer *layer;
  KpView view = { 1.0, -64, -64 };

  (void)data;
  layer = open_layer (f, f->path, NULL, &error);
  g_assert_no_error (error);
  wait_built (layer);
  g_assert_finalize_object (layer);

  /* The second opening finds every tile on disk: nothing to build, and
   * a frame is sharp as soon as its tiles are read. */
  open_fixture_layer (f);
  g_assert_false (kp_image_layer_get_building (f->layer));
  g_assert_cmpuint (settle (f, &view, 128, 128), ==, 0);
}

/* Holding a build: a write hook that blocks the build thread at the
 * first write of a row of tiles matching (level, tile_row, partial). */
typedef struct
{
  GMutex   mutex;
  GCond    cond;
  int      level;
  int      tile_row;
  gboolean partial;
  gboolean held;
  gboolean released;
} Hold;

static void
hold_hook_cb (KpImagePyramid *pyramid,
              int             level,
              int             tile_row,
              gpointer        user_data)
{
  Hold *hold = user_data;
  gboolean partial;

  if (level != hold->level || tile_row != hold->tile_row)
    return;
  partial = kp_image_pyramid_get_tile_state (pyramid, level, 0, tile_row, NULL) ==
            KP_IMAGE_PYRAMID_TILE_PARTIAL;
  if (partial != hold->partial)
    return;
  g_mutex_lock (&hold->mutex);
  if (!hold->held)
    {
      hold->held = TRUE;
      g_cond_broadcast (&hold->cond);
      while (!hold->released)
        g_cond_wait (&hold->cond, &hold->mutex);
    }
  g_mutex_unlock (&hold->mutex);
}

static void
hold_start (Hold     *hold,
            int       level,
            int       tile_row,
            gboolean  partial)
{
  memset (hold, 0, sizeof *hold);
  g_mutex_init (&hold->mutex);
  g_cond_init (&hold->cond);
  hold->level = level;
  hold->tile_row = tile_row;
  hold->partial = partial;
  kp_image_pyramid_set_write_hook (hold_hook_cb, hold);
}

static void
hold_wait (Hold *hold)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  g_mutex_lock (&hold->mutex);
  while (!hold->held)
    g_assert_true (g_cond_wait_until (&hold->cond, &hold->mutex, deadline));
  g_mutex_unlock (&hold->mutex);
}

static void
hold_release (Hold *hold)
{
  kp_image_pyramid_set_write_hook (NULL, NULL);
  g_mutex_lock (&hold->mutex);
  hold->released = TRUE;
  g_cond_broadcast (&hold->cond);
  g_mutex_unlock (&hold->mutex);
}

static void
hold_clear (Hold *hold)
{
  g_mutex_clear (&hold->mutex);
  g_cond_clear (&hold->cond);
}

/* Draws frames as a canvas does on "invalidated" until none comes for a
 * while, whether the view is sharp or not. */
static void
settle_all (Fixture      *f,
            const KpView *view,
            int           width,
            int           height)
{
  settle_full (f, view, width, height, TRUE, 500);
}

static guint32
surface_pixel (cairo_surface_t *surface,
               int              x,
               int              y)
{
  guint32 v;

  memcpy (&v, cairo_image_surface_get_data (surface) + (gsize)y * cairo_image_surface_get_stride (surface) + x * 4, 4);
  return v;
}

/* While a plain PNG decodes, the coarse levels appear top-down: a
 * partial tile is drawn, counted missing, then replaced by the final one
 * without any tile missing from the cache in between. */
static void
test_partial (Fixture       *f,
              gconstpointer  data)
{
  /* Wider than the overview's 2048 px (smaller images have no partial
   * tiles), shown at level 3 (262.5 × 137.5, tiles of 64) pixel for pixel. */
  KpView view = { 0.125, 0, 0 };
  g_autoptr(KpImagePyramid) peek = NULL;
  g_autoptr(GBytes) partial = NULL;
  g_autoptr(GError) error = NULL;
  cairo_surface_t *surface;
  const guint8 *p;
  Hold hold;
  int w, h, decoded = 0;
  double rgb[3];
  guint32 v;

  (void)data;
  g_clear_object (&f->pixbuf);
  f->pixbuf = make_pixbuf (2100, 1100);
  g_free (f->path);
  f->path = g_build_filename (f->dir, "wide.png", NULL);
  gdk_pixbuf_save (f->pixbuf, f->path, "png", &error, "compression", "1", NULL);
  g_assert_no_error (error);
  hold_start (&hold, 3, 1, TRUE);
  f->layer = open_layer (f, f->path, NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (f->layer, "invalidated", G_CALLBACK (invalidated_cb), f);
  hold_wait (&hold);

  /* The build is held after the first partial write of level 3's second
   * row of tiles: the file as the layer can read it. */
  peek = kp_image_pyramid_open (f->path, f->cache, TILE, NULL, &error);
  g_assert_no_error (error);
  partial = kp_image_pyramid_read_tile (peek, 3, 0, 1, &w, &h, &error);
  g_assert_no_error (error);
  p = g_bytes_get_data (partial, NULL);
  while (decoded < h && p[(gsize)decoded * w * 4 + 3] != 0)
    decoded++;
  g_assert_cmpint (decoded, >, 0);
  g_assert_cmpint (decoded, <, h);

  settle_all (f, &view, 262, 137);
  surface = render (f->layer, &view, 262, 137, FALSE);
  g_assert_cmpuint (kp_image_layer_get_n_drawn (f->layer), >, 0);
  g_assert_cmpuint (kp_image_layer_get_n_missing (f->layer), >, 0);
  g_assert_true (kp_image_layer_get_building (f->layer));
  /* Its decoded rows are drawn, its other rows are not (yet). */
  v = surface_pixel (surface, 10, TILE + decoded / 2);
  g_assert_cmpuint (v >> 24, ==, 255);
  reference_pixel (f->pixbuf, 3, 10, TILE + decoded / 2, rgb);
  g_assert_cmpfloat (fabs (((v >> 16) & 0xff) - rgb[0]), <=, 3);
  g_assert_cmpfloat (fabs ((v & 0xff) - rgb[2]), <=, 3);
  g_assert_cmpuint (surface_pixel (surface, 10, 2 * TILE - 1) >> 24, ==, 0);
  cairo_surface_destroy (surface);

  hold_release (&hold);
  wait_built (f->layer);
  g_assert_no_error (kp_image_layer_get_error (f->layer));
  g_assert_cmpuint (settle (f, &view, 262, 137), ==, 0);
  surface = render (f->layer, &view, 262, 137, FALSE);
  g_assert_cmpfloat (compare_render (surface, f->pixbuf, &view, 3, 1.0), <=, 3);
  cairo_surface_destroy (surface);
  hold_clear (&hold);
}

static void
write_interlaced_png (GdkPixbuf  *pixbuf,
                      const char *path)
{
  FILE *fp = g_fopen (path, "wb");
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct (png);
  int h = gdk_pixbuf_get_height (pixbuf);
  g_autofree png_bytep *rows = g_new (png_bytep, h);

  g_assert_nonnull (fp);
  png_init_io (png, fp);
  png_set_IHDR (png, info, gdk_pixbuf_get_width (pixbuf), h, 8, PNG_COLOR_TYPE_RGB,
                PNG_INTERLACE_ADAM7, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level (png, 1);
  png_write_info (png, info);
  for (int y = 0; y < h; y++)
    rows[y] = gdk_pixbuf_get_pixels (pixbuf) + (gsize)y * gdk_pixbuf_get_rowstride (pixbuf);
  png_write_image (png, rows);
  png_write_end (png, NULL);
  png_destroy_write_struct (&png, &info);
  g_assert_cmpint (fclose (fp), ==, 0);
}

/* An interlaced PNG's first view (its first pass, point-sampled) is
 * drawn as sharp; once the exact levels replace it, the layer reads them
 * again instead of keeping the approximation. */
static void
test_first_view_replaced (Fixture       *f,
                          gconstpointer  data)
{
  KpView view = { 0.125, 0, 0 };
  g_autofree char *path = g_build_filename (f->dir, "adam7.png", NULL);
  g_autoptr(GError) error = NULL;
  cairo_surface_t *surface;
  Hold hold;

  (void)data;
  write_interlaced_png (f->pixbuf, path);
  g_free (f->path);
  f->path = g_strdup (path);
  /* Held at the first full-size row of tiles: the first view is done. */
  hold_start (&hold, 0, 0, FALSE);
  open_fixture_layer (f);
  hold_wait (&hold);

  g_assert_cmpuint (settle (f, &view, 187, 137), ==, 0);
  surface = render (f->layer, &view, 187, 137, FALSE);
  /* Point samples of noise are far from the means. */
  g_assert_cmpfloat (compare_render (surface, f->pixbuf, &view, 3, 1.0), >, 20);
  cairo_surface_destroy (surface);

  hold_release (&hold);
  wait_built (f->layer);
  g_assert_no_error (kp_image_layer_get_error (f->layer));
  settle_all (f, &view, 187, 137);
  surface = render (f->layer, &view, 187, 137, FALSE);
  g_assert_cmpuint (kp_image_layer_get_n_missing (f->layer), ==, 0);
  g_assert_cmpfloat (compare_render (surface, f->pixbuf, &view, 3, 1.0), <=, 3);
  cairo_surface_destroy (surface);
  hold_clear (&hold);
}

int
main (int   argc,
      char *argv[])
{
  system_data_dirs = g_strdup (g_getenv ("XDG_DATA_DIRS"));
  if (system_data_dirs == NULL)
    system_data_dirs = g_strdup ("/usr/local/share:/usr/share");
  gtk_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/kempelen/app/image-layer/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  g_test_add_func ("/kempelen/app/image-layer/wants-size", test_wants_size);
  ADD ("pixels", test_pixels);
  ADD ("coarse-first", test_coarse_first);
  ADD ("memory-cap", test_memory_cap);
  ADD ("read-ahead", test_read_ahead);
  ADD ("gamma", test_gamma);
  ADD ("corrupt", test_corrupt);
  ADD ("cancel", test_cancel);
  ADD ("cache-reuse", test_cache_reuse);
  ADD ("partial", test_partial);
  ADD ("first-view-replaced", test_first_view_replaced);

  return g_test_run ();
}
