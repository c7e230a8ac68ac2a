/* kp-image-prefetcher.c: decodes the neighbouring images ahead of time
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-image-prefetcher.h"

#include "kp-media.h"

struct _KpImagePrefetcher
{
  GObject     parent_instance;

  guint       capacity;
  GHashTable *textures;          /* gint64* -> GdkTexture* */
  GHashTable *pending;           /* gint64* -> GCancellable* */
  GQueue      order;             /* gint64* media ids, oldest first */
};

G_DEFINE_FINAL_TYPE (KpImagePrefetcher, kp_image_prefetcher, G_TYPE_OBJECT)

enum {
  READY,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct
{
  gint64  media_id;
  char   *path;
} Request;

static void
request_free (Request *request)
{
  g_free (request->path);
  g_free (request);
}

/* In a worker: decode, and make the texture there too, so that the main
 * thread only has to hand it to the canvas. */
static void
decode_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  Request *request = task_data;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  GError *error = NULL;
  int width = 0, height = 0;

  /* Before the project knows its images' sizes, a neighbour may be a
   * large image, which is shown through tiles and never decoded whole
   * (gigabytes): the header tells. */
  if (gdk_pixbuf_get_file_info (request->path, &width, &height) != NULL &&
      kp_image_size_is_large (width, height))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               "%s is shown through tiles", request->path);
      return;
    }

  pixbuf = kp_image_load (request->path, cancellable, &error);
  if (pixbuf == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  g_task_return_pointer (task, gdk_texture_new_for_pixbuf (pixbuf), g_object_unref);
}

static void
forget_oldest (KpImagePrefetcher *self)
{
  while (g_hash_table_size (self->textures) > self->capacity && !g_queue_is_empty (&self->order))
    {
      g_autofree gint64 *id = g_queue_pop_head (&self->order);

      g_hash_table_remove (self->textures, id);
    }
}

static void
remember (KpImagePrefetcher *self,
          gint64             media_id,
          GdkTexture        *texture)
{
  GList *link;

  for (link = self->order.head; link != NULL; link = link->next)
    if (*(gint64 *)link->data == media_id)
      {
        g_free (link->data);
        g_queue_delete_link (&self->order, link);
        break;
      }

  g_queue_push_tail (&self->order, g_memdup2 (&media_id, sizeof media_id));
  g_hash_table_replace (self->textures, g_memdup2 (&media_id, sizeof media_id), g_object_ref (texture));
  forget_oldest (self);
}

static void
decoded_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(KpImagePrefetcher) self = user_data;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;
  Request *request = g_task_get_task_data (G_TASK (result));
  GCancellable *cancellable = g_task_get_cancellable (G_TASK (result));
  gint64 media_id = request->media_id;

  texture = g_task_propagate_pointer (G_TASK (result), &error);

  /* A newer request for the same image replaced this one. */
  if (g_cancellable_is_cancelled (cancellable) ||
      g_hash_table_lookup (self->pending, &media_id) != cancellable)
    return;

  g_hash_table_remove (self->pending, &media_id);

  if (texture == NULL)
    {
      /* The window finds the same error when it shows the image. */
      g_debug ("Cannot prefetch %s: %s", request->path, error->message);
      return;
    }

  remember (self, media_id, texture);
  g_signal_emit (self, signals[READY], 0, media_id);
}

static void
cancel_pending (gpointer data)
{
  g_cancellable_cancel (data);
  g_object_unref (data);
}

static void
kp_image_prefetcher_dispose (GObject *object)
{
  KpImagePrefetcher *self = (KpImagePrefetcher *)object;

  kp_image_prefetcher_clear (self);

  G_OBJECT_CLASS (kp_image_prefetcher_parent_class)->dispose (object);
}

static void
kp_image_prefetcher_finalize (GObject *object)
{
  KpImagePrefetcher *self = (KpImagePrefetcher *)object;

  g_hash_table_unref (self->textures);
  g_hash_table_unref (self->pending);

  G_OBJECT_CLASS (kp_image_prefetcher_parent_class)->finalize (object);
}

