/* kp-panel-common.h: what the annotation window's side panels share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The attribute panel, object list, suggestion panel and tag bar follow
 * the canvas and its document the same way, keep their own copies of the
 * project's labels and attributes, and report failed edits through the
 * same "error" signal.
 */

#pragma once

#include <gtk/gtk.h>

#include "kp-canvas.h"
#include "kp-core.h"

G_BEGIN_DECLS

/* Creates a panel's "error" signal: void (*error) (Panel *, GError *),
 * emitted when an edit made through the panel failed. */
guint      kp_panel_error_signal_new    (GType         panel_type);

/* Makes *slot (a reference) hold document, moving callback, connected
 * swapped to panel, from the old document's signal to the new one's.
 * Returns FALSE, doing nothing, when *slot is already document. */
gboolean   kp_panel_follow_document     (gpointer      panel,
                                         KpDocument  **slot,
                                         KpDocument   *document,
                                         const char   *signal,
                                         GCallback     callback);

/* Makes *slot (a weak pointer) hold canvas, moving selection_changed_cb
 * ("selection-changed") and document_cb ("notify::document"), connected
 * swapped to panel, from the old canvas to the new one. Returns FALSE,
 * doing nothing, when *slot is already canvas. */
gboolean   kp_panel_follow_canvas       (gpointer      panel,
                                         KpCanvas    **slot,
                                         KpCanvas     *canvas,
                                         GCallback     selection_changed_cb,
                                         GCallback     document_cb);

/* Deep copies of arrays of KpLabel and KpAttribute; NULL gives an empty
 * array. */
GPtrArray *kp_panel_copy_labels         (GPtrArray    *labels);
GPtrArray *kp_panel_copy_attributes     (GPtrArray    *attributes);

/* The label (attribute) with that id in an array of KpLabel
 * (KpAttribute), which may be NULL; NULL when there is none. */
const KpLabel     *kp_panel_find_label     (GPtrArray *labels,
                                            gint64     label_id);
const KpAttribute *kp_panel_find_attribute (GPtrArray *attributes,
                                            gint64     attribute_id);

G_END_DECLS
