/* kp-canvas.c: draws an image and its annotations; hosts the tools
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-canvas.h"

#include <math.h>

#include <glib/gi18n.h>

#include "kp-box-tool.h"
#include "kp-canvas-private.h"

/* Above this scale the image is drawn with nearest-neighbour filtering so
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

typedef struct
{
  KpLabel       *label;
  GdkRGBA        color;
  GdkRGBA        fill;
  GskRenderNode *caption;       /* the text, drawn at (0, 0); lazily */
  double         caption_width;
  double         caption_height;
} LabelInfo;

struct _KpCanvas
{
  GtkWidget           parent_instance;

  GdkTexture         *texture;
  cairo_surface_t    *nearest_surface;  /* the texture for cairo, lazily */
  KpDocument         *document;
  gulong              changed_handler;
  GHashTable         *labels;           /* gint64* -> LabelInfo* */

  /* Culling: annotation rects by id, and each id's drawing position. */
  KpSpatialIndex     *index;
  GHashTable         *order;            /* gint64* -> position + 1 */

  KpTool             *tool;
  GtkGesture         *drag;

  gint64              current_label_id;
  gint64              selected_id;
  KpView              view;

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

  guint               fit : 1;
  guint               show_captions : 1;
  guint               space_held : 1;
  guint               panning : 1;
  guint               pointer_inside : 1;
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
  N_PROPS
};

enum {
  SIGNAL_ERROR,
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

static gint64 *
dup_id (gint64 id)
{
  return g_memdup2 (&id, sizeof id);
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

static guint
get_position (KpCanvas *self,
              gint64    id)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (self->order, &id));
}

gint64
_kp_canvas_pick (KpCanvas *self,
                 double    x,
                 double    y)
{
  g_autoptr(GArray) ids = NULL;
  GPtrArray *annotations;
  KpRect area = { x, y, 0, 0 };
  guint best = 0;

  g_return_val_if_fail (KP_IS_CANVAS (self), 0);

  if (self->document == NULL)
    return 0;

  annotations = kp_document_get_annotations (self->document);
  ids = kp_spatial_index_query (self->index, &area);

  for (guint i = 0; i < ids->len; i++)
    {
      guint position = get_position (self, g_array_index (ids, gint64, i));
      const KpAnnotation *annotation;

      if (position == 0 || position <= best || position > annotations->len)
        continue;

      annotation = g_ptr_array_index (annotations, position - 1);
      if (kp_rect_contains (&annotation->rect, x, y))
        best = position;
    }

  if (best == 0)
    return 0;

  return ((const KpAnnotation *)g_ptr_array_index (annotations, best - 1))->id;
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

  if (self->texture == NULL)
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
  gboolean has_image = self->texture != NULL;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "annotation.delete", self->selected_id != 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "annotation.next", has_annotations);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "annotation.previous", has_annotations);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "canvas.zoom-in", has_image);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "canvas.zoom-out", has_image);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "canvas.zoom-fit", has_image);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "canvas.zoom-100", has_image);
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

/* Annotations */

