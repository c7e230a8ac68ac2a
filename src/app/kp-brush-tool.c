/* kp-brush-tool.c: paints and erases masks
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-brush-tool.h"

#include <math.h>
#include <string.h>

#include "kp-canvas-private.h"

/* A stroke keeps the mask it paints decoded, one byte a pixel, and paints
 * each dab into that: decoding and encoding the run lengths at every dab
 * (or at every frame) would cost the whole mask each time. The preview
 * KpMask is encoded from the bitmap only when the canvas asks for it after
 * a change, and the undo step is made once, on release.
 *
 * Overpaint ("overpaint", TRUE by default): a brush stroke takes the pixels
 * it paints away from every other visible, unlocked MASK of the image, so
 * that each pixel has one label; a mask it empties stays, empty, as the
 * eraser leaves one (a layout's label keeps its mask). The stroke,
 * the new or painted mask and the masks it cut are one undo step. */
struct _KpBrushTool
{
  KpTool        parent_instance;

  double        radius;
  gboolean      overpaint;

  gboolean      stroking;
  gint64        target_id;      /* the MASK painted, 0 for a new one */
  GArray       *points;         /* KpPoint: the stroke */
  KpAnnotation  preview;        /* the mask as the stroke leaves it */
  const KpAnnotation *previews[1];

  /* The decoded mask during a stroke: bw × bh bytes at (bx, by). */
  guint8       *bits;
  int           bx;
  int           by;
  int           bw;
  int           bh;
  gboolean      preview_stale;  /* preview.mask lags behind bits */
  guint         n_decodes;      /* masks decoded by the last stroke */
  guint         n_encodes;      /* previews encoded by the last stroke */

  gboolean      has_pointer;
  double        pointer_x;
  double        pointer_y;
};

G_DEFINE_FINAL_TYPE (KpBrushTool, kp_brush_tool, KP_TYPE_TOOL)

enum {
  PROP_0,
  PROP_RADIUS,
  PROP_OVERPAINT,
  PROP_MASK_DECODES,
  PROP_MASK_ENCODES,
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
  g_clear_pointer (&self->bits, g_free);
  self->bx = self->by = self->bw = self->bh = 0;
  self->preview_stale = FALSE;
}

/* The pixels a dab covers: those whose centres lie within radius, as
 * kp_mask_paint_circle() has it. */
static void
circle_bounds (double  cx,
               double  cy,
               double  radius,
               int    *x0,
               int    *y0,
               int    *x1,
               int    *y1)
{
  *x0 = (int)floor (cx - radius - 0.5);
  *y0 = (int)floor (cy - radius - 0.5);
  *x1 = (int)ceil (cx + radius - 0.5);
  *y1 = (int)ceil (cy + radius - 0.5);
}

/* Sets the circle's pixels inside the bitmap (width × height at x, y) to value. */
static void
fill_circle (guint8 *bits,
             int     x,
             int     y,
             int     width,
             int     height,
             double  cx,
             double  cy,
             double  radius,
             guint8  value)
{
  int x0, y0, x1, y1;

  circle_bounds (cx, cy, radius, &x0, &y0, &x1, &y1);
  x0 = MAX (x0, x);
  y0 = MAX (y0, y);
  x1 = MIN (x1, x + width - 1);
  y1 = MIN (y1, y + height - 1);

  for (int py = y0; py <= y1; py++)
    for (int px = x0; px <= x1; px++)
      {
        double dx = px + 0.5 - cx;
        double dy = py + 0.5 - cy;

        if (dx * dx + dy * dy <= radius * radius)
          bits[(gsize)(py - y) * width + (px - x)] = value;
      }
}

/* Makes the bitmap cover x0..x1, y0..y1 (inclusive), with some room to
 * spare so that a stroke does not copy it at every dab. */
