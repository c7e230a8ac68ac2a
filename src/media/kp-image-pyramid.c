/* kp-image-pyramid.c: tiled, multi-level copies of very large images
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * GdkPixbuf decodes whole images only: a 30,000 x 30,000 picture would
 * need 3.6 GB. Here JPEG, PNG and TIFF are decoded row by row with their
 * own libraries; the rows stream through a band buffer one tile high per
 * level, and each level's rows are averaged two by two into the next, so
 * one pass makes every level while holding only the bands. Tiles go to a
 * disk cache (one zstd-compressed file each), which later openings reuse.
 */

#include "config.h"

#include "kp-image-pyramid.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#ifdef __GLIBC__
# include <malloc.h>
#endif
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include <gdk-pixbuf/gdk-pixbuf.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <jpeglib.h>
#include <png.h>
#include <tiffio.h>
#include <zstd.h>

/* Bump when the tile format or the way levels are made changes. */
#define CACHE_VERSION "kp-pyramid-2"
/* Written last by a finished build. */
#define COMPLETE_NAME "complete"
/* An unfinished build older than this was abandoned. */
#define ABANDONED_AGE (24 * 60 * 60)
/* A fast level: tiles are written once and compress mostly for disk space. */
#define ZSTD_LEVEL (-3)
/* Whole-image fallbacks (GdkPixbuf, interlaced PNG, huge TIFF strips)
 * refuse images that would need more than this. */
#define MAX_WHOLE_BYTES ((gsize)512 * 1024 * 1024)
/* The bands of the levels at least as coarse as the overview are written
 * together as partial tiles each time this part of a tile's rows of the
 * overview arrived, or this long after the last time: often enough to
 * see the image come, rarely enough that redrawing it costs little. */
#define PARTIAL_ROWS_DIVISOR 4
#define PARTIAL_MIN_ROWS     16
#define PARTIAL_INTERVAL_US  (500 * 1000)
/* libjpeg may buffer a progressive JPEG's coefficients: cap it. */
#define JPEG_MAX_MEMORY (1024L * 1024 * 1024)

typedef enum
{
  FORMAT_PIXBUF,
  FORMAT_JPEG,
  FORMAT_PNG,
  FORMAT_TIFF,
} Format;

struct _KpImagePyramid
{
  GObject  parent_instance;

  char    *path;
  char    *cache_path;
  Format   format;
  int      width;
  int      height;
  int      tile_size;
  int      n_levels;
  int      overview_level;

  GMutex   mutex;
  guint8 **done;        /* per level, columns * rows KpImagePyramidTileState */
  guint  **versions;    /* per level, columns * rows write counts */
  KpImagePyramidProgress partial;   /* during a build */
  gboolean complete;
  char    *warning;
  guint64  bytes_written;
  int      background;  /* atomic: the build yields half its time */
  int      rows_done;   /* atomic: full-detail rows decoded by the build */
};

G_DEFINE_FINAL_TYPE (KpImagePyramid, kp_image_pyramid, G_TYPE_OBJECT)

/* For tests: see kp_image_pyramid_set_write_hook (). */
static KpImagePyramidProgress write_hook;
static gpointer write_hook_data;

static void
kp_image_pyramid_finalize (GObject *object)
{
  KpImagePyramid *self = (KpImagePyramid *)object;

  if (self->done != NULL)
    for (int i = 0; i < self->n_levels; i++)
      {
        g_free (self->done[i]);
        g_free (self->versions[i]);
      }
  g_free (self->done);
  g_free (self->versions);
  g_free (self->path);
  g_free (self->cache_path);
  g_free (self->warning);
  g_mutex_clear (&self->mutex);

  G_OBJECT_CLASS (kp_image_pyramid_parent_class)->finalize (object);
}

static void
kp_image_pyramid_class_init (KpImagePyramidClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kp_image_pyramid_finalize;
}

static void
kp_image_pyramid_init (KpImagePyramid *self)
{
  g_mutex_init (&self->mutex);
}

/* Errors */

static void
set_error (GError     **error,
           int          code,
           const char  *path,
           const char  *detail)
{
  g_autofree char *name = g_filename_display_basename (path);

  if (detail != NULL && *detail != '\0')
    g_set_error (error, KP_MEDIA_ERROR, code,
                 /* Translators: the first %s is a file name, the second what the decoder said. */
                 _("Cannot read the image “%s”: %s"), name, detail);
  else
    g_set_error (error, KP_MEDIA_ERROR, code, _("Cannot read the image “%s”."), name);
}

static void
set_corrupt (GError     **error,
             const char  *path,
             const char  *detail)
{
  set_error (error, KP_MEDIA_ERROR_CORRUPT, path, detail);
}

/* Pixel rows: everything is converted to cairo's ARGB32 (premultiplied,
 * native endian), which GDK_MEMORY_DEFAULT textures and cairo both read. */

static inline guint8
premul (guint8 c,
        guint8 a)
{
  unsigned t = c * a + 0x80;

  return (guint8)((t + (t >> 8)) >> 8);
}

static inline void
put_pixel (guint8 *out,
           guint8  r,
           guint8  g,
           guint8  b,
           guint8  a)
{
  guint32 v;

  if (a != 255)
    {
      r = premul (r, a);
      g = premul (g, a);
      b = premul (b, a);
    }
  v = ((guint32)a << 24) | ((guint32)r << 16) | ((guint32)g << 8) | b;
  memcpy (out, &v, 4);
}

/* The streaming builder: a band per level, and the even row of each level
 * waiting for its odd partner to be averaged into the next level. */

typedef struct
{
  int     width;
  int     height;
  int     columns;
  int     rows;
  guint8 *band;       /* tile_size rows of width * 4 bytes */
  int     band_fill;
  int     rows_in;    /* rows received so far */
  guint8 *held;       /* an even row waiting for its partner */
  gboolean has_held;
  guint8 *down;       /* one row of the next level */
  guint8 *spare;      /* a band buffer back from the writer */
  int     partial_band;   /* the band last looked at for partial writes, or -1 */
  gboolean partial_ok;    /* whether that band gets them */
  int     partial_fill;   /* band_fill at the last partial write */
} LevelState;

/* A full band, handed from the decoding thread to the writing one. */
typedef struct
{
  int     level;
  int     ty;
  int     rows;
  guint8 *pixels;
  gboolean partial;   /* a copy of a band still filling, zero below */
} BandJob;

typedef struct
{
  KpImagePyramid         *self;
  int                     first_level;
  int                     last_level;
  LevelState             *levels;
  guint8                 *tile;
  gsize                   bound;
  guint8                 *packed;
  ZSTD_CCtx              *zstd;
  GCancellable           *cancellable;
  KpImagePyramidProgress  progress;
  KpImagePyramidProgress  partial;
  gpointer                user_data;
  GError                 *error;
  gint64                  partial_time;   /* of the last partial writes */
  gint64                  band_start;     /* when the first level's band began */

  /* Compressing and writing tiles runs in a thread of its own, beside
   * the decoding; at most one band waits for it. */
  GThreadPool            *writer;
  GMutex                  lock;
  GCond                   cond;
  int                     pending;
  GError                 *write_error;
} Builder;

static void write_band_cb (gpointer data,
                           gpointer user_data);

static char *
tile_path (KpImagePyramid *self,
           int             level,
           int             tx,
           int             ty)
{
  char name[64];

  g_snprintf (name, sizeof name, "%d" G_DIR_SEPARATOR_S "%d_%d", level, tx, ty);
  return g_build_filename (self->cache_path, name, NULL);
}

static void
tile_extent (KpImagePyramid *self,
             int             level,
             int             tx,
             int             ty,
             int            *w,
             int            *h)
{
  int lw, lh;

  kp_image_pyramid_get_level_size (self, level, &lw, &lh);
  *w = MIN (self->tile_size, lw - tx * self->tile_size);
  *h = MIN (self->tile_size, lh - ty * self->tile_size);
}

static Builder *
builder_new (KpImagePyramid         *self,
             int                     first_level,
             int                     last_level,
             GCancellable           *cancellable,
             KpImagePyramidProgress  progress,
             gpointer                user_data)
{
  Builder *b = g_new0 (Builder, 1);
  gsize tile_bytes = (gsize)self->tile_size * self->tile_size * 4;

  b->self = self;
  b->first_level = first_level;
  b->last_level = last_level;
  b->levels = g_new0 (LevelState, last_level - first_level + 1);
  for (int level = first_level; level <= last_level; level++)
    {
      LevelState *ls = &b->levels[level - first_level];
      g_autofree char *dir = g_strdup_printf ("%s" G_DIR_SEPARATOR_S "%d", self->cache_path, level);

      kp_image_pyramid_get_level_size (self, level, &ls->width, &ls->height);
      kp_image_pyramid_get_grid (self, level, &ls->columns, &ls->rows);
      ls->band = g_malloc ((gsize)ls->width * 4 * MIN (self->tile_size, ls->height));
      ls->partial_band = -1;
      if (level < last_level)
        {
          ls->held = g_malloc ((gsize)ls->width * 4);
          ls->down = g_malloc ((gsize)((ls->width + 1) / 2) * 4);
        }
      g_mkdir_with_parents (dir, 0700);
    }
  b->tile = g_malloc (tile_bytes);
  b->bound = ZSTD_compressBound (tile_bytes);
  b->packed = g_malloc (b->bound);
  b->zstd = ZSTD_createCCtx ();
  b->cancellable = cancellable;
  b->band_start = g_get_monotonic_time ();
  b->progress = progress;
  b->partial = self->partial;
  b->user_data = user_data;
  g_mutex_init (&b->lock);
  g_cond_init (&b->cond);
  b->writer = g_thread_pool_new (write_band_cb, b, 1, TRUE, NULL);

  return b;
}

/* Waits for the writer; FALSE if it failed or was cancelled. */
static gboolean
builder_finish (Builder  *b,
                GError  **error)
{
  if (b->writer != NULL)
    {
      g_thread_pool_free (b->writer, FALSE, TRUE);
      b->writer = NULL;
    }
  if (b->write_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&b->write_error));
      return FALSE;
    }
  return !g_cancellable_set_error_if_cancelled (b->cancellable, error);
}

