/* test-annotation.c: the annotation tools of the real window, on a generated folder
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <adwaita.h>
#ifdef GDK_WINDOWING_X11
#include <gdk/x11/gdkx.h>
#endif
#include <glib/gstdio.h>
#include <string.h>

#include "kp-application.h"
#include "kp-audio-page.h"
#include "kp-keymap.h"
#include "kp-keymap-editor.h"
#include "kp-video-page.h"
#include "kp-window-private.h"
#include "../kp-test-privileges.h"

#define WAIT_TIMEOUT_S 20

typedef struct
{
  char          *folder;
  KpApplication *app;
  KpWindow      *window;
  gint64         label_id;
  gint64         other_label_id;
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

static void
write_jpeg (const char *folder,
            const char *name,
            int         width,
            int         height,
            guint32     rgba)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  g_autofree char *path = g_build_filename (folder, name, NULL);
  g_autoptr(GError) error = NULL;

  gdk_pixbuf_fill (pixbuf, rgba);
  gdk_pixbuf_save (pixbuf, path, "jpeg", &error, NULL);
  g_assert_no_error (error);
}

/* A second of 8 kHz, 16-bit mono silence. */
static void
write_wav (const char *folder,
           const char *name)
{
  g_autofree char *path = g_build_filename (folder, name, NULL);
  guint32 n_samples = 8000, rate = 8000, data_size = n_samples * 2;
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  guint32 u32;
  guint16 u16;

#define PUT(s) g_byte_array_append (bytes, (const guint8 *)(s), 4)
#define PUT32(v) (u32 = GUINT32_TO_LE (v), g_byte_array_append (bytes, (const guint8 *)&u32, 4))
#define PUT16(v) (u16 = GUINT16_TO_LE (v), g_byte_array_append (bytes, (const guint8 *)&u16, 2))
  PUT ("RIFF"); PUT32 (36 + data_size); PUT ("WAVE");
  PUT ("fmt "); PUT32 (16); PUT16 (1); PUT16 (1); PUT32 (rate); PUT32 (rate * 2); PUT16 (2); PUT16 (16);
  PUT ("data"); PUT32 (data_size);
#undef PUT
#undef PUT32
#undef PUT16
  g_byte_array_set_size (bytes, bytes->len + data_size);
  memset (bytes->data + bytes->len - data_size, 0, data_size);

  g_file_set_contents (path, (const char *)bytes->data, bytes->len, &error);
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

static void
iterate (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
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

static void
select_and_wait (Fixture *fixture,
                 guint    position)
{
  g_assert_true (kp_window_select_media (fixture->window, position));
  wait_until (fixture, image_settled, "the image to load");
  iterate ();
}

static void
activate (Fixture    *fixture,
          const char *action,
          GVariant   *parameter)
{
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (fixture->window), action));
  g_action_group_activate_action (G_ACTION_GROUP (fixture->window), action, parameter);
  iterate ();
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GFile) file = NULL;
  KpStore *store;

  fixture->folder = g_dir_make_tmp ("kp-test-annotation-XXXXXX", &error);
  g_assert_no_error (error);

  write_jpeg (fixture->folder, "a.jpg", 320, 240, 0x806040ff);
  write_jpeg (fixture->folder, "b.jpg", 320, 240, 0x406080ff);
  write_jpeg (fixture->folder, "c.jpg", 320, 240, 0x408060ff);
  if (g_strcmp0 (user_data, "audio") == 0)
    {
      g_autofree char *video = g_build_filename (fixture->folder, "f.mp4", NULL);

      write_wav (fixture->folder, "d.wav");
      /* Not a real video: the video page shows what is wrong itself. */
      g_file_set_contents (video, "not a video", -1, &error);
      g_assert_no_error (error);
    }
  if (g_strcmp0 (user_data, "large") == 0)
    {
      g_autoptr(GdkPixbuf) wide = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 8400, 16);
      g_autofree char *path = g_build_filename (fixture->folder, "e-wide.png", NULL);

      gdk_pixbuf_fill (wide, 0x203040ff);
      gdk_pixbuf_save (wide, path, "png", &error, NULL);
      g_assert_no_error (error);
    }

  fixture->app = kp_application_new ();
  g_application_set_flags (G_APPLICATION (fixture->app), G_APPLICATION_NON_UNIQUE);
  g_application_register (G_APPLICATION (fixture->app), NULL, &error);
  g_assert_no_error (error);

  fixture->window = g_object_ref_sink (kp_window_new (fixture->app));
  gtk_window_present (GTK_WINDOW (fixture->window));

  file = g_file_new_for_path (fixture->folder);
  kp_window_open_folder (fixture->window, file);
  wait_until (fixture, is_open, "the folder to open");
  wait_until (fixture, image_settled, "the first image");

  store = kp_window_get_store (fixture->window);
  fixture->label_id = kp_store_add_label (store, "car", "#3584e4", 1, &error);
  g_assert_no_error (error);
  fixture->other_label_id = kp_store_add_label (store, "tree", "#33d17a", 2, &error);
  g_assert_no_error (error);
  kp_window_reload_labels (fixture->window);
  iterate ();
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
  gpointer weak;
  gint64 deadline;

  for (GList *l = toplevels; l; l = l->next)
    if (l->data != (gpointer)fixture->window)
      gtk_window_destroy (l->data);

  gtk_window_destroy (GTK_WINDOW (fixture->window));

  weak = fixture->window;
  deadline = g_get_monotonic_time () + WAIT_TIMEOUT_S * G_USEC_PER_SEC;
  g_object_add_weak_pointer (weak, &weak);
  g_clear_object (&fixture->window);
  while (weak != NULL && g_get_monotonic_time () < deadline)
    {
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (1000);
    }
  g_assert_null (weak);

  g_application_quit (G_APPLICATION (fixture->app));
  g_clear_object (&fixture->app);

  remove_tree (fixture->folder);
  g_free (fixture->folder);
}

static gint64
add_box (Fixture *fixture,
         gint64   label_id,
         double   x,
         double   y)
{
  KpDocument *document = kp_window_get_current_document (fixture->window);
  KpRect rect = { x, y, 40, 30 };
  g_autoptr(GError) error = NULL;
  gint64 id;

  id = kp_document_add (document, label_id, &rect, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);

  return id;
}

/* Tests */

