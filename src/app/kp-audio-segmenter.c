/* kp-audio-segmenter.c: the kp-audio-segmenter layout element, and a small player
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-audio-segmenter.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n.h>

#include "kp-av-common.h"
#include "kp-layout-src-private.h"
#include "kp-peaks.h"
#include "kp-player.h"
#include "kp-waveform.h"

/* Until the file tells its own rate, segments are kept at this one; the
 * regions keep their times when the real rate arrives. */
#define PROVISIONAL_RATE 48000

struct _KpAudioSegmenter
{
  GtkWidget     parent_instance;

  GtkWidget    *box;
  GtkWidget    *error_label;
  GtkWidget    *waveform;
  GtkWidget    *play_button;
  GtkWidget    *summary_label;
  GtkWidget    *remote_button;

  GFile        *file;
  KpPeaks      *peaks;
  KpPlayer     *player;
  KpRegions    *regions;
  GCancellable *cancellable;
  GError       *error;
  GStrv         labels;
  gboolean      player_only;
  gboolean      setting;
};

enum {
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (KpAudioSegmenter, kp_audio_segmenter, GTK_TYPE_WIDGET)

static void
show_error (KpAudioSegmenter *self,
            const GError     *error)
{
  g_autofree char *text = NULL;

  if (!kp_av_keep_error (&self->error, error))
    return;
  text = g_strdup_printf (_("The audio cannot be loaded: %s"), error->message);
  gtk_label_set_text (GTK_LABEL (self->error_label), text);
  gtk_widget_set_visible (self->error_label, TRUE);
}

static void
update_summary (KpAudioSegmenter *self)
{
  guint n;
  g_autofree char *text = NULL;

  if (self->player_only)
    return;
  n = g_list_model_get_n_items (G_LIST_MODEL (self->regions));
  if (n == 0)
    text = g_strdup (_("Drag across the waveform to mark a segment; keys 1–9 label the selected one"));
  else
    text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u segment", "%u segments", n), n);
  gtk_label_set_text (GTK_LABEL (self->summary_label), text);
}

static void
regions_changed_cb (KpAudioSegmenter *self)
{
  /* With one label there is nothing to choose: new segments get it. */
  if (!self->setting && self->labels != NULL && g_strv_length (self->labels) == 1)
    {
      guint n = g_list_model_get_n_items (G_LIST_MODEL (self->regions));

      for (guint i = 0; i < n; i++)
        {
          KpRegion *region = kp_regions_get_region (self->regions, i);

          if (*kp_region_get_label (region) == '\0')
            {
              self->setting = TRUE;
              kp_region_set_label (region, self->labels[0]);
              self->setting = FALSE;
            }
        }
    }
  update_summary (self);
  if (!self->setting)
    g_signal_emit (self, signals[CHANGED], 0);
}

static void
peaks_loaded_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(KpAudioSegmenter) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!kp_peaks_load_finish (KP_PEAKS (object), result, &error)
      && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    show_error (self, error);
}

static void
peaks_rate_cb (KpAudioSegmenter *self)
{
  guint rate = kp_peaks_get_sample_rate (self->peaks);

  if (rate == 0 || rate == kp_regions_get_sample_rate (self->regions))
    return;
  self->setting = TRUE;
  kp_regions_set_sample_rate (self->regions, rate);
  self->setting = FALSE;
}

static void
player_error_cb (KpAudioSegmenter *self,
                 const GError     *error)
{
  show_error (self, error);
}

static void
play_clicked_cb (KpAudioSegmenter *self)
{
  gtk_widget_activate_action (self->waveform, "waveform.play-pause", NULL);
}

static void
playing_cb (KpAudioSegmenter *self)
{
  gtk_button_set_icon_name (GTK_BUTTON (self->play_button),
                            kp_player_get_playing (self->player)
                            ? "media-playback-pause-symbolic" : "media-playback-start-symbolic");
}

static void
label_clicked_cb (GtkButton        *button,
                  KpAudioSegmenter *self)
{
  int n = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (button), "n"));

  gtk_widget_activate_action (self->waveform, "region.label", "i", n);
}

