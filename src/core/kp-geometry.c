/* kp-geometry.c: rectangles, handles and the image <-> widget view transform
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-geometry.h"

#include <math.h>
#include <string.h>

KpRect
kp_rect_from_points (double x0,
                     double y0,
                     double x1,
                     double y1)
{
  KpRect r;

  r.x = MIN (x0, x1);
  r.y = MIN (y0, y1);
  r.width = fabs (x1 - x0);
  r.height = fabs (y1 - y0);

  return r;
}

KpRect
kp_rect_normalize (KpRect rect)
{
  if (rect.width < 0)
    {
      rect.x += rect.width;
      rect.width = -rect.width;
    }
  if (rect.height < 0)
    {
      rect.y += rect.height;
      rect.height = -rect.height;
    }

  return rect;
}

gboolean
kp_rect_is_empty (const KpRect *rect)
{
  g_return_val_if_fail (rect != NULL, TRUE);

  return !(rect->width > 0 && rect->height > 0);
}

/* Both edges are inside: a point on the border hits the rectangle. */
gboolean
kp_rect_contains (const KpRect *rect,
                  double        x,
                  double        y)
{
  KpRect r;

  g_return_val_if_fail (rect != NULL, FALSE);

  r = kp_rect_normalize (*rect);

  return x >= r.x && x <= r.x + r.width &&
         y >= r.y && y <= r.y + r.height;
}

/* Closed intersection: rectangles that touch intersect, so that a query
 * with a zero-sized area (a point) finds what lies under it. */
gboolean
kp_rect_intersects (const KpRect *a,
                    const KpRect *b)
{
  KpRect ra, rb;

  g_return_val_if_fail (a != NULL, FALSE);
  g_return_val_if_fail (b != NULL, FALSE);

  ra = kp_rect_normalize (*a);
  rb = kp_rect_normalize (*b);

  return ra.x <= rb.x + rb.width && rb.x <= ra.x + ra.width &&
         ra.y <= rb.y + rb.height && rb.y <= ra.y + ra.height;
}

/* The part of rect inside the image; empty (but positioned on the image
 * border) when rect is wholly outside. */
KpRect
kp_rect_clamp (KpRect rect,
               double image_width,
               double image_height)
{
  double x0, y0, x1, y1;

  rect = kp_rect_normalize (rect);
  image_width = MAX (image_width, 0);
  image_height = MAX (image_height, 0);

  x0 = CLAMP (rect.x, 0, image_width);
  y0 = CLAMP (rect.y, 0, image_height);
  x1 = CLAMP (rect.x + rect.width, 0, image_width);
  y1 = CLAMP (rect.y + rect.height, 0, image_height);

  return (KpRect) { x0, y0, x1 - x0, y1 - y0 };
}

KpRect
kp_rect_translate (KpRect rect,
                   double dx,
                   double dy)
{
  rect.x += dx;
  rect.y += dy;

  return rect;
}

KpRect
kp_rect_translate_clamped (KpRect rect,
                           double dx,
                           double dy,
                           double image_width,
                           double image_height)
{
  rect = kp_rect_normalize (rect);

  /* A rectangle bigger than the image sticks to its top-left corner. */
  rect.x = CLAMP (rect.x + dx, 0, MAX (0, image_width - rect.width));
  rect.y = CLAMP (rect.y + dy, 0, MAX (0, image_height - rect.height));

  return rect;
}

double
kp_rect_iou (const KpRect *a,
             const KpRect *b)
{
  KpRect ra, rb;
  double ix, iy, inter, uni;

  g_return_val_if_fail (a != NULL, 0);
  g_return_val_if_fail (b != NULL, 0);

  ra = kp_rect_normalize (*a);
  rb = kp_rect_normalize (*b);

  ix = MIN (ra.x + ra.width, rb.x + rb.width) - MAX (ra.x, rb.x);
  iy = MIN (ra.y + ra.height, rb.y + rb.height) - MAX (ra.y, rb.y);
  if (ix <= 0 || iy <= 0)
    return 0;

  inter = ix * iy;
  uni = ra.width * ra.height + rb.width * rb.height - inter;
  if (uni <= 0)
    return 0;

  return inter / uni;
}

