/* kp-worker-cache.c: a worker's local cache of one server account (SQLite)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-worker-cache.h"

#include <errno.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

G_DEFINE_QUARK (kp-worker-cache-error-quark, kp_worker_cache_error)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

#define SCHEMA_VERSION 1
#define BUSY_TIMEOUT_MS 10000

static const char schema_v1[] =
  "CREATE TABLE assignments ("
  "  assignment_id TEXT PRIMARY KEY,"
  "  hit_id TEXT NOT NULL,"
  "  hit_type_id TEXT,"
  "  requester_id TEXT,"
  "  title TEXT,"
  "  description TEXT,"
  "  reward TEXT,"
  "  question_kind TEXT,"
  "  question TEXT,"
  "  status TEXT NOT NULL,"
  "  accept_time INTEGER NOT NULL DEFAULT 0,"
  "  deadline INTEGER NOT NULL DEFAULT 0,"
  "  hit_json TEXT,"
  "  stored INTEGER NOT NULL"
  ") STRICT;"
  "CREATE TABLE drafts ("
  "  assignment_id TEXT PRIMARY KEY,"
  "  answer TEXT NOT NULL,"
  "  refused INTEGER NOT NULL DEFAULT 0,"
  "  error_code TEXT,"
  "  reason TEXT,"
  "  updated INTEGER NOT NULL"
  ") STRICT;"
  "CREATE TABLE outbox ("
  "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  submission_id TEXT NOT NULL UNIQUE,"
  "  assignment_id TEXT NOT NULL,"
  "  answer TEXT NOT NULL,"
  "  state INTEGER NOT NULL CHECK (state BETWEEN 0 AND 3),"
  "  status_code INTEGER NOT NULL DEFAULT 0,"
  "  error_code TEXT,"
  "  reason TEXT,"
  "  response TEXT,"
  "  attempts INTEGER NOT NULL DEFAULT 0,"
  "  next_attempt INTEGER NOT NULL DEFAULT 0,"
  "  created INTEGER NOT NULL,"
  "  updated INTEGER NOT NULL"
  ") STRICT;"
  "CREATE INDEX outbox_due ON outbox (state, next_attempt, seq);"
  "CREATE INDEX outbox_assignment ON outbox (assignment_id);"
  "CREATE TABLE media ("
  "  sha256 TEXT PRIMARY KEY,"
  "  content_type TEXT,"
  "  size INTEGER NOT NULL,"
  "  verified INTEGER NOT NULL DEFAULT 0,"
  "  stored INTEGER NOT NULL"
  ") STRICT;"
  "CREATE TABLE assignment_media ("
  "  assignment_id TEXT NOT NULL,"
  "  sha256 TEXT NOT NULL,"
  "  PRIMARY KEY (assignment_id, sha256)"
  ") STRICT;";

/* --- KpOutboxState ------------------------------------------------------ */

static const GEnumValue outbox_state_values[] = {
  { KP_OUTBOX_STATE_QUEUED, "KP_OUTBOX_STATE_QUEUED", "queued" },
  { KP_OUTBOX_STATE_SENDING, "KP_OUTBOX_STATE_SENDING", "sending" },
  { KP_OUTBOX_STATE_ACCEPTED, "KP_OUTBOX_STATE_ACCEPTED", "accepted" },
  { KP_OUTBOX_STATE_REFUSED, "KP_OUTBOX_STATE_REFUSED", "refused" },
  { 0, NULL, NULL },
};

GType
kp_outbox_state_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id))
    {
      GType type = g_enum_register_static (g_intern_static_string ("KpOutboxState"),
                                           outbox_state_values);
      g_once_init_leave (&type_id, type);
    }

  return type_id;
}

const char *
kp_outbox_state_to_string (KpOutboxState state)
{
  g_return_val_if_fail (state <= KP_OUTBOX_STATE_REFUSED, NULL);

  return outbox_state_values[state].value_nick;
}

/* --- KpOutboxItem ------------------------------------------------------- */

struct _KpOutboxItem
{
  GObject        parent_instance;

  char          *submission_id;
  char          *assignment_id;
  char          *answer;
  KpOutboxState  state;
  guint          status_code;
  char          *error_code;
  char          *reason;
  guint          attempts;
  gint64         next_attempt;
  gint64         created;
  gint64         updated;
};

G_DEFINE_FINAL_TYPE (KpOutboxItem, kp_outbox_item, G_TYPE_OBJECT)

enum {
  ITEM_PROP_0,
  ITEM_PROP_SUBMISSION_ID,
  ITEM_PROP_ASSIGNMENT_ID,
  ITEM_PROP_STATE,
  ITEM_PROP_STATUS_CODE,
  ITEM_PROP_ERROR_CODE,
  ITEM_PROP_REASON,
  ITEM_PROP_ATTEMPTS,
  ITEM_PROP_NEXT_ATTEMPT,
  ITEM_PROP_UPDATED,
  ITEM_N_PROPS
};

static GParamSpec *item_properties[ITEM_N_PROPS];

static void
kp_outbox_item_finalize (GObject *object)
{
  KpOutboxItem *self = (KpOutboxItem *)object;

  g_free (self->submission_id);
  g_free (self->assignment_id);
  g_free (self->answer);
  g_free (self->error_code);
  g_free (self->reason);

  G_OBJECT_CLASS (kp_outbox_item_parent_class)->finalize (object);
}

