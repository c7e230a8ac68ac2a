/* kp-view-transform.c: zoom and scroll arithmetic shared by the media views
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-view-transform.h"

gboolean
kp_view_transform_fit (KpViewTransform *t,
                       double           content_width,
                       double           content_height,
                       double           view_width,
                       double           view_height)
{
  g_return_val_if_fail (t != NULL, FALSE);

  if (content_width <= 0 || content_height <= 0 || view_width <= 0 || view_height <= 0)
    {
      t->scale = 1;
      t->origin_x = t->origin_y = 0;
      return FALSE;
    }
  t->scale = MIN (view_width / content_width, view_height / content_height);
  t->origin_x = (view_width - content_width * t->scale) / 2;
  t->origin_y = (view_height - content_height * t->scale) / 2;
  return TRUE;
}

void
kp_view_transform_zoom_at (KpViewTransform *t,
                           double           factor,
                           double           x,
                           double           y,
                           double           min_scale,
                           double           max_scale)
{
  double cx, cy;

  g_return_if_fail (t != NULL);
  g_return_if_fail (factor > 0 && min_scale > 0 && min_scale <= max_scale);

  cx = kp_view_transform_to_content_x (t, x);
  cy = kp_view_transform_to_content_y (t, y);
  t->scale = CLAMP (t->scale * factor, min_scale, max_scale);
  t->origin_x = x - cx * t->scale;
  t->origin_y = y - cy * t->scale;
}

static double
clamp_axis (double origin,
            double content,
            double view)
{
  if (content <= view)
    return (view - content) / 2;
  return CLAMP (origin, view - content, 0);
}

void
kp_view_transform_clamp (KpViewTransform *t,
                         double           content_width,
                         double           content_height,
                         double           view_width,
                         double           view_height)
{
  g_return_if_fail (t != NULL);

  t->origin_x = clamp_axis (t->origin_x, content_width * t->scale, view_width);
  t->origin_y = clamp_axis (t->origin_y, content_height * t->scale, view_height);
}

void
kp_view_lookup_color (GtkWidget  *widget,
                      const char *name,
                      const char *fallback,
                      GdkRGBA    *color)
{
  GtkStyleContext *context;

  g_return_if_fail (GTK_IS_WIDGET (widget));

  /* GtkStyleContext is deprecated after 4.8, but 4.8 has nothing else
   * that reads a named colour (gtk_widget_get_color is 4.10). */
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  context = gtk_widget_get_style_context (widget);
  if (!gtk_style_context_lookup_color (context, name, color))
    gdk_rgba_parse (color, fallback);
  G_GNUC_END_IGNORE_DEPRECATIONS
}
