/* kp-schema.c: the server database's schema and its migrations
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Conventions, for every backend:
 * - ids are TEXT made by the server (kp_api_new_id()): MTurk-style
 *   upper-case alphanumerics;
 * - times are INTEGER epoch seconds (UTC);
 * - money is INTEGER cents, never a float;
 * - JSON kept verbatim is TEXT;
 * - status columns hold MTurk's own enum spellings.
 *
 * The version lives in kp_meta (not SQLite's user_version) so that the
 * PostgreSQL backend can share the logic.
 */

#include "config.h"

#include <inttypes.h>

#include "kp-schema.h"
#include "kp-ledger.h"

#include <errno.h>
#include <sys/random.h>

#include <glib/gi18n.h>

static const char * const schema_v1[] = {
  "CREATE TABLE IF NOT EXISTS kp_meta ("
  "  key TEXT PRIMARY KEY,"
  "  value TEXT NOT NULL)",

  /* --- accounts (kp-admin.c) --- */
  "CREATE TABLE requesters ("
  "  id TEXT PRIMARY KEY,"                      /* A + 13, like a CustomerId */
  "  access_key_id TEXT NOT NULL UNIQUE,"
  "  secret_access_key TEXT NOT NULL,"
  "  name TEXT,"
  "  created INTEGER NOT NULL)",

  "CREATE TABLE workers ("
  "  id TEXT PRIMARY KEY,"                      /* A + 13 (CustomerId pattern) */
  "  token_hash TEXT NOT NULL UNIQUE,"          /* SHA-256 hex of the bearer token */
  "  name TEXT,"
  "  locale_country TEXT,"                      /* ISO 3166-1 alpha-2, for Worker_Locale */
  "  locale_subdivision TEXT,"
  "  is_master INTEGER NOT NULL DEFAULT 0,"
  "  created INTEGER NOT NULL)",

  /* --- money (kp-ledger.c). Signed cents: credits > 0, debits < 0. --- */
  "CREATE TABLE ledger ("
  "  id TEXT PRIMARY KEY,"
  "  requester_id TEXT NOT NULL REFERENCES requesters (id),"
  "  kind TEXT NOT NULL CHECK (kind IN ('fund', 'reward', 'fee', 'bonus', 'bonus_fee')),"
  "  amount_cents INTEGER NOT NULL,"
  "  hit_id TEXT,"
  "  assignment_id TEXT,"
  "  worker_id TEXT,"
  "  memo TEXT,"
  "  created INTEGER NOT NULL)",
  "CREATE INDEX ledger_requester ON ledger (requester_id)",
  "CREATE INDEX ledger_worker ON ledger (worker_id)",

  /* --- HITs and assignments (kp-mturk-hits.c) --- */
  "CREATE TABLE hit_types ("
  "  id TEXT PRIMARY KEY,"
  "  requester_id TEXT NOT NULL REFERENCES requesters (id),"
  "  title TEXT NOT NULL,"
  "  description TEXT NOT NULL,"
  "  keywords TEXT,"
  "  reward_cents INTEGER NOT NULL,"
  "  assignment_duration INTEGER NOT NULL,"
  "  auto_approval_delay INTEGER NOT NULL,"
  "  qualification_requirements TEXT NOT NULL DEFAULT '[]',"  /* normalised JSON array */
  "  fingerprint TEXT NOT NULL,"                /* hash of all the above */
  "  created INTEGER NOT NULL,"
  "  UNIQUE (requester_id, fingerprint))",

  "CREATE TABLE hits ("
  "  id TEXT PRIMARY KEY,"
  "  hit_type_id TEXT NOT NULL REFERENCES hit_types (id),"
  "  requester_id TEXT NOT NULL REFERENCES requesters (id),"
  "  question TEXT NOT NULL,"
  "  question_kind TEXT NOT NULL,"              /* QuestionForm | HTMLQuestion | ExternalQuestion */
  "  hit_layout_id TEXT,"
  "  layout_parameters TEXT,"                   /* JSON array of {Name, Value} */
  "  requester_annotation TEXT,"
  "  max_assignments INTEGER NOT NULL,"
  "  status TEXT NOT NULL DEFAULT 'Assignable'"
  "    CHECK (status IN ('Assignable', 'Unassignable', 'Reviewable', 'Reviewing', 'Disposed')),"
  "  review_status TEXT NOT NULL DEFAULT 'NotReviewed'"
  "    CHECK (review_status IN ('NotReviewed', 'MarkedForReview', 'ReviewedAppropriate', 'ReviewedInappropriate')),"
  "  created INTEGER NOT NULL,"
  "  expiration INTEGER NOT NULL,"
  "  unique_request_token TEXT,"
  "  token_time INTEGER,"
  "  assignment_review_policy TEXT,"            /* JSON, verbatim */
  "  hit_review_policy TEXT,"
  "  expired_event INTEGER NOT NULL DEFAULT 0,"  /* HITExpired sent for this expiration */
  "  UNIQUE (requester_id, unique_request_token))",
  "CREATE INDEX hits_requester ON hits (requester_id, created, id)",
  "CREATE INDEX hits_type ON hits (hit_type_id)",
  "CREATE INDEX hits_status ON hits (status, expiration)",

  /* CreateAdditionalAssignmentsForHIT's UniqueRequestToken (24 hours). */
  "CREATE TABLE hit_extensions ("
  "  requester_id TEXT NOT NULL REFERENCES requesters (id),"
  "  unique_request_token TEXT NOT NULL,"
  "  hit_id TEXT NOT NULL REFERENCES hits (id),"
  "  created INTEGER NOT NULL,"
  "  PRIMARY KEY (requester_id, unique_request_token))",

  "CREATE TABLE assignments ("
  "  id TEXT PRIMARY KEY,"
  "  hit_id TEXT NOT NULL REFERENCES hits (id),"
  "  worker_id TEXT NOT NULL REFERENCES workers (id),"
  "  status TEXT NOT NULL"
  "    CHECK (status IN ('Accepted', 'Submitted', 'Approved', 'Rejected', 'Returned', 'Abandoned')),"
  "  accept_time INTEGER NOT NULL,"
  "  deadline INTEGER NOT NULL,"
  "  submit_time INTEGER,"
  "  auto_approval_time INTEGER,"
  "  approval_time INTEGER,"
  "  rejection_time INTEGER,"
  "  answer TEXT,"                              /* QuestionFormAnswers XML */
  "  requester_feedback TEXT)",
  "CREATE INDEX assignments_hit ON assignments (hit_id, status)",
  "CREATE INDEX assignments_worker ON assignments (worker_id, status)",
  "CREATE INDEX assignments_due ON assignments (status, deadline)",
  "CREATE INDEX assignments_auto_approval ON assignments (status, auto_approval_time)",
  /* A worker works a HIT once (a returned or abandoned try does not count). */
  "CREATE UNIQUE INDEX assignments_once ON assignments (hit_id, worker_id)"
  "  WHERE status NOT IN ('Returned', 'Abandoned')",

  /* Review policy results (ListReviewPolicyResultsForHIT). */
  "CREATE TABLE review_results ("
  "  id TEXT PRIMARY KEY,"
  "  hit_id TEXT NOT NULL REFERENCES hits (id),"
  "  policy_level TEXT NOT NULL CHECK (policy_level IN ('Assignment', 'HIT')),"
  "  policy_name TEXT NOT NULL,"
  "  kind TEXT NOT NULL CHECK (kind IN ('result', 'action')),"
  "  body TEXT NOT NULL,"                       /* the ReviewResultDetail / ReviewActionDetail JSON */
  "  created INTEGER NOT NULL)",
  "CREATE INDEX review_results_hit ON review_results (hit_id)",

  /* File uploads (GetFileUploadURL). */
  "CREATE TABLE uploads ("
  "  assignment_id TEXT NOT NULL REFERENCES assignments (id),"
  "  question_id TEXT NOT NULL,"
  "  media_hash TEXT NOT NULL,"
  "  size INTEGER NOT NULL,"
  "  created INTEGER NOT NULL,"
  "  PRIMARY KEY (assignment_id, question_id))",

  /* --- qualifications (kp-mturk-quals.c) --- */
  "CREATE TABLE qualification_types ("
  "  id TEXT PRIMARY KEY,"
  "  requester_id TEXT REFERENCES requesters (id),"  /* NULL for system qualifications */
  "  name TEXT NOT NULL,"
  "  description TEXT NOT NULL,"
  "  keywords TEXT,"
  "  status TEXT NOT NULL CHECK (status IN ('Active', 'Inactive')),"
  "  retry_delay INTEGER,"
  "  test TEXT,"
  "  answer_key TEXT,"
  "  test_duration INTEGER,"
  "  auto_granted INTEGER NOT NULL DEFAULT 0,"
  "  auto_granted_value INTEGER,"
  "  deleted INTEGER NOT NULL DEFAULT 0,"
  "  created INTEGER NOT NULL)",
  "CREATE UNIQUE INDEX qualification_types_name ON qualification_types (requester_id, name)"
  "  WHERE deleted = 0",
  /* The system qualification types, with MTurk's ids (kp-quals.h). Their
   * values are computed from the workers' history, never stored. */
  "INSERT INTO qualification_types (id, requester_id, name, description, keywords, status,"
  "  created) VALUES"
  "  ('00000000000000000040', NULL, 'Worker_NumberHITsApproved',"
  "   'The number of HITs of the worker that requesters have approved, over all requesters.',"
  "   'system,approved,hits', 'Active', 1104537600),"
  "  ('000000000000000000L0', NULL, 'Worker_PercentAssignmentsApproved',"
  "   'The percentage of the worker''s reviewed assignments that were approved, rounded down;"
  " 100 until one has been reviewed.',"
  "   'system,approval,rate', 'Active', 1104537600),"
  "  ('00000000000000000071', NULL, 'Worker_Locale',"
  "   'Where the worker is: an ISO 3166-1 country code and, optionally, an ISO 3166-2"
  " subdivision.',"
  "   'system,locale,country', 'Active', 1104537600),"
  "  ('00000000000000000060', NULL, 'Worker_Adult',"
  "   'The worker has agreed to work on HITs that may contain adult content.',"
  "   'system,adult', 'Active', 1104537600),"
  "  ('2F1QJWKUDD8XADTFD2Q0G6UTO95ALH', NULL, 'Masters',"
  "   'Workers who have consistently done excellent work on many HITs.',"
  "   'system,masters', 'Active', 1104537600),"
  "  ('2ARFPLSP75KLA8M8DH1HTEQFJN0F6X', NULL, 'Masters (Sandbox)',"
  "   'The Masters qualification under its sandbox id.',"
  "   'system,masters,sandbox', 'Active', 1104537600)",

  "CREATE TABLE qualification_requests ("
  "  id TEXT PRIMARY KEY,"
  "  qualification_type_id TEXT NOT NULL REFERENCES qualification_types (id),"
  "  worker_id TEXT NOT NULL REFERENCES workers (id),"
  "  test_answer TEXT,"                         /* QuestionFormAnswers XML */
  "  status TEXT NOT NULL CHECK (status IN ('Pending', 'Approved', 'Rejected')),"
  "  reason TEXT,"
  "  submit_time INTEGER NOT NULL,"
  "  decision_time INTEGER)",
  "CREATE INDEX qualification_requests_type ON qualification_requests (qualification_type_id, status)",
  "CREATE INDEX qualification_requests_worker ON qualification_requests"
  "  (worker_id, qualification_type_id, submit_time)",

  "CREATE TABLE worker_qualifications ("
  "  qualification_type_id TEXT NOT NULL REFERENCES qualification_types (id),"
  "  worker_id TEXT NOT NULL REFERENCES workers (id),"
  "  integer_value INTEGER,"
  "  locale_country TEXT,"
  "  locale_subdivision TEXT,"
  "  status TEXT NOT NULL CHECK (status IN ('Granted', 'Revoked')),"
  "  grant_time INTEGER NOT NULL,"
  "  PRIMARY KEY (qualification_type_id, worker_id))",
  "CREATE INDEX worker_qualifications_worker ON worker_qualifications (worker_id)",
  "CREATE INDEX worker_qualifications_type ON worker_qualifications"
  "  (qualification_type_id, grant_time)",

  /* --- workers, bonuses, notifications (kp-mturk-workers.c, kp-notify.c) --- */
  "CREATE TABLE worker_blocks ("
  "  requester_id TEXT NOT NULL REFERENCES requesters (id),"
  "  worker_id TEXT NOT NULL,"
  "  reason TEXT NOT NULL,"
  "  created INTEGER NOT NULL,"
  "  PRIMARY KEY (requester_id, worker_id))",

  "CREATE TABLE bonuses ("
  "  id TEXT PRIMARY KEY,"
  "  requester_id TEXT NOT NULL REFERENCES requesters (id),"
  "  worker_id TEXT NOT NULL REFERENCES workers (id),"
  "  assignment_id TEXT NOT NULL REFERENCES assignments (id),"
  "  amount_cents INTEGER NOT NULL,"
  "  reason TEXT NOT NULL,"
  "  unique_request_token TEXT,"
  "  created INTEGER NOT NULL,"
  "  UNIQUE (requester_id, unique_request_token))",
  "CREATE INDEX bonuses_assignment ON bonuses (assignment_id)",

  "CREATE TABLE worker_messages ("
  "  id TEXT PRIMARY KEY,"
  "  requester_id TEXT NOT NULL REFERENCES requesters (id),"
  "  worker_id TEXT NOT NULL REFERENCES workers (id),"
  "  subject TEXT NOT NULL,"
  "  message_text TEXT NOT NULL,"
  "  created INTEGER NOT NULL)",
  "CREATE INDEX worker_messages_worker ON worker_messages (worker_id, created)",

  "CREATE TABLE notification_settings ("
  "  hit_type_id TEXT PRIMARY KEY REFERENCES hit_types (id),"
  "  destination TEXT NOT NULL,"
  "  transport TEXT NOT NULL,"
  "  version TEXT NOT NULL,"
  "  event_types TEXT NOT NULL,"                /* JSON array of EventType */
  "  active INTEGER NOT NULL DEFAULT 1)",

  /* Messages waiting to be POSTed (kp-notify.c); a row is deleted once
   * delivered or given up. */
  "CREATE TABLE notification_outbox ("
  "  id TEXT PRIMARY KEY,"
  "  destination TEXT NOT NULL,"
  "  body TEXT NOT NULL,"
  "  attempts INTEGER NOT NULL DEFAULT 0,"
  "  next_attempt INTEGER NOT NULL,"
  "  last_error TEXT,"
  "  created INTEGER NOT NULL)",
  "CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt)",

  /* --- the worker API (kp-worker-api.c) --- */
  /* Idempotent submissions: the client's submission id -> the answer it got. */
  "CREATE TABLE submissions ("
  "  worker_id TEXT NOT NULL REFERENCES workers (id),"
  "  submission_id TEXT NOT NULL,"
  "  assignment_id TEXT NOT NULL,"
  "  response TEXT NOT NULL,"                   /* the JSON response sent the first time */
  "  created INTEGER NOT NULL,"
  "  PRIMARY KEY (worker_id, submission_id))",

  /* A worker's bonuses, for GET /earnings. */
  "CREATE INDEX bonuses_worker ON bonuses (worker_id)",
  /* The next HITs of a group to accept, oldest first, without reading the
   * whole group (POST /groups/{id}/accept). */
  "CREATE INDEX hits_type_queue ON hits (hit_type_id, status, created, id)",

  /* Media by content hash; the bytes live in DATA_DIR/media/ab/abcdef…. */
  "CREATE TABLE media ("
  "  hash TEXT PRIMARY KEY,"                    /* SHA-256 hex */
  "  size INTEGER NOT NULL,"
  "  content_type TEXT NOT NULL,"
  "  created INTEGER NOT NULL)",
};

