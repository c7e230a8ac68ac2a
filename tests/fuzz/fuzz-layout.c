/* fuzz-layout.c: libFuzzer target for the layout parser and templating
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An input is a template. It goes through what `kempelenctl layout check`
 * and the preview do with one: ${column} placeholders filled from a fixed
 * row, the Liquid subset rendered with a fixed task input, the HTML or
 * question XML parsed into a tree and checked, every answerable element
 * answered with no value and the whole form answered; the same bytes are
 * also read as CSV batch data. Crashes, sanitizer reports, hangs and
 * g_critical()s are findings; problems in the template are expected.
 */

#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kp-core.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static GHashTable *row;
static JsonNode *input;

static GLogWriterOutput
quiet_writer (GLogLevelFlags   log_level,
              const GLogField *fields,
              gsize            n_fields,
              gpointer         user_data)
{
  if (log_level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    {
      g_log_writer_standard_streams (log_level, fields, n_fields, user_data);
      abort ();
    }

  return G_LOG_WRITER_HANDLED;
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_log_set_writer_func (quiet_writer, NULL, NULL);

  row = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_insert (row, (gpointer)"image_url", (gpointer)"https://example.com/a.jpg");
  g_hash_table_insert (row, (gpointer)"text", (gpointer)"<b>\"quoted\" & more</b>");

  input = json_from_string ("{\"taskObject\": \"s3://b/k.jpg\", \"list\": [1, \"two\", {\"x\": [3]}],"
                            " \"flag\": false, \"text\": \"<i>hi</i>\"}", NULL);
  g_assert (input != NULL);

  return 0;
}

static void
exercise_layout (const char *text,
                 gsize       length)
{
  g_autoptr(KpLayout) layout = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) nodes = NULL;
  g_autoptr(GPtrArray) problems = NULL;
  g_autoptr(JsonArray) answers = NULL;
  g_autofree char *all_text = NULL;

  layout = kp_layout_new_from_data (text, length, KP_LAYOUT_FORMAT_AUTO, &error);
  if (layout == NULL)
    {
      g_assert (error != NULL && error->message[0] != '\0');
      return;
    }

  for (guint i = 0; i < kp_layout_get_problems (layout)->len; i++)
    {
      const KpLayoutProblem *problem = g_ptr_array_index (kp_layout_get_problems (layout), i);

      g_assert (problem->message != NULL && g_utf8_validate (problem->message, -1, NULL));
    }

  all_text = kp_layout_node_dup_text (kp_layout_get_root (layout));
  g_assert (g_utf8_validate (all_text, -1, NULL));

  problems = kp_layout_problems_new ();
  nodes = kp_layout_dup_answerable (layout, NULL);
  for (guint i = 0; i < nodes->len; i++)
    {
      JsonNode *answer = kp_layout_node_answer (g_ptr_array_index (nodes, i), NULL, problems);

      g_clear_pointer (&answer, json_node_unref);
    }

  answers = kp_layout_form_answer (layout, NULL, NULL, problems);
  if (answers != NULL)
    g_free (kp_question_answers_to_xml (NULL, answers, NULL));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = NULL;
  g_autofree char *filled = NULL;
  g_autofree char *rendered = NULL;
  g_autoptr(GPtrArray) problems = kp_layout_problems_new ();
  g_autoptr(GPtrArray) records = NULL;

  /* Larger inputs only slow the fuzzer down; the size limit has its own
   * unit test. */
  if (size > 256 * 1024)
    return 0;

  exercise_layout ((const char *)data, size);

  records = kp_template_parse_csv ((const char *)data, size, NULL);
  if (records != NULL)
    {
      GHashTable *first = kp_template_csv_row (records, 0);

      g_clear_pointer (&first, g_hash_table_unref);
    }

  text = g_strndup ((const char *)data, size);
  if (!g_utf8_validate (text, -1, NULL))
    return 0;

  filled = kp_template_fill_placeholders (text, row, problems);
  rendered = kp_template_render_liquid (filled, input, problems);
  g_assert (rendered != NULL);

  exercise_layout (rendered, strlen (rendered));

  return 0;
}
