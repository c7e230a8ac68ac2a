/* test-layout-view.c: HIT layouts as widgets, driven through the widgets
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * For each template of tests/core/layouts/ the test builds a
 * KpLayoutView, works it as a worker would (typing into entries,
 * checking buttons, dragging on the canvas, clicking vertices), and
 * compares kp_layout_view_get_answer() with a golden answer: core's own
 * NAME.answer.json when the interaction gives the same widget values as
 * core's NAME.values.json, else tests/app/data/layouts/NAME.answer.json
 * (KP_UPDATE_GOLDEN=1 rewrites those; review the diff).
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <adwaita.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <libsoup/soup.h>

#include "kp-audio-segmenter.h"
#include "kp-canvas.h"
#include "kp-core.h"
#include "kp-layout-view.h"
#include "kp-test-render.h"
#include "kp-video-tracker.h"

typedef struct
{
  GtkWidget    *window;
  KpLayoutView *view;
  KpLayout     *layout;
  guint         n_submitted;
  JsonArray    *submitted;
} Fixture;

static gboolean
log_fatal_cb (const char     *log_domain,
              GLogLevelFlags  log_level,
              const char     *message,
              gpointer        user_data)
{
  /* Xvfb has no session bus: that is the machine, not the code. */
  if (g_strcmp0 (log_domain, "Gtk") == 0 && strstr (message, "session bus") != NULL)
    return FALSE;

  return TRUE;
}

static char *
layouts_dir (void)
{
  return g_build_filename (g_getenv ("KP_SOURCE_ROOT"), "tests", "core", "layouts", NULL);
}

static char *
app_golden_path (const char *base)
{
  g_autofree char *name = g_strconcat (base, ".answer.json", NULL);

  return g_build_filename (g_getenv ("KP_SOURCE_ROOT"), "tests", "app", "data", "layouts", name, NULL);
}

/* Test media: a flat texture whose size the URL names, so answers carry
 * known image sizes. */
static GdkTexture *
make_texture (int width,
              int height)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);

  gdk_pixbuf_fill (pixbuf, 0x8090a0ff);
  return gdk_texture_new_for_pixbuf (pixbuf);
}

static GdkTexture *
test_media (const char  *uri,
            gpointer     user_data,
            GError     **error)
{
  if (g_str_has_prefix (uri, "data:"))
    return make_texture (50, 60);
  if (g_str_equal (uri, "images/field.png"))
    return make_texture (100, 100);
  if (g_str_has_suffix (uri, "/cat.jpg") || g_str_has_suffix (uri, "/cats.jpg"))
    return make_texture (8, 8);
  if (g_str_has_suffix (uri, "/street.jpg") || g_str_has_suffix (uri, "/sea.jpg") ||
      g_str_has_suffix (uri, "/road.jpg"))
    return make_texture (640, 480);
  if (g_str_has_prefix (uri, "https://example.com/"))
    return make_texture (64, 48);

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "no test media for %s", uri);
  return NULL;
}

static void
submitted_cb (KpLayoutView *view,
              JsonArray    *answer,
              Fixture      *fixture)
{
  fixture->n_submitted++;
  g_clear_pointer (&fixture->submitted, json_array_unref);
  fixture->submitted = json_array_ref (answer);
}

static void
wait_until_mapped (GtkWidget *widget)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while ((!gtk_widget_get_mapped (widget) || gtk_widget_get_width (widget) == 0) &&
         g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (gtk_widget_get_mapped (widget));
}

static void
fixture_load (Fixture    *fixture,
              const char *name)
{
  g_autofree char *dir = layouts_dir ();
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize length;

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);
  fixture->layout = kp_layout_new_from_data (contents, length, KP_LAYOUT_FORMAT_AUTO, &error);
  g_assert_no_error (error);

  fixture->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 900, 700);
  fixture->view = KP_LAYOUT_VIEW (kp_layout_view_new ());
  kp_layout_view_set_media_func (fixture->view, test_media, NULL, NULL);
  g_signal_connect (fixture->view, "submitted", G_CALLBACK (submitted_cb), fixture);
  kp_layout_view_set_layout (fixture->view, fixture->layout);
  gtk_window_set_child (GTK_WINDOW (fixture->window), GTK_WIDGET (fixture->view));
  gtk_window_present (GTK_WINDOW (fixture->window));
  wait_until_mapped (GTK_WIDGET (fixture->view));
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  if (fixture->window != NULL)
    gtk_window_destroy (GTK_WINDOW (fixture->window));
  g_clear_object (&fixture->layout);
  g_clear_pointer (&fixture->submitted, json_array_unref);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Widget helpers: every change goes through the widget, as a worker's would. */

static GtkWidget *
control (Fixture    *fixture,
         const char *name)
{
  GtkWidget *widget = kp_layout_view_get_control (fixture->view, name);

  if (widget == NULL)
    g_error ("no control named %s", name);
  return widget;
}

static GtkWidget *
choice (Fixture    *fixture,
        const char *name,
        const char *value)
{
  GtkWidget *widget = kp_layout_view_get_choice (fixture->view, name, value);

  if (widget == NULL)
    g_error ("no choice %s of %s", value, name);
  return widget;
}

static void
type_text (Fixture    *fixture,
           const char *name,
           const char *text)
{
  GtkWidget *widget = control (fixture, name);

  if (GTK_IS_TEXT_VIEW (widget))
    gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (widget)), text, -1);
  else
    gtk_editable_set_text (GTK_EDITABLE (widget), text);
}

static void
check (Fixture    *fixture,
       const char *name,
       const char *value,
       gboolean    active)
{
  GtkWidget *widget = value != NULL ? choice (fixture, name, value) : control (fixture, name);

  if (GTK_IS_CHECK_BUTTON (widget))
    gtk_check_button_set_active (GTK_CHECK_BUTTON (widget), active);
  else if (GTK_IS_SWITCH (widget))
    gtk_switch_set_active (GTK_SWITCH (widget), active);
  else if (GTK_IS_TOGGLE_BUTTON (widget))
    gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (widget), active);
  else
    g_assert_not_reached ();
}

/* What a pointer click on a button does (gtk_widget_activate() would
 * emit "clicked" only after the button's pressed-look timeout). */
static void
press (GtkWidget *button)
{
  g_assert_true (GTK_IS_BUTTON (button));
  g_assert_true (gtk_widget_is_sensitive (button));
  g_signal_emit_by_name (button, "clicked");
}

static void
click (Fixture    *fixture,
       const char *name,
       const char *value)
{
  press (choice (fixture, name, value));
}

static void
tool_click (KpCanvas *canvas,
            double    x,
            double    y)
{
  kp_canvas_tool_press (canvas, x, y, 0);
  kp_canvas_tool_release (canvas, x, y, 0);
}

/* A canvas gets its document once it is shown. */
static void
wait_for_document (KpCanvas *canvas)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (kp_canvas_get_document (canvas) == NULL && g_get_monotonic_time () < deadline)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
  g_assert_nonnull (kp_canvas_get_document (canvas));
}

static void
drag_box (KpCanvas *canvas,
          double    x0,
          double    y0,
          double    x1,
          double    y1)
{
  kp_canvas_tool_press (canvas, x0, y0, 0);
  kp_canvas_tool_motion (canvas, (x0 + x1) / 2, (y0 + y1) / 2, 0);
  kp_canvas_tool_motion (canvas, x1, y1, 0);
  kp_canvas_tool_release (canvas, x1, y1, 0);
}

/* Answers */

static char *
pretty (JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();

  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, node);
  return json_generator_to_data (generator, NULL);
}

/* PNG answers are checked, then named by their size: the bytes depend
 * on the PNG encoder. */
