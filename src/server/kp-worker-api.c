/* kp-worker-api.c: the worker API under /worker/v1/
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The workstation's side of the server: the marketplace of HIT groups,
 * preview, accept, return, idempotent submit and batch sync, the worker's
 * assignments, earnings, messages and qualifications, and media by content
 * hash with range requests. docs/worker-api.md is the reference for client
 * authors; keep the two in step.
 *
 * Every handler runs inside the request's savepoint of the current group
 * commit (kp-server.c): on failure it is rolled back, and the answer leaves
 * only after the commit. State changes go through kp-hits.c and kp-quals.c,
 * so HIT counters, notifications and the ledger stay consistent with the
 * MTurk API.
 */

#include "config.h"

#include <inttypes.h>

#include "kp-worker-api.h"

#include <errno.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "kp-core.h"
#include "kp-hits.h"
#include "kp-quals.h"

#define DEFAULT_LIMIT   25
#define MAX_LIMIT       100
#define MAX_SYNC_ITEMS  100

/* Assignment states that hold a slot of their HIT. */
/* The most HITs one request may accept from a group. */
#define MAX_GROUP_ACCEPTS 100

#define ACTIVE_STATES "('Accepted', 'Submitted', 'Approved', 'Rejected')"

typedef struct
{
  KpCtx             *ctx;
  SoupServerMessage *msg;
  const char        *method;
  GHashTable        *query;     /* owned; may be empty, never NULL */
  char             **segments;  /* the path's segments, owned */
  guint              n_segments;
} Request;

static void
request_clear (Request *req)
{
  g_clear_pointer (&req->query, g_hash_table_unref);
  g_clear_pointer (&req->segments, g_strfreev);
}

/* --- responses --- */

static void
respond_text (SoupServerMessage *msg,
              guint              status,
              const char        *json)
{
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json",
                                    SOUP_MEMORY_COPY, json, strlen (json));
}

static char *
builder_to_text (JsonBuilder *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);

  return json_to_string (root, FALSE);
}

static void
respond_builder (SoupServerMessage *msg,
                 guint              status,
                 JsonBuilder       *builder)
{
  g_autofree char *text = builder_to_text (builder);

  respond_text (msg, status, text);
}

/* The HTTP status and name the server gives a KP_API_ERROR; used for the
 * per-item results of POST /sync, which share the top level's wording. */
static guint
error_status (const GError *error)
{
  if (error->domain != KP_API_ERROR)
    return 500;

  switch ((KpApiError)error->code)
    {
    case KP_API_ERROR_REQUEST:      return 400;
    case KP_API_ERROR_UNAUTHORIZED: return 401;
    case KP_API_ERROR_FORBIDDEN:    return 403;
    case KP_API_ERROR_NOT_FOUND:    return 404;
    case KP_API_ERROR_CONFLICT:     return 409;
    case KP_API_ERROR_GONE:         return 410;
    case KP_API_ERROR_THROTTLED:    return 503;
    case KP_API_ERROR_SERVICE:
    default:                        return 500;
    }
}

static const char *
error_name (const GError *error)
{
  if (error->domain != KP_API_ERROR)
    return "internal";

  switch ((KpApiError)error->code)
    {
    case KP_API_ERROR_REQUEST:      return "invalid-request";
    case KP_API_ERROR_UNAUTHORIZED: return "unauthorized";
    case KP_API_ERROR_FORBIDDEN:    return "forbidden";
    case KP_API_ERROR_NOT_FOUND:    return "not-found";
    case KP_API_ERROR_CONFLICT:     return "conflict";
    case KP_API_ERROR_GONE:         return "gone";
    case KP_API_ERROR_THROTTLED:    return "busy";
    case KP_API_ERROR_SERVICE:
    default:                        return "internal";
    }
}

static gboolean
fail_db (KpCtx   *ctx,
         GError **error,
         GError  *db_error)
{
  return kp_api_fail_db (ctx, error, db_error);
}

/* --- request parsing --- */

/* The body as a JSON object; an empty body is an empty object. */
static gboolean
read_body (Request     *req,
           JsonNode   **out,
           GError     **error)
{
  SoupMessageBody *body = soup_server_message_get_request_body (req->msg);
  g_autoptr(GBytes) bytes = soup_message_body_flatten (body);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  gsize size = 0;
  const char *data = g_bytes_get_data (bytes, &size);
  JsonNode *root;

  if (size == 0)
    {
      g_autoptr(JsonObject) empty = json_object_new ();

      *out = json_node_init_object (json_node_alloc (), empty);
      return TRUE;
    }

  if (!g_utf8_validate (data, size, NULL))
    return kp_api_fail (req->ctx, error, KP_API_ERROR_REQUEST, NULL,
                        _("The request body is not valid UTF-8"));

  if (!json_parser_load_from_data (parser, data, size, &local_error))
    return kp_api_fail (req->ctx, error, KP_API_ERROR_REQUEST, NULL,
                        _("The request body is not valid JSON: %s"), local_error->message);

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return kp_api_fail (req->ctx, error, KP_API_ERROR_REQUEST, NULL,
                        _("The request body must be a JSON object"));

  *out = json_node_copy (root);
  return TRUE;
}

/* Actions without parameters take no body, or an empty object. */
static gboolean
read_empty_body (Request  *req,
                 GError  **error)
{
  g_autoptr(JsonNode) body = NULL;

  return read_body (req, &body, error) &&
         kp_param_check_members (req->ctx, json_node_get_object (body), NULL, "", error);
}

static const char *
query_get (Request    *req,
           const char *name)
{
  return g_hash_table_lookup (req->query, name);
}

static gboolean
query_int (Request     *req,
           const char  *name,
           gint64       min,
           gint64       max,
           gint64      *out,
           GError     **error)
{
  const char *text = query_get (req, name);
  gint64 value = 0;

  if (text == NULL)
    return TRUE;

  if (!g_ascii_string_to_signed (text, 10, min, max, &value, NULL))
    return kp_api_fail (req->ctx, error, KP_API_ERROR_REQUEST, NULL,
                        _("The query parameter “%s” must be a whole number from %"
                          PRId64 " to %" PRId64),
                        name, min, max);

  *out = value;
  return TRUE;
}

static gboolean
query_paging (Request     *req,
              gint64      *limit,
              gint64      *offset,
              GError     **error)
{
  *limit = DEFAULT_LIMIT;
  *offset = 0;

  return query_int (req, "limit", 1, MAX_LIMIT, limit, error) &&
         query_int (req, "offset", 0, G_MAXINT32, offset, error);
}

static gboolean
query_check_names (Request     *req,
                   const char  *allowed,
                   GError     **error)
{
  g_auto(GStrv) names = g_strsplit (allowed, " ", -1);
  GHashTableIter iter;
  const char *name;

  g_hash_table_iter_init (&iter, req->query);
  while (g_hash_table_iter_next (&iter, (gpointer *)&name, NULL))
    if (!g_strv_contains ((const char * const *)names, name))
      return kp_api_fail (req->ctx, error, KP_API_ERROR_REQUEST, NULL,
                          _("Unknown query parameter “%s”"), name);

  return TRUE;
}

/* Ids in paths: MTurk-style upper-case alphanumerics. Anything else cannot
 * name a stored object. */
static gboolean
is_entity_id (const char *id)
{
  gsize n = 0;

  for (const char *p = id; *p != '\0'; p++, n++)
    if (!g_ascii_isupper (*p) && !g_ascii_isdigit (*p))
      return FALSE;

  return n >= 1 && n <= 64;
}

static gboolean
is_sha256_hex (const char *hash)
{
  gsize n = 0;

  for (const char *p = hash; *p != '\0'; p++, n++)
    if (!g_ascii_isdigit (*p) && !(*p >= 'a' && *p <= 'f'))
      return FALSE;

  return n == 64;
}

/* A client-made submission id: a UUID or any 8–64 characters of
 * [A-Za-z0-9._-]. */
static gboolean
is_submission_id (const char *id)
{
  gsize n = 0;

  for (const char *p = id; *p != '\0'; p++, n++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      return FALSE;

  return n >= 8 && n <= 64;
}

/* --- JSON output --- */

static void
add_nullable_time (JsonBuilder *builder,
                   const char  *name,
                   KpRows      *rows,
                   guint        r,
                   guint        c)
{
  json_builder_set_member_name (builder, name);
  if (kp_rows_is_null (rows, r, c))
    json_builder_add_null_value (builder);
  else
    json_builder_add_int_value (builder, kp_rows_get_int (rows, r, c));
}

static void
add_nullable_string (JsonBuilder *builder,
                     const char  *name,
                     const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value == NULL)
    json_builder_add_null_value (builder);
  else
    json_builder_add_string_value (builder, value);
}

/* HITs, with their type and the number of slots taken. */
#define HIT_SELECT \
  "SELECT h.id, h.hit_type_id, h.requester_id, t.title, t.description, t.keywords," \
  "  t.reward_cents, t.assignment_duration, t.auto_approval_delay, h.max_assignments," \
  "  h.status, h.created, h.expiration, h.question_kind, h.question," \
  "  t.qualification_requirements," \
  "  (SELECT COUNT(*) FROM assignments a WHERE a.hit_id = h.id AND a.status IN " ACTIVE_STATES ")" \
  " FROM hits h JOIN hit_types t ON t.id = h.hit_type_id "

enum
{
  HIT_ID,
  HIT_TYPE_ID,
  HIT_REQUESTER_ID,
  HIT_TITLE,
  HIT_DESCRIPTION,
  HIT_KEYWORDS,
  HIT_REWARD,
  HIT_DURATION,
  HIT_AUTO_APPROVAL_DELAY,
  HIT_MAX_ASSIGNMENTS,
  HIT_STATUS,
  HIT_CREATED,
  HIT_EXPIRATION,
  HIT_QUESTION_KIND,
  HIT_QUESTION,
  HIT_REQUIREMENTS,
  HIT_TAKEN,
};

static void
add_hit (JsonBuilder *builder,
         KpRows      *rows,
         guint        r,
         gboolean     with_question)
{
  gint64 available = kp_rows_get_int (rows, r, HIT_MAX_ASSIGNMENTS) -
                     kp_rows_get_int (rows, r, HIT_TAKEN);

  json_builder_begin_object (builder);
  kp_json_add_string (builder, "hit_id", kp_rows_get_text (rows, r, HIT_ID));
  kp_json_add_string (builder, "hit_type_id", kp_rows_get_text (rows, r, HIT_TYPE_ID));
  kp_json_add_string (builder, "requester_id", kp_rows_get_text (rows, r, HIT_REQUESTER_ID));
  kp_json_add_string (builder, "title", kp_rows_get_text (rows, r, HIT_TITLE));
  kp_json_add_string (builder, "description", kp_rows_get_text (rows, r, HIT_DESCRIPTION));
  add_nullable_string (builder, "keywords", kp_rows_get_text (rows, r, HIT_KEYWORDS));
  kp_json_add_money (builder, "reward", kp_rows_get_int (rows, r, HIT_REWARD));
  kp_json_add_int (builder, "assignment_duration", kp_rows_get_int (rows, r, HIT_DURATION));
  kp_json_add_int (builder, "auto_approval_delay", kp_rows_get_int (rows, r, HIT_AUTO_APPROVAL_DELAY));
  kp_json_add_int (builder, "max_assignments", kp_rows_get_int (rows, r, HIT_MAX_ASSIGNMENTS));
  kp_json_add_int (builder, "assignments_available", MAX (available, 0));
  kp_json_add_string (builder, "status", kp_rows_get_text (rows, r, HIT_STATUS));
  kp_json_add_timestamp (builder, "created", kp_rows_get_int (rows, r, HIT_CREATED));
  kp_json_add_timestamp (builder, "expiration", kp_rows_get_int (rows, r, HIT_EXPIRATION));
  kp_json_add_raw (builder, "qualification_requirements",
                   kp_rows_get_text (rows, r, HIT_REQUIREMENTS));
  kp_json_add_string (builder, "question_kind", kp_rows_get_text (rows, r, HIT_QUESTION_KIND));
  if (with_question)
    kp_json_add_string (builder, "question", kp_rows_get_text (rows, r, HIT_QUESTION));
  json_builder_end_object (builder);
}

