/* kp-label-map.c: reading label-map images for import (GdkPixbuf; no GTK)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-label-map.h"

#include <string.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gi18n-lib.h>

/* Label maps are PNG: use the PNG loader directly, since gdk-pixbuf's own
 * choice goes through the shared-mime-info database, which sandboxes and
 * test environments may not have. Anything else goes the usual way. */
static GdkPixbuf *
load (const char  *path,
      GError     **error)
{
  static const guint8 signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  g_autoptr(GdkPixbufLoader) loader = NULL;
  g_autofree char *contents = NULL;
  GdkPixbuf *pixbuf;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, error))
    return NULL;

  if (len < sizeof signature || memcmp (contents, signature, sizeof signature) != 0)
    return gdk_pixbuf_new_from_file (path, error);

  loader = gdk_pixbuf_loader_new_with_type ("png", error);
  if (loader == NULL)
    return NULL;

  if (!gdk_pixbuf_loader_write (loader, (const guint8 *)contents, len, error))
    {
      gdk_pixbuf_loader_close (loader, NULL);
      return NULL;
    }
  if (!gdk_pixbuf_loader_close (loader, error))
    return NULL;

  pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);
  if (pixbuf == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("The file has no image."));
      return NULL;
    }

  return g_object_ref (pixbuf);
}

guint8 *
kp_label_map_load_rgb (const char  *path,
                       int         *width,
                       int         *height,
                       gpointer     user_data,
                       GError     **error)
{
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GError) local_error = NULL;
  const guint8 *pixels;
  guint8 *rgb;
  int w, h, stride, channels;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (width != NULL && height != NULL, NULL);

  pixbuf = load (path, &local_error);
  if (pixbuf == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("Could not read the label map “%s”: %s"), path, local_error->message);
      return NULL;
    }

  if (gdk_pixbuf_get_bits_per_sample (pixbuf) != 8 ||
      gdk_pixbuf_get_colorspace (pixbuf) != GDK_COLORSPACE_RGB)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("The label map “%s” is not an 8-bit RGB image."), path);
      return NULL;
    }

  w = gdk_pixbuf_get_width (pixbuf);
  h = gdk_pixbuf_get_height (pixbuf);
  stride = gdk_pixbuf_get_rowstride (pixbuf);
  channels = gdk_pixbuf_get_n_channels (pixbuf);
  pixels = gdk_pixbuf_read_pixels (pixbuf);

  rgb = g_malloc ((gsize)w * h * 3);
  for (int y = 0; y < h; y++)
    {
      const guint8 *row = pixels + (gsize)y * stride;
      guint8 *out = rgb + (gsize)y * w * 3;

      if (channels == 3)
        memcpy (out, row, (gsize)w * 3);
      else
        for (int x = 0; x < w; x++)
          memcpy (out + x * 3, row + x * channels, 3);
    }

  *width = w;
  *height = h;

  return rgb;
}
