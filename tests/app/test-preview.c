/* test-preview.c: the requester's preview window and kempelen --preview
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <adwaita.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#include "kp-core.h"
#include "kp-layout-view.h"
#include "kp-preview-window.h"

typedef struct
{
  char            *folder;
  KpPreviewWindow *window;
  guint            n_reloads;
} Fixture;

static gboolean
log_fatal_cb (const char     *log_domain,
              GLogLevelFlags  log_level,
              const char     *message,
              gpointer        user_data)
{
  if (g_strcmp0 (log_domain, "Gtk") == 0 && strstr (message, "session bus") != NULL)
    return FALSE;

  return TRUE;
}

static char *
corpus_path (const char *name)
{
  return g_build_filename (g_getenv ("KP_SOURCE_ROOT"), "tests", "core", "layouts", name, NULL);
}

static char *
write_file (Fixture    *fixture,
            const char *name,
            const char *contents,
            gssize      length)
{
  char *path = g_build_filename (fixture->folder, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, length, &error);
  g_assert_no_error (error);

  return path;
}

static void
reloaded_cb (KpPreviewWindow *window,
             Fixture         *fixture)
{
  fixture->n_reloads++;
}

static void
wait_for_map (GtkWidget *widget)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (!gtk_widget_get_mapped (widget) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (gtk_widget_get_mapped (widget));
}

static void
open_window (Fixture    *fixture,
             const char *template_path,
             const char *data_path,
             guint       row)
{
  g_autoptr(GFile) template_file = g_file_new_for_path (template_path);
  g_autoptr(GFile) data_file = data_path != NULL ? g_file_new_for_path (data_path) : NULL;

  fixture->window = kp_preview_window_new (NULL, template_file, data_file, row);
  g_signal_connect (fixture->window, "reloaded", G_CALLBACK (reloaded_cb), fixture);
  gtk_window_present (GTK_WINDOW (fixture->window));
  wait_for_map (GTK_WIDGET (fixture->window));
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->folder = g_dir_make_tmp ("kp-test-preview-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
remove_folder (const char *folder)
{
  g_autoptr(GDir) dir = g_dir_open (folder, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (folder, name, NULL);

      g_remove (path);
    }
  g_rmdir (folder);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  if (fixture->window != NULL)
    gtk_window_destroy (GTK_WINDOW (fixture->window));
  while (g_main_context_iteration (NULL, FALSE))
    ;
  remove_folder (fixture->folder);
  g_free (fixture->folder);
}

static guint
count_rows (GtkWidget *list)
{
  guint n = 0;

  for (GtkWidget *child = gtk_widget_get_first_child (list); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n++;

  return n;
}

/* The side panel lists what `kempelenctl layout check` prints, in its
 * order, then the preview's own findings. */
static void
test_problems_match_check (Fixture       *fixture,
                           gconstpointer  data)
{
  static const char * const names[] = { "problems.html", "elements.html", "question-form.xml", "form-fields.html" };

  for (guint n = 0; n < G_N_ELEMENTS (names); n++)
    {
      g_autofree char *path = corpus_path (names[n]);
      g_autofree char *ctl = g_build_filename (g_getenv ("KP_BUILD_ROOT"), "src", "cli", "kempelenctl", NULL);
      const char *argv[] = { ctl, "layout", "check", "--json", path, NULL };
      g_autofree char *out = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(JsonParser) parser = json_parser_new ();
      JsonArray *expected;
      GPtrArray *problems;
      int status;

      g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status, &error);
      g_assert_no_error (error);
      json_parser_load_from_data (parser, out, -1, &error);
      g_assert_no_error (error);
      expected = json_node_get_array (json_parser_get_root (parser));

      open_window (fixture, path, NULL, 0);
      problems = kp_preview_window_get_problems (fixture->window);
      g_assert_cmpuint (kp_preview_window_get_n_check_problems (fixture->window), ==,
                        json_array_get_length (expected));
      g_assert_cmpuint (count_rows (kp_preview_window_get_problem_list (fixture->window)), ==, problems->len);

      for (guint i = 0; i < json_array_get_length (expected); i++)
        {
          JsonObject *e = json_array_get_object_element (expected, i);
          const KpLayoutProblem *p = g_ptr_array_index (problems, i);

          g_assert_cmpint (p->line, ==, json_object_get_int_member (e, "line"));
          g_assert_cmpint (p->column, ==, json_object_get_int_member (e, "column"));
          g_assert_cmpstr (p->severity == KP_LAYOUT_SEVERITY_ERROR ? "error" : "warning", ==,
                           json_object_get_string_member (e, "severity"));
          g_assert_cmpstr (p->message, ==, json_object_get_string_member (e, "message"));
        }

      /* The preview's own findings are warnings about what it shows. */
      for (guint i = json_array_get_length (expected); i < problems->len; i++)
        g_assert_cmpint (((KpLayoutProblem *)g_ptr_array_index (problems, i))->severity, ==,
                         KP_LAYOUT_SEVERITY_WARNING);

      gtk_window_destroy (GTK_WINDOW (fixture->window));
      fixture->window = NULL;
    }
}

