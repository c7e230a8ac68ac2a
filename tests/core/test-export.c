/* test-export.c: COCO, Pascal VOC and YOLO, parsed back and compared
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <json-glib/json-glib.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "kp-core.h"
#include "kp-test-util.h"

#define ODD_NAME "Fußgänger \"quoted\" a/b"
#define XML_NAME "<tag> & 'apos' \\ ]]>"

typedef struct
{
  char    *folder;
  char    *out;                 /* an empty folder for outputs */
  KpStore *store;
  gint64   labels[3];
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
annotate (Fixture    *fixture,
          const char *path,
          int         label,
          KpRect      rect)
{
  g_autoptr(GError) error = NULL;
  KpAnnotation a = { 0 };

  a.media_id = media_id_of (fixture->store, path);
  a.label_id = fixture->labels[label];
  a.rect = rect;
  g_assert_cmpint (kp_store_add_annotation (fixture->store, &a, &error), >, 0);
  g_assert_no_error (error);
}

static void
set_size (Fixture    *fixture,
          const char *path,
          int         width,
          int         height)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (kp_store_set_media_info (fixture->store, media_id_of (fixture->store, path),
                                          NULL, width, height, &error));
  g_assert_no_error (error);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  static const char *files[] = {
    "a.png", "sub/b.png", "sub_b.png", "c.png", "nosize.png", "broken.png", "gone.png",
  };

  fixture->folder = kp_test_make_folder ();
  fixture->out = kp_test_make_folder ();
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    kp_test_write (fixture->folder, files[i], "", 0);

  fixture->store = kp_store_open (fixture->folder, &error);
  g_assert_no_error (error);
  g_assert_true (kp_store_scan (fixture->store, NULL, &error));
  g_assert_no_error (error);

  fixture->labels[0] = kp_store_add_label (fixture->store, "car", "#ff0000", 1, &error);
  fixture->labels[1] = kp_store_add_label (fixture->store, ODD_NAME, "#00ff00", 2, &error);
  fixture->labels[2] = kp_store_add_label (fixture->store, XML_NAME, "#0000ff", 3, &error);
  g_assert_no_error (error);

  set_size (fixture, "a.png", 100, 50);
  set_size (fixture, "sub/b.png", 200, 100);
  set_size (fixture, "sub_b.png", 20, 10);
  set_size (fixture, "c.png", 64, 64);
  set_size (fixture, "broken.png", 10, 10);
  set_size (fixture, "gone.png", 10, 10);

  annotate (fixture, "a.png", 0, (KpRect) { 10.25, 5.5, 20.5, 10.125 });
  annotate (fixture, "a.png", 1, (KpRect) { 0, 0, 100, 50 });
  annotate (fixture, "sub/b.png", 2, (KpRect) { 99.4, 0.6, 50.2, 33.3 });
  annotate (fixture, "sub_b.png", 1, (KpRect) { 1, 1, 2, 2 });
  annotate (fixture, "broken.png", 0, (KpRect) { 1, 1, 2, 2 });
  annotate (fixture, "gone.png", 0, (KpRect) { 1, 1, 2, 2 });

  g_assert_true (kp_store_set_media_error (fixture->store, media_id_of (fixture->store, "broken.png"),
                                           "Not an image", &error));
  {
    g_autofree char *gone = g_build_filename (fixture->folder, "gone.png", NULL);

    g_unlink (gone);
  }
  g_assert_true (kp_store_scan (fixture->store, NULL, &error));
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_assert_finalize_object (fixture->store);
  kp_test_rm_rf (fixture->folder);
  kp_test_rm_rf (fixture->out);
  g_free (fixture->folder);
  g_free (fixture->out);
}

/* The images and annotations that should be exported, from the store. */
static GPtrArray *
exported_media (Fixture *fixture)
{
  g_autoptr(GPtrArray) media = kp_store_list_media (fixture->store, NULL);
  GPtrArray *result = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_media_free);

  for (guint i = 0; i < media->len; i++)
    {
      KpMedia *m = media->pdata[i];

      if (m->width > 0 && m->status != KP_MEDIA_STATUS_BROKEN && m->status != KP_MEDIA_STATUS_MISSING)
        g_ptr_array_add (result, kp_media_copy (m));
    }

  return result;
}

static int
label_index (Fixture *fixture,
             gint64   label_id)
{
  for (guint i = 0; i < G_N_ELEMENTS (fixture->labels); i++)
    if (fixture->labels[i] == label_id)
      return i;

  g_assert_not_reached ();
}

static void
list_files (const char *dir,
            const char *prefix,
            GPtrArray  *names)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *rel = prefix ? g_build_filename (prefix, name, NULL) : g_strdup (name);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        list_files (path, rel, names);
      else
        g_ptr_array_add (names, g_steal_pointer (&rel));
    }
}

