/* kp-rotated-box-tool.h: draws rotated boxes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "kp-box-tool.h"

G_BEGIN_DECLS

#define KP_TYPE_ROTATED_BOX_TOOL (kp_rotated_box_tool_get_type ())
G_DECLARE_FINAL_TYPE (KpRotatedBoxTool, kp_rotated_box_tool, KP, ROTATED_BOX_TOOL, KpBoxTool)

/* A drag draws an axis-aligned box, made a ROTATED_BOX at angle 0 and
 * selected; its rotation handle (above the top edge) then turns it, in
 * steps of 15 degrees with Shift, and its eight handles resize it in its
 * own frame (both from KpTool). */
KpTool *kp_rotated_box_tool_new (KpCanvas *canvas);

G_END_DECLS
