/* kp-export.c: COCO, Pascal VOC and YOLO exporters
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-export.h"

#include <errno.h>
#include <math.h>
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
};

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
  KpStore    *store;
  GPtrArray  *labels;           /* KpLabel, in position order */
  GHashTable *class_index;      /* label id -> GINT_TO_POINTER (index + 1) */
  GArray     *images;           /* ExportImage */
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

static ExportData *
collect (KpStore       *store,
         GCancellable  *cancellable,
         GError       **error)
{
  g_autoptr(ExportData) data = g_new0 (ExportData, 1);
  g_autoptr(GPtrArray) media = NULL;
  g_autoptr(GHashTable) used = NULL;

  data->store = store;
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

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "id");
          json_builder_add_int_value (builder, a->id);
          json_builder_set_member_name (builder, "image_id");
          json_builder_add_int_value (builder, image->media->id);
          json_builder_set_member_name (builder, "category_id");
          json_builder_add_int_value (builder, category);
          json_builder_set_member_name (builder, "bbox");
          json_builder_begin_array (builder);
          json_builder_add_double_value (builder, a->rect.x);
          json_builder_add_double_value (builder, a->rect.y);
          json_builder_add_double_value (builder, a->rect.width);
          json_builder_add_double_value (builder, a->rect.height);
          json_builder_end_array (builder);
          json_builder_set_member_name (builder, "area");
          json_builder_add_double_value (builder, a->rect.width * a->rect.height);
          json_builder_set_member_name (builder, "iscrowd");
          json_builder_add_int_value (builder, 0);
          json_builder_set_member_name (builder, "segmentation");
          json_builder_begin_array (builder);
          json_builder_end_array (builder);
          json_builder_end_object (builder);
        }
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "categories");
  json_builder_begin_array (builder);
  for (guint i = 0; i < data->labels->len; i++)
    {
      const KpLabel *label = g_ptr_array_index (data->labels, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_int_value (builder, i + 1);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, label->name);
      json_builder_set_member_name (builder, "supercategory");
      json_builder_add_string_value (builder, "");
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
      W (xmlTextWriterEndElement (writer));
    }

  W (xmlTextWriterEndElement (writer));
  W (xmlTextWriterEndDocument (writer));

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

          if (class == 0 || kp_rect_is_empty (&r))
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

gboolean
kp_export (KpStore         *store,
           KpExportFormat   format,
           const char      *output,
           GCancellable    *cancellable,
           GError         **error)
{
  g_autoptr(ExportData) data = NULL;
  g_autoptr(GArray) outputs = NULL;

  g_return_val_if_fail (KP_IS_STORE (store), FALSE);
  g_return_val_if_fail (output != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (kp_export_format_to_string (format) == NULL)
    {
      g_set_error (error, KP_EXPORT_ERROR, KP_EXPORT_ERROR_UNKNOWN_FORMAT,
                   _("Unknown export format %d."), (int)format);
      return FALSE;
    }

  data = collect (store, cancellable, error);
  if (data == NULL)
    return FALSE;

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
          return FALSE;
        }
      export_coco (data, output, outputs);
      break;

    case KP_EXPORT_FORMAT_VOC:
      if (!export_voc (data, output, outputs, error))
        return FALSE;
      break;

    case KP_EXPORT_FORMAT_YOLO:
      export_yolo (data, output, outputs);
      break;

    default:
      g_assert_not_reached ();
    }

  return write_outputs (outputs, cancellable, error);
}
