/* kp-mturk-quals.c: qualification types, requests, grants and scores
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The MTurk operations on qualifications, and the qualification logic the
 * HIT and worker APIs share (kp-quals.h): checking QualificationRequirements,
 * deciding whether a worker meets them, and a worker's request for a
 * qualification, graded at once when the type has a test and an AnswerKey.
 *
 * The system qualification types are rows with requester_id NULL (see
 * kp-schema.c); their values are never stored but computed from the
 * worker's history each time they are needed.
 *
 * A requester only ever sees the system types and their own: another
 * requester's type is answered as not existing. A deleted type vanishes from
 * every operation, but the HITs whose requirements name it keep working,
 * with the worker's grants still counted, as on MTurk.
 */

#include "config.h"

#include <inttypes.h>

#include "kp-quals.h"

#include <string.h>

#include <glib/gi18n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "kp-core.h"

#define ANSWER_KEY_NS "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2005-10-01/AnswerKey.xsd"
#define MAX_TEST_BYTES 65535
#define MAX_REQUIREMENTS 10
#define MAX_SET_VALUES 15
#define MAX_DELAY_SECONDS ((gint64)100 * 365 * 24 * 3600)

/* The columns every type lookup reads, in this order. */
#define TYPE_COLUMNS \
  "id, requester_id, name, description, keywords, status, retry_delay, test, " \
  "answer_key, test_duration, auto_granted, auto_granted_value, deleted, created"

enum
{
  COL_ID,
  COL_REQUESTER,
  COL_NAME,
  COL_DESCRIPTION,
  COL_KEYWORDS,
  COL_STATUS,
  COL_RETRY_DELAY,
  COL_TEST,
  COL_ANSWER_KEY,
  COL_TEST_DURATION,
  COL_AUTO_GRANTED,
  COL_AUTO_GRANTED_VALUE,
  COL_DELETED,
  COL_CREATED,
};

static const char * const type_status_values[] = { "Active", "Inactive", NULL };
static const char * const qual_status_values[] = { "Granted", "Revoked", NULL };

static gboolean
is_system_type (const char *id)
{
  return g_str_equal (id, KP_QUAL_NUMBER_HITS_APPROVED) ||
         g_str_equal (id, KP_QUAL_PERCENT_ASSIGNMENTS_APPROVED) ||
         g_str_equal (id, KP_QUAL_LOCALE) ||
         g_str_equal (id, KP_QUAL_ADULT) ||
         g_str_equal (id, KP_QUAL_MASTERS) ||
         g_str_equal (id, KP_QUAL_MASTERS_SANDBOX);
}

/* --- lookups --- */

/* A type the caller may see: a system type or their own, not deleted.
 * *rows gets one row, or fails with QualificationTypeDoesNotExist. */
static gboolean
lookup_visible_type (KpCtx       *ctx,
                     const char  *type_id,
                     KpRows     **rows,
                     GError     **error)
{
  GError *local_error = NULL;
  KpRows *result;

  result = kp_db_query (ctx->db, &local_error,
                        "SELECT " TYPE_COLUMNS " FROM qualification_types "
                        "WHERE id = $1 AND deleted = 0 "
                        "AND (requester_id IS NULL OR requester_id = $2)",
                        "ss", type_id, ctx->requester_id);
  if (result == NULL)
    return kp_api_fail_db (ctx, error, local_error);

  if (kp_rows_get_n_rows (result) == 0)
    {
      kp_rows_free (result);
      return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "QualificationTypeDoesNotExist",
                          _("Qualification type “%s” does not exist"), type_id);
    }

  *rows = result;
  return TRUE;
}

/* The caller's own type (not a system one), not deleted. */
static gboolean
lookup_own_type (KpCtx       *ctx,
                 const char  *type_id,
                 KpRows     **rows,
                 GError     **error)
{
  g_autoptr(KpRows) result = NULL;

  if (!lookup_visible_type (ctx, type_id, &result, error))
    return FALSE;

  if (kp_rows_is_null (result, 0, COL_REQUESTER))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL,
                        _("Qualification type “%s” is a system qualification: its values "
                          "are computed by the service and cannot be changed"), type_id);

  *rows = g_steal_pointer (&result);
  return TRUE;
}

/* --- the worker's values --- */

typedef struct
{
  gboolean  has;          /* the worker holds it (Granted) */
  gboolean  is_locale;
  gint64    value;
  char     *country;
  char     *subdivision;
  gint64    grant_time;
  gboolean  revoked;      /* own types: a Revoked grant exists */
} QualValue;

static void
qual_value_clear (QualValue *v)
{
  g_clear_pointer (&v->country, g_free);
  g_clear_pointer (&v->subdivision, g_free);
}

static void
qual_value_free (QualValue *v)
{
  qual_value_clear (v);
  g_free (v);
}

/* Computes a system qualification from the worker's real history. */
static gboolean
system_value (KpCtx       *ctx,
              const char  *type_id,
              const char  *worker_id,
              QualValue   *v,
              GError     **error)
{
  g_autoptr(KpRows) worker = NULL;
  GError *local_error = NULL;

  memset (v, 0, sizeof *v);

  worker = kp_db_query (ctx->db, &local_error,
                        "SELECT locale_country, locale_subdivision, is_master, created "
                        "FROM workers WHERE id = $1", "s", worker_id);
  if (worker == NULL)
    return kp_api_fail_db (ctx, error, local_error);
  if (kp_rows_get_n_rows (worker) == 0)
    return TRUE;

  v->grant_time = kp_rows_get_int (worker, 0, 3);

  if (g_str_equal (type_id, KP_QUAL_NUMBER_HITS_APPROVED))
    {
      if (!kp_db_query_int (ctx->db, &v->value, NULL, &local_error,
                            "SELECT COUNT(*) FROM assignments "
                            "WHERE worker_id = $1 AND status = 'Approved'", "s", worker_id))
        return kp_api_fail_db (ctx, error, local_error);
      v->has = TRUE;
    }
  else if (g_str_equal (type_id, KP_QUAL_PERCENT_ASSIGNMENTS_APPROVED))
    {
      g_autoptr(KpRows) counts = NULL;
      gint64 approved, reviewed;

      counts = kp_db_query (ctx->db, &local_error,
                            "SELECT COALESCE(SUM(CASE WHEN status = 'Approved' THEN 1 ELSE 0 END), 0), "
                            "COUNT(*) FROM assignments "
                            "WHERE worker_id = $1 AND status IN ('Approved', 'Rejected')",
                            "s", worker_id);
      if (counts == NULL)
        return kp_api_fail_db (ctx, error, local_error);

      approved = kp_rows_get_int (counts, 0, 0);
      reviewed = kp_rows_get_int (counts, 0, 1);
      /* A worker with nothing reviewed yet has a clean record. Rounded
       * down, so 99.5 % does not pass a 100 % requirement. */
      v->value = reviewed > 0 ? approved * 100 / reviewed : 100;
      v->has = TRUE;
    }
  else if (g_str_equal (type_id, KP_QUAL_LOCALE))
    {
      const char *country = kp_rows_get_text (worker, 0, 0);

      if (country != NULL && *country != '\0')
        {
          const char *subdivision = kp_rows_get_text (worker, 0, 1);

          v->has = TRUE;
          v->is_locale = TRUE;
          v->country = g_ascii_strup (country, -1);
          if (subdivision != NULL && *subdivision != '\0')
            v->subdivision = g_ascii_strup (subdivision, -1);
        }
    }
  else if (g_str_equal (type_id, KP_QUAL_MASTERS) ||
           g_str_equal (type_id, KP_QUAL_MASTERS_SANDBOX))
    {
      if (kp_rows_get_int (worker, 0, 2) != 0)
        {
          v->has = TRUE;
          v->value = 1;
        }
    }
  /* Worker_Adult: nobody here has agreed to see adult content, so no worker
   * holds it. */

  return TRUE;
}

/* The worker's value for any type: computed for system types, stored for
 * the others (a Revoked grant counts as not held). */
static gboolean
worker_value (KpCtx       *ctx,
              const char  *type_id,
              const char  *worker_id,
              QualValue   *v,
              GError     **error)
{
  g_autoptr(KpRows) rows = NULL;
  GError *local_error = NULL;

  if (is_system_type (type_id))
    return system_value (ctx, type_id, worker_id, v, error);

  memset (v, 0, sizeof *v);

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT integer_value, locale_country, locale_subdivision, status, grant_time "
                      "FROM worker_qualifications "
                      "WHERE qualification_type_id = $1 AND worker_id = $2",
                      "ss", type_id, worker_id);
  if (rows == NULL)
    return kp_api_fail_db (ctx, error, local_error);
  if (kp_rows_get_n_rows (rows) == 0)
    return TRUE;

  v->value = kp_rows_get_int (rows, 0, 0);
  v->country = g_strdup (kp_rows_get_text (rows, 0, 1));
  v->subdivision = g_strdup (kp_rows_get_text (rows, 0, 2));
  v->is_locale = v->country != NULL;
  v->grant_time = kp_rows_get_int (rows, 0, 4);
  v->has = g_strcmp0 (kp_rows_get_text (rows, 0, 3), "Granted") == 0;
  v->revoked = !v->has;

  return TRUE;
}

/* --- output --- */

static void
add_type (JsonBuilder *builder,
          KpRows      *rows,
          guint        r)
{
  gboolean is_system = kp_rows_is_null (rows, r, COL_REQUESTER);
  gboolean auto_granted = kp_rows_get_int (rows, r, COL_AUTO_GRANTED) != 0;

  json_builder_begin_object (builder);
  kp_json_add_string (builder, "QualificationTypeId", kp_rows_get_text (rows, r, COL_ID));
  kp_json_add_timestamp (builder, "CreationTime", kp_rows_get_int (rows, r, COL_CREATED));
  kp_json_add_string (builder, "Name", kp_rows_get_text (rows, r, COL_NAME));
  kp_json_add_string (builder, "Description", kp_rows_get_text (rows, r, COL_DESCRIPTION));
  kp_json_add_string (builder, "Keywords", kp_rows_get_text (rows, r, COL_KEYWORDS));
  kp_json_add_string (builder, "QualificationTypeStatus", kp_rows_get_text (rows, r, COL_STATUS));
  kp_json_add_string (builder, "Test", kp_rows_get_text (rows, r, COL_TEST));
  if (!kp_rows_is_null (rows, r, COL_TEST_DURATION))
    kp_json_add_int (builder, "TestDurationInSeconds", kp_rows_get_int (rows, r, COL_TEST_DURATION));
  kp_json_add_string (builder, "AnswerKey", kp_rows_get_text (rows, r, COL_ANSWER_KEY));
  if (!kp_rows_is_null (rows, r, COL_RETRY_DELAY))
    kp_json_add_int (builder, "RetryDelayInSeconds", kp_rows_get_int (rows, r, COL_RETRY_DELAY));
  /* Workers request (or take the test of) a requester's types; the system
   * ones are assigned by the service. */
  kp_json_add_bool (builder, "IsRequestable", !is_system);
  kp_json_add_bool (builder, "AutoGranted", auto_granted);
  if (auto_granted && !kp_rows_is_null (rows, r, COL_AUTO_GRANTED_VALUE))
    kp_json_add_int (builder, "AutoGrantedValue", kp_rows_get_int (rows, r, COL_AUTO_GRANTED_VALUE));
  json_builder_end_object (builder);
}

