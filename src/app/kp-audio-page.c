/* kp-audio-page.c: the workstation's page for one audio file of a project
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The page puts a KpWaveform (with its player and, on demand, its
 * spectrogram) above a transport bar and the list of regions with an
 * editor for the selected one. Regions are saved as JSON (kp-regions) in
 * the project's store folder, audio/<media id>.regions.json, after every
 * edit; the undo history is saved beside them (…history.json) when the
 * page unloads, so it survives a restart of the page.
 */

#include "config.h"

#include "kp-audio-page.h"
#include "kp-audio-page-private.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "kp-av-common.h"
#include "kp-av-history.h"
#include "kp-peaks.h"
#include "kp-player.h"
#include "kp-spectrogram.h"
#include "kp-waveform.h"
#include "kp-waveform-private.h"

struct _KpAudioPage
{
  GtkWidget      parent_instance;

  GtkWidget     *box;
  GtkWidget     *error_revealer;
  GtkWidget     *error_label;
  GtkWidget     *status_label;
  GtkWidget     *waveform;
  GtkWidget     *play_button;
  GtkWidget     *time_label;
  GtkWidget     *speed_dropdown;
  GtkWidget     *loop_button;
  GtkWidget     *spectrogram_button;
  GtkWidget     *snap_button;
  GtkWidget     *list_view;
  GtkSingleSelection *selection;
  GtkWidget     *label_entry;
  GtkWidget     *tier_entry;
  GtkWidget     *transcript_entry;
  GtkWidget     *attributes_box;
  GtkWidget     *attr_key_entry;
  GtkWidget     *attr_value_entry;
  GtkWidget     *editor;

  KpStore       *store;
  KpMedia       *media;
  GFile         *file;
  KpPeaks       *peaks;
  KpPlayer      *player;
  KpSpectrogram *spectrogram;
  KpRegions     *regions;
  GCancellable  *cancellable;
  GError        *error;
  char          *sink_name;
  char          *regions_path;
  GStrv          labels;

  KpAvHistory    history;
  guint          commit_source;
  guint          tick_id;
  gboolean       restoring;
  gboolean       filling_editor;
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

static const double speeds[] = { 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 4 };
#define SPEED_NORMAL 3

#define NS_PER_SECOND G_GINT64_CONSTANT (1000000000)

G_DEFINE_FINAL_TYPE (KpAudioPage, kp_audio_page, GTK_TYPE_WIDGET)

static const struct
{
  KpRegionsFormat format;
  const char *id;
  const char *extension;
  const char *name;
} formats[] = {
  { KP_REGIONS_FORMAT_JSON, "json", ".json", N_("JSON") },
  { KP_REGIONS_FORMAT_CSV, "csv", ".csv", N_("CSV") },
  { KP_REGIONS_FORMAT_AUDACITY, "audacity", ".txt", N_("Audacity Labels") },
  { KP_REGIONS_FORMAT_TEXTGRID, "textgrid", ".TextGrid", N_("Praat TextGrid") },
  { KP_REGIONS_FORMAT_WEBVTT, "webvtt", ".vtt", N_("WebVTT Subtitles") },
  { KP_REGIONS_FORMAT_SRT, "srt", ".srt", N_("SRT Subtitles") },
  { KP_REGIONS_FORMAT_RTTM, "rttm", ".rttm", N_("RTTM Speaker Turns") },
};

/* Errors */

static void
show_error (KpAudioPage  *self,
            const GError *error)
{
  g_autofree char *text = NULL;

  if (!kp_av_keep_error (&self->error, error))
    return;
  if (g_error_matches (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_MISSING_PLUGIN))
    text = g_strdup_printf (_("This audio cannot be played: %s"), error->message);
  else
    text = g_strdup_printf (_("This audio cannot be read: %s"), error->message);
  gtk_label_set_text (GTK_LABEL (self->error_label), text);
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->error_revealer), TRUE);
  g_signal_emit (self, signals[ERROR], 0, error);
}

static void
clear_error (KpAudioPage *self)
{
  g_clear_error (&self->error);
  gtk_revealer_set_reveal_child (GTK_REVEALER (self->error_revealer), FALSE);
}

#define report(self, ...) kp_av_report ((self)->status_label, __VA_ARGS__)

/* Persistence and undo */

static char *
regions_text (KpAudioPage *self)
{
  return kp_regions_to_data (self->regions, KP_REGIONS_FORMAT_JSON, NULL);
}

static void
save_regions (KpAudioPage *self)
{
  g_autoptr(GError) error = NULL;

  if (self->regions_path == NULL)
    return;
  if (!kp_regions_save_file (self->regions, self->regions_path, &error))
    report (self, _("The regions could not be saved: %s"), error->message);
}

static void
notify_undo (KpAudioPage *self)
{
  kp_av_history_save_later (&self->history);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_UNDO]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_REDO]);
}

/* Records the regions as an undo step once the edit in progress is over:
 * a drag makes one step, not one per pointer motion, and the changes one
 * action makes together (a tier added and given, say) one step. */
static gboolean
commit_cb (gpointer data)
{
  KpAudioPage *self = data;
  g_autofree char *text = NULL;

  self->commit_source = 0;
  if (_kp_waveform_is_editing (KP_WAVEFORM (self->waveform)))
    {
      self->commit_source = g_timeout_add (20, commit_cb, self);
      return G_SOURCE_REMOVE;
    }
  text = regions_text (self);
  if (kp_av_history_push (&self->history, text))
    {
      save_regions (self);
      notify_undo (self);
    }
  return G_SOURCE_REMOVE;
}

static void
flush_commit (KpAudioPage *self)
{
  /* A drag in progress is recorded when it ends. */
  if (self->commit_source == 0 || _kp_waveform_is_editing (KP_WAVEFORM (self->waveform)))
    return;
  g_clear_handle_id (&self->commit_source, g_source_remove);
  if (self->regions != NULL)
    {
      g_autofree char *text = regions_text (self);

      if (kp_av_history_push (&self->history, text))
        {
          save_regions (self);
          notify_undo (self);
        }
    }
}

