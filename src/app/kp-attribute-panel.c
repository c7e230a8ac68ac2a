/* kp-attribute-panel.c: the attributes of the selected objects
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-attribute-panel.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <math.h>

#include "kp-panel-common.h"

struct _KpAttributePanel
{
  GtkWidget   parent_instance;

  KpCanvas   *canvas;
  KpDocument *document;
  GPtrArray  *labels;            /* KpLabel */
  GPtrArray  *attributes;        /* KpAttribute */

  GtkWidget  *box;
  GtkWidget  *placeholder;
  GHashTable *editors;           /* gint64* attribute id -> GtkWidget* (borrowed) */
  guint       rebuild_id;
  guint       applying : 1;
  guint       building : 1;
};

G_DEFINE_FINAL_TYPE (KpAttributePanel, kp_attribute_panel, GTK_TYPE_WIDGET)

enum {
  ERROR,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void rebuild (KpAttributePanel *self);

/* What an editor edits: the attribute and the label's selected objects. */
typedef struct
{
  KpAttributePanel *self;
  gint64            attribute_id;
  KpAttributeKind   kind;
  char            **options;
  GArray           *ids;
} Editor;

static void
editor_free (Editor *editor)
{
  g_strfreev (editor->options);
  g_array_unref (editor->ids);
  g_free (editor);
}

static void
apply (Editor     *editor,
       const char *value)
{
  KpAttributePanel *self = editor->self;
  g_autoptr(GError) error = NULL;

  if (self->building || self->document == NULL || editor->ids->len == 0)
    return;

  /* Nothing to do when every object has that value already. */
  {
    gboolean same = TRUE;

    for (guint i = 0; i < editor->ids->len && same; i++)
      {
        const KpAnnotation *annotation = kp_document_lookup (self->document,
                                                             g_array_index (editor->ids, gint64, i));

        if (annotation == NULL ||
            g_strcmp0 (kp_annotation_get_attribute (annotation, editor->attribute_id), value) != 0)
          same = FALSE;
      }
    if (same)
      return;
  }

  self->applying = TRUE;
  if (!kp_document_set_attribute (self->document, (const gint64 *)editor->ids->data, editor->ids->len,
                                  editor->attribute_id, value, &error))
    g_signal_emit (self, signals[ERROR], 0, error);
  self->applying = FALSE;
}

static void
check_toggled_cb (GtkCheckButton *button,
                  Editor         *editor)
{
  apply (editor, gtk_check_button_get_active (button) ? "true" : "false");
}

static void
choice_selected_cb (GtkDropDown *drop_down,
                    GParamSpec  *pspec,
                    Editor      *editor)
{
  guint selected = gtk_drop_down_get_selected (drop_down);

  if (selected == GTK_INVALID_LIST_POSITION || editor->options == NULL ||
      selected >= g_strv_length (editor->options))
    return;

  apply (editor, editor->options[selected]);
}

static void
entry_activate_cb (GtkEntry *entry,
                   Editor   *editor)
{
  apply (editor, gtk_editable_get_text (GTK_EDITABLE (entry)));
}

static void
entry_focus_leave_cb (GtkEventControllerFocus *focus,
                      Editor                  *editor)
{
  GtkWidget *entry = gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (focus));

  apply (editor, gtk_editable_get_text (GTK_EDITABLE (entry)));
}

static void
spin_value_changed_cb (GtkSpinButton *spin,
                       Editor        *editor)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  g_ascii_dtostr (buffer, sizeof buffer, gtk_spin_button_get_value (spin));
  apply (editor, buffer);
}