KpHandle
kp_rect_hit_handle (const KpRect *rect,
                    double        x,
                    double        y,
                    double        tolerance)
{
  static const KpHandle corners[] = {
    KP_HANDLE_TOP_LEFT, KP_HANDLE_TOP_RIGHT, KP_HANDLE_BOTTOM_RIGHT, KP_HANDLE_BOTTOM_LEFT,
  };
  KpRect r;
  double x0, y0, x1, y1;
  double cx[4], cy[4];
  double best = G_MAXDOUBLE;
  KpHandle handle = KP_HANDLE_NONE;

  g_return_val_if_fail (rect != NULL, KP_HANDLE_NONE);

  r = kp_rect_normalize (*rect);
  tolerance = MAX (tolerance, 0);
  x0 = r.x;
  y0 = r.y;
  x1 = r.x + r.width;
  y1 = r.y + r.height;

  /* Corners first; when the rectangle is so small that several corners are
   * in reach, the nearest one wins. */
  cx[0] = x0; cy[0] = y0;
  cx[1] = x1; cy[1] = y0;
  cx[2] = x1; cy[2] = y1;
  cx[3] = x0; cy[3] = y1;
  for (guint i = 0; i < G_N_ELEMENTS (corners); i++)
    {
      double ddx = fabs (x - cx[i]);
      double ddy = fabs (y - cy[i]);

      if (ddx <= tolerance && ddy <= tolerance)
        {
          double d = ddx * ddx + ddy * ddy;

          if (d < best)
            {
              best = d;
              handle = corners[i];
            }
        }
    }
  if (handle != KP_HANDLE_NONE)
    return handle;

  /* Then edges, along their length, the nearest one winning. */
  if (y >= y0 && y <= y1)
    {
      if (fabs (x - x0) <= tolerance && fabs (x - x0) < best)
        {
          best = fabs (x - x0);
          handle = KP_HANDLE_LEFT;
        }
      if (fabs (x - x1) <= tolerance && fabs (x - x1) < best)
        {
          best = fabs (x - x1);
          handle = KP_HANDLE_RIGHT;
        }
    }
  if (x >= x0 && x <= x1)
    {
      if (fabs (y - y0) <= tolerance && fabs (y - y0) < best)
        {
          best = fabs (y - y0);
          handle = KP_HANDLE_TOP;
        }
      if (fabs (y - y1) <= tolerance && fabs (y - y1) < best)
        {
          best = fabs (y - y1);
          handle = KP_HANDLE_BOTTOM;
        }
    }
  if (handle != KP_HANDLE_NONE)
    return handle;

  if (kp_rect_contains (&r, x, y))
    return KP_HANDLE_INSIDE;

  return KP_HANDLE_NONE;
}

KpRect
kp_rect_drag_handle (KpRect   start,
                     KpHandle handle,
                     double   dx,
                     double   dy)
{
  double x0, y0, x1, y1;

  start = kp_rect_normalize (start);
  x0 = start.x;
  y0 = start.y;
  x1 = start.x + start.width;
  y1 = start.y + start.height;

  switch (handle)
    {
    case KP_HANDLE_NONE:
      return start;

    case KP_HANDLE_INSIDE:
      return kp_rect_translate (start, dx, dy);

    case KP_HANDLE_TOP_LEFT:
      x0 += dx;
      y0 += dy;
      break;

    case KP_HANDLE_TOP:
      y0 += dy;
      break;

    case KP_HANDLE_TOP_RIGHT:
      x1 += dx;
      y0 += dy;
      break;

    case KP_HANDLE_RIGHT:
      x1 += dx;
      break;

    case KP_HANDLE_BOTTOM_RIGHT:
      x1 += dx;
      y1 += dy;
      break;

    case KP_HANDLE_BOTTOM:
      y1 += dy;
      break;

    case KP_HANDLE_BOTTOM_LEFT:
      x0 += dx;
      y1 += dy;
      break;

    case KP_HANDLE_LEFT:
      x0 += dx;
      break;

    default:
      g_return_val_if_reached (start);
    }

  return kp_rect_from_points (x0, y0, x1, y1);
}

