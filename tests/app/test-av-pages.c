/* test-av-pages.c: the workstation's audio and video pages
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each test makes a project folder holding media generated with GStreamer
 * (a sine WAV, an H.264 clip whose frames carry their number), opens its
 * store and drives the page as the window does: load, edit through the
 * same handlers the gestures and keys call, undo, redo, unload, load again.
 */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gtk/gtk.h>

#include "../media/kp-video-fixture.h"
#include "kp-audio-page.h"
#include "kp-audio-page-private.h"
#include "kp-audio-segmenter.h"
#include "kp-core.h"
#include "kp-frame-view.h"
#include "kp-spectrogram.h"
#include "kp-media-item.h"
#include "kp-thumbnailer.h"
#include "kp-timeline.h"
#include "kp-video-page.h"
#include "kp-video-page-private.h"
#include "kp-video-tracker.h"
#include "kp-waveform.h"
#include "kp-waveform-private.h"

#define RATE 48000

typedef struct
{
  char      *folder;
  KpStore   *store;
  KpMedia   *media;
  GtkWidget *window;
  GtkWidget *page;
} Fixture;

static void
run_pipeline (const char *desc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GstElement) pipeline = gst_parse_launch (desc, &error);
  g_autoptr(GstBus) bus = NULL;
  g_autoptr(GstMessage) msg = NULL;

  g_assert_no_error (error);
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_element_set_state (pipeline, GST_STATE_NULL);
}

/* 2 s of a 440 Hz sine, 48 kHz mono. */
static void
make_wav (const char *path)
{
  g_autofree char *desc = g_strdup_printf ("audiotestsrc num-buffers=20 samplesperbuffer=4800 "
                                           "volume=0.5 freq=440 ! audio/x-raw,rate=48000,"
                                           "channels=1,format=S16LE ! wavenc ! filesink "
                                           "location=\"%s\"", path);

  run_pipeline (desc);
}

static void
wait_until (gboolean (*done) (gpointer),
            gpointer   data)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while (!done (data))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static void
settle (void)
{
  gint64 until = g_get_monotonic_time () + 100 * 1000;

  while (g_get_monotonic_time () < until)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (2000);
    }
}

static KpMedia *
find_media (KpStore    *store,
            const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) media = kp_store_list_media (store, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < media->len; i++)
    {
      KpMedia *m = g_ptr_array_index (media, i);

      if (g_str_equal (m->path, name))
        return kp_media_copy (m);
    }
  g_assert_not_reached ();
  return NULL;
}

static void
open_store (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  f->store = kp_store_open (f->folder, &error);
  g_assert_no_error (error);
  kp_store_scan (f->store, NULL, &error);
  g_assert_no_error (error);
}

static void
present (Fixture   *f,
         GtkWidget *page)
{
  f->page = g_object_ref_sink (page);
  f->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (f->window), 1000, 700);
  gtk_window_set_child (GTK_WINDOW (f->window), page);
  gtk_window_present (GTK_WINDOW (f->window));
}

static void
close_page (Fixture *f)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  gtk_window_destroy (GTK_WINDOW (f->window));
  f->window = NULL;
  /* Replies in flight hold the page until they arrive. */
  while (G_OBJECT (f->page)->ref_count > 1)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_finalize_object (f->page);
  f->page = NULL;
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->window != NULL)
    close_page (f);
  g_clear_pointer (&f->media, kp_media_free);
  g_clear_object (&f->store);
  g_free (f->folder);
}

/* Audio */

static void
audio_setup (Fixture       *f,
             gconstpointer  data)
{
  g_autofree char *wav = NULL;
  g_autoptr(GError) error = NULL;

  f->folder = g_dir_make_tmp ("kp-test-av-audio-XXXXXX", &error);
  g_assert_no_error (error);
  wav = g_build_filename (f->folder, "talk.wav", NULL);
  make_wav (wav);
  open_store (f);
  g_assert_cmpint (kp_store_add_label (f->store, "speech", "#3584e4", 1, &error), >, 0);
  g_assert_no_error (error);
  g_assert_cmpint (kp_store_add_label (f->store, "music", "#e66100", 2, &error), >, 0);
  g_assert_no_error (error);
  f->media = find_media (f->store, "talk.wav");
}

static gboolean
audio_ready (gpointer data)
{
  KpAudioPage *page = data;
  KpPeaks *peaks = _kp_audio_page_get_peaks (page);
  GtkWidget *waveform = _kp_audio_page_get_waveform (page);

  return peaks != NULL && kp_peaks_get_complete (peaks) && gtk_widget_get_width (waveform) > 100;
}

static KpAudioPage *
new_audio_page (Fixture *f)
{
  KpAudioPage *page = KP_AUDIO_PAGE (kp_audio_page_new ());

  _kp_audio_page_set_sink (page, "fakesink");
  present (f, GTK_WIDGET (page));
  kp_audio_page_load (page, f->store, f->media);
  wait_until (audio_ready, page);
  return page;
}

static gboolean
can_undo (gpointer data)
{
  return kp_audio_page_get_can_undo (data);
}

static void
drag_region (KpAudioPage *page,
             double       x1,
             double       x2)
{
  KpWaveform *waveform = KP_WAVEFORM (_kp_audio_page_get_waveform (page));
  double y = _kp_waveform_wave_y (waveform);

  _kp_waveform_pointer_press (waveform, x1, y);
  for (double x = x1; x <= x2; x += 10)
    {
      _kp_waveform_pointer_motion (waveform, x, y);
      settle ();
    }
  _kp_waveform_pointer_release (waveform, x2, y);
}

