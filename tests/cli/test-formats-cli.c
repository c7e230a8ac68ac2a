/* test-formats-cli.c: kempelenctl export and import, round trips through
 * every format with every shape, and bad input
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each test makes a project with boxes, a rotated box, a polygon, a
 * polyline, a keypoint, a mask and an unreviewed suggestion (through the
 * core store), runs the built kempelenctl to export it, checks that the
 * report names exactly what the format cannot hold, imports the files
 * into a fresh project with the same images and compares the geometry.
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "kp-core.h"
#include "kp-media.h"

/* Running kempelenctl */

static int
run_ctlv (char       **out,
          char       **err,
          GPtrArray   *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *stdout_text = NULL;
  g_autofree char *stderr_text = NULL;

  g_ptr_array_add (argv, g_build_filename (g_getenv ("KP_BUILD_ROOT"), "src", "cli", "kempelenctl", NULL));
  for (guint i = 0; i < args->len; i++)
    g_ptr_array_add (argv, g_strdup (args->pdata[i]));
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_newv ((const char * const *)argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
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

G_GNUC_NULL_TERMINATED
static int
run_ctl (char       **out,
         char       **err,
         const char  *first,
         ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  va_list ap;

  va_start (ap, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer)arg);
  va_end (ap);

  return run_ctlv (out, err, args);
}

static JsonObject *
parse_object (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));

  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

/* Projects */

typedef struct
{
  char *src;
  char *dst;
  char *out;
} Fixture;

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

static KpStore *
open_store (const char *folder)
{
  g_autoptr(GError) error = NULL;
  KpStore *store = kp_store_open (folder, &error);

  g_assert_no_error (error);
  g_assert_true (kp_store_scan (store, NULL, &error));
  g_assert_true (kp_media_ensure_info (store, NULL, &error));
  g_assert_no_error (error);

  return store;
}

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
add (KpStore      *store,
     gint64        media_id,
     KpAnnotation *a)
{
  g_autoptr(GError) error = NULL;

  a->media_id = media_id;
  kp_annotation_update_bounds (a);
  g_assert_cmpint (kp_store_add_annotation (store, a, &error), >, 0);
  g_assert_no_error (error);
  kp_annotation_clear (a);
}

/* In img/a.png (100 × 80): a box, a rotated box, a polygon, a mask, a
 * named occluded keypoint, a polyline and a line; in b.png (64 × 48) a box and an
 * unreviewed suggestion with confidence 0.4. */
static void
fill (const char *folder)
{
  g_autoptr(KpStore) store = open_store (folder);
  g_autoptr(GError) error = NULL;
  KpAnnotation a = { 0 };
  gint64 car, person, a_id, b_id;

  car = kp_store_add_label (store, "car", "#ff0000", 0, &error);
  person = kp_store_add_label (store, "person", "#00ff00", 0, &error);
  g_assert_no_error (error);
  a_id = media_id_of (store, "img/a.png");
  b_id = media_id_of (store, "b.png");

  a.label_id = car;
  a.rect = (KpRect) { 10, 20, 30, 15 };
  add (store, a_id, &a);

  a.label_id = car;
  a.shape = KP_SHAPE_ROTATED_BOX;
  a.rotated = (KpRotatedBox) { 50, 40, 20, 10, 0.5 };
  add (store, a_id, &a);

  a.label_id = person;
  a.shape = KP_SHAPE_POLYGON;
  kp_annotation_set_points (&a, (KpPoint[]) { { 60, 10 }, { 90, 12 }, { 80, 30 }, { 62, 25 } }, 4);
  add (store, a_id, &a);

  a.label_id = person;
  a.shape = KP_SHAPE_MASK;
  a.mask = kp_mask_paint_circle (NULL, 20, 60, 6, TRUE);
  add (store, a_id, &a);

  a.label_id = person;
  a.shape = KP_SHAPE_POINT;
  kp_annotation_set_points (&a, (KpPoint[]) { { 33, 44 } }, 1);
  a.keypoint = g_strdup ("nose");
  a.occluded = TRUE;
  add (store, a_id, &a);

  a.label_id = car;
  a.shape = KP_SHAPE_POLYLINE;
  kp_annotation_set_points (&a, (KpPoint[]) { { 1, 1 }, { 5, 9 }, { 9, 2 } }, 3);
  add (store, a_id, &a);

  a.label_id = car;
  a.shape = KP_SHAPE_LINE;
  kp_annotation_set_points (&a, (KpPoint[]) { { 2, 70 }, { 30, 75 } }, 2);
  add (store, a_id, &a);

  a.label_id = person;
  a.rect = (KpRect) { 4, 4, 8, 8 };
  add (store, b_id, &a);

  a.label_id = person;
  a.rect = (KpRect) { 20, 20, 10, 10 };
  a.review = KP_REVIEW_PENDING;
  a.source = g_strdup ("detector");
  a.confidence = 0.4;
  add (store, b_id, &a);

  g_assert_finalize_object (g_steal_pointer (&store));
}

