/* kp-test-server.h: runs the built kempelen-server for tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  GSubprocess *process;
  char        *url;      /* "http://127.0.0.1:PORT/" */
  guint        port;
} KpTestServer;

char         *kp_test_server_dup_path (void);
/* Starts the server with the given extra arguments (NULL-terminated) and
 * waits for its "listening on" line. */
KpTestServer *kp_test_server_start    (const char * const *args);
/* Sends SIGTERM and asserts a clean exit 0 within a few seconds. */
void          kp_test_server_stop     (KpTestServer       *server);
/* Waits up to timeout_ms for process to exit; FALSE if it did not. */
gboolean      kp_test_wait_exit       (GSubprocess        *process,
                                       guint               timeout_ms);

G_END_DECLS