static void
add_qualification (JsonBuilder     *builder,
                   const char      *type_id,
                   const char      *worker_id,
                   const QualValue *v)
{
  json_builder_begin_object (builder);
  kp_json_add_string (builder, "QualificationTypeId", type_id);
  kp_json_add_string (builder, "WorkerId", worker_id);
  kp_json_add_timestamp (builder, "GrantTime", v->grant_time);
  if (v->is_locale)
    {
      json_builder_set_member_name (builder, "LocaleValue");
      json_builder_begin_object (builder);
      kp_json_add_string (builder, "Country", v->country);
      kp_json_add_string (builder, "Subdivision", v->subdivision);
      json_builder_end_object (builder);
    }
  else
    {
      kp_json_add_int (builder, "IntegerValue", v->value);
    }
  kp_json_add_string (builder, "Status", v->has ? "Granted" : "Revoked");
  json_builder_end_object (builder);
}

/* --- the AnswerKey --- */

typedef struct
{
  GPtrArray *selections;   /* char *, sorted */
  gint64     score;
} KeyOption;

typedef struct
{
  char      *question_id;
  GPtrArray *options;      /* KeyOption * */
  gboolean   has_default;
  gint64     default_score;
} KeyQuestion;

typedef struct
{
  gint64 lower;
  gint64 upper;
  gint64 value;
} KeyRange;

typedef enum
{
  MAPPING_NONE,
  MAPPING_PERCENTAGE,
  MAPPING_SCALE,
  MAPPING_RANGE,
} MappingKind;

typedef struct
{
  GPtrArray   *questions;  /* KeyQuestion * */
  MappingKind  mapping;
  gint64       maximum;    /* PercentageMapping */
  double       multiplier; /* ScaleMapping */
  GArray      *ranges;     /* KeyRange, RangeMapping */
  gboolean     has_out_of_range;
  gint64       out_of_range;
} AnswerKey;

static void
key_option_free (KeyOption *option)
{
  g_ptr_array_unref (option->selections);
  g_free (option);
}

static void
key_question_free (KeyQuestion *question)
{
  g_free (question->question_id);
  g_ptr_array_unref (question->options);
  g_free (question);
}

static void
answer_key_free (AnswerKey *key)
{
  g_ptr_array_unref (key->questions);
  g_array_unref (key->ranges);
  g_free (key);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AnswerKey, answer_key_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)

static gboolean
is_key_element (xmlNode    *node,
                const char *name)
{
  return node->type == XML_ELEMENT_NODE &&
         node->ns != NULL &&
         g_strcmp0 ((const char *)node->ns->href, ANSWER_KEY_NS) == 0 &&
         g_strcmp0 ((const char *)node->name, name) == 0;
}

/* The next element sibling from node (node included), skipping comments and
 * blank text; FALSE (and *next NULL) at the end, or with an error for
 * anything else (text, foreign elements). */
static gboolean
next_element (xmlNode  *node,
              xmlNode **next,
              GString  *problem)
{
  for (; node != NULL; node = node->next)
    {
      if (node->type == XML_ELEMENT_NODE)
        {
          if (node->ns == NULL || g_strcmp0 ((const char *)node->ns->href, ANSWER_KEY_NS) != 0)
            {
              g_string_printf (problem, _("line %d: element “%s” is not in the AnswerKey namespace"),
                               (int)xmlGetLineNo (node), (const char *)node->name);
              return FALSE;
            }
          *next = node;
          return TRUE;
        }
      if (node->type == XML_TEXT_NODE || node->type == XML_CDATA_SECTION_NODE)
        {
          const char *text = (const char *)node->content;

          for (; text != NULL && *text != '\0'; text++)
            if (!g_ascii_isspace (*text))
              {
                g_string_printf (problem, _("line %d: unexpected text"), (int)xmlGetLineNo (node));
                return FALSE;
              }
          continue;
        }
      if (node->type == XML_COMMENT_NODE || node->type == XML_PI_NODE)
        continue;

      g_string_printf (problem, _("line %d: unexpected content"), (int)xmlGetLineNo (node));
      return FALSE;
    }

  *next = NULL;
  return TRUE;
}

static char *
element_text (xmlNode *node)
{
  xmlChar *content = xmlNodeGetContent (node);
  char *text = g_strstrip (g_strdup (content != NULL ? (const char *)content : ""));

  xmlFree (content);
  return text;
}

static gboolean
element_int (xmlNode  *node,
             gint64    min,
             gint64    max,
             gint64   *out,
             GString  *problem)
{
  g_autofree char *text = element_text (node);
  GError *local_error = NULL;

  if (!g_ascii_string_to_signed (text, 10, min, max, out, &local_error))
    {
      g_clear_error (&local_error);
      g_string_printf (problem, _("line %d: %s must be a whole number between %"
                                  PRId64 " and %" PRId64 ", not “%s”"),
                       (int)xmlGetLineNo (node), (const char *)node->name, min, max, text);
      return FALSE;
    }
  return TRUE;
}

/* Expects the element called name at *node (skipping blanks) and moves
 * past it. */
static gboolean
expect (xmlNode   **node,
        const char *name,
        xmlNode   **found,
        GString    *problem)
{
  xmlNode *next = NULL;

  if (!next_element (*node, &next, problem))
    return FALSE;
  if (next == NULL || !is_key_element (next, name))
    {
      if (next == NULL)
        g_string_printf (problem, _("%s is missing"), name);
      else
        g_string_printf (problem, _("line %d: expected %s, found “%s”"),
                         (int)xmlGetLineNo (next), name, (const char *)next->name);
      return FALSE;
    }

  *found = next;
  *node = next->next;
  return TRUE;
}

/* Whether the next element is called name; if so it is taken. */
static gboolean
accept (xmlNode   **node,
        const char *name,
        xmlNode   **found,
        gboolean   *ok,
        GString    *problem)
{
  xmlNode *next = NULL;

  *found = NULL;
  *ok = next_element (*node, &next, problem);
  if (!*ok || next == NULL || !is_key_element (next, name))
    return FALSE;

  *found = next;
  *node = next->next;
  return TRUE;
}

#define SCORE_LIMIT ((gint64)1000000000)

static gboolean
parse_key_question (xmlNode     *element,
                    KeyQuestion *question,
                    GString     *problem)
{
  xmlNode *node = element->children;
  xmlNode *child = NULL;
  gboolean ok = TRUE;

  if (!expect (&node, "QuestionIdentifier", &child, problem))
    return FALSE;
  question->question_id = element_text (child);
  if (*question->question_id == '\0')
    {
      g_string_printf (problem, _("line %d: QuestionIdentifier is empty"), (int)xmlGetLineNo (child));
      return FALSE;
    }

  while (accept (&node, "AnswerOption", &child, &ok, problem))
    {
      KeyOption *option = g_new0 (KeyOption, 1);
      xmlNode *inner = child->children;
      xmlNode *part = NULL;
      gboolean inner_ok = TRUE;

      option->selections = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (question->options, option);

      while (accept (&inner, "SelectionIdentifier", &part, &inner_ok, problem))
        {
          char *selection = element_text (part);

          if (*selection == '\0')
            {
              g_free (selection);
              g_string_printf (problem, _("line %d: SelectionIdentifier is empty"),
                               (int)xmlGetLineNo (part));
              return FALSE;
            }
          g_ptr_array_add (option->selections, selection);
        }
      if (!inner_ok)
        return FALSE;
      if (option->selections->len == 0)
        {
          g_string_printf (problem, _("line %d: AnswerOption needs at least one SelectionIdentifier"),
                           (int)xmlGetLineNo (child));
          return FALSE;
        }

      if (!expect (&inner, "AnswerScore", &part, problem) ||
          !element_int (part, -SCORE_LIMIT, SCORE_LIMIT, &option->score, problem))
        return FALSE;
      if (!next_element (inner, &part, problem))
        return FALSE;
      if (part != NULL)
        {
          g_string_printf (problem, _("line %d: unexpected element “%s” in AnswerOption"),
                           (int)xmlGetLineNo (part), (const char *)part->name);
          return FALSE;
        }
    }
  if (!ok)
    return FALSE;

  if (accept (&node, "DefaultScore", &child, &ok, problem))
    {
      question->has_default = TRUE;
      if (!element_int (child, -SCORE_LIMIT, SCORE_LIMIT, &question->default_score, problem))
        return FALSE;
    }
  if (!ok)
    return FALSE;

  if (!next_element (node, &child, problem))
    return FALSE;
  if (child != NULL)
    {
      g_string_printf (problem, _("line %d: unexpected element “%s” in Question"),
                       (int)xmlGetLineNo (child), (const char *)child->name);
      return FALSE;
    }

  return TRUE;
}

