/* kp-suggestion-panel.h: review of the current image's pre-annotations
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "kp-core.h"

G_BEGIN_DECLS

#define KP_TYPE_SUGGESTION_PANEL (kp_suggestion_panel_get_type ())
G_DECLARE_FINAL_TYPE (KpSuggestionPanel, kp_suggestion_panel, KP, SUGGESTION_PANEL, GtkWidget)

/* A bar shown while the document has PENDING suggestions: how many, a
 * confidence threshold slider ("threshold", double 0..1, notified) and
 * buttons for the window's actions win.accept-above, win.reject-below,
 * win.accept-suggestion, win.reject-suggestion and win.next-suggestion. */
GtkWidget  *kp_suggestion_panel_new           (void);
void        kp_suggestion_panel_set_document  (KpSuggestionPanel *self,
                                               KpDocument        *document);
guint       kp_suggestion_panel_get_n_pending (KpSuggestionPanel *self);
double      kp_suggestion_panel_get_threshold (KpSuggestionPanel *self);
void        kp_suggestion_panel_set_threshold (KpSuggestionPanel *self,
                                               double             threshold);
/* The number of PENDING suggestions of document. */
guint       kp_suggestion_count_pending       (KpDocument        *document);

G_END_DECLS
