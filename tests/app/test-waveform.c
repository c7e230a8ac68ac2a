/* test-waveform.c: KpWaveform creates and edits regions, zooms, snaps, plays
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Drags go through the same handlers the gestures call, in widget
 * coordinates; keys through the actions they are bound to.
 */

#include "config.h"

#include <math.h>

#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gtk/gtk.h>

#include "kp-core.h"
#include "kp-peaks.h"
#include "kp-player.h"
#include "kp-waveform.h"
#include "kp-waveform-private.h"

#define WIDTH  800
#define HEIGHT 300
#define RATE   48000

static char *fixture_dir;
static char *fixture_path;

typedef struct
{
  GtkWidget  *window;
  KpWaveform *waveform;
  KpPeaks    *peaks;
  KpRegions  *regions;
  KpPlayer   *player;
  GFile      *file;
} Fixture;

/* 2 s of a 440 Hz sine at half scale, 48 kHz mono. */
static void
make_fixture_file (const char *path)
{
  g_autofree char *desc = g_strdup_printf ("audiotestsrc num-buffers=20 samplesperbuffer=4800 "
                                           "volume=0.5 freq=440 ! audio/x-raw,rate=48000,"
                                           "channels=1,format=S16LE ! wavenc ! filesink "
                                           "location=\"%s\"", path);
  g_autoptr(GError) error = NULL;
  g_autoptr(GstElement) pipeline = gst_parse_launch (desc, &error);
  g_autoptr(GstBus) bus = NULL;
  g_autoptr(GstMessage) msg = NULL;

  g_assert_no_error (error);
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_element_set_state (pipeline, GST_STATE_NULL);
}

static void
store_result_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static void
wait_until (gboolean (*done) (gpointer),
            gpointer   data)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (!done (data))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static gboolean
allocated (gpointer data)
{
  return gtk_widget_get_width (data) == WIDTH && gtk_widget_get_height (data) == HEIGHT;
}

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  fixture->file = g_file_new_for_path (fixture_path);
  fixture->peaks = kp_peaks_new ();
  kp_peaks_load_async (fixture->peaks, fixture->file, KP_PEAKS_LOAD_NO_CACHE, NULL,
                       store_result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (kp_peaks_load_finish (fixture->peaks, result, &error));
  g_assert_no_error (error);

  fixture->regions = kp_regions_new (RATE);
  kp_regions_add_tier (fixture->regions, "A");
  kp_regions_add_tier (fixture->regions, "B");
  fixture->player = kp_player_new ("fakesink");
  g_assert_true (kp_player_set_file (fixture->player, fixture->file, &error));
  g_assert_no_error (error);

  fixture->window = gtk_window_new ();
  fixture->waveform = KP_WAVEFORM (kp_waveform_new ());
  g_object_ref_sink (fixture->waveform);
  gtk_widget_set_size_request (GTK_WIDGET (fixture->waveform), WIDTH, HEIGHT);
  gtk_window_set_child (GTK_WINDOW (fixture->window), GTK_WIDGET (fixture->waveform));
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), WIDTH, HEIGHT);
  gtk_window_set_resizable (GTK_WINDOW (fixture->window), FALSE);
  kp_waveform_set_peaks (fixture->waveform, fixture->peaks);
  kp_waveform_set_file (fixture->waveform, fixture->file);
  kp_waveform_set_regions (fixture->waveform, fixture->regions);
  kp_waveform_set_player (fixture->waveform, fixture->player);
  gtk_window_present (GTK_WINDOW (fixture->window));
  wait_until (allocated, fixture->waveform);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  gtk_window_destroy (GTK_WINDOW (fixture->window));
  /* Reads still in flight hold the widget until they report back. */
  while (G_OBJECT (fixture->waveform)->ref_count > 1)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_finalize_object (fixture->waveform);
  kp_player_pause (fixture->player);
  g_assert_finalize_object (fixture->player);
  g_assert_finalize_object (fixture->regions);
  g_assert_finalize_object (fixture->peaks);
  g_clear_object (&fixture->file);
}

static void
drag (KpWaveform *waveform,
      double      x0,
      double      y0,
      double      x1,
      double      y1)
{
  _kp_waveform_pointer_press (waveform, x0, y0);
  _kp_waveform_pointer_motion (waveform, (x0 + x1) / 2, (y0 + y1) / 2);
  _kp_waveform_pointer_motion (waveform, x1, y1);
  _kp_waveform_pointer_release (waveform, x1, y1);
}

static gint64
sample_at (KpWaveform *waveform,
           double      x)
{
  return (gint64)llround (kp_waveform_sample_at_x (waveform, x));
}

/* Nodes of a type in a snapshot, through containers, clips and transforms. */
static guint
count_nodes (GskRenderNode     *node,
             GskRenderNodeType  type)
{
  GskRenderNodeType node_type = gsk_render_node_get_node_type (node);

  if (node_type == type)
    return 1;
  switch (node_type)
    {
    case GSK_CONTAINER_NODE:
      {
        guint n = 0;

        for (guint i = 0; i < gsk_container_node_get_n_children (node); i++)
          n += count_nodes (gsk_container_node_get_child (node, i), type);
        return n;
      }
    case GSK_CLIP_NODE:
      return count_nodes (gsk_clip_node_get_child (node), type);
    case GSK_TRANSFORM_NODE:
      return count_nodes (gsk_transform_node_get_child (node), type);
    default:
      return 0;
    }
}