static void
kp_outbox_item_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  KpOutboxItem *self = KP_OUTBOX_ITEM (object);

  switch (prop_id)
    {
    case ITEM_PROP_SUBMISSION_ID:
      g_value_set_string (value, self->submission_id);
      break;
    case ITEM_PROP_ASSIGNMENT_ID:
      g_value_set_string (value, self->assignment_id);
      break;
    case ITEM_PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case ITEM_PROP_STATUS_CODE:
      g_value_set_uint (value, self->status_code);
      break;
    case ITEM_PROP_ERROR_CODE:
      g_value_set_string (value, self->error_code);
      break;
    case ITEM_PROP_REASON:
      g_value_set_string (value, self->reason);
      break;
    case ITEM_PROP_ATTEMPTS:
      g_value_set_uint (value, self->attempts);
      break;
    case ITEM_PROP_NEXT_ATTEMPT:
      g_value_set_int64 (value, self->next_attempt);
      break;
    case ITEM_PROP_UPDATED:
      g_value_set_int64 (value, self->updated);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_outbox_item_class_init (KpOutboxItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = kp_outbox_item_finalize;
  object_class->get_property = kp_outbox_item_get_property;

  item_properties[ITEM_PROP_SUBMISSION_ID] =
    g_param_spec_string ("submission-id", NULL, NULL, NULL, flags);
  item_properties[ITEM_PROP_ASSIGNMENT_ID] =
    g_param_spec_string ("assignment-id", NULL, NULL, NULL, flags);
  item_properties[ITEM_PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, KP_TYPE_OUTBOX_STATE, KP_OUTBOX_STATE_QUEUED, flags);
  item_properties[ITEM_PROP_STATUS_CODE] =
    g_param_spec_uint ("status-code", NULL, NULL, 0, 999, 0, flags);
  item_properties[ITEM_PROP_ERROR_CODE] =
    g_param_spec_string ("error-code", NULL, NULL, NULL, flags);
  item_properties[ITEM_PROP_REASON] =
    g_param_spec_string ("reason", NULL, NULL, NULL, flags);
  item_properties[ITEM_PROP_ATTEMPTS] =
    g_param_spec_uint ("attempts", NULL, NULL, 0, G_MAXUINT, 0, flags);
  item_properties[ITEM_PROP_NEXT_ATTEMPT] =
    g_param_spec_int64 ("next-attempt", NULL, NULL, 0, G_MAXINT64, 0, flags);
  item_properties[ITEM_PROP_UPDATED] =
    g_param_spec_int64 ("updated", NULL, NULL, 0, G_MAXINT64, 0, flags);

  g_object_class_install_properties (object_class, ITEM_N_PROPS, item_properties);
}

static void
kp_outbox_item_init (KpOutboxItem *self)
{
}

const char *
kp_outbox_item_get_submission_id (KpOutboxItem *self)
{
  g_return_val_if_fail (KP_IS_OUTBOX_ITEM (self), NULL);
  return self->submission_id;
}

const char *
kp_outbox_item_get_assignment_id (KpOutboxItem *self)
{
  g_return_val_if_fail (KP_IS_OUTBOX_ITEM (self), NULL);
  return self->assignment_id;
}

const char *
kp_outbox_item_get_answer (KpOutboxItem *self)
{
  g_return_val_if_fail (KP_IS_OUTBOX_ITEM (self), NULL);
  return self->answer;
}

KpOutboxState
kp_outbox_item_get_state (KpOutboxItem *self)
{
  g_return_val_if_fail (KP_IS_OUTBOX_ITEM (self), KP_OUTBOX_STATE_QUEUED);
  return self->state;
}

guint
kp_outbox_item_get_status_code (KpOutboxItem *self)
{
  g_return_val_if_fail (KP_IS_OUTBOX_ITEM (self), 0);
  return self->status_code;
}

const char *
kp_outbox_item_get_error_code (KpOutboxItem *self)
{
  g_return_val_if_fail (KP_IS_OUTBOX_ITEM (self), NULL);
  return self->error_code;
}

const char *
kp_outbox_item_get_reason (KpOutboxItem *self)
{
  g_return_val_if_fail (KP_IS_OUTBOX_ITEM (self), NULL);
  return self->reason;
}

guint
kp_outbox_item_get_attempts (KpOutboxItem *self)
{
  g_return_val_if_fail (KP_IS_OUTBOX_ITEM (self), 0);
  return self->attempts;
}

gint64
kp_outbox_item_get_next_attempt (KpOutboxItem *self)
{
  g_return_val_if_fail (KP_IS_OUTBOX_ITEM (self), 0);
  return self->next_attempt;
}

gint64
kp_outbox_item_get_created (KpOutboxItem *self)
{
  g_return_val_if_fail (KP_IS_OUTBOX_ITEM (self), 0);
  return self->created;
}

gint64
kp_outbox_item_get_updated (KpOutboxItem *self)
{
  g_return_val_if_fail (KP_IS_OUTBOX_ITEM (self), 0);
  return self->updated;
}

static void
set_string_notify (KpOutboxItem  *self,
                   char         **field,
                   const char    *value,
                   guint          prop)
{
  if (g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), item_properties[prop]);
}

void
kp_outbox_item_update_from (KpOutboxItem *self,
                            KpOutboxItem *other)
{
  g_return_if_fail (KP_IS_OUTBOX_ITEM (self));
  g_return_if_fail (KP_IS_OUTBOX_ITEM (other));
  g_return_if_fail (g_strcmp0 (self->submission_id, other->submission_id) == 0);

  g_object_freeze_notify (G_OBJECT (self));

  if (self->status_code != other->status_code)
    {
      self->status_code = other->status_code;
      g_object_notify_by_pspec (G_OBJECT (self), item_properties[ITEM_PROP_STATUS_CODE]);
    }
  set_string_notify (self, &self->error_code, other->error_code, ITEM_PROP_ERROR_CODE);
  set_string_notify (self, &self->reason, other->reason, ITEM_PROP_REASON);
  if (self->attempts != other->attempts)
    {
      self->attempts = other->attempts;
      g_object_notify_by_pspec (G_OBJECT (self), item_properties[ITEM_PROP_ATTEMPTS]);
    }
  if (self->next_attempt != other->next_attempt)
    {
      self->next_attempt = other->next_attempt;
      g_object_notify_by_pspec (G_OBJECT (self), item_properties[ITEM_PROP_NEXT_ATTEMPT]);
    }
  if (self->updated != other->updated)
    {
      self->updated = other->updated;
      g_object_notify_by_pspec (G_OBJECT (self), item_properties[ITEM_PROP_UPDATED]);
    }
  /* State last, so that a handler of notify::state sees the reason. */
  if (self->state != other->state)
    {
      self->state = other->state;
      g_object_notify_by_pspec (G_OBJECT (self), item_properties[ITEM_PROP_STATE]);
    }

  g_object_thaw_notify (G_OBJECT (self));
}

/* --- KpCachedAssignment ------------------------------------------------- */

KpCachedAssignment *
kp_cached_assignment_copy (const KpCachedAssignment *self)
{
  KpCachedAssignment *copy;

  g_return_val_if_fail (self != NULL, NULL);

  copy = g_new0 (KpCachedAssignment, 1);
  copy->assignment_id = g_strdup (self->assignment_id);
  copy->hit_id = g_strdup (self->hit_id);
  copy->hit_type_id = g_strdup (self->hit_type_id);
  copy->requester_id = g_strdup (self->requester_id);
  copy->title = g_strdup (self->title);
  copy->description = g_strdup (self->description);
  copy->reward = g_strdup (self->reward);
  copy->question_kind = g_strdup (self->question_kind);
  copy->question = g_strdup (self->question);
  copy->status = g_strdup (self->status);
  copy->accept_time = self->accept_time;
  copy->deadline = self->deadline;

  return copy;
}

