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
/* Composited tiles (see "Composites") kept around the view, in each
 * direction, and how many tiles born in one frame are composited at once:
 * more (a zoom step, a new document) are drawn in layers that frame. */
#define COMPOSITE_KEEP 1
#define COMPOSITE_BURST 12
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
  struct _CaptionNode *caption; /* the label's name; lazily */
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

/* One shape as drawn. Plain boxes are written straight into pixels or
 * colour nodes; every other shape (and a suggestion's dashed box) is a
 * "vector" item drawn through cairo into the tile's pixels. */
typedef struct
{
  KpShape             shape;
  DeviceBox           box;      /* what it covers, device pixels, outline and point rings included */
  GdkRGBA             color;
  GdkRGBA             fill;
  int                 line;     /* device pixels */
  guint               selected : 1;
  guint               pending : 1;
  guint               vector : 1;
  const KpAnnotation *annotation; /* geometry of a vector item */
  cairo_surface_t    *mask;     /* MASK: A8, an image pixel each; borrowed */
  double              scale;    /* device pixels per image pixel */
  int                 sf;
} DrawItem;

/* The pixels of one tile, size x size, whose top-left is at (x, y). */
typedef struct
{
  guint32         *data;
  int              x;
  int              y;
  int              size;
  cairo_surface_t *surface;     /* over data, for vector items; lazily */
  cairo_t         *cr;
} TilePixels;

typedef struct
{
  gint64         key;           /* tile_key (tx, ty) */
  GArray        *items;         /* DrawItem, until rendered */
  GskRenderNode *node;          /* layer coordinates; NULL when empty */
  GskRenderNode *composite;     /* background, image and node as one texture, or NULL */
  guint64        born;          /* the frame that made it */
  guint          n_centres;     /* shapes whose centre is in the tile */
  guint          crowded : 1;   /* drawn at the crowded level of detail */
  guint          has_vector : 1; /* holds items drawn through cairo */
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
  KpTool             *status_tool;      /* whose "status-changed" we hear */

  /* Culling and picking */
  KpSpatialIndex     *index;
  GHashTable         *entries;          /* gint64* -> Entry* */
  GHashTable         *mask_surfaces;    /* gint64* -> cairo_surface_t*, A8 */

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
  gint64              partial_id;       /* replaced only in partial_tiles, or 0 */
  GHashTable         *partial_tiles;    /* gint64* set of tile keys */
  GHashTable         *captions;         /* char* -> CaptionNode*, beyond label names */
  GskRenderer        *composite_renderer; /* what drew the composites; not a reference */
  guint64             frame;            /* snapshots taken */

  /* The preview layer (see "The overlay") */
  GHashTable         *preview_tiles;    /* gint64* -> Tile* */
  GPtrArray          *preview_copies;   /* KpAnnotation*: vector previews as last drawn */
  GPtrArray          *preview_masks;    /* cairo_surface_t* or NULL, for each copy */
  double              preview_scale;
  int                 preview_sf;

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

static void caption_node_free (gpointer data);

static void
label_info_free (gpointer data)
{
  LabelInfo *info = data;

  g_clear_pointer (&info->label, kp_label_free);
  g_clear_pointer (&info->caption, caption_node_free);
  g_free (info);
}


static void
surface_destroy0 (gpointer data)
{
  if (data != NULL)
    cairo_surface_destroy (data);
}

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
        *width = kp_image_layer_get_width (self->image_layer);
      if (height != NULL)
        *height = kp_image_layer_get_height (self->image_layer);
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
static void     clear_preview         (KpCanvas     *self);
static void     rect_union            (KpRect       *rect,
                                       const KpRect *other);
static KpRect   preview_dirty_rect    (const KpAnnotation *old,
                                       const KpAnnotation *new,
                                       gboolean           *local);
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
shape_name (KpShape shape)
{
  switch (shape)
    {
    case KP_SHAPE_BOX:
      return _("box");
    case KP_SHAPE_ROTATED_BOX:
      return _("rotated box");
    case KP_SHAPE_POLYGON:
      return _("polygon");
    case KP_SHAPE_POLYLINE:
      return _("polyline");
    case KP_SHAPE_LINE:
      return _("line");
    case KP_SHAPE_POINT:
      return _("point");
    case KP_SHAPE_MASK:
      return _("mask");
    default:
      return "";
    }
}

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
  g_autofree char *objects = NULL;
  g_autofree char *description = NULL;
  guint n = 0;

  if (!has_image (self))
    {
      gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, _("No image"),
                                      -1);
      return;
    }

  /* Keyboard-only drawing is announced as it goes. */
  if (self->tool != NULL)
    description = kp_tool_dup_status (self->tool);
  if (description != NULL)
    {
      gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                      GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description,
                                      -1);
      return;
    }

  if (self->document != NULL)
    n = kp_document_get_annotations (self->document)->len;

  objects = g_strdup_printf (ngettext ("Image, %u object", "Image, %u objects", n), n);

  if (self->selected_id != 0 && self->document != NULL)
    {
      const KpAnnotation *selected = kp_document_lookup (self->document, self->selected_id);
      const char *name = selected != NULL ? get_label_name (self, selected->label_id) : NULL;
      const char *shape = selected != NULL ? shape_name (selected->shape) : "";
      guint n_selected = self->selection->len;

      if (n_selected == 1)
        /* Translators: "Image, N objects", then a label name and a shape
         * name, e.g. "Image, 3 objects, selected: car (polygon)" */
        description = g_strdup_printf (_("%s, selected: %s (%s)"), objects,
                                       name != NULL ? name : _("unlabelled"), shape);
      else
        /* Translators: "Image, N objects", the number selected, then the
         * label and shape of the last one selected */
        description = g_strdup_printf (ngettext ("%s, %u selected, last: %s (%s)",
                                                 "%s, %u selected, last: %s (%s)",
                                                 n_selected),
                                       objects, n_selected,
                                       name != NULL ? name : _("unlabelled"), shape);
    }
  else
    {
      description = g_steal_pointer (&objects);
    }

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description,
                                  -1);
}

/* Hears "status-changed" of the current tool only. The canvas holds a
 * reference to its tool, so status_tool is alive while connected. */
static void
unwatch_tool_status (KpCanvas *self)
{
  if (self->status_tool != NULL)
    g_signal_handlers_disconnect_by_func (self->status_tool, update_accessible, self);
  self->status_tool = NULL;
}

static void
watch_tool_status (KpCanvas *self)
{
  unwatch_tool_status (self);
  self->status_tool = self->tool;
  if (self->status_tool != NULL)
    g_signal_connect_swapped (self->status_tool, "status-changed",
                              G_CALLBACK (update_accessible), self);
}

static void
update_actions (KpCanvas *self)
{
  gboolean has_annotations = self->document != NULL &&
                             kp_document_get_annotations (self->document)->len > 0;
  gboolean image = has_image (self);

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "annotation.delete", self->selection->len > 0);
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
    {
      int sf = MAX (1, gtk_widget_get_scale_factor (GTK_WIDGET (self)));

      view = kp_view_clamp_pan (view, image_width, image_height,
                                gtk_widget_get_width (GTK_WIDGET (self)),
                                gtk_widget_get_height (GTK_WIDGET (self)));
      /* The image's origin on a device pixel, where the annotation tiles
       * are placed: a centred image in a canvas of the other parity would
       * otherwise start half a pixel in, and every box edge would fall
       * half a pixel off the image's pixels. */
      view.offset_x = round (view.offset_x * sf) / sf;
      view.offset_y = round (view.offset_y * sf) / sf;
    }

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
  g_hash_table_remove_all (self->mask_surfaces);
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

  g_hash_table_remove (self->mask_surfaces, &id);
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
  const KpAnnotation * const *previews;
  guint n_previews = 0;

  g_assert (KP_IS_CANVAS (self));
  g_assert (KP_IS_DOCUMENT (document));

  if (annotation_id == 0)
    rebuild_index (self);
  else
    update_entry (self, annotation_id);

  /* An undo may take away the object a gesture is working on. */
  previews = kp_tool_get_preview_annotations (self->tool, &n_previews);
  for (guint i = 0; i < n_previews; i++)
    if (previews[i]->id != 0 &&
        (annotation_id == 0 || annotation_id == previews[i]->id) &&
        kp_document_lookup (document, previews[i]->id) == NULL)
      {
        kp_tool_cancel (self->tool);
        break;
      }

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

