/* kp-sync-tool.c: drives KpSyncEngine and KpWorkerCache from tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A test helper, so that a sync can run in a process of its own (and be
 * killed with SIGKILL) while Python tests hold the server and check it:
 *
 *   kp-sync-tool make-hits URL HIT_TYPE_ID N [QUESTION_FILE]
 *       (KP_ACCESS_KEY, KP_SECRET_KEY) creates N HITs with SigV4-signed
 *       CreateHITWithHITType calls, many at a time
 *   kp-sync-tool take-offline CACHE URL HIT_TYPE_ID N      (KP_TOKEN)
 *   kp-sync-tool enqueue CACHE [ANSWER_BYTES]
 *       submits every Accepted assignment of the cache into the outbox
 *   kp-sync-tool sync CACHE URL [--batch N] [--in-flight N]
 *       [--retry-ms BASE,MAX] [--timeout S] [--measure-stalls]  (KP_TOKEN)
 *   kp-sync-tool submit-each CACHE URL                      (KP_TOKEN)
 *       sends the queued outbox items one POST /submit after another
 *       (the benchmark's baseline); leaves the outbox unchanged
 *   kp-sync-tool raw-download URL SHA256...                 (KP_TOKEN)
 *       downloads media into memory, 4 at a time, without checking
 *   kp-sync-tool download CACHE URL SHA256                  (KP_TOKEN)
 *   kp-sync-tool status CACHE
 *
 * Every command prints one JSON object on stdout.
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libsoup/soup.h>

#include "kp-core.h"
#include "kp-sync-engine.h"
#include "kp-worker-client.h"

static G_NORETURN void
die (const char *format,
     ...)
{
  va_list args;

  va_start (args, format);
  fputs ("kp-sync-tool: ", stderr);
  vfprintf (stderr, format, args);
  fputc ('\n', stderr);
  va_end (args);
  exit (2);
}

static const char *
token_from_env (void)
{
  const char *token = g_getenv ("KP_TOKEN");

  if (token == NULL || *token == '\0')
    die ("set KP_TOKEN to the worker's token");
  return token;
}

static void
print_json (JsonBuilder *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = json_to_string (root, FALSE);

  printf ("%s\n", text);
  fflush (stdout);
}

/* --- make-hits --- */

typedef struct
{
  SoupSession *session;
  const char  *url;
  const char  *host;
  const char  *access_key;
  const char  *secret;
  GBytes      *body;
  guint        remaining;
  guint        in_flight;
  guint        made;
  guint        failed;
  guint        retries;
} MakeHits;

static void make_one (MakeHits *m);

static void
make_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  MakeHits *m = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  SoupMessage *msg = soup_session_get_async_result_message (SOUP_SESSION (source), result);

  m->in_flight--;
  if (body != NULL && soup_message_get_status (msg) == 200)
    m->made++;
  else if (body == NULL && m->retries < 20)
    {
      /* A keep-alive connection the server closed just then: again. */
      m->retries++;
      m->remaining++;
    }
  else
    {
      m->failed++;
      g_printerr ("CreateHITWithHITType failed: %s %.*s\n",
                  error != NULL ? error->message : "",
                  body != NULL ? (int)g_bytes_get_size (body) : 0,
                  body != NULL ? (const char *)g_bytes_get_data (body, NULL) : "");
    }
  while (m->remaining > 0 && m->in_flight < 16)
    make_one (m);
}

