/* kp-mturk-workers.c: MTurk operations on workers, money and notifications
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Blocks, bonuses, messages to workers, the account balance and the
 * notification settings of HIT types. As everywhere, a requester sees and
 * acts on their own things only: someone else's assignment, HIT or HIT type
 * "does not exist".
 *
 * Rules taken from MTurk:
 * - a bonus is paid for work the worker submitted: the assignment must be
 *   the caller's, belong to WorkerId and be Submitted, Approved or Rejected
 *   (an assignment still being worked on, returned or abandoned has nothing
 *   to pay for); it costs the bonus plus MTurk's bonus fee, both charged
 *   when it is sent, and fails if the available balance does not cover both;
 * - a UniqueRequestToken makes a retried SendBonus fail instead of paying
 *   twice, for 24 hours;
 * - NotifyWorkers reaches only workers whose work the requester has approved
 *   or rejected before; the others get a HardFailure status (the call itself
 *   succeeds), without saying whether such a worker exists;
 * - DeleteWorkerBlock succeeds when the worker was not blocked.
 *
 * Notification settings: see kp-notify.c for how Transport and Destination
 * map to the webhook delivery (HTTPS POST of MTurk's JSON document).
 */

#include "config.h"

#include <inttypes.h>

#include "kp-api.h"
#include "kp-ledger.h"
#include "kp-notify.h"

#include <string.h>

#include <glib/gi18n.h>

#define TOKEN_LIFETIME_S    (24 * 60 * 60)
#define MAX_REASON_LENGTH   4096
#define MAX_SUBJECT_LENGTH  200
#define MAX_MESSAGE_LENGTH  4096

static const char * const event_types[] = {
  "AssignmentAccepted", "AssignmentAbandoned", "AssignmentReturned", "AssignmentSubmitted",
  "AssignmentRejected", "AssignmentApproved", "HITCreated", "HITExpired", "HITReviewable",
  "HITExtended", "HITDisposed", "Ping", NULL
};

static const char * const transports[] = { "Email", "SQS", "SNS", NULL };

/* Both spellings MTurk's clients use: the documented Notification API
 * version and the event document version of the 2017 API. */
static const char * const versions[] = { "2006-05-05", "2014-08-15", NULL };

/* Helpers */

/* A local name, so that the cleanup cannot clash with one kp-api.h may
 * define for KpPage one day. */
typedef KpPage WorkersPage;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (WorkersPage, kp_page_clear)

static gboolean
is_customer_id (const char *s)
{
  gsize length = strlen (s);

  if (length < 2 || length > 64 || s[0] != 'A')
    return FALSE;

  for (const char *p = s; *p; p++)
    if (!g_ascii_isupper (*p) && !g_ascii_isdigit (*p))
      return FALSE;

  return TRUE;
}

/* Cursors "created|id" for keyset paging. */
static gboolean
split_cursor (const char  *cursor,
              gint64      *created,
              const char **id)
{
  const char *bar = strchr (cursor, '|');

  if (bar == NULL)
    return FALSE;

  *created = g_ascii_strtoll (cursor, NULL, 10);
  *id = bar + 1;
  return TRUE;
}

/* Blocks */

static gboolean
create_worker_block (KpCtx        *ctx,
                     JsonObject   *request,
                     JsonBuilder  *response,
                     GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  const char *worker_id = NULL;
  const char *reason = NULL;

  if (!kp_param_customer_id (ctx, request, "WorkerId", TRUE, &worker_id, error) ||
      !kp_param_string (ctx, request, "Reason", TRUE, 1, MAX_REASON_LENGTH, &reason, error))
    return FALSE;

  /* Blocking again replaces the reason, as MTurk does. */
  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "INSERT INTO worker_blocks (requester_id, worker_id, reason, created) "
                   "VALUES ($1, $2, $3, $4) "
                   "ON CONFLICT (requester_id, worker_id) DO UPDATE SET reason = excluded.reason",
                   "sssi", ctx->requester_id, worker_id, reason, ctx->now))
    return kp_api_fail_db (ctx, error, local_error);

  return TRUE;
}

