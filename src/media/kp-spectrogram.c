/* kp-spectrogram.c: a spectrogram of an audio file (GStreamer "spectrum")
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-spectrogram.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>

#include "kp-audio-private.h"
#include "kp-peaks.h"

#define CACHE_MAGIC   "KPSPEC01"
#define HEADER_SIZE   32
#define BUS_TIMEOUT   (50 * GST_MSECOND)
#define STEP_TIMEOUT  (30 * G_TIME_SPAN_SECOND)

struct _KpSpectrogram
{
  GObject  parent_instance;

  guint    sample_rate;
  guint    n_columns;
  gint64   hop;
  gint64   start;
  GBytes  *data;
  guint    loading : 1;
  guint    from_cache : 1;
};

G_DEFINE_FINAL_TYPE (KpSpectrogram, kp_spectrogram, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_COMPLETE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

typedef struct
{
  GFile                  *file;
  KpSpectrogramLoadFlags  flags;
  guint                   sample_rate;
  guint                   n_columns;
  gint64                  hop;
  gint64                  range_start;    /* -1 for the whole file */
  gint64                  range_duration;
  GBytes                 *data;
  gboolean                from_cache;
} LoadData;

static void
load_data_free (LoadData *data)
{
  g_clear_object (&data->file);
  g_clear_pointer (&data->data, g_bytes_unref);
  g_free (data);
}

static void
kp_spectrogram_finalize (GObject *object)
{
  KpSpectrogram *self = (KpSpectrogram *)object;

  g_clear_pointer (&self->data, g_bytes_unref);

  G_OBJECT_CLASS (kp_spectrogram_parent_class)->finalize (object);
}

