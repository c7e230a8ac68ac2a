/* test-keymap.c: keys that type reach text fields; elsewhere they are shortcuts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Real key presses through the X server (xdotool, XTEST) into a real
 * window under Xvfb: GTK runs application accelerators before the focused
 * widget, so a one-letter tool key registered as one would never reach
 * an attribute's text field.
 */

#include "config.h"

#include <adwaita.h>

#include "kp-application.h"
#include "kp-keymap.h"

#define WINDOW_TITLE "Kempelen keymap test"

typedef struct
{
  GtkApplication *app;
  GtkWindow      *window;
  GtkWidget      *entry;
  GtkWidget      *button;
  GPtrArray      *activated;     /* tool ids, in order */
} Fixture;

static void
iterate (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (2000);
    }
}

static void
tool_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  Fixture *fixture = user_data;

  g_ptr_array_add (fixture->activated, g_variant_dup_string (parameter, NULL));
}

static void
undo_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
}

static gboolean
press_keys (const char *keys)
{
  /* No window manager under Xvfb: give the window the X focus first. */
  g_autofree char *command = g_strdup_printf ("xdotool search --name '%s' windowfocus --sync %%1 type --delay 20 %s",
                                              WINDOW_TITLE, keys);
  g_autoptr(GError) error = NULL;
  int status = 0;

  if (!g_spawn_command_line_sync (command, NULL, NULL, &status, &error))
    {
      g_test_message ("xdotool: %s", error->message);
      return FALSE;
    }

  return g_spawn_check_wait_status (status, NULL);
}

static void
test_typing_keys (void)
{
  g_autoptr(GSettings) settings = g_settings_new (KP_SETTINGS_SCHEMA_ID);
  const GActionEntry actions[] = {
    { "tool", tool_action, "s", "'select'" },
    { "undo", undo_action },
  };
  Fixture fixture = { 0 };
  g_auto(GStrv) accels = NULL;
  GtkWidget *box;
  const char *text;

  g_settings_reset (settings, "keymap");

  fixture.app = gtk_application_new ("io.github.kempelen.KeymapTest", G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (fixture.app), NULL, NULL));
  fixture.activated = g_ptr_array_new_with_free_func (g_free);
  kp_keymap_apply (fixture.app, settings);

  /* Keys that type are not application accelerators; the others are. */
  accels = gtk_application_get_accels_for_action (fixture.app, "win.tool('box')");
  g_assert_cmpuint (g_strv_length (accels), ==, 0);
  g_clear_pointer (&accels, g_strfreev);
  accels = gtk_application_get_accels_for_action (fixture.app, "win.undo");
  g_assert_cmpstrv (accels, ((const char *[]) { "<Control>z", NULL }));
  g_assert_true (kp_keymap_is_typing_key ("b"));
  g_assert_true (kp_keymap_is_typing_key ("<Shift>a"));
  g_assert_true (kp_keymap_is_typing_key ("KP_1"));
  g_assert_false (kp_keymap_is_typing_key ("<Control>b"));
  g_assert_false (kp_keymap_is_typing_key ("Page_Down"));

  fixture.window = GTK_WINDOW (gtk_application_window_new (fixture.app));
  g_action_map_add_action_entries (G_ACTION_MAP (fixture.window), actions,
                                   G_N_ELEMENTS (actions), &fixture);
  kp_keymap_attach (GTK_WIDGET (fixture.window), settings);
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  fixture.entry = gtk_entry_new ();
  fixture.button = gtk_button_new_with_label ("Canvas stand-in");
  gtk_box_append (GTK_BOX (box), fixture.entry);
  gtk_box_append (GTK_BOX (box), fixture.button);
  gtk_window_set_child (fixture.window, box);
  gtk_window_set_title (fixture.window, WINDOW_TITLE);
  gtk_window_present (fixture.window);
  iterate (300);

  /* Typed into a text field: text, no tool change. */
  gtk_widget_grab_focus (fixture.entry);
  iterate (100);
  g_assert_true (gtk_widget_is_ancestor (gtk_window_get_focus (fixture.window), fixture.entry));
  g_assert_true (press_keys ("bp"));
  iterate (300);
  text = gtk_editable_get_text (GTK_EDITABLE (fixture.entry));
  g_assert_cmpstr (text, ==, "bp");
  g_assert_cmpuint (fixture.activated->len, ==, 0);

  /* Elsewhere in the window: the tool keys. */
  gtk_widget_grab_focus (fixture.button);
  iterate (100);
  g_assert_true (press_keys ("p"));
  iterate (300);
  g_assert_cmpuint (fixture.activated->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (fixture.activated, 0), ==, "polygon");

  /* A rebinding reaches the window at once. */
  g_assert_true (kp_keymap_set_accels (settings, "win.tool('box')", "m"));
  iterate (50);
  g_assert_true (press_keys ("m"));
  iterate (300);
  g_assert_cmpuint (fixture.activated->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (fixture.activated, 1), ==, "box");
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (fixture.entry)), ==, "bp");

  g_settings_reset (settings, "keymap");
  gtk_window_destroy (fixture.window);
  g_ptr_array_unref (fixture.activated);
  g_object_unref (fixture.app);
}

int
main (int   argc,
      char *argv[])
{
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_func ("/keymap/typing-keys", test_typing_keys);

  return g_test_run ();
}
