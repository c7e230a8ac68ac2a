/* kp-window-actions.c: the window's actions, dialogs and export
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "kp-audio-page.h"
#include "kp-compat.h"
#include "kp-json-private.h"
#include "kp-keymap.h"
#include "kp-keymap-editor.h"
#include "kp-label-dialog.h"
#include "kp-label-map.h"
#include "kp-media.h"
#include "kp-video-page.h"
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
  if (self->document == NULL && _kp_window_get_media_page (self) == NULL)
    {
      set_enabled (self, "undo", FALSE);
      set_enabled (self, "redo", FALSE);
    }

  {
    static const char *editing[] = {
      "copy", "paste", "duplicate", "copy-previous", "delete-selected", "hide-selected",
      "show-all", "lock-selected", "raise-selected", "lower-selected",
      "accept-suggestion", "reject-suggestion", "next-suggestion", "accept-above", "reject-below",
    };
    gboolean editable = has_item && self->document != NULL && _kp_window_get_media_page (self) == NULL;

    for (guint i = 0; i < G_N_ELEMENTS (editing); i++)
      set_enabled (self, editing[i], editable);
    set_enabled (self, "import-annotations", has_project);
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

/* The shortcuts window is built from the keymap, so it always lists the
 * keys that work. It is built after the window's first frame (a few
 * hundred widgets), or at once when asked for; GtkApplicationWindow then
 * owns and shows it as usual. */
GtkWindow *
_kp_window_ensure_help_overlay (KpWindow *self)
{
  GtkApplicationWindow *window = GTK_APPLICATION_WINDOW (self);
  GtkShortcutsWindow *overlay;

  g_clear_handle_id (&self->help_overlay_idle_id, g_source_remove);

  if (gtk_application_window_get_help_overlay (window) != NULL)
    return GTK_WINDOW (gtk_application_window_get_help_overlay (window));

  overlay = kp_keymap_build_shortcuts_window (self->settings);
  g_return_val_if_fail (overlay != NULL, NULL);

  gtk_application_window_set_help_overlay (window, overlay);

  return GTK_WINDOW (overlay);
}

void
_kp_window_reset_help_overlay (KpWindow *self)
{
  GtkApplicationWindow *window = GTK_APPLICATION_WINDOW (self);
  GtkShortcutsWindow *old = gtk_application_window_get_help_overlay (window);

  if (old == NULL)
    return;

  g_object_ref (old);
  gtk_application_window_set_help_overlay (window, NULL);
  gtk_window_destroy (GTK_WINDOW (old));
  g_object_unref (old);
}

char *
_kp_window_dup_accel_label (KpWindow   *self,
                            const char *action)
{
  return kp_keymap_dup_label (self->settings, action);
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

/* Undoes (or redoes) the last step of the audio or video page when one
 * is shown, else of the image's objects. */
static void
undo_or_redo (KpWindow *self,
              gboolean  redo)
{
  GtkWidget *page = _kp_window_get_media_page (self);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (page != NULL && KP_IS_AUDIO_PAGE (page))
    {
      if (redo)
        kp_audio_page_redo (KP_AUDIO_PAGE (page));
      else
        kp_audio_page_undo (KP_AUDIO_PAGE (page));
      return;
    }
  if (page != NULL)
    {
      if (redo)
        kp_video_page_redo (KP_VIDEO_PAGE (page));
      else
        kp_video_page_undo (KP_VIDEO_PAGE (page));
      return;
    }

  if (self->document == NULL)
    return;

  if (redo)
    ok = kp_document_redo (self->document, &error);
  else
    ok = kp_document_undo (self->document, &error);
  if (!ok)
    kp_window_add_toast (self, error->message);
}

static void
undo_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  undo_or_redo (user_data, FALSE);
}

static void
redo_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  undo_or_redo (user_data, TRUE);
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

  /* The store deleted the label's boxes; drop them from memory too, and
   * from documents being read ahead. */
  self->document_epoch++;
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
  const gint64 *selected;
  guint n_selected = 0;

  if (label == NULL)
    {
      g_autofree char *message = g_strdup_printf (_("No label has the key %d"), key);

      kp_window_add_toast (self, message);
      return;
    }

  _kp_window_set_current_label (self, label->id);

  /* With a selection, the key relabels it: one undoable command. */
  selected = kp_canvas_get_selection (self->canvas, &n_selected);
  if (n_selected > 0 && self->document != NULL)
    {
      g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
      g_autoptr(GError) error = NULL;

      for (guint i = 0; i < n_selected; i++)
        {
          const KpAnnotation *annotation = kp_document_lookup (self->document, selected[i]);

          if (annotation != NULL && annotation->label_id != label->id)
            g_array_append_val (ids, selected[i]);
        }

      if (ids->len > 0 &&
          !kp_document_relabel (self->document, (const gint64 *)ids->data, ids->len, label->id, &error))
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

/* Tools */

static void
tool_change_state (GSimpleAction *action,
                   GVariant      *value,
                   gpointer       user_data)
{
  KpWindow *self = user_data;
  KpTool *current = kp_canvas_get_tool (self->canvas);
  KpToolKind kind;

  if (!kp_tool_kind_from_id (g_variant_get_string (value, NULL), &kind))
    return;

  if (current == NULL || kp_tool_get_kind (current) != kind)
    {
      g_autoptr(KpTool) tool = kp_tool_new_for_kind (self->canvas, kind);

      kp_canvas_set_tool (self->canvas, tool);
    }

  g_simple_action_set_state (action, value);
}

static void
canvas_tool_cb (KpWindow   *self,
                GParamSpec *pspec,
                KpCanvas   *canvas)
{
  KpTool *tool = kp_canvas_get_tool (canvas);
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), "tool");

  if (tool != NULL && action != NULL)
    g_simple_action_set_state (G_SIMPLE_ACTION (action),
                               g_variant_new_string (kp_tool_kind_get_id (kp_tool_get_kind (tool))));
}

