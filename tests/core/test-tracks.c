/* test-tracks.c: video tracks, keyframes, interpolation and exports
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "kp-core.h"

static void
set_box (KpTrack *track,
         gint64   frame,
         double   x1,
         double   y1,
         double   x2,
         double   y2,
         gboolean outside)
{
  const double coords[] = { x1, y1, x2, y2 };
  g_autoptr(KpTrackShape) shape = kp_track_shape_new (frame, coords, 4);
  g_autoptr(GError) error = NULL;

  shape->outside = outside;
  g_assert_true (kp_track_set_keyframe (track, shape, &error));
  g_assert_no_error (error);
}

/* A car box moving right from frame 0 to 10, then leaving the view at 20;
 * a person polygon from frame 5; a points track from frame 2. */
static KpTracks *
make_tracks (void)
{
  KpTracks *tracks = kp_tracks_new ("street.mp4", 30, 640, 480);
  KpTrack *car = kp_tracks_add_track (tracks, "car", KP_TRACK_SHAPE_BOX);
  KpTrack *person = kp_tracks_add_track (tracks, "person", KP_TRACK_SHAPE_POLYGON);
  KpTrack *joints = kp_tracks_add_track (tracks, "person", KP_TRACK_SHAPE_POINTS);
  const double poly[] = { 100, 100, 200, 100, 150, 200 };
  const double poly2[] = { 110, 100, 210, 100, 160, 200 };
  const double pts[] = { 5, 6, 7, 8 };
  g_autoptr(KpTrackShape) p1 = kp_track_shape_new (5, poly, 6);
  g_autoptr(KpTrackShape) p2 = kp_track_shape_new (15, poly2, 6);
  g_autoptr(KpTrackShape) j = kp_track_shape_new (2, pts, 4);

  set_box (car, 0, 10, 20, 110, 70, FALSE);
  set_box (car, 10, 30, 20, 130, 90, FALSE);
  set_box (car, 20, 30, 20, 130, 90, TRUE);
  kp_track_set_attribute (car, 0, "color", "red");
  kp_track_set_attribute (car, 4, "color", "blue & <green>");

  p2->occluded = TRUE;
  g_assert_true (kp_track_set_keyframe (person, p1, NULL));
  g_assert_true (kp_track_set_keyframe (person, p2, NULL));
  j->occluded = TRUE;
  g_assert_true (kp_track_set_keyframe (joints, j, NULL));
  return tracks;
}

static void
test_interpolate (void)
{
  g_autoptr(KpTracks) tracks = make_tracks ();
  KpTrack *car = kp_tracks_get_track (tracks, 1);
  KpTrack *person = kp_tracks_get_track (tracks, 2);
  g_autoptr(KpTrackShape) at5 = kp_track_get_shape (car, 5);
  g_autoptr(KpTrackShape) at15 = kp_track_get_shape (car, 15);
  g_autoptr(KpTrackShape) at25 = kp_track_get_shape (car, 25);
  g_autoptr(KpTrackShape) p10 = kp_track_get_shape (person, 10);
  g_autoptr(KpTrackShape) p29 = kp_track_get_shape (person, 29);
  guint n;
  const gint64 *frames = kp_track_get_keyframes (car, &n);

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (tracks)), ==, 3);
  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpint (frames[0], ==, 0);
  g_assert_cmpint (frames[1], ==, 10);
  g_assert_cmpint (frames[2], ==, 20);

  /* Halfway between the keyframes at 0 and 10. */
  g_assert_false (at5->keyframe);
  g_assert_cmpfloat_with_epsilon (at5->coords[0], 20, 1e-9);
  g_assert_cmpfloat_with_epsilon (at5->coords[2], 120, 1e-9);
  g_assert_cmpfloat_with_epsilon (at5->coords[3], 80, 1e-9);
  /* Held after 10, outside from 20 on. */
  g_assert_cmpfloat_with_epsilon (at15->coords[0], 30, 1e-9);
  g_assert_false (at15->outside);
  g_assert_true (at25->outside);
  g_assert_true (kp_track_is_visible (car, 19));
  g_assert_false (kp_track_is_visible (car, 20));
  /* Before the first keyframe there is nothing. */
  g_assert_null (kp_track_get_shape (person, 4));
  g_assert_false (kp_track_is_visible (person, 4));

  g_assert_cmpfloat_with_epsilon (p10->coords[0], 105, 1e-9);
  g_assert_cmpfloat_with_epsilon (p10->coords[4], 155, 1e-9);
  g_assert_false (p10->occluded);
  g_assert_true (p29->occluded);

  /* Attributes hold until they change. */
  g_assert_null (kp_track_get_attribute (car, 0, "missing"));
  g_assert_cmpstr (kp_track_get_attribute (car, 3, "color"), ==, "red");
  g_assert_cmpstr (kp_track_get_attribute (car, 4, "color"), ==, "blue & <green>");
  g_assert_cmpstr (kp_track_get_attribute (car, 29, "color"), ==, "blue & <green>");
}

