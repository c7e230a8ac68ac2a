/* kp-worker-window.c: the worker's window (accounts, marketplace, work,
 * outbox, earnings)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Every network call goes through KpWorkerClient (async on the main
 * context, libsoup does the I/O) or KpSyncEngine (its own thread); every
 * SQLite call runs in a GTask thread with a KpWorkerCache of its own.
 *
 * The work view always tries to have the next HIT ready: while the
 * worker works on one, the next one is accepted (when working a group)
 * or taken from the offline queue, stored in the cache, its media
 * downloaded and decoded and its layout parsed, so that Submit can put
 * it on screen at once.
 */

#include "config.h"

#include <inttypes.h>

#include "kp-worker-window.h"

#include <string.h>

#include <glib/gi18n.h>

#include "kp-layout-view.h"
#include "kp-sync-engine.h"
#include "kp-worker-client.h"
#include "kp-worker-group.h"
#include "kp-worker-window-private.h"

#define DRAFT_DELAY_MS 400
#define GROUP_PAGE_SIZE "100"

typedef struct
{
  KpCachedAssignment *assignment;
  KpLayout           *layout;
  GHashTable         *textures;       /* sha256 → GdkTexture */
  char               *draft;
  GPtrArray          *missing;        /* sha256 of media not in the cache */
  GPtrArray          *missing_paths;  /* where each belongs */
} Prepared;

struct _KpWorkerWindow
{
  AdwApplicationWindow  parent_instance;

  KpAccountStore       *accounts;
  KpAccount            *account;
  KpWorkerClient       *client;
  KpSyncEngine         *engine;
  char                 *cache_path;
  gint64                clock_offset;  /* server time minus local time, in seconds */
  GCancellable         *cancellable;   /* the window's life */
  GCancellable         *account_cancellable;
  GBinding             *offline_binding;
  GHashTable           *titles;        /* assignment id → HIT title */

  /* Widgets */
  AdwToastOverlay      *toasts;
  AdwViewStack         *stack;
  GHashTable           *parts;         /* name → GtkWidget, for tests */

  /* Accounts */
  GtkWidget            *tokens_warning;
  GtkWidget            *account_list;
  GtkWidget            *server_row;
  GtkWidget            *token_row;
  gboolean              adding;

  /* Marketplace */
  GListStore           *groups;
  GtkSingleSelection   *group_selection;
  GtkWidget            *market_stack;
  GtkWidget            *search_entry;
  GtkWidget            *sort_dropdown;
  GtkWidget            *standing_dropdown;
  GtkWidget            *offline_spin;
  GtkWidget            *offline_progress;
  GtkWidget            *offline_cancel;
  GCancellable         *groups_cancellable;
  GCancellable         *offline_cancellable;
  gboolean              loading_groups;

  /* Work */
  GtkWidget            *work_stack;
  GtkWidget            *work_status;
  KpLayoutView         *layout_view;
  GtkWidget            *work_title;
  GtkWidget            *work_deadline;
  GtkWidget            *work_queue;
  Prepared             *current;
  Prepared             *next;
  char                 *work_group;
  gboolean              prefetching;
  GQueue                waiting;       /* assignment ids (char *) taken offline */
  guint                 deadline_id;
  gboolean              deadline_warned;
  guint                 draft_id;
  guint                 upload_id;
  char                 *last_draft;

  /* Outbox */
  GtkWidget            *outbox_list;
  GtkNoSelection       *outbox_selection;
  GtkWidget            *offline_switch;
  GtkWidget            *network_row;
  GtkWidget            *outbox_counts;

  /* Earnings */
  GtkWidget            *earnings_list;
  GtkWidget            *feedback_list;
  GtkWidget            *qualification_list;
};

G_DEFINE_FINAL_TYPE (KpWorkerWindow, kp_worker_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_ACCOUNT_STORE,
  PROP_ACCOUNT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  HIT_SHOWN,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void activate_account (KpWorkerWindow *self,
                              KpAccount      *account);
static void refresh_groups   (KpWorkerWindow *self);
static void prefetch_next    (KpWorkerWindow *self);
static void show_next        (KpWorkerWindow *self);
static void load_waiting     (KpWorkerWindow *self);
static void update_actions   (KpWorkerWindow *self);

/* Helpers */

static void
toast (KpWorkerWindow *self,
       const char     *message)
{
  AdwToast *t = adw_toast_new (message);

  adw_toast_set_timeout (t, 4);
  adw_toast_overlay_add_toast (self->toasts, t);
}

static void
toast_error (KpWorkerWindow *self,
             const char     *what,
             const GError   *error)
{
  g_autofree char *message = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  message = what != NULL ? g_strdup_printf ("%s: %s", what, error->message) : g_strdup (error->message);
  toast (self, message);
}

static void
add_part (KpWorkerWindow *self,
          const char     *name,
          GtkWidget      *widget)
{
  g_hash_table_insert (self->parts, (char *)name, widget);
}

static void
set_accessible_label (GtkWidget  *widget,
                      const char *label)
{
  gtk_accessible_update_property (GTK_ACCESSIBLE (widget),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  -1);
}

static GtkWidget *
new_icon_button (const char *icon_name,
                 const char *label,
                 const char *action_name)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon_name);

  gtk_widget_set_tooltip_text (button, label);
  set_accessible_label (button, label);
  if (action_name != NULL)
    gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action_name);
  return button;
}

static GtkWidget *
new_text_button (const char *mnemonic,
                 const char *action_name)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (mnemonic);

  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action_name);
  return button;
}

static void
clear_list_box (GtkWidget *list)
{
  GtkListBoxRow *row;

  /* Rows only: the placeholder stays. */
  while ((row = gtk_list_box_get_row_at_index (GTK_LIST_BOX (list), 0)) != NULL)
    gtk_list_box_remove (GTK_LIST_BOX (list), GTK_WIDGET (row));
}

static GtkWidget *
new_boxed_list (void)
{
  GtkWidget *list = gtk_list_box_new ();
  GtkWidget *placeholder = gtk_label_new (_("Nothing yet"));

  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_widget_set_margin_top (placeholder, 12);
  gtk_widget_set_margin_bottom (placeholder, 12);
  gtk_list_box_set_placeholder (GTK_LIST_BOX (list), placeholder);

  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  return list;
}

static GtkWidget *
add_info_row (GtkWidget  *list,
              const char *title,
              const char *subtitle,
              const char *suffix)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  if (subtitle != NULL)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  if (suffix != NULL)
    {
      GtkWidget *label = gtk_label_new (suffix);

      gtk_widget_add_css_class (label, "numeric");
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
    }
  gtk_list_box_append (GTK_LIST_BOX (list), row);
  return row;
}

static gint64
server_now (KpWorkerWindow *self)
{
  return g_get_real_time () / G_USEC_PER_SEC + self->clock_offset;
}

static const char *
json_string (JsonObject *object,
             const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static gint64
json_int (JsonObject *object,
          const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_INT64)
    return 0;
  return json_node_get_int (node);
}

/* Prepared HITs */

static void
prepared_free (Prepared *p)
{
  g_clear_pointer (&p->assignment, kp_cached_assignment_free);
  g_clear_object (&p->layout);
  g_clear_pointer (&p->textures, g_hash_table_unref);
  g_clear_pointer (&p->draft, g_free);
  g_clear_pointer (&p->missing, g_ptr_array_unref);
  g_clear_pointer (&p->missing_paths, g_ptr_array_unref);
  g_free (p);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Prepared, prepared_free)

typedef struct
{
  char      *sha256;
  char      *content_type;
  guint64    size;
} Downloaded;

static void
downloaded_free (Downloaded *d)
{
  g_free (d->sha256);
  g_free (d->content_type);
  g_free (d);
}

typedef struct
{
  char      *cache_path;
  char      *assignment_id;    /* NULL for a preview */
  char      *assignment_json;  /* nullable: already in the cache */
  char      *question;         /* a preview's question */
  GPtrArray *downloaded;       /* Downloaded *, NULL before the downloads */
  guint      n_downloads;
  Prepared  *first;            /* the result before the downloads */
} PrepareData;

static void
prepare_data_free (PrepareData *d)
{
  g_free (d->cache_path);
  g_free (d->assignment_id);
  g_free (d->assignment_json);
  g_free (d->question);
  g_clear_pointer (&d->downloaded, g_ptr_array_unref);
  g_clear_pointer (&d->first, prepared_free);
  g_free (d);
}

static void
prepare_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  PrepareData *d = task_data;
  g_autoptr(KpWorkerCache) cache = NULL;
  g_autoptr(Prepared) p = g_new0 (Prepared, 1);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) refs = NULL;
  const char *question;

  cache = kp_worker_cache_open (d->cache_path, &error);
  if (cache == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (d->assignment_json != NULL)
    {
      g_autoptr(JsonNode) node = json_from_string (d->assignment_json, &error);

      if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node) ||
          !kp_worker_cache_put_assignment (cache, json_node_get_object (node), &error))
        {
          if (error == NULL)
            error = g_error_new (KP_WORKER_ERROR, KP_WORKER_ERROR_PROTOCOL,
                                 _("The server’s assignment is not a JSON object"));
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
    }

  for (guint i = 0; d->downloaded != NULL && i < d->downloaded->len; i++)
    {
      Downloaded *m = g_ptr_array_index (d->downloaded, i);

      if (!kp_worker_cache_put_media (cache, m->sha256, m->content_type, m->size, TRUE, &error) ||
          (d->assignment_id != NULL &&
           !kp_worker_cache_link_media (cache, d->assignment_id, m->sha256, &error)))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
    }

  if (d->assignment_id != NULL)
    {
      p->assignment = kp_worker_cache_get_assignment (cache, d->assignment_id, &error);
      if (p->assignment == NULL)
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      question = p->assignment->question != NULL ? p->assignment->question : "";
    }
  else
    question = d->question;

  p->layout = kp_layout_new_from_data (question, -1, KP_LAYOUT_FORMAT_QUESTION, &error);
  if (p->layout == NULL)
    {
      g_prefix_error (&error, _("The HIT cannot be shown: "));
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* Decode the media now, off the main thread (GdkTexture loading is
   * thread-safe), so that showing the HIT only hands textures over. */
  p->textures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  p->missing = g_ptr_array_new_with_free_func (g_free);
  p->missing_paths = g_ptr_array_new_with_free_func (g_free);
  refs = kp_worker_cache_find_media_refs (question);
  for (guint i = 0; refs != NULL && refs[i] != NULL; i++)
    {
      g_autofree char *path = NULL;
      g_autoptr(GdkTexture) texture = NULL;

      if (kp_worker_cache_lookup_media (cache, refs[i], &path, NULL))
        {
          /* Not every medium is an image (video, audio): those are
           * simply not decoded here. */
          texture = gdk_texture_new_from_filename (path, NULL);
          if (texture != NULL)
            g_hash_table_insert (p->textures, g_strdup (refs[i]), g_steal_pointer (&texture));
          continue;
        }

      path = kp_worker_cache_dup_media_path (cache, refs[i]);
      {
        g_autofree char *dir = g_path_get_dirname (path);

        g_mkdir_with_parents (dir, 0700);
      }
      g_ptr_array_add (p->missing, g_strdup (refs[i]));
      g_ptr_array_add (p->missing_paths, g_steal_pointer (&path));
    }

  if (d->assignment_id != NULL)
    p->draft = kp_worker_cache_dup_draft (cache, d->assignment_id, NULL);

  g_task_return_pointer (task, g_steal_pointer (&p), (GDestroyNotify)prepared_free);
}

static void prepare_run (GTask *task);

static void
prepare_download_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PrepareData *d = g_task_get_task_data (task);
  g_autofree char *content_type = NULL;
  g_autoptr(GError) error = NULL;
  guint64 size = 0;

  if (kp_worker_client_download_media_finish (KP_WORKER_CLIENT (source), result, &size,
                                              &content_type, &error))
    {
      Downloaded *m = g_new0 (Downloaded, 1);

      m->sha256 = g_strdup (g_object_get_data (G_OBJECT (task), "kp-current-sha"));
      m->content_type = g_steal_pointer (&content_type);
      m->size = size;
      g_ptr_array_add (d->downloaded, m);
    }
  else
    g_debug ("A medium of %s could not be downloaded: %s",
             d->assignment_id != NULL ? d->assignment_id : "a preview", error->message);

  d->n_downloads++;
  if (d->n_downloads < d->first->missing->len)
    {
      const char *sha = g_ptr_array_index (d->first->missing, d->n_downloads);
      GCancellable *cancellable = g_task_get_cancellable (task);

      g_object_set_data_full (G_OBJECT (task), "kp-current-sha", g_strdup (sha), g_free);
      kp_worker_client_download_media_async (KP_WORKER_CLIENT (source), sha,
                                             g_ptr_array_index (d->first->missing_paths, d->n_downloads),
                                             0, NULL, NULL, NULL, cancellable,
                                             prepare_download_cb, g_steal_pointer (&task));
      return;
    }

  /* Everything was tried: prepare again with what arrived. */
  prepare_run (g_steal_pointer (&task));
}

static void
prepare_thread_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KpWorkerWindow *self = KP_WORKER_WINDOW (source);
  PrepareData *d = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  Prepared *p;

  p = g_task_propagate_pointer (G_TASK (result), &error);
  if (p == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* Missing media: download them one after another (the client verifies
   * each against its hash), then prepare once more. */
  if (p->missing->len > 0 && d->downloaded == NULL && self->client != NULL)
    {
      const char *sha = g_ptr_array_index (p->missing, 0);
      GCancellable *cancellable = g_task_get_cancellable (task);

      d->first = p;
      d->downloaded = g_ptr_array_new_with_free_func ((GDestroyNotify)downloaded_free);
      d->n_downloads = 0;
      g_object_set_data_full (G_OBJECT (task), "kp-current-sha", g_strdup (sha), g_free);
      kp_worker_client_download_media_async (self->client, sha,
                                             g_ptr_array_index (p->missing_paths, 0),
                                             0, NULL, NULL, NULL, cancellable,
                                             prepare_download_cb, g_steal_pointer (&task));
      return;
    }

  g_task_return_pointer (task, p, (GDestroyNotify)prepared_free);
}

static void
prepare_run (GTask *task)
{
  KpWorkerWindow *self = g_task_get_source_object (task);
  g_autoptr(GTask) thread_task = NULL;

  thread_task = g_task_new (self, g_task_get_cancellable (task), prepare_thread_cb, task);
  g_task_set_source_tag (thread_task, prepare_run);
  g_task_set_task_data (thread_task, g_task_get_task_data (task), NULL);
  g_task_run_in_thread (thread_task, prepare_thread);
}

/* Stores assignment_json (when given) in the cache, then reads the
 * assignment, parses its question, fetches and decodes its media. */
