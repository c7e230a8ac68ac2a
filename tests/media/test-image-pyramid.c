/* test-image-pyramid.c: tiles of every level against GdkPixbuf's decode
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>
#include <utime.h>

#include <signal.h>
#include <sys/resource.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <png.h>
#include <tiffio.h>

#include "kp-image-pyramid.h"

#define TILE 64

typedef struct
{
  char *dir;
  char *cache;
} Fixture;

/* GdkPixbuf tells formats apart by MIME sniffing, which needs the real
 * shared-mime-info data that the isolated test folders hide. */
static char *system_data_dirs;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  (void)data;
  if (system_data_dirs != NULL)
    g_setenv ("XDG_DATA_DIRS", system_data_dirs, TRUE);
  f->dir = g_dir_make_tmp ("kp-pyramid-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
  f->cache = g_build_filename (f->dir, "cache", NULL);
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
  rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->cache);
}

/* A deterministic picture with detail at every scale: gradients, blocks
 * and noise. With alpha, a ramp of transparency. */
static GdkPixbuf *
make_pixbuf (int      width,
             int      height,
             gboolean alpha,
             gboolean smooth)
{
  GdkPixbuf *pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, alpha, 8, width, height);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  int n = gdk_pixbuf_get_n_channels (pixbuf);
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  guint32 seed = 12345;

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *p = pixels + (gsize)y * stride + x * n;

        seed = seed * 1103515245 + 12345;
        p[0] = (guint8)(x * 255 / width);
        p[1] = (guint8)(y * 255 / height);
        p[2] = (((x / 37) + (y / 23)) % 2) ? 200 : 40;
        if (!smooth)
          p[2] = (guint8)(p[2] + (seed >> 24) % 32);
        if (alpha)
          p[3] = (guint8)((x + y) % 256);
      }

  return pixbuf;
}

static void
save_pixbuf (GdkPixbuf  *pixbuf,
             const char *path,
             const char *type)
{
  g_autoptr(GError) error = NULL;

  if (g_str_equal (type, "jpeg"))
    gdk_pixbuf_save (pixbuf, path, type, &error, "quality", "95", NULL);
  else
    gdk_pixbuf_save (pixbuf, path, type, &error, NULL);
  g_assert_no_error (error);
}

/* The reference: premultiplied RGBA doubles for level 0, then each level
 * the mean of 2 x 2 blocks (the last row or column repeated), unrounded. */
typedef struct
{
  int     width;
  int     height;
  double *px;
} Level;

static Level *
reference_levels (GdkPixbuf *pixbuf,
                  int        n_levels)
{
  Level *levels = g_new0 (Level, n_levels);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  int n = gdk_pixbuf_get_n_channels (pixbuf);
  const guint8 *pixels = gdk_pixbuf_read_pixels (pixbuf);

  levels[0].width = gdk_pixbuf_get_width (pixbuf);
  levels[0].height = gdk_pixbuf_get_height (pixbuf);
  levels[0].px = g_new (double, (gsize)levels[0].width * levels[0].height * 4);
  for (int y = 0; y < levels[0].height; y++)
    for (int x = 0; x < levels[0].width; x++)
      {
        const guint8 *p = pixels + (gsize)y * stride + x * n;
        double *q = levels[0].px + ((gsize)y * levels[0].width + x) * 4;
        double a = n == 4 ? p[3] : 255;

        for (int c = 0; c < 3; c++)
          q[c] = p[c] * a / 255.0;
        q[3] = a;
      }
  for (int l = 1; l < n_levels; l++)
    {
      Level *s = &levels[l - 1];
      Level *d = &levels[l];

      d->width = (s->width + 1) / 2;
      d->height = (s->height + 1) / 2;
      d->px = g_new (double, (gsize)d->width * d->height * 4);
      for (int y = 0; y < d->height; y++)
        for (int x = 0; x < d->width; x++)
          for (int c = 0; c < 4; c++)
            {
              int x0 = 2 * x, x1 = MIN (2 * x + 1, s->width - 1);
              int y0 = 2 * y, y1 = MIN (2 * y + 1, s->height - 1);

              d->px[((gsize)y * d->width + x) * 4 + c] =
                (s->px[((gsize)y0 * s->width + x0) * 4 + c] + s->px[((gsize)y0 * s->width + x1) * 4 + c] +
                 s->px[((gsize)y1 * s->width + x0) * 4 + c] + s->px[((gsize)y1 * s->width + x1) * 4 + c]) / 4;
            }
    }

  return levels;
}

static void
free_levels (Level *levels,
             int    n_levels)
{
  for (int l = 0; l < n_levels; l++)
    g_free (levels[l].px);
  g_free (levels);
}

/* Compares every tile of a level with the reference; returns the largest
 * difference of one channel and the mean difference. */
static double
compare_level (KpImagePyramid *pyramid,
               Level          *ref,
               int             level,
               double         *mean)
{
  int columns, rows, lw, lh;
  double worst = 0, sum = 0;
  gsize count = 0;

  kp_image_pyramid_get_level_size (pyramid, level, &lw, &lh);
  g_assert_cmpint (lw, ==, ref->width);
  g_assert_cmpint (lh, ==, ref->height);
  kp_image_pyramid_get_grid (pyramid, level, &columns, &rows);
  for (int ty = 0; ty < rows; ty++)
    for (int tx = 0; tx < columns; tx++)
      {
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) bytes = NULL;
        const guint8 *data;
        int w, h;

        g_assert_true (kp_image_pyramid_has_tile (pyramid, level, tx, ty));
        bytes = kp_image_pyramid_read_tile (pyramid, level, tx, ty, &w, &h, &error);
        g_assert_no_error (error);
        g_assert_cmpint (w, ==, MIN (TILE, lw - tx * TILE));
        g_assert_cmpint (h, ==, MIN (TILE, lh - ty * TILE));
        g_assert_cmpuint (g_bytes_get_size (bytes), ==, (gsize)w * h * 4);
        data = g_bytes_get_data (bytes, NULL);
        for (int y = 0; y < h; y++)
          for (int x = 0; x < w; x++)
            {
              guint32 v;
              const double *r = ref->px + ((gsize)(ty * TILE + y) * ref->width + tx * TILE + x) * 4;
              double got[4];

              memcpy (&v, data + ((gsize)y * w + x) * 4, 4);
              got[0] = (v >> 16) & 0xff;
              got[1] = (v >> 8) & 0xff;
              got[2] = v & 0xff;
              got[3] = v >> 24;
              for (int c = 0; c < 4; c++)
                {
                  double d = fabs (got[c] - r[c]);

                  worst = MAX (worst, d);
                  sum += d;
                  count++;
                }
            }
      }
  *mean = sum / count;

  return worst;
}

static KpImagePyramid *
open_and_build (Fixture    *f,
                const char *path)
{
  g_autoptr(GError) error = NULL;
  KpImagePyramid *pyramid = kp_image_pyramid_open (path, f->cache, TILE, NULL, &error);

  g_assert_no_error (error);
  g_assert_false (kp_image_pyramid_is_complete (pyramid));
  kp_image_pyramid_build (pyramid, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (kp_image_pyramid_is_complete (pyramid));

  return pyramid;
}

static void
check_exact (Fixture    *f,
             const char *path,
             GdkPixbuf  *source,
             double      level0_tolerance)
{
  g_autoptr(KpImagePyramid) pyramid = open_and_build (f, path);
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) decoded = gdk_pixbuf_new_from_file (path, &error);
  int n_levels = kp_image_pyramid_get_n_levels (pyramid);
  Level *ref;

  g_assert_no_error (error);
  if (source != NULL)
    g_assert_cmpint (gdk_pixbuf_get_width (decoded), ==, gdk_pixbuf_get_width (source));
  g_assert_cmpint (kp_image_pyramid_get_width (pyramid), ==, gdk_pixbuf_get_width (decoded));
  g_assert_cmpint (kp_image_pyramid_get_height (pyramid), ==, gdk_pixbuf_get_height (decoded));
  /* Levels until the whole image fits one tile. */
  g_assert_cmpint (n_levels, ==, (int)ceil (log2 (MAX (gdk_pixbuf_get_width (decoded),
                                                        gdk_pixbuf_get_height (decoded)) / (double)TILE)) + 1);

  ref = reference_levels (decoded, n_levels);
  for (int level = 0; level < n_levels; level++)
    {
      double mean;
      double worst = compare_level (pyramid, &ref[level], level, &mean);

      /* Exact at level 0 (within premultiplication rounding for alpha),
       * then at most the rounding of each averaging step. */
      if (level == 0)
        g_assert_cmpfloat (worst, <=, level0_tolerance);
      else
        g_assert_cmpfloat (worst, <=, level0_tolerance + level);
    }
  free_levels (ref, n_levels);
}

