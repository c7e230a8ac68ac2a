/* kp-geometry.h: rectangles, handles and the image <-> widget view transform
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#if !defined(KP_CORE_INSIDE) && !defined(KP_CORE_COMPILATION)
# error "Only <kp-core.h> can be included directly."
#endif

#include <glib.h>

G_BEGIN_DECLS

/* All rectangles are in image pixels, x/y the top-left corner, width/height >= 0
 * once normalized. */
typedef struct
{
  double x;
  double y;
  double width;
  double height;
} KpRect;

/* A view maps image coordinates to widget coordinates:
 *   widget = image * scale + offset
 */
typedef struct
{
  double scale;
  double offset_x;
  double offset_y;
} KpView;

typedef enum
{
  KP_HANDLE_NONE = 0,
  KP_HANDLE_TOP_LEFT,
  KP_HANDLE_TOP,
  KP_HANDLE_TOP_RIGHT,
  KP_HANDLE_RIGHT,
  KP_HANDLE_BOTTOM_RIGHT,
  KP_HANDLE_BOTTOM,
  KP_HANDLE_BOTTOM_LEFT,
  KP_HANDLE_LEFT,
  KP_HANDLE_INSIDE,
} KpHandle;

#define KP_ZOOM_MIN 0.01
#define KP_ZOOM_MAX 64.0

KpRect   kp_rect_from_points      (double        x0,
                                   double        y0,
                                   double        x1,
                                   double        y1);
KpRect   kp_rect_normalize        (KpRect        rect);
gboolean kp_rect_is_empty         (const KpRect *rect);
gboolean kp_rect_contains         (const KpRect *rect,
                                   double        x,
                                   double        y);
gboolean kp_rect_intersects       (const KpRect *a,
                                   const KpRect *b);
KpRect   kp_rect_clamp            (KpRect        rect,
                                   double        image_width,
                                   double        image_height);
KpRect   kp_rect_translate        (KpRect        rect,
                                   double        dx,
                                   double        dy);
/* Moves rect by (dx, dy) but keeps it wholly inside the image. */
KpRect   kp_rect_translate_clamped (KpRect       rect,
                                   double        dx,
                                   double        dy,
                                   double        image_width,
                                   double        image_height);
double   kp_rect_iou              (const KpRect *a,
                                   const KpRect *b);
/* Which handle of rect is at (x, y), within tolerance (image pixels).
 * Corners win over edges, edges over INSIDE. */
KpHandle kp_rect_hit_handle       (const KpRect *rect,
                                   double        x,
                                   double        y,
                                   double        tolerance);
/* The rectangle after dragging handle by (dx, dy) from start; normalized, so
 * dragging a corner past the opposite one flips it. INSIDE moves. */
KpRect   kp_rect_drag_handle      (KpRect        start,
                                   KpHandle      handle,
                                   double        dx,
                                   double        dy);
const char *kp_handle_cursor_name (KpHandle      handle);

void     kp_view_image_to_widget  (const KpView *view,
                                   double        ix,
                                   double        iy,
                                   double       *wx,
                                   double       *wy);
void     kp_view_widget_to_image  (const KpView *view,
                                   double        wx,
                                   double        wy,
                                   double       *ix,
                                   double       *iy);
KpRect   kp_view_rect_to_widget   (const KpView *view,
                                   const KpRect *image_rect);
/* The part of the image visible in a widget of the given size. */
KpRect   kp_view_visible_rect     (const KpView *view,
                                   double        widget_width,
                                   double        widget_height);
/* Best fit: the whole image visible and centred. Never above max_scale. */
KpView   kp_view_fit              (double        image_width,
                                   double        image_height,
                                   double        widget_width,
                                   double        widget_height,
                                   double        max_scale);
/* New scale (clamped to KP_ZOOM_MIN..KP_ZOOM_MAX) keeping the image point
 * under the widget point (anchor_x, anchor_y) fixed. */
KpView   kp_view_zoom_at          (KpView        view,
                                   double        new_scale,
                                   double        anchor_x,
                                   double        anchor_y);
/* Next zoom step up / down along 1/64 … 1/2, 1, 2, … 64 with intermediate
 * steps (e.g. ×1.25), strictly greater / smaller than scale. */
