/* kp-export.c: COCO, Pascal VOC and YOLO exporters
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-export.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libxml/xmlwriter.h>

G_DEFINE_QUARK (kp-export-error-quark, kp_export_error)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlTextWriter, xmlFreeTextWriter)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlBuffer, xmlBufferFree)

static const struct {
  KpExportFormat format;
  const char *name;
} formats[] = {
  { KP_EXPORT_FORMAT_COCO, "coco" },
  { KP_EXPORT_FORMAT_VOC, "voc" },
  { KP_EXPORT_FORMAT_YOLO, "yolo" },
  { KP_EXPORT_FORMAT_LABEL_MAP, "labelmap" },
  { KP_EXPORT_FORMAT_GROUND_TRUTH, "groundtruth" },
  { KP_EXPORT_FORMAT_GROUND_TRUTH, "gt" },
  { KP_EXPORT_FORMAT_GROUND_TRUTH, "gt-manifest" },
  { KP_EXPORT_FORMAT_GROUND_TRUTH, "sagemaker" },
  { KP_EXPORT_FORMAT_LABEL_MAP, "label-map" },
};

#define N_EXPORT_FORMATS (KP_EXPORT_FORMAT_GROUND_TRUTH + 1)

/* What each format makes of each shape: NULL holds it, "" leaves it out,
 * else what it becomes. Indexed by format, then KpShape. */
static const char * const conversions[N_EXPORT_FORMATS][KP_N_SHAPES] = {
  /*                             box    rotated    polygon    polyline line    point   mask */
  [KP_EXPORT_FORMAT_COCO]      = { NULL, NULL,     NULL,      "bbox",  "bbox", NULL,   NULL },
  [KP_EXPORT_FORMAT_VOC]       = { NULL, NULL,     "bbox",    "bbox",  "bbox", "bbox", "bbox" },
  [KP_EXPORT_FORMAT_YOLO]      = { NULL, "polygon", NULL,     "",      "",     "",     "" },
  [KP_EXPORT_FORMAT_LABEL_MAP] = { "pixels", "pixels", "pixels", "",   "",     "",     NULL },
  [KP_EXPORT_FORMAT_GROUND_TRUTH] = { NULL, "pixels", "pixels", "",    "",     "",     NULL },
};

const char *
kp_export_format_converts_to (KpExportFormat format,
                              KpShape        shape)
{
  const char *what;

  g_return_val_if_fail ((guint)format < N_EXPORT_FORMATS, NULL);
  g_return_val_if_fail ((guint)shape < KP_N_SHAPES, NULL);

  what = conversions[format][shape];

  return what != NULL && what[0] != '\0' ? what : NULL;
}

gboolean
kp_export_format_holds (KpExportFormat format,
                        KpShape        shape)
{
  g_return_val_if_fail ((guint)format < N_EXPORT_FORMATS, FALSE);
  g_return_val_if_fail ((guint)shape < KP_N_SHAPES, FALSE);

  return conversions[format][shape] == NULL;
}

void
kp_export_report_free (KpExportReport *report)
{
  if (report == NULL)
    return;

  g_clear_pointer (&report->warnings, g_ptr_array_unref);
  g_free (report);
}

gboolean
kp_export_format_from_string (const char     *name,
                              KpExportFormat *format)
{
  g_return_val_if_fail (name != NULL, FALSE);

  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      if (g_ascii_strcasecmp (name, formats[i].name) == 0)
        {
          if (format != NULL)
            *format = formats[i].format;
          return TRUE;
        }
    }

  return FALSE;
}

const char *
kp_export_format_to_string (KpExportFormat format)
{
  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    if (formats[i].format == format)
      return formats[i].name;

  return NULL;
}

/* What gets exported, read from the store once. */
typedef struct
{
  KpMedia   *media;
  GPtrArray *annotations;       /* KpAnnotation */
  char      *stem;              /* file name stem for VOC and YOLO */
} ExportImage;

typedef struct
{
  KpStore        *store;
  GPtrArray      *labels;       /* KpLabel, in position order */
  GHashTable     *class_index;  /* label id -> GINT_TO_POINTER (index + 1) */
  GArray         *images;       /* ExportImage */
  GPtrArray      *attributes;   /* KpAttribute */
  KpExportFlags   flags;
  KpExportReport *report;
  guint           converted[KP_N_SHAPES]; /* exported in another form */
  guint           dropped[KP_N_SHAPES];   /* left out */
  GHashTable     *keypoint_names;         /* label id -> GPtrArray of names, made once */
} ExportData;

static void
export_image_clear (gpointer data)
{
  ExportImage *image = data;

  g_clear_pointer (&image->media, kp_media_free);
  g_clear_pointer (&image->annotations, g_ptr_array_unref);
  g_clear_pointer (&image->stem, g_free);
}

static void
export_data_free (ExportData *data)
{
  g_clear_pointer (&data->labels, g_ptr_array_unref);
  g_clear_pointer (&data->class_index, g_hash_table_unref);
  g_clear_pointer (&data->images, g_array_unref);
  g_clear_pointer (&data->attributes, g_ptr_array_unref);
  g_clear_pointer (&data->report, kp_export_report_free);
  g_clear_pointer (&data->keypoint_names, g_hash_table_unref);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ExportData, export_data_free)

/* The file name stem of an image for VOC and YOLO: its relative path
 * without the extension, with '/' replaced by '_' ("sub/a.jpg" -> "sub_a").
 * When two images would share a stem (compared without case, for
 * case-insensitive file systems), the later one in path order keeps its
 * extension ("a.png" -> "a_png"), and if that is taken too a number is
 * added ("a_png_2"). The mapping is stable for a given set of images, and
 * each file names its image (VOC <path>, YOLO images.txt). */
static char *
make_stem (const char *path,
           GHashTable *used)
{
  g_autofree char *base = g_strdup (path);
  g_autofree char *with_ext = NULL;
  char *dot = strrchr (base, '.');
  char *slash = strrchr (base, '/');
  g_autofree char *candidate = NULL;

  for (char *p = base; *p != '\0'; p++)
    if (*p == '/' || *p == '\\')
      *p = '_';

  with_ext = g_strdup (base);
  if (dot != NULL && (slash == NULL || dot > slash) && dot != base)
    {
      with_ext[dot - base] = '_';
      *dot = '\0';
    }

  candidate = g_strdup (base);
  for (guint n = 1; ; n++)
    {
      g_autofree char *folded = g_utf8_casefold (candidate, -1);

      if (!g_hash_table_contains (used, folded))
        {
          g_hash_table_add (used, g_steal_pointer (&folded));
          return g_steal_pointer (&candidate);
        }

      g_free (candidate);
      candidate = n == 1 ? g_strdup (with_ext) : g_strdup_printf ("%s_%u", with_ext, n);
    }
}

