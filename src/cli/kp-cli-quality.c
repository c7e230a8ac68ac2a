/* kp-cli-quality.c: kempelenctl batch consolidate | scores
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The assignments of a batch are fetched through the MTurk API (so that
 * this works against MTurk itself too) and consolidated here, by the
 * core's KpConsolidator — the code kempelen-server's ConsolidateBatch
 * and the review desk run, so the three agree. Gold rows (batch create
 * --gold) are given to the consolidator with their known answers: they
 * fix each worker's quality, and are left out of the results unless
 * asked for. docs/batches.md is the user's reference.
 */

#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "kp-core.h"
#include "kp-cli-batch-private.h"

#define EXIT_USAGE 2

typedef struct
{
  KpConsolidator *consolidator;
  GHashTable     *rows;          /* HIT id → row (borrowed from the batch) */
  GPtrArray      *works;         /* KpBatchWork *, every state */
} Consolidation;

static void
consolidation_clear (Consolidation *self)
{
  g_clear_pointer (&self->consolidator, kp_consolidator_free);
  g_clear_pointer (&self->rows, g_hash_table_unref);
  g_clear_pointer (&self->works, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Consolidation, consolidation_clear)

/* --method, --iou and --quorum as options, or FALSE with *status set. */
static gboolean
parse_options (const char           *command,
               const char           *method_name,
               double                iou,
               gint64                quorum,
               KpConsolidateOptions *options,
               int                  *status)
{
  KpConsensusMethod method = KP_CONSENSUS_DAWID_SKENE;

  if (method_name != NULL && !kp_consensus_method_from_string (method_name, &method))
    {
      *status = kp_batch_usage_error (command, _("Unknown --method “%s”; use dawid-skene, "
                                                 "one-coin or majority"), method_name);
      return FALSE;
    }
  if (!(iou > 0.0 && iou <= 1.0))
    {
      *status = kp_batch_usage_error (command, _("--iou takes a number above 0 and at most 1"));
      return FALSE;
    }
  if (quorum < 0 || quorum > 1000)
    {
      *status = kp_batch_usage_error (command, _("--quorum takes a number of workers, 0 for a "
                                                 "strict majority"));
      return FALSE;
    }

  kp_consolidate_options_init (options);
  options->method = method;
  kp_consensus_options_init (&options->consensus, method);
  options->iou_threshold = iou;
  options->quorum = (guint)quorum;
  return TRUE;
}

/* Fetches the batch's Submitted and Approved assignments (and the
 * Rejected ones of gold HITs) and consolidates them, the gold rows with
 * their known answers. */
static gboolean
consolidation_run (Consolidation              *self,
                   KpBatchSession             *session,
                   const KpConsolidateOptions *options,
                   GError                    **error)
{
  JsonArray *rows = json_object_get_array_member (session->batch, "rows");

  self->works = kp_batch_list_work (session->client, session->batch, error);
  if (self->works == NULL)
    return FALSE;

  self->consolidator = kp_consolidator_new (options);
  self->rows = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *row = json_array_get_object_element (rows, i);
      const char *hit_id = kp_batch_get_string (row, "hit_id");

      if (hit_id != NULL)
        g_hash_table_insert (self->rows, (gpointer)hit_id, row);
    }

  for (guint i = 0; i < self->works->len; i++)
    {
      KpBatchWork *work = g_ptr_array_index (self->works, i);
      const char *state = kp_batch_get_string (work->assignment, "AssignmentStatus");
      const char *hit_id = kp_batch_get_string (work->row, "hit_id");

      /* A gold HIT's assignment rejected by its review policy still tells
       * how the worker did on gold. */
      if (g_strcmp0 (state, "Submitted") != 0 && g_strcmp0 (state, "Approved") != 0 &&
          !(g_strcmp0 (state, "Rejected") == 0 && kp_batch_row_is_gold (work->row)))
        continue;
      if (!JSON_NODE_HOLDS_OBJECT (work->answer))
        continue;
      if (!kp_consolidator_add (self->consolidator, hit_id,
                                kp_batch_get_string (work->assignment, "WorkerId"),
                                kp_batch_get_string (work->assignment, "AssignmentId"),
                                json_node_get_object (work->answer), error))
        return FALSE;
    }

  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *row = json_array_get_object_element (rows, i);
      JsonNode *known = json_object_get_member (row, "known");

      if (kp_batch_row_is_gold (row) && kp_batch_get_string (row, "hit_id") != NULL &&
          known != NULL && JSON_NODE_HOLDS_OBJECT (known))
        kp_consolidator_set_gold (self->consolidator, kp_batch_get_string (row, "hit_id"),
                                  json_node_get_object (known));
    }

  return kp_consolidator_run (self->consolidator, NULL, error);
}

