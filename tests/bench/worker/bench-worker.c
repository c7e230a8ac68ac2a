/* bench-worker.c: from Submit to the next HIT of a group on screen
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Needs a display (xvfb-run) and the built kempelen-server and
 * kempelenctl. A worker works a group of HITs, each with its own
 * 640×480 PNG, in KpWorkerWindow against a real server on the loopback.
 * Once the window has prefetched the next HIT (accepted, stored in the
 * cache, its image downloaded and decoded, its layout parsed), the
 * answer is typed and Submit pressed; the time runs until the frame
 * showing the next HIT has been painted. Prints
 *   BENCH submit_to_next_ms <median> ms      (issue #5 target: ≤ 100 ms)
 * KP_BENCH_VERBOSE=1 adds the fastest and slowest run, when the widgets
 * were built, and a redraw of the unchanged window for scale. Under
 * Xvfb, GSK's GL renderer runs on llvmpipe, and most of the time is that
 * first frame of a new widget tree (compare GSK_RENDERER=cairo). Measured
 * in session 4 (busy 2-core machine): the widgets are built about 1 ms
 * after Submit; the frame then takes 100–220 ms with GL and 22 ms with
 * cairo, about in proportion to the window's area (96 ms at 640×480),
 * with the main thread in llvmpipe's generated shader code: it is
 * rasterizing, not our code. A redraw of the unchanged window reuses
 * GSK's cached offscreens and costs nothing.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <adwaita.h>

#include "kp-worker-fixture.h"
#include "kp-worker-group.h"
#include "kp-worker-window-private.h"

#define RUNS 15
#define TITLE "Describe the street scenes"
#define TIMEOUT_MS 30000

static KpWorkerWindow *window;

static void
async_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static gboolean
result_arrived (gpointer data)
{
  return *(GAsyncResult **)data != NULL;
}

static gboolean
groups_loaded (gpointer data)
{
  return !_kp_worker_window_get_loading_groups (window) &&
         g_list_model_get_n_items (_kp_worker_window_get_groups (window)) > 0;
}

static gboolean
has_next (gpointer data)
{
  return _kp_worker_window_get_current_assignment (window) != NULL &&
         _kp_worker_window_get_next_assignment (window) != NULL;
}

static gboolean
flag_set (gpointer data)
{
  return *(gboolean *)data;
}

static void
painted_cb (GdkFrameClock *clock,
            gboolean      *painted)
{
  *painted = TRUE;
}

static void
fill_answer (const char *text)
{
  GtkWidget *control = kp_layout_view_get_control (_kp_worker_window_get_layout_view (window), "q1");

  g_assert_nonnull (control);
  if (GTK_IS_TEXT_VIEW (control))
    gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (control)), text, -1);
  else
    gtk_editable_set_text (GTK_EDITABLE (control), text);
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return x < y ? -1 : x > y;
}

int
main (int   argc,
      char *argv[])
{
  KpWorkerFixture *fixture;
  g_autoptr(KpAccountStore) store = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(KpAccount) account = NULL;
  g_autofree char *config = NULL;
  double times[RUNS];
  double built[RUNS];
  GdkFrameClock *clock;

  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  fixture = kp_worker_fixture_new ();
  gtk_init ();
  adw_init ();

  for (guint i = 0; i < RUNS + 2; i++)
    g_ptr_array_add (images, kp_worker_fixture_add_image (fixture, 640, 480, i + 1));
  g_ptr_array_add (images, NULL);
  kp_worker_fixture_create_group (fixture, TITLE, RUNS + 2, "30m", NULL, (const char * const *)images->pdata);

  config = g_build_filename (fixture->tmp_dir, "config", NULL);
  store = kp_account_store_new (config, KP_TOKEN_STORAGE_FILE);
  kp_account_store_load_async (store, NULL, async_done_cb, &result);
  g_assert_true (kp_worker_wait_for (result_arrived, &result, TIMEOUT_MS));
  g_assert_true (kp_account_store_load_finish (store, result, NULL));
  g_clear_object (&result);
  kp_account_store_add_async (store, fixture->server->url, fixture->token, fixture->worker_id, "Ada",
                              NULL, async_done_cb, &result);
  g_assert_true (kp_worker_wait_for (result_arrived, &result, TIMEOUT_MS));
  account = kp_account_store_add_finish (store, result, NULL);
  g_assert_nonnull (account);

  window = g_object_ref_sink (kp_worker_window_new (NULL, store));
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 900);
  gtk_window_present (GTK_WINDOW (window));

  g_assert_true (kp_worker_wait_for (groups_loaded, NULL, TIMEOUT_MS));
  gtk_single_selection_set_selected (_kp_worker_window_get_group_selection (window), 0);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.work-group", NULL));

  clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  g_assert_nonnull (clock);

  for (guint run = 0; run < RUNS; run++)
    {
      g_autofree char *answer = g_strdup_printf ("scene %u: two cars and a bicycle", run);
      g_autofree char *before = NULL;
      gboolean painted = FALSE;
      gulong handler;
      gint64 start;

      /* The worker works while the next HIT is prepared. */
      g_assert_true (kp_worker_wait_for (has_next, NULL, TIMEOUT_MS));
      before = g_strdup (_kp_worker_window_get_current_assignment (window));
      fill_answer (answer);

      handler = g_signal_connect (clock, "after-paint", G_CALLBACK (painted_cb), &painted);
      start = g_get_monotonic_time ();
      g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.submit", NULL));
      g_assert_cmpstr (_kp_worker_window_get_current_assignment (window), !=, before);
      built[run] = (g_get_monotonic_time () - start) / 1000.0;
      g_assert_true (kp_worker_wait_for (flag_set, &painted, TIMEOUT_MS));
      times[run] = (g_get_monotonic_time () - start) / 1000.0;
      g_signal_handler_disconnect (clock, handler);
    }

  qsort (times, RUNS, sizeof (double), compare_doubles);
  if (g_getenv ("KP_BENCH_VERBOSE") != NULL)
    {
      double redraws[RUNS];

      g_print ("# submit_to_next_ms: fastest %.2f ms, slowest %.2f ms\n", times[0], times[RUNS - 1]);
      qsort (built, RUNS, sizeof (double), compare_doubles);
      g_print ("# the next HIT's widgets were built %.2f ms after Submit (median); the rest is "
               "its first frame\n", built[RUNS / 2]);

      /* For scale: one frame that redraws the same window, unchanged
       * (under Xvfb, GSK's GL renderer runs on llvmpipe). */
      for (guint run = 0; run < RUNS; run++)
        {
          gboolean painted = FALSE;
          gulong handler = g_signal_connect (clock, "after-paint", G_CALLBACK (painted_cb), &painted);
          gint64 start = g_get_monotonic_time ();

          gtk_widget_queue_draw (GTK_WIDGET (window));
          g_assert_true (kp_worker_wait_for (flag_set, &painted, TIMEOUT_MS));
          redraws[run] = (g_get_monotonic_time () - start) / 1000.0;
          g_signal_handler_disconnect (clock, handler);
        }
      qsort (redraws, RUNS, sizeof (double), compare_doubles);
      g_print ("# a redraw of the unchanged window: %.2f ms (median)\n", redraws[RUNS / 2]);
    }
  g_print ("BENCH submit_to_next_ms %.2f ms\n", times[RUNS / 2]);

  gtk_window_destroy (GTK_WINDOW (window));
  g_clear_object (&window);
  kp_worker_fixture_free (fixture);

  return EXIT_SUCCESS;
}