const char *
kp_handle_cursor_name (KpHandle handle)
{
  switch (handle)
    {
    case KP_HANDLE_TOP_LEFT:     return "nw-resize";
    case KP_HANDLE_TOP:          return "n-resize";
    case KP_HANDLE_TOP_RIGHT:    return "ne-resize";
    case KP_HANDLE_RIGHT:        return "e-resize";
    case KP_HANDLE_BOTTOM_RIGHT: return "se-resize";
    case KP_HANDLE_BOTTOM:       return "s-resize";
    case KP_HANDLE_BOTTOM_LEFT:  return "sw-resize";
    case KP_HANDLE_LEFT:         return "w-resize";
    case KP_HANDLE_INSIDE:       return "move";
    case KP_HANDLE_NONE:
    default:                     return "default";
    }
}

void
kp_view_image_to_widget (const KpView *view,
                         double        ix,
                         double        iy,
                         double       *wx,
                         double       *wy)
{
  g_return_if_fail (view != NULL);

  if (wx != NULL)
    *wx = ix * view->scale + view->offset_x;
  if (wy != NULL)
    *wy = iy * view->scale + view->offset_y;
}

void
kp_view_widget_to_image (const KpView *view,
                         double        wx,
                         double        wy,
                         double       *ix,
                         double       *iy)
{
  g_return_if_fail (view != NULL);
  g_return_if_fail (view->scale > 0);

  if (ix != NULL)
    *ix = (wx - view->offset_x) / view->scale;
  if (iy != NULL)
    *iy = (wy - view->offset_y) / view->scale;
}

KpRect
kp_view_rect_to_widget (const KpView *view,
                        const KpRect *image_rect)
{
  KpRect r;

  g_return_val_if_fail (view != NULL, (KpRect) { 0 });
  g_return_val_if_fail (image_rect != NULL, (KpRect) { 0 });

  r = kp_rect_normalize (*image_rect);

  return (KpRect) {
    r.x * view->scale + view->offset_x,
    r.y * view->scale + view->offset_y,
    r.width * view->scale,
    r.height * view->scale,
  };
}

KpRect
kp_view_visible_rect (const KpView *view,
                      double        widget_width,
                      double        widget_height)
{
  g_return_val_if_fail (view != NULL, (KpRect) { 0 });
  g_return_val_if_fail (view->scale > 0, (KpRect) { 0 });

  return (KpRect) {
    -view->offset_x / view->scale,
    -view->offset_y / view->scale,
    MAX (widget_width, 0) / view->scale,
    MAX (widget_height, 0) / view->scale,
  };
}

KpView
kp_view_fit (double image_width,
             double image_height,
             double widget_width,
             double widget_height,
             double max_scale)
{
  KpView view = { 1.0, 0, 0 };

  if (max_scale <= 0)
    max_scale = KP_ZOOM_MAX;

  if (image_width > 0 && image_height > 0 && widget_width > 0 && widget_height > 0)
    view.scale = MIN (widget_width / image_width, widget_height / image_height);
  view.scale = CLAMP (MIN (view.scale, max_scale), KP_ZOOM_MIN, KP_ZOOM_MAX);

  view.offset_x = (widget_width - image_width * view.scale) / 2.0;
  view.offset_y = (widget_height - image_height * view.scale) / 2.0;

  return view;
}

KpView
kp_view_zoom_at (KpView view,
                 double new_scale,
                 double anchor_x,
                 double anchor_y)
{
  double ix, iy;
  KpView result;

  g_return_val_if_fail (view.scale > 0, view);

  if (isnan (new_scale))
    return view;

  ix = (anchor_x - view.offset_x) / view.scale;
  iy = (anchor_y - view.offset_y) / view.scale;

  result.scale = CLAMP (new_scale, KP_ZOOM_MIN, KP_ZOOM_MAX);
  result.offset_x = anchor_x - ix * result.scale;
  result.offset_y = anchor_y - iy * result.scale;

  return result;
}

/* The zoom levels: each power of two from 1/64 to 64, with ×1.25, ×1.5
 * and ×1.75 steps in between. */
static const double zoom_factors[] = { 1.0, 1.25, 1.5, 1.75 };
#define ZOOM_FIRST_EXPONENT (-6)
#define ZOOM_LAST_EXPONENT 6

