/* kp-video.h: frame-exact access to a video file (GStreamer; no GTK)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Opening a KpVideoSource demuxes and parses the file once, without
 * decoding, and records the timestamp and keyframe flag of every frame. A
 * frame number is the index of a frame in that list sorted by presentation
 * time, never time × frame rate, so variable frame rate files and files
 * whose first timestamp is not zero number their frames correctly.
 *
 * Frames are decoded by one decoder thread per source: to reach frame N it
 * seeks to the keyframe at or before N and decodes forward until the frame
 * whose timestamp is exactly N's; then, while nobody asks for anything else,
 * it decodes ahead. Decoded frames stay in an LRU cache capped in bytes, in
 * the decoder's own format, and are converted to RGBA when handed out.
 *
 * The UI calls kp_video_source_get_frame_async (never blocks), or
 * kp_video_source_peek_frame to show a frame that is already decoded.
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define KP_VIDEO_ERROR (kp_video_error_quark ())

typedef enum
{
  KP_VIDEO_ERROR_FAILED,
  KP_VIDEO_ERROR_MISSING_PLUGIN, /* a GStreamer element or decoder is not installed */
  KP_VIDEO_ERROR_UNSUPPORTED,    /* no video stream, or a format nothing can read */
  KP_VIDEO_ERROR_CORRUPT,        /* truncated or damaged file */
  KP_VIDEO_ERROR_OUT_OF_RANGE,   /* no such frame */
} KpVideoError;

/* The default cap of the decoded-frame cache, in bytes. */
#define KP_VIDEO_DEFAULT_CACHE_LIMIT (384 * 1024 * 1024)

#define KP_TYPE_VIDEO_FRAME (kp_video_frame_get_type ())

/* A decoded frame as 8-bit RGBA (not premultiplied; alpha is 255), rows of
 * stride bytes. Immutable and reference counted. */
typedef struct _KpVideoFrame KpVideoFrame;

GType          kp_video_frame_get_type          (void) G_GNUC_CONST;
KpVideoFrame  *kp_video_frame_ref               (KpVideoFrame *frame);
void           kp_video_frame_unref             (KpVideoFrame *frame);
gint64         kp_video_frame_get_number        (KpVideoFrame *frame);
/* Presentation timestamp in nanoseconds, as in the file. */
gint64         kp_video_frame_get_pts           (KpVideoFrame *frame);
int            kp_video_frame_get_width         (KpVideoFrame *frame);
int            kp_video_frame_get_height        (KpVideoFrame *frame);
gsize          kp_video_frame_get_stride        (KpVideoFrame *frame);
GBytes        *kp_video_frame_get_bytes         (KpVideoFrame *frame);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpVideoFrame, kp_video_frame_unref)

#define KP_TYPE_VIDEO_SOURCE (kp_video_source_get_type ())

G_DECLARE_FINAL_TYPE (KpVideoSource, kp_video_source, KP, VIDEO_SOURCE, GObject)

GQuark         kp_video_error_quark             (void);

/* Builds the frame index (reads the whole file, without decoding) and
 * checks that a decoder is installed. The sync version blocks. */
KpVideoSource *kp_video_source_open             (GFile                *file,
                                                 GCancellable         *cancellable,
                                                 GError              **error) G_GNUC_WARN_UNUSED_RESULT;
void           kp_video_source_open_async       (GFile                *file,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
KpVideoSource *kp_video_source_open_finish      (GAsyncResult         *result,
                                                 GError              **error) G_GNUC_WARN_UNUSED_RESULT;

GFile         *kp_video_source_get_file         (KpVideoSource        *self);
gint64         kp_video_source_get_n_frames     (KpVideoSource        *self);
int            kp_video_source_get_width        (KpVideoSource        *self);
int            kp_video_source_get_height       (KpVideoSource        *self);
/* From the first frame's timestamp to the end of the last frame, in ns. */
gint64         kp_video_source_get_duration     (KpVideoSource        *self);
/* The average frame rate (frames per second), for display only. */
double         kp_video_source_get_frame_rate   (KpVideoSource        *self);
/* A human-readable codec name such as "H.264 (High Profile)". */
const char    *kp_video_source_get_codec        (KpVideoSource        *self);

/* The frame index. Timestamps are in nanoseconds. */
gint64         kp_video_source_get_frame_pts    (KpVideoSource        *self,
                                                 gint64                frame);
/* How long frame is shown: up to the next frame's timestamp. */
gint64         kp_video_source_get_frame_duration (KpVideoSource      *self,
                                                   gint64              frame);
gboolean       kp_video_source_is_keyframe      (KpVideoSource        *self,
                                                 gint64                frame);
/* The frame shown at time pts: the last frame whose timestamp is ≤ pts
 * (0 before the first frame, the last frame after the end). */
gint64         kp_video_source_get_frame_at     (KpVideoSource        *self,
                                                 gint64                pts);
gint64         kp_video_source_get_keyframe_before (KpVideoSource     *self,
                                                    gint64             frame);

/* Frames. */
KpVideoFrame  *kp_video_source_peek_frame       (KpVideoSource        *self,
                                                 gint64                frame) G_GNUC_WARN_UNUSED_RESULT;
KpVideoFrame  *kp_video_source_get_frame        (KpVideoSource        *self,
                                                 gint64                frame,
                                                 GCancellable         *cancellable,
                                                 GError              **error) G_GNUC_WARN_UNUSED_RESULT;
void           kp_video_source_get_frame_async  (KpVideoSource        *self,
                                                 gint64                frame,
                                                 GCancellable         *cancellable,
                                                 GAsyncReadyCallback   callback,
                                                 gpointer              user_data);
KpVideoFrame  *kp_video_source_get_frame_finish (KpVideoSource        *self,
                                                 GAsyncResult         *result,
                                                 GError              **error) G_GNUC_WARN_UNUSED_RESULT;

/* The cache. */
gsize          kp_video_source_get_cache_limit  (KpVideoSource        *self);
void           kp_video_source_set_cache_limit  (KpVideoSource        *self,
                                                 gsize                 limit);
gsize          kp_video_source_get_cache_size   (KpVideoSource        *self);
/* How many frames the decoder decodes ahead when idle (default 30). */
void           kp_video_source_set_decode_ahead (KpVideoSource        *self,
                                                 guint                 n_frames);
/* Statistics, for tests and benchmarks: frames decoded and seeks made. */
void           kp_video_source_get_stats        (KpVideoSource        *self,
                                                 guint64              *n_decoded,
                                                 guint64              *n_seeks);

G_END_DECLS