gboolean
_kp_canvas_get_label_color (KpCanvas *self,
                            gint64    label_id,
                            GdkRGBA  *color)
{
  LabelInfo *info;

  g_return_val_if_fail (KP_IS_CANVAS (self), FALSE);
  g_return_val_if_fail (color != NULL, FALSE);

  info = lookup_label (self, label_id);
  *color = info != NULL ? info->color : self->accent_color;

  return info != NULL;
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

/* Suggestions nobody decided on are drawn lighter and dashed. */
#define PENDING_ALPHA 0.6
#define MASK_ALPHA 0.4
#define POINT_RADIUS 3.5
#define POINT_RING 7.0
/* Device pixels a vector item may reach beyond its bounds (point rings,
 * strokes centred on the edges); tiles are collected and dropped with it. */
#define VECTOR_MARGIN(sf) ((int)ceil ((POINT_RING + SELECTED_LINE_WIDTH + 2) * (sf)))

static cairo_surface_t *ensure_mask_surface (KpCanvas           *self,
                                             const KpAnnotation *annotation);
static int mask_surface_get_shift (cairo_surface_t *surface);

static void
init_item (KpCanvas           *self,
           DrawItem           *item,
           const KpAnnotation *annotation,
           gboolean            selected)
{
  int sf = get_scale_factor (self);
  LabelInfo *info = lookup_label (self, annotation->label_id);

  item->shape = annotation->shape;
  item->scale = self->view.scale * sf;
  item->sf = sf;
  item->box = device_box (self->view.scale, sf, &annotation->rect);
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
  item->pending = annotation->review == KP_REVIEW_PENDING;
  item->vector = annotation->shape != KP_SHAPE_BOX || item->pending;
  item->annotation = item->vector ? annotation : NULL;
  item->mask = NULL;

  if (item->pending)
    {
      item->color.alpha *= PENDING_ALPHA;
      item->fill.alpha *= PENDING_ALPHA;
    }
  if (selected && item->vector)
    item->fill.alpha = MIN (1, item->fill.alpha * 2);

  if (item->vector)
    {
      int margin = VECTOR_MARGIN (sf);

      item->box.x0 -= margin;
      item->box.y0 -= margin;
      item->box.x1 += margin;
      item->box.y1 += margin;
    }

  if (annotation->shape == KP_SHAPE_MASK)
    item->mask = ensure_mask_surface (self, annotation);
}

/* Vector items: cairo in device pixels of the layer, translated to the
 * tile. Long outlines are culled to the tile segment by segment and
 * polygons clipped to it before cairo sees them, so a 50,000-vertex
 * polygon costs each tile a pass over its vertices, not a tessellation
 * of all of them; vertices closer than a device pixel merge. */

typedef struct
{
  double x0;
  double y0;
  double x1;
  double y1;
} ClipRect;

static void
set_source (cairo_t       *cr,
            const GdkRGBA *color)
{
  cairo_set_source_rgba (cr, color->red, color->green, color->blue, color->alpha);
}

static void
stroke_points (cairo_t         *cr,
               const DrawItem  *item,
               const KpPoint   *points,
               guint            n,
               gboolean         closed,
               const ClipRect  *clip)
{
  double s = item->scale;
  gboolean open = FALSE;
  double lx = 0, ly = 0;
  guint n_segments;

  if (n < 2)
    return;

  n_segments = closed ? n : n - 1;
  for (guint i = 0; i < n_segments; i++)
    {
      const KpPoint *a = &points[i];
      const KpPoint *b = &points[(i + 1) % n];
      double ax = a->x * s, ay = a->y * s, bx = b->x * s, by = b->y * s;

      if (MAX (ax, bx) < clip->x0 || MIN (ax, bx) > clip->x1 ||
          MAX (ay, by) < clip->y0 || MIN (ay, by) > clip->y1)
        {
          open = FALSE;
          continue;
        }

      if (!open)
        {
          cairo_move_to (cr, ax, ay);
          lx = ax;
          ly = ay;
          open = TRUE;
        }
      /* Merge what lands in the same device pixel, except the last point. */
      if (fabs (bx - lx) < item->sf && fabs (by - ly) < item->sf && i + 1 < n_segments)
        continue;
      cairo_line_to (cr, bx, by);
      lx = bx;
      ly = by;
    }
}

/* Sutherland-Hodgman against one edge of the clip. */
static void
clip_edge (GArray *in,
           GArray *out,
           int     edge,
           double  limit)
{
  out->len = 0;
  if (in->len == 0)
    return;

  for (guint i = 0; i < in->len; i++)
    {
      const KpPoint *p = &g_array_index (in, KpPoint, i);
      const KpPoint *q = &g_array_index (in, KpPoint, (i + 1) % in->len);
      double pv = (edge & 1) ? p->y : p->x;
      double qv = (edge & 1) ? q->y : q->x;
      gboolean p_in = edge < 2 ? pv >= limit : pv <= limit;
      gboolean q_in = edge < 2 ? qv >= limit : qv <= limit;

      if (p_in)
        g_array_append_val (out, *p);
      if (p_in != q_in)
        {
          double t = (limit - pv) / (qv - pv);
          KpPoint r = { p->x + (q->x - p->x) * t, p->y + (q->y - p->y) * t };

          g_array_append_val (out, r);
        }
    }
}

static void
fill_polygon (cairo_t        *cr,
              const DrawItem *item,
              const KpPoint  *points,
              guint           n,
              const ClipRect *clip)
{
  g_autoptr(GArray) a = NULL;
  g_autoptr(GArray) b = NULL;
  double s = item->scale;
  double lx = 0, ly = 0;

  if (n < 3)
    return;

  a = g_array_sized_new (FALSE, FALSE, sizeof (KpPoint), n);
  b = g_array_sized_new (FALSE, FALSE, sizeof (KpPoint), n);

  /* Device pixels, merging runs inside one pixel. */
  for (guint i = 0; i < n; i++)
    {
      KpPoint p = { points[i].x * s, points[i].y * s };

      if (a->len > 0 && fabs (p.x - lx) < item->sf && fabs (p.y - ly) < item->sf)
        continue;
      g_array_append_val (a, p);
      lx = p.x;
      ly = p.y;
    }

  if (a->len > 64)
    {
      clip_edge (a, b, 0, clip->x0);
      clip_edge (b, a, 1, clip->y0);
      clip_edge (a, b, 2, clip->x1);
      clip_edge (b, a, 3, clip->y1);
    }
  if (a->len < 3)
    return;

  cairo_move_to (cr, g_array_index (a, KpPoint, 0).x, g_array_index (a, KpPoint, 0).y);
  for (guint i = 1; i < a->len; i++)
    cairo_line_to (cr, g_array_index (a, KpPoint, i).x, g_array_index (a, KpPoint, i).y);
  cairo_close_path (cr);
  cairo_set_fill_rule (cr, CAIRO_FILL_RULE_EVEN_ODD);
  set_source (cr, &item->fill);
  cairo_fill (cr);
}

static void
set_stroke (cairo_t        *cr,
            const DrawItem *item)
{
  cairo_set_line_width (cr, item->line);
  cairo_set_line_join (cr, CAIRO_LINE_JOIN_ROUND);
  cairo_set_line_cap (cr, CAIRO_LINE_CAP_ROUND);
  if (item->pending)
    {
      double dashes[2] = { 6.0 * item->sf, 4.0 * item->sf };

      cairo_set_dash (cr, dashes, 2, 0);
    }
  else
    cairo_set_dash (cr, NULL, 0, 0);
  set_source (cr, &item->color);
}

static void
rotated_corners (const DrawItem *item,
                 KpPoint         corners[4])
{
  kp_rotated_box_corners (&item->annotation->rotated, corners);
}

/* pass 0: fills, 1: outlines. clip: the tile in device pixels, with room
 * for the strokes. */
static void
draw_vector (cairo_t        *cr,
             const DrawItem *item,
             guint           pass,
             gboolean        crowded,
             const ClipRect *clip)
{
  const KpAnnotation *annotation = item->annotation;
  gboolean fill = pass == 0 && (item->selected || !crowded);
  double s = item->scale;

  switch (item->shape)
    {
    case KP_SHAPE_BOX:
      {
        const KpRect *r = &annotation->rect;
        double inset = item->line / 2.0;

        if (fill)
          {
            cairo_rectangle (cr, r->x * s, r->y * s, r->width * s, r->height * s);
            set_source (cr, &item->fill);
            cairo_fill (cr);
          }
        else if (pass == 1)
          {
            cairo_rectangle (cr, r->x * s + inset, r->y * s + inset,
                             MAX (r->width * s - 2 * inset, 0), MAX (r->height * s - 2 * inset, 0));
            set_stroke (cr, item);
            cairo_stroke (cr);
          }
      }
      break;

    case KP_SHAPE_ROTATED_BOX:
      {
        KpPoint corners[4];

        rotated_corners (item, corners);
        for (guint i = 0; i < 4; i++)
          {
            corners[i].x *= s;
            corners[i].y *= s;
          }
        if (pass == 1 || fill)
          {
            cairo_move_to (cr, corners[0].x, corners[0].y);
            for (guint i = 1; i < 4; i++)
              cairo_line_to (cr, corners[i].x, corners[i].y);
            cairo_close_path (cr);
          }
        if (fill)
          {
            set_source (cr, &item->fill);
            cairo_fill (cr);
          }
        else if (pass == 1)
          {
            set_stroke (cr, item);
            cairo_stroke (cr);
          }
      }
      break;

    case KP_SHAPE_POLYGON:
      if (fill)
        fill_polygon (cr, item, annotation->points, annotation->n_points, clip);
      else if (pass == 1)
        {
          stroke_points (cr, item, annotation->points, annotation->n_points, TRUE, clip);
          set_stroke (cr, item);
          /* Dense outlines: round joins on thousands of tiny segments
           * cost more than the rest of the tile. */
          if (annotation->n_points > 256)
            cairo_set_line_join (cr, CAIRO_LINE_JOIN_BEVEL);
          cairo_stroke (cr);
        }
      break;

    case KP_SHAPE_POLYLINE:
    case KP_SHAPE_LINE:
      if (pass == 1)
        {
          stroke_points (cr, item, annotation->points, annotation->n_points, FALSE, clip);
          set_stroke (cr, item);
          if (annotation->n_points > 256)
            cairo_set_line_join (cr, CAIRO_LINE_JOIN_BEVEL);
          cairo_stroke (cr);
        }
      break;

    case KP_SHAPE_POINT:
      if (pass == 1 && annotation->n_points > 0)
        {
          double x = annotation->points[0].x * s;
          double y = annotation->points[0].y * s;
          double sf = item->sf;

          set_stroke (cr, item);
          cairo_set_dash (cr, NULL, 0, 0);
          cairo_set_line_width (cr, (item->selected ? 2.0 : 1.5) * sf);
          cairo_new_sub_path (cr);
          cairo_arc (cr, x, y, POINT_RING * sf, 0, 2 * G_PI);
          cairo_stroke (cr);
          cairo_new_sub_path (cr);
          cairo_arc (cr, x, y, POINT_RADIUS * sf, 0, 2 * G_PI);
          /* An occluded keypoint is drawn hollow. */
          if (annotation->occluded)
            cairo_stroke (cr);
          else
            cairo_fill (cr);
        }
      break;

    case KP_SHAPE_MASK:
      if (pass == 0 && item->mask != NULL && annotation->mask != NULL)
        {
          cairo_pattern_t *pattern;
          GdkRGBA color = item->color;
          int shift = mask_surface_get_shift (item->mask);

          color.alpha = (item->selected ? 1.5 : 1.0) * MASK_ALPHA * (item->pending ? PENDING_ALPHA : 1);

          cairo_save (cr);
          cairo_scale (cr, s, s);
          cairo_translate (cr, annotation->mask->x, annotation->mask->y);
          cairo_scale (cr, 1 << shift, 1 << shift);
          set_source (cr, &color);
          pattern = cairo_pattern_create_for_surface (item->mask);
          /* A reduced mask's pixels are no larger than a device pixel. */
          cairo_pattern_set_filter (pattern, shift == 0 ? CAIRO_FILTER_NEAREST : CAIRO_FILTER_BILINEAR);
          cairo_mask (cr, pattern);
          cairo_pattern_destroy (pattern);
          cairo_restore (cr);
        }
      break;

    default:
      break;
    }
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

/* A mask as an A8 surface, decoded once per version of the object (the
 * cache entry goes when it changes) and per level of detail. At shift 0
 * it has a pixel per image pixel, drawn with nearest filtering; zoomed
 * out, each of its pixels covers 2^shift × 2^shift image pixels, with
 * their coverage as alpha, so a mask over much of a gigapixel image costs
 * what the screen shows, not its area. Made from the runs directly. */

static const cairo_user_data_key_t mask_shift_key;

/* The level of detail for a view: the coarsest whose pixel is at most a
 * device pixel. */
static int
mask_shift_for_scale (double device_scale)
{
  int shift = 0;

  while (shift < 12 && device_scale * (double)(2 << shift) <= 1.0)
    shift++;

  return shift;
}

static int
mask_surface_get_shift (cairo_surface_t *surface)
{
  return GPOINTER_TO_INT (cairo_surface_get_user_data (surface, &mask_shift_key));
}

static cairo_surface_t *
mask_surface_new (const KpMask *mask,
                  int           shift)
{
  g_autofree guint32 *sums = NULL;
  cairo_surface_t *surface;
  guint8 *data;
  int stride, width, height, block, x = 0, y = 0, band = 0;
  guint area;

  if (mask == NULL || mask->width <= 0 || mask->height <= 0)
    return NULL;

  block = 1 << shift;
  width = (mask->width + block - 1) >> shift;
  height = (mask->height + block - 1) >> shift;
  area = (guint)block * block;
  surface = cairo_image_surface_create (CAIRO_FORMAT_A8, width, height);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    {
      cairo_surface_destroy (surface);
      return NULL;
    }
  cairo_surface_set_user_data (surface, &mask_shift_key, GINT_TO_POINTER (shift), NULL);

  cairo_surface_flush (surface);
  data = cairo_image_surface_get_data (surface);
  stride = cairo_image_surface_get_stride (surface);
  memset (data, 0, (gsize)stride * height);
  sums = g_new0 (guint32, width);

  /* The runs in row order: set ones add to the sums of the blocks they
   * cross; a finished band of block rows becomes a row of the surface. */
  for (guint i = 0; i < mask->n_counts; i++)
    {
      guint32 left = mask->counts[i];
      gboolean set = i % 2 == 1;

      while (left > 0)
        {
          guint32 n = MIN (left, (guint32)(mask->width - x));

          if (set)
            for (int px = x; px < x + (int)n;)
              {
                int bx = px >> shift;
                int end = MIN (x + (int)n, (bx + 1) << shift);

                sums[bx] += end - px;
                px = end;
              }
          x += n;
          left -= n;
          if (x == mask->width)
            {
              x = 0;
              y++;
              if ((y & (block - 1)) == 0 || y == mask->height)
                {
                  guint8 *row = data + (gsize)band * stride;

                  for (int bx = 0; bx < width; bx++)
                    row[bx] = (guint8)MIN (255, (sums[bx] * 255 + area / 2) / area);
                  memset (sums, 0, sizeof (guint32) * width);
                  band++;
                }
            }
        }
    }
  cairo_surface_mark_dirty (surface);

  return surface;
}

static cairo_surface_t *
ensure_mask_surface (KpCanvas           *self,
                     const KpAnnotation *annotation)
{
  cairo_surface_t *surface;
  int shift = mask_shift_for_scale (self->view.scale * get_scale_factor (self));

  if (annotation->id == 0)
    return NULL;

  surface = g_hash_table_lookup (self->mask_surfaces, &annotation->id);
  if (surface != NULL && mask_surface_get_shift (surface) == shift)
    return surface;
  if ((surface = mask_surface_new (annotation->mask, shift)) != NULL)
    g_hash_table_insert (self->mask_surfaces, dup_id (annotation->id), surface);
  else
    g_hash_table_remove (self->mask_surfaces, &annotation->id);

  return surface;
}

gsize
_kp_canvas_get_mask_bytes (KpCanvas *self)
{
  GHashTableIter iter;
  gpointer value;
  gsize bytes = 0;

  g_hash_table_iter_init (&iter, self->mask_surfaces);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    bytes += (gsize)cairo_image_surface_get_stride (value) * cairo_image_surface_get_height (value);

  return bytes;
}

/* Tiles */

static gint64
tile_key (int tx,
          int ty)
{
  /* Shifted unsigned: tiles left of or above the origin have negative
   * indices, and shifting a negative value is undefined. */
  return (gint64)(((guint64)(guint32)tx << 32) | (guint32)ty);
}

static void
tile_free (gpointer data)
{
  Tile *tile = data;

  g_clear_pointer (&tile->node, gsk_render_node_unref);
  g_clear_pointer (&tile->composite, gsk_render_node_unref);
  g_clear_pointer (&tile->items, g_array_unref);
  g_free (tile);
}

static void
clear_tiles (KpCanvas *self)
{
  g_hash_table_remove_all (self->tiles);
  g_clear_pointer (&self->layer_node, gsk_render_node_unref);
}

/* The image under the tiles changed (brightness, contrast, gamma), or
 * the renderer their textures belong to went away. */
static void
clear_composites (KpCanvas *self)
{
  GHashTableIter iter;
  Tile *tile;

  self->composite_renderer = NULL;
  if (self->tiles == NULL)
    return;

  g_hash_table_iter_init (&iter, self->tiles);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&tile))
    g_clear_pointer (&tile->composite, gsk_render_node_unref);
}

