/* kp-timeline.c: a video's frames, its tracks and their keyframes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-timeline.h"

#include <math.h>

#include <glib/gi18n.h>

#include "kp-view-transform.h"

#define RULER_HEIGHT 28
#define ROW_HEIGHT 22
#define LABEL_WIDTH 120
#define MARGIN 8
#define MIN_TICK_SPACING 70.0
#define KEYFRAME_SIZE 8.0
/* Without a source, frames are laid out at this rate. */
#define FALLBACK_FRAME_NS (G_GINT64_CONSTANT (40000000))

struct _KpTimeline
{
  GtkWidget parent_instance;

  KpVideoSource *source;
  KpTracks *tracks;
  gulong tracks_changed_id;
  gint64 frame;
  guint selected_track;

  gboolean playing;
  guint tick_id;
  gint64 play_start_us;  /* frame clock time when playback (re)started */
  gint64 play_start_pts;
  double drag_start_x;

  GdkRGBA fg_color;
  GdkRGBA accent_color;
};

G_DEFINE_FINAL_TYPE (KpTimeline, kp_timeline, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_SOURCE,
  PROP_TRACKS,
  PROP_FRAME,
  PROP_PLAYING,
  PROP_SELECTED_TRACK,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

gint64
kp_timeline_get_n_frames (KpTimeline *self)
{
  g_return_val_if_fail (KP_IS_TIMELINE (self), 0);

  if (self->source != NULL)
    return kp_video_source_get_n_frames (self->source);
  if (self->tracks != NULL)
    return kp_tracks_get_n_frames (self->tracks);
  return 0;
}

static gint64
frame_pts (KpTimeline *self,
           gint64      frame)
{
  if (self->source != NULL)
    return kp_video_source_get_frame_pts (self->source, frame) -
           kp_video_source_get_frame_pts (self->source, 0);
  return frame * FALLBACK_FRAME_NS;
}

static gint64
frame_at_pts (KpTimeline *self,
              gint64      pts)
{
  if (self->source != NULL)
    return kp_video_source_get_frame_at (self->source,
                                         pts + kp_video_source_get_frame_pts (self->source, 0));
  return pts / FALLBACK_FRAME_NS;
}

/* Geometry: frames spread over the width right of the labels. */
static void
get_span (KpTimeline *self,
          double     *x0,
          double     *width)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self));

  *x0 = LABEL_WIDTH + MARGIN;
  *width = MAX (1.0, w - *x0 - MARGIN);
}

/* Frames along x: scale is pixels per frame. */
static void
get_transform (KpTimeline      *self,
               KpViewTransform *t)
{
  double x0, width;

  get_span (self, &x0, &width);
  t->scale = width / MAX (1, kp_timeline_get_n_frames (self));
  t->origin_x = x0;
  t->origin_y = 0;
}

double
kp_timeline_x_for_frame (KpTimeline *self,
                         gint64      frame)
{
  KpViewTransform t;

  g_return_val_if_fail (KP_IS_TIMELINE (self), 0);

  get_transform (self, &t);
  return kp_view_transform_to_view_x (&t, frame + 0.5);
}

gint64
kp_timeline_frame_at_x (KpTimeline *self,
                        double      x)
{
  KpViewTransform t;
  gint64 n;

  g_return_val_if_fail (KP_IS_TIMELINE (self), 0);

  n = kp_timeline_get_n_frames (self);
  if (n <= 0)
    return 0;
  get_transform (self, &t);
  return CLAMP ((gint64)floor (kp_view_transform_to_content_x (&t, x)), 0, n - 1);
}

static void
set_frame_internal (KpTimeline *self,
                    gint64      frame)
{
  gint64 n = kp_timeline_get_n_frames (self);

  frame = CLAMP (frame, 0, MAX (0, n - 1));
  if (frame == self->frame)
    return;
  self->frame = frame;
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_VALUE_NOW, (double)frame,
                                  -1);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRAME]);
}

/* Playback */

static void
restart_clock (KpTimeline *self)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self));

  self->play_start_us = clock != NULL ? gdk_frame_clock_get_frame_time (clock)
                                      : g_get_monotonic_time ();
  self->play_start_pts = frame_pts (self, self->frame);
}

