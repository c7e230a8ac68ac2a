/* kp-tracks.c: video annotation tracks with keyframes, and their exporters
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-tracks.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <libxml/xmlwriter.h>

G_DEFINE_QUARK (kp-tracks-error-quark, kp_tracks_error)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlTextWriter, xmlFreeTextWriter)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlBuffer, xmlBufferFree)

#define TRACKS_FORMAT_VERSION 1

static const char * const shape_names[] = { "box", "polygon", "points" };

/* KpTrackShape */

G_DEFINE_BOXED_TYPE (KpTrackShape, kp_track_shape, kp_track_shape_copy, kp_track_shape_free)

KpTrackShape *
kp_track_shape_new (gint64        frame,
                    const double *coords,
                    guint         n_coords)
{
  KpTrackShape *shape = g_new0 (KpTrackShape, 1);

  shape->frame = frame;
  shape->n_coords = n_coords;
  shape->coords = n_coords > 0 ? g_memdup2 (coords, n_coords * sizeof (double)) : NULL;
  return shape;
}

KpTrackShape *
kp_track_shape_copy (const KpTrackShape *shape)
{
  KpTrackShape *copy;

  g_return_val_if_fail (shape != NULL, NULL);

  copy = g_memdup2 (shape, sizeof *shape);
  copy->coords = shape->n_coords > 0 ? g_memdup2 (shape->coords, shape->n_coords * sizeof (double))
                                     : NULL;
  return copy;
}

void
kp_track_shape_free (KpTrackShape *shape)
{
  if (shape == NULL)
    return;
  g_free (shape->coords);
  g_free (shape);
}

void
kp_track_shape_get_bounds (const KpTrackShape *shape,
                           double             *x,
                           double             *y,
                           double             *width,
                           double             *height)
{
  double x1 = INFINITY, y1 = INFINITY, x2 = -INFINITY, y2 = -INFINITY;

  g_return_if_fail (shape != NULL);

  for (guint i = 0; i + 1 < shape->n_coords; i += 2)
    {
      x1 = MIN (x1, shape->coords[i]);
      x2 = MAX (x2, shape->coords[i]);
      y1 = MIN (y1, shape->coords[i + 1]);
      y2 = MAX (y2, shape->coords[i + 1]);
    }
  if (shape->n_coords < 2)
    x1 = y1 = x2 = y2 = 0;
  *x = x1;
  *y = y1;
  *width = x2 - x1;
  *height = y2 - y1;
}

/* KpTrack */

typedef struct
{
  gint64 frame;
  char *value; /* NULL: unset from here on */
} AttributeChange;

struct _KpTrack
{
  GObject parent_instance;

  KpTracks *tracks; /* weak: the owner */
  guint id;
  char *label;
  KpTrackShapeType shape_type;
  GPtrArray *keyframes;   /* KpTrackShape, sorted by frame */
  GArray *keyframe_numbers;
  GHashTable *attributes; /* name -> GArray of AttributeChange, sorted */
};

G_DEFINE_FINAL_TYPE (KpTrack, kp_track, G_TYPE_OBJECT)

struct _KpTracks
{
  GObject parent_instance;

  char *video_name;
  gint64 n_frames;
  int width;
  int height;
  GPtrArray *tracks;
  guint next_id;
};

static void kp_tracks_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (KpTracks, kp_tracks, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, kp_tracks_list_model_init))

enum {
  CHANGED,
  N_SIGNALS
};

static guint tracks_signals[N_SIGNALS];

static void
track_changed (KpTrack *self)
{
  if (self->tracks != NULL)
    g_signal_emit (self->tracks, tracks_signals[CHANGED], 0);
}

static void
attribute_changes_free (gpointer data)
{
  GArray *changes = data;

  for (guint i = 0; i < changes->len; i++)
    g_free (g_array_index (changes, AttributeChange, i).value);
  g_array_unref (changes);
}

static void
kp_track_finalize (GObject *object)
{
  KpTrack *self = (KpTrack *)object;

  g_free (self->label);
  g_ptr_array_unref (self->keyframes);
  g_array_unref (self->keyframe_numbers);
  g_hash_table_unref (self->attributes);

  G_OBJECT_CLASS (kp_track_parent_class)->finalize (object);
}

static void
kp_track_class_init (KpTrackClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kp_track_finalize;
}

static void
kp_track_init (KpTrack *self)
{
  self->keyframes = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_track_shape_free);
  self->keyframe_numbers = g_array_new (FALSE, FALSE, sizeof (gint64));
  self->attributes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            attribute_changes_free);
}

guint
kp_track_get_id (KpTrack *self)
{
  g_return_val_if_fail (KP_IS_TRACK (self), 0);

  return self->id;
}

const char *
kp_track_get_label (KpTrack *self)
{
  g_return_val_if_fail (KP_IS_TRACK (self), NULL);

  return self->label;
}

void
kp_track_set_label (KpTrack    *self,
                    const char *label)
{
  g_return_if_fail (KP_IS_TRACK (self));
  g_return_if_fail (label != NULL);

  if (g_strcmp0 (self->label, label) == 0)
    return;
  g_free (self->label);
  self->label = g_strdup (label);
  track_changed (self);
}

KpTrackShapeType
kp_track_get_shape_type (KpTrack *self)
{
  g_return_val_if_fail (KP_IS_TRACK (self), KP_TRACK_SHAPE_BOX);

  return self->shape_type;
}

