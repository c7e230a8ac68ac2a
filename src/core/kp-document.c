/* kp-document.c: the annotations of one image, edited through an undo stack
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-document.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "kp-store-private.h"

/* A step is a list of changes, each the whole object before and after
 * (NULL before: added; NULL after: removed), plus optionally the image's
 * tags before and after. Undo and redo replay it backwards or forwards;
 * the step lives in the store's journal as JSON, so the stacks are the
 * journal rows and nothing but their counts is kept in memory. */
typedef struct
{
  KpAnnotation *before;
  KpAnnotation *after;
} Change;

typedef struct
{
  GArray  *changes;             /* Change */
  GArray  *tags_before;         /* gint64, or NULL when tags did not change */
  GArray  *tags_after;
} Step;

struct _KpDocument
{
  GObject     parent_instance;

  KpStore    *store;
  gint64      media_id;
  GPtrArray  *annotations;      /* KpAnnotation, in drawing order: z, then id */
  GHashTable *by_id;            /* id -> KpAnnotation in annotations */
  GArray     *tags;             /* gint64 */
  guint       n_undo;
  guint       n_redo;
};

G_DEFINE_FINAL_TYPE (KpDocument, kp_document, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STORE,
  PROP_MEDIA_ID,
  PROP_CAN_UNDO,
  PROP_CAN_REDO,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  CHANGED,
  TAGS_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* Steps */

static void
change_clear (gpointer data)
{
  Change *change = data;

  g_clear_pointer (&change->before, kp_annotation_free);
  g_clear_pointer (&change->after, kp_annotation_free);
}

static Step *
step_new (void)
{
  Step *step = g_new0 (Step, 1);

  step->changes = g_array_new (FALSE, TRUE, sizeof (Change));
  g_array_set_clear_func (step->changes, change_clear);

  return step;
}

static void
step_free (Step *step)
{
  if (step == NULL)
    return;

  g_array_unref (step->changes);
  g_clear_pointer (&step->tags_before, g_array_unref);
  g_clear_pointer (&step->tags_after, g_array_unref);
  g_free (step);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Step, step_free)

/* Takes before and after. */
static void
step_add (Step         *step,
          KpAnnotation *before,
          KpAnnotation *after)
{
  Change change = { before, after };

  g_array_append_val (step->changes, change);
}

/* JSON form of a step */

static void
add_double_array (JsonBuilder  *builder,
                  const double *values,
                  guint         n)
{
  json_builder_begin_array (builder);
  for (guint i = 0; i < n; i++)
    json_builder_add_double_value (builder, values[i]);
  json_builder_end_array (builder);
}

static void
build_annotation (JsonBuilder        *builder,
                  const KpAnnotation *a)
{
  if (a == NULL)
    {
      json_builder_add_null_value (builder);
      return;
    }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, a->id);
  json_builder_set_member_name (builder, "label");
  json_builder_add_int_value (builder, a->label_id);
  json_builder_set_member_name (builder, "shape");
  json_builder_add_int_value (builder, a->shape);
  json_builder_set_member_name (builder, "rect");
  add_double_array (builder, (const double[]) { a->rect.x, a->rect.y, a->rect.width, a->rect.height }, 4);
  if (a->shape == KP_SHAPE_ROTATED_BOX)
    {
      json_builder_set_member_name (builder, "rotated");
      add_double_array (builder, (const double[]) { a->rotated.cx, a->rotated.cy, a->rotated.width,
                                                    a->rotated.height, a->rotated.angle }, 5);
    }
  if (a->n_points > 0)
    {
      /* Base64 of little-endian doubles: exact, and several times faster
       * than JSON numbers for a polygon of 50,000 vertices. */
      g_autofree guint64 *le = g_new (guint64, a->n_points * 2);
      g_autofree char *text = NULL;

      memcpy (le, a->points, a->n_points * sizeof (KpPoint));
      for (guint i = 0; i < a->n_points * 2; i++)
        le[i] = GUINT64_TO_LE (le[i]);
      text = g_base64_encode ((const guchar *)le, a->n_points * sizeof (KpPoint));
      json_builder_set_member_name (builder, "points");
      json_builder_add_string_value (builder, text);
    }
  if (a->mask != NULL)
    {
      g_autoptr(GBytes) bytes = kp_mask_serialize (a->mask);
      g_autofree char *text = g_base64_encode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));

      json_builder_set_member_name (builder, "mask");
      json_builder_add_string_value (builder, text);
    }
  if (a->keypoint != NULL)
    {
      json_builder_set_member_name (builder, "keypoint");
      json_builder_add_string_value (builder, a->keypoint);
    }
  json_builder_set_member_name (builder, "occluded");
  json_builder_add_boolean_value (builder, a->occluded);
  json_builder_set_member_name (builder, "z");
  json_builder_add_int_value (builder, a->z);
  json_builder_set_member_name (builder, "flags");
  json_builder_add_int_value (builder, a->flags);
  json_builder_set_member_name (builder, "review");
  json_builder_add_int_value (builder, a->review);
  if (a->source != NULL)
    {
      json_builder_set_member_name (builder, "source");
      json_builder_add_string_value (builder, a->source);
    }
  json_builder_set_member_name (builder, "confidence");
  json_builder_add_double_value (builder, a->confidence);
  if (a->n_attributes > 0)
    {
      json_builder_set_member_name (builder, "attributes");
      json_builder_begin_array (builder);
      for (guint i = 0; i < a->n_attributes; i++)
        {
          json_builder_begin_array (builder);
          json_builder_add_int_value (builder, a->attributes[i].attribute_id);
          json_builder_add_string_value (builder, a->attributes[i].value);
          json_builder_end_array (builder);
        }
      json_builder_end_array (builder);
    }
  json_builder_end_object (builder);
}

static void
build_ids (JsonBuilder *builder,
           GArray      *ids)
{
  json_builder_begin_array (builder);
  for (guint i = 0; i < ids->len; i++)
    json_builder_add_int_value (builder, g_array_index (ids, gint64, i));
  json_builder_end_array (builder);
}

static void
add_label (GString *labels,
           gint64   label_id)
{
  g_autofree char *item = g_strdup_printf ("%" G_GINT64_FORMAT ",", label_id);
  g_autofree char *needle = g_strdup_printf (",%s", item);

  if (strstr (labels->str, needle) == NULL)
    g_string_append (labels, item);
}

static char *
step_to_json (const Step  *step,
              char       **labels_out)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  GString *labels = g_string_new (",");

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "changes");
  json_builder_begin_array (builder);
  for (guint i = 0; i < step->changes->len; i++)
    {
      const Change *change = &g_array_index (step->changes, Change, i);

      json_builder_begin_array (builder);
      build_annotation (builder, change->before);
      build_annotation (builder, change->after);
      json_builder_end_array (builder);
      if (change->before != NULL)
        add_label (labels, change->before->label_id);
      if (change->after != NULL)
        add_label (labels, change->after->label_id);
    }
  json_builder_end_array (builder);
  if (step->tags_before != NULL)
    {
      json_builder_set_member_name (builder, "tags");
      json_builder_begin_array (builder);
      build_ids (builder, step->tags_before);
      build_ids (builder, step->tags_after);
      json_builder_end_array (builder);
    }
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  *labels_out = g_string_free (labels, FALSE);

  return json_generator_to_data (generator, NULL);
}

