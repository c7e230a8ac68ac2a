/* kp-review-overlay.c: one image with every worker's boxes overlaid
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each worker is a layer of boxes (and polygons, lines and keypoints).
 * The visible layers and the consensus
 * are drawn into one cairo node in widget coordinates, kept until the
 * view moves, a worker is toggled or the boxes change: repainting costs
 * one node however many boxes there are.
 *
 * Showing a new HIT that way costs a new image texture and a new cairo
 * node, both rasterized and uploaded in the frame. So the desk composes
 * the next HIT ahead of time: the image and its shapes at the fit zoom,
 * in a worker thread, into one texture (a KpReviewComposite) that the
 * renderer uploads before it is needed. The overlay draws it only while
 * it shows exactly what the vectors would (same image, size, scale
 * factor, fit zoom and visible layers), and draws vectors otherwise.
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
  GArray        *points;    /* of graphene_point_t */
  gboolean       closed;
} Path;

typedef struct
{
  GdkRGBA        color;
  GArray        *boxes;     /* of graphene_rect_t */
  GPtrArray     *paths;     /* of Path: polygons, lines */
  GArray        *points;    /* of graphene_point_t: keypoints */
  gboolean       visible;
} Layer;

struct _KpReviewComposite
{
  GdkTexture     *image;     /* what it was made of */
  GdkTexture     *texture;   /* the frame: image and shapes */
  graphene_rect_t bounds;    /* where it goes, in widget coordinates */
  int             width;     /* the widget's size and scale factor */
  int             height;
  int             scale_factor;
  guint           n_layers;
  gboolean       *visible;   /* n_layers of them */
};

struct _KpReviewOverlay
{
  GtkWidget      parent_instance;

  GdkTexture    *texture;
  int            image_width;
  int            image_height;

  GPtrArray     *layers;    /* of Layer */
  Layer         *consensus;
  GskRenderNode *boxes_node;  /* every visible layer, then the consensus; cached */
  KpReviewComposite *composite;
  gboolean       composited;  /* the last frame drew the composite */

