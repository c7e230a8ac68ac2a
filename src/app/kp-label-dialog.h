/* kp-label-dialog.h: adds or edits a label (name, colour, key)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "kp-core.h"

G_BEGIN_DECLS

#define KP_TYPE_LABEL_DIALOG (kp_label_dialog_get_type ())
G_DECLARE_FINAL_TYPE (KpLabelDialog, kp_label_dialog, KP, LABEL_DIALOG, AdwWindow)

/* label NULL: a new label with default_color. The dialog writes to store
 * itself; a store error (empty or duplicate name, key taken) is shown inline
 * and the dialog stays open. Signal "saved" (gint64 label_id) on success,
 * then the dialog closes. */
KpLabelDialog *kp_label_dialog_new        (GtkWindow     *parent,
                                           KpStore       *store,
                                           const KpLabel *label,
                                           const char    *default_color);
void           kp_label_dialog_set_values (KpLabelDialog *self,
                                           const char    *name,
                                           const char    *color,
                                           int            key);
/* What the Add/Save button does. */
gboolean       kp_label_dialog_save       (KpLabelDialog *self);
/* The error shown inline, or NULL. */
const char    *kp_label_dialog_get_error  (KpLabelDialog *self);

G_END_DECLS
