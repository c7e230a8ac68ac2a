/* kp-review-policy.c: MTurk's review policies, evaluated
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Results and actions are rows of review_results, in the shapes of MTurk's
 * ReviewResultDetail ({SubjectId, SubjectType, QuestionId, Key, Value})
 * and ReviewActionDetail ({ActionId, ActionName, TargetId, TargetType,
 * Status, CompleteTime, Result, ErrorCode}), with the keys of MTurk's
 * documentation: KnownAnswerCorrect and KnownAnswerScore for
 * ScoreMyKnownAnswers; PluralityAnswer, PluralityLevel and
 * AgreedWithPlurality for SimplePlurality, plus HITAgreementScore and
 * WorkerAgreementScore for the two scores MTurk's documentation defines
 * without naming a key.
 *
 * Actions run as the HIT's requester through the MTurk operations'
 * own code (kp_hits_approve(), RejectAssignment,
 * CreateAdditionalAssignmentsForHIT, UpdateExpirationForHIT), each in a
 * savepoint: one that fails is rolled back and recorded as Failed with the
 * operation's error code, and the submission stands.
 */

#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include <glib/gi18n.h>

#include "kp-review-policy.h"
#include "kp-core.h"
#include "kp-hits.h"
#include "kp-quals.h"

#define REASON_MAX          1024      /* RequesterFeedback's limit */
#define MINIMUM_KNOWN_DEFAULT 3
#define EXTEND_MAX_DEFAULT  5
#define MICRO               1000000   /* gold_scores.correct_micro units */
#define SAVEPOINT           "kp_review_action"

/* --- parameters ---------------------------------------------------- */

typedef enum
{
  KIND_INT,
  KIND_TEXT,
  KIND_BOOL,
  KIND_LIST,
  KIND_ANSWER_KEY,
  KIND_OWN_TYPE,
} Kind;

typedef struct
{
  const char *key;
  Kind        kind;
  gint64      min;
  gint64      max;        /* KIND_TEXT: length in characters */
  gboolean    required;
} Spec;

static const Spec known_answer_specs[] = {
  { "AnswerKey", KIND_ANSWER_KEY, 0, 0, TRUE },
  { "ApproveIfKnownAnswerScoreIsAtLeast", KIND_INT, 0, 101, FALSE },
  { "ApproveReason", KIND_TEXT, 0, REASON_MAX, FALSE },
  { "RejectIfKnownAnswerScoreIsLessThan", KIND_INT, 0, 101, FALSE },
  { "RejectReason", KIND_TEXT, 0, REASON_MAX, FALSE },
  { "ExtendIfKnownAnswerScoreIsLessThan", KIND_INT, 0, 101, FALSE },
  { "ExtendMaximumAssignments", KIND_INT, 2, 25, FALSE },
  { "ExtendMinimumTimeInSeconds", KIND_INT, 3600, 31536000, FALSE },
  /* Kempelen's own (docs/quality.md) */
  { "ScoreQualificationTypeId", KIND_OWN_TYPE, 0, 0, FALSE },
  { "RevokeScoreIfLessThan", KIND_INT, 0, 101, FALSE },
  { "MinimumKnownAnswers", KIND_INT, 1, 1000000, FALSE },
  { NULL }
};

static const Spec plurality_specs[] = {
  { "QuestionIds", KIND_LIST, 0, 0, TRUE },
  { "QuestionAgreementThreshold", KIND_INT, 0, 100, TRUE },
  { "DisregardAssignmentIfRejected", KIND_BOOL, 0, 0, FALSE },
  { "DisregardAssignmentIfKnownAnswerScoreIsLessThan", KIND_INT, 0, 101, FALSE },
  { "ExtendIfHITAgreementScoreIsLessThan", KIND_INT, 0, 101, FALSE },
  { "ExtendMaximumAssignments", KIND_INT, 1, 1000000, FALSE },
  { "ExtendMinimumTimeInSeconds", KIND_INT, 3600, 31536000, FALSE },
  { "ApproveIfWorkerAgreementScoreIsAtLeast", KIND_INT, 0, 101, FALSE },
  { "ApproveReason", KIND_TEXT, 0, REASON_MAX, FALSE },
  { "RejectIfWorkerAgreementScoreIsLessThan", KIND_INT, 0, 101, FALSE },
  { "RejectReason", KIND_TEXT, 0, REASON_MAX, FALSE },
  { NULL }
};

static JsonArray *
member_array (JsonObject *object,
              const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

/* The policy's Parameter named key, or NULL. */
static JsonObject *
policy_parameter (JsonObject *policy,
                  const char *key)
{
  JsonArray *parameters = member_array (policy, "Parameters");

  for (guint i = 0; parameters != NULL && i < json_array_get_length (parameters); i++)
    {
      JsonObject *parameter = json_array_get_object_element (parameters, i);

      if (parameter != NULL &&
          g_strcmp0 (json_object_get_string_member_with_default (parameter, "Key", NULL),
                     key) == 0)
        return parameter;
    }

  return NULL;
}

static guint
n_values (JsonObject *parameter)
{
  JsonArray *values = member_array (parameter, "Values");

  return values != NULL ? json_array_get_length (values) : 0;
}

static const char *
value_at (JsonObject *parameter,
          guint       i)
{
  return json_array_get_string_element (member_array (parameter, "Values"), i);
}

/* The first value of a (validated, stored) parameter, or NULL. */
static const char *
policy_text (JsonObject *policy,
             const char *key)
{
  JsonObject *parameter = policy_parameter (policy, key);

  return parameter != NULL && n_values (parameter) > 0 ? value_at (parameter, 0) : NULL;
}

static gboolean
parse_int (const char *text,
           gint64      min,
           gint64      max,
           gint64     *out)
{
  g_autofree char *stripped = g_strstrip (g_strdup (text != NULL ? text : ""));

  return g_ascii_string_to_signed (stripped, 10, min, max, out, NULL);
}

static gboolean
parse_bool (const char *text,
            gboolean   *out)
{
  g_autofree char *stripped = g_strstrip (g_strdup (text != NULL ? text : ""));

  if (g_ascii_strcasecmp (stripped, "true") == 0 || g_ascii_strcasecmp (stripped, "t") == 0)
    *out = TRUE;
  else if (g_ascii_strcasecmp (stripped, "false") == 0 || g_ascii_strcasecmp (stripped, "f") == 0)
    *out = FALSE;
  else
    return FALSE;
  return TRUE;
}

/* An integer parameter of a stored policy: TRUE with *out set when given. */
static gboolean
policy_int (JsonObject *policy,
            const char *key,
            gint64     *out)
{
  const char *text = policy_text (policy, key);

  return text != NULL && parse_int (text, G_MININT64, G_MAXINT64, out);
}

/* QuestionIds: each value may itself be a comma-separated list (MTurk's
 * documentation describes one such string; boto3 users pass a list). */
static GPtrArray *
policy_list (JsonObject *policy,
             const char *key)
{
  GPtrArray *list = g_ptr_array_new_with_free_func (g_free);
  JsonObject *parameter = policy_parameter (policy, key);

  for (guint i = 0; parameter != NULL && i < n_values (parameter); i++)
    {
      g_auto(GStrv) parts = g_strsplit (value_at (parameter, i), ",", -1);

      for (guint j = 0; parts[j] != NULL; j++)
        {
          char *id = g_strstrip (g_strdup (parts[j]));

          if (*id == '\0' || g_ptr_array_find_with_equal_func (list, id, g_str_equal, NULL))
            g_free (id);
          else
            g_ptr_array_add (list, id);
        }
    }

  return list;
}

static gboolean
fail_parameter (KpCtx       *ctx,
                GError     **error,
                const char  *where,
                const char  *message)
{
  return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                      "%s: %s", where, message);
}