static void
test_palette (Fixture       *fixture,
              gconstpointer  user_data)
{
  KpCanvas *canvas = kp_window_get_canvas (fixture->window);
  KpToolPalette *palette = fixture->window->tool_palette;
  g_autoptr(GVariant) state = NULL;
  g_auto(GStrv) accels = NULL;

  g_assert_cmpint (kp_tool_get_kind (kp_canvas_get_tool (canvas)), ==, KP_TOOL_KIND_BOX);
  g_assert_true (gtk_toggle_button_get_active (kp_tool_palette_get_button (palette, "box")));

  /* The action, as a key would. */
  activate (fixture, "tool", g_variant_new_string ("polygon"));
  g_assert_cmpint (kp_tool_get_kind (kp_canvas_get_tool (canvas)), ==, KP_TOOL_KIND_POLYGON);
  g_assert_true (gtk_toggle_button_get_active (kp_tool_palette_get_button (palette, "polygon")));
  g_assert_false (gtk_toggle_button_get_active (kp_tool_palette_get_button (palette, "box")));

  /* A click on the palette. */
  g_signal_emit_by_name (kp_tool_palette_get_button (palette, "select"), "clicked");
  iterate ();
  g_assert_cmpint (kp_tool_get_kind (kp_canvas_get_tool (canvas)), ==, KP_TOOL_KIND_SELECT);
  state = g_action_group_get_action_state (G_ACTION_GROUP (fixture->window), "tool");
  g_assert_cmpstr (g_variant_get_string (state, NULL), ==, "select");

  /* Every tool has its key (a typing key: the window's, not an
   * application accelerator, see test-keymap), and its tooltip says so. */
  {
    g_autoptr(GSettings) keymap_settings = g_settings_new (KP_SETTINGS_SCHEMA_ID);
    g_autofree char *keys = kp_keymap_dup_accels (keymap_settings, "win.tool('rotated-box')");

    g_assert_cmpstr (keys, ==, "r");
  }
  g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (GTK_WIDGET (kp_tool_palette_get_button (palette, "eraser"))),
                            "(E)"));

  /* The crosshair (View menu, Ctrl+H), remembered in GSettings. */
  {
    g_autoptr(GSettings) settings = g_settings_new (KP_SETTINGS_SCHEMA_ID);

    g_assert_false (kp_canvas_get_show_crosshair (canvas));
    activate (fixture, "show-crosshair", NULL);
    g_assert_true (kp_canvas_get_show_crosshair (canvas));
    g_assert_true (g_settings_get_boolean (settings, "show-crosshair"));
    activate (fixture, "show-crosshair", NULL);
    g_assert_false (kp_canvas_get_show_crosshair (canvas));
  }

  /* Brightness from the View menu's slider reaches the canvas. */
  gtk_range_set_value (fixture->window->brightness_scale, 0.25);
  g_assert_cmpfloat (kp_canvas_get_brightness (canvas), ==, 0.25);
  activate (fixture, "reset-adjustments", NULL);
  g_assert_cmpfloat (gtk_range_get_value (fixture->window->brightness_scale), ==, 0);
}

static GArray *
list_selected_ids (Fixture *fixture)
{
  GtkSelectionModel *model = kp_object_list_get_selection_model (fixture->window->object_list);
  g_autoptr(GtkBitset) selected = gtk_selection_model_get_selection (model);
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (model)); i++)
    if (gtk_bitset_contains (selected, i))
      {
        g_autoptr(KpObjectItem) item = g_list_model_get_item (G_LIST_MODEL (model), i);
        gint64 id = kp_object_item_get_id (item);

        g_array_append_val (ids, id);
      }

  return ids;
}

static void
record_items_changed (guint      *changes,
                      guint       position,
                      guint       removed,
                      guint       added,
                      GListModel *model)
{
  changes[0] = position;
  changes[1] = removed;
  changes[2] = added;
}

static void
test_list_selection (Fixture       *fixture,
                     gconstpointer  user_data)
{
  KpCanvas *canvas = kp_window_get_canvas (fixture->window);
  KpObjectList *list = fixture->window->object_list;
  GtkSelectionModel *model = kp_object_list_get_selection_model (list);
  g_autoptr(GArray) selected = NULL;
  const gint64 *canvas_ids;
  gint64 a, b, c;
  guint n = 0;

  a = add_box (fixture, fixture->label_id, 10, 10);
  b = add_box (fixture, fixture->other_label_id, 100, 10);
  c = add_box (fixture, fixture->label_id, 200, 100);
  iterate ();

  /* Each new object is one more row, in drawing order. */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 3);
  g_assert_cmpuint (kp_object_list_find (list, a), ==, 0);
  g_assert_cmpuint (kp_object_list_find (list, c), ==, 2);

  /* Canvas to list. */
  kp_canvas_set_selection (canvas, &b, 1);
  selected = list_selected_ids (fixture);
  g_assert_cmpuint (selected->len, ==, 1);
  g_assert_cmpint (g_array_index (selected, gint64, 0), ==, b);
  g_clear_pointer (&selected, g_array_unref);

  /* List to canvas, several at once; the canvas zooms to them. */
  kp_canvas_set_zoom (canvas, 4);
  gtk_selection_model_select_item (model, 0, TRUE);
  gtk_selection_model_select_item (model, 2, FALSE);
  iterate ();
  canvas_ids = kp_canvas_get_selection (canvas, &n);
  g_assert_cmpuint (n, ==, 2);
  g_assert_true (kp_canvas_is_selected (canvas, a));
  g_assert_true (kp_canvas_is_selected (canvas, c));
  g_assert_false (kp_canvas_is_selected (canvas, b));
  g_assert_nonnull (canvas_ids);
  g_assert_cmpfloat (kp_canvas_get_zoom (canvas), !=, 4);

  /* Filtering by label leaves the other label's rows out. */
  kp_object_list_set_filter_label (list, fixture->other_label_id);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 1);
  g_assert_cmpuint (kp_object_list_find (list, b), ==, 0);
  kp_object_list_set_filter_label (list, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 3);

  /* Deleting from the list's selection, then undo brings the row back. */
  kp_canvas_set_selection (canvas, &b, 1);
  activate (fixture, "delete-selected", NULL);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 2);
  g_assert_cmpuint (kp_object_list_find (list, b), ==, GTK_INVALID_LIST_POSITION);
  activate (fixture, "undo", NULL);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 3);

  /* Many objects added at once: the list hears of those rows only. */
  {
    KpDocument *document = kp_window_get_current_document (fixture->window);
    g_autoptr(GPtrArray) boxes = g_ptr_array_new_with_free_func (g_free);
    g_autoptr(GError) error = NULL;
    guint changes[3] = { 0, 0, 0 };
    gulong handler;

    for (guint i = 0; i < 1000; i++)
      {
        KpAnnotation *box = g_new0 (KpAnnotation, 1);

        box->label_id = fixture->label_id;
        box->rect = (KpRect) { i % 300, i % 200, 5, 5 };
        g_ptr_array_add (boxes, box);
      }
    g_assert_true (kp_document_add_many (document, (const KpAnnotation * const *)boxes->pdata, 1000,
                                         NULL, &error));
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 1003);

    handler = g_signal_connect_swapped (model, "items-changed", G_CALLBACK (record_items_changed), changes);
    g_assert_true (kp_document_add_many (document, (const KpAnnotation * const *)boxes->pdata, 10,
                                         NULL, &error));
    g_signal_handler_disconnect (model, handler);
    g_assert_cmpuint (changes[0], ==, 1003);
    g_assert_cmpuint (changes[1], ==, 0);
    g_assert_cmpuint (changes[2], ==, 10);

    activate (fixture, "undo", NULL);
    activate (fixture, "undo", NULL);
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (model)), ==, 3);
  }

  /* Raise to top reorders the rows. */
  kp_canvas_set_selection (canvas, &a, 1);
  activate (fixture, "raise-selected", NULL);
  g_assert_cmpuint (kp_object_list_find (list, a), ==, 2);
  activate (fixture, "lower-selected", NULL);
  g_assert_cmpuint (kp_object_list_find (list, a), ==, 0);
}