static void
prepare_hit_async (KpWorkerWindow      *self,
                   const char          *assignment_id,
                   const char          *assignment_json,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  PrepareData *d = g_new0 (PrepareData, 1);

  g_task_set_source_tag (task, prepare_hit_async);
  d->cache_path = g_strdup (self->cache_path);
  d->assignment_id = g_strdup (assignment_id);
  d->assignment_json = g_strdup (assignment_json);
  g_task_set_task_data (task, d, (GDestroyNotify)prepare_data_free);
  prepare_run (task);
}

/* The same for a preview's question: its media go into the cache too. */
static void
prepare_preview_async (KpWorkerWindow      *self,
                       const char          *question,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  PrepareData *d = g_new0 (PrepareData, 1);

  g_task_set_source_tag (task, prepare_hit_async);
  d->cache_path = g_strdup (self->cache_path);
  d->question = g_strdup (question);
  g_task_set_task_data (task, d, (GDestroyNotify)prepare_data_free);
  prepare_run (task);
}

static Prepared *
prepare_hit_finish (KpWorkerWindow  *self,
                    GAsyncResult    *result,
                    GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Small cache jobs */

typedef enum
{
  JOB_LIST_WAITING,
  JOB_SET_RETURNED,
  JOB_EXPORT,
} JobKind;

typedef struct
{
  JobKind  kind;
  char    *cache_path;
  char    *assignment_id;
  char    *export_path;
  gint64   now;
} Job;

static void
job_free (Job *job)
{
  g_free (job->cache_path);
  g_free (job->assignment_id);
  g_free (job->export_path);
  g_free (job);
}

static void
job_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  Job *job = task_data;
  g_autoptr(KpWorkerCache) cache = NULL;
  g_autoptr(GError) error = NULL;

  cache = kp_worker_cache_open (job->cache_path, &error);
  if (cache == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  switch (job->kind)
    {
    case JOB_LIST_WAITING:
      {
        g_autoptr(GPtrArray) list = kp_worker_cache_list_assignments (cache, &error);
        g_autoptr(GStrvBuilder) ids = g_strv_builder_new ();

        if (list == NULL)
          {
            g_task_return_error (task, g_steal_pointer (&error));
            return;
          }
        for (guint i = 0; i < list->len; i++)
          {
            KpCachedAssignment *a = g_ptr_array_index (list, i);

            if (g_strcmp0 (a->status, "Accepted") == 0 && a->deadline > job->now)
              g_strv_builder_add (ids, a->assignment_id);
          }
        g_task_return_pointer (task, g_strv_builder_end (ids), (GDestroyNotify)g_strfreev);
      }
      break;

    case JOB_SET_RETURNED:
      if (!kp_worker_cache_set_assignment_status (cache, job->assignment_id, "Returned", &error))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_boolean (task, TRUE);
      break;

    case JOB_EXPORT:
      {
        g_autofree char *json = kp_worker_cache_export_refused (cache, &error);

        if (json == NULL || !g_file_set_contents (job->export_path, json, -1, &error))
          g_task_return_error (task, g_steal_pointer (&error));
        else
          g_task_return_boolean (task, TRUE);
      }
      break;

    default:
      g_assert_not_reached ();
    }
}

static void
run_job (KpWorkerWindow      *self,
         Job                 *job,
         GAsyncReadyCallback  callback)
{
  g_autoptr(GTask) task = g_task_new (self, self->account_cancellable, callback, NULL);

  g_task_set_source_tag (task, run_job);
  job->cache_path = g_strdup (self->cache_path);
  g_task_set_task_data (task, job, (GDestroyNotify)job_free);
  g_task_run_in_thread (task, job_thread);
}

/* The work view */

static GdkTexture *
media_func (const char  *uri,
            gpointer     user_data,
            GError     **error)
{
  KpWorkerWindow *self = user_data;
  g_auto(GStrv) refs = kp_worker_cache_find_media_refs (uri);
  GdkTexture *texture = NULL;

  if (self->current != NULL && refs != NULL && refs[0] != NULL)
    texture = g_hash_table_lookup (self->current->textures, refs[0]);

  if (texture == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("The image “%s” is not in the local cache"), uri);
      return NULL;
    }

  return g_object_ref (texture);
}

static void
update_queue_label (KpWorkerWindow *self)
{
  guint n = g_queue_get_length (&self->waiting) + (self->next != NULL ? 1 : 0);
  g_autofree char *text = NULL;

  if (self->work_group != NULL)
    text = g_strdup (_("Working through the group: the next HIT is fetched while you work"));
  else if (n > 0)
    text = g_strdup_printf (g_dngettext (NULL, "%u more HIT waiting", "%u more HITs waiting", n), n);
  else
    text = g_strdup ("");

  gtk_label_set_text (GTK_LABEL (self->work_queue), text);
}

static gboolean
deadline_tick_cb (gpointer user_data)
{
  KpWorkerWindow *self = user_data;
  KpCachedAssignment *a;
  gint64 left, duration, warn_at;
  g_autofree char *text = NULL;
  g_autofree char *left_text = NULL;

  if (self->current == NULL)
    {
      self->deadline_id = 0;
      return G_SOURCE_REMOVE;
    }

  a = self->current->assignment;
  left = a->deadline - server_now (self);
  duration = MAX (a->deadline - a->accept_time, 1);
  /* Warn with a tenth of the time left, and at least a minute before. */
  warn_at = MAX (60, duration / 10);

  gtk_widget_remove_css_class (self->work_deadline, "warning");
  gtk_widget_remove_css_class (self->work_deadline, "error");

  if (left <= 0)
    {
      gtk_label_set_text (GTK_LABEL (self->work_deadline),
                          _("The deadline has passed: the server will refuse this HIT"));
      gtk_widget_add_css_class (self->work_deadline, "error");
      return G_SOURCE_CONTINUE;
    }

  if (left >= 3600)
    left_text = g_strdup_printf ("%d:%02d:%02d", (int)(left / 3600), (int)(left / 60 % 60), (int)(left % 60));
  else
    left_text = g_strdup_printf ("%d:%02d", (int)(left / 60), (int)(left % 60));
  /* Translators: the time left to submit a HIT, as 12:34 */
  text = g_strdup_printf (_("Time left: %s"), left_text);
  gtk_label_set_text (GTK_LABEL (self->work_deadline), text);

  if (left <= warn_at)
    {
      gtk_widget_add_css_class (self->work_deadline, "warning");
      if (!self->deadline_warned)
        {
          g_autofree char *when = kp_worker_format_duration (left);
          g_autofree char *message = g_strdup_printf (_("Only %s left to submit this HIT"), when);

          self->deadline_warned = TRUE;
          toast (self, message);
        }
    }

  return G_SOURCE_CONTINUE;
}

static void
draft_saved_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(KpWorkerWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!kp_sync_engine_save_draft_finish (KP_SYNC_ENGINE (source), result, &error))
    toast_error (self, _("The draft could not be saved"), error);
}

/* A draft: {"values": kp_layout_view_dup_values(), "answer": the answer
 * as it would be submitted}. The values put every element back, drawn
 * shapes included; the answer is what an export of the draft shows. */
static char *
dup_draft_json (KpWorkerWindow *self)
{
  g_autoptr(GHashTable) values = kp_layout_view_dup_values (self->layout_view);
  g_autoptr(JsonArray) answer = kp_layout_view_get_answer (self->layout_view, NULL);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GList) names = NULL;

  if ((values == NULL || g_hash_table_size (values) == 0) && answer == NULL)
    return NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "values");
  json_builder_begin_object (builder);
  if (values != NULL)
    {
      /* Sorted, so that an unchanged draft gives the same text. */
      names = g_list_sort (g_hash_table_get_keys (values), (GCompareFunc)strcmp);
      for (GList *l = names; l != NULL; l = l->next)
        {
          JsonNode *value = g_hash_table_lookup (values, l->data);

          json_builder_set_member_name (builder, l->data);
          json_builder_add_value (builder, value != NULL ? json_node_copy (value)
                                                         : json_node_new (JSON_NODE_NULL));
        }
    }
  json_builder_end_object (builder);
  if (answer != NULL)
    {
      json_builder_set_member_name (builder, "answer");
      json_builder_add_value (builder, json_node_init_array (json_node_alloc (), answer));
    }
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  return json_to_string (root, FALSE);
}

static void
save_draft_now (KpWorkerWindow *self)
{
  g_autofree char *json = NULL;

  g_clear_handle_id (&self->draft_id, g_source_remove);
  if (self->current == NULL || self->engine == NULL)
    return;

  json = dup_draft_json (self);
  if (json == NULL || g_strcmp0 (json, self->last_draft) == 0)
    return;

  /* The engine writes it on its own thread. */
  kp_sync_engine_save_draft_async (self->engine, self->current->assignment->assignment_id, json,
                                   self->account_cancellable, draft_saved_cb, g_object_ref (self));
  g_free (self->last_draft);
  self->last_draft = g_steal_pointer (&json);
}

static gboolean
draft_timeout_cb (gpointer user_data)
{
  KpWorkerWindow *self = user_data;

  self->draft_id = 0;
  save_draft_now (self);
  return G_SOURCE_REMOVE;
}

static void
edited_cb (KpWorkerWindow *self)
{
  if (self->current == NULL)
    return;
  g_clear_handle_id (&self->draft_id, g_source_remove);
  self->draft_id = g_timeout_add (DRAFT_DELAY_MS, draft_timeout_cb, self);
}

/* Puts a text back into a text control; FALSE for other controls. */
static gboolean
restore_text (GtkWidget  *control,
              const char *text)
{
  if (GTK_IS_TEXT_VIEW (control))
    gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (control)), text, -1);
  else if (GTK_IS_EDITABLE (control))
    gtk_editable_set_text (GTK_EDITABLE (control), text);
  else
    return FALSE;
  return TRUE;
}

static void
restore_choice (KpLayoutView *view,
                const char   *name,
                const char   *choice)
{
  GtkWidget *button = kp_layout_view_get_choice (view, name, choice);

  if (GTK_IS_CHECK_BUTTON (button))
    gtk_check_button_set_active (GTK_CHECK_BUTTON (button), TRUE);
  else if (GTK_IS_TOGGLE_BUTTON (button))
    gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (button), TRUE);
}

/* Puts a saved draft back into the widgets. A draft of dup_draft_json()
 * restores everything through kp_layout_view_set_values(); an older one
 * (an answer array, as submitted) what can be done from the answer alone:
 * QuestionForm free texts and selections, and the text and choice
 * elements of a crowd-form. */
static void
restore_draft (KpWorkerWindow *self,
               const char     *draft)
{
  g_autoptr(JsonNode) root = json_from_string (draft, NULL);
  JsonArray *answers;

  if (root != NULL && JSON_NODE_HOLDS_OBJECT (root) &&
      json_object_has_member (json_node_get_object (root), "values") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (json_node_get_object (root), "values")))
    {
      JsonObject *object = json_object_get_object_member (json_node_get_object (root), "values");
      g_autoptr(GHashTable) values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                            (GDestroyNotify)json_node_unref);
      JsonObjectIter iter;
      const char *name;
      JsonNode *value;

      json_object_iter_init (&iter, object);
      while (json_object_iter_next (&iter, &name, &value))
        g_hash_table_insert (values, g_strdup (name), json_node_copy (value));
      kp_layout_view_set_values (self->layout_view, values);
      return;
    }

  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    return;
  answers = json_node_get_array (root);

  for (guint i = 0; i < json_array_get_length (answers); i++)
    {
      JsonNode *element = json_array_get_element (answers, i);
      JsonObject *answer;
      const char *id, *text;
      JsonNode *selections;

      if (!JSON_NODE_HOLDS_OBJECT (element))
        continue;
      answer = json_node_get_object (element);
      id = json_string (answer, "QuestionIdentifier");
      text = json_string (answer, "FreeText");
      selections = json_object_get_member (answer, "SelectionIdentifier");
      if (id == NULL)
        continue;

      if (text != NULL && g_str_equal (id, "taskAnswers"))
        {
          /* A crowd-form: [{"name": value, …}]. */
          g_autoptr(JsonNode) task = json_from_string (text, NULL);
          JsonObject *values;
          JsonObjectIter iter;
          const char *name;
          JsonNode *value;

          if (task == NULL || !JSON_NODE_HOLDS_ARRAY (task) ||
              json_array_get_length (json_node_get_array (task)) != 1 ||
              !JSON_NODE_HOLDS_OBJECT (json_array_get_element (json_node_get_array (task), 0)))
            continue;
          values = json_array_get_object_element (json_node_get_array (task), 0);
          json_object_iter_init (&iter, values);
          while (json_object_iter_next (&iter, &name, &value))
            {
              GtkWidget *control = kp_layout_view_get_control (self->layout_view, name);

              if (control != NULL && JSON_NODE_HOLDS_VALUE (value) &&
                  json_node_get_value_type (value) == G_TYPE_STRING)
                restore_text (control, json_node_get_string (value));
              else if (JSON_NODE_HOLDS_OBJECT (value))
                {
                  /* Radio groups and classifiers: {"choice": true, …} or {"label": "choice"}. */
                  JsonObjectIter choices;
                  const char *choice;
                  JsonNode *on;

                  json_object_iter_init (&choices, json_node_get_object (value));
                  while (json_object_iter_next (&choices, &choice, &on))
                    if (JSON_NODE_HOLDS_VALUE (on) && json_node_get_value_type (on) == G_TYPE_BOOLEAN &&
                        json_node_get_boolean (on))
                      restore_choice (self->layout_view, name, choice);
                }
            }
        }
      else if (text != NULL)
        {
          GtkWidget *control = kp_layout_view_get_control (self->layout_view, id);

          if (control != NULL)
            restore_text (control, text);
        }
      else if (selections != NULL && JSON_NODE_HOLDS_ARRAY (selections))
        {
          JsonArray *array = json_node_get_array (selections);

          for (guint j = 0; j < json_array_get_length (array); j++)
            {
              JsonNode *selection = json_array_get_element (array, j);

              if (JSON_NODE_HOLDS_VALUE (selection) && json_node_get_value_type (selection) == G_TYPE_STRING)
                restore_choice (self->layout_view, id, json_node_get_string (selection));
            }
        }
    }
}

