/* kp-review-model.c: a requester's batches, HITs and assignments, read
 * through the MTurk API and consolidated locally, and the decisions on them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every call of the MTurk client blocks, so each operation runs in a
 * GTask thread with a client of its own (a client must not be shared
 * between threads). Threads never touch the batches the window shows:
 * loads build new ones and hand them over, decisions carry ids and are
 * applied on the main thread when they succeed, so decisions made before
 * an error stay visible.
 */

#include "config.h"

#include "kp-review-model.h"

#include <string.h>

#include <glib/gi18n.h>

#include "kp-core.h"

struct _KpReviewModel
{
  GObject             parent_instance;

  char               *endpoint;
  KpMturkCredentials *credentials;
  GPtrArray          *batches;
  KpMturkClient      *signer;      /* main thread only: signs media requests */
};

G_DEFINE_FINAL_TYPE (KpReviewModel, kp_review_model, G_TYPE_OBJECT)

/* ------------------------------------------------------------------ */
/* Data                                                               */
/* ------------------------------------------------------------------ */

KpReviewAssignment *
kp_review_assignment_new (const char *assignment_id,
                          const char *worker_id,
                          const char *status,
                          JsonObject *answer)
{
  KpReviewAssignment *assignment = g_new0 (KpReviewAssignment, 1);

  assignment->assignment_id = g_strdup (assignment_id);
  assignment->worker_id = g_strdup (worker_id);
  assignment->status = g_strdup (status);
  assignment->answer = answer != NULL ? json_object_ref (answer) : json_object_new ();
  assignment->agreement = -1;
  return assignment;
}

void
kp_review_assignment_free (KpReviewAssignment *assignment)
{
  if (assignment == NULL)
    return;
  g_free (assignment->assignment_id);
  g_free (assignment->worker_id);
  g_free (assignment->status);
  g_free (assignment->feedback);
  g_clear_pointer (&assignment->answer, json_object_unref);
  g_free (assignment);
}

KpReviewHit *
kp_review_hit_new (const char *hit_id)
{
  KpReviewHit *hit = g_new0 (KpReviewHit, 1);

  hit->hit_id = g_strdup (hit_id);
  hit->assignments = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_review_assignment_free);
  hit->agreement = -1;
  return hit;
}

void
kp_review_hit_free (KpReviewHit *hit)
{
  if (hit == NULL)
    return;
  g_free (hit->hit_id);
  g_free (hit->batch_id);
  g_free (hit->title);
  g_free (hit->image_uri);
  g_ptr_array_unref (hit->assignments);
  g_clear_pointer (&hit->result, json_object_unref);
  g_free (hit);
}

KpReviewAssignment *
kp_review_hit_lookup (KpReviewHit *hit,
                      const char  *assignment_id)
{
  for (guint i = 0; i < hit->assignments->len; i++)
    {
      KpReviewAssignment *a = g_ptr_array_index (hit->assignments, i);

      if (g_strcmp0 (a->assignment_id, assignment_id) == 0)
        return a;
    }
  return NULL;
}

void
kp_review_batch_free (KpReviewBatch *batch)
{
  if (batch == NULL)
    return;
  g_free (batch->batch_id);
  g_free (batch->title);
  g_ptr_array_unref (batch->hits);
  g_free (batch);
}

void
kp_review_batch_get_progress (KpReviewBatch    *batch,
                              KpReviewProgress *progress)
{
  memset (progress, 0, sizeof *progress);
  for (guint i = 0; i < batch->hits->len; i++)
    {
      KpReviewHit *hit = g_ptr_array_index (batch->hits, i);

      progress->max += hit->max_assignments;
      progress->pending += hit->n_pending;
      for (guint j = 0; j < hit->assignments->len; j++)
        {
          KpReviewAssignment *a = g_ptr_array_index (hit->assignments, j);

          if (g_strcmp0 (a->status, "Approved") == 0)
            progress->approved++;
          else if (g_strcmp0 (a->status, "Rejected") == 0)
            progress->rejected++;
          else
            progress->submitted++;
        }
    }
}