static double
zoom_level (int exponent,
            guint factor)
{
  return ldexp (zoom_factors[factor], exponent);
}

/* Relative tolerance, so that a scale that is a level but for rounding
 * (e.g. 1.2500000001) counts as that level. */
#define ZOOM_EPSILON 1e-9

double
kp_zoom_step_in (double scale)
{
  for (int e = ZOOM_FIRST_EXPONENT; e <= ZOOM_LAST_EXPONENT; e++)
    for (guint f = 0; f < G_N_ELEMENTS (zoom_factors); f++)
      {
        double level = zoom_level (e, f);

        if (level > KP_ZOOM_MAX)
          return KP_ZOOM_MAX;
        if (level > scale * (1 + ZOOM_EPSILON))
          return level;
      }

  return KP_ZOOM_MAX;
}

double
kp_zoom_step_out (double scale)
{
  for (int e = ZOOM_LAST_EXPONENT; e >= ZOOM_FIRST_EXPONENT; e--)
    for (int f = G_N_ELEMENTS (zoom_factors) - 1; f >= 0; f--)
      {
        double level = zoom_level (e, f);

        if (level <= KP_ZOOM_MAX && level < scale * (1 - ZOOM_EPSILON))
          return level;
      }

  return KP_ZOOM_MIN;
}

static double
clamp_axis (double offset,
            double image_size,
            double widget_size)
{
  double content = image_size;

  if (content <= widget_size)
    return (widget_size - content) / 2.0;

  return CLAMP (offset, widget_size - content, 0);
}

KpView
kp_view_clamp_pan (KpView view,
                   double image_width,
                   double image_height,
                   double widget_width,
                   double widget_height)
{
  view.offset_x = clamp_axis (view.offset_x, MAX (image_width, 0) * view.scale, widget_width);
  view.offset_y = clamp_axis (view.offset_y, MAX (image_height, 0) * view.scale, widget_height);

  return view;
}

/* The spatial index: a hash of grid cells, each holding the ids of the
 * rectangles that overlap it, plus the rectangle of each id. */

struct _KpSpatialIndex
{
  double      cell_size;
  GHashTable *cells;    /* CellKey* -> GArray of gint64 */
  GHashTable *rects;    /* gint64* -> KpRect* */
  GHashTable *huge;     /* gint64* set: rectangles kept out of the grid */
};

typedef struct
{
  int cx;
  int cy;
} CellKey;

static guint
cell_key_hash (gconstpointer key)
{
  const CellKey *k = key;

  return (guint) k->cx * 2654435761u ^ (guint) k->cy;
}

static gboolean
cell_key_equal (gconstpointer a,
                gconstpointer b)
{
  const CellKey *ka = a;
  const CellKey *kb = b;

  return ka->cx == kb->cx && ka->cy == kb->cy;
}

static void
array_unref (gpointer data)
{
  g_array_unref (data);
}

KpSpatialIndex *
kp_spatial_index_new (double cell_size)
{
  KpSpatialIndex *index;

  g_return_val_if_fail (cell_size > 0, NULL);

  index = g_new0 (KpSpatialIndex, 1);
  index->cell_size = cell_size;
  index->cells = g_hash_table_new_full (cell_key_hash, cell_key_equal, g_free, array_unref);
  index->rects = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  index->huge = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);

  return index;
}

void
kp_spatial_index_free (KpSpatialIndex *index)
{
  if (index == NULL)
    return;

  g_hash_table_unref (index->cells);
  g_hash_table_unref (index->rects);
  g_hash_table_unref (index->huge);
  g_free (index);
}

void
kp_spatial_index_clear (KpSpatialIndex *index)
{
  g_return_if_fail (index != NULL);

  g_hash_table_remove_all (index->cells);
  g_hash_table_remove_all (index->rects);
  g_hash_table_remove_all (index->huge);
}

static int
cell_coord (const KpSpatialIndex *index,
            double                v)
{
  double c = floor (v / index->cell_size);

  /* NaN and far-away coordinates land in the outermost cells. */
  if (isnan (c))
    return 0;
  return (int) CLAMP (c, (double) (G_MININT / 2), (double) (G_MAXINT / 2));
}