static char *
make_images (const char *name)
{
  char *folder = g_build_filename (g_get_user_data_dir (), name, NULL);

  write_png (folder, "img/a.png", 100, 80);
  write_png (folder, "b.png", 64, 48);

  return folder;
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  fixture->src = make_images ("src");
  fixture->dst = make_images ("dst");
  fixture->out = g_build_filename (g_get_user_data_dir (), "out", NULL);
  g_assert_cmpint (g_mkdir_with_parents (fixture->out, 0755), ==, 0);
  fill (fixture->src);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  g_free (fixture->src);
  g_free (fixture->dst);
  g_free (fixture->out);
}

static GPtrArray *
annotations_of (const char *folder,
                const char *path)
{
  g_autoptr(KpStore) store = open_store (folder);
  g_autoptr(GError) error = NULL;
  GPtrArray *list = kp_store_list_annotations (store, media_id_of (store, path), &error);

  g_assert_no_error (error);
  return list;
}

static char *
label_name (const char *folder,
            gint64      label_id)
{
  g_autoptr(KpStore) store = kp_store_open (folder, NULL);
  g_autoptr(KpLabel) label = kp_store_get_label (store, label_id, NULL);

  g_assert_nonnull (label);
  return g_strdup (label->name);
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

/* Round trips */

typedef struct
{
  const char *format;
  const char *output;         /* under fixture->out */
  const char *input;          /* what to import, under fixture->out */
  const char *cannot_hold;    /* "shape:count:as" (as "-" for left out), comma separated, in shape order */
  guint       n_exported;
  guint       n_imported;     /* objects back in img/a.png and b.png */
} FormatCase;

static const FormatCase format_cases[] = {
  { "coco", "out.json", "out.json", "polyline:1:bbox,line:1:bbox", 8, 8 },
  { "voc", "voc", "voc", "polygon:1:bbox,polyline:1:bbox,line:1:bbox,point:1:bbox,mask:1:bbox", 8, 8 },
  { "yolo", "yolo", "yolo", "rotated-box:1:polygon,polyline:1:-,line:1:-,point:1:-,mask:1:-", 4, 4 },
  { "labelmap", "maps", "maps",
    "box:2:pixels,rotated-box:1:pixels,polygon:1:pixels,polyline:1:-,line:1:-,point:1:-", 5, 3 },
  { "gt-manifest", "gt", "gt/output.manifest",
    "rotated-box:1:pixels,polygon:1:pixels,polyline:1:-,line:1:-,point:1:-", 5, 4 },
};

static char *
cannot_hold_string (JsonObject *report)
{
  JsonArray *array = json_object_get_array_member (report, "cannot_hold");
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *entry = json_array_get_object_element (array, i);
      JsonNode *as = json_object_get_member (entry, "exported_as");

      g_string_append_printf (text, "%s%s:%" G_GINT64_FORMAT ":%s", i > 0 ? "," : "",
                              json_object_get_string_member (entry, "shape"),
                              json_object_get_int_member (entry, "count"),
                              JSON_NODE_HOLDS_NULL (as) ? "-" : json_node_get_string (as));
    }

  return g_string_free (text, FALSE);
}

static void
assert_box (const KpAnnotation *a,
            double              x,
            double              y,
            double              width,
            double              height,
            double              eps)
{
  /* eps 0: exactly. */
  g_assert_nonnull (a);
  g_assert_cmpfloat (fabs (a->rect.x - x), <=, eps);
  g_assert_cmpfloat (fabs (a->rect.y - y), <=, eps);
  g_assert_cmpfloat (fabs (a->rect.width - width), <=, eps);
  g_assert_cmpfloat (fabs (a->rect.height - height), <=, eps);
}

