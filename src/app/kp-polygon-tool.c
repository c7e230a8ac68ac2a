/* kp-polygon-tool.c: draws polygons, polylines and lines
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-polygon-tool.h"

#include <math.h>

#include "kp-canvas-private.h"

#define DOUBLE_CLICK_USEC (400 * 1000)

struct _KpPolygonTool
{
  KpTool        parent_instance;

  GArray       *chain;          /* KpPoint: the vertices placed so far */
  gboolean      pressed;        /* the button is down on a chain press */
  gboolean      freehand;       /* ... and the pointer went beyond a click */
  double        press_x;
  double        press_y;
  gboolean      has_end;        /* LINE: the dragged end */
  KpPoint       end;
  gint64        last_press_time;

  KpAnnotation  preview;
  const KpAnnotation *previews[1];
};

G_DEFINE_FINAL_TYPE (KpPolygonTool, kp_polygon_tool, KP_TYPE_TOOL)

static KpShape
get_shape (KpPolygonTool *self)
{
  switch (kp_tool_get_kind (KP_TOOL (self)))
    {
    case KP_TOOL_KIND_POLYLINE:
      return KP_SHAPE_POLYLINE;
    case KP_TOOL_KIND_LINE:
      return KP_SHAPE_LINE;
    case KP_TOOL_KIND_POLYGON:
    default:
      return KP_SHAPE_POLYGON;
    }
}

static guint
get_min_points (KpPolygonTool *self)
{
  return get_shape (self) == KP_SHAPE_POLYGON ? 3 : 2;
}

static void
changed (KpPolygonTool *self)
{
  KpCanvas *canvas = kp_tool_get_canvas (KP_TOOL (self));

  if (canvas != NULL)
    _kp_canvas_preview_changed (canvas);
}

static void
drop_chain (KpPolygonTool *self)
{
  g_array_set_size (self->chain, 0);
  self->pressed = FALSE;
  self->freehand = FALSE;
  self->has_end = FALSE;
  self->last_press_time = 0;
}

static void
append (KpPolygonTool *self,
        double         x,
        double         y)
{
  KpPoint point = { x, y };

  kp_tool_clamp_to_image (KP_TOOL (self), &point.x, &point.y);

  /* A vertex on top of the previous one adds nothing. */
  if (self->chain->len > 0)
    {
      const KpPoint *last = &g_array_index (self->chain, KpPoint, self->chain->len - 1);

      if (last->x == point.x && last->y == point.y)
        return;
    }

  g_array_append_val (self->chain, point);
}

static void
finish (KpPolygonTool *self)
{
  KpTool *tool = KP_TOOL (self);
  g_auto(KpAnnotation) annotation = { 0 };
  gint64 label_id;

  if (self->chain->len < get_min_points (self))
    return;

  if ((label_id = kp_tool_require_label (tool)) == 0)
    {
      drop_chain (self);
      changed (self);
      return;
    }

  annotation.shape = get_shape (self);
  annotation.label_id = label_id;
  kp_annotation_set_points (&annotation, (const KpPoint *)(gpointer)self->chain->data,
                            annotation.shape == KP_SHAPE_LINE ? 2 : self->chain->len);

  /* The chain goes first: the new selection redraws without it. */
  drop_chain (self);
  changed (self);
  kp_tool_add_annotation (tool, &annotation);
}

static gboolean
near_point (KpPolygonTool *self,
            const KpPoint *point,
            double         x,
            double         y)
{
  double tolerance = KP_TOOL_HANDLE_TOLERANCE / kp_tool_get_scale (KP_TOOL (self));

  return fabs (point->x - x) <= tolerance && fabs (point->y - y) <= tolerance;
}

