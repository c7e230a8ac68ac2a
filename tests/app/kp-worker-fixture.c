/* kp-worker-fixture.c: a real kempelen-server with a requester, a worker
 * and HIT groups, for the worker window's tests and benchmark
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-worker-fixture.h"

#include <string.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "kp-core.h"

static char *
dup_kempelenctl (void)
{
  return g_build_filename (g_getenv ("KP_BUILD_ROOT"), "src", "cli", "kempelenctl", NULL);
}

/* Runs kempelenctl and returns its stdout; asserts it succeeded. */
static char *
run_kempelenctl (KpWorkerFixture    *fixture,
                 const char * const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) envp = g_get_environ ();
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  g_ptr_array_add (argv, dup_kempelenctl ());
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);

  if (fixture->access_key != NULL)
    {
      envp = g_environ_setenv (envp, "AWS_ACCESS_KEY_ID", fixture->access_key, TRUE);
      envp = g_environ_setenv (envp, "AWS_SECRET_ACCESS_KEY", fixture->secret_key, TRUE);
    }

  g_spawn_sync (NULL, (char **)argv->pdata, envp, G_SPAWN_DEFAULT, NULL, NULL,
                &out, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("kempelenctl %s failed: %s", args[0], err);

  return g_steal_pointer (&out);
}

static JsonObject *
parse_object (const char *text)
{
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(GError) error = NULL;

  node = json_from_string (text, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  return json_object_ref (json_node_get_object (node));
}

KpWorkerFixture *
kp_worker_fixture_new (void)
{
  KpWorkerFixture *fixture = g_new0 (KpWorkerFixture, 1);
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autoptr(JsonObject) requester = NULL;
  g_autoptr(JsonObject) worker = NULL;
  const char *names[] = { "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME" };

  fixture->tmp_dir = g_dir_make_tmp ("kp-worker-window-XXXXXX", &error);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *dir = g_build_filename (fixture->tmp_dir, names[i], NULL);

      g_mkdir_with_parents (dir, 0700);
      g_setenv (names[i], dir, TRUE);
    }

  fixture->data_dir = g_build_filename (fixture->tmp_dir, "server", NULL);
  out = run_kempelenctl (fixture, (const char *[]) { "admin", "--data-dir", fixture->data_dir,
                                                     "requester", "create", "--name", "Street Lab",
                                                     "--json", NULL });
  requester = parse_object (out);
  fixture->access_key = g_strdup (json_object_get_string_member (requester, "AccessKeyId"));
  fixture->secret_key = g_strdup (json_object_get_string_member (requester, "SecretAccessKey"));
  g_free (run_kempelenctl (fixture, (const char *[]) { "admin", "--data-dir", fixture->data_dir,
                                                       "fund", fixture->access_key, "1000.00", NULL }));

  g_clear_pointer (&out, g_free);
  out = run_kempelenctl (fixture, (const char *[]) { "admin", "--data-dir", fixture->data_dir,
                                                     "worker", "create", "--name", "Ada",
                                                     "--country", "DE", "--json", NULL });
  worker = parse_object (out);
  fixture->worker_id = g_strdup (json_object_get_string_member (worker, "WorkerId"));
  fixture->token = g_strdup (json_object_get_string_member (worker, "Token"));

  kp_worker_fixture_start_server (fixture);
  return fixture;
}

static void create_batch (KpWorkerFixture    *fixture,
                          const char         *title,
                          guint               n,
                          const char         *duration,
                          const char         *qualification,
                          const char * const *images,
                          const char         *layout_text);

void
kp_worker_fixture_create_group (KpWorkerFixture    *fixture,
                                const char         *title,
                                guint               n,
                                const char         *duration,
                                const char         *qualification,
                                const char * const *images)
{
  create_batch (fixture, title, n, duration, qualification, images, NULL);
}

void
kp_worker_fixture_create_layout_group (KpWorkerFixture    *fixture,
                                       const char         *title,
                                       guint               n,
                                       const char * const *images,
                                       const char         *layout_text)
{
  create_batch (fixture, title, n, "30m", NULL, images, layout_text);
}