gboolean
kp_review_hit_is_above (KpReviewHit *hit,
                        double       threshold)
{
  /* Compared as the agreement shown, so 0.80 shown is "above 0.8". */
  return hit->agreement >= 0 && hit->agreement + 1e-9 >= threshold;
}

guint
kp_review_batch_count_above (KpReviewBatch *batch,
                             double         threshold)
{
  guint n = 0;

  for (guint i = 0; i < batch->hits->len; i++)
    {
      KpReviewHit *hit = g_ptr_array_index (batch->hits, i);

      if (!kp_review_hit_is_above (hit, threshold))
        continue;
      for (guint j = 0; j < hit->assignments->len; j++)
        if (g_strcmp0 (((KpReviewAssignment *)g_ptr_array_index (hit->assignments, j))->status,
                       "Submitted") == 0)
          n++;
    }
  return n;
}

char *
kp_review_parse_batch_id (const char *annotation)
{
  const char *start;
  const char *end;

  if (annotation == NULL || !g_str_has_prefix (annotation, KP_REVIEW_BATCH_PREFIX))
    return NULL;
  start = annotation + strlen (KP_REVIEW_BATCH_PREFIX);
  end = strrchr (start, ':');
  if (end == NULL || end == start)
    return NULL;
  return g_strndup (start, end - start);
}

