/* kp-tag-bar.c: the image-level tags of the current image
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-tag-bar.h"

#include <glib/gi18n.h>
#include <inttypes.h>

#include "kp-panel-common.h"

struct _KpTagBar
{
  GtkWidget   parent_instance;

  KpDocument *document;
  GHashTable *buttons;          /* gint64* tag id -> GtkToggleButton* (borrowed) */
  char       *signature;        /* of the groups and tags shown, or NULL */
  guint       syncing : 1;
};

G_DEFINE_FINAL_TYPE (KpTagBar, kp_tag_bar, GTK_TYPE_WIDGET)

enum {
  ERROR,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
sync_buttons (KpTagBar *self)
{
  GArray *tags = self->document ? kp_document_get_tags (self->document) : NULL;
  GHashTableIter iter;
  gpointer key, value;

  self->syncing = TRUE;
  g_hash_table_iter_init (&iter, self->buttons);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      gint64 tag_id = *(gint64 *)key;
      gboolean on = FALSE;

      for (guint i = 0; tags != NULL && i < tags->len && !on; i++)
        on = g_array_index (tags, gint64, i) == tag_id;

      gtk_toggle_button_set_active (value, on);
      gtk_widget_set_sensitive (value, self->document != NULL);
    }
  self->syncing = FALSE;
}

static void
toggled_cb (GtkToggleButton *button,
            KpTagBar        *self)
{
  g_autoptr(GError) error = NULL;
  gint64 tag_id;

  if (self->syncing || self->document == NULL)
    return;

  tag_id = *(gint64 *)g_object_get_data (G_OBJECT (button), "kp-tag-id");

  /* A radio group turns the old button off first: the document does that
   * itself when the new one goes on. */
  if (!gtk_toggle_button_get_active (button) && g_object_get_data (G_OBJECT (button), "kp-radio") != NULL)
    return;

  if (!kp_document_toggle_tag (self->document, tag_id, gtk_toggle_button_get_active (button), &error))
    g_signal_emit (self, signals[ERROR], 0, error);

  sync_buttons (self);
}

static void
document_tags_changed_cb (KpTagBar *self)
{
  sync_buttons (self);
}

static void
clear (KpTagBar *self)
{
  GtkWidget *child;

  g_hash_table_remove_all (self->buttons);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);
}

static void
kp_tag_bar_dispose (GObject *object)
{
  KpTagBar *self = (KpTagBar *)object;

  kp_tag_bar_set_document (self, NULL);
  if (self->buttons != NULL)
    clear (self);
  g_clear_pointer (&self->buttons, g_hash_table_unref);
  g_clear_pointer (&self->signature, g_free);

  G_OBJECT_CLASS (kp_tag_bar_parent_class)->dispose (object);
}

static void
kp_tag_bar_class_init (KpTagBarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kp_tag_bar_dispose;

  signals[ERROR] = kp_panel_error_signal_new (G_TYPE_FROM_CLASS (klass));

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "kptagbar");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
kp_tag_bar_init (KpTagBar *self)
{
  GtkLayoutManager *layout = gtk_widget_get_layout_manager (GTK_WIDGET (self));

  gtk_box_layout_set_spacing (GTK_BOX_LAYOUT (layout), 12);
  self->buttons = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Image Tags"), -1);
  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
}

GtkWidget *
kp_tag_bar_new (void)
{
  return g_object_new (KP_TYPE_TAG_BAR, NULL);
}

/* Everything the bar shows of the groups and tags, as one string. */
static char *
make_signature (GPtrArray *groups,
                GPtrArray *tags)
{
  GString *s = g_string_new (NULL);

  for (guint g = 0; g < groups->len; g++)
    {
      const KpTagGroup *group = g_ptr_array_index (groups, g);

      g_string_append_printf (s, "g%" PRId64 ":%d:%d:%s\n", group->id, group->multiple,
                              group->position, group->name);
    }
  for (guint t = 0; t < tags->len; t++)
    {
      const KpTag *tag = g_ptr_array_index (tags, t);

      g_string_append_printf (s, "t%" PRId64 ":%" PRId64 ":%d:%s\n", tag->id, tag->group_id,
                              tag->position, tag->name);
    }

  return g_string_free (s, FALSE);
}

