/* kp-peaks.c: a min/max peaks pyramid of an audio file (GStreamer; no GTK)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Peaks are kept per channel as signed 16-bit min/max pairs, the same values
 * an audiowaveform .dat file holds, laid out like its data: pair i is
 * [ch0 min, ch0 max, ch1 min, ch1 max, …]. Level 0 is the base resolution
 * (samples_per_pair samples per pair); level k has KP_PEAKS_LEVEL_FACTOR^k
 * base pairs per pair, so a column of any width is assembled from a few
 * pairs per level.
 *
 * Threads: the KpPeaks object is only touched on the thread that owns its
 * main context. A GTask worker reads the cache or runs the GStreamer
 * pipeline and watches its bus; the peaks themselves are computed on
 * GStreamer's streaming thread in appsink's new-sample callback (handing
 * each buffer to another thread cost more than the min/max). That side
 * keeps its own copy of the base pairs, for the disk cache, and hands new
 * pairs over in chunks through a locked queue; an idle on the owner's
 * context drains the queue, extends the pyramid and emits "changed".
 */

#include "config.h"

#include "kp-peaks.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>

#include "kp-audio-private.h"

G_DEFINE_QUARK (kp-peaks-error-quark, kp_peaks_error)

#define MAX_LEVELS 12
/* The first chunk goes out as soon as it fills a wide screen at the base
 * resolution, later ones at most every PROGRESS_INTERVAL. */
#define FIRST_SCREEN_PAIRS 2048
#define PROGRESS_INTERVAL (100 * G_TIME_SPAN_MILLISECOND)
#define BUS_TIMEOUT (50 * GST_MSECOND)
#define DAT_V1_HEADER 20
#define DAT_V2_HEADER 24
#define MAX_SAMPLE_RATE 10000000
#define MAX_DAT_PAIRS (G_GUINT64_CONSTANT (1) << 28)

struct _KpPeaks
{
  GObject parent_instance;

  guint sample_rate;
  guint channels;
  guint samples_per_pair;
  gint64 n_samples;
  gint64 decoded_samples;
  GArray *levels[MAX_LEVELS]; /* gint16, channels * 2 per pair */
  guint complete : 1;

  struct _LoadData *load;
};

G_DEFINE_FINAL_TYPE (KpPeaks, kp_peaks, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_SAMPLE_RATE,
  PROP_CHANNELS,
  PROP_SAMPLES_PER_PAIR,
  PROP_N_SAMPLES,
  PROP_DECODED_SAMPLES,
  PROP_COMPLETE,
  N_PROPS
};

enum {
  CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* State shared between the decoding side and the owner's thread.
 * Everything under "queue" is protected by lock. The rest belongs to the
 * streaming thread while the pipeline plays, and to the worker before and
 * after (it sets the pipeline to NULL, which stops the streaming thread,
 * before it touches them). */
typedef struct _LoadData
{
  GFile *file;
  KpPeaksLoadFlags flags;
  GMainContext *context;
  GWeakRef self; /* only to post back to; never touched by the worker */

  GMutex lock;
  /* queue */
  guint q_rate;
  guint q_channels;
  guint q_spp;
  gint64 q_n_samples;
  GArray *q_pairs;
  gint64 q_samples;
  gboolean q_final;
  gboolean q_idle_pending;

  /* decoding side */
  GArray *all;
  guint channels;
  guint spp;
  guint rate;
  gint64 est_samples;
  gint64 samples;
  guint posted_pairs;
  gint64 posted_samples;
  gint64 last_post;
  guint acc_count;
  gboolean is_float;
  GstElement *pipeline;     /* for the duration query, while decoding */
  GstCaps *caps;
  gboolean have_format;
  GError *stream_error;
  float acc_min[KP_PEAKS_MAX_CHANNELS];
  float acc_max[KP_PEAKS_MAX_CHANNELS];
  int acc_imin[KP_PEAKS_MAX_CHANNELS];
  int acc_imax[KP_PEAKS_MAX_CHANNELS];
} LoadData;

static void
load_data_clear (gpointer mem)
{
  LoadData *data = mem;

  g_clear_object (&data->file);
  g_clear_pointer (&data->context, g_main_context_unref);
  g_weak_ref_clear (&data->self);
  g_clear_pointer (&data->q_pairs, g_array_unref);
  g_clear_pointer (&data->all, g_array_unref);
  g_clear_error (&data->stream_error);
  gst_clear_caps (&data->caps);
  g_mutex_clear (&data->lock);
}

static LoadData *
load_data_ref (LoadData *data)
{
  return g_atomic_rc_box_acquire (data);
}

static void
load_data_unref (LoadData *data)
{
  g_atomic_rc_box_release_full (data, load_data_clear);
}

/* GStreamer is initialised on first use only, so the rest of the project
 * works without it. */
gboolean
_kp_audio_ensure_gst (GError **error)
{
  static gsize initialized = 0;
  static GError *init_error = NULL;

  if (g_once_init_enter (&initialized))
    {
      if (gst_init_check (NULL, NULL, &init_error))
        gst_pb_utils_init ();
      g_once_init_leave (&initialized, 1);
    }

  if (init_error != NULL)
    {
      g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_MISSING_PLUGIN,
                   _("GStreamer could not be started: %s"), init_error->message);
      return FALSE;
    }

  return TRUE;
}

/* Pyramid */

static inline guint
level_count (KpPeaks *self,
             guint    level)
{
  return self->levels[level]->len / (self->channels * 2);
}

static void
reset_levels (KpPeaks *self)
{
  for (guint k = 0; k < MAX_LEVELS; k++)
    {
      g_clear_pointer (&self->levels[k], g_array_unref);
      self->levels[k] = g_array_new (FALSE, FALSE, sizeof (gint16));
    }
}

/* Appends base pairs and recomputes the coarser pairs they touch. */
static void
append_pairs (KpPeaks      *self,
              const gint16 *pairs,
              guint         n_pairs)
{
  guint stride = self->channels * 2;
  guint old_prev = level_count (self, 0);
  guint new_prev;

  g_array_append_vals (self->levels[0], pairs, (guint)n_pairs * stride);
  new_prev = level_count (self, 0);

  for (guint k = 1; k < MAX_LEVELS; k++)
    {
      GArray *prev = self->levels[k - 1];
      GArray *cur = self->levels[k];
      guint old_cur = level_count (self, k);
      guint first = old_prev / KP_PEAKS_LEVEL_FACTOR;
      guint end = (new_prev + KP_PEAKS_LEVEL_FACTOR - 1) / KP_PEAKS_LEVEL_FACTOR;
      const gint16 *src;
      gint16 *dst;

      if (end > old_cur)
        g_array_set_size (cur, end * stride);
      src = (const gint16 *)prev->data;
      dst = (gint16 *)cur->data;

      for (guint j = first; j < end; j++)
        {
          guint p0 = j * KP_PEAKS_LEVEL_FACTOR;
          guint p1 = MIN (p0 + KP_PEAKS_LEVEL_FACTOR, new_prev);

          for (guint c = 0; c < self->channels; c++)
            {
              gint16 lo = G_MAXINT16;
              gint16 hi = G_MININT16;

              for (guint p = p0; p < p1; p++)
                {
                  lo = MIN (lo, src[p * stride + c * 2]);
                  hi = MAX (hi, src[p * stride + c * 2 + 1]);
                }
              dst[j * stride + c * 2] = lo;
              dst[j * stride + c * 2 + 1] = hi;
            }
        }

      old_prev = old_cur;
      new_prev = end;
    }
}