static char *
unescape_xml (const char *text,
              gssize      len)
{
  g_autoptr(GString) out = g_string_new_len (text, len);

  g_string_replace (out, "&amp;", "&", 0);
  g_string_replace (out, "&quot;", "\"", 0);
  g_string_replace (out, "&#39;", "'", 0);
  g_string_replace (out, "&lt;", "<", 0);
  g_string_replace (out, "&gt;", ">", 0);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* FALSE when the attribute at attribute belongs to an element whose
 * src is not an image (<script>, <iframe>, <audio>, …). The question may
 * hold the layout escaped (&lt;). */
static gboolean
is_image_tag (const char *question,
              const char *attribute)
{
  static const char * const not_images[] = {
    "script", "link", "iframe", "audio", "video", "source", "track", "embed", "input", "frame",
  };
  const char *p = attribute;
  const char *name;
  gsize len = 0;

  while (p > question && *p != '<' && !(*p == '&' && g_str_has_prefix (p, "&lt;")))
    p--;
  if (*p == '<')
    name = p + 1;
  else if (*p == '&')
    name = p + 4;
  else
    return TRUE;
  while (name[len] != '\0' && (g_ascii_isalnum (name[len]) || name[len] == '-'))
    len++;
  for (guint i = 0; i < G_N_ELEMENTS (not_images); i++)
    if (len == strlen (not_images[i]) && g_ascii_strncasecmp (name, not_images[i], len) == 0)
      return FALSE;
  return TRUE;
}

char *
kp_review_find_image_uri (const char *question)
{
  const char *p;

  if (question == NULL)
    return NULL;

  /* An HTMLQuestion holds the layout escaped in XML: look in both. */
  for (p = question; (p = strstr (p, "src=")) != NULL; p += 4)
    {
      const char *value = p + 4;
      const char *end;
      char quote;

      if (p > question && (g_ascii_isalnum (p[-1]) || p[-1] == '-' || p[-1] == '_'))
        continue;
      if (!is_image_tag (question, p))
        continue;
      if (g_str_has_prefix (value, "&quot;"))
        {
          value += 6;
          end = strstr (value, "&quot;");
        }
      else if (*value == '"' || *value == '\'')
        {
          quote = *value++;
          end = strchr (value, quote);
        }
      else
        continue;
      if (end == NULL || end == value)
        continue;
      if (g_str_has_prefix (value, "http:") || g_str_has_prefix (value, "https:") ||
          g_str_has_prefix (value, "file:"))
        return unescape_xml (value, end - value);
    }

  if ((p = strstr (question, "<DataURL>")) != NULL)
    {
      const char *end = strstr (p, "</DataURL>");

      if (end != NULL)
        {
          g_autofree char *raw = unescape_xml (p + 9, end - (p + 9));

          return g_strdup (g_strstrip (raw));
        }
    }
  return NULL;
}

static int
compare_hits (gconstpointer a,
              gconstpointer b)
{
  const KpReviewHit *ha = *(KpReviewHit **)a;
  const KpReviewHit *hb = *(KpReviewHit **)b;
  /* HITs without a result (nothing submitted) come last. */
  double da = ha->agreement >= 0 ? 1 - ha->agreement : -1;
  double db = hb->agreement >= 0 ? 1 - hb->agreement : -1;

  if (da != db)
    return da > db ? -1 : 1;
  return g_strcmp0 (ha->hit_id, hb->hit_id);
}

static gboolean
counts_for_consensus (KpReviewAssignment *a)
{
  return g_strcmp0 (a->status, "Rejected") != 0;
}

static gboolean
consolidate_batch (KpReviewBatch *batch,
                   GCancellable  *cancellable,
                   GError       **error)
{
  g_autoptr(KpConsolidator) consolidator = kp_consolidator_new (NULL);
  gboolean any = FALSE;

  for (guint i = 0; i < batch->hits->len; i++)
    {
      KpReviewHit *hit = g_ptr_array_index (batch->hits, i);

      for (guint j = 0; j < hit->assignments->len; j++)
        {
          KpReviewAssignment *a = g_ptr_array_index (hit->assignments, j);
          g_autoptr(GError) local_error = NULL;

          if (!counts_for_consensus (a))
            continue;
          /* An answer the consolidator cannot use is still shown. */
          if (kp_consolidator_add (consolidator, hit->hit_id, a->worker_id, a->assignment_id,
                                   a->answer, &local_error))
            any = TRUE;
          else
            g_debug ("Not consolidating %s: %s", a->assignment_id, local_error->message);
        }
    }

  if (any && !kp_consolidator_run (consolidator, cancellable, error))
    return FALSE;

  for (guint i = 0; any && i < batch->hits->len; i++)
    {
      KpReviewHit *hit = g_ptr_array_index (batch->hits, i);
      JsonArray *assignments;

      g_clear_pointer (&hit->result, json_object_unref);
      hit->result = kp_consolidator_dup_result (consolidator, hit->hit_id);
      hit->agreement = -1;
      if (hit->result == NULL)
        continue;
      if (json_object_has_member (hit->result, "Agreement"))
        hit->agreement = json_object_get_double_member (hit->result, "Agreement");
      assignments = json_object_has_member (hit->result, "Assignments")
                      ? json_object_get_array_member (hit->result, "Assignments") : NULL;
      for (guint j = 0; assignments != NULL && j < json_array_get_length (assignments); j++)
        {
          JsonObject *o = json_array_get_object_element (assignments, j);
          KpReviewAssignment *a;

          if (o == NULL || !json_object_has_member (o, "AssignmentId"))
            continue;
          a = kp_review_hit_lookup (hit, json_object_get_string_member (o, "AssignmentId"));
          if (a != NULL && json_object_has_member (o, "Agreement"))
            a->agreement = json_object_get_double_member (o, "Agreement");
        }
    }

  g_ptr_array_sort (batch->hits, compare_hits);
  return TRUE;
}

GPtrArray *
kp_review_build_batches (GPtrArray     *hits,
                         GCancellable  *cancellable,
                         GError       **error)
{
  g_autoptr(GPtrArray) batches = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_review_batch_free);
  g_autoptr(GHashTable) by_id = g_hash_table_new (g_str_hash, g_str_equal);
  KpReviewBatch *other = NULL;

  g_ptr_array_set_free_func (hits, NULL);
  for (guint i = 0; i < hits->len; i++)
    {
      KpReviewHit *hit = g_ptr_array_index (hits, i);
      KpReviewBatch *batch;

      if (hit->batch_id == NULL)
        batch = other;
      else
        batch = g_hash_table_lookup (by_id, hit->batch_id);

      if (batch == NULL)
        {
          batch = g_new0 (KpReviewBatch, 1);
          batch->batch_id = g_strdup (hit->batch_id);
          batch->title = hit->batch_id != NULL ? g_strdup (hit->title) : g_strdup (_("Other HITs"));
          batch->hits = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_review_hit_free);
          if (hit->batch_id != NULL)
            {
              g_hash_table_insert (by_id, batch->batch_id, batch);
              g_ptr_array_add (batches, batch);
            }
          else
            other = batch;
        }
      g_ptr_array_add (batch->hits, hit);
    }
  g_ptr_array_unref (hits);

  /* "Other HITs" last. */
  if (other != NULL)
    g_ptr_array_add (batches, other);

  for (guint i = 0; i < batches->len; i++)
    if (!consolidate_batch (g_ptr_array_index (batches, i), cancellable, error))
      return NULL;

  return g_steal_pointer (&batches);
}