static gboolean
delete_worker_block (KpCtx        *ctx,
                     JsonObject   *request,
                     JsonBuilder  *response,
                     GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  const char *worker_id = NULL;
  const char *reason = NULL;

  if (!kp_param_customer_id (ctx, request, "WorkerId", TRUE, &worker_id, error) ||
      !kp_param_string (ctx, request, "Reason", FALSE, 0, MAX_REASON_LENGTH, &reason, error))
    return FALSE;

  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "DELETE FROM worker_blocks WHERE requester_id = $1 AND worker_id = $2",
                   "ss", ctx->requester_id, worker_id))
    return kp_api_fail_db (ctx, error, local_error);

  return TRUE;
}

static gboolean
list_worker_blocks (KpCtx        *ctx,
                    JsonObject   *request,
                    JsonBuilder  *response,
                    GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  g_auto(WorkersPage) page = { 0 };
  g_autofree char *next = NULL;
  guint n;

  if (!kp_page_parse (ctx, request, "ListWorkerBlocks", &page, error))
    return FALSE;

  /* Ordered by WorkerId; the cursor is the last one shown. One row more
   * than asked says whether there is a next page. */
  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT worker_id, reason FROM worker_blocks "
                      "WHERE requester_id = $1 AND worker_id > $2 "
                      "ORDER BY worker_id LIMIT $3",
                      "ssi", ctx->requester_id, page.cursor != NULL ? page.cursor : "",
                      page.max_results + 1);
  if (rows == NULL)
    return kp_api_fail_db (ctx, error, local_error);

  n = MIN (kp_rows_get_n_rows (rows), (guint)page.max_results);
  if (kp_rows_get_n_rows (rows) > n && n > 0)
    next = g_strdup (kp_rows_get_text (rows, n - 1, 0));

  json_builder_set_member_name (response, "WorkerBlocks");
  json_builder_begin_array (response);
  for (guint r = 0; r < n; r++)
    {
      json_builder_begin_object (response);
      kp_json_add_string (response, "WorkerId", kp_rows_get_text (rows, r, 0));
      kp_json_add_string (response, "Reason", kp_rows_get_text (rows, r, 1));
      json_builder_end_object (response);
    }
  json_builder_end_array (response);

  kp_page_finish (ctx, response, "ListWorkerBlocks", n, next);
  return TRUE;
}

/* Bonuses */

