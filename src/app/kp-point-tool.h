/* kp-point-tool.h: places points and keypoints
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "kp-tool.h"

G_BEGIN_DECLS

#define KP_TYPE_POINT_TOOL (kp_point_tool_get_type ())
G_DECLARE_FINAL_TYPE (KpPointTool, kp_point_tool, KP, POINT_TOOL, KpTool)

/* A click on empty space places a POINT of the current label there; the
 * keypoint name and occluded flag the window sets (from the attribute
 * panel or the layout) go to every new point. Clicking a point selects
 * it, dragging moves it (KpTool). */
KpTool     *kp_point_tool_new               (KpCanvas    *canvas);

const char *kp_point_tool_get_keypoint_name (KpPointTool *self);
void        kp_point_tool_set_keypoint_name (KpPointTool *self,
                                             const char  *name);
gboolean    kp_point_tool_get_occluded      (KpPointTool *self);
void        kp_point_tool_set_occluded      (KpPointTool *self,
                                             gboolean     occluded);

G_END_DECLS