static gboolean
reload (KpTagBar *self,
        KpStore  *store,
        gboolean  only_if_changed)
{
  g_autoptr(GPtrArray) groups = NULL;
  g_autoptr(GPtrArray) tags = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *signature = NULL;

  if (store != NULL &&
      (groups = kp_store_list_tag_groups (store, &error)) != NULL &&
      (tags = kp_store_list_tags (store, 0, &error)) != NULL)
    signature = make_signature (groups, tags);
  else if (error != NULL)
    g_debug ("Cannot read the tags: %s", error->message);

  if (only_if_changed && g_strcmp0 (signature, self->signature) == 0)
    return FALSE;

  clear (self);
  g_free (self->signature);
  self->signature = g_steal_pointer (&signature);
  if (self->signature == NULL)
    {
      gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
      return TRUE;
    }

  for (guint g = 0; g < groups->len; g++)
    {
      const KpTagGroup *group = g_ptr_array_index (groups, g);
      GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
      GtkWidget *name = gtk_label_new (group->name);
      GtkWidget *linked = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
      GtkToggleButton *first = NULL;

      gtk_widget_add_css_class (name, "dim-label");
      gtk_box_append (GTK_BOX (box), name);
      gtk_widget_add_css_class (linked, "linked");
      gtk_accessible_update_property (GTK_ACCESSIBLE (linked),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, group->name, -1);
      gtk_box_append (GTK_BOX (box), linked);

      for (guint t = 0; t < tags->len; t++)
        {
          const KpTag *tag = g_ptr_array_index (tags, t);
          GtkWidget *button;

          if (tag->group_id != group->id)
            continue;

          button = gtk_toggle_button_new_with_label (tag->name);
          g_object_set_data_full (G_OBJECT (button), "kp-tag-id",
                                  g_memdup2 (&tag->id, sizeof tag->id), g_free);
          if (!group->multiple)
            {
              g_object_set_data (G_OBJECT (button), "kp-radio", GINT_TO_POINTER (TRUE));
              if (first == NULL)
                first = GTK_TOGGLE_BUTTON (button);
              else
                gtk_toggle_button_set_group (GTK_TOGGLE_BUTTON (button), first);
            }
          g_signal_connect_object (button, "toggled", G_CALLBACK (toggled_cb), self, 0);
          gtk_box_append (GTK_BOX (linked), button);
          g_hash_table_insert (self->buttons, g_memdup2 (&tag->id, sizeof tag->id), button);
        }

      gtk_widget_set_parent (box, GTK_WIDGET (self));
    }

  gtk_widget_set_visible (GTK_WIDGET (self), g_hash_table_size (self->buttons) > 0);
  sync_buttons (self);

  return TRUE;
}

void
kp_tag_bar_reload (KpTagBar *self,
                   KpStore  *store)
{
  g_return_if_fail (KP_IS_TAG_BAR (self));

  reload (self, store, FALSE);
}

gboolean
kp_tag_bar_reload_if_changed (KpTagBar *self,
                              KpStore  *store)
{
  g_return_val_if_fail (KP_IS_TAG_BAR (self), FALSE);

  return reload (self, store, TRUE);
}

void
kp_tag_bar_set_document (KpTagBar   *self,
                         KpDocument *document)
{
  g_return_if_fail (KP_IS_TAG_BAR (self));

  if (kp_panel_follow_document (self, &self->document, document, "tags-changed",
                                G_CALLBACK (document_tags_changed_cb)))
    sync_buttons (self);
}

GtkToggleButton *
kp_tag_bar_get_button (KpTagBar *self,
                       gint64    tag_id)
{
  g_return_val_if_fail (KP_IS_TAG_BAR (self), NULL);

  return g_hash_table_lookup (self->buttons, &tag_id);
}
