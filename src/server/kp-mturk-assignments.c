/* kp-mturk-assignments.c: assignments (MTurk operations) and the
 * temporary URLs of uploaded files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * As on MTurk, the requester sees an assignment once it is submitted:
 * accepted, returned and abandoned ones are the worker's business, and
 * AssignmentStatus can only be Submitted, Approved or Rejected.
 */

#include "config.h"

#include <inttypes.h>

#include "kp-hits-private.h"

#include <string.h>

#include <glib/gi18n.h>

#include "kp-core.h"
#include "kp-notify.h"

#define FEEDBACK_MAX     1024
#define UPLOAD_URL_TTL   60

#define ASSIGNMENT_COLUMNS \
  "a.id, a.worker_id, a.hit_id, a.status, a.auto_approval_time, a.accept_time, " \
  "a.submit_time, a.approval_time, a.rejection_time, a.deadline, a.answer, " \
  "a.requester_feedback "

enum {
  COL_ID, COL_WORKER_ID, COL_HIT_ID, COL_STATUS, COL_AUTO_APPROVAL_TIME, COL_ACCEPT_TIME,
  COL_SUBMIT_TIME, COL_APPROVAL_TIME, COL_REJECTION_TIME, COL_DEADLINE, COL_ANSWER,
  COL_FEEDBACK,
  /* query_own_assignment() adds these */
  COL_HIT_TYPE_ID, COL_QUESTION,
};

static void
add_optional_time (JsonBuilder *builder,
                   const char  *name,
                   KpRows      *rows,
                   guint        r,
                   guint        c)
{
  if (!kp_rows_is_null (rows, r, c))
    kp_json_add_timestamp (builder, name, kp_rows_get_int (rows, r, c));
}

static void
add_assignment_object (JsonBuilder *builder,
                       KpRows      *rows,
                       guint        r)
{
  json_builder_begin_object (builder);
  kp_json_add_string (builder, "AssignmentId", kp_rows_get_text (rows, r, COL_ID));
  kp_json_add_string (builder, "WorkerId", kp_rows_get_text (rows, r, COL_WORKER_ID));
  kp_json_add_string (builder, "HITId", kp_rows_get_text (rows, r, COL_HIT_ID));
  kp_json_add_string (builder, "AssignmentStatus", kp_rows_get_text (rows, r, COL_STATUS));
  add_optional_time (builder, "AutoApprovalTime", rows, r, COL_AUTO_APPROVAL_TIME);
  kp_json_add_timestamp (builder, "AcceptTime", kp_rows_get_int (rows, r, COL_ACCEPT_TIME));
  add_optional_time (builder, "SubmitTime", rows, r, COL_SUBMIT_TIME);
  add_optional_time (builder, "ApprovalTime", rows, r, COL_APPROVAL_TIME);
  add_optional_time (builder, "RejectionTime", rows, r, COL_REJECTION_TIME);
  kp_json_add_timestamp (builder, "Deadline", kp_rows_get_int (rows, r, COL_DEADLINE));
  kp_json_add_string (builder, "Answer", kp_rows_get_text (rows, r, COL_ANSWER));
  kp_json_add_string (builder, "RequesterFeedback", kp_rows_get_text (rows, r, COL_FEEDBACK));
  json_builder_end_object (builder);
}

static gboolean
fail_no_assignment (KpCtx       *ctx,
                    const char  *assignment_id,
                    GError     **error)
{
  return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "AssignmentDoesNotExist",
                      _("Assignment %s does not exist."), assignment_id);
}

/* The requester's submitted (or decided) assignment, or
 * AssignmentDoesNotExist. */
static KpRows *
query_own_assignment (KpCtx       *ctx,
                      const char  *assignment_id,
                      GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT " ASSIGNMENT_COLUMNS ", h.hit_type_id, h.question "
                      "FROM assignments a JOIN hits h ON h.id = a.hit_id "
                      "WHERE a.id = $1 AND h.requester_id = $2 "
                      "AND a.status IN ('Submitted', 'Approved', 'Rejected')",
                      "ss", assignment_id, ctx->requester_id);
  if (rows == NULL)
    {
      kp_api_fail_db (ctx, error, local_error);
      return NULL;
    }
  if (kp_rows_get_n_rows (rows) == 0)
    {
      fail_no_assignment (ctx, assignment_id, error);
      return NULL;
    }

  return g_steal_pointer (&rows);
}