static void
kp_image_prefetcher_class_init (KpImagePrefetcherClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kp_image_prefetcher_dispose;
  object_class->finalize = kp_image_prefetcher_finalize;

  signals[READY] = g_signal_new ("ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                 0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
}

static void
kp_image_prefetcher_init (KpImagePrefetcher *self)
{
  self->textures = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_object_unref);
  self->pending = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, cancel_pending);
  g_queue_init (&self->order);
}

KpImagePrefetcher *
kp_image_prefetcher_new (guint capacity)
{
  KpImagePrefetcher *self = g_object_new (KP_TYPE_IMAGE_PREFETCHER, NULL);

  self->capacity = MAX (capacity, 1);

  return self;
}

void
kp_image_prefetcher_request (KpImagePrefetcher *self,
                             gint64             media_id,
                             const char        *path)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GCancellable) cancellable = NULL;
  Request *request;

  g_return_if_fail (KP_IS_IMAGE_PREFETCHER (self));
  g_return_if_fail (path != NULL);

  if (g_hash_table_contains (self->textures, &media_id) ||
      g_hash_table_contains (self->pending, &media_id))
    return;

  cancellable = g_cancellable_new ();
  g_hash_table_insert (self->pending, g_memdup2 (&media_id, sizeof media_id), g_object_ref (cancellable));

  request = g_new0 (Request, 1);
  request->media_id = media_id;
  request->path = g_strdup (path);

  task = g_task_new (NULL, cancellable, decoded_cb, g_object_ref (self));
  g_task_set_source_tag (task, kp_image_prefetcher_request);
  g_task_set_task_data (task, request, (GDestroyNotify)request_free);
  /* Below the image the user is waiting for. */
  g_task_set_priority (task, G_PRIORITY_LOW);
  g_task_run_in_thread (task, decode_thread);
}

GdkTexture *
kp_image_prefetcher_lookup (KpImagePrefetcher *self,
                            gint64             media_id)
{
  GdkTexture *texture;

  g_return_val_if_fail (KP_IS_IMAGE_PREFETCHER (self), NULL);

  texture = g_hash_table_lookup (self->textures, &media_id);

  return texture != NULL ? g_object_ref (texture) : NULL;
}

void
kp_image_prefetcher_insert (KpImagePrefetcher *self,
                            gint64             media_id,
                            GdkTexture        *texture)
{
  g_return_if_fail (KP_IS_IMAGE_PREFETCHER (self));
  g_return_if_fail (GDK_IS_TEXTURE (texture));

  g_hash_table_remove (self->pending, &media_id);
  remember (self, media_id, texture);
}

static gboolean
contains_id (const gint64 *ids,
             guint         n_ids,
             gint64        id)
{
  for (guint i = 0; i < n_ids; i++)
    if (ids[i] == id)
      return TRUE;

  return FALSE;
}

void
kp_image_prefetcher_keep_only (KpImagePrefetcher *self,
                               const gint64      *ids,
                               guint              n_ids)
{
  GHashTableIter iter;
  gpointer key;
  GList *link, *next;

  g_return_if_fail (KP_IS_IMAGE_PREFETCHER (self));

  g_hash_table_iter_init (&iter, self->pending);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!contains_id (ids, n_ids, *(gint64 *)key))
      g_hash_table_iter_remove (&iter);

  g_hash_table_iter_init (&iter, self->textures);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!contains_id (ids, n_ids, *(gint64 *)key))
      g_hash_table_iter_remove (&iter);

  for (link = self->order.head; link != NULL; link = next)
    {
      next = link->next;
      if (!contains_id (ids, n_ids, *(gint64 *)link->data))
        {
          g_free (link->data);
          g_queue_delete_link (&self->order, link);
        }
    }
}

void
kp_image_prefetcher_clear (KpImagePrefetcher *self)
{
  g_return_if_fail (KP_IS_IMAGE_PREFETCHER (self));

  kp_image_prefetcher_keep_only (self, NULL, 0);
}

gboolean
kp_image_prefetcher_is_pending (KpImagePrefetcher *self,
                                gint64             media_id)
{
  g_return_val_if_fail (KP_IS_IMAGE_PREFETCHER (self), FALSE);

  return g_hash_table_contains (self->pending, &media_id);
}