static guint
snapshot_nodes (KpWaveform        *waveform,
                GskRenderNodeType  type)
{
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;

  _kp_waveform_snapshot_at (waveform, snapshot, WIDTH, HEIGHT);
  node = gtk_snapshot_free_to_node (snapshot);
  return node ? count_nodes (node, type) : 0;
}

/* Whether a texture node of the given width is in node. */
static gboolean
has_texture_of_width (GskRenderNode *node,
                      int            width)
{
  switch (gsk_render_node_get_node_type (node))
    {
    case GSK_TEXTURE_NODE:
      return gdk_texture_get_width (gsk_texture_node_get_texture (node)) == width;
    case GSK_CONTAINER_NODE:
      for (guint i = 0; i < gsk_container_node_get_n_children (node); i++)
        if (has_texture_of_width (gsk_container_node_get_child (node, i), width))
          return TRUE;
      return FALSE;
    case GSK_CLIP_NODE:
      return has_texture_of_width (gsk_clip_node_get_child (node), width);
    case GSK_TRANSFORM_NODE:
      return has_texture_of_width (gsk_transform_node_get_child (node), width);
    default:
      return FALSE;
    }
}

static guint
snapshot_color_nodes (KpWaveform *waveform)
{
  return snapshot_nodes (waveform, GSK_COLOR_NODE);
}

static gboolean
detail_complete (gpointer data)
{
  KpSpectrogram *detail = _kp_waveform_get_detail_spectrogram (data);

  return detail != NULL && kp_spectrogram_get_complete (detail);
}

/* Zoomed into a long file, the view gets a finer spectrogram of its own. */
static void
test_detail_spectrogram (Fixture       *fixture,
                         gconstpointer  data)
{
  KpWaveform *w = fixture->waveform;
  g_autofree char *path = g_build_filename (fixture_dir, "long.wav", NULL);
  g_autofree char *desc = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(KpPeaks) peaks = kp_peaks_new ();
  g_autoptr(KpSpectrogram) spec = kp_spectrogram_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) spec_result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GstElement) pipeline = NULL;
  g_autoptr(GstBus) bus = NULL;
  g_autoptr(GstMessage) msg = NULL;
  KpSpectrogram *detail;
  double start_s;

  /* 200 s at 8 kHz: the overview's columns are longer than 10 ms. */
  desc = g_strdup_printf ("audiotestsrc freq=1000 num-buffers=200 samplesperbuffer=8000 ! "
                          "audio/x-raw,rate=8000,channels=1,format=S16LE ! wavenc ! "
                          "filesink location=\"%s\"", path);
  pipeline = gst_parse_launch (desc, &error);
  g_assert_no_error (error);
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_element_set_state (pipeline, GST_STATE_NULL);

  file = g_file_new_for_path (path);
  kp_peaks_load_async (peaks, file, KP_PEAKS_LOAD_NO_CACHE, NULL, store_result_cb, &result);
  kp_spectrogram_load_async (spec, file, KP_SPECTROGRAM_LOAD_NO_CACHE, NULL, store_result_cb,
                             &spec_result);
  while (result == NULL || spec_result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (kp_peaks_load_finish (peaks, result, &error));
  g_assert_true (kp_spectrogram_load_finish (spec, spec_result, &error));
  g_assert_no_error (error);
  g_assert_cmpint (kp_spectrogram_get_hop (spec), >, KP_SPECTROGRAM_MIN_HOP_NS);

  kp_waveform_set_peaks (w, peaks);
  kp_waveform_set_file (w, file);
  kp_waveform_set_spectrogram (w, spec);
  kp_waveform_set_show_spectrogram (w, TRUE);
  /* Zoomed out, the overview is fine enough. */
  g_assert_null (_kp_waveform_get_detail_spectrogram (w));

  /* 2 s on screen around 100 s. */
  kp_waveform_set_view (w, 100 * 8000, 2.0 * 8000 / WIDTH);
  wait_until (detail_complete, w);
  detail = _kp_waveform_get_detail_spectrogram (w);
  g_assert_cmpint (kp_spectrogram_get_hop (detail), ==, KP_SPECTROGRAM_MIN_HOP_NS);
  start_s = kp_spectrogram_get_start (detail) / 1e9;
  g_assert_cmpfloat (start_s, <=, 100);
  g_assert_cmpfloat (start_s + kp_spectrogram_get_n_columns (detail) * 0.01, >=, 101.9);
  /* Both are drawn: the overview (one or two of its tiles), and the detail over it. */
  {
    guint with_detail = snapshot_nodes (w, GSK_TEXTURE_NODE);

    kp_waveform_set_show_spectrogram (w, FALSE);
    g_assert_cmpuint (snapshot_nodes (w, GSK_TEXTURE_NODE), ==, 0);
    kp_waveform_set_show_spectrogram (w, TRUE);
    g_assert_cmpuint (with_detail, >=, 2);
    g_assert_true (_kp_waveform_get_detail_spectrogram (w) == detail);
  }
  {
    GtkSnapshot *snapshot = gtk_snapshot_new ();
    g_autoptr(GskRenderNode) node = NULL;

    _kp_waveform_snapshot_at (w, snapshot, WIDTH, HEIGHT);
    node = gtk_snapshot_free_to_node (snapshot);
    /* The detail's single tile: one texture column per detail column. */
    g_assert_cmpuint (kp_spectrogram_get_n_columns (detail), <, 2048);
    g_assert_true (has_texture_of_width (node, kp_spectrogram_get_n_columns (detail)));
  }

  /* Scrolling within what it covers keeps it. */
  kp_waveform_set_view (w, 100.5 * 8000, 2.0 * 8000 / WIDTH);
  g_assert_true (_kp_waveform_get_detail_spectrogram (w) == detail);
  g_unlink (path);
}