static void
create_batch (KpWorkerFixture    *fixture,
              const char         *title,
              guint               n,
              const char         *duration,
              const char         *qualification,
              const char * const *images,
              const char         *layout_text)
{
  g_autoptr(GString) csv = g_string_new ("n,image\n");
  g_autoptr(GString) form = g_string_new (NULL);
  guint n_images = images != NULL ? g_strv_length ((char **)images) : 0;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_build_filename (fixture->tmp_dir, "batches", title, NULL);
  g_autofree char *layout = g_build_filename (dir, "layout.xml", NULL);
  g_autofree char *rows = g_build_filename (dir, "rows.csv", NULL);
  g_autofree char *batch_file = g_build_filename (dir, "batches.json", NULL);
  g_autoptr(GPtrArray) args = g_ptr_array_new ();

  g_string_append (form, "<QuestionForm xmlns=\"http://mechanicalturk.amazonaws.com/"
                         "AWSMechanicalTurkDataSchemas/2017-11-06/QuestionForm.xsd\">"
                         "<Question><QuestionIdentifier>q1</QuestionIdentifier><IsRequired>true</IsRequired>"
                         "<QuestionContent><Text>What is in picture ${n}?</Text>");
  if (n_images > 0)
    g_string_append_printf (form, "<Binary><MimeType><Type>image</Type><SubType>png</SubType></MimeType>"
                                  "<DataURL>%sworker/v1/media/${image}</DataURL>"
                                  "<AltText>Picture ${n}</AltText></Binary>",
                            fixture->server->url);
  g_string_append (form, "</QuestionContent>"
                         "<AnswerSpecification><FreeTextAnswer/></AnswerSpecification></Question>"
                         "</QuestionForm>");

  g_mkdir_with_parents (dir, 0700);
  for (guint i = 0; i < n; i++)
    g_string_append_printf (csv, "%u,%s\n", i + 1, n_images > 0 ? images[i % n_images] : "none");
  if (layout_text != NULL)
    {
      g_autofree char *url = g_strconcat (fixture->server->url, "worker/v1/media/", NULL);
      g_autoptr(GString) text = g_string_new (layout_text);

      g_string_replace (text, "${media}", url, 0);
      g_string_assign (form, text->str);
    }
  g_file_set_contents (layout, form->str, -1, &error);
  g_assert_no_error (error);
  g_file_set_contents (rows, csv->str, -1, &error);
  g_assert_no_error (error);

  g_ptr_array_add (args, "batch");
  g_ptr_array_add (args, "create");
  g_ptr_array_add (args, "--endpoint");
  g_ptr_array_add (args, fixture->server->url);
  g_ptr_array_add (args, "--batch-file");
  g_ptr_array_add (args, batch_file);
  g_ptr_array_add (args, "--layout");
  g_ptr_array_add (args, layout);
  g_ptr_array_add (args, "--input");
  g_ptr_array_add (args, rows);
  g_ptr_array_add (args, "--title");
  g_ptr_array_add (args, (char *)title);
  g_ptr_array_add (args, "--reward");
  g_ptr_array_add (args, "0.10");
  g_ptr_array_add (args, "--lifetime");
  g_ptr_array_add (args, "1d");
  g_ptr_array_add (args, "--duration");
  g_ptr_array_add (args, (char *)duration);
  g_ptr_array_add (args, "--quiet");
  if (qualification != NULL)
    {
      g_ptr_array_add (args, "--qualification");
      g_ptr_array_add (args, (char *)qualification);
    }
  g_ptr_array_add (args, NULL);

  g_free (run_kempelenctl (fixture, (const char * const *)args->pdata));
}

char *
kp_worker_fixture_add_image (KpWorkerFixture *fixture,
                             int              width,
                             int              height,
                             guint            seed)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autofree char *dir = g_build_filename (fixture->tmp_dir, "images", NULL);
  g_autofree char *name = g_strdup_printf ("image-%u.png", seed);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  guchar *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);

  /* Noise compresses badly, like a photo. */
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width * 3; x++)
      pixels[y * stride + x] = g_rand_int_range (rand, 0, 256);

  g_mkdir_with_parents (dir, 0700);
  gdk_pixbuf_save (pixbuf, path, "png", &error, NULL);
  g_assert_no_error (error);

  return kp_worker_fixture_add_media_file (fixture, path);
}

