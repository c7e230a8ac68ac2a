/* kp-sync-engine.c: drains a worker's outbox to the server, on its own thread
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-sync-engine.h"

#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "kp-worker-client.h"

/* How it works. The engine (a GObject living on the caller's main context)
 * owns a thread running its own GMainContext. That thread opens its own
 * KpWorkerCache and KpWorkerClient and does all SQLite and network work.
 * The two sides talk only by messages: commands go to the thread with
 * g_main_context_invoke_full(), and replies (item snapshots, counts, task
 * results) come back the same way. GTasks are created, returned and freed
 * on the main side only; the thread never holds a reference on the engine
 * (it reaches it through a Handle that dispose clears). */

#define MAX_BATCH 100
#define PROGRESS_INTERVAL_US (50 * G_TIME_SPAN_MILLISECOND)
#define ACCEPTS_IN_FLIGHT 2
#define ACCEPT_BATCH 25
#define DOWNLOADS_IN_FLIGHT 4

static const GEnumValue sync_state_values[] = {
  { KP_SYNC_STATE_IDLE, "KP_SYNC_STATE_IDLE", "idle" },
  { KP_SYNC_STATE_SYNCING, "KP_SYNC_STATE_SYNCING", "syncing" },
  { KP_SYNC_STATE_WAITING, "KP_SYNC_STATE_WAITING", "waiting" },
  { KP_SYNC_STATE_OFFLINE, "KP_SYNC_STATE_OFFLINE", "offline" },
  { KP_SYNC_STATE_PAUSED, "KP_SYNC_STATE_PAUSED", "paused" },
  { 0, NULL, NULL },
};

GType
kp_sync_state_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id))
    {
      GType type = g_enum_register_static (g_intern_static_string ("KpSyncState"),
                                           sync_state_values);
      g_once_init_leave (&type_id, type);
    }
  return type_id;
}

typedef struct
{
  KpSyncEngine *engine;  /* main side only; NULL once disposed */
} Handle;

typedef struct _Worker Worker;

struct _KpSyncEngine
{
  GObject          parent_instance;

  char            *cache_path;
  char            *server_url;
  char            *token;
  gboolean         loopback;

  GMainContext    *main_context;
  Handle          *handle;
  GNetworkMonitor *monitor;
  gulong           monitor_handler;

  gboolean         work_offline;
  gboolean         network_available;
  gboolean         loaded;
  KpSyncState      state;
  char            *last_error;
  guint            counts[4];
  GListStore      *outbox;
  GHashTable      *items;  /* submission id → KpOutboxItem (borrowed from outbox) */

  guint            batch_size;
  guint            max_in_flight;
  guint            retry_base_ms;
  guint            retry_max_ms;

  Worker          *worker;
  GThread         *thread;
};

G_DEFINE_FINAL_TYPE (KpSyncEngine, kp_sync_engine, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_CACHE_PATH,
  PROP_SERVER_URL,
  PROP_STATE,
  PROP_LAST_ERROR,
  PROP_WORK_OFFLINE,
  PROP_NETWORK_AVAILABLE,
  PROP_N_QUEUED,
  PROP_N_SENDING,
  PROP_N_ACCEPTED,
  PROP_N_REFUSED,
  PROP_OUTBOX,
  PROP_LOADED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  ITEM_CHANGED,
  TAKE_OFFLINE_PROGRESS,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* --- the thread's side -------------------------------------------------- */

struct _Worker
{
  Handle         *handle;        /* atomic rc box */
  GMainContext   *main_context;
  GMainContext   *context;
  GMainLoop      *loop;

  char           *cache_path;
  char           *server_url;
  char           *token;
  guint           batch_size;
  guint           max_in_flight;
  guint           retry_base_ms;
  guint           retry_max_ms;

  /* Owned by the thread from here on. */
  KpWorkerCache  *cache;
  KpWorkerClient *client;
  GCancellable   *cancellable;
  gboolean        paused_user;
  gboolean        paused_network;
  gboolean        stopping;
  guint           in_flight;
  guint           busy_tasks;    /* take-offline operations running */
  GPtrArray      *offlines;      /* Offline *, running */
  guint           failures;      /* failed requests in a row */
  gint64          backoff_until; /* real µs */
  char           *last_error;
  GSource        *timer;
  GSource        *drain_source;
  KpSyncState     reported_state;
  gboolean        state_reported;
};

typedef enum
{
  POST_ITEMS,      /* items: snapshots to merge into the model (reset: replace all) */
  POST_STATE,      /* state, error */
  POST_TASK_STRING,
  POST_TASK_BOOLEAN,
  POST_TASK_STRV,
  POST_TASK_POINTER,
  POST_PROGRESS,
} PostKind;

typedef struct
{
  Handle      *handle;
  PostKind     kind;
  GPtrArray   *items;
  gboolean     reset;
  gboolean     have_counts;
  guint        counts[4];
  KpSyncState  state;
  char        *error_message;
  GTask       *task;
  char        *string;
  GStrv        strv;
  gpointer     pointer;
  GDestroyNotify pointer_free;
  GError      *error;
  guint        hits_ready;
  guint        hits_wanted;
  guint64      bytes_done;
  guint64      bytes_total;
} Post;

/* Not g_main_context_invoke(): it would run the function right here when
 * nobody owns the context at this moment. */
static void
attach_idle (GMainContext   *context,
             GSourceFunc     func,
             gpointer        data,
             GDestroyNotify  destroy)
{
  GSource *source = g_idle_source_new ();

  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, func, data, destroy);
  g_source_attach (source, context);
  g_source_unref (source);
}

static void
post_free (gpointer data)
{
  Post *p = data;

  g_atomic_rc_box_release (p->handle);
  g_clear_pointer (&p->items, g_ptr_array_unref);
  g_free (p->error_message);
  g_free (p->string);
  g_strfreev (p->strv);
  if (p->pointer != NULL)
    p->pointer_free (p->pointer);
  g_clear_error (&p->error);
  /* A task that never got its answer (the engine went away first). */
  if (p->task != NULL)
    {
      g_task_return_new_error (p->task, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                               _("The sync engine stopped"));
      g_object_unref (p->task);
    }
  g_free (p);
}

static void engine_apply_post (KpSyncEngine *self,
                               Post         *p);

static gboolean
post_dispatch (gpointer data)
{
  Post *p = data;

  if (p->kind == POST_TASK_STRING || p->kind == POST_TASK_BOOLEAN || p->kind == POST_TASK_STRV ||
      p->kind == POST_TASK_POINTER)
    {
      GTask *task = g_steal_pointer (&p->task);

      if (p->error != NULL)
        g_task_return_error (task, g_steal_pointer (&p->error));
      else if (p->kind == POST_TASK_STRING)
        g_task_return_pointer (task, g_steal_pointer (&p->string), g_free);
      else if (p->kind == POST_TASK_STRV)
        g_task_return_pointer (task, g_steal_pointer (&p->strv), (GDestroyNotify)g_strfreev);
      else if (p->kind == POST_TASK_POINTER)
        g_task_return_pointer (task, g_steal_pointer (&p->pointer), p->pointer_free);
      else
        g_task_return_boolean (task, TRUE);
      g_object_unref (task);
    }

  if (p->handle->engine != NULL)
    engine_apply_post (p->handle->engine, p);

  return G_SOURCE_REMOVE;
}

static Post *
post_new (Worker   *w,
          PostKind  kind)
{
  Post *p = g_new0 (Post, 1);

  p->handle = g_atomic_rc_box_acquire (w->handle);
  p->kind = kind;
  return p;
}

static void
post_send (Worker *w,
           Post   *p)
{
  attach_idle (w->main_context, post_dispatch, p, post_free);
}

static KpSyncState
worker_compute_state (Worker *w)
{
  if (w->paused_user)
    return KP_SYNC_STATE_PAUSED;
  if (w->paused_network)
    return KP_SYNC_STATE_OFFLINE;
  if (w->in_flight > 0)
    return KP_SYNC_STATE_SYNCING;
  if (w->failures > 0)
    return KP_SYNC_STATE_WAITING;
  return KP_SYNC_STATE_IDLE;
}