static void
rebuild_index (KpCanvas *self)
{
  GPtrArray *annotations;

  kp_spatial_index_clear (self->index);
  g_hash_table_remove_all (self->order);

  if (self->document == NULL)
    return;

  annotations = kp_document_get_annotations (self->document);
  for (guint i = 0; i < annotations->len; i++)
    {
      const KpAnnotation *annotation = g_ptr_array_index (annotations, i);

      kp_spatial_index_insert (self->index, annotation->id, &annotation->rect);
      g_hash_table_insert (self->order, dup_id (annotation->id), GUINT_TO_POINTER (i + 1));
    }
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

  rebuild_index (self);

  /* An undo may take away the box a gesture is working on. */
  if (kp_tool_get_preview (self->tool, &preview_id, &preview_rect) &&
      preview_id != 0 &&
      kp_document_lookup (document, preview_id) == NULL)
    kp_tool_cancel (self->tool);

  if (self->selected_id != 0 && kp_document_lookup (document, self->selected_id) == NULL)
    kp_canvas_set_selected_id (self, 0);

  update_actions (self);
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* Drawing */

static LabelInfo *
lookup_label (KpCanvas *self,
              gint64    label_id)
{
  return g_hash_table_lookup (self->labels, &label_id);
}

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

static graphene_rect_t
widget_rect (KpCanvas     *self,
             const KpRect *rect)
{
  KpRect r = kp_view_rect_to_widget (&self->view, rect);
  double x0 = round (r.x);
  double y0 = round (r.y);
  double x1 = round (r.x + r.width);
  double y1 = round (r.y + r.height);

  return GRAPHENE_RECT_INIT (x0, y0, MAX (x1 - x0, 1), MAX (y1 - y0, 1));
}

/* One box as drawn this frame. */
typedef struct
{
  graphene_rect_t  rect;
  LabelInfo       *info;
  const GdkRGBA   *color;
  gboolean         selected;
  gboolean         filled;
  gboolean         captioned;
  graphene_point_t caption_at;
} Item;

static void
add_item (KpCanvas     *self,
          GArray       *items,
          const KpRect *rect,
          gint64        label_id,
          gboolean      selected,
          gboolean      hovered,
          gboolean      crowded)
{
  Item item;

  item.rect = widget_rect (self, rect);
  item.info = lookup_label (self, label_id);
  item.color = item.info != NULL ? &item.info->color : &self->accent_color;
  item.selected = selected;
  item.filled = selected || !crowded;
  item.captioned = (self->show_captions &&
                    item.info != NULL &&
                    (!crowded || selected || hovered) &&
                    item.rect.size.width >= CAPTION_MIN_BOX &&
                    item.rect.size.height >= CAPTION_MIN_BOX);

  if (item.captioned)
    {
      double y;

      ensure_caption (self, item.info);

      /* Above the box, or inside it when that would leave the widget. */
      y = item.rect.origin.y - item.info->caption_height;
      if (y < 0)
        y = item.rect.origin.y;
      item.caption_at = GRAPHENE_POINT_INIT (item.rect.origin.x, y);
    }

  g_array_append_val (items, item);
}

/* Layer by layer (fills, outlines, caption chips, caption text) rather than
 * box by box: the GL renderer batches runs of nodes of one kind, which
 * keeps a frame with a thousand boxes close to an empty one. Outlines and
 * captions thus stay readable above every fill. */
static void
draw_items (KpCanvas    *self,
            GtkSnapshot *snapshot,
            GArray      *items)
{
  for (guint i = 0; i < items->len; i++)
    {
      const Item *item = &g_array_index (items, Item, i);
      GdkRGBA fill;

      if (!item->filled)
        continue;

      if (item->info != NULL)
        {
          fill = item->info->fill;
        }
      else
        {
          fill = *item->color;
          fill.alpha *= FILL_ALPHA;
        }

      gtk_snapshot_append_color (snapshot, &fill, &item->rect);
    }

  for (guint i = 0; i < items->len; i++)
    {
      const Item *item = &g_array_index (items, Item, i);
      float line = item->selected ? SELECTED_LINE_WIDTH : LINE_WIDTH;
      const graphene_rect_t *r = &item->rect;

      /* Four colour nodes rather than a border node: the renderer batches
       * them and shades only the edge pixels, where a border node shades
       * the whole box area. With hundreds of boxes in view that is most of
       * the frame's cost on software GL. */
      if (r->size.width <= 2 * line || r->size.height <= 2 * line)
        {
          gtk_snapshot_append_color (snapshot, item->color, r);
          continue;
        }
      gtk_snapshot_append_color (snapshot, item->color,
                                 &GRAPHENE_RECT_INIT (r->origin.x, r->origin.y, r->size.width, line));
      gtk_snapshot_append_color (snapshot, item->color,
                                 &GRAPHENE_RECT_INIT (r->origin.x, r->origin.y + r->size.height - line,
                                                      r->size.width, line));
      gtk_snapshot_append_color (snapshot, item->color,
                                 &GRAPHENE_RECT_INIT (r->origin.x, r->origin.y + line,
                                                      line, r->size.height - 2 * line));
      gtk_snapshot_append_color (snapshot, item->color,
                                 &GRAPHENE_RECT_INIT (r->origin.x + r->size.width - line,
                                                      r->origin.y + line,
                                                      line, r->size.height - 2 * line));
    }

  for (guint i = 0; i < items->len; i++)
    {
      const Item *item = &g_array_index (items, Item, i);

      if (item->captioned)
        gtk_snapshot_append_color (snapshot, item->color,
                                   &GRAPHENE_RECT_INIT (item->caption_at.x, item->caption_at.y,
                                                        item->info->caption_width,
                                                        item->info->caption_height));
    }

  for (guint i = 0; i < items->len; i++)
    {
      const Item *item = &g_array_index (items, Item, i);

      if (!item->captioned)
        continue;

      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot,
                              &GRAPHENE_POINT_INIT (item->caption_at.x + 4, item->caption_at.y + 1));
      gtk_snapshot_append_node (snapshot, item->info->caption);
      gtk_snapshot_restore (snapshot);
    }
}