/* .dat encoding */

static inline gint16
to_8bit (gint16 v)
{
  return (gint16)(v >> 8);
}

static GBytes *
encode_dat (guint         rate,
            guint         spp,
            guint         channels,
            const gint16 *pairs,
            guint         n_pairs,
            int           version,
            int           bits)
{
  guint out_channels = version == 1 ? 1 : channels;
  gsize header = version == 1 ? DAT_V1_HEADER : DAT_V2_HEADER;
  gsize bytes_per_value = bits == 8 ? 1 : 2;
  gsize size = header + (gsize)n_pairs * out_channels * 2 * bytes_per_value;
  guint8 *buf = g_malloc (size);
  guint8 *p = buf + header;
  guint32 fields[6];

  fields[0] = GUINT32_TO_LE ((guint32)version);
  fields[1] = GUINT32_TO_LE (bits == 8 ? 1u : 0u);
  fields[2] = GUINT32_TO_LE (rate);
  fields[3] = GUINT32_TO_LE (spp);
  fields[4] = GUINT32_TO_LE (n_pairs);
  fields[5] = GUINT32_TO_LE (out_channels);
  memcpy (buf, fields, header);

  for (guint i = 0; i < n_pairs; i++)
    {
      const gint16 *pair = pairs + (gsize)i * channels * 2;

      for (guint c = 0; c < out_channels; c++)
        {
          gint16 lo = pair[c * 2];
          gint16 hi = pair[c * 2 + 1];

          /* Version 1 is mono: merge the channels into one envelope. */
          if (version == 1)
            for (guint d = 1; d < channels; d++)
              {
                lo = MIN (lo, pair[d * 2]);
                hi = MAX (hi, pair[d * 2 + 1]);
              }

          if (bits == 8)
            {
              *p++ = (guint8)(gint8)to_8bit (lo);
              *p++ = (guint8)(gint8)to_8bit (hi);
            }
          else
            {
              guint16 l = GUINT16_TO_LE ((guint16)lo);
              guint16 h = GUINT16_TO_LE ((guint16)hi);

              memcpy (p, &l, 2);
              memcpy (p + 2, &h, 2);
              p += 4;
            }
        }
    }

  return g_bytes_new_take (buf, size);
}

static guint32
read_u32 (const guint8 *p)
{
  guint32 v;

  memcpy (&v, p, 4);
  return GUINT32_FROM_LE (v);
}

/* Strict: every header field is checked, and the file size must match the
 * header exactly (computed in 64 bits, so huge counts cannot overflow). */
static gboolean
decode_dat (const guint8  *data,
            gsize          size,
            guint         *rate,
            guint         *spp,
            guint         *channels,
            GArray       **pairs,
            GError       **error)
{
  gint32 version;
  guint32 flags, length;
  gint32 s_rate, s_spp, s_channels = 1;
  gsize header;
  guint64 expected;
  guint bytes_per_value;
  GArray *out;
  gint16 *dst;

  if (size < 4)
    {
      g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_INVALID_DAT,
                   _("The waveform data is too short to hold a header"));
      return FALSE;
    }

  version = (gint32)read_u32 (data);
  if (version != 1 && version != 2)
    {
      g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_INVALID_DAT,
                   _("The waveform data has version %d; only versions 1 and 2 are supported"),
                   (int)version);
      return FALSE;
    }

  header = version == 1 ? DAT_V1_HEADER : DAT_V2_HEADER;
  if (size < header)
    {
      g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_INVALID_DAT,
                   _("The waveform data header is truncated (%" PRIu64 " of %" PRIu64 " bytes)"),
                   (guint64)size, (guint64)header);
      return FALSE;
    }

  flags = read_u32 (data + 4);
  s_rate = (gint32)read_u32 (data + 8);
  s_spp = (gint32)read_u32 (data + 12);
  length = read_u32 (data + 16);
  if (version == 2)
    s_channels = (gint32)read_u32 (data + 20);

  if ((flags & ~1u) != 0)
    {
      g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_INVALID_DAT,
                   _("The waveform data has unknown flags 0x%x"), (unsigned)flags);
      return FALSE;
    }
  if (s_rate <= 0 || s_rate > MAX_SAMPLE_RATE)
    {
      g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_INVALID_DAT,
                   _("The waveform data has an invalid sample rate (%d)"), (int)s_rate);
      return FALSE;
    }
  if (s_spp <= 0)
    {
      g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_INVALID_DAT,
                   _("The waveform data has an invalid number of samples per pixel (%d)"),
                   (int)s_spp);
      return FALSE;
    }
  if (s_channels <= 0 || s_channels > KP_PEAKS_MAX_CHANNELS)
    {
      g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_INVALID_DAT,
                   _("The waveform data has %d channels; 1 to %d are supported"),
                   (int)s_channels, KP_PEAKS_MAX_CHANNELS);
      return FALSE;
    }

  /* A bound on memory, and on 32-bit index arithmetic: 2^28 pairs is
   * 12 hours of 16 channels at 48 kHz and 256 samples per pixel. */
  if ((guint64)length * (guint64)s_channels > MAX_DAT_PAIRS)
    {
      g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_INVALID_DAT,
                   _("The waveform data is too large (%u pixels of %d channels)"),
                   (unsigned)length, (int)s_channels);
      return FALSE;
    }

  bytes_per_value = (flags & 1) ? 1 : 2;
  expected = (guint64)header + (guint64)length * (guint64)s_channels * 2 * bytes_per_value;
  if (expected != (guint64)size)
    {
      g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_INVALID_DAT,
                   _("The waveform data should be %" PRIu64 " bytes long for %u pairs, "
                     "but it is %" PRIu64 " bytes"),
                   expected, (unsigned)length, (guint64)size);
      return FALSE;
    }

  out = g_array_sized_new (FALSE, FALSE, sizeof (gint16), length * s_channels * 2);
  g_array_set_size (out, length * s_channels * 2);
  dst = (gint16 *)out->data;

  for (gsize i = 0; i < (gsize)length * s_channels; i++)
    {
      gint16 lo, hi;

      if (bytes_per_value == 1)
        {
          lo = (gint16)((gint8)data[header + i * 2] * 256);
          hi = (gint16)((gint8)data[header + i * 2 + 1] * 256);
        }
      else
        {
          guint16 l, h;

          memcpy (&l, data + header + i * 4, 2);
          memcpy (&h, data + header + i * 4 + 2, 2);
          lo = (gint16)GUINT16_FROM_LE (l);
          hi = (gint16)GUINT16_FROM_LE (h);
        }

      if (lo > hi)
        {
          g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_INVALID_DAT,
                       _("The waveform data has a minimum above its maximum at pixel %" PRIu64),
                       (guint64)(i / s_channels));
          g_array_unref (out);
          return FALSE;
        }
      dst[i * 2] = lo;
      dst[i * 2 + 1] = hi;
    }

  *rate = (guint)s_rate;
  *spp = (guint)s_spp;
  *channels = (guint)s_channels;
  *pairs = out;
  return TRUE;
}

/* KpPeaks */