void
kp_cached_assignment_free (KpCachedAssignment *self)
{
  if (self == NULL)
    return;

  g_free (self->assignment_id);
  g_free (self->hit_id);
  g_free (self->hit_type_id);
  g_free (self->requester_id);
  g_free (self->title);
  g_free (self->description);
  g_free (self->reward);
  g_free (self->question_kind);
  g_free (self->question);
  g_free (self->status);
  g_free (self);
}

G_DEFINE_BOXED_TYPE (KpCachedAssignment, kp_cached_assignment,
                     kp_cached_assignment_copy, kp_cached_assignment_free)

/* --- KpWorkerCache ------------------------------------------------------ */

struct _KpWorkerCache
{
  GObject  parent_instance;

  char    *path;
  char    *media_dir;
  sqlite3 *db;
};

G_DEFINE_FINAL_TYPE (KpWorkerCache, kp_worker_cache, G_TYPE_OBJECT)

static void
kp_worker_cache_finalize (GObject *object)
{
  KpWorkerCache *self = (KpWorkerCache *)object;

  if (self->db != NULL)
    sqlite3_close_v2 (self->db);
  g_free (self->path);
  g_free (self->media_dir);

  G_OBJECT_CLASS (kp_worker_cache_parent_class)->finalize (object);
}

static void
kp_worker_cache_class_init (KpWorkerCacheClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kp_worker_cache_finalize;
}

static void
kp_worker_cache_init (KpWorkerCache *self)
{
}

static gboolean
set_db_error (KpWorkerCache  *self,
              GError        **error)
{
  g_set_error (error, KP_WORKER_CACHE_ERROR, KP_WORKER_CACHE_ERROR_DATABASE,
               _("The worker cache “%s” cannot be used: %s"),
               self->path, sqlite3_errmsg (self->db));
  return FALSE;
}

static gboolean
exec (KpWorkerCache  *self,
      const char     *sql,
      GError        **error)
{
  if (sqlite3_exec (self->db, sql, NULL, NULL, NULL) != SQLITE_OK)
    return set_db_error (self, error);
  return TRUE;
}

static sqlite3_stmt *
prepare (KpWorkerCache  *self,
         const char     *sql,
         GError        **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      set_db_error (self, error);
      return NULL;
    }
  return stmt;
}

/* Runs a statement that returns no rows. */
static gboolean
step_done (KpWorkerCache  *self,
           sqlite3_stmt   *stmt,
           GError        **error)
{
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    return set_db_error (self, error);
  return TRUE;
}

static void
rollback (KpWorkerCache *self)
{
  if (!sqlite3_get_autocommit (self->db))
    sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
}

static const char *
column_text (sqlite3_stmt *stmt,
             int           column)
{
  return (const char *)sqlite3_column_text (stmt, column);
}

static gboolean
migrate (KpWorkerCache  *self,
         GError        **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int version;

  if (!exec (self, "BEGIN IMMEDIATE", error))
    return FALSE;

  stmt = prepare (self, "PRAGMA user_version", error);
  if (stmt == NULL || sqlite3_step (stmt) != SQLITE_ROW)
    {
      if (stmt != NULL)
        set_db_error (self, error);
      rollback (self);
      return FALSE;
    }
  version = sqlite3_column_int (stmt, 0);

  if (version > SCHEMA_VERSION)
    {
      rollback (self);
      g_set_error (error, KP_WORKER_CACHE_ERROR, KP_WORKER_CACHE_ERROR_VERSION,
                   _("The worker cache “%s” was written by a newer version of Kempelen"),
                   self->path);
      return FALSE;
    }

  if (version < 1)
    {
      if (!exec (self, schema_v1, error) ||
          !exec (self, "PRAGMA user_version = 1", error))
        {
          rollback (self);
          return FALSE;
        }
    }

  return exec (self, "COMMIT", error);
}

KpWorkerCache *
kp_worker_cache_open (const char  *path,
                      GError     **error)
{
  g_autoptr(KpWorkerCache) self = NULL;
  g_autofree char *dir = NULL;
  int rc;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (KP_TYPE_WORKER_CACHE, NULL);
  self->path = g_strdup (path);
  self->media_dir = g_strconcat (path, ".media", NULL);

  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0 ||
      g_mkdir_with_parents (self->media_dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   _("Cannot create the folder of the worker cache “%s”: %s"),
                   path, g_strerror (saved_errno));
      return NULL;
    }

  rc = sqlite3_open_v2 (path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL);
  if (rc != SQLITE_OK)
    {
      set_db_error (self, error);
      return NULL;
    }

  sqlite3_busy_timeout (self->db, BUSY_TIMEOUT_MS);

  if (!exec (self, "PRAGMA journal_mode = WAL", error) ||
      !exec (self, "PRAGMA synchronous = FULL", error) ||
      !exec (self, "PRAGMA foreign_keys = ON", error) ||
      !migrate (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

const char *
kp_worker_cache_get_path (KpWorkerCache *self)
{
  g_return_val_if_fail (KP_IS_WORKER_CACHE (self), NULL);
  return self->path;
}

const char *
kp_worker_cache_get_media_dir (KpWorkerCache *self)
{
  g_return_val_if_fail (KP_IS_WORKER_CACHE (self), NULL);
  return self->media_dir;
}

/* What a submission's state records after it entered the outbox need not
 * reach the disk at once: if a crash loses a "sending" or "accepted" mark,
 * the item is sent again and the server, which knows its submission id,
 * answers as the first time. So claims and results commit without a sync
 * (still atomic, in the WAL) and only enqueueing and drafts pay for one;
 * a later synced commit or checkpoint makes them durable. */
static gboolean
begin_relaxed (KpWorkerCache  *self,
               GError        **error)
{
  return exec (self, "PRAGMA synchronous = NORMAL", error) &&
         exec (self, "BEGIN IMMEDIATE", error);
}

static gboolean
commit_relaxed (KpWorkerCache  *self,
                GError        **error)
{
  return exec (self, "COMMIT", error) &&
         exec (self, "PRAGMA synchronous = FULL", error);
}

#define OUTBOX_COLUMNS \
  "submission_id, assignment_id, answer, state, status_code, error_code, reason," \
  " attempts, next_attempt, created, updated"

static KpOutboxItem *
item_from_row (sqlite3_stmt *stmt)
{
  KpOutboxItem *item = g_object_new (KP_TYPE_OUTBOX_ITEM, NULL);

  item->submission_id = g_strdup (column_text (stmt, 0));
  item->assignment_id = g_strdup (column_text (stmt, 1));
  item->answer = g_strdup (column_text (stmt, 2));
  item->state = sqlite3_column_int (stmt, 3);
  item->status_code = sqlite3_column_int (stmt, 4);
  item->error_code = g_strdup (column_text (stmt, 5));
  item->reason = g_strdup (column_text (stmt, 6));
  item->attempts = sqlite3_column_int (stmt, 7);
  item->next_attempt = sqlite3_column_int64 (stmt, 8);
  item->created = sqlite3_column_int64 (stmt, 9);
  item->updated = sqlite3_column_int64 (stmt, 10);

  return item;
}

/* --- assignments --- */

static void
bind_member (sqlite3_stmt *stmt,
             int           column,
             JsonObject   *object,
             const char   *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_STRING)
    sqlite3_bind_text (stmt, column, json_node_get_string (node), -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, column);
}

static gint64
int_member (JsonObject *object,
            const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_INT64)
    return json_node_get_int (node);
  return 0;
}

