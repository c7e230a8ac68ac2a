/* kp-regions.h: time regions of an audio file, on tiers, and their file formats
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A KpRegion spans the samples [start, end) of one audio file, sits on a
 * tier (a speaker, say; "" is the default tier) and carries a label, a
 * transcript and string attributes. Regions may overlap, on one tier or
 * across tiers. KpRegions is a GListModel of KpRegion kept sorted by start
 * (then end, then tier); it follows its regions' start and end as they are
 * edited, and emits "changed" on any edit so a view can redraw.
 *
 * Times are samples (frames) at the model's sample rate; the text formats
 * use seconds and are converted on the way in and out.
 */

#pragma once

#if !defined(KP_CORE_INSIDE) && !defined(KP_CORE_COMPILATION)
# error "Only <kp-core.h> can be included directly."
#endif

#include <gio/gio.h>

G_BEGIN_DECLS

#define KP_REGIONS_ERROR (kp_regions_error_quark ())

typedef enum
{
  KP_REGIONS_ERROR_FAILED,
  KP_REGIONS_ERROR_PARSE,          /* the data is not valid in its format */
  KP_REGIONS_ERROR_UNKNOWN_FORMAT, /* no format matches the file name */
} KpRegionsError;

typedef enum
{
  KP_REGIONS_FORMAT_JSON,
  KP_REGIONS_FORMAT_CSV,
  KP_REGIONS_FORMAT_AUDACITY, /* Audacity label track (.txt) */
  KP_REGIONS_FORMAT_TEXTGRID, /* Praat TextGrid: writes long, reads long and short */
  KP_REGIONS_FORMAT_WEBVTT,
  KP_REGIONS_FORMAT_SRT,
  KP_REGIONS_FORMAT_RTTM,
} KpRegionsFormat;

#define KP_TYPE_REGION  (kp_region_get_type ())
#define KP_TYPE_REGIONS (kp_regions_get_type ())

G_DECLARE_FINAL_TYPE (KpRegion, kp_region, KP, REGION, GObject)
G_DECLARE_FINAL_TYPE (KpRegions, kp_regions, KP, REGIONS, GObject)

GQuark       kp_regions_error_quark      (void);

KpRegion    *kp_region_new               (gint64           start,
                                          gint64           end,
                                          const char      *tier,
                                          const char      *label) G_GNUC_WARN_UNUSED_RESULT;

gint64       kp_region_get_start         (KpRegion        *self);
void         kp_region_set_start         (KpRegion        *self,
                                          gint64           start);
gint64       kp_region_get_end           (KpRegion        *self);
void         kp_region_set_end           (KpRegion        *self,
                                          gint64           end);
/* Sets both at once (one "changed"); start ≤ end is required. */
void         kp_region_set_bounds        (KpRegion        *self,
                                          gint64           start,
                                          gint64           end);
const char  *kp_region_get_tier          (KpRegion        *self);
void         kp_region_set_tier          (KpRegion        *self,
                                          const char      *tier);
const char  *kp_region_get_label         (KpRegion        *self);
void         kp_region_set_label         (KpRegion        *self,
                                          const char      *label);
const char  *kp_region_get_transcript    (KpRegion        *self);
void         kp_region_set_transcript    (KpRegion        *self,
                                          const char      *transcript);
const char  *kp_region_get_attribute     (KpRegion        *self,
                                          const char      *key);
/* value NULL removes the attribute. */
void         kp_region_set_attribute     (KpRegion        *self,
                                          const char      *key,
                                          const char      *value);
/* The attribute keys, sorted. */
GStrv        kp_region_dup_attribute_keys (KpRegion       *self) G_GNUC_WARN_UNUSED_RESULT;

KpRegions   *kp_regions_new              (guint            sample_rate) G_GNUC_WARN_UNUSED_RESULT;

guint        kp_regions_get_sample_rate  (KpRegions       *self);
/* Changes the rate and rescales every region to keep its times. */
void         kp_regions_set_sample_rate  (KpRegions       *self,
                                          guint            sample_rate);

/* The tiers in display order: those added, then those regions brought. */
guint        kp_regions_get_n_tiers      (KpRegions       *self);
const char  *kp_regions_get_tier         (KpRegions       *self,
                                          guint            index);
/* Adds tier if missing; returns its index. */
guint        kp_regions_add_tier         (KpRegions       *self,
                                          const char      *tier);
/* The index of tier, or -1. */
int          kp_regions_find_tier        (KpRegions       *self,
                                          const char      *tier);

/* Adds a reference; a region belongs to one KpRegions at a time. Returns
 * its position. */
guint        kp_regions_add              (KpRegions       *self,
                                          KpRegion        *region);
void         kp_regions_remove           (KpRegions       *self,
                                          KpRegion        *region);
void         kp_regions_remove_all       (KpRegions       *self);
/* Borrowed, or NULL past the end. */
KpRegion    *kp_regions_get_region       (KpRegions       *self,
                                          guint            position);
/* Position of region, or -1. */
int          kp_regions_index_of         (KpRegions       *self,
                                          KpRegion        *region);

gboolean     kp_regions_format_from_path (const char      *path,
                                          KpRegionsFormat *format);
/* Appends the regions in data (UTF-8, or UTF-16 with a BOM for TextGrid).
 * On error nothing is added. */
gboolean     kp_regions_load_data        (KpRegions       *self,
                                          KpRegionsFormat  format,
                                          const char      *data,
                                          gsize            length,
                                          GError         **error);
/* The regions as text. file_id names the recording in RTTM (NULL: "audio"). */
char        *kp_regions_to_data          (KpRegions       *self,
                                          KpRegionsFormat  format,
                                          const char      *file_id) G_GNUC_WARN_UNUSED_RESULT;
/* The format comes from the file name's extension (.json, .csv, .txt for
 * Audacity, .TextGrid, .vtt, .srt, .rttm). Saving is atomic, so JSON saves
 * double as the regions' persistence next to a project. */
gboolean     kp_regions_load_file        (KpRegions       *self,
                                          const char      *path,
                                          GError         **error);
gboolean     kp_regions_save_file        (KpRegions       *self,
                                          const char      *path,
                                          GError         **error);

G_END_DECLS
