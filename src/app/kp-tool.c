/* kp-tool.c: the base class of the canvas tools
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-tool.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n.h>

#include "kp-box-tool.h"
#include "kp-brush-tool.h"
#include "kp-canvas-private.h"
#include "kp-point-tool.h"
#include "kp-polygon-tool.h"
#include "kp-rotated-box-tool.h"
#include "kp-select-tool.h"

typedef enum
{
  EDIT_NONE,
  EDIT_MOVE,                    /* the whole selection */
  EDIT_RESIZE,                  /* a box handle, or a rotated box handle */
  EDIT_ROTATE,                  /* the rotation handle of a rotated box */
  EDIT_VERTEX,
  EDIT_EDGE,
} EditMode;

typedef struct
{
  KpCanvas     *canvas;         /* weak */
  KpToolKind    kind;

  /* The shared editing gesture. */
  EditMode      mode;
  gint64        target_id;      /* the object resized, rotated or reshaped */
  KpAnnotation  start;          /* its state when the gesture began */
  KpHandle      handle;
  guint         index;          /* vertex, or first vertex of the edge */
  double        start_x;
  double        start_y;
  double        dx;             /* EDIT_MOVE: the offset shown now */
  double        dy;
  gint64        clicked_id;     /* EDIT_MOVE: the object pressed */
  GArray       *move_ids;       /* EDIT_MOVE: gint64, the unlocked selection */
  GPtrArray    *previews;       /* KpAnnotation *, owned */
  guint         moved : 1;

  /* The vertex last pressed, which Delete removes. */
  gint64        focus_id;
  int           focus_vertex;

  /* Double clicks, recognised here: the tools only see presses. */
  gint64        last_press_time;
  double        last_press_x;
  double        last_press_y;

  /* Handles look like the canvas's: the label's colour around the view
   * background's. Colours by label id, read from the store on demand. */
  GdkRGBA       handle_color;

  /* The keyboard cursor. */
  gboolean      kb_active;
  gboolean      kb_dragging;
  gboolean      kb_placing;
  double        kb_x;
  double        kb_y;
} KpToolPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (KpTool, kp_tool, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CANVAS,
  PROP_KIND,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SIGNAL_STATUS_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

#define DOUBLE_CLICK_USEC (400 * 1000)

static void
kp_tool_dispose (GObject *object)
{
  KpTool *self = (KpTool *)object;
  KpToolPrivate *priv = kp_tool_get_instance_private (self);

  g_clear_weak_pointer (&priv->canvas);
  kp_annotation_clear (&priv->start);
  g_clear_pointer (&priv->move_ids, g_array_unref);
  g_clear_pointer (&priv->previews, g_ptr_array_unref);

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

/* Helpers */

static KpDocument *
get_document (KpToolPrivate *priv)
{
  return priv->canvas != NULL ? kp_canvas_get_document (priv->canvas) : NULL;
}

static gboolean
is_locked (const KpAnnotation *annotation)
{
  return (annotation->flags & KP_ANNOTATION_LOCKED) != 0;
}

static guint
min_vertices (KpShape shape)
{
  switch (shape)
    {
    case KP_SHAPE_POLYGON:
      return 3;
    case KP_SHAPE_POLYLINE:
      return 2;
    case KP_SHAPE_BOX:
    case KP_SHAPE_ROTATED_BOX:
    case KP_SHAPE_LINE:
    case KP_SHAPE_POINT:
    case KP_SHAPE_MASK:
    default:
      return G_MAXUINT;
    }
}

static gboolean
has_vertices (const KpAnnotation *annotation)
{
  return (annotation->shape == KP_SHAPE_POLYGON ||
          annotation->shape == KP_SHAPE_POLYLINE ||
          annotation->shape == KP_SHAPE_LINE ||
          annotation->shape == KP_SHAPE_POINT) &&
         annotation->points != NULL;
}

static void
rotate (double  angle,
        double  x,
        double  y,
        double *rx,
        double *ry)
{
  double c = cos (angle), s = sin (angle);

  *rx = x * c - y * s;
  *ry = x * s + y * c;
}

/* The rotation handle: straight above the middle of the top edge. */
static void
rotation_handle_position (const KpRotatedBox *box,
                          double              scale,
                          double             *x,
                          double             *y)
{
  double dx, dy;

  rotate (box->angle, 0, -box->height / 2 - KP_TOOL_ROTATION_HANDLE_DISTANCE / scale, &dx, &dy);
  *x = box->cx + dx;
  *y = box->cy + dy;
}

/* The eight handles of a rotated box, in KpHandle order from TOP_LEFT. */
static void
rotated_handle_positions (const KpRotatedBox *box,
                          KpPoint             handles[8])
{
  static const double local[8][2] = {
    { -1, -1 }, { 0, -1 }, { 1, -1 }, { 1, 0 }, { 1, 1 }, { 0, 1 }, { -1, 1 }, { -1, 0 },
  };

  for (guint i = 0; i < 8; i++)
    {
      double dx, dy;

      rotate (box->angle, local[i][0] * box->width / 2, local[i][1] * box->height / 2, &dx, &dy);
      handles[i].x = box->cx + dx;
      handles[i].y = box->cy + dy;
    }
}

static void
box_handle_positions (const KpRect *r,
                      KpPoint       handles[8])
{
  double x0 = r->x, y0 = r->y, x1 = r->x + r->width, y1 = r->y + r->height;
  double mx = (x0 + x1) / 2, my = (y0 + y1) / 2;
  KpPoint p[8] = {
    { x0, y0 }, { mx, y0 }, { x1, y0 }, { x1, my }, { x1, y1 }, { mx, y1 }, { x0, y1 }, { x0, my },
  };

  memcpy (handles, p, sizeof p);
}

static int
hit_point (const KpPoint *points,
           guint          n_points,
           double         x,
           double         y,
           double         tolerance)
{
  return kp_points_hit_vertex (points, n_points, x, y, tolerance);
}

/* Boxes live on the pixel grid of the image: annotators mean whole pixels,
 * and exports stay free of rounding noise. */
static KpRect
snap_rect (KpRect rect)
{
  return kp_rect_from_points (round (rect.x), round (rect.y),
                              round (rect.x + rect.width), round (rect.y + rect.height));
}

static void
clear_previews (KpToolPrivate *priv)
{
  if (priv->previews != NULL)
    g_ptr_array_set_size (priv->previews, 0);
}

static KpAnnotation *
add_preview (KpToolPrivate      *priv,
             const KpAnnotation *annotation)
{
  if (priv->previews == NULL)
    priv->previews = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_annotation_free);

  g_ptr_array_add (priv->previews, kp_annotation_copy (annotation));

  return g_ptr_array_index (priv->previews, priv->previews->len - 1);
}

static void
report_error (KpToolPrivate *priv,
              const GError  *error)
{
  if (priv->canvas != NULL && error != NULL)
    _kp_canvas_emit_error (priv->canvas, error);
}

static void
preview_changed (KpToolPrivate *priv)
{
  if (priv->canvas != NULL)
    _kp_canvas_preview_changed (priv->canvas);
}

static void
end_edit (KpToolPrivate *priv)
{
  priv->mode = EDIT_NONE;
  priv->target_id = 0;
  priv->clicked_id = 0;
  priv->moved = FALSE;
  priv->dx = priv->dy = 0;
  kp_annotation_clear (&priv->start);
  if (priv->move_ids != NULL)
    g_array_set_size (priv->move_ids, 0);
  clear_previews (priv);
}

static const KpAnnotation *
get_primary (KpToolPrivate *priv)
{
  KpDocument *document = get_document (priv);
  const KpAnnotation *annotation;

  if (document == NULL)
    return NULL;

  annotation = kp_document_lookup (document, kp_canvas_get_selected_id (priv->canvas));
  if (annotation == NULL || (annotation->flags & KP_ANNOTATION_HIDDEN) != 0)
    return NULL;

  return annotation;
}

/* Selection, keeping the order: id goes last (primary). */
static void
select_add (KpCanvas *canvas,
            gint64    id,
            gboolean  toggle)
{
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  const gint64 *current;
  guint n = 0;
  gboolean was_selected = FALSE;

  current = kp_canvas_get_selection (canvas, &n);
  for (guint i = 0; i < n; i++)
    {
      if (current[i] == id)
        was_selected = TRUE;
      else
        g_array_append_val (ids, current[i]);
    }

  if (!(toggle && was_selected))
    g_array_append_val (ids, id);

  kp_canvas_set_selection (canvas, (const gint64 *)(gpointer)ids->data, ids->len);
}

/* The unlocked members of the selection. */
static void
collect_movable (KpToolPrivate *priv,
                 GArray        *ids,
                 KpRect        *bounds)
{
  KpDocument *document = get_document (priv);
  const gint64 *selection;
  guint n = 0;
  gboolean first = TRUE;

  g_array_set_size (ids, 0);
  *bounds = (KpRect) { 0 };
  if (document == NULL)
    return;

  selection = kp_canvas_get_selection (priv->canvas, &n);
  for (guint i = 0; i < n; i++)
    {
      const KpAnnotation *annotation = kp_document_lookup (document, selection[i]);
      double x0, y0, x1, y1;

      if (annotation == NULL || is_locked (annotation))
        continue;

      g_array_append_val (ids, annotation->id);
      if (first)
        {
          *bounds = annotation->rect;
          first = FALSE;
          continue;
        }
      x0 = MIN (bounds->x, annotation->rect.x);
      y0 = MIN (bounds->y, annotation->rect.y);
      x1 = MAX (bounds->x + bounds->width, annotation->rect.x + annotation->rect.width);
      y1 = MAX (bounds->y + bounds->height, annotation->rect.y + annotation->rect.height);
      *bounds = kp_rect_from_points (x0, y0, x1, y1);
    }
}

/* Keeps bounds moved by (dx, dy) on the image, when it was on it. */
static void
clamp_offset (KpToolPrivate *priv,
              const KpRect  *bounds,
              double        *dx,
              double        *dy)
{
  double width, height;

  if (!_kp_canvas_get_image_size (priv->canvas, &width, &height))
    return;

  if (bounds->x >= 0 && bounds->x + bounds->width <= width)
    *dx = CLAMP (*dx, -bounds->x, width - bounds->x - bounds->width);
  if (bounds->y >= 0 && bounds->y + bounds->height <= height)
    *dy = CLAMP (*dy, -bounds->y, height - bounds->y - bounds->height);
}

static gboolean
move_selection (KpToolPrivate *priv,
                double         dx,
                double         dy)
{
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(GError) error = NULL;
  KpRect bounds;

  collect_movable (priv, ids, &bounds);
  if (ids->len == 0)
    return FALSE;

  clamp_offset (priv, &bounds, &dx, &dy);
  if (dx == 0 && dy == 0)
    return TRUE;

  if (!kp_document_move (get_document (priv), (const gint64 *)(gpointer)ids->data, ids->len,
                         dx, dy, &error))
    report_error (priv, error);

  return TRUE;
}

static gboolean
remove_vertex (KpToolPrivate      *priv,
               const KpAnnotation *annotation,
               guint               index)
{
  g_autoptr(GError) error = NULL;

  if (annotation->n_points <= min_vertices (annotation->shape) || index >= annotation->n_points)
    return FALSE;

  if (!kp_document_remove_vertex (get_document (priv), annotation->id, index, &error))
    report_error (priv, error);
  priv->focus_id = 0;
  priv->focus_vertex = -1;

  return TRUE;
}

static gboolean
is_double_click (KpToolPrivate *priv,
                 double         x,
                 double         y,
                 double         scale)
{
  gint64 now = g_get_monotonic_time ();
  gboolean result;

  result = now - priv->last_press_time < DOUBLE_CLICK_USEC &&
           fabs (x - priv->last_press_x) * scale <= KP_TOOL_HANDLE_TOLERANCE &&
           fabs (y - priv->last_press_y) * scale <= KP_TOOL_HANDLE_TOLERANCE;

  priv->last_press_time = result ? 0 : now;
  priv->last_press_x = x;
  priv->last_press_y = y;

  return result;
}

/* The shared gesture */

gboolean
kp_tool_edit_press (KpTool          *self,
                    double           x,
                    double           y,
                    GdkModifierType  state)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);
  const KpAnnotation *primary;
  KpDocument *document;
  double scale, tolerance;
  gboolean double_click;
  gint64 picked;

  g_return_val_if_fail (KP_IS_TOOL (self), FALSE);

  end_edit (priv);

  /* Keyboard drawing always draws, even over other objects. */
  if (priv->kb_placing)
    return FALSE;

  if ((document = get_document (priv)) == NULL)
    return FALSE;

  scale = kp_tool_get_scale (self);
  tolerance = KP_TOOL_HANDLE_TOLERANCE / scale;
  double_click = is_double_click (priv, x, y, scale);
  priv->start_x = x;
  priv->start_y = y;

  /* The handles of the primary selection win over everything else. */
  primary = get_primary (priv);
  if (primary != NULL && !is_locked (primary) &&
      !(state & (GDK_SHIFT_MASK | GDK_CONTROL_MASK)))
    {
      KpHandle handle = KP_HANDLE_NONE;
      int vertex = -1;

      switch (primary->shape)
        {
        case KP_SHAPE_BOX:
          handle = kp_rect_hit_handle (&primary->rect, x, y, tolerance);
          if (handle == KP_HANDLE_INSIDE)
            handle = KP_HANDLE_NONE;
          break;

        case KP_SHAPE_ROTATED_BOX:
          {
            KpPoint handles[8];
            double hx, hy;

            rotation_handle_position (&primary->rotated, scale, &hx, &hy);
            if (fabs (x - hx) <= tolerance && fabs (y - hy) <= tolerance)
              {
                priv->mode = EDIT_ROTATE;
                break;
              }
            rotated_handle_positions (&primary->rotated, handles);
            vertex = hit_point (handles, 8, x, y, tolerance);
            if (vertex >= 0)
              handle = KP_HANDLE_TOP_LEFT + vertex;
            vertex = -1;
          }
          break;

        case KP_SHAPE_POINT:
          /* A point among several selected objects moves them all. */
          {
            guint n_selected = 0;

            kp_canvas_get_selection (priv->canvas, &n_selected);
            if (n_selected > 1)
              break;
          }
          G_GNUC_FALLTHROUGH;
        case KP_SHAPE_POLYGON:
        case KP_SHAPE_POLYLINE:
        case KP_SHAPE_LINE:
          if (primary->points != NULL)
            vertex = hit_point (primary->points, primary->n_points, x, y, tolerance);
          break;

        case KP_SHAPE_MASK:
        default:
          break;
        }

      if (priv->mode == EDIT_ROTATE || handle != KP_HANDLE_NONE || vertex >= 0)
        {
          priv->target_id = primary->id;
          kp_annotation_copy_to (primary, &priv->start);
          if (handle != KP_HANDLE_NONE)
            {
              priv->mode = EDIT_RESIZE;
              priv->handle = handle;
            }
          else if (vertex >= 0)
            {
              priv->focus_id = primary->id;
              priv->focus_vertex = vertex;
              if (state & GDK_ALT_MASK)
                {
                  remove_vertex (priv, primary, vertex);
                  end_edit (priv);
                  return TRUE;
                }
              priv->mode = EDIT_VERTEX;
              priv->index = vertex;
            }
          return TRUE;
        }

      /* Edges of polygons, polylines and lines. */
      if (primary->shape == KP_SHAPE_POLYGON ||
          primary->shape == KP_SHAPE_POLYLINE ||
          primary->shape == KP_SHAPE_LINE)
        {
          guint edge = 0;
          gboolean closed = primary->shape == KP_SHAPE_POLYGON;
          double distance = kp_polyline_distance (primary->points, primary->n_points, closed,
                                                  x, y, &edge);

          if (distance <= tolerance)
            {
              if (double_click && primary->shape != KP_SHAPE_LINE)
                {
                  g_autoptr(GError) error = NULL;
                  KpPoint point = { x, y };
                  gint64 id = primary->id;

                  /* primary is the document's and goes with the edit. */
                  if (!kp_document_insert_vertex (document, id, edge + 1, &point, &error))
                    report_error (priv, error);
                  priv->focus_id = id;
                  priv->focus_vertex = edge + 1;
                  return TRUE;
                }

              priv->mode = EDIT_EDGE;
              priv->target_id = primary->id;
              priv->index = edge;
              kp_annotation_copy_to (primary, &priv->start);
              return TRUE;
            }
        }
    }

  /* Ctrl+click on an edge of the primary polygon or polyline inserts a
   * vertex there. */
  if (primary != NULL && !is_locked (primary) && (state & GDK_CONTROL_MASK) &&
      (primary->shape == KP_SHAPE_POLYGON || primary->shape == KP_SHAPE_POLYLINE) &&
      hit_point (primary->points, primary->n_points, x, y, tolerance) < 0)
    {
      guint edge = 0;
      double distance = kp_polyline_distance (primary->points, primary->n_points,
                                              primary->shape == KP_SHAPE_POLYGON, x, y, &edge);

      if (distance <= tolerance)
        {
          g_autoptr(GError) error = NULL;
          KpPoint point = { x, y };
          gint64 id = primary->id;

          if (!kp_document_insert_vertex (document, id, edge + 1, &point, &error))
            report_error (priv, error);
          priv->focus_id = id;
          priv->focus_vertex = edge + 1;
          return TRUE;
        }
    }

  picked = _kp_canvas_pick_shape (priv->canvas, x, y, tolerance);
  if (picked == 0)
    return FALSE;

  if (state & GDK_CONTROL_MASK)
    {
      select_add (priv->canvas, picked, TRUE);
      return TRUE;
    }
  if (state & GDK_SHIFT_MASK)
    {
      select_add (priv->canvas, picked, FALSE);
      return TRUE;
    }

  /* A plain press on an object: keep a selection it belongs to, so the
   * whole selection moves; a click without a drag then selects it alone. */
  if (kp_canvas_is_selected (priv->canvas, picked))
    select_add (priv->canvas, picked, FALSE);
  else
    kp_canvas_set_selection (priv->canvas, &picked, 1);

  priv->mode = EDIT_MOVE;
  priv->clicked_id = picked;

  return TRUE;
}

