/* kp-cli-import.h: kempelenctl import
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* argv[0] is "import". Returns the exit status: 0 when every object of
 * the input was imported (or was already there, or below the minimum
 * confidence), 3 (KP_CLI_EXIT_PARTIAL) when some were skipped and
 * listed, 1 when the input could not be read, 2 for usage errors. */
int kp_cli_import_run (int    argc,
                       char **argv);

G_END_DECLS
