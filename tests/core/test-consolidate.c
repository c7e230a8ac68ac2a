/* test-consolidate.c: consolidation of shapes and of whole crowd answers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Crowds are simulated here with fixed seeds: true objects, workers who
 * draw them with Gaussian jitter, miss some and add false ones, and
 * spammers drawing at random.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "kp-core.h"
#include "kp-consolidate-private.h"
#include "kp-test-util.h"

#define ANSWERS_NS "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/" \
                   "2005-10-01/QuestionFormAnswers.xsd"

/* Helpers */

static JsonNode *
parse_node (const char *json)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);

  return json_node_copy (json_parser_get_root (parser));
}

static JsonObject *
parse_object (const char *json)
{
  g_autoptr(JsonNode) node = parse_node (json);

  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_object_ref (json_node_get_object (node));
}

static char *
to_string (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);

  return json_to_string (node, FALSE);
}

static double
gaussian (GRand *rand)
{
  double u = g_rand_double_range (rand, 1e-12, 1);
  double v = g_rand_double (rand);

  return sqrt (-2 * log (u)) * cos (2 * G_PI * v);
}

static JsonObject *
member_object (JsonObject *object,
               const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_node_get_object (node);
}

static JsonArray *
member_array (JsonObject *object,
              const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (node));
  return json_node_get_array (node);
}

static double
member_double (JsonObject *object,
               const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  g_assert_nonnull (node);
  return json_node_get_double (node);
}

static const char *
element_type (JsonObject *result,
              const char *element)
{
  return json_object_get_string_member (member_object (member_object (result, "Elements"), element),
                                        "Type");
}

/* Boxes */

static KpConsolidateBox
box (const char *label,
     double      left,
     double      top,
     double      width,
     double      height)
{
  KpConsolidateBox b = { (char *)label, left, top, width, height };

  return b;
}

static void
test_box_iou (void)
{
  KpConsolidateBox a = box ("A", 0, 0, 10, 10);
  KpConsolidateBox b = box ("A", 5, 0, 10, 10);
  KpConsolidateBox c = box ("A", 20, 20, 5, 5);
  KpConsolidateBox nan_box = box ("A", NAN, 0, 10, 10);
  KpConsolidateBox negative = box ("A", 0, 0, -10, 10);

  g_assert_cmpfloat_with_epsilon (kp_box_iou (&a, &a), 1, 1e-12);
  g_assert_cmpfloat_with_epsilon (kp_box_iou (&a, &b), 50.0 / 150.0, 1e-12);
  g_assert_cmpfloat (kp_box_iou (&a, &c), ==, 0);
  g_assert_cmpfloat (kp_box_iou (&a, &nan_box), ==, 0);
  g_assert_cmpfloat (kp_box_iou (&a, &negative), ==, 0);
}

/* A case where taking the best pair first is wrong: a1 and b1 overlap
 * most (IoU 0.905), but then a2 and b2 (0.333) do not match, while a1–b2
 * (0.6) and a2–b1 (0.667) together make 1.267. */
static void
test_greedy_vs_hungarian (void)
{
  g_autoptr(GArray) w0 = g_array_new (FALSE, FALSE, sizeof (KpConsolidateBox));
  g_autoptr(GArray) w1 = g_array_new (FALSE, FALSE, sizeof (KpConsolidateBox));
  GArray *workers[2] = { w0, w1 };
  KpConsolidateBox b;
  double totals[2] = { 0, 0 };
  guint counts[2] = { 0, 0 };

  b = box ("Car", 10, 0, 10, 10);
  g_array_append_val (w0, b);
  b = box ("Car", 12.5, 0, 10, 10);
  g_array_append_val (w0, b);
  b = box ("Car", 10.5, 0, 10, 10);
  g_array_append_val (w1, b);
  b = box ("Car", 7.5, 0, 10, 10);
  g_array_append_val (w1, b);

  for (int m = 0; m < 2; m++)
    {
      g_autoptr(GPtrArray) clusters = kp_consolidate_boxes (workers, 2, 0.5, 2,
                                                            m == 0 ? KP_MATCHING_GREEDY
                                                                   : KP_MATCHING_HUNGARIAN);

      counts[m] = clusters->len;
      for (guint i = 0; i < clusters->len; i++)
        {
          KpBoxCluster *c = g_ptr_array_index (clusters, i);

          g_assert_cmpuint (c->support, ==, 2);
          g_assert_cmpuint (c->members->len, ==, 2);
          g_assert_cmpstr (c->box.label, ==, "Car");
          totals[m] += c->agreement;
        }
    }

  g_assert_cmpuint (counts[0], ==, 1);
  g_assert_cmpfloat_with_epsilon (totals[0], 9.5 / 10.5, 1e-9);
  g_assert_cmpuint (counts[1], ==, 2);
  g_assert_cmpfloat_with_epsilon (totals[1], 7.5 / 12.5 + 8.0 / 12.0, 1e-9);
  g_assert_cmpfloat (totals[1], >, totals[0]);
}

static void
test_hungarian_optimal (void)
{
  /* Brute force over every permutation of small random matrices. */
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);

  for (guint trial = 0; trial < 200; trial++)
    {
      guint rows = g_rand_int_range (rand, 1, 6), cols = g_rand_int_range (rand, 1, 6);
      double weights[25];
      int assignment[5];
      double best = 0, got = 0;
      guint n = MAX (rows, cols), perm[5] = { 0, 1, 2, 3, 4 };
      gboolean used[5] = { FALSE };

      for (guint i = 0; i < rows * cols; i++)
        weights[i] = g_rand_double (rand);

      _kp_hungarian (weights, rows, cols, assignment);
      for (guint r = 0; r < rows; r++)
        if (assignment[r] >= 0)
          {
            g_assert_cmpint (assignment[r], <, (int)cols);
            g_assert_false (used[assignment[r]]);
            used[assignment[r]] = TRUE;
            got += weights[r * cols + assignment[r]];
          }

      /* Heap's algorithm would do; n ≤ 5 makes plain recursion-free
       * enumeration of n^n with a distinctness check cheap enough. */
      for (guint code = 0; code < (guint)pow (n, n); code++)
        {
          guint c = code, seen = 0;
          double total = 0;
          gboolean ok = TRUE;

          for (guint r = 0; r < n; r++)
            {
              perm[r] = c % n;
              c /= n;
              if (seen & (1u << perm[r]))
                ok = FALSE;
              seen |= 1u << perm[r];
            }
          if (!ok)
            continue;
          for (guint r = 0; r < rows; r++)
            if (perm[r] < cols)
              total += weights[r * cols + perm[r]];
          best = MAX (best, total);
        }

      g_assert_cmpfloat_with_epsilon (got, best, 1e-9);
    }
}

typedef struct
{
  double l, t, w, h;
  const char *label;
} TrueBox;

/* 40 images, 1–6 true boxes each; workers 0–3 draw each box with
 * probability 0.95, every edge jittered by a Gaussian of 3 % of the box's
 * size, and add a false box to 20 % of the images; worker 4 is a spammer
 * drawing as many random boxes as there are true ones. With the default
 * quorum (3 of 5), every consolidated box lies within IoU 0.8 of its true
 * box, precision is 1 (no false box of one worker survives) and recall
 * at least 0.95. */
static void
check_simulated_boxes (KpMatching matching)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261124);
  static const char * const labels[] = { "Car", "Person" };
  guint n_true = 0, n_found = 0, n_consolidated = 0, n_false_drawn = 0;

  for (guint image = 0; image < 40; image++)
    {
      TrueBox truth[6];
      guint n = g_rand_int_range (rand, 1, 7);
      GArray *workers[5];
      g_autoptr(GPtrArray) clusters = NULL;
      gboolean found[6] = { FALSE };
      g_autoptr(GHashTable) false_boxes = g_hash_table_new (g_direct_hash, g_direct_equal);

      for (guint i = 0; i < n; i++)
        {
          truth[i].w = g_rand_double_range (rand, 30, 150);
          truth[i].h = g_rand_double_range (rand, 30, 150);
          truth[i].l = g_rand_double_range (rand, 0, 640 - truth[i].w);
          truth[i].t = g_rand_double_range (rand, 0, 480 - truth[i].h);
          truth[i].label = labels[g_rand_int_range (rand, 0, 2)];
        }

      for (guint w = 0; w < 5; w++)
        {
          workers[w] = g_array_new (FALSE, FALSE, sizeof (KpConsolidateBox));

          if (w == 4)
            {
              for (guint i = 0; i < n; i++)
                {
                  double bw = g_rand_double_range (rand, 10, 200), bh = g_rand_double_range (rand, 10, 200);
                  KpConsolidateBox b = box (labels[g_rand_int_range (rand, 0, 2)],
                                            g_rand_double_range (rand, 0, 640 - bw),
                                            g_rand_double_range (rand, 0, 480 - bh), bw, bh);

                  g_array_append_val (workers[w], b);
                }
              continue;
            }

          for (guint i = 0; i < n; i++)
            {
              double sx = 0.03 * truth[i].w, sy = 0.03 * truth[i].h;
              double x0, y0, x1, y1;
              KpConsolidateBox b;

              if (g_rand_double (rand) >= 0.95)
                continue;
              x0 = truth[i].l + sx * gaussian (rand);
              y0 = truth[i].t + sy * gaussian (rand);
              x1 = truth[i].l + truth[i].w + sx * gaussian (rand);
              y1 = truth[i].t + truth[i].h + sy * gaussian (rand);
              b = box (truth[i].label, x0, y0, x1 - x0, y1 - y0);
              g_array_append_val (workers[w], b);
            }

          if (g_rand_double (rand) < 0.2)
            {
              KpConsolidateBox b = box (labels[g_rand_int_range (rand, 0, 2)],
                                        g_rand_double_range (rand, 0, 560),
                                        g_rand_double_range (rand, 0, 400), 60, 60);

              g_hash_table_add (false_boxes, GUINT_TO_POINTER ((w << 16) | workers[w]->len));
              g_array_append_val (workers[w], b);
              n_false_drawn++;
            }
        }

      clusters = kp_consolidate_boxes (workers, 5, 0.5, 0, matching);
      for (guint c = 0; c < clusters->len; c++)
        {
          KpBoxCluster *cluster = g_ptr_array_index (clusters, c);
          double best = 0;
          guint best_i = 0;

          g_assert_cmpuint (cluster->support, >=, 3);
          g_assert_cmpuint (cluster->members->len, ==, cluster->support);
          g_assert_cmpfloat (cluster->confidence, >, 0);
          g_assert_cmpfloat (cluster->confidence, <=, 1);

          /* No member of a kept cluster is a worker's false box. */
          for (guint m = 0; m < cluster->members->len; m++)
            {
              const guint32 *pair = &g_array_index (cluster->members, guint32, 2 * m);

              g_assert_false (g_hash_table_contains (false_boxes,
                                                     GUINT_TO_POINTER ((pair[0] << 16) | pair[1])));
            }

          for (guint i = 0; i < n; i++)
            {
              KpConsolidateBox t = box (truth[i].label, truth[i].l, truth[i].t, truth[i].w, truth[i].h);
              double iou = kp_box_iou (&t, &cluster->box);

              if (g_str_equal (truth[i].label, cluster->box.label) && iou > best)
                {
                  best = iou;
                  best_i = i;
                }
            }

          g_assert_cmpfloat (best, >=, 0.8);
          g_assert_false (found[best_i]);
          found[best_i] = TRUE;
          n_consolidated++;
        }

      for (guint i = 0; i < n; i++)
        n_found += found[i];
      n_true += n;

      for (guint w = 0; w < 5; w++)
        g_array_unref (workers[w]);
    }

  g_test_message ("boxes: %u true, %u consolidated, %u found, %u false drawn",
                  n_true, n_consolidated, n_found, n_false_drawn);
  g_assert_cmpuint (n_false_drawn, >, 10);
  /* Precision is 1: every consolidated box was matched to a true one. */
  g_assert_cmpuint (n_consolidated, ==, n_found);
  g_assert_cmpfloat ((double)n_found / n_true, >=, 0.95);
}