static void
kp_polygon_tool_press (KpTool          *tool,
                       double           x,
                       double           y,
                       GdkModifierType  state)
{
  KpPolygonTool *self = (KpPolygonTool *)tool;
  KpCanvas *canvas = kp_tool_get_canvas (tool);
  gint64 now = g_get_monotonic_time ();
  gboolean double_click;

  if (canvas == NULL || kp_canvas_get_document (canvas) == NULL)
    return;

  double_click = now - self->last_press_time < DOUBLE_CLICK_USEC &&
                 fabs (x - self->press_x) * kp_tool_get_scale (tool) <= KP_TOOL_HANDLE_TOLERANCE &&
                 fabs (y - self->press_y) * kp_tool_get_scale (tool) <= KP_TOOL_HANDLE_TOLERANCE;
  self->last_press_time = now;
  self->press_x = x;
  self->press_y = y;
  self->freehand = FALSE;
  self->has_end = FALSE;

  if (self->chain->len == 0)
    {
      if (kp_tool_edit_press (tool, x, y, state))
        {
          self->last_press_time = 0;
          return;
        }

      /* Ctrl and Alt edit; they never start a shape. */
      if (state & (GDK_CONTROL_MASK | GDK_ALT_MASK))
        return;
      if (!(state & GDK_SHIFT_MASK))
        kp_canvas_set_selection (canvas, NULL, 0);

      if (!kp_tool_clamp_to_image (tool, &(double) { x }, &(double) { y }))
        return;
      if (kp_tool_require_label (tool) == 0)
        return;

      append (self, x, y);
      self->pressed = TRUE;
      changed (self);
      return;
    }

  /* A double click, or a click on the first vertex, finishes. */
  if (double_click && self->chain->len >= get_min_points (self))
    {
      self->last_press_time = 0;
      finish (self);
      return;
    }
  if (get_shape (self) == KP_SHAPE_POLYGON && self->chain->len >= 3 &&
      near_point (self, &g_array_index (self->chain, KpPoint, 0), x, y))
    {
      finish (self);
      return;
    }

  append (self, x, y);
  if (get_shape (self) == KP_SHAPE_LINE && self->chain->len >= 2)
    {
      finish (self);
      return;
    }

  self->pressed = TRUE;
  changed (self);
}

static void
kp_polygon_tool_motion (KpTool          *tool,
                        double           x,
                        double           y,
                        GdkModifierType  state)
{
  KpPolygonTool *self = (KpPolygonTool *)tool;
  double scale = kp_tool_get_scale (tool);
  const KpPoint *last;

  if (kp_tool_is_editing (tool))
    {
      KP_TOOL_CLASS (kp_polygon_tool_parent_class)->motion (tool, x, y, state);
      return;
    }

  if (!self->pressed || self->chain->len == 0)
    {
      changed (self);
      return;
    }

  if (fabs (x - self->press_x) * scale >= KP_TOOL_CLICK_DISTANCE ||
      fabs (y - self->press_y) * scale >= KP_TOOL_CLICK_DISTANCE)
    self->freehand = TRUE;

  if (!self->freehand)
    return;

  if (get_shape (self) == KP_SHAPE_LINE)
    {
      self->end = (KpPoint) { x, y };
      kp_tool_clamp_to_image (tool, &self->end.x, &self->end.y);
      self->has_end = TRUE;
      changed (self);
      return;
    }

  /* Freehand: a vertex every few device pixels along the way. */
  last = &g_array_index (self->chain, KpPoint, self->chain->len - 1);
  if (hypot (x - last->x, y - last->y) * scale >= KP_POLYGON_TOOL_FREEHAND_STEP)
    {
      append (self, x, y);
      changed (self);
    }
}

static void
kp_polygon_tool_release (KpTool          *tool,
                         double           x,
                         double           y,
                         GdkModifierType  state)
{
  KpPolygonTool *self = (KpPolygonTool *)tool;

  if (kp_tool_is_editing (tool) || !self->pressed)
    {
      KP_TOOL_CLASS (kp_polygon_tool_parent_class)->release (tool, x, y, state);
      return;
    }

  kp_polygon_tool_motion (tool, x, y, state);
  self->pressed = FALSE;

  if (!self->freehand)
    return;

  /* A drag is never a double click. */
  self->last_press_time = 0;

  if (get_shape (self) == KP_SHAPE_LINE)
    {
      self->has_end = FALSE;
      append (self, x, y);
      finish (self);
      return;
    }

  append (self, x, y);
  changed (self);
}

