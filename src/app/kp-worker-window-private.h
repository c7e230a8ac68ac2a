/* kp-worker-window-private.h: what tests look at inside KpWorkerWindow
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "kp-layout-view.h"
#include "kp-sync-engine.h"
#include "kp-worker-client.h"
#include "kp-worker-window.h"

G_BEGIN_DECLS

/* The engine and client of the active account, once its token was read. */
KpSyncEngine   *_kp_worker_window_get_sync_engine  (KpWorkerWindow *self);
KpWorkerClient *_kp_worker_window_get_client       (KpWorkerWindow *self);
/* The marketplace (KpWorkerGroup) and its selection. */
GListModel     *_kp_worker_window_get_groups       (KpWorkerWindow *self);
GtkSingleSelection *_kp_worker_window_get_group_selection (KpWorkerWindow *self);
/* TRUE while the marketplace is being fetched. */
gboolean        _kp_worker_window_get_loading_groups (KpWorkerWindow *self);
KpLayoutView   *_kp_worker_window_get_layout_view  (KpWorkerWindow *self);
/* The assignment on screen, or NULL. */
const char     *_kp_worker_window_get_current_assignment (KpWorkerWindow *self);
/* The assignment prepared to come next, or NULL. */
const char     *_kp_worker_window_get_next_assignment (KpWorkerWindow *self);
/* Assignments taken offline and not worked yet (not counting the
 * current and next ones). */
guint           _kp_worker_window_get_n_waiting    (KpWorkerWindow *self);
/* A named part of the window: "server-row", "token-row",
 * "tokens-warning", "account-list", "add-button", "search-entry",
 * "sort-dropdown", "standing-dropdown", "group-view", "offline-spin",
 * "offline-progress", "offline-cancel", "work-title", "work-deadline",
 * "outbox-list", "offline-switch", "network-row", "earnings-list",
 * "feedback-list", "qualification-list", "stack". */
GtkWidget      *_kp_worker_window_get_part         (KpWorkerWindow *self,
                                                    const char     *name);
/* The text of the outbox row of an assignment, or NULL. */
char           *_kp_worker_window_dup_outbox_text  (KpWorkerWindow *self,
                                                    const char     *assignment_id);

G_END_DECLS
