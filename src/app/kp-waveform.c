/* kp-waveform.c: an audio waveform with a time ruler, playhead and regions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Layout, top to bottom: the time ruler, the waveform (with the
 * spectrogram under it when shown), then one lane per tier holding its
 * regions as labelled boxes. Every frame costs the visible columns plus
 * the visible regions: the waveform is one rectangle per pixel column,
 * from the peaks pyramid (any zoom in O(width × levels)) or, below one
 * peak pair per pixel, from the samples around the view read on demand.
 */

#include "config.h"

#include "kp-waveform.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n.h>

#include "kp-view-transform.h"
#include "kp-waveform-private.h"

#define RULER_HEIGHT     20
#define LANE_HEIGHT      22
#define MIN_WAVE_HEIGHT  24
#define EDGE_GRAB        5.0
#define DRAG_THRESHOLD   3.0
#define MIN_SPP          (1.0 / 32)
#define SNAP_WINDOW_S    0.005
#define MAX_LAYOUTS      512

typedef enum
{
  DRAG_NONE,
  DRAG_SEEK,
  DRAG_CREATE,
  DRAG_MOVE,
  DRAG_RESIZE_START,
  DRAG_RESIZE_END,
} DragMode;

struct _KpWaveform
{
  GtkWidget      parent_instance;

  /* The region editor: label and transcript of the selected region. */
  GtkWidget     *editor;
  GtkWidget     *label_entry;
  GtkWidget     *transcript_entry;
  KpRegion      *editing;

  KpPeaks       *peaks;
  GFile         *file;
  KpRegions     *regions;
  KpPlayer      *player;
  KpSpectrogram *spectrogram;
  GPtrArray     *spec_tiles;     /* GdkTexture, SPEC_TILE columns each */
  KpSpectrogram *detail;         /* the view's stretch, finer */
  GPtrArray     *detail_tiles;
  GCancellable  *detail_cancellable;
  double         detail_start;   /* samples asked for */
  double         detail_end;
  guint          detail_timeout_id;
  GCancellable  *cancellable;

  double         view_start;
  double         spp;
  KpRegion      *selected;
  char          *current_tier;
  GStrv          labels;
  gint64         max_region_len;
  guint          n_tiers;

  /* GtkScrollable: the horizontal adjustment counts pixels of the whole file. */
  GtkAdjustment *hadjustment;
  GtkAdjustment *vadjustment;
  guint          hscroll_policy;
  guint          vscroll_policy;
  gboolean       updating_adjustment;
  guint          tick_id;

  /* Pointer drag */
  DragMode       drag_mode;
  KpRegion      *drag_region;
  double         press_x;
  double         press_y;
  gint64         drag_anchor;
  gint64         orig_start;
  gint64         orig_end;
  char          *drag_tier;
  double         pointer_x;

  /* Samples around the view for sample-level zoom (mono). */
  float         *samples;
  gint64         samples_start;
  guint          n_samples;
  GCancellable  *samples_cancellable;
  gint64         samples_req_start;
  gint64         samples_req_end;
  guint          pending_snaps;

  /* Scratch for drawing. */
  float         *col_min;
  float         *col_max;
  guint          n_cols;
  GHashTable    *layouts;

  GdkRGBA        wave_color;
  GdkRGBA        fg_color;
  GdkRGBA        accent_color;
  GdkRGBA        playhead_color;

  guint          fit_all : 1;
  guint          show_spectrogram : 1;
  guint          snap : 1;
  guint          follow : 1;
  guint          dragged : 1;
};

G_DEFINE_FINAL_TYPE_WITH_CODE (KpWaveform, kp_waveform, GTK_TYPE_WIDGET,
                               G_IMPLEMENT_INTERFACE (GTK_TYPE_SCROLLABLE, NULL))

enum {
  PROP_0,
  PROP_PEAKS,
  PROP_FILE,
  PROP_REGIONS,
  PROP_PLAYER,
  PROP_SPECTROGRAM,
  PROP_SHOW_SPECTROGRAM,
  PROP_VIEW_START,
  PROP_SAMPLES_PER_PIXEL,
  PROP_SELECTED_REGION,
  PROP_CURRENT_TIER,
  PROP_SNAP,
  PROP_FOLLOW_PLAYHEAD,
  N_PROPS,
  /* GtkScrollable's, overridden: */
  PROP_HADJUSTMENT = N_PROPS,
  PROP_VADJUSTMENT,
  PROP_HSCROLL_POLICY,
  PROP_VSCROLL_POLICY,
};

static GParamSpec *properties[N_PROPS];

#define SPEC_TILE 2048
#define SPEC_ROWS 256
#define SPEC_MAX_HZ 8000.0
#define DETAIL_DELAY_MS 150

/* Speaker colours: distinct hues that read on light and dark themes. */
static const GdkRGBA tier_colors[] = {
  { 0.21f, 0.52f, 0.89f, 1 },
  { 0.90f, 0.38f, 0.00f, 1 },
  { 0.18f, 0.76f, 0.49f, 1 },
  { 0.75f, 0.38f, 0.80f, 1 },
  { 0.96f, 0.76f, 0.07f, 1 },
  { 0.88f, 0.11f, 0.14f, 1 },
  { 0.39f, 0.27f, 0.68f, 1 },
  { 0.60f, 0.76f, 0.18f, 1 },
};

static void ensure_samples (KpWaveform *self);
static void schedule_detail (KpWaveform *self);
static void apply_view (KpWaveform *self,
                        double      view_start,
                        double      samples_per_pixel);
static void snap_region (KpWaveform *self,
                         KpRegion   *region,
                         gboolean    start,
                         gboolean    end);

/* Geometry */

static guint
sample_rate (KpWaveform *self)
{
  if (self->peaks != NULL && kp_peaks_get_sample_rate (self->peaks) > 0)
    return kp_peaks_get_sample_rate (self->peaks);
  if (self->regions != NULL)
    return kp_regions_get_sample_rate (self->regions);
  return 48000;
}

static gint64
total_samples (KpWaveform *self)
{
  return self->peaks != NULL ? kp_peaks_get_n_samples (self->peaks) : 0;
}

static guint
n_lanes (KpWaveform *self)
{
  guint n = self->regions != NULL ? kp_regions_get_n_tiers (self->regions) : 0;

  return MAX (n, 1);
}

static double
wave_height (KpWaveform *self,
             int         height)
{
  return MAX (MIN_WAVE_HEIGHT, height - RULER_HEIGHT - (double)n_lanes (self) * LANE_HEIGHT);
}

static double
lanes_top (KpWaveform *self,
           int         height)
{
  return RULER_HEIGHT + wave_height (self, height);
}

/* Samples along x: scale is pixels per sample. */
static void
get_transform (KpWaveform      *self,
               KpViewTransform *t)
{
  t->scale = 1 / self->spp;
  t->origin_x = -self->view_start / self->spp;
  t->origin_y = 0;
}

double
kp_waveform_sample_at_x (KpWaveform *self,
                         double      x)
{
  KpViewTransform t;

  g_return_val_if_fail (KP_IS_WAVEFORM (self), 0);
  get_transform (self, &t);
  return kp_view_transform_to_content_x (&t, x);
}

double
kp_waveform_x_for_sample (KpWaveform *self,
                          double      sample)
{
  KpViewTransform t;

  g_return_val_if_fail (KP_IS_WAVEFORM (self), 0);
  get_transform (self, &t);
  return kp_view_transform_to_view_x (&t, sample);
}

static int
view_width (KpWaveform *self)
{
  int width = gtk_widget_get_width (GTK_WIDGET (self));

  return width > 0 ? width : 600;
}

static gint64
clamp_sample (KpWaveform *self,
              double      sample)
{
  gint64 n = total_samples (self);

  sample = MAX (sample, 0);
  if (n > 0)
    sample = MIN (sample, n);
  return (gint64)llround (sample);
}

static const char *
tier_of_lane (KpWaveform *self,
              guint       lane)
{
  if (self->regions == NULL || lane >= kp_regions_get_n_tiers (self->regions))
    return self->current_tier;
  return kp_regions_get_tier (self->regions, lane);
}

/* Position of the first region that may reach past sample. */
static guint
first_visible (KpWaveform *self,
               double      sample)
{
  guint lo = 0, hi = g_list_model_get_n_items (G_LIST_MODEL (self->regions));
  double from = sample - self->max_region_len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (kp_region_get_start (kp_regions_get_region (self->regions, mid)) < from)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

/* Position of the first region from position from on starting at or after
 * sample: galloping, since it is usually a few regions ahead. */
static guint
first_at (KpWaveform *self,
          guint       from,
          double      sample)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->regions));
  guint lo = from, hi, step = 1;

  while (lo + step < n && kp_region_get_start (kp_regions_get_region (self->regions, lo + step)) < sample)
    step *= 2;
  hi = MIN (lo + step + 1, n);
  lo += step / 2;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (kp_region_get_start (kp_regions_get_region (self->regions, mid)) < sample)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

/* View */

