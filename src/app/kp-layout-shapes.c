/* kp-layout-shapes.c: points, lines, polygons and painted masks on an image
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * KpCanvas draws and edits boxes only; the other crowd image elements
 * (crowd-keypoint, crowd-line, crowd-polyline, crowd-polygon and the two
 * segmentation elements) are drawn here with cairo, at a fixed best fit.
 * Shapes are kept in image pixels; the widget value is what
 * kp_layout_node_answer() takes (see kp-layout-answer.c).
 */

#include "config.h"

#include "kp-layout-shapes.h"

#include <math.h>
#include <string.h>

#include <gdk-pixbuf/gdk-pixbuf.h>

/* The colours Ground Truth gives labels, in order (d3's category10). */
static const char * const palette[] = {
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
};

#define CLOSE_TOLERANCE 8.0   /* widget pixels from the first vertex that close a polygon */
#define MAX_NATURAL_WIDTH 720

typedef struct
{
  char   *label;
  GArray *points;   /* graphene_point_t, image pixels */
  gboolean box;     /* OVERLAY: points[0] is the corner, points[1] the size */
} Shape;

typedef struct
{
  char  *label;
  char  *color;
} Instance;

struct _KpLayoutShapes
{
  GtkWidget           parent_instance;

  KpLayoutShapesMode  mode;
  GdkTexture         *texture;
  int                 width;
  int                 height;
  GStrv               labels;
  char               *current_label;
  GPtrArray          *shapes;      /* Shape *, finished */
  Shape              *pending;     /* in progress, or NULL */

  /* SEMANTIC / INSTANCE: one byte per pixel, 0 for none, else label
   * index + 1 (SEMANTIC) or instance index + 1 (INSTANCE). */
  guint8             *mask;
  GPtrArray          *instances;   /* Instance * */
  gboolean            want_new_instance;
  double              brush_radius;
  GdkTexture         *mask_texture;
  GArray             *strokes;     /* guint: mask snapshots are too big; undo drops the last instance */
};

G_DEFINE_FINAL_TYPE (KpLayoutShapes, kp_layout_shapes, GTK_TYPE_WIDGET)