static void
assert_files (const char *dir,
              const char * const *expected)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  list_files (dir, NULL, names);
  for (guint i = 0; i < names->len; i++)
    g_test_message ("output file: %s", (char *)names->pdata[i]);
  g_assert_cmpuint (names->len, ==, g_strv_length ((GStrv)expected));
  for (guint i = 0; expected[i] != NULL; i++)
    g_assert_true (g_ptr_array_find_with_equal_func (names, expected[i], g_str_equal, NULL));
}

static void
test_coco (Fixture       *fixture,
           gconstpointer  data)
{
  g_autofree char *output = g_build_filename (fixture->out, "deep", "er", "coco.json", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GPtrArray) expected = exported_media (fixture);
  JsonObject *root;
  JsonArray *images, *annotations, *categories;
  guint n_annotations = 0;

  g_assert_true (kp_export (fixture->store, KP_EXPORT_FORMAT_COCO, output, NULL, &error));
  g_assert_no_error (error);

  g_assert_true (json_parser_load_from_file (parser, output, &error));
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_true (json_object_has_member (root, "info"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "licenses")), ==, 0);

  categories = json_object_get_array_member (root, "categories");
  g_assert_cmpuint (json_array_get_length (categories), ==, 3);
  {
    JsonObject *c1 = json_array_get_object_element (categories, 1);

    g_assert_cmpint (json_object_get_int_member (c1, "id"), ==, 2);
    g_assert_cmpstr (json_object_get_string_member (c1, "name"), ==, ODD_NAME);
    g_assert_cmpstr (json_object_get_string_member (c1, "supercategory"), ==, "");
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (categories, 2), "name"),
                     ==, XML_NAME);
  }

  images = json_object_get_array_member (root, "images");
  g_assert_cmpuint (json_array_get_length (images), ==, expected->len);
  g_assert_cmpuint (expected->len, ==, 4);    /* a, c, sub/b, sub_b */
  for (guint i = 0; i < expected->len; i++)
    {
      KpMedia *m = expected->pdata[i];
      JsonObject *image = json_array_get_object_element (images, i);

      g_assert_cmpint (json_object_get_int_member (image, "id"), ==, m->id);
      g_assert_cmpstr (json_object_get_string_member (image, "file_name"), ==, m->path);
      g_assert_cmpint (json_object_get_int_member (image, "width"), ==, m->width);
      g_assert_cmpint (json_object_get_int_member (image, "height"), ==, m->height);
    }

  annotations = json_object_get_array_member (root, "annotations");
  for (guint i = 0; i < expected->len; i++)
    {
      KpMedia *m = expected->pdata[i];
      g_autoptr(GPtrArray) stored = kp_store_list_annotations (fixture->store, m->id, NULL);

      for (guint j = 0; j < stored->len; j++)
        {
          KpAnnotation *a = stored->pdata[j];
          JsonObject *found = NULL;
          JsonArray *bbox;

          for (guint k = 0; k < json_array_get_length (annotations); k++)
            {
              JsonObject *o = json_array_get_object_element (annotations, k);

              if (json_object_get_int_member (o, "id") == a->id)
                found = o;
            }
          g_assert_nonnull (found);
          n_annotations++;

          g_assert_cmpint (json_object_get_int_member (found, "image_id"), ==, m->id);
          g_assert_cmpint (json_object_get_int_member (found, "category_id"), ==,
                           label_index (fixture, a->label_id) + 1);
          g_assert_cmpint (json_object_get_int_member (found, "iscrowd"), ==, 0);
          g_assert_cmpuint (json_array_get_length (json_object_get_array_member (found, "segmentation")), ==, 0);
          bbox = json_object_get_array_member (found, "bbox");
          g_assert_cmpuint (json_array_get_length (bbox), ==, 4);
          g_assert_cmpfloat_with_epsilon (json_array_get_double_element (bbox, 0), a->rect.x, 1e-6);
          g_assert_cmpfloat_with_epsilon (json_array_get_double_element (bbox, 1), a->rect.y, 1e-6);
          g_assert_cmpfloat_with_epsilon (json_array_get_double_element (bbox, 2), a->rect.width, 1e-6);
          g_assert_cmpfloat_with_epsilon (json_array_get_double_element (bbox, 3), a->rect.height, 1e-6);
          g_assert_cmpfloat_with_epsilon (json_object_get_double_member (found, "area"),
                                          a->rect.width * a->rect.height, 1e-6);
        }
    }
  /* Broken and missing images' boxes are left out. */
  g_assert_cmpuint (n_annotations, ==, 4);
  g_assert_cmpuint (json_array_get_length (annotations), ==, n_annotations);
}