static void
delete_clicked_cb (KpAudioSegmenter *self)
{
  gtk_widget_activate_action (self->waveform, "region.delete", NULL);
}

static void start_loading (KpAudioSegmenter *self);

static void
build (KpAudioSegmenter   *self,
       const char         *src,
       GFile              *base,
       const char * const *labels,
       const char         *header,
       gboolean            player_only)
{
  GtkWidget *bar, *scrolled;
  g_autoptr(GError) error = NULL;

  self->player_only = player_only;
  self->labels = labels != NULL && labels[0] != NULL ? g_strdupv ((char **)labels) : NULL;

  self->error_label = kp_av_element_begin (self->box, header);

  self->waveform = kp_waveform_new ();
  gtk_widget_set_size_request (self->waveform, 240, player_only ? 64 : 140);
  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_AUTOMATIC, GTK_POLICY_NEVER);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), self->waveform);
  gtk_box_append (GTK_BOX (self->box), scrolled);

  bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->play_button = kp_av_play_button_new ();
  g_signal_connect_swapped (self->play_button, "clicked", G_CALLBACK (play_clicked_cb), self);
  gtk_box_append (GTK_BOX (bar), self->play_button);
  self->summary_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->summary_label), 0);
  /* Wrapping beside buttons confuses height-for-width: ellipsize. */
  gtk_label_set_ellipsize (GTK_LABEL (self->summary_label), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (self->summary_label, TRUE);
  gtk_widget_add_css_class (self->summary_label, "dim-label");
  gtk_box_append (GTK_BOX (bar), self->summary_label);
  /* The labels as buttons too, for the selected segment: the keys are
   * quicker, the buttons show what there is. */
  for (guint i = 0; !player_only && self->labels != NULL && self->labels[i] != NULL && i < 9; i++)
    {
      GtkWidget *button = gtk_button_new_with_label (self->labels[i]);
      /* Translators: tooltip of a label button; %u is its key, 1 to 9 */
      g_autofree char *tooltip = g_strdup_printf (_("Label the Selected Segment (%u)"), i + 1);

      gtk_widget_set_tooltip_text (button, tooltip);
      g_object_set_data (G_OBJECT (button), "n", GINT_TO_POINTER (i + 1));
      g_signal_connect (button, "clicked", G_CALLBACK (label_clicked_cb), self);
      gtk_box_append (GTK_BOX (bar), button);
    }
  if (!player_only)
    {
      GtkWidget *delete = gtk_button_new_from_icon_name ("edit-delete-symbolic");

      gtk_widget_set_tooltip_text (delete, _("Delete the Selected Segment (Delete)"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (delete), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _("Delete the Selected Segment"), -1);
      g_signal_connect_swapped (delete, "clicked", G_CALLBACK (delete_clicked_cb), self);
      gtk_box_append (GTK_BOX (bar), delete);
    }
  gtk_box_append (GTK_BOX (self->box), bar);

  self->regions = kp_regions_new (PROVISIONAL_RATE);
  g_signal_connect_object (self->regions, "changed", G_CALLBACK (regions_changed_cb), self,
                           G_CONNECT_SWAPPED);
  if (!player_only)
    {
      kp_waveform_set_regions (KP_WAVEFORM (self->waveform), self->regions);
      kp_waveform_set_labels (KP_WAVEFORM (self->waveform), (const char * const *)self->labels);
    }
  update_summary (self);

  self->file = kp_layout_resolve_src (src, base);
  if (self->file == NULL)
    {
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("The element has no src"));
      show_error (self, error);
      return;
    }
  /* Remote media is fetched only when the person asks for it: building a
   * layout never touches the network by itself. */
  if (!g_file_is_native (self->file))
    {
      self->remote_button = gtk_button_new_with_mnemonic (_("_Load Remote Audio"));
      gtk_widget_set_tooltip_text (self->remote_button, src);
      gtk_widget_set_halign (self->remote_button, GTK_ALIGN_START);
      g_signal_connect_swapped (self->remote_button, "clicked", G_CALLBACK (start_loading), self);
      gtk_box_insert_child_after (GTK_BOX (self->box), self->remote_button, self->error_label);
      return;
    }
  start_loading (self);
}