static void
worker_report_state (Worker *w)
{
  KpSyncState state = worker_compute_state (w);
  Post *p;

  if (w->state_reported && state == w->reported_state)
    return;

  w->state_reported = TRUE;
  w->reported_state = state;
  p = post_new (w, POST_STATE);
  p->state = state;
  p->error_message = state == KP_SYNC_STATE_WAITING ? g_strdup (w->last_error) : NULL;
  post_send (w, p);
}

/* Sends the current rows of these submissions, and the counts. */
static void
worker_post_items (Worker             *w,
                   const char * const *ids,
                   gboolean            reset)
{
  g_autoptr(GError) error = NULL;
  Post *p = post_new (w, POST_ITEMS);

  p->reset = reset;
  if (reset)
    p->items = kp_worker_cache_list_outbox (w->cache, &error);
  else
    p->items = kp_worker_cache_get_outbox_items (w->cache, ids, &error);
  if (p->items == NULL)
    g_warning ("Cannot read the outbox: %s", error->message);
  g_clear_error (&error);

  p->have_counts = kp_worker_cache_count_outbox (w->cache, p->counts, &error);
  if (!p->have_counts)
    g_warning ("Cannot count the outbox: %s", error->message);
  post_send (w, p);
}

static void worker_schedule_drain (Worker *w);

static gboolean
worker_timer_cb (gpointer data)
{
  Worker *w = data;

  g_clear_pointer (&w->timer, g_source_unref);
  worker_schedule_drain (w);
  return G_SOURCE_REMOVE;
}

static void
worker_set_timer (Worker *w,
                  gint64  when)
{
  gint64 delay_ms = MAX (0, (when - g_get_real_time () + 999) / 1000);

  if (w->timer != NULL)
    {
      g_source_destroy (w->timer);
      g_clear_pointer (&w->timer, g_source_unref);
    }
  w->timer = g_timeout_source_new ((guint)MIN (delay_ms, G_MAXUINT));
  g_source_set_callback (w->timer, worker_timer_cb, w, NULL);
  g_source_attach (w->timer, w->context);
}

static gint64
backoff_delay_us (Worker *w,
                  guint   failures)
{
  gint64 delay = w->retry_base_ms;

  for (guint i = 1; i < failures && delay < w->retry_max_ms; i++)
    delay *= 2;
  delay = MIN (delay, (gint64)w->retry_max_ms);

  /* Jitter: anywhere in the upper half, so that many workstations coming
   * back at once do not knock together. */
  delay = delay / 2 + g_random_int_range (0, (gint32)MAX (1, delay / 2 + 1));
  return delay * 1000;
}

/* Quotes a string for JSON. */
static void
append_json_string (GString    *out,
                    const char *text)
{
  g_string_append_c (out, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      guchar c = *p;

      if (c == '"' || c == '\\')
        {
          g_string_append_c (out, '\\');
          g_string_append_c (out, c);
        }
      else if (c < 0x20)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_c (out, c);
    }
  g_string_append_c (out, '"');
}

typedef struct
{
  Worker    *w;
  GPtrArray *items;  /* KpOutboxItem, as claimed */
  gint64     sent;
} Batch;

static void
batch_free (Batch *b)
{
  g_ptr_array_unref (b->items);
  g_free (b);
}

static void
worker_finish_batch (Worker         *w,
                     Batch          *b,
                     KpOutboxResult *results)
{
  g_autoptr(GError) error = NULL;
  g_autofree const char **ids = g_new0 (const char *, b->items->len + 1);

  if (!kp_worker_cache_finish_items (w->cache, results, b->items->len, &error))
    g_warning ("Cannot record the server’s answers in the outbox: %s", error->message);

  for (guint i = 0; i < b->items->len; i++)
    ids[i] = kp_outbox_item_get_submission_id (g_ptr_array_index (b->items, i));
  worker_post_items (w, ids, FALSE);
}

static void
sync_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Batch *b = user_data;
  Worker *w = b->w;
  g_autoptr(JsonObject) answer = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree KpOutboxResult *results = NULL;
  g_autoptr(GPtrArray) strings = g_ptr_array_new_with_free_func (g_free);
  JsonArray *array = NULL;
  gint64 now = g_get_real_time ();
  guint n = b->items->len;

  gint64 t0 = g_get_monotonic_time ();

  w->in_flight--;
  answer = kp_worker_client_call_finish (KP_WORKER_CLIENT (source), result, &error);
  results = g_new0 (KpOutboxResult, n);

  if (answer != NULL && json_object_has_member (answer, "results") &&
      JSON_NODE_HOLDS_ARRAY (json_object_get_member (answer, "results")))
    array = json_object_get_array_member (answer, "results");
  else if (answer != NULL && error == NULL)
    g_set_error (&error, KP_WORKER_ERROR, KP_WORKER_ERROR_PROTOCOL,
                 _("The server’s answer to a sync has no results"));

  if (array != NULL)
    {
      w->failures = 0;
      g_clear_pointer (&w->last_error, g_free);
    }
  else if (g_error_matches (error, KP_WORKER_ERROR, KP_WORKER_ERROR_TOO_LARGE) && n > 1)
    {
      /* Large answers: smaller batches from now on, and this one again
       * at once (halving until one item fits, or is too large alone). */
      w->batch_size = MAX (1, n / 2);
      g_debug ("A batch of %u items is too large for the server; sending %u at a time",
               n, w->batch_size);
    }
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
           !g_error_matches (error, KP_WORKER_ERROR, KP_WORKER_ERROR_TOO_LARGE))
    {
      /* No answer about any item: all of them go again later. Sending
       * them twice is safe: the server knows their submission ids. */
      w->failures++;
      w->backoff_until = now + backoff_delay_us (w, w->failures);
      g_free (w->last_error);
      w->last_error = g_strdup (error->message);
      g_debug ("Sync of %u items failed (%s); retrying in %" G_GINT64_FORMAT " ms",
               n, error->message, (w->backoff_until - now) / 1000);
    }

  for (guint i = 0; i < n; i++)
    {
      KpOutboxItem *item = g_ptr_array_index (b->items, i);
      KpOutboxResult *r = &results[i];
      JsonObject *res = NULL;
      const char *res_id = NULL;

      r->submission_id = kp_outbox_item_get_submission_id (item);
      r->kind = KP_OUTBOX_RESULT_RETRY;
      r->next_attempt = array != NULL ? now + backoff_delay_us (w, kp_outbox_item_get_attempts (item))
                                      : w->backoff_until;
      if (error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        r->next_attempt = now;
      else if (g_error_matches (error, KP_WORKER_ERROR, KP_WORKER_ERROR_TOO_LARGE) && n > 1)
        r->next_attempt = now;
      else if (g_error_matches (error, KP_WORKER_ERROR, KP_WORKER_ERROR_TOO_LARGE))
        {
          /* One submission larger than the server takes: it will never
           * pass; keep it as a draft the worker can see and export. */
          r->kind = KP_OUTBOX_RESULT_REFUSED;
          r->status_code = 413;
          r->error_code = "too-large";
          r->reason = error->message;
          continue;
        }
      else if (error != NULL)
        {
          r->reason = error->message;
          r->error_code = kp_worker_error_is_retryable (error) ? "network" : "request";
        }

      if (array == NULL || i >= json_array_get_length (array))
        continue;
      if (JSON_NODE_HOLDS_OBJECT (json_array_get_element (array, i)))
        res = json_array_get_object_element (array, i);
      if (res != NULL)
        res_id = json_object_get_string_member_with_default (res, "submission_id", NULL);
      if (res == NULL || g_strcmp0 (res_id, r->submission_id) != 0)
        {
          r->reason = _("The server’s answer does not match the submission");
          continue;
        }

      r->status_code = json_object_get_int_member_with_default (res, "status", 0);
      r->error_code = json_object_get_string_member_with_default (res, "error", NULL);
      r->reason = json_object_get_string_member_with_default (res, "message", NULL);

      if (r->status_code == 200)
        {
          r->kind = KP_OUTBOX_RESULT_ACCEPTED;
          r->reason = NULL;
          r->error_code = NULL;
          if (json_object_has_member (res, "response"))
            {
              char *text = json_to_string (json_object_get_member (res, "response"), FALSE);

              g_ptr_array_add (strings, text);
              r->response = text;
            }
        }
      else if (r->status_code >= 400 && r->status_code < 500 && r->status_code != 429 &&
               r->status_code != 408)
        r->kind = KP_OUTBOX_RESULT_REFUSED;
    }

  worker_finish_batch (w, b, results);
  g_debug ("Synced %u items: request %" G_GINT64_FORMAT " ms, answer handled in %" G_GINT64_FORMAT " ms",
           n, (t0 - b->sent) / 1000, (g_get_monotonic_time () - t0) / 1000);
  batch_free (b);
  worker_schedule_drain (w);
}

