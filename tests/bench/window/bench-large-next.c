/* bench-large-next.c: the next large image of a folder, prepared ahead
 *
 * A folder of 20,000 x 20,000 non-interlaced PNGs (one picture, made once
 * in $TMPDIR/kp-bench-large, copied with a comment chunk apiece so that
 * each file is distinct media) opened in the real window with an empty
 * tile cache. A PNG is the hardest case: its overview needs the whole
 * zlib stream inflated. Figures:
 *   large_png_cold_first_view_ms  opening the folder, whose first image
 *       nothing prepared, to the first frame showing all of it sharp at
 *       the fit zoom
 *   next_large_png_prepared_ms  win.next-image to that frame for the next
 *       image, whose pyramid the window built while the first was shown
 *   next_large_png_prepare_s   how long preparing the next one took
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "kp-application.h"
#include "kp-window-private.h"
#include "kp-bench-wait.h"

#define SIZE 20000
#define TIMEOUT_S 300

/* Smooth gradients under a little noise: it compresses and decodes as a
 * photograph or an aerial picture would, not as a flat colour. */
static void
write_png (const char *path)
{
  g_autofree char *tmp = g_strconcat (path, ".part", NULL);
  g_autofree guint8 *row = g_malloc ((gsize)SIZE * 3);
  FILE *fp = g_fopen (tmp, "wb");
  png_structp png = png_create_write_struct (PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
  png_infop info = png_create_info_struct (png);
  guint32 seed = 1;

  g_assert_nonnull (fp);
  png_init_io (png, fp);
  png_set_IHDR (png, info, SIZE, SIZE, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level (png, 1);
  png_write_info (png, info);
  for (int y = 0; y < SIZE; y++)
    {
      for (int x = 0; x < SIZE; x++)
        {
          seed = seed * 1103515245 + 12345;
          row[x * 3] = (guint8)(((x / 40) ^ (y / 40)) + ((seed >> 27) & 3));
          row[x * 3 + 1] = (guint8)((x + 2 * y) / 160 + ((seed >> 25) & 3));
          row[x * 3 + 2] = (guint8)(y * 255 / SIZE);
        }
      png_write_row (png, row);
    }
  png_write_end (png, NULL);
  png_destroy_write_struct (&png, &info);
  fclose (fp);
  g_assert_cmpint (g_rename (tmp, path), ==, 0);
}

/* A copy of the PNG at source with a tEXt chunk after its header. */
static void
copy_with_comment (const char *source,
                   const char *path,
                   guint       n)
{
  g_autofree char *text = g_strdup_printf ("Comment%ccopy %u", '\0', n);
  gsize text_len = strlen ("Comment") + 1 + strlen (text + strlen ("Comment") + 1);
  g_autofree guint8 *chunk = g_malloc (12 + text_len);
  g_autofree guint8 *buffer = g_malloc (1 << 20);
  FILE *in = g_fopen (source, "rb");
  FILE *out = g_fopen (path, "wb");
  guint32 crc;
  size_t n_read;

  g_assert_nonnull (in);
  g_assert_nonnull (out);
  /* The signature and IHDR: 8 + 25 bytes. */
  g_assert_cmpuint (fread (buffer, 1, 33, in), ==, 33);
  g_assert_cmpuint (fwrite (buffer, 1, 33, out), ==, 33);
  chunk[0] = text_len >> 24;
  chunk[1] = text_len >> 16;
  chunk[2] = text_len >> 8;
  chunk[3] = text_len;
  memcpy (chunk + 4, "tEXt", 4);
  memcpy (chunk + 8, text, text_len);
  crc = crc32 (crc32 (0, NULL, 0), chunk + 4, 4 + text_len);
  chunk[8 + text_len] = crc >> 24;
  chunk[9 + text_len] = crc >> 16;
  chunk[10 + text_len] = crc >> 8;
  chunk[11 + text_len] = crc;
  g_assert_cmpuint (fwrite (chunk, 1, 12 + text_len, out), ==, 12 + text_len);
  while ((n_read = fread (buffer, 1, 1 << 20, in)) > 0)
    g_assert_cmpuint (fwrite (buffer, 1, n_read, out), ==, n_read);
  fclose (in);
  g_assert_cmpint (fclose (out), ==, 0);
}

#define wait_for(condition, window, what) kp_bench_wait_for ((condition), (window), TIMEOUT_S, (what))

static gboolean
sizes_known (KpWindow *window)
{
  return !kp_window_get_info_pending (window);
}

static gboolean
current_built (KpWindow *window)
{
  KpImageLayer *layer = kp_canvas_get_image_layer (kp_window_get_canvas (window));

  return layer != NULL && !kp_image_layer_get_building (layer);
}

static gboolean
next_prepared (KpWindow *window)
{
  return current_built (window) && !kp_layer_prefetcher_is_busy (window->layer_prefetcher);
}

typedef struct
{
  KpWindow *window;
  gboolean  sharp;
} Paint;

static void
after_paint_cb (GdkFrameClock *clock,
                Paint         *paint)
{
  KpImageLayer *layer = kp_canvas_get_image_layer (kp_window_get_canvas (paint->window));

  (void)clock;
  /* The frame drew the whole image, every tile at the level it wanted. */
  if (layer != NULL && kp_image_layer_get_n_missing (layer) == 0)
    paint->sharp = TRUE;
}

/* From calling step to the end of the first frame showing the whole image
 * sharp. */
static double
time_until_sharp (KpWindow *window,
                  void    (*step) (KpWindow *window))
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  gint64 deadline = g_get_monotonic_time () + TIMEOUT_S * G_USEC_PER_SEC;
  Paint paint = { window, FALSE };
  gulong handler;
  gint64 start;

  handler = g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_cb), &paint);
  start = g_get_monotonic_time ();
  step (window);
  while (!paint.sharp)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("Timed out waiting for a sharp frame");
      g_main_context_iteration (NULL, TRUE);
    }
  g_signal_handler_disconnect (clock, handler);

  return (g_get_monotonic_time () - start) / 1000.0;
}

