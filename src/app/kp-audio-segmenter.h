/* kp-audio-segmenter.h: the kp-audio-segmenter layout element, and a small player
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

#include "kp-core.h"

G_BEGIN_DECLS

#define KP_TYPE_AUDIO_SEGMENTER (kp_audio_segmenter_get_type ())
G_DECLARE_FINAL_TYPE (KpAudioSegmenter, kp_audio_segmenter, KP, AUDIO_SEGMENTER, GtkWidget)

/* The worker's widget for <kp-audio-segmenter name src labels header>: a
 * header, the waveform of src (drag to make a segment, 1–9 to label it),
 * play/pause and the list of segments.
 *
 * src is resolved as the template wrote it: an absolute URI (file:, http:,
 * …), or a path relative to base (the template's folder; NULL for the
 * current directory). labels is the element's labels attribute already
 * split (NULL or empty: segments are unlabelled); header may be NULL.
 * Decoding starts at once, off the UI thread; a file that cannot be read
 * shows its error in the widget (and kp_audio_segmenter_get_error ()).
 * Remote media (not a local file) is fetched only once the person clicks
 * the widget's Load button: building a layout never touches the network.
 *
 * Signal "changed": the segments changed (made, moved, resized, labelled,
 * deleted, or set by kp_audio_segmenter_set_value ()).
 *
 * Value, as src/core/kp-layout-answer.c answer_segments () takes it:
 *   {"segments": [{"label": "speech", "startTime": 1.5, "endTime": 2.25}, …]}
 * times in seconds, sorted by start. */
GtkWidget  *kp_audio_segmenter_new        (const char          *src,
                                           GFile               *base,
                                           const char * const  *labels,
                                           const char          *header);
/* A small player for <audio> (inside crowd-classifier, say): the waveform
 * with a playhead and a play/pause button, no segments. Its value is NULL. */
GtkWidget  *kp_audio_segmenter_new_player (const char          *src,
                                           GFile               *base);

/* A new JSON node as described above; NULL for a player. */
JsonNode   *kp_audio_segmenter_dup_value  (KpAudioSegmenter    *self) G_GNUC_WARN_UNUSED_RESULT;
/* Replaces the segments with those of value (a draft; NULL clears them).
 * Accepts the value's shape or the bare array of segments. Returns FALSE
 * (and changes nothing) when value is not of that shape. Segments are
 * kept in seconds until the file's sample rate is known. */
gboolean    kp_audio_segmenter_set_value  (KpAudioSegmenter    *self,
                                           JsonNode            *value);
/* The error that keeps the audio from showing, or NULL. */
const GError *kp_audio_segmenter_get_error (KpAudioSegmenter   *self);
/* The segments as regions (for tests and the layout view); borrowed. */
KpRegions  *kp_audio_segmenter_get_regions (KpAudioSegmenter   *self);
/* The KpWaveform inside (for tests); borrowed. */
GtkWidget  *kp_audio_segmenter_get_waveform (KpAudioSegmenter  *self);

G_END_DECLS
