/* kp-waveform-private.h: KpWaveform internals for tests and benchmarks
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "kp-waveform.h"

G_BEGIN_DECLS

/* The pointer handlers the gestures call, in widget coordinates, so tests
 * drive drags without synthesizing events. */
void     _kp_waveform_pointer_press    (KpWaveform  *self,
                                        double       x,
                                        double       y);
void     _kp_waveform_pointer_motion   (KpWaveform  *self,
                                        double       x,
                                        double       y);
void     _kp_waveform_pointer_release  (KpWaveform  *self,
                                        double       x,
                                        double       y);
/* The y in the middle of tier lane index (as the widget is sized now). */
double   _kp_waveform_lane_y           (KpWaveform  *self,
                                        guint        index);
/* The y in the middle of the waveform band. */
double   _kp_waveform_wave_y           (KpWaveform  *self);
/* Mono samples read for sample-level zoom: start, count (0 if none). */
gint64   _kp_waveform_get_samples      (KpWaveform  *self,
                                        const float **samples,
                                        guint       *n_samples);
/* Replaces those samples (benchmarks, without a file). */
void     _kp_waveform_set_samples      (KpWaveform  *self,
                                        gint64       start,
                                        const float *samples,
                                        guint        n_samples);
/* Whether an edit is under way: a drag, or a snap still to land. Pages
 * record an undo step only once it is over. */
gboolean _kp_waveform_is_editing       (KpWaveform  *self);
/* Snaps still in flight (zero-crossing reads). */
guint    _kp_waveform_get_pending_snaps (KpWaveform *self);
/* The spectrogram of the view's stretch, computed when zoomed in on a long
 * file; NULL if none (yet). */
KpSpectrogram *_kp_waveform_get_detail_spectrogram (KpWaveform *self);
/* The region editor popover and its entries, NULL until first used. */
GtkWidget *_kp_waveform_get_editor (KpWaveform  *self,
                                    GtkWidget  **label_entry,
                                    GtkWidget  **transcript_entry);
/* Draws into snapshot as the frame would, at width × height. */
void     _kp_waveform_snapshot_at      (KpWaveform  *self,
                                        GtkSnapshot *snapshot,
                                        int          width,
                                        int          height);

G_END_DECLS
