/* kp-label-map.h: reading label-map images for import (GdkPixbuf; no GTK)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "kp-core.h"

G_BEGIN_DECLS

/* A KpImportLoadRgbFunc: decodes the image at path (PNG and whatever else
 * GdkPixbuf reads) into 8-bit RGB rows of width * 3 bytes, alpha dropped.
 * Core writes label maps itself (kp_export_png_gray8()); reading needs a
 * decoder, which core does not have. user_data is unused. */
guint8   *kp_label_map_load_rgb  (const char  *path,
                                  int         *width,
                                  int         *height,
                                  gpointer     user_data,
                                  GError     **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
