/* test-window.c: the real workstation window on a generated folder
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>

#include "kp-application.h"
#include "kp-label-dialog.h"
#include "kp-media-item.h"
#include "kp-window.h"
#include "kp-window-private.h"
#include "kp-image-pyramid.h"
#include "kp-test-render.h"
#include "../kp-test-privileges.h"

#define WAIT_TIMEOUT_S 20

typedef struct
{
  char          *folder;
  KpApplication *app;
  KpWindow      *window;
} Fixture;

/* Without a session bus GTK warns once at startup; that is the test
 * machine, not the code under test. */
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

static void
write_png (const char *folder,
           const char *name,
           int         width,
           int         height,
           guint32     rgba)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  g_autofree char *path = g_build_filename (folder, name, NULL);
  g_autoptr(GError) error = NULL;

  gdk_pixbuf_fill (pixbuf, rgba);
  gdk_pixbuf_save (pixbuf, path, "png", &error, NULL);
  g_assert_no_error (error);
}

static void
write_file (const char *folder,
            const char *name,
            const char *contents)
{
  g_autofree char *path = g_build_filename (folder, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

typedef gboolean (*Condition) (Fixture *fixture);

static void
wait_until (Fixture    *fixture,
            Condition   condition,
            const char *what)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_TIMEOUT_S * G_USEC_PER_SEC;

  while (!condition (fixture))
    {
      if (g_get_monotonic_time () > deadline)
        g_error ("Timed out waiting for %s", what);
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (1000);
    }
}

static gboolean
is_open (Fixture *fixture)
{
  return !kp_window_get_loading (fixture->window);
}

static gboolean
image_settled (Fixture *fixture)
{
  return !kp_window_get_image_loading (fixture->window);
}

static gboolean
info_done (Fixture *fixture)
{
  return !kp_window_get_info_pending (fixture->window);
}

static void
open_folder (Fixture    *fixture,
             const char *folder)
{
  g_autoptr(GFile) file = g_file_new_for_path (folder);

  kp_window_open_folder (fixture->window, file);
  g_assert_true (kp_window_get_loading (fixture->window));
  wait_until (fixture, is_open, "the folder to open");
}

static guint
find_position (Fixture    *fixture,
               const char *path)
{
  GListModel *model = kp_window_get_media_model (fixture->window);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(KpMediaItem) item = g_list_model_get_item (model, i);

      if (g_strcmp0 (kp_media_item_get_path (item), path) == 0)
        return i;
    }

  g_error ("%s is not in the list", path);
  return 0;
}

static KpMediaItem *
get_item (Fixture *fixture,
          guint    position)
{
  return g_list_model_get_item (kp_window_get_media_model (fixture->window), position);
}

static void
select_and_wait (Fixture *fixture,
                 guint    position)
{
  g_assert_true (kp_window_select_media (fixture->window, position));
  wait_until (fixture, image_settled, "the image to load");
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  fixture->folder = g_dir_make_tmp ("kp-test-window-XXXXXX", &error);
  g_assert_no_error (error);

  write_png (fixture->folder, "a.png", 64, 48, 0xff0000ff);
  write_png (fixture->folder, "b.png", 100, 80, 0x00ff00ff);
  write_png (fixture->folder, "c.png", 30, 20, 0x0000ffff);
  write_file (fixture->folder, "bad.jpg", "this is text, not a JPEG\n");
  write_file (fixture->folder, "empty.png", "");

  fixture->app = kp_application_new ();
  g_application_set_flags (G_APPLICATION (fixture->app), G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (fixture->app), NULL, &error);
  g_assert_no_error (error);

  fixture->window = g_object_ref_sink (kp_window_new (fixture->app));
  gtk_window_present (GTK_WINDOW (fixture->window));
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_unlink (child);
        }
    }

  g_rmdir (path);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(GList) toplevels = gtk_window_list_toplevels ();

  /* Error dialogs the test provoked. */
  for (GList *l = toplevels; l; l = l->next)
    if (l->data != (gpointer)fixture->window)
      gtk_window_destroy (l->data);

  gtk_window_destroy (GTK_WINDOW (fixture->window));

  /* Cancelled worker threads still hold a reference until they return. */
  {
    gpointer weak = fixture->window;
    gint64 deadline = g_get_monotonic_time () + WAIT_TIMEOUT_S * G_USEC_PER_SEC;

    g_object_add_weak_pointer (weak, &weak);
    g_clear_object (&fixture->window);
    while (weak != NULL && g_get_monotonic_time () < deadline)
      {
        if (!g_main_context_iteration (NULL, FALSE))
          g_usleep (1000);
      }
    g_assert_null (weak);
  }

  g_application_quit (G_APPLICATION (fixture->app));
  g_clear_object (&fixture->app);

  remove_tree (fixture->folder);
  g_free (fixture->folder);
}

static void
test_open_folder (Fixture       *fixture,
                  gconstpointer  user_data)
{
  GListModel *model;
  g_autoptr(KpMediaItem) a = NULL;
  g_autoptr(KpMediaItem) bad = NULL;
  g_autoptr(KpMediaItem) empty = NULL;
  GtkWidget *help;

  g_assert_null (kp_window_get_store (fixture->window));
  open_folder (fixture, fixture->folder);

  g_assert_null (kp_window_get_open_error (fixture->window));
  g_assert_nonnull (kp_window_get_store (fixture->window));
  g_assert_true (KP_IS_CANVAS (kp_window_get_canvas (fixture->window)));

  model = kp_window_get_media_model (fixture->window);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 5);
  g_assert_true (g_list_model_get_item_type (model) == KP_TYPE_MEDIA_ITEM);

  /* The first image is selected and decoded off the main thread. */
  g_assert_cmpuint (kp_window_get_selected_position (fixture->window), ==, 0);
  g_assert_cmpint (kp_window_get_current_media_id (fixture->window), !=, 0);
  wait_until (fixture, image_settled, "the first image");
  g_assert_true (kp_window_get_image_loaded (fixture->window));
  g_assert_nonnull (kp_canvas_get_texture (kp_window_get_canvas (fixture->window)));

  /* Sizes and broken files are found in the background. */
  wait_until (fixture, info_done, "the image probe");
  a = get_item (fixture, find_position (fixture, "a.png"));
  bad = get_item (fixture, find_position (fixture, "bad.jpg"));
  empty = get_item (fixture, find_position (fixture, "empty.png"));
  g_assert_cmpint (kp_media_item_get_width (a), ==, 64);
  g_assert_cmpint (kp_media_item_get_height (a), ==, 48);
  g_assert_cmpint (kp_media_item_get_status (a), ==, KP_MEDIA_STATUS_TODO);
  g_assert_cmpint (kp_media_item_get_status (bad), ==, KP_MEDIA_STATUS_BROKEN);
  g_assert_cmpint (kp_media_item_get_status (empty), ==, KP_MEDIA_STATUS_BROKEN);
  g_assert_nonnull (kp_media_item_get_error (bad));

  /* The shortcuts window comes from the resource; it is built after the
   * first frame, or at once when asked for. */
  g_assert_true (g_action_group_has_action (G_ACTION_GROUP (fixture->window), "show-help-overlay"));
  g_action_group_activate_action (G_ACTION_GROUP (fixture->window), "show-help-overlay", NULL);
  help = GTK_WIDGET (gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (fixture->window)));
  g_assert_true (GTK_IS_SHORTCUTS_WINDOW (help));
  g_assert_true (gtk_widget_get_visible (help));
  gtk_window_close (GTK_WINDOW (help));
}