static void
builder_free (Builder *b)
{
  builder_finish (b, NULL);
  for (int level = b->first_level; level <= b->last_level; level++)
    {
      LevelState *ls = &b->levels[level - b->first_level];

      g_free (ls->spare);
      g_free (ls->band);
      g_free (ls->held);
      g_free (ls->down);
    }
  g_free (b->levels);
  g_free (b->tile);
  g_free (b->packed);
  ZSTD_freeCCtx (b->zstd);
  g_clear_error (&b->error);
  g_clear_error (&b->write_error);
  g_mutex_clear (&b->lock);
  g_cond_clear (&b->cond);
  g_free (b);
}

/* In the writer thread: compresses and writes the tiles of one band. */
static gboolean
write_band (Builder  *b,
            BandJob  *job,
            GError  **error)
{
  KpImagePyramid *self = b->self;
  LevelState *ls = &b->levels[job->level - b->first_level];
  gsize stride = (gsize)ls->width * 4;

  for (int tx = 0; tx < ls->columns; tx++)
    {
      int x0 = tx * self->tile_size;
      int w = MIN (self->tile_size, ls->width - x0);
      int h = job->rows;
      g_autofree char *path = NULL;
      g_autofree char *tmp = NULL;
      gsize n;

      for (int y = 0; y < h; y++)
        memcpy (b->tile + (gsize)y * w * 4, job->pixels + y * stride + (gsize)x0 * 4, (gsize)w * 4);
      n = ZSTD_compressCCtx (b->zstd, b->packed, b->bound, b->tile, (gsize)w * h * 4, ZSTD_LEVEL);
      if (ZSTD_isError (n))
        {
          g_set_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_FAILED,
                       _("Cannot compress an image tile: %s"), ZSTD_getErrorName (n));
          return FALSE;
        }
      /* Written aside then renamed: a build that is being cancelled may
       * still write the same tile as the next one. */
      path = tile_path (self, job->level, tx, job->ty);
      tmp = g_strdup_printf ("%s.%p", path, (void *)b);
      if (!g_file_set_contents_full (tmp, (const char *)b->packed, n,
                                     G_FILE_SET_CONTENTS_NONE, 0600, error))
        return FALSE;
      if (g_rename (tmp, path) != 0)
        {
          int saved = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       _("Cannot write an image tile: %s"), g_strerror (saved));
          g_unlink (tmp);
          return FALSE;
        }
      g_mutex_lock (&self->mutex);
      self->bytes_written += n;
      g_mutex_unlock (&self->mutex);
    }

  g_mutex_lock (&self->mutex);
  for (int tx = 0; tx < ls->columns; tx++)
    {
      gsize i = (gsize)job->ty * ls->columns + tx;

      /* A late partial write never demotes a finished tile. */
      if (!job->partial)
        self->done[job->level][i] = KP_IMAGE_PYRAMID_TILE_DONE;
      else if (self->done[job->level][i] != KP_IMAGE_PYRAMID_TILE_DONE)
        self->done[job->level][i] = KP_IMAGE_PYRAMID_TILE_PARTIAL;
      self->versions[job->level][i]++;
    }
  g_mutex_unlock (&self->mutex);

  {
    KpImagePyramidProgress hook = g_atomic_pointer_get (&write_hook);

    if (hook != NULL)
      hook (self, job->level, job->ty, write_hook_data);
  }
  if (job->partial)
    {
      if (b->partial != NULL)
        b->partial (self, job->level, job->ty, b->user_data);
    }
  else if (b->progress != NULL)
    b->progress (self, job->level, job->ty, b->user_data);

  return TRUE;
}

static void
write_band_cb (gpointer data,
               gpointer user_data)
{
  BandJob *job = data;
  Builder *b = user_data;
  LevelState *ls = &b->levels[job->level - b->first_level];
  GError *error = NULL;
  gboolean failed;

  g_mutex_lock (&b->lock);
  failed = b->write_error != NULL;
  g_mutex_unlock (&b->lock);

  /* After a failure or a cancellation, bands are dropped unwritten. */
  if (!failed && !g_cancellable_is_cancelled (b->cancellable) && !write_band (b, job, &error))
    {
      g_mutex_lock (&b->lock);
      if (b->write_error == NULL)
        b->write_error = g_steal_pointer (&error);
      g_mutex_unlock (&b->lock);
      g_clear_error (&error);
    }

  g_mutex_lock (&b->lock);
  if (ls->spare == NULL && !job->partial)
    ls->spare = g_steal_pointer (&job->pixels);
  b->pending--;
  g_cond_broadcast (&b->cond);
  g_mutex_unlock (&b->lock);
  g_free (job->pixels);
  g_free (job);
}

/* Hands a full band to the writer, and takes a free buffer for the next. */
static gboolean
builder_flush_band (Builder *b,
                    int      level)
{
  KpImagePyramid *self = b->self;
  LevelState *ls = &b->levels[level - b->first_level];
  BandJob *job;

  g_mutex_lock (&b->lock);
  while (b->pending > 0 && b->write_error == NULL)
    g_cond_wait (&b->cond, &b->lock);
  if (b->write_error != NULL)
    {
      g_set_error_literal (&b->error, b->write_error->domain, b->write_error->code,
                           b->write_error->message);
      g_mutex_unlock (&b->lock);
      return FALSE;
    }
  b->pending++;
  job = g_new0 (BandJob, 1);
  job->level = level;
  job->ty = (ls->rows_in - 1) / self->tile_size;
  job->rows = ls->band_fill;
  job->pixels = ls->band;
  ls->band = g_steal_pointer (&ls->spare);
  g_mutex_unlock (&b->lock);

  if (ls->band == NULL)
    ls->band = g_malloc ((gsize)ls->width * 4 * MIN (self->tile_size, ls->height));
  ls->band_fill = 0;
  g_thread_pool_push (b->writer, job, NULL);

  return TRUE;
}

/* Whether the band now filling in level gets partial writes: not if its
 * tiles are done already (a first view the exact build is replacing
 * stays whole until the exact band is complete). */
static gboolean
level_partial_ok (Builder    *b,
                  int         level,
                  LevelState *ls)
{
  KpImagePyramid *self = b->self;
  int ty = (ls->rows_in - 1) / self->tile_size;

  if (ls->band_fill == 0)
    return FALSE;
  if (ls->partial_band != ty)
    {
      gboolean done;

      g_mutex_lock (&self->mutex);
      done = self->done[level][(gsize)ty * ls->columns] == KP_IMAGE_PYRAMID_TILE_DONE;
      g_mutex_unlock (&self->mutex);
      ls->partial_band = ty;
      ls->partial_ok = !done;
      ls->partial_fill = 0;
    }
  return ls->partial_ok && ls->band_fill > ls->partial_fill;
}

/* Hands a copy of the band now filling to the writer as partial tiles,
 * without waiting: the copy is small next to the band of level 0. */
static void
builder_write_partial (Builder *b,
                       int      level)
{
  KpImagePyramid *self = b->self;
  LevelState *ls = &b->levels[level - b->first_level];
  gsize stride = (gsize)ls->width * 4;
  int ty = (ls->rows_in - 1) / self->tile_size;
  int rows = MIN (self->tile_size, ls->height - ty * self->tile_size);
  BandJob *job = g_new0 (BandJob, 1);

  job->level = level;
  job->ty = ty;
  job->rows = rows;
  job->partial = TRUE;
  job->pixels = g_malloc0 (stride * rows);
  memcpy (job->pixels, ls->band, stride * ls->band_fill);
  ls->partial_fill = ls->band_fill;

  g_mutex_lock (&b->lock);
  b->pending++;
  g_mutex_unlock (&b->lock);
  g_thread_pool_push (b->writer, job, NULL);
}

/* After a row of the overview level that did not complete its band:
 * writes the partial bands of the overview and coarser levels if it is
 * time. Only in a build from level 0, and only for images larger than
 * the overview; a quick first view (reduced JPEG, TIFF overview or
 * samples, an interlaced PNG's first pass) is done in a second or so,
 * and partial writes would only delay it. */
static void
builder_maybe_write_partial (Builder    *b,
                             LevelState *ls)
{
  KpImagePyramid *self = b->self;
  int step = MAX (PARTIAL_MIN_ROWS, self->tile_size / PARTIAL_ROWS_DIVISOR);
  gint64 now;

  if (b->first_level > 0 || self->overview_level == 0)
    return;
  if (b->partial_time == 0)
    b->partial_time = g_get_monotonic_time ();
  now = g_get_monotonic_time ();
  if (!level_partial_ok (b, self->overview_level, ls) ||
      (ls->band_fill - ls->partial_fill < step && now - b->partial_time < PARTIAL_INTERVAL_US))
    return;

  b->partial_time = now;
  for (int level = self->overview_level; level <= b->last_level; level++)
    if (level_partial_ok (b, level, &b->levels[level - b->first_level]))
      builder_write_partial (b, level);
}

static void
average_rows (const guint8 *a,
              const guint8 *c,
              int           width,
              guint8       *out)
{
  int out_width = (width + 1) / 2;

  for (int x = 0; x < out_width; x++)
    {
      const guint8 *p0 = a + x * 8;
      const guint8 *q0 = c + x * 8;
      const guint8 *p1 = 2 * x + 1 < width ? p0 + 4 : p0;
      const guint8 *q1 = 2 * x + 1 < width ? q0 + 4 : q0;

      for (int i = 0; i < 4; i++)
        out[x * 4 + i] = (guint8)((p0[i] + p1[i] + q0[i] + q1[i] + 2) >> 2);
    }
}

/* Takes one row of a level; returns FALSE with b->error set on failure. */
static gboolean
builder_push_row (Builder      *b,
                  int           level,
                  const guint8 *row)
{
  LevelState *ls = &b->levels[level - b->first_level];
  gsize stride = (gsize)ls->width * 4;

  if (ls->rows_in >= ls->height)
    return TRUE;

  memcpy (ls->band + ls->band_fill * stride, row, stride);
  ls->band_fill++;
  ls->rows_in++;
  if (level == 0)
    g_atomic_int_set (&b->self->rows_done, ls->rows_in);
  if (ls->band_fill == b->self->tile_size || ls->rows_in == ls->height)
    {
      if (g_cancellable_set_error_if_cancelled (b->cancellable, &b->error))
        return FALSE;
      if (!builder_flush_band (b, level))
        return FALSE;
      /* A build for later (the next image's) leaves the cores to what is
       * on screen half of the time: it rests as long as the band took. */
      if (level == b->first_level)
        {
          gint64 now = g_get_monotonic_time ();

          if (g_atomic_int_get (&b->self->background) && b->band_start > 0 &&
              !g_cancellable_is_cancelled (b->cancellable))
            g_usleep (MIN (now - b->band_start, G_USEC_PER_SEC / 2));
          b->band_start = g_get_monotonic_time ();
        }
    }
  else if (level == b->self->overview_level)
    builder_maybe_write_partial (b, ls);

  if (level == b->last_level)
    return TRUE;

  if (!ls->has_held)
    {
      memcpy (ls->held, row, stride);
      ls->has_held = TRUE;
      if (ls->rows_in == ls->height)
        {
          average_rows (ls->held, ls->held, ls->width, ls->down);
          ls->has_held = FALSE;
          return builder_push_row (b, level + 1, ls->down);
        }
      return TRUE;
    }

  average_rows (ls->held, row, ls->width, ls->down);
  ls->has_held = FALSE;
  return builder_push_row (b, level + 1, ls->down);
}