static void
kp_peaks_finalize (GObject *object)
{
  KpPeaks *self = (KpPeaks *)object;

  for (guint k = 0; k < MAX_LEVELS; k++)
    g_clear_pointer (&self->levels[k], g_array_unref);
  g_clear_pointer (&self->load, load_data_unref);

  G_OBJECT_CLASS (kp_peaks_parent_class)->finalize (object);
}

static void
kp_peaks_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  KpPeaks *self = KP_PEAKS (object);

  switch (prop_id)
    {
    case PROP_SAMPLE_RATE:
      g_value_set_uint (value, self->sample_rate);
      break;
    case PROP_CHANNELS:
      g_value_set_uint (value, self->channels);
      break;
    case PROP_SAMPLES_PER_PAIR:
      g_value_set_uint (value, self->samples_per_pair);
      break;
    case PROP_N_SAMPLES:
      g_value_set_int64 (value, self->n_samples);
      break;
    case PROP_DECODED_SAMPLES:
      g_value_set_int64 (value, self->decoded_samples);
      break;
    case PROP_COMPLETE:
      g_value_set_boolean (value, self->complete);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_peaks_class_init (KpPeaksClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = kp_peaks_finalize;
  object_class->get_property = kp_peaks_get_property;

  properties[PROP_SAMPLE_RATE] =
    g_param_spec_uint ("sample-rate", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CHANNELS] =
    g_param_spec_uint ("channels", NULL, NULL, 0, KP_PEAKS_MAX_CHANNELS, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SAMPLES_PER_PAIR] =
    g_param_spec_uint ("samples-per-pair", NULL, NULL, 1, G_MAXUINT,
                       KP_PEAKS_DEFAULT_SAMPLES_PER_PAIR,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_SAMPLES] =
    g_param_spec_int64 ("n-samples", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DECODED_SAMPLES] =
    g_param_spec_int64 ("decoded-samples", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_COMPLETE] =
    g_param_spec_boolean ("complete", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * KpPeaks::changed:
   * @start_sample: first sample the new peaks cover
   * @end_sample: end (exclusive) of the covered samples, the new decoded-samples
   *
   * Emitted on the main context of the thread that started the load, in
   * order, each time more of the file is covered.
   */
  signals[CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_INT64, G_TYPE_INT64);
}

static void
kp_peaks_init (KpPeaks *self)
{
  self->samples_per_pair = KP_PEAKS_DEFAULT_SAMPLES_PER_PAIR;
  self->channels = 1;
  reset_levels (self);
}

KpPeaks *
kp_peaks_new (void)
{
  return g_object_new (KP_TYPE_PEAKS, NULL);
}

static void
set_format (KpPeaks *self,
            guint    rate,
            guint    channels,
            guint    spp,
            gint64   n_samples)
{
  g_object_freeze_notify (G_OBJECT (self));
  if (channels != 0 && channels != self->channels)
    {
      g_assert (level_count (self, 0) == 0);
      self->channels = channels;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CHANNELS]);
    }
  if (rate != 0 && rate != self->sample_rate)
    {
      self->sample_rate = rate;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SAMPLE_RATE]);
    }
  if (spp != 0 && spp != self->samples_per_pair)
    {
      g_assert (level_count (self, 0) == 0);
      self->samples_per_pair = spp;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SAMPLES_PER_PAIR]);
    }
  if (n_samples > 0 && n_samples != self->n_samples)
    {
      self->n_samples = n_samples;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_SAMPLES]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

static KpPeaks *
new_from_pairs (guint   rate,
                guint   spp,
                guint   channels,
                GArray *pairs)
{
  KpPeaks *self = kp_peaks_new ();
  guint n_pairs = pairs->len / (channels * 2);

  set_format (self, rate, channels, spp, (gint64)n_pairs * spp);
  append_pairs (self, (const gint16 *)pairs->data, n_pairs);
  self->decoded_samples = self->n_samples;
  self->complete = TRUE;
  return self;
}

KpPeaks *
kp_peaks_new_from_dat_bytes (GBytes  *bytes,
                             GError **error)
{
  g_autoptr(GArray) pairs = NULL;
  guint rate, spp, channels;
  gsize size;
  const guint8 *data;

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  data = g_bytes_get_data (bytes, &size);
  if (!decode_dat (data, size, &rate, &spp, &channels, &pairs, error))
    return NULL;

  return new_from_pairs (rate, spp, channels, pairs);
}

KpPeaks *
kp_peaks_new_from_dat (const char  *path,
                       GError     **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GBytes) bytes = NULL;
  gsize len;
  KpPeaks *self;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_file_get_contents (path, &contents, &len, error))
    return NULL;

  bytes = g_bytes_new_take (g_steal_pointer (&contents), len);
  self = kp_peaks_new_from_dat_bytes (bytes, error);
  if (self == NULL)
    {
      g_autofree char *name = g_filename_display_basename (path);

      g_prefix_error (error, _("Cannot read “%s”: "), name);
    }
  return self;
}

GBytes *
kp_peaks_to_dat_bytes (KpPeaks *self,
                       int      version,
                       int      bits)
{
  g_return_val_if_fail (KP_IS_PEAKS (self), NULL);
  g_return_val_if_fail (version == 1 || version == 2, NULL);
  g_return_val_if_fail (bits == 8 || bits == 16, NULL);

  return encode_dat (MAX (self->sample_rate, 1), self->samples_per_pair, self->channels,
                     (const gint16 *)self->levels[0]->data, level_count (self, 0),
                     version, bits);
}

