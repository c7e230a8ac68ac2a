/* test-import.c: pre-annotation import, and round trips through every
 * export format with rotated boxes, polygons and masks
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "kp-core.h"
#include "kp-test-util.h"

typedef struct
{
  char    *folder;
  KpStore *store;
  gint64   a_id;                /* img/a.png, 100 × 80 */
  gint64   b_id;                /* b.png, 64 × 48 */
  gint64   car;
  gint64   person;
} Project;

typedef struct
{
  Project  src;
  Project  dst;
  char    *out;
} Fixture;

static gint64
media_id_of (KpStore    *store,
             const char *path)
{
  g_autoptr(GPtrArray) media = kp_store_list_media (store, NULL);

  for (guint i = 0; i < media->len; i++)
    if (g_str_equal (((KpMedia *)media->pdata[i])->path, path))
      return ((KpMedia *)media->pdata[i])->id;

  g_assert_not_reached ();
}

static void
project_open (Project  *p,
              gboolean  with_labels)
{
  g_autoptr(GError) error = NULL;

  p->folder = kp_test_make_folder ();
  kp_test_write (p->folder, "img/a.png", "", 0);
  kp_test_write (p->folder, "b.png", "", 0);
  p->store = kp_store_open (p->folder, &error);
  g_assert_no_error (error);
  g_assert_true (kp_store_scan (p->store, NULL, &error));
  p->a_id = media_id_of (p->store, "img/a.png");
  p->b_id = media_id_of (p->store, "b.png");
  g_assert_true (kp_store_set_media_info (p->store, p->a_id, NULL, 100, 80, &error));
  g_assert_true (kp_store_set_media_info (p->store, p->b_id, NULL, 64, 48, &error));
  if (with_labels)
    {
      p->car = kp_store_add_label (p->store, "car", "#ff0000", 0, &error);
      p->person = kp_store_add_label (p->store, "person", "#00ff00", 0, &error);
    }
  g_assert_no_error (error);
}

static void
project_close (Project *p)
{
  g_assert_finalize_object (p->store);
  kp_test_rm_rf (p->folder);
  g_free (p->folder);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  project_open (&fixture->src, TRUE);
  project_open (&fixture->dst, FALSE);
  fixture->out = kp_test_make_folder ();
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  project_close (&fixture->src);
  project_close (&fixture->dst);
  kp_test_rm_rf (fixture->out);
  g_free (fixture->out);
}

static gint64
add (Project      *p,
     gint64        media_id,
     KpAnnotation *a)
{
  g_autoptr(GError) error = NULL;
  gint64 id;

  a->media_id = media_id;
  kp_annotation_update_bounds (a);
  id = kp_store_add_annotation (p->store, a, &error);
  g_assert_no_error (error);
  kp_annotation_clear (a);

  return id;
}

/* The source project: in img/a.png a box, a rotated box, a polygon, a
 * mask, a named occluded keypoint and a polyline; in b.png one box. Values
 * are whole pixels so VOC's integer boxes hold them exactly. */
static void
fill_source (Fixture *fixture)
{
  Project *p = &fixture->src;
  KpAnnotation a = { 0 };

  a.label_id = p->car;
  a.rect = (KpRect) { 10, 20, 30, 15 };
  add (p, p->a_id, &a);

  a.label_id = p->car;
  a.shape = KP_SHAPE_ROTATED_BOX;
  a.rotated = (KpRotatedBox) { 50, 40, 20, 10, 0.5 };
  add (p, p->a_id, &a);

  a.label_id = p->person;
  a.shape = KP_SHAPE_POLYGON;
  kp_annotation_set_points (&a, (KpPoint[]) { { 60, 10 }, { 90, 12 }, { 80, 30 }, { 62, 25 } }, 4);
  add (p, p->a_id, &a);

  a.label_id = p->person;
  a.shape = KP_SHAPE_MASK;
  a.mask = kp_mask_paint_circle (NULL, 20, 60, 6, TRUE);
  add (p, p->a_id, &a);

  a.label_id = p->person;
  a.shape = KP_SHAPE_POINT;
  kp_annotation_set_points (&a, (KpPoint[]) { { 33, 44 } }, 1);
  a.keypoint = g_strdup ("nose");
  a.occluded = TRUE;
  add (p, p->a_id, &a);

  a.label_id = p->car;
  a.shape = KP_SHAPE_POLYLINE;
  kp_annotation_set_points (&a, (KpPoint[]) { { 1, 1 }, { 5, 9 }, { 9, 2 } }, 3);
  add (p, p->a_id, &a);

  a.label_id = p->person;
  a.rect = (KpRect) { 4, 4, 8, 8 };
  add (p, p->b_id, &a);
}

static GPtrArray *
imported (Project *p,
          gint64   media_id)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *list = kp_store_list_annotations (p->store, media_id, &error);

  g_assert_no_error (error);
  return list;
}

static const KpAnnotation *
find_shape (GPtrArray *list,
            KpShape    shape,
            guint      nth)
{
  for (guint i = 0; i < list->len; i++)
    {
      const KpAnnotation *a = list->pdata[i];

      if (a->shape == shape && nth-- == 0)
        return a;
    }

  return NULL;
}

static guint
count_shape (GPtrArray *list,
             KpShape    shape)
{
  guint n = 0;

  for (guint i = 0; i < list->len; i++)
    n += ((const KpAnnotation *)list->pdata[i])->shape == shape;

  return n;
}

static const char *
label_name (Project *p,
            gint64   label_id)
{
  static char name[64];
  g_autoptr(KpLabel) label = kp_store_get_label (p->store, label_id, NULL);

  g_assert_nonnull (label);
  g_strlcpy (name, label->name, sizeof name);
  return name;
}

static void
assert_warning (KpExportReport *report,
                const char     *needle)
{
  for (guint i = 0; i < report->warnings->len; i++)
    if (strstr (report->warnings->pdata[i], needle) != NULL)
      return;

  for (guint i = 0; i < report->warnings->len; i++)
    g_test_message ("warning: %s", (char *)report->warnings->pdata[i]);
  g_error ("no warning mentions “%s”", needle);
}

static void
assert_rotated (const KpAnnotation *a,
                double              eps)
{
  g_assert_nonnull (a);
  g_assert_cmpfloat_with_epsilon (a->rotated.cx, 50, eps);
  g_assert_cmpfloat_with_epsilon (a->rotated.cy, 40, eps);
  g_assert_cmpfloat_with_epsilon (a->rotated.width, 20, eps);
  g_assert_cmpfloat_with_epsilon (a->rotated.height, 10, eps);
  g_assert_cmpfloat_with_epsilon (a->rotated.angle, 0.5, eps);
}

