/* kp-waveform.h: an audio waveform with a time ruler, playhead and regions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "kp-core.h"
#include "kp-peaks.h"
#include "kp-player.h"
#include "kp-spectrogram.h"

G_BEGIN_DECLS

#define KP_TYPE_WAVEFORM (kp_waveform_get_type ())
G_DECLARE_FINAL_TYPE (KpWaveform, kp_waveform, KP, WAVEFORM, GtkWidget)

/* Properties (all G_PARAM_EXPLICIT_NOTIFY):
 *   "peaks"             KpPeaks*       what is drawn; may still be decoding
 *   "file"              GFile*         the audio file, read for sample-level zoom and snapping
 *   "regions"           KpRegions*     the regions drawn on tier lanes and edited here
 *   "player"            KpPlayer*      followed by the playhead; seeks on click
 *   "spectrogram"       KpSpectrogram* drawn under the waveform when "show-spectrogram"
 *   "show-spectrogram"  boolean
 *   "view-start"        double         first sample at the left edge
 *   "samples-per-pixel" double         zoom (below 1: single samples are drawn)
 *   "selected-region"   KpRegion*      or NULL
 *   "current-tier"      string         tier of regions dragged out on the waveform
 *   "snap"              boolean        snap edited edges to zero crossings
 *   "follow-playhead"   boolean        page the view along while playing (default TRUE)
 *
 * Widget actions (keys bound in class_init):
 *   waveform.play-pause      (space)
 *   waveform.speed (i)       ([ slower, ] faster, through 0.25× … 4×; backslash: 1×)
 *   waveform.zoom-in / zoom-out (plus, equal / minus; Ctrl+wheel at the pointer)
 *   waveform.zoom-all        (Ctrl+0)
 *   region.next / region.previous (Tab / Shift+Tab)
 *   region.nudge-start (i)   (Left / Right move the start edge, by one pixel;
 *                             without a selection they scroll)
 *   region.nudge-end (i)     (Shift+Left / Shift+Right move the end edge)
 *   region.label (i)         (1–9: the n-th label of "labels")
 *   region.tier (i)          (Up / Down: move the selection to the tier above /
 *                             below; without one, change "current-tier")
 *   region.delete            (Delete, BackSpace)
 *   region.edit              (Enter: a popover to edit its label and transcript)
 *   region.loop              (l: loop the selected region, again to stop)
 *   region.select-none       (Escape)
 *   waveform.toggle-spectrogram (s)
 *
 * KpWaveform is a GtkScrollable: in a GtkScrolledWindow its horizontal
 * adjustment spans the whole file, in pixels at the current zoom.
 *
 * Input: drag on the waveform or on a tier lane creates a region there;
 * drag a region's edge (on its lane, or the selected region's anywhere) to
 * resize, its body (on its lane) to move it; click seeks the player; wheel
 * scrolls. The drawing cost is one rectangle per pixel column from the
 * peaks pyramid whatever the file's length. */
GtkWidget     *kp_waveform_new                 (void);

KpPeaks       *kp_waveform_get_peaks           (KpWaveform    *self);
void           kp_waveform_set_peaks           (KpWaveform    *self,
                                                KpPeaks       *peaks);
GFile         *kp_waveform_get_file            (KpWaveform    *self);
void           kp_waveform_set_file            (KpWaveform    *self,
                                                GFile         *file);
KpRegions     *kp_waveform_get_regions         (KpWaveform    *self);
void           kp_waveform_set_regions         (KpWaveform    *self,
                                                KpRegions     *regions);
KpPlayer      *kp_waveform_get_player          (KpWaveform    *self);
void           kp_waveform_set_player          (KpWaveform    *self,
                                                KpPlayer      *player);
KpSpectrogram *kp_waveform_get_spectrogram     (KpWaveform    *self);
void           kp_waveform_set_spectrogram     (KpWaveform    *self,
                                                KpSpectrogram *spectrogram);
gboolean       kp_waveform_get_show_spectrogram (KpWaveform   *self);
void           kp_waveform_set_show_spectrogram (KpWaveform   *self,
                                                gboolean       show);

double         kp_waveform_get_view_start      (KpWaveform    *self);
double         kp_waveform_get_samples_per_pixel (KpWaveform  *self);
/* Clamped to the file. */
void           kp_waveform_set_view            (KpWaveform    *self,
                                                double         view_start,
                                                double         samples_per_pixel);
void           kp_waveform_zoom_all            (KpWaveform    *self);
/* factor > 1 zooms in, keeping the sample under x (widget coordinates). */
void           kp_waveform_zoom_at             (KpWaveform    *self,
                                                double         factor,
                                                double         x);
double         kp_waveform_sample_at_x         (KpWaveform    *self,
                                                double         x);
double         kp_waveform_x_for_sample        (KpWaveform    *self,
                                                double         sample);

KpRegion      *kp_waveform_get_selected_region (KpWaveform    *self);
void           kp_waveform_set_selected_region (KpWaveform    *self,
                                                KpRegion      *region);
const char    *kp_waveform_get_current_tier    (KpWaveform    *self);
void           kp_waveform_set_current_tier    (KpWaveform    *self,
                                                const char    *tier);
/* The labels keys 1–9 give; copied. */
void           kp_waveform_set_labels          (KpWaveform    *self,
                                                const char * const *labels);
gboolean       kp_waveform_get_snap            (KpWaveform    *self);
void           kp_waveform_set_snap            (KpWaveform    *self,
                                                gboolean       snap);
gboolean       kp_waveform_get_follow_playhead (KpWaveform    *self);
void           kp_waveform_set_follow_playhead (KpWaveform    *self,
                                                gboolean       follow);

G_END_DECLS