static GtkWidget *
make_editor (KpAttributePanel   *self,
             const KpAttribute  *attribute,
             const KpAnnotation *first,
             GArray             *ids)
{
  const char *value = kp_annotation_get_attribute (first, attribute->id);
  Editor *editor = g_new0 (Editor, 1);
  GtkWidget *widget = NULL;

  editor->self = self;
  editor->attribute_id = attribute->id;
  editor->kind = attribute->kind;
  editor->options = g_strdupv (attribute->options);
  editor->ids = g_array_ref (ids);

  if (value == NULL)
    value = attribute->default_value;

  switch (attribute->kind)
    {
    case KP_ATTRIBUTE_CHECKBOX:
      widget = gtk_check_button_new ();
      gtk_check_button_set_active (GTK_CHECK_BUTTON (widget), g_strcmp0 (value, "true") == 0);
      g_signal_connect (widget, "toggled", G_CALLBACK (check_toggled_cb), editor);
      break;

    case KP_ATTRIBUTE_CHOICE:
      {
        guint selected = GTK_INVALID_LIST_POSITION;

        widget = gtk_drop_down_new_from_strings ((const char * const *)attribute->options);
        for (guint i = 0; attribute->options != NULL && attribute->options[i] != NULL; i++)
          if (g_strcmp0 (attribute->options[i], value) == 0)
            selected = i;
        gtk_drop_down_set_selected (GTK_DROP_DOWN (widget), selected);
        g_signal_connect (widget, "notify::selected", G_CALLBACK (choice_selected_cb), editor);
      }
      break;

    case KP_ATTRIBUTE_TEXT:
      {
        GtkEventController *focus = gtk_event_controller_focus_new ();

        widget = gtk_entry_new ();
        gtk_editable_set_text (GTK_EDITABLE (widget), value ? value : "");
        gtk_widget_set_hexpand (widget, TRUE);
        g_signal_connect (widget, "activate", G_CALLBACK (entry_activate_cb), editor);
        g_signal_connect (focus, "leave", G_CALLBACK (entry_focus_leave_cb), editor);
        gtk_widget_add_controller (widget, focus);
      }
      break;

    case KP_ATTRIBUTE_NUMBER:
    default:
      {
        double min = attribute->min > -G_MAXDOUBLE ? attribute->min : -1e9;
        double max = attribute->max < G_MAXDOUBLE ? attribute->max : 1e9;
        GtkAdjustment *adjustment = gtk_adjustment_new (value ? g_ascii_strtod (value, NULL) : MAX (min, 0),
                                                        min, max, 1, 10, 0);

        widget = gtk_spin_button_new (adjustment, 1, 2);
        gtk_spin_button_set_numeric (GTK_SPIN_BUTTON (widget), TRUE);
        g_signal_connect (widget, "value-changed", G_CALLBACK (spin_value_changed_cb), editor);
      }
      break;
    }

  gtk_widget_set_valign (widget, GTK_ALIGN_CENTER);
  g_object_set_data_full (G_OBJECT (widget), "kp-editor", editor, (GDestroyNotify)editor_free);
  g_hash_table_insert (self->editors, g_memdup2 (&attribute->id, sizeof attribute->id), widget);

  return widget;
}

static void
clear (KpAttributePanel *self)
{
  GtkWidget *child;

  g_hash_table_remove_all (self->editors);
  while ((child = gtk_widget_get_first_child (self->box)) != NULL)
    gtk_box_remove (GTK_BOX (self->box), child);
}

static void
rebuild (KpAttributePanel *self)
{
  g_autoptr(GArray) label_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  const gint64 *ids = NULL;
  guint n_ids = 0;
  gboolean any = FALSE;

  g_clear_handle_id (&self->rebuild_id, g_source_remove);

  self->building = TRUE;
  clear (self);

  if (self->canvas != NULL && self->document != NULL)
    ids = kp_canvas_get_selection (self->canvas, &n_ids);

  /* The labels of the selection, in the order first selected. */
  for (guint i = 0; i < n_ids; i++)
    {
      const KpAnnotation *annotation = kp_document_lookup (self->document, ids[i]);
      gboolean seen = FALSE;

      if (annotation == NULL)
        continue;
      for (guint j = 0; j < label_ids->len && !seen; j++)
        seen = g_array_index (label_ids, gint64, j) == annotation->label_id;
      if (!seen)
        g_array_append_val (label_ids, annotation->label_id);
    }

  for (guint l = 0; l < label_ids->len; l++)
    {
      gint64 label_id = g_array_index (label_ids, gint64, l);
      g_autoptr(GArray) of_label = g_array_new (FALSE, FALSE, sizeof (gint64));
      const KpAnnotation *first = NULL;
      const KpLabel *label = kp_panel_find_label (self->labels, label_id);
      GtkWidget *group = NULL;

      for (guint i = 0; i < n_ids; i++)
        {
          const KpAnnotation *annotation = kp_document_lookup (self->document, ids[i]);

          if (annotation != NULL && annotation->label_id == label_id)
            {
              if (first == NULL)
                first = annotation;
              g_array_append_val (of_label, ids[i]);
            }
        }

      for (guint a = 0; self->attributes != NULL && a < self->attributes->len; a++)
        {
          const KpAttribute *attribute = g_ptr_array_index (self->attributes, a);
          GtkWidget *row, *editor;

          if (attribute->label_id != label_id)
            continue;

          if (group == NULL)
            {
              g_autofree char *description = NULL;

              group = adw_preferences_group_new ();
              adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group),
                                               label ? label->name : _("No label"));
              if (of_label->len > 1)
                {
                  description = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                              "Changes apply to %u object",
                                                              "Changes apply to %u objects",
                                                              of_label->len),
                                                 of_label->len);
                  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group), description);
                }
              gtk_box_append (GTK_BOX (self->box), group);
            }

          row = adw_action_row_new ();
          adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), attribute->name);
          editor = make_editor (self, attribute, first, of_label);
          gtk_accessible_update_relation (GTK_ACCESSIBLE (editor),
                                          GTK_ACCESSIBLE_RELATION_LABELLED_BY, row, NULL,
                                          -1);
          adw_action_row_add_suffix (ADW_ACTION_ROW (row), editor);
          if (attribute->kind == KP_ATTRIBUTE_CHECKBOX)
            adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), editor);
          adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
          any = TRUE;
        }
    }

  if (!any)
    {
      gtk_label_set_label (GTK_LABEL (self->placeholder),
                           n_ids == 0 ? _("Select an object to edit its attributes.")
                                      : _("The selected objects’ labels have no attributes."));
      gtk_box_append (GTK_BOX (self->box), self->placeholder);
    }

  self->building = FALSE;
}