static void
test_audio_edit_undo (Fixture       *f,
                      gconstpointer  data)
{
  KpAudioPage *page = new_audio_page (f);
  GtkWidget *waveform = _kp_audio_page_get_waveform (page);
  KpRegions *regions = _kp_audio_page_get_regions (page);
  g_autoptr(GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  GtkWidget *transcript;
  KpRegion *region;
  g_autofree char *saved = NULL;
  g_autofree char *regions_dir = NULL;
  g_autofree char *regions_file = NULL;
  g_autofree char *db_dir = g_path_get_dirname (kp_store_get_database_path (f->store));

  g_assert_null (_kp_audio_page_get_error (page));
  g_assert_false (kp_audio_page_get_can_undo (page));
  g_assert_cmpuint (kp_regions_get_sample_rate (regions), ==, RATE);

  /* It draws the waveform. */
  _kp_waveform_snapshot_at (KP_WAVEFORM (waveform), snapshot, 800, 220);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  g_assert_nonnull (node);

  /* A drag makes one region, and one undo step however many motions. */
  drag_region (page, 100, 300);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (regions)), ==, 1);
  wait_until (can_undo, page);
  region = kp_regions_get_region (regions, 0);
  g_assert_cmpint (kp_region_get_end (region) - kp_region_get_start (region), >, RATE / 10);
  g_assert_true (kp_waveform_get_selected_region (KP_WAVEFORM (waveform)) == region);

  /* Key 2 picks the project's label with key 2. */
  gtk_widget_activate_action (waveform, "region.label", "i", 2);
  g_assert_cmpstr (kp_region_get_label (region), ==, "music");
  settle ();

  /* The editor sets the transcript. */
  transcript = _kp_audio_page_get_editor_entry (page, "transcript");
  gtk_editable_set_text (GTK_EDITABLE (transcript), "hello world");
  g_signal_emit_by_name (transcript, "activate");
  g_assert_cmpstr (kp_region_get_transcript (region), ==, "hello world");
  settle ();

  /* Saved beside the project database as they are edited. */
  regions_dir = g_build_filename (db_dir, "audio", NULL);
  regions_file = g_strdup_printf ("%s/%" G_GINT64_FORMAT ".regions.json", regions_dir, f->media->id);
  g_assert_true (g_file_get_contents (regions_file, &saved, NULL, NULL));
  g_assert_nonnull (strstr (saved, "hello world"));

  /* Three steps back: transcript, label, the region itself. */
  g_assert_true (kp_audio_page_undo (page));
  region = kp_regions_get_region (regions, 0);
  g_assert_cmpstr (kp_region_get_transcript (region), ==, "");
  g_assert_cmpstr (kp_region_get_label (region), ==, "music");
  g_assert_true (kp_audio_page_undo (page));
  g_assert_cmpstr (kp_region_get_label (kp_regions_get_region (regions, 0)), ==, "");
  g_assert_true (kp_audio_page_undo (page));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (regions)), ==, 0);
  g_assert_false (kp_audio_page_get_can_undo (page));
  g_assert_false (kp_audio_page_undo (page));

  /* And forward again. */
  g_assert_true (kp_audio_page_redo (page));
  g_assert_true (kp_audio_page_redo (page));
  g_assert_true (kp_audio_page_redo (page));
  g_assert_false (kp_audio_page_redo (page));
  region = kp_regions_get_region (regions, 0);
  g_assert_cmpstr (kp_region_get_label (region), ==, "music");
  g_assert_cmpstr (kp_region_get_transcript (region), ==, "hello world");

  /* Moving a region is one step; deleting it another. */
  kp_waveform_set_selected_region (KP_WAVEFORM (waveform), region);
  {
    gint64 start = kp_region_get_start (region);
    double x = kp_waveform_x_for_sample (KP_WAVEFORM (waveform),
                                         (kp_region_get_start (region) + kp_region_get_end (region)) / 2.0);
    double lane_y = _kp_waveform_lane_y (KP_WAVEFORM (waveform), 0);
    KpWaveform *w = KP_WAVEFORM (waveform);

    _kp_waveform_pointer_press (w, x, lane_y);
    _kp_waveform_pointer_motion (w, x + 20, lane_y);
    settle ();
    _kp_waveform_pointer_motion (w, x + 40, lane_y);
    settle ();
    _kp_waveform_pointer_release (w, x + 40, lane_y);
    g_assert_cmpint (kp_region_get_start (region), >, start);
    settle ();
    gtk_widget_activate_action (waveform, "region.delete", NULL);
    settle ();
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (regions)), ==, 0);
    g_assert_true (kp_audio_page_undo (page));
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (regions)), ==, 1);
    g_assert_cmpint (kp_region_get_start (kp_regions_get_region (regions, 0)), >, start);
    g_assert_true (kp_audio_page_undo (page));
    g_assert_cmpint (kp_region_get_start (kp_regions_get_region (regions, 0)), ==, start);
    g_assert_true (kp_audio_page_redo (page));
  }

  /* Reopen the page: the regions and the history come back. */
  close_page (f);
  page = new_audio_page (f);
  regions = _kp_audio_page_get_regions (page);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (regions)), ==, 1);
  region = kp_regions_get_region (regions, 0);
  g_assert_cmpstr (kp_region_get_label (region), ==, "music");
  g_assert_cmpstr (kp_region_get_transcript (region), ==, "hello world");
  g_assert_true (kp_audio_page_get_can_undo (page));
  g_assert_true (kp_audio_page_get_can_redo (page));
  {
    gint64 moved_start = kp_region_get_start (region);

    g_assert_true (kp_audio_page_undo (page));
    g_assert_cmpint (kp_region_get_start (kp_regions_get_region (regions, 0)), <, moved_start);
  }
}

static void
test_audio_attributes_export (Fixture       *f,
                              gconstpointer  data)
{
  KpAudioPage *page = new_audio_page (f);
  KpRegions *regions = _kp_audio_page_get_regions (page);
  GtkWidget *waveform = _kp_audio_page_get_waveform (page);
  GtkWidget *tier = _kp_audio_page_get_editor_entry (page, "tier");
  GtkWidget *key = _kp_audio_page_get_editor_entry (page, "attribute-key");
  GtkWidget *value = _kp_audio_page_get_editor_entry (page, "attribute-value");
  const char *extensions[] = { ".json", ".csv", ".txt", ".TextGrid", ".vtt", ".srt", ".rttm" };
  KpRegion *region;

  drag_region (page, 200, 400);
  wait_until (can_undo, page);
  region = kp_waveform_get_selected_region (KP_WAVEFORM (waveform));
  g_assert_nonnull (region);

  gtk_editable_set_text (GTK_EDITABLE (tier), "Alice");
  g_signal_emit_by_name (tier, "activate");
  g_assert_cmpstr (kp_region_get_tier (region), ==, "Alice");
  settle ();
  gtk_editable_set_text (GTK_EDITABLE (key), "noise");
  gtk_editable_set_text (GTK_EDITABLE (value), "low");
  g_signal_emit_by_name (value, "activate");
  g_assert_cmpstr (kp_region_get_attribute (region, "noise"), ==, "low");
  gtk_widget_activate_action (waveform, "region.label", "i", 1);
  settle ();

  /* Every format exports, and reads back the region. */
  for (guint i = 0; i < G_N_ELEMENTS (extensions); i++)
    {
      g_autofree char *path = g_strconcat (f->folder, "/export", extensions[i], NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(KpRegions) back = kp_regions_new (RATE);

      g_assert_true (_kp_audio_page_export (page, path, &error));
      g_assert_no_error (error);
      g_assert_true (kp_regions_load_file (back, path, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (back)), ==, 1);
      g_assert_cmpint (ABS (kp_region_get_start (kp_regions_get_region (back, 0))
                            - kp_region_get_start (region)), <, RATE / 100);
    }

  /* Importing adds (an undoable step); a bad file adds nothing. */
  {
    g_autofree char *path = g_strconcat (f->folder, "/export.csv", NULL);
    g_autofree char *bad = g_strconcat (f->folder, "/bad.json", NULL);
    g_autoptr(GError) error = NULL;

    g_assert_true (_kp_audio_page_import (page, path, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (regions)), ==, 2);
    settle ();
    g_assert_true (kp_audio_page_undo (page));
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (regions)), ==, 1);
    g_assert_true (g_file_set_contents (bad, "{\"regions\": 3}", -1, NULL));
    g_assert_false (_kp_audio_page_import (page, bad, &error));
    g_assert_nonnull (error);
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (regions)), ==, 1);
  }
}

static void
error_cb (GtkWidget    *page,
          const GError *error,
          gboolean     *emitted)
{
  g_assert_nonnull (error);
  *emitted = TRUE;
}

static gboolean
audio_failed (gpointer data)
{
  return _kp_audio_page_get_error (data) != NULL;
}