/* JPEG */

typedef struct
{
  struct jpeg_error_mgr pub;
  jmp_buf               jump;
  char                  message[JMSG_LENGTH_MAX];
  char                  warning[JMSG_LENGTH_MAX];
} JpegError;

static void
jpeg_error_exit_cb (j_common_ptr cinfo)
{
  JpegError *err = (JpegError *)cinfo->err;

  err->pub.format_message (cinfo, err->message);
  longjmp (err->jump, 1);
}

static void
jpeg_emit_message_cb (j_common_ptr cinfo,
                      int          msg_level)
{
  JpegError *err = (JpegError *)cinfo->err;

  /* Level -1 is a warning (corrupt data); keep the first one. */
  if (msg_level < 0)
    {
      if (err->warning[0] == '\0')
        err->pub.format_message (cinfo, err->warning);
      err->pub.num_warnings++;
    }
}

static void
jpeg_output_message_cb (j_common_ptr cinfo)
{
  (void)cinfo;
}

static void
jpeg_error_init (struct jpeg_decompress_struct *cinfo,
                 JpegError                     *err)
{
  memset (err, 0, sizeof *err);
  cinfo->err = jpeg_std_error (&err->pub);
  err->pub.error_exit = jpeg_error_exit_cb;
  err->pub.emit_message = jpeg_emit_message_cb;
  err->pub.output_message = jpeg_output_message_cb;
}

static gboolean
jpeg_read_size (KpImagePyramid *self,
                GError        **error)
{
  struct jpeg_decompress_struct cinfo;
  JpegError err;
  FILE *fp = g_fopen (self->path, "rb");

  if (fp == NULL)
    {
      set_error (error, KP_MEDIA_ERROR_UNREADABLE, self->path, g_strerror (errno));
      return FALSE;
    }
  jpeg_error_init (&cinfo, &err);
  if (setjmp (err.jump))
    {
      jpeg_destroy_decompress (&cinfo);
      fclose (fp);
      set_corrupt (error, self->path, err.message);
      return FALSE;
    }
  jpeg_create_decompress (&cinfo);
  jpeg_stdio_src (&cinfo, fp);
  jpeg_read_header (&cinfo, TRUE);
  self->width = cinfo.image_width;
  self->height = cinfo.image_height;
  jpeg_destroy_decompress (&cinfo);
  fclose (fp);

  return TRUE;
}

/* Decodes the JPEG at 1 / 2^level of its size (DCT scaling) and streams
 * its rows into the builder at that level. */
static gboolean
jpeg_decode (KpImagePyramid *self,
             Builder        *b,
             int             level,
             GError        **error)
{
  struct jpeg_decompress_struct cinfo;
  JpegError err;
  FILE *fp = g_fopen (self->path, "rb");
  guint8 *volatile rows = NULL;
  guint8 *volatile out = NULL;
  gboolean cmyk = FALSE;
  JSAMPROW pointers[16];
  int lw, lh;

  if (fp == NULL)
    {
      set_error (error, KP_MEDIA_ERROR_UNREADABLE, self->path, g_strerror (errno));
      return FALSE;
    }
  kp_image_pyramid_get_level_size (self, level, &lw, &lh);
  jpeg_error_init (&cinfo, &err);
  if (setjmp (err.jump))
    {
      jpeg_destroy_decompress (&cinfo);
      fclose (fp);
      g_free (rows);
      g_free (out);
      if (b->error != NULL)
        g_propagate_error (error, g_steal_pointer (&b->error));
      else
        set_corrupt (error, self->path, err.message);
      return FALSE;
    }
  jpeg_create_decompress (&cinfo);
  cinfo.mem->max_memory_to_use = JPEG_MAX_MEMORY;
  jpeg_stdio_src (&cinfo, fp);
  jpeg_read_header (&cinfo, TRUE);
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK)
    {
      cinfo.out_color_space = JCS_CMYK;
      cmyk = TRUE;
    }
  else
    {
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
      cinfo.out_color_space = JCS_EXT_BGRA;
#else
      cinfo.out_color_space = JCS_EXT_ARGB;
#endif
    }
  cinfo.scale_num = 1;
  cinfo.scale_denom = 1u << level;
  jpeg_start_decompress (&cinfo);
  if ((int)cinfo.output_width != lw || (int)cinfo.output_height != lh)
    {
      /* Not a DCT scale libjpeg offers for this image: a bug of ours. */
      g_snprintf (err.message, sizeof err.message, "unexpected scaled size %ux%u",
                  cinfo.output_width, cinfo.output_height);
      longjmp (err.jump, 1);
    }
  rows = g_malloc ((gsize)lw * 4 * G_N_ELEMENTS (pointers));
  if (cmyk)
    out = g_malloc ((gsize)lw * 4);
  while (cinfo.output_scanline < cinfo.output_height)
    {
      int n_max = MIN ((int)G_N_ELEMENTS (pointers), MAX (1, cinfo.rec_outbuf_height));
      int n;

      for (int i = 0; i < n_max; i++)
        pointers[i] = rows + (gsize)i * lw * 4;
      n = jpeg_read_scanlines (&cinfo, pointers, n_max);
      for (int i = 0; i < n; i++)
        {
          const guint8 *row = pointers[i];

          if (cmyk)
            {
              /* Adobe writes CMYK inverted: these are 255 - ink. */
              for (int x = 0; x < lw; x++)
                {
                  const guint8 *p = row + x * 4;

                  put_pixel (out + x * 4, p[0] * p[3] / 255, p[1] * p[3] / 255,
                             p[2] * p[3] / 255, 255);
                }
              row = out;
            }
          if (!builder_push_row (b, level, row))
            longjmp (err.jump, 1);
        }
    }
  if (err.warning[0] != '\0')
    {
      g_mutex_lock (&self->mutex);
      if (self->warning == NULL)
        self->warning = g_strdup (err.warning);
      g_mutex_unlock (&self->mutex);
    }
  jpeg_finish_decompress (&cinfo);
  jpeg_destroy_decompress (&cinfo);
  fclose (fp);
  g_free (rows);
  g_free (out);

  return TRUE;
}

/* PNG */

typedef struct
{
  jmp_buf jump;
  char    message[256];
} PngError;

static void
png_error_cb (png_structp      png,
              png_const_charp  message)
{
  PngError *err = png_get_error_ptr (png);

  g_strlcpy (err->message, message, sizeof err->message);
  longjmp (err->jump, 1);
}

static void
png_warning_cb (png_structp      png,
                png_const_charp  message)
{
  (void)png;
  g_debug ("PNG warning: %s", message);
}

/* An interlaced PNG's even rows, kept in a temporary file until their
 * odd partners arrive in the last pass: the file is unlinked at once, so
 * nothing is left behind whatever happens. */
static int
png_open_even_rows (KpImagePyramid  *self,
                    GError         **error)
{
  g_autofree char *path = g_build_filename (self->cache_path, "interlaced-XXXXXX", NULL);
  int fd = g_mkstemp_full (path, O_RDWR, 0600);

  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot create a temporary file for an interlaced image: %s"),
                   g_strerror (saved));
      return -1;
    }
  g_unlink (path);

  return fd;
}

/* Reads (or writes) even row y of an image h rows high, stride bytes;
 * rows never written read as zero. The rows are stored in the order the
 * passes first reach them: y % 8 == 0 (passes 1 and 2), then y % 8 == 4
 * (pass 3), then y % 4 == 2 (pass 5), so each pass fills the file in
 * order rather than all over it. */
static gboolean
png_even_row_io (int           fd,
                 gboolean      write,
                 guint8       *row,
                 gsize         stride,
                 png_uint_32   y,
                 png_uint_32   h,
                 GError      **error)
{
  png_uint_32 n0 = (h + 7) / 8, n4 = (h + 3) / 8, index;
  off_t offset;
  gsize done = 0;

  if (y % 8 == 0)
    index = y / 8;
  else if (y % 8 == 4)
    index = n0 + y / 8;
  else
    index = n0 + n4 + y / 4;
  offset = (off_t)index * (off_t)stride;

  while (done < stride)
    {
      ssize_t n = write ? pwrite (fd, row + done, stride - done, offset + done)
                        : pread (fd, row + done, stride - done, offset + done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       write ? _("Cannot write a temporary file for an interlaced image: %s")
                             : _("Cannot read a temporary file for an interlaced image: %s"),
                       g_strerror (saved));
          return FALSE;
        }
      if (n == 0)
        {
          if (write)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                           _("Cannot write a temporary file for an interlaced image: %s"),
                           g_strerror (ENOSPC));
              return FALSE;
            }
          memset (row + done, 0, stride - done);
          break;
        }
      done += n;
    }

  return TRUE;
}

/* Turns a row as libpng gives it into cairo's ARGB32, in place. On a
 * little-endian machine libpng already orders the bytes B, G, R, A (see
 * png_set_bgr below), so an opaque row is ready as it is. */
static void
png_convert_row (guint8      *row,
                 png_uint_32  w,
                 gboolean     alpha)
{
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  if (!alpha)
    return;
  for (png_uint_32 x = 0; x < w; x++)
    {
      guint8 *p = row + x * 4;
      guint8 a = p[3];

      if (a != 255)
        {
          p[0] = premul (p[0], a);
          p[1] = premul (p[1], a);
          p[2] = premul (p[2], a);
        }
    }
#else
  (void)alpha;
  for (png_uint_32 x = 0; x < w; x++)
    {
      guint8 *p = row + x * 4;

      put_pixel (p, p[0], p[1], p[2], p[3]);
    }
#endif
}

