/* kp-regions.c: time regions of an audio file, on tiers, and their file formats
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-regions.h"
#include "kp-json-private.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

G_DEFINE_QUARK (kp-regions-error-quark, kp_regions_error)

/* KpRegion */

struct _KpRegion
{
  GObject     parent_instance;

  gint64      start;
  gint64      end;
  char       *tier;
  char       *label;
  char       *transcript;
  GHashTable *attributes;
  gpointer    owner;      /* the KpRegions holding it (not a reference) */
};

G_DEFINE_FINAL_TYPE (KpRegion, kp_region, G_TYPE_OBJECT)

enum {
  RPROP_0,
  RPROP_START,
  RPROP_END,
  RPROP_TIER,
  RPROP_LABEL,
  RPROP_TRANSCRIPT,
  N_RPROPS
};

static GParamSpec *region_properties[N_RPROPS];

enum {
  REGION_CHANGED,
  N_REGION_SIGNALS
};

static guint region_signals[N_REGION_SIGNALS];

static void
kp_region_finalize (GObject *object)
{
  KpRegion *self = (KpRegion *)object;

  g_free (self->tier);
  g_free (self->label);
  g_free (self->transcript);
  g_hash_table_unref (self->attributes);

  G_OBJECT_CLASS (kp_region_parent_class)->finalize (object);
}

