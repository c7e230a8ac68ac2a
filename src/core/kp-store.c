/* kp-store.c: the local project store, one SQLite file per project
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-store.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>

#include "kp-store-private.h"

struct _KpStore
{
  GObject     parent_instance;

  char       *folder;           /* absolute */
  char       *database_path;
  sqlite3    *db;
  GHashTable *statements;       /* SQL text -> sqlite3_stmt, finalized with the store */
};

G_DEFINE_FINAL_TYPE (KpStore, kp_store, G_TYPE_OBJECT)

G_DEFINE_QUARK (kp-store-error-quark, kp_store_error)

/* A statement borrowed from the cache: reset (which ends its read
 * transaction) and unbound when it goes out of scope. */
typedef sqlite3_stmt CachedStmt;

static void
cached_stmt_release (CachedStmt *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CachedStmt, cached_stmt_release)

/* Schema migrations: migrations[N] takes user_version N to N + 1. */
static const char * const migrations[] = {
  /* 0 -> 1 */
  "CREATE TABLE media ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  path TEXT NOT NULL UNIQUE,"
  "  size INTEGER NOT NULL DEFAULT 0,"
  "  mtime INTEGER NOT NULL DEFAULT 0,"
  "  hash TEXT,"
  "  width INTEGER NOT NULL DEFAULT 0,"
  "  height INTEGER NOT NULL DEFAULT 0,"
  "  done INTEGER NOT NULL DEFAULT 0,"
  "  error TEXT,"
  "  missing INTEGER NOT NULL DEFAULT 0"
  ") STRICT;"
  "CREATE TABLE labels ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  name TEXT NOT NULL UNIQUE,"
  "  color TEXT NOT NULL,"
  "  key INTEGER NOT NULL DEFAULT 0 CHECK (key BETWEEN 0 AND 9),"
  "  position INTEGER NOT NULL DEFAULT 0"
  ") STRICT;"
  "CREATE UNIQUE INDEX labels_key ON labels (key) WHERE key <> 0;"
  "CREATE TABLE annotations ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  media_id INTEGER NOT NULL REFERENCES media (id) ON DELETE CASCADE,"
  "  label_id INTEGER NOT NULL REFERENCES labels (id) ON DELETE CASCADE,"
  "  shape INTEGER NOT NULL DEFAULT 0,"
  "  x REAL NOT NULL,"
  "  y REAL NOT NULL,"
  "  w REAL NOT NULL,"
  "  h REAL NOT NULL,"
  "  created INTEGER NOT NULL,"
  "  modified INTEGER NOT NULL"
  ") STRICT;"
  "CREATE INDEX annotations_media ON annotations (media_id);"
  "CREATE INDEX annotations_label ON annotations (label_id);"
  "CREATE TABLE settings ("
  "  key TEXT PRIMARY KEY,"
  "  value TEXT NOT NULL"
  ") STRICT;",

  /* 1 -> 2: every shape, per-object state, attributes, tags, undo journal.
   *
   * x, y, w, h stay the box of a BOX and become the bounds of the other
   * shapes, so old readers of boxes and bounding queries keep working.
   * geometry holds what the bounds cannot: little-endian IEEE doubles
   * (cx, cy, w, h, angle for a rotated box; x0, y0, x1, y1, … for point
   * shapes) or, for a mask, its varint RLE (kp_mask_serialize()). A BLOB
   * of doubles is exact, a fifth of the size of JSON text for a
   * 50,000-vertex polygon and read with one memcpy; nothing queries inside
   * the geometry, so JSON would buy nothing.
   *
   * history is the undo journal of each image: one JSON command per row,
   * done = 1 on the undo stack and 0 on the redo stack, written in the
   * same transaction as the edit it describes. labels lists the label ids
   * the command mentions (",3,5,") so deleting a label can drop them. */
  "ALTER TABLE annotations ADD COLUMN geometry BLOB;"
  "ALTER TABLE annotations ADD COLUMN keypoint TEXT;"
  "ALTER TABLE annotations ADD COLUMN occluded INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE annotations ADD COLUMN z INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE annotations ADD COLUMN flags INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE annotations ADD COLUMN review INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE annotations ADD COLUMN source TEXT;"
  "ALTER TABLE annotations ADD COLUMN confidence REAL NOT NULL DEFAULT 0;"
  "CREATE TABLE label_attributes ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  label_id INTEGER NOT NULL REFERENCES labels (id) ON DELETE CASCADE,"
  "  name TEXT NOT NULL,"
  "  kind INTEGER NOT NULL CHECK (kind BETWEEN 0 AND 3),"
  "  options TEXT,"
  "  min REAL,"
  "  max REAL,"
  "  default_value TEXT,"
  "  position INTEGER NOT NULL DEFAULT 0,"
  "  UNIQUE (label_id, name)"
  ") STRICT;"
  "CREATE TABLE annotation_attributes ("
  "  annotation_id INTEGER NOT NULL REFERENCES annotations (id) ON DELETE CASCADE,"
  "  attribute_id INTEGER NOT NULL REFERENCES label_attributes (id) ON DELETE CASCADE,"
  "  value TEXT NOT NULL,"
  "  PRIMARY KEY (annotation_id, attribute_id)"
  ") STRICT, WITHOUT ROWID;"
  "CREATE INDEX annotation_attributes_attribute ON annotation_attributes (attribute_id);"
  "CREATE TABLE tag_groups ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  name TEXT NOT NULL UNIQUE,"
  "  multiple INTEGER NOT NULL DEFAULT 0,"
  "  position INTEGER NOT NULL DEFAULT 0"
  ") STRICT;"
  "CREATE TABLE tags ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  group_id INTEGER NOT NULL REFERENCES tag_groups (id) ON DELETE CASCADE,"
  "  name TEXT NOT NULL,"
  "  position INTEGER NOT NULL DEFAULT 0,"
  "  UNIQUE (group_id, name)"
  ") STRICT;"
  "CREATE TABLE media_tags ("
  "  media_id INTEGER NOT NULL REFERENCES media (id) ON DELETE CASCADE,"
  "  tag_id INTEGER NOT NULL REFERENCES tags (id) ON DELETE CASCADE,"
  "  PRIMARY KEY (media_id, tag_id)"
  ") STRICT, WITHOUT ROWID;"
  "CREATE INDEX media_tags_tag ON media_tags (tag_id);"
  "CREATE TABLE history ("
  "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
  "  media_id INTEGER NOT NULL REFERENCES media (id) ON DELETE CASCADE,"
  "  done INTEGER NOT NULL,"
  "  labels TEXT NOT NULL DEFAULT ',',"
  "  command TEXT NOT NULL"
  ") STRICT;"
  "CREATE INDEX history_media ON history (media_id, done, id);",
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == KP_STORE_SCHEMA_VERSION);

/* Errors */

static KpStoreError
error_code_for_sqlite (int rc)
{
  switch (rc & 0xff)
    {
    case SQLITE_FULL:
      return KP_STORE_ERROR_FULL;

    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return KP_STORE_ERROR_CORRUPT;

    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_CANTOPEN:
      return KP_STORE_ERROR_READ_ONLY;

    case SQLITE_CONSTRAINT:
      return KP_STORE_ERROR_INVALID;

    default:
      return KP_STORE_ERROR_FAILED;
    }
}

/* Sets error from a failed SQLite call, with what (a sentence saying what
 * failed) first. A full disk gets its own sentence, since it is the one
 * the user can do something about. */
static void
set_sqlite_error (GError     **error,
                  sqlite3     *db,
                  int          rc,
                  const char  *what)
{
  KpStoreError code = error_code_for_sqlite (rc);
  const char *detail = db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc);

  if (code == KP_STORE_ERROR_FULL)
    g_set_error (error, KP_STORE_ERROR, code,
                 _("%s The disk is full; free some space and try again."), what);
  else
    g_set_error (error, KP_STORE_ERROR, code, "%s (%s)", what, detail);
}

static gboolean
exec (KpStore     *self,
      const char  *sql,
      const char  *what,
      GError     **error)
{
  int rc = sqlite3_exec (self->db, sql, NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    {
      set_sqlite_error (error, self->db, rc, what);
      return FALSE;
    }

  return TRUE;
}

static CachedStmt *
get_stmt (KpStore     *self,
          const char  *sql,
          GError     **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (self->statements, sql);

  if (stmt == NULL)
    {
      int rc = sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);

      if (rc != SQLITE_OK)
        {
          set_sqlite_error (error, self->db, rc, _("Could not read the project database."));
          return NULL;
        }

      g_hash_table_insert (self->statements, (char *)sql, stmt);
    }

  return stmt;
}

static gboolean
begin (KpStore  *self,
       GError  **error)
{
  return exec (self, "BEGIN IMMEDIATE", _("Could not start writing to the project database."), error);
}

static gboolean
commit (KpStore     *self,
        const char  *what,
        GError     **error)
{
  if (!exec (self, "COMMIT", what, error))
    {
      if (!sqlite3_get_autocommit (self->db))
        sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
      return FALSE;
    }

  return TRUE;
}

static void
rollback (KpStore *self)
{
  if (!sqlite3_get_autocommit (self->db))
    sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Runs a statement that returns no rows. */
static gboolean
step_done (KpStore      *self,
           sqlite3_stmt *stmt,
           const char   *what,
           GError      **error)
{
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_DONE && rc != SQLITE_ROW)
    {
      set_sqlite_error (error, self->db, rc, what);
      return FALSE;
    }

  return TRUE;
}

