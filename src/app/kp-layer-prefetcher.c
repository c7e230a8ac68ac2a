/* kp-layer-prefetcher.c: tile pyramids of neighbouring large images, built ahead
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A large image's first view waits for its coarse levels, and some files
 * cannot give them early: a non-interlaced PNG is one zlib stream, so its
 * overview needs the whole file inflated (seconds for 20,000 px). The
 * window therefore opens the layers of the images either side of the
 * current one while the user works on it; their pyramids are built into
 * the disk cache, and the layer itself is kept, so that moving to one
 * shows it in the same frame. One build at a time, and only once the
 * current image's own is finished.
 */

#include "config.h"

#include "kp-layer-prefetcher.h"

typedef struct
{
  KpImageLayer *layer;
  gsize         full_cap;
  gulong        handler;
} Entry;

typedef struct
{
  gint64  media_id;
  char   *path;
} Wish;

struct _KpLayerPrefetcher
{
  GObject       parent_instance;

  char         *cache_dir;
  GHashTable   *layers;        /* gint64* -> Entry* */
  GHashTable   *failed;        /* gint64* media ids that would not open */
  GArray       *wishes;        /* Wish */
  gint64        current_id;
  GCancellable *opening;       /* the layer being opened, or NULL */
  gint64        opening_id;
};

G_DEFINE_FINAL_TYPE (KpLayerPrefetcher, kp_layer_prefetcher, G_TYPE_OBJECT)

enum {
  BUILT,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void pump (KpLayerPrefetcher *self);

static void
entry_free (gpointer data)
{
  Entry *entry = data;

  g_clear_signal_handler (&entry->handler, entry->layer);
  g_clear_object (&entry->layer);
  g_free (entry);
}

static void
wish_clear (gpointer data)
{
  Wish *wish = data;

  g_free (wish->path);
}

static void
building_cb (KpLayerPrefetcher *self,
             GParamSpec        *pspec,
             KpImageLayer      *layer)
{
  GHashTableIter iter;
  gpointer key, value;

  (void)pspec;
  if (!kp_image_layer_get_building (layer) && kp_image_layer_get_error (layer) == NULL)
    {
      g_hash_table_iter_init (&iter, self->layers);
      while (g_hash_table_iter_next (&iter, &key, &value))
        if (((Entry *)value)->layer == layer)
          {
            g_signal_emit (self, signals[BUILT], 0, *(gint64 *)key);
            break;
          }
    }
  pump (self);
}

static Entry *
add_layer (KpLayerPrefetcher *self,
           gint64             media_id,
           KpImageLayer      *layer)
{
  Entry *entry = g_new0 (Entry, 1);

  entry->layer = g_object_ref (layer);
  entry->full_cap = kp_image_layer_get_memory_cap (layer);
  entry->handler = g_signal_connect_object (layer, "notify::building", G_CALLBACK (building_cb),
                                            self, G_CONNECT_SWAPPED);
  g_hash_table_replace (self->layers, g_memdup2 (&media_id, sizeof media_id), entry);

  return entry;
}

static gboolean
is_wished (KpLayerPrefetcher *self,
           gint64             media_id)
{
  for (guint i = 0; i < self->wishes->len; i++)
    if (g_array_index (self->wishes, Wish, i).media_id == media_id)
      return TRUE;

  return FALSE;
}

static void
cancel_opening (KpLayerPrefetcher *self)
{
  if (self->opening == NULL)
    return;
  g_cancellable_cancel (self->opening);
  g_clear_object (&self->opening);
  self->opening_id = 0;
}

static void
opened_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(KpLayerPrefetcher) self = user_data;
  g_autoptr(KpImageLayer) layer = NULL;
  g_autoptr(GError) error = NULL;
  GCancellable *cancellable = g_task_get_cancellable (G_TASK (result));
  gint64 media_id;

  (void)object;
  layer = kp_image_layer_new_finish (result, &error);
  /* Cancelled, or no longer wished: a newer opening may be in flight. */
  if (cancellable == NULL || cancellable != self->opening)
    return;

  media_id = self->opening_id;
  g_clear_object (&self->opening);
  self->opening_id = 0;

  if (layer == NULL)
    {
      /* The window says what is wrong if the user goes there. */
      g_debug ("Cannot prepare a large image: %s", error->message);
      g_hash_table_add (self->failed, g_memdup2 (&media_id, sizeof media_id));
    }
  else
    {
      Entry *entry = add_layer (self, media_id, layer);

      kp_image_layer_set_memory_cap (entry->layer, KP_LAYER_PREFETCHER_BACKGROUND_CAP);
      kp_image_layer_set_background (entry->layer, TRUE);
    }

  pump (self);
}

/* Opens the first wished layer that is not there yet, unless something
 * is still being opened or built. */