static void
test_hide_lock (Fixture       *fixture,
                gconstpointer  user_data)
{
  KpDocument *document = kp_window_get_current_document (fixture->window);
  KpCanvas *canvas = kp_window_get_canvas (fixture->window);
  KpObjectList *list = fixture->window->object_list;
  gint64 a = add_box (fixture, fixture->label_id, 10, 10);
  gint64 b = add_box (fixture, fixture->label_id, 100, 100);

  kp_object_list_toggle_hidden (list, a);
  g_assert_true (kp_document_lookup (document, a)->flags & KP_ANNOTATION_HIDDEN);
  kp_canvas_set_selection (canvas, &a, 1);
  g_assert_false (kp_canvas_is_selected (canvas, a));
  kp_object_list_toggle_hidden (list, a);
  g_assert_false (kp_document_lookup (document, a)->flags & KP_ANNOTATION_HIDDEN);

  kp_object_list_toggle_locked (list, b);
  g_assert_true (kp_document_lookup (document, b)->flags & KP_ANNOTATION_LOCKED);
  activate (fixture, "undo", NULL);
  g_assert_false (kp_document_lookup (document, b)->flags & KP_ANNOTATION_LOCKED);

  /* The keys: hide the selection (H), show every hidden one (Shift+H). */
  kp_canvas_set_selection (canvas, &b, 1);
  activate (fixture, "hide-selected", NULL);
  g_assert_true (kp_document_lookup (document, b)->flags & KP_ANNOTATION_HIDDEN);
  activate (fixture, "show-all", NULL);
  g_assert_false (kp_document_lookup (document, b)->flags & KP_ANNOTATION_HIDDEN);
}

static void
test_attributes (Fixture       *fixture,
                 gconstpointer  user_data)
{
  KpStore *store = kp_window_get_store (fixture->window);
  KpDocument *document = kp_window_get_current_document (fixture->window);
  KpCanvas *canvas = kp_window_get_canvas (fixture->window);
  KpAttributePanel *panel = fixture->window->attribute_panel;
  KpAttribute parked = { 0, fixture->label_id, (char *)"parked", KP_ATTRIBUTE_CHECKBOX };
  KpAttribute count = { 0, fixture->label_id, (char *)"doors", KP_ATTRIBUTE_NUMBER, NULL, 2, 5 };
  g_autoptr(GError) error = NULL;
  gint64 ids[3];
  gint64 parked_id, count_id;
  GtkWidget *editor;
  guint n_undo;

  parked_id = kp_store_add_attribute (store, &parked, &error);
  g_assert_no_error (error);
  count_id = kp_store_add_attribute (store, &count, &error);
  g_assert_no_error (error);
  kp_window_reload_labels (fixture->window);

  ids[0] = add_box (fixture, fixture->label_id, 10, 10);
  ids[1] = add_box (fixture, fixture->label_id, 100, 100);
  ids[2] = add_box (fixture, fixture->other_label_id, 200, 10);

  kp_canvas_set_selection (canvas, ids, 3);
  iterate ();

  /* One editor per attribute of the selection's labels, of its kind. */
  editor = kp_attribute_panel_get_editor (panel, parked_id);
  g_assert_true (GTK_IS_CHECK_BUTTON (editor));
  g_assert_false (gtk_check_button_get_active (GTK_CHECK_BUTTON (editor)));
  g_assert_true (GTK_IS_SPIN_BUTTON (kp_attribute_panel_get_editor (panel, count_id)));
  g_assert_cmpfloat (gtk_adjustment_get_upper (gtk_spin_button_get_adjustment (GTK_SPIN_BUTTON (kp_attribute_panel_get_editor (panel, count_id)))), ==, 5);

  n_undo = kp_document_get_n_undo (document);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (editor), TRUE);
  iterate ();
  g_assert_cmpstr (kp_annotation_get_attribute (kp_document_lookup (document, ids[0]), parked_id), ==, "true");
  g_assert_cmpstr (kp_annotation_get_attribute (kp_document_lookup (document, ids[1]), parked_id), ==, "true");
  g_assert_null (kp_annotation_get_attribute (kp_document_lookup (document, ids[2]), parked_id));
  g_assert_cmpuint (kp_document_get_n_undo (document), ==, n_undo + 1);

  gtk_spin_button_set_value (GTK_SPIN_BUTTON (kp_attribute_panel_get_editor (panel, count_id)), 4);
  iterate ();
  g_assert_cmpfloat (g_ascii_strtod (kp_annotation_get_attribute (kp_document_lookup (document, ids[1]), count_id), NULL), ==, 4);
  g_assert_cmpuint (kp_document_get_n_undo (document), ==, n_undo + 2);

  /* One undo step puts both objects back. */
  activate (fixture, "undo", NULL);
  activate (fixture, "undo", NULL);
  g_assert_cmpstr (kp_annotation_get_attribute (kp_document_lookup (document, ids[0]), parked_id), !=, "true");
  g_assert_cmpstr (kp_annotation_get_attribute (kp_document_lookup (document, ids[1]), parked_id), !=, "true");
  iterate ();
  editor = kp_attribute_panel_get_editor (panel, parked_id);
  g_assert_false (gtk_check_button_get_active (GTK_CHECK_BUTTON (editor)));

  /* Choice and text editors, on the other label's object alone. */
  {
    char *colours[] = { (char *)"red", (char *)"green", NULL };
    KpAttribute colour = { 0, fixture->other_label_id, (char *)"colour", KP_ATTRIBUTE_CHOICE, colours };
    KpAttribute note = { 0, fixture->other_label_id, (char *)"note", KP_ATTRIBUTE_TEXT };
    gint64 colour_id, note_id;

    colour_id = kp_store_add_attribute (store, &colour, &error);
    g_assert_no_error (error);
    note_id = kp_store_add_attribute (store, &note, &error);
    g_assert_no_error (error);
    kp_window_reload_labels (fixture->window);
    kp_canvas_set_selection (canvas, &ids[2], 1);
    iterate ();

    editor = kp_attribute_panel_get_editor (panel, colour_id);
    g_assert_true (GTK_IS_DROP_DOWN (editor));
    g_assert_null (kp_attribute_panel_get_editor (panel, parked_id));
    gtk_drop_down_set_selected (GTK_DROP_DOWN (editor), 1);
    g_assert_cmpstr (kp_annotation_get_attribute (kp_document_lookup (document, ids[2]), colour_id), ==, "green");

    editor = kp_attribute_panel_get_editor (panel, note_id);
    g_assert_true (GTK_IS_ENTRY (editor));
    gtk_editable_set_text (GTK_EDITABLE (editor), "behind a van");
    g_signal_emit_by_name (editor, "activate");
    g_assert_cmpstr (kp_annotation_get_attribute (kp_document_lookup (document, ids[2]), note_id), ==, "behind a van");
  }

  /* The label key relabels the whole selection, in one step. */
  kp_canvas_set_selection (canvas, ids, 3);
  n_undo = kp_document_get_n_undo (document);
  activate (fixture, "select-label", g_variant_new_int32 (2));
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (kp_document_lookup (document, ids[i])->label_id, ==, fixture->other_label_id);
  g_assert_cmpuint (kp_document_get_n_undo (document), ==, n_undo + 1);
}