static void
test_png_levels (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->dir, "a.png", NULL);
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (1001, 701, FALSE, FALSE);

  (void)data;
  save_pixbuf (pixbuf, path, "png");
  check_exact (f, path, pixbuf, 0);
}

/* The share decoded grows with every band of full-detail rows and is 1 at
 * the end; a build in background (resting between bands) makes the same
 * tiles. */
typedef struct
{
  KpImagePyramid *pyramid;
  double          last;
  guint           n_calls;
} ProgressLog;

static void
progress_log_cb (KpImagePyramid *pyramid,
                 int             level,
                 int             tile_row,
                 gpointer        user_data)
{
  ProgressLog *log = user_data;
  double progress = kp_image_pyramid_get_progress (pyramid);

  (void)level;
  (void)tile_row;
  g_assert_cmpfloat (progress, >=, log->last);
  g_assert_cmpfloat (progress, <=, 1.0);
  log->last = progress;
  log->n_calls++;
}

static void
test_progress_and_background (Fixture       *f,
                              gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->dir, "p.png", NULL);
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (700, 900, FALSE, FALSE);
  g_autoptr(KpImagePyramid) pyramid = NULL;
  g_autoptr(GError) error = NULL;
  ProgressLog log = { NULL, 0, 0 };

  (void)data;
  save_pixbuf (pixbuf, path, "png");
  pyramid = kp_image_pyramid_open (path, f->cache, TILE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (kp_image_pyramid_get_progress (pyramid), ==, 0);

  kp_image_pyramid_set_background (pyramid, TRUE);
  g_assert_true (kp_image_pyramid_build (pyramid, NULL, progress_log_cb, &log, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (log.n_calls, >, 3);
  g_assert_cmpfloat (log.last, >, 0.5);
  g_assert_cmpfloat (kp_image_pyramid_get_progress (pyramid), ==, 1.0);

  /* Exactly the tiles a full-speed build makes (checked against the
   * reference levels). */
  g_clear_object (&pyramid);
  pyramid = kp_image_pyramid_open (path, f->cache, TILE, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (kp_image_pyramid_is_complete (pyramid));
  g_assert_cmpfloat (kp_image_pyramid_get_progress (pyramid), ==, 1.0);
  {
    Level *ref = reference_levels (pixbuf, kp_image_pyramid_get_n_levels (pyramid));
    double mean;

    for (int level = 0; level < kp_image_pyramid_get_n_levels (pyramid); level++)
      g_assert_cmpfloat (compare_level (pyramid, &ref[level], level, &mean), <=, level);
    free_levels (ref, kp_image_pyramid_get_n_levels (pyramid));
  }
}

static void
test_png_alpha (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->dir, "alpha.png", NULL);
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (300, 200, TRUE, FALSE);

  (void)data;
  save_pixbuf (pixbuf, path, "png");
  /* Premultiplying to 8 bits rounds each colour once. */
  check_exact (f, path, pixbuf, 0.5);
}

static void
test_bmp_pixbuf (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->dir, "a.bmp", NULL);
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (257, 130, FALSE, FALSE);

  (void)data;
  save_pixbuf (pixbuf, path, "bmp");
  check_exact (f, path, pixbuf, 0);
}

static void
test_jpeg_levels (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->dir, "a.jpg", NULL);
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (2600, 1500, FALSE, TRUE);
  g_autoptr(GdkPixbuf) decoded = NULL;
  g_autoptr(KpImagePyramid) pyramid = NULL;
  int n_levels;
  Level *ref;

  (void)data;
  save_pixbuf (pixbuf, path, "jpeg");
  pyramid = open_and_build (f, path);
  decoded = gdk_pixbuf_new_from_file (path, NULL);
  n_levels = kp_image_pyramid_get_n_levels (pyramid);
  /* 2600 px is over the overview side: level 1 comes from a DCT-scaled
   * decode, not from level 0. */
  g_assert_cmpint (kp_image_pyramid_get_overview_level (pyramid), ==, 1);
  ref = reference_levels (decoded, n_levels);
  for (int level = 0; level < n_levels; level++)
    {
      double mean;
      double worst = compare_level (pyramid, &ref[level], level, &mean);

      if (level == 0)
        g_assert_cmpfloat (worst, ==, 0);
      else
        {
          /* DCT scaling is a different low-pass filter than 2 x 2 means:
           * close on average, further apart on sharp block edges. */
          g_assert_cmpfloat (mean, <, 1.5);
          g_assert_cmpfloat (worst, <, 96);
        }
    }
  free_levels (ref, n_levels);
}