static void
grow_bits (KpBrushTool *self,
           int          x0,
           int          y0,
           int          x1,
           int          y1)
{
  int nx0, ny0, nx1, ny1, nw, nh, margin;
  guint8 *bits;

  if (self->bits != NULL &&
      x0 >= self->bx && y0 >= self->by &&
      x1 < self->bx + self->bw && y1 < self->by + self->bh)
    return;

  /* Half the current size again: a long stroke copies the bitmap a
   * logarithmic number of times. */
  margin = CLAMP (MAX (self->bw, self->bh) / 2, 64, 4096);
  if (self->bits == NULL)
    {
      nx0 = x0 - margin;
      ny0 = y0 - margin;
      nx1 = x1 + margin;
      ny1 = y1 + margin;
    }
  else
    {
      nx0 = x0 < self->bx ? x0 - margin : self->bx;
      ny0 = y0 < self->by ? y0 - margin : self->by;
      nx1 = x1 >= self->bx + self->bw ? x1 + margin : self->bx + self->bw - 1;
      ny1 = y1 >= self->by + self->bh ? y1 + margin : self->by + self->bh - 1;
    }
  nw = nx1 - nx0 + 1;
  nh = ny1 - ny0 + 1;

  bits = g_malloc0 ((gsize)nw * nh);
  for (int r = 0; self->bits != NULL && r < self->bh; r++)
    memcpy (bits + (gsize)(self->by - ny0 + r) * nw + (self->bx - nx0),
            self->bits + (gsize)r * self->bw, self->bw);

  g_free (self->bits);
  self->bits = bits;
  self->bx = nx0;
  self->by = ny0;
  self->bw = nw;
  self->bh = nh;
}

/* The mask's pixels as a bitmap of its own bounds; one decode. */
static void
decode_into_bits (KpBrushTool  *self,
                  const KpMask *mask)
{
  g_clear_pointer (&self->bits, g_free);
  self->bx = self->by = self->bw = self->bh = 0;

  if (kp_mask_is_empty (mask))
    return;

  self->bits = kp_mask_to_bitmap (mask);
  self->bx = mask->x;
  self->by = mask->y;
  self->bw = mask->width;
  self->bh = mask->height;
  self->n_decodes++;
}

static void
sync_preview_mask (KpBrushTool *self)
{
  if (!self->preview_stale)
    return;

  g_clear_pointer (&self->preview.mask, kp_mask_free);
  if (self->bits != NULL)
    self->preview.mask = kp_mask_new_from_bitmap (self->bx, self->by, self->bw, self->bh, self->bits);
  else
    self->preview.mask = kp_mask_new_empty ();
  kp_annotation_update_bounds (&self->preview);
  self->preview_stale = FALSE;
  self->n_encodes++;
}