static void
test_spectrogram (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autoptr(KpSpectrogram) spec = kp_spectrogram_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  kp_waveform_set_spectrogram (fixture->waveform, spec);
  kp_spectrogram_load_async (spec, fixture->file, KP_SPECTROGRAM_LOAD_NO_CACHE, NULL,
                             store_result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (kp_spectrogram_load_finish (spec, result, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (snapshot_nodes (fixture->waveform, GSK_TEXTURE_NODE), ==, 0);
  gtk_widget_activate_action (GTK_WIDGET (fixture->waveform), "waveform.toggle-spectrogram", NULL);
  g_assert_true (kp_waveform_get_show_spectrogram (fixture->waveform));
  /* 2 s at a 10 ms hop: one texture tile. */
  g_assert_cmpuint (snapshot_nodes (fixture->waveform, GSK_TEXTURE_NODE), ==, 1);
  /* The waveform still has its columns, in the upper half. */
  g_assert_cmpuint (snapshot_color_nodes (fixture->waveform), >=, WIDTH);
}

static void
test_draw (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(KpPeaks) empty = kp_peaks_new ();
  guint full, none;

  /* One rectangle per pixel column of audio, plus the ruler and axis. */
  full = snapshot_color_nodes (fixture->waveform);
  g_assert_cmpuint (full, >=, WIDTH);
  /* Peaks with nothing decoded yet draw no columns. */
  kp_waveform_set_peaks (fixture->waveform, empty);
  none = snapshot_color_nodes (fixture->waveform);
  g_assert_cmpuint (none, <, 100);
  /* Regions add their boxes. */
  kp_waveform_set_peaks (fixture->waveform, fixture->peaks);
  {
    g_autoptr(KpRegion) r = kp_region_new (1000, 20000, "A", "x");

    kp_regions_add (fixture->regions, r);
    g_assert_cmpuint (snapshot_color_nodes (fixture->waveform), >, full);
  }
}

typedef struct
{
  KpWaveform *waveform;
  guint       n_changed;
  guint       n_partial;
  guint       last;
} Progress;

static void
progress_changed_cb (KpPeaks  *peaks,
                     gint64    start,
                     gint64    end,
                     Progress *progress)
{
  guint columns = snapshot_color_nodes (progress->waveform);

  progress->n_changed++;
  /* Each view has more columns than the one before, until the end. */
  g_assert_cmpuint (columns, >=, progress->last);
  progress->last = columns;
  if (!kp_peaks_get_complete (peaks) && columns > 10 && columns < WIDTH)
    progress->n_partial++;
}

/* While a long file decodes, what is decoded is drawn, left to right. */
static void
test_progressive (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autofree char *path = g_build_filename (fixture_dir, "long.flac", NULL);
  g_autofree char *desc = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(KpPeaks) peaks = kp_peaks_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GstElement) pipeline = NULL;
  g_autoptr(GstBus) bus = NULL;
  g_autoptr(GstMessage) msg = NULL;
  Progress progress = { fixture->waveform, 0, 0, 0 };

  /* Ten minutes of noise, FLAC: slow enough to decode to be seen in parts. */
  desc = g_strdup_printf ("audiotestsrc wave=white-noise num-buffers=1250 samplesperbuffer=9600 ! "
                          "audio/x-raw,rate=20000,channels=1,format=S16LE ! flacenc ! "
                          "filesink location=\"%s\"", path);
  pipeline = gst_parse_launch (desc, &error);
  g_assert_no_error (error);
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_element_set_state (pipeline, GST_STATE_NULL);

  file = g_file_new_for_path (path);
  kp_waveform_set_peaks (fixture->waveform, peaks);
  kp_waveform_set_file (fixture->waveform, file);
  kp_waveform_zoom_all (fixture->waveform);
  g_signal_connect (peaks, "changed", G_CALLBACK (progress_changed_cb), &progress);
  kp_peaks_load_async (peaks, file, KP_PEAKS_LOAD_NO_CACHE, NULL, store_result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (kp_peaks_load_finish (peaks, result, &error));
  g_assert_no_error (error);
  g_test_message ("%u changes, %u drawn in part", progress.n_changed, progress.n_partial);
  g_assert_cmpuint (progress.n_partial, >=, 1);
  /* The view followed the length as it became known, and ends whole. */
  g_assert_cmpfloat_with_epsilon (kp_waveform_get_samples_per_pixel (fixture->waveform),
                                  (double)kp_peaks_get_n_samples (peaks) / WIDTH, 1e-6);
  g_assert_cmpuint (snapshot_color_nodes (fixture->waveform), >=, WIDTH);
  g_unlink (path);
}

static void
test_view (Fixture       *fixture,
           gconstpointer  data)
{
  KpWaveform *w = fixture->waveform;
  double spp_all = (double)kp_peaks_get_n_samples (fixture->peaks) / WIDTH;
  double anchor;

  /* The whole file fits at first. */
  g_assert_cmpfloat (kp_waveform_get_view_start (w), ==, 0);
  g_assert_cmpfloat_with_epsilon (kp_waveform_get_samples_per_pixel (w), spp_all, 1e-9);

  /* Zooming keeps the sample under the pointer. */
  anchor = kp_waveform_sample_at_x (w, 200);
  kp_waveform_zoom_at (w, 4, 200);
  g_assert_cmpfloat_with_epsilon (kp_waveform_get_samples_per_pixel (w), spp_all / 4, 1e-9);
  g_assert_cmpfloat_with_epsilon (kp_waveform_sample_at_x (w, 200), anchor, 1e-6);

  /* Out past the whole file is clamped to it; the view never leaves it. */
  kp_waveform_zoom_at (w, 0.01, 100);
  g_assert_cmpfloat_with_epsilon (kp_waveform_get_samples_per_pixel (w), spp_all, 1e-9);
  g_assert_cmpfloat (kp_waveform_get_view_start (w), ==, 0);
  kp_waveform_set_view (w, 1e12, 10);
  g_assert_cmpfloat (kp_waveform_get_view_start (w) + WIDTH * 10, <=,
                     kp_peaks_get_n_samples (fixture->peaks));

  gtk_widget_activate_action (GTK_WIDGET (w), "waveform.zoom-in", NULL);
  g_assert_cmpfloat (kp_waveform_get_samples_per_pixel (w), ==, 5);
  gtk_widget_activate_action (GTK_WIDGET (w), "waveform.zoom-all", NULL);
  g_assert_cmpfloat_with_epsilon (kp_waveform_get_samples_per_pixel (w), spp_all, 1e-9);
}

static gboolean
has_width (gpointer data)
{
  return gtk_widget_get_width (data) > 0;
}

/* In a GtkScrolledWindow the scrollbar scrolls the file. */
static void
test_scrollable (Fixture       *fixture,
                 gconstpointer  data)
{
  KpWaveform *w = fixture->waveform;
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkAdjustment *h;
  double n = kp_peaks_get_n_samples (fixture->peaks);

  g_object_ref (w);
  gtk_window_set_child (GTK_WINDOW (fixture->window), NULL);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (w));
  gtk_window_set_child (GTK_WINDOW (fixture->window), scrolled);
  g_object_unref (w);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_ALWAYS, GTK_POLICY_NEVER);

  wait_until (has_width, w);
  h = gtk_scrollable_get_hadjustment (GTK_SCROLLABLE (w));
  g_assert_nonnull (h);
  kp_waveform_set_view (w, n / 4, n / 4 / WIDTH);
  /* Pixels of the whole file at this zoom; the page is the view. */
  g_assert_cmpfloat_with_epsilon (gtk_adjustment_get_upper (h), 4 * WIDTH, 1e-6);
  g_assert_cmpfloat_with_epsilon (gtk_adjustment_get_value (h), WIDTH, 1e-6);
  g_assert_cmpfloat (gtk_adjustment_get_page_size (h), ==, gtk_widget_get_width (GTK_WIDGET (w)));

  /* Moving the scrollbar moves the view. */
  gtk_adjustment_set_value (h, 2 * WIDTH);
  g_assert_cmpfloat_with_epsilon (kp_waveform_get_view_start (w), n / 2, 1e-6);
  /* And zooming out to all fills the scrollbar's trough. */
  kp_waveform_zoom_all (w);
  g_assert_cmpfloat (gtk_adjustment_get_value (h), ==, 0);
  g_assert_cmpfloat_with_epsilon (gtk_adjustment_get_upper (h), gtk_adjustment_get_page_size (h), 1);
}

static gboolean
samples_cover_view (gpointer data)
{
  KpWaveform *w = data;
  const float *samples;
  guint n;
  gint64 start = _kp_waveform_get_samples (w, &samples, &n);

  return n > 0 && start <= kp_waveform_get_view_start (w)
         && start + n >= kp_waveform_get_view_start (w) + WIDTH * kp_waveform_get_samples_per_pixel (w);
}

static void
test_sample_zoom (Fixture       *fixture,
                  gconstpointer  data)
{
  KpWaveform *w = fixture->waveform;
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  const float *samples;
  guint n;
  gint64 start;
  float peak = 0;

  /* Four pixels per sample around 1 s: the samples themselves are read. */
  kp_waveform_set_view (w, RATE, 0.25);
  g_assert_cmpfloat (kp_waveform_get_samples_per_pixel (w), ==, 0.25);
  wait_until (samples_cover_view, w);
  start = _kp_waveform_get_samples (w, &samples, &n);
  for (guint i = 0; i < n; i++)
    peak = MAX (peak, fabsf (samples[i]));
  g_assert_cmpfloat_with_epsilon (peak, 0.5, 0.01);
  /* And they are the right ones: the sine's phase at their position
   * (audiotestsrc's sample k is sin of k + 1 steps). */
  for (guint i = 0; i < n; i += 97)
    g_assert_cmpfloat_with_epsilon (samples[i], 0.5 * sin (2 * G_PI * 440 * (start + i + 1) / RATE),
                                    0.01);

  snapshot = gtk_snapshot_new ();
  _kp_waveform_snapshot_at (w, snapshot, WIDTH, HEIGHT);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  g_assert_nonnull (node);
}

static void
test_create (Fixture       *fixture,
             gconstpointer  data)
{
  KpWaveform *w = fixture->waveform;
  KpRegion *r;

  /* A drag on lane B makes a region there, exactly where the pointer went. */
  drag (w, 100, _kp_waveform_lane_y (w, 1), 300, _kp_waveform_lane_y (w, 1));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->regions)), ==, 1);
  r = kp_regions_get_region (fixture->regions, 0);
  g_assert_cmpstr (kp_region_get_tier (r), ==, "B");
  g_assert_cmpint (kp_region_get_start (r), ==, sample_at (w, 100));
  g_assert_cmpint (kp_region_get_end (r), ==, sample_at (w, 300));
  g_assert_true (kp_waveform_get_selected_region (w) == r);
  g_assert_cmpstr (kp_waveform_get_current_tier (w), ==, "B");

  /* Right to left works the same; on the waveform it uses the current tier. */
  drag (w, 700, _kp_waveform_wave_y (w), 500, _kp_waveform_wave_y (w));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->regions)), ==, 2);
  r = kp_waveform_get_selected_region (w);
  g_assert_cmpstr (kp_region_get_tier (r), ==, "B");
  g_assert_cmpint (kp_region_get_start (r), ==, sample_at (w, 500));
  g_assert_cmpint (kp_region_get_end (r), ==, sample_at (w, 700));

  /* Overlapping regions on another tier. */
  drag (w, 200, _kp_waveform_lane_y (w, 0), 600, _kp_waveform_lane_y (w, 0));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->regions)), ==, 3);
  g_assert_cmpstr (kp_region_get_tier (kp_waveform_get_selected_region (w)), ==, "A");

  /* A click on empty space makes nothing, deselects and seeks. */
  _kp_waveform_pointer_press (w, 400, _kp_waveform_wave_y (w));
  _kp_waveform_pointer_release (w, 401, _kp_waveform_wave_y (w));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->regions)), ==, 3);
  g_assert_null (kp_waveform_get_selected_region (w));
  g_assert_cmpint (ABS (kp_player_get_position (fixture->player)
                        - (gint64)(sample_at (w, 401) * 1e9 / RATE)), <, 1000000);
}