static gboolean
op_get_assignment (KpCtx        *ctx,
                   JsonObject   *request,
                   JsonBuilder  *response,
                   GError      **error)
{
  g_autoptr(KpRows) rows = NULL;
  const char *assignment_id = NULL;

  if (!kp_param_entity_id (ctx, request, "AssignmentId", TRUE, &assignment_id, error))
    return FALSE;

  rows = query_own_assignment (ctx, assignment_id, error);
  if (rows == NULL)
    return FALSE;

  json_builder_set_member_name (response, "Assignment");
  add_assignment_object (response, rows, 0);

  return _kp_hits_add_hit_member (ctx, response, "HIT", kp_rows_get_text (rows, 0, COL_HIT_ID),
                                  ctx->requester_id, error);
}

static gboolean
op_list_assignments_for_hit (KpCtx        *ctx,
                             JsonObject   *request,
                             JsonBuilder  *response,
                             GError      **error)
{
  static const char * const statuses[] = { "Submitted", "Approved", "Rejected", NULL };
  g_auto(KpHitsPage) page = { 0, };
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  g_autofree char *next = NULL;
  const char *hit_id = NULL;
  JsonArray *filter = NULL;
  const char *wanted[3] = { "Submitted", "Approved", "Rejected" };
  gint64 submitted = -1;
  const char *after_id = "";
  gboolean found = FALSE;
  gint64 value = 0;
  guint n;

  if (!kp_param_entity_id (ctx, request, "HITId", TRUE, &hit_id, error) ||
      !kp_param_array (ctx, request, "AssignmentStatuses", FALSE, 0, 3, &filter, error) ||
      !kp_page_parse (ctx, request, "ListAssignmentsForHIT", &page, error))
    return FALSE;

  if (filter != NULL && json_array_get_length (filter) > 0)
    {
      wanted[0] = wanted[1] = wanted[2] = "";
      for (guint i = 0; i < json_array_get_length (filter); i++)
        {
          JsonNode *node = json_array_get_element (filter, i);
          const char *status = NULL;

          if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
            status = json_node_get_string (node);
          if (status == NULL || !g_strv_contains (statuses, status))
            return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                                _("1 validation error detected: Value at “AssignmentStatuses[%u]” "
                                  "failed to satisfy constraint: Member must satisfy enum value "
                                  "set: [Submitted, Approved, Rejected]"), i);
          wanted[i] = status;
        }
    }

  if (!kp_db_query_int (ctx->db, &value, &found, &local_error,
                        "SELECT 1 FROM hits WHERE id = $1 AND requester_id = $2",
                        "ss", hit_id, ctx->requester_id))
    return kp_api_fail_db (ctx, error, local_error);
  if (!found)
    return _kp_hits_fail_no_hit (ctx, hit_id, error);

  /* Keyset paging over (submit_time, id). */
  if (page.cursor != NULL)
    {
      const char *bar = strchr (page.cursor, '|');

      submitted = g_ascii_strtoll (page.cursor, NULL, 10);
      after_id = bar != NULL ? bar + 1 : "";
    }

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT " ASSIGNMENT_COLUMNS
                      "FROM assignments a WHERE a.hit_id = $1 AND a.status IN ($5, $6, $7) "
                      "AND (a.submit_time > $2 OR (a.submit_time = $2 AND a.id > $3)) "
                      "ORDER BY a.submit_time, a.id LIMIT $4",
                      "sisisss", hit_id, submitted, after_id, page.max_results + 1,
                      wanted[0], wanted[1], wanted[2]);
  if (rows == NULL)
    return kp_api_fail_db (ctx, error, local_error);

  n = MIN (kp_rows_get_n_rows (rows), (guint)page.max_results);
  json_builder_set_member_name (response, "Assignments");
  json_builder_begin_array (response);
  for (guint r = 0; r < n; r++)
    add_assignment_object (response, rows, r);
  json_builder_end_array (response);

  if (kp_rows_get_n_rows (rows) > n)
    next = g_strdup_printf ("%" PRId64 "|%s",
                            kp_rows_get_int (rows, n - 1, COL_SUBMIT_TIME),
                            kp_rows_get_text (rows, n - 1, COL_ID));

  kp_page_finish (ctx, response, "ListAssignmentsForHIT", n, next);
  return TRUE;
}

