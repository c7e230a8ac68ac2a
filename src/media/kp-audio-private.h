/* kp-audio-private.h: GStreamer helpers shared by the audio code in src/media
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

G_BEGIN_DECLS

/* Initialises GStreamer on first use, so nothing else needs it. */
gboolean    _kp_audio_ensure_gst          (GError              **error);
/* A new element, or a KP_PEAKS_ERROR_MISSING_PLUGIN naming it and the
 * Debian package it comes from. */
GstElement *_kp_audio_make_element        (const char           *factory,
                                           const char           *package,
                                           GError              **error);
/* Maps a pipeline error to a sentence that names the file (name) and the
 * missing plugins (descriptions from missing-plugin messages). */
void        _kp_audio_set_error_from_gst  (GError              **error,
                                           const char           *name,
                                           GError               *gst_error,
                                           GPtrArray            *missing);

G_END_DECLS
