/* kp-consolidate-answers.c: consolidating whole crowd answers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each element's type is inferred from the shape of its answers, over
 * every answer of the batch (the table of docs/quality.md):
 *
 *   {"label": "Cat"}, or ["Cat"] (a QuestionForm selection of one)
 *                                   classification
 *   {"labels": […]}, or ["a", "b"]  multi-label
 *   {"boundingBoxes": […], …}       boxes; likewise "polygons", "keypoints",
 *                                   "lines", "polylines" (image tools),
 *                                   "segments" (kp-audio-segmenter) and
 *                                   "tracks" (kp-video-tracker). The same
 *                                   wrapped in an object of one member
 *                                   ({"annotatedResult": {"polygons": …}})
 *                                   is understood and written back wrapped.
 *   a number, or a string that is a plain decimal number (an optional
 *   sign, digits with no leading zero, an optional fraction and exponent;
 *   "42", "-0.5", "1e3" but not "007", "0x1F" or " 42")
 *                                   number: the median (the lower middle
 *                                   value for an even count, so the answer
 *                                   is always one a worker gave). Strings
 *                                   with leading zeros are identifiers
 *                                   (ZIP codes, ids) and stay text.
 *   any other string                text: plurality after Unicode NFKC
 *                                   normalisation, case folding and
 *                                   collapsing whitespace
 *   {VALUE: bool, …}                checkboxes: each key by majority
 *   anything else                   "unsupported": the most common value
 *                                   by JSON equality (segmentation images
 *                                   and entity annotations among them)
 *
 * When an element's answers mix types, numbers and numeric strings mixed
 * with other strings are text; otherwise the most common type wins and an
 * answer of another type (a garbage answer) counts as no answer from
 * that assignment: it agrees with nothing.
 *
 * Classification and multi-label elements are consolidated over all
 * items together (one KpVotes per element name). A gold item's known
 * label is fixed in the votes (kp_votes_set_known(): the posterior is
 * clamped to it in every EM step, and the item reports it with confidence
 * 1), so the workers' answers on gold teach the model their confusions;
 * multi-label gold has no such hook and takes part in EM like any other
 * item. Each gold assignment's GoldCorrect is kp_consolidate_score() of its
 * answer against the known answer, and GoldAccuracy is their mean per
 * worker.
 *
 * Confidence and agreement per element:
 *   classification  the consensus posterior (vote share for the majority
 *                   vote); agreement: share of the item's answers equal
 *                   to the consensus.
 *   multi-label     mean over classes of max(P, 1 − P); agreement: mean
 *                   Jaccard of each answer's set with the consensus set.
 *   shapes          mean over all clusters of the cluster's confidence
 *                   when kept, of 1 − support / assignments when not (the
 *                   confidence that it is absent); 1 with no objects at
 *                   all. Agreement: mean over the item's answers of their
 *                   objects' F1 against the consolidated objects.
 *   text, number, unsupported
 *                   the share of answers equal to the consolidated one
 *                   (numbers within 1e-9 relative); agreement likewise.
 *   checkboxes      mean over keys of the winning share; agreement: mean
 *                   share of keys alike.
 * Shapes are clustered per item, with the quorum counted in the item's
 * assignments (kp-consolidate-shapes.c has the rules); an answer that
 * omits a shape element counts as drawing nothing. Consolidated objects
 * come sorted by label then position; tracks are numbered from 1 in that
 * order. Each entry of an element's "Objects" has the object's members
 * and then "agreement", "confidence", "members" (AssignmentId and the
 * object's index in that assignment's array) and "support".
 *
 * An assignment's Agreement is the mean over the item's elements of its
 * agreement with each (0 for an element it did not answer validly). An
 * item with no elements has Confidence 0 and Agreement 1.
 *
 * A worker's Accuracy is the consensus model's estimate, averaged over
 * the classification and multi-label elements the worker answered; for
 * a worker who answered none, the worker's mean Agreement.
 */

#include "config.h"

#include "kp-consolidate-private.h"
#include "kp-question.h"
#include "kp-json-private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n-lib.h>

/* Options */

void
kp_consolidate_options_init (KpConsolidateOptions *options)
{
  g_return_if_fail (options != NULL);

  memset (options, 0, sizeof *options);
  options->method = KP_CONSENSUS_DAWID_SKENE;
  kp_consensus_options_init (&options->consensus, options->method);
  options->iou_threshold = 0.5;
  options->quorum = 0;
  options->matching = KP_MATCHING_HUNGARIAN;
  options->keypoint_distance = 10;
}

/* JSON helpers */

static const char *
node_string (JsonNode *node)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

static gboolean
node_number (JsonNode *node,
             double   *out)
{
  return _kp_json_node_get_number (node, out);
}

static JsonNode *
object_member (JsonNode   *node,
               const char *member)
{
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;

  return json_object_get_member (json_node_get_object (node), member);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *)a, *(const char * const *)b);
}

/* A plain decimal number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static gboolean
parse_numeric_text (const char *text,
                    double     *out)
{
  const char *p = text;

  if (*p == '-' || *p == '+')
    p++;
  if (*p == '0')
    p++;
  else if (*p >= '1' && *p <= '9')
    while (g_ascii_isdigit (*p))
      p++;
  else
    return FALSE;

  if (*p == '.')
    {
      p++;
      if (!g_ascii_isdigit (*p))
        return FALSE;
      while (g_ascii_isdigit (*p))
        p++;
    }
  if (*p == 'e' || *p == 'E')
    {
      p++;
      if (*p == '-' || *p == '+')
        p++;
      if (!g_ascii_isdigit (*p))
        return FALSE;
      while (g_ascii_isdigit (*p))
        p++;
    }
  if (*p != '\0')
    return FALSE;

  *out = g_ascii_strtod (text, NULL);

  return isfinite (*out);
}

/* NFKC, case folded, whitespace runs as one space, trimmed. */
static char *
normalize_text (const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text, -1);
  g_autofree char *nfkc = g_utf8_normalize (valid, -1, G_NORMALIZE_NFKC);
  g_autofree char *folded = g_utf8_casefold (nfkc != NULL ? nfkc : valid, -1);
  GString *out = g_string_new (NULL);
  gboolean space = FALSE;

  for (const char *p = folded; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_isspace (c))
        space = TRUE;
      else
        {
          if (space && out->len > 0)
            g_string_append_c (out, ' ');
          space = FALSE;
          g_string_append_unichar (out, c);
        }
    }

  return g_string_free (out, FALSE);
}

/* Values */

typedef enum
{
  VALUE_UNSUPPORTED,
  VALUE_TEXT,
  VALUE_NUMERIC_TEXT,
  VALUE_NUMBER,
  VALUE_LABEL,         /* {"label": "Cat"} */
  VALUE_STRINGS,       /* ["a", …] */
  VALUE_LABELS,        /* {"labels": ["a", …]} */
  VALUE_CHECKBOXES,
  VALUE_SHAPES,
} ValueKind;

typedef struct
{
  ValueKind    kind;
  KpConsShapeKind  shape_kind;
  const char  *wrapper;     /* the member the shapes were wrapped in, or NULL */
  JsonNode    *inner;       /* the value, unwrapped */
  double       number;
  guint        n_strings;
} ValueInfo;

static gboolean
array_of_strings (JsonNode *node,
                  guint    *n)
{
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return FALSE;

  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    if (node_string (json_array_get_element (array, i)) == NULL)
      return FALSE;

  *n = json_array_get_length (array);

  return TRUE;
}

/* keep: where to leave the parsed shapes, or NULL. */
static gboolean
classify_shapes (JsonNode   *node,
                 ValueInfo  *info,
                 GPtrArray **keep)
{
  for (KpConsShapeKind k = 0; k < KP_N_CONS_SHAPE_KINDS; k++)
    {
      JsonNode *array = object_member (node, _kp_shape_kind_member (k));

      if (array != NULL)
        {
          g_autoptr(GPtrArray) shapes = NULL;

          if (JSON_NODE_HOLDS_ARRAY (array))
            shapes = _kp_shapes_parse (k, json_node_get_array (array), NULL);
          info->kind = shapes != NULL ? VALUE_SHAPES : VALUE_UNSUPPORTED;
          info->shape_kind = k;
          info->inner = node;
          if (keep != NULL)
            *keep = g_steal_pointer (&shapes);
          return TRUE;
        }
    }

  return FALSE;
}