static gint64
now_seconds (void)
{
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* Boxed-ish helpers */

KpMedia *
kp_media_copy (const KpMedia *media)
{
  KpMedia *copy;

  g_return_val_if_fail (media != NULL, NULL);

  copy = g_new (KpMedia, 1);
  *copy = *media;
  copy->path = g_strdup (media->path);
  copy->hash = g_strdup (media->hash);
  copy->error = g_strdup (media->error);

  return copy;
}

void
kp_media_free (KpMedia *media)
{
  if (media == NULL)
    return;

  g_free (media->path);
  g_free (media->hash);
  g_free (media->error);
  g_free (media);
}

KpLabel *
kp_label_copy (const KpLabel *label)
{
  KpLabel *copy;

  g_return_val_if_fail (label != NULL, NULL);

  copy = g_new (KpLabel, 1);
  *copy = *label;
  copy->name = g_strdup (label->name);
  copy->color = g_strdup (label->color);

  return copy;
}

void
kp_label_free (KpLabel *label)
{
  if (label == NULL)
    return;

  g_free (label->name);
  g_free (label->color);
  g_free (label);
}

void
kp_annotation_copy_to (const KpAnnotation *annotation,
                       KpAnnotation       *dest)
{
  g_return_if_fail (annotation != NULL);
  g_return_if_fail (dest != NULL);

  *dest = *annotation;
  dest->points = annotation->n_points > 0 ? g_memdup2 (annotation->points,
                                                       annotation->n_points * sizeof (KpPoint)) : NULL;
  dest->mask = annotation->mask != NULL ? kp_mask_copy (annotation->mask) : NULL;
  dest->keypoint = g_strdup (annotation->keypoint);
  dest->source = g_strdup (annotation->source);
  dest->attributes = NULL;
  if (annotation->n_attributes > 0)
    {
      dest->attributes = g_new (KpAttributeValue, annotation->n_attributes);
      for (guint i = 0; i < annotation->n_attributes; i++)
        {
          dest->attributes[i].attribute_id = annotation->attributes[i].attribute_id;
          dest->attributes[i].value = g_strdup (annotation->attributes[i].value);
        }
    }
}

KpAnnotation *
kp_annotation_copy (const KpAnnotation *annotation)
{
  KpAnnotation *copy;

  g_return_val_if_fail (annotation != NULL, NULL);

  copy = g_new (KpAnnotation, 1);
  kp_annotation_copy_to (annotation, copy);

  return copy;
}

void
kp_annotation_clear (KpAnnotation *annotation)
{
  if (annotation == NULL)
    return;

  g_free (annotation->points);
  kp_mask_free (annotation->mask);
  g_free (annotation->keypoint);
  g_free (annotation->source);
  for (guint i = 0; i < annotation->n_attributes; i++)
    g_free (annotation->attributes[i].value);
  g_free (annotation->attributes);
  memset (annotation, 0, sizeof *annotation);
}

void
kp_annotation_free (KpAnnotation *annotation)
{
  if (annotation == NULL)
    return;

  kp_annotation_clear (annotation);
  g_free (annotation);
}

gboolean
kp_annotation_equal (const KpAnnotation *a,
                     const KpAnnotation *b)
{
  if (a->id != b->id || a->media_id != b->media_id || a->label_id != b->label_id ||
      a->shape != b->shape || memcmp (&a->rect, &b->rect, sizeof (KpRect)) != 0 ||
      memcmp (&a->rotated, &b->rotated, sizeof (KpRotatedBox)) != 0 ||
      a->n_points != b->n_points ||
      (a->n_points > 0 && memcmp (a->points, b->points, a->n_points * sizeof (KpPoint)) != 0) ||
      !kp_mask_equal (a->mask, b->mask) ||
      g_strcmp0 (a->keypoint, b->keypoint) != 0 || !a->occluded != !b->occluded ||
      a->z != b->z || a->flags != b->flags || a->review != b->review ||
      g_strcmp0 (a->source, b->source) != 0 || a->confidence != b->confidence ||
      a->n_attributes != b->n_attributes)
    return FALSE;

  for (guint i = 0; i < a->n_attributes; i++)
    if (a->attributes[i].attribute_id != b->attributes[i].attribute_id ||
        g_strcmp0 (a->attributes[i].value, b->attributes[i].value) != 0)
      return FALSE;

  return TRUE;
}

void
kp_annotation_update_bounds (KpAnnotation *annotation)
{
  g_return_if_fail (annotation != NULL);

  switch (annotation->shape)
    {
    case KP_SHAPE_BOX:
      annotation->rect = kp_rect_normalize (annotation->rect);
      break;

    case KP_SHAPE_ROTATED_BOX:
      annotation->rect = kp_rotated_box_bounds (&annotation->rotated);
      break;

    case KP_SHAPE_POLYGON:
    case KP_SHAPE_POLYLINE:
    case KP_SHAPE_LINE:
    case KP_SHAPE_POINT:
      annotation->rect = kp_points_bounds (annotation->points, annotation->n_points);
      break;

    case KP_SHAPE_MASK:
      annotation->rect = kp_mask_get_bounds (annotation->mask);
      break;

    default:
      break;
    }
}

gboolean
kp_annotation_hit (const KpAnnotation *annotation,
                   double              x,
                   double              y,
                   double              tolerance)
{
  g_return_val_if_fail (annotation != NULL, FALSE);

  switch (annotation->shape)
    {
    case KP_SHAPE_BOX:
      return kp_rect_contains (&annotation->rect, x, y);

    case KP_SHAPE_ROTATED_BOX:
      return kp_rotated_box_contains (&annotation->rotated, x, y);

    case KP_SHAPE_POLYGON:
      return kp_polygon_contains (annotation->points, annotation->n_points, x, y) ||
             kp_polyline_distance (annotation->points, annotation->n_points, TRUE, x, y, NULL) <= tolerance;

    case KP_SHAPE_POLYLINE:
    case KP_SHAPE_LINE:
    case KP_SHAPE_POINT:
      return kp_polyline_distance (annotation->points, annotation->n_points, FALSE, x, y, NULL) <= tolerance;

    case KP_SHAPE_MASK:
      return annotation->mask != NULL && kp_mask_get (annotation->mask, (int)floor (x), (int)floor (y));

    default:
      return FALSE;
    }
}

void
kp_annotation_translate (KpAnnotation *annotation,
                         double        dx,
                         double        dy)
{
  g_return_if_fail (annotation != NULL);

  switch (annotation->shape)
    {
    case KP_SHAPE_BOX:
      annotation->rect = kp_rect_translate (annotation->rect, dx, dy);
      return;

    case KP_SHAPE_ROTATED_BOX:
      annotation->rotated.cx += dx;
      annotation->rotated.cy += dy;
      break;

    case KP_SHAPE_MASK:
      if (annotation->mask != NULL)
        {
          KpMask *moved = kp_mask_translate (annotation->mask, (int)round (dx), (int)round (dy));

          kp_mask_free (annotation->mask);
          annotation->mask = moved;
        }
      break;

    default:
      kp_points_translate (annotation->points, annotation->n_points, dx, dy);
      break;
    }

  kp_annotation_update_bounds (annotation);
}

void
kp_annotation_set_points (KpAnnotation  *annotation,
                          const KpPoint *points,
                          guint          n_points)
{
  KpPoint *copy;

  g_return_if_fail (annotation != NULL);

  copy = n_points > 0 ? g_memdup2 (points, n_points * sizeof (KpPoint)) : NULL;
  g_free (annotation->points);
  annotation->points = copy;
  annotation->n_points = n_points;
  kp_annotation_update_bounds (annotation);
}

const char *
kp_annotation_get_attribute (const KpAnnotation *annotation,
                             gint64              attribute_id)
{
  g_return_val_if_fail (annotation != NULL, NULL);

  for (guint i = 0; i < annotation->n_attributes; i++)
    if (annotation->attributes[i].attribute_id == attribute_id)
      return annotation->attributes[i].value;

  return NULL;
}

void
kp_annotation_set_attribute (KpAnnotation *annotation,
                             gint64        attribute_id,
                             const char   *value)
{
  guint i;

  g_return_if_fail (annotation != NULL);

  for (i = 0; i < annotation->n_attributes; i++)
    if (annotation->attributes[i].attribute_id >= attribute_id)
      break;

  if (i < annotation->n_attributes && annotation->attributes[i].attribute_id == attribute_id)
    {
      if (value != NULL)
        {
          char *copy = g_strdup (value);

          g_free (annotation->attributes[i].value);
          annotation->attributes[i].value = copy;
          return;
        }

      g_free (annotation->attributes[i].value);
      memmove (&annotation->attributes[i], &annotation->attributes[i + 1],
               (annotation->n_attributes - i - 1) * sizeof (KpAttributeValue));
      annotation->n_attributes--;
      if (annotation->n_attributes == 0)
        g_clear_pointer (&annotation->attributes, g_free);
      return;
    }

  if (value == NULL)
    return;

  annotation->attributes = g_renew (KpAttributeValue, annotation->attributes,
                                    annotation->n_attributes + 1);
  memmove (&annotation->attributes[i + 1], &annotation->attributes[i],
           (annotation->n_attributes - i) * sizeof (KpAttributeValue));
  annotation->attributes[i].attribute_id = attribute_id;
  annotation->attributes[i].value = g_strdup (value);
  annotation->n_attributes++;
}

static const char * const shape_names[] = {
  "box", "rotated-box", "polygon", "polyline", "line", "point", "mask",
};

G_STATIC_ASSERT (G_N_ELEMENTS (shape_names) == KP_N_SHAPES);

const char *
kp_shape_to_string (KpShape shape)
{
  if ((guint)shape >= KP_N_SHAPES)
    return NULL;

  return shape_names[shape];
}

gboolean
kp_shape_from_string (const char *name,
                      KpShape    *shape)
{
  g_return_val_if_fail (shape != NULL, FALSE);

  for (guint i = 0; name != NULL && i < KP_N_SHAPES; i++)
    if (g_ascii_strcasecmp (name, shape_names[i]) == 0)
      {
        *shape = i;
        return TRUE;
      }

  return FALSE;
}

KpAttribute *
kp_attribute_copy (const KpAttribute *attribute)
{
  KpAttribute *copy;

  g_return_val_if_fail (attribute != NULL, NULL);

  copy = g_new (KpAttribute, 1);
  *copy = *attribute;
  copy->name = g_strdup (attribute->name);
  copy->options = g_strdupv (attribute->options);
  copy->default_value = g_strdup (attribute->default_value);

  return copy;
}

void
kp_attribute_free (KpAttribute *attribute)
{
  if (attribute == NULL)
    return;

  g_free (attribute->name);
  g_strfreev (attribute->options);
  g_free (attribute->default_value);
  g_free (attribute);
}

gboolean
kp_attribute_validate (const KpAttribute  *attribute,
                       const char         *value,
                       GError            **error)
{
  g_return_val_if_fail (attribute != NULL, FALSE);

  if (value == NULL || !g_utf8_validate (value, -1, NULL))
    {
      g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                   _("The value of “%s” must be text."), attribute->name);
      return FALSE;
    }

  switch (attribute->kind)
    {
    case KP_ATTRIBUTE_CHECKBOX:
      if (strcmp (value, "true") != 0 && strcmp (value, "false") != 0)
        {
          g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                       _("“%s” is a checkbox: its value is true or false, not “%s”."),
                       attribute->name, value);
          return FALSE;
        }
      return TRUE;

    case KP_ATTRIBUTE_CHOICE:
      if (attribute->options == NULL || !g_strv_contains ((const char * const *)attribute->options, value))
        {
          g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                       _("“%s” is not one of the choices of “%s”."), value, attribute->name);
          return FALSE;
        }
      return TRUE;

    case KP_ATTRIBUTE_TEXT:
      return TRUE;

    case KP_ATTRIBUTE_NUMBER:
      {
        char *end = NULL;
        double v = g_ascii_strtod (value, &end);

        if (value[0] == '\0' || end == NULL || *end != '\0' || !isfinite (v))
          {
            g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                         _("“%s” is a number; “%s” is not."), attribute->name, value);
            return FALSE;
          }
        if (v < attribute->min || v > attribute->max)
          {
            g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                         _("“%s” must be between %g and %g."), attribute->name,
                         attribute->min, attribute->max);
            return FALSE;
          }
        return TRUE;
      }

    default:
      g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                           _("This kind of attribute is not supported."));
      return FALSE;
    }
}

void
kp_tag_group_free (KpTagGroup *group)
{
  if (group == NULL)
    return;

  g_free (group->name);
  g_free (group);
}

void
kp_tag_free (KpTag *tag)
{
  if (tag == NULL)
    return;

  g_free (tag->name);
  g_free (tag);
}

static gboolean
path_has_extension (const char         *path,
                    const char * const *extensions,
                    gsize               n_extensions)
{
  const char *base;
  const char *dot;

  base = strrchr (path, '/');
  base = base != NULL ? base + 1 : path;
  dot = strrchr (base, '.');
  if (dot == NULL || dot == base)
    return FALSE;

  for (gsize i = 0; i < n_extensions; i++)
    if (g_ascii_strcasecmp (dot + 1, extensions[i]) == 0)
      return TRUE;

  return FALSE;
}

gboolean
kp_media_path_is_image (const char *path)
{
  static const char * const extensions[] = {
    "png", "jpg", "jpeg", "gif", "bmp", "tif", "tiff", "webp",
    "pnm", "ppm", "pgm", "pbm", "tga",
  };

  g_return_val_if_fail (path != NULL, FALSE);

  return path_has_extension (path, extensions, G_N_ELEMENTS (extensions));
}

gboolean
kp_media_path_is_audio (const char *path)
{
  static const char * const extensions[] = {
    "wav", "flac", "ogg", "oga", "opus", "mp3", "m4a", "aac",
  };

  g_return_val_if_fail (path != NULL, FALSE);

  return path_has_extension (path, extensions, G_N_ELEMENTS (extensions));
}

gboolean
kp_media_path_is_video (const char *path)
{
  static const char * const extensions[] = {
    "mp4", "m4v", "mkv", "webm", "mov", "avi", "ogv",
  };

  g_return_val_if_fail (path != NULL, FALSE);

  return path_has_extension (path, extensions, G_N_ELEMENTS (extensions));
}

/* GObject */

static void
kp_store_finalize (GObject *object)
{
  KpStore *self = (KpStore *)object;

  g_clear_pointer (&self->statements, g_hash_table_unref);
  if (self->db != NULL)
    sqlite3_close_v2 (self->db);
  g_clear_pointer (&self->folder, g_free);
  g_clear_pointer (&self->database_path, g_free);

  G_OBJECT_CLASS (kp_store_parent_class)->finalize (object);
}

static void
kp_store_class_init (KpStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = kp_store_finalize;
}

static void
kp_store_init (KpStore *self)
{
  self->statements = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                            (GDestroyNotify)sqlite3_finalize);
}

/* Where the database lives */

GStrv
_kp_store_candidate_paths (const char *folder)
{
  GPtrArray *paths = g_ptr_array_new ();
  g_autofree char *parent = NULL;
  g_autofree char *name = NULL;
  g_autofree char *digest = NULL;

  g_return_val_if_fail (folder != NULL, NULL);
  g_return_val_if_fail (g_path_is_absolute (folder), NULL);

  g_ptr_array_add (paths, g_build_filename (folder, KP_STORE_DIRNAME, KP_STORE_FILENAME, NULL));

  parent = g_path_get_dirname (folder);
  name = g_path_get_basename (folder);
  if (g_strcmp0 (parent, folder) != 0 && strcmp (name, G_DIR_SEPARATOR_S) != 0)
    {
      g_autofree char *dirname = g_strconcat (name, ".kempelen", NULL);

      g_ptr_array_add (paths, g_build_filename (parent, dirname, KP_STORE_FILENAME, NULL));
    }

  digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, folder, -1);
  g_ptr_array_add (paths, g_build_filename (g_get_user_data_dir (), "kempelen", "projects",
                                            digest, KP_STORE_FILENAME, NULL));
  g_ptr_array_add (paths, NULL);

  return (GStrv)g_ptr_array_free (paths, FALSE);
}

gboolean
_kp_store_path_writable (const char *path,
                         gpointer    user_data)
{
  return g_access (path, W_OK) == 0;
}

/* A database path can be used for writing when the file (if it exists) and
 * its folder are writable, or when the nearest existing ancestor of the
 * folder is, so that the missing folders can be made. */