static void
update_accessible (KpWaveform *self)
{
  g_autofree char *description = NULL;

  if (self->selected != NULL && self->regions != NULL)
    {
      guint rate = sample_rate (self);
      int index = kp_regions_index_of (self->regions, self->selected);
      const char *label = kp_region_get_label (self->selected);
      const char *tier = kp_region_get_tier (self->selected);

      /* Translators: a region of audio: "Region 2 of 5, Alice, 1.50 s to 2.25 s, laugh" */
      description = g_strdup_printf (_("Region %d of %u, %s, %.2f s to %.2f s, %s"),
                                     index + 1,
                                     g_list_model_get_n_items (G_LIST_MODEL (self->regions)),
                                     tier[0] ? tier : _("default tier"),
                                     kp_region_get_start (self->selected) / (double)rate,
                                     kp_region_get_end (self->selected) / (double)rate,
                                     label[0] ? label : _("no label"));
    }
  else
    description = g_strdup (_("No region selected"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description,
                                  -1);
}

static double
max_spp (KpWaveform *self)
{
  gint64 n = total_samples (self);

  return MAX ((double)n / view_width (self), 1.0);
}

static void
update_hadjustment (KpWaveform *self)
{
  double width = view_width (self);

  if (self->hadjustment == NULL)
    return;
  self->updating_adjustment = TRUE;
  gtk_adjustment_configure (self->hadjustment, self->view_start / self->spp, 0,
                            MAX (total_samples (self) / self->spp, width),
                            width * 0.1, width * 0.9, width);
  self->updating_adjustment = FALSE;
}

static void
hadjustment_value_changed_cb (GtkAdjustment *adjustment,
                              KpWaveform    *self)
{
  if (self->updating_adjustment)
    return;
  self->fit_all = FALSE;
  apply_view (self, gtk_adjustment_get_value (adjustment) * self->spp, self->spp);
}

static void
set_adjustment (KpWaveform     *self,
                GtkAdjustment **field,
                GtkAdjustment  *adjustment,
                int             prop)
{
  if (adjustment != NULL && adjustment == *field)
    return;
  if (*field != NULL)
    g_signal_handlers_disconnect_by_func (*field, hadjustment_value_changed_cb, self);
  if (adjustment == NULL)
    adjustment = gtk_adjustment_new (0, 0, 0, 0, 0, 0);
  g_set_object (field, g_object_ref_sink (adjustment));
  g_object_unref (adjustment);
  if (field == &self->hadjustment)
    {
      g_signal_connect (adjustment, "value-changed", G_CALLBACK (hadjustment_value_changed_cb), self);
      update_hadjustment (self);
    }
  g_object_notify (G_OBJECT (self), prop == PROP_HADJUSTMENT ? "hadjustment" : "vadjustment");
}

static void
apply_view (KpWaveform *self,
            double      view_start,
            double      samples_per_pixel)
{
  gint64 n;
  double spp, start;

  spp = CLAMP (samples_per_pixel, MIN_SPP, max_spp (self));
  n = total_samples (self);
  start = MAX (0, view_start);
  if (n > 0)
    start = MIN (start, MAX (0, n - view_width (self) * spp));

  if (spp != self->spp)
    {
      self->spp = spp;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SAMPLES_PER_PIXEL]);
    }
  if (start != self->view_start)
    {
      self->view_start = start;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VIEW_START]);
    }
  update_hadjustment (self);
  ensure_samples (self);
  schedule_detail (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

void
kp_waveform_set_view (KpWaveform *self,
                      double      view_start,
                      double      samples_per_pixel)
{
  g_return_if_fail (KP_IS_WAVEFORM (self));

  self->fit_all = FALSE;
  apply_view (self, view_start, samples_per_pixel);
}

void
kp_waveform_zoom_all (KpWaveform *self)
{
  g_return_if_fail (KP_IS_WAVEFORM (self));

  self->fit_all = TRUE;
  apply_view (self, 0, max_spp (self));
}

void
kp_waveform_zoom_at (KpWaveform *self,
                     double      factor,
                     double      x)
{
  KpViewTransform t;
  double spp;

  g_return_if_fail (KP_IS_WAVEFORM (self));
  g_return_if_fail (factor > 0);

  /* Scale is pixels per sample: 1 / samples-per-pixel. */
  get_transform (self, &t);
  kp_view_transform_zoom_at (&t, factor, x, 0, 1 / MAX (max_spp (self), MIN_SPP), 1 / MIN_SPP);
  spp = 1 / t.scale;
  self->fit_all = spp >= max_spp (self);
  apply_view (self, -t.origin_x * spp, spp);
}

double
kp_waveform_get_view_start (KpWaveform *self)
{
  g_return_val_if_fail (KP_IS_WAVEFORM (self), 0);
  return self->view_start;
}

double
kp_waveform_get_samples_per_pixel (KpWaveform *self)
{
  g_return_val_if_fail (KP_IS_WAVEFORM (self), 1);
  return self->spp;
}

/* Keeps sample in view, centring it if it is outside. */
static void
reveal_sample (KpWaveform *self,
               double      sample)
{
  double x = kp_waveform_x_for_sample (self, sample);

  if (x < 0 || x > view_width (self))
    kp_waveform_set_view (self, sample - view_width (self) * self->spp / 2, self->spp);
}

/* Samples for sample-level zoom */

typedef struct
{
  KpWaveform *self;
  gint64      start;
} SamplesRequest;

static void
read_samples_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  SamplesRequest *req = user_data;
  g_autoptr(KpWaveform) self = req->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  guint channels = 0, rate = 0;
  const float *data;
  gsize size;
  guint frames;

  bytes = kp_audio_read_samples_finish (result, &channels, &rate, &error);
  g_clear_object (&self->samples_cancellable);
  if (bytes == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("No samples for the waveform: %s", error->message);
      self->samples_req_start = self->samples_req_end = 0;
      g_free (req);
      return;
    }

  data = g_bytes_get_data (bytes, &size);
  frames = channels > 0 ? size / sizeof (float) / channels : 0;
  g_free (self->samples);
  self->samples = g_new (float, MAX (frames, 1));
  for (guint i = 0; i < frames; i++)
    {
      float sum = 0;

      for (guint c = 0; c < channels; c++)
        sum += data[i * channels + c];
      self->samples[i] = sum / channels;
    }
  self->samples_start = req->start;
  self->n_samples = frames;
  g_free (req);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  /* The view may have moved on meanwhile. */
  ensure_samples (self);
}

static void
ensure_samples (KpWaveform *self)
{
  guint spp_pair = self->peaks ? kp_peaks_get_samples_per_pair (self->peaks) : 256;
  double width = view_width (self) * self->spp;
  gint64 want_start, want_end, start, end;
  SamplesRequest *req;

  if (self->file == NULL || self->spp >= spp_pair || total_samples (self) == 0)
    return;

  want_start = MAX (0, (gint64)floor (self->view_start) - 1);
  want_end = (gint64)ceil (self->view_start + width) + 2;
  if (total_samples (self) > 0)
    want_end = MIN (want_end, total_samples (self));
  if (want_end <= want_start)
    return;
  /* Covered, or already asked for. */
  if (self->n_samples > 0 && want_start >= self->samples_start
      && want_end <= self->samples_start + (gint64)self->n_samples)
    return;
  if (self->samples_cancellable != NULL)
    {
      if (want_start >= self->samples_req_start && want_end <= self->samples_req_end)
        return;
      g_cancellable_cancel (self->samples_cancellable);
      g_clear_object (&self->samples_cancellable);
    }

  /* A margin of a screen on each side makes scrolling read less often. */
  start = MAX (0, want_start - (gint64)width);
  end = want_end + (gint64)width;
  self->samples_cancellable = g_cancellable_new ();
  self->samples_req_start = start;
  self->samples_req_end = end;
  req = g_new0 (SamplesRequest, 1);
  req->self = g_object_ref (self);
  req->start = start;
  kp_audio_read_samples_async (self->file, start, (guint)(end - start), self->samples_cancellable,
                               read_samples_cb, req);
}

/* Zero-crossing snap */

typedef struct
{
  KpWaveform *self;
  KpRegion   *region;
  gint64      read_start;
  gint64      edge;
  gboolean    is_end;
} SnapRequest;

static void
snap_request_free (SnapRequest *req)
{
  g_object_unref (req->region);
  g_object_unref (req->self);
  g_free (req);
}

/* The index i nearest to center where the mono signal changes sign
 * between i - 1 and i, or -1. */
static gint64
nearest_crossing (const float *data,
                  guint        channels,
                  guint        frames,
                  gint64       center)
{
  gint64 best = -1;
  float prev = 0;

  for (guint i = 0; i < frames; i++)
    {
      float v = 0;

      for (guint c = 0; c < channels; c++)
        v += data[(gsize)i * channels + c];
      if (i > 0 && ((prev < 0) != (v < 0)))
        if (best < 0 || ABS ((gint64)i - center) < ABS (best - center))
          best = i;
      prev = v;
    }
  return best;
}

static void
snap_read_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  SnapRequest *req = user_data;
  KpWaveform *self = req->self;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  guint channels = 0, rate = 0;
  gsize size;
  const float *data;
  gint64 crossing;

  self->pending_snaps--;
  bytes = kp_audio_read_samples_finish (result, &channels, &rate, &error);
  if (bytes == NULL || channels == 0)
    {
      if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("Not snapping: %s", error->message);
      snap_request_free (req);
      return;
    }
  data = g_bytes_get_data (bytes, &size);
  crossing = nearest_crossing (data, channels, size / sizeof (float) / channels,
                               req->edge - req->read_start);
  /* Skip if the edge was edited again meanwhile. */
  if (crossing >= 0
      && (req->is_end ? kp_region_get_end (req->region) : kp_region_get_start (req->region)) == req->edge)
    {
      gint64 at = req->read_start + crossing;

      if (req->is_end)
        kp_region_set_bounds (req->region, kp_region_get_start (req->region),
                              MAX (at, kp_region_get_start (req->region)));
      else
        kp_region_set_bounds (req->region, MIN (at, kp_region_get_end (req->region)),
                              kp_region_get_end (req->region));
    }
  snap_request_free (req);
}

static void
snap_edge (KpWaveform *self,
           KpRegion   *region,
           gboolean    is_end)
{
  gint64 window = MAX (32, (gint64)(SNAP_WINDOW_S * sample_rate (self)));
  gint64 edge = is_end ? kp_region_get_end (region) : kp_region_get_start (region);
  SnapRequest *req = g_new0 (SnapRequest, 1);

  req->self = g_object_ref (self);
  req->region = g_object_ref (region);
  req->read_start = MAX (0, edge - window);
  req->edge = edge;
  req->is_end = is_end;
  self->pending_snaps++;
  kp_audio_read_samples_async (self->file, req->read_start, (guint)(edge + window - req->read_start),
                               self->cancellable, snap_read_cb, req);
}

static void
snap_region (KpWaveform *self,
             KpRegion   *region,
             gboolean    start,
             gboolean    end)
{
  if (!self->snap || self->file == NULL || region == NULL)
    return;
  if (start)
    snap_edge (self, region, FALSE);
  if (end)
    snap_edge (self, region, TRUE);
}

/* Drawing */

static PangoLayout *
get_layout (KpWaveform *self,
            const char *text)
{
  PangoLayout *layout = g_hash_table_lookup (self->layouts, text);

  if (layout != NULL)
    return layout;
  if (g_hash_table_size (self->layouts) > MAX_LAYOUTS)
    g_hash_table_remove_all (self->layouts);
  layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
  g_hash_table_insert (self->layouts, g_strdup (text), layout);
  return layout;
}

static void
format_time (char   *buf,
             gsize   size,
             double  seconds,
             double  step)
{
  int h = (int)(seconds / 3600);
  int m = (int)(fmod (seconds, 3600) / 60);
  double s = fmod (seconds, 60);
  int decimals = step >= 1 ? 0 : step >= 0.1 ? 1 : step >= 0.01 ? 2 : step >= 0.001 ? 3 : 4;

  if (h > 0)
    g_snprintf (buf, size, "%d:%02d:%0*.*f", h, m, decimals ? decimals + 3 : 2, decimals, s);
  else
    g_snprintf (buf, size, "%d:%0*.*f", m, decimals ? decimals + 3 : 2, decimals, s);
}

static void
draw_ruler (KpWaveform  *self,
            GtkSnapshot *snapshot,
            int          width)
{
  static const double steps[] = {
    0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5,
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200,
  };
  double rate = sample_rate (self);
  double px_per_s = rate / self->spp;
  double step = steps[G_N_ELEMENTS (steps) - 1];
  double t0, t1;
  GdkRGBA tick = self->fg_color;

  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    if (steps[i] * px_per_s >= 90)
      {
        step = steps[i];
        break;
      }

  tick.alpha = 0.5f;
  gtk_snapshot_append_color (snapshot, &tick, &GRAPHENE_RECT_INIT (0, RULER_HEIGHT - 1, width, 1));
  t0 = floor (self->view_start / rate / step) * step;
  t1 = (self->view_start + width * self->spp) / rate;
  for (double t = t0; t <= t1 + step; t += step)
    {
      double x = kp_waveform_x_for_sample (self, t * rate);
      char buf[32];

      if (x < -200 || x > width)
        continue;
      gtk_snapshot_append_color (snapshot, &tick, &GRAPHENE_RECT_INIT (x, RULER_HEIGHT - 7, 1, 6));
      format_time (buf, sizeof buf, t + step * 1e-6, step);
      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (x + 3, 1));
      gtk_snapshot_append_layout (snapshot, get_layout (self, buf), &self->fg_color);
      gtk_snapshot_restore (snapshot);
    }
}

static void
ensure_columns (KpWaveform *self,
                guint       n)
{
  if (n <= self->n_cols)
    return;
  self->col_min = g_renew (float, self->col_min, n);
  self->col_max = g_renew (float, self->col_max, n);
  self->n_cols = n;
}

