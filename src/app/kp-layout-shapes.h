/* kp-layout-shapes.h: points, lines, polygons and painted masks on an
 * image, for the crowd image elements KpCanvas does not draw
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef enum
{
  KP_LAYOUT_SHAPES_KEYPOINT,     /* a click places a point */
  KP_LAYOUT_SHAPES_LINE,         /* two clicks make a line */
  KP_LAYOUT_SHAPES_POLYLINE,     /* clicks add vertices; Enter or a double click ends it */
  KP_LAYOUT_SHAPES_POLYGON,      /* as a polyline, or a click on the first vertex closes it */
  KP_LAYOUT_SHAPES_SEMANTIC,     /* a drag paints the current label */
  KP_LAYOUT_SHAPES_INSTANCE,     /* a drag paints the current instance */
  KP_LAYOUT_SHAPES_OVERLAY,      /* shows boxes only (crowd-image-classifier's overlay) */
} KpLayoutShapesMode;

#define KP_TYPE_LAYOUT_SHAPES (kp_layout_shapes_get_type ())
G_DECLARE_FINAL_TYPE (KpLayoutShapes, kp_layout_shapes, KP, LAYOUT_SHAPES, GtkWidget)

/* Keys: Return ends the shape in progress, BackSpace removes the last
 * vertex or shape, Escape drops the shape in progress. */
GtkWidget  *kp_layout_shapes_new               (KpLayoutShapesMode  mode);
KpLayoutShapesMode kp_layout_shapes_get_mode   (KpLayoutShapes     *self);
void        kp_layout_shapes_set_texture       (KpLayoutShapes     *self,
                                                GdkTexture         *texture);
/* Every label gets the colour of its position in MTurk's palette. */
void        kp_layout_shapes_set_labels        (KpLayoutShapes     *self,
                                                const char * const *labels);
void        kp_layout_shapes_set_current_label (KpLayoutShapes     *self,
                                                const char         *label);
const char *kp_layout_shapes_get_current_label (KpLayoutShapes     *self);
/* "#rrggbb" of a label (or of instance N, for INSTANCE). */
const char *kp_layout_shapes_label_color       (guint               index);

/* Input in image pixels, as the pointer delivers it; tests call these. */
void        kp_layout_shapes_click             (KpLayoutShapes     *self,
                                                double              x,
                                                double              y);
gboolean    kp_layout_shapes_finish            (KpLayoutShapes     *self);
void        kp_layout_shapes_paint             (KpLayoutShapes     *self,
                                                double              x,
                                                double              y);
void        kp_layout_shapes_set_brush_radius  (KpLayoutShapes     *self,
                                                double              radius);
/* INSTANCE: later painting makes a new instance of the current label. */
void        kp_layout_shapes_new_instance      (KpLayoutShapes     *self);
gboolean    kp_layout_shapes_undo              (KpLayoutShapes     *self);
/* OVERLAY boxes, and initial shapes. */
void        kp_layout_shapes_add_box           (KpLayoutShapes     *self,
                                                const char         *label,
                                                double              left,
                                                double              top,
                                                double              width,
                                                double              height);
guint       kp_layout_shapes_get_n_shapes      (KpLayoutShapes     *self);

/* The widget value kp_layout_node_answer() takes for the element (see
 * kp-layout-answer.c); NULL when there is no image. */
JsonNode   *kp_layout_shapes_dup_value         (KpLayoutShapes     *self) G_GNUC_WARN_UNUSED_RESULT;
/* Replaces every shape (or the painted mask) with those of a value as
 * kp_layout_shapes_dup_value() gives it; NULL clears. Does not emit
 * "changed".
 *
 * Signal "changed": the worker added, finished, painted or undid
 * something. */
void        kp_layout_shapes_set_value         (KpLayoutShapes     *self,
                                                JsonNode           *value);

G_END_DECLS
