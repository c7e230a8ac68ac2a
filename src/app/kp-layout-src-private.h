/* kp-layout-src-private.h: where a layout element's src points
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <string.h>

#include <gio/gio.h>

G_BEGIN_DECLS

/* src as the template wrote it: a URI (file:, https:, …), an absolute
 * path, or a path relative to base (NULL: the current directory). NULL
 * for an empty src. */
static inline GFile *
kp_layout_resolve_src (const char *src,
                       GFile      *base)
{
  g_autofree char *scheme = NULL;

  if (src == NULL || *src == '\0')
    return NULL;
  scheme = g_uri_parse_scheme (src);
  /* One letter is a Windows drive, not a scheme. */
  if (scheme != NULL && strlen (scheme) > 1)
    return g_file_new_for_uri (src);
  if (g_path_is_absolute (src))
    return g_file_new_for_path (src);
  if (base != NULL)
    return g_file_resolve_relative_path (base, src);
  return g_file_new_for_commandline_arg (src);
}

G_END_DECLS