/* The selection */

static GArray *
dup_selection (KpWindow *self)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  const gint64 *selected;
  guint n = 0;

  selected = kp_canvas_get_selection (self->canvas, &n);
  if (self->document != NULL && n > 0)
    g_array_append_vals (ids, selected, n);

  return ids;
}

static void
select_ids (KpWindow     *self,
            const gint64 *ids,
            guint         n_ids)
{
  kp_canvas_set_selection (self->canvas, ids, n_ids);
}

static void
report_error (KpWindow *self,
              GError   *error)
{
  if (error != NULL)
    kp_window_add_toast (self, error->message);
}

/* Copy and paste */

static char *
annotations_to_json (KpWindow   *self,
                     GPtrArray  *annotations)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_array (builder);
  for (guint i = 0; i < annotations->len; i++)
    {
      const KpAnnotation *annotation = g_ptr_array_index (annotations, i);
      const KpLabel *label = NULL;

      for (guint l = 0; self->labels != NULL && l < self->labels->len && label == NULL; l++)
        if (((KpLabel *)g_ptr_array_index (self->labels, l))->id == annotation->label_id)
          label = g_ptr_array_index (self->labels, l);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "label");
      json_builder_add_string_value (builder, label ? label->name : "");
      json_builder_set_member_name (builder, "shape");
      json_builder_add_string_value (builder, kp_shape_to_string (annotation->shape));
      json_builder_set_member_name (builder, "bbox");
      json_builder_begin_array (builder);
      json_builder_add_double_value (builder, annotation->rect.x);
      json_builder_add_double_value (builder, annotation->rect.y);
      json_builder_add_double_value (builder, annotation->rect.width);
      json_builder_add_double_value (builder, annotation->rect.height);
      json_builder_end_array (builder);
      if (annotation->n_points > 0)
        {
          json_builder_set_member_name (builder, "points");
          json_builder_begin_array (builder);
          for (guint p = 0; p < annotation->n_points; p++)
            {
              json_builder_begin_array (builder);
              json_builder_add_double_value (builder, annotation->points[p].x);
              json_builder_add_double_value (builder, annotation->points[p].y);
              json_builder_end_array (builder);
            }
          json_builder_end_array (builder);
        }
      if (annotation->shape == KP_SHAPE_ROTATED_BOX)
        {
          json_builder_set_member_name (builder, "rotated");
          json_builder_begin_array (builder);
          json_builder_add_double_value (builder, annotation->rotated.cx);
          json_builder_add_double_value (builder, annotation->rotated.cy);
          json_builder_add_double_value (builder, annotation->rotated.width);
          json_builder_add_double_value (builder, annotation->rotated.height);
          json_builder_add_double_value (builder, annotation->rotated.angle);
          json_builder_end_array (builder);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);

  return json_generator_to_data (generator, NULL);
}

static void
copy_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  KpWindow *self = user_data;
  g_autoptr(GArray) ids = dup_selection (self);
  g_autofree char *json = NULL;
  g_autofree char *message = NULL;

  if (ids->len == 0)
    {
      kp_window_add_toast (self, _("Select objects to copy"));
      return;
    }

  g_clear_pointer (&self->clipboard, g_ptr_array_unref);
  self->clipboard = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_annotation_free);
  for (guint i = 0; i < ids->len; i++)
    {
      const KpAnnotation *annotation = kp_document_lookup (self->document, g_array_index (ids, gint64, i));

      if (annotation != NULL)
        g_ptr_array_add (self->clipboard, kp_annotation_copy (annotation));
    }
  self->clipboard_media_id = kp_document_get_media_id (self->document);
  self->paste_count = 0;

  /* Other programs get the objects as JSON text. Pasting it back here
   * uses the objects themselves, which keep masks and attributes. */
  json = annotations_to_json (self, self->clipboard);
  g_clear_object (&self->clipboard_provider);
  self->clipboard_provider = gdk_content_provider_new_typed (G_TYPE_STRING, json);
  gdk_clipboard_set_content (gtk_widget_get_clipboard (GTK_WIDGET (self)), self->clipboard_provider);

  message = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Copied %u object", "Copied %u objects",
                                          self->clipboard->len),
                             self->clipboard->len);
  kp_window_add_toast (self, message);
}

/* Adds copies of annotations moved by (dx, dy) as one step, and selects them. */
static gboolean
add_copies (KpWindow  *self,
            GPtrArray *annotations,
            double     dx,
            double     dy)
{
  g_autoptr(GPtrArray) copies = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_annotation_free);
  g_autofree gint64 *ids = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < annotations->len; i++)
    {
      KpAnnotation *copy = kp_annotation_copy (g_ptr_array_index (annotations, i));

      /* A copy is a person's new object, shown and editable. */
      copy->flags &= ~(KP_ANNOTATION_HIDDEN | KP_ANNOTATION_LOCKED);
      if (dx != 0 || dy != 0)
        kp_annotation_translate (copy, dx, dy);
      g_ptr_array_add (copies, copy);
    }

  ids = g_new0 (gint64, copies->len);
  if (!kp_document_add_many (self->document, (const KpAnnotation * const *)copies->pdata, copies->len,
                             ids, &error))
    {
      report_error (self, error);
      return FALSE;
    }

  select_ids (self, ids, copies->len);

  return TRUE;
}

/* Pasting text from other programs: JSON in the workstation's own
 * format (what copy puts on the clipboard), a COCO annotation list (with
 * or without its "categories"), or crowd bounding boxes as Ground Truth
 * and the crowd-bounding-box answer give them ({"boundingBoxes": [...]},
 * or a list of {"label", "left", "top", "width", "height"}). Labels are
 * matched by name; nothing is pasted unless every object can be. */

