/* kp-review-window.c: the requester's review desk
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Sign in (KpReviewConnect), then three panes: the batches with their
 * progress, a batch's HITs by disagreement, and one HIT with every
 * worker's boxes overlaid, the consolidated answer on top, and the
 * decisions on each assignment.
 *
 * Keys that type (A, R, N, P, 1–9) are bubble-phase shortcuts of the
 * window: the focused feedback entry gets them first, so they type there
 * and act everywhere else (as kp_keymap_attach() does for the canvas).
 */

#include "config.h"

#include "kp-review-window.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#include <glib/gi18n.h>

#include "kp-application.h"
#include "kp-layout-media.h"
#include "kp-review-private.h"

typedef struct
{
  GtkWidget *row;
  GtkWidget *check;
  GtkWidget *status;
} AssignmentRow;

struct _KpReviewWindow
{
  AdwApplicationWindow parent_instance;

  GSettings        *settings;
  GCancellable     *cancellable;
  KpReviewModel    *model;
  KpLayoutMedia    *media;
  GHashTable       *textures;       /* URI -> GdkTexture of the HITs near the current one */
  guint             media_uris;     /* URIs asked of media */
  GdkFrameClock    *prefetch_clock; /* prefetching waits for the HIT's first frame */
  gulong            prefetch_handler;
  GHashTable       *worker_colors;  /* worker id -> palette index + 1 */
  GHashTable       *hidden;         /* worker ids toggled off */
  /* The next HIT composed ahead of time: its layers (in an overlay that
   * is never shown), then its image and shapes in one texture. */
  KpReviewOverlay  *next_overlay;
  KpReviewHit      *next_hit;       /* compared, never read */
  KpReviewComposite *next_composite;
  GCancellable     *compose_cancellable;
  guint             busy;
  char             *message;
  AdwMessageDialog *dialog;

  KpReviewBatch    *batch;
  guint             hit_index;
  KpReviewHit      *hit;
  GArray           *rows;           /* of AssignmentRow, one per assignment of hit */
  char             *image_uri;      /* the one the overlay waits for */
  char             *restore_batch;  /* shown again after a reload */
  char             *restore_hit;

  GtkWidget        *title;
  GtkWidget        *toasts;
  GtkWidget        *stack;
  GtkWidget        *connect;
  GtkWidget        *batch_list;
  GtkWidget        *hit_list;
  GtkWidget        *hit_title;
  GtkWidget        *overlay;
  GtkWidget        *assignment_list;
  GtkWidget        *answers_label;
  GtkWidget        *feedback_entry;
  GtkWidget        *feedback_menu;
  GtkWidget        *bonus_amount;
  GtkWidget        *bonus_reason;
  GtkWidget        *threshold;
  GtkWidget        *bulk_progress;
};

G_DEFINE_FINAL_TYPE (KpReviewWindow, kp_review_window, ADW_TYPE_APPLICATION_WINDOW)

static void show_hit (KpReviewWindow *self);
static void compose_next (KpReviewWindow *self,
                          gboolean        again);
static void update_actions (KpReviewWindow *self);
static void restore_selection (KpReviewWindow *self);

/* After dispose, results still arriving find no widgets to show them. */
static gboolean
gone (KpReviewWindow *self)
{
  return g_cancellable_is_cancelled (self->cancellable);
}

/* ------------------------------------------------------------------ */
/* Messages                                                           */
/* ------------------------------------------------------------------ */

static void
set_message (KpReviewWindow *self,
             const char     *text)
{
  g_free (self->message);
  self->message = g_strdup (text);
}

static void
toast (KpReviewWindow *self,
       const char     *text)
{
  AdwToast *t = adw_toast_new (text);

  set_message (self, text);
  adw_toast_set_timeout (t, 4);
  adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (self->toasts), t);
}

static void
toast_error (KpReviewWindow *self,
             const GError   *error)
{
  g_autofree char *text = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (g_error_matches (error, KP_MTURK_ERROR, KP_MTURK_ERROR_NETWORK))
    text = g_strdup_printf (_("The server cannot be reached: %s"), error->message);
  else
    text = g_strdup (error->message);
  toast (self, text);
}

static void
dialog_closed_cb (KpReviewWindow *self,
                  GtkWidget      *dialog)
{
  if ((GtkWidget *)self->dialog == dialog)
    self->dialog = NULL;
}

static AdwMessageDialog *
new_dialog (KpReviewWindow *self,
            const char     *heading,
            const char     *body)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), heading, body);

  self->dialog = ADW_MESSAGE_DIALOG (dialog);
  set_message (self, body != NULL ? body : heading);
  g_signal_connect_object (dialog, "destroy", G_CALLBACK (dialog_closed_cb), self, G_CONNECT_SWAPPED);
  return ADW_MESSAGE_DIALOG (dialog);
}

/* A question with Cancel and one action (response id action), closed as
 * Cancel; default_response is the one Return gives. */
static AdwMessageDialog *
new_confirm_dialog (KpReviewWindow     *self,
                    const char         *heading,
                    const char         *body,
                    const char         *action,
                    const char         *label,
                    AdwResponseAppearance appearance,
                    const char         *default_response)
{
  AdwMessageDialog *dialog = new_dialog (self, heading, body);

  adw_message_dialog_add_responses (dialog, "cancel", _("_Cancel"), action, label, NULL);
  adw_message_dialog_set_response_appearance (dialog, action, appearance);
  adw_message_dialog_set_default_response (dialog, default_response);
  adw_message_dialog_set_close_response (dialog, "cancel");
  return dialog;
}

/* ------------------------------------------------------------------ */
/* Answers                                                            */
/* ------------------------------------------------------------------ */

static double
number_member (JsonObject *o,
               const char *name)
{
  JsonNode *node = json_object_get_member (o, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return 0;
  return json_node_get_double (node);
}

/* Every box of every crowd-bounding-box element of answer; the image
 * size they were drawn on when the answer says it. */
static GArray *
answer_boxes (JsonObject *answer,
              int        *width,
              int        *height)
{
  GArray *boxes = g_array_new (FALSE, FALSE, sizeof (graphene_rect_t));
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;

  if (answer == NULL)
    return boxes;

  json_object_iter_init (&iter, answer);
  while (json_object_iter_next (&iter, &name, &value))
    {
      JsonObject *element;
      JsonArray *list;

      if (!JSON_NODE_HOLDS_OBJECT (value))
        continue;
      element = json_node_get_object (value);
      if (!json_object_has_member (element, "boundingBoxes") ||
          !JSON_NODE_HOLDS_ARRAY (json_object_get_member (element, "boundingBoxes")))
        continue;
      list = json_object_get_array_member (element, "boundingBoxes");
      for (guint i = 0; i < json_array_get_length (list); i++)
        {
          JsonNode *node = json_array_get_element (list, i);
          JsonObject *box;
          graphene_rect_t rect;

          if (!JSON_NODE_HOLDS_OBJECT (node))
            continue;
          box = json_node_get_object (node);
          graphene_rect_init (&rect, number_member (box, "left"), number_member (box, "top"),
                              number_member (box, "width"), number_member (box, "height"));
          g_array_append_val (boxes, rect);
        }
      if (width != NULL && json_object_has_member (element, "inputImageProperties") &&
          JSON_NODE_HOLDS_OBJECT (json_object_get_member (element, "inputImageProperties")))
        {
          JsonObject *props = json_object_get_object_member (element, "inputImageProperties");

          *width = number_member (props, "width");
          *height = number_member (props, "height");
        }
    }
  return boxes;
}

static GArray *
vertices_of (JsonObject *shape)
{
  JsonNode *node = json_object_get_member (shape, "vertices");
  GArray *points = g_array_new (FALSE, FALSE, sizeof (graphene_point_t));

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return points;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (node)); i++)
    {
      JsonNode *vertex = json_array_get_element (json_node_get_array (node), i);
      graphene_point_t p;

      if (!JSON_NODE_HOLDS_OBJECT (vertex))
        continue;
      graphene_point_init (&p, number_member (json_node_get_object (vertex), "x"),
                           number_member (json_node_get_object (vertex), "y"));
      g_array_append_val (points, p);
    }
  return points;
}

/* The polygons, lines, polylines and keypoints of answer's elements, onto
 * layer of the overlay. */
static void
add_answer_paths (KpReviewOverlay *overlay,
                  guint            layer,
                  JsonObject      *answer)
{
  const struct { const char *member; gboolean closed; } kinds[] = {
    { "polygons", TRUE }, { "lines", FALSE }, { "polylines", FALSE },
  };
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;

  if (answer == NULL)
    return;
  json_object_iter_init (&iter, answer);
  while (json_object_iter_next (&iter, &name, &value))
    {
      JsonObject *element;
      JsonNode *list;

      if (!JSON_NODE_HOLDS_OBJECT (value))
        continue;
      element = json_node_get_object (value);
      for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
        {
          list = json_object_get_member (element, kinds[k].member);
          if (list == NULL || !JSON_NODE_HOLDS_ARRAY (list))
            continue;
          for (guint i = 0; i < json_array_get_length (json_node_get_array (list)); i++)
            {
              JsonNode *shape = json_array_get_element (json_node_get_array (list), i);
              g_autoptr(GArray) points = NULL;

              if (!JSON_NODE_HOLDS_OBJECT (shape))
                continue;
              points = vertices_of (json_node_get_object (shape));
              kp_review_overlay_add_path (overlay, layer, (graphene_point_t *)(gpointer)points->data,
                                          points->len, kinds[k].closed);
            }
        }
      list = json_object_get_member (element, "keypoints");
      if (list != NULL && JSON_NODE_HOLDS_ARRAY (list))
        for (guint i = 0; i < json_array_get_length (json_node_get_array (list)); i++)
          {
            JsonNode *point = json_array_get_element (json_node_get_array (list), i);
            graphene_point_t p;

            if (!JSON_NODE_HOLDS_OBJECT (point))
              continue;
            graphene_point_init (&p, number_member (json_node_get_object (point), "x"),
                                 number_member (json_node_get_object (point), "y"));
            kp_review_overlay_add_point (overlay, layer, &p);
          }
    }
}

