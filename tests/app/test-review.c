/* test-review.c: the requester's review desk against a real kempelen-server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One server for the whole run (the tests follow one another, as a
 * requester's session does): a batch "street" of two HITs with three
 * assignments each, one HIT the workers agree on and one they do not,
 * plus a HIT outside any batch.
 */

#include "config.h"

#include <adwaita.h>
#include <libsoup/soup.h>
#include <string.h>

#include "kp-keymap.h"
#include "kp-review-private.h"
#include "kp-test-render.h"
#include "kp-worker-fixture.h"

#define IMAGE_WIDTH 400
#define IMAGE_HEIGHT 300

static KpWorkerFixture *fixture;
static char *agree_hit;
static char *disagree_hit;
static char *other_hit;
static char *workers[3];
static char *tokens[3];
static KpReviewWindow *window;
static SoupServer *image_server;
static GBytes *png;

static KpMturkClient *
new_client (void)
{
  KpMturkCredentials credentials = { 0 };

  credentials.access_key_id = fixture->access_key;
  credentials.secret_access_key = fixture->secret_key;
  return kp_mturk_client_new (fixture->server->url, &credentials);
}

static JsonObject *
call (const char *operation,
      JsonObject *request)
{
  g_autoptr(KpMturkClient) client = new_client ();
  g_autoptr(GError) error = NULL;
  JsonObject *answer = kp_mturk_client_call (client, operation, request, &error);

  g_assert_no_error (error);
  return answer;
}

static char *
create_hit (const char *image_url,
            const char *annotation)
{
  g_autoptr(JsonObject) request = json_object_new ();
  g_autoptr(JsonObject) answer = NULL;
  g_autofree char *question = NULL;

  question = g_strdup_printf (
    "<HTMLQuestion xmlns=\"http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/"
    "2011-11-11/HTMLQuestion.xsd\"><HTMLContent><![CDATA["
    "<script src=\"https://assets.crowd.aws/crowd-html-elements.js\"></script>"
    "<crowd-form><crowd-bounding-box name=\"cars\" src=\"%s\" header=\"Cars\" "
    "labels=\"['car']\"></crowd-bounding-box>"
    "<crowd-classifier name=\"weather\" categories=\"['sunny', 'rainy']\" header=\"Weather\">"
    "</crowd-classifier></crowd-form>]]></HTMLContent><FrameHeight>0</FrameHeight></HTMLQuestion>",
    image_url);

  json_object_set_string_member (request, "Title", "Cars in the street");
  json_object_set_string_member (request, "Description", "Box every car");
  json_object_set_string_member (request, "Reward", "0.10");
  json_object_set_int_member (request, "AssignmentDurationInSeconds", 600);
  json_object_set_int_member (request, "LifetimeInSeconds", 86400);
  json_object_set_int_member (request, "MaxAssignments", 3);
  json_object_set_string_member (request, "Question", question);
  if (annotation != NULL)
    json_object_set_string_member (request, "RequesterAnnotation", annotation);
  answer = call ("CreateHIT", request);
  return g_strdup (json_object_get_string_member (json_object_get_object_member (answer, "HIT"), "HITId"));
}

static JsonObject *
worker_post (const char *token,
             const char *path,
             const char *body)
{
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autofree char *url = g_strconcat (fixture->server->url, "worker/v1/", path, NULL);
  g_autoptr(SoupMessage) msg = soup_message_new ("POST", url);
  g_autofree char *auth = g_strconcat ("Bearer ", token, NULL);
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;

  soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", auth);
  if (body != NULL)
    {
      g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));

      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    }
  answer = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  if (soup_message_get_status (msg) != 200)
    g_error ("POST %s: %u %.*s", path, soup_message_get_status (msg), (int)g_bytes_get_size (answer),
             (const char *)g_bytes_get_data (answer, NULL));
  node = json_from_string (g_bytes_get_data (answer, NULL), &error);
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (node));
}

