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
#include "kp-mask.h"

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
#define KP_STORE_SCHEMA_VERSION 2

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
  KP_SHAPE_ROTATED_BOX,         /* since schema 2: rotated */
  KP_SHAPE_POLYGON,             /* points, closed, at least 3 */
  KP_SHAPE_POLYLINE,            /* points, open, at least 2 */
  KP_SHAPE_LINE,                /* points, exactly 2 */
  KP_SHAPE_POINT,               /* points, exactly 1; keypoint, occluded */
  KP_SHAPE_MASK,                /* mask */
} KpShape;

#define KP_N_SHAPES (KP_SHAPE_MASK + 1)

typedef enum
{
  KP_ANNOTATION_HIDDEN             = 1 << 0,
  KP_ANNOTATION_LOCKED             = 1 << 1,
  /* A person changed this object after it was suggested (Ground Truth's
   * initialValueModified); set by every KpDocument edit of a suggestion. */
  KP_ANNOTATION_MODIFIED_BY_PERSON = 1 << 2,
} KpAnnotationFlags;

typedef enum
{
  KP_REVIEW_NONE = 0,           /* drawn by a person, not a suggestion */
  KP_REVIEW_PENDING,            /* an imported suggestion nobody decided on */
  KP_REVIEW_ACCEPTED,
  KP_REVIEW_REJECTED,           /* kept only by callers that want a record; KpDocument deletes rejected ones */
} KpReview;

typedef struct
{
  gint64  attribute_id;
  char   *value;                /* see KpAttributeKind for the text form */
} KpAttributeValue;

/* An annotation. rect is the box of a BOX and, for every other shape, its
 * axis-aligned bounds, which the store and KpDocument keep up to date (so
 * code that only knows boxes can cull and pick by rect). The fields after
 * rect are zero / NULL for a plain box; the pointers are owned (use
 * kp_annotation_copy() / kp_annotation_clear() rather than struct
 * assignment once they are set). */
typedef struct
{
  gint64             id;
  gint64             media_id;
  gint64             label_id;
  KpShape            shape;
  KpRect             rect;      /* image pixels */

  KpRotatedBox       rotated;   /* ROTATED_BOX */
  KpPoint           *points;    /* POLYGON, POLYLINE, LINE, POINT */
  guint              n_points;
  KpMask            *mask;      /* MASK */
  char              *keypoint;  /* POINT: keypoint name, or NULL */
  gboolean           occluded;  /* POINT: COCO visibility 1 rather than 2 */
  int                z;         /* drawing order: higher on top, then by id */
  KpAnnotationFlags  flags;
  KpReview           review;
  char              *source;    /* where a suggestion came from, or NULL */
  double             confidence; /* of a suggestion, 0..1; 0 when unknown */
  KpAttributeValue  *attributes; /* sorted by attribute_id */
  guint              n_attributes;
} KpAnnotation;

typedef enum
{
  KP_ATTRIBUTE_CHECKBOX = 0,    /* "true" / "false" */
  KP_ATTRIBUTE_CHOICE,          /* one of options */
  KP_ATTRIBUTE_TEXT,            /* any UTF-8 */
  KP_ATTRIBUTE_NUMBER,          /* a C-locale double within min..max */
} KpAttributeKind;

/* An attribute every object of a label has. */
typedef struct
{
  gint64           id;
  gint64           label_id;
  char            *name;
  KpAttributeKind  kind;
  char           **options;     /* CHOICE: NULL-terminated */
  double           min;         /* NUMBER; -G_MAXDOUBLE / G_MAXDOUBLE for none */
  double           max;
  char            *default_value; /* or NULL */
  int              position;
} KpAttribute;

/* Image-level tags: groups of tags, single- or multi-select. */
typedef struct
{
  gint64     id;
  char      *name;
  gboolean   multiple;
  int        position;
} KpTagGroup;

typedef struct
{
  gint64   id;
  gint64   group_id;
  char    *name;
  int      position;
} KpTag;

