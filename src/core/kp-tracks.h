/* kp-tracks.h: video annotation tracks with keyframes, and their exporters
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A KpTracks holds the tracks of one video (a GListModel of KpTrack). A
 * track has an identity (an id unique in its KpTracks), a label and one
 * kind of shape (box, polygon or points). Its shapes are given at
 * keyframes; between two keyframes every coordinate is interpolated
 * linearly, and after the last keyframe the shape stays as it is until a
 * keyframe marks it outside (out of view). Per-frame attributes keep their
 * value from the frame they are set on until they are set again.
 *
 * Frames are numbers (as KpVideoSource counts them), never times.
 * Coordinates are in video pixels: a box is x1 y1 x2 y2; polygons and
 * points are x y pairs.
 *
 * Tracks are saved as JSON in a file beside the video
 * (kp_tracks_dup_sidecar_path), written atomically.
 */

#pragma once

#if !defined(KP_CORE_INSIDE) && !defined(KP_CORE_COMPILATION)
# error "Only <kp-core.h> can be included directly."
#endif

#include <gio/gio.h>

G_BEGIN_DECLS

#define KP_TRACKS_ERROR (kp_tracks_error_quark ())

typedef enum
{
  KP_TRACKS_ERROR_FAILED,
  KP_TRACKS_ERROR_INVALID, /* malformed JSON or values out of range */
} KpTracksError;

typedef enum
{
  KP_TRACK_SHAPE_BOX,
  KP_TRACK_SHAPE_POLYGON,
  KP_TRACK_SHAPE_POINTS,
} KpTrackShapeType;

/* The shape of a track at one frame. */
typedef struct
{
  gint64   frame;
  gboolean keyframe;  /* given, not interpolated */
  gboolean outside;   /* not in view from this frame on */
  gboolean occluded;
  guint    n_coords;  /* doubles in coords: 4 for a box, 2 per vertex */
  double  *coords;
} KpTrackShape;

#define KP_TYPE_TRACK_SHAPE (kp_track_shape_get_type ())

GType         kp_track_shape_get_type (void) G_GNUC_CONST;
KpTrackShape *kp_track_shape_new      (gint64              frame,
                                       const double       *coords,
                                       guint               n_coords) G_GNUC_WARN_UNUSED_RESULT;
KpTrackShape *kp_track_shape_copy     (const KpTrackShape *shape) G_GNUC_WARN_UNUSED_RESULT;
void          kp_track_shape_free     (KpTrackShape       *shape);
/* The bounds of the shape: x, y, width, height. */
void          kp_track_shape_get_bounds (const KpTrackShape *shape,
                                         double             *x,
                                         double             *y,
                                         double             *width,
                                         double             *height);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpTrackShape, kp_track_shape_free)

#define KP_TYPE_TRACK (kp_track_get_type ())

G_DECLARE_FINAL_TYPE (KpTrack, kp_track, KP, TRACK, GObject)

guint             kp_track_get_id            (KpTrack          *self);
const char       *kp_track_get_label         (KpTrack          *self);
void              kp_track_set_label         (KpTrack          *self,
                                              const char       *label);
KpTrackShapeType  kp_track_get_shape_type    (KpTrack          *self);

/* Keyframes. set_keyframe replaces any keyframe at shape->frame; the
 * number of coordinates must fit the track's shape type. */
gboolean          kp_track_set_keyframe      (KpTrack             *self,
                                              const KpTrackShape  *shape,
                                              GError             **error);
gboolean          kp_track_remove_keyframe   (KpTrack          *self,
                                              gint64            frame);
guint             kp_track_get_n_keyframes   (KpTrack          *self);
/* The keyframe frames, sorted (n_keyframes of them). */
const gint64     *kp_track_get_keyframes     (KpTrack          *self,
                                              guint            *n_keyframes);
gboolean          kp_track_is_keyframe       (KpTrack          *self,
                                              gint64            frame);
/* The shape at frame (interpolated between keyframes), or NULL before the
 * first keyframe. A shape with outside set is not in view. */