static void
test_edit (Fixture       *fixture,
           gconstpointer  data)
{
  KpWaveform *w = fixture->waveform;
  g_autoptr(KpRegion) r = kp_region_new (sample_at (w, 200), sample_at (w, 400), "A", "x");
  g_autoptr(KpRegion) other = kp_region_new (sample_at (w, 250), sample_at (w, 450), "B", "y");
  double lane_a = _kp_waveform_lane_y (w, 0);
  gint64 length;

  kp_regions_add (fixture->regions, r);
  kp_regions_add (fixture->regions, other);

  /* Resize by the end edge on its lane. */
  drag (w, 400, lane_a, 450, lane_a);
  g_assert_true (kp_waveform_get_selected_region (w) == r);
  g_assert_cmpint (kp_region_get_start (r), ==, sample_at (w, 200));
  g_assert_cmpint (kp_region_get_end (r), ==, sample_at (w, 450));

  /* Resize by the start edge, on the waveform: the selection's edges work there. */
  drag (w, 200, _kp_waveform_wave_y (w), 150, _kp_waveform_wave_y (w));
  g_assert_cmpint (kp_region_get_start (r), ==, sample_at (w, 150));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (fixture->regions)), ==, 2);

  /* Move by the body: the length is kept. */
  length = kp_region_get_end (r) - kp_region_get_start (r);
  drag (w, 300, lane_a, 340, lane_a);
  g_assert_cmpint (kp_region_get_end (r) - kp_region_get_start (r), ==, length);
  g_assert_cmpint (kp_region_get_start (r), ==, sample_at (w, 150) + sample_at (w, 340) - sample_at (w, 300));

  /* Dragging the start past the end flips them over. */
  drag (w, kp_waveform_x_for_sample (w, kp_region_get_start (r)), lane_a,
        kp_waveform_x_for_sample (w, kp_region_get_end (r)) + 60, lane_a);
  g_assert_cmpint (kp_region_get_start (r), <, kp_region_get_end (r));

  /* Moving cannot leave the file. */
  drag (w, kp_waveform_x_for_sample (w, kp_region_get_start (r)) + 20, lane_a, -2000, lane_a);
  g_assert_cmpint (kp_region_get_start (r), ==, 0);

  /* The other region on lane B was never touched. */
  g_assert_cmpint (kp_region_get_start (other), ==, sample_at (w, 250));
  g_assert_cmpint (kp_region_get_end (other), ==, sample_at (w, 450));
}