static void
wait_for_reload (Fixture *fixture,
                 guint    n_before)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (fixture->n_reloads == n_before && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (fixture->n_reloads, >, n_before);
}

static void
test_reload_on_change (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autofree char *path = write_file (fixture, "task.html",
                                      "<crowd-form><crowd-input name=\"first\"></crowd-input></crowd-form>", -1);
  KpLayoutView *view;
  guint n;
  g_autofree char *tmp = NULL;

  open_window (fixture, path, NULL, 0);
  view = kp_preview_window_get_view (fixture->window);
  g_assert_nonnull (kp_layout_view_get_control (view, "first"));
  g_assert_cmpuint (kp_preview_window_get_problems (fixture->window)->len, ==, 0);

  /* Written in place. */
  n = fixture->n_reloads;
  g_free (write_file (fixture, "task.html",
                      "<crowd-form><crowd-input name=\"second\"></crowd-input><crowd-blah></crowd-blah></crowd-form>",
                      -1));
  wait_for_reload (fixture, n);
  g_assert_null (kp_layout_view_get_control (view, "first"));
  g_assert_nonnull (kp_layout_view_get_control (view, "second"));
  g_assert_cmpuint (kp_preview_window_get_problems (fixture->window)->len, ==, 1);

  /* Saved as editors do: a new file renamed over the old one. */
  n = fixture->n_reloads;
  tmp = write_file (fixture, "task.html.tmp",
                    "<crowd-form><crowd-checkbox name=\"third\">x</crowd-checkbox></crowd-form>", -1);
  g_assert_cmpint (g_rename (tmp, path), ==, 0);
  wait_for_reload (fixture, n);
  g_assert_nonnull (kp_layout_view_get_control (view, "third"));
  g_assert_cmpuint (kp_preview_window_get_problems (fixture->window)->len, ==, 0);

  /* Broken by the edit: the window shows the errors, and recovers. */
  n = fixture->n_reloads;
  g_free (write_file (fixture, "task.html", "<crowd-form><crowd-classifier name=\"c\" categories=\"['a'\">", -1));
  wait_for_reload (fixture, n);
  g_assert_true (kp_layout_problems_has_errors (kp_preview_window_get_problems (fixture->window)));
}

static void
test_rows (Fixture       *fixture,
           gconstpointer  data)
{
  g_autofree char *path = write_file (fixture, "task.html",
                                      "<crowd-form><p>Hello ${name}</p>"
                                      "<crowd-input name=\"x\" value=\"${name}\"></crowd-input></crowd-form>", -1);
  g_autofree char *csv = write_file (fixture, "rows.csv", "name\nAda\n\"Grace, H.\"\n", -1);
  KpLayoutView *view;

  open_window (fixture, path, csv, 0);
  view = kp_preview_window_get_view (fixture->window);
  g_assert_cmpuint (kp_preview_window_get_n_rows (fixture->window), ==, 2);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (kp_layout_view_get_control (view, "x"))), ==, "Ada");
  g_assert_cmpuint (kp_preview_window_get_problems (fixture->window)->len, ==, 0);

  /* Already at the first row: nothing happens. */
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "preview.previous-row", NULL);
  g_assert_cmpuint (kp_preview_window_get_row (fixture->window), ==, 0);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "preview.next-row", NULL));
  g_assert_cmpuint (kp_preview_window_get_row (fixture->window), ==, 1);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (kp_layout_view_get_control (view, "x"))), ==,
                   "Grace, H.");

  /* The last row: next does nothing. */
  gtk_widget_activate_action (GTK_WIDGET (fixture->window), "preview.next-row", NULL);
  g_assert_cmpuint (kp_preview_window_get_row (fixture->window), ==, 1);

  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "preview.previous-row", NULL));
  g_assert_cmpuint (kp_preview_window_get_row (fixture->window), ==, 0);

  /* Without data, the placeholder is reported as kempelenctl does. */
  gtk_window_destroy (GTK_WINDOW (fixture->window));
  open_window (fixture, path, NULL, 0);
  g_assert_cmpuint (kp_preview_window_get_problems (fixture->window)->len, >=, 1);
}