static void
make_one (MakeHits *m)
{
  g_autoptr(KpSigv4Request) req = kp_sigv4_request_new ("POST", "/", "", m->body);
  g_autoptr(SoupMessage) msg = soup_message_new ("POST", m->url);
  SoupMessageHeaders *headers = soup_message_get_request_headers (msg);

  kp_sigv4_request_add_header (req, "host", m->host);
  kp_sigv4_request_add_header (req, "content-type", "application/x-amz-json-1.1");
  kp_sigv4_request_add_header (req, "x-amz-target",
                               "MTurkRequesterServiceV20170117.CreateHITWithHITType");
  kp_sigv4_sign (req, m->access_key, m->secret, "us-east-1", "mturk-requester",
                 g_get_real_time () / G_USEC_PER_SEC);

  soup_message_headers_replace (headers, "X-Amz-Target",
                                kp_sigv4_request_get_header (req, "x-amz-target"));
  soup_message_headers_replace (headers, "X-Amz-Date", kp_sigv4_request_get_header (req, "x-amz-date"));
  soup_message_headers_replace (headers, "Authorization",
                                kp_sigv4_request_get_header (req, "authorization"));
  soup_message_set_request_body_from_bytes (msg, "application/x-amz-json-1.1", m->body);

  m->remaining--;
  m->in_flight++;
  soup_session_send_and_read_async (m->session, msg, G_PRIORITY_DEFAULT, NULL, make_cb, m);
}

static int
cmd_make_hits (int    argc,
               char **argv)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonBuilder) body = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GUri) uri = NULL;
  g_autofree char *question = NULL;
  g_autofree char *host = NULL;
  g_autofree char *text = NULL;
  MakeHits m = { 0 };

  if (argc < 3)
    die ("usage: make-hits URL HIT_TYPE_ID N [QUESTION_FILE]");

  if (argc > 3)
    {
      if (!g_file_get_contents (argv[3], &question, NULL, NULL))
        die ("cannot read %s", argv[3]);
    }
  else
    question = g_strdup ("<QuestionForm xmlns=\"http://mechanicalturk.amazonaws.com/"
                         "AWSMechanicalTurkDataSchemas/2017-11-06/QuestionForm.xsd\">"
                         "<Question><QuestionIdentifier>q1</QuestionIdentifier>"
                         "<IsRequired>true</IsRequired><QuestionContent><Text>What is it?"
                         "</Text></QuestionContent><AnswerSpecification><FreeTextAnswer/>"
                         "</AnswerSpecification></Question></QuestionForm>");

  json_builder_begin_object (body);
  json_builder_set_member_name (body, "HITTypeId");
  json_builder_add_string_value (body, argv[1]);
  json_builder_set_member_name (body, "MaxAssignments");
  json_builder_add_int_value (body, g_getenv ("KP_MAX_ASSIGNMENTS") ? atoi (g_getenv ("KP_MAX_ASSIGNMENTS")) : 1);
  json_builder_set_member_name (body, "LifetimeInSeconds");
  json_builder_add_int_value (body, 86400);
  json_builder_set_member_name (body, "Question");
  json_builder_add_string_value (body, question);
  json_builder_end_object (body);
  root = json_builder_get_root (body);
  text = json_to_string (root, FALSE);

  uri = g_uri_parse (argv[0], G_URI_FLAGS_NONE, NULL);
  if (uri == NULL)
    die ("not a URL: %s", argv[0]);
  host = g_strdup_printf ("%s:%d", g_uri_get_host (uri), g_uri_get_port (uri));

  m.session = soup_session_new_with_options ("max-conns-per-host", 16, "max-conns", 16, NULL);
  m.url = argv[0];
  m.host = host;
  m.access_key = g_getenv ("KP_ACCESS_KEY");
  m.secret = g_getenv ("KP_SECRET_KEY");
  if (m.access_key == NULL || m.secret == NULL)
    die ("set KP_ACCESS_KEY and KP_SECRET_KEY");
  {
    gsize len = strlen (text);

    m.body = g_bytes_new_take (g_steal_pointer (&text), len);
  }
  m.remaining = atoi (argv[2]);

  while (m.remaining > 0 && m.in_flight < 16)
    make_one (&m);
  while (m.in_flight > 0)
    g_main_context_iteration (NULL, TRUE);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "made");
  json_builder_add_int_value (builder, m.made);
  json_builder_set_member_name (builder, "failed");
  json_builder_add_int_value (builder, m.failed);
  json_builder_end_object (builder);
  print_json (builder);

  g_bytes_unref (m.body);
  g_object_unref (m.session);
  return m.failed == 0 ? 0 : 1;
}

/* --- the engine --- */

static KpSyncEngine *
new_engine (const char *cache,
            const char *url)
{
  return kp_sync_engine_new (cache, url, token_from_env ());
}