static void
write_tiff (const char *path,
            GdkPixbuf  *pixbuf,
            int         mode)
{
  TIFF *tif = TIFFOpen (path, "w");
  int w = gdk_pixbuf_get_width (pixbuf);
  int h = gdk_pixbuf_get_height (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  const guint8 *pixels = gdk_pixbuf_read_pixels (pixbuf);

  g_assert_nonnull (tif);
  TIFFSetField (tif, TIFFTAG_IMAGEWIDTH, w);
  TIFFSetField (tif, TIFFTAG_IMAGELENGTH, h);
  TIFFSetField (tif, TIFFTAG_BITSPERSAMPLE, 8);
  TIFFSetField (tif, TIFFTAG_SAMPLESPERPIXEL, 3);
  TIFFSetField (tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
  TIFFSetField (tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
  if (mode == 0)
    {
      /* Strips of contiguous RGB: read as scanlines. */
      TIFFSetField (tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
      TIFFSetField (tif, TIFFTAG_ROWSPERSTRIP, 16);
      for (int y = 0; y < h; y++)
        g_assert_cmpint (TIFFWriteScanline (tif, (void *)(pixels + (gsize)y * stride), y, 0), ==, 1);
    }
  else if (mode == 1)
    {
      /* Tiles: read through TIFFReadRGBATile. */
      int tw = 48, th = 32;
      g_autofree guint8 *buf = g_malloc0 ((gsize)tw * th * 3);

      TIFFSetField (tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
      TIFFSetField (tif, TIFFTAG_TILEWIDTH, tw);
      TIFFSetField (tif, TIFFTAG_TILELENGTH, th);
      for (int y0 = 0; y0 < h; y0 += th)
        for (int x0 = 0; x0 < w; x0 += tw)
          {
            memset (buf, 0, (gsize)tw * th * 3);
            for (int y = 0; y < th && y0 + y < h; y++)
              memcpy (buf + (gsize)y * tw * 3, pixels + (gsize)(y0 + y) * stride + x0 * 3,
                      (gsize)MIN (tw, w - x0) * 3);
            g_assert_cmpint (TIFFWriteTile (tif, buf, x0, y0, 0, 0), >, 0);
          }
    }
  else
    {
      /* Separate planes: read through TIFFReadRGBAStrip. */
      g_autofree guint8 *line = g_malloc (w);

      TIFFSetField (tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_SEPARATE);
      TIFFSetField (tif, TIFFTAG_ROWSPERSTRIP, 10);
      for (int s = 0; s < 3; s++)
        for (int y = 0; y < h; y++)
          {
            for (int x = 0; x < w; x++)
              line[x] = pixels[(gsize)y * stride + x * 3 + s];
            g_assert_cmpint (TIFFWriteScanline (tif, line, y, s), ==, 1);
          }
    }
  TIFFClose (tif);
}

static void
test_tiff_levels (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (333, 215, FALSE, FALSE);

  (void)data;
  for (int mode = 0; mode < 3; mode++)
    {
      g_autofree char *name = g_strdup_printf ("a%d.tif", mode);
      g_autofree char *path = g_build_filename (f->dir, name, NULL);

      write_tiff (path, pixbuf, mode);
      check_exact (f, path, pixbuf, 0);
    }
}

static void
assert_open_fails (Fixture    *f,
                   const char *name,
                   const char *contents,
                   gssize      length,
                   int         code)
{
  g_autofree char *path = g_build_filename (f->dir, name, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(KpImagePyramid) pyramid = NULL;

  g_assert_true (g_file_set_contents (path, contents, length, NULL));
  pyramid = kp_image_pyramid_open (path, f->cache, TILE, NULL, &error);
  g_assert_null (pyramid);
  g_assert_error (error, KP_MEDIA_ERROR, code);
  /* The message names the file. */
  g_assert_nonnull (strstr (error->message, name));
}

static void
test_corrupt (Fixture       *f,
              gconstpointer  data)
{
  static const char png_magic[] = "\x89PNG\r\n\x1a\nthis is no header";
  static const char jpeg_magic[] = "\xff\xd8\xff\xe0garbage garbage garbage";
  static const char tiff_magic[] = "II*\0\xff\xff\xff\xff";
  g_autofree char *missing = g_build_filename (f->dir, "missing.png", NULL);
  g_autoptr(GError) error = NULL;

  (void)data;
  assert_open_fails (f, "empty.png", "", 0, KP_MEDIA_ERROR_NOT_AN_IMAGE);
  assert_open_fails (f, "text.png", "hello", -1, KP_MEDIA_ERROR_NOT_AN_IMAGE);
  assert_open_fails (f, "bad.png", png_magic, sizeof png_magic, KP_MEDIA_ERROR_CORRUPT);
  assert_open_fails (f, "bad.jpg", jpeg_magic, sizeof jpeg_magic, KP_MEDIA_ERROR_CORRUPT);
  assert_open_fails (f, "bad.tif", tiff_magic, sizeof tiff_magic, KP_MEDIA_ERROR_CORRUPT);

  g_assert_null (kp_image_pyramid_open (missing, f->cache, TILE, NULL, &error));
  g_assert_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_UNREADABLE);
}

static void
truncate_file (const char *path,
               double      keep)
{
  g_autofree char *contents = NULL;
  gsize length;

  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  g_assert_true (g_file_set_contents (path, contents, (gssize)(length * keep), NULL));
}

static void
test_truncated (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *png = g_build_filename (f->dir, "cut.png", NULL);
  g_autofree char *jpeg = g_build_filename (f->dir, "cut.jpg", NULL);
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (600, 900, FALSE, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(KpImagePyramid) pyramid = NULL;
  g_autofree char *warning = NULL;

  (void)data;
  save_pixbuf (pixbuf, png, "png");
  truncate_file (png, 0.5);
  pyramid = kp_image_pyramid_open (png, f->cache, TILE, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (kp_image_pyramid_build (pyramid, NULL, NULL, NULL, &error));
  g_assert_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_CORRUPT);
  g_assert_false (kp_image_pyramid_is_complete (pyramid));
  /* The top rows were decoded before the damage: their tiles stay. */
  g_assert_true (kp_image_pyramid_has_tile (pyramid, 0, 0, 0));
  g_assert_false (kp_image_pyramid_has_tile (pyramid, 0, 0, 900 / TILE));
  g_clear_error (&error);
  g_clear_object (&pyramid);

  /* A truncated JPEG shows what was decoded, with a warning. */
  save_pixbuf (pixbuf, jpeg, "jpeg");
  truncate_file (jpeg, 0.5);
  pyramid = kp_image_pyramid_open (jpeg, f->cache, TILE, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (kp_image_pyramid_build (pyramid, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  warning = kp_image_pyramid_dup_warning (pyramid);
  g_assert_nonnull (warning);
  g_assert_true (kp_image_pyramid_has_tile (pyramid, 0, 0, 900 / TILE));
  g_clear_object (&pyramid);

  /* The warning survives in the cache. */
  pyramid = kp_image_pyramid_open (jpeg, f->cache, TILE, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (kp_image_pyramid_is_complete (pyramid));
  g_clear_pointer (&warning, g_free);
  warning = kp_image_pyramid_dup_warning (pyramid);
  g_assert_nonnull (warning);
}

typedef struct
{
  GCancellable *cancellable;
  int           n_rows;
} CancelData;

static void
cancel_progress_cb (KpImagePyramid *pyramid,
                    int             level,
                    int             tile_row,
                    gpointer        user_data)
{
  CancelData *cd = user_data;

  (void)pyramid;
  (void)level;
  (void)tile_row;
  if (++cd->n_rows == 2)
    g_cancellable_cancel (cd->cancellable);
}

static void
count_progress_cb (KpImagePyramid *pyramid,
                   int             level,
                   int             tile_row,
                   gpointer        user_data)
{
  int *rows = user_data;
  int columns;

  kp_image_pyramid_get_grid (pyramid, level, &columns, NULL);
  /* Reported rows are on disk, and arrive in order per level. */
  for (int tx = 0; tx < columns; tx++)
    g_assert_true (kp_image_pyramid_has_tile (pyramid, level, tx, tile_row));
  g_assert_cmpint (rows[level], ==, tile_row);
  rows[level]++;
}

static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->dir, "big.png", NULL);
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (800, 1200, FALSE, FALSE);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(KpImagePyramid) pyramid = NULL;
  CancelData cd = { cancellable, 0 };
  int rows[16] = { 0 };

  (void)data;
  save_pixbuf (pixbuf, path, "png");
  pyramid = kp_image_pyramid_open (path, f->cache, TILE, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (kp_image_pyramid_build (pyramid, cancellable, cancel_progress_cb, &cd, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* It stopped at the next band, long before the end. */
  g_assert_cmpint (cd.n_rows, <=, 3);
  g_assert_false (kp_image_pyramid_is_complete (pyramid));
  g_clear_error (&error);
  g_clear_object (&pyramid);

  /* A cancelled build leaves no finished cache: the next opening builds
   * again, and reports every row of every level. */
  pyramid = kp_image_pyramid_open (path, f->cache, TILE, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (kp_image_pyramid_is_complete (pyramid));
  g_assert_true (kp_image_pyramid_build (pyramid, NULL, count_progress_cb, rows, &error));
  g_assert_no_error (error);
  for (int level = 0; level < kp_image_pyramid_get_n_levels (pyramid); level++)
    {
      int n;

      kp_image_pyramid_get_grid (pyramid, level, NULL, &n);
      g_assert_cmpint (rows[level], ==, n);
    }
}

static void
test_cache_reuse (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->dir, "reuse.png", NULL);
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (500, 300, FALSE, FALSE);
  g_autoptr(GError) error = NULL;
  g_autoptr(KpImagePyramid) first = NULL;
  g_autoptr(KpImagePyramid) again = NULL;
  g_autoptr(KpImagePyramid) changed = NULL;
  g_autoptr(GBytes) a = NULL;
  g_autoptr(GBytes) b = NULL;
  int rows[16] = { 0 };

  (void)data;
  save_pixbuf (pixbuf, path, "png");
  first = open_and_build (f, path);

  again = kp_image_pyramid_open (path, f->cache, TILE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kp_image_pyramid_get_cache_path (again), ==, kp_image_pyramid_get_cache_path (first));
  g_assert_true (kp_image_pyramid_is_complete (again));
  g_assert_true (kp_image_pyramid_has_tile (again, 0, 7, 4));
  /* Building a complete pyramid decodes nothing. */
  g_assert_true (kp_image_pyramid_build (again, NULL, count_progress_cb, rows, &error));
  g_assert_cmpint (rows[0], ==, 0);
  a = kp_image_pyramid_read_tile (first, 0, 3, 2, NULL, NULL, &error);
  g_assert_no_error (error);
  b = kp_image_pyramid_read_tile (again, 0, 3, 2, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (a, b));

  /* Another tile size, or a changed file, is another cache. */
  changed = kp_image_pyramid_open (path, f->cache, TILE * 2, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (kp_image_pyramid_is_complete (changed));
  g_clear_object (&changed);
  save_pixbuf (pixbuf, path, "png");
  {
    struct utimbuf times = { 1000000, 1000000 };

    g_assert_cmpint (g_utime (path, &times), ==, 0);
  }
  changed = kp_image_pyramid_open (path, f->cache, TILE, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (kp_image_pyramid_is_complete (changed));
  g_assert_cmpstr (kp_image_pyramid_get_cache_path (changed), !=, kp_image_pyramid_get_cache_path (first));
}

static guint64
cached_bytes (KpImagePyramid *pyramid)
{
  g_autofree char *path = g_build_filename (kp_image_pyramid_get_cache_path (pyramid), "complete", NULL);
  g_autofree char *contents = NULL;

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  return g_ascii_strtoull (contents, NULL, 10);
}

static void
test_trim_cache (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (400, 300, FALSE, FALSE);
  KpImagePyramid *pyramids[3];
  guint64 sizes[3];
  g_autofree char *stray = NULL;
  g_autofree char *abandoned = NULL;

  (void)data;
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("t%d.png", i);
      g_autofree char *path = g_build_filename (f->dir, name, NULL);
      g_autofree char *complete = NULL;
      struct utimbuf times = { 1000000 + i * 1000, 1000000 + i * 1000 };

      save_pixbuf (pixbuf, path, "png");
      pyramids[i] = open_and_build (f, path);
      sizes[i] = cached_bytes (pyramids[i]);
      g_assert_cmpuint (sizes[i], >, 0);
      /* Opened at three different times, the first longest ago. */
      complete = g_build_filename (kp_image_pyramid_get_cache_path (pyramids[i]), "complete", NULL);
      g_assert_cmpint (g_utime (complete, &times), ==, 0);
    }
  /* Folders that are not ours stay; a build abandoned long ago goes. */
  stray = g_build_filename (f->cache, "not-a-pyramid", NULL);
  g_assert_cmpint (g_mkdir_with_parents (stray, 0700), ==, 0);
  abandoned = g_build_filename (f->cache, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", NULL);
  g_assert_cmpint (g_mkdir_with_parents (abandoned, 0700), ==, 0);
  {
    struct utimbuf times = { 1000, 1000 };

    g_assert_cmpint (g_utime (abandoned, &times), ==, 0);
  }

  /* Room for two: the least recently opened goes, even when it is the
   * one to keep that is oldest. */
  g_assert_cmpuint (kp_image_pyramid_trim_cache (f->cache, sizes[0] + sizes[1] + sizes[2] - 1, pyramids[0]),
                    <=, sizes[0] + sizes[1] + sizes[2] - 1);
  g_assert_true (g_file_test (kp_image_pyramid_get_cache_path (pyramids[0]), G_FILE_TEST_IS_DIR));
  g_assert_false (g_file_test (kp_image_pyramid_get_cache_path (pyramids[1]), G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (kp_image_pyramid_get_cache_path (pyramids[2]), G_FILE_TEST_IS_DIR));
  g_assert_true (g_file_test (stray, G_FILE_TEST_IS_DIR));
  g_assert_false (g_file_test (abandoned, G_FILE_TEST_EXISTS));

  /* Nothing but the kept one fits. */
  g_assert_cmpuint (kp_image_pyramid_trim_cache (f->cache, 0, pyramids[0]), ==, sizes[0]);
  g_assert_false (g_file_test (kp_image_pyramid_get_cache_path (pyramids[2]), G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (kp_image_pyramid_get_cache_path (pyramids[0]), G_FILE_TEST_IS_DIR));

  for (int i = 0; i < 3; i++)
    g_object_unref (pyramids[i]);
}

/* Writes pixbuf (RGB) as the current directory of tif, tiled. */
static void
write_tiff_tiled_dir_sized (TIFF      *tif,
                            GdkPixbuf *pixbuf,
                            guint32    subfiletype,
                            int        tile)
{
  int w = gdk_pixbuf_get_width (pixbuf);
  int h = gdk_pixbuf_get_height (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  const guint8 *pixels = gdk_pixbuf_read_pixels (pixbuf);
  int tw = tile, th = tile;
  g_autofree guint8 *buf = g_malloc0 ((gsize)tw * th * 3);

  TIFFSetField (tif, TIFFTAG_SUBFILETYPE, subfiletype);
  TIFFSetField (tif, TIFFTAG_IMAGEWIDTH, w);
  TIFFSetField (tif, TIFFTAG_IMAGELENGTH, h);
  TIFFSetField (tif, TIFFTAG_BITSPERSAMPLE, 8);
  TIFFSetField (tif, TIFFTAG_SAMPLESPERPIXEL, 3);
  TIFFSetField (tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
  TIFFSetField (tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
  TIFFSetField (tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField (tif, TIFFTAG_TILEWIDTH, tw);
  TIFFSetField (tif, TIFFTAG_TILELENGTH, th);
  for (int y0 = 0; y0 < h; y0 += th)
    for (int x0 = 0; x0 < w; x0 += tw)
      {
        memset (buf, 0, (gsize)tw * th * 3);
        for (int y = 0; y < th && y0 + y < h; y++)
          memcpy (buf + (gsize)y * tw * 3, pixels + (gsize)(y0 + y) * stride + x0 * 3,
                  (gsize)MIN (tw, w - x0) * 3);
        g_assert_cmpint (TIFFWriteTile (tif, buf, x0, y0, 0, 0), >, 0);
      }
}

static void
write_tiff_tiled_dir (TIFF      *tif,
                      GdkPixbuf *pixbuf,
                      guint32    subfiletype)
{
  write_tiff_tiled_dir_sized (tif, pixbuf, subfiletype, 64);
}

/* A reduced image of pixbuf, w × h, with a magenta marker pixel at
 * (0, 0) that the full image does not have. */
static GdkPixbuf *
make_reduced (GdkPixbuf *pixbuf,
              int        w,
              int        h)
{
  GdkPixbuf *small = gdk_pixbuf_scale_simple (pixbuf, w, h, GDK_INTERP_TILES);
  guint8 *p = gdk_pixbuf_get_pixels (small);

  p[0] = 255, p[1] = 0, p[2] = 255;
  return small;
}

/* Writes pixbuf tiled with reduced images of the given sizes, as
 * FILETYPE_REDUCEDIMAGE directories or (sub) as SubIFDs. */
static void
write_tiff_with_overviews (const char *path,
                           GdkPixbuf  *pixbuf,
                           const int  *sizes,
                           int         n_sizes,
                           gboolean    sub)
{
  TIFF *tif = TIFFOpen (path, "w");
  toff_t offsets[4] = { 0 };

  g_assert_nonnull (tif);
  g_assert_cmpint (n_sizes, <=, (int)G_N_ELEMENTS (offsets));
  if (sub)
    TIFFSetField (tif, TIFFTAG_SUBIFD, (guint16)n_sizes, offsets);
  write_tiff_tiled_dir (tif, pixbuf, 0);
  g_assert_true (TIFFWriteDirectory (tif));
  for (int i = 0; i < n_sizes; i++)
    {
      g_autoptr(GdkPixbuf) small = make_reduced (pixbuf, sizes[2 * i], sizes[2 * i + 1]);

      write_tiff_tiled_dir (tif, small, FILETYPE_REDUCEDIMAGE);
      g_assert_true (TIFFWriteDirectory (tif));
    }
  TIFFClose (tif);
}

typedef struct
{
  int first_level;
  int level0_rows;
  int level2_rows_before_level0;
} OrderData;

static void
order_progress_cb (KpImagePyramid *pyramid,
                   int             level,
                   int             tile_row,
                   gpointer        user_data)
{
  OrderData *od = user_data;

  (void)pyramid;
  (void)tile_row;
  if (od->first_level < 0)
    od->first_level = level;
  if (level == 0)
    od->level0_rows++;
  else if (level == 2 && od->level0_rows == 0)
    od->level2_rows_before_level0++;
}

static guint32
tile_pixel (KpImagePyramid *pyramid,
            int             level,
            int             x,
            int             y)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  int tw, th;
  guint32 v;

  bytes = kp_image_pyramid_read_tile (pyramid, level, x / TILE, y / TILE, &tw, &th, &error);
  g_assert_no_error (error);
  memcpy (&v, (const guint8 *)g_bytes_get_data (bytes, NULL) + ((gsize)(y % TILE) * tw + x % TILE) * 4, 4);
  return v;
}

static void
build_ordered (KpImagePyramid *pyramid,
               OrderData      *od)
{
  g_autoptr(GError) error = NULL;

  od->first_level = -1;
  kp_image_pyramid_build (pyramid, NULL, order_progress_cb, od, &error);
  g_assert_no_error (error);
  g_assert_true (kp_image_pyramid_is_complete (pyramid));
}

static int
channel_diff (guint32 a,
              guint32 b)
{
  int worst = 0;

  for (int shift = 0; shift < 32; shift += 8)
    worst = MAX (worst, ABS ((int)((a >> shift) & 0xff) - (int)((b >> shift) & 0xff)));
  return worst;
}

static void
test_tiff_overview (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (2048, 1536, FALSE, TRUE);
  static const int sizes[] = { 512, 384, 128, 96 };

  (void)data;
  for (int sub = 0; sub < 2; sub++)
    {
      g_autofree char *name = g_strdup_printf ("ov%d.tif", sub);
      g_autofree char *path = g_build_filename (f->dir, name, NULL);
      g_autoptr(KpImagePyramid) pyramid = NULL;
      g_autoptr(GError) error = NULL;
      OrderData od = { 0 };

      write_tiff_with_overviews (path, pixbuf, sizes, 2, sub);
      pyramid = kp_image_pyramid_open (path, f->cache, TILE, NULL, &error);
      g_assert_no_error (error);
      build_ordered (pyramid, &od);
      /* Level 2 (512 × 384) came from the reduced image, before any
       * row of the full image was decoded. */
      g_assert_cmpint (od.first_level, ==, 2);
      g_assert_cmpint (od.level2_rows_before_level0, >, 0);
      g_assert_cmpint (od.level0_rows, ==, (1536 + TILE - 1) / TILE);
      g_assert_cmphex (tile_pixel (pyramid, 2, 0, 0), ==, 0xffff00ff);
      g_assert_cmphex (tile_pixel (pyramid, 0, 0, 0), !=, 0xffff00ff);
      /* Elsewhere it is a consistent downscale of the full image. */
      g_assert_cmpint (channel_diff (tile_pixel (pyramid, 2, 300, 200),
                                     tile_pixel (pyramid, 0, 1201, 801)), <=, 12);
      g_assert_cmpint (channel_diff (tile_pixel (pyramid, 1, 100, 300),
                                     tile_pixel (pyramid, 0, 201, 601)), <=, 12);
    }
}

static void
test_tiff_overview_fallback (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (2048, 1536, FALSE, TRUE);
  /* 2 % too wide: inconsistent with the full image, so ignored. */
  static const int sizes[] = { 522, 384 };
  g_autofree char *path = g_build_filename (f->dir, "bad.tif", NULL);
  g_autoptr(KpImagePyramid) pyramid = NULL;
  g_autoptr(GError) error = NULL;
  OrderData od = { 0 };

  (void)data;
  write_tiff_with_overviews (path, pixbuf, sizes, 1, FALSE);
  pyramid = kp_image_pyramid_open (path, f->cache, TILE, NULL, &error);
  g_assert_no_error (error);
  build_ordered (pyramid, &od);
  g_assert_cmpint (od.first_level, ==, 0);
  g_assert_cmpint (od.level2_rows_before_level0, ==, 0);
  g_assert_cmphex (tile_pixel (pyramid, 2, 0, 0), !=, 0xffff00ff);
  g_assert_cmpint (channel_diff (tile_pixel (pyramid, 2, 0, 0), tile_pixel (pyramid, 0, 1, 1)), <=, 4);
}

/* A reduced image whose compressed data is garbage is ignored too. */
static void
test_tiff_overview_damaged (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (2048, 1536, FALSE, TRUE);
  static const int sizes[] = { 512, 384 };
  g_autofree char *path = g_build_filename (f->dir, "damaged.tif", NULL);
  g_autoptr(KpImagePyramid) pyramid = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *garbage = NULL;
  toff_t *offsets = NULL, *counts = NULL;
  guint64 offset, count;
  OrderData od = { 0 };
  TIFF *tif;
  FILE *fp;

  (void)data;
  write_tiff_with_overviews (path, pixbuf, sizes, 1, FALSE);
  tif = TIFFOpen (path, "r");
  g_assert_nonnull (tif);
  g_assert_true (TIFFSetDirectory (tif, 1));
  g_assert_true (TIFFGetField (tif, TIFFTAG_TILEOFFSETS, &offsets));
  g_assert_true (TIFFGetField (tif, TIFFTAG_TILEBYTECOUNTS, &counts));
  offset = offsets[0];
  count = counts[0];
  TIFFClose (tif);
  garbage = g_malloc (count);
  memset (garbage, 0x5a, count);
  fp = fopen (path, "r+b");
  g_assert_nonnull (fp);
  g_assert_cmpint (fseek (fp, (long)offset, SEEK_SET), ==, 0);
  g_assert_cmpuint (fwrite (garbage, 1, count, fp), ==, count);
  fclose (fp);

  pyramid = kp_image_pyramid_open (path, f->cache, TILE, NULL, &error);
  g_assert_no_error (error);
  build_ordered (pyramid, &od);
  g_assert_cmpint (od.first_level, ==, 0);
  g_assert_cmphex (tile_pixel (pyramid, 2, 0, 0), !=, 0xffff00ff);
  g_assert_cmpint (channel_diff (tile_pixel (pyramid, 2, 0, 0), tile_pixel (pyramid, 0, 1, 1)), <=, 4);
}

/* Writes pixbuf (RGB) as a TIFF of strips of band rows, or of band × band
 * tiles. */
static void
write_tiff_banded (const char *path,
                   GdkPixbuf  *pixbuf,
                   gboolean    tiled,
                   int         band)
{
  TIFF *tif = TIFFOpen (path, "w");
  int w = gdk_pixbuf_get_width (pixbuf);
  int h = gdk_pixbuf_get_height (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  const guint8 *pixels = gdk_pixbuf_read_pixels (pixbuf);

  g_assert_nonnull (tif);
  if (tiled)
    {
      write_tiff_tiled_dir_sized (tif, pixbuf, 0, band);
      TIFFClose (tif);
      return;
    }
  TIFFSetField (tif, TIFFTAG_IMAGEWIDTH, w);
  TIFFSetField (tif, TIFFTAG_IMAGELENGTH, h);
  TIFFSetField (tif, TIFFTAG_BITSPERSAMPLE, 8);
  TIFFSetField (tif, TIFFTAG_SAMPLESPERPIXEL, 3);
  TIFFSetField (tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
  TIFFSetField (tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
  TIFFSetField (tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField (tif, TIFFTAG_ROWSPERSTRIP, band);
  for (int y = 0; y < h; y++)
    g_assert_cmpint (TIFFWriteScanline (tif, (void *)(pixels + (gsize)y * stride), y, 0), ==, 1);
  TIFFClose (tif);
}

typedef struct
{
  KpImagePyramid *pyramid;
  int             first_level;
  int             first_ty;
  int             level0_rows;
  int             coarse_before_level0;
  GBytes         *first_tile;
} SampleData;

static void
sample_progress_cb (KpImagePyramid *pyramid,
                    int             level,
                    int             tile_row,
                    gpointer        user_data)
{
  SampleData *sd = user_data;

  if (sd->first_level < 0)
    {
      int w, h;

      sd->first_level = level;
      sd->first_ty = tile_row;
      /* The tile as published by the first view. */
      sd->first_tile = kp_image_pyramid_read_tile (pyramid, level, 0, tile_row, &w, &h, NULL);
    }
  if (level == 0)
    sd->level0_rows++;
  else if (sd->level0_rows == 0)
    sd->coarse_before_level0++;
}

/* A partial tile: its first rows as in the final tile (within
 * tolerance), then rows of zero only. Returns the decoded rows. */
static int
partial_rows (GBytes *partial,
              int     w,
              int     h,
              GBytes *final,
              int     tolerance)
{
  const guint8 *pa = g_bytes_get_data (partial, NULL);
  const guint8 *pb = g_bytes_get_data (final, NULL);
  gsize stride = (gsize)w * 4;
  int decoded = 0;

  g_assert_cmpuint (g_bytes_get_size (partial), ==, stride * h);
  g_assert_cmpuint (g_bytes_get_size (final), ==, stride * h);
  /* A decoded row of these opaque pictures has no zero alpha. */
  while (decoded < h && pa[decoded * stride + 3] != 0)
    decoded++;
  for (int y = 0; y < h; y++)
    for (gsize i = 0; i < stride; i++)
      {
        int a = pa[y * stride + i];

        if (y < decoded)
          g_assert_cmpint (ABS (a - (int)pb[y * stride + i]), <=, tolerance);
        else
          g_assert_cmpint (a, ==, 0);
      }

  return decoded;
}

/* A strip or tiled TIFF without reduced images: a first view from every
 * 16th strip (or row of tiles), then the full build replaces it with the
 * exact pyramid, the same as a file too coarsely banded to sample. */
static void
test_tiff_sampled (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (2048, 1536, FALSE, FALSE);

  (void)data;
  for (int tiled = 0; tiled < 2; tiled++)
    {
      g_autofree char *name = g_strdup_printf ("sampled%d.tif", tiled);
      g_autofree char *path = g_build_filename (f->dir, name, NULL);
      g_autofree char *plain_name = g_strdup_printf ("plain%d.tif", tiled);
      g_autofree char *plain_path = g_build_filename (f->dir, plain_name, NULL);
      g_autoptr(KpImagePyramid) pyramid = NULL;
      g_autoptr(KpImagePyramid) plain = NULL;
      g_autoptr(GBytes) final = NULL;
      g_autoptr(GError) error = NULL;
      SampleData sd = { NULL, -1, -1, 0, 0, NULL };
      int n_levels, w, h;

      /* 96 bands of 16 rows; the plain one has 3 of 512, too few. */
      write_tiff_banded (path, pixbuf, tiled, 16);
      write_tiff_banded (plain_path, pixbuf, tiled, 512);
      pyramid = kp_image_pyramid_open (path, f->cache, TILE, NULL, &error);
      g_assert_no_error (error);
      sd.pyramid = pyramid;
      g_assert_true (kp_image_pyramid_build (pyramid, NULL, sample_progress_cb, &sd, &error));
      g_assert_no_error (error);
      g_assert_true (kp_image_pyramid_is_complete (pyramid));

      /* First a coarse level (1024 × 768), before any full-size row. */
      g_assert_cmpint (sd.first_level, ==, 1);
      g_assert_cmpint (sd.coarse_before_level0, >=, (768 + TILE - 1) / TILE);
      g_assert_cmpint (sd.level0_rows, ==, (1536 + TILE - 1) / TILE);
      /* That first view was an approximation, since replaced. */
      g_assert_nonnull (sd.first_tile);
      final = kp_image_pyramid_read_tile (pyramid, 1, 0, sd.first_ty, &w, &h, &error);
      g_assert_no_error (error);
      g_assert_false (g_bytes_equal (sd.first_tile, final));
      g_bytes_unref (sd.first_tile);

      /* Every tile of every level as the old path makes it. */
      plain = open_and_build (f, plain_path);
      n_levels = kp_image_pyramid_get_n_levels (pyramid);
      g_assert_cmpint (n_levels, ==, kp_image_pyramid_get_n_levels (plain));
      for (int level = 0; level < n_levels; level++)
        {
          int columns, rows;

          kp_image_pyramid_get_grid (pyramid, level, &columns, &rows);
          for (int ty = 0; ty < rows; ty++)
            for (int tx = 0; tx < columns; tx++)
              {
                g_autoptr(GBytes) a = kp_image_pyramid_read_tile (pyramid, level, tx, ty, &w, &h, &error);
                g_autoptr(GBytes) b = NULL;
                const guint8 *pa, *pb;
                gsize size;

                g_assert_no_error (error);
                b = kp_image_pyramid_read_tile (plain, level, tx, ty, &w, &h, &error);
                g_assert_no_error (error);
                size = g_bytes_get_size (a);
                g_assert_cmpuint (size, ==, g_bytes_get_size (b));
                pa = g_bytes_get_data (a, NULL);
                pb = g_bytes_get_data (b, NULL);
                for (gsize i = 0; i < size; i++)
                  g_assert_cmpint (ABS ((int)pa[i] - (int)pb[i]), <=, 1);
              }
        }
    }
}

/* A damaged strip ends the first view: the full decode then fails on it
 * as before, and every tile written is exact, none an approximation. */
static void
test_tiff_sampled_damaged (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (2048, 1536, FALSE, FALSE);
  g_autofree char *path = g_build_filename (f->dir, "damaged.tif", NULL);
  g_autofree char *plain_path = g_build_filename (f->dir, "plain.tif", NULL);
  g_autoptr(KpImagePyramid) pyramid = NULL;
  g_autoptr(KpImagePyramid) plain = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *garbage = NULL;
  toff_t *offsets = NULL, *counts = NULL;
  guint64 offset, count;
  int n_tiles = 0;
  TIFF *tif;
  FILE *fp;

  (void)data;
  write_tiff_banded (path, pixbuf, FALSE, 16);
  write_tiff_banded (plain_path, pixbuf, FALSE, 512);
  /* Strip 16 (rows 256 to 271) is one the first view decodes. */
  tif = TIFFOpen (path, "r");
  g_assert_nonnull (tif);
  g_assert_true (TIFFGetField (tif, TIFFTAG_STRIPOFFSETS, &offsets));
  g_assert_true (TIFFGetField (tif, TIFFTAG_STRIPBYTECOUNTS, &counts));
  offset = offsets[16];
  count = counts[16];
  TIFFClose (tif);
  garbage = g_malloc (count);
  memset (garbage, 0x5a, count);
  fp = fopen (path, "r+b");
  g_assert_nonnull (fp);
  g_assert_cmpint (fseek (fp, (long)offset, SEEK_SET), ==, 0);
  g_assert_cmpuint (fwrite (garbage, 1, count, fp), ==, count);
  fclose (fp);

  pyramid = kp_image_pyramid_open (path, f->cache, TILE, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (kp_image_pyramid_build (pyramid, NULL, NULL, NULL, &error));
  g_assert_nonnull (error);
  g_assert_false (kp_image_pyramid_is_complete (pyramid));

  plain = open_and_build (f, plain_path);
  for (int level = 0; level < kp_image_pyramid_get_n_levels (pyramid); level++)
    {
      int columns, rows, w, h;

      kp_image_pyramid_get_grid (pyramid, level, &columns, &rows);
      for (int ty = 0; ty < rows; ty++)
        for (int tx = 0; tx < columns; tx++)
          {
            g_autoptr(GBytes) a = NULL;
            g_autoptr(GBytes) b = NULL;
            const guint8 *pa, *pb;
            gsize size;

            if (!kp_image_pyramid_has_tile (pyramid, level, tx, ty))
              continue;
            a = kp_image_pyramid_read_tile (pyramid, level, tx, ty, &w, &h, NULL);
            b = kp_image_pyramid_read_tile (plain, level, tx, ty, &w, &h, NULL);
            g_assert_nonnull (a);
            g_assert_nonnull (b);
            size = g_bytes_get_size (a);
            g_assert_cmpuint (size, ==, g_bytes_get_size (b));
            if (kp_image_pyramid_get_tile_state (pyramid, level, tx, ty, NULL) ==
                KP_IMAGE_PYRAMID_TILE_PARTIAL)
              {
                /* The band the damage cut: its decoded rows, then zero. */
                g_assert_cmpint (partial_rows (a, w, h, b, 1), <, h);
                continue;
              }
            n_tiles++;
            pa = g_bytes_get_data (a, NULL);
            pb = g_bytes_get_data (b, NULL);
            for (gsize i = 0; i < size; i++)
              g_assert_cmpint (ABS ((int)pa[i] - (int)pb[i]), <=, 1);
          }
    }
  /* The rows above the damage were decoded and kept. */
  g_assert_cmpint (n_tiles, >=, 4 * 32);
}

/* Interlaced PNG */

static void
write_png (const char *path,
           GdkPixbuf  *pixbuf,
           gboolean    interlaced)
{
  FILE *fp = g_fopen (path, "wb");
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct (png);
  int w = gdk_pixbuf_get_width (pixbuf);
  int h = gdk_pixbuf_get_height (pixbuf);
  int n = gdk_pixbuf_get_n_channels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  g_autofree png_bytep *rows = g_new (png_bytep, h);

  g_assert_nonnull (fp);
  g_assert_nonnull (info);
  png_init_io (png, fp);
  png_set_IHDR (png, info, w, h, 8, n == 4 ? PNG_COLOR_TYPE_RGBA : PNG_COLOR_TYPE_RGB,
                interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level (png, 1);
  png_write_info (png, info);
  for (int y = 0; y < h; y++)
    rows[y] = pixels + (gsize)y * stride;
  /* libpng writes the seven passes itself from the whole image. */
  png_write_image (png, rows);
  png_write_end (png, NULL);
  png_destroy_write_struct (&png, &info);
  g_assert_cmpint (fclose (fp), ==, 0);
}

static guint32
expected_pixel (GdkPixbuf *pixbuf,
                int        x,
                int        y)
{
  int n = gdk_pixbuf_get_n_channels (pixbuf);
  const guint8 *p = gdk_pixbuf_read_pixels (pixbuf) + (gsize)y * gdk_pixbuf_get_rowstride (pixbuf) + x * n;
  guint a = n == 4 ? p[3] : 255;
  guint c[3];

  for (int i = 0; i < 3; i++)
    {
      guint t = p[i] * a + 0x80;

      c[i] = a == 255 ? p[i] : (t + (t >> 8)) >> 8;
    }
  return (a << 24) | (c[0] << 16) | (c[1] << 8) | c[2];
}

typedef struct
{
  int     first_level;
  int     coarse_before_level0;
  int     level0_rows;
  gboolean coarse_ready_at_level0;
  GBytes *first_tile;     /* level 3, tile (0, 0), as the first view made it */
} InterlaceData;

static void
interlace_progress_cb (KpImagePyramid *pyramid,
                       int             level,
                       int             tile_row,
                       gpointer        user_data)
{
  InterlaceData *id = user_data;

  if (id->first_level < 0)
    id->first_level = level;
  if (level == 3 && tile_row == 0 && id->first_tile == NULL)
    id->first_tile = kp_image_pyramid_read_tile (pyramid, 3, 0, 0, NULL, NULL, NULL);
  if (level == 0)
    {
      if (id->level0_rows == 0)
        {
          /* The first full-size band: the whole first view is there. */
          id->coarse_ready_at_level0 = TRUE;
          for (int l = 3; l < kp_image_pyramid_get_n_levels (pyramid); l++)
            {
              int columns, rows;

              kp_image_pyramid_get_grid (pyramid, l, &columns, &rows);
              for (int ty = 0; ty < rows; ty++)
                for (int tx = 0; tx < columns; tx++)
                  if (!kp_image_pyramid_has_tile (pyramid, l, tx, ty))
                    id->coarse_ready_at_level0 = FALSE;
            }
        }
      id->level0_rows++;
    }
  else if (id->level0_rows == 0)
    id->coarse_before_level0++;
}

/* Adam7 PNGs (of any size: the path does not depend on it, unlike the
 * whole-image decode that refused those above 512 MB) give the same
 * pyramid as the same image stored plainly, after a first view made of
 * their first pass. */
static void
test_png_interlaced (Fixture       *f,
                     gconstpointer  data)
{
  static const struct { int w, h; gboolean alpha; } cases[] = {
    { 2000, 1400, FALSE },
    { 1001, 777, TRUE },
    { 200, 150, FALSE },    /* 3 levels: no first view */
  };

  (void)data;
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (cases[c].w, cases[c].h, cases[c].alpha, FALSE);
      g_autofree char *name = g_strdup_printf ("adam7-%u.png", c);
      g_autofree char *path = g_build_filename (f->dir, name, NULL);
      g_autofree char *plain_name = g_strdup_printf ("plain-%u.png", c);
      g_autofree char *plain_path = g_build_filename (f->dir, plain_name, NULL);
      g_autoptr(KpImagePyramid) pyramid = NULL;
      g_autoptr(KpImagePyramid) plain = NULL;
      g_autoptr(GError) error = NULL;
      InterlaceData id = { -1, 0, 0, FALSE, NULL };
      int n_levels, expected_coarse = 0;

      write_png (path, pixbuf, TRUE);
      write_png (plain_path, pixbuf, FALSE);
      pyramid = kp_image_pyramid_open (path, f->cache, TILE, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (kp_image_pyramid_build (pyramid, NULL, interlace_progress_cb, &id, &error));
      g_assert_no_error (error);
      g_assert_true (kp_image_pyramid_is_complete (pyramid));
      n_levels = kp_image_pyramid_get_n_levels (pyramid);

      if (n_levels >= 4)
        {
          int tw, th;
          const guint8 *first;

          /* The coarse levels came first, all of them before any band
           * of level 0. */
          g_assert_cmpint (id.first_level, ==, 3);
          for (int l = 3; l < n_levels; l++)
            {
              int rows;

              kp_image_pyramid_get_grid (pyramid, l, NULL, &rows);
              expected_coarse += rows;
            }
          g_assert_cmpint (id.coarse_before_level0, ==, expected_coarse);
          g_assert_true (id.coarse_ready_at_level0);

          /* The first view is the first pass: every 8th pixel of every
           * 8th row. */
          g_assert_nonnull (id.first_tile);
          kp_image_pyramid_get_level_size (pyramid, 3, &tw, &th);
          tw = MIN (tw, TILE);
          th = MIN (th, TILE);
          g_assert_cmpuint (g_bytes_get_size (id.first_tile), ==, (gsize)tw * th * 4);
          first = g_bytes_get_data (id.first_tile, NULL);
          for (int y = 0; y < th; y++)
            for (int x = 0; x < tw; x++)
              {
                guint32 v;

                memcpy (&v, first + ((gsize)y * tw + x) * 4, 4);
                g_assert_cmphex (v, ==, expected_pixel (pixbuf, 8 * x, 8 * y));
              }
        }
      else
        {
          g_assert_cmpint (id.first_level, ==, 0);
          g_assert_null (id.first_tile);
        }

      /* Then every tile of every level exactly as from the plain file. */
      plain = open_and_build (f, plain_path);
      g_assert_cmpint (n_levels, ==, kp_image_pyramid_get_n_levels (plain));
      for (int level = 0; level < n_levels; level++)
        {
          int columns, rows;

          kp_image_pyramid_get_grid (pyramid, level, &columns, &rows);
          for (int ty = 0; ty < rows; ty++)
            for (int tx = 0; tx < columns; tx++)
              {
                g_autoptr(GBytes) a = kp_image_pyramid_read_tile (pyramid, level, tx, ty, NULL, NULL, &error);
                g_autoptr(GBytes) b = NULL;

                g_assert_no_error (error);
                b = kp_image_pyramid_read_tile (plain, level, tx, ty, NULL, NULL, &error);
                g_assert_no_error (error);
                g_assert_true (g_bytes_equal (a, b));
                g_assert_cmpint (kp_image_pyramid_get_tile_state (pyramid, level, tx, ty, NULL), ==,
                                 KP_IMAGE_PYRAMID_TILE_DONE);
              }
        }
      if (n_levels >= 4)
        {
          g_autoptr(GBytes) final = kp_image_pyramid_read_tile (pyramid, 3, 0, 0, NULL, NULL, &error);

          /* The point-sampled first view was replaced by the means. */
          g_assert_false (g_bytes_equal (final, id.first_tile));
        }
      g_clear_pointer (&id.first_tile, g_bytes_unref);
    }
}

/* Only the level folders and their tiles: no temporary file. */
static void
assert_only_tiles (const char *cache_path)
{
  g_autoptr(GDir) dir = g_dir_open (cache_path, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *level_path = g_build_filename (cache_path, name, NULL);
      g_autoptr(GDir) level_dir = NULL;
      const char *tile;

      g_assert_true (g_ascii_isdigit (name[0]));
      level_dir = g_dir_open (level_path, 0, NULL);
      g_assert_nonnull (level_dir);
      while ((tile = g_dir_read_name (level_dir)) != NULL)
        {
          int tx, ty, end = 0;

          g_assert_cmpint (sscanf (tile, "%d_%d%n", &tx, &ty, &end), ==, 2);
          g_assert_cmpint (tile[end], ==, '\0');
        }
    }
}

static void
test_png_interlaced_truncated (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (1001, 777, FALSE, FALSE);
  g_autofree char *path = g_build_filename (f->dir, "cut-adam7.png", NULL);
  g_autoptr(KpImagePyramid) pyramid = NULL;
  g_autoptr(GError) error = NULL;
  int columns, rows;

  (void)data;
  write_png (path, pixbuf, TRUE);
  /* Cut in the middle of the passes that fill the even rows. */
  truncate_file (path, 0.3);
  pyramid = kp_image_pyramid_open (path, f->cache, TILE, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (kp_image_pyramid_build (pyramid, NULL, NULL, NULL, &error));
  g_assert_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_CORRUPT);
  g_assert_false (kp_image_pyramid_is_complete (pyramid));

  /* The first view, from the first pass, stays; no full-size tile was
   * made, and the even rows' file is gone. */
  for (int level = 0; level < kp_image_pyramid_get_n_levels (pyramid); level++)
    {
      kp_image_pyramid_get_grid (pyramid, level, &columns, &rows);
      for (int ty = 0; ty < rows; ty++)
        for (int tx = 0; tx < columns; tx++)
          g_assert_cmpint (kp_image_pyramid_has_tile (pyramid, level, tx, ty), ==, level >= 3);
    }
  assert_only_tiles (kp_image_pyramid_get_cache_path (pyramid));
}

/* A full disk while the even rows are kept: a clear error, nothing left
 * behind. The file size limit stands in for the full disk. */
static void
test_png_interlaced_write_error (Fixture       *f,
                                 gconstpointer  data)
{
  (void)data;
  if (g_test_subprocess ())
    {
      g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (3000, 2000, FALSE, TRUE);
      g_autofree char *path = g_build_filename (f->dir, "full-adam7.png", NULL);
      g_autoptr(KpImagePyramid) pyramid = NULL;
      g_autoptr(GError) error = NULL;
      struct rlimit limit = { 4 * 1024 * 1024, 4 * 1024 * 1024 };

      write_png (path, pixbuf, TRUE);
      pyramid = kp_image_pyramid_open (path, f->cache, TILE, NULL, &error);
      g_assert_no_error (error);
      /* The even rows take 12 MB, the first pass's a quarter of that;
       * a tile far less than the limit. */
      signal (SIGXFSZ, SIG_IGN);
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
      g_assert_false (kp_image_pyramid_build (pyramid, NULL, NULL, NULL, &error));
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
      g_assert_nonnull (strstr (error->message, "temporary file"));
      g_assert_false (kp_image_pyramid_is_complete (pyramid));
      /* The first view, made before, stays. */
      for (int level = 0; level < kp_image_pyramid_get_n_levels (pyramid); level++)
        {
          int columns, rows;

          kp_image_pyramid_get_grid (pyramid, level, &columns, &rows);
          for (int ty = 0; ty < rows; ty++)
            for (int tx = 0; tx < columns; tx++)
              g_assert_cmpint (kp_image_pyramid_has_tile (pyramid, level, tx, ty), ==, level >= 3);
        }
      assert_only_tiles (kp_image_pyramid_get_cache_path (pyramid));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

static void
cancel_at_first_cb (KpImagePyramid *pyramid,
                    int             level,
                    int             tile_row,
                    gpointer        user_data)
{
  (void)pyramid;
  (void)level;
  (void)tile_row;
  g_cancellable_cancel (user_data);
}

static void
test_png_interlaced_cancel (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (1001, 777, FALSE, FALSE);
  g_autofree char *path = g_build_filename (f->dir, "cancel-adam7.png", NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(KpImagePyramid) pyramid = NULL;
  g_autoptr(GError) error = NULL;

  (void)data;
  write_png (path, pixbuf, TRUE);
  pyramid = kp_image_pyramid_open (path, f->cache, TILE, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (kp_image_pyramid_build (pyramid, cancellable, cancel_at_first_cb, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (kp_image_pyramid_is_complete (pyramid));
  g_assert_false (kp_image_pyramid_has_tile (pyramid, 0, 0, 0));
  assert_only_tiles (kp_image_pyramid_get_cache_path (pyramid));
}

/* Progressive coarse tiles */

typedef struct
{
  int     level;
  int     ty;
  guint   version;
  GBytes *tile;
  int     n_partial;
  int     rows[16];
} PartialData;

static void
partial_progress_cb (KpImagePyramid *pyramid,
                     int             level,
                     int             tile_row,
                     gpointer        user_data)
{
  PartialData *pd = user_data;

  count_progress_cb (pyramid, level, tile_row, pd->rows);
}

static void
partial_cb (KpImagePyramid *pyramid,
            int             level,
            int             tile_row,
            gpointer        user_data)
{
  PartialData *pd = user_data;
  KpImagePyramidTileState state;
  guint version;

  g_assert_cmpint (level, >=, kp_image_pyramid_get_overview_level (pyramid));
  state = kp_image_pyramid_get_tile_state (pyramid, level, 0, tile_row, &version);
  g_assert_cmpint (state, ==, KP_IMAGE_PYRAMID_TILE_PARTIAL);
  g_assert_true (kp_image_pyramid_has_tile (pyramid, level, 0, tile_row));
  pd->n_partial++;
  /* The first partial band of the overview past its first tile row. */
  if (pd->tile == NULL && level == kp_image_pyramid_get_overview_level (pyramid) && tile_row > 0)
    {
      g_autoptr(GError) error = NULL;

      pd->level = level;
      pd->ty = tile_row;
      pd->version = version;
      pd->tile = kp_image_pyramid_read_tile (pyramid, level, 0, tile_row, NULL, NULL, &error);
      g_assert_no_error (error);
    }
}

static void
test_png_partial (Fixture       *f,
                  gconstpointer  data)
{
  /* Longer than 2048: level 1 is the overview. */
  g_autoptr(GdkPixbuf) pixbuf = make_pixbuf (2400, 1000, FALSE, FALSE);
  g_autofree char *path = g_build_filename (f->dir, "partial.png", NULL);
  g_autoptr(KpImagePyramid) pyramid = NULL;
  g_autoptr(GBytes) final = NULL;
  g_autoptr(GError) error = NULL;
  PartialData pd = { 0 };
  int w, h, decoded;
  guint version;

  (void)data;
  write_png (path, pixbuf, FALSE);
  pyramid = kp_image_pyramid_open (path, f->cache, TILE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (kp_image_pyramid_get_overview_level (pyramid), ==, 1);
  /* The complete bands still arrive once each, in order. */
  kp_image_pyramid_build_full (pyramid, NULL, partial_progress_cb, partial_cb, &pd, &error);
  g_assert_no_error (error);
  g_assert_true (kp_image_pyramid_is_complete (pyramid));
  g_assert_cmpint (pd.rows[0], ==, (1000 + TILE - 1) / TILE);
  g_assert_nonnull (pd.tile);
  g_assert_cmpint (pd.n_partial, >=, 2);

  /* A partial tile: the rows decoded by then exactly as in the final
   * tile, the others transparent. */
  final = kp_image_pyramid_read_tile (pyramid, pd.level, 0, pd.ty, &w, &h, &error);
  g_assert_no_error (error);
  decoded = partial_rows (pd.tile, w, h, final, 0);
  g_assert_cmpint (decoded, >, 0);
  g_assert_cmpint (decoded, <, h);
  g_assert_cmpint (kp_image_pyramid_get_tile_state (pyramid, pd.level, 0, pd.ty, &version), ==,
                   KP_IMAGE_PYRAMID_TILE_DONE);
  g_assert_cmpuint (version, >, pd.version);
  g_bytes_unref (pd.tile);
}

int
main (int   argc,
      char *argv[])
{
  system_data_dirs = g_strdup (g_getenv ("XDG_DATA_DIRS"));
  if (system_data_dirs == NULL)
    system_data_dirs = g_strdup ("/usr/local/share:/usr/share");
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) \
  g_test_add ("/kempelen/media/image-pyramid/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("png-levels", test_png_levels);
  ADD ("png-alpha", test_png_alpha);
  ADD ("progress-and-background", test_progress_and_background);
  ADD ("bmp-pixbuf", test_bmp_pixbuf);
  ADD ("jpeg-levels", test_jpeg_levels);
  ADD ("tiff-levels", test_tiff_levels);
  ADD ("tiff-overview", test_tiff_overview);
  ADD ("tiff-overview-fallback", test_tiff_overview_fallback);
  ADD ("tiff-overview-damaged", test_tiff_overview_damaged);
  ADD ("tiff-sampled", test_tiff_sampled);
  ADD ("tiff-sampled-damaged", test_tiff_sampled_damaged);
  ADD ("corrupt", test_corrupt);
  ADD ("truncated", test_truncated);
  ADD ("cancel", test_cancel);
  ADD ("cache-reuse", test_cache_reuse);
  ADD ("trim-cache", test_trim_cache);
  ADD ("png-interlaced", test_png_interlaced);
  ADD ("png-interlaced-truncated", test_png_interlaced_truncated);
  ADD ("png-interlaced-write-error", test_png_interlaced_write_error);
  ADD ("png-interlaced-cancel", test_png_interlaced_cancel);
  ADD ("png-partial", test_png_partial);

  return g_test_run ();
}
