/* kp-video-tracker.c: the kp-video-tracker layout element
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-video-tracker.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n.h>

#include "kp-av-common.h"
#include "kp-frame-view.h"
#include "kp-layout-src-private.h"
#include "kp-timeline.h"
#include "kp-video.h"

struct _KpVideoTracker
{
  GtkWidget      parent_instance;

  GtkWidget     *box;
  GtkWidget     *error_label;
  GtkWidget     *frame_view;
  GtkWidget     *timeline;
  GtkWidget     *frame_label;
  GtkWidget     *label_dropdown;
  GtkWidget     *summary_label;
  GtkWidget     *remote_button; /* over the insensitive box until clicked */

  GFile         *file;
  KpVideoSource *source;
  KpTracks      *tracks;
  JsonNode      *pending;   /* a value set before the video opened */
  GCancellable  *cancellable;
  GError        *error;
  gboolean       setting;
};

enum {
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (KpVideoTracker, kp_video_tracker, GTK_TYPE_WIDGET)

static void
show_error (KpVideoTracker *self,
            const GError   *error)
{
  g_autofree char *text = NULL;

  if (!kp_av_keep_error (&self->error, error))
    return;
  text = g_strdup_printf (_("The video cannot be loaded: %s"), error->message);
  gtk_label_set_text (GTK_LABEL (self->error_label), text);
  gtk_widget_set_visible (self->error_label, TRUE);
}

static void
update_labels (KpVideoTracker *self)
{
  g_autofree char *summary = NULL;
  guint n = self->tracks != NULL ? g_list_model_get_n_items (G_LIST_MODEL (self->tracks)) : 0;

  if (self->source != NULL)
    {
      gint64 frame = kp_timeline_get_frame (KP_TIMELINE (self->timeline));
      g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, frame + 1);
      g_autofree char *total = g_strdup_printf ("%" G_GINT64_FORMAT, kp_video_source_get_n_frames (self->source));
      /* Translators: the frame shown (from 1) of how many */
      g_autofree char *text = g_strdup_printf (_("Frame %s of %s"), number, total);

      gtk_label_set_text (GTK_LABEL (self->frame_label), text);
    }
  if (n == 0)
    summary = g_strdup (_("Drag a box around an object to track it; move it on later frames"));
  else
    summary = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u track", "%u tracks", n), n);
  gtk_label_set_text (GTK_LABEL (self->summary_label), summary);
}

static void
tracks_changed_cb (KpVideoTracker *self)
{
  update_labels (self);
  if (!self->setting)
    g_signal_emit (self, signals[CHANGED], 0);
}

static void
set_tracks (KpVideoTracker *self,
            KpTracks       *tracks)
{
  if (self->tracks != NULL)
    g_signal_handlers_disconnect_by_data (self->tracks, self);
  g_set_object (&self->tracks, tracks);
  if (tracks != NULL)
    g_signal_connect_object (tracks, "changed", G_CALLBACK (tracks_changed_cb), self, G_CONNECT_SWAPPED);
  kp_frame_view_set_selected_track (KP_FRAME_VIEW (self->frame_view), 0);
  kp_frame_view_set_tracks (KP_FRAME_VIEW (self->frame_view), tracks);
  kp_timeline_set_tracks (KP_TIMELINE (self->timeline), tracks);
  update_labels (self);
}

/* Value → tracks */

typedef struct
{
  gint64 frame;
  double box[4]; /* left, top, width, height */
} FrameBox;

static int
compare_frames (gconstpointer a,
                gconstpointer b)
{
  const FrameBox *fa = a, *fb = b;

  return fa->frame < fb->frame ? -1 : fa->frame > fb->frame;
}

/* Whether the boxes between from and to (indexes into boxes, whose frames
 * follow each other) round to what linear interpolation between those two
 * gives: then they need no keyframe of their own. */