static int
compare_drawing_order (gconstpointer a,
                       gconstpointer b)
{
  const KpAnnotation *x = *(const KpAnnotation * const *)a;
  const KpAnnotation *y = *(const KpAnnotation * const *)b;

  if (x->z != y->z)
    return x->z < y->z ? -1 : 1;

  return x->id < y->id ? -1 : (x->id > y->id);
}

static ExportData *
collect (KpStore        *store,
         KpExportFlags   flags,
         GCancellable   *cancellable,
         GError        **error)
{
  g_autoptr(ExportData) data = g_new0 (ExportData, 1);
  g_autoptr(GPtrArray) media = NULL;
  g_autoptr(GHashTable) used = NULL;

  data->store = store;
  data->flags = flags;
  data->report = g_new0 (KpExportReport, 1);
  data->report->warnings = g_ptr_array_new_with_free_func (g_free);
  data->attributes = kp_store_list_all_attributes (store, error);
  if (data->attributes == NULL)
    return NULL;
  data->labels = kp_store_list_labels (store, error);
  if (data->labels == NULL)
    return NULL;

  data->class_index = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  for (guint i = 0; i < data->labels->len; i++)
    {
      const KpLabel *label = g_ptr_array_index (data->labels, i);

      g_hash_table_insert (data->class_index, g_memdup2 (&label->id, sizeof label->id),
                           GUINT_TO_POINTER (i + 1));
    }

  media = kp_store_list_media (store, error);
  if (media == NULL)
    return NULL;

  data->images = g_array_new (FALSE, TRUE, sizeof (ExportImage));
  g_array_set_clear_func (data->images, export_image_clear);
  used = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < media->len; i++)
    {
      KpMedia *m = g_ptr_array_index (media, i);
      ExportImage image = { 0 };

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;

      if (m->status == KP_MEDIA_STATUS_BROKEN || m->status == KP_MEDIA_STATUS_MISSING)
        continue;

      if (m->width <= 0 || m->height <= 0)
        {
          if (m->n_annotations > 0)
            {
              g_set_error (error, KP_EXPORT_ERROR, KP_EXPORT_ERROR_MISSING_SIZE,
                           _("The size of the annotated image “%s” is not known yet; "
                             "open it once, then export again."), m->path);
              return NULL;
            }
          continue;
        }

      image.annotations = kp_store_list_annotations (store, m->id, error);
      if (image.annotations == NULL)
        return NULL;
      if (!(flags & KP_EXPORT_FLAGS_INCLUDE_PENDING))
        for (guint j = image.annotations->len; j > 0; j--)
          if (((KpAnnotation *)image.annotations->pdata[j - 1])->review == KP_REVIEW_PENDING)
            {
              g_ptr_array_remove_index (image.annotations, j - 1);
              data->report->n_pending++;
            }
      g_ptr_array_sort (image.annotations, compare_drawing_order);
      data->report->n_images++;
      data->report->n_objects += image.annotations->len;
      image.stem = make_stem (m->path, used);
      image.media = g_steal_pointer (&media->pdata[i]);
      g_array_append_val (data->images, image);
    }

  return g_steal_pointer (&data);
}

static guint
class_of (ExportData         *data,
          const KpAnnotation *annotation)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (data->class_index, &annotation->label_id));
}

/* Writing */

typedef struct
{
  char   *path;
  GBytes *contents;
} OutputFile;

static void
output_file_clear (gpointer data)
{
  OutputFile *file = data;

  g_clear_pointer (&file->path, g_free);
  g_clear_pointer (&file->contents, g_bytes_unref);
}

static void
add_output (GArray     *outputs,
            char       *path,
            GBytes     *contents)
{
  OutputFile file = { path, contents };

  g_array_append_val (outputs, file);
}

static void
add_output_string (GArray  *outputs,
                   char    *path,
                   GString *contents)
{
  gsize len = contents->len;

  add_output (outputs, path, g_bytes_new_take (g_string_free (contents, FALSE), len));
}

static gboolean
make_folder (const char  *path,
             GError     **error)
{
  if (g_mkdir_with_parents (path, 0755) != 0)
    {
      int errsv = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (errsv),
                   _("Could not create the folder “%s”: %s"), path, g_strerror (errsv));
      return FALSE;
    }

  return TRUE;
}

/* Everything is produced in memory first, so that an error found while
 * producing it leaves every old file in place; then each file is replaced
 * atomically. */
static gboolean
write_outputs (GArray        *outputs,
               GCancellable  *cancellable,
               GError       **error)
{
  for (guint i = 0; i < outputs->len; i++)
    {
      const OutputFile *file = &g_array_index (outputs, OutputFile, i);
      g_autofree char *dir = g_path_get_dirname (file->path);
      gsize len;
      const char *bytes = g_bytes_get_data (file->contents, &len);

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;

      if (!make_folder (dir, error))
        return FALSE;

      if (!g_file_set_contents_full (file->path, bytes, len,
                                     G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                     0644, error))
        {
          g_prefix_error (error, _("Could not export to “%s”: "), file->path);
          return FALSE;
        }
    }

  return TRUE;
}

/* COCO */

#define UNNAMED_KEYPOINT "point"

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *)a, *(const char * const *)b);
}

/* The keypoint names the points of a label use, sorted. Looked up once
 * per label: a project with many points would otherwise read every
 * object again for each of them. Owned by data. */
static GPtrArray *
coco_keypoint_names (ExportData *data,
                     gint64      label_id)
{
  GPtrArray *names;

  if (data->keypoint_names == NULL)
    data->keypoint_names = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                                  (GDestroyNotify)g_ptr_array_unref);
  names = g_hash_table_lookup (data->keypoint_names, &label_id);
  if (names != NULL)
    return names;

  names = g_ptr_array_new_with_free_func (g_free);
  g_hash_table_insert (data->keypoint_names, g_memdup2 (&label_id, sizeof label_id), names);

  for (guint i = 0; i < data->images->len; i++)
    {
      const ExportImage *image = &g_array_index (data->images, ExportImage, i);

      for (guint j = 0; j < image->annotations->len; j++)
        {
          const KpAnnotation *a = image->annotations->pdata[j];
          const char *name;
          gboolean known = FALSE;

          if (a->shape != KP_SHAPE_POINT || a->label_id != label_id)
            continue;
          name = a->keypoint != NULL && a->keypoint[0] != '\0' ? a->keypoint : UNNAMED_KEYPOINT;
          for (guint k = 0; k < names->len && !known; k++)
            known = strcmp (names->pdata[k], name) == 0;
          if (!known)
            g_ptr_array_add (names, g_strdup (name));
        }
    }
  g_ptr_array_sort (names, compare_strings);

  return names;
}

