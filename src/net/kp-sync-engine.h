/* kp-sync-engine.h: drains a worker's outbox to the server, on its own thread
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "kp-core.h"

G_BEGIN_DECLS

typedef enum
{
  KP_SYNC_STATE_IDLE,      /* nothing to send now */
  KP_SYNC_STATE_SYNCING,   /* batches are on their way */
  KP_SYNC_STATE_WAITING,   /* the last attempt failed: waiting to retry (see last-error) */
  KP_SYNC_STATE_OFFLINE,   /* GNetworkMonitor reports no network */
  KP_SYNC_STATE_PAUSED,    /* work-offline is set */
} KpSyncState;

#define KP_TYPE_SYNC_STATE (kp_sync_state_get_type ())
GType kp_sync_state_get_type (void) G_GNUC_CONST;

#define KP_TYPE_SYNC_ENGINE (kp_sync_engine_get_type ())
G_DECLARE_FINAL_TYPE (KpSyncEngine, kp_sync_engine, KP, SYNC_ENGINE, GObject)

/* The engine works for one account: its cache file, server and token. It
 * owns a thread with its own main context that does every network and
 * SQLite operation; properties, signals and async results arrive on the
 * thread-default main context of the caller of kp_sync_engine_new(). The
 * thread starts with kp_sync_engine_start(); dispose stops it. */
KpSyncEngine  *kp_sync_engine_new                (const char           *cache_path,
                                                  const char           *server_url,
                                                  const char           *token) G_GNUC_WARN_UNUSED_RESULT;
void           kp_sync_engine_start              (KpSyncEngine         *self);

const char    *kp_sync_engine_get_cache_path     (KpSyncEngine         *self);
const char    *kp_sync_engine_get_server_url     (KpSyncEngine         *self);
KpSyncState    kp_sync_engine_get_state          (KpSyncEngine         *self);
/* The message of the last failed attempt while WAITING, else NULL. */
const char    *kp_sync_engine_get_last_error     (KpSyncEngine         *self);
gboolean       kp_sync_engine_get_work_offline   (KpSyncEngine         *self);
void           kp_sync_engine_set_work_offline   (KpSyncEngine         *self,
                                                  gboolean              work_offline);
/* What the network monitor reports. A server on the loopback needs no
 * network: it is synced even when this is FALSE. */
gboolean       kp_sync_engine_get_network_available (KpSyncEngine      *self);
/* Replaces g_network_monitor_get_default() (tests, or another monitor). */
void           kp_sync_engine_set_network_monitor (KpSyncEngine        *self,
                                                  GNetworkMonitor      *monitor);
guint          kp_sync_engine_get_n_queued       (KpSyncEngine         *self);
guint          kp_sync_engine_get_n_sending      (KpSyncEngine         *self);
guint          kp_sync_engine_get_n_accepted     (KpSyncEngine         *self);
guint          kp_sync_engine_get_n_refused      (KpSyncEngine         *self);
/* Every submission of the outbox (KpOutboxItem), oldest first; items are
 * updated in place (notify::state) as the server answers. Filled once the
 * thread has read the cache ("loaded" property). */
GListModel    *kp_sync_engine_get_outbox         (KpSyncEngine         *self);
gboolean       kp_sync_engine_get_loaded         (KpSyncEngine         *self);

/* Tuning, before kp_sync_engine_start(): items per POST /sync (1–100,
 * default 100), requests in flight at once (default 2), and the back-off
 * after a failure: base (default 1000 ms), doubled per failure with
 * jitter, up to max (default 300000 ms). */
void           kp_sync_engine_set_batch_size     (KpSyncEngine         *self,
                                                  guint                 batch_size);
void           kp_sync_engine_set_max_in_flight  (KpSyncEngine         *self,
                                                  guint                 max_in_flight);
void           kp_sync_engine_set_retry_delays   (KpSyncEngine         *self,
                                                  guint                 base_ms,
                                                  guint                 max_ms);

/* Sends what is queued now, forgetting the back-off (a "Retry now" button). */
void           kp_sync_engine_sync_now           (KpSyncEngine         *self);

/* Puts a submission of answers_json (a JSON array of answers) for
 * assignment_id into the outbox; finishes with its submission id. */
void           kp_sync_engine_submit_async       (KpSyncEngine         *self,
                                                  const char           *assignment_id,
                                                  const char           *answers_json,
                                                  GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
char          *kp_sync_engine_submit_finish      (KpSyncEngine         *self,
                                                  GAsyncResult         *result,
                                                  GError              **error) G_GNUC_WARN_UNUSED_RESULT;

/* Saves the draft of an assignment (cheap: call it on every edit). */
void           kp_sync_engine_save_draft_async   (KpSyncEngine         *self,
                                                  const char           *assignment_id,
                                                  const char           *answer_json,
                                                  GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
gboolean       kp_sync_engine_save_draft_finish  (KpSyncEngine         *self,
                                                  GAsyncResult         *result,
                                                  GError              **error);

/* The accepted assignments in the cache (KpCachedAssignment), soonest
 * deadline first: what the worker can work on, also offline. */
void           kp_sync_engine_list_assignments_async  (KpSyncEngine   *self,
                                                  GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
GPtrArray     *kp_sync_engine_list_assignments_finish (KpSyncEngine   *self,
                                                  GAsyncResult         *result,
                                                  GError              **error) G_GNUC_WARN_UNUSED_RESULT;
/* The saved draft of an assignment (NOT_FOUND of KP_WORKER_CACHE_ERROR
 * when there is none). */
void           kp_sync_engine_load_draft_async   (KpSyncEngine         *self,
                                                  const char           *assignment_id,
                                                  GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
char          *kp_sync_engine_load_draft_finish  (KpSyncEngine         *self,
                                                  GAsyncResult         *result,
                                                  GError              **error) G_GNUC_WARN_UNUSED_RESULT;
/* Returns an accepted HIT to the server (needs the network); the cache
 * marks it "Returned". */
void           kp_sync_engine_return_async       (KpSyncEngine         *self,
                                                  const char           *assignment_id,
                                                  GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
gboolean       kp_sync_engine_return_finish      (KpSyncEngine         *self,
                                                  GAsyncResult         *result,
                                                  GError              **error);

/* Takes work offline: accepts up to n HITs of the group hit_type_id
 * (fewer if the group runs out), stores them in the cache and downloads
 * the media their questions refer to, several at a time, each checked
 * against its SHA-256. Progress comes as "take-offline-progress".
 * Finishes with the ids of the accepted assignments; fails when nothing
 * could be accepted or a media file could not be downloaded (what was
 * accepted stays in the cache). */
void           kp_sync_engine_take_offline_async (KpSyncEngine         *self,
                                                  const char           *hit_type_id,
                                                  guint                 n,
                                                  GCancellable         *cancellable,
                                                  GAsyncReadyCallback   callback,
                                                  gpointer              user_data);
GStrv          kp_sync_engine_take_offline_finish (KpSyncEngine        *self,
                                                  GAsyncResult         *result,
                                                  GError              **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