static const char *
node_string (JsonNode *node)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* "Cat" for {"label": "Cat"}, "Cat, Dog" for {"labels": [...]}, the text
 * of a string; NULL for shapes and anything else. */
static char *
answer_value_text (JsonNode *value)
{
  if (node_string (value) != NULL)
    return g_strdup (node_string (value));
  if (JSON_NODE_HOLDS_OBJECT (value))
    {
      JsonObject *o = json_node_get_object (value);
      JsonNode *labels = json_object_get_member (o, "labels");

      if (json_object_get_size (o) == 1 && node_string (json_object_get_member (o, "label")) != NULL)
        return g_strdup (node_string (json_object_get_member (o, "label")));
      if (labels != NULL && JSON_NODE_HOLDS_ARRAY (labels))
        {
          JsonArray *array = json_node_get_array (labels);
          g_autoptr(GString) text = g_string_new (NULL);

          for (guint i = 0; i < json_array_get_length (array); i++)
            {
              const char *label = node_string (json_array_get_element (array, i));

              if (label == NULL)
                continue;
              if (text->len > 0)
                g_string_append (text, ", ");
              g_string_append (text, label);
            }
          return g_string_free (g_steal_pointer (&text), FALSE);
        }
    }
  return NULL;
}

static char *
describe_answers (KpReviewHit *hit)
{
  g_autoptr(GString) text = g_string_new (NULL);
  JsonObject *elements = NULL;
  JsonObject *consensus = NULL;
  g_autoptr(GList) names = NULL;

  if (hit->result != NULL && json_object_has_member (hit->result, "Elements") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (hit->result, "Elements")))
    elements = json_object_get_object_member (hit->result, "Elements");
  if (hit->result != NULL && json_object_has_member (hit->result, "Answer") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (hit->result, "Answer")))
    consensus = json_object_get_object_member (hit->result, "Answer");

  /* The elements as the first assignment names them. */
  for (guint i = 0; i < hit->assignments->len && names == NULL; i++)
    {
      KpReviewAssignment *a = g_ptr_array_index (hit->assignments, i);

      names = json_object_get_members (a->answer);
    }

  for (GList *l = names; l != NULL; l = l->next)
    {
      const char *name = l->data;
      gboolean any = FALSE;
      g_autoptr(GString) lines = g_string_new (NULL);

      for (guint i = 0; i < hit->assignments->len; i++)
        {
          KpReviewAssignment *a = g_ptr_array_index (hit->assignments, i);
          JsonNode *value = json_object_get_member (a->answer, name);
          g_autofree char *shown = value != NULL ? answer_value_text (value) : NULL;

          if (shown == NULL)
            continue;
          any = TRUE;
          /* TRANSLATORS: a worker's id, then their answer */
          g_string_append_printf (lines, _("  %s: %s"), a->worker_id, shown);
          g_string_append_c (lines, '\n');
        }
      if (!any)
        continue;

      g_string_append_printf (text, "%s\n", name);
      if (consensus != NULL && json_object_has_member (consensus, name))
        {
          g_autofree char *shown = answer_value_text (json_object_get_member (consensus, name));
          double confidence = 0;

          if (elements != NULL && json_object_has_member (elements, name) &&
              JSON_NODE_HOLDS_OBJECT (json_object_get_member (elements, name)))
            confidence = number_member (json_object_get_object_member (elements, name), "Confidence");
          if (shown != NULL)
            {
              /* TRANSLATORS: the consolidated answer, then its confidence in percent */
              g_string_append_printf (text, _("  Consensus: %s (confidence %.0f %%)"), shown,
                                      confidence * 100);
              g_string_append_c (text, '\n');
            }
        }
      g_string_append (text, lines->str);
    }

  if (text->len > 0)
    g_string_truncate (text, text->len - 1);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* ------------------------------------------------------------------ */
/* Batches and HITs                                                   */
/* ------------------------------------------------------------------ */

static char *
progress_text (KpReviewBatch *batch)
{
  KpReviewProgress p;

  kp_review_batch_get_progress (batch, &p);
  /* TRANSLATORS: assignment counts of a batch */
  return g_strdup_printf (_("%u submitted · %u approved · %u rejected · %u pending of %u"),
                          p.submitted, p.approved, p.rejected, p.pending, p.max);
}

static void
update_batch_rows (KpReviewWindow *self)
{
  GPtrArray *batches = self->model != NULL ? kp_review_model_get_batches (self->model) : NULL;

  for (guint i = 0; batches != NULL && i < batches->len; i++)
    {
      GtkListBoxRow *row = gtk_list_box_get_row_at_index (GTK_LIST_BOX (self->batch_list), i);
      g_autofree char *text = progress_text (g_ptr_array_index (batches, i));

      if (row != NULL)
        adw_action_row_set_subtitle (ADW_ACTION_ROW (row), text);
    }
}

static char *
agreement_text (double agreement)
{
  if (agreement < 0)
    return g_strdup (_("Nothing submitted"));
  /* TRANSLATORS: how much workers disagree on a HIT, in percent */
  return g_strdup_printf (_("Disagreement %.0f %%"), (1 - agreement) * 100);
}

static void
fill_hits (KpReviewWindow *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (self->hit_list)) != NULL)
    gtk_list_box_remove (GTK_LIST_BOX (self->hit_list), child);

  for (guint i = 0; self->batch != NULL && i < self->batch->hits->len; i++)
    {
      KpReviewHit *hit = g_ptr_array_index (self->batch->hits, i);
      GtkWidget *row = adw_action_row_new ();
      g_autofree char *subtitle = agreement_text (hit->agreement);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), hit->hit_id);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      gtk_list_box_append (GTK_LIST_BOX (self->hit_list), row);
    }
}

/* Keeps the row in view without taking the focus from where one types. */
static void
scroll_to_row (GtkWidget     *list,
               GtkListBoxRow *row)
{
  GtkWidget *scrolled = gtk_widget_get_ancestor (list, GTK_TYPE_SCROLLED_WINDOW);
  GtkAdjustment *adjustment;
  graphene_rect_t bounds;
  double value, page;

  if (scrolled == NULL || !gtk_widget_compute_bounds (GTK_WIDGET (row), list, &bounds))
    return;
  adjustment = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));
  value = gtk_adjustment_get_value (adjustment);
  page = gtk_adjustment_get_page_size (adjustment);
  if (bounds.origin.y < value)
    gtk_adjustment_set_value (adjustment, bounds.origin.y);
  else if (bounds.origin.y + bounds.size.height > value + page)
    gtk_adjustment_set_value (adjustment, bounds.origin.y + bounds.size.height - page);
}

static void
select_hit (KpReviewWindow *self,
            guint           index)
{
  GtkListBoxRow *row;

  if (self->batch == NULL || index >= self->batch->hits->len)
    return;
  self->hit_index = index;
  self->hit = g_ptr_array_index (self->batch->hits, index);
  row = gtk_list_box_get_row_at_index (GTK_LIST_BOX (self->hit_list), index);
  if (row != NULL && gtk_list_box_get_selected_row (GTK_LIST_BOX (self->hit_list)) != row)
    gtk_list_box_select_row (GTK_LIST_BOX (self->hit_list), row);
  if (row != NULL)
    scroll_to_row (self->hit_list, row);
  show_hit (self);
}

void
_kp_review_window_select_batch (KpReviewWindow *self,
                                guint           index)
{
  GPtrArray *batches = kp_review_model_get_batches (self->model);
  GtkListBoxRow *row;

  if (index >= batches->len)
    return;
  row = gtk_list_box_get_row_at_index (GTK_LIST_BOX (self->batch_list), index);
  if (gtk_list_box_get_selected_row (GTK_LIST_BOX (self->batch_list)) != row)
    {
      /* row-selected comes back here. */
      gtk_list_box_select_row (GTK_LIST_BOX (self->batch_list), row);
      return;
    }

  self->batch = g_ptr_array_index (batches, index);
  self->hit = NULL;
  g_hash_table_remove_all (self->worker_colors);
  fill_hits (self);
  select_hit (self, 0);
  if (self->batch->hits->len == 0)
    show_hit (self);
}

static void
batch_selected_cb (KpReviewWindow *self,
                   GtkListBoxRow  *row)
{
  if (row != NULL)
    _kp_review_window_select_batch (self, gtk_list_box_row_get_index (row));
}

static void
hit_selected_cb (KpReviewWindow *self,
                 GtkListBoxRow  *row)
{
  if (row != NULL && (guint)gtk_list_box_row_get_index (row) != self->hit_index)
    select_hit (self, gtk_list_box_row_get_index (row));
  else if (row != NULL && self->hit == NULL)
    select_hit (self, gtk_list_box_row_get_index (row));
}

static void
fill_batch_list_empty (KpReviewWindow *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (self->batch_list)) != NULL)
    gtk_list_box_remove (GTK_LIST_BOX (self->batch_list), child);
  while ((child = gtk_widget_get_first_child (self->hit_list)) != NULL)
    gtk_list_box_remove (GTK_LIST_BOX (self->hit_list), child);
}

static void
fill_batches (KpReviewWindow *self)
{
  GPtrArray *batches = kp_review_model_get_batches (self->model);
  GtkWidget *child;

  self->batch = NULL;
  self->hit = NULL;
  while ((child = gtk_widget_get_first_child (self->batch_list)) != NULL)
    gtk_list_box_remove (GTK_LIST_BOX (self->batch_list), child);

  for (guint i = 0; i < batches->len; i++)
    {
      KpReviewBatch *batch = g_ptr_array_index (batches, i);
      GtkWidget *row = adw_action_row_new ();
      g_autofree char *title = batch->batch_id != NULL
        /* TRANSLATORS: a batch's title, then its id */
        ? g_strdup_printf (_("%s (%s)"), batch->title != NULL ? batch->title : "", batch->batch_id)
        : g_strdup (batch->title);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      gtk_list_box_append (GTK_LIST_BOX (self->batch_list), row);
    }
  update_batch_rows (self);

  if (batches->len > 0)
    _kp_review_window_select_batch (self, 0);
  else
    show_hit (self);
}