  double         zoom;
  double         pan_x;
  double         pan_y;
  double         pointer_x;
  double         pointer_y;
  double         drag_pan_x;
  double         drag_pan_y;

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
path_free (Path *path)
{
  g_array_unref (path->points);
  g_free (path);
}

static Layer *
layer_new (const GdkRGBA *color)
{
  Layer *layer = g_new0 (Layer, 1);

  if (color != NULL)
    layer->color = *color;
  layer->visible = TRUE;
  layer->boxes = g_array_new (FALSE, FALSE, sizeof (graphene_rect_t));
  layer->paths = g_ptr_array_new_with_free_func ((GDestroyNotify)path_free);
  layer->points = g_array_new (FALSE, FALSE, sizeof (graphene_point_t));
  return layer;
}

static void
layer_clear (Layer *layer)
{
  g_array_set_size (layer->boxes, 0);
  g_ptr_array_set_size (layer->paths, 0);
  g_array_set_size (layer->points, 0);
}

static void
layer_free (Layer *layer)
{
  g_array_unref (layer->boxes);
  g_ptr_array_unref (layer->paths);
  g_array_unref (layer->points);
  g_free (layer);
}

static void
drop_nodes (KpReviewOverlay *self)
{
  g_clear_pointer (&self->boxes_node, gsk_render_node_unref);
}

/* The shapes changed: a composite no longer shows them. */
static void
drop_content (KpReviewOverlay *self)
{
  drop_nodes (self);
  g_clear_pointer (&self->composite, kp_review_composite_unref);
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

/* The overlay's transform for a widget of width×height: the image fitted
 * and centred, times zoom, moved by the pan; whole-pixel origins, so that a
 * composite made at zoom 1 lands where the vectors would. */
static void
zoomed_transform (double  width,
                  double  height,
                  double  iw,
                  double  ih,
                  double  zoom,
                  double  pan_x,
                  double  pan_y,
                  double *scale,
                  double *x,
                  double *y)
{
  double fit = MIN (width / iw, height / ih);

  if (fit <= 0)
    fit = 1;
  *scale = fit * zoom;
  *x = round ((width - iw * *scale) / 2 + pan_x);
  *y = round ((height - ih * *scale) / 2 + pan_y);
}

static void
get_transform (KpReviewOverlay *self,
               double          *scale,
               double          *x,
               double          *y)
{
  double width = gtk_widget_get_width (GTK_WIDGET (self));
  double height = gtk_widget_get_height (GTK_WIDGET (self));
  double iw, ih;

  image_size (self, &iw, &ih);
  zoomed_transform (width, height, iw, ih, self->zoom, self->pan_x, self->pan_y, scale, x, y);
}

/* Strokes each box of layer with a line of width centred offset pixels
 * outside it, each path along it, and rings each keypoint. */
static void
stroke_layer (cairo_t       *cr,
              Layer         *layer,
              double         scale,
              double         ox,
              double         oy,
              const GdkRGBA *color,
              double         offset,
              double         width)
{
  gdk_cairo_set_source_rgba (cr, color);
  cairo_set_line_width (cr, width);
  for (guint i = 0; i < layer->boxes->len; i++)
    {
      const graphene_rect_t *box = &g_array_index (layer->boxes, graphene_rect_t, i);
      double x0 = round (ox + box->origin.x * scale);
      double y0 = round (oy + box->origin.y * scale);
      double x1 = round (ox + (box->origin.x + box->size.width) * scale);
      double y1 = round (oy + (box->origin.y + box->size.height) * scale);

      cairo_rectangle (cr, x0 - offset, y0 - offset, MAX (x1 - x0, 1) + 2 * offset, MAX (y1 - y0, 1) + 2 * offset);
    }
  for (guint i = 0; i < layer->paths->len; i++)
    {
      Path *path = g_ptr_array_index (layer->paths, i);

      for (guint j = 0; j < path->points->len; j++)
        {
          const graphene_point_t *p = &g_array_index (path->points, graphene_point_t, j);

          if (j == 0)
            cairo_move_to (cr, ox + p->x * scale, oy + p->y * scale);
          else
            cairo_line_to (cr, ox + p->x * scale, oy + p->y * scale);
        }
      if (path->closed)
        cairo_close_path (cr);
    }
  for (guint i = 0; i < layer->points->len; i++)
    {
      const graphene_point_t *p = &g_array_index (layer->points, graphene_point_t, i);

      cairo_new_sub_path (cr);
      cairo_arc (cr, ox + p->x * scale, oy + p->y * scale, 4 + offset, 0, 2 * G_PI);
    }
  cairo_stroke (cr);
}

/* All the boxes in one cairo node: a container of a thousand border
 * nodes costs GSK a long diff against the previous HIT's on every change,
 * and a node per layer an upload each; one cairo node is drawn in a few
 * milliseconds and uploaded once. The line lies outside the box, so the
 * object itself stays visible; the consensus has a dark core along the
 * middle of a thick white line. */
static void
draw_shapes (cairo_t   *cr,
             GPtrArray *layers,
             Layer     *consensus,
             double     scale,
             double     ox,
             double     oy)
{
  static const GdkRGBA white = { 1.f, 1.f, 1.f, 1.f };
  static const GdkRGBA dark = { 0.1f, 0.1f, 0.1f, 1.f };

  cairo_set_line_join (cr, CAIRO_LINE_JOIN_MITER);
  cairo_set_miter_limit (cr, 4);
  for (guint i = 0; i < layers->len; i++)
    {
      Layer *layer = g_ptr_array_index (layers, i);

      if (layer->visible)
        stroke_layer (cr, layer, scale, ox, oy, &layer->color, LAYER_LINE / 2., LAYER_LINE);
    }
  stroke_layer (cr, consensus, scale, ox, oy, &white, CONSENSUS_OUTER / 2., CONSENSUS_OUTER);
  stroke_layer (cr, consensus, scale, ox, oy, &dark, CONSENSUS_OUTER / 2., CONSENSUS_INNER);
}

static GskRenderNode *
build_boxes (KpReviewOverlay       *self,
             const graphene_rect_t *bounds,
             double                 scale,
             double                 ox,
             double                 oy)
{
  GskRenderNode *node = gsk_cairo_node_new (bounds);
  cairo_t *cr = gsk_cairo_node_get_draw_context (node);

  draw_shapes (cr, self->layers, self->consensus, scale, ox, oy);
  cairo_destroy (cr);
  return node;
}

/* What the shapes are drawn in: the image's rectangle and a margin for
 * the lines outside it, within the widget. FALSE when nothing shows. */
static gboolean
shapes_bounds (double           width,
               double           height,
               double           iw,
               double           ih,
               double           scale,
               double           ox,
               double           oy,
               graphene_rect_t *bounds)
{
  graphene_rect_t image = GRAPHENE_RECT_INIT (ox - CONSENSUS_OUTER, oy - CONSENSUS_OUTER,
                                              iw * scale + 2 * CONSENSUS_OUTER,
                                              ih * scale + 2 * CONSENSUS_OUTER);

  return graphene_rect_intersection (&image, &GRAPHENE_RECT_INIT (0, 0, width, height), bounds);
}

static gboolean
composite_fits (KpReviewOverlay *self,
                int              width,
                int              height)
{
  KpReviewComposite *c = self->composite;

  if (c == NULL || c->image != self->texture || self->texture == NULL || self->zoom != 1 ||
      self->pan_x != 0 || self->pan_y != 0 || c->width != width || c->height != height ||
      c->scale_factor != gtk_widget_get_scale_factor (GTK_WIDGET (self)) ||
      c->n_layers != self->layers->len)
    return FALSE;
  for (guint i = 0; i < c->n_layers; i++)
    if (c->visible[i] != ((Layer *)g_ptr_array_index (self->layers, i))->visible)
      return FALSE;
  return TRUE;
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

  self->composited = composite_fits (self, (int)width, (int)height);
  if (self->composited)
    {
      gtk_snapshot_append_texture (snapshot, self->composite->texture, &self->composite->bounds);
      return;
    }

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

  if (self->boxes_node == NULL)
    {
      graphene_rect_t bounds;

      if (shapes_bounds (width, height, iw, ih, scale, ox, oy, &bounds))
        self->boxes_node = build_boxes (self, &bounds, scale, ox, oy);
    }
  if (self->boxes_node != NULL)
    gtk_snapshot_append_node (snapshot, self->boxes_node);

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
drag_begin_cb (GtkGestureDrag  *gesture,
               double           x,
               double           y,
               KpReviewOverlay *self)
{
  self->drag_pan_x = self->pan_x;
  self->drag_pan_y = self->pan_y;
}

/* Dragging moves a zoomed image about. */
static void
drag_update_cb (GtkGestureDrag  *gesture,
                double           dx,
                double           dy,
                KpReviewOverlay *self)
{
  if (self->zoom <= 1)
    return;
  self->pan_x = self->drag_pan_x + dx;
  self->pan_y = self->drag_pan_y + dy;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
kp_review_overlay_dispose (GObject *object)
{
  KpReviewOverlay *self = KP_REVIEW_OVERLAY (object);

  g_clear_object (&self->texture);
  g_clear_pointer (&self->layers, g_ptr_array_unref);
  g_clear_pointer (&self->consensus, layer_free);
  drop_content (self);

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
  GtkGesture *drag;

  self->layers = g_ptr_array_new_with_free_func ((GDestroyNotify)layer_free);
  self->consensus = layer_new (NULL);
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

  drag = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), 0);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));

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
  layer_clear (self->consensus);
  drop_content (self);
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

