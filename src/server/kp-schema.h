/* kp-schema.h: the server database's schema and its migrations
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "kp-db.h"

G_BEGIN_DECLS

/* The newest schema version this build knows. */
#define KP_SCHEMA_VERSION 3

/* Brings the database up to KP_SCHEMA_VERSION in one transaction; a
 * database from a newer server is refused with KP_DB_ERROR_TOO_NEW and
 * left untouched. */
gboolean kp_schema_migrate (KpDb    *db,
                            GError **error);

G_END_DECLS
