/* kp-cli-layout.h: kempelenctl layout
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* argv[0] is "layout". Returns the exit status. */
int kp_cli_layout_run (int    argc,
                       char **argv);

G_END_DECLS