static gboolean
send_bonus (KpCtx        *ctx,
            JsonObject   *request,
            JsonBuilder  *response,
            GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  g_autofree char *bonus_id = NULL;
  g_autofree char *amount_text = NULL;
  g_autofree char *total_text = NULL;
  g_autofree char *available_text = NULL;
  const char *worker_id = NULL;
  const char *assignment_id = NULL;
  const char *reason = NULL;
  const char *token = NULL;
  const char *status;
  const char *hit_id;
  gint64 amount = 0;
  gint64 fee;
  gint64 available = 0;
  gint64 on_hold = 0;

  if (!kp_param_customer_id (ctx, request, "WorkerId", TRUE, &worker_id, error) ||
      !kp_param_money (ctx, request, "BonusAmount", TRUE, &amount, error) ||
      !kp_param_entity_id (ctx, request, "AssignmentId", TRUE, &assignment_id, error) ||
      !kp_param_string (ctx, request, "Reason", TRUE, 1, MAX_REASON_LENGTH, &reason, error) ||
      !kp_param_string (ctx, request, "UniqueRequestToken", FALSE, 1, 64, &token, error))
    return FALSE;

  if (amount <= 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("The BonusAmount must be more than 0.00"));

  if (token != NULL)
    {
      gint64 created = 0;
      gboolean found = FALSE;

      if (!kp_db_query_int (ctx->db, &created, &found, &local_error,
                            "SELECT created FROM bonuses "
                            "WHERE requester_id = $1 AND unique_request_token = $2",
                            "ss", ctx->requester_id, token))
        return kp_api_fail_db (ctx, error, local_error);

      if (found && ctx->now - created < TOKEN_LIFETIME_S)
        return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "DuplicateRequest",
                            _("The idempotency token “%s” has already been processed: "
                              "that bonus was sent; none was sent now"), token);

      /* An expired token may be used again: forget the old use. */
      if (found &&
          !kp_db_exec (ctx->db, NULL, &local_error,
                       "UPDATE bonuses SET unique_request_token = NULL "
                       "WHERE requester_id = $1 AND unique_request_token = $2",
                       "ss", ctx->requester_id, token))
        return kp_api_fail_db (ctx, error, local_error);
    }

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT a.worker_id, a.status, a.hit_id "
                      "FROM assignments a JOIN hits h ON h.id = a.hit_id "
                      "WHERE a.id = $1 AND h.requester_id = $2",
                      "ss", assignment_id, ctx->requester_id);
  if (rows == NULL)
    return kp_api_fail_db (ctx, error, local_error);

  if (kp_rows_get_n_rows (rows) == 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "AssignmentDoesNotExist",
                        _("Assignment %s does not exist"), assignment_id);

  status = kp_rows_get_text (rows, 0, 1);
  hit_id = kp_rows_get_text (rows, 0, 2);

  if (g_strcmp0 (kp_rows_get_text (rows, 0, 0), worker_id) != 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("Assignment %s was not done by worker %s; a bonus is paid to "
                          "the worker who did the assignment"), assignment_id, worker_id);

  if (!g_str_equal (status, "Submitted") && !g_str_equal (status, "Approved") &&
      !g_str_equal (status, "Rejected"))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "InvalidAssignmentState",
                        _("Assignment %s is %s; a bonus can only be paid for submitted "
                          "work (Submitted, Approved or Rejected)"), assignment_id, status);

  fee = kp_ledger_bonus_fee_cents (amount);
  if (!kp_ledger_get_balance (ctx, ctx->requester_id, &available, &on_hold, error))
    return FALSE;

  if (available < amount + fee)
    {
      amount_text = kp_money_to_string (amount);
      total_text = kp_money_to_string (amount + fee);
      available_text = kp_money_to_string (available);
      return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "InsufficientFunds",
                          _("This bonus of $%s costs $%s with its fee, but only $%s is "
                            "available in your account"),
                          amount_text, total_text, available_text);
    }

  bonus_id = kp_api_new_id ();
  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "INSERT INTO bonuses (id, requester_id, worker_id, assignment_id, "
                   "  amount_cents, reason, unique_request_token, created) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                   "ssssissi", bonus_id, ctx->requester_id, worker_id, assignment_id,
                   amount, reason, token, ctx->now))
    return kp_api_fail_db (ctx, error, local_error);

  if (!kp_ledger_add (ctx, ctx->requester_id, "bonus", -amount,
                      hit_id, assignment_id, worker_id, bonus_id, error) ||
      !kp_ledger_add (ctx, ctx->requester_id, "bonus_fee", -fee,
                      hit_id, assignment_id, worker_id, bonus_id, error))
    return FALSE;

  return TRUE;
}