static gboolean
location_writable (const char          *db_path,
                   KpStoreWritableFunc  writable,
                   gpointer             user_data)
{
  g_autofree char *dir = g_path_get_dirname (db_path);

  if (g_file_test (db_path, G_FILE_TEST_EXISTS))
    return writable (db_path, user_data) && writable (dir, user_data);

  while (!g_file_test (dir, G_FILE_TEST_EXISTS))
    {
      g_autofree char *up = g_path_get_dirname (dir);

      if (strcmp (up, dir) == 0)
        return FALSE;
      g_free (dir);
      dir = g_steal_pointer (&up);
    }

  return g_file_test (dir, G_FILE_TEST_IS_DIR) && writable (dir, user_data);
}

char *
_kp_store_locate (const char           *folder,
                  KpStoreWritableFunc   writable,
                  gpointer              user_data,
                  char                **copy_from,
                  GError              **error)
{
  g_auto(GStrv) candidates = NULL;
  const char *read_only = NULL;

  g_return_val_if_fail (folder != NULL, NULL);
  g_return_val_if_fail (writable != NULL, NULL);
  g_return_val_if_fail (copy_from != NULL, NULL);

  *copy_from = NULL;
  candidates = _kp_store_candidate_paths (folder);

  /* An existing database we can write wins, in lookup order; that also
   * finds the copy made of a read-only one on an earlier run. */
  for (guint i = 0; candidates[i] != NULL; i++)
    {
      if (!g_file_test (candidates[i], G_FILE_TEST_EXISTS))
        continue;

      if (location_writable (candidates[i], writable, user_data))
        return g_strdup (candidates[i]);

      if (read_only == NULL)
        read_only = candidates[i];
    }

  for (guint i = 0; candidates[i] != NULL; i++)
    {
      if (!g_file_test (candidates[i], G_FILE_TEST_EXISTS) &&
          location_writable (candidates[i], writable, user_data))
        {
          *copy_from = g_strdup (read_only);
          return g_strdup (candidates[i]);
        }
    }

  g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_READ_ONLY,
               _("There is nowhere to keep the project database of “%s”: the folder, "
                 "its parent folder and %s are all read-only."),
               folder, g_get_user_data_dir ());
  return NULL;
}

static gboolean
copy_database (const char  *from,
               const char  *to,
               GError     **error)
{
  static const char * const suffixes[] = { "", "-wal" };
  g_autofree char *dir = g_path_get_dirname (to);

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int errsv = errno;

      g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_READ_ONLY,
                   _("Could not create the folder “%s”: %s"), dir, g_strerror (errsv));
      return FALSE;
    }

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *src_path = g_strconcat (from, suffixes[i], NULL);
      g_autofree char *dst_path = g_strconcat (to, suffixes[i], NULL);
      g_autoptr(GFile) src = g_file_new_for_path (src_path);
      g_autoptr(GFile) dst = g_file_new_for_path (dst_path);
      g_autoptr(GError) local_error = NULL;

      if (i > 0 && !g_file_test (src_path, G_FILE_TEST_EXISTS))
        continue;

      if (!g_file_copy (src, dst, G_FILE_COPY_TARGET_DEFAULT_PERMS, NULL, NULL, NULL, &local_error))
        {
          g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_FAILED,
                       _("Could not copy the read-only project database “%s” to “%s”: %s"),
                       from, to, local_error->message);
          return FALSE;
        }
    }

  g_debug ("Copied read-only database %s to %s", from, to);

  return TRUE;
}

static void
remove_database_files (const char *path)
{
  static const char * const suffixes[] = { "", "-wal", "-shm", "-journal" };

  for (guint i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *p = g_strconcat (path, suffixes[i], NULL);

      g_unlink (p);
    }
}

/* Opening */

static gboolean
check_header (const char  *path,
              GError     **error)
{
  static const char magic[16] = "SQLite format 3";
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileInputStream) stream = NULL;
  g_autoptr(GError) local_error = NULL;
  char header[sizeof magic] = { 0 };
  gsize n_read = 0;

  stream = g_file_read (file, NULL, &local_error);
  if (stream == NULL ||
      !g_input_stream_read_all (G_INPUT_STREAM (stream), header, sizeof header, &n_read, NULL, &local_error))
    {
      g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_FAILED,
                   _("Could not read the project database “%s”: %s"), path, local_error->message);
      return FALSE;
    }

  /* SQLite itself treats an empty file as an empty database. */
  if (n_read == 0)
    return TRUE;

  if (n_read < sizeof header || memcmp (header, magic, sizeof magic) != 0)
    {
      g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_CORRUPT,
                   _("The project database “%s” is damaged or is not a Kempelen database. "
                     "It was left untouched; move it away to start afresh."),
                   path);
      return FALSE;
    }

  return TRUE;
}

static void
set_corrupt_error (GError     **error,
                   const char  *path,
                   const char  *detail)
{
  g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_CORRUPT,
               _("The project database “%s” is damaged (%s). "
                 "It was left untouched; move it away to start afresh."),
               path, detail);
}

/* Checks an existing database before anything could write to it. */
static gboolean
check_database (KpStore  *self,
                int      *user_version,
                GError  **error)
{
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autoptr(GString) problems = g_string_new (NULL);
  const char *row;
  int rc;

  rc = sqlite3_prepare_v2 (self->db, "PRAGMA quick_check", -1, &stmt, NULL);
  while (rc == SQLITE_OK || rc == SQLITE_ROW)
    {
      if ((rc = sqlite3_step (stmt)) != SQLITE_ROW)
        break;

      row = (const char *)sqlite3_column_text (stmt, 0);
      if (g_strcmp0 (row, "ok") != 0 && problems->len < 200)
        g_string_append_printf (problems, "%s%s", problems->len ? "; " : "", row);
    }

  if (rc != SQLITE_DONE && rc != SQLITE_OK)
    {
      if (error_code_for_sqlite (rc) == KP_STORE_ERROR_CORRUPT)
        set_corrupt_error (error, self->database_path, sqlite3_errmsg (self->db));
      else
        set_sqlite_error (error, self->db, rc, _("Could not read the project database."));
      return FALSE;
    }

  if (problems->len > 0)
    {
      set_corrupt_error (error, self->database_path, problems->str);
      return FALSE;
    }

  g_clear_pointer (&stmt, sqlite3_finalize);
  rc = sqlite3_prepare_v2 (self->db, "PRAGMA user_version", -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      set_sqlite_error (error, self->db, rc, _("Could not read the project database."));
      return FALSE;
    }
  *user_version = sqlite3_column_int (stmt, 0);

  if (*user_version > KP_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_TOO_NEW,
                   _("The project database “%s” was made by a newer version of Kempelen "
                     "(schema %d; this version knows %d). It was left untouched; "
                     "open it with a newer Kempelen."),
                   self->database_path, *user_version, KP_STORE_SCHEMA_VERSION);
      return FALSE;
    }

  return TRUE;
}

static gboolean
migrate (KpStore  *self,
         int       from_version,
         GError  **error)
{
  g_autofree char *set_version = NULL;

  if (from_version == KP_STORE_SCHEMA_VERSION)
    return TRUE;

  if (!begin (self, error))
    return FALSE;

  for (int v = from_version; v < KP_STORE_SCHEMA_VERSION; v++)
    {
      g_debug ("Migrating %s from schema %d to %d", self->database_path, v, v + 1);
      if (!exec (self, migrations[v], _("Could not update the project database."), error))
        {
          rollback (self);
          return FALSE;
        }
    }

  set_version = g_strdup_printf ("PRAGMA user_version = %d", KP_STORE_SCHEMA_VERSION);
  if (!exec (self, set_version, _("Could not update the project database."), error))
    {
      rollback (self);
      return FALSE;
    }

  return commit (self, _("Could not update the project database."), error);
}

static gboolean
open_database (KpStore  *self,
               GError  **error)
{
  g_autofree char *dir = g_path_get_dirname (self->database_path);
  int user_version = 0;
  int rc;

  if (g_file_test (self->database_path, G_FILE_TEST_EXISTS))
    {
      if (!g_file_test (self->database_path, G_FILE_TEST_IS_REGULAR))
        {
          g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_CORRUPT,
                       _("The project database “%s” is not a regular file. "
                         "It was left untouched; move it away to start afresh."),
                       self->database_path);
          return FALSE;
        }

      if (!check_header (self->database_path, error))
        return FALSE;
    }
  else if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      int errsv = errno;

      g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_READ_ONLY,
                   _("Could not create the folder “%s”: %s"), dir, g_strerror (errsv));
      return FALSE;
    }

  /* The default (serialized) threading mode: a KpStore belongs to one
   * thread, but a mistake there should not corrupt SQLite's state. */
  rc = sqlite3_open_v2 (self->database_path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        NULL);
  if (rc != SQLITE_OK)
    {
      g_autofree char *what = g_strdup_printf (_("Could not open the project database “%s”."),
                                               self->database_path);

      set_sqlite_error (error, self->db, rc, what);
      return FALSE;
    }

  sqlite3_extended_result_codes (self->db, TRUE);
  sqlite3_busy_timeout (self->db, 5000);

  if (!check_database (self, &user_version, error))
    return FALSE;

  /* Only now that the file is known to be ours may it change. */
  if (!exec (self, "PRAGMA journal_mode = WAL", _("Could not set up the project database."), error) ||
      !exec (self, "PRAGMA synchronous = NORMAL", _("Could not set up the project database."), error) ||
      !exec (self, "PRAGMA foreign_keys = ON", _("Could not set up the project database."), error))
    return FALSE;

  return migrate (self, user_version, error);
}

static char *
absolute_folder (const char *folder)
{
  g_autofree char *canonical = g_canonicalize_filename (folder, NULL);
  char resolved[PATH_MAX];

  /* Resolve symbolic links, so that two ways to name a folder share one
   * database in the per-user fallback location. */
  if (realpath (canonical, resolved) != NULL)
    return g_strdup (resolved);

  return g_steal_pointer (&canonical);
}

KpStore *
kp_store_open (const char  *folder,
               GError     **error)
{
  g_autoptr(KpStore) self = NULL;
  g_autofree char *copy_from = NULL;

  g_return_val_if_fail (folder != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (KP_TYPE_STORE, NULL);
  self->folder = absolute_folder (folder);

  if (!g_file_test (self->folder, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_NOT_FOUND,
                   _("The folder “%s” does not exist."), folder);
      return NULL;
    }

  self->database_path = _kp_store_locate (self->folder, _kp_store_path_writable, NULL,
                                          &copy_from, error);
  if (self->database_path == NULL)
    return NULL;

  if (copy_from != NULL)
    {
      /* Refuse a bad database before copying it anywhere. */
      if (!check_header (copy_from, error))
        return NULL;
      if (!copy_database (copy_from, self->database_path, error))
        {
          remove_database_files (self->database_path);
          return NULL;
        }
    }

  if (!open_database (self, error))
    {
      /* A copy we made is ours to take back; the original stays. */
      if (copy_from != NULL)
        {
          g_clear_pointer (&self->statements, g_hash_table_unref);
          g_clear_pointer (&self->db, sqlite3_close_v2);
          remove_database_files (self->database_path);
        }
      return NULL;
    }

  g_debug ("Opened project %s with database %s", self->folder, self->database_path);

  return g_steal_pointer (&self);
}

const char *
kp_store_get_folder (KpStore *self)
{
  g_return_val_if_fail (KP_IS_STORE (self), NULL);

  return self->folder;
}

const char *
kp_store_get_database_path (KpStore *self)
{
  g_return_val_if_fail (KP_IS_STORE (self), NULL);

  return self->database_path;
}

char *
kp_store_dup_name (KpStore *self)
{
  g_autofree char *base = NULL;

  g_return_val_if_fail (KP_IS_STORE (self), NULL);

  base = g_path_get_basename (self->folder);

  return g_filename_display_name (base);
}

sqlite3 *
_kp_store_get_db (KpStore *self)
{
  g_return_val_if_fail (KP_IS_STORE (self), NULL);

  return self->db;
}

/* Scanning */

typedef struct
{
  gint64   id;
  gint64   size;
  gint64   mtime;
  gboolean missing;
  gboolean seen;
} KnownMedia;

typedef struct
{
  KpStore      *self;
  GHashTable   *known;          /* UTF-8 relative path -> KnownMedia */
  const char   *skip_dir;       /* the database's own folder */
  GCancellable *cancellable;
  CachedStmt   *insert;
  CachedStmt   *update;
  CachedStmt   *set_missing;
  guint         n_added;
  guint         n_changed;
} ScanState;

#define SCAN_ATTRIBUTES \
  G_FILE_ATTRIBUTE_STANDARD_NAME "," \
  G_FILE_ATTRIBUTE_STANDARD_TYPE "," \
  G_FILE_ATTRIBUTE_STANDARD_SIZE "," \
  G_FILE_ATTRIBUTE_STANDARD_IS_HIDDEN "," \
  G_FILE_ATTRIBUTE_STANDARD_IS_SYMLINK "," \
  G_FILE_ATTRIBUTE_TIME_MODIFIED

static gboolean
scan_file (ScanState   *state,
           const char  *relative,
           GFileInfo   *info,
           GError     **error)
{
  KpStore *self = state->self;
  KnownMedia *known;
  gint64 size = g_file_info_get_size (info);
  gint64 mtime = (gint64)g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_TIME_MODIFIED);
  sqlite3_stmt *stmt;

  known = g_hash_table_lookup (state->known, relative);
  if (known == NULL)
    {
      stmt = state->insert;
      sqlite3_reset (stmt);
      sqlite3_bind_text (stmt, 1, relative, -1, SQLITE_TRANSIENT);
      sqlite3_bind_int64 (stmt, 2, size);
      sqlite3_bind_int64 (stmt, 3, mtime);
      state->n_added++;
    }
  else
    {
      known->seen = TRUE;
      if (known->size == size && known->mtime == mtime && !known->missing)
        return TRUE;

      /* A changed file: what was learnt from decoding it is stale. */
      stmt = state->update;
      sqlite3_reset (stmt);
      sqlite3_bind_int64 (stmt, 1, size);
      sqlite3_bind_int64 (stmt, 2, mtime);
      sqlite3_bind_int (stmt, 3, known->size != size || known->mtime != mtime);
      sqlite3_bind_int64 (stmt, 4, known->id);
      state->n_changed++;
    }

  return step_done (self, stmt, _("Could not save the list of images."), error);
}

