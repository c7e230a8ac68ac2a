/* kp-mturk-consolidate.c: Kempelen's extension operations ConsolidateHIT
 * and ConsolidateBatch (docs/quality.md)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Both consolidate a selection of the requester's HITs with the core's
 * KpConsolidator: a batch (the HITs whose RequesterAnnotation starts with
 * "kempelen-batch:ID:"), a list of HIT ids, or one HIT that belongs to no
 * batch. Classification is learned over the whole selection, so even
 * ConsolidateHIT reads every answer of the HIT's batch.
 *
 * Consolidating a batch of 10,000 HITs takes seconds, so it does not run
 * on the server's main loop: the operation reads the selection's rows
 * there (in the request's savepoint, as every operation reads), then hands
 * them to consolidation_compute () on a server thread (kp_api_defer ()),
 * which touches neither the request nor the store; the answer is made back
 * on the main loop. Meanwhile other requests are served. The computation
 * itself is kept short: the answers' XML (about as costly as the
 * consolidation itself) is parsed on every core, the consensus runs on
 * every core (its n_threads). And it is rare: the finished consolidation
 * is kept, as JSON text, while the store does not change
 * (kp_db_get_generation ()) or, when it did, while the selection's
 * fingerprint stays the same (an approval changes nothing consolidated).
 * So paging through a batch, or asking for one HIT after another of it,
 * consolidates once, and those later requests answer at once. The kept
 * consolidations are only looked up and stored on the main loop.
 */

#include "config.h"

#include <inttypes.h>
#include <string.h>

#include <glib/gi18n.h>

#include "kp-api.h"
#include "kp-core.h"
#include "kp-hits-private.h"

#define BATCH_PREFIX         "kempelen-batch:"
#define HIT_IDS_MAX          1000
#define BATCH_ID_MAX         200
#define CONSOLIDATE_PAGE_MAX 100
#define QUORUM_MAX           1000000
#define CACHE_SIZE           2
#define GOLD_POLICY          "ScoreMyKnownAnswers/2011-09-01"

#define COMMON_MEMBERS "Method IoUThreshold Quorum IncludeRejected"

/* --- the selection and the options --- */

typedef struct
{
  KpConsensusMethod method;
  double   iou_threshold;
  gint64   quorum;
  gboolean include_rejected;
} Options;

static gboolean
parse_number (KpCtx       *ctx,
              JsonObject  *request,
              const char  *name,
              double       min,
              double       max,
              double      *out,
              GError     **error)
{
  JsonNode *node = json_object_get_member (request, name);
  GType type;
  double value;

  if (node == NULL)
    return TRUE;

  type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;
  if (type == G_TYPE_INT64)
    value = (double)json_node_get_int (node);
  else if (type == G_TYPE_DOUBLE)
    value = json_node_get_double (node);
  else
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("%s must be a number"), name);

  /* NaN fails both comparisons. */
  if (!(value > min && value <= max))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("%s must be greater than %g and at most %g"), name, min, max);

  *out = value;
  return TRUE;
}

static gboolean
parse_options (KpCtx       *ctx,
               JsonObject  *request,
               Options     *options,
               GError     **error)
{
  static const char * const methods[] = { "dawid-skene", "one-coin", "majority", NULL };
  const char *method = "dawid-skene";

  options->iou_threshold = 0.5;
  options->quorum = 0;
  options->include_rejected = FALSE;

  if (!kp_param_enum (ctx, request, "Method", FALSE, methods, &method, error) ||
      !parse_number (ctx, request, "IoUThreshold", 0.0, 1.0, &options->iou_threshold, error) ||
      !kp_param_int (ctx, request, "Quorum", FALSE, 0, QUORUM_MAX, &options->quorum, error) ||
      !kp_param_bool (ctx, request, "IncludeRejected", FALSE, &options->include_rejected, error))
    return FALSE;

  if (!kp_consensus_method_from_string (method, &options->method))
    g_assert_not_reached ();
  return TRUE;
}

/* What to consolidate: exactly one of batch_id and hit_ids. */
typedef struct
{
  char      *batch_id;   /* "kempelen-batch:batch_id:…" */
  GPtrArray *hit_ids;    /* sorted, unique; for a list or a single HIT */
} Selection;

static void
selection_clear (Selection *selection)
{
  g_clear_pointer (&selection->batch_id, g_free);
  g_clear_pointer (&selection->hit_ids, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Selection, selection_clear)

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *)a, *(const char * const *)b);
}

/* The batch of a RequesterAnnotation "kempelen-batch:ID:ROW", or NULL. */
static char *
batch_of_annotation (const char *annotation)
{
  const char *id;
  const char *end;

  if (annotation == NULL || !g_str_has_prefix (annotation, BATCH_PREFIX))
    return NULL;

  id = annotation + strlen (BATCH_PREFIX);
  end = strrchr (id, ':');
  if (end == NULL || end == id)
    return NULL;

  return g_strndup (id, end - id);
}

/* --- reading the selection --- */

/* One assignment's answer; the strings are the rows'. */
typedef struct
{
  const char *hit_id;
  const char *assignment_id;
  const char *worker_id;
  const char *xml;
  JsonObject *answer;     /* parsed on a thread; NULL if unreadable */
} Answer;

static void
answer_clear (Answer *answer)
{
  g_clear_pointer (&answer->answer, json_object_unref);
}

typedef struct
{
  GArray *answers;   /* of Answer */
  guint   start;
  guint   end;
} ParseRange;

