/* kp-tool-palette.h: a toggle button per canvas tool
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define KP_TYPE_TOOL_PALETTE (kp_tool_palette_get_type ())
G_DECLARE_FINAL_TYPE (KpToolPalette, kp_tool_palette, KP, TOOL_PALETTE, GtkWidget)

/* The buttons activate "win.tool" with the tool kind's id; their tooltips
 * name the key the keymap in settings gives each tool, and follow it. */
GtkWidget       *kp_tool_palette_new        (GSettings     *settings);
/* The button of a tool kind id ("box"), for tests. */
GtkToggleButton *kp_tool_palette_get_button (KpToolPalette *self,
                                             const char    *kind_id);

G_END_DECLS