static void
test_audio_corrupt (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->folder, "broken.wav", NULL);
  g_autofree char *garbage = g_malloc (4096);
  g_autoptr(KpMedia) broken = NULL;
  KpAudioPage *page = KP_AUDIO_PAGE (kp_audio_page_new ());
  gboolean emitted = FALSE;

  for (guint i = 0; i < 4096; i++)
    garbage[i] = (char)(i * 7919 % 251);
  memcpy (garbage, "RIFF", 4);
  g_assert_true (g_file_set_contents (path, garbage, 4096, NULL));
  g_clear_object (&f->store);
  open_store (f);
  broken = find_media (f->store, "broken.wav");

  _kp_audio_page_set_sink (page, "fakesink");
  present (f, GTK_WIDGET (page));
  g_signal_connect (page, "error", G_CALLBACK (error_cb), &emitted);
  kp_audio_page_load (page, f->store, broken);
  wait_until (audio_failed, page);
  g_assert_true (emitted);
  g_assert_nonnull (_kp_audio_page_get_error (page)->message);

  /* The page still works for the next file. */
  kp_audio_page_load (page, f->store, f->media);
  wait_until (audio_ready, page);
  g_assert_null (_kp_audio_page_get_error (page));
  kp_audio_page_unload (page);
  g_assert_null (_kp_audio_page_get_regions (page));
}


/* Video */

#define N_FRAMES 60

static const KpVideoFixture video_params = {
  .width = 320, .height = 240, .n_frames = N_FRAMES, .fps = 30,
  .keyint = 30, .bframes = 2, .vfr = FALSE, .mux = "mp4mux",
};

static void
video_setup (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *fixture = kp_video_fixture_get (&video_params, &error);
  g_autofree char *contents = NULL;
  g_autofree char *path = NULL;
  gsize length;

  /* The H.264 packages are required: fail, naming them, rather than skip. */
  g_assert_no_error (error);
  f->folder = g_dir_make_tmp ("kp-test-av-video-XXXXXX", &error);
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (fixture, &contents, &length, NULL));
  path = g_build_filename (f->folder, "clip.mp4", NULL);
  g_assert_true (g_file_set_contents (path, contents, length, NULL));
  open_store (f);
  g_assert_cmpint (kp_store_add_label (f->store, "car", "#3584e4", 1, &error), >, 0);
  g_assert_cmpint (kp_store_add_label (f->store, "person", "#e66100", 2, &error), >, 0);
  f->media = find_media (f->store, "clip.mp4");
}

static gboolean
video_shown (gpointer data)
{
  KpVideoPage *page = data;
  KpFrameView *view = KP_FRAME_VIEW (_kp_video_page_get_frame_view (page));

  return _kp_video_page_get_tracks (page) != NULL
         && kp_frame_view_get_displayed_frame (view) == kp_frame_view_get_frame (view)
         && gtk_widget_get_width (GTK_WIDGET (view)) > 100;
}

static KpVideoPage *
new_video_page (Fixture *f)
{
  KpVideoPage *page = KP_VIDEO_PAGE (kp_video_page_new ());

  present (f, GTK_WIDGET (page));
  kp_video_page_load (page, f->store, f->media);
  wait_until (video_shown, page);
  return page;
}

/* The number the frame on screen carries in its pixels. */
static int
shown_number (KpVideoPage *page)
{
  GdkTexture *texture = kp_frame_view_get_texture (KP_FRAME_VIEW (_kp_video_page_get_frame_view (page)));
  int w = gdk_texture_get_width (texture);
  int h = gdk_texture_get_height (texture);
  g_autofree guint8 *pixels = g_malloc ((gsize)w * h * 4);

  gdk_texture_download (texture, pixels, (gsize)w * 4);
  return kp_video_fixture_read_number (pixels, w, h, (gsize)w * 4);
}

static void
assert_frame (KpVideoPage *page,
              gint64       frame)
{
  g_assert_cmpint (kp_timeline_get_frame (KP_TIMELINE (_kp_video_page_get_timeline (page))), ==, frame);
  wait_until (video_shown, page);
  g_assert_cmpint (shown_number (page), ==, frame);
}

static void
go_to (KpVideoPage *page,
       gint64       frame)
{
  kp_timeline_set_frame (KP_TIMELINE (_kp_video_page_get_timeline (page)), frame);
  wait_until (video_shown, page);
  settle ();
}

/* The action a key runs, from the widget's own shortcuts. */
static const char *
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

          if (GTK_IS_KEYVAL_TRIGGER (trigger) && GTK_IS_NAMED_ACTION (action)
              && gtk_keyval_trigger_get_keyval (GTK_KEYVAL_TRIGGER (trigger)) == keyval
              && gtk_keyval_trigger_get_modifiers (GTK_KEYVAL_TRIGGER (trigger)) == modifiers)
            return gtk_named_action_get_action_name (GTK_NAMED_ACTION (action));
        }
    }
  return NULL;
}

static void
test_video_step (Fixture       *f,
                 gconstpointer  data)
{
  KpVideoPage *page = new_video_page (f);

  g_assert_null (_kp_video_page_get_error (page));
  assert_frame (page, 0);

  /* The keys: Left / Right or comma / period step, space plays. */
  g_assert_cmpstr (action_for_key (GTK_WIDGET (page), GDK_KEY_Right, 0), ==, "video.next-frame");
  g_assert_cmpstr (action_for_key (GTK_WIDGET (page), GDK_KEY_period, 0), ==, "video.next-frame");
  g_assert_cmpstr (action_for_key (GTK_WIDGET (page), GDK_KEY_Left, 0), ==, "video.previous-frame");
  g_assert_cmpstr (action_for_key (GTK_WIDGET (page), GDK_KEY_comma, 0), ==, "video.previous-frame");
  g_assert_cmpstr (action_for_key (GTK_WIDGET (page), GDK_KEY_space, 0), ==, "video.play-pause");
  g_assert_cmpstr (action_for_key (GTK_WIDGET (page), GDK_KEY_k, 0), ==, "video.add-keyframe");
  g_assert_cmpstr (action_for_key (_kp_video_page_get_frame_view (page), GDK_KEY_Return, 0), ==,
                   "frame.finish-shape");
  g_assert_cmpstr (action_for_key (_kp_video_page_get_frame_view (page), GDK_KEY_plus, 0), ==,
                   "frame.zoom-in");
  for (int i = 1; i <= 5; i++)
    {
      gtk_widget_activate_action (GTK_WIDGET (page), "video.next-frame", NULL);
      assert_frame (page, i);
    }
  gtk_widget_activate_action (GTK_WIDGET (page), "video.previous-frame", NULL);
  assert_frame (page, 4);
  gtk_widget_activate_action (GTK_WIDGET (page), "video.last-frame", NULL);
  assert_frame (page, N_FRAMES - 1);
  /* Backwards across the keyframe at 30 is exact too. */
  go_to (page, 31);
  gtk_widget_activate_action (GTK_WIDGET (page), "video.previous-frame", NULL);
  gtk_widget_activate_action (GTK_WIDGET (page), "video.previous-frame", NULL);
  assert_frame (page, 29);
  gtk_widget_activate_action (GTK_WIDGET (page), "video.first-frame", NULL);
  assert_frame (page, 0);
}