static gboolean
interpolates (const FrameBox *boxes,
              guint           from,
              guint           to)
{
  for (guint i = from + 1; i < to; i++)
    {
      double t = (double)(boxes[i].frame - boxes[from].frame) / (boxes[to].frame - boxes[from].frame);
      double x1 = boxes[from].box[0] + (boxes[to].box[0] - boxes[from].box[0]) * t;
      double y1 = boxes[from].box[1] + (boxes[to].box[1] - boxes[from].box[1]) * t;
      double x2 = boxes[from].box[0] + boxes[from].box[2]
                  + (boxes[to].box[0] + boxes[to].box[2] - boxes[from].box[0] - boxes[from].box[2]) * t;
      double y2 = boxes[from].box[1] + boxes[from].box[3]
                  + (boxes[to].box[1] + boxes[to].box[3] - boxes[from].box[1] - boxes[from].box[3]) * t;
      const double got[4] = { x1, y1, x2 - x1, y2 - y1 };

      for (int c = 0; c < 4; c++)
        if (fabs (got[c] - boxes[i].box[c]) >= 0.5 - 1e-6)
          return FALSE;
    }
  return TRUE;
}

static void
add_keyframe (JsonBuilder    *b,
              const FrameBox *box,
              gint64          frame,
              gboolean        outside)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "frame");
  json_builder_add_int_value (b, frame);
  json_builder_set_member_name (b, "outside");
  json_builder_add_boolean_value (b, outside);
  json_builder_set_member_name (b, "occluded");
  json_builder_add_boolean_value (b, FALSE);
  json_builder_set_member_name (b, "coords");
  json_builder_begin_array (b);
  json_builder_add_double_value (b, box->box[0]);
  json_builder_add_double_value (b, box->box[1]);
  json_builder_add_double_value (b, box->box[0] + box->box[2]);
  json_builder_add_double_value (b, box->box[1] + box->box[3]);
  json_builder_end_array (b);
  json_builder_end_object (b);
}

/* The keyframes of one track's frames: the start of each run of following
 * frames, every frame interpolation cannot reach, and an outside keyframe
 * after each run that stops before the end (it holds the run's last box:
 * interpolation runs towards it, so a run that ends still needs no
 * keyframe at its last frame). */
static void
add_keyframes (JsonBuilder *b,
               GArray      *frames,
               gint64       n_frames)
{
  const FrameBox *boxes = (const FrameBox *)(gpointer)frames->data;
  guint start = 0;

  while (start < frames->len)
    {
      g_autoptr(GArray) run = g_array_new (FALSE, FALSE, sizeof (FrameBox));
      const FrameBox *r;
      gboolean outside;
      guint end = start, k = 0;

      while (end + 1 < frames->len && boxes[end + 1].frame == boxes[end].frame + 1)
        end++;
      g_array_append_vals (run, &boxes[start], end - start + 1);
      outside = n_frames <= 0 || boxes[end].frame + 1 < n_frames;
      if (outside)
        {
          FrameBox after = boxes[end];

          after.frame++;
          g_array_append_val (run, after);
        }
      r = (const FrameBox *)(gpointer)run->data;

      add_keyframe (b, &r[0], r[0].frame, FALSE);
      while (k + 1 < run->len)
        {
          guint next = k + 1;

          while (next + 1 < run->len && interpolates (r, k, next + 1))
            next++;
          add_keyframe (b, &r[next], r[next].frame, outside && next + 1 == run->len);
          k = next;
        }
      start = end + 1;
    }
}

static JsonArray *
value_tracks (JsonNode *value)
{
  if (value == NULL || JSON_NODE_HOLDS_NULL (value))
    return NULL;
  if (JSON_NODE_HOLDS_ARRAY (value))
    return json_node_get_array (value);
  if (JSON_NODE_HOLDS_OBJECT (value))
    {
      JsonNode *tracks = json_object_get_member (json_node_get_object (value), "tracks");

      if (tracks != NULL && JSON_NODE_HOLDS_ARRAY (tracks))
        return json_node_get_array (tracks);
    }
  return NULL;
}

