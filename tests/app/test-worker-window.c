/* test-worker-window.c: the worker's window against a real kempelen-server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The tests share one server, one account and one window, and run in
 * order: each goes on from the state the one before left (an account,
 * then HITs worked, then HITs taken offline).
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>

#include "kp-canvas.h"
#include "kp-worker-fixture.h"
#include "kp-worker-group.h"
#include "kp-worker-window-private.h"

#define GROUP_A "Describe the pictures"
#define GROUP_B "Label French street signs"
#define GROUP_C "Count the cars"
#define GROUP_D "Quick check"
#define GROUP_E "Name the colours"
#define GROUP_F "Find the buses"
#define GROUP_G "Outline the fields"
#define QUALIFICATION "Colour expert"
#define TIMEOUT_MS 20000

static KpWorkerFixture *fixture;
static KpAccountStore *store;
static KpWorkerWindow *window;
static char *image;

/* Helpers */

static void
async_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static gboolean
result_arrived (gpointer data)
{
  return *(GAsyncResult **)data != NULL;
}

static GtkWidget *
part (const char *name)
{
  GtkWidget *widget = _kp_worker_window_get_part (window, name);

  g_assert_nonnull (widget);
  return widget;
}

static gboolean
engine_ready (gpointer data)
{
  return _kp_worker_window_get_sync_engine (window) != NULL &&
         kp_sync_engine_get_loaded (_kp_worker_window_get_sync_engine (window));
}

static gboolean
groups_loaded (gpointer data)
{
  return !_kp_worker_window_get_loading_groups (window) &&
         g_list_model_get_n_items (_kp_worker_window_get_groups (window)) > 0;
}

static gboolean
groups_settled (gpointer data)
{
  return !_kp_worker_window_get_loading_groups (window);
}

static KpWorkerGroup *
find_group (const char *title,
            guint      *position)
{
  GListModel *groups = _kp_worker_window_get_groups (window);

  for (guint i = 0; i < g_list_model_get_n_items (groups); i++)
    {
      g_autoptr(KpWorkerGroup) group = g_list_model_get_item (groups, i);

      if (g_str_equal (kp_worker_group_get_title (group), title))
        {
          if (position != NULL)
            *position = i;
          return group;
        }
    }

  return NULL;
}

static void
select_group (const char *title)
{
  guint position = 0;

  g_assert_true (kp_worker_wait_for (groups_loaded, NULL, TIMEOUT_MS));
  g_assert_nonnull (find_group (title, &position));
  gtk_single_selection_set_selected (_kp_worker_window_get_group_selection (window), position);
}

static gboolean
has_current (gpointer data)
{
  return _kp_worker_window_get_current_assignment (window) != NULL;
}

static gboolean
has_next (gpointer data)
{
  return _kp_worker_window_get_next_assignment (window) != NULL;
}

/* Types an answer into the question of the HIT on screen, as a worker. */
static void
fill_answer (const char *text)
{
  KpLayoutView *view = _kp_worker_window_get_layout_view (window);
  GtkWidget *control = kp_layout_view_get_control (view, "q1");

  g_assert_nonnull (control);
  if (GTK_IS_TEXT_VIEW (control))
    gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (control)), text, -1);
  else
    {
      g_assert_true (GTK_IS_EDITABLE (control));
      gtk_editable_set_text (GTK_EDITABLE (control), text);
    }
}

static void
submit (void)
{
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.submit", NULL));
}

typedef struct
{
  const char *assignment_id;
  const char *prefix;
} OutboxWait;

static gboolean
outbox_says (gpointer data)
{
  OutboxWait *w = data;
  g_autofree char *text = _kp_worker_window_dup_outbox_text (window, w->assignment_id);

  return text != NULL && g_str_has_prefix (text, w->prefix);
}

static void
assert_outbox (const char *assignment_id,
               const char *prefix)
{
  OutboxWait w = { assignment_id, prefix };

  if (!kp_worker_wait_for (outbox_says, &w, TIMEOUT_MS))
    {
      g_autofree char *text = _kp_worker_window_dup_outbox_text (window, assignment_id);

      g_error ("The outbox says “%s” for %s, not “%s…”", text, assignment_id, prefix);
    }
}

/* The worker's assignments on the server, by a client of its own. */
static JsonObject *
server_assignments (const char *status)
{
  g_autoptr(KpWorkerClient) client = kp_worker_client_new (fixture->server->url, fixture->token);
  g_autoptr(GHashTable) params = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *answer;

  g_hash_table_insert (params, "status", (char *)status);
  g_hash_table_insert (params, "limit", "100");
  kp_worker_client_list_assignments_async (client, params, NULL, async_done_cb, &result);
  g_assert_true (kp_worker_wait_for (result_arrived, &result, TIMEOUT_MS));
  answer = kp_worker_client_call_finish (client, result, &error);
  g_assert_no_error (error);
  return answer;
}

/* How often the server holds a submission for this assignment. */
static guint
count_on_server (JsonObject *answer,
                 const char *assignment_id)
{
  JsonArray *list = json_object_get_array_member (answer, "assignments");
  guint n = 0;

  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *a = json_array_get_object_element (list, i);

      if (g_str_equal (json_object_get_string_member (a, "assignment_id"), assignment_id))
        n++;
    }
  return n;
}

static char *
cache_draft (const char *assignment_id)
{
  g_autofree char *path = kp_account_store_dup_cache_path (store, kp_worker_window_get_account (window));
  g_autoptr(KpWorkerCache) cache = kp_worker_cache_open (path, NULL);

  g_assert_nonnull (cache);
  return kp_worker_cache_dup_draft (cache, assignment_id, NULL);
}

typedef struct
{
  const char *assignment_id;
  const char *needle;
} DraftWait;

static gboolean
draft_contains (gpointer data)
{
  DraftWait *w = data;
  g_autofree char *draft = cache_draft (w->assignment_id);

  return draft != NULL && strstr (draft, w->needle) != NULL;
}

/* Tests */

static gboolean
adding_done (gpointer data)
{
  return gtk_widget_get_sensitive (part ("add-button"));
}

