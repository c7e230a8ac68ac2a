/* kp-worker-api.h: the worker API under /worker/v1/ (kp-worker-api.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * JSON over HTTP for the workstation; documented for client authors in
 * docs/worker-api.md. kp-server.c authenticates the bearer token, opens the
 * request's savepoint, and calls kp_worker_api_handle() with ctx->worker_id
 * set; it sends the response after the group commit.
 */

#pragma once

#include <libsoup/soup.h>

#include "kp-api.h"

G_BEGIN_DECLS

/* path is the part after "/worker/v1" (starting with "/"). Sets the
 * response on msg (status, headers, body) or returns FALSE with a
 * KP_API_ERROR that the server turns into {"error": …, "message": …}. */
gboolean kp_worker_api_handle (KpCtx              *ctx,
                               SoupServerMessage  *msg,
                               const char         *path,
                               GError            **error);

/* GET or HEAD /worker/v1/media/{hash} for a requester (ctx->requester_id,
 * authenticated by SigV4 instead of a bearer token), so that the review
 * desk can show the media of its HITs. Since session 5. */
gboolean kp_worker_api_handle_media (KpCtx              *ctx,
                                     SoupServerMessage  *msg,
                                     const char         *hash,
                                     GError            **error);

/* Paths that need no bearer token (e.g. "/media/…" is still authenticated;
 * nothing is public today). */

/* Imports bytes into the media store: writes DATA_DIR/media/ab/<sha256>
 * durably (fsync'd, then renamed into place) and records it in the media
 * table (ctx->db, ctx->data_dir and ctx->now are used; inside or outside a
 * transaction). Storing the same content again changes nothing. *hash
 * (optional) gets the lower-case hex SHA-256, which is the media's id in
 * GET /worker/v1/media/{sha256}. content_type is e.g. "image/jpeg". */
gboolean kp_worker_api_store_media      (KpCtx       *ctx,
                                         GBytes      *bytes,
                                         const char  *content_type,
                                         char       **hash,
                                         GError     **error);
/* The same for a file; content_type NULL guesses it from the name and
 * content (GIO). */
gboolean kp_worker_api_store_media_file (KpCtx       *ctx,
                                         const char  *path,
                                         const char  *content_type,
                                         char       **hash,
                                         GError     **error);

G_END_DECLS