static void
test_keys (Fixture       *fixture,
           gconstpointer  data)
{
  static const char * const labels[] = { "speech", "music", NULL };
  KpWaveform *w = fixture->waveform;
  g_autoptr(KpRegion) a = kp_region_new (4800, 9600, "A", NULL);
  g_autoptr(KpRegion) b = kp_region_new (7200, 20000, "B", NULL);
  g_autoptr(KpRegion) c = kp_region_new (30000, 40000, "A", NULL);
  gint64 step;

  kp_regions_add (fixture->regions, c);
  kp_regions_add (fixture->regions, b);
  kp_regions_add (fixture->regions, a);
  kp_waveform_set_labels (w, labels);

  /* Tab walks the regions in time order, across tiers. */
  gtk_widget_activate_action (GTK_WIDGET (w), "region.next", NULL);
  g_assert_true (kp_waveform_get_selected_region (w) == a);
  gtk_widget_activate_action (GTK_WIDGET (w), "region.next", NULL);
  g_assert_true (kp_waveform_get_selected_region (w) == b);
  gtk_widget_activate_action (GTK_WIDGET (w), "region.next", NULL);
  g_assert_true (kp_waveform_get_selected_region (w) == c);
  gtk_widget_activate_action (GTK_WIDGET (w), "region.next", NULL);
  g_assert_true (kp_waveform_get_selected_region (w) == c);
  gtk_widget_activate_action (GTK_WIDGET (w), "region.previous", NULL);
  g_assert_true (kp_waveform_get_selected_region (w) == b);

  /* 1–9 label it. */
  gtk_widget_activate_action (GTK_WIDGET (w), "region.label", "i", 2);
  g_assert_cmpstr (kp_region_get_label (b), ==, "music");
  gtk_widget_activate_action (GTK_WIDGET (w), "region.label", "i", 9);
  g_assert_cmpstr (kp_region_get_label (b), ==, "music");

  /* Up and Down move it between tiers, within the tiers there are. */
  gtk_widget_activate_action (GTK_WIDGET (w), "region.tier", "i", -1);
  g_assert_cmpstr (kp_region_get_tier (b), ==, "A");
  gtk_widget_activate_action (GTK_WIDGET (w), "region.tier", "i", -1);
  g_assert_cmpstr (kp_region_get_tier (b), ==, "A");
  gtk_widget_activate_action (GTK_WIDGET (w), "region.tier", "i", 1);
  g_assert_cmpstr (kp_region_get_tier (b), ==, "B");
  g_assert_cmpstr (kp_waveform_get_current_tier (w), ==, "B");

  /* Arrows nudge the edges by a pixel's worth. */
  step = MAX (1, llround (kp_waveform_get_samples_per_pixel (w)));
  gtk_widget_activate_action (GTK_WIDGET (w), "region.nudge-start", "i", 1);
  g_assert_cmpint (kp_region_get_start (b), ==, 7200 + step);
  gtk_widget_activate_action (GTK_WIDGET (w), "region.nudge-end", "i", -1);
  g_assert_cmpint (kp_region_get_end (b), ==, 20000 - step);

  /* Loop it, then stop looping. */
  gtk_widget_activate_action (GTK_WIDGET (w), "region.loop", NULL);
  g_assert_true (kp_player_get_looping (fixture->player));
  g_assert_true (kp_player_get_playing (fixture->player));
  gtk_widget_activate_action (GTK_WIDGET (w), "region.loop", NULL);
  g_assert_false (kp_player_get_looping (fixture->player));
  gtk_widget_activate_action (GTK_WIDGET (w), "waveform.play-pause", NULL);
  g_assert_false (kp_player_get_playing (fixture->player));

  /* [ and ] step the speed through 0.25× … 4×; \\ resets it. */
  gtk_widget_activate_action (GTK_WIDGET (w), "waveform.speed", "i", 1);
  g_assert_cmpfloat (kp_player_get_rate (fixture->player), ==, 1.25);
  for (guint i = 0; i < 10; i++)
    gtk_widget_activate_action (GTK_WIDGET (w), "waveform.speed", "i", 1);
  g_assert_cmpfloat (kp_player_get_rate (fixture->player), ==, 4);
  for (guint i = 0; i < 10; i++)
    gtk_widget_activate_action (GTK_WIDGET (w), "waveform.speed", "i", -1);
  g_assert_cmpfloat (kp_player_get_rate (fixture->player), ==, 0.25);
  gtk_widget_activate_action (GTK_WIDGET (w), "waveform.speed", "i", 1);
  g_assert_cmpfloat (kp_player_get_rate (fixture->player), ==, 0.5);
  gtk_widget_activate_action (GTK_WIDGET (w), "waveform.speed", "i", 0);
  g_assert_cmpfloat (kp_player_get_rate (fixture->player), ==, 1);

  /* Delete removes it; Escape deselects. */
  gtk_widget_activate_action (GTK_WIDGET (w), "region.delete", NULL);
  g_assert_cmpint (kp_regions_index_of (fixture->regions, b), ==, -1);
  g_assert_null (kp_waveform_get_selected_region (w));
  gtk_widget_activate_action (GTK_WIDGET (w), "region.next", NULL);
  g_assert_nonnull (kp_waveform_get_selected_region (w));
  gtk_widget_activate_action (GTK_WIDGET (w), "region.select-none", NULL);
  g_assert_null (kp_waveform_get_selected_region (w));

  gtk_test_accessible_assert_property (GTK_ACCESSIBLE (w), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                       "Waveform");
}