static void
pump (KpLayerPrefetcher *self)
{
  GHashTableIter iter;
  gpointer value;

  if (self->opening != NULL)
    return;

  g_hash_table_iter_init (&iter, self->layers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (kp_image_layer_get_building (((Entry *)value)->layer))
      return;

  for (guint i = 0; i < self->wishes->len; i++)
    {
      Wish *wish = &g_array_index (self->wishes, Wish, i);
      g_autoptr(GFile) file = NULL;

      if (wish->media_id == self->current_id ||
          g_hash_table_contains (self->layers, &wish->media_id) ||
          g_hash_table_contains (self->failed, &wish->media_id))
        continue;

      self->opening = g_cancellable_new ();
      self->opening_id = wish->media_id;
      file = g_file_new_for_path (wish->path);
      kp_image_layer_new_async (file, self->cache_dir, self->opening, opened_cb, g_object_ref (self));
      return;
    }
}

/* GObject */

static void
kp_layer_prefetcher_dispose (GObject *object)
{
  kp_layer_prefetcher_clear (KP_LAYER_PREFETCHER (object));

  G_OBJECT_CLASS (kp_layer_prefetcher_parent_class)->dispose (object);
}

static void
kp_layer_prefetcher_finalize (GObject *object)
{
  KpLayerPrefetcher *self = KP_LAYER_PREFETCHER (object);

  g_hash_table_unref (self->layers);
  g_hash_table_unref (self->failed);
  g_array_unref (self->wishes);
  g_free (self->cache_dir);

  G_OBJECT_CLASS (kp_layer_prefetcher_parent_class)->finalize (object);
}

static void
kp_layer_prefetcher_class_init (KpLayerPrefetcherClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kp_layer_prefetcher_dispose;
  object_class->finalize = kp_layer_prefetcher_finalize;

  /* A kept layer's pyramid is now complete in the disk cache. */
  signals[BUILT] = g_signal_new ("built", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                 0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT64);
}

static void
kp_layer_prefetcher_init (KpLayerPrefetcher *self)
{
  self->layers = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, entry_free);
  self->failed = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->wishes = g_array_new (FALSE, TRUE, sizeof (Wish));
  g_array_set_clear_func (self->wishes, wish_clear);
}

/* API */

KpLayerPrefetcher *
kp_layer_prefetcher_new (const char *cache_dir)
{
  KpLayerPrefetcher *self = g_object_new (KP_TYPE_LAYER_PREFETCHER, NULL);

  self->cache_dir = g_strdup (cache_dir);

  return self;
}

KpImageLayer *
kp_layer_prefetcher_lookup (KpLayerPrefetcher *self,
                            gint64             media_id)
{
  Entry *entry;

  g_return_val_if_fail (KP_IS_LAYER_PREFETCHER (self), NULL);

  entry = g_hash_table_lookup (self->layers, &media_id);

  return entry != NULL ? entry->layer : NULL;
}

void
kp_layer_prefetcher_set_current (KpLayerPrefetcher *self,
                                 gint64             media_id,
                                 KpImageLayer      *layer)
{
  Entry *entry;

  g_return_if_fail (KP_IS_LAYER_PREFETCHER (self));
  g_return_if_fail (layer == NULL || KP_IS_IMAGE_LAYER (layer));

  if (self->current_id != 0 && self->current_id != media_id &&
      (entry = g_hash_table_lookup (self->layers, &self->current_id)) != NULL)
    kp_image_layer_set_memory_cap (entry->layer, MIN (entry->full_cap, KP_LAYER_PREFETCHER_BACKGROUND_CAP));

  self->current_id = layer != NULL ? media_id : 0;
  if (layer != NULL)
    {
      entry = g_hash_table_lookup (self->layers, &media_id);
      if (entry == NULL || entry->layer != layer)
        entry = add_layer (self, media_id, layer);
      kp_image_layer_set_memory_cap (layer, entry->full_cap);
      /* Shown while still building: at full speed now. */
      kp_image_layer_set_background (layer, FALSE);
      if (self->opening_id == media_id)
        cancel_opening (self);
    }

  pump (self);
}

void
kp_layer_prefetcher_wish (KpLayerPrefetcher *self,
                          const KpLayerWish *wishes,
                          guint              n_wishes)
{
  GHashTableIter iter;
  gpointer key;

  g_return_if_fail (KP_IS_LAYER_PREFETCHER (self));
  g_return_if_fail (wishes != NULL || n_wishes == 0);

  g_array_set_size (self->wishes, 0);
  for (guint i = 0; i < n_wishes; i++)
    {
      Wish wish = { wishes[i].media_id, g_strdup (wishes[i].path) };

      g_array_append_val (self->wishes, wish);
    }

  /* What is neither shown nor wished goes, with its build. */
  g_hash_table_iter_init (&iter, self->layers);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      gint64 id = *(gint64 *)key;

      if (id != self->current_id && !is_wished (self, id))
        g_hash_table_iter_remove (&iter);
    }
  if (self->opening != NULL && !is_wished (self, self->opening_id))
    cancel_opening (self);

  pump (self);
}

void
kp_layer_prefetcher_clear (KpLayerPrefetcher *self)
{
  g_return_if_fail (KP_IS_LAYER_PREFETCHER (self));

  cancel_opening (self);
  g_array_set_size (self->wishes, 0);
  g_hash_table_remove_all (self->layers);
  g_hash_table_remove_all (self->failed);
  self->current_id = 0;
}

gboolean
kp_layer_prefetcher_is_busy (KpLayerPrefetcher *self)
{
  GHashTableIter iter;
  gpointer key, value;

  g_return_val_if_fail (KP_IS_LAYER_PREFETCHER (self), FALSE);

  if (self->opening != NULL)
    return TRUE;
  g_hash_table_iter_init (&iter, self->layers);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (*(gint64 *)key != self->current_id && kp_image_layer_get_building (((Entry *)value)->layer))
      return TRUE;

  return FALSE;
}