/* Fills the columns from the samples read; FALSE if they do not cover. */
static gboolean
columns_from_samples (KpWaveform *self,
                      guint       width)
{
  gint64 first = (gint64)floor (self->view_start);
  gint64 last = (gint64)ceil (self->view_start + width * self->spp);
  gint64 n = total_samples (self);

  if (n > 0)
    last = MIN (last, n);
  if (self->n_samples == 0 || first < self->samples_start
      || last > self->samples_start + (gint64)self->n_samples)
    return FALSE;

  for (guint i = 0; i < width; i++)
    {
      gint64 a = (gint64)floor (self->view_start + i * self->spp) - self->samples_start;
      gint64 b = (gint64)floor (self->view_start + (i + 1) * self->spp) - self->samples_start;
      float lo = G_MAXFLOAT, hi = -G_MAXFLOAT;

      b = MAX (b, a + 1);
      for (gint64 k = MAX (a, 0); k < b && k < (gint64)self->n_samples; k++)
        {
          lo = MIN (lo, self->samples[k]);
          hi = MAX (hi, self->samples[k]);
        }
      if (lo > hi)
        lo = hi = 0;
      self->col_min[i] = lo;
      self->col_max[i] = hi;
    }
  return TRUE;
}

static void
draw_samples_line (KpWaveform  *self,
                   GtkSnapshot *snapshot,
                   int          width,
                   double       top,
                   double       height)
{
  gint64 first = MAX ((gint64)floor (self->view_start) - 1, self->samples_start);
  gint64 last = MIN ((gint64)ceil (self->view_start + width * self->spp) + 1,
                     self->samples_start + (gint64)self->n_samples - 1);
  double mid = top + height / 2, half = height / 2 - 1;
  cairo_t *cr;

  if (last <= first)
    return;
  cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (0, top, width, height));
  gdk_cairo_set_source_rgba (cr, &self->wave_color);
  cairo_set_line_width (cr, 1.5);
  for (gint64 s = first; s <= last; s++)
    {
      double x = kp_waveform_x_for_sample (self, s);
      double y = mid - self->samples[s - self->samples_start] * half;

      if (s == first)
        cairo_move_to (cr, x, y);
      else
        cairo_line_to (cr, x, y);
    }
  cairo_stroke (cr);
  /* Dots once samples are far enough apart to tell. */
  if (self->spp <= 1.0 / 6)
    for (gint64 s = first; s <= last; s++)
      {
        double x = kp_waveform_x_for_sample (self, s);
        double y = mid - self->samples[s - self->samples_start] * half;

        cairo_arc (cr, x, y, 2.5, 0, 2 * G_PI);
        cairo_fill (cr);
      }
  cairo_destroy (cr);
}

static void
draw_wave (KpWaveform  *self,
           GtkSnapshot *snapshot,
           int          width,
           double       top,
           double       height)
{
  double mid = top + height / 2, half = height / 2 - 1;
  guint spp_pair = kp_peaks_get_samples_per_pair (self->peaks);
  guint n;
  GdkRGBA axis = self->fg_color;

  axis.alpha = 0.2f;
  gtk_snapshot_append_color (snapshot, &axis, &GRAPHENE_RECT_INIT (0, floor (mid), width, 1));

  if (self->spp < 1 && self->n_samples > 0)
    {
      draw_samples_line (self, snapshot, width, top, height);
      return;
    }

  ensure_columns (self, width);
  if (self->spp < spp_pair && columns_from_samples (self, width))
    n = width;
  else
    {
      gint64 start = (gint64)floor (self->view_start);
      gint64 end = (gint64)floor (self->view_start + width * self->spp);

      n = kp_peaks_get_range (self->peaks, -1, start, MAX (end, start + 1), width,
                              self->col_min, self->col_max);
    }

  for (guint i = 0; i < n; i++)
    {
      double y0 = mid - self->col_max[i] * half;
      double y1 = mid - self->col_min[i] * half;

      if (y1 - y0 < 1)
        y1 = y0 + 1;
      gtk_snapshot_append_color (snapshot, &self->wave_color,
                                 &GRAPHENE_RECT_INIT (i, y0, 1, y1 - y0));
    }
}

static GPtrArray *
build_spec_tiles (KpSpectrogram *spectrogram)
{
  static guint8 lut[256][3];
  static gsize lut_init = 0;
  const guint8 *data = kp_spectrogram_get_data (spectrogram);
  guint n_cols = kp_spectrogram_get_n_columns (spectrogram);
  guint bands = kp_spectrogram_get_n_bands (spectrogram);
  double nyquist, top_band;
  GPtrArray *tiles;

  if (g_once_init_enter (&lut_init))
    {
      /* Dark blue through magenta to yellow. */
      for (guint v = 0; v < 256; v++)
        {
          double t = v / 255.0;

          lut[v][0] = (guint8)(255 * CLAMP (1.5 * t, 0, 1));
          lut[v][1] = (guint8)(255 * CLAMP (2 * t - 1, 0, 1));
          lut[v][2] = (guint8)(255 * CLAMP (t < 0.5 ? 0.3 + t : 1.6 - 2 * t, 0, 1));
        }
      g_once_init_leave (&lut_init, 1);
    }

  /* Speech lives low: show 0 to SPEC_MAX_HZ (or half the rate), one
   * texture row per pixel of a typical band, bands interpolated. */
  nyquist = kp_spectrogram_get_sample_rate (spectrogram) / 2.0;
  top_band = MIN (SPEC_MAX_HZ, nyquist) / nyquist * bands;
  tiles = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint t = 0; t * SPEC_TILE < n_cols; t++)
    {
      guint w = MIN (SPEC_TILE, n_cols - t * SPEC_TILE);
      gsize stride = (gsize)w * 3;
      guint8 *pixels = g_malloc (stride * SPEC_ROWS);
      g_autoptr(GBytes) bytes = NULL;

      for (guint c = 0; c < w; c++)
        {
          const guint8 *column = data + (gsize)(t * SPEC_TILE + c) * bands;

          for (guint row = 0; row < SPEC_ROWS; row++)
            {
              double pos = top_band * (SPEC_ROWS - 1 - row) / (SPEC_ROWS - 1);
              guint b = MIN ((guint)pos, bands - 1);
              guint b1 = MIN (b + 1, bands - 1);
              double f = pos - b;
              guint v = (guint)(column[b] * (1 - f) + column[b1] * f + 0.5);

              memcpy (pixels + (gsize)row * stride + c * 3, lut[MIN (v, 255)], 3);
            }
        }
      bytes = g_bytes_new_take (pixels, stride * SPEC_ROWS);
      g_ptr_array_add (tiles, gdk_memory_texture_new (w, SPEC_ROWS, GDK_MEMORY_R8G8B8, bytes, stride));
    }
  return tiles;
}

static void
draw_spectrogram_tiles (KpWaveform     *self,
                        KpSpectrogram  *spectrogram,
                        GPtrArray     **tiles,
                        GtkSnapshot    *snapshot,
                        int             width,
                        double          top,
                        double          height)
{
  double samples_per_col, origin;

  if (spectrogram == NULL || !kp_spectrogram_get_complete (spectrogram))
    return;
  if (*tiles == NULL)
    *tiles = build_spec_tiles (spectrogram);
  samples_per_col = kp_spectrogram_get_hop (spectrogram) / 1e9 * sample_rate (self);
  origin = kp_spectrogram_get_start (spectrogram) / 1e9 * sample_rate (self);

  for (guint t = 0; t < (*tiles)->len; t++)
    {
      GdkTexture *tex = g_ptr_array_index (*tiles, t);
      double x0 = kp_waveform_x_for_sample (self, origin + (double)t * SPEC_TILE * samples_per_col);
      double x1 = kp_waveform_x_for_sample (self, origin + ((double)t * SPEC_TILE
                                                            + gdk_texture_get_width (tex))
                                                           * samples_per_col);

      if (x1 < 0 || x0 > width)
        continue;
      gtk_snapshot_append_texture (snapshot, tex, &GRAPHENE_RECT_INIT (x0, top, x1 - x0, height));
    }
}

static void
draw_spectrogram (KpWaveform  *self,
                  GtkSnapshot *snapshot,
                  int          width,
                  double       top,
                  double       height)
{
  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, top, width, height));
  draw_spectrogram_tiles (self, self->spectrogram, &self->spec_tiles, snapshot, width, top, height);
  /* The finer stretch around the view, over the overview. */
  draw_spectrogram_tiles (self, self->detail, &self->detail_tiles, snapshot, width, top, height);
  gtk_snapshot_pop (snapshot);
}

static void
clear_detail (KpWaveform *self)
{
  if (self->detail_cancellable != NULL)
    g_cancellable_cancel (self->detail_cancellable);
  g_clear_object (&self->detail_cancellable);
  g_clear_object (&self->detail);
  g_clear_pointer (&self->detail_tiles, g_ptr_array_unref);
  g_clear_handle_id (&self->detail_timeout_id, g_source_remove);
}

/* Detail spectrogram: the overview of a long file has coarse columns
 * (KP_SPECTROGRAM_MAX_COLUMNS over the whole length), so a view zoomed in
 * past a few pixels per column gets a spectrogram of its own stretch. */

static void
detail_loaded_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(KpWaveform) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!kp_spectrogram_load_finish (KP_SPECTROGRAM (object), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("No detail spectrogram: %s", error->message);
      if (self->detail == KP_SPECTROGRAM (object))
        g_clear_object (&self->detail);
      return;
    }
  if (self->detail == KP_SPECTROGRAM (object))
    {
      g_clear_pointer (&self->detail_tiles, g_ptr_array_unref);
      gtk_widget_queue_draw (GTK_WIDGET (self));
    }
}

static gboolean
detail_needed (KpWaveform *self)
{
  double rate = sample_rate (self);
  double view_end = self->view_start + view_width (self) * self->spp;
  double hop_samples;

  if (!self->show_spectrogram || self->file == NULL || self->spectrogram == NULL
      || !kp_spectrogram_get_complete (self->spectrogram))
    return FALSE;
  hop_samples = kp_spectrogram_get_hop (self->spectrogram) / 1e9 * rate;
  if (hop_samples / self->spp <= 3 || kp_spectrogram_get_hop (self->spectrogram) <= KP_SPECTROGRAM_MIN_HOP_NS)
    return FALSE;
  /* The detail there covers the view finely enough already (or is on its way). */
  if (self->detail != NULL)
    {
      double start = kp_spectrogram_get_start (self->detail) / 1e9 * rate;
      double hop = kp_spectrogram_get_hop (self->detail) / 1e9 * rate;
      double end = start + (double)kp_spectrogram_get_n_columns (self->detail) * hop;

      if (!kp_spectrogram_get_complete (self->detail))
        return !(self->view_start >= self->detail_start && view_end <= self->detail_end);
      if (self->view_start >= start && view_end <= end
          && (hop / self->spp <= 3 || kp_spectrogram_get_hop (self->detail) <= KP_SPECTROGRAM_MIN_HOP_NS))
        return FALSE;
    }
  return TRUE;
}

static gboolean
detail_timeout_cb (gpointer user_data)
{
  KpWaveform *self = user_data;
  double rate = sample_rate (self);
  double span = view_width (self) * self->spp;
  gint64 span_ns, start_ns, duration_ns, total_ns;

  self->detail_timeout_id = 0;
  if (!detail_needed (self))
    return G_SOURCE_REMOVE;

  if (self->detail_cancellable != NULL)
    g_cancellable_cancel (self->detail_cancellable);
  g_clear_object (&self->detail_cancellable);
  g_clear_object (&self->detail);
  g_clear_pointer (&self->detail_tiles, g_ptr_array_unref);

  /* A screen either side, so scrolling a little stays covered. */
  span_ns = (gint64)(span / rate * 1e9);
  total_ns = (gint64)(total_samples (self) / rate * 1e9);
  start_ns = MAX (0, (gint64)(self->view_start / rate * 1e9) - span_ns);
  duration_ns = MIN (3 * span_ns, total_ns - start_ns);
  if (duration_ns <= 0)
    return G_SOURCE_REMOVE;
  self->detail_start = start_ns / 1e9 * rate;
  self->detail_end = (start_ns + duration_ns) / 1e9 * rate;
  self->detail = kp_spectrogram_new ();
  self->detail_cancellable = g_cancellable_new ();
  kp_spectrogram_load_range_async (self->detail, self->file, start_ns, duration_ns,
                                   span_ns / MAX (view_width (self), 1), self->detail_cancellable,
                                   detail_loaded_cb, g_object_ref (self));
  return G_SOURCE_REMOVE;
}