#define PASTE_MAX_OBJECTS 100000

/* n numbers from a JSON array of at least n. */
static gboolean
read_numbers (JsonNode *node,
              double   *values,
              guint     n)
{
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return FALSE;

  array = json_node_get_array (node);
  if (json_array_get_length (array) < n)
    return FALSE;

  for (guint i = 0; i < n; i++)
    if (!_kp_json_node_get_number (json_array_get_element (array, i), &values[i]))
      return FALSE;

  return TRUE;
}

/* A string member, or NULL when it is missing or not a string. */
static const char *
get_string (JsonObject *object,
            const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

static const KpLabel *
label_by_name (KpWindow   *self,
               const char *name)
{
  g_autofree char *folded = NULL;

  if (self->labels == NULL || name == NULL)
    return NULL;

  for (guint i = 0; i < self->labels->len; i++)
    if (g_strcmp0 (((KpLabel *)g_ptr_array_index (self->labels, i))->name, name) == 0)
      return g_ptr_array_index (self->labels, i);

  /* "Car" pastes as "car" when there is no "Car". */
  folded = g_utf8_casefold (name, -1);
  for (guint i = 0; i < self->labels->len; i++)
    {
      const KpLabel *label = g_ptr_array_index (self->labels, i);
      g_autofree char *other = g_utf8_casefold (label->name, -1);

      if (g_strcmp0 (folded, other) == 0)
        return label;
    }

  return NULL;
}

typedef struct
{
  KpWindow   *self;
  GHashTable *categories;       /* COCO category id (gint64*) -> name */
  GPtrArray  *unknown;          /* label names not in the project */
  GPtrArray  *annotations;      /* KpAnnotation */
} PasteParse;

/* The name of an object's label, in any of the formats. */
static const char *
item_label_name (PasteParse *parse,
                 JsonObject *item)
{
  JsonNode *node;

  for (guint i = 0; i < 3; i++)
    {
      const char *key = (const char *[]) { "label", "category_name", "category" }[i];
      const char *name = get_string (item, key);

      if (name != NULL)
        return name;
    }

  node = json_object_get_member (item, "category_id");
  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_INT64 && parse->categories != NULL)
    {
      gint64 id = json_node_get_int (node);

      return g_hash_table_lookup (parse->categories, &id);
    }

  return NULL;
}

static gboolean
parse_item (PasteParse  *parse,
            JsonNode    *node,
            guint        index,
            GError     **error)
{
  g_auto(KpAnnotation) annotation = { 0 };
  JsonObject *item;
  const KpLabel *label;
  const char *name;
  double box[4], rotated[5];

  if (!JSON_NODE_HOLDS_OBJECT (node))
    goto bad;
  item = json_node_get_object (node);

  name = item_label_name (parse, item);
  if (name == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("Object %u on the clipboard has no label."), index + 1);
      return FALSE;
    }
  label = label_by_name (parse->self, name);
  if (label == NULL)
    {
      for (guint i = 0; i < parse->unknown->len; i++)
        if (g_strcmp0 (g_ptr_array_index (parse->unknown, i), name) == 0)
          return TRUE;
      g_ptr_array_add (parse->unknown, g_strdup (name));
      return TRUE;
    }
  annotation.label_id = label->id;
  annotation.shape = KP_SHAPE_BOX;

  if (_kp_json_node_get_number (json_object_get_member (item, "left"), &box[0]) &&
      _kp_json_node_get_number (json_object_get_member (item, "top"), &box[1]) &&
      _kp_json_node_get_number (json_object_get_member (item, "width"), &box[2]) &&
      _kp_json_node_get_number (json_object_get_member (item, "height"), &box[3]))
    ;
  else if (!read_numbers (json_object_get_member (item, "bbox"), box, 4))
    goto bad;
  if (box[2] < 0 || box[3] < 0)
    goto bad;
  annotation.rect = (KpRect) { box[0], box[1], box[2], box[3] };

  /* The workstation's own format says which shape. */
  if (json_object_has_member (item, "shape"))
    {
      const char *shape = get_string (item, "shape");

      if (shape == NULL || !kp_shape_from_string (shape, &annotation.shape))
        goto bad;
    }
  else if (json_object_has_member (item, "segmentation"))
    {
      /* COCO: the first polygon of a segmentation given as polygons, or
       * an RLE mask of the current image's size. */
      JsonNode *segmentation = json_object_get_member (item, "segmentation");

      if (JSON_NODE_HOLDS_OBJECT (segmentation))
        {
          const KpMedia *media = parse->self->current_item != NULL ?
                                 kp_media_item_get_media (parse->self->current_item) : NULL;
          g_autoptr(GError) rle_error = NULL;

          annotation.mask = kp_import_coco_rle (json_node_get_object (segmentation),
                                                media != NULL ? media->width : 0,
                                                media != NULL ? media->height : 0, NULL, &rle_error);
          if (annotation.mask == NULL)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           /* Translators: %s says what is wrong with its RLE mask. */
                           _("Object %u on the clipboard is a mask that cannot be pasted here: %s"), index + 1,
                           rle_error->message);
              return FALSE;
            }
          annotation.shape = KP_SHAPE_MASK;
          kp_annotation_update_bounds (&annotation);
        }
      else if (JSON_NODE_HOLDS_ARRAY (segmentation) &&
          json_array_get_length (json_node_get_array (segmentation)) > 0)
        {
          JsonNode *ring = json_array_get_element (json_node_get_array (segmentation), 0);
          guint n = JSON_NODE_HOLDS_ARRAY (ring) ? json_array_get_length (json_node_get_array (ring)) : 0;
          g_autofree double *xy = NULL;
          g_autofree KpPoint *points = NULL;

          if (n < 6 || n % 2 != 0)
            goto bad;
          xy = g_new (double, n);
          points = g_new (KpPoint, n / 2);
          if (!read_numbers (ring, xy, n))
            goto bad;
          for (guint i = 0; i < n / 2; i++)
            points[i] = (KpPoint) { xy[2 * i], xy[2 * i + 1] };
          annotation.shape = KP_SHAPE_POLYGON;
          kp_annotation_set_points (&annotation, points, n / 2);
        }
    }

  switch (annotation.shape)
    {
    case KP_SHAPE_BOX:
      break;

    case KP_SHAPE_ROTATED_BOX:
      if (!read_numbers (json_object_get_member (item, "rotated"), rotated, 5) ||
          rotated[2] < 0 || rotated[3] < 0)
        goto bad;
      annotation.rotated = (KpRotatedBox) { rotated[0], rotated[1], rotated[2], rotated[3], rotated[4] };
      kp_annotation_update_bounds (&annotation);
      break;

    case KP_SHAPE_POLYGON:
    case KP_SHAPE_POLYLINE:
    case KP_SHAPE_LINE:
    case KP_SHAPE_POINT:
      if (annotation.n_points == 0)
        {
          JsonNode *points_node = json_object_get_member (item, "points");
          JsonArray *array;
          g_autofree KpPoint *points = NULL;
          guint n;

          if (points_node == NULL || !JSON_NODE_HOLDS_ARRAY (points_node))
            goto bad;
          array = json_node_get_array (points_node);
          n = json_array_get_length (array);
          if (n == 0 || n > 10000000)
            goto bad;
          points = g_new (KpPoint, n);
          for (guint i = 0; i < n; i++)
            {
              double xy[2];

              if (!read_numbers (json_array_get_element (array, i), xy, 2))
                goto bad;
              points[i] = (KpPoint) { xy[0], xy[1] };
            }
          kp_annotation_set_points (&annotation, points, n);
        }
      if ((annotation.shape == KP_SHAPE_POLYGON && annotation.n_points < 3) ||
          (annotation.shape == KP_SHAPE_POLYLINE && annotation.n_points < 2) ||
          (annotation.shape == KP_SHAPE_LINE && annotation.n_points != 2) ||
          (annotation.shape == KP_SHAPE_POINT && annotation.n_points != 1))
        goto bad;
      break;

    case KP_SHAPE_MASK:
      /* From COCO RLE; the workstation's own text holds a mask's box only. */
      if (annotation.mask != NULL)
        break;
      G_GNUC_FALLTHROUGH;
    default:
      /* The text holds a mask's box only, not its pixels. */
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("Object %u on the clipboard is a mask, which text cannot carry."), index + 1);
      return FALSE;
    }

  g_ptr_array_add (parse->annotations, kp_annotation_copy (&annotation));

  return TRUE;

