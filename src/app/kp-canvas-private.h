/* kp-canvas-private.h: what the tools ask of the canvas
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "kp-canvas.h"
#include "kp-tool.h"

G_BEGIN_DECLS

/* Size of the image in pixels; FALSE when there is no image. */
gboolean _kp_canvas_get_image_size   (KpCanvas     *self,
                                      double       *width,
                                      double       *height);
/* The topmost annotation (last in drawing order) containing (x, y). */
gint64   _kp_canvas_pick             (KpCanvas     *self,
                                      double        x,
                                      double        y);
/* Since the shape tools: the topmost visible (not HIDDEN) annotation that
 * kp_annotation_hit()s (x, y) with tolerance image pixels; 0 for none. */
gint64   _kp_canvas_pick_shape       (KpCanvas     *self,
                                      double        x,
                                      double        y,
                                      double        tolerance);
/* Appends to ids (gint64) the visible annotations whose bounds intersect
 * rect (contained entirely when contained is TRUE), in drawing order;
 * through the spatial index, so it costs what it finds. */
void     _kp_canvas_query_rect       (KpCanvas     *self,
                                      const KpRect *rect,
                                      gboolean      contained,
                                      GArray       *ids);
/* The pointer position in image coordinates, FALSE when it is outside. */
gboolean _kp_canvas_get_pointer      (KpCanvas     *self,
                                      double       *x,
                                      double       *y);
/* Reports an error through the "error" signal. */
void     _kp_canvas_emit_error       (KpCanvas     *self,
                                      const GError *error);
/* The gesture in progress changed what is drawn. */
void     _kp_canvas_preview_changed  (KpCanvas     *self);
KpTool  *_kp_canvas_get_tool         (KpCanvas     *self);
/* The colour the canvas draws label_id's objects in, as the labels given
 * to kp_canvas_set_labels() say; FALSE (and the accent colour) for a
 * label it does not know. */
gboolean _kp_canvas_get_label_color  (KpCanvas     *self,
                                      gint64        label_id,
                                      GdkRGBA      *color);
/* The image as shown: after the gamma table once the worker is done. */
GdkTexture *_kp_canvas_get_display_texture (KpCanvas *self);
/* For tests: bytes of the masks decoded for drawing (at the level of
 * detail of the view). */
gsize    _kp_canvas_get_mask_bytes   (KpCanvas     *self);

G_END_DECLS
