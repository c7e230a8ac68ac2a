/* kp-view-transform.h: zoom and scroll arithmetic shared by the media views
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * KpFrameView, KpTimeline and KpWaveform each map content coordinates
 * (video pixels, frames, samples) to widget pixels with a scale and an
 * origin, zoom keeping the point under the pointer, and look up theme
 * colours when the CSS changes. They share this instead of each carrying
 * a copy. A 1-D view (time along x) uses the x members and ignores y.
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef struct
{
  double scale;    /* widget pixels per content unit, > 0 */
  double origin_x; /* widget position of content 0 */
  double origin_y;
} KpViewTransform;

static inline double
kp_view_transform_to_content_x (const KpViewTransform *t,
                                double                 x)
{
  return (x - t->origin_x) / t->scale;
}

static inline double
kp_view_transform_to_content_y (const KpViewTransform *t,
                                double                 y)
{
  return (y - t->origin_y) / t->scale;
}

static inline double
kp_view_transform_to_view_x (const KpViewTransform *t,
                             double                 cx)
{
  return t->origin_x + cx * t->scale;
}

static inline double
kp_view_transform_to_view_y (const KpViewTransform *t,
                             double                 cy)
{
  return t->origin_y + cy * t->scale;
}

/* Fits content (content_width × content_height) into the view, centred;
 * FALSE (and scale 1 at 0, 0) when either has no size. */
gboolean kp_view_transform_fit      (KpViewTransform *t,
                                     double           content_width,
                                     double           content_height,
                                     double           view_width,
                                     double           view_height);
/* Multiplies the scale by factor (clamped to min_scale..max_scale),
 * keeping the content under the view point (x, y) where it is. */
void     kp_view_transform_zoom_at  (KpViewTransform *t,
                                     double           factor,
                                     double           x,
                                     double           y,
                                     double           min_scale,
                                     double           max_scale);
/* Keeps the content on screen: along an axis where it is larger than the
 * view no edge comes inside; where it is smaller it is centred. */
void     kp_view_transform_clamp    (KpViewTransform *t,
                                     double           content_width,
                                     double           content_height,
                                     double           view_width,
                                     double           view_height);

/* The theme colour name as the widget's style has it, or fallback (a
 * colour string). For css_changed handlers. */
void     kp_view_lookup_color       (GtkWidget       *widget,
                                     const char      *name,
                                     const char      *fallback,
                                     GdkRGBA         *color);

G_END_DECLS