static gboolean
rebuild_idle_cb (gpointer user_data)
{
  KpAttributePanel *self = user_data;

  self->rebuild_id = 0;
  rebuild (self);

  return G_SOURCE_REMOVE;
}

/* Several changes in a row (a selection made of many) rebuild once. */
static void
queue_rebuild (KpAttributePanel *self)
{
  if (self->rebuild_id == 0)
    self->rebuild_id = g_idle_add_full (G_PRIORITY_HIGH_IDLE + 20, rebuild_idle_cb, self, NULL);
}

static void
document_changed_cb (KpAttributePanel *self,
                     gint64            annotation_id,
                     KpDocument       *document)
{
  /* The panel's own edit: its editors already show it, and rebuilding
   * would take the focus from the one in use. */
  if (self->applying)
    return;

  if (annotation_id != 0 && self->canvas != NULL && !kp_canvas_is_selected (self->canvas, annotation_id))
    return;

  queue_rebuild (self);
}

static void
set_document (KpAttributePanel *self,
              KpDocument       *document)
{
  if (kp_panel_follow_document (self, &self->document, document, "changed",
                                G_CALLBACK (document_changed_cb)))
    queue_rebuild (self);
}

static void
canvas_document_cb (KpAttributePanel *self,
                    GParamSpec       *pspec,
                    KpCanvas         *canvas)
{
  set_document (self, kp_canvas_get_document (canvas));
}

static void
kp_attribute_panel_dispose (GObject *object)
{
  KpAttributePanel *self = (KpAttributePanel *)object;
  GtkWidget *child;

  kp_attribute_panel_set_canvas (self, NULL);
  g_clear_handle_id (&self->rebuild_id, g_source_remove);

  if (self->editors != NULL)
    clear (self);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  g_clear_object (&self->placeholder);
  g_clear_pointer (&self->editors, g_hash_table_unref);
  g_clear_pointer (&self->labels, g_ptr_array_unref);
  g_clear_pointer (&self->attributes, g_ptr_array_unref);

  G_OBJECT_CLASS (kp_attribute_panel_parent_class)->dispose (object);
}

static void
kp_attribute_panel_class_init (KpAttributePanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kp_attribute_panel_dispose;

  signals[ERROR] = kp_panel_error_signal_new (G_TYPE_FROM_CLASS (klass));

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "kpattributepanel");
}

static void
kp_attribute_panel_init (KpAttributePanel *self)
{
  self->editors = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);

  self->box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_widget_set_margin_top (self->box, 6);
  gtk_widget_set_margin_bottom (self->box, 12);
  gtk_widget_set_margin_start (self->box, 12);
  gtk_widget_set_margin_end (self->box, 12);
  gtk_widget_set_parent (self->box, GTK_WIDGET (self));

  self->placeholder = g_object_ref_sink (gtk_label_new (NULL));
  gtk_label_set_wrap (GTK_LABEL (self->placeholder), TRUE);
  gtk_widget_add_css_class (self->placeholder, "dim-label");

  rebuild (self);
}

GtkWidget *
kp_attribute_panel_new (void)
{
  return g_object_new (KP_TYPE_ATTRIBUTE_PANEL, NULL);
}

void
kp_attribute_panel_set_canvas (KpAttributePanel *self,
                               KpCanvas         *canvas)
{
  g_return_if_fail (KP_IS_ATTRIBUTE_PANEL (self));

  if (kp_panel_follow_canvas (self, &self->canvas, canvas,
                              G_CALLBACK (queue_rebuild), G_CALLBACK (canvas_document_cb)))
    set_document (self, canvas != NULL ? kp_canvas_get_document (canvas) : NULL);
}

void
kp_attribute_panel_set_labels (KpAttributePanel *self,
                               GPtrArray        *labels)
{
  g_return_if_fail (KP_IS_ATTRIBUTE_PANEL (self));

  g_clear_pointer (&self->labels, g_ptr_array_unref);
  self->labels = kp_panel_copy_labels (labels);
  queue_rebuild (self);
}

void
kp_attribute_panel_set_attributes (KpAttributePanel *self,
                                   GPtrArray        *attributes)
{
  g_return_if_fail (KP_IS_ATTRIBUTE_PANEL (self));

  g_clear_pointer (&self->attributes, g_ptr_array_unref);
  self->attributes = kp_panel_copy_attributes (attributes);
  queue_rebuild (self);
}

GtkWidget *
kp_attribute_panel_get_editor (KpAttributePanel *self,
                               gint64            attribute_id)
{
  g_return_val_if_fail (KP_IS_ATTRIBUTE_PANEL (self), NULL);

  /* Tests ask right after changing the selection. */
  if (self->rebuild_id != 0)
    rebuild (self);

  return g_hash_table_lookup (self->editors, &attribute_id);
}