static void
check_geometry (Fixture          *fixture,
                const FormatCase *c)
{
  g_autoptr(GPtrArray) a = annotations_of (fixture->dst, "img/a.png");
  g_autoptr(GPtrArray) b = annotations_of (fixture->dst, "b.png");
  g_autoptr(GPtrArray) src = annotations_of (fixture->src, "img/a.png");
  const KpAnnotation *x, *y;
  KpPoint corners[4];

  g_assert_cmpuint (a->len + b->len, ==, c->n_imported);
  for (guint i = 0; i < a->len; i++)
    {
      g_assert_cmpint (((KpAnnotation *)a->pdata[i])->review, ==, KP_REVIEW_PENDING);
      g_assert_cmpfloat (((KpAnnotation *)a->pdata[i])->confidence, ==, 1.0);
    }

  if (g_str_equal (c->format, "coco"))
    {
      g_autofree char *name = NULL;

      assert_box (find_shape (a, KP_SHAPE_BOX, 0), 10, 20, 30, 15, 0);
      x = find_shape (a, KP_SHAPE_ROTATED_BOX, 0);
      g_assert_cmpfloat_with_epsilon (x->rotated.cx, 50, 1e-9);
      g_assert_cmpfloat_with_epsilon (x->rotated.angle, 0.5, 1e-9);
      g_assert_cmpfloat_with_epsilon (x->rotated.width, 20, 1e-9);
      x = find_shape (a, KP_SHAPE_POLYGON, 0);
      y = find_shape (src, KP_SHAPE_POLYGON, 0);
      g_assert_cmpmem (x->points, 4 * sizeof (KpPoint), y->points, 4 * sizeof (KpPoint));
      g_assert_true (kp_mask_equal (find_shape (a, KP_SHAPE_MASK, 0)->mask, find_shape (src, KP_SHAPE_MASK, 0)->mask));
      x = find_shape (a, KP_SHAPE_POINT, 0);
      g_assert_cmpfloat (x->points[0].x, ==, 33);
      g_assert_cmpstr (x->keypoint, ==, "nose");
      g_assert_true (x->occluded);
      /* The polyline and the line, as their bounding boxes. */
      assert_box (find_shape (a, KP_SHAPE_BOX, 1), 1, 1, 8, 8, 0);
      assert_box (find_shape (a, KP_SHAPE_BOX, 2), 2, 70, 28, 5, 0);
      g_assert_null (find_shape (a, KP_SHAPE_BOX, 3));
      name = label_name (fixture->dst, find_shape (a, KP_SHAPE_POLYGON, 0)->label_id);
      g_assert_cmpstr (name, ==, "person");
    }
  else if (g_str_equal (c->format, "voc"))
    {
      assert_box (a->pdata[0], 10, 20, 30, 15, 0);
      x = find_shape (a, KP_SHAPE_ROTATED_BOX, 0);
      g_assert_cmpfloat_with_epsilon (x->rotated.cy, 40, 1e-12);
      g_assert_cmpfloat_with_epsilon (x->rotated.angle, 0.5, 1e-12);
      /* The polygon, as its bounds in whole pixels. */
      assert_box (a->pdata[2], 60, 10, 30, 20, 0);
      g_assert_nonnull (find_shape (a, KP_SHAPE_BOX, 5));
      g_assert_null (find_shape (a, KP_SHAPE_BOX, 6));
    }
  else if (g_str_equal (c->format, "yolo"))
    {
      /* 6 decimals of the image size. */
      assert_box (find_shape (a, KP_SHAPE_BOX, 0), 10, 20, 30, 15, 1e-4);
      x = find_shape (a, KP_SHAPE_POLYGON, 0);
      kp_rotated_box_corners (&(KpRotatedBox) { 50, 40, 20, 10, 0.5 }, corners);
      for (guint i = 0; i < 4; i++)
        g_assert_cmpfloat_with_epsilon (x->points[i].x, corners[i].x, 1e-4);
      x = find_shape (a, KP_SHAPE_POLYGON, 1);
      y = find_shape (src, KP_SHAPE_POLYGON, 0);
      for (guint i = 0; i < 4; i++)
        {
          g_assert_cmpfloat_with_epsilon (x->points[i].x, y->points[i].x, 1e-4);
          g_assert_cmpfloat_with_epsilon (x->points[i].y, y->points[i].y, 1e-4);
        }
    }
  else
    {
      const KpMask *mask = find_shape (src, KP_SHAPE_MASK, 0)->mask;
      const KpAnnotation *person = NULL, *car = NULL;

      for (guint i = 0; i < a->len; i++)
        {
          g_autofree char *name = NULL;

          x = a->pdata[i];
          if (x->shape != KP_SHAPE_MASK)
            continue;
          name = label_name (fixture->dst, x->label_id);
          if (g_str_equal (name, "person"))
            person = x;
          else
            car = x;
        }
      g_assert_nonnull (person);
      g_assert_nonnull (car);

      /* Every pixel of the mask and the polygon's inside are person's;
       * the rotated box's centre is car's. */
      for (int py = mask->y; py < mask->y + mask->height; py++)
        for (int px = mask->x; px < mask->x + mask->width; px++)
          g_assert_cmpint (kp_mask_get (person->mask, px, py), ==, kp_mask_get (mask, px, py));
      g_assert_true (kp_mask_get (person->mask, 75, 20));
      g_assert_true (kp_mask_get (car->mask, 50, 40));
      g_assert_false (kp_mask_get (car->mask, 75, 20));

      if (g_str_equal (c->format, "labelmap"))
        {
          /* The box became car pixels, exactly its 30 × 15. */
          g_assert_true (kp_mask_get (car->mask, 10, 20));
          g_assert_true (kp_mask_get (car->mask, 39, 34));
          g_assert_false (kp_mask_get (car->mask, 40, 34));
          g_assert_cmpint (((KpAnnotation *)b->pdata[0])->shape, ==, KP_SHAPE_MASK);
          g_assert_cmpuint (kp_mask_get_area (((KpAnnotation *)b->pdata[0])->mask), ==, 64);
        }
      else
        {
          assert_box (find_shape (a, KP_SHAPE_BOX, 0), 10, 20, 30, 15, 0);
          assert_box (b->pdata[0], 4, 4, 8, 8, 0);
        }
    }
}

