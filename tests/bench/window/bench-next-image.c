/* bench-next-image.c: how long the next image of a folder takes to show
 *
 * Makes a folder of 3-megapixel JPEGs, opens it in the real window and
 * steps through it with win.next-image, timing from the action to the end
 * of the first frame painted with the new image:
 *   next_image_prefetched_ms  the image was decoded ahead (the normal case
 *                             when someone works through a folder)
 *   next_image_prefetched_cpu_ms  the CPU time all threads spent in such
 *                             a step: on a loaded machine the wall time
 *                             mostly waits for a core
 *   next_image_cold_ms        nothing decoded ahead (prefetch emptied
 *                             before each step), for contrast
 *   next_image_frame_ms_baseline  one frame of the same window repainting
 *                             the image (a brightness change): the floor
 *                             under any step
 * and the object list beside the canvas with 100,000 objects:
 *   object_list_100k_filter_ms      every row anew (a label filter)
 *   object_list_100k_add_100_ms     100 more objects (paste), store included
 *   object_list_100k_one_change_ms  a store write plus the list following
 *                                   one object's change
 * Each figure is the median of the steps.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "kp-application.h"
#include "kp-object-list.h"
#include "kp-window-private.h"
#include "kp-bench-wait.h"

#define N_IMAGES 21
#define IMAGE_WIDTH 2048
#define IMAGE_HEIGHT 1536
#define TIMEOUT_S 30

static void
write_jpeg (const char *path,
            guint       seed)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, IMAGE_WIDTH, IMAGE_HEIGHT);
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr(GError) error = NULL;

  /* Gradients and noise: decoding costs what a photograph's would. */
  for (int y = 0; y < IMAGE_HEIGHT; y++)
    for (int x = 0; x < IMAGE_WIDTH; x++)
      {
        guint8 *p = pixels + y * stride + x * 3;
        int noise = g_rand_int_range (rand, 0, 48);

        p[0] = (x * 255 / IMAGE_WIDTH + noise + seed * 30) & 0xff;
        p[1] = (y * 255 / IMAGE_HEIGHT + noise) & 0xff;
        p[2] = ((x + y) * 127 / IMAGE_WIDTH + noise) & 0xff;
      }

  gdk_pixbuf_save (pixbuf, path, "jpeg", &error, "quality", "90", NULL);
  g_assert_no_error (error);
}

#define wait_for(condition, window, what) kp_bench_wait_for ((condition), (window), TIMEOUT_S, (what))

static gboolean
is_open (KpWindow *window)
{
  return !kp_window_get_loading (window);
}

static gboolean
image_loaded (KpWindow *window)
{
  return kp_window_get_image_loaded (window);
}

static gint64
media_id_at (KpWindow *window,
             guint     position)
{
  g_autoptr(KpMediaItem) item = g_list_model_get_item (kp_window_get_media_model (window), position);

  return kp_media_item_get_media_id (item);
}

static guint next_position;

static gboolean
next_prefetched (KpWindow *window)
{
  g_autoptr(GdkTexture) texture = kp_image_prefetcher_lookup (window->prefetcher,
                                                              media_id_at (window, next_position));

  return texture != NULL;
}

typedef struct
{
  gboolean painted;
  KpWindow *window;
} Paint;

static void
after_paint_cb (GdkFrameClock *clock,
                Paint         *paint)
{
  if (kp_window_get_image_loaded (paint->window))
    paint->painted = TRUE;
}

static void
after_paint_any_cb (GdkFrameClock *clock,
                    gboolean      *painted)
{
  *painted = TRUE;
}

/* One frame of the same window repainting the same image: what any step
 * costs at least on this machine at this moment. */
static double
time_frame (KpWindow *window)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  gboolean painted = FALSE;
  gulong handler;
  gint64 start;

  handler = g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_any_cb), &painted);
  start = g_get_monotonic_time ();
  /* Brightness changes every pixel of the image: a full repaint. */
  kp_canvas_set_brightness (kp_window_get_canvas (window),
                            kp_canvas_get_brightness (kp_window_get_canvas (window)) == 0 ? 0.01 : 0);
  gtk_widget_queue_draw (GTK_WIDGET (window));
  while (!painted)
    g_main_context_iteration (NULL, TRUE);
  g_signal_handler_disconnect (clock, handler);

  return (g_get_monotonic_time () - start) / 1000.0;
}

static double
process_cpu_ms (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);

  return (usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000.0 +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000.0;
}

static double last_step_cpu_ms;

/* From the action to the end of the first frame that shows the image;
 * last_step_cpu_ms gets the CPU time every thread used meanwhile. */
static double
time_step (KpWindow *window)
{
  double cpu_start = process_cpu_ms ();
  double ms;
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  gint64 deadline = g_get_monotonic_time () + TIMEOUT_S * G_USEC_PER_SEC;
  Paint paint = { FALSE, window };
  gulong handler;
  gint64 start;

  handler = g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_cb), &paint);

  start = g_get_monotonic_time ();
  g_action_group_activate_action (G_ACTION_GROUP (window), "next-image", NULL);
  gtk_widget_queue_draw (GTK_WIDGET (window));

  while (!paint.painted)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("Timed out waiting for the next image");
      g_main_context_iteration (NULL, TRUE);
    }

  g_signal_handler_disconnect (clock, handler);

  ms = (g_get_monotonic_time () - start) / 1000.0;
  last_step_cpu_ms = process_cpu_ms () - cpu_start;

  return ms;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return x < y ? -1 : x > y;
}

static double
median (GArray *values)
{
  g_array_sort (values, compare_doubles);

  return g_array_index (values, double, values->len / 2);
}