static gboolean
list_bonus_payments (KpCtx        *ctx,
                     JsonObject   *request,
                     JsonBuilder  *response,
                     GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  g_auto(WorkersPage) page = { 0 };
  g_autofree char *next = NULL;
  const char *hit_id = NULL;
  const char *assignment_id = NULL;
  const char *after_id = "";
  gint64 after_created = -1;
  gboolean found = FALSE;
  gint64 one = 0;
  guint n;

  if (!kp_param_entity_id (ctx, request, "HITId", FALSE, &hit_id, error) ||
      !kp_param_entity_id (ctx, request, "AssignmentId", FALSE, &assignment_id, error) ||
      !kp_page_parse (ctx, request, "ListBonusPayments", &page, error))
    return FALSE;

  if ((hit_id == NULL) == (assignment_id == NULL))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("Give either HITId or AssignmentId, not both and not neither"));

  if (page.cursor != NULL && !split_cursor (page.cursor, &after_created, &after_id))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("The NextToken is not valid for ListBonusPayments"));

  if (hit_id != NULL)
    {
      if (!kp_db_query_int (ctx->db, &one, &found, &local_error,
                            "SELECT 1 FROM hits WHERE id = $1 AND requester_id = $2",
                            "ss", hit_id, ctx->requester_id))
        return kp_api_fail_db (ctx, error, local_error);
      if (!found)
        return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "HITDoesNotExist",
                            _("HIT %s does not exist"), hit_id);

      rows = kp_db_query (ctx->db, &local_error,
                          "SELECT b.worker_id, b.amount_cents, b.assignment_id, b.reason, "
                          "  b.created, b.id "
                          "FROM bonuses b JOIN assignments a ON a.id = b.assignment_id "
                          "WHERE a.hit_id = $1 AND b.requester_id = $2 "
                          "  AND (b.created > $3 OR (b.created = $3 AND b.id > $4)) "
                          "ORDER BY b.created, b.id LIMIT $5",
                          "ssisi", hit_id, ctx->requester_id, after_created, after_id,
                          page.max_results + 1);
    }
  else
    {
      if (!kp_db_query_int (ctx->db, &one, &found, &local_error,
                            "SELECT 1 FROM assignments a JOIN hits h ON h.id = a.hit_id "
                            "WHERE a.id = $1 AND h.requester_id = $2",
                            "ss", assignment_id, ctx->requester_id))
        return kp_api_fail_db (ctx, error, local_error);
      if (!found)
        return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "AssignmentDoesNotExist",
                            _("Assignment %s does not exist"), assignment_id);

      rows = kp_db_query (ctx->db, &local_error,
                          "SELECT worker_id, amount_cents, assignment_id, reason, created, id "
                          "FROM bonuses "
                          "WHERE assignment_id = $1 AND requester_id = $2 "
                          "  AND (created > $3 OR (created = $3 AND id > $4)) "
                          "ORDER BY created, id LIMIT $5",
                          "ssisi", assignment_id, ctx->requester_id, after_created, after_id,
                          page.max_results + 1);
    }
  if (rows == NULL)
    return kp_api_fail_db (ctx, error, local_error);

  n = MIN (kp_rows_get_n_rows (rows), (guint)page.max_results);
  if (kp_rows_get_n_rows (rows) > n && n > 0)
    next = g_strdup_printf ("%" PRId64 "|%s",
                            kp_rows_get_int (rows, n - 1, 4), kp_rows_get_text (rows, n - 1, 5));

  json_builder_set_member_name (response, "BonusPayments");
  json_builder_begin_array (response);
  for (guint r = 0; r < n; r++)
    {
      json_builder_begin_object (response);
      kp_json_add_string (response, "WorkerId", kp_rows_get_text (rows, r, 0));
      kp_json_add_money (response, "BonusAmount", kp_rows_get_int (rows, r, 1));
      kp_json_add_string (response, "AssignmentId", kp_rows_get_text (rows, r, 2));
      kp_json_add_string (response, "Reason", kp_rows_get_text (rows, r, 3));
      kp_json_add_timestamp (response, "GrantTime", kp_rows_get_int (rows, r, 4));
      json_builder_end_object (response);
    }
  json_builder_end_array (response);

  kp_page_finish (ctx, response, "ListBonusPayments", n, next);
  return TRUE;
}

/* Messages to workers */

