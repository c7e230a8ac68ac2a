/* kp-spectrogram.h: a spectrogram of an audio file (GStreamer "spectrum")
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Computed on a worker thread by decoding the file through GStreamer's
 * spectrum element, then cached on disk. One column per hop (10 ms, or
 * longer for long files so that there are at most
 * KP_SPECTROGRAM_MAX_COLUMNS), KP_SPECTROGRAM_BANDS bands per column from
 * 0 Hz to half the sample rate, each a byte: 0 at KP_SPECTROGRAM_FLOOR_DB
 * or below, 255 at 0 dB.
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define KP_SPECTROGRAM_BANDS       256
#define KP_SPECTROGRAM_MAX_COLUMNS 16384
#define KP_SPECTROGRAM_MIN_HOP_NS  (10 * G_GINT64_CONSTANT (1000000))
#define KP_SPECTROGRAM_FLOOR_DB    (-90)

typedef enum
{
  KP_SPECTROGRAM_LOAD_NONE     = 0,
  KP_SPECTROGRAM_LOAD_NO_CACHE = 1 << 0, /* neither read nor write the disk cache */
} KpSpectrogramLoadFlags;

#define KP_TYPE_SPECTROGRAM (kp_spectrogram_get_type ())

G_DECLARE_FINAL_TYPE (KpSpectrogram, kp_spectrogram, KP, SPECTROGRAM, GObject)

KpSpectrogram *kp_spectrogram_new              (void) G_GNUC_WARN_UNUSED_RESULT;

/* Errors are KP_PEAKS_ERROR, naming the missing plugin or the damaged file.
 * Call once per KpSpectrogram; "complete" turns TRUE on success. */
void           kp_spectrogram_load_async       (KpSpectrogram          *self,
                                                GFile                  *file,
                                                KpSpectrogramLoadFlags  flags,
                                                GCancellable           *cancellable,
                                                GAsyncReadyCallback     callback,
                                                gpointer                user_data);
gboolean       kp_spectrogram_load_finish      (KpSpectrogram          *self,
                                                GAsyncResult           *result,
                                                GError                **error);
/* Only the stretch [start, start + duration) in ns, one column per hop
 * (at least KP_SPECTROGRAM_MIN_HOP_NS, and long enough for at most
 * KP_SPECTROGRAM_MAX_COLUMNS): the detail a view zoomed into a long file
 * needs. Not cached. Finish with kp_spectrogram_load_finish (). */
void           kp_spectrogram_load_range_async (KpSpectrogram          *self,
                                                GFile                  *file,
                                                gint64                  start,
                                                gint64                  duration,
                                                gint64                  hop,
                                                GCancellable           *cancellable,
                                                GAsyncReadyCallback     callback,
                                                gpointer                user_data);
/* Where column 0 starts, in ns: 0 unless loaded as a range. */
gint64         kp_spectrogram_get_start        (KpSpectrogram          *self);
/* Whether the last load came from the disk cache. */
gboolean       kp_spectrogram_get_from_cache   (KpSpectrogram          *self);

gboolean       kp_spectrogram_get_complete     (KpSpectrogram          *self);
guint          kp_spectrogram_get_sample_rate  (KpSpectrogram          *self);
guint          kp_spectrogram_get_n_bands      (KpSpectrogram          *self);
guint          kp_spectrogram_get_n_columns    (KpSpectrogram          *self);
/* Nanoseconds per column. */
gint64         kp_spectrogram_get_hop          (KpSpectrogram          *self);
/* n_columns × n_bands bytes, column after column, lowest band first; NULL
 * until complete. */
const guint8  *kp_spectrogram_get_data         (KpSpectrogram          *self);

G_END_DECLS