/* One worker's crowd answer: a box and a class. */
static void
submit (guint       worker,
        const char *hit_id,
        int         left,
        int         top,
        const char *weather)
{
  g_autofree char *path = g_strdup_printf ("hits/%s/accept", hit_id);
  g_autoptr(JsonObject) accepted = worker_post (tokens[worker], path, NULL);
  const char *assignment = json_object_get_string_member (accepted, "assignment_id");
  g_autofree char *crowd = NULL;
  g_autoptr(JsonObject) body = json_object_new ();
  JsonArray *answers = json_array_new ();
  JsonObject *answer = json_object_new ();
  g_autoptr(JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *uuid = g_uuid_string_random ();
  g_autofree char *text = NULL;
  g_autofree char *submit_path = g_strdup_printf ("assignments/%s/submit", assignment);

  crowd = g_strdup_printf ("[{\"cars\": {\"boundingBoxes\": [{\"label\": \"car\", \"left\": %d, "
                           "\"top\": %d, \"width\": 100, \"height\": 80}], "
                           "\"inputImageProperties\": {\"width\": %d, \"height\": %d}}, "
                           "\"weather\": {\"label\": \"%s\"}}]",
                           left, top, IMAGE_WIDTH, IMAGE_HEIGHT, weather);
  json_object_set_string_member (answer, "QuestionIdentifier", "taskAnswers");
  json_object_set_string_member (answer, "FreeText", crowd);
  json_array_add_object_element (answers, answer);
  json_object_set_string_member (body, "submission_id", uuid);
  json_object_set_array_member (body, "answers", answers);
  json_node_set_object (root, body);
  text = json_to_string (root, FALSE);
  json_object_unref (worker_post (tokens[worker], submit_path, text));
}

static gboolean
idle_cb (gpointer data)
{
  return !_kp_review_window_get_busy (window);
}

static void
wait_idle (void)
{
  /* Let the started operation begin before asking whether it ended. */
  g_main_context_iteration (NULL, FALSE);
  g_assert_true (kp_worker_wait_for (idle_cb, NULL, 20000));
}

static void
connect_with (const char *secret)
{
  KpReviewConnect *connect = _kp_review_window_get_connect (window);

  kp_review_connect_fill (connect, fixture->server->url, fixture->access_key, secret, "");
  kp_review_connect_start (connect);
  wait_idle ();
}

static KpReviewAssignment *
assignment_of (KpReviewHit *hit,
               guint        worker)
{
  for (guint i = 0; i < hit->assignments->len; i++)
    {
      KpReviewAssignment *a = g_ptr_array_index (hit->assignments, i);

      if (g_strcmp0 (a->worker_id, workers[worker]) == 0)
        return a;
    }
  g_assert_not_reached ();
}

static guint
index_of (KpReviewHit *hit,
          guint        worker)
{
  KpReviewAssignment *a = assignment_of (hit, worker);

  for (guint i = 0; i < hit->assignments->len; i++)
    if (g_ptr_array_index (hit->assignments, i) == a)
      return i;
  g_assert_not_reached ();
}

static JsonObject *
get_assignment (const char *assignment_id)
{
  g_autoptr(JsonObject) request = json_object_new ();
  g_autoptr(JsonObject) answer = NULL;

  json_object_set_string_member (request, "AssignmentId", assignment_id);
  answer = call ("GetAssignment", request);
  return json_object_ref (json_object_get_object_member (answer, "Assignment"));
}

static void
assert_status (const char *assignment_id,
               const char *status)
{
  g_autoptr(JsonObject) a = get_assignment (assignment_id);

  g_assert_cmpstr (json_object_get_string_member (a, "AssignmentStatus"), ==, status);
}

static void
test_parse (void)
{
  const struct { const char *question; const char *uri; } cases[] = {
    /* A crowd-html layout in an HTMLQuestion: the script is no image. */
    { "<HTMLQuestion><HTMLContent><![CDATA[<script src=\"https://assets.crowd.aws/x.js\"></script>"
      "<crowd-bounding-box name=\"b\" src=\"https://img.example/a.jpg?x=1&amp;y=2\">]]>", "https://img.example/a.jpg?x=1&y=2" },
    /* Escaped rather than in CDATA. */
    { "&lt;script src=&quot;https://s.example/x.js&quot;&gt;&lt;/script&gt;"
      "&lt;img alt='' src=&quot;http://127.0.0.1:1/m/1&quot;&gt;", "http://127.0.0.1:1/m/1" },
    { "<QuestionForm><Binary><DataURL> http://h.example/p.png </DataURL></Binary></QuestionForm>",
      "http://h.example/p.png" },
    { "<crowd-classifier categories=\"['a']\"></crowd-classifier>", NULL },
    { "<iframe src=\"https://page.example/\"></iframe>", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *uri = kp_review_find_image_uri (cases[i].question);

      g_assert_cmpstr (uri, ==, cases[i].uri);
    }

  {
    g_autofree char *id = kp_review_parse_batch_id ("kempelen-batch:cars:2024:17");
    g_autofree char *none = kp_review_parse_batch_id ("something else");
    g_autofree char *no_row = kp_review_parse_batch_id ("kempelen-batch:cars");

    /* The row is after the last colon; a batch id may hold colons. */
    g_assert_cmpstr (id, ==, "cars:2024");
    g_assert_null (none);
    g_assert_null (no_row);
  }
}

static void
test_wrong_secret (void)
{
  connect_with ("not-the-secret-at-all");

  g_assert_nonnull (kp_review_connect_get_error (_kp_review_window_get_connect (window)));
  g_test_message ("%s", kp_review_connect_get_error (_kp_review_window_get_connect (window)));
  g_assert_nonnull (strstr (kp_review_connect_get_error (_kp_review_window_get_connect (window)), "refused"));
  g_assert_null (_kp_review_window_get_model (window));
}

static void
test_unreachable (void)
{
  KpReviewConnect *connect = _kp_review_window_get_connect (window);

  /* Port 9 (discard) has no server on the loopback. */
  kp_review_connect_fill (connect, "http://127.0.0.1:9", fixture->access_key, fixture->secret_key, "");
  kp_review_connect_start (connect);
  wait_idle ();
  g_test_message ("%s", kp_review_connect_get_error (connect));
  g_assert_nonnull (strstr (kp_review_connect_get_error (connect), "cannot be reached"));
  g_assert_null (_kp_review_window_get_model (window));
}

/* The letter keys act after the focused widget, so they type in the
 * feedback entry: a bubble-phase shortcut controller on the window. */
static void
test_typing_keys (void)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (GTK_WIDGET (window));
  const char *expected[][2] = { { "a", "review.approve" }, { "r", "review.reject" },
                                { "n", "review.next-hit" }, { "p", "review.previous-hit" },
                                { "1", "review.toggle-worker" } };
  guint found = 0;

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GtkEventController) controller = g_list_model_get_item (controllers, i);

      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;
      for (guint j = 0; j < g_list_model_get_n_items (G_LIST_MODEL (controller)); j++)
        {
          g_autoptr(GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), j);
          g_autofree char *trigger = gtk_shortcut_trigger_to_string (gtk_shortcut_get_trigger (shortcut));
          GtkShortcutAction *action = gtk_shortcut_get_action (shortcut);

          for (guint k = 0; k < G_N_ELEMENTS (expected); k++)
            if (g_strcmp0 (trigger, expected[k][0]) == 0 && GTK_IS_NAMED_ACTION (action) &&
                g_strcmp0 (gtk_named_action_get_action_name (GTK_NAMED_ACTION (action)), expected[k][1]) == 0)
              {
                g_assert_cmpint (gtk_event_controller_get_propagation_phase (controller), ==, GTK_PHASE_BUBBLE);
                found++;
              }
        }
    }
  g_assert_cmpuint (found, ==, G_N_ELEMENTS (expected));
}

static void
test_batches (void)
{
  GPtrArray *batches;
  KpReviewBatch *street;
  KpReviewBatch *other;

  connect_with (fixture->secret_key);
  g_assert_null (kp_review_connect_get_error (_kp_review_window_get_connect (window)));
  g_assert_nonnull (_kp_review_window_get_model (window));

  batches = kp_review_model_get_batches (_kp_review_window_get_model (window));
  g_assert_cmpuint (batches->len, ==, 2);
  street = g_ptr_array_index (batches, 0);
  other = g_ptr_array_index (batches, 1);
  g_assert_cmpstr (street->batch_id, ==, "street");
  g_assert_cmpuint (street->hits->len, ==, 2);
  g_assert_null (other->batch_id);
  g_assert_cmpuint (other->hits->len, ==, 1);
  g_assert_cmpstr (((KpReviewHit *)g_ptr_array_index (other->hits, 0))->hit_id, ==, other_hit);

  /* Six submitted of six, one of the other HIT's three being worked on. */
  g_assert_cmpstr (_kp_review_window_get_batch_progress (window, 0), ==,
                   "6 submitted · 0 approved · 0 rejected · 0 pending of 6");
  g_assert_cmpstr (_kp_review_window_get_batch_progress (window, 1), ==,
                   "0 submitted · 0 approved · 0 rejected · 1 pending of 3");
}