static double
get_double (JsonObject *object,
            const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  if (node == NULL || JSON_NODE_TYPE (node) != JSON_NODE_VALUE)
    return NAN;
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return (double)json_node_get_int (node);
  if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    return json_node_get_double (node);
  return NAN;
}

static JsonObject *
get_object (JsonObject *object,
            const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static JsonArray *
get_array (JsonObject *object,
           const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

/* The results to write: one per row with a HIT and consolidated answers,
 * in the rows' order; gold rows only with include_gold. */
static GPtrArray *
dup_results (Consolidation *self,
             JsonObject    *batch,
             gboolean       include_gold)
{
  GPtrArray *results = g_ptr_array_new_with_free_func ((GDestroyNotify)json_object_unref);
  g_autoptr(GHashTable) consolidated = g_hash_table_new (g_str_hash, g_str_equal);
  JsonArray *rows = json_object_get_array_member (batch, "rows");

  for (guint i = 0; i < kp_consolidator_get_n_items (self->consolidator); i++)
    g_hash_table_add (consolidated,
                      (gpointer)kp_consolidator_get_item_id (self->consolidator, i));

  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *row = json_array_get_object_element (rows, i);
      const char *hit_id = kp_batch_get_string (row, "hit_id");
      JsonObject *result;

      if (hit_id == NULL || !g_hash_table_contains (consolidated, hit_id))
        continue;
      if (kp_batch_row_is_gold (row) && !include_gold)
        continue;

      result = kp_consolidator_dup_result (self->consolidator, hit_id);
      if (result != NULL)
        g_ptr_array_add (results, result);
    }

  return results;
}

static JsonObject *
result_row (Consolidation *self,
            JsonObject    *result)
{
  return g_hash_table_lookup (self->rows, kp_batch_get_string (result, "ItemId"));
}

/* jsonl: each RESULT, plus the row's number and input. */
static GString *
format_jsonl (Consolidation *self,
              GPtrArray     *results)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < results->len; i++)
    {
      JsonObject *result = g_ptr_array_index (results, i);
      JsonObject *row = result_row (self, result);

      json_object_set_int_member (result, "Row", kp_batch_get_int (row, "row"));
      json_object_set_member (result, "input",
                              json_node_copy (json_object_get_member (row, "input")));
      kp_batch_write_line (out, result);
    }

  return out;
}

/* gt-manifest */

/* The element the label attribute holds: --element, else the first
 * classification, multi-label or boxes element of the results. */
static const char *
find_label_element (GPtrArray  *results,
                    const char *wanted)
{
  for (guint i = 0; i < results->len; i++)
    {
      JsonObject *elements = get_object (g_ptr_array_index (results, i), "Elements");
      g_autoptr(GList) names = elements != NULL ? json_object_get_members (elements) : NULL;

      for (GList *l = names; l != NULL; l = l->next)
        {
          const char *type = kp_batch_get_string (get_object (elements, l->data), "Type");

          if (wanted != NULL ? g_str_equal (wanted, l->data)
                             : (g_strcmp0 (type, "classification") == 0 ||
                                g_strcmp0 (type, "multi-label") == 0 ||
                                g_strcmp0 (type, "boxes") == 0))
            return l->data;
        }
    }

  return NULL;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char * const *)a, *(const char * const *)b);
}

