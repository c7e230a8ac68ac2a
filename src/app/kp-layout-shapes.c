/* kp-layout-shapes.c: boxes drawn over an image, read only
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * crowd-image-classifier shows its overlay's boxes here: nothing to edit,
 * so no document or canvas. The image is drawn at a best fit, the boxes
 * with cairo in image pixels.
 */

#include "config.h"

#include "kp-layout-shapes.h"

#include <math.h>

/* The colours Ground Truth gives labels, in order (d3's category10). */
static const char * const palette[] = {
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
};

#define MAX_NATURAL_WIDTH 720

typedef struct
{
  char            *label;
  graphene_rect_t  rect;   /* image pixels */
} Box;

struct _KpLayoutShapes
{
  GtkWidget   parent_instance;

  GdkTexture *texture;
  int         width;
  int         height;
  GArray     *boxes;       /* Box */
  GPtrArray  *labels;      /* char *, in the order first seen */
};

G_DEFINE_FINAL_TYPE (KpLayoutShapes, kp_layout_shapes, GTK_TYPE_WIDGET)

static void
box_clear (Box *box)
{
  g_free (box->label);
}

const char *
kp_layout_shapes_label_color (guint index)
{
  return palette[index % G_N_ELEMENTS (palette)];
}

static guint
label_index (KpLayoutShapes *self,
             const char     *label)
{
  guint index;

  if (!g_ptr_array_find_with_equal_func (self->labels, label, g_str_equal, &index))
    {
      index = self->labels->len;
      g_ptr_array_add (self->labels, g_strdup (label));
    }

  return index;
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
  if (self->boxes->len == 0)
    return;

  cr = gtk_snapshot_append_cairo (snapshot, &bounds);
  cairo_translate (cr, ox, oy);
  cairo_scale (cr, scale, scale);
  cairo_set_line_width (cr, 2.0 / scale);
  for (guint i = 0; i < self->boxes->len; i++)
    {
      const Box *box = &g_array_index (self->boxes, Box, i);
      GdkRGBA c;

      if (!gdk_rgba_parse (&c, kp_layout_shapes_label_color (label_index (self, box->label))))
        c = (GdkRGBA) { 1, 0, 0, 1 };
      gdk_cairo_set_source_rgba (cr, &c);
      cairo_rectangle (cr, box->rect.origin.x, box->rect.origin.y, box->rect.size.width, box->rect.size.height);
      cairo_stroke (cr);
    }
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
kp_layout_shapes_dispose (GObject *object)
{
  KpLayoutShapes *self = KP_LAYOUT_SHAPES (object);

  g_clear_object (&self->texture);

  G_OBJECT_CLASS (kp_layout_shapes_parent_class)->dispose (object);
}

static void
kp_layout_shapes_finalize (GObject *object)
{
  KpLayoutShapes *self = KP_LAYOUT_SHAPES (object);

  g_array_unref (self->boxes);
  g_ptr_array_unref (self->labels);

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

  gtk_widget_class_set_css_name (widget_class, "kp-layout-shapes");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
kp_layout_shapes_init (KpLayoutShapes *self)
{
  self->boxes = g_array_new (FALSE, FALSE, sizeof (Box));
  g_array_set_clear_func (self->boxes, (GDestroyNotify)box_clear);
  self->labels = g_ptr_array_new_with_free_func (g_free);

  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
}

GtkWidget *
kp_layout_shapes_new (void)
{
  return g_object_new (KP_TYPE_LAYOUT_SHAPES, NULL);
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
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

void
kp_layout_shapes_add_box (KpLayoutShapes *self,
                          const char     *label,
                          double          left,
                          double          top,
                          double          width,
                          double          height)
{
  Box box;

  g_return_if_fail (KP_IS_LAYOUT_SHAPES (self));

  box.label = g_strdup (label != NULL ? label : "");
  box.rect = GRAPHENE_RECT_INIT (left, top, width, height);
  g_array_append_val (self->boxes, box);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
kp_layout_shapes_get_n_shapes (KpLayoutShapes *self)
{
  g_return_val_if_fail (KP_IS_LAYOUT_SHAPES (self), 0);

  return self->boxes->len;
}