static gboolean
scan_folder (ScanState   *state,
             GFile       *dir,
             const char  *prefix,
             GError     **error)
{
  g_autoptr(GFileEnumerator) enumerator = NULL;
  g_autoptr(GError) local_error = NULL;

  enumerator = g_file_enumerate_children (dir, SCAN_ATTRIBUTES, G_FILE_QUERY_INFO_NONE,
                                          state->cancellable, &local_error);
  if (enumerator == NULL)
    {
      g_autofree char *path = g_file_get_path (dir);

      if (prefix == NULL || g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                      _("Could not read the folder “%s”: "), path);
          return FALSE;
        }

      g_warning ("Skipping unreadable folder %s: %s", path, local_error->message);
      return TRUE;
    }

  for (;;)
    {
      g_autoptr(GFileInfo) info = NULL;
      g_autofree char *relative = NULL;
      g_autofree char *utf8 = NULL;
      const char *name;
      GFileType type;

      info = g_file_enumerator_next_file (enumerator, state->cancellable, &local_error);
      if (info == NULL)
        break;

      name = g_file_info_get_name (info);
      if (name[0] == '.' || g_file_info_get_is_hidden (info))
        continue;

      type = g_file_info_get_file_type (info);
      relative = prefix != NULL ? g_build_filename (prefix, name, NULL) : g_strdup (name);

      if (type == G_FILE_TYPE_DIRECTORY)
        {
          g_autoptr(GFile) child = NULL;
          g_autofree char *child_path = NULL;

          /* Following linked folders could loop forever. */
          if (g_file_info_get_is_symlink (info))
            continue;

          child = g_file_get_child (dir, name);
          child_path = g_file_get_path (child);
          if (g_strcmp0 (child_path, state->skip_dir) == 0)
            continue;

          if (!scan_folder (state, child, relative, error))
            return FALSE;
        }
      else if (type == G_FILE_TYPE_REGULAR &&
               (kp_media_path_is_image (name) ||
                kp_media_path_is_audio (name) ||
                kp_media_path_is_video (name)))
        {
          utf8 = g_filename_to_utf8 (relative, -1, NULL, NULL, NULL);
          if (utf8 == NULL)
            {
              g_debug ("Skipping %s: its name is not valid text", relative);
              continue;
            }

          if (!scan_file (state, utf8, info, error))
            return FALSE;
        }
    }

  if (local_error != NULL)
    {
      g_autofree char *path = g_file_get_path (dir);

      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }

      g_warning ("Could not read all of folder %s: %s", path, local_error->message);
    }

  return TRUE;
}

gboolean
kp_store_scan (KpStore       *self,
               GCancellable  *cancellable,
               GError       **error)
{
  g_autoptr(GHashTable) known = NULL;
  g_autoptr(GFile) root = NULL;
  g_autofree char *skip_dir = NULL;
  ScanState state = { 0 };
  GHashTableIter iter;
  gpointer key, value;
  CachedStmt *stmt;
  gint64 start = g_get_monotonic_time ();
  int rc;

  g_return_val_if_fail (KP_IS_STORE (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  known = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  if (!(state.insert = get_stmt (self, "INSERT INTO media (path, size, mtime) VALUES (?, ?, ?)", error)) ||
      !(state.update = get_stmt (self,
                                 "UPDATE media SET size = ?1, mtime = ?2, missing = 0,"
                                 " hash = iif(?3, NULL, hash), width = iif(?3, 0, width),"
                                 " height = iif(?3, 0, height), error = iif(?3, NULL, error)"
                                 " WHERE id = ?4", error)) ||
      !(state.set_missing = get_stmt (self, "UPDATE media SET missing = 1 WHERE id = ?", error)))
    return FALSE;

  if (!begin (self, error))
    return FALSE;

  stmt = get_stmt (self, "SELECT id, path, size, mtime, missing FROM media", error);
  if (stmt == NULL)
    {
      rollback (self);
      return FALSE;
    }
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      KnownMedia *m = g_new0 (KnownMedia, 1);

      m->id = sqlite3_column_int64 (stmt, 0);
      m->size = sqlite3_column_int64 (stmt, 2);
      m->mtime = sqlite3_column_int64 (stmt, 3);
      m->missing = sqlite3_column_int (stmt, 4) != 0;
      g_hash_table_insert (known, g_strdup ((const char *)sqlite3_column_text (stmt, 1)), m);
    }
  cached_stmt_release (stmt);
  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->db, rc, _("Could not read the list of images."));
      rollback (self);
      return FALSE;
    }

  state.self = self;
  state.known = known;
  state.cancellable = cancellable;
  skip_dir = g_path_get_dirname (self->database_path);
  state.skip_dir = skip_dir;
  root = g_file_new_for_path (self->folder);

  if (!scan_folder (&state, root, NULL, error))
    {
      cached_stmt_release (state.insert);
      cached_stmt_release (state.update);
      rollback (self);
      return FALSE;
    }

  g_hash_table_iter_init (&iter, known);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      KnownMedia *m = value;

      if (m->seen || m->missing)
        continue;

      sqlite3_reset (state.set_missing);
      sqlite3_bind_int64 (state.set_missing, 1, m->id);
      if (!step_done (self, state.set_missing, _("Could not save the list of images."), error))
        {
          rollback (self);
          return FALSE;
        }
      g_debug ("%s is missing", (const char *)key);
    }

  cached_stmt_release (state.insert);
  cached_stmt_release (state.update);
  cached_stmt_release (state.set_missing);

  if (!commit (self, _("Could not save the list of images."), error))
    return FALSE;

  g_debug ("Scanned %s in %.1f ms: %u new, %u changed",
           self->folder, (g_get_monotonic_time () - start) / 1000.0,
           state.n_added, state.n_changed);

  return TRUE;
}

/* Media */

#define MEDIA_COLUMNS \
  "SELECT m.id, m.path, m.hash, m.size, m.mtime, m.width, m.height, m.done, m.error, m.missing," \
  " (SELECT count(*) FROM annotations a WHERE a.media_id = m.id) FROM media m"

static KpMedia *
media_from_row (sqlite3_stmt *stmt)
{
  KpMedia *media = g_new0 (KpMedia, 1);
  gboolean done, missing;

  media->id = sqlite3_column_int64 (stmt, 0);
  media->path = g_strdup ((const char *)sqlite3_column_text (stmt, 1));
  media->hash = g_strdup ((const char *)sqlite3_column_text (stmt, 2));
  media->size = sqlite3_column_int64 (stmt, 3);
  media->mtime = sqlite3_column_int64 (stmt, 4);
  media->width = sqlite3_column_int (stmt, 5);
  media->height = sqlite3_column_int (stmt, 6);
  done = sqlite3_column_int (stmt, 7) != 0;
  media->error = g_strdup ((const char *)sqlite3_column_text (stmt, 8));
  missing = sqlite3_column_int (stmt, 9) != 0;
  media->n_annotations = (guint)sqlite3_column_int64 (stmt, 10);

  if (missing)
    media->status = KP_MEDIA_STATUS_MISSING;
  else if (media->error != NULL)
    media->status = KP_MEDIA_STATUS_BROKEN;
  else if (done)
    media->status = KP_MEDIA_STATUS_DONE;
  else if (media->n_annotations > 0)
    media->status = KP_MEDIA_STATUS_IN_PROGRESS;
  else
    media->status = KP_MEDIA_STATUS_TODO;

  return media;
}

typedef struct
{
  char    *key;
  KpMedia *media;
} SortEntry;

static int
sort_entry_compare (gconstpointer a,
                    gconstpointer b)
{
  const SortEntry *ea = a;
  const SortEntry *eb = b;
  int cmp = strcmp (ea->key, eb->key);

  /* Paths that collate equal still have one stable order. */
  if (cmp == 0)
    cmp = strcmp (ea->media->path, eb->media->path);

  return cmp;
}

GPtrArray *
kp_store_list_media (KpStore  *self,
                     GError  **error)
{
  g_autoptr(CachedStmt) stmt = NULL;
  g_autoptr(GArray) entries = NULL;
  GPtrArray *result;
  int rc;

  g_return_val_if_fail (KP_IS_STORE (self), NULL);

  if (!(stmt = get_stmt (self, MEDIA_COLUMNS, error)))
    return NULL;

  entries = g_array_new (FALSE, FALSE, sizeof (SortEntry));
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      SortEntry entry;

      entry.media = media_from_row (stmt);
      entry.key = g_utf8_collate_key_for_filename (entry.media->path, -1);
      g_array_append_val (entries, entry);
    }

  if (rc != SQLITE_DONE)
    {
      for (guint i = 0; i < entries->len; i++)
        {
          kp_media_free (g_array_index (entries, SortEntry, i).media);
          g_free (g_array_index (entries, SortEntry, i).key);
        }
      set_sqlite_error (error, self->db, rc, _("Could not read the list of images."));
      return NULL;
    }

  g_array_sort (entries, sort_entry_compare);

  result = g_ptr_array_new_full (entries->len, (GDestroyNotify)kp_media_free);
  for (guint i = 0; i < entries->len; i++)
    {
      SortEntry *entry = &g_array_index (entries, SortEntry, i);

      g_ptr_array_add (result, entry->media);
      g_free (entry->key);
    }

  return result;
}

KpMedia *
kp_store_get_media (KpStore  *self,
                    gint64    media_id,
                    GError  **error)
{
  g_autoptr(CachedStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (KP_IS_STORE (self), NULL);

  if (!(stmt = get_stmt (self, MEDIA_COLUMNS " WHERE m.id = ?", error)))
    return NULL;

  sqlite3_bind_int64 (stmt, 1, media_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return media_from_row (stmt);

  if (rc == SQLITE_DONE)
    g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_NOT_FOUND,
                 _("The image is no longer in the project."));
  else
    set_sqlite_error (error, self->db, rc, _("Could not read the image’s details."));

  return NULL;
}

char *
kp_store_dup_media_file (KpStore       *self,
                         const KpMedia *media)
{
  g_autofree char *native = NULL;

  g_return_val_if_fail (KP_IS_STORE (self), NULL);
  g_return_val_if_fail (media != NULL, NULL);
  g_return_val_if_fail (media->path != NULL, NULL);

  native = g_filename_from_utf8 (media->path, -1, NULL, NULL, NULL);

  return g_build_filename (self->folder, native != NULL ? native : media->path, NULL);
}

/* Runs an UPDATE/DELETE of one row by id, NOT_FOUND when there is none. */
static gboolean
step_one_row (KpStore      *self,
              sqlite3_stmt *stmt,
              const char   *what,
              const char   *not_found,
              GError      **error)
{
  if (!step_done (self, stmt, what, error))
    return FALSE;

  if (sqlite3_changes (self->db) == 0)
    {
      g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_NOT_FOUND, not_found);
      return FALSE;
    }

  return TRUE;
}

gboolean
kp_store_set_media_info (KpStore     *self,
                         gint64       media_id,
                         const char  *hash,
                         int          width,
                         int          height,
                         GError     **error)
{
  g_autoptr(CachedStmt) stmt = NULL;

  g_return_val_if_fail (KP_IS_STORE (self), FALSE);
  g_return_val_if_fail (width >= 0 && height >= 0, FALSE);

  if (!(stmt = get_stmt (self,
                         "UPDATE media SET hash = coalesce(?, hash), width = ?, height = ? WHERE id = ?",
                         error)))
    return FALSE;

  sqlite3_bind_text (stmt, 1, hash, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 2, width);
  sqlite3_bind_int (stmt, 3, height);
  sqlite3_bind_int64 (stmt, 4, media_id);

  return step_one_row (self, stmt, _("Could not save the image’s details."),
                       _("The image is no longer in the project."), error);
}