bad:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
               _("Object %u on the clipboard has no usable shape."), index + 1);
  return FALSE;
}

/* The list of objects in whatever wraps them; NULL when there is none. */
static JsonArray *
find_items (PasteParse *parse,
            JsonNode   *root)
{
  JsonObject *object;
  JsonNode *node;

  if (JSON_NODE_HOLDS_ARRAY (root))
    return json_node_get_array (root);
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return NULL;

  object = json_node_get_object (root);

  /* A Ground Truth output line or a worker's answer. */
  if ((node = json_object_get_member (object, "annotatedResult")) != NULL ||
      (node = json_object_get_member (object, "crowd-bounding-box")) != NULL)
    return find_items (parse, node);

  if ((node = json_object_get_member (object, "boundingBoxes")) != NULL &&
      JSON_NODE_HOLDS_ARRAY (node))
    return json_node_get_array (node);

  /* A COCO file: its categories name the category ids. */
  if ((node = json_object_get_member (object, "annotations")) != NULL &&
      JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonNode *categories = json_object_get_member (object, "categories");

      if (categories != NULL && JSON_NODE_HOLDS_ARRAY (categories))
        {
          JsonArray *array = json_node_get_array (categories);

          parse->categories = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
          for (guint i = 0; i < json_array_get_length (array); i++)
            {
              JsonNode *category = json_array_get_element (array, i);
              JsonNode *id_node;
              JsonObject *c;
              gint64 id;

              if (!JSON_NODE_HOLDS_OBJECT (category))
                continue;
              c = json_node_get_object (category);
              id_node = json_object_get_member (c, "id");
              if (id_node == NULL || !JSON_NODE_HOLDS_VALUE (id_node) ||
                  json_node_get_value_type (id_node) != G_TYPE_INT64 ||
                  get_string (c, "name") == NULL)
                continue;
              id = json_node_get_int (id_node);
              g_hash_table_insert (parse->categories, g_memdup2 (&id, sizeof id),
                                   g_strdup (get_string (c, "name")));
            }
        }
      return json_node_get_array (node);
    }

  return NULL;
}

/* Objects from text; NULL with a message for people when the text holds
 * none that can be pasted, and *not_json set when it is not JSON at all. */
