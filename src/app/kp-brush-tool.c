/* kp-brush-tool.c: paints and erases masks
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-brush-tool.h"

#include <math.h>

#include "kp-canvas-private.h"

struct _KpBrushTool
{
  KpTool        parent_instance;

  double        radius;

  gboolean      stroking;
  gint64        target_id;      /* the MASK painted, 0 for a new one */
  GArray       *points;         /* KpPoint: the stroke */
  KpAnnotation  preview;        /* the mask as the stroke leaves it */
  const KpAnnotation *previews[1];

  gboolean      has_pointer;
  double        pointer_x;
  double        pointer_y;
};

G_DEFINE_FINAL_TYPE (KpBrushTool, kp_brush_tool, KP_TYPE_TOOL)

enum {
  PROP_0,
  PROP_RADIUS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
is_eraser (KpBrushTool *self)
{
  return kp_tool_get_kind (KP_TOOL (self)) == KP_TOOL_KIND_ERASER;
}

static void
changed (KpBrushTool *self)
{
  KpCanvas *canvas = kp_tool_get_canvas (KP_TOOL (self));

  if (canvas != NULL)
    _kp_canvas_preview_changed (canvas);
}

static void
end_stroke (KpBrushTool *self)
{
  self->stroking = FALSE;
  self->target_id = 0;
  g_array_set_size (self->points, 0);
  kp_annotation_clear (&self->preview);
}

static void
dab (KpBrushTool *self,
     double       x,
     double       y)
{
  KpPoint point = { x, y };
  KpMask *mask;

  g_array_append_val (self->points, point);
  mask = kp_mask_paint_circle (self->preview.mask, x, y, self->radius, !is_eraser (self));
  g_clear_pointer (&self->preview.mask, kp_mask_free);
  self->preview.mask = mask;
}

/* Dabs along the way from the last point, close enough that a quick
 * stroke leaves no gaps. */
static void
stroke_to (KpBrushTool *self,
           double       x,
           double       y)
{
  const KpPoint *last;
  double distance, step, x0, y0;
  guint n;

  if (self->points->len == 0)
    {
      dab (self, x, y);
      return;
    }

  last = &g_array_index (self->points, KpPoint, self->points->len - 1);
  distance = hypot (x - last->x, y - last->y);
  step = MAX (self->radius / 2, 0.5);
  if (distance < step)
    return;

  n = (guint)ceil (distance / step);
  x0 = last->x;
  y0 = last->y;
  for (guint i = 1; i <= n; i++)
    dab (self, x0 + (x - x0) * i / n, y0 + (y - y0) * i / n);
}

static void
kp_brush_tool_press (KpTool          *tool,
                     double           x,
                     double           y,
                     GdkModifierType  state)
{
  KpBrushTool *self = (KpBrushTool *)tool;
  KpCanvas *canvas = kp_tool_get_canvas (tool);
  const KpAnnotation *target = NULL;
  KpDocument *document;

  end_stroke (self);
  self->has_pointer = TRUE;
  self->pointer_x = x;
  self->pointer_y = y;

  if (canvas == NULL || (document = kp_canvas_get_document (canvas)) == NULL)
    return;

  target = kp_document_lookup (document, kp_canvas_get_selected_id (canvas));
  if (target != NULL && target->shape != KP_SHAPE_MASK)
    target = NULL;

  if (target != NULL)
    {
      /* A locked mask stays as it is. */
      if (target->flags & KP_ANNOTATION_LOCKED)
        return;
      kp_annotation_copy_to (target, &self->preview);
      self->target_id = target->id;
    }
  else
    {
      gint64 label_id;

      if (is_eraser (self))
        return;
      if ((label_id = kp_tool_require_label (tool)) == 0)
        return;
      self->preview.shape = KP_SHAPE_MASK;
      self->preview.label_id = label_id;
    }

  self->stroking = TRUE;
  dab (self, x, y);
  changed (self);
}

static void
kp_brush_tool_motion (KpTool          *tool,
                      double           x,
                      double           y,
                      GdkModifierType  state)
{
  KpBrushTool *self = (KpBrushTool *)tool;

  self->has_pointer = TRUE;
  self->pointer_x = x;
  self->pointer_y = y;

  if (self->stroking)
    stroke_to (self, x, y);

  changed (self);
}

static void
kp_brush_tool_release (KpTool          *tool,
                       double           x,
                       double           y,
                       GdkModifierType  state)
{
  KpBrushTool *self = (KpBrushTool *)tool;
  KpCanvas *canvas = kp_tool_get_canvas (tool);
  g_autoptr(GError) error = NULL;
  KpDocument *document;
  double width, height;

  if (!self->stroking)
    return;

  kp_brush_tool_motion (tool, x, y, state);

  if (canvas == NULL || (document = kp_canvas_get_document (canvas)) == NULL)
    {
      end_stroke (self);
      return;
    }

  if (self->target_id != 0)
    {
      if (!kp_document_paint_mask (document, self->target_id,
                                   (const KpPoint *)(gpointer)self->points->data,
                                   self->points->len, self->radius, !is_eraser (self), &error))
        _kp_canvas_emit_error (canvas, error);
    }
  else if (self->preview.mask != NULL && _kp_canvas_get_image_size (canvas, &width, &height))
    {
      g_autoptr(KpMask) clipped = kp_mask_clip (self->preview.mask, (int)width, (int)height);

      /* The new mask, painted already: one step, not an add and a paint. */
      if (!kp_mask_is_empty (clipped))
        {
          kp_mask_free (self->preview.mask);
          self->preview.mask = g_steal_pointer (&clipped);
          kp_annotation_update_bounds (&self->preview);
          kp_tool_add_annotation (tool, &self->preview);
        }
    }

  end_stroke (self);
  changed (self);
}

static gboolean
kp_brush_tool_key_pressed (KpTool          *tool,
                           guint            keyval,
                           GdkModifierType  state)
{
  KpBrushTool *self = (KpBrushTool *)tool;
  double step = MAX (1, round (self->radius / 5));

  switch (keyval)
    {
    case GDK_KEY_bracketleft:
      kp_brush_tool_set_radius (self, self->radius - (self->radius <= 1 ? 0.5 : step));
      return TRUE;

    case GDK_KEY_bracketright:
      kp_brush_tool_set_radius (self, self->radius + (self->radius < 1 ? 0.5 : step));
      return TRUE;

    default:
      if (self->stroking && keyval != GDK_KEY_Escape)
        return FALSE;
      return KP_TOOL_CLASS (kp_brush_tool_parent_class)->key_pressed (tool, keyval, state);
    }
}

static gboolean
kp_brush_tool_cancel (KpTool *tool)
{
  KpBrushTool *self = (KpBrushTool *)tool;
  gboolean was_stroking = self->stroking;

  end_stroke (self);
  if (was_stroking)
    changed (self);

  return KP_TOOL_CLASS (kp_brush_tool_parent_class)->cancel (tool) || was_stroking;
}

static const KpAnnotation * const *
kp_brush_tool_get_preview_annotations (KpTool *tool,
                                       guint  *n_annotations)
{
  KpBrushTool *self = (KpBrushTool *)tool;

  if (!self->stroking || self->preview.mask == NULL)
    {
      *n_annotations = 0;
      return NULL;
    }

  kp_annotation_update_bounds (&self->preview);
  self->previews[0] = &self->preview;
  *n_annotations = 1;

  return self->previews;
}

static void
kp_brush_tool_snapshot (KpTool       *tool,
                        GtkSnapshot  *snapshot,
                        const KpView *view,
                        double        width,
                        double        height)
{
  KpBrushTool *self = (KpBrushTool *)tool;
  KpCanvas *canvas = kp_tool_get_canvas (tool);
  graphene_rect_t bounds;
  double x, y, wx, wy, r;
  cairo_t *cr;

  if (canvas == NULL)
    return;

  /* During a stroke the tool knows best; on hover only the canvas does. */
  if (self->stroking || !_kp_canvas_get_pointer (canvas, &x, &y))
    {
      if (!self->has_pointer)
        return;
      x = self->pointer_x;
      y = self->pointer_y;
    }

  /* The outline of the brush, light inside dark so it shows on any image. */
  kp_view_image_to_widget (view, x, y, &wx, &wy);
  /* Half a pixel out, so the 1 px ring covers whole device pixels. */
  r = MAX (self->radius * view->scale, 1) + 0.5;
  graphene_rect_init (&bounds, wx - r - 2, wy - r - 2, 2 * r + 4, 2 * r + 4);
  cr = gtk_snapshot_append_cairo (snapshot, &bounds);
  cairo_arc (cr, wx, wy, r, 0, 2 * G_PI);
  cairo_set_line_width (cr, 3);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.7);
  cairo_stroke_preserve (cr);
  cairo_set_line_width (cr, 1);
  if (is_eraser (self))
    cairo_set_source_rgba (cr, 1, 0.6, 0.6, 1);
  else
    cairo_set_source_rgba (cr, 1, 1, 1, 1);
  cairo_stroke (cr);
  cairo_destroy (cr);
}

