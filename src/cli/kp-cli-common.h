/* kp-cli-common.h: what every kempelenctl command reports the same way
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Exit status of a command given wrong options or arguments. */
#define KP_CLI_EXIT_USAGE 2

/* Prints "kempelenctl: MESSAGE" (formatted) on stderr and returns
 * KP_CLI_EXIT_USAGE, so a command can `return kp_cli_usage_error (…)`. */
int kp_cli_usage_error (const char   *format,
                        ...) G_GNUC_PRINTF (1, 2);

/* The same for work that failed: returns EXIT_FAILURE. */
int kp_cli_failure     (const char   *format,
                        ...) G_GNUC_PRINTF (1, 2);

/* Prints the error's message as kp_cli_failure() does; EXIT_FAILURE. */
int kp_cli_fail        (const GError *error);

/* Adds "member": value to the object being built. */
void kp_cli_json_add_string (JsonBuilder  *builder,
                             const char   *member,
                             const char   *value);
void kp_cli_json_add_int    (JsonBuilder  *builder,
                             const char   *member,
                             gint64        value);

G_END_DECLS
