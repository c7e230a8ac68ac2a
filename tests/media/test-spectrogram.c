/* test-spectrogram.c: KpSpectrogram finds a tone where it is, and caches
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <gst/gst.h>

#include "kp-peaks.h"
#include "kp-spectrogram.h"

static void
run_pipeline (const char *desc)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GstElement) pipeline = gst_parse_launch (desc, &error);
  g_autoptr(GstBus) bus = NULL;
  g_autoptr(GstMessage) msg = NULL;

  g_assert_no_error (error);
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  g_assert_cmpint (GST_MESSAGE_TYPE (msg), ==, GST_MESSAGE_EOS);
  gst_element_set_state (pipeline, GST_STATE_NULL);
}

static void
load_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static gboolean
load (KpSpectrogram           *spec,
      const char              *path,
      KpSpectrogramLoadFlags   flags,
      GError                 **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GAsyncResult) result = NULL;

  kp_spectrogram_load_async (spec, file, flags, NULL, load_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return kp_spectrogram_load_finish (spec, result, error);
}

/* The band with most energy, averaged over columns [from, to). */
static guint
loudest_band (KpSpectrogram *spec,
              guint          from,
              guint          to)
{
  const guint8 *data = kp_spectrogram_get_data (spec);
  guint bands = kp_spectrogram_get_n_bands (spec);
  guint best = 0;
  double best_sum = -1;

  for (guint b = 0; b < bands; b++)
    {
      double sum = 0;

      for (guint c = from; c < to; c++)
        sum += data[c * bands + b];
      if (sum > best_sum)
        {
          best_sum = sum;
          best = b;
        }
    }
  return best;
}