static void refill_editor (KpAudioPage *self);

static void
regions_changed_cb (KpAudioPage *self)
{
  if (self->restoring)
    return;
  if (self->commit_source == 0)
    self->commit_source = g_idle_add (commit_cb, self);
  refill_editor (self);
}

static void
restore (KpAudioPage *self,
         const char  *text)
{
  g_autoptr(GError) error = NULL;

  self->restoring = TRUE;
  kp_waveform_set_selected_region (KP_WAVEFORM (self->waveform), NULL);
  kp_regions_remove_all (self->regions);
  if (!kp_regions_load_data (self->regions, KP_REGIONS_FORMAT_JSON, text, strlen (text), &error))
    report (self, _("This step could not be restored: %s"), error->message);
  self->restoring = FALSE;
  save_regions (self);
  refill_editor (self);
  notify_undo (self);
}

static gboolean
step (KpAudioPage *self,
      int          delta)
{
  const char *text = kp_av_history_step (&self->history, delta);

  if (text == NULL)
    return FALSE;
  restore (self, text);
  return TRUE;
}

/* Transport */

static void
update_time (KpAudioPage *self)
{
  gint64 position = self->player != NULL ? kp_player_get_position (self->player) : -1;
  gint64 duration = self->player != NULL ? kp_player_get_duration (self->player) : -1;
  g_autofree char *text = NULL;

  if (position < 0)
    position = 0;
  if (duration < 0 && self->peaks != NULL && kp_peaks_get_sample_rate (self->peaks) > 0)
    duration = kp_peaks_get_n_samples (self->peaks) * NS_PER_SECOND / kp_peaks_get_sample_rate (self->peaks);
  if (duration < 0)
    duration = 0;
  text = g_strdup_printf ("%" PRId64 ":%02d.%03d / %" PRId64 ":%02d.%03d",
                          position / (60 * NS_PER_SECOND), (int)(position / NS_PER_SECOND % 60),
                          (int)(position / 1000000 % 1000),
                          duration / (60 * NS_PER_SECOND), (int)(duration / NS_PER_SECOND % 60),
                          (int)(duration / 1000000 % 1000));
  gtk_label_set_text (GTK_LABEL (self->time_label), text);
}

static gboolean
tick_cb (GtkWidget     *widget,
         GdkFrameClock *clock,
         gpointer       data)
{
  KpAudioPage *self = KP_AUDIO_PAGE (widget);

  update_time (self);
  if (self->player != NULL)
    {
      double rate = kp_player_get_rate (self->player);
      guint selected = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->speed_dropdown));

      if (selected < G_N_ELEMENTS (speeds) && ABS (speeds[selected] - rate) > 1e-6)
        for (guint i = 0; i < G_N_ELEMENTS (speeds); i++)
          if (ABS (speeds[i] - rate) < 1e-6)
            gtk_drop_down_set_selected (GTK_DROP_DOWN (self->speed_dropdown), i);
      gtk_button_set_icon_name (GTK_BUTTON (self->play_button),
                                kp_player_get_playing (self->player)
                                ? "media-playback-pause-symbolic" : "media-playback-start-symbolic");
      if (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->loop_button))
          != kp_player_get_looping (self->player))
        gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->loop_button),
                                      kp_player_get_looping (self->player));
    }
  return G_SOURCE_CONTINUE;
}

static void
play_clicked_cb (KpAudioPage *self)
{
  gtk_widget_activate_action (self->waveform, "waveform.play-pause", NULL);
}

static void
speed_selected_cb (KpAudioPage *self)
{
  guint selected = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->speed_dropdown));

  if (self->player != NULL && selected < G_N_ELEMENTS (speeds))
    kp_player_set_rate (self->player, speeds[selected]);
}

static void
loop_toggled_cb (KpAudioPage *self)
{
  gboolean active = gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->loop_button));

  if (self->player == NULL || active == kp_player_get_looping (self->player))
    return;
  if (active && kp_waveform_get_selected_region (KP_WAVEFORM (self->waveform)) == NULL)
    {
      gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->loop_button), FALSE);
      gtk_widget_error_bell (GTK_WIDGET (self));
      return;
    }
  gtk_widget_activate_action (self->waveform, "region.loop", NULL);
}

static void
spectrogram_loaded_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(KpAudioPage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!kp_spectrogram_load_finish (KP_SPECTROGRAM (object), result, &error)
      && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_autofree char *text = g_strdup_printf (_("No spectrogram: %s"), error->message);

      gtk_label_set_text (GTK_LABEL (self->status_label), text);
    }
  gtk_widget_queue_draw (self->waveform);
}

static void
show_spectrogram_cb (KpAudioPage *self)
{
  gboolean show = kp_waveform_get_show_spectrogram (KP_WAVEFORM (self->waveform));

  if (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->spectrogram_button)) != show)
    gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->spectrogram_button), show);
  /* Computed the first time it is shown: most sessions never look. */
  if (show && self->spectrogram == NULL && self->file != NULL)
    {
      self->spectrogram = kp_spectrogram_new ();
      kp_waveform_set_spectrogram (KP_WAVEFORM (self->waveform), self->spectrogram);
      kp_spectrogram_load_async (self->spectrogram, self->file, 0, self->cancellable,
                                 spectrogram_loaded_cb, g_object_ref (self));
    }
}

/* Regions list and editor */

static char *
format_seconds (double seconds)
{
  int minutes = (int)(seconds / 60);

  return g_strdup_printf ("%d:%06.3f", minutes, seconds - minutes * 60);
}

