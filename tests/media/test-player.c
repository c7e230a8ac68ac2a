/* test-player.c: KpPlayer plays, pauses, seeks, loops and changes speed
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Runs headless: the sink is a fakesink kept in sync with the clock, so
 * positions advance in real time as they would on a sound card.
 */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <gst/gst.h>

#include "kp-peaks.h"
#include "kp-player.h"
#include "kp-player-private.h"

#define MS (G_GINT64_CONSTANT (1000000))

static char *fixture_path;

/* 2 s of a 440 Hz sine, 48 kHz mono, as WAV. */
static void
make_fixture (const char *path)
{
  g_autofree char *desc = g_strdup_printf ("audiotestsrc num-buffers=20 samplesperbuffer=4800 "
                                           "volume=0.5 freq=440 ! audio/x-raw,rate=48000,"
                                           "channels=1,format=S16LE ! wavenc ! filesink "
                                           "location=\"%s\"", path);
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

static gboolean
timeout_cb (gpointer user_data)
{
  gboolean *flag = user_data;

  *flag = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main context for ms milliseconds. */
static void
run_for (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, timeout_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

/* Runs until the duration is known (the file has prerolled). */
static void
wait_prerolled (KpPlayer *player)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (kp_player_get_duration (player) < 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static KpPlayer *
open_fixture (void)
{
  g_autoptr(KpPlayer) player = kp_player_new ("fakesink");
  g_autoptr(GFile) file = g_file_new_for_path (fixture_path);
  g_autoptr(GError) error = NULL;

  g_assert_true (kp_player_set_file (player, file, &error));
  g_assert_no_error (error);
  wait_prerolled (player);
  return g_steal_pointer (&player);
}

static void
count_cb (gpointer  instance,
          guint    *count)
{
  (*count)++;
}

static void
test_play_pause_seek (void)
{
  g_autoptr(KpPlayer) player = open_fixture ();
  guint n_eos = 0;
  gint64 pos, pos2, deadline;

  g_signal_connect (player, "eos", G_CALLBACK (count_cb), &n_eos);
  g_assert_cmpint (kp_player_get_duration (player), >=, 1990 * MS);
  g_assert_cmpint (kp_player_get_duration (player), <=, 2010 * MS);
  g_assert_cmpint (kp_player_get_position (player), ==, 0);

  kp_player_play (player);
  g_assert_true (kp_player_get_playing (player));
  run_for (400);
  pos = kp_player_get_position (player);
  /* Real time, give or take the sink's latency and a busy machine. */
  g_assert_cmpint (pos, >=, 150 * MS);
  g_assert_cmpint (pos, <=, 700 * MS);

  kp_player_pause (player);
  g_assert_false (kp_player_get_playing (player));
  pos = kp_player_get_position (player);
  run_for (200);
  pos2 = kp_player_get_position (player);
  g_assert_cmpint (ABS (pos2 - pos), <=, 30 * MS);

  /* The seek target is reported at once and holds once done. */
  kp_player_seek (player, 1500 * MS);
  g_assert_cmpint (kp_player_get_position (player), ==, 1500 * MS);
  run_for (200);
  pos = kp_player_get_position (player);
  g_assert_cmpint (pos, >=, 1490 * MS);
  g_assert_cmpint (pos, <=, 1510 * MS);

  /* Play to the end. */
  kp_player_play (player);
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (n_eos == 0)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  g_assert_false (kp_player_get_playing (player));

  /* Playing again after the end starts over. */
  kp_player_play (player);
  run_for (300);
  g_assert_cmpint (kp_player_get_position (player), <, 800 * MS);
  kp_player_pause (player);

  g_assert_finalize_object (g_steal_pointer (&player));
}

static void
test_rate (void)
{
  g_autoptr(KpPlayer) player = open_fixture ();
  gint64 t0, pos;
  double elapsed;

  kp_player_set_rate (player, 10);
  g_assert_cmpfloat (kp_player_get_rate (player), ==, KP_PLAYER_MAX_RATE);
  kp_player_set_rate (player, 0.1);
  g_assert_cmpfloat (kp_player_get_rate (player), ==, KP_PLAYER_MIN_RATE);

  kp_player_set_rate (player, 2.0);
  run_for (100);
  t0 = g_get_monotonic_time ();
  kp_player_play (player);
  run_for (500);
  pos = kp_player_get_position (player);
  elapsed = (g_get_monotonic_time () - t0) / 1e6;
  kp_player_pause (player);
  /* Twice as fast: about 1 s of audio in 0.5 s. */
  g_test_message ("2x: %.3f s of audio in %.3f s", pos / 1e9, elapsed);
  g_assert_cmpfloat (pos / 1e9, >=, elapsed * 2 - 0.35);
  g_assert_cmpfloat (pos / 1e9, <=, elapsed * 2 + 0.1);

  g_assert_finalize_object (g_steal_pointer (&player));
}

#define PITCH_BANDS 1024

typedef struct
{
  GMutex lock;
  double sums[PITCH_BANDS];
  guint  n;
} Pitch;

/* Runs on the streaming thread: adds up spectrum messages. */
static GstBusSyncReply
pitch_sync_cb (GstBus     *bus,
               GstMessage *msg,
               gpointer    user_data)
{
  Pitch *pitch = user_data;
  const GstStructure *s = gst_message_get_structure (msg);
  const GValue *mags;

  if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_ELEMENT || s == NULL
      || !gst_structure_has_name (s, "spectrum")
      || (mags = gst_structure_get_value (s, "magnitude")) == NULL)
    return GST_BUS_PASS;
  g_mutex_lock (&pitch->lock);
  for (guint i = 0; i < MIN (gst_value_list_get_size (mags), PITCH_BANDS); i++)
    pitch->sums[i] += g_value_get_float (gst_value_list_get_value (mags, i));
  pitch->n++;
  g_mutex_unlock (&pitch->lock);
  return GST_BUS_PASS;
}

/* The frequency (Hz) with the most energy in what was played at rate. */
static double
played_pitch (double rate)
{
  g_autoptr(KpPlayer) player = kp_player_new ("spectrum bands=1024 interval=50000000 ! "
                                              "fakesink sync=true");
  g_autoptr(GFile) file = g_file_new_for_path (fixture_path);
  g_autoptr(GstBus) bus = NULL;
  g_autoptr(GError) error = NULL;
  Pitch pitch = { 0 };
  guint best = 0;

  g_mutex_init (&pitch.lock);
  g_assert_true (kp_player_set_file (player, file, &error));
  g_assert_no_error (error);
  bus = gst_element_get_bus (_kp_player_get_pipeline (player));
  gst_bus_set_sync_handler (bus, pitch_sync_cb, &pitch, NULL);
  wait_prerolled (player);
  kp_player_set_rate (player, rate);
  kp_player_play (player);
  run_for (400);
  kp_player_pause (player);
  gst_bus_set_sync_handler (bus, NULL, NULL, NULL);

  g_mutex_lock (&pitch.lock);
  g_assert_cmpuint (pitch.n, >=, 3);
  for (guint i = 1; i < PITCH_BANDS; i++)
    if (pitch.sums[i] > pitch.sums[best])
      best = i;
  g_mutex_unlock (&pitch.lock);
  g_mutex_clear (&pitch.lock);
  g_assert_finalize_object (g_steal_pointer (&player));
  /* Band i is centred on (i + 0.5) × rate / 2 / bands. */
  return (best + 0.5) * 24000.0 / PITCH_BANDS;
}

static void
test_pitch (void)
{
  double normal = played_pitch (1.0);
  double fast = played_pitch (2.0);
  double slow = played_pitch (0.5);

  g_test_message ("440 Hz played at 1×: %.0f Hz, 2×: %.0f Hz, 0.5×: %.0f Hz", normal, fast, slow);
  /* scaletempo keeps the pitch: no octave up or down. */
  g_assert_cmpfloat (ABS (normal - 440), <, 24);
  g_assert_cmpfloat (ABS (fast - 440), <, 24);
  g_assert_cmpfloat (ABS (slow - 440), <, 24);
}

static void
test_loop (void)
{
  g_autoptr(KpPlayer) player = open_fixture ();
  gint64 deadline;
  guint n_eos = 0;

  g_signal_connect (player, "eos", G_CALLBACK (count_cb), &n_eos);
  kp_player_set_loop (player, 500 * MS, 800 * MS);
  g_assert_true (kp_player_get_looping (player));
  kp_player_play (player);
  deadline = g_get_monotonic_time () + 1200 * 1000;
  while (g_get_monotonic_time () < deadline)
    {
      gint64 pos = kp_player_get_position (player);

      g_assert_cmpint (pos, >=, 500 * MS - 5 * MS);
      g_assert_cmpint (pos, <=, 800 * MS + 40 * MS);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }
  /* 1.2 s of a 0.3 s loop: it went round at least twice and never ended. */
  g_assert_cmpuint (kp_player_get_n_loops (player), >=, 2);
  g_assert_cmpuint (n_eos, ==, 0);

  /* Seeking out of the loop ends it. */
  kp_player_seek (player, 1200 * MS);
  g_assert_false (kp_player_get_looping (player));
  run_for (300);
  g_assert_cmpint (kp_player_get_position (player), >, 1200 * MS);
  kp_player_pause (player);

  g_assert_finalize_object (g_steal_pointer (&player));
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
error_cb (KpPlayer  *player,
          GError    *error,
          GError   **out)
{
  g_assert_null (*out);
  *out = g_error_copy (error);
}

/* No decoder for the codec: the message names the codec. */
static void
test_missing_decoder (void)
{
  g_autofree char *dir = g_dir_make_tmp ("kp-player-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "speech.aac", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(KpPlayer) player = kp_player_new ("fakesink");
  g_autoptr(GError) error = NULL;
  gint64 deadline;

  write_undecodable_aac (path);
  g_signal_connect (player, "error", G_CALLBACK (error_cb), &error);
  g_assert_true (kp_player_set_file (player, file, NULL));
  kp_player_play (player);
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (error == NULL)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  g_test_message ("%s", error->message);
  g_assert_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_MISSING_PLUGIN);
  g_assert_nonnull (strstr (error->message, "AAC"));
  g_assert_nonnull (strstr (error->message, "speech.aac"));
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_errors (void)
{
  g_autofree char *dir = g_dir_make_tmp ("kp-player-XXXXXX", NULL);
  g_autofree char *text = g_build_filename (dir, "notes.wav", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (text);
  g_autoptr(KpPlayer) player = kp_player_new ("fakesink");
  g_autoptr(KpPlayer) broken = kp_player_new ("kempelen-no-such-sink");
  g_autoptr(GError) error = NULL;
  gint64 deadline;

  /* A missing element is named at once. */
  g_assert_false (kp_player_set_file (broken, file, &error));
  g_assert_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_MISSING_PLUGIN);
  g_assert_nonnull (strstr (error->message, "kempelen-no-such-sink"));
  g_clear_error (&error);

  /* Not audio: the error names the file. */
  g_assert_true (g_file_set_contents (text, "These are not the sounds you are looking for.\n",
                                      -1, NULL));
  g_signal_connect (player, "error", G_CALLBACK (error_cb), &error);
  g_assert_true (kp_player_set_file (player, file, NULL));
  kp_player_play (player);
  deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (error == NULL)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
  g_assert_true (error->domain == KP_PEAKS_ERROR);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "notes.wav"));
  g_assert_false (kp_player_get_playing (player));

  /* A truncated file: its header and nothing more. */
  {
    g_autofree char *cut = g_build_filename (dir, "cut.wav", NULL);
    g_autofree char *contents = NULL;
    g_autoptr(GFile) cut_file = g_file_new_for_path (cut);
    g_autoptr(KpPlayer) player2 = kp_player_new ("fakesink");
    gsize len;

    g_assert_true (g_file_get_contents (fixture_path, &contents, &len, NULL));
    g_assert_true (g_file_set_contents (cut, contents, 30, NULL));
    g_clear_error (&error);
    g_signal_connect (player2, "error", G_CALLBACK (error_cb), &error);
    g_assert_true (kp_player_set_file (player2, cut_file, NULL));
    kp_player_play (player2);
    deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
    while (error == NULL)
      {
        g_assert_cmpint (g_get_monotonic_time (), <, deadline);
        g_main_context_iteration (NULL, TRUE);
      }
    g_test_message ("%s", error->message);
    g_assert_true (error->domain == KP_PEAKS_ERROR);
    g_assert_nonnull (strstr (error->message, "cut.wav"));
    g_unlink (cut);
  }

  g_unlink (text);
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *dir = NULL;
  int ret;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  gst_init (&argc, &argv);

  dir = g_dir_make_tmp ("kp-test-player-XXXXXX", NULL);
  fixture_path = g_build_filename (dir, "sine.wav", NULL);
  make_fixture (fixture_path);

  g_test_add_func ("/kempelen/media/player/play-pause-seek", test_play_pause_seek);
  g_test_add_func ("/kempelen/media/player/rate", test_rate);
  g_test_add_func ("/kempelen/media/player/pitch", test_pitch);
  g_test_add_func ("/kempelen/media/player/loop", test_loop);
  g_test_add_func ("/kempelen/media/player/errors", test_errors);
  g_test_add_func ("/kempelen/media/player/missing-decoder", test_missing_decoder);

  ret = g_test_run ();
  g_unlink (fixture_path);
  g_rmdir (dir);
  g_free (fixture_path);
  return ret;
}