static void
test_tone (void)
{
  g_autofree char *dir = g_dir_make_tmp ("kp-spec-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "tones.wav", NULL);
  g_autofree char *desc = NULL;
  g_autoptr(KpSpectrogram) spec = kp_spectrogram_new ();
  g_autoptr(KpSpectrogram) cached = kp_spectrogram_new ();
  g_autoptr(GError) error = NULL;
  double hz_per_band;
  guint n;

  /* 1 s at 1 kHz then 1 s at 5 kHz, 16 kHz mono. */
  desc = g_strdup_printf ("concat name=c ! audioconvert ! wavenc ! filesink location=\"%s\" "
                          "audiotestsrc freq=1000 num-buffers=10 samplesperbuffer=1600 ! "
                          "audio/x-raw,rate=16000,channels=1 ! c. "
                          "audiotestsrc freq=5000 num-buffers=10 samplesperbuffer=1600 ! "
                          "audio/x-raw,rate=16000,channels=1 ! c.", path);
  run_pipeline (desc);

  g_assert_true (load (spec, path, KP_SPECTROGRAM_LOAD_NONE, &error));
  g_assert_no_error (error);
  g_assert_true (kp_spectrogram_get_complete (spec));
  g_assert_false (kp_spectrogram_get_from_cache (spec));
  g_assert_cmpuint (kp_spectrogram_get_sample_rate (spec), ==, 16000);
  g_assert_cmpint (kp_spectrogram_get_hop (spec), ==, KP_SPECTROGRAM_MIN_HOP_NS);
  n = kp_spectrogram_get_n_columns (spec);
  g_assert_cmpuint (n, >=, 195);
  g_assert_cmpuint (n, <=, 201);

  hz_per_band = 8000.0 / KP_SPECTROGRAM_BANDS;
  /* From the very first column: what prerolled is not lost. */
  g_assert_cmpfloat (ABS (loudest_band (spec, 0, 3) * hz_per_band - 1000), <, 2 * hz_per_band);
  g_assert_cmpfloat (ABS (loudest_band (spec, 10, 90) * hz_per_band - 1000), <, 2 * hz_per_band);
  g_assert_cmpfloat (ABS (loudest_band (spec, 110, 190) * hz_per_band - 5000), <, 2 * hz_per_band);

  /* The second load comes from the disk cache, identical. */
  g_assert_true (load (cached, path, KP_SPECTROGRAM_LOAD_NONE, &error));
  g_assert_true (kp_spectrogram_get_from_cache (cached));
  g_assert_cmpuint (kp_spectrogram_get_n_columns (cached), ==, n);
  g_assert_cmpmem (kp_spectrogram_get_data (cached), n * KP_SPECTROGRAM_BANDS,
                   kp_spectrogram_get_data (spec), n * KP_SPECTROGRAM_BANDS);

  /* A stretch across the change of tone, on its own columns. */
  {
    g_autoptr(KpSpectrogram) range = kp_spectrogram_new ();
    g_autoptr(GFile) file = g_file_new_for_path (path);
    g_autoptr(GAsyncResult) result = NULL;
    guint m;

    kp_spectrogram_load_range_async (range, file, 900 * G_GINT64_CONSTANT (1000000),
                                     400 * G_GINT64_CONSTANT (1000000), 0, NULL, load_cb, &result);
    while (result == NULL)
      g_main_context_iteration (NULL, TRUE);
    g_assert_true (kp_spectrogram_load_finish (range, result, &error));
    g_assert_no_error (error);
    g_assert_cmpint (kp_spectrogram_get_start (range), ==, 900 * G_GINT64_CONSTANT (1000000));
    g_assert_cmpint (kp_spectrogram_get_hop (range), ==, KP_SPECTROGRAM_MIN_HOP_NS);
    m = kp_spectrogram_get_n_columns (range);
    g_test_message ("%u columns in the range", m);
    g_assert_cmpuint (m, >=, 36);
    g_assert_cmpuint (m, <=, 41);
    g_assert_cmpfloat (ABS (loudest_band (range, 1, 8) * hz_per_band - 1000), <, 2 * hz_per_band);
    g_assert_cmpfloat (ABS (loudest_band (range, 13, m - 1) * hz_per_band - 5000), <, 2 * hz_per_band);
  }

  g_unlink (path);
  g_rmdir (dir);
}

/* ADTS frames of silence, with every AAC decoder ranked out of automatic
 * use in this process: the decoder is then missing, as on a system
 * without gstreamer1.0-libav. */
static void
write_undecodable_aac (const char *path)
{
  static const char * const decoders[] = { "avdec_aac", "avdec_aac_fixed", "avdec_aac_latm",
                                           "faad", "fdkaacdec", "voaacdec", NULL };
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  const guint frame_len = 7 + 16;
  const guint8 adts[7] = { 0xFF, 0xF1, 0x4C, 0x40 | ((frame_len >> 11) & 3), (frame_len >> 3) & 0xFF,
                           ((frame_len & 7) << 5) | 0x1F, 0xFC };
  const guint8 silence[16] = { 0 };

  for (guint i = 0; decoders[i] != NULL; i++)
    {
      g_autoptr(GstElementFactory) factory = gst_element_factory_find (decoders[i]);

      if (factory != NULL)
        gst_plugin_feature_set_rank (GST_PLUGIN_FEATURE (factory), GST_RANK_NONE);
    }
  for (guint i = 0; i < 200; i++)
    {
      g_byte_array_append (bytes, adts, sizeof adts);
      g_byte_array_append (bytes, silence, sizeof silence);
    }
  g_assert_true (g_file_set_contents (path, (const char *)bytes->data, bytes->len, NULL));
}

static void
test_errors (void)
{
  g_autofree char *dir = g_dir_make_tmp ("kp-spec-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "text.flac", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.wav", NULL);
  g_autoptr(KpSpectrogram) spec = kp_spectrogram_new ();
  g_autoptr(KpSpectrogram) spec2 = kp_spectrogram_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (path, "plain text, not FLAC\n", -1, NULL));
  g_assert_false (load (spec, path, KP_SPECTROGRAM_LOAD_NO_CACHE, &error));
  g_assert_true (error->domain == KP_PEAKS_ERROR);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "text.flac"));
  g_assert_false (kp_spectrogram_get_complete (spec));
  g_clear_error (&error);

  g_assert_false (load (spec2, missing, KP_SPECTROGRAM_LOAD_NO_CACHE, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* No decoder for the codec: named, with the file. */
  {
    g_autofree char *aac = g_build_filename (dir, "speech.aac", NULL);
    g_autoptr(KpSpectrogram) spec3 = kp_spectrogram_new ();

    write_undecodable_aac (aac);
    g_assert_false (load (spec3, aac, KP_SPECTROGRAM_LOAD_NO_CACHE, &error));
    g_test_message ("%s", error->message);
    g_assert_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_MISSING_PLUGIN);
    g_assert_nonnull (strstr (error->message, "AAC"));
    g_assert_nonnull (strstr (error->message, "speech.aac"));
    g_unlink (aac);
  }

  g_unlink (path);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  gst_init (&argc, &argv);

  g_test_add_func ("/kempelen/media/spectrogram/tone", test_tone);
  g_test_add_func ("/kempelen/media/spectrogram/errors", test_errors);

  return g_test_run ();
}
