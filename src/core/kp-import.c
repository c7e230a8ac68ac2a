/* kp-import.c: pre-annotations from COCO, Pascal VOC, YOLO and Ground Truth
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-import.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "kp-document.h"
#include "kp-json-private.h"

G_DEFINE_QUARK (kp-import-error-quark, kp_import_error)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)

static const struct {
  KpImportFormat  format;
  const char     *name;
} formats[] = {
  { KP_IMPORT_FORMAT_COCO, "coco" },
  { KP_IMPORT_FORMAT_VOC, "voc" },
  { KP_IMPORT_FORMAT_YOLO, "yolo" },
  { KP_IMPORT_FORMAT_GROUND_TRUTH, "groundtruth" },
  { KP_IMPORT_FORMAT_GROUND_TRUTH, "gt" },
  { KP_IMPORT_FORMAT_GROUND_TRUTH, "gt-manifest" },
  { KP_IMPORT_FORMAT_GROUND_TRUTH, "sagemaker" },
  { KP_IMPORT_FORMAT_LABEL_MAP, "labelmap" },
  { KP_IMPORT_FORMAT_LABEL_MAP, "label-map" },
};

gboolean
kp_import_format_from_string (const char     *name,
                              KpImportFormat *format)
{
  g_return_val_if_fail (name != NULL, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    if (g_ascii_strcasecmp (name, formats[i].name) == 0)
      {
        if (format != NULL)
          *format = formats[i].format;
        return TRUE;
      }

  return FALSE;
}

const char *
kp_import_format_to_string (KpImportFormat format)
{
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    if (formats[i].format == format)
      return formats[i].name;

  return NULL;
}

void
kp_import_report_free (KpImportReport *report)
{
  if (report == NULL)
    return;

  g_clear_pointer (&report->problems, g_ptr_array_unref);
  g_clear_pointer (&report->images, g_ptr_array_unref);
  g_free (report);
}

static void
image_report_free (gpointer data)
{
  KpImportImageReport *image = data;

  g_free (image->path);
  g_free (image);
}

/* The state of one import */

static const char * const palette[] = {
  "#e01b24", "#3584e4", "#33d17a", "#f6d32d", "#ff7800", "#9141ac", "#986a44", "#26a269",
  "#1c71d8", "#c01c28", "#e66100", "#813d9c",
};

typedef struct
{
  KpStore             *store;
  KpImportFormat       format;
  KpImportFlags        flags;
  char                *source;
  GPtrArray           *media;         /* KpMedia */
  GHashTable          *by_path;       /* casefolded relative path -> KpMedia */
  GHashTable          *by_name;       /* casefolded base name -> KpMedia, or AMBIGUOUS */
  GHashTable          *by_stem;       /* casefolded export stem -> KpMedia */
  GHashTable          *by_name_stem;  /* casefolded stem of the base name -> KpMedia, or AMBIGUOUS */
  GHashTable          *labels;        /* name -> gint64 * */
  GPtrArray           *attributes;    /* KpAttribute of every label */
  GHashTable          *pending;       /* media id (gint64 *) -> GPtrArray of KpAnnotation */
  GHashTable          *image_reports; /* media id (gint64 *) -> KpImportImageReport, owned by report->images */
  KpImportReport      *report;
  KpImportLoadRgbFunc  load_rgb;
  gpointer             load_rgb_data;
  double               min_confidence;
  const char          *class_names_file;
} Importer;

static KpMedia ambiguous;

static void
importer_free (Importer *im)
{
  g_clear_pointer (&im->source, g_free);
  g_clear_pointer (&im->by_path, g_hash_table_unref);
  g_clear_pointer (&im->by_name, g_hash_table_unref);
  g_clear_pointer (&im->by_stem, g_hash_table_unref);
  g_clear_pointer (&im->by_name_stem, g_hash_table_unref);
  g_clear_pointer (&im->labels, g_hash_table_unref);
  g_clear_pointer (&im->pending, g_hash_table_unref);
  g_clear_pointer (&im->image_reports, g_hash_table_unref);
  g_clear_pointer (&im->media, g_ptr_array_unref);
  g_clear_pointer (&im->attributes, g_ptr_array_unref);
  g_clear_pointer (&im->report, kp_import_report_free);
  g_free (im);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Importer, importer_free)

static void problem (Importer   *im,
                     const char *format,
                     ...) G_GNUC_PRINTF (2, 3);

static void
problem (Importer   *im,
         const char *format,
         ...)
{
  va_list args;

  va_start (args, format);
  g_ptr_array_add (im->report->problems, g_strdup_vprintf (format, args));
  va_end (args);
}

static char *
fold (const char *text)
{
  return g_utf8_casefold (text, -1);
}

/* The stem kp_export() gives an image with no name clash: the relative
 * path without extension, '/' replaced by '_'. */
static char *
export_stem (const char *path)
{
  char *stem = g_strdup (path);
  char *dot = strrchr (stem, '.');
  char *slash = strrchr (stem, '/');

  if (dot != NULL && (slash == NULL || dot > slash) && dot != stem)
    *dot = '\0';
  for (char *p = stem; *p != '\0'; p++)
    if (*p == '/' || *p == '\\')
      *p = '_';

  return stem;
}

static gboolean
importer_init (Importer  *im,
               GError   **error)
{
  g_autoptr(GPtrArray) labels = NULL;

  im->media = kp_store_list_media (im->store, error);
  if (im->media == NULL)
    return FALSE;
  labels = kp_store_list_labels (im->store, error);
  if (labels == NULL)
    return FALSE;
  im->attributes = kp_store_list_all_attributes (im->store, error);
  if (im->attributes == NULL)
    return FALSE;

  im->by_path = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  im->by_name = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  im->by_stem = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  im->by_name_stem = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < im->media->len; i++)
    {
      KpMedia *m = im->media->pdata[i];
      const char *base = strrchr (m->path, '/');
      g_autofree char *stem = export_stem (m->path);
      char *name = fold (base != NULL ? base + 1 : m->path);
      char *name_stem = export_stem (name);

      if (g_hash_table_contains (im->by_name_stem, name_stem))
        g_hash_table_insert (im->by_name_stem, name_stem, &ambiguous);
      else
        g_hash_table_insert (im->by_name_stem, name_stem, m);

      g_hash_table_insert (im->by_path, fold (m->path), m);
      if (g_hash_table_contains (im->by_name, name))
        g_hash_table_insert (im->by_name, name, &ambiguous);
      else
        g_hash_table_insert (im->by_name, name, m);
      g_hash_table_insert (im->by_stem, fold (stem), m);
    }

  im->labels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; i < labels->len; i++)
    {
      const KpLabel *label = labels->pdata[i];

      g_hash_table_insert (im->labels, g_strdup (label->name), g_memdup2 (&label->id, sizeof (gint64)));
    }

  im->pending = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                       (GDestroyNotify)g_ptr_array_unref);
  im->image_reports = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);

  return TRUE;
}

/* The project image a reference names: a relative path, an absolute path
 * or URL ending in one, or a unique file name. */
static KpMedia *
find_media (Importer   *im,
            const char *reference)
{
  g_autofree char *clean = NULL;
  g_autofree char *folded = NULL;
  const char *p;
  KpMedia *m;

  if (reference == NULL || reference[0] == '\0')
    return NULL;

  clean = g_strdup (reference);
  for (char *q = clean; *q != '\0'; q++)
    if (*q == '\\')
      *q = '/';
  if (g_str_has_prefix (clean, "file://"))
    {
      g_autofree char *path = g_filename_from_uri (clean, NULL, NULL);

      if (path != NULL)
        {
          g_free (clean);
          clean = g_steal_pointer (&path);
        }
    }

  folded = fold (clean);
  {
    g_autofree char *folder = fold (kp_store_get_folder (im->store));

    if (g_str_has_prefix (folded, folder) && folded[strlen (folder)] == '/')
      memmove (folded, folded + strlen (folder) + 1, strlen (folded + strlen (folder) + 1) + 1);
  }

  /* Whole path, then dropping leading components ("s3://bucket/x/a.jpg"
   * matches "x/a.jpg"). */
  for (p = folded; p != NULL; p = strchr (p, '/'))
    {
      if (*p == '/')
        p++;
      if ((m = g_hash_table_lookup (im->by_path, p)) != NULL)
        return m;
    }

  p = strrchr (folded, '/');
  m = g_hash_table_lookup (im->by_name, p != NULL ? p + 1 : folded);
  if (m == &ambiguous)
    return NULL;

  return m;
}

/* The id of the label called name, made when missing; 0 (and a problem)
 * when the store refuses the name. */