static void
test_submit_shows_answer (Fixture       *fixture,
                          gconstpointer  data)
{
  g_autofree char *qf = corpus_path ("question-form.xml");
  g_autofree char *html = corpus_path ("flatten-objects.html");
  KpLayoutView *view;
  const char *text;

  open_window (fixture, qf, NULL, 0);
  view = kp_preview_window_get_view (fixture->window);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (kp_layout_view_get_choice (view, "stars", "s5")), TRUE);
  g_assert_true (kp_layout_view_submit (view));
  text = kp_preview_window_get_last_answer_text (fixture->window);
  g_assert_nonnull (text);
  g_assert_true (g_str_has_prefix (text, "<?xml"));
  g_assert_nonnull (strstr (text, "QuestionFormAnswers"));
  g_assert_nonnull (strstr (text, "<SelectionIdentifier>s5</SelectionIdentifier>"));
  g_assert_nonnull (strstr (text, "<FreeText>because</FreeText>"));
  gtk_window_destroy (GTK_WINDOW (fixture->window));

  open_window (fixture, html, NULL, 0);
  view = kp_preview_window_get_view (fixture->window);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (kp_layout_view_get_choice (view, "category", "Dog")), TRUE);
  g_assert_true (kp_layout_view_submit (view));
  g_assert_cmpstr (kp_preview_window_get_last_answer_text (fixture->window), ==,
                   "[{\"category.label\":\"Dog\",\"unsure.on\":false}]");
}

/* Hostile and broken templates open with errors, without a hang. */
static void
test_malformed (Fixture       *fixture,
                gconstpointer  data)
{
  GString *deep = g_string_new ("<crowd-form>\n");
  GString *bomb = g_string_new ("<!DOCTYPE html [\n<!ENTITY a \"aaaaaaaaaa\">\n");
  gsize big_size = 10 * 1024 * 1024;
  g_autofree char *big = g_malloc (big_size);
  g_autofree char *deep_text = NULL;
  g_autofree char *bomb_text = NULL;
  struct {
    const char *name;
    const char *text;
    gssize length;
    gboolean shown;
  } cases[] = {
    { "unclosed.html", "<crowd-form><div><p>text<crowd-card heading=\"x\">", -1, TRUE },
    { "labels.html", "<crowd-form><crowd-bounding-box name=\"b\" header=\"h\" src=\"x.png\" labels=\"['a', \">", -1, TRUE },
    { "deep.html", NULL, -1, FALSE },
    { "bomb.html", NULL, -1, TRUE },
    { "big.html", NULL, -1, FALSE },
    { "binary.html", "<p>\xff\xfe</p>", -1, FALSE },
    { "qf.xml", "<QuestionForm xmlns=\"http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/"
                "2017-11-06/QuestionForm.xsd\"><Question>", -1, FALSE },
  };

  for (int i = 0; i < 10000; i++)
    g_string_append (deep, "<div>");
  deep_text = g_string_free (deep, FALSE);
  cases[2].text = deep_text;
  for (int i = 1; i < 10; i++)
    {
      g_string_append_printf (bomb, "<!ENTITY %c \"", 'a' + i);
      for (int j = 0; j < 10; j++)
        g_string_append_printf (bomb, "&%c;", 'a' + i - 1);
      g_string_append (bomb, "\">\n");
    }
  g_string_append (bomb, "]>\n<crowd-form><p>&j;&j;</p></crowd-form>");
  bomb_text = g_string_free (bomb, FALSE);
  cases[3].text = bomb_text;
  memset (big, 'a', big_size);
  memcpy (big, "<p>", 3);
  cases[4].text = big;
  cases[4].length = big_size;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = write_file (fixture, cases[i].name, cases[i].text, cases[i].length);
      gint64 start = g_get_monotonic_time ();
      KpLayoutView *view;

      open_window (fixture, path, NULL, 0);
      view = kp_preview_window_get_view (fixture->window);
      g_test_message ("%s: %.0f ms", cases[i].name, (g_get_monotonic_time () - start) / 1000.0);
      g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
      g_assert_true (kp_layout_problems_has_errors (kp_preview_window_get_problems (fixture->window)));
      g_assert_cmpuint (count_rows (kp_preview_window_get_problem_list (fixture->window)), >, 0);
      g_assert_true ((kp_layout_view_get_layout (view) != NULL) == cases[i].shown);
      g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (view)) == cases[i].shown);

      gtk_window_destroy (GTK_WINDOW (fixture->window));
      fixture->window = NULL;
      while (g_main_context_iteration (NULL, FALSE))
        ;
    }
}

