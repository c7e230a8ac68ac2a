/* kp-window-actions.c: the window's actions, dialogs and export
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n.h>

#include "kp-compat.h"
#include "kp-label-dialog.h"
#include "kp-media.h"
#include "kp-window-private.h"

/* Colours for new labels, from the GNOME palette. */
static const char *label_palette[] = {
  "#e01b24", "#3584e4", "#33d17a", "#f6d32d", "#9141ac",
  "#ff7800", "#2190a4", "#e66100", "#986a44", "#c061cb",
};

static void
set_enabled (KpWindow   *self,
             const char *name,
             gboolean    enabled)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), name);

  if (action != NULL)
    g_simple_action_set_enabled (G_SIMPLE_ACTION (action), enabled);
}

void
_kp_window_update_actions (KpWindow *self)
{
  gboolean has_project = self->store != NULL && !self->loading;
  gboolean has_item = has_project && self->current_item != NULL;
  guint position = gtk_single_selection_get_selected (self->selection);
  guint n_items = g_list_model_get_n_items (G_LIST_MODEL (self->media));
  GAction *mark_done;
  gboolean done = FALSE;
  gboolean can_mark = FALSE;

  if (has_item)
    {
      KpMediaStatus status = kp_media_item_get_status (self->current_item);

      done = status == KP_MEDIA_STATUS_DONE;
      /* An image that cannot be shown (broken, missing, or unreadable for
       * now) cannot have been checked, so it cannot be marked done. */
      can_mark = (status != KP_MEDIA_STATUS_BROKEN &&
                  status != KP_MEDIA_STATUS_MISSING &&
                  self->image_error == NULL);
    }

  set_enabled (self, "next-image", has_item && position + 1 < n_items);
  set_enabled (self, "previous-image", has_item && position > 0 && position != GTK_INVALID_LIST_POSITION);
  set_enabled (self, "add-label", has_project);
  set_enabled (self, "edit-label", has_project);
  set_enabled (self, "delete-label", has_project);
  set_enabled (self, "select-label", has_project);
  set_enabled (self, "export", has_project && !self->exporting);
  set_enabled (self, "zoom-in", self->image_loaded);
  set_enabled (self, "zoom-out", self->image_loaded);
  set_enabled (self, "zoom-fit", self->image_loaded);
  set_enabled (self, "zoom-100", self->image_loaded);

  mark_done = g_action_map_lookup_action (G_ACTION_MAP (self), "mark-done");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (mark_done), can_mark);
  g_simple_action_set_state (G_SIMPLE_ACTION (mark_done), g_variant_new_boolean (done));

  /* Undo and redo follow the current document through the binding group. */
  if (self->document == NULL)
    {
      set_enabled (self, "undo", FALSE);
      set_enabled (self, "redo", FALSE);
    }
}

void
_kp_window_show_error (KpWindow   *self,
                       const char *heading,
                       const char *message)
{
  GtkWidget *dialog;

  dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, message);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "close");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "close");
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Keyboard shortcuts */

#define SHORTCUTS_RESOURCE RESOURCE_BASE_PATH "/ui/kp-shortcuts-window.ui"

/* The shortcuts window is not at the gtk/help-overlay.ui path GtkApplication
 * looks for, which would build it (a few hundred widgets) with every window,
 * before the window's first frame. It is built after that frame, or at once
 * when asked for; GtkApplicationWindow then owns and shows it as usual. */
GtkWindow *
_kp_window_ensure_help_overlay (KpWindow *self)
{
  GtkApplicationWindow *window = GTK_APPLICATION_WINDOW (self);
  g_autoptr(GtkBuilder) builder = NULL;
  GObject *overlay;

  g_clear_handle_id (&self->help_overlay_idle_id, g_source_remove);

  if (gtk_application_window_get_help_overlay (window) != NULL)
    return GTK_WINDOW (gtk_application_window_get_help_overlay (window));

  builder = gtk_builder_new_from_resource (SHORTCUTS_RESOURCE);
  overlay = gtk_builder_get_object (builder, "help_overlay");
  g_return_val_if_fail (GTK_IS_SHORTCUTS_WINDOW (overlay), NULL);

  gtk_application_window_set_help_overlay (window, GTK_SHORTCUTS_WINDOW (overlay));

  return GTK_WINDOW (overlay);
}

