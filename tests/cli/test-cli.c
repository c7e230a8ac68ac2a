/* test-cli.c: the built kempelenctl on generated projects
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <sqlite3.h>

#include "kp-core.h"
#include "kp-media.h"
#include "../kp-test-privileges.h"

#define assert_ok(expr) \
  G_STMT_START { \
    gboolean ok_ = (expr); \
    g_assert_no_error (error); \
    g_assert_true (ok_); \
  } G_STMT_END

/* A label name with quotes, a slash and non-ASCII letters, which every
 * format must carry through unchanged. */
#define ODD_LABEL "Hund \"groß\"/chien <é>"

typedef struct
{
  const char *path;
  const char *label;
  KpRect      rect;
} ExpectedBox;

static const ExpectedBox expected_boxes[] = {
  { "a.png", "cat", { 10, 20, 30, 40 } },
  { "a.png", ODD_LABEL, { 50.5, 10.25, 100, 60 } },
  { "sub/c.png", ODD_LABEL, { 0, 0, 80, 60 } },
};

typedef struct
{
  const char *path;
  int         width;
  int         height;
} ExpectedImage;

static const ExpectedImage expected_images[] = {
  { "a.png", 200, 100 },
  { "b.png", 64, 48 },
  { "sub/c.png", 80, 60 },
};

/* Fixtures */

static void
write_png (const char *folder,
           const char *relative,
           int         width,
           int         height)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  g_autofree char *path = g_build_filename (folder, relative, NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  gdk_pixbuf_fill (pixbuf, 0x4080c0ff);
  gdk_pixbuf_save (pixbuf, path, "png", &error, NULL);
  g_assert_no_error (error);
}

static const KpMedia *
find_media (GPtrArray  *list,
            const char *path)
{
  for (guint i = 0; i < list->len; i++)
    {
      const KpMedia *media = g_ptr_array_index (list, i);

      if (g_str_equal (media->path, path))
        return media;
    }

  return NULL;
}

/* Makes a project folder with three images, two labels and three boxes,
 * through the core store API, and closes the store again. */
static char *
make_project (void)
{
  char *folder = g_build_filename (g_get_user_data_dir (), "project", NULL);
  g_autoptr(KpStore) store = NULL;
  g_autoptr(GPtrArray) media = NULL;
  g_autoptr(GError) error = NULL;
  gint64 cat;
  gint64 dog;

  for (guint i = 0; i < G_N_ELEMENTS (expected_images); i++)
    write_png (folder, expected_images[i].path, expected_images[i].width, expected_images[i].height);

  store = kp_store_open (folder, &error);
  g_assert_no_error (error);
  assert_ok (kp_store_scan (store, NULL, &error));
  assert_ok (kp_media_ensure_info (store, NULL, &error));

  cat = kp_store_add_label (store, "cat", "#ff0000", 1, &error);
  g_assert_no_error (error);
  dog = kp_store_add_label (store, ODD_LABEL, "#00ff00", 2, &error);
  g_assert_no_error (error);

  media = kp_store_list_media (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (media->len, ==, G_N_ELEMENTS (expected_images));

  for (guint i = 0; i < G_N_ELEMENTS (expected_boxes); i++)
    {
      const KpMedia *m = find_media (media, expected_boxes[i].path);
      KpAnnotation annotation = { 0 };

      g_assert_nonnull (m);
      annotation.media_id = m->id;
      annotation.label_id = g_str_equal (expected_boxes[i].label, "cat") ? cat : dog;
      annotation.shape = KP_SHAPE_BOX;
      annotation.rect = expected_boxes[i].rect;
      g_assert_cmpint (kp_store_add_annotation (store, &annotation, &error), >, 0);
      g_assert_no_error (error);
    }

  g_assert_finalize_object (g_steal_pointer (&store));

  return folder;
}

static char *
dup_database_path (const char *folder)
{
  return g_build_filename (folder, KP_STORE_DIRNAME, KP_STORE_FILENAME, NULL);
}

static GBytes *
read_bytes (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *data = NULL;
  gsize len = 0;

  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (data, len);
}

/* Running kempelenctl */

static char *
dup_ctl_path (void)
{
  const char *build_root = g_getenv ("KP_BUILD_ROOT");

  g_assert_nonnull (build_root);
  return g_build_filename (build_root, "src", "cli", "kempelenctl", NULL);
}

/* Runs kempelenctl with the given arguments (NULL-terminated) and returns
 * its exit status; out and err receive stdout and stderr. */
static int
run_ctl (char       **out,
         char       **err,
         const char  *first_arg,
         ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *stdout_text = NULL;
  g_autofree char *stderr_text = NULL;
  const char *arg;
  va_list args;

  g_ptr_array_add (argv, dup_ctl_path ());
  va_start (args, first_arg);
  for (arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (args);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char * const *)argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                               &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &stdout_text, &stderr_text, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));

  g_test_message ("kempelenctl exited with %d; stdout: %s; stderr: %s",
                  g_subprocess_get_exit_status (process), stdout_text, stderr_text);

  if (out != NULL)
    *out = g_steal_pointer (&stdout_text);
  if (err != NULL)
    *err = g_steal_pointer (&stderr_text);

  return g_subprocess_get_exit_status (process);
}