gboolean
kp_peaks_save_dat (KpPeaks     *self,
                   const char  *path,
                   int          version,
                   int          bits,
                   GError     **error)
{
  g_autoptr(GBytes) bytes = NULL;
  gsize size;
  const char *data;

  g_return_val_if_fail (KP_IS_PEAKS (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (version == 1 || version == 2, FALSE);
  g_return_val_if_fail (bits == 8 || bits == 16, FALSE);

  bytes = kp_peaks_to_dat_bytes (self, version, bits);
  data = g_bytes_get_data (bytes, &size);
  return g_file_set_contents (path, data, size, error);
}

guint
kp_peaks_get_sample_rate (KpPeaks *self)
{
  g_return_val_if_fail (KP_IS_PEAKS (self), 0);
  return self->sample_rate;
}

guint
kp_peaks_get_channels (KpPeaks *self)
{
  g_return_val_if_fail (KP_IS_PEAKS (self), 0);
  return self->channels;
}

guint
kp_peaks_get_samples_per_pair (KpPeaks *self)
{
  g_return_val_if_fail (KP_IS_PEAKS (self), 0);
  return self->samples_per_pair;
}

gint64
kp_peaks_get_n_samples (KpPeaks *self)
{
  g_return_val_if_fail (KP_IS_PEAKS (self), 0);
  return self->n_samples;
}

gint64
kp_peaks_get_decoded_samples (KpPeaks *self)
{
  g_return_val_if_fail (KP_IS_PEAKS (self), 0);
  return self->decoded_samples;
}

gboolean
kp_peaks_get_complete (KpPeaks *self)
{
  g_return_val_if_fail (KP_IS_PEAKS (self), FALSE);
  return self->complete;
}

guint
kp_peaks_get_n_levels (KpPeaks *self)
{
  g_return_val_if_fail (KP_IS_PEAKS (self), 0);

  for (guint k = 0; k < MAX_LEVELS; k++)
    if (level_count (self, k) <= 1)
      return k + 1;
  return MAX_LEVELS;
}

/* The envelope of base pairs [p0, p1) for channels [c0, c1): the edges are
 * read at the finest level until they line up with a coarser pair, then the
 * walk goes one level up, so at most 2 × (factor - 1) pairs per level are
 * read and the result is exact at the base resolution. */
static void
envelope (KpPeaks *self,
          guint64  p0,
          guint64  p1,
          guint    c0,
          guint    c1,
          int     *lo,
          int     *hi)
{
  guint stride = self->channels * 2;

  for (guint k = 0; p0 < p1; k++)
    {
      const gint16 *d = (const gint16 *)self->levels[k]->data;
      gboolean top = k + 1 == MAX_LEVELS;

      while (p0 < p1 && (top || p0 % KP_PEAKS_LEVEL_FACTOR != 0))
        {
          for (guint c = c0; c < c1; c++)
            {
              *lo = MIN (*lo, d[p0 * stride + c * 2]);
              *hi = MAX (*hi, d[p0 * stride + c * 2 + 1]);
            }
          p0++;
        }
      while (p1 > p0 && p1 % KP_PEAKS_LEVEL_FACTOR != 0)
        {
          p1--;
          for (guint c = c0; c < c1; c++)
            {
              *lo = MIN (*lo, d[p1 * stride + c * 2]);
              *hi = MAX (*hi, d[p1 * stride + c * 2 + 1]);
            }
        }
      p0 /= KP_PEAKS_LEVEL_FACTOR;
      p1 /= KP_PEAKS_LEVEL_FACTOR;
    }
}

guint
kp_peaks_get_range (KpPeaks *self,
                    int      channel,
                    gint64   start_sample,
                    gint64   end_sample,
                    guint    n_columns,
                    float    *min,
                    float    *max)
{
  double per_column;
  double spp;
  guint c0, c1, filled = 0;
  gint64 avail;

  g_return_val_if_fail (KP_IS_PEAKS (self), 0);
  g_return_val_if_fail (channel >= -1 && channel < (int)self->channels, 0);
  g_return_val_if_fail (n_columns == 0 || (min != NULL && max != NULL), 0);

  if (n_columns == 0)
    return 0;

  memset (min, 0, n_columns * sizeof (float));
  memset (max, 0, n_columns * sizeof (float));
  if (end_sample <= start_sample)
    return 0;

  per_column = (double)(end_sample - start_sample) / n_columns;
  spp = self->samples_per_pair;
  avail = level_count (self, 0);
  c0 = channel < 0 ? 0 : (guint)channel;
  c1 = channel < 0 ? self->channels : (guint)channel + 1;

  for (guint i = 0; i < n_columns; i++)
    {
      double s0 = start_sample + i * per_column;
      double s1 = start_sample + (i + 1) * per_column;
      gint64 p0, p1;
      int lo = G_MAXINT16;
      int hi = G_MININT16;

      /* Nothing before the start, and nothing past what is decoded. */
      if (s1 <= 0)
        continue;
      if (s0 >= self->decoded_samples)
        break;
      p0 = MAX ((gint64)floor (s0 / spp), 0);
      if (p0 >= avail)
        break;
      p1 = CLAMP ((gint64)ceil (s1 / spp), p0 + 1, avail);

      envelope (self, (guint64)p0, (guint64)p1, c0, c1, &lo, &hi);
      min[i] = lo / 32768.f;
      max[i] = hi / 32768.f;
      filled = i + 1;
    }

  return filled;
}

/* Loading: the owner's side */

/* Moves what the worker queued into self. Runs on the owner's context. */
static void
drain_queue (KpPeaks  *self,
             LoadData *data)
{
  g_autoptr(GArray) pairs = NULL;
  guint rate, channels, spp;
  gint64 n_samples, samples, old_decoded;
  gboolean final;

  g_mutex_lock (&data->lock);
  pairs = g_steal_pointer (&data->q_pairs);
  rate = data->q_rate;
  channels = data->q_channels;
  spp = data->q_spp;
  n_samples = data->q_n_samples;
  samples = data->q_samples;
  final = data->q_final;
  data->q_samples = 0;
  data->q_final = FALSE;
  data->q_idle_pending = FALSE;
  g_mutex_unlock (&data->lock);

  if (level_count (self, 0) == 0 && channels != 0)
    set_format (self, rate, channels, spp, n_samples);
  else
    set_format (self, rate, 0, 0, n_samples);

  old_decoded = self->decoded_samples;
  if (pairs != NULL && pairs->len > 0)
    append_pairs (self, (const gint16 *)pairs->data, pairs->len / (self->channels * 2));
  self->decoded_samples += samples;

  if (final && self->n_samples != self->decoded_samples)
    {
      self->n_samples = self->decoded_samples;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_SAMPLES]);
    }

  if (self->decoded_samples != old_decoded)
    {
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DECODED_SAMPLES]);
      g_signal_emit (self, signals[CHANGED], 0, old_decoded, self->decoded_samples);
    }

  if (final && !self->complete)
    {
      self->complete = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COMPLETE]);
    }
}

static gboolean
drain_idle_cb (gpointer user_data)
{
  LoadData *data = user_data;
  g_autoptr(KpPeaks) self = g_weak_ref_get (&data->self);

  if (self != NULL)
    drain_queue (self, data);
  return G_SOURCE_REMOVE;
}

/* Loading: the worker's side */

/* Hands the pairs made since the last post to the owner's thread. */
static void
post_progress (LoadData *data,
               gboolean  final)
{
  guint stride = data->channels * 2;
  guint n_new = data->all->len / stride - data->posted_pairs;
  gboolean schedule;

  g_mutex_lock (&data->lock);
  data->q_rate = data->rate;
  data->q_channels = data->channels;
  data->q_spp = data->spp;
  data->q_n_samples = data->est_samples;
  if (n_new > 0)
    {
      if (data->q_pairs == NULL)
        data->q_pairs = g_array_sized_new (FALSE, FALSE, sizeof (gint16), n_new * stride);
      g_array_append_vals (data->q_pairs,
                           (const gint16 *)data->all->data + (gsize)data->posted_pairs * stride,
                           n_new * stride);
    }
  data->q_samples += data->samples - data->posted_samples;
  data->q_final = data->q_final || final;
  schedule = !data->q_idle_pending;
  data->q_idle_pending = TRUE;
  g_mutex_unlock (&data->lock);

  data->posted_pairs += n_new;
  data->posted_samples = data->samples;
  data->last_post = g_get_monotonic_time ();

  if (schedule)
    {
      GSource *source = g_idle_source_new ();

      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_callback (source, drain_idle_cb, load_data_ref (data),
                             (GDestroyNotify)load_data_unref);
      g_source_set_static_name (source, "[kempelen] peaks progress");
      g_source_attach (source, data->context);
      g_source_unref (source);
    }
}

static inline gint16
float_to_s16_floor (float v)
{
  float s = floorf (v * 32768.f);

  return (gint16)CLAMP (s, -32768.f, 32767.f);
}

static inline gint16
float_to_s16_ceil (float v)
{
  float s = ceilf (v * 32768.f);

  return (gint16)CLAMP (s, -32768.f, 32767.f);
}