static void
normalize_pngs (JsonNode *node)
{
  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array); i++)
        normalize_pngs (json_array_get_element (array, i));
    }
  else if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *object = json_node_get_object (node);
      g_autoptr(GList) members = json_object_get_members (object);

      for (GList *l = members; l != NULL; l = l->next)
        {
          JsonNode *member = json_object_get_member (object, l->data);

          if (g_str_equal (l->data, "pngImageData"))
            {
              gsize len = 0;
              g_autofree guchar *png = g_base64_decode (json_node_get_string (member), &len);
              g_autoptr(GBytes) bytes = g_bytes_new (png, len);
              g_autoptr(GError) error = NULL;
              g_autoptr(GdkTexture) texture = gdk_texture_new_from_bytes (bytes, &error);
              g_autofree char *name = NULL;

              g_assert_no_error (error);
              name = g_strdup_printf ("<PNG %dx%d>", gdk_texture_get_width (texture),
                                      gdk_texture_get_height (texture));
              json_object_set_string_member (object, l->data, name);
            }
          else
            normalize_pngs (member);
        }
    }
}

static char *
answer_text (Fixture *fixture)
{
  g_autoptr(JsonArray) answers = kp_layout_view_get_answer (fixture->view, NULL);
  g_autoptr(JsonNode) node = NULL;
  JsonObject *first;

  g_assert_nonnull (answers);
  first = json_array_get_object_element (answers, 0);
  if (g_strcmp0 (json_object_get_string_member_with_default (first, "QuestionIdentifier", NULL),
                 "taskAnswers") == 0)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(GError) error = NULL;

      g_assert_cmpuint (json_array_get_length (answers), ==, 1);
      json_parser_load_from_data (parser, json_object_get_string_member (first, "FreeText"), -1, &error);
      g_assert_no_error (error);
      node = json_node_copy (json_parser_get_root (parser));
    }
  else
    node = json_node_init_array (json_node_alloc (), answers);

  normalize_pngs (node);
  return pretty (node);
}

/* Values as sorted JSON text, to compare two tables. */
static char *
values_text (GHashTable *values)
{
  g_autoptr(GList) keys = g_list_sort (g_hash_table_get_keys (values), (GCompareFunc)g_strcmp0);
  g_autoptr(JsonObject) object = json_object_new ();
  g_autoptr(JsonNode) node = NULL;

  for (GList *l = keys; l != NULL; l = l->next)
    json_object_set_member (object, l->data, json_node_copy (g_hash_table_lookup (values, l->data)));
  node = json_node_init_object (json_node_alloc (), object);
  return pretty (node);
}

static void
count_cb (gpointer  instance,
          guint    *count)
{
  (*count)++;
}

/* A worker's draft: the values go into a new view of the same layout,
 * which gives them (and the answer) back unchanged, without "changed". */
static void
assert_round_trip (Fixture *fixture)
{
  g_autoptr(GHashTable) values = kp_layout_view_dup_values (fixture->view);
  g_autoptr(GHashTable) restored = NULL;
  g_autoptr(JsonArray) answer = kp_layout_view_get_answer (fixture->view, NULL);
  g_autoptr(JsonArray) restored_answer = NULL;
  g_autofree char *expected = values_text (values);
  g_autofree char *actual = NULL;
  GtkWidget *window = gtk_window_new ();
  KpLayoutView *view = KP_LAYOUT_VIEW (kp_layout_view_new ());
  guint n_changed = 0;

  gtk_window_set_default_size (GTK_WINDOW (window), 900, 700);
  kp_layout_view_set_media_func (view, test_media, NULL, NULL);
  kp_layout_view_set_layout (view, fixture->layout);
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (view));
  gtk_window_present (GTK_WINDOW (window));
  wait_until_mapped (GTK_WIDGET (view));
  g_signal_connect (view, "changed", G_CALLBACK (count_cb), &n_changed);

  kp_layout_view_set_values (view, values);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (n_changed, ==, 0);

  restored = kp_layout_view_dup_values (view);
  actual = values_text (restored);
  g_assert_cmpstr (actual, ==, expected);

  restored_answer = kp_layout_view_get_answer (view, NULL);
  g_assert_true ((answer == NULL) == (restored_answer == NULL));
  if (answer != NULL)
    {
      g_autoptr(JsonNode) a = json_node_init_array (json_node_alloc (), answer);
      g_autoptr(JsonNode) b = json_node_init_array (json_node_alloc (), restored_answer);
      g_autofree char *ta = pretty (a);
      g_autofree char *tb = pretty (b);

      g_assert_cmpstr (tb, ==, ta);
    }

  gtk_window_destroy (GTK_WINDOW (window));
}

static void
assert_answer (Fixture    *fixture,
               const char *name,
               gboolean    own_golden)
{
  g_autofree char *actual = answer_text (fixture);
  g_autofree char *base = g_strndup (name, strrchr (name, '.') - name);
  g_autofree char *dir = layouts_dir ();
  g_autofree char *core_path = g_strdup_printf ("%s/%s.answer.json", dir, base);
  g_autofree char *path = own_golden ? app_golden_path (base) : g_strdup (core_path);
  g_autofree char *expected = NULL;
  g_autoptr(GError) error = NULL;

  if (own_golden && g_getenv ("KP_UPDATE_GOLDEN") != NULL)
    {
      g_autofree char *parent = g_path_get_dirname (path);

      g_mkdir_with_parents (parent, 0755);
      g_file_set_contents (path, actual, -1, &error);
      g_assert_no_error (error);
    }

  g_file_get_contents (path, &expected, NULL, &error);
  g_assert_no_error (error);
  if (g_strcmp0 (expected, actual) != 0)
    g_test_message ("%s differs; got:\n%s", path, actual);
  g_assert_cmpstr (actual, ==, expected);

  assert_round_trip (fixture);
}

/* The corpus, one scripted worker per template */

static void
test_classifiers (Fixture       *fixture,
                  gconstpointer  data)
{
  fixture_load (fixture, "classifiers.html");

  check (fixture, "sentiment", "Positive", TRUE);
  check (fixture, "topics", "Price", TRUE);
  check (fixture, "topics", "Battery", TRUE);
  check (fixture, "topics", "Screen", TRUE);
  check (fixture, "topics", "Price", FALSE);
  check (fixture, "animal", "Cat", TRUE);
  check (fixture, "animal", "Dog", TRUE);
  check (fixture, "animals", "Cat", TRUE);
  /* The exclusion category clears the others. */
  check (fixture, "animals", "None", TRUE);
  g_assert_false (gtk_check_button_get_active (GTK_CHECK_BUTTON (choice (fixture, "animals", "Cat"))));

  assert_answer (fixture, "classifiers.html", FALSE);
}

static void
test_form_fields (Fixture       *fixture,
                  gconstpointer  data)
{
  fixture_load (fixture, "form-fields.html");

  type_text (fixture, "title", "Sunny day");
  type_text (fixture, "age", "42");
  check (fixture, "agree", NULL, TRUE);
  check (fixture, "yes", "yes", TRUE);
  check (fixture, "light", "Red", TRUE);
  check (fixture, "light", "Green", FALSE);
  check (fixture, "show", "westworld", TRUE);
  check (fixture, "night", NULL, TRUE);
  gtk_range_set_value (GTK_RANGE (control (fixture, "quality")), 7);
  type_text (fixture, "comment", "fine");
  type_text (fixture, "long", "More text");
  gtk_drop_down_set_selected (GTK_DROP_DOWN (control (fixture, "color")), 1);
  check (fixture, "extra", NULL, TRUE);
  check (fixture, "size", "m", TRUE);

  /* The disabled check box keeps its state. */
  g_assert_false (gtk_widget_get_sensitive (control (fixture, "blurry")));

  assert_answer (fixture, "form-fields.html", FALSE);
}

static void
test_entity_annotation (Fixture       *fixture,
                        gconstpointer  data)
{
  GtkTextBuffer *buffer;
  GtkTextIter start, end;

  fixture_load (fixture, "entity-annotation.html");
  buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (control (fixture, "entities")));

  /* "Ada Lovelace" over the initial "Ada", then "London". */
  gtk_text_buffer_get_iter_at_offset (buffer, &start, 0);
  gtk_text_buffer_get_iter_at_offset (buffer, &end, 12);
  gtk_text_buffer_select_range (buffer, &start, &end);
  click (fixture, "entities", "person");
  gtk_text_buffer_get_iter_at_offset (buffer, &start, 22);
  gtk_text_buffer_get_iter_at_offset (buffer, &end, 28);
  gtk_text_buffer_select_range (buffer, &start, &end);
  click (fixture, "entities", "place");
  check (fixture, "people", "people", TRUE);

  /* crowd-entity-annotation submits by itself: the view adds Submit. */
  g_assert_nonnull (kp_layout_view_get_submit_button (fixture->view));

  assert_answer (fixture, "entity-annotation.html", FALSE);
}

