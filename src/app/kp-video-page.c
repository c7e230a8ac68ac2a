/* kp-video-page.c: the workstation's page for one video file of a project
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A KpFrameView over a KpTimeline, a transport bar, and beside them the
 * tracks with an editor for the selected one: its label, the outside and
 * occluded flags and the attributes at the current frame, keyframe and
 * propagation buttons. Tracks are saved as JSON (kp-tracks) in the store's
 * folder, video/<media id>.tracks.json, after every edit; the undo history
 * (snapshots of that JSON) is saved beside them when the page unloads.
 */

#include "config.h"

#include "kp-video-page.h"
#include "kp-video-page-private.h"

#include <errno.h>
#include <string.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "kp-av-common.h"
#include "kp-av-history.h"
#include "kp-frame-view.h"
#include "kp-timeline.h"
#include "kp-video.h"

struct _KpVideoPage
{
  GtkWidget      parent_instance;

  GtkWidget     *box;
  GtkWidget     *error_revealer;
  GtkWidget     *error_label;
  GtkWidget     *status_label;
  GtkWidget     *frame_view;
  GtkWidget     *timeline;
  GtkWidget     *frame_label;
  GtkWidget     *play_button;
  GtkWidget     *label_dropdown;
  GtkWidget     *shape_dropdown;
  GtkStringList *label_names;
  GtkWidget     *list_view;
  GtkSingleSelection *selection;
  GtkWidget     *editor;
  GtkWidget     *track_label_entry;
  GtkWidget     *outside_button;
  GtkWidget     *occluded_button;
  GtkWidget     *keyframe_label;
  GtkWidget     *propagate_spin;
  GtkWidget     *attributes_box;
  GtkWidget     *attr_name_entry;
  GtkWidget     *attr_value_entry;

  KpStore       *store;
  KpMedia       *media;
  GFile         *file;
  KpVideoSource *source;
  KpTracks      *tracks;
  GCancellable  *cancellable;
  GError        *error;
  char          *tracks_path;

  KpAvHistory    history;
  guint          commit_source;
  gboolean       restoring;
  gboolean       filling_editor;
  GPtrArray     *bound_items; /* GtkListItem *, unowned */
};

enum {
  PROP_0,
  PROP_CAN_UNDO,
  PROP_CAN_REDO,
  N_PROPS
};

enum {
  ERROR,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (KpVideoPage, kp_video_page, GTK_TYPE_WIDGET)

static const struct
{
  const char *id;
  const char *suffix;
  const char *name;
} formats[] = {
  { "mot", "-mot.txt", N_("MOT Challenge") },
  { "cvat", "-cvat.xml", N_("CVAT Video XML") },
  { "coco", "-coco.json", N_("COCO") },
  { "gt", "-SeqLabel.json", N_("Ground Truth Video Tracking") },
};

static void refill_editor (KpVideoPage *self);
static void update_row (GtkWidget *row,
                        KpTrack   *track);
static void refresh_rows (KpVideoPage *self);

/* Errors */

static void
show_error (KpVideoPage  *self,
            const GError *error)
{
  g_autofree char *text = NULL;

  if (!kp_av_keep_error (&self->error, error))
    return;
  if (g_error_matches (error, KP_VIDEO_ERROR, KP_VIDEO_ERROR_MISSING_PLUGIN))
    text = g_strdup_printf (_("This video cannot be played: %s"), error->message);
  else
    text = g_strdup_printf (_("This video cannot be read: %s"), error->message);
  gtk_label_set_text (GTK_LABEL (self->error_label), text);
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->error_revealer), TRUE);
  gtk_label_set_text (GTK_LABEL (self->status_label), "");
  g_signal_emit (self, signals[ERROR], 0, error);
}

#define report(self, ...) kp_av_report ((self)->status_label, __VA_ARGS__)

/* Persistence and undo */

static void
save_tracks (KpVideoPage *self)
{
  g_autoptr(GError) error = NULL;

  if (self->tracks == NULL || self->tracks_path == NULL)
    return;
  if (!kp_tracks_save (self->tracks, self->tracks_path, &error))
    report (self, _("The tracks could not be saved: %s"), error->message);
}

static void
notify_undo (KpVideoPage *self)
{
  kp_av_history_save_later (&self->history);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_UNDO]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_REDO]);
}

static void
commit (KpVideoPage *self)
{
  g_autofree char *text = NULL;

  g_clear_handle_id (&self->commit_source, g_source_remove);
  if (self->tracks == NULL)
    return;
  text = kp_tracks_to_json (self->tracks);
  if (kp_av_history_push (&self->history, text))
    {
      save_tracks (self);
      notify_undo (self);
    }
}

/* The changes one action makes (a track added, then its first keyframe)
 * are recorded together once the main loop is idle. */
static gboolean
commit_cb (gpointer data)
{
  KpVideoPage *self = data;

  self->commit_source = 0;
  commit (self);
  return G_SOURCE_REMOVE;
}

static void
tracks_changed_cb (KpVideoPage *self)
{
  if (self->restoring)
    return;
  if (self->commit_source == 0)
    self->commit_source = g_idle_add (commit_cb, self);
  refill_editor (self);
  refresh_rows (self);
}

