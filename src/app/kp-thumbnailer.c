/* kp-thumbnailer.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-thumbnailer.h"

#include <gtk/gtk.h>

#include "kp-core.h"
#include "kp-media.h"

#define MAX_THREADS 2

struct _KpThumbnailer
{
  GObject      parent_instance;

  char        *cache_dir;
  int          size;
  GThreadPool *pool;
  GHashTable  *pending;          /* KpMediaItem* -> GCancellable* (both owned) */
  guint        started : 1;
};

G_DEFINE_FINAL_TYPE (KpThumbnailer, kp_thumbnailer, G_TYPE_OBJECT)

typedef struct
{
  KpThumbnailer *owner;          /* valid on the main thread while not cancelled */
  KpMediaItem   *item;
  char          *path;
  char          *cache_dir;
  int            size;
  GCancellable  *cancellable;
  GMainContext  *context;
  GdkPixbuf     *pixbuf;
  const char    *icon_name;      /* audio and video show an icon, not a frame */
  gboolean       failed;
} Request;

static void
request_free (gpointer data)
{
  Request *request = data;

  g_clear_object (&request->item);
  g_clear_object (&request->cancellable);
  g_clear_object (&request->pixbuf);
  g_clear_pointer (&request->context, g_main_context_unref);
  g_free (request->path);
  g_free (request->cache_dir);
  g_free (request);
}

static gboolean
request_deliver_cb (gpointer data)
{
  Request *request = data;
  g_autoptr(GdkTexture) texture = NULL;

  /* A cancelled request may outlive its owner: touch nothing. */
  if (g_cancellable_is_cancelled (request->cancellable))
    return G_SOURCE_REMOVE;

  if (g_hash_table_lookup (request->owner->pending, request->item) == request->cancellable)
    g_hash_table_remove (request->owner->pending, request->item);

  if (request->icon_name != NULL && gdk_display_get_default () != NULL)
    {
      GtkIconTheme *theme = gtk_icon_theme_get_for_display (gdk_display_get_default ());
      g_autoptr(GtkIconPaintable) icon = gtk_icon_theme_lookup_icon (theme, request->icon_name, NULL,
                                                                     request->size, 1,
                                                                     GTK_TEXT_DIR_NONE, 0);

      kp_media_item_set_thumbnail (request->item, GDK_PAINTABLE (icon));
    }
  else if (request->pixbuf != NULL)
    {
      texture = gdk_texture_new_for_pixbuf (request->pixbuf);
      kp_media_item_set_thumbnail (request->item, GDK_PAINTABLE (texture));
    }
  else if (request->failed)
    {
      kp_media_item_set_thumbnail_failed (request->item, TRUE);
    }

  return G_SOURCE_REMOVE;
}

static void
worker_func (gpointer data,
             gpointer user_data)
{
  Request *request = data;
  g_autoptr(GSource) source = NULL;

  if (kp_media_path_is_audio (request->path))
    request->icon_name = "audio-x-generic";
  else if (kp_media_path_is_video (request->path))
    request->icon_name = "video-x-generic";
  else if (!g_cancellable_is_cancelled (request->cancellable))
    {
      g_autoptr(GError) error = NULL;

      request->pixbuf = kp_image_load_thumbnail (request->path, request->size, request->cache_dir,
                                                 request->cancellable, &error);
      /* A large image's thumbnail waits for its tiles: asked again
       * once they are built, it is no failure. */
      if (request->pixbuf == NULL &&
          !g_error_matches (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_PENDING))
        {
          if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            g_debug ("No thumbnail for %s: %s", request->path, error->message);
          request->failed = TRUE;
        }
    }

  /* Always through an idle source: g_main_context_invoke() would run the
   * callback right here when the main thread is not iterating. */
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT_IDLE);
  g_source_set_static_name (source, "[kempelen] thumbnail");
  g_source_set_callback (source, request_deliver_cb, request, request_free);
  g_source_attach (source, request->context);
}