static void
classify_value_full (JsonNode   *node,
                     ValueInfo  *info,
                     GPtrArray **keep)
{
  JsonObject *object;
  const char *text;
  guint n;

  memset (info, 0, sizeof *info);
  info->kind = VALUE_UNSUPPORTED;
  info->inner = node;

  if (node == NULL)
    return;

  if ((text = node_string (node)) != NULL)
    {
      info->kind = parse_numeric_text (text, &info->number) ? VALUE_NUMERIC_TEXT : VALUE_TEXT;
      return;
    }

  if (node_number (node, &info->number))
    {
      info->kind = VALUE_NUMBER;
      return;
    }

  if (array_of_strings (node, &n))
    {
      info->kind = VALUE_STRINGS;
      info->n_strings = n;
      return;
    }

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return;
  object = json_node_get_object (node);

  if (classify_shapes (node, info, keep))
    return;

  if (json_object_get_size (object) == 1 && node_string (object_member (node, "label")) != NULL)
    {
      info->kind = VALUE_LABEL;
      return;
    }

  if (json_object_get_size (object) == 1 && array_of_strings (object_member (node, "labels"), &n))
    {
      info->kind = VALUE_LABELS;
      info->n_strings = n;
      return;
    }

  if (json_object_get_size (object) == 1)
    {
      g_autoptr(GList) members = json_object_get_members (object);
      JsonNode *inner = json_object_get_member (object, members->data);

      if (inner != NULL && JSON_NODE_HOLDS_OBJECT (inner) && classify_shapes (inner, info, keep))
        {
          info->wrapper = members->data;
          return;
        }
    }

  if (json_object_get_size (object) > 0)
    {
      g_autoptr(GList) members = json_object_get_members (object);
      gboolean all_bool = TRUE;

      for (GList *l = members; l != NULL && all_bool; l = l->next)
        {
          JsonNode *m = json_object_get_member (object, l->data);

          all_bool = JSON_NODE_HOLDS_VALUE (m) && json_node_get_value_type (m) == G_TYPE_BOOLEAN;
        }
      if (all_bool)
        info->kind = VALUE_CHECKBOXES;
    }
}

static void
classify_value (JsonNode  *node,
                ValueInfo *info)
{
  classify_value_full (node, info, NULL);
}

/* The label of a classification answer: "Cat", {"label": "Cat"} or ["Cat"]. */
static const char *
value_label (JsonNode *node)
{
  const char *label = node_string (node);

  if (label == NULL)
    label = node_string (object_member (node, "label"));
  if (label == NULL && node != NULL && JSON_NODE_HOLDS_ARRAY (node) &&
      json_array_get_length (json_node_get_array (node)) == 1)
    label = node_string (json_array_get_element (json_node_get_array (node), 0));

  return label;
}

/* The set of a multi-label answer, sorted and without duplicates; NULL
 * when it is not one. */
static GPtrArray *
value_label_set (JsonNode *node)
{
  g_autoptr(GPtrArray) set = g_ptr_array_new ();
  JsonNode *array = node;
  guint n;

  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node))
    array = object_member (node, "labels");
  if (node != NULL && node_string (node) != NULL)
    {
      g_ptr_array_add (set, (gpointer)node_string (node));
      return g_steal_pointer (&set);
    }
  if (!array_of_strings (array, &n))
    return NULL;

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (set, (gpointer)node_string (json_array_get_element (json_node_get_array (array),
                                                                          i)));
  g_ptr_array_sort (set, compare_strings);
  for (guint i = 1; i < set->len;)
    if (strcmp (g_ptr_array_index (set, i), g_ptr_array_index (set, i - 1)) == 0)
      g_ptr_array_remove_index (set, i);
    else
      i++;

  return g_steal_pointer (&set);
}

static double
jaccard (GPtrArray *a,
         GPtrArray *b)
{
  guint i = 0, j = 0, inter = 0;

  if (a->len == 0 && b->len == 0)
    return 1;

  while (i < a->len && j < b->len)
    {
      int cmp = strcmp (g_ptr_array_index (a, i), g_ptr_array_index (b, j));

      if (cmp == 0)
        {
          inter++;
          i++;
          j++;
        }
      else if (cmp < 0)
        i++;
      else
        j++;
    }

  return (double)inter / (a->len + b->len - inter);
}

static gboolean
numbers_equal (double a,
               double b)
{
  return fabs (a - b) <= 1e-9 * MAX (fabs (a), fabs (b)) || a == b;
}

/* Elements */

typedef enum
{
  ELEMENT_CLASSIFICATION,
  ELEMENT_MULTI_LABEL,
  ELEMENT_TEXT,
  ELEMENT_NUMBER,
  ELEMENT_CHECKBOXES,
  ELEMENT_SHAPES,
  ELEMENT_UNSUPPORTED,
} ElementType;

typedef struct
{
  char        *name;
  ElementType  type;
  KpConsShapeKind  shape_kind;
  char        *wrapper;          /* shapes: the wrapping member, or NULL */
  gboolean     as_array;         /* classification / multi-label answered as arrays */
  gboolean     number_as_text;   /* numbers answered as strings */

  /* Classification and multi-label, over all items. */
  KpVotes          *votes;
  KpMultiVotes     *multi_votes;
  KpConsensus      *consensus;
  KpMultiConsensus *multi_consensus;
} Element;

static void
element_free (Element *element)
{
  g_free (element->name);
  g_free (element->wrapper);
  g_clear_pointer (&element->votes, kp_votes_free);
  g_clear_pointer (&element->multi_votes, kp_multi_votes_free);
  g_clear_pointer (&element->consensus, kp_consensus_free);
  g_clear_pointer (&element->multi_consensus, kp_multi_consensus_free);
  g_free (element);
}

/* Whether a value of info's kind is an answer of element. */
static gboolean
value_fits (const Element   *element,
            const ValueInfo *info)
{
  switch (element->type)
    {
    case ELEMENT_CLASSIFICATION:
      return info->kind == VALUE_LABEL || (info->kind == VALUE_STRINGS && info->n_strings == 1);
    case ELEMENT_MULTI_LABEL:
      return info->kind == VALUE_LABELS || info->kind == VALUE_STRINGS;
    case ELEMENT_TEXT:
      return info->kind == VALUE_TEXT || info->kind == VALUE_NUMERIC_TEXT ||
             info->kind == VALUE_NUMBER;
    case ELEMENT_NUMBER:
      return info->kind == VALUE_NUMERIC_TEXT || info->kind == VALUE_NUMBER;
    case ELEMENT_CHECKBOXES:
      return info->kind == VALUE_CHECKBOXES;
    case ELEMENT_SHAPES:
      return info->kind == VALUE_SHAPES && info->shape_kind == element->shape_kind;
    case ELEMENT_UNSUPPORTED:
      return TRUE;
    default:
      g_assert_not_reached ();
    }

  return FALSE;
}

/* Consolidator */

typedef struct _Item Item;

typedef struct
{
  char       *assignment_id;
  char       *worker_id;
  Item       *item;
  JsonObject *answer;
  double      agreement;
  double      gold_correct;
} Assignment;

struct _Item
{
  char       *id;
  JsonObject *gold;
  GPtrArray  *assignments;   /* of Assignment, borrowed */
  JsonObject *result;
};

struct _KpConsolidator
{
  KpConsolidateOptions options;
  GPtrArray  *items;         /* of Item, in order of first add */
  GHashTable *item_ids;      /* id → Item */
  GPtrArray  *assignments;   /* of Assignment */
  GHashTable *gold;          /* item id → known answer, set before or after its answers */
  GPtrArray  *elements;      /* after run, of Element, sorted by name */
  JsonObject *workers;       /* after run */
  gboolean    ran;
};

static void
assignment_free (Assignment *a)
{
  g_free (a->assignment_id);
  g_free (a->worker_id);
  json_object_unref (a->answer);
  g_free (a);
}

static void
item_free (Item *item)
{
  g_free (item->id);
  g_clear_pointer (&item->gold, json_object_unref);
  g_ptr_array_unref (item->assignments);
  g_clear_pointer (&item->result, json_object_unref);
  g_free (item);
}