static void
update_row (GtkWidget *row,
            KpRegion  *region)
{
  KpAudioPage *self = g_object_get_data (G_OBJECT (row), "page");
  GtkWidget *time = gtk_widget_get_first_child (row);
  GtkWidget *tier = gtk_widget_get_next_sibling (time);
  GtkWidget *label = gtk_widget_get_next_sibling (tier);
  GtkWidget *transcript = gtk_widget_get_next_sibling (label);
  guint rate = self->regions != NULL ? kp_regions_get_sample_rate (self->regions) : 1;
  g_autofree char *start = format_seconds ((double)kp_region_get_start (region) / rate);
  g_autofree char *end = format_seconds ((double)kp_region_get_end (region) / rate);
  g_autofree char *span = g_strdup_printf ("%s – %s", start, end);

  gtk_label_set_text (GTK_LABEL (time), span);
  gtk_label_set_text (GTK_LABEL (tier), kp_region_get_tier (region));
  gtk_label_set_text (GTK_LABEL (label), kp_region_get_label (region));
  gtk_label_set_text (GTK_LABEL (transcript), kp_region_get_transcript (region));
}

static void
setup_row_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *item,
              KpAudioPage              *self)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *time = gtk_label_new (NULL);
  GtkWidget *tier = gtk_label_new (NULL);
  GtkWidget *label = gtk_label_new (NULL);
  GtkWidget *transcript = gtk_label_new (NULL);

  gtk_widget_add_css_class (time, "numeric");
  gtk_label_set_width_chars (GTK_LABEL (time), 22);
  gtk_label_set_xalign (GTK_LABEL (time), 0);
  gtk_label_set_width_chars (GTK_LABEL (tier), 8);
  gtk_label_set_xalign (GTK_LABEL (tier), 0);
  gtk_widget_add_css_class (tier, "dim-label");
  gtk_label_set_width_chars (GTK_LABEL (label), 10);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_xalign (GTK_LABEL (transcript), 0);
  gtk_label_set_ellipsize (GTK_LABEL (transcript), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (transcript, TRUE);
  gtk_box_append (GTK_BOX (row), time);
  gtk_box_append (GTK_BOX (row), tier);
  gtk_box_append (GTK_BOX (row), label);
  gtk_box_append (GTK_BOX (row), transcript);
  g_object_set_data (G_OBJECT (row), "page", self);
  gtk_list_item_set_child (item, row);
}

static void
region_row_changed_cb (KpRegion  *region,
                       GtkWidget *row)
{
  update_row (row, region);
}

static void
bind_row_cb (GtkSignalListItemFactory *factory,
             GtkListItem              *item,
             KpAudioPage              *self)
{
  KpRegion *region = gtk_list_item_get_item (item);
  GtkWidget *row = gtk_list_item_get_child (item);

  update_row (row, region);
  g_signal_connect_object (region, "changed", G_CALLBACK (region_row_changed_cb), row, 0);
}

static void
unbind_row_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *item,
               KpAudioPage              *self)
{
  KpRegion *region = gtk_list_item_get_item (item);

  if (region != NULL)
    g_signal_handlers_disconnect_by_func (region, region_row_changed_cb, gtk_list_item_get_child (item));
}

static KpRegion *
selected_region (KpAudioPage *self)
{
  return kp_waveform_get_selected_region (KP_WAVEFORM (self->waveform));
}

static void
remove_attribute_cb (GtkButton   *button,
                     KpAudioPage *self)
{
  KpRegion *region = selected_region (self);
  const char *key = kp_av_attribute_name (button);

  if (region != NULL)
    kp_region_set_attribute (region, key, NULL);
}

static void
attribute_value_activate_cb (GtkEntry    *entry,
                             KpAudioPage *self)
{
  KpRegion *region = selected_region (self);
  const char *key = kp_av_attribute_name (entry);

  if (region != NULL && !self->filling_editor)
    kp_region_set_attribute (region, key, gtk_editable_get_text (GTK_EDITABLE (entry)));
}

static gboolean
entry_has_focus (GtkWidget *entry)
{
  return gtk_widget_has_focus (entry) || gtk_widget_get_focus_child (entry) != NULL;
}

static void
refill_editor (KpAudioPage *self)
{
  KpRegion *region = self->waveform != NULL ? selected_region (self) : NULL;
  g_auto(GStrv) keys = NULL;

  if (self->editor == NULL)
    return;
  gtk_widget_set_sensitive (self->editor, region != NULL);
  self->filling_editor = TRUE;
  /* An entry being typed into keeps its text until it is applied. */
  if (!entry_has_focus (self->label_entry) || region == NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->label_entry), region ? kp_region_get_label (region) : "");
  if (!entry_has_focus (self->tier_entry) || region == NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->tier_entry), region ? kp_region_get_tier (region) : "");
  if (!entry_has_focus (self->transcript_entry) || region == NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->transcript_entry),
                           region ? kp_region_get_transcript (region) : "");

  kp_av_box_remove_all (self->attributes_box);
  if (region != NULL)
    keys = kp_region_dup_attribute_keys (region);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    gtk_box_append (GTK_BOX (self->attributes_box),
                    kp_av_attribute_row_new (keys[i], kp_region_get_attribute (region, keys[i]),
                                             _("Remove Attribute"), G_CALLBACK (attribute_value_activate_cb),
                                             G_CALLBACK (remove_attribute_cb), self));
  self->filling_editor = FALSE;
}

static void
label_activate_cb (KpAudioPage *self)
{
  KpRegion *region = selected_region (self);

  if (region != NULL && !self->filling_editor)
    kp_region_set_label (region, gtk_editable_get_text (GTK_EDITABLE (self->label_entry)));
}

static void
tier_activate_cb (KpAudioPage *self)
{
  KpRegion *region = selected_region (self);
  /* Copied: adding the tier refills the entry. */
  g_autofree char *tier = g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->tier_entry)));

  if (region == NULL || self->filling_editor)
    return;
  kp_regions_add_tier (self->regions, tier);
  kp_region_set_tier (region, tier);
}

