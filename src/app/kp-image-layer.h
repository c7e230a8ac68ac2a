/* kp-image-layer.h: very large images drawn from a tile pyramid
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "kp-core.h"
#include "kp-media.h"

G_BEGIN_DECLS

#define KP_TYPE_IMAGE_LAYER (kp_image_layer_get_type ())
G_DECLARE_FINAL_TYPE (KpImageLayer, kp_image_layer, KP, IMAGE_LAYER, GObject)

/* Images at least this wide or high, or with at least this many pixels,
 * go through a KpImageLayer instead of one GdkTexture. */
#define KP_IMAGE_LAYER_MIN_SIDE   KP_IMAGE_LARGE_SIDE
#define KP_IMAGE_LAYER_MIN_PIXELS KP_IMAGE_LARGE_PIXELS

/* Whether an image of that size should be shown through a layer. */
gboolean      kp_image_layer_wants_size (int                  width,
                                         int                  height);

/* Reads the image's header (JPEG, PNG, TIFF; other formats through
 * GdkPixbuf when they are small enough to decode whole) and returns a layer
 * at once; every pixel is decoded later, off the main thread: first a
 * reduced overview, then full-detail tiles into a disk cache under
 * cache_dir (NULL: the user cache directory). Memory held by decoded tiles
 * is capped (kp_image_layer_set_memory_cap). */
void          kp_image_layer_new_async  (GFile               *file,
                                         const char          *cache_dir,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data);
KpImageLayer *kp_image_layer_new_finish (GAsyncResult        *result,
                                         GError             **error);

int           kp_image_layer_get_width  (KpImageLayer        *self);
int           kp_image_layer_get_height (KpImageLayer        *self);
/* The share of the full-detail rows decoded so far, 0 to 1 (1 once
 * built); property "progress", notified as the build goes. */
double        kp_image_layer_get_progress (KpImageLayer      *self);
/* A layer built for later (an image the user may go to next) builds
 * at half speed, leaving the cores to what is on screen; FALSE, the
 * default, builds at full speed. */
void          kp_image_layer_set_background (KpImageLayer    *self,
                                             gboolean         background);
/* Bytes of decoded pixels held in memory at most (default 256 MiB). */
gsize         kp_image_layer_get_memory_cap (KpImageLayer    *self);
void          kp_image_layer_set_memory_cap (KpImageLayer    *self,
                                             gsize            cap);
/* value^(1/gamma) applied as tiles are decoded (default 1). */
void          kp_image_layer_set_gamma  (KpImageLayer        *self,
                                         double               gamma);

/* Appends the image as seen through view (widget = image * scale -
 * offset), clipped to the width x height widget area: the best tiles in
 * memory, coarser ones standing in for those still missing, which it asks
 * for. nearest: draw pixels as squares (from 400 %). Never blocks.
 * Signal "invalidated" (no arguments) when tiles arrived that would change
 * what it draws: the canvas redraws. */
void          kp_image_layer_snapshot   (KpImageLayer        *self,
                                         GtkSnapshot         *snapshot,
                                         const KpView        *view,
                                         double               width,
                                         double               height,
                                         int                  scale_factor,
                                         gboolean             nearest);

/* Added for tests, benchmarks and status display. */

/* As kp_image_layer_new_async, with tiles of tile_size pixels (0: the
 * default, 512). */
void          kp_image_layer_new_full_async  (GFile               *file,
                                              const char          *cache_dir,
                                              int                  tile_size,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
double        kp_image_layer_get_gamma       (KpImageLayer        *self);
/* Bytes of decoded pixels held now, and at most since the layer opened;
 * never above the memory cap. */
gsize         kp_image_layer_get_memory_used (KpImageLayer        *self);
gsize         kp_image_layer_get_memory_peak (KpImageLayer        *self);
/* Tiles the last snapshot could not draw at the level it wanted (drawn
 * coarser, or not at all): 0 once the view is fully sharp. */
guint         kp_image_layer_get_n_missing   (KpImageLayer        *self);
/* Tiles the last snapshot drew, sharp, partial (a band still being
 * decoded, counted missing) or standing in: 0 if it drew no pixel. */
guint         kp_image_layer_get_n_drawn     (KpImageLayer        *self);
/* Property "building": TRUE while the tiles are being decoded. Once it
 * ends, the error (the file is damaged; the tiles decoded before the
 * damage are still drawn) or the decoder's warning (e.g. a truncated
 * JPEG, shown with its missing part grey) tell how it went. */
gboolean      kp_image_layer_get_building    (KpImageLayer        *self);
const GError *kp_image_layer_get_error       (KpImageLayer        *self);
char         *kp_image_layer_dup_warning     (KpImageLayer        *self);

G_END_DECLS