/* Removes from tiles (cached at scale and device scale sf) those under
 * rect, in image coordinates, and what vector items draw beyond their
 * bounds; TRUE when one was there. */
static gboolean
drop_tiles (GHashTable   *tiles,
            double        scale,
            int           sf,
            const KpRect *rect)
{
  int size = TILE_SIZE * sf;
  DeviceBox box = device_box (scale, sf, rect);
  gboolean dropped = FALSE;

  box.x0 -= VECTOR_MARGIN (sf);
  box.y0 -= VECTOR_MARGIN (sf);
  box.x1 += VECTOR_MARGIN (sf);
  box.y1 += VECTOR_MARGIN (sf);
  for (int ty = (int)floor ((double)box.y0 / size); ty <= box.y1 / size; ty++)
    for (int tx = (int)floor ((double)box.x0 / size); tx <= box.x1 / size; tx++)
      {
        gint64 key = tile_key (tx, ty);

        dropped |= g_hash_table_remove (tiles, &key);
      }

  return dropped;
}

/* Drops the tiles under rect (image coordinates) at the cached scale. */
static void
invalidate_image_rect (KpCanvas     *self,
                       const KpRect *rect)
{
  if (g_hash_table_size (self->tiles) == 0 || self->tiles_scale_factor == 0)
    return;

  if (drop_tiles (self->tiles, self->tiles_scale, self->tiles_scale_factor, rect))
    g_clear_pointer (&self->layer_node, gsk_render_node_unref);
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

  /* Slack for the rounding to device pixels and for what vector items
   * draw beyond their bounds. */
  area.x = (tx0 * size - (double)VECTOR_MARGIN (sf)) / (scale * sf);
  area.y = (ty0 * size - (double)VECTOR_MARGIN (sf)) / (scale * sf);
  area.width = (columns * size + 2.0 * VECTOR_MARGIN (sf)) / (scale * sf);
  area.height = (rows * size + 2.0 * VECTOR_MARGIN (sf)) / (scale * sf);

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

      init_item (self, &item, annotation,
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
            if (G_UNLIKELY (annotation->id == self->partial_id) &&
                g_hash_table_contains (self->partial_tiles, &tile->key))
              continue;

            g_array_append_val (tile->items, item);
            tile->has_vector |= item.vector;
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

/* A vector item drawn into pixels written directly before and after. */
static void
pixels_draw_vector (TilePixels     *pixels,
                    const DrawItem *item,
                    guint           pass,
                    gboolean        crowded)
{
  int margin = VECTOR_MARGIN (item->sf);
  ClipRect clip = { pixels->x - margin, pixels->y - margin,
                    pixels->x + pixels->size + margin, pixels->y + pixels->size + margin };

  if (pixels->surface == NULL)
    {
      pixels->surface = cairo_image_surface_create_for_data ((guchar *)pixels->data,
                                                             CAIRO_FORMAT_ARGB32,
                                                             pixels->size, pixels->size,
                                                             pixels->size * 4);
      pixels->cr = cairo_create (pixels->surface);
      cairo_translate (pixels->cr, -pixels->x, -pixels->y);
    }
  else
    cairo_surface_mark_dirty (pixels->surface);

  draw_vector (pixels->cr, item, pass, crowded, &clip);
  cairo_surface_flush (pixels->surface);
}

static void
render_pixels (TileJob *job)
{
  GArray *items = job->tile->items;

  for (guint pass = 0; pass < 2; pass++)
    for (guint i = 0; i < items->len; i++)
      {
        const DrawItem *item = &g_array_index (items, DrawItem, i);

        if (item->vector)
          pixels_draw_vector (&job->pixels, item, pass, job->crowded);
        else if (pass == 1)
          box_outline_pixels (&job->pixels, item);
        else if (item->selected || !job->crowded)
          box_fill_pixels (&job->pixels, item);
      }

  if (job->pixels.cr != NULL)
    {
      cairo_destroy (job->pixels.cr);
      cairo_surface_destroy (job->pixels.surface);
      job->pixels.cr = NULL;
      job->pixels.surface = NULL;
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

/* A tile of one colour (inside a large polygon or mask) or of none
 * becomes a colour node or nothing: the renderer shades it without a
 * texture, or not at all. */
static gboolean
finish_uniform_tile (Tile       *tile,
                     TilePixels *pixels)
{
  gsize n = (gsize)pixels->size * pixels->size;
  guint32 first = pixels->data[0];
  GdkRGBA color;
  double a;

  for (gsize i = 1; i < n; i++)
    if (pixels->data[i] != first)
      return FALSE;

  g_clear_pointer (&pixels->data, g_free);
  if ((first >> 24) == 0)
    return TRUE;

  a = (first >> 24) / 255.0;
  color = (GdkRGBA) { ((first >> 16) & 0xff) / 255.0 / a, ((first >> 8) & 0xff) / 255.0 / a,
                      (first & 0xff) / 255.0 / a, a };
  color.red = MIN (color.red, 1);
  color.green = MIN (color.green, 1);
  color.blue = MIN (color.blue, 1);
  tile->node = gsk_color_node_new (&color,
                                   &GRAPHENE_RECT_INIT (tile_x (tile) * TILE_SIZE, tile_y (tile) * TILE_SIZE,
                                                        TILE_SIZE, TILE_SIZE));
  return TRUE;
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
        box_fill_nodes (snapshot, item, &clip, sf);
    }
  for (guint i = 0; i < items->len; i++)
    {
      const DrawItem *item = &g_array_index (items, DrawItem, i);

      box_outline_nodes (snapshot, item, &clip, sf);
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

      if (tile->items->len <= NODE_TILE_MAX && !tile->has_vector)
        render_nodes (self, tile, crowded);
      else
        {
          TileJob job = { tile, { NULL, tile_x (tile) * size, tile_y (tile) * size, size, NULL, NULL }, crowded };

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

      if (!finish_uniform_tile (job->tile, &job->pixels))
        finish_tile (job->tile, &job->pixels);
    }

  for (guint i = 0; i < tiles->len; i++)
    g_clear_pointer (&((Tile *)g_ptr_array_index (tiles, i))->items, g_array_unref);
}

static void
invalidate_tile_key (KpCanvas *self,
                     gint64    key)
{
  if (g_hash_table_remove (self->tiles, &key))
    g_clear_pointer (&self->layer_node, gsk_render_node_unref);
}

/* A gesture that changes one long object in one place (a vertex of a
 * 50,000-vertex polygon) replaces it only in the tiles around that place:
 * everywhere else the cached tiles already show it as it is, and the
 * renderer shades nothing more than it did. As the changed place grows
 * or shrinks, only the tiles entering or leaving it are drawn again. */
static void
sync_partial (KpCanvas                   *self,
              const KpAnnotation * const *previews,
              guint                       n_previews)
{
  g_autoptr(GHashTable) keys = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  gint64 partial_id = 0;
  GHashTableIter iter;
  gint64 *key;

  if (n_previews == 1 && previews[0]->id != 0 && self->document != NULL &&
      (previews[0]->shape == KP_SHAPE_POLYGON || previews[0]->shape == KP_SHAPE_POLYLINE))
    {
      const KpAnnotation *current = kp_document_lookup (self->document, previews[0]->id);
      gboolean local = FALSE;
      KpRect dirty;

      /* A gesture that has not changed it yet (the press on a vertex)
       * replaces it nowhere: every tile shows it as it is. Leaving it
       * out of every tile, to bring it back at the first motion, would
       * draw all of its tiles twice. */
      if (current != NULL && kp_annotation_equal (current, previews[0]))
        partial_id = previews[0]->id;
      else if (current != NULL)
        dirty = preview_dirty_rect (current, previews[0], &local);
      if (local)
        {
          int sf = get_scale_factor (self);
          int size = TILE_SIZE * sf;
          DeviceBox box = device_box (self->view.scale, sf, &dirty);

          partial_id = previews[0]->id;
          box.x0 -= VECTOR_MARGIN (sf);
          box.y0 -= VECTOR_MARGIN (sf);
          box.x1 += VECTOR_MARGIN (sf);
          box.y1 += VECTOR_MARGIN (sf);
          for (int ty = (int)floor ((double)box.y0 / size); ty <= box.y1 / size; ty++)
            for (int tx = (int)floor ((double)box.x0 / size); tx <= box.x1 / size; tx++)
              g_hash_table_add (keys, dup_id (tile_key (tx, ty)));
        }
    }

  if (partial_id == 0 && self->partial_id == 0)
    return;

  /* Tiles that leave or join the set are drawn again. */
  g_hash_table_iter_init (&iter, self->partial_tiles);
  while (g_hash_table_iter_next (&iter, (gpointer *)&key, NULL))
    if (partial_id != self->partial_id || !g_hash_table_contains (keys, key))
      invalidate_tile_key (self, *key);
  g_hash_table_iter_init (&iter, keys);
  while (g_hash_table_iter_next (&iter, (gpointer *)&key, NULL))
    if (partial_id != self->partial_id || !g_hash_table_contains (self->partial_tiles, key))
      invalidate_tile_key (self, *key);

  /* It was left out everywhere before: now only here. */
  if (partial_id != 0 && g_hash_table_remove (self->tiles_excluded, &partial_id))
    invalidate_annotation (self, partial_id);

  self->partial_id = partial_id;
  g_hash_table_unref (self->partial_tiles);
  self->partial_tiles = g_steal_pointer (&keys);
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
  sync_partial (self, previews, n_previews);

  for (guint i = 0; i < n_previews; i++)
    if (previews[i]->id != 0 && previews[i]->id != self->partial_id)
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
                tile->born = self->frame;
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

/* The overlay: captions, the objects a gesture is changing, handles,
 * the crosshair and the tool's own marks */

typedef struct _CaptionNode
{
  GskRenderNode *node;          /* the text, drawn at (0, 0) */
  GdkRGBA        color;
  double         width;
  double         height;
} CaptionNode;

static void
caption_node_free (gpointer data)
{
  CaptionNode *caption = data;

  g_clear_pointer (&caption->node, gsk_render_node_unref);
  g_free (caption);
}

/* Shaped once per text and colour, however many frames show it. */
static CaptionNode *
caption_node_new (KpCanvas      *self,
                  const char    *text,
                  const GdkRGBA *color)
{
  g_autoptr(GtkSnapshot) snapshot = NULL;
  g_autoptr(PangoLayout) layout = NULL;
  CaptionNode *caption = g_new0 (CaptionNode, 1);
  PangoRectangle logical;
  GdkRGBA text_color;
  double luminance;

  layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
  pango_layout_get_pixel_extents (layout, NULL, &logical);

  caption->color = *color;
  caption->width = logical.width + 8;
  caption->height = logical.height + 2;

  luminance = 0.2126 * color->red + 0.7152 * color->green + 0.0722 * color->blue;
  if (luminance > 0.55 && color->alpha > 0.5)
    text_color = (GdkRGBA) { 0, 0, 0, 1 };
  else
    text_color = (GdkRGBA) { 1, 1, 1, 1 };

  snapshot = gtk_snapshot_new ();
  gtk_snapshot_append_layout (snapshot, layout, &text_color);
  caption->node = gtk_snapshot_to_node (snapshot);

  return caption;
}

static void
clear_captions (KpCanvas *self)
{
  GHashTableIter iter;
  LabelInfo *info;

  g_hash_table_iter_init (&iter, self->labels);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&info))
    g_clear_pointer (&info->caption, caption_node_free);
  g_hash_table_remove_all (self->captions);
}

/* The caption text of an object: its label, with a keypoint's name and
 * a suggestion's confidence. NULL for none. */
static char *
dup_caption_text (KpCanvas           *self,
                  const KpAnnotation *annotation)
{
  const char *name = get_label_name (self, annotation->label_id);
  g_autofree char *base = NULL;

  if (annotation->shape == KP_SHAPE_POINT && annotation->keypoint != NULL && *annotation->keypoint)
    {
      if (name != NULL)
        /* Translators: a keypoint's caption: the label, then the keypoint's name */
        base = g_strdup_printf (_("%s: %s"), name, annotation->keypoint);
      else
        base = g_strdup (annotation->keypoint);
    }
  else if (name != NULL)
    base = g_strdup (name);

  if (annotation->review == KP_REVIEW_PENDING)
    {
      int percent = (int)round (CLAMP (annotation->confidence, 0, 1) * 100);

      /* Translators: a suggested object's caption: its label and the
       * model's confidence in percent */
      return g_strdup_printf (_("%s? %d %%"), base != NULL ? base : _("Suggestion"), percent);
    }

  return g_steal_pointer (&base);
}

static CaptionNode *
lookup_caption (KpCanvas           *self,
                const KpAnnotation *annotation)
{
  LabelInfo *info = lookup_label (self, annotation->label_id);
  g_autofree char *text = NULL;
  g_autofree char *key = NULL;
  CaptionNode *caption;
  GdkRGBA color;

  /* The common case, a label's name, needs no string. */
  if (info != NULL && annotation->review != KP_REVIEW_PENDING &&
      (annotation->shape != KP_SHAPE_POINT || annotation->keypoint == NULL || !*annotation->keypoint))
    {
      if (info->caption == NULL)
        info->caption = caption_node_new (self, info->label->name, &info->color);
      return info->caption;
    }

  text = dup_caption_text (self, annotation);
  if (text == NULL)
    return NULL;

  color = info != NULL ? info->color : self->accent_color;
  if (annotation->review == KP_REVIEW_PENDING)
    color.alpha *= PENDING_ALPHA;

  key = g_strdup_printf ("%s\x1f%08x", text, (guint)premultiply (&color));
  caption = g_hash_table_lookup (self->captions, key);
  if (caption == NULL)
    {
      /* Keypoint names and confidences vary; keep the cache bounded. */
      if (g_hash_table_size (self->captions) > 4096)
        g_hash_table_remove_all (self->captions);
      caption = caption_node_new (self, text, &color);
      g_hash_table_insert (self->captions, g_steal_pointer (&key), caption);
    }

  return caption;
}

typedef struct
{
  graphene_rect_t  rect;
  CaptionNode     *caption;
} Caption;

static void
add_caption (KpCanvas           *self,
             GArray             *captions,
             const KpAnnotation *annotation)
{
  Caption caption;

  caption.rect = widget_rect (self, &annotation->rect);
  if (annotation->shape == KP_SHAPE_POINT)
    {
      /* Beside the point's ring rather than above a box. */
      caption.rect.origin.x += POINT_RING + 2;
      caption.rect.origin.y -= POINT_RING;
    }
  else if (caption.rect.size.width < CAPTION_MIN_BOX || caption.rect.size.height < CAPTION_MIN_BOX)
    return;

  caption.caption = lookup_caption (self, annotation);
  if (caption.caption == NULL)
    return;

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
        double y = caption->rect.origin.y - caption->caption->height;

        if (y < 0)
          y = caption->rect.origin.y;

        if (pass == 0)
          {
            gtk_snapshot_append_color (snapshot, &caption->caption->color,
                                       &GRAPHENE_RECT_INIT (x, y,
                                                            caption->caption->width,
                                                            caption->caption->height));
          }
        else
          {
            gtk_snapshot_save (snapshot);
            gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x + 4, y + 1));
            gtk_snapshot_append_node (snapshot, caption->caption->node);
            gtk_snapshot_restore (snapshot);
          }
      }
}