static gpointer
parse_range_thread (gpointer data)
{
  ParseRange *range = data;

  for (guint i = range->start; i < range->end; i++)
    {
      Answer *answer = &g_array_index (range->answers, Answer, i);

      if (answer->xml != NULL)
        answer->answer = kp_answer_object_from_xml (answer->xml, NULL);
    }

  return NULL;
}

/* Parses every answer's XML, on every core for many answers. */
static void
parse_answers (GArray *answers)
{
  guint n_threads = MIN (g_get_num_processors (), 8);
  g_autofree GThread **threads = NULL;
  g_autofree ParseRange *ranges = NULL;
  guint chunk;

  if (answers->len < 256 || n_threads < 2)
    {
      ParseRange all = { answers, 0, answers->len };

      parse_range_thread (&all);
      return;
    }

  threads = g_new0 (GThread *, n_threads);
  ranges = g_new0 (ParseRange, n_threads);
  chunk = (answers->len + n_threads - 1) / n_threads;
  for (guint t = 0; t < n_threads; t++)
    {
      ranges[t].answers = answers;
      ranges[t].start = MIN (t * chunk, answers->len);
      ranges[t].end = MIN ((t + 1) * chunk, answers->len);
      threads[t] = g_thread_try_new ("kp-consolidate", parse_range_thread, &ranges[t], NULL);
      if (threads[t] == NULL)
        parse_range_thread (&ranges[t]);
    }
  for (guint t = 0; t < n_threads; t++)
    if (threads[t] != NULL)
      g_thread_join (threads[t]);
}

/* The known answers of a gold HIT, from its ScoreMyKnownAnswers policy's
 * AnswerKey (element -> known answer text), or NULL. */
static JsonObject *
gold_of_policy (const char *policy_json)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(JsonObject) known = NULL;
  JsonNode *root;
  JsonObject *policy;
  JsonArray *parameters;

  if (policy_json == NULL)
    return NULL;

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, policy_json, -1, NULL) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;

  policy = json_node_get_object (root);
  if (g_strcmp0 (json_object_get_string_member_with_default (policy, "PolicyName", NULL),
                 GOLD_POLICY) != 0 ||
      !json_object_has_member (policy, "Parameters") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (policy, "Parameters")))
    return NULL;

  parameters = json_object_get_array_member (policy, "Parameters");
  for (guint i = 0; i < json_array_get_length (parameters); i++)
    {
      JsonNode *node = json_array_get_element (parameters, i);
      JsonObject *parameter;
      JsonArray *entries;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      parameter = json_node_get_object (node);
      if (g_strcmp0 (json_object_get_string_member_with_default (parameter, "Key", NULL),
                     "AnswerKey") != 0 ||
          !json_object_has_member (parameter, "MapEntries") ||
          !JSON_NODE_HOLDS_ARRAY (json_object_get_member (parameter, "MapEntries")))
        continue;

      entries = json_object_get_array_member (parameter, "MapEntries");
      for (guint j = 0; j < json_array_get_length (entries); j++)
        {
          JsonNode *entry_node = json_array_get_element (entries, j);
          JsonObject *entry;
          JsonArray *values;
          const char *key;
          JsonNode *value;

          if (!JSON_NODE_HOLDS_OBJECT (entry_node))
            continue;
          entry = json_node_get_object (entry_node);
          key = json_object_get_string_member_with_default (entry, "Key", NULL);
          if (key == NULL || !json_object_has_member (entry, "Values") ||
              !JSON_NODE_HOLDS_ARRAY (json_object_get_member (entry, "Values")))
            continue;
          values = json_object_get_array_member (entry, "Values");
          if (json_array_get_length (values) == 0 ||
              !JSON_NODE_HOLDS_VALUE (json_array_get_element (values, 0)) ||
              json_node_get_value_type (json_array_get_element (values, 0)) != G_TYPE_STRING)
            continue;

          value = kp_answer_value_parse (json_array_get_string_element (values, 0));
          if (value == NULL)
            continue;
          if (known == NULL)
            known = json_object_new ();
          json_object_set_member (known, key, value);
        }
    }

  return g_steal_pointer (&known);
}

/* The assignments consolidated; the parameter is IncludeRejected. */
#define STATUSES_CONSOLIDATED(param) \
  "(a.status IN ('Submitted', 'Approved') OR (a.status = 'Rejected' AND " param " <> 0))"

/* The HITs' rows (id, assignment_review_policy) and their assignments'
 * (hit id, assignment id, worker id, answer XML or, without
 * with_answers, NULL) of the selection. */
