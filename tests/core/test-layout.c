/* test-layout.c: layouts, their problems, answers and templating
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The corpus in tests/core/layouts/ holds templates we wrote; for each
 * NAME.{html,xml} the test dumps the tree (NAME.tree.txt), lists the
 * problems (NAME.problems.txt) and feeds the widget values of
 * NAME.values.json into the answer functions (NAME.answer.json), and
 * compares each with its golden file. KP_UPDATE_GOLDEN=1 rewrites the
 * golden files instead (review the diff before committing).
 */

#include "config.h"

#include <string.h>

#include "kp-core.h"
#include "kp-test-util.h"

static JsonNode *parse_json (const char *text);

static char *
corpus_dir (void)
{
  const char *root = g_getenv ("KP_SOURCE_ROOT");

  g_assert_nonnull (root);
  return g_build_filename (root, "tests", "core", "layouts", NULL);
}

static void
dump_node (GString            *out,
           const KpLayoutNode *node,
           int                 depth)
{
  g_autoptr(GList) keys = NULL;

  g_string_append_printf (out, "%*s%s", depth * 2, "", kp_layout_node_kind_to_string (node->kind));
  if (node->tag != NULL)
    g_string_append_printf (out, " <%s>", node->tag);
  if (node->level != 0)
    g_string_append_printf (out, " level=%d", node->level);
  g_string_append_printf (out, " %d:%d", node->line, node->column);
  if (node->text != NULL)
    g_string_append_printf (out, " \"%s\"", node->text);

  keys = g_list_sort (g_hash_table_get_keys (node->attributes), (GCompareFunc)strcmp);
  for (GList *l = keys; l != NULL; l = l->next)
    {
      const char * const *strv = kp_layout_node_get_strv (node, l->data);
      const char *value = kp_layout_node_get_attribute (node, l->data);

      if (strv != NULL)
        {
          g_autofree char *joined = g_strjoinv ("|", (char **)strv);

          g_string_append_printf (out, " %s=[%s]", (char *)l->data, joined);
        }
      else
        g_string_append_printf (out, " %s=\"%s\"", (char *)l->data,
                                strlen (value) > 60 ? "…" : value);
    }
  g_string_append_c (out, '\n');

  for (guint i = 0; i < node->children->len; i++)
    dump_node (out, g_ptr_array_index (node->children, i), depth + 1);
}

static void
dump_problems (GString   *out,
               GPtrArray *problems)
{
  for (guint i = 0; i < problems->len; i++)
    {
      const KpLayoutProblem *p = g_ptr_array_index (problems, i);

      g_string_append_printf (out, "%d:%d: %s: %s\n", p->line, p->column,
                              p->severity == KP_LAYOUT_SEVERITY_ERROR ? "error" : "warning",
                              p->message);
    }
}

static void
compare_golden (const char *path,
                const char *actual)
{
  g_autofree char *expected = NULL;
  g_autoptr(GError) error = NULL;

  if (g_getenv ("KP_UPDATE_GOLDEN") != NULL)
    {
      g_file_set_contents (path, actual, -1, &error);
      g_assert_no_error (error);
      return;
    }

  g_file_get_contents (path, &expected, NULL, &error);
  g_assert_no_error (error);
  if (g_strcmp0 (expected, actual) != 0)
    g_test_message ("%s differs; got:\n%s", path, actual);
  g_assert_cmpstr (actual, ==, expected);
}

static JsonNode *
load_json (const char *path)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static char *
pretty (JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();

  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, node);
  return json_generator_to_data (generator, NULL);
}