gboolean
kp_tool_is_editing (KpTool *self)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);

  g_return_val_if_fail (KP_IS_TOOL (self), FALSE);

  return priv->mode != EDIT_NONE;
}

/* Computes the gesture's result at (x, y) into the previews. */
static void
edit_update (KpTool          *self,
             double           x,
             double           y,
             GdkModifierType  state)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);
  KpDocument *document = get_document (priv);
  double scale = kp_tool_get_scale (self);
  double width = 0, height = 0;
  double dx = x - priv->start_x;
  double dy = y - priv->start_y;
  KpAnnotation *preview;

  if (document == NULL)
    return;

  _kp_canvas_get_image_size (priv->canvas, &width, &height);
  if (fabs (dx) * scale >= KP_TOOL_CLICK_DISTANCE || fabs (dy) * scale >= KP_TOOL_CLICK_DISTANCE)
    priv->moved = TRUE;

  /* A vertex drag reuses its preview: copying a 50,000-vertex polygon on
   * every motion would cost more than the rest of the frame. */
  if (priv->mode == EDIT_VERTEX && priv->previews != NULL && priv->previews->len == 1)
    {
      KpPoint *point;
      double x0, y0, x1, y1;

      preview = g_ptr_array_index (priv->previews, 0);
      point = &preview->points[priv->index];
      point->x = CLAMP (priv->start.points[priv->index].x + dx, 0, width);
      point->y = CLAMP (priv->start.points[priv->index].y + dy, 0, height);
      /* Bounds: those at the start, grown to the vertex; they only cull
       * and invalidate, and the document recomputes them on release. */
      x0 = MIN (priv->start.rect.x, point->x);
      y0 = MIN (priv->start.rect.y, point->y);
      x1 = MAX (priv->start.rect.x + priv->start.rect.width, point->x);
      y1 = MAX (priv->start.rect.y + priv->start.rect.height, point->y);
      preview->rect = kp_rect_from_points (x0, y0, x1, y1);
      return;
    }

  clear_previews (priv);

  switch (priv->mode)
    {
    case EDIT_MOVE:
      {
        KpRect bounds;

        if (priv->move_ids == NULL)
          priv->move_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
        collect_movable (priv, priv->move_ids, &bounds);
        dx = round (dx);
        dy = round (dy);
        clamp_offset (priv, &bounds, &dx, &dy);
        priv->dx = dx;
        priv->dy = dy;
        if (!priv->moved)
          break;
        for (guint i = 0; i < priv->move_ids->len; i++)
          {
            const KpAnnotation *annotation =
              kp_document_lookup (document, g_array_index (priv->move_ids, gint64, i));

            preview = add_preview (priv, annotation);
            kp_annotation_translate (preview, dx, dy);
            kp_annotation_update_bounds (preview);
          }
      }
      break;

    case EDIT_RESIZE:
      preview = add_preview (priv, &priv->start);
      if (preview->shape == KP_SHAPE_BOX)
        {
          preview->rect = kp_rect_drag_handle (priv->start.rect, priv->handle, round (dx), round (dy));
          preview->rect = snap_rect (kp_rect_clamp (preview->rect, width, height));
        }
      else
        {
          const KpRotatedBox *box = &priv->start.rotated;
          KpRect local = { -box->width / 2, -box->height / 2, box->width, box->height };
          double ldx, ldy, cx, cy;

          /* Drag in the box's own frame, then turn the new centre back. */
          rotate (-box->angle, dx, dy, &ldx, &ldy);
          local = kp_rect_drag_handle (local, priv->handle, ldx, ldy);
          rotate (box->angle, local.x + local.width / 2, local.y + local.height / 2, &cx, &cy);
          preview->rotated.cx = box->cx + cx;
          preview->rotated.cy = box->cy + cy;
          preview->rotated.width = MAX (local.width, 1);
          preview->rotated.height = MAX (local.height, 1);
          kp_annotation_update_bounds (preview);
        }
      break;

    case EDIT_ROTATE:
      {
        const KpRotatedBox *box = &priv->start.rotated;
        double angle = atan2 (x - box->cx, -(y - box->cy));

        if (state & GDK_SHIFT_MASK)
          angle = round (angle / (G_PI / 12)) * (G_PI / 12);
        preview = add_preview (priv, &priv->start);
        preview->rotated.angle = kp_angle_normalize (angle);
        kp_annotation_update_bounds (preview);
      }
      break;

    case EDIT_VERTEX:
      preview = add_preview (priv, &priv->start);
      preview->points[priv->index].x = CLAMP (priv->start.points[priv->index].x + dx, 0, width);
      preview->points[priv->index].y = CLAMP (priv->start.points[priv->index].y + dy, 0, height);
      kp_annotation_update_bounds (preview);
      break;

    case EDIT_EDGE:
      {
        guint a = priv->index;
        guint b = (priv->index + 1) % priv->start.n_points;
        KpRect bounds;

        bounds = kp_points_bounds ((KpPoint[]) { priv->start.points[a], priv->start.points[b] }, 2);
        clamp_offset (priv, &bounds, &dx, &dy);
        preview = add_preview (priv, &priv->start);
        preview->points[a].x += dx;
        preview->points[a].y += dy;
        preview->points[b].x += dx;
        preview->points[b].y += dy;
        kp_annotation_update_bounds (preview);
      }
      break;

    case EDIT_NONE:
    default:
      break;
    }
}

