/* kp-cli-common.c: what every kempelenctl command reports the same way
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-cli-common.h"

#include <stdlib.h>

#include "kp-cli-export.h"

static int
print_and_return (int         status,
                  const char *format,
                  va_list     args)
{
  g_autofree char *message = g_strdup_vprintf (format, args);

  kp_cli_print_message (message);
  return status;
}

int
kp_cli_usage_error (const char *format,
                    ...)
{
  va_list args;
  int status;

  va_start (args, format);
  status = print_and_return (KP_CLI_EXIT_USAGE, format, args);
  va_end (args);

  return status;
}

int
kp_cli_failure (const char *format,
                ...)
{
  va_list args;
  int status;

  va_start (args, format);
  status = print_and_return (EXIT_FAILURE, format, args);
  va_end (args);

  return status;
}

int
kp_cli_fail (const GError *error)
{
  kp_cli_print_message (error->message);
  return EXIT_FAILURE;
}

void
kp_cli_json_add_string (JsonBuilder *builder,
                        const char  *member,
                        const char  *value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, value);
}

void
kp_cli_json_add_int (JsonBuilder *builder,
                     const char  *member,
                     gint64       value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_int_value (builder, value);
}