static guint
count_char (const char *text,
            char        c)
{
  guint n = 0;

  for (; *text != '\0'; text++)
    n += *text == c;

  return n;
}

static void
test_round_trip (Fixture       *fixture,
                 gconstpointer  data)
{
  const FormatCase *c = data;
  g_autofree char *output = g_build_filename (fixture->out, c->output, NULL);
  g_autofree char *input = g_build_filename (fixture->out, c->input, NULL);
  g_autofree char *expected = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *held = NULL;
  g_autoptr(JsonObject) report = NULL;

  /* Text: one line per kind of shape the format cannot hold, and one for
   * the suggestion left out, on stderr. */
  g_assert_cmpint (run_ctl (&out, &err, "export", "-p", fixture->src, "-f", c->format, "-o", output, NULL), ==, 0);
  expected = g_strdup_printf ("Exported 2 images, %u objects to %s\n", c->n_exported, output);
  g_assert_cmpstr (out, ==, expected);
  g_assert_cmpuint (count_char (err, '\n'), ==, count_char (c->cannot_hold, ',') + 2);
  g_assert_nonnull (strstr (err, "kempelenctl: 1 suggestion nobody reviewed was left out.\n"));
  g_assert_nonnull (strstr (err, "cannot hold the shape “polyline”: 1 "));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* JSON: the same, for scripts. */
  g_assert_cmpint (run_ctl (&out, &err, "export", "--project", fixture->src, "--format", c->format,
                            "--output", output, "--json", NULL), ==, 0);
  g_assert_cmpstr (err, ==, "");
  report = parse_object (out);
  g_assert_cmpint (json_object_get_int_member (report, "images"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (report, "objects"), ==, c->n_exported);
  g_assert_cmpint (json_object_get_int_member (report, "suggestions_left_out"), ==, 1);
  held = cannot_hold_string (report);
  g_assert_cmpstr (held, ==, c->cannot_hold);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (report, "warnings")), ==,
                    count_char (c->cannot_hold, ',') + 2);
  g_clear_pointer (&report, json_object_unref);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* A dry run reports what the import will do, and changes nothing. */
  g_assert_cmpint (run_ctl (&out, &err, "import", "-p", fixture->dst, "-f", c->format, "--json", "--dry-run",
                            input, NULL), ==, 0);
  report = parse_object (out);
  g_assert_true (json_object_get_boolean_member (report, "dry_run"));
  g_assert_cmpint (json_object_get_int_member (report, "imported"), ==, c->n_imported);
  g_assert_cmpint (json_object_get_int_member (report, "labels_created"), ==, 2);
  g_clear_pointer (&report, json_object_unref);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_ctl (&out, &err, "status", "-p", fixture->dst, "--json", NULL), ==, 0);
  report = parse_object (out);
  g_assert_cmpint (json_object_get_int_member (report, "objects"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (report, "labels"), ==, 0);
  g_clear_pointer (&report, json_object_unref);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Into a fresh project with the same images. */
  g_assert_cmpint (run_ctl (&out, &err, "import", "-p", fixture->dst, "-f", c->format, "--json", input, NULL), ==, 0);
  g_assert_cmpstr (err, ==, "");
  report = parse_object (out);
  g_assert_cmpint (json_object_get_int_member (report, "imported"), ==, c->n_imported);
  g_assert_cmpint (json_object_get_int_member (report, "skipped"), ==, 0);
  g_assert_cmpint (json_array_get_length (json_object_get_array_member (report, "problems")), ==, 0);
  g_assert_cmpint (json_array_get_length (json_object_get_array_member (report, "images")), ==, 2);
  check_geometry (fixture, c);
  g_clear_pointer (&report, json_object_unref);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Again: nothing new. */
  g_assert_cmpint (run_ctl (&out, &err, "import", "-p", fixture->dst, "-f", c->format, input, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "already there"));
  g_assert_true (g_str_has_prefix (strstr (out, "Imported "), "Imported 0 objects into 0 images"));
  {
    g_autoptr(GPtrArray) a = annotations_of (fixture->dst, "img/a.png");
    g_autoptr(GPtrArray) b = annotations_of (fixture->dst, "b.png");

    g_assert_cmpuint (a->len + b->len, ==, c->n_imported);
  }
}