static void
set_tracks (KpVideoPage *self,
            KpTracks    *tracks)
{
  guint selected = kp_frame_view_get_selected_track (KP_FRAME_VIEW (self->frame_view));

  if (self->tracks != NULL)
    g_signal_handlers_disconnect_by_data (self->tracks, self);
  g_set_object (&self->tracks, tracks);
  if (tracks != NULL)
    g_signal_connect_object (tracks, "changed", G_CALLBACK (tracks_changed_cb), self, G_CONNECT_SWAPPED);
  kp_frame_view_set_tracks (KP_FRAME_VIEW (self->frame_view), tracks);
  kp_timeline_set_tracks (KP_TIMELINE (self->timeline), tracks);
  gtk_single_selection_set_model (self->selection, G_LIST_MODEL (tracks));
  /* Keep the selection when the track still exists. */
  if (tracks == NULL || kp_tracks_get_track (tracks, selected) == NULL)
    selected = 0;
  kp_frame_view_set_selected_track (KP_FRAME_VIEW (self->frame_view), 0);
  kp_frame_view_set_selected_track (KP_FRAME_VIEW (self->frame_view), selected);
  refill_editor (self);
}

static void
restore (KpVideoPage *self,
         const char  *text)
{
  g_autoptr(KpTracks) tracks = NULL;
  g_autoptr(GError) error = NULL;

  tracks = kp_tracks_new_from_json (text, -1, &error);
  if (tracks == NULL)
    {
      report (self, _("This step could not be restored: %s"), error->message);
      return;
    }
  self->restoring = TRUE;
  set_tracks (self, tracks);
  self->restoring = FALSE;
  save_tracks (self);
  notify_undo (self);
}

static gboolean
step (KpVideoPage *self,
      int          delta)
{
  const char *text = kp_av_history_step (&self->history, delta);

  if (text == NULL)
    return FALSE;
  restore (self, text);
  return TRUE;
}

/* The selected track */

static KpTrack *
selected_track (KpVideoPage *self)
{
  guint id = kp_frame_view_get_selected_track (KP_FRAME_VIEW (self->frame_view));

  return self->tracks != NULL && id != 0 ? kp_tracks_get_track (self->tracks, id) : NULL;
}

static gint64
current_frame (KpVideoPage *self)
{
  return kp_timeline_get_frame (KP_TIMELINE (self->timeline));
}

static void
update_frame_label (KpVideoPage *self)
{
  g_autofree char *text = NULL;
  gint64 frame = current_frame (self);

  if (self->source == NULL)
    {
      gtk_label_set_text (GTK_LABEL (self->frame_label), "");
      return;
    }
  {
    gint64 pts = kp_video_source_get_frame_pts (self->source, frame)
                 - kp_video_source_get_frame_pts (self->source, 0);
    int ms = (int)(pts / 1000000 % 1000);
    int s = (int)(pts / 1000000000 % 60);
    int m = (int)(pts / (G_GINT64_CONSTANT (60) * 1000000000));
    g_autofree char *number = g_strdup_printf ("%" G_GINT64_FORMAT, frame + 1);
    g_autofree char *total = g_strdup_printf ("%" G_GINT64_FORMAT, kp_video_source_get_n_frames (self->source));
    g_autofree char *time = g_strdup_printf ("%d:%02d.%03d", m, s, ms);

    /* Translators: frame number (from 1) of how many, then the time */
    text = g_strdup_printf (_("Frame %s of %s · %s"), number, total, time);
  }
  gtk_label_set_text (GTK_LABEL (self->frame_label), text);
}

static void
remove_attribute_cb (GtkButton   *button,
                     KpVideoPage *self)
{
  KpTrack *track = selected_track (self);

  if (track != NULL)
    kp_track_set_attribute (track, current_frame (self), kp_av_attribute_name (button), NULL);
}

static void
attribute_activate_cb (GtkEntry    *entry,
                       KpVideoPage *self)
{
  KpTrack *track = selected_track (self);
  g_autofree char *value = g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry)));

  if (track != NULL && !self->filling_editor)
    kp_track_set_attribute (track, current_frame (self), kp_av_attribute_name (entry), value);
}

static void
refill_editor (KpVideoPage *self)
{
  KpTrack *track;
  g_autoptr(KpTrackShape) shape = NULL;
  g_auto(GStrv) names = NULL;
  gint64 frame;

  if (self->editor == NULL)
    return;
  track = selected_track (self);
  frame = current_frame (self);
  if (track != NULL)
    shape = kp_track_get_shape (track, frame);

  self->filling_editor = TRUE;
  gtk_widget_set_sensitive (self->editor, track != NULL);
  if (gtk_widget_get_focus_child (self->track_label_entry) == NULL || track == NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->track_label_entry), track ? kp_track_get_label (track) : "");
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->outside_button), shape != NULL && shape->outside);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->occluded_button), shape != NULL && shape->occluded);
  gtk_widget_set_sensitive (self->outside_button, shape != NULL);
  gtk_widget_set_sensitive (self->occluded_button, shape != NULL);
  if (track == NULL)
    gtk_label_set_text (GTK_LABEL (self->keyframe_label), "");
  else if (shape == NULL)
    gtk_label_set_text (GTK_LABEL (self->keyframe_label), _("Not started at this frame"));
  else if (kp_track_is_keyframe (track, frame))
    gtk_label_set_text (GTK_LABEL (self->keyframe_label), _("Keyframe"));
  else
    gtk_label_set_text (GTK_LABEL (self->keyframe_label), _("Interpolated"));

  kp_av_box_remove_all (self->attributes_box);
  if (track != NULL)
    names = kp_track_dup_attribute_names (track);
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    gtk_box_append (GTK_BOX (self->attributes_box),
                    kp_av_attribute_row_new (names[i], kp_track_get_attribute (track, frame, names[i]),
                                             _("Unset From This Frame On"), G_CALLBACK (attribute_activate_cb),
                                             G_CALLBACK (remove_attribute_cb), self));
  self->filling_editor = FALSE;
}

