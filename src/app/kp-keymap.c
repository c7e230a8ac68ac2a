/* kp-keymap.c: every keyboard shortcut of the workstation, and the user's changes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-keymap.h"

#include <glib/gi18n.h>

#define KEYMAP_KEY "keymap"

static const KpKeymapEntry entries[] = {
  { "app.quit", KP_KEYMAP_SECTION_GENERAL, N_("Quit"), "<Control>q" },
  { "win.open-folder", KP_KEYMAP_SECTION_GENERAL, N_("Open a folder"), "<Control>o" },
  { "window.close", KP_KEYMAP_SECTION_GENERAL, N_("Close the window"), "<Control>w" },
  { "win.show-keymap", KP_KEYMAP_SECTION_GENERAL, N_("Edit keyboard shortcuts"), "<Control>comma" },
  { "win.show-help-overlay", KP_KEYMAP_SECTION_GENERAL, N_("Show keyboard shortcuts"), "<Control>question" },

  { "win.next-image", KP_KEYMAP_SECTION_IMAGES, N_("Next image"), "Page_Down <Alt>Down" },
  { "win.previous-image", KP_KEYMAP_SECTION_IMAGES, N_("Previous image"), "Page_Up <Alt>Up" },
  { "win.mark-done", KP_KEYMAP_SECTION_IMAGES, N_("Mark as done"), "<Control>Return <Control>KP_Enter" },
  { "win.export('coco')", KP_KEYMAP_SECTION_IMAGES, N_("Export as COCO"), "<Control>e" },

  { "win.tool('select')", KP_KEYMAP_SECTION_TOOLS, N_("Select"), "v" },
  { "win.tool('box')", KP_KEYMAP_SECTION_TOOLS, N_("Box"), "b" },
  { "win.tool('rotated-box')", KP_KEYMAP_SECTION_TOOLS, N_("Rotated box"), "r" },
  { "win.tool('polygon')", KP_KEYMAP_SECTION_TOOLS, N_("Polygon"), "p" },
  { "win.tool('polyline')", KP_KEYMAP_SECTION_TOOLS, N_("Polyline"), "l" },
  { "win.tool('line')", KP_KEYMAP_SECTION_TOOLS, N_("Line"), "i" },
  { "win.tool('point')", KP_KEYMAP_SECTION_TOOLS, N_("Point"), "k" },
  { "win.tool('brush')", KP_KEYMAP_SECTION_TOOLS, N_("Brush"), "u" },
  { "win.tool('eraser')", KP_KEYMAP_SECTION_TOOLS, N_("Eraser"), "e" },

  { "win.select-label(1)", KP_KEYMAP_SECTION_LABELS, N_("Label 1, or relabel the selection"), "1 KP_1" },
  { "win.select-label(2)", KP_KEYMAP_SECTION_LABELS, N_("Label 2, or relabel the selection"), "2 KP_2" },
  { "win.select-label(3)", KP_KEYMAP_SECTION_LABELS, N_("Label 3, or relabel the selection"), "3 KP_3" },
  { "win.select-label(4)", KP_KEYMAP_SECTION_LABELS, N_("Label 4, or relabel the selection"), "4 KP_4" },
  { "win.select-label(5)", KP_KEYMAP_SECTION_LABELS, N_("Label 5, or relabel the selection"), "5 KP_5" },
  { "win.select-label(6)", KP_KEYMAP_SECTION_LABELS, N_("Label 6, or relabel the selection"), "6 KP_6" },
  { "win.select-label(7)", KP_KEYMAP_SECTION_LABELS, N_("Label 7, or relabel the selection"), "7 KP_7" },
  { "win.select-label(8)", KP_KEYMAP_SECTION_LABELS, N_("Label 8, or relabel the selection"), "8 KP_8" },
  { "win.select-label(9)", KP_KEYMAP_SECTION_LABELS, N_("Label 9, or relabel the selection"), "9 KP_9" },
  { "win.add-label", KP_KEYMAP_SECTION_LABELS, N_("Add a label"), "<Control>l" },

  { "win.undo", KP_KEYMAP_SECTION_EDITING, N_("Undo"), "<Control>z" },
  { "win.redo", KP_KEYMAP_SECTION_EDITING, N_("Redo"), "<Control><Shift>z <Control>y" },
  { "win.copy", KP_KEYMAP_SECTION_EDITING, N_("Copy the selected objects"), "<Control>c" },
  { "win.paste", KP_KEYMAP_SECTION_EDITING, N_("Paste objects"), "<Control>v" },
  { "win.duplicate", KP_KEYMAP_SECTION_EDITING, N_("Duplicate the selected objects"), "<Control>d" },
  { "win.copy-previous", KP_KEYMAP_SECTION_EDITING, N_("Copy all objects from the previous image"), "<Control><Shift>v" },
  { "win.hide-selected", KP_KEYMAP_SECTION_EDITING, N_("Hide the selected objects"), "h" },
  { "win.show-all", KP_KEYMAP_SECTION_EDITING, N_("Show every hidden object"), "<Shift>h" },
  { "win.lock-selected", KP_KEYMAP_SECTION_EDITING, N_("Lock or unlock the selected objects"), "<Control>k" },
  { "win.raise-selected", KP_KEYMAP_SECTION_EDITING, N_("Bring the selected objects to the front"), "<Control>bracketright" },
  { "win.lower-selected", KP_KEYMAP_SECTION_EDITING, N_("Send the selected objects to the back"), "<Control>bracketleft" },

  { "win.accept-suggestion", KP_KEYMAP_SECTION_SUGGESTIONS, N_("Accept the selected suggestions"), "a" },
  { "win.reject-suggestion", KP_KEYMAP_SECTION_SUGGESTIONS, N_("Reject the selected suggestions"), "x" },
  { "win.next-suggestion", KP_KEYMAP_SECTION_SUGGESTIONS, N_("Go to the next suggestion"), "n" },
  { "win.accept-above", KP_KEYMAP_SECTION_SUGGESTIONS, N_("Accept every suggestion above the threshold"), "<Shift>a" },
  { "win.reject-below", KP_KEYMAP_SECTION_SUGGESTIONS, N_("Reject every suggestion below the threshold"), "<Shift>x" },

  { "win.zoom-in", KP_KEYMAP_SECTION_VIEW, N_("Zoom in"), "<Control>plus <Control>equal <Control>KP_Add" },
  { "win.zoom-out", KP_KEYMAP_SECTION_VIEW, N_("Zoom out"), "<Control>minus <Control>KP_Subtract" },
  { "win.zoom-fit", KP_KEYMAP_SECTION_VIEW, N_("Best fit"), "<Control>0 <Control>KP_0" },
  { "win.zoom-100", KP_KEYMAP_SECTION_VIEW, N_("Zoom to 100 %"), "<Control>1 <Control>KP_1" },
  { "win.show-crosshair", KP_KEYMAP_SECTION_VIEW, N_("Show or hide the crosshair"), "<Control>h" },
};

static const KpKeymapFixed fixed[] = {
  { KP_KEYMAP_SECTION_EDITING, N_("Select the next object"), "Tab" },
  { KP_KEYMAP_SECTION_EDITING, N_("Select the previous object"), "<Shift>Tab" },
  { KP_KEYMAP_SECTION_EDITING, N_("Move the selection by one pixel"), "Left Up Right Down" },
  { KP_KEYMAP_SECTION_EDITING, N_("Move the selection by ten pixels"), "<Shift>Left <Shift>Up <Shift>Right <Shift>Down" },
  { KP_KEYMAP_SECTION_EDITING, N_("Delete the selected objects"), "Delete BackSpace" },
  { KP_KEYMAP_SECTION_EDITING, N_("Cancel the drawing, or deselect"), "Escape" },
  { KP_KEYMAP_SECTION_TOOLS, N_("Draw with the keyboard: place a corner or vertex at the cursor"), "Return" },
  { KP_KEYMAP_SECTION_TOOLS, N_("Draw with the keyboard: move the cursor"), "Left Up Right Down" },
  { KP_KEYMAP_SECTION_VIEW, N_("Zoom in on the canvas"), "plus" },
  { KP_KEYMAP_SECTION_VIEW, N_("Zoom out on the canvas"), "minus" },
  { KP_KEYMAP_SECTION_VIEW, N_("Zoom to the selection"), "<Control>2" },
  { KP_KEYMAP_SECTION_VIEW, N_("Pan: hold Space and drag"), "space" },
};

/* The review desk's keys (kp-review-window.c binds them). They are not
 * remappable and work in the desk's window only, so they are not in
 * fixed[]: they cannot conflict with the annotation window's keys. */