static gboolean
value_is_valid (JsonNode *value)
{
  JsonArray *tracks;

  if (value == NULL || JSON_NODE_HOLDS_NULL (value))
    return TRUE;
  if ((tracks = value_tracks (value)) == NULL)
    return FALSE;
  for (guint i = 0; i < json_array_get_length (tracks); i++)
    {
      JsonNode *node = json_array_get_element (tracks, i);
      JsonObject *track;
      JsonNode *frames;
      double number;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return FALSE;
      track = json_node_get_object (node);
      if (json_object_has_member (track, "id") && (!kp_av_json_member_number (track, "id", &number) || number < 1))
        return FALSE;
      if (json_object_has_member (track, "label")
          && json_node_get_value_type (json_object_get_member (track, "label")) != G_TYPE_STRING)
        return FALSE;
      frames = json_object_get_member (track, "frames");
      if (frames == NULL || !JSON_NODE_HOLDS_ARRAY (frames))
        return FALSE;
      for (guint j = 0; j < json_array_get_length (json_node_get_array (frames)); j++)
        {
          JsonNode *f = json_array_get_element (json_node_get_array (frames), j);
          const char *names[] = { "frame", "left", "top", "width", "height" };

          if (!JSON_NODE_HOLDS_OBJECT (f))
            return FALSE;
          for (guint c = 0; c < G_N_ELEMENTS (names); c++)
            if (!kp_av_json_member_number (json_node_get_object (f), names[c], &number))
              return FALSE;
          kp_av_json_member_number (json_node_get_object (f), "frame", &number);
          if (number < 0)
            return FALSE;
        }
    }
  return TRUE;
}

/* Builds tracks in kp-tracks' own JSON (which keeps the ids) from a value
 * already checked by value_is_valid (). */
static KpTracks *
tracks_from_value (KpVideoTracker  *self,
                   JsonNode        *value,
                   GError         **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *text = NULL;
  g_autofree char *name = g_file_get_basename (self->file);
  JsonArray *tracks = value_tracks (value);
  gint64 n_frames = kp_video_source_get_n_frames (self->source);
  guint next_id = 1;

  for (guint i = 0; tracks != NULL && i < json_array_get_length (tracks); i++)
    {
      double id = 0;

      kp_av_json_member_number (json_array_get_object_element (tracks, i), "id", &id);
      next_id = MAX (next_id, (guint)id + 1);
    }

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, 1);
  json_builder_set_member_name (b, "video");
  json_builder_add_string_value (b, name);
  json_builder_set_member_name (b, "frames");
  json_builder_add_int_value (b, n_frames);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, kp_video_source_get_width (self->source));
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, kp_video_source_get_height (self->source));
  json_builder_set_member_name (b, "tracks");
  json_builder_begin_array (b);
  for (guint i = 0; tracks != NULL && i < json_array_get_length (tracks); i++)
    {
      JsonObject *track = json_array_get_object_element (tracks, i);
      JsonArray *frames = json_object_get_array_member (track, "frames");
      g_autoptr(GArray) boxes = g_array_new (FALSE, FALSE, sizeof (FrameBox));
      double id = 0;

      if (!kp_av_json_member_number (track, "id", &id))
        id = next_id++;
      for (guint j = 0; j < json_array_get_length (frames); j++)
        {
          JsonObject *f = json_array_get_object_element (frames, j);
          FrameBox box;
          double frame;

          kp_av_json_member_number (f, "frame", &frame);
          kp_av_json_member_number (f, "left", &box.box[0]);
          kp_av_json_member_number (f, "top", &box.box[1]);
          kp_av_json_member_number (f, "width", &box.box[2]);
          kp_av_json_member_number (f, "height", &box.box[3]);
          box.frame = (gint64)frame;
          if (n_frames > 0 && box.frame >= n_frames)
            continue;
          g_array_append_val (boxes, box);
        }
      g_array_sort (boxes, compare_frames);
      /* One box per frame: the last given wins. */
      for (guint j = 1; j < boxes->len;)
        if (g_array_index (boxes, FrameBox, j).frame == g_array_index (boxes, FrameBox, j - 1).frame)
          g_array_remove_index (boxes, j - 1);
        else
          j++;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_int_value (b, (gint64)id);
      json_builder_set_member_name (b, "label");
      json_builder_add_string_value (b, json_object_get_string_member_with_default (track, "label", ""));
      json_builder_set_member_name (b, "shape");
      json_builder_add_string_value (b, "box");
      json_builder_set_member_name (b, "keyframes");
      json_builder_begin_array (b);
      add_keyframes (b, boxes, n_frames);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "attributes");
      json_builder_begin_object (b);
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (generator, root);
  text = json_generator_to_data (generator, NULL);
  return kp_tracks_new_from_json (text, -1, error);
}

