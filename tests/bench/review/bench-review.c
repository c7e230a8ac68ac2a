/* bench-review.c: how long the review desk takes to show the next HIT
 *
 * A batch of HITs prepared in memory, each with 5 workers × 200 boxes and
 * 200 consolidated boxes over its own 1600×1200 image (a file: URL, so
 * the desk loads and prefetches it as it would a server's). Steps with
 * review.next-hit once the next HIT is prefetched and composed ahead,
 * timing from the action to the end of the first frame painted with the
 * new HIT's image and boxes:
 *   review_next_hit_ms           the median step, the image prefetched
 *   review_next_hit_ms_baseline  one frame of the same window repainting
 *                                the overlay without a change: the floor
 *   review_next_hit_build_ms     the action alone: widgets and overlay
 *                                data of the HIT built, before the frame
 *   review_next_hit_cairo_ms     review_next_hit_ms with GSK_RENDERER=cairo
 *                                (a second run of this program)
 *
 * Under Xvfb GSK's GL renderer runs on llvmpipe, and most of a step is
 * that frame: the sidebar's selection and the decision panel change
 * together, so nearly the whole window is rasterized again (compare
 * GSK_RENDERER=cairo, and bench-worker.c's note).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <stdlib.h>

#include "kp-review-private.h"

#define N_HITS 12
#define N_WORKERS 5
#define N_BOXES 200
#define IMAGE_WIDTH 1600
#define IMAGE_HEIGHT 1200
#define TIMEOUT_S 30

static char *
write_png (const char *dir,
           guint       seed)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, IMAGE_WIDTH, IMAGE_HEIGHT);
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_strdup_printf ("street-%u.png", seed);
  g_autofree char *path = g_build_filename (dir, name, NULL);

  for (int y = 0; y < IMAGE_HEIGHT; y++)
    for (int x = 0; x < IMAGE_WIDTH; x++)
      {
        guint8 *p = pixels + y * stride + x * 3;
        int noise = g_rand_int_range (rand, 0, 32);

        p[0] = (x * 255 / IMAGE_WIDTH + noise + seed * 40) & 0xff;
        p[1] = (y * 255 / IMAGE_HEIGHT + noise) & 0xff;
        p[2] = 128 + noise;
      }
  gdk_pixbuf_save (pixbuf, path, "png", &error, "compression", "1", NULL);
  g_assert_no_error (error);
  return g_filename_to_uri (path, NULL, NULL);
}

static JsonObject *
boxes_answer (GRand *rand,
              int    jitter)
{
  JsonObject *answer = json_object_new ();
  JsonObject *element = json_object_new ();
  JsonObject *props = json_object_new ();
  JsonArray *boxes = json_array_new ();

  for (guint i = 0; i < N_BOXES; i++)
    {
      JsonObject *box = json_object_new ();
      /* A grid of objects, each worker a few pixels off. */
      int left = (i % 20) * 78 + 10 + g_rand_int_range (rand, -jitter, jitter + 1);
      int top = (i / 20) * 115 + 10 + g_rand_int_range (rand, -jitter, jitter + 1);

      json_object_set_string_member (box, "label", "car");
      json_object_set_int_member (box, "left", left);
      json_object_set_int_member (box, "top", top);
      json_object_set_int_member (box, "width", 60);
      json_object_set_int_member (box, "height", 90);
      json_array_add_object_element (boxes, box);
    }
  json_object_set_array_member (element, "boundingBoxes", boxes);
  json_object_set_int_member (props, "width", IMAGE_WIDTH);
  json_object_set_int_member (props, "height", IMAGE_HEIGHT);
  json_object_set_object_member (element, "inputImageProperties", props);
  json_object_set_object_member (answer, "cars", element);
  return answer;
}