KpConsolidator *
kp_consolidator_new (const KpConsolidateOptions *options)
{
  KpConsolidator *self = g_new0 (KpConsolidator, 1);

  if (options != NULL)
    self->options = *options;
  else
    kp_consolidate_options_init (&self->options);

  self->items = g_ptr_array_new_with_free_func ((GDestroyNotify)item_free);
  self->item_ids = g_hash_table_new (g_str_hash, g_str_equal);
  self->assignments = g_ptr_array_new_with_free_func ((GDestroyNotify)assignment_free);
  self->gold = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify)json_object_unref);

  return self;
}

void
kp_consolidator_free (KpConsolidator *self)
{
  if (self == NULL)
    return;

  g_hash_table_unref (self->item_ids);
  g_ptr_array_unref (self->assignments);
  g_ptr_array_unref (self->items);
  g_hash_table_unref (self->gold);
  g_clear_pointer (&self->elements, g_ptr_array_unref);
  g_clear_pointer (&self->workers, json_object_unref);
  g_free (self);
}

static Item *
lookup_item (KpConsolidator *self,
             const char     *item_id,
             gboolean        create)
{
  Item *item = g_hash_table_lookup (self->item_ids, item_id);

  if (item == NULL && create)
    {
      item = g_new0 (Item, 1);
      item->id = g_strdup (item_id);
      item->assignments = g_ptr_array_new ();
      g_ptr_array_add (self->items, item);
      g_hash_table_insert (self->item_ids, item->id, item);
    }

  return item;
}

gboolean
kp_consolidator_add (KpConsolidator *self,
                     const char     *item_id,
                     const char     *worker_id,
                     const char     *assignment_id,
                     JsonObject     *answer,
                     GError        **error)
{
  Assignment *a;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (item_id != NULL, FALSE);
  g_return_val_if_fail (worker_id != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (answer == NULL)
    {
      g_set_error (error, KP_CONSOLIDATE_ERROR, KP_CONSOLIDATE_ERROR_INVALID,
                   _("The answer of assignment %s is not a JSON object"),
                   assignment_id != NULL ? assignment_id : "");
      return FALSE;
    }

  a = g_new0 (Assignment, 1);
  a->assignment_id = g_strdup (assignment_id != NULL ? assignment_id : "");
  a->worker_id = g_strdup (worker_id);
  a->answer = json_object_ref (answer);
  a->item = lookup_item (self, item_id, TRUE);
  g_ptr_array_add (a->item->assignments, a);
  g_ptr_array_add (self->assignments, a);
  self->ran = FALSE;

  return TRUE;
}

void
kp_consolidator_set_gold (KpConsolidator *self,
                          const char     *item_id,
                          JsonObject     *known_answer)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (item_id != NULL);

  if (known_answer == NULL)
    g_hash_table_remove (self->gold, item_id);
  else
    g_hash_table_replace (self->gold, g_strdup (item_id), json_object_ref (known_answer));
  self->ran = FALSE;
}

/* Type inference */

typedef enum
{
  GROUP_CLASSIFICATION,
  GROUP_MULTI_LABEL,
  GROUP_CHECKBOXES,
  GROUP_SHAPES,          /* + shape kind */
  N_GROUPS = GROUP_SHAPES + KP_N_CONS_SHAPE_KINDS,
} Group;

static Element *
infer_element (KpConsolidator *self,
               const char     *name)
{
  Element *element = g_new0 (Element, 1);
  guint counts[N_GROUPS] = { 0 };
  guint n_text = 0, n_numeric_text = 0, n_number = 0, n_other = 0;
  gboolean any_labels_object = FALSE, all_strings_single = TRUE;
  guint best = N_GROUPS;

  element->name = g_strdup (name);
  element->type = ELEMENT_UNSUPPORTED;

  for (guint i = 0; i < self->assignments->len; i++)
    {
      Assignment *a = g_ptr_array_index (self->assignments, i);
      JsonNode *node = json_object_get_member (a->answer, name);
      ValueInfo info;

      if (node == NULL)
        continue;

      classify_value (node, &info);
      switch (info.kind)
        {
        case VALUE_TEXT:
          n_text++;
          break;
        case VALUE_NUMERIC_TEXT:
          n_numeric_text++;
          break;
        case VALUE_NUMBER:
          n_number++;
          break;
        case VALUE_LABEL:
          counts[GROUP_CLASSIFICATION]++;
          n_other++;
          break;
        case VALUE_STRINGS:
          /* Sorted out below: single selections are classification. */
          counts[GROUP_MULTI_LABEL]++;
          /* An empty selection is no answer, not a second label. */
          all_strings_single &= info.n_strings <= 1;
          n_other++;
          break;
        case VALUE_LABELS:
          counts[GROUP_MULTI_LABEL]++;
          any_labels_object = TRUE;
          n_other++;
          break;
        case VALUE_CHECKBOXES:
          counts[GROUP_CHECKBOXES]++;
          n_other++;
          break;
        case VALUE_SHAPES:
          counts[GROUP_SHAPES + info.shape_kind]++;
          if (element->wrapper == NULL && info.wrapper != NULL)
            element->wrapper = g_strdup (info.wrapper);
          n_other++;
          break;
        case VALUE_UNSUPPORTED:
        default:
          break;
        }
    }

  if (n_text + n_numeric_text + n_number > 0 && n_other == 0)
    {
      if (n_text == 0)
        {
          element->type = ELEMENT_NUMBER;
          element->number_as_text = n_numeric_text > 0 && n_number == 0;
        }
      else
        element->type = ELEMENT_TEXT;
      return element;
    }

  /* Arrays of single strings are QuestionForm selections of one. */
  if (!any_labels_object && all_strings_single && counts[GROUP_MULTI_LABEL] > 0)
    {
      counts[GROUP_CLASSIFICATION] += counts[GROUP_MULTI_LABEL];
      counts[GROUP_MULTI_LABEL] = 0;
      element->as_array = TRUE;
    }
  else if (!any_labels_object && counts[GROUP_MULTI_LABEL] > 0)
    element->as_array = TRUE;

  for (guint g = 0; g < N_GROUPS; g++)
    if (counts[g] > 0 && (best == N_GROUPS || counts[g] > counts[best]))
      best = g;

  if (best == N_GROUPS || counts[best] < n_text + n_numeric_text + n_number)
    {
      /* Strings outnumber every structured type. */
      if (n_text + n_numeric_text + n_number > 0)
        element->type = n_text > 0 ? ELEMENT_TEXT : ELEMENT_NUMBER;
      element->number_as_text = element->type == ELEMENT_NUMBER && n_number == 0;
      g_clear_pointer (&element->wrapper, g_free);
      return element;
    }

  switch (best)
    {
    case GROUP_CLASSIFICATION:
      element->type = ELEMENT_CLASSIFICATION;
      break;
    case GROUP_MULTI_LABEL:
      element->type = ELEMENT_MULTI_LABEL;
      break;
    case GROUP_CHECKBOXES:
      element->type = ELEMENT_CHECKBOXES;
      break;
    default:
      element->type = ELEMENT_SHAPES;
      element->shape_kind = best - GROUP_SHAPES;
      break;
    }
  if (element->type != ELEMENT_SHAPES)
    g_clear_pointer (&element->wrapper, g_free);

  return element;
}

/* The answer of assignment a to element, when it fits the element's
 * type; for shapes, the unwrapped value. */
static JsonNode *
fitting_value (const Element *element,
               Assignment    *a,
               ValueInfo     *info)
{
  JsonNode *node = json_object_get_member (a->answer, element->name);

  if (node == NULL)
    return NULL;

  classify_value (node, info);

  return value_fits (element, info) ? info->inner : NULL;
}

/* Classification over all items */