static xmlNode *
child (xmlNode    *node,
       const char *name)
{
  for (xmlNode *c = node->children; c != NULL; c = c->next)
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
  char *result;

  g_assert_nonnull (c);
  content = xmlNodeGetContent (c);
  result = g_strdup ((const char *)content);
  xmlFree (content);

  return result;
}

static int
child_int (xmlNode    *node,
           const char *name)
{
  g_autofree char *text = child_text (node, name);

  return atoi (text);
}

static void
test_voc (Fixture       *fixture,
          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) expected = exported_media (fixture);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  static const char * const files[] = { "a.xml", "c.xml", "sub_b.xml", "sub_b_png.xml", NULL };
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_assert_true (kp_export (fixture->store, KP_EXPORT_FORMAT_VOC, fixture->out, NULL, &error));
  g_assert_no_error (error);
  assert_files (fixture->out, files);

  dir = g_dir_open (fixture->out, 0, NULL);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fixture->out, name, NULL);
      g_autofree char *filename = NULL;
      g_autofree char *abs = NULL;
      g_autofree char *want_abs = NULL;
      g_autoptr(GPtrArray) stored = NULL;
      xmlDoc *doc = xmlReadFile (path, NULL, XML_PARSE_NONET);
      xmlNode *root, *size;
      KpMedia *m = NULL;
      guint n_objects = 0;

      g_assert_nonnull (doc);
      root = xmlDocGetRootElement (doc);
      g_assert_cmpstr ((const char *)root->name, ==, "annotation");

      filename = child_text (root, "filename");
      for (guint i = 0; i < expected->len; i++)
        if (g_str_equal (((KpMedia *)expected->pdata[i])->path, filename))
          m = expected->pdata[i];
      g_assert_nonnull (m);
      g_assert_false (g_hash_table_contains (seen, filename));
      g_hash_table_add (seen, g_strdup (filename));

      abs = child_text (root, "path");
      want_abs = g_build_filename (fixture->folder, m->path, NULL);
      g_assert_cmpstr (abs, ==, want_abs);

      size = child (root, "size");
      g_assert_cmpint (child_int (size, "width"), ==, m->width);
      g_assert_cmpint (child_int (size, "height"), ==, m->height);
      g_assert_cmpint (child_int (size, "depth"), ==, 3);

      stored = kp_store_list_annotations (fixture->store, m->id, NULL);
      for (xmlNode *o = root->children; o != NULL; o = o->next)
        {
          g_autofree char *label_name = NULL;
          g_autofree char *pose = NULL;
          KpAnnotation *a;
          xmlNode *box;
          g_autoptr(KpLabel) label = NULL;

          if (o->type != XML_ELEMENT_NODE || strcmp ((const char *)o->name, "object") != 0)
            continue;

          /* Objects come in the store's order. */
          g_assert_cmpuint (n_objects, <, stored->len);
          a = stored->pdata[n_objects++];
          label = kp_store_get_label (fixture->store, a->label_id, NULL);
          label_name = child_text (o, "name");
          g_assert_cmpstr (label_name, ==, label->name);
          pose = child_text (o, "pose");
          g_assert_cmpstr (pose, ==, "Unspecified");
          g_assert_cmpint (child_int (o, "truncated"), ==, 0);
          g_assert_cmpint (child_int (o, "difficult"), ==, 0);

          box = child (o, "bndbox");
          g_assert_cmpint (child_int (box, "xmin"), ==, (int)round (a->rect.x) + 1);
          g_assert_cmpint (child_int (box, "ymin"), ==, (int)round (a->rect.y) + 1);
          g_assert_cmpint (child_int (box, "xmax"), ==, (int)round (a->rect.x + a->rect.width));
          g_assert_cmpint (child_int (box, "ymax"), ==, (int)round (a->rect.y + a->rect.height));
        }
      g_assert_cmpuint (n_objects, ==, stored->len);

      xmlFreeDoc (doc);
    }
  g_assert_cmpuint (g_hash_table_size (seen), ==, expected->len);

  /* The exact numbers for one box: {99.4, 0.6, 50.2, 33.3} -> 100, 2, 150, 34. */
  {
    g_autofree char *path = g_build_filename (fixture->out, "sub_b.xml", NULL);
    g_autofree char *filename = NULL;
    xmlDoc *doc = xmlReadFile (path, NULL, XML_PARSE_NONET);
    xmlNode *root = xmlDocGetRootElement (doc);
    xmlNode *box = child (child (root, "object"), "bndbox");

    filename = child_text (root, "filename");
    g_assert_cmpstr (filename, ==, "sub/b.png");
    g_assert_cmpint (child_int (box, "xmin"), ==, 100);
    g_assert_cmpint (child_int (box, "ymin"), ==, 2);
    g_assert_cmpint (child_int (box, "xmax"), ==, 150);
    g_assert_cmpint (child_int (box, "ymax"), ==, 34);
    xmlFreeDoc (doc);
  }
}