static void
count_cb (KpTracks *tracks,
          guint    *count)
{
  (*count)++;
}

static void
test_edit (void)
{
  g_autoptr(KpTracks) tracks = make_tracks ();
  KpTrack *car = kp_tracks_get_track (tracks, 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(KpTrackShape) bad = NULL;
  const double three[] = { 1, 2, 3 };
  guint changes = 0;
  g_auto(GStrv) labels = kp_tracks_dup_labels (tracks);

  g_assert_cmpuint (g_strv_length (labels), ==, 2);
  g_signal_connect (tracks, "changed", G_CALLBACK (count_cb), &changes);

  bad = kp_track_shape_new (3, three, 3);
  g_assert_false (kp_track_set_keyframe (car, bad, &error));
  g_assert_error (error, KP_TRACKS_ERROR, KP_TRACKS_ERROR_INVALID);
  g_assert_cmpuint (changes, ==, 0);

  /* Boxes are normalised; a keyframe in the middle changes the
   * interpolation on both sides. */
  set_box (car, 4, 50, 60, 10, 20, FALSE);
  g_assert_cmpuint (changes, ==, 1);
  {
    g_autoptr(KpTrackShape) s = kp_track_get_shape (car, 4);
    g_autoptr(KpTrackShape) s2 = kp_track_get_shape (car, 2);

    g_assert_true (s->keyframe);
    g_assert_cmpfloat (s->coords[0], ==, 10);
    g_assert_cmpfloat (s->coords[2], ==, 50);
    g_assert_cmpfloat_with_epsilon (s2->coords[0], 10, 1e-9);
    g_assert_cmpfloat_with_epsilon (s2->coords[1], 20, 1e-9);
  }
  g_assert_true (kp_track_remove_keyframe (car, 4));
  g_assert_false (kp_track_remove_keyframe (car, 4));
  g_assert_false (kp_track_is_keyframe (car, 4));

  /* Propagate copies the shape to the next frames, within the video. */
  kp_track_propagate (car, 5, 3);
  g_assert_true (kp_track_is_keyframe (car, 6));
  g_assert_true (kp_track_is_keyframe (car, 8));
  g_assert_false (kp_track_is_keyframe (car, 9));
  {
    g_autoptr(KpTrackShape) s = kp_track_get_shape (car, 8);

    g_assert_cmpfloat_with_epsilon (s->coords[0], 20, 1e-9);
  }
  kp_track_propagate (car, 25, 100);
  g_assert_true (kp_track_is_keyframe (car, 29));
  g_assert_false (kp_track_is_keyframe (car, 30));

  g_assert_true (kp_tracks_remove_track (tracks, 2));
  g_assert_false (kp_tracks_remove_track (tracks, 2));
  g_assert_null (kp_tracks_get_track (tracks, 2));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (tracks)), ==, 2);
  /* Ids are never reused. */
  g_assert_cmpuint (kp_track_get_id (kp_tracks_add_track (tracks, "bus", KP_TRACK_SHAPE_BOX)), ==, 4);
}