static gboolean
texture_cb (gpointer data)
{
  return kp_review_overlay_get_texture (data) != NULL;
}

static void
connected_cb (KpReviewConnect *connect,
              KpReviewModel   *model,
              gboolean        *connected)
{
  g_assert_true (KP_IS_REVIEW_MODEL (model));
  *connected = TRUE;
}

static gboolean
secret_saved_cb (gpointer data)
{
  return kp_review_connect_get_secret_saved (data);
}

static gboolean
flag_cb (gpointer data)
{
  return *(gboolean *)data;
}

static gboolean
saved_cb (gpointer data)
{
  g_autofree char *dir = g_build_filename (g_get_user_config_dir (), "kempelen", "review", NULL);
  g_autofree char *accounts_path = g_build_filename (dir, "accounts.ini", NULL);
  g_autofree char *accounts = NULL;

  /* KpAccountStore writes accounts.ini after the secret. */
  return g_file_get_contents (accounts_path, &accounts, NULL, NULL) && strstr (accounts, data) != NULL;
}

/* The next time, the keyring (here its file) has the secret, and the
 * settings never had it. */
static void
test_saved_secret (void)
{
  g_autoptr(GSettings) settings = g_settings_new ("io.github.kempelen.Kempelen");
  const char *keys[] = { "review-endpoint", "review-access-key-id", "review-profile" };
  KpReviewConnect *connect;
  gboolean connected = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      g_autofree char *value = g_settings_get_string (settings, keys[i]);

      g_assert_null (strstr (value, fixture->secret_key));
    }
  {
    g_autofree char *key = g_settings_get_string (settings, "review-access-key-id");

    g_assert_cmpstr (key, ==, fixture->access_key);
  }

  /* The first sign-in saved it in the background. */
  g_assert_true (kp_worker_wait_for (saved_cb, fixture->access_key, 10000));
  connect = KP_REVIEW_CONNECT (g_object_ref_sink (kp_review_connect_new (settings, NULL)));
  g_signal_connect (connect, "connected", G_CALLBACK (connected_cb), &connected);
  g_assert_true (kp_worker_wait_for (secret_saved_cb, connect, 10000));
  kp_review_connect_start (connect);
  g_assert_true (kp_worker_wait_for (flag_cb, &connected, 10000));
  g_assert_null (kp_review_connect_get_error (connect));
  g_assert_finalize_object (connect);
}

/* Keys from a profile of the AWS credentials file. */
static void
test_profile (void)
{
  KpReviewConnect *connect = _kp_review_window_get_connect (window);
  g_autofree char *path = g_build_filename (fixture->tmp_dir, "aws-credentials", NULL);
  g_autofree char *text = g_strdup_printf ("[review]\naws_access_key_id = %s\naws_secret_access_key = %s\n",
                                           fixture->access_key, fixture->secret_key);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
  g_setenv ("AWS_SHARED_CREDENTIALS_FILE", path, TRUE);

  gtk_widget_activate_action (GTK_WIDGET (window), "review.change-keys", NULL);
  kp_review_connect_fill (connect, fixture->server->url, "", "", "no-such-profile");
  kp_review_connect_start (connect);
  wait_idle ();
  g_assert_nonnull (kp_review_connect_get_error (connect));
  g_assert_null (_kp_review_window_get_model (window));

  kp_review_connect_fill (connect, NULL, NULL, NULL, "review");
  kp_review_connect_start (connect);
  wait_idle ();
  g_assert_null (kp_review_connect_get_error (connect));
  g_assert_nonnull (_kp_review_window_get_model (window));
  g_assert_cmpuint (kp_review_model_get_batches (_kp_review_window_get_model (window))->len, ==, 2);
  g_unsetenv ("AWS_SHARED_CREDENTIALS_FILE");
}

static void
test_disagreement_first (void)
{
  KpReviewBatch *street = _kp_review_window_get_batch (window);
  KpReviewHit *first = g_ptr_array_index (street->hits, 0);
  KpReviewHit *second = g_ptr_array_index (street->hits, 1);

  g_assert_cmpstr (first->hit_id, ==, disagree_hit);
  g_assert_cmpstr (second->hit_id, ==, agree_hit);
  g_assert_cmpfloat (first->agreement, <, second->agreement);
  g_assert_cmpfloat (second->agreement, >, 0.9);

  /* The desk opens the batch at the HIT to look at first. */
  g_assert_true (_kp_review_window_get_hit (window) == first);
  /* Classification answers are listed with the consensus. */
  g_assert_nonnull (strstr (_kp_review_window_get_answers_text (window), "weather"));
  g_assert_nonnull (strstr (_kp_review_window_get_answers_text (window), workers[2]));

  gtk_widget_activate_action (GTK_WIDGET (window), "review.next-hit", NULL);
  g_assert_true (_kp_review_window_get_hit (window) == second);
  /* Its image, from a file. */
  g_assert_true (g_str_has_prefix (second->image_uri, "file:"));
  g_assert_true (kp_worker_wait_for (texture_cb, _kp_review_window_get_overlay (window), 10000));
  g_assert_nonnull (strstr (_kp_review_window_get_answers_text (window), "Consensus: sunny"));
  gtk_widget_activate_action (GTK_WIDGET (window), "review.previous-hit", NULL);
  g_assert_true (_kp_review_window_get_hit (window) == first);
}

static gboolean
pixel_is (cairo_surface_t *surface,
          int              x,
          int              y,
          const GdkRGBA   *color)
{
  guint32 pixel;
  int r, g, b;

  cairo_surface_flush (surface);
  pixel = *(guint32 *)(cairo_image_surface_get_data (surface) + y * cairo_image_surface_get_stride (surface) + x * 4);
  r = (pixel >> 16) & 0xff;
  g = (pixel >> 8) & 0xff;
  b = pixel & 0xff;
  return ABS (r - (int)(color->red * 255 + .5)) <= 8 && ABS (g - (int)(color->green * 255 + .5)) <= 8 &&
         ABS (b - (int)(color->blue * 255 + .5)) <= 8;
}