/* The first pass of Adam7 holds every 8th pixel of every 8th row: a point
 * sampled level 3. This is its first level (0: no first view). */
#define PNG_FIRST_VIEW_LEVEL 3

static gboolean
png_decode (KpImagePyramid *self,
            Builder        *b,
            GError        **error)
{
  PngError err = { 0 };
  FILE *fp = g_fopen (self->path, "rb");
  png_structp png;
  png_infop info = NULL;
  guint8 *volatile row = NULL;
  guint8 *volatile sample = NULL;
  Builder *volatile first = NULL;
  GError *volatile local_error = NULL;
  volatile int fd = -1;
  png_uint_32 w, h;
  int depth, color, interlace, passes;
  gboolean alpha;

  if (fp == NULL)
    {
      set_error (error, KP_MEDIA_ERROR_UNREADABLE, self->path, g_strerror (errno));
      return FALSE;
    }
  png = png_create_read_struct (PNG_LIBPNG_VER_STRING, &err, png_error_cb, png_warning_cb);
  if (png == NULL || (info = png_create_info_struct (png)) == NULL)
    {
      png_destroy_read_struct (&png, NULL, NULL);
      fclose (fp);
      set_error (error, KP_MEDIA_ERROR_FAILED, self->path, NULL);
      return FALSE;
    }
  if (setjmp (err.jump))
    {
      png_destroy_read_struct (&png, &info, NULL);
      fclose (fp);
      if (fd >= 0)
        close (fd);
      if (first != NULL)
        builder_free (first);
      g_free (row);
      g_free (sample);
      if (local_error != NULL)
        g_propagate_error (error, local_error);
      else if (b != NULL && b->error != NULL)
        g_propagate_error (error, g_steal_pointer (&b->error));
      else
        set_corrupt (error, self->path, err.message);
      return FALSE;
    }
  png_init_io (png, fp);
  png_read_info (png, info);
  png_get_IHDR (png, info, &w, &h, &depth, &color, &interlace, NULL, NULL);
  if (b == NULL)
    {
      /* Only the size was wanted. */
      self->width = w;
      self->height = h;
      png_destroy_read_struct (&png, &info, NULL);
      fclose (fp);
      return TRUE;
    }

  alpha = (color & PNG_COLOR_MASK_ALPHA) != 0 || png_get_valid (png, info, PNG_INFO_tRNS);
  png_set_expand (png);
  png_set_strip_16 (png);
  png_set_gray_to_rgb (png);
  if (!alpha)
    png_set_filler (png, 0xff, PNG_FILLER_AFTER);
#if G_BYTE_ORDER == G_LITTLE_ENDIAN
  png_set_bgr (png);
#endif
  passes = png_set_interlace_handling (png);
  png_read_update_info (png, info);

  row = g_malloc ((gsize)w * 4);
  if (passes == 1)
    {
      for (png_uint_32 y = 0; y < h; y++)
        {
          png_read_row (png, row, NULL);
          png_convert_row (row, w, alpha);
          if (!builder_push_row (b, 0, row))
            longjmp (err.jump, 1);
        }
    }
  else
    {
      /* Adam7 sends the whole image seven times, ever finer: passes 1 to
       * 6 fill the even rows (kept on disk meanwhile), pass 7 brings the
       * odd rows in order, each pushed after its even partner. */
      gsize stride = (gsize)w * 4;
      png_uint_32 next_even = 0;
      GError *io_error = NULL;
      int first_columns = 0;

      fd = png_open_even_rows (self, &io_error);
      if (fd < 0)
        {
          local_error = io_error;
          longjmp (err.jump, 1);
        }
      if (self->n_levels > PNG_FIRST_VIEW_LEVEL && b->first_level == 0)
        {
          kp_image_pyramid_get_level_size (self, PNG_FIRST_VIEW_LEVEL, &first_columns, NULL);
          g_assert ((png_uint_32)first_columns == (w + 7) / 8);
          first = builder_new (self, PNG_FIRST_VIEW_LEVEL, self->n_levels - 1,
                               b->cancellable, b->progress, b->user_data);
          sample = g_malloc ((gsize)first_columns * 4);
        }

      for (int pass = 0; pass < passes; pass++)
        {
          for (png_uint_32 y = 0; y < h; y++)
            {
              /* Passes 2 to 6 push no row: look for cancellation here. */
              if (y % 64 == 0 && g_cancellable_set_error_if_cancelled (b->cancellable, &io_error))
                {
                  local_error = io_error;
                  longjmp (err.jump, 1);
                }
              if (!PNG_ROW_IN_INTERLACE_PASS (y, pass))
                {
                  png_read_row (png, NULL, NULL);
                  continue;
                }
              if (pass == 6)
                {
                  /* An odd row: its even partner first. */
                  if (!png_even_row_io (fd, FALSE, row, stride, y - 1, h, &io_error))
                    {
                      local_error = io_error;
                      longjmp (err.jump, 1);
                    }
                  png_convert_row (row, w, alpha);
                  if (!builder_push_row (b, 0, row))
                    longjmp (err.jump, 1);
                  png_read_row (png, row, NULL);
                  png_convert_row (row, w, alpha);
                  if (!builder_push_row (b, 0, row))
                    longjmp (err.jump, 1);
                  next_even = y + 1;
                  continue;
                }

              /* libpng puts this pass's pixels into the row, leaving the
               * others as they are. */
              if (pass == 0)
                memset (row, 0, stride);
              else if (!png_even_row_io (fd, FALSE, row, stride, y, h, &io_error))
                {
                  local_error = io_error;
                  longjmp (err.jump, 1);
                }
              png_read_row (png, row, NULL);
              if (!png_even_row_io (fd, TRUE, row, stride, y, h, &io_error))
                {
                  local_error = io_error;
                  longjmp (err.jump, 1);
                }
              if (pass == 0 && first != NULL)
                {
                  for (int x = 0; x < first_columns; x++)
                    memcpy (sample + x * 4, row + (gsize)x * 32, 4);
                  png_convert_row (sample, first_columns, alpha);
                  if (!builder_push_row (first, PNG_FIRST_VIEW_LEVEL, sample))
                    {
                      local_error = g_steal_pointer (&first->error);
                      longjmp (err.jump, 1);
                    }
                }
            }

          if (pass == 0 && first != NULL)
            {
              /* The first view is on disk before the rest is decoded. */
              gboolean ok = builder_finish (first, &io_error);

              builder_free (first);
              first = NULL;
              if (!ok)
                {
                  local_error = io_error;
                  longjmp (err.jump, 1);
                }
            }
        }

      /* The last row, if even, has no partner. */
      for (png_uint_32 y = next_even; y < h; y += 2)
        {
          if (!png_even_row_io (fd, FALSE, row, stride, y, h, &io_error))
            {
              local_error = io_error;
              longjmp (err.jump, 1);
            }
          png_convert_row (row, w, alpha);
          if (!builder_push_row (b, 0, row))
            longjmp (err.jump, 1);
        }
      close (fd);
      fd = -1;
    }
  png_read_end (png, NULL);
  png_destroy_read_struct (&png, &info, NULL);
  fclose (fp);
  g_free (row);
  g_free (sample);

  return TRUE;
}

/* TIFF */

typedef struct
{
  char message[256];
} TiffError;

static int
tiff_error_cb (TIFF       *tif,
               void       *user_data,
               const char *module,
               const char *fmt,
               va_list     ap)
{
  TiffError *err = user_data;

  (void)tif;
  (void)module;
  if (err->message[0] == '\0')
    g_vsnprintf (err->message, sizeof err->message, fmt, ap);
  return 1;
}

static int
tiff_warning_cb (TIFF       *tif,
                 void       *user_data,
                 const char *module,
                 const char *fmt,
                 va_list     ap)
{
  (void)tif;
  (void)user_data;
  (void)module;
  (void)fmt;
  (void)ap;
  return 1;
}

static TIFF *
tiff_open (const char *path,
           TiffError  *err)
{
  TIFFOpenOptions *options = TIFFOpenOptionsAlloc ();
  TIFF *tif;

  TIFFOpenOptionsSetErrorHandlerExtR (options, tiff_error_cb, err);
  TIFFOpenOptionsSetWarningHandlerExtR (options, tiff_warning_cb, err);
  tif = TIFFOpenExt (path, "r", options);
  TIFFOpenOptionsFree (options);

  return tif;
}

static gboolean
tiff_read_size (KpImagePyramid *self,
                GError        **error)
{
  TiffError err = { { 0 } };
  TIFF *tif = tiff_open (self->path, &err);
  guint32 w = 0, h = 0;

  if (tif == NULL)
    {
      set_corrupt (error, self->path, err.message);
      return FALSE;
    }
  TIFFGetField (tif, TIFFTAG_IMAGEWIDTH, &w);
  TIFFGetField (tif, TIFFTAG_IMAGELENGTH, &h);
  TIFFClose (tif);
  self->width = w;
  self->height = h;

  return TRUE;
}

static inline void
put_abgr (guint8  *out,
          guint32  abgr)
{
  /* TIFFRGBAImage gives premultiplied (associated) alpha. */
  guint32 v = (TIFFGetA (abgr) << 24) | (TIFFGetR (abgr) << 16) | (TIFFGetG (abgr) << 8) | TIFFGetB (abgr);

  memcpy (out, &v, 4);
}