static void
test_json (void)
{
  g_autoptr(KpTracks) tracks = make_tracks ();
  g_autoptr(KpTracks) back = NULL;
  g_autoptr(KpTracks) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *json = kp_tracks_to_json (tracks);
  g_autofree char *json2 = NULL;
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "videos", NULL);
  g_autofree char *video = g_build_filename (dir, "street.mp4", NULL);
  g_autofree char *sidecar = kp_tracks_dup_sidecar_path (video);

  back = kp_tracks_new_from_json (json, -1, &error);
  g_assert_no_error (error);
  json2 = kp_tracks_to_json (back);
  g_assert_cmpstr (json, ==, json2);
  g_assert_cmpint (kp_tracks_get_n_frames (back), ==, 30);
  g_assert_cmpstr (kp_track_get_attribute (kp_tracks_get_track (back, 1), 7, "color"), ==,
                   "blue & <green>");

  g_assert_cmpstr (sidecar + strlen (sidecar) - strlen (".mp4.tracks.json"), ==, ".mp4.tracks.json");
  g_mkdir_with_parents (dir, 0700);
  g_assert_true (kp_tracks_save (tracks, sidecar, &error));
  g_assert_no_error (error);
  again = kp_tracks_load (sidecar, &error);
  g_assert_no_error (error);
  g_clear_pointer (&json2, g_free);
  json2 = kp_tracks_to_json (again);
  g_assert_cmpstr (json, ==, json2);

  /* Broken files are refused with a reason. */
  {
    const char *bad[] = {
      "{",
      "[]",
      "{\"version\": 99, \"tracks\": []}",
      "{\"version\": 1}",
      "{\"version\": 1, \"tracks\": [{\"id\": 1, \"label\": \"a\", \"shape\": \"blob\", \"keyframes\": []}]}",
      "{\"version\": 1, \"tracks\": [{\"id\": 1, \"label\": \"a\", \"shape\": \"box\", \"keyframes\": "
      "[{\"frame\": 0, \"coords\": [1, 2, 3]}]}]}",
      "{\"version\": 1, \"tracks\": [{\"id\": 1, \"label\": \"a\", \"shape\": \"box\", \"keyframes\": []},"
      "{\"id\": 1, \"label\": \"b\", \"shape\": \"box\", \"keyframes\": []}]}",
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autoptr(GError) e = NULL;
        g_autoptr(KpTracks) t = kp_tracks_new_from_json (bad[i], -1, &e);

        g_assert_null (t);
        g_assert_nonnull (e);
      }
  }
}

static void
test_export_mot (void)
{
  g_autoptr(KpTracks) tracks = make_tracks ();
  g_autofree char *mot = kp_tracks_export_mot (tracks);
  g_auto(GStrv) lines = g_strsplit (mot, "\n", -1);
  guint car_lines = 0;
  gboolean saw_frame6 = FALSE;

  for (guint i = 0; lines[i] != NULL && lines[i][0] != '\0'; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], ",", -1);
      gint64 frame;
      int id;

      g_assert_cmpuint (g_strv_length (f), ==, 10);
      frame = g_ascii_strtoll (f[0], NULL, 10);
      id = atoi (f[1]);
      g_assert_cmpint (frame, >=, 1);
      g_assert_cmpint (frame, <=, 30);
      if (id == 1)
        {
          car_lines++;
          /* MOT frames count from 1: frame 6 is our frame 5. */
          if (frame == 6)
            {
              saw_frame6 = TRUE;
              g_assert_cmpfloat_with_epsilon (g_ascii_strtod (f[2], NULL), 20, 1e-6);
              g_assert_cmpfloat_with_epsilon (g_ascii_strtod (f[3], NULL), 20, 1e-6);
              g_assert_cmpfloat_with_epsilon (g_ascii_strtod (f[4], NULL), 100, 1e-6);
              g_assert_cmpfloat_with_epsilon (g_ascii_strtod (f[5], NULL), 60, 1e-6);
            }
        }
      g_assert_cmpstr (f[6], ==, "1");
    }
  /* Frames 0..19: the car is outside from 20. */
  g_assert_cmpuint (car_lines, ==, 20);
  g_assert_true (saw_frame6);
}