static void
flush_pair (LoadData *data)
{
  gint16 pair[KP_PEAKS_MAX_CHANNELS * 2];

  for (guint c = 0; c < data->channels; c++)
    {
      if (data->is_float)
        {
          pair[c * 2] = float_to_s16_floor (data->acc_min[c]);
          pair[c * 2 + 1] = float_to_s16_ceil (data->acc_max[c]);
          data->acc_min[c] = G_MAXFLOAT;
          data->acc_max[c] = -G_MAXFLOAT;
        }
      else
        {
          pair[c * 2] = (gint16)data->acc_imin[c];
          pair[c * 2 + 1] = (gint16)data->acc_imax[c];
          data->acc_imin[c] = G_MAXINT16;
          data->acc_imax[c] = G_MININT16;
        }
    }
  g_array_append_vals (data->all, pair, data->channels * 2);
  data->acc_count = 0;
}

static void
reset_accumulators (LoadData *data)
{
  for (guint c = 0; c < KP_PEAKS_MAX_CHANNELS; c++)
    {
      data->acc_min[c] = G_MAXFLOAT;
      data->acc_max[c] = -G_MAXFLOAT;
      data->acc_imin[c] = G_MAXINT16;
      data->acc_imax[c] = G_MININT16;
    }
  data->acc_count = 0;
}

/* The tight loops: one pass over the interleaved samples, 8 (S16) or 4
 * (F32) values at a time with GCC/Clang vector extensions, 16 bytes wide so
 * that every x86-64 and ARM64 CPU runs them natively (wider generic vectors
 * are split into scalar code without AVX). When the channel count divides
 * the lane count, lane j always holds channel j % channels, so the lanes
 * fold into per-channel results at the end. */
typedef gint16 VecS16 __attribute__ ((vector_size (16)));
typedef float VecF32 __attribute__ ((vector_size (16)));
typedef gint32 VecI32 __attribute__ ((vector_size (16)));

#define S16_LANES 8
#define F32_LANES 4

static void
minmax_s16 (const gint16 *s,
            gsize         n_values,
            guint         ch,
            int          *lo,
            int          *hi)
{
  gsize i = 0;

  if (S16_LANES % ch == 0 && n_values >= S16_LANES)
    {
      VecS16 vlo, vhi;

      memcpy (&vlo, s, sizeof vlo);
      vhi = vlo;
      for (i = S16_LANES; i + S16_LANES <= n_values; i += S16_LANES)
        {
          VecS16 v, m;

          memcpy (&v, s + i, sizeof v);
          m = v < vlo;
          vlo = (v & m) | (vlo & ~m);
          m = v > vhi;
          vhi = (v & m) | (vhi & ~m);
        }
      for (guint j = 0, c = 0; j < S16_LANES; j++)
        {
          lo[c] = MIN (lo[c], vlo[j]);
          hi[c] = MAX (hi[c], vhi[j]);
          if (++c == ch)
            c = 0;
        }
    }

  /* i is a multiple of ch here, so the channels start over at 0. */
  for (guint c = 0; i < n_values; i++)
    {
      lo[c] = MIN (lo[c], s[i]);
      hi[c] = MAX (hi[c], s[i]);
      if (++c == ch)
        c = 0;
    }
}

static void
minmax_f32 (const float *s,
            gsize        n_values,
            guint        ch,
            float       *lo,
            float       *hi)
{
  gsize i = 0;

  if (F32_LANES % ch == 0 && n_values >= F32_LANES)
    {
      VecF32 vlo, vhi;

      memcpy (&vlo, s, sizeof vlo);
      vhi = vlo;
      for (i = F32_LANES; i + F32_LANES <= n_values; i += F32_LANES)
        {
          VecF32 v;
          VecI32 m;

          memcpy (&v, s + i, sizeof v);
          m = v < vlo;
          vlo = (VecF32)(((VecI32)v & m) | ((VecI32)vlo & ~m));
          m = v > vhi;
          vhi = (VecF32)(((VecI32)v & m) | ((VecI32)vhi & ~m));
        }
      for (guint j = 0, c = 0; j < F32_LANES; j++)
        {
          lo[c] = MIN (lo[c], vlo[j]);
          hi[c] = MAX (hi[c], vhi[j]);
          if (++c == ch)
            c = 0;
        }
    }

  /* i is a multiple of ch here, so the channels start over at 0. */
  for (guint c = 0; i < n_values; i++)
    {
      lo[c] = MIN (lo[c], s[i]);
      hi[c] = MAX (hi[c], s[i]);
      if (++c == ch)
        c = 0;
    }
}

static void
process_f32 (LoadData    *data,
             const float *s,
             gsize        frames)
{
  guint ch = data->channels;

  while (frames > 0)
    {
      gsize n = MIN (frames, (gsize)(data->spp - data->acc_count));

      minmax_f32 (s, n * ch, ch, data->acc_min, data->acc_max);
      s += n * ch;
      frames -= n;
      data->acc_count += n;
      if (data->acc_count == data->spp)
        flush_pair (data);
    }
}

static void
process_s16 (LoadData     *data,
             const gint16 *s,
             gsize         frames)
{
  guint ch = data->channels;

  while (frames > 0)
    {
      gsize n = MIN (frames, (gsize)(data->spp - data->acc_count));

      minmax_s16 (s, n * ch, ch, data->acc_imin, data->acc_imax);
      s += n * ch;
      frames -= n;
      data->acc_count += n;
      if (data->acc_count == data->spp)
        flush_pair (data);
    }
}

typedef struct
{
  GMutex lock;
  GstElement *convert;
  GstElement *capsfilter;
  GstPad *sink;       /* the pad the current audio stream feeds */
  gboolean via_convert;
  gboolean linked;    /* ever */
  gint no_audio;      /* atomic */
} PadContext;

/* What the peaks loops read: interleaved S16LE or F32LE. Parsed by hand,
 * since GstAudioInfo rejects more than two channels without a channel mask
 * (plain WAV files), and positions do not matter for peaks. */
static gboolean
parse_native_caps (GstCaps  *caps,
                   guint    *rate,
                   guint    *channels,
                   gboolean *is_float)
{
  const GstStructure *s;
  const char *format, *layout;
  int r = 0, c = 0;

  if (caps == NULL || !gst_caps_is_fixed (caps))
    return FALSE;

  s = gst_caps_get_structure (caps, 0);
  format = gst_structure_get_string (s, "format");
  layout = gst_structure_get_string (s, "layout");
  if (!gst_structure_has_name (s, "audio/x-raw") || format == NULL ||
      (layout != NULL && strcmp (layout, "interleaved") != 0) ||
      !gst_structure_get_int (s, "rate", &r) || !gst_structure_get_int (s, "channels", &c) ||
      r <= 0 || c < 1 || c > KP_PEAKS_MAX_CHANNELS)
    return FALSE;

  if (strcmp (format, "S16LE") == 0)
    *is_float = FALSE;
  else if (strcmp (format, "F32LE") == 0)
    *is_float = TRUE;
  else
    return FALSE;

  *rate = (guint)r;
  *channels = (guint)c;
  return TRUE;
}

static gboolean
is_native_format (GstCaps *caps)
{
  guint rate, channels;
  gboolean is_float;

  return parse_native_caps (caps, &rate, &channels, &is_float);
}

