/* kp-av-history.h: undo history of the audio and video pages, as snapshots
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Each step is the whole annotation file's text after an edit (regions or
 * tracks JSON): undo puts the previous text back. Whole snapshots keep undo
 * exact whatever the edit was (a drag, a label, a deletion, a propagation)
 * and make the history trivial to persist beside the annotations, so it
 * survives a restart of the page. Steps are capped, oldest dropped first.
 *
 * The history is embedded in its page; the page calls
 * kp_av_history_close() before it goes (it cancels the pending save).
 */

#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define KP_AV_HISTORY_MAX_STEPS 200

typedef struct
{
  GPtrArray *states;  /* char *, oldest first */
  guint      index;   /* the state shown */
  char      *path;    /* where it is saved, or NULL */
  guint      save_source;
} KpAvHistory;

static inline void
kp_av_history_reset (KpAvHistory *h,
                     const char  *current)
{
  g_clear_pointer (&h->states, g_ptr_array_unref);
  h->states = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (h->states, g_strdup (current != NULL ? current : ""));
  h->index = 0;
}

static inline void
kp_av_history_clear (KpAvHistory *h)
{
  g_clear_pointer (&h->states, g_ptr_array_unref);
  h->index = 0;
}

static inline const char *
kp_av_history_current (KpAvHistory *h)
{
  return h->states != NULL ? g_ptr_array_index (h->states, h->index) : NULL;
}

/* Records state as a new step unless it is the current one; TRUE if it did. */
static inline gboolean
kp_av_history_push (KpAvHistory *h,
                    const char  *state)
{
  if (h->states == NULL)
    {
      kp_av_history_reset (h, state);
      return FALSE;
    }
  if (g_strcmp0 (kp_av_history_current (h), state) == 0)
    return FALSE;
  if (h->index + 1 < h->states->len)
    g_ptr_array_remove_range (h->states, h->index + 1, h->states->len - h->index - 1);
  g_ptr_array_add (h->states, g_strdup (state));
  if (h->states->len > KP_AV_HISTORY_MAX_STEPS)
    g_ptr_array_remove_index (h->states, 0);
  h->index = h->states->len - 1;
  return TRUE;
}

/* Replaces the current step without making a new one. */
static inline void
kp_av_history_replace (KpAvHistory *h,
                       const char  *state)
{
  if (h->states == NULL)
    {
      kp_av_history_reset (h, state);
      return;
    }
  g_free (h->states->pdata[h->index]);
  h->states->pdata[h->index] = g_strdup (state);
}

static inline gboolean
kp_av_history_can_undo (KpAvHistory *h)
{
  return h->states != NULL && h->index > 0;
}

static inline gboolean
kp_av_history_can_redo (KpAvHistory *h)
{
  return h->states != NULL && h->index + 1 < h->states->len;
}

/* Reads the history saved at path; it is used only if its current step is
 * current (the annotations were not changed behind its back). */
static inline gboolean
kp_av_history_load (KpAvHistory *h,
                    const char  *path,
                    const char  *current)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *root;
  JsonArray *states;
  gint64 index;

  if (!json_parser_load_from_file (parser, path, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return FALSE;
  root = json_node_get_object (json_parser_get_root (parser));
  if (!json_object_has_member (root, "states") || !json_object_has_member (root, "index")
      || !JSON_NODE_HOLDS_ARRAY (json_object_get_member (root, "states")))
    return FALSE;
  states = json_object_get_array_member (root, "states");
  index = json_object_get_int_member (root, "index");
  if (index < 0 || index >= json_array_get_length (states))
    return FALSE;
  for (guint i = 0; i < json_array_get_length (states); i++)
    if (json_node_get_value_type (json_array_get_element (states, i)) != G_TYPE_STRING)
      return FALSE;
  if (g_strcmp0 (json_array_get_string_element (states, index), current) != 0)
    return FALSE;

  kp_av_history_clear (h);
  h->states = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < json_array_get_length (states); i++)
    g_ptr_array_add (h->states, g_strdup (json_array_get_string_element (states, i)));
  h->index = index;
  return TRUE;
}

static inline gboolean
kp_av_history_save (KpAvHistory  *h,
                    const char   *path,
                    GError      **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *data = NULL;

  if (h->states == NULL)
    return TRUE;
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "index");
  json_builder_add_int_value (builder, h->index);
  json_builder_set_member_name (builder, "states");
  json_builder_begin_array (builder);
  for (guint i = 0; i < h->states->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (h->states, i));
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  data = json_generator_to_data (generator, NULL);
  return g_file_set_contents (path, data, -1, error);
}

/* Moves to the step before (delta -1) or after (+1); the state to restore,
 * or NULL when there is none that way. */
static inline const char *
kp_av_history_step (KpAvHistory *h,
                    int          delta)
{
  if (delta < 0 ? !kp_av_history_can_undo (h) : !kp_av_history_can_redo (h))
    return NULL;
  h->index += delta;
  return kp_av_history_current (h);
}

static inline void
kp_av_history_set_path (KpAvHistory *h,
                        const char  *path)
{
  g_free (h->path);
  h->path = g_strdup (path);
}

/* Writes the history to its path now, dropping a pending save. */
static inline void
kp_av_history_flush (KpAvHistory *h)
{
  g_autoptr(GError) error = NULL;

  g_clear_handle_id (&h->save_source, g_source_remove);
  if (h->path != NULL && !kp_av_history_save (h, h->path, &error))
    g_debug ("Could not save the undo history: %s", error->message);
}

static inline gboolean
kp_av_history_save_cb (gpointer data)
{
  KpAvHistory *h = data;

  h->save_source = 0;
  kp_av_history_flush (h);
  return G_SOURCE_REMOVE;
}

/* The history is written a while after the last edit (and on unload):
 * often enough to survive a crash, without a write per keystroke. */
static inline void
kp_av_history_save_later (KpAvHistory *h)
{
  g_clear_handle_id (&h->save_source, g_source_remove);
  if (h->path != NULL)
    h->save_source = g_timeout_add_seconds (2, kp_av_history_save_cb, h);
}

/* Forgets the history and its path without saving. */
static inline void
kp_av_history_close (KpAvHistory *h)
{
  g_clear_handle_id (&h->save_source, g_source_remove);
  g_clear_pointer (&h->path, g_free);
  kp_av_history_clear (h);
}

G_END_DECLS
