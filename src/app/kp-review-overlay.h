/* kp-review-overlay.h: one image with every worker's boxes overlaid
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Colours told apart with every kind of colour blindness (Okabe and Ito),
 * one per worker; more workers than colours reuse them in order. */
guint          kp_review_palette_get_size (void);
const GdkRGBA *kp_review_palette_get      (guint index);

#define KP_TYPE_REVIEW_OVERLAY (kp_review_overlay_get_type ())
G_DECLARE_FINAL_TYPE (KpReviewOverlay, kp_review_overlay, KP, REVIEW_OVERLAY, GtkWidget)

GtkWidget  *kp_review_overlay_new               (void);

/* The image (NULL: a grey field of the image size). */
void        kp_review_overlay_set_texture       (KpReviewOverlay       *self,
                                                 GdkTexture            *texture);
GdkTexture *kp_review_overlay_get_texture       (KpReviewOverlay       *self);
/* The size of the image the boxes are in, used until the texture comes. */
void        kp_review_overlay_set_image_size    (KpReviewOverlay       *self,
                                                 int                    width,
                                                 int                    height);

/* Drops every layer and the consensus. */
void        kp_review_overlay_clear             (KpReviewOverlay       *self);
/* A worker's boxes (image coordinates), drawn in color; returns the
 * layer's index. Layers start visible. */
guint       kp_review_overlay_add_layer         (KpReviewOverlay       *self,
                                                 const GdkRGBA         *color,
                                                 const graphene_rect_t *boxes,
                                                 guint                  n_boxes);
guint       kp_review_overlay_get_n_layers      (KpReviewOverlay       *self);
void        kp_review_overlay_set_layer_visible (KpReviewOverlay       *self,
                                                 guint                  layer,
                                                 gboolean               visible);
gboolean    kp_review_overlay_get_layer_visible (KpReviewOverlay       *self,
                                                 guint                  layer);
/* The layer index of the consensus, for the calls below. */
#define KP_REVIEW_OVERLAY_CONSENSUS G_MAXUINT

/* A polygon (closed) or a line or polyline of layer, in image
 * coordinates. */
void        kp_review_overlay_add_path          (KpReviewOverlay        *self,
                                                 guint                   layer,
                                                 const graphene_point_t *points,
                                                 guint                   n_points,
                                                 gboolean                closed);
/* A keypoint of layer, drawn as a ring. */
void        kp_review_overlay_add_point         (KpReviewOverlay        *self,
                                                 guint                   layer,
                                                 const graphene_point_t *point);
/* The consolidated boxes (replacing the consensus), drawn on top: thick,
 * white with a dark core. */
void        kp_review_overlay_set_consensus     (KpReviewOverlay       *self,
                                                 const graphene_rect_t *boxes,
                                                 guint                  n_boxes);

/* Zoom relative to fitting the image in the widget (1: fit). */
double      kp_review_overlay_get_zoom          (KpReviewOverlay       *self);
void        kp_review_overlay_zoom_to_fit       (KpReviewOverlay       *self);
/* Zooms by factor keeping the image point under (x, y) in place. */
void        kp_review_overlay_zoom_at           (KpReviewOverlay       *self,
                                                 double                 factor,
                                                 double                 x,
                                                 double                 y);
void        kp_review_overlay_image_to_widget   (KpReviewOverlay       *self,
                                                 double                 image_x,
                                                 double                 image_y,
                                                 double                *widget_x,
                                                 double                *widget_y);

/* The overlay at zoom 1 composed ahead of time, in a worker thread: its
 * image and the shapes of its visible layers and consensus in one texture
 * for a widget of width×height at scale_factor. An overlay draws one
 * (set_composite) only while it would draw exactly that: the same image,
 * layers, visibility, size, scale factor and zoom 1; vectors otherwise. */
typedef struct _KpReviewComposite KpReviewComposite;

void        kp_review_composite_unref           (KpReviewComposite     *composite);
GdkTexture *kp_review_composite_get_texture     (KpReviewComposite     *composite);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpReviewComposite, kp_review_composite_unref)

/* Composes what self holds now (its texture must be in memory). */
void        kp_review_overlay_compose_async     (KpReviewOverlay       *self,
                                                 int                    width,
                                                 int                    height,
                                                 int                    scale_factor,
                                                 GCancellable          *cancellable,
                                                 GAsyncReadyCallback    callback,
                                                 gpointer               user_data);
KpReviewComposite *
            kp_review_overlay_compose_finish    (KpReviewOverlay       *self,
                                                 GAsyncResult          *result,
                                                 GError               **error);
/* Offers composite for the layers just added; adding more drops it. */
void        kp_review_overlay_set_composite     (KpReviewOverlay       *self,
                                                 KpReviewComposite     *composite);
/* TRUE when the last frame drew the composite. */
gboolean    kp_review_overlay_get_composited    (KpReviewOverlay       *self);
/* Uploads composite's texture to self's renderer now, not in a frame. */
void        kp_review_overlay_preload           (KpReviewOverlay       *self,
                                                 KpReviewComposite     *composite);

G_END_DECLS
