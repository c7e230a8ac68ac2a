/* kp-video-fixture.h: H.264 files whose frames carry their own number
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Shared by tests/media/test-video.c, tests/app/test-video-widgets.c and
 * tests/bench/video. Each frame's number is written into its pixels as 16
 * bits, one black or white block per bit across the top of the picture,
 * big enough to survive H.264 compression exactly; the rest of the picture
 * moves, so the encoder has real work. Files are cached in the temporary
 * directory under a name hashed from their parameters.
 */

#pragma once

#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>

#define KP_VIDEO_FIXTURE_BITS 16

typedef struct
{
  int width;
  int height;
  int n_frames;
  int fps;            /* frames per second; ignored when vfr */
  int keyint;         /* frames between keyframes */
  int bframes;
  gboolean vfr;       /* durations cycle through 40, 20, 50, 30 ms */
  const char *mux;    /* "mp4mux" or "matroskamux" */
  /* x264's speed-preset; NULL for ultrafast (quick to make, quick to
   * decode: Baseline-like, no CABAC). "medium" makes the High-profile
   * CABAC streams cameras and encoders produce, which cost more to decode. */
  const char *preset;
} KpVideoFixture;

/* The timestamp of frame i of a VFR fixture, in ns. */
static inline gint64
kp_video_fixture_vfr_pts (int i)
{
  static const int cycle_ms[] = { 40, 20, 50, 30 };
  gint64 pts = (gint64)(i / 4) * 140;

  for (int k = 0; k < i % 4; k++)
    pts += cycle_ms[k];
  return pts * GST_MSECOND;
}

/* Names the first of the packages the fixtures need that is missing, or
 * NULL. Tests fail (not skip) when one is missing: the set-up script
 * installs them. */
static inline const char *
kp_video_fixture_missing (void)
{
  static const struct { const char *element; const char *package; } needed[] = {
    { "x264enc", "gstreamer1.0-plugins-ugly (x264enc)" },
    { "avdec_h264", "gstreamer1.0-libav (avdec_h264)" },
    { "h264parse", "gstreamer1.0-plugins-bad (h264parse)" },
    { "mp4mux", "gstreamer1.0-plugins-good (mp4mux)" },
  };

  gst_init (NULL, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (needed); i++)
    {
      g_autoptr(GstElementFactory) factory = gst_element_factory_find (needed[i].element);

      if (factory == NULL)
        return needed[i].package;
    }
  return NULL;
}

/* Reads the number a fixture frame carries from RGBA pixels; -1 if a
 * block is neither black nor white. */
static inline int
kp_video_fixture_read_number (const guint8 *rgba,
                              int           width,
                              int           height,
                              gsize         stride)
{
  int block = width / KP_VIDEO_FIXTURE_BITS;
  int band = MAX (16, height / 8);
  int number = 0;

  for (int b = 0; b < KP_VIDEO_FIXTURE_BITS; b++)
    {
      const guint8 *p = rgba + (gsize)(band / 2) * stride + (gsize)(b * block + block / 2) * 4;

      if (p[1] > 192)
        number |= 1 << b;
      else if (p[1] > 64)
        return -1;
    }
  return number;
}

static inline void
kp_video_fixture_paint (guint8 *data,
                        int     width,
                        int     height,
                        int     i)
{
  int block = width / KP_VIDEO_FIXTURE_BITS;
  int band = MAX (16, height / 8);
  guint8 *y = data;
  gsize chroma = (gsize)((width + 1) / 2) * ((height + 1) / 2);

  for (int row = 0; row < height; row++)
    {
      guint8 *line = y + (gsize)row * width;

      if (row < band)
        {
          for (int x = 0; x < width; x++)
            {
              int b = x / block;

              line[x] = b < KP_VIDEO_FIXTURE_BITS && (i >> b) & 1 ? 235 : 16;
            }
        }
      else
        {
          for (int x = 0; x < width; x++)
            line[x] = 40 + (((x + 3 * i) ^ (row - 2 * i)) & 0x7f);
        }
    }
  memset (data + (gsize)width * height, 128, 2 * chroma);
}