static gboolean
run_votes (KpConsolidator *self,
           Element        *element,
           GCancellable   *cancellable,
           GError        **error)
{
  if (element->type == ELEMENT_CLASSIFICATION)
    {
      element->votes = kp_votes_new ();
      for (guint i = 0; i < self->items->len; i++)
        {
          Item *item = g_ptr_array_index (self->items, i);

          for (guint j = 0; j < item->assignments->len; j++)
            {
              Assignment *a = g_ptr_array_index (item->assignments, j);
              ValueInfo info;
              JsonNode *value = fitting_value (element, a, &info);

              if (value != NULL)
                kp_votes_add (element->votes,
                              kp_votes_intern_item (element->votes, item->id),
                              kp_votes_intern_worker (element->votes, a->worker_id),
                              kp_votes_intern_class (element->votes, value_label (value)));
            }
        }

      /* Gold items keep their known labels in every step of EM. */
      for (guint i = 0; i < self->items->len; i++)
        {
          Item *item = g_ptr_array_index (self->items, i);
          JsonObject *gold = g_hash_table_lookup (self->gold, item->id);
          JsonNode *known = gold != NULL ? json_object_get_member (gold, element->name) : NULL;
          const char *label = value_label (known);
          guint index = kp_votes_lookup_item (element->votes, item->id);

          if (label != NULL && index != G_MAXUINT)
            kp_votes_set_known (element->votes, index,
                                kp_votes_intern_class (element->votes, label));
        }

      element->consensus = kp_consensus_compute (element->votes, &self->options.consensus,
                                                 cancellable, error);
      return element->consensus != NULL;
    }

  if (element->type == ELEMENT_MULTI_LABEL)
    {
      KpVotes *names;

      element->multi_votes = kp_multi_votes_new ();
      names = kp_multi_votes_get_names (element->multi_votes);
      for (guint i = 0; i < self->items->len; i++)
        {
          Item *item = g_ptr_array_index (self->items, i);

          for (guint j = 0; j < item->assignments->len; j++)
            {
              Assignment *a = g_ptr_array_index (item->assignments, j);
              ValueInfo info;
              JsonNode *value = fitting_value (element, a, &info);
              g_autoptr(GPtrArray) set = value != NULL ? value_label_set (value) : NULL;
              g_autofree guint *classes = NULL;
              guint item_index, worker_index;

              if (set == NULL)
                continue;

              item_index = kp_votes_intern_item (names, item->id);
              worker_index = kp_votes_intern_worker (names, a->worker_id);
              classes = g_new0 (guint, set->len + 1);
              for (guint k = 0; k < set->len; k++)
                classes[k] = kp_votes_intern_class (names, g_ptr_array_index (set, k));
              kp_multi_votes_add (element->multi_votes, item_index, worker_index, classes, set->len);
            }
        }

      element->multi_consensus = kp_multi_consensus_compute (element->multi_votes,
                                                             &self->options.consensus,
                                                             cancellable, error);
      return element->multi_consensus != NULL;
    }

  return TRUE;
}

/* Per item and element */

typedef struct
{
  JsonNode *answer;       /* the consolidated value */
  double    confidence;
  double    agreement;
  double   *per_assignment; /* [item's assignments] */
} ElementResult;

static void
build_class_doubles (JsonBuilder   *builder,
                     const char    *member,
                     const KpVotes *names,
                     const double  *values,
                     guint          n_classes)
{
  g_autoptr(GPtrArray) order = g_ptr_array_new ();

  for (guint k = 0; k < n_classes; k++)
    if (kp_votes_get_class_name (names, k) != NULL)
      g_ptr_array_add (order, GUINT_TO_POINTER (k + 1));

  /* Sorted by class name. */
  for (guint i = 1; i < order->len; i++)
    for (guint j = i; j > 0; j--)
      {
        guint ka = GPOINTER_TO_UINT (order->pdata[j - 1]) - 1;
        guint kb = GPOINTER_TO_UINT (order->pdata[j]) - 1;

        if (strcmp (kp_votes_get_class_name (names, ka), kp_votes_get_class_name (names, kb)) <= 0)
          break;
        order->pdata[j - 1] = GUINT_TO_POINTER (kb + 1);
        order->pdata[j] = GUINT_TO_POINTER (ka + 1);
      }

  json_builder_set_member_name (builder, member);
  json_builder_begin_object (builder);
  for (guint i = 0; i < order->len; i++)
    {
      guint k = GPOINTER_TO_UINT (order->pdata[i]) - 1;

      json_builder_set_member_name (builder, kp_votes_get_class_name (names, k));
      json_builder_add_double_value (builder, values[k]);
    }
  json_builder_end_object (builder);
}

static JsonNode *
label_answer (const Element *element,
              const char    *label)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();

  if (element->as_array)
    {
      json_builder_begin_array (builder);
      json_builder_add_string_value (builder, label);
      json_builder_end_array (builder);
    }
  else
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "label");
      json_builder_add_string_value (builder, label);
      json_builder_end_object (builder);
    }

  return json_builder_get_root (builder);
}

static void
consolidate_classification (KpConsolidator *self,
                            Element        *element,
                            Item           *item,
                            JsonBuilder    *details,
                            ElementResult  *r)
{
  KpConsensus *c = element->consensus;
  guint index = kp_votes_lookup_item (element->votes, item->id);
  const char *label = NULL;
  guint agree = 0, n = item->assignments->len;

  json_builder_set_member_name (details, "Method");
  json_builder_add_string_value (details, kp_consensus_method_to_string (c->method));

  if (index != G_MAXUINT && index < c->n_items && c->labels[index] != G_MAXUINT)
    {
      label = kp_votes_get_class_name (element->votes, c->labels[index]);
      r->confidence = c->confidence[index];
      build_class_doubles (details, "Posteriors", element->votes,
                           &c->posteriors[(gsize)index * c->n_classes], c->n_classes);
    }

  for (guint j = 0; j < n; j++)
    {
      ValueInfo info;
      JsonNode *value = fitting_value (element, g_ptr_array_index (item->assignments, j), &info);

      r->per_assignment[j] = value != NULL && label != NULL &&
                             g_strcmp0 (value_label (value), label) == 0;
      agree += r->per_assignment[j] > 0;
    }

  r->agreement = n > 0 ? (double)agree / n : 0;
  if (label != NULL)
    r->answer = label_answer (element, label);
}

static void
consolidate_multi_label (KpConsolidator *self,
                         Element        *element,
                         Item           *item,
                         JsonBuilder    *details,
                         ElementResult  *r)
{
  KpMultiConsensus *c = element->multi_consensus;
  KpVotes *names = kp_multi_votes_get_names (element->multi_votes);
  guint index = kp_votes_lookup_item (names, item->id);
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(GPtrArray) present = g_ptr_array_new ();
  double sum = 0;

  json_builder_set_member_name (details, "Method");
  json_builder_add_string_value (details, kp_consensus_method_to_string (self->options.method));

  if (index != G_MAXUINT && index < c->n_items)
    {
      for (guint k = 0; k < c->n_classes; k++)
        {
          double p = c->probability[(gsize)index * c->n_classes + k];

          sum += MAX (p, 1 - p);
          if (c->present[(gsize)index * c->n_classes + k])
            g_ptr_array_add (present, (gpointer)kp_votes_get_class_name (names, k));
        }
      r->confidence = c->n_classes > 0 ? sum / c->n_classes : 1;
      build_class_doubles (details, "Probabilities", names,
                           &c->probability[(gsize)index * c->n_classes], c->n_classes);
    }
  g_ptr_array_sort (present, compare_strings);

  sum = 0;
  for (guint j = 0; j < item->assignments->len; j++)
    {
      ValueInfo info;
      JsonNode *value = fitting_value (element, g_ptr_array_index (item->assignments, j), &info);
      g_autoptr(GPtrArray) set = value != NULL ? value_label_set (value) : NULL;

      r->per_assignment[j] = set != NULL ? jaccard (set, present) : 0;
      sum += r->per_assignment[j];
    }
  r->agreement = item->assignments->len > 0 ? sum / item->assignments->len : 0;

  if (!element->as_array)
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "labels");
    }
  json_builder_begin_array (builder);
  for (guint k = 0; k < present->len; k++)
    json_builder_add_string_value (builder, g_ptr_array_index (present, k));
  json_builder_end_array (builder);
  if (!element->as_array)
    json_builder_end_object (builder);
  r->answer = json_builder_get_root (builder);
}