static void
playing_cb (KpVideoPage *self)
{
  gboolean playing = kp_timeline_get_playing (KP_TIMELINE (self->timeline));

  gtk_button_set_icon_name (GTK_BUTTON (self->play_button),
                            playing ? "media-playback-pause-symbolic" : "media-playback-start-symbolic");
  if (!playing)
    refill_editor (self);
}

static void
frame_changed_cb (KpVideoPage *self)
{
  update_frame_label (self);
  /* While playing, the editor catches up when playback stops. */
  if (!kp_timeline_get_playing (KP_TIMELINE (self->timeline)))
    refill_editor (self);
}

static void
selected_track_cb (KpVideoPage *self)
{
  guint id = kp_frame_view_get_selected_track (KP_FRAME_VIEW (self->frame_view));
  guint n = self->tracks != NULL ? g_list_model_get_n_items (G_LIST_MODEL (self->tracks)) : 0;
  guint position = GTK_INVALID_LIST_POSITION;

  for (guint i = 0; i < n && id != 0; i++)
    {
      g_autoptr(KpTrack) track = g_list_model_get_item (G_LIST_MODEL (self->tracks), i);

      if (kp_track_get_id (track) == id)
        position = i;
    }
  if (position != gtk_single_selection_get_selected (self->selection))
    gtk_single_selection_set_selected (self->selection, position);
  refill_editor (self);
}

static void
selection_changed_cb (KpVideoPage *self)
{
  KpTrack *track = gtk_single_selection_get_selected_item (self->selection);

  if (track != NULL)
    kp_frame_view_set_selected_track (KP_FRAME_VIEW (self->frame_view), kp_track_get_id (track));
}

static void
track_label_activate_cb (KpVideoPage *self)
{
  KpTrack *track = selected_track (self);
  g_autofree char *label = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->track_label_entry)));

  if (track != NULL && !self->filling_editor && g_strcmp0 (label, kp_track_get_label (track)) != 0)
    kp_track_set_label (track, label);
}

static void
track_label_leave_cb (KpVideoPage *self)
{
  track_label_activate_cb (self);
}

/* Sets the flag at the current frame as a keyframe of the shape there. */
static void
set_flag (KpVideoPage *self,
          gboolean     outside,
          gboolean     value)
{
  KpTrack *track = selected_track (self);
  g_autoptr(KpTrackShape) shape = NULL;
  g_autoptr(GError) error = NULL;

  if (self->filling_editor)
    return;
  if (track == NULL || (shape = kp_track_get_shape (track, current_frame (self))) == NULL)
    {
      gtk_widget_error_bell (GTK_WIDGET (self));
      return;
    }
  if (outside)
    shape->outside = value;
  else
    shape->occluded = value;
  shape->keyframe = TRUE;
  if (!kp_track_set_keyframe (track, shape, &error))
    g_warning ("%s", error->message);
}

static void
outside_toggled_cb (KpVideoPage *self)
{
  set_flag (self, TRUE, gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->outside_button)));
}

static void
occluded_toggled_cb (KpVideoPage *self)
{
  set_flag (self, FALSE, gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->occluded_button)));
}

static void
add_attribute_cb (KpVideoPage *self)
{
  KpTrack *track = selected_track (self);
  g_autofree char *name = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->attr_name_entry)));
  g_autofree char *value = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->attr_value_entry)));

  if (track == NULL || *name == '\0')
    {
      gtk_widget_error_bell (GTK_WIDGET (self));
      return;
    }
  kp_track_set_attribute (track, current_frame (self), name, value);
  gtk_editable_set_text (GTK_EDITABLE (self->attr_name_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->attr_value_entry), "");
}

static void
new_label_cb (KpVideoPage *self)
{
  GtkStringObject *item = gtk_drop_down_get_selected_item (GTK_DROP_DOWN (self->label_dropdown));

  if (item != NULL)
    kp_frame_view_set_new_label (KP_FRAME_VIEW (self->frame_view), gtk_string_object_get_string (item));
}

static void
new_shape_cb (KpVideoPage *self)
{
  guint selected = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->shape_dropdown));

  if (selected <= KP_TRACK_SHAPE_POINTS)
    kp_frame_view_set_new_shape (KP_FRAME_VIEW (self->frame_view), (KpTrackShapeType)selected);
}

/* Actions */

static void
forward_action (GtkWidget  *widget,
                const char *name,
                GVariant   *param)
{
  KpVideoPage *self = KP_VIDEO_PAGE (widget);

  if (self->source != NULL)
    kp_av_forward_to_timeline (self->timeline, name);
}