static void
test_simulated_boxes_hungarian (void)
{
  check_simulated_boxes (KP_MATCHING_HUNGARIAN);
}

static void
test_simulated_boxes_greedy (void)
{
  check_simulated_boxes (KP_MATCHING_GREEDY);
}

/* Other shapes, through the private API */

static KpConsShape *
polygon (const char *label,
         const double *xy,
         guint         n)
{
  KpConsShape *shape = _kp_shape_new (KP_CONS_SHAPE_POLYGON, label);

  shape->n_points = n;
  shape->points = g_new (KpPoint, n);
  for (guint i = 0; i < n; i++)
    {
      shape->points[i].x = xy[2 * i];
      shape->points[i].y = xy[2 * i + 1];
    }

  return shape;
}

static void
test_polygon_iou (void)
{
  KpConsolidateOptions options;
  const double square[] = { 0, 0, 10, 0, 10, 10, 0, 10 };
  const double shifted[] = { 5, 0, 15, 0, 15, 10, 5, 10 };
  /* An L: the square without its top-right quarter (area 75). */
  const double ell[] = { 0, 0, 5, 0, 5, 5, 10, 5, 10, 10, 0, 10 };
  const double triangle[] = { 0, 0, 10, 0, 0, 10 };
  const double far[] = { 100, 100, 110, 100, 110, 110 };
  g_autoptr(GPtrArray) shapes = g_ptr_array_new_with_free_func ((GDestroyNotify)_kp_shape_free);
  KpConsShape *sq, *sh, *l, *tr, *fa;

  kp_consolidate_options_init (&options);
  g_ptr_array_add (shapes, sq = polygon ("A", square, 4));
  g_ptr_array_add (shapes, sh = polygon ("A", shifted, 4));
  g_ptr_array_add (shapes, l = polygon ("A", ell, 6));
  g_ptr_array_add (shapes, tr = polygon ("A", triangle, 3));
  g_ptr_array_add (shapes, fa = polygon ("A", far, 3));

  /* The stated precision: within 0.5 % on shapes this size. */
  g_assert_cmpfloat_with_epsilon (_kp_shape_similarity (sq, sq, &options), 1, 1e-9);
  g_assert_cmpfloat_with_epsilon (_kp_shape_similarity (sq, sh, &options), 1.0 / 3, 0.005);
  g_assert_cmpfloat_with_epsilon (_kp_shape_similarity (sq, l, &options), 0.75, 0.005);
  g_assert_cmpfloat_with_epsilon (_kp_shape_similarity (sq, tr, &options), 0.5, 0.005);
  g_assert_cmpfloat_with_epsilon (_kp_shape_similarity (l, sq, &options), 0.75, 0.005);
  g_assert_cmpfloat (_kp_shape_similarity (sq, fa, &options), ==, 0);
}

static char *
polygon_json (GRand        *rand,
              const double *xy,
              guint         n,
              double        jitter,
              gboolean      extra_vertex)
{
  GString *s = g_string_new ("{\"label\": \"Roof\", \"vertices\": [");

  for (guint i = 0; i < n; i++)
    {
      g_string_append_printf (s, "%s{\"x\": %.3f, \"y\": %.3f}", i > 0 ? ", " : "",
                              xy[2 * i] + jitter * gaussian (rand),
                              xy[2 * i + 1] + jitter * gaussian (rand));
      /* Some workers click a vertex in the middle of the first edge. */
      if (i == 0 && extra_vertex)
        g_string_append_printf (s, ", {\"x\": %.3f, \"y\": %.3f}",
                                (xy[0] + xy[2]) / 2, (xy[1] + xy[3]) / 2);
    }
  g_string_append (s, "]}");

  return g_string_free (s, FALSE);
}

/* Runs a consolidator over one item whose assignments answer element
 * "e" with the given JSON values, and returns the item's result. */
static JsonObject *
consolidate_values (const char * const *values,
                    guint               n,
                    const KpConsolidateOptions *options)
{
  g_autoptr(KpConsolidator) consolidator = kp_consolidator_new (options);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *json = g_strdup_printf ("{\"e\": %s}", values[i]);
      g_autoptr(JsonObject) answer = parse_object (json);
      g_autofree char *worker = g_strdup_printf ("W%u", i);
      g_autofree char *assignment = g_strdup_printf ("A%u", i);

      g_assert_true (kp_consolidator_add (consolidator, "H1", worker, assignment, answer, &error));
      g_assert_no_error (error);
    }

  g_assert_true (kp_consolidator_run (consolidator, NULL, &error));
  g_assert_no_error (error);

  return kp_consolidator_dup_result (consolidator, "H1");
}

static void
test_simulated_polygons (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  /* A house: a concave pentagon with a notch. */
  const double house[] = { 100, 200, 200, 200, 200, 120, 150, 60, 100, 120 };
  const double shed[] = { 300, 300, 340, 300, 340, 340, 300, 340 };
  char *values[5];
  g_autoptr(JsonObject) result = NULL;
  JsonArray *polygons;
  KpConsolidateOptions options;
  g_autoptr(KpConsShape) truth = polygon ("Roof", house, 5);
  g_autoptr(GPtrArray) got = NULL;

  for (guint w = 0; w < 5; w++)
    {
      g_autofree char *p = polygon_json (rand, house, 5, 2.0, w % 2 == 1);
      g_autofree char *q = polygon_json (rand, shed, 4, 1.0, FALSE);

      /* Only worker 0 sees the shed: one worker's object never survives
       * the majority quorum. */
      values[w] = g_strdup_printf ("{\"polygons\": [%s%s%s], \"inputImageProperties\": "
                                   "{\"width\": 640, \"height\": 480}}",
                                   p, w == 0 ? ", " : "", w == 0 ? q : "");
    }

  result = consolidate_values ((const char * const *)values, 5, NULL);
  g_assert_cmpstr (element_type (result, "e"), ==, "polygons");
  polygons = member_array (member_object (member_object (result, "Answer"), "e"), "polygons");
  g_assert_cmpuint (json_array_get_length (polygons), ==, 1);
  g_assert_cmpint (json_object_get_int_member (member_object (member_object (member_object (result, "Answer"), "e"),
                                                              "inputImageProperties"), "width"), ==, 640);

  kp_consolidate_options_init (&options);
  got = _kp_shapes_parse (KP_CONS_SHAPE_POLYGON, polygons, NULL);
  g_assert_nonnull (got);
  g_assert_cmpfloat (_kp_shape_similarity (g_ptr_array_index (got, 0), truth, &options), >=, 0.9);

  for (guint w = 0; w < 5; w++)
    g_free (values[w]);
}