static void
show_prepared (KpWorkerWindow *self,
               Prepared       *p)
{
  KpCachedAssignment *a = p->assignment;
  g_autofree char *title = NULL;

  g_clear_handle_id (&self->draft_id, g_source_remove);
  g_clear_pointer (&self->current, prepared_free);
  self->current = p;
  g_free (self->last_draft);
  self->last_draft = g_strdup (p->draft);
  self->deadline_warned = FALSE;

  g_hash_table_replace (self->titles, g_strdup (a->assignment_id), g_strdup (a->title));

  kp_layout_view_set_external_params (self->layout_view, a->assignment_id, a->hit_id,
                                      self->account != NULL ? kp_account_get_worker_id (self->account) : NULL,
                                      NULL);
  kp_layout_view_set_layout (self->layout_view, p->layout);
  /* The bar below the HIT has the Submit button (and Ctrl+Return). */
  if (kp_layout_view_get_submit_button (self->layout_view) != NULL)
    gtk_widget_set_visible (kp_layout_view_get_submit_button (self->layout_view), FALSE);
  /* Where the worker left off, after a restart or a switch. */
  if (p->draft != NULL)
    restore_draft (self, p->draft);

  /* Translators: a HIT's title and its reward in dollars */
  title = g_strdup_printf (_("%s — $%s"), a->title != NULL ? a->title : "", a->reward != NULL ? a->reward : "0.00");
  gtk_label_set_text (GTK_LABEL (self->work_title), title);
  gtk_stack_set_visible_child_name (GTK_STACK (self->work_stack), "hit");

  if (self->deadline_id == 0)
    self->deadline_id = g_timeout_add_seconds (1, deadline_tick_cb, self);
  deadline_tick_cb (self);

  if (p->missing->len > 0)
    toast (self, _("Some of this HIT’s media could not be downloaded"));

  update_actions (self);
  update_queue_label (self);
  g_signal_emit (self, signals[HIT_SHOWN], 0, a->assignment_id);

  prefetch_next (self);
}

static void
show_nothing (KpWorkerWindow *self)
{
  g_clear_handle_id (&self->draft_id, g_source_remove);
  g_clear_handle_id (&self->deadline_id, g_source_remove);
  g_clear_pointer (&self->current, prepared_free);
  kp_layout_view_set_layout (self->layout_view, NULL);
  gtk_label_set_text (GTK_LABEL (self->work_title), "");
  gtk_label_set_text (GTK_LABEL (self->work_deadline), "");
  gtk_stack_set_visible_child_name (GTK_STACK (self->work_stack),
                                    self->prefetching ? "loading" : "empty");
  update_actions (self);
  update_queue_label (self);
}

/* Puts the next HIT on screen: the prefetched one when it is ready. */
static void
show_next (KpWorkerWindow *self)
{
  if (self->next != NULL)
    {
      show_prepared (self, g_steal_pointer (&self->next));
      return;
    }

  show_nothing (self);
  prefetch_next (self);
  if (self->prefetching)
    gtk_stack_set_visible_child_name (GTK_STACK (self->work_stack), "loading");
}

/* Hands the next HIT's images to the renderer while the worker still
 * works on this one: the first frame of a HIT spent most of its time
 * uploading them (GSK keeps a texture's upload with the texture, and the
 * view shows the same GdkTexture objects). */
static gboolean
upload_next_cb (gpointer user_data)
{
  KpWorkerWindow *self = user_data;
  GskRenderer *renderer;
  GHashTableIter iter;
  gpointer value;

  self->upload_id = 0;
  if (self->next == NULL || self->next->textures == NULL ||
      !gtk_widget_get_realized (GTK_WIDGET (self)))
    return G_SOURCE_REMOVE;
  renderer = gtk_native_get_renderer (GTK_NATIVE (self));
  if (renderer == NULL)
    return G_SOURCE_REMOVE;

  g_hash_table_iter_init (&iter, self->next->textures);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      GdkTexture *texture = value;
      g_autoptr(GskRenderNode) node = NULL;
      g_autoptr(GdkTexture) pixel = NULL;

      /* Drawn into one pixel: the whole texture is uploaded, little drawn. */
      node = gsk_texture_node_new (texture, &GRAPHENE_RECT_INIT (0, 0, 1, 1));
      pixel = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, 1, 1));
    }

  return G_SOURCE_REMOVE;
}

static void
prefetched_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(KpWorkerWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  Prepared *p;

  p = prepare_hit_finish (self, result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->prefetching = FALSE;

  if (p == NULL)
    {
      toast_error (self, _("The next HIT could not be opened"), error);
      if (self->current == NULL)
        show_nothing (self);
      return;
    }

  if (self->current == NULL)
    show_prepared (self, p);
  else
    {
      g_clear_pointer (&self->next, prepared_free);
      self->next = p;
      update_queue_label (self);
      update_actions (self);
      if (self->upload_id == 0)
        self->upload_id = g_idle_add_full (G_PRIORITY_LOW, upload_next_cb, self, NULL);
    }
}

static void
prefetch_accepted_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(KpWorkerWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) assignment = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *json = NULL;
  const char *id;

  assignment = kp_worker_client_call_finish (KP_WORKER_CLIENT (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  id = json_string (assignment, "assignment_id");
  if (assignment == NULL || id == NULL)
    {
      self->prefetching = FALSE;
      if (g_error_matches (error, KP_WORKER_ERROR, KP_WORKER_ERROR_GONE))
        toast (self, _("There are no more HITs in this group"));
      else if (error != NULL)
        toast_error (self, _("The next HIT could not be accepted"), error);
      else
        toast (self, _("The server’s answer has no assignment"));
      /* Stop working the group; what is on screen stays. */
      g_clear_pointer (&self->work_group, g_free);
      if (self->current == NULL)
        show_nothing (self);
      update_actions (self);
      update_queue_label (self);
      return;
    }

  node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, assignment);
  json = json_to_string (node, FALSE);
  prepare_hit_async (self, id, json, self->account_cancellable, prefetched_cb, g_object_ref (self));
}

/* Gets the HIT after the current one ready: the next one taken offline,
 * else (working a group) a newly accepted one. */
static void
prefetch_next (KpWorkerWindow *self)
{
  if (self->next != NULL || self->prefetching || self->engine == NULL)
    return;

  if (!g_queue_is_empty (&self->waiting))
    {
      g_autofree char *id = g_queue_pop_head (&self->waiting);

      self->prefetching = TRUE;
      prepare_hit_async (self, id, NULL, self->account_cancellable, prefetched_cb, g_object_ref (self));
    }
  else if (self->work_group != NULL && self->client != NULL)
    {
      self->prefetching = TRUE;
      kp_worker_client_accept_group_async (self->client, self->work_group, self->account_cancellable,
                                           prefetch_accepted_cb, g_object_ref (self));
    }

  update_queue_label (self);
}

static void
submitted_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(KpWorkerWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  id = kp_sync_engine_submit_finish (KP_SYNC_ENGINE (source), result, &error);
  if (id == NULL)
    toast_error (self, _("The answer could not be put into the outbox"), error);
}

static void
layout_submitted_cb (KpLayoutView   *view,
                     JsonArray      *answer,
                     KpWorkerWindow *self)
{
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *json = NULL;

  if (self->current == NULL || self->engine == NULL || answer == NULL)
    return;

  node = json_node_new (JSON_NODE_ARRAY);
  json_node_set_array (node, answer);
  json = json_to_string (node, FALSE);

  /* Into the outbox: the engine stores it on its thread and sends it
   * when it can. The next HIT goes on screen meanwhile. */
  g_clear_handle_id (&self->draft_id, g_source_remove);
  kp_sync_engine_submit_async (self->engine, self->current->assignment->assignment_id, json,
                               self->account_cancellable, submitted_cb, g_object_ref (self));
  show_next (self);
}

/* Account life */

static void
network_state_changed_cb (KpWorkerWindow *self)
{
  const char *title = NULL;
  g_autofree char *subtitle = NULL;
  g_autofree char *counts = NULL;

  if (self->engine == NULL)
    {
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->network_row), _("No account"));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (self->network_row), "");
      gtk_label_set_text (GTK_LABEL (self->outbox_counts), "");
      return;
    }

  switch (kp_sync_engine_get_state (self->engine))
    {
    case KP_SYNC_STATE_IDLE:
      title = _("Online");
      subtitle = g_strdup (_("Everything in the outbox has been sent"));
      break;
    case KP_SYNC_STATE_SYNCING:
      title = _("Online");
      subtitle = g_strdup (_("Sending answers…"));
      break;
    case KP_SYNC_STATE_WAITING:
      title = _("Cannot reach the server");
      subtitle = g_strdup_printf (_("Retrying later: %s"),
                                  kp_sync_engine_get_last_error (self->engine) != NULL ?
                                  kp_sync_engine_get_last_error (self->engine) : "");
      break;
    case KP_SYNC_STATE_OFFLINE:
      title = _("No network");
      subtitle = g_strdup (_("Answers wait in the outbox until the network is back"));
      break;
    case KP_SYNC_STATE_PAUSED:
      title = _("Working offline");
      subtitle = g_strdup (_("Answers wait in the outbox until you go online"));
      break;
    default:
      g_assert_not_reached ();
    }

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->network_row), title);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->network_row), subtitle);

  counts = g_strdup_printf (_("%u queued, %u sending, %u accepted, %u refused"),
                            kp_sync_engine_get_n_queued (self->engine),
                            kp_sync_engine_get_n_sending (self->engine),
                            kp_sync_engine_get_n_accepted (self->engine),
                            kp_sync_engine_get_n_refused (self->engine));
  gtk_label_set_text (GTK_LABEL (self->outbox_counts), counts);
}

static void
deactivate_account (KpWorkerWindow *self)
{
  g_cancellable_cancel (self->account_cancellable);
  g_clear_object (&self->account_cancellable);
  g_clear_object (&self->groups_cancellable);
  g_clear_object (&self->offline_cancellable);
  self->account_cancellable = g_cancellable_new ();

  g_clear_pointer (&self->next, prepared_free);
  g_queue_clear_full (&self->waiting, g_free);
  g_clear_pointer (&self->work_group, g_free);
  self->prefetching = FALSE;
  self->loading_groups = FALSE;
  show_nothing (self);

  if (self->offline_binding != NULL)
    g_binding_unbind (self->offline_binding);
  self->offline_binding = NULL;
  gtk_no_selection_set_model (self->outbox_selection, NULL);
  if (self->engine != NULL)
    g_signal_handlers_disconnect_by_data (self->engine, self);
  g_clear_object (&self->engine);
  g_clear_object (&self->client);
  g_clear_pointer (&self->cache_path, g_free);
  self->clock_offset = 0;
  g_list_store_remove_all (self->groups);
  gtk_widget_set_visible (self->offline_progress, FALSE);
  gtk_widget_set_visible (self->offline_cancel, FALSE);
  network_state_changed_cb (self);
}

static void
me_cb (GObject      *source,
       GAsyncResult *result,
       gpointer      user_data)
{
  g_autoptr(KpWorkerWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) me = NULL;

  me = kp_worker_client_call_finish (KP_WORKER_CLIENT (source), result, &error);
  if (me == NULL)
    {
      /* Offline: the local clock will do. */
      if (!g_error_matches (error, KP_WORKER_ERROR, KP_WORKER_ERROR_NETWORK))
        toast_error (self, NULL, error);
      return;
    }
  if (json_int (me, "server_time") > 0)
    self->clock_offset = json_int (me, "server_time") - g_get_real_time () / G_USEC_PER_SEC;
}

static void
token_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(KpWorkerWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *token = NULL;
  token = kp_account_store_lookup_token_finish (KP_ACCOUNT_STORE (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (token == NULL)
    {
      toast_error (self, _("The account’s token could not be read"), error);
      gtk_stack_set_visible_child_name (GTK_STACK (self->market_stack), "no-account");
      return;
    }
  if (self->account == NULL)
    return;

  /* The cache makes its folder itself, on the engine's thread. */
  self->cache_path = kp_account_store_dup_cache_path (self->accounts, self->account);
  self->client = kp_worker_client_new (kp_account_get_server_url (self->account), token);
  self->engine = kp_sync_engine_new (self->cache_path, kp_account_get_server_url (self->account), token);
  g_signal_connect_swapped (self->engine, "notify::state", G_CALLBACK (network_state_changed_cb), self);
  g_signal_connect_swapped (self->engine, "notify::n-queued", G_CALLBACK (network_state_changed_cb), self);
  g_signal_connect_swapped (self->engine, "notify::n-sending", G_CALLBACK (network_state_changed_cb), self);
  g_signal_connect_swapped (self->engine, "notify::n-accepted", G_CALLBACK (network_state_changed_cb), self);
  g_signal_connect_swapped (self->engine, "notify::n-refused", G_CALLBACK (network_state_changed_cb), self);
  g_signal_connect_swapped (self->engine, "notify::last-error", G_CALLBACK (network_state_changed_cb), self);
  self->offline_binding = g_object_bind_property (self->engine, "work-offline",
                                                  self->offline_switch, "active",
                                                  G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  gtk_no_selection_set_model (self->outbox_selection, kp_sync_engine_get_outbox (self->engine));
  kp_sync_engine_start (self->engine);
  network_state_changed_cb (self);

  kp_worker_client_get_me_async (self->client, self->account_cancellable, me_cb, g_object_ref (self));
  refresh_groups (self);
  load_waiting (self);
  update_actions (self);
}

static void update_account_rows (KpWorkerWindow *self);

static void
activate_account (KpWorkerWindow *self,
                  KpAccount      *account)
{
  if (account == self->account && self->engine != NULL)
    return;

  deactivate_account (self);
  g_set_object (&self->account, account);
  update_account_rows (self);
  update_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACCOUNT]);

  if (account == NULL)
    {
      gtk_stack_set_visible_child_name (GTK_STACK (self->market_stack), "no-account");
      return;
    }

  gtk_stack_set_visible_child_name (GTK_STACK (self->market_stack), "loading");
  kp_account_store_lookup_token_async (self->accounts, account, self->account_cancellable,
                                       token_cb, g_object_ref (self));
}

/* Accounts */

static void
update_account_rows (KpWorkerWindow *self)
{
  GListModel *model = G_LIST_MODEL (self->accounts);
  guint n = g_list_model_get_n_items (model);

  clear_list_box (self->account_list);
  gtk_widget_set_visible (self->tokens_warning, kp_account_store_get_tokens_in_file (self->accounts));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(KpAccount) account = g_list_model_get_item (model, i);
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *check = gtk_image_new_from_icon_name ("object-select-symbolic");
      GtkWidget *remove;
      const char *name = kp_account_get_display_name (account);
      g_autofree char *title = NULL;

      if (name == NULL || *name == '\0')
        name = kp_account_get_worker_id (account);
      /* Translators: a worker's name and their worker id */
      title = g_strdup_printf (_("%s (%s)"), name != NULL ? name : "", kp_account_get_worker_id (account));
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), kp_account_get_server_url (account));
      gtk_widget_set_opacity (check, account == self->account ? 1.0 : 0.0);
      set_accessible_label (check, account == self->account ? _("Active account") : "");
      adw_action_row_add_prefix (ADW_ACTION_ROW (row), check);

      remove = new_icon_button ("user-trash-symbolic", _("Remove Account"), "worker.remove-account");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (remove), "s", kp_account_get_id (account));
      gtk_widget_set_valign (remove, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (remove, "flat");
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);

      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (row), "worker.switch-account");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (row), "s", kp_account_get_id (account));
      gtk_list_box_append (GTK_LIST_BOX (self->account_list), row);
    }

  if (n == 0)
    add_info_row (self->account_list, _("No account yet"),
                  _("Add one with the server’s address and your worker token, or open a join link"),
                  NULL);
}