static void
transcript_activate_cb (KpAudioPage *self)
{
  KpRegion *region = selected_region (self);

  if (region != NULL && !self->filling_editor)
    kp_region_set_transcript (region, gtk_editable_get_text (GTK_EDITABLE (self->transcript_entry)));
}

static void
add_attribute_cb (KpAudioPage *self)
{
  KpRegion *region = selected_region (self);
  const char *key = gtk_editable_get_text (GTK_EDITABLE (self->attr_key_entry));
  const char *value = gtk_editable_get_text (GTK_EDITABLE (self->attr_value_entry));

  if (region == NULL || *key == '\0')
    {
      gtk_widget_error_bell (GTK_WIDGET (self));
      return;
    }
  kp_region_set_attribute (region, key, value);
  gtk_editable_set_text (GTK_EDITABLE (self->attr_key_entry), "");
  gtk_editable_set_text (GTK_EDITABLE (self->attr_value_entry), "");
}

/* Applies an entry's text when the focus leaves it, as Enter does. */
static void
entry_leave_cb (GtkEventControllerFocus *controller,
                KpAudioPage             *self)
{
  GtkWidget *entry = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (controller));

  if (entry == self->label_entry)
    label_activate_cb (self);
  else if (entry == self->tier_entry)
    tier_activate_cb (self);
  else if (entry == self->transcript_entry)
    transcript_activate_cb (self);
}

static void
selection_changed_cb (KpAudioPage *self)
{
  KpRegion *region = gtk_single_selection_get_selected_item (self->selection);

  if (region != NULL && region != selected_region (self))
    kp_waveform_set_selected_region (KP_WAVEFORM (self->waveform), region);
}

static void
waveform_selected_cb (KpAudioPage *self)
{
  KpRegion *region = selected_region (self);
  int index = region != NULL && self->regions != NULL ? kp_regions_index_of (self->regions, region) : -1;

  if (index >= 0 && (guint)index != gtk_single_selection_get_selected (self->selection))
    gtk_single_selection_set_selected (self->selection, index);
  else if (index < 0)
    gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  refill_editor (self);
}

/* Enter or a double click on a row plays from the region's start. */
static void
row_activate_cb (GtkListView *view,
                 guint        position,
                 KpAudioPage *self)
{
  KpRegion *region = self->regions != NULL ? kp_regions_get_region (self->regions, position) : NULL;
  guint rate;

  if (region == NULL || self->player == NULL)
    return;
  rate = kp_regions_get_sample_rate (self->regions);
  kp_waveform_set_selected_region (KP_WAVEFORM (self->waveform), region);
  kp_player_seek (self->player, (gint64)((double)kp_region_get_start (region) * NS_PER_SECOND / rate));
  kp_player_play (self->player);
}

static void
delete_clicked_cb (KpAudioPage *self)
{
  gtk_widget_activate_action (self->waveform, "region.delete", NULL);
}

/* Export and import */

/* A dialog answered after the file was closed does nothing. */
static gboolean
export_file (GtkWidget   *page,
             const char  *format,
             const char  *path,
             GError     **error)
{
  KpAudioPage *self = KP_AUDIO_PAGE (page);

  return self->regions == NULL || _kp_audio_page_export (self, path, error);
}

static gboolean
import_file (GtkWidget   *page,
             const char  *format,
             const char  *path,
             GError     **error)
{
  KpAudioPage *self = KP_AUDIO_PAGE (page);

  return self->regions == NULL || _kp_audio_page_import (self, path, error);
}

static void
export_action (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  KpAudioPage *self = KP_AUDIO_PAGE (widget);
  const char *id = g_variant_get_string (param, NULL);
  g_autofree char *suggested = NULL;

  if (self->media == NULL)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    if (g_str_equal (formats[i].id, id))
      suggested = kp_av_suggest_name (self->media->path, formats[i].extension);
  if (suggested == NULL)
    return;
  kp_av_file_dialog_show (widget, self->status_label, GTK_FILE_CHOOSER_ACTION_SAVE, _("Export Regions"),
                          _("_Export"), suggested, id, export_file);
}

static void
import_action (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  KpAudioPage *self = KP_AUDIO_PAGE (widget);

  if (self->regions == NULL)
    return;
  kp_av_file_dialog_show (widget, self->status_label, GTK_FILE_CHOOSER_ACTION_OPEN, _("Import Regions"),
                          _("_Import"), NULL, NULL, import_file);
}

gboolean
_kp_audio_page_export (KpAudioPage  *self,
                       const char   *path,
                       GError      **error)
{
  g_return_val_if_fail (KP_IS_AUDIO_PAGE (self), FALSE);

  if (self->regions == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("No audio file is open"));
      return FALSE;
    }
  return kp_regions_save_file (self->regions, path, error);
}

gboolean
_kp_audio_page_import (KpAudioPage  *self,
                       const char   *path,
                       GError      **error)
{
  g_autoptr(KpRegions) loaded = NULL;
  g_autofree char *text = NULL;

  g_return_val_if_fail (KP_IS_AUDIO_PAGE (self), FALSE);

  if (self->regions == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("No audio file is open"));
      return FALSE;
    }
  /* Read into a model of its own first, so a bad file adds nothing. */
  loaded = kp_regions_new (kp_regions_get_sample_rate (self->regions));
  if (!kp_regions_load_file (loaded, path, error))
    return FALSE;
  text = kp_regions_to_data (loaded, KP_REGIONS_FORMAT_JSON, NULL);
  return kp_regions_load_data (self->regions, KP_REGIONS_FORMAT_JSON, text, strlen (text), error);
}

/* Loading */

static void
peaks_loaded_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(KpAudioPage) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!kp_peaks_load_finish (KP_PEAKS (object), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->peaks != KP_PEAKS (object))
        return;
      show_error (self, error);
    }
  /* Clears the progress note, not a problem reported meanwhile. */
  if (self->peaks == KP_PEAKS (object)
      && g_strcmp0 (gtk_label_get_text (GTK_LABEL (self->status_label)), _("Reading the audio…")) == 0)
    gtk_label_set_text (GTK_LABEL (self->status_label), "");
}