static void
consolidate_shapes (KpConsolidator *self,
                    Element        *element,
                    Item           *item,
                    JsonBuilder    *details,
                    ElementResult  *r)
{
  guint n = item->assignments->len;
  g_autofree GPtrArray **workers = g_new0 (GPtrArray *, MAX (n, 1));
  g_autoptr(GPtrArray) clusters = NULL;
  g_autoptr(GPtrArray) kept = g_ptr_array_new ();
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonNode) inner = NULL;
  JsonNode *image_properties = NULL;
  const char *member = _kp_shape_kind_member (element->shape_kind);
  g_autofree gboolean *valid = g_new0 (gboolean, MAX (n, 1));
  guint quorum = self->options.quorum > 0 ? self->options.quorum : n / 2 + 1;
  double sum = 0;

  for (guint j = 0; j < n; j++)
    {
      Assignment *a = g_ptr_array_index (item->assignments, j);
      JsonNode *node = json_object_get_member (a->answer, element->name);
      ValueInfo info;

      /* Parsed once, while finding out whether the answer fits. */
      if (node != NULL)
        classify_value_full (node, &info, &workers[j]);
      valid[j] = node == NULL || value_fits (element, &info);
      if (node != NULL && valid[j] && image_properties == NULL)
        image_properties = object_member (info.inner, "inputImageProperties");
      if (!valid[j] || workers[j] == NULL)
        {
          g_clear_pointer (&workers[j], g_ptr_array_unref);
          workers[j] = g_ptr_array_new_with_free_func ((GDestroyNotify)_kp_shape_free);
        }
    }

  clusters = _kp_shapes_consolidate (workers, n, element->shape_kind, &self->options, quorum);

  json_builder_set_member_name (details, "Method");
  json_builder_add_string_value (details,
                                 element->shape_kind == KP_CONS_SHAPE_KEYPOINT ||
                                 element->shape_kind == KP_CONS_SHAPE_LINE ||
                                 element->shape_kind == KP_CONS_SHAPE_POLYLINE
                                 ? "distance-clustering" : "iou-clustering");

  r->confidence = 1;
  for (guint c = 0; c < clusters->len; c++)
    {
      KpConsShapeCluster *cluster = g_ptr_array_index (clusters, c);

      if (cluster->kept)
        {
          cluster->shape->track_id = kept->len + 1;
          g_ptr_array_add (kept, cluster->shape);
          sum += cluster->confidence;
        }
      else
        sum += 1 - (double)cluster->support / MAX (n, 1);
    }
  if (clusters->len > 0)
    r->confidence = sum / clusters->len;

  json_builder_set_member_name (details, "Objects");
  json_builder_begin_array (details);
  for (guint c = 0; c < clusters->len; c++)
    {
      KpConsShapeCluster *cluster = g_ptr_array_index (clusters, c);

      if (!cluster->kept)
        continue;

      /* The object's own members (in alphabetical order), then ours. */
      json_builder_begin_object (details);
      _kp_shape_build_members (details, cluster->shape);
      json_builder_set_member_name (details, "agreement");
      json_builder_add_double_value (details, cluster->agreement);
      json_builder_set_member_name (details, "confidence");
      json_builder_add_double_value (details, cluster->confidence);
      json_builder_set_member_name (details, "members");
      json_builder_begin_array (details);
      for (guint m = 0; m < cluster->members->len; m++)
        {
          const guint32 *pair = &g_array_index (cluster->members, guint32, 2 * m);
          Assignment *a = g_ptr_array_index (item->assignments, pair[0]);

          json_builder_begin_object (details);
          json_builder_set_member_name (details, "AssignmentId");
          json_builder_add_string_value (details, a->assignment_id);
          json_builder_set_member_name (details, "index");
          json_builder_add_int_value (details, pair[1]);
          json_builder_end_object (details);
        }
      json_builder_end_array (details);
      json_builder_set_member_name (details, "support");
      json_builder_add_int_value (details, cluster->support);
      json_builder_end_object (details);
    }
  json_builder_end_array (details);

  sum = 0;
  for (guint j = 0; j < n; j++)
    {
      r->per_assignment[j] = valid[j]
                             ? _kp_shapes_f1 (workers[j], kept, element->shape_kind, &self->options)
                             : 0;
      sum += r->per_assignment[j];
    }
  r->agreement = n > 0 ? sum / n : 0;

  /* The crowd element's own shape, members in alphabetical order. */
  json_builder_begin_object (builder);
  if (image_properties != NULL && element->shape_kind <= KP_CONS_SHAPE_POLYLINE)
    {
      json_builder_set_member_name (builder, "inputImageProperties");
      json_builder_add_value (builder, json_node_copy (image_properties));
    }
  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  for (guint k = 0; k < kept->len; k++)
    _kp_shape_build (builder, g_ptr_array_index (kept, k));
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  inner = json_builder_get_root (builder);

  if (element->wrapper != NULL)
    {
      JsonObject *wrap = json_object_new ();

      json_object_set_member (wrap, element->wrapper, g_steal_pointer (&inner));
      r->answer = json_node_init_object (json_node_alloc (), wrap);
      json_object_unref (wrap);
    }
  else
    r->answer = g_steal_pointer (&inner);

  for (guint j = 0; j < n; j++)
    g_ptr_array_unref (workers[j]);
}

static void
consolidate_text (KpConsolidator *self,
                  Element        *element,
                  Item           *item,
                  JsonBuilder    *details,
                  ElementResult  *r)
{
  guint n = item->assignments->len;
  /* Not GStrv: answers that are not text leave holes. */
  g_autofree char **normal = g_new0 (char *, n + 1);
  g_autofree char **raw = g_new0 (char *, n + 1);
  guint best = G_MAXUINT, best_count = 0, agree = 0;

  json_builder_set_member_name (details, "Method");
  json_builder_add_string_value (details, "plurality");

  for (guint j = 0; j < n; j++)
    {
      ValueInfo info;
      JsonNode *value = fitting_value (element, g_ptr_array_index (item->assignments, j), &info);

      if (value == NULL)
        continue;
      if (info.kind == VALUE_NUMBER)
        {
          char buf[G_ASCII_DTOSTR_BUF_SIZE];

          raw[j] = g_strdup (g_ascii_formatd (buf, sizeof buf, "%.15g", info.number));
        }
      else
        raw[j] = g_strdup (node_string (value));
      normal[j] = normalize_text (raw[j]);
    }

  /* Plurality; the earliest answer wins a tie. */
  for (guint j = 0; j < n; j++)
    {
      guint count = 0;

      if (normal[j] == NULL)
        continue;
      for (guint k = 0; k < n; k++)
        count += normal[k] != NULL && strcmp (normal[k], normal[j]) == 0;
      if (count > best_count)
        {
          best = j;
          best_count = count;
        }
    }

  for (guint j = 0; j < n; j++)
    {
      r->per_assignment[j] = best != G_MAXUINT && normal[j] != NULL &&
                             strcmp (normal[j], normal[best]) == 0;
      agree += r->per_assignment[j] > 0;
    }

  r->confidence = r->agreement = n > 0 ? (double)agree / n : 0;
  if (best != G_MAXUINT)
    r->answer = json_node_init_string (json_node_alloc (), raw[best]);

  for (guint j = 0; j < n; j++)
    {
      g_free (raw[j]);
      g_free (normal[j]);
    }
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double da = *(const double *)a, db = *(const double *)b;

  return (da > db) - (da < db);
}

static JsonNode *
number_node (double v)
{
  if (v == floor (v) && fabs (v) < 1e15)
    return json_node_init_int (json_node_alloc (), (gint64)v);

  return json_node_init_double (json_node_alloc (), v);
}

static void
consolidate_number (KpConsolidator *self,
                    Element        *element,
                    Item           *item,
                    JsonBuilder    *details,
                    ElementResult  *r)
{
  guint n = item->assignments->len;
  g_autoptr(GArray) values = g_array_new (FALSE, FALSE, sizeof (double));
  const char *median_text = NULL;
  double median;
  guint agree = 0;

  json_builder_set_member_name (details, "Method");
  json_builder_add_string_value (details, "median");

  for (guint j = 0; j < n; j++)
    {
      ValueInfo info;

      if (fitting_value (element, g_ptr_array_index (item->assignments, j), &info) != NULL)
        g_array_append_val (values, info.number);
    }

  if (values->len == 0)
    {
      for (guint j = 0; j < n; j++)
        r->per_assignment[j] = 0;
      return;
    }

  g_array_sort (values, compare_doubles);
  median = g_array_index (values, double, (values->len - 1) / 2);

  for (guint j = 0; j < n; j++)
    {
      ValueInfo info;
      JsonNode *value = fitting_value (element, g_ptr_array_index (item->assignments, j), &info);

      r->per_assignment[j] = value != NULL && numbers_equal (info.number, median);
      if (r->per_assignment[j] > 0 && median_text == NULL)
        median_text = node_string (value);
      agree += r->per_assignment[j] > 0;
    }

  r->confidence = r->agreement = (double)agree / n;
  if (element->number_as_text && median_text != NULL)
    r->answer = json_node_init_string (json_node_alloc (), median_text);
  else
    r->answer = number_node (median);
}