static void
test_tags (Fixture       *fixture,
           gconstpointer  user_data)
{
  KpStore *store = kp_window_get_store (fixture->window);
  KpDocument *document = kp_window_get_current_document (fixture->window);
  KpTagBar *bar = fixture->window->tag_bar;
  g_autoptr(GError) error = NULL;
  gint64 weather, day, night, blurry, dark;
  GArray *tags;

  weather = kp_store_add_tag_group (store, "Time", FALSE, &error);
  g_assert_no_error (error);
  day = kp_store_add_tag (store, weather, "day", &error);
  night = kp_store_add_tag (store, weather, "night", &error);
  blurry = kp_store_add_tag_group (store, "Quality", TRUE, &error);
  g_assert_no_error (error);
  dark = kp_store_add_tag (store, blurry, "dark", &error);
  blurry = kp_store_add_tag (store, blurry, "blurry", &error);
  g_assert_no_error (error);

  kp_tag_bar_reload (bar, store);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (bar)));

  g_signal_emit_by_name (kp_tag_bar_get_button (bar, day), "clicked");
  tags = kp_document_get_tags (document);
  g_assert_cmpuint (tags->len, ==, 1);
  g_assert_cmpint (g_array_index (tags, gint64, 0), ==, day);

  /* A single-select group: night replaces day. */
  g_signal_emit_by_name (kp_tag_bar_get_button (bar, night), "clicked");
  tags = kp_document_get_tags (document);
  g_assert_cmpuint (tags->len, ==, 1);
  g_assert_cmpint (g_array_index (tags, gint64, 0), ==, night);
  g_assert_false (gtk_toggle_button_get_active (kp_tag_bar_get_button (bar, day)));
  g_assert_true (gtk_toggle_button_get_active (kp_tag_bar_get_button (bar, night)));

  /* A multi-select group keeps both. */
  g_signal_emit_by_name (kp_tag_bar_get_button (bar, dark), "clicked");
  g_signal_emit_by_name (kp_tag_bar_get_button (bar, blurry), "clicked");
  tags = kp_document_get_tags (document);
  g_assert_cmpuint (tags->len, ==, 3);
  g_signal_emit_by_name (kp_tag_bar_get_button (bar, dark), "clicked");
  tags = kp_document_get_tags (document);
  g_assert_cmpuint (tags->len, ==, 2);

  /* Undo shows in the buttons. */
  activate (fixture, "undo", NULL);
  g_assert_true (gtk_toggle_button_get_active (kp_tag_bar_get_button (bar, dark)));

  /* Another image has its own tags. */
  select_and_wait (fixture, 1);
  g_assert_false (gtk_toggle_button_get_active (kp_tag_bar_get_button (bar, night)));
}

static void
test_clipboard (Fixture       *fixture,
                gconstpointer  user_data)
{
  KpCanvas *canvas = kp_window_get_canvas (fixture->window);
  KpDocument *first = kp_window_get_current_document (fixture->window);
  KpDocument *second;
  gint64 a = add_box (fixture, fixture->label_id, 10, 20);
  gint64 b = add_box (fixture, fixture->other_label_id, 100, 120);
  const KpAnnotation *pasted;
  gint64 ids[2] = { a, b };
  const gint64 *selected;
  guint n = 0;
  GPtrArray *annotations;

  kp_canvas_set_selection (canvas, ids, 2);
  activate (fixture, "copy", NULL);

  /* Pasted on another image at the same place, selected, one undo step. */
  select_and_wait (fixture, 1);
  second = kp_window_get_current_document (fixture->window);
  g_assert_true (second != first);
  activate (fixture, "paste", NULL);
  annotations = kp_document_get_annotations (second);
  g_assert_cmpuint (annotations->len, ==, 2);
  pasted = g_ptr_array_index (annotations, 0);
  g_assert_cmpfloat (pasted->rect.x, ==, 10);
  g_assert_cmpfloat (pasted->rect.y, ==, 20);
  g_assert_cmpint (pasted->label_id, ==, fixture->label_id);
  selected = kp_canvas_get_selection (canvas, &n);
  g_assert_cmpuint (n, ==, 2);
  g_assert_nonnull (selected);
  g_assert_cmpuint (kp_document_get_n_undo (second), ==, 1);
  activate (fixture, "undo", NULL);
  g_assert_cmpuint (kp_document_get_annotations (second)->len, ==, 0);

  /* Duplicate: offset by 10 px. */
  activate (fixture, "paste", NULL);
  pasted = g_ptr_array_index (kp_document_get_annotations (second), 1);
  kp_canvas_set_selection (canvas, &pasted->id, 1);
  activate (fixture, "duplicate", NULL);
  annotations = kp_document_get_annotations (second);
  g_assert_cmpuint (annotations->len, ==, 3);
  pasted = g_ptr_array_index (annotations, 2);
  g_assert_cmpfloat (pasted->rect.x, ==, 110);
  g_assert_cmpfloat (pasted->rect.y, ==, 130);

  /* Copy everything from the previous image (the second, with 3). */
  select_and_wait (fixture, 2);
  activate (fixture, "copy-previous", NULL);
  annotations = kp_document_get_annotations (kp_window_get_current_document (fixture->window));
  g_assert_cmpuint (annotations->len, ==, 3);
  g_assert_cmpuint (kp_document_get_n_undo (kp_window_get_current_document (fixture->window)), ==, 1);
}

static void
clipboard_text_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  char **text = user_data;

  *text = gdk_clipboard_read_text_finish (GDK_CLIPBOARD (object), result, NULL);
  if (*text == NULL)
    *text = g_strdup ("");
}

static void
test_clipboard_json (Fixture       *fixture,
                     gconstpointer  user_data)
{
  KpCanvas *canvas = kp_window_get_canvas (fixture->window);
  gint64 a = add_box (fixture, fixture->label_id, 10, 20);
  g_autofree char *text = NULL;
  gint64 deadline = g_get_monotonic_time () + WAIT_TIMEOUT_S * G_USEC_PER_SEC;

  kp_canvas_set_selection (canvas, &a, 1);
  activate (fixture, "copy", NULL);

  gdk_clipboard_read_text_async (gtk_widget_get_clipboard (GTK_WIDGET (fixture->window)), NULL,
                                 clipboard_text_cb, &text);
  while (text == NULL && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);

  g_assert_nonnull (strstr (text, "\"label\":\"car\""));
  g_assert_nonnull (strstr (text, "\"bbox\":[10"));
}