static gboolean
notify_workers (KpCtx        *ctx,
                JsonObject   *request,
                JsonBuilder  *response,
                GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  const char *subject = NULL;
  const char *message = NULL;
  JsonArray *worker_ids = NULL;
  guint length;

  if (!kp_param_string (ctx, request, "Subject", TRUE, 1, MAX_SUBJECT_LENGTH, &subject, error) ||
      !kp_param_string (ctx, request, "MessageText", TRUE, 1, MAX_MESSAGE_LENGTH, &message, error) ||
      !kp_param_array (ctx, request, "WorkerIds", TRUE, 1, 100, &worker_ids, error))
    return FALSE;

  length = json_array_get_length (worker_ids);
  for (guint i = 0; i < length; i++)
    {
      JsonNode *node = json_array_get_element (worker_ids, i);

      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING ||
          !is_customer_id (json_node_get_string (node)))
        return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                            _("WorkerIds[%u] is not a worker id (an “A” followed by "
                              "upper-case letters and digits)"), i);
    }

  json_builder_set_member_name (response, "NotifyWorkersFailureStatuses");
  json_builder_begin_array (response);

  for (guint i = 0; i < length; i++)
    {
      const char *worker_id = json_array_get_string_element (worker_ids, i);
      g_autofree char *id = NULL;
      gboolean found = FALSE;
      gint64 one = 0;

      if (!g_hash_table_add (seen, (gpointer)worker_id))
        continue;

      if (!kp_db_query_int (ctx->db, &one, &found, &local_error,
                            "SELECT 1 FROM assignments a JOIN hits h ON h.id = a.hit_id "
                            "WHERE h.requester_id = $1 AND a.worker_id = $2 "
                            "  AND a.status IN ('Approved', 'Rejected') LIMIT 1",
                            "ss", ctx->requester_id, worker_id))
        return kp_api_fail_db (ctx, error, local_error);

      if (!found)
        {
          g_autofree char *text =
            g_strdup_printf (_("Cannot send a message to worker %s: you have not approved "
                               "or rejected any work of theirs"), worker_id);

          json_builder_begin_object (response);
          kp_json_add_string (response, "NotifyWorkersFailureCode", "HardFailure");
          kp_json_add_string (response, "NotifyWorkersFailureMessage", text);
          kp_json_add_string (response, "WorkerId", worker_id);
          json_builder_end_object (response);
          continue;
        }

      id = kp_api_new_id ();
      if (!kp_db_exec (ctx->db, NULL, &local_error,
                       "INSERT INTO worker_messages (id, requester_id, worker_id, subject, "
                       "  message_text, created) VALUES ($1, $2, $3, $4, $5, $6)",
                       "sssssi", id, ctx->requester_id, worker_id, subject, message, ctx->now))
        return kp_api_fail_db (ctx, error, local_error);
    }

  json_builder_end_array (response);
  return TRUE;
}

/* The account */

static gboolean
get_account_balance (KpCtx        *ctx,
                     JsonObject   *request,
                     JsonBuilder  *response,
                     GError      **error)
{
  gint64 available = 0;
  gint64 on_hold = 0;

  if (!kp_ledger_get_balance (ctx, ctx->requester_id, &available, &on_hold, error))
    return FALSE;

  kp_json_add_money (response, "AvailableBalance", available);
  kp_json_add_money (response, "OnHoldBalance", on_hold);
  return TRUE;
}

/* Notifications */

/* Checks a NotificationSpecification; on success *event_types_json is the
 * normalised JSON array of its event types (duplicates removed). */