static void
test_broken_image (Fixture       *fixture,
                   gconstpointer  user_data)
{
  KpCanvas *canvas;
  GdkTexture *texture;
  g_autoptr(KpMediaItem) bad = NULL;

  open_folder (fixture, fixture->folder);
  wait_until (fixture, image_settled, "the first image");
  canvas = kp_window_get_canvas (fixture->window);

  select_and_wait (fixture, find_position (fixture, "bad.jpg"));
  g_assert_false (kp_window_get_image_loaded (fixture->window));
  g_assert_nonnull (kp_window_get_image_error (fixture->window));
  g_assert_null (kp_canvas_get_texture (canvas));
  bad = get_item (fixture, find_position (fixture, "bad.jpg"));
  g_assert_cmpint (kp_media_item_get_status (bad), ==, KP_MEDIA_STATUS_BROKEN);
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (fixture->window), "mark-done"));

  select_and_wait (fixture, find_position (fixture, "empty.png"));
  g_assert_nonnull (kp_window_get_image_error (fixture->window));

  /* The rest keeps working. */
  select_and_wait (fixture, find_position (fixture, "b.png"));
  g_assert_true (kp_window_get_image_loaded (fixture->window));
  g_assert_null (kp_window_get_image_error (fixture->window));
  texture = kp_canvas_get_texture (canvas);
  g_assert_nonnull (texture);
  g_assert_cmpint (gdk_texture_get_width (texture), ==, 100);
  g_assert_cmpint (gdk_texture_get_height (texture), ==, 80);
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (fixture->window), "mark-done"));
}

/* The status page titled title, anywhere below widget. */
static AdwStatusPage *
find_status_page (GtkWidget  *widget,
                  const char *title)
{
  if (ADW_IS_STATUS_PAGE (widget) &&
      g_strcmp0 (adw_status_page_get_title (ADW_STATUS_PAGE (widget)), title) == 0)
    return ADW_STATUS_PAGE (widget);

  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      AdwStatusPage *found = find_status_page (child, title);

      if (found != NULL)
        return found;
    }

  return NULL;
}

/* An image the user may not read: as root too, since the test runs in a
 * child without the capabilities that let root read anything. */
static void
test_unreadable_image (Fixture       *fixture,
                       gconstpointer  user_data)
{
  g_autofree char *secret = g_build_filename (fixture->folder, "secret.png", NULL);
  g_autofree char *description = NULL;
  g_autoptr(KpMediaItem) item = NULL;
  AdwStatusPage *page;
  GtkWidget *stack;
  GdkTexture *texture;
  const char *error;

  if (!kp_test_run_without_dac ())
    return;

  write_png (fixture->folder, "secret.png", 40, 30, 0xffff00ff);
  g_assert_cmpint (g_chmod (secret, 0), ==, 0);
  g_assert_cmpint (g_access (secret, R_OK), !=, 0);

  open_folder (fixture, fixture->folder);
  wait_until (fixture, image_settled, "the first image");
  g_assert_null (kp_window_get_open_error (fixture->window));
  g_assert_cmpuint (g_list_model_get_n_items (kp_window_get_media_model (fixture->window)), ==, 6);

  select_and_wait (fixture, find_position (fixture, "secret.png"));
  g_assert_false (kp_window_get_image_loaded (fixture->window));
  g_assert_null (kp_canvas_get_texture (kp_window_get_canvas (fixture->window)));
  error = kp_window_get_image_error (fixture->window);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error, "secret.png"));
  g_assert_nonnull (strstr (error, "ermission"));

  /* The "Cannot Show This Image" state is what the user sees, with why. */
  page = find_status_page (GTK_WIDGET (fixture->window), "Cannot Show This Image");
  g_assert_nonnull (page);
  stack = gtk_widget_get_parent (GTK_WIDGET (page));
  g_assert_true (GTK_IS_STACK (stack));
  g_assert_true (gtk_stack_get_visible_child (GTK_STACK (stack)) == GTK_WIDGET (page));
  description = g_strdup (adw_status_page_get_description (page));
  g_assert_nonnull (strstr (description, "ermission"));
  /* What cannot be seen cannot be marked done. */
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (fixture->window), "mark-done"));

  /* The rest keeps working. */
  select_and_wait (fixture, find_position (fixture, "b.png"));
  g_assert_true (kp_window_get_image_loaded (fixture->window));
  g_assert_null (kp_window_get_image_error (fixture->window));
  g_assert_false (gtk_stack_get_visible_child (GTK_STACK (stack)) == GTK_WIDGET (page));
  texture = kp_canvas_get_texture (kp_window_get_canvas (fixture->window));
  g_assert_nonnull (texture);
  g_assert_cmpint (gdk_texture_get_width (texture), ==, 100);
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (fixture->window), "mark-done"));

  /* Readable again, it shows the next time it is chosen. */
  g_assert_cmpint (g_chmod (secret, 0644), ==, 0);
  select_and_wait (fixture, find_position (fixture, "secret.png"));
  g_assert_true (kp_window_get_image_loaded (fixture->window));
  texture = kp_canvas_get_texture (kp_window_get_canvas (fixture->window));
  g_assert_nonnull (texture);
  g_assert_cmpint (gdk_texture_get_width (texture), ==, 40);
  item = get_item (fixture, find_position (fixture, "secret.png"));
  g_assert_cmpint (kp_media_item_get_status (item), !=, KP_MEDIA_STATUS_BROKEN);
}