static void
schedule_detail (KpWaveform *self)
{
  if (self->detail_timeout_id != 0 || !detail_needed (self))
    return;
  /* Wait for the view to settle while zooming or scrolling. */
  self->detail_timeout_id = g_timeout_add (DETAIL_DELAY_MS, detail_timeout_cb, self);
}

/* A region's (or a run of small regions') box on its lane and its tint
 * over the waveform; nothing if x1 is -G_MAXDOUBLE. */
static void
draw_box (KpWaveform  *self,
          GtkSnapshot *snapshot,
          guint        lane,
          double       x0,
          double       x1,
          double       wave_top,
          double       wave_h,
          double       y)
{
  GdkRGBA color = tier_colors[lane % G_N_ELEMENTS (tier_colors)];
  GdkRGBA overlay = color;

  if (x1 == -G_MAXDOUBLE)
    return;
  overlay.alpha = 0.12f;
  color.alpha = 0.6f;
  gtk_snapshot_append_color (snapshot, &overlay,
                             &GRAPHENE_RECT_INIT (x0, wave_top, MAX (x1 - x0, 1), wave_h));
  gtk_snapshot_append_color (snapshot, &color,
                             &GRAPHENE_RECT_INIT (x0, y + 1, MAX (x1 - x0, 1), LANE_HEIGHT - 2));
}

static void
draw_regions (KpWaveform  *self,
              GtkSnapshot *snapshot,
              int          width,
              int          height)
{
  double wave_top = RULER_HEIGHT, wave_h = wave_height (self, height);
  double lane_top = lanes_top (self, height);
  double view_end = self->view_start + width * self->spp;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->regions));
  guint lanes = n_lanes (self);
  double *last_x = g_newa (double, lanes);
  double *last_label_x = g_newa (double, lanes);
  double *run_x0 = g_newa (double, lanes);
  double *run_x1 = g_newa (double, lanes);
  GdkRGBA lane_bg = self->fg_color;
  KpRegion *selected = NULL;
  double sel_x0 = 0, sel_x1 = 0, sel_y = 0;
  double column = -G_MAXDOUBLE;
  double min_last_x = -G_MAXDOUBLE;
  guint in_column = 0;

  lane_bg.alpha = 0.06f;
  for (guint l = 0; l < lanes; l++)
    {
      last_x[l] = -G_MAXDOUBLE;
      last_label_x[l] = -G_MAXDOUBLE;
      run_x0[l] = run_x1[l] = -G_MAXDOUBLE;
      if (l % 2 == 0)
        gtk_snapshot_append_color (snapshot, &lane_bg,
                                   &GRAPHENE_RECT_INIT (0, lane_top + l * LANE_HEIGHT, width, LANE_HEIGHT));
    }

  for (guint i = first_visible (self, self->view_start); i < n; i++)
    {
      KpRegion *r = kp_regions_get_region (self->regions, i);
      gint64 start = kp_region_get_start (r), end = kp_region_get_end (r);
      int lane;
      double x0, x1, y;

      if (start >= view_end)
        break;
      /* Zoomed out over many regions, a pixel column holds more than it
       * can show: after a few per lane, skip to the next column, so a
       * frame costs the width and not the number of regions. */
      if (floor (kp_waveform_x_for_sample (self, start)) == column)
        {
          if (++in_column > 2 * lanes && start > self->view_start)
            {
              i = first_at (self, i, kp_waveform_sample_at_x (self, column + 1)) - 1;
              continue;
            }
        }
      else
        {
          column = floor (kp_waveform_x_for_sample (self, start));
          in_column = 1;
        }
      if (end < self->view_start)
        continue;
      x0 = MAX (kp_waveform_x_for_sample (self, start), -2);
      x1 = MIN (kp_waveform_x_for_sample (self, end), width + 2);
      /* Under pixels every lane has painted: skip before the tier lookup. */
      if (r != self->selected && floor (MAX (x1, x0 + 1)) <= min_last_x && x1 - x0 <= 24)
        continue;
      lane = kp_regions_find_tier (self->regions, kp_region_get_tier (r));
      if (lane < 0)
        continue;
      y = lane_top + lane * LANE_HEIGHT;
      if (r == self->selected)
        {
          selected = r;
          sel_x0 = x0;
          sel_x1 = x1;
          sel_y = y;
          continue;
        }
      /* A region within pixels its lane has painted already (zoomed out,
       * or overlapping ones) adds nothing visible but its label. */
      if (floor (MAX (x1, x0 + 1)) <= last_x[lane] && (x1 - x0 <= 24 || x0 < last_label_x[lane]))
        continue;
      last_x[lane] = MAX (last_x[lane], floor (MAX (x1, x0 + 1)));
      min_last_x = last_x[0];
      for (guint l = 1; l < lanes; l++)
        min_last_x = MIN (min_last_x, last_x[l]);

      /* Small regions that touch on a lane (zoomed out) merge into one
       * box, so that the frame's nodes follow its width. */
      if (x1 - x0 <= 24 && run_x1[lane] >= x0 - 1)
        {
          run_x1[lane] = MAX (run_x1[lane], MAX (x1, x0 + 1));
          continue;
        }
      draw_box (self, snapshot, lane, run_x0[lane], run_x1[lane], wave_top, wave_h, y);
      run_x0[lane] = x0;
      run_x1[lane] = MAX (x1, x0 + 1);
      if (x1 - x0 <= 24)
        continue;
      draw_box (self, snapshot, lane, run_x0[lane], run_x1[lane], wave_top, wave_h, y);
      run_x1[lane] = -G_MAXDOUBLE;
      if (kp_region_get_label (r)[0] != '\0')
        {
          last_label_x[lane] = x1;
          gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (x0, y, x1 - x0, LANE_HEIGHT));
          gtk_snapshot_save (snapshot);
          gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (MAX (x0, 0) + 4, y + 3));
          gtk_snapshot_append_layout (snapshot, get_layout (self, kp_region_get_label (r)),
                                      &self->fg_color);
          gtk_snapshot_restore (snapshot);
          gtk_snapshot_pop (snapshot);
        }
    }

  for (guint l = 0; l < lanes; l++)
    draw_box (self, snapshot, l, run_x0[l], run_x1[l], wave_top, wave_h, lane_top + l * LANE_HEIGHT);

  /* The selection goes on top, outlined in the accent colour over the wave too. */
  if (selected != NULL)
    {
      int lane = MAX (0, kp_regions_find_tier (self->regions, kp_region_get_tier (selected)));
      GdkRGBA color = tier_colors[lane % G_N_ELEMENTS (tier_colors)];
      GdkRGBA overlay = self->accent_color;
      float widths[4] = { 2, 2, 2, 2 };
      GdkRGBA border[4] = { self->accent_color, self->accent_color, self->accent_color,
                            self->accent_color };
      double w = MAX (sel_x1 - sel_x0, 1);
      GskRoundedRect outline;

      overlay.alpha = 0.25f;
      gtk_snapshot_append_color (snapshot, &overlay, &GRAPHENE_RECT_INIT (sel_x0, wave_top, w, wave_h));
      gtk_snapshot_append_color (snapshot, &self->accent_color,
                                 &GRAPHENE_RECT_INIT (sel_x0, wave_top, 1, wave_h));
      gtk_snapshot_append_color (snapshot, &self->accent_color,
                                 &GRAPHENE_RECT_INIT (sel_x0 + w - 1, wave_top, 1, wave_h));
      color.alpha = 0.9f;
      gtk_snapshot_append_color (snapshot, &color,
                                 &GRAPHENE_RECT_INIT (sel_x0, sel_y + 1, w, LANE_HEIGHT - 2));
      gsk_rounded_rect_init_from_rect (&outline, &GRAPHENE_RECT_INIT (sel_x0, sel_y + 1, w,
                                                                      LANE_HEIGHT - 2), 0);
      gtk_snapshot_append_border (snapshot, &outline, widths, border);
      if (w > 24 && kp_region_get_label (selected)[0] != '\0')
        {
          gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (sel_x0, sel_y, w, LANE_HEIGHT));
          gtk_snapshot_save (snapshot);
          gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (MAX (sel_x0, 0) + 4, sel_y + 3));
          gtk_snapshot_append_layout (snapshot, get_layout (self, kp_region_get_label (selected)),
                                      &self->fg_color);
          gtk_snapshot_restore (snapshot);
          gtk_snapshot_pop (snapshot);
        }
    }
}

static void
draw (KpWaveform  *self,
      GtkSnapshot *snapshot,
      int          width,
      int          height)
{
  double wave_top = RULER_HEIGHT, wave_h = wave_height (self, height);

  if (width <= 0 || height <= 0)
    return;

  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (0, 0, width, height));
  draw_ruler (self, snapshot, width);
  if (self->peaks != NULL)
    {
      if (self->show_spectrogram && self->spectrogram != NULL
          && kp_spectrogram_get_complete (self->spectrogram))
        {
          draw_spectrogram (self, snapshot, width, wave_top + wave_h / 2, wave_h / 2);
          draw_wave (self, snapshot, width, wave_top, wave_h / 2);
        }
      else
        draw_wave (self, snapshot, width, wave_top, wave_h);
    }
  if (self->regions != NULL)
    draw_regions (self, snapshot, width, height);
  if (self->player != NULL && kp_player_get_position (self->player) >= 0)
    {
      double x = kp_waveform_x_for_sample (self, kp_player_get_position (self->player) / 1e9
                                                 * sample_rate (self));

      if (x >= -1 && x <= width)
        gtk_snapshot_append_color (snapshot, &self->playhead_color,
                                   &GRAPHENE_RECT_INIT (floor (x) - 0.5, 0, 2, height));
    }
  gtk_snapshot_pop (snapshot);
}

static void
kp_waveform_snapshot (GtkWidget   *widget,
                      GtkSnapshot *snapshot)
{
  KpWaveform *self = KP_WAVEFORM (widget);

  draw (self, snapshot, gtk_widget_get_width (widget), gtk_widget_get_height (widget));
}

void
_kp_waveform_snapshot_at (KpWaveform  *self,
                          GtkSnapshot *snapshot,
                          int          width,
                          int          height)
{
  draw (self, snapshot, width, height);
}

static void
kp_waveform_measure (GtkWidget      *widget,
                     GtkOrientation  orientation,
                     int             for_size,
                     int            *minimum,
                     int            *natural,
                     int            *minimum_baseline,
                     int            *natural_baseline)
{
  KpWaveform *self = KP_WAVEFORM (widget);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = 120;
      *natural = 600;
    }
  else
    {
      *minimum = RULER_HEIGHT + MIN_WAVE_HEIGHT + n_lanes (self) * LANE_HEIGHT;
      *natural = RULER_HEIGHT + 140 + n_lanes (self) * LANE_HEIGHT;
    }
}