/* ------------------------------------------------------------------ */
/* One HIT                                                            */
/* ------------------------------------------------------------------ */

static guint
worker_color (KpReviewWindow *self,
              const char     *worker_id)
{
  gpointer value = g_hash_table_lookup (self->worker_colors, worker_id);

  if (value == NULL)
    {
      value = GUINT_TO_POINTER (g_hash_table_size (self->worker_colors) + 1);
      g_hash_table_insert (self->worker_colors, g_strdup (worker_id), value);
    }
  return GPOINTER_TO_UINT (value) - 1;
}

static void
texture_ready (KpReviewWindow *self,
               const char     *uri,
               GdkTexture     *texture)
{
  if (g_strcmp0 (uri, self->image_uri) == 0)
    kp_review_overlay_set_texture (KP_REVIEW_OVERLAY (self->overlay), texture);
  else
    compose_next (self, FALSE);
}

static void
media_finished_cb (KpReviewWindow *self,
                   const char     *uri)
{
  GdkTexture *texture = NULL;
  const GError *error = NULL;

  if (gone (self))
    return;
  if (g_strcmp0 (uri, self->image_uri) != 0)
    {
      /* Perhaps the next HIT's, prefetched: compose it. */
      compose_next (self, FALSE);
      return;
    }
  if (kp_layout_media_request (self->media, uri, TRUE, &texture, &error) == KP_LAYOUT_MEDIA_LOADED)
    {
      g_hash_table_insert (self->textures, g_strdup (uri), g_object_ref (texture));
      texture_ready (self, uri, texture);
    }
  else if (error != NULL)
    {
      g_autofree char *text = g_strdup_printf (_("The image cannot be loaded: %s"), error->message);

      toast (self, text);
    }
}

static void
file_texture_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  g_autoptr(GFile) file = g_file_new_for_uri (task_data);
  GError *error = NULL;
  GdkTexture *texture = gdk_texture_new_from_file (file, &error);

  if (texture == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, texture, g_object_unref);
}

static void
file_texture_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  KpReviewWindow *self = KP_REVIEW_WINDOW (object);
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;
  const char *uri = g_task_get_task_data (G_TASK (result));

  texture = g_task_propagate_pointer (G_TASK (result), &error);
  if (gone (self))
    return;
  if (texture == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) && g_strcmp0 (uri, self->image_uri) == 0)
        toast_error (self, error);
      return;
    }
  g_hash_table_insert (self->textures, g_strdup (uri), g_object_ref (texture));
  texture_ready (self, uri, texture);
}

/* Starts loading uri (a cache hit returns it at once). */
static GdkTexture *
request_image (KpReviewWindow *self,
               const char     *uri)
{
  GdkTexture *texture = NULL;

  if (uri == NULL)
    return NULL;

  if (g_str_has_prefix (uri, "file:"))
    {
      g_autoptr(GTask) task = NULL;

      if (g_hash_table_contains (self->textures, uri))
        return g_hash_table_lookup (self->textures, uri);
      /* NULL marks one under way. */
      g_hash_table_insert (self->textures, g_strdup (uri), NULL);
      task = g_task_new (self, self->cancellable, file_texture_cb, NULL);
      g_task_set_task_data (task, g_strdup (uri), g_free);
      g_task_run_in_thread (task, file_texture_thread);
      return NULL;
    }

  if (g_hash_table_lookup (self->textures, uri) != NULL)
    return g_hash_table_lookup (self->textures, uri);
  self->media_uris++;
  if (kp_layout_media_request (self->media, uri, TRUE, &texture, NULL) == KP_LAYOUT_MEDIA_LOADED)
    {
      g_hash_table_insert (self->textures, g_strdup (uri), g_object_ref (texture));
      return texture;
    }
  return NULL;
}

/* Images in a kempelen-server's own media store are served to a
 * requester who signs the request with their keys. */
static void
authorize_media (SoupMessage *message,
                 gpointer     user_data)
{
  KpReviewWindow *self = user_data;

  if (self->model != NULL)
    kp_review_model_sign_media (self->model, message);
}

/* How many images KpLayoutMedia may hold before it is replaced. */
#define MEDIA_URIS_MAX 24

/* KpLayoutMedia keeps everything it fetched: fine for one layout, not for
 * a batch of thousands of HITs. Only the images of the HITs around the
 * current one are kept (in textures), and the KpLayoutMedia is replaced
 * by a new one now and then. */
static void
trim_images (KpReviewWindow *self)
{
  g_autoptr(GHashTable) keep = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  const char *uri;
  gboolean current_loaded;

  for (guint i = self->hit_index > 0 ? self->hit_index - 1 : 0;
       self->batch != NULL && i < MIN (self->hit_index + 3, self->batch->hits->len); i++)
    {
      KpReviewHit *hit = g_ptr_array_index (self->batch->hits, i);

      if (hit->image_uri != NULL)
        g_hash_table_add (keep, hit->image_uri);
    }

  g_hash_table_iter_init (&iter, self->textures);
  while (g_hash_table_iter_next (&iter, (gpointer *)&uri, NULL))
    if (!g_hash_table_contains (keep, uri))
      g_hash_table_iter_remove (&iter);

  current_loaded = self->image_uri == NULL || g_hash_table_lookup (self->textures, self->image_uri) != NULL;
  if (self->media_uris > MEDIA_URIS_MAX && current_loaded)
    {
      g_signal_handlers_disconnect_by_data (self->media, self);
      g_object_unref (self->media);
      self->media = kp_layout_media_new ();
      kp_layout_media_set_authorizer (self->media, authorize_media, self, NULL);
      g_signal_connect_object (self->media, "finished", G_CALLBACK (media_finished_cb), self,
                               G_CONNECT_SWAPPED);
      self->media_uris = 0;
    }
}

static void
worker_toggled_cb (GtkCheckButton *check,
                   KpReviewWindow *self)
{
  guint index = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (check), "kp-layer"));
  gboolean active = gtk_check_button_get_active (check);
  KpReviewAssignment *a;

  if (self->hit == NULL || index >= self->hit->assignments->len)
    return;
  a = g_ptr_array_index (self->hit->assignments, index);
  if (active)
    g_hash_table_remove (self->hidden, a->worker_id);
  else
    g_hash_table_add (self->hidden, g_strdup (a->worker_id));
  kp_review_overlay_set_layer_visible (KP_REVIEW_OVERLAY (self->overlay), index, active);
  /* The next HIT's composite was made with the old choice. */
  compose_next (self, TRUE);
}

static char *
status_text (KpReviewAssignment *a)
{
  const char *status = a->status;

  if (g_strcmp0 (status, "Approved") == 0)
    status = _("Approved");
  else if (g_strcmp0 (status, "Rejected") == 0)
    status = _("Rejected");
  else if (g_strcmp0 (status, "Submitted") == 0)
    status = _("Submitted");

  if (a->agreement >= 0)
    /* TRANSLATORS: an assignment's status, then its agreement with the consensus in percent */
    return g_strdup_printf (_("%s · agreement %.0f %%"), status, a->agreement * 100);
  return g_strdup (status);
}

static void
update_assignment_rows (KpReviewWindow *self)
{
  for (guint i = 0; self->hit != NULL && i < self->rows->len && i < self->hit->assignments->len; i++)
    {
      AssignmentRow *r = &g_array_index (self->rows, AssignmentRow, i);
      g_autofree char *text = status_text (g_ptr_array_index (self->hit->assignments, i));

      gtk_label_set_text (GTK_LABEL (r->status), text);
    }
  update_batch_rows (self);
}

static GtkWidget *
assignment_row (KpReviewWindow     *self,
                KpReviewAssignment *a,
                guint               index,
                AssignmentRow      *r)
{
  const GdkRGBA *color = kp_review_palette_get (worker_color (self, a->worker_id));
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *swatch = gtk_label_new (NULL);
  GtkWidget *worker = gtk_label_new (a->worker_id);
  g_autofree char *markup = NULL;
  g_autofree char *check_label = index < 9 ? g_strdup_printf ("%u", index + 1) : NULL;
  g_autofree char *accessible = g_strdup_printf (_("Show the annotations of worker %s"), a->worker_id);
  g_autofree char *status = status_text (a);

  markup = g_strdup_printf ("<span foreground=\"#%02x%02x%02x\" size=\"x-large\">■</span>",
                            (guint)(color->red * 255 + .5), (guint)(color->green * 255 + .5),
                            (guint)(color->blue * 255 + .5));
  gtk_label_set_markup (GTK_LABEL (swatch), markup);

  r->check = gtk_check_button_new_with_label (check_label);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (r->check), !g_hash_table_contains (self->hidden, a->worker_id));
  g_object_set_data (G_OBJECT (r->check), "kp-layer", GUINT_TO_POINTER (index));
  g_signal_connect (r->check, "toggled", G_CALLBACK (worker_toggled_cb), self);
  gtk_accessible_update_property (GTK_ACCESSIBLE (r->check), GTK_ACCESSIBLE_PROPERTY_LABEL, accessible, -1);
  if (index < 9)
    {
      g_autofree char *tip = g_strdup_printf (_("Show or hide this worker (%u)"), index + 1);

      gtk_widget_set_tooltip_text (r->check, tip);
    }

  gtk_label_set_xalign (GTK_LABEL (worker), 0);
  gtk_label_set_selectable (GTK_LABEL (worker), TRUE);
  gtk_widget_set_hexpand (worker, TRUE);
  r->status = gtk_label_new (status);
  gtk_widget_add_css_class (r->status, "dim-label");

  gtk_box_append (GTK_BOX (box), r->check);
  gtk_box_append (GTK_BOX (box), swatch);
  gtk_box_append (GTK_BOX (box), worker);
  gtk_box_append (GTK_BOX (box), r->status);
  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);
  gtk_widget_set_margin_top (box, 4);
  gtk_widget_set_margin_bottom (box, 4);

  r->row = gtk_list_box_row_new ();
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (r->row), box);
  return r->row;
}

