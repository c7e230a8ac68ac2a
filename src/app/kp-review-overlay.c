/* kp-review-overlay.c: one image with every worker's boxes overlaid
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each worker is a layer of boxes. A layer is turned into one render node
 * of border nodes in widget coordinates and kept until the view moves or
 * the boxes change, so toggling a worker or repainting costs a handful of
 * nodes however many boxes there are.
 */

#include "config.h"

#include "kp-review-overlay.h"

#include <math.h>

#include <glib/gi18n.h>

#define LAYER_LINE 2.f
#define CONSENSUS_OUTER 5.f
#define CONSENSUS_INNER 1.f
#define MIN_ZOOM 0.25
#define MAX_ZOOM 32.0

typedef struct
{
  GdkRGBA        color;
  GArray        *boxes;     /* of graphene_rect_t */
  gboolean       visible;
  GskRenderNode *node;      /* cached, widget coordinates */
} Layer;

struct _KpReviewOverlay
{
  GtkWidget      parent_instance;

  GdkTexture    *texture;
  int            image_width;
  int            image_height;

  GPtrArray     *layers;    /* of Layer */
  GArray        *consensus; /* of graphene_rect_t */
  GskRenderNode *consensus_node;

  double         zoom;
  double         pan_x;
  double         pan_y;
  double         pointer_x;
  double         pointer_y;

  /* The transform the cached nodes were built for. */
  double         cache_scale;
  double         cache_x;
  double         cache_y;
};

G_DEFINE_FINAL_TYPE (KpReviewOverlay, kp_review_overlay, GTK_TYPE_WIDGET)

static const GdkRGBA palette[] = {
  { 0.902f, 0.624f, 0.000f, 1.f },  /* orange */
  { 0.337f, 0.706f, 0.914f, 1.f },  /* sky blue */
  { 0.000f, 0.620f, 0.451f, 1.f },  /* bluish green */
  { 0.941f, 0.894f, 0.259f, 1.f },  /* yellow */
  { 0.000f, 0.447f, 0.698f, 1.f },  /* blue */
  { 0.835f, 0.369f, 0.000f, 1.f },  /* vermillion */
  { 0.800f, 0.475f, 0.655f, 1.f },  /* reddish purple */
  { 0.600f, 0.600f, 0.600f, 1.f },  /* grey */
  { 0.000f, 0.000f, 0.000f, 1.f },  /* black */
};

guint
kp_review_palette_get_size (void)
{
  return G_N_ELEMENTS (palette);
}

const GdkRGBA *
kp_review_palette_get (guint index)
{
  return &palette[index % G_N_ELEMENTS (palette)];
}

static void
layer_free (Layer *layer)
{
  g_array_unref (layer->boxes);
  g_clear_pointer (&layer->node, gsk_render_node_unref);
  g_free (layer);
}

static void
drop_nodes (KpReviewOverlay *self)
{
  for (guint i = 0; i < self->layers->len; i++)
    {
      Layer *layer = g_ptr_array_index (self->layers, i);

      g_clear_pointer (&layer->node, gsk_render_node_unref);
    }
  g_clear_pointer (&self->consensus_node, gsk_render_node_unref);
}

static void
image_size (KpReviewOverlay *self,
            double          *width,
            double          *height)
{
  if (self->texture != NULL)
    {
      *width = gdk_texture_get_width (self->texture);
      *height = gdk_texture_get_height (self->texture);
    }
  else
    {
      *width = MAX (self->image_width, 1);
      *height = MAX (self->image_height, 1);
    }
}

static void
get_transform (KpReviewOverlay *self,
               double          *scale,
               double          *x,
               double          *y)
{
  double width = gtk_widget_get_width (GTK_WIDGET (self));
  double height = gtk_widget_get_height (GTK_WIDGET (self));
  double iw, ih, fit;

  image_size (self, &iw, &ih);
  fit = MIN (width / iw, height / ih);
  if (fit <= 0)
    fit = 1;
  *scale = fit * self->zoom;
  *x = round ((width - iw * *scale) / 2 + self->pan_x);
  *y = round ((height - ih * *scale) / 2 + self->pan_y);
}