static gboolean
tick_cb (GtkWidget     *widget,
         GdkFrameClock *clock,
         gpointer       user_data)
{
  KpTimeline *self = KP_TIMELINE (widget);
  gint64 n = kp_timeline_get_n_frames (self);
  gint64 elapsed = (gdk_frame_clock_get_frame_time (clock) - self->play_start_us) * 1000;
  gint64 target = frame_at_pts (self, self->play_start_pts + MAX (0, elapsed));

  set_frame_internal (self, target);
  if (target >= n - 1)
    {
      self->tick_id = 0;
      kp_timeline_set_playing (self, FALSE);
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

/* Input */

static void
seek_to_x (KpTimeline *self,
           double      x)
{
  kp_timeline_set_frame (self, kp_timeline_frame_at_x (self, x));
}

static void
drag_begin_cb (GtkGestureDrag *gesture,
               double          x,
               double          y,
               KpTimeline     *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self));
  self->drag_start_x = x;
  seek_to_x (self, x);
  /* A click on a track's row selects it. */
  if (y > RULER_HEIGHT && self->tracks != NULL)
    {
      guint row = (guint)((y - RULER_HEIGHT) / ROW_HEIGHT);
      g_autoptr(KpTrack) track = g_list_model_get_item (G_LIST_MODEL (self->tracks), row);

      if (track != NULL)
        kp_timeline_set_selected_track (self, kp_track_get_id (track));
    }
}

static void
drag_update_cb (GtkGestureDrag *gesture,
                double          dx,
                double          dy,
                KpTimeline     *self)
{
  seek_to_x (self, self->drag_start_x + dx);
}

static void
step_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  KpTimeline *self = KP_TIMELINE (widget);
  gint64 frame = self->frame;

  if (g_str_equal (action_name, "timeline.next-frame"))
    frame += 1;
  else if (g_str_equal (action_name, "timeline.previous-frame"))
    frame -= 1;
  else if (g_str_equal (action_name, "timeline.forward"))
    frame += 10;
  else if (g_str_equal (action_name, "timeline.back"))
    frame -= 10;
  else if (g_str_equal (action_name, "timeline.first-frame"))
    frame = 0;
  else if (g_str_equal (action_name, "timeline.last-frame"))
    frame = kp_timeline_get_n_frames (self) - 1;
  kp_timeline_set_frame (self, MAX (0, frame));
}

static void
play_pause_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  KpTimeline *self = KP_TIMELINE (widget);

  kp_timeline_set_playing (self, !self->playing);
}

static KpTrack *
selected_track (KpTimeline *self)
{
  KpTrack *track = NULL;

  if (self->tracks == NULL)
    return NULL;
  if (self->selected_track != 0)
    track = kp_tracks_get_track (self->tracks, self->selected_track);
  if (track == NULL && g_list_model_get_n_items (G_LIST_MODEL (self->tracks)) > 0)
    {
      g_autoptr(KpTrack) first = g_list_model_get_item (G_LIST_MODEL (self->tracks), 0);

      track = kp_tracks_get_track (self->tracks, kp_track_get_id (first));
    }
  return track;
}

static void
add_keyframe_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  KpTimeline *self = KP_TIMELINE (widget);
  KpTrack *track = selected_track (self);
  g_autoptr(KpTrackShape) shape = NULL;
  g_autoptr(GError) error = NULL;

  if (track == NULL)
    {
      gtk_widget_error_bell (widget);
      return;
    }
  shape = kp_track_get_shape (track, self->frame);
  if (shape == NULL)
    {
      /* Before the track starts there is no shape to keep. */
      gtk_widget_error_bell (widget);
      return;
    }
  if (!kp_track_set_keyframe (track, shape, &error))
    g_warning ("%s", error->message);
}

/* Drawing */

static void
format_time (char   *buf,
             gsize   size,
             gint64  ns)
{
  gint64 ms = ns / 1000000;

  g_snprintf (buf, size, "%" G_GINT64_FORMAT ":%02d.%03d",
              ms / 60000, (int)(ms / 1000 % 60), (int)(ms % 1000));
}

static void
append_text (KpTimeline  *self,
             GtkSnapshot *snapshot,
             const char  *text,
             double       x,
             double       y,
             double       max_width)
{
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);

  if (max_width > 0)
    {
      pango_layout_set_width (layout, (int)(max_width * PANGO_SCALE));
      pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
    }
  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x, y));
  gtk_snapshot_append_layout (snapshot, layout, &self->fg_color);
  gtk_snapshot_restore (snapshot);
}