static const char *
kp_brush_tool_get_cursor_name (KpTool *tool,
                               double  x,
                               double  y)
{
  return "crosshair";
}

static void
kp_brush_tool_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  KpBrushTool *self = KP_BRUSH_TOOL (object);

  switch (prop_id)
    {
    case PROP_RADIUS:
      g_value_set_double (value, kp_brush_tool_get_radius (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_brush_tool_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  KpBrushTool *self = KP_BRUSH_TOOL (object);

  switch (prop_id)
    {
    case PROP_RADIUS:
      kp_brush_tool_set_radius (self, g_value_get_double (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_brush_tool_finalize (GObject *object)
{
  KpBrushTool *self = (KpBrushTool *)object;

  kp_annotation_clear (&self->preview);
  g_clear_pointer (&self->points, g_array_unref);

  G_OBJECT_CLASS (kp_brush_tool_parent_class)->finalize (object);
}

static void
kp_brush_tool_class_init (KpBrushToolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  KpToolClass *tool_class = KP_TOOL_CLASS (klass);

  object_class->finalize = kp_brush_tool_finalize;
  object_class->get_property = kp_brush_tool_get_property;
  object_class->set_property = kp_brush_tool_set_property;

  tool_class->press = kp_brush_tool_press;
  tool_class->motion = kp_brush_tool_motion;
  tool_class->release = kp_brush_tool_release;
  tool_class->key_pressed = kp_brush_tool_key_pressed;
  tool_class->cancel = kp_brush_tool_cancel;
  tool_class->get_preview_annotations = kp_brush_tool_get_preview_annotations;
  tool_class->snapshot = kp_brush_tool_snapshot;
  tool_class->get_cursor_name = kp_brush_tool_get_cursor_name;

  properties[PROP_RADIUS] =
    g_param_spec_double ("radius", NULL, NULL,
                         KP_BRUSH_TOOL_MIN_RADIUS, KP_BRUSH_TOOL_MAX_RADIUS,
                         KP_BRUSH_TOOL_DEFAULT_RADIUS,
                         (G_PARAM_READWRITE |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kp_brush_tool_init (KpBrushTool *self)
{
  self->radius = KP_BRUSH_TOOL_DEFAULT_RADIUS;
  self->points = g_array_new (FALSE, FALSE, sizeof (KpPoint));
}

KpTool *
kp_brush_tool_new (KpCanvas *canvas,
                   gboolean  erase)
{
  return kp_tool_new_for_kind (canvas, erase ? KP_TOOL_KIND_ERASER : KP_TOOL_KIND_BRUSH);
}

gboolean
kp_brush_tool_get_erase (KpBrushTool *self)
{
  g_return_val_if_fail (KP_IS_BRUSH_TOOL (self), FALSE);

  return is_eraser (self);
}

double
kp_brush_tool_get_radius (KpBrushTool *self)
{
  g_return_val_if_fail (KP_IS_BRUSH_TOOL (self), 0);

  return self->radius;
}

void
kp_brush_tool_set_radius (KpBrushTool *self,
                          double       radius)
{
  g_return_if_fail (KP_IS_BRUSH_TOOL (self));

  radius = CLAMP (radius, KP_BRUSH_TOOL_MIN_RADIUS, KP_BRUSH_TOOL_MAX_RADIUS);
  if (radius == self->radius)
    return;

  self->radius = radius;
  changed (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RADIUS]);
}