static void
kp_thumbnailer_dispose (GObject *object)
{
  KpThumbnailer *self = (KpThumbnailer *)object;

  kp_thumbnailer_cancel_all (self);

  /* Queued requests are still run (each sees its cancellable and returns at
   * once), but nothing waits for them here. */
  if (self->pool != NULL)
    {
      kp_thumbnailer_start (self);
      g_thread_pool_free (g_steal_pointer (&self->pool), FALSE, FALSE);
    }

  G_OBJECT_CLASS (kp_thumbnailer_parent_class)->dispose (object);
}

static void
kp_thumbnailer_finalize (GObject *object)
{
  KpThumbnailer *self = (KpThumbnailer *)object;

  g_clear_pointer (&self->pending, g_hash_table_unref);
  g_free (self->cache_dir);

  G_OBJECT_CLASS (kp_thumbnailer_parent_class)->finalize (object);
}

static void
kp_thumbnailer_class_init (KpThumbnailerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kp_thumbnailer_dispose;
  object_class->finalize = kp_thumbnailer_finalize;
}

static void
kp_thumbnailer_init (KpThumbnailer *self)
{
  self->pending = g_hash_table_new_full (NULL, NULL, g_object_unref, g_object_unref);
  /* Frozen until kp_thumbnailer_start(): requests queue up meanwhile. */
  self->pool = g_thread_pool_new (worker_func, NULL, 0, FALSE, NULL);
}

KpThumbnailer *
kp_thumbnailer_new (const char *cache_dir,
                    int         size)
{
  KpThumbnailer *self;

  g_return_val_if_fail (size > 0, NULL);

  self = g_object_new (KP_TYPE_THUMBNAILER, NULL);
  self->cache_dir = g_strdup (cache_dir);
  self->size = size;

  return self;
}

int
kp_thumbnailer_get_size (KpThumbnailer *self)
{
  g_return_val_if_fail (KP_IS_THUMBNAILER (self), 0);

  return self->size;
}

void
kp_thumbnailer_start (KpThumbnailer *self)
{
  g_return_if_fail (KP_IS_THUMBNAILER (self));

  if (self->started || self->pool == NULL)
    return;

  self->started = TRUE;
  g_thread_pool_set_max_threads (self->pool, MAX_THREADS, NULL);
}

gboolean
kp_thumbnailer_get_started (KpThumbnailer *self)
{
  g_return_val_if_fail (KP_IS_THUMBNAILER (self), FALSE);

  return self->started;
}

void
kp_thumbnailer_request (KpThumbnailer *self,
                        KpMediaItem   *item,
                        const char    *path)
{
  Request *request;

  g_return_if_fail (KP_IS_THUMBNAILER (self));
  g_return_if_fail (KP_IS_MEDIA_ITEM (item));
  g_return_if_fail (path != NULL);

  if (self->pool == NULL || g_hash_table_contains (self->pending, item))
    return;

  request = g_new0 (Request, 1);
  request->owner = self;
  request->item = g_object_ref (item);
  request->path = g_strdup (path);
  request->cache_dir = g_strdup (self->cache_dir);
  request->size = self->size;
  request->cancellable = g_cancellable_new ();
  request->context = g_main_context_ref_thread_default ();

  g_hash_table_insert (self->pending, g_object_ref (item), g_object_ref (request->cancellable));
  g_thread_pool_push (self->pool, request, NULL);
}

void
kp_thumbnailer_cancel (KpThumbnailer *self,
                       KpMediaItem   *item)
{
  GCancellable *cancellable;

  g_return_if_fail (KP_IS_THUMBNAILER (self));
  g_return_if_fail (KP_IS_MEDIA_ITEM (item));

  cancellable = g_hash_table_lookup (self->pending, item);
  if (cancellable == NULL)
    return;

  g_cancellable_cancel (cancellable);
  g_hash_table_remove (self->pending, item);
}

void
kp_thumbnailer_cancel_all (KpThumbnailer *self)
{
  GHashTableIter iter;
  gpointer value;

  g_return_if_fail (KP_IS_THUMBNAILER (self));

  g_hash_table_iter_init (&iter, self->pending);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      g_cancellable_cancel (value);
      g_hash_table_iter_remove (&iter);
    }
}

guint
kp_thumbnailer_get_n_pending (KpThumbnailer *self)
{
  g_return_val_if_fail (KP_IS_THUMBNAILER (self), 0);

  return g_hash_table_size (self->pending);
}