static void
prefetch_next (KpReviewWindow *self)
{
  if (self->batch == NULL)
    return;
  trim_images (self);
  /* The answers come with the batch; the image is what takes time. */
  for (guint i = self->hit_index + 1; i < MIN (self->hit_index + 3, self->batch->hits->len); i++)
    {
      KpReviewHit *next = g_ptr_array_index (self->batch->hits, i);

      if (next->image_uri != NULL)
        request_image (self, next->image_uri);
    }
  compose_next (self, FALSE);
}

static void
stop_waiting_for_frame (KpReviewWindow *self)
{
  if (self->prefetch_clock != NULL)
    {
      g_clear_signal_handler (&self->prefetch_handler, self->prefetch_clock);
      g_clear_object (&self->prefetch_clock);
    }
}

static void
painted_cb (KpReviewWindow *self)
{
  stop_waiting_for_frame (self);
  prefetch_next (self);
}

/* Decoding the next images competes with painting this one for the CPU:
 * start once the HIT is on screen. */
static void
prefetch_after_frame (KpReviewWindow *self)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self));

  if (clock == NULL)
    {
      prefetch_next (self);
      return;
    }
  if (self->prefetch_clock != NULL)
    return;
  self->prefetch_clock = g_object_ref (clock);
  self->prefetch_handler = g_signal_connect_swapped (clock, "after-paint", G_CALLBACK (painted_cb), self);
}

/* Gives overlay hit's layers and consensus; width and height are the
 * image's size if the answers tell it. */
static void
fill_overlay (KpReviewWindow  *self,
              KpReviewOverlay *overlay,
              KpReviewHit     *hit,
              int             *width,
              int             *height)
{
  g_autoptr(GArray) consensus = NULL;

  kp_review_overlay_clear (overlay);
  for (guint i = 0; i < hit->assignments->len; i++)
    {
      KpReviewAssignment *a = g_ptr_array_index (hit->assignments, i);
      g_autoptr(GArray) boxes = answer_boxes (a->answer, width, height);
      guint color = worker_color (self, a->worker_id);
      guint layer;

      layer = kp_review_overlay_add_layer (overlay, kp_review_palette_get (color),
                                           (graphene_rect_t *)(gpointer)boxes->data, boxes->len);
      add_answer_paths (overlay, layer, a->answer);
      if (g_hash_table_contains (self->hidden, a->worker_id))
        kp_review_overlay_set_layer_visible (overlay, layer, FALSE);
    }
  if (hit->result != NULL && json_object_has_member (hit->result, "Answer") &&
      JSON_NODE_HOLDS_OBJECT (json_object_get_member (hit->result, "Answer")))
    consensus = answer_boxes (json_object_get_object_member (hit->result, "Answer"), NULL, NULL);
  if (consensus != NULL)
    {
      kp_review_overlay_set_consensus (overlay, (graphene_rect_t *)(gpointer)consensus->data, consensus->len);
      add_answer_paths (overlay, KP_REVIEW_OVERLAY_CONSENSUS,
                        json_object_get_object_member (hit->result, "Answer"));
    }
  if (*width > 0 && *height > 0)
    kp_review_overlay_set_image_size (overlay, *width, *height);
}

static void
forget_next (KpReviewWindow *self)
{
  g_cancellable_cancel (self->compose_cancellable);
  g_clear_object (&self->compose_cancellable);
  g_clear_pointer (&self->next_composite, kp_review_composite_unref);
  self->next_hit = NULL;
}

static void
composed_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  KpReviewWindow *self = user_data;
  g_autoptr(KpReviewComposite) composite = NULL;
  g_autoptr(GError) error = NULL;

  composite = kp_review_overlay_compose_finish (KP_REVIEW_OVERLAY (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_object_unref (self);
      return;
    }
  if (composite != NULL && !gone (self) && self->compose_cancellable != NULL)
    {
      g_clear_object (&self->compose_cancellable);
      self->next_composite = g_steal_pointer (&composite);
      kp_review_overlay_preload (KP_REVIEW_OVERLAY (self->overlay), self->next_composite);
    }
  g_object_unref (self);
}

/* Composes the next HIT, its image and shapes at the fit zoom and the
 * overlay's size, in a worker, once its image is loaded; again: even if
 * it is already composed or under way (a worker was toggled). */
static void
compose_next (KpReviewWindow *self,
              gboolean        again)
{
  KpReviewHit *hit;
  GdkTexture *texture;
  int width = 0, height = 0;

  if (self->batch == NULL || self->hit_index + 1 >= self->batch->hits->len)
    return;
  hit = g_ptr_array_index (self->batch->hits, self->hit_index + 1);
  if (hit->image_uri == NULL || (texture = request_image (self, hit->image_uri)) == NULL)
    return;
  if (!again && self->next_hit == hit)
    return;
  if (!gtk_widget_get_realized (self->overlay) || gtk_widget_get_width (self->overlay) <= 0)
    return;

  forget_next (self);
  if (self->next_overlay == NULL)
    self->next_overlay = g_object_ref_sink (KP_REVIEW_OVERLAY (kp_review_overlay_new ()));
  fill_overlay (self, self->next_overlay, hit, &width, &height);
  kp_review_overlay_set_texture (self->next_overlay, texture);
  self->next_hit = hit;
  self->compose_cancellable = g_cancellable_new ();
  kp_review_overlay_compose_async (self->next_overlay, gtk_widget_get_width (self->overlay),
                                   gtk_widget_get_height (self->overlay),
                                   gtk_widget_get_scale_factor (self->overlay),
                                   self->compose_cancellable, composed_cb, g_object_ref (self));
}

static void
show_hit (KpReviewWindow *self)
{
  KpReviewOverlay *overlay = KP_REVIEW_OVERLAY (self->overlay);
  KpReviewHit *hit = self->hit;
  GtkWidget *child;
  g_autofree char *answers = NULL;
  g_autofree char *title = NULL;
  int width = 0, height = 0;
  guint first_open = G_MAXUINT;

  kp_review_overlay_clear (overlay);
  g_array_set_size (self->rows, 0);
  while ((child = gtk_widget_get_first_child (self->assignment_list)) != NULL)
    gtk_list_box_remove (GTK_LIST_BOX (self->assignment_list), child);
  g_clear_pointer (&self->image_uri, g_free);

  if (hit == NULL)
    {
      forget_next (self);
      kp_review_overlay_set_texture (overlay, NULL);
      gtk_label_set_text (GTK_LABEL (self->hit_title), _("No HIT"));
      gtk_label_set_text (GTK_LABEL (self->answers_label), "");
      update_actions (self);
      return;
    }

  fill_overlay (self, overlay, hit, &width, &height);
  g_array_set_size (self->rows, hit->assignments->len);
  for (guint i = 0; i < hit->assignments->len; i++)
    {
      KpReviewAssignment *a = g_ptr_array_index (hit->assignments, i);
      AssignmentRow *r = &g_array_index (self->rows, AssignmentRow, i);

      gtk_list_box_append (GTK_LIST_BOX (self->assignment_list), assignment_row (self, a, i, r));
      if (first_open == G_MAXUINT && g_strcmp0 (a->status, "Submitted") == 0)
        first_open = i;
    }

  self->image_uri = g_strdup (hit->image_uri);
  kp_review_overlay_set_texture (overlay, request_image (self, hit->image_uri));
  /* Composed ahead: the overlay draws it if it still shows the same. */
  if (self->next_hit == hit && self->next_composite != NULL)
    kp_review_overlay_set_composite (overlay, self->next_composite);
  forget_next (self);

  /* The first assignment still to decide is the one A and R act on. */
  if (hit->assignments->len > 0)
    _kp_review_window_select_assignment (self, first_open != G_MAXUINT ? first_open : 0);

  /* TRANSLATORS: the HIT's position in the batch, its count, its id, then its disagreement */
  {
    g_autofree char *agreement = agreement_text (hit->agreement);

    title = g_strdup_printf (_("HIT %u of %u: %s — %s"), self->hit_index + 1, self->batch->hits->len,
                             hit->hit_id, agreement);
  }
  gtk_label_set_text (GTK_LABEL (self->hit_title), title);
  answers = describe_answers (hit);
  gtk_label_set_text (GTK_LABEL (self->answers_label), answers);
  gtk_widget_set_visible (self->answers_label, *answers != '\0');
  update_actions (self);

  prefetch_after_frame (self);
}

/* ------------------------------------------------------------------ */
/* Loading                                                            */
/* ------------------------------------------------------------------ */

static void
busy_changed (KpReviewWindow *self)
{
  update_actions (self);
}

static void
loaded_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(KpReviewWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *batch_id = NULL;
  g_autofree char *hit_id = NULL;

  self->busy--;
  if (gone (self))
    return;
  busy_changed (self);

  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "desk");
  if (!kp_review_model_load_finish (KP_REVIEW_MODEL (object), result, &error))
    {
      toast_error (self, error);
      return;
    }
  fill_batches (self);
  restore_selection (self);
}

/* After a reload, the batch and HIT shown before, where they still are. */
static void
restore_selection (KpReviewWindow *self)
{
  GPtrArray *batches = kp_review_model_get_batches (self->model);
  g_autofree char *batch_id = g_steal_pointer (&self->restore_batch);
  g_autofree char *hit_id = g_steal_pointer (&self->restore_hit);

  if (hit_id == NULL)
    return;
  for (guint i = 0; i < batches->len; i++)
    {
      KpReviewBatch *batch = g_ptr_array_index (batches, i);

      if (g_strcmp0 (batch->batch_id, batch_id) != 0)
        continue;
      _kp_review_window_select_batch (self, i);
      for (guint j = 0; j < batch->hits->len; j++)
        if (g_strcmp0 (((KpReviewHit *)g_ptr_array_index (batch->hits, j))->hit_id, hit_id) == 0)
          select_hit (self, j);
      return;
    }
}