static void
kp_timeline_snapshot (GtkWidget   *widget,
                      GtkSnapshot *snapshot)
{
  KpTimeline *self = KP_TIMELINE (widget);
  gint64 n = kp_timeline_get_n_frames (self);
  double height = gtk_widget_get_height (widget);
  double x0, width, per_frame;
  gint64 step = 1;
  GdkRGBA faint = self->fg_color;
  guint n_tracks = self->tracks != NULL ? g_list_model_get_n_items (G_LIST_MODEL (self->tracks)) : 0;

  if (n <= 0)
    return;
  get_span (self, &x0, &width);
  per_frame = width / n;
  faint.alpha = 0.3;

  /* Ruler: a tick every step frames, step from 1, 2, 5 × 10^k. */
  while (step * per_frame < MIN_TICK_SPACING)
    {
      gint64 mantissa = step;

      while (mantissa >= 10)
        mantissa /= 10;
      step = mantissa == 2 ? step / 2 * 5 : step * 2;
    }
  for (gint64 f = 0; f < n; f += step)
    {
      double x = kp_timeline_x_for_frame (self, f);
      char time_str[32];
      char label[64];

      format_time (time_str, sizeof time_str, frame_pts (self, f));
      g_snprintf (label, sizeof label, "%" G_GINT64_FORMAT, f);
      gtk_snapshot_append_color (snapshot, &faint, &GRAPHENE_RECT_INIT (x, 0, 1, height));
      append_text (self, snapshot, label, x + 2, 0, -1);
      if (step * per_frame >= 2 * MIN_TICK_SPACING || f % (2 * step) == 0)
        append_text (self, snapshot, time_str, x + 2, RULER_HEIGHT / 2, -1);
    }

  /* One row per track: its span and keyframes. */
  for (guint i = 0; i < n_tracks; i++)
    {
      g_autoptr(KpTrack) track = g_list_model_get_item (G_LIST_MODEL (self->tracks), i);
      double y = RULER_HEIGHT + i * ROW_HEIGHT;
      guint n_keys;
      const gint64 *keys = kp_track_get_keyframes (track, &n_keys);
      gboolean selected = kp_track_get_id (track) == self->selected_track;
      GdkRGBA bar = selected ? self->accent_color : self->fg_color;
      g_autofree char *name = g_strdup_printf ("%s %u", kp_track_get_label (track),
                                               kp_track_get_id (track));

      append_text (self, snapshot, name, MARGIN, y + 2, LABEL_WIDTH - MARGIN);
      bar.alpha = 0.35;
      /* Spans where the track is in view, from keyframe to keyframe. */
      for (guint k = 0; k < n_keys; k++)
        {
          gint64 from = keys[k];
          gint64 to = k + 1 < n_keys ? keys[k + 1] : n;

          if (!kp_track_is_visible (track, from))
            continue;
          gtk_snapshot_append_color (snapshot, &bar,
                                     &GRAPHENE_RECT_INIT (kp_timeline_x_for_frame (self, from),
                                                          y + ROW_HEIGHT / 2 - 3,
                                                          (to - from) * per_frame, 6));
        }
      bar.alpha = 1;
      for (guint k = 0; k < n_keys; k++)
        {
          double x = kp_timeline_x_for_frame (self, keys[k]);

          gtk_snapshot_save (snapshot);
          gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x, y + ROW_HEIGHT / 2));
          gtk_snapshot_rotate (snapshot, 45);
          gtk_snapshot_append_color (snapshot, &bar,
                                     &GRAPHENE_RECT_INIT (-KEYFRAME_SIZE / 2, -KEYFRAME_SIZE / 2,
                                                          KEYFRAME_SIZE, KEYFRAME_SIZE));
          gtk_snapshot_restore (snapshot);
        }
    }

  /* The playhead. */
  gtk_snapshot_append_color (snapshot, &self->accent_color,
                             &GRAPHENE_RECT_INIT (kp_timeline_x_for_frame (self, self->frame) - 1,
                                                  0, 2, height));
}

