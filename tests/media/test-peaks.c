/* test-peaks.c: the peaks pyramid, its cache and audiowaveform .dat I/O
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gst/gst.h>

#include "kp-peaks.h"

/* The fixture signal: 48 kHz stereo, three regions of REGION samples, which
 * line up with the pyramid's pairs up to level 4 (256 × 4^4 = 65536):
 * silence, a step to +0.25 and a 440 Hz sine of amplitude 0.5. The right
 * channel is the left one times -0.5. */
#define RATE 48000
#define REGION 65536
#define N_FRAMES (3 * REGION)

static double
signal_at (gint64 i)
{
  if (i < REGION)
    return 0.0;
  if (i < 2 * REGION)
    return 0.25;
  return 0.5 * sin (2 * G_PI * 440.0 * (double)(i - 2 * REGION) / RATE);
}

static void
put_u32 (GByteArray *b,
         guint32     v)
{
  guint32 le = GUINT32_TO_LE (v);

  g_byte_array_append (b, (const guint8 *)&le, 4);
}

static void
put_u16 (GByteArray *b,
         guint16     v)
{
  guint16 le = GUINT16_TO_LE (v);

  g_byte_array_append (b, (const guint8 *)&le, 2);
}

/* A canonical 16-bit PCM WAV of n_frames of the fixture signal, scaled,
 * with channel k at gains[k] of channel 0. */
static const double gains[] = { 1.0, -0.5, 0.25 };

static char *
write_wav_channels (const char *name,
                    gint64      n_frames,
                    double      scale,
                    guint       channels)
{
  g_autoptr(GByteArray) b = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (g_get_user_data_dir (), name, NULL);
  guint32 data_size = (guint32)(n_frames * 2 * channels);

  g_mkdir_with_parents (g_get_user_data_dir (), 0700);
  g_byte_array_append (b, (const guint8 *)"RIFF", 4);
  put_u32 (b, 36 + data_size);
  g_byte_array_append (b, (const guint8 *)"WAVEfmt ", 8);
  put_u32 (b, 16);
  put_u16 (b, 1);
  put_u16 (b, (guint16)channels);
  put_u32 (b, RATE);
  put_u32 (b, RATE * 2 * channels);
  put_u16 (b, (guint16)(2 * channels));
  put_u16 (b, 16);
  g_byte_array_append (b, (const guint8 *)"data", 4);
  put_u32 (b, data_size);
  for (gint64 i = 0; i < n_frames; i++)
    {
      double v = signal_at (i % N_FRAMES) * scale;

      for (guint c = 0; c < channels; c++)
        put_u16 (b, (guint16)(gint16)lrint (gains[c] * v * 32767));
    }

  g_file_set_contents (path, (const char *)b->data, b->len, &error);
  g_assert_no_error (error);
  return path;
}

static char *
write_wav (const char *name,
           gint64      n_frames,
           double      scale)
{
  return write_wav_channels (name, n_frames, scale, 2);
}

static gboolean
have_elements (const char * const *names)
{
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autoptr(GstElementFactory) f = gst_element_factory_find (names[i]);

      if (f == NULL)
        {
          g_autofree char *msg = g_strdup_printf ("the GStreamer element %s is not installed",
                                                  names[i]);
          g_test_skip (msg);
          return FALSE;
        }
    }
  return TRUE;
}

/* Runs a gst-launch style pipeline to the end. */
static void
run_pipeline (const char *description)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GstElement) pipeline = gst_parse_launch (description, &error);
  g_autoptr(GstBus) bus = NULL;
  g_autoptr(GstMessage) msg = NULL;

  g_assert_no_error (error);
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
    {
      gst_message_parse_error (msg, &error, NULL);
      g_assert_no_error (error);
    }
  gst_element_set_state (pipeline, GST_STATE_NULL);
}

static char *
encode_fixture (const char *wav,
                const char *name,
                const char *encoder)
{
  char *path = g_build_filename (g_get_user_data_dir (), name, NULL);
  g_autofree char *desc = g_strdup_printf ("filesrc location=\"%s\" ! wavparse ! audioconvert ! "
                                           "%s ! filesink location=\"%s\"", wav, encoder, path);

  run_pipeline (desc);
  return path;
}

/* GTask's worker drops its reference on the source object just after the
 * result is handed over, so wait (briefly) for the last one to go. */
static void
assert_finalized (gpointer object)
{
  gpointer weak = object;
  gint64 deadline = g_get_monotonic_time () + 5 * G_TIME_SPAN_SECOND;

  g_object_add_weak_pointer (object, &weak);
  g_object_unref (object);
  while (weak != NULL && g_get_monotonic_time () < deadline)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_null (weak);
}

/* Loading */

typedef struct
{
  GAsyncResult *result;
  GArray *changes; /* pairs of gint64 */
  GCancellable *cancel_on_change;
} LoadState;

static void
changed_cb (KpPeaks  *peaks,
            gint64    start,
            gint64    end,
            gpointer  user_data)
{
  LoadState *state = user_data;
  float min[64], max[64];

  g_array_append_val (state->changes, start);
  g_array_append_val (state->changes, end);

  /* What a view draws from during decoding: everything decoded is there. */
  g_assert_cmpint (kp_peaks_get_decoded_samples (peaks), ==, end);
  g_assert_cmpuint (kp_peaks_get_sample_rate (peaks), ==, RATE);
  g_assert_cmpuint (kp_peaks_get_range (peaks, -1, 0, end, 64, min, max), ==, 64);

  if (state->cancel_on_change != NULL)
    g_cancellable_cancel (state->cancel_on_change);
}

static void
load_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  LoadState *state = user_data;

  state->result = g_object_ref (result);
}