/* The action and argument a key runs, from the widget's own shortcuts. */
static char *
action_for_key (GtkWidget       *widget,
                guint            keyval,
                GdkModifierType  modifiers)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);

  for (guint c = 0; c < g_list_model_get_n_items (controllers); c++)
    {
      g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, c);

      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;
      for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (controller)); i++)
        {
          g_autoptr(GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), i);
          GtkShortcutTrigger *trigger = gtk_shortcut_get_trigger (shortcut);
          GtkShortcutAction *action = gtk_shortcut_get_action (shortcut);
          GVariant *args = gtk_shortcut_get_arguments (shortcut);

          if (!GTK_IS_KEYVAL_TRIGGER (trigger) || !GTK_IS_NAMED_ACTION (action)
              || gtk_keyval_trigger_get_keyval (GTK_KEYVAL_TRIGGER (trigger)) != keyval
              || gtk_keyval_trigger_get_modifiers (GTK_KEYVAL_TRIGGER (trigger)) != modifiers)
            continue;
          if (args != NULL)
            {
              g_autofree char *printed = g_variant_print (args, FALSE);

              return g_strdup_printf ("%s %s", gtk_named_action_get_action_name (GTK_NAMED_ACTION (action)),
                                      printed);
            }
          return g_strdup (gtk_named_action_get_action_name (GTK_NAMED_ACTION (action)));
        }
    }
  return NULL;
}