static void
start_loading (KpAudioSegmenter *self)
{
  g_autoptr(GError) error = NULL;

  if (self->remote_button != NULL)
    {
      gtk_box_remove (GTK_BOX (self->box), self->remote_button);
      self->remote_button = NULL;
    }
  self->peaks = kp_peaks_new ();
  g_signal_connect_object (self->peaks, "notify::sample-rate", G_CALLBACK (peaks_rate_cb), self,
                           G_CONNECT_SWAPPED);
  kp_waveform_set_peaks (KP_WAVEFORM (self->waveform), self->peaks);
  if (g_file_is_native (self->file))
    kp_waveform_set_file (KP_WAVEFORM (self->waveform), self->file);
  kp_peaks_load_async (self->peaks, self->file,
                       g_file_is_native (self->file) ? KP_PEAKS_LOAD_NONE : KP_PEAKS_LOAD_NO_CACHE,
                       self->cancellable, peaks_loaded_cb, g_object_ref (self));

  /* KP_AUDIO_SINK names another sink (tests use "fakesink"). */
  self->player = kp_player_new (g_getenv ("KP_AUDIO_SINK"));
  g_signal_connect_object (self->player, "error", G_CALLBACK (player_error_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->player, "notify::playing", G_CALLBACK (playing_cb), self, G_CONNECT_SWAPPED);
  if (!kp_player_set_file (self->player, self->file, &error))
    show_error (self, error);
  else
    kp_waveform_set_player (KP_WAVEFORM (self->waveform), self->player);
}

GtkWidget *
kp_audio_segmenter_new (const char         *src,
                        GFile              *base,
                        const char * const *labels,
                        const char         *header)
{
  KpAudioSegmenter *self = g_object_new (KP_TYPE_AUDIO_SEGMENTER, NULL);

  build (self, src, base, labels, header, FALSE);
  return GTK_WIDGET (self);
}

GtkWidget *
kp_audio_segmenter_new_player (const char *src,
                               GFile      *base)
{
  KpAudioSegmenter *self = g_object_new (KP_TYPE_AUDIO_SEGMENTER, NULL);

  build (self, src, base, NULL, NULL, TRUE);
  return GTK_WIDGET (self);
}

/* Seconds, rounded to the microsecond so that the answer reads well. */
static double
seconds (gint64 samples,
         guint  rate)
{
  return round ((double)samples / rate * 1e6) / 1e6;
}

JsonNode *
kp_audio_segmenter_dup_value (KpAudioSegmenter *self)
{
  g_autoptr(JsonBuilder) builder = NULL;
  guint n, rate;

  g_return_val_if_fail (KP_IS_AUDIO_SEGMENTER (self), NULL);

  if (self->player_only)
    return NULL;
  builder = json_builder_new ();
  n = g_list_model_get_n_items (G_LIST_MODEL (self->regions));
  rate = kp_regions_get_sample_rate (self->regions);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "segments");
  json_builder_begin_array (builder);
  for (guint i = 0; i < n; i++)
    {
      KpRegion *region = kp_regions_get_region (self->regions, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "label");
      json_builder_add_string_value (builder, kp_region_get_label (region));
      json_builder_set_member_name (builder, "startTime");
      json_builder_add_double_value (builder, seconds (kp_region_get_start (region), rate));
      json_builder_set_member_name (builder, "endTime");
      json_builder_add_double_value (builder, seconds (kp_region_get_end (region), rate));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static gboolean
member_seconds (JsonObject *object,
                const char *name,
                double     *out)
{
  return kp_av_json_member_number (object, name, out) && *out >= 0;
}

gboolean
kp_audio_segmenter_set_value (KpAudioSegmenter *self,
                              JsonNode         *value)
{
  JsonArray *array = NULL;
  g_autoptr(GPtrArray) made = NULL;
  guint rate;

  g_return_val_if_fail (KP_IS_AUDIO_SEGMENTER (self), FALSE);

  if (self->player_only)
    return value == NULL;
  if (value != NULL && JSON_NODE_HOLDS_OBJECT (value))
    {
      JsonNode *segments = json_object_get_member (json_node_get_object (value), "segments");

      if (segments == NULL || !JSON_NODE_HOLDS_ARRAY (segments))
        return FALSE;
      array = json_node_get_array (segments);
    }
  else if (value != NULL && JSON_NODE_HOLDS_ARRAY (value))
    array = json_node_get_array (value);
  else if (value != NULL && !JSON_NODE_HOLDS_NULL (value))
    return FALSE;

  /* Check everything before changing anything. */
  rate = kp_regions_get_sample_rate (self->regions);
  made = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      JsonObject *segment;
      const char *label = NULL;
      double start, end;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return FALSE;
      segment = json_node_get_object (node);
      if (!member_seconds (segment, "startTime", &start) || !member_seconds (segment, "endTime", &end)
          || end < start)
        return FALSE;
      if (json_object_has_member (segment, "label"))
        {
          JsonNode *l = json_object_get_member (segment, "label");

          if (json_node_get_value_type (l) != G_TYPE_STRING)
            return FALSE;
          label = json_node_get_string (l);
        }
      g_ptr_array_add (made, kp_region_new ((gint64)llround (start * rate), (gint64)llround (end * rate),
                                            "", label));
    }

  self->setting = TRUE;
  kp_waveform_set_selected_region (KP_WAVEFORM (self->waveform), NULL);
  kp_regions_remove_all (self->regions);
  for (guint i = 0; i < made->len; i++)
    kp_regions_add (self->regions, g_ptr_array_index (made, i));
  self->setting = FALSE;
  update_summary (self);
  g_signal_emit (self, signals[CHANGED], 0);
  return TRUE;
}

const GError *
kp_audio_segmenter_get_error (KpAudioSegmenter *self)
{
  g_return_val_if_fail (KP_IS_AUDIO_SEGMENTER (self), NULL);

  return self->error;
}

KpRegions *
kp_audio_segmenter_get_regions (KpAudioSegmenter *self)
{
  g_return_val_if_fail (KP_IS_AUDIO_SEGMENTER (self), NULL);

  return self->regions;
}

GtkWidget *
kp_audio_segmenter_get_waveform (KpAudioSegmenter *self)
{
  g_return_val_if_fail (KP_IS_AUDIO_SEGMENTER (self), NULL);

  return self->waveform;
}

static void
kp_audio_segmenter_dispose (GObject *object)
{
  KpAudioSegmenter *self = KP_AUDIO_SEGMENTER (object);

  g_cancellable_cancel (self->cancellable);
  if (self->player != NULL)
    {
      kp_player_pause (self->player);
      g_signal_handlers_disconnect_by_data (self->player, self);
    }
  if (self->waveform != NULL)
    {
      kp_waveform_set_player (KP_WAVEFORM (self->waveform), NULL);
      kp_waveform_set_regions (KP_WAVEFORM (self->waveform), NULL);
      kp_waveform_set_peaks (KP_WAVEFORM (self->waveform), NULL);
      self->waveform = NULL;
    }
  g_clear_pointer (&self->box, gtk_widget_unparent);
  g_clear_object (&self->player);
  g_clear_object (&self->peaks);
  if (self->regions != NULL)
    g_signal_handlers_disconnect_by_data (self->regions, self);
  g_clear_object (&self->regions);
  g_clear_object (&self->file);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (kp_audio_segmenter_parent_class)->dispose (object);
}

static void
kp_audio_segmenter_finalize (GObject *object)
{
  KpAudioSegmenter *self = KP_AUDIO_SEGMENTER (object);

  g_clear_error (&self->error);
  g_strfreev (self->labels);

  G_OBJECT_CLASS (kp_audio_segmenter_parent_class)->finalize (object);
}

static void
kp_audio_segmenter_class_init (KpAudioSegmenterClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kp_audio_segmenter_dispose;
  object_class->finalize = kp_audio_segmenter_finalize;

  signals[CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "kp-audio-segmenter");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
kp_audio_segmenter_init (KpAudioSegmenter *self)
{
  self->cancellable = g_cancellable_new ();
  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));
}
