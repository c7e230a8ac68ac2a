/* kp-box-tool.h: draws boxes (and, as KpRotatedBoxTool, rotated boxes)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "kp-tool.h"

G_BEGIN_DECLS

#define KP_TYPE_BOX_TOOL (kp_box_tool_get_type ())
G_DECLARE_DERIVABLE_TYPE (KpBoxTool, kp_box_tool, KP, BOX_TOOL, KpTool)

struct _KpBoxToolClass
{
  KpToolClass parent_class;
};

/* Below this size in widget pixels a drag is a click. */
#define KP_BOX_TOOL_MIN_SIZE KP_TOOL_CLICK_DISTANCE
/* How far from a handle, in widget pixels, the pointer still grabs it. */
#define KP_BOX_TOOL_HANDLE_TOLERANCE KP_TOOL_HANDLE_TOLERANCE

/* Drag on empty space draws a box on the pixel grid; everything else is
 * the shared editing of KpTool. */
KpTool *kp_box_tool_new (KpCanvas *canvas);

G_END_DECLS