static gboolean
op_approve_assignment (KpCtx        *ctx,
                       JsonObject   *request,
                       JsonBuilder  *response,
                       GError      **error)
{
  g_autoptr(KpRows) rows = NULL;
  const char *assignment_id = NULL;
  const char *feedback = NULL;
  gboolean override_rejection = FALSE;

  if (!kp_param_entity_id (ctx, request, "AssignmentId", TRUE, &assignment_id, error) ||
      !kp_param_string (ctx, request, "RequesterFeedback", FALSE, 0, FEEDBACK_MAX,
                        &feedback, error) ||
      !kp_param_bool (ctx, request, "OverrideRejection", FALSE, &override_rejection, error))
    return FALSE;

  rows = query_own_assignment (ctx, assignment_id, error);
  if (rows == NULL)
    return FALSE;

  return kp_hits_approve (ctx, assignment_id, feedback, override_rejection, error);
}

static gboolean
op_reject_assignment (KpCtx        *ctx,
                      JsonObject   *request,
                      JsonBuilder  *response,
                      GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  const char *assignment_id = NULL;
  const char *feedback = NULL;
  const char *status;

  if (!kp_param_entity_id (ctx, request, "AssignmentId", TRUE, &assignment_id, error) ||
      !kp_param_string (ctx, request, "RequesterFeedback", TRUE, 1, FEEDBACK_MAX,
                        &feedback, error))
    return FALSE;

  rows = query_own_assignment (ctx, assignment_id, error);
  if (rows == NULL)
    return FALSE;

  status = kp_rows_get_text (rows, 0, COL_STATUS);
  if (!g_str_equal (status, "Submitted"))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "InvalidAssignmentState",
                        _("Assignment %s is %s; only a Submitted assignment can be rejected."),
                        assignment_id, status);

  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "UPDATE assignments SET status = 'Rejected', rejection_time = $2, "
                   "requester_feedback = $3 WHERE id = $1",
                   "sis", assignment_id, ctx->now, feedback))
    return kp_api_fail_db (ctx, error, local_error);

  if (!kp_notify_event (ctx, "AssignmentRejected", kp_rows_get_text (rows, 0, COL_HIT_TYPE_ID),
                        kp_rows_get_text (rows, 0, COL_HIT_ID), assignment_id, error))
    return FALSE;

  return kp_hits_refresh_status (ctx, kp_rows_get_text (rows, 0, COL_HIT_ID), error);
}

/* Upload URLs: "files/<payload>.<mac>", payload the URL-safe base64 of
 * "assignment|expiry|question", the MAC an HMAC-SHA256 with a key kept in
 * the database (so that every server process on it accepts the URL). */

static char *
base64url_encode (const char *text)
{
  g_autofree char *encoded = g_base64_encode ((const guchar *)text, strlen (text));
  GString *out = g_string_new (NULL);

  for (const char *p = encoded; *p != '\0'; p++)
    {
      if (*p == '+')
        g_string_append_c (out, '-');
      else if (*p == '/')
        g_string_append_c (out, '_');
      else if (*p != '=')
        g_string_append_c (out, *p);
    }

  return g_string_free (out, FALSE);
}

static char *
base64url_decode (const char *text,
                  gsize       length)
{
  g_autoptr(GString) padded = g_string_new_len (text, length);
  g_autofree guchar *decoded = NULL;
  gsize decoded_length = 0;

  for (gsize i = 0; i < padded->len; i++)
    {
      if (padded->str[i] == '-')
        padded->str[i] = '+';
      else if (padded->str[i] == '_')
        padded->str[i] = '/';
      else if (!g_ascii_isalnum (padded->str[i]))
        return NULL;
    }
  while (padded->len % 4 != 0)
    g_string_append_c (padded, '=');

  decoded = g_base64_decode (padded->str, &decoded_length);
  if (decoded == NULL || memchr (decoded, '\0', decoded_length) != NULL ||
      !g_utf8_validate ((const char *)decoded, decoded_length, NULL))
    return NULL;

  return g_strndup ((const char *)decoded, decoded_length);
}