static void
drag (KpFrameView *view,
      double       vx1,
      double       vy1,
      double       vx2,
      double       vy2)
{
  double x1, y1, x2, y2;

  kp_frame_view_video_to_widget (view, vx1, vy1, &x1, &y1);
  kp_frame_view_video_to_widget (view, vx2, vy2, &x2, &y2);
  kp_frame_view_drag_begin (view, x1, y1);
  kp_frame_view_drag_update (view, (x2 - x1) / 2, (y2 - y1) / 2);
  kp_frame_view_drag_end (view, x2 - x1, y2 - y1);
  settle ();
}

static KpTrack *
only_track_of (KpTracks *tracks,
               guint     position)
{
  g_autoptr(KpTrack) track = g_list_model_get_item (G_LIST_MODEL (tracks), position);

  return track;
}

static KpTrack *
only_track (KpVideoPage *page,
            guint        position)
{
  g_autoptr(KpTrack) track = g_list_model_get_item (G_LIST_MODEL (_kp_video_page_get_tracks (page)), position);

  return track;
}

static void
test_video_tracks (Fixture       *f,
                   gconstpointer  data)
{
  KpVideoPage *page = new_video_page (f);
  KpFrameView *view = KP_FRAME_VIEW (_kp_video_page_get_frame_view (page));
  KpTracks *tracks = _kp_video_page_get_tracks (page);
  GtkWidget *new_label = _kp_video_page_get_editor_widget (page, "new-label");
  g_autoptr(KpTrackShape) shape = NULL;
  KpTrack *track;
  guint id;

  /* Label 2 for new tracks, then a box dragged out at frame 0. */
  gtk_drop_down_set_selected (GTK_DROP_DOWN (new_label), 1);
  drag (view, 10, 50, 50, 90);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (tracks)), ==, 1);
  track = only_track (page, 0);
  id = kp_track_get_id (track);
  g_assert_cmpstr (kp_track_get_label (track), ==, "person");
  g_assert_cmpuint (kp_frame_view_get_selected_track (view), ==, id);
  g_assert_true (kp_video_page_get_can_undo (page));

  /* Moved at frame 20: a second keyframe, and frame 10 halfway between. */
  go_to (page, 20);
  drag (view, 30, 70, 130, 70);
  g_assert_true (kp_track_is_keyframe (track, 20));
  go_to (page, 10);
  g_assert_false (kp_track_is_keyframe (track, 10));
  shape = kp_track_get_shape (track, 10);
  g_assert_cmpfloat_with_epsilon (shape->coords[0], 60, 1);
  g_assert_cmpfloat_with_epsilon (shape->coords[2], 100, 1);
  g_clear_pointer (&shape, kp_track_shape_free);
  /* K makes the interpolated box a keyframe. */
  gtk_widget_activate_action (GTK_WIDGET (page), "video.add-keyframe", NULL);
  settle ();
  g_assert_true (kp_track_is_keyframe (track, 10));

  /* Occluded at 12, outside from 40 on. */
  go_to (page, 12);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (_kp_video_page_get_editor_widget (page, "occluded")), TRUE);
  settle ();
  shape = kp_track_get_shape (track, 12);
  g_assert_true (shape->occluded);
  g_clear_pointer (&shape, kp_track_shape_free);
  go_to (page, 40);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (_kp_video_page_get_editor_widget (page, "outside")), TRUE);
  settle ();
  g_assert_false (kp_track_is_visible (track, 45));
  g_assert_true (kp_track_is_visible (track, 30));

  /* Propagate 3 frames from 20; an attribute from frame 21 on. */
  go_to (page, 20);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (_kp_video_page_get_editor_widget (page, "propagate")), 3);
  gtk_widget_activate_action (GTK_WIDGET (page), "video.propagate", NULL);
  settle ();
  g_assert_true (kp_track_is_keyframe (track, 21));
  g_assert_true (kp_track_is_keyframe (track, 23));
  g_assert_false (kp_track_is_keyframe (track, 24));
  go_to (page, 21);
  gtk_editable_set_text (GTK_EDITABLE (_kp_video_page_get_editor_widget (page, "attribute-name")), "color");
  gtk_editable_set_text (GTK_EDITABLE (_kp_video_page_get_editor_widget (page, "attribute-value")), "red");
  g_signal_emit_by_name (_kp_video_page_get_editor_widget (page, "attribute-value"), "activate");
  settle ();
  g_assert_cmpstr (kp_track_get_attribute (track, 25, "color"), ==, "red");
  g_assert_null (kp_track_get_attribute (track, 20, "color"));

  /* A polygon track by clicks, Enter to finish. */
  gtk_drop_down_set_selected (GTK_DROP_DOWN (_kp_video_page_get_editor_widget (page, "new-shape")),
                              KP_TRACK_SHAPE_POLYGON);
  drag (view, 200, 150, 200, 150);
  drag (view, 260, 150, 260, 150);
  drag (view, 230, 200, 230, 200);
  g_assert_cmpuint (kp_frame_view_get_n_pending_points (view), ==, 3);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (view), "frame.finish-shape", NULL));
  settle ();
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (tracks)), ==, 2);
  g_assert_cmpint (kp_track_get_shape_type (only_track (page, 1)), ==, KP_TRACK_SHAPE_POLYGON);
  /* Its second point dragged alone, then the whole polygon. */
  drag (view, 260, 150, 270, 160);
  {
    g_autoptr(KpTrackShape) polygon = kp_track_get_shape (only_track (page, 1), 21);

    g_assert_cmpfloat_with_epsilon (polygon->coords[2], 270, 0.01);
    g_assert_cmpfloat_with_epsilon (polygon->coords[3], 160, 0.01);
    g_assert_cmpfloat_with_epsilon (polygon->coords[0], 200, 0.01);
    g_assert_cmpfloat_with_epsilon (polygon->coords[4], 230, 0.01);
  }
  drag (view, 235, 170, 245, 170);
  {
    g_autoptr(KpTrackShape) polygon = kp_track_get_shape (only_track (page, 1), 21);

    g_assert_cmpfloat_with_epsilon (polygon->coords[0], 210, 0.01);
    g_assert_cmpfloat_with_epsilon (polygon->coords[2], 280, 0.01);
  }

  /* Every export. */
  {
    const char *ids[] = { "mot", "cvat", "coco", "gt" };

    for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
      {
        g_autofree char *path = g_strdup_printf ("%s/export-%s", f->folder, ids[i]);
        g_autofree char *text = NULL;
        g_autoptr(GError) error = NULL;

        g_assert_true (_kp_video_page_export (page, ids[i], path, &error));
        g_assert_no_error (error);
        g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
        g_assert_cmpuint (strlen (text), >, 20);
      }
  }

  /* Undo: the polygon's moves, the polygon, the attribute, the propagation. */
  g_assert_true (kp_video_page_undo (page));
  g_assert_true (kp_video_page_undo (page));
  {
    g_autoptr(KpTrackShape) polygon = kp_track_get_shape (only_track (page, 1), 21);

    g_assert_cmpfloat_with_epsilon (polygon->coords[2], 260, 0.01);
  }
  g_assert_true (kp_video_page_undo (page));
  tracks = _kp_video_page_get_tracks (page);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (tracks)), ==, 1);
  g_assert_true (kp_video_page_undo (page));
  track = kp_tracks_get_track (_kp_video_page_get_tracks (page), id);
  g_assert_null (kp_track_get_attribute (track, 25, "color"));
  g_assert_true (kp_track_is_keyframe (track, 21));
  g_assert_true (kp_video_page_undo (page));
  track = kp_tracks_get_track (_kp_video_page_get_tracks (page), id);
  g_assert_false (kp_track_is_keyframe (track, 21));
  g_assert_true (kp_video_page_redo (page));
  track = kp_tracks_get_track (_kp_video_page_get_tracks (page), id);
  g_assert_true (kp_track_is_keyframe (track, 21));

  /* Reopen: the tracks and the history are back. */
  close_page (f);
  page = new_video_page (f);
  track = kp_tracks_get_track (_kp_video_page_get_tracks (page), id);
  g_assert_nonnull (track);
  g_assert_cmpstr (kp_track_get_label (track), ==, "person");
  g_assert_true (kp_track_is_keyframe (track, 21));
  g_assert_true (kp_track_is_keyframe (track, 10));
  g_assert_false (kp_track_is_visible (track, 45));
  g_assert_true (kp_video_page_get_can_redo (page));
  g_assert_true (kp_video_page_undo (page));
  track = kp_tracks_get_track (_kp_video_page_get_tracks (page), id);
  g_assert_false (kp_track_is_keyframe (track, 21));
}

