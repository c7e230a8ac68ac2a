/* kp-player.c: audio playback through GStreamer (play, seek, loop, speed)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-player.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>

#include "kp-audio-private.h"
#include "kp-player-private.h"
#include "kp-peaks.h"

struct _KpPlayer
{
  GObject     parent_instance;

  char       *sink_name;
  GstElement *playbin;
  GFile      *file;
  GPtrArray  *missing;

  double      rate;
  gint64      duration;
  gint64      seek_target;   /* -1 unless a seek is pending or under way */
  gint64      last_position;
  gint64      loop_start;
  gint64      loop_end;
  guint       n_loops;

  guint       playing : 1;
  guint       prerolled : 1;
  guint       seeking : 1;
  guint       looping : 1;
  guint       at_eos : 1;
};

G_DEFINE_FINAL_TYPE (KpPlayer, kp_player, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_SINK_NAME,
  PROP_PLAYING,
  PROP_RATE,
  PROP_DURATION,
  PROP_LOOPING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  ERROR,
  EOS,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
teardown (KpPlayer *self)
{
  if (self->playbin == NULL)
    return;
  gst_element_set_state (self->playbin, GST_STATE_NULL);
  {
    g_autoptr(GstBus) bus = gst_element_get_bus (self->playbin);

    gst_bus_remove_watch (bus);
  }
  g_clear_object (&self->playbin);
}

static void
kp_player_dispose (GObject *object)
{
  KpPlayer *self = (KpPlayer *)object;

  teardown (self);
  g_clear_object (&self->file);

  G_OBJECT_CLASS (kp_player_parent_class)->dispose (object);
}

static void
kp_player_finalize (GObject *object)
{
  KpPlayer *self = (KpPlayer *)object;

  g_free (self->sink_name);
  g_ptr_array_unref (self->missing);

  G_OBJECT_CLASS (kp_player_parent_class)->finalize (object);
}

static void
kp_player_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  KpPlayer *self = KP_PLAYER (object);

  switch (prop_id)
    {
    case PROP_SINK_NAME:
      g_value_set_string (value, self->sink_name);
      break;
    case PROP_PLAYING:
      g_value_set_boolean (value, self->playing);
      break;
    case PROP_RATE:
      g_value_set_double (value, self->rate);
      break;
    case PROP_DURATION:
      g_value_set_int64 (value, self->duration);
      break;
    case PROP_LOOPING:
      g_value_set_boolean (value, self->looping);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_player_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  KpPlayer *self = KP_PLAYER (object);

  switch (prop_id)
    {
    case PROP_SINK_NAME:
      self->sink_name = g_value_dup_string (value);
      break;
    case PROP_PLAYING:
      if (g_value_get_boolean (value))
        kp_player_play (self);
      else
        kp_player_pause (self);
      break;
    case PROP_RATE:
      kp_player_set_rate (self, g_value_get_double (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_player_class_init (KpPlayerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kp_player_dispose;
  object_class->finalize = kp_player_finalize;
  object_class->get_property = kp_player_get_property;
  object_class->set_property = kp_player_set_property;

  properties[PROP_SINK_NAME] =
    g_param_spec_string ("sink-name", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PLAYING] =
    g_param_spec_boolean ("playing", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RATE] =
    g_param_spec_double ("rate", NULL, NULL, KP_PLAYER_MIN_RATE, KP_PLAYER_MAX_RATE, 1.0,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DURATION] =
    g_param_spec_int64 ("duration", NULL, NULL, -1, G_MAXINT64, -1,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LOOPING] =
    g_param_spec_boolean ("looping", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* (GError *error): playback stopped; the message names what is missing. */
  signals[ERROR] =
    g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
  signals[EOS] =
    g_signal_new ("eos", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
kp_player_init (KpPlayer *self)
{
  self->rate = 1.0;
  self->duration = -1;
  self->seek_target = -1;
  self->last_position = 0;
  self->missing = g_ptr_array_new_with_free_func (g_free);
}

KpPlayer *
kp_player_new (const char *sink_name)
{
  return g_object_new (KP_TYPE_PLAYER, "sink-name", sink_name, NULL);
}

static void
set_playing (KpPlayer *self,
             gboolean  playing)
{
  if (self->playing == !!playing)
    return;
  self->playing = !!playing;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
}

/* Seeks now if the pipeline can take it, or remembers the target. */
static void
do_seek (KpPlayer *self,
         gint64    position)
{
  GstSeekFlags flags = GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE;
  /* SET to none, not TYPE_NONE: that would keep the end of an old loop. */
  gint64 stop = GST_CLOCK_TIME_NONE;
  GstSeekType stop_type = GST_SEEK_TYPE_SET;

  position = MAX (position, 0);
  self->seek_target = position;
  self->last_position = position;
  self->at_eos = FALSE;
  if (!self->prerolled)
    return;

  if (self->looping)
    {
      flags |= GST_SEEK_FLAG_SEGMENT;
      stop = self->loop_end;
    }
  self->seeking = TRUE;
  if (!gst_element_seek (self->playbin, self->rate, GST_FORMAT_TIME, flags,
                         GST_SEEK_TYPE_SET, position, stop_type, stop))
    {
      g_debug ("Seek to %" GST_TIME_FORMAT " failed", GST_TIME_ARGS (position));
      self->seeking = FALSE;
      self->seek_target = -1;
    }
}

static void
query_duration (KpPlayer *self)
{
  gint64 duration = -1;

  if (!gst_element_query_duration (self->playbin, GST_FORMAT_TIME, &duration))
    duration = -1;
  if (duration != self->duration)
    {
      self->duration = duration;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DURATION]);
    }
}

static gboolean
bus_cb (GstBus     *bus,
        GstMessage *msg,
        gpointer    user_data)
{
  KpPlayer *self = user_data;

  switch (GST_MESSAGE_TYPE (msg))
    {
    case GST_MESSAGE_ERROR:
      {
        g_autoptr(GError) gst_error = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *debug = NULL;
        g_autofree char *name = self->file ? g_file_get_basename (self->file) : g_strdup ("");

        gst_message_parse_error (msg, &gst_error, &debug);
        g_debug ("Playback error: %s (%s)", gst_error->message, debug ? debug : "");
        _kp_audio_set_error_from_gst (&error, name, gst_error, self->missing);
        gst_element_set_state (self->playbin, GST_STATE_NULL);
        self->prerolled = FALSE;
        self->seeking = FALSE;
        self->seek_target = -1;
        set_playing (self, FALSE);
        g_signal_emit (self, signals[ERROR], 0, error);
      }
      break;

    case GST_MESSAGE_ELEMENT:
      if (gst_is_missing_plugin_message (msg))
        g_ptr_array_add (self->missing, gst_missing_plugin_message_get_description (msg));
      break;

    case GST_MESSAGE_ASYNC_DONE:
      if (!self->prerolled)
        {
          self->prerolled = TRUE;
          query_duration (self);
          /* A seek asked for before preroll, or a rate or loop set then. */
          if (self->seek_target >= 0 || self->rate != 1.0 || self->looping)
            do_seek (self, MAX (self->seek_target, self->looping ? self->loop_start : 0));
        }
      else if (self->seeking)
        {
          self->seeking = FALSE;
          self->seek_target = -1;
        }
      break;

    case GST_MESSAGE_DURATION_CHANGED:
      query_duration (self);
      break;

    case GST_MESSAGE_SEGMENT_DONE:
      if (self->looping)
        {
          /* A non-flushing segment seek joins the next pass on without a gap. */
          self->n_loops++;
          gst_element_seek (self->playbin, self->rate, GST_FORMAT_TIME, GST_SEEK_FLAG_SEGMENT
                            | GST_SEEK_FLAG_ACCURATE, GST_SEEK_TYPE_SET, self->loop_start,
                            GST_SEEK_TYPE_SET, self->loop_end);
        }
      break;

    case GST_MESSAGE_EOS:
      if (self->looping && self->playing)
        {
          /* The segment ran out without SEGMENT_DONE (a non-flushing
           * segment seek lost to a state change): start the next pass
           * with a flushing one rather than stopping the loop. */
          self->n_loops++;
          do_seek (self, self->loop_start);
          gst_element_set_state (self->playbin, GST_STATE_PLAYING);
          break;
        }
      self->at_eos = TRUE;
      gst_element_set_state (self->playbin, GST_STATE_PAUSED);
      if (self->duration > 0)
        self->last_position = self->duration;
      set_playing (self, FALSE);
      g_signal_emit (self, signals[EOS], 0);
      break;

    default:
      break;
    }

  return G_SOURCE_CONTINUE;
}

static gboolean
build_pipeline (KpPlayer  *self,
                GError   **error)
{
  g_autoptr(GstElement) playbin = NULL;
  g_autoptr(GstBus) bus = NULL;
  GstElement *filter, *sink;

  if (!_kp_audio_ensure_gst (error))
    return FALSE;
  if (!(playbin = _kp_audio_make_element ("playbin", "gstreamer1.0-plugins-base", error)))
    return FALSE;
  gst_object_ref_sink (playbin);
  if (!(filter = _kp_audio_make_element ("scaletempo", "gstreamer1.0-plugins-good", error)))
    return FALSE;
  g_object_set (playbin, "audio-filter", filter, NULL);
  if (self->sink_name != NULL && strchr (self->sink_name, '!') != NULL)
    {
      g_autoptr(GError) parse_error = NULL;

      /* A chain ending in a sink, e.g. for tests that listen to the output. */
      sink = gst_parse_bin_from_description (self->sink_name, TRUE, &parse_error);
      if (sink == NULL)
        {
          g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_MISSING_PLUGIN,
                       _("The audio output “%s” cannot be built: %s"), self->sink_name,
                       parse_error->message);
          return FALSE;
        }
    }
  else if (!(sink = _kp_audio_make_element (self->sink_name ? self->sink_name : "autoaudiosink",
                                            "gstreamer1.0-plugins-good", error)))
    return FALSE;
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (sink), "sync") != NULL)
    g_object_set (sink, "sync", TRUE, NULL);
  g_object_set (playbin, "audio-sink", sink, NULL);
  /* Audio only: a video track in the file is not decoded. */
  gst_util_set_object_arg (G_OBJECT (playbin), "flags", "audio+soft-volume");

  bus = gst_element_get_bus (playbin);
  gst_bus_add_watch (bus, bus_cb, self);
  self->playbin = g_steal_pointer (&playbin);
  return TRUE;
}

gboolean
kp_player_set_file (KpPlayer  *self,
                    GFile     *file,
                    GError   **error)
{
  g_autofree char *uri = NULL;

  g_return_val_if_fail (KP_IS_PLAYER (self), FALSE);
  g_return_val_if_fail (G_IS_FILE (file), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->playbin == NULL && !build_pipeline (self, error))
    return FALSE;

  gst_element_set_state (self->playbin, GST_STATE_NULL);
  g_set_object (&self->file, file);
  g_ptr_array_set_size (self->missing, 0);
  self->prerolled = FALSE;
  self->seeking = FALSE;
  self->seek_target = -1;
  self->last_position = 0;
  self->at_eos = FALSE;
  self->looping = FALSE;
  self->duration = -1;
  set_playing (self, FALSE);
  uri = g_file_get_uri (file);
  g_object_set (self->playbin, "uri", uri, NULL);
  gst_element_set_state (self->playbin, GST_STATE_PAUSED);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DURATION]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOOPING]);
  return TRUE;
}