static GBytes *
build_sync_body (GPtrArray *items)
{
  GString *out = g_string_sized_new (items->len * 2200 + 32);

  g_string_append (out, "{\"submissions\":[");
  for (guint i = 0; i < items->len; i++)
    {
      KpOutboxItem *item = g_ptr_array_index (items, i);

      if (i > 0)
        g_string_append_c (out, ',');
      g_string_append (out, "{\"submission_id\":");
      append_json_string (out, kp_outbox_item_get_submission_id (item));
      g_string_append (out, ",\"assignment_id\":");
      append_json_string (out, kp_outbox_item_get_assignment_id (item));
      /* The answer was checked to be JSON when it entered the outbox. */
      g_string_append (out, ",\"answers\":");
      g_string_append (out, kp_outbox_item_get_answer (item));
      g_string_append_c (out, '}');
    }
  g_string_append (out, "]}");

  return g_string_free_to_bytes (out);
}

static void
worker_drain (Worker *w)
{
  g_autoptr(GError) error = NULL;
  gint64 now = g_get_real_time ();

  if (w->cache == NULL || w->stopping || w->paused_user || w->paused_network)
    {
      worker_report_state (w);
      return;
    }

  while (w->in_flight < w->max_in_flight)
    {
      g_autoptr(GPtrArray) items = NULL;
      g_autoptr(GBytes) body = NULL;
      g_autofree const char **ids = NULL;
      Batch *b;

      if (w->backoff_until > now)
        {
          worker_set_timer (w, w->backoff_until);
          break;
        }

      items = kp_worker_cache_claim_batch (w->cache, w->batch_size, now, &error);
      if (items == NULL)
        {
          g_warning ("Cannot read the outbox: %s", error->message);
          g_clear_error (&error);
          worker_set_timer (w, now + G_USEC_PER_SEC);
          break;
        }

      if (items->len == 0)
        {
          if (w->in_flight == 0)
            {
              gint64 next = kp_worker_cache_get_next_due (w->cache, NULL);

              if (next >= 0)
                worker_set_timer (w, next);
            }
          break;
        }

      ids = g_new0 (const char *, items->len + 1);
      for (guint i = 0; i < items->len; i++)
        ids[i] = kp_outbox_item_get_submission_id (g_ptr_array_index (items, i));
      worker_post_items (w, ids, FALSE);

      body = build_sync_body (items);
      b = g_new0 (Batch, 1);
      b->w = w;
      b->items = g_steal_pointer (&items);
      b->sent = g_get_monotonic_time ();
      w->in_flight++;
      kp_worker_client_sync_async (w->client, body, w->cancellable, sync_cb, b);
    }

  worker_report_state (w);
}

static gboolean
worker_drain_cb (gpointer data)
{
  Worker *w = data;

  g_clear_pointer (&w->drain_source, g_source_unref);
  worker_drain (w);
  return G_SOURCE_REMOVE;
}

static void
worker_schedule_drain (Worker *w)
{
  if (w->drain_source != NULL)
    return;
  w->drain_source = g_idle_source_new ();
  g_source_set_callback (w->drain_source, worker_drain_cb, w, NULL);
  g_source_attach (w->drain_source, w->context);
}

/* --- commands (run on the thread) --- */

typedef enum
{
  CMD_SET_PAUSED,
  CMD_SYNC_NOW,
  CMD_SUBMIT,
  CMD_SAVE_DRAFT,
  CMD_TAKE_OFFLINE,
  CMD_CANCEL_OFFLINE,
  CMD_LIST_ASSIGNMENTS,
  CMD_LOAD_DRAFT,
  CMD_RETURN,
  CMD_QUIT,
} CommandKind;

typedef struct _Offline Offline;

typedef struct
{
  Worker      *w;
  CommandKind  kind;
  gboolean     paused_user;
  gboolean     paused_network;
  GTask       *task;  /* returned through a Post, never freed here */
  char        *a;
  char        *b;
  guint        n;
  Offline     *offline;
} Command;

static void offline_unref (Offline *o);

static void
command_free (gpointer data)
{
  Command *c = data;

  g_free (c->a);
  g_free (c->b);
  if (c->offline != NULL)
    offline_unref (c->offline);
  /* A task still here was never run: hand it back to be cancelled on the
   * main side. */
  if (c->task != NULL)
    {
      Post *p = post_new (c->w, POST_TASK_BOOLEAN);

      p->task = g_steal_pointer (&c->task);
      p->error = g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, _("The sync engine stopped"));
      post_send (c->w, p);
    }
  g_free (c);
}

static void
reply_task (Worker   *w,
            Command  *c,
            PostKind  kind,
            char     *string,
            GError   *error)
{
  Post *p = post_new (w, kind);

  p->task = g_steal_pointer (&c->task);
  p->string = string;
  p->error = error;
  post_send (w, p);
}

/* --- taking work offline --- */

struct _Offline
{
  gatomicrefcount  ref;
  Worker          *w;
  GTask           *task;
  char            *hit_type_id;
  guint            wanted;
  guint            accepting;    /* accept requests in flight */
  guint            requested;    /* HITs they ask for */
  gboolean         group_done;
  GPtrArray       *assignment_ids;
  GHashTable      *media_seen;
  GQueue           media_queue;  /* char * sha256 */
  guint            downloading;
  guint64          bytes_done;
  guint64          bytes_total;
  GError          *error;
  guint            media_failed;
  GCancellable    *cancellable;  /* the thread's own */
  gint64           last_progress;
  gboolean         finished;
  GPtrArray       *pending;      /* JsonObject: accepted, not yet stored */
  GSource         *flush_source;
};

static Offline *
offline_ref (Offline *o)
{
  g_atomic_ref_count_inc (&o->ref);
  return o;
}

static void
offline_unref (Offline *o)
{
  if (!g_atomic_ref_count_dec (&o->ref))
    return;

  g_assert (o->task == NULL);
  g_assert (o->flush_source == NULL);
  g_ptr_array_unref (o->pending);
  g_free (o->hit_type_id);
  g_ptr_array_unref (o->assignment_ids);
  g_hash_table_unref (o->media_seen);
  g_queue_clear_full (&o->media_queue, g_free);
  g_clear_error (&o->error);
  g_clear_object (&o->cancellable);
  g_free (o);
}

static void offline_step (Offline *o);

/* Accepted assignments are stored in groups: one transaction (one sync
 * to the disk) for all that arrived within 20 ms, rather than one each,
 * which kept the next accept waiting. */
static void
offline_flush (Offline *o)
{
  g_autoptr(GError) error = NULL;

  if (o->flush_source != NULL)
    {
      g_source_destroy (o->flush_source);
      g_clear_pointer (&o->flush_source, g_source_unref);
    }
  if (o->pending->len == 0)
    return;

  if (!kp_worker_cache_put_assignments (o->w->cache, (JsonObject **)o->pending->pdata,
                                        o->pending->len, &error))
    {
      o->group_done = TRUE;
      if (o->error == NULL)
        o->error = g_steal_pointer (&error);
      /* Not stored: not offered as taken. */
      for (guint i = 0; i < o->pending->len; i++)
        {
          const char *id = json_object_get_string_member (g_ptr_array_index (o->pending, i),
                                                          "assignment_id");

          for (guint j = 0; j < o->assignment_ids->len; j++)
            if (g_strcmp0 (g_ptr_array_index (o->assignment_ids, j), id) == 0)
              {
                g_ptr_array_remove_index (o->assignment_ids, j);
                break;
              }
        }
    }
  g_ptr_array_set_size (o->pending, 0);
}

static gboolean
offline_flush_cb (gpointer data)
{
  Offline *o = data;

  g_clear_pointer (&o->flush_source, g_source_unref);
  offline_flush (o);
  offline_step (o);
  return G_SOURCE_REMOVE;
}