/* The index of the last keyframe at or before frame, or -1. */
static int
keyframe_index_at (KpTrack *self,
                   gint64   frame)
{
  int lo = 0;
  int hi = (int)self->keyframes->len - 1;
  int found = -1;

  while (lo <= hi)
    {
      int mid = (lo + hi) / 2;
      const KpTrackShape *k = g_ptr_array_index (self->keyframes, mid);

      if (k->frame <= frame)
        {
          found = mid;
          lo = mid + 1;
        }
      else
        hi = mid - 1;
    }
  return found;
}

static void
sync_keyframe_numbers (KpTrack *self)
{
  g_array_set_size (self->keyframe_numbers, self->keyframes->len);
  for (guint i = 0; i < self->keyframes->len; i++)
    g_array_index (self->keyframe_numbers, gint64, i) =
      ((KpTrackShape *)g_ptr_array_index (self->keyframes, i))->frame;
}

static gboolean
check_coords (KpTrackShapeType   type,
              guint              n_coords,
              GError           **error)
{
  gboolean ok;

  switch (type)
    {
    case KP_TRACK_SHAPE_BOX:
      ok = n_coords == 4;
      break;
    case KP_TRACK_SHAPE_POLYGON:
      ok = n_coords >= 6 && n_coords % 2 == 0;
      break;
    case KP_TRACK_SHAPE_POINTS:
    default:
      ok = n_coords >= 2 && n_coords % 2 == 0;
      break;
    }
  if (!ok)
    g_set_error (error, KP_TRACKS_ERROR, KP_TRACKS_ERROR_INVALID,
                 _("%u coordinates do not make a %s"), n_coords, shape_names[type]);
  return ok;
}

static void
set_keyframe_internal (KpTrack            *self,
                       const KpTrackShape *shape)
{
  int at = keyframe_index_at (self, shape->frame);
  KpTrackShape *copy = kp_track_shape_copy (shape);

  copy->keyframe = TRUE;
  if (self->shape_type == KP_TRACK_SHAPE_BOX)
    {
      /* Boxes are kept normalised: x1 ≤ x2, y1 ≤ y2. */
      double x1 = MIN (copy->coords[0], copy->coords[2]);
      double x2 = MAX (copy->coords[0], copy->coords[2]);
      double y1 = MIN (copy->coords[1], copy->coords[3]);
      double y2 = MAX (copy->coords[1], copy->coords[3]);

      copy->coords[0] = x1;
      copy->coords[1] = y1;
      copy->coords[2] = x2;
      copy->coords[3] = y2;
    }
  if (at >= 0 && ((KpTrackShape *)g_ptr_array_index (self->keyframes, at))->frame == shape->frame)
    {
      kp_track_shape_free (g_ptr_array_index (self->keyframes, at));
      g_ptr_array_index (self->keyframes, at) = copy;
    }
  else
    g_ptr_array_insert (self->keyframes, at + 1, copy);
  sync_keyframe_numbers (self);
}

gboolean
kp_track_set_keyframe (KpTrack             *self,
                       const KpTrackShape  *shape,
                       GError             **error)
{
  g_return_val_if_fail (KP_IS_TRACK (self), FALSE);
  g_return_val_if_fail (shape != NULL, FALSE);

  if (!check_coords (self->shape_type, shape->n_coords, error))
    return FALSE;
  if (shape->frame < 0)
    {
      g_set_error_literal (error, KP_TRACKS_ERROR, KP_TRACKS_ERROR_INVALID,
                           _("A keyframe cannot be before the first frame"));
      return FALSE;
    }
  for (guint i = 0; i < shape->n_coords; i++)
    if (!isfinite (shape->coords[i]))
      {
        g_set_error_literal (error, KP_TRACKS_ERROR, KP_TRACKS_ERROR_INVALID,
                             _("A coordinate is not a finite number"));
        return FALSE;
      }
  set_keyframe_internal (self, shape);
  track_changed (self);
  return TRUE;
}

gboolean
kp_track_remove_keyframe (KpTrack *self,
                          gint64   frame)
{
  int at;

  g_return_val_if_fail (KP_IS_TRACK (self), FALSE);

  at = keyframe_index_at (self, frame);
  if (at < 0 || ((KpTrackShape *)g_ptr_array_index (self->keyframes, at))->frame != frame)
    return FALSE;
  g_ptr_array_remove_index (self->keyframes, at);
  sync_keyframe_numbers (self);
  track_changed (self);
  return TRUE;
}

guint
kp_track_get_n_keyframes (KpTrack *self)
{
  g_return_val_if_fail (KP_IS_TRACK (self), 0);

  return self->keyframes->len;
}

const gint64 *
kp_track_get_keyframes (KpTrack *self,
                        guint   *n_keyframes)
{
  g_return_val_if_fail (KP_IS_TRACK (self), NULL);

  if (n_keyframes != NULL)
    *n_keyframes = self->keyframe_numbers->len;
  return (const gint64 *)(gpointer)self->keyframe_numbers->data;
}

gboolean
kp_track_is_keyframe (KpTrack *self,
                      gint64   frame)
{
  int at;

  g_return_val_if_fail (KP_IS_TRACK (self), FALSE);

  at = keyframe_index_at (self, frame);
  return at >= 0 && ((KpTrackShape *)g_ptr_array_index (self->keyframes, at))->frame == frame;
}