/* The preview layer: the vector objects of a gesture in progress, in
 * tiles like the annotation layer, kept from frame to frame. When a
 * gesture moves one vertex of a long polygon, only the tiles around that
 * vertex and its two edges are drawn again. */

static void
clear_preview (KpCanvas *self)
{
  g_hash_table_remove_all (self->preview_tiles);
  g_ptr_array_set_size (self->preview_copies, 0);
  g_ptr_array_set_size (self->preview_masks, 0);
}

static void
invalidate_preview_rect (KpCanvas     *self,
                         const KpRect *rect)
{
  if (g_hash_table_size (self->preview_tiles) > 0 && self->preview_sf != 0)
    drop_tiles (self->preview_tiles, self->preview_scale, self->preview_sf, rect);
}

static void
rect_union (KpRect       *rect,
            const KpRect *other)
{
  double x1 = MAX (rect->x + rect->width, other->x + other->width);
  double y1 = MAX (rect->y + rect->height, other->y + other->height);

  rect->x = MIN (rect->x, other->x);
  rect->y = MIN (rect->y, other->y);
  rect->width = x1 - rect->x;
  rect->height = y1 - rect->y;
}

/* Where old and new differ: around the vertices that moved, when only
 * some did; else both bounds. */
static KpRect
preview_dirty_rect (const KpAnnotation *old,
                    const KpAnnotation *new,
                    gboolean           *local)
{
  KpRect dirty = old->rect;

  *local = FALSE;
  if (old->shape == new->shape && old->n_points == new->n_points && old->n_points > 3 &&
      (new->shape == KP_SHAPE_POLYGON || new->shape == KP_SHAPE_POLYLINE) &&
      old->label_id == new->label_id && old->review == new->review)
    {
      guint n = new->n_points;
      guint first = 0, last = n - 1;

      while (first < n && memcmp (&old->points[first], &new->points[first], sizeof (KpPoint)) == 0)
        first++;
      while (last > first && first < n &&
             memcmp (&old->points[last], &new->points[last], sizeof (KpPoint)) == 0)
        last--;

      /* With the same vertices something else changed: all of it redraws. */
      if (first < n && last - first < n / 4)
        {
          guint from = first > 0 ? first - 1 : (new->shape == KP_SHAPE_POLYGON ? n - 1 : 0);
          guint count = last - first + 3;

          dirty = (KpRect) { new->points[first].x, new->points[first].y, 0, 0 };
          for (guint i = 0; i < count; i++)
            {
              guint k = (from + i) % n;
              KpRect p = { old->points[k].x, old->points[k].y, 0, 0 };
              KpRect q = { new->points[k].x, new->points[k].y, 0, 0 };

              if (new->shape == KP_SHAPE_POLYLINE && (from + i) >= n)
                break;
              rect_union (&dirty, &p);
              rect_union (&dirty, &q);
            }
          *local = TRUE;
          return dirty;
        }
    }

  rect_union (&dirty, &new->rect);
  return dirty;
}