static void
accounts_changed_cb (GListModel     *model,
                     guint           position,
                     guint           removed,
                     guint           added,
                     KpWorkerWindow *self)
{
  update_account_rows (self);

  /* The active account was removed (here or by another window). */
  if (self->account != NULL &&
      kp_account_store_lookup (self->accounts, kp_account_get_id (self->account)) != self->account)
    activate_account (self, NULL);

  if (self->account == NULL && g_list_model_get_n_items (model) > 0)
    {
      g_autoptr(KpAccount) first = g_list_model_get_item (model, 0);

      activate_account (self, first);
    }
}

static void
accounts_loaded_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(KpWorkerWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!kp_account_store_load_finish (KP_ACCOUNT_STORE (source), result, &error))
    toast_error (self, _("The accounts could not be read"), error);
  accounts_changed_cb (G_LIST_MODEL (self->accounts), 0, 0, 0, self);
}

typedef struct
{
  KpWorkerWindow *self;
  KpWorkerClient *client;
  char           *server_url;
  char           *token;
} AddData;

static void
add_data_free (AddData *d)
{
  g_clear_object (&d->self);
  g_clear_object (&d->client);
  g_free (d->server_url);
  if (d->token != NULL)
    memset (d->token, 0, strlen (d->token));
  g_free (d->token);
  g_free (d);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (AddData, add_data_free)

static void
add_finished (KpWorkerWindow *self)
{
  self->adding = FALSE;
  update_actions (self);
}

static void
account_added_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(AddData) d = user_data;
  KpWorkerWindow *self = d->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(KpAccount) account = NULL;
  g_autofree char *message = NULL;

  add_finished (self);
  account = kp_account_store_add_finish (KP_ACCOUNT_STORE (source), result, &error);
  if (account == NULL)
    {
      toast_error (self, _("The account could not be added"), error);
      return;
    }

  gtk_editable_set_text (GTK_EDITABLE (self->server_row), "");
  gtk_editable_set_text (GTK_EDITABLE (self->token_row), "");
  /* Translators: %s is a server address */
  message = g_strdup_printf (_("Added your account on %s"), kp_account_get_server_url (account));
  toast (self, message);
  activate_account (self, account);
}

static void
add_me_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(AddData) d = user_data;
  KpWorkerWindow *self = d->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) me = NULL;
  AddData *next;

  me = kp_worker_client_call_finish (KP_WORKER_CLIENT (source), result, &error);
  if (me == NULL || json_string (me, "worker_id") == NULL)
    {
      add_finished (self);
      if (g_error_matches (error, KP_WORKER_ERROR, KP_WORKER_ERROR_UNAUTHORIZED))
        {
          gtk_widget_add_css_class (self->token_row, "error");
          toast (self, _("The server does not know this token"));
        }
      else if (error != NULL)
        toast_error (self, _("The server could not be asked"), error);
      else
        toast (self, _("The server’s answer has no worker"));
      return;
    }

  next = g_steal_pointer (&d);
  kp_account_store_add_async (self->accounts, next->server_url, next->token,
                              json_string (me, "worker_id"), json_string (me, "name"),
                              self->cancellable, account_added_cb, next);
}

static void
add_account_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  KpWorkerWindow *self = KP_WORKER_WINDOW (widget);
  g_autoptr(GError) error = NULL;
  g_autofree char *server = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->server_row))));
  g_autofree char *token = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->token_row))));
  g_autofree char *url = NULL;
  AddData *d;

  gtk_widget_remove_css_class (self->server_row, "error");
  gtk_widget_remove_css_class (self->token_row, "error");

  /* A join link pasted into the address field works too. */
  if (g_str_has_prefix (server, "kempelen:"))
    {
      g_autofree char *link_server = NULL;
      g_autofree char *link_token = NULL;

      if (!kp_parse_join_link (server, &link_server, &link_token, &error))
        {
          gtk_widget_add_css_class (self->server_row, "error");
          toast_error (self, NULL, error);
          return;
        }
      g_free (server);
      server = g_steal_pointer (&link_server);
      g_free (token);
      token = g_steal_pointer (&link_token);
    }

  url = kp_normalize_server_url (server, &error);
  if (url == NULL)
    {
      gtk_widget_add_css_class (self->server_row, "error");
      toast_error (self, NULL, error);
      gtk_widget_grab_focus (self->server_row);
      return;
    }
  if (*token == '\0')
    {
      gtk_widget_add_css_class (self->token_row, "error");
      toast (self, _("Enter the worker token your administrator gave you"));
      gtk_widget_grab_focus (self->token_row);
      return;
    }

  /* Ask GET /me first: only a token the server knows is saved. */
  d = g_new0 (AddData, 1);
  d->self = g_object_ref (self);
  d->client = kp_worker_client_new (url, token);
  d->server_url = g_steal_pointer (&url);
  d->token = g_steal_pointer (&token);
  self->adding = TRUE;
  update_actions (self);
  kp_worker_client_get_me_async (d->client, self->cancellable, add_me_cb, d);
}

static void
switch_account_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  KpWorkerWindow *self = KP_WORKER_WINDOW (widget);
  KpAccount *account = kp_account_store_lookup (self->accounts, g_variant_get_string (parameter, NULL));

  if (account != NULL)
    activate_account (self, account);
}

static void
account_removed_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(KpWorkerWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!kp_account_store_remove_finish (KP_ACCOUNT_STORE (source), result, &error))
    toast_error (self, _("The account could not be removed"), error);
  else
    toast (self, _("Account removed"));
}

static void
remove_account_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  KpWorkerWindow *self = KP_WORKER_WINDOW (widget);
  KpAccount *account = kp_account_store_lookup (self->accounts, g_variant_get_string (parameter, NULL));

  if (account == NULL)
    return;
  if (account == self->account)
    activate_account (self, NULL);
  kp_account_store_remove_async (self->accounts, account, self->cancellable,
                                 account_removed_cb, g_object_ref (self));
}

/* Marketplace */

static const char *sort_values[] = { "created", "reward", "expiration", "available", "title" };
static const char *standing_values[] = { NULL, "qualified", "can-request", "not-qualified" };

static KpWorkerGroup *
get_selected_group (KpWorkerWindow *self)
{
  return gtk_single_selection_get_selected_item (self->group_selection);
}

static void
groups_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(KpWorkerWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) answer = NULL;
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  JsonNode *node;

  answer = kp_worker_client_call_finish (KP_WORKER_CLIENT (source), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->loading_groups = FALSE;

  if (answer == NULL)
    {
      if (g_error_matches (error, KP_WORKER_ERROR, KP_WORKER_ERROR_NETWORK))
        gtk_stack_set_visible_child_name (GTK_STACK (self->market_stack), "offline");
      else
        toast_error (self, _("The marketplace could not be loaded"), error);
      return;
    }

  node = json_object_get_member (answer, "groups");
  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *groups = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (groups); i++)
        {
          JsonNode *element = json_array_get_element (groups, i);

          if (JSON_NODE_HOLDS_OBJECT (element))
            g_ptr_array_add (items, kp_worker_group_new (json_node_get_object (element)));
        }
    }

  g_list_store_splice (self->groups, 0, g_list_model_get_n_items (G_LIST_MODEL (self->groups)),
                       items->pdata, items->len);
  gtk_stack_set_visible_child_name (GTK_STACK (self->market_stack), items->len > 0 ? "groups" : "empty");
  update_actions (self);
}

static void
refresh_groups (KpWorkerWindow *self)
{
  g_autoptr(GHashTable) params = NULL;
  const char *q;
  guint sort, standing;

  if (self->client == NULL)
    return;

  g_cancellable_cancel (self->groups_cancellable);
  g_clear_object (&self->groups_cancellable);
  self->groups_cancellable = g_cancellable_new ();
  g_signal_connect_object (self->account_cancellable, "cancelled",
                           G_CALLBACK (g_cancellable_cancel), self->groups_cancellable,
                           G_CONNECT_SWAPPED);

  params = g_hash_table_new (g_str_hash, g_str_equal);
  q = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  if (q != NULL && *q != '\0')
    g_hash_table_insert (params, "q", (char *)q);
  sort = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->sort_dropdown));
  if (sort < G_N_ELEMENTS (sort_values))
    g_hash_table_insert (params, "sort", (char *)sort_values[sort]);
  standing = gtk_drop_down_get_selected (GTK_DROP_DOWN (self->standing_dropdown));
  if (standing < G_N_ELEMENTS (standing_values) && standing_values[standing] != NULL)
    g_hash_table_insert (params, "standing", (char *)standing_values[standing]);
  g_hash_table_insert (params, "limit", GROUP_PAGE_SIZE);

  self->loading_groups = TRUE;
  kp_worker_client_list_groups_async (self->client, params, self->groups_cancellable,
                                      groups_cb, g_object_ref (self));
}

static void
refresh_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  KpWorkerWindow *self = KP_WORKER_WINDOW (widget);

  refresh_groups (self);
  if (self->engine != NULL)
    kp_sync_engine_sync_now (self->engine);
}

typedef enum
{
  COLUMN_TITLE,
  COLUMN_REQUESTER,
  COLUMN_REWARD,
  COLUMN_DURATION,
  COLUMN_HITS,
  COLUMN_EXPIRES,
  COLUMN_STANDING,
} Column;

static void
column_setup_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *item,
                 gpointer                  user_data)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_list_item_set_child (item, label);
}

static void
column_bind_cb (GtkSignalListItemFactory *factory,
                GtkListItem              *item,
                gpointer                  user_data)
{
  KpWorkerWindow *self = g_object_get_data (G_OBJECT (factory), "kp-window");
  KpWorkerGroup *group = gtk_list_item_get_item (item);
  GtkWidget *label = gtk_list_item_get_child (item);
  Column column = GPOINTER_TO_INT (user_data);
  g_autofree char *text = NULL;

  gtk_widget_remove_css_class (label, "success");
  gtk_widget_remove_css_class (label, "warning");
  gtk_widget_remove_css_class (label, "error");
  gtk_widget_set_tooltip_text (label, NULL);

  switch (column)
    {
    case COLUMN_TITLE:
      text = g_strdup (kp_worker_group_get_title (group));
      gtk_widget_set_tooltip_text (label, json_string (kp_worker_group_get_object (group), "description"));
      break;
    case COLUMN_REQUESTER:
      text = g_strdup (kp_worker_group_get_requester (group));
      break;
    case COLUMN_REWARD:
      text = g_strdup_printf ("$%s", kp_worker_group_get_reward (group));
      break;
    case COLUMN_DURATION:
      text = kp_worker_format_duration (kp_worker_group_get_duration (group));
      break;
    case COLUMN_HITS:
      text = g_strdup_printf ("%" G_GINT64_FORMAT, kp_worker_group_get_hits_available (group));
      break;
    case COLUMN_EXPIRES:
      {
        gint64 left = kp_worker_group_get_expiration (group) - server_now (self);

        /* Translators: when a HIT group expires, e.g. "in 3 days" */
        if (left > 0)
          {
            g_autofree char *d = kp_worker_format_duration (left);

            text = g_strdup_printf (_("in %s"), d);
          }
        else
          text = g_strdup (_("expired"));
      }
      break;
    case COLUMN_STANDING:
      {
        const char *standing = kp_worker_group_get_standing (group);

        text = g_strdup (kp_worker_format_standing (standing));
        gtk_widget_set_tooltip_text (label, kp_worker_group_get_reason (group));
        gtk_widget_add_css_class (label, g_str_equal (standing, "qualified") ? "success" :
                                         g_str_equal (standing, "can-request") ? "warning" : "error");
      }
      break;
    default:
      g_assert_not_reached ();
    }

  gtk_label_set_text (GTK_LABEL (label), text);
}

static GtkColumnViewColumn *
new_column (KpWorkerWindow *self,
            const char     *title,
            Column          column,
            gboolean        expand)
{
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  GtkColumnViewColumn *c;

  g_object_set_data (G_OBJECT (factory), "kp-window", self);
  g_signal_connect (factory, "setup", G_CALLBACK (column_setup_cb), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (column_bind_cb), GINT_TO_POINTER (column));
  c = gtk_column_view_column_new (title, factory);
  gtk_column_view_column_set_expand (c, expand);
  gtk_column_view_column_set_resizable (c, TRUE);
  return c;
}

static void
search_changed_cb (KpWorkerWindow *self)
{
  refresh_groups (self);
}

static GtkWidget *
new_layout_dialog (KpWorkerWindow  *self,
                   const char      *title,
                   KpLayout        *layout,
                   GtkWidget      **view_out)
{
  GtkWidget *dialog = adw_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *title_widget = adw_window_title_new (title, NULL);
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *view = kp_layout_view_new ();

  gtk_window_set_transient_for (GTK_WINDOW (dialog), GTK_WINDOW (self));
  gtk_window_set_modal (GTK_WINDOW (dialog), TRUE);
  gtk_window_set_default_size (GTK_WINDOW (dialog), 720, 640);
  gtk_window_set_title (GTK_WINDOW (dialog), title);
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), title_widget);
  gtk_box_append (GTK_BOX (box), header);
  gtk_widget_set_vexpand (scrolled, TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), view);
  gtk_box_append (GTK_BOX (box), scrolled);
  adw_window_set_content (ADW_WINDOW (dialog), box);
  kp_layout_view_set_layout (KP_LAYOUT_VIEW (view), layout);
  g_object_set_data (G_OBJECT (dialog), "kp-header", header);

  *view_out = view;
  return dialog;
}

static void
preview_accept_clicked_cb (GtkButton *button,
                           GtkWindow *dialog)
{
  GtkWindow *parent = gtk_window_get_transient_for (dialog);

  gtk_window_destroy (dialog);
  gtk_widget_activate_action (GTK_WIDGET (parent), "worker.accept", NULL);
}

static GdkTexture *
preview_media_func (const char  *uri,
                    gpointer     user_data,
                    GError     **error)
{
  GHashTable *textures = user_data;
  g_auto(GStrv) refs = kp_worker_cache_find_media_refs (uri);
  GdkTexture *texture = refs != NULL && refs[0] != NULL ? g_hash_table_lookup (textures, refs[0]) : NULL;

  if (texture == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("The image “%s” could not be downloaded"), uri);
      return NULL;
    }
  return g_object_ref (texture);
}