static void
test_keymap (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autoptr(GSettings) settings = g_settings_new (KP_SETTINGS_SCHEMA_ID);
  g_autoptr(GVariant) map = NULL;
  g_auto(GStrv) accels = NULL;
  const char *value = NULL;
  KpKeymapEditor *editor;
  AdwActionRow *row;
  GtkWindow *overlay;

  editor = KP_KEYMAP_EDITOR (kp_keymap_editor_new (GTK_WINDOW (fixture->window), settings));
  gtk_window_present (GTK_WINDOW (editor));

  g_assert_true (kp_keymap_editor_rebind (editor, "win.tool('box')", "<Control>m"));
  iterate ();

  /* Saved in GSettings… */
  map = g_settings_get_value (settings, "keymap");
  g_assert_true (g_variant_lookup (map, "win.tool('box')", "&s", &value));
  g_assert_cmpstr (value, ==, "<Control>m");

  /* …applied to the application… */
  accels = gtk_application_get_accels_for_action (GTK_APPLICATION (fixture->app), "win.tool('box')");
  g_assert_cmpstrv (accels, ((const char *[]) { "<Control>m", NULL }));
  g_clear_pointer (&accels, g_strfreev);

  /* …and shown in the palette's tooltip and the shortcuts window. */
  g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (GTK_WIDGET (kp_tool_palette_get_button (fixture->window->tool_palette, "box"))),
                            "Ctrl+M"));
  overlay = _kp_window_ensure_help_overlay (fixture->window);
  g_assert_true (GTK_IS_SHORTCUTS_WINDOW (overlay));

  /* A conflict shows on both rows. */
  g_assert_true (kp_keymap_editor_rebind (editor, "win.tool('polygon')", "v"));
  row = kp_keymap_editor_get_row (editor, "win.tool('polygon')");
  g_assert_nonnull (adw_action_row_get_subtitle (row));
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (row), "Select"));
  row = kp_keymap_editor_get_row (editor, "win.tool('select')");
  g_assert_nonnull (strstr (adw_action_row_get_subtitle (row), "Polygon"));

  /* Removing a key, and reset. */
  g_assert_true (kp_keymap_editor_rebind (editor, "win.undo", NULL));
  accels = gtk_application_get_accels_for_action (GTK_APPLICATION (fixture->app), "win.undo");
  g_assert_cmpuint (g_strv_length (accels), ==, 0);
  g_clear_pointer (&accels, g_strfreev);

  kp_keymap_editor_reset_all (editor);
  {
    g_autofree char *keys = kp_keymap_dup_accels (settings, "win.tool('box')");

    g_assert_cmpstr (keys, ==, "b");
  }
  accels = gtk_application_get_accels_for_action (GTK_APPLICATION (fixture->app), "win.undo");
  g_assert_cmpstrv (accels, ((const char *[]) { "<Control>z", NULL }));

  /* Through the row: activate it, then press Ctrl+J in the window that
   * waits for the key. */
  {
    g_autoptr(GList) toplevels = NULL;
    g_autoptr(GListModel) controllers = NULL;
    GtkWindow *capture = NULL;
    gboolean handled = FALSE;

    g_signal_emit_by_name (kp_keymap_editor_get_row (editor, "win.copy"), "activated");
    toplevels = gtk_window_list_toplevels ();
    for (GList *l = toplevels; l != NULL; l = l->next)
      if (gtk_window_get_transient_for (l->data) == GTK_WINDOW (editor) && ADW_IS_WINDOW (l->data))
        capture = l->data;
    g_assert_nonnull (capture);

    controllers = gtk_widget_observe_controllers (GTK_WIDGET (capture));
    for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
      {
        g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

        if (GTK_IS_EVENT_CONTROLLER_KEY (controller))
          g_signal_emit_by_name (controller, "key-pressed", GDK_KEY_j, 0, GDK_CONTROL_MASK, &handled);
      }
    g_assert_true (handled);
    g_clear_pointer (&accels, g_strfreev);
    accels = gtk_application_get_accels_for_action (GTK_APPLICATION (fixture->app), "win.copy");
    g_assert_cmpstrv (accels, ((const char *[]) { "<Control>j", NULL }));
    kp_keymap_editor_reset (editor, "win.copy");
  }

  /* Nonsense is refused. */
  g_assert_false (kp_keymap_editor_rebind (editor, "win.undo", "<Control>not-a-key"));

  gtk_window_destroy (GTK_WINDOW (editor));
}

static void
add_suggestions (Fixture *fixture,
                 gint64  *ids)
{
  KpDocument *document = kp_window_get_current_document (fixture->window);
  const double confidence[] = { 0.9, 0.6, 0.2 };
  KpAnnotation annotations[3] = { 0 };
  const KpAnnotation *pointers[3];
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 3; i++)
    {
      annotations[i].label_id = fixture->label_id;
      annotations[i].shape = KP_SHAPE_BOX;
      annotations[i].rect = (KpRect) { 10 + 80 * i, 10, 50, 40 };
      annotations[i].review = KP_REVIEW_PENDING;
      annotations[i].confidence = confidence[i];
      pointers[i] = &annotations[i];
    }

  g_assert_true (kp_document_add_many (document, pointers, 3, ids, &error));
  g_assert_no_error (error);
  iterate ();
}

static guint
count_review (KpDocument *document,
              KpReview    review)
{
  GPtrArray *annotations = kp_document_get_annotations (document);
  guint n = 0;

  for (guint i = 0; i < annotations->len; i++)
    if (((KpAnnotation *)g_ptr_array_index (annotations, i))->review == review)
      n++;

  return n;
}

static void
test_suggestions (Fixture       *fixture,
                  gconstpointer  user_data)
{
  KpDocument *document = kp_window_get_current_document (fixture->window);
  KpSuggestionPanel *panel = fixture->window->suggestion_panel;
  KpCanvas *canvas = kp_window_get_canvas (fixture->window);
  gint64 ids[3];

  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (panel)));
  add_suggestions (fixture, ids);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (panel)));
  g_assert_cmpuint (kp_suggestion_panel_get_n_pending (panel), ==, 3);

  kp_suggestion_panel_set_threshold (panel, 0.5);
  activate (fixture, "accept-above", NULL);
  g_assert_cmpuint (count_review (document, KP_REVIEW_ACCEPTED), ==, 2);
  g_assert_cmpuint (count_review (document, KP_REVIEW_PENDING), ==, 1);
  g_assert_cmpuint (kp_suggestion_panel_get_n_pending (panel), ==, 1);

  activate (fixture, "reject-below", NULL);
  g_assert_cmpuint (count_review (document, KP_REVIEW_PENDING), ==, 0);
  g_assert_null (kp_document_lookup (document, ids[2]));
  g_assert_false (gtk_widget_get_visible (GTK_WIDGET (panel)));

  /* Undo twice: three pending again. Then one by one with the keys. */
  activate (fixture, "undo", NULL);
  activate (fixture, "undo", NULL);
  g_assert_cmpuint (count_review (document, KP_REVIEW_PENDING), ==, 3);

  kp_canvas_set_selection (canvas, NULL, 0);
  activate (fixture, "next-suggestion", NULL);
  g_assert_cmpint (kp_canvas_get_selected_id (canvas), ==, ids[0]);
  activate (fixture, "accept-suggestion", NULL);
  g_assert_cmpint (kp_document_lookup (document, ids[0])->review, ==, KP_REVIEW_ACCEPTED);
  /* Review moves on to the next one. */
  g_assert_cmpint (kp_canvas_get_selected_id (canvas), ==, ids[1]);
  activate (fixture, "reject-suggestion", NULL);
  g_assert_null (kp_document_lookup (document, ids[1]));
  g_assert_cmpint (kp_canvas_get_selected_id (canvas), ==, ids[2]);
  g_assert_cmpuint (kp_suggestion_panel_get_n_pending (panel), ==, 1);
}

static gboolean
imported (Fixture *fixture)
{
  KpDocument *document = kp_window_get_current_document (fixture->window);

  return document != NULL && kp_document_get_annotations (document)->len > 0;
}

static void
test_import (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autofree char *path = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GError) error = NULL;
  KpDocument *document;
  const char *coco =
    "{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\", \"width\": 320, \"height\": 240}],"
    " \"categories\": [{\"id\": 7, \"name\": \"car\"}],"
    " \"annotations\": [{\"id\": 1, \"image_id\": 1, \"category_id\": 7, \"bbox\": [5, 6, 30, 20], \"score\": 0.75}]}";

  g_assert_cmpuint (kp_window_get_selected_position (fixture->window), ==, 0);
  path = g_build_filename (g_get_tmp_dir (), "kp-test-annotation-coco.json", NULL);
  g_file_set_contents (path, coco, -1, &error);
  g_assert_no_error (error);

  file = g_file_new_for_path (path);
  _kp_window_import_file (fixture->window, file);
  wait_until (fixture, imported, "the import");

  document = kp_window_get_current_document (fixture->window);
  g_assert_cmpuint (count_review (document, KP_REVIEW_PENDING), ==, 1);
  g_assert_cmpfloat_with_epsilon (((KpAnnotation *)g_ptr_array_index (kp_document_get_annotations (document), 0))->confidence,
                                  0.75, 1e-9);
  iterate ();
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (fixture->window->suggestion_panel)));

  g_unlink (path);
}

static gboolean
next_prefetched (Fixture *fixture)
{
  g_autoptr(KpMediaItem) item = g_list_model_get_item (kp_window_get_media_model (fixture->window), 1);
  g_autoptr(GdkTexture) texture = kp_image_prefetcher_lookup (fixture->window->prefetcher,
                                                              kp_media_item_get_media_id (item));

  return texture != NULL;
}