static void
sync_preview (KpCanvas                   *self,
              const KpAnnotation * const *previews,
              guint                       n_previews)
{
  int sf = get_scale_factor (self);
  guint n_vector = 0;
  guint j = 0;

  if (self->preview_scale != self->view.scale || self->preview_sf != sf)
    {
      g_hash_table_remove_all (self->preview_tiles);
      self->preview_scale = self->view.scale;
      self->preview_sf = sf;
    }

  for (guint i = 0; i < n_previews; i++)
    if (previews[i]->shape != KP_SHAPE_BOX || previews[i]->review == KP_REVIEW_PENDING)
      n_vector++;

  if (n_vector != self->preview_copies->len)
    {
      clear_preview (self);
      for (guint i = 0; i < n_previews; i++)
        if (previews[i]->shape != KP_SHAPE_BOX || previews[i]->review == KP_REVIEW_PENDING)
          {
            g_ptr_array_add (self->preview_copies, kp_annotation_copy (previews[i]));
            g_ptr_array_add (self->preview_masks,
                             mask_surface_new (previews[i]->mask, mask_shift_for_scale (self->view.scale * sf)));
          }
      return;
    }

  for (guint i = 0; i < n_previews; i++)
    {
      KpAnnotation *old;
      KpRect dirty;

      if (previews[i]->shape == KP_SHAPE_BOX && previews[i]->review != KP_REVIEW_PENDING)
        continue;

      old = g_ptr_array_index (self->preview_copies, j);
      if (!kp_annotation_equal (old, previews[i]))
        {
          gboolean local;

          dirty = preview_dirty_rect (old, previews[i], &local);
          invalidate_preview_rect (self, &dirty);
          if (old->mask != NULL || previews[i]->mask != NULL)
            {
              if (old->mask == NULL || previews[i]->mask == NULL ||
                  !kp_mask_equal (old->mask, previews[i]->mask))
                {
                  g_clear_pointer (&g_ptr_array_index (self->preview_masks, j), cairo_surface_destroy);
                  g_ptr_array_index (self->preview_masks, j) =
                    mask_surface_new (previews[i]->mask, mask_shift_for_scale (self->view.scale * sf));
                }
            }
          kp_annotation_clear (old);
          kp_annotation_copy_to (previews[i], old);
        }
      j++;
    }
}