static gboolean
kp_polygon_tool_key_pressed (KpTool          *tool,
                             guint            keyval,
                             GdkModifierType  state)
{
  KpPolygonTool *self = (KpPolygonTool *)tool;

  if (self->chain->len == 0)
    return KP_TOOL_CLASS (kp_polygon_tool_parent_class)->key_pressed (tool, keyval, state);

  switch (keyval)
    {
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
    case GDK_KEY_ISO_Enter:
      finish (self);
      return TRUE;

    case GDK_KEY_BackSpace:
      g_array_set_size (self->chain, self->chain->len - 1);
      if (self->chain->len == 0)
        drop_chain (self);
      changed (self);
      return TRUE;

    case GDK_KEY_Escape:
      return kp_tool_cancel (tool);

    default:
      /* Nothing else edits while a chain is in progress. */
      return FALSE;
    }
}

static gboolean
kp_polygon_tool_cancel (KpTool *tool)
{
  KpPolygonTool *self = (KpPolygonTool *)tool;
  gboolean had_chain = self->chain->len > 0;

  drop_chain (self);
  if (had_chain)
    changed (self);

  return KP_TOOL_CLASS (kp_polygon_tool_parent_class)->cancel (tool) || had_chain;
}

static const KpAnnotation * const *
kp_polygon_tool_get_preview_annotations (KpTool *tool,
                                         guint  *n_annotations)
{
  KpPolygonTool *self = (KpPolygonTool *)tool;
  KpCanvas *canvas = kp_tool_get_canvas (tool);

  if (self->chain->len == 0)
    return KP_TOOL_CLASS (kp_polygon_tool_parent_class)->get_preview_annotations (tool, n_annotations);

  kp_annotation_clear (&self->preview);
  if (self->has_end)
    {
      KpPoint points[2] = { g_array_index (self->chain, KpPoint, 0), self->end };

      self->preview.shape = KP_SHAPE_LINE;
      kp_annotation_set_points (&self->preview, points, 2);
    }
  else if (self->chain->len >= 2)
    {
      /* Open while drawing, even for a polygon: it closes when finished. */
      self->preview.shape = KP_SHAPE_POLYLINE;
      kp_annotation_set_points (&self->preview, (const KpPoint *)(gpointer)self->chain->data,
                                self->chain->len);
    }
  else
    {
      *n_annotations = 0;
      return NULL;
    }

  self->preview.label_id = canvas != NULL ? kp_canvas_get_current_label_id (canvas) : 0;
  self->previews[0] = &self->preview;
  *n_annotations = 1;

  return self->previews;
}

