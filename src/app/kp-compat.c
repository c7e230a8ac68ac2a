/* kp-compat.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-compat.h"

typedef struct
{
  KpFileChooserMode mode;
  KpFileChosenFunc  callback;
  gpointer          user_data;
} ChooseData;

#if GTK_CHECK_VERSION (4, 10, 0)

static void
file_dialog_done_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  ChooseData *data = user_data;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GError) error = NULL;

  if (data->mode == KP_FILE_CHOOSER_SELECT_FOLDER)
    file = gtk_file_dialog_select_folder_finish (GTK_FILE_DIALOG (object), result, &error);
  else
    file = gtk_file_dialog_save_finish (GTK_FILE_DIALOG (object), result, &error);

  if (error != NULL &&
      !g_error_matches (error, GTK_DIALOG_ERROR, GTK_DIALOG_ERROR_DISMISSED) &&
      !g_error_matches (error, GTK_DIALOG_ERROR, GTK_DIALOG_ERROR_CANCELLED))
    g_warning ("File chooser failed: %s", error->message);

  data->callback (file, data->user_data);
  g_free (data);
}

void
kp_choose_file (GtkWindow         *parent,
                KpFileChooserMode  mode,
                const char        *title,
                const char        *accept_label,
                GFile             *initial_folder,
                const char        *initial_name,
                KpFileChosenFunc   callback,
                gpointer           user_data)
{
  g_autoptr(GtkFileDialog) dialog = NULL;
  ChooseData *data;

  g_return_if_fail (callback != NULL);

  data = g_new0 (ChooseData, 1);
  data->mode = mode;
  data->callback = callback;
  data->user_data = user_data;

  dialog = gtk_file_dialog_new ();
  gtk_file_dialog_set_title (dialog, title);
  gtk_file_dialog_set_modal (dialog, TRUE);
  gtk_file_dialog_set_accept_label (dialog, accept_label);
  if (initial_folder != NULL)
    gtk_file_dialog_set_initial_folder (dialog, initial_folder);
  if (initial_name != NULL)
    gtk_file_dialog_set_initial_name (dialog, initial_name);

  if (mode == KP_FILE_CHOOSER_SELECT_FOLDER)
    gtk_file_dialog_select_folder (dialog, parent, NULL, file_dialog_done_cb, data);
  else
    gtk_file_dialog_save (dialog, parent, NULL, file_dialog_done_cb, data);
}

#else /* GTK 4.8 */

static void
native_response_cb (GtkNativeDialog *native,
                    int              response,
                    gpointer         user_data)
{
  ChooseData *data = user_data;
  g_autoptr(GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));

  data->callback (file, data->user_data);

  g_free (data);
  gtk_native_dialog_destroy (native);
  g_object_unref (native);
}

void
kp_choose_file (GtkWindow         *parent,
                KpFileChooserMode  mode,
                const char        *title,
                const char        *accept_label,
                GFile             *initial_folder,
                const char        *initial_name,
                KpFileChosenFunc   callback,
                gpointer           user_data)
{
  GtkFileChooserNative *native;
  ChooseData *data;

  g_return_if_fail (callback != NULL);

  data = g_new0 (ChooseData, 1);
  data->mode = mode;
  data->callback = callback;
  data->user_data = user_data;

  native = gtk_file_chooser_native_new (title, parent,
                                        mode == KP_FILE_CHOOSER_SELECT_FOLDER
                                          ? GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER
                                          : GTK_FILE_CHOOSER_ACTION_SAVE,
                                        accept_label, NULL);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (native), TRUE);
  if (initial_folder != NULL)
    gtk_file_chooser_set_current_folder (GTK_FILE_CHOOSER (native), initial_folder, NULL);
  if (initial_name != NULL)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (native), initial_name);

  /* The reference is dropped in the response handler. */
  g_signal_connect (native, "response", G_CALLBACK (native_response_cb), data);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

#endif