static KpRows *
load_hit (KpCtx       *ctx,
          const char  *hit_id,
          GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  KpRows *rows;

  rows = kp_db_query (ctx->db, &local_error, HIT_SELECT "WHERE h.id = $1", "s", hit_id);
  if (rows == NULL)
    {
      fail_db (ctx, error, local_error);
      return NULL;
    }

  return rows;
}

/* Assignments with what a worker wants to see of their HIT. */
#define ASSIGNMENT_SELECT \
  "SELECT a.id, a.hit_id, h.hit_type_id, h.requester_id, t.title, t.reward_cents," \
  "  a.status, a.accept_time, a.deadline, a.submit_time, a.auto_approval_time," \
  "  a.approval_time, a.rejection_time, a.requester_feedback, a.answer" \
  " FROM assignments a JOIN hits h ON h.id = a.hit_id JOIN hit_types t ON t.id = h.hit_type_id "

enum
{
  ASG_ID,
  ASG_HIT_ID,
  ASG_HIT_TYPE_ID,
  ASG_REQUESTER_ID,
  ASG_TITLE,
  ASG_REWARD,
  ASG_STATUS,
  ASG_ACCEPT_TIME,
  ASG_DEADLINE,
  ASG_SUBMIT_TIME,
  ASG_AUTO_APPROVAL_TIME,
  ASG_APPROVAL_TIME,
  ASG_REJECTION_TIME,
  ASG_FEEDBACK,
  ASG_ANSWER,
};

static void
add_assignment_members (JsonBuilder *builder,
                        KpRows      *rows,
                        guint        r)
{
  kp_json_add_string (builder, "assignment_id", kp_rows_get_text (rows, r, ASG_ID));
  kp_json_add_string (builder, "hit_id", kp_rows_get_text (rows, r, ASG_HIT_ID));
  kp_json_add_string (builder, "hit_type_id", kp_rows_get_text (rows, r, ASG_HIT_TYPE_ID));
  kp_json_add_string (builder, "requester_id", kp_rows_get_text (rows, r, ASG_REQUESTER_ID));
  kp_json_add_string (builder, "title", kp_rows_get_text (rows, r, ASG_TITLE));
  kp_json_add_money (builder, "reward", kp_rows_get_int (rows, r, ASG_REWARD));
  kp_json_add_string (builder, "status", kp_rows_get_text (rows, r, ASG_STATUS));
  kp_json_add_timestamp (builder, "accept_time", kp_rows_get_int (rows, r, ASG_ACCEPT_TIME));
  kp_json_add_timestamp (builder, "deadline", kp_rows_get_int (rows, r, ASG_DEADLINE));
  add_nullable_time (builder, "submit_time", rows, r, ASG_SUBMIT_TIME);
  add_nullable_time (builder, "auto_approval_time", rows, r, ASG_AUTO_APPROVAL_TIME);
  add_nullable_time (builder, "approval_time", rows, r, ASG_APPROVAL_TIME);
  add_nullable_time (builder, "rejection_time", rows, r, ASG_REJECTION_TIME);
  add_nullable_string (builder, "requester_feedback", kp_rows_get_text (rows, r, ASG_FEEDBACK));
}

/* The worker's own assignment; NOT_FOUND for anyone else's. */
static KpRows *
load_assignment (KpCtx       *ctx,
                 const char  *assignment_id,
                 GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;

  rows = kp_db_query (ctx->db, &local_error,
                      ASSIGNMENT_SELECT "WHERE a.id = $1 AND a.worker_id = $2",
                      "ss", assignment_id, ctx->worker_id);
  if (rows == NULL)
    {
      fail_db (ctx, error, local_error);
      return NULL;
    }

  if (kp_rows_get_n_rows (rows) == 0)
    {
      kp_api_fail (ctx, error, KP_API_ERROR_NOT_FOUND, NULL,
                   _("You have no assignment “%s”"), assignment_id);
      return NULL;
    }

  return g_steal_pointer (&rows);
}

/* An assignment with its answers and its HIT (question included). */
static gboolean
add_assignment_detail (KpCtx        *ctx,
                       JsonBuilder  *builder,
                       const char   *assignment_id,
                       GError      **error)
{
  g_autoptr(KpRows) rows = NULL;
  g_autoptr(KpRows) hit = NULL;
  const char *answer;

  rows = load_assignment (ctx, assignment_id, error);
  if (rows == NULL)
    return FALSE;

  hit = load_hit (ctx, kp_rows_get_text (rows, 0, ASG_HIT_ID), error);
  if (hit == NULL)
    return FALSE;

  json_builder_begin_object (builder);
  add_assignment_members (builder, rows, 0);

  json_builder_set_member_name (builder, "answers");
  answer = kp_rows_get_text (rows, 0, ASG_ANSWER);
  if (answer != NULL)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(JsonArray) answers = kp_question_answers_from_xml (answer, &local_error);

      if (answers != NULL)
        json_builder_add_value (builder, json_node_init_array (json_node_alloc (), answers));
      else
        {
          g_warning ("Stored answer of assignment %s does not parse: %s",
                     assignment_id, local_error->message);
          json_builder_add_null_value (builder);
        }
    }
  else
    json_builder_add_null_value (builder);

  if (kp_rows_get_n_rows (hit) > 0)
    {
      json_builder_set_member_name (builder, "hit");
      add_hit (builder, hit, 0, TRUE);
    }
  json_builder_end_object (builder);

  return TRUE;
}

static gboolean
respond_assignment (KpCtx              *ctx,
                    SoupServerMessage  *msg,
                    guint               status,
                    const char         *assignment_id,
                    GError            **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  if (!add_assignment_detail (ctx, builder, assignment_id, error))
    return FALSE;

  respond_builder (msg, status, builder);
  return TRUE;
}

/* --- visibility --- */

typedef enum
{
  STANDING_QUALIFIED,
  STANDING_CAN_REQUEST,
  STANDING_NOT_QUALIFIED,
} Standing;

static const char * const standing_names[] = { "qualified", "can-request", "not-qualified", NULL };

static gboolean
is_blocked (KpCtx       *ctx,
            const char  *requester_id,
            gboolean    *blocked,
            GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  gint64 n = 0;

  if (!kp_db_query_int (ctx->db, &n, NULL, &local_error,
                        "SELECT COUNT(*) FROM worker_blocks WHERE requester_id = $1 AND worker_id = $2",
                        "ss", requester_id, ctx->worker_id))
    return fail_db (ctx, error, local_error);

  *blocked = n > 0;
  return TRUE;
}

/* Whether a worker who may not accept could change that by asking: some
 * requirement names an active qualification type of a requester (system
 * qualifications come from the worker's history and cannot be asked for)
 * that the worker does not hold, or holds from a test they may retake. */
static gboolean
could_request (KpCtx       *ctx,
               const char  *requirements_json,
               gboolean    *result,
               GError     **error)
{
  g_autoptr(JsonNode) node = json_from_string (requirements_json, NULL);
  JsonArray *array;

  *result = FALSE;
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return TRUE;

  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *item = json_array_get_element (array, i);
      const char *type_id;
      g_autoptr(GError) local_error = NULL;
      gint64 n = 0;

      if (!JSON_NODE_HOLDS_OBJECT (item))
        continue;
      type_id = json_object_get_string_member_with_default (json_node_get_object (item),
                                                            "QualificationTypeId", NULL);
      if (type_id == NULL)
        continue;

      if (!kp_db_query_int (ctx->db, &n, NULL, &local_error,
                            "SELECT COUNT(*) FROM qualification_types q"
                            " WHERE q.id = $1 AND q.requester_id IS NOT NULL"
                            "   AND q.status = 'Active' AND q.deleted = 0"
                            "   AND ((q.test IS NOT NULL AND q.retry_delay IS NOT NULL)"
                            "        OR NOT EXISTS (SELECT 1 FROM worker_qualifications w"
                            "                       WHERE w.qualification_type_id = q.id"
                            "                         AND w.worker_id = $2 AND w.status = 'Granted'))"
                            /* An AutoGranted type once revoked cannot be asked for again. */
                            "   AND NOT (q.auto_granted = 1 AND q.test IS NULL"
                            "            AND EXISTS (SELECT 1 FROM worker_qualifications w"
                            "                        WHERE w.qualification_type_id = q.id"
                            "                          AND w.worker_id = $2))",
                            "ss", type_id, ctx->worker_id))
        return fail_db (ctx, error, local_error);

      if (n > 0)
        {
          *result = TRUE;
          return TRUE;
        }
    }

  return TRUE;
}

/* What the worker may do with HITs of a type: *visible (discover),
 * *preview, and *standing for accepting, with a reason when not
 * qualified. */
static gboolean
check_type_access (KpCtx        *ctx,
                   const char   *requirements,
                   gboolean     *visible,
                   gboolean     *preview,
                   Standing     *standing,
                   char        **reason,
                   GError      **error)
{
  gboolean allowed = FALSE;
  gboolean requestable = FALSE;

  *visible = FALSE;
  *preview = FALSE;
  *standing = STANDING_NOT_QUALIFIED;

  if (!kp_quals_worker_may (ctx, ctx->worker_id, requirements, KP_QUALS_ACTION_DISCOVER,
                            visible, NULL, error))
    return FALSE;
  if (!*visible)
    return TRUE;

  if (!kp_quals_worker_may (ctx, ctx->worker_id, requirements, KP_QUALS_ACTION_PREVIEW,
                            preview, NULL, error))
    return FALSE;

  if (!kp_quals_worker_may (ctx, ctx->worker_id, requirements, KP_QUALS_ACTION_ACCEPT,
                            &allowed, reason, error))
    return FALSE;

  if (allowed)
    {
      *standing = STANDING_QUALIFIED;
      return TRUE;
    }

  if (!could_request (ctx, requirements, &requestable, error))
    return FALSE;
  *standing = requestable ? STANDING_CAN_REQUEST : STANDING_NOT_QUALIFIED;
  return TRUE;
}

/* --- /groups --- */

typedef struct
{
  guint     row;
  Standing  standing;
  gboolean  preview;
  char     *reason;
} Group;

static void
group_free (gpointer data)
{
  Group *group = data;

  g_free (group->reason);
  g_free (group);
}

/* One row per HIT type with HITs this worker could accept now: Assignable,
 * not expired, a free slot, not worked by the worker, not from a requester
 * who blocked them. */
#define GROUP_SELECT \
  "SELECT t.id, t.requester_id, r.name, t.title, t.description, t.keywords, t.reward_cents," \
  "  t.assignment_duration, t.auto_approval_delay, t.qualification_requirements," \
  "  COUNT(*), SUM(h.max_assignments - (SELECT COUNT(*) FROM assignments a" \
  "                                     WHERE a.hit_id = h.id AND a.status IN " ACTIVE_STATES "))," \
  "  MIN(h.expiration), MAX(h.expiration), MAX(h.created)" \
  " FROM hit_types t JOIN hits h ON h.hit_type_id = t.id" \
  " JOIN requesters r ON r.id = t.requester_id" \
  " WHERE h.status = 'Assignable' AND h.expiration > $1" \
  "   AND h.max_assignments > (SELECT COUNT(*) FROM assignments a" \
  "                            WHERE a.hit_id = h.id AND a.status IN " ACTIVE_STATES ")" \
  "   AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.hit_id = h.id" \
  "                   AND a.worker_id = $2 AND a.status IN " ACTIVE_STATES ")" \
  "   AND NOT EXISTS (SELECT 1 FROM worker_blocks b" \
  "                   WHERE b.requester_id = t.requester_id AND b.worker_id = $2)"
#define GROUP_BY \
  " GROUP BY t.id, t.requester_id, r.name, t.title, t.description, t.keywords, t.reward_cents," \
  "  t.assignment_duration, t.auto_approval_delay, t.qualification_requirements"

enum
{
  GRP_ID,
  GRP_REQUESTER_ID,
  GRP_REQUESTER_NAME,
  GRP_TITLE,
  GRP_DESCRIPTION,
  GRP_KEYWORDS,
  GRP_REWARD,
  GRP_DURATION,
  GRP_AUTO_APPROVAL_DELAY,
  GRP_REQUIREMENTS,
  GRP_HITS,
  GRP_ASSIGNMENTS,
  GRP_FIRST_EXPIRATION,
  GRP_EXPIRATION,
  GRP_CREATED,
};