static void
draw_handles (KpCanvas     *self,
              GtkSnapshot  *snapshot,
              const KpRect *rect,
              gint64        label_id)
{
  LabelInfo *info = lookup_label (self, label_id);
  const GdkRGBA *color = info != NULL ? &info->color : &self->accent_color;
  graphene_rect_t r = widget_rect (self, rect);
  double xs[3] = { r.origin.x, r.origin.x + r.size.width / 2, r.origin.x + r.size.width };
  double ys[3] = { r.origin.y, r.origin.y + r.size.height / 2, r.origin.y + r.size.height };
  double half = floor (HANDLE_SIZE / 2);

  for (guint j = 0; j < 3; j++)
    for (guint i = 0; i < 3; i++)
      {
        double cx, cy;

        if (i == 1 && j == 1)
          continue;

        cx = round (xs[i]);
        cy = round (ys[j]);
        gtk_snapshot_append_color (snapshot, color,
                                   &GRAPHENE_RECT_INIT (cx - half, cy - half,
                                                        HANDLE_SIZE, HANDLE_SIZE));
        gtk_snapshot_append_color (snapshot, &self->handle_color,
                                   &GRAPHENE_RECT_INIT (cx - half + 2, cy - half + 2,
                                                        HANDLE_SIZE - 4, HANDLE_SIZE - 4));
      }
}

static int
compare_uint (gconstpointer a,
              gconstpointer b)
{
  guint ua = *(const guint *)a;
  guint ub = *(const guint *)b;

  return ua < ub ? -1 : ua > ub;
}

static void
draw_annotations (KpCanvas    *self,
                  GtkSnapshot *snapshot,
                  double       width,
                  double       height)
{
  g_autoptr(GArray) ids = NULL;
  g_autoptr(GArray) positions = NULL;
  g_autoptr(GArray) items = g_array_new (FALSE, FALSE, sizeof (Item));
  GPtrArray *annotations;
  const KpAnnotation *selected = NULL;
  gint64 preview_id = 0;
  KpRect preview_rect;
  gboolean has_preview;
  KpRect visible;
  double margin;

  has_preview = kp_tool_get_preview (self->tool, &preview_id, &preview_rect);

  if (self->document != NULL)
    {
      annotations = kp_document_get_annotations (self->document);

      /* Only what the view shows, plus room for the captions above. */
      margin = (32 + HANDLE_SIZE) / self->view.scale;
      visible = kp_view_visible_rect (&self->view, width, height);
      visible.x -= margin;
      visible.y -= margin;
      visible.width += 2 * margin;
      visible.height += 2 * margin;

      ids = kp_spatial_index_query (self->index, &visible);
      positions = g_array_sized_new (FALSE, FALSE, sizeof (guint), ids->len);
      for (guint i = 0; i < ids->len; i++)
        {
          guint position = get_position (self, g_array_index (ids, gint64, i));

          if (position > 0 && position <= annotations->len)
            g_array_append_val (positions, position);
        }
      g_array_sort (positions, compare_uint);

      for (guint i = 0; i < positions->len; i++)
        {
          const KpAnnotation *annotation =
            g_ptr_array_index (annotations, g_array_index (positions, guint, i) - 1);

          if (has_preview && annotation->id == preview_id)
            continue;

          add_item (self, items, &annotation->rect, annotation->label_id,
                    annotation->id == self->selected_id,
                    annotation->id == self->hover_id,
                    positions->len > CROWDED_BOXES);
        }

      if (self->selected_id != 0)
        selected = kp_document_lookup (self->document, self->selected_id);
    }

  if (has_preview)
    {
      gint64 label_id = self->current_label_id;

      if (preview_id != 0 && self->document != NULL)
        {
          const KpAnnotation *annotation = kp_document_lookup (self->document, preview_id);

          if (annotation != NULL)
            label_id = annotation->label_id;
        }

      add_item (self, items, &preview_rect, label_id, TRUE, FALSE, FALSE);
    }

  draw_items (self, snapshot, items);

  if (has_preview && preview_id != 0 && preview_id == self->selected_id)
    draw_handles (self, snapshot, &preview_rect, selected != NULL ? selected->label_id : 0);
  else if (selected != NULL)
    draw_handles (self, snapshot, &selected->rect, selected->label_id);
}

