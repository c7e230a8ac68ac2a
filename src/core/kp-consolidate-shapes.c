/* kp-consolidate-shapes.c: consolidating boxes, polygons, points, lines,
 * audio segments and video tracks
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every kind of object follows one rule. The objects of one label are
 * clustered across workers: the workers are taken in order, and each
 * worker's objects are matched to the clusters made so far (greedily by
 * descending similarity, or by the optimal assignment of Kuhn–Munkres),
 * the similarity of an object to a cluster being its mean similarity to
 * the cluster's members; an object matched to no cluster, or to one below
 * the threshold, starts a cluster of its own. A cluster is kept when
 * enough distinct workers support it (the quorum), and its members are
 * merged into one object. The optimal assignment runs separately on each
 * connected group of the graph of pairs above the threshold, so its
 * O(n³) applies to objects that overlap, not to every object of a label.
 *
 * An object is invalid (and with it the answer it is part of) when a
 * member is missing or not a finite number of at most 10⁹ in magnitude,
 * a box or track frame has no area, a segment ends before it starts, a
 * polygon has fewer than 3 vertices, a line not exactly 2 or a polyline
 * fewer than 2, a track no frame, or a label is not a string (a missing
 * label is "").
 *
 * Similarities, all 0..1:
 *
 *   boxes      intersection over union.
 *   polygons   intersection over union of the two simple polygons (even-odd
 *              filling), integrated exactly along 256 horizontal scanlines
 *              spread over the pair's bounds: the error is that of the
 *              midpoint rule in y, well under 1 % of the union for shapes
 *              a few pixels tall and more.
 *   keypoints  1 − distance / keypoint_distance (0 beyond): points match
 *              when closer than keypoint_distance.
 *   lines, polylines
 *              both resampled to 16 points evenly spaced by arc length; d
 *              is the mean distance between corresponding points, in the
 *              direction that makes it smaller; similarity 1 / (1 + d /
 *              keypoint_distance), so that at the default IoU threshold
 *              of 0.5 lines match when d ≤ keypoint_distance.
 *   segments   temporal intersection over union.
 *   tracks     the mean per-frame box IoU over the frames both tracks hold
 *              (between their first and last frames, boxes interpolated
 *              linearly between the frames the answer lists, as
 *              kp-tracks.h interpolates keyframes); 0 when they share no
 *              frame.
 *
 * Merging: boxes, keypoints and segments average their coordinates;
 * lines average their end points (each member taken in the direction
 * closer to the first member's); polygons and polylines, whose vertex
 * counts differ between workers, keep the medoid (the member with the
 * highest total similarity to the others, the earliest on a tie); tracks
 * average the boxes at every frame any member lists that at least half
 * of the members hold.
 */

#include "config.h"

#include "kp-consolidate-private.h"
#include "kp-json-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#define POLYGON_SCANLINES 256
#define LINE_SAMPLES 16
#define TRACK_MAX_FRAMES 2048
#define MAX_COORDINATE 1e9

static const char * const kind_members[] = {
  "boundingBoxes", "polygons", "keypoints", "lines", "polylines", "segments", "tracks",
};

static const char * const kind_types[] = {
  "boxes", "polygons", "keypoints", "lines", "polylines", "segments", "tracks",
};

G_STATIC_ASSERT (G_N_ELEMENTS (kind_members) == KP_N_CONS_SHAPE_KINDS);
G_STATIC_ASSERT (G_N_ELEMENTS (kind_types) == KP_N_CONS_SHAPE_KINDS);

const char *
_kp_shape_kind_member (KpConsShapeKind kind)
{
  g_return_val_if_fail (kind < KP_N_CONS_SHAPE_KINDS, NULL);

  return kind_members[kind];
}

const char *
_kp_shape_kind_type (KpConsShapeKind kind)
{
  g_return_val_if_fail (kind < KP_N_CONS_SHAPE_KINDS, NULL);

  return kind_types[kind];
}

/* Shapes */

KpConsShape *
_kp_shape_new (KpConsShapeKind kind,
               const char     *label)
{
  KpConsShape *shape = g_new0 (KpConsShape, 1);

  shape->kind = kind;
  shape->label = g_strdup (label != NULL ? label : "");

  return shape;
}

void
_kp_shape_free (KpConsShape *shape)
{
  if (shape == NULL)
    return;

  g_free (shape->label);
  g_free (shape->points);
  g_free (shape->frames);
  g_free (shape);
}

static gboolean
member_number (JsonObject *object,
               const char *member,
               double     *out)
{
  /* Beyond a billion pixels (or seconds, or frames) a coordinate is
   * garbage, and sums of such would overflow. */
  return _kp_json_node_get_number (json_object_get_member (object, member), out) &&
         fabs (*out) <= MAX_COORDINATE;
}

static gboolean
parse_points (KpConsShape *shape,
              JsonObject  *object,
              guint        min,
              guint        max)
{
  JsonNode *node = json_object_get_member (object, "vertices");
  JsonArray *array;
  guint n;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return FALSE;

  array = json_node_get_array (node);
  n = json_array_get_length (array);
  if (n < min || (max > 0 && n > max))
    return FALSE;

  shape->n_points = n;
  shape->points = g_new0 (KpPoint, n);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *v = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_OBJECT (v) ||
          !member_number (json_node_get_object (v), "x", &shape->points[i].x) ||
          !member_number (json_node_get_object (v), "y", &shape->points[i].y))
        return FALSE;
    }

  return TRUE;
}

static int
compare_frames (gconstpointer a,
                gconstpointer b)
{
  double fa = *(const double *)a, fb = *(const double *)b;

  return (fa > fb) - (fa < fb);
}