static void
add_doubles (JsonBuilder  *builder,
             const double *values,
             guint         n)
{
  json_builder_begin_array (builder);
  for (guint i = 0; i < n; i++)
    json_builder_add_double_value (builder, values[i]);
  json_builder_end_array (builder);
}

static const KpAttribute *
find_attribute (ExportData *data,
                gint64      attribute_id)
{
  for (guint i = 0; i < data->attributes->len; i++)
    if (((KpAttribute *)data->attributes->pdata[i])->id == attribute_id)
      return data->attributes->pdata[i];

  return NULL;
}

static void
coco_annotation (ExportData         *data,
                 JsonBuilder        *builder,
                 const ExportImage  *image,
                 const KpAnnotation *a,
                 guint               category)
{
  KpRect r = a->rect;
  double area = r.width * r.height;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, a->id);
  json_builder_set_member_name (builder, "image_id");
  json_builder_add_int_value (builder, image->media->id);
  json_builder_set_member_name (builder, "category_id");
  json_builder_add_int_value (builder, category);
  json_builder_set_member_name (builder, "bbox");
  add_doubles (builder, (const double[]) { r.x, r.y, r.width, r.height }, 4);
  json_builder_set_member_name (builder, "iscrowd");
  json_builder_add_int_value (builder, 0);

  json_builder_set_member_name (builder, "segmentation");
  switch (a->shape)
    {
    case KP_SHAPE_POLYGON:
      json_builder_begin_array (builder);
      add_doubles (builder, (const double *)a->points, a->n_points * 2);
      json_builder_end_array (builder);
      area = fabs (kp_polygon_area (a->points, a->n_points));
      break;

    case KP_SHAPE_ROTATED_BOX:
      {
        KpPoint c[4];

        kp_rotated_box_corners (&a->rotated, c);
        json_builder_begin_array (builder);
        add_doubles (builder, (const double *)c, 8);
        json_builder_end_array (builder);
        area = a->rotated.width * a->rotated.height;
        break;
      }

    case KP_SHAPE_MASK:
      {
        g_autoptr(GArray) counts = kp_mask_to_coco_counts (a->mask, image->media->width,
                                                           image->media->height);
        g_autofree char *text = kp_coco_rle_encode ((guint32 *)(void *)counts->data, counts->len);

        json_builder_begin_object (builder);
        json_builder_set_member_name (builder, "size");
        json_builder_begin_array (builder);
        json_builder_add_int_value (builder, image->media->height);
        json_builder_add_int_value (builder, image->media->width);
        json_builder_end_array (builder);
        json_builder_set_member_name (builder, "counts");
        json_builder_add_string_value (builder, text);
        json_builder_end_object (builder);
        area = kp_mask_get_area (a->mask);
        break;
      }

    case KP_SHAPE_POLYLINE:
    case KP_SHAPE_LINE:
      data->converted[a->shape]++;
      G_GNUC_FALLTHROUGH;
    default:
      json_builder_begin_array (builder);
      json_builder_end_array (builder);
      break;
    }
  json_builder_set_member_name (builder, "area");
  json_builder_add_double_value (builder, area);

  if (a->shape == KP_SHAPE_POINT)
    {
      GPtrArray *names = coco_keypoint_names (data, a->label_id);
      const char *name = a->keypoint != NULL && a->keypoint[0] != '\0' ? a->keypoint : UNNAMED_KEYPOINT;

      json_builder_set_member_name (builder, "keypoints");
      json_builder_begin_array (builder);
      for (guint k = 0; k < names->len; k++)
        {
          gboolean mine = strcmp (names->pdata[k], name) == 0;

          json_builder_add_double_value (builder, mine ? a->points[0].x : 0);
          json_builder_add_double_value (builder, mine ? a->points[0].y : 0);
          json_builder_add_int_value (builder, mine ? (a->occluded ? 1 : 2) : 0);
        }
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "num_keypoints");
      json_builder_add_int_value (builder, 1);
    }

  if (a->review != KP_REVIEW_NONE)
    {
      json_builder_set_member_name (builder, "score");
      json_builder_add_double_value (builder, a->confidence);
    }

  if (a->shape == KP_SHAPE_ROTATED_BOX || a->n_attributes > 0)
    {
      json_builder_set_member_name (builder, "attributes");
      json_builder_begin_object (builder);
      if (a->shape == KP_SHAPE_ROTATED_BOX)
        {
          json_builder_set_member_name (builder, "rotation");
          json_builder_add_double_value (builder, a->rotated.angle * 180 / G_PI);
        }
      for (guint i = 0; i < a->n_attributes; i++)
        {
          const KpAttribute *attribute = find_attribute (data, a->attributes[i].attribute_id);

          if (attribute == NULL || strcmp (attribute->name, "rotation") == 0)
            continue;
          json_builder_set_member_name (builder, attribute->name);
          if (attribute->kind == KP_ATTRIBUTE_CHECKBOX)
            json_builder_add_boolean_value (builder, strcmp (a->attributes[i].value, "true") == 0);
          else if (attribute->kind == KP_ATTRIBUTE_NUMBER)
            json_builder_add_double_value (builder, g_ascii_strtod (a->attributes[i].value, NULL));
          else
            json_builder_add_string_value (builder, a->attributes[i].value);
        }
      json_builder_end_object (builder);
    }

  json_builder_end_object (builder);
}