static void
preview_prepared_cb (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autofree char *title = user_data;
  KpWorkerWindow *self = KP_WORKER_WINDOW (source);
  g_autoptr(GError) error = NULL;
  g_autoptr(Prepared) p = NULL;
  GtkWidget *dialog, *view, *accept;

  p = prepare_hit_finish (self, result, &error);
  if (p == NULL)
    {
      toast_error (self, _("The HIT cannot be previewed"), error);
      return;
    }

  dialog = new_layout_dialog (self, title, NULL, &view);
  kp_layout_view_set_media_func (KP_LAYOUT_VIEW (view), preview_media_func,
                                 g_hash_table_ref (p->textures), (GDestroyNotify)g_hash_table_unref);
  kp_layout_view_set_layout (KP_LAYOUT_VIEW (view), p->layout);
  /* A preview is read-only: nothing to submit. */
  if (kp_layout_view_get_submit_button (KP_LAYOUT_VIEW (view)) != NULL)
    gtk_widget_set_visible (kp_layout_view_get_submit_button (KP_LAYOUT_VIEW (view)), FALSE);
  accept = gtk_button_new_with_mnemonic (_("_Accept"));
  gtk_widget_add_css_class (accept, "suggested-action");
  g_signal_connect (accept, "clicked", G_CALLBACK (preview_accept_clicked_cb), dialog);
  adw_header_bar_pack_end (g_object_get_data (G_OBJECT (dialog), "kp-header"), accept);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
preview_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(KpWorkerWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) hit = NULL;
  const char *question;
  char *title;

  hit = kp_worker_client_call_finish (KP_WORKER_CLIENT (source), result, &error);
  question = json_string (hit, "question");
  if (question == NULL)
    {
      if (error != NULL)
        toast_error (self, _("The HIT cannot be previewed"), error);
      else
        toast (self, _("The server’s HIT has no question"));
      return;
    }

  /* Translators: the title of a HIT preview window */
  title = g_strdup_printf (_("Preview: %s"), json_string (hit, "title") != NULL ? json_string (hit, "title") : "");
  prepare_preview_async (self, question, self->account_cancellable, preview_prepared_cb, title);
}

static void
preview_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  KpWorkerWindow *self = KP_WORKER_WINDOW (widget);
  KpWorkerGroup *group = get_selected_group (self);

  if (group == NULL || self->client == NULL)
    return;
  kp_worker_client_preview_group_async (self->client, kp_worker_group_get_hit_type_id (group),
                                        self->account_cancellable, preview_cb, g_object_ref (self));
}

static void
accepted_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(KpWorkerWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) assignment = NULL;
  g_autoptr(JsonNode) node = NULL;
  g_autofree char *json = NULL;
  const char *id;

  assignment = kp_worker_client_call_finish (KP_WORKER_CLIENT (source), result, &error);
  id = json_string (assignment, "assignment_id");
  if (id == NULL)
    {
      self->prefetching = FALSE;
      if (error != NULL)
        toast_error (self, _("The HIT could not be accepted"), error);
      if (self->current == NULL)
        show_nothing (self);
      return;
    }

  node = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (node, assignment);
  json = json_to_string (node, FALSE);
  prepare_hit_async (self, id, json, self->account_cancellable, prefetched_cb, g_object_ref (self));
}

static void
start_working (KpWorkerWindow *self)
{
  adw_view_stack_set_visible_child_name (self->stack, "work");
  if (self->current == NULL && !self->prefetching)
    show_next (self);
}

static void
accept_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  KpWorkerWindow *self = KP_WORKER_WINDOW (widget);
  KpWorkerGroup *group = get_selected_group (self);

  if (group == NULL || self->client == NULL || self->prefetching)
    return;

  /* The HIT on screen waits in the queue; the accepted one comes first. */
  if (self->current != NULL)
    {
      g_queue_push_head (&self->waiting, g_strdup (self->current->assignment->assignment_id));
      show_nothing (self);
    }
  if (self->next != NULL)
    {
      g_queue_push_head (&self->waiting, g_strdup (self->next->assignment->assignment_id));
      g_clear_pointer (&self->next, prepared_free);
    }

  self->prefetching = TRUE;
  adw_view_stack_set_visible_child_name (self->stack, "work");
  gtk_stack_set_visible_child_name (GTK_STACK (self->work_stack), "loading");
  kp_worker_client_accept_group_async (self->client, kp_worker_group_get_hit_type_id (group),
                                       self->account_cancellable, accepted_cb, g_object_ref (self));
}

static void
work_group_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  KpWorkerWindow *self = KP_WORKER_WINDOW (widget);
  KpWorkerGroup *group = get_selected_group (self);

  if (group == NULL || self->client == NULL)
    return;

  g_free (self->work_group);
  self->work_group = g_strdup (kp_worker_group_get_hit_type_id (group));
  update_queue_label (self);
  update_actions (self);
  start_working (self);
  prefetch_next (self);
}

static void
stop_group_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  KpWorkerWindow *self = KP_WORKER_WINDOW (widget);

  g_clear_pointer (&self->work_group, g_free);
  update_queue_label (self);
  update_actions (self);
}

static void
offline_progress_cb (KpSyncEngine   *engine,
                     guint           hits_ready,
                     guint           hits_wanted,
                     guint64         bytes_done,
                     guint64         bytes_total,
                     KpWorkerWindow *self)
{
  double fraction = hits_wanted > 0 ? (double)hits_ready / hits_wanted : 0;
  g_autofree char *text = NULL;

  /* The HITs count for half, their media for the other half. */
  if (bytes_total > 0)
    fraction = fraction / 2 + (double)bytes_done / bytes_total / 2;
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->offline_progress), CLAMP (fraction, 0, 1));
  text = g_strdup_printf (_("%u of %u HITs ready"), hits_ready, hits_wanted);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->offline_progress), text);
}

static void
taken_offline_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(KpWorkerWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) ids = NULL;

  ids = kp_sync_engine_take_offline_finish (KP_SYNC_ENGINE (source), result, &error);
  g_signal_handlers_disconnect_by_func (source, offline_progress_cb, self);
  gtk_widget_set_visible (self->offline_progress, FALSE);
  gtk_widget_set_visible (self->offline_cancel, FALSE);
  g_clear_object (&self->offline_cancellable);
  update_actions (self);

  if (ids == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        toast (self, _("Stopped taking work offline; what was ready stays"));
      else
        toast_error (self, _("Work could not be taken offline"), error);
    }
  else
    {
      guint n = g_strv_length (ids);
      g_autofree char *message = g_strdup_printf (g_dngettext (NULL, "%u HIT is ready to work offline",
                                                               "%u HITs are ready to work offline", n), n);

      toast (self, message);
    }

  /* Whatever was taken is in the cache, even after a failure. */
  load_waiting (self);
  refresh_groups (self);
}

static void
take_offline_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  KpWorkerWindow *self = KP_WORKER_WINDOW (widget);
  KpWorkerGroup *group = get_selected_group (self);
  guint n;

  if (group == NULL || self->engine == NULL || self->offline_cancellable != NULL)
    return;

  n = gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (self->offline_spin));
  self->offline_cancellable = g_cancellable_new ();
  g_signal_connect_object (self->account_cancellable, "cancelled",
                           G_CALLBACK (g_cancellable_cancel), self->offline_cancellable,
                           G_CONNECT_SWAPPED);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->offline_progress), 0);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (self->offline_progress), _("Accepting HITs…"));
  gtk_widget_set_visible (self->offline_progress, TRUE);
  gtk_widget_set_visible (self->offline_cancel, TRUE);
  g_signal_connect (self->engine, "take-offline-progress", G_CALLBACK (offline_progress_cb), self);
  kp_sync_engine_take_offline_async (self->engine, kp_worker_group_get_hit_type_id (group), n,
                                     self->offline_cancellable, taken_offline_cb, g_object_ref (self));
  update_actions (self);
}

static void
cancel_offline_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  KpWorkerWindow *self = KP_WORKER_WINDOW (widget);

  g_cancellable_cancel (self->offline_cancellable);
}

static void
qualification_requested_cb (GObject      *source,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  g_autoptr(KpWorkerWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) answer = NULL;
  const char *status;
  g_autofree char *message = NULL;

  answer = kp_worker_client_call_finish (KP_WORKER_CLIENT (source), result, &error);
  if (answer == NULL)
    {
      toast_error (self, _("The qualification could not be requested"), error);
      return;
    }

  status = json_string (answer, "status");
  if (g_strcmp0 (status, "Granted") == 0)
    message = g_strdup_printf (_("Qualification granted with the score %" PRId64),
                               json_int (answer, "value"));
  else if (g_strcmp0 (status, "Rejected") == 0)
    message = g_strdup (_("The qualification was not granted"));
  else
    message = g_strdup (_("Qualification requested: the requester will decide"));
  toast (self, message);
  refresh_groups (self);
}

typedef struct
{
  KpWorkerWindow *self;
  char           *type_id;
  GtkWidget      *dialog;
} TestData;

static void
test_data_free (gpointer data)
{
  TestData *t = data;

  g_clear_object (&t->self);
  g_free (t->type_id);
  g_free (t);
}

static void
test_submitted_cb (KpLayoutView *view,
                   JsonArray    *answer,
                   TestData     *t)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_ARRAY);

  json_node_set_array (node, answer);
  kp_worker_client_request_qualification_async (t->self->client, t->type_id, node,
                                                t->self->account_cancellable,
                                                qualification_requested_cb, g_object_ref (t->self));
  gtk_window_destroy (GTK_WINDOW (t->dialog));
}

static void
qualification_type_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(KpWorkerWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) type = NULL;
  g_autoptr(KpLayout) layout = NULL;
  const char *test, *id;
  g_autofree char *title = NULL;
  GtkWidget *dialog, *view;
  TestData *t;

  type = kp_worker_client_call_finish (KP_WORKER_CLIENT (source), result, &error);
  id = json_string (type, "qualification_type_id");
  if (type == NULL || id == NULL)
    {
      if (error != NULL)
        toast_error (self, _("The qualification could not be read"), error);
      return;
    }

  test = json_string (type, "test");
  if (test == NULL)
    {
      kp_worker_client_request_qualification_async (self->client, id, NULL, self->account_cancellable,
                                                    qualification_requested_cb, g_object_ref (self));
      return;
    }

  layout = kp_layout_new_from_data (test, -1, KP_LAYOUT_FORMAT_QUESTION, &error);
  if (layout == NULL)
    {
      toast_error (self, _("The qualification test cannot be shown"), error);
      return;
    }

  /* Translators: the title of a qualification test window */
  title = g_strdup_printf (_("Qualification Test: %s"), json_string (type, "name") != NULL ? json_string (type, "name") : id);
  dialog = new_layout_dialog (self, title, layout, &view);
  t = g_new0 (TestData, 1);
  t->self = g_object_ref (self);
  t->type_id = g_strdup (id);
  t->dialog = dialog;
  g_signal_connect_data (view, "submitted", G_CALLBACK (test_submitted_cb), t,
                         (GClosureNotify)(void (*) (void))test_data_free, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
request_qualification_action (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *parameter)
{
  KpWorkerWindow *self = KP_WORKER_WINDOW (widget);
  KpWorkerGroup *group = get_selected_group (self);
  g_auto(GStrv) ids = NULL;

  if (group == NULL || self->client == NULL)
    return;

  ids = kp_worker_group_dup_requestable_qualifications (group);
  if (ids == NULL || ids[0] == NULL)
    {
      toast (self, kp_worker_group_get_reason (group) != NULL ? kp_worker_group_get_reason (group)
                                                               : _("This group needs no qualification you could request"));
      return;
    }

  kp_worker_client_get_qualification_type_async (self->client, ids[0], self->account_cancellable,
                                                 qualification_type_cb, g_object_ref (self));
}

/* Work actions */

static void
submit_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  KpWorkerWindow *self = KP_WORKER_WINDOW (widget);

  if (self->current != NULL)
    kp_layout_view_submit (self->layout_view);
}

static void
returned_cached_cb (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error) && error != NULL)
    toast_error (KP_WORKER_WINDOW (source), NULL, error);
}

static void
returned_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(KpWorkerWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) answer = NULL;
  const char *id;
  Job *job;

  answer = kp_worker_client_call_finish (KP_WORKER_CLIENT (source), result, &error);
  id = json_string (answer, "assignment_id");
  if (id == NULL)
    {
      if (error != NULL)
        toast_error (self, _("The HIT could not be returned"), error);
      return;
    }

  job = g_new0 (Job, 1);
  job->kind = JOB_SET_RETURNED;
  job->assignment_id = g_strdup (id);
  run_job (self, job, returned_cached_cb);

  if (self->current != NULL && g_strcmp0 (self->current->assignment->assignment_id, id) == 0)
    show_next (self);
  toast (self, _("HIT returned"));
}

static void
return_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  KpWorkerWindow *self = KP_WORKER_WINDOW (widget);

  if (self->current == NULL || self->client == NULL)
    return;
  kp_worker_client_return_assignment_async (self->client, self->current->assignment->assignment_id,
                                            self->account_cancellable, returned_cb, g_object_ref (self));
}

static void
waiting_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  KpWorkerWindow *self = KP_WORKER_WINDOW (source);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) ids = NULL;

  ids = g_task_propagate_pointer (G_TASK (result), &error);
  if (ids == NULL)
    {
      toast_error (self, _("The offline work could not be read"), error);
      return;
    }

  g_queue_clear_full (&self->waiting, g_free);
  for (guint i = 0; ids[i] != NULL; i++)
    {
      if (self->current != NULL && g_str_equal (ids[i], self->current->assignment->assignment_id))
        continue;
      if (self->next != NULL && g_str_equal (ids[i], self->next->assignment->assignment_id))
        continue;
      g_queue_push_tail (&self->waiting, g_strdup (ids[i]));
    }

  update_queue_label (self);
  update_actions (self);
  if (self->current == NULL && !self->prefetching && !g_queue_is_empty (&self->waiting))
    show_next (self);
  else
    prefetch_next (self);
}

/* Reads the assignments taken offline (accepted, not submitted, before
 * their deadline) from the cache. */
static void
load_waiting (KpWorkerWindow *self)
{
  Job *job;

  if (self->cache_path == NULL)
    return;
  job = g_new0 (Job, 1);
  job->kind = JOB_LIST_WAITING;
  job->now = server_now (self);
  run_job (self, job, waiting_cb);
}

/* Outbox */

static char *
dup_outbox_text (KpWorkerWindow *self,
                 KpOutboxItem   *item)
{
  const char *reason = kp_outbox_item_get_reason (item);

  switch (kp_outbox_item_get_state (item))
    {
    case KP_OUTBOX_STATE_QUEUED:
      if (kp_outbox_item_get_attempts (item) > 0 && reason != NULL)
        return g_strdup_printf (_("Queued; the last attempt failed: %s"), reason);
      return g_strdup (_("Queued"));
    case KP_OUTBOX_STATE_SENDING:
      return g_strdup (_("Sending"));
    case KP_OUTBOX_STATE_ACCEPTED:
      return g_strdup (_("Accepted by the server"));
    case KP_OUTBOX_STATE_REFUSED:
      return g_strdup_printf (_("Refused by the server: %s — kept as a draft"),
                              reason != NULL ? reason : _("no reason given"));
    default:
      g_assert_not_reached ();
    }
}

