/* bench-video.c: frame-exact stepping and seeking in 1080p H.264
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Prints BENCH lines:
 *   video_step_ms              mean time to show the next frame, stepping
 *                              at key-repeat pace (a step every 40 ms)
 *   video_step_backtoback_ms   the same with no pause between steps
 *   video_seek_p95_ms          p95 of seeks to random frames, each with
 *                              the frame cache emptied first (cold)
 *   video_seek_p95_ms_baseline p95 of a bare GStreamer accurate seek
 *                              (decodebin ! videoconvert ! appsink,
 *                              GST_SEEK_FLAG_ACCURATE) to the same frames
 *   video_2h_peak_rss_mb       peak RSS while opening a 2-hour video
 *                              (low resolution, 10 fps: 72000 frames) and
 *                              seeking and stepping all over it with the
 *                              default cache; measured before any 1080p work
 *   video_1080p_peak_rss_mb    peak RSS of the whole run (the 1080p cache
 *                              is capped at KP_VIDEO_DEFAULT_CACHE_LIMIT)
 *
 * The 1080p fixture is 12 s at 30 fps with a 2-second keyframe interval
 * (x264's medium preset: High profile with CABAC, as cameras and
 * encoders make it; frames carrying their number, checked on every seek);
 * fixtures are cached in the temporary directory by a hash of their
 * parameters. KP_BENCH_SEEKS sets the number of seeks (default 40).
 */

#include "config.h"

#include <stdlib.h>
#include <sys/resource.h>

#include <gst/app/gstappsink.h>
#include <gst/gst.h>

#include "../../media/kp-video-fixture.h"
#include "kp-video.h"

static const KpVideoFixture hd_fixture = {
  .width = 1920, .height = 1080, .n_frames = 360, .fps = 30,
  .keyint = 60, .bframes = 0, .vfr = FALSE, .mux = "mp4mux",
  .preset = "medium",
};

static const KpVideoFixture long_fixture = {
  .width = 128, .height = 72, .n_frames = 72000, .fps = 10,
  .keyint = 20, .bframes = 0, .vfr = FALSE, .mux = "mp4mux",
};

static double
peak_rss_mb (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

static int
compare_doubles (const void *a,
                 const void *b)
{
  double da = *(const double *)a;
  double db = *(const double *)b;

  return (da > db) - (da < db);
}

static double
percentile (double *values,
            guint   n,
            double  p)
{
  qsort (values, n, sizeof (double), compare_doubles);
  return values[MIN (n - 1, (guint)(p * n))];
}

static void
check_frame (KpVideoFrame *frame,
             gint64        n)
{
  int number = kp_video_fixture_read_number (g_bytes_get_data (kp_video_frame_get_bytes (frame), NULL),
                                             kp_video_frame_get_width (frame),
                                             kp_video_frame_get_height (frame),
                                             kp_video_frame_get_stride (frame));

  if (number != (n & 0xffff))
    g_error ("Asked for frame %" G_GINT64_FORMAT ", got frame %d", n, number);
}

static KpVideoFrame *
get_frame (KpVideoSource *source,
           gint64         n)
{
  g_autoptr(GError) error = NULL;
  KpVideoFrame *frame = kp_video_source_get_frame (source, n, NULL, &error);

  if (frame == NULL)
    g_error ("Frame %" G_GINT64_FORMAT ": %s", n, error->message);
  return frame;
}

static KpVideoSource *
open_source (const char *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GError) error = NULL;
  KpVideoSource *source = kp_video_source_open (file, NULL, &error);

  if (source == NULL)
    g_error ("%s", error->message);
  return source;
}

static void
bench_long (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = kp_video_fixture_get (&long_fixture, &error);
  g_autoptr(KpVideoSource) source = NULL;
  gint64 t0;

  if (path == NULL)
    g_error ("No 2-hour fixture: %s", error->message);
  t0 = g_get_monotonic_time ();
  source = open_source (path);
  g_print ("# 2-hour file: %" G_GINT64_FORMAT " frames, indexed in %.2f s\n",
           kp_video_source_get_n_frames (source), (g_get_monotonic_time () - t0) / 1e6);
  for (int i = 0; i < 30; i++)
    {
      gint64 n = g_test_rand_int_range (0, long_fixture.n_frames - 200);
      g_autoptr(KpVideoFrame) frame = get_frame (source, n);

      check_frame (frame, n);
      for (gint64 k = 1; k <= 100; k++)
        {
          g_autoptr(KpVideoFrame) next = get_frame (source, n + k);

          check_frame (next, n + k);
        }
    }
  g_print ("# cache after the 2-hour run: %.1f MB\n",
           kp_video_source_get_cache_size (source) / 1048576.0);
  g_print ("BENCH video_2h_peak_rss_mb %.1f MB\n", peak_rss_mb ());
}

/* The baseline: a plain pipeline, each seek ACCURATE, the frame pulled
 * as the preroll. */
