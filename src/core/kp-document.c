/* kp-document.c: the annotations of one image, edited through an undo stack
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-document.h"

#include <glib/gi18n-lib.h>

typedef enum
{
  COMMAND_ADD,
  COMMAND_REMOVE,
  COMMAND_MODIFY,               /* rect or label: before and after differ */
} CommandKind;

/* A command holds the whole annotation before and after, so undo and redo
 * are each one store write of a known state. */
typedef struct
{
  CommandKind  kind;
  KpAnnotation before;          /* REMOVE, MODIFY */
  KpAnnotation after;           /* ADD, MODIFY */
} Command;

struct _KpDocument
{
  GObject    parent_instance;

  KpStore   *store;
  gint64     media_id;
  GPtrArray *annotations;       /* KpAnnotation, sorted by id */
  GQueue     undo_stack;        /* Command*, head is the latest */
  GQueue     redo_stack;

  guint      can_undo : 1;
  guint      can_redo : 1;
};

G_DEFINE_FINAL_TYPE (KpDocument, kp_document, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_STORE,
  PROP_MEDIA_ID,
  PROP_CAN_UNDO,
  PROP_CAN_REDO,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
command_free (gpointer data)
{
  g_free (data);
}

static void
update_state (KpDocument *self)
{
  gboolean can_undo = !g_queue_is_empty (&self->undo_stack);
  gboolean can_redo = !g_queue_is_empty (&self->redo_stack);

  if (can_undo != self->can_undo)
    {
      self->can_undo = can_undo;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_UNDO]);
    }

  if (can_redo != self->can_redo)
    {
      self->can_redo = can_redo;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_REDO]);
    }
}

/* The index of annotation_id in self->annotations, or where it would go. */
static guint
find_index (KpDocument *self,
            gint64      annotation_id,
            gboolean   *found)
{
  guint lo = 0, hi = self->annotations->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      const KpAnnotation *a = g_ptr_array_index (self->annotations, mid);

      if (a->id < annotation_id)
        lo = mid + 1;
      else
        hi = mid;
    }

  *found = lo < self->annotations->len &&
           ((const KpAnnotation *)g_ptr_array_index (self->annotations, lo))->id == annotation_id;

  return lo;
}

static KpAnnotation *
lookup (KpDocument *self,
        gint64      annotation_id)
{
  gboolean found;
  guint index = find_index (self, annotation_id, &found);

  return found ? g_ptr_array_index (self->annotations, index) : NULL;
}

static void
set_not_found (GError **error)
{
  g_set_error_literal (error, KP_STORE_ERROR, KP_STORE_ERROR_NOT_FOUND,
                       _("The annotation no longer exists."));
}

/* The three primitive changes: store first, then memory. */

static gboolean
apply_add (KpDocument          *self,
           const KpAnnotation  *annotation,
           gint64              *out_id,
           GError             **error)
{
  KpAnnotation *copy;
  gboolean found;
  guint index;
  gint64 id;

  id = kp_store_add_annotation (self->store, annotation, error);
  if (id == 0)
    return FALSE;

  copy = kp_annotation_copy (annotation);
  copy->id = id;
  copy->rect = kp_rect_normalize (copy->rect);
  index = find_index (self, id, &found);
  g_assert (!found);
  g_ptr_array_insert (self->annotations, index, copy);

  if (out_id != NULL)
    *out_id = id;

  g_signal_emit (self, signals[CHANGED], 0, id);

  return TRUE;
}

static gboolean
apply_remove (KpDocument  *self,
              gint64       annotation_id,
              GError     **error)
{
  gboolean found;
  guint index;

  index = find_index (self, annotation_id, &found);
  if (!found)
    {
      set_not_found (error);
      return FALSE;
    }

  if (!kp_store_delete_annotation (self->store, annotation_id, error))
    return FALSE;

  g_ptr_array_remove_index (self->annotations, index);
  g_signal_emit (self, signals[CHANGED], 0, annotation_id);

  return TRUE;
}

