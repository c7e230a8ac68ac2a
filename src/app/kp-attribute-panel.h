/* kp-attribute-panel.h: the attributes of the selected objects
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "kp-canvas.h"

G_BEGIN_DECLS

#define KP_TYPE_ATTRIBUTE_PANEL (kp_attribute_panel_get_type ())
G_DECLARE_FINAL_TYPE (KpAttributePanel, kp_attribute_panel, KP, ATTRIBUTE_PANEL, GtkWidget)

/* For the canvas's selection: per label among the selected objects, one
 * editor per attribute of that label (checkbox: GtkCheckButton, choice:
 * GtkDropDown, text: GtkEntry, number: GtkSpinButton within min..max).
 * An edit applies to every selected object of that label as one undo
 * step. It shows the value of the first of them. Signal "error"
 * (const GError *) when an edit fails. */
GtkWidget  *kp_attribute_panel_new            (void);
void        kp_attribute_panel_set_canvas     (KpAttributePanel *self,
                                               KpCanvas         *canvas);
/* Element types KpLabel and KpAttribute; copied. */
void        kp_attribute_panel_set_labels     (KpAttributePanel *self,
                                               GPtrArray        *labels);
void        kp_attribute_panel_set_attributes (KpAttributePanel *self,
                                               GPtrArray        *attributes);
/* The editor of an attribute shown now (a GtkCheckButton, GtkDropDown,
 * GtkEntry or GtkSpinButton), or NULL; for tests. */
GtkWidget  *kp_attribute_panel_get_editor     (KpAttributePanel *self,
                                               gint64            attribute_id);

G_END_DECLS