static gboolean
read_doubles (JsonObject *object,
              const char *member,
              double     *values,
              guint       n)
{
  JsonArray *array;

  if (!json_object_has_member (object, member) ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (object, member)))
    return FALSE;
  array = json_object_get_array_member (object, member);
  if (json_array_get_length (array) != n)
    return FALSE;
  for (guint i = 0; i < n; i++)
    values[i] = json_array_get_double_element (array, i);

  return TRUE;
}

static KpAnnotation *
parse_annotation (JsonNode *node,
                  gint64    media_id)
{
  g_autoptr(KpAnnotation) a = NULL;
  JsonObject *object;
  double rect[4];

  if (JSON_NODE_HOLDS_NULL (node))
    return NULL;

  object = json_node_get_object (node);
  a = g_new0 (KpAnnotation, 1);
  a->id = json_object_get_int_member (object, "id");
  a->media_id = media_id;
  a->label_id = json_object_get_int_member (object, "label");
  a->shape = json_object_get_int_member (object, "shape");
  if (read_doubles (object, "rect", rect, 4))
    a->rect = (KpRect) { rect[0], rect[1], rect[2], rect[3] };
  if (a->shape == KP_SHAPE_ROTATED_BOX)
    {
      double v[5] = { 0 };

      read_doubles (object, "rotated", v, 5);
      a->rotated = (KpRotatedBox) { v[0], v[1], v[2], v[3], v[4] };
    }
  if (json_object_has_member (object, "points"))
    {
      gsize len = 0;
      g_autofree guint64 *le = (guint64 *)(void *)g_base64_decode (json_object_get_string_member (object, "points"),
                                                                  &len);
      guint n = len / sizeof (KpPoint);

      for (guint i = 0; i < n * 2; i++)
        le[i] = GUINT64_FROM_LE (le[i]);
      a->points = g_new (KpPoint, MAX (n, 1));
      a->n_points = n;
      if (n > 0)
        memcpy (a->points, le, n * sizeof (KpPoint));
    }
  if (json_object_has_member (object, "mask"))
    {
      gsize len = 0;
      g_autofree guchar *data = g_base64_decode (json_object_get_string_member (object, "mask"), &len);

      a->mask = kp_mask_deserialize (data, len);
    }
  a->keypoint = g_strdup (json_object_get_string_member_with_default (object, "keypoint", NULL));
  a->occluded = json_object_get_boolean_member_with_default (object, "occluded", FALSE);
  a->z = json_object_get_int_member_with_default (object, "z", 0);
  a->flags = json_object_get_int_member_with_default (object, "flags", 0);
  a->review = json_object_get_int_member_with_default (object, "review", 0);
  a->source = g_strdup (json_object_get_string_member_with_default (object, "source", NULL));
  a->confidence = json_object_get_double_member_with_default (object, "confidence", 0);
  if (json_object_has_member (object, "attributes"))
    {
      JsonArray *array = json_object_get_array_member (object, "attributes");

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonArray *pair = json_array_get_array_element (array, i);

          kp_annotation_set_attribute (a, json_array_get_int_element (pair, 0),
                                       json_array_get_string_element (pair, 1));
        }
    }

  return g_steal_pointer (&a);
}

static GArray *
parse_ids (JsonArray *array)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      gint64 id = json_array_get_int_element (array, i);

      g_array_append_val (ids, id);
    }

  return ids;
}

static Step *
step_from_json (const char  *text,
                gint64       media_id,
                GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(Step) step = step_new ();
  JsonObject *root;
  JsonArray *changes;

  if (!json_parser_load_from_data (parser, text, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_CORRUPT,
                           _("The undo history of this image is damaged."));
      return NULL;
    }

  root = json_node_get_object (json_parser_get_root (parser));
  changes = json_object_get_array_member (root, "changes");
  for (guint i = 0; changes != NULL && i < json_array_get_length (changes); i++)
    {
      JsonArray *pair = json_array_get_array_element (changes, i);

      step_add (step,
                parse_annotation (json_array_get_element (pair, 0), media_id),
                parse_annotation (json_array_get_element (pair, 1), media_id));
    }
  if (json_object_has_member (root, "tags"))
    {
      JsonArray *tags = json_object_get_array_member (root, "tags");

      step->tags_before = parse_ids (json_array_get_array_element (tags, 0));
      step->tags_after = parse_ids (json_array_get_array_element (tags, 1));
    }

  return g_steal_pointer (&step);
}

/* Memory */

static int
compare_order (gconstpointer a,
               gconstpointer b)
{
  const KpAnnotation *x = *(const KpAnnotation * const *)a;
  const KpAnnotation *y = *(const KpAnnotation * const *)b;

  if (x->z != y->z)
    return x->z < y->z ? -1 : 1;

  return x->id < y->id ? -1 : (x->id > y->id);
}

/* Where an annotation with this z and id goes in the drawing order. */
static guint
find_position (KpDocument         *self,
               const KpAnnotation *key)
{
  guint lo = 0, hi = self->annotations->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (compare_order (&self->annotations->pdata[mid], &key) < 0)
        lo = mid + 1;
      else
        hi = mid;
    }

  return lo;
}

static KpAnnotation *
lookup (KpDocument *self,
        gint64      annotation_id)
{
  return g_hash_table_lookup (self->by_id, &annotation_id);
}

static void
memory_remove (KpDocument *self,
               gint64      id)
{
  KpAnnotation *current = lookup (self, id);
  guint index;

  if (current == NULL)
    return;

  index = find_position (self, current);
  g_assert (index < self->annotations->len && self->annotations->pdata[index] == current);
  g_hash_table_remove (self->by_id, &id);
  g_ptr_array_remove_index (self->annotations, index);
}

static void
memory_put (KpDocument         *self,
            const KpAnnotation *annotation)
{
  KpAnnotation *copy;

  memory_remove (self, annotation->id);
  copy = kp_annotation_copy (annotation);
  copy->media_id = self->media_id;
  kp_annotation_update_bounds (copy);
  g_ptr_array_insert (self->annotations, find_position (self, copy), copy);
  g_hash_table_insert (self->by_id, &copy->id, copy);
}

static void
set_not_found (GError **error)
{
  g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_NOT_FOUND,
                       _("The annotation no longer exists."));
}

static void
update_state (KpDocument *self,
              guint       n_undo,
              guint       n_redo)
{
  gboolean could_undo = self->n_undo > 0;
  gboolean could_redo = self->n_redo > 0;

  self->n_undo = n_undo;
  self->n_redo = n_redo;

  if (could_undo != (n_undo > 0))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_UNDO]);
  if (could_redo != (n_redo > 0))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_REDO]);
}

/* Running a step */

typedef enum
{
  RUN_DO,                       /* a new edit: journal it */
  RUN_UNDO,
  RUN_REDO,
} RunMode;

/* Writes one change to the store. For a new add, fills in the id. */
static gboolean
store_change (KpDocument    *self,
              KpAnnotation  *from,
              KpAnnotation  *to,
              GError       **error)
{
  if (from == NULL && to != NULL)
    {
      gint64 id;

      to->media_id = self->media_id;
      id = kp_store_add_annotation (self->store, to, error);
      if (id == 0)
        return FALSE;
      to->id = id;
      return TRUE;
    }

  if (from != NULL && to == NULL)
    return kp_store_delete_annotation (self->store, from->id, error);

  if (from != NULL && to != NULL)
    {
      to->media_id = self->media_id;
      return kp_store_update_annotation (self->store, to, error);
    }

  return TRUE;
}