gboolean
kp_store_set_media_error (KpStore     *self,
                          gint64       media_id,
                          const char  *message,
                          GError     **error)
{
  g_autoptr(CachedStmt) stmt = NULL;

  g_return_val_if_fail (KP_IS_STORE (self), FALSE);

  if (!(stmt = get_stmt (self, "UPDATE media SET error = ? WHERE id = ?", error)))
    return FALSE;

  sqlite3_bind_text (stmt, 1, message, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, media_id);

  return step_one_row (self, stmt, _("Could not save the image’s details."),
                       _("The image is no longer in the project."), error);
}

gboolean
kp_store_set_media_done (KpStore   *self,
                         gint64     media_id,
                         gboolean   done,
                         GError   **error)
{
  g_autoptr(CachedStmt) stmt = NULL;

  g_return_val_if_fail (KP_IS_STORE (self), FALSE);

  if (!(stmt = get_stmt (self, "UPDATE media SET done = ? WHERE id = ?", error)))
    return FALSE;

  sqlite3_bind_int (stmt, 1, done ? 1 : 0);
  sqlite3_bind_int64 (stmt, 2, media_id);

  return step_one_row (self, stmt, _("Could not save the image’s status."),
                       _("The image is no longer in the project."), error);
}

/* Labels */

static KpLabel *
label_from_row (sqlite3_stmt *stmt)
{
  KpLabel *label = g_new0 (KpLabel, 1);

  label->id = sqlite3_column_int64 (stmt, 0);
  label->name = g_strdup ((const char *)sqlite3_column_text (stmt, 1));
  label->color = g_strdup ((const char *)sqlite3_column_text (stmt, 2));
  label->key = sqlite3_column_int (stmt, 3);
  label->position = sqlite3_column_int (stmt, 4);

  return label;
}

GPtrArray *
kp_store_list_labels (KpStore  *self,
                      GError  **error)
{
  g_autoptr(CachedStmt) stmt = NULL;
  g_autoptr(GPtrArray) labels = NULL;
  int rc;

  g_return_val_if_fail (KP_IS_STORE (self), NULL);

  if (!(stmt = get_stmt (self, "SELECT id, name, color, key, position FROM labels"
                               " ORDER BY position, id", error)))
    return NULL;

  labels = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_label_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (labels, label_from_row (stmt));

  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->db, rc, _("Could not read the labels."));
      return NULL;
    }

  return g_steal_pointer (&labels);
}

KpLabel *
kp_store_get_label (KpStore  *self,
                    gint64    label_id,
                    GError  **error)
{
  g_autoptr(CachedStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (KP_IS_STORE (self), NULL);

  if (!(stmt = get_stmt (self, "SELECT id, name, color, key, position FROM labels WHERE id = ?", error)))
    return NULL;

  sqlite3_bind_int64 (stmt, 1, label_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return label_from_row (stmt);

  if (rc == SQLITE_DONE)
    g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_NOT_FOUND,
                 _("The label no longer exists."));
  else
    set_sqlite_error (error, self->db, rc, _("Could not read the label."));

  return NULL;
}

static gboolean
color_is_valid (const char *color)
{
  if (color == NULL || strlen (color) != 7 || color[0] != '#')
    return FALSE;

  for (guint i = 1; i < 7; i++)
    if (!g_ascii_isxdigit (color[i]))
      return FALSE;

  return TRUE;
}

/* Checks a label as the user gave it, against the others (all but
 * label_id). Returns the trimmed name and lower-case colour. Call inside
 * the transaction that writes the label. */
static gboolean
validate_label (KpStore     *self,
                gint64       label_id,
                const char  *name,
                const char  *color,
                int          key,
                char       **clean_name,
                char       **clean_color,
                GError     **error)
{
  g_autofree char *trimmed = NULL;
  g_autoptr(CachedStmt) stmt = NULL;
  int rc;

  if (name == NULL || !g_utf8_validate (name, -1, NULL))
    {
      g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                           _("A label name must be text."));
      return FALSE;
    }

  trimmed = g_strstrip (g_strdup (name));
  if (trimmed[0] == '\0')
    {
      g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                           _("A label needs a name."));
      return FALSE;
    }

  for (const char *p = trimmed; *p != '\0'; p = g_utf8_next_char (p))
    {
      if (g_unichar_iscntrl (g_utf8_get_char (p)))
        {
          g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                               _("A label name cannot contain line breaks, tabs or other "
                                 "control characters."));
          return FALSE;
        }
    }

  if (!color_is_valid (color))
    {
      g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                   _("“%s” is not a colour; write it as #rrggbb, for example #3584e4."),
                   color != NULL ? color : "");
      return FALSE;
    }

  if (key < 0 || key > 9)
    {
      g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                           _("A label’s key must be 1 to 9, or none."));
      return FALSE;
    }

  if (!(stmt = get_stmt (self, "SELECT 1 FROM labels WHERE name = ? AND id <> ?", error)))
    return FALSE;
  sqlite3_bind_text (stmt, 1, trimmed, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64 (stmt, 2, label_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                   _("There is already a label named “%s”."), trimmed);
      return FALSE;
    }
  else if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->db, rc, _("Could not read the labels."));
      return FALSE;
    }
  g_clear_pointer (&stmt, cached_stmt_release);

  if (key != 0)
    {
      if (!(stmt = get_stmt (self, "SELECT name FROM labels WHERE key = ? AND id <> ?", error)))
        return FALSE;
      sqlite3_bind_int (stmt, 1, key);
      sqlite3_bind_int64 (stmt, 2, label_id);
      rc = sqlite3_step (stmt);
      if (rc == SQLITE_ROW)
        {
          g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                       _("Key %d is already used by the label “%s”."),
                       key, (const char *)sqlite3_column_text (stmt, 0));
          return FALSE;
        }
      else if (rc != SQLITE_DONE)
        {
          set_sqlite_error (error, self->db, rc, _("Could not read the labels."));
          return FALSE;
        }
    }

  *clean_name = g_steal_pointer (&trimmed);
  *clean_color = g_ascii_strdown (color, -1);

  return TRUE;
}

gint64
kp_store_add_label (KpStore     *self,
                    const char  *name,
                    const char  *color,
                    int          key,
                    GError     **error)
{
  g_autofree char *clean_name = NULL;
  g_autofree char *clean_color = NULL;
  g_autoptr(CachedStmt) stmt = NULL;
  gint64 id;

  g_return_val_if_fail (KP_IS_STORE (self), 0);

  if (!begin (self, error))
    return 0;

  if (!validate_label (self, 0, name, color, key, &clean_name, &clean_color, error) ||
      !(stmt = get_stmt (self,
                         "INSERT INTO labels (name, color, key, position)"
                         " VALUES (?, ?, ?, (SELECT coalesce(max(position) + 1, 0) FROM labels))",
                         error)))
    {
      rollback (self);
      return 0;
    }

  sqlite3_bind_text (stmt, 1, clean_name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, clean_color, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 3, key);
  if (!step_done (self, stmt, _("Could not save the label."), error))
    {
      rollback (self);
      return 0;
    }
  id = sqlite3_last_insert_rowid (self->db);

  if (!commit (self, _("Could not save the label."), error))
    return 0;

  return id;
}

gboolean
kp_store_update_label (KpStore        *self,
                       const KpLabel  *label,
                       GError        **error)
{
  g_autofree char *clean_name = NULL;
  g_autofree char *clean_color = NULL;
  g_autoptr(CachedStmt) stmt = NULL;

  g_return_val_if_fail (KP_IS_STORE (self), FALSE);
  g_return_val_if_fail (label != NULL, FALSE);

  if (!begin (self, error))
    return FALSE;

  if (!validate_label (self, label->id, label->name, label->color, label->key,
                       &clean_name, &clean_color, error) ||
      !(stmt = get_stmt (self,
                         "UPDATE labels SET name = ?, color = ?, key = ?, position = ? WHERE id = ?",
                         error)))
    {
      rollback (self);
      return FALSE;
    }

  sqlite3_bind_text (stmt, 1, clean_name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, clean_color, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 3, label->key);
  sqlite3_bind_int (stmt, 4, label->position);
  sqlite3_bind_int64 (stmt, 5, label->id);
  if (!step_one_row (self, stmt, _("Could not save the label."),
                     _("The label no longer exists."), error))
    {
      rollback (self);
      return FALSE;
    }

  return commit (self, _("Could not save the label."), error);
}

gboolean
kp_store_delete_label (KpStore  *self,
                       gint64    label_id,
                       GError  **error)
{
  g_autoptr(CachedStmt) stmt = NULL;

  g_return_val_if_fail (KP_IS_STORE (self), FALSE);

  /* The foreign keys delete the annotations with it; the undo steps that
   * mention it could no longer be replayed, so they go too. */
  if (!begin (self, error))
    return FALSE;

  if (!_kp_store_history_forget_label (self, label_id, error) ||
      !(stmt = get_stmt (self, "DELETE FROM labels WHERE id = ?", error)))
    {
      rollback (self);
      return FALSE;
    }

  sqlite3_bind_int64 (stmt, 1, label_id);

  if (!step_one_row (self, stmt, _("Could not delete the label."),
                     _("The label no longer exists."), error))
    {
      g_clear_pointer (&stmt, cached_stmt_release);
      rollback (self);
      return FALSE;
    }
  g_clear_pointer (&stmt, cached_stmt_release);

  return commit (self, _("Could not delete the label."), error);
}

guint
kp_store_count_label_uses (KpStore  *self,
                           gint64    label_id,
                           GError  **error)
{
  g_autoptr(CachedStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (KP_IS_STORE (self), 0);

  if (!(stmt = get_stmt (self, "SELECT count(*) FROM annotations WHERE label_id = ?", error)))
    return 0;

  sqlite3_bind_int64 (stmt, 1, label_id);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      set_sqlite_error (error, self->db, rc, _("Could not read the annotations."));
      return 0;
    }

  return (guint)sqlite3_column_int64 (stmt, 0);
}

/* Annotations */

#define ANNOTATION_COLUMNS \
  "SELECT id, media_id, label_id, shape, x, y, w, h, geometry, keypoint, occluded, z, flags," \
  " review, source, confidence FROM annotations"

static gboolean
decode_geometry (KpAnnotation *a,
                 const void   *blob,
                 gsize         len)
{
  const guint8 *bytes = blob;

  switch (a->shape)
    {
    case KP_SHAPE_BOX:
      return TRUE;

    case KP_SHAPE_ROTATED_BOX:
      {
        double v[5];

        if (len != sizeof v)
          return FALSE;
        for (guint i = 0; i < 5; i++)
          {
            guint64 bits;

            memcpy (&bits, bytes + i * 8, 8);
            bits = GUINT64_FROM_LE (bits);
            memcpy (&v[i], &bits, 8);
          }
        a->rotated = (KpRotatedBox) { v[0], v[1], v[2], v[3], v[4] };
        return TRUE;
      }

    case KP_SHAPE_POLYGON:
    case KP_SHAPE_POLYLINE:
    case KP_SHAPE_LINE:
    case KP_SHAPE_POINT:
      if (len % 16 != 0)
        return FALSE;
      a->n_points = len / 16;
      a->points = a->n_points > 0 ? g_new (KpPoint, a->n_points) : NULL;
      if (a->n_points > 0)
        {
          guint64 *bits = (guint64 *)(void *)a->points;

          memcpy (a->points, bytes, len);
          for (gsize i = 0; i < (gsize)a->n_points * 2; i++)
            bits[i] = GUINT64_FROM_LE (bits[i]);
        }
      return TRUE;

    case KP_SHAPE_MASK:
      a->mask = kp_mask_deserialize (bytes, len);
      return a->mask != NULL;

    default:
      return FALSE;
    }
}

static GBytes *
encode_geometry (const KpAnnotation *a)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  switch (a->shape)
    {
    case KP_SHAPE_BOX:
      return NULL;

    case KP_SHAPE_ROTATED_BOX:
      {
        double v[5] = { a->rotated.cx, a->rotated.cy, a->rotated.width,
                        a->rotated.height, a->rotated.angle };

        for (guint i = 0; i < 5; i++)
          {
            guint64 bits;

            memcpy (&bits, &v[i], 8);
            bits = GUINT64_TO_LE (bits);
            g_byte_array_append (out, (guint8 *)&bits, 8);
          }
        break;
      }

    case KP_SHAPE_MASK:
      return kp_mask_serialize (a->mask);

    default:
      {
        gsize n = (gsize)a->n_points * 2;
        guint64 *bits;

        /* KpPoint is two doubles: copy them all, then fix the byte order. */
        g_byte_array_set_size (out, n * 8);
        bits = (guint64 *)(void *)out->data;
        if (n > 0)
          memcpy (bits, a->points, n * 8);
        for (gsize i = 0; i < n; i++)
          bits[i] = GUINT64_TO_LE (bits[i]);
        break;
      }
    }

  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static KpAnnotation *