KpMedia      *kp_media_copy      (const KpMedia      *media) G_GNUC_WARN_UNUSED_RESULT;
void          kp_media_free      (KpMedia            *media);
KpLabel      *kp_label_copy      (const KpLabel      *label) G_GNUC_WARN_UNUSED_RESULT;
void          kp_label_free      (KpLabel            *label);
KpAnnotation *kp_annotation_copy (const KpAnnotation *annotation) G_GNUC_WARN_UNUSED_RESULT;
void          kp_annotation_free (KpAnnotation       *annotation);
/* Frees what annotation points to and zeroes it (for annotations on the stack). */
void          kp_annotation_clear (KpAnnotation      *annotation);
/* Deep copy into dest, which is overwritten (not cleared first). */
void          kp_annotation_copy_to (const KpAnnotation *annotation,
                                     KpAnnotation       *dest);
/* Every field, including id, compared exactly. */
gboolean      kp_annotation_equal (const KpAnnotation *a,
                                   const KpAnnotation *b);
/* Recomputes rect from the shape's geometry (nothing for BOX). */
void          kp_annotation_update_bounds (KpAnnotation *annotation);
/* Whether (x, y) hits the shape: inside a box, rotated box, polygon or
 * mask, or within tolerance of a line, polyline or point. */
gboolean      kp_annotation_hit (const KpAnnotation *annotation,
                                 double              x,
                                 double              y,
                                 double              tolerance);
/* Moves the shape by (dx, dy); a mask by the rounded amounts. */
void          kp_annotation_translate (KpAnnotation *annotation,
                                       double        dx,
                                       double        dy);
/* Sets points (copied), and rect. */
void          kp_annotation_set_points (KpAnnotation  *annotation,
                                        const KpPoint *points,
                                        guint          n_points);
/* The value of an attribute, or NULL. */
const char   *kp_annotation_get_attribute (const KpAnnotation *annotation,
                                           gint64              attribute_id);
/* Sets (value NULL: removes) one attribute value, keeping them sorted. */
void          kp_annotation_set_attribute (KpAnnotation *annotation,
                                           gint64        attribute_id,
                                           const char   *value);
const char   *kp_shape_to_string  (KpShape             shape);
gboolean      kp_shape_from_string (const char        *name,
                                    KpShape           *shape);

KpAttribute  *kp_attribute_copy  (const KpAttribute  *attribute) G_GNUC_WARN_UNUSED_RESULT;
void          kp_attribute_free  (KpAttribute        *attribute);
/* Whether value suits the attribute; error says why not. */
gboolean      kp_attribute_validate (const KpAttribute *attribute,
                                     const char        *value,
                                     GError           **error);
void          kp_tag_group_free  (KpTagGroup         *group);
void          kp_tag_free        (KpTag              *tag);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpMedia, kp_media_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpLabel, kp_label_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpAnnotation, kp_annotation_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (KpAnnotation, kp_annotation_clear)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpAttribute, kp_attribute_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpTagGroup, kp_tag_group_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpTag, kp_tag_free)

/* True for file names with an image extension the workstation opens
 * (png, jpg, jpeg, gif, bmp, tif, tiff, webp, pnm, ppm, pgm, pbm, tga), any case. */
gboolean kp_media_path_is_image (const char *path);
/* Since session 4 the scan also takes audio (wav, flac, ogg, oga, opus, mp3,
 * m4a, aac) and video (mp4, m4v, mkv, webm, mov, avi, ogv) files; the
 * workstation opens them in its audio and video pages. */
gboolean kp_media_path_is_audio (const char *path);
gboolean kp_media_path_is_video (const char *path);

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

/* Annotations of one media, ordered by id, with every field (geometry,
 * flags, suggestion, attribute values). Element type KpAnnotation. */
GPtrArray  *kp_store_list_annotations    (KpStore       *self,
                                          gint64         media_id,
                                          GError       **error) G_GNUC_WARN_UNUSED_RESULT;
