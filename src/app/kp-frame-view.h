/* kp-frame-view.h: one video frame and the tracks' shapes on it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "kp-core.h"
#include "kp-video.h"

G_BEGIN_DECLS

#define KP_TYPE_FRAME_VIEW (kp_frame_view_get_type ())
G_DECLARE_FINAL_TYPE (KpFrameView, kp_frame_view, KP, FRAME_VIEW, GtkWidget)

/* Properties (all G_PARAM_EXPLICIT_NOTIFY):
 *   "source"          KpVideoSource*  the video, or NULL
 *   "tracks"          KpTracks*       the annotations, or NULL
 *   "frame"           gint64          the frame to show
 *   "displayed-frame" gint64          (read-only) the frame on screen, -1 for none:
 *                                     it follows "frame" once that is decoded
 *   "selected-track"  guint           id of the selected track, 0 for none
 *   "new-label"       char*           label of tracks made by dragging on empty space
 *
 * The frame is fitted into the widget. Frames are decoded off the UI
 * thread; while one is decoding the previous stays on screen, and frames
 * asked for meanwhile are skipped (only the latest is decoded next), so
 * playback drops frames instead of falling behind.
 *
 * Input: drag inside a box moves it, drag its bottom-right corner resizes
 * it, drag on empty space makes a new box track; each edit sets a keyframe
 * at the current frame and selects the track. A click selects. With
 * "new shape" polygon or points, clicks on empty space add points and
 * Enter (frame.finish-shape) makes the track; Escape (frame.cancel-shape)
 * drops them. Dragging a polygon or points track moves all its points;
 * dragging one of the selected track's points moves that point alone. */
GtkWidget     *kp_frame_view_new                 (void);

KpVideoSource *kp_frame_view_get_source          (KpFrameView   *self);
void           kp_frame_view_set_source          (KpFrameView   *self,
                                                  KpVideoSource *source);
KpTracks      *kp_frame_view_get_tracks          (KpFrameView   *self);
void           kp_frame_view_set_tracks          (KpFrameView   *self,
                                                  KpTracks      *tracks);
gint64         kp_frame_view_get_frame           (KpFrameView   *self);
void           kp_frame_view_set_frame           (KpFrameView   *self,
                                                  gint64         frame);
gint64         kp_frame_view_get_displayed_frame (KpFrameView   *self);
GdkTexture    *kp_frame_view_get_texture         (KpFrameView   *self);
guint          kp_frame_view_get_selected_track  (KpFrameView   *self);
void           kp_frame_view_set_selected_track  (KpFrameView   *self,
                                                  guint          id);
const char    *kp_frame_view_get_new_label       (KpFrameView   *self);
void           kp_frame_view_set_new_label       (KpFrameView   *self,
                                                  const char    *label);

/* The kind of track clicks on empty space make (default: boxes, by drag). */
KpTrackShapeType kp_frame_view_get_new_shape     (KpFrameView   *self);
void           kp_frame_view_set_new_shape       (KpFrameView      *self,
                                                  KpTrackShapeType  shape);
/* Points clicked so far for the polygon or points being made. */
guint          kp_frame_view_get_n_pending_points (KpFrameView  *self);
/* Makes a track of the pending points (3 or more for a polygon, 1 or
 * more for points) with a keyframe at the current frame; FALSE if too few. */
gboolean       kp_frame_view_finish_shape        (KpFrameView   *self);

/* Zoom, relative to the frame fitted into the widget (1 to 32): factor > 1
 * zooms in keeping the video point under (x, y) (widget coordinates)
 * where it is. Keys: plus / minus, Ctrl+0 fits; Ctrl+wheel zooms at the
 * pointer, the wheel and a middle-button drag scroll a zoomed frame. */
double         kp_frame_view_get_zoom            (KpFrameView   *self);
void           kp_frame_view_zoom_at             (KpFrameView   *self,
                                                  double         factor,
                                                  double         x,
                                                  double         y);
void           kp_frame_view_zoom_fit            (KpFrameView   *self);

/* Coordinates: widget pixels <-> video pixels, for the current size. */
void           kp_frame_view_widget_to_video     (KpFrameView   *self,
                                                  double         wx,
                                                  double         wy,
                                                  double        *vx,
                                                  double        *vy);
void           kp_frame_view_video_to_widget     (KpFrameView   *self,
                                                  double         vx,
                                                  double         vy,
                                                  double        *wx,
                                                  double        *wy);

/* The drag gesture's steps, in widget coordinates (what the gesture
 * calls; tests drive edits through these without a pointer). */
void           kp_frame_view_drag_begin          (KpFrameView   *self,
                                                  double         x,
                                                  double         y);
void           kp_frame_view_drag_update         (KpFrameView   *self,
                                                  double         dx,
                                                  double         dy);
void           kp_frame_view_drag_end            (KpFrameView   *self,
                                                  double         dx,
                                                  double         dy);

G_END_DECLS