static gboolean
parse_frames (KpConsShape *shape,
              JsonObject  *object)
{
  JsonNode *node = json_object_get_member (object, "frames");
  JsonArray *array;
  guint n, out = 0;
  double id;

  if (member_number (object, "id", &id))
    shape->track_id = (gint64)id;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return FALSE;

  array = json_node_get_array (node);
  n = json_array_get_length (array);
  if (n == 0)
    return FALSE;

  shape->frames = g_new0 (double, 5 * n);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *f = json_array_get_element (array, i);
      JsonObject *fo;
      double *d = &shape->frames[5 * i];

      if (!JSON_NODE_HOLDS_OBJECT (f))
        return FALSE;
      fo = json_node_get_object (f);
      if (!member_number (fo, "frame", &d[0]) || !member_number (fo, "left", &d[1]) ||
          !member_number (fo, "top", &d[2]) || !member_number (fo, "width", &d[3]) ||
          !member_number (fo, "height", &d[4]) || d[3] <= 0 || d[4] <= 0 || d[0] < 0)
        return FALSE;
      d[0] = floor (d[0]);
    }

  qsort (shape->frames, n, 5 * sizeof (double), compare_frames);

  /* A frame listed twice keeps its first box. */
  for (guint i = 0; i < n; i++)
    if (out == 0 || shape->frames[5 * i] != shape->frames[5 * (out - 1)])
      {
        memmove (&shape->frames[5 * out], &shape->frames[5 * i], 5 * sizeof (double));
        out++;
      }
  shape->n_frames = out;

  return TRUE;
}

static KpConsShape *
parse_shape (KpConsShapeKind kind,
             JsonNode       *node)
{
  g_autoptr(KpConsShape) shape = NULL;
  JsonObject *object;
  JsonNode *label_node;
  const char *label = NULL;
  gboolean ok = FALSE;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  object = json_node_get_object (node);

  label_node = json_object_get_member (object, "label");
  if (label_node != NULL)
    {
      if (!JSON_NODE_HOLDS_VALUE (label_node) ||
          json_node_get_value_type (label_node) != G_TYPE_STRING)
        return NULL;
      label = json_node_get_string (label_node);
    }

  shape = _kp_shape_new (kind, label);

  switch (kind)
    {
    case KP_CONS_SHAPE_BOX:
      ok = member_number (object, "left", &shape->v[0]) &&
           member_number (object, "top", &shape->v[1]) &&
           member_number (object, "width", &shape->v[2]) &&
           member_number (object, "height", &shape->v[3]) &&
           shape->v[2] > 0 && shape->v[3] > 0;
      break;

    case KP_CONS_SHAPE_KEYPOINT:
      ok = member_number (object, "x", &shape->v[0]) && member_number (object, "y", &shape->v[1]);
      break;

    case KP_CONS_SHAPE_POLYGON:
      ok = parse_points (shape, object, 3, 0);
      break;

    case KP_CONS_SHAPE_LINE:
      ok = parse_points (shape, object, 2, 2);
      break;

    case KP_CONS_SHAPE_POLYLINE:
      ok = parse_points (shape, object, 2, 0);
      break;

    case KP_CONS_SHAPE_SEGMENT:
      ok = member_number (object, "startTime", &shape->v[0]) &&
           member_number (object, "endTime", &shape->v[1]) &&
           shape->v[1] > shape->v[0];
      break;

    case KP_CONS_SHAPE_TRACK:
      ok = parse_frames (shape, object);
      break;

    case KP_N_CONS_SHAPE_KINDS:
    default:
      g_assert_not_reached ();
    }

  return ok ? g_steal_pointer (&shape) : NULL;
}

GPtrArray *
_kp_shapes_parse (KpConsShapeKind kind,
                  JsonArray      *array,
                  GError        **error)
{
  g_autoptr(GPtrArray) shapes = g_ptr_array_new_with_free_func ((GDestroyNotify)_kp_shape_free);

  g_return_val_if_fail (kind < KP_N_CONS_SHAPE_KINDS, NULL);
  g_return_val_if_fail (array != NULL, NULL);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      KpConsShape *shape = parse_shape (kind, json_array_get_element (array, i));

      if (shape == NULL)
        {
          g_set_error (error, KP_CONSOLIDATE_ERROR, KP_CONSOLIDATE_ERROR_INVALID,
                       _("Object %u of the %s is not valid"), i + 1, kind_types[kind]);
          return NULL;
        }
      g_ptr_array_add (shapes, shape);
    }

  return g_steal_pointer (&shapes);
}

static void
build_int (JsonBuilder *builder,
           const char  *member,
           double       value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_int_value (builder, (gint64)lround (value));
}

static void
build_label (JsonBuilder       *builder,
             const KpConsShape *shape)
{
  json_builder_set_member_name (builder, "label");
  json_builder_add_string_value (builder, shape->label);
}

/* Members in alphabetical order and whole pixels, as kp-layout-answer.c
 * writes them. */
void
_kp_shape_build (JsonBuilder       *builder,
                 const KpConsShape *shape)
{
  g_return_if_fail (builder != NULL);
  g_return_if_fail (shape != NULL);

  json_builder_begin_object (builder);
  _kp_shape_build_members (builder, shape);
  json_builder_end_object (builder);
}