static GPtrArray *
parse_pasted_text (KpWindow    *self,
                   const char  *text,
                   gboolean    *not_json,
                   GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GPtrArray) unknown = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) annotations = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_annotation_free);
  g_autoptr(JsonArray) single = NULL;
  PasteParse parse = { self, NULL, unknown, annotations };
  JsonArray *items;
  JsonNode *root;
  guint n;

  *not_json = FALSE;
  if (text == NULL || !json_parser_load_from_data (parser, text, -1, NULL) ||
      (root = json_parser_get_root (parser)) == NULL)
    {
      *not_json = TRUE;
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("The clipboard holds no objects."));
      return NULL;
    }

  items = find_items (&parse, root);
  /* One object on its own. */
  if (items == NULL && JSON_NODE_HOLDS_OBJECT (root))
    {
      JsonObject *object = json_node_get_object (root);

      if (json_object_has_member (object, "bbox") || json_object_has_member (object, "left"))
        {
          single = json_array_new ();
          json_array_add_element (single, json_node_copy (root));
          items = single;
        }
    }

  n = items != NULL ? json_array_get_length (items) : 0;
  if (n == 0 || n > PASTE_MAX_OBJECTS)
    {
      g_clear_pointer (&parse.categories, g_hash_table_unref);
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("The clipboard holds no objects."));
      return NULL;
    }

  for (guint i = 0; i < n; i++)
    if (!parse_item (&parse, json_array_get_element (items, i), i, error))
      {
        g_clear_pointer (&parse.categories, g_hash_table_unref);
        return NULL;
      }
  g_clear_pointer (&parse.categories, g_hash_table_unref);

  if (unknown->len > 0)
    {
      g_autofree char *names = NULL;

      g_ptr_array_add (unknown, NULL);
      names = g_strjoinv (", ", (char **)unknown->pdata);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   g_dngettext (GETTEXT_PACKAGE,
                                "Nothing pasted: the project has no label “%s”",
                                "Nothing pasted: the project has no labels %s",
                                unknown->len - 1),
                   names);
      return NULL;
    }

  return g_steal_pointer (&annotations);
}

static void
paste_own (KpWindow *self)
{
  double offset = 0;

  if (self->clipboard == NULL || self->clipboard->len == 0)
    {
      kp_window_add_toast (self, _("Nothing to paste: copy objects first"));
      return;
    }

  /* Pasted on its own image, a copy would hide the original. */
  if (self->clipboard_media_id == kp_document_get_media_id (self->document))
    offset = 10.0 * ++self->paste_count;

  add_copies (self, self->clipboard, offset, offset);
}

static void
paste_text (KpWindow   *self,
            const char *text)
{
  g_autoptr(GPtrArray) annotations = NULL;
  g_autoptr(GError) error = NULL;
  gboolean not_json = FALSE;

  if (self->document == NULL)
    return;

  annotations = parse_pasted_text (self, text, &not_json, &error);
  if (annotations == NULL)
    {
      /* Text that is no JSON at all: the objects copied here before. */
      if (not_json && self->clipboard != NULL && self->clipboard->len > 0)
        paste_own (self);
      else
        kp_window_add_toast (self, error->message);
      return;
    }

  add_copies (self, annotations, 0, 0);
}

static void
paste_text_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(KpWindow) self = user_data;
  g_autofree char *text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (object), result, NULL);

  paste_text (self, text);
}

static void
paste_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  KpWindow *self = user_data;
  GdkClipboard *clipboard;
  GdkContentProvider *content;

  if (self->document == NULL)
    return;

  clipboard = gtk_widget_get_clipboard (GTK_WIDGET (self));
  content = gdk_clipboard_get_content (clipboard);

  /* What this window copied. */
  if (content != NULL && content == self->clipboard_provider)
    {
      paste_own (self);
      return;
    }

  /* Text set in this process is there at once. */
  if (content != NULL)
    {
      g_auto(GValue) value = G_VALUE_INIT;

      g_value_init (&value, G_TYPE_STRING);
      if (gdk_content_provider_get_value (content, &value, NULL))
        paste_text (self, g_value_get_string (&value));
      else
        paste_own (self);
      return;
    }

  /* Another program's is read, whatever formats it has announced so far
   * (they arrive later than the ownership); no text means the objects
   * copied here before. */
  gdk_clipboard_read_text_async (clipboard, NULL, paste_text_cb, g_object_ref (self));
}

static void
duplicate_action (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  KpWindow *self = user_data;
  g_autoptr(GArray) ids = dup_selection (self);
  g_autoptr(GPtrArray) selected = g_ptr_array_new ();

  for (guint i = 0; i < ids->len; i++)
    {
      const KpAnnotation *annotation = kp_document_lookup (self->document, g_array_index (ids, gint64, i));

      if (annotation != NULL)
        g_ptr_array_add (selected, (gpointer)annotation);
    }

  if (selected->len == 0)
    {
      kp_window_add_toast (self, _("Select objects to duplicate"));
      return;
    }

  add_copies (self, selected, 10, 10);
}

static void
copy_previous_action (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  KpWindow *self = user_data;
  guint position = gtk_single_selection_get_selected (self->selection);
  g_autoptr(KpMediaItem) item = NULL;
  g_autoptr(GError) error = NULL;
  KpDocument *previous;
  GPtrArray *annotations;

  if (self->document == NULL || position == GTK_INVALID_LIST_POSITION || position == 0)
    {
      kp_window_add_toast (self, _("There is no previous image"));
      return;
    }

  item = g_list_model_get_item (G_LIST_MODEL (self->media), position - 1);
  previous = _kp_window_ensure_document (self, kp_media_item_get_media_id (item), &error);
  if (previous == NULL)
    {
      report_error (self, error);
      return;
    }

  annotations = kp_document_get_annotations (previous);
  if (annotations->len == 0)
    {
      kp_window_add_toast (self, _("The previous image has no objects"));
      return;
    }

  if (add_copies (self, annotations, 0, 0))
    {
      g_autofree char *message = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                               "Copied %u object from the previous image",
                                                               "Copied %u objects from the previous image",
                                                               annotations->len),
                                                  annotations->len);

      kp_window_add_toast (self, message);
    }
}

/* Objects */

typedef gboolean (*SelectionEdit) (KpDocument    *document,
                                   const gint64  *ids,
                                   guint          n_ids,
                                   GError       **error);

