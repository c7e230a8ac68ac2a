/* kp-thumbnailer.h: loads list thumbnails on a small bounded thread pool
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "kp-media-item.h"

G_BEGIN_DECLS

#define KP_TYPE_THUMBNAILER (kp_thumbnailer_get_type ())
G_DECLARE_FINAL_TYPE (KpThumbnailer, kp_thumbnailer, KP, THUMBNAILER, GObject)

/* At most two worker threads decode thumbnails, in request order; a request
 * cancelled before it runs costs nothing. The result lands in the item's
 * "thumbnail" (or "thumbnail-failed") on the main thread. Nothing runs before
 * kp_thumbnailer_start(), so the first frame does not compete with decoding. */
KpThumbnailer *kp_thumbnailer_new        (const char    *cache_dir,
                                          int            size);
void           kp_thumbnailer_start      (KpThumbnailer *self);
gboolean       kp_thumbnailer_get_started (KpThumbnailer *self);
int            kp_thumbnailer_get_size   (KpThumbnailer *self);
void           kp_thumbnailer_request    (KpThumbnailer *self,
                                          KpMediaItem   *item,
                                          const char    *path);
void           kp_thumbnailer_cancel     (KpThumbnailer *self,
                                          KpMediaItem   *item);
/* Cancels every pending request; no result is delivered afterwards. */
void           kp_thumbnailer_cancel_all (KpThumbnailer *self);
guint          kp_thumbnailer_get_n_pending (KpThumbnailer *self);

G_END_DECLS