static void
draw_preview_layer (KpCanvas    *self,
                    GtkSnapshot *snapshot,
                    double       width,
                    double       height)
{
  g_autoptr(GPtrArray) fresh = NULL;
  int sf = get_scale_factor (self);
  int size = TILE_SIZE * sf;
  int tx0, ty0, tx1, ty1;

  if (self->preview_copies->len == 0 || !get_tile_range (self, width, height, &tx0, &ty0, &tx1, &ty1))
    return;

  fresh = g_ptr_array_new ();
  for (int ty = ty0; ty <= ty1; ty++)
    for (int tx = tx0; tx <= tx1; tx++)
      {
        gint64 key = tile_key (tx, ty);
        Tile *tile = g_hash_table_lookup (self->preview_tiles, &key);
        DeviceBox clip = { tx * size, ty * size, (tx + 1) * size, (ty + 1) * size };

        if (tile != NULL || (self->partial_id != 0 && !g_hash_table_contains (self->partial_tiles, &key)))
          continue;

        tile = tile_new (tx, ty);
        g_hash_table_insert (self->preview_tiles, &tile->key, tile);
        for (guint i = 0; i < self->preview_copies->len; i++)
          {
            const KpAnnotation *annotation = g_ptr_array_index (self->preview_copies, i);
            DrawItem item;

            init_item (self, &item, annotation, annotation->id == 0 || kp_canvas_is_selected (self, annotation->id));
            item.mask = g_ptr_array_index (self->preview_masks, i);
            if (item.box.x1 <= clip.x0 || item.box.x0 >= clip.x1 ||
                item.box.y1 <= clip.y0 || item.box.y0 >= clip.y1)
              continue;
            g_array_append_val (tile->items, item);
            tile->has_vector = TRUE;
          }
        g_ptr_array_add (fresh, tile);
      }

  if (fresh->len > 0)
    render_tiles (self, fresh, FALSE);

  for (int ty = ty0; ty <= ty1; ty++)
    for (int tx = tx0; tx <= tx1; tx++)
      {
        gint64 key = tile_key (tx, ty);
        Tile *tile = g_hash_table_lookup (self->preview_tiles, &key);

        if (tile != NULL && tile->node != NULL &&
            (self->partial_id == 0 || g_hash_table_contains (self->partial_tiles, &key)))
          gtk_snapshot_append_node (snapshot, tile->node);
      }
}


static gboolean
tool_draws_marks (KpCanvas *self)
{
  return KP_TOOL_GET_CLASS (self->tool)->snapshot != NULL;
}

static void
draw_crosshair (KpCanvas    *self,
                GtkSnapshot *snapshot,
                double       width,
                double       height)
{
  double image_width, image_height;
  KpRect image;
  KpRect shown;
  GdkRGBA color = self->accent_color;
  int sf = get_scale_factor (self);
  double x, y;
  double line = 1.0 / sf;

  if (!self->show_crosshair || !self->pointer_inside ||
      !_kp_canvas_get_image_size (self, &image_width, &image_height))
    return;

  image = (KpRect) { 0, 0, image_width, image_height };
  shown = kp_view_rect_to_widget (&self->view, &image);
  x = round (self->pointer_x * sf) / sf;
  y = round (self->pointer_y * sf) / sf;
  if (x < shown.x || y < shown.y || x > shown.x + shown.width || y > shown.y + shown.height)
    return;

  /* Two colour nodes, across the image only. */
  color.alpha = 0.8;
  gtk_snapshot_append_color (snapshot, &color,
                             &GRAPHENE_RECT_INIT (MAX (shown.x, 0), y,
                                                  MIN (shown.x + shown.width, width) - MAX (shown.x, 0),
                                                  line));
  gtk_snapshot_append_color (snapshot, &color,
                             &GRAPHENE_RECT_INIT (x, MAX (shown.y, 0), line,
                                                  MIN (shown.y + shown.height, height) - MAX (shown.y, 0)));
}

static gboolean
is_excluded (KpCanvas *self,
             gint64    id)
{
  return id == self->partial_id || g_hash_table_contains (self->tiles_excluded, &id);
}

static void
draw_overlay (KpCanvas    *self,
              GtkSnapshot *snapshot,
              double       width,
              double       height)
{
  g_autoptr(GArray) captions = g_array_new (FALSE, FALSE, sizeof (Caption));
  const KpAnnotation * const *previews;
  const KpAnnotation *selected = NULL;
  const KpAnnotation *selected_preview = NULL;
  guint n_previews = 0;
  int sf = get_scale_factor (self);
  double ox, oy;

  previews = kp_tool_get_preview_annotations (self->tool, &n_previews);
  if (self->document != NULL && self->selected_id != 0)
    selected = kp_document_lookup (self->document, self->selected_id);

  if (self->show_captions && self->document != NULL)
    {
      GPtrArray *annotations = kp_document_get_annotations (self->document);
      gboolean excluding = g_hash_table_size (self->tiles_excluded) > 0 || self->partial_id != 0;

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

              if ((annotation->flags & KP_ANNOTATION_HIDDEN) == 0 &&
                  !(excluding && is_excluded (self, annotation->id)))
                add_caption (self, captions, annotation);
            }
        }
      else
        {
          /* Crowded: only the selected object and the one under the pointer. */
          const KpAnnotation *hovered = NULL;

          if (self->hover_id != 0 && self->hover_id != self->selected_id)
            hovered = kp_document_lookup (self->document, self->hover_id);
          if (hovered != NULL && !(excluding && is_excluded (self, hovered->id)))
            add_caption (self, captions, hovered);
          if (selected != NULL && !(excluding && is_excluded (self, selected->id)))
            add_caption (self, captions, selected);
        }
    }

  get_layer_origin (self, &ox, &oy);

  if (n_previews > 0)
    {
      sync_preview (self, previews, n_previews);

      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (ox, oy));
      draw_preview_layer (self, snapshot, width, height);
      for (guint i = 0; i < n_previews; i++)
        {
          const KpAnnotation *annotation = previews[i];
          DrawItem item;

          if (annotation->id != 0 && annotation->id == self->selected_id)
            selected_preview = annotation;
          if (annotation->shape != KP_SHAPE_BOX || annotation->review == KP_REVIEW_PENDING)
            continue;

          init_item (self, &item, annotation,
                     annotation->id == 0 || kp_canvas_is_selected (self, annotation->id));
          box_fill_nodes (snapshot, &item, NULL, sf);
          box_outline_nodes (snapshot, &item, NULL, sf);
        }
      gtk_snapshot_restore (snapshot);

      if (self->show_captions && (n_previews <= CROWDED_BOXES || !self->crowded))
        for (guint i = 0; i < n_previews; i++)
          add_caption (self, captions, previews[i]);
    }
  else if (self->preview_copies->len > 0)
    clear_preview (self);

  draw_captions (self, snapshot, captions);

  /* Until the tool draws the handles of the selection itself. */
  if (!tool_draws_marks (self))
    {
      const KpAnnotation *handled = selected_preview != NULL ? selected_preview : selected;

      if (handled != NULL && handled->shape == KP_SHAPE_BOX)
        {
          DrawItem item;

          gtk_snapshot_save (snapshot);
          gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (ox, oy));
          init_item (self, &item, handled, TRUE);
          box_handles_nodes (self, snapshot, &item);
          gtk_snapshot_restore (snapshot);
        }
    }

  draw_crosshair (self, snapshot, width, height);

  kp_tool_snapshot (self->tool, snapshot, &self->view, width, height);
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