/* The left edge of worker's box (left, top, 100×80) in HIT's overlay. */
static gboolean
edge_has_color (KpReviewOverlay *overlay,
                int              left,
                int              top,
                const GdkRGBA   *color)
{
  cairo_surface_t *surface;
  double x, y;
  gboolean result;
  int width, height;

  kp_test_wait_for_frame (GTK_WIDGET (overlay));
  width = gtk_widget_get_width (GTK_WIDGET (overlay));
  height = gtk_widget_get_height (GTK_WIDGET (overlay));
  surface = kp_test_render_widget (GTK_WIDGET (overlay), 0, 0, width, height);
  kp_review_overlay_image_to_widget (overlay, left, top + 40, &x, &y);
  g_test_message ("overlay %d×%d, edge at %.1f, %.1f", width, height, x, y);
  g_assert_cmpint ((int)round (x) - 1, >=, 0);
  g_assert_cmpint ((int)round (x) - 1, <, width);
  g_assert_cmpint ((int)y, >=, 0);
  g_assert_cmpint ((int)y, <, height);
  result = pixel_is (surface, (int)round (x) - 1, (int)y, color);
  cairo_surface_destroy (surface);
  return result;
}

static void
test_overlay (void)
{
  KpReviewOverlay *overlay = _kp_review_window_get_overlay (window);
  KpReviewHit *hit = _kp_review_window_get_hit (window);
  /* Colours are given in the order workers appear in the batch. */
  const GdkRGBA *first = kp_review_palette_get (0);
  const GdkRGBA *second = kp_review_palette_get (1);
  KpReviewAssignment *a0 = g_ptr_array_index (hit->assignments, 0);
  KpReviewAssignment *a1 = g_ptr_array_index (hit->assignments, 1);
  int left0 = g_strcmp0 (a0->worker_id, workers[0]) == 0 ? 20 : g_strcmp0 (a0->worker_id, workers[1]) == 0 ? 150 : 280;
  int left1 = g_strcmp0 (a1->worker_id, workers[0]) == 0 ? 20 : g_strcmp0 (a1->worker_id, workers[1]) == 0 ? 150 : 280;
  int top0 = left0 == 20 ? 20 : left0 == 150 ? 100 : 200;
  int top1 = left1 == 20 ? 20 : left1 == 150 ? 100 : 200;

  g_assert_cmpuint (kp_review_overlay_get_n_layers (overlay), ==, 3);
  /* The HIT's image, over http from the server's media store, which
   * only a signed request opens. */
  g_assert_true (g_str_has_prefix (hit->image_uri, fixture->server->url));
  g_assert_nonnull (strstr (hit->image_uri, "/worker/v1/media/"));
  g_assert_true (kp_worker_wait_for (texture_cb, overlay, 10000));
  g_assert_cmpint (gdk_texture_get_width (kp_review_overlay_get_texture (overlay)), ==, IMAGE_WIDTH);
  g_assert_true (edge_has_color (overlay, left0, top0, first));
  g_assert_true (edge_has_color (overlay, left1, top1, second));

  /* Key 1 hides the first worker: their boxes go, the others stay. */
  gtk_widget_activate_action (GTK_WIDGET (window), "review.toggle-worker", "u", 0);
  g_assert_false (kp_review_overlay_get_layer_visible (overlay, 0));
  g_assert_false (edge_has_color (overlay, left0, top0, first));
  g_assert_true (edge_has_color (overlay, left1, top1, second));

  gtk_widget_activate_action (GTK_WIDGET (window), "review.toggle-worker", "u", 0);
  g_assert_true (kp_review_overlay_get_layer_visible (overlay, 0));
  g_assert_true (edge_has_color (overlay, left0, top0, first));

  /* Zooming keeps the point under the pointer; fit goes back. */
  kp_review_overlay_zoom_at (overlay, 2, 10, 10);
  g_assert_cmpfloat_with_epsilon (kp_review_overlay_get_zoom (overlay), 2, 1e-9);
  gtk_widget_activate_action (GTK_WIDGET (window), "review.zoom-fit", NULL);
  g_assert_cmpfloat_with_epsilon (kp_review_overlay_get_zoom (overlay), 1, 1e-9);
}

static void
test_feedback_texts (void)
{
  g_autoptr(GSettings) settings = g_settings_new ("io.github.kempelen.Kempelen");
  GtkWidget *feedback = _kp_review_window_get_feedback_entry (window);
  g_auto(GStrv) before = g_settings_get_strv (settings, "review-feedback-texts");
  g_auto(GStrv) saved = NULL;
  g_auto(GStrv) removed = NULL;

  g_assert_cmpuint (g_strv_length (before), >, 0);
  gtk_widget_activate_action (GTK_WIDGET (window), "review.use-feedback", "s", before[0]);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (feedback)), ==, before[0]);

  gtk_editable_set_text (GTK_EDITABLE (feedback), "Well spotted");
  gtk_widget_activate_action (GTK_WIDGET (window), "review.save-feedback", NULL);
  saved = g_settings_get_strv (settings, "review-feedback-texts");
  g_assert_cmpuint (g_strv_length (saved), ==, g_strv_length (before) + 1);
  g_assert_true (g_strv_contains ((const char * const *)saved, "Well spotted"));

  gtk_widget_activate_action (GTK_WIDGET (window), "review.remove-feedback", NULL);
  removed = g_settings_get_strv (settings, "review-feedback-texts");
  g_assert_true (g_strv_equal ((const char * const *)removed, (const char * const *)before));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (feedback)), ==, "");
}

/* Polygons and keypoints are drawn in the worker's colour too, the
 * consensus's in white. */