/* Applies edit to the selected objects, if any, as one step. */
static void
edit_selection (KpWindow      *self,
                SelectionEdit  edit)
{
  g_autoptr(GArray) ids = dup_selection (self);
  g_autoptr(GError) error = NULL;

  if (ids->len > 0 &&
      !edit (self->document, (const gint64 *)ids->data, ids->len, &error))
    report_error (self, error);
}

static void
delete_selected_action (GSimpleAction *action,
                        GVariant      *parameter,
                        gpointer       user_data)
{
  edit_selection (user_data, kp_document_remove_many);
}

static void
hide_selected_action (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  KpWindow *self = user_data;
  g_autoptr(GArray) ids = dup_selection (self);
  g_autoptr(GError) error = NULL;

  if (ids->len > 0 &&
      !kp_document_set_flags (self->document, (const gint64 *)ids->data, ids->len,
                              KP_ANNOTATION_HIDDEN, TRUE, &error))
    report_error (self, error);
}

static void
show_all_action (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  KpWindow *self = user_data;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GError) error = NULL;
  GPtrArray *annotations;

  if (self->document == NULL)
    return;

  annotations = kp_document_get_annotations (self->document);
  for (guint i = 0; i < annotations->len; i++)
    {
      const KpAnnotation *annotation = g_ptr_array_index (annotations, i);

      if (annotation->flags & KP_ANNOTATION_HIDDEN)
        g_array_append_val (ids, annotation->id);
    }

  if (ids->len > 0 &&
      !kp_document_set_flags (self->document, (const gint64 *)ids->data, ids->len,
                              KP_ANNOTATION_HIDDEN, FALSE, &error))
    report_error (self, error);
}

static void
lock_selected_action (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  KpWindow *self = user_data;
  g_autoptr(GArray) ids = dup_selection (self);
  g_autoptr(GError) error = NULL;
  gboolean all_locked = TRUE;

  if (ids->len == 0)
    return;

  for (guint i = 0; i < ids->len; i++)
    {
      const KpAnnotation *annotation = kp_document_lookup (self->document, g_array_index (ids, gint64, i));

      if (annotation != NULL && !(annotation->flags & KP_ANNOTATION_LOCKED))
        all_locked = FALSE;
    }

  if (!kp_document_set_flags (self->document, (const gint64 *)ids->data, ids->len,
                              KP_ANNOTATION_LOCKED, !all_locked, &error))
    report_error (self, error);
}

static void
raise_selected_action (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  edit_selection (user_data, kp_document_raise_to_top);
}

static void
lower_selected_action (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  edit_selection (user_data, kp_document_lower_to_bottom);
}

/* Suggestions */

/* Selects the first PENDING suggestion after the primary selection in
 * drawing order (wrapping around) and zooms to it; FALSE when none. */
static gboolean
go_to_next_suggestion (KpWindow *self)
{
  GPtrArray *annotations;
  gint64 current;
  guint start = 0;

  if (self->document == NULL)
    return FALSE;

  annotations = kp_document_get_annotations (self->document);
  current = kp_canvas_get_selected_id (self->canvas);
  for (guint i = 0; current != 0 && i < annotations->len; i++)
    if (((KpAnnotation *)g_ptr_array_index (annotations, i))->id == current)
      start = i + 1;

  for (guint k = 0; k < annotations->len; k++)
    {
      const KpAnnotation *annotation = g_ptr_array_index (annotations, (start + k) % annotations->len);

      if (annotation->review == KP_REVIEW_PENDING && !(annotation->flags & KP_ANNOTATION_HIDDEN))
        {
          select_ids (self, &annotation->id, 1);
          kp_canvas_zoom_to_selection (self->canvas);
          return TRUE;
        }
    }

  return FALSE;
}

static GArray *
dup_selected_suggestions (KpWindow *self)
{
  g_autoptr(GArray) ids = dup_selection (self);
  GArray *pending = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (guint i = 0; i < ids->len; i++)
    {
      const KpAnnotation *annotation = kp_document_lookup (self->document, g_array_index (ids, gint64, i));

      if (annotation != NULL && annotation->review == KP_REVIEW_PENDING)
        g_array_append_val (pending, annotation->id);
    }

  return pending;
}

static void
review_selected (KpWindow *self,
                 gboolean  accept)
{
  g_autoptr(GArray) ids = dup_selected_suggestions (self);
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (ids->len == 0)
    {
      kp_window_add_toast (self, _("Select a suggestion first"));
      return;
    }

  if (accept)
    ok = kp_document_accept (self->document, (const gint64 *)ids->data, ids->len, &error);
  else
    ok = kp_document_reject (self->document, (const gint64 *)ids->data, ids->len, &error);

  if (!ok)
    {
      report_error (self, error);
      return;
    }

  /* Review goes on with the next one. */
  if (!go_to_next_suggestion (self))
    select_ids (self, NULL, 0);
}

static void
accept_suggestion_action (GSimpleAction *action,
                          GVariant      *parameter,
                          gpointer       user_data)
{
  review_selected (user_data, TRUE);
}

static void
reject_suggestion_action (GSimpleAction *action,
                          GVariant      *parameter,
                          gpointer       user_data)
{
  review_selected (user_data, FALSE);
}

static void
next_suggestion_action (GSimpleAction *action,
                        GVariant      *parameter,
                        gpointer       user_data)
{
  KpWindow *self = user_data;

  if (!go_to_next_suggestion (self))
    kp_window_add_toast (self, _("No suggestions left on this image"));
}