static gboolean
check_parameter (KpCtx       *ctx,
                 const Spec  *spec,
                 JsonObject  *parameter,
                 const char  *where,
                 GError     **error)
{
  JsonArray *entries = member_array (parameter, "MapEntries");
  guint n = n_values (parameter);
  gint64 number = 0;
  gboolean flag = FALSE;

  if (spec->kind != KIND_ANSWER_KEY && entries != NULL && json_array_get_length (entries) > 0)
    return fail_parameter (ctx, error, where,
                           _("only AnswerKey takes MapEntries; give this parameter Values"));

  switch (spec->kind)
    {
    case KIND_INT:
    case KIND_TEXT:
    case KIND_BOOL:
    case KIND_OWN_TYPE:
      if (n != 1)
        return fail_parameter (ctx, error, where, _("give exactly one value in Values"));
      break;
    case KIND_LIST:
      if (n == 0)
        return fail_parameter (ctx, error, where, _("give at least one value in Values"));
      break;
    case KIND_ANSWER_KEY:
    default:
      break;
    }

  switch (spec->kind)
    {
    case KIND_INT:
      if (!parse_int (value_at (parameter, 0), spec->min, spec->max, &number))
        {
          g_autofree char *message =
            g_strdup_printf (_("“%s” is not a whole number from %" PRId64 " to %" PRId64),
                             value_at (parameter, 0), spec->min, spec->max);
          return fail_parameter (ctx, error, where, message);
        }
      return TRUE;

    case KIND_TEXT:
      if (g_utf8_strlen (value_at (parameter, 0), -1) > spec->max)
        {
          g_autofree char *message =
            g_strdup_printf (_("the value is longer than %" PRId64 " characters"), spec->max);
          return fail_parameter (ctx, error, where, message);
        }
      return TRUE;

    case KIND_BOOL:
      if (!parse_bool (value_at (parameter, 0), &flag))
        return fail_parameter (ctx, error, where, _("the value must be true or false"));
      return TRUE;

    case KIND_LIST:
      {
        g_autoptr(JsonObject) wrapper = json_object_new ();
        g_autoptr(JsonArray) parameters = json_array_new ();
        g_autoptr(GPtrArray) list = NULL;

        json_array_add_object_element (parameters, json_object_ref (parameter));
        json_object_set_array_member (wrapper, "Parameters", json_array_ref (parameters));
        list = policy_list (wrapper, spec->key);
        if (list->len == 0)
          return fail_parameter (ctx, error, where, _("name at least one question"));
        return TRUE;
      }

    case KIND_ANSWER_KEY:
      {
        g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

        if (n > 0)
          return fail_parameter (ctx, error, where,
                                 _("AnswerKey takes MapEntries (question → known answer), "
                                   "not Values"));
        if (entries == NULL || json_array_get_length (entries) == 0)
          return fail_parameter (ctx, error, where,
                                 _("AnswerKey needs at least one entry in MapEntries"));

        for (guint i = 0; i < json_array_get_length (entries); i++)
          {
            JsonObject *entry = json_array_get_object_element (entries, i);
            const char *key = json_object_get_string_member_with_default (entry, "Key", "");

            if (n_values (entry) == 0)
              {
                g_autofree char *message =
                  g_strdup_printf (_("the known answer of “%s” has no Values"), key);
                return fail_parameter (ctx, error, where, message);
              }
            if (!g_hash_table_add (seen, (gpointer)key))
              {
                g_autofree char *message =
                  g_strdup_printf (_("“%s” is in the AnswerKey twice"), key);
                return fail_parameter (ctx, error, where, message);
              }
          }
        return TRUE;
      }

    case KIND_OWN_TYPE:
      {
        g_autoptr(GError) local_error = NULL;
        const char *type_id = value_at (parameter, 0);
        gboolean found = FALSE;
        gint64 one = 0;

        if (!kp_db_query_int (ctx->db, &one, &found, &local_error,
                              "SELECT 1 FROM qualification_types WHERE id = $1 "
                              "AND requester_id = $2 AND deleted = 0",
                              "ss", type_id, ctx->requester_id))
          return kp_api_fail_db (ctx, error, local_error);
        if (!found)
          return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "QualificationTypeDoesNotExist",
                              _("%s: qualification type “%s” is not one of yours"),
                              where, type_id);
        return TRUE;
      }

    default:
      g_assert_not_reached ();
    }
}