annotation_from_row (sqlite3_stmt *stmt)
{
  KpAnnotation *a = g_new0 (KpAnnotation, 1);

  a->id = sqlite3_column_int64 (stmt, 0);
  a->media_id = sqlite3_column_int64 (stmt, 1);
  a->label_id = sqlite3_column_int64 (stmt, 2);
  a->shape = sqlite3_column_int (stmt, 3);
  a->rect.x = sqlite3_column_double (stmt, 4);
  a->rect.y = sqlite3_column_double (stmt, 5);
  a->rect.width = sqlite3_column_double (stmt, 6);
  a->rect.height = sqlite3_column_double (stmt, 7);
  if (!decode_geometry (a, sqlite3_column_blob (stmt, 8), sqlite3_column_bytes (stmt, 8)))
    {
      /* Unreadable geometry (from a newer program, or damage): keep the
       * object as the box of its bounds rather than lose it. */
      g_warning ("Annotation %" G_GINT64_FORMAT " has unreadable geometry; showing its bounds",
                 a->id);
      g_clear_pointer (&a->points, g_free);
      a->n_points = 0;
      a->shape = KP_SHAPE_BOX;
    }
  a->keypoint = g_strdup ((const char *)sqlite3_column_text (stmt, 9));
  a->occluded = sqlite3_column_int (stmt, 10) != 0;
  a->z = sqlite3_column_int (stmt, 11);
  a->flags = sqlite3_column_int (stmt, 12);
  a->review = sqlite3_column_int (stmt, 13);
  a->source = g_strdup ((const char *)sqlite3_column_text (stmt, 14));
  a->confidence = sqlite3_column_double (stmt, 15);

  return a;
}

/* Reads the attribute values of every annotation in by_id (id -> annotation)
 * selected by stmt (rows of annotation_id, attribute_id, value ordered by
 * both). */
static gboolean
read_attribute_values (KpStore       *self,
                       sqlite3_stmt  *stmt,
                       GHashTable    *by_id,
                       GError       **error)
{
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      KpAnnotation *a = g_hash_table_lookup (by_id, &id);

      if (a != NULL)
        kp_annotation_set_attribute (a, sqlite3_column_int64 (stmt, 1),
                                     (const char *)sqlite3_column_text (stmt, 2));
    }

  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->db, rc, _("Could not read the annotations."));
      return FALSE;
    }

  return TRUE;
}

GPtrArray *
kp_store_list_annotations (KpStore  *self,
                           gint64    media_id,
                           GError  **error)
{
  g_autoptr(CachedStmt) stmt = NULL;
  g_autoptr(GPtrArray) annotations = NULL;
  g_autoptr(GHashTable) by_id = NULL;
  int rc;

  g_return_val_if_fail (KP_IS_STORE (self), NULL);

  if (!(stmt = get_stmt (self, ANNOTATION_COLUMNS " WHERE media_id = ? ORDER BY id", error)))
    return NULL;

  sqlite3_bind_int64 (stmt, 1, media_id);
  annotations = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_annotation_free);
  by_id = g_hash_table_new (g_int64_hash, g_int64_equal);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      KpAnnotation *a = annotation_from_row (stmt);

      g_ptr_array_add (annotations, a);
      g_hash_table_insert (by_id, &a->id, a);
    }

  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->db, rc, _("Could not read the annotations."));
      return NULL;
    }
  g_clear_pointer (&stmt, cached_stmt_release);

  if (!(stmt = get_stmt (self, "SELECT v.annotation_id, v.attribute_id, v.value"
                               " FROM annotation_attributes v JOIN annotations a ON a.id = v.annotation_id"
                               " WHERE a.media_id = ? ORDER BY 1, 2", error)))
    return NULL;
  sqlite3_bind_int64 (stmt, 1, media_id);
  if (!read_attribute_values (self, stmt, by_id, error))
    return NULL;

  return g_steal_pointer (&annotations);
}

static gboolean
points_finite (const KpPoint *points,
               guint          n_points)
{
  for (guint i = 0; i < n_points; i++)
    if (!isfinite (points[i].x) || !isfinite (points[i].y))
      return FALSE;

  return TRUE;
}

/* Checks the geometry and computes the bounds to store in rect. */
static gboolean
validate_annotation (const KpAnnotation  *annotation,
                     KpRect              *rect,
                     GError             **error)
{
  static const guint min_points[] = {
    [KP_SHAPE_POLYGON] = 3, [KP_SHAPE_POLYLINE] = 2, [KP_SHAPE_LINE] = 2, [KP_SHAPE_POINT] = 1,
  };
  KpAnnotation tmp;

  switch (annotation->shape)
    {
    case KP_SHAPE_BOX:
      if (!isfinite (annotation->rect.x) || !isfinite (annotation->rect.y) ||
          !isfinite (annotation->rect.width) || !isfinite (annotation->rect.height))
        {
          g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                               _("The box has no valid position or size."));
          return FALSE;
        }
      break;

    case KP_SHAPE_ROTATED_BOX:
      if (!isfinite (annotation->rotated.cx) || !isfinite (annotation->rotated.cy) ||
          !isfinite (annotation->rotated.width) || !isfinite (annotation->rotated.height) ||
          !isfinite (annotation->rotated.angle) ||
          annotation->rotated.width < 0 || annotation->rotated.height < 0)
        {
          g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                               _("The rotated box has no valid position, size or angle."));
          return FALSE;
        }
      break;

    case KP_SHAPE_POLYGON:
    case KP_SHAPE_POLYLINE:
    case KP_SHAPE_LINE:
    case KP_SHAPE_POINT:
      if (annotation->n_points < min_points[annotation->shape] ||
          (annotation->shape == KP_SHAPE_LINE && annotation->n_points != 2) ||
          (annotation->shape == KP_SHAPE_POINT && annotation->n_points != 1) ||
          annotation->points == NULL || !points_finite (annotation->points, annotation->n_points))
        {
          g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                       _("A %s needs %s%u valid points."),
                       kp_shape_to_string (annotation->shape),
                       annotation->shape == KP_SHAPE_POLYGON || annotation->shape == KP_SHAPE_POLYLINE
                         ? _("at least ") : "",
                       min_points[annotation->shape]);
          return FALSE;
        }
      break;

    case KP_SHAPE_MASK:
      if (annotation->mask == NULL)
        {
          g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                               _("The mask has no pixels."));
          return FALSE;
        }
      break;

    default:
      g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                           _("This kind of annotation is not supported."));
      return FALSE;
    }

  if (annotation->review > KP_REVIEW_REJECTED || !isfinite (annotation->confidence))
    {
      g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                           _("The suggestion state of this annotation is not valid."));
      return FALSE;
    }

  tmp = *annotation;
  kp_annotation_update_bounds (&tmp);
  *rect = tmp.rect;

  return TRUE;
}

static void
set_annotation_error (KpStore  *self,
                      int       rc,
                      GError  **error)
{
  if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
    g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                         _("The image or the label of this annotation no longer exists."));
  else if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
    g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                         _("This annotation already exists."));
  else
    set_sqlite_error (error, self->db, rc, _("Could not save the annotation."));
}

/* Savepoints nest inside a transaction the caller began (KpDocument's),
 * and make one outside it. */
static gboolean
savepoint (KpStore  *self,
           GError  **error)
{
  return exec (self, "SAVEPOINT kp_annotation", _("Could not start writing to the project database."), error);
}

static gboolean
release (KpStore  *self,
         GError  **error)
{
  return exec (self, "RELEASE kp_annotation", _("Could not save the annotation."), error);
}

static void
rollback_savepoint (KpStore *self)
{
  sqlite3_exec (self->db, "ROLLBACK TO kp_annotation; RELEASE kp_annotation", NULL, NULL, NULL);
}

/* Writes the values of annotation as those of id; replace deletes the
 * old ones first (a new annotation has none). */
static gboolean
write_attribute_values (KpStore             *self,
                        const KpAnnotation  *annotation,
                        gint64               id,
                        gboolean             replace,
                        GError             **error)
{
  g_autoptr(CachedStmt) stmt = NULL;

  if (replace)
    {
      if (!(stmt = get_stmt (self, "DELETE FROM annotation_attributes WHERE annotation_id = ?", error)))
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, id);
      if (!step_done (self, stmt, _("Could not save the annotation."), error))
        return FALSE;
      g_clear_pointer (&stmt, cached_stmt_release);
    }

  for (guint i = 0; i < annotation->n_attributes; i++)
    {
      /* A value of a definition deleted since (say, in an undo journal)
       * is dropped rather than refused. */
      if (!(stmt = get_stmt (self, "INSERT INTO annotation_attributes (annotation_id, attribute_id, value)"
                                   " SELECT ?1, ?2, ?3 WHERE EXISTS"
                                   " (SELECT 1 FROM label_attributes WHERE id = ?2)", error)))
        return FALSE;
      sqlite3_bind_int64 (stmt, 1, id);
      sqlite3_bind_int64 (stmt, 2, annotation->attributes[i].attribute_id);
      sqlite3_bind_text (stmt, 3, annotation->attributes[i].value, -1, SQLITE_TRANSIENT);
      if (!step_done (self, stmt, _("Could not save the annotation."), error))
        return FALSE;
      g_clear_pointer (&stmt, cached_stmt_release);
    }

  return TRUE;
}

static void
bind_annotation_fields (sqlite3_stmt       *stmt,
                        int                 first,
                        const KpAnnotation *annotation,
                        const KpRect       *rect,
                        GBytes             *geometry)
{
  sqlite3_bind_int64 (stmt, first, annotation->label_id);
  sqlite3_bind_int (stmt, first + 1, annotation->shape);
  sqlite3_bind_double (stmt, first + 2, rect->x);
  sqlite3_bind_double (stmt, first + 3, rect->y);
  sqlite3_bind_double (stmt, first + 4, rect->width);
  sqlite3_bind_double (stmt, first + 5, rect->height);
  if (geometry != NULL)
    sqlite3_bind_blob (stmt, first + 6, g_bytes_get_data (geometry, NULL),
                       (int)g_bytes_get_size (geometry), SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, first + 6);
  sqlite3_bind_text (stmt, first + 7, annotation->keypoint, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, first + 8, annotation->occluded ? 1 : 0);
  sqlite3_bind_int (stmt, first + 9, annotation->z);
  sqlite3_bind_int (stmt, first + 10, annotation->flags);
  sqlite3_bind_int (stmt, first + 11, annotation->review);
  sqlite3_bind_text (stmt, first + 12, annotation->source, -1, SQLITE_TRANSIENT);
  sqlite3_bind_double (stmt, first + 13, annotation->confidence);
}