static void
kp_tool_real_press (KpTool          *self,
                    double           x,
                    double           y,
                    GdkModifierType  state)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);

  if (kp_tool_edit_press (self, x, y, state))
    return;

  /* Empty space: a plain click deselects. */
  if (priv->canvas != NULL && !(state & (GDK_SHIFT_MASK | GDK_CONTROL_MASK)))
    kp_canvas_set_selection (priv->canvas, NULL, 0);
}

static void
kp_tool_real_motion (KpTool          *self,
                     double           x,
                     double           y,
                     GdkModifierType  state)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);

  if (priv->mode == EDIT_NONE || priv->canvas == NULL)
    return;

  edit_update (self, x, y, state);
  preview_changed (priv);
}

static void
kp_tool_real_release (KpTool          *self,
                      double           x,
                      double           y,
                      GdkModifierType  state)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);
  g_autoptr(GError) error = NULL;
  KpDocument *document = get_document (priv);
  const KpAnnotation *result;
  gboolean ok = TRUE;

  if (priv->mode == EDIT_NONE || document == NULL)
    {
      end_edit (priv);
      return;
    }

  edit_update (self, x, y, state);

  if (!priv->moved)
    {
      /* A click on a member of a selection selects it alone. */
      if (priv->mode == EDIT_MOVE && priv->clicked_id != 0)
        kp_canvas_set_selection (priv->canvas, &priv->clicked_id, 1);
      end_edit (priv);
      preview_changed (priv);
      return;
    }

  result = priv->previews != NULL && priv->previews->len > 0 ? g_ptr_array_index (priv->previews, 0) : NULL;

  /* Nothing is written before this point: the gesture in progress is the
   * only thing a crash may lose. */
  switch (priv->mode)
    {
    case EDIT_MOVE:
      if (priv->move_ids->len > 0 && (priv->dx != 0 || priv->dy != 0))
        ok = kp_document_move (document, (const gint64 *)(gpointer)priv->move_ids->data,
                               priv->move_ids->len, priv->dx, priv->dy, &error);
      break;

    case EDIT_VERTEX:
      if (result != NULL)
        ok = kp_document_move_vertex (document, priv->target_id, priv->index,
                                      &result->points[priv->index], &error);
      break;

    case EDIT_RESIZE:
    case EDIT_ROTATE:
    case EDIT_EDGE:
      if (result != NULL && !kp_annotation_equal (result, &priv->start))
        {
          if (result->shape == KP_SHAPE_BOX && (result->rect.width < 1 || result->rect.height < 1))
            break;
          ok = kp_document_update (document, result, &error);
        }
      break;

    case EDIT_NONE:
    default:
      break;
    }

  if (!ok)
    report_error (priv, error);

  end_edit (priv);
  preview_changed (priv);
}

