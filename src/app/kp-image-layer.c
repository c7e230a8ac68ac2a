/* kp-image-layer.c: very large images drawn from a tile pyramid
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The pyramid (src/media/kp-image-pyramid.c) is built in a worker thread
 * into a disk cache. The layer keeps an LRU of decoded tiles as
 * GdkTextures whose pixel bytes never exceed the memory cap; snapshot()
 * draws the tiles of the level that suits the zoom, stands coarser tiles
 * in for missing ones, and asks for what it lacks: tiles are read back
 * from the disk cache in threads, and "invalidated" tells the canvas to
 * draw again when they arrive.
 */

#include "config.h"

#include "kp-image-layer.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n.h>

#include "kp-image-pyramid.h"

#define DEFAULT_MEMORY_CAP ((gsize)256 * 1024 * 1024)
/* The tile caches of all images together are trimmed to this after each
 * build, least recently opened first (a 30,000 px image takes about
 * 2.5 GB). */
#define DISK_CACHE_MAX ((guint64)8 * 1024 * 1024 * 1024)
/* Tiles read from the disk cache at once. */
#define MAX_IN_FLIGHT 4

typedef struct
{
  guint64          key;
  int              level;
  int              tx;
  int              ty;
  int              width;
  int              height;
  GBytes          *bytes;
  GdkTexture      *texture;
  cairo_surface_t *surface;     /* for nearest drawing, lazily */
  guint            gamma_gen;
  guint            version;     /* the pyramid's write count when read */
  gboolean         partial;     /* a band still being decoded */
  guint            last_frame;
  GList            link;
} Tile;

typedef struct
{
  int   level;
  int   tx;
  int   ty;
  guint frame;
  int   priority;       /* 0: off screen, read ahead */
} Request;

struct _KpImageLayer
{
  GObject          parent_instance;

  KpImagePyramid  *pyramid;
  GCancellable    *cancellable;
  int              width;
  int              height;

  gsize            memory_cap;
  gsize            memory_used;
  gsize            memory_peak;
  GHashTable      *tiles;          /* key -> Tile* */
  GQueue           lru;            /* most recently drawn first */

  GHashTable      *requests;       /* key -> Request*, not yet started */
  GHashTable      *in_flight;      /* keys being read */

  double           gamma;
  guint            gamma_gen;
  guint8           lut[256];

  guint            frame;
  guint            n_missing;
  guint            n_drawn;
  int              snap;        /* device pixels per widget pixel to snap tile edges to; 0: none */
  gboolean         building;
  GError          *error;
};

G_DEFINE_FINAL_TYPE (KpImageLayer, kp_image_layer, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_MEMORY_CAP,
  PROP_GAMMA,
  PROP_BUILDING,
  PROP_PROGRESS,
  N_PROPS
};

enum {
  INVALIDATED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void pump_requests (KpImageLayer *self);
static gboolean tile_outdated (KpImageLayer *self,
                               Tile         *tile);
static gboolean has_outdated_tiles (KpImageLayer *self);

static inline guint64
make_key (int level,
          int tx,
          int ty)
{
  return ((guint64)level << 48) | ((guint64)tx << 24) | (guint64)ty;
}

static guint
key_hash (gconstpointer key)
{
  return g_int64_hash (key);
}

static gboolean
key_equal (gconstpointer a,
           gconstpointer b)
{
  return g_int64_equal (a, b);
}

static void
tile_free (gpointer data)
{
  Tile *tile = data;

  g_clear_pointer (&tile->surface, cairo_surface_destroy);
  g_clear_object (&tile->texture);
  g_clear_pointer (&tile->bytes, g_bytes_unref);
  g_free (tile);
}

static void
drop_tile (KpImageLayer *self,
           Tile         *tile)
{
  g_queue_unlink (&self->lru, &tile->link);
  self->memory_used -= g_bytes_get_size (tile->bytes);
  g_hash_table_remove (self->tiles, &tile->key);
}

static void
clear_tiles (KpImageLayer *self)
{
  while (self->lru.tail != NULL)
    drop_tile (self, self->lru.tail->data);
}

static void
compute_lut (KpImageLayer *self)
{
  for (int i = 0; i < 256; i++)
    {
      double v = pow (i / 255.0, 1.0 / self->gamma);

      self->lut[i] = (guint8)CLAMP (lround (v * 255.0), 0, 255);
    }
}

/* GObject */

static void
kp_image_layer_dispose (GObject *object)
{
  KpImageLayer *self = (KpImageLayer *)object;

  g_cancellable_cancel (self->cancellable);
  if (self->tiles != NULL)
    clear_tiles (self);
  g_clear_pointer (&self->requests, g_hash_table_unref);
  g_clear_object (&self->pyramid);

  G_OBJECT_CLASS (kp_image_layer_parent_class)->dispose (object);
}

static void
kp_image_layer_finalize (GObject *object)
{
  KpImageLayer *self = (KpImageLayer *)object;

  g_clear_pointer (&self->tiles, g_hash_table_unref);
  g_clear_pointer (&self->in_flight, g_hash_table_unref);
  g_clear_object (&self->cancellable);
  g_clear_error (&self->error);

  G_OBJECT_CLASS (kp_image_layer_parent_class)->finalize (object);
}

static void
kp_image_layer_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  KpImageLayer *self = KP_IMAGE_LAYER (object);