static void
test_navigation (Fixture       *fixture,
                 gconstpointer  user_data)
{
  GActionGroup *group = G_ACTION_GROUP (fixture->window);
  g_autoptr(KpMediaItem) first = NULL;
  g_autoptr(KpMediaItem) second = NULL;
  g_autofree char *last = NULL;
  guint n;

  open_folder (fixture, fixture->folder);
  wait_until (fixture, image_settled, "the first image");
  n = g_list_model_get_n_items (kp_window_get_media_model (fixture->window));
  first = get_item (fixture, 0);
  second = get_item (fixture, 1);

  g_assert_false (g_action_group_get_action_enabled (group, "previous-image"));
  g_assert_true (g_action_group_get_action_enabled (group, "next-image"));

  g_action_group_activate_action (group, "next-image", NULL);
  g_assert_cmpuint (kp_window_get_selected_position (fixture->window), ==, 1);
  g_assert_cmpint (kp_window_get_current_media_id (fixture->window), ==,
                   kp_media_item_get_media_id (second));
  wait_until (fixture, image_settled, "the second image");

  g_action_group_activate_action (group, "previous-image", NULL);
  g_assert_cmpuint (kp_window_get_selected_position (fixture->window), ==, 0);
  g_assert_cmpint (kp_window_get_current_media_id (fixture->window), ==,
                   kp_media_item_get_media_id (first));

  /* The last image has no next one. */
  select_and_wait (fixture, n - 1);
  g_assert_false (g_action_group_get_action_enabled (group, "next-image"));
  g_assert_false (kp_window_select_media (fixture->window, n));

  /* The project remembers where the annotator was. */
  last = kp_store_dup_setting (kp_window_get_store (fixture->window), "last-media-id");
  g_assert_cmpint (g_ascii_strtoll (last, NULL, 10), ==,
                   kp_window_get_current_media_id (fixture->window));
}

static void
test_remember_last_image (Fixture       *fixture,
                          gconstpointer  user_data)
{
  g_autoptr(KpMediaItem) c = NULL;
  guint position;

  open_folder (fixture, fixture->folder);
  position = find_position (fixture, "c.png");
  select_and_wait (fixture, position);
  c = get_item (fixture, position);

  /* Open it again, as on the next day: the same image comes back. */
  open_folder (fixture, fixture->folder);
  g_assert_cmpuint (kp_window_get_selected_position (fixture->window), ==, position);
  g_assert_cmpint (kp_window_get_current_media_id (fixture->window), ==,
                   kp_media_item_get_media_id (c));
}

static void
test_mark_done (Fixture       *fixture,
                gconstpointer  user_data)
{
  GActionGroup *group = G_ACTION_GROUP (fixture->window);
  g_autoptr(GSettings) settings = g_settings_new (KP_SETTINGS_SCHEMA_ID);
  g_autoptr(KpMedia) media = NULL;
  g_autoptr(GVariant) state = NULL;
  KpStore *store;
  guint a_position;
  gint64 a_id;

  open_folder (fixture, fixture->folder);
  store = kp_window_get_store (fixture->window);
  a_position = find_position (fixture, "a.png");
  select_and_wait (fixture, a_position);
  a_id = kp_window_get_current_media_id (fixture->window);

  /* Auto-advance (the default) moves on to the next image. */
  g_settings_set_boolean (settings, "auto-advance", TRUE);
  g_action_group_activate_action (group, "mark-done", NULL);
  media = kp_store_get_media (store, a_id, NULL);
  g_assert_cmpint (media->status, ==, KP_MEDIA_STATUS_DONE);
  g_assert_cmpuint (kp_window_get_selected_position (fixture->window), ==, a_position + 1);
  g_clear_pointer (&media, kp_media_free);

  /* Without it, the window stays and the action toggles back. */
  g_settings_set_boolean (settings, "auto-advance", FALSE);
  select_and_wait (fixture, a_position);
  state = g_action_group_get_action_state (group, "mark-done");
  g_assert_true (g_variant_get_boolean (state));
  g_action_group_activate_action (group, "mark-done", NULL);
  media = kp_store_get_media (store, a_id, NULL);
  g_assert_cmpint (media->status, ==, KP_MEDIA_STATUS_TODO);
  g_assert_cmpuint (kp_window_get_selected_position (fixture->window), ==, a_position);
  g_clear_pointer (&state, g_variant_unref);
  state = g_action_group_get_action_state (group, "mark-done");
  g_assert_false (g_variant_get_boolean (state));
  g_settings_reset (settings, "auto-advance");
}

static guint
count_annotations (KpStore *store,
                   gint64   media_id)
{
  g_autoptr(GPtrArray) annotations = kp_store_list_annotations (store, media_id, NULL);

  g_assert_nonnull (annotations);
  return annotations->len;
}

