/* test-sync-engine.c: KpWorkerClient and KpSyncEngine against the real server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "kp-core.h"
#include "kp-sync-engine.h"
#include "kp-test-server.h"
#include "kp-worker-client.h"

/* --- a network monitor the test controls --- */

#define TEST_TYPE_MONITOR (test_monitor_get_type ())
G_DECLARE_FINAL_TYPE (TestMonitor, test_monitor, TEST, MONITOR, GObject)

struct _TestMonitor
{
  GObject  parent_instance;
  gboolean available;
};

static void test_monitor_iface_init (GNetworkMonitorInterface *iface);
static void test_monitor_initable_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestMonitor, test_monitor, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, test_monitor_initable_init)
                               G_IMPLEMENT_INTERFACE (G_TYPE_NETWORK_MONITOR, test_monitor_iface_init))

enum { MON_PROP_0, MON_PROP_AVAILABLE, MON_PROP_METERED, MON_PROP_CONNECTIVITY };

static void
test_monitor_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  TestMonitor *self = TEST_MONITOR (object);

  switch (prop_id)
    {
    case MON_PROP_AVAILABLE:
      g_value_set_boolean (value, self->available);
      break;
    case MON_PROP_METERED:
      g_value_set_boolean (value, FALSE);
      break;
    case MON_PROP_CONNECTIVITY:
      g_value_set_enum (value, self->available ? G_NETWORK_CONNECTIVITY_FULL
                                               : G_NETWORK_CONNECTIVITY_LOCAL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
test_monitor_class_init (TestMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = test_monitor_get_property;
  g_object_class_override_property (object_class, MON_PROP_AVAILABLE, "network-available");
  g_object_class_override_property (object_class, MON_PROP_METERED, "network-metered");
  g_object_class_override_property (object_class, MON_PROP_CONNECTIVITY, "connectivity");
}

static void
test_monitor_init (TestMonitor *self)
{
}

static gboolean
test_monitor_can_reach (GNetworkMonitor     *monitor,
                        GSocketConnectable  *connectable,
                        GCancellable        *cancellable,
                        GError             **error)
{
  return TEST_MONITOR (monitor)->available;
}

static void
test_monitor_iface_init (GNetworkMonitorInterface *iface)
{
  iface->can_reach = test_monitor_can_reach;
}

static gboolean
test_monitor_initable_init_func (GInitable     *initable,
                                 GCancellable  *cancellable,
                                 GError       **error)
{
  return TRUE;
}

static void
test_monitor_initable_init (GInitableIface *iface)
{
  iface->init = test_monitor_initable_init_func;
}

static void
test_monitor_set_available (TestMonitor *self,
                            gboolean     available)
{
  self->available = available;
  g_object_notify (G_OBJECT (self), "network-available");
}

/* --- helpers --- */

typedef struct
{
  KpTestServer *server;
  char         *data_dir;
  char         *worker_id;
  char         *token;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *ctl = g_build_filename (g_getenv ("KP_BUILD_ROOT"), "src", "cli", "kempelenctl", NULL);
  g_autofree char *dir_arg = NULL;
  g_autofree char *out = NULL;
  g_autoptr(GSubprocess) sub = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  const char *args[4] = { "--listen", "127.0.0.1:0", NULL, NULL };
  JsonObject *object;
  static guint n;

  f->data_dir = g_strdup_printf ("%s/engine-server-%u", g_get_user_data_dir (), n++);
  dir_arg = g_strconcat ("--data-dir=", f->data_dir, NULL);
  args[2] = dir_arg;
  f->server = kp_test_server_start (args);

  sub = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, ctl, "admin", "--data-dir",
                          f->data_dir, "worker", "create", "--json", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (sub, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  object = json_node_get_object (json_parser_get_root (parser));
  f->worker_id = g_strdup (json_object_get_string_member (object, "WorkerId"));
  f->token = g_strdup (json_object_get_string_member (object, "Token"));
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  kp_test_server_stop (f->server);
  g_free (f->data_dir);
  g_free (f->worker_id);
  g_free (f->token);
}

typedef struct
{
  gboolean      done;
  GAsyncResult *result;
} Wait;

static void
wait_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Wait *w = user_data;

  w->result = g_object_ref (result);
  w->done = TRUE;
}

static GAsyncResult *
wait_result (Wait *w)
{
  while (!w->done)
    g_main_context_iteration (NULL, TRUE);
  w->done = FALSE;
  return g_steal_pointer (&w->result);
}

static JsonObject *
call (KpWorkerClient  *client,
      Wait            *w,
      GError         **error)
{
  g_autoptr(GAsyncResult) result = wait_result (w);

  return kp_worker_client_call_finish (client, result, error);
}

static gboolean
timeout_cb (gpointer data)
{
  *(gboolean *)data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main context until cond () or about 20 seconds. */
#define WAIT_FOR(cond) \
  G_STMT_START { \
    gboolean timed_out_ = FALSE; \
    guint id_ = g_timeout_add (20000, timeout_cb, &timed_out_); \
    while (!(cond) && !timed_out_) \
      g_main_context_iteration (NULL, TRUE); \
    g_assert_false (timed_out_); \
    g_source_remove (id_); \
  } G_STMT_END

static void
spin (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, timeout_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

/* --- the client --- */

static void
test_client_calls (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(KpWorkerClient) client = kp_worker_client_new (f->server->url, f->token);
  g_autoptr(KpWorkerClient) stranger = kp_worker_client_new (f->server->url, "no-such-token-at-all");
  g_autoptr(GHashTable) params = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *expected_api = g_strconcat (f->server->url, "worker/v1/", NULL);
  Wait w = { 0 };

  g_assert_cmpstr (kp_worker_client_get_api_url (client), ==, expected_api);

  kp_worker_client_get_me_async (client, NULL, wait_cb, &w);
  object = call (client, &w, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (object, "worker_id"), ==, f->worker_id);
  g_clear_pointer (&object, json_object_unref);

  g_hash_table_insert (params, "sort", "reward");
  g_hash_table_insert (params, "q", "cars & boats");
  kp_worker_client_list_groups_async (client, params, NULL, wait_cb, &w);
  object = call (client, &w, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int_member (object, "total"), ==, 0);
  g_clear_pointer (&object, json_object_unref);

  /* An unknown parameter is refused (400), and is final. */
  g_hash_table_insert (params, "colour", "red");
  kp_worker_client_list_groups_async (client, params, NULL, wait_cb, &w);
  g_assert_null (call (client, &w, &error));
  g_assert_error (error, KP_WORKER_ERROR, KP_WORKER_ERROR_INVALID_REQUEST);
  g_assert_false (kp_worker_error_is_retryable (error));
  g_clear_error (&error);

  kp_worker_client_get_group_async (client, "3NOSUCHGROUP", NULL, wait_cb, &w);
  g_assert_null (call (client, &w, &error));
  g_assert_error (error, KP_WORKER_ERROR, KP_WORKER_ERROR_NOT_FOUND);
  g_clear_error (&error);

  kp_worker_client_return_assignment_async (client, "3NOSUCHASSIGNMENT", NULL, wait_cb, &w);
  g_assert_null (call (client, &w, &error));
  g_assert_error (error, KP_WORKER_ERROR, KP_WORKER_ERROR_NOT_FOUND);
  g_clear_error (&error);

  kp_worker_client_get_earnings_async (client, NULL, NULL, wait_cb, &w);
  object = call (client, &w, &error);
  g_assert_no_error (error);
  g_assert_true (json_object_has_member (object, "pending"));
  g_clear_pointer (&object, json_object_unref);

  kp_worker_client_list_qualifications_async (client, NULL, wait_cb, &w);
  object = call (client, &w, &error);
  g_assert_no_error (error);
  g_assert_true (json_object_has_member (object, "qualifications"));
  g_clear_pointer (&object, json_object_unref);

  kp_worker_client_list_messages_async (client, NULL, NULL, wait_cb, &w);
  object = call (client, &w, &error);
  g_assert_no_error (error);
  g_clear_pointer (&object, json_object_unref);

  /* A wrong token: 401, final, and the message never repeats a token. */
  kp_worker_client_get_me_async (stranger, NULL, wait_cb, &w);
  g_assert_null (call (stranger, &w, &error));
  g_assert_error (error, KP_WORKER_ERROR, KP_WORKER_ERROR_UNAUTHORIZED);
  g_assert_false (kp_worker_error_is_retryable (error));
  g_assert_null (strstr (error->message, "no-such-token-at-all"));
  g_clear_error (&error);

  /* A cancelled call stays cancelled. */
  {
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();

    g_cancellable_cancel (cancellable);
    kp_worker_client_get_me_async (client, cancellable, wait_cb, &w);
    g_assert_null (call (client, &w, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&error);
  }
}

static void
test_error_mapping (void)
{
  static const struct { guint status; const char *code; KpWorkerError error; gboolean retry; } cases[] = {
    { 400, "invalid-request", KP_WORKER_ERROR_INVALID_REQUEST, FALSE },
    { 401, "unauthorized", KP_WORKER_ERROR_UNAUTHORIZED, FALSE },
    { 403, "forbidden", KP_WORKER_ERROR_FORBIDDEN, FALSE },
    { 404, "not-found", KP_WORKER_ERROR_NOT_FOUND, FALSE },
    { 405, "method-not-allowed", KP_WORKER_ERROR_METHOD_NOT_ALLOWED, FALSE },
    { 409, "conflict", KP_WORKER_ERROR_CONFLICT, FALSE },
    { 410, "gone", KP_WORKER_ERROR_GONE, FALSE },
    { 413, "too-large", KP_WORKER_ERROR_TOO_LARGE, FALSE },
    { 416, "range-not-satisfiable", KP_WORKER_ERROR_RANGE_NOT_SATISFIABLE, FALSE },
    { 429, NULL, KP_WORKER_ERROR_RATE_LIMITED, TRUE },
    { 500, "internal", KP_WORKER_ERROR_INTERNAL, TRUE },
    { 503, "busy", KP_WORKER_ERROR_BUSY, TRUE },
    { 502, NULL, KP_WORKER_ERROR_INTERNAL, TRUE },
    { 418, NULL, KP_WORKER_ERROR_FAILED, FALSE },
    /* The body's code wins over the status. */
    { 400, "gone", KP_WORKER_ERROR_GONE, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      KpWorkerError code = kp_worker_error_from_status (cases[i].status, cases[i].code);
      g_autoptr(GError) error = g_error_new_literal (KP_WORKER_ERROR, code, "x");

      g_assert_cmpint (code, ==, cases[i].error);
      g_assert_cmpint (kp_worker_error_is_retryable (error), ==, cases[i].retry);
    }

  {
    g_autoptr(GError) network = g_error_new_literal (KP_WORKER_ERROR, KP_WORKER_ERROR_NETWORK, "x");
    g_autoptr(GError) other = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "x");

    g_assert_true (kp_worker_error_is_retryable (network));
    g_assert_false (kp_worker_error_is_retryable (other));
  }
}

static void
test_client_unreachable (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(KpWorkerClient) client = NULL;
  g_autoptr(KpWorkerClient) bad = kp_worker_client_new ("ftp://example.org/", "token-token");
  g_autoptr(GError) error = NULL;
  g_autofree char *url = NULL;
  Wait w = { 0 };

  /* Bound but not listening: connecting is refused. */
  g_socket_bind (socket, address, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  url = g_strdup_printf ("http://127.0.0.1:%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  client = kp_worker_client_new (url, "secret-token-value");

  kp_worker_client_get_me_async (client, NULL, wait_cb, &w);
  g_assert_null (call (client, &w, &error));
  g_assert_error (error, KP_WORKER_ERROR, KP_WORKER_ERROR_NETWORK);
  g_assert_true (kp_worker_error_is_retryable (error));
  g_assert_null (strstr (error->message, "secret-token-value"));
  g_clear_error (&error);

  kp_worker_client_get_me_async (bad, NULL, wait_cb, &w);
  g_assert_null (call (bad, &w, &error));
  g_assert_error (error, KP_WORKER_ERROR, KP_WORKER_ERROR_INVALID_URL);
}

/* --- the engine --- */

static char *
engine_cache_path (void)
{
  static guint n;

  return g_strdup_printf ("%s/engine-%u.sqlite", g_get_user_cache_dir (), n++);
}

static char *
submit (KpSyncEngine *engine,
        const char   *assignment_id)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  Wait w = { 0 };
  char *id;

  kp_sync_engine_submit_async (engine, assignment_id,
                               "[{\"QuestionIdentifier\":\"q1\",\"FreeText\":\"x\"}]",
                               NULL, wait_cb, &w);
  result = wait_result (&w);
  id = kp_sync_engine_submit_finish (engine, result, &error);
  g_assert_no_error (error);
  return id;
}

static void
count_cb (gpointer data)
{
  (*(guint *)data)++;
}

static void
test_engine_pause_and_refuse (Fixture       *f,
                              gconstpointer  data)
{
  g_autofree char *path = engine_cache_path ();
  g_autoptr(KpSyncEngine) engine = kp_sync_engine_new (path, f->server->url, f->token);
  g_autoptr(KpOutboxItem) item = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  GListModel *outbox = kp_sync_engine_get_outbox (engine);
  guint changed = 0;
  guint state_notes = 0;
  Wait w = { 0 };

  g_signal_connect_swapped (engine, "item-changed", G_CALLBACK (count_cb), &changed);
  g_signal_connect_swapped (engine, "notify::state", G_CALLBACK (count_cb), &state_notes);

  /* Before the thread runs, the async API says so. */
  kp_sync_engine_submit_async (engine, "3ASG", "[]", NULL, wait_cb, &w);
  result = wait_result (&w);
  g_assert_null (kp_sync_engine_submit_finish (engine, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED);
  g_clear_error (&error);
  g_clear_object (&result);

  kp_sync_engine_set_work_offline (engine, TRUE);
  kp_sync_engine_start (engine);
  WAIT_FOR (kp_sync_engine_get_loaded (engine));
  WAIT_FOR (kp_sync_engine_get_state (engine) == KP_SYNC_STATE_PAUSED);

  /* Saved drafts, then a submission: it waits while working offline. */
  kp_sync_engine_save_draft_async (engine, "3NOSUCHASSIGNMENT1", "[{\"draft\":1}]", NULL, wait_cb, &w);
  result = wait_result (&w);
  g_assert_true (kp_sync_engine_save_draft_finish (engine, result, &error));
  g_assert_no_error (error);
  g_clear_object (&result);

  kp_sync_engine_load_draft_async (engine, "3NOSUCHASSIGNMENT1", NULL, wait_cb, &w);
  result = wait_result (&w);
  {
    g_autofree char *draft = kp_sync_engine_load_draft_finish (engine, result, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (draft, ==, "[{\"draft\":1}]");
  }
  g_clear_object (&result);

  kp_sync_engine_list_assignments_async (engine, NULL, wait_cb, &w);
  result = wait_result (&w);
  {
    g_autoptr(GPtrArray) list = kp_sync_engine_list_assignments_finish (engine, result, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (list->len, ==, 0);
  }
  g_clear_object (&result);

  /* Returning needs the server, which knows no such assignment. */
  kp_sync_engine_return_async (engine, "3NOSUCHASSIGNMENT2", NULL, wait_cb, &w);
  result = wait_result (&w);
  g_assert_false (kp_sync_engine_return_finish (engine, result, &error));
  g_assert_error (error, KP_WORKER_ERROR, KP_WORKER_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_clear_object (&result);

  id = submit (engine, "3NOSUCHASSIGNMENT1");
  WAIT_FOR (g_list_model_get_n_items (outbox) == 1);
  item = g_list_model_get_item (outbox, 0);
  g_assert_cmpstr (kp_outbox_item_get_submission_id (item), ==, id);
  g_assert_cmpint (kp_outbox_item_get_state (item), ==, KP_OUTBOX_STATE_QUEUED);
  WAIT_FOR (kp_sync_engine_get_n_queued (engine) == 1);
  spin (300);
  g_assert_cmpint (kp_outbox_item_get_state (item), ==, KP_OUTBOX_STATE_QUEUED);
  g_assert_cmpuint (kp_outbox_item_get_attempts (item), ==, 0);

  /* A second submission of the same assignment is refused locally. */
  kp_sync_engine_submit_async (engine, "3NOSUCHASSIGNMENT1", "[]", NULL, wait_cb, &w);
  result = wait_result (&w);
  g_assert_null (kp_sync_engine_submit_finish (engine, result, &error));
  g_assert_error (error, KP_WORKER_CACHE_ERROR, KP_WORKER_CACHE_ERROR_EXISTS);
  g_clear_error (&error);
  g_clear_object (&result);

  /* Back online: the server refuses it (no such assignment), for good,
   * and the very object in the model says so. */
  kp_sync_engine_set_work_offline (engine, FALSE);
  WAIT_FOR (kp_outbox_item_get_state (item) == KP_OUTBOX_STATE_REFUSED);
  g_assert_cmpuint (kp_outbox_item_get_status_code (item), ==, 404);
  g_assert_cmpstr (kp_outbox_item_get_error_code (item), ==, "not-found");
  g_assert_nonnull (kp_outbox_item_get_reason (item));
  g_assert_cmpuint (kp_outbox_item_get_attempts (item), ==, 1);
  WAIT_FOR (kp_sync_engine_get_n_refused (engine) == 1 && kp_sync_engine_get_n_queued (engine) == 0);
  WAIT_FOR (kp_sync_engine_get_state (engine) == KP_SYNC_STATE_IDLE);
  g_assert_cmpuint (changed, >=, 2);
  g_assert_cmpuint (state_notes, >=, 2);
  g_assert_cmpuint (g_list_model_get_n_items (outbox), ==, 1);

  g_assert_finalize_object (g_steal_pointer (&engine));

  /* A new engine on the same cache finds the refused item as it was. */
  engine = kp_sync_engine_new (path, f->server->url, f->token);
  kp_sync_engine_start (engine);
  WAIT_FOR (kp_sync_engine_get_loaded (engine));
  g_assert_cmpuint (g_list_model_get_n_items (kp_sync_engine_get_outbox (engine)), ==, 1);
  g_assert_cmpuint (kp_sync_engine_get_n_refused (engine), ==, 1);
}

static void
test_engine_network_monitor (void)
{
  g_autofree char *path = engine_cache_path ();
  g_autoptr(TestMonitor) monitor = g_object_new (TEST_TYPE_MONITOR, NULL);
  g_autoptr(KpSyncEngine) engine = NULL;
  g_autoptr(KpOutboxItem) item = NULL;
  g_autofree char *id = NULL;

  /* A server that is not on the loopback (TEST-NET-2: nothing answers),
   * so the network monitor decides. */
  engine = kp_sync_engine_new (path, "http://198.51.100.1:9/", "token-token");
  kp_sync_engine_set_retry_delays (engine, 60000, 60000);
  monitor->available = FALSE;
  kp_sync_engine_set_network_monitor (engine, G_NETWORK_MONITOR (monitor));
  g_assert_false (kp_sync_engine_get_network_available (engine));
  kp_sync_engine_start (engine);
  WAIT_FOR (kp_sync_engine_get_state (engine) == KP_SYNC_STATE_OFFLINE);

  id = submit (engine, "3ASSIGNMENT");
  WAIT_FOR (g_list_model_get_n_items (kp_sync_engine_get_outbox (engine)) == 1);
  item = g_list_model_get_item (kp_sync_engine_get_outbox (engine), 0);
  spin (300);
  g_assert_cmpuint (kp_outbox_item_get_attempts (item), ==, 0);
  g_assert_cmpint (kp_sync_engine_get_state (engine), ==, KP_SYNC_STATE_OFFLINE);

  /* The network comes back: the item is sent (nothing answers at that
   * address: the attempt hangs or fails, and the next one is a minute
   * away). */
  test_monitor_set_available (monitor, TRUE);
  g_assert_true (kp_sync_engine_get_network_available (engine));
  WAIT_FOR (kp_outbox_item_get_attempts (item) == 1);
  WAIT_FOR (kp_sync_engine_get_state (engine) == KP_SYNC_STATE_SYNCING ||
            kp_sync_engine_get_state (engine) == KP_SYNC_STATE_WAITING);

  /* Gone again: paused; disposing the engine ends the request at once. */
  test_monitor_set_available (monitor, FALSE);
  WAIT_FOR (kp_sync_engine_get_state (engine) == KP_SYNC_STATE_OFFLINE);
  g_clear_object (&item);
  g_assert_finalize_object (g_steal_pointer (&engine));

  /* What was in flight is queued again in the cache. */
  {
    g_autoptr(KpWorkerCache) cache = kp_worker_cache_open (path, NULL);
    g_autoptr(KpOutboxItem) stored = kp_worker_cache_get_outbox_item (cache, id, NULL);

    g_assert_cmpint (kp_outbox_item_get_state (stored), ==, KP_OUTBOX_STATE_QUEUED);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add ("/kempelen/net/worker-client/calls", Fixture, NULL,
              fixture_set_up, test_client_calls, fixture_tear_down);
  g_test_add_func ("/kempelen/net/worker-client/errors", test_error_mapping);
  g_test_add_func ("/kempelen/net/worker-client/unreachable", test_client_unreachable);
  g_test_add ("/kempelen/net/sync-engine/pause-and-refuse", Fixture, NULL,
              fixture_set_up, test_engine_pause_and_refuse, fixture_tear_down);
  g_test_add_func ("/kempelen/net/sync-engine/network-monitor", test_engine_network_monitor);

  return g_test_run ();
}
