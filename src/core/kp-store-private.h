/* kp-store-private.h: internals of KpStore shared with the tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <sqlite3.h>

#include "kp-store.h"

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

/* Whether path (an existing file or folder) can be written to. */
typedef gboolean (*KpStoreWritableFunc) (const char *path,
                                         gpointer    user_data);

/* The three places the database of folder (absolute) may live, in lookup
 * order; some may be missing (e.g. no PARENT/NAME.kempelen for "/"). */
GStrv     _kp_store_candidate_paths (const char          *folder) G_GNUC_WARN_UNUSED_RESULT;

/* Decides where the database of folder lives, asking writable about
 * existing files and folders (for a folder that does not exist yet, its
 * nearest existing ancestor). Returns the database path to open, and in
 * copy_from the read-only database to copy there first, or NULL. Returns
 * NULL with KP_STORE_ERROR_READ_ONLY when nothing is writable. */
char     *_kp_store_locate          (const char          *folder,
                                     KpStoreWritableFunc  writable,
                                     gpointer             user_data,
                                     char               **copy_from,
                                     GError             **error) G_GNUC_WARN_UNUSED_RESULT;

gboolean  _kp_store_path_writable   (const char          *path,
                                     gpointer             user_data);

/* The connection, for tests that need to provoke errors. */
sqlite3  *_kp_store_get_db          (KpStore             *self);

/* One transaction around several edits (KpDocument's command and its
 * journal entry); the annotation functions nest inside with savepoints. */
gboolean  _kp_store_begin           (KpStore             *self,
                                     GError             **error);
gboolean  _kp_store_commit          (KpStore             *self,
                                     GError             **error);
void      _kp_store_rollback        (KpStore             *self);

/* The undo journal of each media (table history). push drops the redo
 * steps, appends command as done and keeps the newest limit steps; labels
 * is ",id,id," of the labels the command mentions. peek reads the step
 * undo (TRUE) or redo would replay, or NULL with *history_id 0 for none. */
gint64    _kp_store_history_push    (KpStore             *self,
                                     gint64               media_id,
                                     const char          *labels,
                                     const char          *command,
                                     guint                limit,
                                     GError             **error);
char     *_kp_store_history_peek    (KpStore             *self,
                                     gint64               media_id,
                                     gboolean             undo,
                                     gint64              *history_id,
                                     GError             **error) G_GNUC_WARN_UNUSED_RESULT;
gboolean  _kp_store_history_mark    (KpStore             *self,
                                     gint64               history_id,
                                     gboolean             done,
                                     GError             **error);
gboolean  _kp_store_history_count   (KpStore             *self,
                                     gint64               media_id,
                                     guint               *n_undo,
                                     guint               *n_redo,
                                     GError             **error);
gboolean  _kp_store_history_forget_label (KpStore        *self,
                                     gint64               label_id,
                                     GError             **error);

G_END_DECLS
