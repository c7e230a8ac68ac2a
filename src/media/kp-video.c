/* kp-video.c: frame-exact access to a video file (GStreamer; no GTK)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Threads. A KpVideoSource owns a refcounted Decoder. The index is built
 * once (on a GTask worker for the async open) and is read-only afterwards,
 * so any thread may read it. The decoder thread owns the decoding pipeline;
 * it takes Requests from an async queue, and while the queue is empty it
 * decodes ahead. The frame cache is shared and protected by cache_lock;
 * conversion to RGBA is protected by convert_lock.
 *
 * The decoder thread holds its own reference on the Decoder, never on the
 * KpVideoSource: when the source is finalized it only asks the thread to
 * quit, so a last reference dropped on the decoder thread cannot join the
 * thread from itself. GTasks are unreferenced on their own main context.
 */

#include "config.h"

#include "kp-video.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>
#include <gst/video/video.h>

G_DEFINE_QUARK (kp-video-error-quark, kp_video_error)

#define PULL_TIMEOUT (100 * GST_MSECOND)
#define DEFAULT_DECODE_AHEAD 30
#define STALL_TIMEOUT (3 * G_TIME_SPAN_SECOND)
/* Frames decoded ahead of a request are converted to RGBA right away (they
 * are what stepping and playback show next); frames decoded on the way to a
 * sought frame are kept in the decoder's format until someone asks. */

/* KpVideoFrame */

struct _KpVideoFrame
{
  gatomicrefcount ref_count;
  gint64 number;
  gint64 pts;
  int width;
  int height;
  gsize stride;
  GBytes *bytes;
};

G_DEFINE_BOXED_TYPE (KpVideoFrame, kp_video_frame, kp_video_frame_ref, kp_video_frame_unref)

KpVideoFrame *
kp_video_frame_ref (KpVideoFrame *frame)
{
  g_return_val_if_fail (frame != NULL, NULL);

  g_atomic_ref_count_inc (&frame->ref_count);
  return frame;
}

void
kp_video_frame_unref (KpVideoFrame *frame)
{
  g_return_if_fail (frame != NULL);

  if (g_atomic_ref_count_dec (&frame->ref_count))
    {
      g_bytes_unref (frame->bytes);
      g_free (frame);
    }
}

gint64
kp_video_frame_get_number (KpVideoFrame *frame)
{
  return frame->number;
}

gint64
kp_video_frame_get_pts (KpVideoFrame *frame)
{
  return frame->pts;
}

int
kp_video_frame_get_width (KpVideoFrame *frame)
{
  return frame->width;
}

int
kp_video_frame_get_height (KpVideoFrame *frame)
{
  return frame->height;
}

gsize
kp_video_frame_get_stride (KpVideoFrame *frame)
{
  return frame->stride;
}

GBytes *
kp_video_frame_get_bytes (KpVideoFrame *frame)
{
  return frame->bytes;
}

/* Index, cache, decoder */

typedef struct
{
  gint64 pts;
  gint64 duration;
  gboolean keyframe;
} IndexEntry;

typedef struct
{
  gint64 frame;
  GstSample *sample;   /* decoder format */
  KpVideoFrame *rgba;  /* or NULL until converted */
  gsize bytes;
  GList link;
} CacheEntry;

typedef struct
{
  gint64 frame;
  gboolean quit;
  GTask *task;          /* async requests */
  GCancellable *cancellable;
  /* sync requests */
  GMutex *lock;
  GCond *cond;
  gboolean done;
  KpVideoFrame *result;
  GError *error;
} Request;

typedef struct _Decoder
{
  GFile *file;
  char *name;
  GArray *index;        /* IndexEntry, by presentation time */
  GstCaps *stream_caps; /* parsed caps of the video stream */
  int width;
  int height;

  GAsyncQueue *requests;
  GThread *thread;
  int decode_ahead;     /* atomic */

  GMutex cache_lock;
  GHashTable *cache;    /* frame number -> CacheEntry */
  GQueue lru;           /* head = most recently used */
  gsize cache_size;
  gsize cache_limit;

  GMutex convert_lock;
  GstVideoConverter *converter;
  GstVideoInfo converter_in;

  /* statistics, atomic */
  gsize n_decoded;
  gsize n_seeks;

  int quitting;          /* atomic */

  /* decoder thread only */
  GstElement *pipeline;
  GstElement *appsink;
  gint64 position;      /* last frame decoded, -1 if unknown */
  GstSample *last_sample; /* that frame */
  gboolean eos;
} Decoder;

struct _KpVideoSource
{
  GObject parent_instance;

  Decoder *dec;
  char *codec;
};

G_DEFINE_FINAL_TYPE (KpVideoSource, kp_video_source, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_FILE,
  PROP_N_FRAMES,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_DURATION,
  PROP_CACHE_LIMIT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gpointer decoder_thread_func (gpointer data);

static gboolean
ensure_gst (GError **error)
{
  static gsize initialized = 0;
  static GError *init_error = NULL;

  if (g_once_init_enter (&initialized))
    {
      if (gst_init_check (NULL, NULL, &init_error))
        gst_pb_utils_init ();
      g_once_init_leave (&initialized, 1);
    }

  if (init_error != NULL)
    {
      g_set_error (error, KP_VIDEO_ERROR, KP_VIDEO_ERROR_MISSING_PLUGIN,
                   _("GStreamer could not be started: %s"), init_error->message);
      return FALSE;
    }
  return TRUE;
}

static void
cache_entry_free (CacheEntry *entry)
{
  g_clear_pointer (&entry->sample, gst_sample_unref);
  g_clear_pointer (&entry->rgba, kp_video_frame_unref);
  g_free (entry);
}

static void
request_finish (Request      *req,
                KpVideoFrame *frame,
                GError       *error);

static void
decoder_free (gpointer mem)
{
  Decoder *dec = mem;
  Request *req;

  while ((req = g_async_queue_try_pop (dec->requests)) != NULL)
    request_finish (req, NULL, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                    "The video source was closed"));
  g_async_queue_unref (dec->requests);
  g_clear_object (&dec->file);
  g_free (dec->name);
  g_clear_pointer (&dec->index, g_array_unref);
  gst_clear_caps (&dec->stream_caps);
  /* The LRU links live inside the cache entries. */
  g_queue_init (&dec->lru);
  g_clear_pointer (&dec->cache, g_hash_table_unref);
  g_mutex_clear (&dec->cache_lock);
  g_mutex_clear (&dec->convert_lock);
  g_clear_pointer (&dec->converter, gst_video_converter_free);
  if (dec->pipeline != NULL)
    gst_element_set_state (dec->pipeline, GST_STATE_NULL);
  gst_clear_object (&dec->appsink);
  gst_clear_object (&dec->pipeline);
  g_clear_pointer (&dec->last_sample, gst_sample_unref);
}

static Decoder *
decoder_ref (Decoder *dec)
{
  return g_atomic_rc_box_acquire (dec);
}

static void
decoder_unref (Decoder *dec)
{
  g_atomic_rc_box_release_full (dec, decoder_free);
}

static Decoder *
decoder_new (GFile *file)
{
  Decoder *dec = g_atomic_rc_box_new0 (Decoder);

  dec->file = g_object_ref (file);
  dec->name = g_file_get_parse_name (file);
  dec->index = g_array_new (FALSE, FALSE, sizeof (IndexEntry));
  dec->requests = g_async_queue_new ();
  dec->decode_ahead = DEFAULT_DECODE_AHEAD;
  g_mutex_init (&dec->cache_lock);
  g_mutex_init (&dec->convert_lock);
  dec->cache = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                      (GDestroyNotify)cache_entry_free);
  dec->cache_limit = KP_VIDEO_DEFAULT_CACHE_LIMIT;
  dec->position = -1;
  return dec;
}