static gboolean
apply_value (KpVideoTracker *self,
             JsonNode       *value)
{
  g_autoptr(KpTracks) tracks = NULL;
  g_autoptr(GError) error = NULL;

  tracks = tracks_from_value (self, value, &error);
  if (tracks == NULL)
    {
      /* A value of the right shape whose numbers kp-tracks refuses. */
      g_debug ("Could not restore the tracks: %s", error->message);
      return FALSE;
    }
  self->setting = TRUE;
  set_tracks (self, tracks);
  self->setting = FALSE;
  g_signal_emit (self, signals[CHANGED], 0);
  return TRUE;
}

/* Tracks → value */

JsonNode *
kp_video_tracker_dup_value (KpVideoTracker *self)
{
  g_autoptr(JsonBuilder) b = NULL;
  guint n;

  g_return_val_if_fail (KP_IS_VIDEO_TRACKER (self), NULL);

  if (self->tracks == NULL)
    {
      if (self->pending != NULL)
        return json_node_copy (self->pending);
      b = json_builder_new ();
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "tracks");
      json_builder_begin_array (b);
      json_builder_end_array (b);
      json_builder_end_object (b);
      return json_builder_get_root (b);
    }

  b = json_builder_new ();
  n = g_list_model_get_n_items (G_LIST_MODEL (self->tracks));
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "tracks");
  json_builder_begin_array (b);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(KpTrack) track = g_list_model_get_item (G_LIST_MODEL (self->tracks), i);
      guint n_keys;
      const gint64 *keys = kp_track_get_keyframes (track, &n_keys);
      gint64 n_frames = kp_tracks_get_n_frames (self->tracks);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_int_value (b, kp_track_get_id (track));
      json_builder_set_member_name (b, "label");
      json_builder_add_string_value (b, kp_track_get_label (track));
      json_builder_set_member_name (b, "frames");
      json_builder_begin_array (b);
      for (gint64 f = n_keys > 0 ? keys[0] : n_frames; f < n_frames; f++)
        {
          g_autoptr(KpTrackShape) shape = kp_track_get_shape (track, f);
          double x, y, w, h;

          if (shape == NULL || shape->outside)
            continue;
          kp_track_shape_get_bounds (shape, &x, &y, &w, &h);
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "frame");
          json_builder_add_int_value (b, f);
          json_builder_set_member_name (b, "left");
          json_builder_add_int_value (b, lround (x));
          json_builder_set_member_name (b, "top");
          json_builder_add_int_value (b, lround (y));
          json_builder_set_member_name (b, "width");
          json_builder_add_int_value (b, lround (w));
          json_builder_set_member_name (b, "height");
          json_builder_add_int_value (b, lround (h));
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

