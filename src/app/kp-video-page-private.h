/* kp-video-page-private.h: KpVideoPage internals for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "kp-video.h"
#include "kp-video-page.h"

G_BEGIN_DECLS

GtkWidget     *_kp_video_page_get_frame_view    (KpVideoPage  *self);
GtkWidget     *_kp_video_page_get_timeline      (KpVideoPage  *self);
/* NULL until the video is open. */
KpTracks      *_kp_video_page_get_tracks        (KpVideoPage  *self);
KpVideoSource *_kp_video_page_get_source        (KpVideoPage  *self);
const GError  *_kp_video_page_get_error         (KpVideoPage  *self);
/* "label", "outside", "occluded", "propagate", "attribute-name",
 * "attribute-value", "new-label", "new-shape", "status". */
GtkWidget     *_kp_video_page_get_editor_widget (KpVideoPage  *self,
                                                 const char   *which);
/* What the export menu does once a file is chosen: format is "mot",
 * "cvat", "coco" or "gt". */
gboolean       _kp_video_page_export            (KpVideoPage  *self,
                                                 const char   *format,
                                                 const char   *path,
                                                 GError      **error);

G_END_DECLS