static void
test_corpus_file (gconstpointer data)
{
  const char *name = data;
  g_autofree char *dir = corpus_dir ();
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *base = g_strndup (name, strrchr (name, '.') - name);
  g_autofree char *tree_path = g_strdup_printf ("%s/%s.tree.txt", dir, base);
  g_autofree char *problems_path = g_strdup_printf ("%s/%s.problems.txt", dir, base);
  g_autofree char *values_path = g_strdup_printf ("%s/%s.values.json", dir, base);
  g_autofree char *answer_path = g_strdup_printf ("%s/%s.answer.json", dir, base);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(KpLayout) layout = NULL;
  g_autoptr(GString) tree = g_string_new (NULL);
  g_autoptr(GString) problems_text = g_string_new (NULL);
  gsize length;

  g_file_get_contents (path, &contents, &length, &error);
  g_assert_no_error (error);

  layout = kp_layout_new_from_data (contents, length, KP_LAYOUT_FORMAT_AUTO, &error);
  g_assert_no_error (error);
  g_assert_nonnull (layout);

  dump_node (tree, kp_layout_get_root (layout), 0);
  compare_golden (tree_path, tree->str);

  dump_problems (problems_text, kp_layout_get_problems (layout));

  if (g_file_test (values_path, G_FILE_TEST_EXISTS))
    {
      g_autoptr(JsonNode) values_json = load_json (values_path);
      g_autoptr(GHashTable) values = g_hash_table_new (g_str_hash, g_str_equal);
      g_autoptr(GPtrArray) answer_problems = kp_layout_problems_new ();
      g_autoptr(JsonArray) answers = NULL;
      g_autoptr(JsonNode) golden = NULL;
      g_autofree char *answer_text = NULL;
      JsonObject *object = json_node_get_object (values_json);
      g_autoptr(GList) members = json_object_get_members (object);

      for (GList *l = members; l != NULL; l = l->next)
        g_hash_table_insert (values, l->data, json_object_get_member (object, l->data));

      answers = kp_layout_form_answer (layout, NULL, values, answer_problems);
      g_assert_nonnull (answers);

      g_string_append (problems_text, "-- answers --\n");
      dump_problems (problems_text, answer_problems);

      if (kp_layout_get_root (layout)->children->len > 0 &&
          ((const KpLayoutNode *)g_ptr_array_index (kp_layout_get_root (layout)->children, 0))->kind < KP_LAYOUT_NODE_QF_OVERVIEW)
        {
          /* MTurk's crowd-form answer: one taskAnswers FreeText holding a
           * JSON array of one object. */
          JsonObject *answer;
          g_autoptr(JsonParser) parser = json_parser_new ();
          JsonNode *inner;

          g_assert_cmpuint (json_array_get_length (answers), ==, 1);
          answer = json_array_get_object_element (answers, 0);
          g_assert_cmpstr (json_object_get_string_member (answer, "QuestionIdentifier"), ==, "taskAnswers");
          json_parser_load_from_data (parser, json_object_get_string_member (answer, "FreeText"), -1, &error);
          g_assert_no_error (error);
          inner = json_parser_get_root (parser);
          g_assert_true (JSON_NODE_HOLDS_ARRAY (inner));
          g_assert_cmpuint (json_array_get_length (json_node_get_array (inner)), ==, 1);
          answer_text = pretty (inner);
        }
      else
        {
          golden = json_node_init_array (json_node_alloc (), answers);
          answer_text = pretty (golden);
        }

      /* The answers are what GetAssignment carries: they must go through
       * the QuestionFormAnswers conversion. */
      {
        g_autoptr(KpQuestionInfo) info = NULL;
        g_autofree char *xml = NULL;

        if (kp_layout_get_format (layout) == KP_LAYOUT_FORMAT_QUESTION)
          {
            info = kp_question_parse (contents, length, &error);
            g_assert_no_error (error);
          }
        xml = kp_question_answers_to_xml (info, answers, &error);
        g_assert_no_error (error);
        g_assert_nonnull (strstr (xml, "QuestionFormAnswers"));
      }

      compare_golden (answer_path, answer_text);
    }

  compare_golden (problems_path, problems_text->str);
}

/* Malformed and hostile templates */

static void
test_too_large (void)
{
  gsize size = 10 * 1024 * 1024;
  g_autofree char *data = g_malloc (size + 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(KpLayout) layout = NULL;
  gint64 start = g_get_monotonic_time ();

  memset (data, 'a', size);
  memcpy (data, "<p>", 3);
  data[size] = '\0';

  layout = kp_layout_new_from_data (data, size, KP_LAYOUT_FORMAT_AUTO, &error);
  g_assert_null (layout);
  g_assert_error (error, KP_LAYOUT_ERROR, KP_LAYOUT_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "5242880"));
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
}

static void
test_too_deep (void)
{
  GString *html = g_string_new ("<crowd-form>\n");
  g_autofree char *data = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(KpLayout) layout = NULL;
  gint64 start = g_get_monotonic_time ();

  for (int i = 0; i < 10000; i++)
    g_string_append (html, "<div>");
  g_string_append (html, "deep");
  data = g_string_free (html, FALSE);

  layout = kp_layout_new_from_data (data, -1, KP_LAYOUT_FORMAT_AUTO, &error);
  g_assert_null (layout);
  g_assert_error (error, KP_LAYOUT_ERROR, KP_LAYOUT_ERROR_TOO_DEEP);
  g_assert_nonnull (strstr (error->message, "512"));
  g_assert_nonnull (strstr (error->message, "Line 2"));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);

  /* 500 levels are fine. */
  {
    GString *ok = g_string_new (NULL);
    g_autofree char *ok_data = NULL;
    g_autoptr(KpLayout) ok_layout = NULL;
    const KpLayoutNode *node;
    int depth = 0;

    for (int i = 0; i < 500; i++)
      g_string_append (ok, "<div>");
    g_string_append (ok, "x");
    for (int i = 0; i < 500; i++)
      g_string_append (ok, "</div>");
    ok_data = g_string_free (ok, FALSE);
    g_clear_error (&error);
    ok_layout = kp_layout_new_from_data (ok_data, -1, KP_LAYOUT_FORMAT_HTML, &error);
    g_assert_no_error (error);
    for (node = kp_layout_get_root (ok_layout); node->children->len > 0;
         node = g_ptr_array_index (node->children, 0))
      depth++;
    g_assert_cmpint (depth, ==, 501);
    g_assert_cmpstr (node->text, ==, "x");
    g_assert_false (kp_layout_problems_has_errors (kp_layout_get_problems (ok_layout)));
  }
}

