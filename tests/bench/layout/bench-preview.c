/* bench-preview.c: build the widgets of a 200 KB layout, and reload the
 * preview after its file changes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Needs a display (xvfb-run). Prints
 *   BENCH layout_200k_build_ms <median> ms
 *     kp_layout_new_from_data() of the template bench-layout generates
 *     (a mix of prose, tables, lists, images and crowd elements) and
 *     kp_layout_view_set_layout() in a shown window, until the frame
 *     showing it is painted: the view builds what fills the first screen
 *     at once and the rest between the frames that follow (the page
 *     before it is the whole previous tree, as in a preview reload);
 *   BENCH layout_200k_widgets_ms <median> ms
 *     the same until every widget of the page is built, and painted;
 *   BENCH preview_reload_ms <median> ms
 *     from the template file being replaced (as editors save) to the
 *     KpPreviewWindow having read it again (GFileMonitor, its debounce),
 *     rebuilt the view and painted the next frame; once for a typical task template and once, as
 *     preview_reload_200k_ms, for the 200 KB one.
 * KP_BENCH_VERBOSE=1 adds the fastest and slowest run.
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <adwaita.h>
#include <glib/gstdio.h>

#include "kp-core.h"
#include "kp-layout-view.h"
#include "kp-preview-window.h"

#define TARGET_SIZE (200 * 1024)
#define RUNS 15

/* The template of bench-layout.c, built the same way. */
static char *
generate_template (const char *comment)
{
  GString *html = g_string_new (NULL);
  guint i = 0;

  g_string_append_printf (html, "<!DOCTYPE html>\n<!-- %s -->\n"
                          "<script src=\"https://assets.crowd.aws/crowd-html-elements.js\"></script>\n"
                          "<crowd-form>\n<crowd-instructions link-text=\"Instructions\">\n", comment);
  while (html->len < TARGET_SIZE)
    {
      g_string_append_printf (html,
        "<h2>Section %u</h2>\n"
        "<p>Look at <strong>image %u</strong> and <em>mark</em> every object; see "
        "<a href=\"https://example.com/help/%u\">the guide</a> for details &amp; examples.</p>\n"
        "<ul><li>Cars and trucks</li><li>People on foot</li><li>Bicycles</li></ul>\n"
        "<table><tr><th>Label</th><th>When</th></tr><tr><td>Car</td><td>Any motor vehicle</td></tr></table>\n"
        "<img src=\"https://example.com/examples/%u.jpg\" alt=\"Example %u\">\n",
        i, i, i, i, i);

      if (i % 4 == 0)
        g_string_append_printf (html,
          "<crowd-classifier name=\"q%u\" header=\"Is there a car?\" categories=\"['Yes', 'No', 'Unsure']\">\n"
          "  <classification-target><p>Scene %u</p></classification-target>\n"
          "</crowd-classifier>\n", i, i);
      else if (i % 4 == 1)
        g_string_append_printf (html,
          "<crowd-bounding-box name=\"b%u\" src=\"https://example.com/img/%u.jpg\" header=\"Box them\"\n"
          "    labels=\"['Car', 'Person', 'Bicycle']\"\n"
          "    initial-value=\"[{label: 'Car', left: 1, top: 2, width: 30, height: 40}]\"></crowd-bounding-box>\n",
          i, i);
      else if (i % 4 == 2)
        g_string_append_printf (html,
          "<crowd-input name=\"t%u\" label=\"Describe\" max-length=\"200\" required></crowd-input>\n"
          "<crowd-slider name=\"s%u\" min=\"0\" max=\"10\" step=\"1\"></crowd-slider>\n", i, i);
      else
        g_string_append_printf (html,
          "<crowd-radio-group><crowd-radio-button name=\"y%u\">Yes</crowd-radio-button>"
          "<crowd-radio-button name=\"n%u\">No</crowd-radio-button></crowd-radio-group>\n", i, i);

      if (i == 0)
        g_string_append (html, "</crowd-instructions>\n");
      i++;
    }

  g_string_append (html, "</crowd-form>\n");
  return g_string_free (html, FALSE);
}

