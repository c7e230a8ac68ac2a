/* bench-image.c: gigapixel images through KpImageLayer in a real window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Writes a 30,000 x 30,000 JPEG and 20,000 x 20,000 PNG (plain and
 * interlaced) and TIFF files in strips (kept in $TMPDIR/kp-bench-image between runs; generating them
 * never holds a whole image), then for each, with an empty tile cache:
 *   image_<size>[_<format>]_first_view_ms  kp_image_layer_new_async to the
 *       first frame showing the whole image at the fit level, sharp
 *   image_<...>_first_pixels_ms  kp_image_layer_new_async to the first
 *       frame in which the layer drew any pixel of the image (a partial
 *       or coarse tile: a plain PNG appears top-down as it decodes)
 *   image_<...>_build_s      until every tile of every level is on disk
 *   image_<...>_pan_view_ms  mean time for a 1920 x 1080 view at 100 %
 *       to become sharp, panning over the whole image
 *   image_<...>_peak_rss_mb  peak resident memory (VmHWM, reset before
 *       each image) while opening, building and panning, with the tile
 *       cap at 256 MiB
 *   image_<...>_tile_memory_peak_mb  the layer's own decoded tiles at most
 *   image_<...>_first_view_cached_ms  first view when reopened from the
 *       disk cache
 * KP_BENCH_IMAGE_QUICK=1 uses 12,000 px images, for a quick look;
 * The plain TIFF has no reduced images: its first view comes from every
 * 16th strip, before the full decode replaces it with the exact levels.
 * A fourth, image_<size>_tiff_pyramid, is a tiled TIFF carrying reduced
 * images (as slide scanners write them) that the first view comes from.
 * A fifth, image_<size>_png_interlaced, is the PNG stored interlaced
 * (Adam7): its first view comes from the first of its seven passes.
 * KP_BENCH_IMAGE_FORMATS=jpeg (or png, pnginterlaced, tiff, tiffpyramid,
 * a list split by commas or spaces) runs only those.
 */

#include "config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <jpeglib.h>
#include <png.h>
#include <tiffio.h>

#include "kp-image-layer.h"

#define VIEW_WIDTH  1920
#define VIEW_HEIGHT 1080

/* The drawing widget: a KpImageLayer through a view, like the canvas. */

#define BENCH_TYPE_VIEW (bench_view_get_type ())
G_DECLARE_FINAL_TYPE (BenchView, bench_view, BENCH, VIEW, GtkWidget)

struct _BenchView
{
  GtkWidget     parent_instance;
  KpImageLayer *layer;
  KpView        view;
  gboolean      fit;
  gboolean      drawn;       /* a frame was drawn since the last change */
  guint         n_missing;   /* of the last frame */
  gint64        first_pixels_time;  /* of the first frame with a tile, or 0 */
};

G_DEFINE_FINAL_TYPE (BenchView, bench_view, GTK_TYPE_WIDGET)

static void
bench_view_snapshot (GtkWidget   *widget,
                     GtkSnapshot *snapshot)
{
  BenchView *self = BENCH_VIEW (widget);
  double width = gtk_widget_get_width (widget);
  double height = gtk_widget_get_height (widget);

  if (self->layer == NULL)
    return;
  if (self->fit)
    self->view = kp_view_fit (kp_image_layer_get_width (self->layer),
                              kp_image_layer_get_height (self->layer), width, height, 1.0);
  kp_image_layer_snapshot (self->layer, snapshot, &self->view, width, height,
                           gtk_widget_get_scale_factor (widget), FALSE);
  self->n_missing = kp_image_layer_get_n_missing (self->layer);
  if (self->first_pixels_time == 0 && kp_image_layer_get_n_drawn (self->layer) > 0)
    self->first_pixels_time = g_get_monotonic_time ();
  self->drawn = TRUE;
}

static void
bench_view_dispose (GObject *object)
{
  BenchView *self = BENCH_VIEW (object);

  if (self->layer != NULL)
    g_signal_handlers_disconnect_by_data (self->layer, self);
  g_clear_object (&self->layer);
  G_OBJECT_CLASS (bench_view_parent_class)->dispose (object);
}

static void
bench_view_class_init (BenchViewClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = bench_view_dispose;
  GTK_WIDGET_CLASS (klass)->snapshot = bench_view_snapshot;
}