gboolean
kp_review_policy_validate (KpCtx        *ctx,
                           const char   *member,
                           const char   *policy_name,
                           JsonObject   *policy,
                           GError      **error)
{
  const Spec *specs = g_str_equal (policy_name, KP_POLICY_KNOWN_ANSWERS)
                      ? known_answer_specs : plurality_specs;
  g_autoptr(GHashTable) given = g_hash_table_new (g_str_hash, g_str_equal);
  JsonArray *parameters = member_array (policy, "Parameters");

  for (guint i = 0; parameters != NULL && i < json_array_get_length (parameters); i++)
    {
      JsonObject *parameter = json_array_get_object_element (parameters, i);
      const char *key = json_object_get_string_member_with_default (parameter, "Key", "");
      g_autofree char *where = g_strdup_printf ("%s.Parameters[%u] (%s)", member, i, key);
      const Spec *spec = NULL;

      for (guint s = 0; specs[s].key != NULL && spec == NULL; s++)
        if (g_str_equal (specs[s].key, key))
          spec = &specs[s];

      if (spec == NULL)
        {
          g_autofree char *message =
            g_strdup_printf (_("%s has no parameter “%s”"), policy_name, key);
          return fail_parameter (ctx, error, where, message);
        }
      if (!g_hash_table_add (given, (gpointer)spec->key))
        return fail_parameter (ctx, error, where, _("the parameter is given twice"));
      if (!check_parameter (ctx, spec, parameter, where, error))
        return FALSE;
    }

  for (guint s = 0; specs[s].key != NULL; s++)
    if (specs[s].required && !g_hash_table_contains (given, specs[s].key))
      return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                          _("%s: %s needs the parameter %s"), member, policy_name, specs[s].key);

  if (specs == plurality_specs &&
      g_hash_table_contains (given, "ExtendIfHITAgreementScoreIsLessThan") &&
      (!g_hash_table_contains (given, "ExtendMaximumAssignments") ||
       !g_hash_table_contains (given, "ExtendMinimumTimeInSeconds")))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("%s: ExtendIfHITAgreementScoreIsLessThan needs "
                          "ExtendMaximumAssignments and ExtendMinimumTimeInSeconds"), member);

  if (specs == known_answer_specs &&
      (g_hash_table_contains (given, "RevokeScoreIfLessThan") ||
       g_hash_table_contains (given, "MinimumKnownAnswers")) &&
      !g_hash_table_contains (given, "ScoreQualificationTypeId"))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("%s: RevokeScoreIfLessThan and MinimumKnownAnswers need "
                          "ScoreQualificationTypeId"), member);

  return TRUE;
}

/* --- results and actions ------------------------------------------- */

typedef struct
{
  KpCtx       *ctx;          /* the submitting request's */
  KpCtx        as_requester; /* the same, acting as the HIT's requester */
  const char  *hit_id;
  const char  *level;        /* "Assignment" or "HIT" */
  const char  *policy_name;
} Review;

static void
review_init (Review     *review,
             KpCtx      *ctx,
             const char *hit_id,
             const char *requester_id,
             const char *level,
             const char *policy_name)
{
  review->ctx = ctx;
  review->as_requester = *ctx;
  review->as_requester.requester_id = requester_id;
  review->as_requester.worker_id = NULL;
  review->as_requester.turk_error_code = NULL;
  review->hit_id = hit_id;
  review->level = level;
  review->policy_name = policy_name;
}

static void
review_clear (Review *review)
{
  g_clear_pointer (&review->as_requester.turk_error_code, g_free);
}

static gboolean
store_record (Review       *review,
              const char   *kind,
              JsonBuilder  *builder,
              GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *body = NULL;
  g_autofree char *id = kp_api_new_id ();

  json_generator_set_root (generator, root);
  body = json_generator_to_data (generator, NULL);

  if (!kp_db_exec (review->ctx->db, NULL, &local_error,
                   "INSERT INTO review_results (id, hit_id, policy_level, policy_name, kind, "
                   "body, created) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                   "ssssssi", id, review->hit_id, review->level, review->policy_name, kind,
                   body, review->ctx->now))
    return kp_api_fail_db (review->ctx, error, local_error);

  return TRUE;
}

/* A ReviewResultDetail. question_id may be NULL. */
static gboolean
add_result (Review      *review,
            const char  *subject_id,
            const char  *subject_type,
            const char  *question_id,
            const char  *key,
            const char  *value,
            GError     **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  kp_json_add_string (builder, "SubjectId", subject_id);
  kp_json_add_string (builder, "SubjectType", subject_type);
  kp_json_add_string (builder, "QuestionId", question_id);
  kp_json_add_string (builder, "Key", key);
  kp_json_add_string (builder, "Value", value);
  json_builder_end_object (builder);

  return store_record (review, "result", builder, error);
}

static gboolean
add_int_result (Review      *review,
                const char  *subject_id,
                const char  *subject_type,
                const char  *question_id,
                const char  *key,
                gint64       value,
                GError     **error)
{
  g_autofree char *text = g_strdup_printf ("%" PRId64, value);

  return add_result (review, subject_id, subject_type, question_id, key, text, error);
}

/* A ReviewActionDetail. error_code may be NULL. */
static gboolean
add_action (Review      *review,
            const char  *action_name,
            const char  *target_id,
            const char  *target_type,
            const char  *status,
            const char  *result,
            const char  *error_code,
            GError     **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *id = kp_api_new_id ();

  json_builder_begin_object (builder);
  kp_json_add_string (builder, "ActionId", id);
  kp_json_add_string (builder, "ActionName", action_name);
  kp_json_add_string (builder, "TargetId", target_id);
  kp_json_add_string (builder, "TargetType", target_type);
  kp_json_add_string (builder, "Status", status);
  kp_json_add_timestamp (builder, "CompleteTime", review->ctx->now);
  kp_json_add_string (builder, "Result", result);
  kp_json_add_string (builder, "ErrorCode", error_code);
  json_builder_end_object (builder);

  return store_record (review, "action", builder, error);
}

