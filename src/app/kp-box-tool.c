/* kp-box-tool.c: draws, selects, moves and resizes boxes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-box-tool.h"

#include <math.h>

#include <glib/gi18n.h>

#include "kp-canvas-private.h"

typedef enum
{
  MODE_NONE,
  MODE_NEW,
  MODE_MOVE,
  MODE_RESIZE,
} Mode;

struct _KpBoxTool
{
  KpTool    parent_instance;

  Mode      mode;
  KpHandle  handle;
  gint64    annotation_id;      /* moved or resized box */
  KpRect    start_rect;
  KpRect    rect;               /* what the gesture shows now */
  double    start_x;
  double    start_y;
  guint     moved : 1;          /* went beyond the click distance */
  guint     refused : 1;        /* the "no label" error was reported */
};

G_DEFINE_FINAL_TYPE (KpBoxTool, kp_box_tool, KP_TYPE_TOOL)

static double
get_scale (KpCanvas *canvas)
{
  const KpView *view = kp_canvas_get_view (canvas);

  return view != NULL && view->scale > 0 ? view->scale : 1.0;
}

static gboolean
rects_equal (const KpRect *a,
             const KpRect *b)
{
  return a->x == b->x && a->y == b->y && a->width == b->width && a->height == b->height;
}

/* Boxes live on the pixel grid of the image: annotators mean whole pixels,
 * and exports stay free of rounding noise. */
static KpRect
snap_rect (KpRect rect)
{
  double x0 = round (rect.x);
  double y0 = round (rect.y);
  double x1 = round (rect.x + rect.width);
  double y1 = round (rect.y + rect.height);

  return kp_rect_from_points (x0, y0, x1, y1);
}

static void
compute_rect (KpBoxTool *self,
              KpCanvas  *canvas,
              double     x,
              double     y)
{
  double width = 0, height = 0;
  double dx, dy;
  double scale = get_scale (canvas);

  _kp_canvas_get_image_size (canvas, &width, &height);

  dx = x - self->start_x;
  dy = y - self->start_y;
  if (fabs (dx) * scale >= KP_BOX_TOOL_MIN_SIZE || fabs (dy) * scale >= KP_BOX_TOOL_MIN_SIZE)
    self->moved = TRUE;

  switch (self->mode)
    {
    case MODE_NEW:
      x = CLAMP (x, 0, width);
      y = CLAMP (y, 0, height);
      self->rect = snap_rect (kp_rect_from_points (self->start_x, self->start_y, x, y));
      break;

    case MODE_MOVE:
      self->rect = kp_rect_translate_clamped (self->start_rect, round (dx), round (dy),
                                              width, height);
      break;

    case MODE_RESIZE:
      self->rect = kp_rect_drag_handle (self->start_rect, self->handle, round (dx), round (dy));
      self->rect = snap_rect (kp_rect_clamp (self->rect, width, height));
      break;

    case MODE_NONE:
    default:
      break;
    }
}

static void
report_no_label (KpBoxTool *self,
                 KpCanvas  *canvas)
{
  g_autoptr(GError) error = NULL;

  if (self->refused)
    return;

  self->refused = TRUE;
  error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("Choose a label first (keys 1–9)"));
  _kp_canvas_emit_error (canvas, error);
}

static void
reset (KpBoxTool *self)
{
  self->mode = MODE_NONE;
  self->handle = KP_HANDLE_NONE;
  self->annotation_id = 0;
  self->moved = FALSE;
  self->refused = FALSE;
}