static gboolean
has_problem (KpLayout         *layout,
             KpLayoutSeverity  severity,
             int               line,
             const char       *fragment)
{
  GPtrArray *problems = kp_layout_get_problems (layout);

  for (guint i = 0; i < problems->len; i++)
    {
      const KpLayoutProblem *p = g_ptr_array_index (problems, i);

      if (p->severity == severity && (line == 0 || p->line == line) &&
          strstr (p->message, fragment) != NULL)
        return TRUE;
    }

  return FALSE;
}

static void
test_entity_bomb (void)
{
  GString *html = g_string_new ("<!DOCTYPE html [\n<!ENTITY a \"aaaaaaaaaa\">\n");
  g_autofree char *data = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(KpLayout) layout = NULL;
  g_autofree char *text = NULL;
  GPtrArray *problems;
  gint64 start = g_get_monotonic_time ();

  for (int i = 1; i < 10; i++)
    {
      g_string_append_printf (html, "<!ENTITY %c \"", 'a' + i);
      for (int j = 0; j < 10; j++)
        g_string_append_printf (html, "&%c;", 'a' + i - 1);
      g_string_append (html, "\">\n");
    }
  g_string_append (html, "]>\n<p>&j;&j;&amp;</p>");
  data = g_string_free (html, FALSE);

  layout = kp_layout_new_from_data (data, -1, KP_LAYOUT_FORMAT_AUTO, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);

  problems = kp_layout_get_problems (layout);
  g_assert_true (kp_layout_problems_has_errors (problems));
  g_assert_true (has_problem (layout, KP_LAYOUT_SEVERITY_ERROR, 2, "Entity declarations"));

  /* Nothing was expanded: the text stays small. */
  text = kp_layout_node_dup_text (kp_layout_get_root (layout));
  g_assert_cmpuint (strlen (text), <, 2000);
  g_assert_nonnull (strstr (text, "&j;&j;&"));

  /* Inside a QuestionForm, a DOCTYPE is refused outright. */
  {
    const char *xml =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE QuestionForm [<!ENTITY a \"aaaa\">]>\n"
      "<QuestionForm xmlns=\"http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/"
      "2017-11-06/QuestionForm.xsd\"><Overview><Text>&a;</Text></Overview></QuestionForm>";
    g_autoptr(KpLayout) qf = NULL;

    g_clear_error (&error);
    qf = kp_layout_new_from_data (xml, -1, KP_LAYOUT_FORMAT_AUTO, &error);
    g_assert_null (qf);
    g_assert_error (error, KP_LAYOUT_ERROR, KP_LAYOUT_ERROR_INVALID);
  }
}

static void
test_malformed (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KpLayout) layout = NULL;

  layout = kp_layout_new_from_data ("<crowd-form>\n<crowd-classifier name=\"a\" header=\"h\"\n"
                                    "  categories=\"['x', 'y'\">\n<div><p>text",
                                    -1, KP_LAYOUT_FORMAT_AUTO, &error);
  g_assert_no_error (error);
  g_assert_true (has_problem (layout, KP_LAYOUT_SEVERITY_ERROR, 2, "not valid JSON"));
  g_assert_true (has_problem (layout, KP_LAYOUT_SEVERITY_ERROR, 1, "<crowd-form> is not closed"));
  g_assert_true (has_problem (layout, KP_LAYOUT_SEVERITY_ERROR, 2, "<crowd-classifier> is not closed"));
  g_assert_true (has_problem (layout, KP_LAYOUT_SEVERITY_WARNING, 4, "<div> is not closed"));
  /* <p> may be left open in HTML. */
  g_assert_false (has_problem (layout, KP_LAYOUT_SEVERITY_WARNING, 0, "<p> is not closed"));
  g_clear_object (&layout);

  /* Not UTF-8 */
  layout = kp_layout_new_from_data ("<p>\xff\xfe</p>", -1, KP_LAYOUT_FORMAT_AUTO, &error);
  g_assert_null (layout);
  g_assert_error (error, KP_LAYOUT_ERROR, KP_LAYOUT_ERROR_INVALID);
  g_clear_error (&error);

  /* Markup errors are listed up to a limit. */
  {
    GString *html = g_string_new ("<p>");
    g_autofree char *data = NULL;
    GPtrArray *problems;

    for (int i = 0; i < 2000; i++)
      g_string_append (html, "</q>&amp x");
    data = g_string_free (html, FALSE);
    layout = kp_layout_new_from_data (data, -1, KP_LAYOUT_FORMAT_AUTO, &error);
    g_assert_no_error (error);
    problems = kp_layout_get_problems (layout);
    g_assert_cmpuint (problems->len, ==, 51);
    g_assert_nonnull (strstr (((KpLayoutProblem *)g_ptr_array_index (problems, 50))->message,
                              "only the first 50"));
    g_clear_object (&layout);
  }

  /* Garbage still gives a tree. */
  layout = kp_layout_new_from_data ("<<<>>></crowd-form><crowd-input name=a/ x=\"", -1,
                                    KP_LAYOUT_FORMAT_AUTO, &error);
  g_assert_no_error (error);
  g_assert_nonnull (kp_layout_get_root (layout));
  g_clear_object (&layout);

  /* Empty */
  layout = kp_layout_new_from_data ("", 0, KP_LAYOUT_FORMAT_AUTO, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (kp_layout_get_root (layout)->children->len, ==, 0);
  g_clear_object (&layout);

  /* Deep JSON in an attribute */
  {
    GString *html = g_string_new ("<crowd-form><crowd-polygon name=\"p\" src=\"a.png\" header=\"h\" labels=\"");
    g_autofree char *data = NULL;

    for (int i = 0; i < 100000; i++)
      g_string_append_c (html, '[');
    g_string_append (html, "\"></crowd-polygon></crowd-form>");
    data = g_string_free (html, FALSE);
    layout = kp_layout_new_from_data (data, -1, KP_LAYOUT_FORMAT_AUTO, &error);
    g_assert_no_error (error);
    g_assert_true (has_problem (layout, KP_LAYOUT_SEVERITY_ERROR, 1, "nested deeper"));
  }
}

/* A QuestionForm's constraints are checked before submitting. */
static void
test_question_form_constraints (void)
{
  g_autofree char *dir = corpus_dir ();
  g_autofree char *path = g_build_filename (dir, "question-form.xml", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(KpLayout) layout = NULL;
  g_autoptr(GHashTable) values = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                        (GDestroyNotify)json_node_unref);
  g_autoptr(GPtrArray) problems = kp_layout_problems_new ();
  g_autoptr(JsonArray) answers = NULL;
  const KpLayoutProblem *p;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  layout = kp_layout_new_from_data (contents, -1, KP_LAYOUT_FORMAT_AUTO, &error);
  g_assert_no_error (error);

  g_hash_table_insert (values, "stars", parse_json ("[\"s1\", \"s5\"]"));
  g_hash_table_insert (values, "why", parse_json ("\"Upper Case\""));
  answers = kp_layout_form_answer (layout, NULL, values, problems);
  g_assert_nonnull (answers);
  g_assert_cmpuint (problems->len, ==, 1);
  p = g_ptr_array_index (problems, 0);
  g_assert_cmpint (p->severity, ==, KP_LAYOUT_SEVERITY_ERROR);
  g_test_message ("%s", p->message);
  g_assert_nonnull (strstr (p->message, "stars"));
}

static void
test_self_closing_and_positions (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KpLayout) layout = NULL;
  const KpLayoutNode *form, *input;

  layout = kp_layout_new_from_data ("<crowd-form>\n  <p>é <crowd-input name=\"a\" required/></p>\n</crowd-form>",
                                    -1, KP_LAYOUT_FORMAT_AUTO, &error);
  g_assert_no_error (error);
  form = kp_layout_get_form (layout);
  g_assert_nonnull (form);
  g_assert_cmpint (form->line, ==, 1);
  g_assert_cmpint (form->column, ==, 1);
  input = g_ptr_array_index (((KpLayoutNode *)g_ptr_array_index (form->children, 0))->children, 1);
  g_assert_cmpint (input->kind, ==, KP_LAYOUT_NODE_CROWD_INPUT);
  g_assert_cmpint (input->line, ==, 2);
  /* Columns count characters: "  <p>é " is 7. */
  g_assert_cmpint (input->column, ==, 8);
  g_assert_true (kp_layout_node_get_boolean (input, "required"));
  g_assert_false (kp_layout_node_get_boolean (input, "disabled"));
  g_assert_cmpuint (kp_layout_get_problems (layout)->len, ==, 0);
}