static void
test_simulated_keypoints (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (12);
  const double truth[3][2] = { { 50, 60 }, { 120, 80 }, { 200, 220 } };
  static const char * const names[] = { "Nose", "Knee", "Knee" };
  char *values[5];
  g_autoptr(JsonObject) result = NULL;
  JsonArray *points;

  for (guint w = 0; w < 5; w++)
    {
      GString *s = g_string_new ("{\"keypoints\": [");
      gboolean first = TRUE;

      for (guint i = 0; i < 3; i++)
        {
          /* Worker 1 misses the second point. */
          if (w == 1 && i == 1)
            continue;
          g_string_append_printf (s, "%s{\"label\": \"%s\", \"x\": %.2f, \"y\": %.2f}",
                                  first ? "" : ", ", names[i],
                                  truth[i][0] + 2 * gaussian (rand), truth[i][1] + 2 * gaussian (rand));
          first = FALSE;
        }
      /* Worker 3 adds a point nobody else sees. */
      if (w == 3)
        g_string_append (s, ", {\"label\": \"Knee\", \"x\": 400, \"y\": 10}");
      g_string_append (s, "], \"inputImageProperties\": {\"width\": 640, \"height\": 480}}");
      values[w] = g_string_free (s, FALSE);
    }

  result = consolidate_values ((const char * const *)values, 5, NULL);
  g_assert_cmpstr (element_type (result, "e"), ==, "keypoints");
  points = member_array (member_object (member_object (result, "Answer"), "e"), "keypoints");
  g_assert_cmpuint (json_array_get_length (points), ==, 3);

  for (guint i = 0; i < 3; i++)
    {
      JsonObject *p = json_array_get_object_element (points, i);
      double best = G_MAXDOUBLE;

      for (guint k = 0; k < 3; k++)
        if (g_str_equal (names[k], json_object_get_string_member (p, "label")))
          best = MIN (best, hypot (json_object_get_int_member (p, "x") - truth[k][0],
                                   json_object_get_int_member (p, "y") - truth[k][1]));
      g_assert_cmpfloat (best, <=, 4);
    }

  for (guint w = 0; w < 5; w++)
    g_free (values[w]);
}

static void
test_lines (void)
{
  /* The same horizon drawn left to right and right to left. */
  const char *values[] = {
    "{\"lines\": [{\"label\": \"H\", \"vertices\": [{\"x\": 0, \"y\": 100}, {\"x\": 640, \"y\": 90}]}]}",
    "{\"lines\": [{\"label\": \"H\", \"vertices\": [{\"x\": 638, \"y\": 92}, {\"x\": 2, \"y\": 102}]}]}",
    "{\"lines\": [{\"label\": \"H\", \"vertices\": [{\"x\": 1, \"y\": 98}, {\"x\": 642, \"y\": 88}]}]}",
  };
  const char *polylines[] = {
    "{\"polylines\": [{\"label\": \"L\", \"vertices\": [{\"x\": 0, \"y\": 0}, {\"x\": 50, \"y\": 50}, {\"x\": 100, \"y\": 60}]}]}",
    "{\"polylines\": [{\"label\": \"L\", \"vertices\": [{\"x\": 2, \"y\": 1}, {\"x\": 100, \"y\": 62}]}]}",
    "{\"polylines\": [{\"label\": \"L\", \"vertices\": [{\"x\": 300, \"y\": 300}, {\"x\": 400, \"y\": 400}]}]}",
  };
  g_autoptr(JsonObject) result = consolidate_values (values, 3, NULL);
  g_autoptr(JsonObject) result2 = NULL;
  JsonArray *lines, *vertices;
  JsonObject *a, *b;

  g_assert_cmpstr (element_type (result, "e"), ==, "lines");
  lines = member_array (member_object (member_object (result, "Answer"), "e"), "lines");
  g_assert_cmpuint (json_array_get_length (lines), ==, 1);
  vertices = member_array (json_array_get_object_element (lines, 0), "vertices");
  a = json_array_get_object_element (vertices, 0);
  b = json_array_get_object_element (vertices, 1);
  g_assert_cmpint (json_object_get_int_member (a, "x"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (a, "y"), ==, 100);
  g_assert_cmpint (json_object_get_int_member (b, "x"), ==, 640);
  g_assert_cmpint (json_object_get_int_member (b, "y"), ==, 90);
  g_assert_cmpfloat (member_double (result, "Agreement"), ==, 1);

  /* Polylines: the two alike survive as the medoid; the third agrees
   * with nothing. */
  result2 = consolidate_values (polylines, 3, NULL);
  g_assert_cmpstr (element_type (result2, "e"), ==, "polylines");
  lines = member_array (member_object (member_object (result2, "Answer"), "e"), "polylines");
  g_assert_cmpuint (json_array_get_length (lines), ==, 1);
  g_assert_cmpfloat_with_epsilon (member_double (result2, "Agreement"), 2.0 / 3, 1e-9);
}

static void
test_simulated_segments (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (13);
  const double truth[3][2] = { { 0.5, 2.0 }, { 3.0, 4.5 }, { 6.0, 9.0 } };
  static const char * const names[] = { "speech", "music", "speech" };
  char *values[5];
  g_autoptr(JsonObject) result = NULL;
  JsonArray *segments;

  for (guint w = 0; w < 5; w++)
    {
      GString *s = g_string_new ("{\"segments\": [");

      for (guint i = 0; i < 3; i++)
        g_string_append_printf (s, "%s{\"label\": \"%s\", \"startTime\": %.4f, \"endTime\": %.4f}",
                                i > 0 ? ", " : "", names[i],
                                truth[i][0] + 0.05 * gaussian (rand), truth[i][1] + 0.05 * gaussian (rand));
      if (w == 2)
        g_string_append (s, ", {\"label\": \"music\", \"startTime\": 10, \"endTime\": 11}");
      g_string_append (s, "]}");
      values[w] = g_string_free (s, FALSE);
    }

  result = consolidate_values ((const char * const *)values, 5, NULL);
  g_assert_cmpstr (element_type (result, "e"), ==, "segments");
  segments = member_array (member_object (member_object (result, "Answer"), "e"), "segments");
  g_assert_cmpuint (json_array_get_length (segments), ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      JsonObject *seg = json_array_get_object_element (segments, i);
      double start = json_object_get_double_member (seg, "startTime");
      double end = json_object_get_double_member (seg, "endTime");
      gboolean matched = FALSE;

      for (guint k = 0; k < 3; k++)
        matched |= g_str_equal (names[k], json_object_get_string_member (seg, "label")) &&
                   fabs (start - truth[k][0]) < 0.1 && fabs (end - truth[k][1]) < 0.1;
      g_assert_true (matched);
    }

  for (guint w = 0; w < 5; w++)
    g_free (values[w]);
}

/* A track moving right by 2 px per frame over frames 0–100; each worker
 * lists keyframes at its own spacing, jittered. */
static void
test_simulated_tracks (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (14);
  static const guint spacing[] = { 10, 25, 20, 50, 5 };
  char *values[5];
  g_autoptr(JsonObject) result = NULL;
  JsonArray *tracks, *frames;
  KpConsolidateOptions options;

  kp_consolidate_options_init (&options);

  for (guint w = 0; w < 5; w++)
    {
      GString *s = g_string_new ("{\"tracks\": [{\"id\": 7, \"label\": \"Car\", \"frames\": [");

      for (guint f = 0; f <= 100; f += spacing[w])
        g_string_append_printf (s, "%s{\"frame\": %u, \"left\": %.2f, \"top\": %.2f, "
                                "\"width\": %.2f, \"height\": %.2f}",
                                f > 0 ? ", " : "", f, 10 + 2.0 * f + gaussian (rand),
                                50 + gaussian (rand), 40 + gaussian (rand), 30 + gaussian (rand));
      g_string_append (s, "]}");
      /* Worker 4 adds a track of its own. */
      if (w == 4)
        g_string_append (s, ", {\"id\": 8, \"label\": \"Car\", \"frames\": [{\"frame\": 0, "
                            "\"left\": 400, \"top\": 300, \"width\": 20, \"height\": 20}]}");
      g_string_append (s, "]}");
      values[w] = g_string_free (s, FALSE);
    }

  result = consolidate_values ((const char * const *)values, 5, NULL);
  g_assert_cmpstr (element_type (result, "e"), ==, "tracks");
  tracks = member_array (member_object (member_object (result, "Answer"), "e"), "tracks");
  g_assert_cmpuint (json_array_get_length (tracks), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (tracks, 0), "id"), ==, 1);
  frames = member_array (json_array_get_object_element (tracks, 0), "frames");
  g_assert_cmpuint (json_array_get_length (frames), >, 10);
  for (guint i = 0; i < json_array_get_length (frames); i++)
    {
      JsonObject *f = json_array_get_object_element (frames, i);
      gint64 frame = json_object_get_int_member (f, "frame");
      KpConsolidateBox t = box ("Car", 10 + 2.0 * frame, 50, 40, 30);
      KpConsolidateBox got = box ("Car", json_object_get_int_member (f, "left"),
                                  json_object_get_int_member (f, "top"),
                                  json_object_get_int_member (f, "width"),
                                  json_object_get_int_member (f, "height"));

      g_assert_cmpfloat (kp_box_iou (&t, &got), >=, 0.85);
    }

  /* Keyframes at different spacings interpolate to the same motion. */
  {
    g_autoptr(JsonNode) a = parse_node ("[{\"label\": \"Car\", \"frames\": ["
                                        "{\"frame\": 0, \"left\": 0, \"top\": 0, \"width\": 10, \"height\": 10},"
                                        "{\"frame\": 100, \"left\": 100, \"top\": 0, \"width\": 10, \"height\": 10}]}]");
    g_autoptr(JsonNode) b = parse_node ("[{\"label\": \"Car\", \"frames\": ["
                                        "{\"frame\": 50, \"left\": 50, \"top\": 0, \"width\": 10, \"height\": 10},"
                                        "{\"frame\": 0, \"left\": 0, \"top\": 0, \"width\": 10, \"height\": 10},"
                                        "{\"frame\": 100, \"left\": 100, \"top\": 0, \"width\": 10, \"height\": 10}]}]");
    g_autoptr(JsonNode) c = parse_node ("[{\"label\": \"Car\", \"frames\": ["
                                        "{\"frame\": 0, \"left\": 0, \"top\": 0, \"width\": 10, \"height\": 10},"
                                        "{\"frame\": 100, \"left\": 0, \"top\": 0, \"width\": 10, \"height\": 10}]}]");
    g_autoptr(GPtrArray) ta = _kp_shapes_parse (KP_CONS_SHAPE_TRACK, json_node_get_array (a), NULL);
    g_autoptr(GPtrArray) tb = _kp_shapes_parse (KP_CONS_SHAPE_TRACK, json_node_get_array (b), NULL);
    g_autoptr(GPtrArray) tc = _kp_shapes_parse (KP_CONS_SHAPE_TRACK, json_node_get_array (c), NULL);

    g_assert_cmpfloat_with_epsilon (_kp_shape_similarity (ta->pdata[0], tb->pdata[0], &options), 1, 1e-9);
    /* A box standing still while the other moves away: only the first
     * frames overlap. */
    g_assert_cmpfloat (_kp_shape_similarity (ta->pdata[0], tc->pdata[0], &options), <, 0.2);
  }

  for (guint w = 0; w < 5; w++)
    g_free (values[w]);
}