static void
offline_progress (Offline  *o,
                  gboolean  force)
{
  gint64 now = g_get_monotonic_time ();
  Post *p;

  if (!force && now - o->last_progress < PROGRESS_INTERVAL_US)
    return;
  o->last_progress = now;

  p = post_new (o->w, POST_PROGRESS);
  p->hits_ready = o->assignment_ids->len;
  p->hits_wanted = o->wanted;
  p->bytes_done = o->bytes_done;
  p->bytes_total = o->bytes_total;
  post_send (o->w, p);
}

typedef struct
{
  Offline *o;
  char    *sha256;
  guint64  done;
  guint64  total;
} MediaJob;

static void
media_job_free (gpointer data)
{
  MediaJob *job = data;

  offline_unref (job->o);
  g_free (job->sha256);
  g_free (job);
}

static void
media_progress_cb (guint64  done,
                   guint64  total,
                   gpointer user_data)
{
  MediaJob *job = user_data;
  Offline *o = job->o;

  /* A retried download starts again from zero: count only growth. */
  o->bytes_total += total > job->total ? total - job->total : 0;
  job->total = MAX (job->total, total);
  if (done > job->done)
    {
      o->bytes_done += done - job->done;
      job->done = done;
    }
  offline_progress (o, FALSE);
}

/* user_data is the job, which the download's task frees after this. */
static void
download_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  MediaJob *job = user_data;
  Offline *o = job->o;
  Worker *w = o->w;
  g_autoptr(GError) error = NULL;
  g_autofree char *content_type = NULL;
  guint64 size = 0;

  o->downloading--;
  if (kp_worker_client_download_media_finish (KP_WORKER_CLIENT (source), result, &size,
                                              &content_type, &error))
    {
      g_autoptr(GError) put_error = NULL;

      if (!kp_worker_cache_put_media (w->cache, job->sha256, content_type, size, TRUE, &put_error))
        g_warning ("Cannot record the media %s: %s", job->sha256, put_error->message);
    }
  else
    {
      o->media_failed++;
      if (o->error == NULL)
        o->error = g_steal_pointer (&error);
    }

  offline_step (o);
}

static void
offline_start_download (Offline    *o,
                        const char *sha256)
{
  Worker *w = o->w;
  g_autofree char *path = kp_worker_cache_dup_media_path (w->cache, sha256);
  g_autofree char *dir = g_path_get_dirname (path);
  MediaJob *job = g_new0 (MediaJob, 1);

  g_mkdir_with_parents (dir, 0700);
  job->o = offline_ref (o);
  job->sha256 = g_strdup (sha256);
  o->downloading++;

  kp_worker_client_download_media_async (w->client, sha256, path, 3,
                                         media_progress_cb, job, media_job_free,
                                         o->cancellable, download_cb, job);
}

typedef struct
{
  Offline *o;
  guint    count;   /* HITs asked for */
} AcceptCall;

static void
offline_take_assignment (Offline    *o,
                         JsonObject *assignment)
{
  Worker *w = o->w;
  const char *assignment_id = json_object_get_string_member_with_default (assignment,
                                                                          "assignment_id", NULL);
  JsonObject *hit = NULL;
  g_auto(GStrv) refs = NULL;

  if (assignment_id == NULL)
    return;

  g_ptr_array_add (o->pending, json_object_ref (assignment));
  g_ptr_array_add (o->assignment_ids, g_strdup (assignment_id));
  if (json_object_has_member (assignment, "hit") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (assignment, "hit")))
    hit = json_object_get_object_member (assignment, "hit");
  refs = kp_worker_cache_find_media_refs (
    hit != NULL ? json_object_get_string_member_with_default (hit, "question", NULL) : NULL);

  for (guint i = 0; refs[i] != NULL; i++)
    {
      if (g_hash_table_contains (o->media_seen, refs[i]))
        continue;
      g_hash_table_add (o->media_seen, g_strdup (refs[i]));
      if (!kp_worker_cache_lookup_media (w->cache, refs[i], NULL, NULL))
        g_queue_push_tail (&o->media_queue, g_strdup (refs[i]));
    }
}

static void
accept_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  AcceptCall *call = user_data;
  Offline *o = call->o;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) answer = NULL;
  guint got = 0;

  o->accepting--;
  o->requested -= call->count;
  answer = kp_worker_client_call_finish (KP_WORKER_CLIENT (source), result, &error);
  if (answer == NULL)
    {
      /* 410: the group has nothing left for this worker. Anything else
       * ends the accepting too (accepting is not safe to repeat blindly). */
      o->group_done = TRUE;
      if (!g_error_matches (error, KP_WORKER_ERROR, KP_WORKER_ERROR_GONE) && o->error == NULL)
        o->error = g_steal_pointer (&error);
    }
  else if (json_object_has_member (answer, "assignments") &&
           JSON_NODE_HOLDS_ARRAY (json_object_get_member (answer, "assignments")))
    {
      JsonArray *assignments = json_object_get_array_member (answer, "assignments");

      for (guint i = 0; i < json_array_get_length (assignments); i++)
        {
          JsonNode *node = json_array_get_element (assignments, i);

          if (JSON_NODE_HOLDS_OBJECT (node))
            {
              offline_take_assignment (o, json_node_get_object (node));
              got++;
            }
        }
    }
  else
    {
      /* A server that accepts one at a time. */
      offline_take_assignment (o, answer);
      got = 1;
    }

  /* Fewer than asked for: the group has no more for this worker. */
  if (answer != NULL && got < call->count)
    o->group_done = TRUE;

  offline_progress (o, FALSE);
  offline_step (o);
  offline_unref (o);
  g_free (call);
}

static void
offline_finish (Offline *o)
{
  Worker *w = o->w;
  Post *p;

  o->finished = TRUE;
  w->busy_tasks--;
  g_ptr_array_remove (w->offlines, o);
  offline_progress (o, TRUE);

  p = post_new (w, POST_TASK_STRV);
  p->task = g_steal_pointer (&o->task);
  if (g_cancellable_is_cancelled (o->cancellable))
    p->error = g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Taking work offline was cancelled"));
  else if (o->media_failed > 0)
    p->error = g_error_new (o->error->domain, o->error->code,
                            g_dngettext (GETTEXT_PACKAGE,
                                         "%u media file could not be downloaded: %s",
                                         "%u media files could not be downloaded: %s",
                                         o->media_failed),
                            o->media_failed, o->error->message);
  else if (o->assignment_ids->len == 0 && o->error != NULL)
    p->error = g_error_copy (o->error);
  else if (o->assignment_ids->len == 0)
    p->error = g_error_new (KP_WORKER_ERROR, KP_WORKER_ERROR_GONE,
                            _("The group has no HIT left that you could accept"));
  else
    {
      /* Some were taken: that is success, but say why not all. */
      if (o->error != NULL && o->assignment_ids->len < o->wanted)
        g_message ("Took %u of %u HITs offline: %s", o->assignment_ids->len, o->wanted,
                   o->error->message);
      g_ptr_array_add (o->assignment_ids, NULL);
      p->strv = g_strdupv ((GStrv)o->assignment_ids->pdata);
      g_ptr_array_remove_index (o->assignment_ids, o->assignment_ids->len - 1);
    }
  post_send (w, p);

  /* New assignments change no outbox item, but the UI lists them. */
  worker_report_state (w);
}

static void
offline_step (Offline *o)
{
  Worker *w = o->w;
  gboolean cancelled = g_cancellable_is_cancelled (o->cancellable) || w->stopping;

  if (o->finished)
    return;

  if (o->pending->len >= 32 || (o->pending->len > 0 && o->accepting == 0))
    offline_flush (o);
  else if (o->pending->len > 0 && o->flush_source == NULL)
    {
      o->flush_source = g_timeout_source_new (20);
      g_source_set_callback (o->flush_source, offline_flush_cb, offline_ref (o),
                             (GDestroyNotify)offline_unref);
      g_source_attach (o->flush_source, w->context);
    }

  /* The accepts go in batches, one commit on the server each; the first
   * is small so that the first media start early. */
  while (!cancelled && !o->group_done &&
         o->accepting < ACCEPTS_IN_FLIGHT &&
         o->assignment_ids->len + o->requested < o->wanted)
    {
      AcceptCall *call = g_new0 (AcceptCall, 1);

      call->o = offline_ref (o);
      call->count = MIN (o->assignment_ids->len + o->requested == 0 ? 4 : ACCEPT_BATCH,
                         o->wanted - o->assignment_ids->len - o->requested);
      o->accepting++;
      o->requested += call->count;
      kp_worker_client_accept_group_many_async (w->client, o->hit_type_id, call->count,
                                                o->cancellable, accept_cb, call);
    }

  /* Downloads run alongside the accepts: the server maps the files, so
   * serving them costs it little, and the accepts wait for its disk, not
   * for its processor. */
  while (!cancelled &&
         o->downloading < DOWNLOADS_IN_FLIGHT &&
         !g_queue_is_empty (&o->media_queue))
    {
      g_autofree char *sha = g_queue_pop_head (&o->media_queue);

      offline_start_download (o, sha);
    }

  if (o->accepting == 0 && o->downloading == 0 &&
      (cancelled || o->group_done || o->assignment_ids->len >= o->wanted) &&
      (cancelled || g_queue_is_empty (&o->media_queue)))
    offline_finish (o);
}