static void
kp_box_tool_press (KpTool          *tool,
                   double           x,
                   double           y,
                   GdkModifierType  state)
{
  KpBoxTool *self = (KpBoxTool *)tool;
  KpCanvas *canvas = kp_tool_get_canvas (tool);
  KpDocument *document;
  double width, height;
  gint64 selected_id;
  gint64 picked;

  reset (self);

  if (canvas == NULL ||
      (document = kp_canvas_get_document (canvas)) == NULL ||
      !_kp_canvas_get_image_size (canvas, &width, &height))
    return;

  self->start_x = x;
  self->start_y = y;

  /* A handle of the selected box wins over everything else. */
  selected_id = kp_canvas_get_selected_id (canvas);
  if (selected_id != 0)
    {
      const KpAnnotation *selected = kp_document_lookup (document, selected_id);

      if (selected != NULL)
        {
          double tolerance = KP_BOX_TOOL_HANDLE_TOLERANCE / get_scale (canvas);
          KpHandle handle = kp_rect_hit_handle (&selected->rect, x, y, tolerance);

          if (handle != KP_HANDLE_NONE && handle != KP_HANDLE_INSIDE)
            {
              self->mode = MODE_RESIZE;
              self->handle = handle;
              self->annotation_id = selected_id;
              self->start_rect = selected->rect;
              self->rect = selected->rect;
              return;
            }
        }
    }

  picked = _kp_canvas_pick (canvas, x, y);
  if (picked != 0)
    {
      const KpAnnotation *annotation = kp_document_lookup (document, picked);

      g_assert (annotation != NULL);

      kp_canvas_set_selected_id (canvas, picked);
      self->mode = MODE_MOVE;
      self->annotation_id = picked;
      self->start_rect = annotation->rect;
      self->rect = annotation->rect;
      return;
    }

  /* Empty space: a click deselects, a drag draws a new box. */
  kp_canvas_set_selected_id (canvas, 0);

  if (x < 0 || y < 0 || x > width || y > height)
    return;

  self->mode = MODE_NEW;
  self->rect = (KpRect) { round (x), round (y), 0, 0 };
  self->start_x = round (x);
  self->start_y = round (y);
}

static void
kp_box_tool_motion (KpTool          *tool,
                    double           x,
                    double           y,
                    GdkModifierType  state)
{
  KpBoxTool *self = (KpBoxTool *)tool;
  KpCanvas *canvas = kp_tool_get_canvas (tool);

  if (self->mode == MODE_NONE || canvas == NULL)
    return;

  compute_rect (self, canvas, x, y);

  if (self->mode == MODE_NEW && self->moved && kp_canvas_get_current_label_id (canvas) == 0)
    {
      report_no_label (self, canvas);
      reset (self);
    }

  _kp_canvas_preview_changed (canvas);
}

static void
kp_box_tool_release (KpTool          *tool,
                     double           x,
                     double           y,
                     GdkModifierType  state)
{
  KpBoxTool *self = (KpBoxTool *)tool;
  KpCanvas *canvas = kp_tool_get_canvas (tool);
  g_autoptr(GError) error = NULL;
  KpDocument *document;
  Mode mode = self->mode;
  gint64 annotation_id = self->annotation_id;
  KpRect rect;
  double scale;

  if (mode == MODE_NONE || canvas == NULL)
    {
      reset (self);
      return;
    }

  compute_rect (self, canvas, x, y);
  rect = self->rect;
  scale = get_scale (canvas);
  document = kp_canvas_get_document (canvas);

  /* Nothing is written before this point: the gesture in progress is the
   * only thing a crash may lose. */
  reset (self);
  _kp_canvas_preview_changed (canvas);

  if (document == NULL)
    return;

  switch (mode)
    {
    case MODE_NEW:
      {
        gint64 label_id = kp_canvas_get_current_label_id (canvas);
        gint64 new_id;

        if (rect.width * scale < KP_BOX_TOOL_MIN_SIZE ||
            rect.height * scale < KP_BOX_TOOL_MIN_SIZE ||
            rect.width < 1 || rect.height < 1)
          return;

        if (label_id == 0)
          {
            report_no_label (self, canvas);
            self->refused = FALSE;
            return;
          }

        new_id = kp_document_add (document, label_id, &rect, &error);
        if (new_id == 0)
          _kp_canvas_emit_error (canvas, error);
        else
          kp_canvas_set_selected_id (canvas, new_id);
      }
      break;

    case MODE_MOVE:
    case MODE_RESIZE:
      {
        const KpAnnotation *annotation = kp_document_lookup (document, annotation_id);

        if (annotation == NULL || rects_equal (&annotation->rect, &rect))
          return;
        if (rect.width < 1 || rect.height < 1)
          return;

        if (!kp_document_set_rect (document, annotation_id, &rect, &error))
          _kp_canvas_emit_error (canvas, error);
      }
      break;

    case MODE_NONE:
    default:
      break;
    }
}

