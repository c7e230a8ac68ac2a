/* kp-media-row.h: one row of the image list
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "kp-media-item.h"

G_BEGIN_DECLS

#define KP_TYPE_MEDIA_ROW (kp_media_row_get_type ())
G_DECLARE_FINAL_TYPE (KpMediaRow, kp_media_row, KP, MEDIA_ROW, GtkWidget)

GtkWidget   *kp_media_row_new      (void);
KpMediaItem *kp_media_row_get_item (KpMediaRow  *self);
void         kp_media_row_set_item (KpMediaRow  *self,
                                    KpMediaItem *item);

G_END_DECLS