static void
delete_track_action (GtkWidget  *widget,
                     const char *name,
                     GVariant   *param)
{
  KpVideoPage *self = KP_VIDEO_PAGE (widget);
  KpTrack *track = selected_track (self);

  if (track == NULL)
    {
      gtk_widget_error_bell (widget);
      return;
    }
  kp_tracks_remove_track (self->tracks, kp_track_get_id (track));
  kp_frame_view_set_selected_track (KP_FRAME_VIEW (self->frame_view), 0);
}

static void
remove_keyframe_action (GtkWidget  *widget,
                        const char *name,
                        GVariant   *param)
{
  KpVideoPage *self = KP_VIDEO_PAGE (widget);
  KpTrack *track = selected_track (self);

  if (track == NULL || !kp_track_remove_keyframe (track, current_frame (self)))
    gtk_widget_error_bell (widget);
}

static void
propagate_action (GtkWidget  *widget,
                  const char *name,
                  GVariant   *param)
{
  KpVideoPage *self = KP_VIDEO_PAGE (widget);
  KpTrack *track = selected_track (self);
  g_autoptr(KpTrackShape) shape = NULL;
  int n = gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->propagate_spin));

  if (track == NULL || (shape = kp_track_get_shape (track, current_frame (self))) == NULL || n < 1)
    {
      gtk_widget_error_bell (widget);
      return;
    }
  kp_track_propagate (track, current_frame (self), n);
}

static void
undo_action (GtkWidget  *widget,
             const char *name,
             GVariant   *param)
{
  if (g_str_equal (name, "video.undo"))
    kp_video_page_undo (KP_VIDEO_PAGE (widget));
  else
    kp_video_page_redo (KP_VIDEO_PAGE (widget));
}

gboolean
_kp_video_page_export (KpVideoPage  *self,
                       const char   *format,
                       const char   *path,
                       GError      **error)
{
  g_autofree char *text = NULL;

  g_return_val_if_fail (KP_IS_VIDEO_PAGE (self), FALSE);

  if (self->tracks == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("No video file is open"));
      return FALSE;
    }
  if (g_str_equal (format, "mot"))
    text = kp_tracks_export_mot (self->tracks);
  else if (g_str_equal (format, "cvat"))
    text = kp_tracks_export_cvat_xml (self->tracks);
  else if (g_str_equal (format, "coco"))
    text = kp_tracks_export_coco (self->tracks);
  else if (g_str_equal (format, "gt"))
    text = kp_tracks_export_ground_truth (self->tracks);
  else
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("Unknown export format “%s”"), format);
      return FALSE;
    }
  return g_file_set_contents (path, text, -1, error);
}

static gboolean
export_file (GtkWidget   *page,
             const char  *format,
             const char  *path,
             GError     **error)
{
  return _kp_video_page_export (KP_VIDEO_PAGE (page), format, path, error);
}

static void
export_action (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  KpVideoPage *self = KP_VIDEO_PAGE (widget);
  const char *id = g_variant_get_string (param, NULL);
  g_autofree char *suggested = NULL;

  if (self->media == NULL)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    if (g_str_equal (formats[i].id, id))
      suggested = kp_av_suggest_name (self->media->path, formats[i].suffix);
  if (suggested == NULL)
    return;
  kp_av_file_dialog_show (widget, self->status_label, GTK_FILE_CHOOSER_ACTION_SAVE, _("Export Tracks"),
                          _("_Export"), suggested, id, export_file);
}

/* Tracks list */

static void
update_row (GtkWidget *row,
            KpTrack   *track)
{
  GtkWidget *id = gtk_widget_get_first_child (row);
  GtkWidget *label = gtk_widget_get_next_sibling (id);
  GtkWidget *keys = gtk_widget_get_next_sibling (label);
  g_autofree char *id_text = g_strdup_printf ("#%u", kp_track_get_id (track));
  g_autofree char *keys_text = NULL;
  guint n = kp_track_get_n_keyframes (track);

  keys_text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u keyframe", "%u keyframes", n), n);
  gtk_label_set_text (GTK_LABEL (id), id_text);
  gtk_label_set_text (GTK_LABEL (label), kp_track_get_label (track));
  gtk_label_set_text (GTK_LABEL (keys), keys_text);
}

static void
setup_row_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *item,
              gpointer                  data)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *id = gtk_label_new (NULL);
  GtkWidget *label = gtk_label_new (NULL);
  GtkWidget *keys = gtk_label_new (NULL);

  gtk_label_set_width_chars (GTK_LABEL (id), 4);
  gtk_label_set_xalign (GTK_LABEL (id), 0);
  gtk_widget_add_css_class (id, "numeric");
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (keys, "dim-label");
  gtk_box_append (GTK_BOX (row), id);
  gtk_box_append (GTK_BOX (row), label);
  gtk_box_append (GTK_BOX (row), keys);
  gtk_list_item_set_child (item, row);
}

static void
bind_row_cb (GtkSignalListItemFactory *factory,
             GtkListItem              *item,
             KpVideoPage              *self)
{
  update_row (gtk_list_item_get_child (item), gtk_list_item_get_item (item));
  g_ptr_array_add (self->bound_items, item);
}

static void
unbind_row_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *item,
               KpVideoPage              *self)
{
  g_ptr_array_remove_fast (self->bound_items, item);
}

/* The rows show keyframe counts and labels, which change without the
 * model's items changing: the bound rows are refreshed on every edit. */