static gboolean
parse_mapping (xmlNode   *element,
               AnswerKey *key,
               GString   *problem)
{
  xmlNode *node = element->children;
  xmlNode *kind = NULL;
  xmlNode *child = NULL;
  xmlNode *inner;
  gboolean ok = TRUE;

  if (!next_element (node, &kind, problem))
    return FALSE;
  if (kind == NULL)
    {
      g_string_printf (problem, _("QualificationValueMapping is empty"));
      return FALSE;
    }
  inner = kind->children;

  if (is_key_element (kind, "PercentageMapping"))
    {
      key->mapping = MAPPING_PERCENTAGE;
      if (!expect (&inner, "MaximumSummedScore", &child, problem) ||
          !element_int (child, 1, SCORE_LIMIT, &key->maximum, problem))
        return FALSE;
    }
  else if (is_key_element (kind, "ScaleMapping"))
    {
      g_autofree char *text = NULL;
      char *end = NULL;

      key->mapping = MAPPING_SCALE;
      if (!expect (&inner, "SummedScoreMultiplier", &child, problem))
        return FALSE;
      text = element_text (child);
      key->multiplier = g_ascii_strtod (text, &end);
      if (*text == '\0' || end == NULL || *end != '\0' ||
          !(key->multiplier >= -1e6 && key->multiplier <= 1e6))
        {
          g_string_printf (problem, _("line %d: SummedScoreMultiplier must be a number, not “%s”"),
                           (int)xmlGetLineNo (child), text);
          return FALSE;
        }
    }
  else if (is_key_element (kind, "RangeMapping"))
    {
      key->mapping = MAPPING_RANGE;
      while (accept (&inner, "SummedScoreRange", &child, &ok, problem))
        {
          KeyRange range;
          xmlNode *part_node = child->children;
          xmlNode *part = NULL;

          if (!expect (&part_node, "InclusiveLowerBound", &part, problem) ||
              !element_int (part, -SCORE_LIMIT, SCORE_LIMIT, &range.lower, problem) ||
              !expect (&part_node, "InclusiveUpperBound", &part, problem) ||
              !element_int (part, -SCORE_LIMIT, SCORE_LIMIT, &range.upper, problem) ||
              !expect (&part_node, "QualificationValue", &part, problem) ||
              !element_int (part, G_MININT32, G_MAXINT32, &range.value, problem))
            return FALSE;
          if (range.lower > range.upper)
            {
              g_string_printf (problem, _("line %d: InclusiveLowerBound is above InclusiveUpperBound"),
                               (int)xmlGetLineNo (child));
              return FALSE;
            }
          if (!next_element (part_node, &part, problem))
            return FALSE;
          if (part != NULL)
            {
              g_string_printf (problem, _("line %d: unexpected element “%s” in SummedScoreRange"),
                               (int)xmlGetLineNo (part), (const char *)part->name);
              return FALSE;
            }
          g_array_append_val (key->ranges, range);
        }
      if (!ok)
        return FALSE;
      if (key->ranges->len == 0)
        {
          g_string_printf (problem, _("RangeMapping needs at least one SummedScoreRange"));
          return FALSE;
        }
      if (accept (&inner, "OutOfRangeQualificationValue", &child, &ok, problem))
        {
          key->has_out_of_range = TRUE;
          if (!element_int (child, G_MININT32, G_MAXINT32, &key->out_of_range, problem))
            return FALSE;
        }
      if (!ok)
        return FALSE;
    }
  else
    {
      g_string_printf (problem, _("line %d: unknown mapping “%s” (use PercentageMapping, "
                                  "ScaleMapping or RangeMapping)"),
                       (int)xmlGetLineNo (kind), (const char *)kind->name);
      return FALSE;
    }

  if (!next_element (inner, &child, problem))
    return FALSE;
  if (child != NULL)
    {
      g_string_printf (problem, _("line %d: unexpected element “%s” in %s"),
                       (int)xmlGetLineNo (child), (const char *)child->name, (const char *)kind->name);
      return FALSE;
    }
  if (!next_element (kind->next, &child, problem))
    return FALSE;
  if (child != NULL)
    {
      g_string_printf (problem, _("line %d: QualificationValueMapping holds only one mapping"),
                       (int)xmlGetLineNo (child));
      return FALSE;
    }

  return TRUE;
}

/* Parses MTurk's AnswerKey XML safely (no network, no DTD, no entities).
 * question_ids, when not NULL, are the test's questions: the key may only
 * name those. */
static AnswerKey *
answer_key_parse (const char  *xml,
                  GPtrArray   *question_ids,
                  char       **message)
{
  g_autoptr(AnswerKey) key = g_new0 (AnswerKey, 1);
  g_autoptr(xmlDoc) doc = NULL;
  g_autoptr(GString) problem = g_string_new (NULL);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  xmlParserCtxtPtr parser;
  xmlNode *root;
  xmlNode *node;
  xmlNode *child = NULL;
  gboolean ok = TRUE;
  gsize length = strlen (xml);

  key->questions = g_ptr_array_new_with_free_func ((GDestroyNotify)key_question_free);
  key->ranges = g_array_new (FALSE, FALSE, sizeof (KeyRange));

  if (length > MAX_TEST_BYTES)
    {
      *message = g_strdup_printf (_("it is longer than %d bytes"), MAX_TEST_BYTES);
      return NULL;
    }
  if (!g_utf8_validate (xml, length, NULL))
    {
      *message = g_strdup (_("it is not valid UTF-8"));
      return NULL;
    }

  parser = xmlNewParserCtxt ();
  if (parser == NULL)
    {
      *message = g_strdup (_("out of memory"));
      return NULL;
    }
  /* No XML_PARSE_NOENT (entities stay unsubstituted), no DTD loading,
   * no network; libxml2's default size limits stay on. */
  doc = xmlCtxtReadMemory (parser, xml, (int)length, "AnswerKey.xml", "UTF-8",
                           XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc == NULL)
    {
      const xmlError *xml_error = xmlCtxtGetLastError (parser);
      g_autofree char *detail = NULL;

      if (xml_error != NULL && xml_error->message != NULL)
        detail = g_strstrip (g_strdup_printf (_("line %d: %s"), xml_error->line,
                                              xml_error->message));
      *message = g_strdup_printf (_("it is not well-formed XML (%s)"),
                                  detail != NULL ? detail : _("parse error"));
      xmlFreeParserCtxt (parser);
      return NULL;
    }
  xmlFreeParserCtxt (parser);
  if (doc->intSubset != NULL || doc->extSubset != NULL)
    {
      *message = g_strdup (_("a DOCTYPE is not allowed"));
      return NULL;
    }

  root = xmlDocGetRootElement (doc);
  if (root == NULL || !is_key_element (root, "AnswerKey"))
    {
      *message = g_strdup_printf (_("the root element must be AnswerKey in the namespace %s"),
                                  ANSWER_KEY_NS);
      return NULL;
    }

  node = root->children;
  while (accept (&node, "Question", &child, &ok, problem))
    {
      KeyQuestion *question = g_new0 (KeyQuestion, 1);

      question->options = g_ptr_array_new_with_free_func ((GDestroyNotify)key_option_free);
      g_ptr_array_add (key->questions, question);
      if (!parse_key_question (child, question, problem))
        break;
      if (!g_hash_table_add (seen, question->question_id))
        {
          g_string_printf (problem, _("line %d: question “%s” appears twice"),
                           (int)xmlGetLineNo (child), question->question_id);
          break;
        }
      if (question_ids != NULL)
        {
          gboolean known = FALSE;

          for (guint i = 0; i < question_ids->len && !known; i++)
            known = g_str_equal (g_ptr_array_index (question_ids, i), question->question_id);
          if (!known)
            {
              g_string_printf (problem, _("line %d: the test has no question “%s”"),
                               (int)xmlGetLineNo (child), question->question_id);
              break;
            }
        }
    }

  if (problem->len == 0 && ok &&
      accept (&node, "QualificationValueMapping", &child, &ok, problem))
    parse_mapping (child, key, problem);

  if (problem->len == 0 && ok && next_element (node, &child, problem) && child != NULL)
    g_string_printf (problem, _("line %d: unexpected element “%s”"),
                     (int)xmlGetLineNo (child), (const char *)child->name);

  if (problem->len > 0 || !ok)
    {
      *message = g_strdup (problem->len > 0 ? problem->str : _("invalid structure"));
      return NULL;
    }

  return g_steal_pointer (&key);
}

static gboolean
selections_match (GPtrArray *expected,
                  JsonArray *given)
{
  guint n_given = json_array_get_length (given);
  g_autoptr(GHashTable) set = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < n_given; i++)
    {
      const char *s = json_array_get_string_element (given, i);
      if (s != NULL)
        g_hash_table_add (set, (gpointer)s);
    }

  if (g_hash_table_size (set) != expected->len)
    return FALSE;
  for (guint i = 0; i < expected->len; i++)
    if (!g_hash_table_contains (set, g_ptr_array_index (expected, i)))
      return FALSE;

  return TRUE;
}

/* Grades answers (the JSON form of QuestionFormAnswers): *granted is FALSE
 * when a RangeMapping has no range for the score and no out-of-range
 * value. */
static void
answer_key_grade (AnswerKey *key,
                  JsonArray *answers,
                  gboolean  *granted,
                  gint64    *value)
{
  gint64 sum = 0;
  guint n_answers = json_array_get_length (answers);

  for (guint q = 0; q < key->questions->len; q++)
    {
      KeyQuestion *question = g_ptr_array_index (key->questions, q);
      JsonArray *selections = NULL;
      gboolean matched = FALSE;

      for (guint a = 0; a < n_answers && selections == NULL; a++)
        {
          JsonObject *answer = json_array_get_object_element (answers, a);

          if (answer != NULL &&
              g_strcmp0 (json_object_get_string_member_with_default (answer, "QuestionIdentifier", ""),
                         question->question_id) == 0 &&
              json_object_has_member (answer, "SelectionIdentifier"))
            selections = json_object_get_array_member (answer, "SelectionIdentifier");
        }

      for (guint o = 0; selections != NULL && o < question->options->len && !matched; o++)
        {
          KeyOption *option = g_ptr_array_index (question->options, o);

          if (selections_match (option->selections, selections))
            {
              sum += option->score;
              matched = TRUE;
            }
        }

      if (!matched && question->has_default)
        sum += question->default_score;
    }

  *granted = TRUE;
  switch (key->mapping)
    {
    case MAPPING_NONE:
      *value = sum;
      break;
    case MAPPING_PERCENTAGE:
      *value = sum <= 0 ? 0 : sum * 100 / key->maximum;
      break;
    case MAPPING_SCALE:
      *value = (gint64)(sum * key->multiplier);
      break;
    case MAPPING_RANGE:
      *granted = key->has_out_of_range;
      *value = key->out_of_range;
      for (guint i = 0; i < key->ranges->len; i++)
        {
          KeyRange *range = &g_array_index (key->ranges, KeyRange, i);

          if (sum >= range->lower && sum <= range->upper)
            {
              *granted = TRUE;
              *value = range->value;
              break;
            }
        }
      break;
    default:
      g_assert_not_reached ();
    }

  *value = CLAMP (*value, G_MININT32, G_MAXINT32);
}

/* --- checking a Test and an AnswerKey --- */

static gboolean
check_test (KpCtx            *ctx,
            const char       *test,
            KpQuestionInfo  **info_out,
            GError          **error)
{
  g_autoptr(KpQuestionInfo) info = NULL;
  GError *local_error = NULL;

  if (strlen (test) > MAX_TEST_BYTES)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("Test must not be longer than %d bytes"), MAX_TEST_BYTES);

  info = kp_question_parse (test, -1, &local_error);
  if (info == NULL)
    {
      kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                   _("Test is not valid: %s"), local_error->message);
      g_clear_error (&local_error);
      return FALSE;
    }
  if (info->kind != KP_QUESTION_FORM)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("Test must be a QuestionForm"));

  *info_out = g_steal_pointer (&info);
  return TRUE;
}

static gboolean
check_answer_key (KpCtx          *ctx,
                  const char     *answer_key,
                  KpQuestionInfo *info,
                  GError        **error)
{
  g_autofree char *message = NULL;
  g_autoptr(AnswerKey) key = answer_key_parse (answer_key, info->question_ids, &message);

  if (key == NULL)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("AnswerKey is not valid: %s"), message);
  return TRUE;
}

/* --- operations --- */

static gboolean
name_taken (KpCtx       *ctx,
            const char  *name,
            gboolean    *taken,
            GError     **error)
{
  GError *local_error = NULL;
  gint64 count = 0;

  if (!kp_db_query_int (ctx->db, &count, NULL, &local_error,
                        "SELECT COUNT(*) FROM qualification_types "
                        "WHERE requester_id = $1 AND name = $2 AND deleted = 0",
                        "ss", ctx->requester_id, name))
    return kp_api_fail_db (ctx, error, local_error);

  *taken = count > 0;
  return TRUE;
}