static void
outbox_row_update (GtkListItem *list_item)
{
  KpOutboxItem *item = gtk_list_item_get_item (list_item);
  GtkWidget *box = gtk_list_item_get_child (list_item);
  GtkWidget *title = gtk_widget_get_first_child (box);
  GtkWidget *state = gtk_widget_get_next_sibling (title);
  KpWorkerWindow *self = g_object_get_data (G_OBJECT (box), "kp-window");
  const char *hit_title;
  g_autofree char *text = NULL;
  g_autofree char *title_text = NULL;

  if (item == NULL)
    return;

  hit_title = g_hash_table_lookup (self->titles, kp_outbox_item_get_assignment_id (item));
  /* Translators: an outbox row: the HIT's title (or "HIT") and its assignment id */
  title_text = g_strdup_printf (_("%s — assignment %s"), hit_title != NULL ? hit_title : _("HIT"),
                                kp_outbox_item_get_assignment_id (item));
  gtk_label_set_text (GTK_LABEL (title), title_text);
  text = dup_outbox_text (self, item);
  gtk_label_set_text (GTK_LABEL (state), text);

  gtk_widget_remove_css_class (state, "success");
  gtk_widget_remove_css_class (state, "error");
  if (kp_outbox_item_get_state (item) == KP_OUTBOX_STATE_ACCEPTED)
    gtk_widget_add_css_class (state, "success");
  else if (kp_outbox_item_get_state (item) == KP_OUTBOX_STATE_REFUSED)
    gtk_widget_add_css_class (state, "error");
}

static void
outbox_setup_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *item,
                 KpWorkerWindow           *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *title = gtk_label_new (NULL);
  GtkWidget *state = gtk_label_new (NULL);

  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_xalign (GTK_LABEL (state), 0);
  gtk_label_set_wrap (GTK_LABEL (state), TRUE);
  gtk_widget_add_css_class (state, "dim-label");
  gtk_box_append (GTK_BOX (box), title);
  gtk_box_append (GTK_BOX (box), state);
  g_object_set_data (G_OBJECT (box), "kp-window", self);
  gtk_list_item_set_child (item, box);
}

static void
outbox_bind_cb (GtkSignalListItemFactory *factory,
                GtkListItem              *list_item,
                KpWorkerWindow           *self)
{
  KpOutboxItem *item = gtk_list_item_get_item (list_item);
  gulong id;

  id = g_signal_connect_swapped (item, "notify", G_CALLBACK (outbox_row_update), list_item);
  g_object_set_data (G_OBJECT (list_item), "kp-handler", GSIZE_TO_POINTER (id));
  outbox_row_update (list_item);
}

static void
outbox_unbind_cb (GtkSignalListItemFactory *factory,
                  GtkListItem              *list_item,
                  KpWorkerWindow           *self)
{
  KpOutboxItem *item = gtk_list_item_get_item (list_item);
  gulong id = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (list_item), "kp-handler"));

  if (item != NULL && id != 0)
    g_signal_handler_disconnect (item, id);
  g_object_set_data (G_OBJECT (list_item), "kp-handler", NULL);
}

static void
exported_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error) && error != NULL)
    toast_error (KP_WORKER_WINDOW (source), _("The drafts could not be exported"), error);
  else
    toast (KP_WORKER_WINDOW (source), _("Refused drafts exported"));
}

static void
export_response_cb (GtkNativeDialog *native,
                    int              response,
                    KpWorkerWindow  *self)
{
  if (response == GTK_RESPONSE_ACCEPT && self->cache_path != NULL)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (native));
      Job *job = g_new0 (Job, 1);

      job->kind = JOB_EXPORT;
      job->export_path = g_file_get_path (file);
      run_job (self, job, exported_cb);
    }

  gtk_native_dialog_destroy (native);
  g_object_unref (native);
}

static void
export_refused_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  KpWorkerWindow *self = KP_WORKER_WINDOW (widget);
  GtkFileChooserNative *native;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  if (self->cache_path == NULL)
    return;

  /* A test (or a script) can name the file directly. */
  if (parameter != NULL && *g_variant_get_string (parameter, NULL) != '\0')
    {
      Job *job = g_new0 (Job, 1);

      job->kind = JOB_EXPORT;
      job->export_path = g_strdup (g_variant_get_string (parameter, NULL));
      run_job (self, job, exported_cb);
      return;
    }

  native = gtk_file_chooser_native_new (_("Export Refused Drafts"), GTK_WINDOW (self),
                                        GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  gtk_file_filter_set_name (filter, _("JSON files"));
  gtk_file_filter_add_mime_type (filter, "application/json");
  gtk_file_filter_add_pattern (filter, "*.json");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (native), filter);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (native), _("refused-drafts.json"));
  g_signal_connect (native, "response", G_CALLBACK (export_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (native));
}

static void
sync_now_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  KpWorkerWindow *self = KP_WORKER_WINDOW (widget);

  if (self->engine != NULL)
    kp_sync_engine_sync_now (self->engine);
}

/* Earnings and qualifications */

static void
earnings_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(KpWorkerWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) answer = NULL;
  static const struct {
    const char *member;
    const char *title;
  } sums[] = {
    { "pending", N_("Pending review") },
    { "approved", N_("Approved") },
    { "rejected", N_("Rejected") },
    { "bonuses", N_("Bonuses") },
  };
  JsonNode *node;

  answer = kp_worker_client_call_finish (KP_WORKER_CLIENT (source), result, &error);
  if (answer == NULL)
    {
      toast_error (self, _("The earnings could not be loaded"), error);
      return;
    }

  clear_list_box (self->earnings_list);
  for (guint i = 0; i < G_N_ELEMENTS (sums); i++)
    {
      JsonObject *sum = json_object_get_member (answer, sums[i].member) != NULL &&
                        JSON_NODE_HOLDS_OBJECT (json_object_get_member (answer, sums[i].member)) ?
                        json_object_get_object_member (answer, sums[i].member) : NULL;
      gint64 count = json_int (sum, "count");
      g_autofree char *subtitle = g_strdup_printf (g_dngettext (NULL, "%d item", "%d items", count), (int)count);
      g_autofree char *amount = g_strdup_printf ("$%s", json_string (sum, "amount") != NULL ? json_string (sum, "amount") : "0.00");

      add_info_row (self->earnings_list, _(sums[i].title), subtitle, amount);
    }
  {
    g_autofree char *total = g_strdup_printf ("$%s", json_string (answer, "total_earned") != NULL ?
                                                     json_string (answer, "total_earned") : "0.00");

    add_info_row (self->earnings_list, _("Total earned"), _("Approved work and bonuses"), total);
  }

  clear_list_box (self->feedback_list);
  node = json_object_get_member (answer, "items");
  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *items = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (items); i++)
        {
          JsonNode *element = json_array_get_element (items, i);
          JsonObject *item;
          const char *feedback, *status;
          g_autofree char *subtitle = NULL;
          g_autofree char *reward = NULL;

          if (!JSON_NODE_HOLDS_OBJECT (element))
            continue;
          item = json_node_get_object (element);
          status = json_string (item, "status");
          feedback = json_string (item, "requester_feedback");
          if (g_strcmp0 (status, "Approved") == 0)
            status = _("Approved");
          else if (g_strcmp0 (status, "Rejected") == 0)
            status = _("Rejected");
          else
            status = _("Pending review");
          /* Translators: a reviewed HIT's status and the requester's feedback */
          subtitle = feedback != NULL ? g_strdup_printf (_("%s — “%s”"), status, feedback) : g_strdup (status);
          reward = g_strdup_printf ("$%s", json_string (item, "reward") != NULL ? json_string (item, "reward") : "0.00");
          add_info_row (self->feedback_list, json_string (item, "title") != NULL ? json_string (item, "title") : "",
                        subtitle, reward);
        }
    }

  node = json_object_get_member (answer, "bonuses");
  if (node != NULL && JSON_NODE_HOLDS_OBJECT (node) &&
      json_object_get_member (json_node_get_object (node), "items") != NULL &&
      JSON_NODE_HOLDS_ARRAY (json_object_get_member (json_node_get_object (node), "items")))
    {
      JsonArray *items = json_object_get_array_member (json_node_get_object (node), "items");

      for (guint i = 0; i < json_array_get_length (items); i++)
        {
          JsonNode *element = json_array_get_element (items, i);
          JsonObject *bonus;
          g_autofree char *amount = NULL;

          if (!JSON_NODE_HOLDS_OBJECT (element))
            continue;
          bonus = json_node_get_object (element);
          amount = g_strdup_printf ("$%s", json_string (bonus, "amount") != NULL ? json_string (bonus, "amount") : "0.00");
          add_info_row (self->feedback_list, _("Bonus"), json_string (bonus, "reason"), amount);
        }
    }
}

static void
qualifications_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(KpWorkerWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonObject) answer = NULL;
  const char *members[] = { "qualifications", "requests" };

  answer = kp_worker_client_call_finish (KP_WORKER_CLIENT (source), result, &error);
  if (answer == NULL)
    {
      toast_error (self, _("The qualifications could not be loaded"), error);
      return;
    }

  clear_list_box (self->qualification_list);
  for (guint m = 0; m < G_N_ELEMENTS (members); m++)
    {
      JsonNode *node = json_object_get_member (answer, members[m]);
      JsonArray *array;

      if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
        continue;
      array = json_node_get_array (node);
      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *element = json_array_get_element (array, i);
          JsonObject *q;
          g_autofree char *value = NULL;
          g_autofree char *subtitle = NULL;

          if (!JSON_NODE_HOLDS_OBJECT (element))
            continue;
          q = json_node_get_object (element);
          if (m == 0)
            {
              JsonNode *v = json_object_get_member (q, "value");

              if (v != NULL && json_node_get_value_type (v) == G_TYPE_INT64)
                value = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (v));
              /* Translators: a qualification's status, Granted or Revoked */
              subtitle = g_strdup_printf (_("Status: %s"), json_string (q, "status") != NULL ? json_string (q, "status") : "");
            }
          else
            subtitle = g_strdup_printf (_("Request: %s"), json_string (q, "status") != NULL ? json_string (q, "status") : "");
          add_info_row (self->qualification_list, json_string (q, "name") != NULL ? json_string (q, "name") : "",
                        subtitle, value);
        }
    }
}

static void
refresh_earnings_action (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *parameter)
{
  KpWorkerWindow *self = KP_WORKER_WINDOW (widget);

  if (self->client == NULL)
    return;
  kp_worker_client_get_earnings_async (self->client, NULL, self->account_cancellable,
                                       earnings_cb, g_object_ref (self));
  kp_worker_client_list_qualifications_async (self->client, self->account_cancellable,
                                              qualifications_cb, g_object_ref (self));
}

static void
page_changed_cb (KpWorkerWindow *self)
{
  const char *name = adw_view_stack_get_visible_child_name (self->stack);

  if (g_strcmp0 (name, "earnings") == 0 && self->client != NULL)
    refresh_earnings_action (GTK_WIDGET (self), "worker.refresh-earnings", NULL);
}

static void
update_actions (KpWorkerWindow *self)
{
  GtkWidget *w = GTK_WIDGET (self);
  gboolean online = self->client != NULL;
  gboolean selected = online && get_selected_group (self) != NULL;
  gboolean qualified = selected && g_strcmp0 (kp_worker_group_get_standing (get_selected_group (self)),
                                               "qualified") == 0;

  gtk_widget_action_set_enabled (w, "worker.add-account", !self->adding);
  gtk_widget_action_set_enabled (w, "worker.refresh", online);
  gtk_widget_action_set_enabled (w, "worker.preview", selected &&
                                 kp_worker_group_get_preview_allowed (get_selected_group (self)));
  gtk_widget_action_set_enabled (w, "worker.accept", qualified);
  gtk_widget_action_set_enabled (w, "worker.work-group", qualified);
  gtk_widget_action_set_enabled (w, "worker.stop-group", self->work_group != NULL);
  gtk_widget_action_set_enabled (w, "worker.take-offline", qualified && self->offline_cancellable == NULL);
  gtk_widget_action_set_enabled (w, "worker.cancel-offline", self->offline_cancellable != NULL);
  gtk_widget_action_set_enabled (w, "worker.request-qualification", selected && !qualified);
  gtk_widget_action_set_enabled (w, "worker.submit", self->current != NULL);
  gtk_widget_action_set_enabled (w, "worker.return", self->current != NULL && online);
  gtk_widget_action_set_enabled (w, "worker.export-refused", self->cache_path != NULL);
  gtk_widget_action_set_enabled (w, "worker.sync-now", self->engine != NULL);
  gtk_widget_action_set_enabled (w, "worker.refresh-earnings", online);
}

/* Building the window */

static GtkWidget *
new_page_box (void)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);

  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  return box;
}

static void
token_activated_cb (KpWorkerWindow *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "worker.add-account", NULL);
}

static GtkWidget *
build_accounts_page (KpWorkerWindow *self)
{
  GtkWidget *page = adw_preferences_page_new ();
  GtkWidget *group, *add_group, *button, *icon;

  group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _("Accounts"));
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group),
                                         _("Choose the account to work with"));

  self->tokens_warning = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->tokens_warning),
                                 _("Tokens are kept in a file"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->tokens_warning),
                               _("No keyring answered, so your tokens are in a file only you can read. "
                                 "Anyone with access to your user account can use them."));
  icon = gtk_image_new_from_icon_name ("dialog-warning-symbolic");
  gtk_widget_add_css_class (icon, "warning");
  adw_action_row_add_prefix (ADW_ACTION_ROW (self->tokens_warning), icon);
  gtk_widget_set_visible (self->tokens_warning, FALSE);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), self->tokens_warning);

  self->account_list = new_boxed_list ();
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), self->account_list);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (group));

  add_group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (add_group), _("Add an Account"));
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (add_group),
                                         _("The server’s address and the worker token your administrator "
                                           "gave you, or paste a kempelen://join link as the address"));
  self->server_row = adw_entry_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->server_row), _("Server Address"));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (add_group), self->server_row);
  self->token_row = adw_password_entry_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->token_row), _("Worker Token"));
  adw_entry_row_set_activates_default (ADW_ENTRY_ROW (self->token_row), TRUE);
  g_signal_connect_swapped (self->token_row, "entry-activated", G_CALLBACK (token_activated_cb), self);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (add_group), self->token_row);

  button = new_text_button (_("_Add Account"), "worker.add-account");
  gtk_widget_add_css_class (button, "suggested-action");
  gtk_widget_set_halign (button, GTK_ALIGN_END);
  gtk_widget_set_margin_top (button, 12);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (add_group), button);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (add_group));

  add_part (self, "tokens-warning", self->tokens_warning);
  add_part (self, "account-list", self->account_list);
  add_part (self, "server-row", self->server_row);
  add_part (self, "token-row", self->token_row);
  add_part (self, "add-button", button);

  return page;
}