enum {
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
emit_changed (KpLayoutShapes *self)
{
  g_signal_emit (self, signals[CHANGED], 0);
}

static void
shape_free (Shape *shape)
{
  g_free (shape->label);
  g_array_unref (shape->points);
  g_free (shape);
}

static Shape *
shape_new (const char *label)
{
  Shape *shape = g_new0 (Shape, 1);

  shape->label = g_strdup (label);
  shape->points = g_array_new (FALSE, FALSE, sizeof (graphene_point_t));

  return shape;
}

static void
instance_free (Instance *instance)
{
  g_free (instance->label);
  g_free (instance->color);
  g_free (instance);
}

const char *
kp_layout_shapes_label_color (guint index)
{
  return palette[index % G_N_ELEMENTS (palette)];
}

static int
label_index (KpLayoutShapes *self,
             const char     *label)
{
  for (guint i = 0; self->labels != NULL && self->labels[i] != NULL; i++)
    if (g_strcmp0 (self->labels[i], label) == 0)
      return i;

  return 0;
}

static void
parse_color (const char *color,
             GdkRGBA    *rgba)
{
  if (!gdk_rgba_parse (rgba, color))
    *rgba = (GdkRGBA) { 1, 0, 0, 1 };
}

/* The image's placement in the widget: widget = image * scale + offset. */
static double
get_transform (KpLayoutShapes *self,
               double         *ox,
               double         *oy)
{
  double w = gtk_widget_get_width (GTK_WIDGET (self));
  double h = gtk_widget_get_height (GTK_WIDGET (self));
  double scale;

  if (self->width <= 0 || self->height <= 0 || w <= 0 || h <= 0)
    {
      *ox = *oy = 0;
      return 1.0;
    }

  scale = MIN (w / self->width, h / self->height);
  *ox = (w - self->width * scale) / 2;
  *oy = (h - self->height * scale) / 2;

  return scale;
}

static void
invalidate_mask (KpLayoutShapes *self)
{
  g_clear_object (&self->mask_texture);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
ensure_mask_texture (KpLayoutShapes *self)
{
  g_autoptr(GBytes) bytes = NULL;
  guint8 *rgba;

  if (self->mask_texture != NULL || self->mask == NULL)
    return;

  rgba = g_malloc0 ((gsize)self->width * self->height * 4);
  for (gsize i = 0; i < (gsize)self->width * self->height; i++)
    if (self->mask[i] != 0)
      {
        GdkRGBA c;

        if (self->mode == KP_LAYOUT_SHAPES_INSTANCE && self->mask[i] <= self->instances->len)
          parse_color (((Instance *)g_ptr_array_index (self->instances, self->mask[i] - 1))->color, &c);
        else
          parse_color (kp_layout_shapes_label_color (self->mask[i] - 1), &c);
        rgba[i * 4 + 0] = c.red * 255;
        rgba[i * 4 + 1] = c.green * 255;
        rgba[i * 4 + 2] = c.blue * 255;
        rgba[i * 4 + 3] = 160;
      }

  bytes = g_bytes_new_take (rgba, (gsize)self->width * self->height * 4);
  self->mask_texture = gdk_memory_texture_new (self->width, self->height,
                                               GDK_MEMORY_R8G8B8A8, bytes, self->width * 4);
}

static void
draw_shape (KpLayoutShapes *self,
            cairo_t        *cr,
            const Shape    *shape,
            gboolean        closed,
            double          scale)
{
  GdkRGBA c;

  parse_color (kp_layout_shapes_label_color (label_index (self, shape->label)), &c);
  gdk_cairo_set_source_rgba (cr, &c);
  cairo_set_line_width (cr, 2.0 / scale);

  if (shape->box && shape->points->len == 2)
    {
      graphene_point_t *p = &g_array_index (shape->points, graphene_point_t, 0);

      cairo_rectangle (cr, p[0].x, p[0].y, p[1].x, p[1].y);
      cairo_stroke (cr);
      return;
    }

  for (guint i = 0; i < shape->points->len; i++)
    {
      graphene_point_t *p = &g_array_index (shape->points, graphene_point_t, i);

      if (i == 0)
        cairo_move_to (cr, p->x, p->y);
      else
        cairo_line_to (cr, p->x, p->y);
    }
  if (closed && shape->points->len > 2)
    cairo_close_path (cr);
  cairo_stroke (cr);

  for (guint i = 0; i < shape->points->len; i++)
    {
      graphene_point_t *p = &g_array_index (shape->points, graphene_point_t, i);

      cairo_arc (cr, p->x, p->y, 4.0 / scale, 0, 2 * G_PI);
      cairo_fill (cr);
    }
}

static void
kp_layout_shapes_snapshot (GtkWidget   *widget,
                           GtkSnapshot *snapshot)
{
  KpLayoutShapes *self = KP_LAYOUT_SHAPES (widget);
  double ox, oy, scale;
  graphene_rect_t bounds;
  cairo_t *cr;

  if (self->texture == NULL)
    return;

  scale = get_transform (self, &ox, &oy);
  bounds = GRAPHENE_RECT_INIT (ox, oy, self->width * scale, self->height * scale);
  gtk_snapshot_append_texture (snapshot, self->texture, &bounds);

  ensure_mask_texture (self);
  if (self->mask_texture != NULL)
    gtk_snapshot_append_texture (snapshot, self->mask_texture, &bounds);

  if (self->shapes->len == 0 && self->pending == NULL)
    return;

  cr = gtk_snapshot_append_cairo (snapshot, &bounds);
  cairo_translate (cr, ox, oy);
  cairo_scale (cr, scale, scale);
  for (guint i = 0; i < self->shapes->len; i++)
    draw_shape (self, cr, g_ptr_array_index (self->shapes, i),
                self->mode == KP_LAYOUT_SHAPES_POLYGON, scale);
  if (self->pending != NULL)
    draw_shape (self, cr, self->pending, FALSE, scale);
  cairo_destroy (cr);
}

static GtkSizeRequestMode
kp_layout_shapes_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

static void
kp_layout_shapes_measure (GtkWidget      *widget,
                          GtkOrientation  orientation,
                          int             for_size,
                          int            *minimum,
                          int            *natural,
                          int            *minimum_baseline,
                          int            *natural_baseline)
{
  KpLayoutShapes *self = KP_LAYOUT_SHAPES (widget);
  int width = MAX (self->width, 1);
  int height = MAX (self->height, 1);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = MIN (width, 120);
      *natural = MIN (width, MAX_NATURAL_WIDTH);
    }
  else
    {
      int w = for_size > 0 ? MIN (for_size, width) : MIN (width, MAX_NATURAL_WIDTH);

      *minimum = *natural = MAX (1, (int)ceil ((double)w * height / width));
    }
}

static void
to_image (KpLayoutShapes *self,
          double          wx,
          double          wy,
          double         *x,
          double         *y)
{
  double ox, oy;
  double scale = get_transform (self, &ox, &oy);

  *x = CLAMP ((wx - ox) / scale, 0, self->width);
  *y = CLAMP ((wy - oy) / scale, 0, self->height);
}

static void
click_pressed_cb (GtkGestureClick *gesture,
                  int              n_press,
                  double           wx,
                  double           wy,
                  KpLayoutShapes  *self)
{
  double x, y;

  gtk_widget_grab_focus (GTK_WIDGET (self));
  if (self->mode >= KP_LAYOUT_SHAPES_SEMANTIC)
    return;

  if (n_press == 2)
    {
      kp_layout_shapes_finish (self);
      return;
    }

  to_image (self, wx, wy, &x, &y);
  kp_layout_shapes_click (self, x, y);
}

static void
drag_cb (GtkGestureDrag *gesture,
         double          dx,
         double          dy,
         KpLayoutShapes *self)
{
  double sx, sy, x, y;

  if (self->mode != KP_LAYOUT_SHAPES_SEMANTIC && self->mode != KP_LAYOUT_SHAPES_INSTANCE)
    return;

  gtk_gesture_drag_get_start_point (gesture, &sx, &sy);
  to_image (self, sx + dx, sy + dy, &x, &y);
  kp_layout_shapes_paint (self, x, y);
}

static gboolean
key_pressed_cb (GtkEventControllerKey *controller,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                KpLayoutShapes        *self)
{
  switch (keyval)
    {
    case GDK_KEY_Return:
    case GDK_KEY_KP_Enter:
      return kp_layout_shapes_finish (self);
    case GDK_KEY_BackSpace:
    case GDK_KEY_Delete:
      return kp_layout_shapes_undo (self);
    case GDK_KEY_Escape:
      if (self->pending == NULL)
        return FALSE;
      g_clear_pointer (&self->pending, shape_free);
      gtk_widget_queue_draw (GTK_WIDGET (self));
      return TRUE;
    default:
      return FALSE;
    }
}

static void
kp_layout_shapes_dispose (GObject *object)
{
  KpLayoutShapes *self = KP_LAYOUT_SHAPES (object);

  g_clear_object (&self->texture);
  g_clear_object (&self->mask_texture);

  G_OBJECT_CLASS (kp_layout_shapes_parent_class)->dispose (object);
}

static void
kp_layout_shapes_finalize (GObject *object)
{
  KpLayoutShapes *self = KP_LAYOUT_SHAPES (object);

  g_strfreev (self->labels);
  g_free (self->current_label);
  g_ptr_array_unref (self->shapes);
  g_clear_pointer (&self->pending, shape_free);
  g_free (self->mask);
  g_ptr_array_unref (self->instances);
  g_array_unref (self->strokes);

  G_OBJECT_CLASS (kp_layout_shapes_parent_class)->finalize (object);
}

static void
kp_layout_shapes_class_init (KpLayoutShapesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kp_layout_shapes_dispose;
  object_class->finalize = kp_layout_shapes_finalize;

  widget_class->snapshot = kp_layout_shapes_snapshot;
  widget_class->measure = kp_layout_shapes_measure;
  widget_class->get_request_mode = kp_layout_shapes_get_request_mode;

  signals[CHANGED] =
    g_signal_new ("changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  gtk_widget_class_set_css_name (widget_class, "kp-layout-shapes");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
kp_layout_shapes_init (KpLayoutShapes *self)
{
  GtkGesture *click = gtk_gesture_click_new ();
  GtkGesture *drag = gtk_gesture_drag_new ();
  GtkEventController *keys = gtk_event_controller_key_new ();

  self->shapes = g_ptr_array_new_with_free_func ((GDestroyNotify)shape_free);
  self->instances = g_ptr_array_new_with_free_func ((GDestroyNotify)instance_free);
  self->strokes = g_array_new (FALSE, FALSE, sizeof (guint));
  self->brush_radius = 4;

  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);

  g_signal_connect (click, "pressed", G_CALLBACK (click_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_cb), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));
  g_signal_connect (keys, "key-pressed", G_CALLBACK (key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), keys);
}

GtkWidget *
kp_layout_shapes_new (KpLayoutShapesMode mode)
{
  KpLayoutShapes *self = g_object_new (KP_TYPE_LAYOUT_SHAPES, NULL);

  self->mode = mode;
  if (mode == KP_LAYOUT_SHAPES_OVERLAY)
    gtk_widget_set_focusable (GTK_WIDGET (self), FALSE);

  return GTK_WIDGET (self);
}

KpLayoutShapesMode
kp_layout_shapes_get_mode (KpLayoutShapes *self)
{
  g_return_val_if_fail (KP_IS_LAYOUT_SHAPES (self), KP_LAYOUT_SHAPES_KEYPOINT);

  return self->mode;
}

void
kp_layout_shapes_set_texture (KpLayoutShapes *self,
                              GdkTexture     *texture)
{
  g_return_if_fail (KP_IS_LAYOUT_SHAPES (self));

  if (!g_set_object (&self->texture, texture))
    return;

  self->width = texture != NULL ? gdk_texture_get_width (texture) : 0;
  self->height = texture != NULL ? gdk_texture_get_height (texture) : 0;
  g_clear_pointer (&self->mask, g_free);
  if (texture != NULL &&
      (self->mode == KP_LAYOUT_SHAPES_SEMANTIC || self->mode == KP_LAYOUT_SHAPES_INSTANCE))
    self->mask = g_malloc0 ((gsize)self->width * self->height);
  invalidate_mask (self);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

void
kp_layout_shapes_set_labels (KpLayoutShapes     *self,
                             const char * const *labels)
{
  g_return_if_fail (KP_IS_LAYOUT_SHAPES (self));

  g_strfreev (self->labels);
  self->labels = g_strdupv ((char **)labels);
  if (self->current_label == NULL && labels != NULL && labels[0] != NULL)
    self->current_label = g_strdup (labels[0]);
}

void
kp_layout_shapes_set_current_label (KpLayoutShapes *self,
                                    const char     *label)
{
  g_return_if_fail (KP_IS_LAYOUT_SHAPES (self));

  if (g_strcmp0 (label, self->current_label) == 0)
    return;

  g_free (self->current_label);
  self->current_label = g_strdup (label);
  /* A new label starts a new instance. */
  self->want_new_instance = TRUE;
}

const char *
kp_layout_shapes_get_current_label (KpLayoutShapes *self)
{
  g_return_val_if_fail (KP_IS_LAYOUT_SHAPES (self), NULL);

  return self->current_label;
}

void
kp_layout_shapes_set_brush_radius (KpLayoutShapes *self,
                                   double          radius)
{
  g_return_if_fail (KP_IS_LAYOUT_SHAPES (self));

  self->brush_radius = MAX (radius, 0.5);
}

static void
add_point (Shape  *shape,
           double  x,
           double  y)
{
  graphene_point_t p = GRAPHENE_POINT_INIT (x, y);

  g_array_append_val (shape->points, p);
}

void
kp_layout_shapes_click (KpLayoutShapes *self,
                        double          x,
                        double          y)
{
  g_return_if_fail (KP_IS_LAYOUT_SHAPES (self));

  if (self->texture == NULL || self->current_label == NULL)
    return;

  switch (self->mode)
    {
    case KP_LAYOUT_SHAPES_KEYPOINT:
      {
        Shape *shape = shape_new (self->current_label);

        add_point (shape, x, y);
        g_ptr_array_add (self->shapes, shape);
        emit_changed (self);
      }
      break;

    case KP_LAYOUT_SHAPES_LINE:
    case KP_LAYOUT_SHAPES_POLYLINE:
    case KP_LAYOUT_SHAPES_POLYGON:
      if (self->pending == NULL)
        self->pending = shape_new (self->current_label);
      else if (self->mode == KP_LAYOUT_SHAPES_POLYGON && self->pending->points->len >= 3)
        {
          graphene_point_t *first = &g_array_index (self->pending->points, graphene_point_t, 0);
          double ox, oy;
          double scale = get_transform (self, &ox, &oy);

          if (hypot (first->x - x, first->y - y) * scale <= CLOSE_TOLERANCE)
            {
              kp_layout_shapes_finish (self);
              return;
            }
        }
      add_point (self->pending, x, y);
      if (self->mode == KP_LAYOUT_SHAPES_LINE && self->pending->points->len == 2)
        kp_layout_shapes_finish (self);
      break;

    default:
      return;
    }

  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
kp_layout_shapes_finish (KpLayoutShapes *self)
{
  guint needed;

  g_return_val_if_fail (KP_IS_LAYOUT_SHAPES (self), FALSE);

  if (self->pending == NULL)
    return FALSE;

  needed = self->mode == KP_LAYOUT_SHAPES_POLYGON ? 3 : 2;
  if (self->pending->points->len < needed)
    return FALSE;

  g_ptr_array_add (self->shapes, g_steal_pointer (&self->pending));
  gtk_widget_queue_draw (GTK_WIDGET (self));
  emit_changed (self);

  return TRUE;
}

void
kp_layout_shapes_new_instance (KpLayoutShapes *self)
{
  g_return_if_fail (KP_IS_LAYOUT_SHAPES (self));

  self->want_new_instance = TRUE;
}

void
kp_layout_shapes_paint (KpLayoutShapes *self,
                        double          x,
                        double          y)
{
  guint8 value;
  int r, x0, x1, y0, y1;

  g_return_if_fail (KP_IS_LAYOUT_SHAPES (self));

  if (self->mask == NULL || self->current_label == NULL)
    return;

  if (self->mode == KP_LAYOUT_SHAPES_INSTANCE)
    {
      if (self->want_new_instance || self->instances->len == 0)
        {
          Instance *instance;

          if (self->instances->len >= 255)
            return;
          instance = g_new0 (Instance, 1);
          instance->label = g_strdup (self->current_label);
          instance->color = g_strdup (kp_layout_shapes_label_color (self->instances->len));
          g_ptr_array_add (self->instances, instance);
          self->want_new_instance = FALSE;
        }
      value = self->instances->len;
    }
  else
    value = MIN (label_index (self, self->current_label), 254) + 1;

  r = (int)ceil (self->brush_radius);
  x0 = MAX (0, (int)floor (x) - r);
  x1 = MIN (self->width - 1, (int)floor (x) + r);
  y0 = MAX (0, (int)floor (y) - r);
  y1 = MIN (self->height - 1, (int)floor (y) + r);
  for (int py = y0; py <= y1; py++)
    for (int px = x0; px <= x1; px++)
      if (hypot (px + 0.5 - x, py + 0.5 - y) <= self->brush_radius)
        self->mask[(gsize)py * self->width + px] = value;

  g_array_append_val (self->strokes, value);
  invalidate_mask (self);
  emit_changed (self);
}

gboolean
kp_layout_shapes_undo (KpLayoutShapes *self)
{
  g_return_val_if_fail (KP_IS_LAYOUT_SHAPES (self), FALSE);

  if (self->pending != NULL)
    {
      g_array_set_size (self->pending->points, self->pending->points->len - 1);
      if (self->pending->points->len == 0)
        g_clear_pointer (&self->pending, shape_free);
    }
  else if (self->mask != NULL && self->strokes->len > 0)
    {
      /* Painting is undone by value: the last label or instance painted
       * is erased. */
      guint8 value = g_array_index (self->strokes, guint, self->strokes->len - 1);

      for (gsize i = 0; i < (gsize)self->width * self->height; i++)
        if (self->mask[i] == value)
          self->mask[i] = 0;
      for (guint i = self->strokes->len; i > 0; i--)
        if (g_array_index (self->strokes, guint, i - 1) == value)
          g_array_remove_index (self->strokes, i - 1);
      invalidate_mask (self);
    }
  else if (self->shapes->len > 0 && self->mode != KP_LAYOUT_SHAPES_OVERLAY)
    g_ptr_array_set_size (self->shapes, self->shapes->len - 1);
  else
    return FALSE;

  gtk_widget_queue_draw (GTK_WIDGET (self));
  emit_changed (self);
  return TRUE;
}

void
kp_layout_shapes_add_box (KpLayoutShapes *self,
                          const char     *label,
                          double          left,
                          double          top,
                          double          width,
                          double          height)
{
  Shape *shape;

  g_return_if_fail (KP_IS_LAYOUT_SHAPES (self));

  shape = shape_new (label);
  shape->box = TRUE;
  add_point (shape, left, top);
  add_point (shape, width, height);
  g_ptr_array_add (self->shapes, shape);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
kp_layout_shapes_get_n_shapes (KpLayoutShapes *self)
{
  g_return_val_if_fail (KP_IS_LAYOUT_SHAPES (self), 0);

  return self->mode == KP_LAYOUT_SHAPES_INSTANCE ? self->instances->len : self->shapes->len;
}

static void
add_image_properties (JsonBuilder    *builder,
                      KpLayoutShapes *self)
{
  json_builder_set_member_name (builder, "inputImageProperties");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "height");
  json_builder_add_int_value (builder, self->height);
  json_builder_set_member_name (builder, "width");
  json_builder_add_int_value (builder, self->width);
  json_builder_end_object (builder);
}

/* The mask as an RGBA PNG, each pixel in its label's (or instance's)
 * colour, unpainted pixels transparent; base64. */
static char *
mask_to_png (KpLayoutShapes *self,
             gboolean       *used)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, TRUE, 8, self->width, self->height);
  g_autofree char *buffer = NULL;
  gsize size = 0;
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);