typedef struct
{
  Worker *w;
  GTask  *task;
  char   *assignment_id;
} ReturnData;

static void
return_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  ReturnData *r = user_data;
  Worker *w = r->w;
  g_autoptr(JsonObject) answer = NULL;
  GError *error = NULL;
  Post *p;

  w->busy_tasks--;
  answer = kp_worker_client_call_finish (KP_WORKER_CLIENT (source), result, &error);
  /* Returned on the server (or it was not the worker's to return any
   * more): the cache follows, and the HIT leaves the worker's list. */
  if (answer != NULL && w->cache != NULL)
    kp_worker_cache_set_assignment_status (w->cache, r->assignment_id, "Returned", NULL);

  p = post_new (w, POST_TASK_BOOLEAN);
  p->task = g_steal_pointer (&r->task);
  p->error = error;
  post_send (w, p);

  g_free (r->assignment_id);
  g_free (r);
}

static gboolean
command_dispatch (gpointer data)
{
  Command *c = data;
  Worker *w = c->w;
  g_autoptr(GError) error = NULL;

  switch (c->kind)
    {
    case CMD_SET_PAUSED:
      w->paused_user = c->paused_user;
      w->paused_network = c->paused_network;
      worker_schedule_drain (w);
      worker_report_state (w);
      break;

    case CMD_SYNC_NOW:
      w->backoff_until = 0;
      w->failures = 0;
      worker_schedule_drain (w);
      break;

    case CMD_SUBMIT:
      if (w->cache == NULL)
        reply_task (w, c, POST_TASK_STRING, NULL,
                    g_error_new (KP_WORKER_CACHE_ERROR, KP_WORKER_CACHE_ERROR_FAILED,
                                 _("The worker cache could not be opened")));
      else
        {
          char *id = kp_worker_cache_enqueue (w->cache, c->a, c->b, NULL, &error);

          if (id != NULL)
            {
              const char *ids[] = { id, NULL };

              worker_post_items (w, ids, FALSE);
              worker_schedule_drain (w);
            }
          reply_task (w, c, POST_TASK_STRING, id, g_steal_pointer (&error));
        }
      break;

    case CMD_SAVE_DRAFT:
      if (w->cache == NULL || !kp_worker_cache_save_draft (w->cache, c->a, c->b, &error))
        reply_task (w, c, POST_TASK_BOOLEAN, NULL,
                    error != NULL ? g_steal_pointer (&error)
                                  : g_error_new (KP_WORKER_CACHE_ERROR, KP_WORKER_CACHE_ERROR_FAILED,
                                                 _("The worker cache could not be opened")));
      else
        reply_task (w, c, POST_TASK_BOOLEAN, NULL, NULL);
      break;

    case CMD_TAKE_OFFLINE:
      {
        Offline *o = c->offline;

        o->task = g_steal_pointer (&c->task);
        if (w->cache == NULL)
          {
            o->group_done = TRUE;
            o->error = g_error_new (KP_WORKER_CACHE_ERROR, KP_WORKER_CACHE_ERROR_FAILED,
                                    _("The worker cache could not be opened"));
          }
        w->busy_tasks++;
        g_ptr_array_add (w->offlines, offline_ref (o));
        offline_step (o);
      }
      break;

    case CMD_LIST_ASSIGNMENTS:
      {
        GPtrArray *list = w->cache != NULL ? kp_worker_cache_list_assignments (w->cache, &error) : NULL;
        Post *p = post_new (w, POST_TASK_POINTER);

        p->task = g_steal_pointer (&c->task);
        p->pointer = list;
        p->pointer_free = (GDestroyNotify)g_ptr_array_unref;
        if (list == NULL)
          p->error = error != NULL ? g_steal_pointer (&error)
                                   : g_error_new (KP_WORKER_CACHE_ERROR, KP_WORKER_CACHE_ERROR_FAILED,
                                                  _("The worker cache could not be opened"));
        post_send (w, p);
      }
      break;

    case CMD_LOAD_DRAFT:
      {
        char *draft = w->cache != NULL ? kp_worker_cache_dup_draft (w->cache, c->a, &error) : NULL;

        if (draft == NULL && error == NULL)
          error = g_error_new (KP_WORKER_CACHE_ERROR, KP_WORKER_CACHE_ERROR_FAILED,
                               _("The worker cache could not be opened"));
        reply_task (w, c, POST_TASK_STRING, draft, g_steal_pointer (&error));
      }
      break;

    case CMD_RETURN:
      {
        ReturnData *r = g_new0 (ReturnData, 1);

        r->w = w;
        r->task = g_steal_pointer (&c->task);
        r->assignment_id = g_strdup (c->a);
        w->busy_tasks++;
        kp_worker_client_return_assignment_async (w->client, c->a, w->cancellable, return_cb, r);
      }
      break;

    case CMD_CANCEL_OFFLINE:
      g_cancellable_cancel (c->offline->cancellable);
      break;

    case CMD_QUIT:
      w->stopping = TRUE;
      g_main_loop_quit (w->loop);
      break;

    default:
      g_assert_not_reached ();
    }

  return G_SOURCE_REMOVE;
}

static Command *
command_new (Worker      *w,
             CommandKind  kind)
{
  Command *c = g_new0 (Command, 1);

  c->w = w;
  c->kind = kind;
  return c;
}

static void
command_send (Worker  *w,
              Command *c)
{
  attach_idle (w->context, command_dispatch, c, command_free);
}

static gpointer
worker_thread (gpointer data)
{
  Worker *w = data;
  g_autoptr(GError) error = NULL;
  int requeued;

  g_main_context_push_thread_default (w->context);

  w->cancellable = g_cancellable_new ();
  w->offlines = g_ptr_array_new_with_free_func ((GDestroyNotify)offline_unref);
  w->client = kp_worker_client_new (w->server_url, w->token);
  w->cache = kp_worker_cache_open (w->cache_path, &error);
  if (w->cache == NULL)
    {
      g_warning ("Cannot open the worker cache: %s", error->message);
      w->last_error = g_strdup (error->message);
      w->failures = 1;
      g_clear_error (&error);
    }
  else
    {
      /* Items a crash left "sending" may or may not have reached the
       * server: send them again, the server deduplicates by id. */
      requeued = kp_worker_cache_requeue_sending (w->cache, &error);
      if (requeued < 0)
        g_warning ("Cannot requeue the outbox: %s", error->message);
      else if (requeued > 0)
        g_debug ("%d submissions were being sent when the app stopped; sending again", requeued);
      g_clear_error (&error);

      worker_post_items (w, NULL, TRUE);
      worker_schedule_drain (w);
    }
  worker_report_state (w);

  g_main_loop_run (w->loop);

  /* Stopping: cancel what is on its way and let it unwind, so that items
   * in flight go back to the queue at once. */
  g_cancellable_cancel (w->cancellable);
  for (guint i = 0; i < w->offlines->len; i++)
    g_cancellable_cancel (((Offline *)g_ptr_array_index (w->offlines, i))->cancellable);
  while (w->in_flight > 0 || w->busy_tasks > 0)
    g_main_context_iteration (w->context, TRUE);

  if (w->timer != NULL)
    g_source_destroy (w->timer);
  g_clear_pointer (&w->timer, g_source_unref);
  if (w->drain_source != NULL)
    g_source_destroy (w->drain_source);
  g_clear_pointer (&w->drain_source, g_source_unref);

  g_clear_object (&w->client);
  /* Let the session's own clean-up sources run before the context goes. */
  while (g_main_context_pending (w->context))
    g_main_context_iteration (w->context, FALSE);
  g_clear_object (&w->cache);
  g_clear_object (&w->cancellable);
  g_clear_pointer (&w->offlines, g_ptr_array_unref);

  g_main_context_pop_thread_default (w->context);
  return NULL;
}