static gboolean
check_notification (KpCtx       *ctx,
                    JsonObject  *spec,
                    gboolean     allow_ping,
                    const char **destination,
                    const char **transport,
                    const char **version,
                    char       **event_types_json,
                    GError     **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(JsonNode) root = NULL;
  JsonArray *types = NULL;

  if (!kp_param_check_members (ctx, spec, "Notification",
                               "Destination Transport Version EventTypes", error) ||
      !kp_param_string (ctx, spec, "Destination", TRUE, 1, 1024, destination, error) ||
      !kp_param_enum (ctx, spec, "Transport", TRUE, transports, transport, error) ||
      !kp_param_string (ctx, spec, "Version", TRUE, 1, 64, version, error) ||
      !kp_param_array (ctx, spec, "EventTypes", TRUE, 1, 0, &types, error))
    return FALSE;

  if (!g_strv_contains (versions, *version))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("The notification Version must be “2006-05-05” or “2014-08-15”, "
                          "not “%s”"), *version);

  if (g_str_equal (*transport, "Email"))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("This server does not send email notifications; it delivers "
                          "notifications only to HTTPS endpoints: use Transport SQS or SNS "
                          "with an https:// URL as the Destination"));

  if (!kp_notify_check_destination (ctx, *destination, error))
    return FALSE;

  json_builder_begin_array (builder);
  for (guint i = 0; i < json_array_get_length (types); i++)
    {
      JsonNode *node = json_array_get_element (types, i);
      const char *type;

      if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING ||
          !g_strv_contains (event_types, json_node_get_string (node)))
        {
          g_autofree char *list = g_strjoinv (", ", (char **)event_types);

          return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                              _("Notification.EventTypes[%u] must be one of: %s"), i, list);
        }

      type = json_node_get_string (node);
      if (g_str_equal (type, "Ping") && !allow_ping)
        return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                            _("The event type Ping is only for SendTestEventNotification"));

      if (g_hash_table_add (seen, (gpointer)type))
        json_builder_add_string_value (builder, type);
    }
  json_builder_end_array (builder);

  root = json_builder_get_root (builder);
  *event_types_json = json_to_string (root, FALSE);
  return TRUE;
}

static gboolean
update_notification_settings (KpCtx        *ctx,
                              JsonObject   *request,
                              JsonBuilder  *response,
                              GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *types_json = NULL;
  const char *hit_type_id = NULL;
  const char *destination = NULL;
  const char *transport = NULL;
  const char *version = NULL;
  JsonObject *spec = NULL;
  gboolean active = TRUE;
  gboolean has_active;
  gboolean found = FALSE;
  gint64 one = 0;

  if (!kp_param_entity_id (ctx, request, "HITTypeId", TRUE, &hit_type_id, error) ||
      !kp_param_object (ctx, request, "Notification", FALSE, &spec, error) ||
      !kp_param_bool (ctx, request, "Active", FALSE, &active, error))
    return FALSE;

  has_active = json_object_has_member (request, "Active") &&
               !json_object_get_null_member (request, "Active");

  if (spec == NULL && !has_active)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("Give a Notification, Active, or both"));

  if (spec != NULL &&
      !check_notification (ctx, spec, FALSE, &destination, &transport, &version,
                           &types_json, error))
    return FALSE;

  if (!kp_db_query_int (ctx->db, &one, &found, &local_error,
                        "SELECT 1 FROM hit_types WHERE id = $1 AND requester_id = $2",
                        "ss", hit_type_id, ctx->requester_id))
    return kp_api_fail_db (ctx, error, local_error);
  if (!found)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "HITTypeDoesNotExist",
                        _("HIT type %s does not exist"), hit_type_id);

  if (spec != NULL)
    {
      /* A new specification replaces the old one; it is active unless
       * Active says otherwise. */
      if (!kp_db_exec (ctx->db, NULL, &local_error,
                       "INSERT INTO notification_settings "
                       "  (hit_type_id, destination, transport, version, event_types, active) "
                       "VALUES ($1, $2, $3, $4, $5, $6) "
                       "ON CONFLICT (hit_type_id) DO UPDATE SET "
                       "  destination = excluded.destination, transport = excluded.transport, "
                       "  version = excluded.version, event_types = excluded.event_types, "
                       "  active = excluded.active",
                       "sssssI", hit_type_id, destination, transport, version, types_json,
                       active ? 1 : 0))
        return kp_api_fail_db (ctx, error, local_error);
    }
  else
    {
      guint n_changed = 0;

      if (!kp_db_exec (ctx->db, &n_changed, &local_error,
                       "UPDATE notification_settings SET active = $2 WHERE hit_type_id = $1",
                       "sI", hit_type_id, active ? 1 : 0))
        return kp_api_fail_db (ctx, error, local_error);

      if (n_changed == 0)
        return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                            _("HIT type %s has no notification specification yet; give a "
                              "Notification to turn notifications on or off"), hit_type_id);
    }

  return TRUE;
}

