/* kp-store.h: the local project store, one SQLite file per project
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#if !defined(KP_CORE_INSIDE) && !defined(KP_CORE_COMPILATION)
# error "Only <kp-core.h> can be included directly."
#endif

#include <gio/gio.h>

#include "kp-geometry.h"

G_BEGIN_DECLS

#define KP_STORE_ERROR (kp_store_error_quark ())

typedef enum
{
  KP_STORE_ERROR_FAILED,
  KP_STORE_ERROR_NOT_FOUND,
  KP_STORE_ERROR_TOO_NEW,       /* user_version newer than this program knows */
  KP_STORE_ERROR_CORRUPT,       /* not a database, or integrity check failed */
  KP_STORE_ERROR_READ_ONLY,     /* nowhere writable to keep the database */
  KP_STORE_ERROR_INVALID,       /* bad argument from the user: empty label name, duplicate, bad key */
  KP_STORE_ERROR_FULL,          /* disk full */
} KpStoreError;

GQuark kp_store_error_quark (void);

/* The schema version this program writes (PRAGMA user_version). */
#define KP_STORE_SCHEMA_VERSION 1

/* The folder inside a project folder that holds its database. */
#define KP_STORE_DIRNAME ".kempelen"
#define KP_STORE_FILENAME "project.db"

typedef enum
{
  KP_MEDIA_STATUS_TODO = 0,     /* no annotations yet */
  KP_MEDIA_STATUS_IN_PROGRESS,  /* has annotations, not marked done */
  KP_MEDIA_STATUS_DONE,         /* marked done by the annotator */
  KP_MEDIA_STATUS_BROKEN,       /* cannot be decoded; see KpMedia.error */
  KP_MEDIA_STATUS_MISSING,      /* the file is gone from the folder */
} KpMediaStatus;

typedef struct
{
  gint64         id;
  char          *path;          /* relative to the project folder, '/' separated, UTF-8 */
  char          *hash;          /* "sha256:<hex>" or NULL until computed */
  gint64         size;          /* bytes */
  gint64         mtime;         /* seconds since the epoch */
  int            width;         /* 0 until known */
  int            height;
  KpMediaStatus  status;
  char          *error;         /* why the media is BROKEN, or NULL */
  guint          n_annotations;
} KpMedia;

typedef struct
{
  gint64  id;
  char   *name;                 /* any non-empty UTF-8 text, unique in the project */
  char   *color;                /* "#rrggbb" */
  int     key;                  /* 1..9, or 0 for none; unique when non-zero */
  int     position;             /* order in the label list */
} KpLabel;

typedef enum
{
  KP_SHAPE_BOX = 0,
} KpShape;

typedef struct
{
  gint64  id;
  gint64  media_id;
  gint64  label_id;
  KpShape shape;
  KpRect  rect;                 /* image pixels */
} KpAnnotation;

KpMedia      *kp_media_copy      (const KpMedia      *media) G_GNUC_WARN_UNUSED_RESULT;
void          kp_media_free      (KpMedia            *media);
KpLabel      *kp_label_copy      (const KpLabel      *label) G_GNUC_WARN_UNUSED_RESULT;
void          kp_label_free      (KpLabel            *label);
KpAnnotation *kp_annotation_copy (const KpAnnotation *annotation) G_GNUC_WARN_UNUSED_RESULT;
void          kp_annotation_free (KpAnnotation       *annotation);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpMedia, kp_media_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpLabel, kp_label_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpAnnotation, kp_annotation_free)

/* True for file names with an image extension the workstation opens
 * (png, jpg, jpeg, gif, bmp, tif, tiff, webp, pnm, ppm, pgm, pbm, tga), any case. */
gboolean kp_media_path_is_image (const char *path);

#define KP_TYPE_STORE (kp_store_get_type ())
G_DECLARE_FINAL_TYPE (KpStore, kp_store, KP, STORE, GObject)

/* Opens (creating if needed) the store of the project folder. The database is
 * FOLDER/.kempelen/project.db; when FOLDER is not writable it is
 * PARENT/NAME.kempelen/project.db; when that is not writable either, it is
 * $XDG_DATA_HOME/kempelen/projects/<sha256 of the absolute folder path>/project.db.
 * An existing database is looked up in the same order. An existing database
 * that cannot be written is copied to the first writable location.
 *
 * Never overwrites or migrates a database it cannot read: a corrupt file gives
 * KP_STORE_ERROR_CORRUPT, a newer schema KP_STORE_ERROR_TOO_NEW. Opens with
 * WAL, foreign_keys=ON, busy_timeout, STRICT tables, migrations on user_version.
 *
 * Does not scan the folder; call kp_store_scan(). One KpStore per thread:
 * another thread opens its own with kp_store_open() on the same folder. */