static void
test_flatten_objects (Fixture       *fixture,
                      gconstpointer  data)
{
  fixture_load (fixture, "flatten-objects.html");

  check (fixture, "category", "Dog", TRUE);
  check (fixture, "unsure", NULL, TRUE);

  assert_answer (fixture, "flatten-objects.html", FALSE);
}

static void
test_question_form (Fixture       *fixture,
                    gconstpointer  data)
{
  fixture_load (fixture, "question-form.xml");

  check (fixture, "stars", "s5", TRUE);
  g_assert_true (GTK_IS_TEXT_VIEW (control (fixture, "why")));
  type_text (fixture, "why", "nice light");

  assert_answer (fixture, "question-form.xml", FALSE);
}

static void
test_html_question (Fixture       *fixture,
                    gconstpointer  data)
{
  fixture_load (fixture, "html-question.xml");

  check (fixture, "q", "No", TRUE);
  /* The box element without src= still answers with its (placeholder)
   * image: core's golden leaves it out, so ours differs there. */
  assert_answer (fixture, "html-question.xml", TRUE);
}

static void
test_problems (Fixture       *fixture,
               gconstpointer  data)
{
  fixture_load (fixture, "problems.html");

  type_text (fixture, "dup", "x");
  assert_answer (fixture, "problems.html", FALSE);
}

static GtkWidget *
find_of_type (GtkWidget *widget,
              GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_of_type (child, type);

      if (found != NULL)
        return found;
    }

  return NULL;
}

static void
test_elements (Fixture       *fixture,
               gconstpointer  data)
{
  GtkWidget *video;
  GtkMediaStream *stream;
  GPtrArray *problems;
  guint placeholders = 0;

  fixture_load (fixture, "elements.html");

  /* <video> and <audio> are players, and our own media elements their
   * widgets: nothing is a placeholder. */
  problems = kp_layout_view_get_problems (fixture->view);
  for (guint i = 0; i < problems->len; i++)
    {
      const KpLayoutProblem *p = g_ptr_array_index (problems, i);

      g_assert_cmpint (p->severity, ==, KP_LAYOUT_SEVERITY_WARNING);
      if (strstr (p->message, "placeholder") != NULL)
        placeholders++;
    }
  g_assert_cmpuint (placeholders, ==, 0);
  video = find_of_type (GTK_WIDGET (fixture->view), GTK_TYPE_VIDEO);
  g_assert_nonnull (video);
  g_assert_false (gtk_video_get_autoplay (GTK_VIDEO (video)));
  stream = gtk_video_get_media_stream (GTK_VIDEO (video));
  g_assert_nonnull (stream);
  g_assert_false (gtk_media_stream_get_playing (stream));
  {
    g_autofree char *basename = g_file_get_basename (gtk_video_get_file (GTK_VIDEO (video)));

    g_assert_cmpstr (basename, ==, "clip.webm");
  }
  g_assert_true (KP_IS_AUDIO_SEGMENTER (control (fixture, "speech")));
  g_assert_true (KP_IS_VIDEO_TRACKER (control (fixture, "cars")));

  /* Their values, as a worker made them, reach the answer. */
  {
    g_autoptr(JsonNode) segments = kp_layout_parse_lenient_json (
      "{segments: [{label: 'Alice', startTime: 0.5, endTime: 2.25}]}", NULL);
    g_autoptr(JsonNode) tracks = kp_layout_parse_lenient_json (
      "{tracks: [{id: 1, label: 'Car', frames: [{frame: 0, left: 1, top: 2, width: 3, height: 4},"
      " {frame: 4, left: 5, top: 6, width: 7, height: 8}]}]}", NULL);

    g_assert_true (kp_audio_segmenter_set_value (KP_AUDIO_SEGMENTER (control (fixture, "speech")), segments));
    g_assert_true (kp_video_tracker_set_value (KP_VIDEO_TRACKER (control (fixture, "cars")), tracks));
  }

  /* crowd-button form-action="submit" submits; the view adds no other
   * Submit button. */
  g_assert_null (kp_layout_view_get_submit_button (fixture->view));
  g_assert_true (kp_layout_view_submit (fixture->view));
  g_assert_cmpuint (fixture->n_submitted, ==, 1);
  /* So does the view's action, which Ctrl+Return activates. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->view), "layout.submit", NULL));
  g_assert_cmpuint (fixture->n_submitted, ==, 2);

  assert_answer (fixture, "elements.html", TRUE);
}

static void
test_image_tools (Fixture       *fixture,
                  gconstpointer  data)
{
  KpCanvas *canvas;

  fixture_load (fixture, "image-tools.html");

  /* Boxes: the initial Car stays; a Person is drawn beside it. */
  canvas = KP_CANVAS (control (fixture, "boxes"));
  g_assert_cmpuint (kp_document_get_annotations (kp_canvas_get_document (canvas))->len, ==, 1);
  click (fixture, "boxes", "Person");
  drag_box (canvas, 100, 50.6, 120, 110.6);
  g_assert_cmpuint (kp_document_get_annotations (kp_canvas_get_document (canvas))->len, ==, 2);

  /* Polygons, keypoints, lines and polylines: the canvas with the
   * workstation's tools. */
  canvas = KP_CANVAS (control (fixture, "shapes"));
  wait_for_document (canvas);
  g_assert_cmpint (kp_tool_get_kind (kp_canvas_get_tool (canvas)), ==, KP_TOOL_KIND_POLYGON);
  click (fixture, "shapes", "Corn");
  tool_click (canvas, 1, 2);
  tool_click (canvas, 30, 2);
  tool_click (canvas, 15.5, 40);
  g_assert_cmpuint (kp_document_get_annotations (kp_canvas_get_document (canvas))->len, ==, 0);
  /* A click on the first vertex closes the polygon. */
  tool_click (canvas, 1.5, 2.5);
  g_assert_cmpuint (kp_document_get_annotations (kp_canvas_get_document (canvas))->len, ==, 1);

  canvas = KP_CANVAS (control (fixture, "joints"));
  wait_for_document (canvas);
  g_assert_cmpint (kp_tool_get_kind (kp_canvas_get_tool (canvas)), ==, KP_TOOL_KIND_POINT);
  click (fixture, "joints", "Knee");
  tool_click (canvas, 12, 34);

  canvas = KP_CANVAS (control (fixture, "horizon"));
  wait_for_document (canvas);
  tool_click (canvas, 0, 100);
  tool_click (canvas, 640, 90);

  canvas = KP_CANVAS (control (fixture, "lanes"));
  wait_for_document (canvas);
  tool_click (canvas, 0, 0);
  tool_click (canvas, 5, 5);
  tool_click (canvas, 9, 20);
  g_assert_true (kp_tool_key_pressed (kp_canvas_get_tool (canvas), GDK_KEY_Return, 0));

  /* Segmentation: the brush paints one MASK per label... */
  canvas = KP_CANVAS (control (fixture, "paint"));
  wait_for_document (canvas);
  g_assert_cmpint (kp_tool_get_kind (kp_canvas_get_tool (canvas)), ==, KP_TOOL_KIND_BRUSH);
  click (fixture, "paint", "Dog");
  tool_click (canvas, 2, 2);
  click (fixture, "paint", "Cat");
  tool_click (canvas, 6, 6);
  g_assert_cmpuint (kp_document_get_annotations (kp_canvas_get_document (canvas))->len, ==, 2);
  /* ...and painting a label again adds to its mask. */
  click (fixture, "paint", "Dog");
  tool_click (canvas, 2, 2.5);
  g_assert_cmpuint (kp_document_get_annotations (kp_canvas_get_document (canvas))->len, ==, 2);

  /* ...or one per instance. */
  canvas = KP_CANVAS (control (fixture, "instances"));
  wait_for_document (canvas);
  tool_click (canvas, 4, 4);
  g_assert_cmpuint (kp_document_get_annotations (kp_canvas_get_document (canvas))->len, ==, 1);

  assert_answer (fixture, "image-tools.html", TRUE);

  /* The labeled image holds each label's colour where it was painted. */
  {
    g_autoptr(GHashTable) values = kp_layout_view_dup_values (fixture->view);
    JsonNode *value = g_hash_table_lookup (values, "paint");
    JsonObject *image = json_object_get_object_member (json_node_get_object (value), "labeledImage");
    gsize len = 0;
    g_autofree guchar *png = g_base64_decode (json_object_get_string_member (image, "pngImageData"), &len);
    g_autoptr(GInputStream) stream = g_memory_input_stream_new_from_data (png, len, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new_from_stream (stream, NULL, &error);
    const guint8 *pixels;
    int stride;

    g_assert_no_error (error);
    g_assert_true (gdk_pixbuf_get_has_alpha (pixbuf));
    pixels = gdk_pixbuf_get_pixels (pixbuf);
    stride = gdk_pixbuf_get_rowstride (pixbuf);
    /* Dog is the second label: #ff7f0e; Cat the first: #1f77b4. */
    g_assert_cmpmem (pixels + 2 * stride + 2 * 4, 4, ((guint8[]) { 0xff, 0x7f, 0x0e, 0xff }), 4);
    g_assert_cmpmem (pixels + 6 * stride + 6 * 4, 4, ((guint8[]) { 0x1f, 0x77, 0xb4, 0xff }), 4);
    g_assert_cmpint (pixels[0 * stride + 7 * 4 + 3], ==, 0);
  }

  /* Undo takes the point back. */
  canvas = KP_CANVAS (control (fixture, "joints"));
  g_assert_true (kp_document_undo (kp_canvas_get_document (canvas), NULL));
  g_assert_cmpuint (kp_document_get_annotations (kp_canvas_get_document (canvas))->len, ==, 0);
}

/* The button labelled text in the smallest part of the page around
 * widget that has one. */
static GtkWidget *
find_button (GtkWidget  *widget,
             const char *text)
{
  for (GtkWidget *root = widget; root != NULL; root = gtk_widget_get_parent (root))
    {
      GtkWidget *stack[256];
      guint n = 0;

      stack[n++] = root;
      while (n > 0)
        {
          GtkWidget *w = stack[--n];

          if (GTK_IS_BUTTON (w) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (w)), text) == 0)
            return w;
          for (GtkWidget *c = gtk_widget_get_first_child (w); c != NULL && n < G_N_ELEMENTS (stack);
               c = gtk_widget_get_next_sibling (c))
            stack[n++] = c;
        }
    }

  return NULL;
}