/* Text and numbers */

static void
test_text (void)
{
  const char *values[] = {
    "\"New  York\"", "\"new york\"", "\" NEW YORK \"", "\"Boston\"", "\"\xef\xbd\x8e\xef\xbd\x85\xef\xbd\x97 york\"",
  };
  const char *numbers[] = { "3", "5", "4", "100", "4" };
  const char *numeric_text[] = { "\"42\"", "\"43\"", "\"42\"" };
  const char *ids[] = { "\"007\"", "\"7\"", "\"007\"" };
  g_autoptr(JsonObject) result = consolidate_values (values, 5, NULL);
  g_autoptr(JsonObject) r2 = consolidate_values (numbers, 5, NULL);
  g_autoptr(JsonObject) r3 = consolidate_values (numeric_text, 3, NULL);
  g_autoptr(JsonObject) r4 = consolidate_values (ids, 3, NULL);
  JsonObject *element;

  g_assert_cmpstr (element_type (result, "e"), ==, "text");
  g_assert_cmpstr (json_object_get_string_member (member_object (result, "Answer"), "e"), ==, "New  York");
  element = member_object (member_object (result, "Elements"), "e");
  g_assert_cmpfloat_with_epsilon (member_double (element, "Confidence"), 0.8, 1e-9);
  g_assert_cmpfloat_with_epsilon (member_double (element, "Agreement"), 0.8, 1e-9);
  /* Boston's assignment agrees with nothing. */
  g_assert_cmpfloat (member_double (json_array_get_object_element (member_array (result, "Assignments"), 3),
                                    "Agreement"), ==, 0);
  g_assert_cmpfloat (member_double (json_array_get_object_element (member_array (result, "Assignments"), 4),
                                    "Agreement"), ==, 1);

  g_assert_cmpstr (element_type (r2, "e"), ==, "number");
  g_assert_cmpint (json_object_get_int_member (member_object (r2, "Answer"), "e"), ==, 4);
  g_assert_cmpfloat_with_epsilon (member_double (member_object (member_object (r2, "Elements"), "e"),
                                                 "Confidence"), 0.4, 1e-9);

  /* Numbers typed into a text field stay strings. */
  g_assert_cmpstr (element_type (r3, "e"), ==, "number");
  g_assert_cmpstr (json_object_get_string_member (member_object (r3, "Answer"), "e"), ==, "42");

  /* Leading zeros make identifiers, compared as text. */
  g_assert_cmpstr (element_type (r4, "e"), ==, "text");
  g_assert_cmpstr (json_object_get_string_member (member_object (r4, "Answer"), "e"), ==, "007");
}

static void
test_checkboxes_and_unsupported (void)
{
  const char *boxes[] = {
    "{\"Red\": true, \"Green\": false}", "{\"Red\": true, \"Green\": true}",
    "{\"Red\": false, \"Green\": false}",
  };
  const char *odd[] = { "null", "[1, 2]", "[1, 2]" };
  g_autoptr(JsonObject) result = consolidate_values (boxes, 3, NULL);
  g_autoptr(JsonObject) r2 = consolidate_values (odd, 3, NULL);
  g_autoptr(JsonNode) expected = parse_node ("[1, 2]");
  JsonObject *answer;

  g_assert_cmpstr (element_type (result, "e"), ==, "checkboxes");
  answer = member_object (member_object (result, "Answer"), "e");
  g_assert_true (json_object_get_boolean_member (answer, "Red"));
  g_assert_false (json_object_get_boolean_member (answer, "Green"));
  g_assert_cmpfloat_with_epsilon (member_double (member_object (member_object (result, "Elements"), "e"),
                                                 "Confidence"), 2.0 / 3, 1e-9);

  g_assert_cmpstr (element_type (r2, "e"), ==, "unsupported");
  g_assert_true (json_node_equal (json_object_get_member (member_object (r2, "Answer"), "e"), expected));
}

/* Answer shapes: wrapped image answers, QuestionForm selections and the
 * quorum option. */
static void
test_answer_shapes (void)
{
  const char *wrapped[] = {
    "{\"annotatedResult\": {\"polygons\": [{\"label\": \"A\", \"vertices\": [{\"x\": 0, \"y\": 0}, {\"x\": 10, \"y\": 0}, {\"x\": 0, \"y\": 10}]}]}}",
    "{\"annotatedResult\": {\"polygons\": [{\"label\": \"A\", \"vertices\": [{\"x\": 1, \"y\": 0}, {\"x\": 10, \"y\": 0}, {\"x\": 0, \"y\": 10}]}]}}",
  };
  const char *selections[] = { "[\"s5\"]", "[\"s4\"]", "[\"s5\"]", "[]" };
  const char *multi[] = { "[\"a\", \"b\"]", "[\"a\"]", "[\"a\", \"b\"]" };
  const char *one_worker[] = {
    "{\"boundingBoxes\": [{\"label\": \"C\", \"left\": 0, \"top\": 0, \"width\": 10, \"height\": 10}]}",
    "{\"boundingBoxes\": []}",
    "{\"boundingBoxes\": []}",
  };
  g_autoptr(JsonObject) r1 = consolidate_values (wrapped, 2, NULL);
  g_autoptr(JsonObject) r2 = NULL;
  g_autoptr(JsonObject) r3 = NULL;
  g_autoptr(JsonObject) r4 = NULL;
  g_autoptr(JsonObject) r5 = NULL;
  JsonObject *inner;
  JsonArray *array;
  KpConsolidateOptions options;

  g_assert_cmpstr (element_type (r1, "e"), ==, "polygons");
  inner = member_object (member_object (member_object (r1, "Answer"), "e"), "annotatedResult");
  g_assert_cmpuint (json_array_get_length (member_array (inner, "polygons")), ==, 1);

  /* Selections of one are classification, answered in their own shape;
   * an empty selection is no answer. */
  kp_consolidate_options_init (&options);
  options.method = KP_CONSENSUS_MAJORITY;
  kp_consensus_options_init (&options.consensus, options.method);
  r2 = consolidate_values (selections, 4, &options);
  g_assert_cmpstr (element_type (r2, "e"), ==, "classification");
  array = member_array (member_object (r2, "Answer"), "e");
  g_assert_cmpuint (json_array_get_length (array), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (array, 0), ==, "s5");
  g_assert_cmpstr (json_object_get_string_member (member_object (member_object (r2, "Elements"), "e"),
                                                  "Method"), ==, "majority");
  g_assert_cmpfloat_with_epsilon (member_double (member_object (member_object (r2, "Elements"), "e"),
                                                 "Agreement"), 0.5, 1e-9);

  r3 = consolidate_values (multi, 3, &options);
  g_assert_cmpstr (element_type (r3, "e"), ==, "multi-label");
  array = member_array (member_object (r3, "Answer"), "e");
  g_assert_cmpuint (json_array_get_length (array), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (array, 0), ==, "a");
  g_assert_cmpstr (json_array_get_string_element (array, 1), ==, "b");
  g_assert_true (json_object_has_member (member_object (member_object (r3, "Elements"), "e"),
                                         "Probabilities"));

  /* One box of three workers: dropped by the default quorum (2 of 3),
   * kept with a quorum of 1. */
  r4 = consolidate_values (one_worker, 3, NULL);
  g_assert_cmpuint (json_array_get_length (member_array (member_object (member_object (r4, "Answer"), "e"),
                                                         "boundingBoxes")), ==, 0);
  /* Confidence that it is absent: 1 − 1/3. */
  g_assert_cmpfloat_with_epsilon (member_double (member_object (member_object (r4, "Elements"), "e"),
                                                 "Confidence"), 2.0 / 3, 1e-9);
  options.quorum = 1;
  r5 = consolidate_values (one_worker, 3, &options);
  g_assert_cmpuint (json_array_get_length (member_array (member_object (member_object (r5, "Answer"), "e"),
                                                         "boundingBoxes")), ==, 1);
}

/* The answers the layout tests record for every element: three workers
 * giving the same answer consolidate to that answer (less MTurk's
 * initialValueModified flag), with full agreement. */
