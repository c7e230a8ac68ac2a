/* kp-tool.c: the base class of the canvas tools
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-tool.h"

#include "kp-canvas.h"

typedef struct
{
  KpCanvas *canvas;             /* weak */
} KpToolPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (KpTool, kp_tool, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CANVAS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
kp_tool_dispose (GObject *object)
{
  KpTool *self = (KpTool *)object;
  KpToolPrivate *priv = kp_tool_get_instance_private (self);

  g_clear_weak_pointer (&priv->canvas);

  G_OBJECT_CLASS (kp_tool_parent_class)->dispose (object);
}

static void
kp_tool_get_property (GObject    *object,
                      guint       prop_id,
                      GValue     *value,
                      GParamSpec *pspec)
{
  KpTool *self = KP_TOOL (object);

  switch (prop_id)
    {
    case PROP_CANVAS:
      g_value_set_object (value, kp_tool_get_canvas (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_tool_set_property (GObject      *object,
                      guint         prop_id,
                      const GValue *value,
                      GParamSpec   *pspec)
{
  KpTool *self = KP_TOOL (object);
  KpToolPrivate *priv = kp_tool_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_CANVAS:
      g_set_weak_pointer (&priv->canvas, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static gboolean
kp_tool_real_cancel (KpTool *self)
{
  return FALSE;
}

static gboolean
kp_tool_real_get_preview (KpTool *self,
                          gint64 *annotation_id,
                          KpRect *rect)
{
  return FALSE;
}

static const char *
kp_tool_real_get_cursor_name (KpTool *self,
                              double  x,
                              double  y)
{
  return "default";
}

static void
kp_tool_class_init (KpToolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kp_tool_dispose;
  object_class->get_property = kp_tool_get_property;
  object_class->set_property = kp_tool_set_property;

  klass->cancel = kp_tool_real_cancel;
  klass->get_preview = kp_tool_real_get_preview;
  klass->get_cursor_name = kp_tool_real_get_cursor_name;

  properties[PROP_CANVAS] =
    g_param_spec_object ("canvas", NULL, NULL,
                         KP_TYPE_CANVAS,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kp_tool_init (KpTool *self)
{
}

/**
 * kp_tool_get_canvas:
 *
 * Returns: (transfer none) (nullable): the canvas the tool works on, or
 *   %NULL once the canvas is gone.
 */
KpCanvas *
kp_tool_get_canvas (KpTool *self)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);

  g_return_val_if_fail (KP_IS_TOOL (self), NULL);

  return priv->canvas;
}

void
kp_tool_press (KpTool          *self,
               double           x,
               double           y,
               GdkModifierType  state)
{
  g_return_if_fail (KP_IS_TOOL (self));

  if (KP_TOOL_GET_CLASS (self)->press)
    KP_TOOL_GET_CLASS (self)->press (self, x, y, state);
}

void
kp_tool_motion (KpTool          *self,
                double           x,
                double           y,
                GdkModifierType  state)
{
  g_return_if_fail (KP_IS_TOOL (self));

  if (KP_TOOL_GET_CLASS (self)->motion)
    KP_TOOL_GET_CLASS (self)->motion (self, x, y, state);
}

void
kp_tool_release (KpTool          *self,
                 double           x,
                 double           y,
                 GdkModifierType  state)
{
  g_return_if_fail (KP_IS_TOOL (self));

  if (KP_TOOL_GET_CLASS (self)->release)
    KP_TOOL_GET_CLASS (self)->release (self, x, y, state);
}

gboolean
kp_tool_key_pressed (KpTool          *self,
                     guint            keyval,
                     GdkModifierType  state)
{
  g_return_val_if_fail (KP_IS_TOOL (self), FALSE);

  if (KP_TOOL_GET_CLASS (self)->key_pressed)
    return KP_TOOL_GET_CLASS (self)->key_pressed (self, keyval, state);

  return FALSE;
}

gboolean
kp_tool_cancel (KpTool *self)
{
  g_return_val_if_fail (KP_IS_TOOL (self), FALSE);

  return KP_TOOL_GET_CLASS (self)->cancel (self);
}

gboolean
kp_tool_get_preview (KpTool *self,
                     gint64 *annotation_id,
                     KpRect *rect)
{
  g_return_val_if_fail (KP_IS_TOOL (self), FALSE);
  g_return_val_if_fail (annotation_id != NULL, FALSE);
  g_return_val_if_fail (rect != NULL, FALSE);

  return KP_TOOL_GET_CLASS (self)->get_preview (self, annotation_id, rect);
}

const char *
kp_tool_get_cursor_name (KpTool *self,
                         double  x,
                         double  y)
{
  g_return_val_if_fail (KP_IS_TOOL (self), NULL);

  return KP_TOOL_GET_CLASS (self)->get_cursor_name (self, x, y);
}