static void
test_accounts (void)
{
  g_autofree char *link = NULL;
  g_autofree char *escaped = NULL;
  g_autofree char *bad_token = NULL;

  /* No Secret Service in the tests: the tokens go to a file, and the
   * window says so. */
  g_assert_true (kp_account_store_get_tokens_in_file (store));
  g_assert_true (gtk_widget_get_visible (part ("tokens-warning")));
  g_assert_null (kp_worker_window_get_account (window));

  /* A token the server does not know is not saved. */
  bad_token = g_strdup_printf ("%sX", fixture->token);
  gtk_editable_set_text (GTK_EDITABLE (part ("server-row")), fixture->server->url);
  gtk_editable_set_text (GTK_EDITABLE (part ("token-row")), bad_token);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.add-account", NULL));
  g_assert_false (gtk_widget_get_sensitive (part ("add-button")));
  g_assert_true (kp_worker_wait_for (adding_done, NULL, TIMEOUT_MS));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 0);
  g_assert_true (gtk_widget_has_css_class (part ("token-row"), "error"));

  /* A join link fills the form; the worker confirms. */
  gtk_editable_set_text (GTK_EDITABLE (part ("server-row")), "");
  gtk_editable_set_text (GTK_EDITABLE (part ("token-row")), "");
  escaped = g_uri_escape_string (fixture->server->url, NULL, FALSE);
  link = g_strdup_printf ("kempelen://join?server=%s&token=%s", escaped, fixture->token);
  g_assert_false (kp_worker_window_open_join_link (window, "kempelen://leave?x=y"));
  g_assert_true (kp_worker_window_open_join_link (window, link));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (part ("server-row"))), ==, fixture->server->url);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (part ("token-row"))), ==, fixture->token);
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (ADW_VIEW_STACK (part ("stack"))), ==, "accounts");

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.add-account", NULL));
  g_assert_true (kp_worker_wait_for (adding_done, NULL, TIMEOUT_MS));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 1);
  g_assert_nonnull (kp_worker_window_get_account (window));
  g_assert_cmpstr (kp_account_get_worker_id (kp_worker_window_get_account (window)), ==, fixture->worker_id);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (part ("token-row"))), ==, "");
  g_assert_true (kp_worker_wait_for (engine_ready, NULL, TIMEOUT_MS));
}

static void
test_marketplace (void)
{
  KpWorkerGroup *a, *b;

  g_assert_true (kp_worker_wait_for (groups_loaded, NULL, TIMEOUT_MS));
  a = find_group (GROUP_A, NULL);
  b = find_group (GROUP_B, NULL);
  g_assert_nonnull (a);
  g_assert_nonnull (b);
  g_assert_cmpstr (kp_worker_group_get_standing (a), ==, "qualified");
  /* The worker is from Germany; group B wants French workers. */
  g_assert_cmpstr (kp_worker_group_get_standing (b), ==, "not-qualified");
  g_assert_cmpstr (kp_worker_group_get_reward (a), ==, "0.10");
  g_assert_cmpstr (kp_worker_group_get_requester (a), ==, "Street Lab");
  g_assert_cmpint (kp_worker_group_get_duration (a), ==, 30 * 60);
  g_assert_cmpint (kp_worker_group_get_hits_available (a), >=, 10);

  /* Not qualified: the server says why. */
  g_assert_nonnull (kp_worker_group_get_reason (b));

  /* Search and filter ask the server. */
  gtk_editable_set_text (GTK_EDITABLE (part ("search-entry")), "French");
  g_signal_emit_by_name (part ("search-entry"), "search-changed");
  g_assert_true (kp_worker_wait_for (groups_settled, NULL, TIMEOUT_MS));
  g_assert_cmpuint (g_list_model_get_n_items (_kp_worker_window_get_groups (window)), ==, 1);
  g_assert_nonnull (find_group (GROUP_B, NULL));

  gtk_editable_set_text (GTK_EDITABLE (part ("search-entry")), "");
  g_signal_emit_by_name (part ("search-entry"), "search-changed");
  gtk_drop_down_set_selected (GTK_DROP_DOWN (part ("standing-dropdown")), 1);  /* qualified */
  g_assert_true (kp_worker_wait_for (groups_settled, NULL, TIMEOUT_MS));
  g_assert_cmpuint (g_list_model_get_n_items (_kp_worker_window_get_groups (window)), ==, 4);
  g_assert_nonnull (find_group (GROUP_A, NULL));
  g_assert_nonnull (find_group (GROUP_C, NULL));
  g_assert_nonnull (find_group (GROUP_D, NULL));
  g_assert_nonnull (find_group (GROUP_F, NULL));

  gtk_drop_down_set_selected (GTK_DROP_DOWN (part ("standing-dropdown")), 0);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (part ("sort-dropdown")), 4);  /* title */
  g_assert_true (kp_worker_wait_for (groups_settled, NULL, TIMEOUT_MS));
  g_assert_cmpuint (g_list_model_get_n_items (_kp_worker_window_get_groups (window)), ==, 6);
  {
    const char *titles[] = { GROUP_C, GROUP_A, GROUP_F, GROUP_B, GROUP_E, GROUP_D };

    for (guint i = 0; i < G_N_ELEMENTS (titles); i++)
      {
        g_autoptr(KpWorkerGroup) group = g_list_model_get_item (_kp_worker_window_get_groups (window), i);

        g_assert_cmpstr (kp_worker_group_get_title (group), ==, titles[i]);
      }
  }
}