/* The classes of a classifier element, in the layout's order (batches
 * made before "categories" was recorded: every class seen, sorted). */
static GPtrArray *
dup_classes (JsonObject *batch,
             GPtrArray  *results,
             const char *element)
{
  GPtrArray *classes = g_ptr_array_new_with_free_func (g_free);
  JsonArray *known = get_array (get_object (batch, "categories"), element);

  if (known == NULL && g_strcmp0 (kp_batch_get_string (get_object (batch, "bounding_box"), "name"),
                                  element) == 0)
    known = get_array (get_object (batch, "bounding_box"), "labels");

  if (known != NULL)
    {
      for (guint i = 0; i < json_array_get_length (known); i++)
        g_ptr_array_add (classes, g_strdup (json_array_get_string_element (known, i)));
      return classes;
    }

  for (guint i = 0; i < results->len; i++)
    {
      JsonObject *details = get_object (get_object (g_ptr_array_index (results, i), "Elements"),
                                        element);
      JsonObject *map = get_object (details, "Posteriors");
      g_autoptr(GList) names = NULL;

      if (map == NULL)
        map = get_object (details, "Probabilities");
      names = map != NULL ? json_object_get_members (map) : NULL;
      for (GList *l = names; l != NULL; l = l->next)
        if (!g_ptr_array_find_with_equal_func (classes, l->data, g_str_equal, NULL))
          g_ptr_array_add (classes, g_strdup (l->data));
    }
  g_ptr_array_sort (classes, compare_names);
  return classes;
}

static gint64
class_index (GPtrArray  *classes,
             const char *name)
{
  guint index;

  if (name != NULL && g_ptr_array_find_with_equal_func (classes, name, g_str_equal, &index))
    return index;
  return -1;
}

static JsonObject *
new_class_map (GPtrArray *classes)
{
  JsonObject *map = json_object_new ();

  for (guint i = 0; i < classes->len; i++)
    {
      g_autofree char *key = g_strdup_printf ("%u", i);

      json_object_set_string_member (map, key, g_ptr_array_index (classes, i));
    }

  return map;
}

/* The label of a classification answer: {"label": L} or L. */
static const char *
answer_label (JsonNode *value)
{
  if (value == NULL)
    return NULL;
  if (JSON_NODE_HOLDS_OBJECT (value))
    return kp_batch_get_string (json_node_get_object (value), "label");
  if (JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING)
    return json_node_get_string (value);
  return NULL;
}

/* An answer's inputImageProperties: of value (an element's answer), else
 * of any element of a worker's answer to row. */
static JsonObject *
find_image_properties (Consolidation *self,
                       JsonObject    *row,
                       JsonNode      *value)
{
  JsonNode *properties = value != NULL ? kp_batch_lookup_path (value, "inputImageProperties")
                                       : NULL;

  if (properties != NULL && JSON_NODE_HOLDS_OBJECT (properties))
    return json_node_get_object (properties);

  for (guint i = 0; i < self->works->len; i++)
    {
      KpBatchWork *work = g_ptr_array_index (self->works, i);
      g_autoptr(GList) elements = NULL;

      if (work->row != row || !JSON_NODE_HOLDS_OBJECT (work->answer))
        continue;
      elements = json_object_get_values (json_node_get_object (work->answer));
      for (GList *l = elements; l != NULL; l = l->next)
        {
          properties = JSON_NODE_HOLDS_OBJECT (l->data)
                       ? kp_batch_lookup_path (l->data, "inputImageProperties") : NULL;
          if (properties != NULL && JSON_NODE_HOLDS_OBJECT (properties))
            return json_node_get_object (properties);
        }
    }

  return NULL;
}

static void
find_image_size (Consolidation *self,
                 JsonObject    *row,
                 JsonNode      *value,
                 gint64        *width,
                 gint64        *height)
{
  JsonObject *properties = find_image_properties (self, row, value);

  if (properties != NULL)
    {
      *width = kp_batch_get_int (properties, "width");
      *height = kp_batch_get_int (properties, "height");
    }
}