static void
settle (guint ms)
{
  gint64 until = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < until)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
}

/* The object list over 100,000 objects: rebuilding it (another label
 * filter, an undo of many) and following one object's change. */
static void
bench_object_list (KpWindow *window)
{
  KpDocument *document = kp_window_get_current_document (window);
  KpStore *store = kp_window_get_store (window);
  g_autoptr(GPtrArray) boxes = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  GtkSelectionModel *model;
  const KpAnnotation *first;
  gint64 label_id;
  gint64 start;
  double rebuild_ms, change_ms;
  KpRect rect;

  label_id = kp_store_add_label (store, "dense", "#e01b24", 1, &error);
  g_assert_no_error (error);
  kp_window_reload_labels (window);

  for (guint i = 0; i < 100000; i++)
    {
      KpAnnotation *box = g_new0 (KpAnnotation, 1);

      box->label_id = label_id;
      box->shape = KP_SHAPE_BOX;
      box->rect = (KpRect) { (i % 400) * 5, (i / 400) * 6, 4, 5 };
      g_ptr_array_add (boxes, box);
    }
  g_assert_true (kp_document_add_many (document, (const KpAnnotation * const *)boxes->pdata, boxes->len,
                                       NULL, &error));
  g_assert_no_error (error);
  settle (200);

  model = kp_object_list_get_selection_model (window->object_list);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 100000);

  start = g_get_monotonic_time ();
  kp_object_list_set_filter_label (window->object_list, label_id);
  kp_object_list_set_filter_label (window->object_list, 0);
  rebuild_ms = (g_get_monotonic_time () - start) / 2000.0;

  first = g_ptr_array_index (kp_document_get_annotations (document), 50000);
  rect = first->rect;
  rect.x += 1;
  start = g_get_monotonic_time ();
  g_assert_true (kp_document_set_rect (document, first->id, &rect, &error));
  change_ms = (g_get_monotonic_time () - start) / 1000.0;

  {
    g_autoptr(GPtrArray) more = g_ptr_array_new ();

    for (guint i = 0; i < 100; i++)
      g_ptr_array_add (more, g_ptr_array_index (boxes, i));
    start = g_get_monotonic_time ();
    g_assert_true (kp_document_add_many (document, (const KpAnnotation * const *)more->pdata, more->len,
                                         NULL, &error));
    g_print ("BENCH object_list_100k_add_100_ms %.1f ms\n", (g_get_monotonic_time () - start) / 1000.0);
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 100100);
  }

  g_print ("BENCH object_list_100k_filter_ms %.1f ms\n", rebuild_ms);
  g_print ("BENCH object_list_100k_one_change_ms %.2f ms\n", change_ms);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) prefetched = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) cold = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) frames = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) prefetched_cpu = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree char *folder = NULL;
  g_autoptr(GFile) file = NULL;
  KpApplication *app;
  KpWindow *window;
  const char *verbose = g_getenv ("KP_BENCH_VERBOSE");

  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  gtk_init ();
  adw_init ();

  folder = g_dir_make_tmp ("kp-bench-next-image-XXXXXX", &error);
  g_assert_no_error (error);
  for (guint i = 0; i < N_IMAGES; i++)
    {
      g_autofree char *name = g_strdup_printf ("image-%02u.jpg", i);
      g_autofree char *path = g_build_filename (folder, name, NULL);

      write_jpeg (path, i);
    }

  window = kp_bench_window_new (&app);

  file = g_file_new_for_path (folder);
  kp_window_open_folder (window, file);
  wait_for (is_open, window, "the folder to open");
  wait_for (image_loaded, window, "the first image");
  settle (300);

  /* Forward through the folder, each next image decoded ahead. */
  for (guint position = 1; position < N_IMAGES; position++)
    {
      double ms;

      next_position = position;
      wait_for (next_prefetched, window, "the prefetch");
      settle (20);
      ms = time_step (window);
      g_array_append_val (prefetched, ms);
      g_array_append_val (prefetched_cpu, last_step_cpu_ms);
      if (verbose)
        g_printerr ("prefetched %u: %.1f ms\n", position, ms);
    }

  /* Again from the start, with nothing decoded ahead. */
  kp_window_select_media (window, 0);
  wait_for (image_loaded, window, "the first image");
  for (guint position = 1; position < N_IMAGES; position++)
    {
      double ms;

      /* Let decodes the prefetcher started finish, then forget them. */
      settle (150);
      g_clear_handle_id (&window->prefetch_idle_id, g_source_remove);
      kp_image_prefetcher_clear (window->prefetcher);
      settle (20);
      g_clear_handle_id (&window->prefetch_idle_id, g_source_remove);
      ms = time_step (window);
      g_array_append_val (cold, ms);
      if (verbose)
        g_printerr ("cold %u: %.1f ms\n", position, ms);
    }

  for (guint i = 0; i < 20; i++)
    {
      double ms;

      settle (20);
      ms = time_frame (window);
      g_array_append_val (frames, ms);
    }

  g_print ("BENCH next_image_prefetched_ms %.1f ms\n", median (prefetched));
  g_print ("BENCH next_image_prefetched_cpu_ms %.1f ms\n", median (prefetched_cpu));
  g_print ("BENCH next_image_cold_ms %.1f ms\n", median (cold));
  g_print ("BENCH next_image_frame_ms_baseline %.1f ms\n", median (frames));

  bench_object_list (window);

  gtk_window_destroy (GTK_WINDOW (window));
  g_object_unref (window);
  g_application_quit (G_APPLICATION (app));
  g_object_unref (app);

  kp_bench_remove_tree (folder);

  return EXIT_SUCCESS;
}