static gint64
label_id (Importer   *im,
          const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *clean = NULL;
  gint64 *known;
  gint64 id;

  if (name == NULL || !g_utf8_validate (name, -1, NULL))
    return 0;

  clean = g_strstrip (g_strdup (name));
  if ((known = g_hash_table_lookup (im->labels, clean)) != NULL)
    return *known;

  /* A dry run makes no labels: the ones it would make get made-up ids
   * no object in the project has. */
  if (im->flags & KP_IMPORT_FLAGS_DRY_RUN)
    id = -(gint64)(g_hash_table_size (im->labels) + 1);
  else
    id = kp_store_add_label (im->store, clean,
                             palette[g_hash_table_size (im->labels) % G_N_ELEMENTS (palette)], 0, &error);
  if (id == 0)
    {
      problem (im, _("Label “%s” could not be created: %s"), clean, error->message);
      return 0;
    }

  im->report->n_labels_created++;
  g_hash_table_insert (im->labels, g_steal_pointer (&clean), g_memdup2 (&id, sizeof id));

  return id;
}

/* The report of one image, made the first time the input names it. */
static KpImportImageReport *
image_report (Importer *im,
              KpMedia  *media)
{
  KpImportImageReport *image = g_hash_table_lookup (im->image_reports, &media->id);

  if (image == NULL)
    {
      image = g_new0 (KpImportImageReport, 1);
      image->media_id = media->id;
      image->path = g_strdup (media->path);
      g_ptr_array_add (im->report->images, image);
      g_hash_table_insert (im->image_reports, g_memdup2 (&media->id, sizeof media->id), image);
    }

  return image;
}

/* Queues annotation (taken) for media, unless its confidence is below
 * the minimum. */
static void
add_object (Importer     *im,
            KpMedia      *media,
            KpAnnotation *annotation,
            double        confidence)
{
  KpImportImageReport *image = image_report (im, media);
  GPtrArray *list;

  confidence = isfinite (confidence) ? CLAMP (confidence, 0.0, 1.0) : 1.0;
  if (confidence < im->min_confidence)
    {
      image->n_below_confidence++;
      im->report->n_below_confidence++;
      kp_annotation_free (annotation);
      return;
    }

  list = g_hash_table_lookup (im->pending, &media->id);
  if (list == NULL)
    {
      list = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_annotation_free);
      g_hash_table_insert (im->pending, g_memdup2 (&media->id, sizeof media->id), list);
    }

  annotation->media_id = media->id;
  if (!(im->flags & KP_IMPORT_FLAGS_ACCEPT))
    {
      annotation->review = KP_REVIEW_PENDING;
      annotation->source = g_strdup (im->source);
      annotation->confidence = confidence;
    }
  kp_annotation_update_bounds (annotation);
  g_ptr_array_add (list, annotation);
}

static KpAnnotation *
new_object (gint64  label,
            KpShape shape)
{
  KpAnnotation *a = g_new0 (KpAnnotation, 1);

  a->label_id = label;
  a->shape = shape;

  return a;
}

#define SAME_EPSILON 1e-6

static gboolean
near (double a,
      double b)
{
  return fabs (a - b) <= SAME_EPSILON * MAX (1.0, MAX (fabs (a), fabs (b)));
}

/* Whether b is a copy of a, as far as an import can tell: same source,
 * label, shape and geometry (within rounding). */
static gboolean
same_object (const KpAnnotation *a,
             const KpAnnotation *b)
{
  if (a->label_id != b->label_id || a->shape != b->shape || g_strcmp0 (a->source, b->source) != 0)
    return FALSE;

  switch (a->shape)
    {
    case KP_SHAPE_BOX:
      return near (a->rect.x, b->rect.x) && near (a->rect.y, b->rect.y) &&
             near (a->rect.width, b->rect.width) && near (a->rect.height, b->rect.height);

    case KP_SHAPE_ROTATED_BOX:
      return near (a->rotated.cx, b->rotated.cx) && near (a->rotated.cy, b->rotated.cy) &&
             near (a->rotated.width, b->rotated.width) && near (a->rotated.height, b->rotated.height) &&
             near (a->rotated.angle, b->rotated.angle);

    case KP_SHAPE_MASK:
      return kp_mask_equal (a->mask, b->mask);

    case KP_SHAPE_POINT:
      if (g_strcmp0 (a->keypoint, b->keypoint) != 0 || a->occluded != b->occluded)
        return FALSE;
      G_GNUC_FALLTHROUGH;
    default:
      if (a->n_points != b->n_points)
        return FALSE;
      for (guint i = 0; i < a->n_points; i++)
        if (!near (a->points[i].x, b->points[i].x) || !near (a->points[i].y, b->points[i].y))
          return FALSE;
      return TRUE;
    }
}

/* Buckets of objects by label, shape and the sixteenth of a pixel their
 * bounds start in; an object within rounding (SAME_EPSILON, relative) of
 * another is in the same bucket or a neighbouring one, in images up to
 * 60,000 pixels wide. */
#define BUCKETS_PER_PIXEL 16
typedef struct
{
  gint64  label_id;
  KpShape shape;
  gint64  x;
  gint64  y;
} BucketKey;

static guint
bucket_hash (gconstpointer data)
{
  const BucketKey *key = data;

  /* Unsigned: a hash wraps, and coordinates from a file may be huge. */
  return (guint)((guint64)key->label_id * 31 + (guint64)key->shape) ^
         (guint)((guint64)key->x * 73856093u) ^ (guint)((guint64)key->y * 19349663u);
}

static gboolean
bucket_equal (gconstpointer a,
              gconstpointer b)
{
  const BucketKey *x = a, *y = b;

  return x->label_id == y->label_id && x->shape == y->shape && x->x == y->x && x->y == y->y;
}

static BucketKey
bucket_key (const KpAnnotation *a)
{
  BucketKey key = { a->label_id, a->shape, 0, 0 };

  if (isfinite (a->rect.x) && fabs (a->rect.x) < 1e15)
    key.x = (gint64)floor (a->rect.x * BUCKETS_PER_PIXEL);
  if (isfinite (a->rect.y) && fabs (a->rect.y) < 1e15)
    key.y = (gint64)floor (a->rect.y * BUCKETS_PER_PIXEL);

  return key;
}

static void
bucket_add (GHashTable         *buckets,
            const KpAnnotation *a)
{
  BucketKey key = bucket_key (a);
  GPtrArray *list = g_hash_table_lookup (buckets, &key);

  if (list == NULL)
    {
      list = g_ptr_array_new ();
      g_hash_table_insert (buckets, g_memdup2 (&key, sizeof key), list);
    }
  g_ptr_array_add (list, (gpointer)a);
}

static gboolean
bucket_find (GHashTable         *buckets,
             const KpAnnotation *a)
{
  BucketKey centre = bucket_key (a);

  for (int dy = -1; dy <= 1; dy++)
    for (int dx = -1; dx <= 1; dx++)
      {
        BucketKey key = centre;
        GPtrArray *list;

        key.x += dx;
        key.y += dy;
        list = g_hash_table_lookup (buckets, &key);
        for (guint i = 0; list != NULL && i < list->len; i++)
          if (same_object (list->pdata[i], a))
            return TRUE;
      }

  return FALSE;
}

/* Whether REPLACE removes a: an unreviewed suggestion of the same
 * source that nobody changed. */
static gboolean
is_old_suggestion (Importer           *im,
                   const KpAnnotation *a)
{
  return a->review == KP_REVIEW_PENDING && g_strcmp0 (a->source, im->source) == 0 &&
         !(a->flags & KP_ANNOTATION_MODIFIED_BY_PERSON);
}

/* Removes the old suggestions (REPLACE), or only counts them and drops
 * them from current in a dry run. */
static gboolean
remove_old_suggestions (Importer             *im,
                        KpDocument           *document,
                        GPtrArray            *current,
                        KpImportImageReport  *image,
                        GError              **error)
{
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (guint i = current->len; i > 0; i--)
    {
      const KpAnnotation *a = current->pdata[i - 1];

      if (!is_old_suggestion (im, a))
        continue;
      g_array_append_val (ids, a->id);
      if (document == NULL)
        g_ptr_array_remove_index (current, i - 1);
    }

  if (ids->len == 0)
    return TRUE;
  if (document != NULL &&
      !kp_document_remove_many (document, (const gint64 *)(void *)ids->data, ids->len, error))
    return FALSE;

  image->n_replaced += ids->len;
  im->report->n_replaced += ids->len;

  return TRUE;
}