/* Errors */

typedef struct
{
  const char *caps_name;
  const char *package;
} PackageHint;

/* Debian packages that carry a decoder, to name in messages. */
static const PackageHint package_hints[] = {
  { "video/x-h264", "gstreamer1.0-libav" },
  { "video/x-h265", "gstreamer1.0-libav" },
  { "video/mpeg", "gstreamer1.0-libav" },
  { "video/x-divx", "gstreamer1.0-libav" },
  { "video/x-vp8", "gstreamer1.0-plugins-good" },
  { "video/x-vp9", "gstreamer1.0-plugins-good" },
  { "video/x-av1", "gstreamer1.0-plugins-bad" },
  { "image/jpeg", "gstreamer1.0-plugins-good" },
};

static const char *
package_for_caps (const GstCaps *caps)
{
  const char *name = gst_structure_get_name (gst_caps_get_structure (caps, 0));

  for (guint i = 0; i < G_N_ELEMENTS (package_hints); i++)
    if (g_str_equal (name, package_hints[i].caps_name))
      return package_hints[i].package;
  return "gstreamer1.0-plugins-bad, gstreamer1.0-libav";
}

static void
set_error_from_gst (GError    **error,
                    const char *name,
                    GError     *gst_error,
                    GPtrArray  *missing,
                    GstCaps    *caps)
{
  if (missing != NULL && missing->len > 0)
    {
      g_autoptr(GString) list = g_string_new (NULL);

      for (guint i = 0; i < missing->len; i++)
        {
          if (i > 0)
            g_string_append (list, ", ");
          g_string_append (list, g_ptr_array_index (missing, i));
        }
      if (caps != NULL)
        g_set_error (error, KP_VIDEO_ERROR, KP_VIDEO_ERROR_MISSING_PLUGIN,
                     _("Reading “%s” needs a GStreamer plugin that is not installed: %s; "
                       "install %s"),
                     name, list->str, package_for_caps (caps));
      else
        g_set_error (error, KP_VIDEO_ERROR, KP_VIDEO_ERROR_MISSING_PLUGIN,
                     _("Reading “%s” needs a GStreamer plugin that is not installed: %s"),
                     name, list->str);
    }
  else if (gst_error == NULL)
    g_set_error (error, KP_VIDEO_ERROR, KP_VIDEO_ERROR_FAILED,
                 _("“%s” could not be read"), name);
  else if (g_error_matches (gst_error, GST_STREAM_ERROR, GST_STREAM_ERROR_TYPE_NOT_FOUND) ||
           g_error_matches (gst_error, GST_STREAM_ERROR, GST_STREAM_ERROR_WRONG_TYPE))
    g_set_error (error, KP_VIDEO_ERROR, KP_VIDEO_ERROR_UNSUPPORTED,
                 _("“%s” is not a video file the workstation can read"), name);
  else if (g_error_matches (gst_error, GST_STREAM_ERROR, GST_STREAM_ERROR_CODEC_NOT_FOUND) ||
           g_error_matches (gst_error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN))
    g_set_error (error, KP_VIDEO_ERROR, KP_VIDEO_ERROR_MISSING_PLUGIN,
                 _("Reading “%s” needs a GStreamer plugin that is not installed (%s)"),
                 name, gst_error->message);
  else if (gst_error->domain == GST_STREAM_ERROR)
    g_set_error (error, KP_VIDEO_ERROR, KP_VIDEO_ERROR_CORRUPT,
                 _("“%s” is truncated or damaged (%s)"), name, gst_error->message);
  else if (g_error_matches (gst_error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND))
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 _("“%s” does not exist"), name);
  else
    g_set_error (error, KP_VIDEO_ERROR, KP_VIDEO_ERROR_FAILED,
                 _("“%s” could not be read (%s)"), name, gst_error->message);
}

static GstElement *
make_element (const char  *factory,
              const char  *package,
              GError     **error)
{
  GstElement *element = gst_element_factory_make (factory, NULL);

  if (element == NULL)
    g_set_error (error, KP_VIDEO_ERROR, KP_VIDEO_ERROR_MISSING_PLUGIN,
                 _("The GStreamer element “%s” is missing; install %s"), factory, package);
  return element;
}

/* Pipelines: filesrc ! parsebin, whose first video pad goes to the sink
 * the caller gives (a fakesink with a probe for the index, decodebin !
 * appsink for decoding) and whose other pads go to fakesinks. */

typedef struct
{
  GstElement *pipeline;
  GstElement *video_sink; /* owned; added to the pipeline with the video pad */
  gboolean linked;
  gboolean no_more_pads;
  GstCaps *caps;
  GMutex lock;
} LinkContext;

static void
parsebin_no_more_pads_cb (GstElement  *parsebin,
                          LinkContext *ctx)
{
  g_mutex_lock (&ctx->lock);
  ctx->no_more_pads = TRUE;
  g_mutex_unlock (&ctx->lock);
}

static gboolean
link_context_is_linked (LinkContext *ctx)
{
  gboolean result;

  g_mutex_lock (&ctx->lock);
  result = ctx->linked;
  g_mutex_unlock (&ctx->lock);
  return result;
}

static gboolean
link_context_has_no_video (LinkContext *ctx)
{
  gboolean result;

  g_mutex_lock (&ctx->lock);
  result = ctx->no_more_pads && !ctx->linked;
  g_mutex_unlock (&ctx->lock);
  return result;
}

static void
parsebin_pad_added_cb (GstElement  *parsebin,
                       GstPad      *pad,
                       LinkContext *ctx)
{
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps (pad);
  const char *name;
  gboolean is_video;

  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  is_video = g_str_has_prefix (name, "video/") || g_str_equal (name, "image/jpeg");

  g_mutex_lock (&ctx->lock);
  if (is_video && !ctx->linked)
    {
      g_autoptr(GstPad) sinkpad = gst_element_get_static_pad (ctx->video_sink, "sink");

      /* The sink joins the pipeline only now: a sink without a stream
       * would keep the pipeline from ever playing. */
      gst_bin_add (GST_BIN (ctx->pipeline), ctx->video_sink);
      gst_element_sync_state_with_parent (ctx->video_sink);
      ctx->linked = gst_pad_link (pad, sinkpad) == GST_PAD_LINK_OK;
      if (ctx->linked)
        ctx->caps = gst_caps_ref (caps);
      g_mutex_unlock (&ctx->lock);
    }
  else
    {
      GstElement *fakesink = gst_element_factory_make ("fakesink", NULL);
      g_autoptr(GstPad) sinkpad = NULL;

      g_mutex_unlock (&ctx->lock);
      g_object_set (fakesink, "sync", FALSE, "async", FALSE, NULL);
      gst_bin_add (GST_BIN (ctx->pipeline), fakesink);
      sinkpad = gst_element_get_static_pad (fakesink, "sink");
      gst_pad_link (pad, sinkpad);
      gst_element_sync_state_with_parent (fakesink);
    }
}