static gboolean
same_ids (GArray *a,
          GArray *b)
{
  return a->len == b->len &&
         (a->len == 0 || memcmp (a->data, b->data, a->len * sizeof (gint64)) == 0);
}

/* Runs step in one store transaction together with its journal entry
 * (history_id for undo and redo), then mirrors it in memory. On error
 * nothing changed, in the store or in memory. */
static gboolean
run_step (KpDocument  *self,
          Step        *step,
          RunMode      mode,
          gint64       history_id,
          GError     **error)
{
  gboolean forwards = mode != RUN_UNDO;
  guint n = step->changes->len;
  gboolean order_changed = FALSE;
  gboolean tags_changed = FALSE;
  GArray *tags_to = NULL;
  guint n_undo = self->n_undo, n_redo = self->n_redo;

  if (!_kp_store_begin (self->store, error))
    return FALSE;

  for (guint k = 0; k < n; k++)
    {
      Change *change = &g_array_index (step->changes, Change, forwards ? k : n - 1 - k);
      KpAnnotation *from = forwards ? change->before : change->after;
      KpAnnotation *to = forwards ? change->after : change->before;

      /* The object must be there (or not) as the step expects. */
      if (from != NULL && lookup (self, from->id) == NULL)
        {
          set_not_found (error);
          goto fail;
        }

      if (!store_change (self, from, to, error))
        goto fail;

      if (from == NULL || to == NULL || from->z != to->z)
        order_changed = TRUE;
    }

  if (step->tags_before != NULL)
    {
      tags_to = forwards ? step->tags_after : step->tags_before;
      if (!kp_store_set_media_tags (self->store, self->media_id,
                                    (const gint64 *)(void *)tags_to->data, tags_to->len, error))
        goto fail;
      tags_changed = !same_ids (tags_to, self->tags);
    }

  switch (mode)
    {
    case RUN_DO:
      {
        g_autofree char *labels = NULL;
        g_autofree char *json = step_to_json (step, &labels);

        if (_kp_store_history_push (self->store, self->media_id, labels, json,
                                    KP_DOCUMENT_HISTORY_LIMIT, error) == 0)
          goto fail;
        n_undo = MIN (n_undo + 1, KP_DOCUMENT_HISTORY_LIMIT);
        n_redo = 0;
        break;
      }

    case RUN_UNDO:
      if (!_kp_store_history_mark (self->store, history_id, FALSE, error))
        goto fail;
      n_undo--;
      n_redo++;
      break;

    case RUN_REDO:
      if (!_kp_store_history_mark (self->store, history_id, TRUE, error))
        goto fail;
      n_undo++;
      n_redo--;
      break;

    default:
      g_assert_not_reached ();
    }

  if (!_kp_store_commit (self->store, error))
    goto fail_committed;

  /* The store has it all: now memory. */
  for (guint k = 0; k < n; k++)
    {
      Change *change = &g_array_index (step->changes, Change, forwards ? k : n - 1 - k);
      KpAnnotation *from = forwards ? change->before : change->after;
      KpAnnotation *to = forwards ? change->after : change->before;

      if (to != NULL)
        memory_put (self, to);
      else if (from != NULL)
        memory_remove (self, from->id);
    }

  if (tags_to != NULL)
    {
      g_array_set_size (self->tags, 0);
      g_array_append_vals (self->tags, tags_to->data, tags_to->len);
    }

  update_state (self, n_undo, n_redo);

  if (n == 1 && !order_changed)
    {
      Change *change = &g_array_index (step->changes, Change, 0);

      g_signal_emit (self, signals[CHANGED], 0,
                     change->after != NULL ? change->after->id : change->before->id);
    }
  else if (n == 1 && order_changed)
    {
      Change *change = &g_array_index (step->changes, Change, 0);

      /* An add or remove of one object: the canvas handles that by id. */
      if (change->before == NULL || change->after == NULL)
        g_signal_emit (self, signals[CHANGED], 0,
                       change->after != NULL ? change->after->id : change->before->id);
      else
        g_signal_emit (self, signals[CHANGED], 0, (gint64)0);
    }
  else if (n > 1)
    g_signal_emit (self, signals[CHANGED], 0, (gint64)0);

  if (tags_changed)
    g_signal_emit (self, signals[TAGS_CHANGED], 0);

  return TRUE;

fail:
  _kp_store_rollback (self->store);
fail_committed:
  /* Ids handed out by a rolled-back insert are not real. */
  if (mode == RUN_DO)
    for (guint k = 0; k < n; k++)
      {
        Change *change = &g_array_index (step->changes, Change, k);

        if (change->before == NULL && change->after != NULL)
          change->after->id = 0;
      }
  return FALSE;
}

/* A new edit. Steps with nothing in them are not recorded. */
static gboolean
do_step (KpDocument  *self,
         Step        *step,
         GError     **error)
{
  if (step->changes->len == 0 && step->tags_before == NULL)
    return TRUE;

  return run_step (self, step, RUN_DO, 0, error);
}

/* GObject */

static void
kp_document_finalize (GObject *object)
{
  KpDocument *self = (KpDocument *)object;

  g_clear_pointer (&self->by_id, g_hash_table_unref);
  g_clear_pointer (&self->annotations, g_ptr_array_unref);
  g_clear_pointer (&self->tags, g_array_unref);

  G_OBJECT_CLASS (kp_document_parent_class)->finalize (object);
}

static void
kp_document_dispose (GObject *object)
{
  KpDocument *self = (KpDocument *)object;

  g_clear_object (&self->store);

  G_OBJECT_CLASS (kp_document_parent_class)->dispose (object);
}