/* Writes what was queued, image by image, each as one undo step. */
static gboolean
flush (Importer      *im,
       GCancellable  *cancellable,
       GError       **error)
{
  for (guint r = 0; r < im->report->images->len; r++)
    {
      KpImportImageReport *image = im->report->images->pdata[r];
      GPtrArray *list = g_hash_table_lookup (im->pending, &image->media_id);
      g_autoptr(GPtrArray) fresh = g_ptr_array_new ();
      g_autoptr(KpDocument) document = NULL;
      g_autoptr(GPtrArray) current_copy = NULL;
      g_autoptr(GError) local_error = NULL;
      GPtrArray *current;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      if (list == NULL && !(im->flags & KP_IMPORT_FLAGS_REPLACE))
        continue;

      /* A dry run reads the image's objects and writes nothing. */
      if (im->flags & KP_IMPORT_FLAGS_DRY_RUN)
        {
          current_copy = kp_store_list_annotations (im->store, image->media_id, error);
          if (current_copy == NULL)
            return FALSE;
          current = current_copy;
        }
      else
        {
          document = kp_document_new (im->store, image->media_id, error);
          if (document == NULL)
            return FALSE;
          current = kp_document_get_annotations (document);
        }

      if ((im->flags & KP_IMPORT_FLAGS_REPLACE) &&
          !remove_old_suggestions (im, document, current, image, error))
        return FALSE;
      if (list == NULL)
        continue;

      /* Leave out what an earlier import of the same input added. The
       * image's objects are bucketed by label, shape and the corner of
       * their bounds, so a large image costs no n × m. */
      if (!(im->flags & KP_IMPORT_FLAGS_ALLOW_DUPLICATES))
        {
          g_autoptr(GHashTable) buckets = g_hash_table_new_full (bucket_hash, bucket_equal, g_free,
                                                                 (GDestroyNotify)g_ptr_array_unref);

          for (guint j = 0; j < current->len; j++)
            bucket_add (buckets, current->pdata[j]);

          for (guint i = 0; i < list->len; i++)
            {
              const KpAnnotation *a = list->pdata[i];

              if (bucket_find (buckets, a))
                {
                  image->n_duplicates++;
                  im->report->n_duplicates++;
                }
              else
                g_ptr_array_add (fresh, (gpointer)a);
            }
        }
      else
        for (guint i = 0; i < list->len; i++)
          g_ptr_array_add (fresh, list->pdata[i]);
      if (fresh->len == 0)
        continue;

      if (document == NULL)
        image->n_objects += fresh->len;
      else if (!kp_document_add_many (document, (const KpAnnotation * const *)fresh->pdata, fresh->len,
                                 NULL, &local_error))
        {
          /* One bad object must not lose the rest: add them one by one. */
          for (guint i = 0; i < fresh->len; i++)
            {
              g_autoptr(GError) one_error = NULL;

              if (kp_document_add_annotation (document, fresh->pdata[i], &one_error) == 0)
                problem (im, _("%s: an object was refused: %s"), image->path, one_error->message);
              else
                image->n_objects++;
            }
        }
      else
        image->n_objects += fresh->len;

      im->report->n_objects += image->n_objects;
      if (image->n_objects > 0)
        im->report->n_images++;
    }

  return TRUE;
}

/* JSON helpers */

static gboolean
member_number (JsonObject *object,
               const char *member,
               double     *value)
{
  return object != NULL && _kp_json_node_get_number (json_object_get_member (object, member), value);
}

/* A number as a 64-bit key (ids, class numbers): fractions are cut off,
 * and numbers beyond 64 bits (1e300) are no key at all, as converting
 * them is undefined. */
static gboolean
number_to_key (double  value,
               gint64 *key)
{
  if (!(value > -9.2e18 && value < 9.2e18))
    return FALSE;

  *key = (gint64)value;
  return TRUE;
}

/* A number as a size in pixels: 0 (unknown) unless it fits an int. */
static int
number_to_size (double value)
{
  return value >= 1 && value <= G_MAXINT ? (int)value : 0;
}

static const char *
member_string (JsonObject *object,
               const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

static JsonArray *
member_array (JsonObject *object,
              const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

static JsonObject *
member_object (JsonObject *object,
               const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

/* n numbers of array into values; FALSE unless all are numbers. */
static gboolean
array_numbers (JsonArray *array,
               double    *values,
               guint      n)
{
  if (array == NULL || json_array_get_length (array) != n)
    return FALSE;

  for (guint i = 0; i < n; i++)
    if (!_kp_json_node_get_number (json_array_get_element (array, i), &values[i]))
      return FALSE;

  return TRUE;
}

static JsonNode *
load_json (const char  *path,
           GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;

  if (!json_parser_load_from_mapped_file (parser, path, &local_error))
    {
      if (local_error->domain == JSON_PARSER_ERROR)
        g_set_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_MALFORMED,
                     _("%s: not valid JSON: %s"), path, local_error->message);
      else
        g_set_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_FAILED,
                     _("Could not read “%s”: %s"), path, local_error->message);
      return NULL;
    }

  /* An empty file (or one holding only whitespace) parses, to nothing. */
  if (json_parser_get_root (parser) == NULL)
    {
      g_set_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_MALFORMED,
                   _("%s: not valid JSON: %s"), path, _("the file is empty"));
      return NULL;
    }

  return json_node_copy (json_parser_get_root (parser));
}

/* COCO */

typedef struct
{
  KpMedia *media;
  int      width;
  int      height;
} CocoImage;

typedef struct
{
  gint64   label;
  char   **keypoints;
} CocoCategory;

static void
coco_category_free (gpointer data)
{
  CocoCategory *c = data;

  g_strfreev (c->keypoints);
  g_free (c);
}

static KpAnnotation *
rotated_from_corners (gint64          label,
                      const double   *v)
{
  KpAnnotation *a = new_object (label, KP_SHAPE_ROTATED_BOX);
  double ex = v[2] - v[0], ey = v[3] - v[1];
  double fx = v[6] - v[0], fy = v[7] - v[1];

  a->rotated.cx = (v[0] + v[2] + v[4] + v[6]) / 4;
  a->rotated.cy = (v[1] + v[3] + v[5] + v[7]) / 4;
  a->rotated.width = hypot (ex, ey);
  a->rotated.height = hypot (fx, fy);
  a->rotated.angle = atan2 (ey, ex);

  return a;
}

/* COCO "attributes" (as CVAT and kp_export() write them) whose names
 * match an attribute of the object's label; others are reported. */
static void
coco_attributes (Importer     *im,
                 const char   *path,
                 guint         index,
                 KpAnnotation *a,
                 JsonObject   *attributes)
{
  g_autoptr(GList) members = NULL;

  if (attributes == NULL)
    return;

  members = json_object_get_members (attributes);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *name = l->data;
      JsonNode *node = json_object_get_member (attributes, name);
      const KpAttribute *attribute = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *value = NULL;

      if (strcmp (name, "rotation") == 0)
        continue;

      for (guint i = 0; i < im->attributes->len && attribute == NULL; i++)
        {
          const KpAttribute *candidate = im->attributes->pdata[i];

          if (candidate->label_id == a->label_id && strcmp (candidate->name, name) == 0)
            attribute = candidate;
        }
      if (attribute == NULL)
        {
          problem (im, _("%s: $.annotations[%u].attributes.%s: the label has no such attribute"),
                   path, index, name);
          continue;
        }

      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_BOOLEAN)
        value = g_strdup (json_node_get_boolean (node) ? "true" : "false");
      else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        value = g_strdup (json_node_get_string (node));
      else if (JSON_NODE_HOLDS_VALUE (node))
        {
          char buf[G_ASCII_DTOSTR_BUF_SIZE];

          value = g_strdup (g_ascii_dtostr (buf, sizeof buf, json_node_get_double (node)));
        }

      if (value == NULL || !kp_attribute_validate (attribute, value, &error))
        {
          problem (im, _("%s: $.annotations[%u].attributes.%s: %s"), path, index, name,
                   error != NULL ? error->message : _("not a value"));
          continue;
        }

      kp_annotation_set_attribute (a, attribute->id, value);
    }
}