static gboolean
respond_type (KpCtx        *ctx,
              const char   *type_id,
              JsonBuilder  *response,
              GError      **error)
{
  g_autoptr(KpRows) rows = NULL;

  if (!lookup_visible_type (ctx, type_id, &rows, error))
    return FALSE;

  json_builder_set_member_name (response, "QualificationType");
  add_type (response, rows, 0);
  return TRUE;
}

static gboolean
create_qualification_type (KpCtx        *ctx,
                           JsonObject   *request,
                           JsonBuilder  *response,
                           GError      **error)
{
  const char *name = NULL, *keywords = NULL, *description = NULL, *status = NULL;
  const char *test = NULL, *answer_key = NULL;
  gint64 retry_delay = -1, test_duration = -1, auto_granted_value = 1;
  gboolean auto_granted = FALSE, taken = FALSE;
  g_autoptr(KpQuestionInfo) info = NULL;
  g_autofree char *id = NULL;
  GError *local_error = NULL;

  if (!kp_param_string (ctx, request, "Name", TRUE, 1, 256, &name, error) ||
      !kp_param_string (ctx, request, "Keywords", FALSE, 0, 1000, &keywords, error) ||
      !kp_param_string (ctx, request, "Description", TRUE, 1, 2000, &description, error) ||
      !kp_param_enum (ctx, request, "QualificationTypeStatus", TRUE, type_status_values,
                      &status, error) ||
      !kp_param_int (ctx, request, "RetryDelayInSeconds", FALSE, 0, MAX_DELAY_SECONDS,
                     &retry_delay, error) ||
      !kp_param_string (ctx, request, "Test", FALSE, 1, 0, &test, error) ||
      !kp_param_string (ctx, request, "AnswerKey", FALSE, 1, 0, &answer_key, error) ||
      !kp_param_int (ctx, request, "TestDurationInSeconds", FALSE, 1, MAX_DELAY_SECONDS,
                     &test_duration, error) ||
      !kp_param_bool (ctx, request, "AutoGranted", FALSE, &auto_granted, error) ||
      !kp_param_int (ctx, request, "AutoGrantedValue", FALSE, G_MININT32, G_MAXINT32,
                     &auto_granted_value, error))
    return FALSE;

  if (test != NULL && test_duration < 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("TestDurationInSeconds is required with a Test"));
  if (test == NULL && test_duration >= 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("TestDurationInSeconds is only allowed with a Test"));
  if (test == NULL && answer_key != NULL)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("AnswerKey is only allowed with a Test"));
  if (test != NULL && auto_granted)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("AutoGranted cannot be true for a qualification type with a Test"));

  if (test != NULL && !check_test (ctx, test, &info, error))
    return FALSE;
  if (answer_key != NULL && !check_answer_key (ctx, answer_key, info, error))
    return FALSE;

  if (!name_taken (ctx, name, &taken, error))
    return FALSE;
  if (taken)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "QualificationTypeAlreadyExists",
                        _("You already have a qualification type named “%s”; names must be "
                          "unique among your qualification types"), name);

  id = kp_api_new_id ();
  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "INSERT INTO qualification_types (id, requester_id, name, description, "
                   "keywords, status, retry_delay, test, answer_key, test_duration, "
                   "auto_granted, auto_granted_value, deleted, created) "
                   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 0, $13)",
                   "ssssss" "s" "ss" "s" "I" "i" "i",
                   id, ctx->requester_id, name, description, keywords, status,
                   NULL, test, answer_key, NULL, auto_granted, auto_granted_value, ctx->now))
    {
      /* The unique index is the last word if the name was taken meanwhile. */
      if (g_error_matches (local_error, KP_DB_ERROR, KP_DB_ERROR_CONSTRAINT))
        {
          g_clear_error (&local_error);
          return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "QualificationTypeAlreadyExists",
                              _("You already have a qualification type named “%s”; names must "
                                "be unique among your qualification types"), name);
        }
      return kp_api_fail_db (ctx, error, local_error);
    }

  /* Optional integers go in separately, since the format cannot say
   * "maybe NULL" for an integer. */
  if (retry_delay >= 0 &&
      !kp_db_exec (ctx->db, NULL, &local_error,
                   "UPDATE qualification_types SET retry_delay = $2 WHERE id = $1",
                   "si", id, retry_delay))
    return kp_api_fail_db (ctx, error, local_error);
  if (test_duration >= 0 &&
      !kp_db_exec (ctx->db, NULL, &local_error,
                   "UPDATE qualification_types SET test_duration = $2 WHERE id = $1",
                   "si", id, test_duration))
    return kp_api_fail_db (ctx, error, local_error);

  return respond_type (ctx, id, response, error);
}

static gboolean
get_qualification_type (KpCtx        *ctx,
                        JsonObject   *request,
                        JsonBuilder  *response,
                        GError      **error)
{
  const char *type_id = NULL;

  if (!kp_param_entity_id (ctx, request, "QualificationTypeId", TRUE, &type_id, error))
    return FALSE;

  return respond_type (ctx, type_id, response, error);
}

static gboolean
update_qualification_type (KpCtx        *ctx,
                           JsonObject   *request,
                           JsonBuilder  *response,
                           GError      **error)
{
  const char *type_id = NULL, *description = NULL, *status = NULL;
  const char *test = NULL, *answer_key = NULL;
  gint64 retry_delay = -1, test_duration = -1, auto_granted_value = 0;
  gboolean auto_granted = FALSE;
  gboolean has_auto_granted, has_auto_granted_value;
  gboolean had_test, will_auto_grant;
  g_autoptr(KpRows) rows = NULL;
  g_autoptr(KpQuestionInfo) info = NULL;
  GError *local_error = NULL;

  if (!kp_param_entity_id (ctx, request, "QualificationTypeId", TRUE, &type_id, error) ||
      !kp_param_string (ctx, request, "Description", FALSE, 1, 2000, &description, error) ||
      !kp_param_enum (ctx, request, "QualificationTypeStatus", FALSE, type_status_values,
                      &status, error) ||
      !kp_param_string (ctx, request, "Test", FALSE, 1, 0, &test, error) ||
      !kp_param_string (ctx, request, "AnswerKey", FALSE, 1, 0, &answer_key, error) ||
      !kp_param_int (ctx, request, "TestDurationInSeconds", FALSE, 1, MAX_DELAY_SECONDS,
                     &test_duration, error) ||
      !kp_param_int (ctx, request, "RetryDelayInSeconds", FALSE, 0, MAX_DELAY_SECONDS,
                     &retry_delay, error) ||
      !kp_param_bool (ctx, request, "AutoGranted", FALSE, &auto_granted, error) ||
      !kp_param_int (ctx, request, "AutoGrantedValue", FALSE, G_MININT32, G_MAXINT32,
                     &auto_granted_value, error))
    return FALSE;

  has_auto_granted = json_object_has_member (request, "AutoGranted") &&
                     !json_object_get_null_member (request, "AutoGranted");
  has_auto_granted_value = json_object_has_member (request, "AutoGrantedValue") &&
                           !json_object_get_null_member (request, "AutoGrantedValue");

  if (!lookup_own_type (ctx, type_id, &rows, error))
    return FALSE;

  had_test = !kp_rows_is_null (rows, 0, COL_TEST);
  will_auto_grant = has_auto_granted ? auto_granted : kp_rows_get_int (rows, 0, COL_AUTO_GRANTED) != 0;

  if (test != NULL && test_duration < 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("TestDurationInSeconds is required when the Test is updated"));
  if (test == NULL && answer_key != NULL)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("AnswerKey can only be updated together with the Test"));
  if (test == NULL && !had_test && test_duration >= 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("TestDurationInSeconds is only allowed with a Test"));
  if ((test != NULL || had_test) && will_auto_grant)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("AutoGranted cannot be true for a qualification type with a Test"));

  if (test != NULL && !check_test (ctx, test, &info, error))
    return FALSE;
  if (answer_key != NULL && !check_answer_key (ctx, answer_key, info, error))
    return FALSE;

  if (description != NULL &&
      !kp_db_exec (ctx->db, NULL, &local_error,
                   "UPDATE qualification_types SET description = $2 WHERE id = $1",
                   "ss", type_id, description))
    return kp_api_fail_db (ctx, error, local_error);
  if (status != NULL &&
      !kp_db_exec (ctx->db, NULL, &local_error,
                   "UPDATE qualification_types SET status = $2 WHERE id = $1",
                   "ss", type_id, status))
    return kp_api_fail_db (ctx, error, local_error);
  /* A new test replaces the old test and its key; without an AnswerKey the
   * new test has none. */
  if (test != NULL &&
      !kp_db_exec (ctx->db, NULL, &local_error,
                   "UPDATE qualification_types SET test = $2, answer_key = $3 WHERE id = $1",
                   "sss", type_id, test, answer_key))
    return kp_api_fail_db (ctx, error, local_error);
  if (test_duration >= 0 &&
      !kp_db_exec (ctx->db, NULL, &local_error,
                   "UPDATE qualification_types SET test_duration = $2 WHERE id = $1",
                   "si", type_id, test_duration))
    return kp_api_fail_db (ctx, error, local_error);
  /* Retries can be enabled or their delay changed, never disabled: an
   * absent (or null) RetryDelayInSeconds leaves it as it is. */
  if (retry_delay >= 0 &&
      !kp_db_exec (ctx->db, NULL, &local_error,
                   "UPDATE qualification_types SET retry_delay = $2 WHERE id = $1",
                   "si", type_id, retry_delay))
    return kp_api_fail_db (ctx, error, local_error);
  if (has_auto_granted &&
      !kp_db_exec (ctx->db, NULL, &local_error,
                   "UPDATE qualification_types SET auto_granted = $2 WHERE id = $1",
                   "sI", type_id, auto_granted))
    return kp_api_fail_db (ctx, error, local_error);
  if (has_auto_granted_value &&
      !kp_db_exec (ctx->db, NULL, &local_error,
                   "UPDATE qualification_types SET auto_granted_value = $2 WHERE id = $1",
                   "si", type_id, auto_granted_value))
    return kp_api_fail_db (ctx, error, local_error);

  return respond_type (ctx, type_id, response, error);
}

static gboolean
delete_qualification_type (KpCtx        *ctx,
                           JsonObject   *request,
                           JsonBuilder  *response,
                           GError      **error)
{
  const char *type_id = NULL;
  g_autoptr(KpRows) rows = NULL;
  GError *local_error = NULL;

  (void)response;

  if (!kp_param_entity_id (ctx, request, "QualificationTypeId", TRUE, &type_id, error))
    return FALSE;
  if (!lookup_own_type (ctx, type_id, &rows, error))
    return FALSE;

  /* The row stays (the grants and the HITs that name it keep working); the
   * name is free again for a new type. */
  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "UPDATE qualification_types SET deleted = 1, status = 'Inactive' WHERE id = $1",
                   "s", type_id))
    return kp_api_fail_db (ctx, error, local_error);

  return TRUE;
}

/* Escapes LIKE's wildcards in text (with '\' as the escape character) and
 * lower-cases it. */