static void
cell_range (const KpSpatialIndex *index,
            const KpRect         *rect,
            int                  *cx0,
            int                  *cy0,
            int                  *cx1,
            int                  *cy1)
{
  KpRect r = kp_rect_normalize (*rect);

  *cx0 = cell_coord (index, r.x);
  *cy0 = cell_coord (index, r.y);
  *cx1 = cell_coord (index, r.x + r.width);
  *cy1 = cell_coord (index, r.y + r.height);
}

#define HUGE_CELLS (1 << 16)

/* The number of cells a rectangle covers. */
static guint64
cell_count (int cx0,
            int cy0,
            int cx1,
            int cy1)
{
  return ((guint64) (cx1 - cx0) + 1) * ((guint64) (cy1 - cy0) + 1);
}

static void
remove_from_cells (KpSpatialIndex *index,
                   gint64          id,
                   const KpRect   *rect)
{
  int cx0, cy0, cx1, cy1;

  cell_range (index, rect, &cx0, &cy0, &cx1, &cy1);

  for (int cy = cy0; cy <= cy1; cy++)
    for (int cx = cx0; cx <= cx1; cx++)
      {
        CellKey key = { cx, cy };
        GArray *ids = g_hash_table_lookup (index->cells, &key);

        if (ids == NULL)
          continue;

        for (guint i = 0; i < ids->len; i++)
          {
            if (g_array_index (ids, gint64, i) == id)
              {
                g_array_remove_index_fast (ids, i);
                break;
              }
          }

        if (ids->len == 0)
          g_hash_table_remove (index->cells, &key);
      }
}

void
kp_spatial_index_insert (KpSpatialIndex *index,
                         gint64          id,
                         const KpRect   *rect)
{
  int cx0, cy0, cx1, cy1;
  KpRect *stored;
  gint64 *key;

  g_return_if_fail (index != NULL);
  g_return_if_fail (rect != NULL);

  kp_spatial_index_remove (index, id);

  stored = g_new (KpRect, 1);
  *stored = kp_rect_normalize (*rect);
  key = g_new (gint64, 1);
  *key = id;
  g_hash_table_insert (index->rects, key, stored);

  cell_range (index, stored, &cx0, &cy0, &cx1, &cy1);

  /* A huge rectangle would fill millions of cells: it is kept out of the
   * grid, and every query looks at it. */
  if (cell_count (cx0, cy0, cx1, cy1) > HUGE_CELLS)
    {
      gint64 *huge_key = g_new (gint64, 1);

      *huge_key = id;
      g_hash_table_add (index->huge, huge_key);
      return;
    }

  for (int cy = cy0; cy <= cy1; cy++)
    for (int cx = cx0; cx <= cx1; cx++)
      {
        CellKey lookup = { cx, cy };
        GArray *ids = g_hash_table_lookup (index->cells, &lookup);

        if (ids == NULL)
          {
            CellKey *k = g_new (CellKey, 1);

            *k = lookup;
            ids = g_array_sized_new (FALSE, FALSE, sizeof (gint64), 4);
            g_hash_table_insert (index->cells, k, ids);
          }

        g_array_append_val (ids, id);
      }
}

void
kp_spatial_index_remove (KpSpatialIndex *index,
                         gint64          id)
{
  KpRect *rect;

  g_return_if_fail (index != NULL);

  rect = g_hash_table_lookup (index->rects, &id);
  if (rect == NULL)
    return;

  if (!g_hash_table_remove (index->huge, &id))
    remove_from_cells (index, id, rect);
  g_hash_table_remove (index->rects, &id);
}

