/* kp-media.h: image decoding off the main thread (GdkPixbuf; no GTK)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <gio/gio.h>

#include "kp-core.h"

G_BEGIN_DECLS

#define KP_MEDIA_ERROR (kp_media_error_quark ())

typedef enum
{
  KP_MEDIA_ERROR_FAILED,
  KP_MEDIA_ERROR_NOT_AN_IMAGE,   /* unknown format, 0-byte file */
  KP_MEDIA_ERROR_CORRUPT,        /* known format, but truncated or damaged */
  KP_MEDIA_ERROR_UNREADABLE,     /* permission denied, I/O error */
  KP_MEDIA_ERROR_PENDING,        /* a large image's thumbnail waits for its tiles */
} KpMediaError;

/* Images at least this wide or high, or with at least this many pixels,
 * are never decoded whole: they are shown through a tile pyramid
 * (KpImagePyramid, KpImageLayer). */
#define KP_IMAGE_LARGE_SIDE   8192
#define KP_IMAGE_LARGE_PIXELS (48 * 1000 * 1000)

GQuark      kp_media_error_quark          (void);

gboolean    kp_image_size_is_large        (int                   width,
                                           int                   height);

/* Dimensions from the header and "sha256:<hex>" of the whole file.
 * Errors are sentences for people that name the file. */
gboolean    kp_image_probe                (const char           *path,
                                           int                  *width,
                                           int                  *height,
                                           char                **hash,
                                           GCancellable         *cancellable,
                                           GError              **error);

/* Decodes the whole image; a truncated or damaged file is an error
 * (KP_MEDIA_ERROR_CORRUPT), never a half-grey picture. */
GdkPixbuf  *kp_image_load                 (const char           *path,
                                           GCancellable         *cancellable,
                                           GError              **error) G_GNUC_WARN_UNUSED_RESULT;
void        kp_image_load_async           (const char           *path,
                                           GCancellable         *cancellable,
                                           GAsyncReadyCallback   callback,
                                           gpointer              user_data);
GdkPixbuf  *kp_image_load_finish          (GAsyncResult         *result,
                                           GError              **error) G_GNUC_WARN_UNUSED_RESULT;

/* A thumbnail no larger than size×size, keeping the aspect ratio. Cached as
 * PNG in cache_dir (may be NULL for no cache) under a name made from path,
 * size and mtime, so a changed file gets a new thumbnail. A large image
 * (kp_image_size_is_large) is never decoded whole for it: a JPEG is decoded
 * reduced; any other comes from the coarsest level of its tile pyramid in
 * the user cache directory (where KpImageLayer builds it), and until that
 * pyramid is complete the error is KP_MEDIA_ERROR_PENDING. */
GdkPixbuf  *kp_image_load_thumbnail       (const char           *path,
                                           int                   size,
                                           const char           *cache_dir,
                                           GCancellable         *cancellable,
                                           GError              **error) G_GNUC_WARN_UNUSED_RESULT;

/* Probes every media of the store that is not MISSING and lacks a hash or
 * dimensions, recording them (kp_store_set_media_info) or marking the media
 * BROKEN with the reason (kp_store_set_media_error). Blocking; run it in a
 * thread with that thread's own KpStore. Per-file failures are not errors;
 * only store failures and cancellation are. */
gboolean    kp_media_ensure_info          (KpStore              *store,
                                           GCancellable         *cancellable,
                                           GError              **error);

G_END_DECLS