static void
test_prefetch (Fixture       *fixture,
               gconstpointer  user_data)
{
  wait_until (fixture, next_prefetched, "the next image to be decoded ahead");

  /* Prefetched: the canvas has it as soon as it is selected. */
  g_assert_true (kp_window_select_media (fixture->window, 1));
  g_assert_true (kp_window_get_image_loaded (fixture->window));
  g_assert_false (kp_window_get_image_loading (fixture->window));
  g_assert_nonnull (kp_canvas_get_texture (kp_window_get_canvas (fixture->window)));
}

static gboolean
next_document_read (Fixture *fixture)
{
  gint64 next_id;
  g_autoptr(KpMediaItem) item = g_list_model_get_item (kp_window_get_media_model (fixture->window), 1);

  next_id = kp_media_item_get_media_id (item);
  return g_hash_table_contains (fixture->window->documents, &next_id);
}

/* The next image's document is read on a worker thread, and is what the
 * store holds. */
static void
test_prefetch_document (Fixture       *fixture,
                        gconstpointer  user_data)
{
  g_autoptr(KpMediaItem) item = g_list_model_get_item (kp_window_get_media_model (fixture->window), 1);
  g_autoptr(KpStore) other = NULL;
  g_autoptr(GError) error = NULL;
  KpAnnotation box = { 0 };
  KpDocument *document;
  guint before = fixture->window->n_thread_reads;
  gint64 id;

  /* What the window has not seen: written through another connection. */
  other = kp_store_open (fixture->folder, &error);
  g_assert_no_error (error);
  box.media_id = kp_media_item_get_media_id (item);
  box.label_id = fixture->label_id;
  box.rect = (KpRect) { 5, 6, 7, 8 };
  id = kp_store_add_annotation (other, &box, &error);
  g_assert_no_error (error);
  g_assert_true (_kp_window_check_external_changes (fixture->window) ||
                 !g_hash_table_contains (fixture->window->documents, &box.media_id));

  /* Showing the third image schedules reading its neighbours. */
  g_hash_table_remove (fixture->window->documents, &box.media_id);
  select_and_wait (fixture, 2);
  wait_until (fixture, next_document_read, "the next image's document to be read ahead");
  g_assert_cmpuint (fixture->window->n_thread_reads, >, before);

  document = g_hash_table_lookup (fixture->window->documents, &box.media_id);
  g_assert_nonnull (kp_document_lookup (document, id));
  g_assert_cmpuint (kp_document_get_annotations (document)->len, ==, 1);

  /* And it is the one the window then edits. */
  select_and_wait (fixture, 1);
  g_assert_true (kp_window_get_current_document (fixture->window) == document);
}

static gint64
store_box (KpStore *store,
           gint64   media_id,
           gint64   label_id,
           double   x,
           KpReview review)
{
  g_autoptr(GError) error = NULL;
  KpAnnotation box = { 0 };
  gint64 id;

  box.media_id = media_id;
  box.label_id = label_id;
  box.rect = (KpRect) { x, 10, 20, 20 };
  box.review = review;
  box.confidence = review == KP_REVIEW_PENDING ? 0.5 : 0;
  id = kp_store_add_annotation (store, &box, &error);
  g_assert_no_error (error);

  return id;
}

static gboolean
has_timer_box (Fixture *fixture)
{
  GPtrArray *annotations = kp_document_get_annotations (kp_window_get_current_document (fixture->window));

  return annotations->len == 4;
}

/* Another program (kempelenctl) writing into the open image shows in the
 * window, keeping its undo history and selection. */
static void
test_external_changes (Fixture       *fixture,
                       gconstpointer  user_data)
{
  KpDocument *document = kp_window_get_current_document (fixture->window);
  KpCanvas *canvas = kp_window_get_canvas (fixture->window);
  gint64 media_id = kp_document_get_media_id (document);
  g_autoptr(KpStore) other = NULL;
  g_autoptr(GError) error = NULL;
  const gint64 *selected;
  gint64 own, drawn, suggested, tag;
  GtkToggleButton *button;
  guint n = 0;

  own = add_box (fixture, fixture->label_id, 10, 20);
  kp_canvas_set_selection (canvas, &own, 1);
  g_assert_cmpuint (kp_document_get_n_undo (document), ==, 1);

  /* The window's own writes are not news. */
  g_assert_false (_kp_window_check_external_changes (fixture->window));

  other = kp_store_open (fixture->folder, &error);
  g_assert_no_error (error);
  drawn = store_box (other, media_id, fixture->other_label_id, 100, KP_REVIEW_NONE);
  suggested = store_box (other, media_id, fixture->label_id, 200, KP_REVIEW_PENDING);
  g_assert_cmpint (kp_store_add_label (other, "bus", "#e01b24", 0, &error), >, 0);
  g_assert_no_error (error);
  {
    KpAttribute attribute = { 0 };
    guint n_attributes = fixture->window->attributes != NULL ? fixture->window->attributes->len : 0;
    gint64 group;

    attribute.label_id = fixture->label_id;
    attribute.name = (char *)"occluded";
    attribute.kind = KP_ATTRIBUTE_CHECKBOX;
    attribute.min = -G_MAXDOUBLE;
    attribute.max = G_MAXDOUBLE;
    g_assert_cmpint (kp_store_add_attribute (other, &attribute, &error), >, 0);
    g_assert_no_error (error);
    group = kp_store_add_tag_group (other, "weather", FALSE, &error);
    g_assert_no_error (error);
    tag = kp_store_add_tag (other, group, "rain", &error);
    g_assert_no_error (error);

    g_assert_true (_kp_window_check_external_changes (fixture->window));
    iterate ();

    /* Definitions made elsewhere: in the panels, and the tag bar. */
    g_assert_cmpuint (fixture->window->attributes->len, ==, n_attributes + 1);
    g_assert_nonnull (kp_tag_bar_get_button (fixture->window->tag_bar, tag));
    g_assert_true (gtk_widget_get_visible (GTK_WIDGET (fixture->window->tag_bar)));
  }

  /* The same document, with the new objects, in the list and the bar. */
  g_assert_true (kp_window_get_current_document (fixture->window) == document);
  g_assert_true (kp_canvas_get_document (canvas) == document);
  g_assert_nonnull (kp_document_lookup (document, drawn));
  g_assert_nonnull (kp_document_lookup (document, suggested));
  g_assert_cmpuint (kp_object_list_find (fixture->window->object_list, drawn), !=, GTK_INVALID_LIST_POSITION);
  g_assert_cmpuint (kp_suggestion_panel_get_n_pending (fixture->window->suggestion_panel), ==, 1);
  g_assert_cmpuint (fixture->window->labels->len, ==, 3);

  /* Selection and undo history survive. */
  selected = kp_canvas_get_selection (canvas, &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpint (selected[0], ==, own);
  g_assert_cmpuint (kp_document_get_n_undo (document), ==, 1);
  activate (fixture, "undo", NULL);
  g_assert_null (kp_document_lookup (document, own));
  g_assert_nonnull (kp_document_lookup (document, drawn));
  activate (fixture, "redo", NULL);
  g_assert_nonnull (kp_document_lookup (document, own));

  /* Deleted elsewhere: gone here too, and from the selection. */
  button = kp_tag_bar_get_button (fixture->window->tag_bar, tag);
  g_assert_true (kp_store_delete_annotation (other, own, &error));
  g_assert_no_error (error);
  g_assert_true (_kp_window_check_external_changes (fixture->window));
  iterate ();
  g_assert_null (kp_document_lookup (document, own));
  selected = kp_canvas_get_selection (canvas, &n);
  g_assert_cmpuint (n, ==, 0);
  /* Tag groups unchanged by that write: the bar was not rebuilt. */
  g_assert_true (kp_tag_bar_get_button (fixture->window->tag_bar, tag) == button);
  g_assert_false (_kp_window_check_external_changes (fixture->window));

  /* Without being asked: the slow timer notices. */
  store_box (other, media_id, fixture->label_id, 250, KP_REVIEW_NONE);
  store_box (other, media_id, fixture->label_id, 280, KP_REVIEW_NONE);
  wait_until (fixture, has_timer_box, "the window to notice another writer");
}

static gboolean
window_active (Fixture *fixture)
{
  return gtk_window_is_active (GTK_WINDOW (fixture->window));
}

static gboolean
window_inactive (Fixture *fixture)
{
  return !window_active (fixture);
}

/* Coming back to the window (from the terminal that ran kempelenctl)
 * shows what was written meanwhile, without waiting for the timer. */
static void
test_external_changes_on_focus (Fixture       *fixture,
                                gconstpointer  user_data)
{
  KpDocument *document = kp_window_get_current_document (fixture->window);
  g_autoptr(KpStore) other = NULL;
  g_autoptr(GError) error = NULL;
  GtkWidget *elsewhere;
  gint64 id;

  g_clear_handle_id (&fixture->window->external_check_id, g_source_remove);
  wait_until (fixture, window_active, "the window to be active");

  elsewhere = gtk_window_new ();
  gtk_window_present (GTK_WINDOW (elsewhere));
  wait_until (fixture, window_inactive, "another window to take the focus");

  other = kp_store_open (fixture->folder, &error);
  g_assert_no_error (error);
  id = store_box (other, kp_document_get_media_id (document), fixture->label_id, 40, KP_REVIEW_NONE);
  iterate ();
  g_assert_null (kp_document_lookup (document, id));

  gtk_window_present (GTK_WINDOW (fixture->window));
  wait_until (fixture, window_active, "the window to be active again");
  iterate ();
  g_assert_nonnull (kp_document_lookup (document, id));
  gtk_window_destroy (GTK_WINDOW (elsewhere));
}

static const char *
paste_text_and_toast (Fixture    *fixture,
                      const char *text)
{
  g_clear_pointer (&fixture->window->last_toast, g_free);
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (fixture->window)), text);
  activate (fixture, "paste", NULL);

  return fixture->window->last_toast;
}