gint64
kp_store_add_annotation (KpStore             *self,
                         const KpAnnotation  *annotation,
                         GError             **error)
{
  g_autoptr(CachedStmt) stmt = NULL;
  g_autoptr(GBytes) geometry = NULL;
  KpRect rect;
  gint64 now = now_seconds ();
  gboolean with_values;
  gint64 id;
  int rc;

  g_return_val_if_fail (KP_IS_STORE (self), 0);
  g_return_val_if_fail (annotation != NULL, 0);
  g_return_val_if_fail (annotation->id >= 0, 0);

  if (!validate_annotation (annotation, &rect, error))
    return 0;

  geometry = encode_geometry (annotation);
  /* Without attribute values the insert is one statement, atomic alone
   * (the common case, and the bulk loads of benchmarks). */
  with_values = annotation->n_attributes > 0;
  if (with_values && !savepoint (self, error))
    return 0;

  if (!(stmt = get_stmt (self,
                         "INSERT INTO annotations (id, media_id, created, modified, label_id, shape,"
                         " x, y, w, h, geometry, keypoint, occluded, z, flags, review, source, confidence)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error)))
    {
      if (with_values)
        rollback_savepoint (self);
      return 0;
    }

  if (annotation->id > 0)
    sqlite3_bind_int64 (stmt, 1, annotation->id);
  else
    sqlite3_bind_null (stmt, 1);
  sqlite3_bind_int64 (stmt, 2, annotation->media_id);
  sqlite3_bind_int64 (stmt, 3, now);
  sqlite3_bind_int64 (stmt, 4, now);
  bind_annotation_fields (stmt, 5, annotation, &rect, geometry);

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    {
      set_annotation_error (self, rc, error);
      if (with_values)
        rollback_savepoint (self);
      return 0;
    }
  id = sqlite3_last_insert_rowid (self->db);
  g_clear_pointer (&stmt, cached_stmt_release);

  if (with_values &&
      (!write_attribute_values (self, annotation, id, FALSE, error) || !release (self, error)))
    {
      rollback_savepoint (self);
      return 0;
    }

  return id;
}

gboolean
kp_store_update_annotation (KpStore             *self,
                            const KpAnnotation  *annotation,
                            GError             **error)
{
  g_autoptr(CachedStmt) stmt = NULL;
  g_autoptr(GBytes) geometry = NULL;
  KpRect rect;
  int rc;

  g_return_val_if_fail (KP_IS_STORE (self), FALSE);
  g_return_val_if_fail (annotation != NULL, FALSE);

  if (!validate_annotation (annotation, &rect, error))
    return FALSE;

  geometry = encode_geometry (annotation);
  if (!savepoint (self, error))
    return FALSE;

  if (!(stmt = get_stmt (self,
                         "UPDATE annotations SET label_id = ?, shape = ?, x = ?, y = ?, w = ?, h = ?,"
                         " geometry = ?, keypoint = ?, occluded = ?, z = ?, flags = ?, review = ?,"
                         " source = ?, confidence = ?, modified = ? WHERE id = ?", error)))
    {
      rollback_savepoint (self);
      return FALSE;
    }

  bind_annotation_fields (stmt, 1, annotation, &rect, geometry);
  sqlite3_bind_int64 (stmt, 15, now_seconds ());
  sqlite3_bind_int64 (stmt, 16, annotation->id);

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    {
      set_annotation_error (self, rc, error);
      rollback_savepoint (self);
      return FALSE;
    }

  if (sqlite3_changes (self->db) == 0)
    {
      g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_NOT_FOUND,
                           _("The annotation no longer exists."));
      rollback_savepoint (self);
      return FALSE;
    }
  g_clear_pointer (&stmt, cached_stmt_release);

  if (!write_attribute_values (self, annotation, annotation->id, TRUE, error) ||
      !release (self, error))
    {
      rollback_savepoint (self);
      return FALSE;
    }

  return TRUE;
}

gboolean
kp_store_delete_annotation (KpStore  *self,
                            gint64    annotation_id,
                            GError  **error)
{
  g_autoptr(CachedStmt) stmt = NULL;

  g_return_val_if_fail (KP_IS_STORE (self), FALSE);

  if (!(stmt = get_stmt (self, "DELETE FROM annotations WHERE id = ?", error)))
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, annotation_id);

  return step_one_row (self, stmt, _("Could not delete the annotation."),
                       _("The annotation no longer exists."), error);
}

/* Attribute definitions */

static KpAttribute *
attribute_from_row (sqlite3_stmt *stmt)
{
  KpAttribute *attribute = g_new0 (KpAttribute, 1);
  const char *options;

  attribute->id = sqlite3_column_int64 (stmt, 0);
  attribute->label_id = sqlite3_column_int64 (stmt, 1);
  attribute->name = g_strdup ((const char *)sqlite3_column_text (stmt, 2));
  attribute->kind = sqlite3_column_int (stmt, 3);
  options = (const char *)sqlite3_column_text (stmt, 4);
  if (options != NULL)
    attribute->options = g_strsplit (options, "\n", -1);
  attribute->min = sqlite3_column_type (stmt, 5) == SQLITE_NULL ? -G_MAXDOUBLE
                                                                : sqlite3_column_double (stmt, 5);
  attribute->max = sqlite3_column_type (stmt, 6) == SQLITE_NULL ? G_MAXDOUBLE
                                                                : sqlite3_column_double (stmt, 6);
  attribute->default_value = g_strdup ((const char *)sqlite3_column_text (stmt, 7));
  attribute->position = sqlite3_column_int (stmt, 8);

  return attribute;
}

#define ATTRIBUTE_COLUMNS \
  "SELECT id, label_id, name, kind, options, min, max, default_value, position FROM label_attributes"

static GPtrArray *
list_attributes (KpStore  *self,
                 gint64    label_id,
                 GError  **error)
{
  g_autoptr(CachedStmt) stmt = NULL;
  g_autoptr(GPtrArray) list = NULL;
  int rc;

  if (label_id != 0)
    stmt = get_stmt (self, ATTRIBUTE_COLUMNS " WHERE label_id = ? ORDER BY position, id", error);
  else
    stmt = get_stmt (self, ATTRIBUTE_COLUMNS " ORDER BY label_id, position, id", error);
  if (stmt == NULL)
    return NULL;

  if (label_id != 0)
    sqlite3_bind_int64 (stmt, 1, label_id);

  list = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_attribute_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (list, attribute_from_row (stmt));

  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->db, rc, _("Could not read the attributes."));
      return NULL;
    }

  return g_steal_pointer (&list);
}

GPtrArray *
kp_store_list_attributes (KpStore  *self,
                          gint64    label_id,
                          GError  **error)
{
  g_return_val_if_fail (KP_IS_STORE (self), NULL);
  g_return_val_if_fail (label_id > 0, NULL);

  return list_attributes (self, label_id, error);
}

GPtrArray *
kp_store_list_all_attributes (KpStore  *self,
                              GError  **error)
{
  g_return_val_if_fail (KP_IS_STORE (self), NULL);

  return list_attributes (self, 0, error);
}

static gboolean
validate_attribute (const KpAttribute  *attribute,
                    char              **clean_name,
                    GError            **error)
{
  g_autofree char *name = NULL;

  if (attribute->name == NULL || !g_utf8_validate (attribute->name, -1, NULL) ||
      (name = g_strstrip (g_strdup (attribute->name)))[0] == '\0')
    {
      g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                           _("An attribute needs a name."));
      return FALSE;
    }

  if ((guint)attribute->kind > KP_ATTRIBUTE_NUMBER)
    {
      g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                           _("This kind of attribute is not supported."));
      return FALSE;
    }

  if (attribute->kind == KP_ATTRIBUTE_CHOICE)
    {
      if (attribute->options == NULL || attribute->options[0] == NULL)
        {
          g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                       _("The choice “%s” needs at least one option."), name);
          return FALSE;
        }
      for (guint i = 0; attribute->options[i] != NULL; i++)
        if (attribute->options[i][0] == '\0' || strchr (attribute->options[i], '\n') != NULL ||
            !g_utf8_validate (attribute->options[i], -1, NULL))
          {
            g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                         _("The options of “%s” must be non-empty single lines of text."), name);
            return FALSE;
          }
    }

  if (attribute->kind == KP_ATTRIBUTE_NUMBER &&
      (isnan (attribute->min) || isnan (attribute->max) || attribute->min > attribute->max))
    {
      g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                   _("The smallest value of “%s” is above its largest."), name);
      return FALSE;
    }

  if (attribute->default_value != NULL && !kp_attribute_validate (attribute, attribute->default_value, error))
    return FALSE;

  *clean_name = g_steal_pointer (&name);

  return TRUE;
}

static void
bind_attribute (sqlite3_stmt      *stmt,
                const KpAttribute *attribute,
                const char        *name)
{
  g_autofree char *options = NULL;

  if (attribute->kind == KP_ATTRIBUTE_CHOICE)
    options = g_strjoinv ("\n", attribute->options);

  sqlite3_bind_int64 (stmt, 1, attribute->label_id);
  sqlite3_bind_text (stmt, 2, name, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 3, attribute->kind);
  sqlite3_bind_text (stmt, 4, options, -1, SQLITE_TRANSIENT);
  if (attribute->kind == KP_ATTRIBUTE_NUMBER && attribute->min > -G_MAXDOUBLE)
    sqlite3_bind_double (stmt, 5, attribute->min);
  else
    sqlite3_bind_null (stmt, 5);
  if (attribute->kind == KP_ATTRIBUTE_NUMBER && attribute->max < G_MAXDOUBLE)
    sqlite3_bind_double (stmt, 6, attribute->max);
  else
    sqlite3_bind_null (stmt, 6);
  sqlite3_bind_text (stmt, 7, attribute->default_value, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 8, attribute->position);
}

static void
set_attribute_write_error (KpStore  *self,
                           int       rc,
                           GError  **error)
{
  if (rc == SQLITE_CONSTRAINT_UNIQUE)
    g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                         _("The label already has an attribute with this name."));
  else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
    g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                         _("The label of this attribute no longer exists."));
  else
    set_sqlite_error (error, self->db, rc, _("Could not save the attribute."));
}

gint64
kp_store_add_attribute (KpStore            *self,
                        const KpAttribute  *attribute,
                        GError            **error)
{
  g_autoptr(CachedStmt) stmt = NULL;
  g_autofree char *name = NULL;
  int rc;

  g_return_val_if_fail (KP_IS_STORE (self), 0);
  g_return_val_if_fail (attribute != NULL, 0);

  if (!validate_attribute (attribute, &name, error))
    return 0;

  if (!(stmt = get_stmt (self, "INSERT INTO label_attributes (label_id, name, kind, options, min, max,"
                               " default_value, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", error)))
    return 0;

  bind_attribute (stmt, attribute, name);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    {
      set_attribute_write_error (self, rc, error);
      return 0;
    }

  return sqlite3_last_insert_rowid (self->db);
}

gboolean
kp_store_update_attribute (KpStore            *self,
                           const KpAttribute  *attribute,
                           GError            **error)
{
  g_autoptr(CachedStmt) stmt = NULL;
  g_autofree char *name = NULL;
  int rc;

  g_return_val_if_fail (KP_IS_STORE (self), FALSE);
  g_return_val_if_fail (attribute != NULL, FALSE);

  if (!validate_attribute (attribute, &name, error))
    return FALSE;

  if (!(stmt = get_stmt (self, "UPDATE label_attributes SET label_id = ?, name = ?, kind = ?, options = ?,"
                               " min = ?, max = ?, default_value = ?, position = ? WHERE id = ?", error)))
    return FALSE;

  bind_attribute (stmt, attribute, name);
  sqlite3_bind_int64 (stmt, 9, attribute->id);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    {
      set_attribute_write_error (self, rc, error);
      return FALSE;
    }
  if (sqlite3_changes (self->db) == 0)
    {
      g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_NOT_FOUND,
                           _("The attribute no longer exists."));
      return FALSE;
    }

  return TRUE;
}

gboolean
kp_store_delete_attribute (KpStore  *self,
                           gint64    attribute_id,
                           GError  **error)
{
  g_autoptr(CachedStmt) stmt = NULL;

  g_return_val_if_fail (KP_IS_STORE (self), FALSE);

  if (!(stmt = get_stmt (self, "DELETE FROM label_attributes WHERE id = ?", error)))
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, attribute_id);

  return step_one_row (self, stmt, _("Could not delete the attribute."),
                       _("The attribute no longer exists."), error);
}

/* Tags */

GPtrArray *
kp_store_list_tag_groups (KpStore  *self,
                          GError  **error)
{
  g_autoptr(CachedStmt) stmt = NULL;
  g_autoptr(GPtrArray) list = NULL;
  int rc;

  g_return_val_if_fail (KP_IS_STORE (self), NULL);

  if (!(stmt = get_stmt (self, "SELECT id, name, multiple, position FROM tag_groups"
                               " ORDER BY position, id", error)))
    return NULL;

  list = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_tag_group_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      KpTagGroup *group = g_new0 (KpTagGroup, 1);

      group->id = sqlite3_column_int64 (stmt, 0);
      group->name = g_strdup ((const char *)sqlite3_column_text (stmt, 1));
      group->multiple = sqlite3_column_int (stmt, 2) != 0;
      group->position = sqlite3_column_int (stmt, 3);
      g_ptr_array_add (list, group);
    }

  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->db, rc, _("Could not read the tags."));
      return NULL;
    }

  return g_steal_pointer (&list);
}

static char *
clean_tag_name (const char  *name,
                GError     **error)
{
  char *clean;

  if (name == NULL || !g_utf8_validate (name, -1, NULL))
    {
      g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID, _("A tag needs a name."));
      return NULL;
    }

  clean = g_strstrip (g_strdup (name));
  if (clean[0] == '\0')
    {
      g_free (clean);
      g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID, _("A tag needs a name."));
      return NULL;
    }

  return clean;
}

gint64
kp_store_add_tag_group (KpStore     *self,
                        const char  *name,
                        gboolean     multiple,
                        GError     **error)
{
  g_autoptr(CachedStmt) stmt = NULL;
  g_autofree char *clean = NULL;
  int rc;

  g_return_val_if_fail (KP_IS_STORE (self), 0);

  if (!(clean = clean_tag_name (name, error)))
    return 0;

  if (!(stmt = get_stmt (self, "INSERT INTO tag_groups (name, multiple, position)"
                               " VALUES (?, ?, (SELECT coalesce(max(position) + 1, 0) FROM tag_groups))",
                         error)))
    return 0;
  sqlite3_bind_text (stmt, 1, clean, -1, SQLITE_TRANSIENT);
  sqlite3_bind_int (stmt, 2, multiple ? 1 : 0);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    {
      if (rc == SQLITE_CONSTRAINT_UNIQUE)
        g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                     _("There is already a tag group named “%s”."), clean);
      else
        set_sqlite_error (error, self->db, rc, _("Could not save the tag group."));
      return 0;
    }

  return sqlite3_last_insert_rowid (self->db);
}

gboolean
kp_store_delete_tag_group (KpStore  *self,
                           gint64    group_id,
                           GError  **error)
{
  g_autoptr(CachedStmt) stmt = NULL;

  g_return_val_if_fail (KP_IS_STORE (self), FALSE);

  if (!(stmt = get_stmt (self, "DELETE FROM tag_groups WHERE id = ?", error)))
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, group_id);

  return step_one_row (self, stmt, _("Could not delete the tag group."),
                       _("The tag group no longer exists."), error);
}