static void
test_yolo (Fixture       *fixture,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) expected = exported_media (fixture);
  g_autofree char *classes = NULL;
  g_autofree char *yaml = NULL;
  g_autofree char *path = NULL;
  static const char * const files[] = {
    "classes.txt", "data.yaml", "images.txt",
    "labels/a.txt", "labels/c.txt", "labels/sub_b.txt", "labels/sub_b_png.txt", NULL,
  };
  g_auto(GStrv) class_lines = NULL;

  g_assert_true (kp_export (fixture->store, KP_EXPORT_FORMAT_YOLO, fixture->out, NULL, &error));
  g_assert_no_error (error);
  assert_files (fixture->out, files);

  path = g_build_filename (fixture->out, "classes.txt", NULL);
  g_assert_true (g_file_get_contents (path, &classes, NULL, NULL));
  g_assert_cmpstr (classes, ==, "car\n" ODD_NAME "\n" XML_NAME "\n");
  class_lines = g_strsplit (classes, "\n", -1);

  g_clear_pointer (&path, g_free);
  path = g_build_filename (fixture->out, "data.yaml", NULL);
  g_assert_true (g_file_get_contents (path, &yaml, NULL, NULL));
  g_test_message ("data.yaml:\n%s", yaml);
  g_assert_nonnull (strstr (yaml, "nc: 3\n"));
  g_assert_nonnull (strstr (yaml, "  0: \"car\"\n"));
  g_assert_nonnull (strstr (yaml, "  1: \"Fußgänger \\\"quoted\\\" a/b\"\n"));
  g_assert_nonnull (strstr (yaml, "  2: \"<tag> & 'apos' \\\\ ]]>\"\n"));

  for (guint i = 0; i < expected->len; i++)
    {
      KpMedia *m = expected->pdata[i];
      g_autoptr(GPtrArray) stored = kp_store_list_annotations (fixture->store, m->id, NULL);
      const char *stem = g_str_equal (m->path, "a.png") ? "a" :
                         g_str_equal (m->path, "c.png") ? "c" : NULL;
      g_autofree char *contents = NULL;
      g_autofree char *file = NULL;
      g_auto(GStrv) lines = NULL;
      guint n = 0;

      if (stem == NULL)
        continue;   /* sub/b and sub_b share a stem; checked below */

      file = g_strdup_printf ("%s/labels/%s.txt", fixture->out, stem);
      g_assert_true (g_file_get_contents (file, &contents, NULL, NULL));
      lines = g_strsplit (contents, "\n", -1);

      for (guint j = 0; lines[j] != NULL && lines[j][0] != '\0'; j++)
        {
          g_auto(GStrv) fields = g_strsplit (lines[j], " ", -1);
          KpAnnotation *a = stored->pdata[n++];
          KpRect r = kp_rect_clamp (a->rect, m->width, m->height);

          g_assert_cmpuint (g_strv_length (fields), ==, 5);
          g_assert_cmpint (atoi (fields[0]), ==, label_index (fixture, a->label_id));
          g_assert_cmpstr (class_lines[atoi (fields[0])], ==,
                           label_index (fixture, a->label_id) == 1 ? ODD_NAME : "car");
          for (guint k = 1; k < 5; k++)
            {
              /* Six decimals, a dot whatever the locale. */
              g_assert_nonnull (strchr (fields[k], '.'));
              g_assert_cmpuint (strlen (strchr (fields[k], '.') + 1), ==, 6);
            }
          g_assert_cmpfloat_with_epsilon (g_ascii_strtod (fields[1], NULL),
                                          (r.x + r.width / 2) / m->width, 5e-7);
          g_assert_cmpfloat_with_epsilon (g_ascii_strtod (fields[2], NULL),
                                          (r.y + r.height / 2) / m->height, 5e-7);
          g_assert_cmpfloat_with_epsilon (g_ascii_strtod (fields[3], NULL), r.width / m->width, 5e-7);
          g_assert_cmpfloat_with_epsilon (g_ascii_strtod (fields[4], NULL), r.height / m->height, 5e-7);
        }
      g_assert_cmpuint (n, ==, stored->len);
    }

  /* Exact text for a.png: {10.25, 5.5, 20.5, 10.125} in 100x50. */
  {
    g_autofree char *file = g_build_filename (fixture->out, "labels", "a.txt", NULL);
    g_autofree char *contents = NULL;

    g_assert_true (g_file_get_contents (file, &contents, NULL, NULL));
    g_assert_cmpstr (contents, ==,
                     "0 0.205000 0.211250 0.205000 0.202500\n"
                     "1 0.500000 0.500000 1.000000 1.000000\n");
  }
}

