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
  KP_EXPORT_FORMAT_LABEL_MAP,   /* OUTPUT is a folder: classes.txt and NAME.png, 8-bit grey, pixel = class */
  /* Since session 4. OUTPUT is a folder: output.manifest (SageMaker Ground
   * Truth output manifest, JSON lines) and label-maps/NAME.png. */
  KP_EXPORT_FORMAT_GROUND_TRUTH,
} KpExportFormat;

/* What each format holds (since schema 2):
 *
 * COCO: boxes as bbox; polygons as segmentation polygons; masks as
 * segmentation RLE (compressed counts string, the image's size); rotated
 * boxes as their four corners in segmentation, bbox their bounds and
 * "attributes": {"rotation": degrees clockwise} (the corners make the
 * box; CVAT reads rotation); points as keypoints: each category lists the
 * keypoint names its points use ("point" for unnamed ones) and each point
 * is an annotation with only its own keypoint visible (v 2, or 1 when
 * occluded). Polylines and lines cannot be held: exported as bbox.
 * Suggestions carry "score". Attribute values go in "attributes" by name.
 *
 * VOC: boxes as bndbox; rotated boxes as robndbox (cx, cy, w, h, angle in
 * radians, as roLabelImg) plus their bounds as bndbox; every other shape
 * as the bndbox of its bounds (reported).
 *
 * YOLO: boxes as "class cx cy w h"; polygons as YOLO-seg lines
 * "class x1 y1 … xn yn"; rotated boxes as the seg polygon of their corners
 * (reported); masks, lines, polylines and points are left out (reported).
 *
 * LABEL_MAP: every region (box, rotated box, polygon, mask) painted in
 * drawing order, pixel value = class (1 + label index; 0 background; labels
 * beyond 255 left out); lines and points left out.
 *
 * GROUND_TRUTH: one line per image, "source-ref" its absolute path; boxes
 * as a "groundtruth/object-detection" job ("kempelen-boxes": exact pixel
 * left, top, width, height; class-map; each object's confidence, 1 for
 * people's); masks, polygons and rotated boxes painted into an RGB label
 * map of a "groundtruth/semantic-segmentation" job ("kempelen-segmentation",
 * label-maps/NAME.png relative to the manifest, "internal-color-map"):
 * polygons and rotated boxes become pixels (reported); lines, polylines
 * and points are left out (reported).
 *
 * LABEL_MAP and GROUND_TRUTH keep one region per class and image: objects
 * of a class come back as one mask, and later objects paint over earlier
 * ones.
 *
 * Unreviewed suggestions (review PENDING) are left out unless flags has
 * KP_EXPORT_FLAGS_INCLUDE_PENDING. */

typedef enum
{
  KP_EXPORT_FLAGS_NONE            = 0,
  KP_EXPORT_FLAGS_INCLUDE_PENDING = 1 << 0,
} KpExportFlags;

typedef struct
{
  guint      n_images;
  guint      n_objects;         /* exported, in whatever form (not those left out) */
  guint      n_pending;         /* suggestions left out */
  GPtrArray *warnings;          /* char *: what the format could not hold, for people */
  /* Since session 4, by KpShape: objects exported in another form
   * (kp_export_format_converts_to()) and objects left out. */
  guint      converted[KP_N_SHAPES];
  guint      dropped[KP_N_SHAPES];
} KpExportReport;

void        kp_export_report_free        (KpExportReport  *report);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpExportReport, kp_export_report_free)

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

/* "coco", "voc", "yolo", "labelmap", "groundtruth" (also "gt",
 * "gt-manifest", "sagemaker"); case-insensitive. */
gboolean    kp_export_format_from_string (const char      *name,
                                          KpExportFormat  *format);
const char *kp_export_format_to_string   (KpExportFormat   format);
/* What a shape the format cannot hold becomes, untranslated, for
 * machines: "bbox", "polygon", "pixels", or NULL when the format holds
 * the shape or leaves it out. Since session 4. */
const char *kp_export_format_converts_to (KpExportFormat   format,
                                          KpShape          shape);
/* Whether the format holds the shape as it is. Since session 4. */
gboolean    kp_export_format_holds       (KpExportFormat   format,
                                          KpShape          shape);

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
/* The same with flags, returning what was exported and what could not be. */
KpExportReport *kp_export_full           (KpStore         *store,
                                          KpExportFormat   format,
                                          const char      *output,
                                          KpExportFlags    flags,
                                          GCancellable    *cancellable,
                                          GError         **error) G_GNUC_WARN_UNUSED_RESULT;

/* An 8-bit greyscale PNG of width × height pixels (rows of width bytes),
 * written with GIO's zlib compressor (core has no image library). */
GBytes         *kp_export_png_gray8      (const guint8    *pixels,
                                          int              width,
                                          int              height) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
