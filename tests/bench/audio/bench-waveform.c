/* bench-waveform.c: the cost of a KpWaveform redraw at zooms over a 3-hour file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Prints BENCH lines:
 *   waveform_redraw_ms      the median time of one frame's snapshot (waveform,
 *                           ruler, playhead, regions on 3 tiers) at the
 *                           slowest of several zooms, 1920 × 300 pixels
 *   waveform_redraw_p95_ms  the 95th percentile at that zoom
 *
 * The file is 3 hours at 48 kHz (KP_PEAKS_DEFAULT_SAMPLES_PER_PAIR samples
 * per pair: 2 025 000 pairs), made as a BBC .dat in memory so no decoding
 * is timed here (audio_3h_peaks_s times that); 3000 regions (or
 * KP_BENCH_REGIONS) are spread over it. Below one pair per pixel the widget draws from samples it read around
 * the view; those are supplied the same way here. What is timed is the
 * widget's snapshot () building its render nodes, the work done on the UI
 * thread per frame; rasterising them is GSK's and the GPU's.
 */

#include "config.h"

#include <math.h>

#include <gtk/gtk.h>

#include "kp-core.h"
#include "kp-peaks.h"
#include "kp-waveform.h"
#include "kp-waveform-private.h"

#define WIDTH   1920
#define HEIGHT  300
#define RATE    48000
#define HOURS   3
#define ROUNDS  200

static void
put_u32 (GByteArray *b,
         guint32     v)
{
  v = GUINT32_TO_LE (v);
  g_byte_array_append (b, (guint8 *)&v, 4);
}

static KpPeaks *
make_peaks (void)
{
  guint32 length = (guint32)((gint64)HOURS * 3600 * RATE / KP_PEAKS_DEFAULT_SAMPLES_PER_PAIR);
  GByteArray *b = g_byte_array_sized_new (24 + length * 4);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  KpPeaks *peaks;

  put_u32 (b, 2);
  put_u32 (b, 0);
  put_u32 (b, RATE);
  put_u32 (b, KP_PEAKS_DEFAULT_SAMPLES_PER_PAIR);
  put_u32 (b, length);
  put_u32 (b, 1);
  for (guint32 i = 0; i < length; i++)
    {
      /* Speech-like: an envelope that swells and fades every few seconds. */
      double env = 0.2 + 0.7 * fabs (sin (i * 0.0005)) * (0.6 + 0.4 * sin (i * 0.031));
      gint16 v[2];

      v[0] = GINT16_TO_LE ((gint16)(-env * 32767));
      v[1] = GINT16_TO_LE ((gint16)(env * 32000));
      g_byte_array_append (b, (guint8 *)v, 4);
    }
  bytes = g_byte_array_free_to_bytes (b);
  peaks = kp_peaks_new_from_dat_bytes (bytes, &error);
  if (peaks == NULL)
    {
      g_printerr ("bench-waveform: %s\n", error->message);
      exit (1);
    }
  return peaks;
}

static KpRegions *
make_regions (gint64 n_samples)
{
  static const char * const tiers[] = { "Alice", "Bob", "Carol" };
  static const char * const labels[] = { "speech", "laugh", "music", "noise" };
  KpRegions *regions = kp_regions_new (RATE);
  const char *env = g_getenv ("KP_BENCH_REGIONS");
  guint n = env ? (guint)g_ascii_strtoull (env, NULL, 10) : 3000;

  for (guint i = 0; i < n; i++)
    {
      gint64 start = n_samples / n * i;
      g_autoptr(KpRegion) r = kp_region_new (start, start + 2 * RATE + (i % 7) * RATE / 3,
                                             tiers[i % 3], labels[i % 4]);

      kp_regions_add (regions, r);
    }
  return regions;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return x < y ? -1 : x > y;
}