/* Ground Truth's source-ref: the input's own, else the row's image (a
 * crowd-bounding-box's src), else the first column holding a URL. */
static const char *
find_source (JsonObject *row)
{
  JsonObject *input = get_object (row, "input");
  g_autoptr(GList) names = NULL;

  if (kp_batch_get_string (input, "source-ref") != NULL)
    return kp_batch_get_string (input, "source-ref");
  if (kp_batch_get_string (row, "image") != NULL)
    return kp_batch_get_string (row, "image");

  names = json_object_get_members (input);
  for (GList *l = names; l != NULL; l = l->next)
    {
      const char *value = kp_batch_get_string (input, l->data);

      if (value != NULL && (g_str_has_prefix (value, "s3://") ||
                            g_str_has_prefix (value, "https://") ||
                            g_str_has_prefix (value, "http://")))
        return value;
    }

  return NULL;
}

/* A SageMaker Ground Truth output manifest: per row the input columns,
 * the consolidated label under label and "label-metadata", in the shapes
 * of Ground Truth's image classification (single and multi-label) and
 * bounding box jobs. */
static gboolean
format_gt_manifest (Consolidation  *self,
                    JsonObject     *batch,
                    GPtrArray      *results,
                    const char     *label,
                    const char     *element_wanted,
                    const char     *job_name,
                    GString       **out,
                    GError        **error)
{
  g_autofree char *metadata_name = g_strconcat (label, "-metadata", NULL);
  g_autofree char *job = g_strconcat ("labeling-job/", job_name, NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *created = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S.%f");
  g_autoptr(GPtrArray) classes = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  const char *element = find_label_element (results, element_wanted);
  const char *type = NULL;

  if (results->len == 0)
    {
      *out = g_steal_pointer (&text);
      return TRUE;
    }
  if (element == NULL)
    {
      if (element_wanted != NULL)
        g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                     _("The batch’s answers have no element “%s”"), element_wanted);
      else
        g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                     _("gt-manifest writes a classification, multi-label or bounding box "
                       "answer, and the batch’s answers have none"));
      return FALSE;
    }
  classes = dup_classes (batch, results, element);

  for (guint i = 0; i < results->len; i++)
    {
      JsonObject *result = g_ptr_array_index (results, i);
      JsonObject *row = result_row (self, result);
      JsonObject *input = get_object (row, "input");
      JsonObject *details = get_object (get_object (result, "Elements"), element);
      JsonNode *value = kp_batch_lookup_path (json_object_get_member (result, "Answer"), element);
      g_autoptr(JsonObject) line = json_object_new ();
      g_autoptr(GList) columns = json_object_get_members (input);
      JsonObject *metadata;
      const char *source = find_source (row);
      double confidence = get_double (details, "Confidence");

      if (details == NULL)
        continue;
      type = kp_batch_get_string (details, "Type");

      for (GList *l = columns; l != NULL; l = l->next)
        json_object_set_string_member (line, l->data, kp_batch_get_string (input, l->data));
      if (source != NULL)
        json_object_set_string_member (line, "source-ref", source);

      metadata = json_object_new ();
      if (g_strcmp0 (type, "classification") == 0)
        {
          const char *name = answer_label (value);
          gint64 index = class_index (classes, name);

          if (index < 0)
            {
              json_object_unref (metadata);
              continue;
            }
          json_object_set_int_member (line, label, index);
          json_object_set_string_member (metadata, "class-name", name);
          json_object_set_double_member (metadata, "confidence",
                                         isnan (confidence) ? 0.0 : confidence);
          json_object_set_string_member (metadata, "type", "groundtruth/image-classification");
        }
      else if (g_strcmp0 (type, "multi-label") == 0)
        {
          JsonArray *indices = json_array_new ();
          JsonObject *class_map = json_object_new ();
          JsonObject *confidences = json_object_new ();
          JsonObject *probabilities = get_object (details, "Probabilities");
          JsonNode *labels = value != NULL ? kp_batch_lookup_path (value, "labels") : NULL;

          for (guint j = 0; labels != NULL && JSON_NODE_HOLDS_ARRAY (labels) &&
                            j < json_array_get_length (json_node_get_array (labels)); j++)
            {
              const char *name = json_array_get_string_element (json_node_get_array (labels), j);
              gint64 index = class_index (classes, name);
              g_autofree char *key = g_strdup_printf ("%" G_GINT64_FORMAT, index);
              double p = get_double (probabilities, name);

              if (index < 0)
                continue;
              json_array_add_int_element (indices, index);
              json_object_set_string_member (class_map, key, name);
              json_object_set_double_member (confidences, key, isnan (p) ? 0.0 : p);
            }
          json_object_set_array_member (line, label, indices);
          json_object_set_object_member (metadata, "class-map", class_map);
          json_object_set_object_member (metadata, "confidence-map", confidences);
          json_object_set_string_member (metadata, "type",
                                         "groundtruth/image-classification-multilabel");
        }
      else if (g_strcmp0 (type, "boxes") == 0)
        {
          JsonObject *labels = json_object_new ();
          JsonArray *size = json_array_new ();
          JsonObject *size_object = json_object_new ();
          JsonArray *annotations = json_array_new ();
          JsonArray *objects = json_array_new ();
          JsonArray *consolidated = get_array (details, "Objects");
          JsonNode *boxes = value != NULL ? kp_batch_lookup_path (value, "boundingBoxes") : NULL;
          gint64 width = 0, height = 0;

          find_image_size (self, row, value, &width, &height);
          json_object_set_int_member (size_object, "width", width);
          json_object_set_int_member (size_object, "height", height);
          json_object_set_int_member (size_object, "depth", 3);
          json_array_add_object_element (size, size_object);

          for (guint j = 0; boxes != NULL && JSON_NODE_HOLDS_ARRAY (boxes) &&
                            j < json_array_get_length (json_node_get_array (boxes)); j++)
            {
              JsonObject *box = json_array_get_object_element (json_node_get_array (boxes), j);
              JsonObject *annotation;
              JsonObject *object;
              gint64 index = class_index (classes, kp_batch_get_string (box, "label"));
              double c = consolidated != NULL && j < json_array_get_length (consolidated)
                         ? get_double (json_array_get_object_element (consolidated, j),
                                       "confidence")
                         : NAN;

              if (index < 0)
                continue;
              annotation = json_object_new ();
              json_object_set_int_member (annotation, "class_id", index);
              json_object_set_int_member (annotation, "left", llround (get_double (box, "left")));
              json_object_set_int_member (annotation, "top", llround (get_double (box, "top")));
              json_object_set_int_member (annotation, "width", llround (get_double (box, "width")));
              json_object_set_int_member (annotation, "height",
                                          llround (get_double (box, "height")));
              json_array_add_object_element (annotations, annotation);
              object = json_object_new ();
              json_object_set_double_member (object, "confidence", isnan (c) ? 0.0 : c);
              json_array_add_object_element (objects, object);
            }
          json_object_set_array_member (labels, "image_size", size);
          json_object_set_array_member (labels, "annotations", annotations);
          json_object_set_object_member (line, label, labels);
          json_object_set_array_member (metadata, "objects", objects);
          json_object_set_object_member (metadata, "class-map", new_class_map (classes));
          json_object_set_string_member (metadata, "type", "groundtruth/object-detection");
        }
      else
        {
          json_object_unref (metadata);
          continue;
        }

      json_object_set_string_member (metadata, "job-name", job);
      json_object_set_string_member (metadata, "human-annotated", "yes");
      json_object_set_string_member (metadata, "creation-date", created);
      json_object_set_object_member (line, metadata_name, metadata);
      kp_batch_write_line (text, line);
    }

  *out = g_steal_pointer (&text);
  return TRUE;
}

