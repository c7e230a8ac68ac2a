/* kp-canvas.c: draws an image and its annotations; hosts the tools
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-canvas.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n.h>

#include "kp-box-tool.h"
#include "kp-canvas-private.h"

#define KP_CANVAS_WITHOUT_IMAGE_LAYER 1

/* From this scale up the image is drawn with nearest-neighbour filtering so
 * that image pixels show as crisp squares. */
#define PIXEL_EXACT_SCALE 4.0
/* Best fit never magnifies a small image beyond 100 %. */
#define FIT_MAX_SCALE 1.0
#define HANDLE_SIZE 9.0
#define LINE_WIDTH 2.0
#define SELECTED_LINE_WIDTH 3.0
#define FILL_ALPHA 0.15
/* Boxes smaller than this on screen get no caption. */
#define CAPTION_MIN_BOX 12.0
/* Level of detail: with more boxes than this in view, only the selected
 * box is filled, and only the selected box and the one under the pointer
 * get a caption (the colours still tell the labels apart). Hundreds of
 * overlapping tints and labels are clutter rather than information, and
 * drawing them is what a frame would spend its time on. */
#define CROWDED_BOXES 150
#define SPATIAL_CELL_SIZE 128.0
/* Pixels a wheel notch pans. */
#define WHEEL_PAN_STEP 64.0
/* The annotation layer is cached in tiles of this many widget pixels. */
#define TILE_SIZE 256
/* A tile with at most this many shapes is kept as colour nodes, which cost
 * the renderer only the edge pixels; a denser one becomes a texture. */
#define NODE_TILE_MAX 48
/* Tiles kept around the view, in each direction, for panning back. */
#define TILE_KEEP 2
/* Zoom to selection leaves this much room around the selection ... */
#define SELECTION_MARGIN 0.1
/* ... and never magnifies beyond this. */
#define SELECTION_MAX_SCALE 8.0
/* Kinetic scrolling: the speed halves every this many seconds. */
#define KINETIC_HALF_LIFE 0.12

typedef struct
{
  KpLabel       *label;
  GdkRGBA        color;
  GdkRGBA        fill;
  GskRenderNode *caption;       /* the text, drawn at (0, 0); lazily */
  double         caption_width;
  double         caption_height;
} LabelInfo;

/* The canvas's copy of what it needs per annotation: the drawing position
 * (1-based; stale while order_dirty) and the rectangle last indexed. */
typedef struct
{
  gint64 id;
  KpRect rect;
  guint  position;
} Entry;

/* A rectangle in device pixels of the layer (see "Drawing"). */
typedef struct
{
  int x0;
  int y0;
  int x1;
  int y1;
} DeviceBox;

/* One shape as drawn. */
typedef struct
{
  KpShape   shape;
  DeviceBox box;
  GdkRGBA   color;
  GdkRGBA   fill;
  int       line;               /* device pixels */
  guint     selected : 1;
} DrawItem;

/* The pixels of one tile, size x size, whose top-left is at (x, y). */
typedef struct
{
  guint32 *data;
  int      x;
  int      y;
  int      size;
} TilePixels;

typedef struct
{
  void (*fill_pixels)    (TilePixels     *pixels,
                          const DrawItem *item);
  void (*outline_pixels) (TilePixels     *pixels,
                          const DrawItem *item);
  /* clip: the tile's device pixels, or NULL */
  void (*fill_nodes)     (GtkSnapshot     *snapshot,
                          const DrawItem  *item,
                          const DeviceBox *clip,
                          int              scale_factor);
  void (*outline_nodes)  (GtkSnapshot     *snapshot,
                          const DrawItem  *item,
                          const DeviceBox *clip,
                          int              scale_factor);
  void (*handles_nodes)  (KpCanvas       *self,
                          GtkSnapshot    *snapshot,
                          const DrawItem *item);
} ShapeClass;

typedef struct
{
  gint64         key;           /* tile_key (tx, ty) */
  GArray        *items;         /* DrawItem, until rendered */
  GskRenderNode *node;          /* layer coordinates; NULL when empty */
  guint          n_centres;     /* shapes whose centre is in the tile */
  guint          crowded : 1;   /* drawn at the crowded level of detail */
} Tile;

struct _KpCanvas
{
  GtkWidget           parent_instance;

  GdkTexture         *texture;
  GdkTexture         *gamma_texture;    /* texture after the gamma LUT */
  GCancellable       *gamma_cancellable;
  cairo_surface_t    *nearest_surface;  /* the texture for cairo, lazily */
  KpDocument         *document;
  gulong              changed_handler;
  GHashTable         *labels;           /* gint64* -> LabelInfo* */

  /* Culling and picking */
  KpSpatialIndex     *index;
  GHashTable         *entries;          /* gint64* -> Entry* */

  /* The annotation layer (see "Drawing") */
  GHashTable         *tiles;            /* gint64* -> Tile* */
  GskRenderNode      *layer_node;       /* the visible tiles */
  int                 layer_tx0;
  int                 layer_ty0;
  int                 layer_tx1;
  int                 layer_ty1;
  double              tiles_scale;
  int                 tiles_scale_factor;
  GHashTable         *tiles_excluded;   /* gint64* set: ids the preview replaces */

  KpTool             *tool;
  GtkGesture         *drag;
  KpImageLayer       *image_layer;
  gulong              layer_handler;

  gint64              current_label_id;
  gint64              selected_id;      /* the last member of selection, or 0 */
  GArray             *selection;        /* gint64, in the order selected */
  GHashTable         *selection_set;    /* gint64* set, the same ids */
  KpView              view;
  double              brightness;
  double              contrast;
  double              gamma;

  GdkRGBA             bg_color;
  GdkRGBA             accent_color;
  GdkRGBA             handle_color;

  /* Input state */
  double              pointer_x;
  double              pointer_y;
  gint64              hover_id;
  KpView              pan_start_view;
  double              zoom_start_scale;
  const char         *cursor_name;
  guint               kinetic_id;
  double              kinetic_vx;       /* widget pixels per second */
  double              kinetic_vy;
  gint64              kinetic_time;

  guint               fit : 1;
  guint               show_captions : 1;
  guint               space_held : 1;
  guint               panning : 1;
  guint               pointer_inside : 1;
  guint               order_dirty : 1;
  guint               crowded : 1;
  guint               scroll_zoomed : 1;
  guint               show_crosshair : 1;
};

G_DEFINE_FINAL_TYPE (KpCanvas, kp_canvas, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_TEXTURE,
  PROP_DOCUMENT,
  PROP_CURRENT_LABEL_ID,
  PROP_SELECTED_ID,
  PROP_ZOOM,
  PROP_FIT,
  PROP_SHOW_CAPTIONS,
  PROP_BRIGHTNESS,
  PROP_CONTRAST,
  PROP_GAMMA,
  PROP_TOOL,
  PROP_SHOW_CROSSHAIR,
  PROP_IMAGE_LAYER,
  N_PROPS
};

enum {
  SIGNAL_ERROR,
  SIGNAL_SELECTION_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
label_info_free (gpointer data)
{
  LabelInfo *info = data;

  g_clear_pointer (&info->label, kp_label_free);
  g_clear_pointer (&info->caption, gsk_render_node_unref);
  g_free (info);
}

/* The tiled image layer is written alongside; until it links, the
 * canvas keeps the layer but cannot draw it. (Temporary.) */
#ifndef KP_CANVAS_WITHOUT_IMAGE_LAYER
# define LAYER_TYPE KP_TYPE_IMAGE_LAYER
# define LAYER_IS(l) KP_IS_IMAGE_LAYER (l)
# define layer_get_width kp_image_layer_get_width
# define layer_get_height kp_image_layer_get_height
# define layer_snapshot kp_image_layer_snapshot
# define layer_set_gamma kp_image_layer_set_gamma
#else
# define LAYER_TYPE G_TYPE_OBJECT
# define LAYER_IS(l) G_IS_OBJECT (l)
# define layer_get_width(l) 0
# define layer_get_height(l) 0
# define layer_snapshot(l, s, v, w, h, f, n) G_STMT_START { } G_STMT_END
# define layer_set_gamma(l, g) G_STMT_START { } G_STMT_END
#endif

static gint64 *
dup_id (gint64 id)
{
  return g_memdup2 (&id, sizeof id);
}

static gboolean
has_image (KpCanvas *self)
{
  return self->texture != NULL || self->image_layer != NULL;
}

static gboolean
has_size (KpCanvas *self)
{
  return gtk_widget_get_width (GTK_WIDGET (self)) > 0 &&
         gtk_widget_get_height (GTK_WIDGET (self)) > 0;
}

gboolean
_kp_canvas_get_image_size (KpCanvas *self,
                           double   *width,
                           double   *height)
{
  g_return_val_if_fail (KP_IS_CANVAS (self), FALSE);

  if (self->image_layer != NULL)
    {
      if (width != NULL)
        *width = layer_get_width (self->image_layer);
      if (height != NULL)
        *height = layer_get_height (self->image_layer);
      return TRUE;
    }

  if (self->texture == NULL)
    {
      if (width != NULL)
        *width = 0;
      if (height != NULL)
        *height = 0;
      return FALSE;
    }

  if (width != NULL)
    *width = gdk_texture_get_width (self->texture);
  if (height != NULL)
    *height = gdk_texture_get_height (self->texture);

  return TRUE;
}

KpTool *
_kp_canvas_get_tool (KpCanvas *self)
{
  g_return_val_if_fail (KP_IS_CANVAS (self), NULL);

  return self->tool;
}

void
_kp_canvas_emit_error (KpCanvas     *self,
                       const GError *error)
{
  g_return_if_fail (KP_IS_CANVAS (self));
  g_return_if_fail (error != NULL);

  g_signal_emit (self, signals[SIGNAL_ERROR], 0, error);
}

void
_kp_canvas_preview_changed (KpCanvas *self)
{
  g_return_if_fail (KP_IS_CANVAS (self));

  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void     sync_order            (KpCanvas     *self);
static GArray  *query_positions       (KpCanvas     *self,
                                       const KpRect *area);

static gboolean
is_hidden (KpCanvas *self,
           gint64    id)
{
  const KpAnnotation *annotation = kp_document_lookup (self->document, id);

  return annotation == NULL || (annotation->flags & KP_ANNOTATION_HIDDEN) != 0;
}

static guint    get_position          (KpCanvas     *self,
                                       gint64        id);
static void     clear_tiles           (KpCanvas     *self);
static void     validate_selection    (KpCanvas     *self,
                                       gint64        changed_id);
static void     update_cursor         (KpCanvas     *self);
static void     invalidate_image_rect (KpCanvas     *self,
                                       const KpRect *rect);

/* Through the spatial index: costs what is near the point, not what exists. */
gint64
_kp_canvas_pick (KpCanvas *self,
                 double    x,
                 double    y)
{
  g_autoptr(GArray) ids = NULL;
  KpRect area = { x, y, 0, 0 };
  guint best = 0;
  gint64 best_id = 0;

  g_return_val_if_fail (KP_IS_CANVAS (self), 0);

  if (self->document == NULL)
    return 0;

  sync_order (self);
  ids = kp_spatial_index_query (self->index, &area);

  for (guint i = 0; i < ids->len; i++)
    {
      const Entry *entry = g_hash_table_lookup (self->entries, &g_array_index (ids, gint64, i));

      if (entry != NULL && entry->position > best && kp_rect_contains (&entry->rect, x, y) &&
          !is_hidden (self, entry->id))
        {
          best = entry->position;
          best_id = entry->id;
        }
    }

  return best_id;
}

static int
compare_entry_position_desc (gconstpointer a,
                             gconstpointer b)
{
  const Entry *ea = *(const Entry **)a;
  const Entry *eb = *(const Entry **)b;

  return ea->position > eb->position ? -1 : ea->position < eb->position;
}

gint64
_kp_canvas_pick_shape (KpCanvas *self,
                       double    x,
                       double    y,
                       double    tolerance)
{
  g_autoptr(GArray) ids = NULL;
  g_autoptr(GPtrArray) candidates = NULL;
  KpRect area;

  g_return_val_if_fail (KP_IS_CANVAS (self), 0);

  if (self->document == NULL)
    return 0;

  tolerance = MAX (tolerance, 0);
  area = (KpRect) { x - tolerance, y - tolerance, 2 * tolerance, 2 * tolerance };

  sync_order (self);
  ids = kp_spatial_index_query (self->index, &area);
  candidates = g_ptr_array_sized_new (ids->len);
  for (guint i = 0; i < ids->len; i++)
    {
      Entry *entry = g_hash_table_lookup (self->entries, &g_array_index (ids, gint64, i));

      if (entry != NULL && entry->position > 0)
        g_ptr_array_add (candidates, entry);
    }
  g_ptr_array_sort (candidates, compare_entry_position_desc);

  /* Topmost first: the first real hit wins. */
  for (guint i = 0; i < candidates->len; i++)
    {
      const Entry *entry = g_ptr_array_index (candidates, i);
      const KpAnnotation *annotation = kp_document_lookup (self->document, entry->id);

      if (annotation == NULL || (annotation->flags & KP_ANNOTATION_HIDDEN) != 0)
        continue;
      if (kp_annotation_hit (annotation, x, y, tolerance))
        return annotation->id;
    }

  return 0;
}

void
_kp_canvas_query_rect (KpCanvas     *self,
                       const KpRect *rect,
                       gboolean      contained,
                       GArray       *ids)
{
  g_autoptr(GArray) positions = NULL;
  GPtrArray *annotations;

  g_return_if_fail (KP_IS_CANVAS (self));
  g_return_if_fail (rect != NULL);
  g_return_if_fail (ids != NULL);

  if (self->document == NULL)
    return;

  annotations = kp_document_get_annotations (self->document);
  positions = query_positions (self, rect);
  for (guint i = 0; i < positions->len; i++)
    {
      const KpAnnotation *annotation =
        g_ptr_array_index (annotations, g_array_index (positions, guint, i) - 1);
      const KpRect *r = &annotation->rect;

      if ((annotation->flags & KP_ANNOTATION_HIDDEN) != 0)
        continue;
      if (contained
          ? (r->x < rect->x || r->y < rect->y ||
             r->x + r->width > rect->x + rect->width ||
             r->y + r->height > rect->y + rect->height)
          : !kp_rect_intersects (r, rect))
        continue;

      g_array_append_val (ids, annotation->id);
    }
}

gboolean
_kp_canvas_get_pointer (KpCanvas *self,
                        double   *x,
                        double   *y)
{
  double ix, iy, width, height;

  g_return_val_if_fail (KP_IS_CANVAS (self), FALSE);

  if (!self->pointer_inside || !_kp_canvas_get_image_size (self, &width, &height))
    return FALSE;

  kp_view_widget_to_image (&self->view, self->pointer_x, self->pointer_y, &ix, &iy);
  if (x != NULL)
    *x = ix;
  if (y != NULL)
    *y = iy;

  return ix >= 0 && iy >= 0 && ix < width && iy < height;
}

/* Accessibility and action state */

static const char *
get_label_name (KpCanvas *self,
                gint64    label_id)
{
  LabelInfo *info = g_hash_table_lookup (self->labels, &label_id);

  return info != NULL ? info->label->name : NULL;
}

static void
update_accessible (KpCanvas *self)
{
  g_autofree char *boxes = NULL;
  g_autofree char *description = NULL;
  guint n = 0;

  if (!has_image (self))
    {
      gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, _("No image"),
                                      -1);
      return;
    }

  if (self->document != NULL)
    n = kp_document_get_annotations (self->document)->len;

  boxes = g_strdup_printf (ngettext ("Image, %u box", "Image, %u boxes", n), n);

  if (self->selected_id != 0 && self->document != NULL)
    {
      const KpAnnotation *selected = kp_document_lookup (self->document, self->selected_id);
      const char *name = selected != NULL ? get_label_name (self, selected->label_id) : NULL;

      /* Translators: the first %s is "Image, N boxes", the second a label name */
      description = g_strdup_printf (_("%s, selected: %s"), boxes,
                                     name != NULL ? name : _("unlabelled box"));
    }
  else
    {
      description = g_steal_pointer (&boxes);
    }

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description,
                                  -1);
}