static void
test_accept_submit (void)
{
  g_autofree char *id = NULL;
  g_autoptr(JsonObject) submitted = NULL;
  DraftWait draft = { NULL, "two red cars" };

  select_group (GROUP_A);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.accept", NULL));
  g_assert_true (kp_worker_wait_for (has_current, NULL, TIMEOUT_MS));
  id = g_strdup (_kp_worker_window_get_current_assignment (window));
  g_assert_cmpstr (adw_view_stack_get_visible_child_name (ADW_VIEW_STACK (part ("stack"))), ==, "work");
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (part ("work-title"))), GROUP_A));
  /* 30 minutes to go: shown, and no warning yet. */
  g_assert_true (g_str_has_prefix (gtk_label_get_text (GTK_LABEL (part ("work-deadline"))), "Time left: 29:") ||
                 g_str_has_prefix (gtk_label_get_text (GTK_LABEL (part ("work-deadline"))), "Time left: 30:"));
  g_assert_false (gtk_widget_has_css_class (part ("work-deadline"), "warning"));

  /* An empty required answer is not submitted. */
  submit ();
  g_assert_cmpstr (_kp_worker_window_get_current_assignment (window), ==, id);

  /* The draft is saved through the engine as the worker types. */
  fill_answer ("two red cars");
  draft.assignment_id = id;
  g_assert_true (kp_worker_wait_for (draft_contains, &draft, TIMEOUT_MS));

  submit ();
  g_assert_cmpstr (_kp_worker_window_get_current_assignment (window), !=, id);
  assert_outbox (id, "Accepted");

  submitted = server_assignments ("Submitted");
  g_assert_cmpuint (count_on_server (submitted, id), ==, 1);
}

static void
test_work_group (void)
{
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;

  select_group (GROUP_A);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.work-group", NULL));
  g_assert_true (kp_worker_wait_for (has_current, NULL, TIMEOUT_MS));
  first = g_strdup (_kp_worker_window_get_current_assignment (window));

  /* While the worker works, the next HIT is accepted and prepared... */
  g_assert_true (kp_worker_wait_for (has_next, NULL, TIMEOUT_MS));
  second = g_strdup (_kp_worker_window_get_next_assignment (window));
  g_assert_cmpstr (first, !=, second);

  /* ...so it is on screen as soon as Submit is pressed. */
  fill_answer ("a bicycle");
  submit ();
  g_assert_cmpstr (_kp_worker_window_get_current_assignment (window), ==, second);
  g_assert_nonnull (kp_layout_view_get_control (_kp_worker_window_get_layout_view (window), "q1"));
  g_assert_true (kp_worker_wait_for (has_next, NULL, TIMEOUT_MS));

  fill_answer ("a tram");
  submit ();
  assert_outbox (first, "Accepted");
  assert_outbox (second, "Accepted");

  /* Stop working the group once the next HIT is ready. */
  g_assert_true (kp_worker_wait_for (has_next, NULL, TIMEOUT_MS));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.stop-group", NULL));
  g_assert_nonnull (_kp_worker_window_get_current_assignment (window));
}

static gboolean
current_is_not (gpointer data)
{
  return g_strcmp0 (_kp_worker_window_get_current_assignment (window), data) != 0;
}

static gboolean
offline_done (gpointer data)
{
  return !gtk_widget_get_visible (part ("offline-progress")) &&
         _kp_worker_window_get_current_assignment (window) != NULL &&
         _kp_worker_window_get_next_assignment (window) != NULL;
}

static gboolean
engine_waiting (gpointer data)
{
  return kp_sync_engine_get_state (_kp_worker_window_get_sync_engine (window)) == KP_SYNC_STATE_WAITING;
}

static void
test_offline (void)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(JsonObject) submitted = NULL;
  g_autofree char *returned = NULL;

  /* Finish what is on screen from working the group: return it. */
  while (_kp_worker_window_get_current_assignment (window) != NULL)
    {
      g_autofree char *id = g_strdup (_kp_worker_window_get_current_assignment (window));

      g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.return", NULL));
      g_assert_true (kp_worker_wait_for (current_is_not, id, TIMEOUT_MS));
      if (returned == NULL)
        returned = g_steal_pointer (&id);
    }
  g_assert_nonnull (returned);
  {
    g_autoptr(JsonObject) on_server = server_assignments ("Returned");

    g_assert_cmpuint (count_on_server (on_server, returned), ==, 1);
  }

  /* Take three HITs offline, with a progress bar. */
  select_group (GROUP_A);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (part ("offline-spin")), 3);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.take-offline", NULL));
  g_assert_true (gtk_widget_get_visible (part ("offline-progress")));
  g_assert_true (gtk_widget_get_visible (part ("offline-cancel")));
  g_assert_true (kp_worker_wait_for (offline_done, NULL, TIMEOUT_MS));
  g_assert_cmpuint (_kp_worker_window_get_n_waiting (window), ==, 1);

  /* The server goes away; all three are worked and submitted. */
  kp_worker_fixture_stop_server (fixture);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *text = g_strdup_printf ("offline answer %u", i);

      g_assert_true (kp_worker_wait_for (has_current, NULL, TIMEOUT_MS));
      g_ptr_array_add (ids, g_strdup (_kp_worker_window_get_current_assignment (window)));
      fill_answer (text);
      submit ();
    }
  g_assert_null (_kp_worker_window_get_current_assignment (window));
  for (guint i = 0; i < ids->len; i++)
    assert_outbox (g_ptr_array_index (ids, i), "Queued");
  g_assert_true (kp_worker_wait_for (engine_waiting, NULL, TIMEOUT_MS));
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (part ("network-row"))), ==,
                   "Cannot reach the server");

  /* Back: everything is sent, and stored once. */
  kp_worker_fixture_start_server (fixture);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.sync-now", NULL));
  for (guint i = 0; i < ids->len; i++)
    assert_outbox (g_ptr_array_index (ids, i), "Accepted");

  submitted = server_assignments ("Submitted");
  for (guint i = 0; i < ids->len; i++)
    g_assert_cmpuint (count_on_server (submitted, g_ptr_array_index (ids, i)), ==, 1);
}

static gboolean
earnings_shown (gpointer data)
{
  return gtk_list_box_get_row_at_index (GTK_LIST_BOX (part ("earnings-list")), 0) != NULL;
}