KpTrackShape *
kp_track_get_shape (KpTrack *self,
                    gint64   frame)
{
  const KpTrackShape *prev;
  const KpTrackShape *next;
  KpTrackShape *shape;
  int at;
  double t;

  g_return_val_if_fail (KP_IS_TRACK (self), NULL);

  at = keyframe_index_at (self, frame);
  if (at < 0)
    return NULL;
  prev = g_ptr_array_index (self->keyframes, at);
  shape = kp_track_shape_copy (prev);
  shape->frame = frame;
  if (prev->frame == frame)
    return shape;

  shape->keyframe = FALSE;
  if ((guint)at + 1 >= self->keyframes->len || prev->outside)
    return shape;
  next = g_ptr_array_index (self->keyframes, at + 1);
  /* Shapes with different vertex counts cannot be interpolated: the shape
   * holds until the next keyframe. */
  if (next->n_coords != prev->n_coords)
    return shape;
  t = (double)(frame - prev->frame) / (double)(next->frame - prev->frame);
  for (guint i = 0; i < shape->n_coords; i++)
    shape->coords[i] = prev->coords[i] + t * (next->coords[i] - prev->coords[i]);
  return shape;
}

gboolean
kp_track_is_visible (KpTrack *self,
                     gint64   frame)
{
  int at;

  g_return_val_if_fail (KP_IS_TRACK (self), FALSE);

  at = keyframe_index_at (self, frame);
  return at >= 0 && !((KpTrackShape *)g_ptr_array_index (self->keyframes, at))->outside;
}

void
kp_track_propagate (KpTrack *self,
                    gint64   frame,
                    guint    n)
{
  g_autoptr(KpTrackShape) shape = NULL;
  gint64 last;

  g_return_if_fail (KP_IS_TRACK (self));

  shape = kp_track_get_shape (self, frame);
  if (shape == NULL)
    return;
  last = frame + n;
  if (self->tracks != NULL && kp_tracks_get_n_frames (self->tracks) > 0)
    last = MIN (last, kp_tracks_get_n_frames (self->tracks) - 1);
  for (gint64 f = frame + 1; f <= last; f++)
    {
      shape->frame = f;
      set_keyframe_internal (self, shape);
    }
  track_changed (self);
}

void
kp_track_set_attribute (KpTrack    *self,
                        gint64      frame,
                        const char *name,
                        const char *value)
{
  GArray *changes;
  AttributeChange change = { frame, g_strdup (value) };
  guint i;

  g_return_if_fail (KP_IS_TRACK (self));
  g_return_if_fail (name != NULL);

  changes = g_hash_table_lookup (self->attributes, name);
  if (changes == NULL)
    {
      changes = g_array_new (FALSE, FALSE, sizeof (AttributeChange));
      g_hash_table_insert (self->attributes, g_strdup (name), changes);
    }
  for (i = 0; i < changes->len; i++)
    {
      AttributeChange *c = &g_array_index (changes, AttributeChange, i);

      if (c->frame == frame)
        {
          g_free (c->value);
          c->value = change.value;
          track_changed (self);
          return;
        }
      if (c->frame > frame)
        break;
    }
  g_array_insert_val (changes, i, change);
  track_changed (self);
}

const char *
kp_track_get_attribute (KpTrack    *self,
                        gint64      frame,
                        const char *name)
{
  GArray *changes;
  const char *value = NULL;

  g_return_val_if_fail (KP_IS_TRACK (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  changes = g_hash_table_lookup (self->attributes, name);
  if (changes == NULL)
    return NULL;
  for (guint i = 0; i < changes->len; i++)
    {
      const AttributeChange *c = &g_array_index (changes, AttributeChange, i);

      if (c->frame > frame)
        break;
      value = c->value;
    }
  return value;
}

GStrv
kp_track_dup_attribute_names (KpTrack *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autofree const char **names = NULL;
  guint n;

  g_return_val_if_fail (KP_IS_TRACK (self), NULL);

  names = (const char **)g_hash_table_get_keys_as_array (self->attributes, &n);
  qsort (names, n, sizeof (char *), (GCompareFunc)(void (*) (void))g_strcmp0);
  for (guint i = 0; i < n; i++)
    g_strv_builder_add (builder, names[i]);
  return g_strv_builder_end (builder);
}

/* KpTracks */

static GType
kp_tracks_get_item_type (GListModel *model)
{
  return KP_TYPE_TRACK;
}

static guint
kp_tracks_get_n_items (GListModel *model)
{
  return KP_TRACKS (model)->tracks->len;
}

static gpointer
kp_tracks_get_item (GListModel *model,
                    guint       position)
{
  KpTracks *self = KP_TRACKS (model);

  if (position >= self->tracks->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->tracks, position));
}

static void
kp_tracks_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = kp_tracks_get_item_type;
  iface->get_n_items = kp_tracks_get_n_items;
  iface->get_item = kp_tracks_get_item;
}

static void
kp_tracks_dispose (GObject *object)
{
  KpTracks *self = (KpTracks *)object;

  for (guint i = 0; i < self->tracks->len; i++)
    ((KpTrack *)g_ptr_array_index (self->tracks, i))->tracks = NULL;
  g_ptr_array_set_size (self->tracks, 0);

  G_OBJECT_CLASS (kp_tracks_parent_class)->dispose (object);
}

static void
kp_tracks_finalize (GObject *object)
{
  KpTracks *self = (KpTracks *)object;

  g_free (self->video_name);
  g_ptr_array_unref (self->tracks);

  G_OBJECT_CLASS (kp_tracks_parent_class)->finalize (object);
}