static gboolean
checkbox_value (JsonNode   *value,
                const char *key)
{
  JsonNode *m = object_member (value, key);

  return m != NULL && JSON_NODE_HOLDS_VALUE (m) &&
         json_node_get_value_type (m) == G_TYPE_BOOLEAN && json_node_get_boolean (m);
}

static void
consolidate_checkboxes (KpConsolidator *self,
                        Element        *element,
                        Item           *item,
                        JsonBuilder    *details,
                        ElementResult  *r)
{
  guint n = item->assignments->len, n_valid = 0;
  g_autofree JsonNode **values = g_new0 (JsonNode *, MAX (n, 1));
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) keys = g_ptr_array_new ();
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autofree gboolean *winner = NULL;
  double sum = 0;

  json_builder_set_member_name (details, "Method");
  json_builder_add_string_value (details, "majority");

  for (guint j = 0; j < n; j++)
    {
      ValueInfo info;

      values[j] = fitting_value (element, g_ptr_array_index (item->assignments, j), &info);
      if (values[j] != NULL)
        {
          g_autoptr(GList) members = json_object_get_members (json_node_get_object (values[j]));

          n_valid++;
          for (GList *l = members; l != NULL; l = l->next)
            if (g_hash_table_add (seen, l->data))
              g_ptr_array_add (keys, l->data);
        }
    }
  g_ptr_array_sort (keys, compare_strings);
  winner = g_new0 (gboolean, keys->len + 1);

  json_builder_begin_object (builder);
  for (guint k = 0; k < keys->len; k++)
    {
      guint yes = 0;

      for (guint j = 0; j < n; j++)
        yes += values[j] != NULL && checkbox_value (values[j], keys->pdata[k]);
      winner[k] = 2 * yes > n_valid;
      sum += (double)MAX (yes, n_valid - yes) / MAX (n_valid, 1);
      json_builder_set_member_name (builder, keys->pdata[k]);
      json_builder_add_boolean_value (builder, winner[k]);
    }
  json_builder_end_object (builder);

  r->confidence = keys->len > 0 ? sum / keys->len : (n_valid > 0 ? 1 : 0);
  sum = 0;
  for (guint j = 0; j < n; j++)
    {
      guint alike = 0;

      if (values[j] != NULL)
        for (guint k = 0; k < keys->len; k++)
          alike += checkbox_value (values[j], keys->pdata[k]) == winner[k];
      r->per_assignment[j] = values[j] == NULL ? 0 : keys->len > 0 ? (double)alike / keys->len : 1;
      sum += r->per_assignment[j];
    }
  r->agreement = n > 0 ? sum / n : 0;
  if (n_valid > 0)
    r->answer = json_builder_get_root (builder);
}

static void
consolidate_unsupported (KpConsolidator *self,
                         Element        *element,
                         Item           *item,
                         JsonBuilder    *details,
                         ElementResult  *r)
{
  guint n = item->assignments->len, best = G_MAXUINT, best_count = 0, agree = 0;
  g_autofree JsonNode **values = g_new0 (JsonNode *, MAX (n, 1));

  json_builder_set_member_name (details, "Method");
  json_builder_add_string_value (details, "plurality");

  for (guint j = 0; j < n; j++)
    values[j] = json_object_get_member (((Assignment *)g_ptr_array_index (item->assignments, j))->answer,
                                        element->name);

  for (guint j = 0; j < n; j++)
    {
      guint count = 0;

      if (values[j] == NULL)
        continue;
      for (guint k = 0; k < n; k++)
        count += values[k] != NULL && json_node_equal (values[k], values[j]);
      if (count > best_count)
        {
          best = j;
          best_count = count;
        }
    }

  for (guint j = 0; j < n; j++)
    {
      r->per_assignment[j] = best != G_MAXUINT && values[j] != NULL &&
                             json_node_equal (values[j], values[best]);
      agree += r->per_assignment[j] > 0;
    }
  r->confidence = r->agreement = n > 0 ? (double)agree / n : 0;
  if (best != G_MAXUINT)
    r->answer = json_node_copy (values[best]);
}

static const char *
element_type_name (const Element *element)
{
  switch (element->type)
    {
    case ELEMENT_CLASSIFICATION:
      return "classification";
    case ELEMENT_MULTI_LABEL:
      return "multi-label";
    case ELEMENT_TEXT:
      return "text";
    case ELEMENT_NUMBER:
      return "number";
    case ELEMENT_CHECKBOXES:
      return "checkboxes";
    case ELEMENT_SHAPES:
      return _kp_shape_kind_type (element->shape_kind);
    case ELEMENT_UNSUPPORTED:
    default:
      return "unsupported";
    }
}

static void
consolidate_item (KpConsolidator *self,
                  Item           *item)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonBuilder) elements = json_builder_new_immutable ();
  g_autoptr(JsonBuilder) answer = json_builder_new_immutable ();
  g_autoptr(JsonNode) root = NULL;
  guint n = item->assignments->len, n_elements = 0;
  g_autofree double *agreement_sum = g_new0 (double, MAX (n, 1));
  JsonObject *gold = g_hash_table_lookup (self->gold, item->id);
  double confidence_sum = 0, agreement = 0;

  json_builder_begin_object (elements);
  json_builder_begin_object (answer);

  for (guint e = 0; e < self->elements->len; e++)
    {
      Element *element = g_ptr_array_index (self->elements, e);
      ElementResult r = { NULL, 0, 0, NULL };
      gboolean present = FALSE;

      for (guint j = 0; j < n && !present; j++)
        present = json_object_has_member (((Assignment *)g_ptr_array_index (item->assignments, j))->answer,
                                          element->name);
      if (!present)
        continue;

      r.per_assignment = g_new0 (double, MAX (n, 1));
      json_builder_set_member_name (elements, element->name);
      json_builder_begin_object (elements);
      json_builder_set_member_name (elements, "Type");
      json_builder_add_string_value (elements, element_type_name (element));

      switch (element->type)
        {
        case ELEMENT_CLASSIFICATION:
          consolidate_classification (self, element, item, elements, &r);
          break;
        case ELEMENT_MULTI_LABEL:
          consolidate_multi_label (self, element, item, elements, &r);
          break;
        case ELEMENT_TEXT:
          consolidate_text (self, element, item, elements, &r);
          break;
        case ELEMENT_NUMBER:
          consolidate_number (self, element, item, elements, &r);
          break;
        case ELEMENT_CHECKBOXES:
          consolidate_checkboxes (self, element, item, elements, &r);
          break;
        case ELEMENT_SHAPES:
          consolidate_shapes (self, element, item, elements, &r);
          break;
        case ELEMENT_UNSUPPORTED:
        default:
          consolidate_unsupported (self, element, item, elements, &r);
          break;
        }

      json_builder_set_member_name (elements, "Confidence");
      json_builder_add_double_value (elements, r.confidence);
      json_builder_set_member_name (elements, "Agreement");
      json_builder_add_double_value (elements, r.agreement);
      json_builder_end_object (elements);

      if (r.answer != NULL)
        {
          json_builder_set_member_name (answer, element->name);
          json_builder_add_value (answer, r.answer);
        }

      confidence_sum += r.confidence;
      agreement += r.agreement;
      for (guint j = 0; j < n; j++)
        agreement_sum[j] += r.per_assignment[j];
      n_elements++;
      g_free (r.per_assignment);
    }

  json_builder_end_object (elements);
  json_builder_end_object (answer);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "ItemId");
  json_builder_add_string_value (builder, item->id);
  json_builder_set_member_name (builder, "Answer");
  json_builder_add_value (builder, json_builder_get_root (answer));
  json_builder_set_member_name (builder, "Confidence");
  json_builder_add_double_value (builder, n_elements > 0 ? confidence_sum / n_elements : 0);
  json_builder_set_member_name (builder, "Agreement");
  json_builder_add_double_value (builder, n_elements > 0 ? agreement / n_elements : 1);
  if (gold != NULL)
    {
      json_builder_set_member_name (builder, "Gold");
      json_builder_add_boolean_value (builder, TRUE);
    }
  json_builder_set_member_name (builder, "Elements");
  json_builder_add_value (builder, json_builder_get_root (elements));
  json_builder_set_member_name (builder, "Assignments");
  json_builder_begin_array (builder);
  for (guint j = 0; j < n; j++)
    {
      Assignment *a = g_ptr_array_index (item->assignments, j);

      a->agreement = n_elements > 0 ? agreement_sum[j] / n_elements : 1;
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "AssignmentId");
      json_builder_add_string_value (builder, a->assignment_id);
      json_builder_set_member_name (builder, "WorkerId");
      json_builder_add_string_value (builder, a->worker_id);
      json_builder_set_member_name (builder, "Agreement");
      json_builder_add_double_value (builder, a->agreement);
      if (gold != NULL)
        {
          a->gold_correct = kp_consolidate_score (a->answer, gold, &self->options);
          json_builder_set_member_name (builder, "GoldCorrect");
          json_builder_add_double_value (builder, a->gold_correct);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  g_clear_pointer (&item->result, json_object_unref);
  item->result = json_object_ref (json_node_get_object (root));
}