static void
coco_annotation (Importer    *im,
                 const char  *path,
                 guint        index,
                 JsonObject  *object,
                 GHashTable  *images,
                 GHashTable  *categories)
{
  double image_id = 0, category_id = 0, score = NAN, bbox[4], rotation;
  const CocoImage *image;
  const CocoCategory *category;
  JsonNode *segmentation;
  JsonObject *attributes;
  gboolean has_bbox, has_rotation, done = FALSE;
  gint64 image_key, category_key;
  guint n_problems = im->report->problems->len;

  if (object == NULL || !member_number (object, "image_id", &image_id) ||
      !member_number (object, "category_id", &category_id) ||
      !number_to_key (image_id, &image_key) || !number_to_key (category_id, &category_key))
    {
      problem (im, _("%s: $.annotations[%u]: needs a numeric image_id and category_id"), path, index);
      return;
    }

  image = g_hash_table_lookup (images, &image_key);
  if (image == NULL)
    {
      problem (im, _("%s: $.annotations[%u]: image_id %" PRId64 " is not in $.images"),
               path, index, image_key);
      return;
    }
  if (image->media == NULL)
    return;   /* reported once with the image */

  category = g_hash_table_lookup (categories, &category_key);
  if (category == NULL || category->label == 0)
    {
      problem (im, _("%s: $.annotations[%u]: category_id %" PRId64 " is not in $.categories"),
               path, index, category_key);
      return;
    }

  member_number (object, "score", &score);
  has_bbox = array_numbers (member_array (object, "bbox"), bbox, 4);
  attributes = member_object (object, "attributes");
  has_rotation = member_number (attributes, "rotation", &rotation);
  segmentation = json_object_get_member (object, "segmentation");

  /* Polygons: one object each. Four corners with a rotation attribute are
   * a rotated box (as kp_export() writes it). */
  if (segmentation != NULL && JSON_NODE_HOLDS_ARRAY (segmentation))
    {
      JsonArray *polygons = json_node_get_array (segmentation);

      for (guint p = 0; p < json_array_get_length (polygons); p++)
        {
          JsonNode *node = json_array_get_element (polygons, p);
          JsonArray *coords = JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
          guint n = coords != NULL ? json_array_get_length (coords) : 0;
          g_autofree double *v = g_new0 (double, MAX (n, 1));
          KpAnnotation *a;

          if (n < 6 || n % 2 != 0 || !array_numbers (coords, v, n))
            {
              problem (im, _("%s: $.annotations[%u].segmentation[%u]: a polygon needs an even "
                             "number (at least 6) of coordinates"), path, index, p);
              continue;
            }

          if (has_rotation && n == 8)
            a = rotated_from_corners (category->label, v);
          else
            {
              a = new_object (category->label, KP_SHAPE_POLYGON);
              kp_annotation_set_points (a, (KpPoint *)v, n / 2);
            }
          coco_attributes (im, path, index, a, attributes);
          add_object (im, image->media, a, score);
          done = TRUE;
        }
    }
  else if (segmentation != NULL && JSON_NODE_HOLDS_OBJECT (segmentation))
    {
      g_autoptr(GError) rle_error = NULL;
      const char *member = NULL;
      KpMask *mask = kp_import_coco_rle (json_node_get_object (segmentation), image->width,
                                         image->height, &member, &rle_error);

      if (mask == NULL && member != NULL)
        problem (im, _("%s: $.annotations[%u].segmentation.%s: %s"), path, index, member, rle_error->message);
      else if (mask == NULL)
        problem (im, _("%s: $.annotations[%u].segmentation: %s"), path, index, rle_error->message);
      else if (kp_mask_is_empty (mask))
        kp_mask_free (mask);
      else
        {
          KpAnnotation *a = new_object (category->label, KP_SHAPE_MASK);

          a->mask = mask;
          coco_attributes (im, path, index, a, attributes);
          add_object (im, image->media, a, score);
          done = TRUE;
        }
    }

  /* Keypoints: one point object each, named by the category. */
  {
    JsonArray *keypoints = member_array (object, "keypoints");
    guint n = keypoints != NULL ? json_array_get_length (keypoints) : 0;

    if (n % 3 != 0)
      problem (im, _("%s: $.annotations[%u].keypoints: needs x, y, v triples"), path, index);
    else
      for (guint k = 0; k < n / 3; k++)
        {
          double x, y, v;
          KpAnnotation *a;

          if (!_kp_json_node_get_number (json_array_get_element (keypoints, 3 * k), &x) ||
              !_kp_json_node_get_number (json_array_get_element (keypoints, 3 * k + 1), &y) ||
              !_kp_json_node_get_number (json_array_get_element (keypoints, 3 * k + 2), &v))
            {
              problem (im, _("%s: $.annotations[%u].keypoints[%u]: not a number"), path, index, 3 * k);
              continue;
            }
          if (v == 0)
            continue;

          a = new_object (category->label, KP_SHAPE_POINT);
          kp_annotation_set_points (a, &(KpPoint) { x, y }, 1);
          a->occluded = v == 1;
          if (category->keypoints != NULL && k < g_strv_length (category->keypoints))
            a->keypoint = g_strdup (category->keypoints[k]);
          coco_attributes (im, path, index, a, attributes);
          add_object (im, image->media, a, score);
          done = TRUE;
        }
  }

  if (!done && has_bbox)
    {
      KpAnnotation *a;

      if (has_rotation)
        {
          /* CVAT's form: the unrotated box and its rotation in degrees. */
          a = new_object (category->label, KP_SHAPE_ROTATED_BOX);
          a->rotated = (KpRotatedBox) { bbox[0] + bbox[2] / 2, bbox[1] + bbox[3] / 2,
                                        bbox[2], bbox[3], kp_angle_normalize (rotation * G_PI / 180) };
        }
      else
        {
          a = new_object (category->label, KP_SHAPE_BOX);
          a->rect = (KpRect) { bbox[0], bbox[1], bbox[2], bbox[3] };
        }
      coco_attributes (im, path, index, a, attributes);
      add_object (im, image->media, a, score);
      done = TRUE;
    }

  /* Say it once: an annotation whose only shape was bad is reported. */
  if (!done && member_array (object, "keypoints") == NULL && im->report->problems->len == n_problems)
    problem (im, _("%s: $.annotations[%u]: no bbox, segmentation or keypoints"), path, index);
}

static gboolean
import_coco (Importer      *im,
             const char    *path,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(JsonNode) root = load_json (path, error);
  g_autoptr(GHashTable) images = NULL;
  g_autoptr(GHashTable) categories = NULL;
  JsonObject *object;
  JsonArray *array;

  if (root == NULL)
    return FALSE;

  object = JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  if (object == NULL || member_array (object, "images") == NULL ||
      member_array (object, "annotations") == NULL || member_array (object, "categories") == NULL)
    {
      g_set_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_MALFORMED,
                   _("%s: $: not a COCO file (it needs the arrays “images”, “annotations” and "
                     "“categories”)"), path);
      return FALSE;
    }

  images = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  array = member_array (object, "images");
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      JsonObject *image = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      const char *file_name = member_string (image, "file_name");
      double id, width = 0, height = 0;
      CocoImage *entry;
      gint64 key;

      if (!member_number (image, "id", &id) || !number_to_key (id, &key) || file_name == NULL)
        {
          problem (im, _("%s: $.images[%u]: needs a numeric id and a file_name"), path, i);
          continue;
        }
      member_number (image, "width", &width);
      member_number (image, "height", &height);

      entry = g_new0 (CocoImage, 1);
      entry->media = find_media (im, file_name);
      entry->width = number_to_size (width);
      entry->height = number_to_size (height);
      if (entry->media == NULL)
        problem (im, _("%s: $.images[%u]: “%s” is not an image of this project"), path, i, file_name);
      else
        {
          image_report (im, entry->media);
          /* Fill in a size the project does not know yet. */
          if (entry->media->width <= 0 && entry->width > 0 && entry->height > 0)
            {
              if (!(im->flags & KP_IMPORT_FLAGS_DRY_RUN))
                kp_store_set_media_info (im->store, entry->media->id, NULL, entry->width, entry->height, NULL);
              entry->media->width = entry->width;
              entry->media->height = entry->height;
            }
          if (entry->width <= 0)
            {
              entry->width = entry->media->width;
              entry->height = entry->media->height;
            }
        }
      g_hash_table_insert (images, g_memdup2 (&key, sizeof key), entry);
    }

  categories = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, coco_category_free);
  array = member_array (object, "categories");
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);
      JsonObject *category = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      const char *name = member_string (category, "name");
      JsonArray *keypoints = member_array (category, "keypoints");
      CocoCategory *entry;
      double id;
      gint64 key;

      if (!member_number (category, "id", &id) || !number_to_key (id, &key) || name == NULL)
        {
          problem (im, _("%s: $.categories[%u]: needs a numeric id and a name"), path, i);
          continue;
        }

      entry = g_new0 (CocoCategory, 1);
      entry->label = label_id (im, name);
      if (keypoints != NULL)
        {
          entry->keypoints = g_new0 (char *, json_array_get_length (keypoints) + 1);
          for (guint k = 0; k < json_array_get_length (keypoints); k++)
            {
              JsonNode *kn = json_array_get_element (keypoints, k);

              entry->keypoints[k] = g_strdup (JSON_NODE_HOLDS_VALUE (kn) &&
                                              json_node_get_value_type (kn) == G_TYPE_STRING
                                                ? json_node_get_string (kn) : "");
            }
        }
      g_hash_table_insert (categories, g_memdup2 (&key, sizeof key), entry);
    }

  array = member_array (object, "annotations");
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      if (i % 1024 == 0 && g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;

      coco_annotation (im, path, i, JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL,
                       images, categories);
    }

  return TRUE;
}