/* Links the first audio pad: straight to the caps filter when the decoder
 * already produces S16 or F32 (most do), through audioconvert otherwise.
 * When a chained file moves on to its next part, decodebin removes the old
 * pad, which unlinks it, and adds a new one, which is linked in its place. */
static void
pad_added_cb (GstElement *decodebin,
              GstPad     *pad,
              gpointer    user_data)
{
  PadContext *ctx = user_data;
  g_autoptr(GstCaps) caps = gst_pad_get_current_caps (pad);
  g_autoptr(GstPad) sink = NULL;
  g_autoptr(GMutexLocker) locker = NULL;
  const GstStructure *s;

  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  if (caps == NULL || gst_caps_get_size (caps) == 0)
    return;

  s = gst_caps_get_structure (caps, 0);
  if (!g_str_has_prefix (gst_structure_get_name (s), "audio/x-raw"))
    return;

  locker = g_mutex_locker_new (&ctx->lock);
  if (ctx->sink != NULL && gst_pad_is_linked (ctx->sink))
    return;

  if (!ctx->via_convert && is_native_format (caps))
    sink = gst_element_get_static_pad (ctx->capsfilter, "sink");
  else if (ctx->via_convert || gst_element_link (ctx->convert, ctx->capsfilter))
    {
      ctx->via_convert = TRUE;
      sink = gst_element_get_static_pad (ctx->convert, "sink");
    }
  else
    return;

  if (GST_PAD_LINK_SUCCESSFUL (gst_pad_link (pad, sink)))
    {
      ctx->sink = sink; /* the element keeps it alive */
      ctx->linked = TRUE;
    }
}

static void
no_more_pads_cb (GstElement *decodebin,
                 gpointer    user_data)
{
  PadContext *ctx = user_data;

  g_mutex_lock (&ctx->lock);
  if (!ctx->linked)
    g_atomic_int_set (&ctx->no_audio, 1);
  g_mutex_unlock (&ctx->lock);
}

GstElement *
_kp_audio_make_element (const char  *factory,
                        const char  *package,
                        GError     **error)
{
  GstElement *element = gst_element_factory_make (factory, NULL);

  if (element == NULL)
    g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_MISSING_PLUGIN,
                 _("The GStreamer element “%s” is missing; install %s"), factory, package);
  return element;
}

void
_kp_audio_set_error_from_gst (GError     **error,
                              const char  *name,
                              GError      *gst_error,
                              GPtrArray   *missing)
{
  if (missing->len > 0)
    {
      g_autofree char *list = NULL;

      g_ptr_array_add (missing, NULL);
      list = g_strjoinv (", ", (char **)missing->pdata);
      g_ptr_array_remove_index (missing, missing->len - 1);
      g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_MISSING_PLUGIN,
                   _("Reading “%s” needs a GStreamer plugin that is not installed: %s"),
                   name, list);
    }
  else if (gst_error == NULL)
    g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_FAILED,
                 _("“%s” could not be decoded"), name);
  else if (g_error_matches (gst_error, GST_STREAM_ERROR, GST_STREAM_ERROR_TYPE_NOT_FOUND) ||
           g_error_matches (gst_error, GST_STREAM_ERROR, GST_STREAM_ERROR_WRONG_TYPE))
    g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_UNSUPPORTED,
                 _("“%s” is not an audio file the workstation can read"), name);
  else if (g_error_matches (gst_error, GST_STREAM_ERROR, GST_STREAM_ERROR_CODEC_NOT_FOUND) ||
           g_error_matches (gst_error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN))
    g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_MISSING_PLUGIN,
                 _("Reading “%s” needs a GStreamer plugin that is not installed (%s)"),
                 name, gst_error->message);
  else if (gst_error->domain == GST_STREAM_ERROR)
    g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_CORRUPT,
                 _("“%s” is damaged or incomplete (%s)"), name, gst_error->message);
  else if (g_error_matches (gst_error, GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND))
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 _("“%s” does not exist"), name);
  else
    g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_FAILED,
                 _("“%s” could not be decoded (%s)"), name, gst_error->message);
}

static gboolean
start_format (LoadData   *data,
              GstSample  *sample,
              GstElement *pipeline,
              GError    **error)
{
  GstCaps *caps = gst_sample_get_caps (sample);
  gint64 duration = 0;

  if (!parse_native_caps (caps, &data->rate, &data->channels, &data->is_float))
    {
      g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_FAILED,
                   _("The audio decoder produced an unexpected format"));
      return FALSE;
    }

  if (gst_element_query_duration (pipeline, GST_FORMAT_TIME, &duration) && duration > 0)
    data->est_samples = (gint64)gst_util_uint64_scale_round ((guint64)duration, data->rate,
                                                             GST_SECOND);

  return TRUE;
}

/* A chained Ogg file, for one, may switch formats between its parts. The
 * sample type may change (the pair being built carries over); the number of
 * channels may not, since the pairs' layout depends on it. */
static gboolean
change_format (LoadData *data,
               GstCaps  *caps)
{
  guint rate, channels;
  gboolean is_float;

  if (!parse_native_caps (caps, &rate, &channels, &is_float))
    {
      g_set_error (&data->stream_error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_FAILED,
                   _("The audio decoder produced an unexpected format"));
      return FALSE;
    }
  if (channels != data->channels)
    {
      g_set_error (&data->stream_error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_UNSUPPORTED,
                   _("The number of channels changes from %u to %u in the middle of the audio"),
                   data->channels, channels);
      return FALSE;
    }

  if (is_float != data->is_float)
    for (guint c = 0; c < channels; c++)
      {
        if (is_float)
          {
            data->acc_min[c] = data->acc_count > 0 ? data->acc_imin[c] / 32768.f : G_MAXFLOAT;
            data->acc_max[c] = data->acc_count > 0 ? data->acc_imax[c] / 32768.f : -G_MAXFLOAT;
          }
        else
          {
            data->acc_imin[c] = data->acc_count > 0 ? float_to_s16_floor (data->acc_min[c])
                                                    : G_MAXINT16;
            data->acc_imax[c] = data->acc_count > 0 ? float_to_s16_ceil (data->acc_max[c])
                                                    : G_MININT16;
          }
      }
  data->is_float = is_float;
  gst_caps_replace (&data->caps, caps);
  return TRUE;
}

/* Runs on the streaming thread, right behind the decoder: no hand-over to
 * another thread per buffer, which costs more than the min/max itself. */
static GstFlowReturn
new_sample_cb (GstAppSink *sink,
               gpointer    user_data)
{
  LoadData *data = user_data;
  g_autoptr(GstSample) sample = gst_app_sink_pull_sample (sink);
  GstBuffer *buffer;
  GstMapInfo map;

  if (sample == NULL)
    return GST_FLOW_EOS;

  if (!data->have_format)
    {
      if (!start_format (data, sample, data->pipeline, &data->stream_error))
        return GST_FLOW_ERROR;
      data->have_format = TRUE;
      gst_caps_replace (&data->caps, gst_sample_get_caps (sample));
      /* Rate, channels and length reach the view before any peaks. */
      post_progress (data, FALSE);
    }
  else if (gst_sample_get_caps (sample) != data->caps &&
           !gst_caps_is_equal (gst_sample_get_caps (sample), data->caps))
    {
      if (!change_format (data, gst_sample_get_caps (sample)))
        return GST_FLOW_ERROR;
    }

  buffer = gst_sample_get_buffer (sample);
  if (buffer != NULL && gst_buffer_map (buffer, &map, GST_MAP_READ))
    {
      gsize frame_size = data->channels * (data->is_float ? 4 : 2);
      gsize frames = map.size / frame_size;

      if (data->is_float)
        process_f32 (data, (const float *)map.data, frames);
      else
        process_s16 (data, (const gint16 *)map.data, frames);
      data->samples += frames;
      gst_buffer_unmap (buffer, &map);
    }

  if (data->posted_pairs == 0
      ? data->all->len / (data->channels * 2) >= FIRST_SCREEN_PAIRS
      : g_get_monotonic_time () - data->last_post >= PROGRESS_INTERVAL)
    post_progress (data, FALSE);

  return GST_FLOW_OK;
}