static void
test_lenient_json (void)
{
  struct { const char *in; const char *out; } cases[] = {
    { "['Cat', 'Dog']", "[\"Cat\",\"Dog\"]" },
    { "{ text: 'None of the above' }", "{\"text\":\"None of the above\"}" },
    { "[ {label: 'a', left: 1.5,}, ]", "[{\"label\":\"a\",\"left\":1.5}]" },
    { "['it\\'s', \"say \\\"hi\\\"\"]", "[\"it's\",\"say \\\"hi\\\"\"]" },
    { "[\"a'b\"]", "[\"a'b\"]" },
    { "{a: true, b: null, c: false}", "{\"a\":true,\"b\":null,\"c\":false}" },
  };
  const char *bad[] = { "['a', 'b'", "['unclosed]", "", "[1 2]", "{a}" };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = kp_layout_parse_lenient_json (cases[i].in, &error);
      g_autofree char *text = NULL;

      g_assert_no_error (error);
      text = json_to_string (node, FALSE);
      g_assert_cmpstr (text, ==, cases[i].out);
    }

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonNode) node = kp_layout_parse_lenient_json (bad[i], &error);

      g_assert_null (node);
      g_assert_error (error, KP_LAYOUT_ERROR, KP_LAYOUT_ERROR_INVALID);
    }
}

