/* kp-consolidate-private.h: shapes shared by the two consolidation files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * kp-consolidate-shapes.c parses, compares, clusters and merges the
 * objects of the image, audio and video elements; kp-consolidate-answers.c
 * drives it per item and element.
 */

#pragma once

#include "kp-consolidate.h"
#include "kp-geometry.h"

G_BEGIN_DECLS

typedef enum
{
  KP_CONS_SHAPE_BOX,
  KP_CONS_SHAPE_POLYGON,
  KP_CONS_SHAPE_KEYPOINT,
  KP_CONS_SHAPE_LINE,
  KP_CONS_SHAPE_POLYLINE,
  KP_CONS_SHAPE_SEGMENT,
  KP_CONS_SHAPE_TRACK,
  KP_N_CONS_SHAPE_KINDS,
} KpConsShapeKind;

/* One object of a worker's answer. */
typedef struct
{
  KpConsShapeKind kind;
  char       *label;
  double      v[4];        /* box: left top width height; keypoint: x y; segment: start end */
  guint       n_points;    /* polygon, line, polyline */
  KpPoint    *points;
  guint       n_frames;    /* track: frames sorted by number, each 5 doubles */
  double     *frames;      /* frame left top width height */
  gint64      track_id;
} KpConsShape;

typedef struct
{
  KpConsShape *shape;          /* the consolidated object */
  GArray  *members;        /* of guint32 pairs (worker, index) */
  guint    support;        /* workers in the cluster */
  double   agreement;      /* mean pairwise similarity of the members */
  double   confidence;     /* support / n_workers × mean similarity to shape */
  gboolean kept;           /* support ≥ quorum */
} KpConsShapeCluster;

/* The member of an element's answer holding the array ("boundingBoxes",
 * "polygons", …). */
const char         *_kp_shape_kind_member  (KpConsShapeKind             kind);
/* The element type reported ("boxes", "polygons", …). */
const char         *_kp_shape_kind_type    (KpConsShapeKind             kind);

KpConsShape        *_kp_shape_new          (KpConsShapeKind             kind,
                                            const char                 *label);
void                _kp_shape_free         (KpConsShape                *shape);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpConsShape, _kp_shape_free)

/* The array's objects as a GPtrArray of KpConsShape, or NULL with an error
 * when one is not a valid object of kind. */
GPtrArray          *_kp_shapes_parse       (KpConsShapeKind             kind,
                                            JsonArray                  *array,
                                            GError                    **error);
/* Writes shape as the crowd element writes it (an object). */
void                _kp_shape_build        (JsonBuilder                *builder,
                                            const KpConsShape          *shape);
/* The same members, into an object the caller has begun. */
void                _kp_shape_build_members (JsonBuilder               *builder,
                                             const KpConsShape         *shape);

/* 0..1; IoU for boxes, polygons, segments and tracks, a distance-based
 * similarity for keypoints and lines. */
double              _kp_shape_similarity   (const KpConsShape          *a,
                                            const KpConsShape          *b,
                                            const KpConsolidateOptions *options);
/* The similarity two objects need to match. */
double              _kp_shape_threshold    (KpConsShapeKind             kind,
                                            const KpConsolidateOptions *options);

void                _kp_shape_cluster_free (KpConsShapeCluster         *cluster);
/* workers: n_workers GPtrArrays of KpConsShape (NULL: no answer). Returns
 * every cluster (kept or not, see ->kept) sorted by label then position. */
GPtrArray          *_kp_shapes_consolidate (GPtrArray * const          *workers,
                                            guint                       n_workers,
                                            KpConsShapeKind             kind,
                                            const KpConsolidateOptions *options,
                                            guint                       quorum);
/* F1 of the best matching of a against b at the kind's threshold, per
 * label; 1 when both are empty. */
double              _kp_shapes_f1          (GPtrArray                  *a,
                                            GPtrArray                  *b,
                                            KpConsShapeKind             kind,
                                            const KpConsolidateOptions *options);

/* The optimal assignment of a rows × cols weight matrix (row-major),
 * maximising the total weight: row_to_col[r] is the column of row r or
 * -1. Kuhn–Munkres with potentials, O(n³). */
void                _kp_hungarian          (const double               *weights,
                                            guint                       rows,
                                            guint                       cols,
                                            int                        *row_to_col);

G_END_DECLS
