/* kp-mask.h: per-object raster masks, run-length encoded
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#if !defined(KP_CORE_INSIDE) && !defined(KP_CORE_COMPILATION)
# error "Only <kp-core.h> can be included directly."
#endif

#include <glib.h>

#include "kp-geometry.h"

G_BEGIN_DECLS

/* A binary mask over the integer image-pixel rectangle x, y, width, height.
 * counts are run lengths in row-major order inside that rectangle,
 * alternating unset and set pixels and starting with unset (so counts[0]
 * may be 0); they sum to width * height. A mask is immutable once made:
 * the edit functions return a new one, cropped to the pixels that are set
 * (an empty mask has width and height 0). */
typedef struct
{
  int      x;
  int      y;
  int      width;
  int      height;
  guint    n_counts;
  guint32 *counts;
} KpMask;

KpMask  *kp_mask_new_empty        (void) G_GNUC_WARN_UNUSED_RESULT;
/* bits: width * height bytes, row-major; non-zero is set. Cropped. */
KpMask  *kp_mask_new_from_bitmap  (int             x,
                                   int             y,
                                   int             width,
                                   int             height,
                                   const guint8   *bits) G_GNUC_WARN_UNUSED_RESULT;
/* Validates counts (they must sum to width * height); NULL when they do not. */
KpMask  *kp_mask_new_from_counts  (int             x,
                                   int             y,
                                   int             width,
                                   int             height,
                                   const guint32  *counts,
                                   guint           n_counts) G_GNUC_WARN_UNUSED_RESULT;
KpMask  *kp_mask_copy             (const KpMask   *mask) G_GNUC_WARN_UNUSED_RESULT;
void     kp_mask_free             (KpMask         *mask);
gboolean kp_mask_equal            (const KpMask   *a,
                                   const KpMask   *b);
/* width * height bytes, 1 for set pixels. */
guint8  *kp_mask_to_bitmap        (const KpMask   *mask) G_GNUC_WARN_UNUSED_RESULT;
gboolean kp_mask_get              (const KpMask   *mask,
                                   int             image_x,
                                   int             image_y);
guint64  kp_mask_get_area         (const KpMask   *mask);
KpRect   kp_mask_get_bounds       (const KpMask   *mask);
gboolean kp_mask_is_empty         (const KpMask   *mask);
KpMask  *kp_mask_translate        (const KpMask   *mask,
                                   int             dx,
                                   int             dy) G_GNUC_WARN_UNUSED_RESULT;

/* Brush (value TRUE) and eraser (FALSE): the pixels whose centres lie within
 * radius of (cx, cy). mask may be NULL for an empty one. */
KpMask  *kp_mask_paint_circle     (const KpMask   *mask,
                                   double          cx,
                                   double          cy,
                                   double          radius,
                                   gboolean        value) G_GNUC_WARN_UNUSED_RESULT;
/* Polygon to mask: the pixels whose centres lie inside the polygon
 * (even-odd), set to value. mask may be NULL. */
KpMask  *kp_mask_paint_polygon    (const KpMask   *mask,
                                   const KpPoint  *points,
                                   guint           n_points,
                                   gboolean        value) G_GNUC_WARN_UNUSED_RESULT;
/* Keeps only the pixels inside 0..width, 0..height. */
KpMask  *kp_mask_clip             (const KpMask   *mask,
                                   int             image_width,
                                   int             image_height) G_GNUC_WARN_UNUSED_RESULT;

/* Compact storage: little-endian base-128 varints of x, y (zigzag),
 * width, height, n_counts and the counts. */
GBytes  *kp_mask_serialize        (const KpMask   *mask) G_GNUC_WARN_UNUSED_RESULT;
KpMask  *kp_mask_deserialize      (const guint8   *data,
                                   gsize           len) G_GNUC_WARN_UNUSED_RESULT;

/* COCO RLE: column-major run lengths over the whole image. */
GArray  *kp_mask_to_coco_counts   (const KpMask   *mask,
                                   int             image_width,
                                   int             image_height) G_GNUC_WARN_UNUSED_RESULT;
KpMask  *kp_mask_from_coco_counts (const guint32  *counts,
                                   guint           n_counts,
                                   int             image_width,
                                   int             image_height) G_GNUC_WARN_UNUSED_RESULT;
/* COCO's compressed counts string (pycocotools' rleToString). */
char    *kp_coco_rle_encode       (const guint32  *counts,
                                   guint           n_counts) G_GNUC_WARN_UNUSED_RESULT;
/* NULL for a malformed string. Returns a GArray of guint32. */
GArray  *kp_coco_rle_decode       (const char     *string) G_GNUC_WARN_UNUSED_RESULT;

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpMask, kp_mask_free)

G_END_DECLS