void
_kp_shape_build_members (JsonBuilder       *builder,
                         const KpConsShape *shape)
{
  g_return_if_fail (builder != NULL);
  g_return_if_fail (shape != NULL);

  switch (shape->kind)
    {
    case KP_CONS_SHAPE_BOX:
      build_int (builder, "height", shape->v[3]);
      build_label (builder, shape);
      build_int (builder, "left", shape->v[0]);
      build_int (builder, "top", shape->v[1]);
      build_int (builder, "width", shape->v[2]);
      break;

    case KP_CONS_SHAPE_KEYPOINT:
      build_label (builder, shape);
      build_int (builder, "x", shape->v[0]);
      build_int (builder, "y", shape->v[1]);
      break;

    case KP_CONS_SHAPE_POLYGON:
    case KP_CONS_SHAPE_LINE:
    case KP_CONS_SHAPE_POLYLINE:
      build_label (builder, shape);
      json_builder_set_member_name (builder, "vertices");
      json_builder_begin_array (builder);
      for (guint i = 0; i < shape->n_points; i++)
        {
          json_builder_begin_object (builder);
          build_int (builder, "x", shape->points[i].x);
          build_int (builder, "y", shape->points[i].y);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      break;

    case KP_CONS_SHAPE_SEGMENT:
      json_builder_set_member_name (builder, "endTime");
      json_builder_add_double_value (builder, shape->v[1]);
      build_label (builder, shape);
      json_builder_set_member_name (builder, "startTime");
      json_builder_add_double_value (builder, shape->v[0]);
      break;

    case KP_CONS_SHAPE_TRACK:
      json_builder_set_member_name (builder, "frames");
      json_builder_begin_array (builder);
      for (guint i = 0; i < shape->n_frames; i++)
        {
          const double *d = &shape->frames[5 * i];

          json_builder_begin_object (builder);
          build_int (builder, "frame", d[0]);
          build_int (builder, "height", d[4]);
          build_int (builder, "left", d[1]);
          build_int (builder, "top", d[2]);
          build_int (builder, "width", d[3]);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_int_value (builder, shape->track_id);
      build_label (builder, shape);
      break;

    case KP_N_CONS_SHAPE_KINDS:
    default:
      g_assert_not_reached ();
    }
}

/* Similarities */

/* a and b: left, top, width, height. */
static double
rect_iou (const double *a,
          const double *b)
{
  double ix, iy, inter, uni;

  if (!(a[2] > 0 && a[3] > 0 && b[2] > 0 && b[3] > 0))
    return 0;

  ix = MIN (a[0] + a[2], b[0] + b[2]) - MAX (a[0], b[0]);
  iy = MIN (a[1] + a[3], b[1] + b[3]) - MAX (a[1], b[1]);
  if (ix <= 0 || iy <= 0)
    return 0;

  inter = ix * iy;
  uni = a[2] * a[3] + b[2] * b[3] - inter;

  return uni > 0 ? CLAMP (inter / uni, 0, 1) : 0;
}

double
kp_box_iou (const KpConsolidateBox *a,
            const KpConsolidateBox *b)
{
  double ra[4], rb[4];

  g_return_val_if_fail (a != NULL, 0);
  g_return_val_if_fail (b != NULL, 0);

  if (!isfinite (a->left + a->top + a->width + a->height) ||
      !isfinite (b->left + b->top + b->width + b->height))
    return 0;

  ra[0] = a->left;
  ra[1] = a->top;
  ra[2] = a->width;
  ra[3] = a->height;
  rb[0] = b->left;
  rb[1] = b->top;
  rb[2] = b->width;
  rb[3] = b->height;

  return rect_iou (ra, rb);
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double da = *(const double *)a, db = *(const double *)b;

  return (da > db) - (da < db);
}

/* The x where the scanline y crosses the polygon's edges, sorted; pairs
 * of them bound the inside (even-odd). Returns how many. */
static guint
scanline_crossings (const KpConsShape *shape,
                    double             y,
                    double            *xs)
{
  guint n = 0;

  for (guint i = 0; i < shape->n_points; i++)
    {
      const KpPoint *p = &shape->points[i];
      const KpPoint *q = &shape->points[(i + 1) % shape->n_points];

      if ((p->y <= y && y < q->y) || (q->y <= y && y < p->y))
        xs[n++] = p->x + (y - p->y) * (q->x - p->x) / (q->y - p->y);
    }

  qsort (xs, n, sizeof (double), compare_doubles);

  return n & ~1u;
}

static double
intervals_length (const double *xs,
                  guint         n)
{
  double len = 0;

  for (guint i = 0; i + 1 < n; i += 2)
    len += xs[i + 1] - xs[i];

  return len;
}

static double
intervals_intersection (const double *a,
                        guint         na,
                        const double *b,
                        guint         nb)
{
  guint i = 0, j = 0;
  double len = 0;

  while (i + 1 < na && j + 1 < nb)
    {
      double lo = MAX (a[i], b[j]);
      double hi = MIN (a[i + 1], b[j + 1]);

      if (hi > lo)
        len += hi - lo;
      if (a[i + 1] < b[j + 1])
        i += 2;
      else
        j += 2;
    }

  return len;
}

static void
points_bounds (const KpConsShape *shape,
               double            *x0,
               double            *y0,
               double            *x1,
               double            *y1)
{
  *x0 = *y0 = G_MAXDOUBLE;
  *x1 = *y1 = -G_MAXDOUBLE;
  for (guint i = 0; i < shape->n_points; i++)
    {
      *x0 = MIN (*x0, shape->points[i].x);
      *y0 = MIN (*y0, shape->points[i].y);
      *x1 = MAX (*x1, shape->points[i].x);
      *y1 = MAX (*y1, shape->points[i].y);
    }
}

static double
polygon_iou (const KpConsShape *a,
             const KpConsShape *b)
{
  g_autofree double *xa = g_new (double, a->n_points + 1);
  g_autofree double *xb = g_new (double, b->n_points + 1);
  double ax0, ay0, ax1, ay1, bx0, by0, bx1, by1;
  double y0, y1, step, inter = 0, uni = 0;

  points_bounds (a, &ax0, &ay0, &ax1, &ay1);
  points_bounds (b, &bx0, &by0, &bx1, &by1);
  if (ax1 <= bx0 || bx1 <= ax0 || ay1 <= by0 || by1 <= ay0)
    return 0;

  y0 = MIN (ay0, by0);
  y1 = MAX (ay1, by1);
  step = (y1 - y0) / POLYGON_SCANLINES;

  for (guint r = 0; r < POLYGON_SCANLINES; r++)
    {
      double y = y0 + (r + 0.5) * step;
      guint na = scanline_crossings (a, y, xa);
      guint nb = scanline_crossings (b, y, xb);
      double i = intervals_intersection (xa, na, xb, nb);

      inter += i;
      uni += intervals_length (xa, na) + intervals_length (xb, nb) - i;
    }

  return uni > 0 ? CLAMP (inter / uni, 0, 1) : 0;
}

/* LINE_SAMPLES points evenly spaced along the polyline by arc length. */
static void
resample_polyline (const KpConsShape *shape,
                   KpPoint           *out)
{
  double total = 0, walked = 0;
  guint seg = 0;

  for (guint i = 0; i + 1 < shape->n_points; i++)
    total += hypot (shape->points[i + 1].x - shape->points[i].x,
                    shape->points[i + 1].y - shape->points[i].y);

  for (guint k = 0; k < LINE_SAMPLES; k++)
    {
      double target = total * k / (LINE_SAMPLES - 1);

      for (;;)
        {
          const KpPoint *p = &shape->points[seg];
          const KpPoint *q = &shape->points[MIN (seg + 1, shape->n_points - 1)];
          double len = hypot (q->x - p->x, q->y - p->y);

          if (seg + 2 >= shape->n_points || walked + len >= target)
            {
              double t = len > 0 ? CLAMP ((target - walked) / len, 0, 1) : 0;

              out[k].x = p->x + t * (q->x - p->x);
              out[k].y = p->y + t * (q->y - p->y);
              break;
            }
          walked += len;
          seg++;
        }
    }
}

static double
line_distance (const KpConsShape *a,
               const KpConsShape *b,
               gboolean          *reversed)
{
  KpPoint pa[LINE_SAMPLES], pb[LINE_SAMPLES];
  double forward = 0, backward = 0;

  resample_polyline (a, pa);
  resample_polyline (b, pb);
  for (guint k = 0; k < LINE_SAMPLES; k++)
    {
      forward += hypot (pa[k].x - pb[k].x, pa[k].y - pb[k].y);
      backward += hypot (pa[k].x - pb[LINE_SAMPLES - 1 - k].x,
                         pa[k].y - pb[LINE_SAMPLES - 1 - k].y);
    }

  if (reversed != NULL)
    *reversed = backward < forward;

  return MIN (forward, backward) / LINE_SAMPLES;
}

/* The box of a track at frame, interpolated between listed frames;
 * FALSE outside its first and last frames. */
static gboolean
track_box_at (const KpConsShape *track,
              double             frame,
              double            *box)
{
  guint lo = 0, hi = track->n_frames - 1;

  if (frame < track->frames[0] || frame > track->frames[5 * hi])
    return FALSE;

  /* The last listed frame ≤ frame. */
  while (lo < hi)
    {
      guint mid = (lo + hi + 1) / 2;

      if (track->frames[5 * mid] <= frame)
        lo = mid;
      else
        hi = mid - 1;
    }

  if (track->frames[5 * lo] == frame || lo + 1 >= track->n_frames)
    memcpy (box, &track->frames[5 * lo + 1], 4 * sizeof (double));
  else
    {
      const double *p = &track->frames[5 * lo];
      const double *q = &track->frames[5 * (lo + 1)];
      double t = (frame - p[0]) / (q[0] - p[0]);

      for (guint i = 0; i < 4; i++)
        box[i] = p[1 + i] + t * (q[1 + i] - p[1 + i]);
    }

  return TRUE;
}

static double
track_iou (const KpConsShape *a,
           const KpConsShape *b)
{
  double first = MAX (a->frames[0], b->frames[0]);
  double last = MIN (a->frames[5 * (a->n_frames - 1)], b->frames[5 * (b->n_frames - 1)]);
  double step, sum = 0;
  guint n = 0;

  if (last < first)
    return 0;

  /* Long overlaps are sampled at most TRACK_MAX_FRAMES times. */
  step = MAX (1.0, ceil ((last - first + 1) / TRACK_MAX_FRAMES));
  for (double f = first; f <= last; f += step)
    {
      double ba[4], bb[4];

      if (track_box_at (a, f, ba) && track_box_at (b, f, bb))
        {
          sum += rect_iou (ba, bb);
          n++;
        }
    }

  return n > 0 ? sum / n : 0;
}

static double
shape_similarity (const KpConsShape          *a,
                  const KpConsShape          *b,
                  const KpConsolidateOptions *options);

double
_kp_shape_similarity (const KpConsShape          *a,
                      const KpConsShape          *b,
                      const KpConsolidateOptions *options)
{
  double s = shape_similarity (a, b, options);

  return isfinite (s) ? CLAMP (s, 0, 1) : 0;
}

static double
shape_similarity (const KpConsShape          *a,
                  const KpConsShape          *b,
                  const KpConsolidateOptions *options)
{
  g_assert (a->kind == b->kind);

  switch (a->kind)
    {
    case KP_CONS_SHAPE_BOX:
      return rect_iou (a->v, b->v);

    case KP_CONS_SHAPE_KEYPOINT:
      {
        double d = hypot (a->v[0] - b->v[0], a->v[1] - b->v[1]);
        double limit = options->keypoint_distance > 0 ? options->keypoint_distance : 10;

        return MAX (0, 1 - d / limit);
      }

    case KP_CONS_SHAPE_POLYGON:
      return polygon_iou (a, b);

    case KP_CONS_SHAPE_LINE:
    case KP_CONS_SHAPE_POLYLINE:
      {
        double limit = options->keypoint_distance > 0 ? options->keypoint_distance : 10;

        return 1 / (1 + line_distance (a, b, NULL) / limit);
      }

    case KP_CONS_SHAPE_SEGMENT:
      {
        double inter = MIN (a->v[1], b->v[1]) - MAX (a->v[0], b->v[0]);
        double uni = MAX (a->v[1], b->v[1]) - MIN (a->v[0], b->v[0]);

        return inter > 0 && uni > 0 ? CLAMP (inter / uni, 0, 1) : 0;
      }

    case KP_CONS_SHAPE_TRACK:
      return track_iou (a, b);

    case KP_N_CONS_SHAPE_KINDS:
    default:
      g_assert_not_reached ();
    }

  return 0;
}

double
_kp_shape_threshold (KpConsShapeKind             kind,
                     const KpConsolidateOptions *options)
{
  /* Keypoints match when closer than keypoint_distance: any similarity
   * above 0. */
  if (kind == KP_CONS_SHAPE_KEYPOINT)
    return 1e-9;

  if (!(options->iou_threshold > 0))
    return 1e-9;

  return MIN (options->iou_threshold, 1.0);
}

/* Kuhn–Munkres */

void
_kp_hungarian (const double *weights,
               guint         rows,
               guint         cols,
               int          *row_to_col)
{
  guint n = MAX (rows, cols);
  g_autofree double *cost = NULL;
  g_autofree double *u = NULL;
  g_autofree double *v = NULL;
  g_autofree double *minv = NULL;
  g_autofree guint *p = NULL;
  g_autofree guint *way = NULL;
  g_autofree gboolean *used = NULL;
  double max_weight = 0;

  for (guint r = 0; r < rows; r++)
    row_to_col[r] = -1;
  if (rows == 0 || cols == 0)
    return;

  /* A square cost matrix: padding cells cost as much as a weight of 0. */
  for (guint i = 0; i < rows * cols; i++)
    max_weight = MAX (max_weight, weights[i]);
  cost = g_new (double, (gsize)n * n);
  for (guint r = 0; r < n; r++)
    for (guint c = 0; c < n; c++)
      cost[r * n + c] = max_weight - (r < rows && c < cols ? weights[r * cols + c] : 0);

  /* Potentials u (rows) and v (columns), 1-based with column 0 the
   * virtual start; p[c] is the row assigned to column c. Each row is
   * added by growing a shortest augmenting path (Dijkstra on the reduced
   * costs), which keeps the whole O(n³). */
  u = g_new0 (double, n + 1);
  v = g_new0 (double, n + 1);
  minv = g_new (double, n + 1);
  p = g_new0 (guint, n + 1);
  way = g_new0 (guint, n + 1);
  used = g_new (gboolean, n + 1);

  for (guint i = 1; i <= n; i++)
    {
      guint j0 = 0;

      p[0] = i;
      for (guint j = 0; j <= n; j++)
        {
          minv[j] = G_MAXDOUBLE;
          used[j] = FALSE;
        }

      do
        {
          guint i0 = p[j0], j1 = 0;
          double delta = G_MAXDOUBLE;

          used[j0] = TRUE;
          for (guint j = 1; j <= n; j++)
            if (!used[j])
              {
                double cur = cost[(i0 - 1) * n + (j - 1)] - u[i0] - v[j];

                if (cur < minv[j])
                  {
                    minv[j] = cur;
                    way[j] = j0;
                  }
                if (minv[j] < delta)
                  {
                    delta = minv[j];
                    j1 = j;
                  }
              }

          for (guint j = 0; j <= n; j++)
            if (used[j])
              {
                u[p[j]] += delta;
                v[j] -= delta;
              }
            else
              minv[j] -= delta;

          j0 = j1;
        }
      while (p[j0] != 0);

      do
        {
          guint j1 = way[j0];

          p[j0] = p[j1];
          j0 = j1;
        }
      while (j0 != 0);
    }

  for (guint j = 1; j <= n; j++)
    if (p[j] != 0 && p[j] - 1 < rows && j - 1 < cols)
      row_to_col[p[j] - 1] = (int)(j - 1);
}

typedef struct
{
  double weight;
  guint  row;
  guint  col;
} Pair;

static int
compare_pairs (gconstpointer a,
               gconstpointer b)
{
  const Pair *pa = a, *pb = b;

  if (pa->weight != pb->weight)
    return pa->weight > pb->weight ? -1 : 1;
  if (pa->row != pb->row)
    return pa->row < pb->row ? -1 : 1;
  return (pa->col > pb->col) - (pa->col < pb->col);
}

/* Union–find over rows (0..rows-1) and columns (rows..). */
static guint
find_root (guint *parent,
           guint  i)
{
  while (parent[i] != i)
    {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }

  return i;
}

/* The optimal assignment, solved separately on each connected component
 * of the graph of positive weights: objects far apart never meet, so the
 * O(n³) step runs on a few objects at a time. */
static void
hungarian_by_components (const double *weights,
                         guint         rows,
                         guint         cols,
                         int          *row_to_col)
{
  g_autofree guint *parent = g_new (guint, rows + cols);
  g_autofree guint *sub_rows = g_new (guint, rows);
  g_autofree guint *sub_cols = g_new (guint, cols);
  g_autofree double *sub = NULL;
  g_autofree int *sub_assignment = NULL;
  g_autofree gboolean *done = g_new0 (gboolean, rows + cols);

  for (guint i = 0; i < rows + cols; i++)
    parent[i] = i;
  for (guint r = 0; r < rows; r++)
    {
      row_to_col[r] = -1;
      for (guint c = 0; c < cols; c++)
        if (weights[r * cols + c] > 0)
          parent[find_root (parent, r)] = find_root (parent, rows + c);
    }

  sub = g_new (double, (gsize)rows * cols);
  sub_assignment = g_new (int, rows);

  for (guint r0 = 0; r0 < rows; r0++)
    {
      guint root = find_root (parent, r0);
      guint n_rows = 0, n_cols = 0;

      /* A row that is its own root has no positive weight. */
      if (root == r0 || done[root])
        continue;
      done[root] = TRUE;

      for (guint r = 0; r < rows; r++)
        if (find_root (parent, r) == root)
          sub_rows[n_rows++] = r;
      for (guint c = 0; c < cols; c++)
        if (find_root (parent, rows + c) == root)
          sub_cols[n_cols++] = c;

      for (guint i = 0; i < n_rows; i++)
        for (guint j = 0; j < n_cols; j++)
          sub[i * n_cols + j] = weights[sub_rows[i] * cols + sub_cols[j]];

      _kp_hungarian (sub, n_rows, n_cols, sub_assignment);
      for (guint i = 0; i < n_rows; i++)
        if (sub_assignment[i] >= 0 && sub[i * n_cols + sub_assignment[i]] > 0)
          row_to_col[sub_rows[i]] = (int)sub_cols[sub_assignment[i]];
    }
}

/* Matches rows to columns; weights below threshold never pair. */
static void
match (double    *weights,
       guint      rows,
       guint      cols,
       double     threshold,
       KpMatching matching,
       int       *row_to_col)
{
  for (guint i = 0; i < rows * cols; i++)
    if (!(weights[i] >= threshold))
      weights[i] = 0;

  if (matching == KP_MATCHING_HUNGARIAN)
    hungarian_by_components (weights, rows, cols, row_to_col);
  else
    {
      g_autoptr(GArray) pairs = g_array_new (FALSE, FALSE, sizeof (Pair));
      g_autofree gboolean *col_used = g_new0 (gboolean, cols + 1);

      for (guint r = 0; r < rows; r++)
        {
          row_to_col[r] = -1;
          for (guint c = 0; c < cols; c++)
            if (weights[r * cols + c] > 0)
              {
                Pair pair = { weights[r * cols + c], r, c };

                g_array_append_val (pairs, pair);
              }
        }

      g_array_sort (pairs, compare_pairs);
      for (guint i = 0; i < pairs->len; i++)
        {
          const Pair *pair = &g_array_index (pairs, Pair, i);

          if (row_to_col[pair->row] < 0 && !col_used[pair->col])
            {
              row_to_col[pair->row] = (int)pair->col;
              col_used[pair->col] = TRUE;
            }
        }
    }
}

/* Clustering */

typedef struct
{
  guint32 worker;
  guint32 index;
} Member;

void
_kp_shape_cluster_free (KpConsShapeCluster *cluster)
{
  if (cluster == NULL)
    return;

  _kp_shape_free (cluster->shape);
  g_clear_pointer (&cluster->members, g_array_unref);
  g_free (cluster);
}

static const KpConsShape *
member_shape (GPtrArray * const *workers,
              const Member      *m)
{
  return g_ptr_array_index (workers[m->worker], m->index);
}

static KpConsShape *
merge_members (GPtrArray * const          *workers,
               GArray                     *members,
               KpConsShapeKind             kind,
               const KpConsolidateOptions *options)
{
  const KpConsShape *first = member_shape (workers, &g_array_index (members, Member, 0));
  KpConsShape *merged = _kp_shape_new (kind, first->label);
  guint n = members->len;

  switch (kind)
    {
    case KP_CONS_SHAPE_BOX:
    case KP_CONS_SHAPE_KEYPOINT:
    case KP_CONS_SHAPE_SEGMENT:
      for (guint i = 0; i < n; i++)
        for (guint k = 0; k < 4; k++)
          merged->v[k] += member_shape (workers, &g_array_index (members, Member, i))->v[k] / n;
      break;

    case KP_CONS_SHAPE_LINE:
      merged->n_points = 2;
      merged->points = g_new0 (KpPoint, 2);
      for (guint i = 0; i < n; i++)
        {
          const KpConsShape *s = member_shape (workers, &g_array_index (members, Member, i));
          gboolean reversed = FALSE;

          line_distance (first, s, &reversed);
          for (guint k = 0; k < 2; k++)
            {
              const KpPoint *pt = &s->points[reversed ? 1 - k : k];

              merged->points[k].x += pt->x / n;
              merged->points[k].y += pt->y / n;
            }
        }
      break;

    case KP_CONS_SHAPE_POLYGON:
    case KP_CONS_SHAPE_POLYLINE:
      {
        double best = -1;
        const KpConsShape *medoid = first;

        for (guint i = 0; i < n; i++)
          {
            const KpConsShape *s = member_shape (workers, &g_array_index (members, Member, i));
            double total = 0;

            for (guint j = 0; j < n; j++)
              if (j != i)
                total += _kp_shape_similarity (s, member_shape (workers,
                                                                &g_array_index (members, Member, j)),
                                               options);
            if (total > best)
              {
                best = total;
                medoid = s;
              }
          }
        merged->n_points = medoid->n_points;
        merged->points = g_memdup2 (medoid->points, medoid->n_points * sizeof (KpPoint));
      }
      break;

    case KP_CONS_SHAPE_TRACK:
      {
        g_autoptr(GArray) frames = g_array_new (FALSE, FALSE, sizeof (double));
        g_autoptr(GArray) out = g_array_new (FALSE, FALSE, sizeof (double));

        for (guint i = 0; i < n; i++)
          {
            const KpConsShape *s = member_shape (workers, &g_array_index (members, Member, i));

            for (guint f = 0; f < s->n_frames; f++)
              g_array_append_val (frames, s->frames[5 * f]);
          }
        g_array_sort (frames, compare_doubles);

        for (guint f = 0; f < frames->len; f++)
          {
            double frame = g_array_index (frames, double, f);
            double sum[4] = { 0, 0, 0, 0 };
            guint holding = 0;

            if (f > 0 && frame == g_array_index (frames, double, f - 1))
              continue;

            for (guint i = 0; i < n; i++)
              {
                double box[4];

                if (track_box_at (member_shape (workers, &g_array_index (members, Member, i)),
                                  frame, box))
                  {
                    for (guint k = 0; k < 4; k++)
                      sum[k] += box[k];
                    holding++;
                  }
              }

            if (2 * holding >= n)
              {
                double row[5] = { frame, sum[0] / holding, sum[1] / holding,
                                  sum[2] / holding, sum[3] / holding };

                g_array_append_vals (out, row, 5);
              }
          }

        merged->n_frames = out->len / 5;
        merged->frames = (double *)(void *)g_array_free (g_steal_pointer (&out), FALSE);
        if (merged->n_frames == 0)
          {
            /* Members that never overlap by half: keep the first. */
            g_free (merged->frames);
            merged->n_frames = first->n_frames;
            merged->frames = g_memdup2 (first->frames, 5 * first->n_frames * sizeof (double));
          }
      }
      break;

    case KP_N_CONS_SHAPE_KINDS:
    default:
      g_assert_not_reached ();
    }

  return merged;
}

static void
shape_position (const KpConsShape *shape,
                double            *a,
                double            *b)
{
  double x1, y1;

  switch (shape->kind)
    {
    case KP_CONS_SHAPE_POLYGON:
    case KP_CONS_SHAPE_LINE:
    case KP_CONS_SHAPE_POLYLINE:
      points_bounds (shape, a, b, &x1, &y1);
      break;

    case KP_CONS_SHAPE_TRACK:
      *a = shape->n_frames > 0 ? shape->frames[0] : 0;
      *b = shape->n_frames > 0 ? shape->frames[1] : 0;
      break;

    case KP_CONS_SHAPE_BOX:
    case KP_CONS_SHAPE_KEYPOINT:
    case KP_CONS_SHAPE_SEGMENT:
    case KP_N_CONS_SHAPE_KINDS:
    default:
      *a = shape->v[0];
      *b = shape->v[1];
      break;
    }
}

static int
compare_clusters (gconstpointer a,
                  gconstpointer b)
{
  const KpConsShapeCluster *ca = *(KpConsShapeCluster * const *)a;
  const KpConsShapeCluster *cb = *(KpConsShapeCluster * const *)b;
  double a0, a1, b0, b1;
  int cmp = strcmp (ca->shape->label, cb->shape->label);

  if (cmp != 0)
    return cmp;

  shape_position (ca->shape, &a0, &a1);
  shape_position (cb->shape, &b0, &b1);
  if (a0 != b0)
    return a0 < b0 ? -1 : 1;
  if (a1 != b1)
    return a1 < b1 ? -1 : 1;
  if (ca->support != cb->support)
    return ca->support > cb->support ? -1 : 1;

  /* The earliest first member as a last resort, for a total order. */
  {
    const Member *ma = &g_array_index (ca->members, Member, 0);
    const Member *mb = &g_array_index (cb->members, Member, 0);

    if (ma->worker != mb->worker)
      return ma->worker < mb->worker ? -1 : 1;
    return (ma->index > mb->index) - (ma->index < mb->index);
  }
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *)a, *(const char * const *)b);
}