static void
add_group (JsonBuilder *builder,
           KpRows      *rows,
           Group       *group)
{
  guint r = group->row;

  json_builder_begin_object (builder);
  kp_json_add_string (builder, "hit_type_id", kp_rows_get_text (rows, r, GRP_ID));
  kp_json_add_string (builder, "title", kp_rows_get_text (rows, r, GRP_TITLE));
  kp_json_add_string (builder, "description", kp_rows_get_text (rows, r, GRP_DESCRIPTION));
  add_nullable_string (builder, "keywords", kp_rows_get_text (rows, r, GRP_KEYWORDS));
  kp_json_add_string (builder, "requester_id", kp_rows_get_text (rows, r, GRP_REQUESTER_ID));
  add_nullable_string (builder, "requester_name", kp_rows_get_text (rows, r, GRP_REQUESTER_NAME));
  kp_json_add_money (builder, "reward", kp_rows_get_int (rows, r, GRP_REWARD));
  kp_json_add_int (builder, "assignment_duration", kp_rows_get_int (rows, r, GRP_DURATION));
  kp_json_add_int (builder, "auto_approval_delay", kp_rows_get_int (rows, r, GRP_AUTO_APPROVAL_DELAY));
  kp_json_add_int (builder, "hits_available", kp_rows_get_int (rows, r, GRP_HITS));
  kp_json_add_int (builder, "assignments_available", kp_rows_get_int (rows, r, GRP_ASSIGNMENTS));
  kp_json_add_timestamp (builder, "first_expiration", kp_rows_get_int (rows, r, GRP_FIRST_EXPIRATION));
  kp_json_add_timestamp (builder, "expiration", kp_rows_get_int (rows, r, GRP_EXPIRATION));
  kp_json_add_timestamp (builder, "created", kp_rows_get_int (rows, r, GRP_CREATED));
  kp_json_add_raw (builder, "qualification_requirements",
                   kp_rows_get_text (rows, r, GRP_REQUIREMENTS));
  kp_json_add_string (builder, "standing", standing_names[group->standing]);
  add_nullable_string (builder, "reason", group->reason);
  kp_json_add_bool (builder, "preview_allowed", group->preview);
  json_builder_end_object (builder);
}

typedef struct
{
  KpRows   *rows;
  int       column;
  gboolean  descending;
} SortSpec;

static int
compare_groups (gconstpointer a,
                gconstpointer b,
                gpointer      user_data)
{
  const SortSpec *spec = user_data;
  const Group *ga = *(Group * const *)a;
  const Group *gb = *(Group * const *)b;
  int result;

  if (spec->column == GRP_TITLE)
    result = g_utf8_collate (kp_rows_get_text (spec->rows, ga->row, GRP_TITLE),
                             kp_rows_get_text (spec->rows, gb->row, GRP_TITLE));
  else
    {
      gint64 va = kp_rows_get_int (spec->rows, ga->row, spec->column);
      gint64 vb = kp_rows_get_int (spec->rows, gb->row, spec->column);

      result = va < vb ? -1 : va > vb ? 1 : 0;
    }

  if (spec->descending)
    result = -result;
  if (result == 0)
    result = strcmp (kp_rows_get_text (spec->rows, ga->row, GRP_ID),
                     kp_rows_get_text (spec->rows, gb->row, GRP_ID));
  return result;
}

/* Every word of q (case-insensitive) appears in the title, the
 * description or the keywords. */
static gboolean
group_matches (KpRows      *rows,
               guint        r,
               char *const *words)
{
  g_autofree char *haystack = NULL;
  g_autofree char *folded = NULL;

  if (words == NULL)
    return TRUE;

  haystack = g_strjoin ("\n", kp_rows_get_text (rows, r, GRP_TITLE),
                        kp_rows_get_text (rows, r, GRP_DESCRIPTION),
                        kp_rows_get_text (rows, r, GRP_KEYWORDS) ? kp_rows_get_text (rows, r, GRP_KEYWORDS) : "",
                        NULL);
  folded = g_utf8_casefold (haystack, -1);

  for (guint i = 0; words[i] != NULL; i++)
    if (words[i][0] != '\0' && strstr (folded, words[i]) == NULL)
      return FALSE;

  return TRUE;
}

/* The groups visible to the worker; hit_type_id limits it to one. */
static gboolean
collect_groups (KpCtx        *ctx,
                const char   *hit_type_id,
                KpRows      **out_rows,
                GPtrArray   **out_groups,
                GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  g_autoptr(GPtrArray) groups = g_ptr_array_new_with_free_func (group_free);

  if (hit_type_id != NULL)
    rows = kp_db_query (ctx->db, &local_error,
                        GROUP_SELECT " AND t.id = $3" GROUP_BY,
                        "iss", ctx->now, ctx->worker_id, hit_type_id);
  else
    rows = kp_db_query (ctx->db, &local_error, GROUP_SELECT GROUP_BY,
                        "is", ctx->now, ctx->worker_id);
  if (rows == NULL)
    return fail_db (ctx, error, local_error);

  for (guint r = 0; r < kp_rows_get_n_rows (rows); r++)
    {
      g_autofree char *reason = NULL;
      gboolean visible, preview;
      Standing standing;
      Group *group;

      if (!check_type_access (ctx, kp_rows_get_text (rows, r, GRP_REQUIREMENTS),
                              &visible, &preview, &standing, &reason, error))
        return FALSE;
      if (!visible)
        continue;

      group = g_new0 (Group, 1);
      group->row = r;
      group->standing = standing;
      group->preview = preview;
      group->reason = standing == STANDING_QUALIFIED ? NULL : g_steal_pointer (&reason);
      g_ptr_array_add (groups, group);
    }

  *out_rows = g_steal_pointer (&rows);
  *out_groups = g_steal_pointer (&groups);
  return TRUE;
}

static gboolean
handle_list_groups (Request     *req,
                    const char  *id,
                    GError     **error)
{
  static const char * const sorts[] = { "reward", "expiration", "available", "created", "title", NULL };
  static const int sort_columns[] = { GRP_REWARD, GRP_EXPIRATION, GRP_HITS, GRP_CREATED, GRP_TITLE };
  static const gboolean sort_descending[] = { TRUE, FALSE, TRUE, TRUE, FALSE };
  KpCtx *ctx = req->ctx;
  g_autoptr(KpRows) rows = NULL;
  g_autoptr(GPtrArray) groups = NULL;
  g_autoptr(GPtrArray) selected = g_ptr_array_new ();
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_auto(GStrv) words = NULL;
  const char *sort = query_get (req, "sort");
  const char *order = query_get (req, "order");
  const char *q = query_get (req, "q");
  const char *requester = query_get (req, "requester_id");
  const char *standing = query_get (req, "standing");
  gint64 min_reward = 0;
  gint64 limit, offset;
  SortSpec spec;
  guint sort_index = 3;

  if (!query_check_names (req, "q sort order requester_id min_reward standing limit offset", error) ||
      !query_paging (req, &limit, &offset, error))
    return FALSE;

  if (sort != NULL)
    {
      for (sort_index = 0; sorts[sort_index] != NULL; sort_index++)
        if (g_str_equal (sorts[sort_index], sort))
          break;
      if (sorts[sort_index] == NULL)
        return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL,
                            _("sort must be one of reward, expiration, available, created, title"));
    }
  if (order != NULL && !g_str_equal (order, "asc") && !g_str_equal (order, "desc"))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL,
                        _("order must be asc or desc"));
  if (standing != NULL && !g_strv_contains (standing_names, standing))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL,
                        _("standing must be one of qualified, can-request, not-qualified"));
  if (query_get (req, "min_reward") != NULL)
    {
      g_autoptr(JsonObject) fake = json_object_new ();

      /* Reuse the MTurk money syntax check ("0.10"). */
      json_object_set_string_member (fake, "min_reward", query_get (req, "min_reward"));
      if (!kp_param_money (ctx, fake, "min_reward", TRUE, &min_reward, error))
        return FALSE;
    }
  if (q != NULL)
    {
      g_autofree char *folded = g_utf8_casefold (q, -1);

      words = g_strsplit_set (folded, " \t\n", -1);
    }

  if (!collect_groups (ctx, NULL, &rows, &groups, error))
    return FALSE;

  for (guint i = 0; i < groups->len; i++)
    {
      Group *group = g_ptr_array_index (groups, i);

      if (requester != NULL &&
          !g_str_equal (requester, kp_rows_get_text (rows, group->row, GRP_REQUESTER_ID)))
        continue;
      if (kp_rows_get_int (rows, group->row, GRP_REWARD) < min_reward)
        continue;
      if (standing != NULL && !g_str_equal (standing, standing_names[group->standing]))
        continue;
      if (!group_matches (rows, group->row, words))
        continue;
      g_ptr_array_add (selected, group);
    }

  spec.rows = rows;
  spec.column = sort_columns[sort_index];
  spec.descending = sort_descending[sort_index];
  if (order != NULL)
    spec.descending = g_str_equal (order, "desc");
  g_ptr_array_sort_with_data (selected, compare_groups, &spec);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "groups");
  json_builder_begin_array (builder);
  for (guint i = offset; i < selected->len && i < offset + limit; i++)
    add_group (builder, rows, g_ptr_array_index (selected, i));
  json_builder_end_array (builder);
  kp_json_add_int (builder, "total", selected->len);
  kp_json_add_int (builder, "offset", offset);
  kp_json_add_int (builder, "limit", limit);
  json_builder_set_member_name (builder, "next_offset");
  if (offset + limit < selected->len)
    json_builder_add_int_value (builder, offset + limit);
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);

  respond_builder (req->msg, SOUP_STATUS_OK, builder);
  return TRUE;
}

/* The worker's access to a HIT type: NOT_FOUND when there is no such type,
 * or it is hidden from them (DiscoverPreviewAndAccept, or its requester
 * blocked them). */
static gboolean
group_access (KpCtx        *ctx,
              const char   *hit_type_id,
              gboolean     *preview,
              Standing     *standing,
              char        **reason,
              GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) type = NULL;
  gboolean blocked = FALSE, visible = FALSE;

  type = kp_db_query (ctx->db, &local_error,
                      "SELECT requester_id, qualification_requirements FROM hit_types WHERE id = $1",
                      "s", hit_type_id);
  if (type == NULL)
    return fail_db (ctx, error, local_error);
  if (kp_rows_get_n_rows (type) == 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_NOT_FOUND, NULL,
                        _("There is no HIT group “%s”"), hit_type_id);

  if (!is_blocked (ctx, kp_rows_get_text (type, 0, 0), &blocked, error) ||
      !check_type_access (ctx, kp_rows_get_text (type, 0, 1),
                          &visible, preview, standing, reason, error))
    return FALSE;
  if (blocked || !visible)
    return kp_api_fail (ctx, error, KP_API_ERROR_NOT_FOUND, NULL,
                        _("There is no HIT group “%s”"), hit_type_id);

  return TRUE;
}

/* Looks up one group as the marketplace shows it: NOT_FOUND when hidden
 * from the worker; GONE when it exists but has nothing left for them. */
static gboolean
find_group (KpCtx        *ctx,
            const char   *hit_type_id,
            KpRows      **out_rows,
            Group       **out_group,
            GError      **error)
{
  g_autoptr(KpRows) rows = NULL;
  g_autoptr(GPtrArray) groups = NULL;
  g_autofree char *reason = NULL;
  gboolean preview = FALSE;
  Standing standing;

  if (!group_access (ctx, hit_type_id, &preview, &standing, &reason, error))
    return FALSE;

  if (!collect_groups (ctx, hit_type_id, &rows, &groups, error))
    return FALSE;
  if (groups->len == 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_GONE, NULL,
                        _("The HIT group “%s” has no HITs available to you any more"),
                        hit_type_id);

  *out_rows = g_steal_pointer (&rows);
  *out_group = g_ptr_array_steal_index (groups, 0);
  return TRUE;
}

static gboolean
handle_get_group (Request     *req,
                  const char  *hit_type_id,
                  GError     **error)
{
  g_autoptr(KpRows) rows = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  Group *group = NULL;

  if (!find_group (req->ctx, hit_type_id, &rows, &group, error))
    return FALSE;

  add_group (builder, rows, group);
  group_free (group);
  respond_builder (req->msg, SOUP_STATUS_OK, builder);
  return TRUE;
}