/* kempelen --preview … --screenshot, as a requester's CI runs it */

static int
run_kempelen (const char * const *args,
              char              **err)
{
  g_autofree char *exe = g_build_filename (g_getenv ("KP_BUILD_ROOT"), "src", "app", "kempelen", NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  int status = -1;

  g_ptr_array_add (argv, exe);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer)args[i]);
  g_ptr_array_add (argv, NULL);

  g_spawn_sync (NULL, (char **)argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, err, &status, &error);
  g_assert_no_error (error);

  return status;
}

static void
test_screenshot (Fixture       *fixture,
                 gconstpointer  data)
{
  g_autofree char *template_path = corpus_path ("form-fields.html");
  g_autofree char *png = g_build_filename (fixture->folder, "shot.png", NULL);
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GHashTable) colors = g_hash_table_new (NULL, NULL);
  const guint8 *pixels;
  int width, height, stride, channels;
  guint dark = 0;
  int status;

  {
    const char *args[] = { "--preview", template_path, "--screenshot", png, NULL };

    status = run_kempelen (args, &err);
    if (status != 0)
      g_test_message ("kempelen said: %s", err);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
  }

  pixbuf = gdk_pixbuf_new_from_file (png, &error);
  g_assert_no_error (error);
  width = gdk_pixbuf_get_width (pixbuf);
  height = gdk_pixbuf_get_height (pixbuf);
  g_test_message ("screenshot %d×%d", width, height);
  /* The whole form: taller than the window when it must be. */
  g_assert_cmpint (width, >=, 400);
  g_assert_cmpint (height, >=, 600);

  pixels = gdk_pixbuf_get_pixels (pixbuf);
  stride = gdk_pixbuf_get_rowstride (pixbuf);
  channels = gdk_pixbuf_get_n_channels (pixbuf);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        const guint8 *p = pixels + y * stride + x * channels;

        g_hash_table_add (colors, GUINT_TO_POINTER ((p[0] << 16) | (p[1] << 8) | p[2]));
        if (p[0] < 100 && p[1] < 100 && p[2] < 100)
          dark++;
      }
  /* Not blank: text, controls and the accent colour of Submit. */
  g_assert_cmpuint (g_hash_table_size (colors), >, 20);
  g_assert_cmpuint (dark, >, 1000);

  /* Errors: a missing template, and one that cannot be shown at all. */
  {
    g_autofree char *missing = g_build_filename (fixture->folder, "missing.html", NULL);
    g_autofree char *deep = NULL;
    GString *text = g_string_new (NULL);
    const char *args[] = { "--preview", missing, "--screenshot", png, NULL };

    g_clear_pointer (&err, g_free);
    status = run_kempelen (args, &err);
    g_assert_false (g_spawn_check_wait_status (status, NULL));
    g_assert_nonnull (strstr (err, "missing.html"));

    for (int i = 0; i < 1000; i++)
      g_string_append (text, "<div>");
    deep = write_file (fixture, "deep.html", text->str, -1);
    g_string_free (text, TRUE);
    args[1] = deep;
    g_clear_pointer (&err, g_free);
    status = run_kempelen (args, &err);
    g_assert_false (g_spawn_check_wait_status (status, NULL));
    g_assert_nonnull (strstr (err, "512"));
  }

  /* --data without --preview is a usage error. */
  {
    const char *args[] = { "--data", template_path, NULL };

    g_clear_pointer (&err, g_free);
    status = run_kempelen (args, &err);
    g_assert_false (g_spawn_check_wait_status (status, NULL));
    g_assert_nonnull (strstr (err, "--preview"));
  }
}

/* A remote image is in the screenshot, not its placeholder: the
 * server answers from this process's main loop while kempelen runs. */

