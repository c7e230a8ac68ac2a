/* kp-audio-samples.c: sample-accurate reads of a short stretch of audio
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Below samples-per-pair per pixel the peaks pyramid has nothing more to
 * show; a waveform zoomed in that far reads the samples themselves. This
 * prerolls a decoding pipeline, seeks to the first wanted sample with an
 * accurate seek and copies what the buffers' timestamps say overlaps.
 */

#include "config.h"

#include "kp-peaks.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>

#include "kp-audio-private.h"

#define BUS_TIMEOUT (50 * GST_MSECOND)
/* Never wait longer than this for a pipeline to preroll or seek. */
#define STEP_TIMEOUT (30 * G_TIME_SPAN_SECOND)

typedef struct
{
  GFile *file;
  gint64 start;
  guint n_frames;
  guint channels;
  guint rate;
} ReadData;

static void
read_data_free (ReadData *data)
{
  g_clear_object (&data->file);
  g_free (data);
}

static void
read_pad_added_cb (GstElement *decodebin,
                   GstPad     *pad,
                   gpointer    user_data)
{
  GstElement *convert = user_data;
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps (pad);
  g_autoptr(GstPad) sink = NULL;

  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  if (caps == NULL || gst_caps_get_size (caps) == 0 ||
      !g_str_has_prefix (gst_structure_get_name (gst_caps_get_structure (caps, 0)), "audio/x-raw"))
    return;

  /* A second audio stream finds the pad linked and is left alone. */
  sink = gst_element_get_static_pad (convert, "sink");
  if (!gst_pad_is_linked (sink))
    gst_pad_link (pad, sink);
}

/* Waits for a message of one of the types in wanted; errors, cancellation
 * and the time limit end the wait with FALSE and error set. */
static gboolean
wait_for (GstBus        *bus,
          GstMessageType wanted,
          const char    *name,
          GPtrArray     *missing,
          GCancellable  *cancellable,
          GError       **error)
{
  gint64 deadline = g_get_monotonic_time () + STEP_TIMEOUT;

  for (;;)
    {
      g_autoptr(GstMessage) msg = NULL;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (g_get_monotonic_time () > deadline)
        {
          g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_FAILED,
                       _("Decoding “%s” stalled"), name);
          return FALSE;
        }

      msg = gst_bus_timed_pop_filtered (bus, BUS_TIMEOUT,
                                        wanted | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT);
      if (msg == NULL)
        continue;
      if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
        {
          g_autoptr(GError) gst_error = NULL;

          gst_message_parse_error (msg, &gst_error, NULL);
          _kp_audio_set_error_from_gst (error, name, gst_error, missing);
          return FALSE;
        }
      if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT)
        {
          if (gst_is_missing_plugin_message (msg))
            g_ptr_array_add (missing, gst_missing_plugin_message_get_description (msg));
          continue;
        }
      if (GST_MESSAGE_TYPE (msg) & wanted)
        return TRUE;
    }
}

static gboolean
read_format (GstSample *sample,
             guint     *rate,
             guint     *channels)
{
  GstCaps *caps = sample != NULL ? gst_sample_get_caps (sample) : NULL;
  const GstStructure *s;
  int r = 0, c = 0;

  if (caps == NULL || gst_caps_get_size (caps) == 0)
    return FALSE;
  s = gst_caps_get_structure (caps, 0);
  if (!gst_structure_get_int (s, "rate", &r) || !gst_structure_get_int (s, "channels", &c) ||
      r <= 0 || c < 1 || c > KP_PEAKS_MAX_CHANNELS)
    return FALSE;
  *rate = (guint)r;
  *channels = (guint)c;
  return TRUE;
}