static gboolean
kp_box_tool_key_pressed (KpTool          *tool,
                         guint            keyval,
                         GdkModifierType  state)
{
  KpBoxTool *self = (KpBoxTool *)tool;
  KpCanvas *canvas = kp_tool_get_canvas (tool);
  g_autoptr(GError) error = NULL;
  const KpAnnotation *annotation;
  KpDocument *document;
  double width, height;
  double step = (state & GDK_SHIFT_MASK) ? 10 : 1;
  double dx = 0, dy = 0;
  KpRect rect;

  if (canvas == NULL || self->mode != MODE_NONE)
    return FALSE;

  switch (keyval)
    {
    case GDK_KEY_Left:  case GDK_KEY_KP_Left:  dx = -step; break;
    case GDK_KEY_Right: case GDK_KEY_KP_Right: dx = step;  break;
    case GDK_KEY_Up:    case GDK_KEY_KP_Up:    dy = -step; break;
    case GDK_KEY_Down:  case GDK_KEY_KP_Down:  dy = step;  break;
    default:
      return FALSE;
    }

  /* Arrow keys nudge the selected box, one command per key press. */
  if ((document = kp_canvas_get_document (canvas)) == NULL ||
      !_kp_canvas_get_image_size (canvas, &width, &height) ||
      (annotation = kp_document_lookup (document, kp_canvas_get_selected_id (canvas))) == NULL)
    return FALSE;

  rect = kp_rect_translate_clamped (annotation->rect, dx, dy, width, height);
  if (rects_equal (&rect, &annotation->rect))
    return TRUE;

  if (!kp_document_set_rect (document, annotation->id, &rect, &error))
    _kp_canvas_emit_error (canvas, error);

  return TRUE;
}

static gboolean
kp_box_tool_cancel (KpTool *tool)
{
  KpBoxTool *self = (KpBoxTool *)tool;
  KpCanvas *canvas = kp_tool_get_canvas (tool);
  gboolean was_active = self->mode != MODE_NONE;

  reset (self);
  if (was_active && canvas != NULL)
    _kp_canvas_preview_changed (canvas);

  return was_active;
}

static gboolean
kp_box_tool_get_preview (KpTool *tool,
                         gint64 *annotation_id,
                         KpRect *rect)
{
  KpBoxTool *self = (KpBoxTool *)tool;

  if (self->mode == MODE_NONE || (self->mode == MODE_NEW && !self->moved))
    return FALSE;

  *annotation_id = self->annotation_id;
  *rect = self->rect;

  return TRUE;
}

static const char *
kp_box_tool_get_cursor_name (KpTool *tool,
                             double  x,
                             double  y)
{
  KpBoxTool *self = (KpBoxTool *)tool;
  KpCanvas *canvas = kp_tool_get_canvas (tool);
  KpDocument *document;
  const KpAnnotation *selected;

  if (canvas == NULL || (document = kp_canvas_get_document (canvas)) == NULL)
    return "default";

  if (self->mode == MODE_RESIZE)
    return kp_handle_cursor_name (self->handle);
  if (self->mode == MODE_MOVE)
    return kp_handle_cursor_name (KP_HANDLE_INSIDE);
  if (self->mode == MODE_NEW)
    return "crosshair";

  selected = kp_document_lookup (document, kp_canvas_get_selected_id (canvas));
  if (selected != NULL)
    {
      double tolerance = KP_BOX_TOOL_HANDLE_TOLERANCE / get_scale (canvas);
      KpHandle handle = kp_rect_hit_handle (&selected->rect, x, y, tolerance);

      if (handle != KP_HANDLE_NONE)
        return kp_handle_cursor_name (handle);
    }

  if (_kp_canvas_pick (canvas, x, y) != 0)
    return kp_handle_cursor_name (KP_HANDLE_INSIDE);

  return "crosshair";
}

static void
kp_box_tool_class_init (KpBoxToolClass *klass)
{
  KpToolClass *tool_class = KP_TOOL_CLASS (klass);

  tool_class->press = kp_box_tool_press;
  tool_class->motion = kp_box_tool_motion;
  tool_class->release = kp_box_tool_release;
  tool_class->key_pressed = kp_box_tool_key_pressed;
  tool_class->cancel = kp_box_tool_cancel;
  tool_class->get_preview = kp_box_tool_get_preview;
  tool_class->get_cursor_name = kp_box_tool_get_cursor_name;
}

static void
kp_box_tool_init (KpBoxTool *self)
{
}

KpTool *
kp_box_tool_new (KpCanvas *canvas)
{
  return g_object_new (KP_TYPE_BOX_TOOL,
                       "canvas", canvas,
                       NULL);
}