static void
test_layout_answers (void)
{
  const char *root = g_getenv ("KP_SOURCE_ROOT");
  g_autofree char *dir_path = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *name;
  guint n_files = 0;

  g_assert_nonnull (root);
  dir_path = g_build_filename (root, "tests", "core", "layouts", NULL);
  dir = g_dir_open (dir_path, 0, NULL);
  g_assert_nonnull (dir);

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(KpConsolidator) consolidator = kp_consolidator_new (NULL);
      g_autoptr(JsonObject) result = NULL;
      g_autoptr(JsonNode) expected = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *text = NULL;
      JsonObject *answer, *boxes;
      JsonNode *node;

      if (!g_str_has_suffix (name, ".answer.json"))
        continue;

      path = g_build_filename (dir_path, name, NULL);
      json_parser_load_from_file (parser, path, &error);
      g_assert_no_error (error);
      node = json_parser_get_root (parser);
      if (!JSON_NODE_HOLDS_ARRAY (node) || json_array_get_length (json_node_get_array (node)) != 1 ||
          !JSON_NODE_HOLDS_OBJECT (json_array_get_element (json_node_get_array (node), 0)))
        continue;

      answer = json_array_get_object_element (json_node_get_array (node), 0);
      for (guint w = 0; w < 3; w++)
        {
          g_autofree char *worker = g_strdup_printf ("W%u", w);

          g_assert_true (kp_consolidator_add (consolidator, "H", worker, worker, answer, &error));
        }
      g_assert_true (kp_consolidator_run (consolidator, NULL, &error));
      g_assert_no_error (error);

      result = kp_consolidator_dup_result (consolidator, "H");
      g_assert_cmpfloat_with_epsilon (member_double (result, "Agreement"), 1, 1e-9);

      /* A copy of its own, to take initialValueModified out. */
      text = json_to_string (json_array_get_element (json_node_get_array (node), 0), FALSE);
      expected = json_from_string (text, &error);
      g_assert_no_error (error);
      boxes = json_object_get_member (json_node_get_object (expected), "boxes") != NULL
              ? json_object_get_object_member (json_node_get_object (expected), "boxes") : NULL;
      if (boxes != NULL)
        json_object_remove_member (boxes, "initialValueModified");

      if (!json_node_equal (json_object_get_member (result, "Answer"), expected))
        {
          g_autoptr(JsonNode) got = json_node_init_object (json_node_alloc (), member_object (result, "Answer"));
          g_autofree char *a = json_to_string (got, TRUE);
          g_autofree char *b = json_to_string (expected, TRUE);

          g_test_message ("%s: got %s, expected %s", name, a, b);
          g_test_fail ();
        }
      n_files++;
    }

  g_assert_cmpuint (n_files, >=, 8);
}

/* Answers from XML */

static void
test_answer_from_xml (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) crowd = NULL;
  g_autoptr(JsonObject) form = NULL;
  g_autoptr(JsonObject) empty = NULL;
  g_autoptr(JsonObject) bad = NULL;
  g_autofree char *crowd_json = NULL;
  const char *crowd_xml =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<QuestionFormAnswers xmlns=\"" ANSWERS_NS "\">"
    "<Answer><QuestionIdentifier>taskAnswers</QuestionIdentifier>"
    "<FreeText>[{&quot;animal&quot;:{&quot;label&quot;:&quot;Cat&quot;},"
    "&quot;boxes&quot;:{&quot;boundingBoxes&quot;:[{&quot;height&quot;:40,&quot;label&quot;:&quot;Car&quot;,"
    "&quot;left&quot;:10,&quot;top&quot;:20,&quot;width&quot;:30}],"
    "&quot;inputImageProperties&quot;:{&quot;height&quot;:480,&quot;width&quot;:640}}}]</FreeText>"
    "</Answer></QuestionFormAnswers>";
  const char *form_xml =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
    "<QuestionFormAnswers xmlns=\"" ANSWERS_NS "\">"
    "<Answer><QuestionIdentifier>stars</QuestionIdentifier>"
    "<SelectionIdentifier>s5</SelectionIdentifier>"
    "<OtherSelectionText>six</OtherSelectionText></Answer>"
    "<Answer><QuestionIdentifier>why</QuestionIdentifier><FreeText>nice light</FreeText></Answer>"
    "<Answer><QuestionIdentifier>photo</QuestionIdentifier>"
    "<UploadedFileSizeInBytes>70</UploadedFileSizeInBytes>"
    "<UploadedFileKey>k1</UploadedFileKey></Answer>"
    "</QuestionFormAnswers>";

  crowd = kp_answer_object_from_xml (crowd_xml, &error);
  g_assert_no_error (error);
  g_assert_nonnull (crowd);
  crowd_json = to_string (crowd);
  g_assert_cmpstr (json_object_get_string_member (member_object (crowd, "animal"), "label"), ==, "Cat");
  g_assert_cmpuint (json_array_get_length (member_array (member_object (crowd, "boxes"), "boundingBoxes")),
                    ==, 1);

  form = kp_answer_object_from_xml (form_xml, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (form, "why"), ==, "nice light");
  g_assert_cmpstr (json_array_get_string_element (member_array (form, "stars"), 0), ==, "s5");
  g_assert_cmpstr (json_object_get_string_member (form, "stars.other"), ==, "six");
  g_assert_cmpstr (json_object_get_string_member (form, "photo"), ==, "k1");

  empty = kp_answer_object_from_xml ("", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_object_get_size (empty), ==, 0);

  bad = kp_answer_object_from_xml ("<QuestionFormAnswers", &error);
  g_assert_null (bad);
  g_assert_nonnull (error);
}

static void
test_value_parse (void)
{
  g_autoptr(JsonNode) label = kp_answer_value_parse ("Cat");
  g_autoptr(JsonNode) object = kp_answer_value_parse (" {\"label\": \"Cat\"}");
  g_autoptr(JsonNode) array = kp_answer_value_parse ("[\"a\", \"b\"]");
  g_autoptr(JsonNode) broken = kp_answer_value_parse ("{not json");

  g_assert_cmpstr (json_node_get_string (label), ==, "Cat");
  g_assert_true (JSON_NODE_HOLDS_OBJECT (object));
  g_assert_true (JSON_NODE_HOLDS_ARRAY (array));
  g_assert_cmpstr (json_node_get_string (broken), ==, "{not json");
}

/* Scores */

static double
score (const char *answer,
       const char *known)
{
  g_autoptr(JsonObject) a = parse_object (answer);
  g_autoptr(JsonObject) k = parse_object (known);

  return kp_consolidate_score (a, k, NULL);
}

static void
test_score (void)
{
  /* Classification, with the known answer as a bare label. */
  g_assert_cmpfloat (score ("{\"e\": {\"label\": \"Cat\"}}", "{\"e\": \"Cat\"}"), ==, 1);
  g_assert_cmpfloat (score ("{\"e\": {\"label\": \"Dog\"}}", "{\"e\": \"Cat\"}"), ==, 0);
  g_assert_cmpfloat (score ("{\"e\": {\"label\": \"Cat\"}}", "{\"e\": {\"label\": \"Cat\"}}"), ==, 1);
  g_assert_cmpfloat (score ("{\"e\": [\"Cat\"]}", "{\"e\": \"Cat\"}"), ==, 1);
  /* Multi-label: Jaccard. */
  g_assert_cmpfloat_with_epsilon (score ("{\"e\": {\"labels\": [\"a\", \"b\"]}}",
                                         "{\"e\": {\"labels\": [\"b\", \"c\"]}}"), 1.0 / 3, 1e-12);
  /* Text, normalised. */
  g_assert_cmpfloat (score ("{\"e\": \"  New   YORK\"}", "{\"e\": \"new york\"}"), ==, 1);
  g_assert_cmpfloat (score ("{\"e\": \"Boston\"}", "{\"e\": \"new york\"}"), ==, 0);
  /* Numbers, as numbers or text. */
  g_assert_cmpfloat (score ("{\"e\": 42}", "{\"e\": \"42\"}"), ==, 1);
  g_assert_cmpfloat (score ("{\"e\": \"42.0\"}", "{\"e\": 42}"), ==, 1);
  g_assert_cmpfloat (score ("{\"e\": 43}", "{\"e\": 42}"), ==, 0);
  /* Checkboxes: share of keys alike (missing is false). */
  g_assert_cmpfloat_with_epsilon (score ("{\"e\": {\"a\": true, \"b\": true}}",
                                         "{\"e\": {\"a\": true, \"b\": false, \"c\": false}}"),
                                  2.0 / 3, 1e-12);
  /* Boxes: F1 at IoU 0.5. */
  g_assert_cmpfloat_with_epsilon (score ("{\"e\": {\"boundingBoxes\": ["
                                         "{\"label\": \"C\", \"left\": 0, \"top\": 0, \"width\": 10, \"height\": 10},"
                                         "{\"label\": \"C\", \"left\": 50, \"top\": 50, \"width\": 10, \"height\": 10}]}}",
                                         "{\"e\": {\"boundingBoxes\": ["
                                         "{\"label\": \"C\", \"left\": 1, \"top\": 0, \"width\": 10, \"height\": 10}]}}"),
                                  2.0 / 3, 1e-12);
  /* Keypoints: within keypoint_distance. */
  g_assert_cmpfloat (score ("{\"e\": {\"keypoints\": [{\"label\": \"K\", \"x\": 5, \"y\": 5}]}}",
                            "{\"e\": {\"keypoints\": [{\"label\": \"K\", \"x\": 10, \"y\": 10}]}}"), ==, 1);
  g_assert_cmpfloat (score ("{\"e\": {\"keypoints\": [{\"label\": \"K\", \"x\": 5, \"y\": 5}]}}",
                            "{\"e\": {\"keypoints\": [{\"label\": \"K\", \"x\": 50, \"y\": 10}]}}"), ==, 0);
  /* Segments. */
  g_assert_cmpfloat (score ("{\"e\": {\"segments\": [{\"label\": \"s\", \"startTime\": 1, \"endTime\": 2}]}}",
                            "{\"e\": {\"segments\": [{\"label\": \"s\", \"startTime\": 1.1, \"endTime\": 2}]}}"),
                     ==, 1);
  /* The mean over known elements; one unanswered scores 0. */
  g_assert_cmpfloat_with_epsilon (score ("{\"a\": {\"label\": \"x\"}}",
                                         "{\"a\": \"x\", \"b\": \"y\"}"), 0.5, 1e-12);
  /* Garbage answers score 0, never crash. */
  g_assert_cmpfloat (score ("{\"e\": {\"boundingBoxes\": [{\"label\": \"C\", \"left\": 0}]}}",
                            "{\"e\": {\"boundingBoxes\": []}}"), ==, 0);
  g_assert_cmpfloat (score ("{\"e\": 5}", "{\"e\": {\"labels\": [\"a\"]}}"), ==, 0);
}