static gboolean
read_selection (KpCtx            *ctx,
                const Selection  *selection,
                gboolean          include_rejected,
                gboolean          with_answers,
                GPtrArray       **hits_out,      /* of KpRows, 2 columns */
                GPtrArray       **answers_out,   /* of KpRows, 4 columns */
                GError          **error)
{
  g_autoptr(GPtrArray) hits = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_rows_free);
  g_autoptr(GPtrArray) answers = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_rows_free);
  g_autoptr(GError) local_error = NULL;
  const char *answer_column = with_answers ? "a.answer" : "NULL";
  g_autofree char *batch_sql = NULL;
  g_autofree char *hit_sql = NULL;
  KpRows *rows;

  if (selection->batch_id != NULL)
    {
      g_autofree char *prefix = g_strconcat (BATCH_PREFIX, selection->batch_id, ":", NULL);
      gint64 length = g_utf8_strlen (prefix, -1);

      /* substr() rather than LIKE: a batch id may hold % or _, and
       * SQLite's LIKE ignores case. */
      rows = kp_db_query (ctx->db, &local_error,
                          "SELECT h.id, h.assignment_review_policy FROM hits h "
                          "WHERE h.requester_id = $1 "
                          "AND substr(h.requester_annotation, 1, CAST($2 AS INTEGER)) = $3 "
                          "ORDER BY h.id",
                          "sis", ctx->requester_id, length, prefix);
      if (rows == NULL)
        return kp_api_fail_db (ctx, error, local_error);
      g_ptr_array_add (hits, rows);

      batch_sql = g_strdup_printf ("SELECT a.hit_id, a.id, a.worker_id, %s "
                                   "FROM assignments a JOIN hits h ON h.id = a.hit_id "
                                   "WHERE h.requester_id = $1 "
                                   "AND substr(h.requester_annotation, 1, CAST($2 AS INTEGER)) = $4 "
                                   "AND " STATUSES_CONSOLIDATED ("$3") " "
                                   "ORDER BY a.hit_id, a.submit_time, a.id", answer_column);
      rows = kp_db_query (ctx->db, &local_error, batch_sql,
                          "siIs", ctx->requester_id, length, include_rejected, prefix);
      if (rows == NULL)
        return kp_api_fail_db (ctx, error, local_error);
      g_ptr_array_add (answers, rows);
    }
  else
    {
      hit_sql = g_strdup_printf ("SELECT a.hit_id, a.id, a.worker_id, %s "
                                 "FROM assignments a "
                                 "WHERE a.hit_id = $1 AND " STATUSES_CONSOLIDATED ("$2") " "
                                 "ORDER BY a.submit_time, a.id", answer_column);
      for (guint i = 0; i < selection->hit_ids->len; i++)
        {
          const char *hit_id = g_ptr_array_index (selection->hit_ids, i);

          rows = kp_db_query (ctx->db, &local_error,
                              "SELECT h.id, h.assignment_review_policy FROM hits h "
                              "WHERE h.id = $1 AND h.requester_id = $2",
                              "ss", hit_id, ctx->requester_id);
          if (rows == NULL)
            return kp_api_fail_db (ctx, error, local_error);
          g_ptr_array_add (hits, rows);
          /* As GetHIT: another requester's HIT does not exist. */
          if (kp_rows_get_n_rows (rows) == 0)
            return _kp_hits_fail_no_hit (ctx, hit_id, error);

          rows = kp_db_query (ctx->db, &local_error, hit_sql, "sI", hit_id, include_rejected);
          if (rows == NULL)
            return kp_api_fail_db (ctx, error, local_error);
          g_ptr_array_add (answers, rows);
        }
    }

  *hits_out = g_steal_pointer (&hits);
  *answers_out = g_steal_pointer (&answers);
  return TRUE;
}

/* What a consolidation depends on besides the answers' text, which never
 * changes once submitted: the HITs, their gold policies, and which
 * assignments of which workers are in. Approving an assignment, or any
 * change elsewhere in the store, leaves it alone. */
static char *
selection_fingerprint (GPtrArray *hit_rows,
                       GPtrArray *answer_rows)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  GPtrArray *lists[] = { hit_rows, answer_rows };
  guint columns[] = { 2, 3 };

  for (guint l = 0; l < G_N_ELEMENTS (lists); l++)
    {
      for (guint i = 0; i < lists[l]->len; i++)
        {
          KpRows *rows = g_ptr_array_index (lists[l], i);

          for (guint r = 0; r < kp_rows_get_n_rows (rows); r++)
            for (guint c = 0; c < columns[l]; c++)
              {
                const char *text = kp_rows_get_text (rows, r, c);

                /* NUL-terminated (NULL as a lone 0x01): unambiguous. */
                if (text != NULL)
                  g_checksum_update (checksum, (const guchar *)text, strlen (text) + 1);
                else
                  g_checksum_update (checksum, (const guchar *)"\1", 2);
              }
        }
      g_checksum_update (checksum, (const guchar *)"\2", 2);
    }

  return g_strdup (g_checksum_get_string (checksum));
}

/* --- the consolidation, kept while the store does not change --- */

/* One HIT's result, kept as JSON text: a tenth of the memory of the
 * tree, and only a page of them is ever parsed again. */
typedef struct
{
  char   *hit_id;
  double  agreement;
  char   *json;
} Result;

static void
result_clear (Result *result)
{
  g_free (result->hit_id);
  g_free (result->json);
}

/* Reference counted (g_atomic_rc_box): a request keeps the one it uses
 * even if the cache drops it meanwhile. */
typedef struct
{
  char       *key;          /* requester, selection and options */
  char       *fingerprint;  /* selection_fingerprint () */
  guint64     generation;   /* of the store it was last found valid in */
  guint       n_hits;       /* HITs in the selection */
  GArray     *results;      /* of Result: the HITs with consolidated assignments, by HITId */
  guint      *by_disagreement; /* [results->len]: indices, most disagreement first */
  GHashTable *gold;         /* HIT ids of the gold HITs */
  char       *workers;      /* JSON */
} Consolidation;

static void
consolidation_clear (Consolidation *self)
{
  g_free (self->key);
  g_free (self->fingerprint);
  g_clear_pointer (&self->results, g_array_unref);
  g_free (self->by_disagreement);
  g_clear_pointer (&self->gold, g_hash_table_unref);
  g_free (self->workers);
}

#define RESULT(self, i) (&g_array_index ((self)->results, Result, (i)))

static void
consolidation_release (Consolidation *self)
{
  g_atomic_rc_box_release_full (self, (GDestroyNotify)consolidation_clear);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Consolidation, consolidation_release)

static GMutex cache_lock;
static GQueue cache = G_QUEUE_INIT;   /* of Consolidation, most recently used first */

