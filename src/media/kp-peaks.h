/* kp-peaks.h: a min/max peaks pyramid of an audio file (GStreamer; no GTK)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Peaks are kept per channel (not mixed down: a view can draw channels
 * apart or ask for their envelope with channel -1) as 16-bit min/max pairs
 * of KP_PEAKS_DEFAULT_SAMPLES_PER_PAIR samples, plus levels 4× coarser each.
 *
 * A waveform view: kp_peaks_new (), connect "changed" (queue a redraw when
 * the new range is visible) and notify::n-samples (the length, known from
 * the first decoded buffer), then kp_peaks_load_async (). To draw, call
 * kp_peaks_get_range () with one column per pixel for the visible samples;
 * it works while decoding goes on and costs well under a millisecond for a
 * screen at any zoom. Zoomed in below one pair per pixel, read the samples
 * themselves with kp_audio_read_samples_async (). If loading fails (say, a
 * truncated file), what was decoded stays available.
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define KP_PEAKS_ERROR (kp_peaks_error_quark ())

typedef enum
{
  KP_PEAKS_ERROR_FAILED,
  KP_PEAKS_ERROR_MISSING_PLUGIN, /* a GStreamer element or decoder is not installed */
  KP_PEAKS_ERROR_UNSUPPORTED,    /* not audio, or a format nothing can read */
  KP_PEAKS_ERROR_CORRUPT,        /* truncated or damaged audio */
  KP_PEAKS_ERROR_INVALID_DAT,    /* a malformed audiowaveform .dat file */
} KpPeaksError;

typedef enum
{
  KP_PEAKS_LOAD_NONE     = 0,
  KP_PEAKS_LOAD_NO_CACHE = 1 << 0, /* neither read nor write the disk cache */
} KpPeaksLoadFlags;

/* The base resolution of peaks computed by decoding, in samples (frames) per
 * min/max pair, and the factor between pyramid levels. */
#define KP_PEAKS_DEFAULT_SAMPLES_PER_PAIR 256
#define KP_PEAKS_LEVEL_FACTOR             4
#define KP_PEAKS_MAX_CHANNELS             32

#define KP_TYPE_PEAKS (kp_peaks_get_type ())

G_DECLARE_FINAL_TYPE (KpPeaks, kp_peaks, KP, PEAKS, GObject)

GQuark      kp_peaks_error_quark          (void);

/* An empty KpPeaks; connect to "changed" and then call kp_peaks_load_async. */
KpPeaks    *kp_peaks_new                  (void) G_GNUC_WARN_UNUSED_RESULT;

/* Reads a BBC audiowaveform .dat file (version 1 or 2, 8- or 16-bit). The
 * result is complete; n-samples is length × samples per pixel. */
KpPeaks    *kp_peaks_new_from_dat         (const char           *path,
                                           GError              **error) G_GNUC_WARN_UNUSED_RESULT;
KpPeaks    *kp_peaks_new_from_dat_bytes   (GBytes               *bytes,
                                           GError              **error) G_GNUC_WARN_UNUSED_RESULT;

/* Writes the base level as .dat, atomically. Version 1 holds one channel, so
 * several channels are merged into one envelope; bits is 8 or 16. */
gboolean    kp_peaks_save_dat             (KpPeaks              *self,
                                           const char           *path,
                                           int                   version,
                                           int                   bits,
                                           GError              **error);
GBytes     *kp_peaks_to_dat_bytes         (KpPeaks              *self,
                                           int                   version,
                                           int                   bits) G_GNUC_WARN_UNUSED_RESULT;

/* Decodes file on a worker thread (or reads the cache), filling self in
 * progressively: "changed" is emitted on the calling thread's main context,
 * in order, each time more of the file is covered. Call once per KpPeaks. */
void        kp_peaks_load_async           (KpPeaks              *self,
                                           GFile                *file,
                                           KpPeaksLoadFlags      flags,
                                           GCancellable         *cancellable,
                                           GAsyncReadyCallback   callback,
                                           gpointer              user_data);
gboolean    kp_peaks_load_finish          (KpPeaks              *self,
                                           GAsyncResult         *result,
                                           GError              **error);

/* The file the disk cache would use for file, or NULL if file cannot be
 * read (exposed for tests and for cleaning up). */
char       *kp_peaks_dup_cache_path       (GFile                *file) G_GNUC_WARN_UNUSED_RESULT;

guint       kp_peaks_get_sample_rate      (KpPeaks              *self);
guint       kp_peaks_get_channels         (KpPeaks              *self);
guint       kp_peaks_get_samples_per_pair (KpPeaks              *self);
/* Total length in samples (frames): an estimate while decoding, exact once
 * complete (to a pair for peaks read from a .dat file); 0 if unknown. */
gint64      kp_peaks_get_n_samples        (KpPeaks              *self);
/* Samples (frames) from the start that the peaks cover so far. */
gint64      kp_peaks_get_decoded_samples  (KpPeaks              *self);
gboolean    kp_peaks_get_complete         (KpPeaks              *self);
guint       kp_peaks_get_n_levels         (KpPeaks              *self);

/* Fills min[i] and max[i] (in -1..1) for n_columns equal columns that split
 * the samples [start_sample, end_sample). channel is 0..channels-1, or -1 for
 * the envelope of all channels. Each column is the exact envelope of the
 * base pairs it touches, assembled from the pyramid (at most 6 pairs per
 * level), so the cost is O(n_columns × levels) at any zoom. Columns without
 * data (before sample 0, not decoded yet, past the end) are set to 0;
 * returns 1 + the index of the last column with data, 0 if none. Below
 * samples-per-pair per column the columns repeat their base pair
 * (sample-level drawing needs the samples themselves). */
guint       kp_peaks_get_range            (KpPeaks              *self,
                                           int                   channel,
                                           gint64                start_sample,
                                           gint64                end_sample,
                                           guint                 n_columns,
                                           float                *min,
                                           float                *max);

/* Sample-level zoom: decodes n_frames frames from start_sample (seeking
 * sample-accurately) as interleaved F32 in -1..1. Fewer frames come back at
 * the end of the file. For a widget zoomed in below samples-per-pair. */
void        kp_audio_read_samples_async   (GFile                *file,
                                           gint64                start_sample,
                                           guint                 n_frames,
                                           GCancellable         *cancellable,
                                           GAsyncReadyCallback   callback,
                                           gpointer              user_data);
GBytes     *kp_audio_read_samples_finish  (GAsyncResult         *result,
                                           guint                *channels,
                                           guint                *sample_rate,
                                           GError              **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