static void
kp_tracks_class_init (KpTracksClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kp_tracks_dispose;
  object_class->finalize = kp_tracks_finalize;

  /* Emitted when a track, its keyframes or attributes change. */
  tracks_signals[CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
kp_tracks_init (KpTracks *self)
{
  self->tracks = g_ptr_array_new_with_free_func (g_object_unref);
  self->next_id = 1;
}

KpTracks *
kp_tracks_new (const char *video_name,
               gint64      n_frames,
               int         width,
               int         height)
{
  KpTracks *self = g_object_new (KP_TYPE_TRACKS, NULL);

  self->video_name = g_strdup (video_name != NULL ? video_name : "video");
  self->n_frames = MAX (0, n_frames);
  self->width = MAX (0, width);
  self->height = MAX (0, height);
  return self;
}

const char *
kp_tracks_get_video_name (KpTracks *self)
{
  g_return_val_if_fail (KP_IS_TRACKS (self), NULL);

  return self->video_name;
}

gint64
kp_tracks_get_n_frames (KpTracks *self)
{
  g_return_val_if_fail (KP_IS_TRACKS (self), 0);

  return self->n_frames;
}

int
kp_tracks_get_width (KpTracks *self)
{
  g_return_val_if_fail (KP_IS_TRACKS (self), 0);

  return self->width;
}

int
kp_tracks_get_height (KpTracks *self)
{
  g_return_val_if_fail (KP_IS_TRACKS (self), 0);

  return self->height;
}

static KpTrack *
add_track_with_id (KpTracks         *self,
                   guint             id,
                   const char       *label,
                   KpTrackShapeType  shape_type)
{
  KpTrack *track = g_object_new (KP_TYPE_TRACK, NULL);

  track->tracks = self;
  track->id = id;
  track->label = g_strdup (label);
  track->shape_type = shape_type;
  self->next_id = MAX (self->next_id, id + 1);
  g_ptr_array_add (self->tracks, track);
  g_list_model_items_changed (G_LIST_MODEL (self), self->tracks->len - 1, 0, 1);
  g_signal_emit (self, tracks_signals[CHANGED], 0);
  return track;
}

KpTrack *
kp_tracks_add_track (KpTracks         *self,
                     const char       *label,
                     KpTrackShapeType  shape_type)
{
  g_return_val_if_fail (KP_IS_TRACKS (self), NULL);
  g_return_val_if_fail (label != NULL, NULL);
  g_return_val_if_fail (shape_type <= KP_TRACK_SHAPE_POINTS, NULL);

  return add_track_with_id (self, self->next_id, label, shape_type);
}

gboolean
kp_tracks_remove_track (KpTracks *self,
                        guint     id)
{
  g_return_val_if_fail (KP_IS_TRACKS (self), FALSE);

  for (guint i = 0; i < self->tracks->len; i++)
    {
      KpTrack *track = g_ptr_array_index (self->tracks, i);

      if (track->id == id)
        {
          track->tracks = NULL;
          g_ptr_array_remove_index (self->tracks, i);
          g_list_model_items_changed (G_LIST_MODEL (self), i, 1, 0);
          g_signal_emit (self, tracks_signals[CHANGED], 0);
          return TRUE;
        }
    }
  return FALSE;
}

KpTrack *
kp_tracks_get_track (KpTracks *self,
                     guint     id)
{
  g_return_val_if_fail (KP_IS_TRACKS (self), NULL);

  for (guint i = 0; i < self->tracks->len; i++)
    {
      KpTrack *track = g_ptr_array_index (self->tracks, i);

      if (track->id == id)
        return track;
    }
  return NULL;
}

GStrv
kp_tracks_dup_labels (KpTracks *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

  g_return_val_if_fail (KP_IS_TRACKS (self), NULL);

  for (guint i = 0; i < self->tracks->len; i++)
    {
      KpTrack *track = g_ptr_array_index (self->tracks, i);

      if (g_hash_table_add (seen, track->label))
        g_strv_builder_add (builder, track->label);
    }
  return g_strv_builder_end (builder);
}

static int
label_index (GStrv       labels,
             const char *label)
{
  for (int i = 0; labels[i] != NULL; i++)
    if (g_str_equal (labels[i], label))
      return i;
  return -1;
}

/* JSON */

static int
compare_names (const void *a,
               const void *b)
{
  return strcmp (*(const char * const *)a, *(const char * const *)b);
}

char *
kp_tracks_to_json (KpTracks *self)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  g_return_val_if_fail (KP_IS_TRACKS (self), NULL);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "version");
  json_builder_add_int_value (b, TRACKS_FORMAT_VERSION);
  json_builder_set_member_name (b, "video");
  json_builder_add_string_value (b, self->video_name);
  json_builder_set_member_name (b, "frames");
  json_builder_add_int_value (b, self->n_frames);
  json_builder_set_member_name (b, "width");
  json_builder_add_int_value (b, self->width);
  json_builder_set_member_name (b, "height");
  json_builder_add_int_value (b, self->height);
  json_builder_set_member_name (b, "tracks");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->tracks->len; i++)
    {
      KpTrack *track = g_ptr_array_index (self->tracks, i);
      g_autofree gpointer *names = NULL;
      guint n_names = 0;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_int_value (b, track->id);
      json_builder_set_member_name (b, "label");
      json_builder_add_string_value (b, track->label);
      json_builder_set_member_name (b, "shape");
      json_builder_add_string_value (b, shape_names[track->shape_type]);
      json_builder_set_member_name (b, "keyframes");
      json_builder_begin_array (b);
      for (guint k = 0; k < track->keyframes->len; k++)
        {
          const KpTrackShape *s = g_ptr_array_index (track->keyframes, k);

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "frame");
          json_builder_add_int_value (b, s->frame);
          json_builder_set_member_name (b, "outside");
          json_builder_add_boolean_value (b, s->outside);
          json_builder_set_member_name (b, "occluded");
          json_builder_add_boolean_value (b, s->occluded);
          json_builder_set_member_name (b, "coords");
          json_builder_begin_array (b);
          for (guint c = 0; c < s->n_coords; c++)
            json_builder_add_double_value (b, s->coords[c]);
          json_builder_end_array (b);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_set_member_name (b, "attributes");
      json_builder_begin_object (b);
      /* Sorted, so that the same tracks always give the same text (undo
       * compares snapshots). */
      names = g_hash_table_get_keys_as_array (track->attributes, &n_names);
      qsort (names, n_names, sizeof (gpointer), compare_names);
      for (guint a = 0; a < n_names; a++)
        {
          GArray *changes = g_hash_table_lookup (track->attributes, names[a]);

          json_builder_set_member_name (b, names[a]);
          json_builder_begin_array (b);
          for (guint c = 0; c < changes->len; c++)
            {
              const AttributeChange *ch = &g_array_index (changes, AttributeChange, c);

              json_builder_begin_object (b);
              json_builder_set_member_name (b, "frame");
              json_builder_add_int_value (b, ch->frame);
              json_builder_set_member_name (b, "value");
              if (ch->value != NULL)
                json_builder_add_string_value (b, ch->value);
              else
                json_builder_add_null_value (b);
              json_builder_end_object (b);
            }
          json_builder_end_array (b);
        }
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  return json_generator_to_data (gen, NULL);
}