static GskRenderNode *
build_boxes (GArray        *boxes,
             double         scale,
             double         ox,
             double         oy,
             const GdkRGBA *color,
             float          line,
             const GdkRGBA *core,
             float          core_line)
{
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  GdkRGBA colors[4] = { *color, *color, *color, *color };
  float widths[4] = { line, line, line, line };

  for (guint i = 0; i < boxes->len; i++)
    {
      const graphene_rect_t *box = &g_array_index (boxes, graphene_rect_t, i);
      double x0 = round (ox + box->origin.x * scale);
      double y0 = round (oy + box->origin.y * scale);
      double x1 = round (ox + (box->origin.x + box->size.width) * scale);
      double y1 = round (oy + (box->origin.y + box->size.height) * scale);
      GskRoundedRect outline;

      /* The line lies outside the box, so the object stays visible. */
      gsk_rounded_rect_init_from_rect (&outline,
                                       &GRAPHENE_RECT_INIT (x0 - line, y0 - line,
                                                            MAX (x1 - x0, 1) + 2 * line,
                                                            MAX (y1 - y0, 1) + 2 * line),
                                       0);
      gtk_snapshot_append_border (snapshot, &outline, widths, colors);

      if (core != NULL)
        {
          GdkRGBA cores[4] = { *core, *core, *core, *core };
          float core_widths[4] = { core_line, core_line, core_line, core_line };
          float inset = (line - core_line) / 2;

          gsk_rounded_rect_init_from_rect (&outline,
                                           &GRAPHENE_RECT_INIT (x0 - line + inset, y0 - line + inset,
                                                                MAX (x1 - x0, 1) + 2 * (line - inset),
                                                                MAX (y1 - y0, 1) + 2 * (line - inset)),
                                           0);
          gtk_snapshot_append_border (snapshot, &outline, core_widths, cores);
        }
    }

  return gtk_snapshot_free_to_node (snapshot);
}

static void
kp_review_overlay_snapshot (GtkWidget   *widget,
                            GtkSnapshot *snapshot)
{
  KpReviewOverlay *self = KP_REVIEW_OVERLAY (widget);
  double width = gtk_widget_get_width (widget);
  double height = gtk_widget_get_height (widget);
  double scale, ox, oy, iw, ih;
  static const GdkRGBA field = { 0.5f, 0.5f, 0.5f, 1.f };
  static const GdkRGBA white = { 1.f, 1.f, 1.f, 1.f };
  static const GdkRGBA dark = { 0.1f, 0.1f, 0.1f, 1.f };

  get_transform (self, &scale, &ox, &oy);
  image_size (self, &iw, &ih);
  if (scale != self->cache_scale || ox != self->cache_x || oy != self->cache_y)
    {
      drop_nodes (self);
      self->cache_scale = scale;
      self->cache_x = ox;
      self->cache_y = oy;
    }

  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));

  if (self->texture != NULL)
    gtk_snapshot_append_texture (snapshot, self->texture,
                                 &GRAPHENE_RECT_INIT (ox, oy, iw * scale, ih * scale));
  else
    gtk_snapshot_append_color (snapshot, &field, &GRAPHENE_RECT_INIT (ox, oy, iw * scale, ih * scale));

  for (guint i = 0; i < self->layers->len; i++)
    {
      Layer *layer = g_ptr_array_index (self->layers, i);

      if (!layer->visible || layer->boxes->len == 0)
        continue;
      if (layer->node == NULL)
        layer->node = build_boxes (layer->boxes, scale, ox, oy, &layer->color, LAYER_LINE, NULL, 0);
      gtk_snapshot_append_node (snapshot, layer->node);
    }

  if (self->consensus->len > 0)
    {
      if (self->consensus_node == NULL)
        self->consensus_node = build_boxes (self->consensus, scale, ox, oy, &white, CONSENSUS_OUTER,
                                            &dark, CONSENSUS_INNER);
      gtk_snapshot_append_node (snapshot, self->consensus_node);
    }

  gtk_snapshot_pop (snapshot);
}