gboolean
kp_worker_cache_put_assignment (KpWorkerCache  *self,
                                JsonObject     *assignment,
                                GError        **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *hit_json = NULL;
  JsonObject *hit = NULL;
  const char *status;

  g_return_val_if_fail (KP_IS_WORKER_CACHE (self), FALSE);
  g_return_val_if_fail (assignment != NULL, FALSE);

  if (json_object_has_member (assignment, "hit") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (assignment, "hit")))
    hit = json_object_get_object_member (assignment, "hit");

  if (json_object_get_string_member_with_default (assignment, "assignment_id", NULL) == NULL ||
      json_object_get_string_member_with_default (assignment, "hit_id", NULL) == NULL)
    {
      g_set_error (error, KP_WORKER_CACHE_ERROR, KP_WORKER_CACHE_ERROR_INVALID,
                   _("The server’s assignment has no assignment or HIT id"));
      return FALSE;
    }

  if (hit != NULL)
    {
      g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), hit);

      hit_json = json_to_string (node, FALSE);
    }

  stmt = prepare (self,
                  "INSERT OR REPLACE INTO assignments (assignment_id, hit_id, hit_type_id,"
                  " requester_id, title, description, reward, question_kind, question, status,"
                  " accept_time, deadline, hit_json, stored)"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
                  error);
  if (stmt == NULL)
    return FALSE;

  status = json_object_get_string_member_with_default (assignment, "status", "Accepted");

  bind_member (stmt, 1, assignment, "assignment_id");
  bind_member (stmt, 2, assignment, "hit_id");
  bind_member (stmt, 3, json_object_has_member (assignment, "hit_type_id") ? assignment : hit, "hit_type_id");
  bind_member (stmt, 4, json_object_has_member (assignment, "requester_id") ? assignment : hit, "requester_id");
  bind_member (stmt, 5, json_object_has_member (assignment, "title") ? assignment : hit, "title");
  bind_member (stmt, 6, hit, "description");
  bind_member (stmt, 7, json_object_has_member (assignment, "reward") ? assignment : hit, "reward");
  bind_member (stmt, 8, hit, "question_kind");
  bind_member (stmt, 9, hit, "question");
  sqlite3_bind_text (stmt, 10, status, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 11, int_member (assignment, "accept_time"));
  sqlite3_bind_int64 (stmt, 12, int_member (assignment, "deadline"));
  if (hit_json != NULL)
    sqlite3_bind_text (stmt, 13, hit_json, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 14, g_get_real_time ());

  return step_done (self, stmt, error);
}

gboolean
kp_worker_cache_put_assignments (KpWorkerCache  *self,
                                 JsonObject    **assignments,
                                 guint           n,
                                 GError        **error)
{
  g_return_val_if_fail (KP_IS_WORKER_CACHE (self), FALSE);
  g_return_val_if_fail (assignments != NULL || n == 0, FALSE);

  if (!exec (self, "BEGIN IMMEDIATE", error))
    return FALSE;

  for (guint i = 0; i < n; i++)
    {
      JsonObject *hit = NULL;
      g_auto(GStrv) refs = NULL;
      const char *assignment_id;

      if (!kp_worker_cache_put_assignment (self, assignments[i], error))
        goto fail;

      assignment_id = json_object_get_string_member (assignments[i], "assignment_id");
      if (json_object_has_member (assignments[i], "hit") &&
          JSON_NODE_HOLDS_OBJECT (json_object_get_member (assignments[i], "hit")))
        hit = json_object_get_object_member (assignments[i], "hit");
      refs = kp_worker_cache_find_media_refs (
        hit != NULL ? json_object_get_string_member_with_default (hit, "question", NULL) : NULL);
      for (guint j = 0; refs[j] != NULL; j++)
        if (!kp_worker_cache_link_media (self, assignment_id, refs[j], error))
          goto fail;
    }

  if (!exec (self, "COMMIT", error))
    goto fail;
  return TRUE;

fail:
  rollback (self);
  return FALSE;
}

typedef gpointer (*RowFunc) (sqlite3_stmt *stmt);

/* The object of the row that sql (with key as ?1) finds; NULL with
 * *found FALSE when there is none, NULL with error set on failure. */
static gpointer
query_row (KpWorkerCache  *self,
           const char     *sql,
           const char     *key,
           RowFunc         func,
           gboolean       *found,
           GError        **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  *found = FALSE;
  stmt = prepare (self, sql, error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      *found = TRUE;
      return func (stmt);
    }
  if (rc != SQLITE_DONE)
    set_db_error (self, error);
  return NULL;
}

/* The objects of every row of sql, in order. */
static GPtrArray *
query_rows (KpWorkerCache   *self,
            const char      *sql,
            RowFunc          func,
            GDestroyNotify   free_func,
            GError         **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) list = NULL;
  int rc;

  stmt = prepare (self, sql, error);
  if (stmt == NULL)
    return NULL;

  list = g_ptr_array_new_with_free_func (free_func);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (list, func (stmt));
  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error);
      return NULL;
    }

  return g_steal_pointer (&list);
}