  for (int y = 0; y < self->height; y++)
    for (int x = 0; x < self->width; x++)
      {
        guint8 v = self->mask[(gsize)y * self->width + x];
        guint8 *p = pixels + (gsize)y * stride + x * 4;
        GdkRGBA c = { 0, 0, 0, 0 };

        if (v != 0)
          {
            if (self->mode == KP_LAYOUT_SHAPES_INSTANCE && v <= self->instances->len)
              parse_color (((Instance *)g_ptr_array_index (self->instances, v - 1))->color, &c);
            else
              parse_color (kp_layout_shapes_label_color (v - 1), &c);
            used[v] = TRUE;
          }
        p[0] = lround (c.red * 255);
        p[1] = lround (c.green * 255);
        p[2] = lround (c.blue * 255);
        p[3] = lround (c.alpha * 255);
      }

  if (!gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &size, "png", NULL, NULL))
    return NULL;

  return g_base64_encode ((const guchar *)buffer, size);
}

JsonNode *
kp_layout_shapes_dup_value (KpLayoutShapes *self)
{
  g_autoptr(JsonBuilder) builder = NULL;
  static const char * const members[] = {
    [KP_LAYOUT_SHAPES_KEYPOINT] = "keypoints",
    [KP_LAYOUT_SHAPES_LINE] = "lines",
    [KP_LAYOUT_SHAPES_POLYLINE] = "polylines",
    [KP_LAYOUT_SHAPES_POLYGON] = "polygons",
  };

  g_return_val_if_fail (KP_IS_LAYOUT_SHAPES (self), NULL);

  if (self->texture == NULL || self->mode == KP_LAYOUT_SHAPES_OVERLAY)
    return NULL;

  builder = json_builder_new ();
  json_builder_begin_object (builder);

  if (self->mode == KP_LAYOUT_SHAPES_SEMANTIC || self->mode == KP_LAYOUT_SHAPES_INSTANCE)
    {
      gboolean used[256] = { FALSE, };
      g_autofree char *png = mask_to_png (self, used);

      json_builder_set_member_name (builder, "labeledImage");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "pngImageData");
      json_builder_add_string_value (builder, png != NULL ? png : "");
      json_builder_end_object (builder);

      if (self->mode == KP_LAYOUT_SHAPES_SEMANTIC)
        {
          json_builder_set_member_name (builder, "labelMappings");
          json_builder_begin_object (builder);
          for (guint i = 0; self->labels != NULL && self->labels[i] != NULL && i < 255; i++)
            if (used[i + 1])
              {
                json_builder_set_member_name (builder, self->labels[i]);
                json_builder_begin_object (builder);
                json_builder_set_member_name (builder, "color");
                json_builder_add_string_value (builder, kp_layout_shapes_label_color (i));
                json_builder_end_object (builder);
              }
          json_builder_end_object (builder);
        }
      else
        {
          json_builder_set_member_name (builder, "instances");
          json_builder_begin_array (builder);
          for (guint i = 0; i < self->instances->len; i++)
            if (used[i + 1])
              {
                Instance *instance = g_ptr_array_index (self->instances, i);

                json_builder_begin_object (builder);
                json_builder_set_member_name (builder, "color");
                json_builder_add_string_value (builder, instance->color);
                json_builder_set_member_name (builder, "label");
                json_builder_add_string_value (builder, instance->label);
                json_builder_end_object (builder);
              }
          json_builder_end_array (builder);
        }
    }
  else
    {
      json_builder_set_member_name (builder, members[self->mode]);
      json_builder_begin_array (builder);
      for (guint i = 0; i < self->shapes->len; i++)
        {
          Shape *shape = g_ptr_array_index (self->shapes, i);
          graphene_point_t *p = &g_array_index (shape->points, graphene_point_t, 0);

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "label");
          json_builder_add_string_value (builder, shape->label);
          if (self->mode == KP_LAYOUT_SHAPES_KEYPOINT)
            {
              json_builder_set_member_name (builder, "x");
              json_builder_add_double_value (builder, p->x);
              json_builder_set_member_name (builder, "y");
              json_builder_add_double_value (builder, p->y);
            }
          else
            {
              json_builder_set_member_name (builder, "vertices");
              json_builder_begin_array (builder);
              for (guint j = 0; j < shape->points->len; j++)
                {
                  json_builder_begin_object (builder);
                  json_builder_set_member_name (builder, "x");
                  json_builder_add_double_value (builder, p[j].x);
                  json_builder_set_member_name (builder, "y");
                  json_builder_add_double_value (builder, p[j].y);
                  json_builder_end_object (builder);
                }
              json_builder_end_array (builder);
            }
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
    }

  add_image_properties (builder, self);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static guint8