GPtrArray *
_kp_shapes_consolidate (GPtrArray * const          *workers,
                        guint                       n_workers,
                        KpConsShapeKind             kind,
                        const KpConsolidateOptions *options,
                        guint                       quorum)
{
  g_autoptr(GPtrArray) result = g_ptr_array_new_with_free_func ((GDestroyNotify)_kp_shape_cluster_free);
  g_autoptr(GPtrArray) labels = g_ptr_array_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  double threshold = _kp_shape_threshold (kind, options);

  g_return_val_if_fail (kind < KP_N_CONS_SHAPE_KINDS, NULL);
  g_return_val_if_fail (options != NULL, NULL);

  if (quorum == 0)
    quorum = n_workers / 2 + 1;

  for (guint w = 0; w < n_workers; w++)
    for (guint i = 0; workers[w] != NULL && i < workers[w]->len; i++)
      {
        const KpConsShape *s = g_ptr_array_index (workers[w], i);

        if (g_hash_table_add (seen, s->label))
          g_ptr_array_add (labels, s->label);
      }
  g_ptr_array_sort (labels, compare_strings);

  for (guint l = 0; l < labels->len; l++)
    {
      const char *label = g_ptr_array_index (labels, l);
      g_autoptr(GPtrArray) clusters = g_ptr_array_new_with_free_func ((GDestroyNotify)g_array_unref);

      for (guint w = 0; w < n_workers; w++)
        {
          g_autoptr(GArray) mine = g_array_new (FALSE, FALSE, sizeof (guint32));
          g_autofree double *weights = NULL;
          g_autofree int *row_to_col = NULL;
          guint n_clusters = clusters->len;

          for (guint32 i = 0; workers[w] != NULL && i < workers[w]->len; i++)
            if (strcmp (((KpConsShape *)g_ptr_array_index (workers[w], i))->label, label) == 0)
              g_array_append_val (mine, i);
          if (mine->len == 0)
            continue;

          weights = g_new0 (double, (gsize)mine->len * MAX (n_clusters, 1));
          row_to_col = g_new (int, mine->len);
          for (guint r = 0; r < mine->len; r++)
            {
              const KpConsShape *s = g_ptr_array_index (workers[w], g_array_index (mine, guint32, r));

              row_to_col[r] = -1;
              for (guint c = 0; c < n_clusters; c++)
                {
                  GArray *members = g_ptr_array_index (clusters, c);
                  double sum = 0;

                  for (guint m = 0; m < members->len; m++)
                    sum += _kp_shape_similarity (s, member_shape (workers,
                                                                  &g_array_index (members, Member, m)),
                                                 options);
                  weights[r * n_clusters + c] = sum / members->len;
                }
            }

          if (n_clusters > 0)
            match (weights, mine->len, n_clusters, threshold, options->matching, row_to_col);

          for (guint r = 0; r < mine->len; r++)
            {
              Member m = { w, g_array_index (mine, guint32, r) };

              if (row_to_col[r] >= 0)
                g_array_append_val ((GArray *)g_ptr_array_index (clusters, row_to_col[r]), m);
              else
                {
                  GArray *members = g_array_new (FALSE, FALSE, sizeof (Member));

                  g_array_append_val (members, m);
                  g_ptr_array_add (clusters, members);
                }
            }
        }

      for (guint c = 0; c < clusters->len; c++)
        {
          KpConsShapeCluster *cluster = g_new0 (KpConsShapeCluster, 1);
          GArray *members = g_ptr_array_index (clusters, c);
          double pairwise = 0, to_merged = 0;
          guint n_pairs = 0;

          cluster->members = g_array_ref (members);
          cluster->support = members->len;
          cluster->shape = merge_members (workers, members, kind, options);

          for (guint i = 0; i < members->len; i++)
            {
              const KpConsShape *si = member_shape (workers, &g_array_index (members, Member, i));

              to_merged += _kp_shape_similarity (si, cluster->shape, options);
              for (guint j = i + 1; j < members->len; j++)
                {
                  pairwise += _kp_shape_similarity (si, member_shape (workers,
                                                                      &g_array_index (members, Member, j)),
                                                    options);
                  n_pairs++;
                }
            }

          cluster->agreement = n_pairs > 0 ? pairwise / n_pairs : 1;
          cluster->confidence = CLAMP ((double)cluster->support / MAX (n_workers, 1) *
                                       to_merged / members->len, 0, 1);
          cluster->kept = cluster->support >= quorum;
          g_ptr_array_add (result, cluster);
        }
    }

  g_ptr_array_sort (result, compare_clusters);

  return g_steal_pointer (&result);
}