/* The image where it meets area (widget coordinates): all of the
 * widget, or one tile being composited. */
static void
draw_image (KpCanvas              *self,
            GtkSnapshot           *snapshot,
            const graphene_rect_t *area)
{
  double width = gtk_widget_get_width (GTK_WIDGET (self));
  double height = gtk_widget_get_height (GTK_WIDGET (self));
  GdkTexture *texture = self->texture != NULL ? get_display_texture (self) : NULL;
  KpRect image = { 0, 0, 0, 0 };
  KpRect shown;
  gboolean adjust = self->brightness != 0 || self->contrast != 1;

  if (texture != NULL)
    image = (KpRect) { 0, 0, gdk_texture_get_width (texture), gdk_texture_get_height (texture) };
  shown = kp_view_rect_to_widget (&self->view, &image);

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

  if (self->image_layer != NULL)
    {
      kp_image_layer_snapshot (self->image_layer, snapshot, &self->view, width, height,
                               get_scale_factor (self), self->view.scale >= PIXEL_EXACT_SCALE);
    }
  else if (self->view.scale >= PIXEL_EXACT_SCALE)
    {
#if GTK_CHECK_VERSION (4, 10, 0)
      gtk_snapshot_append_scaled_texture (snapshot, texture, GSK_SCALING_FILTER_NEAREST,
                                          &GRAPHENE_RECT_INIT (shown.x, shown.y,
                                                               shown.width, shown.height));
#else
      /* GTK 4.8 has no nearest-neighbour texture node: draw only the
       * part in area through cairo, in device pixels, into a texture of
       * its own. Not a cairo node: GL caches what it drew of one by the
       * node's address, which a later node may reuse. */
      double x0 = MAX (floor (shown.x), area->origin.x);
      double y0 = MAX (floor (shown.y), area->origin.y);
      double x1 = MIN (ceil (shown.x + shown.width), area->origin.x + area->size.width);
      double y1 = MIN (ceil (shown.y + shown.height), area->origin.y + area->size.height);
      int sf = get_scale_factor (self);
      cairo_surface_t *surface, *target;
      cairo_pattern_t *pattern;
      cairo_t *cr;

      if (x1 > x0 && y1 > y0)
        {
          g_autoptr(GBytes) bytes = NULL;
          g_autoptr(GdkTexture) part = NULL;
          int w = (int)ceil ((x1 - x0) * sf);
          int h = (int)ceil ((y1 - y0) * sf);

          surface = ensure_nearest_surface (self);
          target = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, w, h);
          cr = cairo_create (target);
          cairo_scale (cr, sf, sf);
          cairo_translate (cr, self->view.offset_x - x0, self->view.offset_y - y0);
          cairo_scale (cr, self->view.scale, self->view.scale);
          cairo_set_source_surface (cr, surface, 0, 0);
          pattern = cairo_get_source (cr);
          cairo_pattern_set_filter (pattern, CAIRO_FILTER_NEAREST);
          cairo_pattern_set_extend (pattern, CAIRO_EXTEND_PAD);
          cairo_rectangle (cr, 0, 0, image.width, image.height);
          cairo_fill (cr);
          cairo_destroy (cr);
          cairo_surface_flush (target);

          bytes = g_bytes_new_with_free_func (cairo_image_surface_get_data (target),
                                              (gsize)cairo_image_surface_get_stride (target) * h,
                                              (GDestroyNotify)cairo_surface_destroy, target);
          part = gdk_memory_texture_new (w, h, GDK_MEMORY_DEFAULT, bytes,
                                         cairo_image_surface_get_stride (target));
          gtk_snapshot_append_texture (snapshot, part, &GRAPHENE_RECT_INIT (x0, y0, x1 - x0, y1 - y0));
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
  clear_composites (self);
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
  clear_composites (self);

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

/* Composites: with a renderer to draw them, the background, the image
 * and the annotation tile under each tile become one texture, drawn once
 * per tile and reused while the view pans; a frame then shades each
 * pixel once instead of three times (background, image, annotations),
 * whatever the document holds. Tiles born in a frame that makes many
 * (a zoom step) are drawn in layers that frame and composited when they
 * are drawn again. A large image drawn from a KpImageLayer, whose tiles
 * arrive while it is shown, is always drawn in layers. */

static GskRenderer *
get_composite_renderer (KpCanvas *self)
{
  GtkNative *native = gtk_widget_get_native (GTK_WIDGET (self));
  GskRenderer *renderer = native != NULL ? gtk_native_get_renderer (native) : NULL;

  if (renderer == NULL || !gsk_renderer_is_realized (renderer))
    return NULL;

  /* Textures drawn by another renderer are not this one's to reuse. */
  if (renderer != self->composite_renderer)
    {
      clear_composites (self);
      self->composite_renderer = renderer;
    }

  return renderer;
}

static void
composite_tile (KpCanvas    *self,
                GskRenderer *renderer,
                Tile        *tile,
                double       ox,
                double       oy)
{
  int sf = get_scale_factor (self);
  graphene_rect_t area = GRAPHENE_RECT_INIT (ox + tile_x (tile) * TILE_SIZE, oy + tile_y (tile) * TILE_SIZE,
                                             TILE_SIZE, TILE_SIZE);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;

  /* In device pixels, so that the texture has one texel each. */
  gtk_snapshot_scale (snapshot, sf, sf);
  gtk_snapshot_push_clip (snapshot, &area);
  gtk_snapshot_append_color (snapshot, &self->bg_color, &area);
  draw_image (self, snapshot, &area);
  if (tile->node != NULL)
    {
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (ox, oy));
      gtk_snapshot_append_node (snapshot, tile->node);
      gtk_snapshot_restore (snapshot);
    }
  gtk_snapshot_pop (snapshot);
  node = gtk_snapshot_free_to_node (snapshot);

  texture = gsk_renderer_render_texture (renderer, node,
                                         &GRAPHENE_RECT_INIT (area.origin.x * sf, area.origin.y * sf,
                                                              TILE_SIZE * sf, TILE_SIZE * sf));
  tile->composite = gsk_texture_node_new (texture,
                                          &GRAPHENE_RECT_INIT (tile_x (tile) * TILE_SIZE,
                                                               tile_y (tile) * TILE_SIZE,
                                                               TILE_SIZE, TILE_SIZE));
}

/* Draws the background, the image and the annotation layer from
 * composites, making those missing; FALSE (and nothing drawn) when this
 * frame draws them in layers. */
static gboolean
draw_composites (KpCanvas    *self,
                 GtkSnapshot *snapshot,
                 double       width,
                 double       height)
{
  GskRenderer *renderer;
  GHashTableIter iter;
  Tile *tile;
  int tx0, ty0, tx1, ty1;
  guint n_fresh = 0;
  double ox, oy;
  double gx0, gy0, gx1, gy1;

  if (self->image_layer != NULL || self->texture == NULL ||
      (renderer = get_composite_renderer (self)) == NULL ||
      !get_tile_range (self, width, height, &tx0, &ty0, &tx1, &ty1))
    return FALSE;

  for (int ty = ty0; ty <= ty1; ty++)
    for (int tx = tx0; tx <= tx1; tx++)
      {
        gint64 key = tile_key (tx, ty);

        tile = g_hash_table_lookup (self->tiles, &key);
        if (tile == NULL || tile->items != NULL)
          return FALSE;
        if (tile->composite == NULL && tile->born == self->frame)
          n_fresh++;
      }
  if (n_fresh > COMPOSITE_BURST)
    return FALSE;

  /* Only near the view: the rest would be drawn again when seen. */
  g_hash_table_iter_init (&iter, self->tiles);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *)&tile))
    if (tile->composite != NULL &&
        (tile_x (tile) < tx0 - COMPOSITE_KEEP || tile_x (tile) > tx1 + COMPOSITE_KEEP ||
         tile_y (tile) < ty0 - COMPOSITE_KEEP || tile_y (tile) > ty1 + COMPOSITE_KEEP))
      g_clear_pointer (&tile->composite, gsk_render_node_unref);

  get_layer_origin (self, &ox, &oy);

  /* The background where no tile is. */
  gx0 = CLAMP (ox + tx0 * TILE_SIZE, 0, width);
  gy0 = CLAMP (oy + ty0 * TILE_SIZE, 0, height);
  gx1 = CLAMP (ox + (tx1 + 1) * TILE_SIZE, 0, width);
  gy1 = CLAMP (oy + (ty1 + 1) * TILE_SIZE, 0, height);
  if (gy0 > 0)
    gtk_snapshot_append_color (snapshot, &self->bg_color, &GRAPHENE_RECT_INIT (0, 0, width, gy0));
  if (gy1 < height)
    gtk_snapshot_append_color (snapshot, &self->bg_color, &GRAPHENE_RECT_INIT (0, gy1, width, height - gy1));
  if (gx0 > 0)
    gtk_snapshot_append_color (snapshot, &self->bg_color, &GRAPHENE_RECT_INIT (0, gy0, gx0, gy1 - gy0));
  if (gx1 < width)
    gtk_snapshot_append_color (snapshot, &self->bg_color, &GRAPHENE_RECT_INIT (gx1, gy0, width - gx1, gy1 - gy0));

  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (ox, oy));
  for (int ty = ty0; ty <= ty1; ty++)
    for (int tx = tx0; tx <= tx1; tx++)
      {
        gint64 key = tile_key (tx, ty);

        tile = g_hash_table_lookup (self->tiles, &key);
        if (tile->composite == NULL)
          composite_tile (self, renderer, tile, ox, oy);
        gtk_snapshot_append_node (snapshot, tile->composite);
      }
  gtk_snapshot_restore (snapshot);

  return TRUE;
}

