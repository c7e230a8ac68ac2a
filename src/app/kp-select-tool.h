/* kp-select-tool.h: selects, moves and edits objects of every shape
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "kp-tool.h"

G_BEGIN_DECLS

#define KP_TYPE_SELECT_TOOL (kp_select_tool_get_type ())
G_DECLARE_FINAL_TYPE (KpSelectTool, kp_select_tool, KP, SELECT_TOOL, KpTool)

/* KpTool's shared editing, plus a rubber band: a drag on empty space
 * selects the visible objects wholly inside it (Shift or Ctrl: adds them
 * to the selection). */
KpTool *kp_select_tool_new (KpCanvas *canvas);

G_END_DECLS