gboolean
kp_video_tracker_set_value (KpVideoTracker *self,
                            JsonNode       *value)
{
  g_return_val_if_fail (KP_IS_VIDEO_TRACKER (self), FALSE);

  if (!value_is_valid (value))
    return FALSE;
  if (self->source == NULL)
    {
      g_clear_pointer (&self->pending, json_node_unref);
      if (value != NULL && !JSON_NODE_HOLDS_NULL (value))
        self->pending = json_node_copy (value);
      g_signal_emit (self, signals[CHANGED], 0);
      return TRUE;
    }
  return apply_value (self, value);
}

const GError *
kp_video_tracker_get_error (KpVideoTracker *self)
{
  g_return_val_if_fail (KP_IS_VIDEO_TRACKER (self), NULL);

  return self->error;
}

KpTracks *
kp_video_tracker_get_tracks (KpVideoTracker *self)
{
  g_return_val_if_fail (KP_IS_VIDEO_TRACKER (self), NULL);

  return self->tracks;
}

GtkWidget *
kp_video_tracker_get_frame_view (KpVideoTracker *self)
{
  g_return_val_if_fail (KP_IS_VIDEO_TRACKER (self), NULL);

  return self->frame_view;
}

GtkWidget *
kp_video_tracker_get_timeline (KpVideoTracker *self)
{
  g_return_val_if_fail (KP_IS_VIDEO_TRACKER (self), NULL);

  return self->timeline;
}

/* Opening */

static void
source_opened_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(KpVideoTracker) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(KpVideoSource) source = kp_video_source_open_finish (result, &error);
  g_autoptr(JsonNode) pending = NULL;

  if (source == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_error (self, error);
      return;
    }
  if (self->frame_view == NULL)
    return;
  self->source = g_object_ref (source);
  kp_frame_view_set_source (KP_FRAME_VIEW (self->frame_view), source);
  kp_timeline_set_source (KP_TIMELINE (self->timeline), source);
  pending = g_steal_pointer (&self->pending);
  if (pending != NULL)
    apply_value (self, pending);
  else
    {
      g_autofree char *name = g_file_get_basename (self->file);
      g_autoptr(KpTracks) tracks = kp_tracks_new (name, kp_video_source_get_n_frames (source),
                                                  kp_video_source_get_width (source),
                                                  kp_video_source_get_height (source));

      set_tracks (self, tracks);
    }
  gtk_widget_set_sensitive (self->box, TRUE);
}

static void
frame_changed_cb (KpVideoTracker *self)
{
  update_labels (self);
}

/* The chooser names the label of new tracks and, while a track is
 * selected, relabels it. */
static void
new_label_cb (KpVideoTracker *self)
{
  GtkStringObject *item = gtk_drop_down_get_selected_item (GTK_DROP_DOWN (self->label_dropdown));
  guint id = kp_frame_view_get_selected_track (KP_FRAME_VIEW (self->frame_view));
  KpTrack *track = self->tracks != NULL && id != 0 ? kp_tracks_get_track (self->tracks, id) : NULL;
  const char *label;

  if (item == NULL)
    return;
  label = gtk_string_object_get_string (item);
  kp_frame_view_set_new_label (KP_FRAME_VIEW (self->frame_view), label);
  if (track != NULL && !self->setting && g_strcmp0 (kp_track_get_label (track), label) != 0)
    kp_track_set_label (track, label);
}

static void
selected_track_cb (KpVideoTracker *self)
{
  guint id = kp_frame_view_get_selected_track (KP_FRAME_VIEW (self->frame_view));
  KpTrack *track = self->tracks != NULL && id != 0 ? kp_tracks_get_track (self->tracks, id) : NULL;
  GListModel *names = gtk_drop_down_get_model (GTK_DROP_DOWN (self->label_dropdown));

  if (track == NULL)
    return;
  for (guint i = 0; i < g_list_model_get_n_items (names); i++)
    if (g_strcmp0 (gtk_string_list_get_string (GTK_STRING_LIST (names), i), kp_track_get_label (track)) == 0)
      {
        gboolean setting = self->setting;

        /* Showing the track's label is not relabelling it. */
        self->setting = TRUE;
        gtk_drop_down_set_selected (GTK_DROP_DOWN (self->label_dropdown), i);
        self->setting = setting;
        kp_frame_view_set_new_label (KP_FRAME_VIEW (self->frame_view), kp_track_get_label (track));
      }
}