static char *
like_pattern (const char *text)
{
  g_autofree char *lower = g_utf8_strdown (text, -1);
  GString *pattern = g_string_new ("%");

  for (const char *p = lower; *p != '\0'; p++)
    {
      if (*p == '%' || *p == '_' || *p == '\\')
        g_string_append_c (pattern, '\\');
      g_string_append_c (pattern, *p);
    }
  g_string_append_c (pattern, '%');

  return g_string_free (pattern, FALSE);
}

/* Keyset cursors are "<integer>|<id>". */
static gboolean
parse_cursor (const char *cursor,
              gint64     *number,
              const char **id)
{
  const char *bar;

  *number = G_MININT64;
  *id = "";
  if (cursor == NULL)
    return TRUE;

  bar = strchr (cursor, '|');
  if (bar == NULL)
    return FALSE;

  *number = g_ascii_strtoll (cursor, NULL, 10);
  *id = bar + 1;
  return TRUE;
}

static gboolean
bad_cursor (KpCtx       *ctx,
            const char  *operation,
            GError     **error)
{
  return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                      _("The NextToken is not valid for %s"), operation);
}

static gboolean
list_qualification_types (KpCtx        *ctx,
                          JsonObject   *request,
                          JsonBuilder  *response,
                          GError      **error)
{
  const char *query = NULL;
  gboolean must_be_requestable = FALSE, must_be_owned = FALSE;
  KpPage page = { 0, NULL };
  g_autofree char *pattern = NULL;
  g_autofree char *next = NULL;
  g_autoptr(KpRows) rows = NULL;
  GError *local_error = NULL;
  gint64 after_created;
  const char *after_id;
  guint n;

  if (!kp_param_string (ctx, request, "Query", FALSE, 0, 1000, &query, error) ||
      !kp_param_bool (ctx, request, "MustBeRequestable", TRUE, &must_be_requestable, error) ||
      !kp_param_bool (ctx, request, "MustBeOwnedByCaller", FALSE, &must_be_owned, error) ||
      !kp_page_parse (ctx, request, "ListQualificationTypes", &page, error))
    return FALSE;

  if (!parse_cursor (page.cursor, &after_created, &after_id))
    {
      kp_page_clear (&page);
      return bad_cursor (ctx, "ListQualificationTypes", error);
    }

  pattern = like_pattern (query != NULL ? query : "");

  /* System types are not requestable (the service assigns them) and are
   * nobody's own. */
  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT " TYPE_COLUMNS " FROM qualification_types "
                      "WHERE deleted = 0 "
                      "AND (requester_id = $1 OR (requester_id IS NULL AND $2 = 0 AND $3 = 0)) "
                      "AND (LOWER(name) LIKE $4 ESCAPE '\\' "
                      "  OR LOWER(description) LIKE $4 ESCAPE '\\' "
                      "  OR LOWER(COALESCE(keywords, '')) LIKE $4 ESCAPE '\\') "
                      "AND (created > $5 OR (created = $5 AND id > $6)) "
                      "ORDER BY created, id LIMIT $7",
                      "sIIsisi", ctx->requester_id, must_be_requestable, must_be_owned,
                      pattern, after_created, after_id, page.max_results + 1);
  if (rows == NULL)
    {
      kp_page_clear (&page);
      return kp_api_fail_db (ctx, error, local_error);
    }

  n = MIN (kp_rows_get_n_rows (rows), (guint)page.max_results);
  json_builder_set_member_name (response, "QualificationTypes");
  json_builder_begin_array (response);
  for (guint r = 0; r < n; r++)
    add_type (response, rows, r);
  json_builder_end_array (response);

  if (kp_rows_get_n_rows (rows) > n)
    next = g_strdup_printf ("%" PRId64 "|%s",
                            kp_rows_get_int (rows, n - 1, COL_CREATED),
                            kp_rows_get_text (rows, n - 1, COL_ID));
  kp_page_finish (ctx, response, "ListQualificationTypes", n, next);
  kp_page_clear (&page);
  return TRUE;
}

static gboolean
list_qualification_requests (KpCtx        *ctx,
                             JsonObject   *request,
                             JsonBuilder  *response,
                             GError      **error)
{
  const char *type_id = NULL;
  KpPage page = { 0, NULL };
  g_autofree char *next = NULL;
  g_autoptr(KpRows) rows = NULL;
  GError *local_error = NULL;
  gint64 after_time;
  const char *after_id;
  guint n;

  if (!kp_param_entity_id (ctx, request, "QualificationTypeId", FALSE, &type_id, error) ||
      !kp_page_parse (ctx, request, "ListQualificationRequests", &page, error))
    return FALSE;

  if (type_id != NULL)
    {
      g_autoptr(KpRows) type = NULL;

      if (!lookup_own_type (ctx, type_id, &type, error))
        {
          kp_page_clear (&page);
          return FALSE;
        }
    }

  if (!parse_cursor (page.cursor, &after_time, &after_id))
    {
      kp_page_clear (&page);
      return bad_cursor (ctx, "ListQualificationRequests", error);
    }

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT r.id, r.qualification_type_id, r.worker_id, t.test, r.test_answer, "
                      "r.submit_time FROM qualification_requests r "
                      "JOIN qualification_types t ON t.id = r.qualification_type_id "
                      "WHERE t.requester_id = $1 AND t.deleted = 0 AND r.status = 'Pending' "
                      "AND ($2 = '' OR t.id = $2) "
                      "AND (r.submit_time > $3 OR (r.submit_time = $3 AND r.id > $4)) "
                      "ORDER BY r.submit_time, r.id LIMIT $5",
                      "ssisi", ctx->requester_id, type_id != NULL ? type_id : "",
                      after_time, after_id, page.max_results + 1);
  if (rows == NULL)
    {
      kp_page_clear (&page);
      return kp_api_fail_db (ctx, error, local_error);
    }

  n = MIN (kp_rows_get_n_rows (rows), (guint)page.max_results);
  json_builder_set_member_name (response, "QualificationRequests");
  json_builder_begin_array (response);
  for (guint r = 0; r < n; r++)
    {
      json_builder_begin_object (response);
      kp_json_add_string (response, "QualificationRequestId", kp_rows_get_text (rows, r, 0));
      kp_json_add_string (response, "QualificationTypeId", kp_rows_get_text (rows, r, 1));
      kp_json_add_string (response, "WorkerId", kp_rows_get_text (rows, r, 2));
      kp_json_add_string (response, "Test", kp_rows_get_text (rows, r, 3));
      kp_json_add_string (response, "Answer", kp_rows_get_text (rows, r, 4));
      kp_json_add_timestamp (response, "SubmitTime", kp_rows_get_int (rows, r, 5));
      json_builder_end_object (response);
    }
  json_builder_end_array (response);

  if (kp_rows_get_n_rows (rows) > n)
    next = g_strdup_printf ("%" PRId64 "|%s",
                            kp_rows_get_int (rows, n - 1, 5), kp_rows_get_text (rows, n - 1, 0));
  kp_page_finish (ctx, response, "ListQualificationRequests", n, next);
  kp_page_clear (&page);
  return TRUE;
}

static gboolean
grant (KpCtx       *ctx,
       const char  *type_id,
       const char  *worker_id,
       gint64       value,
       GError     **error)
{
  GError *local_error = NULL;

  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "INSERT INTO worker_qualifications (qualification_type_id, worker_id, "
                   "integer_value, status, grant_time) VALUES ($1, $2, $3, 'Granted', $4) "
                   "ON CONFLICT (qualification_type_id, worker_id) DO UPDATE SET "
                   "integer_value = excluded.integer_value, status = 'Granted', "
                   "grant_time = excluded.grant_time",
                   "ssii", type_id, worker_id, value, ctx->now))
    return kp_api_fail_db (ctx, error, local_error);

  return TRUE;
}

/* A Pending request for one of the caller's (not deleted) types. */
static gboolean
lookup_pending_request (KpCtx       *ctx,
                        const char  *request_id,
                        KpRows     **rows,
                        GError     **error)
{
  GError *local_error = NULL;
  g_autoptr(KpRows) result = NULL;

  result = kp_db_query (ctx->db, &local_error,
                        "SELECT r.id, r.qualification_type_id, r.worker_id, r.status "
                        "FROM qualification_requests r "
                        "JOIN qualification_types t ON t.id = r.qualification_type_id "
                        "WHERE r.id = $1 AND t.requester_id = $2 AND t.deleted = 0",
                        "ss", request_id, ctx->requester_id);
  if (result == NULL)
    return kp_api_fail_db (ctx, error, local_error);
  if (kp_rows_get_n_rows (result) == 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "QualificationRequestDoesNotExist",
                        _("Qualification request “%s” does not exist"), request_id);
  if (g_strcmp0 (kp_rows_get_text (result, 0, 3), "Pending") != 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "QualificationRequestNotPending",
                        _("Qualification request “%s” was already %s"), request_id,
                        g_strcmp0 (kp_rows_get_text (result, 0, 3), "Approved") == 0
                          ? _("accepted") : _("rejected"));

  *rows = g_steal_pointer (&result);
  return TRUE;
}

static gboolean
accept_qualification_request (KpCtx        *ctx,
                              JsonObject   *request,
                              JsonBuilder  *response,
                              GError      **error)
{
  const char *request_id = NULL;
  gint64 value = 1;
  g_autoptr(KpRows) rows = NULL;
  GError *local_error = NULL;

  (void)response;

  if (!kp_param_entity_id (ctx, request, "QualificationRequestId", TRUE, &request_id, error) ||
      !kp_param_int (ctx, request, "IntegerValue", FALSE, G_MININT32, G_MAXINT32, &value, error))
    return FALSE;
  if (!lookup_pending_request (ctx, request_id, &rows, error))
    return FALSE;

  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "UPDATE qualification_requests SET status = 'Approved', decision_time = $2 "
                   "WHERE id = $1", "si", request_id, ctx->now))
    return kp_api_fail_db (ctx, error, local_error);

  return grant (ctx, kp_rows_get_text (rows, 0, 1), kp_rows_get_text (rows, 0, 2), value, error);
}

static gboolean
reject_qualification_request (KpCtx        *ctx,
                              JsonObject   *request,
                              JsonBuilder  *response,
                              GError      **error)
{
  const char *request_id = NULL, *reason = NULL;
  g_autoptr(KpRows) rows = NULL;
  GError *local_error = NULL;

  (void)response;

  if (!kp_param_entity_id (ctx, request, "QualificationRequestId", TRUE, &request_id, error) ||
      !kp_param_string (ctx, request, "Reason", FALSE, 0, 1024, &reason, error))
    return FALSE;
  if (!lookup_pending_request (ctx, request_id, &rows, error))
    return FALSE;

  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "UPDATE qualification_requests SET status = 'Rejected', decision_time = $2, "
                   "reason = $3 WHERE id = $1", "sis", request_id, ctx->now, reason))
    return kp_api_fail_db (ctx, error, local_error);

  return TRUE;
}