static void
test_labels_and_undo (Fixture       *fixture,
                      gconstpointer  user_data)
{
  GActionGroup *group = G_ACTION_GROUP (fixture->window);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) annotations = NULL;
  KpCanvas *canvas;
  KpStore *store;
  GtkWindow *dialog;
  gint64 car_id, person_id, media_id, box_id;
  const KpAnnotation *annotation;

  open_folder (fixture, fixture->folder);
  store = kp_window_get_store (fixture->window);
  canvas = kp_window_get_canvas (fixture->window);
  select_and_wait (fixture, find_position (fixture, "b.png"));
  media_id = kp_window_get_current_media_id (fixture->window);

  /* A label added through the store shows after a reload. */
  car_id = kp_store_add_label (store, "Car", "#e01b24", 1, &error);
  g_assert_no_error (error);
  kp_window_reload_labels (fixture->window);
  g_assert_cmpint (kp_window_get_current_label_id (fixture->window), ==, car_id);
  g_assert_cmpint (kp_canvas_get_current_label_id (canvas), ==, car_id);

  /* The dialog shows store errors inline and stays open. */
  dialog = kp_window_show_label_dialog (fixture->window, 0);
  g_assert_true (KP_IS_LABEL_DIALOG (dialog));
  kp_label_dialog_set_values (KP_LABEL_DIALOG (dialog), "Car", "#3584e4", 2);
  g_assert_false (kp_label_dialog_save (KP_LABEL_DIALOG (dialog)));
  g_assert_nonnull (kp_label_dialog_get_error (KP_LABEL_DIALOG (dialog)));
  kp_label_dialog_set_values (KP_LABEL_DIALOG (dialog), "   ", "#3584e4", 2);
  g_assert_false (kp_label_dialog_save (KP_LABEL_DIALOG (dialog)));
  kp_label_dialog_set_values (KP_LABEL_DIALOG (dialog), "Person “Ä/B”", "#3584e4", 2);
  g_assert_true (kp_label_dialog_save (KP_LABEL_DIALOG (dialog)));
  person_id = kp_window_get_current_label_id (fixture->window);
  g_assert_cmpint (person_id, !=, car_id);
  g_assert_cmpint (person_id, !=, 0);

  /* Key 1 chooses Car again. */
  g_action_group_activate_action (group, "select-label", g_variant_new_int32 (1));
  g_assert_cmpint (kp_window_get_current_label_id (fixture->window), ==, car_id);

  /* Draw a box through the tool API: it is in the store at once. */
  g_assert_false (g_action_group_get_action_enabled (group, "undo"));
  kp_canvas_tool_press (canvas, 10, 10, 0);
  kp_canvas_tool_motion (canvas, 40, 30, 0);
  kp_canvas_tool_release (canvas, 60, 50, 0);
  g_assert_cmpuint (count_annotations (store, media_id), ==, 1);
  g_assert_true (g_action_group_get_action_enabled (group, "undo"));

  annotations = kp_store_list_annotations (store, media_id, NULL);
  box_id = ((KpAnnotation *)g_ptr_array_index (annotations, 0))->id;
  g_assert_cmpint (((KpAnnotation *)g_ptr_array_index (annotations, 0))->label_id, ==, car_id);

  /* Key 2 with the box selected relabels it, as one undoable step. */
  kp_canvas_set_selected_id (canvas, box_id);
  g_action_group_activate_action (group, "select-label", g_variant_new_int32 (2));
  annotation = kp_document_lookup (kp_window_get_current_document (fixture->window), box_id);
  g_assert_nonnull (annotation);
  g_assert_cmpint (annotation->label_id, ==, person_id);

  g_action_group_activate_action (group, "undo", NULL);
  annotation = kp_document_lookup (kp_window_get_current_document (fixture->window), box_id);
  g_assert_cmpint (annotation->label_id, ==, car_id);

  g_action_group_activate_action (group, "undo", NULL);
  g_assert_cmpuint (count_annotations (store, media_id), ==, 0);
  g_assert_false (g_action_group_get_action_enabled (group, "undo"));
  g_assert_true (g_action_group_get_action_enabled (group, "redo"));

  g_action_group_activate_action (group, "redo", NULL);
  g_assert_cmpuint (count_annotations (store, media_id), ==, 1);

  /* The undo history survives switching images within the session. */
  g_action_group_activate_action (group, "next-image", NULL);
  wait_until (fixture, image_settled, "the next image");
  g_assert_false (g_action_group_get_action_enabled (group, "undo"));
  g_action_group_activate_action (group, "previous-image", NULL);
  wait_until (fixture, image_settled, "the image again");
  g_assert_true (g_action_group_get_action_enabled (group, "undo"));
  g_assert_true (g_action_group_get_action_enabled (group, "redo"));

  /* The box made the image "in progress". */
  {
    g_autoptr(KpMediaItem) item = get_item (fixture, kp_window_get_selected_position (fixture->window));

    g_assert_cmpint (kp_media_item_get_status (item), ==, KP_MEDIA_STATUS_IN_PROGRESS);
  }
}

static AdwMessageDialog *
find_message_dialog (void)
{
  g_autoptr(GList) toplevels = gtk_window_list_toplevels ();

  for (GList *l = toplevels; l; l = l->next)
    if (ADW_IS_MESSAGE_DIALOG (l->data) && gtk_widget_get_visible (l->data))
      return l->data;

  return NULL;
}

static void
test_delete_label (Fixture       *fixture,
                   gconstpointer  user_data)
{
  GActionGroup *group = G_ACTION_GROUP (fixture->window);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) labels = NULL;
  KpAnnotation annotation = { 0 };
  AdwMessageDialog *dialog;
  KpStore *store;
  gint64 unused_id, used_id, media_id;

  open_folder (fixture, fixture->folder);
  store = kp_window_get_store (fixture->window);
  select_and_wait (fixture, find_position (fixture, "a.png"));
  media_id = kp_window_get_current_media_id (fixture->window);

  unused_id = kp_store_add_label (store, "Unused", "#33d17a", 0, &error);
  g_assert_no_error (error);
  used_id = kp_store_add_label (store, "Used", "#e01b24", 3, &error);
  g_assert_no_error (error);
  kp_window_reload_labels (fixture->window);

  /* An unused label goes at once. */
  g_action_group_activate_action (group, "delete-label", g_variant_new_int64 (unused_id));
  g_assert_null (find_message_dialog ());
  labels = kp_store_list_labels (store, NULL);
  g_assert_cmpuint (labels->len, ==, 1);
  g_clear_pointer (&labels, g_ptr_array_unref);

  /* A label in use asks first; its box goes with it. */
  {
    KpDocument *document = kp_window_get_current_document (fixture->window);
    KpRect rect = { 5, 5, 20, 20 };

    g_assert_cmpint (kp_document_add (document, used_id, &rect, &error), !=, 0);
    g_assert_no_error (error);
  }
  (void)annotation;

  g_action_group_activate_action (group, "delete-label", g_variant_new_int64 (used_id));
  dialog = find_message_dialog ();
  g_assert_nonnull (dialog);
  labels = kp_store_list_labels (store, NULL);
  g_assert_cmpuint (labels->len, ==, 1);
  g_clear_pointer (&labels, g_ptr_array_unref);

  adw_message_dialog_response (dialog, "delete");
  labels = kp_store_list_labels (store, NULL);
  g_assert_cmpuint (labels->len, ==, 0);
  g_assert_cmpuint (count_annotations (store, media_id), ==, 0);
  g_assert_cmpuint (kp_document_get_annotations (kp_window_get_current_document (fixture->window))->len, ==, 0);
  g_assert_cmpint (kp_window_get_current_label_id (fixture->window), ==, 0);
}