static void
test_refused_and_earnings (void)
{
  g_autofree char *id = NULL;
  g_autofree char *export_path = NULL;
  g_autofree char *exported = NULL;
  g_autoptr(KpWorkerClient) client = kp_worker_client_new (fixture->server->url, fixture->token);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(JsonObject) answer = NULL;
  g_autoptr(GError) error = NULL;
  GtkWidget *row;

  /* A HIT returned behind the window's back: the server refuses its
   * submission, which stays as a draft the worker can export. */
  select_group (GROUP_A);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.accept", NULL));
  g_assert_true (kp_worker_wait_for (has_current, NULL, TIMEOUT_MS));
  id = g_strdup (_kp_worker_window_get_current_assignment (window));
  kp_worker_client_return_assignment_async (client, id, NULL, async_done_cb, &result);
  g_assert_true (kp_worker_wait_for (result_arrived, &result, TIMEOUT_MS));
  answer = kp_worker_client_call_finish (client, result, &error);
  g_assert_no_error (error);

  fill_answer ("too late");
  submit ();
  assert_outbox (id, "Refused by the server: ");

  export_path = g_build_filename (fixture->tmp_dir, "refused.json", NULL);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.export-refused", "s", export_path));
  {
    gint64 deadline = g_get_monotonic_time () + TIMEOUT_MS * 1000;

    while (!g_file_get_contents (export_path, &exported, NULL, NULL) && g_get_monotonic_time () < deadline)
      g_main_context_iteration (NULL, FALSE);
  }
  g_assert_nonnull (exported);
  g_assert_nonnull (strstr (exported, id));
  g_assert_nonnull (strstr (exported, "too late"));

  /* Earnings: the submitted work waits for review. */
  adw_view_stack_set_visible_child_name (ADW_VIEW_STACK (part ("stack")), "earnings");
  g_assert_true (kp_worker_wait_for (earnings_shown, NULL, TIMEOUT_MS));
  row = GTK_WIDGET (gtk_list_box_get_row_at_index (GTK_LIST_BOX (part ("earnings-list")), 0));
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), ==, "Pending review");
  /* One accepted + two of the group + three offline. */
  g_assert_cmpstr (adw_action_row_get_subtitle (ADW_ACTION_ROW (row)), ==, "6 items");
}

static void
test_media (void)
{
  KpLayoutView *view = _kp_worker_window_get_layout_view (window);
  g_autofree char *path = kp_account_store_dup_cache_path (store, kp_worker_window_get_account (window));
  g_autoptr(KpWorkerCache) cache = NULL;
  g_autofree char *id = NULL;
  guint64 size = 0;

  /* The HIT's image is downloaded into the cache (checked against its
   * hash) before the HIT is shown, and shown from there. */
  adw_view_stack_set_visible_child_name (ADW_VIEW_STACK (part ("stack")), "market");
  gtk_widget_activate_action (GTK_WIDGET (window), "worker.refresh", NULL);
  g_assert_true (kp_worker_wait_for (groups_settled, NULL, TIMEOUT_MS));
  select_group (GROUP_C);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.accept", NULL));
  g_assert_true (kp_worker_wait_for (has_current, NULL, TIMEOUT_MS));
  id = g_strdup (_kp_worker_window_get_current_assignment (window));

  cache = kp_worker_cache_open (path, NULL);
  g_assert_nonnull (cache);
  g_assert_true (kp_worker_cache_lookup_media (cache, image, NULL, &size));
  g_assert_cmpuint (size, >, 0);
  for (guint i = 0; i < kp_layout_view_get_problems (view)->len; i++)
    {
      KpLayoutProblem *problem = g_ptr_array_index (kp_layout_view_get_problems (view), i);

      g_error ("The HIT's view has a problem: %s", problem->message);
    }

  /* Return it: the server gets it back. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.return", NULL));
  g_assert_true (kp_worker_wait_for (current_is_not, id, TIMEOUT_MS));
  {
    g_autoptr(JsonObject) on_server = server_assignments ("Returned");

    g_assert_cmpuint (count_on_server (on_server, id), ==, 1);
  }
}

static GtkWindow *
find_preview (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWindow) toplevel = g_list_model_get_item (toplevels, i);
      const char *title = gtk_window_get_title (toplevel);

      if (title != NULL && g_str_has_prefix (title, "Preview: ") &&
          gtk_window_get_transient_for (toplevel) == GTK_WINDOW (window))
        return toplevel;
    }

  return NULL;
}

static gboolean
preview_shown (gpointer data)
{
  return find_preview () != NULL;
}

static KpLayoutView *
find_layout_view (GtkWidget *widget)
{
  if (KP_IS_LAYOUT_VIEW (widget))
    return KP_LAYOUT_VIEW (widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child; child = gtk_widget_get_next_sibling (child))
    {
      KpLayoutView *view = find_layout_view (child);

      if (view != NULL)
        return view;
    }
  return NULL;
}

static void
test_preview (void)
{
  GtkWindow *preview;
  KpLayoutView *view;
  g_autoptr(JsonObject) accepted = NULL;
  guint before;

  accepted = server_assignments ("Accepted");
  before = json_object_get_int_member (accepted, "total");

  /* Activating a row previews its group, without accepting anything. */
  select_group (GROUP_A);
  g_signal_emit_by_name (part ("group-view"), "activate",
                         gtk_single_selection_get_selected (_kp_worker_window_get_group_selection (window)));
  g_assert_true (kp_worker_wait_for (preview_shown, NULL, TIMEOUT_MS));
  preview = find_preview ();
  g_assert_nonnull (strstr (gtk_window_get_title (preview), GROUP_A));
  view = find_layout_view (GTK_WIDGET (preview));
  g_assert_nonnull (view);
  g_assert_nonnull (kp_layout_view_get_control (view, "q1"));
  /* Read-only: no Submit. */
  g_assert_true (kp_layout_view_get_submit_button (view) == NULL ||
                 !gtk_widget_get_visible (kp_layout_view_get_submit_button (view)));
  gtk_window_destroy (preview);

  /* A preview shows its images (from the cache; downloaded when missing). */
  select_group (GROUP_C);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.preview", NULL));
  g_assert_true (kp_worker_wait_for (preview_shown, NULL, TIMEOUT_MS));
  preview = find_preview ();
  view = find_layout_view (GTK_WIDGET (preview));
  g_assert_nonnull (view);
  g_assert_cmpuint (kp_layout_view_get_problems (view)->len, ==, 0);
  gtk_window_destroy (preview);

  g_clear_pointer (&accepted, json_object_unref);
  accepted = server_assignments ("Accepted");
  g_assert_cmpuint (json_object_get_int_member (accepted, "total"), ==, before);
}