static gboolean
check_worker_exists (KpCtx       *ctx,
                     const char  *worker_id,
                     GError     **error)
{
  GError *local_error = NULL;
  gboolean found = FALSE;
  gint64 one = 0;

  if (!kp_db_query_int (ctx->db, &one, &found, &local_error,
                        "SELECT 1 FROM workers WHERE id = $1", "s", worker_id))
    return kp_api_fail_db (ctx, error, local_error);
  if (!found)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "WorkerDoesNotExist",
                        _("Worker “%s” does not exist"), worker_id);
  return TRUE;
}

static gboolean
associate_qualification_with_worker (KpCtx        *ctx,
                                     JsonObject   *request,
                                     JsonBuilder  *response,
                                     GError      **error)
{
  const char *type_id = NULL, *worker_id = NULL;
  gint64 value = 1;
  gboolean send_notification = FALSE;
  g_autoptr(KpRows) rows = NULL;
  GError *local_error = NULL;

  (void)response;

  if (!kp_param_entity_id (ctx, request, "QualificationTypeId", TRUE, &type_id, error) ||
      !kp_param_customer_id (ctx, request, "WorkerId", TRUE, &worker_id, error) ||
      !kp_param_int (ctx, request, "IntegerValue", FALSE, G_MININT32, G_MAXINT32, &value, error) ||
      !kp_param_bool (ctx, request, "SendNotification", FALSE, &send_notification, error))
    return FALSE;
  if (!lookup_own_type (ctx, type_id, &rows, error) ||
      !check_worker_exists (ctx, worker_id, error))
    return FALSE;

  if (!grant (ctx, type_id, worker_id, value, error))
    return FALSE;

  if (send_notification)
    {
      g_autofree char *id = kp_api_new_id ();
      g_autofree char *subject = NULL;
      g_autofree char *text = NULL;

      subject = g_strdup_printf (_("You have been granted the qualification “%s”"),
                                 kp_rows_get_text (rows, 0, COL_NAME));
      text = g_strdup_printf (_("A requester granted you the qualification “%s” with the "
                                "value %" PRId64 "."),
                              kp_rows_get_text (rows, 0, COL_NAME), value);
      if (!kp_db_exec (ctx->db, NULL, &local_error,
                       "INSERT INTO worker_messages (id, requester_id, worker_id, subject, "
                       "message_text, created) VALUES ($1, $2, $3, $4, $5, $6)",
                       "sssssi", id, ctx->requester_id, worker_id, subject, text, ctx->now))
        return kp_api_fail_db (ctx, error, local_error);
    }

  return TRUE;
}

static gboolean
disassociate_qualification_from_worker (KpCtx        *ctx,
                                        JsonObject   *request,
                                        JsonBuilder  *response,
                                        GError      **error)
{
  const char *type_id = NULL, *worker_id = NULL, *reason = NULL;
  g_autoptr(KpRows) rows = NULL;
  GError *local_error = NULL;
  guint n_changed = 0;

  (void)response;

  if (!kp_param_customer_id (ctx, request, "WorkerId", TRUE, &worker_id, error) ||
      !kp_param_entity_id (ctx, request, "QualificationTypeId", TRUE, &type_id, error) ||
      !kp_param_string (ctx, request, "Reason", FALSE, 0, 1024, &reason, error))
    return FALSE;
  if (!lookup_own_type (ctx, type_id, &rows, error))
    return FALSE;

  if (!kp_db_exec (ctx->db, &n_changed, &local_error,
                   "UPDATE worker_qualifications SET status = 'Revoked' "
                   "WHERE qualification_type_id = $1 AND worker_id = $2 AND status = 'Granted'",
                   "ss", type_id, worker_id))
    return kp_api_fail_db (ctx, error, local_error);
  if (n_changed == 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "QualificationDoesNotExist",
                        _("Worker “%s” does not have the qualification “%s”"), worker_id, type_id);

  return TRUE;
}

static gboolean
get_qualification_score (KpCtx        *ctx,
                         JsonObject   *request,
                         JsonBuilder  *response,
                         GError      **error)
{
  const char *type_id = NULL, *worker_id = NULL;
  g_autoptr(KpRows) rows = NULL;
  QualValue v;

  if (!kp_param_entity_id (ctx, request, "QualificationTypeId", TRUE, &type_id, error) ||
      !kp_param_customer_id (ctx, request, "WorkerId", TRUE, &worker_id, error))
    return FALSE;
  if (!lookup_visible_type (ctx, type_id, &rows, error))
    return FALSE;

  if (!worker_value (ctx, type_id, worker_id, &v, error))
    return FALSE;

  if (!v.has && !v.revoked)
    {
      qual_value_clear (&v);
      return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "QualificationDoesNotExist",
                          _("Worker “%s” does not have the qualification “%s”"),
                          worker_id, type_id);
    }

  json_builder_set_member_name (response, "Qualification");
  add_qualification (response, type_id, worker_id, &v);
  qual_value_clear (&v);
  return TRUE;
}

static gboolean
list_workers_with_qualification_type (KpCtx        *ctx,
                                      JsonObject   *request,
                                      JsonBuilder  *response,
                                      GError      **error)
{
  const char *type_id = NULL, *status = NULL;
  KpPage page = { 0, NULL };
  g_autofree char *next = NULL;
  g_autoptr(KpRows) type = NULL;
  g_autoptr(KpRows) rows = NULL;
  GError *local_error = NULL;
  gint64 after_time;
  const char *after_id;
  guint n;

  if (!kp_param_entity_id (ctx, request, "QualificationTypeId", TRUE, &type_id, error) ||
      !kp_param_enum (ctx, request, "Status", FALSE, qual_status_values, &status, error) ||
      !kp_page_parse (ctx, request, "ListWorkersWithQualificationType", &page, error))
    return FALSE;

  if (!lookup_own_type (ctx, type_id, &type, error))
    {
      kp_page_clear (&page);
      return FALSE;
    }
  if (!parse_cursor (page.cursor, &after_time, &after_id))
    {
      kp_page_clear (&page);
      return bad_cursor (ctx, "ListWorkersWithQualificationType", error);
    }

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT worker_id, integer_value, locale_country, locale_subdivision, "
                      "status, grant_time FROM worker_qualifications "
                      "WHERE qualification_type_id = $1 AND ($2 = '' OR status = $2) "
                      "AND (grant_time > $3 OR (grant_time = $3 AND worker_id > $4)) "
                      "ORDER BY grant_time, worker_id LIMIT $5",
                      "ssisi", type_id, status != NULL ? status : "", after_time, after_id,
                      page.max_results + 1);
  if (rows == NULL)
    {
      kp_page_clear (&page);
      return kp_api_fail_db (ctx, error, local_error);
    }

  n = MIN (kp_rows_get_n_rows (rows), (guint)page.max_results);
  json_builder_set_member_name (response, "Qualifications");
  json_builder_begin_array (response);
  for (guint r = 0; r < n; r++)
    {
      QualValue v = { 0, };

      v.value = kp_rows_get_int (rows, r, 1);
      v.country = (char *)kp_rows_get_text (rows, r, 2);
      v.subdivision = (char *)kp_rows_get_text (rows, r, 3);
      v.is_locale = v.country != NULL;
      v.has = g_strcmp0 (kp_rows_get_text (rows, r, 4), "Granted") == 0;
      v.grant_time = kp_rows_get_int (rows, r, 5);
      add_qualification (response, type_id, kp_rows_get_text (rows, r, 0), &v);
    }
  json_builder_end_array (response);

  if (kp_rows_get_n_rows (rows) > n)
    next = g_strdup_printf ("%" PRId64 "|%s",
                            kp_rows_get_int (rows, n - 1, 5), kp_rows_get_text (rows, n - 1, 0));
  kp_page_finish (ctx, response, "ListWorkersWithQualificationType", n, next);
  kp_page_clear (&page);
  return TRUE;
}

const KpOperation kp_mturk_quals_operations[] = {
  { "CreateQualificationType",
    "Name Keywords Description QualificationTypeStatus RetryDelayInSeconds Test AnswerKey "
    "TestDurationInSeconds AutoGranted AutoGrantedValue",
    create_qualification_type },
  { "GetQualificationType", "QualificationTypeId", get_qualification_type },
  { "UpdateQualificationType",
    "QualificationTypeId Description QualificationTypeStatus Test AnswerKey "
    "TestDurationInSeconds RetryDelayInSeconds AutoGranted AutoGrantedValue",
    update_qualification_type },
  { "DeleteQualificationType", "QualificationTypeId", delete_qualification_type },
  { "ListQualificationTypes",
    "Query MustBeRequestable MustBeOwnedByCaller NextToken MaxResults",
    list_qualification_types },
  { "ListQualificationRequests", "QualificationTypeId NextToken MaxResults",
    list_qualification_requests },
  { "AcceptQualificationRequest", "QualificationRequestId IntegerValue",
    accept_qualification_request },
  { "RejectQualificationRequest", "QualificationRequestId Reason",
    reject_qualification_request },
  { "AssociateQualificationWithWorker",
    "QualificationTypeId WorkerId IntegerValue SendNotification",
    associate_qualification_with_worker },
  { "DisassociateQualificationFromWorker", "WorkerId QualificationTypeId Reason",
    disassociate_qualification_from_worker },
  { "GetQualificationScore", "QualificationTypeId WorkerId", get_qualification_score },
  { "ListWorkersWithQualificationType",
    "QualificationTypeId Status NextToken MaxResults",
    list_workers_with_qualification_type },
  { NULL }
};

/* --- kp-quals.h --- */

static const char * const comparators[] = {
  "LessThan", "LessThanOrEqualTo", "GreaterThan", "GreaterThanOrEqualTo", "EqualTo",
  "NotEqualTo", "Exists", "DoesNotExist", "In", "NotIn", NULL
};
static const char * const actions_guarded_values[] = {
  "Accept", "PreviewAndAccept", "DiscoverPreviewAndAccept", NULL
};

static gboolean
valid_code (const char *s)
{
  return s != NULL && strlen (s) == 2 && g_ascii_isalnum (s[0]) && g_ascii_isalnum (s[1]);
}