static gboolean
begin_action (Review  *review,
              GError **error)
{
  g_autoptr(GError) local_error = NULL;

  g_clear_pointer (&review->as_requester.turk_error_code, g_free);
  if (!kp_db_savepoint (review->ctx->db, SAVEPOINT, &local_error))
    return kp_api_fail_db (review->ctx, error, local_error);
  return TRUE;
}

/* Ends the action begun with begin_action() and records it: Succeeded with
 * result when ok, else (a RequestError of the operation) rolled back and
 * Failed with the operation's error code. Store and service errors are not
 * the action's: they fail the whole submission. */
static gboolean
end_action (Review      *review,
            const char  *action_name,
            const char  *target_id,
            const char  *target_type,
            gboolean     ok,
            const char  *result,
            GError      *action_error,
            GError     **error)
{
  g_autoptr(GError) local_error = NULL;

  if (ok)
    {
      if (!kp_db_release (review->ctx->db, SAVEPOINT, &local_error))
        return kp_api_fail_db (review->ctx, error, local_error);
      return add_action (review, action_name, target_id, target_type, "Succeeded", result,
                         NULL, error);
    }

  kp_db_rollback_to (review->ctx->db, SAVEPOINT);
  if (!kp_db_release (review->ctx->db, SAVEPOINT, &local_error))
    return kp_api_fail_db (review->ctx, error, local_error);

  if (action_error == NULL ||
      g_error_matches (action_error, KP_API_ERROR, KP_API_ERROR_SERVICE) ||
      g_error_matches (action_error, KP_API_ERROR, KP_API_ERROR_THROTTLED) ||
      action_error->domain != KP_API_ERROR)
    {
      g_free (review->ctx->turk_error_code);
      review->ctx->turk_error_code = g_strdup (review->as_requester.turk_error_code);
      if (action_error != NULL)
        g_propagate_error (error, g_error_copy (action_error));
      else
        kp_api_fail (review->ctx, error, KP_API_ERROR_SERVICE, "ServiceFault",
                     _("The server could not complete the request; nothing was changed"));
      return FALSE;
    }

  return add_action (review, action_name, target_id, target_type, "Failed",
                     action_error->message, review->as_requester.turk_error_code, error);
}

/* Runs one MTurk operation as the requester. */
static gboolean
call_operation (KpCtx       *ctx,
                const char  *name,
                JsonObject  *request,
                GError     **error)
{
  const KpOperation *operation = kp_api_find_operation (name);
  g_autoptr(JsonBuilder) response = json_builder_new ();
  gboolean ok;

  g_assert (operation != NULL);

  json_builder_begin_object (response);
  ok = operation->func (ctx, request, response, error);
  json_builder_end_object (response);
  return ok;
}

static gboolean
assignment_status (KpCtx       *ctx,
                   const char  *assignment_id,
                   char       **status,
                   GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT status FROM assignments WHERE id = $1", "s", assignment_id);
  if (rows == NULL)
    return kp_api_fail_db (ctx, error, local_error);
  *status = g_strdup (kp_rows_get_n_rows (rows) > 0 ? kp_rows_get_text (rows, 0, 0) : "");
  return TRUE;
}

static gboolean
action_approve (Review      *review,
                const char  *assignment_id,
                const char  *reason,
                GError     **error)
{
  g_autoptr(GError) action_error = NULL;
  g_autofree char *status = NULL;
  gboolean ok;

  if (!assignment_status (review->ctx, assignment_id, &status, error))
    return FALSE;
  /* As on MTurk: approving what is already approved succeeds. */
  if (g_str_equal (status, "Approved"))
    return add_action (review, "approve", assignment_id, "Assignment", "Succeeded",
                       "Already approved", NULL, error);

  if (!begin_action (review, error))
    return FALSE;
  /* What ApproveAssignment runs. */
  ok = kp_hits_approve (&review->as_requester, assignment_id, reason, FALSE, &action_error);
  return end_action (review, "approve", assignment_id, "Assignment", ok, "Approved",
                     action_error, error);
}

static gboolean
action_reject (Review      *review,
               const char  *assignment_id,
               const char  *reason,
               GError     **error)
{
  g_autoptr(GError) action_error = NULL;
  g_autoptr(JsonObject) request = json_object_new ();
  g_autofree char *status = NULL;
  gboolean ok;

  if (!assignment_status (review->ctx, assignment_id, &status, error))
    return FALSE;
  if (g_str_equal (status, "Rejected"))
    return add_action (review, "reject", assignment_id, "Assignment", "Succeeded",
                       "Already rejected", NULL, error);

  /* RejectAssignment needs feedback; a neutral one when the policy gives
   * none (it must not tell the worker the HIT was a gold question). */
  json_object_set_string_member (request, "AssignmentId", assignment_id);
  json_object_set_string_member (request, "RequesterFeedback",
                                 reason != NULL && *reason != '\0'
                                 ? reason
                                 : _("Your work did not meet the requester's quality criteria."));

  if (!begin_action (review, error))
    return FALSE;
  ok = call_operation (&review->as_requester, "RejectAssignment", request, &action_error);
  return end_action (review, "reject", assignment_id, "Assignment", ok, "Rejected",
                     action_error, error);
}

/* One more assignment, up to a total of max_total (as MTurk, a HIT made
 * with fewer than 10 assignments is not extended to 10 or more), and a
 * lifetime of at least min_time seconds from now. */