char *
kp_worker_fixture_add_media_file (KpWorkerFixture *fixture,
                                  const char      *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *out = NULL;
  JsonArray *array;

  out = run_kempelenctl (fixture, (const char *[]) { "admin", "--data-dir", fixture->data_dir,
                                                     "media", "add", path, "--json", NULL });
  node = json_from_string (out, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (node));
  array = json_node_get_array (node);
  g_assert_cmpuint (json_array_get_length (array), ==, 1);
  return g_strdup (json_object_get_string_member (json_array_get_object_element (array, 0), "SHA256"));
}

/* One MTurk requester call, signed, answered with its JSON object. */
static JsonObject *
call_mturk (KpWorkerFixture *fixture,
            const char      *operation,
            JsonNode        *params)
{
  g_autofree char *text = json_to_string (params, FALSE);
  g_autoptr(GBytes) body = g_bytes_new (text, strlen (text));
  g_autoptr(KpSigv4Request) req = kp_sigv4_request_new ("POST", "/", "", body);
  g_autoptr(SoupSession) session = soup_session_new ();
  g_autoptr(SoupMessage) msg = soup_message_new ("POST", fixture->server->url);
  g_autofree char *host = g_strdup_printf ("127.0.0.1:%u", fixture->port);
  g_autofree char *target = g_strconcat ("MTurkRequesterServiceV20170117.", operation, NULL);
  SoupMessageHeaders *headers = soup_message_get_request_headers (msg);
  g_autoptr(GBytes) answer = NULL;
  g_autoptr(GError) error = NULL;

  kp_sigv4_request_add_header (req, "host", host);
  kp_sigv4_request_add_header (req, "content-type", "application/x-amz-json-1.1");
  kp_sigv4_request_add_header (req, "x-amz-target", target);
  kp_sigv4_sign (req, fixture->access_key, fixture->secret_key, "us-east-1", "mturk-requester",
                 g_get_real_time () / G_USEC_PER_SEC);
  soup_message_headers_replace (headers, "X-Amz-Target", target);
  soup_message_headers_replace (headers, "X-Amz-Date", kp_sigv4_request_get_header (req, "x-amz-date"));
  soup_message_headers_replace (headers, "Authorization", kp_sigv4_request_get_header (req, "authorization"));
  soup_message_set_request_body_from_bytes (msg, "application/x-amz-json-1.1", body);

  answer = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  if (soup_message_get_status (msg) != 200)
    g_error ("%s failed: %.*s", operation, (int)g_bytes_get_size (answer),
             (const char *)g_bytes_get_data (answer, NULL));
  return parse_object (g_bytes_get_data (answer, NULL));
}

