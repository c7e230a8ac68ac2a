/* kp-box-tool.c: draws boxes (and, as KpRotatedBoxTool, rotated boxes)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-box-tool.h"

#include <math.h>

#include "kp-canvas-private.h"

typedef struct
{
  gboolean      drawing;
  double        start_x;
  double        start_y;
  KpAnnotation  preview;        /* the box being drawn */
  const KpAnnotation *previews[1];
  guint         moved : 1;      /* went beyond the click distance */
  guint         refused : 1;    /* the "no label" error was reported */
} KpBoxToolPrivate;

G_DEFINE_TYPE_WITH_PRIVATE (KpBoxTool, kp_box_tool, KP_TYPE_TOOL)

static gboolean
makes_rotated (KpTool *tool)
{
  return kp_tool_get_kind (tool) == KP_TOOL_KIND_ROTATED_BOX;
}

static void
compute_rect (KpTool *tool,
              double  x,
              double  y)
{
  KpBoxToolPrivate *priv = kp_box_tool_get_instance_private (KP_BOX_TOOL (tool));
  double scale = kp_tool_get_scale (tool);
  KpRect rect;

  if (fabs (x - priv->start_x) * scale >= KP_BOX_TOOL_MIN_SIZE ||
      fabs (y - priv->start_y) * scale >= KP_BOX_TOOL_MIN_SIZE)
    priv->moved = TRUE;

  kp_tool_clamp_to_image (tool, &x, &y);
  rect = kp_rect_from_points (priv->start_x, priv->start_y, round (x), round (y));

  priv->preview.rect = rect;
  if (makes_rotated (tool))
    priv->preview.rotated = (KpRotatedBox) {
      rect.x + rect.width / 2, rect.y + rect.height / 2, rect.width, rect.height, 0,
    };
}

static void
reset (KpBoxToolPrivate *priv)
{
  priv->drawing = FALSE;
  priv->moved = FALSE;
  priv->refused = FALSE;
}

static void
kp_box_tool_press (KpTool          *tool,
                   double           x,
                   double           y,
                   GdkModifierType  state)
{
  KpBoxToolPrivate *priv = kp_box_tool_get_instance_private (KP_BOX_TOOL (tool));
  KpCanvas *canvas = kp_tool_get_canvas (tool);

  reset (priv);

  if (canvas == NULL || kp_canvas_get_document (canvas) == NULL)
    return;

  if (kp_tool_edit_press (tool, x, y, state))
    return;

  /* Empty space: a click deselects, a drag draws a new box. Ctrl and
   * Alt edit; they never start a shape. */
  if (state & (GDK_CONTROL_MASK | GDK_ALT_MASK))
    return;
  if (!(state & GDK_SHIFT_MASK))
    kp_canvas_set_selection (canvas, NULL, 0);

  if (!kp_tool_clamp_to_image (tool, &x, &y))
    return;

  priv->drawing = TRUE;
  priv->start_x = round (x);
  priv->start_y = round (y);
  kp_annotation_clear (&priv->preview);
  priv->preview.shape = makes_rotated (tool) ? KP_SHAPE_ROTATED_BOX : KP_SHAPE_BOX;
  priv->preview.label_id = kp_canvas_get_current_label_id (canvas);
  compute_rect (tool, x, y);
}

static void
kp_box_tool_motion (KpTool          *tool,
                    double           x,
                    double           y,
                    GdkModifierType  state)
{
  KpBoxToolPrivate *priv = kp_box_tool_get_instance_private (KP_BOX_TOOL (tool));
  KpCanvas *canvas = kp_tool_get_canvas (tool);

  if (!priv->drawing)
    {
      KP_TOOL_CLASS (kp_box_tool_parent_class)->motion (tool, x, y, state);
      return;
    }
  if (canvas == NULL)
    return;

  compute_rect (tool, x, y);

  if (priv->moved && kp_canvas_get_current_label_id (canvas) == 0)
    {
      if (!priv->refused)
        kp_tool_require_label (tool);
      reset (priv);
      priv->refused = TRUE;
    }

  _kp_canvas_preview_changed (canvas);
}