static gboolean
deadline_warned (gpointer data)
{
  return gtk_widget_has_css_class (part ("work-deadline"), "warning");
}

static void
test_deadline (void)
{
  g_autofree char *id = NULL;

  /* One minute to do it: the window warns at once. */
  g_assert_null (_kp_worker_window_get_current_assignment (window));
  adw_view_stack_set_visible_child_name (ADW_VIEW_STACK (part ("stack")), "market");
  gtk_widget_activate_action (GTK_WIDGET (window), "worker.refresh", NULL);
  g_assert_true (kp_worker_wait_for (groups_settled, NULL, TIMEOUT_MS));
  select_group (GROUP_D);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.accept", NULL));
  g_assert_true (kp_worker_wait_for (has_current, NULL, TIMEOUT_MS));
  id = g_strdup (_kp_worker_window_get_current_assignment (window));
  g_assert_true (kp_worker_wait_for (deadline_warned, NULL, TIMEOUT_MS));
  g_assert_true (g_str_has_prefix (gtk_label_get_text (GTK_LABEL (part ("work-deadline"))), "Time left: 0:") ||
                 g_str_has_prefix (gtk_label_get_text (GTK_LABEL (part ("work-deadline"))), "Time left: 1:00"));

  fill_answer ("quick");
  submit ();
  assert_outbox (id, "Accepted");
}

static void
test_restart (void)
{
  g_autofree char *id = NULL;
  DraftWait draft = { NULL, "half done" };
  GtkWidget *control;

  /* Half an answer, then the window closes (or the app crashes)... */
  select_group (GROUP_A);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.accept", NULL));
  g_assert_true (kp_worker_wait_for (has_current, NULL, TIMEOUT_MS));
  id = g_strdup (_kp_worker_window_get_current_assignment (window));
  fill_answer ("half done");
  draft.assignment_id = id;
  g_assert_true (kp_worker_wait_for (draft_contains, &draft, TIMEOUT_MS));
  gtk_window_destroy (GTK_WINDOW (window));
  g_clear_object (&window);

  /* ...and a new one picks the HIT up where the worker left it. */
  window = g_object_ref_sink (kp_worker_window_new (NULL, store));
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (kp_worker_wait_for (has_current, NULL, TIMEOUT_MS));
  g_assert_cmpstr (_kp_worker_window_get_current_assignment (window), ==, id);
  control = kp_layout_view_get_control (_kp_worker_window_get_layout_view (window), "q1");
  if (GTK_IS_TEXT_VIEW (control))
    {
      GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (control));
      GtkTextIter start, end;
      g_autofree char *text = NULL;

      gtk_text_buffer_get_bounds (buffer, &start, &end);
      text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
      g_assert_cmpstr (text, ==, "half done");
    }
  else
    g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (control)), ==, "half done");

  fill_answer ("all done");
  submit ();
  assert_outbox (id, "Accepted");
}

/* The values of every element of the HIT on screen, as text. */
static char *
dup_values_text (void)
{
  g_autoptr(GHashTable) values = kp_layout_view_dup_values (_kp_worker_window_get_layout_view (window));
  g_autoptr(GList) names = g_list_sort (g_hash_table_get_keys (values), (GCompareFunc)strcmp);
  GString *out = g_string_new (NULL);

  for (GList *l = names; l != NULL; l = l->next)
    {
      JsonNode *value = g_hash_table_lookup (values, l->data);
      g_autofree char *text = value != NULL ? json_to_string (value, FALSE) : g_strdup ("null");

      g_string_append_printf (out, "%s=%s\n", (char *)l->data, text);
    }
  return g_string_free (out, FALSE);
}

/* The crowd-form's answer text ("taskAnswers") of an answer array. */
static char *
dup_task_answers (JsonArray *answers)
{
  for (guint i = 0; answers != NULL && i < json_array_get_length (answers); i++)
    {
      JsonObject *answer = json_array_get_object_element (answers, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (answer, "QuestionIdentifier", NULL),
                     "taskAnswers") == 0)
        return g_strdup (json_object_get_string_member_with_default (answer, "FreeText", NULL));
    }
  return NULL;
}

static void
press_choice (const char *name,
              const char *value)
{
  GtkWidget *button = kp_layout_view_get_choice (_kp_worker_window_get_layout_view (window), name, value);

  g_assert_true (GTK_IS_BUTTON (button));
  g_signal_emit_by_name (button, "clicked");
}

/* A layout's canvas gets its document once it is shown. */
static gboolean
canvas_has_document (gpointer data)
{
  return kp_canvas_get_document (data) != NULL;
}