static GPtrArray *
make_batches (const char *dir)
{
  g_autoptr(GPtrArray) hits = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_review_hit_free);
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  GPtrArray *batches = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_review_batch_free);
  KpReviewBatch *batch = g_new0 (KpReviewBatch, 1);

  for (guint h = 0; h < N_HITS; h++)
    {
      g_autofree char *id = g_strdup_printf ("HIT%02u", h);
      KpReviewHit *hit = kp_review_hit_new (id);

      hit->batch_id = g_strdup ("bench");
      hit->title = g_strdup ("Cars");
      hit->image_uri = write_png (dir, h);
      hit->max_assignments = N_WORKERS;
      for (guint w = 0; w < N_WORKERS; w++)
        {
          g_autofree char *assignment = g_strdup_printf ("A%02u%u", h, w);
          g_autofree char *worker = g_strdup_printf ("WORKER%u", w);
          g_autoptr(JsonObject) answer = boxes_answer (rand, 4);
          KpReviewAssignment *a = kp_review_assignment_new (assignment, worker, "Submitted", answer);

          a->agreement = 0.8;
          g_ptr_array_add (hit->assignments, a);
        }
      /* The consolidated answer, as KpConsolidator reports it. */
      hit->result = json_object_new ();
      json_object_set_object_member (hit->result, "Answer", boxes_answer (rand, 0));
      json_object_set_double_member (hit->result, "Agreement", 0.8);
      hit->agreement = 0.8 - h * 0.01;
      g_ptr_array_add (hits, hit);
    }

  batch->batch_id = g_strdup ("bench");
  batch->title = g_strdup ("Cars");
  batch->hits = g_steal_pointer (&hits);
  g_ptr_array_add (batches, batch);
  return batches;
}

static void
wait_until (gboolean      (*condition) (KpReviewWindow *window,
                                        gpointer        data),
            KpReviewWindow *window,
            gpointer        data,
            const char     *what)
{
  gint64 deadline = g_get_monotonic_time () + TIMEOUT_S * G_USEC_PER_SEC;

  while (!condition (window, data))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("Timed out waiting for %s", what);
      g_main_context_iteration (NULL, TRUE);
    }
}

static gboolean
has_image (KpReviewWindow *window,
           gpointer        data)
{
  return _kp_review_window_has_image (window, data);
}

typedef struct
{
  KpReviewWindow *window;
  guint           index;
  gboolean        painted;
} Paint;

static void
after_paint_cb (GdkFrameClock *clock,
                Paint         *paint)
{
  KpReviewOverlay *overlay = _kp_review_window_get_overlay (paint->window);

  if (_kp_review_window_get_hit_index (paint->window) == paint->index &&
      kp_review_overlay_get_texture (overlay) != NULL)
    paint->painted = TRUE;
}

/* The action's own part of the last step: the HIT's widgets and overlay
 * data built, before GTK paints. */
static double last_build_ms;

static double
time_step (KpReviewWindow *window)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  gint64 deadline = g_get_monotonic_time () + TIMEOUT_S * G_USEC_PER_SEC;
  Paint paint = { window, _kp_review_window_get_hit_index (window) + 1, FALSE };
  gulong handler;
  gint64 start;

  handler = g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_cb), &paint);
  start = g_get_monotonic_time ();
  gtk_widget_activate_action (GTK_WIDGET (window), "review.next-hit", NULL);
  last_build_ms = (g_get_monotonic_time () - start) / 1000.0;
  while (!paint.painted)
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("Timed out waiting for the next HIT");
      g_main_context_iteration (NULL, TRUE);
    }
  g_signal_handler_disconnect (clock, handler);
  return (g_get_monotonic_time () - start) / 1000.0;
}

static gboolean
next_composed (KpReviewWindow *window,
               gpointer        data)
{
  return _kp_review_window_next_composed (window);
}

static void
after_paint_any_cb (GdkFrameClock *clock,
                    gboolean      *painted)
{
  *painted = TRUE;
}

static double
time_frame (KpReviewWindow *window)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  gboolean painted = FALSE;
  gulong handler;
  gint64 start;

  handler = g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_any_cb), &painted);
  start = g_get_monotonic_time ();
  gtk_widget_queue_draw (GTK_WIDGET (_kp_review_window_get_overlay (window)));
  while (!painted)
    g_main_context_iteration (NULL, TRUE);
  g_signal_handler_disconnect (clock, handler);
  return (g_get_monotonic_time () - start) / 1000.0;
}

/* KP_BENCH_SCREENSHOT=file.png: how the desk looked, to look at. */
static void
save_screenshot (GtkWidget  *widget,
                 const char *path)
{
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  cairo_t *cr = cairo_create (surface);

  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node != NULL)
    gsk_render_node_draw (node, cr);
  cairo_destroy (cr);
  cairo_surface_write_to_png (surface, path);
  cairo_surface_destroy (surface);
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *)a;
  double y = *(const double *)b;

  return x < y ? -1 : x > y;
}

