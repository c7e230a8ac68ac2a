/* kp-review-private.h: the review desk's insides, for its tests and
 * benchmark
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "kp-review-connect.h"
#include "kp-review-model.h"
#include "kp-review-overlay.h"
#include "kp-review-window.h"

G_BEGIN_DECLS

KpReviewConnect *_kp_review_window_get_connect        (KpReviewWindow *self);
KpReviewOverlay *_kp_review_window_get_overlay        (KpReviewWindow *self);
KpReviewModel   *_kp_review_window_get_model          (KpReviewWindow *self);
/* Shows model's batches (already loaded) without asking a server. */
void             _kp_review_window_set_model          (KpReviewWindow *self,
                                                       KpReviewModel  *model);
/* TRUE while a load, decision or bulk approval is under way. */
gboolean         _kp_review_window_get_busy           (KpReviewWindow *self);
/* The last toast's or dialog's text, or NULL. */
const char      *_kp_review_window_get_message        (KpReviewWindow *self);
void             _kp_review_window_clear_message      (KpReviewWindow *self);
/* The dialog asking to confirm (bonus, block) or listing failures. */
AdwMessageDialog *_kp_review_window_get_dialog        (KpReviewWindow *self);
KpReviewBatch   *_kp_review_window_get_batch          (KpReviewWindow *self);
const char      *_kp_review_window_get_batch_progress (KpReviewWindow *self,
                                                       guint           index);
void             _kp_review_window_select_batch       (KpReviewWindow *self,
                                                       guint           index);
KpReviewHit     *_kp_review_window_get_hit            (KpReviewWindow *self);
guint            _kp_review_window_get_hit_index      (KpReviewWindow *self);
void             _kp_review_window_select_assignment  (KpReviewWindow *self,
                                                       guint           index);
/* The texts the desk shows for the HIT's classification answers. */
const char      *_kp_review_window_get_answers_text   (KpReviewWindow *self);
GtkWidget       *_kp_review_window_get_feedback_entry (KpReviewWindow *self);
GtkWidget       *_kp_review_window_get_bonus_amount   (KpReviewWindow *self);
GtkWidget       *_kp_review_window_get_bonus_reason   (KpReviewWindow *self);
GtkWidget       *_kp_review_window_get_threshold      (KpReviewWindow *self);
/* TRUE when the image of uri is loaded and kept (prefetched). */
gboolean         _kp_review_window_has_image          (KpReviewWindow *self,
                                                       const char     *uri);

/* TRUE when the next HIT is composed ahead (image and shapes in one
 * texture, see KpReviewComposite). */
gboolean         _kp_review_window_next_composed      (KpReviewWindow *self);

G_END_DECLS
