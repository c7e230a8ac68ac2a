/* kp-keymap-editor.h: the preferences window for keyboard shortcuts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define KP_TYPE_KEYMAP_EDITOR (kp_keymap_editor_get_type ())
G_DECLARE_FINAL_TYPE (KpKeymapEditor, kp_keymap_editor, KP, KEYMAP_EDITOR, AdwPreferencesWindow)

/* Lists every action of the keymap (kp-keymap.h) with its keys; activating
 * a row waits for a new key (Escape cancels, Backspace removes the key).
 * A key another action uses too is shown on both rows. Changes are saved
 * in settings' "keymap" at once; the application applies them. */
GtkWidget  *kp_keymap_editor_new          (GtkWindow      *parent,
                                           GSettings      *settings);
/* What pressing accel on the action's row does (NULL: no key). */
gboolean    kp_keymap_editor_rebind       (KpKeymapEditor *self,
                                           const char     *action,
                                           const char     *accel);
void        kp_keymap_editor_reset        (KpKeymapEditor *self,
                                           const char     *action);
void        kp_keymap_editor_reset_all    (KpKeymapEditor *self);
/* The row of action, for tests; its subtitle names a conflict. */
AdwActionRow *kp_keymap_editor_get_row    (KpKeymapEditor *self,
                                           const char     *action);

G_END_DECLS