static gboolean
action_extend (Review      *review,
               gint64       max_total,
               gint64       min_time,
               GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GError) action_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  g_autoptr(JsonObject) request = json_object_new ();
  g_autofree char *result = NULL;
  gint64 max, expiration;
  gboolean ok;

  rows = kp_db_query (review->ctx->db, &local_error,
                      "SELECT max_assignments, expiration FROM hits WHERE id = $1",
                      "s", review->hit_id);
  if (rows == NULL)
    return kp_api_fail_db (review->ctx, error, local_error);
  if (kp_rows_get_n_rows (rows) == 0)
    return TRUE;
  max = kp_rows_get_int (rows, 0, 0);
  expiration = kp_rows_get_int (rows, 0, 1);

  if (max < 10 && max_total >= 10)
    max_total = 9;
  if (max >= max_total)
    {
      g_autofree char *text =
        g_strdup_printf ("The HIT already has %" PRId64 " assignments, the most this "
                         "policy extends it to", max);
      return add_action (review, "extend", review->hit_id, "HIT", "Succeeded", text,
                         NULL, error);
    }

  if (!begin_action (review, error))
    return FALSE;

  /* What CreateAdditionalAssignmentsForHIT and UpdateExpirationForHIT run. */
  json_object_set_string_member (request, "HITId", review->hit_id);
  json_object_set_int_member (request, "NumberOfAdditionalAssignments", 1);
  ok = call_operation (&review->as_requester, "CreateAdditionalAssignmentsForHIT", request,
                       &action_error);
  if (ok && min_time > 0 && expiration < review->ctx->now + min_time)
    {
      g_autoptr(JsonObject) update = json_object_new ();

      json_object_set_string_member (update, "HITId", review->hit_id);
      json_object_set_int_member (update, "ExpireAt", review->ctx->now + min_time);
      ok = call_operation (&review->as_requester, "UpdateExpirationForHIT", update,
                           &action_error);
    }

  result = g_strdup_printf ("Extended to %" PRId64 " assignments", max + 1);
  return end_action (review, "extend", review->hit_id, "HIT", ok, result, action_error, error);
}

/* --- ScoreMyKnownAnswers ------------------------------------------- */

static JsonObject *
answer_object (const char *xml)
{
  JsonObject *object = NULL;

  if (xml != NULL)
    object = kp_answer_object_from_xml (xml, NULL);
  return object != NULL ? object : json_object_new ();
}

/* A MapEntry's known answer: one value parsed (a label, a text, or JSON);
 * several values are a set of selections. */
static JsonNode *
known_value (JsonObject *entry)
{
  guint n = n_values (entry);
  JsonArray *array;

  if (n == 1)
    return kp_answer_value_parse (value_at (entry, 0));

  array = json_array_new ();
  for (guint i = 0; i < n; i++)
    json_array_add_string_element (array, value_at (entry, i));
  return json_node_init_array (json_node_alloc (), array);
}

static gint64
percent (double fraction)
{
  gint64 value = (gint64)floor (fraction * 100.0 + 1e-9);

  return CLAMP (value, 0, 100);
}

/* The running gold score of ScoreQualificationTypeId, and the
 * qualification that shows it. */
static gboolean
update_gold_score (KpCtx       *ctx,
                   const char  *requester_id,
                   const char  *type_id,
                   const char  *worker_id,
                   JsonObject  *policy,
                   gint64       known,
                   gint64       correct_micro,
                   GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) totals = NULL;
  g_autoptr(KpRows) held = NULL;
  gint64 min_known = MINIMUM_KNOWN_DEFAULT;
  gint64 revoke_below = -1;
  gint64 value, total_known, total_micro;
  gboolean found = FALSE;
  gboolean revoke;
  gint64 one = 0;

  /* A type deleted since the HIT was made keeps no score. */
  if (!kp_db_query_int (ctx->db, &one, &found, &local_error,
                        "SELECT 1 FROM qualification_types WHERE id = $1 AND requester_id = $2 "
                        "AND deleted = 0",
                        "ss", type_id, requester_id))
    return kp_api_fail_db (ctx, error, local_error);
  if (!found)
    return TRUE;

  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "INSERT INTO gold_scores (requester_id, qualification_type_id, worker_id, "
                   "known, correct_micro, updated) VALUES ($1, $2, $3, $4, $5, $6) "
                   "ON CONFLICT (requester_id, qualification_type_id, worker_id) DO UPDATE SET "
                   "known = gold_scores.known + excluded.known, "
                   "correct_micro = gold_scores.correct_micro + excluded.correct_micro, "
                   "updated = excluded.updated",
                   "sssiii", requester_id, type_id, worker_id, known, correct_micro, ctx->now))
    return kp_api_fail_db (ctx, error, local_error);

  totals = kp_db_query (ctx->db, &local_error,
                        "SELECT known, correct_micro FROM gold_scores WHERE requester_id = $1 "
                        "AND qualification_type_id = $2 AND worker_id = $3",
                        "sss", requester_id, type_id, worker_id);
  if (totals == NULL)
    return kp_api_fail_db (ctx, error, local_error);
  total_known = kp_rows_get_int (totals, 0, 0);
  total_micro = kp_rows_get_int (totals, 0, 1);
  value = total_known > 0 ? (100 * total_micro) / (total_known * MICRO) : 0;

  policy_int (policy, "MinimumKnownAnswers", &min_known);
  policy_int (policy, "RevokeScoreIfLessThan", &revoke_below);
  revoke = revoke_below >= 0 && total_known >= min_known && value < revoke_below;

  held = kp_db_query (ctx->db, &local_error,
                      "SELECT status FROM worker_qualifications "
                      "WHERE qualification_type_id = $1 AND worker_id = $2",
                      "ss", type_id, worker_id);
  if (held == NULL)
    return kp_api_fail_db (ctx, error, local_error);

  if (kp_rows_get_n_rows (held) == 0)
    {
      /* Granted at the first scored answer (and revoked at once if that
       * already meets the rule). */
      if (!kp_db_exec (ctx->db, NULL, &local_error,
                       "INSERT INTO worker_qualifications (qualification_type_id, worker_id, "
                       "integer_value, status, grant_time) VALUES ($1, $2, $3, $4, $5)",
                       "ssisi", type_id, worker_id, value, revoke ? "Revoked" : "Granted",
                       ctx->now))
        return kp_api_fail_db (ctx, error, local_error);
    }
  else if (g_str_equal (kp_rows_get_text (held, 0, 0), "Granted"))
    {
      /* As DisassociateQualificationFromWorker revokes. */
      if (!kp_db_exec (ctx->db, NULL, &local_error,
                       "UPDATE worker_qualifications SET integer_value = $3, status = $4 "
                       "WHERE qualification_type_id = $1 AND worker_id = $2",
                       "ssis", type_id, worker_id, value, revoke ? "Revoked" : "Granted"))
        return kp_api_fail_db (ctx, error, local_error);
    }
  /* Revoked: never granted again automatically. */

  return TRUE;
}