/* 3: each worker's running score on a requester's gold questions, per
 * score qualification type (kp-review-policy.c). correct_micro is the sum
 * of the scores of the known answers (0–1 each) in millionths, so that
 * both backends add integers. */
static const char * const schema_v3[] = {
  "CREATE TABLE IF NOT EXISTS gold_scores ("
  "  requester_id TEXT NOT NULL REFERENCES requesters (id),"
  "  qualification_type_id TEXT NOT NULL REFERENCES qualification_types (id),"
  "  worker_id TEXT NOT NULL REFERENCES workers (id),"
  "  known INTEGER NOT NULL,"
  "  correct_micro INTEGER NOT NULL,"
  "  updated INTEGER NOT NULL,"
  "  PRIMARY KEY (requester_id, qualification_type_id, worker_id))",
  "CREATE INDEX IF NOT EXISTS gold_scores_worker ON gold_scores (worker_id)",
};

static gboolean
get_version (KpDb    *db,
             gint64  *version,
             GError **error)
{
  g_autoptr(KpRows) rows = NULL;

  *version = 0;

  if (!kp_db_exec (db, NULL, error,
                   "CREATE TABLE IF NOT EXISTS kp_meta ("
                   "  key TEXT PRIMARY KEY,"
                   "  value TEXT NOT NULL)", NULL))
    return FALSE;

  rows = kp_db_query (db, error, "SELECT value FROM kp_meta WHERE key = 'schema_version'", NULL);
  if (rows == NULL)
    return FALSE;

  if (kp_rows_get_n_rows (rows) > 0)
    *version = g_ascii_strtoll (kp_rows_get_text (rows, 0, 0), NULL, 10);

  return TRUE;
}