static void
test_bindings (Fixture       *fixture,
               gconstpointer  data)
{
  static const struct {
    guint keyval;
    GdkModifierType modifiers;
    const char *action;
  } keys[] = {
    { GDK_KEY_space, 0, "waveform.play-pause" },
    { GDK_KEY_Tab, 0, "region.next" },
    { GDK_KEY_Tab, GDK_SHIFT_MASK, "region.previous" },
    { GDK_KEY_1, 0, "region.label 1" },
    { GDK_KEY_9, 0, "region.label 9" },
    { GDK_KEY_Left, 0, "region.nudge-start -1" },
    { GDK_KEY_Right, GDK_SHIFT_MASK, "region.nudge-end 1" },
    { GDK_KEY_Delete, 0, "region.delete" },
    { GDK_KEY_Return, 0, "region.edit" },
    { GDK_KEY_Up, 0, "region.tier -1" },
    { GDK_KEY_Down, 0, "region.tier 1" },
    { GDK_KEY_l, 0, "region.loop" },
    { GDK_KEY_Escape, 0, "region.select-none" },
    { GDK_KEY_plus, 0, "waveform.zoom-in" },
    { GDK_KEY_minus, 0, "waveform.zoom-out" },
    { GDK_KEY_0, GDK_CONTROL_MASK, "waveform.zoom-all" },
    { GDK_KEY_s, 0, "waveform.toggle-spectrogram" },
    { GDK_KEY_bracketright, 0, "waveform.speed 1" },
    { GDK_KEY_bracketleft, 0, "waveform.speed -1" },
  };

  g_assert_true (gtk_widget_get_focusable (GTK_WIDGET (fixture->waveform)));
  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autofree char *action = action_for_key (GTK_WIDGET (fixture->waveform), keys[i].keyval,
                                                keys[i].modifiers);

      g_assert_cmpstr (action, ==, keys[i].action);
    }
}

static void
test_editor (Fixture       *fixture,
             gconstpointer  data)
{
  KpWaveform *w = fixture->waveform;
  g_autoptr(KpRegion) r = kp_region_new (4800, 24000, "B", "speech");
  GtkWidget *editor, *label_entry, *transcript_entry;

  kp_region_set_transcript (r, "good morning");
  kp_regions_add (fixture->regions, r);

  /* Without a selection there is nothing to edit. */
  gtk_widget_activate_action (GTK_WIDGET (w), "region.edit", NULL);
  g_assert_null (_kp_waveform_get_editor (w, &label_entry, &transcript_entry));

  kp_waveform_set_selected_region (w, r);
  gtk_widget_activate_action (GTK_WIDGET (w), "region.edit", NULL);
  editor = _kp_waveform_get_editor (w, &label_entry, &transcript_entry);
  g_assert_nonnull (editor);
  g_assert_true (gtk_widget_get_visible (editor));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (label_entry)), ==, "speech");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (transcript_entry)), ==, "good morning");

  /* Enter in an entry applies both and closes. */
  gtk_editable_set_text (GTK_EDITABLE (label_entry), "greeting");
  gtk_editable_set_text (GTK_EDITABLE (transcript_entry), "Good morning, everyone.");
  g_signal_emit_by_name (transcript_entry, "activate");
  g_assert_false (gtk_widget_get_visible (editor));
  g_assert_cmpstr (kp_region_get_label (r), ==, "greeting");
  g_assert_cmpstr (kp_region_get_transcript (r), ==, "Good morning, everyone.");

  /* Closing it otherwise keeps what was typed too. */
  gtk_widget_activate_action (GTK_WIDGET (w), "region.edit", NULL);
  gtk_editable_set_text (GTK_EDITABLE (transcript_entry), "Morning.");
  gtk_popover_popdown (GTK_POPOVER (editor));
  g_assert_cmpstr (kp_region_get_transcript (r), ==, "Morning.");
}