/* Answers with constraints */

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(GError) error = NULL;
  JsonNode *node = json_from_string (text, &error);

  g_assert_no_error (error);
  return node;
}

static char *
answer_of (KpLayout   *layout,
           const char *name,
           const char *value_json,
           GPtrArray  *problems)
{
  g_autoptr(GPtrArray) nodes = kp_layout_dup_answerable (layout, NULL);
  g_autoptr(JsonNode) value = value_json != NULL ? parse_json (value_json) : NULL;

  for (guint i = 0; i < nodes->len; i++)
    {
      const KpLayoutNode *node = g_ptr_array_index (nodes, i);

      if (g_strcmp0 (kp_layout_node_get_attribute (node, "name"), name) == 0)
        {
          g_autoptr(JsonNode) answer = kp_layout_node_answer (node, value, problems);

          return answer != NULL ? json_to_string (answer, FALSE) : NULL;
        }
    }

  g_assert_not_reached ();
}

static void
test_answer_constraints (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KpLayout) layout = NULL;
  struct {
    const char *name;
    const char *value;
    const char *answer;
    const char *problem;  /* NULL: none */
  } cases[] = {
    { "t", "\"abc\"", "\"abc\"", NULL },
    { "t", "\"\"", "\"\"", "is required" },
    { "t", "\"ab\"", "\"ab\"", "at least 3" },
    { "t", "\"abcdefghijk\"", "\"abcdefghijk\"", "at most 10" },
    { "t", "\"abc1\"", "\"abc1\"", "does not allow the character “1”" },
    { "n", "\"12\"", "\"12\"", NULL },
    { "n", "\"200\"", "\"200\"", "out of range" },
    { "n", "\"x\"", "\"x\"", "must be a number" },
    { "s", "5", "5", NULL },
    { "s", "2.5", "2.5", NULL },
    { "s", "2.25", "2.25", "steps of 0.5" },
    { "s", "11", "11", "between 1 and 10" },
    { "s", "\"no\"", NULL, NULL },
    { "c", "\"Dog\"", "{\"label\":\"Dog\"}", "not one of the categories" },
    { "c", NULL, NULL, "Choose a category" },
    { "m", "[\"None\", \"A\"]", "{\"labels\":[\"None\",\"A\"]}", "excludes every other" },
    { "m", "[]", "{\"labels\":[]}", "at least one" },
    { "b", "{\"boundingBoxes\": [{\"label\": \"Z\", \"left\": 1, \"top\": 1, \"width\": 2, \"height\": 2}],"
           " \"inputImageProperties\": {\"width\": 9, \"height\": 9}}",
      "{\"boundingBoxes\":[{\"height\":2,\"label\":\"Z\",\"left\":1,\"top\":1,\"width\":2}],"
      "\"inputImageProperties\":{\"height\":9,\"width\":9}}", "not one of the labels" },
    { "b", "{\"boundingBoxes\": []}", NULL, "image’s size" },
    { "k", "true", "{\"on\":true}", NULL },
    { "k", "false", "{\"on\":false}", "must be checked" },
    { "e", "[{\"label\": \"x\", \"startOffset\": 2, \"endOffset\": 9}]",
      "{\"entities\":[{\"endOffset\":9,\"label\":\"x\",\"startOffset\":2}]}", "outside its text" },
    { "seg", "{\"labeledImage\": {\"pngImageData\": \"bm90IGEgcG5n\"}}", NULL, "not a base64 PNG" },
    /* "h😀!" is 4 UTF-16 code units long. */
    { "emoji", "[{\"label\": \"x\", \"startOffset\": 1, \"endOffset\": 4}]",
      "{\"entities\":[{\"endOffset\":4,\"label\":\"x\",\"startOffset\":1}]}", NULL },
    { "emoji", "[{\"label\": \"x\", \"startOffset\": 1, \"endOffset\": 5}]",
      "{\"entities\":[{\"endOffset\":5,\"label\":\"x\",\"startOffset\":1}]}", "outside its text" },
  };

  layout = kp_layout_new_from_data (
    "<crowd-form>"
    "<crowd-input name=\"t\" required min-length=\"3\" max-length=\"10\" allowed-pattern=\"[a-z]\"></crowd-input>"
    "<crowd-input name=\"n\" type=\"number\" min-value=\"0\" max-value=\"130\"></crowd-input>"
    "<crowd-slider name=\"s\" min=\"1\" max=\"10\" step=\"0.5\"></crowd-slider>"
    "<crowd-classifier name=\"c\" header=\"h\" categories=\"['Cat']\"></crowd-classifier>"
    "<crowd-classifier-multi-select name=\"m\" header=\"h\" categories=\"['A', 'B']\""
    " exclusion-category=\"{ text: 'None' }\"></crowd-classifier-multi-select>"
    "<crowd-bounding-box name=\"b\" header=\"h\" src=\"a.png\" labels=\"['Y']\"></crowd-bounding-box>"
    "<crowd-checkbox name=\"k\" required></crowd-checkbox>"
    "<crowd-entity-annotation name=\"e\" header=\"h\" labels=\"[{label: 'x'}]\" text=\"short\"></crowd-entity-annotation>"
    "<crowd-entity-annotation name=\"emoji\" header=\"h\" labels=\"[{label: 'x'}]\" text=\"h\xf0\x9f\x98\x80!\"></crowd-entity-annotation>"
    "<crowd-semantic-segmentation name=\"seg\" header=\"h\" src=\"a.png\" labels=\"['q']\"></crowd-semantic-segmentation>"
    "</crowd-form>", -1, KP_LAYOUT_FORMAT_AUTO, &error);
  g_assert_no_error (error);
  /* Only the warnings that crowd-entity-annotation submits by itself. */
  g_assert_false (kp_layout_problems_has_errors (kp_layout_get_problems (layout)));
  g_assert_true (has_problem (layout, KP_LAYOUT_SEVERITY_WARNING, 1, "submits by itself"));

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GPtrArray) problems = kp_layout_problems_new ();
      g_autofree char *answer = answer_of (layout, cases[i].name, cases[i].value, problems);

      g_test_message ("case %u: %s = %s", i, cases[i].name, cases[i].value);
      g_assert_cmpstr (answer, ==, cases[i].answer);
      if (cases[i].problem == NULL)
        g_assert_cmpuint (problems->len, ==, 0);
      else
        {
          g_assert_cmpuint (problems->len, >=, 1);
          g_assert_nonnull (strstr (((KpLayoutProblem *)g_ptr_array_index (problems, 0))->message,
                                    cases[i].problem));
        }
    }
}

