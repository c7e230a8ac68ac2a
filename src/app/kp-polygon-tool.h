/* kp-polygon-tool.h: draws polygons, polylines and lines
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "kp-tool.h"

G_BEGIN_DECLS

#define KP_TYPE_POLYGON_TOOL (kp_polygon_tool_get_type ())
G_DECLARE_FINAL_TYPE (KpPolygonTool, kp_polygon_tool, KP, POLYGON_TOOL, KpTool)

/* One type for three kinds (KP_TOOL_KIND_POLYGON, _POLYLINE, _LINE; see
 * kp_tool_new_for_kind()).
 *
 * Polygon: each click adds a vertex; a click on the first vertex, Return
 * or a double click closes it (at least 3 vertices); holding the button
 * down and dragging adds vertices as the pointer goes (freehand, one every
 * KP_POLYGON_TOOL_FREEHAND_STEP device pixels). BackSpace removes the last
 * vertex, Escape drops the chain. Polyline: the same, left open, at least
 * 2 vertices (Return or a double click finishes). Line: two clicks, or one
 * drag. With no chain in progress, presses go to KpTool's shared editing. */
#define KP_POLYGON_TOOL_FREEHAND_STEP 6.0

KpTool *kp_polygon_tool_new        (KpCanvas      *canvas,
                                    KpToolKind     kind);
/* The vertices placed so far (image pixels), or NULL when none. */
const KpPoint *
        kp_polygon_tool_get_chain  (KpPolygonTool *self,
                                    guint         *n_points);

G_END_DECLS