static void
refresh_rows (KpVideoPage *self)
{
  for (guint i = 0; i < self->bound_items->len; i++)
    {
      GtkListItem *item = g_ptr_array_index (self->bound_items, i);

      if (gtk_list_item_get_item (item) != NULL)
        update_row (gtk_list_item_get_child (item), gtk_list_item_get_item (item));
    }
}

/* Loading */

static void
load_labels (KpVideoPage *self)
{
  g_autoptr(GPtrArray) labels = NULL;
  g_autoptr(GError) error = NULL;

  gtk_string_list_splice (self->label_names, 0, g_list_model_get_n_items (G_LIST_MODEL (self->label_names)),
                          NULL);
  labels = kp_store_list_labels (self->store, &error);
  for (guint i = 0; labels != NULL && i < labels->len; i++)
    gtk_string_list_append (self->label_names, ((KpLabel *)g_ptr_array_index (labels, i))->name);
  if (g_list_model_get_n_items (G_LIST_MODEL (self->label_names)) == 0)
    gtk_string_list_append (self->label_names, "object");
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->label_dropdown), 0);
  new_label_cb (self);
}

static void
source_opened_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(KpVideoPage) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(KpVideoSource) source = kp_video_source_open_finish (result, &error);
  g_autoptr(KpTracks) tracks = NULL;
  g_autofree char *text = NULL;

  if (source == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_error (self, error);
      return;
    }
  if (self->media == NULL || !g_file_equal (kp_video_source_get_file (source), self->file))
    return;

  self->source = g_object_ref (source);
  if (g_file_test (self->tracks_path, G_FILE_TEST_EXISTS))
    {
      tracks = kp_tracks_load (self->tracks_path, &error);
      if (tracks == NULL)
        {
          g_autofree char *aside = g_strconcat (self->tracks_path, ".damaged", NULL);

          g_rename (self->tracks_path, aside);
          report (self, _("The saved tracks could not be read (%s); they were kept as %s"),
                  error->message, aside);
          g_clear_error (&error);
        }
    }
  if (tracks == NULL)
    {
      g_autofree char *name = g_path_get_basename (self->media->path);

      tracks = kp_tracks_new (name, kp_video_source_get_n_frames (source),
                              kp_video_source_get_width (source), kp_video_source_get_height (source));
    }
  text = kp_tracks_to_json (tracks);
  if (!kp_av_history_load (&self->history, self->history.path, text))
    kp_av_history_reset (&self->history, text);

  kp_frame_view_set_source (KP_FRAME_VIEW (self->frame_view), source);
  kp_timeline_set_source (KP_TIMELINE (self->timeline), source);
  kp_timeline_set_frame (KP_TIMELINE (self->timeline), 0);
  set_tracks (self, tracks);
  gtk_widget_set_sensitive (self->box, TRUE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "video.export", TRUE);
  if (g_strcmp0 (gtk_label_get_text (GTK_LABEL (self->status_label)), _("Indexing the video’s frames…")) == 0)
    gtk_label_set_text (GTK_LABEL (self->status_label), kp_video_source_get_codec (source));
  update_frame_label (self);
  notify_undo (self);
}

void
kp_video_page_load (KpVideoPage   *self,
                    KpStore       *store,
                    const KpMedia *media)
{
  g_autofree char *path = NULL;
  g_autofree char *video_dir = NULL;

  g_return_if_fail (KP_IS_VIDEO_PAGE (self));
  g_return_if_fail (KP_IS_STORE (store));
  g_return_if_fail (media != NULL);

  kp_video_page_unload (self);

  self->store = g_object_ref (store);
  self->media = kp_media_copy (media);
  self->cancellable = g_cancellable_new ();
  path = kp_store_dup_media_file (store, media);
  self->file = g_file_new_for_path (path);

  if (!kp_av_annotation_paths (kp_store_get_database_path (store), media->id, "video", ".tracks.json", &video_dir,
                               &self->tracks_path, &self->history.path))
    report (self, _("The tracks cannot be saved in %s: %s"), video_dir, g_strerror (errno));

  load_labels (self);
  gtk_label_set_text (GTK_LABEL (self->status_label), _("Indexing the video’s frames…"));
  kp_video_source_open_async (self->file, self->cancellable, source_opened_cb, g_object_ref (self));
}

void
kp_video_page_unload (KpVideoPage *self)
{
  g_return_if_fail (KP_IS_VIDEO_PAGE (self));

  if (self->tracks != NULL)
    {
      commit (self);
      save_tracks (self);
      kp_av_history_flush (&self->history);
    }
  g_clear_handle_id (&self->commit_source, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);

  if (self->timeline != NULL)
    {
      kp_timeline_set_playing (KP_TIMELINE (self->timeline), FALSE);
      self->restoring = TRUE;
      set_tracks (self, NULL);
      self->restoring = FALSE;
      kp_frame_view_set_source (KP_FRAME_VIEW (self->frame_view), NULL);
      kp_timeline_set_source (KP_TIMELINE (self->timeline), NULL);
    }
  g_clear_object (&self->tracks);
  g_clear_object (&self->source);
  g_clear_object (&self->file);
  g_clear_object (&self->store);
  g_clear_pointer (&self->media, kp_media_free);
  g_clear_pointer (&self->tracks_path, g_free);
  g_clear_error (&self->error);
  kp_av_history_close (&self->history);
  if (self->box != NULL)
    {
      gtk_revealer_set_reveal_child (GTK_REVEALER (self->error_revealer), FALSE);
      gtk_widget_set_sensitive (self->box, FALSE);
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "video.export", FALSE);
      update_frame_label (self);
      notify_undo (self);
    }
}