/* Templating */

static void
test_placeholders (void)
{
  g_autoptr(GHashTable) row = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) problems = kp_layout_problems_new ();
  g_autofree char *out = NULL;
  g_autofree char *unchanged = NULL;
  const KpLayoutProblem *p;

  g_hash_table_insert (row, "image_url", "https://example.com/a.jpg?x=1&y=2");
  g_hash_table_insert (row, "title", "<b>\"Cats\"</b>");

  out = kp_template_fill_placeholders ("<h1>${title}</h1>\n<img src=\"${image_url}\">\n  ${missing} $ {x} ${}",
                                       row, problems);
  g_assert_cmpstr (out, ==,
                   "<h1>&lt;b&gt;&quot;Cats&quot;&lt;/b&gt;</h1>\n"
                   "<img src=\"https://example.com/a.jpg?x=1&amp;y=2\">\n  ${missing} $ {x} ${}");
  g_assert_cmpuint (problems->len, ==, 1);
  p = g_ptr_array_index (problems, 0);
  g_assert_cmpint (p->severity, ==, KP_LAYOUT_SEVERITY_ERROR);
  g_assert_cmpint (p->line, ==, 3);
  g_assert_cmpint (p->column, ==, 3);
  g_assert_nonnull (strstr (p->message, "${missing}"));

  /* Values with line breaks keep the template's lines in place. */
  {
    g_autofree char *multi = NULL;

    g_hash_table_insert (row, "notes", "one\ntwo\r\nthree");
    multi = kp_template_fill_placeholders ("<p title=\"${notes}\">${notes}</p>", row, problems);
    g_assert_cmpstr (multi, ==, "<p title=\"one&#10;two&#13;&#10;three\">one&#10;two&#13;&#10;three</p>");
    g_assert_null (strchr (multi, '\n'));
  }

  unchanged = kp_template_fill_placeholders ("${a}", NULL, problems);
  g_assert_cmpstr (unchanged, ==, "${a}");
  g_assert_cmpuint (problems->len, ==, 1);
}

static char *
render (const char *template,
        const char *input,
        GPtrArray  *problems)
{
  g_autoptr(JsonNode) node = input != NULL ? parse_json (input) : NULL;

  return kp_template_render_liquid (template, node, problems);
}

