/* kp-cli-layout.c: kempelenctl layout check, the problems of HIT layouts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Prints each problem as FILE:LINE:COLUMN: error|warning: message (or a
 * JSON array with --json) and exits 1 when any template has an error, 2
 * for usage errors, 0 otherwise. With --data, the template is first
 * filled with a row of the CSV batch data, as a batch would be; Liquid
 * templates are rendered with --input (a JSON file holding task.input)
 * or, lacking it, the row as an object of strings.
 */

#include "config.h"

#include "kp-cli-layout.h"

#include <stdlib.h>
#include <string.h>

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "kp-core.h"

#define EXIT_USAGE 2

static int
usage_error (GOptionContext *context G_GNUC_UNUSED,
             const char     *message)
{
  g_printerr ("kempelenctl: %s\n", message);
  g_printerr ("%s\n", _("Run “kempelenctl layout check --help” to see its options."));
  return EXIT_USAGE;
}

static void
add_json_problem (JsonBuilder           *builder,
                  const char            *file,
                  const KpLayoutProblem *problem)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "file");
  json_builder_add_string_value (builder, file);
  json_builder_set_member_name (builder, "line");
  json_builder_add_int_value (builder, problem->line);
  json_builder_set_member_name (builder, "column");
  json_builder_add_int_value (builder, problem->column);
  json_builder_set_member_name (builder, "severity");
  json_builder_add_string_value (builder,
                                 problem->severity == KP_LAYOUT_SEVERITY_ERROR ? "error" : "warning");
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, problem->message);
  json_builder_end_object (builder);
}

static void
print_problem (const char            *file,
               const KpLayoutProblem *problem)
{
  /* The severity words stay untranslated, like a compiler's, so that
   * editors and scripts can match them. */
  g_print ("%s:%d:%d: %s: %s\n", file, MAX (problem->line, 1), MAX (problem->column, 1),
           problem->severity == KP_LAYOUT_SEVERITY_ERROR ? "error" : "warning", problem->message);
}

static JsonNode *
row_to_json (GHashTable *row)
{
  JsonObject *object = json_object_new ();
  JsonNode *node = json_node_init_object (json_node_alloc (), object);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, row);
  while (g_hash_table_iter_next (&iter, &key, &value))
    json_object_set_string_member (object, key, value);

  json_object_unref (object);
  return node;
}

static int
compare_problems (gconstpointer a,
                  gconstpointer b)
{
  const KpLayoutProblem *pa = *(const KpLayoutProblem **)a;
  const KpLayoutProblem *pb = *(const KpLayoutProblem **)b;

  if (pa->line != pb->line)
    return pa->line < pb->line ? -1 : 1;
  if (pa->column != pb->column)
    return pa->column < pb->column ? -1 : 1;
  return 0;
}

/* Checks one template; returns its problems (a failure to read or parse
 * it is one error at 1:1). */
static GPtrArray *
check_template (const char *file,
                GHashTable *row,
                JsonNode   *input)
{
  g_autoptr(GPtrArray) problems = kp_layout_problems_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(KpLayout) layout = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *filled = NULL;
  g_autofree char *rendered = NULL;
  const char *text;
  gsize length;

  if (!g_file_get_contents (file, &contents, &length, &error))
    {
      kp_layout_problems_add (problems, KP_LAYOUT_SEVERITY_ERROR, 0, 0, "%s", error->message);
      return g_steal_pointer (&problems);
    }

  if (memchr (contents, '\0', length) != NULL || !g_utf8_validate_len (contents, length, NULL))
    {
      kp_layout_problems_add (problems, KP_LAYOUT_SEVERITY_ERROR, 0, 0, "%s",
                              _("The template is not valid UTF-8 text"));
      return g_steal_pointer (&problems);
    }

  if (length > KP_LAYOUT_MAX_LENGTH)
    text = contents;
  else
    {
      filled = kp_template_fill_placeholders (contents, row, problems);
      text = filled;

      if (kp_template_has_liquid (text))
        {
          g_autoptr(JsonNode) row_input = input == NULL && row != NULL ? row_to_json (row) : NULL;

          rendered = kp_template_render_liquid (text, input != NULL ? input : row_input, problems);
          text = rendered;
        }
    }

  layout = kp_layout_new_from_data (text, -1, KP_LAYOUT_FORMAT_AUTO, &error);
  if (layout == NULL)
    {
      kp_layout_problems_add (problems, KP_LAYOUT_SEVERITY_ERROR, 0, 0, "%s", error->message);
      return g_steal_pointer (&problems);
    }

  g_ptr_array_extend (problems, kp_layout_get_problems (layout),
                      (GCopyFunc)kp_layout_problem_copy, NULL);
  g_ptr_array_sort (problems, compare_problems);

  return g_steal_pointer (&problems);
}