static void
kp_document_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  KpDocument *self = KP_DOCUMENT (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;

    case PROP_MEDIA_ID:
      g_value_set_int64 (value, self->media_id);
      break;

    case PROP_CAN_UNDO:
      g_value_set_boolean (value, kp_document_get_can_undo (self));
      break;

    case PROP_CAN_REDO:
      g_value_set_boolean (value, kp_document_get_can_redo (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_document_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  KpDocument *self = KP_DOCUMENT (object);

  switch (prop_id)
    {
    case PROP_STORE:
      self->store = g_value_dup_object (value);
      break;

    case PROP_MEDIA_ID:
      self->media_id = g_value_get_int64 (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_document_class_init (KpDocumentClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kp_document_dispose;
  object_class->finalize = kp_document_finalize;
  object_class->get_property = kp_document_get_property;
  object_class->set_property = kp_document_set_property;

  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL,
                         KP_TYPE_STORE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_MEDIA_ID] =
    g_param_spec_int64 ("media-id", NULL, NULL,
                        0, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_CAN_UNDO] =
    g_param_spec_boolean ("can-undo", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_CAN_REDO] =
    g_param_spec_boolean ("can-redo", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * KpDocument::changed:
   * @self: the document
   * @annotation_id: the annotation added, removed or modified, or 0 for many
   *   (or a change of drawing order)
   */
  signals[CHANGED] =
    g_signal_new ("changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 1, G_TYPE_INT64);

  /**
   * KpDocument::tags-changed:
   * @self: the document
   *
   * The image-level tags changed (an edit, undo or redo).
   */
  signals[TAGS_CHANGED] =
    g_signal_new ("tags-changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 0);
}

static void
kp_document_init (KpDocument *self)
{
  self->annotations = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_annotation_free);
  self->by_id = g_hash_table_new (g_int64_hash, g_int64_equal);
  self->tags = g_array_new (FALSE, FALSE, sizeof (gint64));
}

/* Public API */

struct _KpDocumentContents
{
  gint64     media_id;
  GPtrArray *annotations;       /* KpAnnotation, in drawing order */
  GArray    *tags;              /* gint64 */
  guint      n_undo;
  guint      n_redo;
};

void
kp_document_contents_free (KpDocumentContents *contents)
{
  if (contents == NULL)
    return;

  g_clear_pointer (&contents->annotations, g_ptr_array_unref);
  g_clear_pointer (&contents->tags, g_array_unref);
  g_free (contents);
}

gint64
kp_document_contents_get_media_id (const KpDocumentContents *contents)
{
  g_return_val_if_fail (contents != NULL, 0);

  return contents->media_id;
}

KpDocumentContents *
kp_document_contents_read (KpStore  *store,
                           gint64    media_id,
                           GError  **error)
{
  g_autoptr(KpDocumentContents) contents = g_new0 (KpDocumentContents, 1);
  g_autoptr(KpMedia) media = NULL;
  sqlite3 *db;
  gboolean snapshot;
  gboolean ok;

  g_return_val_if_fail (KP_IS_STORE (store), NULL);
  g_return_val_if_fail (media_id > 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* One read transaction, so that objects, tags and history agree even
   * while another connection writes. */
  db = _kp_store_get_db (store);
  snapshot = sqlite3_get_autocommit (db) && sqlite3_exec (db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;

  contents->media_id = media_id;
  ok = (media = kp_store_get_media (store, media_id, error)) != NULL &&
       (contents->annotations = kp_store_list_annotations (store, media_id, error)) != NULL &&
       (contents->tags = kp_store_get_media_tags (store, media_id, error)) != NULL &&
       _kp_store_history_count (store, media_id, &contents->n_undo, &contents->n_redo, error);

  if (snapshot)
    sqlite3_exec (db, "COMMIT", NULL, NULL, NULL);

  if (!ok)
    return NULL;

  g_ptr_array_sort (contents->annotations, compare_order);

  return g_steal_pointer (&contents);
}

/* Takes what contents holds, leaving it empty. */
static void
take_contents (KpDocument         *self,
               KpDocumentContents *contents)
{
  g_hash_table_remove_all (self->by_id);
  g_ptr_array_set_size (self->annotations, 0);
  for (guint i = 0; i < contents->annotations->len; i++)
    {
      KpAnnotation *a = contents->annotations->pdata[i];

      g_hash_table_insert (self->by_id, &a->id, a);
    }
  g_ptr_array_extend_and_steal (self->annotations, g_steal_pointer (&contents->annotations));
  g_array_set_size (self->tags, 0);
  g_array_append_vals (self->tags, contents->tags->data, contents->tags->len);
}

KpDocument *
kp_document_new_from_contents (KpStore            *store,
                               KpDocumentContents *contents)
{
  g_autoptr(KpDocumentContents) owned = contents;
  KpDocument *self;

  g_return_val_if_fail (KP_IS_STORE (store), NULL);
  g_return_val_if_fail (contents != NULL && contents->annotations != NULL, NULL);

  self = g_object_new (KP_TYPE_DOCUMENT,
                       "store", store,
                       "media-id", contents->media_id,
                       NULL);
  self->n_undo = contents->n_undo;
  self->n_redo = contents->n_redo;
  take_contents (self, contents);

  return self;
}

KpDocument *
kp_document_new (KpStore  *store,
                 gint64    media_id,
                 GError  **error)
{
  KpDocumentContents *contents;

  g_return_val_if_fail (KP_IS_STORE (store), NULL);
  g_return_val_if_fail (media_id > 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  contents = kp_document_contents_read (store, media_id, error);
  if (contents == NULL)
    return NULL;

  return kp_document_new_from_contents (store, contents);
}

KpStore *
kp_document_get_store (KpDocument *self)
{
  g_return_val_if_fail (KP_IS_DOCUMENT (self), NULL);

  return self->store;
}

gint64
kp_document_get_media_id (KpDocument *self)
{
  g_return_val_if_fail (KP_IS_DOCUMENT (self), 0);

  return self->media_id;
}

GPtrArray *
kp_document_get_annotations (KpDocument *self)
{
  g_return_val_if_fail (KP_IS_DOCUMENT (self), NULL);

  return self->annotations;
}

const KpAnnotation *
kp_document_lookup (KpDocument *self,
                    gint64      annotation_id)
{
  g_return_val_if_fail (KP_IS_DOCUMENT (self), NULL);

  return lookup (self, annotation_id);
}

static int
top_z (KpDocument *self)
{
  if (self->annotations->len == 0)
    return 0;

  return ((KpAnnotation *)g_ptr_array_index (self->annotations, self->annotations->len - 1))->z;
}

static int
bottom_z (KpDocument *self)
{
  if (self->annotations->len == 0)
    return 0;

  return ((KpAnnotation *)g_ptr_array_index (self->annotations, 0))->z;
}

/* A new object's copy: on top, with its label's default attribute values. */
static KpAnnotation *
new_copy (KpDocument         *self,
          const KpAnnotation *annotation,
          int                 z,
          GPtrArray          *attributes)
{
  KpAnnotation *copy = kp_annotation_copy (annotation);

  copy->id = 0;
  copy->media_id = self->media_id;
  copy->z = MAX (copy->z, z);
  kp_annotation_update_bounds (copy);

  for (guint k = 0; k < attributes->len; k++)
    {
      const KpAttribute *attribute = attributes->pdata[k];

      if (attribute->label_id == copy->label_id && attribute->default_value != NULL &&
          kp_annotation_get_attribute (copy, attribute->id) == NULL)
        kp_annotation_set_attribute (copy, attribute->id, attribute->default_value);
    }

  return copy;
}

gboolean
kp_document_add_many (KpDocument                 *self,
                      const KpAnnotation * const *annotations,
                      guint                       n_annotations,
                      gint64                     *ids,
                      GError                    **error)
{
  g_autoptr(Step) step = step_new ();
  g_autoptr(GPtrArray) attributes = NULL;
  int z = top_z (self);

  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (annotations != NULL || n_annotations == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  attributes = kp_store_list_all_attributes (self->store, error);
  if (attributes == NULL)
    return FALSE;

  for (guint i = 0; i < n_annotations; i++)
    step_add (step, NULL, new_copy (self, annotations[i], z, attributes));

  if (!do_step (self, step, error))
    return FALSE;

  if (ids != NULL)
    for (guint i = 0; i < n_annotations; i++)
      ids[i] = g_array_index (step->changes, Change, i).after->id;

  return TRUE;
}

gint64
kp_document_add_annotation (KpDocument          *self,
                            const KpAnnotation  *annotation,
                            GError             **error)
{
  gint64 id = 0;

  g_return_val_if_fail (KP_IS_DOCUMENT (self), 0);
  g_return_val_if_fail (annotation != NULL, 0);

  if (!kp_document_add_many (self, &annotation, 1, &id, error))
    return 0;

  return id;
}

gint64
kp_document_add (KpDocument    *self,
                 gint64         label_id,
                 const KpRect  *rect,
                 GError       **error)
{
  KpAnnotation annotation = { 0 };

  g_return_val_if_fail (KP_IS_DOCUMENT (self), 0);
  g_return_val_if_fail (rect != NULL, 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  annotation.label_id = label_id;
  annotation.shape = KP_SHAPE_BOX;
  annotation.rect = kp_rect_normalize (*rect);

  return kp_document_add_annotation (self, &annotation, error);
}

/* Edits of what a person drew (geometry, label, attributes) mark a
 * suggestion as changed by a person. */
#define PERSON_EDIT TRUE
#define NOT_PERSON_EDIT FALSE

/* Adds the change from the current state of after->id to after (taken),
 * unless they are equal. */
static gboolean
step_modify (KpDocument    *self,
             Step          *step,
             KpAnnotation  *after,
             gboolean       person_edit,
             GError       **error)
{
  const KpAnnotation *current = lookup (self, after->id);

  if (current == NULL)
    {
      kp_annotation_free (after);
      set_not_found (error);
      return FALSE;
    }

  after->media_id = self->media_id;
  kp_annotation_update_bounds (after);
  if (person_edit && after->review != KP_REVIEW_NONE && !kp_annotation_equal (current, after))
    after->flags |= KP_ANNOTATION_MODIFIED_BY_PERSON;

  if (kp_annotation_equal (current, after))
    {
      kp_annotation_free (after);
      return TRUE;
    }

  step_add (step, kp_annotation_copy (current), after);

  return TRUE;
}

gboolean
kp_document_change_many (KpDocument                 *self,
                         const KpAnnotation * const *added,
                         guint                       n_added,
                         const KpAnnotation * const *updated,
                         guint                       n_updated,
                         const gint64               *removed,
                         guint                       n_removed,
                         gint64                     *ids,
                         GError                    **error)
{
  g_autoptr(Step) step = step_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GPtrArray) attributes = NULL;
  int z = top_z (self);

  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (added != NULL || n_added == 0, FALSE);
  g_return_val_if_fail (updated != NULL || n_updated == 0, FALSE);
  g_return_val_if_fail (removed != NULL || n_removed == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (n_added > 0 && !(attributes = kp_store_list_all_attributes (self->store, error)))
    return FALSE;

  for (guint i = 0; i < n_updated; i++)
    {
      if (!g_hash_table_add (seen, (gpointer)&updated[i]->id))
        {
          g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                               _("An object cannot change twice in one step."));
          return FALSE;
        }
      if (!step_modify (self, step, kp_annotation_copy (updated[i]), PERSON_EDIT, error))
        return FALSE;
    }

  for (guint i = 0; i < n_removed; i++)
    {
      const KpAnnotation *current = lookup (self, removed[i]);

      if (current == NULL)
        {
          set_not_found (error);
          return FALSE;
        }
      if (!g_hash_table_add (seen, (gpointer)&removed[i]))
        {
          g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                               _("An object cannot change twice in one step."));
          return FALSE;
        }
      step_add (step, kp_annotation_copy (current), NULL);
    }

  /* Added last, so that ids can be read from the end of the step. */
  for (guint i = 0; i < n_added; i++)
    step_add (step, NULL, new_copy (self, added[i], z, attributes));

  if (!do_step (self, step, error))
    return FALSE;

  if (ids != NULL)
    for (guint i = 0; i < n_added; i++)
      ids[i] = g_array_index (step->changes, Change, step->changes->len - n_added + i).after->id;

  return TRUE;
}

gboolean
kp_document_update_many (KpDocument                 *self,
                         const KpAnnotation * const *annotations,
                         guint                       n_annotations,
                         GError                    **error)
{
  g_autoptr(Step) step = step_new ();

  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (annotations != NULL || n_annotations == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (guint i = 0; i < n_annotations; i++)
    if (!step_modify (self, step, kp_annotation_copy (annotations[i]), PERSON_EDIT, error))
      return FALSE;

  return do_step (self, step, error);
}

gboolean
kp_document_update (KpDocument          *self,
                    const KpAnnotation  *annotation,
                    GError             **error)
{
  g_return_val_if_fail (annotation != NULL, FALSE);

  return kp_document_update_many (self, &annotation, 1, error);
}

gboolean
kp_document_set_rect (KpDocument    *self,
                      gint64         annotation_id,
                      const KpRect  *rect,
                      GError       **error)
{
  g_autoptr(Step) step = step_new ();
  const KpAnnotation *current;
  KpAnnotation *after;

  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (rect != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  current = lookup (self, annotation_id);
  if (current == NULL)
    {
      set_not_found (error);
      return FALSE;
    }

  after = kp_annotation_copy (current);
  if (after->shape == KP_SHAPE_BOX)
    after->rect = kp_rect_normalize (*rect);
  else
    {
      /* Other shapes follow their bounds: moved, and scaled about the
       * bounds' corner. */
      KpRect from = current->rect;
      KpRect to = kp_rect_normalize (*rect);
      double sx = from.width > 0 ? to.width / from.width : 1;
      double sy = from.height > 0 ? to.height / from.height : 1;

      for (guint i = 0; i < after->n_points; i++)
        {
          after->points[i].x = to.x + (after->points[i].x - from.x) * sx;
          after->points[i].y = to.y + (after->points[i].y - from.y) * sy;
        }
      if (after->shape == KP_SHAPE_ROTATED_BOX)
        {
          after->rotated.cx = to.x + (after->rotated.cx - from.x) * sx;
          after->rotated.cy = to.y + (after->rotated.cy - from.y) * sy;
          after->rotated.width *= sx;
          after->rotated.height *= sy;
        }
      if (after->shape == KP_SHAPE_MASK)
        kp_annotation_translate (after, to.x - from.x, to.y - from.y);
    }

  if (!step_modify (self, step, after, PERSON_EDIT, error))
    return FALSE;

  return do_step (self, step, error);
}

typedef gboolean (*EditFunc) (KpDocument   *self,
                              KpAnnotation *annotation,
                              gpointer      data,
                              GError      **error);

/* One step editing each of ids with func. */
static gboolean
edit_many (KpDocument    *self,
           const gint64  *ids,
           guint          n_ids,
           gboolean       person_edit,
           EditFunc       func,
           gpointer       data,
           GError       **error)
{
  g_autoptr(Step) step = step_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);

  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (ids != NULL || n_ids == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (guint i = 0; i < n_ids; i++)
    {
      const KpAnnotation *current = lookup (self, ids[i]);
      KpAnnotation *after;

      if (current == NULL)
        {
          set_not_found (error);
          return FALSE;
        }
      if (!g_hash_table_add (seen, (gpointer)&ids[i]))
        continue;

      after = kp_annotation_copy (current);
      if (!func (self, after, data, error))
        {
          kp_annotation_free (after);
          return FALSE;
        }
      if (!step_modify (self, step, after, person_edit, error))
        return FALSE;
    }

  return do_step (self, step, error);
}

static gboolean
set_label_func (KpDocument    *self,
                KpAnnotation  *annotation,
                gpointer       data,
                GError       **error)
{
  annotation->label_id = *(gint64 *)data;
  return TRUE;
}

gboolean
kp_document_relabel (KpDocument    *self,
                     const gint64  *ids,
                     guint          n_ids,
                     gint64         label_id,
                     GError       **error)
{
  return edit_many (self, ids, n_ids, PERSON_EDIT, set_label_func, &label_id, error);
}

gboolean
kp_document_set_label (KpDocument  *self,
                       gint64       annotation_id,
                       gint64       label_id,
                       GError     **error)
{
  return kp_document_relabel (self, &annotation_id, 1, label_id, error);
}

typedef struct
{
  double dx;
  double dy;
} MoveData;

static gboolean
move_func (KpDocument    *self,
           KpAnnotation  *annotation,
           gpointer       data,
           GError       **error)
{
  MoveData *move = data;

  kp_annotation_translate (annotation, move->dx, move->dy);
  return TRUE;
}

gboolean
kp_document_move (KpDocument    *self,
                  const gint64  *ids,
                  guint          n_ids,
                  double         dx,
                  double         dy,
                  GError       **error)
{
  MoveData move = { dx, dy };

  g_return_val_if_fail (isfinite (dx) && isfinite (dy), FALSE);

  return edit_many (self, ids, n_ids, PERSON_EDIT, move_func, &move, error);
}

gboolean
kp_document_remove_many (KpDocument    *self,
                         const gint64  *ids,
                         guint          n_ids,
                         GError       **error)
{
  g_autoptr(Step) step = step_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);

  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (ids != NULL || n_ids == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (guint i = 0; i < n_ids; i++)
    {
      const KpAnnotation *current = lookup (self, ids[i]);

      if (current == NULL)
        {
          set_not_found (error);
          return FALSE;
        }
      if (g_hash_table_add (seen, (gpointer)&ids[i]))
        step_add (step, kp_annotation_copy (current), NULL);
    }

  return do_step (self, step, error);
}

gboolean
kp_document_remove (KpDocument  *self,
                    gint64       annotation_id,
                    GError     **error)
{
  return kp_document_remove_many (self, &annotation_id, 1, error);
}

typedef struct
{
  int      op;                  /* 0 insert, 1 remove, 2 move */
  guint    index;
  KpPoint  point;
} VertexData;

static gboolean
vertex_func (KpDocument    *self,
             KpAnnotation  *annotation,
             gpointer       data,
             GError       **error)
{
  VertexData *v = data;
  gboolean variable = annotation->shape == KP_SHAPE_POLYGON || annotation->shape == KP_SHAPE_POLYLINE;
  guint min = annotation->shape == KP_SHAPE_POLYGON ? 3 : 2;
  KpPoint *points = NULL;

  if (annotation->n_points == 0 || (v->op != 2 && !variable))
    {
      g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                           _("Only polygons and polylines can gain or lose vertices."));
      return FALSE;
    }

  if ((v->op == 0 && v->index > annotation->n_points) ||
      (v->op != 0 && v->index >= annotation->n_points))
    {
      g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                           _("There is no such vertex."));
      return FALSE;
    }

  if (v->op == 1 && annotation->n_points <= min)
    {
      g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                   _("A %s needs at least %u vertices."), kp_shape_to_string (annotation->shape), min);
      return FALSE;
    }

  switch (v->op)
    {
    case 0:
      points = kp_points_insert (annotation->points, annotation->n_points, v->index, &v->point);
      g_free (annotation->points);
      annotation->points = points;
      annotation->n_points++;
      break;

    case 1:
      points = kp_points_remove (annotation->points, annotation->n_points, v->index);
      g_free (annotation->points);
      annotation->points = points;
      annotation->n_points--;
      break;

    default:
      annotation->points[v->index] = v->point;
      break;
    }

  kp_annotation_update_bounds (annotation);

  return TRUE;
}

gboolean
kp_document_insert_vertex (KpDocument     *self,
                           gint64          annotation_id,
                           guint           index,
                           const KpPoint  *point,
                           GError        **error)
{
  VertexData v = { 0, index, *point };

  return edit_many (self, &annotation_id, 1, PERSON_EDIT, vertex_func, &v, error);
}

gboolean
kp_document_remove_vertex (KpDocument  *self,
                           gint64       annotation_id,
                           guint        index,
                           GError     **error)
{
  VertexData v = { 1, index, { 0, 0 } };

  return edit_many (self, &annotation_id, 1, PERSON_EDIT, vertex_func, &v, error);
}

gboolean
kp_document_move_vertex (KpDocument     *self,
                         gint64          annotation_id,
                         guint           index,
                         const KpPoint  *point,
                         GError        **error)
{
  VertexData v = { 2, index, *point };

  return edit_many (self, &annotation_id, 1, PERSON_EDIT, vertex_func, &v, error);
}

typedef struct
{
  const KpPoint *points;
  guint          n_points;
  double         radius;
  gboolean       paint;
} PaintData;

static gboolean
paint_func (KpDocument    *self,
            KpAnnotation  *annotation,
            gpointer       data,
            GError       **error)
{
  PaintData *p = data;
  KpMask *mask;

  if (annotation->shape != KP_SHAPE_MASK)
    {
      g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                           _("Only masks can be painted."));
      return FALSE;
    }

  mask = annotation->mask != NULL ? kp_mask_copy (annotation->mask) : kp_mask_new_empty ();
  for (guint i = 0; i < p->n_points; i++)
    {
      KpMask *next = kp_mask_paint_circle (mask, p->points[i].x, p->points[i].y, p->radius, p->paint);

      kp_mask_free (mask);
      mask = next;
    }

  kp_mask_free (annotation->mask);
  annotation->mask = mask;
  kp_annotation_update_bounds (annotation);

  return TRUE;
}

gboolean
kp_document_paint_mask (KpDocument     *self,
                        gint64          annotation_id,
                        const KpPoint  *points,
                        guint           n_points,
                        double          radius,
                        gboolean        paint,
                        GError        **error)
{
  PaintData p = { points, n_points, radius, paint };

  g_return_val_if_fail (points != NULL || n_points == 0, FALSE);

  return edit_many (self, &annotation_id, 1, PERSON_EDIT, paint_func, &p, error);
}

typedef struct
{
  KpAttribute *attribute;
  const char  *value;
} AttributeData;

static gboolean
attribute_func (KpDocument    *self,
                KpAnnotation  *annotation,
                gpointer       data,
                GError       **error)
{
  AttributeData *a = data;

  if (a->attribute->label_id != annotation->label_id)
    {
      g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                   _("Objects of this label have no attribute “%s”."), a->attribute->name);
      return FALSE;
    }

  kp_annotation_set_attribute (annotation, a->attribute->id, a->value);

  return TRUE;
}

gboolean
kp_document_set_attribute (KpDocument    *self,
                           const gint64  *ids,
                           guint          n_ids,
                           gint64         attribute_id,
                           const char    *value,
                           GError       **error)
{
  g_autoptr(GPtrArray) all = NULL;
  AttributeData data = { NULL, value };

  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);

  all = kp_store_list_all_attributes (self->store, error);
  if (all == NULL)
    return FALSE;

  for (guint i = 0; i < all->len; i++)
    if (((KpAttribute *)all->pdata[i])->id == attribute_id)
      data.attribute = all->pdata[i];

  if (data.attribute == NULL)
    {
      g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_NOT_FOUND,
                           _("The attribute no longer exists."));
      return FALSE;
    }

  if (value != NULL && !kp_attribute_validate (data.attribute, value, error))
    return FALSE;

  return edit_many (self, ids, n_ids, PERSON_EDIT, attribute_func, &data, error);
}

typedef struct
{
  KpAnnotationFlags flags;
  gboolean          set;
} FlagsData;

static gboolean
flags_func (KpDocument    *self,
            KpAnnotation  *annotation,
            gpointer       data,
            GError       **error)
{
  FlagsData *f = data;

  if (f->set)
    annotation->flags |= f->flags;
  else
    annotation->flags &= ~f->flags;

  return TRUE;
}

gboolean
kp_document_set_flags (KpDocument         *self,
                       const gint64       *ids,
                       guint               n_ids,
                       KpAnnotationFlags   flags,
                       gboolean            set,
                       GError            **error)
{
  FlagsData f = { flags & (KP_ANNOTATION_HIDDEN | KP_ANNOTATION_LOCKED), set };

  return edit_many (self, ids, n_ids, NOT_PERSON_EDIT, flags_func, &f, error);
}

/* Z-order: the objects keep their relative drawing order. */
static gboolean
restack (KpDocument    *self,
         const gint64  *ids,
         guint          n_ids,
         gboolean       top,
         GError       **error)
{
  g_autoptr(Step) step = step_new ();
  g_autoptr(GPtrArray) chosen = g_ptr_array_new ();
  int z;

  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (ids != NULL || n_ids == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (guint i = 0; i < n_ids; i++)
    {
      KpAnnotation *current = lookup (self, ids[i]);

      if (current == NULL)
        {
          set_not_found (error);
          return FALSE;
        }
      if (!g_ptr_array_find (chosen, current, NULL))
        g_ptr_array_add (chosen, current);
    }

  g_ptr_array_sort (chosen, compare_order);
  z = top ? top_z (self) + 1 : bottom_z (self) - (int)chosen->len;
  for (guint i = 0; i < chosen->len; i++)
    {
      KpAnnotation *after = kp_annotation_copy (chosen->pdata[i]);

      after->z = z + (int)i;
      if (!step_modify (self, step, after, NOT_PERSON_EDIT, error))
        return FALSE;
    }

  return do_step (self, step, error);
}

gboolean
kp_document_raise_to_top (KpDocument    *self,
                          const gint64  *ids,
                          guint          n_ids,
                          GError       **error)
{
  return restack (self, ids, n_ids, TRUE, error);
}

gboolean
kp_document_lower_to_bottom (KpDocument    *self,
                             const gint64  *ids,
                             guint          n_ids,
                             GError       **error)
{
  return restack (self, ids, n_ids, FALSE, error);
}

static gboolean
to_mask_func (KpDocument    *self,
              KpAnnotation  *annotation,
              gpointer       data,
              GError       **error)
{
  KpPoint corners[4];
  const KpPoint *points = corners;
  guint n = 4;
  KpMask *mask;

  switch (annotation->shape)
    {
    case KP_SHAPE_POLYGON:
      points = annotation->points;
      n = annotation->n_points;
      break;

    case KP_SHAPE_ROTATED_BOX:
      kp_rotated_box_corners (&annotation->rotated, corners);
      break;

    case KP_SHAPE_BOX:
      corners[0] = (KpPoint) { annotation->rect.x, annotation->rect.y };
      corners[1] = (KpPoint) { annotation->rect.x + annotation->rect.width, annotation->rect.y };
      corners[2] = (KpPoint) { annotation->rect.x + annotation->rect.width,
                               annotation->rect.y + annotation->rect.height };
      corners[3] = (KpPoint) { annotation->rect.x, annotation->rect.y + annotation->rect.height };
      break;

    default:
      g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                           _("Only boxes, rotated boxes and polygons cover an area to make a mask of."));
      return FALSE;
    }

  mask = kp_mask_paint_polygon (NULL, points, n, TRUE);
  if (kp_mask_is_empty (mask))
    {
      kp_mask_free (mask);
      g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                           _("The shape covers no whole pixel."));
      return FALSE;
    }

  g_clear_pointer (&annotation->points, g_free);
  annotation->n_points = 0;
  annotation->rotated = (KpRotatedBox) { 0 };
  annotation->shape = KP_SHAPE_MASK;
  annotation->mask = mask;
  kp_annotation_update_bounds (annotation);

  return TRUE;
}

gboolean
kp_document_convert_to_mask (KpDocument  *self,
                             gint64       annotation_id,
                             GError     **error)
{
  return edit_many (self, &annotation_id, 1, PERSON_EDIT, to_mask_func, NULL, error);
}

/* Whether contents holds what memory does. */
static gboolean
same_contents (KpDocument               *self,
               const KpDocumentContents *contents)
{
  if (contents->n_undo != self->n_undo || contents->n_redo != self->n_redo ||
      contents->annotations->len != self->annotations->len ||
      !same_ids (contents->tags, self->tags))
    return FALSE;

  /* Both are in drawing order. */
  for (guint i = 0; i < contents->annotations->len; i++)
    {
      const KpAnnotation *a = contents->annotations->pdata[i];
      const KpAnnotation *b = self->annotations->pdata[i];

      if (a->rect.width == b->rect.width && a->rect.height == b->rect.height &&
          kp_annotation_equal (a, b))
        continue;

      /* Memory keeps bounds recomputed; compare like with like. */
      {
        g_autoptr(KpAnnotation) copy = kp_annotation_copy (a);

        copy->media_id = self->media_id;
        kp_annotation_update_bounds (copy);
        if (!kp_annotation_equal (copy, b))
          return FALSE;
      }
    }

  return TRUE;
}

static gboolean
reload (KpDocument  *self,
        gboolean     only_if_changed,
        gboolean    *changed,
        GError     **error)
{
  g_autoptr(KpDocumentContents) contents = NULL;
  gboolean tags_changed;

  if (changed != NULL)
    *changed = FALSE;

  contents = kp_document_contents_read (self->store, self->media_id, error);
  if (contents == NULL)
    return FALSE;

  if (only_if_changed && same_contents (self, contents))
    return TRUE;

  tags_changed = !only_if_changed || !same_ids (contents->tags, self->tags);
  take_contents (self, contents);
  update_state (self, contents->n_undo, contents->n_redo);
  if (changed != NULL)
    *changed = TRUE;

  g_signal_emit (self, signals[CHANGED], 0, (gint64)0);
  if (tags_changed)
    g_signal_emit (self, signals[TAGS_CHANGED], 0);

  return TRUE;
}

gboolean
kp_document_reload (KpDocument  *self,
                    GError     **error)
{
  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return reload (self, FALSE, NULL, error);
}

gboolean
kp_document_reload_if_changed (KpDocument  *self,
                               gboolean    *changed,
                               GError     **error)
{
  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return reload (self, TRUE, changed, error);
}

/* Suggestions */

static gboolean
accept_func (KpDocument    *self,
             KpAnnotation  *annotation,
             gpointer       data,
             GError       **error)
{
  if (annotation->review == KP_REVIEW_PENDING || annotation->review == KP_REVIEW_REJECTED)
    annotation->review = KP_REVIEW_ACCEPTED;

  return TRUE;
}

gboolean
kp_document_accept (KpDocument    *self,
                    const gint64  *ids,
                    guint          n_ids,
                    GError       **error)
{
  return edit_many (self, ids, n_ids, NOT_PERSON_EDIT, accept_func, NULL, error);
}

gboolean
kp_document_reject (KpDocument    *self,
                    const gint64  *ids,
                    guint          n_ids,
                    GError       **error)
{
  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);

  for (guint i = 0; i < n_ids; i++)
    {
      const KpAnnotation *a = lookup (self, ids[i]);

      if (a != NULL && a->review == KP_REVIEW_NONE)
        {
          g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                               _("Only suggestions can be rejected; delete the object instead."));
          return FALSE;
        }
    }

  return kp_document_remove_many (self, ids, n_ids, error);
}

static GArray *
pending_ids (KpDocument *self,
             double      threshold,
             gboolean    above)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (guint i = 0; i < self->annotations->len; i++)
    {
      const KpAnnotation *a = self->annotations->pdata[i];

      if (a->review == KP_REVIEW_PENDING &&
          (above ? a->confidence >= threshold : a->confidence < threshold))
        g_array_append_val (ids, a->id);
    }

  return ids;
}

