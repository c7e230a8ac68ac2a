/* kp-review-window.h: the requester's review desk
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define KP_TYPE_REVIEW_WINDOW (kp_review_window_get_type ())
G_DECLARE_FINAL_TYPE (KpReviewWindow, kp_review_window, KP, REVIEW_WINDOW, AdwApplicationWindow)

/* A review desk, showing its sign-in first. */
KpReviewWindow *kp_review_window_new (GtkApplication *application);

G_END_DECLS