/* Where each worker's last accept from a group was, (created, HIT id):
 * a worker working through a group takes its HITs in order, so the next
 * one is found after that point without stepping over every HIT the worker
 * already did (which made each accept cost O(HITs done) and a worker's
 * thousandth accept take hundreds of milliseconds). Only a hint: HITs
 * before it that opened again (a returned or abandoned slot) are found
 * by the full search once nothing is left after it. Per process, bounded. */
typedef struct
{
  gint64 created;
  char  *hit_id;
} GroupCursor;

#define MAX_GROUP_CURSORS 100000

static GHashTable *group_cursors;  /* "worker\x1fgroup" -> GroupCursor */
G_LOCK_DEFINE_STATIC (group_cursors);

static void
group_cursor_free (gpointer data)
{
  GroupCursor *cursor = data;

  g_free (cursor->hit_id);
  g_free (cursor);
}

static gboolean
group_cursor_get (const char *worker_id,
                  const char *hit_type_id,
                  gint64     *created,
                  char      **hit_id)
{
  g_autofree char *key = g_strconcat (worker_id, "\x1f", hit_type_id, NULL);
  GroupCursor *cursor;
  gboolean found = FALSE;

  G_LOCK (group_cursors);
  cursor = group_cursors != NULL ? g_hash_table_lookup (group_cursors, key) : NULL;
  if (cursor != NULL)
    {
      *created = cursor->created;
      *hit_id = g_strdup (cursor->hit_id);
      found = TRUE;
    }
  G_UNLOCK (group_cursors);

  return found;
}

static void
group_cursor_set (const char *worker_id,
                  const char *hit_type_id,
                  gint64      created,
                  const char *hit_id)
{
  GroupCursor *cursor = g_new0 (GroupCursor, 1);

  cursor->created = created;
  cursor->hit_id = g_strdup (hit_id);

  G_LOCK (group_cursors);
  if (group_cursors == NULL)
    group_cursors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, group_cursor_free);
  if (g_hash_table_size (group_cursors) >= MAX_GROUP_CURSORS)
    g_hash_table_remove_all (group_cursors);
  g_hash_table_insert (group_cursors, g_strconcat (worker_id, "\x1f", hit_type_id, NULL), cursor);
  G_UNLOCK (group_cursors);
}

/* HITs of a group the worker could accept now, oldest first (after the
 * worker's cursor in the group, if any and if that finds one): id,
 * created. */
static KpRows *
group_candidates (KpCtx       *ctx,
                  const char  *hit_type_id,
                  GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *after_id = NULL;
  gint64 after_created = 0;
  KpRows *rows;

  /* "expiration + 0" keeps SQLite's planner on hits_type_queue, which
   * gives the HITs in order, so it stops after the first few instead of
   * sorting the whole group. */
#define CANDIDATES_SQL(AFTER) \
  "SELECT h.id, h.created FROM hits h" \
  " WHERE h.hit_type_id = $1 AND h.status = 'Assignable' AND h.expiration + 0 > $2" AFTER \
  "   AND h.max_assignments > (SELECT COUNT(*) FROM assignments a" \
  "                            WHERE a.hit_id = h.id AND a.status IN " ACTIVE_STATES ")" \
  /* The same states as ACTIVE_STATES, spelt as assignments_once's own \
   * WHERE so that the planner uses that (hit, worker) index rather than \
   * walking all of the worker's assignments for every candidate. */ \
  "   AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.hit_id = h.id" \
  "                   AND a.worker_id = $3 AND a.status NOT IN ('Returned', 'Abandoned'))" \
  " ORDER BY h.created, h.id LIMIT 20"

  if (group_cursor_get (ctx->worker_id, hit_type_id, &after_created, &after_id))
    {
      rows = kp_db_query (ctx->db, &local_error,
                          CANDIDATES_SQL ("   AND (h.created, h.id) > ($4, $5)"),
                          "sisis", hit_type_id, ctx->now, ctx->worker_id,
                          after_created, after_id);
      if (rows == NULL)
        {
          fail_db (ctx, error, local_error);
          return NULL;
        }
      if (kp_rows_get_n_rows (rows) > 0)
        return rows;
      kp_rows_free (rows);
    }

  rows = kp_db_query (ctx->db, &local_error, CANDIDATES_SQL (""),
                      "sis", hit_type_id, ctx->now, ctx->worker_id);
#undef CANDIDATES_SQL
  if (rows == NULL)
    fail_db (ctx, error, local_error);

  return rows;
}

static gboolean
handle_preview_group (Request     *req,
                      const char  *hit_type_id,
                      GError     **error)
{
  KpCtx *ctx = req->ctx;
  g_autoptr(KpRows) candidates = NULL;
  g_autoptr(KpRows) hit = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *reason = NULL;
  gboolean preview = FALSE;
  Standing standing;

  if (!group_access (ctx, hit_type_id, &preview, &standing, &reason, error))
    return FALSE;
  if (!preview)
    return kp_api_fail (ctx, error, KP_API_ERROR_FORBIDDEN, NULL,
                        _("You are not qualified to preview HITs of this group"));

  candidates = group_candidates (ctx, hit_type_id, error);
  if (candidates == NULL)
    return FALSE;
  if (kp_rows_get_n_rows (candidates) == 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_GONE, NULL,
                        _("The HIT group “%s” has no HITs available to you any more"),
                        hit_type_id);

  hit = load_hit (ctx, kp_rows_get_text (candidates, 0, 0), error);
  if (hit == NULL)
    return FALSE;

  add_hit (builder, hit, 0, TRUE);
  respond_builder (req->msg, SOUP_STATUS_OK, builder);
  return TRUE;
}

/* --- /hits --- */

static gboolean
handle_get_hit (Request     *req,
                const char  *hit_id,
                GError     **error)
{
  KpCtx *ctx = req->ctx;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) hit = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *reason = NULL;
  gint64 mine = 0;

  hit = load_hit (ctx, hit_id, error);
  if (hit == NULL)
    return FALSE;
  if (kp_rows_get_n_rows (hit) == 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_NOT_FOUND, NULL,
                        _("There is no HIT “%s”"), hit_id);

  /* A HIT the worker has worked on stays visible to them. */
  if (!kp_db_query_int (ctx->db, &mine, NULL, &local_error,
                        "SELECT COUNT(*) FROM assignments WHERE hit_id = $1 AND worker_id = $2",
                        "ss", hit_id, ctx->worker_id))
    return fail_db (ctx, error, local_error);

  if (mine == 0)
    {
      gboolean blocked = FALSE, visible = FALSE, preview = FALSE;
      Standing standing;

      if (!is_blocked (ctx, kp_rows_get_text (hit, 0, HIT_REQUESTER_ID), &blocked, error) ||
          !check_type_access (ctx, kp_rows_get_text (hit, 0, HIT_REQUIREMENTS),
                              &visible, &preview, &standing, &reason, error))
        return FALSE;
      if (blocked || !visible)
        return kp_api_fail (ctx, error, KP_API_ERROR_NOT_FOUND, NULL,
                            _("There is no HIT “%s”"), hit_id);
      if (!g_str_equal (kp_rows_get_text (hit, 0, HIT_STATUS), "Assignable") ||
          kp_rows_get_int (hit, 0, HIT_EXPIRATION) <= ctx->now)
        return kp_api_fail (ctx, error, KP_API_ERROR_GONE, NULL,
                            _("The HIT “%s” is no longer available"), hit_id);
      if (!preview)
        return kp_api_fail (ctx, error, KP_API_ERROR_FORBIDDEN, NULL,
                            _("You are not qualified to preview this HIT"));
    }

  add_hit (builder, hit, 0, TRUE);
  respond_builder (req->msg, SOUP_STATUS_OK, builder);
  return TRUE;
}

static gboolean
accept_in_savepoint (KpCtx       *ctx,
                     const char  *hit_id,
                     char       **assignment_id,
                     GError     **error)
{
  g_autoptr(GError) local_error = NULL;

  if (!kp_db_savepoint (ctx->db, "kp_wapi_accept", &local_error))
    return fail_db (ctx, error, local_error);

  if (!kp_hits_accept (ctx, hit_id, ctx->worker_id, assignment_id, error))
    {
      kp_db_rollback_to (ctx->db, "kp_wapi_accept");
      kp_db_release (ctx->db, "kp_wapi_accept", NULL);
      return FALSE;
    }

  if (!kp_db_release (ctx->db, "kp_wapi_accept", NULL))
    {
      /* The database went away after the accept: it is not one. */
      g_clear_pointer (assignment_id, g_free);
      return kp_api_fail (ctx, error, KP_API_ERROR_SERVICE, NULL,
                          _("The server could not complete the request; nothing was changed"));
    }
  return TRUE;
}

static gboolean
handle_accept_hit (Request     *req,
                   const char  *hit_id,
                   GError     **error)
{
  KpCtx *ctx = req->ctx;
  g_autoptr(KpRows) hit = NULL;
  g_autofree char *assignment_id = NULL;
  gboolean visible = FALSE;

  if (!read_empty_body (req, error))
    return FALSE;

  /* A HIT hidden from the worker (DiscoverPreviewAndAccept) does not exist
   * for them; everything else is kp_hits_accept()'s to judge. */
  hit = load_hit (ctx, hit_id, error);
  if (hit == NULL)
    return FALSE;
  if (kp_rows_get_n_rows (hit) > 0 &&
      !kp_quals_worker_may (ctx, ctx->worker_id, kp_rows_get_text (hit, 0, HIT_REQUIREMENTS),
                            KP_QUALS_ACTION_DISCOVER, &visible, NULL, error))
    return FALSE;
  if (kp_rows_get_n_rows (hit) == 0 || !visible)
    return kp_api_fail (ctx, error, KP_API_ERROR_NOT_FOUND, NULL,
                        _("There is no HIT “%s”"), hit_id);

  if (!kp_hits_accept (ctx, hit_id, ctx->worker_id, &assignment_id, error))
    return FALSE;

  return respond_assignment (ctx, req->msg, SOUP_STATUS_OK, assignment_id, error);
}

/* Accepts the next HIT of the group the worker can have: TRUE with
 * *assignment_id set, TRUE with NULL when none is left, FALSE on an error
 * that ends the request. */
static gboolean
accept_next_in_group (KpCtx       *ctx,
                      const char  *hit_type_id,
                      char       **assignment_id,
                      GError     **error)
{
  g_autoptr(KpRows) candidates = NULL;

  *assignment_id = NULL;

  candidates = group_candidates (ctx, hit_type_id, error);
  if (candidates == NULL)
    return FALSE;

  for (guint r = 0; r < kp_rows_get_n_rows (candidates); r++)
    {
      g_autoptr(GError) local_error = NULL;

      if (accept_in_savepoint (ctx, kp_rows_get_text (candidates, r, 0), assignment_id,
                               &local_error))
        {
          group_cursor_set (ctx->worker_id, hit_type_id, kp_rows_get_int (candidates, r, 1),
                            kp_rows_get_text (candidates, r, 0));
          return TRUE;
        }
      /* Someone else took it, or it just ended: try the next one. */
      if (!g_error_matches (local_error, KP_API_ERROR, KP_API_ERROR_CONFLICT) &&
          !g_error_matches (local_error, KP_API_ERROR, KP_API_ERROR_GONE))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
    }

  return TRUE;
}

/* POST groups/ID/accept: the next HIT of the group. With ?count=N, up to N
 * of them in one request (one commit instead of N): the answer is then
 * {"assignments": [...]}, as many as could be accepted, 410 if none. */