static gboolean
kp_tool_real_key_pressed (KpTool          *self,
                          guint            keyval,
                          GdkModifierType  state)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);
  double step = (state & GDK_SHIFT_MASK) ? 10 : 1;
  double dx = 0, dy = 0;

  if (priv->canvas == NULL)
    return FALSE;

  switch (keyval)
    {
    case GDK_KEY_Left:  case GDK_KEY_KP_Left:  dx = -step; break;
    case GDK_KEY_Right: case GDK_KEY_KP_Right: dx = step;  break;
    case GDK_KEY_Up:    case GDK_KEY_KP_Up:    dy = -step; break;
    case GDK_KEY_Down:  case GDK_KEY_KP_Down:  dy = step;  break;

    case GDK_KEY_Escape:
      return kp_tool_cancel (self);

    case GDK_KEY_Delete:
    case GDK_KEY_KP_Delete:
      {
        const KpAnnotation *primary = get_primary (priv);

        /* Delete removes the focused vertex, else (FALSE) the canvas
         * deletes the selected objects. */
        if (primary != NULL && primary->id == priv->focus_id && priv->focus_vertex >= 0 &&
            !is_locked (primary))
          return remove_vertex (priv, primary, priv->focus_vertex);
      }
      return FALSE;

    default:
      return FALSE;
    }

  /* Arrow keys nudge the selection, one undo step per key press. */
  if (priv->mode != EDIT_NONE)
    return TRUE;

  return move_selection (priv, dx, dy);
}

