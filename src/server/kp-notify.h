/* kp-notify.h: MTurk event notifications (kp-notify.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * kp_notify_event() is called inside the transaction that makes the event
 * happen: it queues MTurk's notification JSON in notification_outbox for the
 * HIT type's active settings, so a notification exists exactly when its
 * event was committed. A KpNotifier, outside transactions, POSTs due messages
 * to their HTTPS destinations with retries and back-off.
 */

#pragma once

#include "kp-api.h"

G_BEGIN_DECLS

/* event_type: one of MTurk's EventType values ("AssignmentSubmitted", …).
 * assignment_id may be NULL for HIT events. */
gboolean kp_notify_event (KpCtx       *ctx,
                          const char  *event_type,
                          const char  *hit_type_id,
                          const char  *hit_id,
                          const char  *assignment_id,
                          GError     **error);

#define KP_TYPE_NOTIFIER (kp_notifier_get_type ())
G_DECLARE_FINAL_TYPE (KpNotifier, kp_notifier, KP, NOTIFIER, GObject)

/* db is borrowed and must outlive the notifier. */
KpNotifier *kp_notifier_new  (KpDb       *db);
/* Looks for due messages now (called after each commit that queued some,
 * and by a timer for retries). Never blocks. */
void        kp_notifier_kick (KpNotifier *self);
/* A PEM file of CA certificates to trust for HTTPS destinations, in
 * addition to the system's (e.g. a private CA, or a test's). */
void        kp_notifier_set_ca_file (KpNotifier *self,
                                     const char *ca_file);
/* Stops; messages not yet sent stay queued for the next start. */
void        kp_notifier_stop (KpNotifier *self);

/* Whether destination is a URL notifications are delivered to: https://,
 * or http:// to a loopback address. Otherwise fails with a RequestError
 * (ctx may be NULL) saying that only HTTPS endpoints are delivered. */
gboolean    kp_notify_check_destination (KpCtx       *ctx,
                                         const char  *destination,
                                         GError     **error);

G_END_DECLS