double   kp_zoom_step_in          (double        scale);
double   kp_zoom_step_out         (double        scale);
/* Keeps at least part of the image in view: when the image is smaller than
 * the widget it is centred on that axis, otherwise no empty margin beyond
 * the image edges. */
KpView   kp_view_clamp_pan        (KpView        view,
                                   double        image_width,
                                   double        image_height,
                                   double        widget_width,
                                   double        widget_height);

/* A uniform-grid spatial index of rectangles keyed by a 64-bit id, for
 * culling and hit tests that cost what is near, not what exists. */
typedef struct _KpSpatialIndex KpSpatialIndex;

KpSpatialIndex *kp_spatial_index_new    (double          cell_size);
void            kp_spatial_index_free   (KpSpatialIndex *index);
void            kp_spatial_index_clear  (KpSpatialIndex *index);
void            kp_spatial_index_insert (KpSpatialIndex *index,
                                         gint64          id,
                                         const KpRect   *rect);
void            kp_spatial_index_remove (KpSpatialIndex *index,
                                         gint64          id);
/* Ids whose rectangles intersect area, each once, in no particular order.
 * Returns a new GArray of gint64. */
GArray         *kp_spatial_index_query  (KpSpatialIndex *index,
                                         const KpRect   *area) G_GNUC_WARN_UNUSED_RESULT;
guint           kp_spatial_index_get_size (KpSpatialIndex *index);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpSpatialIndex, kp_spatial_index_free)

/* Shapes other than boxes (since schema 2). Angles are in radians,
 * clockwise on screen (image y grows downwards), about the centre. */
typedef struct
{
  double x;
  double y;
} KpPoint;

typedef struct
{
  double cx;
  double cy;
  double width;
  double height;
  double angle;
} KpRotatedBox;

/* Corners in order top-left, top-right, bottom-right, bottom-left of the
 * unrotated box, each rotated about the centre. */
void     kp_rotated_box_corners   (const KpRotatedBox *box,
                                   KpPoint             corners[4]);
KpRect   kp_rotated_box_bounds    (const KpRotatedBox *box);
gboolean kp_rotated_box_contains  (const KpRotatedBox *box,
                                   double              x,
                                   double              y);
/* The angle brought into [-pi, pi). */
double   kp_angle_normalize       (double              angle);

/* Axis-aligned bounds of n points (an empty rect at 0,0 for none). */
KpRect   kp_points_bounds         (const KpPoint      *points,
                                   guint               n_points);
void     kp_points_translate      (KpPoint            *points,
                                   guint               n_points,
                                   double              dx,
                                   double              dy);
/* Even-odd rule; points on the boundary may go either way. */
gboolean kp_polygon_contains      (const KpPoint      *points,
                                   guint               n_points,
                                   double              x,
                                   double              y);
/* Signed area (positive when the vertices turn clockwise on screen). */
double   kp_polygon_area          (const KpPoint      *points,
                                   guint               n_points);
double   kp_segment_distance      (const KpPoint      *a,
                                   const KpPoint      *b,
                                   double              x,
                                   double              y);
/* Distance from (x, y) to the nearest edge of the polyline (closed: also
 * the edge from the last vertex back to the first); G_MAXDOUBLE for none. */
double   kp_polyline_distance     (const KpPoint      *points,
                                   guint               n_points,
                                   gboolean            closed,
                                   double              x,
                                   double              y,
                                   guint              *nearest_edge);
/* The vertex within tolerance of (x, y) nearest to it, or -1. */
int      kp_points_hit_vertex     (const KpPoint      *points,
                                   guint               n_points,
                                   double              x,
                                   double              y,
                                   double              tolerance);
/* Returns a new array of n + 1 points with point inserted before index
 * (index == n appends). */
KpPoint *kp_points_insert         (const KpPoint      *points,
                                   guint               n_points,
                                   guint               index,
                                   const KpPoint      *point) G_GNUC_WARN_UNUSED_RESULT;
/* Returns a new array of n - 1 points without the one at index. */
KpPoint *kp_points_remove         (const KpPoint      *points,
                                   guint               n_points,
                                   guint               index) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