typedef struct
{
  guint  assignments;
  double agreement;
  guint  gold_answers;
  double gold_sum;
  double accuracy_sum;
  guint  accuracy_n;
} WorkerStats;

static void
add_worker_accuracy (GHashTable    *stats,
                     const KpVotes *names,
                     const double  *accuracy,
                     guint          n_workers)
{
  for (guint w = 0; w < n_workers && w < kp_votes_get_n_workers (names); w++)
    {
      const char *name = kp_votes_get_worker_name (names, w);
      WorkerStats *ws = name != NULL ? g_hash_table_lookup (stats, name) : NULL;

      if (ws != NULL && isfinite (accuracy[w]))
        {
          ws->accuracy_sum += accuracy[w];
          ws->accuracy_n++;
        }
    }
}

static void
build_workers (KpConsolidator *self)
{
  g_autoptr(GHashTable) stats = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonNode) root = NULL;

  for (guint i = 0; i < self->assignments->len; i++)
    {
      Assignment *a = g_ptr_array_index (self->assignments, i);
      WorkerStats *ws = g_hash_table_lookup (stats, a->worker_id);

      if (ws == NULL)
        {
          ws = g_new0 (WorkerStats, 1);
          g_hash_table_insert (stats, a->worker_id, ws);
          g_ptr_array_add (names, a->worker_id);
        }
      ws->assignments++;
      ws->agreement += a->agreement;
      if (g_hash_table_contains (self->gold, a->item->id))
        {
          ws->gold_answers++;
          ws->gold_sum += a->gold_correct;
        }
    }

  for (guint e = 0; e < self->elements->len; e++)
    {
      Element *element = g_ptr_array_index (self->elements, e);

      if (element->consensus != NULL)
        add_worker_accuracy (stats, element->votes, element->consensus->worker_accuracy,
                             element->consensus->n_workers);
      if (element->multi_consensus != NULL)
        add_worker_accuracy (stats, kp_multi_votes_get_names (element->multi_votes),
                             element->multi_consensus->worker_accuracy,
                             element->multi_consensus->n_workers);
    }

  g_ptr_array_sort (names, compare_strings);
  json_builder_begin_object (builder);
  for (guint i = 0; i < names->len; i++)
    {
      WorkerStats *ws = g_hash_table_lookup (stats, names->pdata[i]);
      double agreement = ws->assignments > 0 ? ws->agreement / ws->assignments : 0;

      json_builder_set_member_name (builder, names->pdata[i]);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "Accuracy");
      json_builder_add_double_value (builder, ws->accuracy_n > 0
                                              ? ws->accuracy_sum / ws->accuracy_n : agreement);
      json_builder_set_member_name (builder, "Agreement");
      json_builder_add_double_value (builder, agreement);
      json_builder_set_member_name (builder, "Assignments");
      json_builder_add_int_value (builder, ws->assignments);
      json_builder_set_member_name (builder, "GoldAnswers");
      json_builder_add_int_value (builder, ws->gold_answers);
      if (ws->gold_answers > 0)
        {
          json_builder_set_member_name (builder, "GoldAccuracy");
          json_builder_add_double_value (builder, ws->gold_sum / ws->gold_answers);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  g_clear_pointer (&self->workers, json_object_unref);
  self->workers = json_object_ref (json_node_get_object (root));
}

gboolean
kp_consolidator_run (KpConsolidator *self,
                     GCancellable   *cancellable,
                     GError        **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) names = g_ptr_array_new ();

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  self->ran = FALSE;
  g_clear_pointer (&self->elements, g_ptr_array_unref);
  self->elements = g_ptr_array_new_with_free_func ((GDestroyNotify)element_free);

  for (guint i = 0; i < self->assignments->len; i++)
    {
      Assignment *a = g_ptr_array_index (self->assignments, i);
      g_autoptr(GList) members = json_object_get_members (a->answer);

      for (GList *l = members; l != NULL; l = l->next)
        if (g_hash_table_add (seen, l->data))
          g_ptr_array_add (names, l->data);
    }
  g_ptr_array_sort (names, compare_strings);

  for (guint i = 0; i < names->len; i++)
    {
      Element *element = infer_element (self, names->pdata[i]);

      g_ptr_array_add (self->elements, element);
      if (!run_votes (self, element, cancellable, error))
        return FALSE;
    }

  for (guint i = 0; i < self->items->len; i++)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, NULL))
        {
          g_set_error_literal (error, KP_CONSOLIDATE_ERROR, KP_CONSOLIDATE_ERROR_CANCELLED,
                               _("The consolidation was cancelled"));
          return FALSE;
        }
      consolidate_item (self, g_ptr_array_index (self->items, i));
    }

  build_workers (self);
  self->ran = TRUE;

  return TRUE;
}

guint
kp_consolidator_get_n_items (KpConsolidator *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->items->len;
}

const char *
kp_consolidator_get_item_id (KpConsolidator *self,
                             guint           index)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (index < self->items->len, NULL);

  return ((Item *)g_ptr_array_index (self->items, index))->id;
}

/* json_node_copy() shares objects and arrays; callers get results of
 * their own, free to change. */
static JsonNode *
deep_copy (JsonNode *node)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *src = json_node_get_object (node);
      g_autoptr(JsonObject) dst = json_object_new ();
      g_autoptr(GList) members = json_object_get_members (src);

      for (GList *l = members; l != NULL; l = l->next)
        json_object_set_member (dst, l->data, deep_copy (json_object_get_member (src, l->data)));

      return json_node_init_object (json_node_alloc (), dst);
    }

  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *src = json_node_get_array (node);
      g_autoptr(JsonArray) dst = json_array_sized_new (json_array_get_length (src));

      for (guint i = 0; i < json_array_get_length (src); i++)
        json_array_add_element (dst, deep_copy (json_array_get_element (src, i)));

      return json_node_init_array (json_node_alloc (), dst);
    }

  return json_node_copy (node);
}

static JsonObject *
copy_object (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);
  g_autoptr(JsonNode) copy = deep_copy (node);

  return json_object_ref (json_node_get_object (copy));
}

JsonObject *
kp_consolidator_dup_result (KpConsolidator *self,
                            const char     *item_id)
{
  Item *item;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (item_id != NULL, NULL);

  item = lookup_item (self, item_id, FALSE);
  if (!self->ran || item == NULL || item->result == NULL)
    return NULL;

  return copy_object (item->result);
}

JsonObject *
kp_consolidator_dup_workers (KpConsolidator *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (!self->ran || self->workers == NULL)
    return json_object_new ();

  return copy_object (self->workers);
}

/* Answers from XML */

static const char *
object_string (JsonObject *object,
               const char *member)
{
  return node_string (json_object_get_member (object, member));
}