static void
export_coco (ExportData *data,
             const char *output,
             GArray     *outputs)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *date = g_date_time_format_iso8601 (now);
  g_autofree char *name = kp_store_dup_name (data->store);
  g_autofree char *description = g_strdup_printf ("Kempelen project %s", name);
  char *json;
  gsize len;

  json_builder_begin_object (builder);

  json_builder_set_member_name (builder, "info");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "description");
  json_builder_add_string_value (builder, description);
  json_builder_set_member_name (builder, "version");
  json_builder_add_string_value (builder, "1.0");
  json_builder_set_member_name (builder, "year");
  json_builder_add_int_value (builder, g_date_time_get_year (now));
  json_builder_set_member_name (builder, "contributor");
  json_builder_add_string_value (builder, "Kempelen " PACKAGE_VERSION);
  json_builder_set_member_name (builder, "url");
  json_builder_add_string_value (builder, "");
  json_builder_set_member_name (builder, "date_created");
  json_builder_add_string_value (builder, date);
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "licenses");
  json_builder_begin_array (builder);
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "images");
  json_builder_begin_array (builder);
  for (guint i = 0; i < data->images->len; i++)
    {
      const ExportImage *image = &g_array_index (data->images, ExportImage, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_int_value (builder, image->media->id);
      json_builder_set_member_name (builder, "file_name");
      json_builder_add_string_value (builder, image->media->path);
      json_builder_set_member_name (builder, "width");
      json_builder_add_int_value (builder, image->media->width);
      json_builder_set_member_name (builder, "height");
      json_builder_add_int_value (builder, image->media->height);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "annotations");
  json_builder_begin_array (builder);
  for (guint i = 0; i < data->images->len; i++)
    {
      const ExportImage *image = &g_array_index (data->images, ExportImage, i);

      for (guint j = 0; j < image->annotations->len; j++)
        {
          const KpAnnotation *a = g_ptr_array_index (image->annotations, j);
          guint category = class_of (data, a);

          if (category == 0)
            continue;

          coco_annotation (data, builder, image, a, category);
        }
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "categories");
  json_builder_begin_array (builder);
  for (guint i = 0; i < data->labels->len; i++)
    {
      const KpLabel *label = g_ptr_array_index (data->labels, i);
      GPtrArray *names = coco_keypoint_names (data, label->id);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_int_value (builder, i + 1);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, label->name);
      json_builder_set_member_name (builder, "supercategory");
      json_builder_add_string_value (builder, "");
      if (names->len > 0)
        {
          json_builder_set_member_name (builder, "keypoints");
          json_builder_begin_array (builder);
          for (guint k = 0; k < names->len; k++)
            json_builder_add_string_value (builder, names->pdata[k]);
          json_builder_end_array (builder);
          json_builder_set_member_name (builder, "skeleton");
          json_builder_begin_array (builder);
          json_builder_end_array (builder);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  generator = json_generator_new ();
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  json = json_generator_to_data (generator, &len);

  add_output (outputs, g_strdup (output), g_bytes_new_take (json, len));
}

/* Pascal VOC */

/* VOC boxes are 1-based integer pixels, both ends inclusive. */
static void
voc_box (const KpRect *rect,
         int           width,
         int           height,
         int          *xmin,
         int          *ymin,
         int          *xmax,
         int          *ymax)
{
  *xmin = CLAMP ((int)round (rect->x) + 1, 1, width);
  *ymin = CLAMP ((int)round (rect->y) + 1, 1, height);
  *xmax = CLAMP ((int)round (rect->x + rect->width), *xmin, width);
  *ymax = CLAMP ((int)round (rect->y + rect->height), *ymin, height);
}

static gboolean
voc_document (ExportData         *data,
              const ExportImage  *image,
              const char         *folder_name,
              GBytes            **out,
              GError            **error)
{
  g_autoptr(xmlBuffer) buffer = xmlBufferCreate ();
  g_autoptr(xmlTextWriter) writer = NULL;
  g_autofree char *path = kp_store_dup_media_file (data->store, image->media);
  int rc = 0;

  writer = xmlNewTextWriterMemory (buffer, 0);
  if (writer == NULL)
    goto failed;

  xmlTextWriterSetIndent (writer, 1);
  xmlTextWriterSetIndentString (writer, BAD_CAST "  ");

#define W(call) G_STMT_START { if ((rc = (call)) < 0) goto failed; } G_STMT_END
#define ELEMENT(name, value) W (xmlTextWriterWriteElement (writer, BAD_CAST (name), BAD_CAST (value)))
#define ELEMENT_INT(name, value) W (xmlTextWriterWriteFormatElement (writer, BAD_CAST (name), "%d", (int)(value)))
#define ELEMENT_DOUBLE(name, value) G_STMT_START { \
    char _buf[G_ASCII_DTOSTR_BUF_SIZE]; \
    ELEMENT (name, g_ascii_dtostr (_buf, sizeof _buf, (value))); \
  } G_STMT_END

  W (xmlTextWriterStartDocument (writer, NULL, "UTF-8", NULL));
  W (xmlTextWriterStartElement (writer, BAD_CAST "annotation"));
  ELEMENT ("folder", folder_name);
  ELEMENT ("filename", image->media->path);
  ELEMENT ("path", path);
  W (xmlTextWriterStartElement (writer, BAD_CAST "source"));
  ELEMENT ("database", "Kempelen");
  W (xmlTextWriterEndElement (writer));
  W (xmlTextWriterStartElement (writer, BAD_CAST "size"));
  ELEMENT_INT ("width", image->media->width);
  ELEMENT_INT ("height", image->media->height);
  ELEMENT_INT ("depth", 3);
  W (xmlTextWriterEndElement (writer));
  ELEMENT_INT ("segmented", 0);

  for (guint i = 0; i < image->annotations->len; i++)
    {
      const KpAnnotation *a = g_ptr_array_index (image->annotations, i);
      guint class = class_of (data, a);
      const KpLabel *label;
      int xmin, ymin, xmax, ymax;

      if (class == 0)
        continue;
      label = g_ptr_array_index (data->labels, class - 1);
      voc_box (&a->rect, image->media->width, image->media->height, &xmin, &ymin, &xmax, &ymax);
      if (a->shape != KP_SHAPE_BOX && a->shape != KP_SHAPE_ROTATED_BOX)
        data->converted[a->shape]++;

      W (xmlTextWriterStartElement (writer, BAD_CAST "object"));
      ELEMENT ("name", label->name);
      ELEMENT ("pose", "Unspecified");
      ELEMENT_INT ("truncated", 0);
      ELEMENT_INT ("difficult", 0);
      W (xmlTextWriterStartElement (writer, BAD_CAST "bndbox"));
      ELEMENT_INT ("xmin", xmin);
      ELEMENT_INT ("ymin", ymin);
      ELEMENT_INT ("xmax", xmax);
      ELEMENT_INT ("ymax", ymax);
      W (xmlTextWriterEndElement (writer));
      if (a->shape == KP_SHAPE_ROTATED_BOX)
        {
          /* roLabelImg's element: exact doubles, angle in radians. */
          W (xmlTextWriterStartElement (writer, BAD_CAST "robndbox"));
          ELEMENT_DOUBLE ("cx", a->rotated.cx);
          ELEMENT_DOUBLE ("cy", a->rotated.cy);
          ELEMENT_DOUBLE ("w", a->rotated.width);
          ELEMENT_DOUBLE ("h", a->rotated.height);
          ELEMENT_DOUBLE ("angle", a->rotated.angle);
          W (xmlTextWriterEndElement (writer));
        }
      if (a->review != KP_REVIEW_NONE)
        ELEMENT_DOUBLE ("score", a->confidence);
      W (xmlTextWriterEndElement (writer));
    }

  W (xmlTextWriterEndElement (writer));
  W (xmlTextWriterEndDocument (writer));

#undef ELEMENT_DOUBLE
#undef ELEMENT_INT
#undef ELEMENT
#undef W

  g_clear_pointer (&writer, xmlFreeTextWriter);
  *out = g_bytes_new (xmlBufferContent (buffer), xmlBufferLength (buffer));

  return TRUE;

failed:
  g_set_error (error, KP_EXPORT_ERROR, KP_EXPORT_ERROR_FAILED,
               _("Could not write the Pascal VOC annotations of “%s”."), image->media->path);
  return FALSE;
}

