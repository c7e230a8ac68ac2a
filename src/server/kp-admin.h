/* kp-admin.h: administration of a server's data directory (kp-admin.c),
 * used by kempelenctl admin and by the server itself
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "kp-db.h"

G_BEGIN_DECLS

/* DATA_DIR/kempelen.db (created 0700 / 0600 if missing). */
char    *kp_admin_db_path          (const char  *data_dir);
/* Opens the data directory's database, creating the directory. */
KpDb    *kp_admin_open             (const char  *data_dir,
                                    GError     **error);
/* Opens the store: the PostgreSQL database named by store (a libpq URI,
 * "postgresql://…"), or when store is NULL the data directory's SQLite
 * database. The data directory (media, created if missing) is used either
 * way; several servers on one PostgreSQL database share it. */
KpDb    *kp_admin_open_store       (const char  *data_dir,
                                    const char  *store,
                                    GError     **error);

/* A new requester: *access_key_id (20 characters, "AKIA…" style) and
 * *secret_access_key (40 characters). */
gboolean kp_admin_create_requester (KpDb        *db,
                                    const char  *name,
                                    char       **requester_id,
                                    char       **access_key_id,
                                    char       **secret_access_key,
                                    GError     **error);
/* A new worker: *worker_id ("A…", 14 characters) and its bearer *token
 * (stored only as a SHA-256 hash). */
gboolean kp_admin_create_worker    (KpDb        *db,
                                    const char  *name,
                                    char       **worker_id,
                                    char       **token,
                                    GError     **error);
/* Sets a worker's locale (ISO 3166 country, optional subdivision) and
 * Masters flag, which the system qualifications read. */
gboolean kp_admin_update_worker    (KpDb        *db,
                                    const char  *worker_id,
                                    const char  *country,
                                    const char  *subdivision,
                                    gboolean     is_master,
                                    GError     **error);
/* Adds prepaid funds (positive cents) to the requester with access_key_id. */
gboolean kp_admin_fund             (KpDb        *db,
                                    const char  *access_key_id,
                                    gint64       cents,
                                    GError     **error);

/* Lookups for authentication. NULL (without error) if unknown. */
gboolean kp_admin_find_requester   (KpDb        *db,
                                    const char  *access_key_id,
                                    char       **requester_id,
                                    char       **secret_access_key,
                                    GError     **error);
gboolean kp_admin_find_worker      (KpDb        *db,
                                    const char  *token,
                                    char       **worker_id,
                                    GError     **error);

G_END_DECLS