static const struct
{
  const char *title;
  const char *accel;
} review_keys[] = {
  { N_("Approve the selected assignment"), "a" },
  { N_("Reject the selected assignment"), "r" },
  { N_("Next HIT"), "n" },
  { N_("Previous HIT"), "p" },
  { N_("Show or hide worker 1 to 9"), "1...9" },
  { N_("Fit the image in the window"), "<Control>0" },
  { N_("Load the batches again"), "F5 <Control>r" },
};

static const char *section_titles[KP_KEYMAP_N_SECTIONS] = {
  N_("General"),
  N_("Images"),
  N_("Tools"),
  N_("Labels"),
  N_("Objects"),
  N_("Suggestions"),
  N_("View"),
};

const KpKeymapEntry *
kp_keymap_get_entries (guint *n_entries)
{
  g_return_val_if_fail (n_entries != NULL, NULL);

  *n_entries = G_N_ELEMENTS (entries);
  return entries;
}

const KpKeymapFixed *
kp_keymap_get_fixed (guint *n_fixed)
{
  g_return_val_if_fail (n_fixed != NULL, NULL);

  *n_fixed = G_N_ELEMENTS (fixed);
  return fixed;
}

const KpKeymapEntry *
kp_keymap_lookup (const char *action)
{
  g_return_val_if_fail (action != NULL, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
    if (g_str_equal (entries[i].action, action))
      return &entries[i];

  return NULL;
}

const char *
kp_keymap_entry_get_title (const KpKeymapEntry *entry)
{
  g_return_val_if_fail (entry != NULL, NULL);

  return _(entry->title);
}

const char *
kp_keymap_section_get_title (KpKeymapSection section)
{
  g_return_val_if_fail (section < KP_KEYMAP_N_SECTIONS, NULL);

  return _(section_titles[section]);
}

char *
kp_keymap_dup_accels (GSettings  *settings,
                      const char *action)
{
  g_autoptr(GVariant) map = NULL;
  const KpKeymapEntry *entry;
  const char *value = NULL;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (action != NULL, NULL);

  map = g_settings_get_value (settings, KEYMAP_KEY);
  if (g_variant_lookup (map, action, "&s", &value))
    return g_strdup (value);

  entry = kp_keymap_lookup (action);

  return g_strdup (entry != NULL ? entry->accels : "");
}

char *
kp_keymap_dup_label (GSettings  *settings,
                     const char *action)
{
  g_autofree char *accels = kp_keymap_dup_accels (settings, action);
  g_auto(GStrv) parts = g_strsplit (accels, " ", -1);
  guint key;
  GdkModifierType mods;

  for (guint i = 0; parts[i] != NULL; i++)
    if (*parts[i] != '\0' && gtk_accelerator_parse (parts[i], &key, &mods))
      return gtk_accelerator_get_label (key, mods);

  return NULL;
}

/* The canonical name of one accelerator, or NULL when it does not parse. */
static char *
normalize (const char *accel)
{
  guint key;
  GdkModifierType mods;

  if (accel == NULL || !gtk_accelerator_parse (accel, &key, &mods) || key == 0)
    return NULL;

  return gtk_accelerator_name (key, mods);
}

gboolean
kp_keymap_set_accels (GSettings  *settings,
                      const char *action,
                      const char *accels)
{
  g_autoptr(GVariant) map = NULL;
  g_autoptr(GString) normalized = g_string_new (NULL);
  GVariantBuilder builder;
  GVariantIter iter;
  const char *key, *value;
  const KpKeymapEntry *entry;

  g_return_val_if_fail (G_IS_SETTINGS (settings), FALSE);
  g_return_val_if_fail (action != NULL, FALSE);

  entry = kp_keymap_lookup (action);

  if (accels != NULL)
    {
      g_auto(GStrv) parts = g_strsplit (accels, " ", -1);

      for (guint i = 0; parts[i] != NULL; i++)
        {
          g_autofree char *name = NULL;

          if (*parts[i] == '\0')
            continue;
          if ((name = normalize (parts[i])) == NULL)
            return FALSE;
          if (normalized->len > 0)
            g_string_append_c (normalized, ' ');
          g_string_append (normalized, name);
        }
    }

  map = g_settings_get_value (settings, KEYMAP_KEY);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{ss}"));
  g_variant_iter_init (&iter, map);
  while (g_variant_iter_next (&iter, "{&s&s}", &key, &value))
    if (!g_str_equal (key, action))
      g_variant_builder_add (&builder, "{ss}", key, value);

  /* The default needs no entry: later versions may improve defaults. */
  if (accels != NULL && (entry == NULL || !g_str_equal (entry->accels, normalized->str)))
    g_variant_builder_add (&builder, "{ss}", action, normalized->str);

  return g_settings_set_value (settings, KEYMAP_KEY, g_variant_builder_end (&builder));
}

void
kp_keymap_reset_all (GSettings *settings)
{
  g_return_if_fail (G_IS_SETTINGS (settings));

  g_settings_reset (settings, KEYMAP_KEY);
}

const char *
kp_keymap_find_conflict (GSettings  *settings,
                         const char *action,
                         const char *accel)
{
  g_autofree char *wanted = normalize (accel);

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  if (wanted == NULL)
    return NULL;

  for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
    {
      g_autofree char *accels = NULL;
      g_auto(GStrv) parts = NULL;

      if (action != NULL && g_str_equal (entries[i].action, action))
        continue;

      accels = kp_keymap_dup_accels (settings, entries[i].action);
      parts = g_strsplit (accels, " ", -1);
      for (guint j = 0; parts[j] != NULL; j++)
        {
          g_autofree char *name = normalize (parts[j]);

          if (name != NULL && g_str_equal (name, wanted))
            return entries[i].action;
        }
    }

  return NULL;
}

/* Keys that type something (letters, digits, space, BackSpace) with no
 * Control, Alt or Super. GTK runs application accelerators in the capture
 * phase, before the focused widget: as accelerators these would steal
 * every "b" typed into an attribute field. They go to the window instead,
 * in the bubble phase, after a focused text field has had its chance. */
static gboolean
is_typing_key (const char *accel)
{
  guint key;
  GdkModifierType mods;

  if (!gtk_accelerator_parse (accel, &key, &mods) || key == 0)
    return FALSE;

  return (mods & (GDK_CONTROL_MASK | GDK_ALT_MASK | GDK_SUPER_MASK |
                  GDK_HYPER_MASK | GDK_META_MASK)) == 0 &&
         gdk_keyval_to_unicode (key) != 0;
}

/* Calls func for each valid accelerator of each action. */
static void
foreach_accel (GSettings  *settings,
               void      (*func) (const char *action,
                                  const char *accel,
                                  gpointer    user_data),
               gpointer    user_data)
{
  for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
    {
      g_autofree char *accels = kp_keymap_dup_accels (settings, entries[i].action);
      g_auto(GStrv) parts = g_strsplit (accels, " ", -1);

      for (guint j = 0; parts[j] != NULL; j++)
        {
          g_autofree char *name = normalize (parts[j]);

          if (name != NULL)
            func (entries[i].action, name, user_data);
        }
    }
}

static void
add_app_accel (const char *action,
               const char *accel,
               gpointer    user_data)
{
  GHashTable *by_action = user_data;
  GPtrArray *list = g_hash_table_lookup (by_action, action);

  if (is_typing_key (accel))
    return;
  if (list == NULL)
    {
      list = g_ptr_array_new_with_free_func (g_free);
      g_hash_table_insert (by_action, (gpointer)action, list);
    }
  g_ptr_array_add (list, g_strdup (accel));
}

void
kp_keymap_apply (GtkApplication *app,
                 GSettings      *settings)
{
  g_autoptr(GHashTable) by_action = NULL;

  g_return_if_fail (GTK_IS_APPLICATION (app));
  g_return_if_fail (G_IS_SETTINGS (settings));

  by_action = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                     (GDestroyNotify)g_ptr_array_unref);
  foreach_accel (settings, add_app_accel, by_action);

  for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
    {
      GPtrArray *list = g_hash_table_lookup (by_action, entries[i].action);
      const char *none[] = { NULL };

      if (list != NULL)
        g_ptr_array_add (list, NULL);
      gtk_application_set_accels_for_action (app, entries[i].action,
                                             list != NULL ? (const char * const *)list->pdata : none);
    }
}