static gboolean
score_known_answers (KpCtx       *ctx,
                     const char  *hit_id,
                     const char  *requester_id,
                     const char  *assignment_id,
                     const char  *worker_id,
                     const char  *answer_xml,
                     JsonObject  *policy,
                     GError     **error)
{
  Review review;
  g_autoptr(JsonObject) answer = answer_object (answer_xml);
  g_autoptr(JsonObject) known = json_object_new ();
  JsonObject *key = policy_parameter (policy, "AnswerKey");
  JsonArray *entries = key != NULL ? member_array (key, "MapEntries") : NULL;
  const char *type_id = policy_text (policy, "ScoreQualificationTypeId");
  gint64 approve_at = -1, reject_below = -1, extend_below = -1;
  gint64 extend_max = EXTEND_MAX_DEFAULT, extend_time = 0;
  gint64 n_known = 0, correct_micro = 0, score;
  gboolean ok = FALSE;

  if (entries == NULL || json_array_get_length (entries) == 0)
    return TRUE;

  review_init (&review, ctx, hit_id, requester_id, "Assignment", KP_POLICY_KNOWN_ANSWERS);

  for (guint i = 0; i < json_array_get_length (entries); i++)
    {
      JsonObject *entry = json_array_get_object_element (entries, i);
      const char *question = json_object_get_string_member_with_default (entry, "Key", "");
      g_autoptr(JsonObject) single = json_object_new ();
      JsonNode *value = known_value (entry);
      double question_score;

      json_object_set_member (single, question, json_node_copy (value));
      json_object_set_member (known, question, value);

      question_score = kp_consolidate_score (answer, single, NULL);
      n_known++;
      correct_micro += (gint64)llround (CLAMP (question_score, 0.0, 1.0) * MICRO);

      if (!add_result (&review, assignment_id, "Assignment", question, "KnownAnswerCorrect",
                       question_score >= 1.0 - 1e-9 ? "1" : "0", error))
        goto out;
    }

  score = percent (kp_consolidate_score (answer, known, NULL));
  if (!add_int_result (&review, assignment_id, "Assignment", NULL, "KnownAnswerScore",
                       score, error))
    goto out;

  if (type_id != NULL &&
      !update_gold_score (ctx, requester_id, type_id, worker_id, policy, n_known,
                          correct_micro, error))
    goto out;

  policy_int (policy, "ApproveIfKnownAnswerScoreIsAtLeast", &approve_at);
  policy_int (policy, "RejectIfKnownAnswerScoreIsLessThan", &reject_below);
  policy_int (policy, "ExtendIfKnownAnswerScoreIsLessThan", &extend_below);
  policy_int (policy, "ExtendMaximumAssignments", &extend_max);
  policy_int (policy, "ExtendMinimumTimeInSeconds", &extend_time);

  if (approve_at >= 0 && score >= approve_at)
    {
      if (!action_approve (&review, assignment_id, policy_text (policy, "ApproveReason"), error))
        goto out;
    }
  else if (reject_below >= 0 && score < reject_below)
    {
      if (!action_reject (&review, assignment_id, policy_text (policy, "RejectReason"), error))
        goto out;
    }

  if (extend_below >= 0 && score < extend_below &&
      !action_extend (&review, extend_max, extend_time, error))
    goto out;

  ok = TRUE;

out:
  review_clear (&review);
  return ok;
}

/* --- SimplePlurality ----------------------------------------------- */

typedef struct
{
  char       *id;
  char       *status;
  JsonObject *answer;
  guint       n_agreed_questions;   /* questions with an agreed answer it answered… */
  guint       n_agreeing;           /* …with that answer */
} Ballot;

static void
ballot_free (gpointer data)
{
  Ballot *ballot = data;

  g_free (ballot->id);
  g_free (ballot->status);
  g_clear_pointer (&ballot->answer, json_object_unref);
  g_free (ballot);
}

/* Two answers to a question agree when each scores 1 against the other
 * with kp_consolidate_score(): the same label ("Cat" and {"label": "Cat"}),
 * the same set of selections, the same text after normalisation, boxes
 * that all match at the default IoU threshold. */
static gboolean
same_answer (const char *question,
             JsonNode   *a,
             JsonNode   *b)
{
  g_autoptr(JsonObject) x = json_object_new ();
  g_autoptr(JsonObject) y = json_object_new ();

  json_object_set_member (x, question, json_node_copy (a));
  json_object_set_member (y, question, json_node_copy (b));

  return kp_consolidate_score (x, y, NULL) >= 1.0 - 1e-9 &&
         kp_consolidate_score (y, x, NULL) >= 1.0 - 1e-9;
}

static char *
answer_text (JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = NULL;

  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (node));

  generator = json_generator_new ();
  json_generator_set_root (generator, node);
  return json_generator_to_data (generator, NULL);
}

/* KnownAnswerScore of each assignment of the HIT, from the assignment
 * policy's results. */
static GHashTable *
known_answer_scores (KpCtx       *ctx,
                     const char  *hit_id,
                     GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  GHashTable *scores = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT body FROM review_results WHERE hit_id = $1 "
                      "AND policy_level = 'Assignment' AND kind = 'result'",
                      "s", hit_id);
  if (rows == NULL)
    {
      g_hash_table_unref (scores);
      kp_api_fail_db (ctx, error, local_error);
      return NULL;
    }

  for (guint r = 0; r < kp_rows_get_n_rows (rows); r++)
    {
      g_autoptr(JsonNode) body = json_from_string (kp_rows_get_text (rows, r, 0), NULL);
      JsonObject *object;
      gint64 value = 0;

      if (body == NULL || !JSON_NODE_HOLDS_OBJECT (body))
        continue;
      object = json_node_get_object (body);
      if (g_strcmp0 (json_object_get_string_member_with_default (object, "Key", NULL),
                     "KnownAnswerScore") != 0 ||
          !parse_int (json_object_get_string_member_with_default (object, "Value", NULL),
                      0, 100, &value))
        continue;
      g_hash_table_insert (scores,
                           g_strdup (json_object_get_string_member_with_default (object,
                                                                                 "SubjectId",
                                                                                 "")),
                           GINT_TO_POINTER ((int)value + 1));
    }

  return scores;
}

