/* kp-point-tool.c: places points and keypoints
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-point-tool.h"

#include "kp-canvas-private.h"

struct _KpPointTool
{
  KpTool    parent_instance;

  char     *keypoint_name;
  gboolean  occluded;
};

G_DEFINE_FINAL_TYPE (KpPointTool, kp_point_tool, KP_TYPE_TOOL)

static void
kp_point_tool_press (KpTool          *tool,
                     double           x,
                     double           y,
                     GdkModifierType  state)
{
  KpPointTool *self = (KpPointTool *)tool;
  KpCanvas *canvas = kp_tool_get_canvas (tool);
  g_auto(KpAnnotation) annotation = { 0 };
  KpPoint point = { x, y };
  gint64 label_id;

  if (canvas == NULL || kp_canvas_get_document (canvas) == NULL ||
      kp_tool_edit_press (tool, x, y, state))
    return;

  /* Ctrl and Alt edit; they never place a point. */
  if (state & (GDK_CONTROL_MASK | GDK_ALT_MASK))
    return;
  if (!kp_tool_clamp_to_image (tool, &point.x, &point.y))
    {
      kp_canvas_set_selection (canvas, NULL, 0);
      return;
    }

  if ((label_id = kp_tool_require_label (tool)) == 0)
    return;

  annotation.shape = KP_SHAPE_POINT;
  annotation.label_id = label_id;
  kp_annotation_set_points (&annotation, &point, 1);
  annotation.keypoint = g_strdup (self->keypoint_name);
  annotation.occluded = self->occluded;
  kp_tool_add_annotation (tool, &annotation);
}

static void
kp_point_tool_finalize (GObject *object)
{
  KpPointTool *self = (KpPointTool *)object;

  g_free (self->keypoint_name);

  G_OBJECT_CLASS (kp_point_tool_parent_class)->finalize (object);
}

static void
kp_point_tool_class_init (KpPointToolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  KpToolClass *tool_class = KP_TOOL_CLASS (klass);

  object_class->finalize = kp_point_tool_finalize;

  tool_class->press = kp_point_tool_press;
}

static void
kp_point_tool_init (KpPointTool *self)
{
}

KpTool *
kp_point_tool_new (KpCanvas *canvas)
{
  return kp_tool_new_for_kind (canvas, KP_TOOL_KIND_POINT);
}

const char *
kp_point_tool_get_keypoint_name (KpPointTool *self)
{
  g_return_val_if_fail (KP_IS_POINT_TOOL (self), NULL);

  return self->keypoint_name;
}

void
kp_point_tool_set_keypoint_name (KpPointTool *self,
                                 const char  *name)
{
  g_return_if_fail (KP_IS_POINT_TOOL (self));

  if (name != NULL && *name == '\0')
    name = NULL;
  g_free (self->keypoint_name);
  self->keypoint_name = g_strdup (name);
}

gboolean
kp_point_tool_get_occluded (KpPointTool *self)
{
  g_return_val_if_fail (KP_IS_POINT_TOOL (self), FALSE);

  return self->occluded;
}

void
kp_point_tool_set_occluded (KpPointTool *self,
                            gboolean     occluded)
{
  g_return_if_fail (KP_IS_POINT_TOOL (self));

  self->occluded = !!occluded;
}