static gboolean
tiff_decode (KpImagePyramid *self,
             Builder        *b,
             GError        **error)
{
  TiffError err = { { 0 } };
  TIFF *tif = tiff_open (self->path, &err);
  guint16 bps = 0, spp = 0, planar = 0, photometric = 0, n_extra = 0;
  guint16 *extra = NULL;
  guint32 w = self->width, h = self->height;
  g_autofree guint8 *out = NULL;
  g_autofree guint8 *line = NULL;
  g_autofree guint32 *raster = NULL;
  gboolean ok = TRUE;

  if (tif == NULL)
    {
      set_corrupt (error, self->path, err.message);
      return FALSE;
    }
  TIFFGetFieldDefaulted (tif, TIFFTAG_BITSPERSAMPLE, &bps);
  TIFFGetFieldDefaulted (tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted (tif, TIFFTAG_PLANARCONFIG, &planar);
  TIFFGetField (tif, TIFFTAG_PHOTOMETRIC, &photometric);
  TIFFGetFieldDefaulted (tif, TIFFTAG_EXTRASAMPLES, &n_extra, &extra);
  out = g_malloc ((gsize)w * 4);

  if (!TIFFIsTiled (tif) && bps == 8 && planar == PLANARCONFIG_CONTIG &&
      ((photometric == PHOTOMETRIC_RGB && (spp == 3 || spp == 4)) ||
       (photometric == PHOTOMETRIC_MINISBLACK && (spp == 1 || spp == 2))))
    {
      /* The common case: 8-bit scanlines, read one after another. */
      gboolean has_alpha = spp == 4 || spp == 2;
      gboolean associated = has_alpha && n_extra > 0 && extra[0] == EXTRASAMPLE_ASSOCALPHA;

      line = g_malloc (TIFFScanlineSize (tif));
      for (guint32 y = 0; y < h && ok; y++)
        {
          if (TIFFReadScanline (tif, line, y, 0) < 0)
            {
              ok = FALSE;
              break;
            }
          for (guint32 x = 0; x < w; x++)
            {
              const guint8 *p = line + (gsize)x * spp;
              guint8 r, g, bl, a = has_alpha ? p[spp - 1] : 255;
              guint32 v;

              if (spp >= 3)
                r = p[0], g = p[1], bl = p[2];
              else
                r = g = bl = p[0];
              if (associated)
                {
                  v = ((guint32)a << 24) | ((guint32)r << 16) | ((guint32)g << 8) | bl;
                  memcpy (out + x * 4, &v, 4);
                }
              else
                put_pixel (out + x * 4, r, g, bl, a);
            }
          if (!builder_push_row (b, 0, out))
            goto fail_builder;
        }
    }
  else if (TIFFIsTiled (tif))
    {
      guint32 tw = 0, th = 0;

      TIFFGetField (tif, TIFFTAG_TILEWIDTH, &tw);
      TIFFGetField (tif, TIFFTAG_TILELENGTH, &th);
      if (tw == 0 || th == 0 || (gsize)w * th * 4 > MAX_WHOLE_BYTES)
        {
          ok = FALSE;
          g_strlcpy (err.message, _("its tiles are too large"), sizeof err.message);
        }
      else
        {
          /* One row of TIFF tiles at a time, each read bottom-up. */
          g_autofree guint32 *band = g_malloc ((gsize)w * th * 4);

          raster = g_malloc ((gsize)tw * th * 4);
          for (guint32 y0 = 0; y0 < h && ok; y0 += th)
            {
              guint32 rows = MIN (th, h - y0);

              for (guint32 x0 = 0; x0 < w; x0 += tw)
                {
                  guint32 cols = MIN (tw, w - x0);

                  if (!TIFFReadRGBATile (tif, x0, y0, raster))
                    {
                      ok = FALSE;
                      break;
                    }
                  for (guint32 r = 0; r < rows; r++)
                    memcpy (band + (gsize)r * w + x0, raster + (gsize)(th - 1 - r) * tw,
                            (gsize)cols * 4);
                }
              for (guint32 r = 0; r < rows && ok; r++)
                {
                  for (guint32 x = 0; x < w; x++)
                    put_abgr (out + x * 4, band[(gsize)r * w + x]);
                  if (!builder_push_row (b, 0, out))
                    goto fail_builder;
                }
            }
        }
    }
  else
    {
      guint32 rows_per_strip = h;

      TIFFGetFieldDefaulted (tif, TIFFTAG_ROWSPERSTRIP, &rows_per_strip);
      rows_per_strip = MIN (rows_per_strip, h);
      if ((gsize)w * rows_per_strip * 4 > MAX_WHOLE_BYTES)
        {
          ok = FALSE;
          g_strlcpy (err.message, _("its strips are too large"), sizeof err.message);
        }
      else
        {
          raster = g_malloc ((gsize)w * rows_per_strip * 4);
          for (guint32 y0 = 0; y0 < h && ok; y0 += rows_per_strip)
            {
              guint32 rows = MIN (rows_per_strip, h - y0);

              if (!TIFFReadRGBAStrip (tif, y0, raster))
                {
                  ok = FALSE;
                  break;
                }
              for (guint32 r = 0; r < rows; r++)
                {
                  const guint32 *src = raster + (gsize)(rows - 1 - r) * w;

                  for (guint32 x = 0; x < w; x++)
                    put_abgr (out + x * 4, src[x]);
                  if (!builder_push_row (b, 0, out))
                    goto fail_builder;
                }
            }
        }
    }

  TIFFClose (tif);
  if (!ok)
    set_corrupt (error, self->path, err.message);
  return ok;

fail_builder:
  TIFFClose (tif);
  g_propagate_error (error, g_steal_pointer (&b->error));
  return FALSE;
}

/* Reduced-resolution images (FILETYPE_REDUCEDIMAGE IFDs or SubIFDs) that
 * large TIFFs (slides, GeoTIFF) carry beside the full image. */

#define TIFF_OVERVIEW_SIDE     4096
#define TIFF_OVERVIEW_MAX_SIDE 8192

typedef struct
{
  gboolean found;
  gboolean sub;        /* a SubIFD (offset) rather than a directory index */
  tdir_t   dir;
  toff_t   offset;
  guint32  width;
  guint32  height;
} TiffOverview;

/* Whether a w × h reduced image of the self->width × self->height one is
 * consistent: smaller, and the same aspect ratio within 1 %. */
static gboolean
tiff_overview_consistent (KpImagePyramid *self,
                          guint32         w,
                          guint32         h)
{
  double a, b;

  if (w == 0 || h == 0 || (int)w >= self->width || (int)h >= self->height)
    return FALSE;
  a = (double)self->width / self->height;
  b = (double)w / h;
  return fabs (a - b) <= 0.01 * a;
}

static void
tiff_overview_consider (KpImagePyramid *self,
                        TIFF           *tif,
                        TiffOverview   *best,
                        gboolean        sub,
                        tdir_t          dir,
                        toff_t          offset)
{
  guint32 w = 0, h = 0, side, best_side;

  TIFFGetField (tif, TIFFTAG_IMAGEWIDTH, &w);
  TIFFGetField (tif, TIFFTAG_IMAGELENGTH, &h);
  if (!tiff_overview_consistent (self, w, h))
    {
      g_debug ("%s: ignoring a %ux%u reduced image of a %dx%d one",
               self->path, w, h, self->width, self->height);
      return;
    }
  side = MAX (w, h);
  if (side > TIFF_OVERVIEW_MAX_SIDE)
    return;
  best_side = MAX (best->width, best->height);
  /* The largest at most TIFF_OVERVIEW_SIDE, else the smallest. */
  if (best->found &&
      !(side <= TIFF_OVERVIEW_SIDE
        ? best_side > TIFF_OVERVIEW_SIDE || side > best_side
        : best_side > TIFF_OVERVIEW_SIDE && side < best_side))
    return;
  best->found = TRUE;
  best->sub = sub;
  best->dir = dir;
  best->offset = offset;
  best->width = w;
  best->height = h;
}

/* Finds the reduced image to make the coarse levels from. */
static gboolean
tiff_find_overview (KpImagePyramid *self,
                    TiffOverview   *best)
{
  TiffError err = { { 0 } };
  TIFF *tif = tiff_open (self->path, &err);
  guint16 n_sub = 0;
  toff_t *subs = NULL;
  g_autofree toff_t *offsets = NULL;
  tdir_t n_dirs;

  memset (best, 0, sizeof *best);
  if (tif == NULL)
    return FALSE;
  n_dirs = TIFFNumberOfDirectories (tif);
  if (TIFFGetField (tif, TIFFTAG_SUBIFD, &n_sub, &subs) && n_sub > 0)
    offsets = g_memdup2 (subs, sizeof (toff_t) * n_sub);
  for (tdir_t d = 1; d < n_dirs; d++)
    {
      guint32 type = 0;

      if (!TIFFSetDirectory (tif, d))
        break;
      if (TIFFGetField (tif, TIFFTAG_SUBFILETYPE, &type) && (type & FILETYPE_REDUCEDIMAGE) != 0)
        tiff_overview_consider (self, tif, best, FALSE, d, 0);
    }
  for (guint16 i = 0; offsets != NULL && i < n_sub; i++)
    {
      if (TIFFSetSubDirectory (tif, offsets[i]))
        tiff_overview_consider (self, tif, best, TRUE, 0, offsets[i]);
    }
  TIFFClose (tif);

  return best->found;
}

/* Decodes the reduced image ov and streams it, scaled by area averages
 * to the size of level (which it covers), into the builder. FALSE with
 * *error set if the builder failed; FALSE without it if the reduced
 * image cannot be read (the caller then does without it). */
static gboolean
tiff_overview_decode (KpImagePyramid      *self,
                      const TiffOverview  *ov,
                      Builder             *b,
                      int                  level,
                      GError             **error)
{
  TiffError err = { { 0 } };
  TIFF *tif = tiff_open (self->path, &err);
  g_autofree guint32 *raster = NULL;
  g_autofree guint8 *out = NULL;
  guint32 w = 0, h = 0;
  int lw, lh;
  gboolean ok;

  if (tif == NULL)
    return FALSE;
  ok = ov->sub ? TIFFSetSubDirectory (tif, ov->offset) : TIFFSetDirectory (tif, ov->dir);
  if (ok)
    {
      TIFFGetField (tif, TIFFTAG_IMAGEWIDTH, &w);
      TIFFGetField (tif, TIFFTAG_IMAGELENGTH, &h);
      ok = w == ov->width && h == ov->height;
    }
  if (ok)
    {
      /* Any error while reading, even one libtiff would go past, means
       * a damaged reduced image. */
      err.message[0] = '\0';
      raster = g_try_malloc ((gsize)w * h * 4);
      ok = raster != NULL &&
           TIFFReadRGBAImageOriented (tif, w, h, raster, ORIENTATION_TOPLEFT, 1) &&
           err.message[0] == '\0';
    }
  TIFFClose (tif);
  if (!ok)
    {
      g_debug ("%s: cannot read its %ux%u reduced image: %s", self->path,
               ov->width, ov->height, err.message);
      return FALSE;
    }

  kp_image_pyramid_get_level_size (self, level, &lw, &lh);
  out = g_malloc ((gsize)lw * 4);
  for (int y = 0; y < lh; y++)
    {
      guint32 y0 = (guint64)y * h / lh, y1 = MAX (y0 + 1, (guint64)(y + 1) * h / lh);

      for (int x = 0; x < lw; x++)
        {
          guint32 x0 = (guint64)x * w / lw, x1 = MAX (x0 + 1, (guint64)(x + 1) * w / lw);
          guint32 sum[4] = { 0 }, n = (y1 - y0) * (x1 - x0);
          guint32 v;

          for (guint32 sy = y0; sy < y1; sy++)
            for (guint32 sx = x0; sx < x1; sx++)
              {
                guint32 p = raster[(gsize)sy * w + sx];

                sum[0] += TIFFGetR (p);
                sum[1] += TIFFGetG (p);
                sum[2] += TIFFGetB (p);
                sum[3] += TIFFGetA (p);
              }
          /* Premultiplied already, as put_abgr expects. */
          v = (((sum[3] + n / 2) / n) << 24) | (((sum[0] + n / 2) / n) << 16) |
              (((sum[1] + n / 2) / n) << 8) | ((sum[2] + n / 2) / n);
          memcpy (out + (gsize)x * 4, &v, 4);
        }
      if (!builder_push_row (b, level, out))
        {
          g_propagate_error (error, g_steal_pointer (&b->error));
          return FALSE;
        }
    }

  return TRUE;
}

/* A first view of a TIFF without reduced images: strips and tiles are
 * compressed independently, so only the strips (or rows of tiles) of
 * every TIFF_SAMPLE_STRIDE-th band are decoded, about 1/16 of the rows,
 * and the coarse levels are made from those: the nearest decoded row in
 * y, box averages in x. */

#define TIFF_SAMPLE_STRIDE    16
#define TIFF_SAMPLE_MIN_BANDS (4 * TIFF_SAMPLE_STRIDE)
#define TIFF_SAMPLE_MAX_SIDE  2048

/* The level a sampled first view is made at, or 0 if there is none to
 * make: too few strips to skip any, or bands too large to hold. */
static int
tiff_sample_level (KpImagePyramid *self)
{
  TiffError err = { { 0 } };
  TIFF *tif = tiff_open (self->path, &err);
  guint32 band = 0, w = self->width, h = self->height;
  int level;

  if (tif == NULL)
    return 0;
  if (TIFFIsTiled (tif))
    TIFFGetField (tif, TIFFTAG_TILELENGTH, &band);
  else
    TIFFGetFieldDefaulted (tif, TIFFTAG_ROWSPERSTRIP, &band);
  TIFFClose (tif);
  band = MIN (band, h);
  if (band == 0 || (h + band - 1) / band < TIFF_SAMPLE_MIN_BANDS ||
      (gsize)w * band * 4 > MAX_WHOLE_BYTES)
    return 0;
  for (level = 1; level < self->n_levels; level++)
    {
      int lw, lh;

      kp_image_pyramid_get_level_size (self, level, &lw, &lh);
      if (MAX (lw, lh) <= TIFF_SAMPLE_MAX_SIDE)
        return level;
    }
  return 0;
}

/* Decodes band number index (rows y0 … y0 + rows - 1) into raster, top
 * row first, w pixels a row. */
static gboolean
tiff_sample_read_band (TIFF      *tif,
                       TiffError *err,
                       gboolean   tiled,
                       guint32    w,
                       guint32    tw,
                       guint32    band,
                       guint32    y0,
                       guint32    rows,
                       guint32   *tile,
                       guint32   *raster)
{
  err->message[0] = '\0';
  if (!tiled)
    {
      if (!TIFFReadRGBAStripExt (tif, y0, raster, 1) || err->message[0] != '\0')
        return FALSE;
      /* Bottom-up: turn it over. */
      for (guint32 r = 0; r < rows / 2; r++)
        for (guint32 x = 0; x < w; x++)
          {
            guint32 t = raster[(gsize)r * w + x];

            raster[(gsize)r * w + x] = raster[(gsize)(rows - 1 - r) * w + x];
            raster[(gsize)(rows - 1 - r) * w + x] = t;
          }
      return TRUE;
    }
  for (guint32 x0 = 0; x0 < w; x0 += tw)
    {
      guint32 cols = MIN (tw, w - x0);

      if (!TIFFReadRGBATileExt (tif, x0, y0, tile, 1) || err->message[0] != '\0')
        return FALSE;
      for (guint32 r = 0; r < rows; r++)
        memcpy (raster + (gsize)r * w + x0, tile + (gsize)(band - 1 - r) * tw, (gsize)cols * 4);
    }
  return TRUE;
}

/* Streams the sampled first view into level of b. FALSE with *error set
 * if the builder failed; FALSE without it if a strip or tile cannot be
 * read (the caller then does without a first view). */
static gboolean
tiff_sample_decode (KpImagePyramid  *self,
                    Builder         *b,
                    int              level,
                    GError         **error)
{
  TiffError err = { { 0 } };
  TIFF *tif = tiff_open (self->path, &err);
  guint32 w = self->width, h = self->height, band = 0, tw = 0, n_bands;
  g_autofree guint32 *raster = NULL;
  g_autofree guint32 *tile = NULL;
  g_autofree guint8 *out = NULL;
  gboolean tiled;
  guint32 loaded = G_MAXUINT32;
  int lw, lh;

  if (tif == NULL)
    return FALSE;
  tiled = TIFFIsTiled (tif);
  if (tiled)
    {
      TIFFGetField (tif, TIFFTAG_TILEWIDTH, &tw);
      TIFFGetField (tif, TIFFTAG_TILELENGTH, &band);
      if (tw == 0 || band == 0)
        {
          TIFFClose (tif);
          return FALSE;
        }
      tile = g_malloc ((gsize)tw * band * 4);
    }
  else
    {
      TIFFGetFieldDefaulted (tif, TIFFTAG_ROWSPERSTRIP, &band);
      band = MIN (band, h);
    }
  n_bands = (h + band - 1) / band;
  raster = g_malloc ((gsize)w * band * 4);
  kp_image_pyramid_get_level_size (self, level, &lw, &lh);
  out = g_malloc ((gsize)lw * 4);

  for (int y = 0; y < lh; y++)
    {
      /* The source row at the middle of the output row, then the nearest
       * row of a decoded band (every TIFF_SAMPLE_STRIDE-th one). */
      guint32 sy = MIN (h - 1, (guint32)(((guint64)2 * y + 1) * h / (2 * (guint64)lh)));
      guint32 lo = sy / band / TIFF_SAMPLE_STRIDE * TIFF_SAMPLE_STRIDE;
      guint32 hi = lo + TIFF_SAMPLE_STRIDE;
      guint32 lo_last = MIN (h, (lo + 1) * band) - 1;
      guint32 pick, row, rows;

      if (sy <= lo_last)
        pick = lo, row = sy;
      else if (hi < n_bands && hi * band - sy < sy - lo_last)
        pick = hi, row = hi * band;
      else
        pick = lo, row = lo_last;
      rows = MIN (band, h - pick * band);
      if (pick != loaded)
        {
          if (!tiff_sample_read_band (tif, &err, tiled, w, tw, band, pick * band, rows, tile, raster))
            {
              g_debug ("%s: cannot read a band for its first view: %s", self->path, err.message);
              TIFFClose (tif);
              return FALSE;
            }
          loaded = pick;
        }

      for (int x = 0; x < lw; x++)
        {
          guint32 x0 = (guint64)x * w / lw, x1 = MAX (x0 + 1, (guint64)(x + 1) * w / lw);
          const guint32 *src = raster + (gsize)(row - pick * band) * w;
          guint32 sum[4] = { 0 }, n = x1 - x0, v;

          for (guint32 sx = x0; sx < x1; sx++)
            {
              sum[0] += TIFFGetR (src[sx]);
              sum[1] += TIFFGetG (src[sx]);
              sum[2] += TIFFGetB (src[sx]);
              sum[3] += TIFFGetA (src[sx]);
            }
          /* Premultiplied already, as put_abgr expects. */
          v = (((sum[3] + n / 2) / n) << 24) | (((sum[0] + n / 2) / n) << 16) |
              (((sum[1] + n / 2) / n) << 8) | ((sum[2] + n / 2) / n);
          memcpy (out + (gsize)x * 4, &v, 4);
        }
      if (!builder_push_row (b, level, out))
        {
          TIFFClose (tif);
          g_propagate_error (error, g_steal_pointer (&b->error));
          return FALSE;
        }
    }
  TIFFClose (tif);

  return TRUE;
}

/* Anything else: GdkPixbuf, for images small enough to decode whole. */

static gboolean
pixbuf_read_size (KpImagePyramid *self,
                  GError        **error)
{
  int w = 0, h = 0;

  if (gdk_pixbuf_get_file_info (self->path, &w, &h) == NULL)
    {
      set_error (error, KP_MEDIA_ERROR_NOT_AN_IMAGE, self->path, _("unknown image format"));
      return FALSE;
    }
  self->width = w;
  self->height = h;

  return TRUE;
}

static gboolean
pixbuf_decode (KpImagePyramid *self,
               Builder        *b,
               GError        **error)
{
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree guint8 *out = NULL;
  const guint8 *pixels;
  int w, h, stride, n_channels;

  if ((gsize)self->width * self->height * 4 > MAX_WHOLE_BYTES)
    {
      set_error (error, KP_MEDIA_ERROR_FAILED, self->path,
                 _("images this large are only supported as JPEG, PNG or TIFF"));
      return FALSE;
    }
  pixbuf = gdk_pixbuf_new_from_file (self->path, &local_error);
  if (pixbuf == NULL)
    {
      set_corrupt (error, self->path, local_error->message);
      return FALSE;
    }
  w = gdk_pixbuf_get_width (pixbuf);
  h = gdk_pixbuf_get_height (pixbuf);
  if (w != self->width || h != self->height)
    {
      set_corrupt (error, self->path, NULL);
      return FALSE;
    }
  stride = gdk_pixbuf_get_rowstride (pixbuf);
  n_channels = gdk_pixbuf_get_n_channels (pixbuf);
  pixels = gdk_pixbuf_read_pixels (pixbuf);
  out = g_malloc ((gsize)w * 4);
  for (int y = 0; y < h; y++)
    {
      const guint8 *p = pixels + (gsize)y * stride;

      for (int x = 0; x < w; x++, p += n_channels)
        put_pixel (out + x * 4, p[0], p[1], p[2], n_channels == 4 ? p[3] : 255);
      if (!builder_push_row (b, 0, out))
        {
          g_propagate_error (error, g_steal_pointer (&b->error));
          return FALSE;
        }
    }

  return TRUE;
}

/* Opening */

static Format
sniff_format (const char *path)
{
  guint8 magic[4] = { 0 };
  FILE *fp = g_fopen (path, "rb");
  size_t n;

  if (fp == NULL)
    return FORMAT_PIXBUF;
  n = fread (magic, 1, sizeof magic, fp);
  fclose (fp);
  if (n >= 3 && magic[0] == 0xff && magic[1] == 0xd8 && magic[2] == 0xff)
    return FORMAT_JPEG;
  if (n == 4 && magic[0] == 0x89 && magic[1] == 'P' && magic[2] == 'N' && magic[3] == 'G')
    return FORMAT_PNG;
  /* Classic TIFF (42) and BigTIFF (43), either byte order. */
  if (n == 4 && ((magic[0] == 'I' && magic[1] == 'I' && (magic[2] == 42 || magic[2] == 43) && magic[3] == 0) ||
                 (magic[0] == 'M' && magic[1] == 'M' && magic[2] == 0 && (magic[3] == 42 || magic[3] == 43))))
    return FORMAT_TIFF;

  return FORMAT_PIXBUF;
}

KpImagePyramid *
kp_image_pyramid_open (const char    *path,
                       const char    *cache_dir,
                       int            tile_size,
                       GCancellable  *cancellable,
                       GError       **error)
{
  g_autoptr(KpImagePyramid) self = NULL;
  g_autofree char *key = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *complete_path = NULL;
  g_autofree char *absolute = NULL;
  g_autofree char *warning = NULL;
  GStatBuf st;
  gboolean ok;
  int w, h;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (tile_size >= 16, NULL);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  if (g_stat (path, &st) != 0)
    {
      int saved = errno;

      set_error (error, saved == ENOENT ? KP_MEDIA_ERROR_UNREADABLE : KP_MEDIA_ERROR_UNREADABLE,
                 path, g_strerror (saved));
      return NULL;
    }
  if (st.st_size == 0)
    {
      set_error (error, KP_MEDIA_ERROR_NOT_AN_IMAGE, path, _("the file is empty"));
      return NULL;
    }

  self = g_object_new (KP_TYPE_IMAGE_PYRAMID, NULL);
  self->path = g_strdup (path);
  self->tile_size = tile_size;
  self->format = sniff_format (path);

  switch (self->format)
    {
    case FORMAT_JPEG:
      ok = jpeg_read_size (self, error);
      break;
    case FORMAT_PNG:
      ok = png_decode (self, NULL, error);
      break;
    case FORMAT_TIFF:
      ok = tiff_read_size (self, error);
      break;
    case FORMAT_PIXBUF:
    default:
      ok = pixbuf_read_size (self, error);
      break;
    }
  if (!ok)
    return NULL;
  if (self->width <= 0 || self->height <= 0 || self->width > 1000000 || self->height > 1000000)
    {
      set_corrupt (error, path, _("its size is invalid"));
      return NULL;
    }

  w = self->width;
  h = self->height;
  self->n_levels = 1;
  self->overview_level = -1;
  for (;;)
    {
      if (self->overview_level < 0 && MAX (w, h) <= KP_IMAGE_PYRAMID_OVERVIEW_SIDE)
        self->overview_level = self->n_levels - 1;
      if (MAX (w, h) <= tile_size)
        break;
      w = (w + 1) / 2;
      h = (h + 1) / 2;
      self->n_levels++;
    }
  if (self->overview_level < 0)
    self->overview_level = self->n_levels - 1;

  self->done = g_new0 (guint8 *, self->n_levels);
  self->versions = g_new0 (guint *, self->n_levels);
  for (int level = 0; level < self->n_levels; level++)
    {
      int columns, rows;

      kp_image_pyramid_get_grid (self, level, &columns, &rows);
      self->done[level] = g_malloc0 ((gsize)columns * rows);
      self->versions[level] = g_new0 (guint, (gsize)columns * rows);
    }

  absolute = g_canonicalize_filename (path, NULL);
  key = g_strdup_printf ("%s\n%s\n%" G_GINT64_FORMAT "\n%" G_GINT64_FORMAT "\n%d",
                         CACHE_VERSION, absolute, (gint64)st.st_mtime, (gint64)st.st_size, tile_size);
  hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, key, -1);
  if (cache_dir != NULL)
    self->cache_path = g_build_filename (cache_dir, hash, NULL);
  else
    self->cache_path = g_build_filename (g_get_user_cache_dir (), "kempelen", "pyramids", hash, NULL);

  /* A previous build that finished left this file (with the decoder's
   * warning, if any). */
  complete_path = g_build_filename (self->cache_path, COMPLETE_NAME, NULL);
  if (g_file_get_contents (complete_path, &warning, NULL, NULL))
    {
      char *text = strchr (warning, '\n');

      /* Its first line is the size of the tiles; its time tells the
       * cache trimmer when the pyramid was last used. */
      memmove (warning, text != NULL ? text + 1 : "", strlen (text != NULL ? text + 1 : "") + 1);
      g_utime (complete_path, NULL);
      self->complete = TRUE;
      for (int level = 0; level < self->n_levels; level++)
        {
          int columns, rows;

          kp_image_pyramid_get_grid (self, level, &columns, &rows);
          memset (self->done[level], KP_IMAGE_PYRAMID_TILE_DONE, (gsize)columns * rows);
        }
      if (*warning != '\0')
        self->warning = g_steal_pointer (&warning);
    }

  return g_steal_pointer (&self);
}