static void
show_help_overlay_action (GSimpleAction *action,
                          GVariant      *parameter,
                          gpointer       user_data)
{
  GtkWindow *overlay = _kp_window_ensure_help_overlay (user_data);

  if (overlay != NULL)
    gtk_window_present (overlay);
}

/* Opening */

static void
open_folder_chosen_cb (GFile    *file,
                       gpointer  user_data)
{
  g_autoptr(KpWindow) self = user_data;

  if (file != NULL)
    kp_window_open_folder (self, file);
}

static void
open_folder_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  KpWindow *self = user_data;
  g_autoptr(GFile) initial = NULL;

  if (self->store != NULL)
    {
      g_autoptr(GFile) folder = g_file_new_for_path (kp_store_get_folder (self->store));

      initial = g_file_get_parent (folder);
    }

  kp_choose_file (GTK_WINDOW (self), KP_FILE_CHOOSER_SELECT_FOLDER,
                  _("Open Folder"), _("_Open"), initial, NULL,
                  open_folder_chosen_cb, g_object_ref (self));
}

static void
open_recent_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  KpWindow *self = user_data;
  g_autoptr(GFile) file = g_file_new_for_path (g_variant_get_string (parameter, NULL));

  kp_window_open_folder (self, file);
}

/* Images */

static void
move_selection (KpWindow *self,
                int       delta)
{
  guint position = gtk_single_selection_get_selected (self->selection);
  guint n_items = g_list_model_get_n_items (G_LIST_MODEL (self->media));

  if (position == GTK_INVALID_LIST_POSITION)
    return;
  if ((delta < 0 && position == 0) || (delta > 0 && position + 1 >= n_items))
    return;

  kp_window_select_media (self, position + delta);
}

static void
next_image_action (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  move_selection (user_data, 1);
}

static void
previous_image_action (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  move_selection (user_data, -1);
}

static void
mark_done_action (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  KpWindow *self = user_data;
  g_autoptr(GVariant) state = g_action_get_state (G_ACTION (action));
  g_autoptr(GError) error = NULL;
  gboolean done = !g_variant_get_boolean (state);
  gint64 media_id;

  if (self->store == NULL || self->current_item == NULL)
    return;

  media_id = kp_media_item_get_media_id (self->current_item);
  if (!kp_store_set_media_done (self->store, media_id, done, &error))
    {
      kp_window_add_toast (self, error->message);
      _kp_window_update_actions (self);
      return;
    }

  _kp_window_refresh_item (self, media_id);

  if (done && g_settings_get_boolean (self->settings, "auto-advance"))
    move_selection (self, 1);
}

/* Editing */

static void
undo_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  KpWindow *self = user_data;
  g_autoptr(GError) error = NULL;

  if (self->document != NULL && !kp_document_undo (self->document, &error))
    kp_window_add_toast (self, error->message);
}

static void
redo_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  KpWindow *self = user_data;
  g_autoptr(GError) error = NULL;

  if (self->document != NULL && !kp_document_redo (self->document, &error))
    kp_window_add_toast (self, error->message);
}

static void
zoom_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  KpWindow *self = user_data;
  const char *name = g_action_get_name (G_ACTION (action));
  g_autofree char *canvas_action = g_strdup_printf ("canvas.%s", name);

  gtk_widget_activate_action (GTK_WIDGET (self->canvas), canvas_action, NULL);
}

/* Labels */

static const KpLabel *
find_label (KpWindow *self,
            gint64    label_id,
            int       key)
{
  for (guint i = 0; self->labels != NULL && i < self->labels->len; i++)
    {
      const KpLabel *label = g_ptr_array_index (self->labels, i);

      if ((label_id != 0 && label->id == label_id) || (key != 0 && label->key == key))
        return label;
    }

  return NULL;
}