static int
xpath_count (xmlXPathContext *ctx,
             const char      *expr)
{
  xmlXPathObject *obj = xmlXPathEvalExpression (BAD_CAST expr, ctx);
  int n;

  g_assert_nonnull (obj);
  n = obj->nodesetval != NULL ? obj->nodesetval->nodeNr : 0;
  xmlXPathFreeObject (obj);
  return n;
}

static char *
xpath_string (xmlXPathContext *ctx,
              const char      *expr)
{
  g_autofree char *wrapped = g_strdup_printf ("string(%s)", expr);
  xmlXPathObject *obj = xmlXPathEvalExpression (BAD_CAST wrapped, ctx);
  char *s = g_strdup ((const char *)obj->stringval);

  xmlXPathFreeObject (obj);
  return s;
}

static void
test_export_cvat (void)
{
  g_autoptr(KpTracks) tracks = make_tracks ();
  g_autofree char *xml = kp_tracks_export_cvat_xml (tracks);
  xmlDoc *doc = xmlReadMemory (xml, strlen (xml), "cvat.xml", NULL, XML_PARSE_NONET);
  xmlXPathContext *ctx;
  g_autofree char *xtl = NULL;
  g_autofree char *color = NULL;
  g_autofree char *points = NULL;

  g_assert_nonnull (doc);
  ctx = xmlXPathNewContext (doc);
  g_assert_cmpint (xpath_count (ctx, "/annotations/track"), ==, 3);
  g_assert_cmpint (xpath_count (ctx, "/annotations/meta/task/labels/label"), ==, 2);
  g_assert_cmpint (xpath_count (ctx, "/annotations/meta/task/original_size[width=640][height=480]"), ==, 1);
  /* The car: a box per frame 0..20 (20 is outside), 3 of them keyframes. */
  g_assert_cmpint (xpath_count (ctx, "/annotations/track[@id='0'][@label='car']/box"), ==, 21);
  g_assert_cmpint (xpath_count (ctx, "/annotations/track[@id='0']/box[@keyframe='1']"), ==, 3);
  g_assert_cmpint (xpath_count (ctx, "/annotations/track[@id='0']/box[@outside='1']"), ==, 1);
  xtl = xpath_string (ctx, "/annotations/track[@id='0']/box[@frame='5']/@xtl");
  g_assert_cmpstr (xtl, ==, "20.00");
  color = xpath_string (ctx, "/annotations/track[@id='0']/box[@frame='5']/attribute[@name='color']");
  g_assert_cmpstr (color, ==, "blue & <green>");
  /* The polygon from frame 5 to the end, occluded from 15. */
  g_assert_cmpint (xpath_count (ctx, "/annotations/track[@id='1']/polygon"), ==, 25);
  g_assert_cmpint (xpath_count (ctx, "/annotations/track[@id='1']/polygon[@occluded='1']"), ==, 15);
  points = xpath_string (ctx, "/annotations/track[@id='1']/polygon[@frame='10']/@points");
  g_assert_cmpstr (points, ==, "105.00,100.00;205.00,100.00;155.00,200.00");
  g_assert_cmpint (xpath_count (ctx, "/annotations/track[@id='2']/points"), ==, 28);

  xmlXPathFreeContext (ctx);
  xmlFreeDoc (doc);
}

