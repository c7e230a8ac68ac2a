/* kp-worker-group.h: one HIT group of the marketplace, for list widgets
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define KP_TYPE_WORKER_GROUP (kp_worker_group_get_type ())
G_DECLARE_FINAL_TYPE (KpWorkerGroup, kp_worker_group, KP, WORKER_GROUP, GObject)

/* Wraps one entry of GET /groups (docs/worker-api.md). */
KpWorkerGroup *kp_worker_group_new                  (JsonObject    *object) G_GNUC_WARN_UNUSED_RESULT;

JsonObject    *kp_worker_group_get_object           (KpWorkerGroup *self);
const char    *kp_worker_group_get_hit_type_id      (KpWorkerGroup *self);
const char    *kp_worker_group_get_title            (KpWorkerGroup *self);
/* The requester's name, or their id when they have none. */
const char    *kp_worker_group_get_requester        (KpWorkerGroup *self);
const char    *kp_worker_group_get_reward           (KpWorkerGroup *self);
gint64         kp_worker_group_get_duration         (KpWorkerGroup *self);
gint64         kp_worker_group_get_hits_available   (KpWorkerGroup *self);
gint64         kp_worker_group_get_expiration       (KpWorkerGroup *self);
/* "qualified", "can-request" or "not-qualified". */
const char    *kp_worker_group_get_standing         (KpWorkerGroup *self);
const char    *kp_worker_group_get_reason           (KpWorkerGroup *self);
gboolean       kp_worker_group_get_preview_allowed  (KpWorkerGroup *self);
/* The qualification type ids of the group's requirements that a worker
 * may request (every id but the system qualifications'). */
GStrv          kp_worker_group_dup_requestable_qualifications (KpWorkerGroup *self) G_GNUC_WARN_UNUSED_RESULT;

/* Text for people. */
char          *kp_worker_format_duration            (gint64         seconds) G_GNUC_WARN_UNUSED_RESULT;
const char    *kp_worker_format_standing            (const char    *standing);

G_END_DECLS