typedef struct
{
  gboolean  done;
  GStrv     ids;
  GError   *error;
  guint64   bytes_done;
  guint64   bytes_total;
  guint     progress_calls;
  gint64    start;
  gint64    all_accepted;
} OfflineWait;

static void
offline_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  OfflineWait *w = user_data;

  w->ids = kp_sync_engine_take_offline_finish (KP_SYNC_ENGINE (source), result, &w->error);
  w->done = TRUE;
}

static void
offline_progress_cb (KpSyncEngine *engine,
                     guint         ready,
                     guint         wanted,
                     guint64       bytes_done,
                     guint64       bytes_total,
                     OfflineWait  *w)
{
  w->bytes_done = bytes_done;
  w->bytes_total = bytes_total;
  w->progress_calls++;
  if (ready == wanted && w->all_accepted == 0)
    w->all_accepted = g_get_monotonic_time ();
}

static gboolean
cancel_cb (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static int
cmd_take_offline (int    argc,
                  char **argv)
{
  g_autoptr(KpSyncEngine) engine = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  OfflineWait w = { 0 };
  gint64 start;
  double seconds;

  if (argc < 4)
    die ("usage: take-offline CACHE URL HIT_TYPE_ID N [CANCEL_AFTER_MS]");

  engine = new_engine (argv[0], argv[1]);
  kp_sync_engine_set_work_offline (engine, TRUE);  /* accepting only: no sync */
  kp_sync_engine_start (engine);
  g_signal_connect (engine, "take-offline-progress", G_CALLBACK (offline_progress_cb), &w);

  start = w.start = g_get_monotonic_time ();
  kp_sync_engine_take_offline_async (engine, argv[2], atoi (argv[3]), cancellable, offline_cb, &w);
  if (argc > 4)
    g_timeout_add (atoi (argv[4]), cancel_cb, cancellable);
  while (!w.done)
    g_main_context_iteration (NULL, TRUE);
  seconds = (g_get_monotonic_time () - start) / (double)G_USEC_PER_SEC;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "accepted");
  json_builder_add_int_value (builder, w.ids != NULL ? g_strv_length (w.ids) : 0);
  json_builder_set_member_name (builder, "seconds");
  json_builder_add_double_value (builder, seconds);
  json_builder_set_member_name (builder, "accept_seconds");
  json_builder_add_double_value (builder, w.all_accepted ? (w.all_accepted - start) / (double)G_USEC_PER_SEC : -1);
  json_builder_set_member_name (builder, "bytes");
  json_builder_add_int_value (builder, w.bytes_done);
  json_builder_set_member_name (builder, "bytes_total");
  json_builder_add_int_value (builder, w.bytes_total);
  json_builder_set_member_name (builder, "progress_calls");
  json_builder_add_int_value (builder, w.progress_calls);
  json_builder_set_member_name (builder, "error");
  if (w.error != NULL)
    json_builder_add_string_value (builder, w.error->message);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "error_code");
  if (w.error != NULL)
    json_builder_add_string_value (builder, g_quark_to_string (w.error->domain));
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "cancelled");
  json_builder_add_boolean_value (builder, g_error_matches (w.error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
  json_builder_end_object (builder);
  print_json (builder);

  g_strfreev (w.ids);
  g_clear_error (&w.error);
  return 0;
}

static int
cmd_enqueue (int    argc,
             char **argv)
{
  g_autoptr(KpWorkerCache) cache = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *filler = NULL;
  guint size = argc > 1 ? atoi (argv[1]) : 100;
  guint n = 0;

  if (argc < 1)
    die ("usage: enqueue CACHE [ANSWER_BYTES]");

  cache = kp_worker_cache_open (argv[0], &error);
  if (cache == NULL)
    die ("%s", error->message);
  list = kp_worker_cache_list_assignments (cache, &error);
  if (list == NULL)
    die ("%s", error->message);

  filler = g_strnfill (MAX (size, 60) - 50, 'x');
  {
    g_autoptr(GPtrArray) ids = g_ptr_array_new ();
    g_autoptr(GPtrArray) answers = g_ptr_array_new_with_free_func (g_free);
    g_auto(GStrv) made = NULL;
    const char *fake = g_getenv ("KP_FAKE_ASSIGNMENTS");
    g_autoptr(GPtrArray) fake_ids = g_ptr_array_new_with_free_func (g_free);

    /* KP_FAKE_ASSIGNMENTS=N: N submissions for assignments the server
     * never made (it refuses each with 404). */
    for (int i = 0; fake != NULL && i < atoi (fake); i++)
      {
        g_ptr_array_add (fake_ids, g_strdup_printf ("3FAKEASSIGNMENT%08d", i));
        g_ptr_array_add (ids, g_ptr_array_index (fake_ids, i));
        g_ptr_array_add (answers, g_strdup_printf ("[{\"QuestionIdentifier\":\"q1\",\"FreeText\":\"%d %s\"}]",
                                                   i, filler));
      }
    for (guint i = 0; i < list->len; i++)
      {
        KpCachedAssignment *a = g_ptr_array_index (list, i);

        if (g_strcmp0 (a->status, "Accepted") != 0)
          continue;
        g_ptr_array_add (ids, a->assignment_id);
        g_ptr_array_add (answers, g_strdup_printf ("[{\"QuestionIdentifier\":\"q1\",\"FreeText\":\"%s %s\"}]",
                                                   a->assignment_id, filler));
      }
    made = kp_worker_cache_enqueue_many (cache, ids->len, (const char * const *)ids->pdata,
                                         (const char * const *)answers->pdata, &error);
    if (made == NULL)
      die ("%s", error->message);
    n = g_strv_length (made);
  }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "enqueued");
  json_builder_add_int_value (builder, n);
  json_builder_end_object (builder);
  print_json (builder);
  return 0;
}