static gboolean
handle_accept_group (Request     *req,
                     const char  *hit_type_id,
                     GError     **error)
{
  KpCtx *ctx = req->ctx;
  g_autoptr(GPtrArray) accepted = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(JsonBuilder) builder = NULL;
  g_autofree char *reason = NULL;
  gboolean preview = FALSE;
  gboolean many = query_get (req, "count") != NULL;
  gint64 count = 1;
  Standing standing;

  if (!query_check_names (req, "count", error) ||
      !query_int (req, "count", 1, MAX_GROUP_ACCEPTS, &count, error) ||
      !read_empty_body (req, error))
    return FALSE;

  /* Only the next few HITs are looked at, not the whole group: accepting
   * from a group of 100,000 HITs costs what accepting from a small one
   * does. */
  if (!group_access (ctx, hit_type_id, &preview, &standing, &reason, error))
    return FALSE;
  if (standing != STANDING_QUALIFIED)
    return kp_api_fail (ctx, error, KP_API_ERROR_FORBIDDEN, NULL, "%s",
                        reason != NULL ? reason : _("You are not qualified to work on HITs of this group"));

  while (accepted->len < count)
    {
      char *assignment_id = NULL;

      if (!accept_next_in_group (ctx, hit_type_id, &assignment_id, error))
        {
          /* What was accepted before stays: answer with it. */
          if (accepted->len == 0)
            return FALSE;
          g_clear_error (error);
          break;
        }
      if (assignment_id == NULL)
        break;
      g_ptr_array_add (accepted, assignment_id);
    }

  if (accepted->len == 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_GONE, NULL,
                        _("The HIT group “%s” has no HITs available to you any more"),
                        hit_type_id);

  if (!many)
    return respond_assignment (ctx, req->msg, SOUP_STATUS_OK, g_ptr_array_index (accepted, 0),
                               error);

  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "assignments");
  json_builder_begin_array (builder);
  for (guint i = 0; i < accepted->len; i++)
    if (!add_assignment_detail (ctx, builder, g_ptr_array_index (accepted, i), error))
      return FALSE;
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  respond_builder (req->msg, SOUP_STATUS_OK, builder);
  return TRUE;
}

/* --- /assignments --- */

static const char * const assignment_states[] = {
  "Accepted", "Submitted", "Approved", "Rejected", "Returned", "Abandoned", NULL
};

static gboolean
handle_list_assignments (Request     *req,
                         const char  *id,
                         GError     **error)
{
  KpCtx *ctx = req->ctx;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *states = NULL;
  const char *status = query_get (req, "status");
  const char *hit_id = query_get (req, "hit_id");
  gint64 limit, offset, total = 0;

  if (!query_check_names (req, "status hit_id limit offset", error) ||
      !query_paging (req, &limit, &offset, error))
    return FALSE;

  if (status != NULL)
    {
      g_auto(GStrv) parts = g_strsplit (status, ",", -1);

      for (guint i = 0; parts[i] != NULL; i++)
        if (!g_strv_contains (assignment_states, parts[i]))
          return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL,
                              _("status must be a comma-separated list of Accepted, Submitted, "
                                "Approved, Rejected, Returned, Abandoned"));
      states = g_strconcat (",", status, ",", NULL);
    }
  if (hit_id != NULL && !is_entity_id (hit_id))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL, _("hit_id is not a HIT id"));

#define ASSIGNMENT_FILTER \
  " WHERE a.worker_id = $1" \
  "   AND ($2 = '' OR $2 LIKE ('%,' || a.status || ',%'))" \
  "   AND ($3 = '' OR a.hit_id = $3)"

  if (!kp_db_query_int (ctx->db, &total, NULL, &local_error,
                        "SELECT COUNT(*) FROM assignments a" ASSIGNMENT_FILTER,
                        "sss", ctx->worker_id, states ? states : "", hit_id ? hit_id : ""))
    return fail_db (ctx, error, local_error);

  rows = kp_db_query (ctx->db, &local_error,
                      ASSIGNMENT_SELECT ASSIGNMENT_FILTER
                      " ORDER BY a.accept_time DESC, a.id LIMIT $4 OFFSET $5",
                      "sssii", ctx->worker_id, states ? states : "", hit_id ? hit_id : "",
                      limit, offset);
  if (rows == NULL)
    return fail_db (ctx, error, local_error);

#undef ASSIGNMENT_FILTER

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "assignments");
  json_builder_begin_array (builder);
  for (guint r = 0; r < kp_rows_get_n_rows (rows); r++)
    {
      json_builder_begin_object (builder);
      add_assignment_members (builder, rows, r);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  kp_json_add_int (builder, "total", total);
  kp_json_add_int (builder, "offset", offset);
  kp_json_add_int (builder, "limit", limit);
  json_builder_set_member_name (builder, "next_offset");
  if (offset + limit < total)
    json_builder_add_int_value (builder, offset + limit);
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);

  respond_builder (req->msg, SOUP_STATUS_OK, builder);
  return TRUE;
}

static gboolean
handle_return (Request     *req,
               const char  *assignment_id,
               GError     **error)
{
  g_autoptr(KpRows) rows = NULL;

  if (!read_empty_body (req, error))
    return FALSE;

  /* Someone else's assignment does not exist for this worker. */
  rows = load_assignment (req->ctx, assignment_id, error);
  if (rows == NULL)
    return FALSE;

  if (!kp_hits_return (req->ctx, assignment_id, req->ctx->worker_id, error))
    return FALSE;

  return respond_assignment (req->ctx, req->msg, SOUP_STATUS_OK, assignment_id, error);
}

/* Submits once per (worker, submission_id). On success *response is the
 * JSON text of the answer, stored with the submission so that a retry gets
 * exactly the same text. Failures are not recorded: a retry after one is
 * judged afresh. */
/* A HIT's question never changes, so its parse is kept: submissions of a
 * busy batch parse each question once, not once per answer. */
#define QUESTION_CACHE_SIZE 4096

static gboolean
get_question_info (KpCtx                 *ctx,
                   const char            *hit_id,
                   const KpQuestionInfo **info,
                   GError               **error)
{
  static GHashTable *cache;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  KpQuestionInfo *parsed;

  if (cache == NULL)
    cache = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                   (GDestroyNotify)kp_question_info_free);

  *info = g_hash_table_lookup (cache, hit_id);
  if (*info != NULL)
    return TRUE;

  rows = kp_db_query (ctx->db, &local_error, "SELECT question FROM hits WHERE id = $1",
                      "s", hit_id);
  if (rows == NULL)
    return fail_db (ctx, error, local_error);
  if (kp_rows_get_n_rows (rows) == 0)
    return TRUE;

  /* A question that no longer parses (it did when it was created) checks
   * nothing rather than refusing every answer. */
  parsed = kp_question_parse (kp_rows_get_text (rows, 0, 0), -1, &local_error);
  if (parsed == NULL)
    {
      g_warning ("Question of HIT %s does not parse: %s", hit_id, local_error->message);
      return TRUE;
    }

  if (g_hash_table_size (cache) >= QUESTION_CACHE_SIZE)
    g_hash_table_remove_all (cache);
  g_hash_table_insert (cache, g_strdup (hit_id), parsed);
  *info = parsed;

  return TRUE;
}

static gboolean
submit_one (KpCtx       *ctx,
            const char  *assignment_id,
            const char  *submission_id,
            JsonArray   *answers,
            char       **response,
            GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) previous = NULL;
  g_autoptr(KpRows) assignment = NULL;
  const KpQuestionInfo *info = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *answer_xml = NULL;
  g_autofree char *text = NULL;
  const char *status;

  if (!is_submission_id (submission_id))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL,
                        _("submission_id must be 8 to 64 letters, digits, “-”, “_” or “.” "
                          "(a UUID made by the client)"));

  previous = kp_db_query (ctx->db, &local_error,
                          "SELECT assignment_id, response FROM submissions"
                          " WHERE worker_id = $1 AND submission_id = $2",
                          "ss", ctx->worker_id, submission_id);
  if (previous == NULL)
    return fail_db (ctx, error, local_error);

  if (kp_rows_get_n_rows (previous) > 0)
    {
      if (!g_str_equal (kp_rows_get_text (previous, 0, 0), assignment_id))
        return kp_api_fail (ctx, error, KP_API_ERROR_CONFLICT, NULL,
                            _("The submission id “%s” was already used for another assignment"),
                            submission_id);

      *response = g_strdup (kp_rows_get_text (previous, 0, 1));
      return TRUE;
    }

  assignment = load_assignment (ctx, assignment_id, error);
  if (assignment == NULL)
    return FALSE;

  /* Say that the assignment cannot take answers any more before judging
   * the answers: that is what a client retrying from its outbox needs. */
  status = kp_rows_get_text (assignment, 0, ASG_STATUS);
  if (g_str_equal (status, "Abandoned"))
    return kp_api_fail (ctx, error, KP_API_ERROR_GONE, NULL,
                        _("The time allowed for assignment “%s” ran out"), assignment_id);
  if (!g_str_equal (status, "Accepted"))
    return kp_api_fail (ctx, error, KP_API_ERROR_CONFLICT, NULL,
                        _("Assignment “%s” is %s; only an accepted assignment can be submitted"),
                        assignment_id, status);

  if (answers == NULL)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL,
                        _("answers must be a JSON array of answers"));

  if (!get_question_info (ctx, kp_rows_get_text (assignment, 0, ASG_HIT_ID), &info, error))
    return FALSE;

  answer_xml = kp_question_answers_to_xml (info, answers, &local_error);
  if (answer_xml == NULL)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL, "%s", local_error->message);

  if (!kp_hits_submit (ctx, assignment_id, ctx->worker_id, answer_xml, error))
    return FALSE;

  g_clear_pointer (&assignment, kp_rows_free);
  assignment = load_assignment (ctx, assignment_id, error);
  if (assignment == NULL)
    return FALSE;

  json_builder_begin_object (builder);
  kp_json_add_string (builder, "submission_id", submission_id);
  add_assignment_members (builder, assignment, 0);
  json_builder_end_object (builder);
  text = builder_to_text (builder);

  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "INSERT INTO submissions (worker_id, submission_id, assignment_id, response, created)"
                   " VALUES ($1, $2, $3, $4, $5)",
                   "ssssi", ctx->worker_id, submission_id, assignment_id, text, ctx->now))
    return fail_db (ctx, error, local_error);

  *response = g_steal_pointer (&text);
  return TRUE;
}

static JsonArray *
get_answers (JsonObject *object)
{
  JsonNode *node = json_object_get_member (object, "answers");

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;

  return json_node_get_array (node);
}

static gboolean
handle_submit (Request     *req,
               const char  *assignment_id,
               GError     **error)
{
  KpCtx *ctx = req->ctx;
  g_autoptr(JsonNode) body = NULL;
  g_autofree char *response = NULL;
  JsonObject *object;
  const char *submission_id = NULL;

  if (!read_body (req, &body, error))
    return FALSE;
  object = json_node_get_object (body);

  if (!kp_param_check_members (ctx, object, NULL, "submission_id answers", error) ||
      !kp_param_string (ctx, object, "submission_id", TRUE, 1, 64, &submission_id, error))
    return FALSE;

  if (!submit_one (ctx, assignment_id, submission_id, get_answers (object), &response, error))
    return FALSE;

  respond_text (req->msg, SOUP_STATUS_OK, response);
  return TRUE;
}

/* POST /sync: each submission in its own savepoint, so that one failing
 * leaves the others standing; one answer after one commit. */