static void
kp_timeline_measure (GtkWidget      *widget,
                     GtkOrientation  orientation,
                     int             for_size,
                     int            *minimum,
                     int            *natural,
                     int            *minimum_baseline,
                     int            *natural_baseline)
{
  KpTimeline *self = KP_TIMELINE (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = LABEL_WIDTH + 2 * MARGIN + 100;
      *natural = 800;
    }
  else
    {
      guint rows = self->tracks != NULL ? g_list_model_get_n_items (G_LIST_MODEL (self->tracks)) : 0;

      *minimum = *natural = RULER_HEIGHT + MAX (1, rows) * ROW_HEIGHT + MARGIN;
    }
}

static void
kp_timeline_css_changed (GtkWidget         *widget,
                         GtkCssStyleChange *change)
{
  KpTimeline *self = KP_TIMELINE (widget);

  GTK_WIDGET_CLASS (kp_timeline_parent_class)->css_changed (widget, change);

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color (gtk_widget_get_style_context (widget), &self->fg_color);
  G_GNUC_END_IGNORE_DEPRECATIONS
  kp_view_lookup_color (widget, "accent_bg_color", "#3584e4", &self->accent_color);
}

static void
tracks_changed_cb (KpTimeline *self)
{
  gtk_widget_queue_resize (GTK_WIDGET (self));
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
update_range (KpTimeline *self)
{
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_VALUE_MIN, 0.0,
                                  GTK_ACCESSIBLE_PROPERTY_VALUE_MAX,
                                  (double)MAX (0, kp_timeline_get_n_frames (self) - 1),
                                  GTK_ACCESSIBLE_PROPERTY_VALUE_NOW, (double)self->frame,
                                  -1);
}

/* GObject */

static void
kp_timeline_dispose (GObject *object)
{
  KpTimeline *self = (KpTimeline *)object;

  if (self->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
      self->tick_id = 0;
    }
  if (self->tracks != NULL)
    g_clear_signal_handler (&self->tracks_changed_id, self->tracks);
  g_clear_object (&self->tracks);
  g_clear_object (&self->source);

  G_OBJECT_CLASS (kp_timeline_parent_class)->dispose (object);
}

static void
kp_timeline_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  KpTimeline *self = KP_TIMELINE (object);

  switch (prop_id)
    {
    case PROP_SOURCE:
      g_value_set_object (value, self->source);
      break;
    case PROP_TRACKS:
      g_value_set_object (value, self->tracks);
      break;
    case PROP_FRAME:
      g_value_set_int64 (value, self->frame);
      break;
    case PROP_PLAYING:
      g_value_set_boolean (value, self->playing);
      break;
    case PROP_SELECTED_TRACK:
      g_value_set_uint (value, self->selected_track);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_timeline_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  KpTimeline *self = KP_TIMELINE (object);

  switch (prop_id)
    {
    case PROP_SOURCE:
      kp_timeline_set_source (self, g_value_get_object (value));
      break;
    case PROP_TRACKS:
      kp_timeline_set_tracks (self, g_value_get_object (value));
      break;
    case PROP_FRAME:
      kp_timeline_set_frame (self, g_value_get_int64 (value));
      break;
    case PROP_PLAYING:
      kp_timeline_set_playing (self, g_value_get_boolean (value));
      break;
    case PROP_SELECTED_TRACK:
      kp_timeline_set_selected_track (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_timeline_class_init (KpTimelineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  static const char * const steps[] = {
    "timeline.next-frame", "timeline.previous-frame", "timeline.forward",
    "timeline.back", "timeline.first-frame", "timeline.last-frame",
  };

  object_class->dispose = kp_timeline_dispose;
  object_class->get_property = kp_timeline_get_property;
  object_class->set_property = kp_timeline_set_property;
  widget_class->snapshot = kp_timeline_snapshot;
  widget_class->measure = kp_timeline_measure;
  widget_class->css_changed = kp_timeline_css_changed;

  properties[PROP_SOURCE] =
    g_param_spec_object ("source", NULL, NULL, KP_TYPE_VIDEO_SOURCE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TRACKS] =
    g_param_spec_object ("tracks", NULL, NULL, KP_TYPE_TRACKS,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_FRAME] =
    g_param_spec_int64 ("frame", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PLAYING] =
    g_param_spec_boolean ("playing", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SELECTED_TRACK] =
    g_param_spec_uint ("selected-track", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    gtk_widget_class_install_action (widget_class, steps[i], NULL, step_action);
  gtk_widget_class_install_action (widget_class, "timeline.play-pause", NULL, play_pause_action);
  gtk_widget_class_install_action (widget_class, "timeline.add-keyframe", NULL, add_keyframe_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Right, 0, "timeline.next-frame", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, 0, "timeline.previous-frame", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Right, GDK_SHIFT_MASK, "timeline.forward", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, GDK_SHIFT_MASK, "timeline.back", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Home, 0, "timeline.first-frame", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_End, 0, "timeline.last-frame", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_space, 0, "timeline.play-pause", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_k, 0, "timeline.add-keyframe", NULL);

  gtk_widget_class_set_css_name (widget_class, "kp-timeline");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_SLIDER);
}

static void
kp_timeline_init (KpTimeline *self)
{
  GtkGesture *drag = gtk_gesture_drag_new ();

  gdk_rgba_parse (&self->fg_color, "#000000");
  gdk_rgba_parse (&self->accent_color, "#3584e4");
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Timeline"),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  _("Left and Right step a frame, with Shift ten; "
                                    "Space plays; K adds a keyframe"),
                                  -1);
  update_range (self);
}

GtkWidget *
kp_timeline_new (void)
{
  return g_object_new (KP_TYPE_TIMELINE, NULL);
}

KpVideoSource *
kp_timeline_get_source (KpTimeline *self)
{
  g_return_val_if_fail (KP_IS_TIMELINE (self), NULL);

  return self->source;
}

void
kp_timeline_set_source (KpTimeline    *self,
                        KpVideoSource *source)
{
  g_return_if_fail (KP_IS_TIMELINE (self));
  g_return_if_fail (source == NULL || KP_IS_VIDEO_SOURCE (source));

  if (!g_set_object (&self->source, source))
    return;
  kp_timeline_set_playing (self, FALSE);
  set_frame_internal (self, self->frame);
  update_range (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SOURCE]);
}