/* A consolidation being computed: the same request arriving meanwhile
 * (a client retrying, two reviewers) waits for it instead of computing
 * it again. Under cache_lock. */
typedef struct
{
  char          *key;
  guint64        generation;
  gboolean       done;
  Consolidation *made;        /* acquired once done; NULL if it failed */
} Pending;

static GCond pending_cond;
static GPtrArray *pendings;   /* of Pending, one reference each */

static void
pending_clear (Pending *pending)
{
  g_free (pending->key);
  g_clear_pointer (&pending->made, consolidation_release);
}

static void
pending_release (Pending *pending)
{
  g_atomic_rc_box_release_full (pending, (GDestroyNotify)pending_clear);
}

/* The computation of key as of generation in flight, acquired, and
 * *leader FALSE; or a new one, that the caller leads. */
static Pending *
join_pending (const char *key,
              guint64     generation,
              gboolean   *leader)
{
  Pending *pending = NULL;

  g_mutex_lock (&cache_lock);
  if (pendings == NULL)
    pendings = g_ptr_array_new_with_free_func ((GDestroyNotify)pending_release);
  for (guint i = 0; i < pendings->len && pending == NULL; i++)
    {
      Pending *p = g_ptr_array_index (pendings, i);

      if (p->generation == generation && g_str_equal (p->key, key))
        pending = g_atomic_rc_box_acquire (p);
    }
  *leader = pending == NULL;
  if (pending == NULL)
    {
      pending = g_atomic_rc_box_new0 (Pending);
      pending->key = g_strdup (key);
      pending->generation = generation;
      g_ptr_array_add (pendings, g_atomic_rc_box_acquire (pending));
    }
  g_mutex_unlock (&cache_lock);

  return pending;
}

/* In a follower's thread: the leader's consolidation, acquired, once it
 * is done; NULL if it failed or this request was cancelled first. */
static Consolidation *
wait_pending (Pending      *pending,
              GCancellable *cancellable)
{
  Consolidation *made = NULL;

  g_mutex_lock (&cache_lock);
  while (!pending->done && !g_cancellable_is_cancelled (cancellable))
    g_cond_wait_until (&pending_cond, &cache_lock,
                       g_get_monotonic_time () + 50 * G_TIME_SPAN_MILLISECOND);
  if (pending->done && pending->made != NULL)
    made = g_atomic_rc_box_acquire (pending->made);
  g_mutex_unlock (&cache_lock);

  return made;
}

/* The leader's computation ended (made may be NULL): wakes the followers. */
static void
pending_finish (Pending       *pending,
                Consolidation *made)
{
  g_mutex_lock (&cache_lock);
  if (!pending->done)
    {
      pending->done = TRUE;
      pending->made = made != NULL ? g_atomic_rc_box_acquire (made) : NULL;
      g_cond_broadcast (&pending_cond);
      g_ptr_array_remove_fast (pendings, pending);
    }
  g_mutex_unlock (&cache_lock);
}

static char *
consolidation_key (KpCtx           *ctx,
                   const Selection *selection,
                   const Options   *options)
{
  GString *key = g_string_new (ctx->requester_id);
  char iou[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append_printf (key, "\n%s\n%s\n%" PRId64 "\n%d\n",
                          kp_consensus_method_to_string (options->method),
                          g_ascii_dtostr (iou, sizeof iou, options->iou_threshold),
                          options->quorum, options->include_rejected ? 1 : 0);
  if (selection->batch_id != NULL)
    g_string_append_printf (key, "batch\n%s", selection->batch_id);
  else
    for (guint i = 0; i < selection->hit_ids->len; i++)
      g_string_append_printf (key, "hit\n%s\n",
                              (const char *)g_ptr_array_index (selection->hit_ids, i));

  return g_string_free (key, FALSE);
}

static double
result_agreement (JsonObject *result)
{
  JsonNode *node = json_object_get_member (result, "Agreement");

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return 0.0;
  return json_node_get_double (node);
}

static gboolean
result_has_assignments (JsonObject *result)
{
  JsonNode *node = json_object_get_member (result, "Assignments");

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) &&
         json_array_get_length (json_node_get_array (node)) > 0;
}

static char *
object_to_string (JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_alloc ();

  json_node_init_object (node, object);
  return json_to_string (node, FALSE);
}

static int
compare_results_by_id (gconstpointer a,
                       gconstpointer b)
{
  return strcmp (((const Result *)a)->hit_id, ((const Result *)b)->hit_id);
}

/* Most disagreement (least agreement) first, then by HIT id; the results
 * are by HIT id already, so the index breaks ties. */
static int
compare_by_disagreement (gconstpointer a,
                         gconstpointer b,
                         gpointer      data)
{
  const Consolidation *self = data;
  guint i = *(const guint *)a;
  guint j = *(const guint *)b;

  if (RESULT (self, i)->agreement < RESULT (self, j)->agreement)
    return -1;
  if (RESULT (self, i)->agreement > RESULT (self, j)->agreement)
    return 1;
  return i < j ? -1 : i > j;
}

static gpointer
free_thread (gpointer data)
{
  kp_consolidator_free (data);
  return NULL;
}

/* Freeing the answers of a large batch takes a tenth of a second per
 * 10,000; nothing else holds any of them, so a thread of its own can do it
 * while the main loop answers. */
static void
free_in_background (KpConsolidator *consolidator)
{
  GThread *thread = g_thread_try_new ("kp-consolidate-free", free_thread, consolidator, NULL);

  if (thread != NULL)
    g_thread_unref (thread);
  else
    kp_consolidator_free (consolidator);
}

/* The computing half of a consolidation: it touches neither the request
 * nor the store, only the rows read_selection () gave (which it frees),
 * so it runs on a server thread (kp_api_defer ()). */