typedef struct
{
  gint64 last;
  gint64 max_gap;
  guint  ticks;
} Stalls;

static gboolean
tick_cb (gpointer data)
{
  Stalls *s = data;
  gint64 now = g_get_monotonic_time ();

  if (s->last != 0)
    s->max_gap = MAX (s->max_gap, now - s->last);
  s->last = now;
  s->ticks++;
  return G_SOURCE_CONTINUE;
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *)data = TRUE;
  return G_SOURCE_REMOVE;
}

static int
cmd_sync (int    argc,
          char **argv)
{
  g_autoptr(KpSyncEngine) engine = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GOptionContext) context = g_option_context_new ("CACHE URL");
  g_autoptr(GError) error = NULL;
  int batch = 100;
  int in_flight = 2;
  int timeout_s = 120;
  char *retry = NULL;
  gboolean measure = FALSE;
  gboolean timed_out = FALSE;
  guint start_accepted;
  Stalls stalls = { 0 };
  guint tick_id = 0;
  gint64 start;
  double seconds;
  GOptionEntry entries[] = {
    { "batch", 0, 0, G_OPTION_ARG_INT, &batch, "Items per POST /sync", "N" },
    { "in-flight", 0, 0, G_OPTION_ARG_INT, &in_flight, "Requests at once", "N" },
    { "retry-ms", 0, 0, G_OPTION_ARG_STRING, &retry, "Back-off base and maximum", "BASE,MAX" },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_s, "Give up after S seconds", "S" },
    { "measure-stalls", 0, 0, G_OPTION_ARG_NONE, &measure, "Measure main-loop gaps", NULL },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, NULL);
  argc++;
  argv--;
  if (!g_option_context_parse (context, &argc, &argv, &error) || argc < 3)
    die ("usage: sync CACHE URL [--batch N] [--in-flight N] [--retry-ms BASE,MAX] [--timeout S]");

  engine = new_engine (argv[1], argv[2]);
  kp_sync_engine_set_batch_size (engine, batch);
  kp_sync_engine_set_max_in_flight (engine, in_flight);
  if (retry != NULL)
    {
      g_auto(GStrv) parts = g_strsplit (retry, ",", 2);

      kp_sync_engine_set_retry_delays (engine, atoi (parts[0]),
                                       parts[1] != NULL ? atoi (parts[1]) : atoi (parts[0]) * 8);
    }

  /* A 5 ms timer on the main context: the gaps between its dispatches are
   * how long the main loop was kept from running. */
  if (measure)
    tick_id = g_timeout_add (5, tick_cb, &stalls);
  g_timeout_add_seconds (timeout_s, timeout_cb, &timed_out);

  start = g_get_monotonic_time ();
  kp_sync_engine_start (engine);

  while (!kp_sync_engine_get_loaded (engine) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  start_accepted = kp_sync_engine_get_n_accepted (engine);
  while (!timed_out &&
         (kp_sync_engine_get_n_queued (engine) > 0 || kp_sync_engine_get_n_sending (engine) > 0))
    g_main_context_iteration (NULL, TRUE);
  seconds = (g_get_monotonic_time () - start) / (double)G_USEC_PER_SEC;
  if (tick_id != 0)
    g_source_remove (tick_id);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "queued");
  json_builder_add_int_value (builder, kp_sync_engine_get_n_queued (engine));
  json_builder_set_member_name (builder, "sending");
  json_builder_add_int_value (builder, kp_sync_engine_get_n_sending (engine));
  json_builder_set_member_name (builder, "accepted");
  json_builder_add_int_value (builder, kp_sync_engine_get_n_accepted (engine));
  json_builder_set_member_name (builder, "refused");
  json_builder_add_int_value (builder, kp_sync_engine_get_n_refused (engine));
  json_builder_set_member_name (builder, "model_items");
  json_builder_add_int_value (builder, g_list_model_get_n_items (kp_sync_engine_get_outbox (engine)));
  json_builder_set_member_name (builder, "newly_accepted");
  json_builder_add_int_value (builder, kp_sync_engine_get_n_accepted (engine) - start_accepted);
  json_builder_set_member_name (builder, "seconds");
  json_builder_add_double_value (builder, seconds);
  json_builder_set_member_name (builder, "max_gap_ms");
  json_builder_add_double_value (builder, stalls.max_gap / 1000.0);
  json_builder_set_member_name (builder, "ticks");
  json_builder_add_int_value (builder, stalls.ticks);
  json_builder_set_member_name (builder, "timed_out");
  json_builder_add_boolean_value (builder, timed_out);
  json_builder_end_object (builder);
  print_json (builder);

  g_free (retry);
  return timed_out ? 1 : 0;
}

