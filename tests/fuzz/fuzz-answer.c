/* fuzz-answer.c: libFuzzer target for answers as the worker API takes them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An input is the body of a worker API request that carries answers:
 *
 *   POST /assignments/{id}/submit        {"submission_id": …, "answers": [ … ]}
 *   POST /sync                            {"submissions": [{"submission_id": …,
 *                                           "assignment_id": …, "answers": [ … ]}, …]}
 *   POST /qualifications/{id}/request     {"answers": [ … ]}
 *
 * It goes through the steps of kp-worker-api.c before the store: the
 * UTF-8 and JSON checks of read_body(), the member and parameter checks
 * (kp_param_check_members(), kp_param_string(), kp_param_array()), then
 * kp_question_answers_to_xml() against the question of the HIT: a
 * crowd-form HTMLQuestion, an ExternalQuestion, and a QuestionForm with
 * every answer kind and constraint (which is also what a qualification
 * test looks like). Accepted answers must survive the round trip through
 * the stored XML (fuzz-answers.h).
 *
 * The store side of a submission (kp_hits_submit()) needs an HTTP request
 * to reach: kp_worker_api_handle() takes a SoupServerMessage, which only
 * libsoup can make.
 */

#include "config.h"

#include "kp-api.h"

#include "fuzz-answers.h"

#define NS "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/"

/* As in kp-worker-api.c. */
#define MAX_SYNC_ITEMS 100

static const char html_question[] =
  "<HTMLQuestion xmlns=\"" NS "2011-11-11/HTMLQuestion.xsd\">"
  "<HTMLContent><![CDATA[<crowd-form><crowd-input name=\"a\"></crowd-input></crowd-form>]]>"
  "</HTMLContent><FrameHeight>0</FrameHeight></HTMLQuestion>";

static const char external_question[] =
  "<ExternalQuestion xmlns=\"" NS "2006-07-14/ExternalQuestion.xsd\">"
  "<ExternalURL>https://tasks.example.com/t</ExternalURL><FrameHeight>400</FrameHeight>"
  "</ExternalQuestion>";

#define QUESTION(id, required, spec) \
  "<Question><QuestionIdentifier>" id "</QuestionIdentifier><IsRequired>" required "</IsRequired>" \
  "<QuestionContent><Text>" id "?</Text></QuestionContent><AnswerSpecification>" spec \
  "</AnswerSpecification></Question>"

static const char question_form[] =
  "<QuestionForm xmlns=\"" NS "2005-10-01/QuestionForm.xsd\">"
  QUESTION ("pick", "true",
            "<SelectionAnswer><MinSelectionCount>1</MinSelectionCount>"
            "<MaxSelectionCount>2</MaxSelectionCount><Selections>"
            "<Selection><SelectionIdentifier>a</SelectionIdentifier><Text>A</Text></Selection>"
            "<Selection><SelectionIdentifier>b</SelectionIdentifier><Text>B</Text></Selection>"
            "<Selection><SelectionIdentifier>c</SelectionIdentifier><Text>C</Text></Selection>"
            "<OtherSelection><Constraints><Length minLength=\"2\" maxLength=\"8\"/>"
            "<AnswerFormatRegex regex=\"^[a-z]+$\"/></Constraints></OtherSelection>"
            "</Selections></SelectionAnswer>")
  QUESTION ("colours", "false",
            "<SelectionAnswer><StyleSuggestion>checkbox</StyleSuggestion><Selections>"
            "<Selection><SelectionIdentifier>red</SelectionIdentifier><Text>Red</Text></Selection>"
            "<Selection><SelectionIdentifier>blue</SelectionIdentifier><Text>Blue</Text></Selection>"
            "</Selections></SelectionAnswer>")
  QUESTION ("age", "false",
            "<FreeTextAnswer><Constraints><IsNumeric minValue=\"-5\" maxValue=\"120\"/>"
            "<Length minLength=\"1\" maxLength=\"6\"/></Constraints></FreeTextAnswer>")
  QUESTION ("code", "true",
            "<FreeTextAnswer><Constraints>"
            "<AnswerFormatRegex regex=\"^[A-Z]{2}\" flags=\"i\" errorText=\"Two letters first\"/>"
            "<AnswerFormatRegex regex=\"\\d$\" flags=\"ms\"/></Constraints></FreeTextAnswer>")
  QUESTION ("note", "false", "<FreeTextAnswer/>")
  QUESTION ("scan", "false",
            "<FileUploadAnswer><MaxFileSizeInBytes>100000</MaxFileSizeInBytes>"
            "<MinFileSizeInBytes>10</MinFileSizeInBytes></FileUploadAnswer>")
  "</QuestionForm>";

