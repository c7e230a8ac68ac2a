/* kp-worker-group.c: one HIT group of the marketplace, for list widgets
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-worker-group.h"

#include <glib/gi18n.h>

struct _KpWorkerGroup
{
  GObject     parent_instance;

  JsonObject *object;
};

G_DEFINE_FINAL_TYPE (KpWorkerGroup, kp_worker_group, G_TYPE_OBJECT)

static void
kp_worker_group_finalize (GObject *object)
{
  KpWorkerGroup *self = KP_WORKER_GROUP (object);

  g_clear_pointer (&self->object, json_object_unref);

  G_OBJECT_CLASS (kp_worker_group_parent_class)->finalize (object);
}

static void
kp_worker_group_class_init (KpWorkerGroupClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kp_worker_group_finalize;
}

static void
kp_worker_group_init (KpWorkerGroup *self)
{
}

KpWorkerGroup *
kp_worker_group_new (JsonObject *object)
{
  KpWorkerGroup *self;

  g_return_val_if_fail (object != NULL, NULL);

  self = g_object_new (KP_TYPE_WORKER_GROUP, NULL);
  self->object = json_object_ref (object);

  return self;
}

JsonObject *
kp_worker_group_get_object (KpWorkerGroup *self)
{
  g_return_val_if_fail (KP_IS_WORKER_GROUP (self), NULL);

  return self->object;
}

static const char *
get_string (KpWorkerGroup *self,
            const char    *name)
{
  JsonNode *node = json_object_get_member (self->object, name);

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static gint64
get_int (KpWorkerGroup *self,
         const char    *name)
{
  JsonNode *node = json_object_get_member (self->object, name);

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_INT64)
    return 0;
  return json_node_get_int (node);
}

const char *
kp_worker_group_get_hit_type_id (KpWorkerGroup *self)
{
  g_return_val_if_fail (KP_IS_WORKER_GROUP (self), NULL);

  return get_string (self, "hit_type_id");
}

const char *
kp_worker_group_get_title (KpWorkerGroup *self)
{
  const char *title;

  g_return_val_if_fail (KP_IS_WORKER_GROUP (self), NULL);

  title = get_string (self, "title");
  return title != NULL ? title : "";
}

const char *
kp_worker_group_get_requester (KpWorkerGroup *self)
{
  const char *name;

  g_return_val_if_fail (KP_IS_WORKER_GROUP (self), NULL);

  name = get_string (self, "requester_name");
  if (name == NULL || *name == '\0')
    name = get_string (self, "requester_id");
  return name != NULL ? name : "";
}

const char *
kp_worker_group_get_reward (KpWorkerGroup *self)
{
  const char *reward;

  g_return_val_if_fail (KP_IS_WORKER_GROUP (self), NULL);

  reward = get_string (self, "reward");
  return reward != NULL ? reward : "0.00";
}

gint64
kp_worker_group_get_duration (KpWorkerGroup *self)
{
  g_return_val_if_fail (KP_IS_WORKER_GROUP (self), 0);

  return get_int (self, "assignment_duration");
}

gint64
kp_worker_group_get_hits_available (KpWorkerGroup *self)
{
  g_return_val_if_fail (KP_IS_WORKER_GROUP (self), 0);

  return get_int (self, "hits_available");
}

gint64
kp_worker_group_get_expiration (KpWorkerGroup *self)
{
  g_return_val_if_fail (KP_IS_WORKER_GROUP (self), 0);

  return get_int (self, "expiration");
}

const char *
kp_worker_group_get_standing (KpWorkerGroup *self)
{
  const char *standing;

  g_return_val_if_fail (KP_IS_WORKER_GROUP (self), NULL);

  standing = get_string (self, "standing");
  return standing != NULL ? standing : "qualified";
}

const char *
kp_worker_group_get_reason (KpWorkerGroup *self)
{
  g_return_val_if_fail (KP_IS_WORKER_GROUP (self), NULL);

  return get_string (self, "reason");
}

gboolean
kp_worker_group_get_preview_allowed (KpWorkerGroup *self)
{
  JsonNode *node;

  g_return_val_if_fail (KP_IS_WORKER_GROUP (self), FALSE);

  node = json_object_get_member (self->object, "preview_allowed");
  if (node == NULL || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
    return TRUE;
  return json_node_get_boolean (node);
}

/* System qualifications have ids made of zeros and a short suffix, as on
 * MTurk ("000000000000000000L0"); nobody can request them. */
static gboolean
is_system_qualification (const char *id)
{
  return g_str_has_prefix (id, "0000000000");
}

GStrv
kp_worker_group_dup_requestable_qualifications (KpWorkerGroup *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  JsonNode *node;

  g_return_val_if_fail (KP_IS_WORKER_GROUP (self), NULL);

  node = json_object_get_member (self->object, "qualification_requirements");
  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *element = json_array_get_element (array, i);
          const char *id;

          if (!JSON_NODE_HOLDS_OBJECT (element))
            continue;
          id = json_object_get_string_member_with_default (json_node_get_object (element),
                                                           "QualificationTypeId", NULL);
          if (id != NULL && !is_system_qualification (id))
            g_strv_builder_add (builder, id);
        }
    }

  return g_strv_builder_end (builder);
}

char *
kp_worker_format_duration (gint64 seconds)
{
  if (seconds < 0)
    seconds = 0;
  if (seconds < 60)
    return g_strdup_printf (g_dngettext (NULL, "%d second", "%d seconds", seconds), (int)seconds);
  if (seconds < 3600)
    return g_strdup_printf (g_dngettext (NULL, "%d minute", "%d minutes", seconds / 60),
                            (int)(seconds / 60));
  if (seconds < 2 * 86400)
    return g_strdup_printf (g_dngettext (NULL, "%d hour", "%d hours", seconds / 3600),
                            (int)(seconds / 3600));
  return g_strdup_printf (g_dngettext (NULL, "%d day", "%d days", seconds / 86400),
                          (int)(seconds / 86400));
}

const char *
kp_worker_format_standing (const char *standing)
{
  if (g_strcmp0 (standing, "can-request") == 0)
    return _("Can take the test");
  if (g_strcmp0 (standing, "not-qualified") == 0)
    return _("Not qualified");
  return _("Qualified");
}