typedef struct
{
  JsonNode  *answer;    /* the first of the group's answers */
  GPtrArray *members;   /* of Ballot * */
} Group;

static void
group_free (gpointer data)
{
  Group *group = data;

  g_ptr_array_unref (group->members);
  g_free (group);
}

static gboolean
evaluate_plurality (KpCtx       *ctx,
                    const char  *hit_id,
                    const char  *requester_id,
                    JsonObject  *policy,
                    GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  g_autoptr(GPtrArray) questions = policy_list (policy, "QuestionIds");
  g_autoptr(GPtrArray) ballots = g_ptr_array_new_with_free_func (ballot_free);
  g_autoptr(GHashTable) known_scores = NULL;
  Review review;
  gint64 threshold = 0, disregard_below = -1, extend_below = -1;
  gint64 extend_max = 0, extend_time = 0, approve_at = -1, reject_below = -1;
  gboolean disregard_rejected = FALSE;
  guint n_agreed = 0;
  gboolean ok = FALSE;

  policy_int (policy, "QuestionAgreementThreshold", &threshold);
  policy_int (policy, "DisregardAssignmentIfKnownAnswerScoreIsLessThan", &disregard_below);
  policy_int (policy, "ExtendIfHITAgreementScoreIsLessThan", &extend_below);
  policy_int (policy, "ExtendMaximumAssignments", &extend_max);
  policy_int (policy, "ExtendMinimumTimeInSeconds", &extend_time);
  policy_int (policy, "ApproveIfWorkerAgreementScoreIsAtLeast", &approve_at);
  policy_int (policy, "RejectIfWorkerAgreementScoreIsLessThan", &reject_below);
  if (policy_text (policy, "DisregardAssignmentIfRejected") != NULL)
    parse_bool (policy_text (policy, "DisregardAssignmentIfRejected"), &disregard_rejected);

  known_scores = known_answer_scores (ctx, hit_id, error);
  if (known_scores == NULL)
    return FALSE;

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT id, status, answer FROM assignments WHERE hit_id = $1 "
                      "AND status IN ('Submitted', 'Approved', 'Rejected') "
                      "ORDER BY submit_time, id",
                      "s", hit_id);
  if (rows == NULL)
    return kp_api_fail_db (ctx, error, local_error);

  for (guint r = 0; r < kp_rows_get_n_rows (rows); r++)
    {
      const char *id = kp_rows_get_text (rows, r, 0);
      const char *status = kp_rows_get_text (rows, r, 1);
      gpointer known = g_hash_table_lookup (known_scores, id);
      Ballot *ballot;

      if (disregard_rejected && g_str_equal (status, "Rejected"))
        continue;
      if (disregard_below >= 0 && known != NULL && GPOINTER_TO_INT (known) - 1 < disregard_below)
        continue;

      ballot = g_new0 (Ballot, 1);
      ballot->id = g_strdup (id);
      ballot->status = g_strdup (status);
      ballot->answer = answer_object (kp_rows_get_text (rows, r, 2));
      g_ptr_array_add (ballots, ballot);
    }

  /* A new evaluation (after an extension) replaces the last one's results;
   * actions stay, they happened. */
  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "DELETE FROM review_results WHERE hit_id = $1 AND policy_level = 'HIT' "
                   "AND kind = 'result'",
                   "s", hit_id))
    return kp_api_fail_db (ctx, error, local_error);

  review_init (&review, ctx, hit_id, requester_id, "HIT", KP_POLICY_PLURALITY);

  for (guint q = 0; q < questions->len; q++)
    {
      const char *question = g_ptr_array_index (questions, q);
      g_autoptr(GPtrArray) groups = g_ptr_array_new_with_free_func (group_free);
      Group *best = NULL;
      guint n_answers = 0;
      gint64 level = 0;
      gboolean agreed;

      for (guint b = 0; b < ballots->len; b++)
        {
          Ballot *ballot = g_ptr_array_index (ballots, b);
          JsonNode *node = json_object_get_member (ballot->answer, question);
          Group *group = NULL;

          if (node == NULL || JSON_NODE_HOLDS_NULL (node))
            continue;
          n_answers++;

          for (guint g = 0; g < groups->len && group == NULL; g++)
            if (same_answer (question, ((Group *)g_ptr_array_index (groups, g))->answer, node))
              group = g_ptr_array_index (groups, g);
          if (group == NULL)
            {
              group = g_new0 (Group, 1);
              group->answer = node;
              group->members = g_ptr_array_new ();
              g_ptr_array_add (groups, group);
            }
          g_ptr_array_add (group->members, ballot);
        }

      /* The largest group; of equal ones, the first answered. */
      for (guint g = 0; g < groups->len; g++)
        {
          Group *group = g_ptr_array_index (groups, g);

          if (best == NULL || group->members->len > best->members->len)
            best = group;
        }

      if (best != NULL)
        {
          g_autofree char *text = answer_text (best->answer);

          level = (100 * (gint64)best->members->len) / n_answers;
          if (!add_result (&review, hit_id, "HIT", question, "PluralityAnswer", text, error))
            goto out;
        }
      if (!add_int_result (&review, hit_id, "HIT", question, "PluralityLevel", level, error))
        goto out;

      agreed = best != NULL && level > threshold;
      if (!agreed)
        continue;
      n_agreed++;

      for (guint b = 0; b < ballots->len; b++)
        {
          Ballot *ballot = g_ptr_array_index (ballots, b);
          gboolean with = g_ptr_array_find (best->members, ballot, NULL);

          ballot->n_agreed_questions++;
          if (with)
            ballot->n_agreeing++;
          if (!add_result (&review, ballot->id, "Assignment", question, "AgreedWithPlurality",
                           with ? "1" : "0", error))
            goto out;
        }
    }

  {
    gint64 hit_score = questions->len > 0 ? (100 * (gint64)n_agreed) / questions->len : 0;

    if (!add_int_result (&review, hit_id, "HIT", NULL, "HITAgreementScore", hit_score, error))
      goto out;

    for (guint b = 0; b < ballots->len; b++)
      {
        Ballot *ballot = g_ptr_array_index (ballots, b);
        gint64 worker_score;

        /* Questions without an agreed answer are disregarded; with none
         * at all there is no score to act on. */
        if (ballot->n_agreed_questions == 0)
          continue;
        worker_score = (100 * (gint64)ballot->n_agreeing) / ballot->n_agreed_questions;
        if (!add_int_result (&review, ballot->id, "Assignment", NULL, "WorkerAgreementScore",
                             worker_score, error))
          goto out;

        if (approve_at >= 0 && worker_score >= approve_at)
          {
            if (!action_approve (&review, ballot->id, policy_text (policy, "ApproveReason"),
                                 error))
              goto out;
          }
        else if (reject_below >= 0 && worker_score < reject_below)
          {
            if (!action_reject (&review, ballot->id, policy_text (policy, "RejectReason"),
                                error))
              goto out;
          }
      }

    if (extend_below >= 0 && hit_score < extend_below &&
        !action_extend (&review, extend_max, extend_time, error))
      goto out;
  }

  ok = TRUE;

