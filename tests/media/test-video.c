/* test-video.c: KpVideoSource numbers, seeks and steps frames exactly
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The fixtures are H.264 files whose frames carry their own number in
 * their pixels (kp-video-fixture.h), so every check reads back which frame
 * was really decoded. They need x264enc, avdec_h264 and h264parse: when one
 * is missing the tests fail, naming the package, because the set-up script
 * installs them.
 */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <gst/gst.h>

#include "kp-video-fixture.h"
#include "kp-video.h"

#define FPS 30
#define CFR_FRAMES 150

static const KpVideoFixture cfr_fixture = {
  .width = 320, .height = 240, .n_frames = CFR_FRAMES, .fps = FPS,
  .keyint = 2 * FPS, .bframes = 2, .vfr = FALSE, .mux = "mp4mux",
};

static const KpVideoFixture vfr_fixture = {
  .width = 256, .height = 144, .n_frames = 97, .fps = 0,
  .keyint = 40, .bframes = 0, .vfr = TRUE, .mux = "matroskamux",
};

static char *
fixture_or_fail (const KpVideoFixture *fx)
{
  g_autoptr(GError) error = NULL;
  char *path = kp_video_fixture_get (fx, &error);

  if (path == NULL)
    g_test_fail_printf ("No video fixture: %s", error->message);
  return path;
}

static KpVideoSource *
open_fixture (const KpVideoFixture *fx)
{
  g_autofree char *path = fixture_or_fail (fx);
  g_autoptr(GFile) file = NULL;
  g_autoptr(GError) error = NULL;
  KpVideoSource *source;

  if (path == NULL)
    return NULL;
  file = g_file_new_for_path (path);
  source = kp_video_source_open (file, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (source);
  return source;
}

static int
frame_number (KpVideoFrame *frame)
{
  return kp_video_fixture_read_number (g_bytes_get_data (kp_video_frame_get_bytes (frame), NULL),
                                       kp_video_frame_get_width (frame),
                                       kp_video_frame_get_height (frame),
                                       kp_video_frame_get_stride (frame));
}

static void
assert_frame (KpVideoSource *source,
              gint64         n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KpVideoFrame) frame = kp_video_source_get_frame (source, n, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (frame);
  g_assert_cmpint (kp_video_frame_get_number (frame), ==, n);
  g_assert_cmpint (kp_video_frame_get_pts (frame), ==, kp_video_source_get_frame_pts (source, n));
  g_assert_cmpint (frame_number (frame), ==, n);
}

static void
test_index (void)
{
  g_autoptr(KpVideoSource) source = open_fixture (&cfr_fixture);
  gint64 first;

  if (source == NULL)
    return;

  g_assert_cmpint (kp_video_source_get_n_frames (source), ==, CFR_FRAMES);
  g_assert_cmpint (kp_video_source_get_width (source), ==, 320);
  g_assert_cmpint (kp_video_source_get_height (source), ==, 240);
  g_assert_nonnull (strstr (kp_video_source_get_codec (source), "264"));
  g_assert_cmpfloat_with_epsilon (kp_video_source_get_frame_rate (source), FPS, 0.01);
  g_assert_cmpint (ABS (kp_video_source_get_duration (source) - 5 * GST_SECOND), <, GST_MSECOND);

  /* B-frames delay the first timestamp (here by two frames); numbers do
   * not depend on it. */
  first = kp_video_source_get_frame_pts (source, 0);
  g_assert_cmpint (first, >=, 0);
  for (gint64 i = 0; i < CFR_FRAMES; i++)
    {
      gint64 pts = kp_video_source_get_frame_pts (source, i);

      g_assert_cmpint (ABS (pts - first - (gint64)gst_util_uint64_scale_int (i, GST_SECOND, FPS)), <,
                       GST_MSECOND);
      g_assert_cmpint (kp_video_source_get_frame_at (source, pts), ==, i);
      g_assert_cmpint (kp_video_source_get_frame_at (source, pts + GST_SECOND / FPS / 2), ==, i);
      /* A 2-second keyframe interval: keyframes at 0, 60 and 120 only. */
      g_assert_cmpint (kp_video_source_is_keyframe (source, i), ==, i % (2 * FPS) == 0);
      g_assert_cmpint (kp_video_source_get_keyframe_before (source, i), ==, i - i % (2 * FPS));
    }
  g_assert_cmpint (kp_video_source_get_frame_at (source, first - GST_SECOND), ==, 0);
  g_assert_cmpint (kp_video_source_get_frame_at (source, 100 * GST_SECOND), ==, CFR_FRAMES - 1);

  g_assert_finalize_object (g_steal_pointer (&source));
}

static void
test_seek_random (void)
{
  g_autoptr(KpVideoSource) source = open_fixture (&cfr_fixture);
  guint64 n_seeks = 0;

  if (source == NULL)
    return;

  /* A small cache and no decode-ahead, so that most seeks really decode. */
  kp_video_source_set_cache_limit (source, 8 * 320 * 240 * 4);
  kp_video_source_set_decode_ahead (source, 0);
  for (int i = 0; i < 60; i++)
    assert_frame (source, g_test_rand_int_range (0, CFR_FRAMES));
  /* The first, last and keyframe neighbours. */
  assert_frame (source, CFR_FRAMES - 1);
  assert_frame (source, 0);
  assert_frame (source, 59);
  assert_frame (source, 60);
  assert_frame (source, 119);
  assert_frame (source, 120);

  kp_video_source_get_stats (source, NULL, &n_seeks);
  g_assert_cmpuint (n_seeks, >, 5);
  g_assert_cmpuint (kp_video_source_get_cache_size (source), <=, 8 * 320 * 240 * 4);
  g_assert_finalize_object (g_steal_pointer (&source));
}

static void
test_step (void)
{
  g_autoptr(KpVideoSource) source = open_fixture (&cfr_fixture);
  guint64 decoded_before = 0;
  guint64 decoded_after = 0;
  guint64 seeks_before = 0;
  guint64 seeks_after = 0;

  if (source == NULL)
    return;

  assert_frame (source, 70);
  kp_video_source_get_stats (source, &decoded_before, &seeks_before);
  /* Forward across the keyframe at 120 without seeking again. */
  for (gint64 n = 71; n <= 125; n++)
    assert_frame (source, n);
  kp_video_source_get_stats (source, &decoded_after, &seeks_after);
  g_assert_cmpuint (seeks_after, ==, seeks_before);
  /* Backward: frames 60..69 were decoded on the way to 70 and are cached. */
  for (gint64 n = 125; n >= 60; n--)
    assert_frame (source, n);
  /* Before the keyframe: a seek to frame 0. */
  for (gint64 n = 59; n >= 50; n--)
    assert_frame (source, n);

  g_assert_finalize_object (g_steal_pointer (&source));
}

typedef struct
{
  GMainLoop *loop;
  GPtrArray *frames;
  GError *error;
  int pending;
} AsyncData;

static void
got_frame_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  AsyncData *data = user_data;
  KpVideoFrame *frame = kp_video_source_get_frame_finish (KP_VIDEO_SOURCE (object), result,
                                                          data->error == NULL ? &data->error : NULL);

  if (frame != NULL)
    g_ptr_array_add (data->frames, frame);
  if (--data->pending == 0)
    g_main_loop_quit (data->loop);
}