static GFile *folder_file;

static void
open_folder (KpWindow *window)
{
  kp_window_open_folder (window, folder_file);
  gtk_widget_queue_draw (GTK_WIDGET (window));
}

static void
next_image (KpWindow *window)
{
  g_action_group_activate_action (G_ACTION_GROUP (window), "next-image", NULL);
  gtk_widget_queue_draw (GTK_WIDGET (window));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *keep = g_build_filename (g_get_tmp_dir (), "kp-bench-large", NULL);
  g_autofree char *source = g_build_filename (keep, "20000.png", NULL);
  g_autofree char *folder = NULL;
  g_autofree char *cache = NULL;
  KpApplication *app;
  KpWindow *window;
  double cold_ms, prepared_ms;
  gint64 prepare_start;
  double prepare_s;

  (void)argc;
  (void)argv;
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  /* An empty tile cache of its own, removed at the end. */
  cache = g_dir_make_tmp ("kp-bench-large-cache-XXXXXX", &error);
  g_assert_no_error (error);
  g_setenv ("XDG_CACHE_HOME", cache, TRUE);
  gtk_init ();
  adw_init ();

  g_mkdir_with_parents (keep, 0700);
  if (!g_file_test (source, G_FILE_TEST_EXISTS))
    write_png (source);
  folder = g_dir_make_tmp ("kp-bench-large-XXXXXX", &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("aerial-%u.png", i);
      g_autofree char *path = g_build_filename (folder, name, NULL);

      copy_with_comment (source, path, i);
    }

  window = kp_bench_window_new (&app);

  folder_file = g_file_new_for_path (folder);
  cold_ms = time_until_sharp (window, open_folder);
  g_assert_false (kp_window_get_loading (window));
  g_assert_cmpuint (kp_window_get_selected_position (window), ==, 0);
  wait_for (sizes_known, window, "the image sizes");

  wait_for (current_built, window, "the first image's pyramid");
  prepare_start = g_get_monotonic_time ();
  wait_for (next_prepared, window, "the next image's pyramid");
  prepare_s = (g_get_monotonic_time () - prepare_start) / (double)G_USEC_PER_SEC;

  prepared_ms = time_until_sharp (window, next_image);

  g_print ("BENCH large_png_cold_first_view_ms %.0f ms\n", cold_ms);
  g_print ("BENCH next_large_png_prepared_ms %.1f ms\n", prepared_ms);
  g_print ("BENCH next_large_png_prepare_s %.1f s\n", prepare_s);

  gtk_window_destroy (GTK_WINDOW (window));
  g_object_unref (window);
  g_application_quit (G_APPLICATION (app));
  g_object_unref (app);

  g_object_unref (folder_file);
  kp_bench_remove_tree (folder);
  kp_bench_remove_tree (cache);

  return EXIT_SUCCESS;
}
