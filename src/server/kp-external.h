/* kp-external.h: /mturk/externalSubmit, where ExternalQuestion and
 * HTMLQuestion pages post their forms
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <libsoup/soup.h>

#include "kp-api.h"
#include "kp-server.h"

G_BEGIN_DECLS

/* The path, as MTurk's turkSubmitTo + "/mturk/externalSubmit". */
#define KP_EXTERNAL_SUBMIT_PATH "/mturk/externalSubmit"

/* Handles a form posted to KP_EXTERNAL_SUBMIT_PATH (GET query, or a POST
 * body of application/x-www-form-urlencoded or multipart/form-data): the
 * field assignmentId names an Accepted assignment, every other field
 * becomes one FreeText answer named after it (the values of a repeated
 * field joined with "|", as MTurk does), and the assignment is submitted
 * through kp_hits_submit(). On success msg gets a small HTML page.
 *
 * It runs inside the request's savepoint of the group commit, so its
 * signature is kp-server.c's group function's; server is unused and msg is
 * the SoupServerMessage. Errors are KP_API_ERROR: REQUEST (no
 * assignmentId, no other field, a preview's assignmentId, an answer the
 * question refuses), NOT_FOUND, CONFLICT (not Accepted) and GONE (time
 * ran out). */
gboolean kp_external_submit         (KpServer           *server,
                                     KpCtx              *ctx,
                                     gpointer            msg,
                                     GError            **error);

/* Answers msg with an HTML page explaining error, with the HTTP status
 * that matches its code. */
void     kp_external_respond_error  (SoupServerMessage  *msg,
                                     const GError       *error);

G_END_DECLS