/* ------------------------------------------------------------------ */
/* The model                                                          */
/* ------------------------------------------------------------------ */

static void
kp_review_model_finalize (GObject *object)
{
  KpReviewModel *self = KP_REVIEW_MODEL (object);

  g_free (self->endpoint);
  g_clear_pointer (&self->credentials, kp_mturk_credentials_free);
  g_clear_pointer (&self->batches, g_ptr_array_unref);
  g_clear_object (&self->signer);

  G_OBJECT_CLASS (kp_review_model_parent_class)->finalize (object);
}

static void
kp_review_model_class_init (KpReviewModelClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kp_review_model_finalize;
}

static void
kp_review_model_init (KpReviewModel *self)
{
  self->batches = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_review_batch_free);
}

KpReviewModel *
kp_review_model_new (const char               *endpoint,
                     const KpMturkCredentials *credentials)
{
  KpReviewModel *self;

  g_return_val_if_fail (credentials != NULL, NULL);

  self = g_object_new (KP_TYPE_REVIEW_MODEL, NULL);
  self->endpoint = g_strdup (endpoint != NULL && *endpoint != '\0' ? endpoint : KP_MTURK_DEFAULT_ENDPOINT);
  self->credentials = g_new0 (KpMturkCredentials, 1);
  self->credentials->access_key_id = g_strdup (credentials->access_key_id);
  self->credentials->secret_access_key = g_strdup (credentials->secret_access_key);
  self->credentials->session_token = g_strdup (credentials->session_token);
  self->credentials->region = g_strdup (credentials->region);
  return self;
}

const char *
kp_review_model_get_endpoint (KpReviewModel *self)
{
  g_return_val_if_fail (KP_IS_REVIEW_MODEL (self), NULL);
  return self->endpoint;
}

GPtrArray *
kp_review_model_get_batches (KpReviewModel *self)
{
  g_return_val_if_fail (KP_IS_REVIEW_MODEL (self), NULL);
  return self->batches;
}

void
kp_review_model_take_batches (KpReviewModel *self,
                              GPtrArray     *batches)
{
  g_return_if_fail (KP_IS_REVIEW_MODEL (self));
  g_clear_pointer (&self->batches, g_ptr_array_unref);
  self->batches = batches;
}

/* A client of the thread's own. A failed call is tried once more: enough
 * for a hiccup, short enough that a server gone shows at once. */
static KpMturkClient *
new_client (KpReviewModel *self)
{
  KpMturkClient *client = kp_mturk_client_new (self->endpoint, self->credentials);

  kp_mturk_client_set_retries (client, 1, 100);
  return client;
}

void
kp_review_model_sign_media (KpReviewModel *self,
                            SoupMessage   *message)
{
  g_autofree char *url = NULL;

  g_return_if_fail (KP_IS_REVIEW_MODEL (self));

  if (self->signer == NULL)
    self->signer = kp_mturk_client_new (self->endpoint, self->credentials);

  url = g_uri_to_string (soup_message_get_uri (message));
  if (kp_mturk_client_owns_url (self->signer, url))
    kp_mturk_client_sign_message (self->signer, message);
}