static void
assert_failure (int         status,
                int         expected_status,
                const char *out,
                const char *err,
                const char *mentions)
{
  g_assert_cmpint (status, ==, expected_status);
  g_assert_cmpstr (out, ==, "");
  g_assert_true (g_str_has_prefix (err, "kempelenctl: "));
  /* One line, a sentence for people. */
  g_assert_cmpuint (strlen (err), >, strlen ("kempelenctl: ") + 10);
  g_assert_true (g_str_has_suffix (err, "\n"));
  g_assert_true (strchr (err, '\n') == err + strlen (err) - 1);
  if (mentions != NULL)
    g_assert_nonnull (strstr (err, mentions));
}

/* `kempelenctl export` into output fails with exit status 1 and one line
 * on stderr that mentions the given text (when not NULL). */
static void
assert_export_fails (const char *project,
                     const char *format,
                     const char *output,
                     const char *mentions)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  status = run_ctl (&out, &err, "export", "--project", project, "--format", format,
                    "--output", output, NULL);
  assert_failure (status, 1, out, err, mentions);
}

static const ExpectedImage *
find_expected_image (const char *path)
{
  for (guint i = 0; i < G_N_ELEMENTS (expected_images); i++)
    if (g_str_equal (expected_images[i].path, path))
      return &expected_images[i];

  g_assert_not_reached ();
  return NULL;
}

/* Each expected box must be found exactly once among the exported ones. */
typedef struct
{
  char   *path;
  char   *label;
  KpRect  rect;
} FoundBox;

static void
found_box_clear (gpointer data)
{
  FoundBox *box = data;

  g_free (box->path);
  g_free (box->label);
}

static void
assert_boxes_match (GArray *found,
                    double  tolerance)
{
  g_assert_cmpuint (found->len, ==, G_N_ELEMENTS (expected_boxes));

  for (guint i = 0; i < G_N_ELEMENTS (expected_boxes); i++)
    {
      const ExpectedBox *e = &expected_boxes[i];
      guint matches = 0;

      for (guint j = 0; j < found->len; j++)
        {
          const FoundBox *f = &g_array_index (found, FoundBox, j);

          if (g_str_equal (f->path, e->path) &&
              g_str_equal (f->label, e->label) &&
              fabs (f->rect.x - e->rect.x) <= tolerance &&
              fabs (f->rect.y - e->rect.y) <= tolerance &&
              fabs (f->rect.width - e->rect.width) <= tolerance &&
              fabs (f->rect.height - e->rect.height) <= tolerance)
            matches++;
        }

      if (matches != 1)
        g_test_message ("Box %u (%s, %s, %g,%g %gx%g) found %u times",
                        i, e->path, e->label, e->rect.x, e->rect.y, e->rect.width, e->rect.height,
                        matches);
      g_assert_cmpuint (matches, ==, 1);
    }
}

static GArray *
new_found_boxes (void)
{
  GArray *found = g_array_new (FALSE, TRUE, sizeof (FoundBox));

  g_array_set_clear_func (found, found_box_clear);
  return found;
}

/* export: COCO */