static gboolean
export_voc (ExportData  *data,
            const char  *output,
            GArray      *outputs,
            GError     **error)
{
  g_autofree char *folder_name = kp_store_dup_name (data->store);

  for (guint i = 0; i < data->images->len; i++)
    {
      const ExportImage *image = &g_array_index (data->images, ExportImage, i);
      g_autofree char *file_name = g_strconcat (image->stem, ".xml", NULL);
      GBytes *bytes = NULL;

      if (!voc_document (data, image, folder_name, &bytes, error))
        return FALSE;

      add_output (outputs, g_build_filename (output, file_name, NULL), bytes);
    }

  return TRUE;
}

/* YOLO */

static void
append_double (GString *string,
               double   value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append (string, g_ascii_formatd (buf, sizeof buf, "%.6f", CLAMP (value, 0.0, 1.0)));
}

static void
append_yaml_string (GString    *string,
                    const char *text)
{
  g_string_append_c (string, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_c (string, '\\');
      if ((guchar)*p < 0x20)
        g_string_append_printf (string, "\\x%02x", (guchar)*p);
      else
        g_string_append_c (string, *p);
    }
  g_string_append_c (string, '"');
}

static void
export_yolo (ExportData *data,
             const char *output,
             GArray     *outputs)
{
  GString *classes = g_string_new (NULL);
  GString *yaml = g_string_new (NULL);
  GString *images = g_string_new (NULL);

  for (guint i = 0; i < data->labels->len; i++)
    {
      const KpLabel *label = g_ptr_array_index (data->labels, i);

      g_string_append_printf (classes, "%s\n", label->name);
    }

  g_string_append (yaml, "# Exported by Kempelen " PACKAGE_VERSION "\n");
  g_string_append (yaml, "path: ");
  append_yaml_string (yaml, kp_store_get_folder (data->store));
  g_string_append (yaml, "\ntrain: images.txt\nval: images.txt\n");
  g_string_append_printf (yaml, "nc: %u\nnames:\n", data->labels->len);
  for (guint i = 0; i < data->labels->len; i++)
    {
      const KpLabel *label = g_ptr_array_index (data->labels, i);

      g_string_append_printf (yaml, "  %u: ", i);
      append_yaml_string (yaml, label->name);
      g_string_append_c (yaml, '\n');
    }

  for (guint i = 0; i < data->images->len; i++)
    {
      const ExportImage *image = &g_array_index (data->images, ExportImage, i);
      g_autofree char *file_name = g_strconcat (image->stem, ".txt", NULL);
      g_autofree char *image_file = kp_store_dup_media_file (data->store, image->media);
      GString *lines = g_string_new (NULL);
      double w = image->media->width;
      double h = image->media->height;

      g_string_append_printf (images, "%s\n", image_file);

      for (guint j = 0; j < image->annotations->len; j++)
        {
          const KpAnnotation *a = g_ptr_array_index (image->annotations, j);
          guint class = class_of (data, a);
          KpRect r = kp_rect_clamp (a->rect, w, h);

          if (class == 0)
            continue;

          if (a->shape == KP_SHAPE_POLYGON || a->shape == KP_SHAPE_ROTATED_BOX)
            {
              KpPoint corners[4];
              const KpPoint *points = a->points;
              guint n = a->n_points;

              if (a->shape == KP_SHAPE_ROTATED_BOX)
                {
                  kp_rotated_box_corners (&a->rotated, corners);
                  points = corners;
                  n = 4;
                  data->converted[a->shape]++;
                }

              g_string_append_printf (lines, "%u", class - 1);
              for (guint k = 0; k < n; k++)
                {
                  g_string_append_c (lines, ' ');
                  append_double (lines, points[k].x / w);
                  g_string_append_c (lines, ' ');
                  append_double (lines, points[k].y / h);
                }
              g_string_append_c (lines, '\n');
              continue;
            }

          if (a->shape != KP_SHAPE_BOX)
            {
              data->dropped[a->shape]++;
              continue;
            }

          if (kp_rect_is_empty (&r))
            continue;

          g_string_append_printf (lines, "%u ", class - 1);
          append_double (lines, (r.x + r.width / 2) / w);
          g_string_append_c (lines, ' ');
          append_double (lines, (r.y + r.height / 2) / h);
          g_string_append_c (lines, ' ');
          append_double (lines, r.width / w);
          g_string_append_c (lines, ' ');
          append_double (lines, r.height / h);
          g_string_append_c (lines, '\n');
        }

      add_output_string (outputs, g_build_filename (output, "labels", file_name, NULL), lines);
    }

  add_output_string (outputs, g_build_filename (output, "classes.txt", NULL), classes);
  add_output_string (outputs, g_build_filename (output, "images.txt", NULL), images);
  add_output_string (outputs, g_build_filename (output, "data.yaml", NULL), yaml);
}

/* Label maps */

static guint32
crc32_update (guint32       crc,
              const guint8 *data,
              gsize         len)
{
  static guint32 table[256];
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      for (guint32 n = 0; n < 256; n++)
        {
          guint32 c = n;

          for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
          table[n] = c;
        }
      g_once_init_leave (&initialized, 1);
    }

  for (gsize i = 0; i < len; i++)
    crc = table[(crc ^ data[i]) & 0xff] ^ (crc >> 8);

  return crc;
}