static void
review_threshold (KpWindow *self,
                  gboolean  accept)
{
  double threshold = kp_suggestion_panel_get_threshold (self->suggestion_panel);
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  guint before, after;
  gboolean ok;

  if (self->document == NULL)
    return;

  before = kp_suggestion_count_pending (self->document);
  if (accept)
    ok = kp_document_accept_above (self->document, threshold, &error);
  else
    ok = kp_document_reject_below (self->document, threshold, &error);
  if (!ok)
    {
      report_error (self, error);
      return;
    }
  after = kp_suggestion_count_pending (self->document);

  if (accept)
    message = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Accepted %u suggestion",
                                            "Accepted %u suggestions", before - after),
                               before - after);
  else
    message = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Rejected %u suggestion",
                                            "Rejected %u suggestions", before - after),
                               before - after);
  kp_window_add_toast (self, message);
}

static void
accept_above_action (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  review_threshold (user_data, TRUE);
}

static void
reject_below_action (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  review_threshold (user_data, FALSE);
}

/* Importing pre-annotations */

typedef struct
{
  char           *folder;
  char           *input;
  KpImportReport *report;
} ImportData;

static void
import_data_free (ImportData *data)
{
  g_free (data->folder);
  g_free (data->input);
  g_clear_pointer (&data->report, kp_import_report_free);
  g_free (data);
}

static gboolean
folder_has_suffix (const char *folder,
                   const char *suffix)
{
  g_autoptr(GDir) dir = g_dir_open (folder, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, suffix))
      return TRUE;

  return FALSE;
}

/* Which format input is in: by its name, then by a look inside. */
static gboolean
guess_format (const char      *input,
              KpImportFormat  *format,
              GError         **error)
{
  g_autofree char *lower = g_ascii_strdown (input, -1);

  if (g_file_test (input, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *annotations = g_build_filename (input, "Annotations", NULL);
      g_autofree char *labels = g_build_filename (input, "labels", NULL);
      g_autofree char *classes = g_build_filename (input, "classes.txt", NULL);
      g_autofree char *yaml = g_build_filename (input, "data.yaml", NULL);

      if (folder_has_suffix (input, ".xml") || folder_has_suffix (annotations, ".xml"))
        *format = KP_IMPORT_FORMAT_VOC;
      else if (g_file_test (classes, G_FILE_TEST_EXISTS) || g_file_test (yaml, G_FILE_TEST_EXISTS) ||
               g_file_test (labels, G_FILE_TEST_IS_DIR) || folder_has_suffix (input, ".txt"))
        *format = KP_IMPORT_FORMAT_YOLO;
      else
        goto unknown;
      return TRUE;
    }

  if (g_str_has_suffix (lower, ".xml"))
    *format = KP_IMPORT_FORMAT_VOC;
  else if (g_str_has_suffix (lower, ".manifest") || g_str_has_suffix (lower, ".jsonl"))
    *format = KP_IMPORT_FORMAT_GROUND_TRUTH;
  else if (g_str_has_suffix (lower, ".json"))
    {
      g_autofree char *contents = NULL;
      gsize length = 0;

      /* One JSON object per line, each with a "source-ref": Ground Truth. */
      if (g_file_get_contents (input, &contents, &length, NULL) &&
          strstr (contents, "\"source-ref\"") != NULL && strstr (contents, "\"images\"") == NULL)
        *format = KP_IMPORT_FORMAT_GROUND_TRUTH;
      else
        *format = KP_IMPORT_FORMAT_COCO;
    }
  else
    goto unknown;

  return TRUE;

unknown:
  {
    g_autofree char *display = g_filename_display_basename (input);

    g_set_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_UNKNOWN_FORMAT,
                 _("“%s” is not in a format Kempelen imports: choose a COCO .json file, a Ground Truth manifest, or a folder of Pascal VOC .xml or YOLO .txt files."),
                 display);
    return FALSE;
  }
}

static void
import_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  ImportData *data = task_data;
  g_autoptr(KpStore) store = NULL;
  g_autoptr(GError) error = NULL;
  KpImportFormat format;

  if (!guess_format (data->input, &format, &error) ||
      !(store = kp_store_open (data->folder, &error)) ||
      !(data->report = kp_import (store, format, data->input, KP_IMPORT_FLAGS_NONE,
                                  kp_label_map_load_rgb, NULL, cancellable, &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_boolean (task, TRUE);
}

static void
import_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  KpWindow *self = KP_WINDOW (object);
  ImportData *data = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  GHashTableIter iter;
  gpointer value;
  KpImportReport *report;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        _kp_window_show_error (self, _("Cannot Import the Pre-annotations"), error->message);
      return;
    }

  if (self->store == NULL || g_strcmp0 (kp_store_get_folder (self->store), data->folder) != 0)
    return;

  /* The import wrote through its own connection: read again what is in memory. */
  g_hash_table_iter_init (&iter, self->documents);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      g_autoptr(GError) reload_error = NULL;

      if (!kp_document_reload (value, &reload_error))
        g_debug ("Cannot reload a document: %s", reload_error->message);
    }
  kp_window_reload_labels (self);
  refresh_all_items (self);

  report = data->report;
  message = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                          "Imported %u suggestion",
                                          "Imported %u suggestions",
                                          report->n_objects),
                             report->n_objects);

  if (report->problems != NULL && report->problems->len > 0)
    {
      g_autoptr(GString) body = g_string_new (NULL);
      guint shown = MIN (report->problems->len, 20);

      g_string_append_printf (body, g_dngettext (GETTEXT_PACKAGE,
                                                 "%u object was added to %u image.",
                                                 "%u objects were added to %u images.",
                                                 report->n_objects),
                              report->n_objects, report->n_images);
      g_string_append (body, " ");
      g_string_append_printf (body, g_dngettext (GETTEXT_PACKAGE,
                                                 "%u thing was skipped:",
                                                 "%u things were skipped:",
                                                 report->problems->len),
                              report->problems->len);
      for (guint i = 0; i < shown; i++)
        g_string_append_printf (body, "\n• %s", (const char *)g_ptr_array_index (report->problems, i));
      if (shown < report->problems->len)
        g_string_append_printf (body, "\n%s", _("…"));

      _kp_window_show_error (self, message, body->str);
      return;
    }

  kp_window_add_toast (self, message);
}

