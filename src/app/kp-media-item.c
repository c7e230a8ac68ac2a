/* kp-media-item.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-media-item.h"

#include <glib/gi18n.h>

struct _KpMediaItem
{
  GObject       parent_instance;

  KpMedia      *media;
  GdkPaintable *thumbnail;
  guint         thumbnail_failed : 1;
};

G_DEFINE_FINAL_TYPE (KpMediaItem, kp_media_item, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_MEDIA_ID,
  PROP_PATH,
  PROP_STATUS,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_ERROR,
  PROP_N_ANNOTATIONS,
  PROP_THUMBNAIL,
  PROP_THUMBNAIL_FAILED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
kp_media_item_finalize (GObject *object)
{
  KpMediaItem *self = (KpMediaItem *)object;

  g_clear_pointer (&self->media, kp_media_free);
  g_clear_object (&self->thumbnail);

  G_OBJECT_CLASS (kp_media_item_parent_class)->finalize (object);
}

static void
kp_media_item_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  KpMediaItem *self = KP_MEDIA_ITEM (object);

  switch (prop_id)
    {
    case PROP_MEDIA_ID:
      g_value_set_int64 (value, self->media->id);
      break;

    case PROP_PATH:
      g_value_set_string (value, self->media->path);
      break;

    case PROP_STATUS:
      g_value_set_int (value, self->media->status);
      break;

    case PROP_WIDTH:
      g_value_set_int (value, self->media->width);
      break;

    case PROP_HEIGHT:
      g_value_set_int (value, self->media->height);
      break;

    case PROP_ERROR:
      g_value_set_string (value, self->media->error);
      break;

    case PROP_N_ANNOTATIONS:
      g_value_set_uint (value, self->media->n_annotations);
      break;

    case PROP_THUMBNAIL:
      g_value_set_object (value, self->thumbnail);
      break;

    case PROP_THUMBNAIL_FAILED:
      g_value_set_boolean (value, self->thumbnail_failed);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_media_item_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  KpMediaItem *self = KP_MEDIA_ITEM (object);

  switch (prop_id)
    {
    case PROP_THUMBNAIL:
      kp_media_item_set_thumbnail (self, g_value_get_object (value));
      break;

    case PROP_THUMBNAIL_FAILED:
      kp_media_item_set_thumbnail_failed (self, g_value_get_boolean (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_media_item_class_init (KpMediaItemClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = kp_media_item_finalize;
  object_class->get_property = kp_media_item_get_property;
  object_class->set_property = kp_media_item_set_property;

  properties[PROP_MEDIA_ID] =
    g_param_spec_int64 ("media-id", NULL, NULL, 0, G_MAXINT64, 0, ro);
  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL, NULL, ro);
  properties[PROP_STATUS] =
    g_param_spec_int ("status", NULL, NULL,
                      KP_MEDIA_STATUS_TODO, KP_MEDIA_STATUS_MISSING, KP_MEDIA_STATUS_TODO, ro);
  properties[PROP_WIDTH] =
    g_param_spec_int ("width", NULL, NULL, 0, G_MAXINT, 0, ro);
  properties[PROP_HEIGHT] =
    g_param_spec_int ("height", NULL, NULL, 0, G_MAXINT, 0, ro);
  properties[PROP_ERROR] =
    g_param_spec_string ("error", NULL, NULL, NULL, ro);
  properties[PROP_N_ANNOTATIONS] =
    g_param_spec_uint ("n-annotations", NULL, NULL, 0, G_MAXUINT, 0, ro);
  properties[PROP_THUMBNAIL] =
    g_param_spec_object ("thumbnail", NULL, NULL, GDK_TYPE_PAINTABLE, rw);
  properties[PROP_THUMBNAIL_FAILED] =
    g_param_spec_boolean ("thumbnail-failed", NULL, NULL, FALSE, rw);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kp_media_item_init (KpMediaItem *self)
{
}

KpMediaItem *
kp_media_item_new (const KpMedia *media)
{
  KpMediaItem *self;

  g_return_val_if_fail (media != NULL, NULL);

  self = g_object_new (KP_TYPE_MEDIA_ITEM, NULL);
  self->media = kp_media_copy (media);

  return self;
}

const KpMedia *
kp_media_item_get_media (KpMediaItem *self)
{
  g_return_val_if_fail (KP_IS_MEDIA_ITEM (self), NULL);

  return self->media;
}

gint64
kp_media_item_get_media_id (KpMediaItem *self)
{
  g_return_val_if_fail (KP_IS_MEDIA_ITEM (self), 0);

  return self->media->id;
}

const char *
kp_media_item_get_path (KpMediaItem *self)
{
  g_return_val_if_fail (KP_IS_MEDIA_ITEM (self), NULL);

  return self->media->path;
}

KpMediaStatus
kp_media_item_get_status (KpMediaItem *self)
{
  g_return_val_if_fail (KP_IS_MEDIA_ITEM (self), KP_MEDIA_STATUS_TODO);

  return self->media->status;
}

int
kp_media_item_get_width (KpMediaItem *self)
{
  g_return_val_if_fail (KP_IS_MEDIA_ITEM (self), 0);

  return self->media->width;
}

int
kp_media_item_get_height (KpMediaItem *self)
{
  g_return_val_if_fail (KP_IS_MEDIA_ITEM (self), 0);

  return self->media->height;
}

const char *
kp_media_item_get_error (KpMediaItem *self)
{
  g_return_val_if_fail (KP_IS_MEDIA_ITEM (self), NULL);

  return self->media->error;
}

GdkPaintable *
kp_media_item_get_thumbnail (KpMediaItem *self)
{
  g_return_val_if_fail (KP_IS_MEDIA_ITEM (self), NULL);

  return self->thumbnail;
}

void
kp_media_item_set_thumbnail (KpMediaItem  *self,
                             GdkPaintable *thumbnail)
{
  g_return_if_fail (KP_IS_MEDIA_ITEM (self));
  g_return_if_fail (!thumbnail || GDK_IS_PAINTABLE (thumbnail));

  if (g_set_object (&self->thumbnail, thumbnail))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THUMBNAIL]);
}

gboolean
kp_media_item_get_thumbnail_failed (KpMediaItem *self)
{
  g_return_val_if_fail (KP_IS_MEDIA_ITEM (self), FALSE);

  return self->thumbnail_failed;
}

void
kp_media_item_set_thumbnail_failed (KpMediaItem *self,
                                    gboolean     failed)
{
  g_return_if_fail (KP_IS_MEDIA_ITEM (self));

  failed = !!failed;
  if (failed == self->thumbnail_failed)
    return;

  self->thumbnail_failed = failed;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_THUMBNAIL_FAILED]);
}

void
kp_media_item_update (KpMediaItem   *self,
                      const KpMedia *media)
{
  KpMedia *old;
  gboolean file_changed;

  g_return_if_fail (KP_IS_MEDIA_ITEM (self));
  g_return_if_fail (media != NULL);
  g_return_if_fail (media->id == self->media->id);

  old = g_steal_pointer (&self->media);
  self->media = kp_media_copy (media);

  g_object_freeze_notify (G_OBJECT (self));

  if (g_strcmp0 (old->path, media->path) != 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PATH]);
  if (old->status != media->status)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
  if (old->width != media->width)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WIDTH]);
  if (old->height != media->height)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HEIGHT]);
  if (g_strcmp0 (old->error, media->error) != 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
  if (old->n_annotations != media->n_annotations)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ANNOTATIONS]);

  /* A file that changed on disk gets a fresh thumbnail. */
  file_changed = old->size != media->size || old->mtime != media->mtime;
  if (file_changed)
    {
      kp_media_item_set_thumbnail (self, NULL);
      kp_media_item_set_thumbnail_failed (self, FALSE);
    }

  g_object_thaw_notify (G_OBJECT (self));

  kp_media_free (old);
}

const char *
kp_media_status_to_label (KpMediaStatus status)
{
  switch (status)
    {
    case KP_MEDIA_STATUS_TODO:
      return _("To do");
    case KP_MEDIA_STATUS_IN_PROGRESS:
      return _("In progress");
    case KP_MEDIA_STATUS_DONE:
      return _("Done");
    case KP_MEDIA_STATUS_BROKEN:
      return _("Broken");
    case KP_MEDIA_STATUS_MISSING:
      return _("Missing");
    default:
      g_return_val_if_reached (NULL);
    }
}

const char *
kp_media_status_to_icon_name (KpMediaStatus status)
{
  switch (status)
    {
    case KP_MEDIA_STATUS_TODO:
      return "radio-symbolic";
    case KP_MEDIA_STATUS_IN_PROGRESS:
      return "radio-mixed-symbolic";
    case KP_MEDIA_STATUS_DONE:
      return "emblem-ok-symbolic";
    case KP_MEDIA_STATUS_BROKEN:
      return "dialog-warning-symbolic";
    case KP_MEDIA_STATUS_MISSING:
      return "image-missing-symbolic";
    default:
      g_return_val_if_reached (NULL);
    }
}