static gboolean
video_failed (gpointer data)
{
  return _kp_video_page_get_error (data) != NULL;
}

static void
test_video_corrupt (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->folder, "broken.mp4", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *clip = g_build_filename (f->folder, "clip.mp4", NULL);
  g_autoptr(KpMedia) broken = NULL;
  KpVideoPage *page = KP_VIDEO_PAGE (kp_video_page_new ());
  gboolean emitted = FALSE;
  gsize length;

  /* The first tenth of a real file: truncated. */
  g_assert_true (g_file_get_contents (clip, &contents, &length, NULL));
  g_assert_true (g_file_set_contents (path, contents, length / 10, NULL));
  g_clear_object (&f->store);
  open_store (f);
  broken = find_media (f->store, "broken.mp4");

  present (f, GTK_WIDGET (page));
  g_signal_connect (page, "error", G_CALLBACK (error_cb), &emitted);
  kp_video_page_load (page, f->store, broken);
  wait_until (video_failed, page);
  g_assert_true (emitted);
  g_assert_null (_kp_video_page_get_tracks (page));
  g_assert_false (kp_video_page_undo (page));

  /* Then a good file in the same page. */
  kp_video_page_load (page, f->store, f->media);
  wait_until (video_shown, page);
  g_assert_null (_kp_video_page_get_error (page));
  assert_frame (page, 0);
}


/* Layout elements */

static char *
node_to_string (JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();

  json_generator_set_root (generator, node);
  return json_generator_to_data (generator, NULL);
}

/* What kp-layout-answer.c makes of a widget's value, for the element of
 * the given tag in a one-element form. */
static char *
answer_of (const char *element,
           JsonNode   *value,
           guint      *n_problems)
{
  g_autofree char *html = g_strdup_printf ("<crowd-form>%s</crowd-form>", element);
  g_autoptr(GError) error = NULL;
  g_autoptr(KpLayout) layout = kp_layout_new_from_data (html, -1, KP_LAYOUT_FORMAT_HTML, &error);
  g_autoptr(GPtrArray) nodes = NULL;
  g_autoptr(GPtrArray) problems = g_ptr_array_new ();
  g_autoptr(JsonNode) answer = NULL;

  g_assert_no_error (error);
  nodes = kp_layout_dup_answerable (layout, NULL);
  g_assert_cmpuint (nodes->len, ==, 1);
  answer = kp_layout_node_answer (g_ptr_array_index (nodes, 0), value, problems);
  g_assert_nonnull (answer);
  *n_problems = problems->len;
  return node_to_string (answer);
}

static void
count_cb (gpointer  widget,
          guint    *count)
{
  (*count)++;
}

static gboolean
segmenter_ready (gpointer data)
{
  KpWaveform *waveform = KP_WAVEFORM (kp_audio_segmenter_get_waveform (data));

  return kp_waveform_get_peaks (waveform) != NULL && kp_peaks_get_complete (kp_waveform_get_peaks (waveform))
         && gtk_widget_get_width (GTK_WIDGET (waveform)) > 100;
}

static gboolean
segmenter_loaded (gpointer data)
{
  KpWaveform *waveform = KP_WAVEFORM (kp_audio_segmenter_get_waveform (data));

  return kp_waveform_get_peaks (waveform) != NULL && kp_peaks_get_complete (kp_waveform_get_peaks (waveform));
}

static gboolean
segmenter_failed (gpointer data)
{
  return kp_audio_segmenter_get_error (data) != NULL;
}