static gboolean
invalid (GError     **error,
         const char  *what)
{
  g_set_error (error, KP_TRACKS_ERROR, KP_TRACKS_ERROR_INVALID,
               _("The tracks file is not valid: %s"), what);
  return FALSE;
}

static gboolean
read_track (KpTracks    *self,
            JsonObject  *obj,
            GError     **error)
{
  const char *label = json_object_get_string_member_with_default (obj, "label", NULL);
  const char *shape = json_object_get_string_member_with_default (obj, "shape", NULL);
  gint64 id = json_object_get_int_member_with_default (obj, "id", 0);
  JsonArray *keyframes;
  JsonObject *attributes;
  KpTrack *track;
  int type = -1;

  for (guint i = 0; i < G_N_ELEMENTS (shape_names); i++)
    if (g_strcmp0 (shape, shape_names[i]) == 0)
      type = i;
  if (label == NULL || type < 0 || id <= 0 || id > G_MAXUINT ||
      kp_tracks_get_track (self, id) != NULL)
    return invalid (error, _("a track needs a unique id, a label and a shape"));
  if (!json_object_has_member (obj, "keyframes") ||
      JSON_NODE_TYPE (json_object_get_member (obj, "keyframes")) != JSON_NODE_ARRAY)
    return invalid (error, _("a track has no keyframes list"));

  track = add_track_with_id (self, id, label, type);
  keyframes = json_object_get_array_member (obj, "keyframes");
  for (guint k = 0; k < json_array_get_length (keyframes); k++)
    {
      JsonNode *node = json_array_get_element (keyframes, k);
      JsonObject *kf;
      JsonArray *coords;
      g_autoptr(KpTrackShape) s = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return invalid (error, _("a keyframe is not an object"));
      kf = json_node_get_object (node);
      if (!json_object_has_member (kf, "coords") ||
          !JSON_NODE_HOLDS_ARRAY (json_object_get_member (kf, "coords")))
        return invalid (error, _("a keyframe has no coordinates"));
      coords = json_object_get_array_member (kf, "coords");
      s = kp_track_shape_new (json_object_get_int_member_with_default (kf, "frame", -1), NULL, 0);
      s->n_coords = json_array_get_length (coords);
      s->coords = g_new0 (double, MAX (1, s->n_coords));
      for (guint c = 0; c < s->n_coords; c++)
        {
          JsonNode *v = json_array_get_element (coords, c);

          if (!JSON_NODE_HOLDS_VALUE (v) || json_node_get_value_type (v) == G_TYPE_STRING)
            return invalid (error, _("a coordinate is not a number"));
          s->coords[c] = json_node_get_double (v);
        }
      s->outside = json_object_get_boolean_member_with_default (kf, "outside", FALSE);
      s->occluded = json_object_get_boolean_member_with_default (kf, "occluded", FALSE);
      if (!kp_track_set_keyframe (track, s, error))
        return FALSE;
    }

  attributes = json_object_has_member (obj, "attributes") &&
               JSON_NODE_HOLDS_OBJECT (json_object_get_member (obj, "attributes"))
               ? json_object_get_object_member (obj, "attributes") : NULL;
  if (attributes != NULL)
    {
      g_autoptr(GList) names = json_object_get_members (attributes);

      for (GList *l = names; l != NULL; l = l->next)
        {
          JsonNode *node = json_object_get_member (attributes, l->data);
          JsonArray *changes;

          if (!JSON_NODE_HOLDS_ARRAY (node))
            return invalid (error, _("an attribute is not a list of changes"));
          changes = json_node_get_array (node);
          for (guint c = 0; c < json_array_get_length (changes); c++)
            {
              JsonNode *cn = json_array_get_element (changes, c);
              JsonObject *ch;

              if (!JSON_NODE_HOLDS_OBJECT (cn))
                return invalid (error, _("an attribute change is not an object"));
              ch = json_node_get_object (cn);
              kp_track_set_attribute (track,
                                      json_object_get_int_member_with_default (ch, "frame", 0),
                                      l->data,
                                      json_object_get_string_member_with_default (ch, "value", NULL));
            }
        }
    }
  return TRUE;
}