static gboolean
validate_requirement (KpCtx       *ctx,
                      JsonNode    *node,
                      guint        index,
                      JsonBuilder *out,
                      GError     **error)
{
  g_autofree char *where = g_strdup_printf ("QualificationRequirements[%u]", index);
  g_autoptr(KpRows) type = NULL;
  JsonObject *requirement;
  const char *type_id = NULL, *comparator = NULL, *actions = NULL;
  gboolean required_to_preview = FALSE;
  JsonArray *integers = NULL, *locales = NULL;
  guint n_integers, n_locales, n_values;
  gboolean is_locale_type, no_values, set_values;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("%s must be an object"), where);
  requirement = json_node_get_object (node);

  if (!kp_param_check_members (ctx, requirement, where,
                               "QualificationTypeId Comparator IntegerValues LocaleValues "
                               "RequiredToPreview ActionsGuarded", error) ||
      !kp_param_entity_id (ctx, requirement, "QualificationTypeId", TRUE, &type_id, error) ||
      !kp_param_enum (ctx, requirement, "Comparator", TRUE, comparators, &comparator, error) ||
      !kp_param_array (ctx, requirement, "IntegerValues", FALSE, 0, 0, &integers, error) ||
      !kp_param_array (ctx, requirement, "LocaleValues", FALSE, 0, 0, &locales, error) ||
      !kp_param_bool (ctx, requirement, "RequiredToPreview", FALSE, &required_to_preview, error) ||
      !kp_param_enum (ctx, requirement, "ActionsGuarded", FALSE, actions_guarded_values,
                      &actions, error))
    return FALSE;

  if (!lookup_visible_type (ctx, type_id, &type, error))
    return FALSE;

  n_integers = integers != NULL ? json_array_get_length (integers) : 0;
  n_locales = locales != NULL ? json_array_get_length (locales) : 0;
  n_values = n_integers + n_locales;
  is_locale_type = g_str_equal (type_id, KP_QUAL_LOCALE);
  no_values = g_str_equal (comparator, "Exists") || g_str_equal (comparator, "DoesNotExist");
  set_values = g_str_equal (comparator, "In") || g_str_equal (comparator, "NotIn");

  if (n_integers > 0 && n_locales > 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("%s: give IntegerValues or LocaleValues, not both"), where);
  if (no_values && n_values > 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("%s: the comparator %s takes no values"), where, comparator);
  if (set_values && (n_values < 1 || n_values > MAX_SET_VALUES))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("%s: the comparator %s takes between 1 and %d values"),
                        where, comparator, MAX_SET_VALUES);
  if (!no_values && !set_values && n_values != 1)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("%s: the comparator %s takes exactly one value"), where, comparator);
  if (is_locale_type && n_integers > 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("%s: Worker_Locale is compared with LocaleValues, not IntegerValues"),
                        where);
  if (!is_locale_type && n_locales > 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("%s: LocaleValues can only be used with Worker_Locale (%s)"),
                        where, KP_QUAL_LOCALE);
  if (is_locale_type && !no_values && !set_values &&
      !g_str_equal (comparator, "EqualTo") && !g_str_equal (comparator, "NotEqualTo"))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("%s: a locale can only be compared with EqualTo, NotEqualTo, In, "
                          "NotIn, Exists or DoesNotExist"), where);
  if (actions != NULL && json_object_has_member (requirement, "RequiredToPreview") &&
      !json_object_get_null_member (requirement, "RequiredToPreview"))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("%s: use ActionsGuarded or the deprecated RequiredToPreview, not both"),
                        where);

  if (actions == NULL)
    actions = required_to_preview ? "PreviewAndAccept" : "Accept";

  json_builder_begin_object (out);
  kp_json_add_string (out, "QualificationTypeId", type_id);
  kp_json_add_string (out, "Comparator", comparator);

  if (n_integers > 0)
    {
      json_builder_set_member_name (out, "IntegerValues");
      json_builder_begin_array (out);
      for (guint i = 0; i < n_integers; i++)
        {
          JsonNode *value = json_array_get_element (integers, i);

          if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_INT64 ||
              json_node_get_int (value) < G_MININT32 || json_node_get_int (value) > G_MAXINT32)
            return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                                _("%s: IntegerValues[%u] must be a whole number"), where, i);
          json_builder_add_int_value (out, json_node_get_int (value));
        }
      json_builder_end_array (out);
    }

  if (n_locales > 0)
    {
      json_builder_set_member_name (out, "LocaleValues");
      json_builder_begin_array (out);
      for (guint i = 0; i < n_locales; i++)
        {
          JsonNode *value = json_array_get_element (locales, i);
          g_autofree char *locale_where = g_strdup_printf ("%s.LocaleValues[%u]", where, i);
          const char *country = NULL, *subdivision = NULL;
          g_autofree char *country_up = NULL;
          g_autofree char *subdivision_up = NULL;
          JsonObject *locale;

          if (!JSON_NODE_HOLDS_OBJECT (value))
            return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                                _("%s must be an object"), locale_where);
          locale = json_node_get_object (value);
          if (!kp_param_check_members (ctx, locale, locale_where, "Country Subdivision", error) ||
              !kp_param_string (ctx, locale, "Country", TRUE, 2, 2, &country, error) ||
              !kp_param_string (ctx, locale, "Subdivision", FALSE, 2, 2, &subdivision, error))
            return FALSE;
          if (!valid_code (country) || !g_ascii_isalpha (country[0]) || !g_ascii_isalpha (country[1]))
            return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                                _("%s: Country must be a two-letter ISO 3166-1 code"), locale_where);
          if (subdivision != NULL && !valid_code (subdivision))
            return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                                _("%s: Subdivision must be a two-character ISO 3166-2 code"),
                                locale_where);

          country_up = g_ascii_strup (country, -1);
          subdivision_up = subdivision != NULL ? g_ascii_strup (subdivision, -1) : NULL;
          json_builder_begin_object (out);
          kp_json_add_string (out, "Country", country_up);
          kp_json_add_string (out, "Subdivision", subdivision_up);
          json_builder_end_object (out);
        }
      json_builder_end_array (out);
    }

  /* MTurk still reports the deprecated flag next to ActionsGuarded. */
  kp_json_add_bool (out, "RequiredToPreview", !g_str_equal (actions, "Accept"));
  kp_json_add_string (out, "ActionsGuarded", actions);
  json_builder_end_object (out);

  return TRUE;
}

gboolean
kp_quals_validate_requirements (KpCtx       *ctx,
                                JsonArray   *requirements,
                                char       **normalized,
                                GError     **error)
{
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonGenerator) generator = NULL;
  g_autoptr(JsonNode) root = NULL;
  guint length;

  g_return_val_if_fail (ctx != NULL, FALSE);
  g_return_val_if_fail (normalized != NULL, FALSE);

  length = requirements != NULL ? json_array_get_length (requirements) : 0;
  if (length > MAX_REQUIREMENTS)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("A HIT can have at most %d QualificationRequirements, not %u"),
                        MAX_REQUIREMENTS, length);

  builder = json_builder_new ();
  json_builder_begin_array (builder);
  for (guint i = 0; i < length; i++)
    if (!validate_requirement (ctx, json_array_get_element (requirements, i), i, builder, error))
      return FALSE;
  json_builder_end_array (builder);

  root = json_builder_get_root (builder);
  generator = json_generator_new ();
  json_generator_set_root (generator, root);
  *normalized = json_generator_to_data (generator, NULL);
  return TRUE;
}

static gboolean
action_guarded (const char    *actions,
                KpQualsAction  action)
{
  switch (action)
    {
    case KP_QUALS_ACTION_ACCEPT:
      return TRUE;
    case KP_QUALS_ACTION_PREVIEW:
      return g_strcmp0 (actions, "Accept") != 0;
    case KP_QUALS_ACTION_DISCOVER:
      return g_strcmp0 (actions, "DiscoverPreviewAndAccept") == 0;
    default:
      g_assert_not_reached ();
    }
}

static gboolean
locale_matches (JsonObject      *locale,
                const QualValue *v)
{
  const char *country = json_object_get_string_member_with_default (locale, "Country", "");
  const char *subdivision = json_object_get_string_member_with_default (locale, "Subdivision", NULL);

  if (g_ascii_strcasecmp (country, v->country) != 0)
    return FALSE;
  if (subdivision == NULL)
    return TRUE;
  return v->subdivision != NULL && g_ascii_strcasecmp (subdivision, v->subdivision) == 0;
}

/* Whether v meets one requirement. A qualification the worker does not
 * hold meets only DoesNotExist: MTurk compares values only when there is
 * one, so NotEqualTo and NotIn need it too. */
static gboolean
requirement_met (JsonObject      *requirement,
                 const QualValue *v)
{
  const char *comparator = json_object_get_string_member_with_default (requirement, "Comparator", "");
  JsonArray *integers = json_object_has_member (requirement, "IntegerValues")
                        ? json_object_get_array_member (requirement, "IntegerValues") : NULL;
  JsonArray *locales = json_object_has_member (requirement, "LocaleValues")
                       ? json_object_get_array_member (requirement, "LocaleValues") : NULL;
  gboolean found = FALSE;
  gint64 target;

  if (g_str_equal (comparator, "DoesNotExist"))
    return !v->has;
  if (!v->has)
    return FALSE;
  if (g_str_equal (comparator, "Exists"))
    return TRUE;

  if (locales != NULL)
    {
      if (!v->is_locale)
        return FALSE;
      for (guint i = 0; i < json_array_get_length (locales) && !found; i++)
        found = locale_matches (json_array_get_object_element (locales, i), v);

      if (g_str_equal (comparator, "EqualTo") || g_str_equal (comparator, "In"))
        return found;
      if (g_str_equal (comparator, "NotEqualTo") || g_str_equal (comparator, "NotIn"))
        return !found;
      return FALSE;
    }

  if (integers == NULL || json_array_get_length (integers) == 0 || v->is_locale)
    return FALSE;

  if (g_str_equal (comparator, "In") || g_str_equal (comparator, "NotIn"))
    {
      for (guint i = 0; i < json_array_get_length (integers) && !found; i++)
        found = json_array_get_int_element (integers, i) == v->value;
      return g_str_equal (comparator, "In") ? found : !found;
    }

  target = json_array_get_int_element (integers, 0);
  if (g_str_equal (comparator, "LessThan"))
    return v->value < target;
  if (g_str_equal (comparator, "LessThanOrEqualTo"))
    return v->value <= target;
  if (g_str_equal (comparator, "GreaterThan"))
    return v->value > target;
  if (g_str_equal (comparator, "GreaterThanOrEqualTo"))
    return v->value >= target;
  if (g_str_equal (comparator, "EqualTo"))
    return v->value == target;
  if (g_str_equal (comparator, "NotEqualTo"))
    return v->value != target;

  return FALSE;
}

static char *
describe_requirement (KpCtx      *ctx,
                      JsonObject *requirement,
                      const char *type_id)
{
  g_autoptr(KpRows) rows = NULL;
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) values = NULL;
  g_autofree char *values_text = NULL;
  const char *comparator = json_object_get_string_member_with_default (requirement, "Comparator", "");
  const char *name = type_id;

  rows = kp_db_query (ctx->db, NULL, "SELECT name FROM qualification_types WHERE id = $1",
                      "s", type_id);
  if (rows != NULL && kp_rows_get_n_rows (rows) > 0)
    name = kp_rows_get_text (rows, 0, 0);

  if (json_object_has_member (requirement, "IntegerValues"))
    values = json_node_copy (json_object_get_member (requirement, "IntegerValues"));
  else if (json_object_has_member (requirement, "LocaleValues"))
    values = json_node_copy (json_object_get_member (requirement, "LocaleValues"));

  if (values == NULL)
    return g_strdup_printf (_("This HIT requires the qualification “%s” (%s)"), name, comparator);

  json_generator_set_root (generator, values);
  values_text = json_generator_to_data (generator, NULL);
  return g_strdup_printf (_("This HIT requires the qualification “%s” (%s %s)"),
                          name, comparator, values_text);
}