static void
test_segmenter (Fixture       *f,
                gconstpointer  data)
{
  const char *labels[] = { "speech", "music", NULL };
  g_autoptr(GFile) base = g_file_new_for_path (f->folder);
  GtkWidget *widget = kp_audio_segmenter_new ("talk.wav", base, labels, "Mark speech");
  KpAudioSegmenter *seg = KP_AUDIO_SEGMENTER (widget);
  KpWaveform *waveform = KP_WAVEFORM (kp_audio_segmenter_get_waveform (seg));
  KpRegions *regions = kp_audio_segmenter_get_regions (seg);
  g_autoptr(JsonNode) value = NULL;
  g_autoptr(JsonNode) empty = NULL;
  g_autofree char *text = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *answer = NULL;
  g_autofree char *expected_answer = NULL;
  KpRegion *region;
  guint changes = 0, n_problems;
  double y;

  present (f, widget);
  g_signal_connect (seg, "changed", G_CALLBACK (count_cb), &changes);
  wait_until (segmenter_ready, seg);
  g_assert_null (kp_audio_segmenter_get_error (seg));

  /* Untouched: no segments. */
  empty = kp_audio_segmenter_dup_value (seg);
  text = node_to_string (empty);
  g_assert_cmpstr (text, ==, "{\"segments\":[]}");
  g_clear_pointer (&text, g_free);

  y = _kp_waveform_wave_y (waveform);
  _kp_waveform_pointer_press (waveform, 100, y);
  _kp_waveform_pointer_motion (waveform, 200, y);
  _kp_waveform_pointer_release (waveform, 300, y);
  settle ();
  gtk_widget_activate_action (GTK_WIDGET (waveform), "region.label", "i", 1);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (regions)), ==, 1);
  g_assert_cmpuint (changes, >, 0);
  region = kp_regions_get_region (regions, 0);

  value = kp_audio_segmenter_dup_value (seg);
  text = node_to_string (value);
  expected = g_strdup_printf ("{\"segments\":[{\"label\":\"speech\",\"startTime\":%.17g,\"endTime\":%.17g}]}",
                              round (kp_region_get_start (region) / (double)RATE * 1e6) / 1e6,
                              round (kp_region_get_end (region) / (double)RATE * 1e6) / 1e6);
  {
    /* Compare parsed, so number formatting does not matter. */
    g_autoptr(JsonNode) a = json_from_string (text, NULL);
    g_autoptr(JsonNode) b = json_from_string (expected, NULL);

    g_assert_true (json_node_equal (a, b));
  }

  /* The label buttons label the selected segment too. */
  {
    GtkWidget *music = NULL;

    for (GtkWidget *w = gtk_widget_get_first_child (GTK_WIDGET (seg)); w != NULL && music == NULL;
         w = gtk_widget_get_first_child (w))
      for (GtkWidget *c = w; c != NULL; c = gtk_widget_get_next_sibling (c))
        for (GtkWidget *d = gtk_widget_get_first_child (c); d != NULL; d = gtk_widget_get_next_sibling (d))
          if (GTK_IS_BUTTON (d) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (d)), "music") == 0)
            music = d;
    g_assert_nonnull (music);
    g_signal_emit_by_name (music, "clicked");
    g_assert_cmpstr (kp_region_get_label (region), ==, "music");
    gtk_widget_activate_action (GTK_WIDGET (waveform), "region.label", "i", 1);
  }

  /* The answer MTurk's form would hold, with no problems. */
  answer = answer_of ("<kp-audio-segmenter name=\"seg\" src=\"talk.wav\" labels=\"['speech', 'music']\">"
                      "</kp-audio-segmenter>", value, &n_problems);
  g_assert_cmpuint (n_problems, ==, 0);
  {
    JsonObject *segment = json_array_get_object_element (json_object_get_array_member (
                                                           json_node_get_object (value), "segments"), 0);

    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "segments");
      json_builder_begin_array (b);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "endTime");
      json_builder_add_double_value (b, json_object_get_double_member (segment, "endTime"));
      json_builder_set_member_name (b, "label");
      json_builder_add_string_value (b, "speech");
      json_builder_set_member_name (b, "startTime");
      json_builder_add_double_value (b, json_object_get_double_member (segment, "startTime"));
      json_builder_end_object (b);
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      expected_answer = node_to_string (root);
    }
  }
  g_assert_cmpstr (answer, ==, expected_answer);

  /* A draft comes back as it was; a bad one changes nothing. */
  {
    GtkWidget *other = kp_audio_segmenter_new ("talk.wav", base, labels, NULL);
    g_autoptr(JsonNode) back = NULL;
    g_autoptr(JsonNode) bad = json_from_string ("{\"segments\": [{\"startTime\": 2, \"endTime\": 1}]}", NULL);
    g_autofree char *back_text = NULL;

    g_object_ref_sink (other);
    g_assert_true (kp_audio_segmenter_set_value (KP_AUDIO_SEGMENTER (other), value));
    back = kp_audio_segmenter_dup_value (KP_AUDIO_SEGMENTER (other));
    back_text = node_to_string (back);
    g_assert_cmpstr (back_text, ==, text);
    g_assert_false (kp_audio_segmenter_set_value (KP_AUDIO_SEGMENTER (other), bad));
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (kp_audio_segmenter_get_regions (
                                                                KP_AUDIO_SEGMENTER (other)))), ==, 1);
    g_assert_true (kp_audio_segmenter_set_value (KP_AUDIO_SEGMENTER (other), NULL));
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (kp_audio_segmenter_get_regions (
                                                                KP_AUDIO_SEGMENTER (other)))), ==, 0);
    wait_until (segmenter_loaded, other);
    g_object_run_dispose (G_OBJECT (other));
    g_object_unref (other);
  }

  /* Remote audio waits for a click: building a layout fetches nothing. */
  {
    GtkWidget *remote = g_object_ref_sink (kp_audio_segmenter_new ("https://example.invalid/a.ogg", base,
                                                                   labels, NULL));
    KpWaveform *w = KP_WAVEFORM (kp_audio_segmenter_get_waveform (KP_AUDIO_SEGMENTER (remote)));

    settle ();
    g_assert_null (kp_waveform_get_peaks (w));
    g_assert_null (kp_waveform_get_player (w));
    g_assert_null (kp_audio_segmenter_get_error (KP_AUDIO_SEGMENTER (remote)));
    g_object_run_dispose (G_OBJECT (remote));
    g_object_unref (remote);
  }

  /* The player has no value; a missing file shows an error. */
  {
    GtkWidget *player = g_object_ref_sink (kp_audio_segmenter_new_player ("talk.wav", base));
    GtkWidget *missing = g_object_ref_sink (kp_audio_segmenter_new ("nowhere.wav", base, labels, NULL));

    g_assert_null (kp_audio_segmenter_dup_value (KP_AUDIO_SEGMENTER (player)));
    wait_until (segmenter_failed, missing);
    g_assert_nonnull (kp_audio_segmenter_get_error (KP_AUDIO_SEGMENTER (missing))->message);
    wait_until (segmenter_loaded, player);
    g_object_run_dispose (G_OBJECT (player));
    g_object_unref (player);
    g_object_run_dispose (G_OBJECT (missing));
    g_object_unref (missing);
  }
}

static gboolean
tracker_ready (gpointer data)
{
  KpFrameView *view = KP_FRAME_VIEW (kp_video_tracker_get_frame_view (data));

  return kp_video_tracker_get_tracks (data) != NULL
         && kp_frame_view_get_displayed_frame (view) == kp_frame_view_get_frame (view)
         && gtk_widget_get_width (GTK_WIDGET (view)) > 100;
}

static gboolean
tracker_opened (gpointer data)
{
  return kp_video_tracker_get_tracks (data) != NULL;
}