static void
kp_spectrogram_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  KpSpectrogram *self = KP_SPECTROGRAM (object);

  switch (prop_id)
    {
    case PROP_COMPLETE:
      g_value_set_boolean (value, kp_spectrogram_get_complete (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_spectrogram_class_init (KpSpectrogramClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = kp_spectrogram_finalize;
  object_class->get_property = kp_spectrogram_get_property;

  properties[PROP_COMPLETE] =
    g_param_spec_boolean ("complete", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kp_spectrogram_init (KpSpectrogram *self)
{
}

KpSpectrogram *
kp_spectrogram_new (void)
{
  return g_object_new (KP_TYPE_SPECTROGRAM, NULL);
}

static char *
cache_path (GFile         *file,
            GCancellable  *cancellable)
{
  g_autoptr(GFileInfo) info = NULL;
  g_autofree char *uri = g_file_get_uri (file);
  g_autofree char *key = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *name = NULL;

  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE "," G_FILE_ATTRIBUTE_TIME_MODIFIED
                            "," G_FILE_ATTRIBUTE_TIME_MODIFIED_USEC, G_FILE_QUERY_INFO_NONE,
                            cancellable, NULL);
  if (info == NULL)
    return NULL;
  key = g_strdup_printf ("%s\n%" G_GUINT64_FORMAT "\n%" G_GUINT64_FORMAT ".%06u\n%u %u %d",
                         uri, (guint64)g_file_info_get_size (info),
                         g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_TIME_MODIFIED),
                         g_file_info_get_attribute_uint32 (info, G_FILE_ATTRIBUTE_TIME_MODIFIED_USEC),
                         KP_SPECTROGRAM_BANDS, KP_SPECTROGRAM_MAX_COLUMNS, KP_SPECTROGRAM_FLOOR_DB);
  digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, key, -1);
  name = g_strconcat (digest, ".kpspec", NULL);
  return g_build_filename (g_get_user_cache_dir (), "kempelen", "spectrogram", name, NULL);
}

/* Cache file: magic, rate (u32), bands (u32), columns (u32), hop (u64),
 * 4 spare bytes, then the bytes; little-endian. */
static gboolean
read_cache (LoadData   *data,
            const char *path)
{
  g_autofree char *contents = NULL;
  gsize len;
  guint32 rate, bands, columns;
  guint64 hop;

  if (!g_file_get_contents (path, &contents, &len, NULL) || len < HEADER_SIZE
      || memcmp (contents, CACHE_MAGIC, 8) != 0)
    return FALSE;
  memcpy (&rate, contents + 8, 4);
  memcpy (&bands, contents + 12, 4);
  memcpy (&columns, contents + 16, 4);
  memcpy (&hop, contents + 20, 8);
  rate = GUINT32_FROM_LE (rate);
  bands = GUINT32_FROM_LE (bands);
  columns = GUINT32_FROM_LE (columns);
  hop = GUINT64_FROM_LE (hop);
  if (bands != KP_SPECTROGRAM_BANDS || columns > KP_SPECTROGRAM_MAX_COLUMNS + 1 || rate == 0
      || hop == 0 || len != HEADER_SIZE + (gsize)columns * bands)
    return FALSE;
  data->sample_rate = rate;
  data->n_columns = columns;
  data->hop = hop;
  data->data = g_bytes_new (contents + HEADER_SIZE, len - HEADER_SIZE);
  return TRUE;
}

static void
write_cache (LoadData   *data,
             const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize size = g_bytes_get_size (data->data);
  guint32 v;
  guint64 hop = GUINT64_TO_LE ((guint64)data->hop);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    return;
  contents = g_malloc0 (HEADER_SIZE + size);
  memcpy (contents, CACHE_MAGIC, 8);
  v = GUINT32_TO_LE (data->sample_rate);
  memcpy (contents + 8, &v, 4);
  v = GUINT32_TO_LE (KP_SPECTROGRAM_BANDS);
  memcpy (contents + 12, &v, 4);
  v = GUINT32_TO_LE (data->n_columns);
  memcpy (contents + 16, &v, 4);
  memcpy (contents + 20, &hop, 8);
  memcpy (contents + HEADER_SIZE, g_bytes_get_data (data->data, NULL), size);
  if (!g_file_set_contents (path, contents, HEADER_SIZE + size, &error))
    g_debug ("Not caching the spectrogram: %s", error->message);
}

static void
pad_added_cb (GstElement *decodebin,
              GstPad     *pad,
              gpointer    user_data)
{
  GstElement *convert = user_data;
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps (pad);
  g_autoptr(GstPad) sink = gst_element_get_static_pad (convert, "sink");

  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  if (caps == NULL || gst_caps_get_size (caps) == 0
      || !g_str_has_prefix (gst_structure_get_name (gst_caps_get_structure (caps, 0)), "audio/x-raw"))
    return;
  if (!gst_pad_is_linked (sink))
    gst_pad_link (pad, sink);
}

/* Waits for one of wanted, collecting spectrum messages into columns. */
static gboolean
pump (GstBus         *bus,
      GstMessageType  wanted,
      const char     *name,
      GPtrArray      *missing,
      GByteArray     *columns,
      gint64          origin,
      gint64          hop,
      GCancellable   *cancellable,
      GError        **error)
{
  gint64 deadline = g_get_monotonic_time () + STEP_TIMEOUT;

  for (;;)
    {
      g_autoptr(GstMessage) msg = NULL;
      const GstStructure *s;

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
      deadline = g_get_monotonic_time () + STEP_TIMEOUT;
      if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
        {
          g_autoptr(GError) gst_error = NULL;

          gst_message_parse_error (msg, &gst_error, NULL);
          _kp_audio_set_error_from_gst (error, name, gst_error, missing);
          return FALSE;
        }
      if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ELEMENT)
        {
          if (GST_MESSAGE_TYPE (msg) & wanted)
            return TRUE;
          continue;
        }
      if (gst_is_missing_plugin_message (msg))
        {
          g_ptr_array_add (missing, gst_missing_plugin_message_get_description (msg));
          continue;
        }
      s = gst_message_get_structure (msg);
      if (columns != NULL && s != NULL && gst_structure_has_name (s, "spectrum"))
        {
          const GValue *mags = gst_structure_get_value (s, "magnitude");
          guint8 column[KP_SPECTROGRAM_BANDS] = { 0 };
          guint n = mags ? MIN (gst_value_list_get_size (mags), KP_SPECTROGRAM_BANDS) : 0;
          guint64 stream_time = GST_CLOCK_TIME_NONE;
          guint index;

          for (guint i = 0; i < n; i++)
            {
              float db = g_value_get_float (gst_value_list_get_value (mags, i));
              double v = (db - KP_SPECTROGRAM_FLOOR_DB) * 255.0 / -KP_SPECTROGRAM_FLOOR_DB;

              column[i] = (guint8)CLAMP (v, 0, 255);
            }

          /* Place columns by time: the element may post fewer than one per
           * interval (its FFT is longer than a short interval). Gaps repeat
           * the column before. */
          if (!gst_structure_get_clock_time (s, "stream-time", &stream_time)
              || !GST_CLOCK_TIME_IS_VALID (stream_time) || hop <= 0)
            index = columns->len / KP_SPECTROGRAM_BANDS;
          else if ((gint64)stream_time < origin)
            continue;
          else
            index = MIN ((stream_time - origin) / hop, KP_SPECTROGRAM_MAX_COLUMNS);
          while (columns->len / KP_SPECTROGRAM_BANDS < index)
            {
              guint len = columns->len;

              g_byte_array_set_size (columns, len + KP_SPECTROGRAM_BANDS);
              if (len > 0)
                memmove (columns->data + len, columns->data + len - KP_SPECTROGRAM_BANDS,
                         KP_SPECTROGRAM_BANDS);
              else
                memset (columns->data, 0, KP_SPECTROGRAM_BANDS);
            }
          if (columns->len / KP_SPECTROGRAM_BANDS == index)
            g_byte_array_append (columns, column, sizeof column);
          else
            memcpy (columns->data + (gsize)index * KP_SPECTROGRAM_BANDS, column, sizeof column);
        }
    }
}

static gboolean
compute (LoadData      *data,
         GCancellable  *cancellable,
         GError       **error)
{
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GstElement) pipeline = NULL;
  g_autoptr(GstBus) bus = NULL;
  g_autoptr(GPtrArray) missing = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GByteArray) columns = g_byte_array_new ();
  g_autoptr(GstPad) pad = NULL;
  g_autoptr(GstCaps) caps = NULL;
  g_autofree char *uri = g_file_get_uri (data->file);
  GstElement *src, *convert, *spectrum, *sink;
  const char *name;
  gint64 duration = -1;
  int rate = 0;
  gboolean ok;

  info = g_file_query_info (data->file, G_FILE_ATTRIBUTE_STANDARD_DISPLAY_NAME,
                            G_FILE_QUERY_INFO_NONE, cancellable, error);
  if (info == NULL || !_kp_audio_ensure_gst (error))
    return FALSE;
  name = g_file_info_get_display_name (info);

  pipeline = gst_pipeline_new ("kp-spectrogram");
  gst_object_ref_sink (pipeline);
  if (!(src = _kp_audio_make_element ("uridecodebin", "gstreamer1.0-plugins-base", error)))
    return FALSE;
  gst_bin_add (GST_BIN (pipeline), src);
  if (!(convert = _kp_audio_make_element ("audioconvert", "gstreamer1.0-plugins-base", error)))
    return FALSE;
  gst_bin_add (GST_BIN (pipeline), convert);
  if (!(spectrum = _kp_audio_make_element ("spectrum", "gstreamer1.0-plugins-good", error)))
    return FALSE;
  gst_bin_add (GST_BIN (pipeline), spectrum);
  if (!(sink = _kp_audio_make_element ("fakesink", "gstreamer1.0 (core)", error)))
    return FALSE;
  gst_bin_add (GST_BIN (pipeline), sink);
  g_object_set (sink, "sync", FALSE, NULL);
  g_object_set (spectrum, "bands", KP_SPECTROGRAM_BANDS, "threshold", KP_SPECTROGRAM_FLOOR_DB,
                "post-messages", TRUE, "message-magnitude", TRUE, "multi-channel", FALSE, NULL);
  g_object_set (src, "uri", uri, NULL);
  g_signal_connect (src, "pad-added", G_CALLBACK (pad_added_cb), convert);
  if (!gst_element_link_many (convert, spectrum, sink, NULL))
    {
      g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_FAILED,
                   _("The spectrogram pipeline could not be built"));
      return FALSE;
    }

  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PAUSED);
  ok = pump (bus, GST_MESSAGE_ASYNC_DONE, name, missing, NULL, 0, 0, cancellable, error);
  if (ok)
    {
      pad = gst_element_get_static_pad (spectrum, "sink");
      caps = gst_pad_get_current_caps (pad);
      if (caps == NULL || !gst_structure_get_int (gst_caps_get_structure (caps, 0), "rate", &rate)
          || rate <= 0)
        {
          g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_UNSUPPORTED,
                       _("“%s” is not an audio file the workstation can read"), name);
          ok = FALSE;
        }
    }
  if (ok)
    {
      if (!gst_element_query_duration (pipeline, GST_FORMAT_TIME, &duration))
        duration = -1;
      if (data->range_start >= 0)
        duration = data->range_duration;
      data->hop = MAX (KP_SPECTROGRAM_MIN_HOP_NS, data->hop);
      if (duration > 0)
        data->hop = MAX (data->hop, (duration + KP_SPECTROGRAM_MAX_COLUMNS - 1)
                                    / KP_SPECTROGRAM_MAX_COLUMNS);
      data->sample_rate = rate;
      g_object_set (spectrum, "interval", (guint64)data->hop, NULL);
      /* Start over now that the interval is set (the preroll went through
       * the element already); for a stretch, an accurate seek whose stop
       * ends the stream. What prerolls again is collected too. */
      if (!gst_element_seek (pipeline, 1.0, GST_FORMAT_TIME,
                             GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE,
                             GST_SEEK_TYPE_SET, MAX (data->range_start, 0),
                             data->range_start >= 0 ? GST_SEEK_TYPE_SET : GST_SEEK_TYPE_NONE,
                             data->range_start >= 0
                               ? data->range_start + data->range_duration : -1))
        {
          g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_FAILED,
                       _("“%s” cannot be read from the middle"), name);
          ok = FALSE;
        }
      else
        ok = pump (bus, GST_MESSAGE_ASYNC_DONE, name, missing, columns, MAX (data->range_start, 0),
                   data->hop, cancellable, error);
    }
  if (ok)
    {
      gst_element_set_state (pipeline, GST_STATE_PLAYING);
      ok = pump (bus, GST_MESSAGE_EOS, name, missing, columns, MAX (data->range_start, 0),
                 data->hop, cancellable, error);
    }
  gst_element_set_state (pipeline, GST_STATE_NULL);
  if (!ok)
    return FALSE;
  if (columns->len == 0)
    {
      g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_CORRUPT,
                   _("“%s” holds no audio"), name);
      return FALSE;
    }
  /* Without a known duration the hop stays short; keep the first columns. */
  data->n_columns = MIN (columns->len / KP_SPECTROGRAM_BANDS, KP_SPECTROGRAM_MAX_COLUMNS + 1);
  g_byte_array_set_size (columns, data->n_columns * KP_SPECTROGRAM_BANDS);
  data->data = g_byte_array_free_to_bytes (g_steal_pointer (&columns));
  return TRUE;
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  LoadData *data = task_data;
  g_autofree char *path = NULL;
  GError *error = NULL;

  if (!(data->flags & KP_SPECTROGRAM_LOAD_NO_CACHE) && data->range_start < 0)
    path = cache_path (data->file, cancellable);
  if (path != NULL && read_cache (data, path))
    {
      data->from_cache = TRUE;
      g_task_return_boolean (task, TRUE);
      return;
    }
  if (!compute (data, cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  if (path != NULL)
    write_cache (data, path);
  g_task_return_boolean (task, TRUE);
}

void
kp_spectrogram_load_async (KpSpectrogram          *self,
                           GFile                  *file,
                           KpSpectrogramLoadFlags  flags,
                           GCancellable           *cancellable,
                           GAsyncReadyCallback     callback,
                           gpointer                user_data)
{
  g_autoptr(GTask) task = NULL;
  LoadData *data;

  g_return_if_fail (KP_IS_SPECTROGRAM (self));
  g_return_if_fail (G_IS_FILE (file));
  g_return_if_fail (!self->loading && self->data == NULL);

  self->loading = TRUE;
  data = g_new0 (LoadData, 1);
  data->file = g_object_ref (file);
  data->flags = flags;
  data->range_start = -1;
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kp_spectrogram_load_async);
  g_task_set_task_data (task, data, (GDestroyNotify)load_data_free);
  g_task_run_in_thread (task, load_thread);
}