static void
test_export_coco (void)
{
  g_autofree char *folder = make_project ();
  g_autofree char *output = g_build_filename (g_get_user_data_dir (), "out.json", NULL);
  g_autofree char *expected_out = g_strdup_printf ("Exported 3 images, 3 objects to %s\n", output);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GHashTable) image_paths = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autoptr(GHashTable) category_names = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  g_autoptr(GArray) found = new_found_boxes ();
  g_autoptr(GError) error = NULL;
  JsonObject *root;
  JsonArray *images;
  JsonArray *categories;
  JsonArray *annotations;

  g_assert_cmpint (run_ctl (&out, &err, "export", "--project", folder, "--format", "coco",
                            "--output", output, NULL), ==, 0);
  g_assert_cmpstr (out, ==, expected_out);
  g_assert_cmpstr (err, ==, "");

  json_parser_load_from_file (parser, output, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));

  images = json_object_get_array_member (root, "images");
  g_assert_cmpuint (json_array_get_length (images), ==, G_N_ELEMENTS (expected_images));
  for (guint i = 0; i < json_array_get_length (images); i++)
    {
      JsonObject *image = json_array_get_object_element (images, i);
      const char *file_name = json_object_get_string_member (image, "file_name");
      const ExpectedImage *e = find_expected_image (file_name);

      g_assert_cmpint (json_object_get_int_member (image, "width"), ==, e->width);
      g_assert_cmpint (json_object_get_int_member (image, "height"), ==, e->height);
      g_hash_table_insert (image_paths,
                           g_memdup2 (&(gint64) { json_object_get_int_member (image, "id") }, sizeof (gint64)),
                           (gpointer)file_name);
    }

  categories = json_object_get_array_member (root, "categories");
  g_assert_cmpuint (json_array_get_length (categories), ==, 2);
  for (guint i = 0; i < json_array_get_length (categories); i++)
    {
      JsonObject *category = json_array_get_object_element (categories, i);

      g_hash_table_insert (category_names,
                           g_memdup2 (&(gint64) { json_object_get_int_member (category, "id") }, sizeof (gint64)),
                           (gpointer)json_object_get_string_member (category, "name"));
    }

  annotations = json_object_get_array_member (root, "annotations");
  for (guint i = 0; i < json_array_get_length (annotations); i++)
    {
      JsonObject *annotation = json_array_get_object_element (annotations, i);
      JsonArray *bbox = json_object_get_array_member (annotation, "bbox");
      gint64 image_id = json_object_get_int_member (annotation, "image_id");
      gint64 category_id = json_object_get_int_member (annotation, "category_id");
      FoundBox box;

      g_assert_cmpuint (json_array_get_length (bbox), ==, 4);
      box.path = g_strdup (g_hash_table_lookup (image_paths, &image_id));
      box.label = g_strdup (g_hash_table_lookup (category_names, &category_id));
      g_assert_nonnull (box.path);
      g_assert_nonnull (box.label);
      box.rect.x = json_array_get_double_element (bbox, 0);
      box.rect.y = json_array_get_double_element (bbox, 1);
      box.rect.width = json_array_get_double_element (bbox, 2);
      box.rect.height = json_array_get_double_element (bbox, 3);
      g_array_append_val (found, box);
    }

  assert_boxes_match (found, 1e-9);
}

/* export: Pascal VOC */

static xmlNode *
child_element (xmlNode    *node,
               const char *name)
{
  for (xmlNode *child = node->children; child != NULL; child = child->next)
    if (child->type == XML_ELEMENT_NODE && g_str_equal ((const char *)child->name, name))
      return child;

  g_test_message ("No <%s> in <%s>", name, (const char *)node->name);
  g_assert_not_reached ();
  return NULL;
}

static char *
child_text (xmlNode    *node,
            const char *name)
{
  xmlChar *content = xmlNodeGetContent (child_element (node, name));
  char *text = g_strdup ((const char *)content);

  xmlFree (content);
  return text;
}

static double
child_number (xmlNode    *node,
              const char *name)
{
  g_autofree char *text = child_text (node, name);

  return g_ascii_strtod (text, NULL);
}