static gboolean
handle_sync (Request     *req,
             const char  *id,
             GError     **error)
{
  KpCtx *ctx = req->ctx;
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  JsonArray *items = NULL;
  JsonObject *object;
  guint n_ok = 0, n_failed = 0;

  if (!read_body (req, &body, error))
    return FALSE;
  object = json_node_get_object (body);

  if (!kp_param_check_members (ctx, object, NULL, "submissions", error) ||
      !kp_param_array (ctx, object, "submissions", TRUE, 0, MAX_SYNC_ITEMS, &items, error))
    return FALSE;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "results");
  json_builder_begin_array (builder);

  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      JsonNode *node = json_array_get_element (items, i);
      g_autoptr(GError) item_error = NULL;
      g_autofree char *where = g_strdup_printf ("submissions[%u]", i);
      g_autofree char *savepoint = g_strdup_printf ("kp_wapi_sync_%u", i);
      g_autofree char *response = NULL;
      const char *submission_id = NULL;
      const char *assignment_id = NULL;
      JsonObject *item = NULL;
      gboolean ok = FALSE;

      if (!kp_db_savepoint (ctx->db, savepoint, &item_error))
        return fail_db (ctx, error, g_steal_pointer (&item_error));

      if (!JSON_NODE_HOLDS_OBJECT (node))
        kp_api_fail (ctx, &item_error, KP_API_ERROR_REQUEST, NULL,
                     _("%s must be an object"), where);
      else
        {
          item = json_node_get_object (node);
          if (kp_param_check_members (ctx, item, where, "submission_id assignment_id answers", &item_error) &&
              kp_param_string (ctx, item, "submission_id", TRUE, 1, 64, &submission_id, &item_error) &&
              kp_param_string (ctx, item, "assignment_id", TRUE, 1, 64, &assignment_id, &item_error))
            {
              if (!is_entity_id (assignment_id))
                kp_api_fail (ctx, &item_error, KP_API_ERROR_NOT_FOUND, NULL,
                             _("You have no assignment “%s”"), assignment_id);
              else
                ok = submit_one (ctx, assignment_id, submission_id, get_answers (item),
                                 &response, &item_error);
            }
        }

      if (ok)
        {
          if (!kp_db_release (ctx->db, savepoint, &item_error))
            return fail_db (ctx, error, g_steal_pointer (&item_error));
        }
      else
        {
          kp_db_rollback_to (ctx->db, savepoint);
          kp_db_release (ctx->db, savepoint, NULL);
        }

      json_builder_begin_object (builder);
      if (submission_id != NULL)
        kp_json_add_string (builder, "submission_id", submission_id);
      else
        add_nullable_string (builder, "submission_id", NULL);
      if (ok)
        {
          kp_json_add_int (builder, "status", 200);
          kp_json_add_raw (builder, "response", response);
          n_ok++;
        }
      else
        {
          kp_json_add_int (builder, "status", error_status (item_error));
          kp_json_add_string (builder, "error", error_name (item_error));
          kp_json_add_string (builder, "message",
                              error_status (item_error) == 500
                              ? _("The server could not complete the request; nothing was changed")
                              : item_error->message);
          n_failed++;
        }
      json_builder_end_object (builder);
    }

  json_builder_end_array (builder);
  kp_json_add_int (builder, "succeeded", n_ok);
  kp_json_add_int (builder, "failed", n_failed);
  json_builder_end_object (builder);

  respond_builder (req->msg, SOUP_STATUS_OK, builder);
  return TRUE;
}

/* --- /earnings, /messages, /me --- */

static gboolean
handle_earnings (Request     *req,
                 const char  *id,
                 GError     **error)
{
  KpCtx *ctx = req->ctx;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) totals = NULL;
  g_autoptr(KpRows) items = NULL;
  g_autoptr(KpRows) bonuses = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  static const char * const kinds[] = { "Submitted", "Approved", "Rejected" };
  static const char * const names[] = { "pending", "approved", "rejected" };
  gint64 counts[3] = { 0, }, amounts[3] = { 0, };
  gint64 bonus_total = 0, n_items = 0, paid = 0;
  gint64 limit, offset;

  if (!query_check_names (req, "limit offset", error) ||
      !query_paging (req, &limit, &offset, error))
    return FALSE;

  totals = kp_db_query (ctx->db, &local_error,
                        "SELECT a.status, COUNT(*), SUM(t.reward_cents)"
                        " FROM assignments a JOIN hits h ON h.id = a.hit_id"
                        " JOIN hit_types t ON t.id = h.hit_type_id"
                        " WHERE a.worker_id = $1 AND a.status IN ('Submitted', 'Approved', 'Rejected')"
                        " GROUP BY a.status",
                        "s", ctx->worker_id);
  if (totals == NULL)
    return fail_db (ctx, error, local_error);

  for (guint r = 0; r < kp_rows_get_n_rows (totals); r++)
    for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
      if (g_str_equal (kp_rows_get_text (totals, r, 0), kinds[k]))
        {
          counts[k] = kp_rows_get_int (totals, r, 1);
          amounts[k] = kp_rows_get_int (totals, r, 2);
        }
  n_items = counts[0] + counts[1] + counts[2];

  items = kp_db_query (ctx->db, &local_error,
                       ASSIGNMENT_SELECT
                       " WHERE a.worker_id = $1 AND a.status IN ('Submitted', 'Approved', 'Rejected')"
                       " ORDER BY COALESCE(a.approval_time, a.rejection_time, a.submit_time) DESC, a.id"
                       " LIMIT $2 OFFSET $3",
                       "sii", ctx->worker_id, limit, offset);
  if (items == NULL)
    return fail_db (ctx, error, local_error);

  bonuses = kp_db_query (ctx->db, &local_error,
                         "SELECT id, requester_id, assignment_id, amount_cents, reason, created"
                         " FROM bonuses WHERE worker_id = $1 ORDER BY created DESC, id",
                         "s", ctx->worker_id);
  if (bonuses == NULL)
    return fail_db (ctx, error, local_error);

  /* What requesters were charged for this worker's rewards and bonuses:
   * the ledger's side of the same money. */
  if (!kp_db_query_int (ctx->db, &paid, NULL, &local_error,
                        "SELECT COALESCE(SUM(amount_cents), 0) FROM ledger"
                        " WHERE worker_id = $1 AND kind IN ('reward', 'bonus')",
                        "s", ctx->worker_id))
    return fail_db (ctx, error, local_error);

  json_builder_begin_object (builder);
  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      json_builder_set_member_name (builder, names[k]);
      json_builder_begin_object (builder);
      kp_json_add_int (builder, "count", counts[k]);
      kp_json_add_money (builder, "amount", amounts[k]);
      json_builder_end_object (builder);
    }

  for (guint r = 0; r < kp_rows_get_n_rows (bonuses); r++)
    bonus_total += kp_rows_get_int (bonuses, r, 3);
  json_builder_set_member_name (builder, "bonuses");
  json_builder_begin_object (builder);
  kp_json_add_int (builder, "count", kp_rows_get_n_rows (bonuses));
  kp_json_add_money (builder, "amount", bonus_total);
  json_builder_set_member_name (builder, "items");
  json_builder_begin_array (builder);
  for (guint r = 0; r < kp_rows_get_n_rows (bonuses); r++)
    {
      json_builder_begin_object (builder);
      kp_json_add_string (builder, "bonus_id", kp_rows_get_text (bonuses, r, 0));
      kp_json_add_string (builder, "requester_id", kp_rows_get_text (bonuses, r, 1));
      kp_json_add_string (builder, "assignment_id", kp_rows_get_text (bonuses, r, 2));
      kp_json_add_money (builder, "amount", kp_rows_get_int (bonuses, r, 3));
      kp_json_add_string (builder, "reason", kp_rows_get_text (bonuses, r, 4));
      kp_json_add_timestamp (builder, "created", kp_rows_get_int (bonuses, r, 5));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  kp_json_add_money (builder, "total_earned", amounts[1] + bonus_total);
  kp_json_add_money (builder, "paid", -paid);

  json_builder_set_member_name (builder, "items");
  json_builder_begin_array (builder);
  for (guint r = 0; r < kp_rows_get_n_rows (items); r++)
    {
      json_builder_begin_object (builder);
      add_assignment_members (builder, items, r);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  kp_json_add_int (builder, "total", n_items);
  kp_json_add_int (builder, "offset", offset);
  kp_json_add_int (builder, "limit", limit);
  json_builder_set_member_name (builder, "next_offset");
  if (offset + limit < n_items)
    json_builder_add_int_value (builder, offset + limit);
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);

  respond_builder (req->msg, SOUP_STATUS_OK, builder);
  return TRUE;
}

static gboolean
handle_messages (Request     *req,
                 const char  *id,
                 GError     **error)
{
  KpCtx *ctx = req->ctx;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  gint64 limit, offset, since = 0, total = 0;

  if (!query_check_names (req, "since limit offset", error) ||
      !query_paging (req, &limit, &offset, error) ||
      !query_int (req, "since", 0, G_MAXINT64, &since, error))
    return FALSE;

  if (!kp_db_query_int (ctx->db, &total, NULL, &local_error,
                        "SELECT COUNT(*) FROM worker_messages WHERE worker_id = $1 AND created >= $2",
                        "si", ctx->worker_id, since))
    return fail_db (ctx, error, local_error);

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT m.id, m.requester_id, r.name, m.subject, m.message_text, m.created"
                      " FROM worker_messages m JOIN requesters r ON r.id = m.requester_id"
                      " WHERE m.worker_id = $1 AND m.created >= $2"
                      " ORDER BY m.created DESC, m.id LIMIT $3 OFFSET $4",
                      "siii", ctx->worker_id, since, limit, offset);
  if (rows == NULL)
    return fail_db (ctx, error, local_error);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "messages");
  json_builder_begin_array (builder);
  for (guint r = 0; r < kp_rows_get_n_rows (rows); r++)
    {
      json_builder_begin_object (builder);
      kp_json_add_string (builder, "message_id", kp_rows_get_text (rows, r, 0));
      kp_json_add_string (builder, "requester_id", kp_rows_get_text (rows, r, 1));
      add_nullable_string (builder, "requester_name", kp_rows_get_text (rows, r, 2));
      kp_json_add_string (builder, "subject", kp_rows_get_text (rows, r, 3));
      kp_json_add_string (builder, "text", kp_rows_get_text (rows, r, 4));
      kp_json_add_timestamp (builder, "created", kp_rows_get_int (rows, r, 5));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  kp_json_add_int (builder, "total", total);
  kp_json_add_int (builder, "offset", offset);
  kp_json_add_int (builder, "limit", limit);
  json_builder_set_member_name (builder, "next_offset");
  if (offset + limit < total)
    json_builder_add_int_value (builder, offset + limit);
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);

  respond_builder (req->msg, SOUP_STATUS_OK, builder);
  return TRUE;
}

static gboolean
handle_me (Request     *req,
           const char  *id,
           GError     **error)
{
  KpCtx *ctx = req->ctx;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT id, name, locale_country, locale_subdivision, is_master, created"
                      " FROM workers WHERE id = $1",
                      "s", ctx->worker_id);
  if (rows == NULL)
    return fail_db (ctx, error, local_error);
  if (kp_rows_get_n_rows (rows) == 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_UNAUTHORIZED, NULL,
                        _("The worker account no longer exists"));

  json_builder_begin_object (builder);
  kp_json_add_string (builder, "worker_id", kp_rows_get_text (rows, 0, 0));
  add_nullable_string (builder, "name", kp_rows_get_text (rows, 0, 1));
  add_nullable_string (builder, "locale_country", kp_rows_get_text (rows, 0, 2));
  add_nullable_string (builder, "locale_subdivision", kp_rows_get_text (rows, 0, 3));
  kp_json_add_bool (builder, "is_master", kp_rows_get_int (rows, 0, 4) != 0);
  kp_json_add_timestamp (builder, "created", kp_rows_get_int (rows, 0, 5));
  kp_json_add_timestamp (builder, "server_time", ctx->now);
  json_builder_end_object (builder);

  respond_builder (req->msg, SOUP_STATUS_OK, builder);
  return TRUE;
}

/* --- qualifications --- */

static gboolean
handle_list_qualifications (Request     *req,
                            const char  *id,
                            GError     **error)
{
  KpCtx *ctx = req->ctx;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  g_autoptr(KpRows) requests = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  if (!query_check_names (req, "", error))
    return FALSE;

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT w.qualification_type_id, q.name, q.description, q.requester_id,"
                      "  w.integer_value, w.locale_country, w.locale_subdivision, w.status, w.grant_time"
                      " FROM worker_qualifications w"
                      " JOIN qualification_types q ON q.id = w.qualification_type_id"
                      " WHERE w.worker_id = $1 AND q.deleted = 0"
                      " ORDER BY w.grant_time DESC, w.qualification_type_id",
                      "s", ctx->worker_id);
  if (rows == NULL)
    return fail_db (ctx, error, local_error);

  requests = kp_db_query (ctx->db, &local_error,
                          "SELECT r.id, r.qualification_type_id, q.name, r.status, r.reason,"
                          "  r.submit_time, r.decision_time"
                          " FROM qualification_requests r"
                          " JOIN qualification_types q ON q.id = r.qualification_type_id"
                          " WHERE r.worker_id = $1 AND q.deleted = 0"
                          " ORDER BY r.submit_time DESC, r.id",
                          "s", ctx->worker_id);
  if (requests == NULL)
    return fail_db (ctx, error, local_error);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "qualifications");
  json_builder_begin_array (builder);
  for (guint r = 0; r < kp_rows_get_n_rows (rows); r++)
    {
      json_builder_begin_object (builder);
      kp_json_add_string (builder, "qualification_type_id", kp_rows_get_text (rows, r, 0));
      kp_json_add_string (builder, "name", kp_rows_get_text (rows, r, 1));
      kp_json_add_string (builder, "description", kp_rows_get_text (rows, r, 2));
      add_nullable_string (builder, "requester_id", kp_rows_get_text (rows, r, 3));
      add_nullable_time (builder, "value", rows, r, 4);
      add_nullable_string (builder, "locale_country", kp_rows_get_text (rows, r, 5));
      add_nullable_string (builder, "locale_subdivision", kp_rows_get_text (rows, r, 6));
      kp_json_add_string (builder, "status", kp_rows_get_text (rows, r, 7));
      kp_json_add_timestamp (builder, "grant_time", kp_rows_get_int (rows, r, 8));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "requests");
  json_builder_begin_array (builder);
  for (guint r = 0; r < kp_rows_get_n_rows (requests); r++)
    {
      json_builder_begin_object (builder);
      kp_json_add_string (builder, "request_id", kp_rows_get_text (requests, r, 0));
      kp_json_add_string (builder, "qualification_type_id", kp_rows_get_text (requests, r, 1));
      kp_json_add_string (builder, "name", kp_rows_get_text (requests, r, 2));
      kp_json_add_string (builder, "status", kp_rows_get_text (requests, r, 3));
      add_nullable_string (builder, "reason", kp_rows_get_text (requests, r, 4));
      kp_json_add_timestamp (builder, "submit_time", kp_rows_get_int (requests, r, 5));
      add_nullable_time (builder, "decision_time", requests, r, 6);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  respond_builder (req->msg, SOUP_STATUS_OK, builder);
  return TRUE;
}