static void
kp_review_overlay_measure (GtkWidget      *widget,
                           GtkOrientation  orientation,
                           int             for_size,
                           int            *minimum,
                           int            *natural,
                           int            *minimum_baseline,
                           int            *natural_baseline)
{
  *minimum = 64;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 640 : 480;
}

static void
kp_review_overlay_size_allocate (GtkWidget *widget,
                                 int        width,
                                 int        height,
                                 int        baseline)
{
  drop_nodes (KP_REVIEW_OVERLAY (widget));
}

static gboolean
scroll_cb (GtkEventControllerScroll *controller,
           double                    dx,
           double                    dy,
           KpReviewOverlay          *self)
{
  GdkModifierType state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (controller));
  double x = self->pointer_x;
  double y = self->pointer_y;

  if ((state & GDK_CONTROL_MASK) == 0)
    return FALSE;

  kp_review_overlay_zoom_at (self, pow (1.15, -dy), x, y);
  return TRUE;
}

static void
motion_cb (GtkEventControllerMotion *controller,
           double                    x,
           double                    y,
           KpReviewOverlay          *self)
{
  self->pointer_x = x;
  self->pointer_y = y;
}

static void
kp_review_overlay_dispose (GObject *object)
{
  KpReviewOverlay *self = KP_REVIEW_OVERLAY (object);

  g_clear_object (&self->texture);
  g_clear_pointer (&self->layers, g_ptr_array_unref);
  g_clear_pointer (&self->consensus, g_array_unref);
  g_clear_pointer (&self->consensus_node, gsk_render_node_unref);

  G_OBJECT_CLASS (kp_review_overlay_parent_class)->dispose (object);
}

static void
kp_review_overlay_class_init (KpReviewOverlayClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kp_review_overlay_dispose;
  widget_class->snapshot = kp_review_overlay_snapshot;
  widget_class->measure = kp_review_overlay_measure;
  widget_class->size_allocate = kp_review_overlay_size_allocate;

  gtk_widget_class_set_css_name (widget_class, "review-overlay");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
kp_review_overlay_init (KpReviewOverlay *self)
{
  GtkEventController *scroll;
  GtkEventController *motion;

  self->layers = g_ptr_array_new_with_free_func ((GDestroyNotify)layer_free);
  self->consensus = g_array_new (FALSE, FALSE, sizeof (graphene_rect_t));
  self->zoom = 1;
  self->cache_scale = -1;

  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);
  gtk_widget_set_hexpand (GTK_WIDGET (self), TRUE);
  gtk_widget_set_vexpand (GTK_WIDGET (self), TRUE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("The image with every worker’s annotations"), -1);

  scroll = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_VERTICAL);
  g_signal_connect (scroll, "scroll", G_CALLBACK (scroll_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), scroll);

  motion = gtk_event_controller_motion_new ();
  g_signal_connect (motion, "enter", G_CALLBACK (motion_cb), self);
  g_signal_connect (motion, "motion", G_CALLBACK (motion_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), motion);
}

GtkWidget *
kp_review_overlay_new (void)
{
  return g_object_new (KP_TYPE_REVIEW_OVERLAY, NULL);
}