KpTracks *
kp_timeline_get_tracks (KpTimeline *self)
{
  g_return_val_if_fail (KP_IS_TIMELINE (self), NULL);

  return self->tracks;
}

void
kp_timeline_set_tracks (KpTimeline *self,
                        KpTracks   *tracks)
{
  g_return_if_fail (KP_IS_TIMELINE (self));
  g_return_if_fail (tracks == NULL || KP_IS_TRACKS (tracks));

  if (self->tracks == tracks)
    return;
  if (self->tracks != NULL)
    g_clear_signal_handler (&self->tracks_changed_id, self->tracks);
  g_set_object (&self->tracks, tracks);
  if (tracks != NULL)
    self->tracks_changed_id = g_signal_connect_swapped (tracks, "changed",
                                                        G_CALLBACK (tracks_changed_cb), self);
  update_range (self);
  tracks_changed_cb (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TRACKS]);
}

gint64
kp_timeline_get_frame (KpTimeline *self)
{
  g_return_val_if_fail (KP_IS_TIMELINE (self), 0);

  return self->frame;
}

void
kp_timeline_set_frame (KpTimeline *self,
                       gint64      frame)
{
  g_return_if_fail (KP_IS_TIMELINE (self));

  set_frame_internal (self, frame);
  /* A seek during playback plays on from the new frame. */
  if (self->playing)
    restart_clock (self);
}

gboolean
kp_timeline_get_playing (KpTimeline *self)
{
  g_return_val_if_fail (KP_IS_TIMELINE (self), FALSE);

  return self->playing;
}

void
kp_timeline_set_playing (KpTimeline *self,
                         gboolean    playing)
{
  g_return_if_fail (KP_IS_TIMELINE (self));

  playing = !!playing;
  if (playing && self->frame >= kp_timeline_get_n_frames (self) - 1)
    {
      /* Playing from the end starts over. */
      if (kp_timeline_get_n_frames (self) <= 1)
        playing = FALSE;
      else
        set_frame_internal (self, 0);
    }
  if (playing == self->playing)
    return;
  self->playing = playing;
  if (playing)
    {
      restart_clock (self);
      self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), tick_cb, NULL, NULL);
    }
  else if (self->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
      self->tick_id = 0;
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYING]);
}

guint
kp_timeline_get_selected_track (KpTimeline *self)
{
  g_return_val_if_fail (KP_IS_TIMELINE (self), 0);

  return self->selected_track;
}

void
kp_timeline_set_selected_track (KpTimeline *self,
                                guint       id)
{
  g_return_if_fail (KP_IS_TIMELINE (self));

  if (id == self->selected_track)
    return;
  self->selected_track = id;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED_TRACK]);
}