GArray *
kp_spatial_index_query (KpSpatialIndex *index,
                        const KpRect   *area)
{
  g_autoptr(GHashTable) seen = NULL;
  GArray *result;
  int cx0, cy0, cx1, cy1;

  g_return_val_if_fail (index != NULL, NULL);
  g_return_val_if_fail (area != NULL, NULL);

  result = g_array_new (FALSE, FALSE, sizeof (gint64));
  if (g_hash_table_size (index->rects) == 0)
    return result;

  cell_range (index, area, &cx0, &cy0, &cx1, &cy1);

  /* When the area covers more cells than there are rectangles, looking at
   * every rectangle is cheaper than visiting the cells. */
  if (cell_count (cx0, cy0, cx1, cy1) > g_hash_table_size (index->rects))
    {
      GHashTableIter iter;
      gpointer key, value;

      g_hash_table_iter_init (&iter, index->rects);
      while (g_hash_table_iter_next (&iter, &key, &value))
        if (kp_rect_intersects (value, area))
          g_array_append_val (result, *(gint64 *)key);

      return result;
    }

  seen = g_hash_table_new (g_int64_hash, g_int64_equal);

  {
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init (&iter, index->huge);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      if (kp_rect_intersects (g_hash_table_lookup (index->rects, key), area))
        g_array_append_val (result, *(gint64 *)key);
  }

  for (int cy = cy0; cy <= cy1; cy++)
    for (int cx = cx0; cx <= cx1; cx++)
      {
        CellKey key = { cx, cy };
        GArray *ids = g_hash_table_lookup (index->cells, &key);

        if (ids == NULL)
          continue;

        for (guint i = 0; i < ids->len; i++)
          {
            gint64 *id = &g_array_index (ids, gint64, i);
            const KpRect *rect;

            if (g_hash_table_contains (seen, id))
              continue;
            g_hash_table_add (seen, id);

            rect = g_hash_table_lookup (index->rects, id);
            if (rect != NULL && kp_rect_intersects (rect, area))
              g_array_append_val (result, *id);
          }
      }

  return result;
}

guint
kp_spatial_index_get_size (KpSpatialIndex *index)
{
  g_return_val_if_fail (index != NULL, 0);

  return g_hash_table_size (index->rects);
}

/* Shapes */

double
kp_angle_normalize (double angle)
{
  if (!isfinite (angle))
    return 0;

  angle = fmod (angle + G_PI, 2 * G_PI);
  if (angle < 0)
    angle += 2 * G_PI;

  return angle - G_PI;
}

void
kp_rotated_box_corners (const KpRotatedBox *box,
                        KpPoint             corners[4])
{
  static const double sx[4] = { -0.5, 0.5, 0.5, -0.5 };
  static const double sy[4] = { -0.5, -0.5, 0.5, 0.5 };
  double c, s;

  g_return_if_fail (box != NULL);

  c = cos (box->angle);
  s = sin (box->angle);
  for (guint i = 0; i < 4; i++)
    {
      double dx = sx[i] * box->width;
      double dy = sy[i] * box->height;

      corners[i].x = box->cx + dx * c - dy * s;
      corners[i].y = box->cy + dx * s + dy * c;
    }
}

KpRect
kp_rotated_box_bounds (const KpRotatedBox *box)
{
  KpPoint corners[4];

  g_return_val_if_fail (box != NULL, (KpRect) { 0 });

  kp_rotated_box_corners (box, corners);

  return kp_points_bounds (corners, 4);
}

gboolean
kp_rotated_box_contains (const KpRotatedBox *box,
                         double              x,
                         double              y)
{
  double c, s, dx, dy, u, v;

  g_return_val_if_fail (box != NULL, FALSE);

  /* Into the box's own frame: rotate back by -angle. */
  c = cos (box->angle);
  s = sin (box->angle);
  dx = x - box->cx;
  dy = y - box->cy;
  u = dx * c + dy * s;
  v = -dx * s + dy * c;

  return fabs (u) <= fabs (box->width) / 2 + 1e-9 && fabs (v) <= fabs (box->height) / 2 + 1e-9;
}

KpRect
kp_points_bounds (const KpPoint *points,
                  guint          n_points)
{
  double x0, y0, x1, y1;

  if (n_points == 0 || points == NULL)
    return (KpRect) { 0, 0, 0, 0 };

  x0 = x1 = points[0].x;
  y0 = y1 = points[0].y;
  for (guint i = 1; i < n_points; i++)
    {
      x0 = MIN (x0, points[i].x);
      x1 = MAX (x1, points[i].x);
      y0 = MIN (y0, points[i].y);
      y1 = MAX (y1, points[i].y);
    }

  return (KpRect) { x0, y0, x1 - x0, y1 - y0 };
}

