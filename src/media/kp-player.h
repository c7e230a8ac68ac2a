/* kp-player.h: audio playback through GStreamer (play, seek, loop, speed)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A playbin that plays only audio, with scaletempo as its audio filter so
 * that speeds from 0.25× to 4× keep the pitch. A loop plays a stretch over
 * and over with segment seeks, so it has no gap. Positions are nanoseconds
 * of the file; a playhead asks kp_player_get_position () once per frame.
 * Errors (a missing plugin, a damaged file) arrive through "error" with a
 * KP_PEAKS_ERROR that names what is missing.
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define KP_PLAYER_MIN_RATE 0.25
#define KP_PLAYER_MAX_RATE 4.0

#define KP_TYPE_PLAYER (kp_player_get_type ())

G_DECLARE_FINAL_TYPE (KpPlayer, kp_player, KP, PLAYER, GObject)

/* sink_name: the audio sink's factory, NULL for autoaudiosink (tests pass
 * "fakesink", which is then run in sync with the clock), or a chain ending
 * in one ("spectrum ! fakesink sync=true"). */
KpPlayer   *kp_player_new           (const char  *sink_name) G_GNUC_WARN_UNUSED_RESULT;

/* Opens file and prerolls it, paused at 0. Fails at once when an element
 * is missing; decoding problems come later through "error". */
gboolean    kp_player_set_file      (KpPlayer    *self,
                                     GFile       *file,
                                     GError     **error);
GFile      *kp_player_get_file      (KpPlayer    *self);

void        kp_player_play          (KpPlayer    *self);
void        kp_player_pause         (KpPlayer    *self);
void        kp_player_toggle        (KpPlayer    *self);
gboolean    kp_player_get_playing   (KpPlayer    *self);

/* Accurate seek; before the file has prerolled it waits for it. Inside a
 * loop a position outside the loop ends the loop. */
void        kp_player_seek          (KpPlayer    *self,
                                     gint64       position_ns);
/* The position now, in ns (the last asked for while a seek is pending);
 * -1 without a file. */
gint64      kp_player_get_position  (KpPlayer    *self);
/* -1 until known. */
gint64      kp_player_get_duration  (KpPlayer    *self);

/* Clamped to KP_PLAYER_MIN_RATE..KP_PLAYER_MAX_RATE. */
void        kp_player_set_rate      (KpPlayer    *self,
                                     double       rate);
double      kp_player_get_rate      (KpPlayer    *self);

/* Plays [start_ns, end_ns) over and over (from start_ns if the position is
 * outside); end_ns ≤ start_ns clears the loop. */
void        kp_player_set_loop      (KpPlayer    *self,
                                     gint64       start_ns,
                                     gint64       end_ns);
void        kp_player_clear_loop    (KpPlayer    *self);
gboolean    kp_player_get_looping   (KpPlayer    *self);
/* How many times the loop has wrapped around since it was set. */
guint       kp_player_get_n_loops   (KpPlayer    *self);

G_END_DECLS