/* The key, made on first use when create is TRUE (a write). Without it,
 * *key is NULL if there is none yet. */
static gboolean
get_url_key (KpCtx     *ctx,
             gboolean   create,
             char     **key,
             GError   **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;

  if (create)
    {
      g_autofree char *fresh = NULL;
      guint8 bytes[32];

      for (guint i = 0; i < G_N_ELEMENTS (bytes); i++)
        bytes[i] = g_random_int_range (0, 256);
      fresh = g_compute_checksum_for_data (G_CHECKSUM_SHA256, bytes, sizeof bytes);

      if (!kp_db_exec (ctx->db, NULL, &local_error,
                       "INSERT INTO kp_meta (key, value) VALUES ('upload_url_key', $1) "
                       "ON CONFLICT (key) DO NOTHING",
                       "s", fresh))
        return kp_api_fail_db (ctx, error, local_error);
    }

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT value FROM kp_meta WHERE key = 'upload_url_key'", NULL);
  if (rows == NULL)
    return kp_api_fail_db (ctx, error, local_error);
  *key = kp_rows_get_n_rows (rows) > 0 ? g_strdup (kp_rows_get_text (rows, 0, 0)) : NULL;
  if (*key == NULL && create)
    return kp_api_fail (ctx, error, KP_API_ERROR_SERVICE, "ServiceFault",
                        _("The server could not complete the request; nothing was changed"));
  return TRUE;
}

static char *
url_mac (const char *key,
         const char *payload)
{
  return g_compute_hmac_for_string (G_CHECKSUM_SHA256, (const guchar *)key, strlen (key),
                                    payload, -1);
}

static gboolean
op_get_file_upload_url (KpCtx        *ctx,
                        JsonObject   *request,
                        JsonBuilder  *response,
                        GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  g_autoptr(KpQuestionInfo) info = NULL;
  g_autofree char *key = NULL;
  g_autofree char *text = NULL;
  g_autofree char *payload = NULL;
  g_autofree char *mac = NULL;
  g_autofree char *url = NULL;
  const char *assignment_id = NULL;
  const char *question_id = NULL;
  gboolean asked = FALSE;
  gboolean found = FALSE;
  gint64 value = 0;

  if (!kp_param_entity_id (ctx, request, "AssignmentId", TRUE, &assignment_id, error) ||
      !kp_param_string (ctx, request, "QuestionIdentifier", TRUE, 1, 0, &question_id, error))
    return FALSE;

  rows = query_own_assignment (ctx, assignment_id, error);
  if (rows == NULL)
    return FALSE;

  info = kp_question_parse (kp_rows_get_text (rows, 0, COL_QUESTION), -1, NULL);
  for (guint i = 0; info != NULL && info->question_ids != NULL &&
       i < info->question_ids->len; i++)
    if (g_str_equal (g_ptr_array_index (info->question_ids, i), question_id))
      asked = TRUE;
  if (!asked)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("The HIT of assignment %s has no question “%s”."),
                        assignment_id, question_id);

  if (!kp_db_query_int (ctx->db, &value, &found, &local_error,
                        "SELECT 1 FROM uploads WHERE assignment_id = $1 AND question_id = $2",
                        "ss", assignment_id, question_id))
    return kp_api_fail_db (ctx, error, local_error);
  if (!found)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("The worker uploaded no file for question “%s” of assignment %s."),
                        question_id, assignment_id);

  if (!get_url_key (ctx, TRUE, &key, error))
    return FALSE;

  text = g_strdup_printf ("%s|%" PRId64 "|%s", assignment_id,
                          ctx->now + UPLOAD_URL_TTL, question_id);
  payload = base64url_encode (text);
  mac = url_mac (key, payload);
  url = g_strdup_printf ("%sfiles/%s.%s", ctx->base_url != NULL ? ctx->base_url : "/",
                         payload, mac);

  kp_json_add_string (response, "FileUploadURL", url);
  return TRUE;
}