static void
selection_changed_cb (KpWorkerWindow *self)
{
  update_actions (self);
}

static void
group_activated_cb (GtkColumnView  *view,
                    guint           position,
                    KpWorkerWindow *self)
{
  gtk_widget_activate_action (GTK_WIDGET (self), "worker.preview", NULL);
}

static GtkWidget *
build_market_page (KpWorkerWindow *self)
{
  GtkWidget *box = new_page_box ();
  GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *actions = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *offline_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *scrolled, *view, *status, *button, *label;
  const char *sorts[] = { N_("Newest"), N_("Highest reward"), N_("Expiring soon"),
                          N_("Most HITs"), N_("Title"), NULL };
  const char *standings[] = { N_("Any standing"), N_("Qualified"), N_("Can take the test"),
                              N_("Not qualified"), NULL };
  const char *sorts_t[G_N_ELEMENTS (sorts)];
  const char *standings_t[G_N_ELEMENTS (standings)];

  for (guint i = 0; i < G_N_ELEMENTS (sorts); i++)
    sorts_t[i] = sorts[i] != NULL ? _(sorts[i]) : NULL;
  for (guint i = 0; i < G_N_ELEMENTS (standings); i++)
    standings_t[i] = standings[i] != NULL ? _(standings[i]) : NULL;

  self->search_entry = gtk_search_entry_new ();
  gtk_widget_set_hexpand (self->search_entry, TRUE);
  g_object_set (self->search_entry, "placeholder-text", _("Search HITs"), NULL);
  set_accessible_label (self->search_entry, _("Search HITs"));
  g_signal_connect_swapped (self->search_entry, "search-changed", G_CALLBACK (search_changed_cb), self);
  gtk_box_append (GTK_BOX (bar), self->search_entry);

  self->sort_dropdown = gtk_drop_down_new_from_strings (sorts_t);
  gtk_widget_set_tooltip_text (self->sort_dropdown, _("Sort by"));
  set_accessible_label (self->sort_dropdown, _("Sort by"));
  g_signal_connect_swapped (self->sort_dropdown, "notify::selected", G_CALLBACK (search_changed_cb), self);
  gtk_box_append (GTK_BOX (bar), self->sort_dropdown);

  self->standing_dropdown = gtk_drop_down_new_from_strings (standings_t);
  gtk_widget_set_tooltip_text (self->standing_dropdown, _("Show groups by your standing"));
  set_accessible_label (self->standing_dropdown, _("Show groups by your standing"));
  g_signal_connect_swapped (self->standing_dropdown, "notify::selected", G_CALLBACK (search_changed_cb), self);
  gtk_box_append (GTK_BOX (bar), self->standing_dropdown);

  gtk_box_append (GTK_BOX (bar), new_icon_button ("view-refresh-symbolic", _("Refresh"), "worker.refresh"));
  gtk_box_append (GTK_BOX (box), bar);

  self->groups = g_list_store_new (KP_TYPE_WORKER_GROUP);
  self->group_selection = gtk_single_selection_new (G_LIST_MODEL (g_object_ref (self->groups)));
  g_signal_connect_swapped (self->group_selection, "notify::selected", G_CALLBACK (selection_changed_cb), self);
  g_signal_connect_swapped (self->group_selection, "items-changed", G_CALLBACK (selection_changed_cb), self);
  view = gtk_column_view_new (GTK_SELECTION_MODEL (g_object_ref (self->group_selection)));
  gtk_column_view_set_show_row_separators (GTK_COLUMN_VIEW (view), TRUE);
  set_accessible_label (view, _("HIT groups"));
  g_signal_connect (view, "activate", G_CALLBACK (group_activated_cb), self);
  {
    g_autoptr(GtkColumnViewColumn) c1 = new_column (self, _("Title"), COLUMN_TITLE, TRUE);
    g_autoptr(GtkColumnViewColumn) c2 = new_column (self, _("Requester"), COLUMN_REQUESTER, FALSE);
    g_autoptr(GtkColumnViewColumn) c3 = new_column (self, _("Reward"), COLUMN_REWARD, FALSE);
    g_autoptr(GtkColumnViewColumn) c4 = new_column (self, _("Time Allotted"), COLUMN_DURATION, FALSE);
    g_autoptr(GtkColumnViewColumn) c5 = new_column (self, _("HITs"), COLUMN_HITS, FALSE);
    g_autoptr(GtkColumnViewColumn) c6 = new_column (self, _("Expires"), COLUMN_EXPIRES, FALSE);
    g_autoptr(GtkColumnViewColumn) c7 = new_column (self, _("Your Standing"), COLUMN_STANDING, FALSE);

    gtk_column_view_append_column (GTK_COLUMN_VIEW (view), c1);
    gtk_column_view_append_column (GTK_COLUMN_VIEW (view), c2);
    gtk_column_view_append_column (GTK_COLUMN_VIEW (view), c3);
    gtk_column_view_append_column (GTK_COLUMN_VIEW (view), c4);
    gtk_column_view_append_column (GTK_COLUMN_VIEW (view), c5);
    gtk_column_view_append_column (GTK_COLUMN_VIEW (view), c6);
    gtk_column_view_append_column (GTK_COLUMN_VIEW (view), c7);
  }
  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), view);
  gtk_widget_add_css_class (scrolled, "card");

  self->market_stack = gtk_stack_new ();
  gtk_widget_set_vexpand (self->market_stack, TRUE);
  gtk_stack_add_named (GTK_STACK (self->market_stack), scrolled, "groups");
  status = adw_status_page_new ();
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (status), "system-search-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (status), _("No HITs Found"));
  adw_status_page_set_description (ADW_STATUS_PAGE (status),
                                   _("No group matches, or there is no work for you right now"));
  gtk_stack_add_named (GTK_STACK (self->market_stack), status, "empty");
  status = adw_status_page_new ();
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (status), "network-offline-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (status), _("Cannot Reach the Server"));
  adw_status_page_set_description (ADW_STATUS_PAGE (status),
                                   _("Work you took offline is still in the Work view"));
  gtk_stack_add_named (GTK_STACK (self->market_stack), status, "offline");
  status = adw_status_page_new ();
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (status), "avatar-default-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (status), _("No Account"));
  adw_status_page_set_description (ADW_STATUS_PAGE (status),
                                   _("Add your account on a Kempelen server to find work"));
  gtk_stack_add_named (GTK_STACK (self->market_stack), status, "no-account");
  {
    GtkWidget *spinner = gtk_spinner_new ();

    gtk_spinner_set_spinning (GTK_SPINNER (spinner), TRUE);
    gtk_widget_set_size_request (spinner, 32, 32);
    gtk_widget_set_halign (spinner, GTK_ALIGN_CENTER);
    gtk_widget_set_valign (spinner, GTK_ALIGN_CENTER);
    set_accessible_label (spinner, _("Loading the marketplace"));
    gtk_stack_add_named (GTK_STACK (self->market_stack), spinner, "loading");
  }
  gtk_stack_set_visible_child_name (GTK_STACK (self->market_stack), "no-account");
  gtk_box_append (GTK_BOX (box), self->market_stack);

  gtk_box_append (GTK_BOX (actions), new_text_button (_("_Preview"), "worker.preview"));
  button = new_text_button (_("A_ccept"), "worker.accept");
  gtk_box_append (GTK_BOX (actions), button);
  button = new_text_button (_("_Work This Group"), "worker.work-group");
  gtk_widget_add_css_class (button, "suggested-action");
  gtk_box_append (GTK_BOX (actions), button);
  gtk_box_append (GTK_BOX (actions), new_text_button (_("_Request Qualification"),
                                                      "worker.request-qualification"));

  label = gtk_label_new_with_mnemonic (_("_Take offline:"));
  gtk_widget_set_margin_start (label, 12);
  gtk_box_append (GTK_BOX (offline_box), label);
  self->offline_spin = gtk_spin_button_new_with_range (1, 100, 1);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->offline_spin), 10);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), self->offline_spin);
  set_accessible_label (self->offline_spin, _("Number of HITs to take offline"));
  gtk_box_append (GTK_BOX (offline_box), self->offline_spin);
  gtk_box_append (GTK_BOX (offline_box), new_text_button (_("HITs _Offline"), "worker.take-offline"));
  self->offline_progress = gtk_progress_bar_new ();
  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (self->offline_progress), TRUE);
  gtk_widget_set_hexpand (self->offline_progress, TRUE);
  gtk_widget_set_valign (self->offline_progress, GTK_ALIGN_CENTER);
  gtk_widget_set_visible (self->offline_progress, FALSE);
  set_accessible_label (self->offline_progress, _("Progress of taking work offline"));
  gtk_box_append (GTK_BOX (offline_box), self->offline_progress);
  self->offline_cancel = new_text_button (_("_Stop"), "worker.cancel-offline");
  gtk_widget_set_visible (self->offline_cancel, FALSE);
  gtk_box_append (GTK_BOX (offline_box), self->offline_cancel);
  gtk_box_append (GTK_BOX (actions), offline_box);
  gtk_box_append (GTK_BOX (box), actions);

  add_part (self, "search-entry", self->search_entry);
  add_part (self, "sort-dropdown", self->sort_dropdown);
  add_part (self, "standing-dropdown", self->standing_dropdown);
  add_part (self, "group-view", view);
  add_part (self, "offline-spin", self->offline_spin);
  add_part (self, "offline-progress", self->offline_progress);
  add_part (self, "offline-cancel", self->offline_cancel);

  return box;
}

static GtkWidget *
build_work_page (KpWorkerWindow *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *info = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *bottom = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *hit = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *scrolled, *status, *spinner, *loading, *button, *spacer;

  self->work_title = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->work_title), 0);
  gtk_label_set_ellipsize (GTK_LABEL (self->work_title), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (self->work_title, TRUE);
  gtk_widget_add_css_class (self->work_title, "heading");
  self->work_deadline = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->work_deadline, "numeric");
  gtk_box_append (GTK_BOX (info), self->work_title);
  gtk_box_append (GTK_BOX (info), self->work_deadline);
  gtk_widget_set_margin_start (info, 12);
  gtk_widget_set_margin_end (info, 12);
  gtk_widget_set_margin_top (info, 6);
  gtk_widget_set_margin_bottom (info, 6);
  gtk_box_append (GTK_BOX (hit), info);

  self->layout_view = KP_LAYOUT_VIEW (kp_layout_view_new ());
  kp_layout_view_set_media_func (self->layout_view, media_func, self, NULL);
  /* Every change of a value, typed, chosen, drawn or painted, saves the
   * draft a moment later (the view emits at most once an iteration). */
  g_signal_connect_swapped (self->layout_view, "changed", G_CALLBACK (edited_cb), self);
  g_signal_connect (self->layout_view, "submitted", G_CALLBACK (layout_submitted_cb), self);
  scrolled = gtk_scrolled_window_new ();
  gtk_widget_set_vexpand (scrolled, TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (self->layout_view));
  gtk_box_append (GTK_BOX (hit), scrolled);

  self->work_stack = gtk_stack_new ();
  gtk_widget_set_vexpand (self->work_stack, TRUE);
  gtk_stack_add_named (GTK_STACK (self->work_stack), hit, "hit");
  status = adw_status_page_new ();
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (status), "emblem-ok-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (status), _("No HIT Open"));
  adw_status_page_set_description (ADW_STATUS_PAGE (status),
                                   _("Accept a HIT or work a group in the marketplace, or take work offline"));
  gtk_stack_add_named (GTK_STACK (self->work_stack), status, "empty");
  self->work_status = status;
  loading = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  gtk_widget_set_valign (loading, GTK_ALIGN_CENTER);
  spinner = gtk_spinner_new ();
  gtk_spinner_set_spinning (GTK_SPINNER (spinner), TRUE);
  gtk_widget_set_size_request (spinner, 32, 32);
  gtk_box_append (GTK_BOX (loading), spinner);
  gtk_box_append (GTK_BOX (loading), gtk_label_new (_("Getting the next HIT…")));
  gtk_stack_add_named (GTK_STACK (self->work_stack), loading, "loading");
  gtk_stack_set_visible_child_name (GTK_STACK (self->work_stack), "empty");
  gtk_box_append (GTK_BOX (box), self->work_stack);

  gtk_widget_add_css_class (bottom, "toolbar");
  button = new_text_button (_("_Return HIT"), "worker.return");
  gtk_widget_add_css_class (button, "destructive-action");
  gtk_box_append (GTK_BOX (bottom), button);
  gtk_box_append (GTK_BOX (bottom), new_text_button (_("Stop _Working the Group"), "worker.stop-group"));
  self->work_queue = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->work_queue, "dim-label");
  gtk_widget_set_margin_start (self->work_queue, 12);
  gtk_box_append (GTK_BOX (bottom), self->work_queue);
  spacer = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_set_hexpand (spacer, TRUE);
  gtk_box_append (GTK_BOX (bottom), spacer);
  button = new_text_button (_("_Submit"), "worker.submit");
  gtk_widget_add_css_class (button, "suggested-action");
  gtk_box_append (GTK_BOX (bottom), button);
  gtk_box_append (GTK_BOX (box), bottom);

  add_part (self, "work-title", self->work_title);
  add_part (self, "work-deadline", self->work_deadline);
  add_part (self, "work-stack", self->work_stack);

  return box;
}

