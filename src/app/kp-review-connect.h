/* kp-review-connect.h: the review desk's sign-in with requester keys
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "kp-review-model.h"

G_BEGIN_DECLS

#define KP_TYPE_REVIEW_CONNECT (kp_review_connect_get_type ())
G_DECLARE_FINAL_TYPE (KpReviewConnect, kp_review_connect, KP, REVIEW_CONNECT, AdwBin)

/* Signal "connected" (KpReviewModel *model): the keys were accepted.
 *
 * The endpoint, the access key id and the profile are remembered in
 * settings; the secret goes to the keyring through KpAccountStore (in
 * its own folder, config_dir, NULL: the user config dir's
 * "kempelen/review"), never to settings. */
GtkWidget  *kp_review_connect_new        (GSettings       *settings,
                                          const char      *config_dir);
/* Fills the form (NULL leaves a field as it is). */
void        kp_review_connect_fill       (KpReviewConnect *self,
                                          const char      *endpoint,
                                          const char      *access_key_id,
                                          const char      *secret,
                                          const char      *profile);
/* Starts connecting, as the Connect button does. */
void        kp_review_connect_start      (KpReviewConnect *self);
gboolean    kp_review_connect_get_busy   (KpReviewConnect *self);
/* TRUE when a secret is saved for the endpoint and key in the form. */
gboolean    kp_review_connect_get_secret_saved (KpReviewConnect *self);
/* The error shown under the form, or NULL. */
const char *kp_review_connect_get_error  (KpReviewConnect *self);
/* Shows message under the form (NULL hides it). */
void        kp_review_connect_set_error  (KpReviewConnect *self,
                                          const char      *message);

G_END_DECLS
