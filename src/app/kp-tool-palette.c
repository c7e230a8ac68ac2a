/* kp-tool-palette.c: a toggle button per canvas tool
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-tool-palette.h"

#include <glib/gi18n.h>

#include "kp-keymap.h"
#include "kp-tool.h"

struct _KpToolPalette
{
  GtkWidget  parent_instance;

  GSettings *settings;
  GtkWidget *buttons[KP_N_TOOL_KINDS];
};

G_DEFINE_FINAL_TYPE (KpToolPalette, kp_tool_palette, GTK_TYPE_WIDGET)

static void
update_tooltips (KpToolPalette *self)
{
  for (guint kind = 0; kind < KP_N_TOOL_KINDS; kind++)
    {
      g_autofree char *action = g_strdup_printf ("win.tool('%s')", kp_tool_kind_get_id (kind));
      g_autofree char *key = self->settings ? kp_keymap_dup_label (self->settings, action) : NULL;
      g_autofree char *tooltip = NULL;
      const char *name = kp_tool_kind_get_name (kind);

      if (key != NULL)
        /* Translators: a tool's tooltip: its name, then its key, e.g. "Box (B)". */
        tooltip = g_strdup_printf (_("%s (%s)"), name, key);
      else
        tooltip = g_strdup (name);

      gtk_widget_set_tooltip_text (self->buttons[kind], tooltip);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->buttons[kind]),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, name,
                                      GTK_ACCESSIBLE_PROPERTY_KEY_SHORTCUTS, key ? key : "",
                                      -1);
    }
}

static void
kp_tool_palette_dispose (GObject *object)
{
  KpToolPalette *self = (KpToolPalette *)object;
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  g_clear_object (&self->settings);

  G_OBJECT_CLASS (kp_tool_palette_parent_class)->dispose (object);
}

static void
kp_tool_palette_class_init (KpToolPaletteClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kp_tool_palette_dispose;

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "kptoolpalette");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_TOOLBAR);
}

static void
kp_tool_palette_init (KpToolPalette *self)
{
  GtkLayoutManager *layout = gtk_widget_get_layout_manager (GTK_WIDGET (self));

  gtk_orientable_set_orientation (GTK_ORIENTABLE (layout), GTK_ORIENTATION_VERTICAL);
  gtk_box_layout_set_spacing (GTK_BOX_LAYOUT (layout), 2);
  gtk_widget_add_css_class (GTK_WIDGET (self), "toolbar");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Tools"),
                                  -1);

  for (guint kind = 0; kind < KP_N_TOOL_KINDS; kind++)
    {
      GtkWidget *button = gtk_toggle_button_new ();

      gtk_button_set_icon_name (GTK_BUTTON (button), kp_tool_kind_get_icon_name (kind));
      gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "win.tool");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (button), "s", kp_tool_kind_get_id (kind));
      gtk_widget_add_css_class (button, "flat");
      gtk_widget_set_parent (button, GTK_WIDGET (self));
      self->buttons[kind] = button;
    }
}

GtkWidget *
kp_tool_palette_new (GSettings *settings)
{
  KpToolPalette *self;

  g_return_val_if_fail (settings == NULL || G_IS_SETTINGS (settings), NULL);

  self = g_object_new (KP_TYPE_TOOL_PALETTE, NULL);
  if (settings != NULL)
    {
      self->settings = g_object_ref (settings);
      g_signal_connect_object (settings, "changed::keymap",
                               G_CALLBACK (update_tooltips), self, G_CONNECT_SWAPPED);
    }
  update_tooltips (self);

  return GTK_WIDGET (self);
}

GtkToggleButton *
kp_tool_palette_get_button (KpToolPalette *self,
                            const char    *kind_id)
{
  KpToolKind kind;

  g_return_val_if_fail (KP_IS_TOOL_PALETTE (self), NULL);

  if (!kp_tool_kind_from_id (kind_id, &kind))
    return NULL;

  return GTK_TOGGLE_BUTTON (self->buttons[kind]);
}