static void
test_drawn_draft (void)
{
  KpLayoutView *view;
  KpCanvas *canvas;
  KpCanvas *fields;
  g_autofree char *id = NULL;
  g_autofree char *drawn = NULL;
  g_autofree char *restored = NULL;
  g_autofree char *task = NULL;
  g_autofree char *stored = NULL;
  g_autoptr(JsonArray) answer = NULL;
  g_autoptr(JsonObject) submitted = NULL;
  DraftWait draft = { NULL, "Corn" };
  JsonArray *list;

  kp_worker_fixture_create_layout_group (
    fixture, GROUP_G, 2, (const char *[]) { image, NULL },
    "<crowd-form>"
    "<crowd-bounding-box name=\"boxes\" src=\"${media}${image}\" header=\"Box the people\""
    " labels=\"['Car', 'Person']\"></crowd-bounding-box>"
    "<crowd-polygon name=\"fields\" src=\"${media}${image}\" header=\"Outline field ${n}\""
    " labels='[\"Wheat\", \"Corn\"]'></crowd-polygon>"
    "</crowd-form>");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.refresh", NULL));
  g_assert_true (kp_worker_wait_for (groups_settled, NULL, TIMEOUT_MS));
  select_group (GROUP_G);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.accept", NULL));
  g_assert_true (kp_worker_wait_for (has_current, NULL, TIMEOUT_MS));
  id = g_strdup (_kp_worker_window_get_current_assignment (window));
  view = _kp_worker_window_get_layout_view (window);

  /* A box, drawn with the pointer... */
  canvas = KP_CANVAS (kp_layout_view_get_control (view, "boxes"));
  g_assert_true (KP_IS_CANVAS (canvas));
  press_choice ("boxes", "Person");
  kp_canvas_tool_press (canvas, 10, 12, 0);
  kp_canvas_tool_motion (canvas, 20, 22, 0);
  kp_canvas_tool_release (canvas, 30, 35, 0);
  g_assert_cmpuint (kp_document_get_annotations (kp_canvas_get_document (canvas))->len, ==, 1);

  /* ...and a polygon, closed on its first vertex. */
  fields = KP_CANVAS (kp_layout_view_get_control (view, "fields"));
  g_assert_true (KP_IS_CANVAS (fields));
  g_assert_true (kp_worker_wait_for (canvas_has_document, fields, TIMEOUT_MS));
  press_choice ("fields", "Corn");
  for (guint i = 0; i < 4; i++)
    {
      static const double vertices[][2] = { { 1, 2 }, { 40, 3 }, { 20, 30 }, { 1.5, 2.5 } };

      kp_canvas_tool_press (fields, vertices[i][0], vertices[i][1], 0);
      kp_canvas_tool_release (fields, vertices[i][0], vertices[i][1], 0);
    }
  g_assert_cmpuint (kp_document_get_annotations (kp_canvas_get_document (fields))->len, ==, 1);
  drawn = dup_values_text ();
  g_assert_nonnull (strstr (drawn, "Person"));

  /* The draft is saved on "changed"; then the window goes. */
  draft.assignment_id = id;
  g_assert_true (kp_worker_wait_for (draft_contains, &draft, TIMEOUT_MS));
  draft.needle = "Person";
  g_assert_true (kp_worker_wait_for (draft_contains, &draft, TIMEOUT_MS));
  gtk_window_destroy (GTK_WINDOW (window));
  g_clear_object (&window);

  /* A new window reopens the HIT with both shapes drawn again. */
  window = g_object_ref_sink (kp_worker_window_new (NULL, store));
  gtk_window_present (GTK_WINDOW (window));
  g_assert_true (kp_worker_wait_for (has_current, NULL, TIMEOUT_MS));
  g_assert_cmpstr (_kp_worker_window_get_current_assignment (window), ==, id);
  view = _kp_worker_window_get_layout_view (window);
  canvas = KP_CANVAS (kp_layout_view_get_control (view, "boxes"));
  fields = KP_CANVAS (kp_layout_view_get_control (view, "fields"));
  g_assert_true (kp_worker_wait_for (canvas_has_document, fields, TIMEOUT_MS));
  g_assert_cmpuint (kp_document_get_annotations (kp_canvas_get_document (canvas))->len, ==, 1);
  g_assert_cmpuint (kp_document_get_annotations (kp_canvas_get_document (fields))->len, ==, 1);
  restored = dup_values_text ();
  g_assert_cmpstr (restored, ==, drawn);

  /* What is submitted is what was drawn. */
  answer = kp_layout_view_get_answer (view, NULL);
  task = dup_task_answers (answer);
  g_assert_nonnull (task);
  g_assert_nonnull (strstr (task, "Corn"));
  g_assert_nonnull (strstr (task, "Person"));
  submit ();
  assert_outbox (id, "Accepted");
  submitted = server_assignments ("Submitted");
  list = json_object_get_array_member (submitted, "assignments");
  for (guint i = 0; i < json_array_get_length (list); i++)
    {
      JsonObject *a = json_array_get_object_element (list, i);

      if (g_str_equal (json_object_get_string_member (a, "assignment_id"), id))
        {
          JsonNode *answers = json_object_get_member (a, "answers");

          if (answers == NULL || !JSON_NODE_HOLDS_ARRAY (answers))
            {
              /* The list may leave answers out: ask for the one. */
              g_autoptr(KpWorkerClient) client = kp_worker_client_new (fixture->server->url, fixture->token);
              g_autoptr(GAsyncResult) result = NULL;
              g_autoptr(GError) error = NULL;
              g_autoptr(JsonObject) one = NULL;

              kp_worker_client_get_assignment_async (client, id, NULL, async_done_cb, &result);
              g_assert_true (kp_worker_wait_for (result_arrived, &result, TIMEOUT_MS));
              one = kp_worker_client_call_finish (client, result, &error);
              g_assert_no_error (error);
              stored = dup_task_answers (json_object_get_array_member (one, "answers"));
            }
          else
            stored = dup_task_answers (json_node_get_array (answers));
        }
    }
  g_assert_cmpstr (stored, ==, task);
}

static GtkWindow *
find_toplevel (const char *prefix)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWindow) toplevel = g_list_model_get_item (toplevels, i);
      const char *title = gtk_window_get_title (toplevel);

      if (title != NULL && g_str_has_prefix (title, prefix) &&
          gtk_window_get_transient_for (toplevel) == GTK_WINDOW (window))
        return toplevel;
    }

  return NULL;
}

static gboolean
test_shown (gpointer data)
{
  return find_toplevel ("Qualification Test: ") != NULL;
}

static gboolean
test_closed (gpointer data)
{
  return find_toplevel ("Qualification Test: ") == NULL;
}

static gboolean
group_e_qualified (gpointer data)
{
  KpWorkerGroup *group = find_group (GROUP_E, NULL);

  return !_kp_worker_window_get_loading_groups (window) && group != NULL &&
         g_str_equal (kp_worker_group_get_standing (group), "qualified");
}

