/* kp-import.h: pre-annotations from COCO, Pascal VOC, YOLO and Ground Truth
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#if !defined(KP_CORE_INSIDE) && !defined(KP_CORE_COMPILATION)
# error "Only <kp-core.h> can be included directly."
#endif

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "kp-store.h"

G_BEGIN_DECLS

#define KP_IMPORT_ERROR (kp_import_error_quark ())

typedef enum
{
  KP_IMPORT_ERROR_FAILED,
  KP_IMPORT_ERROR_UNKNOWN_FORMAT,
  KP_IMPORT_ERROR_MALFORMED,    /* the input is not what its format says; the message has file:line or a JSON path */
} KpImportError;

GQuark kp_import_error_quark (void);

typedef enum
{
  KP_IMPORT_FORMAT_COCO,          /* INPUT is a .json file */
  KP_IMPORT_FORMAT_VOC,           /* INPUT is a folder of .xml files, or one .xml file */
  KP_IMPORT_FORMAT_YOLO,          /* INPUT is a folder: classes.txt (or data.yaml names), labels/ *.txt or *.txt */
  KP_IMPORT_FORMAT_GROUND_TRUTH,  /* INPUT is a SageMaker Ground Truth output manifest (JSON lines) */
  /* Since session 4: INPUT is a folder of NAME.png label maps (pixel value
   * = class, 0 background) and classes.txt ("N name" lines), as
   * kp_export() writes them; one mask per class and image. Needs load_rgb. */
  KP_IMPORT_FORMAT_LABEL_MAP,
} KpImportFormat;

typedef enum
{
  KP_IMPORT_FLAGS_NONE   = 0,
  /* Import as people's objects (review NONE) rather than as suggestions,
   * e.g. to convert a dataset. */
  KP_IMPORT_FLAGS_ACCEPT = 1 << 0,
  /* Since session 4. First remove, from each image the input names, the
   * unreviewed suggestions (review PENDING) that came from the same
   * source; objects people drew, accepted or changed stay. */
  KP_IMPORT_FLAGS_REPLACE = 1 << 1,
  /* Add an object even when the image already has the same one (same
   * source, label, shape and geometry). Without it a second import of the
   * same file adds nothing. */
  KP_IMPORT_FLAGS_ALLOW_DUPLICATES = 1 << 2,
  /* Read and match everything and fill the report as the import would,
   * but change nothing in the project (labels that would be made are
   * counted, not made). */
  KP_IMPORT_FLAGS_DRY_RUN = 1 << 3,
} KpImportFlags;

/* Reads a label map image (Ground Truth semantic segmentation) as 8-bit RGB
 * rows (stride width * 3). Core cannot decode images: the media layer
 * provides kp_label_map_load_rgb() for this. Returns NULL with error. */
typedef guint8 *(*KpImportLoadRgbFunc) (const char  *path,
                                        int         *width,
                                        int         *height,
                                        gpointer     user_data,
                                        GError     **error);

/* What an import did to one image (since session 4). */
typedef struct
{
  gint64  media_id;
  char   *path;                 /* the image's path in the project */
  guint   n_objects;            /* added */
  guint   n_duplicates;         /* already there, not added again */
  guint   n_below_confidence;   /* below min_confidence, not added */
  guint   n_replaced;           /* old suggestions removed (KP_IMPORT_FLAGS_REPLACE) */
} KpImportImageReport;

/* What an import did, and what it could not do. */
typedef struct
{
  guint      n_images;          /* images that received objects */
  guint      n_objects;         /* objects added */
  guint      n_labels_created;  /* labels that did not exist */
  GPtrArray *problems;          /* char *, one line each: "where: what", for people */
  /* Since session 4: */
  guint      n_duplicates;      /* objects already in the project, not added again */
  guint      n_below_confidence;
  guint      n_replaced;        /* suggestions removed by KP_IMPORT_FLAGS_REPLACE */
  GPtrArray *images;            /* KpImportImageReport, every image the input named, by path */
} KpImportReport;

/* Since session 4: everything an import can be told. Zero-initialise
 * it: the zero values mean "as kp_import()". */
typedef struct
{
  KpImportFlags        flags;
  /* Objects whose confidence is below this are not imported (counted in
   * n_below_confidence). Objects of formats without a confidence have 1. */
  double               min_confidence;
  /* YOLO and LABEL_MAP: a file with the class names, used instead of
   * classes.txt / data.yaml: one name a line (line N, from 0, is class N)
   * or "N name" lines. NULL: the input's own. */
  const char          *class_names_file;
  KpImportLoadRgbFunc  load_rgb;
  gpointer             load_rgb_data;
} KpImportOptions;

void        kp_import_report_free        (KpImportReport  *report);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpImportReport, kp_import_report_free)

/* "coco", "voc", "yolo", "groundtruth" (also "gt", "gt-manifest",
 * "sagemaker"), "labelmap", any case. */
gboolean    kp_import_format_from_string (const char      *name,
                                          KpImportFormat  *format);
const char *kp_import_format_to_string   (KpImportFormat   format);

/* Adds the objects of input to the images of the project they name
 * (matched by relative path, then by trailing path components, then by
 * file name; for YOLO, by the label file's name as kp_export() makes it).
 * Each becomes a suggestion (review PENDING, source "FORMAT:FILE", its
 * confidence when the format has one, else 1) unless flags has ACCEPT.
 * Labels are matched by name and created when missing. Each image gets its
 * objects as one undoable step of its KpDocument.
 *
 * Whatever cannot be imported (an unknown image, a malformed object, a
 * shape the format cannot say) is skipped and listed in the report's
 * problems; an input that cannot be read at all (not JSON, no COCO
 * "images", an unreadable file) is an error with its file and line or
 * JSON path. load_rgb may be NULL: semantic-segmentation label maps are
 * then reported as not imported. */
KpImportReport *kp_import                (KpStore            *store,
                                          KpImportFormat      format,
                                          const char         *input,
                                          KpImportFlags       flags,
                                          KpImportLoadRgbFunc load_rgb,
                                          gpointer            load_rgb_data,
                                          GCancellable       *cancellable,
                                          GError            **error) G_GNUC_WARN_UNUSED_RESULT;
/* The same, with options (NULL: the defaults). With KP_IMPORT_FLAGS_REPLACE
 * an image whose old suggestions are removed gets two undo steps: the
 * removal, then the import. */
KpImportReport *kp_import_full           (KpStore               *store,
                                          KpImportFormat         format,
                                          const char            *input,
                                          const KpImportOptions *options,
                                          GCancellable          *cancellable,
                                          GError               **error) G_GNUC_WARN_UNUSED_RESULT;

/* A COCO RLE segmentation ({"size": [h, w], "counts": compressed string
 * or list of runs}) as the mask of a width × height image; NULL with
 * KP_IMPORT_ERROR_MALFORMED when it is not valid RLE of that size: the
 * message is a phrase, and *member (may be NULL) names the member at
 * fault ("size" or "counts"), or NULL for the object. Since session 6. */
KpMask        *kp_import_coco_rle       (JsonObject      *rle,
                                         int              width,
                                         int              height,
                                         const char     **member,
                                         GError         **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