static void
test_export_voc (void)
{
  g_autofree char *folder = make_project ();
  g_autofree char *output = g_build_filename (g_get_user_data_dir (), "voc", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GArray) found = new_found_boxes ();
  const char *files[] = { "a.xml", "b.xml", "sub_c.xml" };

  g_assert_cmpint (run_ctl (&out, &err, "export", "-p", folder, "-f", "VOC", "-o", output, NULL), ==, 0);
  g_assert_true (g_str_has_prefix (out, "Exported 3 images, 3 objects to "));
  g_assert_cmpstr (err, ==, "");

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (output, files[i], NULL);
      g_autofree char *file_name = NULL;
      xmlDoc *doc = xmlReadFile (path, NULL, XML_PARSE_NONET);
      xmlNode *annotation;
      xmlNode *size;
      const ExpectedImage *e;

      g_assert_nonnull (doc);
      annotation = xmlDocGetRootElement (doc);
      g_assert_cmpstr ((const char *)annotation->name, ==, "annotation");
      file_name = child_text (annotation, "filename");
      e = find_expected_image (file_name);
      size = child_element (annotation, "size");
      g_assert_cmpint ((int)child_number (size, "width"), ==, e->width);
      g_assert_cmpint ((int)child_number (size, "height"), ==, e->height);

      for (xmlNode *object = annotation->children; object != NULL; object = object->next)
        {
          xmlNode *bndbox;
          FoundBox box;

          if (object->type != XML_ELEMENT_NODE || !g_str_equal ((const char *)object->name, "object"))
            continue;

          bndbox = child_element (object, "bndbox");
          box.path = g_strdup (file_name);
          box.label = child_text (object, "name");
          /* VOC counts pixels from 1 and its maximum is inclusive. */
          box.rect.x = child_number (bndbox, "xmin") - 1;
          box.rect.y = child_number (bndbox, "ymin") - 1;
          box.rect.width = child_number (bndbox, "xmax") - box.rect.x;
          box.rect.height = child_number (bndbox, "ymax") - box.rect.y;
          g_array_append_val (found, box);
        }

      xmlFreeDoc (doc);
    }

  /* Integer pixels: within rounding of the stored coordinates. */
  assert_boxes_match (found, 1.0);
}

/* export: YOLO */

static void
test_export_yolo (void)
{
  g_autofree char *folder = make_project ();
  g_autofree char *output = g_build_filename (g_get_user_data_dir (), "yolo", NULL);
  g_autofree char *classes_path = g_build_filename (output, "classes.txt", NULL);
  g_autofree char *classes_text = NULL;
  g_auto(GStrv) classes = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GArray) found = new_found_boxes ();
  g_autoptr(GError) error = NULL;
  const char *stems[] = { "a", "b", "sub_c" };

  g_assert_cmpint (run_ctl (&out, &err, "export", "--project", folder, "--format", "yolo",
                            "--output", output, "--quiet", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "");
  g_assert_cmpstr (err, ==, "");

  g_file_get_contents (classes_path, &classes_text, NULL, &error);
  g_assert_no_error (error);
  classes = g_strsplit (classes_text, "\n", -1);
  g_assert_cmpstr (classes[0], ==, "cat");
  g_assert_cmpstr (classes[1], ==, ODD_LABEL);

  for (guint i = 0; i < G_N_ELEMENTS (stems); i++)
    {
      g_autofree char *name = g_strconcat (stems[i], ".txt", NULL);
      g_autofree char *path = g_build_filename (output, "labels", name, NULL);
      g_autofree char *text = NULL;
      g_auto(GStrv) lines = NULL;
      const char *image_path = i == 2 ? "sub/c.png" : i == 1 ? "b.png" : "a.png";
      const ExpectedImage *e = find_expected_image (image_path);

      g_file_get_contents (path, &text, NULL, &error);
      g_assert_no_error (error);
      lines = g_strsplit (text, "\n", -1);

      for (guint j = 0; lines[j] != NULL; j++)
        {
          g_auto(GStrv) fields = NULL;
          guint64 class;
          double cx, cy, w, h;
          FoundBox box;

          if (lines[j][0] == '\0')
            continue;

          fields = g_strsplit (lines[j], " ", -1);
          g_assert_cmpuint (g_strv_length (fields), ==, 5);
          class = g_ascii_strtoull (fields[0], NULL, 10);
          g_assert_cmpuint (class, <, 2);
          cx = g_ascii_strtod (fields[1], NULL);
          cy = g_ascii_strtod (fields[2], NULL);
          w = g_ascii_strtod (fields[3], NULL);
          h = g_ascii_strtod (fields[4], NULL);

          box.path = g_strdup (image_path);
          box.label = g_strdup (classes[class]);
          box.rect.x = (cx - w / 2) * e->width;
          box.rect.y = (cy - h / 2) * e->height;
          box.rect.width = w * e->width;
          box.rect.height = h * e->height;
          g_array_append_val (found, box);
        }
    }

  /* Six decimals of a fraction of at most 200 pixels. */
  assert_boxes_match (found, 1e-3);
}

/* export: bad images are named on stderr and left out */