gboolean
kp_video_page_get_can_undo (KpVideoPage *self)
{
  g_return_val_if_fail (KP_IS_VIDEO_PAGE (self), FALSE);

  if (self->commit_source != 0)
    commit (self);
  return kp_av_history_can_undo (&self->history);
}

gboolean
kp_video_page_get_can_redo (KpVideoPage *self)
{
  g_return_val_if_fail (KP_IS_VIDEO_PAGE (self), FALSE);

  if (self->commit_source != 0)
    commit (self);
  return kp_av_history_can_redo (&self->history);
}

gboolean
kp_video_page_undo (KpVideoPage *self)
{
  g_return_val_if_fail (KP_IS_VIDEO_PAGE (self), FALSE);

  if (self->tracks == NULL)
    return FALSE;
  commit (self);
  return step (self, -1);
}

gboolean
kp_video_page_redo (KpVideoPage *self)
{
  g_return_val_if_fail (KP_IS_VIDEO_PAGE (self), FALSE);

  if (self->tracks == NULL)
    return FALSE;
  commit (self);
  return step (self, 1);
}

GtkWidget *
_kp_video_page_get_frame_view (KpVideoPage *self)
{
  return self->frame_view;
}

GtkWidget *
_kp_video_page_get_timeline (KpVideoPage *self)
{
  return self->timeline;
}

KpTracks *
_kp_video_page_get_tracks (KpVideoPage *self)
{
  return self->tracks;
}

KpVideoSource *
_kp_video_page_get_source (KpVideoPage *self)
{
  return self->source;
}

const GError *
_kp_video_page_get_error (KpVideoPage *self)
{
  return self->error;
}

GtkWidget *
_kp_video_page_get_editor_widget (KpVideoPage *self,
                                  const char  *which)
{
  if (g_str_equal (which, "label"))
    return self->track_label_entry;
  if (g_str_equal (which, "outside"))
    return self->outside_button;
  if (g_str_equal (which, "occluded"))
    return self->occluded_button;
  if (g_str_equal (which, "propagate"))
    return self->propagate_spin;
  if (g_str_equal (which, "attribute-name"))
    return self->attr_name_entry;
  if (g_str_equal (which, "attribute-value"))
    return self->attr_value_entry;
  if (g_str_equal (which, "new-label"))
    return self->label_dropdown;
  if (g_str_equal (which, "new-shape"))
    return self->shape_dropdown;
  if (g_str_equal (which, "status"))
    return self->status_label;
  return NULL;
}

/* GObject */

#define labelled(text, widget) kp_av_labelled ((text), (widget), 10)

