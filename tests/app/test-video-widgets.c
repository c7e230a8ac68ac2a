/* test-video-widgets.c: KpFrameView and KpTimeline show exact frames
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The video is an H.264 fixture whose frames carry their number in their
 * pixels (tests/media/kp-video-fixture.h); the test reads the number back
 * from the texture on screen.
 */

#include "config.h"

#include <gtk/gtk.h>

#include "../media/kp-video-fixture.h"
#include "kp-core.h"
#include "kp-frame-view.h"
#include "kp-timeline.h"
#include "kp-video.h"

#define N_FRAMES 150
#define VIEW_WIDTH 640
#define VIEW_HEIGHT 480

static const KpVideoFixture fixture_params = {
  .width = 320, .height = 240, .n_frames = N_FRAMES, .fps = 30,
  .keyint = 60, .bframes = 2, .vfr = FALSE, .mux = "mp4mux",
};

typedef struct
{
  GtkWidget *window;
  KpFrameView *view;
  KpTimeline *timeline;
  KpVideoSource *source;
  KpTracks *tracks;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = kp_video_fixture_get (&fixture_params, &error);
  g_autoptr(GFile) file = NULL;
  GtkWidget *box;

  /* The H.264 packages are required: fail, naming them, rather than skip. */
  g_assert_no_error (error);
  file = g_file_new_for_path (path);
  f->source = kp_video_source_open (file, NULL, &error);
  g_assert_no_error (error);
  f->tracks = kp_tracks_new ("fixture.mp4", N_FRAMES, 320, 240);

  f->view = g_object_ref_sink (KP_FRAME_VIEW (kp_frame_view_new ()));
  f->timeline = g_object_ref_sink (KP_TIMELINE (kp_timeline_new ()));
  gtk_widget_set_size_request (GTK_WIDGET (f->view), VIEW_WIDTH, VIEW_HEIGHT);
  gtk_widget_set_halign (GTK_WIDGET (f->view), GTK_ALIGN_START);
  gtk_widget_set_size_request (GTK_WIDGET (f->timeline), VIEW_WIDTH, -1);
  g_object_bind_property (f->timeline, "frame", f->view, "frame", G_BINDING_BIDIRECTIONAL);
  g_object_bind_property (f->timeline, "selected-track", f->view, "selected-track",
                          G_BINDING_BIDIRECTIONAL);
  kp_frame_view_set_source (f->view, f->source);
  kp_frame_view_set_tracks (f->view, f->tracks);
  kp_timeline_set_source (f->timeline, f->source);
  kp_timeline_set_tracks (f->timeline, f->tracks);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (f->view));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (f->timeline));
  f->window = gtk_window_new ();
  gtk_window_set_child (GTK_WINDOW (f->window), box);
  gtk_window_present (GTK_WINDOW (f->window));

  while (gtk_widget_get_width (GTK_WIDGET (f->view)) == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (f->view)), ==, VIEW_WIDTH);
  g_assert_cmpint (gtk_widget_get_height (GTK_WIDGET (f->view)), ==, VIEW_HEIGHT);
}

static void
wait_displayed (Fixture *f)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while (kp_frame_view_get_displayed_frame (f->view) != kp_frame_view_get_frame (f->view) &&
         g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (kp_frame_view_get_displayed_frame (f->view), ==, kp_frame_view_get_frame (f->view));
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  wait_displayed (f);
  gtk_window_destroy (GTK_WINDOW (f->window));
  /* Replies already on their way (each holds the view and the source)
   * arrive before the objects can go. */
  for (int i = 0; i < 50; i++)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      if (G_OBJECT (f->view)->ref_count == 1 && G_OBJECT (f->source)->ref_count == 1)
        break;
      g_usleep (10 * 1000);
    }
  g_assert_finalize_object (f->view);
  g_assert_finalize_object (f->timeline);
  g_assert_finalize_object (f->tracks);
  g_assert_finalize_object (f->source);
}

/* The number the texture on screen carries. */
static int
shown_number (Fixture *f)
{
  GdkTexture *texture = kp_frame_view_get_texture (f->view);
  int w = gdk_texture_get_width (texture);
  int h = gdk_texture_get_height (texture);
  g_autofree guint8 *pixels = g_malloc ((gsize)w * h * 4);

  gdk_texture_download (texture, pixels, (gsize)w * 4);
  /* Downloads are B8G8R8A8 premultiplied; the blocks are grey, so the green
   * channel the reader uses is the same. */
  return kp_video_fixture_read_number (pixels, w, h, (gsize)w * 4);
}