static void
export_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static GAsyncResult *export_result;

static gboolean
export_finished (Fixture *fixture)
{
  return export_result != NULL;
}

static void
test_export (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) output = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *path = NULL;
  KpDocument *document;
  KpStore *store;
  JsonObject *root;
  KpRect rect = { 2, 3, 10, 12 };
  gint64 label_id;
  guint n_images = 0;

  open_folder (fixture, fixture->folder);
  store = kp_window_get_store (fixture->window);
  select_and_wait (fixture, find_position (fixture, "c.png"));

  label_id = kp_store_add_label (store, "Thing", "#3584e4", 1, &error);
  g_assert_no_error (error);
  kp_window_reload_labels (fixture->window);
  document = kp_window_get_current_document (fixture->window);
  g_assert_cmpint (kp_document_add (document, label_id, &rect, &error), !=, 0);
  g_assert_no_error (error);

  path = g_build_filename (fixture->folder, "export.json", NULL);
  output = g_file_new_for_path (path);
  export_result = NULL;
  kp_window_export_async (fixture->window, KP_EXPORT_FORMAT_COCO, output, NULL,
                          export_done_cb, &export_result);
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (fixture->window), "export"));
  wait_until (fixture, export_finished, "the export");
  g_assert_true (kp_window_export_finish (fixture->window, export_result, &n_images, &error));
  g_clear_object (&export_result);
  g_assert_no_error (error);
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (fixture->window), "export"));

  /* a, b and c; the two broken files are left out. */
  g_assert_cmpuint (n_images, ==, 3);

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "images")), ==, 3);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "annotations")), ==, 1);

  /* An export below a file (not a folder) fails cleanly. */
  {
    g_autofree char *bad_path = g_build_filename (fixture->folder, "a.png", "x.json", NULL);
    g_autoptr(GFile) bad = g_file_new_for_path (bad_path);

    kp_window_export_async (fixture->window, KP_EXPORT_FORMAT_COCO, bad, NULL,
                            export_done_cb, &export_result);
    wait_until (fixture, export_finished, "the failing export");
    g_assert_false (kp_window_export_finish (fixture->window, export_result, NULL, &error));
    g_assert_nonnull (error);
    g_clear_object (&export_result);
  }
}

static void
test_open_errors (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autofree char *missing = g_build_filename (fixture->folder, "no-such-folder", NULL);
  g_autofree char *file = g_build_filename (fixture->folder, "a.png", NULL);

  /* A folder that does not exist. */
  open_folder (fixture, missing);
  g_assert_nonnull (kp_window_get_open_error (fixture->window));
  g_assert_null (kp_window_get_store (fixture->window));
  g_assert_nonnull (find_message_dialog ());

  /* A file instead of a folder. */
  open_folder (fixture, file);
  g_assert_nonnull (kp_window_get_open_error (fixture->window));
  g_assert_null (kp_window_get_store (fixture->window));

  /* A project from a newer Kempelen is refused, not touched. */
  {
    g_autofree char *newer = g_build_filename (fixture->folder, "newer", NULL);
    g_autofree char *db_dir = g_build_filename (newer, ".kempelen", NULL);
    g_autofree char *db = g_build_filename (db_dir, "project.db", NULL);
    g_autoptr(KpStore) store = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *before = NULL;
    g_autofree char *after = NULL;
    gsize before_len, after_len;

    g_assert_cmpint (g_mkdir_with_parents (db_dir, 0755), ==, 0);
    write_png (newer, "x.png", 8, 8, 0xffffffff);
    store = kp_store_open (newer, &error);
    g_assert_no_error (error);
    g_clear_object (&store);
    {
      /* Bump user_version far beyond what this program knows. */
      sqlite3 *db_handle = NULL;

      g_assert_cmpint (sqlite3_open (db, &db_handle), ==, SQLITE_OK);
      g_assert_cmpint (sqlite3_exec (db_handle, "PRAGMA user_version = 999;", NULL, NULL, NULL), ==, SQLITE_OK);
      sqlite3_close (db_handle);
    }
    g_file_get_contents (db, &before, &before_len, NULL);

    open_folder (fixture, newer);
    g_assert_nonnull (kp_window_get_open_error (fixture->window));
    g_assert_null (kp_window_get_store (fixture->window));
    g_file_get_contents (db, &after, &after_len, NULL);
    g_assert_cmpmem (before, before_len, after, after_len);
  }

  /* And a good folder still opens afterwards. */
  open_folder (fixture, fixture->folder);
  g_assert_null (kp_window_get_open_error (fixture->window));
  g_assert_nonnull (kp_window_get_store (fixture->window));
}

static guint thumbnails_ready;

static gboolean
thumbnails_loaded (Fixture *fixture)
{
  GListModel *model = kp_window_get_media_model (fixture->window);
  guint n = 0;

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(KpMediaItem) item = g_list_model_get_item (model, i);

      if (kp_media_item_get_thumbnail (item) != NULL)
        n++;
    }

  thumbnails_ready = n;
  return n == 3;
}

static void
test_thumbnails (Fixture       *fixture,
                 gconstpointer  user_data)
{
  g_autofree char *cache = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GError) error = NULL;

  open_folder (fixture, fixture->folder);

  /* The three good images get thumbnails for their (visible) rows. */
  wait_until (fixture, thumbnails_loaded, "the thumbnails");
  g_assert_cmpuint (thumbnails_ready, ==, 3);

  cache = g_build_filename (fixture->folder, ".kempelen", "thumbnails", NULL);
  dir = g_dir_open (cache, 0, &error);
  g_assert_no_error (error);
  g_assert_nonnull (g_dir_read_name (dir));
}