static gboolean
qualification_listed (gpointer data)
{
  for (GtkWidget *row = gtk_widget_get_first_child (part ("qualification-list"));
       row != NULL;
       row = gtk_widget_get_next_sibling (row))
    {
      if (ADW_IS_ACTION_ROW (row) &&
          g_strcmp0 (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)), QUALIFICATION) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
test_qualification (void)
{
  KpWorkerGroup *group;
  GtkWindow *dialog;
  KpLayoutView *view;
  GtkWidget *blue;

  /* The worker may take the test of group E's qualification. */
  adw_view_stack_set_visible_child_name (ADW_VIEW_STACK (part ("stack")), "market");
  gtk_widget_activate_action (GTK_WIDGET (window), "worker.refresh", NULL);
  g_assert_true (kp_worker_wait_for (groups_settled, NULL, TIMEOUT_MS));
  group = find_group (GROUP_E, NULL);
  g_assert_nonnull (group);
  g_assert_cmpstr (kp_worker_group_get_standing (group), ==, "can-request");
  select_group (GROUP_E);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.request-qualification", NULL));
  g_assert_true (kp_worker_wait_for (test_shown, NULL, TIMEOUT_MS));
  dialog = find_toplevel ("Qualification Test: ");
  g_assert_nonnull (strstr (gtk_window_get_title (dialog), QUALIFICATION));
  view = find_layout_view (GTK_WIDGET (dialog));
  g_assert_nonnull (view);
  blue = kp_layout_view_get_choice (view, "sky", "blue");
  g_assert_true (GTK_IS_CHECK_BUTTON (blue));
  gtk_check_button_set_active (GTK_CHECK_BUTTON (blue), TRUE);
  g_assert_true (kp_layout_view_submit (view));
  g_assert_true (kp_worker_wait_for (test_closed, NULL, TIMEOUT_MS));

  /* Graded at once: the group opens, and the score is listed. */
  g_assert_true (kp_worker_wait_for (group_e_qualified, NULL, TIMEOUT_MS));
  adw_view_stack_set_visible_child_name (ADW_VIEW_STACK (part ("stack")), "earnings");
  g_assert_true (kp_worker_wait_for (qualification_listed, NULL, TIMEOUT_MS));
}

static gboolean
engine_paused (gpointer data)
{
  return kp_sync_engine_get_state (_kp_worker_window_get_sync_engine (window)) == KP_SYNC_STATE_PAUSED;
}

static gboolean
engine_idle (gpointer data)
{
  return kp_sync_engine_get_state (_kp_worker_window_get_sync_engine (window)) == KP_SYNC_STATE_IDLE;
}

static void
test_work_offline (void)
{
  KpSyncEngine *engine = _kp_worker_window_get_sync_engine (window);

  /* The switch is the engine's work-offline setting. */
  gtk_switch_set_active (GTK_SWITCH (part ("offline-switch")), TRUE);
  g_assert_true (kp_sync_engine_get_work_offline (engine));
  g_assert_true (kp_worker_wait_for (engine_paused, NULL, TIMEOUT_MS));
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (part ("network-row"))), ==,
                   "Working offline");

  kp_sync_engine_set_work_offline (engine, FALSE);
  g_assert_false (gtk_switch_get_active (GTK_SWITCH (part ("offline-switch"))));
  g_assert_true (kp_worker_wait_for (engine_idle, NULL, TIMEOUT_MS));
  g_assert_cmpstr (adw_preferences_row_get_title (ADW_PREFERENCES_ROW (part ("network-row"))), ==, "Online");
}

static gboolean
store_empty (gpointer data)
{
  return g_list_model_get_n_items (G_LIST_MODEL (store)) == 0;
}

static gboolean
offline_stopped (gpointer data)
{
  return !gtk_widget_get_visible (part ("offline-progress"));
}

static void
test_cancel_offline (void)
{
  guint taken;

  /* Ten HITs with 1 MB images each, stopped at once: the window stops
   * waiting, and what was taken before the stop can be worked. */
  g_assert_null (_kp_worker_window_get_current_assignment (window));
  adw_view_stack_set_visible_child_name (ADW_VIEW_STACK (part ("stack")), "market");
  gtk_widget_activate_action (GTK_WIDGET (window), "worker.refresh", NULL);
  g_assert_true (kp_worker_wait_for (groups_settled, NULL, TIMEOUT_MS));
  select_group (GROUP_F);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (part ("offline-spin")), 10);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.take-offline", NULL));
  g_assert_true (gtk_widget_get_visible (part ("offline-cancel")));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.cancel-offline", NULL));
  g_assert_true (kp_worker_wait_for (offline_stopped, NULL, TIMEOUT_MS));
  g_assert_false (gtk_widget_get_visible (part ("offline-cancel")));

  /* Let the window read what was taken. */
  {
    gint64 until = g_get_monotonic_time () + 500 * 1000;

    while (g_get_monotonic_time () < until)
      g_main_context_iteration (NULL, FALSE);
  }
  taken = _kp_worker_window_get_n_waiting (window) +
          (_kp_worker_window_get_current_assignment (window) != NULL) +
          (_kp_worker_window_get_next_assignment (window) != NULL);
  g_test_message ("%u HITs were taken before the stop", taken);
  g_assert_cmpuint (taken, <, 10);

  /* Give them back. */
  while (_kp_worker_window_get_current_assignment (window) != NULL)
    {
      g_autofree char *id = g_strdup (_kp_worker_window_get_current_assignment (window));

      g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.return", NULL));
      g_assert_true (kp_worker_wait_for (current_is_not, id, TIMEOUT_MS));
    }
}

static char *second_worker;

static gboolean
group_b_qualified (gpointer data)
{
  KpWorkerGroup *group = find_group (GROUP_B, NULL);

  return !_kp_worker_window_get_loading_groups (window) && group != NULL &&
         g_str_equal (kp_worker_group_get_standing (group), "qualified");
}

static gboolean
store_has_one (gpointer data)
{
  return g_list_model_get_n_items (G_LIST_MODEL (store)) == 1;
}