static void
test_tracker (Fixture       *f,
              gconstpointer  data)
{
  const char *labels[] = { "car", "person", NULL };
  g_autoptr(GFile) base = g_file_new_for_path (f->folder);
  GtkWidget *widget = kp_video_tracker_new ("clip.mp4", base, labels, "Track cars");
  KpVideoTracker *tracker = KP_VIDEO_TRACKER (widget);
  KpFrameView *view = KP_FRAME_VIEW (kp_video_tracker_get_frame_view (tracker));
  KpTimeline *timeline = KP_TIMELINE (kp_video_tracker_get_timeline (tracker));
  g_autoptr(JsonNode) value = NULL;
  g_autofree char *text = NULL;
  g_autofree char *answer = NULL;
  JsonArray *frames;
  guint changes = 0, n_problems;
  KpTrack *track;

  present (f, widget);
  g_signal_connect (tracker, "changed", G_CALLBACK (count_cb), &changes);
  wait_until (tracker_ready, tracker);
  g_assert_null (kp_video_tracker_get_error (tracker));

  drag (view, 10, 50, 50, 90);
  kp_timeline_set_frame (timeline, 20);
  wait_until (tracker_ready, tracker);
  drag (view, 30, 70, 130, 70);
  kp_timeline_set_frame (timeline, 40);
  wait_until (tracker_ready, tracker);
  g_assert_cmpuint (changes, >=, 2);
  track = only_track_of (kp_video_tracker_get_tracks (tracker), 0);
  g_assert_cmpstr (kp_track_get_label (track), ==, "car");

  /* Out of view from frame 40 on. */
  {
    g_autoptr(KpTrackShape) shape = kp_track_get_shape (track, 40);

    shape->outside = TRUE;
    g_assert_true (kp_track_set_keyframe (track, shape, NULL));
  }

  value = kp_video_tracker_dup_value (tracker);
  text = node_to_string (value);
  frames = json_object_get_array_member (json_array_get_object_element (
                                           json_object_get_array_member (json_node_get_object (value),
                                                                         "tracks"), 0), "frames");
  /* Frames 0–39, frame 10 halfway. */
  g_assert_cmpuint (json_array_get_length (frames), ==, 40);
  {
    JsonObject *f10 = json_array_get_object_element (frames, 10);

    g_assert_cmpint (json_object_get_int_member (f10, "frame"), ==, 10);
    g_assert_cmpint (json_object_get_int_member (f10, "left"), ==, 60);
    g_assert_cmpint (json_object_get_int_member (f10, "top"), ==, 50);
    g_assert_cmpint (json_object_get_int_member (f10, "width"), ==, 40);
    g_assert_cmpint (json_object_get_int_member (f10, "height"), ==, 40);
  }
  g_assert_true (g_str_has_prefix (text, "{\"tracks\":[{\"id\":1,\"label\":\"car\",\"frames\":[{\"frame\":0,"
                                         "\"left\":10,\"top\":50,\"width\":40,\"height\":40},"));

  answer = answer_of ("<kp-video-tracker name=\"cars\" src=\"clip.mp4\" labels=\"['car', 'person']\">"
                      "</kp-video-tracker>", value, &n_problems);
  g_assert_cmpuint (n_problems, ==, 0);
  g_assert_true (g_str_has_prefix (answer, "{\"tracks\":[{\"frames\":[{\"frame\":0,\"height\":40,\"left\":10,"
                                           "\"top\":50,\"width\":40},"));
  g_assert_true (g_str_has_suffix (answer, "],\"id\":1,\"label\":\"car\"}]}"));

  /* A draft set before the video opens comes back with its keyframes
   * only (0, 20 and the outside one at 40), and the same value. */
  {
    GtkWidget *other = g_object_ref_sink (kp_video_tracker_new ("clip.mp4", base, labels, NULL));
    g_autoptr(JsonNode) back = NULL;
    g_autoptr(JsonNode) bad = json_from_string ("{\"tracks\": [{\"frames\": [{\"frame\": 1}]}]}", NULL);
    g_autofree char *back_text = NULL;
    KpTrack *restored;

    g_assert_true (kp_video_tracker_set_value (KP_VIDEO_TRACKER (other), value));
    g_assert_false (kp_video_tracker_set_value (KP_VIDEO_TRACKER (other), bad));
    wait_until (tracker_opened, other);
    restored = only_track_of (kp_video_tracker_get_tracks (KP_VIDEO_TRACKER (other)), 0);
    g_assert_cmpuint (kp_track_get_id (restored), ==, 1);
    g_assert_cmpuint (kp_track_get_n_keyframes (restored), ==, 3);
    g_assert_true (kp_track_is_keyframe (restored, 20));
    g_assert_false (kp_track_is_visible (restored, 40));
    back = kp_video_tracker_dup_value (KP_VIDEO_TRACKER (other));
    back_text = node_to_string (back);
    g_assert_cmpstr (back_text, ==, text);
    g_object_run_dispose (G_OBJECT (other));
    g_object_unref (other);
  }

  /* The chooser relabels the selected track. */
  {
    GListModel *tracks = G_LIST_MODEL (kp_video_tracker_get_tracks (tracker));
    g_autoptr(KpTrack) first = g_list_model_get_item (tracks, 0);
    GtkWidget *chooser = NULL;

    for (GtkWidget *w = gtk_widget_get_first_child (GTK_WIDGET (tracker)); w != NULL && chooser == NULL;
         w = gtk_widget_get_first_child (w))
      for (GtkWidget *c = w; c != NULL; c = gtk_widget_get_next_sibling (c))
        for (GtkWidget *d = gtk_widget_get_first_child (c); d != NULL; d = gtk_widget_get_next_sibling (d))
          if (GTK_IS_DROP_DOWN (d))
            chooser = d;
    g_assert_nonnull (chooser);
    kp_frame_view_set_selected_track (view, kp_track_get_id (first));
    g_assert_cmpuint (gtk_drop_down_get_selected (GTK_DROP_DOWN (chooser)), ==, 0);
    gtk_drop_down_set_selected (GTK_DROP_DOWN (chooser), 1);
    g_assert_cmpstr (kp_track_get_label (first), ==, "person");
    kp_frame_view_set_selected_track (view, 0);
    gtk_drop_down_set_selected (GTK_DROP_DOWN (chooser), 0);
    g_assert_cmpstr (kp_track_get_label (first), ==, "person");
  }

  /* Remote video waits for a click. */
  {
    GtkWidget *remote = g_object_ref_sink (kp_video_tracker_new ("https://example.invalid/v.mp4", base,
                                                                 labels, NULL));

    settle ();
    g_assert_null (kp_video_tracker_get_tracks (KP_VIDEO_TRACKER (remote)));
    g_assert_null (kp_video_tracker_get_error (KP_VIDEO_TRACKER (remote)));
    g_object_run_dispose (G_OBJECT (remote));
    g_object_unref (remote);
  }

  /* A file that is not a video shows an error. */
  {
    g_autofree char *path = g_build_filename (f->folder, "notes.mp4", NULL);
    GtkWidget *broken;

    g_assert_true (g_file_set_contents (path, "not a video at all", -1, NULL));
    broken = g_object_ref_sink (kp_video_tracker_new ("notes.mp4", base, labels, NULL));
    while (kp_video_tracker_get_error (KP_VIDEO_TRACKER (broken)) == NULL)
      g_main_context_iteration (NULL, TRUE);
    g_object_run_dispose (G_OBJECT (broken));
    g_object_unref (broken);
  }
}


/* Thumbnails: audio and video show an icon, without decoding. */
static gboolean
has_thumbnail (gpointer data)
{
  return kp_media_item_get_thumbnail (data) != NULL || kp_media_item_get_thumbnail_failed (data);
}

static void
test_thumbnail (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *cache = g_build_filename (f->folder, "cache", NULL);
  g_autofree char *path = kp_store_dup_media_file (f->store, f->media);
  g_autoptr(KpThumbnailer) thumbnailer = kp_thumbnailer_new (cache, 64);
  g_autoptr(KpMediaItem) item = kp_media_item_new (f->media);

  kp_thumbnailer_start (thumbnailer);
  kp_thumbnailer_request (thumbnailer, item, path);
  wait_until (has_thumbnail, item);
  g_assert_false (kp_media_item_get_thumbnail_failed (item));
  g_assert_true (GTK_IS_ICON_PAINTABLE (kp_media_item_get_thumbnail (item)));
}


static gboolean
spectrogram_complete (gpointer data)
{
  KpSpectrogram *spectrogram = kp_waveform_get_spectrogram (KP_WAVEFORM (data));

  return spectrogram != NULL && kp_spectrogram_get_complete (spectrogram);
}

static gboolean
playing (gpointer data)
{
  return kp_player_get_playing (data);
}