static void
load (KpReviewWindow *self)
{
  g_free (self->restore_batch);
  g_free (self->restore_hit);
  self->restore_batch = self->batch != NULL ? g_strdup (self->batch->batch_id) : NULL;
  self->restore_hit = self->hit != NULL ? g_strdup (self->hit->hit_id) : NULL;

  self->busy++;
  busy_changed (self);
  /* The batches shown go away with the load: nothing points at them. */
  self->batch = NULL;
  self->hit = NULL;
  show_hit (self);
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "loading");
  kp_review_model_load_async (self->model, self->cancellable, loaded_cb, g_object_ref (self));
}

static void
connected_cb (KpReviewWindow *self,
              KpReviewModel  *model)
{
  g_autofree char *subtitle = NULL;

  g_set_object (&self->model, model);
  subtitle = g_strdup (kp_review_model_get_endpoint (model));
  adw_window_title_set_subtitle (ADW_WINDOW_TITLE (self->title), subtitle);
  load (self);
}

/* ------------------------------------------------------------------ */
/* Decisions                                                          */
/* ------------------------------------------------------------------ */

static KpReviewAssignment *
selected_assignment (KpReviewWindow *self)
{
  GtkListBoxRow *row = gtk_list_box_get_selected_row (GTK_LIST_BOX (self->assignment_list));
  int index;

  if (self->hit == NULL || row == NULL)
    return NULL;
  index = gtk_list_box_row_get_index (row);
  if (index < 0 || (guint)index >= self->hit->assignments->len)
    return NULL;
  return g_ptr_array_index (self->hit->assignments, index);
}

static void
update_actions (KpReviewWindow *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  KpReviewAssignment *a = selected_assignment (self);
  gboolean ready = self->model != NULL;
  gboolean open = a != NULL && g_strcmp0 (a->status, "Submitted") == 0;
  guint n_hits = self->batch != NULL ? self->batch->hits->len : 0;

  gtk_widget_action_set_enabled (widget, "review.approve", ready && open);
  gtk_widget_action_set_enabled (widget, "review.reject", ready && open);
  gtk_widget_action_set_enabled (widget, "review.bonus", ready && a != NULL);
  gtk_widget_action_set_enabled (widget, "review.block", ready && a != NULL);
  gtk_widget_action_set_enabled (widget, "review.bulk-approve", ready && self->batch != NULL && self->busy == 0);
  gtk_widget_action_set_enabled (widget, "review.refresh", ready && self->busy == 0);
  gtk_widget_action_set_enabled (widget, "review.change-keys", ready && self->busy == 0);
  gtk_widget_action_set_enabled (widget, "review.next-hit", self->hit != NULL && self->hit_index + 1 < n_hits);
  gtk_widget_action_set_enabled (widget, "review.previous-hit", self->hit != NULL && self->hit_index > 0);
}

typedef struct
{
  KpReviewWindow *self;
  KpReviewAction  action;
  char           *worker_id;
  char           *amount;
} Decision;

static void
decision_free (Decision *d)
{
  g_object_unref (d->self);
  g_free (d->worker_id);
  g_free (d->amount);
  g_free (d);
}

static void
decided_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Decision *d = user_data;
  KpReviewWindow *self = d->self;
  g_autoptr(GError) error = NULL;

  self->busy--;
  if (!gone (self))
    busy_changed (self);

  if (!kp_review_model_decide_finish (KP_REVIEW_MODEL (object), result, &error))
    {
      if (!gone (self))
        toast_error (self, error);
    }
  else if (!gone (self))
    {
      g_autofree char *text = NULL;

      switch (d->action)
        {
        case KP_REVIEW_APPROVE:
          text = g_strdup (_("Assignment approved"));
          break;
        case KP_REVIEW_REJECT:
          text = g_strdup (_("Assignment rejected"));
          break;
        case KP_REVIEW_BONUS:
          /* TRANSLATORS: an amount in US dollars, then a worker id */
          text = g_strdup_printf (_("Bonus of $%s sent to %s"), d->amount, d->worker_id);
          break;
        case KP_REVIEW_BLOCK:
          text = g_strdup_printf (_("Worker %s blocked"), d->worker_id);
          break;
        default:
          g_assert_not_reached ();
        }
      toast (self, text);
      update_assignment_rows (self);
      update_actions (self);

      /* On to the next assignment to decide. */
      if (d->action == KP_REVIEW_APPROVE || d->action == KP_REVIEW_REJECT)
        for (guint i = 0; self->hit != NULL && i < self->hit->assignments->len; i++)
          {
            KpReviewAssignment *a = g_ptr_array_index (self->hit->assignments, i);

            if (g_strcmp0 (a->status, "Submitted") == 0)
              {
                _kp_review_window_select_assignment (self, i);
                break;
              }
          }
    }
  decision_free (d);
}

static void
decide (KpReviewWindow     *self,
        KpReviewAssignment *a,
        KpReviewAction      action,
        const char         *text,
        const char         *amount)
{
  Decision *d = g_new0 (Decision, 1);

  d->self = g_object_ref (self);
  d->action = action;
  d->worker_id = g_strdup (a->worker_id);
  d->amount = g_strdup (amount);
  self->busy++;
  busy_changed (self);
  kp_review_model_decide_async (self->model, self->hit, a, action, text, amount, self->cancellable,
                                decided_cb, d);
}

static KpReviewAssignment *
assignment_to_decide (KpReviewWindow *self,
                      gboolean        needs_submitted)
{
  KpReviewAssignment *a = selected_assignment (self);

  if (a == NULL)
    {
      toast (self, _("Select an assignment first"));
      return NULL;
    }
  if (needs_submitted && g_strcmp0 (a->status, "Submitted") != 0)
    {
      toast (self, _("This assignment is decided already"));
      return NULL;
    }
  return a;
}

static void
approve_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  KpReviewWindow *self = KP_REVIEW_WINDOW (widget);
  KpReviewAssignment *a = assignment_to_decide (self, TRUE);

  if (a != NULL)
    decide (self, a, KP_REVIEW_APPROVE, gtk_editable_get_text (GTK_EDITABLE (self->feedback_entry)), NULL);
}

static void
reject_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  KpReviewWindow *self = KP_REVIEW_WINDOW (widget);
  KpReviewAssignment *a = assignment_to_decide (self, TRUE);
  const char *feedback = gtk_editable_get_text (GTK_EDITABLE (self->feedback_entry));

  if (a == NULL)
    return;
  if (*feedback == '\0')
    {
      toast (self, _("Say why the assignment is rejected: the worker sees it"));
      gtk_widget_grab_focus (self->feedback_entry);
      return;
    }
  decide (self, a, KP_REVIEW_REJECT, feedback, NULL);
}

typedef struct
{
  KpReviewWindow *self;
  char           *hit_id;
  char           *assignment_id;
  char           *amount;
  char           *reason;
  GtkWidget      *reason_entry;
} Confirm;

static void
confirm_free (Confirm *c)
{
  g_object_unref (c->self);
  g_free (c->hit_id);
  g_free (c->assignment_id);
  g_free (c->amount);
  g_free (c->reason);
  g_free (c);
}

static KpReviewAssignment *
confirmed_assignment (Confirm *c)
{
  if (c->self->hit == NULL || g_strcmp0 (c->self->hit->hit_id, c->hit_id) != 0)
    return NULL;
  return kp_review_hit_lookup (c->self->hit, c->assignment_id);
}

static void
bonus_response_cb (AdwMessageDialog *dialog,
                   const char       *response,
                   Confirm          *c)
{
  KpReviewAssignment *a = confirmed_assignment (c);

  if (g_strcmp0 (response, "send") == 0 && a != NULL)
    decide (c->self, a, KP_REVIEW_BONUS, c->reason, c->amount);
}