/* End to end */

static JsonObject *
crowd_answer (const char *label,
              GArray     *boxes)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "animal");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "label");
  json_builder_add_string_value (b, label);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "boundingBox");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "boundingBoxes");
  json_builder_begin_array (b);
  for (guint i = 0; i < boxes->len; i++)
    {
      KpConsolidateBox *box = &g_array_index (boxes, KpConsolidateBox, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "height");
      json_builder_add_double_value (b, box->height);
      json_builder_set_member_name (b, "label");
      json_builder_add_string_value (b, box->label);
      json_builder_set_member_name (b, "left");
      json_builder_add_double_value (b, box->left);
      json_builder_set_member_name (b, "top");
      json_builder_add_double_value (b, box->top);
      json_builder_set_member_name (b, "width");
      json_builder_add_double_value (b, box->width);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "inputImageProperties");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, 480);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, 640);
  json_builder_end_object (b);
  json_builder_end_object (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  return json_object_ref (json_node_get_object (root));
}

/* 50 items × 5 workers: a classifier (3 classes; workers right with
 * probability 0.9, 0.85, 0.8, 0.75 and a spammer) and one box per item. */
static void
test_end_to_end (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (99);
  static const char * const classes[] = { "Cat", "Dog", "Bird" };
  static const double skill[] = { 0.9, 0.85, 0.8, 0.75, 0.0 };
  g_autoptr(KpConsolidator) consolidator = kp_consolidator_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) workers = NULL;
  guint truth[50], right = 0;
  double tl[50], tt[50];

  for (guint i = 0; i < 50; i++)
    {
      g_autofree char *item = g_strdup_printf ("HIT%02u", i);

      truth[i] = g_rand_int_range (rand, 0, 3);
      tl[i] = g_rand_double_range (rand, 0, 500);
      tt[i] = g_rand_double_range (rand, 0, 350);

      for (guint w = 0; w < 5; w++)
        {
          g_autofree char *worker = g_strdup_printf ("W%u", w);
          g_autofree char *assignment = g_strdup_printf ("A%02u-%u", i, w);
          g_autoptr(GArray) boxes = g_array_new (FALSE, FALSE, sizeof (KpConsolidateBox));
          g_autoptr(JsonObject) answer = NULL;
          guint label = truth[i];
          KpConsolidateBox b;

          if (w == 4)
            label = g_rand_int_range (rand, 0, 3);
          else if (g_rand_double (rand) >= skill[w])
            label = (truth[i] + g_rand_int_range (rand, 1, 3)) % 3;

          if (w == 4)
            {
              /* The spammer's box lands anywhere but on the animal. */
              KpConsolidateBox t = box ("Animal", tl[i], tt[i], 100, 80);

              do
                b = box ("Animal", g_rand_double_range (rand, 0, 500), g_rand_double_range (rand, 0, 350),
                         80, 60);
              while (kp_box_iou (&b, &t) > 0);
            }
          else
            b = box ("Animal", tl[i] + gaussian (rand), tt[i] + gaussian (rand), 100 + gaussian (rand),
                     80 + gaussian (rand));
          g_array_append_val (boxes, b);

          answer = crowd_answer (classes[label], boxes);
          g_assert_true (kp_consolidator_add (consolidator, item, worker, assignment, answer, &error));
          g_assert_no_error (error);
        }
    }

  g_assert_true (kp_consolidator_run (consolidator, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (kp_consolidator_get_n_items (consolidator), ==, 50);
  g_assert_cmpstr (kp_consolidator_get_item_id (consolidator, 7), ==, "HIT07");

  for (guint i = 0; i < 50; i++)
    {
      g_autofree char *item = g_strdup_printf ("HIT%02u", i);
      g_autoptr(JsonObject) result = kp_consolidator_dup_result (consolidator, item);
      JsonObject *answer, *elements, *animal, *boxes_element, *posteriors, *object;
      JsonArray *boxes, *assignments, *objects;
      KpConsolidateBox t = box ("Animal", tl[i], tt[i], 100, 80), got;
      double sum = 0, agreement_sum = 0;

      g_assert_nonnull (result);
      g_assert_cmpstr (json_object_get_string_member (result, "ItemId"), ==, item);
      g_assert_false (json_object_has_member (result, "Gold"));
      answer = member_object (result, "Answer");
      right += g_str_equal (json_object_get_string_member (member_object (answer, "animal"), "label"),
                            classes[truth[i]]);

      boxes = member_array (member_object (answer, "boundingBox"), "boundingBoxes");
      g_assert_cmpuint (json_array_get_length (boxes), ==, 1);
      object = json_array_get_object_element (boxes, 0);
      got = box (json_object_get_string_member (object, "label"),
                 json_object_get_int_member (object, "left"), json_object_get_int_member (object, "top"),
                 json_object_get_int_member (object, "width"), json_object_get_int_member (object, "height"));
      g_assert_cmpstr (got.label, ==, "Animal");
      g_assert_cmpfloat (kp_box_iou (&t, &got), >=, 0.9);
      g_assert_cmpint (json_object_get_int_member (member_object (member_object (answer, "boundingBox"),
                                                                  "inputImageProperties"), "width"), ==, 640);

      elements = member_object (result, "Elements");
      animal = member_object (elements, "animal");
      g_assert_cmpstr (json_object_get_string_member (animal, "Type"), ==, "classification");
      g_assert_cmpstr (json_object_get_string_member (animal, "Method"), ==, "dawid-skene");
      posteriors = member_object (animal, "Posteriors");
      g_assert_cmpuint (json_object_get_size (posteriors), ==, 3);
      for (guint k = 0; k < 3; k++)
        sum += member_double (posteriors, classes[k]);
      g_assert_cmpfloat_with_epsilon (sum, 1, 1e-6);
      g_assert_cmpfloat_with_epsilon (member_double (animal, "Confidence"),
                                      member_double (posteriors,
                                                     json_object_get_string_member (member_object (answer, "animal"),
                                                                                    "label")), 1e-9);

      boxes_element = member_object (elements, "boundingBox");
      g_assert_cmpstr (json_object_get_string_member (boxes_element, "Type"), ==, "boxes");
      g_assert_cmpstr (json_object_get_string_member (boxes_element, "Method"), ==, "iou-clustering");
      objects = member_array (boxes_element, "Objects");
      g_assert_cmpuint (json_array_get_length (objects), ==, 1);
      object = json_array_get_object_element (objects, 0);
      g_assert_cmpint (json_object_get_int_member (object, "support"), ==, 4);
      g_assert_cmpuint (json_array_get_length (member_array (object, "members")), ==, 4);
      g_assert_true (json_object_has_member (object, "confidence"));
      g_assert_true (json_object_has_member (object, "agreement"));
      g_assert_cmpfloat (member_double (object, "agreement"), >, 0.9);
      /* The spammer's box is the fifth assignment's, never a member. */
      for (guint m = 0; m < 4; m++)
        g_assert_false (g_str_has_suffix (json_object_get_string_member (json_array_get_object_element (member_array (object, "members"), m),
                                                                         "AssignmentId"), "-4"));
      /* Four of five assignments' boxes agree. */
      g_assert_cmpfloat_with_epsilon (member_double (boxes_element, "Agreement"), 0.8, 1e-9);

      assignments = member_array (result, "Assignments");
      g_assert_cmpuint (json_array_get_length (assignments), ==, 5);
      for (guint j = 0; j < 5; j++)
        {
          JsonObject *a = json_array_get_object_element (assignments, j);
          g_autofree char *worker = g_strdup_printf ("W%u", j);

          g_assert_cmpstr (json_object_get_string_member (a, "WorkerId"), ==, worker);
          g_assert_false (json_object_has_member (a, "GoldCorrect"));
          agreement_sum += member_double (a, "Agreement");
        }
      /* The item's agreement is the mean of the elements', which are the
       * means of the assignments'. */
      g_assert_cmpfloat_with_epsilon (member_double (result, "Agreement"), agreement_sum / 5, 1e-9);
      g_assert_cmpfloat_with_epsilon (member_double (result, "Agreement"),
                                      (member_double (animal, "Agreement") +
                                       member_double (boxes_element, "Agreement")) / 2, 1e-9);
      g_assert_cmpfloat_with_epsilon (member_double (result, "Confidence"),
                                      (member_double (animal, "Confidence") +
                                       member_double (boxes_element, "Confidence")) / 2, 1e-9);
    }

  g_test_message ("end to end: %u of 50 labels right", right);
  g_assert_cmpuint (right, >=, 44);

  workers = kp_consolidator_dup_workers (consolidator);
  g_assert_cmpuint (json_object_get_size (workers), ==, 5);
  for (guint w = 0; w < 5; w++)
    {
      g_autofree char *worker = g_strdup_printf ("W%u", w);
      JsonObject *ws = member_object (workers, worker);

      g_assert_cmpint (json_object_get_int_member (ws, "Assignments"), ==, 50);
      g_assert_cmpint (json_object_get_int_member (ws, "GoldAnswers"), ==, 0);
      g_assert_false (json_object_has_member (ws, "GoldAccuracy"));
      g_assert_cmpfloat (member_double (ws, "Accuracy"), >=, 0);
      g_assert_cmpfloat (member_double (ws, "Accuracy"), <=, 1);
    }
  /* The spammer ranks last on both counts. */
  for (guint w = 0; w < 4; w++)
    {
      g_autofree char *worker = g_strdup_printf ("W%u", w);

      g_assert_cmpfloat (member_double (member_object (workers, worker), "Accuracy"), >,
                         member_double (member_object (workers, "W4"), "Accuracy"));
      g_assert_cmpfloat (member_double (member_object (workers, worker), "Agreement"), >,
                         member_double (member_object (workers, "W4"), "Agreement"));
    }

  /* Results are deterministic. */
  {
    g_autoptr(JsonObject) a = kp_consolidator_dup_result (consolidator, "HIT03");
    g_autoptr(JsonObject) b = NULL;
    g_autofree char *sa = to_string (a);
    g_autofree char *sb = NULL;

    g_assert_true (kp_consolidator_run (consolidator, NULL, &error));
    b = kp_consolidator_dup_result (consolidator, "HIT03");
    sb = to_string (b);
    g_assert_cmpstr (sa, ==, sb);
  }

  g_assert_null (kp_consolidator_dup_result (consolidator, "no such HIT"));

  /* A result is the caller's own: changing it changes no later one. */
  {
    g_autoptr(JsonObject) a = kp_consolidator_dup_result (consolidator, "HIT05");
    g_autoptr(JsonObject) b = NULL;
    g_autoptr(JsonObject) w = kp_consolidator_dup_workers (consolidator);
    g_autoptr(JsonObject) w2 = NULL;

    json_object_set_string_member (a, "HITId", "HIT05");
    json_object_remove_member (member_object (a, "Answer"), "animal");
    json_object_set_int_member (member_object (w, "W0"), "Assignments", 7);
    b = kp_consolidator_dup_result (consolidator, "HIT05");
    w2 = kp_consolidator_dup_workers (consolidator);
    g_assert_false (json_object_has_member (b, "HITId"));
    g_assert_true (json_object_has_member (member_object (b, "Answer"), "animal"));
    g_assert_cmpint (json_object_get_int_member (member_object (w2, "W0"), "Assignments"), ==, 50);
  }
}

/* Gold */

static void
test_gold (void)
{
  g_autoptr(KpConsolidator) consolidator = kp_consolidator_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) workers = NULL;
  g_autoptr(JsonObject) gold_result = NULL;
  g_autoptr(JsonObject) plain_result = NULL;
  static const char * const classes[] = { "yes", "no" };

  /* 20 items; items 0–4 are gold with the known answer "yes". W0 and W1
   * are always right, W2 always says "no". */
  for (guint i = 0; i < 20; i++)
    {
      g_autofree char *item = g_strdup_printf ("H%02u", i);
      const char *truth = i < 5 ? "yes" : classes[i % 2];

      for (guint w = 0; w < 3; w++)
        {
          g_autofree char *worker = g_strdup_printf ("W%u", w);
          g_autofree char *assignment = g_strdup_printf ("A%02u%u", i, w);
          g_autofree char *json = g_strdup_printf ("{\"q\": {\"label\": \"%s\"}}", w == 2 ? "no" : truth);
          g_autoptr(JsonObject) answer = parse_object (json);

          g_assert_true (kp_consolidator_add (consolidator, item, worker, assignment, answer, &error));
        }

      if (i < 5)
        {
          g_autoptr(JsonObject) known = parse_object ("{\"q\": \"yes\"}");

          kp_consolidator_set_gold (consolidator, item, known);
        }
    }

  g_assert_true (kp_consolidator_run (consolidator, NULL, &error));
  g_assert_no_error (error);

  gold_result = kp_consolidator_dup_result (consolidator, "H02");
  plain_result = kp_consolidator_dup_result (consolidator, "H12");
  g_assert_true (json_object_get_boolean_member (gold_result, "Gold"));
  g_assert_false (json_object_has_member (plain_result, "Gold"));
  g_assert_cmpstr (json_object_get_string_member (member_object (member_object (gold_result, "Answer"), "q"),
                                                  "label"), ==, "yes");

  for (guint j = 0; j < 3; j++)
    {
      JsonObject *a = json_array_get_object_element (member_array (gold_result, "Assignments"), j);

      g_assert_cmpfloat (member_double (a, "GoldCorrect"), ==, j == 2 ? 0 : 1);
      g_assert_false (json_object_has_member (json_array_get_object_element (member_array (plain_result,
                                                                                           "Assignments"), j),
                                              "GoldCorrect"));
    }

  workers = kp_consolidator_dup_workers (consolidator);
  g_assert_cmpint (json_object_get_int_member (member_object (workers, "W0"), "GoldAnswers"), ==, 5);
  g_assert_cmpfloat (member_double (member_object (workers, "W0"), "GoldAccuracy"), ==, 1);
  g_assert_cmpfloat (member_double (member_object (workers, "W1"), "GoldAccuracy"), ==, 1);
  g_assert_cmpfloat (member_double (member_object (workers, "W2"), "GoldAccuracy"), ==, 0);
  g_assert_cmpfloat (member_double (member_object (workers, "W2"), "Accuracy"), <,
                     member_double (member_object (workers, "W0"), "Accuracy"));
}