static GstElement *
build_pipeline (GFile        *file,
                GstElement   *video_sink,
                LinkContext  *ctx,
                GError      **error)
{
  g_autoptr(GstElement) pipeline = gst_pipeline_new (NULL);
  g_autofree char *path = g_file_get_path (file);
  GstElement *src;
  GstElement *parsebin;

  if (path == NULL)
    {
      src = gst_element_make_from_uri (GST_URI_SRC, g_file_get_uri (file), NULL, NULL);
      if (src == NULL)
        {
          g_set_error (error, KP_VIDEO_ERROR, KP_VIDEO_ERROR_UNSUPPORTED,
                       _("“%s” is not a local file"), g_file_peek_path (file));
          return NULL;
        }
    }
  else
    {
      if ((src = make_element ("filesrc", "gstreamer1.0-plugins-base", error)) == NULL)
        return NULL;
      g_object_set (src, "location", path, NULL);
    }
  if ((parsebin = make_element ("parsebin", "gstreamer1.0-plugins-base", error)) == NULL)
    {
      gst_object_unref (gst_object_ref_sink (src));
      return NULL;
    }

  gst_bin_add_many (GST_BIN (pipeline), src, parsebin, NULL);
  gst_element_link (src, parsebin);
  ctx->pipeline = pipeline;
  ctx->video_sink = gst_object_ref_sink (video_sink);
  g_signal_connect (parsebin, "pad-added", G_CALLBACK (parsebin_pad_added_cb), ctx);
  g_signal_connect (parsebin, "no-more-pads", G_CALLBACK (parsebin_no_more_pads_cb), ctx);
  return g_steal_pointer (&pipeline);
}

/* Index */

typedef struct
{
  GMutex lock;
  GArray *entries; /* IndexEntry, decode order */
  gboolean no_pts;
} IndexProbe;

static GstPadProbeReturn
index_probe_cb (GstPad          *pad,
                GstPadProbeInfo *info,
                gpointer         user_data)
{
  IndexProbe *probe = user_data;
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER (info);
  IndexEntry entry;

  if (GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_HEADER) && gst_buffer_get_size (buffer) == 0)
    return GST_PAD_PROBE_OK;

  entry.pts = GST_BUFFER_PTS_IS_VALID (buffer) ? (gint64)GST_BUFFER_PTS (buffer) : -1;
  entry.duration = GST_BUFFER_DURATION_IS_VALID (buffer) ? (gint64)GST_BUFFER_DURATION (buffer) : -1;
  entry.keyframe = !GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_DELTA_UNIT);

  g_mutex_lock (&probe->lock);
  if (entry.pts < 0)
    probe->no_pts = TRUE;
  else
    g_array_append_val (probe->entries, entry);
  g_mutex_unlock (&probe->lock);
  return GST_PAD_PROBE_OK;
}

static int
compare_entries (gconstpointer a,
                 gconstpointer b)
{
  const IndexEntry *ea = a;
  const IndexEntry *eb = b;

  return (ea->pts > eb->pts) - (ea->pts < eb->pts);
}

static gboolean
has_decoder_for (GstCaps *caps)
{
  GList *factories;
  GList *usable;
  gboolean found;

  if (gst_structure_has_name (gst_caps_get_structure (caps, 0), "video/x-raw"))
    return TRUE;
  factories = gst_element_factory_list_get_elements (GST_ELEMENT_FACTORY_TYPE_DECODER,
                                                     GST_RANK_MARGINAL);
  usable = gst_element_factory_list_filter (factories, caps, GST_PAD_SINK, FALSE);
  found = usable != NULL;
  gst_plugin_feature_list_free (usable);
  gst_plugin_feature_list_free (factories);
  return found;
}

static gboolean
build_index (Decoder       *dec,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(GPtrArray) missing = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) gst_error = NULL;
  g_autoptr(GstElement) pipeline = NULL;
  g_autoptr(GstBus) bus = NULL;
  g_autoptr(GstPad) sinkpad = NULL;
  g_autoptr(GstCaps) missing_caps = NULL;
  LinkContext ctx = { 0 };
  IndexProbe probe = { 0 };
  GstElement *sink;
  gboolean done = FALSE;
  gboolean ok = FALSE;
  guint last_count = 0;
  gint64 last_progress = g_get_monotonic_time ();

  if ((sink = make_element ("fakesink", "gstreamer1.0-plugins-base", error)) == NULL)
    return FALSE;
  g_object_set (sink, "sync", FALSE, NULL);
  g_mutex_init (&ctx.lock);
  g_mutex_init (&probe.lock);
  probe.entries = g_array_new (FALSE, FALSE, sizeof (IndexEntry));

  pipeline = build_pipeline (dec->file, sink, &ctx, error);
  if (pipeline == NULL)
    {
      gst_object_unref (gst_object_ref_sink (sink));
      goto out;
    }
  sinkpad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER, index_probe_cb, &probe, NULL);

  bus = gst_element_get_bus (pipeline);
  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      g_autoptr(GstMessage) msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);

      if (msg != NULL)
        gst_message_parse_error (msg, &gst_error, NULL);
      set_error_from_gst (error, dec->name, gst_error, missing,
                          missing_caps != NULL ? missing_caps : ctx.caps);
      goto out;
    }

  while (!done)
    {
      g_autoptr(GstMessage) msg = NULL;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        goto out;
      /* Without a video stream the unlinked sink never finishes. */
      if (link_context_has_no_video (&ctx))
        break;
      /* Some demuxer errors in a damaged file stay inside parsebin; a
       * file that shows no stream for a while is not readable. */
      g_mutex_lock (&probe.lock);
      if (probe.entries->len != last_count)
        {
          last_count = probe.entries->len;
          last_progress = g_get_monotonic_time ();
        }
      g_mutex_unlock (&probe.lock);
      if (g_get_monotonic_time () - last_progress > STALL_TIMEOUT && !link_context_is_linked (&ctx))
        {
          g_set_error (error, KP_VIDEO_ERROR, KP_VIDEO_ERROR_CORRUPT,
                       _("“%s” is truncated or damaged: no readable video was found in it"),
                       dec->name);
          goto out;
        }
      msg = gst_bus_timed_pop_filtered (bus, PULL_TIMEOUT,
                                        GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT);
      if (msg == NULL)
        continue;
      switch (GST_MESSAGE_TYPE (msg))
        {
        case GST_MESSAGE_EOS:
          done = TRUE;
          break;
        case GST_MESSAGE_ERROR:
          gst_message_parse_error (msg, &gst_error, NULL);
          done = TRUE;
          break;
        case GST_MESSAGE_ELEMENT:
          if (gst_is_missing_plugin_message (msg))
            {
              const GstStructure *st = gst_message_get_structure (msg);

              g_ptr_array_add (missing, gst_missing_plugin_message_get_description (msg));
              /* A missing decoder names the caps it would decode. */
              if (missing_caps == NULL && gst_structure_has_field_typed (st, "detail", GST_TYPE_CAPS))
                gst_structure_get (st, "detail", GST_TYPE_CAPS, &missing_caps, NULL);
            }
          break;
        default:
          break;
        }
    }
  gst_element_set_state (pipeline, GST_STATE_NULL);

  if (gst_error != NULL || (missing->len > 0 && !ctx.linked))
    {
      set_error_from_gst (error, dec->name, gst_error, missing,
                          missing_caps != NULL ? missing_caps : ctx.caps);
      goto out;
    }
  if (!ctx.linked)
    {
      g_set_error (error, KP_VIDEO_ERROR, KP_VIDEO_ERROR_UNSUPPORTED,
                   _("“%s” has no video stream"), dec->name);
      goto out;
    }
  if (probe.no_pts && probe.entries->len == 0)
    {
      g_set_error (error, KP_VIDEO_ERROR, KP_VIDEO_ERROR_UNSUPPORTED,
                   _("The frames of “%s” have no timestamps, so they cannot be numbered exactly"),
                   dec->name);
      goto out;
    }
  if (probe.entries->len == 0)
    {
      g_set_error (error, KP_VIDEO_ERROR, KP_VIDEO_ERROR_CORRUPT,
                   _("“%s” has a video stream without frames"), dec->name);
      goto out;
    }
  if (!has_decoder_for (ctx.caps))
    {
      g_autofree char *codec = gst_pb_utils_get_codec_description (ctx.caps);

      g_set_error (error, KP_VIDEO_ERROR, KP_VIDEO_ERROR_MISSING_PLUGIN,
                   _("No GStreamer decoder for %s video is installed, so “%s” cannot be "
                     "shown; install %s"),
                   codec, dec->name, package_for_caps (ctx.caps));
      goto out;
    }

  g_array_sort (probe.entries, compare_entries);
  /* Durations come from the next frame's timestamp: container durations
   * are often missing or rounded. */
  for (guint i = 0; i + 1 < probe.entries->len; i++)
    {
      IndexEntry *e = &g_array_index (probe.entries, IndexEntry, i);

      e->duration = g_array_index (probe.entries, IndexEntry, i + 1).pts - e->pts;
    }
  {
    IndexEntry *last = &g_array_index (probe.entries, IndexEntry, probe.entries->len - 1);

    if (last->duration <= 0)
      last->duration = probe.entries->len > 1
                       ? g_array_index (probe.entries, IndexEntry, probe.entries->len - 2).duration
                       : GST_SECOND / 25;
  }
  /* A stream that does not mark keyframes (some intra-only codecs) is
   * treated as all keyframes; the first frame always is one. */
  g_array_index (probe.entries, IndexEntry, 0).keyframe = TRUE;

  {
    GstStructure *s = gst_caps_get_structure (ctx.caps, 0);

    gst_structure_get_int (s, "width", &dec->width);
    gst_structure_get_int (s, "height", &dec->height);
  }
  g_array_unref (dec->index);
  dec->index = g_steal_pointer (&probe.entries);
  dec->stream_caps = gst_caps_ref (ctx.caps);
  ok = TRUE;

