/* kp-box-tool.h: draws, selects, moves and resizes boxes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "kp-tool.h"

G_BEGIN_DECLS

#define KP_TYPE_BOX_TOOL (kp_box_tool_get_type ())
G_DECLARE_FINAL_TYPE (KpBoxTool, kp_box_tool, KP, BOX_TOOL, KpTool)

/* Below this size in widget pixels a drag is a click. */
#define KP_BOX_TOOL_MIN_SIZE 2.0
/* How far from a handle, in widget pixels, the pointer still grabs it. */
#define KP_BOX_TOOL_HANDLE_TOLERANCE 6.0

KpTool *kp_box_tool_new (KpCanvas *canvas);

G_END_DECLS