void
kp_spectrogram_load_range_async (KpSpectrogram       *self,
                                 GFile               *file,
                                 gint64               start,
                                 gint64               duration,
                                 gint64               hop,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  LoadData *data;

  g_return_if_fail (KP_IS_SPECTROGRAM (self));
  g_return_if_fail (G_IS_FILE (file));
  g_return_if_fail (start >= 0 && duration > 0);
  g_return_if_fail (!self->loading && self->data == NULL);

  self->loading = TRUE;
  self->start = start;
  data = g_new0 (LoadData, 1);
  data->file = g_object_ref (file);
  data->flags = KP_SPECTROGRAM_LOAD_NO_CACHE;
  data->range_start = start;
  data->range_duration = duration;
  data->hop = hop;
  task = g_task_new (self, cancellable, callback, user_data);
  /* Both loads share kp_spectrogram_load_finish. */
  g_task_set_source_tag (task, kp_spectrogram_load_async);
  g_task_set_task_data (task, data, (GDestroyNotify)load_data_free);
  g_task_run_in_thread (task, load_thread);
}

gint64
kp_spectrogram_get_start (KpSpectrogram *self)
{
  g_return_val_if_fail (KP_IS_SPECTROGRAM (self), 0);
  return self->start;
}

gboolean
kp_spectrogram_load_finish (KpSpectrogram  *self,
                            GAsyncResult   *result,
                            GError        **error)
{
  LoadData *data;

  g_return_val_if_fail (KP_IS_SPECTROGRAM (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  self->loading = FALSE;
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  data = g_task_get_task_data (G_TASK (result));
  if (self->data == NULL)
    {
      self->sample_rate = data->sample_rate;
      self->n_columns = data->n_columns;
      self->hop = data->hop;
      self->from_cache = data->from_cache;
      self->data = g_steal_pointer (&data->data);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COMPLETE]);
    }
  return TRUE;
}