/* Folders */

/* The names of the files in folder that keep() accepts, sorted, or
 * NULL with error set when the folder cannot be read. */
static GPtrArray *
list_folder (const char  *folder,
             gboolean   (*keep) (const char *name),
             GError     **error)
{
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) files = NULL;
  g_autoptr(GError) local_error = NULL;
  const char *name;

  dir = g_dir_open (folder, 0, &local_error);
  if (dir == NULL)
    {
      g_set_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_FAILED,
                   _("Could not read “%s”: %s"), folder, local_error->message);
      return NULL;
    }

  files = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (keep (name))
      g_ptr_array_add (files, g_strdup (name));
  g_ptr_array_sort (files, (GCompareFunc)(void (*) (void))g_strcmp0);

  return g_steal_pointer (&files);
}

/* Pascal VOC */

static xmlNode *
child (xmlNode    *node,
       const char *name)
{
  for (xmlNode *c = node != NULL ? node->children : NULL; c != NULL; c = c->next)
    if (c->type == XML_ELEMENT_NODE && strcmp ((const char *)c->name, name) == 0)
      return c;

  return NULL;
}

static char *
child_text (xmlNode    *node,
            const char *name)
{
  xmlNode *c = child (node, name);
  xmlChar *content;
  char *text;

  if (c == NULL)
    return NULL;

  content = xmlNodeGetContent (c);
  text = g_strstrip (g_strdup ((const char *)content));
  xmlFree (content);

  return text;
}

static gboolean
child_number (xmlNode    *node,
              const char *name,
              double     *value)
{
  g_autofree char *text = child_text (node, name);
  char *end = NULL;

  if (text == NULL || text[0] == '\0')
    return FALSE;

  *value = g_ascii_strtod (text, &end);

  return *end == '\0' && isfinite (*value);
}

static void
voc_file (Importer   *im,
          const char *path)
{
  g_autoptr(xmlDoc) doc = NULL;
  g_autofree char *filename = NULL;
  g_autofree char *file_path = NULL;
  xmlNode *root;
  KpMedia *media;

  doc = xmlReadFile (path, NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc == NULL)
    {
      const xmlError *e = xmlGetLastError ();
      /* libxml2 quotes the bytes it choked on, which need not be UTF-8;
       * problems are shown to people. */
      g_autofree char *message = g_utf8_make_valid (e != NULL && e->message != NULL ? e->message : "", -1);

      problem (im, _("%s:%d: not valid XML: %s"), path, e != NULL ? e->line : 0, g_strstrip (message));
      return;
    }

  root = xmlDocGetRootElement (doc);
  if (root == NULL || strcmp ((const char *)root->name, "annotation") != 0)
    {
      problem (im, _("%s:%d: not a Pascal VOC file (no <annotation>)"), path,
               root != NULL ? (int)xmlGetLineNo (root) : 1);
      return;
    }

  filename = child_text (root, "filename");
  file_path = child_text (root, "path");
  media = find_media (im, filename);
  if (media == NULL)
    media = find_media (im, file_path);
  if (media == NULL)
    {
      problem (im, _("%s:%d: “%s” is not an image of this project"), path,
               (int)xmlGetLineNo (child (root, "filename") != NULL ? child (root, "filename") : root), filename != NULL ? filename : "");
      return;
    }
  image_report (im, media);

  for (xmlNode *o = root->children; o != NULL; o = o->next)
    {
      g_autofree char *name = NULL;
      xmlNode *box;
      double v[5], confidence = NAN;
      gint64 label;
      KpAnnotation *a;

      if (o->type != XML_ELEMENT_NODE || strcmp ((const char *)o->name, "object") != 0)
        continue;

      name = child_text (o, "name");
      if (name == NULL || name[0] == '\0')
        {
          problem (im, _("%s:%ld: <object> without a <name>"), path, xmlGetLineNo (o));
          continue;
        }
      if ((label = label_id (im, name)) == 0)
        continue;
      if (!child_number (o, "score", &confidence))
        child_number (o, "confidence", &confidence);

      if ((box = child (o, "robndbox")) != NULL)
        {
          if (!child_number (box, "cx", &v[0]) || !child_number (box, "cy", &v[1]) ||
              !child_number (box, "w", &v[2]) || !child_number (box, "h", &v[3]) ||
              !child_number (box, "angle", &v[4]) || v[2] < 0 || v[3] < 0)
            {
              problem (im, _("%s:%ld: <robndbox> needs numbers cx, cy, w, h (not negative) and angle"),
                       path, xmlGetLineNo (box));
              continue;
            }
          a = new_object (label, KP_SHAPE_ROTATED_BOX);
          a->rotated = (KpRotatedBox) { v[0], v[1], v[2], v[3], kp_angle_normalize (v[4]) };
        }
      else if ((box = child (o, "bndbox")) != NULL)
        {
          if (!child_number (box, "xmin", &v[0]) || !child_number (box, "ymin", &v[1]) ||
              !child_number (box, "xmax", &v[2]) || !child_number (box, "ymax", &v[3]) ||
              v[2] < v[0] || v[3] < v[1])
            {
              problem (im, _("%s:%ld: <bndbox> needs numbers xmin ≤ xmax and ymin ≤ ymax"),
                       path, xmlGetLineNo (box));
              continue;
            }
          /* 1-based inclusive pixels, as kp_export() writes them. */
          a = new_object (label, KP_SHAPE_BOX);
          a->rect = (KpRect) { v[0] - 1, v[1] - 1, v[2] - v[0] + 1, v[3] - v[1] + 1 };
        }
      else
        {
          problem (im, _("%s:%ld: <object> “%s” has no <bndbox> or <robndbox>"), path,
                   xmlGetLineNo (o), name);
          continue;
        }

      add_object (im, media, a, confidence);
    }
}

static gboolean
is_voc_file (const char *name)
{
  return g_str_has_suffix (name, ".xml") || g_str_has_suffix (name, ".XML");
}

static gboolean
import_voc (Importer      *im,
            const char    *input,
            GCancellable  *cancellable,
            GError       **error)
{
  g_autoptr(GPtrArray) files = NULL;

  if (!g_file_test (input, G_FILE_TEST_IS_DIR))
    {
      if (!g_file_test (input, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_FAILED,
                       _("Could not read “%s”: there is no such file or folder."), input);
          return FALSE;
        }
      voc_file (im, input);
      return TRUE;
    }

  files = list_folder (input, is_voc_file, error);
  if (files == NULL)
    return FALSE;
  if (files->len == 0)
    {
      g_set_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_MALFORMED,
                   _("%s: no Pascal VOC .xml files in the folder"), input);
      return FALSE;
    }

  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *path = g_build_filename (input, files->pdata[i], NULL);

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      voc_file (im, path);
    }

  return TRUE;
}

/* YOLO */

/* The image a label file is named after, as kp_export() names them
 * (folded: casefolded). */
static KpMedia *
find_media_by_stem (Importer   *im,
                    const char *folded)
{
  KpMedia *media = g_hash_table_lookup (im->by_stem, folded);

  if (media != NULL)
    return media;

  /* A stem that is a bare file name. */
  media = g_hash_table_lookup (im->by_name_stem, folded);

  return media != &ambiguous ? media : NULL;
}

/* Class names from a file: one name a line (line N, from 0, is class N),
 * or, when every line is "N name", by those numbers (gaps are ""). */
static GPtrArray *
read_class_names (const char  *path,
                  GError     **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) lines = NULL;
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  gboolean numbered = TRUE;
  guint n_lines = 0;

  if (!g_file_get_contents (path, &contents, NULL, &local_error))
    {
      g_set_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_FAILED,
                   _("Could not read “%s”: %s"), path, local_error->message);
      g_ptr_array_unref (names);
      return NULL;
    }
  if (!g_utf8_validate (contents, -1, NULL))
    {
      g_set_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_MALFORMED,
                   _("%s: the class names are not UTF-8 text"), path);
      g_ptr_array_unref (names);
      return NULL;
    }

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *p = g_strstrip (lines[i]);

      if (*p == '\0')
        continue;
      n_lines++;
      if (!g_ascii_isdigit (*p))
        numbered = FALSE;
      while (g_ascii_isdigit (*p))
        p++;
      if (*p != ' ' && *p != '\t')
        numbered = FALSE;
    }

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = lines[i];

      if (numbered && n_lines > 0)
        {
          char *end = NULL;
          guint64 n;

          if (line[0] == '\0')
            continue;
          n = g_ascii_strtoull (line, &end, 10);
          if (n > 65535)
            {
              g_set_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_MALFORMED,
                           _("%s:%u: class number %" PRIu64 " is too large"), path, i + 1, n);
              g_ptr_array_unref (names);
              return NULL;
            }
          while (names->len <= n)
            g_ptr_array_add (names, g_strdup (""));
          g_free (names->pdata[n]);
          names->pdata[n] = g_strstrip (g_strdup (end));
        }
      else if (line[0] != '\0' || lines[i + 1] != NULL)
        g_ptr_array_add (names, g_strdup (line));
    }
  while (names->len > 0 && ((char *)names->pdata[names->len - 1])[0] == '\0')
    g_ptr_array_remove_index (names, names->len - 1);

  if (names->len == 0)
    {
      g_set_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_MALFORMED,
                   _("%s: no class names in the file"), path);
      g_ptr_array_unref (names);
      return NULL;
    }

  return names;
}