static gboolean
snaps_done (gpointer data)
{
  return _kp_waveform_get_pending_snaps (data) == 0;
}

static float *
read_samples (GFile  *file,
              gint64  start,
              guint   n)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  guint channels, rate;

  kp_audio_read_samples_async (file, start, n, NULL, store_result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  bytes = kp_audio_read_samples_finish (result, &channels, &rate, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (channels, ==, 1);
  g_assert_cmpuint (g_bytes_get_size (bytes), ==, n * sizeof (float));
  return g_memdup2 (g_bytes_get_data (bytes, NULL), n * sizeof (float));
}

static void
assert_zero_crossing (GFile  *file,
                      gint64  at)
{
  g_autofree float *s = read_samples (file, at - 1, 2);

  g_test_message ("edge at %" G_GINT64_FORMAT ": %f, %f", at, s[0], s[1]);
  g_assert_true ((s[0] < 0) != (s[1] < 0));
}

static void
test_snap (Fixture       *fixture,
           gconstpointer  data)
{
  KpWaveform *w = fixture->waveform;
  KpRegion *r;

  kp_waveform_set_snap (w, TRUE);
  /* 25 samples per pixel: most drags land off a crossing of the 440 Hz sine. */
  kp_waveform_set_view (w, RATE / 2, 25);
  drag (w, 103, _kp_waveform_lane_y (w, 0), 517, _kp_waveform_lane_y (w, 0));
  r = kp_waveform_get_selected_region (w);
  g_assert_nonnull (r);
  wait_until (snaps_done, w);

  /* Half a period of 440 Hz is 54.5 samples: snapping moves less than that. */
  g_assert_cmpint (ABS (kp_region_get_start (r) - sample_at (w, 103)), <=, 55);
  g_assert_cmpint (ABS (kp_region_get_end (r) - sample_at (w, 517)), <=, 55);
  assert_zero_crossing (fixture->file, kp_region_get_start (r));
  assert_zero_crossing (fixture->file, kp_region_get_end (r));
}

static gboolean
position_past (gpointer data)
{
  Fixture *fixture = data;

  return kp_player_get_position (fixture->player) > 300 * G_GINT64_CONSTANT (1000000);
}

static void
test_playhead (Fixture       *fixture,
               gconstpointer  data)
{
  KpWaveform *w = fixture->waveform;

  /* Zoomed in on the start, the view pages along with playback. */
  kp_waveform_set_view (w, 0, 10);
  gtk_widget_activate_action (GTK_WIDGET (w), "waveform.play-pause", NULL);
  g_assert_true (kp_player_get_playing (fixture->player));
  wait_until (position_past, fixture);
  /* 8000 samples are on screen; at 300 ms (14400) the view has moved on. */
  g_assert_cmpfloat (kp_waveform_get_view_start (w), >, 0);
  {
    double x = kp_waveform_x_for_sample (w, kp_player_get_position (fixture->player) / 1e9 * RATE);

    g_assert_cmpfloat (x, >=, -50);
    g_assert_cmpfloat (x, <=, WIDTH + 50);
  }
  gtk_widget_activate_action (GTK_WIDGET (w), "waveform.play-pause", NULL);
  g_assert_false (kp_player_get_playing (fixture->player));
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  gtk_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);

  fixture_dir = g_dir_make_tmp ("kp-test-waveform-XXXXXX", NULL);
  fixture_path = g_build_filename (fixture_dir, "sine.wav", NULL);
  make_fixture_file (fixture_path);

#define ADD(path, func) \
  g_test_add ("/kempelen/app/waveform/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("draw", test_draw);
  ADD ("view", test_view);
  ADD ("scrollable", test_scrollable);
  ADD ("progressive", test_progressive);
  ADD ("spectrogram", test_spectrogram);
  ADD ("detail-spectrogram", test_detail_spectrogram);
  ADD ("sample-zoom", test_sample_zoom);
  ADD ("create", test_create);
  ADD ("edit", test_edit);
  ADD ("keys", test_keys);
  ADD ("bindings", test_bindings);
  ADD ("editor", test_editor);
  ADD ("snap", test_snap);
  ADD ("playhead", test_playhead);

#undef ADD

  ret = g_test_run ();
  g_unlink (fixture_path);
  g_rmdir (fixture_dir);
  g_free (fixture_path);
  g_free (fixture_dir);
  return ret;
}