static void
label_saved_cb (KpWindow      *self,
                gint64         label_id,
                KpLabelDialog *dialog)
{
  kp_window_reload_labels (self);
  _kp_window_set_current_label (self, label_id);
}

GtkWindow *
kp_window_show_label_dialog (KpWindow *self,
                             gint64    label_id)
{
  const KpLabel *label = NULL;
  KpLabelDialog *dialog;
  guint n_labels;

  g_return_val_if_fail (KP_IS_WINDOW (self), NULL);

  if (self->store == NULL)
    return NULL;

  if (label_id != 0 && (label = find_label (self, label_id, 0)) == NULL)
    return NULL;

  n_labels = self->labels ? self->labels->len : 0;
  dialog = kp_label_dialog_new (GTK_WINDOW (self), self->store, label,
                                label_palette[n_labels % G_N_ELEMENTS (label_palette)]);
  g_signal_connect_object (dialog, "saved", G_CALLBACK (label_saved_cb), self, G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (dialog));

  return GTK_WINDOW (dialog);
}

static void
add_label_action (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  kp_window_show_label_dialog (user_data, 0);
}

static void
edit_label_action (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  kp_window_show_label_dialog (user_data, g_variant_get_int64 (parameter));
}

static void
refresh_all_items (KpWindow *self)
{
  g_autoptr(GPtrArray) media = NULL;
  g_autoptr(GError) error = NULL;

  media = kp_store_list_media (self->store, &error);
  if (media == NULL)
    g_debug ("Cannot refresh the image list: %s", error->message);
  else
    _kp_window_refresh_items (self, media);
}

static void
delete_label (KpWindow *self,
              gint64    label_id)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;
  const KpLabel *label;
  GHashTableIter iter;
  gpointer value;

  if (self->store == NULL || (label = find_label (self, label_id, 0)) == NULL)
    return;

  name = g_strdup (label->name);

  if (!kp_store_delete_label (self->store, label_id, &error))
    {
      _kp_window_show_error (self, _("Cannot Delete the Label"), error->message);
      return;
    }

  /* The store deleted the label's boxes; drop them from memory too. */
  g_hash_table_iter_init (&iter, self->documents);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    kp_document_forget_label (value, label_id);

  kp_window_reload_labels (self);
  refresh_all_items (self);

  message = g_strdup_printf (_("Label “%s” deleted"), name);
  kp_window_add_toast (self, message);
}

typedef struct
{
  KpWindow *self;
  gint64    label_id;
} DeleteData;

static void
delete_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    DeleteData       *data)
{
  if (g_strcmp0 (response, "delete") == 0)
    delete_label (data->self, data->label_id);

  g_object_unref (data->self);
  g_free (data);
}