static void
test_overlay_shapes (void)
{
  GtkWidget *win = gtk_window_new ();
  KpReviewOverlay *overlay = KP_REVIEW_OVERLAY (kp_review_overlay_new ());
  const graphene_point_t square[] = { { 20, 20 }, { 80, 20 }, { 80, 80 }, { 20, 80 } };
  const graphene_point_t line[] = { { 10, 95 }, { 90, 95 } };
  const graphene_point_t keypoint = { 50, 50 };
  const GdkRGBA *color = kp_review_palette_get (2);
  const GdkRGBA white = { 1, 1, 1, 1 };
  cairo_surface_t *surface;
  double x, y;
  guint layer;

  gtk_window_set_child (GTK_WINDOW (win), GTK_WIDGET (overlay));
  gtk_window_set_default_size (GTK_WINDOW (win), 200, 200);
  gtk_window_present (GTK_WINDOW (win));
  kp_review_overlay_set_image_size (overlay, 100, 100);
  layer = kp_review_overlay_add_layer (overlay, color, NULL, 0);
  kp_review_overlay_add_path (overlay, layer, square, G_N_ELEMENTS (square), TRUE);
  kp_review_overlay_add_point (overlay, layer, &keypoint);
  kp_review_overlay_add_path (overlay, KP_REVIEW_OVERLAY_CONSENSUS, line, G_N_ELEMENTS (line), FALSE);

  kp_test_wait_for_frame (GTK_WIDGET (overlay));
  surface = kp_test_render_widget (GTK_WIDGET (overlay), 0, 0, gtk_widget_get_width (GTK_WIDGET (overlay)),
                                   gtk_widget_get_height (GTK_WIDGET (overlay)));
  /* The polygon's left edge, halfway down. */
  kp_review_overlay_image_to_widget (overlay, 20, 50, &x, &y);
  g_assert_true (pixel_is (surface, (int)round (x), (int)round (y), color));
  /* Inside: the grey field. */
  kp_review_overlay_image_to_widget (overlay, 35, 35, &x, &y);
  g_assert_false (pixel_is (surface, (int)round (x), (int)round (y), color));
  /* The consensus line's white edge, just above its dark core. */
  kp_review_overlay_image_to_widget (overlay, 50, 95, &x, &y);
  g_assert_true (pixel_is (surface, (int)round (x), (int)round (y) - 2, &white));
  cairo_surface_destroy (surface);

  gtk_window_destroy (GTK_WINDOW (win));
}

static void
composed_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  KpReviewComposite **composite = user_data;
  g_autoptr(GError) error = NULL;

  *composite = kp_review_overlay_compose_finish (KP_REVIEW_OVERLAY (object), result, &error);
  g_assert_no_error (error);
}

static KpReviewComposite *
compose (KpReviewOverlay *overlay,
         int              width,
         int              height,
         gboolean         toggle_meanwhile)
{
  KpReviewComposite *composite = NULL;
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  kp_review_overlay_compose_async (overlay, width, height, gtk_widget_get_scale_factor (GTK_WIDGET (overlay)),
                                   NULL, composed_cb, &composite);
  /* The reviewer hides the first worker while it is composed. */
  if (toggle_meanwhile)
    kp_review_overlay_set_layer_visible (overlay, 0, FALSE);
  while (composite == NULL && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_nonnull (composite);
  return composite;
}

/* Whether the left edge of the box at (left, top) has color, and the
 * inside of the box is the image's grey. */
static gboolean
box_has_color (KpReviewOverlay *overlay,
               int              left,
               int              top,
               const GdkRGBA   *color)
{
  const GdkRGBA grey = { 0.25f, 0.25f, 0.25f, 1.f };
  int width = gtk_widget_get_width (GTK_WIDGET (overlay));
  int height = gtk_widget_get_height (GTK_WIDGET (overlay));
  cairo_surface_t *surface = kp_test_render_widget (GTK_WIDGET (overlay), 0, 0, width, height);
  double x, y, ix, iy;
  gboolean result;

  kp_review_overlay_image_to_widget (overlay, left, top + 15, &x, &y);
  kp_review_overlay_image_to_widget (overlay, left + 15, top + 15, &ix, &iy);
  g_test_message ("overlay %d×%d, edge at %.1f, %.1f", width, height, x, y);
  g_assert_true (x >= 1 && x < width && y >= 0 && y < height);
  g_assert_true (ix >= 0 && ix < width && iy >= 0 && iy < height);
  g_assert_true (pixel_is (surface, (int)ix, (int)iy, &grey));
  result = pixel_is (surface, (int)round (x) - 1, (int)y, color);
  cairo_surface_destroy (surface);
  return result;
}

/* The next HIT composed ahead (image and boxes in one texture) shows
 * each worker's colour; a toggle shows the vectors, right away, and a
 * composite made before a toggle is never shown after it. */
static void
test_overlay_composite (void)
{
  GtkWidget *win = gtk_window_new ();
  KpReviewOverlay *overlay = KP_REVIEW_OVERLAY (kp_review_overlay_new ());
  KpReviewOverlay *next = g_object_ref_sink (KP_REVIEW_OVERLAY (kp_review_overlay_new ()));
  const graphene_rect_t box0 = GRAPHENE_RECT_INIT (20, 20, 30, 30);
  const graphene_rect_t box1 = GRAPHENE_RECT_INIT (60, 60, 30, 30);
  const GdkRGBA *color0 = kp_review_palette_get (0);
  const GdkRGBA *color1 = kp_review_palette_get (4);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GdkTexture) image = NULL;
  g_autoptr(KpReviewComposite) composite = NULL;
  g_autoptr(KpReviewComposite) stale = NULL;
  guint8 *pixels = g_malloc (100 * 100 * 4);
  int width, height;

  /* A grey image, 100×100. */
  for (guint i = 0; i < 100 * 100; i++)
    {
      pixels[4 * i] = pixels[4 * i + 1] = pixels[4 * i + 2] = 0x40;
      pixels[4 * i + 3] = 0xff;
    }
  bytes = g_bytes_new_take (pixels, 100 * 100 * 4);
  image = gdk_memory_texture_new (100, 100, GDK_MEMORY_R8G8B8A8, bytes, 100 * 4);

  gtk_window_set_child (GTK_WINDOW (win), GTK_WIDGET (overlay));
  gtk_window_set_default_size (GTK_WINDOW (win), 240, 200);
  gtk_window_present (GTK_WINDOW (win));
  kp_test_wait_for_frame (GTK_WIDGET (overlay));
  width = gtk_widget_get_width (GTK_WIDGET (overlay));
  height = gtk_widget_get_height (GTK_WIDGET (overlay));

  /* Prefetched: the next HIT's layers in an overlay never shown. */
  kp_review_overlay_add_layer (next, color0, &box0, 1);
  kp_review_overlay_add_layer (next, color1, &box1, 1);
  kp_review_overlay_set_texture (next, image);
  composite = compose (next, width, height, FALSE);
  g_assert_cmpint (gdk_texture_get_width (kp_review_composite_get_texture (composite)), <=,
                   width * gtk_widget_get_scale_factor (GTK_WIDGET (overlay)));

  /* Shown: one texture, with both workers' colours. */
  kp_review_overlay_add_layer (overlay, color0, &box0, 1);
  kp_review_overlay_add_layer (overlay, color1, &box1, 1);
  kp_review_overlay_set_texture (overlay, image);
  kp_review_overlay_set_composite (overlay, composite);
  g_assert_true (box_has_color (overlay, 20, 20, color0));
  g_assert_true (kp_review_overlay_get_composited (overlay));
  g_assert_true (box_has_color (overlay, 60, 60, color1));

  /* Hiding the first worker: the vectors, without it. */
  kp_review_overlay_set_layer_visible (overlay, 0, FALSE);
  g_assert_false (box_has_color (overlay, 20, 20, color0));
  g_assert_false (kp_review_overlay_get_composited (overlay));
  g_assert_true (box_has_color (overlay, 60, 60, color1));
  /* Showing it again: the composite is right again. */
  kp_review_overlay_set_layer_visible (overlay, 0, TRUE);
  g_assert_true (box_has_color (overlay, 20, 20, color0));
  g_assert_true (kp_review_overlay_get_composited (overlay));

  /* Zoomed in, the vectors stay sharp; back to fit, the composite. */
  {
    double x, y;

    kp_review_overlay_image_to_widget (overlay, 20, 20, &x, &y);
    kp_review_overlay_zoom_at (overlay, 2, x, y);
  }
  g_assert_true (box_has_color (overlay, 20, 20, color0));
  g_assert_false (kp_review_overlay_get_composited (overlay));
  kp_review_overlay_zoom_to_fit (overlay);
  g_assert_true (box_has_color (overlay, 20, 20, color0));
  g_assert_true (kp_review_overlay_get_composited (overlay));

  /* A toggle during the prefetch: the composite has the first worker,
   * the HIT shown does not; it must not show. */
  stale = compose (next, width, height, TRUE);
  kp_review_overlay_clear (overlay);
  kp_review_overlay_add_layer (overlay, color0, &box0, 1);
  kp_review_overlay_add_layer (overlay, color1, &box1, 1);
  kp_review_overlay_set_layer_visible (overlay, 0, FALSE);
  kp_review_overlay_set_composite (overlay, stale);
  g_assert_false (box_has_color (overlay, 20, 20, color0));
  g_assert_false (kp_review_overlay_get_composited (overlay));
  g_assert_true (box_has_color (overlay, 60, 60, color1));

  /* Adding shapes after the composite drops it. */
  kp_review_overlay_set_layer_visible (overlay, 0, TRUE);
  kp_review_overlay_set_composite (overlay, stale);
  g_assert_true (box_has_color (overlay, 20, 20, color0));
  g_assert_true (kp_review_overlay_get_composited (overlay));
  kp_review_overlay_add_layer (overlay, color1, &box0, 1);
  g_assert_false (box_has_color (overlay, 20, 20, color0));
  g_assert_false (kp_review_overlay_get_composited (overlay));

  g_object_unref (next);
  gtk_window_destroy (GTK_WINDOW (win));
}