out:
  if (pipeline != NULL)
    gst_element_set_state (pipeline, GST_STATE_NULL);
  g_clear_pointer (&probe.entries, g_array_unref);
  gst_clear_caps (&ctx.caps);
  gst_clear_object (&ctx.video_sink);
  g_mutex_clear (&ctx.lock);
  g_mutex_clear (&probe.lock);
  return ok;
}

/* Index lookups */

static inline const IndexEntry *
index_entry (Decoder *dec,
             gint64   frame)
{
  return &g_array_index (dec->index, IndexEntry, frame);
}

static gint64
frame_at (Decoder *dec,
          gint64   pts)
{
  gint64 lo = 0;
  gint64 hi = (gint64)dec->index->len - 1;

  if (pts <= index_entry (dec, 0)->pts)
    return 0;
  while (lo < hi)
    {
      gint64 mid = lo + (hi - lo + 1) / 2;

      if (index_entry (dec, mid)->pts <= pts)
        lo = mid;
      else
        hi = mid - 1;
    }
  return lo;
}

/* The frame a decoded buffer is: the exact timestamp, or the nearest one
 * within half a frame (a decoder may round). -1 if none. */
static gint64
frame_for_pts (Decoder *dec,
               gint64   pts)
{
  gint64 n = frame_at (dec, pts);
  const IndexEntry *e = index_entry (dec, n);

  if (e->pts == pts)
    return n;
  if (pts > e->pts && pts - e->pts < e->duration / 2)
    return n;
  if (n + 1 < (gint64)dec->index->len)
    {
      const IndexEntry *next = index_entry (dec, n + 1);

      if (next->pts - pts < e->duration / 2)
        return n + 1;
    }
  return -1;
}

static gint64
keyframe_before (Decoder *dec,
                 gint64   frame)
{
  while (frame > 0 && !index_entry (dec, frame)->keyframe)
    frame--;
  return frame;
}

/* Cache */

static void
cache_trim_locked (Decoder *dec)
{
  while (dec->cache_size > dec->cache_limit && dec->lru.tail != NULL)
    {
      CacheEntry *victim = dec->lru.tail->data;

      g_queue_unlink (&dec->lru, &victim->link);
      dec->cache_size -= victim->bytes;
      g_hash_table_remove (dec->cache, &victim->frame);
    }
}

/* Takes a reference on sample (one of our own, not appsink's). */
static void
cache_insert (Decoder   *dec,
              gint64     frame,
              GstSample *sample)
{
  CacheEntry *entry;

  g_mutex_lock (&dec->cache_lock);
  entry = g_hash_table_lookup (dec->cache, &frame);
  if (entry == NULL)
    {
      entry = g_new0 (CacheEntry, 1);
      entry->frame = frame;
      entry->link.data = entry;
      entry->sample = gst_sample_ref (sample);
      entry->bytes = gst_buffer_get_size (gst_sample_get_buffer (sample)) + sizeof *entry;
      dec->cache_size += entry->bytes;
      g_hash_table_insert (dec->cache, &entry->frame, entry);
    }
  else
    g_queue_unlink (&dec->lru, &entry->link);
  g_queue_push_head_link (&dec->lru, &entry->link);
  cache_trim_locked (dec);
  g_mutex_unlock (&dec->cache_lock);
}

/* Returns the RGBA frame or the sample of frame, touching it in the LRU. */
static gboolean
cache_lookup (Decoder       *dec,
              gint64         frame,
              KpVideoFrame **rgba,
              GstSample    **sample)
{
  CacheEntry *entry;

  *rgba = NULL;
  *sample = NULL;
  g_mutex_lock (&dec->cache_lock);
  entry = g_hash_table_lookup (dec->cache, &frame);
  if (entry != NULL)
    {
      g_queue_unlink (&dec->lru, &entry->link);
      g_queue_push_head_link (&dec->lru, &entry->link);
      if (entry->rgba != NULL)
        *rgba = kp_video_frame_ref (entry->rgba);
      else
        *sample = gst_sample_ref (entry->sample);
    }
  g_mutex_unlock (&dec->cache_lock);
  return entry != NULL;
}

static void
cache_set_rgba (Decoder      *dec,
                KpVideoFrame *rgba)
{
  CacheEntry *entry;

  g_mutex_lock (&dec->cache_lock);
  entry = g_hash_table_lookup (dec->cache, &rgba->number);
  if (entry != NULL && entry->rgba == NULL)
    {
      gsize extra = g_bytes_get_size (rgba->bytes);

      entry->rgba = kp_video_frame_ref (rgba);
      entry->bytes += extra;
      dec->cache_size += extra;
      cache_trim_locked (dec);
    }
  g_mutex_unlock (&dec->cache_lock);
}