static JsonObject *
segmentation_value (GHashTable *values,
                    const char *name)
{
  return json_node_get_object (g_hash_table_lookup (values, name));
}

/* The RGBA of pixel (x, y) of a segmentation's labeled image. */
static guint32
labeled_pixel (KpLayoutView *view,
               const char   *name,
               int           x,
               int           y)
{
  g_autoptr(GHashTable) values = kp_layout_view_dup_values (view);
  JsonObject *image = json_object_get_object_member (segmentation_value (values, name), "labeledImage");
  gsize len = 0;
  g_autofree guchar *png = g_base64_decode (json_object_get_string_member (image, "pngImageData"), &len);
  g_autoptr(GInputStream) stream = g_memory_input_stream_new_from_data (png, len, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new_from_stream (stream, NULL, &error);
  const guint8 *p;

  g_assert_no_error (error);
  g_assert_true (gdk_pixbuf_get_has_alpha (pixbuf));
  p = gdk_pixbuf_get_pixels (pixbuf) + y * gdk_pixbuf_get_rowstride (pixbuf) + x * 4;

  return ((guint32)p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

static void
test_segmentation (Fixture       *fixture,
                   gconstpointer  data)
{
  KpCanvas *canvas;
  KpDocument *document;
  GtkWidget *eraser;

  fixture_load (fixture, "image-tools.html");

  /* Semantic: paint Dog, erase it with the Eraser, undo the erasing. */
  canvas = KP_CANVAS (control (fixture, "paint"));
  wait_for_document (canvas);
  document = kp_canvas_get_document (canvas);
  click (fixture, "paint", "Dog");
  tool_click (canvas, 2, 2);
  g_assert_cmphex (labeled_pixel (fixture->view, "paint", 2, 2), ==, 0xff7f0eff);
  eraser = find_button (GTK_WIDGET (canvas), "Eraser");
  g_assert_true (GTK_IS_TOGGLE_BUTTON (eraser));
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (eraser), TRUE);
  g_assert_cmpint (kp_tool_get_kind (kp_canvas_get_tool (canvas)), ==, KP_TOOL_KIND_ERASER);
  tool_click (canvas, 2, 2);
  g_assert_cmphex (labeled_pixel (fixture->view, "paint", 2, 2), ==, 0);
  {
    g_autoptr(GHashTable) values = kp_layout_view_dup_values (fixture->view);

    g_assert_cmpuint (json_object_get_size (json_object_get_object_member (segmentation_value (values, "paint"),
                                                                           "labelMappings")), ==, 0);
  }
  g_assert_true (kp_document_undo (document, NULL));
  g_assert_cmphex (labeled_pixel (fixture->view, "paint", 2, 2), ==, 0xff7f0eff);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (eraser), FALSE);
  g_assert_cmpint (kp_tool_get_kind (kp_canvas_get_tool (canvas)), ==, KP_TOOL_KIND_BRUSH);

  /* A pixel has one label, the one painted last: Cat over Dog, then
   * Dog over Cat again. */
  click (fixture, "paint", "Cat");
  tool_click (canvas, 2, 2);
  g_assert_cmphex (labeled_pixel (fixture->view, "paint", 2, 2), ==, 0x1f77b4ff);
  click (fixture, "paint", "Dog");
  tool_click (canvas, 2, 2);
  g_assert_cmphex (labeled_pixel (fixture->view, "paint", 2, 2), ==, 0xff7f0eff);
  g_assert_cmpuint (kp_document_get_annotations (document)->len, ==, 2);
  /* One undo gives Cat its pixels back and takes Dog's stroke away: the
   * brush cuts what it paints over in the same step. */
  g_assert_true (kp_document_undo (document, NULL));
  g_assert_cmphex (labeled_pixel (fixture->view, "paint", 2, 2), ==, 0x1f77b4ff);

  /* Instances: New Instance starts another (as choosing another label
   * does). */
  canvas = KP_CANVAS (control (fixture, "instances"));
  wait_for_document (canvas);
  document = kp_canvas_get_document (canvas);
  tool_click (canvas, 1, 1);
  tool_click (canvas, 1.5, 1);
  g_assert_cmpuint (kp_document_get_annotations (document)->len, ==, 1);
  g_signal_emit_by_name (find_button (GTK_WIDGET (canvas), "New Instance"), "clicked");
  tool_click (canvas, 6, 6);
  g_assert_cmpuint (kp_document_get_annotations (document)->len, ==, 2);
  g_signal_emit_by_name (find_button (GTK_WIDGET (canvas), "New Instance"), "clicked");
  tool_click (canvas, 7, 1);
  g_assert_cmpuint (kp_document_get_annotations (document)->len, ==, 3);
  /* Each instance its own colour, later ones over earlier ones. */
  g_assert_cmphex (labeled_pixel (fixture->view, "instances", 0, 0), ==, 0x1f77b4ff);
  g_assert_cmphex (labeled_pixel (fixture->view, "instances", 6, 6), ==, 0xff7f0eff);
  g_assert_cmphex (labeled_pixel (fixture->view, "instances", 7, 0), ==, 0x2ca02cff);
  {
    g_autoptr(GHashTable) values = kp_layout_view_dup_values (fixture->view);
    JsonArray *instances = json_object_get_array_member (segmentation_value (values, "instances"), "instances");

    g_assert_cmpuint (json_array_get_length (instances), ==, 3);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (instances, 1), "color"), ==,
                     "#ff7f0e");
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (instances, 2), "label"), ==,
                     "Cat");
  }

  /* A draft goes back into masks on a view shown or not. */
  {
    g_autoptr(GHashTable) values = kp_layout_view_dup_values (fixture->view);
    g_autoptr(GHashTable) restored = NULL;
    g_autofree char *expected = values_text (values);
    g_autofree char *actual = NULL;
    KpLayoutView *hidden = KP_LAYOUT_VIEW (g_object_ref_sink (kp_layout_view_new ()));

    kp_layout_view_set_media_func (hidden, test_media, NULL, NULL);
    kp_layout_view_set_layout (hidden, fixture->layout);
    kp_layout_view_set_values (hidden, values);
    restored = kp_layout_view_dup_values (hidden);
    actual = values_text (restored);
    g_assert_cmpstr (actual, ==, expected);
    g_object_unref (hidden);

    kp_layout_view_set_values (fixture->view, values);
    g_assert_cmpuint (kp_document_get_annotations (document)->len, ==, 3);
    g_clear_pointer (&restored, g_hash_table_unref);
    g_clear_pointer (&actual, g_free);
    restored = kp_layout_view_dup_values (fixture->view);
    actual = values_text (restored);
    g_assert_cmpstr (actual, ==, expected);
  }
}