static void
png_chunk (GByteArray   *out,
           const char   *type,
           const guint8 *data,
           gsize         len)
{
  guint32 be_len = GUINT32_TO_BE ((guint32)len);
  guint32 crc = 0xffffffffu;
  guint32 be_crc;

  g_byte_array_append (out, (const guint8 *)&be_len, 4);
  g_byte_array_append (out, (const guint8 *)type, 4);
  if (len > 0)
    g_byte_array_append (out, data, len);
  crc = crc32_update (crc, (const guint8 *)type, 4);
  crc = crc32_update (crc, data, len);
  be_crc = GUINT32_TO_BE (crc ^ 0xffffffffu);
  g_byte_array_append (out, (const guint8 *)&be_crc, 4);
}

static GBytes *png_encode (const guint8 *pixels,
                           int           width,
                           int           height,
                           int           channels);

GBytes *
kp_export_png_gray8 (const guint8 *pixels,
                     int           width,
                     int           height)
{
  g_return_val_if_fail (pixels != NULL, NULL);
  g_return_val_if_fail (width > 0 && height > 0, NULL);

  return png_encode (pixels, width, height, 1);
}

/* channels 1: 8-bit grey; 3: 8-bit RGB. */
static GBytes *
png_encode (const guint8 *pixels,
            int           width,
            int           height,
            int           channels)
{
  static const guint8 signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GByteArray) raw = g_byte_array_new ();
  g_autoptr(GZlibCompressor) compressor = NULL;
  g_autoptr(GByteArray) compressed = g_byte_array_new ();
  guint8 ihdr[13];
  gsize in_pos = 0;
  GConverterResult result;

  gsize stride = (gsize)width * channels;

  /* Each row: filter type 0, then the pixels. */
  for (int y = 0; y < height; y++)
    {
      static const guint8 none = 0;

      g_byte_array_append (raw, &none, 1);
      g_byte_array_append (raw, pixels + (gsize)y * stride, stride);
    }

  compressor = g_zlib_compressor_new (G_ZLIB_COMPRESSOR_FORMAT_ZLIB, 9);
  do
    {
      guint8 buffer[65536];
      gsize bytes_read = 0, bytes_written = 0;
      g_autoptr(GError) error = NULL;

      result = g_converter_convert (G_CONVERTER (compressor), raw->data + in_pos, raw->len - in_pos,
                                    buffer, sizeof buffer, G_CONVERTER_INPUT_AT_END,
                                    &bytes_read, &bytes_written, &error);
      if (result == G_CONVERTER_ERROR)
        {
          g_critical ("Could not compress a PNG: %s", error->message);
          return NULL;
        }
      in_pos += bytes_read;
      g_byte_array_append (compressed, buffer, bytes_written);
    }
  while (result != G_CONVERTER_FINISHED);

  g_byte_array_append (out, signature, sizeof signature);
  {
    guint32 be_width = GUINT32_TO_BE ((guint32)width);
    guint32 be_height = GUINT32_TO_BE ((guint32)height);

    memcpy (ihdr, &be_width, 4);
    memcpy (ihdr + 4, &be_height, 4);
  }
  ihdr[8] = 8;    /* bit depth */
  ihdr[9] = channels == 3 ? 2 : 0;    /* RGB or greyscale */
  ihdr[10] = 0;   /* deflate */
  ihdr[11] = 0;   /* adaptive filtering */
  ihdr[12] = 0;   /* no interlace */
  png_chunk (out, "IHDR", ihdr, sizeof ihdr);
  png_chunk (out, "IDAT", compressed->data, compressed->len);
  png_chunk (out, "IEND", NULL, 0);

  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static void
paint_mask (guint8       *pixels,
            int           width,
            int           height,
            const KpMask *mask,
            guint8        value)
{
  g_autofree guint8 *bits = NULL;

  if (kp_mask_is_empty (mask))
    return;

  bits = kp_mask_to_bitmap (mask);
  for (int r = 0; r < mask->height; r++)
    {
      int y = mask->y + r;

      if (y < 0 || y >= height)
        continue;
      for (int c = 0; c < mask->width; c++)
        {
          int x = mask->x + c;

          if (x >= 0 && x < width && bits[(gsize)r * mask->width + c])
            pixels[(gsize)y * width + x] = value;
        }
    }
}

/* The pixels whose centres a box, rotated box or polygon covers. */
static KpMask *
region_of (const KpAnnotation *a)
{
  KpPoint corners[4];

  switch (a->shape)
    {
    case KP_SHAPE_POLYGON:
      return kp_mask_paint_polygon (NULL, a->points, a->n_points, TRUE);

    case KP_SHAPE_ROTATED_BOX:
      kp_rotated_box_corners (&a->rotated, corners);
      return kp_mask_paint_polygon (NULL, corners, 4, TRUE);

    case KP_SHAPE_BOX:
      corners[0] = (KpPoint) { a->rect.x, a->rect.y };
      corners[1] = (KpPoint) { a->rect.x + a->rect.width, a->rect.y };
      corners[2] = (KpPoint) { a->rect.x + a->rect.width, a->rect.y + a->rect.height };
      corners[3] = (KpPoint) { a->rect.x, a->rect.y + a->rect.height };
      return kp_mask_paint_polygon (NULL, corners, 4, TRUE);

    case KP_SHAPE_MASK:
      return kp_mask_copy (a->mask);

    default:
      return NULL;
    }
}

static void
export_label_map (ExportData *data,
                  const char *output,
                  GArray     *outputs)
{
  GString *classes = g_string_new ("0 background\n");

  for (guint i = 0; i < data->labels->len && i < 255; i++)
    g_string_append_printf (classes, "%u %s\n", i + 1, ((KpLabel *)data->labels->pdata[i])->name);

  for (guint i = 0; i < data->images->len; i++)
    {
      const ExportImage *image = &g_array_index (data->images, ExportImage, i);
      g_autofree char *file_name = g_strconcat (image->stem, ".png", NULL);
      int w = image->media->width, h = image->media->height;
      g_autofree guint8 *pixels = g_malloc0 ((gsize)w * h);

      for (guint j = 0; j < image->annotations->len; j++)
        {
          const KpAnnotation *a = image->annotations->pdata[j];
          guint class = class_of (data, a);
          g_autoptr(KpMask) region = NULL;

          if (class == 0 || class > 255)
            {
              data->dropped[a->shape] += class > 255;
              continue;
            }

          switch (a->shape)
            {
            case KP_SHAPE_MASK:
              paint_mask (pixels, w, h, a->mask, class);
              continue;

            case KP_SHAPE_POLYGON:
            case KP_SHAPE_ROTATED_BOX:
            case KP_SHAPE_BOX:
              region = region_of (a);
              data->converted[a->shape]++;
              break;

            default:
              data->dropped[a->shape]++;
              continue;
            }

          paint_mask (pixels, w, h, region, class);
        }

      add_output (outputs, g_build_filename (output, file_name, NULL),
                  kp_export_png_gray8 (pixels, w, h));
    }

  add_output_string (outputs, g_build_filename (output, "classes.txt", NULL), classes);
}