KpTracks *
kp_tracks_new_from_json (const char  *json,
                         gssize       length,
                         GError     **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(KpTracks) self = NULL;
  JsonObject *root;
  JsonArray *tracks;

  g_return_val_if_fail (json != NULL, NULL);

  if (!json_parser_load_from_data (parser, json, length, error))
    {
      g_prefix_error (error, _("The tracks file is not valid JSON: "));
      return NULL;
    }
  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      invalid (error, _("it is not an object"));
      return NULL;
    }
  root = json_node_get_object (json_parser_get_root (parser));
  if (json_object_get_int_member_with_default (root, "version", 0) != TRACKS_FORMAT_VERSION)
    {
      invalid (error, _("unknown version"));
      return NULL;
    }
  self = kp_tracks_new (json_object_get_string_member_with_default (root, "video", NULL),
                        json_object_get_int_member_with_default (root, "frames", 0),
                        json_object_get_int_member_with_default (root, "width", 0),
                        json_object_get_int_member_with_default (root, "height", 0));
  if (!json_object_has_member (root, "tracks") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (root, "tracks")))
    {
      invalid (error, _("no tracks list"));
      return NULL;
    }
  tracks = json_object_get_array_member (root, "tracks");
  for (guint i = 0; i < json_array_get_length (tracks); i++)
    {
      JsonNode *node = json_array_get_element (tracks, i);

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          invalid (error, _("a track is not an object"));
          return NULL;
        }
      if (!read_track (self, json_node_get_object (node), error))
        return NULL;
    }
  return g_steal_pointer (&self);
}

char *
kp_tracks_dup_sidecar_path (const char *video_path)
{
  g_return_val_if_fail (video_path != NULL, NULL);

  return g_strconcat (video_path, ".tracks.json", NULL);
}

