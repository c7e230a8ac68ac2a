/* kp-image-prefetcher.h: decodes the neighbouring images ahead of time
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define KP_TYPE_IMAGE_PREFETCHER (kp_image_prefetcher_get_type ())
G_DECLARE_FINAL_TYPE (KpImagePrefetcher, kp_image_prefetcher, KP, IMAGE_PREFETCHER, GObject)

/* Decodes images into GdkTextures in worker threads and keeps at most
 * capacity of them, keyed by media id, so that the next and previous
 * image show without waiting. Nothing here blocks the main thread. */
KpImagePrefetcher *kp_image_prefetcher_new      (guint              capacity);
/* Starts decoding path for media_id unless it is cached or under way. */
void               kp_image_prefetcher_request  (KpImagePrefetcher *self,
                                                 gint64             media_id,
                                                 const char        *path);
/* The decoded texture of media_id (a new reference), or NULL. */
GdkTexture        *kp_image_prefetcher_lookup   (KpImagePrefetcher *self,
                                                 gint64             media_id);
/* Stores a texture decoded elsewhere (the image shown now). */
void               kp_image_prefetcher_insert   (KpImagePrefetcher *self,
                                                 gint64             media_id,
                                                 GdkTexture        *texture);
/* Forgets every texture and request but those of ids, cancelling decodes. */
void               kp_image_prefetcher_keep_only (KpImagePrefetcher *self,
                                                  const gint64      *ids,
                                                  guint              n_ids);
void               kp_image_prefetcher_clear    (KpImagePrefetcher *self);
/* Whether media_id is being decoded now. */
gboolean           kp_image_prefetcher_is_pending (KpImagePrefetcher *self,
                                                   gint64             media_id);

/* Signal "ready" (gint64 media_id): a texture arrived. */

G_END_DECLS