/* An AutoGranted type (Active, without a test) the worker has never held
 * counts as held at its AutoGrantedValue: accepting grants it
 * (kp_hits_accept()), so the worker is qualified for the HITs that
 * require it. A Revoked one does not. */
static gboolean
auto_granted_value (KpCtx       *ctx,
                    const char  *type_id,
                    QualValue   *v,
                    GError     **error)
{
  g_autoptr(KpRows) rows = NULL;
  GError *local_error = NULL;

  if (v->has || v->revoked || is_system_type (type_id))
    return TRUE;

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT COALESCE(auto_granted_value, 1) FROM qualification_types "
                      "WHERE id = $1 AND requester_id IS NOT NULL AND auto_granted = 1 "
                      "AND status = 'Active' AND deleted = 0 AND test IS NULL",
                      "s", type_id);
  if (rows == NULL)
    return kp_api_fail_db (ctx, error, local_error);
  if (kp_rows_get_n_rows (rows) > 0)
    {
      v->has = TRUE;
      v->value = kp_rows_get_int (rows, 0, 0);
    }

  return TRUE;
}

gboolean
kp_quals_worker_may (KpCtx          *ctx,
                     const char     *worker_id,
                     const char     *requirements_json,
                     KpQualsAction   action,
                     gboolean       *allowed,
                     char          **reason,
                     GError        **error)
{
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GHashTable) values = NULL;
  JsonArray *requirements;
  GError *local_error = NULL;

  g_return_val_if_fail (ctx != NULL, FALSE);
  g_return_val_if_fail (worker_id != NULL, FALSE);
  g_return_val_if_fail (allowed != NULL, FALSE);

  *allowed = TRUE;
  if (reason != NULL)
    *reason = NULL;

  if (requirements_json == NULL || *requirements_json == '\0')
    return TRUE;

  root = json_from_string (requirements_json, &local_error);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    {
      g_warning ("Stored qualification requirements do not parse: %s",
                 local_error != NULL ? local_error->message : "not an array");
      g_clear_error (&local_error);
      return kp_api_fail (ctx, error, KP_API_ERROR_SERVICE, "ServiceFault",
                          _("The server could not check this HIT's qualification requirements"));
    }
  requirements = json_node_get_array (root);

  /* Each type's value once, however many requirements name it. */
  values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                  (GDestroyNotify)qual_value_free);

  for (guint i = 0; i < json_array_get_length (requirements); i++)
    {
      JsonObject *requirement = json_array_get_object_element (requirements, i);
      const char *type_id, *actions;
      QualValue *v;

      if (requirement == NULL)
        continue;
      type_id = json_object_get_string_member_with_default (requirement, "QualificationTypeId", NULL);
      actions = json_object_get_string_member_with_default (requirement, "ActionsGuarded", "Accept");
      if (type_id == NULL || !action_guarded (actions, action))
        continue;

      v = g_hash_table_lookup (values, type_id);
      if (v == NULL)
        {
          v = g_new0 (QualValue, 1);
          if (!worker_value (ctx, type_id, worker_id, v, error) ||
              !auto_granted_value (ctx, type_id, v, error))
            {
              qual_value_free (v);
              *allowed = FALSE;
              return FALSE;
            }
          g_hash_table_insert (values, g_strdup (type_id), v);
        }

      if (!requirement_met (requirement, v))
        {
          *allowed = FALSE;
          if (reason != NULL)
            *reason = describe_requirement (ctx, requirement, type_id);
          break;
        }
    }

  return TRUE;
}

gboolean
kp_quals_request (KpCtx       *ctx,
                  const char  *worker_id,
                  const char  *qualification_type_id,
                  const char  *test_answer,
                  char       **request_id,
                  GError     **error)
{
  g_autoptr(KpRows) type = NULL;
  g_autoptr(KpRows) last = NULL;
  g_autofree char *id = NULL;
  g_autofree char *answer_xml = NULL;
  const char *owner;
  GError *local_error = NULL;
  gboolean blocked = FALSE;
  gint64 one = 0;
  QualValue held = { 0, };
  gboolean has_test, auto_granted;

  g_return_val_if_fail (ctx != NULL, FALSE);
  g_return_val_if_fail (worker_id != NULL, FALSE);
  g_return_val_if_fail (qualification_type_id != NULL, FALSE);
  g_return_val_if_fail (request_id != NULL, FALSE);

  *request_id = NULL;

  type = kp_db_query (ctx->db, &local_error,
                      "SELECT " TYPE_COLUMNS " FROM qualification_types "
                      "WHERE id = $1 AND deleted = 0 AND requester_id IS NOT NULL",
                      "s", qualification_type_id);
  if (type == NULL)
    return kp_api_fail_db (ctx, error, local_error);
  if (kp_rows_get_n_rows (type) == 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_NOT_FOUND, "QualificationTypeDoesNotExist",
                        _("There is no qualification “%s” to request"), qualification_type_id);

  owner = kp_rows_get_text (type, 0, COL_REQUESTER);
  has_test = !kp_rows_is_null (type, 0, COL_TEST);
  auto_granted = kp_rows_get_int (type, 0, COL_AUTO_GRANTED) != 0;

  if (g_strcmp0 (kp_rows_get_text (type, 0, COL_STATUS), "Active") != 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_CONFLICT, NULL,
                        _("The qualification “%s” is not open to requests at the moment"),
                        kp_rows_get_text (type, 0, COL_NAME));

  if (!kp_db_query_int (ctx->db, &one, &blocked, &local_error,
                        "SELECT 1 FROM worker_blocks WHERE requester_id = $1 AND worker_id = $2",
                        "ss", owner, worker_id))
    return kp_api_fail_db (ctx, error, local_error);
  if (blocked)
    return kp_api_fail (ctx, error, KP_API_ERROR_FORBIDDEN, NULL,
                        _("This requester does not accept your requests"));

  /* What the worker holds, and their last request. */
  if (!worker_value (ctx, qualification_type_id, worker_id, &held, error))
    return FALSE;
  qual_value_clear (&held);

  last = kp_db_query (ctx->db, &local_error,
                      "SELECT status, submit_time FROM qualification_requests "
                      "WHERE qualification_type_id = $1 AND worker_id = $2 "
                      "ORDER BY submit_time DESC, id DESC LIMIT 1",
                      "ss", qualification_type_id, worker_id);
  if (last == NULL)
    return kp_api_fail_db (ctx, error, local_error);

  if (kp_rows_get_n_rows (last) > 0 && g_strcmp0 (kp_rows_get_text (last, 0, 0), "Pending") == 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_CONFLICT, NULL,
                        _("Your request for this qualification is still waiting for the "
                          "requester's decision"));

  if (auto_granted && !has_test && (held.has || held.revoked))
    return kp_api_fail (ctx, error, KP_API_ERROR_CONFLICT, NULL,
                        held.has ? _("You already have this qualification")
                                 : _("The requester has revoked this qualification; it cannot "
                                     "be requested again"));

  if (kp_rows_is_null (type, 0, COL_RETRY_DELAY))
    {
      /* Without a retry delay a worker asks once, whatever came of it. */
      if (kp_rows_get_n_rows (last) > 0)
        return kp_api_fail (ctx, error, KP_API_ERROR_CONFLICT, NULL,
                            _("This qualification can be requested only once"));
      if (held.has)
        return kp_api_fail (ctx, error, KP_API_ERROR_CONFLICT, NULL,
                            _("You already have this qualification"));
    }
  else if (kp_rows_get_n_rows (last) > 0)
    {
      gint64 allowed_at = kp_rows_get_int (last, 0, 1) + kp_rows_get_int (type, 0, COL_RETRY_DELAY);

      if (ctx->now < allowed_at)
        return kp_api_fail (ctx, error, KP_API_ERROR_CONFLICT, NULL,
                            _("You can request this qualification again in %" PRId64
                              " seconds"), allowed_at - ctx->now);
    }

  if (!has_test && test_answer != NULL)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL,
                        _("This qualification has no test to answer"));

  if (has_test)
    {
      g_autoptr(KpQuestionInfo) info = NULL;
      g_autoptr(JsonArray) answers = NULL;
      const char *key_text = kp_rows_get_text (type, 0, COL_ANSWER_KEY);

      if (test_answer == NULL)
        return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL,
                            _("This qualification has a test: send your answers with the request"));

      info = kp_question_parse (kp_rows_get_text (type, 0, COL_TEST), -1, &local_error);
      if (info == NULL)
        {
          g_warning ("Stored qualification test %s does not parse: %s",
                     qualification_type_id, local_error->message);
          g_clear_error (&local_error);
          return kp_api_fail (ctx, error, KP_API_ERROR_SERVICE, "ServiceFault",
                              _("The server could not read this qualification's test"));
        }

      answers = kp_question_answers_from_xml (test_answer, &local_error);
      if (answers != NULL)
        answer_xml = kp_question_answers_to_xml (info, answers, &local_error);
      if (answers == NULL || answer_xml == NULL)
        {
          kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL,
                       _("Your answers cannot be accepted: %s"), local_error->message);
          g_clear_error (&local_error);
          return FALSE;
        }

      if (key_text != NULL)
        {
          g_autofree char *message = NULL;
          g_autoptr(AnswerKey) key = answer_key_parse (key_text, NULL, &message);
          gboolean granted = FALSE;
          gint64 value = 0;

          if (key == NULL)
            {
              g_warning ("Stored AnswerKey of %s does not parse: %s", qualification_type_id, message);
              return kp_api_fail (ctx, error, KP_API_ERROR_SERVICE, "ServiceFault",
                                  _("The server could not grade this qualification's test"));
            }

          answer_key_grade (key, answers, &granted, &value);

          id = kp_api_new_id ();
          if (!kp_db_exec (ctx->db, NULL, &local_error,
                           "INSERT INTO qualification_requests (id, qualification_type_id, "
                           "worker_id, test_answer, status, submit_time, decision_time) "
                           "VALUES ($1, $2, $3, $4, $5, $6, $6)",
                           "sssssi", id, qualification_type_id, worker_id, answer_xml,
                           granted ? "Approved" : "Rejected", ctx->now))
            return kp_api_fail_db (ctx, error, local_error);

          if (granted && !grant (ctx, qualification_type_id, worker_id, value, error))
            return FALSE;

          *request_id = g_steal_pointer (&id);
          return TRUE;
        }
    }
  else if (auto_granted)
    {
      gint64 value = kp_rows_is_null (type, 0, COL_AUTO_GRANTED_VALUE)
                     ? 1 : kp_rows_get_int (type, 0, COL_AUTO_GRANTED_VALUE);

      return grant (ctx, qualification_type_id, worker_id, value, error);
    }

  id = kp_api_new_id ();
  if (!kp_db_exec (ctx->db, NULL, &local_error,
                   "INSERT INTO qualification_requests (id, qualification_type_id, worker_id, "
                   "test_answer, status, submit_time) VALUES ($1, $2, $3, $4, 'Pending', $5)",
                   "ssssi", id, qualification_type_id, worker_id, answer_xml, ctx->now))
    return kp_api_fail_db (ctx, error, local_error);

  *request_id = g_steal_pointer (&id);
  return TRUE;
}