static void
opened_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  KpVideoSource **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = kp_video_source_open_finish (result, &error);
  g_assert_no_error (error);
}

static void
test_async (void)
{
  g_autofree char *path = fixture_or_fail (&cfr_fixture);
  g_autoptr(GFile) file = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GPtrArray) frames = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_video_frame_unref);
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  KpVideoSource *source = NULL;
  AsyncData data = { loop, frames, NULL, 0 };
  const gint64 wanted[] = { 140, 3, 77, 78, 61 };

  if (path == NULL)
    return;
  file = g_file_new_for_path (path);
  kp_video_source_open_async (file, NULL, opened_cb, &source);
  while (source == NULL)
    g_main_context_iteration (NULL, TRUE);

  for (guint i = 0; i < G_N_ELEMENTS (wanted); i++)
    {
      data.pending++;
      kp_video_source_get_frame_async (source, wanted[i], NULL, got_frame_cb, &data);
    }
  g_main_loop_run (loop);
  g_assert_no_error (data.error);
  g_assert_cmpuint (frames->len, ==, G_N_ELEMENTS (wanted));
  /* Requests are served in order. */
  for (guint i = 0; i < G_N_ELEMENTS (wanted); i++)
    {
      KpVideoFrame *frame = g_ptr_array_index (frames, i);

      g_assert_cmpint (kp_video_frame_get_number (frame), ==, wanted[i]);
      g_assert_cmpint (frame_number (frame), ==, wanted[i]);
    }

  /* Out of range and cancelled requests fail. */
  data.pending = 1;
  kp_video_source_get_frame_async (source, CFR_FRAMES, NULL, got_frame_cb, &data);
  g_main_loop_run (loop);
  g_assert_error (data.error, KP_VIDEO_ERROR, KP_VIDEO_ERROR_OUT_OF_RANGE);
  g_clear_error (&data.error);

  g_cancellable_cancel (cancelled);
  data.pending = 1;
  kp_video_source_get_frame_async (source, 100, cancelled, got_frame_cb, &data);
  g_main_loop_run (loop);
  g_assert_error (data.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&data.error);

  g_clear_pointer (&frames, g_ptr_array_unref);
  g_assert_finalize_object (source);
}