static void
bonus_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  KpReviewWindow *self = KP_REVIEW_WINDOW (widget);
  KpReviewAssignment *a = assignment_to_decide (self, FALSE);
  double value = gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->bonus_amount));
  const char *reason = gtk_editable_get_text (GTK_EDITABLE (self->bonus_reason));
  gint64 cents = (gint64)round (value * 100);
  AdwMessageDialog *dialog;
  g_autofree char *body = NULL;
  Confirm *c;

  if (a == NULL)
    return;
  if (cents <= 0)
    {
      toast (self, _("Give the bonus an amount"));
      return;
    }
  if (*reason == '\0')
    {
      toast (self, _("Give the bonus a reason: the worker sees it"));
      gtk_widget_grab_focus (self->bonus_reason);
      return;
    }

  c = g_new0 (Confirm, 1);
  c->self = g_object_ref (self);
  c->hit_id = g_strdup (self->hit->hit_id);
  c->assignment_id = g_strdup (a->assignment_id);
  /* MTurk reads the amount with a dot, whatever the locale. */
  c->amount = g_strdup_printf ("%" PRId64 ".%02d", cents / 100, (int)(cents % 100));
  c->reason = g_strdup (reason);

  /* TRANSLATORS: an amount in US dollars, a worker id, then the reason */
  body = g_strdup_printf (_("Pay $%s to worker %s, for “%s”? A bonus cannot be taken back."),
                          c->amount, a->worker_id, reason);
  dialog = new_confirm_dialog (self, _("Send Bonus?"), body, "send", _("_Send Bonus"),
                               ADW_RESPONSE_SUGGESTED, "cancel");
  g_signal_connect_data (dialog, "response", G_CALLBACK (bonus_response_cb), c,
                         (GClosureNotify)(void (*) (void))confirm_free, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
block_response_cb (AdwMessageDialog *dialog,
                   const char       *response,
                   Confirm          *c)
{
  KpReviewAssignment *a = confirmed_assignment (c);
  const char *reason = gtk_editable_get_text (GTK_EDITABLE (c->reason_entry));

  if (g_strcmp0 (response, "block") != 0 || a == NULL)
    return;
  if (*reason == '\0')
    {
      toast (c->self, _("Give a reason for the block"));
      return;
    }
  decide (c->self, a, KP_REVIEW_BLOCK, reason, NULL);
}

static void
block_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  KpReviewWindow *self = KP_REVIEW_WINDOW (widget);
  KpReviewAssignment *a = assignment_to_decide (self, FALSE);
  AdwMessageDialog *dialog;
  g_autofree char *body = NULL;
  Confirm *c;

  if (a == NULL)
    return;

  c = g_new0 (Confirm, 1);
  c->self = g_object_ref (self);
  c->hit_id = g_strdup (self->hit->hit_id);
  c->assignment_id = g_strdup (a->assignment_id);
  c->reason_entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (c->reason_entry), _("Reason"));
  gtk_entry_set_activates_default (GTK_ENTRY (c->reason_entry), TRUE);
  gtk_editable_set_text (GTK_EDITABLE (c->reason_entry),
                         gtk_editable_get_text (GTK_EDITABLE (self->feedback_entry)));
  gtk_accessible_update_property (GTK_ACCESSIBLE (c->reason_entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Reason for the block"), -1);

  body = g_strdup_printf (_("Worker %s will no longer see your HITs."), a->worker_id);
  dialog = new_confirm_dialog (self, _("Block Worker?"), body, "block", _("_Block"),
                               ADW_RESPONSE_DESTRUCTIVE, "cancel");
  adw_message_dialog_set_extra_child (dialog, c->reason_entry);
  g_signal_connect_data (dialog, "response", G_CALLBACK (block_response_cb), c,
                         (GClosureNotify)(void (*) (void))confirm_free, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
bulk_progress_cb (guint    done,
                  guint    total,
                  gpointer user_data)
{
  KpReviewWindow *self = user_data;

  if (gone (self))
    return;
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->bulk_progress), total > 0 ? (double)done / total : 1);
}

static void
bulk_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(KpReviewWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) failures = NULL;
  g_autofree char *summary = NULL;
  guint n_approved = 0;
  gboolean ok;

  self->busy--;
  ok = kp_review_model_bulk_approve_finish (KP_REVIEW_MODEL (object), result, &n_approved, &failures, &error);
  if (gone (self))
    return;
  busy_changed (self);
  gtk_widget_set_visible (self->bulk_progress, FALSE);
  update_assignment_rows (self);

  if (!ok)
    {
      toast_error (self, error);
      return;
    }

  summary = g_strdup_printf (ngettext ("%u assignment approved", "%u assignments approved", n_approved),
                             n_approved);
  if (failures != NULL && failures[0] != NULL)
    {
      g_autofree char *list = g_strjoinv ("\n", failures);
      g_autofree char *body = g_strdup_printf (ngettext ("%s; %u was not:\n%s", "%s; %u were not:\n%s",
                                                         g_strv_length (failures)),
                                               summary, g_strv_length (failures), list);
      AdwMessageDialog *dialog = new_dialog (self, _("Not Everything Was Approved"), body);

      adw_message_dialog_add_response (dialog, "close", _("_Close"));
      gtk_window_present (GTK_WINDOW (dialog));
      toast (self, body);
      return;
    }
  toast (self, summary);
}

static void
bulk_response_cb (AdwMessageDialog *dialog,
                  const char       *response,
                  KpReviewWindow   *self)
{
  double threshold = gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->threshold)) / 100;

  if (g_strcmp0 (response, "approve") != 0 || self->batch == NULL || self->busy > 0)
    return;

  self->busy++;
  busy_changed (self);
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (self->bulk_progress), 0);
  gtk_widget_set_visible (self->bulk_progress, TRUE);
  kp_review_model_bulk_approve_async (self->model, self->batch, threshold,
                                      gtk_editable_get_text (GTK_EDITABLE (self->feedback_entry)),
                                      bulk_progress_cb, self, self->cancellable, bulk_done_cb,
                                      g_object_ref (self));
}

static void
bulk_approve_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  KpReviewWindow *self = KP_REVIEW_WINDOW (widget);
  double threshold = gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->threshold)) / 100;
  g_autofree char *body = NULL;
  AdwMessageDialog *dialog;
  guint n;

  if (self->batch == NULL)
    return;

  n = kp_review_batch_count_above (self->batch, threshold);
  if (n == 0)
    {
      toast (self, _("No submitted assignment of this batch reaches that agreement"));
      return;
    }

  /* TRANSLATORS: a count of assignments, then an agreement in percent */
  body = g_strdup_printf (ngettext ("%u submitted assignment of HITs with an agreement of at least %.0f %% "
                                    "will be approved and paid.",
                                    "%u submitted assignments of HITs with an agreement of at least %.0f %% "
                                    "will be approved and paid.", n),
                          n, threshold * 100);
  dialog = new_confirm_dialog (self, _("Approve All Above?"), body, "approve", _("_Approve"),
                               ADW_RESPONSE_SUGGESTED, "approve");
  g_signal_connect_object (dialog, "response", G_CALLBACK (bulk_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ------------------------------------------------------------------ */
/* Moving, toggling, feedback texts                                   */
/* ------------------------------------------------------------------ */

static void
next_hit_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  KpReviewWindow *self = KP_REVIEW_WINDOW (widget);

  if (self->batch != NULL && self->hit_index + 1 < self->batch->hits->len)
    select_hit (self, self->hit_index + 1);
}

static void
previous_hit_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  KpReviewWindow *self = KP_REVIEW_WINDOW (widget);

  if (self->batch != NULL && self->hit_index > 0)
    select_hit (self, self->hit_index - 1);
}

static void
toggle_worker_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  KpReviewWindow *self = KP_REVIEW_WINDOW (widget);
  guint index = g_variant_get_uint32 (parameter);
  AssignmentRow *r;

  if (index >= self->rows->len)
    return;
  r = &g_array_index (self->rows, AssignmentRow, index);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (r->check),
                               !gtk_check_button_get_active (GTK_CHECK_BUTTON (r->check)));
}

static void
zoom_fit_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  kp_review_overlay_zoom_to_fit (KP_REVIEW_OVERLAY (KP_REVIEW_WINDOW (widget)->overlay));
}

static void
refresh_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  KpReviewWindow *self = KP_REVIEW_WINDOW (widget);

  if (self->model != NULL && self->busy == 0)
    load (self);
}

/* Back to the keys, to sign in as someone else. */
static void
change_keys_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  KpReviewWindow *self = KP_REVIEW_WINDOW (widget);

  if (self->busy > 0)
    return;
  self->batch = NULL;
  self->hit = NULL;
  show_hit (self);
  g_clear_object (&self->model);
  fill_batch_list_empty (self);
  adw_window_title_set_subtitle (ADW_WINDOW_TITLE (self->title), NULL);
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "connect");
  update_actions (self);
}

static void
use_feedback_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  KpReviewWindow *self = KP_REVIEW_WINDOW (widget);

  gtk_editable_set_text (GTK_EDITABLE (self->feedback_entry), g_variant_get_string (parameter, NULL));
}

static void
save_feedback_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  KpReviewWindow *self = KP_REVIEW_WINDOW (widget);
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->feedback_entry));
  g_auto(GStrv) texts = g_settings_get_strv (self->settings, "review-feedback-texts");
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) updated = NULL;

  if (*text == '\0' || g_strv_contains ((const char * const *)texts, text))
    return;
  g_strv_builder_addv (builder, (const char **)texts);
  g_strv_builder_add (builder, text);
  updated = g_strv_builder_end (builder);
  g_settings_set_strv (self->settings, "review-feedback-texts", (const char * const *)updated);
  toast (self, _("Feedback text saved"));
}

static void
remove_feedback_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *parameter)
{
  KpReviewWindow *self = KP_REVIEW_WINDOW (widget);
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->feedback_entry));
  g_auto(GStrv) texts = g_settings_get_strv (self->settings, "review-feedback-texts");
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) updated = NULL;

  if (!g_strv_contains ((const char * const *)texts, text))
    return;
  for (guint i = 0; texts[i] != NULL; i++)
    if (g_strcmp0 (texts[i], text) != 0)
      g_strv_builder_add (builder, texts[i]);
  updated = g_strv_builder_end (builder);
  g_settings_set_strv (self->settings, "review-feedback-texts", (const char * const *)updated);
  gtk_editable_set_text (GTK_EDITABLE (self->feedback_entry), "");
  toast (self, _("Feedback text removed"));
}

static void
feedback_texts_changed_cb (KpReviewWindow *self)
{
  g_auto(GStrv) texts = g_settings_get_strv (self->settings, "review-feedback-texts");
  g_autoptr(GMenu) menu = g_menu_new ();
  g_autoptr(GMenu) edit = g_menu_new ();

  for (guint i = 0; texts[i] != NULL; i++)
    {
      g_autoptr(GMenuItem) item = g_menu_item_new (texts[i], NULL);

      g_menu_item_set_action_and_target (item, "review.use-feedback", "s", texts[i]);
      g_menu_append_item (menu, item);
    }
  g_menu_append (edit, _("Save This Text"), "review.save-feedback");
  g_menu_append (edit, _("Remove This Text"), "review.remove-feedback");
  g_menu_append_section (menu, NULL, G_MENU_MODEL (edit));
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (self->feedback_menu), G_MENU_MODEL (menu));
}

/* ------------------------------------------------------------------ */
/* Construction                                                       */
/* ------------------------------------------------------------------ */

static void
kp_review_window_dispose (GObject *object)
{
  KpReviewWindow *self = KP_REVIEW_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  stop_waiting_for_frame (self);
  forget_next (self);
  g_clear_object (&self->next_overlay);
  self->batch = NULL;
  self->hit = NULL;

  G_OBJECT_CLASS (kp_review_window_parent_class)->dispose (object);

  g_clear_object (&self->model);
  g_clear_object (&self->media);
  g_clear_object (&self->settings);
}