void
kp_review_overlay_set_texture (KpReviewOverlay *self,
                               GdkTexture      *texture)
{
  g_return_if_fail (KP_IS_REVIEW_OVERLAY (self));

  if (!g_set_object (&self->texture, texture))
    return;
  drop_nodes (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

GdkTexture *
kp_review_overlay_get_texture (KpReviewOverlay *self)
{
  g_return_val_if_fail (KP_IS_REVIEW_OVERLAY (self), NULL);
  return self->texture;
}

void
kp_review_overlay_set_image_size (KpReviewOverlay *self,
                                  int              width,
                                  int              height)
{
  g_return_if_fail (KP_IS_REVIEW_OVERLAY (self));

  if (self->image_width == width && self->image_height == height)
    return;
  self->image_width = width;
  self->image_height = height;
  drop_nodes (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
kp_review_overlay_clear (KpReviewOverlay *self)
{
  g_return_if_fail (KP_IS_REVIEW_OVERLAY (self));

  g_ptr_array_set_size (self->layers, 0);
  g_array_set_size (self->consensus, 0);
  g_clear_pointer (&self->consensus_node, gsk_render_node_unref);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

guint
kp_review_overlay_add_layer (KpReviewOverlay       *self,
                             const GdkRGBA         *color,
                             const graphene_rect_t *boxes,
                             guint                  n_boxes)
{
  Layer *layer;

  g_return_val_if_fail (KP_IS_REVIEW_OVERLAY (self), 0);
  g_return_val_if_fail (color != NULL, 0);
  g_return_val_if_fail (boxes != NULL || n_boxes == 0, 0);

  layer = g_new0 (Layer, 1);
  layer->color = *color;
  layer->visible = TRUE;
  layer->boxes = g_array_sized_new (FALSE, FALSE, sizeof (graphene_rect_t), n_boxes);
  g_array_append_vals (layer->boxes, boxes, n_boxes);
  g_ptr_array_add (self->layers, layer);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  return self->layers->len - 1;
}

guint
kp_review_overlay_get_n_layers (KpReviewOverlay *self)
{
  g_return_val_if_fail (KP_IS_REVIEW_OVERLAY (self), 0);
  return self->layers->len;
}

void
kp_review_overlay_set_layer_visible (KpReviewOverlay *self,
                                     guint            index,
                                     gboolean         visible)
{
  Layer *layer;

  g_return_if_fail (KP_IS_REVIEW_OVERLAY (self));
  g_return_if_fail (index < self->layers->len);

  layer = g_ptr_array_index (self->layers, index);
  visible = !!visible;
  if (layer->visible == visible)
    return;
  layer->visible = visible;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
kp_review_overlay_get_layer_visible (KpReviewOverlay *self,
                                     guint            index)
{
  g_return_val_if_fail (KP_IS_REVIEW_OVERLAY (self), FALSE);
  g_return_val_if_fail (index < self->layers->len, FALSE);
  return ((Layer *)g_ptr_array_index (self->layers, index))->visible;
}

void
kp_review_overlay_set_consensus (KpReviewOverlay       *self,
                                 const graphene_rect_t *boxes,
                                 guint                  n_boxes)
{
  g_return_if_fail (KP_IS_REVIEW_OVERLAY (self));
  g_return_if_fail (boxes != NULL || n_boxes == 0);

  g_array_set_size (self->consensus, 0);
  g_array_append_vals (self->consensus, boxes, n_boxes);
  g_clear_pointer (&self->consensus_node, gsk_render_node_unref);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

double
kp_review_overlay_get_zoom (KpReviewOverlay *self)
{
  g_return_val_if_fail (KP_IS_REVIEW_OVERLAY (self), 1);
  return self->zoom;
}

void
kp_review_overlay_zoom_to_fit (KpReviewOverlay *self)
{
  g_return_if_fail (KP_IS_REVIEW_OVERLAY (self));

  self->zoom = 1;
  self->pan_x = self->pan_y = 0;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
kp_review_overlay_zoom_at (KpReviewOverlay *self,
                           double           factor,
                           double           x,
                           double           y)
{
  double scale, ox, oy, ix, iy, new_scale, nx, ny;

  g_return_if_fail (KP_IS_REVIEW_OVERLAY (self));

  get_transform (self, &scale, &ox, &oy);
  ix = (x - ox) / scale;
  iy = (y - oy) / scale;

  self->zoom = CLAMP (self->zoom * factor, MIN_ZOOM, MAX_ZOOM);

  /* Keep (ix, iy) under the pointer: move the pan by the difference. */
  get_transform (self, &new_scale, &nx, &ny);
  self->pan_x += x - (nx + ix * new_scale);
  self->pan_y += y - (ny + iy * new_scale);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
kp_review_overlay_image_to_widget (KpReviewOverlay *self,
                                   double           image_x,
                                   double           image_y,
                                   double          *widget_x,
                                   double          *widget_y)
{
  double scale, ox, oy;

  g_return_if_fail (KP_IS_REVIEW_OVERLAY (self));

  get_transform (self, &scale, &ox, &oy);
  *widget_x = ox + image_x * scale;
  *widget_y = oy + image_y * scale;
}