gboolean
kp_image_pyramid_build (KpImagePyramid          *self,
                        GCancellable            *cancellable,
                        KpImagePyramidProgress   progress,
                        gpointer                 user_data,
                        GError                 **error)
{
  return kp_image_pyramid_build_full (self, cancellable, progress, NULL, user_data, error);
}

void
kp_image_pyramid_set_write_hook (KpImagePyramidProgress hook,
                                 gpointer               user_data)
{
  write_hook_data = user_data;
  g_atomic_pointer_set (&write_hook, hook);
}

static gboolean build_levels (KpImagePyramid          *self,
                              GCancellable            *cancellable,
                              KpImagePyramidProgress   progress,
                              gpointer                 user_data,
                              GError                 **error);

gboolean
kp_image_pyramid_build_full (KpImagePyramid          *self,
                             GCancellable            *cancellable,
                             KpImagePyramidProgress   progress,
                             KpImagePyramidProgress   partial,
                             gpointer                 user_data,
                             GError                 **error)
{
  gboolean ok;

  g_return_val_if_fail (KP_IS_IMAGE_PYRAMID (self), FALSE);

  self->partial = partial;
  ok = build_levels (self, cancellable, progress, user_data, error);
  self->partial = NULL;

  return ok;
}

static gboolean
build_levels (KpImagePyramid          *self,
              GCancellable            *cancellable,
              KpImagePyramidProgress   progress,
              gpointer                 user_data,
              GError                 **error)
{
  g_autofree char *complete_path = NULL;
  g_autofree char *warning = NULL;
  g_autofree char *contents = NULL;
  int split = 0;
  gboolean ok = TRUE;

  if (kp_image_pyramid_is_complete (self))
    return TRUE;
  if (g_mkdir_with_parents (self->cache_path, 0700) != 0)
    {
      int saved = errno;
      g_autofree char *name = g_filename_display_name (self->cache_path);

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot create the image cache folder “%s”: %s"), name, g_strerror (saved));
      return FALSE;
    }

  if (self->format == FORMAT_JPEG)
    {
      /* A quick reduced decode for the coarse levels first. */
      split = MIN (self->overview_level, 3);
      if (split > 0)
        {
          Builder *b = builder_new (self, split, self->n_levels - 1, cancellable, progress, user_data);

          ok = jpeg_decode (self, b, split, error) && builder_finish (b, error);
          builder_free (b);
          if (!ok)
            return FALSE;
        }
    }
  else if (self->format == FORMAT_TIFF)
    {
      TiffOverview ov;

      /* The file's own reduced image, if any, for the coarse levels
       * first: the finest level it covers. */
      if (tiff_find_overview (self, &ov))
        {
          for (split = 1; split < self->n_levels; split++)
            {
              int lw, lh;

              kp_image_pyramid_get_level_size (self, split, &lw, &lh);
              if (lw <= (int)ov.width && lh <= (int)ov.height)
                break;
            }
          if (split < self->n_levels)
            {
              Builder *b = builder_new (self, split, self->n_levels - 1, cancellable, progress, user_data);
              GError *local_error = NULL;

              ok = tiff_overview_decode (self, &ov, b, split, &local_error) &&
                   builder_finish (b, &local_error);
              builder_free (b);
              if (local_error != NULL)
                {
                  g_propagate_error (error, local_error);
                  return FALSE;
                }
              if (!ok)
                split = 0;
            }
          else
            split = 0;
        }

      /* Else every 16th strip or row of tiles, for coarse levels that the
       * full build below then replaces: split goes back to 0, so that
       * build runs through every level and overwrites them with the
       * exact 2 × 2 means. The reduced image's levels above are kept
       * instead (split stays, the full build stops below it): they are
       * the file's own downscale, not an approximation of ours. */
      if (split == 0 && (split = tiff_sample_level (self)) > 0)
        {
          Builder *b = builder_new (self, split, self->n_levels - 1, cancellable, progress, user_data);
          GError *local_error = NULL;

          if (tiff_sample_decode (self, b, split, &local_error))
            builder_finish (b, &local_error);
          builder_free (b);
          if (local_error != NULL)
            {
              g_propagate_error (error, local_error);
              return FALSE;
            }
          split = 0;
        }
    }

  {
    Builder *b = builder_new (self, 0, (split > 0 ? split : self->n_levels) - 1,
                              cancellable, progress, user_data);

    switch (self->format)
      {
      case FORMAT_JPEG:
        ok = jpeg_decode (self, b, 0, error);
        break;
      case FORMAT_PNG:
        ok = png_decode (self, b, error);
        break;
      case FORMAT_TIFF:
        ok = tiff_decode (self, b, error);
        break;
      case FORMAT_PIXBUF:
      default:
        ok = pixbuf_decode (self, b, error);
        break;
      }
    ok = ok && builder_finish (b, error);
    builder_free (b);
  }
  if (!ok)
    return FALSE;

#ifdef __GLIBC__
  /* The band buffers were tens of megabytes: give them back to the
   * system rather than keep them in the allocator's free lists. */
  malloc_trim (0);
#endif

  warning = kp_image_pyramid_dup_warning (self);
  complete_path = g_build_filename (self->cache_path, COMPLETE_NAME, NULL);
  g_mutex_lock (&self->mutex);
  contents = g_strdup_printf ("%" G_GUINT64_FORMAT "\n%s", self->bytes_written,
                              warning != NULL ? warning : "");
  g_mutex_unlock (&self->mutex);
  if (!g_file_set_contents (complete_path, contents, -1, error))
    return FALSE;

  g_mutex_lock (&self->mutex);
  self->complete = TRUE;
  g_mutex_unlock (&self->mutex);

  return TRUE;
}

