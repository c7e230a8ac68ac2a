/* kp-keymap.h: every keyboard shortcut of the workstation, and the user's changes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum
{
  KP_KEYMAP_SECTION_GENERAL,
  KP_KEYMAP_SECTION_IMAGES,
  KP_KEYMAP_SECTION_TOOLS,
  KP_KEYMAP_SECTION_LABELS,
  KP_KEYMAP_SECTION_EDITING,
  KP_KEYMAP_SECTION_SUGGESTIONS,
  KP_KEYMAP_SECTION_VIEW,
} KpKeymapSection;

#define KP_KEYMAP_N_SECTIONS (KP_KEYMAP_SECTION_VIEW + 1)

/* One rebindable action. action is a detailed action name, as given to
 * gtk_application_set_accels_for_action (); accels are the defaults,
 * separated by spaces. */
typedef struct
{
  const char      *action;
  KpKeymapSection  section;
  const char      *title;       /* untranslated; use kp_keymap_entry_get_title () */
  const char      *accels;
} KpKeymapEntry;

/* Keys the canvas handles itself; listed in the shortcuts window only. */
typedef struct
{
  KpKeymapSection  section;
  const char      *title;       /* untranslated */
  const char      *accel;       /* a GtkShortcutsShortcut accelerator */
} KpKeymapFixed;

const KpKeymapEntry *kp_keymap_get_entries        (guint             *n_entries);
const KpKeymapFixed *kp_keymap_get_fixed          (guint             *n_fixed);
const KpKeymapEntry *kp_keymap_lookup             (const char        *action);
const char          *kp_keymap_entry_get_title    (const KpKeymapEntry *entry);
const char          *kp_keymap_section_get_title  (KpKeymapSection    section);

/* The accelerators of action now: the "keymap" setting's value, or the
 * default. Space-separated; "" for none. */
char                *kp_keymap_dup_accels         (GSettings         *settings,
                                                   const char        *action);
/* The first accelerator of action in the form people read ("Ctrl+Z"), or
 * NULL when it has none. */
char                *kp_keymap_dup_label          (GSettings         *settings,
                                                   const char        *action);
/* Stores accels for action (NULL: back to the default), after checking
 * that each parses; FALSE when one does not. */
gboolean             kp_keymap_set_accels         (GSettings         *settings,
                                                   const char        *action,
                                                   const char        *accels);
void                 kp_keymap_reset_all          (GSettings         *settings);
/* The other action using accel (normalised), or NULL. */
const char          *kp_keymap_find_conflict      (GSettings         *settings,
                                                   const char        *action,
                                                   const char        *accel);
/* Sets every action's accelerators on app, except the keys that type
 * (kp_keymap_is_typing_key()): GTK runs application accelerators before
 * the focused widget, so those would never reach a text field. */
void                 kp_keymap_apply              (GtkApplication    *app,
                                                   GSettings         *settings);
/* Gives window the typing keys of the keymap (and follows its changes),
 * handled after the focused widget: a "b" typed into a text field is text,
 * elsewhere it picks the box tool. */
void                 kp_keymap_attach             (GtkWidget         *window,
                                                   GSettings         *settings);
/* A key without Control, Alt or Super that types a character. */
gboolean             kp_keymap_is_typing_key      (const char        *accel);
/* The shortcuts window for the keymap now, with every fixed key too. */
GtkShortcutsWindow  *kp_keymap_build_shortcuts_window (GSettings     *settings);

G_END_DECLS