static GtkWidget *
find_shortcut (GtkWidget  *widget,
               const char *title)
{
  if (GTK_IS_SHORTCUTS_SHORTCUT (widget))
    {
      g_autofree char *t = NULL;

      g_object_get (widget, "title", &t, NULL);
      if (g_strcmp0 (t, title) == 0)
        return widget;
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_shortcut (child, title);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The shortcuts window lists the desk's keys. */
static void
test_shortcuts_window (void)
{
  g_autoptr(GSettings) settings = g_settings_new ("io.github.kempelen.Kempelen");
  GtkShortcutsWindow *shortcuts = kp_keymap_build_shortcuts_window (settings);
  GtkWidget *next;
  g_autofree char *accel = NULL;

  g_assert_nonnull (shortcuts);
  next = find_shortcut (GTK_WIDGET (shortcuts), "Next HIT");
  g_assert_nonnull (next);
  g_object_get (next, "accelerator", &accel, NULL);
  g_assert_cmpstr (accel, ==, "n");
  g_assert_nonnull (find_shortcut (GTK_WIDGET (shortcuts), "Show or hide worker 1 to 9"));
  g_assert_nonnull (find_shortcut (GTK_WIDGET (shortcuts), "Load the batches again"));
  gtk_window_destroy (GTK_WINDOW (shortcuts));
}

static void
run_dialog (const char *response)
{
  AdwMessageDialog *dialog = _kp_review_window_get_dialog (window);

  g_assert_nonnull (dialog);
  adw_message_dialog_response (dialog, response);
  gtk_window_destroy (GTK_WINDOW (dialog));
  wait_idle ();
}

static void
test_decisions (void)
{
  KpReviewHit *hit = _kp_review_window_get_hit (window);
  GtkWidget *feedback = _kp_review_window_get_feedback_entry (window);
  g_autofree char *approved = g_strdup (assignment_of (hit, 0)->assignment_id);
  g_autofree char *rejected = g_strdup (assignment_of (hit, 1)->assignment_id);
  g_autoptr(JsonObject) a = NULL;
  g_autoptr(JsonObject) request = json_object_new ();
  g_autoptr(JsonObject) answer = NULL;
  JsonArray *list;
  gboolean found = FALSE;

  g_assert_cmpstr (hit->hit_id, ==, disagree_hit);

  _kp_review_window_select_assignment (window, index_of (hit, 0));
  gtk_editable_set_text (GTK_EDITABLE (feedback), "Nice boxes");
  gtk_widget_activate_action (GTK_WIDGET (window), "review.approve", NULL);
  wait_idle ();
  a = get_assignment (approved);
  g_assert_cmpstr (json_object_get_string_member (a, "AssignmentStatus"), ==, "Approved");
  g_assert_cmpstr (json_object_get_string_member (a, "RequesterFeedback"), ==, "Nice boxes");
  g_assert_cmpstr (assignment_of (hit, 0)->status, ==, "Approved");

  /* Rejecting without a reason is refused before asking the server. */
  _kp_review_window_select_assignment (window, index_of (hit, 1));
  gtk_editable_set_text (GTK_EDITABLE (feedback), "");
  gtk_widget_activate_action (GTK_WIDGET (window), "review.reject", NULL);
  wait_idle ();
  assert_status (rejected, "Submitted");
  gtk_editable_set_text (GTK_EDITABLE (feedback), "The box misses the car");
  gtk_widget_activate_action (GTK_WIDGET (window), "review.reject", NULL);
  wait_idle ();
  g_clear_pointer (&a, json_object_unref);
  a = get_assignment (rejected);
  g_assert_cmpstr (json_object_get_string_member (a, "AssignmentStatus"), ==, "Rejected");
  g_assert_cmpstr (json_object_get_string_member (a, "RequesterFeedback"), ==, "The box misses the car");
  g_assert_cmpstr (_kp_review_window_get_batch_progress (window, 0), ==,
                   "4 submitted · 1 approved · 1 rejected · 0 pending of 6");

  /* A bonus, confirmed in a dialog that shows the amount. */
  _kp_review_window_select_assignment (window, index_of (hit, 2));
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (_kp_review_window_get_bonus_amount (window)), 1.25);
  gtk_editable_set_text (GTK_EDITABLE (_kp_review_window_get_bonus_reason (window)), "Extra care");
  gtk_widget_activate_action (GTK_WIDGET (window), "review.bonus", NULL);
  g_assert_nonnull (strstr (_kp_review_window_get_message (window), "$1.25"));
  run_dialog ("send");
  json_object_set_string_member (request, "HITId", disagree_hit);
  answer = call ("ListBonusPayments", request);
  list = json_object_get_array_member (answer, "BonusPayments");
  g_assert_cmpuint (json_array_get_length (list), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (list, 0), "BonusAmount"),
                   ==, "1.25");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (list, 0), "WorkerId"),
                   ==, workers[2]);

  /* A block, with its reason, after a confirmation. */
  gtk_editable_set_text (GTK_EDITABLE (feedback), "Boxes far off, on purpose");
  gtk_widget_activate_action (GTK_WIDGET (window), "review.block", NULL);
  run_dialog ("block");
  g_clear_pointer (&answer, json_object_unref);
  answer = call ("ListWorkerBlocks", NULL);
  list = json_object_get_array_member (answer, "WorkerBlocks");
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *block = json_array_get_object_element (list, i);

      if (g_strcmp0 (json_object_get_string_member (block, "WorkerId"), workers[2]) == 0)
        {
          g_assert_cmpstr (json_object_get_string_member (block, "Reason"), ==, "Boxes far off, on purpose");
          found = TRUE;
        }
    }
  g_assert_true (found);
  /* Neither changes the assignment. */
  assert_status (assignment_of (hit, 2)->assignment_id, "Submitted");
}