static GtkWidget *
build_outbox_page (KpWorkerWindow *self)
{
  GtkWidget *box = new_page_box ();
  GtkWidget *list = new_boxed_list ();
  GtkWidget *row, *buttons, *scrolled, *retry;
  GtkListItemFactory *factory;

  self->network_row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->network_row), _("No account"));
  retry = new_text_button (_("Send _Now"), "worker.sync-now");
  gtk_widget_set_valign (retry, GTK_ALIGN_CENTER);
  adw_action_row_add_suffix (ADW_ACTION_ROW (self->network_row), retry);
  gtk_list_box_append (GTK_LIST_BOX (list), self->network_row);

  row = adw_action_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _("_Work Offline"));
  adw_preferences_row_set_use_underline (ADW_PREFERENCES_ROW (row), TRUE);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), _("Keep answers in the outbox and send nothing"));
  self->offline_switch = gtk_switch_new ();
  gtk_widget_set_valign (self->offline_switch, GTK_ALIGN_CENTER);
  set_accessible_label (self->offline_switch, _("Work Offline"));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), self->offline_switch);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), self->offline_switch);
  gtk_list_box_append (GTK_LIST_BOX (list), row);
  gtk_box_append (GTK_BOX (box), list);

  buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  self->outbox_counts = gtk_label_new (NULL);
  gtk_widget_set_hexpand (self->outbox_counts, TRUE);
  gtk_label_set_xalign (GTK_LABEL (self->outbox_counts), 0);
  gtk_widget_add_css_class (self->outbox_counts, "dim-label");
  gtk_box_append (GTK_BOX (buttons), self->outbox_counts);
  {
    GtkWidget *export = new_text_button (_("_Export Refused Drafts…"), "worker.export-refused");

    /* An empty file name asks for one. */
    gtk_actionable_set_action_target (GTK_ACTIONABLE (export), "s", "");
    gtk_box_append (GTK_BOX (buttons), export);
  }
  gtk_box_append (GTK_BOX (box), buttons);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect (factory, "setup", G_CALLBACK (outbox_setup_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (outbox_bind_cb), self);
  g_signal_connect (factory, "unbind", G_CALLBACK (outbox_unbind_cb), self);
  self->outbox_selection = gtk_no_selection_new (NULL);
  self->outbox_list = gtk_list_view_new (GTK_SELECTION_MODEL (g_object_ref (self->outbox_selection)), factory);
  gtk_widget_add_css_class (self->outbox_list, "card");
  set_accessible_label (self->outbox_list, _("Outbox"));
  scrolled = gtk_scrolled_window_new ();
  gtk_widget_set_vexpand (scrolled, TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), self->outbox_list);
  gtk_box_append (GTK_BOX (box), scrolled);

  add_part (self, "outbox-list", self->outbox_list);
  add_part (self, "offline-switch", self->offline_switch);
  add_part (self, "network-row", self->network_row);
  add_part (self, "outbox-counts", self->outbox_counts);

  return box;
}

static GtkWidget *
build_earnings_page (KpWorkerWindow *self)
{
  GtkWidget *page = adw_preferences_page_new ();
  GtkWidget *group;

  group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _("Earnings"));
  adw_preferences_group_set_header_suffix (ADW_PREFERENCES_GROUP (group),
                                           new_icon_button ("view-refresh-symbolic", _("Refresh"),
                                                            "worker.refresh-earnings"));
  self->earnings_list = new_boxed_list ();
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), self->earnings_list);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (group));

  group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _("Reviews and Bonuses"));
  self->feedback_list = new_boxed_list ();
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), self->feedback_list);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (group));

  group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _("Qualifications"));
  self->qualification_list = new_boxed_list ();
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), self->qualification_list);
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (group));

  add_part (self, "earnings-list", self->earnings_list);
  add_part (self, "feedback-list", self->feedback_list);
  add_part (self, "qualification-list", self->qualification_list);

  return page;
}

static void
kp_worker_window_constructed (GObject *object)
{
  KpWorkerWindow *self = KP_WORKER_WINDOW (object);

  G_OBJECT_CLASS (kp_worker_window_parent_class)->constructed (object);

  if (self->accounts == NULL)
    {
      self->accounts = kp_account_store_new (NULL, KP_TOKEN_STORAGE_AUTO);
      kp_account_store_load_async (self->accounts, self->cancellable, accounts_loaded_cb,
                                   g_object_ref (self));
    }
  else
    accounts_changed_cb (G_LIST_MODEL (self->accounts), 0, 0, 0, self);

  g_signal_connect_object (self->accounts, "items-changed", G_CALLBACK (accounts_changed_cb), self, 0);
  g_signal_connect_object (self->accounts, "notify::tokens-in-file", G_CALLBACK (update_account_rows), self,
                           G_CONNECT_SWAPPED);
  update_account_rows (self);
  update_actions (self);
}

static void
kp_worker_window_dispose (GObject *object)
{
  KpWorkerWindow *self = KP_WORKER_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  g_cancellable_cancel (self->account_cancellable);
  g_clear_handle_id (&self->draft_id, g_source_remove);
  g_clear_handle_id (&self->deadline_id, g_source_remove);
  g_clear_handle_id (&self->upload_id, g_source_remove);
  if (self->offline_binding != NULL)
    g_binding_unbind (self->offline_binding);
  self->offline_binding = NULL;
  if (self->engine != NULL)
    g_signal_handlers_disconnect_by_data (self->engine, self);
  g_clear_object (&self->engine);
  g_clear_object (&self->client);
  g_clear_pointer (&self->current, prepared_free);
  g_clear_pointer (&self->next, prepared_free);
  g_queue_clear_full (&self->waiting, g_free);
  g_clear_object (&self->account);
  if (self->accounts != NULL)
    g_signal_handlers_disconnect_by_data (self->accounts, self);
  g_clear_object (&self->accounts);
  g_clear_object (&self->groups_cancellable);
  g_clear_object (&self->offline_cancellable);

  G_OBJECT_CLASS (kp_worker_window_parent_class)->dispose (object);
}

static void
kp_worker_window_finalize (GObject *object)
{
  KpWorkerWindow *self = KP_WORKER_WINDOW (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->account_cancellable);
  g_clear_object (&self->groups);
  g_clear_object (&self->group_selection);
  g_clear_object (&self->outbox_selection);
  g_clear_pointer (&self->parts, g_hash_table_unref);
  g_clear_pointer (&self->titles, g_hash_table_unref);
  g_free (self->cache_path);
  g_free (self->work_group);
  g_free (self->last_draft);

  G_OBJECT_CLASS (kp_worker_window_parent_class)->finalize (object);
}

static void
kp_worker_window_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  KpWorkerWindow *self = KP_WORKER_WINDOW (object);

  switch (prop_id)
    {
    case PROP_ACCOUNT_STORE:
      g_value_set_object (value, self->accounts);
      break;
    case PROP_ACCOUNT:
      g_value_set_object (value, self->account);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_worker_window_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  KpWorkerWindow *self = KP_WORKER_WINDOW (object);

  switch (prop_id)
    {
    case PROP_ACCOUNT_STORE:
      self->accounts = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_worker_window_class_init (KpWorkerWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = kp_worker_window_constructed;
  object_class->dispose = kp_worker_window_dispose;
  object_class->finalize = kp_worker_window_finalize;
  object_class->get_property = kp_worker_window_get_property;
  object_class->set_property = kp_worker_window_set_property;

  properties[PROP_ACCOUNT_STORE] =
    g_param_spec_object ("account-store", NULL, NULL, KP_TYPE_ACCOUNT_STORE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ACCOUNT] =
    g_param_spec_object ("account", NULL, NULL, KP_TYPE_ACCOUNT,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[HIT_SHOWN] =
    g_signal_new ("hit-shown", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_install_action (widget_class, "worker.add-account", NULL, add_account_action);
  gtk_widget_class_install_action (widget_class, "worker.switch-account", "s", switch_account_action);
  gtk_widget_class_install_action (widget_class, "worker.remove-account", "s", remove_account_action);
  gtk_widget_class_install_action (widget_class, "worker.refresh", NULL, refresh_action);
  gtk_widget_class_install_action (widget_class, "worker.preview", NULL, preview_action);
  gtk_widget_class_install_action (widget_class, "worker.accept", NULL, accept_action);
  gtk_widget_class_install_action (widget_class, "worker.work-group", NULL, work_group_action);
  gtk_widget_class_install_action (widget_class, "worker.stop-group", NULL, stop_group_action);
  gtk_widget_class_install_action (widget_class, "worker.take-offline", NULL, take_offline_action);
  gtk_widget_class_install_action (widget_class, "worker.cancel-offline", NULL, cancel_offline_action);
  gtk_widget_class_install_action (widget_class, "worker.request-qualification", NULL,
                                   request_qualification_action);
  gtk_widget_class_install_action (widget_class, "worker.submit", NULL, submit_action);
  gtk_widget_class_install_action (widget_class, "worker.return", NULL, return_action);
  gtk_widget_class_install_action (widget_class, "worker.export-refused", "s", export_refused_action);
  gtk_widget_class_install_action (widget_class, "worker.sync-now", NULL, sync_now_action);
  gtk_widget_class_install_action (widget_class, "worker.refresh-earnings", NULL, refresh_earnings_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK, "worker.submit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F5, 0, "worker.refresh", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, GDK_CONTROL_MASK, "worker.refresh", NULL);
}

static void
kp_worker_window_init (KpWorkerWindow *self)
{
  GtkWidget *content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *switcher_title = adw_view_switcher_title_new ();
  GtkWidget *switcher_bar = adw_view_switcher_bar_new ();
  AdwViewStackPage *page;

  self->cancellable = g_cancellable_new ();
  self->account_cancellable = g_cancellable_new ();
  self->parts = g_hash_table_new (g_str_hash, g_str_equal);
  self->titles = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_queue_init (&self->waiting);

  gtk_window_set_title (GTK_WINDOW (self), _("Find Work"));
  gtk_window_set_default_size (GTK_WINDOW (self), 1100, 760);

  self->stack = ADW_VIEW_STACK (adw_view_stack_new ());
  gtk_widget_set_vexpand (GTK_WIDGET (self->stack), TRUE);
  page = adw_view_stack_add_titled (self->stack, build_market_page (self), "market", _("Marketplace"));
  adw_view_stack_page_set_icon_name (page, "system-search-symbolic");
  page = adw_view_stack_add_titled (self->stack, build_work_page (self), "work", _("Work"));
  adw_view_stack_page_set_icon_name (page, "document-edit-symbolic");
  page = adw_view_stack_add_titled (self->stack, build_outbox_page (self), "outbox", _("Outbox"));
  adw_view_stack_page_set_icon_name (page, "mail-send-symbolic");
  page = adw_view_stack_add_titled (self->stack, build_earnings_page (self), "earnings", _("Earnings"));
  adw_view_stack_page_set_icon_name (page, "starred-symbolic");
  page = adw_view_stack_add_titled (self->stack, build_accounts_page (self), "accounts", _("Accounts"));
  adw_view_stack_page_set_icon_name (page, "avatar-default-symbolic");
  g_signal_connect_swapped (self->stack, "notify::visible-child", G_CALLBACK (page_changed_cb), self);
  add_part (self, "stack", GTK_WIDGET (self->stack));

  adw_view_switcher_title_set_stack (ADW_VIEW_SWITCHER_TITLE (switcher_title), self->stack);
  adw_view_switcher_title_set_title (ADW_VIEW_SWITCHER_TITLE (switcher_title), _("Find Work"));
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), switcher_title);
  adw_view_switcher_bar_set_stack (ADW_VIEW_SWITCHER_BAR (switcher_bar), self->stack);
  g_object_bind_property (switcher_title, "title-visible", switcher_bar, "reveal",
                          G_BINDING_SYNC_CREATE);

  self->toasts = ADW_TOAST_OVERLAY (adw_toast_overlay_new ());
  adw_toast_overlay_set_child (self->toasts, GTK_WIDGET (self->stack));
  gtk_widget_set_vexpand (GTK_WIDGET (self->toasts), TRUE);

  gtk_box_append (GTK_BOX (content), header);
  gtk_box_append (GTK_BOX (content), GTK_WIDGET (self->toasts));
  gtk_box_append (GTK_BOX (content), switcher_bar);
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (self), content);

  network_state_changed_cb (self);
}

KpWorkerWindow *
kp_worker_window_new (GtkApplication *application,
                      KpAccountStore *store)
{
  g_return_val_if_fail (application == NULL || GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (store == NULL || KP_IS_ACCOUNT_STORE (store), NULL);

  return g_object_new (KP_TYPE_WORKER_WINDOW,
                       "application", application,
                       "account-store", store,
                       NULL);
}

KpAccountStore *
kp_worker_window_get_account_store (KpWorkerWindow *self)
{
  g_return_val_if_fail (KP_IS_WORKER_WINDOW (self), NULL);

  return self->accounts;
}

KpAccount *
kp_worker_window_get_account (KpWorkerWindow *self)
{
  g_return_val_if_fail (KP_IS_WORKER_WINDOW (self), NULL);

  return self->account;
}

gboolean
kp_worker_window_open_join_link (KpWorkerWindow *self,
                                 const char     *link)
{
  g_autofree char *server = NULL;
  g_autofree char *token = NULL;
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail (KP_IS_WORKER_WINDOW (self), FALSE);
  g_return_val_if_fail (link != NULL, FALSE);

  adw_view_stack_set_visible_child_name (self->stack, "accounts");
  if (!kp_parse_join_link (link, &server, &token, &error))
    {
      toast_error (self, _("This link cannot be opened"), error);
      return FALSE;
    }

  /* The worker checks the server and confirms: a link should not add an
   * account behind their back. */
  gtk_editable_set_text (GTK_EDITABLE (self->server_row), server);
  gtk_editable_set_text (GTK_EDITABLE (self->token_row), token);
  gtk_widget_grab_focus (g_hash_table_lookup (self->parts, "add-button"));
  toast (self, _("Check the server’s address, then add the account"));
  return TRUE;
}

/* For tests */

KpSyncEngine *
_kp_worker_window_get_sync_engine (KpWorkerWindow *self)
{
  return self->engine;
}

KpWorkerClient *
_kp_worker_window_get_client (KpWorkerWindow *self)
{
  return self->client;
}

GListModel *
_kp_worker_window_get_groups (KpWorkerWindow *self)
{
  return G_LIST_MODEL (self->groups);
}

GtkSingleSelection *
_kp_worker_window_get_group_selection (KpWorkerWindow *self)
{
  return self->group_selection;
}

gboolean
_kp_worker_window_get_loading_groups (KpWorkerWindow *self)
{
  return self->loading_groups;
}

KpLayoutView *
_kp_worker_window_get_layout_view (KpWorkerWindow *self)
{
  return self->layout_view;
}

const char *
_kp_worker_window_get_current_assignment (KpWorkerWindow *self)
{
  return self->current != NULL ? self->current->assignment->assignment_id : NULL;
}

const char *
_kp_worker_window_get_next_assignment (KpWorkerWindow *self)
{
  return self->next != NULL ? self->next->assignment->assignment_id : NULL;
}

guint
_kp_worker_window_get_n_waiting (KpWorkerWindow *self)
{
  return g_queue_get_length (&self->waiting);
}

GtkWidget *
_kp_worker_window_get_part (KpWorkerWindow *self,
                            const char     *name)
{
  return g_hash_table_lookup (self->parts, name);
}

char *
_kp_worker_window_dup_outbox_text (KpWorkerWindow *self,
                                   const char     *assignment_id)
{
  GListModel *model = self->engine != NULL ? kp_sync_engine_get_outbox (self->engine) : NULL;
  char *text = NULL;

  for (guint i = 0; model != NULL && i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(KpOutboxItem) item = g_list_model_get_item (model, i);

      if (g_strcmp0 (kp_outbox_item_get_assignment_id (item), assignment_id) == 0)
        {
          g_free (text);
          text = dup_outbox_text (self, item);
        }
    }

  return text;
}