static GPtrArray *
yolo_classes (const char  *folder,
              GError     **error)
{
  g_autofree char *classes = g_build_filename (folder, "classes.txt", NULL);
  g_autofree char *yaml = g_build_filename (folder, "data.yaml", NULL);
  g_autofree char *contents = NULL;
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);

  if (g_file_get_contents (classes, &contents, NULL, NULL))
    {
      g_auto(GStrv) lines = g_strsplit (contents, "\n", -1);

      for (guint i = 0; lines[i] != NULL; i++)
        {
          g_strstrip (lines[i]);
          if (lines[i][0] != '\0' || lines[i + 1] != NULL)
            g_ptr_array_add (names, g_strdup (lines[i]));
        }
      while (names->len > 0 && ((char *)names->pdata[names->len - 1])[0] == '\0')
        g_ptr_array_remove_index (names, names->len - 1);
      return names;
    }

  /* data.yaml "names:" as a block of "  N: name" lines (as kp_export()
   * writes) or "- name" items. */
  if (g_file_get_contents (yaml, &contents, NULL, NULL))
    {
      g_auto(GStrv) lines = g_strsplit (contents, "\n", -1);
      gboolean in_names = FALSE;

      for (guint i = 0; lines[i] != NULL; i++)
        {
          char *line = lines[i];
          char *value;

          if (g_str_has_prefix (line, "names:"))
            {
              in_names = TRUE;
              continue;
            }
          if (!in_names)
            continue;
          if (line[0] != ' ' && line[0] != '-' && line[0] != '\t')
            break;
          g_strstrip (line);
          value = line[0] == '-' ? line + 1 : strchr (line, ':') != NULL ? strchr (line, ':') + 1 : line;
          value = g_strstrip (value);
          if (value[0] == '"' || value[0] == '\'')
            {
              size_t len = strlen (value);

              if (len >= 2 && value[len - 1] == value[0])
                value[len - 1] = '\0';
              value++;
            }
          g_ptr_array_add (names, g_strcompress (value));
        }
      if (names->len > 0)
        return names;
    }

  g_ptr_array_unref (names);
  g_set_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_MALFORMED,
               _("%s: no classes.txt, and no names in data.yaml: the class names are needed"), folder);

  return NULL;
}

static void
yolo_file (Importer   *im,
           const char *path,
           const char *stem,
           GPtrArray  *classes,
           gint64     *class_labels)
{
  g_autofree char *contents = NULL;
  g_autofree char *folded = fold (stem);
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) lines = NULL;
  KpMedia *media;

  media = find_media_by_stem (im, folded);
  if (media == NULL)
    {
      problem (im, _("%s: no image of this project is called “%s”"), path, stem);
      return;
    }
  if (media->width <= 0 || media->height <= 0)
    {
      problem (im, _("%s: the size of “%s” is not known yet; open it once, then import again"),
               path, media->path);
      return;
    }
  image_report (im, media);

  if (!g_file_get_contents (path, &contents, NULL, &local_error))
    {
      problem (im, _("Could not read “%s”: %s"), path, local_error->message);
      return;
    }

  lines = g_strsplit (contents, "\n", -1);
  for (guint l = 0; lines[l] != NULL; l++)
    {
      g_auto(GStrv) tokens = g_strsplit_set (g_strstrip (lines[l]), " \t", -1);
      g_autoptr(GArray) v = g_array_new (FALSE, FALSE, sizeof (double));
      guint64 class;
      double w = media->width, h = media->height, confidence = NAN;
      gboolean bad = FALSE;
      KpAnnotation *a;
      guint n;

      if (lines[l][0] == '\0' || lines[l][0] == '#')
        continue;

      for (guint t = 1; tokens[t] != NULL; t++)
        {
          char *end = NULL;
          double x;

          if (tokens[t][0] == '\0')
            continue;
          x = g_ascii_strtod (tokens[t], &end);
          if (*end != '\0' || !isfinite (x))
            bad = TRUE;
          g_array_append_val (v, x);
        }
      n = v->len;

      if (!g_ascii_string_to_unsigned (tokens[0], 10, 0, G_MAXUINT, &class, NULL) || bad)
        {
          problem (im, _("%s:%u: expected a class number and coordinates"), path, l + 1);
          continue;
        }
      if (class >= classes->len || class_labels[class] == 0)
        {
          problem (im, _("%s:%u: class %" PRIu64 " is not in the class list"), path, l + 1, class);
          continue;
        }

#define V(i) g_array_index (v, double, i)
      if (n == 4 || n == 5)
        {
          if (n == 5)
            confidence = V (4);
          a = new_object (class_labels[class], KP_SHAPE_BOX);
          a->rect = (KpRect) { (V (0) - V (2) / 2) * w, (V (1) - V (3) / 2) * h, V (2) * w, V (3) * h };
        }
      else if (n >= 6 && n % 2 == 0)
        {
          g_autofree KpPoint *points = g_new (KpPoint, n / 2);

          for (guint i = 0; i < n / 2; i++)
            points[i] = (KpPoint) { V (2 * i) * w, V (2 * i + 1) * h };
          a = new_object (class_labels[class], KP_SHAPE_POLYGON);
          kp_annotation_set_points (a, points, n / 2);
        }
      else
        {
          problem (im, _("%s:%u: %u numbers after the class: expected 4 (a box), 5 (a box and "
                         "its confidence) or an even number from 6 on (a polygon)"), path, l + 1, n);
          continue;
        }
#undef V

      add_object (im, media, a, confidence);
    }
}

static gboolean
is_yolo_file (const char *name)
{
  return g_str_has_suffix (name, ".txt") && strcmp (name, "classes.txt") != 0 &&
         strcmp (name, "images.txt") != 0;
}

static gboolean
import_yolo (Importer      *im,
             const char    *input,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(GPtrArray) classes = NULL;
  g_autofree gint64 *class_labels = NULL;
  g_autofree char *labels_dir = g_build_filename (input, "labels", NULL);
  const char *folder = g_file_test (labels_dir, G_FILE_TEST_IS_DIR) ? labels_dir : input;
  g_autoptr(GPtrArray) files = NULL;

  if (!g_file_test (input, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_FAILED,
                   _("Could not read “%s”: YOLO needs a folder."), input);
      return FALSE;
    }

  if (im->class_names_file != NULL)
    classes = read_class_names (im->class_names_file, error);
  else
    classes = yolo_classes (input, error);
  if (classes == NULL)
    return FALSE;
  class_labels = g_new0 (gint64, MAX (classes->len, 1));
  for (guint i = 0; i < classes->len; i++)
    if (((char *)classes->pdata[i])[0] != '\0')
      class_labels[i] = label_id (im, classes->pdata[i]);

  files = list_folder (folder, is_yolo_file, error);
  if (files == NULL)
    return FALSE;
  if (files->len == 0)
    {
      g_set_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_MALFORMED, _("%s: no YOLO label files (.txt) in the folder"), folder);
      return FALSE;
    }

  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *path = g_build_filename (folder, files->pdata[i], NULL);
      g_autofree char *stem = g_strndup (files->pdata[i], strlen (files->pdata[i]) - 4);

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      yolo_file (im, path, stem, classes, class_labels);
    }

  return TRUE;
}

/* SageMaker Ground Truth output manifests */