static void
update_actions (KpCanvas *self)
{
  gboolean has_annotations = self->document != NULL &&
                             kp_document_get_annotations (self->document)->len > 0;
  gboolean image = has_image (self);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "annotation.delete", self->selected_id != 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "annotation.next", has_annotations);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "annotation.previous", has_annotations);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "canvas.zoom-in", image);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "canvas.zoom-out", image);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "canvas.zoom-fit", image);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "canvas.zoom-100", image);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "canvas.zoom-selection",
                                 image && self->selected_id != 0);
}

/* The view */

static void
apply_view (KpCanvas     *self,
            KpView        view,
            gboolean      fit)
{
  double old_scale = self->view.scale;
  double image_width, image_height;
  gboolean fit_changed = (self->fit != !!fit);

  if (_kp_canvas_get_image_size (self, &image_width, &image_height) && has_size (self))
    view = kp_view_clamp_pan (view, image_width, image_height,
                              gtk_widget_get_width (GTK_WIDGET (self)),
                              gtk_widget_get_height (GTK_WIDGET (self)));

  self->view = view;
  self->fit = !!fit;

  gtk_widget_queue_draw (GTK_WIDGET (self));

  if (old_scale != view.scale)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ZOOM]);
  if (fit_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FIT]);
}

static void
refit (KpCanvas *self)
{
  double image_width, image_height;

  if (!_kp_canvas_get_image_size (self, &image_width, &image_height) || !has_size (self))
    {
      if (!self->fit)
        {
          self->fit = TRUE;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FIT]);
        }
      return;
    }

  apply_view (self,
              kp_view_fit (image_width, image_height,
                           gtk_widget_get_width (GTK_WIDGET (self)),
                           gtk_widget_get_height (GTK_WIDGET (self)),
                           FIT_MAX_SCALE),
              TRUE);
}

static void
get_zoom_anchor (KpCanvas *self,
                 double   *x,
                 double   *y)
{
  if (self->pointer_inside)
    {
      *x = self->pointer_x;
      *y = self->pointer_y;
    }
  else
    {
      *x = gtk_widget_get_width (GTK_WIDGET (self)) / 2.0;
      *y = gtk_widget_get_height (GTK_WIDGET (self)) / 2.0;
    }
}

static void
zoom_at (KpCanvas *self,
         double    scale,
         double    anchor_x,
         double    anchor_y)
{
  apply_view (self, kp_view_zoom_at (self->view, scale, anchor_x, anchor_y), FALSE);
}

static void
pan_by (KpCanvas *self,
        double    dx,
        double    dy)
{
  KpView view = self->view;

  view.offset_x += dx;
  view.offset_y += dy;
  apply_view (self, view, FALSE);
}

/* Annotations: an incremental mirror of the document (drawing position and
 * last known rectangle per id) plus the spatial index. Each "changed" signal
 * updates one entry; only a change of many (id 0) rebuilds. */

static void
sync_order (KpCanvas *self)
{
  GPtrArray *annotations;

  if (!self->order_dirty)
    return;

  self->order_dirty = FALSE;
  if (self->document == NULL)
    return;

  annotations = kp_document_get_annotations (self->document);
  for (guint i = 0; i < annotations->len; i++)
    {
      const KpAnnotation *annotation = g_ptr_array_index (annotations, i);
      Entry *entry = g_hash_table_lookup (self->entries, &annotation->id);

      if (entry != NULL)
        entry->position = i + 1;
    }
}

static guint
get_position (KpCanvas *self,
              gint64    id)
{
  Entry *entry;

  sync_order (self);
  entry = g_hash_table_lookup (self->entries, &id);

  return entry != NULL ? entry->position : 0;
}

static Entry *
add_entry (KpCanvas           *self,
           const KpAnnotation *annotation,
           guint               position)
{
  Entry *entry = g_new0 (Entry, 1);

  entry->id = annotation->id;
  entry->rect = annotation->rect;
  entry->position = position;
  g_hash_table_insert (self->entries, &entry->id, entry);
  kp_spatial_index_insert (self->index, annotation->id, &annotation->rect);

  return entry;
}

static void
rebuild_index (KpCanvas *self)
{
  GPtrArray *annotations;

  kp_spatial_index_clear (self->index);
  g_hash_table_remove_all (self->entries);
  self->order_dirty = FALSE;
  clear_tiles (self);

  if (self->document == NULL)
    return;

  annotations = kp_document_get_annotations (self->document);
  for (guint i = 0; i < annotations->len; i++)
    add_entry (self, g_ptr_array_index (annotations, i), i + 1);
}

/* One annotation changed: it was added, modified or removed. */
static void
update_entry (KpCanvas *self,
              gint64    id)
{
  GPtrArray *annotations = kp_document_get_annotations (self->document);
  const KpAnnotation *annotation = kp_document_lookup (self->document, id);
  Entry *entry = g_hash_table_lookup (self->entries, &id);

  if (entry != NULL)
    invalidate_image_rect (self, &entry->rect);

  if (annotation == NULL)
    {
      if (entry != NULL)
        {
          kp_spatial_index_remove (self->index, id);
          g_hash_table_remove (self->entries, &id);
          /* Everything drawn after it moved down one place. */
          self->order_dirty = TRUE;
        }
      return;
    }

  if (entry == NULL)
    {
      guint n = annotations->len;

      /* New boxes go on top; anything else (an undone removal) renumbers. */
      if (n > 0 && g_ptr_array_index (annotations, n - 1) == annotation)
        add_entry (self, annotation, n);
      else
        {
          add_entry (self, annotation, 0);
          self->order_dirty = TRUE;
        }
    }
  else
    {
      if (memcmp (&entry->rect, &annotation->rect, sizeof (KpRect)) != 0)
        {
          kp_spatial_index_remove (self->index, id);
          kp_spatial_index_insert (self->index, id, &annotation->rect);
          entry->rect = annotation->rect;
        }
    }

  invalidate_image_rect (self, &annotation->rect);
}

