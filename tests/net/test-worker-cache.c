/* test-worker-cache.c: KpWorkerCache, the worker's local SQLite cache
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "kp-core.h"

static char *
cache_path (const char *name)
{
  return g_build_filename (g_get_user_cache_dir (), "test", name, NULL);
}

static JsonObject *
make_assignment (const char *assignment_id,
                 const char *hit_id,
                 gint64      deadline,
                 const char *question)
{
  g_autofree char *json = g_strdup_printf (
    "{\"assignment_id\": \"%s\", \"hit_id\": \"%s\", \"hit_type_id\": \"3TYPE\","
    " \"requester_id\": \"A2REQ\", \"title\": \"Label it\", \"reward\": \"0.10\","
    " \"status\": \"Accepted\", \"accept_time\": 1700000000, \"deadline\": %" G_GINT64_FORMAT ","
    " \"hit\": {\"hit_id\": \"%s\", \"description\": \"Boxes\", \"question_kind\": \"HTMLQuestion\","
    " \"question\": \"%s\"}}",
    assignment_id, hit_id, deadline, hit_id, question);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, json, -1, &error);
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static void
test_open_and_reopen (void)
{
  g_autofree char *path = cache_path ("reopen.sqlite");
  g_autoptr(KpWorkerCache) cache = NULL;
  g_autoptr(JsonObject) a = make_assignment ("3ASG1", "3HIT1", 1700000600, "q");
  g_autoptr(KpCachedAssignment) got = NULL;
  g_autoptr(GError) error = NULL;

  cache = kp_worker_cache_open (path, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_test (kp_worker_cache_get_media_dir (cache), G_FILE_TEST_IS_DIR));
  g_assert_true (kp_worker_cache_put_assignment (cache, a, &error));
  g_assert_no_error (error);
  g_assert_finalize_object (g_steal_pointer (&cache));

  cache = kp_worker_cache_open (path, &error);
  g_assert_no_error (error);
  got = kp_worker_cache_get_assignment (cache, "3ASG1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (got->hit_id, ==, "3HIT1");
  g_assert_cmpstr (got->hit_type_id, ==, "3TYPE");
  g_assert_cmpstr (got->title, ==, "Label it");
  g_assert_cmpstr (got->description, ==, "Boxes");
  g_assert_cmpstr (got->question_kind, ==, "HTMLQuestion");
  g_assert_cmpstr (got->status, ==, "Accepted");
  g_assert_cmpint (got->deadline, ==, 1700000600);

  g_assert_null (kp_worker_cache_get_assignment (cache, "3NOPE", &error));
  g_assert_error (error, KP_WORKER_CACHE_ERROR, KP_WORKER_CACHE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_finalize_object (g_steal_pointer (&cache));
}

static void
test_newer_schema_refused (void)
{
  g_autofree char *path = cache_path ("newer.sqlite");
  g_autoptr(KpWorkerCache) cache = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) sub = NULL;
  g_autofree char *sqlite3_shell = NULL;

  cache = kp_worker_cache_open (path, &error);
  g_assert_no_error (error);
  g_clear_object (&cache);

  /* Bump the version behind the cache's back, with the sqlite3 shell if
   * there is one; otherwise there is nothing to check. */
  sqlite3_shell = g_find_program_in_path ("sqlite3");
  if (sqlite3_shell == NULL)
    {
      g_test_skip ("no sqlite3 shell");
      return;
    }
  sub = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error, "sqlite3", path,
                          "PRAGMA user_version = 99", NULL);
  g_assert_no_error (error);
  g_subprocess_wait_check (sub, NULL, &error);
  g_assert_no_error (error);

  cache = kp_worker_cache_open (path, &error);
  g_assert_null (cache);
  g_assert_error (error, KP_WORKER_CACHE_ERROR, KP_WORKER_CACHE_ERROR_VERSION);
}