static void
add_typing_shortcut (const char *action,
                     const char *accel,
                     gpointer    user_data)
{
  GtkShortcutController *controller = user_data;
  g_autofree char *name = NULL;
  g_autoptr(GVariant) target = NULL;
  GtkShortcut *shortcut;

  if (!is_typing_key (accel) ||
      !g_action_parse_detailed_name (action, &name, &target, NULL))
    return;

  shortcut = gtk_shortcut_new (gtk_shortcut_trigger_parse_string (accel),
                               gtk_named_action_new (name));
  if (target != NULL)
    gtk_shortcut_set_arguments (shortcut, target);
  gtk_shortcut_controller_add_shortcut (controller, shortcut);
}

#define TYPING_CONTROLLER_KEY "kp-keymap-typing"

static void
attach_typing_shortcuts (GtkWidget *window,
                         GSettings *settings)
{
  GtkEventController *old = g_object_get_data (G_OBJECT (window), TYPING_CONTROLLER_KEY);
  GtkEventController *controller = gtk_shortcut_controller_new ();

  if (old != NULL)
    gtk_widget_remove_controller (window, old);

  gtk_event_controller_set_name (controller, TYPING_CONTROLLER_KEY);
  gtk_event_controller_set_propagation_phase (controller, GTK_PHASE_BUBBLE);
  foreach_accel (settings, add_typing_shortcut, controller);
  gtk_widget_add_controller (window, controller);
  g_object_set_data (G_OBJECT (window), TYPING_CONTROLLER_KEY, controller);
}

