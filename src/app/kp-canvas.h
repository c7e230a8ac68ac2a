/* kp-canvas.h: draws an image and its annotations; hosts the tools
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "kp-core.h"
#include "kp-tool.h"
#include "kp-image-layer.h"

G_BEGIN_DECLS

#define KP_TYPE_CANVAS (kp_canvas_get_type ())
G_DECLARE_FINAL_TYPE (KpCanvas, kp_canvas, KP, CANVAS, GtkWidget)

/* Properties (all G_PARAM_EXPLICIT_NOTIFY):
 *   "texture"          GdkTexture*   the image, or NULL (then an empty canvas)
 *   "document"         KpDocument*   the annotations of that image, or NULL
 *   "current-label-id" gint64        label given to new boxes (0: none; then drawing is refused)
 *   "selected-id"      gint64        selected annotation, 0 for none
 *   "zoom"             double        view scale (1.0 = 100 %)
 *   "fit"              boolean       TRUE while the view follows best fit on resize
 *   "show-captions"    boolean       draw the label name above each box (default TRUE)
 *   "brightness"       double        -1 … 1, added to the image's colours (default 0)
 *   "contrast"         double        0 … 10, scales the image's colours around grey (default 1)
 *   "gamma"            double        0.1 … 10, value^(1/gamma), applied off the UI thread (default 1)
 *
 * Widget actions (installed in class_init, keys bound there too):
 *   canvas.zoom-in      (plus, equal, KP_Add, Ctrl+plus)
 *   canvas.zoom-out     (minus, KP_Subtract, Ctrl+minus)
 *   canvas.zoom-fit     (Ctrl+0)
 *   canvas.zoom-100     (Ctrl+1)
 *   canvas.zoom-selection (Ctrl+2: the bounds of the whole selection fill the view)
 *   annotation.delete   (Delete, BackSpace: the whole selection, one undo step)
 *   annotation.next / annotation.previous (Tab / Shift+Tab select the next / previous
 *                       object that is not hidden, in drawing order)
 *   canvas.cancel       (Escape: abort the gesture in progress, else deselect)
 *
 * Input: drag with the primary button draws a box on empty space, moves a
 * box dragged from inside, resizes by its handles; click selects; Ctrl+wheel
 * and pinch zoom at the pointer; wheel / Shift+wheel (kinetic on touchpads),
 * middle drag and Space+drag pan. The cursor follows the handle under the
 * pointer.
 *
 * Drawing: from 400 % the image is drawn pixel-exact (nearest neighbour).
 * The annotations are cached in tiles at the current scale and device
 * scale, reused while panning and re-rendered only where something changed;
 * a frame costs what is visible, whatever the document holds. With a
 * renderer at hand (the widget is realized) and an image given as
 * "texture", each tile's background, image and annotations become one
 * texture, so that a frame shades each pixel once; brightness, contrast
 * and gamma redraw those textures, a zoom step's first frame is drawn in
 * layers. Every shape
 * is drawn in its label's colour; HIDDEN objects are not drawn, PENDING
 * suggestions are dashed and lighter with their confidence in the caption,
 * selected objects have a thicker outline and a stronger fill. While a
 * tool's gesture lasts, kp_tool_get_preview_annotations() replaces the
 * document's objects (a long polygon only around what changed), and
 * kp_tool_snapshot() draws last; the canvas draws box handles itself only
 * for a tool class without a snapshot vfunc. */
GtkWidget  *kp_canvas_new                 (void);

GdkTexture *kp_canvas_get_texture         (KpCanvas     *self);
void        kp_canvas_set_texture         (KpCanvas     *self,
                                           GdkTexture   *texture);
KpDocument *kp_canvas_get_document        (KpCanvas     *self);
void        kp_canvas_set_document        (KpCanvas     *self,
                                           KpDocument   *document);
/* Labels give boxes their colour and caption; copied. Element type KpLabel. */
void        kp_canvas_set_labels          (KpCanvas     *self,
                                           GPtrArray    *labels);
gint64      kp_canvas_get_current_label_id (KpCanvas    *self);
void        kp_canvas_set_current_label_id (KpCanvas    *self,
                                           gint64        label_id);
gint64      kp_canvas_get_selected_id     (KpCanvas     *self);
void        kp_canvas_set_selected_id     (KpCanvas     *self,
                                           gint64        annotation_id);
