/* kp-object-list.h: the objects of the current image, beside the canvas
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "kp-canvas.h"

G_BEGIN_DECLS

#define KP_TYPE_OBJECT_ITEM (kp_object_item_get_type ())
G_DECLARE_FINAL_TYPE (KpObjectItem, kp_object_item, KP, OBJECT_ITEM, GObject)

gint64        kp_object_item_get_id    (KpObjectItem *self);

#define KP_TYPE_OBJECT_LIST (kp_object_list_get_type ())
G_DECLARE_FINAL_TYPE (KpObjectList, kp_object_list, KP, OBJECT_LIST, GtkWidget)

/* A GtkListView over the annotations of the canvas's document, in drawing
 * order, kept up to date from the document's "changed" signal one row at a
 * time (rows are made only for what is on screen, so 100,000 objects cost
 * an array of ids). Its selection and the canvas's selection set follow
 * each other; choosing objects in the list zooms the canvas to them.
 * Each row: the label's colour and name, the shape, an attribute summary,
 * and hide and lock toggles. Delete deletes the selection (through the
 * "win.delete-selected" action).
 *
 * Signal "error" (const GError *): a document edit from a row failed. */
GtkWidget         *kp_object_list_new                (void);
void               kp_object_list_set_canvas         (KpObjectList *self,
                                                      KpCanvas     *canvas);
/* Element types KpLabel and KpAttribute; copied. */
void               kp_object_list_set_labels         (KpObjectList *self,
                                                      GPtrArray    *labels);
void               kp_object_list_set_attributes     (KpObjectList *self,
                                                      GPtrArray    *attributes);
/* Shows only the objects of that label (0: every object). */
void               kp_object_list_set_filter_label   (KpObjectList *self,
                                                      gint64        label_id);
gint64             kp_object_list_get_filter_label   (KpObjectList *self);
/* The rows (element type KpObjectItem) and their selection. */
GtkSelectionModel *kp_object_list_get_selection_model (KpObjectList *self);
/* The row of an annotation, or GTK_INVALID_LIST_POSITION. */
guint              kp_object_list_find               (KpObjectList *self,
                                                      gint64        annotation_id);
/* As clicking the row's toggles. */
void               kp_object_list_toggle_hidden      (KpObjectList *self,
                                                      gint64        annotation_id);
void               kp_object_list_toggle_locked      (KpObjectList *self,
                                                      gint64        annotation_id);

G_END_DECLS