static void
kp_review_window_finalize (GObject *object)
{
  KpReviewWindow *self = KP_REVIEW_WINDOW (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->textures, g_hash_table_unref);
  g_clear_pointer (&self->worker_colors, g_hash_table_unref);
  g_clear_pointer (&self->hidden, g_hash_table_unref);
  g_clear_pointer (&self->rows, g_array_unref);
  g_free (self->image_uri);
  g_free (self->restore_batch);
  g_free (self->restore_hit);
  g_free (self->message);

  G_OBJECT_CLASS (kp_review_window_parent_class)->finalize (object);
}

static void
add_key (GtkShortcutController *controller,
         const char            *accel,
         const char            *action,
         GVariant              *target)
{
  GtkShortcut *shortcut = gtk_shortcut_new (gtk_shortcut_trigger_parse_string (accel),
                                            gtk_named_action_new (action));

  if (target != NULL)
    gtk_shortcut_set_arguments (shortcut, target);
  gtk_shortcut_controller_add_shortcut (controller, shortcut);
}

static void
kp_review_window_class_init (KpReviewWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kp_review_window_dispose;
  object_class->finalize = kp_review_window_finalize;

  gtk_widget_class_install_action (widget_class, "review.approve", NULL, approve_action);
  gtk_widget_class_install_action (widget_class, "review.reject", NULL, reject_action);
  gtk_widget_class_install_action (widget_class, "review.bonus", NULL, bonus_action);
  gtk_widget_class_install_action (widget_class, "review.block", NULL, block_action);
  gtk_widget_class_install_action (widget_class, "review.bulk-approve", NULL, bulk_approve_action);
  gtk_widget_class_install_action (widget_class, "review.next-hit", NULL, next_hit_action);
  gtk_widget_class_install_action (widget_class, "review.previous-hit", NULL, previous_hit_action);
  gtk_widget_class_install_action (widget_class, "review.toggle-worker", "u", toggle_worker_action);
  gtk_widget_class_install_action (widget_class, "review.zoom-fit", NULL, zoom_fit_action);
  gtk_widget_class_install_action (widget_class, "review.refresh", NULL, refresh_action);
  gtk_widget_class_install_action (widget_class, "review.change-keys", NULL, change_keys_action);
  gtk_widget_class_install_action (widget_class, "review.use-feedback", "s", use_feedback_action);
  gtk_widget_class_install_action (widget_class, "review.save-feedback", NULL, save_feedback_action);
  gtk_widget_class_install_action (widget_class, "review.remove-feedback", NULL, remove_feedback_action);

  /* Keys that do not type can be ordinary bindings. */
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_0, GDK_CONTROL_MASK, "review.zoom-fit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_F5, 0, "review.refresh", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, GDK_CONTROL_MASK, "review.refresh", NULL);
}

static GtkWidget *
labelled_button (const char *label,
                 const char *action,
                 const char *tooltip)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (label);

  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  gtk_widget_set_tooltip_text (button, tooltip);
  return button;
}

static GtkWidget *
icon_button (const char *icon,
             const char *action,
             const char *tooltip)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);

  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, tooltip, -1);
  return button;
}

static GtkWidget *
scrolled_list (GtkWidget **list,
               const char *accessible)
{
  GtkWidget *scrolled = gtk_scrolled_window_new ();

  *list = gtk_list_box_new ();
  gtk_widget_add_css_class (*list, "navigation-sidebar");
  gtk_accessible_update_property (GTK_ACCESSIBLE (*list), GTK_ACCESSIBLE_PROPERTY_LABEL, accessible, -1);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), *list);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_widget_set_vexpand (scrolled, TRUE);
  return scrolled;
}

static GtkWidget *
heading (const char *text)
{
  GtkWidget *label = gtk_label_new (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "heading");
  gtk_widget_set_margin_start (label, 12);
  gtk_widget_set_margin_top (label, 6);
  return label;
}

static GtkWidget *
build_decisions (KpReviewWindow *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *feedback = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  GtkWidget *decide = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *bonus = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *bulk = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *button;
  GtkWidget *scrolled;
  GtkWidget *label;

  gtk_widget_set_size_request (box, 380, -1);
  /* The image takes what room there is. */
  gtk_widget_set_hexpand (box, FALSE);
  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);
  gtk_widget_set_margin_bottom (box, 6);

  gtk_box_append (GTK_BOX (box), heading (_("Workers")));
  scrolled = gtk_scrolled_window_new ();
  self->assignment_list = gtk_list_box_new ();
  gtk_widget_add_css_class (self->assignment_list, "boxed-list");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->assignment_list), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Assignments of the HIT, one per worker"), -1);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), self->assignment_list);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scrolled), 320);
  gtk_box_append (GTK_BOX (box), scrolled);
  label = gtk_label_new (_("Thick white outlines: the consolidated answer"));
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_widget_add_css_class (label, "dim-label");
  gtk_widget_add_css_class (label, "caption");
  gtk_box_append (GTK_BOX (box), label);

  self->answers_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (self->answers_label), 0);
  gtk_label_set_selectable (GTK_LABEL (self->answers_label), TRUE);
  gtk_label_set_wrap (GTK_LABEL (self->answers_label), TRUE);
  gtk_box_append (GTK_BOX (box), self->answers_label);

  gtk_box_append (GTK_BOX (box), heading (_("Decision")));
  self->feedback_entry = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (self->feedback_entry), _("Feedback to the worker"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->feedback_entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Feedback to the worker"), -1);
  gtk_widget_set_hexpand (self->feedback_entry, TRUE);
  self->feedback_menu = gtk_menu_button_new ();
  gtk_menu_button_set_icon_name (GTK_MENU_BUTTON (self->feedback_menu), "view-list-symbolic");
  gtk_widget_set_tooltip_text (self->feedback_menu, _("Reusable Feedback"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->feedback_menu), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Reusable feedback"), -1);
  gtk_widget_add_css_class (feedback, "linked");
  gtk_box_append (GTK_BOX (feedback), self->feedback_entry);
  gtk_box_append (GTK_BOX (feedback), self->feedback_menu);
  gtk_box_append (GTK_BOX (box), feedback);

  gtk_box_set_homogeneous (GTK_BOX (decide), TRUE);
  button = labelled_button (_("_Approve"), "review.approve", _("Approve the selected assignment (A)"));
  gtk_widget_add_css_class (button, "suggested-action");
  gtk_box_append (GTK_BOX (decide), button);
  button = labelled_button (_("_Reject"), "review.reject", _("Reject the selected assignment (R)"));
  gtk_widget_add_css_class (button, "destructive-action");
  gtk_box_append (GTK_BOX (decide), button);
  gtk_box_append (GTK_BOX (decide), labelled_button (_("B_lock…"), "review.block",
                                                     _("Block the selected assignment’s worker")));
  gtk_box_append (GTK_BOX (box), decide);

  self->bonus_amount = gtk_spin_button_new_with_range (0, 100, 0.05);
  gtk_spin_button_set_digits (GTK_SPIN_BUTTON (self->bonus_amount), 2);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->bonus_amount), 0.50);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->bonus_amount), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Bonus amount in US dollars"), -1);
  self->bonus_reason = gtk_entry_new ();
  gtk_entry_set_placeholder_text (GTK_ENTRY (self->bonus_reason), _("Reason for the bonus"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->bonus_reason), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Reason for the bonus"), -1);
  gtk_widget_set_hexpand (self->bonus_reason, TRUE);
  label = gtk_label_new ("$");
  gtk_box_append (GTK_BOX (bonus), label);
  gtk_box_append (GTK_BOX (bonus), self->bonus_amount);
  gtk_box_append (GTK_BOX (bonus), self->bonus_reason);
  gtk_box_append (GTK_BOX (bonus), labelled_button (_("_Bonus…"), "review.bonus",
                                                    _("Send the worker a bonus")));
  gtk_box_append (GTK_BOX (box), bonus);

  gtk_box_append (GTK_BOX (box), heading (_("Batch")));
  self->threshold = gtk_spin_button_new_with_range (0, 100, 5);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->threshold), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Agreement in percent"), -1);
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (self->threshold),
                             round (g_settings_get_double (self->settings, "review-approve-threshold") * 100));
  label = gtk_label_new (_("Agreement ≥"));
  gtk_box_append (GTK_BOX (bulk), label);
  gtk_box_append (GTK_BOX (bulk), self->threshold);
  gtk_box_append (GTK_BOX (bulk), gtk_label_new ("%"));
  button = labelled_button (_("Approve _All Above"), "review.bulk-approve",
                            _("Approve every submitted assignment of the batch whose HIT’s agreement "
                              "is at least this"));
  gtk_widget_set_hexpand (button, TRUE);
  gtk_box_append (GTK_BOX (bulk), button);
  gtk_box_append (GTK_BOX (box), bulk);
  self->bulk_progress = gtk_progress_bar_new ();
  gtk_widget_set_visible (self->bulk_progress, FALSE);
  gtk_box_append (GTK_BOX (box), self->bulk_progress);

  return box;
}

static void
threshold_changed_cb (KpReviewWindow *self)
{
  g_settings_set_double (self->settings, "review-approve-threshold",
                         gtk_spin_button_get_value (GTK_SPIN_BUTTON (self->threshold)) / 100);
}

/* Values of textures: NULL while a file: URI loads. */
static void
unref_texture (gpointer texture)
{
  if (texture != NULL)
    g_object_unref (texture);
}

