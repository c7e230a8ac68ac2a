/* kp-label-dialog.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-label-dialog.h"

#include <glib/gi18n.h>

struct _KpLabelDialog
{
  AdwWindow       parent_instance;

  KpStore        *store;
  KpLabel        *label;           /* NULL when adding */
  char           *error;

  AdwWindowTitle *window_title;
  GtkButton      *save_button;
  AdwEntryRow    *name_row;
  GtkColorButton *color_button;
  AdwComboRow    *key_row;
  GtkLabel       *error_label;
};

G_DEFINE_FINAL_TYPE (KpLabelDialog, kp_label_dialog, ADW_TYPE_WINDOW)

enum {
  SAVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
set_error (KpLabelDialog *self,
           const char    *message)
{
  g_free (self->error);
  self->error = g_strdup (message);

  gtk_label_set_label (self->error_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
  if (message != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self->name_row), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->name_row), "error");
}

static char *
dup_color (KpLabelDialog *self)
{
  GdkRGBA rgba;

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_color_chooser_get_rgba (GTK_COLOR_CHOOSER (self->color_button), &rgba);
  G_GNUC_END_IGNORE_DEPRECATIONS

  return g_strdup_printf ("#%02x%02x%02x",
                          (int)(CLAMP (rgba.red, 0, 1) * 255 + 0.5),
                          (int)(CLAMP (rgba.green, 0, 1) * 255 + 0.5),
                          (int)(CLAMP (rgba.blue, 0, 1) * 255 + 0.5));
}

gboolean
kp_label_dialog_save (KpLabelDialog *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *color = NULL;
  int key;
  gint64 id;

  g_return_val_if_fail (KP_IS_LABEL_DIALOG (self), FALSE);

  name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_row))));
  color = dup_color (self);
  key = (int)adw_combo_row_get_selected (self->key_row);
  if (key < 0 || key > 9)
    key = 0;

  if (name[0] == '\0')
    {
      set_error (self, _("The label needs a name."));
      return FALSE;
    }

  if (self->label == NULL)
    {
      id = kp_store_add_label (self->store, name, color, key, &error);
    }
  else
    {
      KpLabel updated = *self->label;

      updated.name = name;
      updated.color = color;
      updated.key = key;
      id = kp_store_update_label (self->store, &updated, &error) ? updated.id : 0;
    }

  if (id == 0)
    {
      set_error (self, error->message);
      return FALSE;
    }

  set_error (self, NULL);
  g_signal_emit (self, signals[SAVED], 0, id);
  gtk_window_close (GTK_WINDOW (self));

  return TRUE;
}

static void
save_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  kp_label_dialog_save (KP_LABEL_DIALOG (widget));
}

static void
name_changed_cb (KpLabelDialog *self)
{
  if (self->error != NULL)
    set_error (self, NULL);
}

static void
kp_label_dialog_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), KP_TYPE_LABEL_DIALOG);

  G_OBJECT_CLASS (kp_label_dialog_parent_class)->dispose (object);
}

static void
kp_label_dialog_finalize (GObject *object)
{
  KpLabelDialog *self = (KpLabelDialog *)object;

  g_clear_object (&self->store);
  g_clear_pointer (&self->label, kp_label_free);
  g_free (self->error);

  G_OBJECT_CLASS (kp_label_dialog_parent_class)->finalize (object);
}

static void
kp_label_dialog_class_init (KpLabelDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kp_label_dialog_dispose;
  object_class->finalize = kp_label_dialog_finalize;

  signals[SAVED] =
    g_signal_new ("saved",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_INT64);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/kempelen/Kempelen/ui/kp-label-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, KpLabelDialog, window_title);
  gtk_widget_class_bind_template_child (widget_class, KpLabelDialog, save_button);
  gtk_widget_class_bind_template_child (widget_class, KpLabelDialog, name_row);
  gtk_widget_class_bind_template_child (widget_class, KpLabelDialog, color_button);
  gtk_widget_class_bind_template_child (widget_class, KpLabelDialog, key_row);
  gtk_widget_class_bind_template_child (widget_class, KpLabelDialog, error_label);
  gtk_widget_class_bind_template_callback (widget_class, name_changed_cb);

  gtk_widget_class_install_action (widget_class, "label.save", NULL, save_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
kp_label_dialog_init (KpLabelDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  /* Typing starts in the name. */
  gtk_window_set_focus (GTK_WINDOW (self), GTK_WIDGET (self->name_row));
}

void
kp_label_dialog_set_values (KpLabelDialog *self,
                            const char    *name,
                            const char    *color,
                            int            key)
{
  GdkRGBA rgba;

  g_return_if_fail (KP_IS_LABEL_DIALOG (self));

  gtk_editable_set_text (GTK_EDITABLE (self->name_row), name ? name : "");
  if (color != NULL && gdk_rgba_parse (&rgba, color))
    {
      G_GNUC_BEGIN_IGNORE_DEPRECATIONS
      gtk_color_chooser_set_rgba (GTK_COLOR_CHOOSER (self->color_button), &rgba);
      G_GNUC_END_IGNORE_DEPRECATIONS
    }
  adw_combo_row_set_selected (self->key_row, key >= 1 && key <= 9 ? (guint)key : 0);
  set_error (self, NULL);
}

KpLabelDialog *
kp_label_dialog_new (GtkWindow     *parent,
                     KpStore       *store,
                     const KpLabel *label,
                     const char    *default_color)
{
  KpLabelDialog *self;

  g_return_val_if_fail (!parent || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (KP_IS_STORE (store), NULL);

  self = g_object_new (KP_TYPE_LABEL_DIALOG,
                       "transient-for", parent,
                       NULL);
  self->store = g_object_ref (store);

  if (label != NULL)
    {
      self->label = kp_label_copy (label);
      adw_window_title_set_title (self->window_title, _("Edit Label"));
      gtk_window_set_title (GTK_WINDOW (self), _("Edit Label"));
      gtk_button_set_label (self->save_button, _("_Save"));
      kp_label_dialog_set_values (self, label->name, label->color, label->key);
    }
  else
    {
      kp_label_dialog_set_values (self, NULL, default_color ? default_color : "#3584e4", 0);
    }

  return self;
}

const char *
kp_label_dialog_get_error (KpLabelDialog *self)
{
  g_return_val_if_fail (KP_IS_LABEL_DIALOG (self), NULL);

  return self->error;
}