static void
document_changed_cb (KpCanvas   *self,
                     gint64      annotation_id,
                     KpDocument *document)
{
  gint64 preview_id = 0;
  KpRect preview_rect;

  g_assert (KP_IS_CANVAS (self));
  g_assert (KP_IS_DOCUMENT (document));

  if (annotation_id == 0)
    rebuild_index (self);
  else
    update_entry (self, annotation_id);

  /* An undo may take away the box a gesture is working on. */
  if (kp_tool_get_preview (self->tool, &preview_id, &preview_rect) &&
      preview_id != 0 &&
      kp_document_lookup (document, preview_id) == NULL)
    kp_tool_cancel (self->tool);

  validate_selection (self, annotation_id);
  if (self->tool != NULL)
    kp_tool_canvas_changed (self->tool);

  update_actions (self);
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* Drawing
 *
 * The annotations are drawn into a "layer": image coordinates times the
 * view's scale, in device pixels, with the image origin at (0, 0). The layer
 * is cut into TILE_SIZE tiles, each cached as a render node: a few colour
 * nodes when the tile holds few shapes, else one texture whose pixels are
 * written directly (thousands of boxes then cost the renderer one texture,
 * and tiny boxes at low zoom become a pixel or two each: the aggregate).
 * A frame appends the cached container of the visible tiles, translated by
 * the view offset snapped to device pixels, so panning redraws nothing.
 * An edit re-renders only the tiles under the old and new bounds. Whatever
 * follows the pointer (the shape a gesture is changing, handles, captions)
 * is a small overlay built every frame. */

static LabelInfo *
lookup_label (KpCanvas *self,
              gint64    label_id)
{
  return g_hash_table_lookup (self->labels, &label_id);
}

static int
get_scale_factor (KpCanvas *self)
{
  return MAX (1, gtk_widget_get_scale_factor (GTK_WIDGET (self)));
}

/* Where the layer's origin is drawn: the view offset on a device pixel, so
 * that cached pixels land on whole pixels. */
static void
get_layer_origin (KpCanvas *self,
                  double   *x,
                  double   *y)
{
  int sf = get_scale_factor (self);

  *x = round (self->view.offset_x * sf) / sf;
  *y = round (self->view.offset_y * sf) / sf;
}

static DeviceBox
device_box (double        scale,
            int           sf,
            const KpRect *rect)
{
  double s = scale * sf;
  DeviceBox box;

  box.x0 = (int)round (rect->x * s);
  box.y0 = (int)round (rect->y * s);
  box.x1 = (int)round ((rect->x + rect->width) * s);
  box.y1 = (int)round ((rect->y + rect->height) * s);
  box.x1 = MAX (box.x1, box.x0 + sf);
  box.y1 = MAX (box.y1, box.y0 + sf);

  return box;
}

static graphene_rect_t
layer_rect (const DeviceBox *box,
            int              sf)
{
  return GRAPHENE_RECT_INIT ((float)box->x0 / sf, (float)box->y0 / sf,
                             (float)(box->x1 - box->x0) / sf, (float)(box->y1 - box->y0) / sf);
}

/* The rectangle as drawn, in widget coordinates. */
static graphene_rect_t
widget_rect (KpCanvas     *self,
             const KpRect *rect)
{
  int sf = get_scale_factor (self);
  DeviceBox box = device_box (self->view.scale, sf, rect);
  graphene_rect_t r = layer_rect (&box, sf);
  double ox, oy;

  get_layer_origin (self, &ox, &oy);
  r.origin.x += ox;
  r.origin.y += oy;

  return r;
}

static void
init_item (KpCanvas     *self,
           DrawItem     *item,
           KpShape       shape,
           const KpRect *rect,
           gint64        label_id,
           gboolean      selected)
{
  int sf = get_scale_factor (self);
  LabelInfo *info = lookup_label (self, label_id);

  item->shape = shape;
  item->box = device_box (self->view.scale, sf, rect);
  item->color = info != NULL ? info->color : self->accent_color;
  if (info != NULL)
    item->fill = info->fill;
  else
    {
      item->fill = item->color;
      item->fill.alpha *= FILL_ALPHA;
    }
  item->line = (int)((selected ? SELECTED_LINE_WIDTH : LINE_WIDTH) * sf);
  item->selected = !!selected;
}

/* Pixels of a tile: cairo's ARGB32, premultiplied, native endian. */

static guint32
premultiply (const GdkRGBA *color)
{
  double a = CLAMP (color->alpha, 0, 1);

  return ((guint32)(a * 255 + 0.5) << 24) |
         ((guint32)(CLAMP (color->red, 0, 1) * a * 255 + 0.5) << 16) |
         ((guint32)(CLAMP (color->green, 0, 1) * a * 255 + 0.5) << 8) |
         (guint32)(CLAMP (color->blue, 0, 1) * a * 255 + 0.5);
}

static inline guint32
scale_channels (guint32 pixel,
                guint32 factor)
{
  /* Two channels at a time, each multiplied by factor / 255. */
  guint32 rb = (pixel & 0x00ff00ff) * factor + 0x00800080;
  guint32 ag = ((pixel >> 8) & 0x00ff00ff) * factor + 0x00800080;

  rb = ((rb + ((rb >> 8) & 0x00ff00ff)) >> 8) & 0x00ff00ff;
  ag = (ag + ((ag >> 8) & 0x00ff00ff)) & 0xff00ff00;

  return rb | ag;
}

static void
pixels_fill (TilePixels    *pixels,
             int            x0,
             int            y0,
             int            x1,
             int            y1,
             const GdkRGBA *color)
{
  guint32 src = premultiply (color);
  guint32 inverse = 255 - (src >> 24);

  x0 = MAX (x0 - pixels->x, 0);
  y0 = MAX (y0 - pixels->y, 0);
  x1 = MIN (x1 - pixels->x, pixels->size);
  y1 = MIN (y1 - pixels->y, pixels->size);
  if (x0 >= x1 || y0 >= y1 || src == 0)
    return;

  for (int y = y0; y < y1; y++)
    {
      guint32 *row = pixels->data + (gsize)y * pixels->size;

      if (inverse == 0)
        for (int x = x0; x < x1; x++)
          row[x] = src;
      else
        for (int x = x0; x < x1; x++)
          row[x] = src + scale_channels (row[x], inverse);
    }
}

/* Shapes. Each kind draws itself into a tile's pixels, as nodes (tiles with
 * few shapes, and the overlay), and knows its handles. Fills come in one
 * pass and outlines in a second, so that outlines stay visible above every
 * fill. */

static void
box_fill_pixels (TilePixels     *pixels,
                 const DrawItem *item)
{
  pixels_fill (pixels, item->box.x0, item->box.y0, item->box.x1, item->box.y1, &item->fill);
}

static void
box_outline_pixels (TilePixels     *pixels,
                    const DrawItem *item)
{
  const DeviceBox *b = &item->box;
  int line = item->line;

  if (b->x1 - b->x0 <= 2 * line || b->y1 - b->y0 <= 2 * line)
    {
      pixels_fill (pixels, b->x0, b->y0, b->x1, b->y1, &item->color);
      return;
    }

  pixels_fill (pixels, b->x0, b->y0, b->x1, b->y0 + line, &item->color);
  pixels_fill (pixels, b->x0, b->y1 - line, b->x1, b->y1, &item->color);
  pixels_fill (pixels, b->x0, b->y0 + line, b->x0 + line, b->y1 - line, &item->color);
  pixels_fill (pixels, b->x1 - line, b->y0 + line, b->x1, b->y1 - line, &item->color);
}

/* A device-pixel rectangle as a colour node, cut to clip (or not, when
 * clip is NULL). Cutting beats a clip node: the renderer would shade the
 * whole rectangle in every tile it spans and throw most of it away. */
static void
append_device_rect (GtkSnapshot     *snapshot,
                    const GdkRGBA   *color,
                    int              x0,
                    int              y0,
                    int              x1,
                    int              y1,
                    const DeviceBox *clip,
                    int              sf)
{
  if (clip != NULL)
    {
      x0 = MAX (x0, clip->x0);
      y0 = MAX (y0, clip->y0);
      x1 = MIN (x1, clip->x1);
      y1 = MIN (y1, clip->y1);
    }
  if (x0 >= x1 || y0 >= y1)
    return;

  gtk_snapshot_append_color (snapshot, color,
                             &GRAPHENE_RECT_INIT ((float)x0 / sf, (float)y0 / sf,
                                                  (float)(x1 - x0) / sf, (float)(y1 - y0) / sf));
}

static void
box_fill_nodes (GtkSnapshot     *snapshot,
                const DrawItem  *item,
                const DeviceBox *clip,
                int              sf)
{
  const DeviceBox *b = &item->box;

  append_device_rect (snapshot, &item->fill, b->x0, b->y0, b->x1, b->y1, clip, sf);
}

static void
box_outline_nodes (GtkSnapshot     *snapshot,
                   const DrawItem  *item,
                   const DeviceBox *clip,
                   int              sf)
{
  const DeviceBox *b = &item->box;
  const GdkRGBA *color = &item->color;
  int line = item->line;

  /* Four colour nodes rather than a border node: the renderer batches
   * them and shades only the edge pixels, where a border node shades the
   * whole box area. */
  if (b->x1 - b->x0 <= 2 * line || b->y1 - b->y0 <= 2 * line)
    {
      append_device_rect (snapshot, color, b->x0, b->y0, b->x1, b->y1, clip, sf);
      return;
    }

  append_device_rect (snapshot, color, b->x0, b->y0, b->x1, b->y0 + line, clip, sf);
  append_device_rect (snapshot, color, b->x0, b->y1 - line, b->x1, b->y1, clip, sf);
  append_device_rect (snapshot, color, b->x0, b->y0 + line, b->x0 + line, b->y1 - line, clip, sf);
  append_device_rect (snapshot, color, b->x1 - line, b->y0 + line, b->x1, b->y1 - line, clip, sf);
}

static void
box_handles_nodes (KpCanvas       *self,
                   GtkSnapshot    *snapshot,
                   const DrawItem *item)
{
  int sf = get_scale_factor (self);
  graphene_rect_t r = layer_rect (&item->box, sf);
  double xs[3] = { r.origin.x, r.origin.x + r.size.width / 2, r.origin.x + r.size.width };
  double ys[3] = { r.origin.y, r.origin.y + r.size.height / 2, r.origin.y + r.size.height };
  double half = floor (HANDLE_SIZE / 2);

  for (guint j = 0; j < 3; j++)
    for (guint i = 0; i < 3; i++)
      {
        double cx, cy;

        if (i == 1 && j == 1)
          continue;

        cx = round (xs[i] * sf) / sf;
        cy = round (ys[j] * sf) / sf;
        gtk_snapshot_append_color (snapshot, &item->color,
                                   &GRAPHENE_RECT_INIT (cx - half, cy - half,
                                                        HANDLE_SIZE, HANDLE_SIZE));
        gtk_snapshot_append_color (snapshot, &self->handle_color,
                                   &GRAPHENE_RECT_INIT (cx - half + 2, cy - half + 2,
                                                        HANDLE_SIZE - 4, HANDLE_SIZE - 4));
      }
}

static const ShapeClass shape_classes[] = {
  [KP_SHAPE_BOX] = {
    box_fill_pixels,
    box_outline_pixels,
    box_fill_nodes,
    box_outline_nodes,
    box_handles_nodes,
  },
};

static const ShapeClass *
get_shape_class (KpShape shape)
{
  if ((guint)shape >= G_N_ELEMENTS (shape_classes) || shape_classes[shape].fill_pixels == NULL)
    return &shape_classes[KP_SHAPE_BOX];

  return &shape_classes[shape];
}

/* Tiles */

static gint64
tile_key (int tx,
          int ty)
{
  return ((gint64)tx << 32) | (guint32)ty;
}

static void
tile_free (gpointer data)
{
  Tile *tile = data;

  g_clear_pointer (&tile->node, gsk_render_node_unref);
  g_clear_pointer (&tile->items, g_array_unref);
  g_free (tile);
}

static void
clear_tiles (KpCanvas *self)
{
  g_hash_table_remove_all (self->tiles);
  g_clear_pointer (&self->layer_node, gsk_render_node_unref);
}

/* Drops the tiles under rect (image coordinates) at the cached scale. */
static void
invalidate_image_rect (KpCanvas     *self,
                       const KpRect *rect)
{
  int sf = self->tiles_scale_factor;
  int size = TILE_SIZE * sf;
  DeviceBox box;

  if (g_hash_table_size (self->tiles) == 0 || sf == 0)
    return;

  box = device_box (self->tiles_scale, sf, rect);
  for (int ty = (box.y0 - 1) / size - (box.y0 - 1 < 0); ty <= (box.y1 + 1) / size; ty++)
    for (int tx = (box.x0 - 1) / size - (box.x0 - 1 < 0); tx <= (box.x1 + 1) / size; tx++)
      {
        gint64 key = tile_key (tx, ty);

        if (g_hash_table_remove (self->tiles, &key))
          g_clear_pointer (&self->layer_node, gsk_render_node_unref);
      }
}

static void
invalidate_annotation (KpCanvas *self,
                       gint64    id)
{
  Entry *entry;

  if (id == 0)
    return;

  entry = g_hash_table_lookup (self->entries, &id);
  if (entry != NULL)
    invalidate_image_rect (self, &entry->rect);
}

static int
compare_uint (gconstpointer a,
              gconstpointer b)
{
  guint ua = *(const guint *)a;
  guint ub = *(const guint *)b;

  return ua < ub ? -1 : ua > ub;
}

/* The annotations in drawing order whose rectangles meet area. */
static GArray *
query_positions (KpCanvas     *self,
                 const KpRect *area)
{
  g_autoptr(GArray) ids = kp_spatial_index_query (self->index, area);
  GArray *positions = g_array_sized_new (FALSE, FALSE, sizeof (guint), ids->len);
  guint n = kp_document_get_annotations (self->document)->len;

  sync_order (self);
  for (guint i = 0; i < ids->len; i++)
    {
      Entry *entry = g_hash_table_lookup (self->entries, &g_array_index (ids, gint64, i));

      if (entry != NULL && entry->position > 0 && entry->position <= n)
        g_array_append_val (positions, entry->position);
    }
  g_array_sort (positions, compare_uint);

  return positions;
}

static Tile *
tile_new (int tx,
          int ty)
{
  Tile *tile = g_new0 (Tile, 1);

  tile->key = tile_key (tx, ty);
  tile->items = g_array_new (FALSE, FALSE, sizeof (DrawItem));

  return tile;
}

static int
tile_x (const Tile *tile)
{
  return (int)(tile->key >> 32);
}

static int
tile_y (const Tile *tile)
{
  return (int)(gint32)(tile->key & 0xffffffff);
}

/* Fills the new tiles in grid (columns tx0.., rows ty0.., NULL where a
 * tile is not wanted) with what they show, in drawing order: one query of
 * the spatial index for all of them, each shape handed to the tiles it
 * meets. */
static void
collect_tiles (KpCanvas  *self,
               Tile     **grid,
               int        tx0,
               int        ty0,
               int        columns,
               int        rows)
{
  int sf = get_scale_factor (self);
  double scale = self->view.scale;
  int size = TILE_SIZE * sf;
  g_autoptr(GArray) positions = NULL;
  GPtrArray *annotations;
  double image_width, image_height;
  gboolean scan;
  KpRect area;

  if (self->document == NULL)
    return;

  /* A pixel of slack for the rounding to device pixels. */
  area.x = (tx0 * size - 1.0) / (scale * sf);
  area.y = (ty0 * size - 1.0) / (scale * sf);
  area.width = (columns * size + 2.0) / (scale * sf);
  area.height = (rows * size + 2.0) / (scale * sf);

  annotations = kp_document_get_annotations (self->document);

  /* When the tiles cover most of the image, most shapes are in them:
   * walking the drawing order beats querying and sorting. */
  _kp_canvas_get_image_size (self, &image_width, &image_height);
  scan = area.width * area.height >= 0.5 * image_width * image_height;
  if (!scan)
    positions = query_positions (self, &area);

  for (guint i = 0; i < (scan ? annotations->len : positions->len); i++)
    {
      const KpAnnotation *annotation;
      DrawItem item;
      int cx, cy, c0, c1, r0, r1;

      if (scan)
        {
          annotation = g_ptr_array_index (annotations, i);
          if (!kp_rect_intersects (&annotation->rect, &area))
            continue;
        }
      else
        {
          annotation = g_ptr_array_index (annotations, g_array_index (positions, guint, i) - 1);
        }

      if ((annotation->flags & KP_ANNOTATION_HIDDEN) != 0 ||
          g_hash_table_contains (self->tiles_excluded, &annotation->id))
        continue;

      init_item (self, &item, annotation->shape, &annotation->rect, annotation->label_id,
                 g_hash_table_contains (self->selection_set, &annotation->id));

      /* Each box counts in one tile only: the one holding its centre. */
      cx = (item.box.x0 + item.box.x1) / 2;
      cy = (item.box.y0 + item.box.y1) / 2;

      c0 = MAX ((int)floor ((double)item.box.x0 / size) - tx0, 0);
      c1 = MIN ((int)floor ((double)(item.box.x1 - 1) / size) - tx0, columns - 1);
      r0 = MAX ((int)floor ((double)item.box.y0 / size) - ty0, 0);
      r1 = MIN ((int)floor ((double)(item.box.y1 - 1) / size) - ty0, rows - 1);

      for (int r = r0; r <= r1; r++)
        for (int c = c0; c <= c1; c++)
          {
            Tile *tile = grid[r * columns + c];
            int x0 = (tx0 + c) * size;
            int y0 = (ty0 + r) * size;

            if (tile == NULL)
              continue;

            g_array_append_val (tile->items, item);
            if (cx >= x0 && cx < x0 + size && cy >= y0 && cy < y0 + size)
              tile->n_centres++;
          }
    }
}

/* Rendering a dense tile's pixels touches nothing but the job, so the
 * tiles of a frame are shared among the processors. */
typedef struct
{
  Tile       *tile;
  TilePixels  pixels;
  gboolean    crowded;
} TileJob;

static GMutex jobs_mutex;
static GCond jobs_cond;
static guint jobs_pending;      /* only the main thread renders frames */

static void
render_pixels (TileJob *job)
{
  GArray *items = job->tile->items;

  for (guint i = 0; i < items->len; i++)
    {
      const DrawItem *item = &g_array_index (items, DrawItem, i);

      if (item->selected || !job->crowded)
        get_shape_class (item->shape)->fill_pixels (&job->pixels, item);
    }
  for (guint i = 0; i < items->len; i++)
    {
      const DrawItem *item = &g_array_index (items, DrawItem, i);

      get_shape_class (item->shape)->outline_pixels (&job->pixels, item);
    }
}

static void
render_pixels_thread (gpointer data,
                      gpointer user_data)
{
  TileJob *job = data;

  render_pixels (job);

  g_mutex_lock (&jobs_mutex);
  jobs_pending--;
  g_cond_signal (&jobs_cond);
  g_mutex_unlock (&jobs_mutex);
}

static void
finish_tile (Tile       *tile,
             TilePixels *pixels)
{
  int size = pixels->size;
  graphene_rect_t bounds = GRAPHENE_RECT_INIT (tile_x (tile) * TILE_SIZE, tile_y (tile) * TILE_SIZE,
                                               TILE_SIZE, TILE_SIZE);
  g_autoptr(GBytes) bytes = g_bytes_new_take (g_steal_pointer (&pixels->data), (gsize)size * size * 4);
  g_autoptr(GdkTexture) texture = gdk_memory_texture_new (size, size, GDK_MEMORY_DEFAULT,
                                                          bytes, (gsize)size * 4);

  tile->node = gsk_texture_node_new (texture, &bounds);
}

/* A sparse tile as colour nodes, cut to the tile. */
static void
render_nodes (KpCanvas *self,
              Tile     *tile,
              gboolean  crowded)
{
  int sf = get_scale_factor (self);
  int size = TILE_SIZE * sf;
  DeviceBox clip = { tile_x (tile) * size, tile_y (tile) * size,
                     (tile_x (tile) + 1) * size, (tile_y (tile) + 1) * size };
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  GArray *items = tile->items;

  for (guint i = 0; i < items->len; i++)
    {
      const DrawItem *item = &g_array_index (items, DrawItem, i);

      if (item->selected || !crowded)
        get_shape_class (item->shape)->fill_nodes (snapshot, item, &clip, sf);
    }
  for (guint i = 0; i < items->len; i++)
    {
      const DrawItem *item = &g_array_index (items, DrawItem, i);

      get_shape_class (item->shape)->outline_nodes (snapshot, item, &clip, sf);
    }
  tile->node = gtk_snapshot_free_to_node (snapshot);
}

/* Renders the tiles that were collected but not drawn yet. */
static void
render_tiles (KpCanvas  *self,
              GPtrArray *tiles,
              gboolean   crowded)
{
  static GThreadPool *pool;
  int size = TILE_SIZE * get_scale_factor (self);
  g_autoptr(GArray) jobs = g_array_new (FALSE, TRUE, sizeof (TileJob));

  for (guint i = 0; i < tiles->len; i++)
    {
      Tile *tile = g_ptr_array_index (tiles, i);

      tile->crowded = !!crowded;
      if (tile->items->len == 0)
        continue;

      if (tile->items->len <= NODE_TILE_MAX)
        render_nodes (self, tile, crowded);
      else
        {
          TileJob job = { tile, { NULL, tile_x (tile) * size, tile_y (tile) * size, size }, crowded };

          job.pixels.data = g_malloc0 ((gsize)size * size * 4);
          g_array_append_val (jobs, job);
        }
    }

  if (jobs->len > 1 && g_get_num_processors () > 1)
    {
      if (g_once_init_enter (&pool))
        g_once_init_leave (&pool, g_thread_pool_new (render_pixels_thread, NULL,
                                                     g_get_num_processors (), FALSE, NULL));

      g_mutex_lock (&jobs_mutex);
      jobs_pending = jobs->len - 1;
      g_mutex_unlock (&jobs_mutex);
      for (guint i = 1; i < jobs->len; i++)
        g_thread_pool_push (pool, &g_array_index (jobs, TileJob, i), NULL);
      render_pixels (&g_array_index (jobs, TileJob, 0));
      g_mutex_lock (&jobs_mutex);
      while (jobs_pending > 0)
        g_cond_wait (&jobs_cond, &jobs_mutex);
      g_mutex_unlock (&jobs_mutex);
    }
  else
    {
      for (guint i = 0; i < jobs->len; i++)
        render_pixels (&g_array_index (jobs, TileJob, i));
    }

  for (guint i = 0; i < jobs->len; i++)
    {
      TileJob *job = &g_array_index (jobs, TileJob, i);

      finish_tile (job->tile, &job->pixels);
    }

  for (guint i = 0; i < tiles->len; i++)
    g_clear_pointer (&((Tile *)g_ptr_array_index (tiles, i))->items, g_array_unref);
}

/* Starts over when what the tiles were drawn for changed: the scale or
 * the screen. The objects a gesture's preview replaces leave the tiles
 * when the gesture starts and come back when it ends: their tiles are
 * drawn again then, and not on the frames in between. (Selection changes
 * invalidate their own tiles.) */
static void
sync_tiles (KpCanvas *self)
{
  int sf = get_scale_factor (self);
  const KpAnnotation * const *previews;
  guint n_previews = 0;
  GHashTableIter iter;
  gint64 *id;
  guint n_wanted = 0;

  if (self->tiles_scale != self->view.scale || self->tiles_scale_factor != sf)
    {
      clear_tiles (self);
      self->tiles_scale = self->view.scale;
      self->tiles_scale_factor = sf;
    }

  previews = kp_tool_get_preview_annotations (self->tool, &n_previews);
  for (guint i = 0; i < n_previews; i++)
    if (previews[i]->id != 0)
      {
        n_wanted++;
        if (!g_hash_table_contains (self->tiles_excluded, &previews[i]->id))
          {
            invalidate_annotation (self, previews[i]->id);
            g_hash_table_add (self->tiles_excluded, dup_id (previews[i]->id));
          }
      }

  if (g_hash_table_size (self->tiles_excluded) == n_wanted)
    return;

  /* Some excluded object is no longer in the preview. */
  g_hash_table_iter_init (&iter, self->tiles_excluded);
  while (g_hash_table_iter_next (&iter, (gpointer *)&id, NULL))
    {
      gboolean wanted = FALSE;

      for (guint i = 0; i < n_previews && !wanted; i++)
        wanted = previews[i]->id == *id;
      if (!wanted)
        {
          invalidate_annotation (self, *id);
          g_hash_table_iter_remove (&iter);
        }
    }
}

/* The tiles that meet the widget, within the image. */
static gboolean
get_tile_range (KpCanvas *self,
                double    width,
                double    height,
                int      *tx0,
                int      *ty0,
                int      *tx1,
                int      *ty1)
{
  double image_width, image_height;
  double ox, oy;
  double x0, y0, x1, y1;

  _kp_canvas_get_image_size (self, &image_width, &image_height);
  get_layer_origin (self, &ox, &oy);

  x0 = MAX (-ox, 0);
  y0 = MAX (-oy, 0);
  x1 = MIN (width - ox, image_width * self->view.scale);
  y1 = MIN (height - oy, image_height * self->view.scale);
  if (x1 <= x0 || y1 <= y0)
    return FALSE;

  *tx0 = (int)floor (x0 / TILE_SIZE);
  *ty0 = (int)floor (y0 / TILE_SIZE);
  *tx1 = (int)ceil (x1 / TILE_SIZE) - 1;
  *ty1 = (int)ceil (y1 / TILE_SIZE) - 1;

  return TRUE;
}

/* Keeps the cache near the view. */
static void
evict_tiles (KpCanvas *self,
             int       tx0,
             int       ty0,
             int       tx1,
             int       ty1)
{
  GHashTableIter iter;
  Tile *tile;

  if (g_hash_table_size (self->tiles) <= (guint)((tx1 - tx0 + 1 + 2 * TILE_KEEP) * (ty1 - ty0 + 1 + 2 * TILE_KEEP)))
    return;

  g_hash_table_iter_init (&iter, self->tiles);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&tile))
    {
      int tx = (int)(tile->key >> 32);
      int ty = (int)(gint32)(tile->key & 0xffffffff);

      if (tx < tx0 - TILE_KEEP || tx > tx1 + TILE_KEEP ||
          ty < ty0 - TILE_KEEP || ty > ty1 + TILE_KEEP)
        g_hash_table_iter_remove (&iter);
    }
}