static KpCachedAssignment *
assignment_from_row (sqlite3_stmt *stmt)
{
  KpCachedAssignment *a = g_new0 (KpCachedAssignment, 1);

  a->assignment_id = g_strdup (column_text (stmt, 0));
  a->hit_id = g_strdup (column_text (stmt, 1));
  a->hit_type_id = g_strdup (column_text (stmt, 2));
  a->requester_id = g_strdup (column_text (stmt, 3));
  a->title = g_strdup (column_text (stmt, 4));
  a->description = g_strdup (column_text (stmt, 5));
  a->reward = g_strdup (column_text (stmt, 6));
  a->question_kind = g_strdup (column_text (stmt, 7));
  a->question = g_strdup (column_text (stmt, 8));
  a->status = g_strdup (column_text (stmt, 9));
  a->accept_time = sqlite3_column_int64 (stmt, 10);
  a->deadline = sqlite3_column_int64 (stmt, 11);

  return a;
}

#define ASSIGNMENT_COLUMNS \
  "assignment_id, hit_id, hit_type_id, requester_id, title, description, reward," \
  " question_kind, question, status, accept_time, deadline"

KpCachedAssignment *
kp_worker_cache_get_assignment (KpWorkerCache  *self,
                                const char     *assignment_id,
                                GError        **error)
{
  KpCachedAssignment *a;
  gboolean found;

  g_return_val_if_fail (KP_IS_WORKER_CACHE (self), NULL);
  g_return_val_if_fail (assignment_id != NULL, NULL);

  a = query_row (self, "SELECT " ASSIGNMENT_COLUMNS " FROM assignments WHERE assignment_id = ?1",
                 assignment_id, (RowFunc)assignment_from_row, &found, error);
  if (a == NULL && found == FALSE && error != NULL && *error == NULL)
    g_set_error (error, KP_WORKER_CACHE_ERROR, KP_WORKER_CACHE_ERROR_NOT_FOUND,
                 _("The assignment “%s” is not in the worker cache"), assignment_id);
  return a;
}

GPtrArray *
kp_worker_cache_list_assignments (KpWorkerCache  *self,
                                  GError        **error)
{
  g_return_val_if_fail (KP_IS_WORKER_CACHE (self), NULL);

  return query_rows (self, "SELECT " ASSIGNMENT_COLUMNS " FROM assignments"
                     " ORDER BY deadline, assignment_id",
                     (RowFunc)assignment_from_row, (GDestroyNotify)kp_cached_assignment_free, error);
}