static void
test_export_broken_image (void)
{
  g_autofree char *folder = make_project ();
  g_autofree char *text = g_build_filename (folder, "notes.jpg", NULL);
  g_autofree char *output = g_build_filename (g_get_user_data_dir (), "out.json", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;

  g_file_set_contents (text, "not a picture", -1, &error);
  g_assert_no_error (error);

  g_assert_cmpint (run_ctl (&out, &err, "export", "--project", folder, "--format", "coco",
                            "--output", output, NULL), ==, 0);
  g_assert_true (g_str_has_prefix (out, "Exported 3 images, 3 objects to "));
  g_assert_true (g_str_has_prefix (err, "kempelenctl: "));
  g_assert_nonnull (strstr (err, "“notes.jpg” is not an image"));
  g_assert_true (g_file_test (output, G_FILE_TEST_IS_REGULAR));
}

/* status */

static void
test_status (void)
{
  g_autofree char *folder = make_project ();
  g_autofree char *broken = g_build_filename (folder, "broken.png", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *root;
  JsonArray *broken_images;

  g_file_set_contents (broken, "", 0, &error);
  g_assert_no_error (error);

  g_assert_cmpint (run_ctl (&out, &err, "status", "--project", folder, "--json", NULL), ==, 0);
  g_assert_cmpstr (err, ==, "");

  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (root, "project"), ==, "project");
  g_assert_cmpint (json_object_get_int_member (root, "images"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (root, "in_progress"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (root, "todo"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (root, "done"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (root, "broken"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (root, "missing"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (root, "labels"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (root, "boxes"), ==, 3);
  broken_images = json_object_get_array_member (root, "broken_images");
  g_assert_cmpuint (json_array_get_length (broken_images), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (broken_images, 0), "path"),
                   ==, "broken.png");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* An image that vanished is counted as missing, with its boxes kept. */
  {
    g_autofree char *c = g_build_filename (folder, "sub", "c.png", NULL);
    g_autoptr(JsonParser) parser2 = json_parser_new ();

    g_assert_cmpint (g_remove (c), ==, 0);
    g_assert_cmpint (run_ctl (&out, &err, "status", "-p", folder, "--json", NULL), ==, 0);
    json_parser_load_from_data (parser2, out, -1, &error);
    g_assert_no_error (error);
    root = json_node_get_object (json_parser_get_root (parser2));
    g_assert_cmpint (json_object_get_int_member (root, "missing"), ==, 1);
    g_assert_cmpint (json_object_get_int_member (root, "in_progress"), ==, 1);
    g_assert_cmpint (json_object_get_int_member (root, "boxes"), ==, 3);
    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
  }

  /* Text for people. */
  g_assert_cmpint (run_ctl (&out, &err, "status", "--project", folder, NULL), ==, 0);
  g_assert_cmpstr (err, ==, "");
  g_assert_nonnull (strstr (out, "Images:       4\n"));
  g_assert_nonnull (strstr (out, "Objects:      3\n"));
  g_assert_nonnull (strstr (out, "Missing:      1\n"));
  g_assert_nonnull (strstr (out, "broken.png"));
}

/* Bad input */

static void
test_missing_folder (void)
{
  g_autofree char *folder = g_build_filename (g_get_user_data_dir (), "no-such-folder", NULL);
  g_autofree char *output = g_build_filename (g_get_user_data_dir (), "out.json", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  assert_export_fails (folder, "coco", output, "no-such-folder");
  g_assert_false (g_file_test (folder, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (output, G_FILE_TEST_EXISTS));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  status = run_ctl (&out, &err, "status", "--project", folder, NULL);
  assert_failure (status, 1, out, err, "no-such-folder");
}

static void
test_file_as_folder (void)
{
  g_autofree char *folder = make_project ();
  g_autofree char *file = g_build_filename (folder, "a.png", NULL);
  g_autofree char *output = g_build_filename (g_get_user_data_dir (), "out.json", NULL);
  g_autoptr(GBytes) before = read_bytes (file);
  g_autoptr(GBytes) after = NULL;

  assert_export_fails (file, "coco", output, "a.png");
  g_assert_false (g_file_test (output, G_FILE_TEST_EXISTS));

  after = read_bytes (file);
  g_assert_true (g_bytes_equal (before, after));
}

static void
set_user_version (const char *database,
                  int         version)
{
  g_autofree char *sql = g_strdup_printf ("PRAGMA user_version = %d", version);
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (database, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_close (db), ==, SQLITE_OK);
}

/* Runs export and status on a project whose database the store must
 * refuse, and checks that the database is left exactly as it was. */
static void
assert_refused_untouched (const char *folder,
                          const char *mentions)
{
  g_autofree char *database = dup_database_path (folder);
  g_autofree char *output = g_build_filename (g_get_user_data_dir (), "refused.json", NULL);
  g_autoptr(GBytes) before = read_bytes (database);
  g_autoptr(GBytes) after = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  assert_export_fails (folder, "coco", output, mentions);
  g_assert_false (g_file_test (output, G_FILE_TEST_EXISTS));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  status = run_ctl (&out, &err, "status", "--project", folder, "--json", NULL);
  assert_failure (status, 1, out, err, mentions);

  after = read_bytes (database);
  g_assert_true (g_bytes_equal (before, after));
}

static void
test_too_new_database (void)
{
  g_autofree char *folder = make_project ();
  g_autofree char *database = dup_database_path (folder);

  set_user_version (database, KP_STORE_SCHEMA_VERSION + 7);
  assert_refused_untouched (folder, "newer version");
}

static void
test_corrupt_database (void)
{
  g_autofree char *folder = make_project ();
  g_autofree char *database = dup_database_path (folder);
  g_autoptr(GError) error = NULL;
  g_autofree char *junk = NULL;
  GString *data = g_string_new (NULL);

  /* Not a database at all. */
  g_file_set_contents (database, "This is not a database, just some words.\n", -1, &error);
  g_assert_no_error (error);
  assert_refused_untouched (folder, "damaged");

  /* SQLite's header followed by garbage. */
  g_string_append_len (data, "SQLite format 3\0", 16);
  for (guint i = 0; i < 8192; i++)
    g_string_append_c (data, (char)(g_test_rand_int () & 0xff));
  junk = g_string_free (data, FALSE);
  g_file_set_contents (database, junk, 16 + 8192, &error);
  g_assert_no_error (error);
  assert_refused_untouched (folder, "damaged");
}

static void
test_unwritable_output (void)
{
  g_autofree char *folder = make_project ();
  g_autofree char *database = dup_database_path (folder);
  g_autofree char *first = g_build_filename (g_get_user_data_dir (), "first.json", NULL);
  g_autofree char *blocker = g_build_filename (g_get_user_data_dir (), "blocker", NULL);
  g_autofree char *below_file = g_build_filename (blocker, "out.json", NULL);
  g_autoptr(GBytes) before = NULL;
  g_autoptr(GBytes) after = NULL;
  g_autoptr(GError) error = NULL;

  /* A first export brings the database up to date with the folder. */
  g_assert_cmpint (run_ctl (NULL, NULL, "export", "-p", folder, "-f", "coco", "-o", first, NULL), ==, 0);
  before = read_bytes (database);

  g_file_set_contents (blocker, "a file, not a folder", -1, &error);
  g_assert_no_error (error);

  assert_export_fails (folder, "coco", below_file, "blocker");

  assert_export_fails (folder, "yolo", blocker, "blocker");

  /* COCO needs a file, not a folder. */
  assert_export_fails (folder, "coco", g_get_user_data_dir (), NULL);

  after = read_bytes (database);
  g_assert_true (g_bytes_equal (before, after));
}

/* Permissions. These run as root too: kp_test_run_without_dac() runs the
 * test in a child without the capabilities that let root read and write
 * anything, and kempelenctl, started by that child, inherits the drop. */

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_strcmp0 (*(const char * const *)a, *(const char * const *)b);
}

/* The names in a folder, sorted, joined by spaces. */
static char *
dup_listing (const char *folder)
{
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GError) error = NULL;
  const char *name;

  dir = g_dir_open (folder, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);

  return g_strjoinv (" ", (char **)names->pdata);
}

static void
test_unreadable_image (void)
{
  g_autofree char *folder = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *output = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonArray *images;
  JsonObject *root;

  if (!kp_test_run_without_dac ())
    return;

  folder = make_project ();
  output = g_build_filename (g_get_user_data_dir (), "out.json", NULL);
  write_png (folder, "secret.png", 32, 32);
  secret = g_build_filename (folder, "secret.png", NULL);
  g_assert_cmpint (g_chmod (secret, 0), ==, 0);

  /* The others are exported; the unreadable one is named on stderr. */
  g_assert_cmpint (run_ctl (&out, &err, "export", "--project", folder, "--format", "coco",
                            "--output", output, NULL), ==, 0);
  g_assert_true (g_str_has_prefix (out, "Exported 3 images, 3 objects to "));
  g_assert_true (g_str_has_prefix (err, "kempelenctl: "));
  g_assert_nonnull (strstr (err, "secret.png"));
  g_assert_nonnull (strstr (err, "ermission"));

  json_parser_load_from_file (parser, output, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  images = json_object_get_array_member (root, "images");
  g_assert_cmpuint (json_array_get_length (images), ==, 3);
  for (guint i = 0; i < json_array_get_length (images); i++)
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (images, i), "file_name"),
                     !=, "secret.png");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* status counts it as broken and says why. */
  g_assert_cmpint (run_ctl (&out, &err, "status", "--project", folder, NULL), ==, 0);
  g_assert_cmpstr (err, ==, "");
  g_assert_nonnull (strstr (out, "Images:       4\n"));
  g_assert_nonnull (strstr (out, "secret.png"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Readable again, it is exported the next time. */
  g_assert_cmpint (g_chmod (secret, 0644), ==, 0);
  g_assert_cmpint (run_ctl (&out, &err, "export", "--project", folder, "--format", "coco",
                            "--output", output, NULL), ==, 0);
  g_assert_true (g_str_has_prefix (out, "Exported 4 images, 3 objects to "));
  g_assert_cmpstr (err, ==, "");
}

static void
test_read_only_output (void)
{
  g_autofree char *folder = NULL;
  g_autofree char *locked = NULL;
  g_autofree char *first = NULL;
  g_autofree char *database = NULL;
  g_autofree char *coco = NULL;
  g_autofree char *yolo = NULL;
  g_autoptr(GBytes) before = NULL;
  g_autoptr(GBytes) after = NULL;
  g_autofree char *listing = NULL;

  if (!kp_test_run_without_dac ())
    return;

  folder = make_project ();
  database = dup_database_path (folder);
  first = g_build_filename (g_get_user_data_dir (), "first.json", NULL);
  locked = g_build_filename (g_get_user_data_dir (), "locked", NULL);
  coco = g_build_filename (locked, "out.json", NULL);
  yolo = g_build_filename (locked, "yolo", NULL);
  g_assert_cmpint (g_mkdir (locked, 0555), ==, 0);
  g_assert_cmpint (g_chmod (locked, 0555), ==, 0);
  g_assert_cmpint (g_access (locked, W_OK), !=, 0);

  /* A first export brings the database up to date with the folder. */
  g_assert_cmpint (run_ctl (NULL, NULL, "export", "-p", folder, "-f", "coco", "-o", first, NULL), ==, 0);
  before = read_bytes (database);

  assert_export_fails (folder, "coco", coco, "locked");

  assert_export_fails (folder, "yolo", yolo, "locked");

  /* Into the read-only folder itself. */
  assert_export_fails (folder, "voc", locked, "locked");

  /* Nothing half-written, and the database is as it was. */
  listing = dup_listing (locked);
  g_assert_cmpstr (listing, ==, "");
  after = read_bytes (database);
  g_assert_true (g_bytes_equal (before, after));

  g_assert_cmpint (g_chmod (locked, 0755), ==, 0);
}

static void
test_read_only_project (void)
{
  g_autofree char *folder = NULL;
  g_autofree char *inside_dir = NULL;
  g_autofree char *database = NULL;
  g_autofree char *beside = NULL;
  g_autofree char *output = NULL;
  g_autofree char *expected_out = NULL;
  g_autofree char *listing_before = NULL;
  g_autofree char *listing_after = NULL;
  g_autofree char *inside_before = NULL;
  g_autofree char *inside_after = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GBytes) before = NULL;
  g_autoptr(GBytes) after = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *root;

  if (!kp_test_run_without_dac ())
    return;

  folder = make_project ();
  inside_dir = g_build_filename (folder, KP_STORE_DIRNAME, NULL);
  database = dup_database_path (folder);
  beside = g_build_filename (g_get_user_data_dir (), "project.kempelen", KP_STORE_FILENAME, NULL);
  output = g_build_filename (g_get_user_data_dir (), "out.json", NULL);
  before = read_bytes (database);

  g_assert_cmpint (g_chmod (database, 0444), ==, 0);
  g_assert_cmpint (g_chmod (inside_dir, 0555), ==, 0);
  g_assert_cmpint (g_chmod (folder, 0555), ==, 0);
  g_assert_cmpint (g_access (folder, W_OK), !=, 0);
  listing_before = dup_listing (folder);
  inside_before = dup_listing (inside_dir);

  g_assert_cmpint (run_ctl (&out, &err, "export", "--project", folder, "--format", "coco",
                            "--output", output, NULL), ==, 0);
  expected_out = g_strdup_printf ("Exported 3 images, 3 objects to %s\n", output);
  g_assert_cmpstr (out, ==, expected_out);
  g_assert_cmpstr (err, ==, "");
  g_assert_true (g_file_test (beside, G_FILE_TEST_IS_REGULAR));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_ctl (&out, &err, "status", "--project", folder, "--json", NULL), ==, 0);
  g_assert_cmpstr (err, ==, "");
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpint (json_object_get_int_member (root, "images"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (root, "labels"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (root, "boxes"), ==, 3);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* --verbose names where the database is. */
  g_assert_cmpint (run_ctl (&out, &err, "status", "--project", folder, "--verbose", NULL), ==, 0);
  g_assert_nonnull (strstr (err, beside));

  /* The project folder itself is untouched. */
  listing_after = dup_listing (folder);
  inside_after = dup_listing (inside_dir);
  g_assert_cmpstr (listing_after, ==, listing_before);
  g_assert_cmpstr (inside_after, ==, inside_before);
  after = read_bytes (database);
  g_assert_true (g_bytes_equal (before, after));

  g_assert_cmpint (g_chmod (folder, 0755), ==, 0);
  g_assert_cmpint (g_chmod (inside_dir, 0755), ==, 0);
}

/* Usage */

static void
test_usage_errors (void)
{
  g_autofree char *folder = make_project ();
  g_autofree char *output = g_build_filename (g_get_user_data_dir (), "out.json", NULL);
  struct {
    const char *args[8];
    const char *mentions;
  } cases[] = {
    { { NULL }, "--help" },
    { { "frobnicate", NULL }, "frobnicate" },
    { { "--bogus", NULL }, "--bogus" },
    { { "export", NULL }, "--project" },
    { { "export", "--project", folder, "--output", output, NULL }, "--format" },
    { { "export", "--project", folder, "--format", "tiff", "--output", output }, "tiff" },
    { { "export", "--project", folder, "--format", "coco", NULL }, "--output" },
    { { "export", "--project", folder, "--format", "coco", "--output", output, "extra" }, "extra" },
    { { "export", "--nope", NULL }, "--nope" },
    { { "status", NULL }, "--project" },
    { { "help", "frobnicate", NULL }, "frobnicate" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      const char **a = cases[i].args;
      int status;

      status = run_ctl (&out, &err, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], NULL);
      assert_failure (status, 2, out, err, cases[i].mentions);
    }

  /* Nothing was exported by any of them. */
  g_assert_false (g_file_test (output, G_FILE_TEST_EXISTS));
}

static void
test_help (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (run_ctl (&out, &err, "--help", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "export"));
  g_assert_nonnull (strstr (out, "status"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_ctl (&out, &err, "help", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "export"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_ctl (&out, &err, "help", "export", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "kempelenctl export"));
  g_assert_nonnull (strstr (out, "--format"));
  g_assert_nonnull (strstr (out, "--output"));
  g_assert_nonnull (strstr (out, "--project"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_ctl (&out, &err, "export", "--help", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "--format"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_ctl (&out, &err, "status", "--help", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "--json"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_ctl (&out, &err, "--version", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "kempelenctl " PACKAGE_VERSION "\n");
}

int
main (int   argc,
      char *argv[])
{
  kp_test_drop_dac_in_subprocess (argc, argv);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/kempelen/cli/export/coco", test_export_coco);
  g_test_add_func ("/kempelen/cli/export/voc", test_export_voc);
  g_test_add_func ("/kempelen/cli/export/yolo", test_export_yolo);
  g_test_add_func ("/kempelen/cli/export/broken-image", test_export_broken_image);
  g_test_add_func ("/kempelen/cli/status", test_status);
  g_test_add_func ("/kempelen/cli/bad/missing-folder", test_missing_folder);
  g_test_add_func ("/kempelen/cli/bad/file-as-folder", test_file_as_folder);
  g_test_add_func ("/kempelen/cli/bad/too-new-database", test_too_new_database);
  g_test_add_func ("/kempelen/cli/bad/corrupt-database", test_corrupt_database);
  g_test_add_func ("/kempelen/cli/bad/unwritable-output", test_unwritable_output);
  g_test_add_func ("/kempelen/cli/bad/unreadable-image", test_unreadable_image);
  g_test_add_func ("/kempelen/cli/bad/read-only-output", test_read_only_output);
  g_test_add_func ("/kempelen/cli/bad/read-only-project", test_read_only_project);
  g_test_add_func ("/kempelen/cli/usage", test_usage_errors);
  g_test_add_func ("/kempelen/cli/help", test_help);

  return g_test_run ();
}