/* The annotation layer for the current view, rendering only missing tiles. */
static GskRenderNode *
ensure_layer (KpCanvas *self,
              double    width,
              double    height)
{
  g_autoptr(GPtrArray) nodes = NULL;
  GPtrArray *fresh;
  Tile **grid;
  int tx0, ty0, tx1, ty1;
  int columns, rows;
  guint total;
  gboolean crowded;

  sync_tiles (self);

  if (self->document == NULL || !get_tile_range (self, width, height, &tx0, &ty0, &tx1, &ty1))
    return NULL;

  if (self->layer_node != NULL &&
      self->layer_tx0 == tx0 && self->layer_ty0 == ty0 &&
      self->layer_tx1 == tx1 && self->layer_ty1 == ty1)
    return self->layer_node;

  g_clear_pointer (&self->layer_node, gsk_render_node_unref);

  /* Level of detail: count what the view holds, then draw it. */
  columns = tx1 - tx0 + 1;
  rows = ty1 - ty0 + 1;
  grid = g_new0 (Tile *, columns * rows);
  fresh = g_ptr_array_new ();
  for (guint attempt = 0; ; attempt++)
    {
      total = 0;
      memset (grid, 0, sizeof (Tile *) * columns * rows);
      for (int ty = ty0; ty <= ty1; ty++)
        for (int tx = tx0; tx <= tx1; tx++)
          {
            gint64 key = tile_key (tx, ty);
            Tile *tile = g_hash_table_lookup (self->tiles, &key);

            if (tile == NULL)
              {
                tile = tile_new (tx, ty);
                g_hash_table_insert (self->tiles, &tile->key, tile);
                g_ptr_array_add (fresh, tile);
                grid[(ty - ty0) * columns + (tx - tx0)] = tile;
              }
          }
      if (fresh->len > 0)
        collect_tiles (self, grid, tx0, ty0, columns, rows);

      for (int ty = ty0; ty <= ty1; ty++)
        for (int tx = tx0; tx <= tx1; tx++)
          {
            gint64 key = tile_key (tx, ty);

            total += ((Tile *)g_hash_table_lookup (self->tiles, &key))->n_centres;
          }

      crowded = total > CROWDED_BOXES;
      if (crowded == self->crowded || attempt > 0)
        break;

      /* Tiles drawn for the other density are stale. */
      self->crowded = crowded;
      {
        GHashTableIter iter;
        Tile *tile;

        g_hash_table_iter_init (&iter, self->tiles);
        while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&tile))
          if (tile->items == NULL && tile->crowded != crowded)
            g_hash_table_iter_remove (&iter);
      }
    }
  self->crowded = crowded;

  /* Every fresh tile is in the hash table still, whatever the attempt. */
  g_ptr_array_set_size (fresh, 0);
  for (int ty = ty0; ty <= ty1; ty++)
    for (int tx = tx0; tx <= tx1; tx++)
      {
        gint64 key = tile_key (tx, ty);
        Tile *tile = g_hash_table_lookup (self->tiles, &key);

        if (tile->items != NULL)
          g_ptr_array_add (fresh, tile);
      }
  render_tiles (self, fresh, crowded);

  nodes = g_ptr_array_new ();
  for (int ty = ty0; ty <= ty1; ty++)
    for (int tx = tx0; tx <= tx1; tx++)
      {
        gint64 key = tile_key (tx, ty);
        Tile *tile = g_hash_table_lookup (self->tiles, &key);

        if (tile->node != NULL)
          g_ptr_array_add (nodes, tile->node);
      }
  g_free (grid);
  g_ptr_array_unref (fresh);

  evict_tiles (self, tx0, ty0, tx1, ty1);

  self->layer_node = gsk_container_node_new ((GskRenderNode **)nodes->pdata, nodes->len);
  self->layer_tx0 = tx0;
  self->layer_ty0 = ty0;
  self->layer_tx1 = tx1;
  self->layer_ty1 = ty1;

  return self->layer_node;
}

/* The overlay: captions, the shape a gesture is changing, handles */

static void
ensure_caption (KpCanvas  *self,
                LabelInfo *info)
{
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(PangoLayout) layout = NULL;
  PangoRectangle logical;
  GdkRGBA text_color;
  double luminance;

  if (info->caption != NULL)
    return;

  layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), info->label->name);
  pango_layout_get_pixel_extents (layout, NULL, &logical);

  info->caption_width = logical.width + 8;
  info->caption_height = logical.height + 2;

  luminance = 0.2126 * info->color.red + 0.7152 * info->color.green + 0.0722 * info->color.blue;
  if (luminance > 0.55)
    text_color = (GdkRGBA) { 0, 0, 0, 1 };
  else
    text_color = (GdkRGBA) { 1, 1, 1, 1 };

  snapshot = gtk_snapshot_new ();
  gtk_snapshot_append_layout (snapshot, layout, &text_color);
  info->caption = gtk_snapshot_to_node (snapshot);
}

static void
clear_captions (KpCanvas *self)
{
  GHashTableIter iter;
  LabelInfo *info;

  g_hash_table_iter_init (&iter, self->labels);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&info))
    g_clear_pointer (&info->caption, gsk_render_node_unref);
}

typedef struct
{
  graphene_rect_t  rect;
  LabelInfo       *info;
} Caption;

static void
add_caption (KpCanvas     *self,
             GArray       *captions,
             const KpRect *rect,
             gint64        label_id)
{
  Caption caption;

  caption.info = lookup_label (self, label_id);
  if (caption.info == NULL)
    return;

  caption.rect = widget_rect (self, rect);
  if (caption.rect.size.width < CAPTION_MIN_BOX || caption.rect.size.height < CAPTION_MIN_BOX)
    return;

  ensure_caption (self, caption.info);
  g_array_append_val (captions, caption);
}

static void
draw_captions (KpCanvas    *self,
               GtkSnapshot *snapshot,
               GArray      *captions)
{
  for (guint pass = 0; pass < 2; pass++)
    for (guint i = 0; i < captions->len; i++)
      {
        const Caption *caption = &g_array_index (captions, Caption, i);
        double x = caption->rect.origin.x;
        /* Above the box, or inside it when that would leave the widget. */
        double y = caption->rect.origin.y - caption->info->caption_height;

        if (y < 0)
          y = caption->rect.origin.y;

        if (pass == 0)
          {
            gtk_snapshot_append_color (snapshot, &caption->info->color,
                                       &GRAPHENE_RECT_INIT (x, y,
                                                            caption->info->caption_width,
                                                            caption->info->caption_height));
          }
        else
          {
            gtk_snapshot_save (snapshot);
            gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x + 4, y + 1));
            gtk_snapshot_append_node (snapshot, caption->info->caption);
            gtk_snapshot_restore (snapshot);
          }
      }
}