/* Suggestions: left out by default, exported with their confidence when
 * asked, and filtered by confidence on the way in. */
static void
test_suggestions (Fixture       *fixture,
                  gconstpointer  data)
{
  g_autofree char *output = g_build_filename (fixture->out, "all.json", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonObject) report = NULL;
  g_autoptr(GPtrArray) b = NULL;

  /* status counts them, and every shape. */
  g_assert_cmpint (run_ctl (&out, &err, "status", "-p", fixture->src, "--json", NULL), ==, 0);
  report = parse_object (out);
  g_assert_cmpint (json_object_get_int_member (report, "objects"), ==, 9);
  g_assert_cmpint (json_object_get_int_member (report, "suggestions"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (report, "shapes"), "line"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (report, "shapes"), "box"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (report, "shapes"), "mask"), ==, 1);
  g_clear_pointer (&report, json_object_unref);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_ctl (&out, &err, "export", "-p", fixture->src, "-f", "coco", "-o", output,
                            "--include-suggestions", "--json", NULL), ==, 0);
  report = parse_object (out);
  g_assert_cmpint (json_object_get_int_member (report, "objects"), ==, 9);
  g_assert_cmpint (json_object_get_int_member (report, "suggestions_left_out"), ==, 0);
  g_clear_pointer (&report, json_object_unref);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_ctl (&out, &err, "import", "-p", fixture->dst, "-f", "COCO", "--min-confidence", "0.5",
                            output, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "b.png: 1 imported, 1 below the minimum confidence\n"));
  g_assert_nonnull (strstr (out, "img/a.png: 7 imported\n"));
  g_assert_nonnull (strstr (out, "Imported 8 objects into 2 images from "));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (run_ctl (&out, &err, "import", "-p", fixture->dst, "-f", "coco", "--json", output, NULL), ==, 0);
  report = parse_object (out);
  g_assert_cmpint (json_object_get_int_member (report, "imported"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (report, "duplicates"), ==, 8);

  b = annotations_of (fixture->dst, "b.png");
  g_assert_cmpuint (b->len, ==, 2);
  g_assert_cmpfloat (((KpAnnotation *)b->pdata[1])->confidence, ==, 0.4);
  g_assert_cmpstr (((KpAnnotation *)b->pdata[1])->source, ==, "coco:all.json");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* A dry run of --replace counts what it would swap. */
  g_assert_cmpint (run_ctl (&out, &err, "import", "-p", fixture->dst, "-f", "coco", "--replace", "-n",
                            output, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "img/a.png: 7 to import, 7 old suggestions removed\n"));
  g_assert_nonnull (strstr (out, "Would import 9 objects into 2 images"));
  g_assert_nonnull (strstr (out, "Nothing was changed (--dry-run).\n"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* --replace swaps this file's suggestions for the file's objects. */
  g_assert_cmpint (run_ctl (&out, &err, "import", "-p", fixture->dst, "-f", "coco", "--replace", "--json",
                            output, NULL), ==, 0);
  g_clear_pointer (&report, json_object_unref);
  report = parse_object (out);
  g_assert_cmpint (json_object_get_int_member (report, "replaced"), ==, 9);
  g_assert_cmpint (json_object_get_int_member (report, "imported"), ==, 9);
}

/* Bad input: a clear message with the file and where in it, and the exit
 * status says how far the import got. */
static void
write_text (const char *folder,
            const char *relative,
            const char *text)
{
  g_autofree char *path = g_build_filename (folder, relative, NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

static void
test_malformed (Fixture       *fixture,
                gconstpointer  data)
{
  g_autofree char *bad = g_build_filename (fixture->out, "bad.json", NULL);
  g_autofree char *partial = g_build_filename (fixture->out, "partial.json", NULL);
  g_autofree char *voc = g_build_filename (fixture->out, "voc", NULL);
  g_autofree char *yolo = g_build_filename (fixture->out, "yolo", NULL);
  g_autofree char *manifest = g_build_filename (fixture->out, "gt.manifest", NULL);
  g_autofree char *maps = g_build_filename (fixture->out, "maps", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

#define RESET() G_STMT_START { g_clear_pointer (&out, g_free); g_clear_pointer (&err, g_free); } G_STMT_END

  /* Not JSON at all: nothing imported, exit 1, file and position. */
  write_text (fixture->out, "bad.json", "{\"images\": [\n  {\"id\": 1,,}\n");
  g_assert_cmpint (run_ctl (&out, &err, "import", "-p", fixture->dst, "-f", "coco", bad, NULL), ==, 1);
  g_assert_cmpstr (out, ==, "");
  g_assert_true (g_str_has_prefix (err, "kempelenctl: "));
  g_assert_nonnull (strstr (err, "bad.json: not valid JSON"));
  g_assert_nonnull (strstr (err, ":2:"));
  RESET ();

  /* One bad annotation among good ones: the rest imported, exit 3. */
  write_text (fixture->out, "partial.json",
              "{\"images\": [{\"id\": 1, \"file_name\": \"img/a.png\"}],"
              " \"categories\": [{\"id\": 1, \"name\": \"x\"}],"
              " \"annotations\": [{\"image_id\": 1, \"category_id\": 1, \"bbox\": [1, 2, 3, 4]},"
              "  {\"image_id\": 1, \"category_id\": 1, \"segmentation\": [[1, \"a\", 3]]}]}");
  g_assert_cmpint (run_ctl (&out, &err, "import", "-p", fixture->dst, "-f", "coco", partial, NULL), ==, 3);
  g_assert_nonnull (strstr (out, "img/a.png: 1 imported\n"));
  g_assert_nonnull (strstr (out, "1 skipped"));
  g_assert_nonnull (strstr (err, "partial.json: $.annotations[1].segmentation[0]"));
  RESET ();

  /* VOC: broken XML, by file and line. */
  write_text (voc, "broken.xml", "<annotation><filename>b.png</filename>\n<object><name>x</nam>");
  g_assert_cmpint (run_ctl (&out, &err, "import", "-p", fixture->dst, "-f", "voc", voc, NULL), ==, 3);
  g_assert_nonnull (strstr (err, "broken.xml:2: not valid XML"));
  RESET ();

  /* YOLO without class names: exit 1, says what is missing. */
  write_text (yolo, "labels/b.txt", "0 0.5 0.5 0.1 0.1\n0 0.5\n");
  g_assert_cmpint (run_ctl (&out, &err, "import", "-p", fixture->dst, "-f", "yolo", yolo, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "classes.txt"));
  g_assert_cmpuint (count_char (err, '\n'), ==, 1);
  RESET ();

  /* ... given in a file, the bad line is named. */
  write_text (fixture->out, "names.txt", "thing\n");
  {
    g_autofree char *names = g_build_filename (fixture->out, "names.txt", NULL);

    g_assert_cmpint (run_ctl (&out, &err, "import", "-p", fixture->dst, "-f", "yolo",
                              "--labels-from-file", names, yolo, NULL), ==, 3);
    g_assert_nonnull (strstr (err, "b.txt:2: 1 numbers after the class"));
    g_assert_nonnull (strstr (out, "b.png: 1 imported\n"));
    RESET ();
  }

  /* Ground Truth: a broken line by its number. */
  write_text (fixture->out, "gt.manifest",
              "{\"source-ref\": \"s3://x/b.png\", \"job\": {\"annotations\": []}, \"job-metadata\":"
              " {\"type\": \"groundtruth/object-detection\", \"class-map\": {}}}\n{\"source-ref\": \n");
  g_assert_cmpint (run_ctl (&out, &err, "import", "-p", fixture->dst, "-f", "gt-manifest", manifest, NULL), ==, 3);
  g_assert_nonnull (strstr (err, "gt.manifest:2: not valid JSON"));
  RESET ();

  /* A label map of the wrong size, and a file that is no PNG. */
  write_text (maps, "classes.txt", "0 background\n1 x\n");
  write_png (maps, "b.png", 10, 10);
  write_text (maps, "img_a.png", "not a PNG");
  g_assert_cmpint (run_ctl (&out, &err, "import", "-p", fixture->dst, "-f", "labelmap", maps, NULL), ==, 3);
  g_assert_nonnull (strstr (err, "b.png: the label map is 10×10 pixels, but “b.png” is 64×48"));
  g_assert_nonnull (strstr (err, "img_a.png: the label map could not be read"));
  RESET ();

  /* A folder without files of the format. */
  g_assert_cmpint (run_ctl (&out, &err, "import", "-p", fixture->dst, "-f", "voc", fixture->dst, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "no Pascal VOC .xml files in the folder"));
  RESET ();

  /* Nothing there. */
  g_assert_cmpint (run_ctl (&out, &err, "import", "-p", fixture->dst, "-f", "coco", "nowhere.json", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "nowhere.json"));
  RESET ();

#undef RESET
}

static void
test_usage (Fixture       *fixture,
            gconstpointer  data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  struct {
    const char *args[10];
    const char *mentions;
  } cases[] = {
    { { "import", "-p", fixture->src, "-f", "coco", NULL }, "What to import?" },
    { { "import", "-p", fixture->src, "x.json", NULL }, "Which format?" },
    { { "import", "-f", "coco", "x.json", NULL }, "Which project?" },
    { { "import", "-p", fixture->src, "-f", "csv", "x.json", NULL }, "Unknown format “csv”" },
    { { "import", "-p", fixture->src, "-f", "coco", "-l", "n.txt", "x.json", NULL }, "--labels-from-file" },
    { { "import", "-p", fixture->src, "-f", "coco", "-m", "2", "x.json", NULL }, "--min-confidence" },
    { { "import", "-p", fixture->src, "-f", "coco", "x.json", "y.json", NULL }, "“y.json”" },
    { { "export", "-p", fixture->src, "-f", "tiff", "-o", "x", NULL }, "Unknown format “tiff”" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GPtrArray) args = g_ptr_array_new ();

      for (guint j = 0; cases[i].args[j] != NULL; j++)
        g_ptr_array_add (args, (gpointer)cases[i].args[j]);
      g_assert_cmpint (run_ctlv (&out, &err, args), ==, 2);
      g_assert_cmpstr (out, ==, "");
      g_assert_nonnull (strstr (err, cases[i].mentions));
      g_assert_cmpuint (count_char (err, '\n'), ==, 1);
      g_clear_pointer (&out, g_free);
      g_clear_pointer (&err, g_free);
    }

  g_assert_cmpint (run_ctl (&out, &err, "import", "--help", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "gt-manifest"));
  g_assert_nonnull (strstr (out, "--min-confidence"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_ctl (&out, &err, "help", "export", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "--include-suggestions"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (format_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/kempelen/cli/formats/round-trip/%s", format_cases[i].format);

      g_test_add (path, Fixture, &format_cases[i], fixture_set_up, test_round_trip, fixture_tear_down);
    }
  g_test_add ("/kempelen/cli/formats/suggestions", Fixture, NULL, fixture_set_up, test_suggestions,
              fixture_tear_down);
  g_test_add ("/kempelen/cli/formats/malformed", Fixture, NULL, fixture_set_up, test_malformed,
              fixture_tear_down);
  g_test_add ("/kempelen/cli/formats/usage", Fixture, NULL, fixture_set_up, test_usage, fixture_tear_down);

  return g_test_run ();
}