/* Decoders read a WAV file cut short as a shorter file without complaint,
 * so compare the size its data chunk declares with what is on disk. Returns
 * the number of bytes missing, or 0. */
static guint64
wav_missing_bytes (GFile *file)
{
  g_autoptr(GFileInputStream) in = NULL;
  g_autoptr(GFileInfo) info = NULL;
  guint8 buf[4096];
  gsize len = 0, pos = 12;
  guint64 size;

  /* A pipe or device has no size to compare, and may block. */
  if (g_file_query_file_type (file, G_FILE_QUERY_INFO_NONE, NULL) != G_FILE_TYPE_REGULAR)
    return 0;

  in = g_file_read (file, NULL, NULL);
  if (in == NULL ||
      !g_input_stream_read_all (G_INPUT_STREAM (in), buf, sizeof buf, &len, NULL, NULL) ||
      len < 12 || memcmp (buf, "RIFF", 4) != 0 || memcmp (buf + 8, "WAVE", 4) != 0)
    return 0;

  info = g_file_input_stream_query_info (in, G_FILE_ATTRIBUTE_STANDARD_SIZE, NULL, NULL);
  if (info == NULL)
    return 0;
  size = (guint64)g_file_info_get_size (info);

  while (pos + 8 <= len)
    {
      guint32 chunk = read_u32 (buf + pos + 4);

      if (memcmp (buf + pos, "data", 4) == 0)
        {
          /* 0 and 0xFFFFFFFF mark streams written without a final size. */
          if (chunk == 0 || chunk == G_MAXUINT32)
            return 0;
          return pos + 8 + (guint64)chunk > size ? pos + 8 + (guint64)chunk - size : 0;
        }
      pos += 8 + (gsize)chunk + (chunk & 1);
    }
  return 0;
}

static gboolean
decode_file (LoadData      *data,
             const char    *name,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr(GstElement) pipeline = NULL;
  g_autoptr(GstBus) bus = NULL;
  g_autoptr(GPtrArray) missing = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) gst_error = NULL;
  g_autofree char *uri = g_file_get_uri (data->file);
  GstElement *src, *convert, *capsfilter, *sink;
  g_autoptr(GstCaps) caps = NULL;
  PadContext ctx = { 0 };
  gboolean ok = FALSE;
  guint64 missing_bytes;
  gint64 eos_duration = -1;

  if (!_kp_audio_ensure_gst (error))
    return FALSE;

  pipeline = gst_pipeline_new ("kp-peaks");
  gst_object_ref_sink (pipeline);
  if (!(src = _kp_audio_make_element ("uridecodebin", "gstreamer1.0-plugins-base", error)))
    return FALSE;
  gst_bin_add (GST_BIN (pipeline), src);
  if (!(convert = _kp_audio_make_element ("audioconvert", "gstreamer1.0-plugins-base", error)))
    return FALSE;
  gst_bin_add (GST_BIN (pipeline), convert);
  if (!(capsfilter = _kp_audio_make_element ("capsfilter", "gstreamer1.0 (core)", error)))
    return FALSE;
  gst_bin_add (GST_BIN (pipeline), capsfilter);
  if (!(sink = _kp_audio_make_element ("appsink", "gstreamer1.0-plugins-base", error)))
    return FALSE;
  gst_bin_add (GST_BIN (pipeline), sink);

  /* S16 and F32 are what decoders produce, so audioconvert usually passes
   * buffers through untouched. */
  caps = gst_caps_from_string ("audio/x-raw, format=(string){ S16LE, F32LE }, "
                               "layout=(string)interleaved, channels=(int)[ 1, 32 ]");
  g_object_set (capsfilter, "caps", caps, NULL);
  g_object_set (sink, "sync", FALSE, "max-buffers", 64, "drop", FALSE,
                "emit-signals", FALSE, NULL);
  {
    GstAppSinkCallbacks callbacks = { 0 };

    callbacks.new_sample = new_sample_cb;

    data->pipeline = pipeline;
    gst_app_sink_set_callbacks (GST_APP_SINK (sink), &callbacks, data, NULL);
  }
  g_object_set (src, "uri", uri, NULL);
  if (!gst_element_link (capsfilter, sink))
    {
      g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_FAILED,
                   _("The audio decoding pipeline could not be built"));
      return FALSE;
    }

  g_mutex_init (&ctx.lock);
  ctx.convert = convert;
  ctx.capsfilter = capsfilter;
  g_signal_connect (src, "pad-added", G_CALLBACK (pad_added_cb), &ctx);
  g_signal_connect (src, "no-more-pads", G_CALLBACK (no_more_pads_cb), &ctx);

  bus = gst_element_get_bus (pipeline);
  reset_accumulators (data);

  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      /* The reason is on the bus. */
      g_autoptr(GstMessage) msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);

      if (msg != NULL)
        gst_message_parse_error (msg, &gst_error, NULL);
    }

  while (gst_error == NULL)
    {
      g_autoptr(GstMessage) msg = NULL;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        goto out;

      msg = gst_bus_timed_pop_filtered (bus, BUS_TIMEOUT,
                                        GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT);
      if (msg == NULL)
        {
          if (g_atomic_int_get (&ctx.no_audio))
            {
              g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_UNSUPPORTED,
                           _("“%s” contains no audio"), name);
              goto out;
            }
        }
      else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS)
        {
          /* Parsers refine their estimates as they go (VBR MP3 without a
           * seek table), so an early guess that was too long is not taken
           * for truncation; a length from a header stays as it was. */
          if (!gst_element_query_duration (pipeline, GST_FORMAT_TIME, &eos_duration))
            eos_duration = -1;
          ok = TRUE;
          break;
        }
      else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
        gst_message_parse_error (msg, &gst_error, NULL);
      else if (gst_is_missing_plugin_message (msg))
        g_ptr_array_add (missing, gst_missing_plugin_message_get_description (msg));
    }

  /* The streaming thread stops here; what it left is the worker's now. */
  gst_element_set_state (pipeline, GST_STATE_NULL);

  if (data->stream_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&data->stream_error));
      ok = FALSE;
      goto out;
    }

  if (!ok)
    {
      /* Missing-plugin messages come before the error they cause. */
      GstMessage *msg;

      while ((msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ELEMENT)) != NULL)
        {
          if (gst_is_missing_plugin_message (msg))
            g_ptr_array_add (missing, gst_missing_plugin_message_get_description (msg));
          gst_message_unref (msg);
        }
      /* Nothing decodable came out: a video without sound, or noise. */
      if (missing->len == 0 && g_atomic_int_get (&ctx.no_audio))
        g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_UNSUPPORTED,
                     _("“%s” contains no audio"), name);
      else if (missing->len == 0 && !ctx.linked && gst_error != NULL &&
               gst_error->domain == GST_STREAM_ERROR)
        g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_UNSUPPORTED,
                     _("“%s” is not an audio file the workstation can read"), name);
      else
        _kp_audio_set_error_from_gst (error, name, gst_error, missing);
      goto out;
    }

  if (!data->have_format)
    {
      g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_CORRUPT,
                   _("“%s” contains no audio samples"), name);
      ok = FALSE;
      goto out;
    }

  if (data->acc_count > 0)
    flush_pair (data);

  /* A file cut short usually ends cleanly before the length its header
   * promises; allow for estimates (1 % and half a second). */
  if (eos_duration >= 0 && data->est_samples > 0)
    data->est_samples = MIN (data->est_samples,
                             (gint64)gst_util_uint64_scale_round ((guint64)eos_duration,
                                                                  data->rate, GST_SECOND));
  if (data->est_samples > 0 &&
      data->samples < data->est_samples - MAX (data->est_samples / 100, (gint64)data->rate / 2))
    {
      g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_CORRUPT,
                   _("“%s” is truncated: it ends after %.1f of %.1f seconds"), name,
                   (double)data->samples / data->rate, (double)data->est_samples / data->rate);
      post_progress (data, FALSE);
      ok = FALSE;
      goto out;
    }

  missing_bytes = wav_missing_bytes (data->file);
  if (missing_bytes > 0)
    {
      g_set_error (error, KP_PEAKS_ERROR, KP_PEAKS_ERROR_CORRUPT,
                   _("“%s” is truncated: %" PRIu64 " bytes of audio are missing "
                     "after %.1f seconds"),
                   name, missing_bytes, (double)data->samples / data->rate);
      post_progress (data, FALSE);
      ok = FALSE;
      goto out;
    }

  data->est_samples = data->samples;