gboolean
kp_worker_cache_set_assignment_status (KpWorkerCache  *self,
                                       const char     *assignment_id,
                                       const char     *status,
                                       GError        **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (KP_IS_WORKER_CACHE (self), FALSE);
  g_return_val_if_fail (assignment_id != NULL && status != NULL, FALSE);

  stmt = prepare (self, "UPDATE assignments SET status = ?2 WHERE assignment_id = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, assignment_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, status, -1, SQLITE_STATIC);
  if (!step_done (self, stmt, error))
    return FALSE;

  if (sqlite3_changes (self->db) == 0)
    {
      g_set_error (error, KP_WORKER_CACHE_ERROR, KP_WORKER_CACHE_ERROR_NOT_FOUND,
                   _("The assignment “%s” is not in the worker cache"), assignment_id);
      return FALSE;
    }
  return TRUE;
}

/* --- drafts --- */

static gboolean
check_json (const char  *text,
            GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;

  if (!json_parser_load_from_data (parser, text, -1, &local_error))
    {
      g_set_error (error, KP_WORKER_CACHE_ERROR, KP_WORKER_CACHE_ERROR_INVALID,
                   _("The answer is not valid JSON: %s"), local_error->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
kp_worker_cache_save_draft (KpWorkerCache  *self,
                            const char     *assignment_id,
                            const char     *answer_json,
                            GError        **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (KP_IS_WORKER_CACHE (self), FALSE);
  g_return_val_if_fail (assignment_id != NULL, FALSE);
  g_return_val_if_fail (answer_json != NULL, FALSE);

  stmt = prepare (self,
                  "INSERT INTO drafts (assignment_id, answer, updated) VALUES (?1, ?2, ?3)"
                  " ON CONFLICT (assignment_id) DO UPDATE SET answer = excluded.answer,"
                  " updated = excluded.updated",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, assignment_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, answer_json, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, g_get_real_time ());

  return step_done (self, stmt, error);
}

char *
kp_worker_cache_dup_draft (KpWorkerCache  *self,
                           const char     *assignment_id,
                           GError        **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (KP_IS_WORKER_CACHE (self), NULL);
  g_return_val_if_fail (assignment_id != NULL, NULL);

  stmt = prepare (self, "SELECT answer FROM drafts WHERE assignment_id = ?1", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, assignment_id, -1, SQLITE_STATIC);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return g_strdup (column_text (stmt, 0));
  if (rc == SQLITE_DONE)
    g_set_error (error, KP_WORKER_CACHE_ERROR, KP_WORKER_CACHE_ERROR_NOT_FOUND,
                 _("There is no draft for the assignment “%s”"), assignment_id);
  else
    set_db_error (self, error);
  return NULL;
}

char *
kp_worker_cache_export_refused (KpWorkerCache  *self,
                                GError        **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  int rc;

  g_return_val_if_fail (KP_IS_WORKER_CACHE (self), NULL);

  stmt = prepare (self,
                  "SELECT d.assignment_id, a.hit_id, a.title, d.answer, d.reason, d.error_code,"
                  " d.updated FROM drafts d LEFT JOIN assignments a USING (assignment_id)"
                  " WHERE d.refused ORDER BY d.updated, d.assignment_id",
                  error);
  if (stmt == NULL)
    return NULL;

  json_builder_begin_array (builder);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      const char *answer = column_text (stmt, 3);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "assignment_id");
      json_builder_add_string_value (builder, column_text (stmt, 0));
      json_builder_set_member_name (builder, "hit_id");
      json_builder_add_string_value (builder, column_text (stmt, 1));
      json_builder_set_member_name (builder, "title");
      json_builder_add_string_value (builder, column_text (stmt, 2));
      json_builder_set_member_name (builder, "answer");
      if (json_parser_load_from_data (parser, answer, -1, NULL) &&
          json_parser_get_root (parser) != NULL)
        json_builder_add_value (builder, json_node_copy (json_parser_get_root (parser)));
      else
        json_builder_add_string_value (builder, answer);
      json_builder_set_member_name (builder, "reason");
      json_builder_add_string_value (builder, column_text (stmt, 4));
      json_builder_set_member_name (builder, "error");
      json_builder_add_string_value (builder, column_text (stmt, 5));
      json_builder_set_member_name (builder, "updated");
      json_builder_add_int_value (builder, sqlite3_column_int64 (stmt, 6) / G_USEC_PER_SEC);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error);
      return NULL;
    }

  root = json_builder_get_root (builder);
  return json_to_string (root, TRUE);
}

/* --- the outbox --- */

/* One submission into the outbox, inside the caller's transaction. */
static char *
enqueue_one (KpWorkerCache  *self,
             const char     *assignment_id,
             const char     *answer_json,
             const char     *submission_id,
             GError        **error)
{
  g_autoptr(sqlite3_stmt) check = NULL;
  g_autoptr(sqlite3_stmt) insert = NULL;
  g_autoptr(sqlite3_stmt) draft = NULL;
  g_autoptr(sqlite3_stmt) status = NULL;
  g_autofree char *id = NULL;
  gint64 now = g_get_real_time ();
  int rc;

  if (!check_json (answer_json, error))
    return NULL;

  id = submission_id != NULL ? g_strdup (submission_id) : g_uuid_string_random ();

  check = prepare (self, "SELECT submission_id FROM outbox WHERE assignment_id = ?1"
                   " AND state <> 3", error);
  if (check == NULL)
    return NULL;
  sqlite3_bind_text (check, 1, assignment_id, -1, SQLITE_STATIC);
  rc = sqlite3_step (check);
  if (rc == SQLITE_ROW)
    {
      g_set_error (error, KP_WORKER_CACHE_ERROR, KP_WORKER_CACHE_ERROR_EXISTS,
                   _("The assignment “%s” was already submitted"), assignment_id);
      return NULL;
    }
  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error);
      return NULL;
    }

  insert = prepare (self, "INSERT INTO outbox (submission_id, assignment_id, answer, state,"
                    " created, updated) VALUES (?1, ?2, ?3, 0, ?4, ?4)", error);
  if (insert == NULL)
    return NULL;
  sqlite3_bind_text (insert, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (insert, 2, assignment_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (insert, 3, answer_json, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (insert, 4, now);
  if (sqlite3_step (insert) != SQLITE_DONE)
    {
      if (sqlite3_extended_errcode (self->db) == SQLITE_CONSTRAINT_UNIQUE)
        g_set_error (error, KP_WORKER_CACHE_ERROR, KP_WORKER_CACHE_ERROR_EXISTS,
                     _("The submission “%s” is already in the outbox"), id);
      else
        set_db_error (self, error);
      return NULL;
    }

  /* The submitted answer is the draft too: it stays when the server
   * refuses the submission, and a new submission can start from it. */
  draft = prepare (self,
                   "INSERT INTO drafts (assignment_id, answer, updated) VALUES (?1, ?2, ?3)"
                   " ON CONFLICT (assignment_id) DO UPDATE SET answer = excluded.answer,"
                   " updated = excluded.updated, refused = 0, error_code = NULL, reason = NULL",
                   error);
  if (draft == NULL)
    return NULL;
  sqlite3_bind_text (draft, 1, assignment_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (draft, 2, answer_json, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (draft, 3, now);
  if (!step_done (self, draft, error))
    return NULL;

  status = prepare (self, "UPDATE assignments SET status = 'Submitted' WHERE assignment_id = ?1",
                    error);
  if (status == NULL)
    return NULL;
  sqlite3_bind_text (status, 1, assignment_id, -1, SQLITE_STATIC);
  if (!step_done (self, status, error))
    return NULL;

  return g_steal_pointer (&id);
}

char *
kp_worker_cache_enqueue (KpWorkerCache  *self,
                         const char     *assignment_id,
                         const char     *answer_json,
                         const char     *submission_id,
                         GError        **error)
{
  g_autofree char *id = NULL;

  g_return_val_if_fail (KP_IS_WORKER_CACHE (self), NULL);
  g_return_val_if_fail (assignment_id != NULL, NULL);
  g_return_val_if_fail (answer_json != NULL, NULL);

  if (!exec (self, "BEGIN IMMEDIATE", error))
    return NULL;
  id = enqueue_one (self, assignment_id, answer_json, submission_id, error);
  if (id == NULL || !exec (self, "COMMIT", error))
    {
      rollback (self);
      return NULL;
    }
  return g_steal_pointer (&id);
}

GStrv
kp_worker_cache_enqueue_many (KpWorkerCache       *self,
                              guint                n,
                              const char * const  *assignment_ids,
                              const char * const  *answers_json,
                              GError             **error)
{
  g_autoptr(GStrvBuilder) ids = g_strv_builder_new ();

  g_return_val_if_fail (KP_IS_WORKER_CACHE (self), NULL);
  g_return_val_if_fail (n == 0 || (assignment_ids != NULL && answers_json != NULL), NULL);

  if (!exec (self, "BEGIN IMMEDIATE", error))
    return NULL;
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = enqueue_one (self, assignment_ids[i], answers_json[i], NULL, error);

      if (id == NULL)
        {
          rollback (self);
          return NULL;
        }
      g_strv_builder_add (ids, id);
    }
  if (!exec (self, "COMMIT", error))
    {
      rollback (self);
      return NULL;
    }
  return g_strv_builder_end (ids);
}

GPtrArray *
kp_worker_cache_claim_batch (KpWorkerCache  *self,
                             guint           max_items,
                             gint64          now,
                             GError        **error)
{
  g_autoptr(sqlite3_stmt) select = NULL;
  g_autoptr(sqlite3_stmt) update = NULL;
  g_autoptr(GPtrArray) items = NULL;
  gint64 stamp = g_get_real_time ();
  int rc;

  g_return_val_if_fail (KP_IS_WORKER_CACHE (self), NULL);

  items = g_ptr_array_new_with_free_func (g_object_unref);
  if (max_items == 0)
    return g_steal_pointer (&items);

  if (!begin_relaxed (self, error))
    return NULL;

  select = prepare (self, "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE state = 0"
                    " AND next_attempt <= ?1 ORDER BY state, next_attempt, seq LIMIT ?2", error);
  update = prepare (self, "UPDATE outbox SET state = 1, attempts = attempts + 1, updated = ?2"
                    " WHERE submission_id = ?1", error);
  if (select == NULL || update == NULL)
    goto fail;

  sqlite3_bind_int64 (select, 1, now);
  sqlite3_bind_int (select, 2, MIN (max_items, G_MAXINT));
  while ((rc = sqlite3_step (select)) == SQLITE_ROW)
    {
      KpOutboxItem *item = item_from_row (select);

      item->state = KP_OUTBOX_STATE_SENDING;
      item->attempts++;
      item->updated = stamp;
      g_ptr_array_add (items, item);
    }
  if (rc != SQLITE_DONE)
    {
      set_db_error (self, error);
      goto fail;
    }

  for (guint i = 0; i < items->len; i++)
    {
      KpOutboxItem *item = g_ptr_array_index (items, i);

      sqlite3_reset (update);
      sqlite3_bind_text (update, 1, item->submission_id, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (update, 2, stamp);
      if (!step_done (self, update, error))
        goto fail;
    }

  if (!commit_relaxed (self, error))
    goto fail;

  return g_steal_pointer (&items);

fail:
  rollback (self);
  exec (self, "PRAGMA synchronous = FULL", NULL);
  return NULL;
}

gboolean
kp_worker_cache_finish_items (KpWorkerCache         *self,
                              const KpOutboxResult  *results,
                              guint                  n_results,
                              GError               **error)
{
  g_autoptr(sqlite3_stmt) update = NULL;
  g_autoptr(sqlite3_stmt) refuse_draft = NULL;
  g_autoptr(sqlite3_stmt) refuse_assignment = NULL;
  gint64 now = g_get_real_time ();

  g_return_val_if_fail (KP_IS_WORKER_CACHE (self), FALSE);
  g_return_val_if_fail (results != NULL || n_results == 0, FALSE);

  if (n_results == 0)
    return TRUE;

  if (!begin_relaxed (self, error))
    return FALSE;

  update = prepare (self, "UPDATE outbox SET state = ?2, status_code = ?3, error_code = ?4,"
                    " reason = ?5, response = coalesce (?6, response), next_attempt = ?7,"
                    " updated = ?8 WHERE submission_id = ?1", error);
  refuse_draft = prepare (self,
                          "INSERT INTO drafts (assignment_id, answer, refused, error_code, reason,"
                          " updated) SELECT assignment_id, answer, 1, ?2, ?3, ?4 FROM outbox"
                          " WHERE submission_id = ?1 ON CONFLICT (assignment_id) DO UPDATE SET"
                          " refused = 1, error_code = excluded.error_code,"
                          " reason = excluded.reason, updated = excluded.updated",
                          error);
  refuse_assignment = prepare (self, "UPDATE assignments SET status = 'Refused' WHERE"
                               " assignment_id = (SELECT assignment_id FROM outbox"
                               " WHERE submission_id = ?1)", error);
  if (update == NULL || refuse_draft == NULL || refuse_assignment == NULL)
    goto fail;

  for (guint i = 0; i < n_results; i++)
    {
      const KpOutboxResult *r = &results[i];
      KpOutboxState state;

      switch (r->kind)
        {
        case KP_OUTBOX_RESULT_ACCEPTED:
          state = KP_OUTBOX_STATE_ACCEPTED;
          break;
        case KP_OUTBOX_RESULT_REFUSED:
          state = KP_OUTBOX_STATE_REFUSED;
          break;
        case KP_OUTBOX_RESULT_RETRY:
        default:
          state = KP_OUTBOX_STATE_QUEUED;
          break;
        }

      sqlite3_reset (update);
      sqlite3_bind_text (update, 1, r->submission_id, -1, SQLITE_STATIC);
      sqlite3_bind_int (update, 2, state);
      sqlite3_bind_int (update, 3, r->status_code);
      sqlite3_bind_text (update, 4, r->error_code, -1, SQLITE_STATIC);
      sqlite3_bind_text (update, 5, r->reason, -1, SQLITE_STATIC);
      sqlite3_bind_text (update, 6, r->response, -1, SQLITE_STATIC);
      sqlite3_bind_int64 (update, 7, state == KP_OUTBOX_STATE_QUEUED ? r->next_attempt : 0);
      sqlite3_bind_int64 (update, 8, now);
      if (!step_done (self, update, error))
        goto fail;

      if (state == KP_OUTBOX_STATE_REFUSED)
        {
          sqlite3_reset (refuse_draft);
          sqlite3_bind_text (refuse_draft, 1, r->submission_id, -1, SQLITE_STATIC);
          sqlite3_bind_text (refuse_draft, 2, r->error_code, -1, SQLITE_STATIC);
          sqlite3_bind_text (refuse_draft, 3, r->reason, -1, SQLITE_STATIC);
          sqlite3_bind_int64 (refuse_draft, 4, now);
          if (!step_done (self, refuse_draft, error))
            goto fail;

          sqlite3_reset (refuse_assignment);
          sqlite3_bind_text (refuse_assignment, 1, r->submission_id, -1, SQLITE_STATIC);
          if (!step_done (self, refuse_assignment, error))
            goto fail;
        }
    }

  if (!commit_relaxed (self, error))
    goto fail;
  return TRUE;

fail:
  rollback (self);
  exec (self, "PRAGMA synchronous = FULL", NULL);
  return FALSE;
}

int
kp_worker_cache_requeue_sending (KpWorkerCache  *self,
                                 GError        **error)
{
  g_return_val_if_fail (KP_IS_WORKER_CACHE (self), -1);

  if (!exec (self, "UPDATE outbox SET state = 0 WHERE state = 1", error))
    return -1;
  return sqlite3_changes (self->db);
}

gint64
kp_worker_cache_get_next_due (KpWorkerCache  *self,
                              GError        **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (KP_IS_WORKER_CACHE (self), -1);

  stmt = prepare (self, "SELECT min (next_attempt) FROM outbox WHERE state = 0", error);
  if (stmt == NULL)
    return -1;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      set_db_error (self, error);
      return -1;
    }
  if (sqlite3_column_type (stmt, 0) == SQLITE_NULL)
    return -1;
  return sqlite3_column_int64 (stmt, 0);
}

gboolean
kp_worker_cache_count_outbox (KpWorkerCache  *self,
                              guint           counts[4],
                              GError        **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (KP_IS_WORKER_CACHE (self), FALSE);

  memset (counts, 0, 4 * sizeof (guint));
  stmt = prepare (self, "SELECT state, count (*) FROM outbox GROUP BY state", error);
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      int state = sqlite3_column_int (stmt, 0);

      if (state >= 0 && state < 4)
        counts[state] = sqlite3_column_int (stmt, 1);
    }
  if (rc != SQLITE_DONE)
    return set_db_error (self, error);
  return TRUE;
}

KpOutboxItem *
kp_worker_cache_get_outbox_item (KpWorkerCache  *self,
                                 const char     *submission_id,
                                 GError        **error)
{
  KpOutboxItem *item;
  gboolean found;

  g_return_val_if_fail (KP_IS_WORKER_CACHE (self), NULL);
  g_return_val_if_fail (submission_id != NULL, NULL);

  item = query_row (self, "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE submission_id = ?1",
                    submission_id, (RowFunc)item_from_row, &found, error);
  if (item == NULL && found == FALSE && error != NULL && *error == NULL)
    g_set_error (error, KP_WORKER_CACHE_ERROR, KP_WORKER_CACHE_ERROR_NOT_FOUND,
                 _("The submission “%s” is not in the outbox"), submission_id);
  return item;
}

GPtrArray *
kp_worker_cache_list_outbox (KpWorkerCache  *self,
                             GError        **error)
{
  g_return_val_if_fail (KP_IS_WORKER_CACHE (self), NULL);

  return query_rows (self, "SELECT " OUTBOX_COLUMNS " FROM outbox ORDER BY seq",
                     (RowFunc)item_from_row, g_object_unref, error);
}

GPtrArray *
kp_worker_cache_get_outbox_items (KpWorkerCache       *self,
                                  const char * const  *submission_ids,
                                  GError             **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GPtrArray) items = NULL;

  g_return_val_if_fail (KP_IS_WORKER_CACHE (self), NULL);
  g_return_val_if_fail (submission_ids != NULL, NULL);

  stmt = prepare (self, "SELECT " OUTBOX_COLUMNS " FROM outbox WHERE submission_id = ?1", error);
  if (stmt == NULL)
    return NULL;
  items = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; submission_ids[i] != NULL; i++)
    {
      int rc;

      sqlite3_reset (stmt);
      sqlite3_bind_text (stmt, 1, submission_ids[i], -1, SQLITE_STATIC);
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        g_ptr_array_add (items, item_from_row (stmt));
      else if (rc != SQLITE_DONE)
        {
          set_db_error (self, error);
          return NULL;
        }
    }
  return g_steal_pointer (&items);
}