/* A deterministic picture with detail everywhere, so a misplaced image or
 * box changes many pixels. */
static void
write_pattern (const char *folder,
               const char *name,
               int         width,
               int         height)
{
  g_autofree char *path = g_build_filename (folder, name, NULL);
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height);
  cairo_t *cr = cairo_create (surface);
  cairo_pattern_t *gradient = cairo_pattern_create_linear (0, 0, width, height);

  cairo_pattern_add_color_stop_rgb (gradient, 0, 0.95, 0.85, 0.55);
  cairo_pattern_add_color_stop_rgb (gradient, 1, 0.25, 0.45, 0.75);
  cairo_set_source (cr, gradient);
  cairo_paint (cr);
  cairo_pattern_destroy (gradient);

  for (int y = 0; y < height; y += 40)
    for (int x = (y / 40) % 2 * 40; x < width; x += 80)
      {
        cairo_set_source_rgb (cr, (x % 160) / 160.0, 0.3, (y % 120) / 120.0);
        cairo_rectangle (cr, x + 8, y + 8, 24, 24);
        cairo_fill (cr);
      }

  cairo_destroy (cr);
  g_assert_cmpint (cairo_surface_write_to_png (surface, path), ==, CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy (surface);
}

static gboolean
canvas_laid_out (Fixture *fixture)
{
  KpCanvas *canvas = kp_window_get_canvas (fixture->window);

  return gtk_widget_get_mapped (GTK_WIDGET (canvas)) &&
         gtk_widget_get_width (GTK_WIDGET (canvas)) >= 320 &&
         gtk_widget_get_height (GTK_WIDGET (canvas)) >= 240 &&
         kp_canvas_get_texture (canvas) != NULL;
}

/* The real window on a generated folder: the box tool driven through its
 * image-coordinate API, and the canvas rendered and compared with a
 * reference picture. */
static gboolean
canvas_even (Fixture *fixture)
{
  GtkWidget *canvas = GTK_WIDGET (kp_window_get_canvas (fixture->window));

  return (gtk_widget_get_width (canvas) - 320) % 2 == 0 && (gtk_widget_get_height (canvas) - 240) % 2 == 0;
}

static void
test_canvas_snapshot (Fixture       *fixture,
                      gconstpointer  user_data)
{
  GActionGroup *group = G_ACTION_GROUP (fixture->window);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) annotations = NULL;
  g_autofree char *path = kp_test_reference_path ("window-canvas.png");
  cairo_surface_t *rendered, *reference, *moved;
  const KpAnnotation *first, *second;
  const KpView *view;
  KpCanvas *canvas;
  KpStore *store;
  KpRect rect;
  gint64 car_id, person_id, media_id;

  write_pattern (fixture->folder, "pattern.png", 320, 240);
  open_folder (fixture, fixture->folder);
  store = kp_window_get_store (fixture->window);
  canvas = kp_window_get_canvas (fixture->window);
  select_and_wait (fixture, find_position (fixture, "pattern.png"));
  media_id = kp_window_get_current_media_id (fixture->window);

  car_id = kp_store_add_label (store, "car", "#e01b24", 1, &error);
  g_assert_no_error (error);
  person_id = kp_store_add_label (store, "person", "#2ec27e", 2, &error);
  g_assert_no_error (error);
  kp_window_reload_labels (fixture->window);

  wait_until (fixture, canvas_laid_out, "the canvas to show the image");

  /* The reference has the image on whole pixels, as it is when the
   * canvas and the image have sizes of the same parity; the panels
   * around the canvas decide its size, so make it so. */
  {
    int dw = (gtk_widget_get_width (GTK_WIDGET (canvas)) - 320) % 2;
    int dh = (gtk_widget_get_height (GTK_WIDGET (canvas)) - 240) % 2;

    if (dw != 0 || dh != 0)
      {
        int width, height;

        gtk_window_get_default_size (GTK_WINDOW (fixture->window), &width, &height);
        gtk_window_set_default_size (GTK_WINDOW (fixture->window), width + dw, height + dh);
        wait_until (fixture, canvas_even, "the canvas to be resized");
      }
  }

  /* Captions are text, and text depends on the fonts installed. */
  kp_canvas_set_show_captions (canvas, FALSE);
  kp_canvas_set_zoom (canvas, 1.0);

  /* A car, then a person (key 2), each dragged with the tool. */
  g_action_group_activate_action (group, "select-label", g_variant_new_int32 (1));
  kp_canvas_tool_press (canvas, 20, 30, 0);
  kp_canvas_tool_motion (canvas, 90, 80, 0);
  kp_canvas_tool_release (canvas, 140, 120, 0);
  /* The new box is selected, where key 2 would relabel it: deselect first. */
  g_assert_cmpint (kp_canvas_get_selected_id (canvas), !=, 0);
  kp_canvas_set_selected_id (canvas, 0);
  g_action_group_activate_action (group, "select-label", g_variant_new_int32 (2));
  kp_canvas_tool_press (canvas, 300, 200, 0);
  kp_canvas_tool_motion (canvas, 250, 100, 0);
  kp_canvas_tool_release (canvas, 180, 60, 0);
  /* A click inside the car selects it. */
  kp_canvas_tool_press (canvas, 60, 60, 0);
  kp_canvas_tool_release (canvas, 60, 60, 0);

  annotations = kp_store_list_annotations (store, media_id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (annotations->len, ==, 2);
  first = g_ptr_array_index (annotations, 0);
  second = g_ptr_array_index (annotations, 1);
  g_assert_cmpint (first->label_id, ==, car_id);
  g_assert_cmpfloat (first->rect.x, ==, 20);
  g_assert_cmpfloat (first->rect.y, ==, 30);
  g_assert_cmpfloat (first->rect.width, ==, 120);
  g_assert_cmpfloat (first->rect.height, ==, 90);
  g_assert_cmpint (second->label_id, ==, person_id);
  g_assert_cmpfloat (second->rect.x, ==, 180);
  g_assert_cmpfloat (second->rect.y, ==, 60);
  g_assert_cmpfloat (second->rect.width, ==, 120);
  g_assert_cmpfloat (second->rect.height, ==, 140);
  g_assert_cmpint (kp_canvas_get_selected_id (canvas), ==, first->id);

  /* The image's own area of the canvas, whatever the window's layout. */
  view = kp_canvas_get_view (canvas);
  g_assert_cmpfloat (view->scale, ==, 1.0);
  rendered = kp_test_render_widget (GTK_WIDGET (canvas), view->offset_x, view->offset_y, 320, 240);
  kp_test_assert_matches_reference (rendered, "window-canvas.png");

  /* The comparison catches a box moved by 10 px. */
  reference = cairo_image_surface_create_from_png (path);
  rect = first->rect;
  rect.x += 10;
  g_assert_true (kp_document_set_rect (kp_window_get_current_document (fixture->window),
                                       first->id, &rect, &error));
  g_assert_no_error (error);
  moved = kp_test_render_widget (GTK_WIDGET (canvas), view->offset_x, view->offset_y, 320, 240);
  g_assert_cmpfloat (kp_test_compare_surfaces (moved, reference), >, KP_TEST_PIXEL_TOLERANCE);

  cairo_surface_destroy (moved);
  cairo_surface_destroy (reference);
  cairo_surface_destroy (rendered);
}