static void
test_external_question (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autofree char *uri = NULL;
  g_autoptr(JsonArray) answer = NULL;

  fixture_load (fixture, "external-question.xml");

  uri = kp_layout_view_dup_external_uri (fixture->view);
  g_assert_cmpstr (uri, ==, "https://tasks.example.com/survey?x=1&assignmentId=ASSIGNMENT_ID_NOT_AVAILABLE"
                            "&hitId=PREVIEW&workerId=PREVIEW&turkSubmitTo=https%3A%2F%2Fworkersandbox.mturk.com");
  g_clear_pointer (&uri, g_free);

  kp_layout_view_set_external_params (fixture->view, "A1", "H 1", "W1", "http://localhost:8080");
  uri = kp_layout_view_dup_external_uri (fixture->view);
  g_assert_cmpstr (uri, ==, "https://tasks.example.com/survey?x=1&assignmentId=A1&hitId=H%201"
                            "&workerId=W1&turkSubmitTo=http%3A%2F%2Flocalhost%3A8080");

  /* Nothing to answer here: the external site posts the form. */
  answer = kp_layout_view_get_answer (fixture->view, NULL);
  g_assert_null (answer);
  g_assert_null (kp_layout_view_get_submit_button (fixture->view));
}

/* Validation */

static void
test_validation (Fixture       *fixture,
                 gconstpointer  data)
{
  GtkWidget *title;
  const char *error;

  fixture_load (fixture, "form-fields.html");
  title = control (fixture, "title");

  /* Required fields left empty block Submit, with the error beside the
   * field and the focus on the first. */
  gtk_widget_grab_focus (control (fixture, "comment"));
  g_assert_false (kp_layout_view_submit (fixture->view));
  g_assert_cmpuint (fixture->n_submitted, ==, 0);
  error = kp_layout_view_get_error (fixture->view, "title");
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error, "required"));
  g_assert_true (gtk_widget_has_focus (title) || gtk_widget_is_ancestor (gtk_root_get_focus (gtk_widget_get_root (title)), title));
  g_assert_nonnull (kp_layout_view_get_error (fixture->view, "agree"));
  g_assert_nonnull (kp_layout_view_get_error (fixture->view, "quality"));

  /* min-length and allowed-pattern */
  type_text (fixture, "title", "ab");
  g_assert_false (kp_layout_view_validate (fixture->view));
  g_assert_nonnull (strstr (kp_layout_view_get_error (fixture->view, "title"), "at least 3"));
  /* allowed-pattern refuses other characters as they are typed. */
  type_text (fixture, "title", "abc1");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (title)), ==, "abc");
  gtk_editable_set_position (GTK_EDITABLE (title), -1);
  {
    int position = 3;

    gtk_editable_insert_text (GTK_EDITABLE (title), "d-e", -1, &position);
  }
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (title)), ==, "abcde");
  /* The title is fine now; the check box and slider still are not. */
  g_assert_false (kp_layout_view_validate (fixture->view));
  g_assert_null (kp_layout_view_get_error (fixture->view, "title"));
  g_assert_nonnull (kp_layout_view_get_error (fixture->view, "agree"));

  /* Fixed, everything passes and Submit sends what get_answer gives. */
  type_text (fixture, "title", "A title");
  check (fixture, "agree", NULL, TRUE);
  gtk_range_set_value (GTK_RANGE (control (fixture, "quality")), 3);
  press (kp_layout_view_get_submit_button (fixture->view));
  g_assert_cmpuint (fixture->n_submitted, ==, 1);
  g_assert_null (kp_layout_view_get_error (fixture->view, "title"));
  {
    g_autoptr(JsonArray) answer = kp_layout_view_get_answer (fixture->view, NULL);
    g_autoptr(JsonNode) a = json_node_init_array (json_node_alloc (), answer);
    g_autoptr(JsonNode) b = json_node_init_array (json_node_alloc (), fixture->submitted);

    g_assert_true (json_node_equal (a, b));
  }
}

static void
test_question_form_constraints (Fixture       *fixture,
                                gconstpointer  data)
{
  fixture_load (fixture, "question-form.xml");

  /* Nothing chosen for a required question, and text against the
   * AnswerFormatRegex. */
  type_text (fixture, "why", "UPPER CASE");
  g_assert_false (kp_layout_view_submit (fixture->view));
  g_assert_nonnull (kp_layout_view_get_error (fixture->view, "stars"));

  check (fixture, "stars", "s1", TRUE);
  g_assert_false (kp_layout_view_submit (fixture->view));
  g_assert_null (kp_layout_view_get_error (fixture->view, "stars"));
  g_assert_nonnull (strstr (kp_layout_view_get_error (fixture->view, "why"), "Lower case only"));

  type_text (fixture, "why", "x");
  g_assert_false (kp_layout_view_submit (fixture->view));
  g_assert_nonnull (kp_layout_view_get_error (fixture->view, "why"));

  type_text (fixture, "why", "fine");
  g_assert_true (kp_layout_view_submit (fixture->view));
  g_assert_cmpuint (fixture->n_submitted, ==, 1);
}

/* Every QuestionForm StyleSuggestion, and OtherSelection */

