/* kp-audio-page.h: the workstation's page for one audio file of a project
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "kp-core.h"

G_BEGIN_DECLS

#define KP_TYPE_AUDIO_PAGE (kp_audio_page_get_type ())
G_DECLARE_FINAL_TYPE (KpAudioPage, kp_audio_page, KP, AUDIO_PAGE, GtkWidget)

/* The window shows this page instead of the image canvas when the selected
 * media is audio (kp_media_path_is_audio ()). */
GtkWidget  *kp_audio_page_new    (void);
/* Shows media (a audio file of store's project): starts decoding at once,
 * never blocking; problems (a missing plugin, a corrupt file) are shown in
 * the page and reported through the "error" signal (const GError *). Its
 * annotations are saved as they are edited, beside the project database. */
void        kp_audio_page_load   (KpAudioPage    *self,
                                 KpStore       *store,
                                 const KpMedia *media);
/* Stops playback and decoding and saves; the page shows nothing. */
void        kp_audio_page_unload (KpAudioPage    *self);
/* Undo and redo of the page's edits; the window's undo/redo actions call
 * these while the page is shown. "can-undo" / "can-redo" are notified. */
gboolean    kp_audio_page_get_can_undo (KpAudioPage *self);
gboolean    kp_audio_page_get_can_redo (KpAudioPage *self);
gboolean    kp_audio_page_undo   (KpAudioPage    *self);
gboolean    kp_audio_page_redo   (KpAudioPage    *self);

G_END_DECLS