/* --- media --- */

static gboolean
is_sha256 (const char *text)
{
  if (text == NULL || strlen (text) != 64)
    return FALSE;
  for (guint i = 0; i < 64; i++)
    if (!g_ascii_isxdigit (text[i]) || g_ascii_isupper (text[i]))
      return FALSE;
  return TRUE;
}

char *
kp_worker_cache_dup_media_path (KpWorkerCache *self,
                                const char    *sha256)
{
  char prefix[3];

  g_return_val_if_fail (KP_IS_WORKER_CACHE (self), NULL);
  g_return_val_if_fail (is_sha256 (sha256), NULL);

  prefix[0] = sha256[0];
  prefix[1] = sha256[1];
  prefix[2] = '\0';
  return g_build_filename (self->media_dir, prefix, sha256, NULL);
}

gboolean
kp_worker_cache_put_media (KpWorkerCache  *self,
                           const char     *sha256,
                           const char     *content_type,
                           guint64         size,
                           gboolean        verified,
                           GError        **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (KP_IS_WORKER_CACHE (self), FALSE);
  g_return_val_if_fail (is_sha256 (sha256), FALSE);

  stmt = prepare (self, "INSERT OR REPLACE INTO media (sha256, content_type, size, verified,"
                  " stored) VALUES (?1, ?2, ?3, ?4, ?5)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, sha256, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, content_type, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 3, (sqlite3_int64)size);
  sqlite3_bind_int (stmt, 4, verified ? 1 : 0);
  sqlite3_bind_int64 (stmt, 5, g_get_real_time ());

  /* A media row need not reach the disk at once (a sync per file was most
   * of a prefetch's time): if a crash loses it, the file is downloaded
   * again; a row whose file did not survive fails the size check of
   * kp_worker_cache_lookup_media(). */
  if (!begin_relaxed (self, error))
    return FALSE;
  if (!step_done (self, stmt, error))
    {
      exec (self, "ROLLBACK", NULL);
      exec (self, "PRAGMA synchronous = FULL", NULL);
      return FALSE;
    }
  return commit_relaxed (self, error);
}

gboolean
kp_worker_cache_lookup_media (KpWorkerCache  *self,
                              const char     *sha256,
                              char          **path,
                              guint64        *size)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *file = NULL;
  GStatBuf st;
  guint64 stored_size;

  g_return_val_if_fail (KP_IS_WORKER_CACHE (self), FALSE);

  if (!is_sha256 (sha256))
    return FALSE;

  stmt = prepare (self, "SELECT size FROM media WHERE sha256 = ?1 AND verified", NULL);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, sha256, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return FALSE;
  stored_size = sqlite3_column_int64 (stmt, 0);

  /* A file that went away or changed size is not the verified one. */
  file = kp_worker_cache_dup_media_path (self, sha256);
  if (g_stat (file, &st) != 0 || (guint64)st.st_size != stored_size)
    return FALSE;

  if (path != NULL)
    *path = g_steal_pointer (&file);
  if (size != NULL)
    *size = stored_size;
  return TRUE;
}

gboolean
kp_worker_cache_link_media (KpWorkerCache  *self,
                            const char     *assignment_id,
                            const char     *sha256,
                            GError        **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (KP_IS_WORKER_CACHE (self), FALSE);

  stmt = prepare (self, "INSERT OR IGNORE INTO assignment_media (assignment_id, sha256)"
                  " VALUES (?1, ?2)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, assignment_id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, sha256, -1, SQLITE_STATIC);
  return step_done (self, stmt, error);
}

GStrv
kp_worker_cache_find_media_refs (const char *question)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *p;

  if (question == NULL)
    return g_strv_builder_end (builder);

  p = question;
  while (*p != '\0')
    {
      gsize run = 0;

      while (p[run] != '\0' && g_ascii_isxdigit (p[run]) && !g_ascii_isupper (p[run]))
        run++;

      if (run == 64 && !g_ascii_isalnum (p[run]) && (p == question || !g_ascii_isalnum (p[-1])))
        {
          char *hash = g_strndup (p, 64);

          if (g_hash_table_add (seen, hash))
            g_strv_builder_add (builder, hash);
        }

      p += run > 0 ? run : 1;
    }

  return g_strv_builder_end (builder);
}