static KpVideoFrame *
convert_sample (Decoder    *dec,
                gint64      number,
                GstSample  *sample,
                GError    **error)
{
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  GstCaps *caps = gst_sample_get_caps (sample);
  GstVideoInfo in_info;
  GstVideoInfo out_info;
  GstVideoFrame in_frame;
  GstVideoFrame out_frame;
  g_autoptr(GstBuffer) out_buffer = NULL;
  KpVideoFrame *frame;
  guint8 *pixels;
  gsize stride;

  if (caps == NULL || !gst_video_info_from_caps (&in_info, caps))
    {
      g_set_error (error, KP_VIDEO_ERROR, KP_VIDEO_ERROR_FAILED,
                   _("The decoder of “%s” gave frames in an unknown format"), dec->name);
      return NULL;
    }

  gst_video_info_set_format (&out_info, GST_VIDEO_FORMAT_RGBA,
                             GST_VIDEO_INFO_WIDTH (&in_info), GST_VIDEO_INFO_HEIGHT (&in_info));
  /* The converter insists on the same rate and interlacing on both sides. */
  GST_VIDEO_INFO_FPS_N (&out_info) = GST_VIDEO_INFO_FPS_N (&in_info);
  GST_VIDEO_INFO_FPS_D (&out_info) = GST_VIDEO_INFO_FPS_D (&in_info);
  GST_VIDEO_INFO_PAR_N (&out_info) = GST_VIDEO_INFO_PAR_N (&in_info);
  GST_VIDEO_INFO_PAR_D (&out_info) = GST_VIDEO_INFO_PAR_D (&in_info);
  GST_VIDEO_INFO_INTERLACE_MODE (&out_info) = GST_VIDEO_INFO_INTERLACE_MODE (&in_info);
  stride = GST_VIDEO_INFO_PLANE_STRIDE (&out_info, 0);
  pixels = g_malloc (GST_VIDEO_INFO_SIZE (&out_info));
  out_buffer = gst_buffer_new_wrapped_full (0, pixels, GST_VIDEO_INFO_SIZE (&out_info), 0,
                                            GST_VIDEO_INFO_SIZE (&out_info), NULL, NULL);

  if (!gst_video_frame_map (&in_frame, &in_info, buffer, GST_MAP_READ))
    {
      g_free (pixels);
      g_set_error (error, KP_VIDEO_ERROR, KP_VIDEO_ERROR_FAILED,
                   _("A frame of “%s” could not be read"), dec->name);
      return NULL;
    }
  gst_video_frame_map (&out_frame, &out_info, out_buffer, GST_MAP_WRITE);

  g_mutex_lock (&dec->convert_lock);
  if (dec->converter == NULL || !gst_video_info_is_equal (&dec->converter_in, &in_info))
    {
      g_clear_pointer (&dec->converter, gst_video_converter_free);
      dec->converter = gst_video_converter_new (&in_info, &out_info,
        gst_structure_new ("options",
                           GST_VIDEO_CONVERTER_OPT_THREADS, G_TYPE_UINT,
                           MAX (1, g_get_num_processors ()),
                           GST_VIDEO_CONVERTER_OPT_DITHER_METHOD, GST_TYPE_VIDEO_DITHER_METHOD,
                           GST_VIDEO_DITHER_NONE,
                           NULL));
      dec->converter_in = in_info;
    }
  gst_video_converter_frame (dec->converter, &in_frame, &out_frame);
  g_mutex_unlock (&dec->convert_lock);

  gst_video_frame_unmap (&out_frame);
  gst_video_frame_unmap (&in_frame);

  frame = g_new0 (KpVideoFrame, 1);
  g_atomic_ref_count_init (&frame->ref_count);
  frame->number = number;
  frame->pts = index_entry (dec, number)->pts;
  frame->width = GST_VIDEO_INFO_WIDTH (&out_info);
  frame->height = GST_VIDEO_INFO_HEIGHT (&out_info);
  frame->stride = stride;
  /* The buffer only borrowed the pixels; the GBytes takes them over. */
  g_clear_pointer (&out_buffer, gst_buffer_unref);
  frame->bytes = g_bytes_new_take (pixels, GST_VIDEO_INFO_SIZE (&out_info));
  return frame;
}

/* The RGBA frame if it is cached, converting it if needed. */
static KpVideoFrame *
cached_frame (Decoder  *dec,
              gint64    number,
              GError  **error)
{
  g_autoptr(GstSample) sample = NULL;
  KpVideoFrame *rgba = NULL;

  if (!cache_lookup (dec, number, &rgba, &sample))
    return NULL;
  if (rgba != NULL)
    return rgba;
  rgba = convert_sample (dec, number, sample, error);
  if (rgba != NULL)
    cache_set_rgba (dec, rgba);
  return rgba;
}

/* Decoder thread */

static gboolean
check_bus (Decoder  *dec,
           GError  **error)
{
  g_autoptr(GstBus) bus = gst_element_get_bus (dec->pipeline);
  g_autoptr(GstMessage) msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);

  if (msg != NULL)
    {
      g_autoptr(GError) gst_error = NULL;

      gst_message_parse_error (msg, &gst_error, NULL);
      set_error_from_gst (error, dec->name, gst_error, NULL, NULL);
      return FALSE;
    }
  return TRUE;
}

static void
teardown_pipeline (Decoder *dec)
{
  if (dec->pipeline != NULL)
    gst_element_set_state (dec->pipeline, GST_STATE_NULL);
  gst_clear_object (&dec->appsink);
  gst_clear_object (&dec->pipeline);
  g_clear_pointer (&dec->last_sample, gst_sample_unref);
  dec->position = -1;
  dec->eos = FALSE;
}

static void
decodebin_pad_added_cb (GstElement *decodebin,
                        GstPad     *pad,
                        GstElement *appsink)
{
  g_autoptr(GstPad) sinkpad = gst_element_get_static_pad (appsink, "sink");

  if (!gst_pad_is_linked (sinkpad))
    gst_pad_link (pad, sinkpad);
}

static void
link_context_free (LinkContext *ctx)
{
  gst_clear_object (&ctx->video_sink);
  gst_clear_caps (&ctx->caps);
  g_mutex_clear (&ctx->lock);
  g_free (ctx);
}