static void
test_vfr (void)
{
  g_autoptr(KpVideoSource) source = open_fixture (&vfr_fixture);
  gint64 n;

  if (source == NULL)
    return;

  n = kp_video_source_get_n_frames (source);
  g_assert_cmpint (n, ==, vfr_fixture.n_frames);
  for (gint64 i = 0; i < n; i++)
    {
      gint64 pts = kp_video_source_get_frame_pts (source, i);

      /* Matroska keeps milliseconds, which these durations are. */
      g_assert_cmpint (pts, ==, kp_video_fixture_vfr_pts (i));
      g_assert_cmpint (kp_video_source_get_frame_at (source, pts + GST_MSECOND * 10), ==, i);
      if (i + 1 < n)
        g_assert_cmpint (kp_video_source_get_frame_duration (source, i), ==,
                         kp_video_fixture_vfr_pts (i + 1) - pts);
    }
  /* time × average fps would be wrong here: at 175 ms it gives frame 5
   * (4 frames per 140 ms), but frame 4 (from 140 ms) is still shown until
   * frame 5 at 180 ms. */
  g_assert_cmpint ((gint64)(0.175 * kp_video_source_get_frame_rate (source) + 1e-6), ==, 5);
  g_assert_cmpint (kp_video_source_get_frame_at (source, 175 * GST_MSECOND), ==, 4);
  g_assert_cmpint (kp_video_source_get_frame_at (source, 180 * GST_MSECOND), ==, 5);

  kp_video_source_set_decode_ahead (source, 0);
  for (int i = 0; i < 30; i++)
    assert_frame (source, g_test_rand_int_range (0, n));
  for (gint64 i = 50; i < 60; i++)
    assert_frame (source, i);
  for (gint64 i = 59; i >= 38; i--)
    assert_frame (source, i);

  g_assert_finalize_object (g_steal_pointer (&source));
}

static void
test_cache_bounded (void)
{
  g_autoptr(KpVideoSource) source = open_fixture (&cfr_fixture);
  gsize frame_bytes = 320 * 240 * 4;

  if (source == NULL)
    return;

  kp_video_source_set_decode_ahead (source, 0);
  kp_video_source_set_cache_limit (source, 3 * frame_bytes);
  for (gint64 i = 0; i < CFR_FRAMES; i += 7)
    {
      assert_frame (source, i);
      g_assert_cmpuint (kp_video_source_get_cache_size (source), <=, 3 * frame_bytes);
    }
  g_assert_cmpuint (kp_video_source_get_cache_size (source), >, 0);
  /* The last frame asked for is cached: peek needs no decoding. */
  {
    g_autoptr(KpVideoFrame) frame = kp_video_source_peek_frame (source, 147);

    g_assert_nonnull (frame);
    g_assert_cmpint (frame_number (frame), ==, 147);
  }
  kp_video_source_set_cache_limit (source, 0);
  g_assert_cmpuint (kp_video_source_get_cache_size (source), ==, 0);
  g_assert_null (kp_video_source_peek_frame (source, 147));
  /* Even without a cache, frames come out exact. */
  assert_frame (source, 33);
  assert_frame (source, 34);
  assert_frame (source, 12);
  g_assert_cmpuint (kp_video_source_get_cache_size (source), ==, 0);

  g_assert_finalize_object (g_steal_pointer (&source));
}