/* Large images either side of the current one: their pyramids are built
 * ahead, one at a time once the current one's is done, and moving to one
 * shows its layer in the same frame. */

static gboolean
neighbours_prepared (Fixture *fixture)
{
  KpLayerPrefetcher *prefetcher = fixture->window->layer_prefetcher;
  KpImageLayer *current = kp_canvas_get_image_layer (kp_window_get_canvas (fixture->window));
  GListModel *model = kp_window_get_media_model (fixture->window);
  guint position = kp_window_get_selected_position (fixture->window);

  if (current == NULL || kp_image_layer_get_building (current) ||
      kp_layer_prefetcher_is_busy (prefetcher))
    return FALSE;

  for (int offset = -1; offset <= 1; offset += 2)
    {
      g_autoptr(KpMediaItem) item = g_list_model_get_item (model, position + offset);
      KpImageLayer *layer = kp_layer_prefetcher_lookup (prefetcher, kp_media_item_get_media_id (item));

      if (layer == NULL || kp_image_layer_get_building (layer))
        return FALSE;
    }

  return TRUE;
}

static gboolean
layer_sharp (Fixture *fixture)
{
  KpCanvas *canvas = kp_window_get_canvas (fixture->window);
  KpImageLayer *layer = kp_canvas_get_image_layer (canvas);

  kp_test_wait_for_frame (GTK_WIDGET (canvas));
  return layer != NULL && kp_image_layer_get_n_missing (layer) == 0;
}

/* Holds every pyramid build at its first written row of tiles while
 * hold is set (kp_image_pyramid_set_write_hook). */
static GMutex hold_lock;
static GCond hold_cond;
static gboolean hold_builds;
static gboolean build_held;

static void
hold_build_cb (KpImagePyramid *pyramid,
               int             level,
               int             tile_row,
               gpointer        user_data)
{
  g_mutex_lock (&hold_lock);
  build_held = hold_builds;
  while (hold_builds)
    g_cond_wait (&hold_cond, &hold_lock);
  g_mutex_unlock (&hold_lock);
}

static gboolean
is_build_held (Fixture *fixture)
{
  gboolean held;

  g_mutex_lock (&hold_lock);
  held = build_held;
  g_mutex_unlock (&hold_lock);
  return held;
}

static void
release_builds (void)
{
  g_mutex_lock (&hold_lock);
  hold_builds = FALSE;
  g_cond_broadcast (&hold_cond);
  g_mutex_unlock (&hold_lock);
}

static gboolean
decode_bar_shows_progress (Fixture *fixture)
{
  KpImageLayer *layer = kp_canvas_get_image_layer (kp_window_get_canvas (fixture->window));

  /* The last progress reported, never ahead of the build. */
  return layer != NULL && gtk_widget_get_visible (GTK_WIDGET (fixture->window->decode_bar)) &&
         gtk_progress_bar_get_fraction (fixture->window->decode_bar) <= kp_image_layer_get_progress (layer);
}

static gint64
media_id_at (Fixture *fixture,
             guint    position)
{
  g_autoptr(KpMediaItem) item = get_item (fixture, position);

  return kp_media_item_get_media_id (item);
}

static guint thumbnail_position;

static gboolean
has_thumbnail (Fixture *fixture)
{
  g_autoptr(KpMediaItem) item = get_item (fixture, thumbnail_position);

  return kp_media_item_get_thumbnail (item) != NULL;
}

static gboolean
only_current_layer (Fixture *fixture)
{
  KpLayerPrefetcher *prefetcher = fixture->window->layer_prefetcher;
  guint n = g_list_model_get_n_items (kp_window_get_media_model (fixture->window));
  guint current = kp_window_get_selected_position (fixture->window);

  for (guint i = 0; i < n; i++)
    if (i != current && kp_layer_prefetcher_lookup (prefetcher, media_id_at (fixture, i)) != NULL)
      return FALSE;

  return TRUE;
}