static Consolidation *
consolidation_compute (GPtrArray      *hit_rows,
                       GPtrArray      *answer_rows,
                       const Options  *options,
                       GCancellable   *cancellable,
                       GError        **error)
{
  g_autoptr(GPtrArray) owned_hit_rows = hit_rows;
  g_autoptr(GPtrArray) owned_answer_rows = answer_rows;
  g_autoptr(GArray) answers = NULL;
  g_autoptr(KpConsolidator) consolidator = NULL;
  g_autoptr(Consolidation) self = g_atomic_rc_box_new0 (Consolidation);
  g_autoptr(JsonObject) workers = NULL;
  KpConsolidateOptions consolidate_options;
  gint64 start_us = g_get_monotonic_time ();
  gint64 parsed_us, run_us;
  guint answer_count;

  self->fingerprint = selection_fingerprint (hit_rows, answer_rows);

  kp_consolidate_options_init (&consolidate_options);
  consolidate_options.method = options->method;
  kp_consensus_options_init (&consolidate_options.consensus, options->method);
  consolidate_options.iou_threshold = options->iou_threshold;
  consolidate_options.quorum = (guint)options->quorum;
  consolidator = kp_consolidator_new (&consolidate_options);

  self->gold = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < hit_rows->len; i++)
    {
      KpRows *rows = g_ptr_array_index (hit_rows, i);

      for (guint r = 0; r < kp_rows_get_n_rows (rows); r++)
        {
          g_autoptr(JsonObject) known = gold_of_policy (kp_rows_get_text (rows, r, 1));

          self->n_hits++;
          if (known == NULL)
            continue;
          kp_consolidator_set_gold (consolidator, kp_rows_get_text (rows, r, 0), known);
          g_hash_table_add (self->gold, g_strdup (kp_rows_get_text (rows, r, 0)));
        }
    }

  answers = g_array_new (FALSE, TRUE, sizeof (Answer));
  g_array_set_clear_func (answers, (GDestroyNotify)answer_clear);
  for (guint i = 0; i < answer_rows->len; i++)
    {
      KpRows *rows = g_ptr_array_index (answer_rows, i);

      for (guint r = 0; r < kp_rows_get_n_rows (rows); r++)
        {
          Answer answer = {
            kp_rows_get_text (rows, r, 0),
            kp_rows_get_text (rows, r, 1),
            kp_rows_get_text (rows, r, 2),
            kp_rows_get_text (rows, r, 3),
            NULL,
          };

          g_array_append_val (answers, answer);
        }
    }

  parse_answers (answers);
  answer_count = answers->len;
  parsed_us = g_get_monotonic_time ();

  for (guint i = 0; i < answers->len; i++)
    {
      Answer *answer = &g_array_index (answers, Answer, i);
      g_autoptr(GError) add_error = NULL;

      /* Broken XML, or an answer the consolidator refuses, is left out:
       * one worker's odd answer must not make the whole batch fail. */
      if (answer->answer == NULL)
        continue;
      if (!kp_consolidator_add (consolidator, answer->hit_id, answer->worker_id,
                                answer->assignment_id, answer->answer, &add_error))
        g_debug ("Assignment %s left out of the consolidation: %s",
                 answer->assignment_id, add_error->message);
    }
  g_clear_pointer (&answers, g_array_unref);
  g_clear_pointer (&owned_answer_rows, g_ptr_array_unref);

  if (!kp_consolidator_run (consolidator, cancellable, error))
    return NULL;

  run_us = g_get_monotonic_time ();
  self->results = g_array_new (FALSE, FALSE, sizeof (Result));
  g_array_set_clear_func (self->results, (GDestroyNotify)result_clear);
  for (guint i = 0; i < kp_consolidator_get_n_items (consolidator); i++)
    {
      const char *item_id = kp_consolidator_get_item_id (consolidator, i);
      g_autoptr(JsonObject) object = kp_consolidator_dup_result (consolidator, item_id);
      Result result;

      if (object == NULL || !result_has_assignments (object))
        continue;

      result.hit_id = g_strdup (item_id);
      result.agreement = result_agreement (object);
      result.json = object_to_string (object);
      g_array_append_val (self->results, result);
    }
  g_array_sort (self->results, compare_results_by_id);

  self->by_disagreement = g_new (guint, self->results->len + 1);
  for (guint i = 0; i < self->results->len; i++)
    self->by_disagreement[i] = i;
  g_qsort_with_data (self->by_disagreement, self->results->len, sizeof (guint),
                     compare_by_disagreement, self);

  workers = kp_consolidator_dup_workers (consolidator);
  self->workers = workers != NULL ? object_to_string (workers) : g_strdup ("{}");

  g_clear_pointer (&workers, json_object_unref);
  free_in_background (g_steal_pointer (&consolidator));

  g_debug ("Consolidated %u HITs (%u answers) in %.0f ms: parsed %.0f, consolidated %.0f, "
           "results %.0f", self->n_hits, answer_count,
           (g_get_monotonic_time () - start_us) / 1000.0, (parsed_us - start_us) / 1000.0,
           (run_us - parsed_us) / 1000.0, (g_get_monotonic_time () - run_us) / 1000.0);

  return g_steal_pointer (&self);
}

/* The kept consolidation of key, acquired, or NULL. */
static Consolidation *
find_kept (const char *key)
{
  Consolidation *found = NULL;

  g_mutex_lock (&cache_lock);
  for (GList *l = cache.head; l != NULL; l = l->next)
    {
      Consolidation *kept = l->data;

      if (g_str_equal (kept->key, key))
        {
          g_queue_unlink (&cache, l);
          g_queue_push_head_link (&cache, l);
          found = g_atomic_rc_box_acquire (kept);
          break;
        }
    }
  g_mutex_unlock (&cache_lock);

  return found;
}