static GBytes *
read_samples (ReadData      *data,
              GCancellable  *cancellable,
              GError       **error)
{
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GstElement) pipeline = NULL;
  g_autoptr(GstBus) bus = NULL;
  g_autoptr(GstCaps) caps = NULL;
  g_autoptr(GstSample) preroll = NULL;
  g_autoptr(GPtrArray) missing = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *uri = g_file_get_uri (data->file);
  g_autofree float *out = NULL;
  GstElement *src, *convert, *capsfilter, *sink;
  const char *name;
  gint64 end, got_until;
  GBytes *bytes = NULL;

  info = g_file_query_info (data->file, G_FILE_ATTRIBUTE_STANDARD_DISPLAY_NAME,
                            G_FILE_QUERY_INFO_NONE, cancellable, error);
  if (info == NULL || !_kp_audio_ensure_gst (error))
    return NULL;
  name = g_file_info_get_display_name (info);

  pipeline = gst_pipeline_new ("kp-audio-samples");
  gst_object_ref_sink (pipeline);
  if (!(src = _kp_audio_make_element ("uridecodebin", "gstreamer1.0-plugins-base", error)))
    return NULL;
  gst_bin_add (GST_BIN (pipeline), src);
  if (!(convert = _kp_audio_make_element ("audioconvert", "gstreamer1.0-plugins-base", error)))
    return NULL;
  gst_bin_add (GST_BIN (pipeline), convert);
  if (!(capsfilter = _kp_audio_make_element ("capsfilter", "gstreamer1.0 (core)", error)))
    return NULL;
  gst_bin_add (GST_BIN (pipeline), capsfilter);
  if (!(sink = _kp_audio_make_element ("appsink", "gstreamer1.0-plugins-base", error)))
    return NULL;
  gst_bin_add (GST_BIN (pipeline), sink);

  caps = gst_caps_from_string ("audio/x-raw, format=(string)F32LE, layout=(string)interleaved");
  g_object_set (capsfilter, "caps", caps, NULL);
  g_object_set (sink, "sync", FALSE, "max-buffers", 16, "emit-signals", FALSE, NULL);
  g_object_set (src, "uri", uri, NULL);
  if (!gst_element_link_many (convert, capsfilter, sink, NULL))
    {
      g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_FAILED,
                   _("The audio decoding pipeline could not be built"));
      return NULL;
    }
  g_signal_connect (src, "pad-added", G_CALLBACK (read_pad_added_cb), convert);

  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PAUSED);
  if (!wait_for (bus, GST_MESSAGE_ASYNC_DONE, name, missing, cancellable, error))
    goto fail;

  preroll = gst_app_sink_try_pull_preroll (GST_APP_SINK (sink), 0);
  if (!read_format (preroll, &data->rate, &data->channels))
    {
      g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_FAILED,
                   _("The audio decoder produced an unexpected format"));
      goto fail;
    }

  if (data->start > 0)
    {
      /* Rounded up: decoders clip to the segment start in whole samples,
       * rounding down, so a time below the exact one would start a sample
       * early. */
      GstClockTime position = gst_util_uint64_scale_ceil ((guint64)data->start, GST_SECOND,
                                                          data->rate);

      if (!gst_element_seek_simple (pipeline, GST_FORMAT_TIME,
                                    GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE, (gint64)position))
        {
          g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_FAILED,
                       _("“%s” cannot be read from the middle"), name);
          goto fail;
        }
      if (!wait_for (bus, GST_MESSAGE_ASYNC_DONE, name, missing, cancellable, error))
        goto fail;
    }

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  out = g_new0 (float, (gsize)data->n_frames * data->channels);
  end = data->start + data->n_frames;
  got_until = data->start;

  while (got_until < end)
    {
      g_autoptr(GstSample) sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), BUS_TIMEOUT);
      g_autoptr(GstMessage) msg = NULL;
      GstBuffer *buffer;
      GstMapInfo map;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        goto fail;

      msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
      if (msg != NULL)
        {
          g_autoptr(GError) gst_error = NULL;

          gst_message_parse_error (msg, &gst_error, NULL);
          _kp_audio_set_error_from_gst (error, name, gst_error, missing);
          goto fail;
        }

      if (sample == NULL)
        {
          if (gst_app_sink_is_eos (GST_APP_SINK (sink)))
            break;
          continue;
        }

      buffer = gst_sample_get_buffer (sample);
      if (buffer == NULL || !GST_BUFFER_PTS_IS_VALID (buffer) ||
          !gst_buffer_map (buffer, &map, GST_MAP_READ))
        continue;

      {
        gint64 b0 = (gint64)gst_util_uint64_scale_round (GST_BUFFER_PTS (buffer), data->rate,
                                                         GST_SECOND);
        gint64 frames = (gint64)(map.size / (sizeof (float) * data->channels));
        gint64 lo = MAX (b0, data->start);
        gint64 hi = MIN (b0 + frames, end);

        if (lo < hi)
          {
            memcpy (out + (lo - data->start) * data->channels,
                    (const float *)map.data + (lo - b0) * data->channels,
                    (gsize)(hi - lo) * data->channels * sizeof (float));
            got_until = MAX (got_until, hi);
          }
        gst_buffer_unmap (buffer, &map);
      }
    }

  gst_element_set_state (pipeline, GST_STATE_NULL);
  bytes = g_bytes_new_take (g_steal_pointer (&out),
                            (gsize)(got_until - data->start) * data->channels * sizeof (float));
  return bytes;

fail:
  gst_element_set_state (pipeline, GST_STATE_NULL);
  return NULL;
}

static void
read_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  GError *error = NULL;
  GBytes *bytes = read_samples (task_data, cancellable, &error);

  if (bytes == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, bytes, (GDestroyNotify)g_bytes_unref);
}

void
kp_audio_read_samples_async (GFile               *file,
                             gint64               start_sample,
                             guint                n_frames,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ReadData *data;

  g_return_if_fail (G_IS_FILE (file));
  g_return_if_fail (start_sample >= 0);
  g_return_if_fail (n_frames > 0);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  data = g_new0 (ReadData, 1);
  data->file = g_object_ref (file);
  data->start = start_sample;
  data->n_frames = n_frames;

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, kp_audio_read_samples_async);
  g_task_set_task_data (task, data, (GDestroyNotify)read_data_free);
  g_task_run_in_thread (task, read_thread);
}

GBytes *
kp_audio_read_samples_finish (GAsyncResult  *result,
                              guint         *channels,
                              guint         *sample_rate,
                              GError       **error)
{
  ReadData *data;
  GBytes *bytes;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kp_audio_read_samples_async,
                        NULL);

  bytes = g_task_propagate_pointer (G_TASK (result), error);
  data = g_task_get_task_data (G_TASK (result));
  if (channels != NULL)
    *channels = bytes != NULL ? data->channels : 0;
  if (sample_rate != NULL)
    *sample_rate = bytes != NULL ? data->rate : 0;
  return bytes;
}