static void
test_large_neighbours (Fixture       *fixture,
                       gconstpointer  user_data)
{
  KpLayerPrefetcher *prefetcher = fixture->window->layer_prefetcher;
  KpCanvas *canvas = kp_window_get_canvas (fixture->window);
  KpImageLayer *shown, *prepared, *previous;
  cairo_surface_t *rendered;
  guint big1, big2, big3;
  const guint8 *pixel;
  int width, height;

  write_png (fixture->folder, "big1.png", 8192, 1024, 0xff0000ff);
  write_png (fixture->folder, "big2.png", 8192, 1024, 0x00ff00ff);
  write_png (fixture->folder, "big3.png", 8192, 1024, 0x0000ffff);
  write_png (fixture->folder, "big4.png", 8192, 1024, 0xffffffff);
  open_folder (fixture, fixture->folder);
  wait_until (fixture, info_done, "the image sizes");
  big1 = find_position (fixture, "big1.png");
  big2 = find_position (fixture, "big2.png");
  big3 = find_position (fixture, "big3.png");
  g_assert_cmpuint (big2, ==, big1 + 1);
  g_assert_cmpuint (big3, ==, big2 + 1);

  /* While its build runs (held at its first row of tiles), a bar over
   * the canvas says how far it got. */
  g_mutex_lock (&hold_lock);
  hold_builds = TRUE;
  build_held = FALSE;
  g_mutex_unlock (&hold_lock);
  kp_image_pyramid_set_write_hook (hold_build_cb, NULL);
  select_and_wait (fixture, big2);
  shown = kp_canvas_get_image_layer (canvas);
  g_assert_nonnull (shown);
  wait_until (fixture, is_build_held, "the build to be held");
  g_assert_true (kp_image_layer_get_building (shown));
  wait_until (fixture, decode_bar_shows_progress, "the decode bar");
  g_assert_cmpfloat (kp_image_layer_get_progress (shown), <, 1.0);
  release_builds ();
  kp_image_pyramid_set_write_hook (NULL, NULL);

  wait_until (fixture, neighbours_prepared, "the neighbours' pyramids");
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (fixture->window->decode_bar)));

  /* The shown layer keeps its full memory; the prepared ones little. */
  prepared = kp_layer_prefetcher_lookup (prefetcher, media_id_at (fixture, big3));
  previous = kp_layer_prefetcher_lookup (prefetcher, media_id_at (fixture, big1));
  g_assert_true (shown == kp_layer_prefetcher_lookup (prefetcher, media_id_at (fixture, big2)));
  g_assert_cmpuint (kp_image_layer_get_memory_cap (shown), >, KP_LAYER_PREFETCHER_BACKGROUND_CAP);
  g_assert_cmpuint (kp_image_layer_get_memory_cap (prepared), ==, KP_LAYER_PREFETCHER_BACKGROUND_CAP);
  g_assert_cmpuint (kp_image_layer_get_memory_cap (previous), ==, KP_LAYER_PREFETCHER_BACKGROUND_CAP);
  g_assert_false (kp_image_layer_get_building (prepared));
  g_assert_null (kp_image_layer_get_error (prepared));

  /* Their thumbnails come from the pyramids; a large image never opened
   * or prepared has none yet, and that is no failure. */
  for (guint position = big1; position <= big3; position++)
    {
      thumbnail_position = position;
      wait_until (fixture, has_thumbnail, "a large image's thumbnail");
    }
  {
    g_autoptr(KpMediaItem) item = get_item (fixture, big3 + 1);

    g_assert_cmpstr (kp_media_item_get_path (item), ==, "big4.png");
    g_assert_null (kp_media_item_get_thumbnail (item));
    g_assert_false (kp_media_item_get_thumbnail_failed (item));
  }

  /* The next image: its prepared layer, in this very call. */
  g_assert_true (kp_window_select_media (fixture->window, big3));
  g_assert_true (kp_canvas_get_image_layer (canvas) == prepared);
  g_assert_false (kp_window_get_image_loading (fixture->window));
  g_assert_true (kp_window_get_image_loaded (fixture->window));
  g_assert_cmpuint (kp_image_layer_get_memory_cap (prepared), >, KP_LAYER_PREFETCHER_BACKGROUND_CAP);
  g_assert_cmpuint (kp_image_layer_get_memory_cap (shown), <=, KP_LAYER_PREFETCHER_BACKGROUND_CAP);

  /* It shows big3's blue, from tiles built before it was chosen. */
  wait_until (fixture, layer_sharp, "the prepared image to be sharp");
  width = gtk_widget_get_width (GTK_WIDGET (canvas));
  height = gtk_widget_get_height (GTK_WIDGET (canvas));
  rendered = kp_test_render_widget (GTK_WIDGET (canvas), 0, 0, width, height);
  /* The whole row across it: no seam where tiles meet. */
  for (int x = 2; x < width - 2; x++)
    {
      pixel = cairo_image_surface_get_data (rendered) +
              (height / 2) * cairo_image_surface_get_stride (rendered) + x * 4;
      if (pixel[0] < 250 || pixel[1] > 5 || pixel[2] > 5)  /* B, G, R of native-endian ARGB32 */
        g_error ("Pixel %d,%d is %d,%d,%d (BGR), not the image's blue", x, height / 2,
                 pixel[0], pixel[1], pixel[2]);
    }
  cairo_surface_destroy (rendered);

  /* Going back shows big2's layer again, without rebuilding it. */
  g_assert_true (kp_window_select_media (fixture->window, big2));
  g_assert_true (kp_canvas_get_image_layer (canvas) == shown);
  g_assert_false (kp_window_get_image_loading (fixture->window));

  /* Far away, only what is near stays: here nothing large. */
  select_and_wait (fixture, 0);
  g_assert_null (kp_canvas_get_image_layer (canvas));
  wait_until (fixture, only_current_layer, "the prepared layers to be dropped");
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *cache = NULL;
  int status;

  kp_test_drop_dac_in_subprocess (argc, argv);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  /* Large images' tiles go to the user cache: not the real one. */
  cache = g_dir_make_tmp ("kp-test-window-cache-XXXXXX", NULL);
  g_assert_nonnull (cache);
  g_setenv ("XDG_CACHE_HOME", cache, TRUE);

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_log_set_fatal_handler (log_fatal_cb, NULL);

#define ADD(path, func) \
  g_test_add ("/kempelen/app/window/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("open-folder", test_open_folder);
  ADD ("large-neighbours", test_large_neighbours);
  ADD ("broken-image", test_broken_image);
  ADD ("unreadable-image", test_unreadable_image);
  ADD ("navigation", test_navigation);
  ADD ("remember-last-image", test_remember_last_image);
  ADD ("mark-done", test_mark_done);
  ADD ("labels-and-undo", test_labels_and_undo);
  ADD ("delete-label", test_delete_label);
  ADD ("export", test_export);
  ADD ("open-errors", test_open_errors);
  ADD ("thumbnails", test_thumbnails);
  ADD ("canvas-snapshot", test_canvas_snapshot);

#undef ADD

  status = g_test_run ();
  remove_tree (cache);

  return status;
}