static cairo_surface_t *
ensure_nearest_surface (KpCanvas *self)
{
  int width, height;

  if (self->nearest_surface != NULL)
    return self->nearest_surface;

  width = gdk_texture_get_width (self->texture);
  height = gdk_texture_get_height (self->texture);

  /* GDK downloads in the memory format cairo's ARGB32 uses. */
  self->nearest_surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, width, height);
  gdk_texture_download (self->texture,
                        cairo_image_surface_get_data (self->nearest_surface),
                        cairo_image_surface_get_stride (self->nearest_surface));
  cairo_surface_mark_dirty (self->nearest_surface);

  return self->nearest_surface;
}

static void
draw_image (KpCanvas    *self,
            GtkSnapshot *snapshot,
            double       width,
            double       height)
{
  KpRect image = { 0, 0, gdk_texture_get_width (self->texture), gdk_texture_get_height (self->texture) };
  KpRect shown = kp_view_rect_to_widget (&self->view, &image);

  if (self->view.scale > PIXEL_EXACT_SCALE)
    {
      /* Only the visible part: the cairo surface is the widget's size at most. */
      double x0 = MAX (floor (shown.x), 0);
      double y0 = MAX (floor (shown.y), 0);
      double x1 = MIN (ceil (shown.x + shown.width), width);
      double y1 = MIN (ceil (shown.y + shown.height), height);
      cairo_surface_t *surface;
      cairo_pattern_t *pattern;
      cairo_t *cr;

      if (x1 <= x0 || y1 <= y0)
        return;

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
  else
    {
      gtk_snapshot_append_texture (snapshot, self->texture,
                                   &GRAPHENE_RECT_INIT (shown.x, shown.y, shown.width, shown.height));
    }
}

static void
kp_canvas_snapshot (GtkWidget   *widget,
                    GtkSnapshot *snapshot)
{
  KpCanvas *self = (KpCanvas *)widget;
  double width = gtk_widget_get_width (widget);
  double height = gtk_widget_get_height (widget);

  gtk_snapshot_append_color (snapshot, &self->bg_color,
                             &GRAPHENE_RECT_INIT (0, 0, width, height));

  if (self->texture == NULL)
    return;

  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  draw_image (self, snapshot, width, height);
  draw_annotations (self, snapshot, width, height);
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

  /* The font may have changed too. */
  clear_captions (self);
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
  else if (self->texture != NULL && self->pointer_inside)
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

static gboolean
scroll_cb (KpCanvas                 *self,
           double                    dx,
           double                    dy,
           GtkEventControllerScroll *controller)
{
  GdkModifierType state;
  GdkScrollUnit unit;

  if (self->texture == NULL)
    return FALSE;

  state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (controller));
  unit = gtk_event_controller_scroll_get_unit (controller);

  if (state & GDK_CONTROL_MASK)
    {
      double anchor_x, anchor_y;
      double scale;

      if (dy == 0)
        return FALSE;

      get_zoom_anchor (self, &anchor_x, &anchor_y);
      if (unit == GDK_SCROLL_UNIT_WHEEL)
        scale = dy < 0 ? kp_zoom_step_in (self->view.scale) : kp_zoom_step_out (self->view.scale);
      else
        scale = self->view.scale * exp (-dy / 200.0);

      zoom_at (self, scale, anchor_x, anchor_y);
      return TRUE;
    }

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
  KpCanvas *self = (KpCanvas *)widget;
  double x, y;

  get_zoom_anchor (self, &x, &y);
  zoom_at (self, 1.0, x, y);
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
  g_clear_pointer (&self->nearest_surface, cairo_surface_destroy);

  G_OBJECT_CLASS (kp_canvas_parent_class)->dispose (object);
}

static void
kp_canvas_finalize (GObject *object)
{
  KpCanvas *self = (KpCanvas *)object;

  g_clear_pointer (&self->labels, g_hash_table_unref);
  g_clear_pointer (&self->order, g_hash_table_unref);
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

  g_object_class_install_properties (object_class, N_PROPS, properties);

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
  self->order = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
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

  controller = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect_object (controller, "scroll", G_CALLBACK (scroll_cb), self, G_CONNECT_SWAPPED);
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

  if (!g_set_object (&self->texture, texture))
    return;

  g_clear_pointer (&self->nearest_surface, cairo_surface_destroy);
  kp_tool_cancel (self->tool);

  if (self->fit)
    refit (self);
  else
    apply_view (self, self->view, FALSE);

  update_actions (self);
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TEXTURE]);
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

  if (annotation_id != 0 &&
      (self->document == NULL || kp_document_lookup (self->document, annotation_id) == NULL))
    annotation_id = 0;

  if (self->selected_id == annotation_id)
    return;

  self->selected_id = annotation_id;
  update_actions (self);
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED_ID]);
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