static void
keep (Consolidation *made)
{
  g_mutex_lock (&cache_lock);
  for (GList *l = cache.head; l != NULL; l = l->next)
    {
      Consolidation *kept = l->data;

      if (g_str_equal (kept->key, made->key))
        {
          g_queue_delete_link (&cache, l);
          consolidation_release (kept);
          break;
        }
    }
  while (g_queue_get_length (&cache) >= CACHE_SIZE)
    consolidation_release (g_queue_pop_tail (&cache));
  g_queue_push_head (&cache, g_atomic_rc_box_acquire (made));
  g_mutex_unlock (&cache_lock);
}

/* The kept consolidation of selection with options, if the store has not
 * changed since, or if what changed leaves the selection's fingerprint
 * alone (an approval, another batch's answers); else *out is NULL: it
 * must be made. */
static gboolean
find_consolidation (KpCtx            *ctx,
                    const Selection  *selection,
                    const Options    *options,
                    Consolidation   **out,
                    GError          **error)
{
  g_autofree char *key = consolidation_key (ctx, selection, options);
  guint64 generation = kp_db_get_generation (ctx->db);
  g_autoptr(Consolidation) kept = find_kept (key);

  *out = NULL;
  if (kept != NULL && kept->generation == generation)
    {
      *out = g_steal_pointer (&kept);
      return TRUE;
    }

  if (kept != NULL)
    {
      g_autoptr(GPtrArray) hit_rows = NULL;
      g_autoptr(GPtrArray) answer_rows = NULL;
      g_autofree char *fingerprint = NULL;

      if (!read_selection (ctx, selection, options->include_rejected, FALSE,
                           &hit_rows, &answer_rows, error))
        return FALSE;
      fingerprint = selection_fingerprint (hit_rows, answer_rows);
      if (g_str_equal (fingerprint, kept->fingerprint))
        {
          g_mutex_lock (&cache_lock);
          kept->generation = generation;
          g_mutex_unlock (&cache_lock);
          *out = g_steal_pointer (&kept);
        }
    }

  return TRUE;
}

/* --- answers --- */

/* Adds kept JSON text as the member name of the open object in builder,
 * or as the next element of the open array (name NULL). */
static void
add_json (JsonBuilder *builder,
          const char  *name,
          const char  *json)
{
  JsonNode *node = json_from_string (json, NULL);

  /* It was written by json_to_string (): it parses. */
  g_assert (node != NULL);
  if (name != NULL)
    json_builder_set_member_name (builder, name);
  json_builder_add_value (builder, node);
}

/* The Result of a HIT without consolidated assignments. */
static char *
empty_result (const char *hit_id,
              gboolean    gold)
{
  g_autoptr(JsonObject) result = json_object_new ();

  json_object_set_string_member (result, "ItemId", hit_id);
  json_object_set_object_member (result, "Answer", json_object_new ());
  json_object_set_double_member (result, "Confidence", 0.0);
  json_object_set_double_member (result, "Agreement", 0.0);
  if (gold)
    json_object_set_boolean_member (result, "Gold", TRUE);
  json_object_set_object_member (result, "Elements", json_object_new ());
  json_object_set_array_member (result, "Assignments", json_array_new ());

  return object_to_string (result);
}

static const Result *
find_result (Consolidation *self,
             const char    *hit_id)
{
  guint lo = 0;
  guint hi = self->results->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      int cmp = strcmp (RESULT (self, mid)->hit_id, hit_id);

      if (cmp == 0)
        return RESULT (self, mid);
      if (cmp < 0)
        lo = mid + 1;
      else
        hi = mid;
    }

  return NULL;
}

/* --- the operations --- */

/* What an answer shows of a consolidation: one HIT's result
 * (ConsolidateHIT) or a page of results (ConsolidateBatch). */
typedef struct
{
  char     *hit_id;            /* ConsolidateHIT; NULL for ConsolidateBatch */
  gboolean  by_disagreement;
  gint64    max_results;
  char     *cursor;            /* the NextToken's, or NULL */
} Reply;

static void
reply_clear (Reply *reply)
{
  g_clear_pointer (&reply->hit_id, g_free);
  g_clear_pointer (&reply->cursor, g_free);
}

static gboolean
answer_hit (KpCtx          *ctx,
            Consolidation  *consolidation,
            const Reply    *reply,
            JsonBuilder    *response,
            GError        **error)
{
  g_autofree char *empty = NULL;
  const Result *result = find_result (consolidation, reply->hit_id);

  if (result == NULL)
    empty = empty_result (reply->hit_id,
                          g_hash_table_contains (consolidation->gold, reply->hit_id));

  kp_json_add_string (response, "HITId", reply->hit_id);
  add_json (response, "Result", result != NULL ? result->json : empty);
  add_json (response, "Workers", consolidation->workers);
  return TRUE;
}