/* coco, voc, yolo: the consolidated answer of each HIT as if it were one
 * worker's, each box with its confidence. */
static GPtrArray *
collect_images (Consolidation  *self,
                JsonObject     *batch,
                GPtrArray      *results,
                gboolean        include_gold,
                GError        **error)
{
  g_autoptr(GPtrArray) images = kp_batch_images_new (batch, include_gold, error);
  const char *box_name = kp_batch_get_string (get_object (batch, "bounding_box"), "name");
  g_autoptr(GHashTable) by_row = g_hash_table_new (NULL, NULL);

  if (images == NULL)
    return NULL;
  for (guint i = 0; i < images->len; i++)
    {
      KpBatchImage *image = g_ptr_array_index (images, i);

      g_hash_table_insert (by_row, image->row, image);
    }

  for (guint i = 0; i < results->len; i++)
    {
      JsonObject *result = g_ptr_array_index (results, i);
      JsonObject *row = result_row (self, result);
      KpBatchImage *image = g_hash_table_lookup (by_row, row);
      JsonObject *details = get_object (get_object (result, "Elements"), box_name);

      if (image == NULL)
        continue;
      kp_batch_image_add_answer (image, batch, json_object_get_member (result, "Answer"), NULL,
                                 NULL, get_array (details, "Objects"));
      if (image->width <= 0 || image->height <= 0)
        find_image_size (self, row,
                         kp_batch_lookup_path (json_object_get_member (result, "Answer"), box_name),
                         &image->width, &image->height);
    }

  return g_steal_pointer (&images);
}