static char *
format_timestamp (gint64 epoch)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc (epoch);

  return g_date_time_format (time, "%Y-%m-%dT%H:%M:%SZ");
}

static gboolean
send_test_event_notification (KpCtx        *ctx,
                              JsonObject   *request,
                              JsonBuilder  *response,
                              GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *types_json = NULL;
  g_autofree char *body = NULL;
  g_autofree char *id = NULL;
  g_autofree char *doc_id = NULL;
  g_autofree char *timestamp = NULL;
  const char *destination = NULL;
  const char *transport = NULL;
  const char *version = NULL;
  const char *test_type = NULL;
  JsonObject *spec = NULL;

  if (!kp_param_object (ctx, request, "Notification", TRUE, &spec, error) ||
      !kp_param_enum (ctx, request, "TestEventType", TRUE, event_types, &test_type, error) ||
      !check_notification (ctx, spec, TRUE, &destination, &transport, &version,
                           &types_json, error))
    return FALSE;

  /* The test message has the shape of a real one, with made-up ids for
   * the HIT type, HIT and (for assignment events) assignment. It is sent
   * whether or not EventTypes lists TestEventType, as on MTurk. */
  id = kp_api_new_id ();
  doc_id = kp_api_new_id ();
  timestamp = format_timestamp (ctx->now);

  json_builder_begin_object (builder);
  kp_json_add_string (builder, "EventDocId", doc_id);
  kp_json_add_string (builder, "SourceAccount", ctx->requester_id);
  kp_json_add_string (builder, "CustomerId", ctx->requester_id);
  kp_json_add_string (builder, "EventDocVersion", version);
  json_builder_set_member_name (builder, "Events");
  json_builder_begin_array (builder);
  json_builder_begin_object (builder);
  kp_json_add_string (builder, "EventType", test_type);
  kp_json_add_string (builder, "EventTimestamp", timestamp);
  if (!g_str_equal (test_type, "Ping"))
    {
      g_autofree char *hit_type_id = kp_api_new_id ();
      g_autofree char *hit_id = kp_api_new_id ();

      kp_json_add_string (builder, "HITTypeId", hit_type_id);
      kp_json_add_string (builder, "HITId", hit_id);
      if (g_str_has_prefix (test_type, "Assignment"))
        {
          g_autofree char *assignment_id = kp_api_new_id ();

          kp_json_add_string (builder, "AssignmentId", assignment_id);
        }
    }
  json_builder_end_object (builder);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  body = json_to_string (root, FALSE);

  /* Queued for now: the server kicks the notifier once this is committed. */
  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "INSERT INTO notification_outbox (id, destination, body, next_attempt, created) "
                   "VALUES ($1, $2, $3, $4, $4)",
                   "sssi", id, destination, body, ctx->now))
    return kp_api_fail_db (ctx, error, local_error);

  return TRUE;
}

const KpOperation kp_mturk_workers_operations[] = {
  { "CreateWorkerBlock", "WorkerId Reason", create_worker_block },
  { "DeleteWorkerBlock", "WorkerId Reason", delete_worker_block },
  { "ListWorkerBlocks", "NextToken MaxResults", list_worker_blocks },
  { "SendBonus", "WorkerId BonusAmount AssignmentId Reason UniqueRequestToken", send_bonus },
  { "ListBonusPayments", "HITId AssignmentId NextToken MaxResults", list_bonus_payments },
  { "NotifyWorkers", "Subject MessageText WorkerIds", notify_workers },
  { "GetAccountBalance", "", get_account_balance },
  { "UpdateNotificationSettings", "HITTypeId Notification Active", update_notification_settings },
  { "SendTestEventNotification", "Notification TestEventType", send_test_event_notification },
  { NULL }
};
