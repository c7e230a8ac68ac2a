/* test-layout-cli.c: kempelenctl layout check, on templates the test writes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdarg.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "../core/kp-test-util.h"

static char *
dup_ctl_path (void)
{
  const char *build_root = g_getenv ("KP_BUILD_ROOT");

  g_assert_nonnull (build_root);
  return g_build_filename (build_root, "src", "cli", "kempelenctl", NULL);
}

/* Runs kempelenctl with the arguments (NULL-terminated); returns its exit
 * status, with stdout and stderr in out and err. */
static void
set_str_take (char **slot,
                char  *value)
{
  g_free (*slot);
  *slot = value;
}

static char *write_file (const char *name,
                         const char *contents);

/* Runs kempelenctl with the arguments (NULL-terminated); returns its exit
 * status, with stdout and stderr in out and err. The output goes through
 * files rather than g_subprocess_communicate(), whose buffers GLib 2.74
 * leaks under LeakSanitizer. */
static int
run_ctl (char       **out,
         char       **err,
         const char  *first_arg,
         ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out_path = write_file ("stdout.txt", "");
  g_autofree char *err_path = write_file ("stderr.txt", "");
  g_autofree char *stdout_text = NULL;
  g_autofree char *stderr_text = NULL;
  va_list args;

  g_ptr_array_add (argv, dup_ctl_path ());
  va_start (args, first_arg);
  for (const char *arg = first_arg; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (args);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_set_stdout_file_path (launcher, out_path);
  g_subprocess_launcher_set_stderr_file_path (launcher, err_path);
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *)argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_wait (process, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));

  g_file_get_contents (out_path, &stdout_text, NULL, &error);
  g_assert_no_error (error);
  g_file_get_contents (err_path, &stderr_text, NULL, &error);
  g_assert_no_error (error);

  g_test_message ("exit %d; stdout: %s; stderr: %s", g_subprocess_get_exit_status (process),
                  stdout_text, stderr_text);

  /* The callers reuse their strings from run to run. */
  if (out != NULL)
    set_str_take (out, g_steal_pointer (&stdout_text));
  if (err != NULL)
    set_str_take (err, g_steal_pointer (&stderr_text));

  return g_subprocess_get_exit_status (process);
}

static char *
write_file (const char *name,
            const char *contents)
{
  static char *dir;
  g_autoptr(GError) error = NULL;
  char *path;

  if (dir == NULL)
    {
      dir = g_dir_make_tmp ("kp-layout-cli-XXXXXX", &error);
      g_assert_no_error (error);
    }
  path = g_build_filename (dir, name, NULL);

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
  return path;
}

static const char good_template[] =
  "<crowd-form>\n"
  "  <crowd-image-classifier name=\"category\" src=\"${image_url}\" header=\"${question}\"\n"
  "      categories=\"['Cat', 'Dog']\"></crowd-image-classifier>\n"
  "</crowd-form>\n";

static const char bad_template[] =
  "<crowd-form>\n"
  "  <crowd-bounding-box name=\"b\" src=\"https://example.com/a.jpg\"\n"
  "      labels=\"['a', 'b'\" header=\"Box\"></crowd-bounding-box>\n"
  "  <crowd-frobnicate></crowd-frobnicate>\n"
  "</crowd-form>\n";

static void
test_check_ok_and_errors (void)
{
  g_autofree char *good = write_file ("good.html", good_template);
  g_autofree char *bad = write_file ("bad.html", bad_template);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *expected = NULL;
  int status;

  /* Without data, placeholders are only warnings. */
  status = run_ctl (&out, &err, "layout", "check", good, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (err, ==, "");
  expected = g_strdup_printf ("%s:2:3: warning: The placeholder ${image_url} in src= is not filled; "
                              "give batch data\n", good);
  g_assert_true (g_str_has_prefix (out, expected));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&expected, g_free);

  /* Several files: problems of each, exit 1 for the errors of one. */
  status = run_ctl (&out, &err, "layout", "check", good, bad, NULL);
  g_assert_cmpint (status, ==, 1);
  expected = g_strdup_printf ("%s:2:3: error: The attribute labels of <crowd-bounding-box> is not valid JSON", bad);
  g_assert_nonnull (strstr (out, expected));
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("%s:4:3: error: Unknown element <crowd-frobnicate>\n", bad);
  g_assert_nonnull (strstr (out, expected));
}

