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

G_END_DECLS