#define QUAL_TYPE_SELECT \
  "SELECT id, requester_id, name, description, keywords, status, retry_delay, test," \
  "  test_duration, auto_granted, auto_granted_value," \
  "  CASE WHEN answer_key IS NULL THEN 0 ELSE 1 END, created" \
  " FROM qualification_types WHERE id = $1 AND deleted = 0"

static gboolean
handle_get_qualification_type (Request     *req,
                               const char  *type_id,
                               GError     **error)
{
  KpCtx *ctx = req->ctx;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  g_autoptr(KpRows) mine = NULL;
  g_autoptr(KpRows) pending = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  rows = kp_db_query (ctx->db, &local_error, QUAL_TYPE_SELECT, "s", type_id);
  if (rows == NULL)
    return fail_db (ctx, error, local_error);
  if (kp_rows_get_n_rows (rows) == 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_NOT_FOUND, NULL,
                        _("There is no qualification type “%s”"), type_id);

  mine = kp_db_query (ctx->db, &local_error,
                      "SELECT status, integer_value, locale_country, locale_subdivision, grant_time"
                      " FROM worker_qualifications WHERE qualification_type_id = $1 AND worker_id = $2",
                      "ss", type_id, ctx->worker_id);
  if (mine == NULL)
    return fail_db (ctx, error, local_error);

  pending = kp_db_query (ctx->db, &local_error,
                         "SELECT id, status, submit_time FROM qualification_requests"
                         " WHERE qualification_type_id = $1 AND worker_id = $2"
                         " ORDER BY submit_time DESC, id LIMIT 1",
                         "ss", type_id, ctx->worker_id);
  if (pending == NULL)
    return fail_db (ctx, error, local_error);

  json_builder_begin_object (builder);
  kp_json_add_string (builder, "qualification_type_id", kp_rows_get_text (rows, 0, 0));
  add_nullable_string (builder, "requester_id", kp_rows_get_text (rows, 0, 1));
  kp_json_add_string (builder, "name", kp_rows_get_text (rows, 0, 2));
  kp_json_add_string (builder, "description", kp_rows_get_text (rows, 0, 3));
  add_nullable_string (builder, "keywords", kp_rows_get_text (rows, 0, 4));
  kp_json_add_string (builder, "status", kp_rows_get_text (rows, 0, 5));
  add_nullable_time (builder, "retry_delay", rows, 0, 6);
  add_nullable_string (builder, "test", kp_rows_get_text (rows, 0, 7));
  add_nullable_time (builder, "test_duration", rows, 0, 8);
  kp_json_add_bool (builder, "auto_granted", kp_rows_get_int (rows, 0, 9) != 0);
  kp_json_add_bool (builder, "is_graded_automatically", kp_rows_get_int (rows, 0, 11) != 0);
  kp_json_add_bool (builder, "requestable",
                    kp_rows_get_text (rows, 0, 1) != NULL &&
                    g_str_equal (kp_rows_get_text (rows, 0, 5), "Active"));
  kp_json_add_timestamp (builder, "created", kp_rows_get_int (rows, 0, 12));

  json_builder_set_member_name (builder, "mine");
  if (kp_rows_get_n_rows (mine) > 0)
    {
      json_builder_begin_object (builder);
      kp_json_add_string (builder, "status", kp_rows_get_text (mine, 0, 0));
      add_nullable_time (builder, "value", mine, 0, 1);
      add_nullable_string (builder, "locale_country", kp_rows_get_text (mine, 0, 2));
      add_nullable_string (builder, "locale_subdivision", kp_rows_get_text (mine, 0, 3));
      kp_json_add_timestamp (builder, "grant_time", kp_rows_get_int (mine, 0, 4));
      json_builder_end_object (builder);
    }
  else
    json_builder_add_null_value (builder);

  json_builder_set_member_name (builder, "last_request");
  if (kp_rows_get_n_rows (pending) > 0)
    {
      json_builder_begin_object (builder);
      kp_json_add_string (builder, "request_id", kp_rows_get_text (pending, 0, 0));
      kp_json_add_string (builder, "status", kp_rows_get_text (pending, 0, 1));
      kp_json_add_timestamp (builder, "submit_time", kp_rows_get_int (pending, 0, 2));
      json_builder_end_object (builder);
    }
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);

  respond_builder (req->msg, SOUP_STATUS_OK, builder);
  return TRUE;
}

static gboolean
handle_request_qualification (Request     *req,
                              const char  *type_id,
                              GError     **error)
{
  KpCtx *ctx = req->ctx;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonNode) body = NULL;
  g_autoptr(KpRows) rows = NULL;
  g_autoptr(KpRows) granted = NULL;
  g_autoptr(KpRows) request = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *test_answer = NULL;
  g_autofree char *request_id = NULL;
  JsonObject *object;
  JsonArray *answers = NULL;
  const char *test;

  if (!read_body (req, &body, error))
    return FALSE;
  object = json_node_get_object (body);
  if (!kp_param_check_members (ctx, object, NULL, "answers", error) ||
      !kp_param_array (ctx, object, "answers", FALSE, 0, 0, &answers, error))
    return FALSE;

  rows = kp_db_query (ctx->db, &local_error, QUAL_TYPE_SELECT, "s", type_id);
  if (rows == NULL)
    return fail_db (ctx, error, local_error);
  if (kp_rows_get_n_rows (rows) == 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_NOT_FOUND, NULL,
                        _("There is no qualification type “%s”"), type_id);

  test = kp_rows_get_text (rows, 0, 7);
  if (test != NULL)
    {
      g_autoptr(KpQuestionInfo) info = NULL;

      if (answers == NULL)
        return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL,
                            _("This qualification has a test: send its answers"));

      info = kp_question_parse (test, -1, &local_error);
      if (info == NULL)
        {
          g_warning ("Test of qualification type %s does not parse: %s",
                     type_id, local_error->message);
          g_clear_error (&local_error);
        }
      test_answer = kp_question_answers_to_xml (info, answers, &local_error);
      if (test_answer == NULL)
        return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL, "%s", local_error->message);
    }
  else if (answers != NULL)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL,
                        _("This qualification has no test: send no answers"));

  if (!kp_quals_request (ctx, ctx->worker_id, type_id, test_answer, &request_id, error))
    return FALSE;

  granted = kp_db_query (ctx->db, &local_error,
                         "SELECT integer_value FROM worker_qualifications"
                         " WHERE qualification_type_id = $1 AND worker_id = $2 AND status = 'Granted'",
                         "ss", type_id, ctx->worker_id);
  if (granted == NULL)
    return fail_db (ctx, error, local_error);

  if (request_id != NULL)
    {
      request = kp_db_query (ctx->db, &local_error,
                             "SELECT status FROM qualification_requests WHERE id = $1",
                             "s", request_id);
      if (request == NULL)
        return fail_db (ctx, error, local_error);
    }

  json_builder_begin_object (builder);
  kp_json_add_string (builder, "qualification_type_id", type_id);
  add_nullable_string (builder, "request_id", request_id);
  if (kp_rows_get_n_rows (granted) > 0)
    {
      kp_json_add_string (builder, "status", "Granted");
      add_nullable_time (builder, "value", granted, 0, 0);
    }
  else
    {
      kp_json_add_string (builder, "status",
                          request != NULL && kp_rows_get_n_rows (request) > 0
                          ? kp_rows_get_text (request, 0, 0) : "Pending");
      add_nullable_string (builder, "value", NULL);
    }
  json_builder_end_object (builder);

  respond_builder (req->msg, SOUP_STATUS_OK, builder);
  return TRUE;
}

/* --- media --- */

static char *
media_path (const char *data_dir,
            const char *hash)
{
  char prefix[3] = { hash[0], hash[1], '\0' };

  return g_build_filename (data_dir, "media", prefix, hash, NULL);
}

gboolean
kp_worker_api_store_media (KpCtx       *ctx,
                           GBytes      *bytes,
                           const char  *content_type,
                           char       **hash,
                           GError     **error)
{
  g_autofree char *digest = NULL;
  g_autofree char *path = NULL;
  g_autofree char *dir = NULL;
  gsize size = 0;
  const guint8 *data;

  g_return_val_if_fail (ctx != NULL && ctx->db != NULL && ctx->data_dir != NULL, FALSE);
  g_return_val_if_fail (bytes != NULL, FALSE);
  g_return_val_if_fail (content_type != NULL, FALSE);

  data = g_bytes_get_data (bytes, &size);
  digest = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, size);
  path = media_path (ctx->data_dir, digest);
  dir = g_path_get_dirname (path);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Cannot create the media folder “%s”: %s"), dir, g_strerror (saved_errno));
      return FALSE;
    }

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR) &&
      !g_file_set_contents_full (path, (const char *)data, size,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0600, error))
    return FALSE;

  if (!kp_db_exec (ctx->db, NULL, error,
                   "INSERT INTO media (hash, size, content_type, created) VALUES ($1, $2, $3, $4)"
                   " ON CONFLICT (hash) DO NOTHING",
                   "sisi", digest, (gint64)size, content_type, ctx->now))
    return FALSE;

  if (hash != NULL)
    *hash = g_steal_pointer (&digest);
  return TRUE;
}

gboolean
kp_worker_api_store_media_file (KpCtx       *ctx,
                                const char  *path,
                                const char  *content_type,
                                char       **hash,
                                GError     **error)
{
  g_autoptr(GMappedFile) file = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *guessed = NULL;

  g_return_val_if_fail (path != NULL, FALSE);

  file = g_mapped_file_new (path, FALSE, error);
  if (file == NULL)
    return FALSE;
  bytes = g_mapped_file_get_bytes (file);

  if (content_type == NULL)
    {
      g_autofree char *type = NULL;
      gsize size = 0;
      const guchar *data = g_bytes_get_data (bytes, &size);

      type = g_content_type_guess (path, data, MIN (size, 4096), NULL);
      guessed = g_content_type_get_mime_type (type);
      if (guessed == NULL)
        guessed = g_strdup ("application/octet-stream");
      content_type = guessed;
    }

  return kp_worker_api_store_media (ctx, bytes, content_type, hash, error);
}

/* Parses a single "bytes=" range against size. Returns FALSE when the
 * header should be ignored (not bytes, several ranges, bad syntax), else
 * TRUE with *satisfiable and the inclusive [*first, *last]. */