static gboolean
kp_tool_real_cancel (KpTool *self)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);
  gboolean was_active = priv->mode != EDIT_NONE;

  end_edit (priv);
  if (was_active)
    preview_changed (priv);

  return was_active;
}

static const KpAnnotation * const *
kp_tool_real_get_preview_annotations (KpTool *self,
                                      guint  *n_annotations)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);

  if (priv->mode == EDIT_NONE || priv->previews == NULL || priv->previews->len == 0)
    {
      *n_annotations = 0;
      return NULL;
    }

  *n_annotations = priv->previews->len;

  return (const KpAnnotation * const *)priv->previews->pdata;
}

static const char *
kp_tool_real_get_cursor_name (KpTool *self,
                              double  x,
                              double  y)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);
  const KpAnnotation *primary;
  double scale = kp_tool_get_scale (self);
  double tolerance = KP_TOOL_HANDLE_TOLERANCE / scale;

  switch (priv->mode)
    {
    case EDIT_MOVE:
    case EDIT_EDGE:
      return "move";
    case EDIT_RESIZE:
      return kp_handle_cursor_name (priv->handle);
    case EDIT_ROTATE:
    case EDIT_VERTEX:
      return "grabbing";
    case EDIT_NONE:
    default:
      break;
    }

  if (priv->canvas == NULL)
    return "default";

  primary = get_primary (priv);
  if (primary != NULL && !is_locked (primary))
    {
      if (primary->shape == KP_SHAPE_BOX)
        {
          KpHandle handle = kp_rect_hit_handle (&primary->rect, x, y, tolerance);

          if (handle != KP_HANDLE_NONE && handle != KP_HANDLE_INSIDE)
            return kp_handle_cursor_name (handle);
        }
      else if (primary->shape == KP_SHAPE_ROTATED_BOX)
        {
          KpPoint handles[8];
          double hx, hy;

          rotation_handle_position (&primary->rotated, scale, &hx, &hy);
          rotated_handle_positions (&primary->rotated, handles);
          if ((fabs (x - hx) <= tolerance && fabs (y - hy) <= tolerance) ||
              hit_point (handles, 8, x, y, tolerance) >= 0)
            return "grab";
        }
      else if (has_vertices (primary) &&
               hit_point (primary->points, primary->n_points, x, y, tolerance) >= 0)
        return "grab";
    }

  if (_kp_canvas_pick_shape (priv->canvas, x, y, tolerance) != 0)
    return "move";

  return priv->kind == KP_TOOL_KIND_SELECT ? "default" : "crosshair";
}

void
kp_tool_image_to_widget (KpTool       *self,
                         const KpView *view,
                         double        image_x,
                         double        image_y,
                         double       *widget_x,
                         double       *widget_y)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);
  int sf = 1;

  g_return_if_fail (KP_IS_TOOL (self));
  g_return_if_fail (view != NULL);

  if (priv->canvas != NULL)
    sf = gtk_widget_get_scale_factor (GTK_WIDGET (priv->canvas));

  /* As the canvas places its layers: the origin on a device pixel, then
   * whole device pixels from it. */
  *widget_x = round (view->offset_x * sf) / sf + round (image_x * view->scale * sf) / sf;
  *widget_y = round (view->offset_y * sf) / sf + round (image_y * view->scale * sf) / sf;
}

/* The canvas's colour for the label, so handles match the outlines. */
static GdkRGBA
get_label_color (KpToolPrivate *priv,
                 gint64         label_id)
{
  GdkRGBA color = { 0.21, 0.52, 0.89, 1.0 };

  if (priv->canvas != NULL)
    _kp_canvas_get_label_color (priv->canvas, label_id, &color);

  return color;
}

void
kp_tool_append_handle (KpTool      *self,
                       GtkSnapshot *snapshot,
                       double       wx,
                       double       wy,
                       gint64       label_id,
                       gboolean     highlighted)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);
  GdkRGBA color;
  double half = floor (KP_TOOL_HANDLE_SIZE / 2);
  int sf = 1;

  g_return_if_fail (KP_IS_TOOL (self));

  if (priv->canvas != NULL)
    sf = gtk_widget_get_scale_factor (GTK_WIDGET (priv->canvas));
  color = get_label_color (priv, label_id);

  /* On whole device pixels, as the canvas draws its own marks, so the
   * handles stay crisp and land where tests look. */
  wx = round (wx * sf) / sf;
  wy = round (wy * sf) / sf;
  gtk_snapshot_append_color (snapshot, &color,
                             &GRAPHENE_RECT_INIT (wx - half, wy - half,
                                                  KP_TOOL_HANDLE_SIZE, KP_TOOL_HANDLE_SIZE));
  if (!highlighted)
    gtk_snapshot_append_color (snapshot, &priv->handle_color,
                               &GRAPHENE_RECT_INIT (wx - half + 2, wy - half + 2,
                                                    KP_TOOL_HANDLE_SIZE - 4,
                                                    KP_TOOL_HANDLE_SIZE - 4));
}