static void
test_audio_transport (Fixture       *f,
                      gconstpointer  data)
{
  KpAudioPage *page = new_audio_page (f);
  KpWaveform *waveform = KP_WAVEFORM (_kp_audio_page_get_waveform (page));
  KpPlayer *player = _kp_audio_page_get_player (page);

  /* The spectrogram is computed when first shown. */
  g_assert_null (kp_waveform_get_spectrogram (waveform));
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (_kp_audio_page_get_editor_entry (page, "spectrogram")), TRUE);
  g_assert_true (kp_waveform_get_show_spectrogram (waveform));
  wait_until (spectrogram_complete, waveform);

  /* Speed 0.25× to 4×, either way round. */
  gtk_drop_down_set_selected (GTK_DROP_DOWN (_kp_audio_page_get_editor_entry (page, "speed")), 0);
  g_assert_cmpfloat (kp_player_get_rate (player), ==, 0.25);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (_kp_audio_page_get_editor_entry (page, "speed")), 8);
  g_assert_cmpfloat (kp_player_get_rate (player), ==, 4);
  gtk_widget_activate_action (GTK_WIDGET (waveform), "waveform.speed", "i", 0);
  g_assert_cmpfloat (kp_player_get_rate (player), ==, 1);
  settle ();
  g_assert_cmpuint (gtk_drop_down_get_selected (GTK_DROP_DOWN (_kp_audio_page_get_editor_entry (page, "speed"))),
                    ==, 3);

  /* Activating a row of the list plays from its region's start. */
  drag_region (page, 300, 400);
  kp_waveform_set_selected_region (waveform, NULL);
  settle ();
  {
    GtkWidget *list = _kp_audio_page_get_editor_entry (page, "list");
    KpRegion *region = kp_regions_get_region (_kp_audio_page_get_regions (page), 0);

    g_signal_emit_by_name (list, "activate", 0);
    g_assert_true (kp_waveform_get_selected_region (waveform) == region);
    wait_until (playing, player);
    g_assert_cmpint (kp_player_get_position (player), >=,
                     kp_region_get_start (region) * (G_GINT64_CONSTANT (1000000000) / RATE) - 1000000);
    kp_player_pause (player);
    gtk_widget_activate_action (GTK_WIDGET (waveform), "region.delete", NULL);
    settle ();
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (_kp_audio_page_get_regions (page))), ==, 0);
  }

  /* Looping needs a selected region. */
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (_kp_audio_page_get_editor_entry (page, "loop")), TRUE);
  g_assert_false (kp_player_get_looping (player));
  g_assert_false (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (_kp_audio_page_get_editor_entry (page, "loop"))));
  drag_region (page, 100, 300);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (_kp_audio_page_get_editor_entry (page, "loop")), TRUE);
  g_assert_true (kp_player_get_looping (player));

  /* Looping plays, and the time display moves; the button pauses. */
  wait_until (playing, player);
  settle ();
  g_assert_false (g_str_has_prefix (gtk_label_get_text (GTK_LABEL (_kp_audio_page_get_editor_entry (page, "time"))),
                                    "0:00.000 /"));
  g_assert_true (kp_player_get_looping (player));
  /* Once (CI, loaded machine) playback had stopped again by the time of
   * the click, which then started it; the button's job is checked from a
   * known playing state. */
  wait_until (playing, player);
  g_signal_emit_by_name (_kp_audio_page_get_editor_entry (page, "play"), "clicked");
  g_assert_false (kp_player_get_playing (player));
}


static gboolean
history_saved (gpointer data)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (!json_parser_load_from_file (parser, data, NULL))
    return FALSE;
  root = json_parser_get_root (parser);
  return JSON_NODE_HOLDS_OBJECT (root)
         && json_object_get_int_member_with_default (json_node_get_object (root), "index", -1) == 1;
}

/* A damaged annotation file is kept aside, said so, and the page starts
 * empty; a damaged history is ignored. */
static void
test_damaged_files (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *db_dir = g_path_get_dirname (kp_store_get_database_path (f->store));
  g_autofree char *dir = g_build_filename (db_dir, "audio", NULL);
  g_autofree char *regions = g_strdup_printf ("%s/%" G_GINT64_FORMAT ".regions.json", dir, f->media->id);
  g_autofree char *history = g_strdup_printf ("%s/%" G_GINT64_FORMAT ".history.json", dir, f->media->id);
  g_autofree char *aside = g_strconcat (regions, ".damaged", NULL);
  KpAudioPage *page;
  const char *status;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (g_file_set_contents (regions, "{\"regions\": [{\"start\": ", -1, NULL));
  g_assert_true (g_file_set_contents (history, "[1, 2", -1, NULL));
  page = new_audio_page (f);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (_kp_audio_page_get_regions (page))), ==, 0);
  g_assert_true (g_file_test (aside, G_FILE_TEST_EXISTS));
  status = gtk_label_get_text (GTK_LABEL (_kp_audio_page_get_editor_entry (page, "status")));
  g_assert_nonnull (strstr (status, ".damaged"));
  g_assert_false (kp_audio_page_get_can_undo (page));

  /* It still edits and saves. */
  drag_region (page, 100, 200);
  wait_until (can_undo, page);
  /* The history is saved soon after the edit, before any unload. */
  wait_until (history_saved, history);
  close_page (f);
  page = new_audio_page (f);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (_kp_audio_page_get_regions (page))), ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  /* The layout elements make their players with the sink this names. */
  g_setenv ("KP_AUDIO_SINK", "fakesink", TRUE);
  gtk_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);

  g_test_add ("/kempelen/app/av-pages/audio/edit-undo", Fixture, NULL, audio_setup,
              test_audio_edit_undo, fixture_teardown);
  g_test_add ("/kempelen/app/av-pages/audio/attributes-export", Fixture, NULL, audio_setup,
              test_audio_attributes_export, fixture_teardown);
  g_test_add ("/kempelen/app/av-pages/audio/corrupt", Fixture, NULL, audio_setup,
              test_audio_corrupt, fixture_teardown);

  g_test_add ("/kempelen/app/av-pages/video/step", Fixture, NULL, video_setup,
              test_video_step, fixture_teardown);
  g_test_add ("/kempelen/app/av-pages/video/tracks", Fixture, NULL, video_setup,
              test_video_tracks, fixture_teardown);
  g_test_add ("/kempelen/app/av-pages/video/corrupt", Fixture, NULL, video_setup,
              test_video_corrupt, fixture_teardown);

  g_test_add ("/kempelen/app/av-pages/segmenter", Fixture, NULL, audio_setup,
              test_segmenter, fixture_teardown);
  g_test_add ("/kempelen/app/av-pages/tracker", Fixture, NULL, video_setup,
              test_tracker, fixture_teardown);

  g_test_add ("/kempelen/app/av-pages/audio/transport", Fixture, NULL, audio_setup,
              test_audio_transport, fixture_teardown);
  g_test_add ("/kempelen/app/av-pages/audio/damaged-files", Fixture, NULL, audio_setup,
              test_damaged_files, fixture_teardown);
  g_test_add ("/kempelen/app/av-pages/audio/thumbnail", Fixture, NULL, audio_setup,
              test_thumbnail, fixture_teardown);

  return g_test_run ();
}
