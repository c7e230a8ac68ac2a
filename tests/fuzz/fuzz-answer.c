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
 *   {"values": {NAME: VALUE, …}, "layout": N}   what the workstation's
 *                                          widgets report for a HIT's layout
 *
 * The first three go through the steps of kp-worker-api.c before the
 * store: the
 * UTF-8 and JSON checks of read_body(), the member and parameter checks
 * (kp_param_check_members(), kp_param_string(), kp_param_array()), then
 * kp_question_answers_to_xml() against the question of the HIT: a
 * crowd-form HTMLQuestion, an ExternalQuestion, and a QuestionForm with
 * every answer kind and constraint (which is also what a qualification
 * test looks like). Accepted answers must survive the round trip through
 * the stored XML (fuzz-answers.h).
 *
 * The last one is where those answers come from on the workstation:
 * kp_layout_node_answer() for every answerable element and
 * kp_layout_form_answer() for the form (kp-layout-answer.c), over a
 * crowd-html layout with every answerable element (N = 0), one with
 * answer-format="flatten-objects" (N = 1), and the QuestionForm above
 * (N = 2). fuzz-layout covers the layouts themselves, answered with no
 * values.
 *
 * The store side of a submission (kp_hits_submit()) needs an HTTP request
 * to reach: kp_worker_api_handle() takes a SoupServerMessage, which only
 * libsoup can make.
 */

#include "config.h"

#include <string.h>

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


static const char crowd_layout[] =
  "<crowd-form>"
  "<crowd-bounding-box header=\"?\" name=\"boxes\" src=\"https://example.com/a.jpg\" labels=\"['Car', 'Person']\""
  " initial-value=\"[{label: 'Car', left: 10, top: 20, width: 30, height: 40}]\"></crowd-bounding-box>"
  "<crowd-polygon header=\"?\" name=\"shapes\" src=\"https://example.com/a.jpg\" labels='[\"Wheat\"]'></crowd-polygon>"
  "<crowd-keypoint header=\"?\" name=\"joints\" src=\"https://example.com/a.jpg\" labels=\"['Elbow']\"></crowd-keypoint>"
  "<crowd-line header=\"?\" name=\"horizon\" src=\"https://example.com/a.jpg\" labels=\"['Horizon']\"></crowd-line>"
  "<crowd-polyline header=\"?\" name=\"lanes\" src=\"https://example.com/a.jpg\" labels=\"['Lane']\"></crowd-polyline>"
  "<crowd-semantic-segmentation header=\"?\" name=\"paint\" src=\"https://example.com/a.jpg\""
  " labels=\"['Cat', 'Dog']\"></crowd-semantic-segmentation>"
  "<crowd-instance-segmentation header=\"?\" name=\"instances\" src=\"https://example.com/a.jpg\""
  " labels=\"['Cat']\"></crowd-instance-segmentation>"
  "<crowd-classifier name=\"sentiment\" categories=\"['Positive', 'Negative']\" header=\"?\">"
  "<classification-target>x</classification-target></crowd-classifier>"
  "<crowd-classifier-multi-select name=\"topics\" categories=\"['Price', 'Battery']\" header=\"?\""
  " exclusion-category=\"{ text: 'None' }\"><classification-target>x</classification-target>"
  "</crowd-classifier-multi-select>"
  "<crowd-image-classifier name=\"animal\" src=\"https://example.com/a.jpg\" categories=\"['Cat', 'Dog']\""
  " header=\"?\"></crowd-image-classifier>"
  "<crowd-image-classifier-multi-select name=\"animals\" src=\"https://example.com/b.jpg\""
  " categories=\"['Cat', 'Dog']\" header=\"?\"></crowd-image-classifier-multi-select>"
  "<crowd-entity-annotation header=\"?\" name=\"entities\" header=\"?\" labels=\"[{'label': 'person'}, {'label': 'place'}]\""
  " text=\"Ada \xf0\x9f\x98\x80 Lovelace lived in London.\"></crowd-entity-annotation>"
  "<crowd-input name=\"title\" required min-length=\"3\" max-length=\"20\" allowed-pattern=\"[A-Za-z ]\">"
  "</crowd-input>"
  "<crowd-input name=\"age\" type=\"number\" min-value=\"0\" max-value=\"130\"></crowd-input>"
  "<crowd-text-area name=\"notes\" max-length=\"200\"></crowd-text-area>"
  "<crowd-checkbox name=\"agree\" required>I agree</crowd-checkbox>"
  "<crowd-radio-group id=\"answer\">"
  "<crowd-radio-button name=\"yes\" value=\"yes\">Yes</crowd-radio-button>"
  "<crowd-radio-button name=\"no\" value=\"no\">No</crowd-radio-button></crowd-radio-group>"
  "<crowd-toggle-button name=\"colour\" value=\"Red\"></crowd-toggle-button>"
  "<crowd-toggle-button name=\"colour\" value=\"Green\"></crowd-toggle-button>"
  "<crowd-slider name=\"quality\" min=\"1\" max=\"10\" step=\"1\" required></crowd-slider>"
  "<kp-audio-segmenter header=\"?\" name=\"speech\" src=\"https://example.com/a.ogg\" labels=\"['Alice', 'Bob']\">"
  "</kp-audio-segmenter>"
  "<kp-video-tracker header=\"?\" name=\"cars\" src=\"https://example.com/a.webm\" labels=\"['Car']\"></kp-video-tracker>"
  "<input type=\"text\" name=\"comment\"><textarea name=\"long\"></textarea>"
  "<select name=\"color\"><option value=\"red\">Red</option><option value=\"blue\">Blue</option></select>"
  "<input type=\"checkbox\" name=\"extra\" value=\"wanted\">"
  "<input type=\"radio\" name=\"size\" value=\"s\"><input type=\"radio\" name=\"size\" value=\"m\">"
  "</crowd-form>";

