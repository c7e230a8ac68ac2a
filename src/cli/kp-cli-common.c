/* kp-cli-common.c: what every kempelenctl command reports the same way
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-cli-common.h"

#include "kp-cli-export.h"

int
kp_cli_usage_error (const char *format,
                    ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  kp_cli_print_message (message);
  return KP_CLI_EXIT_USAGE;
}