/* --- submit-each: the baseline --- */

typedef struct
{
  gboolean    done;
  JsonObject *object;
  GError     *error;
} CallWait;

static void
call_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  CallWait *w = user_data;

  w->object = kp_worker_client_call_finish (KP_WORKER_CLIENT (source), result, &w->error);
  w->done = TRUE;
}

static int
cmd_submit_each (int    argc,
                 char **argv)
{
  g_autoptr(KpWorkerCache) cache = NULL;
  g_autoptr(KpWorkerClient) client = NULL;
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  guint ok = 0;
  guint failed = 0;
  gint64 start;
  double seconds;

  if (argc < 2)
    die ("usage: submit-each CACHE URL");

  cache = kp_worker_cache_open (argv[0], &error);
  if (cache == NULL)
    die ("%s", error->message);
  items = kp_worker_cache_list_outbox (cache, &error);
  client = kp_worker_client_new (argv[1], token_from_env ());

  start = g_get_monotonic_time ();
  for (guint i = 0; i < items->len; i++)
    {
      KpOutboxItem *item = g_ptr_array_index (items, i);
      g_autoptr(JsonNode) answers = NULL;
      CallWait w = { 0 };

      if (kp_outbox_item_get_state (item) != KP_OUTBOX_STATE_QUEUED)
        continue;
      answers = json_from_string (kp_outbox_item_get_answer (item), NULL);
      kp_worker_client_submit_async (client, kp_outbox_item_get_assignment_id (item),
                                     kp_outbox_item_get_submission_id (item), answers,
                                     NULL, call_cb, &w);
      while (!w.done)
        g_main_context_iteration (NULL, TRUE);
      if (w.object != NULL)
        ok++;
      else
        failed++;
      g_clear_pointer (&w.object, json_object_unref);
      g_clear_error (&w.error);
    }
  seconds = (g_get_monotonic_time () - start) / (double)G_USEC_PER_SEC;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "submitted");
  json_builder_add_int_value (builder, ok);
  json_builder_set_member_name (builder, "failed");
  json_builder_add_int_value (builder, failed);
  json_builder_set_member_name (builder, "seconds");
  json_builder_add_double_value (builder, seconds);
  json_builder_end_object (builder);
  print_json (builder);
  return failed == 0 ? 0 : 1;
}