color_value (GHashTable *colors,
             guint8      r,
             guint8      g,
             guint8      b)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (colors, GUINT_TO_POINTER ((r << 16) | (g << 8) | b)));
}

static void
add_color (GHashTable *colors,
           const char *color,
           guint       value)
{
  GdkRGBA c;
  guint key;

  parse_color (color, &c);
  key = ((guint)lround (c.red * 255) << 16) | ((guint)lround (c.green * 255) << 8) |
        (guint)lround (c.blue * 255);
  if (!g_hash_table_contains (colors, GUINT_TO_POINTER (key)))
    g_hash_table_insert (colors, GUINT_TO_POINTER (key), GUINT_TO_POINTER (value));
}

/* Paints the mask from a labeledImage PNG: each colour back to the label
 * (labelMappings) or the instance (instances) it stands for. */
static void
mask_from_value (KpLayoutShapes *self,
                 JsonObject     *object)
{
  g_autoptr(GHashTable) colors = g_hash_table_new (NULL, NULL);
  g_autoptr(GdkPixbufLoader) loader = NULL;
  g_autofree guchar *png = NULL;
  JsonObject *image = NULL;
  const char *data = NULL;
  gboolean seen[256] = { FALSE, };
  GdkPixbuf *pixbuf;
  gsize size = 0;

  if (json_object_has_member (object, "labeledImage") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (object, "labeledImage")))
    image = json_object_get_object_member (object, "labeledImage");
  if (image != NULL)
    data = json_object_get_string_member_with_default (image, "pngImageData", NULL);
  if (data == NULL || *data == '\0')
    return;

  if (self->mode == KP_LAYOUT_SHAPES_SEMANTIC)
    {
      JsonNode *mappings = json_object_get_member (object, "labelMappings");

      if (mappings != NULL && JSON_NODE_HOLDS_OBJECT (mappings))
        {
          g_autoptr(GList) names = json_object_get_members (json_node_get_object (mappings));

          for (GList *l = names; l != NULL; l = l->next)
            {
              JsonNode *m = json_object_get_member (json_node_get_object (mappings), l->data);
              const char *color = JSON_NODE_HOLDS_OBJECT (m)
                                  ? json_object_get_string_member_with_default (json_node_get_object (m), "color", NULL)
                                  : NULL;

              for (guint i = 0; color != NULL && self->labels != NULL && self->labels[i] != NULL && i < 255; i++)
                if (g_str_equal (self->labels[i], l->data))
                  add_color (colors, color, i + 1);
            }
        }
    }
  else
    {
      JsonNode *instances = json_object_get_member (object, "instances");
      JsonArray *array = instances != NULL && JSON_NODE_HOLDS_ARRAY (instances)
                         ? json_node_get_array (instances) : NULL;

      for (guint i = 0; array != NULL && i < json_array_get_length (array) && self->instances->len < 255; i++)
        {
          JsonNode *e = json_array_get_element (array, i);
          JsonObject *o = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
          const char *color = o != NULL ? json_object_get_string_member_with_default (o, "color", NULL) : NULL;
          const char *label = o != NULL ? json_object_get_string_member_with_default (o, "label", NULL) : NULL;
          Instance *instance;

          if (color == NULL || label == NULL)
            continue;
          instance = g_new0 (Instance, 1);
          instance->label = g_strdup (label);
          instance->color = g_strdup (color);
          g_ptr_array_add (self->instances, instance);
          add_color (colors, color, self->instances->len);
        }
    }

  png = g_base64_decode (data, &size);
  loader = gdk_pixbuf_loader_new_with_type ("png", NULL);
  if (loader == NULL || !gdk_pixbuf_loader_write (loader, png, size, NULL) ||
      !gdk_pixbuf_loader_close (loader, NULL))
    return;
  pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);
  if (pixbuf == NULL || gdk_pixbuf_get_n_channels (pixbuf) != 4 ||
      gdk_pixbuf_get_bits_per_sample (pixbuf) != 8)
    return;

  {
    const guint8 *pixels = gdk_pixbuf_read_pixels (pixbuf);
    int stride = gdk_pixbuf_get_rowstride (pixbuf);
    int w = MIN (self->width, gdk_pixbuf_get_width (pixbuf));
    int h = MIN (self->height, gdk_pixbuf_get_height (pixbuf));

    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        {
          const guint8 *p = pixels + (gsize)y * stride + x * 4;
          guint8 v;

          if (p[3] == 0)
            continue;
          v = color_value (colors, p[0], p[1], p[2]);
          self->mask[(gsize)y * self->width + x] = v;
          seen[v] = TRUE;
        }
  }

  /* Undo erases what was restored a value at a time. */
  for (guint v = 1; v < 256; v++)
    if (seen[v])
      g_array_append_val (self->strokes, v);
}