GBytes *
kp_image_pyramid_read_tile (KpImagePyramid  *self,
                            int              level,
                            int              tx,
                            int              ty,
                            int             *width,
                            int             *height,
                            GError         **error)
{
  g_autofree char *path = NULL;
  g_autofree char *packed = NULL;
  g_autofree guint8 *pixels = NULL;
  gsize length, expected, n;
  int w, h;

  g_return_val_if_fail (KP_IS_IMAGE_PYRAMID (self), NULL);
  g_return_val_if_fail (level >= 0 && level < self->n_levels, NULL);

  tile_extent (self, level, tx, ty, &w, &h);
  g_return_val_if_fail (w > 0 && h > 0, NULL);

  path = tile_path (self, level, tx, ty);
  if (!g_file_get_contents (path, &packed, &length, error))
    return NULL;
  expected = (gsize)w * h * 4;
  pixels = g_malloc (expected);
  n = ZSTD_decompress (pixels, expected, packed, length);
  if (ZSTD_isError (n) || n != expected)
    {
      g_autofree char *name = g_filename_display_name (path);

      g_set_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_CORRUPT,
                   _("The cached image tile “%s” is damaged."), name);
      return NULL;
    }
  if (width != NULL)
    *width = w;
  if (height != NULL)
    *height = h;

  return g_bytes_new_take (g_steal_pointer (&pixels), expected);
}