int
kp_batch_run_consolidate (int    argc,
                          char **argv)
{
  g_auto(KpBatchSession) session = { 0 };
  g_auto(Consolidation) consolidation = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GString) out = NULL;
  g_autofree char *method = NULL;
  g_autofree char *format = NULL;
  g_autofree char *output = NULL;
  g_autofree char *label = NULL;
  g_autofree char *job_name = NULL;
  g_autofree char *element = NULL;
  KpConsolidateOptions options;
  const char *batch_id = NULL;
  double iou = 0.5;
  gint64 quorum = 0;
  gboolean include_gold = FALSE;
  guint n_written;
  int status = EXIT_SUCCESS;
  const GOptionEntry entries[] = {
    { "method", 'm', 0, G_OPTION_ARG_STRING, &method,
      N_("How classification answers are combined: dawid-skene (the default), one-coin or "
         "majority"), N_("METHOD") },
    { "iou", 0, 0, G_OPTION_ARG_DOUBLE, &iou,
      N_("Shapes of different workers overlapping at least this much are one object "
         "(default 0.5)"), N_("IOU") },
    { "quorum", 0, 0, G_OPTION_ARG_INT64, &quorum,
      N_("Workers who must agree on a shape for it to be kept (default: a strict majority)"),
      N_("N") },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format,
      N_("jsonl (the default), gt-manifest, or for crowd-bounding-box answers coco (a .json "
         "file), voc or yolo (folders)"), N_("FORMAT") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      N_("Where to write (default: standard output; a folder for voc and yolo)"), N_("PATH") },
    { "label-attribute", 0, 0, G_OPTION_ARG_STRING, &label,
      N_("gt-manifest: the label attribute name (default: the element’s name)"), N_("NAME") },
    { "element", 0, 0, G_OPTION_ARG_STRING, &element,
      N_("gt-manifest: the answer element written (default: the first classifier or "
         "bounding box)"), N_("NAME") },
    { "job-name", 0, 0, G_OPTION_ARG_STRING, &job_name,
      N_("gt-manifest: the job name (default: the batch id)"), N_("NAME") },
    { "include-gold", 0, 0, G_OPTION_ARG_NONE, &include_gold,
      N_("Write the gold questions’ results too"), NULL },
    { NULL }
  };

  if (!kp_batch_parse_command ("consolidate",
                               _("Turns the answers of each HIT of a batch into one, with its "
                                 "confidence: classification by Dawid–Skene, one-coin or "
                                 "majority vote over the whole batch, shapes by clustering. "
                                 "Gold questions score the workers and are left out."),
                               entries, &argc, &argv, &batch_id, &status))
    return status;

  if (format == NULL)
    format = g_strdup ("jsonl");
  if (!g_str_equal (format, "jsonl") && !g_str_equal (format, "gt-manifest") &&
      !g_str_equal (format, "coco") && !g_str_equal (format, "voc") &&
      !g_str_equal (format, "yolo"))
    return kp_batch_usage_error ("consolidate", _("Unknown format “%s”; use jsonl, gt-manifest, "
                                                  "coco, voc or yolo"), format);
  if ((g_str_equal (format, "voc") || g_str_equal (format, "yolo")) && output == NULL)
    return kp_batch_usage_error ("consolidate",
                                 _("voc and yolo write a folder: give it with --output"));
  if (label != NULL && (label[0] == '\0' || g_str_has_suffix (label, "-metadata") ||
                        g_str_has_suffix (label, "-ref")))
    return kp_batch_usage_error ("consolidate", _("--label-attribute cannot be empty or end "
                                                  "with -metadata or -ref"));
  if (!parse_options ("consolidate", method, iou, quorum, &options, &status))
    return status;

  if (!kp_batch_session_open (&session, batch_id, &error) ||
      !consolidation_run (&consolidation, &session, &options, &error))
    return kp_batch_fail (error);

  results = dup_results (&consolidation, session.batch, include_gold);

  if (g_str_equal (format, "jsonl"))
    out = format_jsonl (&consolidation, results);
  else if (g_str_equal (format, "gt-manifest"))
    {
      const char *name = find_label_element (results, element);

      if (!format_gt_manifest (&consolidation, session.batch, results,
                               label != NULL ? label : name != NULL ? name : "label", element,
                               job_name != NULL ? job_name
                                                : kp_batch_get_string (session.batch, "id"),
                               &out, &error))
        return kp_batch_fail (error);
    }
  else
    {
      g_autoptr(GPtrArray) images = collect_images (&consolidation, session.batch, results,
                                                    include_gold, &error);

      if (images == NULL)
        return kp_batch_fail (error);
      if (g_str_equal (format, "coco"))
        out = kp_batch_format_coco (session.batch, images);
      else if (!(g_str_equal (format, "voc")
                 ? kp_batch_write_voc (session.batch, images, output, &error)
                 : kp_batch_write_yolo (session.batch, images, output, &error)))
        return kp_batch_fail (error);
    }

  if (out != NULL)
    {
      if (output == NULL)
        fwrite (out->str, 1, out->len, stdout);
      else if (!kp_batch_write_file (output, out, &error))
        return kp_batch_fail (error);
    }

  n_written = results->len;
  if (output != NULL)
    g_printerr (ngettext ("Wrote %u consolidated HIT to %s\n",
                          "Wrote %u consolidated HITs to %s\n", n_written), n_written, output);

  return EXIT_SUCCESS;
}