/* A task as requesters write them: a few elements and some prose. */
static char *
generate_task (const char *comment)
{
  return g_strdup_printf (
    "<!-- %s -->\n<script src=\"https://assets.crowd.aws/crowd-html-elements.js\"></script>\n"
    "<crowd-form>\n"
    "  <h2>Describe the photo</h2>\n"
    "  <p>Look at the photo, <b>draw a box</b> around each car and answer below.</p>\n"
    "  <crowd-bounding-box name=\"boxes\" src=\"https://example.com/street.jpg\" header=\"Cars\"\n"
    "      labels=\"['Car', 'Truck']\">\n"
    "    <short-instructions>Tight boxes.</short-instructions>\n"
    "    <full-instructions header=\"Boxes\"><p>Include mirrors.</p></full-instructions>\n"
    "  </crowd-bounding-box>\n"
    "  <crowd-classifier name=\"weather\" header=\"Weather?\" categories=\"['Sun', 'Rain', 'Snow']\">\n"
    "    <classification-target><p>The sky</p></classification-target>\n"
    "  </crowd-classifier>\n"
    "  <crowd-input name=\"comment\" label=\"Comment\" max-length=\"200\"></crowd-input>\n"
    "  <crowd-slider name=\"quality\" min=\"1\" max=\"5\" pin></crowd-slider>\n"
    "  <crowd-checkbox name=\"blurry\">Blurry</crowd-checkbox>\n"
    "</crowd-form>\n", comment);
}

static int
compare_doubles (const void *a,
                 const void *b)
{
  double da = *(const double *)a;
  double db = *(const double *)b;

  return da < db ? -1 : da > db;
}

static void
painted_cb (GdkFrameClock *clock,
            gboolean      *painted)
{
  *painted = TRUE;
}

static void
wait_for_paint (GtkWidget *widget)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (widget);
  gboolean painted = FALSE;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  gulong handler;

  g_assert_nonnull (clock);
  handler = g_signal_connect (clock, "after-paint", G_CALLBACK (painted_cb), &painted);
  gtk_widget_queue_draw (widget);
  while (!painted && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_signal_handler_disconnect (clock, handler);
  g_assert_true (painted);
}

static double
report (const char *name,
        double     *times,
        guint       n)
{
  qsort (times, n, sizeof times[0], compare_doubles);
  if (g_getenv ("KP_BENCH_VERBOSE") != NULL)
    g_print ("# %s: fastest %.2f ms, slowest %.2f ms\n", name, times[0], times[n - 1]);
  g_print ("BENCH %s %.2f ms\n", name, times[n / 2]);

  return times[n / 2];
}

/* The images are placeholders: the benchmark times the widgets, not
 * the network. */
static GdkTexture *
offline_media (const char  *uri,
               gpointer     user_data,
               GError     **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "offline");
  return NULL;
}

static void
bench_widgets (void)
{
  g_autofree char *template = generate_template ("widgets");
  gsize length = strlen (template);
  GtkWidget *window = gtk_window_new ();
  GtkWidget *view = kp_layout_view_new ();
  double build[RUNS], whole[RUNS], parse[RUNS], widgets[RUNS], alloc[RUNS];

  gtk_window_set_default_size (GTK_WINDOW (window), 1000, 800);
  kp_layout_view_set_media_func (KP_LAYOUT_VIEW (view), offline_media, NULL, NULL);
  gtk_window_set_child (GTK_WINDOW (window), view);
  gtk_window_present (GTK_WINDOW (window));
  wait_for_paint (window);

  for (guint i = 0; i < RUNS; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(KpLayout) layout = NULL;
      gint64 start = g_get_monotonic_time ();
      gint64 parsed, built, allocated;

      layout = kp_layout_new_from_data (template, length, KP_LAYOUT_FORMAT_AUTO, &error);
      g_assert_no_error (error);
      parsed = g_get_monotonic_time ();
      kp_layout_view_set_layout (KP_LAYOUT_VIEW (view), layout);
      built = g_get_monotonic_time ();
      /* The next frame measures, allocates and draws the new tree. */
      wait_for_paint (window);
      allocated = g_get_monotonic_time ();
      build[i] = (allocated - start) / 1000.0;
      parse[i] = (parsed - start) / 1000.0;
      widgets[i] = (built - parsed) / 1000.0;
      alloc[i] = (allocated - built) / 1000.0;

      /* Every widget of the page, which the view otherwise makes only
       * as the worker scrolls to it. */
      g_assert_nonnull (kp_layout_view_get_page (KP_LAYOUT_VIEW (view)));
      g_assert_nonnull (kp_layout_view_get_control (KP_LAYOUT_VIEW (view), "q0"));
      wait_for_paint (window);
      whole[i] = (g_get_monotonic_time () - start) / 1000.0;
    }

  if (g_getenv ("KP_BENCH_VERBOSE") != NULL)
    {
      qsort (parse, RUNS, sizeof parse[0], compare_doubles);
      qsort (widgets, RUNS, sizeof widgets[0], compare_doubles);
      qsort (alloc, RUNS, sizeof alloc[0], compare_doubles);
      g_print ("# layout_200k_build_ms: medians %.2f ms parse, %.2f ms widgets, %.2f ms until the frame is painted\n",
               parse[RUNS / 2], widgets[RUNS / 2], alloc[RUNS / 2]);
    }
  report ("layout_200k_build_ms", build, RUNS);
  report ("layout_200k_widgets_ms", whole, RUNS);
  gtk_window_destroy (GTK_WINDOW (window));
}