/* Disk cache trimming */

typedef struct
{
  char   *path;
  guint64 bytes;
  gint64  used;
} CacheEntry;

static void
cache_entry_free (gpointer data)
{
  CacheEntry *entry = data;

  g_free (entry->path);
  g_free (entry);
}

static int
cache_entry_compare (gconstpointer a,
                     gconstpointer b)
{
  const CacheEntry *x = *(CacheEntry **)a;
  const CacheEntry *y = *(CacheEntry **)b;

  return (x->used > y->used) - (x->used < y->used);
}

static void
remove_tree (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            remove_tree (child);
          else
            g_unlink (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

guint64
kp_image_pyramid_trim_cache (const char     *cache_dir,
                             guint64         max_bytes,
                             KpImagePyramid *keep)
{
  g_autofree char *root = NULL;
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func (cache_entry_free);
  g_autoptr(GDir) dir = NULL;
  const char *name;
  guint64 total = 0;
  gint64 now = time (NULL);

  g_return_val_if_fail (keep == NULL || KP_IS_IMAGE_PYRAMID (keep), 0);

  if (cache_dir != NULL)
    root = g_strdup (cache_dir);
  else
    root = g_build_filename (g_get_user_cache_dir (), "kempelen", "pyramids", NULL);
  dir = g_dir_open (root, 0, NULL);
  if (dir == NULL)
    return 0;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (root, name, NULL);
      g_autofree char *complete = g_build_filename (path, COMPLETE_NAME, NULL);
      g_autofree char *contents = NULL;
      GStatBuf st;
      CacheEntry *entry;

      /* Only our folders: 64 hexadecimal digits. */
      if (strlen (name) != 64 || strspn (name, "0123456789abcdef") != 64 ||
          !g_file_test (path, G_FILE_TEST_IS_DIR))
        continue;
      if (keep != NULL && g_strcmp0 (path, keep->cache_path) == 0)
        {
          if (g_file_get_contents (complete, &contents, NULL, NULL))
            total += g_ascii_strtoull (contents, NULL, 10);
          continue;
        }
      if (g_stat (complete, &st) != 0 || !g_file_get_contents (complete, &contents, NULL, NULL))
        {
          /* Being built, or abandoned half-way. */
          if (g_stat (path, &st) == 0 && now - (gint64)st.st_mtime > ABANDONED_AGE)
            remove_tree (path);
          continue;
        }
      entry = g_new0 (CacheEntry, 1);
      entry->path = g_steal_pointer (&path);
      entry->bytes = g_ascii_strtoull (contents, NULL, 10);
      entry->used = st.st_mtime;
      total += entry->bytes;
      g_ptr_array_add (entries, entry);
    }

  /* Least recently used first. */
  g_ptr_array_sort (entries, cache_entry_compare);
  for (guint i = 0; i < entries->len && total > max_bytes; i++)
    {
      CacheEntry *entry = g_ptr_array_index (entries, i);

      g_debug ("Removing the image tile cache %s (%" G_GUINT64_FORMAT " bytes)", entry->path, entry->bytes);
      remove_tree (entry->path);
      total -= MIN (total, entry->bytes);
    }

  return total;
}

/* Accessors */

const char *
kp_image_pyramid_get_path (KpImagePyramid *self)
{
  g_return_val_if_fail (KP_IS_IMAGE_PYRAMID (self), NULL);
  return self->path;
}

const char *
kp_image_pyramid_get_cache_path (KpImagePyramid *self)
{
  g_return_val_if_fail (KP_IS_IMAGE_PYRAMID (self), NULL);
  return self->cache_path;
}

int
kp_image_pyramid_get_width (KpImagePyramid *self)
{
  g_return_val_if_fail (KP_IS_IMAGE_PYRAMID (self), 0);
  return self->width;
}

int
kp_image_pyramid_get_height (KpImagePyramid *self)
{
  g_return_val_if_fail (KP_IS_IMAGE_PYRAMID (self), 0);
  return self->height;
}

int
kp_image_pyramid_get_tile_size (KpImagePyramid *self)
{
  g_return_val_if_fail (KP_IS_IMAGE_PYRAMID (self), 0);
  return self->tile_size;
}

int
kp_image_pyramid_get_n_levels (KpImagePyramid *self)
{
  g_return_val_if_fail (KP_IS_IMAGE_PYRAMID (self), 0);
  return self->n_levels;
}

int
kp_image_pyramid_get_overview_level (KpImagePyramid *self)
{
  g_return_val_if_fail (KP_IS_IMAGE_PYRAMID (self), 0);
  return self->overview_level;
}

void
kp_image_pyramid_get_level_size (KpImagePyramid *self,
                                 int             level,
                                 int            *width,
                                 int            *height)
{
  int w, h;

  g_return_if_fail (KP_IS_IMAGE_PYRAMID (self));

  w = self->width;
  h = self->height;
  for (int i = 0; i < level; i++)
    {
      w = (w + 1) / 2;
      h = (h + 1) / 2;
    }
  if (width != NULL)
    *width = w;
  if (height != NULL)
    *height = h;
}

void
kp_image_pyramid_get_grid (KpImagePyramid *self,
                           int             level,
                           int            *columns,
                           int            *rows)
{
  int w, h;

  kp_image_pyramid_get_level_size (self, level, &w, &h);
  if (columns != NULL)
    *columns = (w + self->tile_size - 1) / self->tile_size;
  if (rows != NULL)
    *rows = (h + self->tile_size - 1) / self->tile_size;
}

gboolean
kp_image_pyramid_has_tile (KpImagePyramid *self,
                           int             level,
                           int             tx,
                           int             ty)
{
  int columns, rows;
  gboolean ret;

  g_return_val_if_fail (KP_IS_IMAGE_PYRAMID (self), FALSE);

  if (level < 0 || level >= self->n_levels)
    return FALSE;
  kp_image_pyramid_get_grid (self, level, &columns, &rows);
  if (tx < 0 || ty < 0 || tx >= columns || ty >= rows)
    return FALSE;

  g_mutex_lock (&self->mutex);
  ret = self->done[level][(gsize)ty * columns + tx] != KP_IMAGE_PYRAMID_TILE_NONE;
  g_mutex_unlock (&self->mutex);

  return ret;
}

KpImagePyramidTileState
kp_image_pyramid_get_tile_state (KpImagePyramid *self,
                                 int             level,
                                 int             tx,
                                 int             ty,
                                 guint          *version)
{
  KpImagePyramidTileState ret;
  int columns, rows;

  g_return_val_if_fail (KP_IS_IMAGE_PYRAMID (self), KP_IMAGE_PYRAMID_TILE_NONE);

  if (version != NULL)
    *version = 0;
  if (level < 0 || level >= self->n_levels)
    return KP_IMAGE_PYRAMID_TILE_NONE;
  kp_image_pyramid_get_grid (self, level, &columns, &rows);
  if (tx < 0 || ty < 0 || tx >= columns || ty >= rows)
    return KP_IMAGE_PYRAMID_TILE_NONE;

  g_mutex_lock (&self->mutex);
  ret = self->done[level][(gsize)ty * columns + tx];
  if (version != NULL)
    *version = self->versions[level][(gsize)ty * columns + tx];
  g_mutex_unlock (&self->mutex);

  return ret;
}

void
kp_image_pyramid_set_background (KpImagePyramid *self,
                                 gboolean        background)
{
  g_return_if_fail (KP_IS_IMAGE_PYRAMID (self));

  g_atomic_int_set (&self->background, !!background);
}

double
kp_image_pyramid_get_progress (KpImagePyramid *self)
{
  g_return_val_if_fail (KP_IS_IMAGE_PYRAMID (self), 0);

  if (kp_image_pyramid_is_complete (self))
    return 1.0;
  return (double)g_atomic_int_get (&self->rows_done) / self->height;
}

gboolean
kp_image_pyramid_is_complete (KpImagePyramid *self)
{
  gboolean ret;

  g_return_val_if_fail (KP_IS_IMAGE_PYRAMID (self), FALSE);

  g_mutex_lock (&self->mutex);
  ret = self->complete;
  g_mutex_unlock (&self->mutex);

  return ret;
}

char *
kp_image_pyramid_dup_warning (KpImagePyramid *self)
{
  char *ret;

  g_return_val_if_fail (KP_IS_IMAGE_PYRAMID (self), NULL);

  g_mutex_lock (&self->mutex);
  ret = g_strdup (self->warning);
  g_mutex_unlock (&self->mutex);

  return ret;
}