static void
delete_label_action (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  KpWindow *self = user_data;
  gint64 label_id = g_variant_get_int64 (parameter);
  g_autoptr(GError) error = NULL;
  const KpLabel *label;
  GtkWidget *dialog;
  DeleteData *data;
  guint n_uses;

  if (self->store == NULL || (label = find_label (self, label_id, 0)) == NULL)
    return;

  n_uses = kp_store_count_label_uses (self->store, label_id, &error);
  if (error != NULL)
    {
      _kp_window_show_error (self, _("Cannot Delete the Label"), error->message);
      return;
    }

  if (n_uses == 0)
    {
      delete_label (self, label_id);
      return;
    }

  dialog = adw_message_dialog_new (GTK_WINDOW (self), NULL, NULL);
  adw_message_dialog_format_heading (ADW_MESSAGE_DIALOG (dialog), _("Delete “%s”?"), label->name);
  adw_message_dialog_format_body (ADW_MESSAGE_DIALOG (dialog),
                                  g_dngettext (GETTEXT_PACKAGE,
                                               "%u box uses this label. It will be deleted too, and this cannot be undone.",
                                               "%u boxes use this label. They will be deleted too, and this cannot be undone.",
                                               n_uses),
                                  n_uses);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "delete", _("_Delete"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "delete",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");

  data = g_new0 (DeleteData, 1);
  data->self = g_object_ref (self);
  data->label_id = label_id;
  g_signal_connect (dialog, "response", G_CALLBACK (delete_response_cb), data);

  gtk_window_present (GTK_WINDOW (dialog));
}

static void
select_label_action (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  KpWindow *self = user_data;
  int key = g_variant_get_int32 (parameter);
  const KpLabel *label = find_label (self, 0, key);
  gint64 selected_id;

  if (label == NULL)
    {
      g_autofree char *message = g_strdup_printf (_("No label has the key %d"), key);

      kp_window_add_toast (self, message);
      return;
    }

  _kp_window_set_current_label (self, label->id);

  /* With a box selected, the key relabels it: one undoable command. */
  selected_id = kp_canvas_get_selected_id (self->canvas);
  if (selected_id != 0 && self->document != NULL)
    {
      const KpAnnotation *annotation = kp_document_lookup (self->document, selected_id);
      g_autoptr(GError) error = NULL;

      if (annotation != NULL && annotation->label_id != label->id &&
          !kp_document_set_label (self->document, selected_id, label->id, &error))
        kp_window_add_toast (self, error->message);
    }
}

/* Export */

typedef struct
{
  char           *folder;
  char           *output;
  KpExportFormat  format;
  guint           n_images;
  GPtrArray      *media;
} ExportData;

static void
export_data_free (ExportData *data)
{
  g_free (data->folder);
  g_free (data->output);
  g_clear_pointer (&data->media, g_ptr_array_unref);
  g_free (data);
}

static void
export_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  ExportData *data = task_data;
  g_autoptr(KpStore) store = NULL;
  g_autoptr(GError) error = NULL;

  /* This thread's own connection; sizes must be known before exporting. */
  store = kp_store_open (data->folder, &error);
  if (store == NULL ||
      !kp_media_ensure_info (store, cancellable, &error) ||
      !kp_export (store, data->format, data->output, cancellable, &error) ||
      !(data->media = kp_store_list_media (store, &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  for (guint i = 0; i < data->media->len; i++)
    {
      const KpMedia *media = g_ptr_array_index (data->media, i);

      if (media->width > 0 && media->height > 0 &&
          media->status != KP_MEDIA_STATUS_BROKEN &&
          media->status != KP_MEDIA_STATUS_MISSING)
        data->n_images++;
    }

  g_task_return_boolean (task, TRUE);
}

void
kp_window_export_async (KpWindow            *self,
                        KpExportFormat       format,
                        GFile               *output,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ExportData *data;

  g_return_if_fail (KP_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (output));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kp_window_export_async);

  if (self->store == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                               _("Open a folder before exporting."));
      return;
    }

  data = g_new0 (ExportData, 1);
  data->folder = g_strdup (kp_store_get_folder (self->store));
  data->output = g_file_get_path (output);
  data->format = format;
  g_task_set_task_data (task, data, (GDestroyNotify)export_data_free);

  if (data->output == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _("Exports can only be written to folders on this computer."));
      return;
    }

  self->exporting = TRUE;
  _kp_window_update_actions (self);

  g_task_run_in_thread (task, export_thread);
}

gboolean
kp_window_export_finish (KpWindow      *self,
                         GAsyncResult  *result,
                         guint         *n_images,
                         GError       **error)
{
  ExportData *data;
  gboolean ret;

  g_return_val_if_fail (KP_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  data = g_task_get_task_data (G_TASK (result));
  ret = g_task_propagate_boolean (G_TASK (result), error);

  if (data != NULL)
    {
      self->exporting = FALSE;
      _kp_window_update_actions (self);

      /* Probing for the export may have found sizes or broken files. */
      if (ret && self->store != NULL && g_strcmp0 (data->folder, kp_store_get_folder (self->store)) == 0)
        _kp_window_refresh_items (self, data->media);
    }

  if (n_images != NULL)
    *n_images = ret && data ? data->n_images : 0;

  return ret;
}

static void
export_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  KpWindow *self = KP_WINDOW (object);
  g_autoptr(GFile) output = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *message = NULL;
  guint n_images = 0;

  if (!kp_window_export_finish (self, result, &n_images, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        _kp_window_show_error (self, _("Export Failed"), error->message);
      return;
    }

  name = g_file_get_basename (output);
  message = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                          "Exported %u image to “%s”",
                                          "Exported %u images to “%s”",
                                          n_images),
                             n_images, name);
  kp_window_add_toast (self, message);
}

