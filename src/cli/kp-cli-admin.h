/* kp-cli-admin.h: kempelenctl admin
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* argv[0] is "admin". Returns the exit status. */
int kp_cli_admin_run (int    argc,
                      char **argv);

G_END_DECLS