static void
append_line (GtkSnapshot   *snapshot,
             const GdkRGBA *color,
             double         x0,
             double         y0,
             double         x1,
             double         y1)
{
  graphene_rect_t bounds;
  cairo_t *cr;

  graphene_rect_init (&bounds, MIN (x0, x1) - 2, MIN (y0, y1) - 2,
                      fabs (x1 - x0) + 4, fabs (y1 - y0) + 4);
  cr = gtk_snapshot_append_cairo (snapshot, &bounds);
  gdk_cairo_set_source_rgba (cr, color);
  cairo_set_line_width (cr, 2);
  cairo_move_to (cr, x0, y0);
  cairo_line_to (cr, x1, y1);
  cairo_stroke (cr);
  cairo_destroy (cr);
}

static void
kp_tool_real_snapshot (KpTool       *self,
                       GtkSnapshot  *snapshot,
                       const KpView *view,
                       double        width,
                       double        height)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);
  const KpAnnotation *primary;
  KpPoint handles[8];
  double wx, wy;

  if (priv->canvas == NULL || (primary = get_primary (priv)) == NULL || is_locked (primary))
    return;

  /* During a gesture the handles follow the preview. */
  if (priv->mode != EDIT_NONE && priv->mode != EDIT_MOVE && priv->previews != NULL &&
      priv->previews->len == 1)
    primary = g_ptr_array_index (priv->previews, 0);
  else if (priv->mode == EDIT_MOVE && priv->moved)
    return;

  switch (primary->shape)
    {
    case KP_SHAPE_BOX:
      box_handle_positions (&primary->rect, handles);
      for (guint i = 0; i < 8; i++)
        {
          kp_tool_image_to_widget (self, view, handles[i].x, handles[i].y, &wx, &wy);
          kp_tool_append_handle (self, snapshot, wx, wy, primary->label_id, FALSE);
        }
      break;

    case KP_SHAPE_ROTATED_BOX:
      {
        double hx, hy, tx, ty;

        rotated_handle_positions (&primary->rotated, handles);
        rotation_handle_position (&primary->rotated, view->scale, &hx, &hy);
        kp_tool_image_to_widget (self, view, handles[1].x, handles[1].y, &tx, &ty);
        kp_tool_image_to_widget (self, view, hx, hy, &wx, &wy);
        {
          GdkRGBA color = get_label_color (priv, primary->label_id);

          append_line (snapshot, &color, tx, ty, wx, wy);
        }
        kp_tool_append_handle (self, snapshot, wx, wy, primary->label_id, TRUE);
        for (guint i = 0; i < 8; i++)
          {
            kp_tool_image_to_widget (self, view, handles[i].x, handles[i].y, &wx, &wy);
            kp_tool_append_handle (self, snapshot, wx, wy, primary->label_id, FALSE);
          }
      }
      break;

    case KP_SHAPE_POLYGON:
    case KP_SHAPE_POLYLINE:
    case KP_SHAPE_LINE:
    case KP_SHAPE_POINT:
      if (primary->points == NULL)
        break;
      {
        double last_x = -G_MAXDOUBLE, last_y = -G_MAXDOUBLE;
        int sf = MAX (1, gtk_widget_get_scale_factor (GTK_WIDGET (priv->canvas)));
        double ox = round (view->offset_x * sf) / sf;
        double oy = round (view->offset_y * sf) / sf;
        double s = view->scale * sf;

        for (guint i = 0; i < primary->n_points; i++)
          {
            gboolean focused = primary->id == priv->focus_id && (int)i == priv->focus_vertex;

            /* Handles on screen only, and none on top of the previous
             * one: a 50,000-vertex polygon costs what its outline
             * covers, not one node pair per vertex. The arithmetic of
             * kp_tool_image_to_widget(), without its checks and
             * lookups once per vertex. */
            wx = ox + round (primary->points[i].x * s) / sf;
            wy = oy + round (primary->points[i].y * s) / sf;
            if (wx < -KP_TOOL_HANDLE_SIZE || wy < -KP_TOOL_HANDLE_SIZE ||
                wx > width + KP_TOOL_HANDLE_SIZE || wy > height + KP_TOOL_HANDLE_SIZE)
              continue;
            if (!focused && fabs (wx - last_x) < KP_TOOL_HANDLE_SIZE &&
                fabs (wy - last_y) < KP_TOOL_HANDLE_SIZE)
              continue;
            kp_tool_append_handle (self, snapshot, wx, wy, primary->label_id, focused);
            last_x = wx;
            last_y = wy;
          }
      }
      break;

    case KP_SHAPE_MASK:
    default:
      break;
    }
}

static void
kp_tool_real_canvas_changed (KpTool *self)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);

  if (priv->canvas == NULL || kp_canvas_get_selected_id (priv->canvas) != priv->focus_id)
    {
      priv->focus_id = 0;
      priv->focus_vertex = -1;
    }
}

