/* kp-keymap-editor.c: the preferences window for keyboard shortcuts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-keymap-editor.h"

#include <glib/gi18n.h>

#include "kp-keymap.h"

struct _KpKeymapEditor
{
  AdwPreferencesWindow  parent_instance;

  GSettings            *settings;
  GHashTable           *rows;        /* action -> AdwActionRow* (borrowed) */
  GtkWindow            *capture;
};

G_DEFINE_FINAL_TYPE (KpKeymapEditor, kp_keymap_editor, ADW_TYPE_PREFERENCES_WINDOW)

static void
update_row (KpKeymapEditor *self,
            const char     *action)
{
  AdwActionRow *row = g_hash_table_lookup (self->rows, action);
  GtkShortcutLabel *label = g_object_get_data (G_OBJECT (row), "kp-shortcut");
  GtkWidget *reset = g_object_get_data (G_OBJECT (row), "kp-reset");
  const KpKeymapEntry *entry = kp_keymap_lookup (action);
  g_autofree char *accels = kp_keymap_dup_accels (self->settings, action);
  g_auto(GStrv) parts = g_strsplit (accels, " ", -1);
  g_autoptr(GString) conflicts = g_string_new (NULL);

  gtk_shortcut_label_set_accelerator (label, accels);
  gtk_shortcut_label_set_disabled_text (label, _("None"));
  gtk_widget_set_visible (reset, !g_str_equal (accels, entry->accels));

  for (guint i = 0; parts[i] != NULL; i++)
    {
      const char *other = kp_keymap_find_conflict (self->settings, action, parts[i]);

      if (other == NULL)
        continue;
      if (conflicts->len > 0)
        g_string_append (conflicts, ", ");
      g_string_append_printf (conflicts, "“%s”", kp_keymap_entry_get_title (kp_keymap_lookup (other)));
    }

  if (conflicts->len > 0)
    {
      /* Translators: a keymap editor row whose key another action uses too. */
      g_autofree char *subtitle = g_strdup_printf (_("Also used by %s"), conflicts->str);

      adw_action_row_set_subtitle (row, subtitle);
      gtk_widget_add_css_class (GTK_WIDGET (row), "error");
    }
  else
    {
      adw_action_row_set_subtitle (row, NULL);
      gtk_widget_remove_css_class (GTK_WIDGET (row), "error");
    }
}

static void
update_rows (KpKeymapEditor *self)
{
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, self->rows);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    update_row (self, key);
}

/* Waiting for a key */

static gboolean
capture_key_cb (GtkEventControllerKey *controller,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                KpKeymapEditor        *self)
{
  GtkWindow *capture = GTK_WINDOW (gtk_event_controller_get_widget (GTK_EVENT_CONTROLLER (controller)));
  const char *action = g_object_get_data (G_OBJECT (capture), "kp-action");
  g_autofree char *accel = NULL;
  GdkModifierType mods = state & gtk_accelerator_get_default_mod_mask ();
  guint key = gdk_keyval_to_lower (keyval);

  /* A modifier alone starts a combination. */
  switch (key)
    {
    case GDK_KEY_Shift_L: case GDK_KEY_Shift_R:
    case GDK_KEY_Control_L: case GDK_KEY_Control_R:
    case GDK_KEY_Alt_L: case GDK_KEY_Alt_R:
    case GDK_KEY_Super_L: case GDK_KEY_Super_R:
    case GDK_KEY_Meta_L: case GDK_KEY_Meta_R:
    case GDK_KEY_ISO_Level3_Shift:
      return GDK_EVENT_PROPAGATE;
    default:
      break;
    }

  if (mods == 0 && key == GDK_KEY_Escape)
    {
      gtk_window_destroy (capture);
      return GDK_EVENT_STOP;
    }

  if (mods == 0 && key == GDK_KEY_BackSpace)
    {
      kp_keymap_editor_rebind (self, action, NULL);
      gtk_window_destroy (capture);
      return GDK_EVENT_STOP;
    }

  /* Shift+a is "A": keep the key and the Shift apart. */
  accel = gtk_accelerator_name (key, mods);
  kp_keymap_editor_rebind (self, action, accel);
  gtk_window_destroy (capture);

  return GDK_EVENT_STOP;
}

static void
capture_destroy_cb (KpKeymapEditor *self)
{
  self->capture = NULL;
}