GFile *
kp_player_get_file (KpPlayer *self)
{
  g_return_val_if_fail (KP_IS_PLAYER (self), NULL);
  return self->file;
}

void
kp_player_play (KpPlayer *self)
{
  g_return_if_fail (KP_IS_PLAYER (self));

  if (self->playbin == NULL || self->file == NULL)
    return;
  if (self->at_eos)
    do_seek (self, self->looping ? self->loop_start : 0);
  gst_element_set_state (self->playbin, GST_STATE_PLAYING);
  set_playing (self, TRUE);
}

void
kp_player_pause (KpPlayer *self)
{
  g_return_if_fail (KP_IS_PLAYER (self));

  if (self->playbin == NULL || self->file == NULL)
    return;
  self->last_position = kp_player_get_position (self);
  gst_element_set_state (self->playbin, GST_STATE_PAUSED);
  set_playing (self, FALSE);
}

void
kp_player_toggle (KpPlayer *self)
{
  g_return_if_fail (KP_IS_PLAYER (self));

  if (self->playing)
    kp_player_pause (self);
  else
    kp_player_play (self);
}

gboolean
kp_player_get_playing (KpPlayer *self)
{
  g_return_val_if_fail (KP_IS_PLAYER (self), FALSE);
  return self->playing;
}

