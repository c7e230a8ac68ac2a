/* kp-layout-private.h: what kp-layout.c and kp-layout-answer.c share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "kp-layout.h"
#include "kp-question.h"

G_BEGIN_DECLS

/* A parsed attribute value, in KpLayoutNode.values. */
typedef struct
{
  JsonNode  *json;     /* JSON attributes; NULL when invalid */
  char     **strv;     /* list attributes (labels, categories) */
  double     number;
  gboolean   is_number;
} KpLayoutValue;

/* Adds a problem at a node's position. */
void _kp_layout_node_problem (GPtrArray          *problems,
                              const KpLayoutNode *node,
                              KpLayoutSeverity    severity,
                              const char         *format,
                              ...) G_GNUC_PRINTF (4, 5);

/* The name an element's answer is stored under (its name attribute; for
 * crowd-radio-group its id or its first button's name), or NULL. */
const char *_kp_layout_node_answer_key (const KpLayoutNode *node);

/* The parsed question XML of a QUESTION layout, else NULL. */
const KpQuestionInfo *_kp_layout_get_question (KpLayout *self);

G_END_DECLS