static gboolean
answer_batch (KpCtx          *ctx,
              Consolidation  *consolidation,
              const Reply    *reply,
              JsonBuilder    *response,
              GError        **error)
{
  gboolean by_disagreement = reply->by_disagreement;
  g_autofree char *next = NULL;
  guint first = 0;
  guint n;

  /* Keyset paging: the cursor is the last result's HIT id, or for
   * Disagreement "agreement|HIT id" (agreement as exact decimal text). */
  if (reply->cursor != NULL)
    {
      const char *bar = strchr (reply->cursor, '|');
      const char *after_id = reply->cursor;
      double after_agreement = 0.0;

      if (by_disagreement != (bar != NULL))
        return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                            _("The NextToken is not valid for this SortBy; use the one from "
                              "the previous response"));
      if (bar != NULL)
        {
          after_agreement = g_ascii_strtod (reply->cursor, NULL);
          after_id = bar + 1;
        }

      for (; first < consolidation->results->len; first++)
        {
          guint index = by_disagreement ? consolidation->by_disagreement[first] : first;
          const Result *result = RESULT (consolidation, index);

          if (by_disagreement && result->agreement != after_agreement)
            {
              if (result->agreement > after_agreement)
                break;
              continue;
            }
          if (strcmp (result->hit_id, after_id) > 0)
            break;
        }
    }

  n = MIN ((guint)reply->max_results, consolidation->results->len - first);

  kp_json_add_int (response, "NumHITs", consolidation->n_hits);
  json_builder_set_member_name (response, "Results");
  json_builder_begin_array (response);
  for (guint i = first; i < first + n; i++)
    {
      guint index = by_disagreement ? consolidation->by_disagreement[i] : i;

      add_json (response, NULL, RESULT (consolidation, index)->json);
    }
  json_builder_end_array (response);
  add_json (response, "Workers", consolidation->workers);

  if (first + n < consolidation->results->len)
    {
      guint index = by_disagreement ? consolidation->by_disagreement[first + n - 1] : first + n - 1;
      const Result *last = RESULT (consolidation, index);

      if (by_disagreement)
        {
          char agreement[G_ASCII_DTOSTR_BUF_SIZE];

          next = g_strdup_printf ("%s|%s",
                                  g_ascii_dtostr (agreement, sizeof agreement, last->agreement),
                                  last->hit_id);
        }
      else
        next = g_strdup (last->hit_id);
    }

  kp_page_finish (ctx, response, "ConsolidateBatch", n, next);
  return TRUE;
}

static gboolean
answer (KpCtx          *ctx,
        Consolidation  *consolidation,
        const Reply    *reply,
        JsonBuilder    *response,
        GError        **error)
{
  if (reply->hit_id != NULL)
    return answer_hit (ctx, consolidation, reply, response, error);
  return answer_batch (ctx, consolidation, reply, response, error);
}

/* A consolidation to make off the main loop (kp_api_defer ()): the rows
 * are read on the main loop, in the request's savepoint; the thread
 * consolidates them; the answer is made back on the main loop, where the
 * cache is kept. */
typedef struct
{
  Options    options;
  char      *key;
  guint64    generation;       /* of the store the rows were read in */
  GPtrArray *hit_rows;         /* taken by the thread */
  GPtrArray *answer_rows;
  Reply      reply;
  /* The same consolidation in flight: the leader computes it, followers
   * wait for it, and compute it themselves only if it fails. */
  Pending   *pending;
  gboolean   leader;
} Job;

static void
job_free (Job *job)
{
  if (job->pending != NULL)
    {
      /* A leader's thread may never have run (cancelled first). */
      if (job->leader)
        pending_finish (job->pending, NULL);
      pending_release (job->pending);
    }
  g_free (job->key);
  g_clear_pointer (&job->hit_rows, g_ptr_array_unref);
  g_clear_pointer (&job->answer_rows, g_ptr_array_unref);
  reply_clear (&job->reply);
  g_free (job);
}

typedef struct
{
  Consolidation *made;
  GError        *error;
} Computed;

static void
computed_free (Computed *computed)
{
  g_clear_pointer (&computed->made, consolidation_release);
  g_clear_error (&computed->error);
  g_free (computed);
}

static gpointer
job_thread (gpointer      data,
            GCancellable *cancellable)
{
  Job *job = data;
  Computed *computed = g_new0 (Computed, 1);

  if (!job->leader && (computed->made = wait_pending (job->pending, cancellable)) != NULL)
    {
      g_debug ("A consolidation served the same request that came meanwhile");
      return computed;
    }

  computed->made = consolidation_compute (g_steal_pointer (&job->hit_rows),
                                          g_steal_pointer (&job->answer_rows),
                                          &job->options, cancellable, &computed->error);
  if (job->leader)
    pending_finish (job->pending, computed->made);
  return computed;
}

static gboolean
job_finish (KpCtx        *ctx,
            gpointer      data,
            gpointer      result,
            JsonBuilder  *response,
            GError      **error)
{
  Job *job = data;
  Computed *computed = result;

  if (computed == NULL || computed->made == NULL)
    return kp_api_fail (ctx, error, KP_API_ERROR_SERVICE, "ServiceFault",
                        _("The answers cannot be consolidated: %s"),
                        computed != NULL && computed->error != NULL ? computed->error->message
                                                                     : _("cancelled"));

  /* Kept as of the store it was read from: if that changed meanwhile, the
   * next request compares fingerprints. A follower got the leader's, kept
   * already (or about to be, on this same main loop). */
  if (computed->made->key == NULL)
    {
      computed->made->key = g_strdup (job->key);
      computed->made->generation = job->generation;
      keep (computed->made);
    }

  return answer (ctx, computed->made, &job->reply, response, error);
}

/* Answers from the kept consolidation at once, or reads the selection and
 * defers the consolidation to a thread. Takes reply's members. */
