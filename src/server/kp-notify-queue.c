/* kp-notify-queue.c: queueing MTurk event notifications
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A notification is queued in the transaction of its event, as the JSON
 * document MTurk sends to SQS / SNS (EventDocVersion 2014-08-15): one
 * outbox row per event and destination. kp-notify.c delivers them.
 */

#include "config.h"

#include "kp-notify.h"

#include <glib/gi18n.h>

static char *
format_timestamp (gint64 epoch)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc (epoch);

  return g_date_time_format (time, "%Y-%m-%dT%H:%M:%SZ");
}

gboolean
kp_notify_event (KpCtx       *ctx,
                 const char  *event_type,
                 const char  *hit_type_id,
                 const char  *hit_id,
                 const char  *assignment_id,
                 GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;

  g_return_val_if_fail (ctx != NULL, FALSE);
  g_return_val_if_fail (event_type != NULL, FALSE);
  g_return_val_if_fail (hit_type_id != NULL, FALSE);

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT s.destination, s.version, s.event_types, t.requester_id "
                      "FROM notification_settings s JOIN hit_types t ON t.id = s.hit_type_id "
                      "WHERE s.hit_type_id = $1 AND s.active = 1",
                      "s", hit_type_id);
  if (rows == NULL)
    return kp_api_fail_db (ctx, error, local_error);

  for (guint r = 0; r < kp_rows_get_n_rows (rows); r++)
    {
      const char *destination = kp_rows_get_text (rows, r, 0);
      const char *version = kp_rows_get_text (rows, r, 1);
      const char *requester_id = kp_rows_get_text (rows, r, 3);
      g_autoptr(JsonNode) types = json_from_string (kp_rows_get_text (rows, r, 2), NULL);
      g_autoptr(JsonBuilder) builder = NULL;
      g_autoptr(JsonNode) root = NULL;
      g_autofree char *body = NULL;
      g_autofree char *id = NULL;
      g_autofree char *doc_id = NULL;
      g_autofree char *timestamp = NULL;
      gboolean wanted = FALSE;

      if (types != NULL && JSON_NODE_HOLDS_ARRAY (types))
        {
          JsonArray *array = json_node_get_array (types);

          for (guint i = 0; i < json_array_get_length (array); i++)
            if (g_strcmp0 (json_array_get_string_element (array, i), event_type) == 0)
              wanted = TRUE;
        }
      if (!wanted)
        continue;

      id = kp_api_new_id ();
      doc_id = kp_api_new_id ();
      timestamp = format_timestamp (ctx->now);

      builder = json_builder_new ();
      json_builder_begin_object (builder);
      kp_json_add_string (builder, "EventDocId", doc_id);
      kp_json_add_string (builder, "SourceAccount", requester_id);
      kp_json_add_string (builder, "CustomerId", requester_id);
      kp_json_add_string (builder, "EventDocVersion", version);
      json_builder_set_member_name (builder, "Events");
      json_builder_begin_array (builder);
      json_builder_begin_object (builder);
      kp_json_add_string (builder, "EventType", event_type);
      kp_json_add_string (builder, "EventTimestamp", timestamp);
      kp_json_add_string (builder, "HITTypeId", hit_type_id);
      kp_json_add_string (builder, "HITId", hit_id);
      kp_json_add_string (builder, "AssignmentId", assignment_id);
      json_builder_end_object (builder);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      body = json_to_string (root, FALSE);

      if (!kp_db_exec (ctx->db, NULL, &local_error,
                       "INSERT INTO notification_outbox (id, destination, body, next_attempt, created) "
                       "VALUES ($1, $2, $3, $4, $4)",
                       "sssi", id, destination, body, ctx->now))
        return kp_api_fail_db (ctx, error, local_error);
    }

  return TRUE;
}
