/* kp-suggestion-panel.c: review of the current image's pre-annotations
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-suggestion-panel.h"

#include <glib/gi18n.h>

#include "kp-panel-common.h"

struct _KpSuggestionPanel
{
  GtkWidget   parent_instance;

  KpDocument *document;
  guint       n_pending;

  GtkWidget  *revealer;
  GtkLabel   *count_label;
  GtkScale   *scale;
  GtkLabel   *threshold_label;
};

G_DEFINE_FINAL_TYPE (KpSuggestionPanel, kp_suggestion_panel, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_THRESHOLD,
  PROP_N_PENDING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

guint
kp_suggestion_count_pending (KpDocument *document)
{
  GPtrArray *annotations;
  guint n = 0;

  g_return_val_if_fail (document == NULL || KP_IS_DOCUMENT (document), 0);

  if (document == NULL)
    return 0;

  annotations = kp_document_get_annotations (document);
  for (guint i = 0; i < annotations->len; i++)
    if (((KpAnnotation *)g_ptr_array_index (annotations, i))->review == KP_REVIEW_PENDING)
      n++;

  return n;
}

static void
update (KpSuggestionPanel *self)
{
  g_autofree char *text = NULL;
  guint n = kp_suggestion_count_pending (self->document);

  if (n != 0)
    {
      /* Translators: the suggestion review bar. */
      text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u suggestion",
                                           "%u suggestions", n), n);
      gtk_label_set_label (self->count_label, text);
    }

  gtk_revealer_set_reveal_child (GTK_REVEALER (self->revealer), n != 0);
  gtk_widget_set_visible (GTK_WIDGET (self), n != 0);

  if (n != self->n_pending)
    {
      self->n_pending = n;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_PENDING]);
    }
}

static void
document_changed_cb (KpSuggestionPanel *self,
                     gint64             annotation_id,
                     KpDocument        *document)
{
  update (self);
}

static void
value_changed_cb (KpSuggestionPanel *self,
                  GtkRange          *range)
{
  g_autofree char *text = NULL;

  /* Translators: the confidence threshold, in percent. */
  text = g_strdup_printf (_("%d %%"), (int)(gtk_range_get_value (range) * 100 + 0.5));
  gtk_label_set_label (self->threshold_label, text);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THRESHOLD]);
}

static GtkWidget *
action_button (const char *label,
               const char *action,
               const char *tooltip)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (label);

  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  gtk_widget_set_tooltip_text (button, tooltip);

  return button;
}

static GtkWidget *
icon_button (const char *icon_name,
             const char *name,
             const char *action,
             const char *tooltip)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon_name);

  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);

  return button;
}

static void
kp_suggestion_panel_dispose (GObject *object)
{
  KpSuggestionPanel *self = (KpSuggestionPanel *)object;

  kp_suggestion_panel_set_document (self, NULL);
  g_clear_pointer (&self->revealer, gtk_widget_unparent);

  G_OBJECT_CLASS (kp_suggestion_panel_parent_class)->dispose (object);
}