/* The shapes of schema 2 as each format writes them. Images c.png
 * (64 × 64) gets a rotated box, a polygon, a mask, a keypoint, a line and
 * a pending suggestion. */
static void
add_shapes (Fixture *fixture)
{
  g_autoptr(GError) error = NULL;
  gint64 media = media_id_of (fixture->store, "c.png");
  KpAttribute attr = { 0 };
  KpAnnotation a = { 0 };
  gint64 attr_id;

  attr.label_id = fixture->labels[0];
  attr.name = (char *)"parked";
  attr.kind = KP_ATTRIBUTE_CHECKBOX;
  attr_id = kp_store_add_attribute (fixture->store, &attr, &error);
  g_assert_no_error (error);

#define ADD_SHAPE() G_STMT_START { \
    a.media_id = media; \
    kp_annotation_update_bounds (&a); \
    g_assert_cmpint (kp_store_add_annotation (fixture->store, &a, &error), >, 0); \
    g_assert_no_error (error); \
    kp_annotation_clear (&a); \
  } G_STMT_END

  a.label_id = fixture->labels[0];
  a.shape = KP_SHAPE_ROTATED_BOX;
  a.rotated = (KpRotatedBox) { 32, 32, 20, 10, G_PI / 6 };
  kp_annotation_set_attribute (&a, attr_id, "true");
  ADD_SHAPE ();

  a.label_id = fixture->labels[0];
  a.shape = KP_SHAPE_POLYGON;
  kp_annotation_set_points (&a, (KpPoint[]) { { 1, 1 }, { 9, 1 }, { 5, 7 } }, 3);
  ADD_SHAPE ();

  a.label_id = fixture->labels[0];
  a.shape = KP_SHAPE_MASK;
  a.mask = kp_mask_new_from_bitmap (2, 3, 2, 1, (const guint8[]) { 1, 1 });
  ADD_SHAPE ();

  a.label_id = fixture->labels[0];
  a.shape = KP_SHAPE_POINT;
  kp_annotation_set_points (&a, (KpPoint[]) { { 7, 8 } }, 1);
  a.keypoint = g_strdup ("wheel");
  ADD_SHAPE ();

  a.label_id = fixture->labels[0];
  a.shape = KP_SHAPE_LINE;
  kp_annotation_set_points (&a, (KpPoint[]) { { 0, 0 }, { 4, 4 } }, 2);
  ADD_SHAPE ();

  a.label_id = fixture->labels[0];
  a.rect = (KpRect) { 1, 1, 1, 1 };
  a.review = KP_REVIEW_PENDING;
  a.source = g_strdup ("test");
  a.confidence = 0.5;
  ADD_SHAPE ();

#undef ADD_SHAPE
}

static JsonObject *
find_annotation_with (JsonArray  *annotations,
                      const char *member)
{
  for (guint i = 0; i < json_array_get_length (annotations); i++)
    {
      JsonObject *a = json_array_get_object_element (annotations, i);

      if (json_object_has_member (a, member))
        return a;
    }

  return NULL;
}