static gboolean
ensure_pipeline (Decoder  *dec,
                 GError  **error)
{
  g_autoptr(GstCaps) raw = NULL;
  GstElement *decodebin;
  GstElement *appsink;
  GstElement *bin;
  LinkContext *ctx;
  GstStateChangeReturn ret;
  gint64 deadline;

  if (dec->pipeline != NULL)
    return TRUE;

  if ((decodebin = make_element ("decodebin", "gstreamer1.0-plugins-base", error)) == NULL)
    return FALSE;
  if ((appsink = make_element ("appsink", "gstreamer1.0-plugins-base", error)) == NULL)
    {
      gst_object_unref (gst_object_ref_sink (decodebin));
      return FALSE;
    }
  raw = gst_caps_from_string ("video/x-raw");
  g_object_set (appsink,
                "sync", FALSE,
                "max-buffers", 4,
                "drop", FALSE,
                "enable-last-sample", FALSE,
                "caps", raw,
                NULL);
  g_object_set (decodebin, "caps", raw, NULL);

  /* parsebin's video pad goes to a bin of decodebin ! appsink, so the
   * pipeline only decodes the video stream. */
  bin = gst_bin_new (NULL);
  gst_bin_add_many (GST_BIN (bin), decodebin, appsink, NULL);
  {
    g_autoptr(GstPad) target = gst_element_get_static_pad (decodebin, "sink");

    gst_element_add_pad (bin, gst_ghost_pad_new ("sink", target));
  }
  g_signal_connect (decodebin, "pad-added", G_CALLBACK (decodebin_pad_added_cb), appsink);

  ctx = g_new0 (LinkContext, 1);
  g_mutex_init (&ctx->lock);
  dec->pipeline = build_pipeline (dec->file, bin, ctx, error);
  if (dec->pipeline == NULL)
    {
      gst_object_unref (gst_object_ref_sink (bin));
      link_context_free (ctx);
      return FALSE;
    }
  g_object_set_data_full (G_OBJECT (dec->pipeline), "kp-link-context", ctx,
                          (GDestroyNotify)link_context_free);
  dec->appsink = gst_object_ref (appsink);
  dec->position = -1;
  dec->eos = FALSE;

  /* Wait until the appsink (added with the video pad) has its first
   * frame, so that seeks find a prerolled pipeline. */
  ret = gst_element_set_state (dec->pipeline, GST_STATE_PLAYING);
  deadline = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;
  while (ret != GST_STATE_CHANGE_FAILURE)
    {
      GstState state = GST_STATE_NULL;

      gst_element_get_state (dec->appsink, &state, NULL, 50 * GST_MSECOND);
      if (state == GST_STATE_PLAYING)
        break;
      if (!check_bus (dec, error))
        {
          teardown_pipeline (dec);
          return FALSE;
        }
      if (g_get_monotonic_time () > deadline || g_atomic_int_get (&dec->quitting))
        ret = GST_STATE_CHANGE_FAILURE;
    }
  if (ret == GST_STATE_CHANGE_FAILURE)
    {
      if (check_bus (dec, error))
        g_set_error (error, KP_VIDEO_ERROR, KP_VIDEO_ERROR_FAILED,
                     _("The decoder of “%s” could not be started"), dec->name);
      teardown_pipeline (dec);
      return FALSE;
    }
  return TRUE;
}

enum {
  PULL_EOS = -1,
  PULL_ERROR = -2,
  PULL_INTERRUPTED = -3,
};

/* Pulls the next decoded frame into the cache and returns its number, or
 * one of PULL_*. With interruptible set, a pending request (or quitting)
 * interrupts the wait. */
static gint64
pull_next (Decoder       *dec,
           GCancellable  *cancellable,
           gboolean       interruptible,
           GError       **error)
{
  for (;;)
    {
      g_autoptr(GstSample) sample = NULL;

      if (g_atomic_int_get (&dec->quitting) ||
          g_cancellable_is_cancelled (cancellable) ||
          (interruptible && g_async_queue_length (dec->requests) > 0))
        return PULL_INTERRUPTED;

      sample = gst_app_sink_try_pull_sample (GST_APP_SINK (dec->appsink), PULL_TIMEOUT);
      if (sample != NULL)
        {
          GstBuffer *buffer = gst_sample_get_buffer (sample);
          gint64 n;

          if (buffer == NULL)
            continue;
          if (GST_BUFFER_PTS_IS_VALID (buffer))
            n = frame_for_pts (dec, GST_BUFFER_PTS (buffer));
          else
            n = dec->position + 1;
          if (n < 0 || n >= (gint64)dec->index->len)
            continue;
          /* A sample of our own: appsink reuses the ones it returns. It
           * is kept as the last frame too, in case the cache is too small
           * to hold it. */
          g_clear_pointer (&dec->last_sample, gst_sample_unref);
          dec->last_sample = gst_sample_new (buffer, gst_sample_get_caps (sample), NULL, NULL);
          cache_insert (dec, n, dec->last_sample);
          g_atomic_pointer_add (&dec->n_decoded, 1);
          dec->position = n;
          return n;
        }

      if (!check_bus (dec, error))
        {
          teardown_pipeline (dec);
          return PULL_ERROR;
        }
      if (gst_app_sink_is_eos (GST_APP_SINK (dec->appsink)))
        {
          dec->eos = TRUE;
          return PULL_EOS;
        }
    }
}

static gboolean
seek_to_keyframe (Decoder  *dec,
                  gint64    keyframe,
                  GError  **error)
{
  gint64 pts = index_entry (dec, keyframe)->pts;

  g_atomic_pointer_add (&dec->n_seeks, 1);
  if (!gst_element_seek (dec->pipeline, 1.0, GST_FORMAT_TIME,
                         GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_KEY_UNIT | GST_SEEK_FLAG_SNAP_BEFORE,
                         GST_SEEK_TYPE_SET, pts, GST_SEEK_TYPE_NONE, GST_CLOCK_TIME_NONE))
    {
      if (check_bus (dec, error))
        g_set_error (error, KP_VIDEO_ERROR, KP_VIDEO_ERROR_FAILED,
                     _("“%s” cannot seek"), dec->name);
      teardown_pipeline (dec);
      return FALSE;
    }
  dec->position = keyframe - 1;
  dec->eos = FALSE;
  return TRUE;
}

/* Decodes until frame is in the cache. */
static KpVideoFrame *
decode_frame (Decoder       *dec,
              gint64         frame,
              GCancellable  *cancellable,
              GError       **error)
{
  KpVideoFrame *rgba;
  gint64 keyframe = keyframe_before (dec, frame);
  gboolean sought = FALSE;

  for (;;)
    {
      gint64 got;

      if (!ensure_pipeline (dec, error))
        return NULL;
      /* Decoding on is cheaper than seeking when no keyframe lies between
       * the decoder's position and the frame. */
      if (dec->eos || dec->position >= frame || keyframe > dec->position + 1)
        {
          if (sought)
            break;
          if (!seek_to_keyframe (dec, keyframe, error))
            return NULL;
          sought = TRUE;
        }

      do
        got = pull_next (dec, cancellable, FALSE, error);
      while (got >= 0 && got < frame);

      if (got == PULL_ERROR)
        return NULL;
      if (got == PULL_INTERRUPTED)
        {
          if (!g_cancellable_set_error_if_cancelled (cancellable, error))
            g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                 "The video source was closed");
          return NULL;
        }
      if (got == frame)
        break;
      /* Passed the frame (or hit the end) without seeing it: try once from
       * its keyframe. */
      if (sought)
        break;
      dec->eos = TRUE;
    }

  rgba = cached_frame (dec, frame, error);
  if (rgba == NULL && dec->position == frame && dec->last_sample != NULL &&
      (error == NULL || *error == NULL))
    rgba = convert_sample (dec, frame, dec->last_sample, error);
  if (rgba == NULL && error != NULL && *error == NULL)
    {
      g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, frame);

      g_set_error (error, KP_VIDEO_ERROR, KP_VIDEO_ERROR_CORRUPT,
                   _("Frame %s of “%s” could not be decoded"), number, dec->name);
    }
  return rgba;
}

static gboolean
return_task_cb (gpointer user_data)
{
  Request *req = user_data;

  if (req->result != NULL)
    g_task_return_pointer (req->task, req->result, (GDestroyNotify)kp_video_frame_unref);
  else
    g_task_return_error (req->task, req->error);
  g_clear_object (&req->task);
  g_clear_object (&req->cancellable);
  g_free (req);
  return G_SOURCE_REMOVE;
}

static void
request_finish (Request      *req,
                KpVideoFrame *frame,
                GError       *error)
{
  if (req->task != NULL)
    {
      g_autoptr(GSource) idle = g_idle_source_new ();

      /* Returned on the task's context, so that the source's last
       * reference is never dropped here. */
      req->result = frame;
      req->error = error;
      g_source_set_callback (idle, return_task_cb, req, NULL);
      g_source_set_priority (idle, G_PRIORITY_DEFAULT);
      g_source_set_static_name (idle, "[kempelen] video frame");
      g_source_attach (idle, g_task_get_context (req->task));
    }
  else if (req->cond != NULL)
    {
      g_mutex_lock (req->lock);
      req->result = frame;
      req->error = error;
      req->done = TRUE;
      g_cond_signal (req->cond);
      g_mutex_unlock (req->lock);
    }
  else
    {
      g_clear_error (&error);
      g_clear_pointer (&frame, kp_video_frame_unref);
      g_free (req);
    }
}