static double
bench_baseline_seeks (const char   *path,
                      const gint64 *targets,
                      guint         n_targets,
                      KpVideoSource *index)
{
  g_autofree char *desc = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! videoconvert ! "
                                           "video/x-raw,format=RGBA ! appsink name=sink sync=false",
                                           path);
  g_autoptr(GError) error = NULL;
  g_autoptr(GstElement) pipeline = gst_parse_launch (desc, &error);
  g_autoptr(GstElement) sink = NULL;
  g_autofree double *times = g_new0 (double, n_targets);

  if (pipeline == NULL)
    g_error ("%s", error->message);
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  gst_element_set_state (pipeline, GST_STATE_PAUSED);
  gst_element_get_state (pipeline, NULL, NULL, GST_CLOCK_TIME_NONE);
  {
    GstSample *first = gst_app_sink_pull_preroll (GST_APP_SINK (sink));

    gst_sample_unref (first);
  }

  for (guint i = 0; i < n_targets; i++)
    {
      gint64 t0 = g_get_monotonic_time ();
      GstSample *sample;

      gst_element_seek_simple (pipeline, GST_FORMAT_TIME,
                               GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE,
                               kp_video_source_get_frame_pts (index, targets[i]));
      sample = gst_app_sink_pull_preroll (GST_APP_SINK (sink));
      times[i] = (g_get_monotonic_time () - t0) / 1000.0;
      if (sample == NULL)
        g_error ("The baseline seek to frame %" G_GINT64_FORMAT " failed", targets[i]);
      gst_sample_unref (sample);
    }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  return percentile (times, n_targets, 0.95);
}

static void
bench_hd (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autoptr(KpVideoSource) source = NULL;
  guint n_seeks = 40;
  g_autofree gint64 *targets = NULL;
  g_autofree double *seek_times = NULL;
  double step_sum = 0, step_max = 0, b2b_sum = 0;
  const int n_steps = 60;
  double seek_p95, baseline_p95;
  gint64 t0;

  if (g_getenv ("KP_BENCH_SEEKS") != NULL)
    n_seeks = MAX (1, atoi (g_getenv ("KP_BENCH_SEEKS")));

  t0 = g_get_monotonic_time ();
  path = kp_video_fixture_get (&hd_fixture, &error);
  if (path == NULL)
    g_error ("No 1080p fixture: %s", error->message);
  g_print ("# 1080p fixture ready in %.1f s: %s\n", (g_get_monotonic_time () - t0) / 1e6, path);
  source = open_source (path);

  targets = g_new0 (gint64, n_seeks);
  seek_times = g_new0 (double, n_seeks);
  for (guint i = 0; i < n_seeks; i++)
    targets[i] = g_test_rand_int_range (0, hd_fixture.n_frames);

  /* Warm up: the first request starts the decoder. */
  {
    g_autoptr(KpVideoFrame) frame = get_frame (source, 0);
  }

  for (guint i = 0; i < n_seeks; i++)
    {
      g_autoptr(KpVideoFrame) frame = NULL;
      gsize limit = kp_video_source_get_cache_limit (source);

      kp_video_source_set_cache_limit (source, 0);
      kp_video_source_set_cache_limit (source, limit);
      t0 = g_get_monotonic_time ();
      frame = get_frame (source, targets[i]);
      seek_times[i] = (g_get_monotonic_time () - t0) / 1000.0;
      check_frame (frame, targets[i]);
    }
  seek_p95 = percentile (seek_times, n_seeks, 0.95);

  /* Steps at key-repeat pace from a sought frame. */
  {
    g_autoptr(KpVideoFrame) start = get_frame (source, 100);
  }
  for (int k = 1; k <= n_steps; k++)
    {
      g_autoptr(KpVideoFrame) frame = NULL;
      double ms;

      g_usleep (40 * 1000);
      t0 = g_get_monotonic_time ();
      frame = get_frame (source, 100 + k);
      ms = (g_get_monotonic_time () - t0) / 1000.0;
      check_frame (frame, 100 + k);
      step_sum += ms;
      step_max = MAX (step_max, ms);
    }
  {
    g_autoptr(KpVideoFrame) start = get_frame (source, 250);
  }
  for (int k = 1; k <= n_steps; k++)
    {
      g_autoptr(KpVideoFrame) frame = NULL;

      t0 = g_get_monotonic_time ();
      frame = get_frame (source, 250 + k);
      b2b_sum += (g_get_monotonic_time () - t0) / 1000.0;
      check_frame (frame, 250 + k);
    }

  g_print ("# peak RSS before the baseline: %.1f MB (cache now %.1f MB)\n", peak_rss_mb (),
           kp_video_source_get_cache_size (source) / 1048576.0);
  baseline_p95 = bench_baseline_seeks (path, targets, n_seeks, source);

  g_print ("# step max %.1f ms\n", step_max);
  g_print ("BENCH video_step_ms %.1f ms\n", step_sum / n_steps);
  g_print ("BENCH video_step_backtoback_ms %.1f ms\n", b2b_sum / n_steps);
  g_print ("BENCH video_seek_p95_ms %.1f ms\n", seek_p95);
  g_print ("BENCH video_seek_p95_ms_baseline %.1f ms\n", baseline_p95);
  g_print ("BENCH video_1080p_peak_rss_mb %.1f MB\n", peak_rss_mb ());
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);

  if (kp_video_fixture_missing () != NULL)
    g_error ("The video benchmark needs %s", kp_video_fixture_missing ());

  bench_long ();
  bench_hd ();
  return 0;
}