gboolean
kp_spectrogram_get_from_cache (KpSpectrogram *self)
{
  g_return_val_if_fail (KP_IS_SPECTROGRAM (self), FALSE);
  return self->from_cache;
}

gboolean
kp_spectrogram_get_complete (KpSpectrogram *self)
{
  g_return_val_if_fail (KP_IS_SPECTROGRAM (self), FALSE);
  return self->data != NULL;
}

guint
kp_spectrogram_get_sample_rate (KpSpectrogram *self)
{
  g_return_val_if_fail (KP_IS_SPECTROGRAM (self), 0);
  return self->sample_rate;
}

guint
kp_spectrogram_get_n_bands (KpSpectrogram *self)
{
  g_return_val_if_fail (KP_IS_SPECTROGRAM (self), 0);
  return KP_SPECTROGRAM_BANDS;
}

guint
kp_spectrogram_get_n_columns (KpSpectrogram *self)
{
  g_return_val_if_fail (KP_IS_SPECTROGRAM (self), 0);
  return self->n_columns;
}

gint64
kp_spectrogram_get_hop (KpSpectrogram *self)
{
  g_return_val_if_fail (KP_IS_SPECTROGRAM (self), 0);
  return self->hop;
}

const guint8 *
kp_spectrogram_get_data (KpSpectrogram *self)
{
  g_return_val_if_fail (KP_IS_SPECTROGRAM (self), NULL);
  return self->data ? g_bytes_get_data (self->data, NULL) : NULL;
}