static void
gt_boxes (Importer   *im,
          const char *where,
          KpMedia    *media,
          JsonObject *result,
          JsonObject *metadata)
{
  JsonArray *annotations = member_array (result, "annotations");
  JsonObject *class_map = member_object (metadata, "class-map");
  JsonArray *objects = member_array (metadata, "objects");

  for (guint i = 0; annotations != NULL && i < json_array_get_length (annotations); i++)
    {
      JsonNode *node = json_array_get_element (annotations, i);
      JsonObject *box = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
      double class_id, left, top, width, height, confidence = NAN;
      g_autofree char *class_key = NULL;
      gint64 class_number;
      const char *class_name;
      gint64 label;
      KpAnnotation *a;

      if (!member_number (box, "class_id", &class_id) || !member_number (box, "left", &left) ||
          !member_number (box, "top", &top) || !member_number (box, "width", &width) ||
          !member_number (box, "height", &height) || !number_to_key (class_id, &class_number))
        {
          problem (im, _("%s.annotations[%u]: needs numbers class_id, left, top, width and height"),
                   where, i);
          continue;
        }

      class_key = g_strdup_printf ("%" G_GINT64_FORMAT, class_number);
      class_name = member_string (class_map, class_key);
      if (class_name == NULL)
        {
          problem (im, _("%s.annotations[%u]: class_id %s is not in the metadata’s class-map"),
                   where, i, class_key);
          continue;
        }
      if ((label = label_id (im, class_name)) == 0)
        continue;

      if (objects != NULL && i < json_array_get_length (objects))
        {
          JsonNode *o = json_array_get_element (objects, i);

          if (JSON_NODE_HOLDS_OBJECT (o))
            member_number (json_node_get_object (o), "confidence", &confidence);
        }

      a = new_object (label, KP_SHAPE_BOX);
      a->rect = (KpRect) { left, top, width, height };
      add_object (im, media, a, confidence);
    }
}

/* A semantic segmentation label map: one mask per colour of the
 * internal-color-map (but its background, class 0). */
static void
gt_label_map (Importer   *im,
              const char *manifest,
              const char *where,
              KpMedia    *media,
              const char *ref,
              JsonObject *metadata)
{
  JsonObject *colors = member_object (metadata, "internal-color-map");
  g_autofree char *dir = g_path_get_dirname (manifest);
  g_autofree char *path = NULL;
  g_autofree guint8 *rgb = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GList) members = NULL;
  int width = 0, height = 0;

  if (g_str_has_prefix (ref, "file://"))
    path = g_filename_from_uri (ref, NULL, NULL);
  else if (strstr (ref, "://") == NULL)
    path = g_path_is_absolute (ref) ? g_strdup (ref) : g_build_filename (dir, ref, NULL);
  else
    {
      /* An s3:// reference: look for the file next to the manifest. */
      const char *base = strrchr (ref, '/');

      path = g_build_filename (dir, base + 1, NULL);
    }

  if (im->load_rgb == NULL)
    {
      problem (im, _("%s: the label map “%s” was not imported: no image decoder was given"), where, ref);
      return;
    }
  if (path == NULL || !g_file_test (path, G_FILE_TEST_EXISTS))
    {
      problem (im, _("%s: the label map “%s” was not found (looked for “%s”)"), where, ref,
               path != NULL ? path : "");
      return;
    }
  if (colors == NULL)
    {
      problem (im, _("%s: no internal-color-map for the label map “%s”"), where, ref);
      return;
    }

  rgb = im->load_rgb (path, &width, &height, im->load_rgb_data, &error);
  if (rgb == NULL)
    {
      problem (im, _("%s: the label map “%s” could not be read: %s"), where, path, error->message);
      return;
    }

  members = json_object_get_members (colors);
  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonObject *entry = member_object (colors, l->data);
      const char *name = member_string (entry, "class-name");
      const char *hex = member_string (entry, "hex-color");
      g_autofree guint8 *bits = NULL;
      double confidence = NAN;
      guint r, g, b;
      gint64 label;
      KpMask *mask;

      if (strcmp (l->data, "0") == 0)
        continue;   /* the background */
      if (name == NULL || hex == NULL || sscanf (hex, "#%02x%02x%02x", &r, &g, &b) != 3)
        {
          problem (im, _("%s: internal-color-map.%s needs class-name and hex-color"), where,
                   (const char *)l->data);
          continue;
        }
      member_number (entry, "confidence", &confidence);

      bits = g_malloc0 ((gsize)width * height);
      for (gsize p = 0; p < (gsize)width * height; p++)
        bits[p] = rgb[3 * p] == r && rgb[3 * p + 1] == g && rgb[3 * p + 2] == b;
      mask = kp_mask_new_from_bitmap (0, 0, width, height, bits);
      if (kp_mask_is_empty (mask) || (label = label_id (im, name)) == 0)
        {
          kp_mask_free (mask);
          continue;
        }

      {
        KpAnnotation *a = new_object (label, KP_SHAPE_MASK);

        a->mask = mask;
        add_object (im, media, a, confidence);
      }
    }
}

static gboolean
import_ground_truth (Importer      *im,
                     const char    *path,
                     GCancellable  *cancellable,
                     GError       **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (path, &contents, NULL, &local_error))
    {
      g_set_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_FAILED,
                   _("Could not read “%s”: %s"), path, local_error->message);
      return FALSE;
    }

  lines = g_strsplit (contents, "\n", -1);
  for (guint l = 0; lines[l] != NULL; l++)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(GList) members = NULL;
      g_autofree char *where = g_strdup_printf ("%s:%u", path, l + 1);
      JsonObject *object;
      const char *source_ref;
      KpMedia *media;
      gboolean found = FALSE;

      if (g_strstrip (lines[l])[0] == '\0')
        continue;
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;

      if (!json_parser_load_from_data (parser, lines[l], -1, &local_error))
        {
          problem (im, _("%s: not valid JSON: %s"), where, local_error->message);
          g_clear_error (&local_error);
          continue;
        }
      object = json_parser_get_root (parser) != NULL && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))
                 ? json_node_get_object (json_parser_get_root (parser)) : NULL;
      source_ref = member_string (object, "source-ref");
      if (source_ref == NULL)
        {
          problem (im, _("%s: $.source-ref: missing (each manifest line names its image)"), where);
          continue;
        }
      media = find_media (im, source_ref);
      if (media == NULL)
        {
          problem (im, _("%s: “%s” is not an image of this project"), where, source_ref);
          continue;
        }
      image_report (im, media);

      /* Each job's output is an attribute NAME with NAME-metadata. */
      members = json_object_get_members (object);
      for (GList *m = members; m != NULL; m = m->next)
        {
          const char *name = m->data;
          g_autofree char *metadata_name = g_strconcat (name, "-metadata", NULL);
          g_autofree char *member_where = g_strdup_printf ("%s: $.%s", where, name);
          JsonObject *metadata = member_object (object, metadata_name);
          const char *type = member_string (metadata, "type");

          if (metadata == NULL)
            continue;

          if (g_strcmp0 (type, "groundtruth/object-detection") == 0 ||
              member_array (member_object (object, name), "annotations") != NULL)
            {
              JsonObject *result = member_object (object, name);
              JsonArray *size = member_array (result, "image_size");

              /* Fill in a size the project does not know yet. */
              if (media->width <= 0 && size != NULL && json_array_get_length (size) > 0)
                {
                  JsonNode *first = json_array_get_element (size, 0);
                  double w, h;

                  if (JSON_NODE_HOLDS_OBJECT (first) &&
                      member_number (json_node_get_object (first), "width", &w) &&
                      member_number (json_node_get_object (first), "height", &h) &&
                      number_to_size (w) > 0 && number_to_size (h) > 0)
                    {
                      if (!(im->flags & KP_IMPORT_FLAGS_DRY_RUN))
                        kp_store_set_media_info (im->store, media->id, NULL, number_to_size (w),
                                                 number_to_size (h), NULL);
                      media->width = number_to_size (w);
                      media->height = number_to_size (h);
                    }
                }
              gt_boxes (im, member_where, media, result, metadata);
              found = TRUE;
            }
          else if (g_strcmp0 (type, "groundtruth/semantic-segmentation") == 0 &&
                   member_string (object, name) != NULL)
            {
              gt_label_map (im, path, member_where, media, member_string (object, name), metadata);
              found = TRUE;
            }
          else
            {
              problem (im, _("%s: job type “%s” cannot be imported (bounding boxes and semantic "
                             "segmentation can)"), member_where, type != NULL ? type : "");
              found = TRUE;
            }
        }

      if (!found)
        problem (im, _("%s: no labelling job output on this line"), where);
    }

  return TRUE;
}

/* Label maps, as kp_export() writes them */