static void
typing_keymap_changed_cb (GSettings  *settings,
                          const char *key,
                          GtkWidget  *window)
{
  attach_typing_shortcuts (window, settings);
}

void
kp_keymap_attach (GtkWidget *window,
                  GSettings *settings)
{
  g_return_if_fail (GTK_IS_WIDGET (window));
  g_return_if_fail (G_IS_SETTINGS (settings));

  attach_typing_shortcuts (window, settings);
  g_signal_connect_object (settings, "changed::keymap",
                           G_CALLBACK (typing_keymap_changed_cb), window, 0);
}

gboolean
kp_keymap_is_typing_key (const char *accel)
{
  g_return_val_if_fail (accel != NULL, FALSE);

  return is_typing_key (accel);
}

static void
append_shortcut (GString    *xml,
                 const char *title,
                 const char *accels)
{
  g_autofree char *escaped = g_markup_printf_escaped ("<child><object class=\"GtkShortcutsShortcut\">"
                                                      "<property name=\"title\">%s</property>"
                                                      "<property name=\"accelerator\">%s</property>"
                                                      "</object></child>",
                                                      title, accels);

  g_string_append (xml, escaped);
}

GtkShortcutsWindow *
kp_keymap_build_shortcuts_window (GSettings *settings)
{
  g_autoptr(GString) xml = g_string_new (NULL);
  g_autoptr(GtkBuilder) builder = NULL;
  g_autoptr(GError) error = NULL;
  GObject *window;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  /* GTK 4.8 has no API to add sections to a GtkShortcutsWindow, but
   * GtkBuilder can: the window is described from the keymap as it is now,
   * so it always matches the keys that work. */
  {
    /* TRANSLATORS: the shortcuts window's section of the annotation window's keys */
    g_autofree char *start = g_markup_printf_escaped ("<interface><object class=\"GtkShortcutsWindow\" id=\"help_overlay\">"
                                                      "<property name=\"modal\">true</property>"
                                                      "<child><object class=\"GtkShortcutsSection\">"
                                                      "<property name=\"section-name\">shortcuts</property>"
                                                      "<property name=\"title\">%s</property>"
                                                      "<property name=\"max-height\">36</property>",
                                                      _("Annotation"));

    g_string_append (xml, start);
  }

  for (guint s = 0; s < KP_KEYMAP_N_SECTIONS; s++)
    {
      g_autofree char *group = g_markup_printf_escaped ("<child><object class=\"GtkShortcutsGroup\">"
                                                        "<property name=\"title\">%s</property>",
                                                        _(section_titles[s]));

      g_string_append (xml, group);

      for (guint i = 0; i < G_N_ELEMENTS (entries); i++)
        {
          g_autofree char *accels = NULL;

          if (entries[i].section != s)
            continue;
          accels = kp_keymap_dup_accels (settings, entries[i].action);
          if (*accels == '\0')
            continue;
          append_shortcut (xml, _(entries[i].title), accels);
        }

      for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
        if (fixed[i].section == s)
          append_shortcut (xml, _(fixed[i].title), fixed[i].accel);

      g_string_append (xml, "</object></child>");
    }

  g_string_append (xml, "</object></child>");

  /* The desk's keys in a section of their own: another window's. */
  {
    g_autofree char *section = g_markup_printf_escaped ("<child><object class=\"GtkShortcutsSection\">"
                                                        "<property name=\"section-name\">review</property>"
                                                        "<property name=\"title\">%s</property>"
                                                        "<child><object class=\"GtkShortcutsGroup\">"
                                                        "<property name=\"title\">%s</property>",
                                                        _("Review Desk"), _("Review Desk"));

    g_string_append (xml, section);
    for (guint i = 0; i < G_N_ELEMENTS (review_keys); i++)
      append_shortcut (xml, _(review_keys[i].title), review_keys[i].accel);
    g_string_append (xml, "</object></child></object></child>");
  }

  g_string_append (xml, "</object></interface>");

  builder = gtk_builder_new ();
  if (!gtk_builder_add_from_string (builder, xml->str, xml->len, &error))
    {
      g_critical ("Cannot build the shortcuts window: %s", error->message);
      return NULL;
    }

  window = gtk_builder_get_object (builder, "help_overlay");

  return GTK_SHORTCUTS_WINDOW (window);
}