static void
load_cb_result (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static gboolean
load (KpPeaks           *peaks,
      const char        *path,
      KpPeaksLoadFlags   flags,
      GCancellable      *cancellable,
      GArray           **changes,
      GError           **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  LoadState state = { NULL, g_array_new (FALSE, FALSE, sizeof (gint64)), NULL };
  gulong id;
  gboolean ok;

  state.cancel_on_change = changes == NULL ? cancellable : NULL;
  id = g_signal_connect (peaks, "changed", G_CALLBACK (changed_cb), &state);
  kp_peaks_load_async (peaks, file, flags, cancellable, load_cb, &state);
  while (state.result == NULL)
    g_main_context_iteration (NULL, TRUE);
  ok = kp_peaks_load_finish (peaks, state.result, error);
  g_signal_handler_disconnect (peaks, id);
  g_object_unref (state.result);

  /* Nothing may arrive after the result. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  if (changes != NULL)
    *changes = g_steal_pointer (&state.changes);
  else
    g_array_unref (state.changes);
  return ok;
}

static KpPeaks *
load_ok (const char       *path,
         KpPeaksLoadFlags  flags)
{
  g_autoptr(KpPeaks) peaks = kp_peaks_new ();
  g_autoptr(GError) error = NULL;

  load (peaks, path, flags, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (kp_peaks_get_complete (peaks));
  return g_steal_pointer (&peaks);
}

/* Checks one column of the fixture, given the region it lies in. */
static void
assert_region (float  min,
               float  max,
               int    region,
               int    channel,
               double tolerance)
{
  double scale = channel == 1 ? -0.5 : 1.0;
  double lo, hi;

  switch (region)
    {
    case 0:
      lo = hi = 0.0;
      break;
    case 1:
      lo = hi = 0.25 * scale;
      break;
    default:
      lo = -0.5 * fabs (scale);
      hi = 0.5 * fabs (scale);
      break;
    }
  if (channel == -1)
    {
      lo = MIN (lo, region == 1 ? -0.125 : lo);
      hi = MAX (hi, hi);
    }
  g_assert_cmpfloat_with_epsilon (min, lo, tolerance);
  g_assert_cmpfloat_with_epsilon (max, hi, tolerance);
}

/* The fixture at several zoom levels: 3 to 1536 columns over the whole file
 * (1536 is below the base resolution), and a zoomed-in window. */
static void
check_fixture_peaks (KpPeaks *peaks,
                     double   tolerance,
                     gboolean check_step)
{
  static const guint columns[] = { 3, 6, 12, 48, 192, 768, 1536 };

  g_assert_cmpuint (kp_peaks_get_sample_rate (peaks), ==, RATE);
  g_assert_cmpuint (kp_peaks_get_channels (peaks), ==, 2);

  for (guint k = 0; k < G_N_ELEMENTS (columns); k++)
    {
      guint n = columns[k];
      g_autofree float *min = g_new (float, n);
      g_autofree float *max = g_new (float, n);

      for (int channel = -1; channel < 2; channel++)
        {
          g_assert_cmpuint (kp_peaks_get_range (peaks, channel, 0, N_FRAMES, n, min, max), ==, n);
          for (guint i = 0; i < n; i++)
            {
              int region = (int)(i * 3 / n);
              gint64 s0 = (gint64)i * N_FRAMES / n, s1 = (gint64)(i + 1) * N_FRAMES / n;

              /* Lossy codecs ring around the steps and shift a little. */
              if (!check_step &&
                  (region == 1 || s0 < REGION + 4096 || (s0 < 2 * REGION + 4096 && s1 > 2 * REGION - 4096)))
                continue;
              assert_region (min[i], max[i], region, channel, tolerance);
            }
        }
    }

  /* 100 columns inside the sine region, one per 50 samples. */
  {
    float min[100], max[100];

    g_assert_cmpuint (kp_peaks_get_range (peaks, 0, 2 * REGION + 8000, 2 * REGION + 13000,
                                          100, min, max), ==, 100);
    for (guint i = 0; i < 100; i++)
      assert_region (min[i], max[i], 2, 0, tolerance);
  }
}

static void
test_decode_wav (void)
{
  g_autofree char *wav = write_wav ("fixture.wav", N_FRAMES, 1.0);
  g_autoptr(KpPeaks) peaks = load_ok (wav, KP_PEAKS_LOAD_NO_CACHE);
  float min[4], max[4];

  g_assert_cmpint (kp_peaks_get_n_samples (peaks), ==, N_FRAMES);
  g_assert_cmpint (kp_peaks_get_decoded_samples (peaks), ==, N_FRAMES);
  g_assert_cmpuint (kp_peaks_get_samples_per_pair (peaks), ==, 256);
  g_assert_cmpuint (kp_peaks_get_n_levels (peaks), >=, 5);
  check_fixture_peaks (peaks, 0.001, TRUE);

  /* Past the end and before the start there is nothing. */
  g_assert_cmpuint (kp_peaks_get_range (peaks, 0, N_FRAMES, 2 * N_FRAMES, 4, min, max), ==, 0);
  g_assert_cmpfloat (max[0], ==, 0.f);
  g_assert_cmpuint (kp_peaks_get_range (peaks, 0, -N_FRAMES, N_FRAMES, 4, min, max), ==, 4);
  g_assert_cmpfloat (max[0], ==, 0.f);
  g_assert_cmpfloat_with_epsilon (max[3], 0.5, 0.001);

  assert_finalized (g_steal_pointer (&peaks));
}

/* Mono takes the vector path with one channel per lane, three channels the
 * scalar path. */
static void
test_decode_channels (void)
{
  for (guint channels = 1; channels <= 3; channels += 2)
    {
      g_autofree char *wav = write_wav_channels ("channels.wav", N_FRAMES + 77, 1.0, channels);
      g_autoptr(KpPeaks) peaks = load_ok (wav, KP_PEAKS_LOAD_NO_CACHE);
      float min[768], max[768];

      g_assert_cmpuint (kp_peaks_get_channels (peaks), ==, channels);
      g_assert_cmpint (kp_peaks_get_n_samples (peaks), ==, N_FRAMES + 77);
      for (guint c = 0; c < channels; c++)
        {
          double g = gains[c];

          g_assert_cmpuint (kp_peaks_get_range (peaks, (int)c, 0, N_FRAMES, 768, min, max), ==, 768);
          for (guint i = 0; i < 768; i++)
            {
              double lo = i < 256 ? 0 : i < 512 ? 0.25 * g : -0.5 * fabs (g);
              double hi = i < 256 ? 0 : i < 512 ? 0.25 * g : 0.5 * fabs (g);

              g_assert_cmpfloat_with_epsilon (min[i], lo, 0.001);
              g_assert_cmpfloat_with_epsilon (max[i], hi, 0.001);
            }
        }

      /* The 77 samples (silence again) past the last whole pair are a
       * pair of their own. */
      g_assert_cmpuint (kp_peaks_get_range (peaks, 0, N_FRAMES, N_FRAMES + 77, 2, min, max), ==, 2);
      g_assert_cmpfloat (max[0], ==, 0.f);
      g_assert_cmpfloat (max[1], ==, 0.f);
      g_assert_cmpuint (kp_peaks_get_range (peaks, 0, N_FRAMES, N_FRAMES + 256, 2, min, max), ==, 1);
      assert_finalized (g_steal_pointer (&peaks));
    }
}

static void
test_decode_format (gconstpointer user_data)
{
  const char * const *spec = user_data; /* name, encoder, tolerance, elements… */
  g_autofree char *wav = NULL;
  g_autofree char *encoded = NULL;
  g_autoptr(KpPeaks) peaks = NULL;
  double tolerance = g_ascii_strtod (spec[2], NULL);
  gint64 n;

  if (!have_elements (spec + 3))
    return;

  wav = write_wav ("fixture.wav", N_FRAMES, 1.0);
  encoded = encode_fixture (wav, spec[0], spec[1]);
  peaks = load_ok (encoded, KP_PEAKS_LOAD_NO_CACHE);

  /* Lossy codecs pad and trim a little; lossless ones are exact. */
  n = kp_peaks_get_n_samples (peaks);
  if (tolerance < 0.01)
    g_assert_cmpint (n, ==, N_FRAMES);
  else
    g_assert_cmpint (labs ((long)(n - N_FRAMES)), <, N_FRAMES / 50);
  check_fixture_peaks (peaks, tolerance, tolerance < 0.01);

  assert_finalized (g_steal_pointer (&peaks));
}

static void
test_progress (void)
{
  /* 80 s: long enough for several chunks of progress. */
  gint64 n_frames = 80 * RATE;
  g_autofree char *wav = write_wav ("long.wav", n_frames, 1.0);
  g_autoptr(KpPeaks) peaks = kp_peaks_new ();
  g_autoptr(GArray) changes = NULL;
  g_autoptr(GError) error = NULL;
  const gint64 *c;

  g_assert_true (load (peaks, wav, KP_PEAKS_LOAD_NO_CACHE, NULL, &changes, &error));
  g_assert_no_error (error);

  c = (const gint64 *)changes->data;
  g_assert_cmpuint (changes->len / 2, >=, 2);
  g_assert_cmpint (c[0], ==, 0);
  for (guint i = 0; i < changes->len / 2; i++)
    {
      g_assert_cmpint (c[2 * i], <, c[2 * i + 1]);
      if (i > 0)
        g_assert_cmpint (c[2 * i], ==, c[2 * i - 1]);
    }
  /* The first chunk already fills a screen. */
  g_assert_cmpint (c[1], >=, 2048 * 256);
  g_assert_cmpint (c[changes->len - 1], ==, n_frames);
  g_assert_cmpint (kp_peaks_get_n_samples (peaks), ==, n_frames);
  assert_finalized (g_steal_pointer (&peaks));
}

/* Feeds a WAV file through a named pipe: 30 s of the 80 s its header
 * promises, then nothing until the load is cancelled, so the decoder is
 * certainly still busy when it is. */
typedef struct
{
  char *fifo;
  GBytes *contents;
  GCancellable *cancellable;
} FifoJob;

static gpointer
fifo_writer (gpointer user_data)
{
  FifoJob *job = user_data;
  gint64 deadline = g_get_monotonic_time () + 20 * G_TIME_SPAN_SECOND;
  gsize size;
  const guint8 *data = g_bytes_get_data (job->contents, &size);
  gboolean written = FALSE;
  int fd = -1;

  size = MIN (size, 44 + (gsize)30 * RATE * 4);

  /* filesrc opens and closes the file before it reads it for good, so start
   * over whenever the reader goes away before the end. */
  while (!written)
    {
      gsize done = 0;

      /* Non-blocking until a reader is there, so a broken loader cannot
       * hang the test. */
      while ((fd = open (job->fifo, O_WRONLY | O_NONBLOCK)) < 0)
        {
          g_assert_cmpint (errno, ==, ENXIO);
          g_assert_cmpint (g_get_monotonic_time (), <, deadline);
          g_usleep (1000);
        }
      fcntl (fd, F_SETFL, 0);

      while (done < size)
        {
          gssize n = write (fd, data + done, size - done);

          if (n < 0 && errno == EPIPE)
            break;
          g_assert_cmpint (n, >, 0);
          done += (gsize)n;
        }
      written = done == size;

      /* A cancelled load closes its end too. */
      if (!written && g_cancellable_is_cancelled (job->cancellable))
        break;
      if (!written)
        close (fd);
    }

  while (!g_cancellable_is_cancelled (job->cancellable) && g_get_monotonic_time () < deadline)
    g_usleep (1000);
  g_usleep (200 * 1000);
  close (fd);
  return NULL;
}

static void
test_cancel (void)
{
  g_autofree char *wav = write_wav ("long.wav", 80 * RATE, 1.0);
  g_autofree char *fifo = g_build_filename (g_get_user_data_dir (), "stream.wav", NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(KpPeaks) peaks = kp_peaks_new ();
  g_autoptr(KpPeaks) peaks2 = kp_peaks_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  GThread *writer;
  FifoJob job;
  gsize len;

  g_file_get_contents (wav, &contents, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  job.fifo = fifo;
  job.contents = g_bytes_new_static (contents, len);
  job.cancellable = cancellable;
  writer = g_thread_new ("fifo-writer", fifo_writer, &job);

  /* Cancelled from the first "changed", while decoding waits for data. */
  g_assert_false (load (peaks, fifo, KP_PEAKS_LOAD_NONE, cancellable, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (kp_peaks_get_complete (peaks));
  g_assert_cmpint (kp_peaks_get_decoded_samples (peaks), >=, 2048 * 256);
  g_assert_cmpint (kp_peaks_get_decoded_samples (peaks), <=, 30 * RATE);
  g_clear_error (&error);
  g_thread_join (writer);
  g_bytes_unref (job.contents);

  /* A cancelled load leaves no cache behind. */
  {
    g_autoptr(GFile) file = g_file_new_for_path (fifo);
    g_autofree char *cache = kp_peaks_dup_cache_path (file);

    g_assert_nonnull (cache);
    g_assert_false (g_file_test (cache, G_FILE_TEST_EXISTS));
  }

  /* Cancelled before it starts. */
  g_assert_false (load (peaks2, wav, KP_PEAKS_LOAD_NONE, cancellable, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (kp_peaks_get_decoded_samples (peaks2), ==, 0);

  assert_finalized (g_steal_pointer (&peaks));
  assert_finalized (g_steal_pointer (&peaks2));
}

static void
test_cache (void)
{
  g_autofree char *wav = write_wav ("cached.wav", N_FRAMES, 1.0);
  g_autoptr(GFile) file = g_file_new_for_path (wav);
  g_autofree char *cache = kp_peaks_dup_cache_path (file);
  g_autofree char *cache2 = NULL;
  g_autoptr(KpPeaks) peaks = NULL;
  g_autoptr(KpPeaks) fake = NULL;
  g_autoptr(GError) error = NULL;
  float min[3], max[3];

  g_assert_nonnull (cache);
  g_assert_true (g_str_has_prefix (cache, g_get_user_cache_dir ()));
  g_assert_false (g_file_test (cache, G_FILE_TEST_EXISTS));

  /* The first load writes the cache, as a .dat file of the base level. */
  peaks = load_ok (wav, KP_PEAKS_LOAD_NONE);
  g_assert_true (g_file_test (cache, G_FILE_TEST_EXISTS));
  g_clear_object (&peaks);
  peaks = kp_peaks_new_from_dat (cache, &error);
  g_assert_no_error (error);
  check_fixture_peaks (peaks, 0.001, TRUE);
  g_clear_object (&peaks);

  /* The next load reads it: replace it by a loud stand-in and see it. */
  {
    g_autoptr(GByteArray) b = g_byte_array_new ();

    put_u32 (b, 2); put_u32 (b, 0); put_u32 (b, RATE); put_u32 (b, 65536);
    put_u32 (b, 3); put_u32 (b, 1);
    for (int i = 0; i < 3; i++)
      {
        put_u16 (b, (guint16)-16384);
        put_u16 (b, 16384);
      }
    g_file_set_contents (cache, (const char *)b->data, b->len, &error);
    g_assert_no_error (error);
  }
  fake = load_ok (wav, KP_PEAKS_LOAD_NONE);
  g_assert_cmpuint (kp_peaks_get_channels (fake), ==, 1);
  g_assert_cmpuint (kp_peaks_get_range (fake, 0, 0, N_FRAMES, 3, min, max), ==, 3);
  g_assert_cmpfloat (max[0], ==, 0.5f);
  g_clear_object (&fake);

  /* NO_CACHE ignores it. */
  peaks = load_ok (wav, KP_PEAKS_LOAD_NO_CACHE);
  g_assert_cmpuint (kp_peaks_get_channels (peaks), ==, 2);
  g_clear_object (&peaks);

  /* A corrupt cache is ignored and rewritten. */
  g_file_set_contents (cache, "garbage", -1, &error);
  g_assert_no_error (error);
  peaks = load_ok (wav, KP_PEAKS_LOAD_NONE);
  check_fixture_peaks (peaks, 0.001, TRUE);
  g_clear_object (&peaks);
  peaks = kp_peaks_new_from_dat (cache, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kp_peaks_get_channels (peaks), ==, 2);
  g_clear_object (&peaks);

  /* A changed file gets a new cache entry and new peaks. */
  g_free (write_wav ("cached.wav", N_FRAMES + RATE, 0.5));
  cache2 = kp_peaks_dup_cache_path (file);
  g_assert_cmpstr (cache, !=, cache2);
  peaks = load_ok (wav, KP_PEAKS_LOAD_NONE);
  g_assert_cmpint (kp_peaks_get_n_samples (peaks), ==, N_FRAMES + RATE);
  g_assert_cmpuint (kp_peaks_get_range (peaks, 0, 2 * REGION, 3 * REGION, 3, min, max), ==, 3);
  g_assert_cmpfloat_with_epsilon (max[1], 0.25, 0.001);
  g_assert_true (g_file_test (cache2, G_FILE_TEST_EXISTS));
  assert_finalized (g_steal_pointer (&peaks));
}

static void
assert_load_fails (const char *path,
                   GQuark      domain,
                   int         code,
                   const char *needle)
{
  g_autoptr(KpPeaks) peaks = kp_peaks_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_path_get_basename (path);

  g_assert_false (load (peaks, path, KP_PEAKS_LOAD_NONE, NULL, NULL, &error));
  g_test_message ("%s: %s", name, error->message);
  g_assert_error (error, domain, code);
  g_assert_nonnull (strstr (error->message, needle));
  g_assert_false (kp_peaks_get_complete (peaks));
  assert_finalized (g_steal_pointer (&peaks));
}

static void
test_bad_audio (void)
{
  g_autofree char *wav = write_wav ("whole.wav", 4 * N_FRAMES, 1.0);
  g_autofree char *truncated = g_build_filename (g_get_user_data_dir (), "truncated.wav", NULL);
  g_autofree char *garbage = g_build_filename (g_get_user_data_dir (), "garbage.wav", NULL);
  g_autofree char *empty = g_build_filename (g_get_user_data_dir (), "empty.ogg", NULL);
  g_autofree char *missing = g_build_filename (g_get_user_data_dir (), "missing.flac", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  g_autofree guint8 *noise = g_malloc (100000);
  gsize len;

  g_file_get_contents (wav, &contents, &len, &error);
  g_assert_no_error (error);
  g_file_set_contents (truncated, contents, len / 2, &error);
  g_assert_no_error (error);
  assert_load_fails (truncated, KP_PEAKS_ERROR, KP_PEAKS_ERROR_CORRUPT, "truncated.wav");

  for (gsize i = 0; i < 100000; i++)
    noise[i] = (guint8)g_rand_int (rand);
  g_file_set_contents (garbage, (const char *)noise, 100000, &error);
  g_assert_no_error (error);
  assert_load_fails (garbage, KP_PEAKS_ERROR, KP_PEAKS_ERROR_UNSUPPORTED, "garbage.wav");

  g_file_set_contents (empty, "", 0, &error);
  g_assert_no_error (error);
  assert_load_fails (empty, KP_PEAKS_ERROR, KP_PEAKS_ERROR_UNSUPPORTED, "empty.ogg");

  assert_load_fails (missing, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "missing.flac");
}

static void
test_truncated_flac (void)
{
  static const char * const elements[] = { "flacenc", "flacdec", NULL };
  g_autofree char *wav = NULL;
  g_autofree char *flac = NULL;
  g_autofree char *truncated = g_build_filename (g_get_user_data_dir (), "cut.flac", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize len;

  if (!have_elements (elements))
    return;

  wav = write_wav ("whole.wav", 4 * N_FRAMES, 1.0);
  flac = encode_fixture (wav, "whole.flac", "flacenc");
  g_file_get_contents (flac, &contents, &len, &error);
  g_assert_no_error (error);
  g_file_set_contents (truncated, contents, len / 2, &error);
  g_assert_no_error (error);
  assert_load_fails (truncated, KP_PEAKS_ERROR, KP_PEAKS_ERROR_CORRUPT, "cut.flac");
}

/* A video with a sound track gives the peaks of its sound; a video without
 * one says so. */
static void
test_video_container (void)
{
  static const char * const elements[] = { "videotestsrc", "theoraenc", "vorbisenc", "oggmux",
                                            "theoradec", "vorbisdec", "oggdemux", NULL };
  g_autofree char *both = g_build_filename (g_get_user_data_dir (), "both.ogv", NULL);
  g_autofree char *silent = g_build_filename (g_get_user_data_dir (), "silent.ogv", NULL);
  g_autofree char *desc = NULL;
  g_autoptr(KpPeaks) peaks = NULL;
  float min[4], max[4];

  if (!have_elements (elements))
    return;

  g_mkdir_with_parents (g_get_user_data_dir (), 0700);
  desc = g_strdup_printf ("oggmux name=mux ! filesink location=\"%s\" "
                          "videotestsrc num-buffers=20 ! video/x-raw,width=64,height=48,framerate=10/1 ! "
                          "theoraenc ! mux. "
                          "audiotestsrc num-buffers=20 samplesperbuffer=4800 volume=0.5 freq=440 ! "
                          "audio/x-raw,rate=48000,channels=1 ! vorbisenc ! mux.", both);
  run_pipeline (desc);
  g_free (desc);
  desc = g_strdup_printf ("videotestsrc num-buffers=20 ! video/x-raw,width=64,height=48,framerate=10/1 ! "
                          "theoraenc ! oggmux ! filesink location=\"%s\"", silent);
  run_pipeline (desc);

  peaks = load_ok (both, KP_PEAKS_LOAD_NO_CACHE);
  g_assert_cmpuint (kp_peaks_get_channels (peaks), ==, 1);
  g_assert_cmpint (labs ((long)(kp_peaks_get_n_samples (peaks) - 96000)), <, 4800);
  g_assert_cmpuint (kp_peaks_get_range (peaks, 0, 4800, 91200, 4, min, max), ==, 4);
  for (guint i = 0; i < 4; i++)
    {
      g_assert_cmpfloat_with_epsilon (min[i], -0.5, 0.05);
      g_assert_cmpfloat_with_epsilon (max[i], 0.5, 0.05);
    }
  assert_finalized (g_steal_pointer (&peaks));

  assert_load_fails (silent, KP_PEAKS_ERROR, KP_PEAKS_ERROR_UNSUPPORTED, "silent.ogv” contains no audio");
}

/* A VBR MP3 without a seek table, quiet first and loud later: its length
 * estimated early is far off, which must not read as truncation. */
static void
test_vbr_mp3 (void)
{
  static const char * const elements[] = { "lamemp3enc", "mpg123audiodec", NULL };
  g_autofree char *wav = g_build_filename (g_get_user_data_dir (), "vbr.wav", NULL);
  g_autoptr(GByteArray) b = g_byte_array_new ();
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  g_autoptr(GError) error = NULL;
  g_autofree char *mp3 = NULL;
  g_autoptr(KpPeaks) peaks = NULL;
  guint32 n = 6 * RATE;

  if (!have_elements (elements))
    return;

  g_byte_array_append (b, (const guint8 *)"RIFF", 4);
  put_u32 (b, 36 + n * 2);
  g_byte_array_append (b, (const guint8 *)"WAVEfmt ", 8);
  put_u32 (b, 16); put_u16 (b, 1); put_u16 (b, 1); put_u32 (b, RATE); put_u32 (b, RATE * 2);
  put_u16 (b, 2); put_u16 (b, 16);
  g_byte_array_append (b, (const guint8 *)"data", 4);
  put_u32 (b, n * 2);
  for (guint32 i = 0; i < n; i++)
    put_u16 (b, i < 2 * RATE ? 0 : (guint16)(gint16)g_rand_int_range (rand, -16000, 16000));
  g_mkdir_with_parents (g_get_user_data_dir (), 0700);
  g_file_set_contents (wav, (const char *)b->data, b->len, &error);
  g_assert_no_error (error);

  mp3 = encode_fixture (wav, "vbr.mp3", "lamemp3enc target=quality quality=2");
  peaks = load_ok (mp3, KP_PEAKS_LOAD_NO_CACHE);
  g_assert_cmpint (labs ((long)(kp_peaks_get_n_samples (peaks) - n)), <, RATE / 10);
  assert_finalized (g_steal_pointer (&peaks));
}

/* Chained Ogg: parts played one after the other, which may differ. */
static void
test_chained_ogg (void)
{
  static const char * const elements[] = { "vorbisenc", "vorbisdec", "oggmux", "oggdemux", NULL };
  g_autofree char *chained = g_build_filename (g_get_user_data_dir (), "chained.ogg", NULL);
  g_autofree char *mixed = g_build_filename (g_get_user_data_dir (), "mixed.ogg", NULL);
  g_autoptr(GString) same = g_string_new (NULL);
  g_autoptr(GString) other = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(KpPeaks) peaks = NULL;
  float min[2], max[2];

  if (!have_elements (elements))
    return;

  for (guint part = 0; part < 3; part++)
    {
      g_autofree char *name = g_strdup_printf ("part%u.wav", part);
      g_autofree char *oggname = g_strdup_printf ("part%u.ogg", part);
      g_autofree char *wav = write_wav_channels (name, N_FRAMES, part == 1 ? 0.5 : 1.0,
                                                 part == 2 ? 2 : 1);
      g_autofree char *ogg = encode_fixture (wav, oggname, "vorbisenc ! oggmux");
      g_autofree char *contents = NULL;
      gsize len;

      g_file_get_contents (ogg, &contents, &len, &error);
      g_assert_no_error (error);
      if (part < 2)
        g_string_append_len (same, contents, len);
      if (part != 1)
        g_string_append_len (other, contents, len);
    }
  g_file_set_contents (chained, same->str, same->len, &error);
  g_assert_no_error (error);
  g_file_set_contents (mixed, other->str, other->len, &error);
  g_assert_no_error (error);

  /* Both parts, the second at half the level. */
  peaks = load_ok (chained, KP_PEAKS_LOAD_NO_CACHE);
  g_assert_cmpint (labs ((long)(kp_peaks_get_n_samples (peaks) - 2 * N_FRAMES)), <, 4800);
  g_assert_cmpuint (kp_peaks_get_range (peaks, 0, 2 * REGION + 8192, 3 * REGION - 8192, 1,
                                        min, max), ==, 1);
  g_assert_cmpfloat_with_epsilon (max[0], 0.5, 0.05);
  g_assert_cmpuint (kp_peaks_get_range (peaks, 0, N_FRAMES + 2 * REGION + 8192,
                                        N_FRAMES + 3 * REGION - 8192, 1, min, max), ==, 1);
  g_assert_cmpfloat_with_epsilon (max[0], 0.25, 0.05);
  assert_finalized (g_steal_pointer (&peaks));

  /* Mono, then stereo. */
  assert_load_fails (mixed, KP_PEAKS_ERROR, KP_PEAKS_ERROR_UNSUPPORTED, "channels");
}

/* Sample-level reads */

static GBytes *
read_samples (const char  *path,
              gint64       start,
              guint        n,
              guint       *channels,
              GError     **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GAsyncResult) result = NULL;
  guint rate = 0;
  GBytes *bytes;

  kp_audio_read_samples_async (file, start, n, NULL, load_cb_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  bytes = kp_audio_read_samples_finish (result, channels, &rate, error);
  if (bytes != NULL)
    g_assert_cmpuint (rate, ==, RATE);
  return bytes;
}

/* Each frame of bytes against the fixture, from frame start on. */
static void
assert_samples (GBytes *bytes,
                guint   channels,
                gint64  start,
                gsize   n_frames)
{
  gsize size;
  const float *f = g_bytes_get_data (bytes, &size);

  g_assert_cmpuint (size, ==, n_frames * channels * sizeof (float));
  for (gsize i = 0; i < n_frames; i++)
    for (guint c = 0; c < channels; c++)
      {
        gint64 k = start + (gint64)i;
        double want = k < N_FRAMES ? lrint (gains[c] * signal_at (k) * 32767) / 32768.0 : 0.0;

        if (fabs (f[i * channels + c] - want) > 1e-4)
          g_error ("frame %" G_GINT64_FORMAT " channel %u: %f, want %f", k, c,
                   f[i * channels + c], want);
      }
}

static void
test_read_samples (void)
{
  static const char * const elements[] = { "flacenc", "flacdec", NULL };
  g_autofree char *wav = write_wav ("samples.wav", N_FRAMES, 1.0);
  g_autofree char *missing = g_build_filename (g_get_user_data_dir (), "gone.wav", NULL);
  g_autoptr(GError) error = NULL;
  guint channels = 0;

  {
    g_autoptr(GBytes) b = read_samples (wav, 0, 100, &channels, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (channels, ==, 2);
    assert_samples (b, 2, 0, 100);
  }
  {
    /* Across the step, and inside the sine at an odd offset. */
    g_autoptr(GBytes) b = read_samples (wav, REGION - 10, 20, &channels, &error);
    g_autoptr(GBytes) b2 = NULL;

    g_assert_no_error (error);
    assert_samples (b, 2, REGION - 10, 20);
    b2 = read_samples (wav, 2 * REGION + 1001, 500, &channels, &error);
    g_assert_no_error (error);
    assert_samples (b2, 2, 2 * REGION + 1001, 500);
  }
  {
    /* The end of the file cuts the read short. */
    g_autoptr(GBytes) b = read_samples (wav, N_FRAMES - 50, 200, &channels, &error);

    g_assert_no_error (error);
    assert_samples (b, 2, N_FRAMES - 50, 50);
  }

  g_assert_null (read_samples (missing, 0, 10, &channels, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Not audio: an error, not a wait. */
  {
    g_autofree char *text = g_build_filename (g_get_user_data_dir (), "notes.wav", NULL);
    g_autoptr(GString) junk = g_string_new (NULL);

    for (int i = 0; i < 2000; i++)
      g_string_append_printf (junk, "line %d of some notes\n", i);
    g_file_set_contents (text, junk->str, junk->len, &error);
    g_assert_no_error (error);
    g_assert_null (read_samples (text, 0, 10, &channels, &error));
    g_assert_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_UNSUPPORTED);
    g_clear_error (&error);
  }

  if (have_elements (elements))
    {
      g_autofree char *flac = encode_fixture (wav, "samples.flac", "flacenc");
      g_autoptr(GRand) rand = g_rand_new_with_seed (3);

      /* Sample-exact at any offset, in WAV and FLAC alike. */
      for (int k = 0; k < 12; k++)
        {
          gint64 start = k == 0 ? 2 * REGION + 33333 : g_rand_int_range (rand, 1, N_FRAMES - 1000);
          g_autoptr(GBytes) b = read_samples (k % 2 ? wav : flac, start, 1000, &channels, &error);

          g_assert_no_error (error);
          assert_samples (b, 2, start, 1000);
        }
    }
}

/* ADTS AAC frames with silent payloads: Debian's base and good plugins parse
 * AAC but cannot decode it, which is how a missing decoder looks. Where a
 * decoder is installed (gstreamer1.0-libav), it is ranked out of automatic
 * use in this process, so that the case is tested everywhere. */
static void
test_missing_plugin (void)
{
  static const char * const decoders[] = { "avdec_aac", "avdec_aac_fixed", "avdec_aac_latm",
                                           "faad", "fdkaacdec", "voaacdec", NULL };
  g_autofree char *path = g_build_filename (g_get_user_data_dir (), "speech.aac", NULL);
  g_autoptr(GByteArray) b = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  const guint len = 7 + 16;
  guint8 header[7] = { 0xFF, 0xF1, 0x4C, 0x40 | ((len >> 11) & 3), (len >> 3) & 0xFF,
                       ((len & 7) << 5) | 0x1F, 0xFC };
  guint8 payload[16] = { 0 };

  for (guint i = 0; decoders[i] != NULL; i++)
    {
      g_autoptr(GstElementFactory) f = gst_element_factory_find (decoders[i]);

      if (f != NULL)
        gst_plugin_feature_set_rank (GST_PLUGIN_FEATURE (f), GST_RANK_NONE);
    }

  for (int i = 0; i < 200; i++)
    {
      g_byte_array_append (b, header, sizeof header);
      g_byte_array_append (b, payload, sizeof payload);
    }
  g_mkdir_with_parents (g_get_user_data_dir (), 0700);
  g_file_set_contents (path, (const char *)b->data, b->len, &error);
  g_assert_no_error (error);
  assert_load_fails (path, KP_PEAKS_ERROR, KP_PEAKS_ERROR_MISSING_PLUGIN, "AAC");
}

/* .dat I/O */

static GBytes *
make_dat (int      version,
          guint32  flags,
          gint32   rate,
          gint32   spp,
          guint32  length,
          gint32   channels,
          gsize    n_values)
{
  GByteArray *b = g_byte_array_new ();

  put_u32 (b, (guint32)version);
  put_u32 (b, flags);
  put_u32 (b, (guint32)rate);
  put_u32 (b, (guint32)spp);
  put_u32 (b, length);
  if (version == 2)
    put_u32 (b, (guint32)channels);
  for (gsize i = 0; i < n_values; i++)
    {
      /* Alternating min/max that grow: pair i is (-i, i). */
      gint16 v = (gint16)((i / 2) % 30000);

      if (flags & 1)
        {
          guint8 c = (guint8)(gint8)((i & 1) ? (v % 127) : -(v % 127));

          g_byte_array_append (b, &c, 1);
        }
      else
        put_u16 (b, (guint16)((i & 1) ? v : -v));
    }
  return g_byte_array_free_to_bytes (b);
}

static void
test_dat_round_trip (void)
{
  g_autoptr(GBytes) v2 = make_dat (2, 0, 44100, 512, 1000, 2, 4000);
  g_autoptr(GBytes) v1_8 = make_dat (1, 1, 8000, 64, 300, 1, 600);
  g_autoptr(GError) error = NULL;
  g_autoptr(KpPeaks) peaks = kp_peaks_new_from_dat_bytes (v2, &error);
  g_autoptr(KpPeaks) peaks8 = NULL;
  g_autoptr(KpPeaks) again = NULL;
  g_autoptr(GBytes) out = NULL;
  g_autofree char *path = g_build_filename (g_get_user_data_dir (), "peaks.dat", NULL);
  float min[4], max[4];

  g_assert_no_error (error);
  g_assert_cmpuint (kp_peaks_get_sample_rate (peaks), ==, 44100);
  g_assert_cmpuint (kp_peaks_get_samples_per_pair (peaks), ==, 512);
  g_assert_cmpuint (kp_peaks_get_channels (peaks), ==, 2);
  g_assert_cmpint (kp_peaks_get_n_samples (peaks), ==, 512000);
  g_assert_true (kp_peaks_get_complete (peaks));

  /* Same bytes back, in the same version and depth. */
  out = kp_peaks_to_dat_bytes (peaks, 2, 16);
  g_assert_true (g_bytes_equal (out, v2));
  g_clear_pointer (&out, g_bytes_unref);

  /* Through a file. */
  g_mkdir_with_parents (g_get_user_data_dir (), 0700);
  g_assert_true (kp_peaks_save_dat (peaks, path, 2, 16, &error));
  g_assert_no_error (error);
  again = kp_peaks_new_from_dat (path, &error);
  g_assert_no_error (error);
  out = kp_peaks_to_dat_bytes (again, 2, 16);
  g_assert_true (g_bytes_equal (out, v2));
  g_clear_pointer (&out, g_bytes_unref);

  /* Version 1 merges the channels: both have (-i, i) here. */
  out = kp_peaks_to_dat_bytes (peaks, 1, 16);
  g_assert_cmpuint (g_bytes_get_size (out), ==, 20 + 1000 * 4);
  g_clear_object (&again);
  again = kp_peaks_new_from_dat_bytes (out, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kp_peaks_get_channels (again), ==, 1);
  g_assert_cmpuint (kp_peaks_get_range (again, 0, 0, 512000, 4, min, max), ==, 4);
  g_assert_cmpfloat (max[3], ==, 1999 / 32768.f);
  g_clear_pointer (&out, g_bytes_unref);

  /* 8-bit in and out. */
  peaks8 = kp_peaks_new_from_dat_bytes (v1_8, &error);
  g_assert_no_error (error);
  out = kp_peaks_to_dat_bytes (peaks8, 1, 8);
  g_assert_true (g_bytes_equal (out, v1_8));
  g_clear_pointer (&out, g_bytes_unref);
  g_assert_cmpuint (kp_peaks_get_range (peaks8, 0, 0, 16384, 4, min, max), ==, 4);
  g_assert_cmpfloat (max[0], ==, 63 * 256 / 32768.f);
  g_assert_cmpfloat (min[0], ==, -63 * 256 / 32768.f);

  /* 16 → 8 bits keeps the top byte. */
  out = kp_peaks_to_dat_bytes (peaks, 2, 8);
  g_assert_cmpuint (g_bytes_get_size (out), ==, 24 + 1000 * 2 * 2);
  g_assert_cmpint (((const gint8 *)g_bytes_get_data (out, NULL))[24 + 999 * 4 + 1], ==, 1998 >> 8);

  assert_finalized (g_steal_pointer (&peaks));
  assert_finalized (g_steal_pointer (&peaks8));
  assert_finalized (g_steal_pointer (&again));
}

static void
assert_dat_rejected (GBytes     *bytes,
                     const char *needle)
{
  g_autoptr(GError) error = NULL;
  KpPeaks *peaks = kp_peaks_new_from_dat_bytes (bytes, &error);

  g_assert_null (peaks);
  g_assert_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_INVALID_DAT);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, needle));
}

static void
test_dat_hostile (void)
{
  g_autoptr(GBytes) good = make_dat (2, 0, 48000, 256, 10, 1, 20);
  g_autofree char *path = g_build_filename (g_get_user_data_dir (), "bad.dat", NULL);
  g_autoptr(GError) error = NULL;
  KpPeaks *peaks;
  gsize size;
  const guint8 *data = g_bytes_get_data (good, &size);

  for (gsize cut = 0; cut < size; cut++)
    {
      g_autoptr(GBytes) part = g_bytes_new (data, cut);

      assert_dat_rejected (part, cut < 24 ? (cut < 4 ? "too short" : "truncated") : "bytes long");
    }

  {
    g_autoptr(GBytes) b1 = make_dat (3, 0, 48000, 256, 10, 1, 20);
    g_autoptr(GBytes) b2 = make_dat (0, 0, 48000, 256, 10, 1, 20);
    g_autoptr(GBytes) b3 = make_dat (2, 0, 48000, 256, 0xFFFFFFFFu, 32, 20);
    g_autoptr(GBytes) b4 = make_dat (2, 0, 48000, 256, 10, 0, 20);
    g_autoptr(GBytes) b5 = make_dat (2, 0, 48000, 256, 10, 100000, 20);
    g_autoptr(GBytes) b6 = make_dat (2, 0, 48000, 0, 10, 1, 20);
    g_autoptr(GBytes) b7 = make_dat (2, 0, -5, 256, 10, 1, 20);
    g_autoptr(GBytes) b8 = make_dat (2, 2, 48000, 256, 10, 1, 20);
    g_autoptr(GBytes) b9 = make_dat (2, 0, 48000, 256, 10, 1, 21);
    g_autoptr(GBytes) b10 = make_dat (1, 0, 48000, -1, 10, 1, 20);
    g_autoptr(GBytes) b11 = make_dat (2, 1, 48000, 256, 0x7FFFFFFFu, 2, 40);
    g_autoptr(GBytes) b12 = make_dat (2, 1, 48000, 256, 0x10000000u, 1, 40);

    assert_dat_rejected (b1, "version 3");
    assert_dat_rejected (b2, "version 0");
    assert_dat_rejected (b3, "too large");
    assert_dat_rejected (b4, "0 channels");
    assert_dat_rejected (b5, "100000 channels");
    assert_dat_rejected (b6, "samples per pixel");
    assert_dat_rejected (b7, "sample rate");
    assert_dat_rejected (b8, "flags");
    assert_dat_rejected (b9, "bytes long");
    assert_dat_rejected (b10, "samples per pixel");
    assert_dat_rejected (b11, "too large");
    assert_dat_rejected (b12, "bytes long");
  }

  /* A minimum above its maximum. */
  {
    GByteArray *b = g_byte_array_new ();
    g_autoptr(GBytes) bytes = NULL;

    put_u32 (b, 1); put_u32 (b, 0); put_u32 (b, 48000); put_u32 (b, 256); put_u32 (b, 1);
    put_u16 (b, 100); put_u16 (b, (guint16)-100);
    bytes = g_byte_array_free_to_bytes (b);
    assert_dat_rejected (bytes, "minimum above its maximum");
  }

  /* Files name themselves in the error. */
  g_mkdir_with_parents (g_get_user_data_dir (), 0700);
  g_file_set_contents (path, "\3\0\0\0", 4, &error);
  g_assert_no_error (error);
  peaks = kp_peaks_new_from_dat (path, &error);
  g_assert_null (peaks);
  g_assert_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_INVALID_DAT);
  g_assert_nonnull (strstr (error->message, "bad.dat"));
}

/* get_range against a brute-force envelope over the base level, for random
 * windows at every zoom: each column is exactly the envelope of the base
 * pairs it touches. */
static void
test_range_random (void)
{
  guint n_pairs = 70001;
  GByteArray *b = g_byte_array_new ();
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(KpPeaks) peaks = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  g_autofree gint16 *base = g_new (gint16, n_pairs * 2);
  gint64 total = (gint64)n_pairs * 256;

  put_u32 (b, 1); put_u32 (b, 0); put_u32 (b, 48000); put_u32 (b, 256); put_u32 (b, n_pairs);
  for (guint i = 0; i < n_pairs; i++)
    {
      int lo = g_rand_int_range (rand, -32768, 32767);
      int hi = g_rand_int_range (rand, lo, 32768);

      base[2 * i] = (gint16)lo;
      base[2 * i + 1] = (gint16)hi;
      put_u16 (b, (guint16)(gint16)lo);
      put_u16 (b, (guint16)(gint16)hi);
    }
  bytes = g_byte_array_free_to_bytes (b);
  peaks = kp_peaks_new_from_dat_bytes (bytes, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kp_peaks_get_n_levels (peaks), ==, 10);

  for (int round = 0; round < 300; round++)
    {
      gint64 start = g_rand_int_range (rand, -1000, (gint32)(total / 2));
      gint64 end = start + 1 + (gint64)(g_rand_double (rand) * g_rand_double (rand) * (total + 5000 - start));
      guint n = (guint)g_rand_int_range (rand, 1, 2000);
      g_autofree float *min = g_new (float, n);
      g_autofree float *max = g_new (float, n);
      double per = (double)(end - start) / n;
      guint filled, last = 0;

      filled = kp_peaks_get_range (peaks, round % 2 ? 0 : -1, start, end, n, min, max);

      for (guint i = 0; i < n; i++)
        {
          double s0 = start + i * per, s1 = start + (i + 1) * per;
          gint64 e0 = MAX (0, (gint64)floor (s0 / 256));
          gint64 e1 = MIN ((gint64)n_pairs, MAX (e0 + 1, (gint64)ceil (s1 / 256)));
          int elo = G_MAXINT16, ehi = G_MININT16;

          if (s1 <= 0 || e0 >= (gint64)n_pairs)
            {
              g_assert_cmpfloat (min[i], ==, 0.f);
              g_assert_cmpfloat (max[i], ==, 0.f);
              continue;
            }
          last = i + 1;
          for (gint64 p = e0; p < e1; p++)
            {
              elo = MIN (elo, base[2 * p]);
              ehi = MAX (ehi, base[2 * p + 1]);
            }
          g_assert_cmpfloat (min[i], ==, elo / 32768.f);
          g_assert_cmpfloat (max[i], ==, ehi / 32768.f);
        }
      g_assert_cmpuint (filled, ==, last);
    }

  assert_finalized (g_steal_pointer (&peaks));
}

static const char * const flac_spec[] = { "fixture.flac", "flacenc", "0.001", "flacenc", "flacdec", NULL };
static const char * const vorbis_spec[] = { "fixture.ogg", "vorbisenc quality=0.6 ! oggmux", "0.05",
                                            "vorbisenc", "vorbisdec", "oggmux", "oggdemux", NULL };
static const char * const opus_spec[] = { "fixture.opus", "opusenc bitrate=128000 ! oggmux", "0.08",
                                          "opusenc", "opusdec", "oggmux", "oggdemux", NULL };
static const char * const mp3_spec[] = { "fixture.mp3", "lamemp3enc target=bitrate bitrate=192 ! xingmux", "0.05",
                                         "lamemp3enc", "xingmux", "mpg123audiodec", NULL };

int
main (int   argc,
      char *argv[])
{
  signal (SIGPIPE, SIG_IGN);
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/kempelen/media/peaks/dat-round-trip", test_dat_round_trip);
  g_test_add_func ("/kempelen/media/peaks/dat-hostile", test_dat_hostile);
  g_test_add_func ("/kempelen/media/peaks/range-random", test_range_random);
  g_test_add_func ("/kempelen/media/peaks/decode-wav", test_decode_wav);
  g_test_add_func ("/kempelen/media/peaks/decode-channels", test_decode_channels);
  g_test_add_data_func ("/kempelen/media/peaks/decode-flac", flac_spec, test_decode_format);
  g_test_add_data_func ("/kempelen/media/peaks/decode-vorbis", vorbis_spec, test_decode_format);
  g_test_add_data_func ("/kempelen/media/peaks/decode-opus", opus_spec, test_decode_format);
  g_test_add_data_func ("/kempelen/media/peaks/decode-mp3", mp3_spec, test_decode_format);
  g_test_add_func ("/kempelen/media/peaks/progress", test_progress);
  g_test_add_func ("/kempelen/media/peaks/cancel", test_cancel);
  g_test_add_func ("/kempelen/media/peaks/cache", test_cache);
  g_test_add_func ("/kempelen/media/peaks/bad-audio", test_bad_audio);
  g_test_add_func ("/kempelen/media/peaks/truncated-flac", test_truncated_flac);
  g_test_add_func ("/kempelen/media/peaks/missing-plugin", test_missing_plugin);
  g_test_add_func ("/kempelen/media/peaks/video-container", test_video_container);
  g_test_add_func ("/kempelen/media/peaks/read-samples", test_read_samples);
  g_test_add_func ("/kempelen/media/peaks/chained-ogg", test_chained_ogg);
  g_test_add_func ("/kempelen/media/peaks/vbr-mp3", test_vbr_mp3);

  return g_test_run ();
}