static KpImportReport *
import_ok (Fixture        *fixture,
           KpImportFormat  format,
           const char     *input,
           KpImportFlags   flags)
{
  g_autoptr(GError) error = NULL;
  KpImportReport *report = kp_import (fixture->dst.store, format, input, flags, NULL, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (report);
  for (guint i = 0; i < report->problems->len; i++)
    g_test_message ("problem: %s", (char *)report->problems->pdata[i]);

  return report;
}

static void
test_coco_round_trip (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autofree char *json = g_build_filename (fixture->out, "out.json", NULL);
  g_autoptr(KpExportReport) exported = NULL;
  g_autoptr(KpImportReport) report = NULL;
  g_autoptr(GPtrArray) a = NULL;
  g_autoptr(GPtrArray) src = NULL;
  g_autoptr(GError) error = NULL;
  const KpAnnotation *x, *y;

  fill_source (fixture);
  exported = kp_export_full (fixture->src.store, KP_EXPORT_FORMAT_COCO, json, KP_EXPORT_FLAGS_NONE,
                             NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (exported->n_objects, ==, 7);
  assert_warning (exported, "polyline");

  report = import_ok (fixture, KP_IMPORT_FORMAT_COCO, json, KP_IMPORT_FLAGS_NONE);
  g_assert_cmpuint (report->problems->len, ==, 0);
  g_assert_cmpuint (report->n_images, ==, 2);
  g_assert_cmpuint (report->n_objects, ==, 7);
  g_assert_cmpuint (report->n_labels_created, ==, 2);

  a = imported (&fixture->dst, fixture->dst.a_id);
  src = imported (&fixture->src, fixture->src.a_id);
  g_assert_cmpuint (a->len, ==, 6);

  /* Suggestions from the file. */
  x = a->pdata[0];
  g_assert_cmpint (x->review, ==, KP_REVIEW_PENDING);
  g_assert_cmpstr (x->source, ==, "coco:out.json");
  g_assert_cmpfloat (x->confidence, ==, 1.0);

  x = find_shape (a, KP_SHAPE_BOX, 0);
  g_assert_cmpfloat (x->rect.x, ==, 10);
  g_assert_cmpfloat (x->rect.height, ==, 15);
  g_assert_cmpstr (label_name (&fixture->dst, x->label_id), ==, "car");
  assert_rotated (find_shape (a, KP_SHAPE_ROTATED_BOX, 0), 1e-9);

  x = find_shape (a, KP_SHAPE_POLYGON, 0);
  y = find_shape (src, KP_SHAPE_POLYGON, 0);
  g_assert_cmpuint (x->n_points, ==, 4);
  g_assert_cmpmem (x->points, 4 * sizeof (KpPoint), y->points, 4 * sizeof (KpPoint));
  g_assert_cmpstr (label_name (&fixture->dst, x->label_id), ==, "person");

  x = find_shape (a, KP_SHAPE_MASK, 0);
  y = find_shape (src, KP_SHAPE_MASK, 0);
  g_assert_true (kp_mask_equal (x->mask, y->mask));

  x = find_shape (a, KP_SHAPE_POINT, 0);
  g_assert_cmpfloat (x->points[0].x, ==, 33);
  g_assert_cmpstr (x->keypoint, ==, "nose");
  g_assert_true (x->occluded);

  /* COCO has no polylines: it came back as its bounding box. */
  g_assert_cmpuint (count_shape (a, KP_SHAPE_POLYLINE), ==, 0);
  g_assert_cmpuint (count_shape (a, KP_SHAPE_BOX), ==, 2);
  x = find_shape (a, KP_SHAPE_BOX, 1);
  g_assert_cmpfloat (x->rect.x, ==, 1);
  g_assert_cmpfloat (x->rect.height, ==, 8);
}

/* Pending suggestions are left out of exports unless asked for, and the
 * import is one undo step per image. */
static void
test_suggestions (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autofree char *json = g_build_filename (fixture->out, "in.json", NULL);
  g_autofree char *again = g_build_filename (fixture->out, "again.json", NULL);
  g_autoptr(KpImportReport) report = NULL;
  g_autoptr(KpExportReport) exported = NULL;
  g_autoptr(KpDocument) doc = NULL;
  g_autoptr(GError) error = NULL;

  kp_test_write (fixture->out, "in.json",
                 "{\"images\": [{\"id\": 1, \"file_name\": \"/somewhere/else/img/a.png\","
                 "  \"width\": 100, \"height\": 80}],"
                 " \"categories\": [{\"id\": 5, \"name\": \"dog\"}],"
                 " \"annotations\": ["
                 "  {\"id\": 1, \"image_id\": 1, \"category_id\": 5, \"bbox\": [1, 2, 3, 4], \"score\": 0.9},"
                 "  {\"id\": 2, \"image_id\": 1, \"category_id\": 5, \"bbox\": [5, 6, 7, 8], \"score\": 0.3},"
                 "  {\"id\": 3, \"image_id\": 1, \"category_id\": 5, \"bbox\": [9, 9, 1, 1], \"score\": 0.6}]}", -1);
  report = import_ok (fixture, KP_IMPORT_FORMAT_COCO, json, KP_IMPORT_FLAGS_NONE);
  g_assert_cmpuint (report->n_objects, ==, 3);

  doc = kp_document_new (fixture->dst.store, fixture->dst.a_id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kp_document_get_n_undo (doc), ==, 1);

  /* Nothing reviewed yet: nothing exported by default. */
  exported = kp_export_full (fixture->dst.store, KP_EXPORT_FORMAT_COCO, again, KP_EXPORT_FLAGS_NONE,
                             NULL, &error);
  g_assert_cmpuint (exported->n_objects, ==, 0);
  g_assert_cmpuint (exported->n_pending, ==, 3);
  assert_warning (exported, "3 suggestions");
  g_clear_pointer (&exported, kp_export_report_free);

  g_assert_true (kp_document_accept_above (doc, 0.5, &error));
  g_assert_true (kp_document_reject_below (doc, 0.5, &error));
  g_assert_cmpuint (kp_document_get_annotations (doc)->len, ==, 2);
  exported = kp_export_full (fixture->dst.store, KP_EXPORT_FORMAT_COCO, again, KP_EXPORT_FLAGS_NONE,
                             NULL, &error);
  g_assert_cmpuint (exported->n_objects, ==, 2);

  /* Undo the review steps and then the import itself. */
  g_assert_true (kp_document_undo (doc, &error));
  g_assert_true (kp_document_undo (doc, &error));
  g_assert_true (kp_document_undo (doc, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (kp_document_get_annotations (doc)->len, ==, 0);
}

static void
test_voc_round_trip (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(KpExportReport) exported = NULL;
  g_autoptr(KpImportReport) report = NULL;
  g_autoptr(GPtrArray) a = NULL;
  g_autoptr(GPtrArray) b = NULL;
  g_autoptr(GError) error = NULL;
  const KpAnnotation *x;

  fill_source (fixture);
  exported = kp_export_full (fixture->src.store, KP_EXPORT_FORMAT_VOC, fixture->out, KP_EXPORT_FLAGS_NONE,
                             NULL, &error);
  g_assert_no_error (error);
  assert_warning (exported, "polygon");
  assert_warning (exported, "mask");

  report = import_ok (fixture, KP_IMPORT_FORMAT_VOC, fixture->out, KP_IMPORT_FLAGS_ACCEPT);
  g_assert_cmpuint (report->problems->len, ==, 0);
  a = imported (&fixture->dst, fixture->dst.a_id);
  b = imported (&fixture->dst, fixture->dst.b_id);
  g_assert_cmpuint (a->len, ==, 6);
  g_assert_cmpuint (b->len, ==, 1);

  /* Imported as people's objects. */
  g_assert_cmpint (((KpAnnotation *)a->pdata[0])->review, ==, KP_REVIEW_NONE);
  g_assert_null (((KpAnnotation *)a->pdata[0])->source);

  x = a->pdata[0];
  g_assert_cmpint (x->shape, ==, KP_SHAPE_BOX);
  g_assert_cmpfloat (x->rect.x, ==, 10);
  g_assert_cmpfloat (x->rect.y, ==, 20);
  g_assert_cmpfloat (x->rect.width, ==, 30);
  g_assert_cmpfloat (x->rect.height, ==, 15);
  assert_rotated (find_shape (a, KP_SHAPE_ROTATED_BOX, 0), 1e-12);

  /* The polygon came back as the box of its bounds. */
  x = a->pdata[2];
  g_assert_cmpint (x->shape, ==, KP_SHAPE_BOX);
  g_assert_cmpfloat (x->rect.x, ==, 60);
  g_assert_cmpfloat (x->rect.width, ==, 30);
  g_assert_cmpfloat (((KpAnnotation *)b->pdata[0])->rect.x, ==, 4);
}

static void
test_yolo_round_trip (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autoptr(KpExportReport) exported = NULL;
  g_autoptr(KpImportReport) report = NULL;
  g_autoptr(GPtrArray) a = NULL;
  g_autoptr(GPtrArray) src = NULL;
  g_autoptr(GError) error = NULL;
  const KpAnnotation *x, *y;
  KpPoint corners[4];

  fill_source (fixture);
  exported = kp_export_full (fixture->src.store, KP_EXPORT_FORMAT_YOLO, fixture->out,
                             KP_EXPORT_FLAGS_NONE, NULL, &error);
  g_assert_no_error (error);
  assert_warning (exported, "rotated-box");
  assert_warning (exported, "mask");
  assert_warning (exported, "point");

  report = import_ok (fixture, KP_IMPORT_FORMAT_YOLO, fixture->out, KP_IMPORT_FLAGS_NONE);
  g_assert_cmpuint (report->problems->len, ==, 0);
  a = imported (&fixture->dst, fixture->dst.a_id);
  src = imported (&fixture->src, fixture->src.a_id);

  /* Box, polygon, and the rotated box as the polygon of its corners. */
  g_assert_cmpuint (a->len, ==, 3);
  x = find_shape (a, KP_SHAPE_BOX, 0);
  g_assert_cmpfloat_with_epsilon (x->rect.x, 10, 1e-3);
  g_assert_cmpfloat_with_epsilon (x->rect.height, 15, 1e-3);

  x = find_shape (a, KP_SHAPE_POLYGON, 0);
  g_assert_cmpuint (x->n_points, ==, 4);
  kp_rotated_box_corners (&(KpRotatedBox) { 50, 40, 20, 10, 0.5 }, corners);
  for (guint i = 0; i < 4; i++)
    {
      g_assert_cmpfloat_with_epsilon (x->points[i].x, corners[i].x, 1e-3);
      g_assert_cmpfloat_with_epsilon (x->points[i].y, corners[i].y, 1e-3);
    }

  x = find_shape (a, KP_SHAPE_POLYGON, 1);
  y = find_shape (src, KP_SHAPE_POLYGON, 0);
  for (guint i = 0; i < 4; i++)
    {
      g_assert_cmpfloat_with_epsilon (x->points[i].x, y->points[i].x, 1e-3);
      g_assert_cmpfloat_with_epsilon (x->points[i].y, y->points[i].y, 1e-3);
    }
  g_assert_cmpstr (label_name (&fixture->dst, x->label_id), ==, "person");
}

/* CRC-32 as PNG computes it, bit by bit. */
static guint32
png_crc (const guint8 *data,
         gsize         len)
{
  guint32 crc = 0xffffffffu;

  for (gsize i = 0; i < len; i++)
    {
      crc ^= data[i];
      for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0xedb88320u & -(crc & 1));
    }

  return crc ^ 0xffffffffu;
}

/* Reads back an 8-bit greyscale PNG made by kp_export_png_gray8 (filter 0
 * rows), checking its chunk CRCs. */
static guint8 *
read_png_gray8 (const char *path,
                int        *width,
                int        *height)
{
  g_autoptr(GBytes) bytes = kp_test_read (path);
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  g_autoptr(GByteArray) idat = g_byte_array_new ();
  g_autoptr(GZlibDecompressor) z = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_ZLIB);
  g_autofree guint8 *raw = NULL;
  guint8 *pixels;
  gsize pos = 8, bytes_read, bytes_written;
  GConverterResult result;

  g_assert_cmpmem (data, 8, "\x89PNG\r\n\x1a\n", 8);
  while (pos + 12 <= len)
    {
      guint32 n, crc;

      memcpy (&n, data + pos, 4);
      n = GUINT32_FROM_BE (n);
      memcpy (&crc, data + pos + 8 + n, 4);
      g_assert_cmpuint (GUINT32_FROM_BE (crc), ==, png_crc (data + pos + 4, n + 4));
      if (memcmp (data + pos + 4, "IHDR", 4) == 0)
        {
          guint32 w, h;

          memcpy (&w, data + pos + 8, 4);
          memcpy (&h, data + pos + 12, 4);
          *width = GUINT32_FROM_BE (w);
          *height = GUINT32_FROM_BE (h);
          g_assert_cmpuint (data[pos + 16], ==, 8);
          g_assert_cmpuint (data[pos + 17], ==, 0);
        }
      else if (memcmp (data + pos + 4, "IDAT", 4) == 0)
        g_byte_array_append (idat, data + pos + 8, n);
      pos += 12 + n;
    }
  g_assert_cmpuint (pos, ==, len);

  raw = g_malloc ((gsize)(*width + 1) * *height);
  result = g_converter_convert (G_CONVERTER (z), idat->data, idat->len, raw, (gsize)(*width + 1) * *height,
                                G_CONVERTER_INPUT_AT_END, &bytes_read, &bytes_written, NULL);
  g_assert_cmpint (result, ==, G_CONVERTER_FINISHED);
  g_assert_cmpuint (bytes_written, ==, (gsize)(*width + 1) * *height);

  pixels = g_malloc ((gsize)*width * *height);
  for (int y = 0; y < *height; y++)
    {
      g_assert_cmpuint (raw[(gsize)y * (*width + 1)], ==, 0);
      memcpy (pixels + (gsize)y * *width, raw + (gsize)y * (*width + 1) + 1, *width);
    }

  return pixels;
}

static void
test_label_map (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(KpExportReport) exported = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *png = g_build_filename (fixture->out, "img_a.png", NULL);
  g_autofree char *classes_path = g_build_filename (fixture->out, "classes.txt", NULL);
  g_autofree char *classes = NULL;
  g_autofree guint8 *pixels = NULL;
  g_autoptr(GPtrArray) src = NULL;
  const KpAnnotation *mask;
  int w = 0, h = 0;
  guint n_person = 0;

  fill_source (fixture);
  exported = kp_export_full (fixture->src.store, KP_EXPORT_FORMAT_LABEL_MAP, fixture->out,
                             KP_EXPORT_FLAGS_NONE, NULL, &error);
  g_assert_no_error (error);
  assert_warning (exported, "polyline");
  assert_warning (exported, "point");

  g_assert_true (g_file_get_contents (classes_path, &classes, NULL, NULL));
  g_assert_cmpstr (classes, ==, "0 background\n1 car\n2 person\n");

  pixels = read_png_gray8 (png, &w, &h);
  g_assert_cmpint (w, ==, 100);
  g_assert_cmpint (h, ==, 80);

  /* Box (car), rotated box centre (car), polygon (person), background. */
  g_assert_cmpuint (pixels[25 * w + 15], ==, 1);
  g_assert_cmpuint (pixels[40 * w + 50], ==, 1);
  g_assert_cmpuint (pixels[20 * w + 75], ==, 2);
  g_assert_cmpuint (pixels[75 * w + 90], ==, 0);

  /* The mask's pixels are exactly class 2 there. */
  src = imported (&fixture->src, fixture->src.a_id);
  mask = find_shape (src, KP_SHAPE_MASK, 0);
  for (int y = 50; y < 70; y++)
    for (int x = 10; x < 30; x++)
      {
        gboolean set = kp_mask_get (mask->mask, x, y);

        g_assert_cmpuint (pixels[y * w + x] == 2, ==, set);
        n_person += set;
      }
  g_assert_cmpuint (n_person, ==, kp_mask_get_area (mask->mask));
}

/* COCO's uncompressed RLE (iscrowd) and keypoint arrays, written by hand. */
static void
test_coco_rle_forms (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *json = g_build_filename (fixture->out, "rle.json", NULL);
  g_autoptr(KpImportReport) report = NULL;
  g_autoptr(GPtrArray) b = NULL;
  const KpAnnotation *m;

  /* In b.png (64 × 48): column 2, rows 10..13 set: 2 * 48 + 10 = 106. */
  kp_test_write (fixture->out, "rle.json",
                 "{\"images\": [{\"id\": 7, \"file_name\": \"b.png\", \"width\": 64, \"height\": 48}],"
                 " \"categories\": [{\"id\": 1, \"name\": \"blob\"},"
                 "   {\"id\": 2, \"name\": \"person\", \"keypoints\": [\"nose\", \"eye\"]}],"
                 " \"annotations\": ["
                 "  {\"id\": 1, \"image_id\": 7, \"category_id\": 1, \"iscrowd\": 1,"
                 "   \"segmentation\": {\"size\": [48, 64], \"counts\": [106, 4, 2962]}},"
                 "  {\"id\": 2, \"image_id\": 7, \"category_id\": 2,"
                 "   \"keypoints\": [10, 11, 2, 0, 0, 0], \"num_keypoints\": 1}]}", -1);
  report = import_ok (fixture, KP_IMPORT_FORMAT_COCO, json, KP_IMPORT_FLAGS_NONE);
  g_assert_cmpuint (report->problems->len, ==, 0);
  b = imported (&fixture->dst, fixture->dst.b_id);
  g_assert_cmpuint (b->len, ==, 2);
  m = find_shape (b, KP_SHAPE_MASK, 0);
  g_assert_nonnull (m);
  g_assert_cmpint (m->mask->x, ==, 2);
  g_assert_cmpint (m->mask->y, ==, 10);
  g_assert_cmpint (m->mask->height, ==, 4);
  g_assert_cmpuint (kp_mask_get_area (m->mask), ==, 4);
  m = find_shape (b, KP_SHAPE_POINT, 0);
  g_assert_cmpstr (m->keypoint, ==, "nose");
  g_assert_false (m->occluded);
}

static gboolean
report_mentions (KpImportReport *report,
                 const char     *needle)
{
  for (guint i = 0; i < report->problems->len; i++)
    if (strstr (report->problems->pdata[i], needle) != NULL)
      return TRUE;

  return FALSE;
}

static void
test_malformed (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KpImportReport) report = NULL;
  g_autofree char *bad_json = g_build_filename (fixture->out, "bad.json", NULL);
  g_autofree char *not_coco = g_build_filename (fixture->out, "notcoco.json", NULL);
  g_autofree char *partial = g_build_filename (fixture->out, "partial.json", NULL);
  g_autofree char *yolo = g_build_filename (fixture->out, "yolo", NULL);
  g_autofree char *voc = g_build_filename (fixture->out, "voc", NULL);

  kp_test_write (fixture->out, "bad.json", "{\"images\": [", -1);
  g_assert_null (kp_import (fixture->dst.store, KP_IMPORT_FORMAT_COCO, bad_json, 0, NULL, NULL, NULL, &error));
  g_assert_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_MALFORMED);
  g_assert_nonnull (strstr (error->message, "bad.json"));
  g_clear_error (&error);

  kp_test_write (fixture->out, "notcoco.json", "[1, 2]", -1);
  g_assert_null (kp_import (fixture->dst.store, KP_IMPORT_FORMAT_COCO, not_coco, 0, NULL, NULL, NULL, &error));
  g_assert_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_MALFORMED);
  g_clear_error (&error);

  /* Bad objects are reported with their JSON path; the good one is kept. */
  kp_test_write (fixture->out, "partial.json",
                 "{\"images\": [{\"id\": 1, \"file_name\": \"b.png\"}, {\"id\": 2, \"file_name\": \"nope.png\"}],"
                 " \"categories\": [{\"id\": 1, \"name\": \"x\"}],"
                 " \"annotations\": ["
                 "  {\"image_id\": 1, \"category_id\": 1, \"bbox\": [1, 2, 3, 4]},"
                 "  {\"image_id\": 1, \"category_id\": 1, \"segmentation\": [[1, 2, 3]]},"
                 "  {\"image_id\": 1, \"category_id\": 9, \"bbox\": [1, 2, 3, 4]},"
                 "  {\"image_id\": 3, \"category_id\": 1, \"bbox\": [1, 2, 3, 4]},"
                 "  {\"image_id\": 1, \"category_id\": 1, \"segmentation\": {\"size\": [48, 64], \"counts\": [5]}}]}",
                 -1);
  report = kp_import (fixture->dst.store, KP_IMPORT_FORMAT_COCO, partial, 0, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (report->n_objects, ==, 1);
  g_assert_true (report_mentions (report, "$.images[1]: “nope.png”"));
  g_assert_true (report_mentions (report, "$.annotations[1].segmentation[0]"));
  g_assert_true (report_mentions (report, "$.annotations[2]: category_id 9"));
  g_assert_true (report_mentions (report, "$.annotations[3]: image_id 3"));
  g_assert_true (report_mentions (report, "$.annotations[4].segmentation.counts"));
  g_clear_pointer (&report, kp_import_report_free);

  /* YOLO: bad lines by file and line. */
  kp_test_write (yolo, "classes.txt", "x\ny\n", -1);
  kp_test_write (yolo, "labels/b.txt", "0 0.5 0.5 0.1 0.1\n\n1 0.5 zero 0.1 0.1\n7 0.5 0.5 0.1 0.1\n0 0.1 0.2 0.3\n", -1);
  kp_test_write (yolo, "labels/unknown.txt", "0 0.5 0.5 0.1 0.1\n", -1);
  report = kp_import (fixture->dst.store, KP_IMPORT_FORMAT_YOLO, yolo, 0, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (report->n_objects, ==, 1);
  g_assert_true (report_mentions (report, "b.txt:3:"));
  g_assert_true (report_mentions (report, "b.txt:4: class 7"));
  g_assert_true (report_mentions (report, "b.txt:5: 3 numbers"));
  g_assert_true (report_mentions (report, "“unknown”"));
  g_clear_pointer (&report, kp_import_report_free);

  /* VOC: broken XML and an object without a box, with their lines. */
  kp_test_write (voc, "broken.xml", "<annotation><filename>b.png</filename>\n<object>", -1);
  kp_test_write (voc, "nobox.xml",
                 "<annotation>\n<filename>b.png</filename>\n<object>\n<name>x</name>\n</object>\n"
                 "<object><name>y</name><bndbox><xmin>5</xmin><ymin>1</ymin><xmax>2</xmax><ymax>3</ymax>"
                 "</bndbox></object>\n</annotation>", -1);
  report = kp_import (fixture->dst.store, KP_IMPORT_FORMAT_VOC, voc, 0, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (report->n_objects, ==, 0);
  g_assert_true (report_mentions (report, "broken.xml:2: not valid XML"));
  g_assert_true (report_mentions (report, "nobox.xml:3: <object> “x” has no"));
  g_assert_true (report_mentions (report, "nobox.xml:6: <bndbox> needs"));
  g_clear_pointer (&report, kp_import_report_free);

  g_assert_null (kp_import (fixture->dst.store, KP_IMPORT_FORMAT_YOLO, bad_json, 0, NULL, NULL, NULL, &error));
  g_assert_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_FAILED);
}

static guint8 *
fake_label_map (const char  *path,
                int         *width,
                int         *height,
                gpointer     user_data,
                GError     **error)
{
  guint8 *rgb;

  /* 64 × 48, white background, a red 3 × 2 block at (5, 6). */
  *width = 64;
  *height = 48;
  rgb = g_malloc ((gsize)64 * 48 * 3);
  memset (rgb, 0xff, (gsize)64 * 48 * 3);
  for (int y = 6; y < 8; y++)
    for (int x = 5; x < 8; x++)
      {
        rgb[(y * 64 + x) * 3] = 0xff;
        rgb[(y * 64 + x) * 3 + 1] = 0;
        rgb[(y * 64 + x) * 3 + 2] = 0;
      }
  (*(guint *)user_data)++;

  return rgb;
}

static void
test_ground_truth (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *manifest = g_build_filename (fixture->out, "output.manifest", NULL);
  g_autoptr(KpImportReport) report = NULL;
  g_autoptr(GPtrArray) a = NULL;
  g_autoptr(GPtrArray) b = NULL;
  g_autoptr(GError) error = NULL;
  const KpAnnotation *x;
  guint n_loads = 0;

  kp_test_write (fixture->out, "mask-b.png", "not read by the fake decoder", -1);
  kp_test_write (fixture->out, "output.manifest",
                 "{\"source-ref\": \"s3://bucket/dataset/img/a.png\", \"cars\": {\"image_size\": "
                 "[{\"width\": 100, \"height\": 80, \"depth\": 3}], \"annotations\": [{\"class_id\": 0, "
                 "\"left\": 11, \"top\": 12, \"width\": 13, \"height\": 14}, {\"class_id\": 1, \"left\": 1, "
                 "\"top\": 2, \"width\": 3, \"height\": 4}]}, \"cars-metadata\": {\"objects\": "
                 "[{\"confidence\": 0.75}, {\"confidence\": 0.25}], \"class-map\": {\"0\": \"car\", \"1\": "
                 "\"truck\"}, \"type\": \"groundtruth/object-detection\", \"human-annotated\": \"yes\"}}\n"
                 "{not json\n"
                 "{\"source-ref\": \"s3://bucket/dataset/b.png\", \"seg-ref\": \"s3://bucket/out/mask-b.png\","
                 " \"seg-ref-metadata\": {\"internal-color-map\": {\"0\": {\"class-name\": \"BACKGROUND\","
                 " \"hex-color\": \"#ffffff\", \"confidence\": 0.9}, \"1\": {\"class-name\": \"road\","
                 " \"hex-color\": \"#ff0000\", \"confidence\": 0.8}}, \"type\": "
                 "\"groundtruth/semantic-segmentation\"}}\n"
                 "{\"source-ref\": \"s3://bucket/dataset/zzz.png\"}\n", -1);

  report = kp_import (fixture->dst.store, KP_IMPORT_FORMAT_GROUND_TRUTH, manifest, 0,
                      fake_label_map, &n_loads, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < report->problems->len; i++)
    g_test_message ("problem: %s", (char *)report->problems->pdata[i]);
  g_assert_cmpuint (report->n_objects, ==, 3);
  g_assert_cmpuint (n_loads, ==, 1);
  g_assert_true (report_mentions (report, "output.manifest:2: not valid JSON"));
  g_assert_true (report_mentions (report, "output.manifest:4: “s3://bucket/dataset/zzz.png”"));

  a = imported (&fixture->dst, fixture->dst.a_id);
  g_assert_cmpuint (a->len, ==, 2);
  x = a->pdata[0];
  g_assert_cmpfloat (x->rect.x, ==, 11);
  g_assert_cmpfloat (x->rect.height, ==, 14);
  g_assert_cmpfloat (x->confidence, ==, 0.75);
  g_assert_cmpstr (label_name (&fixture->dst, x->label_id), ==, "car");
  g_assert_cmpfloat (((KpAnnotation *)a->pdata[1])->confidence, ==, 0.25);
  g_assert_cmpstr (label_name (&fixture->dst, ((KpAnnotation *)a->pdata[1])->label_id), ==, "truck");

  b = imported (&fixture->dst, fixture->dst.b_id);
  g_assert_cmpuint (b->len, ==, 1);
  x = b->pdata[0];
  g_assert_cmpint (x->shape, ==, KP_SHAPE_MASK);
  g_assert_cmpint (x->mask->x, ==, 5);
  g_assert_cmpint (x->mask->y, ==, 6);
  g_assert_cmpuint (kp_mask_get_area (x->mask), ==, 6);
  g_assert_cmpfloat (x->confidence, ==, 0.8);
  g_assert_cmpstr (label_name (&fixture->dst, x->label_id), ==, "road");
  g_clear_pointer (&report, kp_import_report_free);

  /* Without a decoder the label map is reported, not imported. */
  report = kp_import (fixture->dst.store, KP_IMPORT_FORMAT_GROUND_TRUTH, manifest, 0,
                      NULL, NULL, NULL, &error);
  g_assert_true (report_mentions (report, "no image decoder"));
}

/* Attribute values travel through COCO by name, into a project whose label
 * has attributes of those names. */
static void
test_coco_attributes (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autofree char *json = g_build_filename (fixture->out, "attrs.json", NULL);
  g_autoptr(KpExportReport) exported = NULL;
  g_autoptr(KpImportReport) report = NULL;
  g_autoptr(GPtrArray) a = NULL;
  g_autoptr(GError) error = NULL;
  KpAttribute attr = { 0 };
  KpAnnotation box = { 0 };
  gint64 src_parked, src_speed, src_note, dst_car, dst_parked, dst_speed;

  attr.min = 0;
  attr.max = 300;
  attr.label_id = fixture->src.car;
  attr.name = (char *)"parked";
  attr.kind = KP_ATTRIBUTE_CHECKBOX;
  src_parked = kp_store_add_attribute (fixture->src.store, &attr, &error);
  attr.name = (char *)"speed";
  attr.kind = KP_ATTRIBUTE_NUMBER;
  src_speed = kp_store_add_attribute (fixture->src.store, &attr, &error);
  attr.name = (char *)"note";
  attr.kind = KP_ATTRIBUTE_TEXT;
  src_note = kp_store_add_attribute (fixture->src.store, &attr, &error);
  g_assert_no_error (error);

  box.label_id = fixture->src.car;
  box.rect = (KpRect) { 1, 2, 3, 4 };
  kp_annotation_set_attribute (&box, src_parked, "true");
  kp_annotation_set_attribute (&box, src_speed, "42.5");
  kp_annotation_set_attribute (&box, src_note, "blue");
  add (&fixture->src, fixture->src.a_id, &box);

  dst_car = kp_store_add_label (fixture->dst.store, "car", "#123456", 0, &error);
  attr.label_id = dst_car;
  attr.name = (char *)"speed";
  attr.kind = KP_ATTRIBUTE_NUMBER;
  dst_speed = kp_store_add_attribute (fixture->dst.store, &attr, &error);
  attr.name = (char *)"parked";
  attr.kind = KP_ATTRIBUTE_CHECKBOX;
  dst_parked = kp_store_add_attribute (fixture->dst.store, &attr, &error);
  g_assert_no_error (error);

  exported = kp_export_full (fixture->src.store, KP_EXPORT_FORMAT_COCO, json, KP_EXPORT_FLAGS_NONE,
                             NULL, &error);
  g_assert_no_error (error);
  report = import_ok (fixture, KP_IMPORT_FORMAT_COCO, json, KP_IMPORT_FLAGS_NONE);
  g_assert_cmpuint (report->n_labels_created, ==, 1);   /* "person", an empty category */

  /* "note" has no definition in the destination: reported, not kept. */
  g_assert_cmpuint (report->problems->len, ==, 1);
  g_assert_nonnull (strstr (report->problems->pdata[0], "attributes.note"));

  a = imported (&fixture->dst, fixture->dst.a_id);
  g_assert_cmpuint (a->len, ==, 1);
  g_assert_cmpint (((KpAnnotation *)a->pdata[0])->label_id, ==, dst_car);
  g_assert_cmpstr (kp_annotation_get_attribute (a->pdata[0], dst_parked), ==, "true");
  g_assert_cmpstr (kp_annotation_get_attribute (a->pdata[0], dst_speed), ==, "42.5");
  g_assert_cmpuint (((KpAnnotation *)a->pdata[0])->n_attributes, ==, 2);
}

/* Session 4: what each format holds, re-import, options, and round trips
 * through label maps and Ground Truth manifests. */

typedef struct
{
  KpExportFormat format;
  guint          n_objects;
  guint          converted[KP_N_SHAPES];  /* box rotated polygon polyline line point mask */
  guint          dropped[KP_N_SHAPES];
} ExpectedReport;

/* fill_source() has 2 boxes, a rotated box, a polygon, a polyline, a
 * point and a mask. */
static const ExpectedReport expected_reports[] = {
  { KP_EXPORT_FORMAT_COCO,         7, { 0, 0, 0, 1, 0, 0, 0 }, { 0 } },
  { KP_EXPORT_FORMAT_VOC,          7, { 0, 0, 1, 1, 0, 1, 1 }, { 0 } },
  { KP_EXPORT_FORMAT_YOLO,         4, { 0, 1, 0, 0, 0, 0, 0 }, { 0, 0, 0, 1, 0, 1, 1 } },
  { KP_EXPORT_FORMAT_LABEL_MAP,    5, { 2, 1, 1, 0, 0, 0, 0 }, { 0, 0, 0, 1, 0, 1, 0 } },
  { KP_EXPORT_FORMAT_GROUND_TRUTH, 5, { 0, 1, 1, 0, 0, 0, 0 }, { 0, 0, 0, 1, 0, 1, 0 } },
};

static void
test_report_per_kind (Fixture       *fixture,
                      gconstpointer  data)
{
  fill_source (fixture);

  for (guint i = 0; i < G_N_ELEMENTS (expected_reports); i++)
    {
      const ExpectedReport *e = &expected_reports[i];
      g_autofree char *output = g_build_filename (fixture->out, kp_export_format_to_string (e->format),
                                                  e->format == KP_EXPORT_FORMAT_COCO ? "out.json" : NULL,
                                                  NULL);
      g_autoptr(KpExportReport) report = NULL;
      g_autoptr(GError) error = NULL;
      guint n_lines = 0;

      g_test_message ("format %s", kp_export_format_to_string (e->format));
      report = kp_export_full (fixture->src.store, e->format, output, KP_EXPORT_FLAGS_NONE, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (report->n_images, ==, 2);
      g_assert_cmpuint (report->n_objects, ==, e->n_objects);

      for (guint shape = 0; shape < KP_N_SHAPES; shape++)
        {
          g_assert_cmpuint (report->converted[shape], ==, e->converted[shape]);
          g_assert_cmpuint (report->dropped[shape], ==, e->dropped[shape]);
          n_lines += report->converted[shape] > 0;
          n_lines += report->dropped[shape] > 0;

          /* The table agrees with what the exporter did. */
          if (report->converted[shape] > 0)
            g_assert_nonnull (kp_export_format_converts_to (e->format, shape));
          if (report->dropped[shape] > 0)
            {
              g_assert_null (kp_export_format_converts_to (e->format, shape));
              g_assert_false (kp_export_format_holds (e->format, shape));
            }
          if (kp_export_format_holds (e->format, shape))
            g_assert_null (kp_export_format_converts_to (e->format, shape));
        }

      /* One line for people per kind of shape, naming it. */
      g_assert_cmpuint (report->warnings->len, ==, n_lines);
      if (e->dropped[KP_SHAPE_POLYLINE] > 0)
        assert_warning (report, "“polyline”: 1 left out");
    }
}

/* A second import of the same file adds nothing; REPLACE swaps the
 * suggestions nobody reviewed and keeps the accepted ones. */
static void
test_reimport (Fixture       *fixture,
               gconstpointer  data)
{
  g_autofree char *json = g_build_filename (fixture->out, "out.json", NULL);
  g_autoptr(KpExportReport) exported = NULL;
  g_autoptr(KpImportReport) report = NULL;
  g_autoptr(KpDocument) doc = NULL;
  g_autoptr(GPtrArray) a = NULL;
  g_autoptr(GError) error = NULL;
  KpImportOptions options = { 0 };
  gint64 first;

  fill_source (fixture);
  exported = kp_export_full (fixture->src.store, KP_EXPORT_FORMAT_COCO, json, KP_EXPORT_FLAGS_NONE,
                             NULL, &error);
  g_assert_no_error (error);

  report = import_ok (fixture, KP_IMPORT_FORMAT_COCO, json, KP_IMPORT_FLAGS_NONE);
  g_assert_cmpuint (report->n_objects, ==, 7);
  g_assert_cmpuint (report->n_duplicates, ==, 0);
  g_assert_cmpuint (report->images->len, ==, 2);
  g_clear_pointer (&report, kp_import_report_free);

  /* Again: every object (rotated box, mask, keypoint too) is already there. */
  report = import_ok (fixture, KP_IMPORT_FORMAT_COCO, json, KP_IMPORT_FLAGS_NONE);
  g_assert_cmpuint (report->n_objects, ==, 0);
  g_assert_cmpuint (report->n_images, ==, 0);
  g_assert_cmpuint (report->n_duplicates, ==, 7);
  g_assert_cmpstr (((KpImportImageReport *)report->images->pdata[0])->path, ==, "b.png");
  g_assert_cmpuint (((KpImportImageReport *)report->images->pdata[0])->n_duplicates, ==, 1);
  g_assert_cmpuint (((KpImportImageReport *)report->images->pdata[1])->n_duplicates, ==, 6);
  g_clear_pointer (&report, kp_import_report_free);
  a = imported (&fixture->dst, fixture->dst.a_id);
  g_assert_cmpuint (a->len, ==, 6);
  g_clear_pointer (&a, g_ptr_array_unref);

  /* Asked to, it adds them again. */
  report = import_ok (fixture, KP_IMPORT_FORMAT_COCO, json, KP_IMPORT_FLAGS_ALLOW_DUPLICATES);
  g_assert_cmpuint (report->n_objects, ==, 7);
  g_clear_pointer (&report, kp_import_report_free);

  /* Someone accepts one; REPLACE removes the 12 + 1 others, keeps it and
   * does not add it twice. */
  doc = kp_document_new (fixture->dst.store, fixture->dst.a_id, &error);
  g_assert_no_error (error);
  first = ((KpAnnotation *)kp_document_get_annotations (doc)->pdata[0])->id;
  g_assert_true (kp_document_accept (doc, &first, 1, &error));
  g_assert_no_error (error);
  g_clear_object (&doc);

  options.flags = KP_IMPORT_FLAGS_REPLACE;
  report = kp_import_full (fixture->dst.store, KP_IMPORT_FORMAT_COCO, json, &options, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (report->n_replaced, ==, 13);
  g_assert_cmpuint (report->n_duplicates, ==, 1);
  g_assert_cmpuint (report->n_objects, ==, 6);
  g_clear_pointer (&report, kp_import_report_free);

  a = imported (&fixture->dst, fixture->dst.a_id);
  g_assert_cmpuint (a->len, ==, 6);
  g_clear_pointer (&a, g_ptr_array_unref);
  a = imported (&fixture->dst, fixture->dst.b_id);
  g_assert_cmpuint (a->len, ==, 1);

  /* The removal and the import are two steps; undoing both brings back
   * what was there before. */
  doc = kp_document_new (fixture->dst.store, fixture->dst.a_id, &error);
  g_assert_no_error (error);
  g_assert_true (kp_document_undo (doc, &error));
  g_assert_cmpuint (kp_document_get_annotations (doc)->len, ==, 1);
  g_assert_true (kp_document_undo (doc, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (kp_document_get_annotations (doc)->len, ==, 12);
}

static void
test_min_confidence (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autofree char *json = g_build_filename (fixture->out, "in.json", NULL);
  g_autoptr(KpImportReport) report = NULL;
  g_autoptr(GPtrArray) a = NULL;
  g_autoptr(GError) error = NULL;
  KpImportOptions options = { 0 };
  const KpImportImageReport *image;

  kp_test_write (fixture->out, "in.json",
                 "{\"images\": [{\"id\": 1, \"file_name\": \"a.png\"}],"
                 " \"categories\": [{\"id\": 5, \"name\": \"dog\"}],"
                 " \"annotations\": ["
                 "  {\"image_id\": 1, \"category_id\": 5, \"bbox\": [1, 2, 3, 4], \"score\": 0.9},"
                 "  {\"image_id\": 1, \"category_id\": 5, \"bbox\": [5, 6, 7, 8], \"score\": 0.3},"
                 "  {\"image_id\": 1, \"category_id\": 5, \"bbox\": [5, 6, 7, 9], \"score\": 0.5},"
                 "  {\"image_id\": 1, \"category_id\": 5, \"bbox\": [9, 9, 1, 1]}]}", -1);
  options.min_confidence = 0.5;
  report = kp_import_full (fixture->dst.store, KP_IMPORT_FORMAT_COCO, json, &options, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (report->n_objects, ==, 3);
  g_assert_cmpuint (report->n_below_confidence, ==, 1);
  g_assert_cmpuint (report->images->len, ==, 1);
  image = report->images->pdata[0];
  g_assert_cmpstr (image->path, ==, "img/a.png");
  g_assert_cmpuint (image->n_objects, ==, 3);
  g_assert_cmpuint (image->n_below_confidence, ==, 1);

  a = imported (&fixture->dst, fixture->dst.a_id);
  g_assert_cmpuint (a->len, ==, 3);
  g_assert_cmpfloat (((KpAnnotation *)a->pdata[0])->confidence, ==, 0.9);
  g_assert_cmpfloat (((KpAnnotation *)a->pdata[1])->confidence, ==, 0.5);
  g_assert_cmpfloat (((KpAnnotation *)a->pdata[2])->confidence, ==, 1.0);
}

/* YOLO without its class list needs one from a file. */
static void
test_class_names_file (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *yolo = g_build_filename (fixture->out, "yolo", NULL);
  g_autofree char *names = g_build_filename (fixture->out, "names.txt", NULL);
  g_autofree char *numbered = g_build_filename (fixture->out, "numbered.txt", NULL);
  g_autoptr(KpImportReport) report = NULL;
  g_autoptr(GPtrArray) b = NULL;
  g_autoptr(GError) error = NULL;
  KpImportOptions options = { 0 };

  kp_test_write (yolo, "labels/b.txt", "0 0.5 0.5 0.25 0.25\n1 0.25 0.25 0.125 0.125 0.7\n", -1);
  report = kp_import_full (fixture->dst.store, KP_IMPORT_FORMAT_YOLO, yolo, &options, NULL, &error);
  g_assert_null (report);
  g_assert_error (error, KP_IMPORT_ERROR, KP_IMPORT_ERROR_MALFORMED);
  g_assert_nonnull (strstr (error->message, "classes.txt"));
  g_clear_error (&error);

  /* One name a line. */
  kp_test_write (fixture->out, "names.txt", "truck\r\nbus\n\n", -1);
  options.class_names_file = names;
  report = kp_import_full (fixture->dst.store, KP_IMPORT_FORMAT_YOLO, yolo, &options, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (report->n_objects, ==, 2);
  g_assert_cmpuint (report->problems->len, ==, 0);
  b = imported (&fixture->dst, fixture->dst.b_id);
  g_assert_cmpstr (label_name (&fixture->dst, ((KpAnnotation *)b->pdata[0])->label_id), ==, "truck");
  g_assert_cmpstr (label_name (&fixture->dst, ((KpAnnotation *)b->pdata[1])->label_id), ==, "bus");
  g_assert_cmpfloat (((KpAnnotation *)b->pdata[0])->rect.x, ==, 24);
  g_assert_cmpfloat (((KpAnnotation *)b->pdata[1])->confidence, ==, 0.7);
  g_clear_pointer (&report, kp_import_report_free);
  g_clear_pointer (&b, g_ptr_array_unref);

  /* A label file named after the image's bare name finds img/a.png. */
  {
    g_autofree char *bare = g_build_filename (fixture->out, "bare", NULL);
    g_autoptr(GPtrArray) a = NULL;

    kp_test_write (bare, "A.txt", "1 0.5 0.5 0.1 0.1\n", -1);
    report = kp_import_full (fixture->dst.store, KP_IMPORT_FORMAT_YOLO, bare, &options, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (report->n_objects, ==, 1);
    g_assert_cmpstr (((KpImportImageReport *)report->images->pdata[0])->path, ==, "img/a.png");
    a = imported (&fixture->dst, fixture->dst.a_id);
    g_assert_cmpfloat (((KpAnnotation *)a->pdata[0])->rect.x, ==, 45);
    g_clear_pointer (&report, kp_import_report_free);
  }

  /* "N name" lines; class 0 has no name here, so its line is reported. */
  kp_test_write (fixture->out, "numbered.txt", "1 van\n", -1);
  options.class_names_file = numbered;
  options.flags = KP_IMPORT_FLAGS_ALLOW_DUPLICATES;
  report = kp_import_full (fixture->dst.store, KP_IMPORT_FORMAT_YOLO, yolo, &options, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (report->n_objects, ==, 1);
  g_assert_true (report_mentions (report, "b.txt:1: class 0"));
  b = imported (&fixture->dst, fixture->dst.b_id);
  g_assert_cmpstr (label_name (&fixture->dst, ((KpAnnotation *)b->pdata[2])->label_id), ==, "van");
}

/* Reads back an RGB or grey PNG made by the exporters as RGB rows. */
static guint8 *
load_own_png (const char  *path,
              int         *width,
              int         *height,
              gpointer     user_data,
              GError     **error)
{
  g_autoptr(GBytes) bytes = kp_test_read (path);
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  g_autoptr(GByteArray) idat = g_byte_array_new ();
  g_autoptr(GZlibDecompressor) z = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_ZLIB);
  g_autofree guint8 *raw = NULL;
  gsize pos = 8, bytes_read, bytes_written, stride;
  int channels = 0;
  guint8 *rgb;

  g_assert_cmpmem (data, 8, "\x89PNG\r\n\x1a\n", 8);
  while (pos + 12 <= len)
    {
      guint32 n, crc;

      memcpy (&n, data + pos, 4);
      n = GUINT32_FROM_BE (n);
      memcpy (&crc, data + pos + 8 + n, 4);
      g_assert_cmpuint (GUINT32_FROM_BE (crc), ==, png_crc (data + pos + 4, n + 4));
      if (memcmp (data + pos + 4, "IHDR", 4) == 0)
        {
          guint32 w, h;

          memcpy (&w, data + pos + 8, 4);
          memcpy (&h, data + pos + 12, 4);
          *width = GUINT32_FROM_BE (w);
          *height = GUINT32_FROM_BE (h);
          g_assert_cmpuint (data[pos + 16], ==, 8);
          channels = data[pos + 17] == 2 ? 3 : 1;
        }
      else if (memcmp (data + pos + 4, "IDAT", 4) == 0)
        g_byte_array_append (idat, data + pos + 8, n);
      pos += 12 + n;
    }
  g_assert_cmpint (channels, !=, 0);

  stride = (gsize)*width * channels + 1;
  raw = g_malloc (stride * *height);
  g_assert_cmpint (g_converter_convert (G_CONVERTER (z), idat->data, idat->len, raw, stride * *height,
                                        G_CONVERTER_INPUT_AT_END, &bytes_read, &bytes_written, NULL),
                   ==, G_CONVERTER_FINISHED);
  g_assert_cmpuint (bytes_written, ==, stride * *height);

  rgb = g_malloc ((gsize)*width * *height * 3);
  for (int y = 0; y < *height; y++)
    for (int x = 0; x < *width; x++)
      for (int c = 0; c < 3; c++)
        rgb[((gsize)y * *width + x) * 3 + c] = raw[y * stride + 1 + (gsize)x * channels + (channels == 3 ? c : 0)];

  return rgb;
}

static KpMask *
expected_region (KpMask             *mask,
                 const KpAnnotation *a)
{
  KpPoint corners[4];
  KpMask *result;

  switch (a->shape)
    {
    case KP_SHAPE_BOX:
      corners[0] = (KpPoint) { a->rect.x, a->rect.y };
      corners[1] = (KpPoint) { a->rect.x + a->rect.width, a->rect.y };
      corners[2] = (KpPoint) { a->rect.x + a->rect.width, a->rect.y + a->rect.height };
      corners[3] = (KpPoint) { a->rect.x, a->rect.y + a->rect.height };
      result = kp_mask_paint_polygon (mask, corners, 4, TRUE);
      break;

    case KP_SHAPE_ROTATED_BOX:
      kp_rotated_box_corners (&a->rotated, corners);
      result = kp_mask_paint_polygon (mask, corners, 4, TRUE);
      break;

    case KP_SHAPE_POLYGON:
      result = kp_mask_paint_polygon (mask, a->points, a->n_points, TRUE);
      break;

    case KP_SHAPE_MASK:
      {
        /* The union, through bitmaps over the image. */
        g_autofree guint8 *bits = g_malloc0 (100 * 80);

        for (int y = 0; y < 80; y++)
          for (int x = 0; x < 100; x++)
            bits[y * 100 + x] = (mask != NULL && kp_mask_get (mask, x, y)) || kp_mask_get (a->mask, x, y);
        result = kp_mask_new_from_bitmap (0, 0, 100, 80, bits);
        break;
      }

    default:
      g_assert_not_reached ();
    }

  kp_mask_free (mask);
  return result;
}

/* Label maps and Ground Truth keep regions as pixels, one mask per class
 * and image: each comes back as exactly the union of its class's pixels. */
static void
check_pixel_round_trip (Fixture        *fixture,
                        KpExportFormat  export_format,
                        KpImportFormat  import_format,
                        const char     *input,
                        gboolean        boxes_as_pixels)
{
  g_autoptr(KpExportReport) exported = NULL;
  g_autoptr(KpImportReport) report = NULL;
  g_autoptr(GPtrArray) src = NULL;
  g_autoptr(GPtrArray) a = NULL;
  g_autoptr(GPtrArray) b = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(KpMask) car = NULL;
  g_autoptr(KpMask) person = NULL;
  KpImportOptions options = { 0 };
  const KpAnnotation *x;

  fill_source (fixture);
  exported = kp_export_full (fixture->src.store, export_format, fixture->out, KP_EXPORT_FLAGS_NONE,
                             NULL, &error);
  g_assert_no_error (error);

  options.load_rgb = load_own_png;
  report = kp_import_full (fixture->dst.store, import_format, input, &options, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < report->problems->len; i++)
    g_test_message ("problem: %s", (char *)report->problems->pdata[i]);
  g_assert_cmpuint (report->problems->len, ==, 0);

  src = imported (&fixture->src, fixture->src.a_id);
  for (guint i = 0; i < src->len; i++)
    {
      const KpAnnotation *s = src->pdata[i];

      if (s->shape == KP_SHAPE_POINT || s->shape == KP_SHAPE_POLYLINE ||
          (s->shape == KP_SHAPE_BOX && !boxes_as_pixels))
        continue;
      if (s->label_id == fixture->src.car)
        car = expected_region (g_steal_pointer (&car), s);
      else
        person = expected_region (g_steal_pointer (&person), s);
    }

  a = imported (&fixture->dst, fixture->dst.a_id);
  g_assert_cmpuint (a->len, ==, boxes_as_pixels ? 2 : 3);
  for (guint i = 0; i < a->len; i++)
    {
      x = a->pdata[i];
      g_assert_cmpint (x->review, ==, KP_REVIEW_PENDING);
      if (x->shape == KP_SHAPE_BOX)
        {
          g_assert_false (boxes_as_pixels);
          g_assert_cmpfloat (x->rect.x, ==, 10);
          g_assert_cmpfloat (x->rect.y, ==, 20);
          g_assert_cmpfloat (x->rect.width, ==, 30);
          g_assert_cmpfloat (x->rect.height, ==, 15);
          g_assert_cmpstr (label_name (&fixture->dst, x->label_id), ==, "car");
          continue;
        }
      g_assert_cmpint (x->shape, ==, KP_SHAPE_MASK);
      if (g_str_equal (label_name (&fixture->dst, x->label_id), "car"))
        g_assert_true (kp_mask_equal (x->mask, car));
      else
        g_assert_true (kp_mask_equal (x->mask, person));
    }

  /* b.png's person box. */
  b = imported (&fixture->dst, fixture->dst.b_id);
  g_assert_cmpuint (b->len, ==, 1);
  x = b->pdata[0];
  if (boxes_as_pixels)
    {
      g_assert_cmpint (x->shape, ==, KP_SHAPE_MASK);
      g_assert_cmpuint (kp_mask_get_area (x->mask), ==, 64);
    }
  else
    {
      g_assert_cmpint (x->shape, ==, KP_SHAPE_BOX);
      g_assert_cmpfloat (x->rect.x, ==, 4);
    }
}

static void
test_label_map_round_trip (Fixture       *fixture,
                           gconstpointer  data)
{
  check_pixel_round_trip (fixture, KP_EXPORT_FORMAT_LABEL_MAP, KP_IMPORT_FORMAT_LABEL_MAP,
                          fixture->out, TRUE);
}

static void
test_ground_truth_round_trip (Fixture       *fixture,
                              gconstpointer  data)
{
  g_autofree char *manifest = g_build_filename (fixture->out, "output.manifest", NULL);

  check_pixel_round_trip (fixture, KP_EXPORT_FORMAT_GROUND_TRUTH, KP_IMPORT_FORMAT_GROUND_TRUTH,
                          manifest, FALSE);
}

static void
test_formats (void)
{
  KpImportFormat format;

  g_assert_true (kp_import_format_from_string ("COCO", &format));
  g_assert_cmpint (format, ==, KP_IMPORT_FORMAT_COCO);
  g_assert_true (kp_import_format_from_string ("sagemaker", &format));
  g_assert_cmpint (format, ==, KP_IMPORT_FORMAT_GROUND_TRUTH);
  g_assert_false (kp_import_format_from_string ("csv", &format));
  g_assert_cmpstr (kp_import_format_to_string (KP_IMPORT_FORMAT_YOLO), ==, "yolo");
  g_assert_true (kp_import_format_from_string ("gt-manifest", &format));
  g_assert_cmpint (format, ==, KP_IMPORT_FORMAT_GROUND_TRUTH);
  g_assert_true (kp_import_format_from_string ("LabelMap", &format));
  g_assert_cmpint (format, ==, KP_IMPORT_FORMAT_LABEL_MAP);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) \
  g_test_add ("/kempelen/core/import/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("coco-round-trip", test_coco_round_trip);
  ADD ("voc-round-trip", test_voc_round_trip);
  ADD ("yolo-round-trip", test_yolo_round_trip);
  ADD ("label-map", test_label_map);
  ADD ("suggestions", test_suggestions);
  ADD ("coco-rle-forms", test_coco_rle_forms);
  ADD ("coco-attributes", test_coco_attributes);
  ADD ("malformed", test_malformed);
  ADD ("ground-truth", test_ground_truth);
  ADD ("report-per-kind", test_report_per_kind);
  ADD ("reimport", test_reimport);
  ADD ("min-confidence", test_min_confidence);
  ADD ("class-names-file", test_class_names_file);
  ADD ("label-map-round-trip", test_label_map_round_trip);
  ADD ("ground-truth-round-trip", test_ground_truth_round_trip);
  g_test_add_func ("/kempelen/core/import/formats", test_formats);

#undef ADD

  return g_test_run ();
}