char *
kp_worker_fixture_create_qualification (KpWorkerFixture *fixture,
                                        const char      *name)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) params = NULL;
  g_autoptr(JsonObject) answer = NULL;
  const char *test =
    "<QuestionForm xmlns=\"http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2017-11-06/QuestionForm.xsd\">"
    "<Question><QuestionIdentifier>sky</QuestionIdentifier><IsRequired>true</IsRequired>"
    "<QuestionContent><Text>What colour is the sky?</Text></QuestionContent>"
    "<AnswerSpecification><SelectionAnswer><StyleSuggestion>radiobutton</StyleSuggestion><Selections>"
    "<Selection><SelectionIdentifier>blue</SelectionIdentifier><Text>Blue</Text></Selection>"
    "<Selection><SelectionIdentifier>green</SelectionIdentifier><Text>Green</Text></Selection>"
    "<Selection><SelectionIdentifier>red</SelectionIdentifier><Text>Red</Text></Selection>"
    "</Selections></SelectionAnswer></AnswerSpecification></Question></QuestionForm>";
  const char *key =
    "<AnswerKey xmlns=\"http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/AnswerKey.xsd\">"
    "<Question><QuestionIdentifier>sky</QuestionIdentifier>"
    "<AnswerOption><SelectionIdentifier>blue</SelectionIdentifier><AnswerScore>100</AnswerScore></AnswerOption>"
    "<DefaultScore>0</DefaultScore></Question></AnswerKey>";

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "Name");
  json_builder_add_string_value (builder, name);
  json_builder_set_member_name (builder, "Description");
  json_builder_add_string_value (builder, "Knows the colours of things");
  json_builder_set_member_name (builder, "QualificationTypeStatus");
  json_builder_add_string_value (builder, "Active");
  json_builder_set_member_name (builder, "Test");
  json_builder_add_string_value (builder, test);
  json_builder_set_member_name (builder, "AnswerKey");
  json_builder_add_string_value (builder, key);
  json_builder_set_member_name (builder, "TestDurationInSeconds");
  json_builder_add_int_value (builder, 600);
  json_builder_set_member_name (builder, "RetryDelayInSeconds");
  json_builder_add_int_value (builder, 60);
  json_builder_end_object (builder);
  params = json_builder_get_root (builder);

  answer = call_mturk (fixture, "CreateQualificationType", params);
  return g_strdup (json_object_get_string_member (json_object_get_object_member (answer, "QualificationType"),
                                                  "QualificationTypeId"));
}

char *
kp_worker_fixture_create_worker (KpWorkerFixture  *fixture,
                                 const char       *name,
                                 char            **token)
{
  g_autofree char *out = NULL;
  g_autoptr(JsonObject) worker = NULL;

  out = run_kempelenctl (fixture, (const char *[]) { "admin", "--data-dir", fixture->data_dir,
                                                     "worker", "create", "--name", name,
                                                     "--country", "FR", "--json", NULL });
  worker = parse_object (out);
  *token = g_strdup (json_object_get_string_member (worker, "Token"));
  return g_strdup (json_object_get_string_member (worker, "WorkerId"));
}

void
kp_worker_fixture_start_server (KpWorkerFixture *fixture)
{
  g_autofree char *data_arg = g_strdup_printf ("--data-dir=%s", fixture->data_dir);
  g_autofree char *port = g_strdup_printf ("%u", fixture->port);
  const char *args[] = { data_arg, "--port", port, "--rate-limit", "0", NULL };

  g_assert_null (fixture->server);
  fixture->server = kp_test_server_start (args);
  fixture->port = fixture->server->port;
}

void
kp_worker_fixture_stop_server (KpWorkerFixture *fixture)
{
  g_assert_nonnull (fixture->server);
  kp_test_server_stop (fixture->server);
  fixture->server = NULL;
}

static void
remove_tree (GFile *file)
{
  g_autoptr(GFileEnumerator) children = NULL;

  children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  if (children != NULL)
    {
      GFileInfo *info;
      GFile *child;

      while (g_file_enumerator_iterate (children, &info, &child, NULL, NULL) && info != NULL)
        remove_tree (child);
    }
  g_file_delete (file, NULL, NULL);
}

void
kp_worker_fixture_free (KpWorkerFixture *fixture)
{
  g_autoptr(GFile) tmp = NULL;

  if (fixture->server != NULL)
    kp_worker_fixture_stop_server (fixture);

  tmp = g_file_new_for_path (fixture->tmp_dir);
  remove_tree (tmp);

  g_free (fixture->tmp_dir);
  g_free (fixture->data_dir);
  g_free (fixture->access_key);
  g_free (fixture->secret_key);
  g_free (fixture->worker_id);
  g_free (fixture->token);
  g_free (fixture);
}

static gboolean
wait_timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
kp_worker_wait_for (gboolean (*func) (gpointer),
                    gpointer   data,
                    guint      timeout_ms)
{
  gboolean timed_out = FALSE;
  guint id = g_timeout_add (timeout_ms, wait_timeout_cb, &timed_out);

  while (!func (data))
    {
      if (timed_out)
        return FALSE;
      g_main_context_iteration (NULL, TRUE);
    }

  if (!timed_out)
    g_source_remove (id);
  return TRUE;
}