/* SageMaker Ground Truth output manifests */

#define GT_BOXES "kempelen-boxes"
#define GT_SEGMENTATION "kempelen-segmentation"

/* The colour of class (1..255) in a Ground Truth label map: the label's
 * own colour when every label has a different one (and none is the
 * background's white), else one made from the class number. */
static void
gt_colors (ExportData *data,
           guint8      colors[256][3])
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  gboolean own = TRUE;

  g_hash_table_add (seen, (gpointer)"#ffffff");
  for (guint i = 0; i < data->labels->len && i < 255 && own; i++)
    {
      const KpLabel *label = data->labels->pdata[i];
      g_autofree char *lower = g_ascii_strdown (label->color, -1);
      guint r, g, b;

      own = sscanf (lower, "#%02x%02x%02x", &r, &g, &b) == 3 && strlen (lower) == 7 &&
            !g_hash_table_contains (seen, label->color) && g_strcmp0 (lower, "#ffffff") != 0;
      g_hash_table_add (seen, label->color);
      colors[i + 1][0] = r;
      colors[i + 1][1] = g;
      colors[i + 1][2] = b;
    }

  colors[0][0] = colors[0][1] = colors[0][2] = 0xff;
  if (own)
    return;

  for (guint k = 1; k < 256; k++)
    {
      colors[k][0] = k;
      colors[k][1] = 255 - k;
      colors[k][2] = (k * 97) & 0xff;
    }
}

static void
gt_metadata_common (JsonBuilder *builder,
                    const char  *job,
                    const char  *type,
                    const char  *date)
{
  g_autofree char *job_name = g_strconcat ("labeling-job/", job, NULL);

  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, type);
  json_builder_set_member_name (builder, "job-name");
  json_builder_add_string_value (builder, job_name);
  json_builder_set_member_name (builder, "human-annotated");
  json_builder_add_string_value (builder, "yes");
  json_builder_set_member_name (builder, "creation-date");
  json_builder_add_string_value (builder, date);
}

static void
export_ground_truth (ExportData *data,
                     const char *output,
                     GArray     *outputs)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *date = g_date_time_format (now, "%Y-%m-%dT%H:%M:%S.000000");
  GString *manifest = g_string_new (NULL);
  guint8 colors[256][3];

  gt_colors (data, colors);

  for (guint i = 0; i < data->images->len; i++)
    {
      const ExportImage *image = &g_array_index (data->images, ExportImage, i);
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonGenerator) generator = json_generator_new ();
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *source = kp_store_dup_media_file (data->store, image->media);
      g_autofree char *line = NULL;
      g_autofree guint8 *rgb = NULL;
      gboolean used[256] = { FALSE };
      int w = image->media->width, h = image->media->height;
      gboolean has_regions = FALSE;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "source-ref");
      json_builder_add_string_value (builder, source);

      /* Boxes, exact. */
      json_builder_set_member_name (builder, GT_BOXES);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "image_size");
      json_builder_begin_array (builder);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "width");
      json_builder_add_int_value (builder, w);
      json_builder_set_member_name (builder, "height");
      json_builder_add_int_value (builder, h);
      json_builder_set_member_name (builder, "depth");
      json_builder_add_int_value (builder, 3);
      json_builder_end_object (builder);
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "annotations");
      json_builder_begin_array (builder);
      for (guint j = 0; j < image->annotations->len; j++)
        {
          const KpAnnotation *a = image->annotations->pdata[j];
          guint class = class_of (data, a);

          if (class == 0 || a->shape != KP_SHAPE_BOX)
            continue;
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "class_id");
          json_builder_add_int_value (builder, class - 1);
          json_builder_set_member_name (builder, "left");
          json_builder_add_double_value (builder, a->rect.x);
          json_builder_set_member_name (builder, "top");
          json_builder_add_double_value (builder, a->rect.y);
          json_builder_set_member_name (builder, "width");
          json_builder_add_double_value (builder, a->rect.width);
          json_builder_set_member_name (builder, "height");
          json_builder_add_double_value (builder, a->rect.height);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      json_builder_end_object (builder);

      json_builder_set_member_name (builder, GT_BOXES "-metadata");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "objects");
      json_builder_begin_array (builder);
      for (guint j = 0; j < image->annotations->len; j++)
        {
          const KpAnnotation *a = image->annotations->pdata[j];

          if (class_of (data, a) == 0 || a->shape != KP_SHAPE_BOX)
            continue;
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "confidence");
          json_builder_add_double_value (builder, a->review != KP_REVIEW_NONE ? a->confidence : 1.0);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "class-map");
      json_builder_begin_object (builder);
      for (guint k = 0; k < data->labels->len; k++)
        {
          g_autofree char *key = g_strdup_printf ("%u", k);

          json_builder_set_member_name (builder, key);
          json_builder_add_string_value (builder, ((KpLabel *)data->labels->pdata[k])->name);
        }
      json_builder_end_object (builder);
      gt_metadata_common (builder, GT_BOXES, "groundtruth/object-detection", date);
      json_builder_end_object (builder);

      /* Regions, as pixels of a label map. */
      for (guint j = 0; j < image->annotations->len; j++)
        {
          const KpAnnotation *a = image->annotations->pdata[j];
          guint class = class_of (data, a);
          g_autoptr(KpMask) region = NULL;
          g_autofree guint8 *bits = NULL;

          if (class == 0 || a->shape == KP_SHAPE_BOX)
            continue;
          if (class > 255 || kp_export_format_converts_to (KP_EXPORT_FORMAT_GROUND_TRUTH, a->shape) == NULL)
            {
              if (class > 255 || !kp_export_format_holds (KP_EXPORT_FORMAT_GROUND_TRUTH, a->shape))
                {
                  data->dropped[a->shape]++;
                  continue;
                }
            }
          else
            data->converted[a->shape]++;

          if (rgb == NULL)
            {
              rgb = g_malloc ((gsize)w * h * 3);
              for (gsize p = 0; p < (gsize)w * h; p++)
                memcpy (rgb + 3 * p, colors[0], 3);
            }
          has_regions = TRUE;
          used[class] = TRUE;

          region = region_of (a);
          if (region == NULL || kp_mask_is_empty (region))
            continue;
          bits = kp_mask_to_bitmap (region);
          for (int r = 0; r < region->height; r++)
            for (int c = 0; c < region->width; c++)
              {
                int x = region->x + c, y = region->y + r;

                if (x >= 0 && x < w && y >= 0 && y < h && bits[(gsize)r * region->width + c])
                  memcpy (rgb + 3 * ((gsize)y * w + x), colors[class], 3);
              }
        }

      if (has_regions)
        {
          g_autofree char *file_name = g_strconcat (image->stem, ".png", NULL);
          g_autofree char *ref = g_build_filename ("label-maps", file_name, NULL);

          json_builder_set_member_name (builder, GT_SEGMENTATION);
          json_builder_add_string_value (builder, ref);
          json_builder_set_member_name (builder, GT_SEGMENTATION "-metadata");
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "internal-color-map");
          json_builder_begin_object (builder);
          for (guint k = 0; k < 256; k++)
            {
              g_autofree char *key = NULL;
              g_autofree char *hex = NULL;

              if (k > 0 && !used[k])
                continue;
              key = g_strdup_printf ("%u", k);
              hex = g_strdup_printf ("#%02x%02x%02x", colors[k][0], colors[k][1], colors[k][2]);
              json_builder_set_member_name (builder, key);
              json_builder_begin_object (builder);
              json_builder_set_member_name (builder, "class-name");
              json_builder_add_string_value (builder, k == 0 ? "BACKGROUND"
                                                             : ((KpLabel *)data->labels->pdata[k - 1])->name);
              json_builder_set_member_name (builder, "hex-color");
              json_builder_add_string_value (builder, hex);
              json_builder_set_member_name (builder, "confidence");
              json_builder_add_double_value (builder, 1.0);
              json_builder_end_object (builder);
            }
          json_builder_end_object (builder);
          gt_metadata_common (builder, GT_SEGMENTATION, "groundtruth/semantic-segmentation", date);
          json_builder_end_object (builder);

          add_output (outputs, g_build_filename (output, "label-maps", file_name, NULL),
                      png_encode (rgb, w, h, 3));
        }

      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      json_generator_set_root (generator, root);
      line = json_generator_to_data (generator, NULL);
      g_string_append (manifest, line);
      g_string_append_c (manifest, '\n');
    }

  add_output_string (outputs, g_build_filename (output, "output.manifest", NULL), manifest);
}

