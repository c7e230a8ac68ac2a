/* kp-image-pyramid.h: tiled, multi-level copies of very large images
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "kp-media.h"

G_BEGIN_DECLS

#define KP_TYPE_IMAGE_PYRAMID (kp_image_pyramid_get_type ())
G_DECLARE_FINAL_TYPE (KpImagePyramid, kp_image_pyramid, KP, IMAGE_PYRAMID, GObject)

#define KP_IMAGE_PYRAMID_DEFAULT_TILE_SIZE 512
/* The overview level is the finest whose longer side is at most this. */
#define KP_IMAGE_PYRAMID_OVERVIEW_SIDE     2048

/* Called in a thread of the build (one at a time, each level's rows in
 * order) each time a row of tiles of a level is on disk (tile_row is its
 * index). */
typedef void (*KpImagePyramidProgress) (KpImagePyramid *pyramid,
                                        int             level,
                                        int             tile_row,
                                        gpointer        user_data);

/* What the disk cache holds of a tile. A partial tile is a band still
 * being decoded: its rows not decoded yet are transparent (zero). */
typedef enum
{
  KP_IMAGE_PYRAMID_TILE_NONE,
  KP_IMAGE_PYRAMID_TILE_PARTIAL,
  KP_IMAGE_PYRAMID_TILE_DONE,
} KpImagePyramidTileState;

/* Reads the header of path (JPEG, PNG, TIFF; other formats through
 * GdkPixbuf) and finds its tile cache in cache_dir (NULL: the user cache
 * directory), reusing tiles a previous build left there. Fast: decodes no
 * pixel. Level 0 is the full image; each next level is half as wide and
 * high (rounded up), each pixel the mean of a 2 x 2 block. */
KpImagePyramid *kp_image_pyramid_open               (const char              *path,
                                                     const char              *cache_dir,
                                                     int                      tile_size,
                                                     GCancellable            *cancellable,
                                                     GError                 **error) G_GNUC_WARN_UNUSED_RESULT;

const char     *kp_image_pyramid_get_path           (KpImagePyramid          *self);
const char     *kp_image_pyramid_get_cache_path     (KpImagePyramid          *self);
int             kp_image_pyramid_get_width          (KpImagePyramid          *self);
int             kp_image_pyramid_get_height         (KpImagePyramid          *self);
int             kp_image_pyramid_get_tile_size      (KpImagePyramid          *self);
int             kp_image_pyramid_get_n_levels       (KpImagePyramid          *self);
int             kp_image_pyramid_get_overview_level (KpImagePyramid          *self);
void            kp_image_pyramid_get_level_size     (KpImagePyramid          *self,
                                                     int                      level,
                                                     int                     *width,
                                                     int                     *height);
void            kp_image_pyramid_get_grid           (KpImagePyramid          *self,
                                                     int                      level,
                                                     int                     *columns,
                                                     int                     *rows);

/* Thread-safe: whether the tile is in the disk cache (partial or done). */
gboolean        kp_image_pyramid_has_tile           (KpImagePyramid          *self,
                                                     int                      level,
                                                     int                      tx,
                                                     int                      ty);
/* Thread-safe: the tile's state, and in version (may be NULL) a number
 * that grows each time the tile's file is written again: a newer partial
 * band, the final one, or the exact levels replacing a first view. A
 * tile read after this call is at least that version. */
KpImagePyramidTileState kp_image_pyramid_get_tile_state (KpImagePyramid  *self,
                                                         int              level,
                                                         int              tx,
                                                         int              ty,
                                                         guint           *version);
/* Thread-safe: a build in background (building what the user may look at
 * next) rests as long as it works, band by band, leaving the cores to
 * what is on screen; FALSE (the default) builds at full speed. May change
 * while the build runs. Since session 6. */
void            kp_image_pyramid_set_background     (KpImagePyramid          *self,
                                                     gboolean                 background);
/* Thread-safe: the share of full-detail rows decoded, 0 to 1 (1 once
 * complete). Since session 6. */
double          kp_image_pyramid_get_progress       (KpImagePyramid          *self);
/* Thread-safe: whether every tile is in the disk cache. */
gboolean        kp_image_pyramid_is_complete        (KpImagePyramid          *self);
/* A warning the decoder gave (e.g. a truncated JPEG), or NULL. */
char           *kp_image_pyramid_dup_warning        (KpImagePyramid          *self);

/* Blocking (run it in a thread): decodes the image once, streaming its
 * rows, and writes every tile of every level to the disk cache. For a
 * JPEG, a first quick pass decodes it reduced (DCT scaling) to make the
 * coarse levels, so an overview exists long before the full detail; a
 * TIFF carrying reduced images (FILETYPE_REDUCEDIMAGE directories or
 * SubIFDs) gets its coarse levels from the largest of at most 4096 px
 * (else the smallest up to 8192 px) the same way, unless that one is
 * damaged or not the image's aspect ratio within 1 %. Any other TIFF of
 * at least 64 strips (or rows of tiles) gets a first view from every 16th
 * one, which the full decode then replaces with the exact levels. An
 * interlaced (Adam7) PNG gets its first view from its first pass (every
 * 8th pixel of every 8th row), and keeps its even rows in an unlinked
 * temporary file of the cache folder until their odd partners arrive.
 * While a level at least as coarse as the overview is decoded, its band
 * is written every so often as partial tiles (see
 * kp_image_pyramid_get_tile_state), so the image appears top-down. A
 * damaged file is an error; tiles written before it stay usable. */
gboolean        kp_image_pyramid_build              (KpImagePyramid          *self,
                                                     GCancellable            *cancellable,
                                                     KpImagePyramidProgress   progress,
                                                     gpointer                 user_data,
                                                     GError                 **error);
/* As kp_image_pyramid_build; partial (may be NULL) is called like
 * progress, in the same thread, each time partial tiles of a row are on
 * disk. progress is never called for those. */
gboolean        kp_image_pyramid_build_full         (KpImagePyramid          *self,
                                                     GCancellable            *cancellable,
                                                     KpImagePyramidProgress   progress,
                                                     KpImagePyramidProgress   partial,
                                                     gpointer                 user_data,
                                                     GError                 **error);

/* Blocking, thread-safe: the pixels of a tile from the disk cache, as
 * cairo's ARGB32 (premultiplied, native endian) rows of width * 4 bytes.
 * Edge tiles are smaller than the tile size. */
GBytes         *kp_image_pyramid_read_tile          (KpImagePyramid          *self,
                                                     int                      level,
                                                     int                      tx,
                                                     int                      ty,
                                                     int                     *width,
                                                     int                     *height,
                                                     GError                 **error) G_GNUC_WARN_UNUSED_RESULT;

/* Blocking: removes the least recently opened pyramids of cache_dir (NULL:
 * the user cache directory) until their tiles take at most max_bytes,
 * keeping keep (may be NULL) whatever its size, and builds abandoned more
 * than a day ago. Returns the bytes left. */
guint64         kp_image_pyramid_trim_cache         (const char              *cache_dir,
                                                     guint64                  max_bytes,
                                                     KpImagePyramid          *keep);

/* For tests: hook (NULL to remove) is called in every pyramid's build
 * thread each time a row of tiles was written, partial or complete (see
 * kp_image_pyramid_get_tile_state), before the build's callbacks. It may
 * block to hold the build there: what is on disk stays as it is. */
void            kp_image_pyramid_set_write_hook     (KpImagePyramidProgress   hook,
                                                     gpointer                 user_data);

G_END_DECLS
