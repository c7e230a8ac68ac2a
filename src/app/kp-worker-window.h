/* kp-worker-window.h: the worker's window (accounts, marketplace, work,
 * outbox, earnings)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "kp-accounts.h"

G_BEGIN_DECLS

#define KP_TYPE_WORKER_WINDOW (kp_worker_window_get_type ())
G_DECLARE_FINAL_TYPE (KpWorkerWindow, kp_worker_window, KP, WORKER_WINDOW, AdwApplicationWindow)

/* store: the worker's accounts, or NULL for the user's own (loaded
 * asynchronously). The window makes the first account active.
 *
 * Signal "hit-shown" (const char *assignment_id): a HIT was put on
 * screen in the work view. */
KpWorkerWindow *kp_worker_window_new               (GtkApplication *application,
                                                    KpAccountStore *store);
KpAccountStore *kp_worker_window_get_account_store (KpWorkerWindow *self);
/* The active account, or NULL. */
KpAccount      *kp_worker_window_get_account       (KpWorkerWindow *self);
/* Fills the "add account" form from a kempelen://join link and shows it;
 * FALSE, with a toast, for a link that is not one. */
gboolean        kp_worker_window_open_join_link    (KpWorkerWindow *self,
                                                    const char     *link);

G_END_DECLS