static void
test_switch_account (void)
{
  g_autofree char *token = NULL;
  g_autofree char *first_id = g_strdup (kp_account_get_id (kp_worker_window_get_account (window)));

  /* A second account, of a worker from France: the new one is active,
   * with its own marketplace. */
  second_worker = kp_worker_fixture_create_worker (fixture, "Brigitte", &token);
  gtk_editable_set_text (GTK_EDITABLE (part ("server-row")), fixture->server->url);
  gtk_editable_set_text (GTK_EDITABLE (part ("token-row")), token);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.add-account", NULL));
  g_assert_true (kp_worker_wait_for (adding_done, NULL, TIMEOUT_MS));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 2);
  g_assert_cmpstr (kp_account_get_worker_id (kp_worker_window_get_account (window)), ==, second_worker);
  g_assert_true (kp_worker_wait_for (engine_ready, NULL, TIMEOUT_MS));
  g_assert_true (kp_worker_wait_for (group_b_qualified, NULL, TIMEOUT_MS));

  /* Back to the first. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.switch-account", "s", first_id));
  g_assert_cmpstr (kp_account_get_worker_id (kp_worker_window_get_account (window)), ==, fixture->worker_id);
  g_assert_true (kp_worker_wait_for (engine_ready, NULL, TIMEOUT_MS));
  g_assert_true (kp_worker_wait_for (groups_loaded, NULL, TIMEOUT_MS));
  g_assert_cmpstr (kp_worker_group_get_standing (find_group (GROUP_B, NULL)), ==, "not-qualified");
}

static void
test_remove_account (void)
{
  KpAccount *account = kp_worker_window_get_account (window);

  g_assert_nonnull (account);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.remove-account", "s",
                                             kp_account_get_id (account)));
  g_assert_true (kp_worker_wait_for (store_has_one, NULL, TIMEOUT_MS));
  /* The other account takes over. */
  g_assert_nonnull (kp_worker_window_get_account (window));
  g_assert_cmpstr (kp_account_get_worker_id (kp_worker_window_get_account (window)), ==, second_worker);

  account = kp_worker_window_get_account (window);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "worker.remove-account", "s",
                                             kp_account_get_id (account)));
  g_assert_null (kp_worker_window_get_account (window));
  g_assert_null (_kp_worker_window_get_sync_engine (window));
  g_assert_cmpuint (g_list_model_get_n_items (_kp_worker_window_get_groups (window)), ==, 0);
  g_assert_true (kp_worker_wait_for (store_empty, NULL, TIMEOUT_MS));
  g_clear_pointer (&second_worker, g_free);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (GTK_STACK (gtk_widget_get_parent (gtk_widget_get_parent (part ("group-view"))))),
                   ==, "no-account");
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autofree char *config = NULL;
  int status;

  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  fixture = kp_worker_fixture_new ();
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  kp_worker_fixture_create_group (fixture, GROUP_A, 14, "30m", NULL, NULL);
  kp_worker_fixture_create_group (fixture, GROUP_B, 2, "30m", "00000000000000000071:In:FR", NULL);
  kp_worker_fixture_create_group (fixture, GROUP_D, 1, "1m", NULL, NULL);
  {
    g_autofree char *type = kp_worker_fixture_create_qualification (fixture, QUALIFICATION);
    g_autofree char *requirement = g_strdup_printf ("%s:GreaterThanOrEqualTo:50", type);

    kp_worker_fixture_create_group (fixture, GROUP_E, 1, "30m", requirement, NULL);
  }
  {
    g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func (g_free);

    for (guint i = 0; i < 10; i++)
      g_ptr_array_add (images, kp_worker_fixture_add_image (fixture, 640, 480, 100 + i));
    g_ptr_array_add (images, NULL);
    kp_worker_fixture_create_group (fixture, GROUP_F, 10, "30m", NULL, (const char * const *)images->pdata);
  }
  image = kp_worker_fixture_add_image (fixture, 64, 48, 1);
  kp_worker_fixture_create_group (fixture, GROUP_C, 2, "30m", NULL, (const char *[]) { image, NULL });

  config = g_build_filename (fixture->tmp_dir, "config", NULL);
  store = kp_account_store_new (config, KP_TOKEN_STORAGE_FILE);
  kp_account_store_load_async (store, NULL, async_done_cb, &result);
  g_assert_true (kp_worker_wait_for (result_arrived, &result, TIMEOUT_MS));
  g_assert_true (kp_account_store_load_finish (store, result, NULL));

  window = g_object_ref_sink (kp_worker_window_new (NULL, store));
  gtk_window_present (GTK_WINDOW (window));

  g_test_add_func ("/kempelen/app/worker-window/accounts", test_accounts);
  g_test_add_func ("/kempelen/app/worker-window/marketplace", test_marketplace);
  g_test_add_func ("/kempelen/app/worker-window/accept-submit", test_accept_submit);
  g_test_add_func ("/kempelen/app/worker-window/work-group", test_work_group);
  g_test_add_func ("/kempelen/app/worker-window/offline", test_offline);
  g_test_add_func ("/kempelen/app/worker-window/refused-earnings", test_refused_and_earnings);
  g_test_add_func ("/kempelen/app/worker-window/media", test_media);
  g_test_add_func ("/kempelen/app/worker-window/preview", test_preview);
  g_test_add_func ("/kempelen/app/worker-window/deadline", test_deadline);
  g_test_add_func ("/kempelen/app/worker-window/restart", test_restart);
  g_test_add_func ("/kempelen/app/worker-window/drawn-draft", test_drawn_draft);
  g_test_add_func ("/kempelen/app/worker-window/qualification-test", test_qualification);
  g_test_add_func ("/kempelen/app/worker-window/work-offline", test_work_offline);
  g_test_add_func ("/kempelen/app/worker-window/cancel-offline", test_cancel_offline);
  g_test_add_func ("/kempelen/app/worker-window/switch-account", test_switch_account);
  g_test_add_func ("/kempelen/app/worker-window/remove-account", test_remove_account);

  status = g_test_run ();

  gtk_window_destroy (GTK_WINDOW (window));
  g_clear_object (&window);
  g_clear_object (&store);
  kp_worker_fixture_free (fixture);
  g_free (image);

  return status;
}