static void
test_coco_shapes (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autofree char *output = g_build_filename (fixture->out, "coco.json", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(KpExportReport) report = NULL;
  JsonObject *root, *a, *rle = NULL, *attributes;
  JsonArray *annotations, *segmentation, *keypoints;
  JsonArray *categories;

  add_shapes (fixture);
  report = kp_export_full (fixture->store, KP_EXPORT_FORMAT_COCO, output, KP_EXPORT_FLAGS_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (report->n_pending, ==, 1);
  /* The line is reported; nothing else. */
  g_assert_cmpuint (report->warnings->len, ==, 2);
  g_assert_nonnull (strstr (report->warnings->pdata[0], "line"));

  g_assert_true (json_parser_load_from_file (parser, output, &error));
  root = json_node_get_object (json_parser_get_root (parser));
  annotations = json_object_get_array_member (root, "annotations");
  g_assert_cmpuint (json_array_get_length (annotations), ==, 4 + 5);

  /* Rotated box: four corners, its bounds, rotation in degrees and the
   * checkbox attribute by name. */
  a = find_annotation_with (annotations, "attributes");
  attributes = json_object_get_object_member (a, "attributes");
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (attributes, "rotation"), 30, 1e-9);
  g_assert_true (json_object_get_boolean_member (attributes, "parked"));
  segmentation = json_array_get_array_element (json_object_get_array_member (a, "segmentation"), 0);
  g_assert_cmpuint (json_array_get_length (segmentation), ==, 8);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (a, "area"), 200, 1e-9);

  /* Mask: RLE over the image, column-major: pixels (2, 3) and (3, 3). */
  for (guint i = 0; i < json_array_get_length (annotations); i++)
    {
      JsonNode *seg = json_object_get_member (json_array_get_object_element (annotations, i), "segmentation");

      if (JSON_NODE_HOLDS_OBJECT (seg))
        rle = json_node_get_object (seg);
    }
  g_assert_nonnull (rle);
  g_assert_cmpint (json_array_get_int_element (json_object_get_array_member (rle, "size"), 0), ==, 64);
  {
    g_autoptr(GArray) counts = kp_coco_rle_decode (json_object_get_string_member (rle, "counts"));

    g_assert_cmpuint (counts->len, ==, 5);
    g_assert_cmpuint (g_array_index (counts, guint32, 0), ==, 2 * 64 + 3);
    g_assert_cmpuint (g_array_index (counts, guint32, 1), ==, 1);
    g_assert_cmpuint (g_array_index (counts, guint32, 2), ==, 63);
    g_assert_cmpuint (g_array_index (counts, guint32, 3), ==, 1);
  }

  /* The point: a keypoint of its category. */
  a = find_annotation_with (annotations, "keypoints");
  keypoints = json_object_get_array_member (a, "keypoints");
  g_assert_cmpuint (json_array_get_length (keypoints), ==, 3);
  g_assert_cmpfloat (json_array_get_double_element (keypoints, 0), ==, 7);
  g_assert_cmpint (json_array_get_int_element (keypoints, 2), ==, 2);
  categories = json_object_get_array_member (root, "categories");
  keypoints = json_object_get_array_member (json_array_get_object_element (categories, 0), "keypoints");
  g_assert_cmpuint (json_array_get_length (keypoints), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (keypoints, 0), ==, "wheel");
  g_assert_false (json_object_has_member (json_array_get_object_element (categories, 1), "keypoints"));

  /* With the pending suggestion. */
  g_clear_pointer (&report, kp_export_report_free);
  report = kp_export_full (fixture->store, KP_EXPORT_FORMAT_COCO, output, KP_EXPORT_FLAGS_INCLUDE_PENDING,
                           NULL, &error);
  g_assert_cmpuint (report->n_pending, ==, 0);
  g_assert_cmpuint (report->n_objects, ==, 4 + 6);
}