void
kp_player_seek (KpPlayer *self,
                gint64    position_ns)
{
  g_return_if_fail (KP_IS_PLAYER (self));

  if (self->file == NULL)
    return;
  if (self->looping && (position_ns < self->loop_start || position_ns >= self->loop_end))
    {
      self->looping = FALSE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOOPING]);
    }
  if (self->duration > 0)
    position_ns = MIN (position_ns, self->duration);
  do_seek (self, position_ns);
}

gint64
kp_player_get_position (KpPlayer *self)
{
  gint64 position;

  g_return_val_if_fail (KP_IS_PLAYER (self), -1);

  if (self->file == NULL || self->playbin == NULL)
    return -1;
  if (self->seek_target >= 0 || self->at_eos || !self->prerolled)
    return self->last_position;
  if (gst_element_query_position (self->playbin, GST_FORMAT_TIME, &position) && position >= 0)
    self->last_position = position;
  return self->last_position;
}

gint64
kp_player_get_duration (KpPlayer *self)
{
  g_return_val_if_fail (KP_IS_PLAYER (self), -1);
  return self->duration;
}

void
kp_player_set_rate (KpPlayer *self,
                    double    rate)
{
  g_return_if_fail (KP_IS_PLAYER (self));

  rate = CLAMP (rate, KP_PLAYER_MIN_RATE, KP_PLAYER_MAX_RATE);
  if (rate == self->rate)
    return;
  self->rate = rate;
  /* The rate rides on a seek to where playback is. */
  if (self->file != NULL)
    do_seek (self, kp_player_get_position (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RATE]);
}