static void
test_drafts (void)
{
  g_autofree char *path = cache_path ("drafts.sqlite");
  g_autoptr(KpWorkerCache) cache = kp_worker_cache_open (path, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *draft = NULL;

  g_assert_nonnull (cache);
  g_assert_null (kp_worker_cache_dup_draft (cache, "3ASG1", &error));
  g_assert_error (error, KP_WORKER_CACHE_ERROR, KP_WORKER_CACHE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  for (int i = 0; i < 200; i++)
    {
      g_autofree char *answer = g_strdup_printf ("[{\"QuestionIdentifier\":\"q\",\"FreeText\":\"%d\"}]", i);

      g_assert_true (kp_worker_cache_save_draft (cache, "3ASG1", answer, &error));
      g_assert_no_error (error);
    }
  draft = kp_worker_cache_dup_draft (cache, "3ASG1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (draft, ==, "[{\"QuestionIdentifier\":\"q\",\"FreeText\":\"199\"}]");
}

static void
test_outbox_life (void)
{
  g_autofree char *path = cache_path ("outbox.sqlite");
  g_autoptr(KpWorkerCache) cache = kp_worker_cache_open (path, NULL);
  g_autoptr(KpWorkerCache) other = NULL;
  g_autoptr(JsonObject) a1 = make_assignment ("3ASG1", "3HIT1", 1700000600, "q");
  g_autoptr(JsonObject) a2 = make_assignment ("3ASG2", "3HIT2", 1700000500, "q");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) batch = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(KpOutboxItem) item = NULL;
  g_autoptr(KpCachedAssignment) got = NULL;
  g_autofree char *id1 = NULL;
  g_autofree char *id2 = NULL;
  g_autofree char *id3 = NULL;
  g_autofree char *again = NULL;
  g_autofree char *exported = NULL;
  KpOutboxResult results[2] = { { 0 } };
  guint counts[4];
  gint64 now = g_get_real_time ();

  g_assert_true (kp_worker_cache_put_assignment (cache, a1, NULL));
  g_assert_true (kp_worker_cache_put_assignment (cache, a2, NULL));

  /* Assignments come soonest deadline first. */
  list = kp_worker_cache_list_assignments (cache, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpstr (((KpCachedAssignment *)g_ptr_array_index (list, 0))->assignment_id, ==, "3ASG2");
  g_clear_pointer (&list, g_ptr_array_unref);

  /* Not JSON: refused before it reaches the outbox. */
  g_assert_null (kp_worker_cache_enqueue (cache, "3ASG1", "[{", NULL, &error));
  g_assert_error (error, KP_WORKER_CACHE_ERROR, KP_WORKER_CACHE_ERROR_INVALID);
  g_clear_error (&error);

  id1 = kp_worker_cache_enqueue (cache, "3ASG1", "[{\"QuestionIdentifier\":\"q\",\"FreeText\":\"a\"}]",
                                 NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_uuid_string_is_valid (id1));
  id2 = kp_worker_cache_enqueue (cache, "3ASG2", "[]", "fixed-id-0002", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (id2, ==, "fixed-id-0002");

  /* One live submission per assignment. */
  g_assert_null (kp_worker_cache_enqueue (cache, "3ASG1", "[]", NULL, &error));
  g_assert_error (error, KP_WORKER_CACHE_ERROR, KP_WORKER_CACHE_ERROR_EXISTS);
  g_clear_error (&error);

  got = kp_worker_cache_get_assignment (cache, "3ASG1", NULL);
  g_assert_cmpstr (got->status, ==, "Submitted");
  g_clear_pointer (&got, kp_cached_assignment_free);

  g_assert_true (kp_worker_cache_count_outbox (cache, counts, NULL));
  g_assert_cmpuint (counts[KP_OUTBOX_STATE_QUEUED], ==, 2);

  /* A second connection (as the sync thread has) sees the same rows, and
   * a claim moves them to SENDING for everybody. */
  other = kp_worker_cache_open (path, &error);
  g_assert_no_error (error);
  batch = kp_worker_cache_claim_batch (other, 1, now, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (batch->len, ==, 1);
  g_assert_cmpstr (kp_outbox_item_get_submission_id (g_ptr_array_index (batch, 0)), ==, id1);
  g_assert_cmpuint (kp_outbox_item_get_attempts (g_ptr_array_index (batch, 0)), ==, 1);
  g_clear_pointer (&batch, g_ptr_array_unref);
  batch = kp_worker_cache_claim_batch (cache, 10, now, &error);
  g_assert_cmpuint (batch->len, ==, 1);
  g_assert_cmpstr (kp_outbox_item_get_submission_id (g_ptr_array_index (batch, 0)), ==, id2);
  g_clear_pointer (&batch, g_ptr_array_unref);
  g_assert_true (kp_worker_cache_count_outbox (cache, counts, NULL));
  g_assert_cmpuint (counts[KP_OUTBOX_STATE_SENDING], ==, 2);

  /* A crash: both go back to the queue. */
  g_assert_cmpint (kp_worker_cache_requeue_sending (cache, &error), ==, 2);
  g_assert_true (kp_worker_cache_count_outbox (cache, counts, NULL));
  g_assert_cmpuint (counts[KP_OUTBOX_STATE_QUEUED], ==, 2);

  batch = kp_worker_cache_claim_batch (cache, 10, now, &error);
  g_assert_cmpuint (batch->len, ==, 2);
  g_clear_pointer (&batch, g_ptr_array_unref);

  /* One accepted, one to retry later: not due before its time. */
  results[0].submission_id = id1;
  results[0].kind = KP_OUTBOX_RESULT_ACCEPTED;
  results[0].status_code = 200;
  results[0].response = "{\"status\":\"Submitted\"}";
  results[1].submission_id = id2;
  results[1].kind = KP_OUTBOX_RESULT_RETRY;
  results[1].status_code = 503;
  results[1].reason = "busy";
  results[1].next_attempt = now + 60 * G_USEC_PER_SEC;
  g_assert_true (kp_worker_cache_finish_items (cache, results, 2, &error));
  g_assert_no_error (error);

  batch = kp_worker_cache_claim_batch (cache, 10, now, &error);
  g_assert_cmpuint (batch->len, ==, 0);
  g_clear_pointer (&batch, g_ptr_array_unref);
  g_assert_cmpint (kp_worker_cache_get_next_due (cache, NULL), ==, now + 60 * G_USEC_PER_SEC);

  batch = kp_worker_cache_claim_batch (cache, 10, now + 61 * G_USEC_PER_SEC, &error);
  g_assert_cmpuint (batch->len, ==, 1);
  g_assert_cmpuint (kp_outbox_item_get_attempts (g_ptr_array_index (batch, 0)), ==, 3);
  g_clear_pointer (&batch, g_ptr_array_unref);

  /* Refused for good: kept, as a draft that can be exported. */
  memset (results, 0, sizeof results);
  results[0].submission_id = id2;
  results[0].kind = KP_OUTBOX_RESULT_REFUSED;
  results[0].status_code = 410;
  results[0].error_code = "gone";
  results[0].reason = "The assignment’s deadline has passed";
  g_assert_true (kp_worker_cache_finish_items (cache, results, 1, &error));

  item = kp_worker_cache_get_outbox_item (cache, id2, &error);
  g_assert_no_error (error);
  g_assert_cmpint (kp_outbox_item_get_state (item), ==, KP_OUTBOX_STATE_REFUSED);
  g_assert_cmpuint (kp_outbox_item_get_status_code (item), ==, 410);
  g_assert_cmpstr (kp_outbox_item_get_error_code (item), ==, "gone");
  g_assert_cmpstr (kp_outbox_item_get_reason (item), ==, "The assignment’s deadline has passed");
  g_clear_object (&item);

  got = kp_worker_cache_get_assignment (cache, "3ASG2", NULL);
  g_assert_cmpstr (got->status, ==, "Refused");
  again = kp_worker_cache_dup_draft (cache, "3ASG2", &error);
  g_assert_cmpstr (again, ==, "[]");

  exported = kp_worker_cache_export_refused (cache, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (exported, "\"assignment_id\" : \"3ASG2\""));
  g_assert_nonnull (strstr (exported, "deadline has passed"));
  g_assert_null (strstr (exported, "3ASG1"));

  /* After a refusal the worker may submit the assignment again. */
  id3 = kp_worker_cache_enqueue (cache, "3ASG2", "[]", NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (id3);

  list = kp_worker_cache_list_outbox (cache, &error);
  g_assert_cmpuint (list->len, ==, 3);
  g_assert_cmpstr (kp_outbox_item_get_submission_id (g_ptr_array_index (list, 0)), ==, id1);
  g_assert_cmpint (kp_outbox_item_get_state (g_ptr_array_index (list, 0)), ==, KP_OUTBOX_STATE_ACCEPTED);
}

static void
test_bulk (void)
{
  g_autofree char *path = cache_path ("bulk.sqlite");
  g_autoptr(KpWorkerCache) cache = kp_worker_cache_open (path, NULL);
  g_autoptr(JsonObject) a1 = make_assignment ("3ASG1", "3HIT1", 1700000600,
                                              "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
  g_autoptr(JsonObject) a2 = make_assignment ("3ASG2", "3HIT2", 1700000500, "no media");
  JsonObject *both[] = { a1, a2 };
  const char *ids[] = { "3ASG1", "3ASG2", "3ASG1" };
  const char *answers[] = { "[]", "[1]", "[2]" };
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) made = NULL;
  g_autoptr(GPtrArray) list = NULL;
  guint counts[4];

  g_assert_true (kp_worker_cache_put_assignments (cache, both, 2, &error));
  g_assert_no_error (error);
  list = kp_worker_cache_list_assignments (cache, NULL);
  g_assert_cmpuint (list->len, ==, 2);

  /* All or none: the third submits 3ASG1 a second time. */
  g_assert_null (kp_worker_cache_enqueue_many (cache, 3, ids, answers, &error));
  g_assert_error (error, KP_WORKER_CACHE_ERROR, KP_WORKER_CACHE_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_true (kp_worker_cache_count_outbox (cache, counts, NULL));
  g_assert_cmpuint (counts[KP_OUTBOX_STATE_QUEUED], ==, 0);

  made = kp_worker_cache_enqueue_many (cache, 2, ids, answers, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (made), ==, 2);
  g_assert_true (g_uuid_string_is_valid (made[0]));
  g_assert_true (kp_worker_cache_count_outbox (cache, counts, NULL));
  g_assert_cmpuint (counts[KP_OUTBOX_STATE_QUEUED], ==, 2);
}

static void
test_item_update_notifies (void)
{
  g_autofree char *path = cache_path ("notify.sqlite");
  g_autoptr(KpWorkerCache) cache = kp_worker_cache_open (path, NULL);
  g_autoptr(KpOutboxItem) before = NULL;
  g_autoptr(KpOutboxItem) after = NULL;
  g_autofree char *id = kp_worker_cache_enqueue (cache, "3ASG1", "[]", NULL, NULL);
  g_autoptr(GPtrArray) batch = NULL;
  GParamSpec *last = NULL;
  KpOutboxResult result = { 0 };

  before = kp_worker_cache_get_outbox_item (cache, id, NULL);
  batch = kp_worker_cache_claim_batch (cache, 1, g_get_real_time (), NULL);
  result.submission_id = id;
  result.kind = KP_OUTBOX_RESULT_ACCEPTED;
  result.status_code = 200;
  kp_worker_cache_finish_items (cache, &result, 1, NULL);
  after = kp_worker_cache_get_outbox_item (cache, id, NULL);

  g_signal_connect_swapped (before, "notify::state", G_CALLBACK (g_nullify_pointer), &last);
  last = (GParamSpec *)before;
  kp_outbox_item_update_from (before, after);
  g_assert_null (last);
  g_assert_cmpint (kp_outbox_item_get_state (before), ==, KP_OUTBOX_STATE_ACCEPTED);
  g_assert_cmpuint (kp_outbox_item_get_attempts (before), ==, 1);

  /* Nothing changed: no notification. */
  last = (GParamSpec *)before;
  kp_outbox_item_update_from (before, after);
  g_assert_nonnull (last);
}

static void
test_media (void)
{
  g_autofree char *path = cache_path ("media.sqlite");
  g_autoptr(KpWorkerCache) cache = kp_worker_cache_open (path, NULL);
  const char *sha = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  g_autofree char *file = kp_worker_cache_dup_media_path (cache, sha);
  g_autofree char *dir = g_path_get_dirname (file);
  g_autofree char *found = NULL;
  g_autoptr(GError) error = NULL;
  guint64 size = 0;

  g_assert_true (g_str_has_prefix (file, kp_worker_cache_get_media_dir (cache)));
  g_assert_true (g_str_has_suffix (file, "/9f/9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"));
  g_assert_false (kp_worker_cache_lookup_media (cache, sha, NULL, NULL));

  g_mkdir_with_parents (dir, 0700);
  g_file_set_contents (file, "test", 4, &error);
  g_assert_no_error (error);

  /* Recorded but not verified: not usable. */
  g_assert_true (kp_worker_cache_put_media (cache, sha, "text/plain", 4, FALSE, &error));
  g_assert_false (kp_worker_cache_lookup_media (cache, sha, NULL, NULL));
  g_assert_true (kp_worker_cache_put_media (cache, sha, "text/plain", 4, TRUE, &error));
  g_assert_true (kp_worker_cache_lookup_media (cache, sha, &found, &size));
  g_assert_cmpstr (found, ==, file);
  g_assert_cmpuint (size, ==, 4);

  /* A file that changed size behind the cache's back is not the one. */
  g_file_set_contents (file, "tested", 6, &error);
  g_assert_false (kp_worker_cache_lookup_media (cache, sha, NULL, NULL));
  g_assert_false (kp_worker_cache_lookup_media (cache, "not-a-hash", NULL, NULL));

  g_assert_true (kp_worker_cache_link_media (cache, "3ASG1", sha, &error));
  g_assert_true (kp_worker_cache_link_media (cache, "3ASG1", sha, &error));
  g_assert_no_error (error);
}

static void
test_media_refs (void)
{
  const char *a = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  const char *b = "0000000000000000000000000000000000000000000000000000000000000001";
  g_autofree char *question = g_strdup_printf (
    "<img src=\"https://x/worker/v1/media/%s\"> <img src='kempelen-media:%s'>"
    " again %s, too long %s0, upper 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08,"
    " short abc123",
    a, b, a, a);
  g_auto(GStrv) refs = kp_worker_cache_find_media_refs (question);
  g_auto(GStrv) none = kp_worker_cache_find_media_refs (NULL);

  g_assert_cmpuint (g_strv_length (refs), ==, 2);
  g_assert_cmpstr (refs[0], ==, a);
  g_assert_cmpstr (refs[1], ==, b);
  g_assert_cmpuint (g_strv_length (none), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/kempelen/net/worker-cache/open", test_open_and_reopen);
  g_test_add_func ("/kempelen/net/worker-cache/newer-schema", test_newer_schema_refused);
  g_test_add_func ("/kempelen/net/worker-cache/drafts", test_drafts);
  g_test_add_func ("/kempelen/net/worker-cache/outbox", test_outbox_life);
  g_test_add_func ("/kempelen/net/worker-cache/bulk", test_bulk);
  g_test_add_func ("/kempelen/net/worker-cache/item-notify", test_item_update_notifies);
  g_test_add_func ("/kempelen/net/worker-cache/media", test_media);
  g_test_add_func ("/kempelen/net/worker-cache/media-refs", test_media_refs);

  return g_test_run ();
}
