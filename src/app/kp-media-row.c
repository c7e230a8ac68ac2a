/* kp-media-row.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-media-row.h"

#include <glib/gi18n.h>

struct _KpMediaRow
{
  GtkWidget    parent_instance;

  KpMediaItem *item;
  gulong       notify_id;

  GtkImage    *thumbnail;
  GtkLabel    *name_label;
  GtkImage    *status_image;
};

G_DEFINE_FINAL_TYPE (KpMediaRow, kp_media_row, GTK_TYPE_WIDGET)

static const char *status_classes[] = {
  "status-todo",
  "status-in-progress",
  "status-done",
  "status-broken",
  "status-missing",
};

static void
kp_media_row_sync (KpMediaRow *self)
{
  KpMediaStatus status;
  GdkPaintable *thumbnail;
  const char *status_label;
  g_autofree char *tooltip = NULL;
  g_autofree char *accessible = NULL;

  if (self->item == NULL)
    {
      gtk_label_set_label (self->name_label, NULL);
      gtk_image_clear (self->status_image);
      gtk_image_set_from_icon_name (self->thumbnail, "image-x-generic-symbolic");
      return;
    }

  status = kp_media_item_get_status (self->item);
  status_label = kp_media_status_to_label (status);

  gtk_label_set_label (self->name_label, kp_media_item_get_path (self->item));

  thumbnail = kp_media_item_get_thumbnail (self->item);
  if (thumbnail != NULL)
    {
      gtk_image_set_from_paintable (self->thumbnail, thumbnail);
      gtk_widget_remove_css_class (GTK_WIDGET (self->thumbnail), "placeholder");
    }
  else
    {
      gboolean failed = kp_media_item_get_thumbnail_failed (self->item) ||
                        status == KP_MEDIA_STATUS_BROKEN ||
                        status == KP_MEDIA_STATUS_MISSING;

      gtk_image_set_from_icon_name (self->thumbnail,
                                    failed ? "image-missing-symbolic" : "image-x-generic-symbolic");
      gtk_widget_add_css_class (GTK_WIDGET (self->thumbnail), "placeholder");
    }

  gtk_image_set_from_icon_name (self->status_image, kp_media_status_to_icon_name (status));
  for (guint i = 0; i < G_N_ELEMENTS (status_classes); i++)
    {
      if (i == (guint)status)
        gtk_widget_add_css_class (GTK_WIDGET (self->status_image), status_classes[i]);
      else
        gtk_widget_remove_css_class (GTK_WIDGET (self->status_image), status_classes[i]);
    }

  if (kp_media_item_get_error (self->item) != NULL)
    /* Translators: a status, then why the image cannot be shown. */
    tooltip = g_strdup_printf (_("%s: %s"), status_label, kp_media_item_get_error (self->item));
  else
    tooltip = g_strdup (status_label);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->status_image), tooltip);

  gtk_accessible_update_property (GTK_ACCESSIBLE (self->status_image),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, status_label,
                                  -1);
  /* Translators: the accessible name of a row of the image list: file name, status. */
  accessible = g_strdup_printf (_("%s, %s"), kp_media_item_get_path (self->item), status_label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                  -1);
}

static void
item_notify_cb (KpMediaRow  *self,
                GParamSpec  *pspec,
                KpMediaItem *item)
{
  kp_media_row_sync (self);
}

static void
kp_media_row_dispose (GObject *object)
{
  KpMediaRow *self = (KpMediaRow *)object;
  GtkWidget *child;

  kp_media_row_set_item (self, NULL);

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (kp_media_row_parent_class)->dispose (object);
}

static void
kp_media_row_class_init (KpMediaRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kp_media_row_dispose;

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "kpmediarow");
}

/* Built in code rather than from a template: GtkListView keeps up to a
 * couple of hundred rows alive, and a GtkBuilder parse per row was the
 * largest cost of showing a big folder. */
static void
kp_media_row_init (KpMediaRow *self)
{
  GtkLayoutManager *layout = gtk_widget_get_layout_manager (GTK_WIDGET (self));

  gtk_box_layout_set_spacing (GTK_BOX_LAYOUT (layout), 12);

  self->thumbnail = GTK_IMAGE (gtk_image_new_from_icon_name ("image-x-generic-symbolic"));
  gtk_image_set_pixel_size (self->thumbnail, 40);
  gtk_widget_add_css_class (GTK_WIDGET (self->thumbnail), "thumbnail");
  gtk_widget_add_css_class (GTK_WIDGET (self->thumbnail), "placeholder");
  gtk_widget_set_parent (GTK_WIDGET (self->thumbnail), GTK_WIDGET (self));

  self->name_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_widget_set_hexpand (GTK_WIDGET (self->name_label), TRUE);
  gtk_label_set_xalign (self->name_label, 0);
  gtk_label_set_ellipsize (self->name_label, PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_single_line_mode (self->name_label, TRUE);
  gtk_widget_set_parent (GTK_WIDGET (self->name_label), GTK_WIDGET (self));

  self->status_image = GTK_IMAGE (gtk_image_new ());
  gtk_widget_set_valign (GTK_WIDGET (self->status_image), GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (GTK_WIDGET (self->status_image), "status-icon");
  gtk_widget_set_parent (GTK_WIDGET (self->status_image), GTK_WIDGET (self));
}

GtkWidget *
kp_media_row_new (void)
{
  return g_object_new (KP_TYPE_MEDIA_ROW, NULL);
}

KpMediaItem *
kp_media_row_get_item (KpMediaRow *self)
{
  g_return_val_if_fail (KP_IS_MEDIA_ROW (self), NULL);

  return self->item;
}

void
kp_media_row_set_item (KpMediaRow  *self,
                       KpMediaItem *item)
{
  g_return_if_fail (KP_IS_MEDIA_ROW (self));
  g_return_if_fail (!item || KP_IS_MEDIA_ITEM (item));

  if (item == self->item)
    return;

  if (self->item != NULL)
    g_clear_signal_handler (&self->notify_id, self->item);
  g_set_object (&self->item, item);
  if (item != NULL)
    self->notify_id = g_signal_connect_object (item, "notify",
                                               G_CALLBACK (item_notify_cb), self,
                                               G_CONNECT_SWAPPED);

  kp_media_row_sync (self);
}