KpStore    *kp_store_open                (const char    *folder,
                                          GError       **error) G_GNUC_WARN_UNUSED_RESULT;
const char *kp_store_get_folder          (KpStore       *self);
const char *kp_store_get_database_path   (KpStore       *self);
/* Project display name: the folder's base name. */
char       *kp_store_dup_name            (KpStore       *self) G_GNUC_WARN_UNUSED_RESULT;

/* Walks the folder recursively (skipping hidden entries and the store's own
 * folders), adds new image files, updates size/mtime of changed ones (clearing
 * hash, dimensions and error when the file changed), marks vanished ones
 * MISSING (keeping their annotations) and un-marks them when they return.
 * One transaction. Unreadable subfolders are skipped with a g_warning. */
gboolean    kp_store_scan                (KpStore       *self,
                                          GCancellable  *cancellable,
                                          GError       **error);

/* All media ordered by path (natural order: "img2" before "img10").
 * Element type KpMedia, owned by the array. */
GPtrArray  *kp_store_list_media          (KpStore       *self,
                                          GError       **error) G_GNUC_WARN_UNUSED_RESULT;
KpMedia    *kp_store_get_media           (KpStore       *self,
                                          gint64         media_id,
                                          GError       **error) G_GNUC_WARN_UNUSED_RESULT;
/* Absolute path of a media file. */
char       *kp_store_dup_media_file      (KpStore       *self,
                                          const KpMedia *media) G_GNUC_WARN_UNUSED_RESULT;
/* Records what decoding found: hash may be NULL to leave it unchanged. */
gboolean    kp_store_set_media_info      (KpStore       *self,
                                          gint64         media_id,
                                          const char    *hash,
                                          int            width,
                                          int            height,
                                          GError       **error);
/* Marks media BROKEN with a message for people (error != NULL), or clears it. */
gboolean    kp_store_set_media_error     (KpStore       *self,
                                          gint64         media_id,
                                          const char    *message,
                                          GError       **error);
/* done TRUE: DONE; FALSE: back to TODO / IN_PROGRESS by annotation count. */
gboolean    kp_store_set_media_done      (KpStore       *self,
                                          gint64         media_id,
                                          gboolean       done,
                                          GError       **error);

GPtrArray  *kp_store_list_labels         (KpStore       *self,
                                          GError       **error) G_GNUC_WARN_UNUSED_RESULT;
KpLabel    *kp_store_get_label           (KpStore       *self,
                                          gint64         label_id,
                                          GError       **error) G_GNUC_WARN_UNUSED_RESULT;
/* Returns the new label id, or 0 with error (KP_STORE_ERROR_INVALID for an
 * empty or duplicate name, a bad colour, or a key already taken). */
gint64      kp_store_add_label           (KpStore       *self,
                                          const char    *name,
                                          const char    *color,
                                          int            key,
                                          GError       **error);
gboolean    kp_store_update_label        (KpStore       *self,
                                          const KpLabel *label,
                                          GError       **error);
/* Deletes the label and every annotation that uses it. */
gboolean    kp_store_delete_label        (KpStore       *self,
                                          gint64         label_id,
                                          GError       **error);
guint       kp_store_count_label_uses    (KpStore       *self,
                                          gint64         label_id,
                                          GError       **error);

/* Annotations of one media, ordered by id. Element type KpAnnotation. */
GPtrArray  *kp_store_list_annotations    (KpStore       *self,
                                          gint64         media_id,
                                          GError       **error) G_GNUC_WARN_UNUSED_RESULT;
/* Adds annotation (its id field is ignored unless non-zero, in which case
 * that id is used, for undoing a delete). Returns the id, or 0 with error.
 * Updates the media status from TODO to IN_PROGRESS. One transaction. */
gint64      kp_store_add_annotation      (KpStore            *self,
                                          const KpAnnotation *annotation,
                                          GError            **error);
/* Writes label, shape and rect of annotation->id. One transaction. */
gboolean    kp_store_update_annotation   (KpStore            *self,
                                          const KpAnnotation *annotation,
                                          GError            **error);
gboolean    kp_store_delete_annotation   (KpStore            *self,
                                          gint64              annotation_id,
                                          GError            **error);

/* Key/value settings of the project (e.g. "last-media-id"). */
char       *kp_store_dup_setting         (KpStore       *self,
                                          const char    *key) G_GNUC_WARN_UNUSED_RESULT;
gboolean    kp_store_set_setting         (KpStore       *self,
                                          const char    *key,
                                          const char    *value,
                                          GError       **error);

G_END_DECLS