static void
test_selection_styles (Fixture       *fixture,
                       gconstpointer  data)
{
  static const char *styles[] = { "radiobutton", "checkbox", "list", "dropdown", "combobox", "multichooser" };
  GString *xml = g_string_new ("<QuestionForm xmlns=\"http://mechanicalturk.amazonaws.com/"
                               "AWSMechanicalTurkDataSchemas/2017-11-06/QuestionForm.xsd\">\n");
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) answer = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *json = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (styles); i++)
    g_string_append_printf (xml,
      "<Question><QuestionIdentifier>%s</QuestionIdentifier><QuestionContent><Text>%s?</Text></QuestionContent>"
      "<AnswerSpecification><SelectionAnswer><MinSelectionCount>0</MinSelectionCount>"
      "<MaxSelectionCount>%d</MaxSelectionCount><StyleSuggestion>%s</StyleSuggestion><Selections>"
      "<Selection><SelectionIdentifier>a</SelectionIdentifier><Text>A</Text></Selection>"
      "<Selection><SelectionIdentifier>b</SelectionIdentifier><Text>B</Text></Selection>"
      "%s</Selections></SelectionAnswer></AnswerSpecification></Question>\n",
      styles[i], styles[i], g_str_equal (styles[i], "checkbox") || g_str_equal (styles[i], "multichooser") ? 2 : 1,
      styles[i], i == 0 ? "<OtherSelection/>" : "");
  g_string_append (xml, "</QuestionForm>\n");
  text = g_string_free (xml, FALSE);

  fixture->layout = kp_layout_new_from_data (text, -1, KP_LAYOUT_FORMAT_AUTO, &error);
  g_assert_no_error (error);
  fixture->window = gtk_window_new ();
  fixture->view = KP_LAYOUT_VIEW (kp_layout_view_new ());
  kp_layout_view_set_layout (fixture->view, fixture->layout);
  gtk_window_set_child (GTK_WINDOW (fixture->window), GTK_WIDGET (fixture->view));
  gtk_window_present (GTK_WINDOW (fixture->window));
  wait_until_mapped (GTK_WIDGET (fixture->view));

  g_assert_true (GTK_IS_BOX (control (fixture, "radiobutton")));
  check (fixture, "radiobutton", "b", TRUE);
  check (fixture, "checkbox", "a", TRUE);
  check (fixture, "checkbox", "b", TRUE);
  g_assert_true (GTK_IS_LIST_BOX (control (fixture, "list")));
  gtk_list_box_select_row (GTK_LIST_BOX (control (fixture, "list")), GTK_LIST_BOX_ROW (choice (fixture, "list", "a")));
  g_assert_true (GTK_IS_DROP_DOWN (control (fixture, "dropdown")));
  gtk_drop_down_set_selected (GTK_DROP_DOWN (control (fixture, "dropdown")), 2);
  g_assert_true (gtk_drop_down_get_enable_search (GTK_DROP_DOWN (control (fixture, "combobox"))));
  g_assert_true (GTK_IS_LIST_BOX (control (fixture, "multichooser")));
  gtk_list_box_select_row (GTK_LIST_BOX (control (fixture, "multichooser")),
                           GTK_LIST_BOX_ROW (choice (fixture, "multichooser", "a")));
  gtk_list_box_select_row (GTK_LIST_BOX (control (fixture, "multichooser")),
                           GTK_LIST_BOX_ROW (choice (fixture, "multichooser", "b")));

  /* OtherSelection's entry follows the radio buttons. */
  {
    GtkWidget *entry = gtk_widget_get_last_child (gtk_widget_get_last_child (gtk_widget_get_parent (control (fixture, "radiobutton"))));

    g_assert_true (GTK_IS_ENTRY (entry));
    gtk_editable_set_text (GTK_EDITABLE (entry), "Something else");
  }

  answer = kp_layout_view_get_answer (fixture->view, NULL);
  node = json_node_init_array (json_node_alloc (), answer);
  json = json_to_string (node, FALSE);
  g_assert_cmpstr (json, ==,
                   "[{\"QuestionIdentifier\":\"radiobutton\",\"SelectionIdentifier\":[\"b\"],"
                   "\"OtherSelectionText\":\"Something else\"},"
                   "{\"QuestionIdentifier\":\"checkbox\",\"SelectionIdentifier\":[\"a\",\"b\"]},"
                   "{\"QuestionIdentifier\":\"list\",\"SelectionIdentifier\":[\"a\"]},"
                   "{\"QuestionIdentifier\":\"dropdown\",\"SelectionIdentifier\":[\"b\"]},"
                   "{\"QuestionIdentifier\":\"combobox\",\"SelectionIdentifier\":[]},"
                   "{\"QuestionIdentifier\":\"multichooser\",\"SelectionIdentifier\":[\"a\",\"b\"]}]");
}

/* Scripts never run; links with other schemes do nothing. */
static void
test_html_rendering (Fixture       *fixture,
                     gconstpointer  data)
{
  const char *html =
    "<h2>Title <em>here</em></h2><p>Text with <a href=\"javascript:alert(1)\">a link</a>.</p>"
    "<script>alert('no')</script><ul><li>one</li><li>two</li></ul>"
    "<table><tr><th>A</th><td>B</td></tr></table><crowd-frob>frob text</crowd-frob>";
  g_autoptr(GError) error = NULL;
  cairo_surface_t *surface;
  guint dark = 0;

  fixture->layout = kp_layout_new_from_data (html, -1, KP_LAYOUT_FORMAT_AUTO, &error);
  g_assert_no_error (error);
  fixture->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 400, 300);
  fixture->view = KP_LAYOUT_VIEW (kp_layout_view_new ());
  kp_layout_view_set_layout (fixture->view, fixture->layout);
  gtk_window_set_child (GTK_WINDOW (fixture->window), GTK_WIDGET (fixture->view));
  gtk_window_present (GTK_WINDOW (fixture->window));
  wait_until_mapped (GTK_WIDGET (fixture->view));

  /* No control and no Submit: nothing to answer. */
  g_assert_null (kp_layout_view_get_submit_button (fixture->view));
  g_assert_null (kp_layout_view_get_answer (fixture->view, NULL));

  /* Something is drawn: text pixels are dark. */
  surface = kp_test_render_widget (GTK_WIDGET (fixture->view), 0, 0, 300, 200);
  for (int y = 0; y < 200; y++)
    for (int x = 0; x < 300; x++)
      {
        guint8 *p = cairo_image_surface_get_data (surface) + y * cairo_image_surface_get_stride (surface) + x * 4;

        if (p[3] > 200 && p[0] < 100 && p[1] < 100 && p[2] < 100)
          dark++;
      }
  cairo_surface_destroy (surface);
  g_assert_cmpuint (dark, >, 200);
}

/* Every control is labelled for screen readers and reachable by
 * keyboard. */
static gboolean
has_focusable (GtkWidget *widget)
{
  if (gtk_widget_get_focusable (widget))
    return TRUE;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (has_focusable (child))
      return TRUE;

  return FALSE;
}

static gboolean
is_labelled (GtkWidget *widget)
{
  GtkAccessible *accessible = GTK_ACCESSIBLE (widget);

  if (gtk_test_accessible_has_property (accessible, GTK_ACCESSIBLE_PROPERTY_LABEL) ||
      gtk_test_accessible_has_relation (accessible, GTK_ACCESSIBLE_RELATION_LABELLED_BY))
    return TRUE;

  /* Check buttons are named by their own label. */
  if (GTK_IS_CHECK_BUTTON (widget) && gtk_check_button_get_label (GTK_CHECK_BUTTON (widget)) != NULL)
    return TRUE;

  return FALSE;
}

static void
test_accessible (Fixture       *fixture,
                 gconstpointer  data)
{
  static const char * const names[] = {
    "form-fields.html", "classifiers.html", "image-tools.html", "entity-annotation.html", "question-form.xml",
  };

  for (guint n = 0; n < G_N_ELEMENTS (names); n++)
    {
      g_autoptr(GPtrArray) nodes = NULL;

      fixture_load (fixture, names[n]);
      nodes = kp_layout_dup_answerable (fixture->layout, NULL);
      g_assert_cmpuint (nodes->len, >, 0);
      for (guint i = 0; i < nodes->len; i++)
        {
          const KpLayoutNode *node = g_ptr_array_index (nodes, i);
          const char *name = kp_layout_node_get_attribute (node, node->kind == KP_LAYOUT_NODE_CROWD_RADIO_GROUP
                                                                 ? "id" : "name");
          GtkWidget *widget;

          if (name == NULL)
            continue;
          widget = control (fixture, name);
          g_test_message ("%s: %s", names[n], name);
          g_assert_true (is_labelled (widget));
          g_assert_true (has_focusable (widget));
        }

      gtk_window_destroy (GTK_WINDOW (fixture->window));
      fixture->window = NULL;
      g_clear_object (&fixture->layout);
    }
}

/* Long layouts are built a slice at a time, between frames: in order,
 * and whole before anyone asks about answers. */
static void
collect_sections (GtkWidget *widget,
                  GArray    *numbers)
{
  if (GTK_IS_LABEL (widget) && g_str_has_prefix (gtk_label_get_text (GTK_LABEL (widget)), "Section "))
    {
      int n = atoi (gtk_label_get_text (GTK_LABEL (widget)) + strlen ("Section "));

      g_array_append_val (numbers, n);
    }

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_sections (child, numbers);
}

static void
built_cb (KpLayoutView *view,
          guint        *n_built)
{
  (*n_built)++;
}

