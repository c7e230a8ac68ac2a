/* kp-json-private.h: JSON reading helpers shared by the core and the
 * workstation (static inline: no symbol of the library's API)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <math.h>

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* A JSON number (integer or double) as a finite double; FALSE for
 * anything else (strings, booleans, null, NaN, infinities, absence). */
static inline gboolean
_kp_json_node_get_number (JsonNode *node,
                          double   *out)
{
  GType type;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;

  type = json_node_get_value_type (node);
  if (type == G_TYPE_INT64)
    *out = (double)json_node_get_int (node);
  else if (type == G_TYPE_DOUBLE)
    *out = json_node_get_double (node);
  else
    return FALSE;

  return isfinite (*out);
}

G_END_DECLS