void
kp_layout_shapes_set_value (KpLayoutShapes *self,
                            JsonNode       *value)
{
  static const char * const members[] = {
    [KP_LAYOUT_SHAPES_KEYPOINT] = "keypoints",
    [KP_LAYOUT_SHAPES_LINE] = "lines",
    [KP_LAYOUT_SHAPES_POLYLINE] = "polylines",
    [KP_LAYOUT_SHAPES_POLYGON] = "polygons",
  };
  JsonObject *object;

  g_return_if_fail (KP_IS_LAYOUT_SHAPES (self));

  if (self->mode == KP_LAYOUT_SHAPES_OVERLAY)
    return;

  g_clear_pointer (&self->pending, shape_free);
  g_ptr_array_set_size (self->shapes, 0);
  g_ptr_array_set_size (self->instances, 0);
  g_array_set_size (self->strokes, 0);
  self->want_new_instance = FALSE;
  if (self->mask != NULL)
    memset (self->mask, 0, (gsize)self->width * self->height);

  object = value != NULL && JSON_NODE_HOLDS_OBJECT (value) ? json_node_get_object (value) : NULL;
  if (object == NULL)
    ;
  else if (self->mode == KP_LAYOUT_SHAPES_SEMANTIC || self->mode == KP_LAYOUT_SHAPES_INSTANCE)
    {
      if (self->mask != NULL)
        mask_from_value (self, object);
      /* Painting after a restore starts a new instance. */
      self->want_new_instance = TRUE;
    }
  else if (json_object_has_member (object, members[self->mode]) &&
           JSON_NODE_HOLDS_ARRAY (json_object_get_member (object, members[self->mode])))
    {
      JsonArray *array = json_object_get_array_member (object, members[self->mode]);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *e = json_array_get_element (array, i);
          JsonObject *o = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
          Shape *shape;

          if (o == NULL)
            continue;
          shape = shape_new (json_object_get_string_member_with_default (o, "label", ""));
          if (self->mode == KP_LAYOUT_SHAPES_KEYPOINT)
            add_point (shape,
                       json_object_get_double_member_with_default (o, "x", 0),
                       json_object_get_double_member_with_default (o, "y", 0));
          else if (json_object_has_member (o, "vertices") &&
                   JSON_NODE_HOLDS_ARRAY (json_object_get_member (o, "vertices")))
            {
              JsonArray *vertices = json_object_get_array_member (o, "vertices");

              for (guint j = 0; j < json_array_get_length (vertices); j++)
                {
                  JsonNode *v = json_array_get_element (vertices, j);

                  if (JSON_NODE_HOLDS_OBJECT (v))
                    add_point (shape,
                               json_object_get_double_member_with_default (json_node_get_object (v), "x", 0),
                               json_object_get_double_member_with_default (json_node_get_object (v), "y", 0));
                }
            }
          g_ptr_array_add (self->shapes, shape);
        }
    }

  invalidate_mask (self);
}