static void
kp_polygon_tool_snapshot (KpTool       *tool,
                          GtkSnapshot  *snapshot,
                          const KpView *view,
                          double        width,
                          double        height)
{
  KpPolygonTool *self = (KpPolygonTool *)tool;
  KpCanvas *canvas = kp_tool_get_canvas (tool);
  const KpPoint *last;
  double px, py, wx, wy, lx, ly;
  gboolean has_pointer;
  gint64 label_id;

  KP_TOOL_CLASS (kp_polygon_tool_parent_class)->snapshot (tool, snapshot, view, width, height);

  if (self->chain->len == 0 || canvas == NULL)
    return;

  label_id = kp_canvas_get_current_label_id (canvas);

  /* The next edge follows the keyboard cursor or the pointer. */
  has_pointer = kp_tool_get_keyboard_cursor (tool, &px, &py) ||
                _kp_canvas_get_pointer (canvas, &px, &py);
  last = &g_array_index (self->chain, KpPoint, self->chain->len - 1);
  if (has_pointer && !self->pressed)
    {
      graphene_rect_t bounds;
      cairo_t *cr;

      kp_view_image_to_widget (view, last->x, last->y, &lx, &ly);
      kp_view_image_to_widget (view, px, py, &wx, &wy);
      graphene_rect_init (&bounds, MIN (lx, wx) - 2, MIN (ly, wy) - 2,
                          fabs (wx - lx) + 4, fabs (wy - ly) + 4);
      cr = gtk_snapshot_append_cairo (snapshot, &bounds);
      cairo_set_source_rgba (cr, 0.11, 0.44, 0.85, 1.0);
      cairo_set_line_width (cr, 1.5);
      cairo_set_dash (cr, (double[]) { 4, 3 }, 2, 0);
      cairo_move_to (cr, lx, ly);
      cairo_line_to (cr, wx, wy);
      cairo_stroke (cr);
      cairo_destroy (cr);
    }

  /* Every vertex while few; the first (which closes) highlighted. Long
   * freehand chains show only their ends. */
  for (guint i = 0; i < self->chain->len; i++)
    {
      const KpPoint *p = &g_array_index (self->chain, KpPoint, i);

      if (self->chain->len > 200 && i != 0 && i != self->chain->len - 1)
        continue;
      kp_tool_image_to_widget (tool, view, p->x, p->y, &wx, &wy);
      kp_tool_append_handle (tool, snapshot, wx, wy, label_id, i == 0);
    }
}

static const char *
kp_polygon_tool_get_cursor_name (KpTool *tool,
                                 double  x,
                                 double  y)
{
  KpPolygonTool *self = (KpPolygonTool *)tool;

  if (self->chain->len > 0)
    {
      if (get_shape (self) == KP_SHAPE_POLYGON && self->chain->len >= 3 &&
          near_point (self, &g_array_index (self->chain, KpPoint, 0), x, y))
        return "pointer";
      return "crosshair";
    }

  return KP_TOOL_CLASS (kp_polygon_tool_parent_class)->get_cursor_name (tool, x, y);
}

static void
kp_polygon_tool_finalize (GObject *object)
{
  KpPolygonTool *self = (KpPolygonTool *)object;

  g_clear_pointer (&self->chain, g_array_unref);
  kp_annotation_clear (&self->preview);

  G_OBJECT_CLASS (kp_polygon_tool_parent_class)->finalize (object);
}

static void
kp_polygon_tool_class_init (KpPolygonToolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  KpToolClass *tool_class = KP_TOOL_CLASS (klass);

  object_class->finalize = kp_polygon_tool_finalize;

  tool_class->press = kp_polygon_tool_press;
  tool_class->motion = kp_polygon_tool_motion;
  tool_class->release = kp_polygon_tool_release;
  tool_class->key_pressed = kp_polygon_tool_key_pressed;
  tool_class->cancel = kp_polygon_tool_cancel;
  tool_class->get_preview_annotations = kp_polygon_tool_get_preview_annotations;
  tool_class->snapshot = kp_polygon_tool_snapshot;
  tool_class->get_cursor_name = kp_polygon_tool_get_cursor_name;
}

static void
kp_polygon_tool_init (KpPolygonTool *self)
{
  self->chain = g_array_new (FALSE, FALSE, sizeof (KpPoint));
}

KpTool *
kp_polygon_tool_new (KpCanvas   *canvas,
                     KpToolKind  kind)
{
  g_return_val_if_fail (kind == KP_TOOL_KIND_POLYGON ||
                        kind == KP_TOOL_KIND_POLYLINE ||
                        kind == KP_TOOL_KIND_LINE, NULL);

  return kp_tool_new_for_kind (canvas, kind);
}

const KpPoint *
kp_polygon_tool_get_chain (KpPolygonTool *self,
                           guint         *n_points)
{
  g_return_val_if_fail (KP_IS_POLYGON_TOOL (self), NULL);
  g_return_val_if_fail (n_points != NULL, NULL);

  *n_points = self->chain->len;

  return self->chain->len > 0 ? (const KpPoint *)(gpointer)self->chain->data : NULL;
}