gboolean
kp_tracks_save (KpTracks    *self,
                const char  *path,
                GError     **error)
{
  g_autofree char *json = NULL;

  g_return_val_if_fail (KP_IS_TRACKS (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  json = kp_tracks_to_json (self);
  /* g_file_set_contents writes a temporary file, syncs and renames it:
   * a crash leaves the old file or the new one, never half of one. */
  return g_file_set_contents_full (path, json, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}

KpTracks *
kp_tracks_load (const char  *path,
                GError     **error)
{
  g_autofree char *contents = NULL;
  gsize length;

  g_return_val_if_fail (path != NULL, NULL);

  if (!g_file_get_contents (path, &contents, &length, error))
    return NULL;
  return kp_tracks_new_from_json (contents, length, error);
}

/* Exports */

char *
kp_tracks_export_mot (KpTracks *self)
{
  GString *out = g_string_new (NULL);

  g_return_val_if_fail (KP_IS_TRACKS (self), NULL);

  for (gint64 f = 0; f < self->n_frames; f++)
    for (guint i = 0; i < self->tracks->len; i++)
      {
        KpTrack *track = g_ptr_array_index (self->tracks, i);
        g_autoptr(KpTrackShape) s = kp_track_get_shape (track, f);
        char buf[4][G_ASCII_DTOSTR_BUF_SIZE];
        double x, y, w, h;

        if (s == NULL || s->outside)
          continue;
        kp_track_shape_get_bounds (s, &x, &y, &w, &h);
        g_string_append_printf (out, "%" G_GINT64_FORMAT ",%u,%s,%s,%s,%s,1,-1,-1,-1\n",
                                f + 1, track->id,
                                g_ascii_formatd (buf[0], sizeof buf[0], "%.2f", x),
                                g_ascii_formatd (buf[1], sizeof buf[1], "%.2f", y),
                                g_ascii_formatd (buf[2], sizeof buf[2], "%.2f", w),
                                g_ascii_formatd (buf[3], sizeof buf[3], "%.2f", h));
      }
  return g_string_free (out, FALSE);
}

static char *
format_points (const KpTrackShape *s)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i + 1 < s->n_coords; i += 2)
    {
      char x[G_ASCII_DTOSTR_BUF_SIZE], y[G_ASCII_DTOSTR_BUF_SIZE];

      g_string_append_printf (out, "%s%s,%s", i > 0 ? ";" : "",
                              g_ascii_formatd (x, sizeof x, "%.2f", s->coords[i]),
                              g_ascii_formatd (y, sizeof y, "%.2f", s->coords[i + 1]));
    }
  return g_string_free (out, FALSE);
}

static void
write_double_attr (xmlTextWriter *w,
                   const char    *name,
                   double         value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  xmlTextWriterWriteAttribute (w, BAD_CAST name,
                               BAD_CAST g_ascii_formatd (buf, sizeof buf, "%.2f", value));
}

char *
kp_tracks_export_cvat_xml (KpTracks *self)
{
  g_autoptr(xmlBuffer) buffer = xmlBufferCreate ();
  g_autoptr(xmlTextWriter) w = NULL;
  g_auto(GStrv) labels = NULL;

  g_return_val_if_fail (KP_IS_TRACKS (self), NULL);

  labels = kp_tracks_dup_labels (self);
  w = xmlNewTextWriterMemory (buffer, 0);
  xmlTextWriterSetIndent (w, 1);
  xmlTextWriterSetIndentString (w, BAD_CAST "  ");
  xmlTextWriterStartDocument (w, NULL, "UTF-8", NULL);
  xmlTextWriterStartElement (w, BAD_CAST "annotations");
  xmlTextWriterWriteElement (w, BAD_CAST "version", BAD_CAST "1.1");
  xmlTextWriterStartElement (w, BAD_CAST "meta");
  xmlTextWriterStartElement (w, BAD_CAST "task");
  xmlTextWriterWriteElement (w, BAD_CAST "name", BAD_CAST self->video_name);
  xmlTextWriterWriteFormatElement (w, BAD_CAST "size", "%" G_GINT64_FORMAT, self->n_frames);
  xmlTextWriterWriteElement (w, BAD_CAST "mode", BAD_CAST "interpolation");
  xmlTextWriterWriteElement (w, BAD_CAST "start_frame", BAD_CAST "0");
  xmlTextWriterWriteFormatElement (w, BAD_CAST "stop_frame", "%" G_GINT64_FORMAT,
                                   MAX (0, self->n_frames - 1));
  xmlTextWriterStartElement (w, BAD_CAST "labels");
  for (guint i = 0; labels[i] != NULL; i++)
    {
      xmlTextWriterStartElement (w, BAD_CAST "label");
      xmlTextWriterWriteElement (w, BAD_CAST "name", BAD_CAST labels[i]);
      xmlTextWriterEndElement (w);
    }
  xmlTextWriterEndElement (w); /* labels */
  xmlTextWriterStartElement (w, BAD_CAST "original_size");
  xmlTextWriterWriteFormatElement (w, BAD_CAST "width", "%d", self->width);
  xmlTextWriterWriteFormatElement (w, BAD_CAST "height", "%d", self->height);
  xmlTextWriterEndElement (w); /* original_size */
  xmlTextWriterEndElement (w); /* task */
  xmlTextWriterEndElement (w); /* meta */

  for (guint i = 0; i < self->tracks->len; i++)
    {
      KpTrack *track = g_ptr_array_index (self->tracks, i);
      g_auto(GStrv) attrs = kp_track_dup_attribute_names (track);
      const KpTrackShape *first;
      gboolean was_outside = FALSE;

      if (track->keyframes->len == 0)
        continue;
      first = g_ptr_array_index (track->keyframes, 0);
      xmlTextWriterStartElement (w, BAD_CAST "track");
      xmlTextWriterWriteFormatAttribute (w, BAD_CAST "id", "%u", track->id - 1);
      xmlTextWriterWriteAttribute (w, BAD_CAST "label", BAD_CAST track->label);
      xmlTextWriterWriteAttribute (w, BAD_CAST "source", BAD_CAST "manual");
      for (gint64 f = first->frame; f < MAX (self->n_frames, first->frame + 1); f++)
        {
          g_autoptr(KpTrackShape) s = kp_track_get_shape (track, f);

          /* Once outside, CVAT needs nothing until the next keyframe. */
          if (s->outside && was_outside && !s->keyframe)
            continue;
          was_outside = s->outside;
          xmlTextWriterStartElement (w, BAD_CAST shape_names[track->shape_type]);
          xmlTextWriterWriteFormatAttribute (w, BAD_CAST "frame", "%" G_GINT64_FORMAT, f);
          xmlTextWriterWriteAttribute (w, BAD_CAST "keyframe", BAD_CAST (s->keyframe ? "1" : "0"));
          xmlTextWriterWriteAttribute (w, BAD_CAST "outside", BAD_CAST (s->outside ? "1" : "0"));
          xmlTextWriterWriteAttribute (w, BAD_CAST "occluded", BAD_CAST (s->occluded ? "1" : "0"));
          if (track->shape_type == KP_TRACK_SHAPE_BOX)
            {
              write_double_attr (w, "xtl", s->coords[0]);
              write_double_attr (w, "ytl", s->coords[1]);
              write_double_attr (w, "xbr", s->coords[2]);
              write_double_attr (w, "ybr", s->coords[3]);
            }
          else
            {
              g_autofree char *points = format_points (s);

              xmlTextWriterWriteAttribute (w, BAD_CAST "points", BAD_CAST points);
            }
          xmlTextWriterWriteAttribute (w, BAD_CAST "z_order", BAD_CAST "0");
          for (guint a = 0; attrs[a] != NULL; a++)
            {
              const char *value = kp_track_get_attribute (track, f, attrs[a]);

              if (value == NULL)
                continue;
              xmlTextWriterStartElement (w, BAD_CAST "attribute");
              xmlTextWriterWriteAttribute (w, BAD_CAST "name", BAD_CAST attrs[a]);
              xmlTextWriterWriteString (w, BAD_CAST value);
              xmlTextWriterEndElement (w);
            }
          xmlTextWriterEndElement (w);
        }
      xmlTextWriterEndElement (w); /* track */
    }
  xmlTextWriterEndElement (w); /* annotations */
  xmlTextWriterEndDocument (w);
  g_clear_pointer (&w, xmlFreeTextWriter);

  return g_strdup ((const char *)xmlBufferContent (buffer));
}

static void
add_attributes (JsonBuilder        *b,
                KpTrack            *track,
                const KpTrackShape *s)
{
  g_auto(GStrv) attrs = kp_track_dup_attribute_names (track);

  for (guint a = 0; attrs[a] != NULL; a++)
    {
      const char *value = kp_track_get_attribute (track, s->frame, attrs[a]);

      if (value == NULL)
        continue;
      json_builder_set_member_name (b, attrs[a]);
      json_builder_add_string_value (b, value);
    }
}

static char *
builder_to_string (JsonBuilder *b)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (b);

  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

char *
kp_tracks_export_coco (KpTracks *self)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_auto(GStrv) labels = NULL;
  gint64 ann_id = 1;

  g_return_val_if_fail (KP_IS_TRACKS (self), NULL);

  labels = kp_tracks_dup_labels (self);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "info");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "description");
  json_builder_add_string_value (b, self->video_name);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "categories");
  json_builder_begin_array (b);
  for (guint i = 0; labels[i] != NULL; i++)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_int_value (b, i + 1);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, labels[i]);
      json_builder_set_member_name (b, "supercategory");
      json_builder_add_string_value (b, "");
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "images");
  json_builder_begin_array (b);
  for (gint64 f = 0; f < self->n_frames; f++)
    {
      g_autofree char *name = g_strdup_printf ("frame_%06" G_GINT64_FORMAT ".PNG", f);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "id");
      json_builder_add_int_value (b, f + 1);
      json_builder_set_member_name (b, "file_name");
      json_builder_add_string_value (b, name);
      json_builder_set_member_name (b, "width");
      json_builder_add_int_value (b, self->width);
      json_builder_set_member_name (b, "height");
      json_builder_add_int_value (b, self->height);
      json_builder_set_member_name (b, "frame_id");
      json_builder_add_int_value (b, f);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_set_member_name (b, "annotations");
  json_builder_begin_array (b);
  for (gint64 f = 0; f < self->n_frames; f++)
    for (guint i = 0; i < self->tracks->len; i++)
      {
        KpTrack *track = g_ptr_array_index (self->tracks, i);
        g_autoptr(KpTrackShape) s = kp_track_get_shape (track, f);
        double x, y, w, h;

        if (s == NULL || s->outside)
          continue;
        kp_track_shape_get_bounds (s, &x, &y, &w, &h);
        json_builder_begin_object (b);
        json_builder_set_member_name (b, "id");
        json_builder_add_int_value (b, ann_id++);
        json_builder_set_member_name (b, "image_id");
        json_builder_add_int_value (b, f + 1);
        json_builder_set_member_name (b, "category_id");
        json_builder_add_int_value (b, label_index (labels, track->label) + 1);
        json_builder_set_member_name (b, "bbox");
        json_builder_begin_array (b);
        json_builder_add_double_value (b, x);
        json_builder_add_double_value (b, y);
        json_builder_add_double_value (b, w);
        json_builder_add_double_value (b, h);
        json_builder_end_array (b);
        json_builder_set_member_name (b, "area");
        json_builder_add_double_value (b, w * h);
        json_builder_set_member_name (b, "iscrowd");
        json_builder_add_int_value (b, 0);
        json_builder_set_member_name (b, "segmentation");
        json_builder_begin_array (b);
        if (track->shape_type == KP_TRACK_SHAPE_POLYGON)
          {
            json_builder_begin_array (b);
            for (guint c = 0; c < s->n_coords; c++)
              json_builder_add_double_value (b, s->coords[c]);
            json_builder_end_array (b);
          }
        json_builder_end_array (b);
        if (track->shape_type == KP_TRACK_SHAPE_POINTS)
          {
            json_builder_set_member_name (b, "keypoints");
            json_builder_begin_array (b);
            for (guint c = 0; c + 1 < s->n_coords; c += 2)
              {
                json_builder_add_double_value (b, s->coords[c]);
                json_builder_add_double_value (b, s->coords[c + 1]);
                json_builder_add_int_value (b, s->occluded ? 1 : 2);
              }
            json_builder_end_array (b);
            json_builder_set_member_name (b, "num_keypoints");
            json_builder_add_int_value (b, s->n_coords / 2);
          }
        json_builder_set_member_name (b, "attributes");
        json_builder_begin_object (b);
        add_attributes (b, track, s);
        json_builder_set_member_name (b, "track_id");
        json_builder_add_int_value (b, track->id);
        json_builder_set_member_name (b, "keyframe");
        json_builder_add_boolean_value (b, s->keyframe);
        json_builder_set_member_name (b, "occluded");
        json_builder_add_boolean_value (b, s->occluded);
        json_builder_end_object (b);
        json_builder_end_object (b);
      }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return builder_to_string (b);
}