double
_kp_shapes_f1 (GPtrArray                  *a,
               GPtrArray                  *b,
               KpConsShapeKind             kind,
               const KpConsolidateOptions *options)
{
  double threshold = _kp_shape_threshold (kind, options);
  guint na = a != NULL ? a->len : 0;
  guint nb = b != NULL ? b->len : 0;
  guint tp = 0;
  g_autofree double *weights = NULL;
  g_autofree int *row_to_col = NULL;

  if (na == 0 && nb == 0)
    return 1;
  if (na == 0 || nb == 0)
    return 0;

  /* Objects of different labels never match. */
  weights = g_new0 (double, (gsize)na * nb);
  row_to_col = g_new (int, na);
  for (guint i = 0; i < na; i++)
    for (guint j = 0; j < nb; j++)
      {
        const KpConsShape *sa = g_ptr_array_index (a, i);
        const KpConsShape *sb = g_ptr_array_index (b, j);

        if (strcmp (sa->label, sb->label) == 0)
          weights[i * nb + j] = _kp_shape_similarity (sa, sb, options);
      }

  match (weights, na, nb, threshold, KP_MATCHING_HUNGARIAN, row_to_col);
  for (guint i = 0; i < na; i++)
    if (row_to_col[i] >= 0)
      tp++;

  return 2.0 * tp / (na + nb);
}