static KpQuestionInfo *infos[3];

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  const char *questions[] = { html_question, external_question, question_form };

  fuzz_init_logging ();

  for (guint i = 0; i < G_N_ELEMENTS (questions); i++)
    {
      g_autoptr(GError) error = NULL;

      infos[i] = kp_question_parse (questions[i], -1, &error);
      g_assert_no_error (error);
    }

  return 0;
}

/* Known, reported: kp_param_check_members() quotes the name of an
 * unknown member, and JSON escapes such as "\ud800" (a lone surrogate)
 * decode to names that are not UTF-8, so the message is not either. Only
 * that case is let through here, until kp-api.c checks the name. */
static gboolean
has_invalid_member_name (JsonObject *object)
{
  JsonObjectIter iter;
  const char *name;

  json_object_iter_init (&iter, object);
  while (json_object_iter_next (&iter, &name, NULL))
    if (!g_utf8_validate (name, -1, NULL))
      return TRUE;

  return FALSE;
}

static void
check_refusal (KpCtx        *ctx,
               JsonObject   *object,
               const GError *error)
{
  g_assert (error != NULL && error->domain == KP_API_ERROR);
  if (!g_utf8_validate (error->message, -1, NULL) && has_invalid_member_name (object))
    g_assert (error->message[0] != '\0');
  else
    fuzz_assert_error (error);
  g_assert (ctx->turk_error_code != NULL);
  g_clear_pointer (&ctx->turk_error_code, g_free);
}

/* submit_one(): answers that are not an array are refused there. */
static void
check_answers (JsonObject *object)
{
  JsonNode *node = json_object_get_member (object, "answers");
  JsonArray *answers;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return;

  answers = json_node_get_array (node);
  fuzz_check_answers (NULL, answers);
  for (guint i = 0; i < G_N_ELEMENTS (infos); i++)
    fuzz_check_answers (infos[i], answers);
}

static void
submit (KpCtx      *ctx,
        JsonObject *object)
{
  g_autoptr(GError) error = NULL;
  const char *submission_id = NULL;

  if (!kp_param_check_members (ctx, object, NULL, "submission_id answers", &error) ||
      !kp_param_string (ctx, object, "submission_id", TRUE, 1, 64, &submission_id, &error))
    {
      check_refusal (ctx, object, error);
      return;
    }

  g_assert (submission_id != NULL);
  check_answers (object);
}

static void
sync_submissions (KpCtx      *ctx,
                  JsonObject *object)
{
  g_autoptr(GError) error = NULL;
  JsonArray *items = NULL;

  if (!kp_param_check_members (ctx, object, NULL, "submissions", &error) ||
      !kp_param_array (ctx, object, "submissions", TRUE, 0, MAX_SYNC_ITEMS, &items, &error))
    {
      check_refusal (ctx, object, error);
      return;
    }

  for (guint i = 0; i < json_array_get_length (items); i++)
    {
      JsonNode *node = json_array_get_element (items, i);
      g_autoptr(GError) item_error = NULL;
      g_autofree char *where = g_strdup_printf ("submissions[%u]", i);
      const char *submission_id = NULL;
      const char *assignment_id = NULL;
      JsonObject *item;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;

      item = json_node_get_object (node);
      if (!kp_param_check_members (ctx, item, where, "submission_id assignment_id answers", &item_error) ||
          !kp_param_string (ctx, item, "submission_id", TRUE, 1, 64, &submission_id, &item_error) ||
          !kp_param_string (ctx, item, "assignment_id", TRUE, 1, 64, &assignment_id, &item_error))
        {
          check_refusal (ctx, item, item_error);
          continue;
        }

      check_answers (item);
    }
}

static void
request_qualification (KpCtx      *ctx,
                       JsonObject *object)
{
  g_autoptr(GError) error = NULL;
  JsonArray *answers = NULL;

  if (!kp_param_check_members (ctx, object, NULL, "answers", &error) ||
      !kp_param_array (ctx, object, "answers", FALSE, 0, 0, &answers, &error))
    {
      check_refusal (ctx, object, error);
      return;
    }

  /* A qualification test is a QuestionForm. */
  if (answers != NULL)
    fuzz_check_answers (infos[2], answers);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  KpCtx ctx = { .worker_id = "WFUZZ", .now = G_GINT64_CONSTANT (1767225600) };
  JsonNode *root;
  JsonObject *object;

  /* The server takes up to 8 MiB; a few KiB of answers reach every
   * check. */
  if (size > 128 * 1024)
    return 0;

  /* read_body() */
  if (size == 0 || !g_utf8_validate ((const char *)data, size, NULL) ||
      !json_parser_load_from_data (parser, (const char *)data, size, NULL))
    return 0;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return 0;
  object = json_node_get_object (root);

  if (json_object_has_member (object, "submissions"))
    sync_submissions (&ctx, object);
  else if (json_object_has_member (object, "submission_id"))
    submit (&ctx, object);
  else
    request_qualification (&ctx, object);

  g_free (ctx.turk_error_code);
  return 0;
}