static void
kp_suggestion_panel_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  KpSuggestionPanel *self = KP_SUGGESTION_PANEL (object);

  switch (prop_id)
    {
    case PROP_THRESHOLD:
      g_value_set_double (value, kp_suggestion_panel_get_threshold (self));
      break;

    case PROP_N_PENDING:
      g_value_set_uint (value, self->n_pending);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_suggestion_panel_set_property (GObject      *object,
                                  guint         prop_id,
                                  const GValue *value,
                                  GParamSpec   *pspec)
{
  KpSuggestionPanel *self = KP_SUGGESTION_PANEL (object);

  switch (prop_id)
    {
    case PROP_THRESHOLD:
      kp_suggestion_panel_set_threshold (self, g_value_get_double (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_suggestion_panel_class_init (KpSuggestionPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kp_suggestion_panel_dispose;
  object_class->get_property = kp_suggestion_panel_get_property;
  object_class->set_property = kp_suggestion_panel_set_property;

  properties[PROP_THRESHOLD] =
    g_param_spec_double ("threshold", NULL, NULL, 0, 1, 0.5,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_PENDING] =
    g_param_spec_uint ("n-pending", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "kpsuggestionpanel");
}

static void
kp_suggestion_panel_init (KpSuggestionPanel *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *buttons;
  GtkWidget *one;
  GtkWidget *scroller;

  /* In a narrow window the bar scrolls rather than widen the window. */
  scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_AUTOMATIC, GTK_POLICY_NEVER);
  gtk_scrolled_window_set_propagate_natural_width (GTK_SCROLLED_WINDOW (scroller), TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), box);

  self->revealer = gtk_revealer_new ();
  gtk_revealer_set_transition_type (GTK_REVEALER (self->revealer), GTK_REVEALER_TRANSITION_TYPE_SLIDE_DOWN);
  gtk_revealer_set_child (GTK_REVEALER (self->revealer), scroller);
  gtk_widget_set_parent (self->revealer, GTK_WIDGET (self));

  gtk_widget_add_css_class (box, "toolbar");
  gtk_widget_add_css_class (box, "kp-suggestion-bar");

  self->count_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_widget_add_css_class (GTK_WIDGET (self->count_label), "heading");
  gtk_widget_set_margin_start (GTK_WIDGET (self->count_label), 6);
  gtk_label_set_xalign (self->count_label, 0);
  gtk_widget_set_hexpand (GTK_WIDGET (self->count_label), TRUE);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->count_label));

  self->scale = GTK_SCALE (gtk_scale_new_with_range (GTK_ORIENTATION_HORIZONTAL, 0, 1, 0.05));
  gtk_range_set_value (GTK_RANGE (self->scale), 0.5);
  gtk_widget_set_size_request (GTK_WIDGET (self->scale), 72, -1);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->scale), _("Confidence Threshold"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->scale),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Confidence Threshold"), -1);
  g_signal_connect_object (self->scale, "value-changed", G_CALLBACK (value_changed_cb),
                           self, G_CONNECT_SWAPPED);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->scale));

  self->threshold_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_width_chars (self->threshold_label, 4);
  gtk_widget_add_css_class (GTK_WIDGET (self->threshold_label), "numeric");
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->threshold_label));
  value_changed_cb (self, GTK_RANGE (self->scale));

  buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_append (GTK_BOX (buttons),
                  action_button (_("Accept _Above"), "win.accept-above",
                                 _("Accept Every Suggestion at or Above the Threshold (Shift+A)")));
  gtk_box_append (GTK_BOX (buttons),
                  action_button (_("Reject _Below"), "win.reject-below",
                                 _("Reject Every Suggestion Below the Threshold (Shift+X)")));
  one = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_add_css_class (one, "linked");
  gtk_box_append (GTK_BOX (one),
                  icon_button ("object-select-symbolic", _("Accept"), "win.accept-suggestion",
                               _("Accept the Selected Suggestions (A)")));
  gtk_box_append (GTK_BOX (one),
                  icon_button ("window-close-symbolic", _("Reject"), "win.reject-suggestion",
                               _("Reject the Selected Suggestions (X)")));
  gtk_box_append (GTK_BOX (one),
                  icon_button ("go-next-symbolic", _("Next Suggestion"), "win.next-suggestion",
                               _("Go to the Next Suggestion (N)")));
  gtk_box_append (GTK_BOX (buttons), one);
  gtk_box_append (GTK_BOX (box), buttons);

  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
}

GtkWidget *
kp_suggestion_panel_new (void)
{
  return g_object_new (KP_TYPE_SUGGESTION_PANEL, NULL);
}

void
kp_suggestion_panel_set_document (KpSuggestionPanel *self,
                                  KpDocument        *document)
{
  g_return_if_fail (KP_IS_SUGGESTION_PANEL (self));

  if (kp_panel_follow_document (self, &self->document, document, "changed",
                                G_CALLBACK (document_changed_cb)))
    update (self);
}

guint
kp_suggestion_panel_get_n_pending (KpSuggestionPanel *self)
{
  g_return_val_if_fail (KP_IS_SUGGESTION_PANEL (self), 0);

  return self->n_pending;
}

double
kp_suggestion_panel_get_threshold (KpSuggestionPanel *self)
{
  g_return_val_if_fail (KP_IS_SUGGESTION_PANEL (self), 0.5);

  return gtk_range_get_value (GTK_RANGE (self->scale));
}

void
kp_suggestion_panel_set_threshold (KpSuggestionPanel *self,
                                   double             threshold)
{
  g_return_if_fail (KP_IS_SUGGESTION_PANEL (self));

  threshold = CLAMP (threshold, 0, 1);
  if (threshold == kp_suggestion_panel_get_threshold (self))
    return;

  gtk_range_set_value (GTK_RANGE (self->scale), threshold);
}