static void
kp_tool_class_init (KpToolClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kp_tool_dispose;
  object_class->get_property = kp_tool_get_property;
  object_class->set_property = kp_tool_set_property;

  klass->press = kp_tool_real_press;
  klass->motion = kp_tool_real_motion;
  klass->release = kp_tool_real_release;
  klass->key_pressed = kp_tool_real_key_pressed;
  klass->cancel = kp_tool_real_cancel;
  klass->get_preview_annotations = kp_tool_real_get_preview_annotations;
  klass->get_cursor_name = kp_tool_real_get_cursor_name;
  klass->snapshot = kp_tool_real_snapshot;
  klass->canvas_changed = kp_tool_real_canvas_changed;

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

  signals[SIGNAL_STATUS_CHANGED] =
    g_signal_new ("status-changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
kp_tool_init (KpTool *self)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);

  priv->kind = KP_TOOL_KIND_BOX;
  priv->focus_vertex = -1;
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
  GType type;

  g_return_val_if_fail (canvas == NULL || KP_IS_CANVAS (canvas), NULL);
  g_return_val_if_fail (kind < KP_N_TOOL_KINDS, NULL);

  switch (kind)
    {
    case KP_TOOL_KIND_SELECT:
      type = KP_TYPE_SELECT_TOOL;
      break;
    case KP_TOOL_KIND_ROTATED_BOX:
      type = KP_TYPE_ROTATED_BOX_TOOL;
      break;
    case KP_TOOL_KIND_POLYGON:
    case KP_TOOL_KIND_POLYLINE:
    case KP_TOOL_KIND_LINE:
      type = KP_TYPE_POLYGON_TOOL;
      break;
    case KP_TOOL_KIND_POINT:
      type = KP_TYPE_POINT_TOOL;
      break;
    case KP_TOOL_KIND_BRUSH:
    case KP_TOOL_KIND_ERASER:
      type = KP_TYPE_BRUSH_TOOL;
      break;
    case KP_TOOL_KIND_BOX:
    default:
      type = KP_TYPE_BOX_TOOL;
      break;
    }

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

double
kp_tool_get_scale (KpTool *self)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);
  const KpView *view;

  g_return_val_if_fail (KP_IS_TOOL (self), 1.0);

  view = priv->canvas != NULL ? kp_canvas_get_view (priv->canvas) : NULL;

  return view != NULL && view->scale > 0 ? view->scale : 1.0;
}

gint64
kp_tool_require_label (KpTool *self)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);
  g_autoptr(GError) error = NULL;
  gint64 label_id;

  g_return_val_if_fail (KP_IS_TOOL (self), 0);

  if (priv->canvas == NULL)
    return 0;

  label_id = kp_canvas_get_current_label_id (priv->canvas);
  if (label_id != 0)
    return label_id;

  error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("Choose a label first (keys 1–9)"));
  _kp_canvas_emit_error (priv->canvas, error);

  return 0;
}

gint64
kp_tool_add_annotation (KpTool             *self,
                        const KpAnnotation *annotation)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);
  g_autoptr(GError) error = NULL;
  KpDocument *document;
  gint64 id;

  g_return_val_if_fail (KP_IS_TOOL (self), 0);
  g_return_val_if_fail (annotation != NULL, 0);

  if ((document = get_document (priv)) == NULL)
    return 0;

  id = kp_document_add_annotation (document, annotation, &error);
  if (id == 0)
    report_error (priv, error);
  else
    kp_canvas_set_selection (priv->canvas, &id, 1);

  return id;
}

gboolean
kp_tool_clamp_to_image (KpTool *self,
                        double *x,
                        double *y)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);
  double width, height;
  gboolean inside;

  g_return_val_if_fail (KP_IS_TOOL (self), FALSE);

  if (priv->canvas == NULL || !_kp_canvas_get_image_size (priv->canvas, &width, &height))
    return FALSE;

  inside = *x >= 0 && *y >= 0 && *x <= width && *y <= height;
  *x = CLAMP (*x, 0, width);
  *y = CLAMP (*y, 0, height);

  return inside;
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

/* Keyboard drawing */

static gboolean
kind_draws (KpToolKind kind)
{
  return kind != KP_TOOL_KIND_SELECT && kind != KP_TOOL_KIND_BRUSH && kind != KP_TOOL_KIND_ERASER;
}

/* Box-like tools drag from one corner to the other; the rest click. */
static gboolean
kind_drags (KpToolKind kind)
{
  return kind == KP_TOOL_KIND_BOX || kind == KP_TOOL_KIND_ROTATED_BOX;
}

gboolean
kp_tool_get_keyboard_cursor (KpTool *self,
                             double *x,
                             double *y)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);

  g_return_val_if_fail (KP_IS_TOOL (self), FALSE);

  if (!priv->kb_active)
    return FALSE;
  if (x != NULL)
    *x = priv->kb_x;
  if (y != NULL)
    *y = priv->kb_y;

  return TRUE;
}

void
kp_tool_start_keyboard_cursor (KpTool *self)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);
  const KpView *view;
  double width, height;

  g_return_if_fail (KP_IS_TOOL (self));

  if (priv->canvas == NULL || !_kp_canvas_get_image_size (priv->canvas, &width, &height))
    return;

  /* The centre of the view, on whole image pixels. */
  view = kp_canvas_get_view (priv->canvas);
  if (view != NULL && view->scale > 0)
    kp_view_widget_to_image (view,
                             gtk_widget_get_width (GTK_WIDGET (priv->canvas)) / 2.0,
                             gtk_widget_get_height (GTK_WIDGET (priv->canvas)) / 2.0,
                             &priv->kb_x, &priv->kb_y);
  else
    {
      priv->kb_x = width / 2;
      priv->kb_y = height / 2;
    }
  priv->kb_x = CLAMP (round (priv->kb_x), 0, width);
  priv->kb_y = CLAMP (round (priv->kb_y), 0, height);
  priv->kb_active = TRUE;
  priv->kb_dragging = FALSE;
  preview_changed (priv);
  g_signal_emit (self, signals[SIGNAL_STATUS_CHANGED], 0);
}

void
kp_tool_stop_keyboard_cursor (KpTool *self)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);

  g_return_if_fail (KP_IS_TOOL (self));

  if (!priv->kb_active)
    return;

  priv->kb_active = FALSE;
  priv->kb_dragging = FALSE;
  preview_changed (priv);
  g_signal_emit (self, signals[SIGNAL_STATUS_CHANGED], 0);
}

static void
keyboard_place (KpTool *self)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);

  priv->kb_placing = TRUE;
  if (kind_drags (priv->kind))
    {
      if (!priv->kb_dragging)
        {
          kp_tool_press (self, priv->kb_x, priv->kb_y, 0);
          priv->kb_dragging = TRUE;
        }
      else
        {
          kp_tool_release (self, priv->kb_x, priv->kb_y, 0);
          priv->kb_dragging = FALSE;
        }
    }
  else
    {
      kp_tool_press (self, priv->kb_x, priv->kb_y, 0);
      kp_tool_release (self, priv->kb_x, priv->kb_y, 0);
      /* Two placements are never a double click. */
      priv->last_press_time = 0;
    }
  priv->kb_placing = FALSE;
}

