/* kp-compat.h: the one place for API that differs between GTK 4.8 and newer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum
{
  KP_FILE_CHOOSER_SELECT_FOLDER,
  KP_FILE_CHOOSER_SAVE,
} KpFileChooserMode;

/* Called once with the chosen file, or NULL when the user cancelled. */
typedef void (*KpFileChosenFunc) (GFile    *file,
                                  gpointer  user_data);

/* A portal-friendly file chooser: GtkFileChooserNative on GTK 4.8,
 * GtkFileDialog on 4.10 and newer. initial_folder and initial_name may be NULL. */
void kp_choose_file (GtkWindow         *parent,
                     KpFileChooserMode  mode,
                     const char        *title,
                     const char        *accept_label,
                     GFile             *initial_folder,
                     const char        *initial_name,
                     KpFileChosenFunc   callback,
                     gpointer           user_data);

G_END_DECLS