static void
test_check_data (void)
{
  g_autofree char *good = write_file ("batch.html", good_template);
  g_autofree char *rows = write_file ("rows.csv",
                                      "image_url,question\n"
                                      "https://example.com/1.jpg,\"Cat, or dog?\"\n"
                                      "s3://bucket/2.jpg,Which?\n");
  g_autofree char *missing = write_file ("missing.csv", "image_url\nhttps://example.com/1.jpg\n");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *expected = NULL;
  int status;

  status = run_ctl (&out, &err, "layout", "check", "--data", rows, good, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out, ==, "");
  g_clear_pointer (&out, g_free);

  status = run_ctl (&out, &err, "layout", "check", "--data", rows, "--row", "2", good, NULL);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (out, "“s3://bucket/2.jpg” in src of <crowd-image-classifier> is unreachable"));
  g_clear_pointer (&out, g_free);

  /* A column the data lacks, with its position in the template. */
  status = run_ctl (&out, &err, "layout", "check", "--data", missing, good, NULL);
  g_assert_cmpint (status, ==, 1);
  expected = g_strdup_printf ("%s:2:70: error: The placeholder ${question} has no column in the batch data\n",
                              good);
  g_assert_nonnull (strstr (out, expected));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* No such row: a usage error. */
  status = run_ctl (&out, &err, "layout", "check", "--data", rows, "--row", "3", good, NULL);
  g_assert_cmpint (status, ==, 2);
  g_assert_true (g_str_has_prefix (err, "kempelenctl: "));
  g_assert_nonnull (strstr (err, "no row 3"));
}

static void
test_check_json (void)
{
  g_autofree char *bad = write_file ("bad-json.html", bad_template);
  g_autofree char *out = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonArray *array;
  JsonObject *first;
  int status;

  status = run_ctl (&out, NULL, "layout", "check", "--json", bad, NULL);
  g_assert_cmpint (status, ==, 1);
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  array = json_node_get_array (json_parser_get_root (parser));
  g_assert_cmpuint (json_array_get_length (array), ==, 2);
  first = json_array_get_object_element (array, 0);
  g_assert_cmpstr (json_object_get_string_member (first, "file"), ==, bad);
  g_assert_cmpint (json_object_get_int_member (first, "line"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (first, "column"), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (first, "severity"), ==, "error");
}

static void
test_check_liquid_and_hostile (void)
{
  g_autofree char *liquid = write_file ("liquid.html",
                                        "<crowd-form>\n"
                                        "<crowd-classifier name=\"c\" header=\"{{ task.input.q | escape }}\"\n"
                                        " categories=\"{{ task.input.cats | to_json | escape }}\"></crowd-classifier>\n"
                                        "{% for x in task.input.cats %}<p>{{ x }}</p>{% endfor %}\n"
                                        "</crowd-form>\n");
  g_autofree char *input = write_file ("input.json", "{\"q\": \"Which?\", \"cats\": [\"A\", \"B\"]}");
  g_autofree char *unclosed = write_file ("unclosed.html", "<crowd-form>\n{% if task.input.x %}\n</crowd-form>\n");
  GString *deep = g_string_new (NULL);
  g_autofree char *deep_data = NULL;
  g_autofree char *deep_path = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  status = run_ctl (&out, &err, "layout", "check", "--input", input, liquid, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (out, ==, "");
  g_clear_pointer (&out, g_free);

  status = run_ctl (&out, &err, "layout", "check", unclosed, NULL);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (out, ":2:1: error: Liquid: {% if %} is not closed by {% endif %}"));
  g_clear_pointer (&out, g_free);

  for (int i = 0; i < 10000; i++)
    g_string_append (deep, "<div>");
  deep_data = g_string_free (deep, FALSE);
  deep_path = write_file ("deep.html", deep_data);
  status = run_ctl (&out, &err, "layout", "check", deep_path, NULL);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (out, "nested deeper than 512 levels"));
}

static void
test_usage (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  status = run_ctl (&out, &err, "layout", "check", NULL);
  g_assert_cmpint (status, ==, 2);
  g_assert_true (g_str_has_prefix (err, "kempelenctl: "));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  status = run_ctl (&out, &err, "layout", "frobnicate", NULL);
  g_assert_cmpint (status, ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  status = run_ctl (&out, &err, "layout", "check", "--row", "2", "x.html", NULL);
  g_assert_cmpint (status, ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  status = run_ctl (&out, &err, "layout", "check", "/nonexistent/t.html", NULL);
  g_assert_cmpint (status, ==, 1);
  g_assert_true (g_str_has_prefix (out, "/nonexistent/t.html:1:1: error: "));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  status = run_ctl (&out, &err, "help", NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "layout"));
  g_clear_pointer (&out, g_free);

  status = run_ctl (&out, &err, "help", "layout", NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "check TEMPLATE"));
  g_clear_pointer (&out, g_free);

  status = run_ctl (&out, &err, "layout", "check", "--help", NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "--data"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/layout-cli/check", test_check_ok_and_errors);
  g_test_add_func ("/layout-cli/data", test_check_data);
  g_test_add_func ("/layout-cli/json", test_check_json);
  g_test_add_func ("/layout-cli/liquid-and-hostile", test_check_liquid_and_hostile);
  g_test_add_func ("/layout-cli/usage", test_usage);

  return g_test_run ();
}