static void
draw_overlay (KpCanvas    *self,
              GtkSnapshot *snapshot,
              double       width,
              double       height)
{
  g_autoptr(GArray) captions = g_array_new (FALSE, FALSE, sizeof (Caption));
  const KpAnnotation *selected = NULL;
  gint64 preview_id = 0;
  KpRect preview_rect;
  gboolean has_preview;
  DrawItem preview;
  int sf = get_scale_factor (self);
  double ox, oy;

  has_preview = kp_tool_get_preview (self->tool, &preview_id, &preview_rect);
  if (self->document != NULL && self->selected_id != 0)
    selected = kp_document_lookup (self->document, self->selected_id);

  if (self->show_captions && self->document != NULL)
    {
      GPtrArray *annotations = kp_document_get_annotations (self->document);

      if (!self->crowded)
        {
          g_autoptr(GArray) positions = NULL;
          KpRect visible = kp_view_visible_rect (&self->view, width, height);
          double margin = 32 / self->view.scale;

          /* Room for the captions of boxes just below the view. */
          visible.height += margin;
          positions = query_positions (self, &visible);
          for (guint i = 0; i < positions->len; i++)
            {
              const KpAnnotation *annotation =
                g_ptr_array_index (annotations, g_array_index (positions, guint, i) - 1);

              if (!(has_preview && annotation->id == preview_id))
                add_caption (self, captions, &annotation->rect, annotation->label_id);
            }
        }
      else
        {
          /* Crowded: only the selected box and the one under the pointer. */
          const KpAnnotation *hovered = NULL;

          if (self->hover_id != 0 && self->hover_id != self->selected_id)
            hovered = kp_document_lookup (self->document, self->hover_id);
          if (hovered != NULL && !(has_preview && hovered->id == preview_id))
            add_caption (self, captions, &hovered->rect, hovered->label_id);
          if (selected != NULL && !(has_preview && selected->id == preview_id))
            add_caption (self, captions, &selected->rect, selected->label_id);
        }
    }

  get_layer_origin (self, &ox, &oy);

  if (has_preview)
    {
      gint64 label_id = self->current_label_id;
      const KpAnnotation *annotation = NULL;
      const ShapeClass *klass;

      if (preview_id != 0 && self->document != NULL)
        annotation = kp_document_lookup (self->document, preview_id);
      if (annotation != NULL)
        label_id = annotation->label_id;

      init_item (self, &preview, annotation != NULL ? annotation->shape : KP_SHAPE_BOX,
                 &preview_rect, label_id, TRUE);
      klass = get_shape_class (preview.shape);

      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (ox, oy));
      klass->fill_nodes (snapshot, &preview, NULL, sf);
      klass->outline_nodes (snapshot, &preview, NULL, sf);
      gtk_snapshot_restore (snapshot);

      if (self->show_captions)
        add_caption (self, captions, &preview_rect, label_id);
    }

  draw_captions (self, snapshot, captions);

  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (ox, oy));
  if (has_preview && preview_id != 0 && preview_id == self->selected_id)
    get_shape_class (preview.shape)->handles_nodes (self, snapshot, &preview);
  else if (selected != NULL)
    {
      DrawItem item;

      init_item (self, &item, selected->shape, &selected->rect, selected->label_id, TRUE);
      get_shape_class (item.shape)->handles_nodes (self, snapshot, &item);
    }
  gtk_snapshot_restore (snapshot);
}

/* The image */

static GdkTexture *
get_display_texture (KpCanvas *self)
{
  return self->gamma_texture != NULL ? self->gamma_texture : self->texture;
}

#if !GTK_CHECK_VERSION (4, 10, 0)
static cairo_surface_t *
ensure_nearest_surface (KpCanvas *self)
{
  GdkTexture *texture = get_display_texture (self);
  int width, height;

  if (self->nearest_surface != NULL)
    return self->nearest_surface;

  width = gdk_texture_get_width (texture);
  height = gdk_texture_get_height (texture);

  /* GDK downloads in the memory format cairo's ARGB32 uses. */
  self->nearest_surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  gdk_texture_download (texture,
                        cairo_image_surface_get_data (self->nearest_surface),
                        cairo_image_surface_get_stride (self->nearest_surface));
  cairo_surface_mark_dirty (self->nearest_surface);

  return self->nearest_surface;
}
#endif

static void
draw_image (KpCanvas    *self,
            GtkSnapshot *snapshot,
            double       width,
            double       height)
{
  GdkTexture *texture = get_display_texture (self);
  KpRect image = { 0, 0, gdk_texture_get_width (texture), gdk_texture_get_height (texture) };
  KpRect shown = kp_view_rect_to_widget (&self->view, &image);
  gboolean adjust = self->brightness != 0 || self->contrast != 1;

  if (adjust)
    {
      /* out = (in - 0.5) * contrast + 0.5 + brightness, on each colour
       * channel; the renderer applies it to unpremultiplied colours. */
      float c = self->contrast;
      float b = 0.5f - 0.5f * c + self->brightness;
      graphene_matrix_t matrix;
      graphene_vec4_t offset;

      graphene_matrix_init_from_float (&matrix, (float[16]) {
                                         c, 0, 0, 0,
                                         0, c, 0, 0,
                                         0, 0, c, 0,
                                         0, 0, 0, 1,
                                       });
      graphene_vec4_init (&offset, b, b, b, 0);
      gtk_snapshot_push_color_matrix (snapshot, &matrix, &offset);
    }

  if (self->view.scale >= PIXEL_EXACT_SCALE)
    {
#if GTK_CHECK_VERSION (4, 10, 0)
      gtk_snapshot_append_scaled_texture (snapshot, texture, GSK_SCALING_FILTER_NEAREST,
                                          &GRAPHENE_RECT_INIT (shown.x, shown.y,
                                                               shown.width, shown.height));
#else
      /* GTK 4.8 has no nearest-neighbour texture node: draw only the
       * visible part through cairo, at most the widget's size. */
      double x0 = MAX (floor (shown.x), 0);
      double y0 = MAX (floor (shown.y), 0);
      double x1 = MIN (ceil (shown.x + shown.width), width);
      double y1 = MIN (ceil (shown.y + shown.height), height);
      cairo_surface_t *surface;
      cairo_pattern_t *pattern;
      cairo_t *cr;

      if (x1 > x0 && y1 > y0)
        {
          surface = ensure_nearest_surface (self);
          cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (x0, y0, x1 - x0, y1 - y0));
          cairo_translate (cr, self->view.offset_x, self->view.offset_y);
          cairo_scale (cr, self->view.scale, self->view.scale);
          cairo_set_source_surface (cr, surface, 0, 0);
          pattern = cairo_get_source (cr);
          cairo_pattern_set_filter (pattern, CAIRO_FILTER_NEAREST);
          cairo_pattern_set_extend (pattern, CAIRO_EXTEND_PAD);
          cairo_rectangle (cr, 0, 0, image.width, image.height);
          cairo_fill (cr);
          cairo_destroy (cr);
        }
#endif
    }
  else
    {
      gtk_snapshot_append_texture (snapshot, texture,
                                   &GRAPHENE_RECT_INIT (shown.x, shown.y, shown.width, shown.height));
    }

  if (adjust)
    gtk_snapshot_pop (snapshot);
}

/* Gamma: a lookup table applied in a worker thread to a copy of the image,
 * which replaces the image on screen once ready. */

typedef struct
{
  GdkTexture *source;
  double      gamma;
} GammaJob;

static void
gamma_job_free (gpointer data)
{
  GammaJob *job = data;

  g_clear_object (&job->source);
  g_free (job);
}

static void
apply_gamma_thread (GTask        *task,
                    gpointer      source_object,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  GammaJob *job = task_data;
  int width = gdk_texture_get_width (job->source);
  int height = gdk_texture_get_height (job->source);
  gsize stride = (gsize)width * 4;
  guint8 *data = g_malloc (stride * height);
  guint8 lut[256];
  g_autoptr(GBytes) bytes = NULL;

  /* Display gamma: values above 1 brighten the mid-tones. */
  for (guint i = 0; i < 256; i++)
    lut[i] = (guint8)CLAMP (round (pow (i / 255.0, 1.0 / job->gamma) * 255), 0, 255);

  gdk_texture_download (job->source, data, stride);

  for (int y = 0; y < height; y++)
    {
      guint32 *row = (guint32 *)(data + y * stride);

      if (g_cancellable_is_cancelled (cancellable))
        {
          g_free (data);
          g_task_return_error_if_cancelled (task);
          return;
        }

      for (int x = 0; x < width; x++)
        {
          guint32 p = row[x];
          guint32 a = p >> 24;
          guint32 r = (p >> 16) & 0xff, g = (p >> 8) & 0xff, b = p & 0xff;

          if (a == 0)
            continue;
          if (a < 255)
            {
              r = lut[MIN (r * 255 / a, 255)] * a / 255;
              g = lut[MIN (g * 255 / a, 255)] * a / 255;
              b = lut[MIN (b * 255 / a, 255)] * a / 255;
            }
          else
            {
              r = lut[r];
              g = lut[g];
              b = lut[b];
            }
          row[x] = (a << 24) | (r << 16) | (g << 8) | b;
        }
    }

  bytes = g_bytes_new_take (data, stride * height);
  g_task_return_pointer (task,
                         gdk_memory_texture_new (width, height, GDK_MEMORY_DEFAULT, bytes, stride),
                         g_object_unref);
}

static void
apply_gamma_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  KpCanvas *self = KP_CANVAS (object);
  g_autoptr(GdkTexture) texture = g_task_propagate_pointer (G_TASK (result), NULL);

  if (texture == NULL)
    return;

  g_set_object (&self->gamma_texture, texture);
  g_clear_pointer (&self->nearest_surface, cairo_surface_destroy);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
update_gamma (KpCanvas *self)
{
  g_autoptr(GTask) task = NULL;
  GammaJob *job;

  g_cancellable_cancel (self->gamma_cancellable);
  g_clear_object (&self->gamma_cancellable);
  g_clear_object (&self->gamma_texture);
  g_clear_pointer (&self->nearest_surface, cairo_surface_destroy);

  if (self->texture == NULL || self->gamma == 1.0)
    return;

  self->gamma_cancellable = g_cancellable_new ();
  job = g_new0 (GammaJob, 1);
  job->source = g_object_ref (self->texture);
  job->gamma = self->gamma;

  task = g_task_new (self, self->gamma_cancellable, apply_gamma_cb, NULL);
  g_task_set_source_tag (task, update_gamma);
  g_task_set_task_data (task, job, gamma_job_free);
  g_task_run_in_thread (task, apply_gamma_thread);
}

static void
kp_canvas_snapshot (GtkWidget   *widget,
                    GtkSnapshot *snapshot)
{
  KpCanvas *self = (KpCanvas *)widget;
  double width = gtk_widget_get_width (widget);
  double height = gtk_widget_get_height (widget);
  GskRenderNode *layer;

  gtk_snapshot_append_color (snapshot, &self->bg_color,
                             &GRAPHENE_RECT_INIT (0, 0, width, height));

  if (!has_image (self))
    return;

  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (self->image_layer != NULL)
    layer_snapshot (self->image_layer, snapshot, &self->view, width, height,
                             get_scale_factor (self), self->view.scale >= PIXEL_EXACT_SCALE);
  else
    draw_image (self, snapshot, width, height);

  layer = ensure_layer (self, width, height);
  if (layer != NULL)
    {
      double ox, oy;

      get_layer_origin (self, &ox, &oy);
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (ox, oy));
      gtk_snapshot_append_node (snapshot, layer);
      gtk_snapshot_restore (snapshot);
    }

  draw_overlay (self, snapshot, width, height);
  gtk_snapshot_pop (snapshot);
}

static void
kp_canvas_measure (GtkWidget      *widget,
                   GtkOrientation  orientation,
                   int             for_size,
                   int            *minimum,
                   int            *natural,
                   int            *minimum_baseline,
                   int            *natural_baseline)
{
  *minimum = 64;
  *natural = 400;
}

static void
kp_canvas_size_allocate (GtkWidget *widget,
                         int        width,
                         int        height,
                         int        baseline)
{
  KpCanvas *self = (KpCanvas *)widget;

  if (self->fit)
    refit (self);
  else
    apply_view (self, self->view, FALSE);
}

static void
lookup_color (GtkStyleContext *context,
              const char      *name,
              GdkRGBA         *color,
              const char      *fallback)
{
  if (!gtk_style_context_lookup_color (context, name, color))
    gdk_rgba_parse (color, fallback);
}

static void
kp_canvas_css_changed (GtkWidget         *widget,
                       GtkCssStyleChange *change)
{
  KpCanvas *self = (KpCanvas *)widget;
  GtkStyleContext *context;

  GTK_WIDGET_CLASS (kp_canvas_parent_class)->css_changed (widget, change);

  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  context = gtk_widget_get_style_context (widget);
  if (!gtk_style_context_lookup_color (context, "kp_canvas_bg_color", &self->bg_color))
    lookup_color (context, "view_bg_color", &self->bg_color, "#303030");
  lookup_color (context, "accent_bg_color", &self->accent_color, "#3584e4");
  lookup_color (context, "view_bg_color", &self->handle_color, "#ffffff");
  G_GNUC_END_IGNORE_DEPRECATIONS

  self->handle_color.alpha = 1;

  /* The font may have changed too, and unlabelled boxes use the accent. */
  clear_captions (self);
  clear_tiles (self);
  gtk_widget_queue_draw (widget);
}

/* Input */

static void
update_cursor (KpCanvas *self)
{
  const char *name = "default";

  if (self->panning)
    name = "grabbing";
  else if (self->space_held)
    name = "grab";
  else if (has_image (self) && self->pointer_inside)
    {
      double x, y;

      kp_view_widget_to_image (&self->view, self->pointer_x, self->pointer_y, &x, &y);
      name = kp_tool_get_cursor_name (self->tool, x, y);
    }

  if (g_strcmp0 (name, self->cursor_name) == 0)
    return;

  self->cursor_name = name;
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), name);
}

static void
tool_event (KpCanvas        *self,
            int              kind,
            double           widget_x,
            double           widget_y,
            GdkModifierType  state)
{
  double x, y;

  kp_view_widget_to_image (&self->view, widget_x, widget_y, &x, &y);

  switch (kind)
    {
    case 0:
      kp_canvas_tool_press (self, x, y, state);
      break;
    case 1:
      kp_canvas_tool_motion (self, x, y, state);
      break;
    default:
      kp_canvas_tool_release (self, x, y, state);
      break;
    }

  update_cursor (self);
}