static void
wait_changed (guint *count,
              guint  expected)
{
  gint64 deadline = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;

  while (*count < expected && g_get_monotonic_time () < deadline)
    if (!g_main_context_iteration (NULL, FALSE))
      g_usleep (1000);
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
test_changed (Fixture       *fixture,
              gconstpointer  data)
{
  guint n_changed = 0;

  fixture_load (fixture, "image-tools.html");
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_signal_connect (fixture->view, "changed", G_CALLBACK (count_cb), &n_changed);

  /* Building and showing changes nothing. */
  g_assert_cmpuint (n_changed, ==, 0);

  /* A polyline made in one main loop iteration: one "changed". */
  {
    KpCanvas *canvas = KP_CANVAS (control (fixture, "lanes"));

    wait_for_document (canvas);
    tool_click (canvas, 0, 0);
    tool_click (canvas, 5, 5);
    tool_click (canvas, 9, 20);
    g_assert_true (kp_tool_key_pressed (kp_canvas_get_tool (canvas), GDK_KEY_Return, 0));
  }
  g_assert_cmpuint (n_changed, ==, 0);
  wait_changed (&n_changed, 1);
  g_assert_cmpuint (n_changed, ==, 1);

  /* A drawn box. */
  click (fixture, "boxes", "Person");
  drag_box (KP_CANVAS (control (fixture, "boxes")), 100, 50.6, 120, 110.6);
  wait_changed (&n_changed, 2);
  g_assert_cmpuint (n_changed, ==, 2);

  /* Painting. */
  {
    KpCanvas *canvas = KP_CANVAS (control (fixture, "instances"));

    wait_for_document (canvas);
    tool_click (canvas, 4, 4);
  }
  wait_changed (&n_changed, 3);
  g_assert_cmpuint (n_changed, ==, 3);

  /* Restoring a draft is not a change; the boxes come back. */
  {
    g_autoptr(GHashTable) values = kp_layout_view_dup_values (fixture->view);
    g_autoptr(GHashTable) again = NULL;
    g_autofree char *before = values_text (values);
    g_autofree char *after = NULL;

    kp_layout_view_set_values (fixture->view, values);
    wait_changed (&n_changed, 4);
    g_assert_cmpuint (n_changed, ==, 3);
    again = kp_layout_view_dup_values (fixture->view);
    after = values_text (again);
    g_assert_cmpstr (after, ==, before);
    g_assert_cmpuint (kp_document_get_annotations (kp_canvas_get_document (KP_CANVAS (control (fixture, "boxes"))))->len,
                      ==, 2);
  }

  /* Other element kinds report too. */
  fixture_tear_down (fixture, NULL);
  memset (fixture, 0, sizeof *fixture);
  fixture_load (fixture, "form-fields.html");
  n_changed = 0;
  g_signal_connect (fixture->view, "changed", G_CALLBACK (count_cb), &n_changed);
  {
    GHashTableIter iter;
    gpointer key;
    g_autoptr(GHashTable) values = kp_layout_view_dup_values (fixture->view);
    guint expected = 0;

    g_hash_table_iter_init (&iter, values);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      {
        GtkWidget *widget = kp_layout_view_get_control (fixture->view, key);

        if (GTK_IS_EDITABLE (widget))
          {
            gtk_editable_set_text (GTK_EDITABLE (widget), "changed");
            wait_changed (&n_changed, ++expected);
            g_assert_cmpuint (n_changed, ==, expected);
          }
        else if (GTK_IS_CHECK_BUTTON (widget))
          {
            gtk_check_button_set_active (GTK_CHECK_BUTTON (widget),
                                         !gtk_check_button_get_active (GTK_CHECK_BUTTON (widget)));
            wait_changed (&n_changed, ++expected);
            g_assert_cmpuint (n_changed, ==, expected);
          }
      }
    g_assert_cmpuint (expected, >, 0);
  }
}

/* http(s) media, from a server on loopback */

typedef struct
{
  GBytes *png;
  guint   n_ok;
} MediaServer;

static void
media_server_cb (SoupServer        *server,
                 SoupServerMessage *message,
                 const char        *path,
                 GHashTable        *query,
                 gpointer           user_data)
{
  MediaServer *media = user_data;

  if (g_str_equal (path, "/ok.png"))
    {
      media->n_ok++;
      soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (message, "image/png", SOUP_MEMORY_COPY,
                                        g_bytes_get_data (media->png, NULL), g_bytes_get_size (media->png));
    }
  else if (g_str_equal (path, "/garbage.png"))
    {
      soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (message, "image/png", SOUP_MEMORY_STATIC, "not a picture at all", 20);
    }
  else if (g_str_equal (path, "/slow.png"))
    /* Never answered: the view's timeout gives up. */
    soup_server_message_pause (message);
  else
    soup_server_message_set_status (message, SOUP_STATUS_NOT_FOUND, NULL);
}

static guint
count_unreachable (KpLayoutView *view,
                   int           line,
                   const char   *part)
{
  GPtrArray *problems = kp_layout_view_get_problems (view);
  guint n = 0;

  for (guint i = 0; i < problems->len; i++)
    {
      const KpLayoutProblem *p = g_ptr_array_index (problems, i);

      if (g_str_has_prefix (p->message, "Unreachable media") && (line == 0 || p->line == line) &&
          (part == NULL || strstr (p->message, part) != NULL))
        n++;
    }

  return n;
}

static int
canvas_image_width (Fixture *fixture)
{
  g_autoptr(GHashTable) values = kp_layout_view_dup_values (fixture->view);
  JsonObject *boxes = json_node_get_object (g_hash_table_lookup (values, "boxes"));

  return json_object_get_int_member (json_object_get_object_member (boxes, "inputImageProperties"), "width");
}

static void
test_remote_media (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 20, 10);
  g_autofree char *buffer = NULL;
  g_autofree char *template = NULL;
  g_autofree char *base = NULL;
  GSList *uris;
  MediaServer media = { NULL, 0 };
  gint64 deadline;
  guint n_problem_changes = 0;

  gdk_pixbuf_fill (pixbuf, 0x336699ff);
  {
    gsize size;

    gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &size, "png", &error, NULL);
    g_assert_no_error (error);
    media.png = g_bytes_new (buffer, size);
  }
  soup_server_add_handler (server, NULL, media_server_cb, &media, NULL);
  soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  base = g_uri_to_string (uris->data);
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);
  if (g_str_has_suffix (base, "/"))
    base[strlen (base) - 1] = '\0';

  template = g_strdup_printf ("<crowd-form>\n"
                              "<img src=\"%s/ok.png\" alt=\"fine\">\n"
                              "<img src=\"%s/missing.png\">\n"
                              "<img src=\"%s/slow.png\">\n"
                              "<img src=\"%s/garbage.png\">\n"
                              "<crowd-bounding-box name=\"boxes\" src=\"%s/ok.png\" header=\"Box\" labels=\"['A']\">"
                              "</crowd-bounding-box>\n"
                              "<video src=\"%s/gone.webm\"></video>\n"
                              "</crowd-form>\n", base, base, base, base, base, base);
  fixture->layout = kp_layout_new_from_data (template, -1, KP_LAYOUT_FORMAT_AUTO, &error);
  g_assert_no_error (error);
  fixture->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 900, 700);
  fixture->view = KP_LAYOUT_VIEW (kp_layout_view_new ());
  kp_layout_view_set_media_timeout (fixture->view, 1);
  g_signal_connect (fixture->view, "problems-changed", G_CALLBACK (count_cb), &n_problem_changes);
  kp_layout_view_set_layout (fixture->view, fixture->layout);
  gtk_window_set_child (GTK_WINDOW (fixture->window), GTK_WIDGET (fixture->view));
  gtk_window_present (GTK_WINDOW (fixture->window));

  /* While loading: placeholders, no problem yet. */
  g_assert_true (kp_layout_view_is_loading_media (fixture->view));
  g_assert_cmpuint (count_unreachable (fixture->view, 0, NULL), ==, 0);
  g_assert_cmpint (canvas_image_width (fixture), ==, 640);

  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while ((count_unreachable (fixture->view, 0, NULL) < 4 || n_problem_changes == 0) &&
         g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);

  /* Each failure with its element's line, and why. */
  g_assert_cmpuint (count_unreachable (fixture->view, 0, NULL), ==, 4);
  g_assert_cmpuint (count_unreachable (fixture->view, 3, "404"), ==, 1);
  g_assert_cmpuint (count_unreachable (fixture->view, 4, NULL), ==, 1);
  g_assert_cmpuint (count_unreachable (fixture->view, 5, "not an image"), ==, 1);
  g_assert_cmpuint (count_unreachable (fixture->view, 7, "404"), ==, 1);
  g_assert_cmpuint (count_unreachable (fixture->view, 2, NULL), ==, 0);
  while (kp_layout_view_is_loading_media (fixture->view) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (kp_layout_view_is_loading_media (fixture->view));

  /* Failures close together are reported together. */
  g_assert_cmpuint (n_problem_changes, >=, 1);
  g_assert_cmpuint (n_problem_changes, <=, 2);

  /* The image arrived: the canvas answers with its real size. */
  g_assert_cmpint (canvas_image_width (fixture), ==, 20);
  g_assert_true (KP_IS_CANVAS (control (fixture, "boxes")));

  /* A reload finds it cached: not fetched again, shown at once. */
  kp_layout_view_set_layout (fixture->view, NULL);
  kp_layout_view_set_layout (fixture->view, fixture->layout);
  g_assert_cmpint (canvas_image_width (fixture), ==, 20);
  g_assert_cmpuint (media.n_ok, ==, 1);

  gtk_window_destroy (GTK_WINDOW (fixture->window));
  fixture->window = NULL;
  soup_server_disconnect (server);
  g_bytes_unref (media.png);
}