static void
kp_waveform_size_allocate (GtkWidget *widget,
                           int        width,
                           int        height,
                           int        baseline)
{
  KpWaveform *self = KP_WAVEFORM (widget);

  if (self->fit_all)
    apply_view (self, 0, max_spp (self));
  else
    apply_view (self, self->view_start, self->spp);
  if (self->editor != NULL)
    gtk_popover_present (GTK_POPOVER (self->editor));
}

static void
kp_waveform_css_changed (GtkWidget         *widget,
                         GtkCssStyleChange *change)
{
  KpWaveform *self = KP_WAVEFORM (widget);

  GTK_WIDGET_CLASS (kp_waveform_parent_class)->css_changed (widget, change);

  kp_view_lookup_color (widget, "accent_color", "#1c71d8", &self->wave_color);
  kp_view_lookup_color (widget, "window_fg_color", "#000000cc", &self->fg_color);
  kp_view_lookup_color (widget, "accent_bg_color", "#3584e4", &self->accent_color);
  kp_view_lookup_color (widget, "error_color", "#e01b24", &self->playhead_color);

  g_hash_table_remove_all (self->layouts);
  gtk_widget_queue_draw (widget);
}

/* Playhead */

static gboolean
tick_cb (GtkWidget     *widget,
         GdkFrameClock *clock,
         gpointer       user_data)
{
  KpWaveform *self = KP_WAVEFORM (widget);

  if (self->player == NULL || !kp_player_get_playing (self->player))
    {
      self->tick_id = 0;
      gtk_widget_queue_draw (widget);
      return G_SOURCE_REMOVE;
    }
  if (self->follow && self->drag_mode == DRAG_NONE)
    {
      double sample = kp_player_get_position (self->player) / 1e9 * sample_rate (self);
      double x = kp_waveform_x_for_sample (self, sample);

      /* Page along, the way an editor does, rather than scroll every frame. */
      if (x > view_width (self) || x < 0)
        kp_waveform_set_view (self, sample - view_width (self) * self->spp * 0.05, self->spp);
    }
  gtk_widget_queue_draw (widget);
  return G_SOURCE_CONTINUE;
}

static void
player_playing_cb (KpWaveform *self)
{
  if (kp_player_get_playing (self->player) && self->tick_id == 0)
    self->tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), tick_cb, NULL, NULL);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
seek_to_x (KpWaveform *self,
           double      x)
{
  gint64 sample = clamp_sample (self, kp_waveform_sample_at_x (self, x));

  if (self->player != NULL)
    kp_player_seek (self->player, (gint64)((double)sample * 1e9 / sample_rate (self)));
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

/* Pointer */

static KpRegion *
hit_region (KpWaveform *self,
            double      x,
            const char *tier,
            DragMode   *mode)
{
  double at = kp_waveform_sample_at_x (self, x);
  double view_end = self->view_start + view_width (self) * self->spp;
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->regions));
  KpRegion *inside = NULL;

  /* The selection's edges first, so overlapping regions stay editable. */
  if (self->selected != NULL && (tier == NULL || g_str_equal (kp_region_get_tier (self->selected), tier)))
    {
      double x0 = kp_waveform_x_for_sample (self, kp_region_get_start (self->selected));
      double x1 = kp_waveform_x_for_sample (self, kp_region_get_end (self->selected));

      if (ABS (x - x1) <= EDGE_GRAB)
        {
          *mode = DRAG_RESIZE_END;
          return self->selected;
        }
      if (ABS (x - x0) <= EDGE_GRAB)
        {
          *mode = DRAG_RESIZE_START;
          return self->selected;
        }
      if (tier != NULL && x > x0 && x < x1)
        {
          *mode = DRAG_MOVE;
          return self->selected;
        }
    }
  if (tier == NULL)
    return NULL;

  for (guint i = first_visible (self, self->view_start); i < n; i++)
    {
      KpRegion *r = kp_regions_get_region (self->regions, i);
      double x0, x1;

      if (kp_region_get_start (r) >= view_end)
        break;
      if (!g_str_equal (kp_region_get_tier (r), tier))
        continue;
      x0 = kp_waveform_x_for_sample (self, kp_region_get_start (r));
      x1 = kp_waveform_x_for_sample (self, kp_region_get_end (r));
      if (ABS (x - x1) <= EDGE_GRAB)
        {
          *mode = DRAG_RESIZE_END;
          return r;
        }
      if (ABS (x - x0) <= EDGE_GRAB)
        {
          *mode = DRAG_RESIZE_START;
          return r;
        }
      if (at >= kp_region_get_start (r) && at < kp_region_get_end (r))
        inside = r;
    }
  if (inside != NULL)
    *mode = DRAG_MOVE;
  return inside;
}

void
_kp_waveform_pointer_press (KpWaveform *self,
                            double      x,
                            double      y)
{
  int height = gtk_widget_get_height (GTK_WIDGET (self));
  double lane_top = lanes_top (self, height > 0 ? height : 200);
  const char *tier = NULL;
  DragMode mode = DRAG_NONE;
  KpRegion *hit = NULL;

  g_return_if_fail (KP_IS_WAVEFORM (self));

  self->press_x = x;
  self->press_y = y;
  self->dragged = FALSE;
  g_clear_object (&self->drag_region);
  g_clear_pointer (&self->drag_tier, g_free);

  if (y < RULER_HEIGHT || self->regions == NULL)
    {
      self->drag_mode = DRAG_SEEK;
      seek_to_x (self, x);
      return;
    }

  if (y >= lane_top)
    tier = tier_of_lane (self, (guint)((y - lane_top) / LANE_HEIGHT));
  hit = hit_region (self, x, tier, &mode);
  if (hit != NULL)
    {
      self->drag_mode = mode;
      self->drag_region = g_object_ref (hit);
      self->orig_start = kp_region_get_start (hit);
      self->orig_end = kp_region_get_end (hit);
      self->drag_anchor = clamp_sample (self, kp_waveform_sample_at_x (self, x));
      kp_waveform_set_selected_region (self, hit);
      return;
    }

  self->drag_mode = DRAG_CREATE;
  self->drag_tier = g_strdup (tier != NULL ? tier : self->current_tier);
  self->drag_anchor = clamp_sample (self, kp_waveform_sample_at_x (self, x));
}

void
_kp_waveform_pointer_motion (KpWaveform *self,
                             double      x,
                             double      y)
{
  gint64 at, delta, length;

  g_return_if_fail (KP_IS_WAVEFORM (self));

  if (!self->dragged && ABS (x - self->press_x) < DRAG_THRESHOLD)
    return;
  self->dragged = TRUE;
  at = clamp_sample (self, kp_waveform_sample_at_x (self, x));

  switch (self->drag_mode)
    {
    case DRAG_SEEK:
      seek_to_x (self, x);
      break;

    case DRAG_CREATE:
      if (self->drag_region == NULL)
        {
          self->drag_region = kp_region_new (MIN (at, self->drag_anchor), MAX (at, self->drag_anchor),
                                             self->drag_tier, NULL);
          kp_regions_add (self->regions, self->drag_region);
          kp_waveform_set_selected_region (self, self->drag_region);
        }
      else
        kp_region_set_bounds (self->drag_region, MIN (at, self->drag_anchor),
                              MAX (at, self->drag_anchor));
      break;

    case DRAG_MOVE:
      length = self->orig_end - self->orig_start;
      delta = at - self->drag_anchor;
      delta = MAX (delta, -self->orig_start);
      if (total_samples (self) > 0)
        delta = MIN (delta, total_samples (self) - self->orig_end);
      kp_region_set_bounds (self->drag_region, self->orig_start + delta,
                            self->orig_start + delta + length);
      break;

    case DRAG_RESIZE_START:
      /* Dragging past the other edge swaps the roles of the edges. */
      kp_region_set_bounds (self->drag_region, MIN (at, self->orig_end), MAX (at, self->orig_end));
      break;

    case DRAG_RESIZE_END:
      kp_region_set_bounds (self->drag_region, MIN (at, self->orig_start), MAX (at, self->orig_start));
      break;

    case DRAG_NONE:
    default:
      break;
    }
}

void
_kp_waveform_pointer_release (KpWaveform *self,
                              double      x,
                              double      y)
{
  DragMode mode;

  g_return_if_fail (KP_IS_WAVEFORM (self));

  _kp_waveform_pointer_motion (self, x, y);
  mode = self->drag_mode;
  self->drag_mode = DRAG_NONE;

  if (!self->dragged)
    {
      /* A click: on empty space it deselects and seeks; on a region it
       * selected it at press and seeks to where it was clicked. */
      if (mode == DRAG_CREATE)
        kp_waveform_set_selected_region (self, NULL);
      if (mode != DRAG_SEEK)
        seek_to_x (self, x);
    }
  else if (self->drag_region != NULL)
    {
      snap_region (self, self->drag_region,
                   mode != DRAG_RESIZE_END, mode != DRAG_RESIZE_START);
      update_accessible (self);
    }
  g_clear_object (&self->drag_region);
  g_clear_pointer (&self->drag_tier, g_free);
}

static void
drag_begin_cb (GtkGestureDrag *gesture,
               double          x,
               double          y,
               KpWaveform     *self)
{
  gtk_widget_grab_focus (GTK_WIDGET (self));
  _kp_waveform_pointer_press (self, x, y);
}

static void
drag_update_cb (GtkGestureDrag *gesture,
                double          dx,
                double          dy,
                KpWaveform     *self)
{
  _kp_waveform_pointer_motion (self, self->press_x + dx, self->press_y + dy);
}

static void
drag_end_cb (GtkGestureDrag *gesture,
             double          dx,
             double          dy,
             KpWaveform     *self)
{
  _kp_waveform_pointer_release (self, self->press_x + dx, self->press_y + dy);
}

static void
motion_cb (GtkEventControllerMotion *controller,
           double                    x,
           double                    y,
           KpWaveform               *self)
{
  int height = gtk_widget_get_height (GTK_WIDGET (self));
  DragMode mode = DRAG_NONE;
  const char *tier = NULL;
  const char *cursor = NULL;

  self->pointer_x = x;
  if (self->regions == NULL || self->drag_mode != DRAG_NONE || y < RULER_HEIGHT)
    return;
  if (y >= lanes_top (self, height))
    tier = tier_of_lane (self, (guint)((y - lanes_top (self, height)) / LANE_HEIGHT));
  if (hit_region (self, x, tier, &mode) != NULL)
    cursor = mode == DRAG_MOVE ? "grab" : "col-resize";
  gtk_widget_set_cursor_from_name (GTK_WIDGET (self), cursor);
}

static gboolean
scroll_cb (GtkEventControllerScroll *controller,
           double                    dx,
           double                    dy,
           KpWaveform               *self)
{
  GdkModifierType state = gtk_event_controller_get_current_event_state (GTK_EVENT_CONTROLLER (controller));

  if (state & GDK_CONTROL_MASK)
    {
      kp_waveform_zoom_at (self, pow (1.25, -dy), self->pointer_x);
      return TRUE;
    }
  self->fit_all = FALSE;
  kp_waveform_set_view (self, self->view_start + (dx + dy) * 0.1 * view_width (self) * self->spp,
                        self->spp);
  return TRUE;
}

/* Region editor */

static void
editor_apply (KpWaveform *self)
{
  if (self->editing == NULL)
    return;
  kp_region_set_label (self->editing, gtk_editable_get_text (GTK_EDITABLE (self->label_entry)));
  kp_region_set_transcript (self->editing,
                            gtk_editable_get_text (GTK_EDITABLE (self->transcript_entry)));
  update_accessible (self);
}

static void
editor_activate_cb (GtkWidget  *entry,
                    KpWaveform *self)
{
  editor_apply (self);
  gtk_popover_popdown (GTK_POPOVER (self->editor));
}