static const char flat_layout[] =
  "<crowd-form answer-format=\"flatten-objects\">"
  "<crowd-bounding-box header=\"?\" name=\"boxes\" src=\"https://example.com/a.jpg\" labels=\"['Car']\"></crowd-bounding-box>"
  "<crowd-classifier name=\"sentiment\" categories=\"['Positive', 'Negative']\" header=\"?\">"
  "<classification-target>x</classification-target></crowd-classifier>"
  "<crowd-checkbox name=\"agree\">I agree</crowd-checkbox>"
  "<crowd-toggle-button name=\"colour\" value=\"Red\"></crowd-toggle-button>"
  "</crowd-form>";

static KpQuestionInfo *infos[3];
/* crowd_layout, flat_layout, question_form */
static KpLayout *layouts[3];

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

  {
    const char *texts[] = { crowd_layout, flat_layout, question_form };

    for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
      {
        g_autoptr(GError) error = NULL;

        layouts[i] = kp_layout_new_from_data (texts[i], strlen (texts[i]), KP_LAYOUT_FORMAT_AUTO, &error);
        g_assert_no_error (error);
        for (guint j = 0; j < kp_layout_get_problems (layouts[i])->len; j++)
          {
            const KpLayoutProblem *problem = g_ptr_array_index (kp_layout_get_problems (layouts[i]), j);

            if (problem->severity == KP_LAYOUT_SEVERITY_ERROR)
              g_error ("Layout %u: %d:%d: %s", i, problem->line, problem->column, problem->message);
          }
      }
  }

  return 0;
}

static void
check_refusal (KpCtx        *ctx,
               const GError *error)
{
  g_assert (error != NULL && error->domain == KP_API_ERROR);
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
      check_refusal (ctx, error);
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
      check_refusal (ctx, error);
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
          check_refusal (ctx, item_error);
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
      check_refusal (ctx, error);
      return;
    }

  /* A qualification test is a QuestionForm. */
  if (answers != NULL)
    fuzz_check_answers (infos[2], answers);
}