static void
player_error_cb (KpAudioPage  *self,
                 const GError *error)
{
  show_error (self, error);
}

/* The regions file keeps samples at the rate it was written with: read it
 * at that rate, and rescale once the audio tells its own. */
static void
peaks_rate_cb (KpAudioPage *self)
{
  guint rate = kp_peaks_get_sample_rate (self->peaks);
  g_autofree char *text = NULL;

  if (rate == 0 || self->regions == NULL || rate == kp_regions_get_sample_rate (self->regions))
    return;
  self->restoring = TRUE;
  kp_regions_set_sample_rate (self->regions, rate);
  self->restoring = FALSE;
  text = regions_text (self);
  kp_av_history_replace (&self->history, text);
}

static guint
saved_sample_rate (const char *path)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (!json_parser_load_from_file (parser, path, NULL))
    return 0;
  root = json_parser_get_root (parser);
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return 0;
  return (guint)MAX (0, json_object_get_int_member_with_default (json_node_get_object (root), "sample_rate", 0));
}

static void
load_labels (KpAudioPage *self)
{
  g_autoptr(GPtrArray) labels = NULL;
  g_autoptr(GError) error = NULL;
  GStrvBuilder *builder;
  const char *by_key[10] = { NULL };
  int last = 0;

  g_clear_pointer (&self->labels, g_strfreev);
  labels = kp_store_list_labels (self->store, &error);
  if (labels == NULL)
    {
      report (self, _("The project’s labels could not be read: %s"), error->message);
      return;
    }
  for (guint i = 0; i < labels->len; i++)
    {
      KpLabel *label = g_ptr_array_index (labels, i);

      if (label->key >= 1 && label->key <= 9)
        {
          by_key[label->key] = label->name;
          last = MAX (last, label->key);
        }
    }
  /* Keys 1–9 pick the label with that key; labels without keys fill the
   * keys nobody took, in list order. */
  for (guint i = 0, k = 1; i < labels->len && k <= 9; i++)
    {
      KpLabel *label = g_ptr_array_index (labels, i);

      if (label->key >= 1 && label->key <= 9)
        continue;
      while (k <= 9 && by_key[k] != NULL)
        k++;
      if (k <= 9)
        {
          by_key[k] = label->name;
          last = MAX (last, (int)k);
        }
    }
  builder = g_strv_builder_new ();
  for (int k = 1; k <= last; k++)
    g_strv_builder_add (builder, by_key[k] != NULL ? by_key[k] : "");
  self->labels = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  kp_waveform_set_labels (KP_WAVEFORM (self->waveform), (const char * const *)self->labels);
}

void
kp_audio_page_load (KpAudioPage   *self,
                    KpStore       *store,
                    const KpMedia *media)
{
  g_autofree char *path = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  guint rate;

  g_return_if_fail (KP_IS_AUDIO_PAGE (self));
  g_return_if_fail (KP_IS_STORE (store));
  g_return_if_fail (media != NULL);

  kp_audio_page_unload (self);

  self->store = g_object_ref (store);
  self->media = kp_media_copy (media);
  self->cancellable = g_cancellable_new ();
  path = kp_store_dup_media_file (store, media);
  self->file = g_file_new_for_path (path);

  if (!kp_av_annotation_paths (kp_store_get_database_path (store), media->id, "audio", ".regions.json", &dir,
                               &self->regions_path, &self->history.path))
    report (self, _("The regions cannot be saved in %s: %s"), dir, g_strerror (errno));

  gtk_label_set_text (GTK_LABEL (self->status_label), _("Reading the audio…"));
  rate = saved_sample_rate (self->regions_path);
  self->regions = kp_regions_new (rate > 0 ? rate : 48000);
  if (g_file_test (self->regions_path, G_FILE_TEST_EXISTS)
      && !kp_regions_load_file (self->regions, self->regions_path, &error))
    {
      /* Keep the damaged file for a person to look at; start empty. */
      g_autofree char *aside = g_strconcat (self->regions_path, ".damaged", NULL);

      g_rename (self->regions_path, aside);
      report (self, _("The saved regions could not be read (%s); they were kept as %s"),
              error->message, aside);
      g_clear_error (&error);
      kp_regions_remove_all (self->regions);
    }
  text = regions_text (self);
  if (!kp_av_history_load (&self->history, self->history.path, text))
    kp_av_history_reset (&self->history, text);
  g_signal_connect_object (self->regions, "changed", G_CALLBACK (regions_changed_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_single_selection_set_model (self->selection, G_LIST_MODEL (self->regions));
  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);

  self->peaks = kp_peaks_new ();
  g_signal_connect_object (self->peaks, "notify::sample-rate", G_CALLBACK (peaks_rate_cb), self,
                           G_CONNECT_SWAPPED);
  kp_waveform_set_peaks (KP_WAVEFORM (self->waveform), self->peaks);
  kp_waveform_set_file (KP_WAVEFORM (self->waveform), self->file);
  kp_waveform_set_regions (KP_WAVEFORM (self->waveform), self->regions);
  kp_peaks_load_async (self->peaks, self->file, KP_PEAKS_LOAD_NONE, self->cancellable,
                       peaks_loaded_cb, g_object_ref (self));

  /* KP_AUDIO_SINK names another sink, as for the layout elements (tests
   * use "fakesink"). */
  self->player = kp_player_new (self->sink_name != NULL ? self->sink_name : g_getenv ("KP_AUDIO_SINK"));
  g_signal_connect_object (self->player, "error", G_CALLBACK (player_error_cb), self, G_CONNECT_SWAPPED);
  if (!kp_player_set_file (self->player, self->file, &error))
    {
      show_error (self, error);
      g_clear_error (&error);
    }
  kp_waveform_set_player (KP_WAVEFORM (self->waveform), self->player);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->speed_dropdown), SPEED_NORMAL);

  load_labels (self);
  gtk_widget_set_sensitive (self->box, TRUE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "audio.export", TRUE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "audio.import", TRUE);
  if (self->tick_id == 0)
    self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), tick_cb, NULL, NULL);
  refill_editor (self);
  notify_undo (self);
}