/* --- downloads --- */

typedef struct
{
  SoupSession *session;
  GQueue       queue;
  const char  *api;
  const char  *auth;
  guint        in_flight;
  guint64      bytes;
  guint        failed;
} Raw;

static void raw_next (Raw *r);

static void
raw_cb (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  Raw *r = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);

  r->in_flight--;
  if (body != NULL &&
      soup_message_get_status (soup_session_get_async_result_message (SOUP_SESSION (source), result)) == 200)
    r->bytes += g_bytes_get_size (body);
  else
    r->failed++;
  raw_next (r);
}

static void
raw_next (Raw *r)
{
  while (r->in_flight < 4 && !g_queue_is_empty (&r->queue))
    {
      g_autofree char *sha = g_queue_pop_head (&r->queue);
      g_autofree char *url = g_strconcat (r->api, "media/", sha, NULL);
      g_autoptr(SoupMessage) msg = soup_message_new ("GET", url);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization", r->auth);
      r->in_flight++;
      soup_session_send_and_read_async (r->session, msg, G_PRIORITY_DEFAULT, NULL, raw_cb, r);
    }
}

static int
cmd_raw_download (int    argc,
                  char **argv)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *api = NULL;
  g_autofree char *auth = NULL;
  Raw r = { 0 };
  gint64 start;
  double seconds;

  if (argc < 2)
    die ("usage: raw-download URL SHA256...");

  api = g_str_has_suffix (argv[0], "/") ? g_strconcat (argv[0], "worker/v1/", NULL)
                                        : g_strconcat (argv[0], "/worker/v1/", NULL);
  auth = g_strconcat ("Bearer ", token_from_env (), NULL);
  r.session = soup_session_new_with_options ("max-conns-per-host", 8, "max-conns", 16, NULL);
  r.api = api;
  r.auth = auth;
  g_queue_init (&r.queue);
  for (int i = 1; i < argc; i++)
    g_queue_push_tail (&r.queue, g_strdup (argv[i]));

  start = g_get_monotonic_time ();
  raw_next (&r);
  while (r.in_flight > 0)
    g_main_context_iteration (NULL, TRUE);
  seconds = (g_get_monotonic_time () - start) / (double)G_USEC_PER_SEC;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "bytes");
  json_builder_add_int_value (builder, r.bytes);
  json_builder_set_member_name (builder, "failed");
  json_builder_add_int_value (builder, r.failed);
  json_builder_set_member_name (builder, "seconds");
  json_builder_add_double_value (builder, seconds);
  json_builder_end_object (builder);
  print_json (builder);

  g_object_unref (r.session);
  return r.failed == 0 ? 0 : 1;
}

typedef struct
{
  gboolean  done;
  gboolean  ok;
  guint64   size;
  GError   *error;
} DownloadWait;

static void
download_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  DownloadWait *w = user_data;

  w->ok = kp_worker_client_download_media_finish (KP_WORKER_CLIENT (source), result, &w->size,
                                                  NULL, &w->error);
  w->done = TRUE;
}