static int
run_check (int    argc,
           char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(GHashTable) row = NULL;
  g_autoptr(JsonNode) input = NULL;
  g_autoptr(JsonBuilder) builder = NULL;
  g_autofree char *data_path = NULL;
  g_autofree char *input_path = NULL;
  gboolean json = FALSE;
  gboolean any_error = FALSE;
  int row_number = 1;
  const GOptionEntry entries[] = {
    { "data", 0, 0, G_OPTION_ARG_FILENAME, &data_path,
      N_("Fill ${column} placeholders from a row of this CSV file"), N_("ROWS.csv") },
    { "row", 0, 0, G_OPTION_ARG_INT, &row_number,
      N_("The row of --data to use, counting from 1 (default 1)"), N_("N") },
    { "input", 0, 0, G_OPTION_ARG_FILENAME, &input_path,
      N_("Render Liquid templates with this JSON file as task.input"), N_("INPUT.json") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the problems as JSON"), NULL },
    { NULL }
  };

  g_set_prgname ("kempelenctl layout check");
  context = g_option_context_new (_("TEMPLATE…"));
  g_option_context_set_summary (context,
                                _("Checks HIT layouts (crowd-html templates, HTMLQuestion, "
                                  "QuestionForm or ExternalQuestion XML) and prints each problem as\n"
                                  "FILE:LINE:COLUMN: error|warning: MESSAGE. Exits with 1 when a "
                                  "template has an error."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);

  if (argc < 2)
    return usage_error (context, _("Which template? Give one or more files"));

  if (row_number < 1)
    return usage_error (context, _("--row counts from 1"));

  if (row_number != 1 && data_path == NULL)
    return usage_error (context, _("--row needs --data"));

  if (data_path != NULL)
    {
      g_autofree char *csv = NULL;
      gsize length;

      if (!g_file_get_contents (data_path, &csv, &length, &error))
        {
          g_printerr ("kempelenctl: %s\n", error->message);
          return EXIT_FAILURE;
        }
      records = kp_template_parse_csv (csv, length, &error);
      if (records == NULL)
        {
          g_printerr ("kempelenctl: %s: %s\n", data_path, error->message);
          return EXIT_FAILURE;
        }
      row = kp_template_csv_row (records, row_number - 1);
      if (row == NULL)
        {
          g_autofree char *message =
            g_strdup_printf (_("%s has no row %d"), data_path, row_number);

          return usage_error (context, message);
        }
    }

  if (input_path != NULL)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();

      if (!json_parser_load_from_file (parser, input_path, &error))
        {
          g_printerr ("kempelenctl: %s: %s\n", input_path, error->message);
          return EXIT_FAILURE;
        }
      input = json_node_copy (json_parser_get_root (parser));
    }

  if (json)
    {
      builder = json_builder_new ();
      json_builder_begin_array (builder);
    }

  for (int i = 1; i < argc; i++)
    {
      g_autoptr(GPtrArray) problems = check_template (argv[i], row, input);

      any_error |= kp_layout_problems_has_errors (problems);
      for (guint j = 0; j < problems->len; j++)
        {
          const KpLayoutProblem *problem = g_ptr_array_index (problems, j);

          if (json)
            add_json_problem (builder, argv[i], problem);
          else
            print_problem (argv[i], problem);
        }
    }

  if (json)
    {
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *text = NULL;

      json_builder_end_array (builder);
      root = json_builder_get_root (builder);
      text = json_to_string (root, TRUE);
      g_print ("%s\n", text);
    }

  return any_error ? EXIT_FAILURE : EXIT_SUCCESS;
}

int
kp_cli_layout_run (int    argc,
                   char **argv)
{
  if (argc >= 2 && g_str_equal (argv[1], "check"))
    return run_check (argc - 1, argv + 1);

  if (argc >= 2 && (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h")))
    {
      g_print ("%s\n\n  check TEMPLATE… [--data ROWS.csv] [--row N] [--input INPUT.json] [--json]\n"
               "      %s\n",
               _("Usage: kempelenctl layout COMMAND"),
               _("Print the problems of HIT layouts; exits with 1 when one has an error"));
      return EXIT_SUCCESS;
    }

  g_printerr ("kempelenctl: %s\n", argc < 2 ? _("Which layout command? Use “layout check TEMPLATE…”")
                                            : _("Unknown layout command; use “layout check TEMPLATE…”"));
  return EXIT_USAGE;
}