static void
row_activated_cb (AdwActionRow   *row,
                  KpKeymapEditor *self)
{
  const char *action = g_object_get_data (G_OBJECT (row), "kp-action");
  const KpKeymapEntry *entry = kp_keymap_lookup (action);
  g_autofree char *text = NULL;
  GtkWidget *status;
  GtkEventController *controller;
  GtkWindow *capture;

  capture = GTK_WINDOW (adw_window_new ());
  gtk_window_set_transient_for (capture, GTK_WINDOW (self));
  gtk_window_set_modal (capture, TRUE);
  gtk_window_set_default_size (capture, 400, -1);
  gtk_window_set_title (capture, _("Set Shortcut"));
  g_object_set_data_full (G_OBJECT (capture), "kp-action", g_strdup (action), g_free);

  status = adw_status_page_new ();
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (status), "preferences-desktop-keyboard-shortcuts-symbolic");
  text = g_strdup_printf (_("Press the new shortcut for “%s”"), kp_keymap_entry_get_title (entry));
  adw_status_page_set_title (ADW_STATUS_PAGE (status), text);
  adw_status_page_set_description (ADW_STATUS_PAGE (status),
                                   _("Press Escape to cancel or Backspace to remove the shortcut."));
  adw_window_set_content (ADW_WINDOW (capture), status);

  controller = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_CAPTURE);
  g_signal_connect_object (controller, "key-pressed", G_CALLBACK (capture_key_cb), self, 0);
  gtk_widget_add_controller (GTK_WIDGET (capture), controller);
  g_signal_connect_object (capture, "destroy", G_CALLBACK (capture_destroy_cb), self, G_CONNECT_SWAPPED);

  self->capture = capture;
  gtk_window_present (capture);
}

static void
reset_clicked_cb (GtkButton      *button,
                  KpKeymapEditor *self)
{
  kp_keymap_editor_reset (self, g_object_get_data (G_OBJECT (button), "kp-action"));
}

static void
reset_all_response_cb (AdwMessageDialog *dialog,
                       const char       *response,
                       KpKeymapEditor   *self)
{
  if (g_str_equal (response, "reset"))
    kp_keymap_editor_reset_all (self);
}

static void
reset_all_clicked_cb (GtkButton      *button,
                      KpKeymapEditor *self)
{
  GtkWidget *dialog;

  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Reset Every Shortcut?"),
                                   _("Every action gets its original key back."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "reset", _("_Reset"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "reset",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (reset_all_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
build (KpKeymapEditor *self)
{
  AdwPreferencesPage *page = ADW_PREFERENCES_PAGE (adw_preferences_page_new ());
  AdwPreferencesGroup *groups[KP_KEYMAP_N_SECTIONS];
  const KpKeymapEntry *entries;
  GtkWidget *reset_all;
  guint n_entries;

  adw_preferences_page_set_title (page, _("Shortcuts"));
  adw_preferences_page_set_icon_name (page, "preferences-desktop-keyboard-shortcuts-symbolic");

  for (guint s = 0; s < KP_KEYMAP_N_SECTIONS; s++)
    {
      groups[s] = ADW_PREFERENCES_GROUP (adw_preferences_group_new ());
      adw_preferences_group_set_title (groups[s], kp_keymap_section_get_title (s));
      adw_preferences_page_add (page, groups[s]);
    }

  reset_all = gtk_button_new_with_mnemonic (_("_Reset All"));
  gtk_widget_add_css_class (reset_all, "flat");
  gtk_widget_set_valign (reset_all, GTK_ALIGN_CENTER);
  g_signal_connect_object (reset_all, "clicked", G_CALLBACK (reset_all_clicked_cb), self, 0);
  adw_preferences_group_set_header_suffix (groups[0], reset_all);
  adw_preferences_group_set_description (groups[0],
                                         _("Choose a row and press the new key."));

  entries = kp_keymap_get_entries (&n_entries);
  for (guint i = 0; i < n_entries; i++)
    {
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *label = gtk_shortcut_label_new (NULL);
      GtkWidget *reset = gtk_button_new_from_icon_name ("edit-undo-symbolic");

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), kp_keymap_entry_get_title (&entries[i]));
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      g_object_set_data (G_OBJECT (row), "kp-action", (gpointer)entries[i].action);
      g_signal_connect_object (row, "activated", G_CALLBACK (row_activated_cb), self, 0);

      gtk_widget_set_valign (label, GTK_ALIGN_CENTER);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);

      gtk_widget_add_css_class (reset, "flat");
      gtk_widget_set_valign (reset, GTK_ALIGN_CENTER);
      gtk_widget_set_tooltip_text (reset, _("Reset to the Original Key"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (reset),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, _("Reset"), -1);
      g_object_set_data (G_OBJECT (reset), "kp-action", (gpointer)entries[i].action);
      g_signal_connect_object (reset, "clicked", G_CALLBACK (reset_clicked_cb), self, 0);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), reset);

      g_object_set_data (G_OBJECT (row), "kp-shortcut", label);
      g_object_set_data (G_OBJECT (row), "kp-reset", reset);
      adw_preferences_group_add (groups[entries[i].section], row);
      g_hash_table_insert (self->rows, (gpointer)entries[i].action, row);
    }

  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (self), page);
}