static void
editor_closed_cb (GtkPopover *popover,
                  KpWaveform *self)
{
  /* Closing keeps what was typed, as in a file rename popover. */
  editor_apply (self);
  g_clear_object (&self->editing);
  gtk_widget_grab_focus (GTK_WIDGET (self));
}

static void
ensure_editor (KpWaveform *self)
{
  GtkWidget *grid, *label;

  if (self->editor != NULL)
    return;

  grid = gtk_grid_new ();
  gtk_grid_set_row_spacing (GTK_GRID (grid), 6);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);

  label = gtk_label_new_with_mnemonic (_("_Label"));
  gtk_widget_set_halign (label, GTK_ALIGN_END);
  self->label_entry = gtk_entry_new ();
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), self->label_entry);
  gtk_grid_attach (GTK_GRID (grid), label, 0, 0, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), self->label_entry, 1, 0, 1, 1);

  label = gtk_label_new_with_mnemonic (_("_Transcript"));
  gtk_widget_set_halign (label, GTK_ALIGN_END);
  self->transcript_entry = gtk_entry_new ();
  gtk_widget_set_size_request (self->transcript_entry, 320, -1);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), self->transcript_entry);
  gtk_grid_attach (GTK_GRID (grid), label, 0, 1, 1, 1);
  gtk_grid_attach (GTK_GRID (grid), self->transcript_entry, 1, 1, 1, 1);

  g_signal_connect (self->label_entry, "activate", G_CALLBACK (editor_activate_cb), self);
  g_signal_connect (self->transcript_entry, "activate", G_CALLBACK (editor_activate_cb), self);

  self->editor = gtk_popover_new ();
  gtk_popover_set_child (GTK_POPOVER (self->editor), grid);
  gtk_popover_set_position (GTK_POPOVER (self->editor), GTK_POS_BOTTOM);
  gtk_widget_set_parent (self->editor, GTK_WIDGET (self));
  g_signal_connect (self->editor, "closed", G_CALLBACK (editor_closed_cb), self);
}

static void
edit_action (GtkWidget  *widget,
             const char *name,
             GVariant   *param)
{
  KpWaveform *self = KP_WAVEFORM (widget);
  int height = gtk_widget_get_height (widget);
  int lane;
  double x0, x1;

  if (self->selected == NULL || self->regions == NULL)
    {
      gtk_widget_error_bell (widget);
      return;
    }
  ensure_editor (self);
  g_set_object (&self->editing, self->selected);
  gtk_editable_set_text (GTK_EDITABLE (self->label_entry), kp_region_get_label (self->editing));
  gtk_editable_set_text (GTK_EDITABLE (self->transcript_entry),
                         kp_region_get_transcript (self->editing));

  /* Point at the region's box on its lane. */
  reveal_sample (self, kp_region_get_start (self->editing));
  lane = MAX (0, kp_regions_find_tier (self->regions, kp_region_get_tier (self->editing)));
  x0 = CLAMP (kp_waveform_x_for_sample (self, kp_region_get_start (self->editing)), 0, view_width (self));
  x1 = CLAMP (kp_waveform_x_for_sample (self, kp_region_get_end (self->editing)), 0, view_width (self));
  gtk_popover_set_pointing_to (GTK_POPOVER (self->editor),
                               &(GdkRectangle) { (int)x0, (int)(lanes_top (self, height) + lane * LANE_HEIGHT),
                                                 MAX ((int)(x1 - x0), 1), LANE_HEIGHT });
  gtk_popover_popup (GTK_POPOVER (self->editor));
  gtk_widget_grab_focus (self->transcript_entry);
}

/* Actions */

static void
play_pause_action (GtkWidget  *widget,
                   const char *name,
                   GVariant   *param)
{
  KpWaveform *self = KP_WAVEFORM (widget);

  if (self->player != NULL)
    kp_player_toggle (self->player);
}

static void
speed_action (GtkWidget  *widget,
              const char *name,
              GVariant   *param)
{
  static const double speeds[] = { 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 4 };
  KpWaveform *self = KP_WAVEFORM (widget);
  int direction = g_variant_get_int32 (param);
  double rate;
  guint i = 0;

  if (self->player == NULL)
    return;
  rate = kp_player_get_rate (self->player);
  /* The next step up or down from the current rate. */
  if (direction > 0)
    {
      while (i < G_N_ELEMENTS (speeds) - 1 && speeds[i] <= rate + 1e-9)
        i++;
    }
  else
    {
      i = G_N_ELEMENTS (speeds) - 1;
      while (i > 0 && speeds[i] >= rate - 1e-9)
        i--;
    }
  if (direction == 0)
    kp_player_set_rate (self->player, 1.0);
  else
    kp_player_set_rate (self->player, speeds[i]);
}

static void
zoom_in_action (GtkWidget  *widget,
                const char *name,
                GVariant   *param)
{
  KpWaveform *self = KP_WAVEFORM (widget);
  double x = view_width (self) / 2.0;

  if (self->player != NULL && kp_player_get_position (self->player) >= 0)
    {
      double px = kp_waveform_x_for_sample (self, kp_player_get_position (self->player) / 1e9
                                                  * sample_rate (self));

      if (px >= 0 && px <= view_width (self))
        x = px;
    }
  kp_waveform_zoom_at (self, 2, x);
}

static void
zoom_out_action (GtkWidget  *widget,
                 const char *name,
                 GVariant   *param)
{
  KpWaveform *self = KP_WAVEFORM (widget);

  kp_waveform_zoom_at (self, 0.5, view_width (self) / 2.0);
}

static void
zoom_all_action (GtkWidget  *widget,
                 const char *name,
                 GVariant   *param)
{
  kp_waveform_zoom_all (KP_WAVEFORM (widget));
}

static void
select_step (KpWaveform *self,
             int         step)
{
  guint n;
  int index;
  KpRegion *r;

  if (self->regions == NULL || (n = g_list_model_get_n_items (G_LIST_MODEL (self->regions))) == 0)
    return;
  if (self->selected != NULL)
    index = kp_regions_index_of (self->regions, self->selected) + step;
  else
    index = step > 0 ? (int)first_visible (self, self->view_start + self->max_region_len)
                     : (int)n - 1;
  index = CLAMP (index, 0, (int)n - 1);
  r = kp_regions_get_region (self->regions, index);
  kp_waveform_set_selected_region (self, r);
  reveal_sample (self, kp_region_get_start (r));
}

static void
next_action (GtkWidget  *widget,
             const char *name,
             GVariant   *param)
{
  select_step (KP_WAVEFORM (widget), 1);
}

static void
previous_action (GtkWidget  *widget,
                 const char *name,
                 GVariant   *param)
{
  select_step (KP_WAVEFORM (widget), -1);
}

static void
nudge (KpWaveform *self,
       int         direction,
       gboolean    end)
{
  gint64 step = MAX (1, (gint64)llround (self->spp));
  gint64 start, stop;

  if (self->selected == NULL)
    {
      self->fit_all = FALSE;
      kp_waveform_set_view (self, self->view_start + direction * 0.1 * view_width (self) * self->spp,
                            self->spp);
      return;
    }
  start = kp_region_get_start (self->selected);
  stop = kp_region_get_end (self->selected);
  if (end)
    stop = MAX (start, clamp_sample (self, stop + direction * step));
  else
    start = MIN (stop, clamp_sample (self, start + direction * step));
  kp_region_set_bounds (self->selected, start, stop);
  reveal_sample (self, end ? stop : start);
  update_accessible (self);
}

static void
nudge_start_action (GtkWidget  *widget,
                    const char *name,
                    GVariant   *param)
{
  nudge (KP_WAVEFORM (widget), g_variant_get_int32 (param), FALSE);
}

static void
nudge_end_action (GtkWidget  *widget,
                  const char *name,
                  GVariant   *param)
{
  nudge (KP_WAVEFORM (widget), g_variant_get_int32 (param), TRUE);
}

/* Moves the selected region to the tier above or below; without a
 * selection, changes the tier new regions go to. */
static void
tier_action (GtkWidget  *widget,
             const char *name,
             GVariant   *param)
{
  KpWaveform *self = KP_WAVEFORM (widget);
  int direction = g_variant_get_int32 (param);
  const char *tier = self->selected ? kp_region_get_tier (self->selected) : self->current_tier;
  int index, n;

  if (self->regions == NULL || (n = kp_regions_get_n_tiers (self->regions)) == 0)
    return;
  index = kp_regions_find_tier (self->regions, tier);
  index = CLAMP (index + direction, 0, n - 1);
  if (self->selected != NULL)
    {
      kp_region_set_tier (self->selected, kp_regions_get_tier (self->regions, index));
      update_accessible (self);
    }
  kp_waveform_set_current_tier (self, kp_regions_get_tier (self->regions, index));
}

static void
label_action (GtkWidget  *widget,
              const char *name,
              GVariant   *param)
{
  KpWaveform *self = KP_WAVEFORM (widget);
  int n = g_variant_get_int32 (param);

  if (self->selected == NULL || self->labels == NULL || n < 1
      || (guint)n > g_strv_length (self->labels))
    {
      gtk_widget_error_bell (widget);
      return;
    }
  kp_region_set_label (self->selected, self->labels[n - 1]);
  update_accessible (self);
}

static void
delete_action (GtkWidget  *widget,
               const char *name,
               GVariant   *param)
{
  KpWaveform *self = KP_WAVEFORM (widget);
  g_autoptr(KpRegion) region = NULL;

  if (self->selected == NULL || self->regions == NULL)
    return;
  region = g_object_ref (self->selected);
  kp_waveform_set_selected_region (self, NULL);
  kp_regions_remove (self->regions, region);
}

static void
loop_action (GtkWidget  *widget,
             const char *name,
             GVariant   *param)
{
  KpWaveform *self = KP_WAVEFORM (widget);
  double ns_per_sample = 1e9 / sample_rate (self);

  if (self->player == NULL)
    return;
  if (kp_player_get_looping (self->player) || self->selected == NULL)
    {
      kp_player_clear_loop (self->player);
      return;
    }
  kp_player_set_loop (self->player, (gint64)(kp_region_get_start (self->selected) * ns_per_sample),
                      (gint64)(kp_region_get_end (self->selected) * ns_per_sample));
  kp_player_play (self->player);
}

static void
select_none_action (GtkWidget  *widget,
                    const char *name,
                    GVariant   *param)
{
  kp_waveform_set_selected_region (KP_WAVEFORM (widget), NULL);
}

static void
toggle_spectrogram_action (GtkWidget  *widget,
                           const char *name,
                           GVariant   *param)
{
  KpWaveform *self = KP_WAVEFORM (widget);

  kp_waveform_set_show_spectrogram (self, !self->show_spectrogram);
}

/* GObject */

static void
peaks_changed_cb (KpWaveform *self,
                  gint64      start,
                  gint64      end)
{
  double view_end = self->view_start + view_width (self) * self->spp;

  if (end >= self->view_start && start <= view_end)
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
peaks_length_cb (KpWaveform *self)
{
  if (self->fit_all)
    apply_view (self, 0, max_spp (self));
  else
    apply_view (self, self->view_start, self->spp);
}

static void
regions_changed_cb (KpWaveform *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->regions));
  gint64 longest = 0;

  for (guint i = 0; i < n; i++)
    {
      KpRegion *r = kp_regions_get_region (self->regions, i);

      longest = MAX (longest, kp_region_get_end (r) - kp_region_get_start (r));
    }
  self->max_region_len = longest;
  if (self->selected != NULL && kp_regions_index_of (self->regions, self->selected) < 0)
    kp_waveform_set_selected_region (self, NULL);
  if (kp_regions_get_n_tiers (self->regions) != self->n_tiers)
    {
      self->n_tiers = kp_regions_get_n_tiers (self->regions);
      gtk_widget_queue_resize (GTK_WIDGET (self));
    }
  else
    gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