static void
forward_action (GtkWidget  *widget,
                const char *name,
                GVariant   *param)
{
  KpVideoTracker *self = KP_VIDEO_TRACKER (widget);

  if (self->source != NULL)
    kp_av_forward_to_timeline (self->timeline, name);
}

static void
delete_track_action (GtkWidget  *widget,
                     const char *name,
                     GVariant   *param)
{
  KpVideoTracker *self = KP_VIDEO_TRACKER (widget);
  guint id = kp_frame_view_get_selected_track (KP_FRAME_VIEW (self->frame_view));

  if (self->tracks == NULL || id == 0 || !kp_tracks_remove_track (self->tracks, id))
    {
      gtk_widget_error_bell (widget);
      return;
    }
  kp_frame_view_set_selected_track (KP_FRAME_VIEW (self->frame_view), 0);
}

static void
start_loading (KpVideoTracker *self)
{
  g_clear_pointer (&self->remote_button, gtk_widget_unparent);
  kp_video_source_open_async (self->file, self->cancellable, source_opened_cb, g_object_ref (self));
}

GtkWidget *
kp_video_tracker_new (const char         *src,
                      GFile              *base,
                      const char * const *labels,
                      const char         *header)
{
  KpVideoTracker *self = g_object_new (KP_TYPE_VIDEO_TRACKER, NULL);
  g_autoptr(GtkStringList) names = gtk_string_list_new (NULL);
  GtkWidget *bar;

  self->error_label = kp_av_element_begin (self->box, header);

  self->frame_view = kp_frame_view_new ();
  gtk_widget_set_size_request (self->frame_view, 320, 200);
  gtk_widget_set_vexpand (self->frame_view, TRUE);
  self->timeline = kp_av_timeline_new_for (self->frame_view);
  g_signal_connect_object (self->timeline, "notify::frame", G_CALLBACK (frame_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->frame_view, "notify::selected-track", G_CALLBACK (selected_track_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_box_append (GTK_BOX (self->box), self->frame_view);
  gtk_box_append (GTK_BOX (self->box), self->timeline);

  bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_append (GTK_BOX (bar), kp_av_icon_button ("go-previous-symbolic", _("Previous Frame (Left or ,)"),
                                                    "tracker.previous-frame"));
  gtk_box_append (GTK_BOX (bar), kp_av_icon_button ("media-playback-start-symbolic", _("Play or Pause (Space)"),
                                                    "tracker.play-pause"));
  gtk_box_append (GTK_BOX (bar), kp_av_icon_button ("go-next-symbolic", _("Next Frame (Right or .)"),
                                                    "tracker.next-frame"));
  self->frame_label = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->frame_label, "numeric");
  gtk_box_append (GTK_BOX (bar), self->frame_label);

  for (guint i = 0; labels != NULL && labels[i] != NULL; i++)
    gtk_string_list_append (names, labels[i]);
  if (g_list_model_get_n_items (G_LIST_MODEL (names)) == 0)
    gtk_string_list_append (names, "");
  self->label_dropdown = gtk_drop_down_new (G_LIST_MODEL (g_object_ref (names)), NULL);
  gtk_widget_set_tooltip_text (self->label_dropdown, _("Label of New Tracks"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->label_dropdown), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Label of New Tracks"), -1);
  gtk_widget_set_visible (self->label_dropdown, labels != NULL && labels[0] != NULL && labels[1] != NULL);
  g_signal_connect_swapped (self->label_dropdown, "notify::selected", G_CALLBACK (new_label_cb), self);
  new_label_cb (self);
  gtk_box_append (GTK_BOX (bar), self->label_dropdown);

  self->summary_label = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->summary_label, "dim-label");
  gtk_label_set_xalign (GTK_LABEL (self->summary_label), 0);
  /* Wrapping beside buttons confuses height-for-width: ellipsize. */
  gtk_label_set_ellipsize (GTK_LABEL (self->summary_label), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (self->summary_label, TRUE);
  gtk_box_append (GTK_BOX (bar), self->summary_label);
  gtk_box_append (GTK_BOX (bar), kp_av_icon_button ("edit-delete-symbolic", _("Delete the Selected Track (Delete)"),
                                                    "tracker.delete-track"));
  gtk_box_append (GTK_BOX (self->box), bar);
  update_labels (self);

  self->file = kp_layout_resolve_src (src, base);
  if (self->file == NULL)
    {
      g_autoptr(GError) error = g_error_new (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                             _("The element has no src"));

      show_error (self, error);
      return GTK_WIDGET (self);
    }
  /* Remote media is fetched only when the person asks for it: building a
   * layout never touches the network by itself. */
  if (!g_file_is_native (self->file))
    {
      self->remote_button = gtk_button_new_with_mnemonic (_("_Load Remote Video"));
      gtk_widget_set_tooltip_text (self->remote_button, src);
      gtk_widget_set_halign (self->remote_button, GTK_ALIGN_CENTER);
      gtk_widget_set_valign (self->remote_button, GTK_ALIGN_CENTER);
      g_signal_connect_swapped (self->remote_button, "clicked", G_CALLBACK (start_loading), self);
      gtk_widget_set_parent (self->remote_button, GTK_WIDGET (self));
      return GTK_WIDGET (self);
    }
  start_loading (self);
  return GTK_WIDGET (self);
}

static void
kp_video_tracker_dispose (GObject *object)
{
  KpVideoTracker *self = KP_VIDEO_TRACKER (object);

  g_cancellable_cancel (self->cancellable);
  if (self->tracks != NULL)
    g_signal_handlers_disconnect_by_data (self->tracks, self);
  if (self->timeline != NULL)
    kp_timeline_set_playing (KP_TIMELINE (self->timeline), FALSE);
  self->frame_view = NULL;
  self->timeline = NULL;
  g_clear_pointer (&self->remote_button, gtk_widget_unparent);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  g_clear_object (&self->tracks);
  g_clear_object (&self->source);
  g_clear_object (&self->file);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->pending, json_node_unref);

  G_OBJECT_CLASS (kp_video_tracker_parent_class)->dispose (object);
}

static void
kp_video_tracker_finalize (GObject *object)
{
  KpVideoTracker *self = KP_VIDEO_TRACKER (object);

  g_clear_error (&self->error);

  G_OBJECT_CLASS (kp_video_tracker_parent_class)->finalize (object);
}

static void
kp_video_tracker_class_init (KpVideoTrackerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  static const char * const forwarded[] = {
    "tracker.next-frame", "tracker.previous-frame", "tracker.play-pause", "tracker.add-keyframe",
  };

  object_class->dispose = kp_video_tracker_dispose;
  object_class->finalize = kp_video_tracker_finalize;

  signals[CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  for (guint i = 0; i < G_N_ELEMENTS (forwarded); i++)
    gtk_widget_class_install_action (widget_class, forwarded[i], NULL, forward_action);
  gtk_widget_class_install_action (widget_class, "tracker.delete-track", NULL, delete_track_action);
  kp_av_add_frame_bindings (widget_class, "tracker");

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "kp-video-tracker");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
kp_video_tracker_init (KpVideoTracker *self)
{
  self->cancellable = g_cancellable_new ();
  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
  gtk_widget_set_sensitive (self->box, FALSE);
}