static void
assert_shows (Fixture *f,
              gint64   frame)
{
  g_assert_cmpint (kp_timeline_get_frame (f->timeline), ==, frame);
  g_assert_cmpint (kp_frame_view_get_frame (f->view), ==, frame);
  wait_displayed (f);
  g_assert_cmpint (shown_number (f), ==, frame);
}

static void
test_seek_and_step (Fixture       *f,
                    gconstpointer  data)
{
  wait_displayed (f);
  g_assert_cmpint (shown_number (f), ==, 0);

  for (int i = 0; i < 12; i++)
    {
      gint64 n = g_test_rand_int_range (0, N_FRAMES);

      kp_timeline_set_frame (f->timeline, n);
      assert_shows (f, n);
    }

  kp_timeline_set_frame (f->timeline, 58);
  assert_shows (f, 58);
  gtk_widget_activate_action (GTK_WIDGET (f->timeline), "timeline.next-frame", NULL);
  assert_shows (f, 59);
  gtk_widget_activate_action (GTK_WIDGET (f->timeline), "timeline.next-frame", NULL);
  assert_shows (f, 60);
  gtk_widget_activate_action (GTK_WIDGET (f->timeline), "timeline.previous-frame", NULL);
  assert_shows (f, 59);
  gtk_widget_activate_action (GTK_WIDGET (f->timeline), "timeline.forward", NULL);
  assert_shows (f, 69);
  gtk_widget_activate_action (GTK_WIDGET (f->timeline), "timeline.back", NULL);
  gtk_widget_activate_action (GTK_WIDGET (f->timeline), "timeline.back", NULL);
  assert_shows (f, 49);
  gtk_widget_activate_action (GTK_WIDGET (f->timeline), "timeline.last-frame", NULL);
  assert_shows (f, N_FRAMES - 1);
  gtk_widget_activate_action (GTK_WIDGET (f->timeline), "timeline.next-frame", NULL);
  assert_shows (f, N_FRAMES - 1);
  gtk_widget_activate_action (GTK_WIDGET (f->timeline), "timeline.first-frame", NULL);
  assert_shows (f, 0);
  gtk_widget_activate_action (GTK_WIDGET (f->timeline), "timeline.previous-frame", NULL);
  assert_shows (f, 0);

  /* The frame view clamps too, and the timeline follows it. */
  kp_frame_view_set_frame (f->view, 1000);
  assert_shows (f, N_FRAMES - 1);
}

static void
test_ruler (Fixture       *f,
            gconstpointer  data)
{
  double previous = -1;

  g_assert_cmpint (kp_timeline_get_n_frames (f->timeline), ==, N_FRAMES);
  for (gint64 n = 0; n < N_FRAMES; n++)
    {
      double x = kp_timeline_x_for_frame (f->timeline, n);

      g_assert_cmpfloat (x, >, previous);
      g_assert_cmpint (kp_timeline_frame_at_x (f->timeline, x), ==, n);
      previous = x;
    }
  g_assert_cmpint (kp_timeline_frame_at_x (f->timeline, -100), ==, 0);
  g_assert_cmpint (kp_timeline_frame_at_x (f->timeline, 1e6), ==, N_FRAMES - 1);

  g_assert_cmpint (gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (f->timeline)), ==,
                   GTK_ACCESSIBLE_ROLE_SLIDER);
  g_assert_cmpint (gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (f->view)), ==,
                   GTK_ACCESSIBLE_ROLE_IMG);
}