spectrogram_complete_cb (KpWaveform *self)
{
  g_clear_pointer (&self->spec_tiles, g_ptr_array_unref);
  schedule_detail (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
kp_waveform_dispose (GObject *object)
{
  KpWaveform *self = (KpWaveform *)object;

  g_cancellable_cancel (self->cancellable);
  if (self->samples_cancellable != NULL)
    g_cancellable_cancel (self->samples_cancellable);
  g_clear_object (&self->samples_cancellable);
  if (self->editor != NULL)
    g_signal_handlers_disconnect_by_func (self->editor, editor_closed_cb, self);
  g_clear_pointer (&self->editor, gtk_widget_unparent);
  g_clear_object (&self->editing);
  if (self->hadjustment != NULL)
    g_signal_handlers_disconnect_by_func (self->hadjustment, hadjustment_value_changed_cb, self);
  g_clear_object (&self->hadjustment);
  g_clear_object (&self->vadjustment);
  /* The spectrogram first: nothing below may schedule its detail again. */
  kp_waveform_set_spectrogram (self, NULL);
  kp_waveform_set_peaks (self, NULL);
  kp_waveform_set_regions (self, NULL);
  kp_waveform_set_player (self, NULL);
  g_clear_object (&self->file);
  g_clear_object (&self->selected);
  g_clear_object (&self->drag_region);
  g_clear_pointer (&self->spec_tiles, g_ptr_array_unref);
  clear_detail (self);
  if (self->tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->tick_id);
      self->tick_id = 0;
    }

  G_OBJECT_CLASS (kp_waveform_parent_class)->dispose (object);
}

static void
kp_waveform_finalize (GObject *object)
{
  KpWaveform *self = (KpWaveform *)object;

  g_clear_object (&self->cancellable);
  g_free (self->current_tier);
  g_free (self->drag_tier);
  g_strfreev (self->labels);
  g_free (self->samples);
  g_free (self->col_min);
  g_free (self->col_max);
  g_hash_table_unref (self->layouts);

  G_OBJECT_CLASS (kp_waveform_parent_class)->finalize (object);
}

static void
kp_waveform_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  KpWaveform *self = KP_WAVEFORM (object);

  switch (prop_id)
    {
    case PROP_PEAKS:
      g_value_set_object (value, self->peaks);
      break;
    case PROP_FILE:
      g_value_set_object (value, self->file);
      break;
    case PROP_REGIONS:
      g_value_set_object (value, self->regions);
      break;
    case PROP_PLAYER:
      g_value_set_object (value, self->player);
      break;
    case PROP_SPECTROGRAM:
      g_value_set_object (value, self->spectrogram);
      break;
    case PROP_SHOW_SPECTROGRAM:
      g_value_set_boolean (value, self->show_spectrogram);
      break;
    case PROP_VIEW_START:
      g_value_set_double (value, self->view_start);
      break;
    case PROP_SAMPLES_PER_PIXEL:
      g_value_set_double (value, self->spp);
      break;
    case PROP_SELECTED_REGION:
      g_value_set_object (value, self->selected);
      break;
    case PROP_CURRENT_TIER:
      g_value_set_string (value, self->current_tier);
      break;
    case PROP_SNAP:
      g_value_set_boolean (value, self->snap);
      break;
    case PROP_FOLLOW_PLAYHEAD:
      g_value_set_boolean (value, self->follow);
      break;
    case PROP_HADJUSTMENT:
      g_value_set_object (value, self->hadjustment);
      break;
    case PROP_VADJUSTMENT:
      g_value_set_object (value, self->vadjustment);
      break;
    case PROP_HSCROLL_POLICY:
      g_value_set_enum (value, self->hscroll_policy);
      break;
    case PROP_VSCROLL_POLICY:
      g_value_set_enum (value, self->vscroll_policy);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_waveform_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  KpWaveform *self = KP_WAVEFORM (object);

  switch (prop_id)
    {
    case PROP_PEAKS:
      kp_waveform_set_peaks (self, g_value_get_object (value));
      break;
    case PROP_FILE:
      kp_waveform_set_file (self, g_value_get_object (value));
      break;
    case PROP_REGIONS:
      kp_waveform_set_regions (self, g_value_get_object (value));
      break;
    case PROP_PLAYER:
      kp_waveform_set_player (self, g_value_get_object (value));
      break;
    case PROP_SPECTROGRAM:
      kp_waveform_set_spectrogram (self, g_value_get_object (value));
      break;
    case PROP_SHOW_SPECTROGRAM:
      kp_waveform_set_show_spectrogram (self, g_value_get_boolean (value));
      break;
    case PROP_VIEW_START:
      self->fit_all = FALSE;
      kp_waveform_set_view (self, g_value_get_double (value), self->spp);
      break;
    case PROP_SAMPLES_PER_PIXEL:
      self->fit_all = FALSE;
      kp_waveform_set_view (self, self->view_start, g_value_get_double (value));
      break;
    case PROP_SELECTED_REGION:
      kp_waveform_set_selected_region (self, g_value_get_object (value));
      break;
    case PROP_CURRENT_TIER:
      kp_waveform_set_current_tier (self, g_value_get_string (value));
      break;
    case PROP_SNAP:
      kp_waveform_set_snap (self, g_value_get_boolean (value));
      break;
    case PROP_FOLLOW_PLAYHEAD:
      kp_waveform_set_follow_playhead (self, g_value_get_boolean (value));
      break;
    case PROP_HADJUSTMENT:
      set_adjustment (self, &self->hadjustment, g_value_get_object (value), PROP_HADJUSTMENT);
      break;
    case PROP_VADJUSTMENT:
      set_adjustment (self, &self->vadjustment, g_value_get_object (value), PROP_VADJUSTMENT);
      break;
    case PROP_HSCROLL_POLICY:
      if (self->hscroll_policy != (guint)g_value_get_enum (value))
        {
          self->hscroll_policy = g_value_get_enum (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_VSCROLL_POLICY:
      if (self->vscroll_policy != (guint)g_value_get_enum (value))
        {
          self->vscroll_policy = g_value_get_enum (value);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_waveform_class_init (KpWaveformClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = kp_waveform_dispose;
  object_class->finalize = kp_waveform_finalize;
  object_class->get_property = kp_waveform_get_property;
  object_class->set_property = kp_waveform_set_property;

  widget_class->snapshot = kp_waveform_snapshot;
  widget_class->measure = kp_waveform_measure;
  widget_class->size_allocate = kp_waveform_size_allocate;
  widget_class->css_changed = kp_waveform_css_changed;

  properties[PROP_PEAKS] = g_param_spec_object ("peaks", NULL, NULL, KP_TYPE_PEAKS, flags);
  properties[PROP_FILE] = g_param_spec_object ("file", NULL, NULL, G_TYPE_FILE, flags);
  properties[PROP_REGIONS] = g_param_spec_object ("regions", NULL, NULL, KP_TYPE_REGIONS, flags);
  properties[PROP_PLAYER] = g_param_spec_object ("player", NULL, NULL, KP_TYPE_PLAYER, flags);
  properties[PROP_SPECTROGRAM] = g_param_spec_object ("spectrogram", NULL, NULL,
                                                      KP_TYPE_SPECTROGRAM, flags);
  properties[PROP_SHOW_SPECTROGRAM] = g_param_spec_boolean ("show-spectrogram", NULL, NULL,
                                                            FALSE, flags);
  properties[PROP_VIEW_START] = g_param_spec_double ("view-start", NULL, NULL,
                                                     0, G_MAXDOUBLE, 0, flags);
  properties[PROP_SAMPLES_PER_PIXEL] = g_param_spec_double ("samples-per-pixel", NULL, NULL,
                                                            MIN_SPP, G_MAXDOUBLE, 1, flags);
  properties[PROP_SELECTED_REGION] = g_param_spec_object ("selected-region", NULL, NULL,
                                                          KP_TYPE_REGION, flags);
  properties[PROP_CURRENT_TIER] = g_param_spec_string ("current-tier", NULL, NULL, "", flags);
  properties[PROP_SNAP] = g_param_spec_boolean ("snap", NULL, NULL, FALSE, flags);
  properties[PROP_FOLLOW_PLAYHEAD] = g_param_spec_boolean ("follow-playhead", NULL, NULL,
                                                           TRUE, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  g_object_class_override_property (object_class, PROP_HADJUSTMENT, "hadjustment");
  g_object_class_override_property (object_class, PROP_VADJUSTMENT, "vadjustment");
  g_object_class_override_property (object_class, PROP_HSCROLL_POLICY, "hscroll-policy");
  g_object_class_override_property (object_class, PROP_VSCROLL_POLICY, "vscroll-policy");

  gtk_widget_class_install_action (widget_class, "waveform.play-pause", NULL, play_pause_action);
  gtk_widget_class_install_action (widget_class, "waveform.speed", "i", speed_action);
  gtk_widget_class_install_action (widget_class, "waveform.zoom-in", NULL, zoom_in_action);
  gtk_widget_class_install_action (widget_class, "waveform.zoom-out", NULL, zoom_out_action);
  gtk_widget_class_install_action (widget_class, "waveform.zoom-all", NULL, zoom_all_action);
  gtk_widget_class_install_action (widget_class, "waveform.toggle-spectrogram", NULL,
                                   toggle_spectrogram_action);
  gtk_widget_class_install_action (widget_class, "region.next", NULL, next_action);
  gtk_widget_class_install_action (widget_class, "region.previous", NULL, previous_action);
  gtk_widget_class_install_action (widget_class, "region.nudge-start", "i", nudge_start_action);
  gtk_widget_class_install_action (widget_class, "region.nudge-end", "i", nudge_end_action);
  gtk_widget_class_install_action (widget_class, "region.label", "i", label_action);
  gtk_widget_class_install_action (widget_class, "region.tier", "i", tier_action);
  gtk_widget_class_install_action (widget_class, "region.delete", NULL, delete_action);
  gtk_widget_class_install_action (widget_class, "region.edit", NULL, edit_action);
  gtk_widget_class_install_action (widget_class, "region.loop", NULL, loop_action);
  gtk_widget_class_install_action (widget_class, "region.select-none", NULL, select_none_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_space, 0, "waveform.play-pause", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_bracketleft, 0, "waveform.speed", "i", -1);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_bracketright, 0, "waveform.speed", "i", 1);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_backslash, 0, "waveform.speed", "i", 0);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_plus, 0, "waveform.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_equal, 0, "waveform.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Add, 0, "waveform.zoom-in", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_minus, 0, "waveform.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Subtract, 0, "waveform.zoom-out", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0, GDK_CONTROL_MASK, "waveform.zoom-all", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s, 0, "waveform.toggle-spectrogram", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Tab, 0, "region.next", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_ISO_Left_Tab, GDK_SHIFT_MASK, "region.previous", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Tab, GDK_SHIFT_MASK, "region.previous", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, 0, "region.nudge-start", "i", -1);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Right, 0, "region.nudge-start", "i", 1);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, GDK_SHIFT_MASK, "region.nudge-end", "i", -1);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Right, GDK_SHIFT_MASK, "region.nudge-end", "i", 1);
  for (int i = 1; i <= 9; i++)
    {
      gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0 + i, 0, "region.label", "i", i);
      gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_0 + i, 0, "region.label", "i", i);
    }
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Up, 0, "region.tier", "i", -1);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Down, 0, "region.tier", "i", 1);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Delete, 0, "region.delete", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, 0, "region.edit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Enter, 0, "region.edit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_BackSpace, 0, "region.delete", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_l, 0, "region.loop", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "region.select-none", NULL);

  gtk_widget_class_set_css_name (widget_class, "kp-waveform");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_WIDGET);
}