static void
kp_region_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  KpRegion *self = KP_REGION (object);

  switch (prop_id)
    {
    case RPROP_START:
      g_value_set_int64 (value, self->start);
      break;
    case RPROP_END:
      g_value_set_int64 (value, self->end);
      break;
    case RPROP_TIER:
      g_value_set_string (value, self->tier);
      break;
    case RPROP_LABEL:
      g_value_set_string (value, self->label);
      break;
    case RPROP_TRANSCRIPT:
      g_value_set_string (value, self->transcript);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_region_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  KpRegion *self = KP_REGION (object);

  switch (prop_id)
    {
    case RPROP_START:
      kp_region_set_start (self, g_value_get_int64 (value));
      break;
    case RPROP_END:
      kp_region_set_end (self, g_value_get_int64 (value));
      break;
    case RPROP_TIER:
      kp_region_set_tier (self, g_value_get_string (value));
      break;
    case RPROP_LABEL:
      kp_region_set_label (self, g_value_get_string (value));
      break;
    case RPROP_TRANSCRIPT:
      kp_region_set_transcript (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_region_class_init (KpRegionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = kp_region_finalize;
  object_class->get_property = kp_region_get_property;
  object_class->set_property = kp_region_set_property;

  region_properties[RPROP_START] =
    g_param_spec_int64 ("start", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  region_properties[RPROP_END] =
    g_param_spec_int64 ("end", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  region_properties[RPROP_TIER] =
    g_param_spec_string ("tier", NULL, NULL, "",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  region_properties[RPROP_LABEL] =
    g_param_spec_string ("label", NULL, NULL, "",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  region_properties[RPROP_TRANSCRIPT] =
    g_param_spec_string ("transcript", NULL, NULL, "",
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_RPROPS, region_properties);

  /* Emitted after any change, attributes included. */
  region_signals[REGION_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
kp_region_init (KpRegion *self)
{
  self->tier = g_strdup ("");
  self->label = g_strdup ("");
  self->transcript = g_strdup ("");
  self->attributes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
}

KpRegion *
kp_region_new (gint64      start,
               gint64      end,
               const char *tier,
               const char *label)
{
  KpRegion *self;

  g_return_val_if_fail (start >= 0 && start <= end, NULL);

  self = g_object_new (KP_TYPE_REGION, NULL);
  self->start = start;
  self->end = end;
  g_free (self->tier);
  self->tier = g_strdup (tier ? tier : "");
  g_free (self->label);
  self->label = g_strdup (label ? label : "");
  return self;
}

gint64
kp_region_get_start (KpRegion *self)
{
  g_return_val_if_fail (KP_IS_REGION (self), 0);
  return self->start;
}

gint64
kp_region_get_end (KpRegion *self)
{
  g_return_val_if_fail (KP_IS_REGION (self), 0);
  return self->end;
}

void
kp_region_set_bounds (KpRegion *self,
                      gint64    start,
                      gint64    end)
{
  gboolean start_changed, end_changed;

  g_return_if_fail (KP_IS_REGION (self));
  g_return_if_fail (start >= 0 && start <= end);

  start_changed = start != self->start;
  end_changed = end != self->end;
  if (!start_changed && !end_changed)
    return;

  self->start = start;
  self->end = end;
  if (start_changed)
    g_object_notify_by_pspec (G_OBJECT (self), region_properties[RPROP_START]);
  if (end_changed)
    g_object_notify_by_pspec (G_OBJECT (self), region_properties[RPROP_END]);
  g_signal_emit (self, region_signals[REGION_CHANGED], 0);
}

void
kp_region_set_start (KpRegion *self,
                     gint64    start)
{
  g_return_if_fail (KP_IS_REGION (self));
  kp_region_set_bounds (self, start, MAX (start, self->end));
}

void
kp_region_set_end (KpRegion *self,
                   gint64    end)
{
  g_return_if_fail (KP_IS_REGION (self));
  kp_region_set_bounds (self, MIN (end, self->start), end);
}

static void
set_string (KpRegion    *self,
            char       **field,
            const char  *value,
            int          prop)
{
  if (value == NULL)
    value = "";
  if (g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), region_properties[prop]);
  g_signal_emit (self, region_signals[REGION_CHANGED], 0);
}

const char *
kp_region_get_tier (KpRegion *self)
{
  g_return_val_if_fail (KP_IS_REGION (self), NULL);
  return self->tier;
}

void
kp_region_set_tier (KpRegion   *self,
                    const char *tier)
{
  g_return_if_fail (KP_IS_REGION (self));
  set_string (self, &self->tier, tier, RPROP_TIER);
}

const char *
kp_region_get_label (KpRegion *self)
{
  g_return_val_if_fail (KP_IS_REGION (self), NULL);
  return self->label;
}

void
kp_region_set_label (KpRegion   *self,
                     const char *label)
{
  g_return_if_fail (KP_IS_REGION (self));
  set_string (self, &self->label, label, RPROP_LABEL);
}

const char *
kp_region_get_transcript (KpRegion *self)
{
  g_return_val_if_fail (KP_IS_REGION (self), NULL);
  return self->transcript;
}

void
kp_region_set_transcript (KpRegion   *self,
                          const char *transcript)
{
  g_return_if_fail (KP_IS_REGION (self));
  set_string (self, &self->transcript, transcript, RPROP_TRANSCRIPT);
}

const char *
kp_region_get_attribute (KpRegion   *self,
                         const char *key)
{
  g_return_val_if_fail (KP_IS_REGION (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);
  return g_hash_table_lookup (self->attributes, key);
}

void
kp_region_set_attribute (KpRegion   *self,
                         const char *key,
                         const char *value)
{
  g_return_if_fail (KP_IS_REGION (self));
  g_return_if_fail (key != NULL);

  if (g_strcmp0 (g_hash_table_lookup (self->attributes, key), value) == 0)
    return;
  if (value == NULL)
    g_hash_table_remove (self->attributes, key);
  else
    g_hash_table_insert (self->attributes, g_strdup (key), g_strdup (value));
  g_signal_emit (self, region_signals[REGION_CHANGED], 0);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *)a, *(const char * const *)b);
}

GStrv
kp_region_dup_attribute_keys (KpRegion *self)
{
  g_autofree gpointer *keys = NULL;
  guint n;
  GStrv ret;

  g_return_val_if_fail (KP_IS_REGION (self), NULL);

  keys = g_hash_table_get_keys_as_array (self->attributes, &n);
  qsort (keys, n, sizeof (gpointer), compare_strings);
  ret = g_new0 (char *, n + 1);
  for (guint i = 0; i < n; i++)
    ret[i] = g_strdup (keys[i]);
  return ret;
}

/* KpRegions */

struct _KpRegions
{
  GObject    parent_instance;

  guint      sample_rate;
  GPtrArray *regions; /* KpRegion, sorted */
  GPtrArray *tiers;   /* char * */
};

static void kp_regions_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (KpRegions, kp_regions, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, kp_regions_list_model_init))

enum {
  PROP_0,
  PROP_SAMPLE_RATE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static GType
kp_regions_get_item_type (GListModel *model)
{
  return KP_TYPE_REGION;
}

static guint
kp_regions_get_n_items (GListModel *model)
{
  return KP_REGIONS (model)->regions->len;
}

static gpointer
kp_regions_get_item (GListModel *model,
                     guint       position)
{
  KpRegions *self = KP_REGIONS (model);

  if (position >= self->regions->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->regions, position));
}

static void
kp_regions_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = kp_regions_get_item_type;
  iface->get_n_items = kp_regions_get_n_items;
  iface->get_item = kp_regions_get_item;
}

static int
compare_regions (KpRegion *a,
                 KpRegion *b)
{
  if (a->start != b->start)
    return a->start < b->start ? -1 : 1;
  if (a->end != b->end)
    return a->end < b->end ? -1 : 1;
  return strcmp (a->tier, b->tier);
}

/* The position where region belongs, after any equal ones. */
static guint
sorted_position (KpRegions *self,
                 KpRegion  *region)
{
  guint lo = 0, hi = self->regions->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;

      if (compare_regions (g_ptr_array_index (self->regions, mid), region) <= 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

static void
region_changed_cb (KpRegion  *region,
                   KpRegions *self)
{
  guint pos;
  gboolean in_order;

  if (!g_ptr_array_find (self->regions, region, &pos))
    return;

  kp_regions_add_tier (self, region->tier);

  in_order = (pos == 0
              || compare_regions (g_ptr_array_index (self->regions, pos - 1), region) <= 0)
             && (pos + 1 == self->regions->len
                 || compare_regions (region, g_ptr_array_index (self->regions, pos + 1)) <= 0);
  if (!in_order)
    {
      guint new_pos;

      g_ptr_array_steal_index (self->regions, pos);
      new_pos = sorted_position (self, region);
      g_ptr_array_insert (self->regions, new_pos, region);
      g_list_model_items_changed (G_LIST_MODEL (self), pos, 1, 0);
      g_list_model_items_changed (G_LIST_MODEL (self), new_pos, 0, 1);
    }
  g_signal_emit (self, signals[CHANGED], 0);
}

static void
release_region (gpointer data,
                gpointer user_data)
{
  KpRegion *region = data;

  region->owner = NULL;
  g_signal_handlers_disconnect_by_func (region, region_changed_cb, user_data);
}

static void
kp_regions_dispose (GObject *object)
{
  KpRegions *self = (KpRegions *)object;

  g_ptr_array_foreach (self->regions, release_region, self);
  g_ptr_array_set_size (self->regions, 0);

  G_OBJECT_CLASS (kp_regions_parent_class)->dispose (object);
}

static void
kp_regions_finalize (GObject *object)
{
  KpRegions *self = (KpRegions *)object;

  g_ptr_array_unref (self->regions);
  g_ptr_array_unref (self->tiers);

  G_OBJECT_CLASS (kp_regions_parent_class)->finalize (object);
}

static void
kp_regions_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  KpRegions *self = KP_REGIONS (object);

  switch (prop_id)
    {
    case PROP_SAMPLE_RATE:
      g_value_set_uint (value, self->sample_rate);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_regions_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  KpRegions *self = KP_REGIONS (object);

  switch (prop_id)
    {
    case PROP_SAMPLE_RATE:
      kp_regions_set_sample_rate (self, g_value_get_uint (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_regions_class_init (KpRegionsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kp_regions_dispose;
  object_class->finalize = kp_regions_finalize;
  object_class->get_property = kp_regions_get_property;
  object_class->set_property = kp_regions_set_property;

  properties[PROP_SAMPLE_RATE] =
    g_param_spec_uint ("sample-rate", NULL, NULL, 1, G_MAXUINT, 48000,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* Any region added, removed or edited, or a tier added. */
  signals[CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
kp_regions_init (KpRegions *self)
{
  self->sample_rate = 48000;
  self->regions = g_ptr_array_new_with_free_func (g_object_unref);
  self->tiers = g_ptr_array_new_with_free_func (g_free);
}

KpRegions *
kp_regions_new (guint sample_rate)
{
  g_return_val_if_fail (sample_rate > 0, NULL);

  return g_object_new (KP_TYPE_REGIONS, "sample-rate", sample_rate, NULL);
}

guint
kp_regions_get_sample_rate (KpRegions *self)
{
  g_return_val_if_fail (KP_IS_REGIONS (self), 0);
  return self->sample_rate;
}

static gint64
rescale (gint64 value,
         guint  from,
         guint  to)
{
  return (gint64)llround ((double)value * to / from);
}

void
kp_regions_set_sample_rate (KpRegions *self,
                            guint      sample_rate)
{
  guint old;

  g_return_if_fail (KP_IS_REGIONS (self));
  g_return_if_fail (sample_rate > 0);

  if (sample_rate == self->sample_rate)
    return;

  old = self->sample_rate;
  self->sample_rate = sample_rate;
  /* Rescaling keeps the order, so the list does not change. */
  for (guint i = 0; i < self->regions->len; i++)
    {
      KpRegion *r = g_ptr_array_index (self->regions, i);

      g_signal_handlers_block_by_func (r, region_changed_cb, self);
      kp_region_set_bounds (r, rescale (r->start, old, sample_rate),
                            rescale (r->end, old, sample_rate));
      g_signal_handlers_unblock_by_func (r, region_changed_cb, self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SAMPLE_RATE]);
  g_signal_emit (self, signals[CHANGED], 0);
}

guint
kp_regions_get_n_tiers (KpRegions *self)
{
  g_return_val_if_fail (KP_IS_REGIONS (self), 0);
  return self->tiers->len;
}

const char *
kp_regions_get_tier (KpRegions *self,
                     guint      index)
{
  g_return_val_if_fail (KP_IS_REGIONS (self), NULL);
  g_return_val_if_fail (index < self->tiers->len, NULL);
  return g_ptr_array_index (self->tiers, index);
}

int
kp_regions_find_tier (KpRegions  *self,
                      const char *tier)
{
  g_return_val_if_fail (KP_IS_REGIONS (self), -1);

  for (guint i = 0; i < self->tiers->len; i++)
    if (g_strcmp0 (g_ptr_array_index (self->tiers, i), tier ? tier : "") == 0)
      return i;
  return -1;
}

guint
kp_regions_add_tier (KpRegions  *self,
                     const char *tier)
{
  int index;

  g_return_val_if_fail (KP_IS_REGIONS (self), 0);

  index = kp_regions_find_tier (self, tier);
  if (index >= 0)
    return index;
  g_ptr_array_add (self->tiers, g_strdup (tier ? tier : ""));
  g_signal_emit (self, signals[CHANGED], 0);
  return self->tiers->len - 1;
}

guint
kp_regions_add (KpRegions *self,
                KpRegion  *region)
{
  guint pos;

  g_return_val_if_fail (KP_IS_REGIONS (self), 0);
  g_return_val_if_fail (KP_IS_REGION (region), 0);
  g_return_val_if_fail (region->owner == NULL, 0);

  kp_regions_add_tier (self, region->tier);
  pos = sorted_position (self, region);
  g_ptr_array_insert (self->regions, pos, g_object_ref (region));
  region->owner = self;
  g_signal_connect (region, "changed", G_CALLBACK (region_changed_cb), self);
  g_list_model_items_changed (G_LIST_MODEL (self), pos, 0, 1);
  g_signal_emit (self, signals[CHANGED], 0);
  return pos;
}

void
kp_regions_remove (KpRegions *self,
                   KpRegion  *region)
{
  guint pos;

  g_return_if_fail (KP_IS_REGIONS (self));
  g_return_if_fail (KP_IS_REGION (region));

  if (region->owner != self || !g_ptr_array_find (self->regions, region, &pos))
    return;
  release_region (region, self);
  g_ptr_array_remove_index (self->regions, pos);
  g_list_model_items_changed (G_LIST_MODEL (self), pos, 1, 0);
  g_signal_emit (self, signals[CHANGED], 0);
}

void
kp_regions_remove_all (KpRegions *self)
{
  guint n;

  g_return_if_fail (KP_IS_REGIONS (self));

  n = self->regions->len;
  if (n == 0)
    return;
  g_ptr_array_foreach (self->regions, release_region, self);
  g_ptr_array_set_size (self->regions, 0);
  g_list_model_items_changed (G_LIST_MODEL (self), 0, n, 0);
  g_signal_emit (self, signals[CHANGED], 0);
}

KpRegion *
kp_regions_get_region (KpRegions *self,
                       guint      position)
{
  g_return_val_if_fail (KP_IS_REGIONS (self), NULL);

  if (position >= self->regions->len)
    return NULL;
  return g_ptr_array_index (self->regions, position);
}

int
kp_regions_index_of (KpRegions *self,
                     KpRegion  *region)
{
  guint pos;

  g_return_val_if_fail (KP_IS_REGIONS (self), -1);

  if (g_ptr_array_find (self->regions, region, &pos))
    return pos;
  return -1;
}

/* Formats: shared helpers */

static gint64
seconds_to_samples (double seconds,
                    guint  rate)
{
  if (!(seconds > 0))
    return 0;
  return (gint64)llround (seconds * rate);
}

static double
samples_to_seconds (gint64 samples,
                    guint  rate)
{
  return (double)samples / rate;
}

/* Seconds with at least 3 and at most 6 decimals: exact to the sample
 * up to 500 kHz, and short for the usual round milliseconds. */
static void
append_seconds (GString *out,
                gint64   samples,
                guint    rate)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  gsize len;

  g_ascii_formatd (buf, sizeof buf, "%.6f", samples_to_seconds (samples, rate));
  len = strlen (buf);
  while (len > 0 && buf[len - 1] == '0' && len >= 4 && buf[len - 4] != '.')
    buf[--len] = '\0';
  g_string_append (out, buf);
}

/* hh:mm:ss.mmm (sep '.' for WebVTT, ',' for SRT). */
static void
append_clock (GString *out,
              gint64   samples,
              guint    rate,
              char     sep)
{
  gint64 ms = (gint64)llround (samples_to_seconds (samples, rate) * 1000);

  g_string_append_printf (out, "%02" G_GINT64_FORMAT ":%02d:%02d%c%03d",
                          ms / 3600000, (int)(ms / 60000 % 60), (int)(ms / 1000 % 60),
                          sep, (int)(ms % 1000));
}

/* Parses [hh:]mm:ss(.|,)ttt; returns the end of it, or NULL. */
static const char *
parse_clock (const char *s,
             double     *seconds)
{
  guint64 parts[3];
  guint n = 0;
  const char *p = s;
  double frac = 0, scale = 0.1;

  while (n < 3)
    {
      char *end;

      if (!g_ascii_isdigit (*p))
        return NULL;
      parts[n++] = g_ascii_strtoull (p, &end, 10);
      p = end;
      if (*p != ':')
        break;
      p++;
    }
  if (n < 2)
    return NULL;
  if (*p == '.' || *p == ',')
    {
      p++;
      if (!g_ascii_isdigit (*p))
        return NULL;
      while (g_ascii_isdigit (*p))
        {
          frac += (*p - '0') * scale;
          scale /= 10;
          p++;
        }
    }
  if (n == 2)
    *seconds = parts[0] * 60.0 + parts[1] + frac;
  else
    *seconds = parts[0] * 3600.0 + parts[1] * 60.0 + parts[2] + frac;
  return p;
}

static gboolean
parse_double (const char *s,
              double     *value)
{
  char *end;

  if (s == NULL)
    return FALSE;
  while (g_ascii_isspace (*s))
    s++;
  if (*s == '\0')
    return FALSE;
  *value = g_ascii_strtod (s, &end);
  while (g_ascii_isspace (*end))
    end++;
  return *end == '\0' && isfinite (*value);
}

static gboolean
set_parse_error (GError     **error,
                 const char  *format_name,
                 guint        line,
                 const char  *what)
{
  if (line > 0)
    g_set_error (error, KP_REGIONS_ERROR, KP_REGIONS_ERROR_PARSE,
                 /* Translators: "Not a valid SRT file: line 3: a time is malformed." */
                 _("Not a valid %s file: line %u: %s"), format_name, line, what);
  else
    g_set_error (error, KP_REGIONS_ERROR, KP_REGIONS_ERROR_PARSE,
                 _("Not a valid %s file: %s"), format_name, what);
  return FALSE;
}

/* Lines without their CR/LF; a final empty line is dropped. */
static GStrv
split_lines (const char *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  guint n = g_strv_length (lines);

  for (guint i = 0; i < n; i++)
    {
      gsize len = strlen (lines[i]);

      if (len > 0 && lines[i][len - 1] == '\r')
        lines[i][len - 1] = '\0';
    }
  if (n > 0 && lines[n - 1][0] == '\0')
    g_clear_pointer (&lines[n - 1], g_free);
  return g_steal_pointer (&lines);
}

static KpRegion *
new_region (gint64      start,
            gint64      end,
            const char *tier,
            const char *label)
{
  if (end < start)
    end = start;
  return kp_region_new (start, end, tier, label);
}

/* JSON */

static char *
to_json (KpRegions *self)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "sample_rate");
  json_builder_add_int_value (builder, self->sample_rate);
  json_builder_set_member_name (builder, "tiers");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->tiers->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (self->tiers, i));
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "regions");
  json_builder_begin_array (builder);
  for (guint i = 0; i < self->regions->len; i++)
    {
      KpRegion *r = g_ptr_array_index (self->regions, i);
      g_auto(GStrv) keys = kp_region_dup_attribute_keys (r);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "start");
      json_builder_add_int_value (builder, r->start);
      json_builder_set_member_name (builder, "end");
      json_builder_add_int_value (builder, r->end);
      json_builder_set_member_name (builder, "start_seconds");
      json_builder_add_double_value (builder, samples_to_seconds (r->start, self->sample_rate));
      json_builder_set_member_name (builder, "end_seconds");
      json_builder_add_double_value (builder, samples_to_seconds (r->end, self->sample_rate));
      json_builder_set_member_name (builder, "tier");
      json_builder_add_string_value (builder, r->tier);
      json_builder_set_member_name (builder, "label");
      json_builder_add_string_value (builder, r->label);
      json_builder_set_member_name (builder, "transcript");
      json_builder_add_string_value (builder, r->transcript);
      json_builder_set_member_name (builder, "attributes");
      json_builder_begin_object (builder);
      for (guint k = 0; keys[k] != NULL; k++)
        {
          json_builder_set_member_name (builder, keys[k]);
          json_builder_add_string_value (builder, g_hash_table_lookup (r->attributes, keys[k]));
        }
      json_builder_end_object (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  return json_generator_to_data (generator, NULL);
}

static const char *
member_string (JsonObject *obj,
               const char *name)
{
  JsonNode *node = json_object_get_member (obj, name);

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static gboolean
member_number (JsonObject *obj,
               const char *name,
               double     *value)
{
  return _kp_json_node_get_number (json_object_get_member (obj, name), value) && *value >= 0;
}

static gboolean
parse_json (KpRegions  *self,
            const char *data,
            gsize       length,
            GPtrArray  *out,
            GPtrArray  *tiers,
            GError    **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  JsonObject *root;
  JsonArray *regions;
  double file_rate = self->sample_rate;

  if (!json_parser_load_from_data (parser, data, length, &local_error))
    return set_parse_error (error, "JSON", 0, local_error->message);
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return set_parse_error (error, "JSON", 0, _("the top level is not an object."));
  root = json_node_get_object (json_parser_get_root (parser));

  if (json_object_has_member (root, "sample_rate")
      && (!member_number (root, "sample_rate", &file_rate) || file_rate < 1))
    return set_parse_error (error, "JSON", 0, _("“sample_rate” is not a positive number."));

  if (json_object_has_member (root, "tiers"))
    {
      JsonNode *node = json_object_get_member (root, "tiers");
      JsonArray *array;

      if (!JSON_NODE_HOLDS_ARRAY (node))
        return set_parse_error (error, "JSON", 0, _("“tiers” is not an array."));
      array = json_node_get_array (node);
      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *t = json_array_get_element (array, i);

          if (json_node_get_value_type (t) != G_TYPE_STRING)
            return set_parse_error (error, "JSON", 0, _("a tier name is not a string."));
          g_ptr_array_add (tiers, g_strdup (json_node_get_string (t)));
        }
    }

  if (!JSON_NODE_HOLDS_ARRAY (json_object_get_member (root, "regions")))
    return set_parse_error (error, "JSON", 0, _("“regions” is missing or not an array."));
  regions = json_object_get_array_member (root, "regions");
  for (guint i = 0; i < json_array_get_length (regions); i++)
    {
      JsonNode *node = json_array_get_element (regions, i);
      JsonObject *obj;
      KpRegion *r;
      double start, end;
      gint64 s, e;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return set_parse_error (error, "JSON", 0, _("a region is not an object."));
      obj = json_node_get_object (node);
      if (member_number (obj, "start", &start) && member_number (obj, "end", &end))
        {
          s = rescale ((gint64)start, (guint)file_rate, self->sample_rate);
          e = rescale ((gint64)end, (guint)file_rate, self->sample_rate);
        }
      else if (member_number (obj, "start_seconds", &start)
               && member_number (obj, "end_seconds", &end))
        {
          s = seconds_to_samples (start, self->sample_rate);
          e = seconds_to_samples (end, self->sample_rate);
        }
      else
        return set_parse_error (error, "JSON", 0, _("a region has no valid start and end."));

      r = new_region (s, e, member_string (obj, "tier"), member_string (obj, "label"));
      g_ptr_array_add (out, r);
      kp_region_set_transcript (r, member_string (obj, "transcript"));
      if (json_object_has_member (obj, "attributes"))
        {
          JsonNode *anode = json_object_get_member (obj, "attributes");
          g_autoptr(GList) members = NULL;
          JsonObject *attrs;

          if (!JSON_NODE_HOLDS_OBJECT (anode))
            return set_parse_error (error, "JSON", 0, _("“attributes” is not an object."));
          attrs = json_node_get_object (anode);
          members = json_object_get_members (attrs);
          for (GList *l = members; l != NULL; l = l->next)
            {
              const char *v = member_string (attrs, l->data);

              if (v == NULL)
                return set_parse_error (error, "JSON", 0, _("an attribute value is not a string."));
              kp_region_set_attribute (r, l->data, v);
            }
        }
    }
  return TRUE;
}

/* CSV (RFC 4180; times in seconds; attributes in extra columns) */

static void
append_csv_field (GString    *out,
                  const char *field)
{
  if (strpbrk (field, ",\"\r\n") == NULL)
    {
      g_string_append (out, field);
      return;
    }
  g_string_append_c (out, '"');
  for (const char *p = field; *p; p++)
    {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

static char *
to_csv (KpRegions *self)
{
  g_autoptr(GHashTable) key_set = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree gpointer *keys = NULL;
  GString *out = g_string_new ("start,end,tier,label,transcript");
  guint n_keys;

  for (guint i = 0; i < self->regions->len; i++)
    {
      KpRegion *r = g_ptr_array_index (self->regions, i);
      GHashTableIter iter;
      gpointer key;

      g_hash_table_iter_init (&iter, r->attributes);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        g_hash_table_add (key_set, key);
    }
  keys = g_hash_table_get_keys_as_array (key_set, &n_keys);
  qsort (keys, n_keys, sizeof (gpointer), compare_strings);
  for (guint k = 0; k < n_keys; k++)
    {
      g_string_append_c (out, ',');
      append_csv_field (out, keys[k]);
    }
  g_string_append (out, "\r\n");

  for (guint i = 0; i < self->regions->len; i++)
    {
      KpRegion *r = g_ptr_array_index (self->regions, i);

      append_seconds (out, r->start, self->sample_rate);
      g_string_append_c (out, ',');
      append_seconds (out, r->end, self->sample_rate);
      g_string_append_c (out, ',');
      append_csv_field (out, r->tier);
      g_string_append_c (out, ',');
      append_csv_field (out, r->label);
      g_string_append_c (out, ',');
      append_csv_field (out, r->transcript);
      for (guint k = 0; k < n_keys; k++)
        {
          const char *v = g_hash_table_lookup (r->attributes, keys[k]);

          g_string_append_c (out, ',');
          append_csv_field (out, v ? v : "");
        }
      g_string_append (out, "\r\n");
    }
  return g_string_free (out, FALSE);
}

/* Reads one CSV record from *p; NULL at the end of the data. */
static GPtrArray *
read_csv_record (const char **p,
                 guint       *line,
                 GError     **error)
{
  g_autoptr(GPtrArray) fields = NULL;
  const char *s = *p;

  if (*s == '\0')
    return NULL;

  fields = g_ptr_array_new_with_free_func (g_free);
  for (;;)
    {
      GString *field = g_string_new (NULL);

      if (*s == '"')
        {
          s++;
          for (;;)
            {
              if (*s == '\0')
                {
                  g_string_free (field, TRUE);
                  set_parse_error (error, "CSV", *line, _("a quoted field does not end."));
                  return NULL;
                }
              if (*s == '"' && s[1] == '"')
                {
                  g_string_append_c (field, '"');
                  s += 2;
                }
              else if (*s == '"')
                {
                  s++;
                  break;
                }
              else
                {
                  if (*s == '\n')
                    (*line)++;
                  g_string_append_c (field, *s++);
                }
            }
        }
      while (*s != '\0' && *s != ',' && *s != '\n' && *s != '\r')
        g_string_append_c (field, *s++);
      g_ptr_array_add (fields, g_string_free (field, FALSE));
      if (*s == ',')
        {
          s++;
          continue;
        }
      if (*s == '\r')
        s++;
      if (*s == '\n')
        s++;
      (*line)++;
      break;
    }
  *p = s;
  return g_steal_pointer (&fields);
}

static gboolean
parse_csv (KpRegions  *self,
           const char *data,
           GPtrArray  *out,
           GError    **error)
{
  g_autoptr(GPtrArray) header = NULL;
  const char *p = data;
  guint line = 1;
  int col_start = -1, col_end = -1, col_tier = -1, col_label = -1, col_transcript = -1;

  header = read_csv_record (&p, &line, error);
  if (header == NULL)
    {
      if (error != NULL && *error != NULL)
        return FALSE;
      return set_parse_error (error, "CSV", 0, _("there is no header line."));
    }
  for (guint i = 0; i < header->len; i++)
    {
      const char *name = g_ptr_array_index (header, i);

      if (g_str_equal (name, "start"))
        col_start = i;
      else if (g_str_equal (name, "end"))
        col_end = i;
      else if (g_str_equal (name, "tier"))
        col_tier = i;
      else if (g_str_equal (name, "label"))
        col_label = i;
      else if (g_str_equal (name, "transcript"))
        col_transcript = i;
    }
  if (col_start < 0 || col_end < 0)
    return set_parse_error (error, "CSV", 1, _("the header has no “start” and “end” columns."));

  for (;;)
    {
      g_autoptr(GPtrArray) rec = NULL;
      guint rec_line = line;
      double start, end;
      KpRegion *r;

      rec = read_csv_record (&p, &line, error);
      if (rec == NULL)
        return error == NULL || *error == NULL;
      if (rec->len == 1 && ((char *)g_ptr_array_index (rec, 0))[0] == '\0')
        continue;
      if (rec->len != header->len)
        return set_parse_error (error, "CSV", rec_line,
                                _("the number of fields differs from the header."));
      if (!parse_double (g_ptr_array_index (rec, col_start), &start)
          || !parse_double (g_ptr_array_index (rec, col_end), &end)
          || start < 0 || end < start)
        return set_parse_error (error, "CSV", rec_line, _("a start or end time is malformed."));

      r = new_region (seconds_to_samples (start, self->sample_rate),
                      seconds_to_samples (end, self->sample_rate),
                      col_tier >= 0 ? g_ptr_array_index (rec, col_tier) : NULL,
                      col_label >= 0 ? g_ptr_array_index (rec, col_label) : NULL);
      g_ptr_array_add (out, r);
      if (col_transcript >= 0)
        kp_region_set_transcript (r, g_ptr_array_index (rec, col_transcript));
      for (guint i = 0; i < header->len; i++)
        {
          const char *v = g_ptr_array_index (rec, i);

          if ((int)i == col_start || (int)i == col_end || (int)i == col_tier
              || (int)i == col_label || (int)i == col_transcript || v[0] == '\0')
            continue;
          kp_region_set_attribute (r, g_ptr_array_index (header, i), v);
        }
    }
}

/* Audacity label track: start TAB end TAB label, seconds; spectral
 * selection lines start with a backslash. */

static char *
to_audacity (KpRegions *self)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < self->regions->len; i++)
    {
      KpRegion *r = g_ptr_array_index (self->regions, i);
      char buf[G_ASCII_DTOSTR_BUF_SIZE];
      g_autofree char *label = g_strdelimit (g_strdup (r->label), "\t\r\n", ' ');

      g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.6f",
                                             samples_to_seconds (r->start, self->sample_rate)));
      g_string_append_c (out, '\t');
      g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.6f",
                                             samples_to_seconds (r->end, self->sample_rate)));
      g_string_append_c (out, '\t');
      g_string_append (out, label);
      g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
}

static gboolean
parse_audacity (KpRegions  *self,
                const char *data,
                GPtrArray  *out,
                GError    **error)
{
  g_auto(GStrv) lines = split_lines (data);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = NULL;
      double start, end;

      if (lines[i][0] == '\\' || lines[i][0] == '\0')
        continue;
      fields = g_strsplit (lines[i], "\t", 3);
      if (g_strv_length (fields) < 2
          || !parse_double (fields[0], &start) || !parse_double (fields[1], &end)
          || start < 0 || end < start)
        return set_parse_error (error, _("Audacity label"), i + 1,
                                _("expected a start, an end and a label separated by tabs."));
      g_ptr_array_add (out, new_region (seconds_to_samples (start, self->sample_rate),
                                        seconds_to_samples (end, self->sample_rate),
                                        NULL, fields[2] ? fields[2] : ""));
    }
  return TRUE;
}

/* Praat TextGrid */

static void
append_praat_string (GString    *out,
                     const char *s)
{
  g_string_append_c (out, '"');
  for (const char *p = s; *p; p++)
    {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

static void
append_praat_number (GString *out,
                     double   value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  g_string_append (out, g_ascii_formatd (buf, sizeof buf, "%.15g", value));
}

static void
append_interval_tier (GString    *out,
                      guint       index,
                      const char *name,
                      GPtrArray  *layer,
                      double      xmax,
                      guint       rate)
{
  g_autoptr(GString) intervals = g_string_new (NULL);
  guint n = 0;
  double t = 0;

  for (guint i = 0; i <= layer->len; i++)
    {
      KpRegion *r = i < layer->len ? g_ptr_array_index (layer, i) : NULL;
      double start = r ? samples_to_seconds (r->start, rate) : xmax;

      /* Praat's intervals tile the tier, so gaps become empty intervals. */
      if (start > t)
        {
          g_string_append_printf (intervals, "        intervals [%u]:\n            xmin = ", ++n);
          append_praat_number (intervals, t);
          g_string_append (intervals, " \n            xmax = ");
          append_praat_number (intervals, start);
          g_string_append (intervals, " \n            text = \"\" \n");
        }
      if (r == NULL)
        break;
      g_string_append_printf (intervals, "        intervals [%u]:\n            xmin = ", ++n);
      append_praat_number (intervals, start);
      g_string_append (intervals, " \n            xmax = ");
      t = samples_to_seconds (r->end, rate);
      append_praat_number (intervals, t);
      g_string_append (intervals, " \n            text = ");
      append_praat_string (intervals, r->label);
      g_string_append (intervals, " \n");
    }

  g_string_append_printf (out, "    item [%u]:\n        class = \"IntervalTier\" \n        name = ",
                          index);
  append_praat_string (out, name);
  g_string_append (out, " \n        xmin = 0 \n        xmax = ");
  append_praat_number (out, xmax);
  g_string_append_printf (out, " \n        intervals: size = %u \n", n);
  g_string_append_len (out, intervals->str, intervals->len);
}

static void
append_text_tier (GString    *out,
                  guint       index,
                  const char *name,
                  GPtrArray  *points,
                  double      xmax,
                  guint       rate)
{
  g_string_append_printf (out, "    item [%u]:\n        class = \"TextTier\" \n        name = ",
                          index);
  append_praat_string (out, name);
  g_string_append (out, " \n        xmin = 0 \n        xmax = ");
  append_praat_number (out, xmax);
  g_string_append_printf (out, " \n        points: size = %u \n", points->len);
  for (guint i = 0; i < points->len; i++)
    {
      KpRegion *r = g_ptr_array_index (points, i);

      g_string_append_printf (out, "        points [%u]:\n            number = ", i + 1);
      append_praat_number (out, samples_to_seconds (r->start, rate));
      g_string_append (out, " \n            mark = ");
      append_praat_string (out, r->label);
      g_string_append (out, " \n");
    }
}

static char *
to_textgrid (KpRegions *self)
{
  g_autoptr(GString) items = g_string_new (NULL);
  GString *out = g_string_new ("File type = \"ooTextFile\"\nObject class = \"TextGrid\"\n\n");
  gint64 max_end = 0;
  double xmax;
  guint n_items = 0;

  for (guint i = 0; i < self->regions->len; i++)
    max_end = MAX (max_end, ((KpRegion *)g_ptr_array_index (self->regions, i))->end);
  xmax = samples_to_seconds (max_end, self->sample_rate);

  for (guint t = 0; t < self->tiers->len; t++)
    {
      const char *tier = g_ptr_array_index (self->tiers, t);
      g_autoptr(GPtrArray) layers = g_ptr_array_new_with_free_func ((GDestroyNotify)g_ptr_array_unref);
      g_autoptr(GPtrArray) points = g_ptr_array_new ();

      /* Overlapping regions of one tier go to extra tiers of the same
       * name (an IntervalTier cannot overlap itself); reading merges
       * them back by name. */
      for (guint i = 0; i < self->regions->len; i++)
        {
          KpRegion *r = g_ptr_array_index (self->regions, i);
          guint l;

          if (!g_str_equal (r->tier, tier))
            continue;
          if (r->start == r->end)
            {
              g_ptr_array_add (points, r);
              continue;
            }
          for (l = 0; l < layers->len; l++)
            {
              GPtrArray *layer = g_ptr_array_index (layers, l);
              KpRegion *last = g_ptr_array_index (layer, layer->len - 1);

              if (last->end <= r->start)
                break;
            }
          if (l == layers->len)
            g_ptr_array_add (layers, g_ptr_array_new ());
          g_ptr_array_add (g_ptr_array_index (layers, l), r);
        }
      if (layers->len == 0 && points->len == 0)
        g_ptr_array_add (layers, g_ptr_array_new ());
      for (guint l = 0; l < layers->len; l++)
        append_interval_tier (items, ++n_items, tier, g_ptr_array_index (layers, l), xmax,
                              self->sample_rate);
      if (points->len > 0)
        append_text_tier (items, ++n_items, tier, points, xmax, self->sample_rate);
    }

  g_string_append (out, "xmin = 0 \nxmax = ");
  append_praat_number (out, xmax);
  g_string_append (out, " \n");
  if (n_items == 0)
    {
      g_string_append (out, "tiers? <absent> \n");
      return g_string_free (out, FALSE);
    }
  g_string_append_printf (out, "tiers? <exists> \nsize = %u \nitem []: \n", n_items);
  g_string_append_len (out, items->str, items->len);
  return g_string_free (out, FALSE);
}

typedef enum
{
  TOKEN_END,
  TOKEN_NUMBER,
  TOKEN_STRING,
  TOKEN_FLAG,
  TOKEN_ERROR,
} TokenType;

typedef struct
{
  const char *p;
  guint       line;
  double      number;
  GString    *string;
} Tokenizer;

/* Praat's text files hold numbers, "strings" and <flags>; in the long
 * format everything else (names, "=", "[1]", "?") is commentary. */
static TokenType
next_token (Tokenizer *tk)
{
  for (;;)
    {
      char c = *tk->p;

      if (c == '\0')
        return TOKEN_END;
      if (c == '\n')
        {
          tk->line++;
          tk->p++;
        }
      else if (c == '!')
        {
          while (*tk->p != '\0' && *tk->p != '\n')
            tk->p++;
        }
      else if (c == '[')
        {
          while (*tk->p != '\0' && *tk->p != ']' && *tk->p != '\n')
            tk->p++;
          if (*tk->p == ']')
            tk->p++;
        }
      else if (g_ascii_isalpha (c) || c == '_')
        {
          while (g_ascii_isalnum (*tk->p) || *tk->p == '_')
            tk->p++;
        }
      else if (c == '"')
        {
          g_string_truncate (tk->string, 0);
          tk->p++;
          for (;;)
            {
              if (*tk->p == '\0')
                return TOKEN_ERROR;
              if (*tk->p == '"' && tk->p[1] == '"')
                {
                  g_string_append_c (tk->string, '"');
                  tk->p += 2;
                }
              else if (*tk->p == '"')
                {
                  tk->p++;
                  return TOKEN_STRING;
                }
              else
                {
                  if (*tk->p == '\n')
                    tk->line++;
                  g_string_append_c (tk->string, *tk->p++);
                }
            }
        }
      else if (c == '<')
        {
          g_string_truncate (tk->string, 0);
          tk->p++;
          while (*tk->p != '\0' && *tk->p != '>')
            g_string_append_c (tk->string, *tk->p++);
          if (*tk->p != '>')
            return TOKEN_ERROR;
          tk->p++;
          return TOKEN_FLAG;
        }
      else if (g_ascii_isdigit (c) || c == '-' || c == '+' || c == '.')
        {
          char *end;

          tk->number = g_ascii_strtod (tk->p, &end);
          if (end == tk->p || !isfinite (tk->number))
            return TOKEN_ERROR;
          tk->p = end;
          return TOKEN_NUMBER;
        }
      else
        tk->p++;
    }
}

static gboolean
expect (Tokenizer *tk,
        TokenType  type,
        GError   **error)
{
  if (next_token (tk) == type)
    return TRUE;
  return set_parse_error (error, "TextGrid", tk->line,
                          type == TOKEN_NUMBER ? _("expected a number.")
                          : type == TOKEN_STRING ? _("expected a quoted string.")
                          : _("expected <exists> or <absent>."));
}

static gboolean
parse_textgrid (KpRegions  *self,
                const char *data,
                GPtrArray  *out,
                GPtrArray  *tiers,
                GError    **error)
{
  g_autoptr(GString) string = g_string_new (NULL);
  Tokenizer tk = { data, 1, 0, string };
  double n_tiers;

  if (!expect (&tk, TOKEN_STRING, error))
    return FALSE;
  if (!g_str_equal (string->str, "ooTextFile"))
    return set_parse_error (error, "TextGrid", tk.line, _("the file type is not “ooTextFile”."));
  if (!expect (&tk, TOKEN_STRING, error))
    return FALSE;
  if (!g_str_equal (string->str, "TextGrid"))
    return set_parse_error (error, "TextGrid", tk.line, _("the object class is not “TextGrid”."));
  if (!expect (&tk, TOKEN_NUMBER, error) || !expect (&tk, TOKEN_NUMBER, error)
      || !expect (&tk, TOKEN_FLAG, error))
    return FALSE;
  if (g_str_equal (string->str, "absent"))
    return TRUE;
  if (!expect (&tk, TOKEN_NUMBER, error))
    return FALSE;
  n_tiers = tk.number;
  if (n_tiers < 0 || n_tiers > 100000 || n_tiers != floor (n_tiers))
    return set_parse_error (error, "TextGrid", tk.line, _("the number of tiers is invalid."));

  for (guint t = 0; t < (guint)n_tiers; t++)
    {
      g_autofree char *name = NULL;
      gboolean interval;
      double n_items;

      if (!expect (&tk, TOKEN_STRING, error))
        return FALSE;
      if (g_str_equal (string->str, "IntervalTier"))
        interval = TRUE;
      else if (g_str_equal (string->str, "TextTier"))
        interval = FALSE;
      else
        return set_parse_error (error, "TextGrid", tk.line, _("unknown tier class."));
      if (!expect (&tk, TOKEN_STRING, error))
        return FALSE;
      name = g_strdup (string->str);
      if (!g_ptr_array_find_with_equal_func (tiers, name, g_str_equal, NULL))
        g_ptr_array_add (tiers, g_strdup (name));
      if (!expect (&tk, TOKEN_NUMBER, error) || !expect (&tk, TOKEN_NUMBER, error)
          || !expect (&tk, TOKEN_NUMBER, error))
        return FALSE;
      n_items = tk.number;
      if (n_items < 0 || n_items != floor (n_items) || n_items > G_MAXINT)
        return set_parse_error (error, "TextGrid", tk.line, _("the number of items is invalid."));

      for (guint i = 0; i < (guint)n_items; i++)
        {
          double start, end;

          if (!expect (&tk, TOKEN_NUMBER, error))
            return FALSE;
          start = tk.number;
          end = start;
          if (interval)
            {
              if (!expect (&tk, TOKEN_NUMBER, error))
                return FALSE;
              end = tk.number;
            }
          if (!expect (&tk, TOKEN_STRING, error))
            return FALSE;
          if (end < start)
            return set_parse_error (error, "TextGrid", tk.line, _("an interval ends before it starts."));
          /* Empty intervals are the gaps between regions. */
          if (interval && g_strstrip (string->str)[0] == '\0')
            continue;
          g_ptr_array_add (out, new_region (seconds_to_samples (start, self->sample_rate),
                                            seconds_to_samples (end, self->sample_rate),
                                            name, string->str));
        }
    }
  return TRUE;
}

/* WebVTT: the label is the cue identifier, the tier a voice span. */

static void
append_escaped_vtt (GString    *out,
                    const char *s)
{
  for (const char *p = s; *p; p++)
    {
      if (*p == '&')
        g_string_append (out, "&amp;");
      else if (*p == '<')
        g_string_append (out, "&lt;");
      else if (*p == '>')
        g_string_append (out, "&gt;");
      else if (*p == '\n' && (p[1] == '\n' || p[1] == '\0'))
        continue; /* a blank line would end the cue */
      else
        g_string_append_c (out, *p);
    }
}

static char *
to_webvtt (KpRegions *self)
{
  GString *out = g_string_new ("WEBVTT\n");

  for (guint i = 0; i < self->regions->len; i++)
    {
      KpRegion *r = g_ptr_array_index (self->regions, i);

      g_string_append_c (out, '\n');
      if (r->label[0] != '\0' && strstr (r->label, "-->") == NULL && strchr (r->label, '\n') == NULL)
        g_string_append_printf (out, "%s\n", r->label);
      append_clock (out, r->start, self->sample_rate, '.');
      g_string_append (out, " --> ");
      append_clock (out, r->end, self->sample_rate, '.');
      g_string_append_c (out, '\n');
      if (r->tier[0] != '\0')
        {
          g_string_append (out, "<v ");
          append_escaped_vtt (out, r->tier);
          g_string_append_c (out, '>');
        }
      append_escaped_vtt (out, r->transcript);
      g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
}

static char *
unescape_vtt (const char *s,
              gsize       len)
{
  static const struct { const char *entity; const char *text; } entities[] = {
    { "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" }, { "&nbsp;", "\xc2\xa0" },
    { "&lrm;", "\xe2\x80\x8e" }, { "&rlm;", "\xe2\x80\x8f" },
  };
  GString *out = g_string_new (NULL);

  for (gsize i = 0; i < len; i++)
    {
      gboolean done = FALSE;

      if (s[i] == '&')
        for (guint e = 0; e < G_N_ELEMENTS (entities); e++)
          if (strncmp (s + i, entities[e].entity, strlen (entities[e].entity)) == 0)
            {
              g_string_append (out, entities[e].text);
              i += strlen (entities[e].entity) - 1;
              done = TRUE;
              break;
            }
      if (!done)
        g_string_append_c (out, s[i]);
    }
  return g_string_free (out, FALSE);
}

/* Splits cue text into a voice (from <v name>) and the text without tags. */
static void
parse_vtt_payload (const char  *payload,
                   char       **voice,
                   char       **text)
{
  GString *out = g_string_new (NULL);
  const char *p = payload;

  *voice = NULL;
  while (*p)
    {
      if (*p == '<')
        {
          const char *close = strchr (p, '>');

          if (close == NULL)
            break;
          if (*voice == NULL && p[1] == 'v' && (p[2] == ' ' || p[2] == '.' || p[2] == '\t'))
            {
              const char *name = p + 2;

              while (*name == '.' || (*name != ' ' && *name != '\t' && name < close))
                name++;
              while (name < close && (*name == ' ' || *name == '\t'))
                name++;
              *voice = unescape_vtt (name, close - name);
            }
          p = close + 1;
          continue;
        }
      g_string_append_c (out, *p++);
    }
  {
    g_autofree char *raw = g_string_free (out, FALSE);

    *text = unescape_vtt (raw, strlen (raw));
  }
}

static gboolean
parse_webvtt (KpRegions  *self,
              const char *data,
              GPtrArray  *out,
              GError    **error)
{
  g_auto(GStrv) lines = split_lines (data);
  guint i = 0;

  if (lines[0] == NULL || !g_str_has_prefix (lines[0], "WEBVTT")
      || (lines[0][6] != '\0' && lines[0][6] != ' ' && lines[0][6] != '\t'))
    return set_parse_error (error, "WebVTT", 1, _("the file does not start with “WEBVTT”."));

  /* Skip the header block. */
  while (lines[i] != NULL && lines[i][0] != '\0')
    i++;

  while (lines[i] != NULL)
    {
      const char *id = NULL;
      double start, end;
      const char *p;
      g_autoptr(GString) payload = g_string_new (NULL);
      g_autofree char *voice = NULL;
      g_autofree char *text = NULL;
      guint block;
      KpRegion *r;

      while (lines[i] != NULL && lines[i][0] == '\0')
        i++;
      if (lines[i] == NULL)
        break;
      block = i;
      if (g_str_has_prefix (lines[i], "NOTE") || g_str_has_prefix (lines[i], "STYLE")
          || g_str_has_prefix (lines[i], "REGION"))
        {
          while (lines[i] != NULL && lines[i][0] != '\0')
            i++;
          continue;
        }
      if (strstr (lines[i], "-->") == NULL)
        {
          id = lines[i++];
          if (lines[i] == NULL || strstr (lines[i], "-->") == NULL)
            return set_parse_error (error, "WebVTT", block + 1, _("a cue has no timings."));
        }
      p = parse_clock (lines[i], &start);
      if (p != NULL)
        {
          while (*p == ' ' || *p == '\t')
            p++;
          p = g_str_has_prefix (p, "-->") ? p + 3 : NULL;
        }
      if (p != NULL)
        {
          while (*p == ' ' || *p == '\t')
            p++;
          p = parse_clock (p, &end);
        }
      if (p == NULL || end < start)
        return set_parse_error (error, "WebVTT", i + 1, _("a cue timing is malformed."));
      i++;
      while (lines[i] != NULL && lines[i][0] != '\0')
        {
          if (payload->len > 0)
            g_string_append_c (payload, '\n');
          g_string_append (payload, lines[i++]);
        }
      parse_vtt_payload (payload->str, &voice, &text);
      r = new_region (seconds_to_samples (start, self->sample_rate),
                      seconds_to_samples (end, self->sample_rate), voice, id);
      kp_region_set_transcript (r, text);
      g_ptr_array_add (out, r);
    }
  return TRUE;
}

/* SRT: numbered cues; the text is the transcript (the label if none). */

static char *
to_srt (KpRegions *self)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < self->regions->len; i++)
    {
      KpRegion *r = g_ptr_array_index (self->regions, i);
      const char *text = r->transcript[0] != '\0' ? r->transcript : r->label;

      if (i > 0)
        g_string_append_c (out, '\n');
      g_string_append_printf (out, "%u\n", i + 1);
      append_clock (out, r->start, self->sample_rate, ',');
      g_string_append (out, " --> ");
      append_clock (out, r->end, self->sample_rate, ',');
      g_string_append_c (out, '\n');
      for (const char *p = text; *p; p++)
        if (!(*p == '\n' && (p[1] == '\n' || p[1] == '\0')))
          g_string_append_c (out, *p);
      g_string_append_c (out, '\n');
    }
  return g_string_free (out, FALSE);
}

static gboolean
parse_srt (KpRegions  *self,
           const char *data,
           GPtrArray  *out,
           GError    **error)
{
  g_auto(GStrv) lines = split_lines (data);
  guint i = 0;

  while (lines[i] != NULL)
    {
      g_autoptr(GString) text = g_string_new (NULL);
      double start, end;
      const char *p;
      KpRegion *r;

      while (lines[i] != NULL && g_strstrip (lines[i])[0] == '\0')
        i++;
      if (lines[i] == NULL)
        break;
      if (strstr (lines[i], "-->") == NULL)
        {
          char *endp;

          g_ascii_strtoull (lines[i], &endp, 10);
          if (endp == lines[i] || *endp != '\0')
            return set_parse_error (error, "SRT", i + 1, _("expected a cue number."));
          i++;
        }
      if (lines[i] == NULL)
        return set_parse_error (error, "SRT", i, _("a cue has no timings."));
      p = parse_clock (lines[i], &start);
      if (p != NULL)
        {
          while (*p == ' ')
            p++;
          p = g_str_has_prefix (p, "-->") ? p + 3 : NULL;
        }
      if (p != NULL)
        {
          while (*p == ' ')
            p++;
          p = parse_clock (p, &end);
        }
      if (p == NULL || end < start)
        return set_parse_error (error, "SRT", i + 1, _("a cue timing is malformed."));
      i++;
      while (lines[i] != NULL && lines[i][0] != '\0')
        {
          if (text->len > 0)
            g_string_append_c (text, '\n');
          g_string_append (text, lines[i++]);
        }
      r = new_region (seconds_to_samples (start, self->sample_rate),
                      seconds_to_samples (end, self->sample_rate), NULL, NULL);
      kp_region_set_transcript (r, text->str);
      g_ptr_array_add (out, r);
    }
  return TRUE;
}

/* RTTM: SPEAKER file channel onset duration <NA> <NA> name <NA> <NA> */

static char *
to_rttm (KpRegions  *self,
         const char *file_id)
{
  GString *out = g_string_new (NULL);
  g_autofree char *id = g_strdelimit (g_strdup (file_id ? file_id : "audio"), " \t\r\n", '_');

  for (guint i = 0; i < self->regions->len; i++)
    {
      KpRegion *r = g_ptr_array_index (self->regions, i);
      g_autofree char *speaker = g_strdelimit (g_strdup (r->tier[0] ? r->tier : "<NA>"),
                                               " \t\r\n", '_');

      g_string_append_printf (out, "SPEAKER %s 1 ", id);
      append_seconds (out, r->start, self->sample_rate);
      g_string_append_c (out, ' ');
      append_seconds (out, r->end - r->start, self->sample_rate);
      g_string_append_printf (out, " <NA> <NA> %s <NA> <NA>\n", speaker);
    }
  return g_string_free (out, FALSE);
}

static gboolean
parse_rttm (KpRegions  *self,
            const char *data,
            GPtrArray  *out,
            GError    **error)
{
  g_auto(GStrv) lines = split_lines (data);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit_set (g_strstrip (lines[i]), " \t", -1);
      g_autoptr(GPtrArray) f = g_ptr_array_new ();
      double onset, duration;
      gint64 start;

      for (guint k = 0; fields[k] != NULL; k++)
        if (fields[k][0] != '\0')
          g_ptr_array_add (f, fields[k]);
      if (f->len == 0 || g_str_has_prefix (g_ptr_array_index (f, 0), ";;"))
        continue;
      if (f->len < 8)
        return set_parse_error (error, "RTTM", i + 1, _("a line has fewer than 8 fields."));
      if (!g_str_equal (g_ptr_array_index (f, 0), "SPEAKER"))
        continue;
      if (!parse_double (g_ptr_array_index (f, 3), &onset)
          || !parse_double (g_ptr_array_index (f, 4), &duration)
          || onset < 0 || duration < 0)
        return set_parse_error (error, "RTTM", i + 1, _("the onset or duration is malformed."));
      start = seconds_to_samples (onset, self->sample_rate);
      g_ptr_array_add (out, new_region (start,
                                        seconds_to_samples (onset + duration, self->sample_rate),
                                        g_str_equal (g_ptr_array_index (f, 7), "<NA>")
                                          ? "" : g_ptr_array_index (f, 7),
                                        NULL));
    }
  return TRUE;
}

static int
compare_region_ptrs (gconstpointer a,
                     gconstpointer b)
{
  return compare_regions (*(KpRegion **)a, *(KpRegion **)b);
}

/* Adds a batch with one sort and one notification, so that reading a
 * file of many regions costs O(n log n) rather than an insertion each. */
static void
add_many (KpRegions *self,
          GPtrArray *batch)
{
  guint old_n = self->regions->len;

  if (batch->len == 0)
    return;
  for (guint i = 0; i < batch->len; i++)
    {
      KpRegion *r = g_ptr_array_index (batch, i);

      kp_regions_add_tier (self, r->tier);
      g_ptr_array_add (self->regions, g_object_ref (r));
      r->owner = self;
      g_signal_connect (r, "changed", G_CALLBACK (region_changed_cb), self);
    }
  /* A stable sort keeps equal regions in the order they came. */
  g_ptr_array_sort (self->regions, compare_region_ptrs);
  g_list_model_items_changed (G_LIST_MODEL (self), 0, old_n, self->regions->len);
  g_signal_emit (self, signals[CHANGED], 0);
}

/* Entry points */

static const struct {
  const char     *extension;
  KpRegionsFormat format;
} extensions[] = {
  { ".json", KP_REGIONS_FORMAT_JSON },
  { ".csv", KP_REGIONS_FORMAT_CSV },
  { ".txt", KP_REGIONS_FORMAT_AUDACITY },
  { ".textgrid", KP_REGIONS_FORMAT_TEXTGRID },
  { ".vtt", KP_REGIONS_FORMAT_WEBVTT },
  { ".srt", KP_REGIONS_FORMAT_SRT },
  { ".rttm", KP_REGIONS_FORMAT_RTTM },
};

gboolean
kp_regions_format_from_path (const char      *path,
                             KpRegionsFormat *format)
{
  g_autofree char *lower = NULL;

  g_return_val_if_fail (path != NULL, FALSE);

  lower = g_ascii_strdown (path, -1);
  for (guint i = 0; i < G_N_ELEMENTS (extensions); i++)
    if (g_str_has_suffix (lower, extensions[i].extension))
      {
        if (format != NULL)
          *format = extensions[i].format;
        return TRUE;
      }
  return FALSE;
}

/* Text as UTF-8 without a BOM; TextGrids are often UTF-16. */
static char *
to_utf8 (const char  *data,
         gsize        length,
         GError     **error)
{
  const guchar *u = (const guchar *)data;

  if (length >= 2 && ((u[0] == 0xff && u[1] == 0xfe) || (u[0] == 0xfe && u[1] == 0xff)))
    {
      g_autoptr(GError) local_error = NULL;
      char *utf8 = g_convert (data + 2, length - 2, "UTF-8",
                              u[0] == 0xff ? "UTF-16LE" : "UTF-16BE", NULL, NULL, &local_error);

      if (utf8 == NULL)
        g_set_error (error, KP_REGIONS_ERROR, KP_REGIONS_ERROR_PARSE,
                     _("The UTF-16 text cannot be read: %s"), local_error->message);
      return utf8;
    }
  if (length >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf)
    {
      data += 3;
      length -= 3;
    }
  if (!g_utf8_validate_len (data, length, NULL))
    {
      g_set_error (error, KP_REGIONS_ERROR, KP_REGIONS_ERROR_PARSE,
                   _("The text is not valid UTF-8."));
      return NULL;
    }
  return g_strndup (data, length);
}

gboolean
kp_regions_load_data (KpRegions       *self,
                      KpRegionsFormat  format,
                      const char      *data,
                      gsize            length,
                      GError         **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) tiers = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *text = NULL;
  gboolean ok = FALSE;

  g_return_val_if_fail (KP_IS_REGIONS (self), FALSE);
  g_return_val_if_fail (data != NULL || length == 0, FALSE);

  text = to_utf8 (data ? data : "", length, error);
  if (text == NULL)
    return FALSE;

  switch (format)
    {
    case KP_REGIONS_FORMAT_JSON:
      ok = parse_json (self, text, strlen (text), out, tiers, error);
      break;
    case KP_REGIONS_FORMAT_CSV:
      ok = parse_csv (self, text, out, error);
      break;
    case KP_REGIONS_FORMAT_AUDACITY:
      ok = parse_audacity (self, text, out, error);
      break;
    case KP_REGIONS_FORMAT_TEXTGRID:
      ok = parse_textgrid (self, text, out, tiers, error);
      break;
    case KP_REGIONS_FORMAT_WEBVTT:
      ok = parse_webvtt (self, text, out, error);
      break;
    case KP_REGIONS_FORMAT_SRT:
      ok = parse_srt (self, text, out, error);
      break;
    case KP_REGIONS_FORMAT_RTTM:
      ok = parse_rttm (self, text, out, error);
      break;
    default:
      g_return_val_if_reached (FALSE);
    }
  if (!ok)
    return FALSE;

  for (guint i = 0; i < tiers->len; i++)
    kp_regions_add_tier (self, g_ptr_array_index (tiers, i));
  add_many (self, out);
  return TRUE;
}

char *
kp_regions_to_data (KpRegions       *self,
                    KpRegionsFormat  format,
                    const char      *file_id)
{
  g_return_val_if_fail (KP_IS_REGIONS (self), NULL);

  switch (format)
    {
    case KP_REGIONS_FORMAT_JSON:
      return to_json (self);
    case KP_REGIONS_FORMAT_CSV:
      return to_csv (self);
    case KP_REGIONS_FORMAT_AUDACITY:
      return to_audacity (self);
    case KP_REGIONS_FORMAT_TEXTGRID:
      return to_textgrid (self);
    case KP_REGIONS_FORMAT_WEBVTT:
      return to_webvtt (self);
    case KP_REGIONS_FORMAT_SRT:
      return to_srt (self);
    case KP_REGIONS_FORMAT_RTTM:
      return to_rttm (self, file_id);
    default:
      g_return_val_if_reached (NULL);
    }
}

static gboolean
format_for_path (const char      *path,
                 KpRegionsFormat *format,
                 GError         **error)
{
  if (kp_regions_format_from_path (path, format))
    return TRUE;
  g_set_error (error, KP_REGIONS_ERROR, KP_REGIONS_ERROR_UNKNOWN_FORMAT,
               _("“%s” has no known region file extension (.json, .csv, .txt, .TextGrid, "
                 ".vtt, .srt or .rttm)."), path);
  return FALSE;
}

gboolean
kp_regions_load_file (KpRegions   *self,
                      const char  *path,
                      GError     **error)
{
  g_autofree char *data = NULL;
  KpRegionsFormat format;
  gsize length;

  g_return_val_if_fail (KP_IS_REGIONS (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!format_for_path (path, &format, error)
      || !g_file_get_contents (path, &data, &length, error))
    return FALSE;
  if (!kp_regions_load_data (self, format, data, length, error))
    {
      g_autofree char *name = g_filename_display_basename (path);

      g_prefix_error (error, "%s: ", name);
      return FALSE;
    }
  return TRUE;
}

gboolean
kp_regions_save_file (KpRegions   *self,
                      const char  *path,
                      GError     **error)
{
  g_autofree char *data = NULL;
  g_autofree char *base = NULL;
  KpRegionsFormat format;
  char *dot;

  g_return_val_if_fail (KP_IS_REGIONS (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!format_for_path (path, &format, error))
    return FALSE;
  base = g_path_get_basename (path);
  if ((dot = strrchr (base, '.')) != NULL)
    *dot = '\0';
  data = kp_regions_to_data (self, format, base);
  /* g_file_set_contents writes a temporary file and renames it. */
  return g_file_set_contents_full (path, data, -1,
                                   G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                   0644, error);
}