static void
kp_review_window_init (KpReviewWindow *self)
{
  GtkWidget *content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *sidebar = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *detail = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *view = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  GtkWidget *paned = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
  GtkWidget *loading = adw_status_page_new ();
  GtkWidget *spinner = gtk_spinner_new ();
  GtkWidget *nav = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  GtkEventController *keys;
  const char *digits[] = { "1", "2", "3", "4", "5", "6", "7", "8", "9" };

  self->settings = g_settings_new (KP_SETTINGS_SCHEMA_ID);
  self->cancellable = g_cancellable_new ();
  self->media = kp_layout_media_new ();
  kp_layout_media_set_authorizer (self->media, authorize_media, self, NULL);
  self->textures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, unref_texture);
  self->worker_colors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->hidden = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->rows = g_array_new (FALSE, TRUE, sizeof (AssignmentRow));
  g_signal_connect_object (self->media, "finished", G_CALLBACK (media_finished_cb), self, G_CONNECT_SWAPPED);

  gtk_window_set_title (GTK_WINDOW (self), _("Review Desk"));
  gtk_window_set_default_size (GTK_WINDOW (self), 1280, 800);

  self->title = adw_window_title_new (_("Review Desk"), NULL);
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), self->title);
  adw_header_bar_pack_start (ADW_HEADER_BAR (header),
                             icon_button ("view-refresh-symbolic", "review.refresh", _("Reload the HITs (F5)")));
  adw_header_bar_pack_end (ADW_HEADER_BAR (header),
                           icon_button ("system-users-symbolic", "review.change-keys",
                                        _("Sign in with other keys")));
  gtk_box_append (GTK_BOX (content), header);

  /* Sign-in. */
  self->connect = kp_review_connect_new (self->settings, NULL);
  g_signal_connect_object (self->connect, "connected", G_CALLBACK (connected_cb), self, G_CONNECT_SWAPPED);

  /* Loading. */
  gtk_spinner_set_spinning (GTK_SPINNER (spinner), TRUE);
  gtk_widget_set_size_request (spinner, 32, 32);
  adw_status_page_set_title (ADW_STATUS_PAGE (loading), _("Reading the HITs"));
  adw_status_page_set_child (ADW_STATUS_PAGE (loading), spinner);

  /* Batches and HITs. */
  gtk_widget_set_size_request (sidebar, 260, -1);
  gtk_box_append (GTK_BOX (sidebar), heading (_("Batches")));
  gtk_box_append (GTK_BOX (sidebar), scrolled_list (&self->batch_list, _("Batches")));
  gtk_box_append (GTK_BOX (sidebar), heading (_("HITs by Disagreement")));
  gtk_box_append (GTK_BOX (sidebar), scrolled_list (&self->hit_list, _("HITs, most disagreement first")));
  g_signal_connect_swapped (self->batch_list, "row-selected", G_CALLBACK (batch_selected_cb), self);
  g_signal_connect_swapped (self->hit_list, "row-selected", G_CALLBACK (hit_selected_cb), self);

  /* One HIT. */
  self->hit_title = gtk_label_new (NULL);
  gtk_label_set_ellipsize (GTK_LABEL (self->hit_title), PANGO_ELLIPSIZE_MIDDLE);
  gtk_widget_set_hexpand (self->hit_title, TRUE);
  gtk_box_append (GTK_BOX (nav), icon_button ("go-previous-symbolic", "review.previous-hit",
                                              _("Previous HIT (P)")));
  gtk_box_append (GTK_BOX (nav), self->hit_title);
  gtk_box_append (GTK_BOX (nav), icon_button ("zoom-fit-best-symbolic", "review.zoom-fit",
                                              _("Zoom to fit (Ctrl+0)")));
  gtk_box_append (GTK_BOX (nav), icon_button ("go-next-symbolic", "review.next-hit", _("Next HIT (N)")));
  gtk_widget_set_margin_start (nav, 6);
  gtk_widget_set_margin_end (nav, 6);
  gtk_widget_set_margin_top (nav, 6);
  gtk_widget_set_margin_bottom (nav, 6);
  self->overlay = kp_review_overlay_new ();
  gtk_box_append (GTK_BOX (detail), nav);
  gtk_box_append (GTK_BOX (detail), self->overlay);
  gtk_box_append (GTK_BOX (view), detail);
  gtk_box_append (GTK_BOX (view), build_decisions (self));
  g_signal_connect_swapped (self->assignment_list, "row-selected", G_CALLBACK (update_actions), self);

  gtk_paned_set_start_child (GTK_PANED (paned), sidebar);
  gtk_paned_set_end_child (GTK_PANED (paned), view);
  gtk_paned_set_shrink_start_child (GTK_PANED (paned), FALSE);
  gtk_paned_set_position (GTK_PANED (paned), 280);

  self->stack = gtk_stack_new ();
  gtk_stack_add_named (GTK_STACK (self->stack), self->connect, "connect");
  gtk_stack_add_named (GTK_STACK (self->stack), loading, "loading");
  gtk_stack_add_named (GTK_STACK (self->stack), paned, "desk");
  gtk_widget_set_vexpand (self->stack, TRUE);

  self->toasts = adw_toast_overlay_new ();
  adw_toast_overlay_set_child (ADW_TOAST_OVERLAY (self->toasts), self->stack);
  gtk_box_append (GTK_BOX (content), self->toasts);
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (self), content);

  /* Typing keys, after the focused widget (see the top of the file). */
  keys = gtk_shortcut_controller_new ();
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_BUBBLE);
  add_key (GTK_SHORTCUT_CONTROLLER (keys), "a", "review.approve", NULL);
  add_key (GTK_SHORTCUT_CONTROLLER (keys), "r", "review.reject", NULL);
  add_key (GTK_SHORTCUT_CONTROLLER (keys), "n", "review.next-hit", NULL);
  add_key (GTK_SHORTCUT_CONTROLLER (keys), "p", "review.previous-hit", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (digits); i++)
    add_key (GTK_SHORTCUT_CONTROLLER (keys), digits[i], "review.toggle-worker", g_variant_new_uint32 (i));
  gtk_widget_add_controller (GTK_WIDGET (self), keys);

  g_signal_connect_object (self->settings, "changed::review-feedback-texts",
                           G_CALLBACK (feedback_texts_changed_cb), self, G_CONNECT_SWAPPED);
  feedback_texts_changed_cb (self);
  g_signal_connect_swapped (self->threshold, "value-changed", G_CALLBACK (threshold_changed_cb), self);

  show_hit (self);
}

KpReviewWindow *
kp_review_window_new (GtkApplication *application)
{
  return g_object_new (KP_TYPE_REVIEW_WINDOW, "application", application, NULL);
}

/* ------------------------------------------------------------------ */
/* For tests and benchmarks                                           */
/* ------------------------------------------------------------------ */

KpReviewConnect *
_kp_review_window_get_connect (KpReviewWindow *self)
{
  return KP_REVIEW_CONNECT (self->connect);
}

KpReviewOverlay *
_kp_review_window_get_overlay (KpReviewWindow *self)
{
  return KP_REVIEW_OVERLAY (self->overlay);
}

KpReviewModel *
_kp_review_window_get_model (KpReviewWindow *self)
{
  return self->model;
}

void
_kp_review_window_set_model (KpReviewWindow *self,
                             KpReviewModel  *model)
{
  g_set_object (&self->model, model);
  busy_changed (self);
  gtk_stack_set_visible_child_name (GTK_STACK (self->stack), "desk");
  fill_batches (self);
}

gboolean
_kp_review_window_get_busy (KpReviewWindow *self)
{
  return self->busy > 0 || kp_review_connect_get_busy (KP_REVIEW_CONNECT (self->connect));
}

const char *
_kp_review_window_get_message (KpReviewWindow *self)
{
  return self->message;
}

void
_kp_review_window_clear_message (KpReviewWindow *self)
{
  g_clear_pointer (&self->message, g_free);
}

AdwMessageDialog *
_kp_review_window_get_dialog (KpReviewWindow *self)
{
  return self->dialog;
}

KpReviewBatch *
_kp_review_window_get_batch (KpReviewWindow *self)
{
  return self->batch;
}

const char *
_kp_review_window_get_batch_progress (KpReviewWindow *self,
                                      guint           index)
{
  GtkListBoxRow *row = gtk_list_box_get_row_at_index (GTK_LIST_BOX (self->batch_list), index);

  return row != NULL ? adw_action_row_get_subtitle (ADW_ACTION_ROW (row)) : NULL;
}

KpReviewHit *
_kp_review_window_get_hit (KpReviewWindow *self)
{
  return self->hit;
}

guint
_kp_review_window_get_hit_index (KpReviewWindow *self)
{
  return self->hit_index;
}

void
_kp_review_window_select_assignment (KpReviewWindow *self,
                                     guint           index)
{
  GtkListBoxRow *row = gtk_list_box_get_row_at_index (GTK_LIST_BOX (self->assignment_list), index);

  if (row != NULL)
    gtk_list_box_select_row (GTK_LIST_BOX (self->assignment_list), row);
}

const char *
_kp_review_window_get_answers_text (KpReviewWindow *self)
{
  return gtk_label_get_text (GTK_LABEL (self->answers_label));
}

GtkWidget *
_kp_review_window_get_feedback_entry (KpReviewWindow *self)
{
  return self->feedback_entry;
}

GtkWidget *
_kp_review_window_get_bonus_amount (KpReviewWindow *self)
{
  return self->bonus_amount;
}

GtkWidget *
_kp_review_window_get_bonus_reason (KpReviewWindow *self)
{
  return self->bonus_reason;
}

GtkWidget *
_kp_review_window_get_threshold (KpReviewWindow *self)
{
  return self->threshold;
}

gboolean
_kp_review_window_has_image (KpReviewWindow *self,
                             const char     *uri)
{
  if (g_str_has_prefix (uri, "file:"))
    return g_hash_table_lookup (self->textures, uri) != NULL;
  return g_hash_table_lookup (self->textures, uri) != NULL ||
         kp_layout_media_request (self->media, uri, TRUE, NULL, NULL) == KP_LAYOUT_MEDIA_LOADED;
}

gboolean
_kp_review_window_next_composed (KpReviewWindow *self)
{
  g_return_val_if_fail (KP_IS_REVIEW_WINDOW (self), FALSE);
  return self->next_composite != NULL;
}