/* JSON text from other programs pastes, as one step, or not at all. */
static void
test_paste_text (Fixture       *fixture,
                 gconstpointer  user_data)
{
  KpDocument *document = kp_window_get_current_document (fixture->window);
  GPtrArray *annotations = kp_document_get_annotations (document);
  const KpAnnotation *a, *b;
  const char *toast;

  /* A crowd bounding-box answer. */
  toast = paste_text_and_toast (fixture,
                                "{\"boundingBoxes\": [{\"label\": \"car\", \"left\": 5, \"top\": 6, \"width\": 20, \"height\": 10},"
                                " {\"label\": \"Tree\", \"left\": 50, \"top\": 60, \"width\": 8, \"height\": 9}]}");
  g_assert_null (toast);
  g_assert_cmpuint (annotations->len, ==, 2);
  g_assert_cmpuint (kp_document_get_n_undo (document), ==, 1);
  a = g_ptr_array_index (annotations, 0);
  b = g_ptr_array_index (annotations, 1);
  g_assert_cmpint (a->shape, ==, KP_SHAPE_BOX);
  g_assert_cmpint (a->label_id, ==, fixture->label_id);
  g_assert_cmpfloat (a->rect.x, ==, 5);
  g_assert_cmpfloat (a->rect.height, ==, 10);
  g_assert_cmpint (b->label_id, ==, fixture->other_label_id);
  g_assert_cmpfloat (b->rect.y, ==, 60);
  activate (fixture, "undo", NULL);
  g_assert_cmpuint (annotations->len, ==, 0);

  /* A Ground Truth output line, and a bare list of boxes. */
  paste_text_and_toast (fixture,
                        "{\"source-ref\": \"s3://x/a.jpg\", \"annotatedResult\": {\"boundingBoxes\":"
                        " [{\"label\": \"car\", \"left\": 1, \"top\": 2, \"width\": 3, \"height\": 4}]}}");
  g_assert_cmpuint (annotations->len, ==, 1);
  paste_text_and_toast (fixture,
                        "[{\"label\": \"tree\", \"left\": 1, \"top\": 2, \"width\": 3, \"height\": 4},"
                        " {\"label\": \"tree\", \"left\": 10, \"top\": 20, \"width\": 30, \"height\": 40}]");
  g_assert_cmpuint (annotations->len, ==, 3);
  g_assert_cmpuint (kp_document_get_n_undo (document), ==, 2);

  /* COCO, its category ids named by its categories; polygons kept. */
  paste_text_and_toast (fixture,
                        "{\"categories\": [{\"id\": 7, \"name\": \"car\"}], \"annotations\":"
                        " [{\"id\": 1, \"image_id\": 1, \"category_id\": 7, \"bbox\": [10, 10, 20, 20],"
                        "   \"segmentation\": [[10, 10, 30, 10, 30, 30]]},"
                        "  {\"id\": 2, \"image_id\": 1, \"category_id\": 7, \"bbox\": [40, 40, 5, 5]}]}");
  g_assert_cmpuint (annotations->len, ==, 5);
  a = g_ptr_array_index (annotations, 3);
  g_assert_cmpint (a->shape, ==, KP_SHAPE_POLYGON);
  g_assert_cmpuint (a->n_points, ==, 3);
  g_assert_cmpfloat (a->points[1].x, ==, 30);
  b = g_ptr_array_index (annotations, 4);
  g_assert_cmpint (b->shape, ==, KP_SHAPE_BOX);
  g_assert_cmpfloat (b->rect.x, ==, 40);

  /* The workstation's own text, from another window or project. */
  paste_text_and_toast (fixture,
                        "[{\"label\": \"car\", \"shape\": \"polyline\", \"bbox\": [0, 0, 10, 10],"
                        "  \"points\": [[0, 0], [10, 10], [0, 10]]}]");
  g_assert_cmpuint (annotations->len, ==, 6);
  a = g_ptr_array_index (annotations, 5);
  g_assert_cmpint (a->shape, ==, KP_SHAPE_POLYLINE);
  g_assert_cmpuint (a->n_points, ==, 3);
  g_assert_cmpuint (kp_document_get_n_undo (document), ==, 4);

  /* An unknown label: a toast naming it, and nothing pasted. */
  toast = paste_text_and_toast (fixture,
                                "[{\"label\": \"car\", \"left\": 1, \"top\": 2, \"width\": 3, \"height\": 4},"
                                " {\"label\": \"zebra\", \"left\": 1, \"top\": 2, \"width\": 3, \"height\": 4}]");
  g_assert_nonnull (toast);
  g_assert_nonnull (strstr (toast, "zebra"));
  g_assert_cmpuint (annotations->len, ==, 6);
  g_assert_cmpuint (kp_document_get_n_undo (document), ==, 4);

  /* Half-usable objects: nothing either. */
  toast = paste_text_and_toast (fixture,
                                "[{\"label\": \"car\", \"left\": 1, \"top\": 2, \"width\": 3, \"height\": 4},"
                                " {\"label\": \"car\", \"bbox\": [1, 2]}]");
  g_assert_nonnull (toast);
  g_assert_cmpuint (annotations->len, ==, 6);
  toast = paste_text_and_toast (fixture, "{\"hello\": 1}");
  g_assert_nonnull (toast);
  g_assert_cmpuint (annotations->len, ==, 6);
  g_assert_cmpuint (kp_document_get_n_undo (document), ==, 4);

  /* COCO RLE (column-major runs, background first) of this 320 × 240
   * image: a mask, x 100–109 and y 50–54. */
  toast = paste_text_and_toast (fixture,
                                "{\"categories\": [{\"id\": 3, \"name\": \"tree\"}], \"annotations\":"
                                " [{\"id\": 1, \"image_id\": 1, \"category_id\": 3, \"bbox\": [100, 50, 10, 5],"
                                "   \"segmentation\": {\"size\": [240, 320], \"counts\": [24050, 5, 235, 5, 235, 5,"
                                " 235, 5, 235, 5, 235, 5, 235, 5, 235, 5, 235, 5, 235, 5, 50585]}}]}");
  g_assert_null (toast);
  g_assert_cmpuint (annotations->len, ==, 7);
  a = g_ptr_array_index (annotations, 6);
  g_assert_cmpint (a->shape, ==, KP_SHAPE_MASK);
  g_assert_cmpint (a->label_id, ==, fixture->other_label_id);
  g_assert_cmpfloat (a->rect.x, ==, 100);
  g_assert_cmpfloat (a->rect.y, ==, 50);
  g_assert_cmpfloat (a->rect.width, ==, 10);
  g_assert_cmpfloat (a->rect.height, ==, 5);
  g_assert_cmpuint (kp_mask_get_area (a->mask), ==, 50);
  g_assert_cmpuint (kp_document_get_n_undo (document), ==, 5);

  /* RLE of another image's size: refused, saying why. */
  toast = paste_text_and_toast (fixture,
                                "[{\"label\": \"tree\", \"bbox\": [0, 0, 1, 1],"
                                "  \"segmentation\": {\"size\": [480, 640], \"counts\": [307200]}}]");
  g_assert_nonnull (toast);
  g_assert_nonnull (strstr (toast, "640"));
  g_assert_cmpuint (annotations->len, ==, 7);
}