static void
bench_view_init (BenchView *self)
{
  self->fit = TRUE;
}

static void
invalidated_cb (KpImageLayer *layer,
                BenchView    *self)
{
  (void)layer;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
bench_view_set_layer (BenchView    *self,
                      KpImageLayer *layer)
{
  if (self->layer != NULL)
    g_signal_handlers_disconnect_by_data (self->layer, self);
  g_set_object (&self->layer, layer);
  if (layer != NULL)
    g_signal_connect (layer, "invalidated", G_CALLBACK (invalidated_cb), self);
  self->drawn = FALSE;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* Fixtures, written in strips */

static void
fill_row (guint8 *row,
          int     width,
          int     height,
          int     y,
          int     channels)
{
  static guint8 wave[600];
  static gboolean wave_ready;
  guint32 seed = (guint32)y * 2654435761u;

  if (!wave_ready)
    {
      for (int i = 0; i < 600; i++)
        wave[i] = (guint8)(128 + 90 * sin (i * 2 * G_PI / 600));
      wave_ready = TRUE;
    }
  for (int x = 0; x < width; x++)
    {
      guint8 *p = row + (gsize)x * channels;

      seed = seed * 1664525 + 1013904223;
      p[0] = (guint8)((gint64)x * 255 / width + ((seed >> 28) & 7));
      p[1] = (guint8)((gint64)y * 255 / height + ((seed >> 24) & 7));
      p[2] = (guint8)(wave[(x + y) % 600] ^ (((x >> 9) + (y >> 9)) & 1 ? 0x40 : 0));
    }
}

static void
write_jpeg (const char *path,
            int         size)
{
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr jerr;
  g_autofree char *tmp = g_strconcat (path, ".part", NULL);
  g_autofree guint8 *row = g_malloc ((gsize)size * 3);
  FILE *fp = g_fopen (tmp, "wb");

  g_assert_nonnull (fp);
  cinfo.err = jpeg_std_error (&jerr);
  jpeg_create_compress (&cinfo);
  jpeg_stdio_dest (&cinfo, fp);
  cinfo.image_width = size;
  cinfo.image_height = size;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults (&cinfo);
  jpeg_set_quality (&cinfo, 85, TRUE);
  cinfo.dct_method = JDCT_IFAST;
  jpeg_start_compress (&cinfo, TRUE);
  while (cinfo.next_scanline < cinfo.image_height)
    {
      JSAMPROW pointer = row;

      fill_row (row, size, size, cinfo.next_scanline, 3);
      jpeg_write_scanlines (&cinfo, &pointer, 1);
    }
  jpeg_finish_compress (&cinfo);
  jpeg_destroy_compress (&cinfo);
  fclose (fp);
  g_assert_cmpint (g_rename (tmp, path), ==, 0);
}

/* Interlaced, libpng takes the whole rows once per pass and keeps each
 * pass's pixels: the rows are made again for each pass, never held. */
static void
write_png (const char *path,
           int         size,
           gboolean    interlaced)
{
  g_autofree char *tmp = g_strconcat (path, ".part", NULL);
  g_autofree guint8 *row = g_malloc0 ((gsize)size * 3);
  FILE *fp = g_fopen (tmp, "wb");
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct (png);
  int passes;

  g_assert_nonnull (fp);
  png_init_io (png, fp);
  png_set_IHDR (png, info, size, size, 8, PNG_COLOR_TYPE_RGB,
                interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level (png, 1);
  png_set_filter (png, 0, PNG_FILTER_SUB);
  png_write_info (png, info);
  passes = interlaced ? png_set_interlace_handling (png) : 1;
  for (int pass = 0; pass < passes; pass++)
    for (int y = 0; y < size; y++)
      {
        /* Rows outside the pass are skipped: their contents do not matter. */
        if (!interlaced || PNG_ROW_IN_INTERLACE_PASS (y, pass))
          fill_row (row, size, size, y, 3);
        png_write_row (png, row);
      }
  png_write_end (png, NULL);
  png_destroy_write_struct (&png, &info);
  fclose (fp);
  g_assert_cmpint (g_rename (tmp, path), ==, 0);
}

static void
write_tiff (const char *path,
            int         size)
{
  g_autofree char *tmp = g_strconcat (path, ".part", NULL);
  g_autofree guint8 *row = g_malloc ((gsize)size * 3);
  TIFF *tif = TIFFOpen (tmp, "w");

  g_assert_nonnull (tif);
  TIFFSetField (tif, TIFFTAG_IMAGEWIDTH, size);
  TIFFSetField (tif, TIFFTAG_IMAGELENGTH, size);
  TIFFSetField (tif, TIFFTAG_BITSPERSAMPLE, 8);
  TIFFSetField (tif, TIFFTAG_SAMPLESPERPIXEL, 3);
  TIFFSetField (tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
  TIFFSetField (tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField (tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
  TIFFSetField (tif, TIFFTAG_ZIPQUALITY, 1);
  TIFFSetField (tif, TIFFTAG_PREDICTOR, PREDICTOR_HORIZONTAL);
  TIFFSetField (tif, TIFFTAG_ROWSPERSTRIP, 32);
  for (int y = 0; y < size; y++)
    {
      fill_row (row, size, size, y, 3);
      g_assert_cmpint (TIFFWriteScanline (tif, row, y, 0), ==, 1);
    }
  TIFFClose (tif);
  g_assert_cmpint (g_rename (tmp, path), ==, 0);
}

/* Like a slide scanner's: 256 px tiles, and reduced images of 1/4, 1/8
 * and 1/16 the size as FILETYPE_REDUCEDIMAGE directories (in strips,
 * point-sampled from the same picture). */
static void
write_tiff_pyramid (const char *path,
                    int         size)
{
  g_autofree char *tmp = g_strconcat (path, ".part", NULL);
  g_autofree guint8 *row = g_malloc ((gsize)size * 3);
  const int tile = 256;
  g_autofree guint8 *band = g_malloc ((gsize)size * tile * 3);
  g_autofree guint8 *buf = g_malloc ((gsize)tile * tile * 3);
  TIFF *tif = TIFFOpen (tmp, "w8");

  g_assert_nonnull (tif);
  TIFFSetField (tif, TIFFTAG_SUBFILETYPE, 0);
  TIFFSetField (tif, TIFFTAG_IMAGEWIDTH, size);
  TIFFSetField (tif, TIFFTAG_IMAGELENGTH, size);
  TIFFSetField (tif, TIFFTAG_BITSPERSAMPLE, 8);
  TIFFSetField (tif, TIFFTAG_SAMPLESPERPIXEL, 3);
  TIFFSetField (tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
  TIFFSetField (tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField (tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
  TIFFSetField (tif, TIFFTAG_ZIPQUALITY, 1);
  TIFFSetField (tif, TIFFTAG_PREDICTOR, PREDICTOR_HORIZONTAL);
  TIFFSetField (tif, TIFFTAG_TILEWIDTH, tile);
  TIFFSetField (tif, TIFFTAG_TILELENGTH, tile);
  for (int y0 = 0; y0 < size; y0 += tile)
    {
      int rows = MIN (tile, size - y0);

      for (int r = 0; r < rows; r++)
        fill_row (band + (gsize)r * size * 3, size, size, y0 + r, 3);
      for (int x0 = 0; x0 < size; x0 += tile)
        {
          memset (buf, 0, (gsize)tile * tile * 3);
          for (int r = 0; r < rows; r++)
            memcpy (buf + (gsize)r * tile * 3, band + ((gsize)r * size + x0) * 3,
                    (gsize)MIN (tile, size - x0) * 3);
          g_assert_cmpint (TIFFWriteTile (tif, buf, x0, y0, 0, 0), >, 0);
        }
    }
  g_assert_true (TIFFWriteDirectory (tif));

  for (int factor = 4; factor <= 16; factor *= 2)
    {
      int small = (size + factor - 1) / factor;
      g_autofree guint8 *line = g_malloc ((gsize)small * 3);

      TIFFSetField (tif, TIFFTAG_SUBFILETYPE, FILETYPE_REDUCEDIMAGE);
      TIFFSetField (tif, TIFFTAG_IMAGEWIDTH, small);
      TIFFSetField (tif, TIFFTAG_IMAGELENGTH, small);
      TIFFSetField (tif, TIFFTAG_BITSPERSAMPLE, 8);
      TIFFSetField (tif, TIFFTAG_SAMPLESPERPIXEL, 3);
      TIFFSetField (tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_RGB);
      TIFFSetField (tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
      TIFFSetField (tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
      TIFFSetField (tif, TIFFTAG_ZIPQUALITY, 1);
      TIFFSetField (tif, TIFFTAG_PREDICTOR, PREDICTOR_HORIZONTAL);
      TIFFSetField (tif, TIFFTAG_ROWSPERSTRIP, 32);
      for (int y = 0; y < small; y++)
        {
          fill_row (row, size, size, y * factor, 3);
          for (int x = 0; x < small; x++)
            memcpy (line + (gsize)x * 3, row + (gsize)x * factor * 3, 3);
          g_assert_cmpint (TIFFWriteScanline (tif, line, y, 0), ==, 1);
        }
      g_assert_true (TIFFWriteDirectory (tif));
    }
  TIFFClose (tif);
  g_assert_cmpint (g_rename (tmp, path), ==, 0);
}

/* Measuring */

static void
reset_peak_rss (void)
{
  FILE *fp = fopen ("/proc/self/clear_refs", "w");

  /* Writing 5 to clear_refs resets VmHWM (Linux 4.0). */
  if (fp != NULL)
    {
      fputs ("5", fp);
      fclose (fp);
    }
}

static double
read_status_mb (const char *field)
{
  g_autofree char *status = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL))
    return -1;
  line = strstr (status, field);
  if (line == NULL)
    return -1;
  return g_ascii_strtod (line + strlen (field) + 1, NULL) / 1024.0;
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

typedef struct
{
  GtkWidget    *window;
  BenchView    *view;
  GAsyncResult *result;
  double        peak_rss;
  double        first_pixels_ms;   /* of the last open_layer () */
} Bench;

static void
new_cb (GObject      *object,
        GAsyncResult *result,
        gpointer      user_data)
{
  Bench *bench = user_data;

  (void)object;
  bench->result = g_object_ref (result);
}

static void
sample_rss (Bench *bench)
{
  bench->peak_rss = MAX (bench->peak_rss, read_status_mb ("VmHWM:"));
}

static gboolean
tick_cb (gpointer data)
{
  (void)data;
  return G_SOURCE_CONTINUE;
}

/* Iterates until a frame was drawn with no tile missing, or timeout_s.
 * Returns whether it got there. */
static gboolean
wait_sharp (Bench  *bench,
            double  timeout_s)
{
  gint64 deadline = g_get_monotonic_time () + (gint64)(timeout_s * G_USEC_PER_SEC);
  /* Wakes the loop up, should nothing else arrive. */
  guint tick = g_timeout_add (100, tick_cb, NULL);
  gboolean sharp = FALSE;

  for (;;)
    {
      if (bench->view->drawn && bench->view->n_missing == 0)
        {
          sharp = TRUE;
          break;
        }
      if (g_get_monotonic_time () > deadline)
        break;
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (tick);

  return sharp;
}

static KpImageLayer *
open_layer (Bench      *bench,
            const char *path,
            const char *cache,
            double     *first_view_ms)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  KpImageLayer *layer;
  gint64 t0;

  bench_view_set_layer (bench->view, NULL);
  bench->view->fit = TRUE;
  bench->view->first_pixels_time = 0;
  g_clear_object (&bench->result);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  t0 = g_get_monotonic_time ();
  kp_image_layer_new_async (file, cache, NULL, new_cb, bench);
  while (bench->result == NULL)
    g_main_context_iteration (NULL, TRUE);
  layer = kp_image_layer_new_finish (bench->result, &error);
  g_assert_no_error (error);
  bench_view_set_layer (bench->view, layer);
  if (!wait_sharp (bench, 120))
    g_printerr ("# the overview did not appear within 120 s\n");
  *first_view_ms = (g_get_monotonic_time () - t0) / 1000.0;
  bench->first_pixels_ms = bench->view->first_pixels_time > 0
                           ? (bench->view->first_pixels_time - t0) / 1000.0 : -1;

  return layer;
}

static void
run_image (Bench      *bench,
           const char *name,
           const char *path,
           const char *cache)
{
  g_autoptr(KpImageLayer) layer = NULL;
  double first_view_ms, cached_ms;
  gint64 t0 = g_get_monotonic_time ();
  double build_s;
  int width, height, n_views = 0, n_blurred = 0;
  gint64 pan_us = 0;

  rm_rf (cache);
  reset_peak_rss ();
  bench->peak_rss = 0;

  layer = open_layer (bench, path, cache, &first_view_ms);
  g_print ("BENCH %s_first_view_ms %.0f ms\n", name, first_view_ms);
  g_print ("BENCH %s_first_pixels_ms %.0f ms\n", name, bench->first_pixels_ms);

  while (kp_image_layer_get_building (layer))
    {
      g_main_context_iteration (NULL, TRUE);
      sample_rss (bench);
    }
  if (kp_image_layer_get_error (layer) != NULL)
    {
      g_print ("# %s: %s\n", name, kp_image_layer_get_error (layer)->message);
      bench_view_set_layer (bench->view, NULL);
      rm_rf (cache);
      return;
    }
  build_s = (g_get_monotonic_time () - t0) / 1e6;
  g_print ("BENCH %s_build_s %.1f s\n", name, build_s);

  /* Pan over the whole image at 100 %, one view after another. */
  width = kp_image_layer_get_width (layer);
  height = kp_image_layer_get_height (layer);
  bench->view->fit = FALSE;
  for (int y = 0; y < height; y += VIEW_HEIGHT)
    for (int i = 0; i < (width + VIEW_WIDTH - 1) / VIEW_WIDTH; i++)
      {
        /* Serpentine, like a person going over the image. */
        int column = (y / VIEW_HEIGHT) % 2 ? (width + VIEW_WIDTH - 1) / VIEW_WIDTH - 1 - i : i;
        gint64 start = g_get_monotonic_time ();

        bench->view->view = (KpView) { 1.0, -column * VIEW_WIDTH, -y };
        bench->view->drawn = FALSE;
        gtk_widget_queue_draw (GTK_WIDGET (bench->view));
        if (!wait_sharp (bench, 10))
          n_blurred++;
        pan_us += g_get_monotonic_time () - start;
        n_views++;
        sample_rss (bench);
      }
  g_print ("BENCH %s_pan_view_ms %.1f ms\n", name, pan_us / 1000.0 / MAX (n_views, 1));
  if (n_blurred > 0)
    g_print ("# %d of %d views were not sharp within 10 s\n", n_blurred, n_views);
  g_print ("BENCH %s_peak_rss_mb %.0f MB\n", name, bench->peak_rss);
  g_print ("BENCH %s_tile_memory_peak_mb %.0f MB\n", name,
           kp_image_layer_get_memory_peak (layer) / 1048576.0);
  g_assert_cmpuint (kp_image_layer_get_memory_peak (layer), <=, kp_image_layer_get_memory_cap (layer));

  bench_view_set_layer (bench->view, NULL);
  g_clear_object (&layer);
  layer = open_layer (bench, path, cache, &cached_ms);
  g_print ("BENCH %s_first_view_cached_ms %.0f ms\n", name, cached_ms);
  bench_view_set_layer (bench->view, NULL);
  while (G_OBJECT (layer)->ref_count > 1)
    g_main_context_iteration (NULL, TRUE);
  g_clear_object (&layer);

  /* Tiles of a 30k image take gigabytes of disk: leave none behind. */
  rm_rf (cache);
}

int
main (int   argc,
      char *argv[])
{
  gboolean quick = g_getenv ("KP_BENCH_IMAGE_QUICK") != NULL;
  const char *formats = g_getenv ("KP_BENCH_IMAGE_FORMATS");
  g_autofree char *dir = g_build_filename (g_get_tmp_dir (), "kp-bench-image", NULL);
  g_autofree char *cache = g_build_filename (dir, "tile-cache", NULL);
  int big = quick ? 12000 : 30000;
  int mid = quick ? 12000 : 20000;
  g_autofree char *jpeg = g_strdup_printf ("%s/%d.jpg", dir, big);
  g_autofree char *png = g_strdup_printf ("%s/%d.png", dir, mid);
  g_autofree char *tiff = g_strdup_printf ("%s/%d.tif", dir, mid);
  g_autofree char *jpeg_name = g_strdup_printf ("image_%dk", big / 1000);
  g_autofree char *png_name = g_strdup_printf ("image_%dk_png", mid / 1000);
  g_autofree char *adam7 = g_strdup_printf ("%s/%d-interlaced.png", dir, mid);
  g_autofree char *adam7_name = g_strdup_printf ("image_%dk_png_interlaced", mid / 1000);
  g_autofree char *tiff_name = g_strdup_printf ("image_%dk_tiff", mid / 1000);
  g_autofree char *pyr = g_strdup_printf ("%s/%d-pyramid.tif", dir, mid);
  g_autofree char *pyr_name = g_strdup_printf ("image_%dk_tiff_pyramid", mid / 1000);
  g_auto(GStrv) wanted = NULL;
  Bench bench = { 0 };

  if (formats == NULL)
    {
      /* One process per image, so each peak memory is its own. */
      static const char *const all[] = { "jpeg", "png", "pnginterlaced", "tiff", "tiffpyramid" };
      int status = 0;

      for (guint i = 0; i < G_N_ELEMENTS (all); i++)
        {
          g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
          g_autoptr(GSubprocess) child = NULL;
          g_autoptr(GError) error = NULL;

          g_subprocess_launcher_setenv (launcher, "KP_BENCH_IMAGE_FORMATS", all[i], TRUE);
          child = g_subprocess_launcher_spawn (launcher, &error, "/proc/self/exe", NULL);
          g_assert_no_error (error);
          g_subprocess_wait (child, NULL, &error);
          g_assert_no_error (error);
          status |= g_subprocess_get_exit_status (child);
        }
      return status;
    }

  wanted = g_strsplit_set (formats, ", ", -1);
#define WANTED(format) g_strv_contains ((const char *const *)wanted, format)
  gtk_init ();
  g_mkdir_with_parents (dir, 0700);

  if (WANTED ("jpeg") && !g_file_test (jpeg, G_FILE_TEST_EXISTS))
    write_jpeg (jpeg, big);
  if (WANTED ("png") && !g_file_test (png, G_FILE_TEST_EXISTS))
    write_png (png, mid, FALSE);
  if (WANTED ("pnginterlaced") && !g_file_test (adam7, G_FILE_TEST_EXISTS))
    write_png (adam7, mid, TRUE);
  if (WANTED ("tiff") && !g_file_test (tiff, G_FILE_TEST_EXISTS))
    write_tiff (tiff, mid);
  if (WANTED ("tiffpyramid") && !g_file_test (pyr, G_FILE_TEST_EXISTS))
    write_tiff_pyramid (pyr, mid);

  bench.window = gtk_window_new ();
  bench.view = g_object_new (BENCH_TYPE_VIEW, NULL);
  gtk_window_set_default_size (GTK_WINDOW (bench.window), VIEW_WIDTH, VIEW_HEIGHT);
  gtk_window_set_child (GTK_WINDOW (bench.window), GTK_WIDGET (bench.view));
  gtk_window_present (GTK_WINDOW (bench.window));
  /* Let the empty window map and draw first. */
  for (int i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  while (gtk_widget_get_width (GTK_WIDGET (bench.view)) == 0)
    g_main_context_iteration (NULL, TRUE);
  if (gtk_widget_get_width (GTK_WIDGET (bench.view)) < VIEW_WIDTH)
    g_print ("# the window is %d px wide, not %d: give Xvfb a larger screen\n",
             gtk_widget_get_width (GTK_WIDGET (bench.view)), VIEW_WIDTH);

  if (WANTED ("jpeg"))
    run_image (&bench, jpeg_name, jpeg, cache);
  if (WANTED ("png"))
    run_image (&bench, png_name, png, cache);
  if (WANTED ("pnginterlaced"))
    run_image (&bench, adam7_name, adam7, cache);
  if (WANTED ("tiff"))
    run_image (&bench, tiff_name, tiff, cache);
  if (WANTED ("tiffpyramid"))
    run_image (&bench, pyr_name, pyr, cache);
#undef WANTED

  g_clear_object (&bench.result);
  gtk_window_destroy (GTK_WINDOW (bench.window));

  return 0;
}