void
kp_audio_page_unload (KpAudioPage *self)
{
  g_return_if_fail (KP_IS_AUDIO_PAGE (self));

  if (self->regions != NULL)
    {
      flush_commit (self);
      save_regions (self);
      kp_av_history_flush (&self->history);
    }
  g_clear_handle_id (&self->commit_source, g_source_remove);
  if (self->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
      self->tick_id = 0;
    }
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);

  if (self->waveform != NULL)
    {
      kp_waveform_set_selected_region (KP_WAVEFORM (self->waveform), NULL);
      kp_waveform_set_show_spectrogram (KP_WAVEFORM (self->waveform), FALSE);
      kp_waveform_set_player (KP_WAVEFORM (self->waveform), NULL);
      kp_waveform_set_regions (KP_WAVEFORM (self->waveform), NULL);
      kp_waveform_set_spectrogram (KP_WAVEFORM (self->waveform), NULL);
      kp_waveform_set_peaks (KP_WAVEFORM (self->waveform), NULL);
      kp_waveform_set_file (KP_WAVEFORM (self->waveform), NULL);
    }
  if (self->selection != NULL)
    gtk_single_selection_set_model (self->selection, NULL);
  if (self->player != NULL)
    {
      kp_player_pause (self->player);
      g_signal_handlers_disconnect_by_data (self->player, self);
    }
  if (self->regions != NULL)
    g_signal_handlers_disconnect_by_data (self->regions, self);
  if (self->peaks != NULL)
    g_signal_handlers_disconnect_by_data (self->peaks, self);
  g_clear_object (&self->player);
  g_clear_object (&self->peaks);
  g_clear_object (&self->spectrogram);
  g_clear_object (&self->regions);
  g_clear_object (&self->file);
  g_clear_object (&self->store);
  g_clear_pointer (&self->media, kp_media_free);
  g_clear_pointer (&self->regions_path, g_free);
  kp_av_history_close (&self->history);
  if (self->error_revealer != NULL)
    clear_error (self);
  if (self->box != NULL)
    {
      gtk_widget_set_sensitive (self->box, FALSE);
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "audio.export", FALSE);
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "audio.import", FALSE);
      refill_editor (self);
      notify_undo (self);
    }
}

gboolean
kp_audio_page_get_can_undo (KpAudioPage *self)
{
  g_return_val_if_fail (KP_IS_AUDIO_PAGE (self), FALSE);

  flush_commit (self);
  return kp_av_history_can_undo (&self->history);
}

gboolean
kp_audio_page_get_can_redo (KpAudioPage *self)
{
  g_return_val_if_fail (KP_IS_AUDIO_PAGE (self), FALSE);

  flush_commit (self);
  return kp_av_history_can_redo (&self->history);
}

gboolean
kp_audio_page_undo (KpAudioPage *self)
{
  g_return_val_if_fail (KP_IS_AUDIO_PAGE (self), FALSE);

  if (self->regions == NULL || _kp_waveform_is_editing (KP_WAVEFORM (self->waveform)))
    return FALSE;
  flush_commit (self);
  return step (self, -1);
}

gboolean
kp_audio_page_redo (KpAudioPage *self)
{
  g_return_val_if_fail (KP_IS_AUDIO_PAGE (self), FALSE);

  if (self->regions == NULL || _kp_waveform_is_editing (KP_WAVEFORM (self->waveform)))
    return FALSE;
  flush_commit (self);
  return step (self, 1);
}

void
_kp_audio_page_set_sink (KpAudioPage *self,
                         const char  *sink_name)
{
  g_return_if_fail (KP_IS_AUDIO_PAGE (self));

  g_free (self->sink_name);
  self->sink_name = g_strdup (sink_name);
}

GtkWidget *
_kp_audio_page_get_waveform (KpAudioPage *self)
{
  return self->waveform;
}

KpRegions *
_kp_audio_page_get_regions (KpAudioPage *self)
{
  return self->regions;
}

KpPeaks *
_kp_audio_page_get_peaks (KpAudioPage *self)
{
  return self->peaks;
}

KpPlayer *
_kp_audio_page_get_player (KpAudioPage *self)
{
  return self->player;
}

const GError *
_kp_audio_page_get_error (KpAudioPage *self)
{
  return self->error;
}

GtkWidget *
_kp_audio_page_get_editor_entry (KpAudioPage *self,
                                 const char  *which)
{
  if (g_str_equal (which, "label"))
    return self->label_entry;
  if (g_str_equal (which, "tier"))
    return self->tier_entry;
  if (g_str_equal (which, "transcript"))
    return self->transcript_entry;
  if (g_str_equal (which, "attribute-key"))
    return self->attr_key_entry;
  if (g_str_equal (which, "attribute-value"))
    return self->attr_value_entry;
  if (g_str_equal (which, "play"))
    return self->play_button;
  if (g_str_equal (which, "speed"))
    return self->speed_dropdown;
  if (g_str_equal (which, "loop"))
    return self->loop_button;
  if (g_str_equal (which, "spectrogram"))
    return self->spectrogram_button;
  if (g_str_equal (which, "snap"))
    return self->snap_button;
  if (g_str_equal (which, "time"))
    return self->time_label;
  if (g_str_equal (which, "status"))
    return self->status_label;
  if (g_str_equal (which, "list"))
    return self->list_view;
  return NULL;
}

/* GObject */