typedef struct
{
  KpWindow       *self;
  KpExportFormat  format;
} ExportChoice;

static void
export_chosen_cb (GFile    *file,
                  gpointer  user_data)
{
  ExportChoice *choice = user_data;

  if (file != NULL)
    kp_window_export_async (choice->self, choice->format, file,
                            choice->self->project_cancellable,
                            export_done_cb, g_object_ref (file));

  g_object_unref (choice->self);
  g_free (choice);
}

static void
export_action (GSimpleAction *action,
               GVariant      *parameter,
               gpointer       user_data)
{
  KpWindow *self = user_data;
  g_autoptr(GFile) folder = NULL;
  g_autofree char *project = NULL;
  g_autofree char *initial_name = NULL;
  ExportChoice *choice;
  KpExportFormat format;
  const char *title;

  if (self->store == NULL ||
      !kp_export_format_from_string (g_variant_get_string (parameter, NULL), &format))
    return;

  folder = g_file_new_for_path (kp_store_get_folder (self->store));
  project = kp_store_dup_name (self->store);

  choice = g_new0 (ExportChoice, 1);
  choice->self = g_object_ref (self);
  choice->format = format;

  switch (format)
    {
    case KP_EXPORT_FORMAT_COCO:
      title = _("Export as COCO");
      initial_name = g_strdup_printf ("%s-coco.json", project);
      kp_choose_file (GTK_WINDOW (self), KP_FILE_CHOOSER_SAVE, title, _("_Export"),
                      folder, initial_name, export_chosen_cb, choice);
      break;

    case KP_EXPORT_FORMAT_VOC:
    case KP_EXPORT_FORMAT_YOLO:
    default:
      title = format == KP_EXPORT_FORMAT_VOC ? _("Export as Pascal VOC: Choose a Folder")
                                             : _("Export as YOLO: Choose a Folder");
      kp_choose_file (GTK_WINDOW (self), KP_FILE_CHOOSER_SELECT_FOLDER, title, _("_Export"),
                      folder, NULL, export_chosen_cb, choice);
      break;
    }
}

static const GActionEntry win_actions[] = {
  { "open-folder", open_folder_action },
  { "show-help-overlay", show_help_overlay_action },
  { "open-recent", open_recent_action, "s" },
  { "next-image", next_image_action },
  { "previous-image", previous_image_action },
  { "mark-done", mark_done_action, NULL, "false" },
  { "undo", undo_action },
  { "redo", redo_action },
  { "add-label", add_label_action },
  { "edit-label", edit_label_action, "x" },
  { "delete-label", delete_label_action, "x" },
  { "select-label", select_label_action, "i" },
  { "export", export_action, "s" },
  { "zoom-in", zoom_action },
  { "zoom-out", zoom_action },
  { "zoom-fit", zoom_action },
  { "zoom-100", zoom_action },
};

void
_kp_window_init_actions (KpWindow *self)
{
  g_action_map_add_action_entries (G_ACTION_MAP (self), win_actions,
                                   G_N_ELEMENTS (win_actions), self);

  g_binding_group_bind (self->document_bindings, "can-undo",
                        g_action_map_lookup_action (G_ACTION_MAP (self), "undo"), "enabled",
                        G_BINDING_SYNC_CREATE);
  g_binding_group_bind (self->document_bindings, "can-redo",
                        g_action_map_lookup_action (G_ACTION_MAP (self), "redo"), "enabled",
                        G_BINDING_SYNC_CREATE);

  _kp_window_update_actions (self);
}