static void
test_bulk_approve (void)
{
  KpReviewBatch *street = _kp_review_window_get_batch (window);
  KpReviewHit *disagree = g_ptr_array_index (street->hits, 0);
  KpReviewHit *agree = g_ptr_array_index (street->hits, 1);

  g_assert_cmpfloat (disagree->agreement, <, 0.5);
  gtk_editable_set_text (GTK_EDITABLE (_kp_review_window_get_feedback_entry (window)), "");
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (_kp_review_window_get_threshold (window)), 90);
  gtk_widget_activate_action (GTK_WIDGET (window), "review.bulk-approve", NULL);
  /* Confirmed with the count. */
  g_assert_nonnull (strstr (_kp_review_window_get_message (window), "3 submitted assignments"));
  run_dialog ("approve");

  for (guint w = 0; w < 3; w++)
    {
      assert_status (assignment_of (agree, w)->assignment_id, "Approved");
      g_assert_cmpstr (assignment_of (agree, w)->status, ==, "Approved");
    }
  /* Below the threshold: left as it was. */
  assert_status (assignment_of (disagree, 2)->assignment_id, "Submitted");
  g_assert_cmpstr (_kp_review_window_get_message (window), ==, "3 assignments approved");
  g_assert_cmpstr (_kp_review_window_get_batch_progress (window, 0), ==,
                   "1 submitted · 4 approved · 1 rejected · 0 pending of 6");
}

/* A reload reads the decisions back from the server and stays on the HIT. */
static void
test_refresh (void)
{
  g_autofree char *hit_id = g_strdup (_kp_review_window_get_hit (window)->hit_id);
  KpReviewHit *hit;

  gtk_widget_activate_action (GTK_WIDGET (window), "review.refresh", NULL);
  wait_idle ();
  hit = _kp_review_window_get_hit (window);
  g_assert_nonnull (hit);
  g_assert_cmpstr (hit->hit_id, ==, hit_id);
  g_assert_cmpstr (assignment_of (hit, 0)->status, ==, "Approved");
  g_assert_cmpstr (assignment_of (hit, 0)->feedback, ==, "Nice boxes");
  g_assert_cmpstr (assignment_of (hit, 1)->status, ==, "Rejected");
  g_assert_cmpstr (_kp_review_window_get_batch_progress (window, 0), ==,
                   "1 submitted · 4 approved · 1 rejected · 0 pending of 6");
}

static void
test_server_gone (void)
{
  KpReviewHit *hit = _kp_review_window_get_hit (window);

  g_assert_cmpstr (hit->hit_id, ==, disagree_hit);
  kp_worker_fixture_stop_server (fixture);

  _kp_review_window_clear_message (window);
  _kp_review_window_select_assignment (window, index_of (hit, 2));
  gtk_widget_activate_action (GTK_WIDGET (window), "review.approve", NULL);
  wait_idle ();

  g_assert_nonnull (_kp_review_window_get_message (window));
  g_assert_nonnull (strstr (_kp_review_window_get_message (window), "cannot be reached"));
  /* The decisions made so far stay. */
  g_assert_cmpstr (assignment_of (hit, 0)->status, ==, "Approved");
  g_assert_cmpstr (assignment_of (hit, 1)->status, ==, "Rejected");
  g_assert_cmpstr (assignment_of (hit, 2)->status, ==, "Submitted");
  g_assert_cmpstr (_kp_review_window_get_batch_progress (window, 0), ==,
                   "1 submitted · 4 approved · 1 rejected · 0 pending of 6");

  kp_worker_fixture_start_server (fixture);
}