  switch (prop_id)
    {
    case PROP_WIDTH:
      g_value_set_int (value, self->width);
      break;
    case PROP_HEIGHT:
      g_value_set_int (value, self->height);
      break;
    case PROP_MEMORY_CAP:
      g_value_set_uint64 (value, self->memory_cap);
      break;
    case PROP_GAMMA:
      g_value_set_double (value, self->gamma);
      break;
    case PROP_PROGRESS:
      g_value_set_double (value, kp_image_layer_get_progress (self));
      break;

    case PROP_BUILDING:
      g_value_set_boolean (value, self->building);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_image_layer_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  KpImageLayer *self = KP_IMAGE_LAYER (object);

  switch (prop_id)
    {
    case PROP_MEMORY_CAP:
      kp_image_layer_set_memory_cap (self, g_value_get_uint64 (value));
      break;
    case PROP_GAMMA:
      kp_image_layer_set_gamma (self, g_value_get_double (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_image_layer_class_init (KpImageLayerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kp_image_layer_dispose;
  object_class->finalize = kp_image_layer_finalize;
  object_class->get_property = kp_image_layer_get_property;
  object_class->set_property = kp_image_layer_set_property;

  properties[PROP_WIDTH] =
    g_param_spec_int ("width", NULL, NULL, 0, G_MAXINT, 0,
                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_HEIGHT] =
    g_param_spec_int ("height", NULL, NULL, 0, G_MAXINT, 0,
                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_MEMORY_CAP] =
    g_param_spec_uint64 ("memory-cap", NULL, NULL, 0, G_MAXUINT64, DEFAULT_MEMORY_CAP,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_GAMMA] =
    g_param_spec_double ("gamma", NULL, NULL, 0.01, 100, 1,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* TRUE while the tiles are being made; then kp_image_layer_get_error()
   * and kp_image_layer_dup_warning() tell how it went. */
  properties[PROP_BUILDING] =
    g_param_spec_boolean ("building", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* The share of full-detail rows decoded (1 once built), notified as
   * the build goes. */
  properties[PROP_PROGRESS] =
    g_param_spec_double ("progress", NULL, NULL, 0, 1, 0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[INVALIDATED] =
    g_signal_new ("invalidated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
kp_image_layer_init (KpImageLayer *self)
{
  self->cancellable = g_cancellable_new ();
  self->memory_cap = DEFAULT_MEMORY_CAP;
  self->tiles = g_hash_table_new_full (key_hash, key_equal, NULL, tile_free);
  self->requests = g_hash_table_new_full (key_hash, key_equal, g_free, g_free);
  self->in_flight = g_hash_table_new_full (key_hash, key_equal, g_free, NULL);
  self->gamma = 1;
  compute_lut (self);
}

/* Building the pyramid: a thread that holds the pyramid but only a weak
 * reference to the layer. Its progress is folded into one idle at a time. */

typedef struct
{
  KpImagePyramid *pyramid;
  GWeakRef        layer;
  GMainContext   *context;
  int             idle_pending;
} BuildJob;

static void
build_job_clear (gpointer data)
{
  BuildJob *job = data;

  g_clear_object (&job->pyramid);
  g_weak_ref_clear (&job->layer);
  g_clear_pointer (&job->context, g_main_context_unref);
}

static void
build_job_release (gpointer data)
{
  g_atomic_rc_box_release_full (data, build_job_clear);
}

static gboolean
progress_idle_cb (gpointer data)
{
  BuildJob *job = data;
  g_autoptr(KpImageLayer) self = g_weak_ref_get (&job->layer);

  g_atomic_int_set (&job->idle_pending, 0);
  /* The last frame lacked tiles, or drew some that were written again
   * since (a newer partial band, or exact levels replacing a first
   * view): they may be on disk now. */
  if (self != NULL && (self->n_missing > 0 || has_outdated_tiles (self)))
    g_signal_emit (self, signals[INVALIDATED], 0);
  if (self != NULL)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS]);

  return G_SOURCE_REMOVE;
}

static void
build_progress_cb (KpImagePyramid *pyramid,
                   int             level,
                   int             tile_row,
                   gpointer        user_data)
{
  BuildJob *job = user_data;
  GSource *source;

  (void)pyramid;
  (void)level;
  (void)tile_row;
  if (!g_atomic_int_compare_and_exchange (&job->idle_pending, 0, 1))
    return;
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, progress_idle_cb, g_atomic_rc_box_acquire (job),
                         build_job_release);
  g_source_set_static_name (source, "[kempelen] image pyramid progress");
  g_source_attach (source, job->context);
  g_source_unref (source);
}

static void
build_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  BuildJob *job = task_data;
  GError *error = NULL;

  (void)source_object;
  if (kp_image_pyramid_build_full (job->pyramid, cancellable, build_progress_cb,
                                   build_progress_cb, job, &error))
    {
      g_autofree char *root = g_path_get_dirname (kp_image_pyramid_get_cache_path (job->pyramid));

      kp_image_pyramid_trim_cache (root, DISK_CACHE_MAX, job->pyramid);
      g_task_return_boolean (task, TRUE);
    }
  else
    g_task_return_error (task, error);
}

static void
build_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  BuildJob *job = user_data;
  g_autoptr(KpImageLayer) self = g_weak_ref_get (&job->layer);
  g_autoptr(GError) error = NULL;

  (void)object;
  g_task_propagate_boolean (G_TASK (result), &error);
  build_job_release (job);
  if (self == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  /* The window shows the error (or the warning) once "building" ends. */
  if (error != NULL)
    {
      g_debug ("%s", error->message);
      self->error = g_steal_pointer (&error);
    }
  self->building = FALSE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUILDING]);
  g_signal_emit (self, signals[INVALIDATED], 0);
}

static void
start_build (KpImageLayer *self)
{
  g_autoptr(GTask) task = NULL;
  BuildJob *job;

  if (kp_image_pyramid_is_complete (self->pyramid))
    return;

  job = g_atomic_rc_box_new0 (BuildJob);
  job->pyramid = g_object_ref (self->pyramid);
  g_weak_ref_init (&job->layer, self);
  job->context = g_main_context_ref_thread_default ();

  self->building = TRUE;
  task = g_task_new (NULL, self->cancellable, build_cb, job);
  g_task_set_source_tag (task, start_build);
  g_task_set_name (task, "[kempelen] build image pyramid");
  g_task_set_task_data (task, g_atomic_rc_box_acquire (job), build_job_release);
  g_task_run_in_thread (task, build_thread);
}

/* Opening */

typedef struct
{
  char *path;
  char *cache_dir;
  int   tile_size;
} OpenData;

static void
open_data_free (gpointer data)
{
  OpenData *od = data;

  g_free (od->path);
  g_free (od->cache_dir);
  g_free (od);
}

static void
open_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  OpenData *od = task_data;
  GError *error = NULL;
  KpImagePyramid *pyramid;

  (void)source_object;
  pyramid = kp_image_pyramid_open (od->path, od->cache_dir, od->tile_size, cancellable, &error);
  if (pyramid == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, pyramid, g_object_unref);
}

static void
open_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(KpImagePyramid) pyramid = NULL;
  g_autoptr(GError) error = NULL;
  KpImageLayer *self;

  (void)object;
  pyramid = g_task_propagate_pointer (G_TASK (result), &error);
  if (pyramid == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  self = g_object_new (KP_TYPE_IMAGE_LAYER, NULL);
  self->pyramid = g_steal_pointer (&pyramid);
  self->width = kp_image_pyramid_get_width (self->pyramid);
  self->height = kp_image_pyramid_get_height (self->pyramid);
  start_build (self);
  g_task_return_pointer (task, self, g_object_unref);
}

void
kp_image_layer_new_full_async (GFile               *file,
                               const char          *cache_dir,
                               int                  tile_size,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) inner = NULL;
  OpenData *od;

  g_return_if_fail (G_IS_FILE (file));
  g_return_if_fail (tile_size == 0 || tile_size >= 16);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, kp_image_layer_new_full_async);

  od = g_new0 (OpenData, 1);
  od->path = g_file_get_path (file);
  od->cache_dir = g_strdup (cache_dir);
  od->tile_size = tile_size > 0 ? tile_size : KP_IMAGE_PYRAMID_DEFAULT_TILE_SIZE;
  if (od->path == NULL)
    {
      g_autofree char *uri = g_file_get_uri (file);

      open_data_free (od);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _("Cannot open “%s”: only local files can be shown."), uri);
      return;
    }