static gboolean
apply_modify (KpDocument          *self,
              const KpAnnotation  *annotation,
              GError             **error)
{
  KpAnnotation *current = lookup (self, annotation->id);

  if (current == NULL)
    {
      set_not_found (error);
      return FALSE;
    }

  if (!kp_store_update_annotation (self->store, annotation, error))
    return FALSE;

  current->label_id = annotation->label_id;
  current->shape = annotation->shape;
  current->rect = kp_rect_normalize (annotation->rect);
  g_signal_emit (self, signals[CHANGED], 0, annotation->id);

  return TRUE;
}

static void
push_command (KpDocument *self,
              Command    *command)
{
  g_queue_push_head (&self->undo_stack, command);
  g_queue_clear_full (&self->redo_stack, command_free);
  update_state (self);
}

/* GObject */

static void
kp_document_finalize (GObject *object)
{
  KpDocument *self = (KpDocument *)object;

  g_queue_clear_full (&self->undo_stack, command_free);
  g_queue_clear_full (&self->redo_stack, command_free);
  g_clear_pointer (&self->annotations, g_ptr_array_unref);

  G_OBJECT_CLASS (kp_document_parent_class)->finalize (object);
}

static void
kp_document_dispose (GObject *object)
{
  KpDocument *self = (KpDocument *)object;

  g_clear_object (&self->store);

  G_OBJECT_CLASS (kp_document_parent_class)->dispose (object);
}