static void
reloaded_cb (KpPreviewWindow *window,
             guint           *n)
{
  (*n)++;
}

static void
bench_reload (const char *name,
              char *    (*generate) (const char *comment),
              guint       runs)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *folder = g_dir_make_tmp ("kp-bench-preview-XXXXXX", &error);
  g_autofree char *path = g_build_filename (folder, "task.html", NULL);
  g_autofree char *first = generate ("first");
  g_autoptr(GFile) file = g_file_new_for_path (path);
  KpPreviewWindow *window;
  double times[RUNS];
  double reloaded[RUNS];
  guint n_reloads = 0;

  g_assert_cmpuint (runs, <=, RUNS);

  g_assert_no_error (error);
  g_file_set_contents (path, first, -1, &error);
  g_assert_no_error (error);

  window = kp_preview_window_new (NULL, file, NULL, 0);
  kp_layout_view_set_media_func (KP_LAYOUT_VIEW (kp_preview_window_get_view (window)), offline_media, NULL, NULL);
  g_signal_connect (window, "reloaded", G_CALLBACK (reloaded_cb), &n_reloads);
  gtk_window_present (GTK_WINDOW (window));
  wait_for_paint (GTK_WIDGET (window));

  for (guint i = 0; i < runs; i++)
    {
      g_autofree char *comment = g_strdup_printf ("edit %u", i);
      g_autofree char *text = generate (comment);
      guint before = n_reloads;
      gint64 deadline;
      gint64 start;

      /* Settle (the rest of the last page, freeing the one before), so
       * the runs do not overlap. */
      while (g_main_context_pending (NULL))
        g_main_context_iteration (NULL, FALSE);
      deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

      /* Saved as editors do: a new file renamed over the old one. The
       * change is there once the rename is done. */
      g_file_set_contents (path, text, -1, &error);
      g_assert_no_error (error);
      start = g_get_monotonic_time ();
      while (n_reloads == before && g_get_monotonic_time () < deadline)
        g_main_context_iteration (NULL, TRUE);
      g_assert_cmpuint (n_reloads, >, before);
      reloaded[i] = (g_get_monotonic_time () - start) / 1000.0;
      wait_for_paint (GTK_WIDGET (window));
      times[i] = (g_get_monotonic_time () - start) / 1000.0;
    }

  if (g_getenv ("KP_BENCH_VERBOSE") != NULL)
    {
      qsort (reloaded, runs, sizeof reloaded[0], compare_doubles);
      g_print ("# %s: %.2f ms until the view was rebuilt (median), the rest drawing the frame\n",
               name, reloaded[runs / 2]);
    }

  report (name, times, runs);

  gtk_window_destroy (GTK_WINDOW (window));
  g_unlink (path);
  g_rmdir (folder);
}

int
main (int   argc,
      char *argv[])
{
  /* Xvfb has no session bus, and GTK warns about it: keep only
   * criticals fatal. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  if (!gtk_init_check ())
    {
      g_printerr ("bench-preview needs a display: run it under xvfb-run\n");
      return 77;
    }
  adw_init ();

  /* KP_BENCH_ONLY=NAME runs one of them, for a profiler. */
  if (g_getenv ("KP_BENCH_ONLY") == NULL || g_str_equal (g_getenv ("KP_BENCH_ONLY"), "layout_200k_build_ms"))
    bench_widgets ();
  if (g_getenv ("KP_BENCH_ONLY") == NULL || g_str_equal (g_getenv ("KP_BENCH_ONLY"), "preview_reload_ms"))
    bench_reload ("preview_reload_ms", generate_task, RUNS);
  if (g_getenv ("KP_BENCH_ONLY") == NULL || g_str_equal (g_getenv ("KP_BENCH_ONLY"), "preview_reload_200k_ms"))
    bench_reload ("preview_reload_200k_ms", generate_template, 5);

  return EXIT_SUCCESS;
}
