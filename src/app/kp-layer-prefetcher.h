/* kp-layer-prefetcher.h: tile pyramids of neighbouring large images, built ahead
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "kp-image-layer.h"

G_BEGIN_DECLS

#define KP_TYPE_LAYER_PREFETCHER (kp_layer_prefetcher_get_type ())
G_DECLARE_FINAL_TYPE (KpLayerPrefetcher, kp_layer_prefetcher, KP, LAYER_PREFETCHER, GObject)

/* Memory a layer that is not shown may keep for its decoded tiles. */
#define KP_LAYER_PREFETCHER_BACKGROUND_CAP ((gsize)32 * 1024 * 1024)

/* A large image the window may show next. */
typedef struct
{
  gint64      media_id;
  const char *path;
} KpLayerWish;

/* Signal "built" (gint64 media_id): the pyramid of a kept layer, shown
 * or prepared, was completed (its thumbnail can be made now).
 *
 * Layers are opened with tiles in cache_dir (NULL: the user cache
 * directory, as the window's own). */
KpLayerPrefetcher *kp_layer_prefetcher_new        (const char        *cache_dir);

/* The layer kept for media_id (shown before, or prepared), or NULL. */
KpImageLayer      *kp_layer_prefetcher_lookup     (KpLayerPrefetcher *self,
                                                   gint64             media_id);

/* The window shows layer for media_id (0 and NULL: no large image). It is
 * kept, at its full memory cap, while it stays the current or a wished
 * image; the others go down to KP_LAYER_PREFETCHER_BACKGROUND_CAP. */
void               kp_layer_prefetcher_set_current (KpLayerPrefetcher *self,
                                                    gint64             media_id,
                                                    KpImageLayer      *layer);

/* The large images likely to be shown next, most likely first. Layers of
 * other images are dropped (their builds cancelled); the wished ones are
 * opened one at a time, each once the current image's pyramid and the
 * previous wish's are built, so preparing never competes with what the
 * user looks at. */
void               kp_layer_prefetcher_wish       (KpLayerPrefetcher *self,
                                                   const KpLayerWish *wishes,
                                                   guint              n_wishes);

/* Drops every layer and cancels what is being opened or built. */
void               kp_layer_prefetcher_clear      (KpLayerPrefetcher *self);

/* For tests: whether a wished layer is being opened or built. */
gboolean           kp_layer_prefetcher_is_busy    (KpLayerPrefetcher *self);

G_END_DECLS
