/* kp-media-item.h: one image of the project, as an item of a GListModel
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gdk/gdk.h>

#include "kp-core.h"

G_BEGIN_DECLS

#define KP_TYPE_MEDIA_ITEM (kp_media_item_get_type ())
G_DECLARE_FINAL_TYPE (KpMediaItem, kp_media_item, KP, MEDIA_ITEM, GObject)

/* Properties: "media-id", "path", "status" (int, a KpMediaStatus), "width",
 * "height", "error", "n-annotations", "thumbnail" (GdkPaintable or NULL) and
 * "thumbnail-failed". All are notified when they change. */
KpMediaItem    *kp_media_item_new                  (const KpMedia *media);

const KpMedia  *kp_media_item_get_media            (KpMediaItem   *self);
gint64          kp_media_item_get_media_id         (KpMediaItem   *self);
const char     *kp_media_item_get_path             (KpMediaItem   *self);
KpMediaStatus   kp_media_item_get_status           (KpMediaItem   *self);
int             kp_media_item_get_width            (KpMediaItem   *self);
int             kp_media_item_get_height           (KpMediaItem   *self);
const char     *kp_media_item_get_error            (KpMediaItem   *self);
GdkPaintable   *kp_media_item_get_thumbnail        (KpMediaItem   *self);
void            kp_media_item_set_thumbnail        (KpMediaItem   *self,
                                                    GdkPaintable  *thumbnail);
gboolean        kp_media_item_get_thumbnail_failed (KpMediaItem   *self);
void            kp_media_item_set_thumbnail_failed (KpMediaItem   *self,
                                                    gboolean       failed);

/* Takes the state of media (same id), notifying what changed. */
void            kp_media_item_update               (KpMediaItem   *self,
                                                    const KpMedia *media);

/* A sentence-case description of a status, for tooltips and screen readers. */
const char     *kp_media_status_to_label           (KpMediaStatus  status);
const char     *kp_media_status_to_icon_name       (KpMediaStatus  status);

G_END_DECLS
