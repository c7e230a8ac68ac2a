/* kp-cli-export.h: kempelenctl export, and opening a project for a command
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include <json-glib/json-glib.h>

#include "kp-core.h"

G_BEGIN_DECLS

/* Exit status of a command that did part of its work (an import that
 * skipped some objects): it is neither a success nor a failure. */
#define KP_CLI_EXIT_PARTIAL 3

/* Opens the project in folder, scans it and reads the sizes of new
 * images. The error names the folder as the user typed it. */
KpStore *kp_cli_open_project (const char    *folder,
                              GCancellable  *cancellable,
                              gboolean       verbose,
                              GError       **error) G_GNUC_WARN_UNUSED_RESULT;

/* Prints "kempelenctl: MESSAGE" on stderr. */
void     kp_cli_print_message (const char   *message);

/* Prints a JSON node, pretty, on stdout. */
void     kp_cli_print_json    (JsonNode     *node);

/* argv[0] is "export". Returns the exit status. */
int      kp_cli_export_run    (int           argc,
                               char        **argv);

G_END_DECLS