static void
dab (KpBrushTool *self,
     double       x,
     double       y)
{
  KpPoint point = { x, y };
  int x0, y0, x1, y1;

  g_array_append_val (self->points, point);
  if (!isfinite (x) || !isfinite (y))
    return;

  if (!is_eraser (self))
    {
      circle_bounds (x, y, self->radius, &x0, &y0, &x1, &y1);
      grow_bits (self, x0, y0, x1, y1);
    }
  /* The eraser never grows the mask. */
  if (self->bits == NULL)
    return;

  fill_circle (self->bits, self->bx, self->by, self->bw, self->bh,
               x, y, self->radius, is_eraser (self) ? 0 : 1);
  self->preview_stale = TRUE;
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

/* Bounds of the stroke's pixels, as a rect (image pixels). */
static KpRect
stroke_bounds (KpBrushTool *self)
{
  double x0 = G_MAXDOUBLE, y0 = G_MAXDOUBLE, x1 = -G_MAXDOUBLE, y1 = -G_MAXDOUBLE;

  for (guint i = 0; i < self->points->len; i++)
    {
      const KpPoint *p = &g_array_index (self->points, KpPoint, i);

      x0 = MIN (x0, p->x - self->radius - 1);
      y0 = MIN (y0, p->y - self->radius - 1);
      x1 = MAX (x1, p->x + self->radius + 1);
      y1 = MAX (y1, p->y + self->radius + 1);
    }

  if (x0 > x1)
    return (KpRect) { 0, 0, 0, 0 };

  return (KpRect) { x0, y0, x1 - x0, y1 - y0 };
}

static gboolean
rects_meet (const KpRect *a,
            const KpRect *b)
{
  return a->x <= b->x + b->width && b->x <= a->x + a->width &&
         a->y <= b->y + b->height && b->y <= a->y + a->height;
}

/* Overpaint: every other visible, unlocked mask under the stroke, with the
 * stroke's pixels taken away (into cut). */
static void
cut_other_masks (KpBrushTool *self,
                 KpDocument  *document,
                 GPtrArray   *cut)
{
  GPtrArray *annotations = kp_document_get_annotations (document);
  KpRect bounds = stroke_bounds (self);

  for (guint i = 0; i < annotations->len; i++)
    {
      const KpAnnotation *other = g_ptr_array_index (annotations, i);
      g_autofree guint8 *bits = NULL;
      KpAnnotation *after;
      KpMask *mask;

      if (other->shape != KP_SHAPE_MASK || other->id == self->target_id ||
          (other->flags & (KP_ANNOTATION_HIDDEN | KP_ANNOTATION_LOCKED)) ||
          kp_mask_is_empty (other->mask) || !rects_meet (&other->rect, &bounds))
        continue;

      bits = kp_mask_to_bitmap (other->mask);
      self->n_decodes++;
      for (guint k = 0; k < self->points->len; k++)
        {
          const KpPoint *p = &g_array_index (self->points, KpPoint, k);

          if (isfinite (p->x) && isfinite (p->y))
            fill_circle (bits, other->mask->x, other->mask->y, other->mask->width, other->mask->height,
                         p->x, p->y, self->radius, 0);
        }

      mask = kp_mask_new_from_bitmap (other->mask->x, other->mask->y,
                                      other->mask->width, other->mask->height, bits);
      if (kp_mask_equal (mask, other->mask))
        {
          kp_mask_free (mask);
          continue;
        }

      after = kp_annotation_copy (other);
      kp_mask_free (after->mask);
      after->mask = mask;
      kp_annotation_update_bounds (after);
      g_ptr_array_add (cut, after);
    }
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
      self->n_decodes = 0;
      self->n_encodes = 0;
      decode_into_bits (self, target->mask);
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
      self->n_decodes = 0;
      self->n_encodes = 0;
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
  g_autoptr(GPtrArray) updated = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_annotation_free);
  const KpAnnotation *added;
  gint64 new_id = 0;
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

  sync_preview_mask (self);
  added = NULL;
  if (self->target_id == 0)
    {
      g_autoptr(KpMask) clipped = NULL;

      if (self->preview.mask == NULL || !_kp_canvas_get_image_size (canvas, &width, &height))
        goto out;

      /* The new mask, painted already: one step, not an add and a paint. */
      clipped = kp_mask_clip (self->preview.mask, (int)width, (int)height);
      if (kp_mask_is_empty (clipped))
        goto out;
      kp_mask_free (self->preview.mask);
      self->preview.mask = g_steal_pointer (&clipped);
      kp_annotation_update_bounds (&self->preview);
      added = &self->preview;
    }
  else
    g_ptr_array_add (updated, kp_annotation_copy (&self->preview));

  if (self->overpaint && !is_eraser (self))
    cut_other_masks (self, document, updated);

  if (!kp_document_change_many (document,
                                &added, added != NULL ? 1 : 0,
                                (const KpAnnotation * const *)updated->pdata, updated->len,
                                NULL, 0,
                                &new_id, &error))
    _kp_canvas_emit_error (canvas, error);
  else if (added != NULL)
    kp_canvas_set_selection (canvas, &new_id, 1);

out:
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

  if (!self->stroking)
    {
      *n_annotations = 0;
      return NULL;
    }

  sync_preview_mask (self);
  if (self->preview.mask == NULL)
    {
      *n_annotations = 0;
      return NULL;
    }

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

    case PROP_OVERPAINT:
      g_value_set_boolean (value, self->overpaint);
      break;

    case PROP_MASK_DECODES:
      g_value_set_uint (value, self->n_decodes);
      break;

    case PROP_MASK_ENCODES:
      g_value_set_uint (value, self->n_encodes);
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

    case PROP_OVERPAINT:
      if (self->overpaint != g_value_get_boolean (value))
        {
          self->overpaint = g_value_get_boolean (value);
          g_object_notify_by_pspec (object, pspec);
        }
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
  g_clear_pointer (&self->bits, g_free);
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

  properties[PROP_OVERPAINT] =
    g_param_spec_boolean ("overpaint", NULL, NULL,
                          TRUE,
                          (G_PARAM_READWRITE |
                           G_PARAM_EXPLICIT_NOTIFY |
                           G_PARAM_STATIC_STRINGS));

  /* How many masks the current or last stroke decoded to bitmaps, and how
   * many previews it encoded: for tests of the stroke's cost. */
  properties[PROP_MASK_DECODES] =
    g_param_spec_uint ("mask-decodes", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE |
                        G_PARAM_STATIC_STRINGS));
  properties[PROP_MASK_ENCODES] =
    g_param_spec_uint ("mask-encodes", NULL, NULL,
                       0, G_MAXUINT, 0,
                       (G_PARAM_READABLE |
                        G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kp_brush_tool_init (KpBrushTool *self)
{
  self->radius = KP_BRUSH_TOOL_DEFAULT_RADIUS;
  self->overpaint = TRUE;
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