static void
test_liquid (void)
{
  const char *input = "{\"taskObject\": \"s3://b/k.jpg\", \"text\": \"<b>hi</b>\", \"n\": 3,"
                      " \"list\": [\"a\", \"b\", \"c\"], \"flag\": false, \"empty\": \"\","
                      " \"nested\": {\"deep\": [{\"v\": 1.5}]}, \"labels\": [\"x\", \"y\"]}";
  struct { const char *template; const char *out; } cases[] = {
    { "{{ task.input.taskObject | grant_read_access }}", "s3://b/k.jpg" },
    { "{{ task.input.text }}|{{ task.input.text | escape }}", "<b>hi</b>|&lt;b&gt;hi&lt;/b&gt;" },
    { "{{ task.input.labels | to_json }}", "[\"x\",\"y\"]" },
    { "{{ task.input.text | to_json }}", "\"<b>hi</b>\"" },
    { "{{task.input.n}}-{{ task.input.nested.deep[0].v }}", "3-1.5" },
    { "{% for x in task.input.list %}[{{ forloop.index }}:{{ x }}]{% endfor %}", "[1:a][2:b][3:c]" },
    { "{% if task.input.flag %}yes{% else %}no{% endif %}", "no" },
    { "{% if task.input.empty %}truthy{% endif %}", "truthy" },
    { "{% if task.input.n == 3 %}three{% elsif task.input.n == 4 %}four{% endif %}", "three" },
    { "{% if task.input.list[1] != 'b' %}x{% else %}b{% endif %}", "b" },
    { "{% unless task.input.flag %}u{% endunless %}", "u" },
    { "{% raw %}{{ not rendered }}{% endraw %}", "{{ not rendered }}" },
    { "a{% comment %}{{ gone }}{% endcomment %}b", "ab" },
    { "{%- if task.input.n -%}dash{%- endif -%}", "dash" },
    { "a{{}}b{{ | escape }}c", "abc" },
    { "{% for a in task.input.list %}{% for b in task.input.labels %}{{ a }}{{ b }} {% endfor %}{% endfor %}",
      "ax ay bx by cx cy " },
    { "{{ task.input.list.size }} {{ task.input.list.first }} {{ 'lit' }} {{ 7 }}", "3 a lit 7" },
    { "{% assign l = task.input.labels %}{% for x in l %}{{ x }}{% endfor %}{% assign t = task.input.text | escape %}{{ t }}",
      "xy&lt;b&gt;hi&lt;/b&gt;" },
    /* Shaped like Ground Truth's initial-value example for boxes. */
    { "[{% for d in task.input.nested.deep %}{% capture v %}{{ d.v }}{% endcapture %}"
      "{ label: {{ task.input.labels[0] | to_json }}, left: {{ v }} },{% endfor %}]",
      "[{ label: \"x\", left: 1.5 },]" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GPtrArray) problems = kp_layout_problems_new ();
      g_autofree char *out = render (cases[i].template, input, problems);

      g_test_message ("case %u: %s", i, cases[i].template);
      g_assert_cmpstr (out, ==, cases[i].out);
      g_assert_cmpuint (problems->len, ==, 0);
    }
}

static void
test_liquid_errors (void)
{
  struct {
    const char *template;
    int line;
    int column;
    KpLayoutSeverity severity;
    const char *fragment;
  } cases[] = {
    { "ok\n  {{ task.input.x", 2, 3, KP_LAYOUT_SEVERITY_ERROR, "not closed by “}}”" },
    { "{% if x %}open", 1, 1, KP_LAYOUT_SEVERITY_ERROR, "{% if %} is not closed" },
    { "a\n{% for x in task.input.l %}", 2, 1, KP_LAYOUT_SEVERITY_ERROR, "{% for %} is not closed" },
    { "{% endif %}", 1, 1, KP_LAYOUT_SEVERITY_ERROR, "has no opening tag" },
    { "{{ task.input.a | upcase }}", 1, 1, KP_LAYOUT_SEVERITY_ERROR, "unknown filter “upcase”" },
    { "x {% increment a %}", 1, 3, KP_LAYOUT_SEVERITY_ERROR, "unknown tag" },
    { "{% assign a %}", 1, 1, KP_LAYOUT_SEVERITY_ERROR, "assign name = value" },
    { "\n{% capture a %}open", 2, 1, KP_LAYOUT_SEVERITY_ERROR, "{% capture %} is not closed" },
    { "{{ task.input.missing }}", 1, 1, KP_LAYOUT_SEVERITY_WARNING, "not in the task input" },
    { "{% for x task.input.a %}{% endfor %}", 1, 1, KP_LAYOUT_SEVERITY_ERROR, "for x in list" },
    { "{% raw %}never ends", 1, 1, KP_LAYOUT_SEVERITY_ERROR, "raw %} is not closed" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GPtrArray) problems = kp_layout_problems_new ();
      g_autofree char *out = render (cases[i].template, "{\"a\": 1}", problems);
      const KpLayoutProblem *p;

      g_test_message ("case %u: %s", i, cases[i].template);
      g_assert_nonnull (out);
      g_assert_cmpuint (problems->len, >=, 1);
      p = g_ptr_array_index (problems, 0);
      g_assert_cmpint (p->severity, ==, cases[i].severity);
      g_assert_cmpint (p->line, ==, cases[i].line);
      g_assert_cmpint (p->column, ==, cases[i].column);
      g_assert_nonnull (strstr (p->message, cases[i].fragment));
    }

  /* Deeply nested blocks stop with an error, not a crash. */
  {
    GString *deep = g_string_new (NULL);
    g_autoptr(GPtrArray) problems = kp_layout_problems_new ();
    g_autofree char *data = NULL;
    g_autofree char *out = NULL;

    for (int i = 0; i < 5000; i++)
      g_string_append (deep, "{% if task.input.a %}");
    data = g_string_free (deep, FALSE);
    out = render (data, "{\"a\": 1}", problems);
    g_assert_true (kp_layout_problems_has_errors (problems));
  }
}