out:
  gst_element_set_state (pipeline, GST_STATE_NULL);
  data->pipeline = NULL;
  g_mutex_clear (&ctx.lock);
  return ok;
}

static char *
cache_path_for_info (GFile     *file,
                     GFileInfo *info)
{
  g_autofree char *path = g_file_get_path (file);
  g_autofree char *uri = path == NULL ? g_file_get_uri (file) : NULL;
  g_autofree char *key = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *name = NULL;
  guint64 mtime = g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_TIME_MODIFIED);
  guint32 usec = g_file_info_get_attribute_uint32 (info, G_FILE_ATTRIBUTE_TIME_MODIFIED_USEC);

  key = g_strdup_printf ("%s\n%" G_GUINT64_FORMAT "\n%" G_GUINT64_FORMAT ".%06u\n%u",
                         path != NULL ? path : uri,
                         (guint64)g_file_info_get_size (info), mtime, usec,
                         KP_PEAKS_DEFAULT_SAMPLES_PER_PAIR);
  digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, key, -1);
  name = g_strconcat (digest, ".dat", NULL);
  return g_build_filename (g_get_user_cache_dir (), "kempelen", "peaks", name, NULL);
}

#define INFO_ATTRIBUTES \
  G_FILE_ATTRIBUTE_STANDARD_SIZE "," G_FILE_ATTRIBUTE_TIME_MODIFIED "," \
  G_FILE_ATTRIBUTE_TIME_MODIFIED_USEC

char *
kp_peaks_dup_cache_path (GFile *file)
{
  g_autoptr(GFileInfo) info = NULL;

  g_return_val_if_fail (G_IS_FILE (file), NULL);

  info = g_file_query_info (file, INFO_ATTRIBUTES, G_FILE_QUERY_INFO_NONE, NULL, NULL);
  if (info == NULL)
    return NULL;
  return cache_path_for_info (file, info);
}

static gboolean
read_cache (LoadData   *data,
            const char *cache_path)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GArray) pairs = NULL;
  guint rate, spp, channels;
  gsize len;

  if (!g_file_get_contents (cache_path, &contents, &len, NULL))
    return FALSE;

  if (!decode_dat ((const guint8 *)contents, len, &rate, &spp, &channels, &pairs, &error))
    {
      g_debug ("Ignoring the peaks cache %s: %s", cache_path, error->message);
      return FALSE;
    }

  data->rate = rate;
  data->spp = spp;
  data->channels = channels;
  data->all = g_steal_pointer (&pairs);
  data->samples = (gint64)(data->all->len / (channels * 2)) * spp;
  data->est_samples = data->samples;
  return TRUE;
}

static void
write_cache (LoadData   *data,
             const char *cache_path)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_path_get_dirname (cache_path);
  gsize size;
  const char *contents;

  bytes = encode_dat (data->rate, data->spp, data->channels,
                      (const gint16 *)data->all->data, data->all->len / (data->channels * 2),
                      2, 16);
  contents = g_bytes_get_data (bytes, &size);
  if (g_mkdir_with_parents (dir, 0700) != 0 ||
      !g_file_set_contents (cache_path, contents, size, &error))
    g_debug ("Could not write the peaks cache %s: %s", cache_path,
             error != NULL ? error->message : g_strerror (errno));
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  LoadData *data = task_data;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *cache_path = NULL;
  g_autofree char *name = NULL;

  info = g_file_query_info (data->file, INFO_ATTRIBUTES "," G_FILE_ATTRIBUTE_STANDARD_DISPLAY_NAME,
                            G_FILE_QUERY_INFO_NONE, cancellable, &error);
  if (info == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  name = g_strdup (g_file_info_get_display_name (info));

  if (!(data->flags & KP_PEAKS_LOAD_NO_CACHE))
    {
      cache_path = cache_path_for_info (data->file, info);
      if (read_cache (data, cache_path))
        {
          post_progress (data, TRUE);
          g_task_return_boolean (task, TRUE);
          return;
        }
    }

  data->all = g_array_new (FALSE, FALSE, sizeof (gint16));
  if (!decode_file (data, name, cancellable, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  post_progress (data, TRUE);
  if (cache_path != NULL)
    write_cache (data, cache_path);
  g_task_return_boolean (task, TRUE);
}

void
kp_peaks_load_async (KpPeaks             *self,
                     GFile               *file,
                     KpPeaksLoadFlags     flags,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  LoadData *data;

  g_return_if_fail (KP_IS_PEAKS (self));
  g_return_if_fail (G_IS_FILE (file));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));
  g_return_if_fail (self->load == NULL && !self->complete);

  data = g_atomic_rc_box_new0 (LoadData);
  g_mutex_init (&data->lock);
  data->file = g_object_ref (file);
  data->flags = flags;
  data->context = g_main_context_ref_thread_default ();
  g_weak_ref_init (&data->self, self);
  data->spp = self->samples_per_pair;
  data->channels = 1;
  self->load = load_data_ref (data);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kp_peaks_load_async);
  g_task_set_task_data (task, data, (GDestroyNotify)load_data_unref);
  g_task_run_in_thread (task, load_thread);
}

gboolean
kp_peaks_load_finish (KpPeaks       *self,
                      GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (KP_IS_PEAKS (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  /* Whatever the worker queued last arrives before the result is seen. */
  if (self->load != NULL)
    drain_queue (self, self->load);

  return g_task_propagate_boolean (G_TASK (result), error);
}