  layer = layer_new (color);
  g_array_append_vals (layer->boxes, boxes, n_boxes);
  g_ptr_array_add (self->layers, layer);
  drop_content (self);
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
  drop_nodes (self);
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

  layer_clear (self->consensus);
  g_array_append_vals (self->consensus->boxes, boxes, n_boxes);
  drop_content (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static Layer *
get_layer (KpReviewOverlay *self,
           guint            index)
{
  if (index == KP_REVIEW_OVERLAY_CONSENSUS)
    return self->consensus;
  g_return_val_if_fail (index < self->layers->len, NULL);
  return g_ptr_array_index (self->layers, index);
}

void
kp_review_overlay_add_path (KpReviewOverlay        *self,
                            guint                   layer,
                            const graphene_point_t *points,
                            guint                   n_points,
                            gboolean                closed)
{
  Layer *l;
  Path *path;

  g_return_if_fail (KP_IS_REVIEW_OVERLAY (self));
  g_return_if_fail (points != NULL || n_points == 0);

  if ((l = get_layer (self, layer)) == NULL || n_points == 0)
    return;
  path = g_new0 (Path, 1);
  path->points = g_array_sized_new (FALSE, FALSE, sizeof (graphene_point_t), n_points);
  g_array_append_vals (path->points, points, n_points);
  path->closed = closed;
  g_ptr_array_add (l->paths, path);
  drop_content (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
kp_review_overlay_add_point (KpReviewOverlay        *self,
                             guint                   layer,
                             const graphene_point_t *point)
{
  Layer *l;

  g_return_if_fail (KP_IS_REVIEW_OVERLAY (self));
  g_return_if_fail (point != NULL);

  if ((l = get_layer (self, layer)) == NULL)
    return;
  g_array_append_val (l->points, *point);
  drop_content (self);
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

/* ------------------------------------------------------------------ */
/* Composites                                                         */
/* ------------------------------------------------------------------ */

static void
composite_clear (KpReviewComposite *composite)
{
  g_clear_object (&composite->image);
  g_clear_object (&composite->texture);
  g_free (composite->visible);
}

void
kp_review_composite_unref (KpReviewComposite *composite)
{
  if (composite != NULL)
    g_atomic_rc_box_release_full (composite, (GDestroyNotify)composite_clear);
}

GdkTexture *
kp_review_composite_get_texture (KpReviewComposite *composite)
{
  g_return_val_if_fail (composite != NULL, NULL);
  return composite->texture;
}

static Layer *
layer_copy (Layer *layer)
{
  Layer *copy = layer_new (&layer->color);

  copy->visible = layer->visible;
  g_array_append_vals (copy->boxes, layer->boxes->data, layer->boxes->len);
  g_array_append_vals (copy->points, layer->points->data, layer->points->len);
  for (guint i = 0; i < layer->paths->len; i++)
    {
      Path *path = g_ptr_array_index (layer->paths, i);
      Path *p = g_new0 (Path, 1);

      p->points = g_array_copy (path->points);
      p->closed = path->closed;
      g_ptr_array_add (copy->paths, p);
    }
  return copy;
}

typedef struct
{
  KpReviewComposite *composite;
  GPtrArray         *layers;     /* copies: the overlay may change meanwhile */
  Layer             *consensus;
} Compose;

static void
compose_free (Compose *compose)
{
  kp_review_composite_unref (compose->composite);
  g_ptr_array_unref (compose->layers);
  layer_free (compose->consensus);
  g_free (compose);
}

/* In a worker: what the snapshot would draw at zoom 1, in device pixels. */
static void
compose_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  Compose *compose = task_data;
  KpReviewComposite *c = compose->composite;
  int iw = gdk_texture_get_width (c->image);
  int ih = gdk_texture_get_height (c->image);
  int sf = c->scale_factor;
  cairo_surface_t *image;
  cairo_surface_t *frame;
  cairo_pattern_t *pattern;
  cairo_t *cr;
  double scale, ox, oy;
  int pw, ph;
  GBytes *bytes;

  zoomed_transform (c->width, c->height, iw, ih, 1, 0, 0, &scale, &ox, &oy);
  if (!shapes_bounds (c->width, c->height, iw, ih, scale, ox, oy, &c->bounds))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "Nothing to compose");
      return;
    }
  pw = (int)ceil (c->bounds.size.width * sf);
  ph = (int)ceil (c->bounds.size.height * sf);
  c->bounds.size.width = (float)pw / sf;
  c->bounds.size.height = (float)ph / sf;

  image = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, iw, ih);
  gdk_texture_download (c->image, cairo_image_surface_get_data (image), cairo_image_surface_get_stride (image));
  cairo_surface_mark_dirty (image);
  if (g_task_return_error_if_cancelled (task))
    {
      cairo_surface_destroy (image);
      return;
    }

  frame = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, pw, ph);
  cr = cairo_create (frame);
  cairo_scale (cr, sf, sf);
  cairo_translate (cr, -c->bounds.origin.x, -c->bounds.origin.y);