static void
test_change_keys (void)
{
  gtk_widget_activate_action (GTK_WIDGET (window), "review.change-keys", NULL);
  g_assert_null (_kp_review_window_get_model (window));
  g_assert_null (_kp_review_window_get_hit (window));
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (_kp_review_window_get_connect (window))) ||
                 gtk_widget_get_child_visible (GTK_WIDGET (_kp_review_window_get_connect (window))));
}

/* Images on a web server of their own, as on S3 for MTurk's HITs. */
static void
image_cb (SoupServer        *server,
          SoupServerMessage *msg,
          const char        *path,
          GHashTable        *query,
          gpointer           user_data)
{
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "image/png", SOUP_MEMORY_COPY,
                                    g_bytes_get_data (png, NULL), g_bytes_get_size (png));
}

static char *
start_image_server (void)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, IMAGE_WIDTH, IMAGE_HEIGHT);
  g_autoptr(GError) error = NULL;
  g_autoptr(GSList) uris = NULL;
  char *buffer = NULL;
  gsize size = 0;

  gdk_pixbuf_fill (pixbuf, 0x404040ff);
  gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &size, "png", &error, NULL);
  g_assert_no_error (error);
  png = g_bytes_new_take (buffer, size);

  image_server = soup_server_new (NULL, NULL);
  soup_server_add_handler (image_server, "/images", image_cb, NULL, NULL);
  soup_server_listen_local (image_server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (image_server);
  {
    g_autofree char *base = g_uri_to_string (uris->data);
    char *url = g_strconcat (base, "images/street.png", NULL);

    g_slist_free_full (g_steal_pointer (&uris), (GDestroyNotify)g_uri_unref);
    return url;
  }
}

/* An image in kempelen-server's own media store: the desk signs its GET
 * with the requester's keys (the store opens to nothing else). */
static char *
add_server_image (void)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, IMAGE_WIDTH, IMAGE_HEIGHT);
  g_autofree char *path = g_build_filename (fixture->tmp_dir, "street-server.png", NULL);
  g_autofree char *hash = NULL;
  g_autoptr(GError) error = NULL;

  gdk_pixbuf_fill (pixbuf, 0x404040ff);
  gdk_pixbuf_save (pixbuf, path, "png", &error, NULL);
  g_assert_no_error (error);
  hash = kp_worker_fixture_add_media_file (fixture, path);
  return g_strconcat (fixture->server->url, "worker/v1/media/", hash, NULL);
}

/* An image on disk, by a file: URL, works too. */
static char *
write_image_file (void)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, IMAGE_WIDTH, IMAGE_HEIGHT);
  g_autofree char *path = g_build_filename (fixture->tmp_dir, "street.png", NULL);
  g_autoptr(GError) error = NULL;

  gdk_pixbuf_fill (pixbuf, 0x808080ff);
  gdk_pixbuf_save (pixbuf, path, "png", &error, NULL);
  g_assert_no_error (error);
  return g_filename_to_uri (path, NULL, NULL);
}

static void
set_up (void)
{
  g_autofree char *http_image = NULL;
  g_autofree char *server_image = NULL;
  g_autofree char *file_image = NULL;
  g_autofree char *path = NULL;
  g_autoptr(JsonObject) accepted = NULL;

  fixture = kp_worker_fixture_new ();
  http_image = start_image_server ();
  file_image = write_image_file ();
  server_image = add_server_image ();
  workers[0] = g_strdup (fixture->worker_id);
  tokens[0] = g_strdup (fixture->token);
  workers[1] = kp_worker_fixture_create_worker (fixture, "Blaise", &tokens[1]);
  workers[2] = kp_worker_fixture_create_worker (fixture, "Charles", &tokens[2]);

  agree_hit = create_hit (file_image, "kempelen-batch:street:1");
  disagree_hit = create_hit (server_image, "kempelen-batch:street:2");
  other_hit = create_hit (http_image, NULL);

  for (guint w = 0; w < 3; w++)
    submit (w, agree_hit, 40 + w, 50, "sunny");
  submit (0, disagree_hit, 20, 20, "sunny");
  submit (1, disagree_hit, 150, 100, "rainy");
  submit (2, disagree_hit, 280, 200, "rainy");
  /* Accepted, not submitted: pending. */
  path = g_strdup_printf ("hits/%s/accept", other_hit);
  accepted = worker_post (tokens[0], path, NULL);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  /* The fixture points the XDG folders at its own before GTK reads them. */
  set_up ();
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  window = kp_review_window_new (NULL);
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  gtk_window_present (GTK_WINDOW (window));

  g_test_add_func ("/kempelen/app/review/parse", test_parse);
  g_test_add_func ("/kempelen/app/review/wrong-secret", test_wrong_secret);
  g_test_add_func ("/kempelen/app/review/unreachable", test_unreachable);
  g_test_add_func ("/kempelen/app/review/typing-keys", test_typing_keys);
  g_test_add_func ("/kempelen/app/review/batches", test_batches);
  g_test_add_func ("/kempelen/app/review/saved-secret", test_saved_secret);
  g_test_add_func ("/kempelen/app/review/profile", test_profile);
  g_test_add_func ("/kempelen/app/review/disagreement-first", test_disagreement_first);
  g_test_add_func ("/kempelen/app/review/overlay", test_overlay);
  g_test_add_func ("/kempelen/app/review/overlay-shapes", test_overlay_shapes);
  g_test_add_func ("/kempelen/app/review/overlay-composite", test_overlay_composite);
  g_test_add_func ("/kempelen/app/review/shortcuts-window", test_shortcuts_window);
  g_test_add_func ("/kempelen/app/review/feedback-texts", test_feedback_texts);
  g_test_add_func ("/kempelen/app/review/decisions", test_decisions);
  g_test_add_func ("/kempelen/app/review/bulk-approve", test_bulk_approve);
  g_test_add_func ("/kempelen/app/review/refresh", test_refresh);
  g_test_add_func ("/kempelen/app/review/server-gone", test_server_gone);
  g_test_add_func ("/kempelen/app/review/change-keys", test_change_keys);

  status = g_test_run ();

  gtk_window_destroy (GTK_WINDOW (window));
  kp_worker_fixture_free (fixture);
  g_clear_object (&image_server);
  g_clear_pointer (&png, g_bytes_unref);
  for (guint i = 0; i < 3; i++)
    {
      g_free (workers[i]);
      g_free (tokens[i]);
    }
  g_free (agree_hit);
  g_free (disagree_hit);
  g_free (other_hit);
  return status;
}