static void
build_ui (KpVideoPage *self)
{
  GtkWidget *bar, *paned, *left, *side, *list_scrolled, *menu_button, *row, *button;
  GtkListItemFactory *factory;
  GtkEventController *focus;
  g_autoptr(GMenu) menu = g_menu_new ();
  g_autoptr(GMenu) export_section = g_menu_new ();
  const char *shapes[] = { N_("Boxes"), N_("Polygons"), N_("Points"), NULL };
  g_autoptr(GtkStringList) shape_names = gtk_string_list_new (NULL);

  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));

  self->error_revealer = kp_av_error_revealer_new (&self->error_label);
  gtk_box_append (GTK_BOX (self->box), self->error_revealer);

  /* Transport bar */
  bar = kp_av_bar_new ();
  gtk_box_append (GTK_BOX (bar), kp_av_icon_button ("media-skip-backward-symbolic", _("First Frame (Home)"),
                                                    "video.first-frame"));
  gtk_box_append (GTK_BOX (bar), kp_av_icon_button ("go-previous-symbolic", _("Previous Frame (Left or ,)"),
                                                    "video.previous-frame"));
  self->play_button = kp_av_icon_button ("media-playback-start-symbolic", _("Play or Pause (Space)"),
                                         "video.play-pause");
  gtk_box_append (GTK_BOX (bar), self->play_button);
  gtk_box_append (GTK_BOX (bar), kp_av_icon_button ("go-next-symbolic", _("Next Frame (Right or .)"),
                                                    "video.next-frame"));
  gtk_box_append (GTK_BOX (bar), kp_av_icon_button ("media-skip-forward-symbolic", _("Last Frame (End)"),
                                                    "video.last-frame"));
  self->frame_label = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->frame_label, "numeric");
  gtk_box_append (GTK_BOX (bar), self->frame_label);

  self->label_names = gtk_string_list_new (NULL);
  self->label_dropdown = gtk_drop_down_new (G_LIST_MODEL (g_object_ref (self->label_names)), NULL);
  gtk_widget_set_tooltip_text (self->label_dropdown, _("Label of New Tracks"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->label_dropdown), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Label of New Tracks"), -1);
  g_signal_connect_swapped (self->label_dropdown, "notify::selected", G_CALLBACK (new_label_cb), self);
  gtk_box_append (GTK_BOX (bar), self->label_dropdown);

  for (guint i = 0; shapes[i] != NULL; i++)
    gtk_string_list_append (shape_names, _(shapes[i]));
  self->shape_dropdown = gtk_drop_down_new (G_LIST_MODEL (g_object_ref (shape_names)), NULL);
  gtk_widget_set_tooltip_text (self->shape_dropdown,
                               _("Shape of New Tracks: drag a box; click the points of polygons and "
                                 "points, Enter to finish"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->shape_dropdown), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Shape of New Tracks"), -1);
  g_signal_connect_swapped (self->shape_dropdown, "notify::selected", G_CALLBACK (new_shape_cb), self);
  gtk_box_append (GTK_BOX (bar), self->shape_dropdown);

  self->status_label = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->status_label, "dim-label");
  gtk_widget_set_hexpand (self->status_label, TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->status_label), 1);
  gtk_label_set_ellipsize (GTK_LABEL (self->status_label), PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (bar), self->status_label);

  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autofree char *action = g_strdup_printf ("video.export::%s", formats[i].id);

      g_menu_append (export_section, _(formats[i].name), action);
    }
  g_menu_append_section (menu, _("Export Tracks As"), G_MENU_MODEL (export_section));
  menu_button = gtk_menu_button_new ();
  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (menu_button), "document-save-as-symbolic");
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (menu_button), G_MENU_MODEL (menu));
  gtk_widget_set_tooltip_text (menu_button, _("Export Tracks"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (menu_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Export Tracks"), -1);
  gtk_box_append (GTK_BOX (bar), menu_button);
  gtk_box_append (GTK_BOX (self->box), bar);

  /* Frame and timeline on the left, tracks on the right */
  paned = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
  gtk_widget_set_vexpand (paned, TRUE);
  left = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  self->frame_view = kp_frame_view_new ();
  gtk_widget_set_vexpand (self->frame_view, TRUE);
  gtk_widget_set_hexpand (self->frame_view, TRUE);
  gtk_widget_set_focusable (self->frame_view, TRUE);
  self->timeline = kp_av_timeline_new_for (self->frame_view);
  g_signal_connect_object (self->timeline, "notify::frame", G_CALLBACK (frame_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->timeline, "notify::playing", G_CALLBACK (playing_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->frame_view, "notify::selected-track", G_CALLBACK (selected_track_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_box_append (GTK_BOX (left), self->frame_view);
  gtk_box_append (GTK_BOX (left), self->timeline);
  gtk_paned_set_start_child (GTK_PANED (paned), left);
  gtk_paned_set_resize_start_child (GTK_PANED (paned), TRUE);

  side = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_size_request (side, 300, -1);
  gtk_widget_set_margin_start (side, 6);
  gtk_widget_set_margin_end (side, 6);
  self->selection = gtk_single_selection_new (NULL);
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  g_signal_connect_swapped (self->selection, "notify::selected", G_CALLBACK (selection_changed_cb), self);
  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (setup_row_cb), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row_cb), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_row_cb), self);
  self->list_view = gtk_list_view_new (GTK_SELECTION_MODEL (g_object_ref (self->selection)), factory);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->list_view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Tracks"), -1);
  list_scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (list_scrolled), self->list_view);
  gtk_widget_set_vexpand (list_scrolled, TRUE);
  gtk_box_append (GTK_BOX (side), list_scrolled);

  self->editor = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  self->track_label_entry = gtk_entry_new ();
  g_signal_connect_swapped (self->track_label_entry, "activate", G_CALLBACK (track_label_activate_cb), self);
  focus = gtk_event_controller_focus_new ();
  g_signal_connect_swapped (focus, "leave", G_CALLBACK (track_label_leave_cb), self);
  gtk_widget_add_controller (self->track_label_entry, focus);
  gtk_box_append (GTK_BOX (self->editor), labelled (_("_Label"), self->track_label_entry));

  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->outside_button = gtk_toggle_button_new_with_mnemonic (_("_Outside"));
  gtk_widget_set_tooltip_text (self->outside_button, _("Out of view from this frame on"));
  g_signal_connect_swapped (self->outside_button, "toggled", G_CALLBACK (outside_toggled_cb), self);
  self->occluded_button = gtk_toggle_button_new_with_mnemonic (_("O_ccluded"));
  gtk_widget_set_tooltip_text (self->occluded_button, _("Hidden behind something at this frame"));
  g_signal_connect_swapped (self->occluded_button, "toggled", G_CALLBACK (occluded_toggled_cb), self);
  gtk_box_append (GTK_BOX (row), self->outside_button);
  gtk_box_append (GTK_BOX (row), self->occluded_button);
  self->keyframe_label = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->keyframe_label, "dim-label");
  gtk_box_append (GTK_BOX (row), self->keyframe_label);
  gtk_box_append (GTK_BOX (self->editor), row);

  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  button = gtk_button_new_with_mnemonic (_("_Keyframe"));
  gtk_widget_set_tooltip_text (button, _("Make the shape at this frame a keyframe (K)"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "video.add-keyframe");
  gtk_box_append (GTK_BOX (row), button);
  button = gtk_button_new_with_mnemonic (_("_Remove Keyframe"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "video.remove-keyframe");
  gtk_box_append (GTK_BOX (row), button);
  gtk_box_append (GTK_BOX (self->editor), row);

  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  button = gtk_button_new_with_mnemonic (_("_Propagate"));
  gtk_widget_set_tooltip_text (button, _("Copy the shape at this frame to the next frames"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "video.propagate");
  self->propagate_spin = gtk_spin_button_new_with_range (1, 100000, 1);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->propagate_spin), 10);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->propagate_spin), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Frames to Propagate To"), -1);
  gtk_box_append (GTK_BOX (row), button);
  gtk_box_append (GTK_BOX (row), self->propagate_spin);
  gtk_box_append (GTK_BOX (row), gtk_label_new (_("frames")));
  gtk_box_append (GTK_BOX (self->editor), row);

  gtk_box_append (GTK_BOX (self->editor), gtk_label_new (_("Attributes from this frame on")));
  self->attributes_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  gtk_box_append (GTK_BOX (self->editor), self->attributes_box);
  row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->attr_name_entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (self->attr_name_entry), _("Attribute"));
  gtk_widget_set_size_request (self->attr_name_entry, 90, -1);
  self->attr_value_entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (self->attr_value_entry), _("Value"));
  gtk_widget_set_hexpand (self->attr_value_entry, TRUE);
  g_signal_connect_swapped (self->attr_value_entry, "activate", G_CALLBACK (add_attribute_cb), self);
  button = gtk_button_new_from_icon_name ("list-add-symbolic");
  gtk_widget_set_tooltip_text (button, _("Set Attribute"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Set Attribute"), -1);
  g_signal_connect_swapped (button, "clicked", G_CALLBACK (add_attribute_cb), self);
  gtk_box_append (GTK_BOX (row), self->attr_name_entry);
  gtk_box_append (GTK_BOX (row), self->attr_value_entry);
  gtk_box_append (GTK_BOX (row), button);
  gtk_box_append (GTK_BOX (self->editor), row);

  button = gtk_button_new_with_mnemonic (_("_Delete Track"));
  gtk_widget_add_css_class (button, "destructive-action");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "video.delete-track");
  gtk_box_append (GTK_BOX (self->editor), button);
  gtk_box_append (GTK_BOX (side), self->editor);

  gtk_paned_set_end_child (GTK_PANED (paned), side);
  gtk_paned_set_shrink_end_child (GTK_PANED (paned), FALSE);
  gtk_box_append (GTK_BOX (self->box), paned);
  gtk_widget_set_sensitive (self->box, FALSE);
}