/* Returns the path of the fixture, generating it if it is not cached. */
static inline char *
kp_video_fixture_get (const KpVideoFixture  *fx,
                      GError               **error)
{
  g_autofree char *key = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *path = NULL;
  g_autofree char *tmp_path = NULL;
  g_autofree char *desc = NULL;
  g_autoptr(GstElement) pipeline = NULL;
  g_autoptr(GstBus) bus = NULL;
  g_autoptr(GstMessage) msg = NULL;
  g_autoptr(GstCaps) caps = NULL;
  GstElement *src;
  const char *missing = kp_video_fixture_missing ();
  gsize frame_size;

  if (missing != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "Making the video fixtures needs %s; install it", missing);
      return NULL;
    }

  key = g_strdup_printf ("v3 %dx%d n=%d fps=%d keyint=%d b=%d vfr=%d %s%s%s",
                         fx->width, fx->height, fx->n_frames, fx->fps, fx->keyint,
                         fx->bframes, fx->vfr, fx->mux,
                         fx->preset != NULL ? " preset=" : "",
                         fx->preset != NULL ? fx->preset : "");
  hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, key, -1);
  path = g_strdup_printf ("%s/kp-video-fixture-%.16s.%s", g_get_tmp_dir (), hash,
                          g_str_equal (fx->mux, "mp4mux") ? "mp4" : "mkv");
  if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return g_steal_pointer (&path);

  tmp_path = g_strdup_printf ("%s.%u.tmp", path, g_random_int ());
  desc = g_strdup_printf ("appsrc name=src format=time ! x264enc speed-preset=%s "
                          "key-int-max=%d bframes=%d option-string=scenecut=0 ! h264parse ! "
                          "%s ! filesink location=\"%s\"",
                          fx->preset != NULL ? fx->preset : "ultrafast",
                          fx->keyint, fx->bframes, fx->mux, tmp_path);
  pipeline = gst_parse_launch (desc, error);
  if (pipeline == NULL)
    return NULL;
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  caps = gst_caps_new_simple ("video/x-raw",
                              "format", G_TYPE_STRING, "I420",
                              "width", G_TYPE_INT, fx->width,
                              "height", G_TYPE_INT, fx->height,
                              "framerate", GST_TYPE_FRACTION, fx->vfr ? 0 : fx->fps, 1,
                              NULL);
  frame_size = (gsize)fx->width * fx->height + 2 * (gsize)((fx->width + 1) / 2) * ((fx->height + 1) / 2);
  g_object_set (src, "caps", caps, "block", TRUE, "max-bytes", (guint64)frame_size * 4, NULL);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  for (int i = 0; i < fx->n_frames; i++)
    {
      GstBuffer *buffer = gst_buffer_new_allocate (NULL, frame_size, NULL);
      GstMapInfo map;

      gst_buffer_map (buffer, &map, GST_MAP_WRITE);
      kp_video_fixture_paint (map.data, fx->width, fx->height, i);
      gst_buffer_unmap (buffer, &map);
      if (fx->vfr)
        {
          GST_BUFFER_PTS (buffer) = kp_video_fixture_vfr_pts (i);
          GST_BUFFER_DURATION (buffer) = kp_video_fixture_vfr_pts (i + 1) - kp_video_fixture_vfr_pts (i);
        }
      else
        {
          GST_BUFFER_PTS (buffer) = gst_util_uint64_scale_int (i, GST_SECOND, fx->fps);
          GST_BUFFER_DURATION (buffer) = gst_util_uint64_scale_int (1, GST_SECOND, fx->fps);
        }
      if (gst_app_src_push_buffer (GST_APP_SRC (src), buffer) != GST_FLOW_OK)
        break;
    }
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  gst_object_unref (src);

  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
    {
      gst_message_parse_error (msg, error, NULL);
      g_unlink (tmp_path);
      return NULL;
    }
  if (g_rename (tmp_path, path) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot rename %s", tmp_path);
      return NULL;
    }
  return g_steal_pointer (&path);
}