double      kp_canvas_get_zoom            (KpCanvas     *self);
void        kp_canvas_set_zoom            (KpCanvas     *self,
                                           double        zoom);
gboolean    kp_canvas_get_fit             (KpCanvas     *self);
void        kp_canvas_zoom_fit            (KpCanvas     *self);
const KpView *kp_canvas_get_view          (KpCanvas     *self);
void        kp_canvas_set_view            (KpCanvas     *self,
                                           const KpView *view);
gboolean    kp_canvas_get_show_captions   (KpCanvas     *self);
void        kp_canvas_set_show_captions   (KpCanvas     *self,
                                           gboolean      show_captions);
double      kp_canvas_get_brightness      (KpCanvas     *self);
void        kp_canvas_set_brightness      (KpCanvas     *self,
                                           double        brightness);
double      kp_canvas_get_contrast        (KpCanvas     *self);
void        kp_canvas_set_contrast        (KpCanvas     *self,
                                           double        contrast);
double      kp_canvas_get_gamma           (KpCanvas     *self);
void        kp_canvas_set_gamma           (KpCanvas     *self,
                                           double        gamma);

/* View operations (the canvas.zoom-* actions call these). Widget
 * coordinates; each leaves fit mode, except kp_canvas_zoom_fit. */
void        kp_canvas_zoom_at             (KpCanvas     *self,
                                           double        zoom,
                                           double        widget_x,
                                           double        widget_y);
void        kp_canvas_zoom_100            (KpCanvas     *self);
gboolean    kp_canvas_zoom_to_selection   (KpCanvas     *self);
void        kp_canvas_pan_by              (KpCanvas     *self,
                                           double        dx,
                                           double        dy);

/* The tool input, in image coordinates, exactly as the pointer gestures
 * deliver it; tests drive the canvas through these without a display. */
void        kp_canvas_tool_press          (KpCanvas       *self,
                                           double          image_x,
                                           double          image_y,
                                           GdkModifierType state);
void        kp_canvas_tool_motion         (KpCanvas       *self,
                                           double          image_x,
                                           double          image_y,
                                           GdkModifierType state);
void        kp_canvas_tool_release        (KpCanvas       *self,
                                           double          image_x,
                                           double          image_y,
                                           GdkModifierType state);

/* Signal "error" (const GError *): a store write failed during a gesture;
 * the window shows it. Nothing in memory changed. */

/* Since the shape tools (session 4).
 *
 * "tool" (KpTool*): the active tool; its canvas must be this canvas. A new
 * canvas has a KP_TOOL_KIND_BOX tool. Setting a tool cancels the gesture
 * of the previous one. */
KpTool     *kp_canvas_get_tool            (KpCanvas     *self);
void        kp_canvas_set_tool            (KpCanvas     *self,
                                           KpTool       *tool);

/* The selection is a set of annotation ids, kept in the order they were
 * selected; "selected-id" is its last member (the primary selection, 0
 * when empty). Ids not in the document are dropped. Signal
 * "selection-changed" (no arguments) after every change of the set;
 * kp_canvas_set_selected_id (id) is kp_canvas_set_selection (&id, 1), or
 * clears it for 0. Hidden objects are never selected. */
const gint64 *kp_canvas_get_selection     (KpCanvas     *self,
                                           guint        *n_ids);
void        kp_canvas_set_selection       (KpCanvas     *self,
                                           const gint64 *ids,
                                           guint         n_ids);
gboolean    kp_canvas_is_selected         (KpCanvas     *self,
                                           gint64        annotation_id);

/* "show-crosshair" (boolean, default FALSE): guides through the pointer
 * across the whole image, horizontal and vertical. */
gboolean    kp_canvas_get_show_crosshair  (KpCanvas     *self);
void        kp_canvas_set_show_crosshair  (KpCanvas     *self,
                                           gboolean      show_crosshair);

/* "image-layer" (KpImageLayer*): a large image drawn from tiles instead
 * of "texture" (setting one clears the other). The image size, fit and
 * every tool then follow the layer's size. */
KpImageLayer *kp_canvas_get_image_layer   (KpCanvas     *self);
void        kp_canvas_set_image_layer     (KpCanvas     *self,
                                           KpImageLayer *layer);

G_END_DECLS