out:
  review_clear (&review);
  return ok;
}

/* --- entry points -------------------------------------------------- */

static JsonObject *
parse_stored_policy (const char *json)
{
  g_autoptr(JsonNode) node = NULL;

  if (json == NULL)
    return NULL;
  node = json_from_string (json, NULL);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      g_warning ("A stored review policy does not parse: %s", json);
      return NULL;
    }
  return json_object_ref (json_node_get_object (node));
}

gboolean
kp_review_policy_submitted (KpCtx        *ctx,
                            const char   *assignment_id,
                            GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  g_autoptr(JsonObject) assignment_policy = NULL;
  const char *hit_id;
  const char *requester_id;

  g_return_val_if_fail (ctx != NULL, FALSE);
  g_return_val_if_fail (assignment_id != NULL, FALSE);

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT a.hit_id, a.worker_id, a.answer, h.requester_id, "
                      "h.assignment_review_policy, h.hit_review_policy "
                      "FROM assignments a JOIN hits h ON h.id = a.hit_id WHERE a.id = $1 "
                      "AND (h.assignment_review_policy IS NOT NULL "
                      "     OR h.hit_review_policy IS NOT NULL)",
                      "s", assignment_id);
  if (rows == NULL)
    return kp_api_fail_db (ctx, error, local_error);
  if (kp_rows_get_n_rows (rows) == 0)
    return TRUE;

  hit_id = kp_rows_get_text (rows, 0, 0);
  requester_id = kp_rows_get_text (rows, 0, 3);
  assignment_policy = parse_stored_policy (kp_rows_get_text (rows, 0, 4));

  if (assignment_policy != NULL &&
      !score_known_answers (ctx, hit_id, requester_id, assignment_id,
                            kp_rows_get_text (rows, 0, 1), kp_rows_get_text (rows, 0, 2),
                            assignment_policy, error))
    return FALSE;

  if (!kp_rows_is_null (rows, 0, 5))
    return kp_review_policy_hit_reviewable (ctx, hit_id, error);

  return TRUE;
}

gboolean
kp_review_policy_hit_reviewable (KpCtx        *ctx,
                                 const char   *hit_id,
                                 GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) hit = NULL;
  g_autoptr(JsonObject) policy = NULL;

  g_return_val_if_fail (ctx != NULL, FALSE);
  g_return_val_if_fail (hit_id != NULL, FALSE);

  hit = kp_db_query (ctx->db, &local_error,
                     "SELECT requester_id, hit_review_policy FROM hits "
                     "WHERE id = $1 AND status = 'Reviewable' AND hit_review_policy IS NOT NULL",
                     "s", hit_id);
  if (hit == NULL)
    return kp_api_fail_db (ctx, error, local_error);
  if (kp_rows_get_n_rows (hit) == 0)
    return TRUE;

  policy = parse_stored_policy (kp_rows_get_text (hit, 0, 1));
  if (policy == NULL)
    return TRUE;

  return evaluate_plurality (ctx, hit_id, kp_rows_get_text (hit, 0, 0), policy, error);
}

gboolean
kp_review_policy_auto_grant (KpCtx        *ctx,
                             const char   *worker_id,
                             const char   *requirements_json,
                             GError      **error)
{
  g_autoptr(JsonNode) root = NULL;
  JsonArray *requirements;

  g_return_val_if_fail (ctx != NULL, FALSE);
  g_return_val_if_fail (worker_id != NULL, FALSE);

  if (requirements_json == NULL)
    return TRUE;
  root = json_from_string (requirements_json, NULL);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    return TRUE;
  requirements = json_node_get_array (root);

  for (guint i = 0; i < json_array_get_length (requirements); i++)
    {
      g_autoptr(GError) local_error = NULL;
      JsonObject *requirement = json_array_get_object_element (requirements, i);
      const char *type_id;

      if (requirement == NULL)
        continue;
      type_id = json_object_get_string_member_with_default (requirement, "QualificationTypeId",
                                                            NULL);
      if (type_id == NULL)
        continue;

      /* ON CONFLICT: a row of any status, Revoked included, stays. */
      if (!kp_db_exec (ctx->db, NULL, &local_error,
                       "INSERT INTO worker_qualifications (qualification_type_id, worker_id, "
                       "integer_value, status, grant_time) "
                       "SELECT id, $2, COALESCE(auto_granted_value, 1), 'Granted', $3 "
                       "FROM qualification_types WHERE id = $1 AND requester_id IS NOT NULL "
                       "AND auto_granted = 1 AND status = 'Active' AND deleted = 0 "
                       "AND test IS NULL "
                       "ON CONFLICT (qualification_type_id, worker_id) DO NOTHING",
                       "ssi", type_id, worker_id, ctx->now))
        return kp_api_fail_db (ctx, error, local_error);
    }

  return TRUE;
}