JsonObject *
kp_answer_object_from_xml (const char *xml,
                           GError    **error)
{
  g_autoptr(JsonArray) answers = NULL;
  g_autoptr(JsonObject) object = NULL;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (xml == NULL || xml[0] == '\0')
    return json_object_new ();

  answers = kp_question_answers_from_xml (xml, error);
  if (answers == NULL)
    return NULL;

  /* crowd-form submits one FreeText "taskAnswers" holding a JSON array of
   * one object. */
  if (json_array_get_length (answers) == 1)
    {
      JsonObject *only = json_array_get_object_element (answers, 0);
      const char *free_text = only != NULL ? object_string (only, "FreeText") : NULL;

      if (free_text != NULL && g_strcmp0 (object_string (only, "QuestionIdentifier"), "taskAnswers") == 0)
        {
          g_autoptr(JsonParser) parser = json_parser_new ();
          JsonNode *root;

          if (json_parser_load_from_data (parser, free_text, -1, NULL) &&
              (root = json_parser_get_root (parser)) != NULL)
            {
              JsonArray *array = JSON_NODE_HOLDS_ARRAY (root) ? json_node_get_array (root) : NULL;

              if (JSON_NODE_HOLDS_OBJECT (root))
                return copy_object (json_node_get_object (root));

              /* Several objects (never seen from crowd-form) merge, later
               * members winning. */
              if (array != NULL && json_array_get_length (array) > 0)
                {
                  gboolean all_objects = TRUE;

                  for (guint i = 0; i < json_array_get_length (array); i++)
                    all_objects &= JSON_NODE_HOLDS_OBJECT (json_array_get_element (array, i));

                  if (all_objects)
                    {
                      object = json_object_new ();
                      for (guint i = 0; i < json_array_get_length (array); i++)
                        {
                          JsonObject *o = json_array_get_object_element (array, i);
                          g_autoptr(GList) members = json_object_get_members (o);

                          for (GList *l = members; l != NULL; l = l->next)
                            json_object_set_member (object, l->data,
                                                    json_node_copy (json_object_get_member (o, l->data)));
                        }
                      return g_steal_pointer (&object);
                    }
                }
            }
        }
    }

  object = json_object_new ();
  for (guint i = 0; i < json_array_get_length (answers); i++)
    {
      JsonNode *node = json_array_get_element (answers, i);
      JsonObject *answer = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      const char *id = answer != NULL ? object_string (answer, "QuestionIdentifier") : NULL;

      if (id == NULL)
        continue;
      if (json_object_has_member (answer, "FreeText"))
        json_object_set_member (object, id, json_node_copy (json_object_get_member (answer, "FreeText")));
      else if (json_object_has_member (answer, "SelectionIdentifier"))
        {
          json_object_set_member (object, id,
                                  json_node_copy (json_object_get_member (answer, "SelectionIdentifier")));
          if (json_object_has_member (answer, "OtherSelectionText"))
            {
              g_autofree char *other = g_strconcat (id, ".other", NULL);

              json_object_set_member (object, other,
                                      json_node_copy (json_object_get_member (answer,
                                                                              "OtherSelectionText")));
            }
        }
      else if (json_object_has_member (answer, "UploadedFileKey"))
        json_object_set_member (object, id,
                                json_node_copy (json_object_get_member (answer, "UploadedFileKey")));
    }

  return g_steal_pointer (&object);
}

JsonNode *
kp_answer_value_parse (const char *text)
{
  const char *p = text;

  g_return_val_if_fail (text != NULL, NULL);

  while (g_ascii_isspace (*p))
    p++;

  if (*p == '{' || *p == '[')
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      JsonNode *root;

      if (json_parser_load_from_data (parser, text, -1, NULL) &&
          (root = json_parser_get_root (parser)) != NULL &&
          (JSON_NODE_HOLDS_OBJECT (root) || JSON_NODE_HOLDS_ARRAY (root)))
        return json_node_copy (root);
    }

  return json_node_init_string (json_node_alloc (), text);
}

/* Scoring against a known answer */

static GPtrArray *
parse_value_shapes (JsonNode        *node,
                    KpConsShapeKind *kind)
{
  ValueInfo info;

  classify_value (node, &info);
  if (info.kind != VALUE_SHAPES)
    return NULL;

  *kind = info.shape_kind;

  return _kp_shapes_parse (info.shape_kind,
                           json_node_get_array (object_member (info.inner,
                                                               _kp_shape_kind_member (info.shape_kind))),
                           NULL);
}

static double
score_element (JsonNode                   *answer,
               JsonNode                   *known,
               const KpConsolidateOptions *options)
{
  ValueInfo ki, ai;

  if (answer == NULL)
    return 0;

  classify_value (known, &ki);
  classify_value (answer, &ai);

  switch (ki.kind)
    {
    case VALUE_TEXT:
    case VALUE_NUMERIC_TEXT:
      {
        const char *label = value_label (answer);
        g_autofree char *a = NULL;
        g_autofree char *k = NULL;

        if (ki.kind == VALUE_NUMERIC_TEXT && (ai.kind == VALUE_NUMBER || ai.kind == VALUE_NUMERIC_TEXT))
          return numbers_equal (ki.number, ai.number);

        /* A class label is compared exactly, a text answer normalised. */
        if (ai.kind == VALUE_LABEL || ai.kind == VALUE_STRINGS)
          return g_strcmp0 (label, node_string (known)) == 0;
        if (ai.kind != VALUE_TEXT && ai.kind != VALUE_NUMERIC_TEXT)
          return 0;

        a = normalize_text (node_string (answer));
        k = normalize_text (node_string (known));
        return strcmp (a, k) == 0;
      }

    case VALUE_NUMBER:
      return (ai.kind == VALUE_NUMBER || ai.kind == VALUE_NUMERIC_TEXT) &&
             numbers_equal (ki.number, ai.number);

    case VALUE_LABEL:
      return g_strcmp0 (value_label (answer), value_label (known)) == 0;

    case VALUE_STRINGS:
    case VALUE_LABELS:
      {
        g_autoptr(GPtrArray) ks = value_label_set (known);
        g_autoptr(GPtrArray) as = value_label_set (answer);

        return ks != NULL && as != NULL ? jaccard (as, ks) : 0;
      }

    case VALUE_CHECKBOXES:
      {
        g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
        g_autoptr(GList) km = json_object_get_members (json_node_get_object (known));
        g_autoptr(GList) am = NULL;
        guint alike = 0;

        if (ai.kind != VALUE_CHECKBOXES)
          return 0;
        am = json_object_get_members (json_node_get_object (answer));
        for (GList *l = km; l != NULL; l = l->next)
          g_hash_table_add (seen, l->data);
        for (GList *l = am; l != NULL; l = l->next)
          g_hash_table_add (seen, l->data);

        {
          GHashTableIter iter;
          gpointer key;

          g_hash_table_iter_init (&iter, seen);
          while (g_hash_table_iter_next (&iter, &key, NULL))
            alike += checkbox_value (known, key) == checkbox_value (answer, key);
        }

        return g_hash_table_size (seen) > 0 ? (double)alike / g_hash_table_size (seen) : 1;
      }

    case VALUE_SHAPES:
      {
        KpConsShapeKind kk = ki.shape_kind, ak = KP_N_CONS_SHAPE_KINDS;
        g_autoptr(GPtrArray) ks = parse_value_shapes (known, &kk);
        g_autoptr(GPtrArray) as = parse_value_shapes (answer, &ak);

        if (ks == NULL || as == NULL || ak != kk)
          return 0;
        return _kp_shapes_f1 (as, ks, kk, options);
      }

    case VALUE_UNSUPPORTED:
    default:
      return json_node_equal (answer, known);
    }
}

double
kp_consolidate_score (JsonObject                 *answer,
                      JsonObject                 *known,
                      const KpConsolidateOptions *options)
{
  KpConsolidateOptions defaults;
  g_autoptr(GList) members = NULL;
  double sum = 0;
  guint n = 0;

  g_return_val_if_fail (known != NULL, 0);

  if (options == NULL)
    {
      kp_consolidate_options_init (&defaults);
      options = &defaults;
    }

  members = json_object_get_members (known);
  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonNode *a = answer != NULL ? json_object_get_member (answer, l->data) : NULL;

      sum += score_element (a, json_object_get_member (known, l->data), options);
      n++;
    }

  /* Nothing known: nothing to get wrong. */
  return n > 0 ? sum / n : 1;
}