static void
test_progressive (Fixture       *fixture,
                  gconstpointer  data)
{
  const int n_sections = 400;
  GString *html = g_string_new ("<crowd-form>\n<div>\n");
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) numbers = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr(JsonArray) answer = NULL;
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  guint n_built = 0;
  GtkWidget *submit, *form_box;

  for (int i = 0; i < n_sections; i++)
    g_string_append_printf (html,
                            "<h2>Section %d</h2>\n<p>Some <b>text</b> about section %d, long enough to wrap "
                            "over more than one line in a narrow window.</p>\n"
                            "<crowd-input name=\"t%d\" label=\"Describe %d\"></crowd-input>\n",
                            i, i, i, i);
  g_string_append (html, "</div>\n<crowd-checkbox name=\"last\">Last</crowd-checkbox>\n</crowd-form>\n");
  text = g_string_free (html, FALSE);

  fixture->layout = kp_layout_new_from_data (text, -1, KP_LAYOUT_FORMAT_AUTO, &error);
  g_assert_no_error (error);
  fixture->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 600, 400);
  fixture->view = KP_LAYOUT_VIEW (kp_layout_view_new ());
  g_signal_connect (fixture->view, "built", G_CALLBACK (built_cb), &n_built);
  gtk_window_set_child (GTK_WINDOW (fixture->window), GTK_WIDGET (fixture->view));
  gtk_window_present (GTK_WINDOW (fixture->window));
  kp_layout_view_set_layout (fixture->view, fixture->layout);

  /* Too long for one slice: the rest comes between frames. */
  g_assert_cmpuint (n_built, ==, 0);
  while (n_built == 0 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (n_built, ==, 1);

  collect_sections (GTK_WIDGET (fixture->view), numbers);
  g_assert_cmpuint (numbers->len, ==, n_sections);
  for (int i = 0; i < n_sections; i++)
    g_assert_cmpint (g_array_index (numbers, int, i), ==, i);

  /* crowd-form's Submit comes after all of its content. */
  submit = kp_layout_view_get_submit_button (fixture->view);
  g_assert_nonnull (submit);
  form_box = gtk_widget_get_parent (submit);
  g_assert_true (gtk_widget_get_last_child (form_box) == submit);
  g_assert_true (gtk_widget_is_ancestor (kp_layout_view_get_control (fixture->view, "last"), form_box));

  /* Asking before the slices are done finishes them at once. */
  g_clear_object (&fixture->layout);
  fixture->layout = kp_layout_new_from_data (text, -1, KP_LAYOUT_FORMAT_AUTO, &error);
  g_assert_no_error (error);
  kp_layout_view_set_layout (fixture->view, fixture->layout);
  g_assert_cmpuint (n_built, ==, 1);
  gtk_editable_set_text (GTK_EDITABLE (control (fixture, "t399")), "last one");
  g_assert_cmpuint (n_built, ==, 2);
  answer = kp_layout_view_get_answer (fixture->view, NULL);
  g_assert_nonnull (strstr (json_object_get_string_member (json_array_get_object_element (answer, 0), "FreeText"),
                            "\"t399\":\"last one\""));
}

/* A playable <video>: GTK's player prepares the clip beside the template
 * (the GStreamer media backend is installed), without starting it. */
static void
test_video_plays (void)
{
  g_autofree char *dir = g_dir_make_tmp ("kp-layout-video-XXXXXX", NULL);
  g_autofree char *clip = g_build_filename (dir, "clip.webm", NULL);
  g_autofree char *desc = g_strdup_printf ("videotestsrc num-buffers=25 ! video/x-raw,width=160,height=120,"
                                           "framerate=25/1 ! vp8enc ! webmmux ! filesink location=\"%s\"",
                                           clip);
  g_autoptr(GError) error = NULL;
  g_autoptr(GstElement) pipeline = gst_parse_launch (desc, &error);
  g_autoptr(GstBus) bus = NULL;
  g_autoptr(GstMessage) msg = NULL;
  g_autoptr(KpLayout) layout = NULL;
  g_autoptr(GFile) base = g_file_new_for_path (dir);
  GtkWidget *window, *video;
  KpLayoutView *view;
  GtkMediaStream *stream;
  gint64 deadline;

  g_assert_no_error (error);
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_element_set_state (pipeline, GST_STATE_NULL);

  layout = kp_layout_new_from_data ("<crowd-form><p>Watch:</p>"
                                    "<video src=\"clip.webm\" width=\"320\" height=\"240\" title=\"Street\"></video>"
                                    "<crowd-input name=\"what\" label=\"What happens?\"></crowd-input></crowd-form>",
                                    -1, KP_LAYOUT_FORMAT_AUTO, &error);
  g_assert_no_error (error);
  window = gtk_window_new ();
  view = KP_LAYOUT_VIEW (kp_layout_view_new ());
  kp_layout_view_set_base (view, base);
  kp_layout_view_set_layout (view, layout);
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (view));
  gtk_window_present (GTK_WINDOW (window));

  video = find_of_type (GTK_WIDGET (view), GTK_TYPE_VIDEO);
  g_assert_nonnull (video);
  stream = gtk_video_get_media_stream (GTK_VIDEO (video));
  g_assert_nonnull (stream);
  deadline = g_get_monotonic_time () + 15 * G_USEC_PER_SEC;
  while (!gtk_media_stream_is_prepared (stream) && gtk_media_stream_get_error (stream) == NULL &&
         g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error ((GError *)gtk_media_stream_get_error (stream));
  g_assert_true (gtk_media_stream_is_prepared (stream));
  g_assert_true (gtk_media_stream_has_video (stream));
  g_assert_cmpint (gtk_media_stream_get_duration (stream), >, 900 * 1000);
  g_assert_cmpint (gtk_media_stream_get_duration (stream), <, 1100 * 1000);
  g_assert_false (gtk_media_stream_get_playing (stream));
  g_assert_cmpint (gtk_widget_get_width (video), >=, 320);

  gtk_window_destroy (GTK_WINDOW (window));
  g_unlink (clip);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);
  adw_init ();
  g_test_log_set_fatal_handler (log_fatal_cb, NULL);

  g_test_add_func ("/kempelen/app/layout-view/video-plays", test_video_plays);

#define ADD(path, func) \
  g_test_add ("/kempelen/app/layout-view/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("classifiers", test_classifiers);
  ADD ("form-fields", test_form_fields);
  ADD ("entity-annotation", test_entity_annotation);
  ADD ("flatten-objects", test_flatten_objects);
  ADD ("question-form", test_question_form);
  ADD ("html-question", test_html_question);
  ADD ("problems", test_problems);
  ADD ("elements", test_elements);
  ADD ("image-tools", test_image_tools);
  ADD ("segmentation", test_segmentation);
  ADD ("external-question", test_external_question);
  ADD ("validation", test_validation);
  ADD ("question-form-constraints", test_question_form_constraints);
  ADD ("selection-styles", test_selection_styles);
  ADD ("html-rendering", test_html_rendering);
  ADD ("progressive", test_progressive);
  ADD ("changed", test_changed);
  ADD ("remote-media", test_remote_media);
  ADD ("accessible", test_accessible);

  return g_test_run ();
}