static void
worker_free (Worker *w)
{
  /* Commands still queued are freed with the context: they need w. */
  g_main_loop_unref (w->loop);
  g_main_context_unref (w->context);
  g_atomic_rc_box_release (w->handle);
  g_main_context_unref (w->main_context);
  g_free (w->cache_path);
  g_free (w->server_url);
  if (w->token != NULL)
    memset (w->token, 0, strlen (w->token));
  g_free (w->token);
  g_free (w->last_error);
  g_free (w);
}

/* --- the main side ----------------------------------------------------- */

static void
set_counts (KpSyncEngine *self,
            const guint   counts[4])
{
  static const guint props[4] = { PROP_N_QUEUED, PROP_N_SENDING, PROP_N_ACCEPTED, PROP_N_REFUSED };

  for (guint i = 0; i < 4; i++)
    if (self->counts[i] != counts[i])
      {
        self->counts[i] = counts[i];
        g_object_notify_by_pspec (G_OBJECT (self), properties[props[i]]);
      }
}

static void
engine_apply_post (KpSyncEngine *self,
                   Post         *p)
{
  switch (p->kind)
    {
    case POST_ITEMS:
      if (p->items != NULL && p->reset)
        {
          guint old = g_list_model_get_n_items (G_LIST_MODEL (self->outbox));

          g_hash_table_remove_all (self->items);
          for (guint i = 0; i < p->items->len; i++)
            {
              KpOutboxItem *item = g_ptr_array_index (p->items, i);

              g_hash_table_insert (self->items,
                                   (gpointer)kp_outbox_item_get_submission_id (item), item);
            }
          g_list_store_splice (self->outbox, 0, old, p->items->pdata, p->items->len);
          if (!self->loaded)
            {
              self->loaded = TRUE;
              g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADED]);
            }
        }
      else if (p->items != NULL)
        {
          g_autoptr(GPtrArray) added = g_ptr_array_new ();

          for (guint i = 0; i < p->items->len; i++)
            {
              KpOutboxItem *snapshot = g_ptr_array_index (p->items, i);
              KpOutboxItem *item = g_hash_table_lookup (self->items,
                                                        kp_outbox_item_get_submission_id (snapshot));

              if (item != NULL)
                kp_outbox_item_update_from (item, snapshot);
              else
                {
                  item = snapshot;
                  g_hash_table_insert (self->items,
                                       (gpointer)kp_outbox_item_get_submission_id (item), item);
                  g_ptr_array_add (added, item);
                }
            }
          if (added->len > 0)
            g_list_store_splice (self->outbox, g_list_model_get_n_items (G_LIST_MODEL (self->outbox)),
                                 0, added->pdata, added->len);
          for (guint i = 0; i < p->items->len; i++)
            {
              KpOutboxItem *snapshot = g_ptr_array_index (p->items, i);
              KpOutboxItem *item = g_hash_table_lookup (self->items,
                                                        kp_outbox_item_get_submission_id (snapshot));

              g_signal_emit (self, signals[ITEM_CHANGED], 0, item);
            }
        }
      if (p->have_counts)
        set_counts (self, p->counts);
      break;

    case POST_STATE:
      g_object_freeze_notify (G_OBJECT (self));
      if (g_strcmp0 (self->last_error, p->error_message) != 0)
        {
          g_free (self->last_error);
          self->last_error = g_strdup (p->error_message);
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_ERROR]);
        }
      if (self->state != p->state)
        {
          self->state = p->state;
          g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
        }
      g_object_thaw_notify (G_OBJECT (self));
      break;

    case POST_PROGRESS:
      g_signal_emit (self, signals[TAKE_OFFLINE_PROGRESS], 0,
                     p->hits_ready, p->hits_wanted, p->bytes_done, p->bytes_total);
      break;

    case POST_TASK_STRING:
    case POST_TASK_BOOLEAN:
    case POST_TASK_STRV:
    case POST_TASK_POINTER:
    default:
      break;
    }
}

static void
send_paused (KpSyncEngine *self)
{
  Command *c;

  if (self->worker == NULL)
    return;
  c = command_new (self->worker, CMD_SET_PAUSED);
  c->paused_user = self->work_offline;
  c->paused_network = !self->network_available && !self->loopback;
  command_send (self->worker, c);
}

static void
network_changed_cb (GNetworkMonitor *monitor,
                    GParamSpec      *pspec,
                    KpSyncEngine    *self)
{
  gboolean available = g_network_monitor_get_network_available (monitor);

  if (available == self->network_available)
    return;
  self->network_available = available;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NETWORK_AVAILABLE]);
  send_paused (self);
  /* Back online: do not wait out a back-off that the outage caused. */
  if (available && self->worker != NULL)
    command_send (self->worker, command_new (self->worker, CMD_SYNC_NOW));
}

void
kp_sync_engine_set_network_monitor (KpSyncEngine    *self,
                                    GNetworkMonitor *monitor)
{
  g_return_if_fail (KP_IS_SYNC_ENGINE (self));
  g_return_if_fail (G_IS_NETWORK_MONITOR (monitor));

  if (self->monitor == monitor)
    return;
  if (self->monitor != NULL)
    g_clear_signal_handler (&self->monitor_handler, self->monitor);
  g_set_object (&self->monitor, monitor);
  self->monitor_handler = g_signal_connect (monitor, "notify::network-available",
                                            G_CALLBACK (network_changed_cb), self);
  /* Take the monitor's current view. */
  self->network_available = !g_network_monitor_get_network_available (monitor);
  network_changed_cb (monitor, NULL, self);
}

