/* kp-label-row.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-label-row.h"

#include <glib/gi18n.h>

struct _KpLabelRow
{
  GtkListBoxRow    parent_instance;

  KpLabel         *label;

  GtkDrawingArea  *swatch;
  GtkLabel        *name_label;
  GtkShortcutLabel *key_label;
  GtkButton       *edit_button;
  GtkButton       *delete_button;
};

G_DEFINE_FINAL_TYPE (KpLabelRow, kp_label_row, GTK_TYPE_LIST_BOX_ROW)

static void
draw_swatch (GtkDrawingArea *area,
             cairo_t        *cr,
             int             width,
             int             height,
             gpointer        user_data)
{
  KpLabelRow *self = user_data;
  GdkRGBA rgba;
  double radius = 4;
  double size = MIN (width, height);
  double x = (width - size) / 2;
  double y = (height - size) / 2;

  if (self->label == NULL || !gdk_rgba_parse (&rgba, self->label->color))
    return;

  cairo_new_sub_path (cr);
  cairo_arc (cr, x + size - radius, y + radius, radius, -G_PI / 2, 0);
  cairo_arc (cr, x + size - radius, y + size - radius, radius, 0, G_PI / 2);
  cairo_arc (cr, x + radius, y + size - radius, radius, G_PI / 2, G_PI);
  cairo_arc (cr, x + radius, y + radius, radius, G_PI, 3 * G_PI / 2);
  cairo_close_path (cr);

  gdk_cairo_set_source_rgba (cr, &rgba);
  cairo_fill_preserve (cr);

  /* A faint outline keeps a white or black swatch visible on any theme. */
  cairo_set_source_rgba (cr, 0, 0, 0, 0.2);
  cairo_set_line_width (cr, 1);
  cairo_stroke (cr);
}

static void
kp_label_row_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), KP_TYPE_LABEL_ROW);

  G_OBJECT_CLASS (kp_label_row_parent_class)->dispose (object);
}

static void
kp_label_row_finalize (GObject *object)
{
  KpLabelRow *self = (KpLabelRow *)object;

  g_clear_pointer (&self->label, kp_label_free);

  G_OBJECT_CLASS (kp_label_row_parent_class)->finalize (object);
}

static void
kp_label_row_class_init (KpLabelRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kp_label_row_dispose;
  object_class->finalize = kp_label_row_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/kempelen/Kempelen/ui/kp-label-row.ui");
  gtk_widget_class_bind_template_child (widget_class, KpLabelRow, swatch);
  gtk_widget_class_bind_template_child (widget_class, KpLabelRow, name_label);
  gtk_widget_class_bind_template_child (widget_class, KpLabelRow, key_label);
  gtk_widget_class_bind_template_child (widget_class, KpLabelRow, edit_button);
  gtk_widget_class_bind_template_child (widget_class, KpLabelRow, delete_button);
}

static void
kp_label_row_init (KpLabelRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_drawing_area_set_draw_func (self->swatch, draw_swatch, self, NULL);
}

GtkWidget *
kp_label_row_new (const KpLabel *label)
{
  KpLabelRow *self;
  g_autofree char *accessible = NULL;

  g_return_val_if_fail (label != NULL, NULL);

  self = g_object_new (KP_TYPE_LABEL_ROW, NULL);
  self->label = kp_label_copy (label);

  gtk_label_set_label (self->name_label, label->name);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->name_label), label->name);

  if (label->key >= 1 && label->key <= 9)
    {
      char accel[2] = { (char)('0' + label->key), 0 };

      gtk_shortcut_label_set_accelerator (self->key_label, accel);
      gtk_widget_set_visible (GTK_WIDGET (self->key_label), TRUE);
      /* Translators: accessible name of a label row: label name, its shortcut key. */
      accessible = g_strdup_printf (_("%s, key %d"), label->name, label->key);
    }
  else
    {
      gtk_widget_set_visible (GTK_WIDGET (self->key_label), FALSE);
      accessible = g_strdup (label->name);
    }

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                  -1);

  gtk_actionable_set_action_target (GTK_ACTIONABLE (self->edit_button), "x", label->id);
  gtk_actionable_set_action_target (GTK_ACTIONABLE (self->delete_button), "x", label->id);

  return GTK_WIDGET (self);
}

const KpLabel *
kp_label_row_get_label (KpLabelRow *self)
{
  g_return_val_if_fail (KP_IS_LABEL_ROW (self), NULL);

  return self->label;
}

gint64
kp_label_row_get_id (KpLabelRow *self)
{
  g_return_val_if_fail (KP_IS_LABEL_ROW (self), 0);

  return self->label->id;
}