/* scores */

typedef struct
{
  const char *worker;
  JsonObject *figures;
} WorkerRow;

static int
compare_workers (gconstpointer a,
                 gconstpointer b)
{
  const WorkerRow *x = a, *y = b;
  double ax = get_double (x->figures, "Accuracy"), ay = get_double (y->figures, "Accuracy");

  if (isnan (ax))
    ax = 2.0;
  if (isnan (ay))
    ay = 2.0;
  if (ax != ay)
    return ax < ay ? -1 : 1;
  return g_strcmp0 (x->worker, y->worker);
}

static char *
dup_percent (double value)
{
  if (isnan (value))
    return g_strdup ("—");
  return g_strdup_printf ("%.0f%%", 100.0 * value);
}

int
kp_batch_run_scores (int    argc,
                     char **argv)
{
  g_auto(KpBatchSession) session = { 0 };
  g_auto(Consolidation) consolidation = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) workers = NULL;
  g_autoptr(GArray) table = g_array_new (FALSE, FALSE, sizeof (WorkerRow));
  g_autoptr(GList) names = NULL;
  g_autofree char *method = NULL;
  KpConsolidateOptions options;
  const char *batch_id = NULL;
  gboolean json = FALSE;
  double iou = 0.5;
  gint64 quorum = 0;
  int status = EXIT_SUCCESS;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the table as a JSON array"), NULL },
    { "method", 'm', 0, G_OPTION_ARG_STRING, &method,
      N_("How classification answers are combined: dawid-skene (the default), one-coin or "
         "majority"), N_("METHOD") },
    { "iou", 0, 0, G_OPTION_ARG_DOUBLE, &iou,
      N_("Shapes overlapping at least this much are one object (default 0.5)"), N_("IOU") },
    { "quorum", 0, 0, G_OPTION_ARG_INT64, &quorum,
      N_("Workers who must agree on a shape (default: a strict majority)"), N_("N") },
    { NULL }
  };

  if (!kp_batch_parse_command ("scores",
                               _("Rates each worker of a batch: assignments, agreement with "
                                 "the consensus, the model’s estimate of their accuracy, gold "
                                 "answers and accuracy on them; the worst first."),
                               entries, &argc, &argv, &batch_id, &status))
    return status;
  if (!parse_options ("scores", method, iou, quorum, &options, &status))
    return status;

  if (!kp_batch_session_open (&session, batch_id, &error) ||
      !consolidation_run (&consolidation, &session, &options, &error))
    return kp_batch_fail (error);

  workers = kp_consolidator_dup_workers (consolidation.consolidator);
  names = json_object_get_members (workers);
  for (GList *l = names; l != NULL; l = l->next)
    {
      WorkerRow row = { l->data, get_object (workers, l->data) };

      if (row.figures != NULL)
        g_array_append_val (table, row);
    }
  g_array_sort (table, compare_workers);

  if (json)
    {
      g_autoptr(JsonNode) node = json_node_new (JSON_NODE_ARRAY);
      g_autofree char *text = NULL;
      JsonArray *array = json_array_new ();

      for (guint i = 0; i < table->len; i++)
        {
          WorkerRow *row = &g_array_index (table, WorkerRow, i);
          JsonObject *object = json_object_new ();
          g_autoptr(GList) members = json_object_get_members (row->figures);

          json_object_set_string_member (object, "WorkerId", row->worker);
          for (GList *l = members; l != NULL; l = l->next)
            json_object_set_member (object, l->data,
                                    json_node_copy (json_object_get_member (row->figures,
                                                                            l->data)));
          json_array_add_object_element (array, object);
        }
      json_node_take_array (node, array);
      text = json_to_string (node, TRUE);
      g_print ("%s\n", text);
      return EXIT_SUCCESS;
    }

  /* TRANSLATORS: the columns of kempelenctl batch scores; keep the widths. */
  g_print (_("%-24s %11s %9s %8s %5s %13s\n"), _("WORKER"), _("ASSIGNMENTS"), _("AGREEMENT"),
           _("ACCURACY"), _("GOLD"), _("GOLD ACCURACY"));
  for (guint i = 0; i < table->len; i++)
    {
      WorkerRow *row = &g_array_index (table, WorkerRow, i);
      g_autofree char *agreement = dup_percent (get_double (row->figures, "Agreement"));
      g_autofree char *accuracy = dup_percent (get_double (row->figures, "Accuracy"));
      g_autofree char *gold_accuracy = dup_percent (get_double (row->figures, "GoldAccuracy"));

      g_print ("%-24s %11" PRId64 " %9s %8s %5" PRId64 " %13s\n", row->worker,
               kp_batch_get_int (row->figures, "Assignments"), agreement, accuracy,
               kp_batch_get_int (row->figures, "GoldAnswers"), gold_accuracy);
    }

  return EXIT_SUCCESS;
}
