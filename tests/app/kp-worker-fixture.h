/* kp-worker-fixture.h: a real kempelen-server with a requester, a worker
 * and HIT groups, for the worker window's tests and benchmark
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "kp-test-server.h"

G_BEGIN_DECLS

typedef struct
{
  char         *tmp_dir;     /* everything of the fixture lives below */
  char         *data_dir;    /* the server's */
  KpTestServer *server;
  guint         port;
  char         *access_key;
  char         *secret_key;
  char         *worker_id;
  char         *token;
} KpWorkerFixture;

/* Points the XDG folders at a fresh temporary folder (call before
 * anything reads them), creates the data directory, a requester with
 * money and a worker from Germany, and starts the server. */
KpWorkerFixture *kp_worker_fixture_new           (void);
/* Creates n HITs of one group: a QuestionForm with one required free
 * text question "q1", to be done within duration (kempelenctl's, e.g.
 * "30m"). With qualification (kempelenctl's
 * TYPEID:COMPARATOR[:VALUE]), the group requires it. With images (media
 * hashes), HIT i shows images[i % their number], from the server. */
void             kp_worker_fixture_create_group  (KpWorkerFixture    *fixture,
                                                  const char         *title,
                                                  guint               n,
                                                  const char         *duration,
                                                  const char         *qualification,
                                                  const char * const *images);
/* The same with layout_text as the layout (a crowd-html template, say):
 * "${media}" in it becomes the server's media URL, "${n}" the HIT's number
 * and "${image}" its image (of images, as above). */
void             kp_worker_fixture_create_layout_group (KpWorkerFixture    *fixture,
                                                        const char         *title,
                                                        guint               n,
                                                        const char * const *images,
                                                        const char         *layout_text);
/* Writes a PNG of width×height (its pixels depend on seed) and puts it
 * into the server's media store; returns its SHA-256. */
char            *kp_worker_fixture_add_image     (KpWorkerFixture    *fixture,
                                                  int                 width,
                                                  int                 height,
                                                  guint               seed);
/* Puts the file at path into the server's media store; returns its
 * SHA-256 (served at worker/v1/media/SHA256). */
char            *kp_worker_fixture_add_media_file (KpWorkerFixture *fixture,
                                                   const char      *path);
/* Creates a qualification type whose test asks "sky" (blue, green or
 * red) and grades it at once: blue scores 100, anything else 0.
 * Returns its id. */
char            *kp_worker_fixture_create_qualification (KpWorkerFixture *fixture,
                                                         const char      *name);
/* Another worker; returns their id, and their token in token. */
char            *kp_worker_fixture_create_worker (KpWorkerFixture *fixture,
                                                  const char      *name,
                                                  char           **token);
void             kp_worker_fixture_stop_server   (KpWorkerFixture *fixture);
/* Starts the server again on the same port and data directory. */
void             kp_worker_fixture_start_server  (KpWorkerFixture *fixture);
void             kp_worker_fixture_free          (KpWorkerFixture *fixture);

/* Iterates the main context until func returns TRUE; FALSE after
 * timeout_ms. */
gboolean         kp_worker_wait_for              (gboolean       (*func) (gpointer),
                                                  gpointer         data,
                                                  guint            timeout_ms);

G_END_DECLS