static void
check_problems (GPtrArray *problems)
{
  for (guint i = 0; i < problems->len; i++)
    {
      const KpLayoutProblem *problem = g_ptr_array_index (problems, i);

      g_assert (problem->message != NULL && problem->message[0] != '\0');
      g_assert (g_utf8_validate (problem->message, -1, NULL));
    }
}

/* Whether every string and member name in node is UTF-8, as the text
 * widgets report always is (JSON escapes such as "\ud800" make strings
 * that are not). */
static gboolean
is_utf8_deep (JsonNode *node)
{
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    return g_utf8_validate (json_node_get_string (node), -1, NULL);

  if (JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array); i++)
        if (!is_utf8_deep (json_array_get_element (array, i)))
          return FALSE;
    }

  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;

      json_object_iter_init (&iter, json_node_get_object (node));
      while (json_object_iter_next (&iter, &name, &member))
        if (!g_utf8_validate (name, -1, NULL) || !is_utf8_deep (member))
          return FALSE;
    }

  return TRUE;
}

/* What the workstation does with its widgets' values when the worker
 * submits: each element's answer, then the form's. */
static void
layout_answers (JsonObject *object)
{
  g_autoptr(GHashTable) values = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) problems = kp_layout_problems_new ();
  g_autoptr(GPtrArray) nodes = NULL;
  g_autoptr(JsonArray) answers = NULL;
  JsonNode *member = json_object_get_member (object, "values");
  JsonNode *which = json_object_get_member (object, "layout");
  guint index = 0;
  KpLayout *layout;
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;

  if (member == NULL || !JSON_NODE_HOLDS_OBJECT (member) || !is_utf8_deep (member))
    return;
  if (which != NULL && JSON_NODE_HOLDS_VALUE (which) && json_node_get_value_type (which) == G_TYPE_INT64)
    index = (guint)(json_node_get_int (which) & 0xff) % G_N_ELEMENTS (layouts);
  layout = layouts[index];

  json_object_iter_init (&iter, json_node_get_object (member));
  while (json_object_iter_next (&iter, &name, &value))
    g_hash_table_insert (values, (gpointer)name, value);

  nodes = kp_layout_dup_answerable (layout, NULL);
  for (guint i = 0; i < nodes->len; i++)
    {
      const KpLayoutNode *node = g_ptr_array_index (nodes, i);
      const char *node_name = kp_layout_node_get_attribute (node, "name");
      g_autoptr(JsonNode) answer = NULL;

      if (node_name == NULL)
        node_name = kp_layout_node_get_attribute (node, "id");
      answer = kp_layout_node_answer (node, node_name != NULL ? g_hash_table_lookup (values, node_name) : NULL,
                                      problems);
    }

  answers = kp_layout_form_answer (layout, NULL, values, problems);
  check_problems (problems);
  g_assert (answers != NULL);

  /* A crowd-form answers with one FreeText holding a JSON array with one
   * object. */
  if (index < 2)
    {
      JsonObject *answer;
      g_autoptr(JsonNode) inner = NULL;
      g_autoptr(GError) error = NULL;

      g_assert_cmpuint (json_array_get_length (answers), ==, 1);
      answer = json_array_get_object_element (answers, 0);
      g_assert_cmpstr (json_object_get_string_member (answer, "QuestionIdentifier"), ==, "taskAnswers");
      inner = json_from_string (json_object_get_string_member (answer, "FreeText"), &error);
      g_assert_no_error (error);
      g_assert (JSON_NODE_HOLDS_ARRAY (inner));
      g_assert_cmpuint (json_array_get_length (json_node_get_array (inner)), ==, 1);
      g_assert (JSON_NODE_HOLDS_OBJECT (json_array_get_element (json_node_get_array (inner), 0)));
    }

  fuzz_check_answers (index < 2 ? NULL : infos[2], answers);
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

  if (json_object_has_member (object, "values"))
    layout_answers (object);
  else if (json_object_has_member (object, "submissions"))
    sync_submissions (&ctx, object);
  else if (json_object_has_member (object, "submission_id"))
    submit (&ctx, object);
  else
    request_qualification (&ctx, object);

  g_free (ctx.turk_error_code);
  return 0;
}
