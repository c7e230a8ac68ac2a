/* kp-brush-tool.h: paints and erases masks
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "kp-tool.h"

G_BEGIN_DECLS

#define KP_TYPE_BRUSH_TOOL (kp_brush_tool_get_type ())
G_DECLARE_FINAL_TYPE (KpBrushTool, kp_brush_tool, KP, BRUSH_TOOL, KpTool)

/* One type for KP_TOOL_KIND_BRUSH and KP_TOOL_KIND_ERASER.
 *
 * A drag paints (brush) or erases (eraser) the pixels whose centres lie
 * within the radius of the pointer's path on the selected MASK, one undo
 * step per stroke. A brush stroke with no MASK selected makes a new MASK
 * of the current label and selects it; an eraser stroke with none does
 * nothing. LOCKED masks are never painted. `[` and `]` shrink and grow the
 * radius; an outline of the brush follows the pointer. */
#define KP_BRUSH_TOOL_DEFAULT_RADIUS 10.0
#define KP_BRUSH_TOOL_MIN_RADIUS 0.5
#define KP_BRUSH_TOOL_MAX_RADIUS 500.0

KpTool  *kp_brush_tool_new        (KpCanvas    *canvas,
                                   gboolean     erase);
gboolean kp_brush_tool_get_erase  (KpBrushTool *self);
/* Radius in image pixels ("radius", notified). */
double   kp_brush_tool_get_radius (KpBrushTool *self);
void     kp_brush_tool_set_radius (KpBrushTool *self,
                                   double       radius);

G_END_DECLS