static void
serve_request (Decoder *dec,
               Request *req)
{
  GError *error = NULL;
  KpVideoFrame *frame = NULL;

  if (!g_cancellable_set_error_if_cancelled (req->cancellable, &error))
    {
      frame = cached_frame (dec, req->frame, &error);
      if (frame == NULL && error == NULL)
        frame = decode_frame (dec, req->frame, req->cancellable, &error);
    }
  request_finish (req, frame, error);
}

/* Frames right after a request are converted while decoding ahead, since
 * stepping and playback show them next. */
#define PRECONVERT 3

static gpointer
decoder_thread_func (gpointer data)
{
  Decoder *dec = data;
  gint64 ahead_from = 0;
  gint64 ahead_to = -1;

  for (;;)
    {
      Request *req;
      gboolean want_ahead = dec->pipeline != NULL && !dec->eos &&
                            dec->position >= 0 && dec->position < ahead_to;

      if (want_ahead)
        req = g_async_queue_try_pop (dec->requests);
      else
        req = g_async_queue_pop (dec->requests);

      if (req == NULL)
        {
          g_autoptr(GError) error = NULL;
          gint64 got = pull_next (dec, NULL, TRUE, &error);

          if (got == PULL_ERROR)
            g_debug ("Decoding ahead in %s failed: %s", dec->name, error->message);
          else if (got >= 0 && got <= ahead_from + PRECONVERT)
            {
              KpVideoFrame *frame = cached_frame (dec, got, NULL);

              g_clear_pointer (&frame, kp_video_frame_unref);
            }
          continue;
        }
      if (req->quit)
        {
          g_free (req);
          break;
        }
      ahead_from = req->frame;
      ahead_to = req->frame + g_atomic_int_get (&dec->decode_ahead);
      serve_request (dec, req);
    }

  teardown_pipeline (dec);
  decoder_unref (dec);
  return NULL;
}

static void
push_request (Decoder *dec,
              Request *req)
{
  if (dec->thread == NULL)
    dec->thread = g_thread_new ("kp-video-decoder", decoder_thread_func, decoder_ref (dec));
  g_async_queue_push (dec->requests, req);
}

/* KpVideoSource */

static void
kp_video_source_finalize (GObject *object)
{
  KpVideoSource *self = (KpVideoSource *)object;
  Decoder *dec = self->dec;

  if (dec != NULL)
    {
      g_atomic_int_set (&dec->quitting, 1);
      if (dec->thread != NULL)
        {
          Request *quit = g_new0 (Request, 1);

          quit->quit = TRUE;
          g_async_queue_push (dec->requests, quit);
          g_thread_unref (dec->thread);
          dec->thread = NULL;
        }
      decoder_unref (dec);
    }
  g_free (self->codec);

  G_OBJECT_CLASS (kp_video_source_parent_class)->finalize (object);
}