gboolean
kp_document_accept_above (KpDocument  *self,
                          double       threshold,
                          GError     **error)
{
  g_autoptr(GArray) ids = NULL;

  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);

  ids = pending_ids (self, threshold, TRUE);

  return kp_document_accept (self, (const gint64 *)(void *)ids->data, ids->len, error);
}

gboolean
kp_document_reject_below (KpDocument  *self,
                          double       threshold,
                          GError     **error)
{
  g_autoptr(GArray) ids = NULL;

  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);

  ids = pending_ids (self, threshold, FALSE);

  return kp_document_reject (self, (const gint64 *)(void *)ids->data, ids->len, error);
}

/* Tags */

GArray *
kp_document_get_tags (KpDocument *self)
{
  g_return_val_if_fail (KP_IS_DOCUMENT (self), NULL);

  return self->tags;
}

static int
compare_ids (gconstpointer a,
             gconstpointer b)
{
  gint64 x = *(const gint64 *)a, y = *(const gint64 *)b;

  return x < y ? -1 : (x > y);
}

gboolean
kp_document_set_tags (KpDocument    *self,
                      const gint64  *tag_ids,
                      guint          n_tag_ids,
                      GError       **error)
{
  g_autoptr(Step) step = step_new ();
  g_autoptr(GArray) after = g_array_new (FALSE, FALSE, sizeof (gint64));

  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (tag_ids != NULL || n_tag_ids == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  for (guint i = 0; i < n_tag_ids; i++)
    {
      gboolean dup = FALSE;

      for (guint k = 0; k < after->len; k++)
        dup |= g_array_index (after, gint64, k) == tag_ids[i];
      if (!dup)
        g_array_append_val (after, tag_ids[i]);
    }
  g_array_sort (after, compare_ids);

  if (same_ids (after, self->tags))
    return TRUE;

  step->tags_before = g_array_copy (self->tags);
  step->tags_after = g_steal_pointer (&after);

  return do_step (self, step, error);
}

gboolean
kp_document_toggle_tag (KpDocument  *self,
                        gint64       tag_id,
                        gboolean     on,
                        GError     **error)
{
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) groups = NULL;
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  const KpTag *tag = NULL;
  gboolean multiple = TRUE;

  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);

  if (!(all = kp_store_list_tags (self->store, 0, error)) ||
      !(groups = kp_store_list_tag_groups (self->store, error)))
    return FALSE;

  for (guint i = 0; i < all->len; i++)
    if (((KpTag *)all->pdata[i])->id == tag_id)
      tag = all->pdata[i];
  if (tag == NULL)
    {
      g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_NOT_FOUND,
                           _("The tag no longer exists."));
      return FALSE;
    }
  for (guint i = 0; i < groups->len; i++)
    if (((KpTagGroup *)groups->pdata[i])->id == tag->group_id)
      multiple = ((KpTagGroup *)groups->pdata[i])->multiple;

  for (guint i = 0; i < self->tags->len; i++)
    {
      gint64 id = g_array_index (self->tags, gint64, i);
      gboolean same_group = FALSE;

      for (guint k = 0; k < all->len; k++)
        if (((KpTag *)all->pdata[k])->id == id)
          same_group = ((KpTag *)all->pdata[k])->group_id == tag->group_id;

      if (id == tag_id || (on && !multiple && same_group))
        continue;
      g_array_append_val (ids, id);
    }
  if (on)
    g_array_append_val (ids, tag_id);

  return kp_document_set_tags (self, (const gint64 *)(void *)ids->data, ids->len, error);
}