/* Adds annotation (its id field is ignored unless non-zero, in which case
 * that id is used, for undoing a delete). Returns the id, or 0 with error.
 * Updates the media status from TODO to IN_PROGRESS. One transaction. */
gint64      kp_store_add_annotation      (KpStore            *self,
                                          const KpAnnotation *annotation,
                                          GError            **error);
/* Writes every field of annotation->id (label, shape, geometry, z, flags,
 * suggestion, attribute values). One transaction. */
gboolean    kp_store_update_annotation   (KpStore            *self,
                                          const KpAnnotation *annotation,
                                          GError            **error);
gboolean    kp_store_delete_annotation   (KpStore            *self,
                                          gint64              annotation_id,
                                          GError            **error);

/* Attribute definitions of a label, in position order. Element type KpAttribute. */
GPtrArray  *kp_store_list_attributes     (KpStore       *self,
                                          gint64         label_id,
                                          GError       **error) G_GNUC_WARN_UNUSED_RESULT;
/* Every attribute definition of every label. */
GPtrArray  *kp_store_list_all_attributes (KpStore       *self,
                                          GError       **error) G_GNUC_WARN_UNUSED_RESULT;
/* Returns the new id, or 0 with KP_STORE_ERROR_INVALID for an empty or
 * duplicate name (per label), a CHOICE without options, min > max or a
 * default value that does not validate. */
gint64      kp_store_add_attribute       (KpStore           *self,
                                          const KpAttribute *attribute,
                                          GError           **error);
gboolean    kp_store_update_attribute    (KpStore           *self,
                                          const KpAttribute *attribute,
                                          GError           **error);
/* Deletes the definition and every value of it. */
gboolean    kp_store_delete_attribute    (KpStore       *self,
                                          gint64         attribute_id,
                                          GError       **error);

GPtrArray  *kp_store_list_tag_groups     (KpStore       *self,
                                          GError       **error) G_GNUC_WARN_UNUSED_RESULT;
gint64      kp_store_add_tag_group       (KpStore       *self,
                                          const char    *name,
                                          gboolean       multiple,
                                          GError       **error);
gboolean    kp_store_delete_tag_group    (KpStore       *self,
                                          gint64         group_id,
                                          GError       **error);
/* Tags of a group (group_id 0: of every group), in position order. */
GPtrArray  *kp_store_list_tags           (KpStore       *self,
                                          gint64         group_id,
                                          GError       **error) G_GNUC_WARN_UNUSED_RESULT;
gint64      kp_store_add_tag             (KpStore       *self,
                                          gint64         group_id,
                                          const char    *name,
                                          GError       **error);
gboolean    kp_store_delete_tag          (KpStore       *self,
                                          gint64         tag_id,
                                          GError       **error);
/* The tag ids set on a media, ascending. Returns a GArray of gint64. */
GArray     *kp_store_get_media_tags      (KpStore       *self,
                                          gint64         media_id,
                                          GError       **error) G_GNUC_WARN_UNUSED_RESULT;
/* Replaces the tags of a media (undoably: use kp_document_set_tags()). A
 * single-select group may hold at most one of them (KP_STORE_ERROR_INVALID). */
gboolean    kp_store_set_media_tags      (KpStore       *self,
                                          gint64         media_id,
                                          const gint64  *tag_ids,
                                          guint          n_tag_ids,
                                          GError       **error);

/* Since session 5: SQLite's PRAGMA data_version of this connection. It
 * changes when another connection (another KpStore, in this process or
 * another, such as kempelenctl) commits to the database, and not for this
 * store's own writes; cheap enough to poll. -1 on error. */
gint64      kp_store_get_data_version    (KpStore       *self);

/* Key/value settings of the project (e.g. "last-media-id"). */
char       *kp_store_dup_setting         (KpStore       *self,
                                          const char    *key) G_GNUC_WARN_UNUSED_RESULT;
gboolean    kp_store_set_setting         (KpStore       *self,
                                          const char    *key,
                                          const char    *value,
                                          GError       **error);

G_END_DECLS