static void
test_export_coco (void)
{
  g_autoptr(KpTracks) tracks = make_tracks ();
  g_autofree char *json = kp_tracks_export_coco (tracks);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonObject *root;
  JsonArray *images, *anns, *cats;
  guint car = 0, polygons = 0, keypoints = 0;

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  images = json_object_get_array_member (root, "images");
  anns = json_object_get_array_member (root, "annotations");
  cats = json_object_get_array_member (root, "categories");
  g_assert_cmpuint (json_array_get_length (images), ==, 30);
  g_assert_cmpuint (json_array_get_length (cats), ==, 2);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (images, 7), "frame_id"), ==, 7);
  /* 20 car + 25 polygon + 28 points annotations. */
  g_assert_cmpuint (json_array_get_length (anns), ==, 73);
  for (guint i = 0; i < json_array_get_length (anns); i++)
    {
      JsonObject *a = json_array_get_object_element (anns, i);
      JsonObject *attrs = json_object_get_object_member (a, "attributes");
      JsonArray *bbox = json_object_get_array_member (a, "bbox");
      gint64 track_id = json_object_get_int_member (attrs, "track_id");

      if (track_id == 1)
        {
          car++;
          g_assert_cmpint (json_object_get_int_member (a, "category_id"), ==, 1);
          if (json_object_get_int_member (a, "image_id") == 6)
            {
              g_assert_cmpfloat_with_epsilon (json_array_get_double_element (bbox, 0), 20, 1e-9);
              g_assert_cmpfloat_with_epsilon (json_array_get_double_element (bbox, 2), 100, 1e-9);
              g_assert_cmpstr (json_object_get_string_member (attrs, "color"), ==, "blue & <green>");
              g_assert_false (json_object_get_boolean_member (attrs, "keyframe"));
            }
        }
      else if (track_id == 2)
        {
          polygons++;
          g_assert_cmpuint (json_array_get_length (json_array_get_array_element (
                              json_object_get_array_member (a, "segmentation"), 0)), ==, 6);
        }
      else
        {
          keypoints++;
          g_assert_cmpint (json_object_get_int_member (a, "category_id"), ==, 2);
          g_assert_cmpuint (json_array_get_length (json_object_get_array_member (a, "keypoints")), ==, 6);
        }
    }
  g_assert_cmpuint (car, ==, 20);
  g_assert_cmpuint (polygons, ==, 25);
  g_assert_cmpuint (keypoints, ==, 28);
}

static void
test_export_ground_truth (void)
{
  g_autoptr(KpTracks) tracks = make_tracks ();
  g_autofree char *json = kp_tracks_export_ground_truth (tracks);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonArray *frames;
  JsonObject *f5;
  JsonArray *anns;
  gboolean saw_car = FALSE;

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  frames = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)),
                                         "tracking-annotations");
  g_assert_cmpuint (json_array_get_length (frames), ==, 30);
  f5 = json_array_get_object_element (frames, 5);
  g_assert_cmpint (json_object_get_int_member (f5, "frame-no"), ==, 5);
  g_assert_cmpstr (json_object_get_string_member (f5, "frame"), ==, "frame_000005.jpeg");
  anns = json_object_get_array_member (f5, "annotations");
  g_assert_cmpuint (json_array_get_length (anns), ==, 3);
  for (guint i = 0; i < json_array_get_length (anns); i++)
    {
      JsonObject *a = json_array_get_object_element (anns, i);

      if (g_str_equal (json_object_get_string_member (a, "object-id"), "1"))
        {
          saw_car = TRUE;
          g_assert_cmpstr (json_object_get_string_member (a, "object-name"), ==, "car:1");
          g_assert_cmpstr (json_object_get_string_member (a, "class-id"), ==, "0");
          g_assert_cmpint (json_object_get_int_member (a, "left"), ==, 20);
          g_assert_cmpint (json_object_get_int_member (a, "width"), ==, 100);
          g_assert_cmpint (json_object_get_int_member (a, "height"), ==, 60);
          g_assert_cmpstr (json_object_get_string_member (
                             json_object_get_object_member (a, "label-category-attributes"),
                             "color"), ==, "blue & <green>");
        }
    }
  g_assert_true (saw_car);
  /* Frame 25: the car is outside; the polygon and the points remain. */
  anns = json_object_get_array_member (json_array_get_object_element (frames, 25), "annotations");
  g_assert_cmpuint (json_array_get_length (anns), ==, 2);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/kempelen/core/tracks/interpolate", test_interpolate);
  g_test_add_func ("/kempelen/core/tracks/edit", test_edit);
  g_test_add_func ("/kempelen/core/tracks/json", test_json);
  g_test_add_func ("/kempelen/core/tracks/export-mot", test_export_mot);
  g_test_add_func ("/kempelen/core/tracks/export-cvat", test_export_cvat);
  g_test_add_func ("/kempelen/core/tracks/export-coco", test_export_coco);
  g_test_add_func ("/kempelen/core/tracks/export-ground-truth", test_export_ground_truth);

  return g_test_run ();
}