char *
kp_tracks_export_ground_truth (KpTracks *self)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_auto(GStrv) labels = NULL;

  g_return_val_if_fail (KP_IS_TRACKS (self), NULL);

  labels = kp_tracks_dup_labels (self);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "tracking-annotations");
  json_builder_begin_array (b);
  for (gint64 f = 0; f < self->n_frames; f++)
    {
      g_autofree char *name = g_strdup_printf ("frame_%06" G_GINT64_FORMAT ".jpeg", f);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "frame-no");
      json_builder_add_int_value (b, f);
      json_builder_set_member_name (b, "frame");
      json_builder_add_string_value (b, name);
      json_builder_set_member_name (b, "frame-attributes");
      json_builder_begin_object (b);
      json_builder_end_object (b);
      json_builder_set_member_name (b, "annotations");
      json_builder_begin_array (b);
      for (guint i = 0; i < self->tracks->len; i++)
        {
          KpTrack *track = g_ptr_array_index (self->tracks, i);
          g_autoptr(KpTrackShape) s = kp_track_get_shape (track, f);
          g_autofree char *object_name = NULL;
          g_autofree char *object_id = NULL;
          g_autofree char *class_id = NULL;
          double x, y, w, h;

          if (s == NULL || s->outside)
            continue;
          kp_track_shape_get_bounds (s, &x, &y, &w, &h);
          object_name = g_strdup_printf ("%s:%u", track->label, track->id);
          object_id = g_strdup_printf ("%u", track->id);
          class_id = g_strdup_printf ("%d", label_index (labels, track->label));
          json_builder_begin_object (b);
          json_builder_set_member_name (b, "object-id");
          json_builder_add_string_value (b, object_id);
          json_builder_set_member_name (b, "object-name");
          json_builder_add_string_value (b, object_name);
          json_builder_set_member_name (b, "class-id");
          json_builder_add_string_value (b, class_id);
          json_builder_set_member_name (b, "label-category-attributes");
          json_builder_begin_object (b);
          add_attributes (b, track, s);
          json_builder_end_object (b);
          json_builder_set_member_name (b, "left");
          json_builder_add_int_value (b, (gint64)round (x));
          json_builder_set_member_name (b, "top");
          json_builder_add_int_value (b, (gint64)round (y));
          json_builder_set_member_name (b, "width");
          json_builder_add_int_value (b, (gint64)round (w));
          json_builder_set_member_name (b, "height");
          json_builder_add_int_value (b, (gint64)round (h));
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return builder_to_string (b);
}
