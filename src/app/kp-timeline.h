/* kp-timeline.h: a video's frames, its tracks and their keyframes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "kp-core.h"
#include "kp-video.h"

G_BEGIN_DECLS

#define KP_TYPE_TIMELINE (kp_timeline_get_type ())
G_DECLARE_FINAL_TYPE (KpTimeline, kp_timeline, KP, TIMELINE, GtkWidget)

/* Properties (all G_PARAM_EXPLICIT_NOTIFY):
 *   "source"         KpVideoSource*  gives the frame count and timestamps
 *   "tracks"         KpTracks*       one row per track, keyframes as diamonds
 *   "frame"          gint64          the playhead
 *   "playing"        boolean         plays at real time from the playhead
 *   "selected-track" guint           the track K adds keyframes to (0: the first)
 *
 * A ruler shows frame numbers and times (from the frames' timestamps); a
 * click or drag anywhere seeks to the frame under the pointer.
 *
 * Widget actions and keys:
 *   timeline.next-frame (Right), timeline.previous-frame (Left)
 *   timeline.forward (Shift+Right: +10), timeline.back (Shift+Left: -10)
 *   timeline.first-frame (Home), timeline.last-frame (End)
 *   timeline.play-pause (space)
 *   timeline.add-keyframe (k): makes the selected track's shape at the
 *     playhead a keyframe */
GtkWidget     *kp_timeline_new                (void);

KpVideoSource *kp_timeline_get_source         (KpTimeline    *self);
void           kp_timeline_set_source         (KpTimeline    *self,
                                               KpVideoSource *source);
KpTracks      *kp_timeline_get_tracks         (KpTimeline    *self);
void           kp_timeline_set_tracks         (KpTimeline    *self,
                                               KpTracks      *tracks);
gint64         kp_timeline_get_frame          (KpTimeline    *self);
void           kp_timeline_set_frame          (KpTimeline    *self,
                                               gint64         frame);
gint64         kp_timeline_get_n_frames       (KpTimeline    *self);
gboolean       kp_timeline_get_playing        (KpTimeline    *self);
void           kp_timeline_set_playing        (KpTimeline    *self,
                                               gboolean       playing);
guint          kp_timeline_get_selected_track (KpTimeline    *self);
void           kp_timeline_set_selected_track (KpTimeline    *self,
                                               guint          id);
/* The frame under widget x, for the current width. */
gint64         kp_timeline_frame_at_x         (KpTimeline    *self,
                                               double         x);
double         kp_timeline_x_for_frame        (KpTimeline    *self,
                                               gint64         frame);

G_END_DECLS