static void
test_csv (void)
{
  const char *data = "\xef\xbb\xbfimage_url,title,notes\r\n"
                     "https://a/1.jpg,\"Cats, dogs\",\"line one\nline two\"\r\n"
                     "https://a/2.jpg,\"say \"\"hi\"\"\",\n"
                     "short\n";
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) records = kp_template_parse_csv (data, -1, &error);
  g_autoptr(GHashTable) row0 = NULL;
  g_autoptr(GHashTable) row1 = NULL;
  g_autoptr(GHashTable) row2 = NULL;
  g_autoptr(GHashTable) row3 = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, 4);
  g_assert_cmpstr (((char **)g_ptr_array_index (records, 0))[0], ==, "image_url");

  row0 = kp_template_csv_row (records, 0);
  g_assert_cmpstr (g_hash_table_lookup (row0, "title"), ==, "Cats, dogs");
  g_assert_cmpstr (g_hash_table_lookup (row0, "notes"), ==, "line one\nline two");
  row1 = kp_template_csv_row (records, 1);
  g_assert_cmpstr (g_hash_table_lookup (row1, "title"), ==, "say \"hi\"");
  g_assert_cmpstr (g_hash_table_lookup (row1, "notes"), ==, "");
  row2 = kp_template_csv_row (records, 2);
  g_assert_cmpstr (g_hash_table_lookup (row2, "image_url"), ==, "short");
  g_assert_cmpstr (g_hash_table_lookup (row2, "notes"), ==, "");
  row3 = kp_template_csv_row (records, 3);
  g_assert_null (row3);

  g_clear_pointer (&records, g_ptr_array_unref);
  records = kp_template_parse_csv ("a,b\n\"open,1\n2,3\n", -1, &error);
  g_assert_null (records);
  g_assert_error (error, KP_TEMPLATE_ERROR, KP_TEMPLATE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "Line 2"));
  g_clear_error (&error);

  records = kp_template_parse_csv ("a\n\"x\"y\n", -1, &error);
  g_assert_null (records);
  g_assert_error (error, KP_TEMPLATE_ERROR, KP_TEMPLATE_ERROR_INVALID);
  g_clear_error (&error);

  records = kp_template_parse_csv ("", 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, 0);
}

/* A batch template goes through the placeholders and then parses. */
static void
test_batch_end_to_end (void)
{
  const char *csv = "image_url,question\nhttps://example.com/1.jpg,Is it a cat?\nnot-a-url:x,Q2\n";
  const char *template = "<crowd-form><crowd-image-classifier name=\"c\" src=\"${image_url}\"\n"
                         " header=\"${question}\" categories=\"['Yes', 'No']\"></crowd-image-classifier></crowd-form>";
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) records = kp_template_parse_csv (csv, -1, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GHashTable) row = kp_template_csv_row (records, i);
      g_autoptr(GPtrArray) problems = kp_layout_problems_new ();
      g_autofree char *filled = kp_template_fill_placeholders (template, row, problems);
      g_autoptr(KpLayout) layout = kp_layout_new_from_data (filled, -1, KP_LAYOUT_FORMAT_AUTO, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (problems->len, ==, 0);
      if (i == 0)
        g_assert_cmpuint (kp_layout_get_problems (layout)->len, ==, 0);
      else
        g_assert_true (has_problem (layout, KP_LAYOUT_SEVERITY_ERROR, 1, "unreachable"));
    }
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char **)a, *(const char **)b);
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *dir = NULL;
  g_autoptr(GDir) d = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  dir = corpus_dir ();
  d = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".html") || g_str_has_suffix (name, ".xml"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_strdup_printf ("/layout/corpus/%s", (char *)g_ptr_array_index (names, i));

      g_test_add_data_func (path, g_ptr_array_index (names, i), test_corpus_file);
    }

  g_test_add_func ("/layout/too-large", test_too_large);
  g_test_add_func ("/layout/too-deep", test_too_deep);
  g_test_add_func ("/layout/entity-bomb", test_entity_bomb);
  g_test_add_func ("/layout/malformed", test_malformed);
  g_test_add_func ("/layout/positions", test_self_closing_and_positions);
  g_test_add_func ("/layout/question-form-constraints", test_question_form_constraints);
  g_test_add_func ("/layout/lenient-json", test_lenient_json);
  g_test_add_func ("/layout/answer-constraints", test_answer_constraints);
  g_test_add_func ("/template/placeholders", test_placeholders);
  g_test_add_func ("/template/liquid", test_liquid);
  g_test_add_func ("/template/liquid-errors", test_liquid_errors);
  g_test_add_func ("/template/csv", test_csv);
  g_test_add_func ("/template/batch", test_batch_end_to_end);

  return g_test_run ();
}