  inner = g_task_new (NULL, cancellable, open_cb, g_steal_pointer (&task));
  g_task_set_source_tag (inner, kp_image_layer_new_full_async);
  g_task_set_task_data (inner, od, open_data_free);
  g_task_run_in_thread (inner, open_thread);
}

void
kp_image_layer_new_async (GFile               *file,
                          const char          *cache_dir,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  kp_image_layer_new_full_async (file, cache_dir, 0, cancellable, callback, user_data);
}

KpImageLayer *
kp_image_layer_new_finish (GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

gboolean
kp_image_layer_wants_size (int width,
                           int height)
{
  return kp_image_size_is_large (width, height);
}

/* Reading tiles back */

typedef struct
{
  KpImagePyramid *pyramid;
  int             level;
  int             tx;
  int             ty;
  guint           gamma_gen;
  guint           version;
  gboolean        partial;
  gboolean        prefetch;
  gboolean        apply_lut;
  guint8          lut[256];
  int             width;
  int             height;
} LoadJob;

static void
load_job_free (gpointer data)
{
  LoadJob *job = data;

  g_clear_object (&job->pyramid);
  g_free (job);
}

static void
apply_lut (guint8       *pixels,
           gsize         n_pixels,
           const guint8 *lut)
{
  for (gsize i = 0; i < n_pixels; i++)
    {
      guint8 *p = pixels + i * 4;
      guint32 v;
      guint a, r, g, b;

      memcpy (&v, p, 4);
      a = v >> 24;
      r = (v >> 16) & 0xff;
      g = (v >> 8) & 0xff;
      b = v & 0xff;
      if (a == 255)
        {
          r = lut[r];
          g = lut[g];
          b = lut[b];
        }
      else if (a > 0)
        {
          /* Colours are premultiplied: correct them unpremultiplied. */
          r = lut[MIN (255u, (r * 255 + a / 2) / a)] * a / 255;
          g = lut[MIN (255u, (g * 255 + a / 2) / a)] * a / 255;
          b = lut[MIN (255u, (b * 255 + a / 2) / a)] * a / 255;
        }
      v = (a << 24) | (r << 16) | (g << 8) | b;
      memcpy (p, &v, 4);
    }
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  LoadJob *job = task_data;
  GError *error = NULL;
  GBytes *bytes;

  (void)source_object;
  if (g_task_return_error_if_cancelled (task))
    return;
  /* Before reading: the file read is this version or a newer one. */
  job->partial = kp_image_pyramid_get_tile_state (job->pyramid, job->level, job->tx, job->ty,
                                                  &job->version) == KP_IMAGE_PYRAMID_TILE_PARTIAL;
  bytes = kp_image_pyramid_read_tile (job->pyramid, job->level, job->tx, job->ty,
                                      &job->width, &job->height, &error);
  if (bytes == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (job->apply_lut)
    {
      gsize size;
      guint8 *pixels = g_bytes_unref_to_data (bytes, &size);

      apply_lut (pixels, size / 4, job->lut);
      bytes = g_bytes_new_take (pixels, size);
    }
  (void)cancellable;
  g_task_return_pointer (task, bytes, (GDestroyNotify)g_bytes_unref);
}

/* Makes room for size bytes, dropping the least recently drawn tiles but
 * never one the last frame drew; FALSE if that is not enough. */
static gboolean
make_room (KpImageLayer *self,
           gsize         size)
{
  if (size > self->memory_cap)
    return FALSE;

  while (self->memory_used + size > self->memory_cap)
    {
      Tile *victim;

      if (self->lru.tail == NULL)
        return FALSE;
      victim = self->lru.tail->data;
      if (victim->last_frame == self->frame)
        return FALSE;
      drop_tile (self, victim);
    }

  return TRUE;
}

static void
load_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  KpImageLayer *self = KP_IMAGE_LAYER (object);
  LoadJob *job = g_task_get_task_data (G_TASK (result));
  guint64 key = make_key (job->level, job->tx, job->ty);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  Tile *old;
  Tile *tile;
  gsize size;

  (void)user_data;
  bytes = g_task_propagate_pointer (G_TASK (result), &error);
  if (self->in_flight == NULL || g_cancellable_is_cancelled (self->cancellable))
    return;
  g_hash_table_remove (self->in_flight, &key);

  if (bytes == NULL)
    {
      /* A cache trimmed by another window is no reason to shout. */
      if (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_debug ("%s", error->message);
      else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("%s", error->message);
      pump_requests (self);
      return;
    }

  old = g_hash_table_lookup (self->tiles, &key);
  if (job->gamma_gen != self->gamma_gen)
    {
      /* Gamma changed meanwhile: the next frame asks again. */
      pump_requests (self);
      return;
    }
  if (old != NULL)
    drop_tile (self, old);

  size = g_bytes_get_size (bytes);
  if (!make_room (self, size))
    {
      /* What is on screen already fills the cap: coarser tiles stay. */
      pump_requests (self);
      return;
    }

  tile = g_new0 (Tile, 1);
  tile->key = key;
  tile->level = job->level;
  tile->tx = job->tx;
  tile->ty = job->ty;
  tile->width = job->width;
  tile->height = job->height;
  tile->gamma_gen = job->gamma_gen;
  tile->version = job->version;
  tile->partial = job->partial;
  tile->bytes = g_steal_pointer (&bytes);
  tile->texture = gdk_memory_texture_new (tile->width, tile->height, GDK_MEMORY_DEFAULT,
                                          tile->bytes, (gsize)tile->width * 4);
  /* A tile read ahead is not on screen: the cache may drop it. */
  tile->last_frame = job->prefetch ? self->frame - 1 : self->frame;
  tile->link.data = tile;
  g_hash_table_insert (self->tiles, &tile->key, tile);
  g_queue_push_head_link (&self->lru, &tile->link);
  self->memory_used += size;
  self->memory_peak = MAX (self->memory_peak, self->memory_used);

  pump_requests (self);
  if (!job->prefetch || self->n_missing > 0)
    g_signal_emit (self, signals[INVALIDATED], 0);
}

/* Starts reading the most wanted requests: those of the latest frame,
 * overview tiles first, the rest in the order they were asked for. */
static void
pump_requests (KpImageLayer *self)
{
  while (self->requests != NULL && g_hash_table_size (self->in_flight) < MAX_IN_FLIGHT)
    {
      GHashTableIter iter;
      gpointer key, value;
      Request *best = NULL;
      guint64 *best_key = NULL;
      g_autoptr(GTask) task = NULL;
      LoadJob *job;

      g_hash_table_iter_init (&iter, self->requests);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          Request *request = value;

          if (request->frame != self->frame)
            {
              /* No longer on screen. */
              g_hash_table_iter_remove (&iter);
              continue;
            }
          if (best == NULL || request->priority > best->priority)
            {
              best = request;
              best_key = key;
            }
        }
      if (best == NULL)
        return;

      job = g_new0 (LoadJob, 1);
      job->pyramid = g_object_ref (self->pyramid);
      job->level = best->level;
      job->tx = best->tx;
      job->ty = best->ty;
      job->gamma_gen = self->gamma_gen;
      job->prefetch = best->priority == 0;
      job->apply_lut = self->gamma != 1;
      memcpy (job->lut, self->lut, sizeof job->lut);

      g_hash_table_steal (self->requests, best_key);
      g_hash_table_add (self->in_flight, best_key);
      g_free (best);

      task = g_task_new (self, self->cancellable, load_cb, NULL);
      g_task_set_source_tag (task, pump_requests);
      g_task_set_name (task, "[kempelen] read image tile");
      g_task_set_task_data (task, job, load_job_free);
      g_task_run_in_thread (task, load_thread);
    }
}

static void
request_tile (KpImageLayer *self,
              int           level,
              int           tx,
              int           ty,
              int           priority)
{
  guint64 key = make_key (level, tx, ty);
  Request *request;

  if (g_hash_table_contains (self->in_flight, &key) ||
      !kp_image_pyramid_has_tile (self->pyramid, level, tx, ty))
    return;

  request = g_hash_table_lookup (self->requests, &key);
  if (request == NULL)
    {
      request = g_new0 (Request, 1);
      request->level = level;
      request->tx = tx;
      request->ty = ty;
      g_hash_table_insert (self->requests, g_memdup2 (&key, sizeof key), request);
    }
  request->frame = self->frame;
  request->priority = priority;
}

/* Drawing */

static Tile *
lookup_tile (KpImageLayer *self,
             int           level,
             int           tx,
             int           ty)
{
  guint64 key = make_key (level, tx, ty);

  return g_hash_table_lookup (self->tiles, &key);
}

/* Whether the disk cache has a newer copy of the tile than the one held. */
static gboolean
tile_outdated (KpImageLayer *self,
               Tile         *tile)
{
  guint version;

  kp_image_pyramid_get_tile_state (self->pyramid, tile->level, tile->tx, tile->ty, &version);
  return version != tile->version;
}

/* Whether a tile the last frame drew is outdated. */
static gboolean
has_outdated_tiles (KpImageLayer *self)
{
  for (GList *l = self->lru.head; l != NULL; l = l->next)
    {
      Tile *tile = l->data;

      /* Tiles read ahead sit among them, marked with an older frame. */
      if (tile->last_frame == self->frame && tile_outdated (self, tile))
        return TRUE;
    }
  return FALSE;
}

static void
touch_tile (KpImageLayer *self,
            Tile         *tile)
{
  tile->last_frame = self->frame;
  g_queue_unlink (&self->lru, &tile->link);
  g_queue_push_head_link (&self->lru, &tile->link);
}

static void
surface_bytes_unref (void *data)
{
  g_bytes_unref (data);
}

static cairo_surface_t *
ensure_surface (Tile *tile)
{
  static const cairo_user_data_key_t bytes_key;

  if (tile->surface == NULL)
    {
      /* The texture's own bytes, read in place: same memory layout. */
      tile->surface = cairo_image_surface_create_for_data ((guchar *)g_bytes_get_data (tile->bytes, NULL),
                                                           CAIRO_FORMAT_ARGB32, tile->width, tile->height,
                                                           tile->width * 4);
      cairo_surface_set_user_data (tile->surface, &bytes_key, g_bytes_ref (tile->bytes),
                                   surface_bytes_unref);
    }

  return tile->surface;
}

/* The widget rectangle of tile (level, tx, ty). */
static graphene_rect_t
tile_rect (KpImageLayer *self,
           const KpView *view,
           int           level,
           int           tx,
           int           ty,
           int           width,
           int           height)
{
  double unit = (double)(1 << level) * view->scale;
  double step = (double)kp_image_pyramid_get_tile_size (self->pyramid) * unit;
  double x0 = tx * step + view->offset_x;
  double y0 = ty * step + view->offset_y;
  double x1 = x0 + width * unit;
  double y1 = y0 + height * unit;

  /* Edges on device pixels: neighbouring tiles meet exactly, where
   * fractional edges let the background show through as a seam (the
   * cairo renderer antialiases each texture's edges). */
  if (self->snap > 0)
    {
      x0 = round (x0 * self->snap) / self->snap;
      y0 = round (y0 * self->snap) / self->snap;
      x1 = round (x1 * self->snap) / self->snap;
      y1 = round (y1 * self->snap) / self->snap;
    }

  return GRAPHENE_RECT_INIT (x0, y0, x1 - x0, y1 - y0);
}

static void
draw_tile (KpImageLayer          *self,
           GtkSnapshot           *snapshot,
           const KpView          *view,
           Tile                  *tile,
           const graphene_rect_t *clip,
           double                 widget_width,
           double                 widget_height,
           gboolean               nearest)
{
  graphene_rect_t rect = tile_rect (self, view, tile->level, tile->tx, tile->ty,
                                    tile->width, tile->height);

  touch_tile (self, tile);
  self->n_drawn++;
  if (nearest)
    {
      /* GTK 4.8 has no nearest-neighbour texture node: cairo draws the
       * visible part, at most the widget's size, from the tile's bytes. */
      double x0 = MAX (floor (clip->origin.x), 0);
      double y0 = MAX (floor (clip->origin.y), 0);
      double x1 = MIN (ceil (clip->origin.x + clip->size.width), widget_width);
      double y1 = MIN (ceil (clip->origin.y + clip->size.height), widget_height);
      double unit = (double)(1 << tile->level) * view->scale;
      cairo_pattern_t *pattern;
      cairo_t *cr;

      if (x1 <= x0 || y1 <= y0)
        return;
      cr = gtk_snapshot_append_cairo (snapshot, &GRAPHENE_RECT_INIT (x0, y0, x1 - x0, y1 - y0));
      cairo_rectangle (cr, clip->origin.x, clip->origin.y, clip->size.width, clip->size.height);
      cairo_clip (cr);
      cairo_translate (cr, rect.origin.x, rect.origin.y);
      cairo_scale (cr, unit, unit);
      cairo_set_source_surface (cr, ensure_surface (tile), 0, 0);
      pattern = cairo_get_source (cr);
      cairo_pattern_set_filter (pattern, CAIRO_FILTER_NEAREST);
      cairo_pattern_set_extend (pattern, CAIRO_EXTEND_PAD);
      cairo_rectangle (cr, 0, 0, tile->width, tile->height);
      cairo_fill (cr);
      cairo_destroy (cr);
      return;
    }

  if (clip != NULL)
    gtk_snapshot_push_clip (snapshot, clip);
  gtk_snapshot_append_texture (snapshot, tile->texture, &rect);
  if (clip != NULL)
    gtk_snapshot_pop (snapshot);
}

static int
best_level (KpImageLayer *self,
            double        device_scale)
{
  int n_levels = kp_image_pyramid_get_n_levels (self->pyramid);
  int level = 0;

  /* The coarsest level with at least one pixel per device pixel. */
  while (level + 1 < n_levels && device_scale * (double)(1 << (level + 1)) <= 1.0 + 1e-9)
    level++;

  return level;
}

void
kp_image_layer_snapshot (KpImageLayer *self,
                         GtkSnapshot  *snapshot,
                         const KpView *view,
                         double        width,
                         double        height,
                         int           scale_factor,
                         gboolean      nearest)
{
  KpRect visible;
  KpRect image = { 0, 0, 0, 0 };
  KpRect shown;
  int level, overview, n_levels, tile_size;
  int columns, rows, tx0, ty0, tx1, ty1;
  int level_width, level_height;
  double unit;

  g_return_if_fail (KP_IS_IMAGE_LAYER (self));
  g_return_if_fail (GTK_IS_SNAPSHOT (snapshot));
  g_return_if_fail (view != NULL && view->scale > 0);

  if (self->pyramid == NULL)
    return;

  self->frame++;
  self->n_missing = 0;
  self->n_drawn = 0;
  /* Pixel-exact drawing keeps image pixels where they are. */
  self->snap = nearest ? 0 : MAX (scale_factor, 1);

  visible = kp_view_visible_rect (view, width, height);
  image.width = self->width;
  image.height = self->height;
  {
    double x0 = MAX (visible.x, 0), y0 = MAX (visible.y, 0);
    double x1 = MIN (visible.x + visible.width, self->width);
    double y1 = MIN (visible.y + visible.height, self->height);

    if (x1 <= x0 || y1 <= y0)
      return;
    visible.x = x0;
    visible.y = y0;
    visible.width = x1 - x0;
    visible.height = y1 - y0;
  }

  n_levels = kp_image_pyramid_get_n_levels (self->pyramid);
  tile_size = kp_image_pyramid_get_tile_size (self->pyramid);
  level = best_level (self, view->scale * MAX (scale_factor, 1));
  overview = kp_image_pyramid_get_overview_level (self->pyramid);

  shown = kp_view_rect_to_widget (view, &image);
  gtk_snapshot_push_clip (snapshot, &GRAPHENE_RECT_INIT (shown.x, shown.y, shown.width, shown.height));

  unit = (double)tile_size * (1 << level);
  kp_image_pyramid_get_grid (self->pyramid, level, &columns, &rows);
  kp_image_pyramid_get_level_size (self->pyramid, level, &level_width, &level_height);
  tx0 = CLAMP ((int)floor (visible.x / unit), 0, columns - 1);
  ty0 = CLAMP ((int)floor (visible.y / unit), 0, rows - 1);
  tx1 = CLAMP ((int)ceil ((visible.x + visible.width) / unit) - 1, 0, columns - 1);
  ty1 = CLAMP ((int)ceil ((visible.y + visible.height) / unit) - 1, 0, rows - 1);

  for (int ty = ty0; ty <= ty1; ty++)
    for (int tx = tx0; tx <= tx1; tx++)
      {
        Tile *tile = lookup_tile (self, level, tx, ty);
        int priority = level >= overview ? 2 : 1;

        if (tile != NULL && !tile->partial)
          {
            graphene_rect_t rect = tile_rect (self, view, level, tx, ty, tile->width, tile->height);

            draw_tile (self, snapshot, view, tile, &rect, width, height, nearest);
            /* The old copy stays on screen until the new one arrives. */
            if (tile->gamma_gen != self->gamma_gen || tile_outdated (self, tile))
              request_tile (self, level, tx, ty, priority);
            continue;
          }

        /* Missing, or partial: its decoded rows go over a stand-in. */
        self->n_missing++;
        if (tile == NULL || tile->gamma_gen != self->gamma_gen || tile_outdated (self, tile))
          request_tile (self, level, tx, ty, priority);

        /* A coarser tile stands in, clipped to this one's place. */
        for (int l = level + 1; l < n_levels; l++)
          {
            int shift = l - level;
            Tile *parent = lookup_tile (self, l, tx >> shift, ty >> shift);

            if (l == MAX (overview, level + 1) && parent == NULL)
              request_tile (self, l, tx >> shift, ty >> shift, 3);
            if (parent != NULL)
              {
                int w = MIN (tile_size, level_width - tx * tile_size);
                int h = MIN (tile_size, level_height - ty * tile_size);
                graphene_rect_t clip = tile_rect (self, view, level, tx, ty, w, h);

                draw_tile (self, snapshot, view, parent, &clip, width, height, FALSE);
                if (parent->gamma_gen != self->gamma_gen || tile_outdated (self, parent))
                  request_tile (self, l, tx >> shift, ty >> shift, 3);
                break;
              }
          }

        if (tile != NULL)
          {
            graphene_rect_t rect = tile_rect (self, view, level, tx, ty, tile->width, tile->height);

            draw_tile (self, snapshot, view, tile, &rect, width, height, nearest);
          }
      }

  gtk_snapshot_pop (snapshot);

  /* Sharp and idle: read the ring of tiles around the view ahead, so a
   * pan shows them at once. */
  if (self->n_missing == 0 && g_hash_table_size (self->requests) == 0)
    for (int ty = ty0 - 1; ty <= ty1 + 1; ty++)
      for (int tx = tx0 - 1; tx <= tx1 + 1; tx++)
        if ((tx < tx0 || tx > tx1 || ty < ty0 || ty > ty1) &&
            tx >= 0 && ty >= 0 && tx < columns && ty < rows &&
            lookup_tile (self, level, tx, ty) == NULL)
          request_tile (self, level, tx, ty, 0);

  pump_requests (self);
}

/* Accessors */

int
kp_image_layer_get_width (KpImageLayer *self)
{
  g_return_val_if_fail (KP_IS_IMAGE_LAYER (self), 0);
  return self->width;
}

int
kp_image_layer_get_height (KpImageLayer *self)
{
  g_return_val_if_fail (KP_IS_IMAGE_LAYER (self), 0);
  return self->height;
}

gsize
kp_image_layer_get_memory_cap (KpImageLayer *self)
{
  g_return_val_if_fail (KP_IS_IMAGE_LAYER (self), 0);
  return self->memory_cap;
}

void
kp_image_layer_set_memory_cap (KpImageLayer *self,
                               gsize         cap)
{
  g_return_if_fail (KP_IS_IMAGE_LAYER (self));

  if (cap == self->memory_cap)
    return;
  self->memory_cap = cap;
  while (self->memory_used > cap && self->lru.tail != NULL)
    drop_tile (self, self->lru.tail->data);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MEMORY_CAP]);
  g_signal_emit (self, signals[INVALIDATED], 0);
}

