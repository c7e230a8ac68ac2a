/* kp-tag-bar.h: the image-level tags of the current image
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "kp-core.h"

G_BEGIN_DECLS

#define KP_TYPE_TAG_BAR (kp_tag_bar_get_type ())
G_DECLARE_FINAL_TYPE (KpTagBar, kp_tag_bar, KP, TAG_BAR, GtkWidget)

/* A row of linked toggle buttons per tag group; in a single-select group
 * they behave as radio buttons. Toggling calls kp_document_toggle_tag ()
 * (one undo step). Hidden when the project has no tags. Signal "error"
 * (const GError *) when a toggle fails. */
GtkWidget       *kp_tag_bar_new          (void);
/* Reads the tag groups and tags from store (NULL: none). */
void             kp_tag_bar_reload       (KpTagBar   *self,
                                          KpStore    *store);
/* The same, only if they differ from those shown (another program wrote
 * them); TRUE if the bar was rebuilt. */
gboolean         kp_tag_bar_reload_if_changed (KpTagBar *self,
                                               KpStore  *store);
void             kp_tag_bar_set_document (KpTagBar   *self,
                                          KpDocument *document);
GtkToggleButton *kp_tag_bar_get_button   (KpTagBar   *self,
                                          gint64      tag_id);

G_END_DECLS
