/* kp-hits-private.h: what kp-mturk-hits.c shares with
 * kp-mturk-assignments.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "kp-hits.h"

G_BEGIN_DECLS

/* KpPage with automatic clearing (g_auto (KpHitsPage)). */
typedef KpPage KpHitsPage;
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (KpHitsPage, kp_page_clear)

/* Adds the HIT hit_id as the member name ("HIT") of the open object in
 * builder, as GetHIT answers it. requester_id (may be NULL for no check)
 * must own it, else KP_API_ERROR_REQUEST HITDoesNotExist. */
gboolean _kp_hits_add_hit_member (KpCtx       *ctx,
                                  JsonBuilder *builder,
                                  const char  *name,
                                  const char  *hit_id,
                                  const char  *requester_id,
                                  GError     **error);

/* Fails with MTurk's "does not exist" error for a HIT id. */
gboolean _kp_hits_fail_no_hit   (KpCtx       *ctx,
                                 const char  *hit_id,
                                 GError     **error);

/* Serves GET /files/<token> (kp-mturk-assignments.c): the file a worker
 * uploaded, for the URL GetFileUploadURL handed out, while it is valid
 * (60 s). Only reads the store. Sets status, Content-Type and body on
 * msg. Errors: KP_API_ERROR_NOT_FOUND (unknown or forged token, file
 * missing), KP_API_ERROR_GONE (expired). */
gboolean kp_hits_serve_upload (KpCtx              *ctx,
                               SoupServerMessage  *msg,
                               const char         *token,
                               GError            **error);

G_END_DECLS