void
kp_image_layer_set_gamma (KpImageLayer *self,
                          double        gamma)
{
  g_return_if_fail (KP_IS_IMAGE_LAYER (self));
  g_return_if_fail (gamma > 0);

  if (gamma == self->gamma)
    return;
  self->gamma = gamma;
  self->gamma_gen++;
  compute_lut (self);
  /* Tiles on screen stay until their corrected copies arrive. */
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_GAMMA]);
  g_signal_emit (self, signals[INVALIDATED], 0);
}

double
kp_image_layer_get_gamma (KpImageLayer *self)
{
  g_return_val_if_fail (KP_IS_IMAGE_LAYER (self), 1);
  return self->gamma;
}

gsize
kp_image_layer_get_memory_used (KpImageLayer *self)
{
  g_return_val_if_fail (KP_IS_IMAGE_LAYER (self), 0);
  return self->memory_used;
}

gsize
kp_image_layer_get_memory_peak (KpImageLayer *self)
{
  g_return_val_if_fail (KP_IS_IMAGE_LAYER (self), 0);
  return self->memory_peak;
}

guint
kp_image_layer_get_n_missing (KpImageLayer *self)
{
  g_return_val_if_fail (KP_IS_IMAGE_LAYER (self), 0);
  return self->n_missing;
}