static void
kp_keymap_editor_dispose (GObject *object)
{
  KpKeymapEditor *self = (KpKeymapEditor *)object;

  if (self->capture != NULL)
    gtk_window_destroy (self->capture);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->rows, g_hash_table_unref);

  G_OBJECT_CLASS (kp_keymap_editor_parent_class)->dispose (object);
}

static void
kp_keymap_editor_class_init (KpKeymapEditorClass *klass)
{
  G_OBJECT_CLASS (klass)->dispose = kp_keymap_editor_dispose;
}

static void
kp_keymap_editor_init (KpKeymapEditor *self)
{
  self->rows = g_hash_table_new (g_str_hash, g_str_equal);
  gtk_window_set_title (GTK_WINDOW (self), _("Keyboard Shortcuts"));
  gtk_window_set_default_size (GTK_WINDOW (self), 560, 640);
  adw_preferences_window_set_search_enabled (ADW_PREFERENCES_WINDOW (self), TRUE);
}

GtkWidget *
kp_keymap_editor_new (GtkWindow *parent,
                      GSettings *settings)
{
  KpKeymapEditor *self;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (KP_TYPE_KEYMAP_EDITOR,
                       "transient-for", parent,
                       "modal", parent != NULL,
                       NULL);
  self->settings = g_object_ref (settings);
  build (self);
  update_rows (self);
  g_signal_connect_object (settings, "changed::keymap", G_CALLBACK (update_rows), self, G_CONNECT_SWAPPED);

  return GTK_WIDGET (self);
}

gboolean
kp_keymap_editor_rebind (KpKeymapEditor *self,
                         const char     *action,
                         const char     *accel)
{
  const char *other;

  g_return_val_if_fail (KP_IS_KEYMAP_EDITOR (self), FALSE);
  g_return_val_if_fail (action != NULL, FALSE);

  if (!kp_keymap_set_accels (self->settings, action, accel != NULL ? accel : ""))
    return FALSE;

  other = accel != NULL ? kp_keymap_find_conflict (self->settings, action, accel) : NULL;
  if (other != NULL)
    {
      g_autofree char *message = NULL;

      /* Translators: a toast in the keymap editor. */
      message = g_strdup_printf (_("“%s” now has the same key as “%s”"),
                                 kp_keymap_entry_get_title (kp_keymap_lookup (action)),
                                 kp_keymap_entry_get_title (kp_keymap_lookup (other)));
      adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (message));
    }

  update_rows (self);

  return TRUE;
}

void
kp_keymap_editor_reset (KpKeymapEditor *self,
                        const char     *action)
{
  g_return_if_fail (KP_IS_KEYMAP_EDITOR (self));

  kp_keymap_set_accels (self->settings, action, NULL);
  update_rows (self);
}

void
kp_keymap_editor_reset_all (KpKeymapEditor *self)
{
  g_return_if_fail (KP_IS_KEYMAP_EDITOR (self));

  kp_keymap_reset_all (self->settings);
  update_rows (self);
}

AdwActionRow *
kp_keymap_editor_get_row (KpKeymapEditor *self,
                          const char     *action)
{
  g_return_val_if_fail (KP_IS_KEYMAP_EDITOR (self), NULL);

  return g_hash_table_lookup (self->rows, action);
}