gboolean
kp_schema_migrate (KpDb    *db,
                   GError **error)
{
  gint64 version = 0;
  g_autofree char *version_text = NULL;

  if (!kp_db_begin (db, error))
    return FALSE;

  if (!get_version (db, &version, error))
    goto fail;

  if (version > KP_SCHEMA_VERSION)
    {
      g_set_error (error, KP_DB_ERROR, KP_DB_ERROR_TOO_NEW,
                   _("The database was written by a newer kempelen-server (schema %"
                     PRId64 ", this one knows %d); it was left unchanged"),
                   version, KP_SCHEMA_VERSION);
      goto fail;
    }

  if (version < 1)
    {
      for (guint i = 0; i < G_N_ELEMENTS (schema_v1); i++)
        if (!kp_db_exec (db, NULL, error, schema_v1[i], NULL))
          goto fail;
    }

  /* 2: running totals of each requester's money and holds (kp-ledger.c). */
  if (version < 2 &&
      !kp_ledger_migrate (db, g_get_real_time () / G_USEC_PER_SEC, error))
    goto fail;

  if (version < 3)
    {
      for (guint i = 0; i < G_N_ELEMENTS (schema_v3); i++)
        if (!kp_db_exec (db, NULL, error, schema_v3[i], NULL))
          goto fail;
    }

  /* The key that makes NextToken values unforgeable, shared by every
   * server process on this database (a token from one is good at another). */
  {
    guint8 bytes[32];
    g_autofree char *key = NULL;
    gsize filled = 0;

    while (filled < sizeof bytes)
      {
        ssize_t got = getrandom (bytes + filled, sizeof bytes - filled, 0);

        if (got < 0 && errno == EINTR)
          continue;
        if (got < 0)
          {
            g_set_error (error, KP_DB_ERROR, KP_DB_ERROR_FAILED,
                         _("Cannot get random bytes: %s"), g_strerror (errno));
            goto fail;
          }
        filled += got;
      }
    key = g_compute_checksum_for_data (G_CHECKSUM_SHA256, bytes, sizeof bytes);
    if (!kp_db_exec (db, NULL, error,
                     "INSERT INTO kp_meta (key, value) VALUES ('page_token_key', $1) "
                     "ON CONFLICT (key) DO NOTHING",
                     "s", key))
      goto fail;
  }

  version_text = g_strdup_printf ("%d", KP_SCHEMA_VERSION);
  if (!kp_db_exec (db, NULL, error,
                   "INSERT INTO kp_meta (key, value) VALUES ('schema_version', $1) "
                   "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                   "s", version_text))
    goto fail;

  return kp_db_commit (db, error);

fail:
  kp_db_rollback (db);
  return FALSE;
}