/* Text another program put on the clipboard (here: another connection
 * to the X server) is read asynchronously and pasted. */
static void
test_paste_foreign_text (Fixture       *fixture,
                         gconstpointer  user_data)
{
  KpDocument *document = kp_window_get_current_document (fixture->window);
  GPtrArray *annotations = kp_document_get_annotations (document);
  GdkClipboard *ours = gtk_widget_get_clipboard (GTK_WIDGET (fixture->window));
  GdkDisplay *other;
  gint64 deadline;
  gint64 own;

  if (!GDK_IS_X11_DISPLAY (gtk_widget_get_display (GTK_WIDGET (fixture->window))) ||
      (other = gdk_display_open (NULL)) == NULL)
    {
      g_test_skip ("Needs a second connection to an X server");
      return;
    }

  /* Copied here first: the other program's text is newer and wins. */
  own = add_box (fixture, fixture->label_id, 10, 20);
  kp_canvas_set_selection (kp_window_get_canvas (fixture->window), &own, 1);
  activate (fixture, "copy", NULL);

  gdk_clipboard_set_text (gdk_display_get_clipboard (other),
                          "[{\"label\": \"tree\", \"left\": 70, \"top\": 80, \"width\": 9, \"height\": 9}]");
  deadline = g_get_monotonic_time () + WAIT_TIMEOUT_S * G_USEC_PER_SEC;
  while (gdk_clipboard_is_local (ours) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (gdk_clipboard_is_local (ours));

  activate (fixture, "paste", NULL);
  while (annotations->len < 2 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (annotations->len, ==, 2);
  g_assert_cmpint (((KpAnnotation *)g_ptr_array_index (annotations, 1))->label_id, ==, fixture->other_label_id);
  g_assert_cmpfloat (((KpAnnotation *)g_ptr_array_index (annotations, 1))->rect.x, ==, 70);

  gdk_display_close (other);
}

static gboolean
is_audio_page (Fixture *fixture)
{
  GtkWidget *child = gtk_stack_get_visible_child (fixture->window->canvas_stack);

  return KP_IS_AUDIO_PAGE (child);
}

static guint
find_media (Fixture    *fixture,
            const char *path)
{
  GListModel *model = kp_window_get_media_model (fixture->window);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(KpMediaItem) item = g_list_model_get_item (model, i);

      if (g_str_equal (kp_media_item_get_path (item), path))
        return i;
    }

  g_error ("%s is not in the list", path);
  return GTK_INVALID_LIST_POSITION;
}

static void
test_audio_page (Fixture       *fixture,
                 gconstpointer  user_data)
{
  select_and_wait (fixture, find_media (fixture, "d.wav"));
  g_assert_true (is_audio_page (fixture));
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (fixture->window), "paste"));
  /* Undo follows the page, which has nothing to undo yet. */
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (fixture->window), "undo"));

  select_and_wait (fixture, find_media (fixture, "f.mp4"));
  g_assert_true (KP_IS_VIDEO_PAGE (gtk_stack_get_visible_child (fixture->window->canvas_stack)));

  /* Back to an image: the canvas again. */
  select_and_wait (fixture, 0);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (fixture->window->canvas_stack), ==, "canvas");
}

static void
test_large_image (Fixture       *fixture,
                  gconstpointer  user_data)
{
  KpCanvas *canvas = kp_window_get_canvas (fixture->window);
  KpImageLayer *layer;

  /* Last in the list; its size is read from the header first. */
  select_and_wait (fixture, 3);
  g_assert_true (kp_window_get_image_loaded (fixture->window));
  layer = kp_canvas_get_image_layer (canvas);
  g_assert_nonnull (layer);
  g_assert_cmpint (kp_image_layer_get_width (layer), ==, 8400);
  g_assert_null (kp_canvas_get_texture (canvas));

  /* A small image after it is a texture again. */
  select_and_wait (fixture, 0);
  g_assert_null (kp_canvas_get_image_layer (canvas));
  g_assert_nonnull (kp_canvas_get_texture (canvas));
}

int
main (int   argc,
      char *argv[])
{
  kp_test_drop_dac_in_subprocess (argc, argv);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);

  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_log_set_fatal_handler (log_fatal_cb, NULL);

#define ADD(path, func) \
  g_test_add ("/kempelen/app/annotation/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("palette", test_palette);
  ADD ("list-selection", test_list_selection);
  ADD ("hide-lock", test_hide_lock);
  ADD ("attributes", test_attributes);
  ADD ("tags", test_tags);
  ADD ("clipboard", test_clipboard);
  ADD ("clipboard-json", test_clipboard_json);
  ADD ("keymap", test_keymap);
  ADD ("suggestions", test_suggestions);
  ADD ("import", test_import);
  ADD ("prefetch", test_prefetch);
  ADD ("prefetch-document", test_prefetch_document);
  ADD ("external-changes", test_external_changes);
  ADD ("external-changes-on-focus", test_external_changes_on_focus);
  ADD ("paste-text", test_paste_text);
  ADD ("paste-foreign-text", test_paste_foreign_text);
  g_test_add ("/kempelen/app/annotation/audio-page", Fixture, "audio",
              fixture_set_up, test_audio_page, fixture_tear_down);
  g_test_add ("/kempelen/app/annotation/large-image", Fixture, "large",
              fixture_set_up, test_large_image, fixture_tear_down);

#undef ADD

  return g_test_run ();
}