/* The public box API */

void
kp_box_cluster_free (KpBoxCluster *cluster)
{
  if (cluster == NULL)
    return;

  g_free (cluster->box.label);
  g_clear_pointer (&cluster->members, g_array_unref);
  g_free (cluster);
}

GPtrArray *
kp_consolidate_boxes (GArray * const *workers,
                      guint           n_workers,
                      double          iou_threshold,
                      guint           quorum,
                      KpMatching      matching)
{
  g_autoptr(GPtrArray) result = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_box_cluster_free);
  g_autoptr(GPtrArray) clusters = NULL;
  g_autofree GPtrArray **shapes = NULL;
  KpConsolidateOptions options;

  g_return_val_if_fail (workers != NULL || n_workers == 0, NULL);

  kp_consolidate_options_init (&options);
  options.iou_threshold = iou_threshold;
  options.matching = matching;

  /* Boxes that are not boxes (empty, negative or not finite) take part
   * in nothing. Their indices are kept so members name the caller's. */
  shapes = g_new0 (GPtrArray *, MAX (n_workers, 1));
  for (guint w = 0; w < n_workers; w++)
    {
      shapes[w] = g_ptr_array_new_with_free_func ((GDestroyNotify)_kp_shape_free);
      for (guint i = 0; workers[w] != NULL && i < workers[w]->len; i++)
        {
          const KpConsolidateBox *box = &g_array_index (workers[w], KpConsolidateBox, i);
          gboolean valid = isfinite (box->left) && isfinite (box->top) &&
                           isfinite (box->width) && isfinite (box->height) &&
                           box->width > 0 && box->height > 0;
          KpConsShape *shape = _kp_shape_new (KP_CONS_SHAPE_BOX, valid ? box->label : NULL);

          if (valid)
            {
              shape->v[0] = box->left;
              shape->v[1] = box->top;
              shape->v[2] = box->width;
              shape->v[3] = box->height;
            }
          else
            {
              g_free (shape->label);
              shape->label = g_strdup ("\x01invalid");
            }
          g_ptr_array_add (shapes[w], shape);
        }
    }

  clusters = _kp_shapes_consolidate (shapes, n_workers, KP_CONS_SHAPE_BOX, &options, quorum);
  for (guint i = 0; i < clusters->len; i++)
    {
      KpConsShapeCluster *c = g_ptr_array_index (clusters, i);
      KpBoxCluster *bc;

      if (!c->kept || g_str_equal (c->shape->label, "\x01invalid"))
        continue;

      bc = g_new0 (KpBoxCluster, 1);
      bc->box.label = g_strdup (c->shape->label);
      bc->box.left = c->shape->v[0];
      bc->box.top = c->shape->v[1];
      bc->box.width = c->shape->v[2];
      bc->box.height = c->shape->v[3];
      bc->confidence = c->confidence;
      bc->agreement = c->agreement;
      bc->support = c->support;
      bc->members = g_array_ref (c->members);
      g_ptr_array_add (result, bc);
    }

  for (guint w = 0; w < n_workers; w++)
    g_ptr_array_unref (shapes[w]);

  return g_steal_pointer (&result);
}