static void
test_keyframes (Fixture       *f,
                gconstpointer  data)
{
  KpTrack *car = kp_tracks_add_track (f->tracks, "car", KP_TRACK_SHAPE_BOX);
  const double a[] = { 10, 10, 50, 50 };
  const double b[] = { 30, 10, 70, 50 };
  g_autoptr(KpTrackShape) ka = kp_track_shape_new (0, a, 4);
  g_autoptr(KpTrackShape) kb = kp_track_shape_new (20, b, 4);
  g_autoptr(KpTrackShape) at10 = NULL;

  g_assert_true (kp_track_set_keyframe (car, ka, NULL));
  g_assert_true (kp_track_set_keyframe (car, kb, NULL));

  kp_timeline_set_frame (f->timeline, 10);
  gtk_widget_activate_action (GTK_WIDGET (f->timeline), "timeline.add-keyframe", NULL);
  g_assert_true (kp_track_is_keyframe (car, 10));
  at10 = kp_track_get_shape (car, 10);
  g_assert_cmpfloat_with_epsilon (at10->coords[0], 20, 1e-9);

  /* Drag the box at frame 10 right by 20 widget pixels: 10 video pixels at
   * the view's scale of 2. */
  {
    double wx, wy;
    g_autoptr(KpTrackShape) moved = NULL;

    kp_frame_view_video_to_widget (f->view, 40, 30, &wx, &wy);
    kp_frame_view_drag_begin (f->view, wx, wy);
    g_assert_cmpuint (kp_frame_view_get_selected_track (f->view), ==, kp_track_get_id (car));
    g_assert_cmpuint (kp_timeline_get_selected_track (f->timeline), ==, kp_track_get_id (car));
    kp_frame_view_drag_update (f->view, 10, 0);
    kp_frame_view_drag_end (f->view, 20, 0);
    moved = kp_track_get_shape (car, 10);
    g_assert_true (moved->keyframe);
    g_assert_cmpfloat_with_epsilon (moved->coords[0], 30, 1e-9);
    g_assert_cmpfloat_with_epsilon (moved->coords[2], 70, 1e-9);
  }

  /* Resize by the bottom-right corner at frame 5 (a new keyframe). */
  kp_timeline_set_frame (f->timeline, 5);
  {
    g_autoptr(KpTrackShape) before = kp_track_get_shape (car, 5);
    g_autoptr(KpTrackShape) after = NULL;
    double wx, wy;

    kp_frame_view_video_to_widget (f->view, before->coords[2], before->coords[3], &wx, &wy);
    kp_frame_view_drag_begin (f->view, wx, wy);
    kp_frame_view_drag_end (f->view, 40, 20);
    after = kp_track_get_shape (car, 5);
    g_assert_true (after->keyframe);
    g_assert_cmpfloat_with_epsilon (after->coords[0], before->coords[0], 1e-9);
    g_assert_cmpfloat_with_epsilon (after->coords[2], before->coords[2] + 20, 1e-9);
    g_assert_cmpfloat_with_epsilon (after->coords[3], before->coords[3] + 10, 1e-9);
  }

  /* A drag on empty space makes a new track with the new label. */
  kp_frame_view_set_new_label (f->view, "person");
  {
    double wx, wy;
    KpTrack *person;
    g_autoptr(KpTrackShape) s = NULL;

    kp_frame_view_video_to_widget (f->view, 200, 150, &wx, &wy);
    kp_frame_view_drag_begin (f->view, wx, wy);
    kp_frame_view_drag_end (f->view, 60, 40);
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->tracks)), ==, 2);
    person = kp_tracks_get_track (f->tracks, kp_frame_view_get_selected_track (f->view));
    g_assert_nonnull (person);
    g_assert_cmpstr (kp_track_get_label (person), ==, "person");
    s = kp_track_get_shape (person, 5);
    g_assert_cmpfloat_with_epsilon (s->coords[0], 200, 1e-9);
    g_assert_cmpfloat_with_epsilon (s->coords[2], 230, 1e-9);
    g_assert_cmpfloat_with_epsilon (s->coords[3], 170, 1e-9);
    g_assert_null (kp_track_get_shape (person, 4));
  }

  /* A click on empty space selects nothing and makes nothing. */
  kp_frame_view_drag_begin (f->view, 5, VIEW_HEIGHT - 5);
  kp_frame_view_drag_end (f->view, 0, 0);
  g_assert_cmpuint (kp_frame_view_get_selected_track (f->view), ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->tracks)), ==, 2);

  /* Both widgets draw the tracks without trouble. */
  gtk_widget_queue_draw (f->window);
  for (int i = 0; i < 5; i++)
    g_main_context_iteration (NULL, FALSE);
}