guint
kp_image_layer_get_n_drawn (KpImageLayer *self)
{
  g_return_val_if_fail (KP_IS_IMAGE_LAYER (self), 0);
  return self->n_drawn;
}

double
kp_image_layer_get_progress (KpImageLayer *self)
{
  g_return_val_if_fail (KP_IS_IMAGE_LAYER (self), 0);

  return self->pyramid != NULL ? kp_image_pyramid_get_progress (self->pyramid) : 0;
}

void
kp_image_layer_set_background (KpImageLayer *self,
                               gboolean      background)
{
  g_return_if_fail (KP_IS_IMAGE_LAYER (self));

  if (self->pyramid != NULL)
    kp_image_pyramid_set_background (self->pyramid, background);
}

gboolean
kp_image_layer_get_building (KpImageLayer *self)
{
  g_return_val_if_fail (KP_IS_IMAGE_LAYER (self), FALSE);
  return self->building;
}

const GError *
kp_image_layer_get_error (KpImageLayer *self)
{
  g_return_val_if_fail (KP_IS_IMAGE_LAYER (self), NULL);
  return self->error;
}

char *
kp_image_layer_dup_warning (KpImageLayer *self)
{
  g_return_val_if_fail (KP_IS_IMAGE_LAYER (self), NULL);
  return self->pyramid != NULL ? kp_image_pyramid_dup_warning (self->pyramid) : NULL;
}