/* Undo and redo */

gboolean
kp_document_get_can_undo (KpDocument *self)
{
  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);

  return self->n_undo > 0;
}

gboolean
kp_document_get_can_redo (KpDocument *self)
{
  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);

  return self->n_redo > 0;
}

guint
kp_document_get_n_undo (KpDocument *self)
{
  g_return_val_if_fail (KP_IS_DOCUMENT (self), 0);

  return self->n_undo;
}

guint
kp_document_get_n_redo (KpDocument *self)
{
  g_return_val_if_fail (KP_IS_DOCUMENT (self), 0);

  return self->n_redo;
}

static gboolean
replay (KpDocument  *self,
        gboolean     undo,
        GError     **error)
{
  g_autoptr(Step) step = NULL;
  g_autofree char *json = NULL;
  g_autoptr(GError) local_error = NULL;
  gint64 history_id = 0;

  if ((undo ? self->n_undo : self->n_redo) == 0)
    return TRUE;

  json = _kp_store_history_peek (self->store, self->media_id, undo, &history_id, &local_error);
  if (json == NULL)
    {
      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }

      /* The journal was trimmed behind our back: catch up. */
      if (_kp_store_history_count (self->store, self->media_id, &self->n_undo, &self->n_redo, NULL))
        {
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_UNDO]);
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_REDO]);
        }
      return TRUE;
    }

  step = step_from_json (json, self->media_id, error);
  if (step == NULL)
    return FALSE;

  return run_step (self, step, undo ? RUN_UNDO : RUN_REDO, history_id, error);
}

gboolean
kp_document_undo (KpDocument  *self,
                  GError     **error)
{
  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return replay (self, TRUE, error);
}

gboolean
kp_document_redo (KpDocument  *self,
                  GError     **error)
{
  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return replay (self, FALSE, error);
}

void
kp_document_forget_label (KpDocument *self,
                          gint64      label_id)
{
  gboolean changed = FALSE;
  guint n_undo = 0, n_redo = 0;

  g_return_if_fail (KP_IS_DOCUMENT (self));

  /* The store deleted the label's annotations and the journal steps that
   * mention it (kp_store_delete_label()); follow it. */
  for (guint i = self->annotations->len; i > 0; i--)
    {
      KpAnnotation *a = g_ptr_array_index (self->annotations, i - 1);

      if (a->label_id == label_id)
        {
          g_hash_table_remove (self->by_id, &a->id);
          g_ptr_array_remove_index (self->annotations, i - 1);
          changed = TRUE;
        }
    }

  if (_kp_store_history_count (self->store, self->media_id, &n_undo, &n_redo, NULL))
    update_state (self, n_undo, n_redo);

  if (changed)
    g_signal_emit (self, signals[CHANGED], 0, (gint64)0);
}