double
kp_player_get_rate (KpPlayer *self)
{
  g_return_val_if_fail (KP_IS_PLAYER (self), 1.0);
  return self->rate;
}

void
kp_player_set_loop (KpPlayer *self,
                    gint64    start_ns,
                    gint64    end_ns)
{
  gint64 position;

  g_return_if_fail (KP_IS_PLAYER (self));

  if (end_ns <= start_ns)
    {
      kp_player_clear_loop (self);
      return;
    }
  start_ns = MAX (start_ns, 0);
  self->loop_start = start_ns;
  self->loop_end = end_ns;
  self->n_loops = 0;
  position = self->file ? kp_player_get_position (self) : 0;
  if (position < start_ns || position >= end_ns)
    position = start_ns;
  if (!self->looping)
    {
      self->looping = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOOPING]);
    }
  if (self->file != NULL)
    do_seek (self, position);
}

void
kp_player_clear_loop (KpPlayer *self)
{
  g_return_if_fail (KP_IS_PLAYER (self));

  if (!self->looping)
    return;
  self->looping = FALSE;
  /* A plain seek replaces the segment, so playback runs on past the end. */
  if (self->file != NULL)
    do_seek (self, kp_player_get_position (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOOPING]);
}

gboolean
kp_player_get_looping (KpPlayer *self)
{
  g_return_val_if_fail (KP_IS_PLAYER (self), FALSE);
  return self->looping;
}

guint
kp_player_get_n_loops (KpPlayer *self)
{
  g_return_val_if_fail (KP_IS_PLAYER (self), 0);
  return self->n_loops;
}

GstElement *
_kp_player_get_pipeline (KpPlayer *self)
{
  g_return_val_if_fail (KP_IS_PLAYER (self), NULL);
  return self->playbin;
}