/* One line per kind of shape the format could not hold. */
static void
add_warnings (ExportData     *data,
              KpExportFormat  format)
{
  const char *format_name = kp_export_format_to_string (format);

  for (guint shape = 0; shape < KP_N_SHAPES; shape++)
    {
      const char *shape_name = kp_shape_to_string (shape);

      data->report->converted[shape] = data->converted[shape];
      data->report->dropped[shape] = data->dropped[shape];
      data->report->n_objects -= MIN (data->report->n_objects, data->dropped[shape]);

      if (data->converted[shape] > 0)
        {
          const char *to = kp_export_format_converts_to (format, shape);
          const char *how;

          if (g_strcmp0 (to, "polygon") == 0)
            how = _("the polygon of their corners");
          else if (g_strcmp0 (to, "pixels") == 0)
            how = _("the pixels of their class");
          else
            how = _("their bounding boxes");
          g_ptr_array_add (data->report->warnings,
                           /* Translators: "yolo cannot hold the shape “rotated”: 2 exported as
                            * the polygon of their corners." */
                           g_strdup_printf (_("%s cannot hold the shape “%s”: %u exported as %s."),
                                            format_name, shape_name, data->converted[shape], how));
        }
      if (data->dropped[shape] > 0)
        g_ptr_array_add (data->report->warnings,
                         g_strdup_printf (_("%s cannot hold the shape “%s”: %u left out."),
                                          format_name, shape_name, data->dropped[shape]));
    }

  if (data->report->n_pending > 0)
    g_ptr_array_add (data->report->warnings,
                     g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u suggestion nobody reviewed was left out.",
                                                "%u suggestions nobody reviewed were left out.",
                                                data->report->n_pending),
                                      data->report->n_pending));
}

KpExportReport *
kp_export_full (KpStore         *store,
                KpExportFormat   format,
                const char      *output,
                KpExportFlags    flags,
                GCancellable    *cancellable,
                GError         **error)
{
  g_autoptr(ExportData) data = NULL;
  g_autoptr(GArray) outputs = NULL;

  g_return_val_if_fail (KP_IS_STORE (store), NULL);
  g_return_val_if_fail (output != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (kp_export_format_to_string (format) == NULL)
    {
      g_set_error (error, KP_EXPORT_ERROR, KP_EXPORT_ERROR_UNKNOWN_FORMAT,
                   _("Unknown export format %d."), (int)format);
      return NULL;
    }

  data = collect (store, flags, cancellable, error);
  if (data == NULL)
    return NULL;

  outputs = g_array_new (FALSE, TRUE, sizeof (OutputFile));
  g_array_set_clear_func (outputs, output_file_clear);

  switch (format)
    {
    case KP_EXPORT_FORMAT_COCO:
      if (g_file_test (output, G_FILE_TEST_IS_DIR))
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_ISDIR,
                       _("Could not export to “%s”: it is a folder; COCO needs a file name."),
                       output);
          return NULL;
        }
      export_coco (data, output, outputs);
      break;

    case KP_EXPORT_FORMAT_VOC:
      if (!export_voc (data, output, outputs, error))
        return NULL;
      break;

    case KP_EXPORT_FORMAT_YOLO:
      export_yolo (data, output, outputs);
      break;

    case KP_EXPORT_FORMAT_LABEL_MAP:
      export_label_map (data, output, outputs);
      break;

    case KP_EXPORT_FORMAT_GROUND_TRUTH:
      export_ground_truth (data, output, outputs);
      break;

    default:
      g_assert_not_reached ();
    }

  if (!write_outputs (outputs, cancellable, error))
    return NULL;

  add_warnings (data, format);

  return g_steal_pointer (&data->report);
}

gboolean
kp_export (KpStore         *store,
           KpExportFormat   format,
           const char      *output,
           GCancellable    *cancellable,
           GError         **error)
{
  g_autoptr(KpExportReport) report = NULL;

  report = kp_export_full (store, format, output, KP_EXPORT_FLAGS_NONE, cancellable, error);

  return report != NULL;
}