/* Two workers who always disagree: only gold tells which one to trust.
 * With the gold items' labels fixed in EM, the consensus of every other
 * item follows the worker who is right on gold. */
static void
test_gold_decides (void)
{
  g_autoptr(KpConsolidator) consolidator = kp_consolidator_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) workers = NULL;
  static const char * const classes[] = { "a", "b" };

  for (guint i = 0; i < 30; i++)
    {
      g_autofree char *item = g_strdup_printf ("H%02u", i);
      /* W1 is right on gold (known "b"); elsewhere it says the class W0
       * does not. */
      const char *w1 = i < 10 ? "b" : classes[i % 2];
      const char *w0 = g_str_equal (w1, "a") ? "b" : "a";

      for (guint w = 0; w < 2; w++)
        {
          g_autofree char *worker = g_strdup_printf ("W%u", w);
          g_autofree char *assignment = g_strdup_printf ("A%02u%u", i, w);
          g_autofree char *json = g_strdup_printf ("{\"q\": {\"label\": \"%s\"}}", w == 0 ? w0 : w1);
          g_autoptr(JsonObject) answer = parse_object (json);

          g_assert_true (kp_consolidator_add (consolidator, item, worker, assignment, answer, &error));
        }

      if (i < 10)
        {
          g_autoptr(JsonObject) known = parse_object ("{\"q\": \"b\"}");

          kp_consolidator_set_gold (consolidator, item, known);
        }
    }

  g_assert_true (kp_consolidator_run (consolidator, NULL, &error));
  g_assert_no_error (error);

  for (guint i = 10; i < 30; i++)
    {
      g_autofree char *item = g_strdup_printf ("H%02u", i);
      g_autoptr(JsonObject) result = kp_consolidator_dup_result (consolidator, item);

      g_assert_cmpstr (json_object_get_string_member (member_object (member_object (result, "Answer"), "q"),
                                                      "label"), ==, classes[i % 2]);
    }

  workers = kp_consolidator_dup_workers (consolidator);
  g_assert_cmpfloat (member_double (member_object (workers, "W1"), "GoldAccuracy"), ==, 1);
  g_assert_cmpfloat (member_double (member_object (workers, "W0"), "GoldAccuracy"), ==, 0);
  g_assert_cmpfloat (member_double (member_object (workers, "W1"), "Accuracy"), >,
                     member_double (member_object (workers, "W0"), "Accuracy"));
}

/* Invalid input */

static const char * const garbage_keys[] = {
  "boundingBoxes", "polygons", "keypoints", "lines", "polylines", "segments", "tracks",
  "label", "labels", "left", "top", "width", "height", "vertices", "x", "y", "frames",
  "frame", "startTime", "endTime", "id", "inputImageProperties", "on",
};

static JsonNode *
random_node (GRand *rand,
             guint  depth)
{
  guint kind = g_rand_int_range (rand, 0, depth >= 4 ? 5 : 8);

  switch (kind)
    {
    case 0:
      return json_node_init_int (json_node_alloc (), g_rand_int_range (rand, -1000, 1000));
    case 1:
      {
        static const double odd[] = { 0, -0.0, 1e308, -1e308, 1e-320, 0.5, NAN, INFINITY };

        return json_node_init_double (json_node_alloc (), odd[g_rand_int_range (rand, 0, 8)]);
      }
    case 2:
      return json_node_init_string (json_node_alloc (),
                                    garbage_keys[g_rand_int_range (rand, 0, G_N_ELEMENTS (garbage_keys))]);
    case 3:
      return json_node_init_boolean (json_node_alloc (), g_rand_boolean (rand));
    case 4:
      return json_node_init_null (json_node_alloc ());
    case 5:
    case 6:
      {
        JsonObject *object = json_object_new ();
        guint n = g_rand_int_range (rand, 0, 7);
        JsonNode *node;

        for (guint i = 0; i < n; i++)
          json_object_set_member (object, garbage_keys[g_rand_int_range (rand, 0, G_N_ELEMENTS (garbage_keys))],
                                  random_node (rand, depth + 1));
        node = json_node_init_object (json_node_alloc (), object);
        json_object_unref (object);
        return node;
      }
    default:
      {
        JsonArray *array = json_array_new ();
        guint n = g_rand_int_range (rand, 0, 5);
        JsonNode *node;

        for (guint i = 0; i < n; i++)
          json_array_add_element (array, random_node (rand, depth + 1));
        node = json_node_init_array (json_node_alloc (), array);
        json_array_unref (array);
        return node;
      }
    }
}

/* Random structures built from the members the answers use, NaN and
 * infinities included: every run succeeds and reports every member. */