static void
kp_waveform_init (KpWaveform *self)
{
  GtkGesture *drag;
  GtkEventController *controller;

  self->spp = 1;
  self->fit_all = TRUE;
  self->follow = TRUE;
  self->current_tier = g_strdup ("");
  self->cancellable = g_cancellable_new ();
  self->layouts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  gdk_rgba_parse (&self->wave_color, "#1c71d8");
  gdk_rgba_parse (&self->fg_color, "#000000cc");
  gdk_rgba_parse (&self->accent_color, "#3584e4");
  gdk_rgba_parse (&self->playhead_color, "#e01b24");

  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
  gtk_widget_set_overflow (GTK_WIDGET (self), GTK_OVERFLOW_HIDDEN);

  drag = gtk_gesture_drag_new ();
  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (drag), GDK_BUTTON_PRIMARY);
  g_signal_connect (drag, "drag-begin", G_CALLBACK (drag_begin_cb), self);
  g_signal_connect (drag, "drag-update", G_CALLBACK (drag_update_cb), self);
  g_signal_connect (drag, "drag-end", G_CALLBACK (drag_end_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drag));

  controller = gtk_event_controller_motion_new ();
  g_signal_connect (controller, "motion", G_CALLBACK (motion_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  controller = gtk_event_controller_scroll_new (GTK_EVENT_CONTROLLER_SCROLL_BOTH_AXES);
  g_signal_connect (controller, "scroll", G_CALLBACK (scroll_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), controller);

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Waveform"),
                                  -1);
  update_accessible (self);
}

GtkWidget *
kp_waveform_new (void)
{
  return g_object_new (KP_TYPE_WAVEFORM, NULL);
}

/* Accessors */

KpPeaks *
kp_waveform_get_peaks (KpWaveform *self)
{
  g_return_val_if_fail (KP_IS_WAVEFORM (self), NULL);
  return self->peaks;
}

void
kp_waveform_set_peaks (KpWaveform *self,
                       KpPeaks    *peaks)
{
  g_return_if_fail (KP_IS_WAVEFORM (self));
  g_return_if_fail (peaks == NULL || KP_IS_PEAKS (peaks));

  if (peaks == self->peaks)
    return;
  if (self->peaks != NULL)
    g_signal_handlers_disconnect_by_data (self->peaks, self);
  g_set_object (&self->peaks, peaks);
  if (peaks != NULL)
    {
      g_signal_connect_swapped (peaks, "changed", G_CALLBACK (peaks_changed_cb), self);
      g_signal_connect_swapped (peaks, "notify::n-samples", G_CALLBACK (peaks_length_cb), self);
      g_signal_connect_swapped (peaks, "notify::sample-rate", G_CALLBACK (peaks_length_cb), self);
    }
  g_free (self->samples);
  self->samples = NULL;
  self->n_samples = 0;
  if (self->fit_all || peaks == NULL)
    kp_waveform_zoom_all (self);
  else
    apply_view (self, self->view_start, self->spp);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PEAKS]);
}

GFile *
kp_waveform_get_file (KpWaveform *self)
{
  g_return_val_if_fail (KP_IS_WAVEFORM (self), NULL);
  return self->file;
}

void
kp_waveform_set_file (KpWaveform *self,
                      GFile      *file)
{
  g_return_if_fail (KP_IS_WAVEFORM (self));
  g_return_if_fail (file == NULL || G_IS_FILE (file));

  if (!g_set_object (&self->file, file))
    return;
  clear_detail (self);
  if (self->samples_cancellable != NULL)
    g_cancellable_cancel (self->samples_cancellable);
  g_clear_object (&self->samples_cancellable);
  g_free (self->samples);
  self->samples = NULL;
  self->n_samples = 0;
  ensure_samples (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FILE]);
}

KpRegions *
kp_waveform_get_regions (KpWaveform *self)
{
  g_return_val_if_fail (KP_IS_WAVEFORM (self), NULL);
  return self->regions;
}

void
kp_waveform_set_regions (KpWaveform *self,
                         KpRegions  *regions)
{
  g_return_if_fail (KP_IS_WAVEFORM (self));
  g_return_if_fail (regions == NULL || KP_IS_REGIONS (regions));

  if (regions == self->regions)
    return;
  kp_waveform_set_selected_region (self, NULL);
  if (self->regions != NULL)
    g_signal_handlers_disconnect_by_data (self->regions, self);
  g_set_object (&self->regions, regions);
  if (regions != NULL)
    {
      g_signal_connect_swapped (regions, "changed", G_CALLBACK (regions_changed_cb), self);
      regions_changed_cb (self);
    }
  gtk_widget_queue_resize (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REGIONS]);
}

KpPlayer *
kp_waveform_get_player (KpWaveform *self)
{
  g_return_val_if_fail (KP_IS_WAVEFORM (self), NULL);
  return self->player;
}

void
kp_waveform_set_player (KpWaveform *self,
                        KpPlayer   *player)
{
  g_return_if_fail (KP_IS_WAVEFORM (self));
  g_return_if_fail (player == NULL || KP_IS_PLAYER (player));

  if (player == self->player)
    return;
  if (self->player != NULL)
    g_signal_handlers_disconnect_by_data (self->player, self);
  g_set_object (&self->player, player);
  if (player != NULL)
    {
      g_signal_connect_swapped (player, "notify::playing", G_CALLBACK (player_playing_cb), self);
      player_playing_cb (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PLAYER]);
}

KpSpectrogram *
kp_waveform_get_spectrogram (KpWaveform *self)
{
  g_return_val_if_fail (KP_IS_WAVEFORM (self), NULL);
  return self->spectrogram;
}

void
kp_waveform_set_spectrogram (KpWaveform    *self,
                             KpSpectrogram *spectrogram)
{
  g_return_if_fail (KP_IS_WAVEFORM (self));
  g_return_if_fail (spectrogram == NULL || KP_IS_SPECTROGRAM (spectrogram));

  if (spectrogram == self->spectrogram)
    return;
  if (self->spectrogram != NULL)
    g_signal_handlers_disconnect_by_data (self->spectrogram, self);
  g_set_object (&self->spectrogram, spectrogram);
  g_clear_pointer (&self->spec_tiles, g_ptr_array_unref);
  clear_detail (self);
  if (spectrogram != NULL)
    g_signal_connect_swapped (spectrogram, "notify::complete",
                              G_CALLBACK (spectrogram_complete_cb), self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPECTROGRAM]);
}

gboolean
kp_waveform_get_show_spectrogram (KpWaveform *self)
{
  g_return_val_if_fail (KP_IS_WAVEFORM (self), FALSE);
  return self->show_spectrogram;
}

void
kp_waveform_set_show_spectrogram (KpWaveform *self,
                                  gboolean    show)
{
  g_return_if_fail (KP_IS_WAVEFORM (self));

  show = !!show;
  if (show == self->show_spectrogram)
    return;
  self->show_spectrogram = show;
  schedule_detail (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHOW_SPECTROGRAM]);
}

KpRegion *
kp_waveform_get_selected_region (KpWaveform *self)
{
  g_return_val_if_fail (KP_IS_WAVEFORM (self), NULL);
  return self->selected;
}

void
kp_waveform_set_selected_region (KpWaveform *self,
                                 KpRegion   *region)
{
  g_return_if_fail (KP_IS_WAVEFORM (self));
  g_return_if_fail (region == NULL || KP_IS_REGION (region));

  if (region == self->selected)
    return;
  g_set_object (&self->selected, region);
  if (region != NULL)
    kp_waveform_set_current_tier (self, kp_region_get_tier (region));
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED_REGION]);
}

const char *
kp_waveform_get_current_tier (KpWaveform *self)
{
  g_return_val_if_fail (KP_IS_WAVEFORM (self), NULL);
  return self->current_tier;
}

void
kp_waveform_set_current_tier (KpWaveform *self,
                              const char *tier)
{
  g_return_if_fail (KP_IS_WAVEFORM (self));

  if (tier == NULL)
    tier = "";
  if (g_strcmp0 (tier, self->current_tier) == 0)
    return;
  g_free (self->current_tier);
  self->current_tier = g_strdup (tier);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CURRENT_TIER]);
}

void
kp_waveform_set_labels (KpWaveform         *self,
                        const char * const *labels)
{
  g_return_if_fail (KP_IS_WAVEFORM (self));

  g_strfreev (self->labels);
  self->labels = g_strdupv ((char **)labels);
}

gboolean
kp_waveform_get_snap (KpWaveform *self)
{
  g_return_val_if_fail (KP_IS_WAVEFORM (self), FALSE);
  return self->snap;
}

void
kp_waveform_set_snap (KpWaveform *self,
                      gboolean    snap)
{
  g_return_if_fail (KP_IS_WAVEFORM (self));

  snap = !!snap;
  if (snap == self->snap)
    return;
  self->snap = snap;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SNAP]);
}

gboolean
kp_waveform_get_follow_playhead (KpWaveform *self)
{
  g_return_val_if_fail (KP_IS_WAVEFORM (self), FALSE);
  return self->follow;
}

void
kp_waveform_set_follow_playhead (KpWaveform *self,
                                 gboolean    follow)
{
  g_return_if_fail (KP_IS_WAVEFORM (self));

  follow = !!follow;
  if (follow == self->follow)
    return;
  self->follow = follow;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FOLLOW_PLAYHEAD]);
}

/* Private hooks */

double
_kp_waveform_lane_y (KpWaveform *self,
                     guint       index)
{
  int height = gtk_widget_get_height (GTK_WIDGET (self));

  return lanes_top (self, height > 0 ? height : 200) + (index + 0.5) * LANE_HEIGHT;
}

double
_kp_waveform_wave_y (KpWaveform *self)
{
  int height = gtk_widget_get_height (GTK_WIDGET (self));

  return RULER_HEIGHT + wave_height (self, height > 0 ? height : 200) / 2;
}

gint64
_kp_waveform_get_samples (KpWaveform   *self,
                          const float **samples,
                          guint        *n_samples)
{
  *samples = self->samples;
  *n_samples = self->n_samples;
  return self->samples_start;
}

void
_kp_waveform_set_samples (KpWaveform  *self,
                          gint64       start,
                          const float *samples,
                          guint        n_samples)
{
  g_free (self->samples);
  self->samples = g_memdup2 (samples, sizeof (float) * n_samples);
  self->samples_start = start;
  self->n_samples = n_samples;
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

gboolean
_kp_waveform_is_editing (KpWaveform *self)
{
  g_return_val_if_fail (KP_IS_WAVEFORM (self), FALSE);

  return (self->drag_mode != DRAG_NONE && self->drag_mode != DRAG_SEEK) || self->pending_snaps > 0;
}

guint
_kp_waveform_get_pending_snaps (KpWaveform *self)
{
  return self->pending_snaps;
}

KpSpectrogram *
_kp_waveform_get_detail_spectrogram (KpWaveform *self)
{
  return self->detail;
}

GtkWidget *
_kp_waveform_get_editor (KpWaveform  *self,
                         GtkWidget  **label_entry,
                         GtkWidget  **transcript_entry)
{
  *label_entry = self->label_entry;
  *transcript_entry = self->transcript_entry;
  return self->editor;
}