  /* The image as a texture node draws it: scaled bilinearly into its
   * rectangle. */
  cairo_save (cr);
  cairo_rectangle (cr, ox, oy, iw * scale, ih * scale);
  cairo_clip (cr);
  cairo_translate (cr, ox, oy);
  cairo_scale (cr, scale, scale);
  pattern = cairo_pattern_create_for_surface (image);
  cairo_pattern_set_filter (pattern, CAIRO_FILTER_BILINEAR);
  cairo_pattern_set_extend (pattern, CAIRO_EXTEND_PAD);
  cairo_set_source (cr, pattern);
  cairo_paint (cr);
  cairo_pattern_destroy (pattern);
  cairo_restore (cr);
  cairo_surface_destroy (image);

  draw_shapes (cr, compose->layers, compose->consensus, scale, ox, oy);
  cairo_destroy (cr);
  cairo_surface_flush (frame);

  bytes = g_bytes_new_with_free_func (cairo_image_surface_get_data (frame),
                                      (gsize)cairo_image_surface_get_stride (frame) * ph,
                                      (GDestroyNotify)cairo_surface_destroy, frame);
  c->texture = gdk_memory_texture_new (pw, ph, GDK_MEMORY_DEFAULT, bytes,
                                       cairo_image_surface_get_stride (frame));
  g_bytes_unref (bytes);
  g_task_return_pointer (task, g_atomic_rc_box_acquire (c), (GDestroyNotify)kp_review_composite_unref);
}