static void
test_voc_yolo_shapes (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autofree char *voc_dir = g_build_filename (fixture->out, "voc", NULL);
  g_autofree char *yolo_dir = g_build_filename (fixture->out, "yolo", NULL);
  g_autofree char *voc_c = g_build_filename (voc_dir, "c.xml", NULL);
  g_autofree char *yolo_c = g_build_filename (yolo_dir, "labels", "c.txt", NULL);
  g_autofree char *text = NULL;
  g_autoptr(KpExportReport) report = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;

  add_shapes (fixture);
  report = kp_export_full (fixture->store, KP_EXPORT_FORMAT_VOC, voc_dir, KP_EXPORT_FLAGS_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (voc_c, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "<robndbox>"));
  g_assert_nonnull (strstr (text, "<cx>32</cx>"));
  g_assert_nonnull (strstr (text, "<w>20</w>"));
  g_assert_cmpuint (report->warnings->len, ==, 5);   /* polygon, line, point, mask, pending */
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&report, kp_export_report_free);

  report = kp_export_full (fixture->store, KP_EXPORT_FORMAT_YOLO, yolo_dir, KP_EXPORT_FLAGS_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (yolo_c, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  /* The rotated box as 4 corners and the triangle: 1 + 8 and 1 + 6 numbers. */
  g_assert_cmpuint (g_strv_length (lines), ==, 3);
  {
    g_auto(GStrv) first = g_strsplit (lines[0], " ", -1);
    g_auto(GStrv) second = g_strsplit (lines[1], " ", -1);

    g_assert_cmpuint (g_strv_length (first), ==, 9);
    g_assert_cmpuint (g_strv_length (second), ==, 7);
    g_assert_cmpstr (second[1], ==, "0.015625");
  }
  g_assert_cmpuint (report->warnings->len, ==, 5);   /* rotated (converted), line, point, mask, pending */
}

static void
test_missing_size (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *output = g_build_filename (fixture->out, "coco.json", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;

  /* An old export stays as it is when a new one fails... */
  kp_test_write (fixture->out, "coco.json", "old", -1);
  annotate (fixture, "nosize.png", 0, (KpRect) { 1, 1, 1, 1 });

  g_assert_false (kp_export (fixture->store, KP_EXPORT_FORMAT_COCO, output, NULL, &error));
  g_assert_error (error, KP_EXPORT_ERROR, KP_EXPORT_ERROR_MISSING_SIZE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "nosize.png"));
  g_clear_error (&error);
  g_assert_true (g_file_get_contents (output, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "old");

  g_assert_false (kp_export (fixture->store, KP_EXPORT_FORMAT_VOC, fixture->out, NULL, &error));
  g_assert_error (error, KP_EXPORT_ERROR, KP_EXPORT_ERROR_MISSING_SIZE);
  g_clear_error (&error);
  {
    static const char * const only_old[] = { "coco.json", NULL };

    assert_files (fixture->out, only_old);
  }

  /* ...and is replaced when it succeeds, leaving no temporary file. */
  set_size (fixture, "nosize.png", 8, 8);
  g_assert_true (kp_export (fixture->store, KP_EXPORT_FORMAT_COCO, output, NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&contents, g_free);
  g_assert_true (g_file_get_contents (output, &contents, NULL, NULL));
  g_assert_cmpuint (strlen (contents), >, 100);
  g_assert_true (contents[0] == '{');
  {
    static const char * const only_new[] = { "coco.json", NULL };

    assert_files (fixture->out, only_new);
  }
}

static void
test_unwritable (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *blocker = g_build_filename (fixture->out, "file", NULL);
  g_autofree char *below = g_build_filename (blocker, "coco.json", NULL);
  g_autofree char *contents = NULL;
  static const char * const only_blocker[] = { "file", NULL };

  kp_test_write (fixture->out, "file", "keep", -1);

  /* A path under a regular file cannot be written, even by root. */
  g_assert_false (kp_export (fixture->store, KP_EXPORT_FORMAT_COCO, below, NULL, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_clear_error (&error);

  g_assert_false (kp_export (fixture->store, KP_EXPORT_FORMAT_YOLO, blocker, NULL, &error));
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_clear_error (&error);

  g_assert_false (kp_export (fixture->store, KP_EXPORT_FORMAT_VOC, below, NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* COCO into a folder. */
  g_assert_false (kp_export (fixture->store, KP_EXPORT_FORMAT_COCO, fixture->out, NULL, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_ISDIR);
  g_clear_error (&error);

  assert_files (fixture->out, only_blocker);
  g_assert_true (g_file_get_contents (blocker, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "keep");

  /* A read-only folder, where permissions apply. */
  if (g_chmod (fixture->out, 0555) == 0 && g_access (fixture->out, W_OK) != 0)
    {
      g_autofree char *inside = g_build_filename (fixture->out, "coco.json", NULL);

      g_assert_false (kp_export (fixture->store, KP_EXPORT_FORMAT_COCO, inside, NULL, &error));
      g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_ACCES);
      g_clear_error (&error);
      g_chmod (fixture->out, 0755);
      assert_files (fixture->out, only_blocker);
    }
  else
    {
      g_chmod (fixture->out, 0755);
      g_test_message ("Running as root: a chmod 0555 folder stays writable, "
                      "so only the path-under-a-file case was checked.");
    }
}

static void
test_cancelled (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  static const char * const none[] = { NULL };

  g_cancellable_cancel (cancellable);
  g_assert_false (kp_export (fixture->store, KP_EXPORT_FORMAT_YOLO, fixture->out, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  assert_files (fixture->out, none);
}

static void
test_ground_truth (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autofree char *manifest = g_build_filename (fixture->out, "output.manifest", NULL);
  g_autofree char *maps = g_build_filename (fixture->out, "label-maps", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(KpExportReport) report = NULL;
  g_autoptr(GPtrArray) media = exported_media (fixture);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  guint n_boxes = 0;

  report = kp_export_full (fixture->store, KP_EXPORT_FORMAT_GROUND_TRUTH, fixture->out,
                           KP_EXPORT_FLAGS_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (report->warnings->len, ==, 0);
  g_assert_true (g_file_get_contents (manifest, &contents, NULL, &error));
  /* Boxes only: no label maps. */
  g_assert_false (g_file_test (maps, G_FILE_TEST_EXISTS));

  lines = g_strsplit (contents, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, media->len + 1);
  g_assert_cmpstr (lines[media->len], ==, "");

  for (guint i = 0; i < media->len; i++)
    {
      const KpMedia *m = media->pdata[i];
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autofree char *source = g_build_filename (fixture->folder, m->path, NULL);
      g_autoptr(GPtrArray) annotations = kp_store_list_annotations (fixture->store, m->id, NULL);
      JsonObject *line, *boxes, *metadata, *size;
      JsonArray *list, *objects;

      json_parser_load_from_data (parser, lines[i], -1, &error);
      g_assert_no_error (error);
      line = json_node_get_object (json_parser_get_root (parser));
      g_assert_cmpstr (json_object_get_string_member (line, "source-ref"), ==, source);
      g_assert_false (json_object_has_member (line, "kempelen-segmentation"));

      boxes = json_object_get_object_member (line, "kempelen-boxes");
      size = json_array_get_object_element (json_object_get_array_member (boxes, "image_size"), 0);
      g_assert_cmpint (json_object_get_int_member (size, "width"), ==, m->width);
      g_assert_cmpint (json_object_get_int_member (size, "height"), ==, m->height);

      metadata = json_object_get_object_member (line, "kempelen-boxes-metadata");
      g_assert_cmpstr (json_object_get_string_member (metadata, "type"), ==, "groundtruth/object-detection");
      g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (metadata, "class-map"), "1"),
                       ==, ODD_NAME);
      g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (metadata, "class-map"), "2"),
                       ==, XML_NAME);

      list = json_object_get_array_member (boxes, "annotations");
      objects = json_object_get_array_member (metadata, "objects");
      g_assert_cmpuint (json_array_get_length (list), ==, annotations->len);
      g_assert_cmpuint (json_array_get_length (objects), ==, annotations->len);
      for (guint j = 0; j < annotations->len; j++)
        {
          const KpAnnotation *a = annotations->pdata[j];
          JsonObject *box = json_array_get_object_element (list, j);

          /* Exact pixels, and people's boxes have confidence 1. */
          g_assert_cmpint (json_object_get_int_member (box, "class_id"), ==, label_index (fixture, a->label_id));
          g_assert_cmpfloat (json_object_get_double_member (box, "left"), ==, a->rect.x);
          g_assert_cmpfloat (json_object_get_double_member (box, "top"), ==, a->rect.y);
          g_assert_cmpfloat (json_object_get_double_member (box, "width"), ==, a->rect.width);
          g_assert_cmpfloat (json_object_get_double_member (box, "height"), ==, a->rect.height);
          g_assert_cmpfloat (json_object_get_double_member (json_array_get_object_element (objects, j),
                                                            "confidence"), ==, 1.0);
          n_boxes++;
        }
    }
  g_assert_cmpuint (n_boxes, ==, 4);
  g_assert_cmpuint (report->n_objects, ==, 4);
}

static void
test_formats (void)
{
  KpExportFormat format = KP_EXPORT_FORMAT_VOC;

  g_assert_true (kp_export_format_from_string ("COCO", &format));
  g_assert_cmpint (format, ==, KP_EXPORT_FORMAT_COCO);
  g_assert_true (kp_export_format_from_string ("yolo", &format));
  g_assert_cmpint (format, ==, KP_EXPORT_FORMAT_YOLO);
  g_assert_true (kp_export_format_from_string ("Voc", &format));
  g_assert_cmpint (format, ==, KP_EXPORT_FORMAT_VOC);
  g_assert_false (kp_export_format_from_string ("csv", &format));
  g_assert_cmpint (format, ==, KP_EXPORT_FORMAT_VOC);
  g_assert_cmpstr (kp_export_format_to_string (KP_EXPORT_FORMAT_COCO), ==, "coco");
  g_assert_cmpstr (kp_export_format_to_string (KP_EXPORT_FORMAT_VOC), ==, "voc");
  g_assert_cmpstr (kp_export_format_to_string (KP_EXPORT_FORMAT_YOLO), ==, "yolo");
  g_assert_null (kp_export_format_to_string ((KpExportFormat)42));
  g_assert_true (kp_export_format_from_string ("gt-manifest", &format));
  g_assert_cmpint (format, ==, KP_EXPORT_FORMAT_GROUND_TRUTH);
  g_assert_cmpstr (kp_export_format_to_string (KP_EXPORT_FORMAT_GROUND_TRUTH), ==, "groundtruth");
  g_assert_true (kp_export_format_from_string ("labelmap", &format));
  g_assert_cmpint (format, ==, KP_EXPORT_FORMAT_LABEL_MAP);
}

static void
test_unknown_format (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (kp_export (fixture->store, (KpExportFormat)42, fixture->out, NULL, &error));
  g_assert_error (error, KP_EXPORT_ERROR, KP_EXPORT_ERROR_UNKNOWN_FORMAT);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func) \
  g_test_add ("/kempelen/core/export/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("coco", test_coco);
  ADD ("voc", test_voc);
  ADD ("yolo", test_yolo);
  ADD ("missing-size", test_missing_size);
  ADD ("unwritable", test_unwritable);
  ADD ("cancelled", test_cancelled);
  ADD ("unknown-format", test_unknown_format);
  g_test_add_func ("/kempelen/core/export/formats", test_formats);
  ADD ("coco-shapes", test_coco_shapes);
  ADD ("voc-yolo-shapes", test_voc_yolo_shapes);
  ADD ("ground-truth", test_ground_truth);

#undef ADD

  return g_test_run ();
}