static void
assert_open_fails (const char *path,
                   GQuark      domain,
                   int         code,
                   const char *needle)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  g_autoptr(KpVideoSource) source = kp_video_source_open (file, NULL, &error);

  g_assert_null (source);
  g_assert_error (error, domain, code);
  g_test_message ("%s: %s", path, error->message);
  if (needle != NULL)
    g_assert_nonnull (strstr (error->message, needle));
}

static void
test_truncated (void)
{
  g_autofree char *path = fixture_or_fail (&cfr_fixture);
  g_autofree char *contents = NULL;
  g_autofree char *cut = NULL;
  g_autoptr(GError) error = NULL;
  gsize length;

  if (path == NULL)
    return;
  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  cut = g_build_filename (g_get_user_cache_dir (), "cut.mp4", NULL);
  g_mkdir_with_parents (g_get_user_cache_dir (), 0700);
  g_file_set_contents (cut, contents, length / 2, &error);
  g_assert_no_error (error);

  assert_open_fails (cut, KP_VIDEO_ERROR, KP_VIDEO_ERROR_CORRUPT, "cut.mp4");
}

static void
test_not_video (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_build_filename (g_get_user_cache_dir (), "notes.mp4", NULL);
  g_autofree char *audio = g_build_filename (g_get_user_cache_dir (), "tone.ogg", NULL);
  g_autofree char *desc = NULL;
  g_autoptr(GstElement) pipeline = NULL;
  g_autoptr(GstBus) bus = NULL;
  g_autoptr(GstMessage) msg = NULL;

  g_mkdir_with_parents (g_get_user_cache_dir (), 0700);
  g_file_set_contents (text, "These are not the frames you are looking for.\n", -1, &error);
  g_assert_no_error (error);
  assert_open_fails (text, KP_VIDEO_ERROR, KP_VIDEO_ERROR_UNSUPPORTED, "notes.mp4");

  /* An audio file: no video stream. */
  desc = g_strdup_printf ("audiotestsrc num-buffers=20 ! vorbisenc ! oggmux ! filesink location=\"%s\"",
                          audio);
  gst_init (NULL, NULL);
  pipeline = gst_parse_launch (desc, &error);
  g_assert_no_error (error);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  assert_open_fails (audio, KP_VIDEO_ERROR, KP_VIDEO_ERROR_UNSUPPORTED, "no video stream");

  assert_open_fails ("/nonexistent/video.mp4", G_IO_ERROR, G_IO_ERROR_NOT_FOUND, NULL);
}

/* Without an H.264 decoder (every one demoted, as if gstreamer1.0-libav
 * were not installed), opening names the codec and the package. Runs
 * last: the ranks stay demoted. */
static void
test_missing_decoder (void)
{
  g_autofree char *path = fixture_or_fail (&cfr_fixture);
  g_autoptr(GstCaps) caps = gst_caps_from_string ("video/x-h264");
  GList *factories;
  GList *usable;

  if (path == NULL)
    return;
  factories = gst_element_factory_list_get_elements (GST_ELEMENT_FACTORY_TYPE_DECODER,
                                                     GST_RANK_NONE);
  usable = gst_element_factory_list_filter (factories, caps, GST_PAD_SINK, FALSE);
  g_assert_nonnull (usable);
  for (GList *l = usable; l != NULL; l = l->next)
    gst_plugin_feature_set_rank (l->data, GST_RANK_NONE);
  gst_plugin_feature_list_free (usable);
  gst_plugin_feature_list_free (factories);

  assert_open_fails (path, KP_VIDEO_ERROR, KP_VIDEO_ERROR_MISSING_PLUGIN, "H.264");
  assert_open_fails (path, KP_VIDEO_ERROR, KP_VIDEO_ERROR_MISSING_PLUGIN, "gstreamer1.0-libav");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  gst_init (&argc, &argv);

  g_test_add_func ("/kempelen/media/video/index", test_index);
  g_test_add_func ("/kempelen/media/video/seek-random", test_seek_random);
  g_test_add_func ("/kempelen/media/video/step", test_step);
  g_test_add_func ("/kempelen/media/video/async", test_async);
  g_test_add_func ("/kempelen/media/video/vfr", test_vfr);
  g_test_add_func ("/kempelen/media/video/cache-bounded", test_cache_bounded);
  g_test_add_func ("/kempelen/media/video/truncated", test_truncated);
  g_test_add_func ("/kempelen/media/video/not-video", test_not_video);
  g_test_add_func ("/kempelen/media/video/missing-decoder", test_missing_decoder);

  return g_test_run ();
}
