/* kp-tool.c: the base class of the canvas tools
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-tool.h"

#include <glib/gi18n.h>

#include "kp-box-tool.h"
#include "kp-canvas.h"

typedef struct
{
  KpCanvas     *canvas;         /* weak */
  KpToolKind    kind;
  /* The default get_preview_annotations(): get_preview() as one box. */
  KpAnnotation  legacy_preview;
  const KpAnnotation *legacy_previews[1];
} KpToolPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (KpTool, kp_tool, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CANVAS,
  PROP_KIND,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
kp_tool_dispose (GObject *object)
{
  KpTool *self = (KpTool *)object;
  KpToolPrivate *priv = kp_tool_get_instance_private (self);

  g_clear_weak_pointer (&priv->canvas);
  kp_annotation_clear (&priv->legacy_preview);

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

    case PROP_KIND:
      g_value_set_int (value, kp_tool_get_kind (self));
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

    case PROP_KIND:
      priv->kind = g_value_get_int (value);
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

static const KpAnnotation * const *
kp_tool_real_get_preview_annotations (KpTool *self,
                                      guint  *n_annotations)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);
  gint64 annotation_id = 0;
  KpRect rect = { 0 };
  KpDocument *document;
  const KpAnnotation *current = NULL;

  *n_annotations = 0;
  if (!KP_TOOL_GET_CLASS (self)->get_preview (self, &annotation_id, &rect))
    return NULL;

  kp_annotation_clear (&priv->legacy_preview);
  document = priv->canvas != NULL ? kp_canvas_get_document (priv->canvas) : NULL;
  if (document != NULL && annotation_id != 0)
    current = kp_document_lookup (document, annotation_id);
  if (current != NULL)
    kp_annotation_copy_to (current, &priv->legacy_preview);
  else if (priv->canvas != NULL)
    priv->legacy_preview.label_id = kp_canvas_get_current_label_id (priv->canvas);
  priv->legacy_preview.id = annotation_id;
  priv->legacy_preview.shape = KP_SHAPE_BOX;
  priv->legacy_preview.rect = rect;

  priv->legacy_previews[0] = &priv->legacy_preview;
  *n_annotations = 1;

  return priv->legacy_previews;
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
  klass->get_preview_annotations = kp_tool_real_get_preview_annotations;
  klass->get_cursor_name = kp_tool_real_get_cursor_name;

  properties[PROP_CANVAS] =
    g_param_spec_object ("canvas", NULL, NULL,
                         KP_TYPE_CANVAS,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_STATIC_STRINGS));

  /* Set by kp_tool_new_for_kind(); a plain int so the enum needs no GType. */
  properties[PROP_KIND] =
    g_param_spec_int ("kind", NULL, NULL,
                      0, KP_N_TOOL_KINDS - 1, KP_TOOL_KIND_BOX,
                      (G_PARAM_READWRITE |
                       G_PARAM_CONSTRUCT_ONLY |
                       G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kp_tool_init (KpTool *self)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);

  priv->kind = KP_TOOL_KIND_BOX;
}

/* Icons of the Adwaita theme, so the palette shows something everywhere. */
typedef struct
{
  const char *id;
  const char *name;
  const char *icon_name;
  int         shape;            /* KpShape, or -1 */
} KindInfo;