static void
test_random_garbage (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (4242);
  g_autoptr(KpConsolidator) consolidator = kp_consolidator_new (NULL);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 300; i++)
    {
      g_autofree char *item = g_strdup_printf ("H%u", i / 3);
      g_autofree char *worker = g_strdup_printf ("W%u", i % 3);
      g_autoptr(JsonObject) answer = json_object_new ();
      g_autoptr(JsonNode) known = NULL;

      for (guint e = 0; e < 3; e++)
        json_object_set_member (answer, garbage_keys[g_rand_int_range (rand, 0, 8)], random_node (rand, 1));
      g_assert_true (kp_consolidator_add (consolidator, item, worker, "A", answer, &error));
      g_assert_no_error (error);

      /* Scoring garbage against garbage stays within 0..1. */
      known = random_node (rand, 0);
      if (JSON_NODE_HOLDS_OBJECT (known))
        {
          double score = kp_consolidate_score (answer, json_node_get_object (known), NULL);

          g_assert_cmpfloat (score, >=, 0);
          g_assert_cmpfloat (score, <=, 1);
          if (i % 7 == 0)
            kp_consolidator_set_gold (consolidator, item, json_node_get_object (known));
        }
    }

  g_assert_true (kp_consolidator_run (consolidator, NULL, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < kp_consolidator_get_n_items (consolidator); i++)
    {
      g_autoptr(JsonObject) result = kp_consolidator_dup_result (consolidator,
                                                                 kp_consolidator_get_item_id (consolidator, i));
      double confidence = member_double (result, "Confidence");
      double agreement = member_double (result, "Agreement");

      g_assert_true (json_object_has_member (result, "Answer"));
      g_assert_true (json_object_has_member (result, "Elements"));
      g_assert_cmpuint (json_array_get_length (member_array (result, "Assignments")), ==, 3);
      g_assert_true (confidence >= 0 && confidence <= 1);
      g_assert_true (agreement >= 0 && agreement <= 1);
    }
}


static void
test_invalid (void)
{
  g_autoptr(KpConsolidator) consolidator = kp_consolidator_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) nan_root = NULL;
  g_autoptr(JsonObject) result = NULL;
  const char *garbage[] = {
    "{\"boxes\": {\"boundingBoxes\": [{\"label\": \"C\", \"left\": 0, \"top\": 0, \"width\": -5, \"height\": 10}]}}",
    "{\"boxes\": {\"boundingBoxes\": [{\"label\": \"C\", \"left\": 0}]}}",
    "{\"boxes\": {\"boundingBoxes\": \"many\"}}",
    "{\"boxes\": {\"boundingBoxes\": [{\"label\": 7, \"left\": 0, \"top\": 0, \"width\": 5, \"height\": 5}]}}",
    "{\"boxes\": {\"polygons\": [{\"label\": \"C\", \"vertices\": [{\"x\": 0, \"y\": 0}]}]}}",
    "{\"boxes\": {\"tracks\": [{\"label\": \"C\", \"frames\": []}]}}",
    "{\"boxes\": {\"segments\": [{\"label\": \"C\", \"startTime\": 5, \"endTime\": 1}]}}",
    "{\"boxes\": {\"keypoints\": [{\"label\": \"C\", \"x\": \"left\", \"y\": 1}]}}",
    "{\"boxes\": {\"boundingBoxes\": [{\"label\": \"C\", \"left\": 1e308, \"top\": 0, \"width\": 1e308, \"height\": 5}]}}",
    "{\"boxes\": {\"segments\": [{\"label\": \"C\", \"startTime\": -1e300, \"endTime\": 1e300}]}}",
    "{\"boxes\": [[[]]]}",
    "{\"boxes\": null}",
  };

  g_assert_false (kp_consolidator_add (consolidator, "H1", "W0", "A0", NULL, &error));
  g_assert_error (error, KP_CONSOLIDATE_ERROR, KP_CONSOLIDATE_ERROR_INVALID);
  g_clear_error (&error);

  /* A box with NaN coordinates, as only code (not JSON text) can make it. */
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "boxes");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "boundingBoxes");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "label");
  json_builder_add_string_value (builder, "C");
  json_builder_set_member_name (builder, "left");
  json_builder_add_double_value (builder, NAN);
  json_builder_set_member_name (builder, "top");
  json_builder_add_double_value (builder, 0);
  json_builder_set_member_name (builder, "width");
  json_builder_add_double_value (builder, 10);
  json_builder_set_member_name (builder, "height");
  json_builder_add_double_value (builder, INFINITY);
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  nan_root = json_builder_get_root (builder);
  g_assert_true (kp_consolidator_add (consolidator, "H1", "W0", "A0",
                                      json_node_get_object (nan_root), &error));

  for (guint i = 0; i < G_N_ELEMENTS (garbage); i++)
    {
      g_autoptr(JsonObject) answer = parse_object (garbage[i]);
      g_autofree char *worker = g_strdup_printf ("W%u", i + 1);

      g_assert_true (kp_consolidator_add (consolidator, "H1", worker, "A", answer, &error));
      g_assert_no_error (error);
    }

  g_assert_true (kp_consolidator_run (consolidator, NULL, &error));
  g_assert_no_error (error);
  result = kp_consolidator_dup_result (consolidator, "H1");
  g_assert_cmpstr (element_type (result, "boxes"), ==, "unsupported");
  g_assert_cmpuint (json_array_get_length (member_array (result, "Assignments")), ==, 13);

  /* One good answer among garbage: the type is the good answer's, and
   * the garbage agrees with nothing. */
  {
    g_autoptr(KpConsolidator) c2 = kp_consolidator_new (NULL);
    g_autoptr(JsonObject) good = parse_object ("{\"boxes\": {\"boundingBoxes\": [{\"label\": \"C\", "
                                               "\"left\": 0, \"top\": 0, \"width\": 5, \"height\": 5}]}}");
    g_autoptr(JsonObject) bad = parse_object (garbage[0]);
    g_autoptr(JsonObject) r2 = NULL;
    JsonArray *assignments;

    g_assert_true (kp_consolidator_add (c2, "H", "W0", "A0", good, NULL));
    g_assert_true (kp_consolidator_add (c2, "H", "W1", "A1", good, NULL));
    g_assert_true (kp_consolidator_add (c2, "H", "W2", "A2", bad, NULL));
    g_assert_true (kp_consolidator_run (c2, NULL, NULL));
    r2 = kp_consolidator_dup_result (c2, "H");
    g_assert_cmpstr (element_type (r2, "boxes"), ==, "boxes");
    assignments = member_array (r2, "Assignments");
    g_assert_cmpfloat (member_double (json_array_get_object_element (assignments, 0), "Agreement"), ==, 1);
    g_assert_cmpfloat (member_double (json_array_get_object_element (assignments, 2), "Agreement"), ==, 0);
  }

  /* Empty answers and an empty batch. */
  {
    g_autoptr(KpConsolidator) c3 = kp_consolidator_new (NULL);
    g_autoptr(JsonObject) empty = json_object_new ();
    g_autoptr(JsonObject) r3 = NULL;
    g_autoptr(JsonObject) w3 = NULL;

    g_assert_true (kp_consolidator_run (c3, NULL, NULL));
    g_assert_cmpuint (kp_consolidator_get_n_items (c3), ==, 0);
    g_assert_true (kp_consolidator_add (c3, "H", "W0", "A0", empty, NULL));
    g_assert_true (kp_consolidator_run (c3, NULL, NULL));
    r3 = kp_consolidator_dup_result (c3, "H");
    g_assert_cmpuint (json_object_get_size (member_object (r3, "Answer")), ==, 0);
    w3 = kp_consolidator_dup_workers (c3);
    g_assert_true (json_object_has_member (w3, "W0"));
  }
}

static void
test_cancelled (void)
{
  g_autoptr(KpConsolidator) consolidator = kp_consolidator_new (NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(JsonObject) answer = parse_object ("{\"q\": {\"label\": \"a\"}}");
  g_autoptr(GError) error = NULL;

  g_assert_true (kp_consolidator_add (consolidator, "H", "W", "A", answer, NULL));
  g_cancellable_cancel (cancellable);
  g_assert_false (kp_consolidator_run (consolidator, cancellable, &error));
  g_assert_error (error, KP_CONSOLIDATE_ERROR, KP_CONSOLIDATE_ERROR_CANCELLED);
  g_assert_null (kp_consolidator_dup_result (consolidator, "H"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/consolidate/box-iou", test_box_iou);
  g_test_add_func ("/consolidate/greedy-vs-hungarian", test_greedy_vs_hungarian);
  g_test_add_func ("/consolidate/hungarian-optimal", test_hungarian_optimal);
  g_test_add_func ("/consolidate/boxes/hungarian", test_simulated_boxes_hungarian);
  g_test_add_func ("/consolidate/boxes/greedy", test_simulated_boxes_greedy);
  g_test_add_func ("/consolidate/polygon-iou", test_polygon_iou);
  g_test_add_func ("/consolidate/polygons", test_simulated_polygons);
  g_test_add_func ("/consolidate/keypoints", test_simulated_keypoints);
  g_test_add_func ("/consolidate/lines", test_lines);
  g_test_add_func ("/consolidate/segments", test_simulated_segments);
  g_test_add_func ("/consolidate/tracks", test_simulated_tracks);
  g_test_add_func ("/consolidate/text", test_text);
  g_test_add_func ("/consolidate/checkboxes", test_checkboxes_and_unsupported);
  g_test_add_func ("/consolidate/answer-shapes", test_answer_shapes);
  g_test_add_func ("/consolidate/layout-answers", test_layout_answers);
  g_test_add_func ("/consolidate/answer-from-xml", test_answer_from_xml);
  g_test_add_func ("/consolidate/value-parse", test_value_parse);
  g_test_add_func ("/consolidate/score", test_score);
  g_test_add_func ("/consolidate/end-to-end", test_end_to_end);
  g_test_add_func ("/consolidate/gold", test_gold);
  g_test_add_func ("/consolidate/gold-decides", test_gold_decides);
  g_test_add_func ("/consolidate/invalid", test_invalid);
  g_test_add_func ("/consolidate/random-garbage", test_random_garbage);
  g_test_add_func ("/consolidate/cancelled", test_cancelled);

  return g_test_run ();
}