static gboolean
is_loopback_url (const char *url)
{
  g_autoptr(GUri) uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  g_autoptr(GInetAddress) address = NULL;
  const char *host;

  if (uri == NULL || (host = g_uri_get_host (uri)) == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;
  address = g_inet_address_new_from_string (host);
  return address != NULL && g_inet_address_get_is_loopback (address);
}

KpSyncEngine *
kp_sync_engine_new (const char *cache_path,
                    const char *server_url,
                    const char *token)
{
  KpSyncEngine *self;

  g_return_val_if_fail (cache_path != NULL, NULL);
  g_return_val_if_fail (server_url != NULL, NULL);
  g_return_val_if_fail (token != NULL, NULL);

  /* The token is no property: nothing should be able to read it back. */
  self = g_object_new (KP_TYPE_SYNC_ENGINE,
                       "cache-path", cache_path,
                       "server-url", server_url,
                       NULL);
  self->token = g_strdup (token);
  return self;
}

void
kp_sync_engine_start (KpSyncEngine *self)
{
  Worker *w;

  g_return_if_fail (KP_IS_SYNC_ENGINE (self));
  g_return_if_fail (self->thread == NULL);

  if (self->monitor == NULL)
    kp_sync_engine_set_network_monitor (self, g_network_monitor_get_default ());

  w = g_new0 (Worker, 1);
  w->handle = g_atomic_rc_box_acquire (self->handle);
  w->main_context = g_main_context_ref (self->main_context);
  w->context = g_main_context_new ();
  w->loop = g_main_loop_new (w->context, FALSE);
  w->cache_path = g_strdup (self->cache_path);
  w->server_url = g_strdup (self->server_url);
  w->token = g_strdup (self->token);
  w->batch_size = self->batch_size;
  w->max_in_flight = self->max_in_flight;
  w->retry_base_ms = self->retry_base_ms;
  w->retry_max_ms = self->retry_max_ms;
  w->paused_user = self->work_offline;
  w->paused_network = !self->network_available && !self->loopback;
  self->worker = w;

  self->thread = g_thread_new ("kp-sync", worker_thread, w);
}

static void
kp_sync_engine_dispose (GObject *object)
{
  KpSyncEngine *self = (KpSyncEngine *)object;

  if (self->thread != NULL)
    {
      command_send (self->worker, command_new (self->worker, CMD_QUIT));
      g_thread_join (g_steal_pointer (&self->thread));
      worker_free (g_steal_pointer (&self->worker));
    }

  if (self->handle != NULL)
    self->handle->engine = NULL;

  if (self->monitor != NULL)
    g_clear_signal_handler (&self->monitor_handler, self->monitor);
  g_clear_object (&self->monitor);

  G_OBJECT_CLASS (kp_sync_engine_parent_class)->dispose (object);
}

static void
kp_sync_engine_finalize (GObject *object)
{
  KpSyncEngine *self = (KpSyncEngine *)object;

  g_clear_pointer (&self->handle, g_atomic_rc_box_release);
  g_clear_pointer (&self->main_context, g_main_context_unref);
  g_clear_pointer (&self->items, g_hash_table_unref);
  g_clear_object (&self->outbox);
  g_free (self->cache_path);
  g_free (self->server_url);
  if (self->token != NULL)
    memset (self->token, 0, strlen (self->token));
  g_free (self->token);
  g_free (self->last_error);

  G_OBJECT_CLASS (kp_sync_engine_parent_class)->finalize (object);
}

static void
kp_sync_engine_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  KpSyncEngine *self = KP_SYNC_ENGINE (object);

  switch (prop_id)
    {
    case PROP_CACHE_PATH:
      g_value_set_string (value, self->cache_path);
      break;
    case PROP_SERVER_URL:
      g_value_set_string (value, self->server_url);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_LAST_ERROR:
      g_value_set_string (value, self->last_error);
      break;
    case PROP_WORK_OFFLINE:
      g_value_set_boolean (value, self->work_offline);
      break;
    case PROP_NETWORK_AVAILABLE:
      g_value_set_boolean (value, self->network_available);
      break;
    case PROP_N_QUEUED:
      g_value_set_uint (value, self->counts[KP_OUTBOX_STATE_QUEUED]);
      break;
    case PROP_N_SENDING:
      g_value_set_uint (value, self->counts[KP_OUTBOX_STATE_SENDING]);
      break;
    case PROP_N_ACCEPTED:
      g_value_set_uint (value, self->counts[KP_OUTBOX_STATE_ACCEPTED]);
      break;
    case PROP_N_REFUSED:
      g_value_set_uint (value, self->counts[KP_OUTBOX_STATE_REFUSED]);
      break;
    case PROP_OUTBOX:
      g_value_set_object (value, self->outbox);
      break;
    case PROP_LOADED:
      g_value_set_boolean (value, self->loaded);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_sync_engine_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  KpSyncEngine *self = KP_SYNC_ENGINE (object);

  switch (prop_id)
    {
    case PROP_CACHE_PATH:
      self->cache_path = g_value_dup_string (value);
      break;
    case PROP_SERVER_URL:
      self->server_url = g_value_dup_string (value);
      self->loopback = self->server_url != NULL && is_loopback_url (self->server_url);
      break;
    case PROP_WORK_OFFLINE:
      kp_sync_engine_set_work_offline (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_sync_engine_class_init (KpSyncEngineClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = kp_sync_engine_dispose;
  object_class->finalize = kp_sync_engine_finalize;
  object_class->get_property = kp_sync_engine_get_property;
  object_class->set_property = kp_sync_engine_set_property;

  properties[PROP_CACHE_PATH] =
    g_param_spec_string ("cache-path", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SERVER_URL] =
    g_param_spec_string ("server-url", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, KP_TYPE_SYNC_STATE, KP_SYNC_STATE_IDLE, ro);
  properties[PROP_LAST_ERROR] =
    g_param_spec_string ("last-error", NULL, NULL, NULL, ro);
  properties[PROP_WORK_OFFLINE] =
    g_param_spec_boolean ("work-offline", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_NETWORK_AVAILABLE] =
    g_param_spec_boolean ("network-available", NULL, NULL, TRUE, ro);
  properties[PROP_N_QUEUED] =
    g_param_spec_uint ("n-queued", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_N_SENDING] =
    g_param_spec_uint ("n-sending", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_N_ACCEPTED] =
    g_param_spec_uint ("n-accepted", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_N_REFUSED] =
    g_param_spec_uint ("n-refused", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_OUTBOX] =
    g_param_spec_object ("outbox", NULL, NULL, G_TYPE_LIST_MODEL, ro);
  properties[PROP_LOADED] =
    g_param_spec_boolean ("loaded", NULL, NULL, FALSE, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* item-changed (KpOutboxItem *item): the item's row changed or is new. */
  signals[ITEM_CHANGED] =
    g_signal_new ("item-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, KP_TYPE_OUTBOX_ITEM);
  /* take-offline-progress (guint hits_ready, guint hits_wanted,
   * guint64 bytes_done, guint64 bytes_total) */
  signals[TAKE_OFFLINE_PROGRESS] =
    g_signal_new ("take-offline-progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 4,
                  G_TYPE_UINT, G_TYPE_UINT, G_TYPE_UINT64, G_TYPE_UINT64);
}

static void
kp_sync_engine_init (KpSyncEngine *self)
{
  self->main_context = g_main_context_ref_thread_default ();
  self->handle = g_atomic_rc_box_new0 (Handle);
  self->handle->engine = self;
  self->outbox = g_list_store_new (KP_TYPE_OUTBOX_ITEM);
  self->items = g_hash_table_new (g_str_hash, g_str_equal);
  self->network_available = TRUE;
  self->batch_size = MAX_BATCH;
  self->max_in_flight = 2;
  self->retry_base_ms = 1000;
  self->retry_max_ms = 300000;
}

/* --- accessors --- */

const char *
kp_sync_engine_get_cache_path (KpSyncEngine *self)
{
  g_return_val_if_fail (KP_IS_SYNC_ENGINE (self), NULL);
  return self->cache_path;
}

const char *
kp_sync_engine_get_server_url (KpSyncEngine *self)
{
  g_return_val_if_fail (KP_IS_SYNC_ENGINE (self), NULL);
  return self->server_url;
}

KpSyncState
kp_sync_engine_get_state (KpSyncEngine *self)
{
  g_return_val_if_fail (KP_IS_SYNC_ENGINE (self), KP_SYNC_STATE_IDLE);
  return self->state;
}

const char *
kp_sync_engine_get_last_error (KpSyncEngine *self)
{
  g_return_val_if_fail (KP_IS_SYNC_ENGINE (self), NULL);
  return self->last_error;
}

gboolean
kp_sync_engine_get_work_offline (KpSyncEngine *self)
{
  g_return_val_if_fail (KP_IS_SYNC_ENGINE (self), FALSE);
  return self->work_offline;
}

void
kp_sync_engine_set_work_offline (KpSyncEngine *self,
                                 gboolean      work_offline)
{
  g_return_if_fail (KP_IS_SYNC_ENGINE (self));

  work_offline = !!work_offline;
  if (self->work_offline == work_offline)
    return;
  self->work_offline = work_offline;
  send_paused (self);
  if (!work_offline && self->worker != NULL)
    command_send (self->worker, command_new (self->worker, CMD_SYNC_NOW));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WORK_OFFLINE]);
}

gboolean
kp_sync_engine_get_network_available (KpSyncEngine *self)
{
  g_return_val_if_fail (KP_IS_SYNC_ENGINE (self), FALSE);
  return self->network_available;
}

guint
kp_sync_engine_get_n_queued (KpSyncEngine *self)
{
  g_return_val_if_fail (KP_IS_SYNC_ENGINE (self), 0);
  return self->counts[KP_OUTBOX_STATE_QUEUED];
}

guint
kp_sync_engine_get_n_sending (KpSyncEngine *self)
{
  g_return_val_if_fail (KP_IS_SYNC_ENGINE (self), 0);
  return self->counts[KP_OUTBOX_STATE_SENDING];
}

guint
kp_sync_engine_get_n_accepted (KpSyncEngine *self)
{
  g_return_val_if_fail (KP_IS_SYNC_ENGINE (self), 0);
  return self->counts[KP_OUTBOX_STATE_ACCEPTED];
}

guint
kp_sync_engine_get_n_refused (KpSyncEngine *self)
{
  g_return_val_if_fail (KP_IS_SYNC_ENGINE (self), 0);
  return self->counts[KP_OUTBOX_STATE_REFUSED];
}

GListModel *
kp_sync_engine_get_outbox (KpSyncEngine *self)
{
  g_return_val_if_fail (KP_IS_SYNC_ENGINE (self), NULL);
  return G_LIST_MODEL (self->outbox);
}

gboolean
kp_sync_engine_get_loaded (KpSyncEngine *self)
{
  g_return_val_if_fail (KP_IS_SYNC_ENGINE (self), FALSE);
  return self->loaded;
}

void
kp_sync_engine_set_batch_size (KpSyncEngine *self,
                               guint         batch_size)
{
  g_return_if_fail (KP_IS_SYNC_ENGINE (self));
  g_return_if_fail (self->thread == NULL);
  g_return_if_fail (batch_size >= 1 && batch_size <= MAX_BATCH);
  self->batch_size = batch_size;
}

void
kp_sync_engine_set_max_in_flight (KpSyncEngine *self,
                                  guint         max_in_flight)
{
  g_return_if_fail (KP_IS_SYNC_ENGINE (self));
  g_return_if_fail (self->thread == NULL);
  g_return_if_fail (max_in_flight >= 1 && max_in_flight <= 8);
  self->max_in_flight = max_in_flight;
}

void
kp_sync_engine_set_retry_delays (KpSyncEngine *self,
                                 guint         base_ms,
                                 guint         max_ms)
{
  g_return_if_fail (KP_IS_SYNC_ENGINE (self));
  g_return_if_fail (self->thread == NULL);
  g_return_if_fail (base_ms >= 1 && max_ms >= base_ms && max_ms <= G_MAXINT32);
  self->retry_base_ms = base_ms;
  self->retry_max_ms = max_ms;
}

void
kp_sync_engine_sync_now (KpSyncEngine *self)
{
  g_return_if_fail (KP_IS_SYNC_ENGINE (self));

  if (self->worker != NULL)
    command_send (self->worker, command_new (self->worker, CMD_SYNC_NOW));
}

/* --- async operations --- */

static gboolean
check_started (KpSyncEngine *self,
               GTask        *task)
{
  if (self->worker != NULL)
    return TRUE;
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                           _("The sync engine has not been started"));
  return FALSE;
}

/* Submit and save-draft: a command with an assignment and its JSON, run
 * on the engine's thread, that answers task. */
static void
send_assignment_command (KpSyncEngine        *self,
                         CommandKind          kind,
                         gpointer             source_tag,
                         const char          *assignment_id,
                         const char          *json,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  Command *c;

  g_task_set_source_tag (task, source_tag);
  if (!check_started (self, task))
    return;

  c = command_new (self->worker, kind);
  c->task = g_steal_pointer (&task);
  c->a = g_strdup (assignment_id);
  c->b = g_strdup (json);
  command_send (self->worker, c);
}

void
kp_sync_engine_submit_async (KpSyncEngine        *self,
                             const char          *assignment_id,
                             const char          *answers_json,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_return_if_fail (KP_IS_SYNC_ENGINE (self));
  g_return_if_fail (assignment_id != NULL);
  g_return_if_fail (answers_json != NULL);

  send_assignment_command (self, CMD_SUBMIT, kp_sync_engine_submit_async, assignment_id,
                           answers_json, cancellable, callback, user_data);
}

char *
kp_sync_engine_submit_finish (KpSyncEngine  *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (KP_IS_SYNC_ENGINE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
kp_sync_engine_save_draft_async (KpSyncEngine        *self,
                                 const char          *assignment_id,
                                 const char          *answer_json,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_return_if_fail (KP_IS_SYNC_ENGINE (self));
  g_return_if_fail (assignment_id != NULL);
  g_return_if_fail (answer_json != NULL);

  send_assignment_command (self, CMD_SAVE_DRAFT, kp_sync_engine_save_draft_async, assignment_id,
                           answer_json, cancellable, callback, user_data);
}

gboolean
kp_sync_engine_save_draft_finish (KpSyncEngine  *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (KP_IS_SYNC_ENGINE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

typedef struct
{
  Worker  *w;
  Offline *o;
} CancelData;

static void
cancel_data_free (gpointer data)
{
  CancelData *cd = data;

  offline_unref (cd->o);
  g_free (cd);
}

typedef struct
{
  GCancellable *cancellable;
  gulong        handler;
} CancelLink;

static void
cancel_link_free (gpointer data)
{
  CancelLink *link = data;

  g_cancellable_disconnect (link->cancellable, link->handler);
  g_object_unref (link->cancellable);
  g_free (link);
}

static void
take_offline_cancelled_cb (GCancellable *cancellable,
                           gpointer      user_data)
{
  CancelData *cd = user_data;
  Command *c = command_new (cd->w, CMD_CANCEL_OFFLINE);

  c->offline = offline_ref (cd->o);
  command_send (cd->w, c);
}

void
kp_sync_engine_take_offline_async (KpSyncEngine        *self,
                                   const char          *hit_type_id,
                                   guint                n,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Offline *o;
  Command *c;

  g_return_if_fail (KP_IS_SYNC_ENGINE (self));
  g_return_if_fail (hit_type_id != NULL);
  g_return_if_fail (n > 0);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kp_sync_engine_take_offline_async);
  if (!check_started (self, task))
    return;

  o = g_new0 (Offline, 1);
  g_atomic_ref_count_init (&o->ref);
  o->w = self->worker;
  o->hit_type_id = g_strdup (hit_type_id);
  o->wanted = n;
  o->assignment_ids = g_ptr_array_new_with_free_func (g_free);
  o->media_seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  o->pending = g_ptr_array_new_with_free_func ((GDestroyNotify)json_object_unref);
  g_queue_init (&o->media_queue);
  o->cancellable = g_cancellable_new ();

  if (cancellable != NULL)
    {
      CancelData *cd = g_new0 (CancelData, 1);
      gulong handler;

      cd->w = self->worker;
      cd->o = offline_ref (o);
      handler = g_cancellable_connect (cancellable, G_CALLBACK (take_offline_cancelled_cb),
                                       cd, cancel_data_free);
      /* Disconnected when the task is finalized, on this side. */
      if (handler != 0)
        {
          CancelLink *link = g_new0 (CancelLink, 1);

          link->cancellable = g_object_ref (cancellable);
          link->handler = handler;
          g_object_set_data_full (G_OBJECT (task), "kp-cancel-link", link, cancel_link_free);
        }
    }

  c = command_new (self->worker, CMD_TAKE_OFFLINE);
  c->task = g_steal_pointer (&task);
  c->offline = o;
  command_send (self->worker, c);
}

GStrv
kp_sync_engine_take_offline_finish (KpSyncEngine  *self,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  g_return_val_if_fail (KP_IS_SYNC_ENGINE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
send_task_command (KpSyncEngine *self,
                   CommandKind   kind,
                   GTask        *task,
                   const char   *a)
{
  Command *c;

  if (!check_started (self, task))
    {
      g_object_unref (task);
      return;
    }
  c = command_new (self->worker, kind);
  c->task = task;
  c->a = g_strdup (a);
  command_send (self->worker, c);
}

void
kp_sync_engine_list_assignments_async (KpSyncEngine        *self,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (KP_IS_SYNC_ENGINE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kp_sync_engine_list_assignments_async);
  send_task_command (self, CMD_LIST_ASSIGNMENTS, task, NULL);
}

GPtrArray *
kp_sync_engine_list_assignments_finish (KpSyncEngine  *self,
                                        GAsyncResult  *result,
                                        GError       **error)
{
  g_return_val_if_fail (KP_IS_SYNC_ENGINE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
kp_sync_engine_load_draft_async (KpSyncEngine        *self,
                                 const char          *assignment_id,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (KP_IS_SYNC_ENGINE (self));
  g_return_if_fail (assignment_id != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kp_sync_engine_load_draft_async);
  send_task_command (self, CMD_LOAD_DRAFT, task, assignment_id);
}

char *
kp_sync_engine_load_draft_finish (KpSyncEngine  *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (KP_IS_SYNC_ENGINE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
kp_sync_engine_return_async (KpSyncEngine        *self,
                             const char          *assignment_id,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (KP_IS_SYNC_ENGINE (self));
  g_return_if_fail (assignment_id != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kp_sync_engine_return_async);
  send_task_command (self, CMD_RETURN, task, assignment_id);
}

gboolean
kp_sync_engine_return_finish (KpSyncEngine  *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (KP_IS_SYNC_ENGINE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}
