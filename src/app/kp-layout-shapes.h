/* kp-layout-shapes.h: boxes drawn over an image, read only
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define KP_TYPE_LAYOUT_SHAPES (kp_layout_shapes_get_type ())
G_DECLARE_FINAL_TYPE (KpLayoutShapes, kp_layout_shapes, KP, LAYOUT_SHAPES, GtkWidget)

/* crowd-image-classifier's overlay: the image at a best fit, with boxes
 * over it that cannot be edited. Every image element a worker draws on
 * is a KpCanvas (see kp-layout-view.c). */
GtkWidget  *kp_layout_shapes_new               (void);
void        kp_layout_shapes_set_texture       (KpLayoutShapes     *self,
                                                GdkTexture         *texture);
/* "#rrggbb" of the label (or instance) at index, MTurk's palette. */
const char *kp_layout_shapes_label_color       (guint               index);
/* A box in image pixels; labels are coloured in the order first seen. */
void        kp_layout_shapes_add_box           (KpLayoutShapes     *self,
                                                const char         *label,
                                                double              left,
                                                double              top,
                                                double              width,
                                                double              height);
guint       kp_layout_shapes_get_n_shapes      (KpLayoutShapes     *self);

G_END_DECLS