static void
kp_video_source_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  KpVideoSource *self = KP_VIDEO_SOURCE (object);

  switch (prop_id)
    {
    case PROP_FILE:
      g_value_set_object (value, kp_video_source_get_file (self));
      break;
    case PROP_N_FRAMES:
      g_value_set_int64 (value, kp_video_source_get_n_frames (self));
      break;
    case PROP_WIDTH:
      g_value_set_int (value, kp_video_source_get_width (self));
      break;
    case PROP_HEIGHT:
      g_value_set_int (value, kp_video_source_get_height (self));
      break;
    case PROP_DURATION:
      g_value_set_int64 (value, kp_video_source_get_duration (self));
      break;
    case PROP_CACHE_LIMIT:
      g_value_set_uint64 (value, kp_video_source_get_cache_limit (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_video_source_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  KpVideoSource *self = KP_VIDEO_SOURCE (object);

  switch (prop_id)
    {
    case PROP_CACHE_LIMIT:
      kp_video_source_set_cache_limit (self, g_value_get_uint64 (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_video_source_class_init (KpVideoSourceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = kp_video_source_finalize;
  object_class->get_property = kp_video_source_get_property;
  object_class->set_property = kp_video_source_set_property;

  properties[PROP_FILE] =
    g_param_spec_object ("file", NULL, NULL, G_TYPE_FILE,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_FRAMES] =
    g_param_spec_int64 ("n-frames", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_WIDTH] =
    g_param_spec_int ("width", NULL, NULL, 0, G_MAXINT, 0,
                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_HEIGHT] =
    g_param_spec_int ("height", NULL, NULL, 0, G_MAXINT, 0,
                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_DURATION] =
    g_param_spec_int64 ("duration", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_CACHE_LIMIT] =
    g_param_spec_uint64 ("cache-limit", NULL, NULL, 0, G_MAXUINT64,
                         KP_VIDEO_DEFAULT_CACHE_LIMIT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kp_video_source_init (KpVideoSource *self)
{
}

static KpVideoSource *
open_source (GFile         *file,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(KpVideoSource) self = NULL;
  g_autoptr(GFileInfo) info = NULL;

  if (!ensure_gst (error))
    return NULL;
  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_TYPE, G_FILE_QUERY_INFO_NONE,
                            cancellable, error);
  if (info == NULL)
    return NULL;

  self = g_object_new (KP_TYPE_VIDEO_SOURCE, NULL);
  self->dec = decoder_new (file);
  if (!build_index (self->dec, cancellable, error))
    return NULL;
  self->codec = gst_pb_utils_get_codec_description (self->dec->stream_caps);
  return g_steal_pointer (&self);
}

KpVideoSource *
kp_video_source_open (GFile         *file,
                      GCancellable  *cancellable,
                      GError       **error)
{
  g_return_val_if_fail (G_IS_FILE (file), NULL);

  return open_source (file, cancellable, error);
}

static void
open_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  GError *error = NULL;
  KpVideoSource *self = open_source (task_data, cancellable, &error);

  if (self == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, self, g_object_unref);
}

void
kp_video_source_open_async (GFile               *file,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (G_IS_FILE (file));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, kp_video_source_open_async);
  g_task_set_task_data (task, g_object_ref (file), g_object_unref);
  g_task_run_in_thread (task, open_thread);
}

KpVideoSource *
kp_video_source_open_finish (GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

GFile *
kp_video_source_get_file (KpVideoSource *self)
{
  g_return_val_if_fail (KP_IS_VIDEO_SOURCE (self), NULL);

  return self->dec->file;
}

gint64
kp_video_source_get_n_frames (KpVideoSource *self)
{
  g_return_val_if_fail (KP_IS_VIDEO_SOURCE (self), 0);

  return self->dec->index->len;
}

int
kp_video_source_get_width (KpVideoSource *self)
{
  g_return_val_if_fail (KP_IS_VIDEO_SOURCE (self), 0);

  return self->dec->width;
}

int
kp_video_source_get_height (KpVideoSource *self)
{
  g_return_val_if_fail (KP_IS_VIDEO_SOURCE (self), 0);

  return self->dec->height;
}

gint64
kp_video_source_get_duration (KpVideoSource *self)
{
  const IndexEntry *first;
  const IndexEntry *last;

  g_return_val_if_fail (KP_IS_VIDEO_SOURCE (self), 0);

  first = index_entry (self->dec, 0);
  last = index_entry (self->dec, self->dec->index->len - 1);
  return last->pts + last->duration - first->pts;
}

double
kp_video_source_get_frame_rate (KpVideoSource *self)
{
  gint64 duration;

  g_return_val_if_fail (KP_IS_VIDEO_SOURCE (self), 0);

  duration = kp_video_source_get_duration (self);
  return duration > 0 ? (double)self->dec->index->len * GST_SECOND / duration : 0;
}

const char *
kp_video_source_get_codec (KpVideoSource *self)
{
  g_return_val_if_fail (KP_IS_VIDEO_SOURCE (self), NULL);

  return self->codec;
}

gint64
kp_video_source_get_frame_pts (KpVideoSource *self,
                               gint64         frame)
{
  g_return_val_if_fail (KP_IS_VIDEO_SOURCE (self), -1);
  g_return_val_if_fail (frame >= 0 && frame < (gint64)self->dec->index->len, -1);

  return index_entry (self->dec, frame)->pts;
}

gint64
kp_video_source_get_frame_duration (KpVideoSource *self,
                                    gint64         frame)
{
  g_return_val_if_fail (KP_IS_VIDEO_SOURCE (self), -1);
  g_return_val_if_fail (frame >= 0 && frame < (gint64)self->dec->index->len, -1);

  return index_entry (self->dec, frame)->duration;
}

gboolean
kp_video_source_is_keyframe (KpVideoSource *self,
                             gint64         frame)
{
  g_return_val_if_fail (KP_IS_VIDEO_SOURCE (self), FALSE);
  g_return_val_if_fail (frame >= 0 && frame < (gint64)self->dec->index->len, FALSE);

  return index_entry (self->dec, frame)->keyframe;
}

gint64
kp_video_source_get_frame_at (KpVideoSource *self,
                              gint64         pts)
{
  g_return_val_if_fail (KP_IS_VIDEO_SOURCE (self), 0);

  return frame_at (self->dec, pts);
}

gint64
kp_video_source_get_keyframe_before (KpVideoSource *self,
                                     gint64         frame)
{
  g_return_val_if_fail (KP_IS_VIDEO_SOURCE (self), 0);
  g_return_val_if_fail (frame >= 0 && frame < (gint64)self->dec->index->len, 0);

  return keyframe_before (self->dec, frame);
}

KpVideoFrame *
kp_video_source_peek_frame (KpVideoSource *self,
                            gint64         frame)
{
  g_return_val_if_fail (KP_IS_VIDEO_SOURCE (self), NULL);

  if (frame < 0 || frame >= (gint64)self->dec->index->len)
    return NULL;
  return cached_frame (self->dec, frame, NULL);
}

static gboolean
check_range (KpVideoSource  *self,
             gint64          frame,
             GError        **error)
{
  if (frame >= 0 && frame < (gint64)self->dec->index->len)
    return TRUE;
  {
    g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, frame);

    g_set_error (error, KP_VIDEO_ERROR, KP_VIDEO_ERROR_OUT_OF_RANGE,
                 g_dngettext (GETTEXT_PACKAGE, "“%s” has no frame %s (it has %u frame)",
                              "“%s” has no frame %s (it has %u frames)",
                              self->dec->index->len),
                 self->dec->name, number, self->dec->index->len);
  }
  return FALSE;
}

KpVideoFrame *
kp_video_source_get_frame (KpVideoSource  *self,
                           gint64          frame,
                           GCancellable   *cancellable,
                           GError        **error)
{
  KpVideoFrame *result;
  Request *req;
  GMutex lock;
  GCond cond;

  g_return_val_if_fail (KP_IS_VIDEO_SOURCE (self), NULL);

  if (!check_range (self, frame, error))
    return NULL;
  if ((result = cached_frame (self->dec, frame, NULL)) != NULL)
    return result;

  g_mutex_init (&lock);
  g_cond_init (&cond);
  req = g_new0 (Request, 1);
  req->frame = frame;
  req->cancellable = cancellable;
  req->lock = &lock;
  req->cond = &cond;

  g_mutex_lock (&lock);
  push_request (self->dec, req);
  while (!req->done)
    g_cond_wait (&cond, &lock);
  g_mutex_unlock (&lock);

  result = req->result;
  if (req->error != NULL)
    g_propagate_error (error, req->error);
  g_free (req);
  g_mutex_clear (&lock);
  g_cond_clear (&cond);
  return result;
}

void
kp_video_source_get_frame_async (KpVideoSource       *self,
                                 gint64               frame,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  KpVideoFrame *cached;
  Request *req;

  g_return_if_fail (KP_IS_VIDEO_SOURCE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kp_video_source_get_frame_async);

  if (!check_range (self, frame, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if ((cached = cached_frame (self->dec, frame, NULL)) != NULL)
    {
      g_task_return_pointer (task, cached, (GDestroyNotify)kp_video_frame_unref);
      return;
    }

  req = g_new0 (Request, 1);
  req->frame = frame;
  req->task = g_steal_pointer (&task);
  req->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  push_request (self->dec, req);
}

KpVideoFrame *
kp_video_source_get_frame_finish (KpVideoSource  *self,
                                  GAsyncResult   *result,
                                  GError        **error)
{
  g_return_val_if_fail (KP_IS_VIDEO_SOURCE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

gsize
kp_video_source_get_cache_limit (KpVideoSource *self)
{
  gsize limit;

  g_return_val_if_fail (KP_IS_VIDEO_SOURCE (self), 0);

  g_mutex_lock (&self->dec->cache_lock);
  limit = self->dec->cache_limit;
  g_mutex_unlock (&self->dec->cache_lock);
  return limit;
}

void
kp_video_source_set_cache_limit (KpVideoSource *self,
                                 gsize          limit)
{
  gboolean changed;

  g_return_if_fail (KP_IS_VIDEO_SOURCE (self));

  g_mutex_lock (&self->dec->cache_lock);
  changed = self->dec->cache_limit != limit;
  self->dec->cache_limit = limit;
  cache_trim_locked (self->dec);
  g_mutex_unlock (&self->dec->cache_lock);
  if (changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CACHE_LIMIT]);
}

gsize
kp_video_source_get_cache_size (KpVideoSource *self)
{
  gsize size;

  g_return_val_if_fail (KP_IS_VIDEO_SOURCE (self), 0);

  g_mutex_lock (&self->dec->cache_lock);
  size = self->dec->cache_size;
  g_mutex_unlock (&self->dec->cache_lock);
  return size;
}

void
kp_video_source_set_decode_ahead (KpVideoSource *self,
                                  guint          n_frames)
{
  g_return_if_fail (KP_IS_VIDEO_SOURCE (self));

  g_atomic_int_set (&self->dec->decode_ahead, (int)MIN (n_frames, G_MAXINT));
}

void
kp_video_source_get_stats (KpVideoSource *self,
                           guint64       *n_decoded,
                           guint64       *n_seeks)
{
  g_return_if_fail (KP_IS_VIDEO_SOURCE (self));

  if (n_decoded != NULL)
    *n_decoded = (guint64)g_atomic_pointer_get (&self->dec->n_decoded);
  if (n_seeks != NULL)
    *n_seeks = (guint64)g_atomic_pointer_get (&self->dec->n_seeks);
}
