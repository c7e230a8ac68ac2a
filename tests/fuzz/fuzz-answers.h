/* fuzz-answers.h: the answers round trip shared by fuzz-question and
 * fuzz-answer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <string.h>

#include "kp-core.h"

#include "fuzz-common.h"

/* Answers a worker sent are stored as the XML kp_question_answers_to_xml()
 * makes, and read back with kp_question_answers_from_xml() for the
 * requester (GetAssignment, ListAssignmentsForHIT) and the worker's
 * history. So whatever to_xml accepts must be ASCII (newlines and tabs
 * of the answers stay as they are) that reads back as the same answers, and the answers read back must be
 * accepted again as the same XML. */
static void
fuzz_check_answers (const KpQuestionInfo *info,
                    JsonArray            *answers)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonArray) back = NULL;
  g_autofree char *xml = NULL;
  g_autofree char *again = NULL;

  xml = kp_question_answers_to_xml (info, answers, &error);
  if (xml == NULL)
    {
      fuzz_assert_error (error);
      g_assert (g_error_matches (error, KP_QUESTION_ERROR, KP_QUESTION_ERROR_INVALID));
      return;
    }

  for (const char *p = xml; *p != '\0'; p++)
    g_assert (((guchar)*p >= 0x20 && (guchar)*p < 0x80) || *p == '\n' || *p == '\t');

  back = kp_question_answers_from_xml (xml, &error);
  if (back == NULL)
    g_error ("Answers made by kp_question_answers_to_xml() do not read back: %s\n%s",
             error->message, xml);

  g_assert_cmpuint (json_array_get_length (back), ==, json_array_get_length (answers));
  for (guint i = 0; i < json_array_get_length (answers); i++)
    if (!json_node_equal (json_array_get_element (answers, i), json_array_get_element (back, i)))
      {
        g_autofree char *sent = json_to_string (json_array_get_element (answers, i), FALSE);
        g_autofree char *read = json_to_string (json_array_get_element (back, i), FALSE);

        g_error ("Answer %u changed on its way through XML: %s became %s", i, sent, read);
      }

  again = kp_question_answers_to_xml (info, back, &error);
  if (again == NULL)
    g_error ("Answers read back are refused: %s", error->message);
  g_assert_cmpstr (again, ==, xml);
}