static gboolean
parse_range (const char *header,
             gint64      size,
             gboolean   *satisfiable,
             gint64     *first,
             gint64     *last)
{
  const char *spec;
  const char *dash;
  guint64 a = 0, b = 0;

  while (*header == ' ')
    header++;
  if (!g_str_has_prefix (header, "bytes="))
    return FALSE;
  spec = header + strlen ("bytes=");
  if (strchr (spec, ',') != NULL)
    return FALSE;
  dash = strchr (spec, '-');
  if (dash == NULL)
    return FALSE;

  if (dash == spec)
    {
      /* bytes=-N: the last N bytes */
      if (!g_ascii_string_to_unsigned (dash + 1, 10, 0, G_MAXINT64, &b, NULL))
        return FALSE;
      if (b == 0 || size == 0)
        {
          *satisfiable = FALSE;
          return TRUE;
        }
      *first = size - MIN ((gint64)b, size);
      *last = size - 1;
      *satisfiable = TRUE;
      return TRUE;
    }

  {
    g_autofree char *start = g_strndup (spec, dash - spec);

    if (!g_ascii_string_to_unsigned (start, 10, 0, G_MAXINT64, &a, NULL))
      return FALSE;
  }

  if (dash[1] == '\0')
    b = G_MAXINT64;
  else if (!g_ascii_string_to_unsigned (dash + 1, 10, 0, G_MAXINT64, &b, NULL) || b < a)
    return FALSE;

  if ((gint64)a >= size)
    {
      *satisfiable = FALSE;
      return TRUE;
    }

  *first = a;
  *last = MIN ((gint64)b, size - 1);
  *satisfiable = TRUE;
  return TRUE;
}

static gboolean
etag_matches (const char *header,
              const char *etag)
{
  g_auto(GStrv) tags = NULL;

  if (header == NULL)
    return FALSE;

  tags = g_strsplit (header, ",", -1);
  for (guint i = 0; tags[i] != NULL; i++)
    {
      const char *tag = g_strstrip (tags[i]);

      if (g_str_has_prefix (tag, "W/"))
        tag += 2;
      if (g_str_equal (tag, "*") || g_str_equal (tag, etag))
        return TRUE;
    }

  return FALSE;
}

static gboolean
handle_media (Request     *req,
              const char  *hash,
              GError     **error)
{
  KpCtx *ctx = req->ctx;
  SoupMessageHeaders *request_headers = soup_server_message_get_request_headers (req->msg);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (req->msg);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  g_autoptr(GMappedFile) file = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GBytes) part = NULL;
  g_autofree char *path = NULL;
  g_autofree char *etag = NULL;
  const char *range;
  const char *if_range;
  gboolean satisfiable = FALSE;
  gint64 first = 0, last = 0, size;

  if (!is_sha256_hex (hash))
    return kp_api_fail (ctx, error, KP_API_ERROR_NOT_FOUND, NULL,
                        _("There is no media “%s” (media are named by their lower-case hex SHA-256)"),
                        hash);

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT size, content_type FROM media WHERE hash = $1", "s", hash);
  if (rows == NULL)
    return fail_db (ctx, error, local_error);
  if (kp_rows_get_n_rows (rows) == 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_NOT_FOUND, NULL,
                        _("There is no media “%s”"), hash);

  path = media_path (ctx->data_dir, hash);
  file = g_mapped_file_new (path, FALSE, &local_error);
  if (file == NULL)
    {
      g_warning ("Media %s is recorded but cannot be read: %s", hash, local_error->message);
      return kp_api_fail (ctx, error, KP_API_ERROR_GONE, NULL,
                          _("The media “%s” is no longer stored on this server"), hash);
    }
  bytes = g_mapped_file_get_bytes (file);
  size = g_bytes_get_size (bytes);

  etag = g_strdup_printf ("\"%s\"", hash);
  soup_message_headers_replace (headers, "ETag", etag);
  soup_message_headers_replace (headers, "Accept-Ranges", "bytes");
  soup_message_headers_replace (headers, "Cache-Control", "private, max-age=31536000, immutable");

  if (etag_matches (soup_message_headers_get_one (request_headers, "If-None-Match"), etag))
    {
      soup_server_message_set_status (req->msg, SOUP_STATUS_NOT_MODIFIED, NULL);
      return TRUE;
    }

  /* Whatever happens to the Range header, answer it here: SoupServer
   * would otherwise turn a complete 200 into its own partial answer. */
  range = soup_message_headers_get_one (request_headers, "Range");
  if_range = soup_message_headers_get_one (request_headers, "If-Range");
  if (range != NULL && if_range != NULL)
    {
      g_autofree char *tag = g_strstrip (g_strdup (if_range));

      /* The client's copy is another version: send everything. */
      if (!g_str_equal (tag, etag))
        range = NULL;
    }

  if (range != NULL && parse_range (range, size, &satisfiable, &first, &last))
    {
      g_autofree char *content_range = NULL;

      if (!satisfiable)
        {
          g_autoptr(JsonBuilder) builder = json_builder_new ();
          g_autofree char *message = NULL;

          content_range = g_strdup_printf ("bytes */%" PRId64, size);
          soup_message_headers_replace (headers, "Content-Range", content_range);
          message = g_strdup_printf (_("The range “%s” is outside the media’s %" PRId64 " bytes"),
                                     range, size);
          soup_message_headers_remove (request_headers, "Range");
          json_builder_begin_object (builder);
          kp_json_add_string (builder, "error", "range-not-satisfiable");
          kp_json_add_string (builder, "message", message);
          json_builder_end_object (builder);
          respond_builder (req->msg, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE, builder);
          return TRUE;
        }

      part = g_bytes_new_from_bytes (bytes, first, last - first + 1);
      content_range = g_strdup_printf ("bytes %" PRId64 "-%" PRId64 "/%" PRId64,
                                       first, last, size);
      soup_message_headers_replace (headers, "Content-Range", content_range);
      soup_server_message_set_status (req->msg, SOUP_STATUS_PARTIAL_CONTENT, NULL);
    }
  else
    {
      part = g_bytes_ref (bytes);
      soup_server_message_set_status (req->msg, SOUP_STATUS_OK, NULL);
    }
  soup_message_headers_remove (request_headers, "Range");

  soup_message_headers_set_content_type (headers, kp_rows_get_text (rows, 0, 1), NULL);
  if (g_bytes_get_size (part) > 0)
    soup_message_body_append_bytes (soup_server_message_get_response_body (req->msg), part);
  return TRUE;
}

/* --- routing --- */

static gboolean
method_not_allowed (Request    *req,
                    const char *allowed)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *message = NULL;

  message = g_strdup_printf (_("This resource does not accept %s requests (only %s)"),
                             req->method, allowed);
  json_builder_begin_object (builder);
  kp_json_add_string (builder, "error", "method-not-allowed");
  kp_json_add_string (builder, "message", message);
  json_builder_end_object (builder);

  soup_message_headers_replace (soup_server_message_get_response_headers (req->msg),
                                "Allow", allowed);
  respond_builder (req->msg, SOUP_STATUS_METHOD_NOT_ALLOWED, builder);
  return TRUE;
}

static gboolean
not_found (Request  *req,
           GError  **error)
{
  g_autofree char *path = g_strjoinv ("/", req->segments);

  return kp_api_fail (req->ctx, error, KP_API_ERROR_NOT_FOUND, NULL,
                      _("There is nothing at “/worker/v1/%s”"), path);
}

static gboolean
handle_get_assignment (Request     *req,
                       const char  *assignment_id,
                       GError     **error)
{
  return respond_assignment (req->ctx, req->msg, SOUP_STATUS_OK, assignment_id, error);
}

/* A handler gets the path's id ("*" in the route), or NULL. */
typedef gboolean (*RouteFunc) (Request     *req,
                               const char  *id,
                               GError     **error);

typedef struct
{
  const char *methods;   /* as in an Allow header */
  const char *path;      /* segments; "*" stands for an id */
  RouteFunc   func;
  const char *unknown;   /* the 404 message for an id that cannot exist, or NULL */
} Route;

static const Route routes[] = {
  { "GET", "me", handle_me, NULL },
  { "GET", "groups", handle_list_groups, NULL },
  { "GET", "groups/*", handle_get_group, N_("There is no HIT group “%s”") },
  { "GET", "groups/*/preview", handle_preview_group, N_("There is no HIT group “%s”") },
  { "POST", "groups/*/accept", handle_accept_group, N_("There is no HIT group “%s”") },
  { "GET", "hits/*", handle_get_hit, N_("There is no HIT “%s”") },
  { "POST", "hits/*/accept", handle_accept_hit, N_("There is no HIT “%s”") },
  { "GET", "assignments", handle_list_assignments, NULL },
  { "GET", "assignments/*", handle_get_assignment, N_("You have no assignment “%s”") },
  { "POST", "assignments/*/return", handle_return, N_("You have no assignment “%s”") },
  { "POST", "assignments/*/submit", handle_submit, N_("You have no assignment “%s”") },
  { "POST", "sync", handle_sync, NULL },
  { "GET", "earnings", handle_earnings, NULL },
  { "GET", "messages", handle_messages, NULL },
  { "GET", "qualifications", handle_list_qualifications, NULL },
  { "GET", "qualification-types/*", handle_get_qualification_type,
    N_("There is no qualification type “%s”") },
  { "POST", "qualification-types/*/request", handle_request_qualification,
    N_("There is no qualification type “%s”") },
  { "GET, HEAD", "media/*", handle_media, NULL },
};

/* Whether the request's path has the shape of route; *id gets its id. */
static gboolean
route_matches (const Route  *route,
               Request      *req,
               const char  **id)
{
  g_auto(GStrv) parts = g_strsplit (route->path, "/", -1);

  *id = NULL;
  if (g_strv_length (parts) != req->n_segments)
    return FALSE;

  for (guint i = 0; parts[i] != NULL; i++)
    {
      if (g_str_equal (parts[i], "*"))
        *id = req->segments[i];
      else if (!g_str_equal (parts[i], req->segments[i]))
        return FALSE;
    }

  return TRUE;
}

static gboolean
route (Request  *req,
       GError  **error)
{
  g_autoptr(GString) allowed = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      const char *id = NULL;
      g_auto(GStrv) methods = NULL;

      if (!route_matches (&routes[i], req, &id))
        continue;

      if (id != NULL && routes[i].unknown != NULL && !is_entity_id (id))
        return kp_api_fail (req->ctx, error, KP_API_ERROR_NOT_FOUND, NULL,
                            _(routes[i].unknown), id);

      methods = g_strsplit (routes[i].methods, ", ", -1);
      if (g_strv_contains ((const char * const *)methods, req->method))
        return routes[i].func (req, id, error);

      if (allowed == NULL)
        allowed = g_string_new (routes[i].methods);
      else
        g_string_append_printf (allowed, ", %s", routes[i].methods);
    }

  if (allowed != NULL)
    return method_not_allowed (req, allowed->str);

  return not_found (req, error);
}

gboolean
kp_worker_api_handle_media (KpCtx              *ctx,
                            SoupServerMessage  *msg,
                            const char         *hash,
                            GError            **error)
{
  Request req = { 0, };

  g_return_val_if_fail (ctx != NULL && ctx->requester_id != NULL, FALSE);

  req.ctx = ctx;
  req.msg = msg;
  req.method = soup_server_message_get_method (msg);

  if (!g_str_equal (req.method, "GET") && !g_str_equal (req.method, "HEAD"))
    return method_not_allowed (&req, "GET, HEAD");

  return handle_media (&req, hash, error);
}

gboolean
kp_worker_api_handle (KpCtx              *ctx,
                      SoupServerMessage  *msg,
                      const char         *path,
                      GError            **error)
{
  Request req = { 0, };
  GUri *uri = soup_server_message_get_uri (msg);
  const char *query = g_uri_get_query (uri);
  g_autofree char *trimmed = NULL;
  gboolean ok;

  g_return_val_if_fail (ctx != NULL && ctx->worker_id != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  req.ctx = ctx;
  req.msg = msg;
  req.method = soup_server_message_get_method (msg);

  if (query != NULL)
    {
      g_autoptr(GError) local_error = NULL;

      req.query = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_WWW_FORM, &local_error);
      if (req.query == NULL)
        return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL,
                            _("The query string is not valid: %s"), local_error->message);
    }
  else
    req.query = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  /* "/groups/X/" is "/groups/X". */
  trimmed = g_strdup (path[0] == '/' ? path + 1 : path);
  if (g_str_has_suffix (trimmed, "/"))
    trimmed[strlen (trimmed) - 1] = '\0';
  req.segments = g_strsplit (trimmed, "/", -1);
  req.n_segments = g_strv_length (req.segments);

  ok = route (&req, error);
  request_clear (&req);
  return ok;
}
