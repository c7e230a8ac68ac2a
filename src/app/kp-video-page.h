/* kp-video-page.h: the workstation's page for one video file of a project
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "kp-core.h"

G_BEGIN_DECLS

#define KP_TYPE_VIDEO_PAGE (kp_video_page_get_type ())
G_DECLARE_FINAL_TYPE (KpVideoPage, kp_video_page, KP, VIDEO_PAGE, GtkWidget)

/* The window shows this page instead of the image canvas when the selected
 * media is video (kp_media_path_is_video ()). */
GtkWidget  *kp_video_page_new    (void);
/* Shows media (a video file of store's project): starts decoding at once,
 * never blocking; problems (a missing plugin, a corrupt file) are shown in
 * the page and reported through the "error" signal (const GError *). Its
 * annotations are saved as they are edited, beside the project database. */
void        kp_video_page_load   (KpVideoPage    *self,
                                 KpStore       *store,
                                 const KpMedia *media);
/* Stops playback and decoding and saves; the page shows nothing. */
void        kp_video_page_unload (KpVideoPage    *self);
/* Undo and redo of the page's edits; the window's undo/redo actions call
 * these while the page is shown. "can-undo" / "can-redo" are notified. */
gboolean    kp_video_page_get_can_undo (KpVideoPage *self);
gboolean    kp_video_page_get_can_redo (KpVideoPage *self);
gboolean    kp_video_page_undo   (KpVideoPage    *self);
gboolean    kp_video_page_redo   (KpVideoPage    *self);

G_END_DECLS
