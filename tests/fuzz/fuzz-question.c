/* fuzz-question.c: libFuzzer target for question XML and the answers to it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An input is a Question parameter (QuestionForm, HTMLQuestion or
 * ExternalQuestion XML, as CreateHIT and CreateQualificationType take
 * one), optionally followed by a NUL byte and answers to it: a JSON array
 * as a worker submits them, or QuestionFormAnswers XML as a qualification
 * test's answer key holds them.
 *
 * The question goes through kp_question_parse(); the answers are judged
 * against it by kp_question_answers_to_xml(), which runs the form's
 * constraints (numbers, lengths, requester-written regular expressions,
 * selections, file sizes) on worker-written text, and must survive the
 * round trip through XML (see fuzz-answers.h). Without answers, the input
 * is also read as QuestionFormAnswers, and a parsed QuestionForm is
 * answered with empty answers, which checks IsRequired.
 *
 * fuzz-layout also parses question XML, through kp_layout_new_from_data();
 * this target is about what the server does with a question and answers.
 */

#include "config.h"

#include "fuzz-answers.h"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init_logging ();
  return 0;
}

static void
check_info (const KpQuestionInfo *info)
{
  g_autoptr(GHashTable) ids = g_hash_table_new (g_str_hash, g_str_equal);

  switch (info->kind)
    {
    case KP_QUESTION_FORM:
      g_assert (info->external_url == NULL && info->html_content == NULL);
      g_assert_cmpint (info->frame_height, ==, -1);
      break;

    case KP_QUESTION_HTML:
      g_assert (info->html_content != NULL && info->external_url == NULL);
      g_assert (g_utf8_validate (info->html_content, -1, NULL));
      g_assert_cmpint (info->frame_height, >=, 0);
      g_assert_cmpuint (info->question_ids->len, ==, 0);
      break;

    case KP_QUESTION_EXTERNAL:
      g_assert (info->external_url != NULL && info->html_content == NULL);
      /* Schemes are case-insensitive: "HTTPS://" is https too. */
      g_assert (g_ascii_strncasecmp (info->external_url, "https://", 8) == 0);
      g_assert_cmpint (info->frame_height, >=, 0);
      g_assert_cmpuint (info->question_ids->len, ==, 0);
      break;

    default:
      g_assert_not_reached ();
    }

  for (guint i = 0; i < info->question_ids->len; i++)
    {
      const char *id = g_ptr_array_index (info->question_ids, i);

      g_assert (id != NULL && id[0] != '\0' && g_utf8_validate (id, -1, NULL));
      g_assert (g_hash_table_add (ids, (gpointer)id));
    }
}

/* Each question of the form answered with nothing: accepted exactly when
 * no question is required (checked by the round trip's own asserts). */
static void
answer_empty (const KpQuestionInfo *info)
{
  g_autoptr(JsonArray) as_text = json_array_new ();
  g_autoptr(JsonArray) as_selection = json_array_new ();

  for (guint i = 0; i < info->question_ids->len; i++)
    {
      JsonObject *text = json_object_new ();
      JsonObject *selection = json_object_new ();

      json_object_set_string_member (text, "QuestionIdentifier", g_ptr_array_index (info->question_ids, i));
      json_object_set_string_member (text, "FreeText", "");
      json_array_add_object_element (as_text, text);

      json_object_set_string_member (selection, "QuestionIdentifier", g_ptr_array_index (info->question_ids, i));
      json_object_set_array_member (selection, "SelectionIdentifier", json_array_new ());
      json_array_add_object_element (as_selection, selection);
    }

  fuzz_check_answers (info, as_text);
  fuzz_check_answers (info, as_selection);
}

static void
check_answers_text (const KpQuestionInfo *info,
                    const char           *text,
                    gsize                 length)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonArray) from_xml = NULL;
  g_autoptr(GError) error = NULL;
  const char *p = text;
  JsonNode *root;

  while (p < text + length && g_ascii_isspace (*p))
    p++;

  if (*p == '<')
    {
      from_xml = kp_question_answers_from_xml (text, &error);
      if (from_xml == NULL)
        {
          fuzz_assert_error (error);
          return;
        }
      /* What the XML holds must be answers to_xml takes, unless the form
       * refuses them. */
      fuzz_check_answers (NULL, from_xml);
      if (info != NULL)
        fuzz_check_answers (info, from_xml);
      return;
    }

  if (!g_utf8_validate (text, length, NULL) ||
      !json_parser_load_from_data (parser, text, length, NULL))
    return;

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    return;

  fuzz_check_answers (info, json_node_get_array (root));
  if (info != NULL)
    fuzz_check_answers (NULL, json_node_get_array (root));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(KpQuestionInfo) info = NULL;
  g_autoptr(GError) error = NULL;
  const uint8_t *nul;
  size_t question_len;

  if (size > KP_QUESTION_MAX_LENGTH + 64 * 1024)
    return 0;

  nul = memchr (data, '\0', size);
  question_len = nul != NULL ? (size_t)(nul - data) : size;

  /* The exact length, without a terminating NUL: reading past it is a
   * finding. */
  info = kp_question_parse ((const char *)data, question_len, &error);
  if (info == NULL)
    {
      fuzz_assert_error (error);
      g_assert (error->domain == KP_QUESTION_ERROR);
      g_assert (question_len <= KP_QUESTION_MAX_LENGTH ||
                error->code == KP_QUESTION_ERROR_TOO_LARGE);
      g_clear_error (&error);
    }
  else
    check_info (info);

  if (nul != NULL)
    {
      g_autofree char *answers = g_strndup ((const char *)nul + 1, size - question_len - 1);

      check_answers_text (info, answers, strlen (answers));
    }
  else
    {
      g_autofree char *text = g_strndup ((const char *)data, size);
      g_autoptr(JsonArray) answers = kp_question_answers_from_xml (text, &error);

      if (answers != NULL)
        fuzz_check_answers (NULL, answers);
      else
        fuzz_assert_error (error);

      if (info != NULL && info->kind == KP_QUESTION_FORM)
        answer_empty (info);
    }

  return 0;
}