void
kp_points_translate (KpPoint *points,
                     guint    n_points,
                     double   dx,
                     double   dy)
{
  for (guint i = 0; i < n_points; i++)
    {
      points[i].x += dx;
      points[i].y += dy;
    }
}

gboolean
kp_polygon_contains (const KpPoint *points,
                     guint          n_points,
                     double         x,
                     double         y)
{
  gboolean inside = FALSE;

  if (n_points < 3)
    return FALSE;

  for (guint i = 0, j = n_points - 1; i < n_points; j = i++)
    {
      const KpPoint *a = &points[i];
      const KpPoint *b = &points[j];

      if ((a->y > y) != (b->y > y) &&
          x < (b->x - a->x) * (y - a->y) / (b->y - a->y) + a->x)
        inside = !inside;
    }

  return inside;
}

double
kp_polygon_area (const KpPoint *points,
                 guint          n_points)
{
  double sum = 0;

  if (n_points < 3)
    return 0;

  for (guint i = 0, j = n_points - 1; i < n_points; j = i++)
    sum += points[j].x * points[i].y - points[i].x * points[j].y;

  return sum / 2;
}

double
kp_segment_distance (const KpPoint *a,
                     const KpPoint *b,
                     double         x,
                     double         y)
{
  double vx = b->x - a->x;
  double vy = b->y - a->y;
  double len2 = vx * vx + vy * vy;
  double t = 0;

  if (len2 > 0)
    t = CLAMP (((x - a->x) * vx + (y - a->y) * vy) / len2, 0.0, 1.0);

  return hypot (x - (a->x + t * vx), y - (a->y + t * vy));
}

double
kp_polyline_distance (const KpPoint *points,
                      guint          n_points,
                      gboolean       closed,
                      double         x,
                      double         y,
                      guint         *nearest_edge)
{
  double best = G_MAXDOUBLE;
  guint best_edge = 0;
  guint n_edges;

  if (n_points == 0)
    return G_MAXDOUBLE;

  if (n_points == 1)
    {
      if (nearest_edge != NULL)
        *nearest_edge = 0;
      return hypot (x - points[0].x, y - points[0].y);
    }

  n_edges = closed && n_points > 2 ? n_points : n_points - 1;
  for (guint i = 0; i < n_edges; i++)
    {
      double d = kp_segment_distance (&points[i], &points[(i + 1) % n_points], x, y);

      if (d < best)
        {
          best = d;
          best_edge = i;
        }
    }

  if (nearest_edge != NULL)
    *nearest_edge = best_edge;

  return best;
}

int
kp_points_hit_vertex (const KpPoint *points,
                      guint          n_points,
                      double         x,
                      double         y,
                      double         tolerance)
{
  double best = tolerance;
  int hit = -1;

  for (guint i = 0; i < n_points; i++)
    {
      double d = hypot (points[i].x - x, points[i].y - y);

      if (d <= best)
        {
          best = d;
          hit = (int)i;
        }
    }

  return hit;
}

KpPoint *
kp_points_insert (const KpPoint *points,
                  guint          n_points,
                  guint          index,
                  const KpPoint *point)
{
  KpPoint *result;

  g_return_val_if_fail (index <= n_points, NULL);
  g_return_val_if_fail (point != NULL, NULL);

  result = g_new (KpPoint, n_points + 1);
  if (index > 0)
    memcpy (result, points, index * sizeof (KpPoint));
  result[index] = *point;
  if (index < n_points)
    memcpy (result + index + 1, points + index, (n_points - index) * sizeof (KpPoint));

  return result;
}

KpPoint *
kp_points_remove (const KpPoint *points,
                  guint          n_points,
                  guint          index)
{
  KpPoint *result;

  g_return_val_if_fail (index < n_points, NULL);

  result = g_new (KpPoint, MAX (n_points - 1, 1));
  if (index > 0)
    memcpy (result, points, index * sizeof (KpPoint));
  if (index + 1 < n_points)
    memcpy (result + index, points + index + 1, (n_points - index - 1) * sizeof (KpPoint));

  return result;
}
