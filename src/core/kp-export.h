/* kp-export.h: COCO, Pascal VOC and YOLO exporters
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#if !defined(KP_CORE_INSIDE) && !defined(KP_CORE_COMPILATION)
# error "Only <kp-core.h> can be included directly."
#endif

#include <gio/gio.h>

#include "kp-store.h"

G_BEGIN_DECLS

#define KP_EXPORT_ERROR (kp_export_error_quark ())

typedef enum
{
  KP_EXPORT_ERROR_FAILED,
  KP_EXPORT_ERROR_UNKNOWN_FORMAT,
  KP_EXPORT_ERROR_MISSING_SIZE,   /* an annotated image whose dimensions are unknown */
} KpExportError;

GQuark kp_export_error_quark (void);

typedef enum
{
  KP_EXPORT_FORMAT_COCO,        /* OUTPUT is a .json file */
  KP_EXPORT_FORMAT_VOC,         /* OUTPUT is a folder: one NAME.xml per image */
  KP_EXPORT_FORMAT_YOLO,        /* OUTPUT is a folder: classes.txt, data.yaml, images.txt, labels/NAME.txt */
} KpExportFormat;

/* NAME, for VOC and YOLO, is the image's relative path without its
 * extension, with '/' replaced by '_' ("sub/a.jpg" -> "sub_a"). When two
 * images would get the same NAME (compared without case), the later one in
 * path order keeps its extension ("a.png" -> "a_png"), then gets a number
 * ("a_png_2"). VOC's <filename> holds the relative path and <path> the
 * absolute one; YOLO's images.txt lists the absolute image paths. VOC boxes
 * are 1-based inclusive integer pixels: xmin = round(x) + 1,
 * xmax = round(x + width). YOLO lines are "class cx cy w h", normalized to
 * 0..1 with 6 decimals, class the index in classes.txt (label position
 * order). COCO keeps the exact pixel boxes; category ids are 1 + the label's
 * index in position order, image ids the media ids, annotation ids the
 * store's. */

/* "coco", "voc", "yolo" (case-insensitive). */
gboolean    kp_export_format_from_string (const char      *name,
                                          KpExportFormat  *format);
const char *kp_export_format_to_string   (KpExportFormat   format);

/* Exports every image that has dimensions (images without annotations
 * included, BROKEN and MISSING ones left out) to output. Each file is written
 * atomically (temporary file, fsync, rename), so a failure leaves no
 * half-written file behind. An annotated image whose width/height is still 0
 * is an error (KP_EXPORT_ERROR_MISSING_SIZE): fill dimensions first (the media
 * layer's kp_media_ensure_info()). */
gboolean    kp_export                    (KpStore         *store,
                                          KpExportFormat   format,
                                          const char      *output,
                                          GCancellable    *cancellable,
                                          GError         **error);

G_END_DECLS
