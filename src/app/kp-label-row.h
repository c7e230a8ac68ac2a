/* kp-label-row.h: one label of the labels panel
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "kp-core.h"

G_BEGIN_DECLS

#define KP_TYPE_LABEL_ROW (kp_label_row_get_type ())
G_DECLARE_FINAL_TYPE (KpLabelRow, kp_label_row, KP, LABEL_ROW, GtkListBoxRow)

/* The row's edit and delete buttons activate win.edit-label and
 * win.delete-label with the label id ("x") as target. */
GtkWidget     *kp_label_row_new       (const KpLabel *label);
const KpLabel *kp_label_row_get_label (KpLabelRow    *self);
gint64         kp_label_row_get_id    (KpLabelRow    *self);

G_END_DECLS