KpTrackShape     *kp_track_get_shape         (KpTrack          *self,
                                              gint64            frame) G_GNUC_WARN_UNUSED_RESULT;
/* Whether the track is in view at frame. */
gboolean          kp_track_is_visible        (KpTrack          *self,
                                              gint64            frame);
/* Copies the shape at frame into keyframes at the next n frames. */
void              kp_track_propagate         (KpTrack          *self,
                                              gint64            frame,
                                              guint             n);

/* Per-frame attributes: the value holds from frame until set again;
 * value NULL unsets it from frame on. */
void              kp_track_set_attribute     (KpTrack          *self,
                                              gint64            frame,
                                              const char       *name,
                                              const char       *value);
const char       *kp_track_get_attribute     (KpTrack          *self,
                                              gint64            frame,
                                              const char       *name);
/* The names of every attribute the track sets, sorted. */
GStrv             kp_track_dup_attribute_names (KpTrack        *self) G_GNUC_WARN_UNUSED_RESULT;

#define KP_TYPE_TRACKS (kp_tracks_get_type ())

G_DECLARE_FINAL_TYPE (KpTracks, kp_tracks, KP, TRACKS, GObject)

GQuark            kp_tracks_error_quark      (void);

/* n_frames, width and height describe the video (the exports need them);
 * video_name is how exports name it. */
KpTracks         *kp_tracks_new              (const char       *video_name,
                                              gint64            n_frames,
                                              int               width,
                                              int               height) G_GNUC_WARN_UNUSED_RESULT;
const char       *kp_tracks_get_video_name   (KpTracks         *self);
gint64            kp_tracks_get_n_frames     (KpTracks         *self);
int               kp_tracks_get_width        (KpTracks         *self);
int               kp_tracks_get_height       (KpTracks         *self);

/* Adds a track with a new id; the returned track is owned by self. */
KpTrack          *kp_tracks_add_track        (KpTracks         *self,
                                              const char       *label,
                                              KpTrackShapeType  shape_type);
gboolean          kp_tracks_remove_track     (KpTracks         *self,
                                              guint             id);
KpTrack          *kp_tracks_get_track        (KpTracks         *self,
                                              guint             id);
/* The labels the tracks use, in order of first use. */
GStrv             kp_tracks_dup_labels       (KpTracks         *self) G_GNUC_WARN_UNUSED_RESULT;

/* JSON and the file beside the video. */
char             *kp_tracks_to_json          (KpTracks         *self) G_GNUC_WARN_UNUSED_RESULT;
KpTracks         *kp_tracks_new_from_json    (const char       *json,
                                              gssize            length,
                                              GError          **error) G_GNUC_WARN_UNUSED_RESULT;
char             *kp_tracks_dup_sidecar_path (const char       *video_path) G_GNUC_WARN_UNUSED_RESULT;
gboolean          kp_tracks_save             (KpTracks         *self,
                                              const char       *path,
                                              GError          **error);
KpTracks         *kp_tracks_load             (const char       *path,
                                              GError          **error) G_GNUC_WARN_UNUSED_RESULT;

/* Exports, as text. MOT challenge: "frame,id,left,top,width,height,1,-1,-1,-1"
 * lines, frames from 1, boxes (the bounds of other shapes) in view.
 * CVAT video XML (CVAT for video 1.1): each track with a shape per frame
 * from its first keyframe, keyframe flags, and an outside shape where it
 * leaves the view. COCO: one image per frame named frame_NNNNNN.PNG, one
 * annotation per shape in view with "attributes" {track_id, keyframe,
 * occluded, …}. Ground Truth: the video object tracking label sequence
 * (SeqLabel.json: "tracking-annotations" per frame). */
char             *kp_tracks_export_mot       (KpTracks         *self) G_GNUC_WARN_UNUSED_RESULT;
char             *kp_tracks_export_cvat_xml  (KpTracks         *self) G_GNUC_WARN_UNUSED_RESULT;
char             *kp_tracks_export_coco      (KpTracks         *self) G_GNUC_WARN_UNUSED_RESULT;
char             *kp_tracks_export_ground_truth (KpTracks      *self) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