static void
image_server_cb (SoupServer        *server,
                 SoupServerMessage *message,
                 const char        *path,
                 GHashTable        *query,
                 gpointer           user_data)
{
  GBytes *png = user_data;

  if (g_str_equal (path, "/magenta.png"))
    {
      soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (message, "image/png", SOUP_MEMORY_COPY,
                                        g_bytes_get_data (png, NULL), g_bytes_get_size (png));
    }
  else
    soup_server_message_set_status (message, SOUP_STATUS_NOT_FOUND, NULL);
}

static void
communicated_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  char **err = user_data;
  g_autoptr(GError) error = NULL;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, NULL, err, &error);
  g_assert_no_error (error);
  if (*err == NULL)
    *err = g_strdup ("");
}

static guint
count_color (GdkPixbuf *pixbuf,
             guint32    rgb)
{
  const guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  int channels = gdk_pixbuf_get_n_channels (pixbuf);
  guint n = 0;

  for (int y = 0; y < gdk_pixbuf_get_height (pixbuf); y++)
    for (int x = 0; x < gdk_pixbuf_get_width (pixbuf); x++)
      {
        const guint8 *p = pixels + y * stride + x * channels;

        if (ABS (p[0] - (int)(rgb >> 16)) < 6 && ABS (p[1] - (int)((rgb >> 8) & 0xff)) < 6 &&
            ABS (p[2] - (int)(rgb & 0xff)) < 6)
          n++;
      }

  return n;
}

static void
test_screenshot_media (Fixture       *fixture,
                       gconstpointer  data)
{
  g_autoptr(SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr(GdkPixbuf) image = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 120, 80);
  g_autoptr(GdkPixbuf) shot = NULL;
  g_autoptr(GBytes) png_bytes = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *buffer = NULL;
  g_autofree char *base = NULL;
  g_autofree char *html = NULL;
  g_autofree char *template_path = NULL;
  g_autofree char *png = g_build_filename (fixture->folder, "media.png", NULL);
  g_autofree char *exe = g_build_filename (g_getenv ("KP_BUILD_ROOT"), "src", "app", "kempelen", NULL);
  g_autofree char *err = NULL;
  gint64 deadline;
  GSList *uris;
  gsize size;

  gdk_pixbuf_fill (image, 0xd02090ff);
  gdk_pixbuf_save_to_buffer (image, &buffer, &size, "png", &error, NULL);
  g_assert_no_error (error);
  png_bytes = g_bytes_new (buffer, size);

  soup_server_add_handler (server, NULL, image_server_cb, png_bytes, NULL);
  soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  base = g_uri_to_string (uris->data);
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);
  if (g_str_has_suffix (base, "/"))
    base[strlen (base) - 1] = '\0';

  html = g_strdup_printf ("<crowd-form>\n<p>Is this magenta?</p>\n"
                          "<img src=\"%s/magenta.png\" alt=\"a colour\">\n"
                          "<crowd-input name=\"answer\" label=\"Answer\"></crowd-input>\n"
                          "</crowd-form>\n", base);
  template_path = write_file (fixture, "media.html", html, -1);

  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                              exe, "--preview", template_path, "--screenshot", png, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (process, NULL, NULL, communicated_cb, &err);
  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (err == NULL && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_nonnull (err);
  g_subprocess_wait (process, NULL, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_successful (process))
    g_test_message ("kempelen said: %s", err);
  g_assert_true (g_subprocess_get_successful (process));

  shot = gdk_pixbuf_new_from_file (png, &error);
  g_assert_no_error (error);
  /* The real image, at its size (120×80 = 9600 pixels, some lost to
   * scaling at its edges), in place of the grey placeholder. */
  g_test_message ("magenta pixels: %u", count_color (shot, 0xd02090));
  g_assert_cmpuint (count_color (shot, 0xd02090), >=, 9000);

  soup_server_disconnect (server);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_log_set_fatal_handler (log_fatal_cb, NULL);

#define ADD(path, func) \
  g_test_add ("/kempelen/app/preview/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("problems-match-check", test_problems_match_check);
  ADD ("reload-on-change", test_reload_on_change);
  ADD ("rows", test_rows);
  ADD ("submit-shows-answer", test_submit_shows_answer);
  ADD ("malformed", test_malformed);
  ADD ("screenshot", test_screenshot);
  ADD ("screenshot-media", test_screenshot_media);

  return g_test_run ();
}