void
kp_review_overlay_compose_async (KpReviewOverlay     *self,
                                 int                  width,
                                 int                  height,
                                 int                  scale_factor,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Compose *compose;
  KpReviewComposite *c;

  g_return_if_fail (KP_IS_REVIEW_OVERLAY (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kp_review_overlay_compose_async);
  /* Only a texture in memory can be read in a worker. */
  if (self->texture == NULL || !GDK_IS_MEMORY_TEXTURE (self->texture) || width <= 0 || height <= 0 ||
      scale_factor <= 0)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "Nothing to compose");
      return;
    }

  c = g_atomic_rc_box_new0 (KpReviewComposite);
  c->image = g_object_ref (self->texture);
  c->width = width;
  c->height = height;
  c->scale_factor = scale_factor;
  c->n_layers = self->layers->len;
  c->visible = g_new0 (gboolean, MAX (c->n_layers, 1));
  compose = g_new0 (Compose, 1);
  compose->composite = c;
  compose->layers = g_ptr_array_new_with_free_func ((GDestroyNotify)layer_free);
  for (guint i = 0; i < self->layers->len; i++)
    {
      Layer *layer = g_ptr_array_index (self->layers, i);

      c->visible[i] = layer->visible;
      g_ptr_array_add (compose->layers, layer_copy (layer));
    }
  compose->consensus = layer_copy (self->consensus);
  g_task_set_task_data (task, compose, (GDestroyNotify)compose_free);
  g_task_run_in_thread (task, compose_thread);
}

KpReviewComposite *
kp_review_overlay_compose_finish (KpReviewOverlay  *self,
                                  GAsyncResult     *result,
                                  GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
kp_review_overlay_set_composite (KpReviewOverlay   *self,
                                 KpReviewComposite *composite)
{
  g_return_if_fail (KP_IS_REVIEW_OVERLAY (self));

  if (composite == self->composite)
    return;
  g_clear_pointer (&self->composite, kp_review_composite_unref);
  if (composite != NULL)
    self->composite = g_atomic_rc_box_acquire (composite);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
kp_review_overlay_get_composited (KpReviewOverlay *self)
{
  g_return_val_if_fail (KP_IS_REVIEW_OVERLAY (self), FALSE);
  return self->composited;
}

/* A texture still has to reach the renderer: with GL, uploading it is
 * most of the frame that first shows it. Rendering it once into a single
 * pixel uploads it now; the renderer keeps the upload with the texture. */
void
kp_review_overlay_preload (KpReviewOverlay   *self,
                           KpReviewComposite *composite)
{
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) pixel = NULL;
  GtkNative *native;
  GskRenderer *renderer;

  g_return_if_fail (KP_IS_REVIEW_OVERLAY (self));
  g_return_if_fail (composite != NULL);

  native = gtk_widget_get_native (GTK_WIDGET (self));
  if (native == NULL || !gtk_widget_get_realized (GTK_WIDGET (self)))
    return;
  renderer = gtk_native_get_renderer (native);
  if (renderer == NULL || GSK_IS_CAIRO_RENDERER (renderer))
    return;
  node = gsk_texture_node_new (composite->texture, &GRAPHENE_RECT_INIT (0, 0, 1, 1));
  pixel = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, 1, 1));
}