static void
kp_box_tool_release (KpTool          *tool,
                     double           x,
                     double           y,
                     GdkModifierType  state)
{
  KpBoxToolPrivate *priv = kp_box_tool_get_instance_private (KP_BOX_TOOL (tool));
  KpCanvas *canvas = kp_tool_get_canvas (tool);
  g_auto(KpAnnotation) annotation = { 0 };
  double scale = kp_tool_get_scale (tool);
  gint64 label_id;

  if (!priv->drawing)
    {
      KP_TOOL_CLASS (kp_box_tool_parent_class)->release (tool, x, y, state);
      reset (priv);
      return;
    }
  if (canvas == NULL)
    {
      reset (priv);
      return;
    }

  compute_rect (tool, x, y);
  kp_annotation_copy_to (&priv->preview, &annotation);

  /* Nothing is written before this point: the gesture in progress is the
   * only thing a crash may lose. */
  reset (priv);
  _kp_canvas_preview_changed (canvas);

  if (annotation.rect.width * scale < KP_BOX_TOOL_MIN_SIZE ||
      annotation.rect.height * scale < KP_BOX_TOOL_MIN_SIZE ||
      annotation.rect.width < 1 || annotation.rect.height < 1)
    return;

  if ((label_id = kp_tool_require_label (tool)) == 0)
    return;

  annotation.label_id = label_id;
  kp_tool_add_annotation (tool, &annotation);
}

static gboolean
kp_box_tool_cancel (KpTool *tool)
{
  KpBoxToolPrivate *priv = kp_box_tool_get_instance_private (KP_BOX_TOOL (tool));
  KpCanvas *canvas = kp_tool_get_canvas (tool);
  gboolean was_drawing = priv->drawing;

  reset (priv);
  if (was_drawing && canvas != NULL)
    _kp_canvas_preview_changed (canvas);

  return KP_TOOL_CLASS (kp_box_tool_parent_class)->cancel (tool) || was_drawing;
}

static gboolean
kp_box_tool_key_pressed (KpTool          *tool,
                         guint            keyval,
                         GdkModifierType  state)
{
  KpBoxToolPrivate *priv = kp_box_tool_get_instance_private (KP_BOX_TOOL (tool));

  /* No nudging while a box is being drawn. */
  if (priv->drawing && keyval != GDK_KEY_Escape)
    return FALSE;

  return KP_TOOL_CLASS (kp_box_tool_parent_class)->key_pressed (tool, keyval, state);
}

static const KpAnnotation * const *
kp_box_tool_get_preview_annotations (KpTool *tool,
                                     guint  *n_annotations)
{
  KpBoxToolPrivate *priv = kp_box_tool_get_instance_private (KP_BOX_TOOL (tool));

  if (!priv->drawing)
    return KP_TOOL_CLASS (kp_box_tool_parent_class)->get_preview_annotations (tool, n_annotations);

  if (!priv->moved)
    {
      *n_annotations = 0;
      return NULL;
    }

  priv->previews[0] = &priv->preview;
  *n_annotations = 1;

  return priv->previews;
}

static const char *
kp_box_tool_get_cursor_name (KpTool *tool,
                             double  x,
                             double  y)
{
  KpBoxToolPrivate *priv = kp_box_tool_get_instance_private (KP_BOX_TOOL (tool));

  if (priv->drawing)
    return "crosshair";

  return KP_TOOL_CLASS (kp_box_tool_parent_class)->get_cursor_name (tool, x, y);
}

static void
kp_box_tool_dispose (GObject *object)
{
  KpBoxToolPrivate *priv = kp_box_tool_get_instance_private (KP_BOX_TOOL (object));

  kp_annotation_clear (&priv->preview);

  G_OBJECT_CLASS (kp_box_tool_parent_class)->dispose (object);
}

static void
kp_box_tool_class_init (KpBoxToolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  KpToolClass *tool_class = KP_TOOL_CLASS (klass);

  object_class->dispose = kp_box_tool_dispose;

  tool_class->press = kp_box_tool_press;
  tool_class->motion = kp_box_tool_motion;
  tool_class->release = kp_box_tool_release;
  tool_class->key_pressed = kp_box_tool_key_pressed;
  tool_class->cancel = kp_box_tool_cancel;
  tool_class->get_preview_annotations = kp_box_tool_get_preview_annotations;
  tool_class->get_cursor_name = kp_box_tool_get_cursor_name;
}

static void
kp_box_tool_init (KpBoxTool *self)
{
}

KpTool *
kp_box_tool_new (KpCanvas *canvas)
{
  return kp_tool_new_for_kind (canvas, KP_TOOL_KIND_BOX);
}