static void
kp_document_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  KpDocument *self = KP_DOCUMENT (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;

    case PROP_MEDIA_ID:
      g_value_set_int64 (value, self->media_id);
      break;

    case PROP_CAN_UNDO:
      g_value_set_boolean (value, kp_document_get_can_undo (self));
      break;

    case PROP_CAN_REDO:
      g_value_set_boolean (value, kp_document_get_can_redo (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_document_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  KpDocument *self = KP_DOCUMENT (object);

  switch (prop_id)
    {
    case PROP_STORE:
      self->store = g_value_dup_object (value);
      break;

    case PROP_MEDIA_ID:
      self->media_id = g_value_get_int64 (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_document_class_init (KpDocumentClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kp_document_dispose;
  object_class->finalize = kp_document_finalize;
  object_class->get_property = kp_document_get_property;
  object_class->set_property = kp_document_set_property;

  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL,
                         KP_TYPE_STORE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_MEDIA_ID] =
    g_param_spec_int64 ("media-id", NULL, NULL,
                        0, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_CAN_UNDO] =
    g_param_spec_boolean ("can-undo", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_CAN_REDO] =
    g_param_spec_boolean ("can-redo", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * KpDocument::changed:
   * @self: the document
   * @annotation_id: the annotation added, removed or modified, or 0 for many
   */
  signals[CHANGED] =
    g_signal_new ("changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0,
                  NULL, NULL,
                  NULL,
                  G_TYPE_NONE, 1, G_TYPE_INT64);
}

static void
kp_document_init (KpDocument *self)
{
  self->annotations = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_annotation_free);
  g_queue_init (&self->undo_stack);
  g_queue_init (&self->redo_stack);
}

/* Public API */

KpDocument *
kp_document_new (KpStore  *store,
                 gint64    media_id,
                 GError  **error)
{
  g_autoptr(KpDocument) self = NULL;
  g_autoptr(KpMedia) media = NULL;
  g_autoptr(GPtrArray) annotations = NULL;

  g_return_val_if_fail (KP_IS_STORE (store), NULL);
  g_return_val_if_fail (media_id > 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  media = kp_store_get_media (store, media_id, error);
  if (media == NULL)
    return NULL;

  annotations = kp_store_list_annotations (store, media_id, error);
  if (annotations == NULL)
    return NULL;

  self = g_object_new (KP_TYPE_DOCUMENT,
                       "store", store,
                       "media-id", media_id,
                       NULL);
  g_ptr_array_extend_and_steal (self->annotations, g_steal_pointer (&annotations));

  return g_steal_pointer (&self);
}

KpStore *
kp_document_get_store (KpDocument *self)
{
  g_return_val_if_fail (KP_IS_DOCUMENT (self), NULL);

  return self->store;
}

gint64
kp_document_get_media_id (KpDocument *self)
{
  g_return_val_if_fail (KP_IS_DOCUMENT (self), 0);

  return self->media_id;
}

GPtrArray *
kp_document_get_annotations (KpDocument *self)
{
  g_return_val_if_fail (KP_IS_DOCUMENT (self), NULL);

  return self->annotations;
}

const KpAnnotation *
kp_document_lookup (KpDocument *self,
                    gint64      annotation_id)
{
  g_return_val_if_fail (KP_IS_DOCUMENT (self), NULL);

  return lookup (self, annotation_id);
}

gint64
kp_document_add (KpDocument    *self,
                 gint64         label_id,
                 const KpRect  *rect,
                 GError       **error)
{
  KpAnnotation annotation = { 0 };
  Command *command;
  gint64 id = 0;

  g_return_val_if_fail (KP_IS_DOCUMENT (self), 0);
  g_return_val_if_fail (rect != NULL, 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  annotation.media_id = self->media_id;
  annotation.label_id = label_id;
  annotation.shape = KP_SHAPE_BOX;
  annotation.rect = kp_rect_normalize (*rect);

  if (!apply_add (self, &annotation, &id, error))
    return 0;

  command = g_new0 (Command, 1);
  command->kind = COMMAND_ADD;
  command->after = annotation;
  command->after.id = id;
  push_command (self, command);

  return id;
}

static gboolean
modify (KpDocument          *self,
        const KpAnnotation  *before,
        const KpAnnotation  *after,
        GError             **error)
{
  Command *command;

  if (before->label_id == after->label_id &&
      before->rect.x == after->rect.x && before->rect.y == after->rect.y &&
      before->rect.width == after->rect.width && before->rect.height == after->rect.height)
    return TRUE;

  if (!apply_modify (self, after, error))
    return FALSE;

  command = g_new0 (Command, 1);
  command->kind = COMMAND_MODIFY;
  command->before = *before;
  command->after = *after;
  push_command (self, command);

  return TRUE;
}

gboolean
kp_document_set_rect (KpDocument    *self,
                      gint64         annotation_id,
                      const KpRect  *rect,
                      GError       **error)
{
  const KpAnnotation *current;
  KpAnnotation before, after;

  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (rect != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  current = lookup (self, annotation_id);
  if (current == NULL)
    {
      set_not_found (error);
      return FALSE;
    }

  before = *current;
  after = *current;
  after.rect = kp_rect_normalize (*rect);

  return modify (self, &before, &after, error);
}

gboolean
kp_document_set_label (KpDocument  *self,
                       gint64       annotation_id,
                       gint64       label_id,
                       GError     **error)
{
  const KpAnnotation *current;
  KpAnnotation before, after;

  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  current = lookup (self, annotation_id);
  if (current == NULL)
    {
      set_not_found (error);
      return FALSE;
    }

  before = *current;
  after = *current;
  after.label_id = label_id;

  return modify (self, &before, &after, error);
}

gboolean
kp_document_remove (KpDocument  *self,
                    gint64       annotation_id,
                    GError     **error)
{
  const KpAnnotation *current;
  Command *command;
  KpAnnotation before;

  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  current = lookup (self, annotation_id);
  if (current == NULL)
    {
      set_not_found (error);
      return FALSE;
    }

  before = *current;
  if (!apply_remove (self, annotation_id, error))
    return FALSE;

  command = g_new0 (Command, 1);
  command->kind = COMMAND_REMOVE;
  command->before = before;
  push_command (self, command);

  return TRUE;
}

gboolean
kp_document_get_can_undo (KpDocument *self)
{
  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);

  return !g_queue_is_empty (&self->undo_stack);
}

gboolean
kp_document_get_can_redo (KpDocument *self)
{
  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);

  return !g_queue_is_empty (&self->redo_stack);
}

/* Applies command forwards (redo) or backwards (undo). */
static gboolean
run_command (KpDocument     *self,
             const Command  *command,
             gboolean        forwards,
             GError        **error)
{
  switch (command->kind)
    {
    case COMMAND_ADD:
      if (forwards)
        return apply_add (self, &command->after, NULL, error);
      return apply_remove (self, command->after.id, error);

    case COMMAND_REMOVE:
      if (forwards)
        return apply_remove (self, command->before.id, error);
      return apply_add (self, &command->before, NULL, error);

    case COMMAND_MODIFY:
      return apply_modify (self, forwards ? &command->after : &command->before, error);

    default:
      g_assert_not_reached ();
    }
}

/* Runs the command on top of from (forward for redo, backward for undo) and
 * moves it onto to; nothing moves when the store refuses. */
static gboolean
replay (KpDocument  *self,
        GQueue      *from,
        GQueue      *to,
        gboolean     forward,
        GError     **error)
{
  Command *command = g_queue_peek_head (from);

  if (command == NULL)
    return TRUE;

  if (!run_command (self, command, forward, error))
    return FALSE;

  g_queue_push_head (to, g_queue_pop_head (from));
  update_state (self);

  return TRUE;
}

gboolean
kp_document_undo (KpDocument  *self,
                  GError     **error)
{
  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return replay (self, &self->undo_stack, &self->redo_stack, FALSE, error);
}

gboolean
kp_document_redo (KpDocument  *self,
                  GError     **error)
{
  g_return_val_if_fail (KP_IS_DOCUMENT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return replay (self, &self->redo_stack, &self->undo_stack, TRUE, error);
}

static gboolean
command_refers_to (const Command *command,
                   gint64         label_id,
                   GHashTable    *gone)
{
  const KpAnnotation *sides[2] = { NULL, NULL };

  switch (command->kind)
    {
    case COMMAND_ADD:
      sides[0] = &command->after;
      break;

    case COMMAND_REMOVE:
      sides[0] = &command->before;
      break;

    case COMMAND_MODIFY:
      sides[0] = &command->before;
      sides[1] = &command->after;
      break;

    default:
      g_assert_not_reached ();
    }

  for (guint i = 0; i < G_N_ELEMENTS (sides); i++)
    if (sides[i] != NULL &&
        (sides[i]->label_id == label_id || g_hash_table_contains (gone, &sides[i]->id)))
      return TRUE;

  return FALSE;
}

static void
forget_in_stack (GQueue     *stack,
                 gint64      label_id,
                 GHashTable *gone)
{
  GList *l = stack->head;

  while (l != NULL)
    {
      GList *next = l->next;

      if (command_refers_to (l->data, label_id, gone))
        {
          command_free (l->data);
          g_queue_delete_link (stack, l);
        }

      l = next;
    }
}

void
kp_document_forget_label (KpDocument *self,
                          gint64      label_id)
{
  g_autoptr(GHashTable) gone = NULL;
  gboolean changed = FALSE;

  g_return_if_fail (KP_IS_DOCUMENT (self));

  /* The annotations the store deleted with the label. */
  gone = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  for (guint i = self->annotations->len; i > 0; i--)
    {
      KpAnnotation *a = g_ptr_array_index (self->annotations, i - 1);

      if (a->label_id == label_id)
        {
          g_hash_table_add (gone, g_memdup2 (&a->id, sizeof a->id));
          g_ptr_array_remove_index (self->annotations, i - 1);
          changed = TRUE;
        }
    }

  forget_in_stack (&self->undo_stack, label_id, gone);
  forget_in_stack (&self->redo_stack, label_id, gone);
  update_state (self);

  if (changed)
    g_signal_emit (self, signals[CHANGED], 0, (gint64)0);
}