static void
label_map_file (Importer   *im,
                const char *path,
                const char *stem,
                GPtrArray  *classes)
{
  g_autofree char *folded = fold (stem);
  g_autofree guint8 *rgb = NULL;
  g_autoptr(GError) error = NULL;
  gsize n_pixels;
  guint counts[256] = { 0 };
  int width = 0, height = 0;
  KpMedia *media;

  media = find_media_by_stem (im, folded);
  if (media == NULL)
    {
      problem (im, _("%s: no image of this project is called “%s”"), path, stem);
      return;
    }

  rgb = im->load_rgb (path, &width, &height, im->load_rgb_data, &error);
  if (rgb == NULL)
    {
      problem (im, _("%s: the label map could not be read: %s"), path, error->message);
      return;
    }
  if (media->width > 0 && (media->width != width || media->height != height))
    {
      problem (im, _("%s: the label map is %d×%d pixels, but “%s” is %d×%d"), path, width, height,
               media->path, media->width, media->height);
      return;
    }
  if (media->width <= 0)
    {
      if (!(im->flags & KP_IMPORT_FLAGS_DRY_RUN))
        kp_store_set_media_info (im->store, media->id, NULL, width, height, NULL);
      media->width = width;
      media->height = height;
    }

  n_pixels = (gsize)width * height;
  for (gsize p = 0; p < n_pixels; p++)
    {
      if (rgb[3 * p] != rgb[3 * p + 1] || rgb[3 * p] != rgb[3 * p + 2])
        {
          problem (im, _("%s: pixel %d, %d is not grey: a label map holds one class number a pixel"),
                   path, (int)(p % width), (int)(p / width));
          return;
        }
      counts[rgb[3 * p]]++;
    }

  image_report (im, media);
  for (guint value = 1; value < 256; value++)
    {
      g_autofree guint8 *bits = NULL;
      KpAnnotation *a;
      gint64 label;

      if (counts[value] == 0)
        continue;
      if (value >= classes->len || ((char *)classes->pdata[value])[0] == '\0')
        {
          problem (im, _("%s: %u pixels have the value %u, which is not in the class list"),
                   path, counts[value], value);
          continue;
        }
      if ((label = label_id (im, classes->pdata[value])) == 0)
        continue;

      bits = g_malloc (n_pixels);
      for (gsize p = 0; p < n_pixels; p++)
        bits[p] = rgb[3 * p] == value;

      a = new_object (label, KP_SHAPE_MASK);
      a->mask = kp_mask_new_from_bitmap (0, 0, width, height, bits);
      add_object (im, media, a, NAN);
    }
}

static gboolean
is_label_map_file (const char *name)
{
  return g_str_has_suffix (name, ".png") || g_str_has_suffix (name, ".PNG");
}

static gboolean
import_label_map (Importer      *im,
                  const char    *input,
                  GCancellable  *cancellable,
                  GError       **error)
{
  g_autofree char *classes_file = g_build_filename (input, "classes.txt", NULL);
  g_autoptr(GPtrArray) classes = NULL;
  g_autoptr(GPtrArray) files = NULL;

  if (!g_file_test (input, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_FAILED,
                   _("Could not read “%s”: label maps are read from a folder."), input);
      return FALSE;
    }
  if (im->load_rgb == NULL)
    {
      g_set_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_FAILED,
                   _("Label maps cannot be read: no image decoder was given."));
      return FALSE;
    }

  classes = read_class_names (im->class_names_file != NULL ? im->class_names_file : classes_file, error);
  if (classes == NULL)
    return FALSE;

  files = list_folder (input, is_label_map_file, error);
  if (files == NULL)
    return FALSE;
  if (files->len == 0)
    {
      g_set_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_MALFORMED, _("%s: no label maps (.png) in the folder"), input);
      return FALSE;
    }

  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *path = g_build_filename (input, files->pdata[i], NULL);
      g_autofree char *stem = g_strndup (files->pdata[i], strlen (files->pdata[i]) - 4);

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      label_map_file (im, path, stem, classes);
    }

  return TRUE;
}

KpImportReport *
kp_import (KpStore             *store,
           KpImportFormat       format,
           const char          *input,
           KpImportFlags        flags,
           KpImportLoadRgbFunc  load_rgb,
           gpointer             load_rgb_data,
           GCancellable        *cancellable,
           GError             **error)
{
  KpImportOptions options = { 0 };

  options.flags = flags;
  options.load_rgb = load_rgb;
  options.load_rgb_data = load_rgb_data;

  return kp_import_full (store, format, input, &options, cancellable, error);
}

static int
compare_image_reports (gconstpointer a,
                       gconstpointer b)
{
  const KpImportImageReport *x = *(const KpImportImageReport * const *)a;
  const KpImportImageReport *y = *(const KpImportImageReport * const *)b;

  return strcmp (x->path, y->path);
}

KpImportReport *
kp_import_full (KpStore               *store,
                KpImportFormat         format,
                const char            *input,
                const KpImportOptions *options,
                GCancellable          *cancellable,
                GError               **error)
{
  static const KpImportOptions defaults = { 0 };
  g_autoptr(Importer) im = NULL;
  g_autofree char *base = NULL;
  gboolean ok;

  g_return_val_if_fail (KP_IS_STORE (store), NULL);
  g_return_val_if_fail (input != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (options == NULL)
    options = &defaults;

  if (kp_import_format_to_string (format) == NULL)
    {
      g_set_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_UNKNOWN_FORMAT,
                   _("Unknown import format %d."), (int)format);
      return NULL;
    }

  im = g_new0 (Importer, 1);
  im->store = store;
  im->format = format;
  im->flags = options->flags;
  im->load_rgb = options->load_rgb;
  im->load_rgb_data = options->load_rgb_data;
  im->min_confidence = isfinite (options->min_confidence) ? options->min_confidence : 0;
  im->class_names_file = options->class_names_file;
  {
    g_autofree char *trimmed = g_strdup (input);
    gsize len = strlen (trimmed);

    /* "out/" and "out" are the same source. */
    while (len > 1 && G_IS_DIR_SEPARATOR (trimmed[len - 1]))
      trimmed[--len] = '\0';
    base = g_path_get_basename (trimmed);
  }
  im->source = g_strdup_printf ("%s:%s", kp_import_format_to_string (format), base);
  im->report = g_new0 (KpImportReport, 1);
  im->report->problems = g_ptr_array_new_with_free_func (g_free);
  im->report->images = g_ptr_array_new_with_free_func (image_report_free);

  if (!importer_init (im, error))
    return NULL;

  switch (format)
    {
    case KP_IMPORT_FORMAT_COCO:
      ok = import_coco (im, input, cancellable, error);
      break;

    case KP_IMPORT_FORMAT_VOC:
      ok = import_voc (im, input, cancellable, error);
      break;

    case KP_IMPORT_FORMAT_YOLO:
      ok = import_yolo (im, input, cancellable, error);
      break;

    case KP_IMPORT_FORMAT_GROUND_TRUTH:
      ok = import_ground_truth (im, input, cancellable, error);
      break;

    case KP_IMPORT_FORMAT_LABEL_MAP:
      ok = import_label_map (im, input, cancellable, error);
      break;

    default:
      g_assert_not_reached ();
    }

  g_ptr_array_sort (im->report->images, compare_image_reports);
  if (!ok || !flush (im, cancellable, error))
    return NULL;

  return g_steal_pointer (&im->report);
}

KpMask *
kp_import_coco_rle (JsonObject  *rle,
                    int          width,
                    int          height,
                    const char **member,
                    GError     **error)
{
  const char *unused;
  JsonNode *counts;
  JsonArray *size;
  double hw[2];
  g_autoptr(GArray) runs = NULL;
  KpMask *mask;

  g_return_val_if_fail (rle != NULL, NULL);

  if (member == NULL)
    member = &unused;
  *member = NULL;
  counts = json_object_get_member (rle, "counts");
  size = member_array (rle, "size");
  if (!array_numbers (size, hw, 2) || counts == NULL)
    {
      g_set_error_literal (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_MALFORMED,
                           _("RLE needs size [h, w] and counts"));
      return NULL;
    }
  if (hw[0] != height || hw[1] != width)
    {
      *member = "size";
      g_set_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_MALFORMED,
                   _("%g×%g is not the image’s size, %d×%d"), hw[1], hw[0], width, height);
      return NULL;
    }

  if (JSON_NODE_HOLDS_VALUE (counts) && json_node_get_value_type (counts) == G_TYPE_STRING)
    runs = kp_coco_rle_decode (json_node_get_string (counts));
  else if (JSON_NODE_HOLDS_ARRAY (counts))
    {
      JsonArray *array = json_node_get_array (counts);

      runs = g_array_new (FALSE, FALSE, sizeof (guint32));
      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          double v;
          guint32 c;

          if (!_kp_json_node_get_number (json_array_get_element (array, i), &v) || v < 0 || v > G_MAXUINT32)
            {
              g_clear_pointer (&runs, g_array_unref);
              break;
            }
          c = (guint32)v;
          g_array_append_val (runs, c);
        }
    }
  if (runs == NULL)
    {
      *member = "counts";
      g_set_error_literal (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_MALFORMED,
                           _("not valid COCO RLE"));
      return NULL;
    }

  mask = kp_mask_from_coco_counts ((guint32 *)(void *)runs->data, runs->len, width, height);
  if (mask == NULL)
    {
      *member = "counts";
      g_set_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_MALFORMED,
                   _("the runs do not add up to the image’s %d×%d pixels"), width, height);
    }

  return mask;
}
