/* kp-audio-page-private.h: KpAudioPage internals for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "kp-audio-page.h"
#include "kp-peaks.h"
#include "kp-player.h"

G_BEGIN_DECLS

/* The audio sink of players made by later loads (NULL: the one the
 * KP_AUDIO_SINK environment variable names, else autoaudiosink; tests
 * pass "fakesink"). */
void          _kp_audio_page_set_sink         (KpAudioPage  *self,
                                               const char   *sink_name);
GtkWidget    *_kp_audio_page_get_waveform     (KpAudioPage  *self);
KpRegions    *_kp_audio_page_get_regions      (KpAudioPage  *self);
KpPeaks      *_kp_audio_page_get_peaks        (KpAudioPage  *self);
KpPlayer     *_kp_audio_page_get_player       (KpAudioPage  *self);
const GError *_kp_audio_page_get_error        (KpAudioPage  *self);
/* "label", "tier", "transcript", "attribute-key", "attribute-value",
 * and the transport's "play", "speed", "loop", "spectrogram", "snap",
 * "time", the "status" line and the regions "list". */
GtkWidget    *_kp_audio_page_get_editor_entry (KpAudioPage  *self,
                                               const char   *which);
/* What the export menu and import item do once a file is chosen; the
 * format comes from path's extension. */
gboolean      _kp_audio_page_export           (KpAudioPage  *self,
                                               const char   *path,
                                               GError      **error);
gboolean      _kp_audio_page_import           (KpAudioPage  *self,
                                               const char   *path,
                                               GError      **error);

G_END_DECLS