static void
test_playback (Fixture       *f,
               gconstpointer  data)
{
  gint64 start;
  gint64 deadline;

  wait_displayed (f);
  start = g_get_monotonic_time ();
  gtk_widget_activate_action (GTK_WIDGET (f->timeline), "timeline.play-pause", NULL);
  g_assert_true (kp_timeline_get_playing (f->timeline));
  while (g_get_monotonic_time () - start < G_USEC_PER_SEC)
    g_main_context_iteration (NULL, TRUE);
  gtk_widget_activate_action (GTK_WIDGET (f->timeline), "timeline.play-pause", NULL);
  g_assert_false (kp_timeline_get_playing (f->timeline));
  /* Real time: about 30 frames in a second at 30 frames per second (the
   * frame clock may start late on a busy machine), never more. */
  g_assert_cmpint (kp_timeline_get_frame (f->timeline), >=, 10);
  g_assert_cmpint (kp_timeline_get_frame (f->timeline), <=, 33);
  assert_shows (f, kp_timeline_get_frame (f->timeline));

  /* Playback stops at the last frame. */
  kp_timeline_set_frame (f->timeline, N_FRAMES - 5);
  kp_timeline_set_playing (f->timeline, TRUE);
  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (kp_timeline_get_playing (f->timeline) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (kp_timeline_get_playing (f->timeline));
  assert_shows (f, N_FRAMES - 1);
}


/* Zoom keeps the video point under the pointer, never shows past the
 * frame's edges, and Ctrl+0 fits again; edits land where they are drawn. */
static void
test_zoom (Fixture       *f,
           gconstpointer  data)
{
  double vx, vy, wx, wy, x0, y0, x1, y1;
  g_autoptr(KpTrackShape) shape = NULL;
  KpTrack *track;

  wait_displayed (f);
  g_assert_cmpfloat (kp_frame_view_get_zoom (f->view), ==, 1);
  kp_frame_view_widget_to_video (f->view, 200, 150, &vx, &vy);
  kp_frame_view_zoom_at (f->view, 4, 200, 150);
  g_assert_cmpfloat_with_epsilon (kp_frame_view_get_zoom (f->view), 4, 1e-9);
  kp_frame_view_video_to_widget (f->view, vx, vy, &wx, &wy);
  g_assert_cmpfloat_with_epsilon (wx, 200, 1e-6);
  g_assert_cmpfloat_with_epsilon (wy, 150, 1e-6);

  /* Zoomed at a corner, the frame's corner stays at the widget's. */
  kp_frame_view_zoom_fit (f->view);
  kp_frame_view_zoom_at (f->view, 2, 0, 0);
  kp_frame_view_video_to_widget (f->view, 0, 0, &x0, &y0);
  g_assert_cmpfloat_with_epsilon (x0, 0, 1e-6);
  g_assert_cmpfloat_with_epsilon (y0, 0, 1e-6);
  kp_frame_view_video_to_widget (f->view, 320, 240, &x1, &y1);
  g_assert_cmpfloat_with_epsilon (x1 - x0, 2 * VIEW_WIDTH, 1e-6);

  /* Zoom is clamped. */
  kp_frame_view_zoom_at (f->view, 1000, 10, 10);
  g_assert_cmpfloat_with_epsilon (kp_frame_view_get_zoom (f->view), 32, 1e-9);
  kp_frame_view_zoom_at (f->view, 1e-6, 10, 10);
  g_assert_cmpfloat_with_epsilon (kp_frame_view_get_zoom (f->view), 1, 1e-9);

  /* A box drawn while zoomed is in video pixels. */
  kp_frame_view_zoom_at (f->view, 2, 0, 0);
  kp_frame_view_video_to_widget (f->view, 10, 20, &wx, &wy);
  kp_frame_view_drag_begin (f->view, wx, wy);
  kp_frame_view_drag_end (f->view, 80, 40);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->tracks)), ==, 1);
  track = kp_tracks_get_track (f->tracks, kp_frame_view_get_selected_track (f->view));
  shape = kp_track_get_shape (track, 0);
  g_assert_cmpfloat_with_epsilon (shape->coords[0], 10, 1e-6);
  g_assert_cmpfloat_with_epsilon (shape->coords[1], 20, 1e-6);
  g_assert_cmpfloat_with_epsilon (shape->coords[2] - shape->coords[0], 80.0 / (2 * VIEW_WIDTH / 320.0), 1e-6);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->view), "frame.zoom-fit", NULL));
  g_assert_cmpfloat (kp_frame_view_get_zoom (f->view), ==, 1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->view), "frame.zoom-in", NULL));
  g_assert_cmpfloat (kp_frame_view_get_zoom (f->view), >, 1);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);

  g_test_add ("/kempelen/app/video/seek-and-step", Fixture, NULL,
              fixture_setup, test_seek_and_step, fixture_teardown);
  g_test_add ("/kempelen/app/video/zoom", Fixture, NULL,
              fixture_setup, test_zoom, fixture_teardown);
  g_test_add ("/kempelen/app/video/ruler", Fixture, NULL,
              fixture_setup, test_ruler, fixture_teardown);
  g_test_add ("/kempelen/app/video/keyframes", Fixture, NULL,
              fixture_setup, test_keyframes, fixture_teardown);
  g_test_add ("/kempelen/app/video/playback", Fixture, NULL,
              fixture_setup, test_playback, fixture_teardown);

  return g_test_run ();
}