static const KindInfo kind_info[KP_N_TOOL_KINDS] = {
  [KP_TOOL_KIND_SELECT]      = { "select", N_("Select"), "edit-select-symbolic", -1 },
  [KP_TOOL_KIND_BOX]         = { "box", N_("Box"), "checkbox-symbolic", KP_SHAPE_BOX },
  [KP_TOOL_KIND_ROTATED_BOX] = { "rotated-box", N_("Rotated Box"), "object-rotate-right-symbolic", KP_SHAPE_ROTATED_BOX },
  [KP_TOOL_KIND_POLYGON]     = { "polygon", N_("Polygon"), "x-office-drawing-symbolic", KP_SHAPE_POLYGON },
  [KP_TOOL_KIND_POLYLINE]    = { "polyline", N_("Polyline"), "view-continuous-symbolic", KP_SHAPE_POLYLINE },
  [KP_TOOL_KIND_LINE]        = { "line", N_("Line"), "format-text-underline-symbolic", KP_SHAPE_LINE },
  [KP_TOOL_KIND_POINT]       = { "point", N_("Point"), "mark-location-symbolic", KP_SHAPE_POINT },
  [KP_TOOL_KIND_BRUSH]       = { "brush", N_("Brush"), "document-edit-symbolic", KP_SHAPE_MASK },
  [KP_TOOL_KIND_ERASER]      = { "eraser", N_("Eraser"), "edit-clear-symbolic", KP_SHAPE_MASK },
};

KpTool *
kp_tool_new_for_kind (KpCanvas   *canvas,
                      KpToolKind  kind)
{
  GType type = KP_TYPE_BOX_TOOL;

  g_return_val_if_fail (canvas == NULL || KP_IS_CANVAS (canvas), NULL);
  g_return_val_if_fail (kind < KP_N_TOOL_KINDS, NULL);

  return g_object_new (type,
                       "canvas", canvas,
                       "kind", (int)kind,
                       NULL);
}

KpToolKind
kp_tool_get_kind (KpTool *self)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);

  g_return_val_if_fail (KP_IS_TOOL (self), KP_TOOL_KIND_BOX);

  return priv->kind;
}

const char *
kp_tool_kind_get_id (KpToolKind kind)
{
  g_return_val_if_fail (kind < KP_N_TOOL_KINDS, NULL);

  return kind_info[kind].id;
}

gboolean
kp_tool_kind_from_id (const char *id,
                      KpToolKind *kind)
{
  g_return_val_if_fail (kind != NULL, FALSE);

  if (id == NULL)
    return FALSE;

  for (guint i = 0; i < KP_N_TOOL_KINDS; i++)
    if (g_str_equal (kind_info[i].id, id))
      {
        *kind = i;
        return TRUE;
      }

  return FALSE;
}

const char *
kp_tool_kind_get_name (KpToolKind kind)
{
  g_return_val_if_fail (kind < KP_N_TOOL_KINDS, NULL);

  return _(kind_info[kind].name);
}

const char *
kp_tool_kind_get_icon_name (KpToolKind kind)
{
  g_return_val_if_fail (kind < KP_N_TOOL_KINDS, NULL);

  return kind_info[kind].icon_name;
}

gboolean
kp_tool_kind_get_shape (KpToolKind  kind,
                        KpShape    *shape)
{
  g_return_val_if_fail (kind < KP_N_TOOL_KINDS, FALSE);

  if (kind_info[kind].shape < 0)
    return FALSE;
  if (shape != NULL)
    *shape = kind_info[kind].shape;

  return TRUE;
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

const KpAnnotation * const *
kp_tool_get_preview_annotations (KpTool *self,
                                 guint  *n_annotations)
{
  g_return_val_if_fail (KP_IS_TOOL (self), NULL);
  g_return_val_if_fail (n_annotations != NULL, NULL);

  return KP_TOOL_GET_CLASS (self)->get_preview_annotations (self, n_annotations);
}

void
kp_tool_snapshot (KpTool       *self,
                  GtkSnapshot  *snapshot,
                  const KpView *view,
                  double        width,
                  double        height)
{
  g_return_if_fail (KP_IS_TOOL (self));
  g_return_if_fail (view != NULL);

  if (KP_TOOL_GET_CLASS (self)->snapshot)
    KP_TOOL_GET_CLASS (self)->snapshot (self, snapshot, view, width, height);
}

void
kp_tool_canvas_changed (KpTool *self)
{
  g_return_if_fail (KP_IS_TOOL (self));

  if (KP_TOOL_GET_CLASS (self)->canvas_changed)
    KP_TOOL_GET_CLASS (self)->canvas_changed (self);
}
