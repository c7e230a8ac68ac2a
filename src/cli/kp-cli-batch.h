/* kp-cli-batch.h: kempelenctl batch, HITs from CSV × layout through the
 * MTurk API
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* argv[0] is "batch". Returns the exit status. */
int kp_cli_batch_run (int    argc,
                      char **argv);

G_END_DECLS