int
main (int   argc,
      char *argv[])
{
  static const double spans_s[] = { HOURS * 3600.0, 3600, 600, 60, 10, 1, 0.1, 0.01 };
  g_autoptr(KpPeaks) peaks = NULL;
  g_autoptr(KpRegions) regions = NULL;
  g_autofree float *samples = NULL;
  g_autofree double *times = g_new (double, ROUNDS);
  KpWaveform *waveform;
  double worst = 0, worst_p95 = 0, worst_span = 0;
  gint64 n;

  gtk_init ();

  peaks = make_peaks ();
  n = kp_peaks_get_n_samples (peaks);
  regions = make_regions (n);
  g_print ("# %" G_GINT64_FORMAT " samples (%.2f h at %u Hz), %u regions, %d × %d pixels\n",
           n, n / (double)RATE / 3600, kp_peaks_get_sample_rate (peaks),
           g_list_model_get_n_items (G_LIST_MODEL (regions)), WIDTH, HEIGHT);

  waveform = KP_WAVEFORM (g_object_ref_sink (kp_waveform_new ()));
  kp_waveform_set_peaks (waveform, peaks);
  kp_waveform_set_regions (waveform, regions);

  for (guint z = 0; z < G_N_ELEMENTS (spans_s); z++)
    {
      double spp = spans_s[z] * RATE / WIDTH;
      double start = z == 0 ? 0 : n / 2.0;
      double median, p95;

      kp_waveform_set_view (waveform, start, spp);
      start = kp_waveform_get_view_start (waveform);
      if (spp < KP_PEAKS_DEFAULT_SAMPLES_PER_PAIR)
        {
          /* What the widget reads from the file around the view. */
          guint count = (guint)(WIDTH * spp) + 4;
          gint64 first = (gint64)start - 1;

          samples = g_renew (float, samples, count);
          for (guint i = 0; i < count; i++)
            samples[i] = 0.5f * sinf (2 * G_PI * 440 * (first + i) / RATE);
          _kp_waveform_set_samples (waveform, first, samples, count);
        }

      for (int r = -ROUNDS / 10; r < ROUNDS; r++)
        {
          GtkSnapshot *snapshot = gtk_snapshot_new ();
          GskRenderNode *node;
          gint64 t0 = g_get_monotonic_time ();

          /* Scroll a little each frame so nothing is reused by accident. */
          kp_waveform_set_view (waveform, start + (r & 1) * spp, spp);
          _kp_waveform_snapshot_at (waveform, snapshot, WIDTH, HEIGHT);
          node = gtk_snapshot_free_to_node (snapshot);
          /* The first frames (warming caches) are not counted. */
          if (r >= 0)
            times[r] = (g_get_monotonic_time () - t0) / 1e3;
          if (node == NULL)
            {
              g_printerr ("bench-waveform: nothing drawn\n");
              return 1;
            }
          gsk_render_node_unref (node);
        }
      qsort (times, ROUNDS, sizeof (double), compare_doubles);
      median = times[ROUNDS / 2];
      p95 = times[ROUNDS * 95 / 100];
      g_print ("# span %g s (%.4g samples per pixel): median %.3f ms, p95 %.3f ms\n",
               spans_s[z], spp, median, p95);
      if (median > worst)
        {
          worst = median;
          worst_p95 = p95;
          worst_span = spans_s[z];
        }
    }

  /* For scale: rasterising such a frame with the display's renderer (GL;
   * llvmpipe under Xvfb) and in software (the cairo renderer, the fallback
   * without GL); not part of the target, which is the UI thread's work. */
  for (guint k = 0; k < 2; k++)
  {
    GtkWidget *window = gtk_window_new ();
    GskRenderer *renderer;
    double best = G_MAXDOUBLE;
    gboolean ok;

    /* The display's own renderer comes with a realized window. */
    gtk_widget_realize (window);
    if (k == 0)
      {
        renderer = g_object_ref (gtk_native_get_renderer (GTK_NATIVE (window)));
        ok = renderer != NULL;
      }
    else
      {
        renderer = gsk_cairo_renderer_new ();
        ok = gsk_renderer_realize (renderer, NULL, NULL);
      }
    if (ok)
      {
        kp_waveform_set_view (waveform, 0, HOURS * 3600.0 * RATE / WIDTH);
        for (guint r = 0; r < 20; r++)
          {
            GtkSnapshot *snapshot = gtk_snapshot_new ();
            GskRenderNode *node;
            GdkTexture *texture;
            gint64 t0;

            _kp_waveform_snapshot_at (waveform, snapshot, WIDTH, HEIGHT);
            node = gtk_snapshot_free_to_node (snapshot);
            t0 = g_get_monotonic_time ();
            texture = gsk_renderer_render_texture (renderer, node,
                                                   &GRAPHENE_RECT_INIT (0, 0, WIDTH, HEIGHT));
            best = MIN (best, (g_get_monotonic_time () - t0) / 1e3);
            g_object_unref (texture);
            gsk_render_node_unref (node);
          }
        g_print ("# rasterising the whole-file frame with %s: best %.3f ms\n",
                 G_OBJECT_TYPE_NAME (renderer), best);
        if (k == 1)
          gsk_renderer_unrealize (renderer);
      }
    g_clear_object (&renderer);
    gtk_window_destroy (GTK_WINDOW (window));
  }

  g_print ("# slowest zoom: a span of %g s\n", worst_span);
  g_print ("BENCH waveform_redraw_ms %.3f ms\n", worst);
  g_print ("BENCH waveform_redraw_p95_ms %.3f ms\n", worst_p95);

  g_object_unref (waveform);
  return 0;
}