static void
import_chosen_cb (GFile    *file,
                  gpointer  user_data)
{
  g_autoptr(KpWindow) self = user_data;
  g_autoptr(GTask) task = NULL;
  ImportData *data;

  if (file == NULL || self->store == NULL)
    return;

  data = g_new0 (ImportData, 1);
  data->folder = g_strdup (kp_store_get_folder (self->store));
  data->input = g_file_get_path (file);

  task = g_task_new (self, self->project_cancellable, import_done_cb, NULL);
  g_task_set_source_tag (task, import_chosen_cb);
  g_task_set_task_data (task, data, (GDestroyNotify)import_data_free);

  if (data->input == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _("Only files on this computer can be imported."));
      return;
    }

  kp_window_add_toast (self, _("Importing pre-annotations…"));
  g_task_run_in_thread (task, import_thread);
}

void
_kp_window_import_file (KpWindow *self,
                        GFile    *file)
{
  import_chosen_cb (file, g_object_ref (self));
}

static void
import_native_response_cb (GtkNativeDialog *native,
                           int              response,
                           gpointer         user_data)
{
  g_autoptr(GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));

  import_chosen_cb (file, user_data);
  g_object_unref (native);
}

static void
import_annotations_action (GSimpleAction *action,
                           GVariant      *parameter,
                           gpointer       user_data)
{
  KpWindow *self = user_data;
  g_autoptr(GFile) folder = NULL;

  if (self->store == NULL)
    return;

  folder = g_file_new_for_path (kp_store_get_folder (self->store));

  if (g_strcmp0 (g_variant_get_string (parameter, NULL), "folder") == 0)
    {
      kp_choose_file (GTK_WINDOW (self), KP_FILE_CHOOSER_SELECT_FOLDER,
                      _("Import Pre-annotations: Choose a Pascal VOC or YOLO Folder"), _("_Import"),
                      folder, NULL, import_chosen_cb, g_object_ref (self));
    }
  else
    {
      GtkFileChooserNative *native;
      GtkFileFilter *filter = gtk_file_filter_new ();

      native = gtk_file_chooser_native_new (_("Import Pre-annotations"), GTK_WINDOW (self),
                                            GTK_FILE_CHOOSER_ACTION_OPEN, _("_Import"), _("_Cancel"));
      gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
      gtk_file_filter_set_name (filter, _("COCO, Ground Truth or Pascal VOC files"));
      gtk_file_filter_add_suffix (filter, "json");
      gtk_file_filter_add_suffix (filter, "manifest");
      gtk_file_filter_add_suffix (filter, "jsonl");
      gtk_file_filter_add_suffix (filter, "xml");
      gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), filter);
      g_object_unref (filter);
      gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (native), folder, NULL);
      g_signal_connect (native, "response", G_CALLBACK (import_native_response_cb), g_object_ref (self));
      gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
    }
}

/* View and preferences */

static void
reset_adjustments_action (GSimpleAction *action,
                          GVariant      *parameter,
                          gpointer       user_data)
{
  KpWindow *self = user_data;

  kp_canvas_set_brightness (self->canvas, 0);
  kp_canvas_set_contrast (self->canvas, 1);
  kp_canvas_set_gamma (self->canvas, 1);
}

static void
show_keymap_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  KpWindow *self = user_data;

  gtk_window_present (GTK_WINDOW (kp_keymap_editor_new (GTK_WINDOW (self), self->settings)));
}

static void
keymap_changed_cb (KpWindow *self)
{
  _kp_window_reset_help_overlay (self);
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
  { "tool", NULL, "s", "'box'", tool_change_state },
  { "copy", copy_action },
  { "paste", paste_action },
  { "duplicate", duplicate_action },
  { "copy-previous", copy_previous_action },
  { "delete-selected", delete_selected_action },
  { "hide-selected", hide_selected_action },
  { "show-all", show_all_action },
  { "lock-selected", lock_selected_action },
  { "raise-selected", raise_selected_action },
  { "lower-selected", lower_selected_action },
  { "accept-suggestion", accept_suggestion_action },
  { "reject-suggestion", reject_suggestion_action },
  { "next-suggestion", next_suggestion_action },
  { "accept-above", accept_above_action },
  { "reject-below", reject_below_action },
  { "import-annotations", import_annotations_action, "s" },
  { "reset-adjustments", reset_adjustments_action },
  { "show-keymap", show_keymap_action },
};

void
_kp_window_init_actions (KpWindow *self)
{
  g_autoptr(GAction) crosshair = NULL;

  g_action_map_add_action_entries (G_ACTION_MAP (self), win_actions,
                                   G_N_ELEMENTS (win_actions), self);

  crosshair = g_settings_create_action (self->settings, "show-crosshair");
  g_action_map_add_action (G_ACTION_MAP (self), crosshair);

  g_signal_connect_object (self->canvas, "notify::tool", G_CALLBACK (canvas_tool_cb),
                           self, G_CONNECT_SWAPPED);
  canvas_tool_cb (self, NULL, self->canvas);
  g_signal_connect_object (self->settings, "changed::keymap", G_CALLBACK (keymap_changed_cb),
                           self, G_CONNECT_SWAPPED);

  g_binding_group_bind (self->document_bindings, "can-undo",
                        g_action_map_lookup_action (G_ACTION_MAP (self), "undo"), "enabled",
                        G_BINDING_SYNC_CREATE);
  g_binding_group_bind (self->document_bindings, "can-redo",
                        g_action_map_lookup_action (G_ACTION_MAP (self), "redo"), "enabled",
                        G_BINDING_SYNC_CREATE);

  _kp_window_update_actions (self);
}
