/* kp-rotated-box-tool.c: draws rotated boxes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-rotated-box-tool.h"

/* Drawing is the box tool's (it makes a ROTATED_BOX for this kind);
 * rotating and resizing are KpTool's shared handles. */
struct _KpRotatedBoxTool
{
  KpBoxTool parent_instance;
};

G_DEFINE_FINAL_TYPE (KpRotatedBoxTool, kp_rotated_box_tool, KP_TYPE_BOX_TOOL)

static void
kp_rotated_box_tool_class_init (KpRotatedBoxToolClass *klass)
{
}

static void
kp_rotated_box_tool_init (KpRotatedBoxTool *self)
{
}

KpTool *
kp_rotated_box_tool_new (KpCanvas *canvas)
{
  return kp_tool_new_for_kind (canvas, KP_TOOL_KIND_ROTATED_BOX);
}