GPtrArray *
kp_store_list_tags (KpStore  *self,
                    gint64    group_id,
                    GError  **error)
{
  g_autoptr(CachedStmt) stmt = NULL;
  g_autoptr(GPtrArray) list = NULL;
  int rc;

  g_return_val_if_fail (KP_IS_STORE (self), NULL);

  if (group_id != 0)
    stmt = get_stmt (self, "SELECT id, group_id, name, position FROM tags WHERE group_id = ?"
                           " ORDER BY position, id", error);
  else
    stmt = get_stmt (self, "SELECT t.id, t.group_id, t.name, t.position FROM tags t"
                           " JOIN tag_groups g ON g.id = t.group_id"
                           " ORDER BY g.position, g.id, t.position, t.id", error);
  if (stmt == NULL)
    return NULL;
  if (group_id != 0)
    sqlite3_bind_int64 (stmt, 1, group_id);

  list = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_tag_free);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      KpTag *tag = g_new0 (KpTag, 1);

      tag->id = sqlite3_column_int64 (stmt, 0);
      tag->group_id = sqlite3_column_int64 (stmt, 1);
      tag->name = g_strdup ((const char *)sqlite3_column_text (stmt, 2));
      tag->position = sqlite3_column_int (stmt, 3);
      g_ptr_array_add (list, tag);
    }

  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->db, rc, _("Could not read the tags."));
      return NULL;
    }

  return g_steal_pointer (&list);
}

gint64
kp_store_add_tag (KpStore     *self,
                  gint64       group_id,
                  const char  *name,
                  GError     **error)
{
  g_autoptr(CachedStmt) stmt = NULL;
  g_autofree char *clean = NULL;
  int rc;

  g_return_val_if_fail (KP_IS_STORE (self), 0);

  if (!(clean = clean_tag_name (name, error)))
    return 0;

  if (!(stmt = get_stmt (self, "INSERT INTO tags (group_id, name, position) VALUES (?1, ?2,"
                               " (SELECT coalesce(max(position) + 1, 0) FROM tags WHERE group_id = ?1))",
                         error)))
    return 0;
  sqlite3_bind_int64 (stmt, 1, group_id);
  sqlite3_bind_text (stmt, 2, clean, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    {
      if (rc == SQLITE_CONSTRAINT_UNIQUE)
        g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                     _("The group already has a tag named “%s”."), clean);
      else if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                             _("The tag group no longer exists."));
      else
        set_sqlite_error (error, self->db, rc, _("Could not save the tag."));
      return 0;
    }

  return sqlite3_last_insert_rowid (self->db);
}

gboolean
kp_store_delete_tag (KpStore  *self,
                     gint64    tag_id,
                     GError  **error)
{
  g_autoptr(CachedStmt) stmt = NULL;

  g_return_val_if_fail (KP_IS_STORE (self), FALSE);

  if (!(stmt = get_stmt (self, "DELETE FROM tags WHERE id = ?", error)))
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, tag_id);

  return step_one_row (self, stmt, _("Could not delete the tag."),
                       _("The tag no longer exists."), error);
}

GArray *
kp_store_get_media_tags (KpStore  *self,
                         gint64    media_id,
                         GError  **error)
{
  g_autoptr(CachedStmt) stmt = NULL;
  g_autoptr(GArray) ids = NULL;
  int rc;

  g_return_val_if_fail (KP_IS_STORE (self), NULL);

  if (!(stmt = get_stmt (self, "SELECT tag_id FROM media_tags WHERE media_id = ? ORDER BY tag_id", error)))
    return NULL;
  sqlite3_bind_int64 (stmt, 1, media_id);

  ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);

      g_array_append_val (ids, id);
    }

  if (rc != SQLITE_DONE)
    {
      set_sqlite_error (error, self->db, rc, _("Could not read the tags."));
      return NULL;
    }

  return g_steal_pointer (&ids);
}

gboolean
kp_store_set_media_tags (KpStore       *self,
                         gint64         media_id,
                         const gint64  *tag_ids,
                         guint          n_tag_ids,
                         GError       **error)
{
  g_autoptr(CachedStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (KP_IS_STORE (self), FALSE);
  g_return_val_if_fail (tag_ids != NULL || n_tag_ids == 0, FALSE);

  if (!savepoint (self, error))
    return FALSE;

  if (!(stmt = get_stmt (self, "DELETE FROM media_tags WHERE media_id = ?", error)))
    goto fail;
  sqlite3_bind_int64 (stmt, 1, media_id);
  if (!step_done (self, stmt, _("Could not save the tags."), error))
    goto fail;
  g_clear_pointer (&stmt, cached_stmt_release);

  for (guint i = 0; i < n_tag_ids; i++)
    {
      /* Tags deleted since (an old undo step) are dropped. */
      if (!(stmt = get_stmt (self, "INSERT OR IGNORE INTO media_tags (media_id, tag_id)"
                                   " SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM tags WHERE id = ?2)", error)))
        goto fail;
      sqlite3_bind_int64 (stmt, 1, media_id);
      sqlite3_bind_int64 (stmt, 2, tag_ids[i]);
      rc = sqlite3_step (stmt);
      if (rc != SQLITE_DONE)
        {
          if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
            g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_NOT_FOUND,
                                 _("The image no longer exists."));
          else
            set_sqlite_error (error, self->db, rc, _("Could not save the tags."));
          goto fail;
        }
      g_clear_pointer (&stmt, cached_stmt_release);
    }

  /* At most one tag of each single-select group. */
  if (!(stmt = get_stmt (self, "SELECT g.name FROM media_tags m JOIN tags t ON t.id = m.tag_id"
                               " JOIN tag_groups g ON g.id = t.group_id"
                               " WHERE m.media_id = ? AND g.multiple = 0"
                               " GROUP BY g.id HAVING count(*) > 1", error)))
    goto fail;
  sqlite3_bind_int64 (stmt, 1, media_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      g_set_error (error, KP_STORE_ERROR, KP_STORE_ERROR_INVALID,
                   _("Only one tag of “%s” can be chosen."), (const char *)sqlite3_column_text (stmt, 0));
      goto fail;
    }
  g_clear_pointer (&stmt, cached_stmt_release);

  if (!release (self, error))
    goto fail;

  return TRUE;

fail:
  g_clear_pointer (&stmt, cached_stmt_release);
  rollback_savepoint (self);
  return FALSE;
}

/* Transactions and the undo journal, for KpDocument */

gboolean
_kp_store_begin (KpStore  *self,
                 GError  **error)
{
  return begin (self, error);
}

gboolean
_kp_store_commit (KpStore  *self,
                  GError  **error)
{
  return commit (self, _("Could not save the change."), error);
}

void
_kp_store_rollback (KpStore *self)
{
  rollback (self);
}

gint64
_kp_store_history_push (KpStore     *self,
                        gint64       media_id,
                        const char  *labels,
                        const char  *command,
                        guint        limit,
                        GError     **error)
{
  g_autoptr(CachedStmt) stmt = NULL;
  gint64 id;

  if (!(stmt = get_stmt (self, "DELETE FROM history WHERE media_id = ? AND done = 0", error)))
    return 0;
  sqlite3_bind_int64 (stmt, 1, media_id);
  if (!step_done (self, stmt, _("Could not save the change."), error))
    return 0;
  g_clear_pointer (&stmt, cached_stmt_release);

  if (!(stmt = get_stmt (self, "INSERT INTO history (media_id, done, labels, command) VALUES (?, 1, ?, ?)",
                         error)))
    return 0;
  sqlite3_bind_int64 (stmt, 1, media_id);
  sqlite3_bind_text (stmt, 2, labels, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, command, -1, SQLITE_TRANSIENT);
  if (!step_done (self, stmt, _("Could not save the change."), error))
    return 0;
  id = sqlite3_last_insert_rowid (self->db);
  g_clear_pointer (&stmt, cached_stmt_release);

  /* Forget the oldest steps beyond the limit. */
  if (!(stmt = get_stmt (self, "DELETE FROM history WHERE media_id = ?1 AND id <= ("
                               "SELECT id FROM history WHERE media_id = ?1 ORDER BY id DESC"
                               " LIMIT 1 OFFSET ?2)", error)))
    return 0;
  sqlite3_bind_int64 (stmt, 1, media_id);
  sqlite3_bind_int64 (stmt, 2, limit);
  if (!step_done (self, stmt, _("Could not save the change."), error))
    return 0;

  return id;
}

char *
_kp_store_history_peek (KpStore  *self,
                        gint64    media_id,
                        gboolean  undo,
                        gint64   *history_id,
                        GError  **error)
{
  g_autoptr(CachedStmt) stmt = NULL;
  int rc;

  *history_id = 0;
  if (undo)
    stmt = get_stmt (self, "SELECT id, command FROM history WHERE media_id = ? AND done = 1"
                           " ORDER BY id DESC LIMIT 1", error);
  else
    stmt = get_stmt (self, "SELECT id, command FROM history WHERE media_id = ? AND done = 0"
                           " ORDER BY id LIMIT 1", error);
  if (stmt == NULL)
    return NULL;

  sqlite3_bind_int64 (stmt, 1, media_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      *history_id = sqlite3_column_int64 (stmt, 0);
      return g_strdup ((const char *)sqlite3_column_text (stmt, 1));
    }
  if (rc != SQLITE_DONE)
    set_sqlite_error (error, self->db, rc, _("Could not read the undo history."));

  return NULL;
}

gboolean
_kp_store_history_mark (KpStore   *self,
                        gint64     history_id,
                        gboolean   done,
                        GError   **error)
{
  g_autoptr(CachedStmt) stmt = NULL;

  if (!(stmt = get_stmt (self, "UPDATE history SET done = ? WHERE id = ?", error)))
    return FALSE;
  sqlite3_bind_int (stmt, 1, done ? 1 : 0);
  sqlite3_bind_int64 (stmt, 2, history_id);

  return step_one_row (self, stmt, _("Could not save the undo history."),
                       _("The undo history changed meanwhile."), error);
}

gboolean
_kp_store_history_count (KpStore  *self,
                         gint64    media_id,
                         guint    *n_undo,
                         guint    *n_redo,
                         GError  **error)
{
  g_autoptr(CachedStmt) stmt = NULL;
  int rc;

  *n_undo = *n_redo = 0;
  if (!(stmt = get_stmt (self, "SELECT coalesce(sum(done), 0), count(*) - coalesce(sum(done), 0)"
                               " FROM history WHERE media_id = ?", error)))
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, media_id);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      set_sqlite_error (error, self->db, rc, _("Could not read the undo history."));
      return FALSE;
    }
  *n_undo = (guint)sqlite3_column_int64 (stmt, 0);
  *n_redo = (guint)sqlite3_column_int64 (stmt, 1);

  return TRUE;
}

gboolean
_kp_store_history_forget_label (KpStore  *self,
                                gint64    label_id,
                                GError  **error)
{
  g_autoptr(CachedStmt) stmt = NULL;
  g_autofree char *pattern = g_strdup_printf ("%%,%" G_GINT64_FORMAT ",%%", label_id);

  if (!(stmt = get_stmt (self, "DELETE FROM history WHERE labels LIKE ?", error)))
    return FALSE;
  sqlite3_bind_text (stmt, 1, pattern, -1, SQLITE_TRANSIENT);

  return step_done (self, stmt, _("Could not update the undo history."), error);
}

/* Other connections' commits */

gint64
kp_store_get_data_version (KpStore *self)
{
  g_autoptr(CachedStmt) stmt = NULL;

  g_return_val_if_fail (KP_IS_STORE (self), -1);

  if (!(stmt = get_stmt (self, "PRAGMA data_version", NULL)) ||
      sqlite3_step (stmt) != SQLITE_ROW)
    return -1;

  return sqlite3_column_int64 (stmt, 0);
}

/* Settings */

char *
kp_store_dup_setting (KpStore    *self,
                      const char *key)
{
  g_autoptr(CachedStmt) stmt = NULL;

  g_return_val_if_fail (KP_IS_STORE (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  if (!(stmt = get_stmt (self, "SELECT value FROM settings WHERE key = ?", NULL)))
    return NULL;

  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return NULL;

  return g_strdup ((const char *)sqlite3_column_text (stmt, 0));
}

/* A NULL value removes the setting. */
gboolean
kp_store_set_setting (KpStore     *self,
                      const char  *key,
                      const char  *value,
                      GError     **error)
{
  g_autoptr(CachedStmt) stmt = NULL;

  g_return_val_if_fail (KP_IS_STORE (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  if (value == NULL)
    stmt = get_stmt (self, "DELETE FROM settings WHERE key = ?", error);
  else
    stmt = get_stmt (self, "INSERT INTO settings (key, value) VALUES (?, ?)"
                           " ON CONFLICT (key) DO UPDATE SET value = excluded.value", error);
  if (stmt == NULL)
    return FALSE;

  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_TRANSIENT);
  if (value != NULL)
    sqlite3_bind_text (stmt, 2, value, -1, SQLITE_TRANSIENT);

  return step_done (self, stmt, _("Could not save the project’s settings."), error);
}