static void
drag_begin_cb (KpCanvas       *self,
               double          start_x,
               double          start_y,
               GtkGestureDrag *gesture)
{
  GdkModifierType state;

  gtk_widget_grab_focus (GTK_WIDGET (self));

  if (self->space_held)
    {
      self->panning = TRUE;
      self->pan_start_view = self->view;
      update_cursor (self);
      return;
    }

  state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));
  tool_event (self, 0, start_x, start_y, state);
}

static void
drag_update_cb (KpCanvas       *self,
                double          offset_x,
                double          offset_y,
                GtkGestureDrag *gesture)
{
  GdkModifierType state;
  double start_x, start_y;

  if (self->panning)
    {
      KpView view = self->pan_start_view;

      view.offset_x += offset_x;
      view.offset_y += offset_y;
      apply_view (self, view, FALSE);
      return;
    }

  gtk_gesture_drag_get_start_point (gesture, &start_x, &start_y);
  state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));
  tool_event (self, 1, start_x + offset_x, start_y + offset_y, state);
}

static void
drag_end_cb (KpCanvas       *self,
             double          offset_x,
             double          offset_y,
             GtkGestureDrag *gesture)
{
  GdkModifierType state;
  double start_x, start_y;

  if (self->panning)
    {
      self->panning = FALSE;
      update_cursor (self);
      return;
    }

  gtk_gesture_drag_get_start_point (gesture, &start_x, &start_y);
  state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (gesture));
  tool_event (self, 2, start_x + offset_x, start_y + offset_y, state);
}

static void
pan_begin_cb (KpCanvas       *self,
              double          start_x,
              double          start_y,
              GtkGestureDrag *gesture)
{
  gtk_widget_grab_focus (GTK_WIDGET (self));
  self->panning = TRUE;
  self->pan_start_view = self->view;
  update_cursor (self);
}

static void
pan_update_cb (KpCanvas       *self,
               double          offset_x,
               double          offset_y,
               GtkGestureDrag *gesture)
{
  KpView view = self->pan_start_view;

  view.offset_x += offset_x;
  view.offset_y += offset_y;
  apply_view (self, view, FALSE);
}

static void
pan_end_cb (KpCanvas       *self,
            double          offset_x,
            double          offset_y,
            GtkGestureDrag *gesture)
{
  self->panning = FALSE;
  update_cursor (self);
}

static void
stop_kinetic (KpCanvas *self)
{
  if (self->kinetic_id != 0)
    gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->kinetic_id);
  self->kinetic_id = 0;
}

static gboolean
kinetic_tick_cb (GtkWidget     *widget,
                 GdkFrameClock *clock,
                 gpointer       user_data)
{
  KpCanvas *self = KP_CANVAS (widget);
  gint64 now = gdk_frame_clock_get_frame_time (clock);
  double dt = (now - self->kinetic_time) / (double)G_USEC_PER_SEC;
  double decay;

  self->kinetic_time = now;
  if (dt <= 0)
    return G_SOURCE_CONTINUE;

  /* Exponential friction: the distance is the integral of the speed. */
  decay = exp2 (-dt / KINETIC_HALF_LIFE);
  pan_by (self,
          self->kinetic_vx * (1 - decay) * KINETIC_HALF_LIFE / G_LN2,
          self->kinetic_vy * (1 - decay) * KINETIC_HALF_LIFE / G_LN2);
  self->kinetic_vx *= decay;
  self->kinetic_vy *= decay;

  if (hypot (self->kinetic_vx, self->kinetic_vy) < 10)
    {
      self->kinetic_id = 0;
      return G_SOURCE_REMOVE;
    }

  return G_SOURCE_CONTINUE;
}

static void
decelerate_cb (KpCanvas                 *self,
               double                    vel_x,
               double                    vel_y,
               GtkEventControllerScroll *controller)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self));

  stop_kinetic (self);
  if (clock == NULL || !has_image (self))
    return;

  /* GTK gives pixels per millisecond, as the scroll deltas go. */
  self->kinetic_vx = -vel_x * 1000;
  self->kinetic_vy = -vel_y * 1000;
  self->kinetic_time = gdk_frame_clock_get_frame_time (clock);
  self->kinetic_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), kinetic_tick_cb, NULL, NULL);
}

static gboolean
scroll_cb (KpCanvas                 *self,
           double                    dx,
           double                    dy,
           GtkEventControllerScroll *controller)
{
  GdkModifierType state;
  GdkScrollUnit unit;

  if (!has_image (self))
    return FALSE;

  stop_kinetic (self);
  state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (controller));
  unit = gtk_event_controller_scroll_get_unit (controller);

  if (state & GDK_CONTROL_MASK)
    {
      double anchor_x, anchor_y;
      double scale;

      if (dy == 0)
        return FALSE;

      self->scroll_zoomed = TRUE;
      get_zoom_anchor (self, &anchor_x, &anchor_y);
      if (unit == GDK_SCROLL_UNIT_WHEEL)
        scale = dy < 0 ? kp_zoom_step_in (self->view.scale) : kp_zoom_step_out (self->view.scale);
      else
        scale = self->view.scale * exp (-dy / 200.0);

      zoom_at (self, scale, anchor_x, anchor_y);
      return TRUE;
    }

  self->scroll_zoomed = FALSE;
  if (unit == GDK_SCROLL_UNIT_WHEEL)
    {
      dx *= WHEEL_PAN_STEP;
      dy *= WHEEL_PAN_STEP;
    }

  if ((state & GDK_SHIFT_MASK) && dx == 0)
    {
      dx = dy;
      dy = 0;
    }

  pan_by (self, -dx, -dy);
  return TRUE;
}

static void
zoom_begin_cb (KpCanvas       *self,
               GdkEventSequence *sequence,
               GtkGestureZoom *gesture)
{
  self->zoom_start_scale = self->view.scale;
}

static void
zoom_scale_changed_cb (KpCanvas       *self,
                       double          scale,
                       GtkGestureZoom *gesture)
{
  double x, y;

  if (!gtk_gesture_get_bounding_box_center (GTK_GESTURE (gesture), &x, &y))
    get_zoom_anchor (self, &x, &y);

  zoom_at (self, self->zoom_start_scale * scale, x, y);
}

static void
motion_cb (KpCanvas                 *self,
           double                    x,
           double                    y,
           GtkEventControllerMotion *controller)
{
  double ix, iy;
  gint64 hover_id;

  self->pointer_x = x;
  self->pointer_y = y;
  self->pointer_inside = TRUE;
  update_cursor (self);

  /* The box under the pointer shows its caption even in a crowded view. */
  kp_view_widget_to_image (&self->view, x, y, &ix, &iy);
  hover_id = _kp_canvas_pick (self, ix, iy);
  if (hover_id != self->hover_id)
    {
      self->hover_id = hover_id;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static void
leave_cb (KpCanvas                 *self,
          GtkEventControllerMotion *controller)
{
  self->pointer_inside = FALSE;
  if (self->hover_id != 0)
    {
      self->hover_id = 0;
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static gboolean
key_pressed_cb (KpCanvas              *self,
                guint                  keyval,
                guint                  keycode,
                GdkModifierType        state,
                GtkEventControllerKey *controller)
{
  if (keyval == GDK_KEY_space)
    {
      self->space_held = TRUE;
      update_cursor (self);
      return TRUE;
    }

  return kp_tool_key_pressed (self->tool, keyval, state);
}

static void
key_released_cb (KpCanvas              *self,
                 guint                  keyval,
                 guint                  keycode,
                 GdkModifierType        state,
                 GtkEventControllerKey *controller)
{
  if (keyval == GDK_KEY_space)
    {
      self->space_held = FALSE;
      update_cursor (self);
    }
}

static void
focus_leave_cb (KpCanvas                *self,
                GtkEventControllerFocus *controller)
{
  self->space_held = FALSE;
}

/* Actions */

static void
zoom_in_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  KpCanvas *self = (KpCanvas *)widget;
  double x, y;

  get_zoom_anchor (self, &x, &y);
  zoom_at (self, kp_zoom_step_in (self->view.scale), x, y);
}

static void
zoom_out_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  KpCanvas *self = (KpCanvas *)widget;
  double x, y;

  get_zoom_anchor (self, &x, &y);
  zoom_at (self, kp_zoom_step_out (self->view.scale), x, y);
}

static void
zoom_fit_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  kp_canvas_zoom_fit (KP_CANVAS (widget));
}

static void
zoom_100_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  kp_canvas_zoom_100 (KP_CANVAS (widget));
}

static void
zoom_selection_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  kp_canvas_zoom_to_selection (KP_CANVAS (widget));
}

static void
delete_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  KpCanvas *self = (KpCanvas *)widget;
  g_autoptr(GError) error = NULL;
  gint64 id = self->selected_id;

  if (self->document == NULL || id == 0)
    return;

  kp_tool_cancel (self->tool);

  if (!kp_document_remove (self->document, id, &error))
    {
      _kp_canvas_emit_error (self, error);
      return;
    }

  kp_canvas_set_selected_id (self, 0);
}

static void
select_step (KpCanvas *self,
             int       step)
{
  GPtrArray *annotations;
  guint position;
  guint n;

  if (self->document == NULL)
    return;

  annotations = kp_document_get_annotations (self->document);
  n = annotations->len;
  if (n == 0)
    return;

  kp_tool_cancel (self->tool);

  position = get_position (self, self->selected_id);
  if (position == 0)
    position = step > 0 ? 0 : n - 1;
  else
    position = ((position - 1) + n + step) % n;

  kp_canvas_set_selected_id (self, ((const KpAnnotation *)g_ptr_array_index (annotations, position))->id);
}

static void
next_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  select_step (KP_CANVAS (widget), 1);
}

static void
previous_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  select_step (KP_CANVAS (widget), -1);
}

static void
cancel_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  KpCanvas *self = (KpCanvas *)widget;

  if (kp_tool_cancel (self->tool))
    {
      gtk_event_controller_reset (GTK_EVENT_CONTROLLER (self->drag));
      return;
    }

  kp_canvas_set_selected_id (self, 0);
}

/* GObject */

static void
kp_canvas_dispose (GObject *object)
{
  KpCanvas *self = (KpCanvas *)object;

  if (self->document != NULL)
    g_clear_signal_handler (&self->changed_handler, self->document);
  g_clear_object (&self->document);
  g_clear_object (&self->texture);
  g_clear_object (&self->tool);
  if (self->image_layer != NULL)
    g_clear_signal_handler (&self->layer_handler, self->image_layer);
  g_clear_object (&self->image_layer);
  g_clear_pointer (&self->nearest_surface, cairo_surface_destroy);
  g_cancellable_cancel (self->gamma_cancellable);
  g_clear_object (&self->gamma_cancellable);
  g_clear_object (&self->gamma_texture);
  stop_kinetic (self);
  if (self->tiles != NULL)
    clear_tiles (self);

  G_OBJECT_CLASS (kp_canvas_parent_class)->dispose (object);
}

static void
kp_canvas_finalize (GObject *object)
{
  KpCanvas *self = (KpCanvas *)object;

  g_clear_pointer (&self->labels, g_hash_table_unref);
  g_clear_pointer (&self->entries, g_hash_table_unref);
  g_clear_pointer (&self->tiles, g_hash_table_unref);
  g_clear_pointer (&self->tiles_excluded, g_hash_table_unref);
  g_clear_pointer (&self->selection, g_array_unref);
  g_clear_pointer (&self->selection_set, g_hash_table_unref);
  g_clear_pointer (&self->index, kp_spatial_index_free);

  G_OBJECT_CLASS (kp_canvas_parent_class)->finalize (object);
}

