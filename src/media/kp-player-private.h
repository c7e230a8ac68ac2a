/* kp-player-private.h: KpPlayer internals for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gst/gst.h>

#include "kp-player.h"

G_BEGIN_DECLS

/* The playbin, or NULL before a file was set (borrowed). */
GstElement *_kp_player_get_pipeline (KpPlayer *self);

G_END_DECLS