static GtkWidget *
toggle_with_icon (const char *icon,
                  const char *tooltip)
{
  GtkWidget *button = gtk_toggle_button_new ();

  gtk_button_set_icon_name (GTK_BUTTON (button), icon);
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, tooltip, -1);
  return button;
}

#define labelled(text, widget) kp_av_labelled ((text), (widget), 11)

static void
watch_focus_leave (KpAudioPage *self,
                   GtkWidget   *entry)
{
  GtkEventController *focus = gtk_event_controller_focus_new ();

  g_signal_connect (focus, "leave", G_CALLBACK (entry_leave_cb), self);
  gtk_widget_add_controller (entry, focus);
}

static void
build_ui (KpAudioPage *self)
{
  GtkWidget *bar, *scrolled, *paned, *list_scrolled, *editor_box, *menu_button, *add_row, *add_button;
  GtkListItemFactory *factory;
  g_autoptr(GMenu) menu = g_menu_new ();
  g_autoptr(GMenu) export_section = g_menu_new ();
  GtkStringList *speed_names = gtk_string_list_new (NULL);

  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));

  self->error_revealer = kp_av_error_revealer_new (&self->error_label);
  gtk_box_append (GTK_BOX (self->box), self->error_revealer);

  /* Transport bar */
  bar = kp_av_bar_new ();
  self->play_button = kp_av_play_button_new ();
  g_signal_connect_swapped (self->play_button, "clicked", G_CALLBACK (play_clicked_cb), self);
  gtk_box_append (GTK_BOX (bar), self->play_button);

  self->time_label = gtk_label_new ("0:00.000 / 0:00.000");
  gtk_widget_add_css_class (self->time_label, "numeric");
  gtk_box_append (GTK_BOX (bar), self->time_label);

  for (guint i = 0; i < G_N_ELEMENTS (speeds); i++)
    {
      /* Translators: a playback speed, as in "0.25×" */
      g_autofree char *name = g_strdup_printf (_("%g×"), speeds[i]);

      gtk_string_list_append (speed_names, name);
    }
  self->speed_dropdown = gtk_drop_down_new (G_LIST_MODEL (speed_names), NULL);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (self->speed_dropdown), SPEED_NORMAL);
  gtk_widget_set_tooltip_text (self->speed_dropdown, _("Playback Speed ([ and ])"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->speed_dropdown), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Playback Speed"), -1);
  g_signal_connect_swapped (self->speed_dropdown, "notify::selected", G_CALLBACK (speed_selected_cb), self);
  gtk_box_append (GTK_BOX (bar), self->speed_dropdown);

  self->loop_button = toggle_with_icon ("media-playlist-repeat-symbolic", _("Loop the Selected Region (L)"));
  g_signal_connect_swapped (self->loop_button, "toggled", G_CALLBACK (loop_toggled_cb), self);
  gtk_box_append (GTK_BOX (bar), self->loop_button);

  self->spectrogram_button = toggle_with_icon ("view-paged-symbolic", _("Show the Spectrogram (S)"));
  gtk_box_append (GTK_BOX (bar), self->spectrogram_button);

  self->snap_button = toggle_with_icon ("snap-nodes-symbolic", _("Snap Edges to Zero Crossings"));
  gtk_box_append (GTK_BOX (bar), self->snap_button);

  self->status_label = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->status_label, "dim-label");
  gtk_widget_set_hexpand (self->status_label, TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->status_label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (self->status_label), PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (bar), self->status_label);

  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autofree char *action = g_strdup_printf ("audio.export::%s", formats[i].id);

      g_menu_append (export_section, _(formats[i].name), action);
    }
  g_menu_append_section (menu, _("Export Regions As"), G_MENU_MODEL (export_section));
  g_menu_append (menu, _("_Import Regions…"), "audio.import");
  menu_button = gtk_menu_button_new ();
  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (menu_button), "document-save-as-symbolic");
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (menu_button), G_MENU_MODEL (menu));
  gtk_widget_set_tooltip_text (menu_button, _("Export or Import Regions"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (menu_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Export or Import Regions"), -1);
  gtk_box_append (GTK_BOX (bar), menu_button);
  gtk_box_append (GTK_BOX (self->box), bar);

  /* Waveform above, regions below */
  paned = gtk_paned_new (GTK_ORIENTATION_VERTICAL);
  gtk_widget_set_vexpand (paned, TRUE);
  self->waveform = kp_waveform_new ();
  gtk_widget_set_size_request (self->waveform, 200, 220);
  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_AUTOMATIC, GTK_POLICY_NEVER);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), self->waveform);
  gtk_paned_set_start_child (GTK_PANED (paned), scrolled);
  gtk_paned_set_resize_start_child (GTK_PANED (paned), TRUE);
  g_signal_connect_object (self->waveform, "notify::selected-region", G_CALLBACK (waveform_selected_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->waveform, "notify::show-spectrogram", G_CALLBACK (show_spectrogram_cb),
                           self, G_CONNECT_SWAPPED);
  g_object_bind_property (self->spectrogram_button, "active", self->waveform, "show-spectrogram",
                          G_BINDING_BIDIRECTIONAL);
  g_object_bind_property (self->snap_button, "active", self->waveform, "snap", G_BINDING_BIDIRECTIONAL);

  {
    GtkWidget *lower = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);

    self->selection = gtk_single_selection_new (NULL);
    gtk_single_selection_set_autoselect (self->selection, FALSE);
    gtk_single_selection_set_can_unselect (self->selection, TRUE);
    g_signal_connect_swapped (self->selection, "notify::selected", G_CALLBACK (selection_changed_cb), self);
    factory = gtk_signal_list_item_factory_new ();
    g_signal_connect (factory, "setup", G_CALLBACK (setup_row_cb), self);
    g_signal_connect (factory, "bind", G_CALLBACK (bind_row_cb), self);
    g_signal_connect (factory, "unbind", G_CALLBACK (unbind_row_cb), self);
    self->list_view = gtk_list_view_new (GTK_SELECTION_MODEL (g_object_ref (self->selection)), factory);
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->list_view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                    _("Regions"), -1);
    g_signal_connect (self->list_view, "activate", G_CALLBACK (row_activate_cb), self);
    list_scrolled = gtk_scrolled_window_new ();
    gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (list_scrolled), self->list_view);
    gtk_widget_set_hexpand (list_scrolled, TRUE);
    gtk_widget_set_size_request (list_scrolled, -1, 120);
    gtk_box_append (GTK_BOX (lower), list_scrolled);

    editor_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
    gtk_widget_set_margin_start (editor_box, 12);
    gtk_widget_set_margin_end (editor_box, 12);
    gtk_widget_set_margin_top (editor_box, 6);
    gtk_widget_set_size_request (editor_box, 320, -1);
    self->label_entry = gtk_entry_new ();
    self->tier_entry = gtk_entry_new ();
    self->transcript_entry = gtk_entry_new ();
    g_signal_connect_swapped (self->label_entry, "activate", G_CALLBACK (label_activate_cb), self);
    g_signal_connect_swapped (self->tier_entry, "activate", G_CALLBACK (tier_activate_cb), self);
    g_signal_connect_swapped (self->transcript_entry, "activate", G_CALLBACK (transcript_activate_cb), self);
    watch_focus_leave (self, self->label_entry);
    watch_focus_leave (self, self->tier_entry);
    watch_focus_leave (self, self->transcript_entry);
    gtk_box_append (GTK_BOX (editor_box), labelled (_("_Label"), self->label_entry));
    gtk_box_append (GTK_BOX (editor_box), labelled (_("_Speaker tier"), self->tier_entry));
    gtk_box_append (GTK_BOX (editor_box), labelled (_("_Transcript"), self->transcript_entry));
    self->attributes_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
    gtk_box_append (GTK_BOX (editor_box), self->attributes_box);
    add_row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
    self->attr_key_entry = gtk_entry_new ();
    gtk_entry_set_placeholder_text (GTK_ENTRY (self->attr_key_entry), _("Attribute"));
    gtk_widget_set_size_request (self->attr_key_entry, 90, -1);
    self->attr_value_entry = gtk_entry_new ();
    gtk_entry_set_placeholder_text (GTK_ENTRY (self->attr_value_entry), _("Value"));
    gtk_widget_set_hexpand (self->attr_value_entry, TRUE);
    g_signal_connect_swapped (self->attr_value_entry, "activate", G_CALLBACK (add_attribute_cb), self);
    add_button = gtk_button_new_from_icon_name ("list-add-symbolic");
    gtk_widget_set_tooltip_text (add_button, _("Add Attribute"));
    gtk_accessible_update_property (GTK_ACCESSIBLE (add_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                    _("Add Attribute"), -1);
    g_signal_connect_swapped (add_button, "clicked", G_CALLBACK (add_attribute_cb), self);
    gtk_box_append (GTK_BOX (add_row), self->attr_key_entry);
    gtk_box_append (GTK_BOX (add_row), self->attr_value_entry);
    gtk_box_append (GTK_BOX (add_row), add_button);
    gtk_box_append (GTK_BOX (editor_box), add_row);
    {
      GtkWidget *delete = gtk_button_new_with_mnemonic (_("_Delete Region"));

      gtk_widget_set_tooltip_text (delete, _("Delete the Selected Region (Delete)"));
      gtk_widget_add_css_class (delete, "destructive-action");
      gtk_widget_set_halign (delete, GTK_ALIGN_START);
      g_signal_connect_swapped (delete, "clicked", G_CALLBACK (delete_clicked_cb), self);
      gtk_box_append (GTK_BOX (editor_box), delete);
    }
    self->editor = editor_box;
    gtk_box_append (GTK_BOX (lower), editor_box);

    gtk_paned_set_end_child (GTK_PANED (paned), lower);
    gtk_paned_set_shrink_end_child (GTK_PANED (paned), FALSE);
  }
  gtk_box_append (GTK_BOX (self->box), paned);
  gtk_widget_set_sensitive (self->box, FALSE);
}