static void
kp_canvas_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  KpCanvas *self = KP_CANVAS (object);

  switch (prop_id)
    {
    case PROP_TEXTURE:
      g_value_set_object (value, kp_canvas_get_texture (self));
      break;

    case PROP_DOCUMENT:
      g_value_set_object (value, kp_canvas_get_document (self));
      break;

    case PROP_CURRENT_LABEL_ID:
      g_value_set_int64 (value, kp_canvas_get_current_label_id (self));
      break;

    case PROP_SELECTED_ID:
      g_value_set_int64 (value, kp_canvas_get_selected_id (self));
      break;

    case PROP_ZOOM:
      g_value_set_double (value, kp_canvas_get_zoom (self));
      break;

    case PROP_FIT:
      g_value_set_boolean (value, kp_canvas_get_fit (self));
      break;

    case PROP_SHOW_CAPTIONS:
      g_value_set_boolean (value, kp_canvas_get_show_captions (self));
      break;

    case PROP_BRIGHTNESS:
      g_value_set_double (value, kp_canvas_get_brightness (self));
      break;

    case PROP_CONTRAST:
      g_value_set_double (value, kp_canvas_get_contrast (self));
      break;

    case PROP_GAMMA:
      g_value_set_double (value, kp_canvas_get_gamma (self));
      break;

    case PROP_TOOL:
      g_value_set_object (value, kp_canvas_get_tool (self));
      break;

    case PROP_SHOW_CROSSHAIR:
      g_value_set_boolean (value, kp_canvas_get_show_crosshair (self));
      break;

    case PROP_IMAGE_LAYER:
      g_value_set_object (value, kp_canvas_get_image_layer (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_canvas_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  KpCanvas *self = KP_CANVAS (object);

  switch (prop_id)
    {
    case PROP_TEXTURE:
      kp_canvas_set_texture (self, g_value_get_object (value));
      break;

    case PROP_DOCUMENT:
      kp_canvas_set_document (self, g_value_get_object (value));
      break;

    case PROP_CURRENT_LABEL_ID:
      kp_canvas_set_current_label_id (self, g_value_get_int64 (value));
      break;

    case PROP_SELECTED_ID:
      kp_canvas_set_selected_id (self, g_value_get_int64 (value));
      break;

    case PROP_ZOOM:
      kp_canvas_set_zoom (self, g_value_get_double (value));
      break;

    case PROP_FIT:
      if (g_value_get_boolean (value))
        kp_canvas_zoom_fit (self);
      else if (self->fit)
        {
          self->fit = FALSE;
          g_object_notify_by_pspec (object, pspec);
        }
      break;

    case PROP_SHOW_CAPTIONS:
      kp_canvas_set_show_captions (self, g_value_get_boolean (value));
      break;

    case PROP_BRIGHTNESS:
      kp_canvas_set_brightness (self, g_value_get_double (value));
      break;

    case PROP_CONTRAST:
      kp_canvas_set_contrast (self, g_value_get_double (value));
      break;

    case PROP_GAMMA:
      kp_canvas_set_gamma (self, g_value_get_double (value));
      break;

    case PROP_TOOL:
      kp_canvas_set_tool (self, g_value_get_object (value));
      break;

    case PROP_SHOW_CROSSHAIR:
      kp_canvas_set_show_crosshair (self, g_value_get_boolean (value));
      break;

    case PROP_IMAGE_LAYER:
      kp_canvas_set_image_layer (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_canvas_class_init (KpCanvasClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kp_canvas_dispose;
  object_class->finalize = kp_canvas_finalize;
  object_class->get_property = kp_canvas_get_property;
  object_class->set_property = kp_canvas_set_property;

  widget_class->snapshot = kp_canvas_snapshot;
  widget_class->measure = kp_canvas_measure;
  widget_class->size_allocate = kp_canvas_size_allocate;
  widget_class->css_changed = kp_canvas_css_changed;

  properties[PROP_TEXTURE] =
    g_param_spec_object ("texture", NULL, NULL,
                         GDK_TYPE_TEXTURE,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_DOCUMENT] =
    g_param_spec_object ("document", NULL, NULL,
                         KP_TYPE_DOCUMENT,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_CURRENT_LABEL_ID] =
    g_param_spec_int64 ("current-label-id", NULL, NULL,
                        0, G_MAXINT64, 0,
                        (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_SELECTED_ID] =
    g_param_spec_int64 ("selected-id", NULL, NULL,
                        0, G_MAXINT64, 0,
                        (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_ZOOM] =
    g_param_spec_double ("zoom", NULL, NULL,
                         KP_ZOOM_MIN, KP_ZOOM_MAX, 1.0,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_FIT] =
    g_param_spec_boolean ("fit", NULL, NULL,
                          TRUE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_SHOW_CAPTIONS] =
    g_param_spec_boolean ("show-captions", NULL, NULL,
                          TRUE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_BRIGHTNESS] =
    g_param_spec_double ("brightness", NULL, NULL,
                         -1.0, 1.0, 0.0,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_CONTRAST] =
    g_param_spec_double ("contrast", NULL, NULL,
                         0.0, 10.0, 1.0,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_GAMMA] =
    g_param_spec_double ("gamma", NULL, NULL,
                         0.1, 10.0, 1.0,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_TOOL] =
    g_param_spec_object ("tool", NULL, NULL,
                         KP_TYPE_TOOL,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_SHOW_CROSSHAIR] =
    g_param_spec_boolean ("show-crosshair", NULL, NULL,
                          FALSE,
                          (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_IMAGE_LAYER] =
    g_param_spec_object ("image-layer", NULL, NULL,
                         LAYER_TYPE,
                         (G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_SELECTION_CHANGED] =
    g_signal_new ("selection-changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 0);

  signals[SIGNAL_ERROR] =
    g_signal_new ("error",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 1, G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);

  gtk_widget_class_install_action (widget_class, "canvas.zoom-in", NULL, zoom_in_action);
  gtk_widget_class_install_action (widget_class, "canvas.zoom-out", NULL, zoom_out_action);
  gtk_widget_class_install_action (widget_class, "canvas.zoom-fit", NULL, zoom_fit_action);
  gtk_widget_class_install_action (widget_class, "canvas.zoom-100", NULL, zoom_100_action);
  gtk_widget_class_install_action (widget_class, "canvas.zoom-selection", NULL, zoom_selection_action);
  gtk_widget_class_install_action (widget_class, "annotation.delete", NULL, delete_action);
  gtk_widget_class_install_action (widget_class, "annotation.next", NULL, next_action);
  gtk_widget_class_install_action (widget_class, "annotation.previous", NULL, previous_action);
  gtk_widget_class_install_action (widget_class, "canvas.cancel", NULL, cancel_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_plus, 0, "canvas.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_equal, 0, "canvas.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Add, 0, "canvas.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_plus, GDK_CONTROL_MASK, "canvas.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_minus, 0, "canvas.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Subtract, 0, "canvas.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_minus, GDK_CONTROL_MASK, "canvas.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0, GDK_CONTROL_MASK, "canvas.zoom-fit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_1, GDK_CONTROL_MASK, "canvas.zoom-100", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_2, GDK_CONTROL_MASK, "canvas.zoom-selection", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Delete, 0, "annotation.delete", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Delete, 0, "annotation.delete", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_BackSpace, 0, "annotation.delete", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Tab, 0, "annotation.next", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Tab, 0, "annotation.next", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_ISO_Left_Tab, GDK_SHIFT_MASK, "annotation.previous", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Tab, GDK_SHIFT_MASK, "annotation.previous", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "canvas.cancel", NULL);

  gtk_widget_class_set_css_name (widget_class, "kp-canvas");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
kp_canvas_init (KpCanvas *self)
{
  GtkEventController *controller;
  GtkGesture *gesture;

  self->labels = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, label_info_free);
  self->entries = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, g_free);
  self->tiles = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, tile_free);
  self->tiles_excluded = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->selection = g_array_new (FALSE, FALSE, sizeof (gint64));
  self->selection_set = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->brightness = 0.0;
  self->contrast = 1.0;
  self->gamma = 1.0;
  self->index = kp_spatial_index_new (SPATIAL_CELL_SIZE);
  self->tool = kp_box_tool_new (self);
  self->view = (KpView) { 1.0, 0, 0 };
  self->fit = TRUE;
  self->show_captions = TRUE;
  gdk_rgba_parse (&self->bg_color, "#303030");
  gdk_rgba_parse (&self->accent_color, "#3584e4");
  gdk_rgba_parse (&self->handle_color, "#ffffff");

  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);

  gesture = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (gesture), GDK_BUTTON_PRIMARY);
  g_signal_connect_object (gesture, "drag-begin", G_CALLBACK (drag_begin_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (gesture, "drag-update", G_CALLBACK (drag_update_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (gesture, "drag-end", G_CALLBACK (drag_end_cb), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));
  self->drag = gesture;

  gesture = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (gesture), GDK_BUTTON_MIDDLE);
  g_signal_connect_object (gesture, "drag-begin", G_CALLBACK (pan_begin_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (gesture, "drag-update", G_CALLBACK (pan_update_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (gesture, "drag-end", G_CALLBACK (pan_end_cb), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));

  gesture = gtk_gesture_zoom_new ();
  g_signal_connect_object (gesture, "begin", G_CALLBACK (zoom_begin_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (gesture, "scale-changed", G_CALLBACK (zoom_scale_changed_cb), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (gesture));

  controller = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES |
                                                GTK_EVENT_CONTROLLER_SCROLL_KINETIC);
  g_signal_connect_object (controller, "scroll", G_CALLBACK (scroll_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (controller, "decelerate", G_CALLBACK (decelerate_cb), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  controller = gtk_event_controller_motion_new ();
  g_signal_connect_object (controller, "enter", G_CALLBACK (motion_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (controller, "motion", G_CALLBACK (motion_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (controller, "leave", G_CALLBACK (leave_cb), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  controller = gtk_event_controller_key_new ();
  g_signal_connect_object (controller, "key-pressed", G_CALLBACK (key_pressed_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (controller, "key-released", G_CALLBACK (key_released_cb), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  controller = gtk_event_controller_focus_new ();
  g_signal_connect_object (controller, "leave", G_CALLBACK (focus_leave_cb), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Annotation canvas"),
                                  -1);
  update_actions (self);
  update_accessible (self);
}

/* Public API */

GtkWidget *
kp_canvas_new (void)
{
  return g_object_new (KP_TYPE_CANVAS, NULL);
}

GdkTexture *
kp_canvas_get_texture (KpCanvas *self)
{
  g_return_val_if_fail (KP_IS_CANVAS (self), NULL);

  return self->texture;
}

void
kp_canvas_set_texture (KpCanvas   *self,
                       GdkTexture *texture)
{
  g_return_if_fail (KP_IS_CANVAS (self));
  g_return_if_fail (texture == NULL || GDK_IS_TEXTURE (texture));

  if (self->texture == texture)
    return;

  g_object_freeze_notify (G_OBJECT (self));
  if (texture != NULL)
    kp_canvas_set_image_layer (self, NULL);
  g_set_object (&self->texture, texture);

  kp_tool_cancel (self->tool);
  clear_tiles (self);
  update_gamma (self);

  if (self->fit)
    refit (self);
  else
    apply_view (self, self->view, FALSE);

  update_actions (self);
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXTURE]);
  g_object_thaw_notify (G_OBJECT (self));
}

KpDocument *
kp_canvas_get_document (KpCanvas *self)
{
  g_return_val_if_fail (KP_IS_CANVAS (self), NULL);

  return self->document;
}

void
kp_canvas_set_document (KpCanvas   *self,
                        KpDocument *document)
{
  g_return_if_fail (KP_IS_CANVAS (self));
  g_return_if_fail (document == NULL || KP_IS_DOCUMENT (document));

  if (self->document == document)
    return;

  kp_tool_cancel (self->tool);

  if (self->document != NULL)
    g_clear_signal_handler (&self->changed_handler, self->document);

  g_set_object (&self->document, document);
  self->hover_id = 0;

  if (document != NULL)
    self->changed_handler = g_signal_connect_object (document, "changed",
                                                     G_CALLBACK (document_changed_cb), self,
                                                     G_CONNECT_SWAPPED);

  rebuild_index (self);
  kp_canvas_set_selected_id (self, 0);
  update_actions (self);
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DOCUMENT]);
}

void
kp_canvas_set_labels (KpCanvas  *self,
                      GPtrArray *labels)
{
  g_return_if_fail (KP_IS_CANVAS (self));

  g_hash_table_remove_all (self->labels);

  for (guint i = 0; labels != NULL && i < labels->len; i++)
    {
      const KpLabel *label = g_ptr_array_index (labels, i);
      LabelInfo *info = g_new0 (LabelInfo, 1);

      info->label = kp_label_copy (label);
      if (label->color == NULL || !gdk_rgba_parse (&info->color, label->color))
        info->color = self->accent_color;
      info->fill = info->color;
      info->fill.alpha *= FILL_ALPHA;

      g_hash_table_insert (self->labels, dup_id (label->id), info);
    }

  clear_tiles (self);
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gint64
kp_canvas_get_current_label_id (KpCanvas *self)
{
  g_return_val_if_fail (KP_IS_CANVAS (self), 0);

  return self->current_label_id;
}

void
kp_canvas_set_current_label_id (KpCanvas *self,
                                gint64    label_id)
{
  g_return_if_fail (KP_IS_CANVAS (self));
  g_return_if_fail (label_id >= 0);

  if (self->current_label_id == label_id)
    return;

  self->current_label_id = label_id;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CURRENT_LABEL_ID]);
}

gint64
kp_canvas_get_selected_id (KpCanvas *self)
{
  g_return_val_if_fail (KP_IS_CANVAS (self), 0);

  return self->selected_id;
}

void
kp_canvas_set_selected_id (KpCanvas *self,
                           gint64    annotation_id)
{
  g_return_if_fail (KP_IS_CANVAS (self));
  g_return_if_fail (annotation_id >= 0);

  kp_canvas_set_selection (self, &annotation_id, annotation_id != 0 ? 1 : 0);
}

/**
 * kp_canvas_get_selection:
 * @n_ids: (out): the number of ids
 *
 * Returns: (transfer none): the selected ids in the order they were
 *   selected, valid until the selection changes
 */
const gint64 *
kp_canvas_get_selection (KpCanvas *self,
                         guint    *n_ids)
{
  g_return_val_if_fail (KP_IS_CANVAS (self), NULL);

  if (n_ids != NULL)
    *n_ids = self->selection->len;

  return (const gint64 *)(gpointer)self->selection->data;
}

gboolean
kp_canvas_is_selected (KpCanvas *self,
                       gint64    annotation_id)
{
  g_return_val_if_fail (KP_IS_CANVAS (self), FALSE);

  return g_hash_table_contains (self->selection_set, &annotation_id);
}

/* Selecting or deselecting many objects redraws the whole layer once
 * rather than looking up tiles per object. */
#define SELECTION_INVALIDATE_MAX 256

/**
 * kp_canvas_set_selection:
 * @ids: (array length=n_ids) (nullable): annotation ids
 *
 * Replaces the selection. Ids that are not in the document, hidden or
 * repeated are left out. The view does not move.
 */
void
kp_canvas_set_selection (KpCanvas     *self,
                         const gint64 *ids,
                         guint         n_ids)
{
  g_autoptr(GArray) selection = NULL;
  g_autoptr(GHashTable) set = NULL;
  gint64 old_selected_id;
  guint n_changed = 0;

  g_return_if_fail (KP_IS_CANVAS (self));
  g_return_if_fail (ids != NULL || n_ids == 0);

  selection = g_array_sized_new (FALSE, FALSE, sizeof (gint64), n_ids);
  set = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);

  for (guint i = 0; i < n_ids && self->document != NULL; i++)
    {
      const KpAnnotation *annotation = kp_document_lookup (self->document, ids[i]);

      if (annotation == NULL || (annotation->flags & KP_ANNOTATION_HIDDEN) != 0 ||
          g_hash_table_contains (set, &ids[i]))
        continue;

      g_array_append_val (selection, ids[i]);
      g_hash_table_add (set, dup_id (ids[i]));
    }

  if (selection->len == self->selection->len &&
      memcmp (selection->data, self->selection->data, sizeof (gint64) * selection->len) == 0)
    return;

  /* Selected objects are drawn emphasised in the tiles. */
  for (guint i = 0; i < self->selection->len; i++)
    if (!g_hash_table_contains (set, &g_array_index (self->selection, gint64, i)))
      n_changed++;
  for (guint i = 0; i < selection->len; i++)
    if (!g_hash_table_contains (self->selection_set, &g_array_index (selection, gint64, i)))
      n_changed++;

  if (n_changed > SELECTION_INVALIDATE_MAX)
    clear_tiles (self);
  else
    {
      for (guint i = 0; i < self->selection->len; i++)
        if (!g_hash_table_contains (set, &g_array_index (self->selection, gint64, i)))
          invalidate_annotation (self, g_array_index (self->selection, gint64, i));
      for (guint i = 0; i < selection->len; i++)
        if (!g_hash_table_contains (self->selection_set, &g_array_index (selection, gint64, i)))
          invalidate_annotation (self, g_array_index (selection, gint64, i));
    }

  g_array_unref (self->selection);
  self->selection = g_steal_pointer (&selection);
  g_hash_table_unref (self->selection_set);
  self->selection_set = g_steal_pointer (&set);

  old_selected_id = self->selected_id;
  self->selected_id = self->selection->len > 0
                      ? g_array_index (self->selection, gint64, self->selection->len - 1)
                      : 0;

  update_actions (self);
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  if (self->tool != NULL)
    kp_tool_canvas_changed (self->tool);

  g_signal_emit (self, signals[SIGNAL_SELECTION_CHANGED], 0);
  if (old_selected_id != self->selected_id)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED_ID]);
}

/* Drops selected ids that went from the document or were hidden. */
static void
validate_selection (KpCanvas *self,
                    gint64    changed_id)
{
  g_autoptr(GArray) kept = NULL;

  if (self->selection->len == 0)
    return;

  if (changed_id != 0)
    {
      if (!g_hash_table_contains (self->selection_set, &changed_id) ||
          (self->document != NULL && !is_hidden (self, changed_id)))
        return;
    }

  kept = g_array_sized_new (FALSE, FALSE, sizeof (gint64), self->selection->len);
  for (guint i = 0; i < self->selection->len; i++)
    {
      gint64 id = g_array_index (self->selection, gint64, i);

      if (self->document != NULL && !is_hidden (self, id))
        g_array_append_val (kept, id);
    }

  if (kept->len != self->selection->len)
    kp_canvas_set_selection (self, (const gint64 *)(gpointer)kept->data, kept->len);
}

KpTool *
kp_canvas_get_tool (KpCanvas *self)
{
  g_return_val_if_fail (KP_IS_CANVAS (self), NULL);

  return self->tool;
}

void
kp_canvas_set_tool (KpCanvas *self,
                    KpTool   *tool)
{
  g_return_if_fail (KP_IS_CANVAS (self));
  g_return_if_fail (KP_IS_TOOL (tool));
  g_return_if_fail (kp_tool_get_canvas (tool) == self);

  if (self->tool == tool)
    return;

  if (self->tool != NULL)
    kp_tool_cancel (self->tool);
  if (self->drag != NULL)
    gtk_event_controller_reset (GTK_EVENT_CONTROLLER (self->drag));

  g_set_object (&self->tool, tool);
  self->cursor_name = NULL;
  update_cursor (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOOL]);
}

gboolean
kp_canvas_get_show_crosshair (KpCanvas *self)
{
  g_return_val_if_fail (KP_IS_CANVAS (self), FALSE);

  return self->show_crosshair;
}

void
kp_canvas_set_show_crosshair (KpCanvas *self,
                              gboolean  show_crosshair)
{
  g_return_if_fail (KP_IS_CANVAS (self));

  show_crosshair = !!show_crosshair;
  if (self->show_crosshair == show_crosshair)
    return;

  self->show_crosshair = show_crosshair;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHOW_CROSSHAIR]);
}

KpImageLayer *
kp_canvas_get_image_layer (KpCanvas *self)
{
  g_return_val_if_fail (KP_IS_CANVAS (self), NULL);

  return self->image_layer;
}

static void
image_layer_invalidated_cb (KpCanvas     *self,
                            KpImageLayer *layer)
{
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/**
 * kp_canvas_set_image_layer:
 * @layer: (nullable): a tiled image, or %NULL
 *
 * Shows a large image through its tiles instead of "texture", which is
 * cleared.
 */
void
kp_canvas_set_image_layer (KpCanvas     *self,
                           KpImageLayer *layer)
{
  g_return_if_fail (KP_IS_CANVAS (self));
  g_return_if_fail (layer == NULL || LAYER_IS (layer));

  if (self->image_layer == layer)
    return;

  g_object_freeze_notify (G_OBJECT (self));

  if (layer != NULL)
    kp_canvas_set_texture (self, NULL);

  kp_tool_cancel (self->tool);
  if (self->image_layer != NULL)
    g_clear_signal_handler (&self->layer_handler, self->image_layer);
  g_set_object (&self->image_layer, layer);
  if (layer != NULL)
    {
      self->layer_handler = g_signal_connect_object (layer, "invalidated",
                                                     G_CALLBACK (image_layer_invalidated_cb), self,
                                                     G_CONNECT_SWAPPED);
      layer_set_gamma (layer, self->gamma);
    }

  clear_tiles (self);
  if (self->fit)
    refit (self);
  else
    apply_view (self, self->view, FALSE);

  update_actions (self);
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IMAGE_LAYER]);
  g_object_thaw_notify (G_OBJECT (self));
}

double
kp_canvas_get_zoom (KpCanvas *self)
{
  g_return_val_if_fail (KP_IS_CANVAS (self), 1.0);

  return self->view.scale;
}

/**
 * kp_canvas_set_zoom:
 *
 * Sets the scale keeping the image point at the centre of the widget fixed,
 * and leaves fit mode.
 */
void
kp_canvas_set_zoom (KpCanvas *self,
                    double    zoom)
{
  g_return_if_fail (KP_IS_CANVAS (self));
  g_return_if_fail (zoom > 0);

  zoom = CLAMP (zoom, KP_ZOOM_MIN, KP_ZOOM_MAX);
  if (zoom == self->view.scale && !self->fit)
    return;

  zoom_at (self, zoom,
           gtk_widget_get_width (GTK_WIDGET (self)) / 2.0,
           gtk_widget_get_height (GTK_WIDGET (self)) / 2.0);
}

gboolean
kp_canvas_get_fit (KpCanvas *self)
{
  g_return_val_if_fail (KP_IS_CANVAS (self), FALSE);

  return self->fit;
}

void
kp_canvas_zoom_fit (KpCanvas *self)
{
  g_return_if_fail (KP_IS_CANVAS (self));

  refit (self);
}

const KpView *
kp_canvas_get_view (KpCanvas *self)
{
  g_return_val_if_fail (KP_IS_CANVAS (self), NULL);

  return &self->view;
}

/**
 * kp_canvas_set_view:
 *
 * Sets the view transform (clamped so the image stays in view once the
 * widget has a size) and leaves fit mode.
 */
void
kp_canvas_set_view (KpCanvas     *self,
                    const KpView *view)
{
  KpView v;

  g_return_if_fail (KP_IS_CANVAS (self));
  g_return_if_fail (view != NULL);
  g_return_if_fail (view->scale > 0);

  v = *view;
  v.scale = CLAMP (v.scale, KP_ZOOM_MIN, KP_ZOOM_MAX);
  apply_view (self, v, FALSE);
}

gboolean
kp_canvas_get_show_captions (KpCanvas *self)
{
  g_return_val_if_fail (KP_IS_CANVAS (self), FALSE);

  return self->show_captions;
}

void
kp_canvas_set_show_captions (KpCanvas *self,
                             gboolean  show_captions)
{
  g_return_if_fail (KP_IS_CANVAS (self));

  show_captions = !!show_captions;
  if (self->show_captions == show_captions)
    return;

  self->show_captions = show_captions;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHOW_CAPTIONS]);
}

void
kp_canvas_tool_press (KpCanvas        *self,
                      double           image_x,
                      double           image_y,
                      GdkModifierType  state)
{
  g_return_if_fail (KP_IS_CANVAS (self));

  kp_tool_press (self->tool, image_x, image_y, state);
}

void
kp_canvas_tool_motion (KpCanvas        *self,
                       double           image_x,
                       double           image_y,
                       GdkModifierType  state)
{
  g_return_if_fail (KP_IS_CANVAS (self));

  kp_tool_motion (self->tool, image_x, image_y, state);
}

void
kp_canvas_tool_release (KpCanvas        *self,
                        double           image_x,
                        double           image_y,
                        GdkModifierType  state)
{
  g_return_if_fail (KP_IS_CANVAS (self));

  kp_tool_release (self->tool, image_x, image_y, state);
}

/**
 * kp_canvas_zoom_at:
 * @widget_x: the anchor, in widget coordinates
 *
 * Sets the scale keeping the image point under (widget_x, widget_y) fixed,
 * as Ctrl+scroll does at the pointer, and leaves fit mode.
 */
void
kp_canvas_zoom_at (KpCanvas *self,
                   double    zoom,
                   double    widget_x,
                   double    widget_y)
{
  g_return_if_fail (KP_IS_CANVAS (self));
  g_return_if_fail (zoom > 0);

  zoom_at (self, CLAMP (zoom, KP_ZOOM_MIN, KP_ZOOM_MAX), widget_x, widget_y);
}

/**
 * kp_canvas_zoom_100:
 *
 * Shows the image at 100 %, anchored at the pointer when it is over the
 * canvas, else at the centre.
 */
void
kp_canvas_zoom_100 (KpCanvas *self)
{
  double x, y;

  g_return_if_fail (KP_IS_CANVAS (self));

  get_zoom_anchor (self, &x, &y);
  zoom_at (self, 1.0, x, y);
}

/**
 * kp_canvas_zoom_to_selection:
 *
 * Centres the selected annotation and scales it to fill the canvas with a
 * margin (at most 800 %). Returns FALSE, changing nothing, without a
 * selection or before the canvas has a size.
 */
gboolean
kp_canvas_zoom_to_selection (KpCanvas *self)
{
  const KpAnnotation *selected;
  double width, height, scale;
  KpView view;

  g_return_val_if_fail (KP_IS_CANVAS (self), FALSE);

  if (self->document == NULL || self->selected_id == 0 || !has_size (self) ||
      (selected = kp_document_lookup (self->document, self->selected_id)) == NULL)
    return FALSE;

  width = gtk_widget_get_width (GTK_WIDGET (self));
  height = gtk_widget_get_height (GTK_WIDGET (self));
  scale = MIN (width * (1 - 2 * SELECTION_MARGIN) / MAX (selected->rect.width, 1),
               height * (1 - 2 * SELECTION_MARGIN) / MAX (selected->rect.height, 1));
  scale = CLAMP (scale, KP_ZOOM_MIN, SELECTION_MAX_SCALE);

  view.scale = scale;
  view.offset_x = width / 2 - (selected->rect.x + selected->rect.width / 2) * scale;
  view.offset_y = height / 2 - (selected->rect.y + selected->rect.height / 2) * scale;
  apply_view (self, view, FALSE);

  return TRUE;
}

/**
 * kp_canvas_pan_by:
 *
 * Moves the image by (dx, dy) widget pixels, within the clamp, as a drag
 * or a scroll does.
 */
void
kp_canvas_pan_by (KpCanvas *self,
                  double    dx,
                  double    dy)
{
  g_return_if_fail (KP_IS_CANVAS (self));

  pan_by (self, dx, dy);
}

double
kp_canvas_get_brightness (KpCanvas *self)
{
  g_return_val_if_fail (KP_IS_CANVAS (self), 0.0);

  return self->brightness;
}

/**
 * kp_canvas_set_brightness:
 * @brightness: -1 (black) … 0 (unchanged) … 1 (white), added to each channel
 */
void
kp_canvas_set_brightness (KpCanvas *self,
                          double    brightness)
{
  g_return_if_fail (KP_IS_CANVAS (self));

  brightness = CLAMP (brightness, -1.0, 1.0);
  if (self->brightness == brightness)
    return;

  self->brightness = brightness;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BRIGHTNESS]);
}

double
kp_canvas_get_contrast (KpCanvas *self)
{
  g_return_val_if_fail (KP_IS_CANVAS (self), 1.0);

  return self->contrast;
}

/**
 * kp_canvas_set_contrast:
 * @contrast: 0 (flat grey) … 1 (unchanged) … 10, scaling around mid-grey
 */
void
kp_canvas_set_contrast (KpCanvas *self,
                        double    contrast)
{
  g_return_if_fail (KP_IS_CANVAS (self));

  contrast = CLAMP (contrast, 0.0, 10.0);
  if (self->contrast == contrast)
    return;

  self->contrast = contrast;
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONTRAST]);
}

double
kp_canvas_get_gamma (KpCanvas *self)
{
  g_return_val_if_fail (KP_IS_CANVAS (self), 1.0);

  return self->gamma;
}

/**
 * kp_canvas_set_gamma:
 * @gamma: 0.1 … 10; each channel becomes value^(1/gamma), so above 1 the
 *   mid-tones brighten
 *
 * The corrected image is computed in a worker thread; until it is ready the
 * canvas shows the image as it was.
 */
void
kp_canvas_set_gamma (KpCanvas *self,
                     double    gamma)
{
  g_return_if_fail (KP_IS_CANVAS (self));

  gamma = CLAMP (gamma, 0.1, 10.0);
  if (self->gamma == gamma)
    return;

  self->gamma = gamma;
  update_gamma (self);
  if (self->image_layer != NULL)
    layer_set_gamma (self->image_layer, gamma);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_GAMMA]);
}

GdkTexture *
_kp_canvas_get_display_texture (KpCanvas *self)
{
  g_return_val_if_fail (KP_IS_CANVAS (self), NULL);

  return self->texture != NULL ? get_display_texture (self) : NULL;
}