static double
median (GArray *values)
{
  g_array_sort (values, compare_doubles);
  return g_array_index (values, double, values->len / 2);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("kp-bench-review-XXXXXX", &error);
  g_autoptr(GArray) steps = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) frames = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) builds = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(KpReviewModel) model = NULL;
  KpMturkCredentials credentials = { (char *)"AKIDBENCH", (char *)"bench-secret", NULL, NULL };
  KpReviewWindow *window;
  KpReviewBatch *batch;
  guint composited = 0;

  g_assert_no_error (error);
  gtk_init ();
  adw_init ();

  model = kp_review_model_new ("http://127.0.0.1:9", &credentials);
  kp_review_model_take_batches (model, make_batches (dir));
  batch = g_ptr_array_index (kp_review_model_get_batches (model), 0);

  window = kp_review_window_new (NULL);
  gtk_window_set_default_size (GTK_WINDOW (window), 1600, 1000);
  gtk_window_present (GTK_WINDOW (window));
  _kp_review_window_set_model (window, model);

  for (guint i = 0; i + 1 < N_HITS; i++)
    {
      KpReviewHit *next = g_ptr_array_index (batch->hits, i + 1);
      KpReviewHit *current = g_ptr_array_index (batch->hits, i);
      double ms;

      /* Someone looks at a HIT for a moment: the next one is prefetched
       * meanwhile. */
      wait_until (has_image, window, current->image_uri, "the current image");
      wait_until (has_image, window, next->image_uri, "the next image to be prefetched");
      /* ... and composed with its boxes, and the one after it decoded
       * (not competing with the step for the CPU), unless
       * KP_BENCH_REVIEW_NO_WAIT asks what a hurried reviewer sees. */
      if (g_getenv ("KP_BENCH_REVIEW_NO_WAIT") == NULL)
        {
          wait_until (next_composed, window, NULL, "the next HIT to be composed");
          if (i + 2 < N_HITS)
            wait_until (has_image, window, ((KpReviewHit *)g_ptr_array_index (batch->hits, i + 2))->image_uri,
                        "the image after the next");
        }
      for (guint f = 0; f < 3; f++)
        {
          double frame = time_frame (window);

          g_array_append_val (frames, frame);
        }

      ms = time_step (window);
      g_array_append_val (steps, ms);
      if (kp_review_overlay_get_composited (_kp_review_window_get_overlay (window)))
        composited++;
      g_array_append_val (builds, last_build_ms);
    }

  if (g_getenv ("KP_BENCH_SCREENSHOT") != NULL && g_getenv ("KP_BENCH_REVIEW_CAIRO") == NULL)
    {
      wait_until (has_image, window, ((KpReviewHit *)g_ptr_array_index (batch->hits, N_HITS - 1))->image_uri,
                  "the last image");
      time_frame (window);
      save_screenshot (GTK_WIDGET (window), g_getenv ("KP_BENCH_SCREENSHOT"));
    }

  if (g_getenv ("KP_BENCH_REVIEW_CAIRO") != NULL)
    {
      g_print ("BENCH review_next_hit_cairo_ms %.1f ms\n", median (steps));
    }
  else
    {
      g_print ("BENCH review_next_hit_ms %.1f ms\n", median (steps));
      g_print ("BENCH review_next_hit_ms_baseline %.1f ms\n", median (frames));
      g_print ("BENCH review_next_hit_build_ms %.1f ms\n", median (builds));
    }
  g_print ("# %u of %u steps showed the HIT composed ahead\n", composited, steps->len);
  if (g_getenv ("KP_BENCH_VERBOSE") != NULL)
    for (guint i = 0; i < steps->len; i++)
      g_print ("# step %.1f ms\n", g_array_index (steps, double, i));

  gtk_window_destroy (GTK_WINDOW (window));
  for (guint i = 0; i < N_HITS; i++)
    {
      g_autofree char *name = g_strdup_printf ("street-%u.png", i);
      g_autofree char *path = g_build_filename (dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (dir);

  /* The same with GSK's cairo renderer, for scale: under Xvfb the GL one
   * runs on llvmpipe. */
  if (g_getenv ("KP_BENCH_REVIEW_CAIRO") == NULL && g_getenv ("GSK_RENDERER") == NULL)
    {
      g_auto(GStrv) envp = g_environ_setenv (g_get_environ (), "GSK_RENDERER", "cairo", TRUE);
      char *child_argv[] = { argv[0], NULL };
      int wait_status = 0;

      envp = g_environ_setenv (envp, "KP_BENCH_REVIEW_CAIRO", "1", TRUE);
      g_spawn_sync (NULL, child_argv, envp, G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL, NULL, NULL,
                    &wait_status, &error);
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (wait_status, NULL));
    }
  return EXIT_SUCCESS;
}