static gboolean
keyboard_key (KpTool          *self,
              guint            keyval,
              GdkModifierType  state)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);
  double step, dx = 0, dy = 0;

  step = ((state & GDK_SHIFT_MASK) ? 10 : 1) / kp_tool_get_scale (self);

  switch (keyval)
    {
    case GDK_KEY_Left:  case GDK_KEY_KP_Left:  dx = -step; break;
    case GDK_KEY_Right: case GDK_KEY_KP_Right: dx = step;  break;
    case GDK_KEY_Up:    case GDK_KEY_KP_Up:    dy = -step; break;
    case GDK_KEY_Down:  case GDK_KEY_KP_Down:  dy = step;  break;

    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
    case GDK_KEY_ISO_Enter:
      if (state & GDK_SHIFT_MASK)
        {
          /* Finishes a polygon or polyline: the tool's own Return. */
          if (KP_TOOL_GET_CLASS (self)->key_pressed)
            KP_TOOL_GET_CLASS (self)->key_pressed (self, GDK_KEY_Return, 0);
        }
      else
        keyboard_place (self);
      preview_changed (priv);
      g_signal_emit (self, signals[SIGNAL_STATUS_CHANGED], 0);
      return TRUE;

    case GDK_KEY_Escape:
      kp_tool_cancel (self);
      return TRUE;

    default:
      return FALSE;
    }

  priv->kb_x += dx;
  priv->kb_y += dy;
  kp_tool_clamp_to_image (self, &priv->kb_x, &priv->kb_y);
  if (priv->kb_dragging)
    kp_tool_motion (self, priv->kb_x, priv->kb_y, 0);
  preview_changed (priv);
  g_signal_emit (self, signals[SIGNAL_STATUS_CHANGED], 0);

  return TRUE;
}

char *
kp_tool_dup_status (KpTool *self)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);
  g_autofree char *position = NULL;
  guint n_points = 0;

  g_return_val_if_fail (KP_IS_TOOL (self), NULL);

  if (!priv->kb_active)
    return NULL;

  /* Translators: where the keyboard drawing cursor is, in image pixels */
  position = g_strdup_printf (_("Drawing cursor at %d, %d"),
                              (int)round (priv->kb_x), (int)round (priv->kb_y));

  if (priv->kb_dragging)
    /* Translators: "Drawing cursor at X, Y", then this */
    return g_strdup_printf (_("%s, first corner placed"), position);

  if (KP_IS_POLYGON_TOOL (self))
    kp_polygon_tool_get_chain (KP_POLYGON_TOOL (self), &n_points);
  if (n_points > 0)
    /* Translators: "Drawing cursor at X, Y", then the number of vertices */
    return g_strdup_printf (ngettext ("%s, %u point placed", "%s, %u points placed", n_points),
                            position, n_points);

  return g_steal_pointer (&position);
}

gboolean
kp_tool_key_pressed (KpTool          *self,
                     guint            keyval,
                     GdkModifierType  state)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);

  g_return_val_if_fail (KP_IS_TOOL (self), FALSE);

  if (priv->kb_active && keyboard_key (self, keyval, state))
    return TRUE;

  if (KP_TOOL_GET_CLASS (self)->key_pressed &&
      KP_TOOL_GET_CLASS (self)->key_pressed (self, keyval, state))
    return TRUE;

  /* Return with nothing to finish starts keyboard drawing. */
  if (!priv->kb_active && kind_draws (priv->kind) &&
      (keyval == GDK_KEY_Return || keyval == GDK_KEY_KP_Enter || keyval == GDK_KEY_ISO_Enter) &&
      !(state & (GDK_CONTROL_MASK | GDK_ALT_MASK)))
    {
      kp_tool_start_keyboard_cursor (self);
      return priv->kb_active;
    }

  return FALSE;
}

gboolean
kp_tool_cancel (KpTool *self)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);
  gboolean was_active;

  g_return_val_if_fail (KP_IS_TOOL (self), FALSE);

  /* Leaving keyboard drawing counts as aborting something. */
  was_active = KP_TOOL_GET_CLASS (self)->cancel (self);
  if (priv->kb_active)
    {
      kp_tool_stop_keyboard_cursor (self);
      was_active = TRUE;
    }

  return was_active;
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

  *n_annotations = 0;

  return KP_TOOL_GET_CLASS (self)->get_preview_annotations (self, n_annotations);
}

static void
append_keyboard_cursor (KpToolPrivate *priv,
                        GtkSnapshot   *snapshot,
                        const KpView  *view,
                        double         width,
                        double         height)
{
  static const GdkRGBA dark = { 0, 0, 0, 0.8 };
  static const GdkRGBA light = { 1, 1, 1, 1 };
  double wx, wy;

  kp_view_image_to_widget (view, priv->kb_x, priv->kb_y, &wx, &wy);
  wx = round (wx);
  wy = round (wy);

  /* A crosshair across the view: a light line edged with dark, visible
   * on any image. */
  gtk_snapshot_append_color (snapshot, &dark, &GRAPHENE_RECT_INIT (0, wy - 1, width, 3));
  gtk_snapshot_append_color (snapshot, &dark, &GRAPHENE_RECT_INIT (wx - 1, 0, 3, height));
  gtk_snapshot_append_color (snapshot, &light, &GRAPHENE_RECT_INIT (0, wy, width, 1));
  gtk_snapshot_append_color (snapshot, &light, &GRAPHENE_RECT_INIT (wx, 0, 1, height));
}

void
kp_tool_snapshot (KpTool       *self,
                  GtkSnapshot  *snapshot,
                  const KpView *view,
                  double        width,
                  double        height)
{
  KpToolPrivate *priv = kp_tool_get_instance_private (self);

  g_return_if_fail (KP_IS_TOOL (self));
  g_return_if_fail (view != NULL);

  /* The canvas's handle colour: the view background of the theme. */
  priv->handle_color = (GdkRGBA) { 1, 1, 1, 1 };
  if (priv->canvas != NULL)
    {
      G_GNUC_BEGIN_IGNORE_DEPRECATIONS
      GtkStyleContext *context = gtk_widget_get_style_context (GTK_WIDGET (priv->canvas));

      if (!gtk_style_context_lookup_color (context, "view_bg_color", &priv->handle_color))
        priv->handle_color = (GdkRGBA) { 1, 1, 1, 1 };
      G_GNUC_END_IGNORE_DEPRECATIONS
    }
  priv->handle_color.alpha = 1;

  if (KP_TOOL_GET_CLASS (self)->snapshot)
    KP_TOOL_GET_CLASS (self)->snapshot (self, snapshot, view, width, height);

  if (priv->kb_active)
    append_keyboard_cursor (priv, snapshot, view, width, height);
}

void
kp_tool_canvas_changed (KpTool *self)
{
  g_return_if_fail (KP_IS_TOOL (self));

  if (KP_TOOL_GET_CLASS (self)->canvas_changed)
    KP_TOOL_GET_CLASS (self)->canvas_changed (self);
}