static void
kp_audio_page_dispose (GObject *object)
{
  KpAudioPage *self = KP_AUDIO_PAGE (object);

  kp_audio_page_unload (self);
  g_clear_pointer (&self->box, gtk_widget_unparent);
  self->waveform = NULL;
  self->editor = NULL;
  g_clear_object (&self->selection);

  G_OBJECT_CLASS (kp_audio_page_parent_class)->dispose (object);
}

static void
kp_audio_page_finalize (GObject *object)
{
  KpAudioPage *self = KP_AUDIO_PAGE (object);

  g_clear_error (&self->error);
  g_free (self->sink_name);
  g_strfreev (self->labels);

  G_OBJECT_CLASS (kp_audio_page_parent_class)->finalize (object);
}

static void
kp_audio_page_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  KpAudioPage *self = KP_AUDIO_PAGE (object);

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
kp_audio_page_class_init (KpAudioPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kp_audio_page_dispose;
  object_class->finalize = kp_audio_page_finalize;
  object_class->get_property = kp_audio_page_get_property;

  properties[PROP_CAN_UNDO] =
    g_param_spec_boolean ("can-undo", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_CAN_REDO] =
    g_param_spec_boolean ("can-redo", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* (const GError *error): the audio cannot be shown or played. */
  signals[ERROR] =
    g_signal_new ("error", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);

  gtk_widget_class_install_action (widget_class, "audio.export", "s", export_action);
  gtk_widget_class_install_action (widget_class, "audio.import", NULL, import_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "kp-audio-page");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
kp_audio_page_init (KpAudioPage *self)
{
  build_ui (self);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "audio.export", FALSE);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "audio.import", FALSE);
}

GtkWidget *
kp_audio_page_new (void)
{
  return g_object_new (KP_TYPE_AUDIO_PAGE, NULL);
}