static gboolean
consolidate_and_answer (KpCtx            *ctx,
                        const Selection  *selection,
                        const Options    *options,
                        Reply            *reply,
                        JsonBuilder      *response,
                        GError          **error)
{
  g_autoptr(Consolidation) kept = NULL;
  Job *job;
  gint64 start_us = g_get_monotonic_time ();

  if (!find_consolidation (ctx, selection, options, &kept, error))
    return FALSE;
  if (kept != NULL)
    return answer (ctx, kept, reply, response, error);

  job = g_new0 (Job, 1);
  job->options = *options;
  job->key = consolidation_key (ctx, selection, options);
  job->generation = kp_db_get_generation (ctx->db);
  job->pending = join_pending (job->key, job->generation, &job->leader);
  job->reply = *reply;
  memset (reply, 0, sizeof *reply);
  if (!read_selection (ctx, selection, options->include_rejected, TRUE,
                       &job->hit_rows, &job->answer_rows, error))
    {
      job_free (job);
      return FALSE;
    }
  g_debug ("Read the answers of a consolidation in %.0f ms",
           (g_get_monotonic_time () - start_us) / 1000.0);

  kp_api_defer (ctx, job_thread, job_finish, job,
                (GDestroyNotify)job_free, (GDestroyNotify)computed_free);
  return TRUE;
}

static gboolean
op_consolidate_hit (KpCtx        *ctx,
                    JsonObject   *request,
                    JsonBuilder  *response,
                    GError      **error)
{
  g_auto(Selection) selection = { NULL, NULL };
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  Reply reply = { NULL, };
  const char *hit_id = NULL;
  Options options;
  gboolean ok;

  if (!kp_param_entity_id (ctx, request, "HITId", TRUE, &hit_id, error) ||
      !parse_options (ctx, request, &options, error))
    return FALSE;

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT requester_annotation FROM hits WHERE id = $1 AND requester_id = $2",
                      "ss", hit_id, ctx->requester_id);
  if (rows == NULL)
    return kp_api_fail_db (ctx, error, local_error);
  if (kp_rows_get_n_rows (rows) == 0)
    return _kp_hits_fail_no_hit (ctx, hit_id, error);

  selection.batch_id = batch_of_annotation (kp_rows_get_text (rows, 0, 0));
  if (selection.batch_id == NULL)
    {
      selection.hit_ids = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (selection.hit_ids, g_strdup (hit_id));
    }

  reply.hit_id = g_strdup (hit_id);
  ok = consolidate_and_answer (ctx, &selection, &options, &reply, response, error);
  reply_clear (&reply);
  return ok;
}

static gboolean
parse_selection (KpCtx       *ctx,
                 JsonObject  *request,
                 Selection   *selection,
                 GError     **error)
{
  const char *batch_id = NULL;
  JsonArray *hit_ids = NULL;

  if (!kp_param_string (ctx, request, "BatchId", FALSE, 1, BATCH_ID_MAX, &batch_id, error) ||
      !kp_param_array (ctx, request, "HITIds", FALSE, 1, HIT_IDS_MAX, &hit_ids, error))
    return FALSE;

  if ((batch_id == NULL) == (hit_ids == NULL))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("Give exactly one of BatchId and HITIds"));

  if (batch_id != NULL)
    {
      selection->batch_id = g_strdup (batch_id);
      return TRUE;
    }

  selection->hit_ids = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < json_array_get_length (hit_ids); i++)
    {
      JsonNode *node = json_array_get_element (hit_ids, i);
      const char *id = NULL;
      gsize length = 0;

      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        {
          id = json_node_get_string (node);
          length = strlen (id);
        }
      if (id == NULL || length == 0 || length > 64 ||
          strspn (id, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != length)
        return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                            _("HITIds[%u] must be a HIT id"), i);
      g_ptr_array_add (selection->hit_ids, g_strdup (id));
    }

  /* Sorted and unique: the same list in another order is the same
   * selection. */
  g_ptr_array_sort (selection->hit_ids, compare_strings);
  for (guint i = 1; i < selection->hit_ids->len;)
    {
      if (g_str_equal (g_ptr_array_index (selection->hit_ids, i - 1),
                       g_ptr_array_index (selection->hit_ids, i)))
        g_ptr_array_remove_index (selection->hit_ids, i);
      else
        i++;
    }

  return TRUE;
}

static gboolean
op_consolidate_batch (KpCtx        *ctx,
                      JsonObject   *request,
                      JsonBuilder  *response,
                      GError      **error)
{
  static const char * const sort_keys[] = { "HITId", "Disagreement", NULL };
  g_auto(Selection) selection = { NULL, NULL };
  g_auto(KpHitsPage) page = { 0, };
  const char *sort_by = "HITId";
  Reply reply = { NULL, };
  Options options;
  gboolean ok;

  if (!parse_selection (ctx, request, &selection, error) ||
      !parse_options (ctx, request, &options, error) ||
      !kp_param_enum (ctx, request, "SortBy", FALSE, sort_keys, &sort_by, error) ||
      !kp_page_parse (ctx, request, "ConsolidateBatch", &page, error))
    return FALSE;
  if (!json_object_has_member (request, "MaxResults"))
    page.max_results = CONSOLIDATE_PAGE_MAX;

  reply.by_disagreement = g_str_equal (sort_by, "Disagreement");
  reply.max_results = page.max_results;
  reply.cursor = g_steal_pointer (&page.cursor);
  ok = consolidate_and_answer (ctx, &selection, &options, &reply, response, error);
  reply_clear (&reply);
  return ok;
}

const KpOperation kp_mturk_consolidate_operations[] = {
  { "ConsolidateHIT", "HITId " COMMON_MEMBERS, op_consolidate_hit },
  { "ConsolidateBatch",
    "BatchId HITIds SortBy MaxResults NextToken " COMMON_MEMBERS, op_consolidate_batch },
  { NULL }
};
