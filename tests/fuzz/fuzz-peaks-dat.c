/* fuzz-peaks-dat.c: libFuzzer target for audiowaveform .dat files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An input is a whole .dat file (version 1 or 2, 8- or 16-bit), as the
 * app reads one next to an audio file. When kp_peaks_new_from_dat_bytes()
 * accepts it:
 *
 * - writing it back in its own version and bit depth gives the same bytes;
 * - one column per base pair gives back each pair of channel 0, and one
 *   column over everything gives the envelope of every channel (so the
 *   pyramid levels agree with the data);
 * - columns over ranges a waveform view may ask for (partly before the
 *   start, past the end, below one pair per column) never read outside
 *   the peaks and are envelopes (min <= max) in -1..1.
 *
 * Refused input must come with a KP_PEAKS_ERROR_INVALID_DAT message.
 */

#include "config.h"

#include <string.h>

#include "kp-peaks.h"

#include "fuzz-common.h"

/* Columns of one checked range; a wide screen. */
#define MAX_COLUMNS 4096

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init_logging ();
  return 0;
}

static guint32
read_u32 (const uint8_t *p)
{
  return (guint32)p[0] | (guint32)p[1] << 8 | (guint32)p[2] << 16 | (guint32)p[3] << 24;
}

/* Value v (0 = min, 1 = max) of channel c of pair i of an accepted file. */
static int
value_at (const uint8_t *data,
          gsize          header,
          gboolean       eight_bit,
          guint          channels,
          guint          i,
          guint          c,
          guint          v)
{
  gsize index = ((gsize)i * channels + c) * 2 + v;

  if (eight_bit)
    return (gint8)data[header + index] * 256;

  return (gint16)(data[header + 2 * index] | data[header + 2 * index + 1] << 8);
}

static void
check_columns (KpPeaks *peaks,
               int      channel,
               gint64   start,
               gint64   end,
               guint    n_columns)
{
  g_autofree float *min = g_new (float, MAX (n_columns, 1));
  g_autofree float *max = g_new (float, MAX (n_columns, 1));
  guint filled;

  filled = kp_peaks_get_range (peaks, channel, start, end, n_columns, min, max);
  g_assert_cmpuint (filled, <=, n_columns);
  for (guint i = 0; i < n_columns; i++)
    {
      g_assert (min[i] >= -1.f && max[i] <= 1.f);
      g_assert (min[i] <= max[i]);
      if (i >= filled)
        g_assert (min[i] == 0.f && max[i] == 0.f);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GBytes) written = NULL;
  g_autoptr(KpPeaks) peaks = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree float *min = NULL;
  g_autofree float *max = NULL;
  guint version, channels, spp, n_pairs;
  gboolean eight_bit;
  gsize header;
  gint64 n_samples;
  int lo = G_MAXINT16, hi = G_MININT16;

  /* Anything larger only slows the fuzzer down: the size checks are
   * arithmetic on the header. */
  if (size > 256 * 1024)
    return 0;

  bytes = g_bytes_new (data, size);
  peaks = kp_peaks_new_from_dat_bytes (bytes, &error);
  if (peaks == NULL)
    {
      fuzz_assert_error (error);
      g_assert (g_error_matches (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_INVALID_DAT));
      return 0;
    }

  g_assert (kp_peaks_get_complete (peaks));
  version = read_u32 (data);
  eight_bit = (read_u32 (data + 4) & 1) != 0;
  header = version == 1 ? 20 : 24;
  channels = kp_peaks_get_channels (peaks);
  spp = kp_peaks_get_samples_per_pair (peaks);
  n_pairs = read_u32 (data + 16);
  n_samples = kp_peaks_get_n_samples (peaks);

  g_assert (version == 1 || version == 2);
  g_assert_cmpuint (channels, ==, version == 1 ? 1 : read_u32 (data + 20));
  g_assert_cmpuint (kp_peaks_get_sample_rate (peaks), ==, read_u32 (data + 8));
  g_assert_cmpuint (spp, ==, read_u32 (data + 12));
  g_assert_cmpint (n_samples, ==, (gint64)n_pairs * spp);
  g_assert_cmpint (kp_peaks_get_decoded_samples (peaks), ==, n_samples);

  /* Back to .dat in the same version and depth: the same file. */
  written = kp_peaks_to_dat_bytes (peaks, version, eight_bit ? 8 : 16);
  g_assert (g_bytes_equal (written, bytes));

  if (n_pairs == 0)
    {
      check_columns (peaks, -1, 0, 1000, 16);
      return 0;
    }

  /* One column per pair gives each pair back. */
  if (n_pairs <= MAX_COLUMNS)
    {
      min = g_new (float, n_pairs);
      max = g_new (float, n_pairs);
      g_assert_cmpuint (kp_peaks_get_range (peaks, 0, 0, n_samples, n_pairs, min, max), ==, n_pairs);
      for (guint i = 0; i < n_pairs; i++)
        {
          g_assert_cmpfloat (min[i], ==, value_at (data, header, eight_bit, channels, i, 0, 0) / 32768.f);
          g_assert_cmpfloat (max[i], ==, value_at (data, header, eight_bit, channels, i, 0, 1) / 32768.f);
        }
      g_clear_pointer (&min, g_free);
      g_clear_pointer (&max, g_free);
    }

  /* One column over everything is the envelope of every channel. */
  for (guint i = 0; i < n_pairs; i++)
    for (guint c = 0; c < channels; c++)
      {
        lo = MIN (lo, value_at (data, header, eight_bit, channels, i, c, 0));
        hi = MAX (hi, value_at (data, header, eight_bit, channels, i, c, 1));
      }
  min = g_new (float, 1);
  max = g_new (float, 1);
  g_assert_cmpuint (kp_peaks_get_range (peaks, -1, 0, n_samples, 1, min, max), ==, 1);
  g_assert_cmpfloat (min[0], ==, lo / 32768.f);
  g_assert_cmpfloat (max[0], ==, hi / 32768.f);

  /* What a view scrolled and zoomed anywhere asks for. */
  for (int channel = -1; channel < (int)MIN (channels, 3); channel++)
    {
      check_columns (peaks, channel, -n_samples / 4, n_samples + n_samples / 4, 1000);
      check_columns (peaks, channel, n_samples / 3, n_samples / 3 + spp / 2 + 1, 64);
      check_columns (peaks, channel, n_samples - 1, n_samples + spp * 8, 7);
      check_columns (peaks, channel, n_samples / 2, n_samples / 2 + (gint64)spp * 37, 5);
      check_columns (peaks, channel, n_samples, 2 * n_samples, 3);
    }

  return 0;
}
