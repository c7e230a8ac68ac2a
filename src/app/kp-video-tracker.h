/* kp-video-tracker.h: the kp-video-tracker layout element
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

#include "kp-core.h"

G_BEGIN_DECLS

#define KP_TYPE_VIDEO_TRACKER (kp_video_tracker_get_type ())
G_DECLARE_FINAL_TYPE (KpVideoTracker, kp_video_tracker, KP, VIDEO_TRACKER, GtkWidget)

/* The worker's widget for <kp-video-tracker name src labels header>: a
 * header, the frame of src with the tracks' boxes (drag on empty space to
 * make a track labelled with the chosen label, drag a box to move it,
 * its corner to resize it: each edit is a keyframe), a timeline (Left /
 * Right or , and . step one frame, k makes a keyframe) and a label chooser.
 *
 * src is resolved as the template wrote it: an absolute URI, or a path
 * relative to base (NULL: the current directory). labels is the labels
 * attribute already split (NULL or empty: one unnamed label); header may
 * be NULL. The video is opened off the UI thread; a file that cannot be
 * read shows its error in the widget (and kp_video_tracker_get_error ()).
 * Remote media (not a local file) is fetched only once the person clicks
 * the widget's Load button: building a layout never touches the network.
 *
 * Signal "changed": the tracks changed (or kp_video_tracker_set_value ()).
 *
 * Value, as src/core/kp-layout-answer.c answer_tracks () takes it:
 *   {"tracks": [{"id": 1, "label": "car",
 *                "frames": [{"frame": 0, "left": 10, "top": 20,
 *                            "width": 30, "height": 40}, …]}, …]}
 * every frame (numbered from 0) where the track is in view, from its first
 * keyframe on, interpolated boxes rounded to whole pixels; tracks by id,
 * frames ascending. Before the video is open the frames run to the last
 * keyframe. */
GtkWidget    *kp_video_tracker_new        (const char          *src,
                                           GFile               *base,
                                           const char * const  *labels,
                                           const char          *header);

/* A new JSON node as described above. */
JsonNode     *kp_video_tracker_dup_value  (KpVideoTracker      *self) G_GNUC_WARN_UNUSED_RESULT;
/* Replaces the tracks with those of value (a draft; NULL clears them).
 * Accepts the value's shape or the bare array of tracks. Frames whose box
 * the neighbouring frames interpolate to are not kept as keyframes, and a
 * gap in a track's frames becomes an outside keyframe. Returns FALSE (and
 * changes nothing) when value is not of that shape. */
gboolean      kp_video_tracker_set_value  (KpVideoTracker      *self,
                                           JsonNode            *value);
const GError *kp_video_tracker_get_error  (KpVideoTracker      *self);
/* Borrowed, for tests and the layout view. */
KpTracks     *kp_video_tracker_get_tracks (KpVideoTracker      *self);
GtkWidget    *kp_video_tracker_get_frame_view (KpVideoTracker  *self);
GtkWidget    *kp_video_tracker_get_timeline   (KpVideoTracker  *self);

G_END_DECLS