static void
connect_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  g_autoptr(KpMturkClient) client = new_client (source_object);
  g_autoptr(JsonObject) answer = NULL;
  GError *error = NULL;

  answer = kp_mturk_client_call (client, "GetAccountBalance", NULL, &error);
  if (answer == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
kp_review_model_connect_async (KpReviewModel       *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (KP_IS_REVIEW_MODEL (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kp_review_model_connect_async);
  g_task_run_in_thread (task, connect_thread);
}

gboolean
kp_review_model_connect_finish (KpReviewModel  *self,
                                GAsyncResult   *result,
                                GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static const char *
member_string (JsonObject *object,
               const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static gint64
member_int (JsonObject *object,
            const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return 0;
  return json_node_get_int (node);
}

static gboolean
load_assignments (KpMturkClient *client,
                  KpReviewHit   *hit,
                  GCancellable  *cancellable,
                  GError       **error)
{
  g_autofree char *token = NULL;

  do
    {
      g_autoptr(JsonObject) request = json_object_new ();
      g_autoptr(JsonObject) answer = NULL;
      JsonArray *statuses = json_array_new ();
      JsonArray *list;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;

      json_object_set_string_member (request, "HITId", hit->hit_id);
      json_object_set_int_member (request, "MaxResults", 100);
      json_array_add_string_element (statuses, "Submitted");
      json_array_add_string_element (statuses, "Approved");
      json_array_add_string_element (statuses, "Rejected");
      json_object_set_array_member (request, "AssignmentStatuses", statuses);
      if (token != NULL)
        json_object_set_string_member (request, "NextToken", token);

      answer = kp_mturk_client_call (client, "ListAssignmentsForHIT", request, error);
      if (answer == NULL)
        return FALSE;

      list = json_object_has_member (answer, "Assignments")
               ? json_object_get_array_member (answer, "Assignments") : NULL;
      for (guint i = 0; list != NULL && i < json_array_get_length (list); i++)
        {
          JsonObject *o = json_array_get_object_element (list, i);
          g_autoptr(JsonObject) crowd = NULL;
          g_autoptr(GError) local_error = NULL;
          KpReviewAssignment *a;
          const char *xml;

          if (o == NULL)
            continue;
          xml = member_string (o, "Answer");
          if (xml != NULL)
            crowd = kp_answer_object_from_xml (xml, &local_error);
          if (local_error != NULL)
            g_debug ("Unreadable answer of %s: %s", member_string (o, "AssignmentId"),
                     local_error->message);
          a = kp_review_assignment_new (member_string (o, "AssignmentId"),
                                        member_string (o, "WorkerId"),
                                        member_string (o, "AssignmentStatus"), crowd);
          a->feedback = g_strdup (member_string (o, "RequesterFeedback"));
          g_ptr_array_add (hit->assignments, a);
        }

      g_free (token);
      token = g_strdup (member_string (answer, "NextToken"));
    }
  while (token != NULL);

  return TRUE;
}

/* Assignments are one call per HIT: a few threads, each with a client of
 * its own, hide the round trips to MTurk. */
#define LOAD_THREADS 4

typedef struct
{
  KpReviewModel *self;
  GPtrArray     *hits;
  GCancellable  *cancellable;
  int            next;
  GMutex         lock;
  GError        *error;
} LoadAll;

static gpointer
load_some_assignments (gpointer user_data)
{
  LoadAll *all = user_data;
  g_autoptr(KpMturkClient) client = new_client (all->self);

  for (;;)
    {
      int index = g_atomic_int_add (&all->next, 1);
      GError *error = NULL;
      gboolean failed;

      g_mutex_lock (&all->lock);
      failed = all->error != NULL;
      g_mutex_unlock (&all->lock);
      if (failed || index >= (int)all->hits->len)
        break;

      if (!load_assignments (client, g_ptr_array_index (all->hits, index), all->cancellable, &error))
        {
          g_mutex_lock (&all->lock);
          if (all->error == NULL)
            all->error = error;
          else
            g_error_free (error);
          g_mutex_unlock (&all->lock);
          break;
        }
    }
  return NULL;
}

static gboolean
load_all_assignments (KpReviewModel *self,
                      GPtrArray     *hits,
                      GCancellable  *cancellable,
                      GError       **error)
{
  LoadAll all = { self, hits, cancellable, 0, { 0 }, NULL };
  GThread *threads[LOAD_THREADS];
  guint n = MIN (LOAD_THREADS, MAX (hits->len, 1));

  g_mutex_init (&all.lock);
  for (guint i = 0; i < n; i++)
    threads[i] = g_thread_new ("kp-review-load", load_some_assignments, &all);
  for (guint i = 0; i < n; i++)
    g_thread_join (threads[i]);
  g_mutex_clear (&all.lock);

  if (all.error != NULL)
    {
      g_propagate_error (error, all.error);
      return FALSE;
    }
  return TRUE;
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  g_autoptr(KpMturkClient) client = new_client (source_object);
  g_autoptr(GPtrArray) hits = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_review_hit_free);
  g_autofree char *token = NULL;
  GPtrArray *batches;
  GError *error = NULL;

  do
    {
      g_autoptr(JsonObject) request = json_object_new ();
      g_autoptr(JsonObject) answer = NULL;
      JsonArray *list;

      if (g_task_return_error_if_cancelled (task))
        return;

      json_object_set_int_member (request, "MaxResults", 100);
      if (token != NULL)
        json_object_set_string_member (request, "NextToken", token);
      answer = kp_mturk_client_call (client, "ListHITs", request, &error);
      if (answer == NULL)
        {
          g_task_return_error (task, error);
          return;
        }

      list = json_object_has_member (answer, "HITs") ? json_object_get_array_member (answer, "HITs") : NULL;
      for (guint i = 0; list != NULL && i < json_array_get_length (list); i++)
        {
          JsonObject *o = json_array_get_object_element (list, i);
          KpReviewHit *hit;

          if (o == NULL || member_string (o, "HITId") == NULL)
            continue;
          hit = kp_review_hit_new (member_string (o, "HITId"));
          hit->batch_id = kp_review_parse_batch_id (member_string (o, "RequesterAnnotation"));
          hit->title = g_strdup (member_string (o, "Title"));
          hit->image_uri = kp_review_find_image_uri (member_string (o, "Question"));
          hit->max_assignments = member_int (o, "MaxAssignments");
          hit->n_pending = member_int (o, "NumberOfAssignmentsPending");
          g_ptr_array_add (hits, hit);
        }

      g_free (token);
      token = g_strdup (member_string (answer, "NextToken"));
    }
  while (token != NULL);

  if (!load_all_assignments (source_object, hits, cancellable, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  batches = kp_review_build_batches (g_steal_pointer (&hits), cancellable, &error);
  if (batches == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, batches, (GDestroyNotify)g_ptr_array_unref);
}

void
kp_review_model_load_async (KpReviewModel       *self,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (KP_IS_REVIEW_MODEL (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kp_review_model_load_async);
  g_task_run_in_thread (task, load_thread);
}

gboolean
kp_review_model_load_finish (KpReviewModel  *self,
                             GAsyncResult   *result,
                             GError        **error)
{
  GPtrArray *batches;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  batches = g_task_propagate_pointer (G_TASK (result), error);
  if (batches == NULL)
    return FALSE;
  kp_review_model_take_batches (self, batches);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Decisions                                                          */
/* ------------------------------------------------------------------ */

typedef struct
{
  char           *hit_id;
  char           *assignment_id;
  char           *worker_id;
  KpReviewAction  action;
  char           *text;
  char           *amount;
} DecideData;

static void
decide_data_free (DecideData *data)
{
  g_free (data->hit_id);
  g_free (data->assignment_id);
  g_free (data->worker_id);
  g_free (data->text);
  g_free (data->amount);
  g_free (data);
}

static gboolean
call_decision (KpMturkClient  *client,
               DecideData     *data,
               GError        **error)
{
  g_autoptr(JsonObject) request = json_object_new ();
  g_autoptr(JsonObject) answer = NULL;
  const char *operation = NULL;

  switch (data->action)
    {
    case KP_REVIEW_APPROVE:
      operation = "ApproveAssignment";
      json_object_set_string_member (request, "AssignmentId", data->assignment_id);
      if (data->text != NULL && *data->text != '\0')
        json_object_set_string_member (request, "RequesterFeedback", data->text);
      break;
    case KP_REVIEW_REJECT:
      operation = "RejectAssignment";
      json_object_set_string_member (request, "AssignmentId", data->assignment_id);
      json_object_set_string_member (request, "RequesterFeedback", data->text != NULL ? data->text : "");
      break;
    case KP_REVIEW_BONUS:
      operation = "SendBonus";
      json_object_set_string_member (request, "WorkerId", data->worker_id);
      json_object_set_string_member (request, "AssignmentId", data->assignment_id);
      json_object_set_string_member (request, "BonusAmount", data->amount);
      json_object_set_string_member (request, "Reason", data->text != NULL ? data->text : "");
      {
        /* A retried call must not pay twice. */
        g_autofree char *token = g_uuid_string_random ();

        json_object_set_string_member (request, "UniqueRequestToken", token);
      }
      break;
    case KP_REVIEW_BLOCK:
      operation = "CreateWorkerBlock";
      json_object_set_string_member (request, "WorkerId", data->worker_id);
      json_object_set_string_member (request, "Reason", data->text != NULL ? data->text : "");
      break;
    default:
      g_assert_not_reached ();
    }

  answer = kp_mturk_client_call (client, operation, request, error);
  return answer != NULL;
}

static void
decide_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  g_autoptr(KpMturkClient) client = new_client (source_object);
  GError *error = NULL;

  if (call_decision (client, task_data, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

static KpReviewAssignment *
find_assignment (KpReviewModel *self,
                 const char    *hit_id,
                 const char    *assignment_id)
{
  for (guint i = 0; i < self->batches->len; i++)
    {
      KpReviewBatch *batch = g_ptr_array_index (self->batches, i);

      for (guint j = 0; j < batch->hits->len; j++)
        {
          KpReviewHit *hit = g_ptr_array_index (batch->hits, j);

          if (g_strcmp0 (hit->hit_id, hit_id) == 0)
            return kp_review_hit_lookup (hit, assignment_id);
        }
    }
  return NULL;
}

static void
apply_decision (KpReviewModel  *self,
                const char     *hit_id,
                const char     *assignment_id,
                KpReviewAction  action,
                const char     *text)
{
  KpReviewAssignment *a = find_assignment (self, hit_id, assignment_id);

  if (a == NULL || (action != KP_REVIEW_APPROVE && action != KP_REVIEW_REJECT))
    return;
  g_free (a->status);
  a->status = g_strdup (action == KP_REVIEW_APPROVE ? "Approved" : "Rejected");
  g_free (a->feedback);
  a->feedback = g_strdup (text);
}

void
kp_review_model_decide_async (KpReviewModel       *self,
                              KpReviewHit         *hit,
                              KpReviewAssignment  *assignment,
                              KpReviewAction       action,
                              const char          *text,
                              const char          *amount,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  DecideData *data;

  g_return_if_fail (KP_IS_REVIEW_MODEL (self));
  g_return_if_fail (hit != NULL);
  g_return_if_fail (assignment != NULL);
  g_return_if_fail (action != KP_REVIEW_BONUS || amount != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kp_review_model_decide_async);

  data = g_new0 (DecideData, 1);
  data->hit_id = g_strdup (hit->hit_id);
  data->assignment_id = g_strdup (assignment->assignment_id);
  data->worker_id = g_strdup (assignment->worker_id);
  data->action = action;
  data->text = g_strdup (text);
  data->amount = g_strdup (amount);
  g_task_set_task_data (task, data, (GDestroyNotify)decide_data_free);

  if (action == KP_REVIEW_REJECT && (text == NULL || *text == '\0'))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("Say why the assignment is rejected: the worker sees it"));
      return;
    }

  g_task_run_in_thread (task, decide_thread);
}

gboolean
kp_review_model_decide_finish (KpReviewModel  *self,
                               GAsyncResult   *result,
                               GError        **error)
{
  DecideData *data;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  data = g_task_get_task_data (G_TASK (result));
  apply_decision (self, data->hit_id, data->assignment_id, data->action, data->text);
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* Bulk approval                                                      */
/* ------------------------------------------------------------------ */

typedef struct
{
  GPtrArray           *decisions;   /* of DecideData */
  GPtrArray           *approved;    /* of DecideData, borrowed */
  GPtrArray           *failures;    /* of char * */
  KpReviewProgressFunc progress;
  gpointer             progress_data;
  GMainContext        *context;
} BulkData;

static void
bulk_data_free (BulkData *data)
{
  g_ptr_array_unref (data->decisions);
  g_ptr_array_unref (data->approved);
  g_ptr_array_unref (data->failures);
  g_main_context_unref (data->context);
  g_free (data);
}

typedef struct
{
  GTask *task;
  guint  done;
  guint  total;
} BulkProgress;

static gboolean
bulk_progress_cb (gpointer user_data)
{
  BulkProgress *p = user_data;
  BulkData *data = g_task_get_task_data (p->task);

  if (data->progress != NULL && !g_task_get_completed (p->task))
    data->progress (p->done, p->total, data->progress_data);
  g_object_unref (p->task);
  g_free (p);
  return G_SOURCE_REMOVE;
}

static void
bulk_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  g_autoptr(KpMturkClient) client = new_client (source_object);
  BulkData *data = task_data;

  for (guint i = 0; i < data->decisions->len; i++)
    {
      DecideData *d = g_ptr_array_index (data->decisions, i);
      g_autoptr(GError) error = NULL;
      BulkProgress *p;

      if (g_task_return_error_if_cancelled (task))
        return;
      if (call_decision (client, d, &error))
        g_ptr_array_add (data->approved, d);
      else
        /* TRANSLATORS: an assignment id, then why it failed */
        g_ptr_array_add (data->failures, g_strdup_printf (_("%s: %s"), d->assignment_id, error->message));

      p = g_new0 (BulkProgress, 1);
      p->task = g_object_ref (task);
      p->done = i + 1;
      p->total = data->decisions->len;
      g_main_context_invoke (data->context, bulk_progress_cb, p);
    }
  g_task_return_boolean (task, TRUE);
}

void
kp_review_model_bulk_approve_async (KpReviewModel       *self,
                                    KpReviewBatch       *batch,
                                    double               threshold,
                                    const char          *feedback,
                                    KpReviewProgressFunc progress,
                                    gpointer             progress_data,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  BulkData *data;

  g_return_if_fail (KP_IS_REVIEW_MODEL (self));
  g_return_if_fail (batch != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kp_review_model_bulk_approve_async);

  data = g_new0 (BulkData, 1);
  data->decisions = g_ptr_array_new_with_free_func ((GDestroyNotify)decide_data_free);
  data->approved = g_ptr_array_new ();
  data->failures = g_ptr_array_new_with_free_func (g_free);
  data->progress = progress;
  data->progress_data = progress_data;
  data->context = g_main_context_ref_thread_default ();
  g_task_set_task_data (task, data, (GDestroyNotify)bulk_data_free);

  for (guint i = 0; i < batch->hits->len; i++)
    {
      KpReviewHit *hit = g_ptr_array_index (batch->hits, i);

      if (!kp_review_hit_is_above (hit, threshold))
        continue;
      for (guint j = 0; j < hit->assignments->len; j++)
        {
          KpReviewAssignment *a = g_ptr_array_index (hit->assignments, j);
          DecideData *d;

          if (g_strcmp0 (a->status, "Submitted") != 0)
            continue;
          d = g_new0 (DecideData, 1);
          d->hit_id = g_strdup (hit->hit_id);
          d->assignment_id = g_strdup (a->assignment_id);
          d->worker_id = g_strdup (a->worker_id);
          d->action = KP_REVIEW_APPROVE;
          d->text = g_strdup (feedback);
          g_ptr_array_add (data->decisions, d);
        }
    }

  g_task_run_in_thread (task, bulk_thread);
}

gboolean
kp_review_model_bulk_approve_finish (KpReviewModel  *self,
                                     GAsyncResult   *result,
                                     guint          *n_approved,
                                     char         ***failures,
                                     GError        **error)
{
  BulkData *data;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  data = g_task_get_task_data (G_TASK (result));
  /* Whatever was approved before a cancellation stays approved. */
  for (guint i = 0; i < data->approved->len; i++)
    {
      DecideData *d = g_ptr_array_index (data->approved, i);

      apply_decision (self, d->hit_id, d->assignment_id, d->action, d->text);
    }
  if (n_approved != NULL)
    *n_approved = data->approved->len;
  if (failures != NULL)
    {
      GStrvBuilder *builder = g_strv_builder_new ();

      for (guint i = 0; i < data->failures->len; i++)
        g_strv_builder_add (builder, g_ptr_array_index (data->failures, i));
      *failures = g_strv_builder_end (builder);
      g_strv_builder_unref (builder);
    }
  return g_task_propagate_boolean (G_TASK (result), error);
}