static void
kp_canvas_snapshot (GtkWidget   *widget,
                    GtkSnapshot *snapshot)
{
  KpCanvas *self = (KpCanvas *)widget;
  double width = gtk_widget_get_width (widget);
  double height = gtk_widget_get_height (widget);
  GskRenderNode *layer;

  self->frame++;

  if (!has_image (self))
    {
      gtk_snapshot_append_color (snapshot, &self->bg_color,
                                 &GRAPHENE_RECT_INIT (0, 0, width, height));
      return;
    }

  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));

  layer = ensure_layer (self, width, height);
  if (layer == NULL || !draw_composites (self, snapshot, width, height))
    {
      gtk_snapshot_append_color (snapshot, &self->bg_color,
                                 &GRAPHENE_RECT_INIT (0, 0, width, height));
      draw_image (self, snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
      if (layer != NULL)
        {
          double ox, oy;

          get_layer_origin (self, &ox, &oy);
          gtk_snapshot_save (snapshot);
          gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (ox, oy));
          gtk_snapshot_append_node (snapshot, layer);
          gtk_snapshot_restore (snapshot);
        }
    }

  draw_overlay (self, snapshot, width, height);
  gtk_snapshot_pop (snapshot);
}

static void
kp_canvas_unrealize (GtkWidget *widget)
{
  clear_composites (KP_CANVAS (widget));

  GTK_WIDGET_CLASS (kp_canvas_parent_class)->unrealize (widget);
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

  GdkModifierType state;
  /* GDK repeats the last motion after frames and crossings; a tool only
   * hears the pointer when it moved. */
  gboolean moved = !self->pointer_inside || x != self->pointer_x || y != self->pointer_y;

  self->pointer_x = x;
  self->pointer_y = y;
  self->pointer_inside = TRUE;
  if (self->show_crosshair)
    gtk_widget_queue_draw (GTK_WIDGET (self));

  kp_view_widget_to_image (&self->view, x, y, &ix, &iy);

  /* Hovering: the tool follows the pointer (the brush outline, the
   * polygon's next edge). A drag delivers its own motion through the
   * drag gesture, so a pressed button is left to it. */
  state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (controller));
  if (moved && self->tool != NULL && !self->panning && !self->space_held &&
      (state & (GDK_BUTTON1_MASK | GDK_BUTTON2_MASK | GDK_BUTTON3_MASK)) == 0 &&
      (self->drag == NULL || !gtk_gesture_is_active (GTK_GESTURE (self->drag))))
    {
      kp_tool_motion (self->tool, ix, iy, state);
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
  update_cursor (self);

  /* The box under the pointer shows its caption even in a crowded view. */
  hover_id = _kp_canvas_pick_shape (self, ix, iy, 4 / self->view.scale);
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
  if (self->show_crosshair)
    gtk_widget_queue_draw (GTK_WIDGET (self));
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
  g_autoptr(GArray) ids = NULL;

  if (self->document == NULL || self->selection->len == 0)
    return;

  kp_tool_cancel (self->tool);

  /* The whole selection goes in one undo step. */
  ids = g_array_copy (self->selection);
  if (!kp_document_remove_many (self->document, (const gint64 *)(gpointer)ids->data, ids->len, &error))
    {
      _kp_canvas_emit_error (self, error);
      return;
    }

  kp_canvas_set_selection (self, NULL, 0);
}

/* Tab and Shift+Tab: the next or previous object in drawing order that is
 * not hidden, after the primary selection. */
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
  for (guint tries = 0; tries < n; tries++)
    {
      const KpAnnotation *annotation;

      if (position == 0)
        position = step > 0 ? 1 : n;
      else
        position = ((position - 1) + n + step) % n + 1;

      annotation = g_ptr_array_index (annotations, position - 1);
      if ((annotation->flags & KP_ANNOTATION_HIDDEN) == 0)
        {
          kp_canvas_set_selected_id (self, annotation->id);
          return;
        }
    }
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
  unwatch_tool_status (self);
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
  g_clear_pointer (&self->partial_tiles, g_hash_table_unref);
  g_clear_pointer (&self->mask_surfaces, g_hash_table_unref);
  g_clear_pointer (&self->captions, g_hash_table_unref);
  g_clear_pointer (&self->preview_tiles, g_hash_table_unref);
  g_clear_pointer (&self->preview_copies, g_ptr_array_unref);
  g_clear_pointer (&self->preview_masks, g_ptr_array_unref);
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
  widget_class->unrealize = kp_canvas_unrealize;

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
                         KP_TYPE_IMAGE_LAYER,
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
  self->partial_tiles = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->captions = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, caption_node_free);
  self->preview_tiles = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, tile_free);
  self->preview_copies = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_annotation_free);
  self->preview_masks = g_ptr_array_new_with_free_func (surface_destroy0);
  self->mask_surfaces = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                               (GDestroyNotify)cairo_surface_destroy);
  self->selection = g_array_new (FALSE, FALSE, sizeof (gint64));
  self->selection_set = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->brightness = 0.0;
  self->contrast = 1.0;
  self->gamma = 1.0;
  self->index = kp_spatial_index_new (SPATIAL_CELL_SIZE);
  self->tool = kp_box_tool_new (self);
  watch_tool_status (self);
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
  clear_preview (self);
  kp_canvas_set_selection (self, NULL, 0);
  kp_tool_canvas_changed (self->tool);
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

  g_hash_table_remove_all (self->captions);
  clear_tiles (self);
  clear_preview (self);
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  kp_tool_canvas_changed (self->tool);
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

  /* An empty GArray may have no data at all: memcmp() must not see NULL. */
  if (selection->len == self->selection->len &&
      (selection->len == 0 ||
       memcmp (selection->data, self->selection->data, sizeof (gint64) * selection->len) == 0))
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

  clear_preview (self);
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

  /* Before the old tool may go away with its reference. */
  unwatch_tool_status (self);
  g_set_object (&self->tool, tool);
  watch_tool_status (self);
  update_accessible (self);
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
  g_return_if_fail (layer == NULL || KP_IS_IMAGE_LAYER (layer));

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
      kp_image_layer_set_gamma (layer, self->gamma);
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
  double width, height, scale;
  KpRect bounds = { 0 };
  gboolean any = FALSE;
  KpView view;

  g_return_val_if_fail (KP_IS_CANVAS (self), FALSE);

  if (self->document == NULL || !has_size (self))
    return FALSE;

  for (guint i = 0; i < self->selection->len; i++)
    {
      const KpAnnotation *annotation =
        kp_document_lookup (self->document, g_array_index (self->selection, gint64, i));

      if (annotation == NULL)
        continue;
      if (!any)
        bounds = annotation->rect;
      else
        rect_union (&bounds, &annotation->rect);
      any = TRUE;
    }
  if (!any)
    return FALSE;

  width = gtk_widget_get_width (GTK_WIDGET (self));
  height = gtk_widget_get_height (GTK_WIDGET (self));
  scale = MIN (width * (1 - 2 * SELECTION_MARGIN) / MAX (bounds.width, 1),
               height * (1 - 2 * SELECTION_MARGIN) / MAX (bounds.height, 1));
  scale = CLAMP (scale, KP_ZOOM_MIN, SELECTION_MAX_SCALE);

  view.scale = scale;
  view.offset_x = width / 2 - (bounds.x + bounds.width / 2) * scale;
  view.offset_y = height / 2 - (bounds.y + bounds.height / 2) * scale;
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
  clear_composites (self);
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
  clear_composites (self);
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
    kp_image_layer_set_gamma (self->image_layer, gamma);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_GAMMA]);
}

GdkTexture *
_kp_canvas_get_display_texture (KpCanvas *self)
{
  g_return_val_if_fail (KP_IS_CANVAS (self), NULL);

  return self->texture != NULL ? get_display_texture (self) : NULL;
}