/* Serves GET /files/<token>: the uploaded file, while the URL is valid. */
gboolean
kp_hits_serve_upload (KpCtx              *ctx,
                      SoupServerMessage  *msg,
                      const char         *token,
                      GError            **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  g_autofree char *key = NULL;
  g_autofree char *mac = NULL;
  g_autofree char *text = NULL;
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;
  g_auto(GStrv) parts = NULL;
  const char *dot;
  const char *hash;
  gsize length = 0;

  dot = token != NULL ? strrchr (token, '.') : NULL;
  if (dot == NULL)
    return kp_api_fail (ctx, error, KP_API_ERROR_NOT_FOUND, NULL,
                        _("There is no such file."));

  if (!get_url_key (ctx, FALSE, &key, error))
    return FALSE;
  if (key == NULL)
    return kp_api_fail (ctx, error, KP_API_ERROR_NOT_FOUND, NULL,
                        _("There is no such file."));

  text = g_strndup (token, dot - token);
  mac = url_mac (key, text);
  if (strlen (dot + 1) != strlen (mac) || strcmp (dot + 1, mac) != 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_NOT_FOUND, NULL,
                        _("There is no such file."));

  g_free (text);
  text = base64url_decode (token, dot - token);
  parts = text != NULL ? g_strsplit (text, "|", 3) : NULL;
  if (parts == NULL || g_strv_length (parts) != 3)
    return kp_api_fail (ctx, error, KP_API_ERROR_NOT_FOUND, NULL,
                        _("There is no such file."));

  if (ctx->now > g_ascii_strtoll (parts[1], NULL, 10))
    return kp_api_fail (ctx, error, KP_API_ERROR_GONE, NULL,
                        _("This link has expired; ask for a new one with GetFileUploadURL."));

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT u.media_hash, m.content_type FROM uploads u "
                      "LEFT JOIN media m ON m.hash = u.media_hash "
                      "WHERE u.assignment_id = $1 AND u.question_id = $2",
                      "ss", parts[0], parts[2]);
  if (rows == NULL)
    return kp_api_fail_db (ctx, error, local_error);
  if (kp_rows_get_n_rows (rows) == 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_NOT_FOUND, NULL,
                        _("There is no such file."));

  hash = kp_rows_get_text (rows, 0, 0);
  if (strlen (hash) < 3 || strchr (hash, '/') != NULL || strchr (hash, '.') != NULL)
    return kp_api_fail (ctx, error, KP_API_ERROR_NOT_FOUND, NULL,
                        _("There is no such file."));

  {
    g_autofree char *prefix = g_strndup (hash, 2);

    path = g_build_filename (ctx->data_dir, "media", prefix, hash, NULL);
  }

  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      g_warning ("Cannot read uploaded file %s: %s", path, local_error->message);
      return kp_api_fail (ctx, error, KP_API_ERROR_NOT_FOUND, NULL,
                          _("There is no such file."));
    }

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                "Cache-Control", "private, no-store");
  soup_server_message_set_response (msg,
                                    kp_rows_get_text (rows, 0, 1) != NULL
                                    ? kp_rows_get_text (rows, 0, 1)
                                    : "application/octet-stream",
                                    SOUP_MEMORY_TAKE, g_steal_pointer (&contents), length);
  return TRUE;
}

const KpOperation kp_mturk_assignments_operations[] = {
  { "GetAssignment", "AssignmentId", op_get_assignment },
  { "ListAssignmentsForHIT", "HITId NextToken MaxResults AssignmentStatuses",
    op_list_assignments_for_hit },
  { "ApproveAssignment", "AssignmentId RequesterFeedback OverrideRejection",
    op_approve_assignment },
  { "RejectAssignment", "AssignmentId RequesterFeedback", op_reject_assignment },
  { "GetFileUploadURL", "AssignmentId QuestionIdentifier", op_get_file_upload_url },
  { NULL }
};