static void
kp_video_page_dispose (GObject *object)
{
  KpVideoPage *self = KP_VIDEO_PAGE (object);

  kp_video_page_unload (self);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  self->editor = NULL;
  self->timeline = NULL;
  self->frame_view = NULL;
  g_clear_object (&self->selection);
  g_clear_object (&self->label_names);

  G_OBJECT_CLASS (kp_video_page_parent_class)->dispose (object);
}

static void
kp_video_page_finalize (GObject *object)
{
  KpVideoPage *self = KP_VIDEO_PAGE (object);

  g_clear_pointer (&self->bound_items, g_ptr_array_unref);

  G_OBJECT_CLASS (kp_video_page_parent_class)->finalize (object);
}

static void
kp_video_page_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  KpVideoPage *self = KP_VIDEO_PAGE (object);

  switch (prop_id)
    {
    case PROP_CAN_UNDO:
      g_value_set_boolean (value, kp_av_history_can_undo (&self->history));
      break;
    case PROP_CAN_REDO:
      g_value_set_boolean (value, kp_av_history_can_redo (&self->history));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_video_page_class_init (KpVideoPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  static const char * const forwarded[] = {
    "video.next-frame", "video.previous-frame", "video.forward", "video.back",
    "video.first-frame", "video.last-frame", "video.play-pause", "video.add-keyframe",
  };

  object_class->dispose = kp_video_page_dispose;
  object_class->finalize = kp_video_page_finalize;
  object_class->get_property = kp_video_page_get_property;

  properties[PROP_CAN_UNDO] =
    g_param_spec_boolean ("can-undo", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_CAN_REDO] =
    g_param_spec_boolean ("can-redo", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* (const GError *error): the video cannot be shown. */
  signals[ERROR] =
    g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);

  for (guint i = 0; i < G_N_ELEMENTS (forwarded); i++)
    gtk_widget_class_install_action (widget_class, forwarded[i], NULL, forward_action);
  gtk_widget_class_install_action (widget_class, "video.delete-track", NULL, delete_track_action);
  gtk_widget_class_install_action (widget_class, "video.remove-keyframe", NULL, remove_keyframe_action);
  gtk_widget_class_install_action (widget_class, "video.propagate", NULL, propagate_action);
  gtk_widget_class_install_action (widget_class, "video.export", "s", export_action);
  gtk_widget_class_install_action (widget_class, "video.undo", NULL, undo_action);
  gtk_widget_class_install_action (widget_class, "video.redo", NULL, undo_action);

  /* Keys reach the page when no entry inside took them first. */
  kp_av_add_frame_bindings (widget_class, "video");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Right, GDK_SHIFT_MASK, "video.forward", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, GDK_SHIFT_MASK, "video.back", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Home, 0, "video.first-frame", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_End, 0, "video.last-frame", NULL);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "kp-video-page");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
kp_video_page_init (KpVideoPage *self)
{
  self->bound_items = g_ptr_array_new ();
  build_ui (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "video.export", FALSE);
}

GtkWidget *
kp_video_page_new (void)
{
  return g_object_new (KP_TYPE_VIDEO_PAGE, NULL);
}