static int
cmd_download (int    argc,
              char **argv)
{
  g_autoptr(KpWorkerCache) cache = NULL;
  g_autoptr(KpWorkerClient) client = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *dir = NULL;
  DownloadWait w = { 0 };

  if (argc < 3)
    die ("usage: download CACHE URL SHA256");

  cache = kp_worker_cache_open (argv[0], &error);
  if (cache == NULL)
    die ("%s", error->message);
  client = kp_worker_client_new (argv[1], token_from_env ());
  path = kp_worker_cache_dup_media_path (cache, argv[2]);
  dir = g_path_get_dirname (path);
  g_mkdir_with_parents (dir, 0700);

  kp_worker_client_download_media_async (client, argv[2], path, 3, NULL, NULL, NULL, NULL,
                                         download_cb, &w);
  while (!w.done)
    g_main_context_iteration (NULL, TRUE);
  if (w.ok)
    kp_worker_cache_put_media (cache, argv[2], NULL, w.size, TRUE, NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "ok");
  json_builder_add_boolean_value (builder, w.ok);
  json_builder_set_member_name (builder, "path");
  json_builder_add_string_value (builder, path);
  json_builder_set_member_name (builder, "size");
  json_builder_add_int_value (builder, w.size);
  json_builder_set_member_name (builder, "error");
  if (w.error != NULL)
    json_builder_add_string_value (builder, w.error->message);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "corrupt");
  json_builder_add_boolean_value (builder, g_error_matches (w.error, KP_WORKER_ERROR, KP_WORKER_ERROR_CORRUPT));
  json_builder_set_member_name (builder, "verified");
  json_builder_add_boolean_value (builder, kp_worker_cache_lookup_media (cache, argv[2], NULL, NULL));
  json_builder_end_object (builder);
  print_json (builder);

  g_clear_error (&w.error);
  return 0;
}

static int
cmd_status (int    argc,
            char **argv)
{
  g_autoptr(KpWorkerCache) cache = NULL;
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  guint counts[4];

  if (argc < 1)
    die ("usage: status CACHE");

  cache = kp_worker_cache_open (argv[0], &error);
  if (cache == NULL)
    die ("%s", error->message);
  items = kp_worker_cache_list_outbox (cache, &error);
  if (items == NULL || !kp_worker_cache_count_outbox (cache, counts, &error))
    die ("%s", error->message);

  json_builder_begin_object (builder);
  for (guint s = 0; s < 4; s++)
    {
      json_builder_set_member_name (builder, kp_outbox_state_to_string (s));
      json_builder_add_int_value (builder, counts[s]);
    }
  json_builder_set_member_name (builder, "items");
  json_builder_begin_array (builder);
  for (guint i = 0; i < items->len; i++)
    {
      KpOutboxItem *item = g_ptr_array_index (items, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "submission_id");
      json_builder_add_string_value (builder, kp_outbox_item_get_submission_id (item));
      json_builder_set_member_name (builder, "assignment_id");
      json_builder_add_string_value (builder, kp_outbox_item_get_assignment_id (item));
      json_builder_set_member_name (builder, "state");
      json_builder_add_string_value (builder, kp_outbox_state_to_string (kp_outbox_item_get_state (item)));
      json_builder_set_member_name (builder, "status");
      json_builder_add_int_value (builder, kp_outbox_item_get_status_code (item));
      json_builder_set_member_name (builder, "error");
      json_builder_add_string_value (builder, kp_outbox_item_get_error_code (item));
      json_builder_set_member_name (builder, "reason");
      json_builder_add_string_value (builder, kp_outbox_item_get_reason (item));
      json_builder_set_member_name (builder, "attempts");
      json_builder_add_int_value (builder, kp_outbox_item_get_attempts (item));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "refused_export");
  {
    g_autofree char *exported = kp_worker_cache_export_refused (cache, NULL);

    json_builder_add_string_value (builder, exported);
  }
  json_builder_end_object (builder);
  print_json (builder);
  return 0;
}

int
main (int   argc,
      char *argv[])
{
  static const struct {
    const char *name;
    int (*func) (int, char **);
  } commands[] = {
    { "make-hits", cmd_make_hits },
    { "take-offline", cmd_take_offline },
    { "enqueue", cmd_enqueue },
    { "sync", cmd_sync },
    { "submit-each", cmd_submit_each },
    { "raw-download", cmd_raw_download },
    { "download", cmd_download },
    { "status", cmd_status },
  };

  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);

  if (argc < 2)
    die ("usage: kp-sync-tool COMMAND ARGS…");
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (strcmp (argv[1], commands[i].name) == 0)
      return commands[i].func (argc - 2, argv + 2);
  die ("unknown command %s", argv[1]);
}
