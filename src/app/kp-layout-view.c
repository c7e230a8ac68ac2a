/* kp-layout-view.c: a HIT layout rendered with native widgets
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The view walks the KpLayout tree once and builds a widget for each
 * node. Runs of inline HTML (text, emphasis, links) become one wrapping
 * GtkLabel with Pango markup; blocks become boxes, lists, grids and
 * pictures; every answerable element becomes a Control, which knows how
 * to read its widgets' state as the widget value kp-layout-answer.c
 * documents. Answers are never shaped here: the values go through
 * kp_layout_form_answer(), whose problems (with the element's line and
 * column) are mapped back to the Control that shows them.
 *
 * Every image element a worker draws on is a KpCanvas with the
 * workstation's tool for it (kp_tool_new_for_kind()): boxes, polygons,
 * lines, polylines and keypoints; the two segmentation elements paint
 * MASK objects with the brush and eraser, and their value is MTurk's
 * labeled PNG built from the masks. (KpLayoutShapes only shows
 * crowd-image-classifier's overlay.) KpCanvas edits a
 * KpDocument, which lives in a KpStore: the view keeps one store in a
 * temporary folder, made the first time a canvas is shown (so a layout
 * with many boxes builds fast) and removed with the view.
 *
 * Each Control can also be written (control_set_value(), a worker's
 * draft) and reports the worker's edits (control_changed(), hooked up
 * once its slice is built, so building is no change). http(s) media goes
 * through KpLayoutMedia; a Waiter gives the widget its image when it
 * arrives.
 */

#include "config.h"

#include "kp-layout-view.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include "kp-audio-segmenter.h"
#include "kp-brush-tool.h"
#include "kp-canvas.h"
#include "kp-layout-media.h"
#include "kp-layout-shapes.h"
#include "kp-video-tracker.h"
#include "kp-layout-src-private.h"

#define PLACEHOLDER_WIDTH  640
#define PLACEHOLDER_HEIGHT 480

typedef enum
{
  CONTROL_ENTRY,        /* GtkEntry */
  CONTROL_TEXT_VIEW,    /* GtkTextView */
  CONTROL_DROP_DOWN,    /* GtkDropDown over values */
  CONTROL_TOGGLE,       /* GtkCheckButton / GtkSwitch: shares an object with toggles of its name */
  CONTROL_RADIO_GROUP,  /* crowd-radio-group: choices */
  CONTROL_CHOICE,       /* a classifier: one of choices */
  CONTROL_MULTI,        /* a multi-select classifier: some of choices */
  CONTROL_SLIDER,       /* GtkScale */
  CONTROL_CANVAS,       /* KpCanvas */
  CONTROL_ENTITIES,     /* crowd-entity-annotation */
  CONTROL_SELECTION,    /* a QuestionForm SelectionAnswer: choices, list box or drop-down */
  CONTROL_FILE,         /* a QuestionForm FileUploadAnswer */
  CONTROL_AUDIO,        /* KpAudioSegmenter */
  CONTROL_VIDEO,        /* KpVideoTracker */
  CONTROL_NONE,         /* shown as a placeholder; answers nothing */
} ControlKind;

typedef struct
{
  char *label;
  int   start;   /* characters */
  int   end;
} Entity;

typedef struct
{
  KpLayoutView       *view;
  const KpLayoutNode *node;
  ControlKind         kind;
  const char         *key;
  GtkWidget          *widget;
  GtkWidget          *error_label;
  GPtrArray          *choices;        /* GtkWidget * */
  GPtrArray          *choice_values;  /* char * */
  GtkWidget          *other_entry;
  GtkWidget          *list_box;
  GStrv               values;         /* CONTROL_DROP_DOWN / list: the value of each item */
  gboolean            touched;
  gboolean            watched;        /* its widgets report changes */
  JsonNode           *draft;          /* CANVAS: boxes set before its document exists */
  GdkTexture         *texture;
  KpDocument         *document;
  GHashTable         *label_names;    /* CANVAS: label id → name (borrowed from the view) */
  GHashTable         *mask_areas;     /* semantic: MASK id → its area, to tell a brush stroke */
  gboolean            separating;
  GArray             *entities;       /* Entity */
  char               *file_key;
  gint64              file_size;
  GtkWidget          *text_label;     /* FILE: the chosen file */
} Control;

struct _KpLayoutView
{
  GtkWidget          parent_instance;

  GtkWidget         *scroller;
  GtkWidget         *holder;          /* the page, and old ones waiting to be freed */
  GtkWidget         *content;

  KpLayout          *layout;
  GFile             *base;
  KpLayoutMediaFunc  media_func;
  gpointer           media_data;
  GDestroyNotify     media_destroy;
  char              *external[4];

  GPtrArray         *controls;        /* Control * */
  GHashTable        *by_key;          /* key → first Control */
  GHashTable        *by_position;     /* "line:column" → Control */
  GHashTable        *textures;        /* uri → GdkTexture, or a NULL value for a failure */
  GHashTable        *radio_groups;    /* name → first GtkCheckButton of an <input type=radio> group */
  GPtrArray         *problems;
  GPtrArray         *windows;         /* crowd-modal windows */
  GdkTexture        *placeholder;
  KpLayoutMedia     *media;           /* http(s) media, kept across layouts */
  GPtrArray         *waiting;         /* Waiter *: nodes whose media is being fetched */
  GtkWidget         *submit_button;
  gboolean           has_submit;

  /* The store behind the boxes. */
  char              *store_folder;
  KpStore           *store;
  GHashTable        *label_ids;       /* name → id */
  GHashTable        *label_names;     /* id → name */
  guint              n_media;         /* stand-in media files in the store's folder */

  /* Long layouts are built a slice at a time: what fills the first
   * screen at once, the rest between frames. */
  GQueue            *pending;         /* Pending *, in document order */
  GPtrArray         *new_pending;     /* Pending * made by the slice being built */
  gint64             deadline;        /* of the slice being built; 0 for none */
  int                height_budget;   /* the first slice: pixels to fill; 0 for none */
  int                height_used;     /* an estimate of what it built so far */
  guint              pending_id;
  gboolean           built;
  gboolean           store_ready;     /* the canvases of this tree have their documents */

  guint              n_watched;       /* controls whose changes are watched */
  guint              changed_id;
  guint              problems_id;     /* "problems-changed" pending */
  gboolean           setting;         /* in kp_layout_view_set_values() */
};

G_DEFINE_FINAL_TYPE (KpLayoutView, kp_layout_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_LAYOUT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  SUBMITTED,
  BUILT,
  CHANGED,
  PROBLEMS_CHANGED,
  N_SIGNALS
};

/* Building time per slice, in microseconds: the first screen, then
 * between frames. */
#define FIRST_SLICE_US 12000
#define IDLE_SLICE_US  8000

typedef enum
{
  BUILD_RESUMABLE  = 1 << 0,  /* may stop at the slice's deadline */
  BUILD_ADD_SUBMIT = 1 << 1,  /* a crowd-form: Submit after the content */
} BuildFlags;

/* The rest of a container, built later. */
typedef struct
{
  GtkWidget          *box;
  const KpLayoutNode *node;
  guint               next;
  BuildFlags          flags;
} Pending;

static guint signals[N_SIGNALS];

static void build_children (KpLayoutView       *self,
                            GtkWidget          *box,
                            const KpLayoutNode *node);
static gboolean build_children_from (KpLayoutView       *self,
                                     GtkWidget          *box,
                                     const KpLayoutNode *node,
                                     guint               start,
                                     BuildFlags          flags);
static GtkWidget *build_submit (KpLayoutView *self);
static GtkWidget *build_node (KpLayoutView       *self,
                              const KpLayoutNode *node);

/* Controls */

static void
control_free (Control *control)
{
  g_clear_pointer (&control->choices, g_ptr_array_unref);
  g_clear_pointer (&control->choice_values, g_ptr_array_unref);
  g_clear_pointer (&control->values, g_strfreev);
  g_clear_object (&control->texture);
  if (control->document != NULL)
    g_signal_handlers_disconnect_by_data (control->document, control);
  g_clear_object (&control->document);
  g_clear_pointer (&control->draft, json_node_unref);
  g_clear_pointer (&control->entities, g_array_unref);
  g_clear_pointer (&control->mask_areas, g_hash_table_unref);
  g_free (control->file_key);
  g_free (control);
}

static const char *
node_key (const KpLayoutNode *node)
{
  /* As core keys the values: a radio group by its id or, lacking one,
   * its first button's name. */
  if (node->kind == KP_LAYOUT_NODE_CROWD_RADIO_GROUP)
    {
      const char *id = kp_layout_node_get_attribute (node, "id");

      if (id != NULL && *id != '\0')
        return id;
      for (guint i = 0; i < node->children->len; i++)
        {
          const KpLayoutNode *child = g_ptr_array_index (node->children, i);

          if (child->kind == KP_LAYOUT_NODE_CROWD_RADIO_BUTTON)
            return kp_layout_node_get_attribute (child, "name");
        }
      return NULL;
    }

  return kp_layout_node_get_attribute (node, "name");
}

static char *
position_key (int line,
              int column)
{
  return g_strdup_printf ("%d:%d", line, column);
}

static Control *
control_new (KpLayoutView       *self,
             const KpLayoutNode *node,
             ControlKind         kind,
             GtkWidget          *widget)
{
  Control *control = g_new0 (Control, 1);

  control->view = self;
  control->node = node;
  control->kind = kind;
  control->key = node_key (node);
  control->widget = widget;
  control->choices = g_ptr_array_new ();
  control->choice_values = g_ptr_array_new_with_free_func (g_free);
  control->error_label = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (control->error_label), 0);
  gtk_label_set_wrap (GTK_LABEL (control->error_label), TRUE);
  gtk_widget_add_css_class (control->error_label, "error");
  gtk_widget_add_css_class (control->error_label, "caption");
  gtk_widget_set_visible (control->error_label, FALSE);

  g_ptr_array_add (self->controls, control);
  if (control->key != NULL && !g_hash_table_contains (self->by_key, control->key))
    g_hash_table_insert (self->by_key, (gpointer)control->key, control);
  g_hash_table_insert (self->by_position, position_key (node->line, node->column), control);

  return control;
}

static void
control_add_choice (Control    *control,
                    GtkWidget  *button,
                    const char *value)
{
  g_ptr_array_add (control->choices, button);
  g_ptr_array_add (control->choice_values, g_strdup (value));
}

/* "changed", once per main loop iteration */

static gboolean
emit_changed_cb (gpointer user_data)
{
  KpLayoutView *self = user_data;

  self->changed_id = 0;
  g_signal_emit (self, signals[CHANGED], 0);

  return G_SOURCE_REMOVE;
}

/* Connected swapped to any widget signal: the arguments after the
 * control are ignored. */
static void
control_changed (Control *control)
{
  KpLayoutView *self = control->view;

  if (!control->watched || self->setting || self->changed_id != 0)
    return;
  self->changed_id = g_idle_add_full (G_PRIORITY_DEFAULT, emit_changed_cb, self, NULL);
}

static void
watch_toggle (GtkWidget *widget,
              Control   *control)
{
  if (GTK_IS_SWITCH (widget))
    g_signal_connect_swapped (widget, "notify::active", G_CALLBACK (control_changed), control);
  else if (GTK_IS_CHECK_BUTTON (widget) || GTK_IS_TOGGLE_BUTTON (widget))
    g_signal_connect_swapped (widget, "toggled", G_CALLBACK (control_changed), control);
}

/* Hooks the widgets of the controls built since the last call up to
 * control_changed(); built before, their initial state is no change. */
static void
watch_new_controls (KpLayoutView *self)
{
  for (; self->n_watched < self->controls->len; self->n_watched++)
    {
      Control *control = g_ptr_array_index (self->controls, self->n_watched);

      switch (control->kind)
        {
        case CONTROL_ENTRY:
          g_signal_connect_swapped (control->widget, "changed", G_CALLBACK (control_changed), control);
          break;
        case CONTROL_TEXT_VIEW:
          g_signal_connect_swapped (gtk_text_view_get_buffer (GTK_TEXT_VIEW (control->widget)), "changed",
                                    G_CALLBACK (control_changed), control);
          break;
        case CONTROL_DROP_DOWN:
          g_signal_connect_swapped (control->widget, "notify::selected", G_CALLBACK (control_changed), control);
          break;
        case CONTROL_TOGGLE:
          watch_toggle (control->widget, control);
          break;
        case CONTROL_RADIO_GROUP:
        case CONTROL_CHOICE:
        case CONTROL_MULTI:
          for (guint i = 0; i < control->choices->len; i++)
            watch_toggle (g_ptr_array_index (control->choices, i), control);
          break;
        case CONTROL_SLIDER:
          g_signal_connect_swapped (control->widget, "value-changed", G_CALLBACK (control_changed), control);
          break;
        case CONTROL_AUDIO:
        case CONTROL_VIDEO:
          g_signal_connect_swapped (control->widget, "changed", G_CALLBACK (control_changed), control);
          break;
        case CONTROL_SELECTION:
          if (GTK_IS_DROP_DOWN (control->widget))
            g_signal_connect_swapped (control->widget, "notify::selected", G_CALLBACK (control_changed), control);
          else if (control->list_box != NULL)
            g_signal_connect_swapped (control->list_box, "selected-rows-changed",
                                      G_CALLBACK (control_changed), control);
          else
            for (guint i = 0; i < control->choices->len; i++)
              watch_toggle (g_ptr_array_index (control->choices, i), control);
          if (control->other_entry != NULL)
            g_signal_connect_swapped (control->other_entry, "changed", G_CALLBACK (control_changed), control);
          break;
        case CONTROL_CANVAS:     /* its document, once made */
        case CONTROL_ENTITIES:   /* entities_changed() */
        case CONTROL_FILE:       /* file_chosen_cb() */
        case CONTROL_NONE:
        default:
          break;
        }
      control->watched = TRUE;
    }
}

static gboolean
widget_get_active (GtkWidget *widget)
{
  if (GTK_IS_CHECK_BUTTON (widget))
    return gtk_check_button_get_active (GTK_CHECK_BUTTON (widget));
  if (GTK_IS_TOGGLE_BUTTON (widget))
    return gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (widget));
  if (GTK_IS_SWITCH (widget))
    return gtk_switch_get_active (GTK_SWITCH (widget));

  return FALSE;
}

/* Labels every control with the text the worker reads next to it. */
static void
label_widget (GtkWidget  *widget,
              GtkWidget  *label,
              const char *text)
{
  if (label != NULL)
    gtk_accessible_update_relation (GTK_ACCESSIBLE (widget),
                                    GTK_ACCESSIBLE_RELATION_LABELLED_BY, label, NULL,
                                    -1);
  else if (text != NULL && *text != '\0')
    gtk_accessible_update_property (GTK_ACCESSIBLE (widget),
                                    GTK_ACCESSIBLE_PROPERTY_LABEL, text,
                                    -1);
}

static void
add_problem (KpLayoutView       *self,
             const KpLayoutNode *node,
             const char         *format,
             ...) G_GNUC_PRINTF (3, 4);

static void
add_problem (KpLayoutView       *self,
             const KpLayoutNode *node,
             const char         *format,
             ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  kp_layout_problems_add (self->problems, KP_LAYOUT_SEVERITY_WARNING, node->line, node->column,
                          "%s", message);
}

/* Media */

static GdkTexture *
load_data_uri (const char  *uri,
               GError     **error)
{
  const char *comma = strchr (uri, ',');
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *header = NULL;

  if (comma == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("The data: URL has no data"));
      return NULL;
    }

  header = g_strndup (uri, comma - uri);
  if (g_str_has_suffix (header, ";base64"))
    {
      gsize len = 0;
      guchar *data = g_base64_decode (comma + 1, &len);

      bytes = g_bytes_new_take (data, len);
    }
  else
    {
      char *data = g_uri_unescape_string (comma + 1, NULL);

      if (data == NULL)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("The data: URL is not valid"));
          return NULL;
        }
      bytes = g_bytes_new_take (data, strlen (data));
    }

  return gdk_texture_new_from_bytes (bytes, error);
}

static GdkTexture *
default_load_media (KpLayoutView  *self,
                    const char    *uri,
                    GError       **error)
{
  const char *scheme = g_uri_peek_scheme (uri);
  g_autofree char *path = NULL;
  g_autoptr(GFile) file = NULL;

  if (g_strcmp0 (scheme, "data") == 0)
    return load_data_uri (uri, error);

  if (g_strcmp0 (scheme, "http") == 0 || g_strcmp0 (scheme, "https") == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           _("the preview does not fetch remote media"));
      return NULL;
    }

  /* Other schemes (file:, s3:, …) are never loaded: core reports them. */
  if (scheme != NULL || self->base == NULL || *uri == '\0' || uri[0] == '/')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           _("only data: URLs and files beside the template are loaded"));
      return NULL;
    }

  /* A relative path, without its query or fragment, inside the
   * template's folder. */
  path = g_strndup (uri, strcspn (uri, "?#"));
  {
    g_autofree char *unescaped = g_uri_unescape_string (path, NULL);

    file = g_file_resolve_relative_path (self->base, unescaped != NULL ? unescaped : path);
  }
  if (!g_file_has_prefix (file, self->base))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                           _("the file is outside the template’s folder"));
      return NULL;
    }

  return gdk_texture_new_from_file (file, error);
}

static GdkTexture *
get_placeholder (KpLayoutView *self)
{
  cairo_surface_t *surface;
  cairo_t *cr;
  g_autoptr(GBytes) bytes = NULL;
  int stride;

  if (self->placeholder != NULL)
    return self->placeholder;

  /* A grey frame crossed by its diagonals: clearly not the image. */
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, PLACEHOLDER_WIDTH, PLACEHOLDER_HEIGHT);
  cr = cairo_create (surface);
  cairo_set_source_rgb (cr, 0.85, 0.85, 0.85);
  cairo_paint (cr);
  cairo_set_source_rgb (cr, 0.6, 0.6, 0.6);
  cairo_set_line_width (cr, 4);
  cairo_rectangle (cr, 2, 2, PLACEHOLDER_WIDTH - 4, PLACEHOLDER_HEIGHT - 4);
  cairo_move_to (cr, 0, 0);
  cairo_line_to (cr, PLACEHOLDER_WIDTH, PLACEHOLDER_HEIGHT);
  cairo_move_to (cr, PLACEHOLDER_WIDTH, 0);
  cairo_line_to (cr, 0, PLACEHOLDER_HEIGHT);
  cairo_stroke (cr);
  cairo_destroy (cr);
  cairo_surface_flush (surface);

  stride = cairo_image_surface_get_stride (surface);
  bytes = g_bytes_new (cairo_image_surface_get_data (surface), (gsize)stride * PLACEHOLDER_HEIGHT);
  cairo_surface_destroy (surface);
  self->placeholder = gdk_memory_texture_new (PLACEHOLDER_WIDTH, PLACEHOLDER_HEIGHT,
                                              GDK_MEMORY_DEFAULT, bytes, stride);

  return self->placeholder;
}

/* http(s) media: fetched by self->media; until it arrives a Waiter
 * remembers the node and the widget showing its placeholder. */
typedef struct
{
  const KpLayoutNode *node;
  char               *uri;
  GtkWidget          *widget;   /* weak; NULL for audio and video, or until attached */
} Waiter;

static void
waiter_free (Waiter *waiter)
{
  if (waiter->widget != NULL)
    g_object_remove_weak_pointer (G_OBJECT (waiter->widget), (gpointer *)&waiter->widget);
  g_free (waiter->uri);
  g_free (waiter);
}

static int compare_problems (gconstpointer a,
                             gconstpointer b);

static void
add_unreachable (KpLayoutView       *self,
                 const KpLayoutNode *node,
                 const char         *uri,
                 const GError       *error)
{
  g_autofree char *shown = g_utf8_strlen (uri, -1) > 80 ? g_utf8_substring (uri, 0, 80) : g_strdup (uri);

  kp_layout_problems_add (self->problems, KP_LAYOUT_SEVERITY_ERROR, node->line, node->column,
                          _("Unreachable media: “%s” of <%s> (%s)"), shown, node->tag,
                          error != NULL ? error->message : "?");
}

/* Lets the widget showing a node's placeholder get the media once it
 * arrives. */
static void
attach_waiter (KpLayoutView       *self,
               const KpLayoutNode *node,
               GtkWidget          *widget)
{
  for (guint i = 0; i < self->waiting->len; i++)
    {
      Waiter *waiter = g_ptr_array_index (self->waiting, i);

      if (waiter->node == node && waiter->widget == NULL)
        {
          waiter->widget = widget;
          g_object_add_weak_pointer (G_OBJECT (widget), (gpointer *)&waiter->widget);
        }
    }
}

static Control *lookup_node_control (KpLayoutView       *self,
                                     const KpLayoutNode *node);

static gboolean
emit_problems_changed_cb (gpointer user_data)
{
  KpLayoutView *self = user_data;

  self->problems_id = 0;
  g_ptr_array_sort (self->problems, compare_problems);
  g_signal_emit (self, signals[PROBLEMS_CHANGED], 0);

  return G_SOURCE_REMOVE;
}

static void
media_finished_cb (KpLayoutMedia *media,
                   const char    *uri,
                   KpLayoutView  *self)
{
  gboolean problems = FALSE;

  for (guint i = self->waiting->len; i > 0; i--)
    {
      Waiter *waiter = g_ptr_array_index (self->waiting, i - 1);
      GdkTexture *texture = NULL;
      const GError *error = NULL;
      KpLayoutMediaState state;
      Control *control;

      if (!g_str_equal (waiter->uri, uri))
        continue;
      state = kp_layout_media_request (media, uri, waiter->widget != NULL, &texture, &error);
      if (state == KP_LAYOUT_MEDIA_LOADING)
        continue;

      if (state == KP_LAYOUT_MEDIA_FAILED)
        {
          add_unreachable (self, waiter->node, uri, error);
          problems = TRUE;
        }
      else if (texture != NULL)
        {
          g_hash_table_replace (self->textures, g_strdup (uri), g_object_ref (texture));
          control = lookup_node_control (self, waiter->node);
          if (control != NULL && control->texture != NULL)
            g_set_object (&control->texture, texture);
          if (GTK_IS_PICTURE (waiter->widget))
            {
              gtk_picture_set_paintable (GTK_PICTURE (waiter->widget), GDK_PAINTABLE (texture));
              gtk_widget_set_size_request (waiter->widget, MIN (gdk_texture_get_width (texture), 480),
                                           MIN (gdk_texture_get_height (texture), 360));
            }
          else if (KP_IS_CANVAS (waiter->widget))
            kp_canvas_set_texture (KP_CANVAS (waiter->widget), texture);
          else if (KP_IS_LAYOUT_SHAPES (waiter->widget))
            kp_layout_shapes_set_texture (KP_LAYOUT_SHAPES (waiter->widget), texture);
        }
      g_ptr_array_remove_index (self->waiting, i - 1);
    }

  /* Many images fail together, or one after the other (a page of them
   * on one host): the problem list is redone once for all of them, or
   * every 2 s while more are on their way. */
  if (problems && self->problems_id == 0)
    self->problems_id = g_timeout_add_full (G_PRIORITY_LOW, self->waiting->len == 0 ? 100 : 2000,
                                            emit_problems_changed_cb, self, NULL);
}

/* Fetches http(s) media with the default loader: the texture when it is
 * there (or NULL, with a problem, when it cannot be), else the
 * placeholder and a Waiter. audio and video are only checked. */
static GdkTexture *
request_remote (KpLayoutView       *self,
                const KpLayoutNode *node,
                const char         *uri,
                gboolean            image)
{
  GdkTexture *texture = NULL;
  const GError *error = NULL;
  KpLayoutMediaState state;

  if (self->media == NULL)
    {
      self->media = kp_layout_media_new ();
      g_signal_connect_object (self->media, "finished", G_CALLBACK (media_finished_cb), self, 0);
    }

  state = kp_layout_media_request (self->media, uri, image, &texture, &error);
  if (state == KP_LAYOUT_MEDIA_FAILED)
    {
      add_unreachable (self, node, uri, error);
      return NULL;
    }
  if (state == KP_LAYOUT_MEDIA_LOADING)
    {
      Waiter *waiter = g_new0 (Waiter, 1);

      waiter->node = node;
      waiter->uri = g_strdup (uri);
      g_ptr_array_add (self->waiting, waiter);
      return image ? get_placeholder (self) : NULL;
    }

  return texture;
}

/* The texture of a node's media attribute; NULL when it could not be
 * loaded (a warning names why) and placeholder is FALSE, else the
 * placeholder. */
static GdkTexture *
load_texture (KpLayoutView       *self,
              const KpLayoutNode *node,
              const char         *attribute,
              gboolean            placeholder)
{
  const char *uri = kp_layout_node_get_attribute (node, attribute);
  GdkTexture *texture = NULL;
  gpointer cached;

  if (uri == NULL || *uri == '\0')
    return placeholder ? get_placeholder (self) : NULL;

  if (g_hash_table_lookup_extended (self->textures, uri, NULL, &cached))
    texture = cached;
  else if (self->media_func == NULL && kp_layout_media_is_remote (uri))
    {
      texture = request_remote (self, node, uri, TRUE);
      if (texture != NULL && texture != get_placeholder (self))
        g_hash_table_insert (self->textures, g_strdup (uri), g_object_ref (texture));
      if (texture == NULL && placeholder)
        return get_placeholder (self);
      return texture;
    }
  else
    {
      g_autoptr(GError) error = NULL;

      if (self->media_func != NULL)
        texture = self->media_func (uri, self->media_data, &error);
      else
        texture = default_load_media (self, uri, &error);

      g_hash_table_insert (self->textures, g_strdup (uri), texture);
      if (texture == NULL)
        {
          g_autofree char *shown = g_utf8_strlen (uri, -1) > 80 ? g_utf8_substring (uri, 0, 80)
                                                                : g_strdup (uri);

          if (placeholder)
            add_problem (self, node,
                         _("The image “%s” of <%s> is not shown (%s); a %d×%d placeholder stands in for it"),
                         shown, node->tag, error != NULL ? error->message : "?",
                         PLACEHOLDER_WIDTH, PLACEHOLDER_HEIGHT);
          else
            add_problem (self, node, _("The image “%s” of <%s> is not shown (%s)"),
                         shown, node->tag, error != NULL ? error->message : "?");
        }
    }

  if (texture == NULL && placeholder)
    return get_placeholder (self);

  return texture;
}

/* Inline content */

static gboolean
is_inline (const KpLayoutNode *node)
{
  switch (node->kind)
    {
    case KP_LAYOUT_NODE_TEXT:
      return TRUE;
    case KP_LAYOUT_NODE_LINE_BREAK:
      return g_strcmp0 (node->tag, "br") == 0;
    case KP_LAYOUT_NODE_EMPHASIS:
    case KP_LAYOUT_NODE_STRONG:
    case KP_LAYOUT_NODE_LINK:
    case KP_LAYOUT_NODE_INLINE:
      for (guint i = 0; i < node->children->len; i++)
        if (!is_inline (g_ptr_array_index (node->children, i)))
          return FALSE;
      return TRUE;
    default:
      return FALSE;
    }
}

static void
append_markup (GString            *markup,
               GString            *plain,
               const KpLayoutNode *node)
{
  const char *open = NULL, *close = NULL;
  g_autofree char *link = NULL;

  switch (node->kind)
    {
    case KP_LAYOUT_NODE_TEXT:
      {
        g_autofree char *escaped = g_markup_escape_text (node->text != NULL ? node->text : "", -1);

        g_string_append (markup, escaped);
        g_string_append (plain, node->text != NULL ? node->text : "");
      }
      return;
    case KP_LAYOUT_NODE_LINE_BREAK:
      g_string_append_c (markup, '\n');
      return;
    case KP_LAYOUT_NODE_EMPHASIS:
      open = "<i>", close = "</i>";
      break;
    case KP_LAYOUT_NODE_STRONG:
      open = "<b>", close = "</b>";
      break;
    case KP_LAYOUT_NODE_LINK:
      {
        const char *href = kp_layout_node_get_attribute (node, "href");

        if (href != NULL && *href != '\0')
          {
            g_autofree char *stripped = g_strstrip (g_strdup (href));
            g_autofree char *escaped = g_markup_escape_text (stripped, -1);

            link = g_strdup_printf ("<a href=\"%s\">", escaped);
            open = link, close = "</a>";
          }
      }
      break;
    case KP_LAYOUT_NODE_INLINE:
      if (g_strcmp0 (node->tag, "code") == 0 || g_strcmp0 (node->tag, "kbd") == 0 ||
          g_strcmp0 (node->tag, "tt") == 0 || g_strcmp0 (node->tag, "samp") == 0)
        open = "<tt>", close = "</tt>";
      else if (g_strcmp0 (node->tag, "small") == 0)
        open = "<small>", close = "</small>";
      else if (g_strcmp0 (node->tag, "u") == 0 || g_strcmp0 (node->tag, "ins") == 0)
        open = "<u>", close = "</u>";
      else if (g_strcmp0 (node->tag, "s") == 0 || g_strcmp0 (node->tag, "del") == 0)
        open = "<s>", close = "</s>";
      else if (g_strcmp0 (node->tag, "sub") == 0)
        open = "<sub>", close = "</sub>";
      else if (g_strcmp0 (node->tag, "sup") == 0)
        open = "<sup>", close = "</sup>";
      break;
    default:
      break;
    }

  if (open != NULL)
    g_string_append (markup, open);
  for (guint i = 0; i < node->children->len; i++)
    append_markup (markup, plain, g_ptr_array_index (node->children, i));
  if (close != NULL)
    g_string_append (markup, close);
}

static gboolean
activate_link_cb (GtkLabel   *label,
                  const char *uri,
                  gpointer    user_data)
{
  const char *scheme = g_uri_peek_scheme (uri);

  /* Only web and mail links open; javascript: and the like do nothing. */
  if (g_strcmp0 (scheme, "http") == 0 || g_strcmp0 (scheme, "https") == 0 ||
      g_strcmp0 (scheme, "mailto") == 0)
    {
      GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (label));

      gtk_show_uri (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, uri, GDK_CURRENT_TIME);
    }

  return TRUE;
}

static GtkWidget *
new_text_label (const char *markup,
                gboolean    use_markup)
{
  GtkWidget *label = gtk_label_new (NULL);

  if (use_markup)
    gtk_label_set_markup (GTK_LABEL (label), markup);
  else
    gtk_label_set_text (GTK_LABEL (label), markup);
  /* Wrapping labels cost several layouts to measure: short ones, the
   * most of a page, fit a line anyway. */
  if (strlen (markup) > 48)
    {
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
    }
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_selectable (GTK_LABEL (label), FALSE);
  g_signal_connect (label, "activate-link", G_CALLBACK (activate_link_cb), NULL);

  return label;
}

static void
flush_inline (GtkWidget *box,
              GString   *markup,
              GString   *plain)
{
  g_autofree char *stripped = g_strstrip (g_strdup (plain->str));

  if (*stripped != '\0')
    {
      /* Whitespace at the ends of a run is layout, not content. */
      g_autofree char *text = g_strstrip (g_strdup (markup->str));

      gtk_box_append (GTK_BOX (box), new_text_label (text, TRUE));
    }

  g_string_truncate (markup, 0);
  g_string_truncate (plain, 0);
}

static GtkWidget *
new_box (GtkOrientation orientation,
         int            spacing)
{
  return gtk_box_new (orientation, spacing);
}

static GtkWidget *
with_error (Control   *control,
            GtkWidget *widget)
{
  GtkWidget *box = new_box (GTK_ORIENTATION_VERTICAL, 4);

  gtk_box_append (GTK_BOX (box), widget);
  gtk_box_append (GTK_BOX (box), control->error_label);

  return box;
}

static GtkWidget *
new_heading (const char *text,
             int         level)
{
  GtkWidget *label = new_text_label (text, FALSE);
  static const char * const classes[] = { "title-1", "title-1", "title-2", "title-3", "title-4", "heading", "heading" };

  gtk_widget_add_css_class (label, classes[CLAMP (level, 0, 6)]);
  gtk_accessible_update_property (GTK_ACCESSIBLE (label), GTK_ACCESSIBLE_PROPERTY_LEVEL, CLAMP (level, 1, 6), -1);

  return label;
}

/* Regions of crowd elements */

static const KpLayoutNode *
find_child (const KpLayoutNode *node,
            KpLayoutNodeKind    kind)
{
  for (guint i = 0; i < node->children->len; i++)
    {
      const KpLayoutNode *child = g_ptr_array_index (node->children, i);

      if (child->kind == kind)
        return child;
    }

  return NULL;
}

static gboolean
is_region (const KpLayoutNode *node)
{
  return node->kind >= KP_LAYOUT_NODE_REGION_SHORT_INSTRUCTIONS &&
         node->kind <= KP_LAYOUT_NODE_REGION_NEGATIVE_EXAMPLE;
}

static gboolean
children_inline (const KpLayoutNode *node)
{
  for (guint i = 0; i < node->children->len; i++)
    if (!is_inline (g_ptr_array_index (node->children, i)))
      return FALSE;

  return TRUE;
}

static GtkWidget *
build_block (KpLayoutView       *self,
             const KpLayoutNode *node,
             int                 spacing)
{
  GtkWidget *box;

  /* Text alone is one label, without a box around it. */
  if (node->children->len > 0 && children_inline (node))
    {
      g_autoptr(GString) markup = g_string_new (NULL);
      g_autoptr(GString) plain = g_string_new (NULL);
      g_autofree char *stripped = NULL;

      for (guint i = 0; i < node->children->len; i++)
        append_markup (markup, plain, g_ptr_array_index (node->children, i));
      stripped = g_strstrip (g_strdup (plain->str));
      if (*stripped != '\0')
        return new_text_label (g_strstrip (markup->str), TRUE);
    }

  box = new_box (GTK_ORIENTATION_VERTICAL, spacing);
  build_children (self, box, node);

  return box;
}

/* A crowd task element: its header, instructions, classification target
 * and the control, with any other content it holds after them. */
static GtkWidget *
task_frame (KpLayoutView       *self,
            const KpLayoutNode *node,
            GtkWidget         **header_out)
{
  GtkWidget *box = new_box (GTK_ORIENTATION_VERTICAL, 8);
  const char *header = kp_layout_node_get_attribute (node, "header");
  const KpLayoutNode *shorti = find_child (node, KP_LAYOUT_NODE_REGION_SHORT_INSTRUCTIONS);
  const KpLayoutNode *fulli = find_child (node, KP_LAYOUT_NODE_REGION_FULL_INSTRUCTIONS);
  const KpLayoutNode *target = find_child (node, KP_LAYOUT_NODE_REGION_CLASSIFICATION_TARGET);

  gtk_widget_add_css_class (box, "kp-layout-task");
  *header_out = NULL;
  if (header != NULL && *header != '\0')
    {
      *header_out = new_heading (header, 4);
      gtk_box_append (GTK_BOX (box), *header_out);
    }

  if (shorti != NULL || fulli != NULL)
    {
      GtkWidget *expander = gtk_expander_new (_("Instructions"));
      GtkWidget *inner = new_box (GTK_ORIENTATION_VERTICAL, 6);

      gtk_expander_set_expanded (GTK_EXPANDER (expander), TRUE);
      if (shorti != NULL)
        gtk_box_append (GTK_BOX (inner), build_block (self, shorti, 6));
      if (fulli != NULL)
        {
          const char *fh = kp_layout_node_get_attribute (fulli, "header");
          GtkWidget *full = gtk_expander_new (fh != NULL && *fh != '\0' ? fh : _("Full instructions"));

          gtk_expander_set_child (GTK_EXPANDER (full), build_block (self, fulli, 6));
          gtk_box_append (GTK_BOX (inner), full);
        }
      gtk_expander_set_child (GTK_EXPANDER (expander), inner);
      gtk_box_append (GTK_BOX (box), expander);
    }

  if (target != NULL)
    {
      GtkWidget *frame = gtk_frame_new (NULL);
      GtkWidget *inner = build_block (self, target, 6);

      gtk_widget_set_margin_start (inner, 12);
      gtk_widget_set_margin_end (inner, 12);
      gtk_widget_set_margin_top (inner, 12);
      gtk_widget_set_margin_bottom (inner, 12);
      gtk_frame_set_child (GTK_FRAME (frame), inner);
      gtk_box_append (GTK_BOX (box), frame);
    }

  return box;
}

/* Other content of a task element (crowd-entity-annotation's additional
 * questions, …) after its control. */
static void
task_rest (KpLayoutView       *self,
           GtkWidget          *box,
           const KpLayoutNode *node)
{
  for (guint i = 0; i < node->children->len; i++)
    {
      const KpLayoutNode *child = g_ptr_array_index (node->children, i);
      GtkWidget *widget;

      if (is_region (child))
        continue;
      if (is_inline (child))
        {
          g_autoptr(GString) markup = g_string_new (NULL);
          g_autoptr(GString) plain = g_string_new (NULL);

          append_markup (markup, plain, child);
          flush_inline (box, markup, plain);
          continue;
        }
      widget = build_node (self, child);
      if (widget != NULL)
        gtk_box_append (GTK_BOX (box), widget);
    }
}

/* Label choosers of the image and entity elements: linked toggle buttons. */
static void label_toggled_cb (GtkToggleButton *button,
                              Control         *control);

static GtkWidget *
label_chooser (Control            *control,
               const char * const *labels,
               const char * const *display,
               gboolean            toggles)
{
  GtkWidget *box = gtk_flow_box_new ();
  GtkWidget *group = NULL;

  gtk_flow_box_set_selection_mode (GTK_FLOW_BOX (box), GTK_SELECTION_NONE);
  gtk_flow_box_set_max_children_per_line (GTK_FLOW_BOX (box), 10);
  gtk_flow_box_set_homogeneous (GTK_FLOW_BOX (box), FALSE);
  for (guint i = 0; labels != NULL && labels[i] != NULL; i++)
    {
      const char *text = display != NULL && display[i] != NULL ? display[i] : labels[i];
      GtkWidget *button;
      g_autofree char *tooltip = NULL;

      if (toggles)
        {
          button = gtk_toggle_button_new_with_label (text);
          if (group != NULL)
            gtk_toggle_button_set_group (GTK_TOGGLE_BUTTON (button), GTK_TOGGLE_BUTTON (group));
          else
            {
              group = button;
              gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (button), TRUE);
            }
          g_signal_connect (button, "toggled", G_CALLBACK (label_toggled_cb), control);
          tooltip = g_strdup_printf (_("Draw “%s”"), labels[i]);
        }
      else
        {
          button = gtk_button_new_with_label (text);
          tooltip = g_strdup_printf (_("Label the selected text “%s”"), labels[i]);
        }
      gtk_widget_set_tooltip_text (button, tooltip);
      gtk_flow_box_append (GTK_FLOW_BOX (box), button);
      control_add_choice (control, button, labels[i]);
    }

  return box;
}

/* Boxes: KpCanvas in the view's store */

static gboolean
remove_tree (GFile   *file,
             GError **error)
{
  g_autoptr(GFileEnumerator) children =
    g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME,
                               G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);

  if (children != NULL)
    {
      GFileInfo *info;
      GFile *child;

      while (g_file_enumerator_iterate (children, &info, &child, NULL, NULL) && info != NULL)
        if (!remove_tree (child, error))
          return FALSE;
    }

  return g_file_delete (file, NULL, error);
}

static char *
canvas_media_name (guint index)
{
  return g_strdup_printf ("box-%04u.png", index);
}

/* The member of a canvas element's value holding its shapes, and the
 * shape and tool each element draws. */
static const char *
canvas_member (const KpLayoutNode *node)
{
  switch (node->kind)
    {
    case KP_LAYOUT_NODE_CROWD_POLYGON:
      return "polygons";
    case KP_LAYOUT_NODE_CROWD_LINE:
      return "lines";
    case KP_LAYOUT_NODE_CROWD_POLYLINE:
      return "polylines";
    case KP_LAYOUT_NODE_CROWD_KEYPOINT:
      return "keypoints";
    case KP_LAYOUT_NODE_CROWD_BOUNDING_BOX:
    default:
      return "boundingBoxes";
    }
}

static KpShape
canvas_shape (const KpLayoutNode *node,
              KpToolKind         *tool)
{
  KpToolKind kind;
  KpShape shape;

  switch (node->kind)
    {
    case KP_LAYOUT_NODE_CROWD_POLYGON:
      kind = KP_TOOL_KIND_POLYGON;
      break;
    case KP_LAYOUT_NODE_CROWD_LINE:
      kind = KP_TOOL_KIND_LINE;
      break;
    case KP_LAYOUT_NODE_CROWD_POLYLINE:
      kind = KP_TOOL_KIND_POLYLINE;
      break;
    case KP_LAYOUT_NODE_CROWD_KEYPOINT:
      kind = KP_TOOL_KIND_POINT;
      break;
    case KP_LAYOUT_NODE_CROWD_SEMANTIC_SEGMENTATION:
    case KP_LAYOUT_NODE_CROWD_INSTANCE_SEGMENTATION:
      kind = KP_TOOL_KIND_BRUSH;
      break;
    case KP_LAYOUT_NODE_CROWD_BOUNDING_BOX:
    default:
      kind = KP_TOOL_KIND_BOX;
      break;
    }
  if (tool != NULL)
    *tool = kind;
  if (!kp_tool_kind_get_shape (kind, &shape))
    shape = KP_SHAPE_BOX;

  return shape;
}

/* An annotation's points from a keypoint ({x, y}) or a shape with
 * vertices; FALSE when there are too few. */
static gboolean
annotation_points_from_json (KpAnnotation *annotation,
                             JsonObject   *object)
{
  GArray *points = g_array_new (FALSE, FALSE, sizeof (KpPoint));
  JsonNode *vertices = json_object_get_member (object, "vertices");
  guint needed = annotation->shape == KP_SHAPE_POINT ? 1 : annotation->shape == KP_SHAPE_POLYGON ? 3 : 2;

  if (annotation->shape == KP_SHAPE_POINT)
    {
      KpPoint p = { json_object_get_double_member_with_default (object, "x", 0),
                    json_object_get_double_member_with_default (object, "y", 0) };

      g_array_append_val (points, p);
    }
  else if (vertices != NULL && JSON_NODE_HOLDS_ARRAY (vertices))
    {
      JsonArray *array = json_node_get_array (vertices);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *v = json_array_get_element (array, i);
          KpPoint p;

          if (!JSON_NODE_HOLDS_OBJECT (v))
            continue;
          p.x = json_object_get_double_member_with_default (json_node_get_object (v), "x", 0);
          p.y = json_object_get_double_member_with_default (json_node_get_object (v), "y", 0);
          g_array_append_val (points, p);
        }
    }

  if (points->len < needed || (annotation->shape == KP_SHAPE_LINE && points->len != 2))
    {
      g_array_unref (points);
      return FALSE;
    }

  annotation->n_points = points->len;
  annotation->points = (KpPoint *)(gpointer)g_array_free (points, FALSE);
  annotation->rect.x = annotation->rect.width = annotation->points[0].x;
  annotation->rect.y = annotation->rect.height = annotation->points[0].y;
  for (guint i = 1; i < annotation->n_points; i++)
    {
      annotation->rect.x = MIN (annotation->rect.x, annotation->points[i].x);
      annotation->rect.y = MIN (annotation->rect.y, annotation->points[i].y);
      annotation->rect.width = MAX (annotation->rect.width, annotation->points[i].x);
      annotation->rect.height = MAX (annotation->rect.height, annotation->points[i].y);
    }
  annotation->rect.width -= annotation->rect.x;
  annotation->rect.height -= annotation->rect.y;

  return TRUE;
}

/* Segmentation: crowd-semantic-segmentation and
 * crowd-instance-segmentation paint MASK objects with the canvas's brush
 * and eraser, one per label (semantic) or per instance. Their value is
 * MTurk's: a PNG with each pixel in its label's (or instance's) colour,
 * unpainted pixels transparent, and the colours' meaning. */

#define SEGMENTATION_BRUSH_RADIUS 4.0

static gboolean
is_segmentation (const KpLayoutNode *node)
{
  return node->kind == KP_LAYOUT_NODE_CROWD_SEMANTIC_SEGMENTATION ||
         node->kind == KP_LAYOUT_NODE_CROWD_INSTANCE_SEGMENTATION;
}

/* One byte a pixel: 0 for none, else an entry's index + 1. Semantic
 * entries are the element's labels; instance entries its instances in
 * order, each coloured by its position in the palette. */
typedef struct
{
  int        width;
  int        height;
  guint8    *map;
  GPtrArray *labels;     /* char *, one per entry */
} SegMap;

static void
seg_map_free (SegMap *seg)
{
  g_free (seg->map);
  g_ptr_array_unref (seg->labels);
  g_free (seg);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SegMap, seg_map_free)

static SegMap *
seg_map_new (Control *control)
{
  SegMap *seg = g_new0 (SegMap, 1);
  const char * const *labels = kp_layout_node_get_strv (control->node, "labels");

  seg->width = control->texture != NULL ? gdk_texture_get_width (control->texture) : 0;
  seg->height = control->texture != NULL ? gdk_texture_get_height (control->texture) : 0;
  seg->map = g_malloc0 ((gsize)seg->width * seg->height + 1);
  seg->labels = g_ptr_array_new_with_free_func (g_free);
  if (control->node->kind == KP_LAYOUT_NODE_CROWD_SEMANTIC_SEGMENTATION)
    for (guint i = 0; labels != NULL && labels[i] != NULL && i < 255; i++)
      g_ptr_array_add (seg->labels, g_strdup (labels[i]));

  return seg;
}

static guint
rgb_key (const char *color)
{
  GdkRGBA c;

  if (color == NULL || !gdk_rgba_parse (&c, color))
    return G_MAXUINT;

  return ((guint)lround (c.red * 255) << 16) | ((guint)lround (c.green * 255) << 8) |
         (guint)lround (c.blue * 255);
}

/* The map of a value (a draft, or what was submitted): each colour of
 * the PNG back to the label (labelMappings) or instance (instances) it
 * stands for; colours that stand for nothing stay unpainted. */
static SegMap *
seg_map_from_value (Control  *control,
                    JsonNode *value)
{
  g_autoptr(SegMap) seg = seg_map_new (control);
  g_autoptr(GHashTable) colors = g_hash_table_new (NULL, NULL);
  g_autoptr(GdkPixbufLoader) loader = NULL;
  g_autofree guchar *png = NULL;
  JsonObject *object = value != NULL && JSON_NODE_HOLDS_OBJECT (value) ? json_node_get_object (value) : NULL;
  JsonNode *image = object != NULL ? json_object_get_member (object, "labeledImage") : NULL;
  const char *data = NULL;
  GdkPixbuf *pixbuf;
  gsize size = 0;

  if (image != NULL && JSON_NODE_HOLDS_OBJECT (image))
    data = json_object_get_string_member_with_default (json_node_get_object (image), "pngImageData", NULL);
  if (data == NULL || *data == '\0')
    return g_steal_pointer (&seg);

  if (control->node->kind == KP_LAYOUT_NODE_CROWD_SEMANTIC_SEGMENTATION)
    {
      JsonNode *mappings = json_object_get_member (object, "labelMappings");
      g_autoptr(GList) names = mappings != NULL && JSON_NODE_HOLDS_OBJECT (mappings)
                               ? json_object_get_members (json_node_get_object (mappings)) : NULL;

      for (GList *l = names; l != NULL; l = l->next)
        {
          JsonNode *m = json_object_get_member (json_node_get_object (mappings), l->data);
          const char *color = JSON_NODE_HOLDS_OBJECT (m)
                              ? json_object_get_string_member_with_default (json_node_get_object (m), "color", NULL)
                              : NULL;
          guint key = rgb_key (color);

          for (guint i = 0; key != G_MAXUINT && i < seg->labels->len; i++)
            if (g_str_equal (g_ptr_array_index (seg->labels, i), l->data) &&
                !g_hash_table_contains (colors, GUINT_TO_POINTER (key)))
              g_hash_table_insert (colors, GUINT_TO_POINTER (key), GUINT_TO_POINTER (i + 1));
        }
    }
  else
    {
      JsonNode *instances = json_object_get_member (object, "instances");
      JsonArray *array = instances != NULL && JSON_NODE_HOLDS_ARRAY (instances) ? json_node_get_array (instances) : NULL;

      for (guint i = 0; array != NULL && i < json_array_get_length (array) && seg->labels->len < 255; i++)
        {
          JsonNode *e = json_array_get_element (array, i);
          JsonObject *o = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
          const char *label = o != NULL ? json_object_get_string_member_with_default (o, "label", NULL) : NULL;
          guint key = rgb_key (o != NULL ? json_object_get_string_member_with_default (o, "color", NULL) : NULL);

          if (label == NULL || key == G_MAXUINT || g_hash_table_contains (colors, GUINT_TO_POINTER (key)))
            continue;
          g_ptr_array_add (seg->labels, g_strdup (label));
          g_hash_table_insert (colors, GUINT_TO_POINTER (key), GUINT_TO_POINTER (seg->labels->len));
        }
    }

  png = g_base64_decode (data, &size);
  loader = gdk_pixbuf_loader_new_with_type ("png", NULL);
  if (loader == NULL || !gdk_pixbuf_loader_write (loader, png, size, NULL) ||
      !gdk_pixbuf_loader_close (loader, NULL))
    return g_steal_pointer (&seg);
  pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);
  if (pixbuf == NULL || gdk_pixbuf_get_n_channels (pixbuf) != 4 || gdk_pixbuf_get_bits_per_sample (pixbuf) != 8)
    return g_steal_pointer (&seg);

  {
    const guint8 *pixels = gdk_pixbuf_read_pixels (pixbuf);
    int stride = gdk_pixbuf_get_rowstride (pixbuf);
    int w = MIN (seg->width, gdk_pixbuf_get_width (pixbuf));
    int h = MIN (seg->height, gdk_pixbuf_get_height (pixbuf));

    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        {
          const guint8 *p = pixels + (gsize)y * stride + x * 4;

          if (p[3] != 0)
            seg->map[(gsize)y * seg->width + x] =
              GPOINTER_TO_UINT (g_hash_table_lookup (colors, GUINT_TO_POINTER ((p[0] << 16) | (p[1] << 8) | p[2])));
        }
  }

  return g_steal_pointer (&seg);
}

static int
compare_z (gconstpointer a,
           gconstpointer b)
{
  const KpAnnotation *x = *(const KpAnnotation * const *)a;
  const KpAnnotation *y = *(const KpAnnotation * const *)b;

  if (x->z != y->z)
    return x->z < y->z ? -1 : 1;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* The map of the document's masks, later ones over earlier ones. */
static SegMap *
seg_map_from_document (Control *control)
{
  SegMap *seg = seg_map_new (control);
  GPtrArray *annotations = kp_document_get_annotations (control->document);
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();

  for (guint i = 0; i < annotations->len; i++)
    {
      KpAnnotation *a = g_ptr_array_index (annotations, i);

      if (a->shape == KP_SHAPE_MASK && a->mask != NULL && !kp_mask_is_empty (a->mask))
        g_ptr_array_add (sorted, a);
    }
  g_ptr_array_sort (sorted, compare_z);

  for (guint i = 0; i < sorted->len; i++)
    {
      const KpAnnotation *a = g_ptr_array_index (sorted, i);
      const char *label = g_hash_table_lookup (control->label_names, &a->label_id);
      g_autofree guint8 *bits = NULL;
      guint value = 0;

      if (label == NULL)
        continue;
      if (control->node->kind == KP_LAYOUT_NODE_CROWD_SEMANTIC_SEGMENTATION)
        {
          for (guint j = 0; j < seg->labels->len && value == 0; j++)
            if (g_str_equal (g_ptr_array_index (seg->labels, j), label))
              value = j + 1;
        }
      else if (seg->labels->len < 255)
        {
          g_ptr_array_add (seg->labels, g_strdup (label));
          value = seg->labels->len;
        }
      if (value == 0)
        continue;

      bits = kp_mask_to_bitmap (a->mask);
      for (int y = 0; y < a->mask->height; y++)
        for (int x = 0; x < a->mask->width; x++)
          {
            int ix = a->mask->x + x;
            int iy = a->mask->y + y;

            if (bits[(gsize)y * a->mask->width + x] && ix >= 0 && iy >= 0 && ix < seg->width && iy < seg->height)
              seg->map[(gsize)iy * seg->width + ix] = value;
          }
    }

  return seg;
}

/* MTurk's value of a map. */
static JsonNode *
seg_map_to_value (Control *control,
                  SegMap  *seg)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autofree char *buffer = NULL;
  g_autofree char *png = NULL;
  gboolean used[256] = { FALSE, };
  gsize size = 0;

  if (seg->width > 0 && seg->height > 0)
    {
      g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, TRUE, 8, seg->width, seg->height);
      guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
      int stride = gdk_pixbuf_get_rowstride (pixbuf);

      for (int y = 0; y < seg->height; y++)
        for (int x = 0; x < seg->width; x++)
          {
            guint8 v = seg->map[(gsize)y * seg->width + x];
            guint8 *p = pixels + (gsize)y * stride + x * 4;
            guint key = v != 0 ? rgb_key (kp_layout_shapes_label_color (v - 1)) : 0;

            p[0] = key >> 16;
            p[1] = (key >> 8) & 0xff;
            p[2] = key & 0xff;
            p[3] = v != 0 ? 0xff : 0;
            used[v] = TRUE;
          }
      if (gdk_pixbuf_save_to_buffer (pixbuf, &buffer, &size, "png", NULL, NULL))
        png = g_base64_encode ((const guchar *)buffer, size);
    }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "labeledImage");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "pngImageData");
  json_builder_add_string_value (builder, png != NULL ? png : "");
  json_builder_end_object (builder);
  if (control->node->kind == KP_LAYOUT_NODE_CROWD_SEMANTIC_SEGMENTATION)
    {
      json_builder_set_member_name (builder, "labelMappings");
      json_builder_begin_object (builder);
      for (guint i = 0; i < seg->labels->len; i++)
        if (used[i + 1])
          {
            json_builder_set_member_name (builder, g_ptr_array_index (seg->labels, i));
            json_builder_begin_object (builder);
            json_builder_set_member_name (builder, "color");
            json_builder_add_string_value (builder, kp_layout_shapes_label_color (i));
            json_builder_end_object (builder);
          }
      json_builder_end_object (builder);
    }
  else
    {
      json_builder_set_member_name (builder, "instances");
      json_builder_begin_array (builder);
      for (guint i = 0; i < seg->labels->len; i++)
        if (used[i + 1])
          {
            json_builder_begin_object (builder);
            json_builder_set_member_name (builder, "color");
            json_builder_add_string_value (builder, kp_layout_shapes_label_color (i));
            json_builder_set_member_name (builder, "label");
            json_builder_add_string_value (builder, g_ptr_array_index (seg->labels, i));
            json_builder_end_object (builder);
          }
      json_builder_end_array (builder);
    }
  json_builder_set_member_name (builder, "inputImageProperties");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "height");
  json_builder_add_int_value (builder, seg->height);
  json_builder_set_member_name (builder, "width");
  json_builder_add_int_value (builder, seg->width);
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static JsonNode *
seg_value (Control *control)
{
  g_autoptr(SegMap) seg = NULL;

  if (control->texture == NULL)
    return NULL;
  /* Never shown: the draft's, or nothing painted. */
  seg = control->document != NULL ? seg_map_from_document (control) : seg_map_from_value (control, control->draft);

  return seg_map_to_value (control, seg);
}

/* Replaces the masks of a canvas's media in the store with those of a
 * value: one MASK per label or instance painted. */
static gboolean
put_masks (KpLayoutView  *self,
           Control       *control,
           gint64         media_id,
           JsonNode      *value,
           GError       **error)
{
  g_autoptr(GPtrArray) old = kp_store_list_annotations (self->store, media_id, error);
  g_autoptr(SegMap) seg = NULL;

  if (old == NULL)
    return FALSE;
  for (guint j = 0; j < old->len; j++)
    if (!kp_store_delete_annotation (self->store, ((KpAnnotation *)g_ptr_array_index (old, j))->id, error))
      return FALSE;

  seg = seg_map_from_value (control, value);
  for (guint v = 1; v <= seg->labels->len; v++)
    {
      gint64 *label_id = g_hash_table_lookup (self->label_ids, g_ptr_array_index (seg->labels, v - 1));
      int x0 = seg->width, y0 = seg->height, x1 = -1, y1 = -1;
      g_autofree guint8 *bits = NULL;
      g_auto(KpAnnotation) annotation = { 0, };

      if (label_id == NULL)
        continue;
      for (int y = 0; y < seg->height; y++)
        for (int x = 0; x < seg->width; x++)
          if (seg->map[(gsize)y * seg->width + x] == v)
            {
              x0 = MIN (x0, x);
              x1 = MAX (x1, x);
              y0 = MIN (y0, y);
              y1 = MAX (y1, y);
            }
      if (x1 < 0)
        continue;
      bits = g_malloc0 ((gsize)(x1 - x0 + 1) * (y1 - y0 + 1));
      for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
          bits[(gsize)(y - y0) * (x1 - x0 + 1) + (x - x0)] = seg->map[(gsize)y * seg->width + x] == v;

      annotation.media_id = media_id;
      annotation.label_id = *label_id;
      annotation.shape = KP_SHAPE_MASK;
      annotation.mask = kp_mask_new_from_bitmap (x0, y0, x1 - x0 + 1, y1 - y0 + 1, bits);
      annotation.rect = kp_mask_get_bounds (annotation.mask);
      if (kp_store_add_annotation (self->store, &annotation, error) == 0)
        return FALSE;
    }

  return TRUE;
}

/* Replaces the shapes of a canvas's media in the store with those of an
 * array of the element's value (boundingBoxes, polygons, …; labels the
 * layout does not have are skipped). */
static gboolean
put_boxes (KpLayoutView       *self,
           const KpLayoutNode *node,
           gint64              media_id,
           JsonNode           *boxes,
           GError            **error)
{
  KpShape shape = canvas_shape (node, NULL);

  g_autoptr(GPtrArray) old = kp_store_list_annotations (self->store, media_id, error);

  if (old == NULL)
    return FALSE;
  for (guint j = 0; j < old->len; j++)
    if (!kp_store_delete_annotation (self->store, ((KpAnnotation *)g_ptr_array_index (old, j))->id, error))
      return FALSE;

  if (boxes != NULL && JSON_NODE_HOLDS_ARRAY (boxes))
    {
      JsonArray *array = json_node_get_array (boxes);

      for (guint j = 0; j < json_array_get_length (array); j++)
        {
          JsonNode *element = json_array_get_element (array, j);
          JsonObject *object = JSON_NODE_HOLDS_OBJECT (element) ? json_node_get_object (element) : NULL;
          const char *label = object != NULL ? json_object_get_string_member_with_default (object, "label", NULL) : NULL;
          gint64 *label_id = label != NULL ? g_hash_table_lookup (self->label_ids, label) : NULL;
          g_auto(KpAnnotation) annotation = { 0, };

          if (label_id == NULL)
            continue;
          annotation.media_id = media_id;
          annotation.label_id = *label_id;
          annotation.shape = shape;
          if (shape == KP_SHAPE_BOX)
            {
              annotation.rect.x = json_object_get_double_member_with_default (object, "left", 0);
              annotation.rect.y = json_object_get_double_member_with_default (object, "top", 0);
              annotation.rect.width = json_object_get_double_member_with_default (object, "width", 0);
              annotation.rect.height = json_object_get_double_member_with_default (object, "height", 0);
            }
          else if (!annotation_points_from_json (&annotation, object))
            continue;
          if (kp_store_add_annotation (self->store, &annotation, error) == 0)
            return FALSE;
        }
    }

  return TRUE;
}

static void
remember_mask_areas (Control *control)
{
  GPtrArray *annotations = kp_document_get_annotations (control->document);

  g_hash_table_remove_all (control->mask_areas);
  for (guint i = 0; i < annotations->len; i++)
    {
      const KpAnnotation *a = g_ptr_array_index (annotations, i);

      if (a->shape == KP_SHAPE_MASK && a->mask != NULL)
        g_hash_table_insert (control->mask_areas, g_memdup2 (&a->id, sizeof a->id),
                             GSIZE_TO_POINTER ((gsize)kp_mask_get_area (a->mask)));
    }
}

/* A semantic segmentation gives each pixel one label, the one painted
 * last. The brush already cuts what it paints over from the other masks
 * in its own undo step; this catches any other way a label's mask grows
 * (it grew, with nothing to redo), taking its pixels off the other
 * labels' masks as one more undo step. */
static void
semantic_changed_cb (KpDocument *document,
                     gint64      id,
                     Control    *control)
{
  const KpAnnotation *painted = id != 0 ? kp_document_lookup (document, id) : NULL;
  gpointer old_area = NULL;
  gboolean grew;
  g_autoptr(GPtrArray) updated = NULL;
  g_autoptr(GError) error = NULL;

  if (control->separating)
    return;

  grew = painted != NULL && painted->shape == KP_SHAPE_MASK && painted->mask != NULL &&
         (!g_hash_table_lookup_extended (control->mask_areas, &id, NULL, &old_area) ||
          kp_mask_get_area (painted->mask) > GPOINTER_TO_SIZE (old_area)) &&
         kp_document_get_n_redo (document) == 0 && !control->view->setting;
  if (grew)
    {
      GPtrArray *annotations = kp_document_get_annotations (document);
      g_autofree guint8 *bits = kp_mask_to_bitmap (painted->mask);
      const KpMask *mask = painted->mask;

      updated = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_annotation_free);
      for (guint i = 0; i < annotations->len; i++)
        {
          const KpAnnotation *other = g_ptr_array_index (annotations, i);
          g_autofree guint8 *other_bits = NULL;
          gboolean changed = FALSE;

          if (other->id == id || other->shape != KP_SHAPE_MASK || other->mask == NULL ||
              other->label_id == painted->label_id)
            continue;
          other_bits = kp_mask_to_bitmap (other->mask);
          for (int y = 0; y < other->mask->height; y++)
            for (int x = 0; x < other->mask->width; x++)
              {
                int px = other->mask->x + x - mask->x;
                int py = other->mask->y + y - mask->y;
                guint8 *b = &other_bits[(gsize)y * other->mask->width + x];

                if (*b && px >= 0 && py >= 0 && px < mask->width && py < mask->height &&
                    bits[(gsize)py * mask->width + px])
                  {
                    *b = 0;
                    changed = TRUE;
                  }
              }
          if (changed)
            {
              KpAnnotation *copy = kp_annotation_copy (other);

              kp_mask_free (copy->mask);
              copy->mask = kp_mask_new_from_bitmap (other->mask->x, other->mask->y,
                                                    other->mask->width, other->mask->height, other_bits);
              g_ptr_array_add (updated, copy);
            }
        }
      if (updated->len > 0)
        {
          control->separating = TRUE;
          if (!kp_document_update_many (document, (const KpAnnotation * const *)updated->pdata, updated->len, &error))
            g_warning ("Cannot take the paint off the other labels: %s", error->message);
          control->separating = FALSE;
        }
    }

  remember_mask_areas (control);
}

static gboolean
ensure_store (KpLayoutView  *self,
              GError       **error)
{
  g_autoptr(GPtrArray) media = NULL;
  g_autoptr(GPtrArray) all_labels = NULL;
  g_autoptr(GHashTable) media_ids = NULL;
  KpStore *store;
  guint n = 0;

  if (self->store_ready)
    return TRUE;

  for (guint i = 0; i < self->controls->len; i++)
    if (((Control *)g_ptr_array_index (self->controls, i))->kind == CONTROL_CANVAS)
      n++;

  if (self->store == NULL)
    {
      self->store_folder = g_dir_make_tmp ("kempelen-layout-XXXXXX", error);
      if (self->store_folder == NULL)
        return FALSE;
      self->store = kp_store_open (self->store_folder, error);
      if (self->store == NULL)
        return FALSE;
    }
  store = self->store;

  /* One stand-in media file per canvas: the store keys documents by
   * media, the canvas draws the element's own texture. */
  if (n > self->n_media)
    {
      g_autoptr(GdkPixbuf) pixel = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 1, 1);

      gdk_pixbuf_fill (pixel, 0);
      for (guint i = self->n_media; i < n; i++)
        {
          g_autofree char *name = canvas_media_name (i);
          g_autofree char *path = g_build_filename (self->store_folder, name, NULL);

          if (!gdk_pixbuf_save (pixel, path, "png", error, NULL))
            return FALSE;
        }
      if (!kp_store_scan (store, NULL, error))
        return FALSE;
      self->n_media = n;
    }

  media = kp_store_list_media (store, error);
  if (media == NULL)
    return FALSE;
  media_ids = g_hash_table_new (g_str_hash, g_str_equal);
  for (guint i = 0; i < media->len; i++)
    {
      KpMedia *m = g_ptr_array_index (media, i);

      g_hash_table_insert (media_ids, m->path, GINT_TO_POINTER ((int)m->id));
    }

  /* Labels are one list per store: each name once, coloured by its first
   * element's order. */
  for (guint i = 0; i < self->controls->len; i++)
    {
      Control *control = g_ptr_array_index (self->controls, i);
      const char * const *labels = kp_layout_node_get_strv (control->node, "labels");

      if (control->kind != CONTROL_CANVAS)
        continue;
      for (guint j = 0; labels != NULL && labels[j] != NULL; j++)
        if (!g_hash_table_contains (self->label_ids, labels[j]))
          {
            gint64 id = kp_store_add_label (store, labels[j], kp_layout_shapes_label_color (j), 0, error);

            if (id == 0)
              return FALSE;
            g_hash_table_insert (self->label_ids, g_strdup (labels[j]), g_memdup2 (&id, sizeof id));
            g_hash_table_insert (self->label_names, g_memdup2 (&id, sizeof id), g_strdup (labels[j]));
          }
    }
  all_labels = kp_store_list_labels (store, error);
  if (all_labels == NULL)
    return FALSE;

  n = 0;
  for (guint i = 0; i < self->controls->len; i++)
    {
      Control *control = g_ptr_array_index (self->controls, i);
      const char * const *labels = kp_layout_node_get_strv (control->node, "labels");
      g_autofree char *name = NULL;
      JsonNode *initial;
      g_autoptr(GPtrArray) own_labels = g_ptr_array_new ();
      gint64 media_id;

      if (control->kind != CONTROL_CANVAS)
        continue;

      name = canvas_media_name (n++);
      media_id = GPOINTER_TO_INT (g_hash_table_lookup (media_ids, name));
      /* Canvases built in an earlier slice keep their documents. */
      if (control->document != NULL)
        continue;

      /* initial-value boxes (or a draft's) go straight into the store,
       * so they are not an edit the worker could undo. */
      initial = control->draft != NULL ? control->draft
                : control->node->kind == KP_LAYOUT_NODE_CROWD_BOUNDING_BOX
                ? kp_layout_node_get_json (control->node, "initial-value") : NULL;
      if (is_segmentation (control->node) ? !put_masks (self, control, media_id, initial, error)
                                           : !put_boxes (self, control->node, media_id, initial, error))
        return FALSE;

      if (control->document != NULL)
        g_signal_handlers_disconnect_by_data (control->document, control);
      g_clear_object (&control->document);
      control->document = kp_document_new (store, media_id, error);
      if (control->document == NULL)
        return FALSE;
      g_signal_connect_swapped (control->document, "changed", G_CALLBACK (control_changed), control);
      if (control->node->kind == KP_LAYOUT_NODE_CROWD_SEMANTIC_SEGMENTATION)
        {
          g_clear_pointer (&control->mask_areas, g_hash_table_unref);
          control->mask_areas = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
          remember_mask_areas (control);
          g_signal_connect (control->document, "changed", G_CALLBACK (semantic_changed_cb), control);
        }

      for (guint j = 0; j < all_labels->len; j++)
        {
          KpLabel *label = g_ptr_array_index (all_labels, j);

          if (labels != NULL && g_strv_contains (labels, label->name))
            g_ptr_array_add (own_labels, label);
        }
      control->label_names = self->label_names;
      kp_canvas_set_labels (KP_CANVAS (control->widget), own_labels);
      kp_canvas_set_document (KP_CANVAS (control->widget), control->document);
      for (guint j = 0; j < control->choices->len; j++)
        if (widget_get_active (g_ptr_array_index (control->choices, j)))
          {
            gint64 *id = g_hash_table_lookup (self->label_ids, g_ptr_array_index (control->choice_values, j));

            if (id != NULL)
              kp_canvas_set_current_label_id (KP_CANVAS (control->widget), *id);
          }
    }

  self->store_ready = TRUE;
  return TRUE;
}

static void
canvas_map_cb (GtkWidget    *canvas,
               KpLayoutView *self)
{
  g_autoptr(GError) error = NULL;

  if (!ensure_store (self, &error))
    g_debug ("Cannot keep the boxes of the layout: %s", error->message);
}

/* The brush paints the selected MASK, or starts a new one: a semantic
 * label's mask is painted on, a chosen label starts a new instance. */
static void
select_label_mask (Control *control,
                   gint64   label_id)
{
  KpCanvas *canvas = KP_CANVAS (control->widget);
  GPtrArray *annotations = control->document != NULL ? kp_document_get_annotations (control->document) : NULL;
  gint64 id = 0;

  if (control->node->kind == KP_LAYOUT_NODE_CROWD_SEMANTIC_SEGMENTATION)
    for (guint i = 0; annotations != NULL && i < annotations->len; i++)
      {
        const KpAnnotation *a = g_ptr_array_index (annotations, i);

        if (a->shape == KP_SHAPE_MASK && a->label_id == label_id)
          id = a->id;
      }
  kp_canvas_set_selection (canvas, id != 0 ? &id : NULL, id != 0 ? 1 : 0);
}

static void
new_instance_cb (GtkButton *button,
                 KpCanvas  *canvas)
{
  kp_canvas_set_selection (canvas, NULL, 0);
}

static void
set_segmentation_tool (KpCanvas *canvas,
                       gboolean  erase)
{
  g_autoptr(KpTool) tool = kp_brush_tool_new (canvas, erase);

  kp_brush_tool_set_radius (KP_BRUSH_TOOL (tool), SEGMENTATION_BRUSH_RADIUS);
  kp_canvas_set_tool (canvas, tool);
}

static void
eraser_toggled_cb (GtkToggleButton *button,
                   KpCanvas        *canvas)
{
  set_segmentation_tool (canvas, gtk_toggle_button_get_active (button));
}

static void
label_toggled_cb (GtkToggleButton *button,
                  Control         *control)
{
  const char *label = NULL;

  if (!gtk_toggle_button_get_active (button))
    return;

  for (guint i = 0; i < control->choices->len; i++)
    if (g_ptr_array_index (control->choices, i) == (gpointer)button)
      label = g_ptr_array_index (control->choice_values, i);

  if (control->kind == CONTROL_CANVAS)
    {
      gint64 *id = label != NULL ? g_hash_table_lookup (control->view->label_ids, label) : NULL;

      if (id != NULL)
        kp_canvas_set_current_label_id (KP_CANVAS (control->widget), *id);
      if (id != NULL && is_segmentation (control->node))
        select_label_mask (control, *id);
    }
}

static GtkWidget *
build_image_tool (KpLayoutView       *self,
                  const KpLayoutNode *node)
{
  GtkWidget *header = NULL;
  GtkWidget *box = task_frame (self, node, &header);
  const char * const *labels = kp_layout_node_get_strv (node, "labels");
  GdkTexture *texture = load_texture (self, node, "src", TRUE);
  Control *control;
  GtkWidget *widget;
  GtkWidget *hint;

  /* Every image element: the workstation's canvas and tools. */
    {
      KpToolKind kind;

      /* The workstation's canvas and tools, over a document of the
       * view's store. */
      canvas_shape (node, &kind);
      widget = kp_canvas_new ();
      gtk_widget_set_size_request (widget, -1, 360);
      gtk_widget_set_hexpand (widget, TRUE);
      gtk_widget_set_focusable (widget, TRUE);
      kp_canvas_set_texture (KP_CANVAS (widget), texture);
      if (kind == KP_TOOL_KIND_BRUSH)
        set_segmentation_tool (KP_CANVAS (widget), FALSE);
      else if (kind != KP_TOOL_KIND_BOX)
        {
          g_autoptr(KpTool) tool = kp_tool_new_for_kind (KP_CANVAS (widget), kind);

          kp_canvas_set_tool (KP_CANVAS (widget), tool);
        }
      control = control_new (self, node, CONTROL_CANVAS, widget);
      /* Its document is made when it is first shown. */
      self->store_ready = FALSE;
      g_signal_connect (widget, "map", G_CALLBACK (canvas_map_cb), self);
      switch (kind)
        {
        case KP_TOOL_KIND_POINT:
          hint = gtk_label_new (_("Click to place a point; drag a point to move it; Delete removes the selected point."));
          break;
        case KP_TOOL_KIND_LINE:
          hint = gtk_label_new (_("Click the two ends of a line, or drag from one to the other."));
          break;
        case KP_TOOL_KIND_POLYLINE:
          hint = gtk_label_new (_("Click each vertex; Enter or a double click ends the line; Backspace removes the last vertex."));
          break;
        case KP_TOOL_KIND_POLYGON:
          hint = gtk_label_new (_("Click each vertex; click the first vertex, press Enter or double-click to close it."));
          break;
        case KP_TOOL_KIND_BRUSH:
          hint = node->kind == KP_LAYOUT_NODE_CROWD_SEMANTIC_SEGMENTATION
                 ? gtk_label_new (_("Drag to paint the chosen label; the eraser takes paint off it; [ and ] change the brush size."))
                 : gtk_label_new (_("Drag to paint an instance; choose a label or New Instance for the next one; [ and ] change the brush size."));
          break;
        case KP_TOOL_KIND_BOX:
        default:
          hint = gtk_label_new (_("Drag to draw a box; drag a box or its handles to change it; Delete removes the selected box."));
          break;
        }
    }

  control->texture = g_object_ref (texture);
  attach_waiter (self, node, widget);
  label_widget (widget, header, kp_layout_node_get_attribute (node, "name"));
  gtk_box_append (GTK_BOX (box), label_chooser (control, labels, NULL, TRUE));
  if (node->kind == KP_LAYOUT_NODE_CROWD_INSTANCE_SEGMENTATION)
    {
      GtkWidget *button = gtk_button_new_with_label (_("New Instance"));

      gtk_widget_set_halign (button, GTK_ALIGN_START);
      g_signal_connect (button, "clicked", G_CALLBACK (new_instance_cb), widget);
      gtk_box_append (GTK_BOX (box), button);
    }
  if (is_segmentation (node))
    {
      GtkWidget *eraser = gtk_toggle_button_new_with_label (_("Eraser"));

      gtk_widget_set_halign (eraser, GTK_ALIGN_START);
      gtk_widget_set_tooltip_text (eraser, _("Take paint off the selected label or instance"));
      g_signal_connect (eraser, "toggled", G_CALLBACK (eraser_toggled_cb), widget);
      gtk_box_append (GTK_BOX (box), eraser);
    }
  gtk_label_set_wrap (GTK_LABEL (hint), TRUE);
  gtk_label_set_xalign (GTK_LABEL (hint), 0);
  gtk_widget_add_css_class (hint, "dim-label");
  gtk_box_append (GTK_BOX (box), hint);
  gtk_box_append (GTK_BOX (box), with_error (control, widget));
  task_rest (self, box, node);

  return box;
}

static void
add_point_members (JsonBuilder   *builder,
                   const KpPoint *p)
{
  json_builder_set_member_name (builder, "x");
  json_builder_add_double_value (builder, p->x);
  json_builder_set_member_name (builder, "y");
  json_builder_add_double_value (builder, p->y);
}

static JsonNode *
canvas_value (Control *control)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  KpShape shape = canvas_shape (control->node, NULL);

  if (is_segmentation (control->node))
    return seg_value (control);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, canvas_member (control->node));
  if (control->document != NULL)
    {
      GPtrArray *annotations = kp_document_get_annotations (control->document);

      json_builder_begin_array (builder);
      for (guint i = 0; i < annotations->len; i++)
        {
          const KpAnnotation *a = g_ptr_array_index (annotations, i);
          const char *label = g_hash_table_lookup (control->label_names, &a->label_id);

          if (a->shape != shape || (shape != KP_SHAPE_BOX && a->n_points == 0))
            continue;
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "label");
          json_builder_add_string_value (builder, label != NULL ? label : "");
          if (shape == KP_SHAPE_BOX)
            {
              json_builder_set_member_name (builder, "left");
              json_builder_add_double_value (builder, a->rect.x);
              json_builder_set_member_name (builder, "top");
              json_builder_add_double_value (builder, a->rect.y);
              json_builder_set_member_name (builder, "width");
              json_builder_add_double_value (builder, a->rect.width);
              json_builder_set_member_name (builder, "height");
              json_builder_add_double_value (builder, a->rect.height);
            }
          else if (shape == KP_SHAPE_POINT)
            add_point_members (builder, &a->points[0]);
          else
            {
              json_builder_set_member_name (builder, "vertices");
              json_builder_begin_array (builder);
              for (guint j = 0; j < a->n_points; j++)
                {
                  json_builder_begin_object (builder);
                  add_point_members (builder, &a->points[j]);
                  json_builder_end_object (builder);
                }
              json_builder_end_array (builder);
            }
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
    }
  else
    {
      /* Never shown: the shapes are the draft's or the initial ones. */
      JsonNode *initial = control->draft != NULL ? control->draft
                          : shape == KP_SHAPE_BOX ? kp_layout_node_get_json (control->node, "initial-value")
                          : NULL;

      if (initial != NULL && JSON_NODE_HOLDS_ARRAY (initial))
        json_builder_add_value (builder, json_node_copy (initial));
      else
        {
          json_builder_begin_array (builder);
          json_builder_end_array (builder);
        }
    }
  json_builder_set_member_name (builder, "inputImageProperties");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "width");
  json_builder_add_int_value (builder, gdk_texture_get_width (control->texture));
  json_builder_set_member_name (builder, "height");
  json_builder_add_int_value (builder, gdk_texture_get_height (control->texture));
  json_builder_end_object (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* Classifiers */

static void
exclusive_toggled_cb (GtkCheckButton *button,
                      Control        *control)
{
  gboolean is_exclusion;
  guint last = control->choices->len - 1;

  if (!gtk_check_button_get_active (button) || control->kind != CONTROL_MULTI ||
      kp_layout_node_get_json (control->node, "exclusion-category") == NULL)
    return;

  /* The exclusion category is the last choice; it and the others exclude
   * each other. */
  is_exclusion = g_ptr_array_index (control->choices, last) == (gpointer)button;
  for (guint i = 0; i < control->choices->len; i++)
    if (i == last ? !is_exclusion : is_exclusion)
      gtk_check_button_set_active (g_ptr_array_index (control->choices, i), FALSE);
}

static GtkWidget *
build_classifier (KpLayoutView       *self,
                  const KpLayoutNode *node)
{
  GtkWidget *header = NULL;
  GtkWidget *box = task_frame (self, node, &header);
  gboolean multi = node->kind == KP_LAYOUT_NODE_CROWD_CLASSIFIER_MULTI_SELECT ||
                   node->kind == KP_LAYOUT_NODE_CROWD_IMAGE_CLASSIFIER_MULTI_SELECT;
  gboolean image = node->kind == KP_LAYOUT_NODE_CROWD_IMAGE_CLASSIFIER ||
                   node->kind == KP_LAYOUT_NODE_CROWD_IMAGE_CLASSIFIER_MULTI_SELECT;
  const char * const *categories = kp_layout_node_get_strv (node, "categories");
  JsonNode *exclusion = kp_layout_node_get_json (node, "exclusion-category");
  GtkWidget *buttons = new_box (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *group = NULL;
  Control *control;

  if (image)
    {
      GdkTexture *texture = load_texture (self, node, "src", TRUE);
      JsonNode *overlay = kp_layout_node_get_json (node, "overlay");
      GtkWidget *shapes = kp_layout_shapes_new ();
      JsonObject *bb = NULL;

      kp_layout_shapes_set_texture (KP_LAYOUT_SHAPES (shapes), texture);
      attach_waiter (self, node, shapes);
      if (overlay != NULL && JSON_NODE_HOLDS_OBJECT (overlay) &&
          json_object_has_member (json_node_get_object (overlay), "boundingBox"))
        {
          JsonNode *member = json_object_get_member (json_node_get_object (overlay), "boundingBox");

          bb = JSON_NODE_HOLDS_OBJECT (member) ? json_node_get_object (member) : NULL;
        }
      if (bb != NULL && json_object_has_member (bb, "value") &&
          JSON_NODE_HOLDS_ARRAY (json_object_get_member (bb, "value")))
        {
          JsonArray *boxes = json_object_get_array_member (bb, "value");

          for (guint i = 0; i < json_array_get_length (boxes); i++)
            {
              JsonNode *b = json_array_get_element (boxes, i);
              JsonObject *o = JSON_NODE_HOLDS_OBJECT (b) ? json_node_get_object (b) : NULL;

              if (o != NULL)
                kp_layout_shapes_add_box (KP_LAYOUT_SHAPES (shapes),
                                          json_object_get_string_member_with_default (o, "label", ""),
                                          json_object_get_double_member_with_default (o, "left", 0),
                                          json_object_get_double_member_with_default (o, "top", 0),
                                          json_object_get_double_member_with_default (o, "width", 0),
                                          json_object_get_double_member_with_default (o, "height", 0));
            }
        }
      gtk_accessible_update_property (GTK_ACCESSIBLE (shapes), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _("The image to classify"), -1);
      gtk_box_append (GTK_BOX (box), shapes);
    }

  control = control_new (self, node, multi ? CONTROL_MULTI : CONTROL_CHOICE, buttons);
  label_widget (buttons, header, kp_layout_node_get_attribute (node, "name"));
  for (guint i = 0; categories != NULL && categories[i] != NULL; i++)
    {
      GtkWidget *button = gtk_check_button_new_with_label (categories[i]);

      if (!multi)
        {
          if (group != NULL)
            gtk_check_button_set_group (GTK_CHECK_BUTTON (button), GTK_CHECK_BUTTON (group));
          else
            group = button;
        }
      else
        g_signal_connect (button, "toggled", G_CALLBACK (exclusive_toggled_cb), control);
      gtk_box_append (GTK_BOX (buttons), button);
      control_add_choice (control, button, categories[i]);
    }
  if (multi && exclusion != NULL && JSON_NODE_HOLDS_OBJECT (exclusion))
    {
      const char *text = json_object_get_string_member_with_default (json_node_get_object (exclusion),
                                                                    "text", NULL);

      if (text != NULL)
        {
          GtkWidget *button = gtk_check_button_new_with_label (text);

          g_signal_connect (button, "toggled", G_CALLBACK (exclusive_toggled_cb), control);
          gtk_box_append (GTK_BOX (buttons), button);
          control_add_choice (control, button, text);
        }
    }

  gtk_box_append (GTK_BOX (box), with_error (control, buttons));
  task_rest (self, box, node);

  return box;
}

/* crowd-entity-annotation */

static glong
utf16_offset (const char *text,
              int         chars)
{
  glong n = 0;
  const char *p = text;

  for (int i = 0; i < chars && *p != '\0'; i++, p = g_utf8_next_char (p))
    n += g_utf8_get_char (p) > 0xffff ? 2 : 1;

  return n;
}

static int
char_offset (const char *text,
             glong       utf16)
{
  glong n = 0;
  int chars = 0;

  for (const char *p = text; *p != '\0' && n < utf16; p = g_utf8_next_char (p), chars++)
    n += g_utf8_get_char (p) > 0xffff ? 2 : 1;

  return chars;
}

static void entities_changed (Control *control);

static void
remove_entity_cb (GtkButton *button,
                  Control   *control)
{
  guint index = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (button), "kp-entity-index"));

  if (index < control->entities->len)
    g_array_remove_index (control->entities, index);
  entities_changed (control);
}

static void
entity_clear (Entity *entity)
{
  g_free (entity->label);
}

static void
entities_changed (Control *control)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (control->widget));
  GtkTextIter start, end;
  GtkWidget *child;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  gtk_text_buffer_remove_all_tags (buffer, &start, &end);

  while ((child = gtk_widget_get_first_child (control->list_box)) != NULL)
    gtk_list_box_remove (GTK_LIST_BOX (control->list_box), child);

  for (guint i = 0; i < control->entities->len; i++)
    {
      Entity *e = &g_array_index (control->entities, Entity, i);
      g_autofree char *tag_name = g_strdup_printf ("kp-entity-%s", e->label);
      g_autofree char *text = NULL;
      g_autofree char *row_text = NULL;
      GtkWidget *row = new_box (GTK_ORIENTATION_HORIZONTAL, 6);
      GtkWidget *remove = gtk_button_new_from_icon_name ("window-close-symbolic");

      gtk_text_buffer_get_iter_at_offset (buffer, &start, e->start);
      gtk_text_buffer_get_iter_at_offset (buffer, &end, e->end);
      if (gtk_text_tag_table_lookup (gtk_text_buffer_get_tag_table (buffer), tag_name) != NULL)
        gtk_text_buffer_apply_tag_by_name (buffer, tag_name, &start, &end);
      text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);

      /* Translators: an entity in the list: the text, then its label. */
      row_text = g_strdup_printf (_("“%s”: %s"), text, e->label);
      gtk_box_append (GTK_BOX (row), new_text_label (row_text, FALSE));
      gtk_widget_set_tooltip_text (remove, _("Remove"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (remove), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _("Remove"), -1);
      gtk_widget_add_css_class (remove, "flat");
      g_object_set_data (G_OBJECT (remove), "kp-entity-index", GUINT_TO_POINTER (i));
      g_signal_connect (remove, "clicked", G_CALLBACK (remove_entity_cb), control);
      gtk_box_append (GTK_BOX (row), remove);
      gtk_list_box_append (GTK_LIST_BOX (control->list_box), row);
    }

  control_changed (control);
}

static void
add_entity (Control    *control,
            const char *label,
            int         start,
            int         end)
{
  Entity entity = { g_strdup (label), start, end };

  /* A new entity replaces those it overlaps, as a worker relabels text. */
  for (guint i = control->entities->len; i > 0; i--)
    {
      Entity *e = &g_array_index (control->entities, Entity, i - 1);

      if (e->start < end && start < e->end)
        g_array_remove_index (control->entities, i - 1);
    }
  g_array_append_val (control->entities, entity);
}

static void
entity_label_clicked_cb (GtkButton *button,
                         Control   *control)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (control->widget));
  GtkTextIter start, end;

  if (!gtk_text_buffer_get_selection_bounds (buffer, &start, &end))
    {
      gtk_label_set_text (GTK_LABEL (control->error_label), _("Select some text first"));
      gtk_widget_set_visible (control->error_label, TRUE);
      return;
    }

  for (guint i = 0; i < control->choices->len; i++)
    if (g_ptr_array_index (control->choices, i) == (gpointer)button)
      add_entity (control, g_ptr_array_index (control->choice_values, i),
                  gtk_text_iter_get_offset (&start), gtk_text_iter_get_offset (&end));
  gtk_widget_set_visible (control->error_label, FALSE);
  entities_changed (control);
}

static GtkWidget *
build_entities (KpLayoutView       *self,
                const KpLayoutNode *node)
{
  GtkWidget *header = NULL;
  GtkWidget *box = task_frame (self, node, &header);
  const char *text = kp_layout_node_get_attribute (node, "text");
  const char * const *labels = kp_layout_node_get_strv (node, "labels");
  g_autoptr(GPtrArray) display = g_ptr_array_new_with_free_func (g_free);
  JsonNode *labels_json = kp_layout_node_get_json (node, "labels");
  JsonNode *initial = kp_layout_node_get_json (node, "initial-value");
  GtkWidget *view = gtk_text_view_new ();
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (view));
  GtkWidget *frame = gtk_frame_new (NULL);
  Control *control;

  gtk_text_buffer_set_text (buffer, text != NULL ? text : "", -1);
  gtk_text_view_set_editable (GTK_TEXT_VIEW (view), FALSE);
  gtk_text_view_set_cursor_visible (GTK_TEXT_VIEW (view), TRUE);
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (view), GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_top_margin (GTK_TEXT_VIEW (view), 8);
  gtk_text_view_set_bottom_margin (GTK_TEXT_VIEW (view), 8);
  gtk_text_view_set_left_margin (GTK_TEXT_VIEW (view), 8);
  gtk_text_view_set_right_margin (GTK_TEXT_VIEW (view), 8);
  gtk_frame_set_child (GTK_FRAME (frame), view);

  control = control_new (self, node, CONTROL_ENTITIES, view);
  control->entities = g_array_new (FALSE, FALSE, sizeof (Entity));
  g_array_set_clear_func (control->entities, (GDestroyNotify)entity_clear);
  label_widget (view, header, kp_layout_node_get_attribute (node, "name"));

  for (guint i = 0; labels != NULL && labels[i] != NULL; i++)
    {
      g_autofree char *tag_name = g_strdup_printf ("kp-entity-%s", labels[i]);
      GdkRGBA color;
      char *shown = NULL;

      gdk_rgba_parse (&color, kp_layout_shapes_label_color (i));
      color.alpha = 0.35;
      gtk_text_buffer_create_tag (buffer, tag_name, "background-rgba", &color, NULL);

      /* Buttons show the full display name MTurk's labels give. */
      if (labels_json != NULL && JSON_NODE_HOLDS_ARRAY (labels_json) &&
          i < json_array_get_length (json_node_get_array (labels_json)))
        {
          JsonNode *element = json_array_get_element (json_node_get_array (labels_json), i);

          if (JSON_NODE_HOLDS_OBJECT (element))
            shown = g_strdup (json_object_get_string_member_with_default (json_node_get_object (element),
                                                                         "fullDisplayName", NULL));
        }
      g_ptr_array_add (display, shown);
    }
  g_ptr_array_add (display, NULL);

  {
    GtkWidget *chooser = label_chooser (control, labels, (const char * const *)display->pdata, FALSE);

    for (guint i = 0; i < control->choices->len; i++)
      g_signal_connect (g_ptr_array_index (control->choices, i), "clicked",
                        G_CALLBACK (entity_label_clicked_cb), control);
    gtk_box_append (GTK_BOX (box), chooser);
  }

  if (initial != NULL && JSON_NODE_HOLDS_ARRAY (initial))
    {
      JsonArray *array = json_node_get_array (initial);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *e = json_array_get_element (array, i);
          JsonObject *o = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
          const char *label = o != NULL ? json_object_get_string_member_with_default (o, "label", NULL) : NULL;

          if (label != NULL && text != NULL)
            add_entity (control, label,
                        char_offset (text, json_object_get_int_member_with_default (o, "startOffset", 0)),
                        char_offset (text, json_object_get_int_member_with_default (o, "endOffset", 0)));
        }
    }

  control->list_box = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (control->list_box), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (control->list_box, "boxed-list");
  gtk_accessible_update_property (GTK_ACCESSIBLE (control->list_box), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Labeled text"), -1);
  entities_changed (control);

  gtk_box_append (GTK_BOX (box), with_error (control, frame));
  gtk_box_append (GTK_BOX (box), control->list_box);
  task_rest (self, box, node);

  return box;
}

static JsonNode *
entities_value (Control *control)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  const char *text = kp_layout_node_get_attribute (control->node, "text");

  json_builder_begin_array (builder);
  for (guint i = 0; i < control->entities->len; i++)
    {
      Entity *e = &g_array_index (control->entities, Entity, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "label");
      json_builder_add_string_value (builder, e->label);
      json_builder_set_member_name (builder, "startOffset");
      json_builder_add_int_value (builder, utf16_offset (text != NULL ? text : "", e->start));
      json_builder_set_member_name (builder, "endOffset");
      json_builder_add_int_value (builder, utf16_offset (text != NULL ? text : "", e->end));
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  return json_builder_get_root (builder);
}

/* Text fields */

static GtkWidget *
new_text_view (const char *text,
               int         lines,
               GtkWidget **view_out)
{
  GtkWidget *view = gtk_text_view_new ();
  GtkWidget *frame = gtk_frame_new (NULL);

  gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (view)), text != NULL ? text : "", -1);
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (view), GTK_WRAP_WORD_CHAR);
  gtk_text_view_set_accepts_tab (GTK_TEXT_VIEW (view), FALSE);
  gtk_text_view_set_top_margin (GTK_TEXT_VIEW (view), 6);
  gtk_text_view_set_bottom_margin (GTK_TEXT_VIEW (view), 6);
  gtk_text_view_set_left_margin (GTK_TEXT_VIEW (view), 6);
  gtk_text_view_set_right_margin (GTK_TEXT_VIEW (view), 6);
  gtk_widget_set_size_request (view, -1, 22 * MAX (lines, 2));
  gtk_frame_set_child (GTK_FRAME (frame), view);
  *view_out = view;

  return frame;
}

static void
text_counter_cb (GtkTextBuffer *buffer,
                 GtkLabel      *counter)
{
  int max = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (counter), "kp-max"));
  g_autofree char *text = NULL;

  if (max > 0)
    text = g_strdup_printf ("%d / %d", gtk_text_buffer_get_char_count (buffer), max);
  else
    text = g_strdup_printf ("%d", gtk_text_buffer_get_char_count (buffer));
  gtk_label_set_text (counter, text);
}

/* crowd-input's allowed-pattern: characters that do not match are
 * refused as the worker types, as MTurk does. */
static void
allowed_insert_text_cb (GtkEditable *editable,
                        const char  *text,
                        int          length,
                        int         *position,
                        GRegex      *regex)
{
  const char *end = text + (length < 0 ? strlen (text) : (gsize)length);

  for (const char *p = text; p < end; p = g_utf8_next_char (p))
    {
      g_autofree char *c = g_strndup (p, g_utf8_next_char (p) - p);

      if (!g_regex_match (regex, c, 0, NULL))
        {
          GString *kept = g_string_new (NULL);

          /* Insert what matches, once, without this handler. */
          for (const char *q = text; q < end; q = g_utf8_next_char (q))
            {
              g_autofree char *d = g_strndup (q, g_utf8_next_char (q) - q);

              if (g_regex_match (regex, d, 0, NULL))
                g_string_append (kept, d);
            }
          g_signal_handlers_block_by_func (editable, allowed_insert_text_cb, regex);
          gtk_editable_insert_text (editable, kept->str, kept->len, position);
          g_signal_handlers_unblock_by_func (editable, allowed_insert_text_cb, regex);
          g_signal_stop_emission_by_name (editable, "insert-text");
          gtk_widget_error_bell (GTK_WIDGET (editable));
          g_string_free (kept, TRUE);
          return;
        }
    }
}

static GtkWidget *
build_text_field (KpLayoutView       *self,
                  const KpLayoutNode *node)
{
  gboolean area = node->kind == KP_LAYOUT_NODE_CROWD_TEXT_AREA || node->kind == KP_LAYOUT_NODE_TEXTAREA;
  const char *label = kp_layout_node_get_attribute (node, "label");
  const char *value = kp_layout_node_get_attribute (node, "value");
  const char *placeholder = kp_layout_node_get_attribute (node, "placeholder");
  const char *type = kp_layout_node_get_attribute (node, "type");
  g_autofree char *text = NULL;
  Control *control;
  GtkWidget *widget, *outer;

  if (node->kind == KP_LAYOUT_NODE_TEXTAREA)
    {
      text = kp_layout_node_dup_text (node);
      value = text;
    }

  if (area)
    {
      double rows = kp_layout_node_get_number (node, "rows", 2);

      outer = new_text_view (value, (int)rows, &widget);
      control = control_new (self, node, CONTROL_TEXT_VIEW, widget);
      if (kp_layout_node_get_boolean (node, "char-counter"))
        {
          GtkWidget *box = new_box (GTK_ORIENTATION_VERTICAL, 2);
          GtkWidget *counter = gtk_label_new (NULL);
          GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (widget));

          gtk_widget_add_css_class (counter, "dim-label");
          gtk_widget_add_css_class (counter, "caption");
          gtk_label_set_xalign (GTK_LABEL (counter), 1);
          g_object_set_data (G_OBJECT (counter), "kp-max",
                             GINT_TO_POINTER ((int)kp_layout_node_get_number (node, "max-length", 0)));
          g_signal_connect (buffer, "changed", G_CALLBACK (text_counter_cb), counter);
          text_counter_cb (buffer, GTK_LABEL (counter));
          gtk_box_append (GTK_BOX (box), outer);
          gtk_box_append (GTK_BOX (box), counter);
          outer = box;
        }
    }
  else
    {
      double max_length = kp_layout_node_get_number (node, "max-length", 0);

      widget = gtk_entry_new ();
      outer = widget;
      if (value != NULL)
        gtk_editable_set_text (GTK_EDITABLE (widget), value);
      if (placeholder != NULL)
        gtk_entry_set_placeholder_text (GTK_ENTRY (widget), placeholder);
      if (max_length > 0 && max_length < G_MAXINT)
        gtk_entry_set_max_length (GTK_ENTRY (widget), (int)max_length);
      if (g_strcmp0 (type, "password") == 0)
        gtk_entry_set_visibility (GTK_ENTRY (widget), FALSE);
      else if (g_strcmp0 (type, "number") == 0)
        gtk_entry_set_input_purpose (GTK_ENTRY (widget), GTK_INPUT_PURPOSE_NUMBER);
      else if (g_strcmp0 (type, "email") == 0)
        gtk_entry_set_input_purpose (GTK_ENTRY (widget), GTK_INPUT_PURPOSE_EMAIL);
      else if (g_strcmp0 (type, "url") == 0)
        gtk_entry_set_input_purpose (GTK_ENTRY (widget), GTK_INPUT_PURPOSE_URL);
      control = control_new (self, node, CONTROL_ENTRY, widget);
      g_signal_connect_swapped (widget, "activate", G_CALLBACK (kp_layout_view_submit), self);
      if (node->kind == KP_LAYOUT_NODE_CROWD_INPUT &&
          kp_layout_node_get_attribute (node, "allowed-pattern") != NULL)
        {
          GRegex *regex = g_regex_new (kp_layout_node_get_attribute (node, "allowed-pattern"), 0, 0, NULL);

          /* An invalid pattern is core's error to report. */
          if (regex != NULL)
            g_signal_connect_data (gtk_editable_get_delegate (GTK_EDITABLE (widget)), "insert-text",
                                   G_CALLBACK (allowed_insert_text_cb), regex,
                                   (GClosureNotify)(void (*) (void))g_regex_unref, 0);
        }
    }

  if (kp_layout_node_get_boolean (node, "disabled"))
    gtk_widget_set_sensitive (widget, FALSE);

  {
    GtkWidget *box = new_box (GTK_ORIENTATION_VERTICAL, 4);

    if (label != NULL && *label != '\0')
      {
        GtkWidget *l = new_text_label (label, FALSE);

        gtk_widget_add_css_class (l, "heading");
        gtk_box_append (GTK_BOX (box), l);
        label_widget (widget, l, NULL);
      }
    else
      label_widget (widget, NULL, placeholder != NULL ? placeholder : control->key);
    gtk_box_append (GTK_BOX (box), with_error (control, outer));
    return box;
  }
}

static void
slider_changed_cb (GtkRange *range,
                   Control  *control)
{
  control->touched = TRUE;
}

static GtkWidget *
build_slider (KpLayoutView       *self,
              const KpLayoutNode *node)
{
  double min = kp_layout_node_get_number (node, "min", 0);
  double max = kp_layout_node_get_number (node, "max", 100);
  double step = kp_layout_node_get_number (node, "step", 1);
  const char *value = kp_layout_node_get_attribute (node, "value");
  GtkAdjustment *adjustment;
  GtkWidget *scale, *row;
  Control *control;

  if (max < min)
    max = min;
  if (step <= 0)
    step = 1;
  adjustment = gtk_adjustment_new (value != NULL ? g_ascii_strtod (value, NULL) : min, min, max, step, step, 0);
  scale = gtk_scale_new (GTK_ORIENTATION_HORIZONTAL, adjustment);
  gtk_scale_set_digits (GTK_SCALE (scale), step == floor (step) ? 0 : 2);
  gtk_scale_set_draw_value (GTK_SCALE (scale), kp_layout_node_get_boolean (node, "pin"));
  gtk_widget_set_hexpand (scale, TRUE);
  control = control_new (self, node, CONTROL_SLIDER, scale);
  g_signal_connect (scale, "value-changed", G_CALLBACK (slider_changed_cb), control);

  row = new_box (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_append (GTK_BOX (row), scale);
  if (kp_layout_node_get_boolean (node, "editable"))
    {
      GtkWidget *spin = gtk_spin_button_new (adjustment, step, step == floor (step) ? 0 : 2);

      label_widget (spin, NULL, control->key);
      gtk_box_append (GTK_BOX (row), spin);
    }
  if (kp_layout_node_get_boolean (node, "disabled"))
    gtk_widget_set_sensitive (row, FALSE);

  {
    const char *label = kp_layout_node_get_attribute (node, "label");
    GtkWidget *box = new_box (GTK_ORIENTATION_VERTICAL, 4);

    if (label != NULL && *label != '\0')
      {
        GtkWidget *l = new_text_label (label, FALSE);

        gtk_widget_add_css_class (l, "heading");
        gtk_box_append (GTK_BOX (box), l);
        label_widget (scale, l, NULL);
      }
    else
      label_widget (scale, NULL, control->key);
    gtk_box_append (GTK_BOX (box), with_error (control, row));
    return box;
  }
}

/* Toggles */

static GtkWidget *
build_toggle (KpLayoutView       *self,
              const KpLayoutNode *node,
              const char         *text_override)
{
  g_autofree char *text = text_override != NULL ? g_strdup (text_override) : kp_layout_node_dup_text (node);
  const char *name = kp_layout_node_get_attribute (node, "name");
  gboolean checked = kp_layout_node_get_boolean (node, "checked");
  GtkWidget *widget;
  Control *control;

  g_strstrip (text);
  if (node->kind == KP_LAYOUT_NODE_CROWD_TOGGLE_BUTTON)
    {
      GtkWidget *row = new_box (GTK_ORIENTATION_HORIZONTAL, 8);
      GtkWidget *label = new_text_label (*text != '\0' ? text : (name != NULL ? name : ""), FALSE);

      widget = gtk_switch_new ();
      gtk_switch_set_active (GTK_SWITCH (widget), checked);
      gtk_widget_set_valign (widget, GTK_ALIGN_CENTER);
      gtk_box_append (GTK_BOX (row), widget);
      gtk_box_append (GTK_BOX (row), label);
      label_widget (widget, label, NULL);
      control = control_new (self, node, CONTROL_TOGGLE, widget);
      if (kp_layout_node_get_boolean (node, "disabled"))
        gtk_widget_set_sensitive (widget, FALSE);
      return with_error (control, row);
    }

  widget = gtk_check_button_new_with_label (*text != '\0' ? text : name);
  gtk_check_button_set_active (GTK_CHECK_BUTTON (widget), checked);
  if (node->kind == KP_LAYOUT_NODE_RADIO || node->kind == KP_LAYOUT_NODE_CROWD_RADIO_BUTTON)
    {
      GtkWidget *group = name != NULL ? g_hash_table_lookup (self->radio_groups, name) : NULL;

      if (group != NULL)
        gtk_check_button_set_group (GTK_CHECK_BUTTON (widget), GTK_CHECK_BUTTON (group));
      else if (name != NULL)
        g_hash_table_insert (self->radio_groups, (gpointer)name, widget);
    }
  if (kp_layout_node_get_boolean (node, "disabled"))
    gtk_widget_set_sensitive (widget, FALSE);
  control = control_new (self, node, CONTROL_TOGGLE, widget);

  return with_error (control, widget);
}

static GtkWidget *
build_radio_group (KpLayoutView       *self,
                   const KpLayoutNode *node)
{
  GtkWidget *box = new_box (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *group = NULL;
  Control *control = control_new (self, node, CONTROL_RADIO_GROUP, box);

  label_widget (box, NULL, control->key);
  gtk_accessible_update_property (GTK_ACCESSIBLE (box), GTK_ACCESSIBLE_PROPERTY_ORIENTATION,
                                  GTK_ORIENTATION_VERTICAL, -1);
  for (guint i = 0; i < node->children->len; i++)
    {
      const KpLayoutNode *child = g_ptr_array_index (node->children, i);
      const char *value, *name;
      g_autofree char *text = NULL;
      GtkWidget *button;

      if (child->kind != KP_LAYOUT_NODE_CROWD_RADIO_BUTTON)
        {
          GtkWidget *widget = is_inline (child) ? NULL : build_node (self, child);

          if (widget != NULL)
            gtk_box_append (GTK_BOX (box), widget);
          continue;
        }

      value = kp_layout_node_get_attribute (child, "value");
      name = kp_layout_node_get_attribute (child, "name");
      text = kp_layout_node_dup_text (child);
      g_strstrip (text);
      button = gtk_check_button_new_with_label (*text != '\0' ? text : (value != NULL ? value : name));
      if (group != NULL)
        gtk_check_button_set_group (GTK_CHECK_BUTTON (button), GTK_CHECK_BUTTON (group));
      else
        group = button;
      if (kp_layout_node_get_boolean (child, "checked"))
        gtk_check_button_set_active (GTK_CHECK_BUTTON (button), TRUE);
      if (kp_layout_node_get_boolean (child, "disabled"))
        gtk_widget_set_sensitive (button, FALSE);
      gtk_box_append (GTK_BOX (box), button);
      control_add_choice (control, button, value != NULL && *value != '\0' ? value : name);
      /* The button's own position finds the group's control too. */
      g_hash_table_insert (self->by_position, position_key (child->line, child->column), control);
    }

  return with_error (control, box);
}

/* Plain <select> */

static GtkWidget *
build_select (KpLayoutView       *self,
              const KpLayoutNode *node)
{
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
  GtkWidget *drop;
  Control *control;
  guint selected = 0;

  for (guint i = 0; i < node->children->len; i++)
    {
      const KpLayoutNode *option = g_ptr_array_index (node->children, i);
      const char *value = kp_layout_node_get_attribute (option, "value");
      char *text;

      if (option->kind != KP_LAYOUT_NODE_OPTION)
        continue;
      text = kp_layout_node_dup_text (option);
      g_strstrip (text);
      if (kp_layout_node_get_boolean (option, "selected"))
        selected = texts->len;
      g_ptr_array_add (texts, text);
      g_ptr_array_add (values, g_strdup (value != NULL ? value : text));
    }
  g_ptr_array_add (texts, NULL);
  g_ptr_array_add (values, NULL);

  drop = gtk_drop_down_new_from_strings ((const char * const *)texts->pdata);
  gtk_drop_down_set_selected (GTK_DROP_DOWN (drop), selected);
  gtk_widget_set_halign (drop, GTK_ALIGN_START);
  control = control_new (self, node, CONTROL_DROP_DOWN, drop);
  control->values = (GStrv)g_ptr_array_steal (values, NULL);
  label_widget (drop, NULL, control->key);

  return with_error (control, drop);
}

/* Media placeholders */

static void
open_uri_cb (GtkButton  *button,
             const char *uri)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (button));

  gtk_show_uri (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, uri, GDK_CURRENT_TIME);
}

/* <video src=…>: GTK's own player (GtkVideo, through GStreamer), never
 * started by itself; width and height as the template asks, else 480 px
 * wide. A file that does not play shows GtkVideo's own error in place. */
static GtkWidget *
build_video (KpLayoutView       *self,
             const KpLayoutNode *node)
{
  g_autoptr(GFile) file = kp_layout_resolve_src (kp_layout_node_get_attribute (node, "src"),
                                                 self->base);
  const char *width = kp_layout_node_get_attribute (node, "width");
  const char *height = kp_layout_node_get_attribute (node, "height");
  const char *title = kp_layout_node_get_attribute (node, "title");
  GtkWidget *video = gtk_video_new_for_file (file);
  gint64 w = width != NULL ? g_ascii_strtoll (width, NULL, 10) : 0;
  gint64 h = height != NULL ? g_ascii_strtoll (height, NULL, 10) : 0;

  gtk_video_set_autoplay (GTK_VIDEO (video), FALSE);
  gtk_video_set_loop (GTK_VIDEO (video), kp_layout_node_get_attribute (node, "loop") != NULL);
  gtk_widget_set_size_request (video,
                               w > 0 && w <= 4096 ? (int)w : 480,
                               h > 0 && h <= 4096 ? (int)h : 270);
  gtk_widget_set_halign (video, GTK_ALIGN_START);
  gtk_accessible_update_property (GTK_ACCESSIBLE (video),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  title != NULL ? title : _("Video"),
                                  -1);
  return video;
}

static GtkWidget *
media_placeholder (KpLayoutView       *self,
                   const KpLayoutNode *node,
                   const char         *icon,
                   const char         *what)
{
  GtkWidget *frame = gtk_frame_new (NULL);
  GtkWidget *box = new_box (GTK_ORIENTATION_HORIZONTAL, 12);
  const char *src = kp_layout_node_get_attribute (node, "src");
  g_autofree char *text = g_strdup_printf ("%s\n<small>%s</small>", what,
                                           src != NULL ? src : "");
  g_autofree char *escaped = NULL;
  GtkWidget *label;

  escaped = g_markup_printf_escaped ("%s\n<small>%s</small>", what, src != NULL ? src : "");
  label = new_text_label (escaped, TRUE);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_box_append (GTK_BOX (box), gtk_image_new_from_icon_name (icon));
  gtk_box_append (GTK_BOX (box), label);
  if (src != NULL && (g_str_has_prefix (src, "https://") || g_str_has_prefix (src, "http://")))
    {
      GtkWidget *button = gtk_button_new_with_label (_("Open"));

      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      g_object_set_data_full (G_OBJECT (button), "kp-uri", g_strdup (src), g_free);
      g_signal_connect (button, "clicked", G_CALLBACK (open_uri_cb),
                        g_object_get_data (G_OBJECT (button), "kp-uri"));
      gtk_box_append (GTK_BOX (box), button);
    }
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  gtk_frame_set_child (GTK_FRAME (frame), box);
  gtk_accessible_update_property (GTK_ACCESSIBLE (frame), GTK_ACCESSIBLE_PROPERTY_LABEL, text, -1);

  return frame;
}

/* <audio>, <video> and our media elements stream their src themselves;
 * the requester still learns at once when it cannot be fetched. */
static void
check_reachable (KpLayoutView       *self,
                 const KpLayoutNode *node)
{
  const char *src = kp_layout_node_get_attribute (node, "src");

  if (self->media_func == NULL && kp_layout_media_is_remote (src))
    request_remote (self, node, src, FALSE);
}

static GtkWidget *
build_picture (KpLayoutView       *self,
               const KpLayoutNode *node,
               const char         *attribute)
{
  GdkTexture *texture = load_texture (self, node, attribute, FALSE);
  const char *alt = kp_layout_node_get_attribute (node, "alt");
  GtkWidget *picture;

  if (texture == NULL)
    {
      /* Images are many on long pages: one label, framed. */
      const char *src = kp_layout_node_get_attribute (node, "src");
      g_autofree char *markup = g_markup_printf_escaped ("%s\n<small>%s</small>",
                                                         alt != NULL && *alt != '\0' ? alt : _("Image"),
                                                         src != NULL ? src : "");
      GtkWidget *frame = gtk_frame_new (NULL);
      GtkWidget *label = new_text_label (markup, TRUE);

      gtk_widget_set_margin_start (label, 12);
      gtk_widget_set_margin_end (label, 12);
      gtk_widget_set_margin_top (label, 8);
      gtk_widget_set_margin_bottom (label, 8);
      gtk_frame_set_child (GTK_FRAME (frame), label);
      gtk_widget_set_halign (frame, GTK_ALIGN_START);
      return frame;
    }

  picture = gtk_picture_new_for_paintable (GDK_PAINTABLE (texture));
  attach_waiter (self, node, picture);
  gtk_picture_set_can_shrink (GTK_PICTURE (picture), TRUE);
  gtk_picture_set_content_fit (GTK_PICTURE (picture), GTK_CONTENT_FIT_CONTAIN);
  gtk_widget_set_halign (picture, GTK_ALIGN_START);
  gtk_widget_set_size_request (picture, MIN (gdk_texture_get_width (texture), 480),
                               MIN (gdk_texture_get_height (texture), 360));
  if (alt != NULL)
    gtk_picture_set_alternative_text (GTK_PICTURE (picture), alt);

  return picture;
}

/* Lists and tables */

static GtkWidget *
build_list (KpLayoutView       *self,
            const KpLayoutNode *node)
{
  GtkWidget *box;
  int number = 1;
  gboolean simple = TRUE;

  for (guint i = 0; i < node->children->len && simple; i++)
    {
      const KpLayoutNode *child = g_ptr_array_index (node->children, i);

      simple = child->kind == KP_LAYOUT_NODE_LIST_ITEM ? children_inline (child) : is_inline (child);
    }

  /* A list of text is one label, a line per item. */
  if (simple)
    {
      g_autoptr(GString) markup = g_string_new (NULL);
      g_autoptr(GString) plain = g_string_new (NULL);
      GtkWidget *label;

      for (guint i = 0; i < node->children->len; i++)
        {
          const KpLayoutNode *child = g_ptr_array_index (node->children, i);
          g_autoptr(GString) item = g_string_new (NULL);

          if (child->kind != KP_LAYOUT_NODE_LIST_ITEM)
            continue;
          for (guint j = 0; j < child->children->len; j++)
            append_markup (item, plain, g_ptr_array_index (child->children, j));
          if (markup->len > 0)
            g_string_append_c (markup, '\n');
          if (node->level == 1)
            g_string_append_printf (markup, "%d. %s", number++, g_strstrip (item->str));
          else
            g_string_append_printf (markup, "• %s", g_strstrip (item->str));
        }
      label = new_text_label (markup->str, TRUE);
      gtk_widget_set_margin_start (label, 12);
      return label;
    }

  box = new_box (GTK_ORIENTATION_VERTICAL, 4);
  gtk_widget_set_margin_start (box, 12);
  for (guint i = 0; i < node->children->len; i++)
    {
      const KpLayoutNode *child = g_ptr_array_index (node->children, i);
      GtkWidget *row, *marker;
      g_autofree char *text = NULL;

      if (child->kind != KP_LAYOUT_NODE_LIST_ITEM)
        {
          GtkWidget *widget = is_inline (child) ? NULL : build_node (self, child);

          if (widget != NULL)
            gtk_box_append (GTK_BOX (box), widget);
          continue;
        }

      row = new_box (GTK_ORIENTATION_HORIZONTAL, 6);
      text = node->level == 1 ? g_strdup_printf ("%d.", number++) : g_strdup ("•");
      marker = gtk_label_new (text);
      gtk_widget_set_valign (marker, GTK_ALIGN_START);
      gtk_box_append (GTK_BOX (row), marker);
      gtk_box_append (GTK_BOX (row), build_block (self, child, 4));
      gtk_box_append (GTK_BOX (box), row);
    }

  return box;
}

static GtkWidget *
build_table (KpLayoutView       *self,
             const KpLayoutNode *node)
{
  GtkWidget *grid = gtk_grid_new ();
  int row = 0;

  gtk_grid_set_row_spacing (GTK_GRID (grid), 4);
  gtk_grid_set_column_spacing (GTK_GRID (grid), 12);
  gtk_accessible_update_property (GTK_ACCESSIBLE (grid), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  _("Table"), -1);
  for (guint i = 0; i < node->children->len; i++)
    {
      const KpLayoutNode *tr = g_ptr_array_index (node->children, i);
      int column = 0;

      if (tr->kind != KP_LAYOUT_NODE_TABLE_ROW)
        continue;
      for (guint j = 0; j < tr->children->len; j++)
        {
          const KpLayoutNode *cell = g_ptr_array_index (tr->children, j);
          GtkWidget *widget;

          if (cell->kind != KP_LAYOUT_NODE_TABLE_CELL)
            continue;
          widget = build_block (self, cell, 2);
          if (cell->level == 1)
            gtk_widget_add_css_class (widget, "heading");
          gtk_grid_attach (GTK_GRID (grid), widget, column++, row, 1, 1);
        }
      row++;
    }

  return grid;
}

/* Other crowd elements */

static void
dismiss_cb (GtkButton *button,
            GtkWidget *alert)
{
  gtk_widget_set_visible (alert, FALSE);
}

static GtkWidget *
build_alert (KpLayoutView       *self,
             const KpLayoutNode *node)
{
  const char *type = kp_layout_node_get_attribute (node, "type");
  GtkWidget *box = new_box (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *content = build_block (self, node, 4);
  const char *icon = "dialog-information-symbolic";

  if (g_strcmp0 (type, "warning") == 0)
    icon = "dialog-warning-symbolic";
  else if (g_strcmp0 (type, "error") == 0)
    icon = "dialog-error-symbolic";
  else if (g_strcmp0 (type, "success") == 0)
    icon = "object-select-symbolic";

  gtk_widget_add_css_class (box, "card");
  if (type != NULL && (g_str_equal (type, "warning") || g_str_equal (type, "error") ||
                       g_str_equal (type, "success")))
    gtk_widget_add_css_class (box, type);
  gtk_widget_set_hexpand (content, TRUE);
  gtk_widget_set_margin_top (content, 8);
  gtk_widget_set_margin_bottom (content, 8);
  gtk_accessible_update_property (GTK_ACCESSIBLE (box), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  _("Alert"), -1);
  {
    GtkWidget *image = gtk_image_new_from_icon_name (icon);

    gtk_widget_set_margin_start (image, 12);
    gtk_box_append (GTK_BOX (box), image);
  }
  gtk_box_append (GTK_BOX (box), content);
  if (kp_layout_node_get_boolean (node, "dismissible"))
    {
      GtkWidget *close = gtk_button_new_from_icon_name ("window-close-symbolic");

      gtk_widget_add_css_class (close, "flat");
      gtk_widget_set_valign (close, GTK_ALIGN_CENTER);
      gtk_widget_set_tooltip_text (close, _("Dismiss"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (close), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      _("Dismiss"), -1);
      g_signal_connect (close, "clicked", G_CALLBACK (dismiss_cb), box);
      gtk_box_append (GTK_BOX (box), close);
    }

  return box;
}

static GtkWidget *
build_button (KpLayoutView       *self,
              const KpLayoutNode *node)
{
  g_autofree char *text = kp_layout_node_dup_text (node);
  const char *icon = kp_layout_node_get_attribute (node, "icon");
  const char *variant = kp_layout_node_get_attribute (node, "variant");
  GtkWidget *button;

  g_strstrip (text);
  if (node->kind == KP_LAYOUT_NODE_CROWD_ICON_BUTTON || (*text == '\0' && icon != NULL))
    {
      button = gtk_button_new_from_icon_name ("emblem-system-symbolic");
      gtk_widget_set_tooltip_text (button, icon != NULL ? icon : text);
      gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                      icon != NULL ? icon : text, -1);
    }
  else
    button = gtk_button_new_with_label (*text != '\0' ? text : (icon != NULL ? icon : _("Button")));

  gtk_widget_set_halign (button, GTK_ALIGN_START);
  if (g_strcmp0 (variant, "primary") == 0 || node->kind == KP_LAYOUT_NODE_CROWD_FAB)
    gtk_widget_add_css_class (button, "suggested-action");
  if (node->kind == KP_LAYOUT_NODE_CROWD_FAB)
    gtk_widget_add_css_class (button, "pill");
  if (kp_layout_node_get_boolean (node, "disabled"))
    gtk_widget_set_sensitive (button, FALSE);
  if (g_strcmp0 (kp_layout_node_get_attribute (node, "form-action"), "submit") == 0)
    {
      gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "layout.submit");
      self->has_submit = TRUE;
    }

  return button;
}

static GtkWidget *
build_card (KpLayoutView       *self,
            const KpLayoutNode *node)
{
  GtkWidget *box = new_box (GTK_ORIENTATION_VERTICAL, 8);
  const char *heading = kp_layout_node_get_attribute (node, "heading");
  GtkWidget *content = build_block (self, node, 6);

  gtk_widget_add_css_class (box, "card");
  if (kp_layout_node_get_attribute (node, "image") != NULL)
    gtk_box_append (GTK_BOX (box), build_picture (self, node, "image"));
  if (heading != NULL && *heading != '\0')
    {
      GtkWidget *label = new_heading (heading, 4);

      gtk_widget_set_margin_start (label, 12);
      gtk_widget_set_margin_top (label, 12);
      gtk_box_append (GTK_BOX (box), label);
    }
  gtk_widget_set_margin_start (content, 12);
  gtk_widget_set_margin_end (content, 12);
  gtk_widget_set_margin_bottom (content, 12);
  gtk_box_append (GTK_BOX (box), content);

  return box;
}

static GtkWidget *
build_tabs (KpLayoutView       *self,
            const KpLayoutNode *node)
{
  GtkWidget *notebook = gtk_notebook_new ();

  for (guint i = 0; i < node->children->len; i++)
    {
      const KpLayoutNode *tab = g_ptr_array_index (node->children, i);
      const char *header;
      GtkWidget *page;

      if (tab->kind != KP_LAYOUT_NODE_CROWD_TAB)
        continue;
      header = kp_layout_node_get_attribute (tab, "header");
      page = build_block (self, tab, 6);
      gtk_widget_set_margin_start (page, 12);
      gtk_widget_set_margin_end (page, 12);
      gtk_widget_set_margin_top (page, 12);
      gtk_widget_set_margin_bottom (page, 12);
      gtk_notebook_append_page (GTK_NOTEBOOK (notebook), page,
                                gtk_label_new (header != NULL ? header : ""));
    }

  return notebook;
}

static void
present_modal_cb (GtkButton *button,
                  GtkWindow *modal)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (button));

  if (GTK_IS_WINDOW (root))
    gtk_window_set_transient_for (modal, GTK_WINDOW (root));
  gtk_window_present (modal);
}

static GtkWidget *
build_modal (KpLayoutView       *self,
             const KpLayoutNode *node)
{
  const char *link_text = kp_layout_node_get_attribute (node, "link-text");
  const char *link_type = kp_layout_node_get_attribute (node, "link-type");
  GtkWidget *button = gtk_button_new_with_label (link_text != NULL ? link_text : _("More"));
  GtkWidget *modal = gtk_window_new ();
  GtkWidget *content = build_block (self, node, 6);
  GtkWidget *scroller = gtk_scrolled_window_new ();

  gtk_widget_set_halign (button, GTK_ALIGN_START);
  if (g_strcmp0 (link_type, "button") != 0)
    gtk_widget_add_css_class (button, "flat");
  gtk_window_set_modal (GTK_WINDOW (modal), TRUE);
  gtk_window_set_hide_on_close (GTK_WINDOW (modal), TRUE);
  gtk_window_set_default_size (GTK_WINDOW (modal), 480, 360);
  gtk_window_set_title (GTK_WINDOW (modal), link_text != NULL ? link_text : _("More"));
  gtk_widget_set_margin_start (content, 18);
  gtk_widget_set_margin_end (content, 18);
  gtk_widget_set_margin_top (content, 18);
  gtk_widget_set_margin_bottom (content, 18);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), content);
  gtk_window_set_child (GTK_WINDOW (modal), scroller);
  g_ptr_array_add (self->windows, modal);
  g_signal_connect (button, "clicked", G_CALLBACK (present_modal_cb), modal);

  return button;
}

static GtkWidget *
build_instructions (KpLayoutView       *self,
                    const KpLayoutNode *node)
{
  const char *link_text = kp_layout_node_get_attribute (node, "link-text");
  GtkWidget *expander = gtk_expander_new (link_text != NULL ? link_text : _("Instructions"));
  GtkWidget *box = new_box (GTK_ORIENTATION_VERTICAL, 8);
  static const struct {
    KpLayoutNodeKind kind;
    const char *title;
  } sections[] = {
    { KP_LAYOUT_NODE_REGION_SHORT_SUMMARY, N_("Summary") },
    { KP_LAYOUT_NODE_REGION_DETAILED_INSTRUCTIONS, N_("Instructions") },
    { KP_LAYOUT_NODE_REGION_POSITIVE_EXAMPLE, N_("Good examples") },
    { KP_LAYOUT_NODE_REGION_NEGATIVE_EXAMPLE, N_("Bad examples") },
  };

  for (guint s = 0; s < G_N_ELEMENTS (sections); s++)
    {
      gboolean titled = FALSE;

      for (guint i = 0; i < node->children->len; i++)
        {
          const KpLayoutNode *child = g_ptr_array_index (node->children, i);
          GtkWidget *section;

          if (child->kind != sections[s].kind)
            continue;
          if (!titled)
            {
              gtk_box_append (GTK_BOX (box), new_heading (_(sections[s].title), 5));
              titled = TRUE;
            }
          section = build_block (self, child, 6);
          if (sections[s].kind == KP_LAYOUT_NODE_REGION_POSITIVE_EXAMPLE)
            gtk_widget_add_css_class (section, "success");
          else if (sections[s].kind == KP_LAYOUT_NODE_REGION_NEGATIVE_EXAMPLE)
            gtk_widget_add_css_class (section, "error");
          gtk_box_append (GTK_BOX (box), section);
        }
    }
  /* Content outside the regions, as MTurk shows it in the summary. */
  task_rest (self, box, node);

  gtk_expander_set_child (GTK_EXPANDER (expander), box);
  return expander;
}

/* QuestionForm */

static GtkWidget *
build_question (KpLayoutView       *self,
                const KpLayoutNode *node)
{
  GtkWidget *box = new_box (GTK_ORIENTATION_VERTICAL, 8);
  const char *display = kp_layout_node_get_attribute (node, "display-name");
  const char *id = kp_layout_node_get_attribute (node, "identifier");
  g_autofree char *title = NULL;

  gtk_widget_add_css_class (box, "card");
  title = kp_layout_node_get_boolean (node, "required")
          /* Translators: a required question's title. */
          ? g_strdup_printf (_("%s (required)"), display != NULL ? display : id)
          : g_strdup (display != NULL ? display : id);
  if (title != NULL)
    gtk_box_append (GTK_BOX (box), new_heading (title, 4));
  build_children (self, box, node);
  gtk_widget_set_margin_start (gtk_widget_get_first_child (box), 0);
  for (GtkWidget *child = gtk_widget_get_first_child (box); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      gtk_widget_set_margin_start (child, 12);
      gtk_widget_set_margin_end (child, 12);
    }
  gtk_widget_set_margin_top (gtk_widget_get_first_child (box), 12);
  gtk_widget_set_margin_bottom (gtk_widget_get_last_child (box), 12);

  return box;
}

static GtkWidget *
build_free_text (KpLayoutView       *self,
                 const KpLayoutNode *node)
{
  const char *def = kp_layout_node_get_attribute (node, "default");
  int lines = (int)kp_layout_node_get_number (node, "lines", 1);
  GtkWidget *widget, *outer;
  Control *control;

  if (lines > 1)
    {
      outer = new_text_view (def, lines, &widget);
      control = control_new (self, node, CONTROL_TEXT_VIEW, widget);
    }
  else
    {
      widget = gtk_entry_new ();
      outer = widget;
      if (def != NULL)
        gtk_editable_set_text (GTK_EDITABLE (widget), def);
      if (kp_layout_node_get_boolean (node, "numeric"))
        gtk_entry_set_input_purpose (GTK_ENTRY (widget), GTK_INPUT_PURPOSE_NUMBER);
      control = control_new (self, node, CONTROL_ENTRY, widget);
    }
  label_widget (widget, NULL, control->key);

  return with_error (control, outer);
}

static char *
option_text (const KpLayoutNode *option)
{
  char *text = kp_layout_node_dup_text (option);

  g_strstrip (text);
  if (*text == '\0')
    {
      g_free (text);
      text = g_strdup (kp_layout_node_get_attribute (option, "identifier"));
    }

  return text;
}

static GtkWidget *
build_selection (KpLayoutView       *self,
                 const KpLayoutNode *node)
{
  const char *style = kp_layout_node_get_attribute (node, "style");
  double max = kp_layout_node_get_number (node, "max-selections", 1);
  gboolean other = kp_layout_node_get_attribute (node, "other") != NULL;
  GtkWidget *box = new_box (GTK_ORIENTATION_VERTICAL, 4);
  g_autoptr(GPtrArray) options = g_ptr_array_new ();
  Control *control;

  for (guint i = 0; i < node->children->len; i++)
    {
      const KpLayoutNode *child = g_ptr_array_index (node->children, i);

      if (child->kind == KP_LAYOUT_NODE_QF_SELECTION_OPTION)
        g_ptr_array_add (options, (gpointer)child);
    }

  if (style == NULL)
    style = max > 1 ? "checkbox" : "radiobutton";

  if (g_str_equal (style, "dropdown") || g_str_equal (style, "combobox"))
    {
      g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
      g_autoptr(GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
      GtkWidget *drop;

      /* The first entry answers nothing, as an HTML select with a blank
       * option does. */
      g_ptr_array_add (texts, g_strdup (_("Choose…")));
      g_ptr_array_add (values, g_strdup (""));
      for (guint i = 0; i < options->len; i++)
        {
          const KpLayoutNode *option = g_ptr_array_index (options, i);

          g_ptr_array_add (texts, option_text (option));
          g_ptr_array_add (values, g_strdup (kp_layout_node_get_attribute (option, "identifier")));
        }
      g_ptr_array_add (texts, NULL);
      g_ptr_array_add (values, NULL);
      drop = gtk_drop_down_new_from_strings ((const char * const *)texts->pdata);
      if (g_str_equal (style, "combobox"))
        {
          GtkExpression *expression = gtk_property_expression_new (GTK_TYPE_STRING_OBJECT, NULL, "string");

          gtk_drop_down_set_expression (GTK_DROP_DOWN (drop), expression);
          gtk_expression_unref (expression);
          gtk_drop_down_set_enable_search (GTK_DROP_DOWN (drop), TRUE);
        }
      gtk_widget_set_halign (drop, GTK_ALIGN_START);
      control = control_new (self, node, CONTROL_SELECTION, drop);
      control->values = (GStrv)g_ptr_array_steal (values, NULL);
      gtk_box_append (GTK_BOX (box), drop);
    }
  else if (g_str_equal (style, "list") || g_str_equal (style, "multichooser"))
    {
      GtkWidget *list = gtk_list_box_new ();
      GPtrArray *values = g_ptr_array_new ();

      gtk_list_box_set_selection_mode (GTK_LIST_BOX (list),
                                       g_str_equal (style, "multichooser") || max > 1
                                       ? GTK_SELECTION_MULTIPLE : GTK_SELECTION_SINGLE);
      gtk_widget_add_css_class (list, "boxed-list");
      for (guint i = 0; i < options->len; i++)
        {
          const KpLayoutNode *option = g_ptr_array_index (options, i);
          g_autofree char *text = option_text (option);
          GtkWidget *label = new_text_label (text, FALSE);

          gtk_widget_set_margin_start (label, 12);
          gtk_widget_set_margin_top (label, 8);
          gtk_widget_set_margin_bottom (label, 8);
          gtk_list_box_append (GTK_LIST_BOX (list), label);
          g_ptr_array_add (values, g_strdup (kp_layout_node_get_attribute (option, "identifier")));
        }
      /* Nothing is chosen until the worker chooses. */
      gtk_list_box_unselect_all (GTK_LIST_BOX (list));
      g_ptr_array_add (values, NULL);
      control = control_new (self, node, CONTROL_SELECTION, list);
      control->list_box = list;
      control->values = (GStrv)g_ptr_array_free (values, FALSE);
      for (guint i = 0; i < options->len; i++)
        control_add_choice (control, GTK_WIDGET (gtk_list_box_get_row_at_index (GTK_LIST_BOX (list), i)),
                            control->values[i]);
      gtk_box_append (GTK_BOX (box), list);
    }
  else
    {
      gboolean radio = g_str_equal (style, "radiobutton");
      GtkWidget *buttons = new_box (GTK_ORIENTATION_VERTICAL, 4);
      GtkWidget *group = NULL;

      control = control_new (self, node, CONTROL_SELECTION, buttons);
      for (guint i = 0; i < options->len; i++)
        {
          const KpLayoutNode *option = g_ptr_array_index (options, i);
          const KpLayoutNode *image = find_child (option, KP_LAYOUT_NODE_IMAGE);
          g_autofree char *text = option_text (option);
          GtkWidget *button = gtk_check_button_new ();

          if (image != NULL)
            {
              GtkWidget *content = new_box (GTK_ORIENTATION_VERTICAL, 4);

              gtk_box_append (GTK_BOX (content), build_picture (self, image, "src"));
              gtk_check_button_set_child (GTK_CHECK_BUTTON (button), content);
              label_widget (button, NULL, text);
            }
          else
            gtk_check_button_set_label (GTK_CHECK_BUTTON (button), text);
          if (radio)
            {
              if (group != NULL)
                gtk_check_button_set_group (GTK_CHECK_BUTTON (button), GTK_CHECK_BUTTON (group));
              else
                group = button;
            }
          gtk_box_append (GTK_BOX (buttons), button);
          control_add_choice (control, button, kp_layout_node_get_attribute (option, "identifier"));
        }
      gtk_box_append (GTK_BOX (box), buttons);
    }

  label_widget (control->widget, NULL, control->key);
  if (other)
    {
      GtkWidget *row = new_box (GTK_ORIENTATION_HORIZONTAL, 6);
      GtkWidget *label = gtk_label_new (_("Other:"));

      control->other_entry = gtk_entry_new ();
      gtk_widget_set_hexpand (control->other_entry, TRUE);
      label_widget (control->other_entry, label, NULL);
      gtk_box_append (GTK_BOX (row), label);
      gtk_box_append (GTK_BOX (row), control->other_entry);
      gtk_box_append (GTK_BOX (box), row);
    }

  return with_error (control, box);
}

static void
file_chosen_cb (GtkNativeDialog *dialog,
                int              response,
                Control         *control)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autoptr(GFileInfo) info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE,
                                                     G_FILE_QUERY_INFO_NONE, NULL, NULL);

      g_free (control->file_key);
      control->file_key = g_file_get_basename (file);
      control->file_size = info != NULL ? g_file_info_get_size (info) : 0;
      gtk_label_set_text (GTK_LABEL (control->text_label), control->file_key);
      control_changed (control);
    }
  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
}

static void
choose_file_cb (GtkButton *button,
                Control   *control)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (button));
  GtkFileChooserNative *chooser =
    gtk_file_chooser_native_new (_("Choose a File to Upload"),
                                 GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                 GTK_FILE_CHOOSER_ACTION_OPEN, _("_Choose"), _("_Cancel"));

  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (file_chosen_cb), control);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static GtkWidget *
build_file_upload (KpLayoutView       *self,
                   const KpLayoutNode *node)
{
  GtkWidget *row = new_box (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *button = gtk_button_new_with_label (_("Choose File…"));
  Control *control = control_new (self, node, CONTROL_FILE, button);

  control->text_label = gtk_label_new (_("No file chosen"));
  gtk_widget_add_css_class (control->text_label, "dim-label");
  label_widget (button, NULL, control->key);
  g_signal_connect (button, "clicked", G_CALLBACK (choose_file_cb), control);
  gtk_box_append (GTK_BOX (row), button);
  gtk_box_append (GTK_BOX (row), control->text_label);

  return with_error (control, row);
}

static void
open_external_cb (GtkButton    *button,
                  KpLayoutView *self)
{
  g_autofree char *uri = kp_layout_view_dup_external_uri (self);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (uri != NULL)
    gtk_show_uri (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, uri, GDK_CURRENT_TIME);
}

static GtkWidget *
build_external (KpLayoutView       *self,
                const KpLayoutNode *node)
{
  GtkWidget *box = new_box (GTK_ORIENTATION_VERTICAL, 8);
  g_autofree char *uri = kp_layout_view_dup_external_uri (self);
  GtkWidget *button = gtk_button_new_with_label (_("Open in Browser"));
  GtkWidget *label;

  gtk_box_append (GTK_BOX (box), new_heading (_("This task opens on another website"), 3));
  label = new_text_label (uri != NULL ? uri : "", FALSE);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_widget_add_css_class (label, "monospace");
  gtk_box_append (GTK_BOX (box), label);
  gtk_widget_set_halign (button, GTK_ALIGN_START);
  gtk_widget_add_css_class (button, "suggested-action");
  gtk_widget_add_css_class (button, "pill");
  g_signal_connect (button, "clicked", G_CALLBACK (open_external_cb), self);
  gtk_box_append (GTK_BOX (box), button);

  return box;
}

static GtkWidget *
build_submit (KpLayoutView *self)
{
  GtkWidget *button = gtk_button_new_with_label (_("Submit"));

  gtk_widget_add_css_class (button, "suggested-action");
  gtk_widget_add_css_class (button, "pill");
  gtk_widget_set_halign (button, GTK_ALIGN_START);
  gtk_widget_set_margin_top (button, 12);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "layout.submit");
  self->submit_button = button;
  self->has_submit = TRUE;

  return button;
}

/* The tree */

static GtkWidget *
build_node (KpLayoutView       *self,
            const KpLayoutNode *node)
{
  switch (node->kind)
    {
    case KP_LAYOUT_NODE_HEADING:
      {
        g_autoptr(GString) markup = g_string_new (NULL);
        g_autoptr(GString) plain = g_string_new (NULL);
        GtkWidget *label;

        for (guint i = 0; i < node->children->len; i++)
          append_markup (markup, plain, g_ptr_array_index (node->children, i));
        g_strstrip (markup->str);
        label = new_heading ("", node->level);
        gtk_label_set_markup (GTK_LABEL (label), markup->str);
        return label;
      }

    case KP_LAYOUT_NODE_LINE_BREAK:
      return gtk_separator_new (GTK_ORIENTATION_HORIZONTAL);

    case KP_LAYOUT_NODE_CROWD_FORM:
      {
        GtkWidget *box = new_box (GTK_ORIENTATION_VERTICAL, 12);

        /* crowd-form adds its Submit button, once its content is built,
         * unless the template has one. */
        build_children_from (self, box, node, 0, BUILD_RESUMABLE | BUILD_ADD_SUBMIT);
        return box;
      }

    case KP_LAYOUT_NODE_BLOCK:
      if (g_strcmp0 (node->tag, "pre") == 0)
        {
          g_autofree char *text = kp_layout_node_dup_text (node);
          GtkWidget *label = new_text_label (text, FALSE);

          gtk_label_set_wrap (GTK_LABEL (label), FALSE);
          gtk_widget_add_css_class (label, "monospace");
          return label;
        }
      if (node->children->len > 0 && children_inline (node))
        return build_block (self, node, 8);
      {
        GtkWidget *box = new_box (GTK_ORIENTATION_VERTICAL, 8);

        build_children_from (self, box, node, 0, BUILD_RESUMABLE);
        return box;
      }

    case KP_LAYOUT_NODE_LIST:
      return build_list (self, node);

    case KP_LAYOUT_NODE_TABLE:
      return build_table (self, node);

    case KP_LAYOUT_NODE_IMAGE:
      return build_picture (self, node, "src");

    case KP_LAYOUT_NODE_AUDIO:
      check_reachable (self, node);
      if (kp_layout_node_get_attribute (node, "src") != NULL)
        return kp_audio_segmenter_new_player (kp_layout_node_get_attribute (node, "src"), self->base);
      add_problem (self, node, _("<%s> is shown as a placeholder: it has no src"), node->tag);
      return media_placeholder (self, node, "audio-x-generic-symbolic", _("Audio"));

    case KP_LAYOUT_NODE_VIDEO:
      check_reachable (self, node);
      if (kp_layout_node_get_attribute (node, "src") != NULL)
        return build_video (self, node);
      add_problem (self, node, _("<%s> is shown as a placeholder: it has no src"), node->tag);
      return media_placeholder (self, node, "video-x-generic-symbolic", _("Video"));

    case KP_LAYOUT_NODE_KP_AUDIO_SEGMENTER:
    case KP_LAYOUT_NODE_KP_VIDEO_TRACKER:
      {
        const char *src = kp_layout_node_get_attribute (node, "src");
        const char *header = kp_layout_node_get_attribute (node, "header");
        const char * const *labels = kp_layout_node_get_strv (node, "labels");
        gboolean audio = node->kind == KP_LAYOUT_NODE_KP_AUDIO_SEGMENTER;
        GtkWidget *widget;
        Control *control;

        check_reachable (self, node);
        widget = audio ? kp_audio_segmenter_new (src != NULL ? src : "", self->base, labels, header)
                       : kp_video_tracker_new (src != NULL ? src : "", self->base, labels, header);
        control = control_new (self, node, audio ? CONTROL_AUDIO : CONTROL_VIDEO, widget);
        label_widget (widget, NULL, header != NULL ? header : control->key);
        return with_error (control, widget);
      }

    case KP_LAYOUT_NODE_INPUT:
    case KP_LAYOUT_NODE_TEXTAREA:
    case KP_LAYOUT_NODE_CROWD_INPUT:
    case KP_LAYOUT_NODE_CROWD_TEXT_AREA:
      return build_text_field (self, node);

    case KP_LAYOUT_NODE_SELECT:
      return build_select (self, node);

    case KP_LAYOUT_NODE_CHECKBOX:
    case KP_LAYOUT_NODE_RADIO:
    case KP_LAYOUT_NODE_CROWD_CHECKBOX:
    case KP_LAYOUT_NODE_CROWD_RADIO_BUTTON:
    case KP_LAYOUT_NODE_CROWD_TOGGLE_BUTTON:
      return build_toggle (self, node, NULL);

    case KP_LAYOUT_NODE_CROWD_RADIO_GROUP:
      return build_radio_group (self, node);

    case KP_LAYOUT_NODE_CROWD_SLIDER:
      return build_slider (self, node);

    case KP_LAYOUT_NODE_CROWD_BOUNDING_BOX:
    case KP_LAYOUT_NODE_CROWD_POLYGON:
    case KP_LAYOUT_NODE_CROWD_POLYLINE:
    case KP_LAYOUT_NODE_CROWD_LINE:
    case KP_LAYOUT_NODE_CROWD_KEYPOINT:
    case KP_LAYOUT_NODE_CROWD_SEMANTIC_SEGMENTATION:
    case KP_LAYOUT_NODE_CROWD_INSTANCE_SEGMENTATION:
      return build_image_tool (self, node);

    case KP_LAYOUT_NODE_CROWD_CLASSIFIER:
    case KP_LAYOUT_NODE_CROWD_CLASSIFIER_MULTI_SELECT:
    case KP_LAYOUT_NODE_CROWD_IMAGE_CLASSIFIER:
    case KP_LAYOUT_NODE_CROWD_IMAGE_CLASSIFIER_MULTI_SELECT:
      return build_classifier (self, node);

    case KP_LAYOUT_NODE_CROWD_ENTITY_ANNOTATION:
      return build_entities (self, node);

    case KP_LAYOUT_NODE_CROWD_ALERT:
      return build_alert (self, node);

    case KP_LAYOUT_NODE_CROWD_BUTTON:
    case KP_LAYOUT_NODE_CROWD_ICON_BUTTON:
    case KP_LAYOUT_NODE_CROWD_FAB:
      return build_button (self, node);

    case KP_LAYOUT_NODE_CROWD_BADGE:
      {
        g_autofree char *text = kp_layout_node_dup_text (node);
        const char *icon = kp_layout_node_get_attribute (node, "icon");
        const char *label = kp_layout_node_get_attribute (node, "label");
        GtkWidget *badge = gtk_label_new (label != NULL ? label : (*g_strstrip (text) != '\0' ? text : icon));

        gtk_widget_add_css_class (badge, "caption-heading");
        gtk_widget_add_css_class (badge, "accent");
        gtk_widget_set_halign (badge, GTK_ALIGN_START);
        return badge;
      }

    case KP_LAYOUT_NODE_CROWD_CARD:
      return build_card (self, node);

    case KP_LAYOUT_NODE_CROWD_TABS:
      return build_tabs (self, node);

    case KP_LAYOUT_NODE_CROWD_MODAL:
      return build_modal (self, node);

    case KP_LAYOUT_NODE_CROWD_INSTRUCTIONS:
      return build_instructions (self, node);

    case KP_LAYOUT_NODE_QF_QUESTION:
      return build_question (self, node);

    case KP_LAYOUT_NODE_QF_FREE_TEXT:
      return build_free_text (self, node);

    case KP_LAYOUT_NODE_QF_SELECTION:
      return build_selection (self, node);

    case KP_LAYOUT_NODE_QF_FILE_UPLOAD:
      return build_file_upload (self, node);

    case KP_LAYOUT_NODE_EXTERNAL_QUESTION:
      return build_external (self, node);

    case KP_LAYOUT_NODE_UNKNOWN:
      {
        /* Shown as its text: core reported it as a warning. */
        GtkWidget *box = build_block (self, node, 6);

        gtk_widget_add_css_class (box, "dim-label");
        return box;
      }

    case KP_LAYOUT_NODE_DOCUMENT:
      {
        GtkWidget *box = new_box (GTK_ORIENTATION_VERTICAL, 12);

        build_children_from (self, box, node, 0, BUILD_RESUMABLE);
        return box;
      }

    default:
      /* Paragraphs, regions, list items and cells out of place, inline
       * elements holding blocks, … */
      return build_block (self, node, 6);
    }
}

/* The first slice fills about a screen: a rough height of what a node
 * shows, without measuring text (which is what costs). */
static int
estimate_height (const KpLayoutNode *node,
                 guint               depth)
{
  int height = 0;

  switch (node->kind)
    {
    case KP_LAYOUT_NODE_TEXT:
      return 20 * (1 + (int)(strlen (node->text != NULL ? node->text : "") / 100));
    case KP_LAYOUT_NODE_HEADING:
      return 40;
    case KP_LAYOUT_NODE_IMAGE:
    case KP_LAYOUT_NODE_VIDEO:
    case KP_LAYOUT_NODE_CROWD_BOUNDING_BOX:
    case KP_LAYOUT_NODE_CROWD_POLYGON:
    case KP_LAYOUT_NODE_CROWD_LINE:
    case KP_LAYOUT_NODE_CROWD_POLYLINE:
    case KP_LAYOUT_NODE_CROWD_KEYPOINT:
    case KP_LAYOUT_NODE_CROWD_SEMANTIC_SEGMENTATION:
    case KP_LAYOUT_NODE_CROWD_INSTANCE_SEGMENTATION:
    case KP_LAYOUT_NODE_CROWD_IMAGE_CLASSIFIER:
    case KP_LAYOUT_NODE_CROWD_IMAGE_CLASSIFIER_MULTI_SELECT:
    case KP_LAYOUT_NODE_KP_VIDEO_TRACKER:
    case KP_LAYOUT_NODE_KP_AUDIO_SEGMENTER:
      return 400;
    default:
      break;
    }

  /* Deep trees are rare; their size is what their top shows. */
  if (depth > 16)
    return 24;
  for (guint i = 0; i < node->children->len; i++)
    height += estimate_height (g_ptr_array_index (node->children, i), depth + 1);

  return MAX (height, 24);
}

/* Containers the slices build into, counted by their children. */
static gboolean
is_container (const KpLayoutNode *node)
{
  return node->kind == KP_LAYOUT_NODE_CROWD_FORM || node->kind == KP_LAYOUT_NODE_DOCUMENT ||
         (node->kind == KP_LAYOUT_NODE_BLOCK && g_strcmp0 (node->tag, "pre") != 0 &&
          !(node->children->len > 0 && children_inline (node)));
}

/* Builds the children of node from start into box. In a slice with a
 * deadline, stops before a block once it has passed and leaves the rest
 * as Pending; FALSE then. */
static gboolean
build_children_from (KpLayoutView       *self,
                     GtkWidget          *box,
                     const KpLayoutNode *node,
                     guint               start,
                     BuildFlags          flags)
{
  g_autoptr(GString) markup = g_string_new (NULL);
  g_autoptr(GString) plain = g_string_new (NULL);

  for (guint i = start; i < node->children->len; i++)
    {
      const KpLayoutNode *child = g_ptr_array_index (node->children, i);
      GtkWidget *widget;

      if (is_inline (child))
        {
          append_markup (markup, plain, child);
          continue;
        }
      flush_inline (box, markup, plain);

      if ((flags & BUILD_RESUMABLE) != 0 &&
          ((self->deadline != 0 && g_get_monotonic_time () > self->deadline) ||
           (self->height_budget > 0 && self->height_used >= self->height_budget)))
        {
          Pending *pending = g_new0 (Pending, 1);

          pending->box = box;
          pending->node = node;
          pending->next = i;
          pending->flags = flags;
          g_ptr_array_add (self->new_pending, pending);
          return FALSE;
        }

      /* <input type=checkbox> Text: the text that follows labels it. */
      if ((child->kind == KP_LAYOUT_NODE_CHECKBOX || child->kind == KP_LAYOUT_NODE_RADIO) &&
          i + 1 < node->children->len && is_inline (g_ptr_array_index (node->children, i + 1)))
        {
          g_autoptr(GString) label = g_string_new (NULL);
          g_autoptr(GString) ignored = g_string_new (NULL);

          while (i + 1 < node->children->len && is_inline (g_ptr_array_index (node->children, i + 1)))
            append_markup (ignored, label, g_ptr_array_index (node->children, ++i));
          widget = build_toggle (self, child, label->str);
        }
      else
        widget = build_node (self, child);

      if (widget != NULL)
        gtk_box_append (GTK_BOX (box), widget);
      if (self->height_budget > 0 && (flags & BUILD_RESUMABLE) != 0 && !is_container (child))
        self->height_used += estimate_height (child, 0);
    }
  flush_inline (box, markup, plain);

  if ((flags & BUILD_ADD_SUBMIT) != 0 && !self->has_submit)
    gtk_box_append (GTK_BOX (box), build_submit (self));

  return TRUE;
}

/* Containers whose caller works on the children afterwards are built
 * whole. */
static void
build_children (KpLayoutView       *self,
                GtkWidget          *box,
                const KpLayoutNode *node)
{
  build_children_from (self, box, node, 0, 0);
}

typedef struct
{
  GtkWidget *content;
  GPtrArray *controls;
} Release;

static gboolean
release_later_cb (gpointer data)
{
  Release *release = data;

  /* The widgets first: their handlers point at the controls. */
  if (gtk_widget_get_parent (release->content) != NULL)
    gtk_widget_unparent (release->content);
  g_object_unref (release->content);
  g_ptr_array_unref (release->controls);
  g_free (release);

  return G_SOURCE_REMOVE;
}

static void
clear_tree (KpLayoutView *self,
            gboolean      release_later)
{
  for (guint i = 0; i < self->windows->len; i++)
    gtk_window_destroy (g_ptr_array_index (self->windows, i));
  g_ptr_array_set_size (self->windows, 0);

  for (guint i = 0; i < self->controls->len; i++)
    ((Control *)g_ptr_array_index (self->controls, i))->watched = FALSE;
  self->n_watched = 0;
  g_clear_handle_id (&self->changed_id, g_source_remove);
  g_clear_handle_id (&self->problems_id, g_source_remove);

  if (self->content != NULL && !release_later)
    {
      gtk_box_remove (GTK_BOX (self->holder), self->content);
      self->content = NULL;
      g_ptr_array_set_size (self->controls, 0);
    }
  else if (self->content != NULL)
    {
      /* Taking thousands of widgets apart takes long: hide them now,
       * free them once the new tree is on screen. */
      Release *release = g_new0 (Release, 1);

      release->content = g_object_ref (self->content);
      release->controls = g_steal_pointer (&self->controls);
      self->controls = g_ptr_array_new_with_free_func ((GDestroyNotify)control_free);
      g_idle_add_full (G_PRIORITY_LOW, release_later_cb, release, NULL);
      gtk_widget_set_visible (self->content, FALSE);
      self->content = NULL;
    }

  g_clear_handle_id (&self->pending_id, g_source_remove);
  g_queue_clear_full (self->pending, g_free);
  g_ptr_array_foreach (self->new_pending, (GFunc)g_free, NULL);
  g_ptr_array_set_size (self->new_pending, 0);
  self->built = FALSE;

  g_hash_table_remove_all (self->by_key);
  g_hash_table_remove_all (self->by_position);
  g_hash_table_remove_all (self->radio_groups);
  g_hash_table_remove_all (self->textures);
  g_ptr_array_set_size (self->waiting, 0);
  g_ptr_array_set_size (self->controls, 0);
  g_ptr_array_set_size (self->problems, 0);
  self->submit_button = NULL;
  self->has_submit = FALSE;

  /* The store stays for the next layout: opening one costs more than
   * a reload should. */
  self->store_ready = FALSE;
}

static void
drop_store (KpLayoutView *self)
{
  g_autoptr(GError) error = NULL;

  g_clear_object (&self->store);
  g_hash_table_remove_all (self->label_ids);
  g_hash_table_remove_all (self->label_names);
  self->n_media = 0;
  if (self->store_folder != NULL)
    {
      g_autoptr(GFile) folder = g_file_new_for_path (self->store_folder);

      if (!remove_tree (folder, &error))
        g_debug ("Cannot remove %s: %s", self->store_folder, error->message);
      g_clear_pointer (&self->store_folder, g_free);
    }
}

static int
compare_problems (gconstpointer a,
                  gconstpointer b)
{
  const KpLayoutProblem *pa = *(const KpLayoutProblem **)a;
  const KpLayoutProblem *pb = *(const KpLayoutProblem **)b;

  if (pa->line != pb->line)
    return pa->line < pb->line ? -1 : 1;
  if (pa->column != pb->column)
    return pa->column < pb->column ? -1 : 1;
  return 0;
}

static void
finish_build (KpLayoutView *self)
{
  g_autoptr(GPtrArray) answerable = NULL;

  g_clear_handle_id (&self->pending_id, g_source_remove);
  self->deadline = 0;
  if (self->built || self->content == NULL)
    return;

  /* Answerable elements outside a crowd-form (crowd-entity-annotation
   * submits by itself, QuestionForm has no form) get a Submit button. */
  answerable = kp_layout_dup_answerable (self->layout, NULL);
  if (!self->has_submit && answerable->len > 0)
    gtk_box_append (GTK_BOX (self->content), build_submit (self));

  g_ptr_array_sort (self->problems, compare_problems);
  self->built = TRUE;
  g_signal_emit (self, signals[BUILT], 0);
}

/* Builds pending containers until the deadline (0: all of them). */
static void
run_slice (KpLayoutView *self,
           gint64        deadline)
{
  self->deadline = deadline;
  while (!g_queue_is_empty (self->pending) &&
         (deadline == 0 || g_get_monotonic_time () < deadline))
    {
      g_autofree Pending *pending = g_queue_pop_head (self->pending);

      build_children_from (self, pending->box, pending->node, pending->next, pending->flags);

      /* What this one left comes before everything queued after it. */
      for (guint i = self->new_pending->len; i > 0; i--)
        g_queue_push_head (self->pending, g_ptr_array_index (self->new_pending, i - 1));
      g_ptr_array_set_size (self->new_pending, 0);
    }
  self->deadline = 0;
  watch_new_controls (self);

  if (g_queue_is_empty (self->pending))
    finish_build (self);
}

static gboolean
build_slice_cb (gpointer user_data)
{
  KpLayoutView *self = user_data;

  run_slice (self, g_get_monotonic_time () + IDLE_SLICE_US);
  if (self->built)
    {
      self->pending_id = 0;
      return G_SOURCE_REMOVE;
    }

  return G_SOURCE_CONTINUE;
}

/* Everything asking about controls or answers needs the whole tree. */
static void
ensure_built (KpLayoutView *self)
{
  if (!self->built && self->content != NULL)
    run_slice (self, 0);
}

static void
rebuild (KpLayoutView *self)
{
  const KpLayoutNode *root;

  clear_tree (self, TRUE);
  if (self->layout == NULL)
    return;

  root = kp_layout_get_root (self->layout);
  self->deadline = g_get_monotonic_time () + FIRST_SLICE_US;
  /* A screen and a half: what the first frame shows, and a little
   * scrolling. */
  self->height_budget = 3 * MAX (gtk_widget_get_height (GTK_WIDGET (self)), 600) / 2;
  self->height_used = 0;
  self->content = build_node (self, root);
  self->deadline = 0;
  self->height_budget = 0;
  gtk_widget_set_margin_start (self->content, 18);
  gtk_widget_set_margin_end (self->content, 18);
  gtk_widget_set_margin_top (self->content, 18);
  gtk_widget_set_margin_bottom (self->content, 18);
  gtk_box_append (GTK_BOX (self->holder), self->content);

  for (guint i = 0; i < self->new_pending->len; i++)
    g_queue_push_tail (self->pending, g_ptr_array_index (self->new_pending, i));
  g_ptr_array_set_size (self->new_pending, 0);
  watch_new_controls (self);

  if (g_queue_is_empty (self->pending))
    finish_build (self);
  else
    /* After the frame that shows the first slice. */
    self->pending_id = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, build_slice_cb, self, NULL);
}

/* GObject */

static void
unref_if_set (gpointer object)
{
  if (object != NULL)
    g_object_unref (object);
}

static void
kp_layout_view_dispose (GObject *object)
{
  KpLayoutView *self = KP_LAYOUT_VIEW (object);

  clear_tree (self, FALSE);
  drop_store (self);
  g_clear_pointer (&self->scroller, gtk_widget_unparent);
  self->holder = NULL;
  g_clear_object (&self->layout);
  g_clear_object (&self->base);
  g_clear_object (&self->placeholder);
  if (self->media != NULL)
    g_signal_handlers_disconnect_by_data (self->media, self);
  g_clear_object (&self->media);
  if (self->media_destroy != NULL)
    g_clear_pointer (&self->media_data, self->media_destroy);
  self->media_func = NULL;

  G_OBJECT_CLASS (kp_layout_view_parent_class)->dispose (object);
}

static void
kp_layout_view_finalize (GObject *object)
{
  KpLayoutView *self = KP_LAYOUT_VIEW (object);

  g_ptr_array_unref (self->controls);
  g_queue_free_full (self->pending, g_free);
  g_ptr_array_foreach (self->new_pending, (GFunc)g_free, NULL);
  g_ptr_array_unref (self->new_pending);
  g_hash_table_unref (self->by_key);
  g_hash_table_unref (self->by_position);
  g_hash_table_unref (self->textures);
  g_hash_table_unref (self->radio_groups);
  g_ptr_array_unref (self->problems);
  g_ptr_array_unref (self->windows);
  g_ptr_array_unref (self->waiting);
  g_hash_table_unref (self->label_ids);
  g_hash_table_unref (self->label_names);
  for (guint i = 0; i < G_N_ELEMENTS (self->external); i++)
    g_free (self->external[i]);

  G_OBJECT_CLASS (kp_layout_view_parent_class)->finalize (object);
}

static void
kp_layout_view_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  KpLayoutView *self = KP_LAYOUT_VIEW (object);

  switch (prop_id)
    {
    case PROP_LAYOUT:
      g_value_set_object (value, self->layout);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_layout_view_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  KpLayoutView *self = KP_LAYOUT_VIEW (object);

  switch (prop_id)
    {
    case PROP_LAYOUT:
      kp_layout_view_set_layout (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
submit_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  kp_layout_view_submit (KP_LAYOUT_VIEW (widget));
}

static void
kp_layout_view_class_init (KpLayoutViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kp_layout_view_dispose;
  object_class->finalize = kp_layout_view_finalize;
  object_class->get_property = kp_layout_view_get_property;
  object_class->set_property = kp_layout_view_set_property;

  properties[PROP_LAYOUT] =
    g_param_spec_object ("layout", NULL, NULL, KP_TYPE_LAYOUT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SUBMITTED] =
    g_signal_new ("submitted", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, JSON_TYPE_ARRAY);

  signals[BUILT] =
    g_signal_new ("built", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  signals[CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  signals[PROBLEMS_CHANGED] =
    g_signal_new ("problems-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  /* Submit buttons use the action; Ctrl+Return submits from anywhere. */
  gtk_widget_class_install_action (widget_class, "layout.submit", NULL, submit_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Return, GDK_CONTROL_MASK, "layout.submit", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_KP_Enter, GDK_CONTROL_MASK, "layout.submit", NULL);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "kp-layout-view");
}

static void
kp_layout_view_init (KpLayoutView *self)
{
  self->scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (self->scroller),
                                  GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_widget_set_parent (self->scroller, GTK_WIDGET (self));
  self->holder = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scroller), self->holder);

  self->controls = g_ptr_array_new_with_free_func ((GDestroyNotify)control_free);
  self->pending = g_queue_new ();
  /* No free function: its items move to the queue. */
  self->new_pending = g_ptr_array_new ();
  self->by_key = g_hash_table_new (g_str_hash, g_str_equal);
  self->by_position = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->textures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          unref_if_set);
  self->radio_groups = g_hash_table_new (g_str_hash, g_str_equal);
  self->problems = kp_layout_problems_new ();
  self->windows = g_ptr_array_new ();
  self->waiting = g_ptr_array_new_with_free_func ((GDestroyNotify)waiter_free);
  self->label_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->label_names = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
}

GtkWidget *
kp_layout_view_new (void)
{
  return g_object_new (KP_TYPE_LAYOUT_VIEW, NULL);
}

KpLayout *
kp_layout_view_get_layout (KpLayoutView *self)
{
  g_return_val_if_fail (KP_IS_LAYOUT_VIEW (self), NULL);

  return self->layout;
}

void
kp_layout_view_set_layout (KpLayoutView *self,
                           KpLayout     *layout)
{
  g_return_if_fail (KP_IS_LAYOUT_VIEW (self));
  g_return_if_fail (layout == NULL || KP_IS_LAYOUT (layout));

  if (self->layout == layout && layout != NULL)
    return;

  g_set_object (&self->layout, layout);
  rebuild (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAYOUT]);
}

void
kp_layout_view_set_base (KpLayoutView *self,
                         GFile        *base)
{
  g_return_if_fail (KP_IS_LAYOUT_VIEW (self));

  g_set_object (&self->base, base);
}

void
kp_layout_view_set_media_func (KpLayoutView      *self,
                               KpLayoutMediaFunc  func,
                               gpointer           user_data,
                               GDestroyNotify     destroy)
{
  g_return_if_fail (KP_IS_LAYOUT_VIEW (self));

  if (self->media_destroy != NULL)
    g_clear_pointer (&self->media_data, self->media_destroy);
  self->media_func = func;
  self->media_data = user_data;
  self->media_destroy = destroy;
}

void
kp_layout_view_set_external_params (KpLayoutView *self,
                                    const char   *assignment_id,
                                    const char   *hit_id,
                                    const char   *worker_id,
                                    const char   *turk_submit_to)
{
  const char *values[] = { assignment_id, hit_id, worker_id, turk_submit_to };

  g_return_if_fail (KP_IS_LAYOUT_VIEW (self));

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_free (self->external[i]);
      self->external[i] = g_strdup (values[i]);
    }
}

char *
kp_layout_view_dup_external_uri (KpLayoutView *self)
{
  static const char * const names[] = { "assignmentId", "hitId", "workerId", "turkSubmitTo" };
  /* What MTurk sends a preview; a preview has no worker and no HIT. */
  static const char * const defaults[] = { "ASSIGNMENT_ID_NOT_AVAILABLE", "PREVIEW", "PREVIEW",
                                           "https://workersandbox.mturk.com" };
  const KpLayoutNode *root;
  const KpLayoutNode *external = NULL;
  const char *src;
  GString *uri;
  const char *fragment;

  g_return_val_if_fail (KP_IS_LAYOUT_VIEW (self), NULL);

  if (self->layout == NULL)
    return NULL;

  root = kp_layout_get_root (self->layout);
  external = find_child (root, KP_LAYOUT_NODE_EXTERNAL_QUESTION);
  if (external == NULL || (src = kp_layout_node_get_attribute (external, "src")) == NULL)
    return NULL;

  fragment = strchr (src, '#');
  uri = g_string_new_len (src, fragment != NULL ? fragment - src : (gssize)strlen (src));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *escaped = g_uri_escape_string (self->external[i] != NULL ? self->external[i]
                                                                                : defaults[i],
                                                      NULL, FALSE);

      g_string_append_c (uri, strchr (uri->str, '?') != NULL ? '&' : '?');
      g_string_append_printf (uri, "%s=%s", names[i], escaped);
    }
  if (fragment != NULL)
    g_string_append (uri, fragment);

  return g_string_free (uri, FALSE);
}

gboolean
kp_layout_view_is_loading_media (KpLayoutView *self)
{
  g_return_val_if_fail (KP_IS_LAYOUT_VIEW (self), FALSE);

  return self->waiting->len > 0 || self->problems_id != 0;
}

void
kp_layout_view_set_media_timeout (KpLayoutView *self,
                                  guint         seconds)
{
  g_return_if_fail (KP_IS_LAYOUT_VIEW (self));

  if (self->media == NULL)
    {
      self->media = kp_layout_media_new ();
      g_signal_connect_object (self->media, "finished", G_CALLBACK (media_finished_cb), self, 0);
    }
  kp_layout_media_set_timeout (self->media, seconds);
}

GPtrArray *
kp_layout_view_get_problems (KpLayoutView *self)
{
  g_return_val_if_fail (KP_IS_LAYOUT_VIEW (self), NULL);

  ensure_built (self);
  g_ptr_array_sort (self->problems, compare_problems);

  return self->problems;
}

static const char *
toggle_member (const KpLayoutNode *node)
{
  const char *v = kp_layout_node_get_attribute (node, "value");

  return v != NULL && *v != '\0' ? v : "on";
}

static const char *
chosen_value (Control *control)
{
  for (guint i = 0; i < control->choices->len; i++)
    if (widget_get_active (g_ptr_array_index (control->choices, i)))
      return g_ptr_array_index (control->choice_values, i);

  return NULL;
}

static JsonNode *
selection_value (Control *control)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  const char *other = control->other_entry != NULL
                      ? gtk_editable_get_text (GTK_EDITABLE (control->other_entry)) : "";

  if (*other != '\0')
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "other");
      json_builder_add_string_value (builder, other);
      json_builder_set_member_name (builder, "selections");
    }

  json_builder_begin_array (builder);
  if (GTK_IS_DROP_DOWN (control->widget))
    {
      guint selected = gtk_drop_down_get_selected (GTK_DROP_DOWN (control->widget));

      if (selected != GTK_INVALID_LIST_POSITION && selected < g_strv_length (control->values) &&
          *control->values[selected] != '\0')
        json_builder_add_string_value (builder, control->values[selected]);
    }
  else if (control->list_box != NULL)
    {
      for (guint i = 0; control->values[i] != NULL; i++)
        {
          GtkListBoxRow *row = gtk_list_box_get_row_at_index (GTK_LIST_BOX (control->list_box), i);

          if (row != NULL && gtk_list_box_row_is_selected (row))
            json_builder_add_string_value (builder, control->values[i]);
        }
    }
  else
    {
      for (guint i = 0; i < control->choices->len; i++)
        if (widget_get_active (g_ptr_array_index (control->choices, i)))
          json_builder_add_string_value (builder, g_ptr_array_index (control->choice_values, i));
    }
  json_builder_end_array (builder);

  if (*other != '\0')
    json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static JsonNode *
control_dup_value (Control *control)
{
  switch (control->kind)
    {
    case CONTROL_ENTRY:
      return json_node_init_string (json_node_alloc (), gtk_editable_get_text (GTK_EDITABLE (control->widget)));

    case CONTROL_TEXT_VIEW:
      {
        GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (control->widget));
        GtkTextIter start, end;
        g_autofree char *text = NULL;

        gtk_text_buffer_get_bounds (buffer, &start, &end);
        text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
        return json_node_init_string (json_node_alloc (), text);
      }

    case CONTROL_DROP_DOWN:
      {
        guint selected = gtk_drop_down_get_selected (GTK_DROP_DOWN (control->widget));

        if (selected == GTK_INVALID_LIST_POSITION || selected >= g_strv_length (control->values))
          return NULL;
        return json_node_init_string (json_node_alloc (), control->values[selected]);
      }

    case CONTROL_RADIO_GROUP:
    case CONTROL_CHOICE:
      {
        const char *chosen = chosen_value (control);

        return chosen != NULL ? json_node_init_string (json_node_alloc (), chosen) : NULL;
      }

    case CONTROL_MULTI:
      {
        g_autoptr(JsonBuilder) builder = json_builder_new ();

        json_builder_begin_array (builder);
        for (guint i = 0; i < control->choices->len; i++)
          if (widget_get_active (g_ptr_array_index (control->choices, i)))
            json_builder_add_string_value (builder, g_ptr_array_index (control->choice_values, i));
        json_builder_end_array (builder);
        return json_builder_get_root (builder);
      }

    case CONTROL_SLIDER:
      if (!control->touched)
        return NULL;
      return json_node_init_double (json_node_alloc (), gtk_range_get_value (GTK_RANGE (control->widget)));

    case CONTROL_CANVAS:
      return canvas_value (control);

    case CONTROL_AUDIO:
      return kp_audio_segmenter_dup_value (KP_AUDIO_SEGMENTER (control->widget));

    case CONTROL_VIDEO:
      return kp_video_tracker_dup_value (KP_VIDEO_TRACKER (control->widget));

    case CONTROL_ENTITIES:
      return entities_value (control);

    case CONTROL_SELECTION:
      return selection_value (control);

    case CONTROL_FILE:
      if (control->file_key == NULL)
        return NULL;
      {
        g_autoptr(JsonBuilder) builder = json_builder_new ();

        json_builder_begin_object (builder);
        json_builder_set_member_name (builder, "key");
        json_builder_add_string_value (builder, control->file_key);
        json_builder_set_member_name (builder, "size");
        json_builder_add_int_value (builder, control->file_size);
        json_builder_end_object (builder);
        return json_builder_get_root (builder);
      }

    case CONTROL_TOGGLE:
    case CONTROL_NONE:
    default:
      return NULL;
    }
}

GHashTable *
kp_layout_view_dup_values (KpLayoutView *self)
{
  GHashTable *values;

  g_return_val_if_fail (KP_IS_LAYOUT_VIEW (self), NULL);

  ensure_built (self);

  values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)json_node_unref);
  for (guint i = 0; i < self->controls->len; i++)
    {
      Control *control = g_ptr_array_index (self->controls, i);
      JsonNode *value;

      if (control->key == NULL || *control->key == '\0')
        continue;

      if (control->kind == CONTROL_TOGGLE)
        {
          /* Toggles sharing a name share one object of states; two with
           * the same value are on when either is. */
          JsonNode *states = g_hash_table_lookup (values, control->key);
          const char *member = toggle_member (control->node);
          JsonObject *object;

          if (states == NULL || !JSON_NODE_HOLDS_OBJECT (states))
            {
              object = json_object_new ();
              states = json_node_init_object (json_node_alloc (), object);
              json_object_unref (object);
              g_hash_table_insert (values, g_strdup (control->key), states);
            }
          object = json_node_get_object (states);
          json_object_set_boolean_member (object, member,
                                          widget_get_active (control->widget) ||
                                          (json_object_has_member (object, member) &&
                                           json_object_get_boolean_member (object, member)));
          continue;
        }

      /* A name used twice (core reports it) answers with the first. */
      if (g_hash_table_contains (values, control->key))
        continue;
      value = control_dup_value (control);
      if (value != NULL)
        g_hash_table_insert (values, g_strdup (control->key), value);
    }

  return values;
}

static const char *
value_string (JsonNode *value)
{
  if (value != NULL && JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_STRING)
    return json_node_get_string (value);

  return NULL;
}

static gboolean
array_has_string (JsonArray  *array,
                  const char *string)
{
  for (guint i = 0; array != NULL && string != NULL && i < json_array_get_length (array); i++)
    if (g_strcmp0 (value_string (json_array_get_element (array, i)), string) == 0)
      return TRUE;

  return FALSE;
}

static void
widget_set_active (GtkWidget *widget,
                   gboolean   active)
{
  if (GTK_IS_CHECK_BUTTON (widget))
    gtk_check_button_set_active (GTK_CHECK_BUTTON (widget), active);
  else if (GTK_IS_TOGGLE_BUTTON (widget))
    gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (widget), active);
  else if (GTK_IS_SWITCH (widget))
    gtk_switch_set_active (GTK_SWITCH (widget), active);
}

/* Chooses exactly the choices whose values are in array (or equal to
 * one): clearing first, so grouped buttons end as asked. */
static void
set_choices (Control    *control,
             JsonArray  *array,
             const char *one)
{
  for (guint i = 0; i < control->choices->len; i++)
    widget_set_active (g_ptr_array_index (control->choices, i), FALSE);
  for (guint i = 0; i < control->choices->len; i++)
    {
      const char *v = g_ptr_array_index (control->choice_values, i);

      if ((one != NULL && g_strcmp0 (v, one) == 0) || array_has_string (array, v))
        widget_set_active (g_ptr_array_index (control->choices, i), TRUE);
    }
}

static guint
index_of_value (Control    *control,
                const char *value)
{
  for (guint i = 0; value != NULL && control->values != NULL && control->values[i] != NULL; i++)
    if (g_str_equal (control->values[i], value))
      return i;

  return GTK_INVALID_LIST_POSITION;
}

static void
set_canvas_value (KpLayoutView *self,
                  Control      *control,
                  JsonNode     *value)
{
  JsonObject *object = value != NULL && JSON_NODE_HOLDS_OBJECT (value) ? json_node_get_object (value) : NULL;
  JsonNode *boxes = object != NULL ? json_object_get_member (object, canvas_member (control->node)) : NULL;
  g_autoptr(GError) error = NULL;

  g_clear_pointer (&control->draft, json_node_unref);
  /* A segmentation keeps its whole value: the PNG and the colours. */
  if (is_segmentation (control->node))
    boxes = object != NULL ? value : NULL;
  else if (boxes == NULL || !JSON_NODE_HOLDS_ARRAY (boxes))
    return;
  if (boxes == NULL)
    return;
  control->draft = json_node_copy (boxes);

  /* Shown already: into the store, and the document reads it again. */
  if (control->document != NULL &&
      (is_segmentation (control->node)
       ? !put_masks (self, control, kp_document_get_media_id (control->document), control->draft, &error)
       : !put_boxes (self, control->node, kp_document_get_media_id (control->document), control->draft, &error)))
    g_warning ("Cannot restore the boxes of %s: %s", control->key, error->message);
  else if (control->document != NULL && !kp_document_reload (control->document, &error))
    g_warning ("Cannot restore the boxes of %s: %s", control->key, error->message);
}

static void
set_entities_value (Control  *control,
                    JsonNode *value)
{
  const char *text = kp_layout_node_get_attribute (control->node, "text");
  JsonArray *array = value != NULL && JSON_NODE_HOLDS_ARRAY (value) ? json_node_get_array (value) : NULL;

  g_array_set_size (control->entities, 0);
  for (guint i = 0; array != NULL && text != NULL && i < json_array_get_length (array); i++)
    {
      JsonNode *e = json_array_get_element (array, i);
      JsonObject *o = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
      const char *label = o != NULL ? json_object_get_string_member_with_default (o, "label", NULL) : NULL;

      if (label != NULL)
        add_entity (control, label,
                    char_offset (text, json_object_get_int_member_with_default (o, "startOffset", 0)),
                    char_offset (text, json_object_get_int_member_with_default (o, "endOffset", 0)));
    }
  entities_changed (control);
}

static void
set_selection_value (Control  *control,
                     JsonNode *value)
{
  JsonArray *selections = NULL;
  const char *other = "";

  if (value != NULL && JSON_NODE_HOLDS_OBJECT (value))
    {
      JsonObject *object = json_node_get_object (value);
      JsonNode *member = json_object_get_member (object, "selections");

      other = json_object_get_string_member_with_default (object, "other", "");
      selections = member != NULL && JSON_NODE_HOLDS_ARRAY (member) ? json_node_get_array (member) : NULL;
    }
  else if (value != NULL && JSON_NODE_HOLDS_ARRAY (value))
    selections = json_node_get_array (value);

  if (GTK_IS_DROP_DOWN (control->widget))
    {
      guint selected = 0;

      for (guint i = 1; control->values[i] != NULL; i++)
        if (array_has_string (selections, control->values[i]))
          {
            selected = i;
            break;
          }
      gtk_drop_down_set_selected (GTK_DROP_DOWN (control->widget), selected);
    }
  else if (control->list_box != NULL)
    {
      gtk_list_box_unselect_all (GTK_LIST_BOX (control->list_box));
      for (guint i = 0; control->values[i] != NULL; i++)
        if (array_has_string (selections, control->values[i]))
          gtk_list_box_select_row (GTK_LIST_BOX (control->list_box),
                                   gtk_list_box_get_row_at_index (GTK_LIST_BOX (control->list_box), i));
    }
  else
    set_choices (control, selections, NULL);

  if (control->other_entry != NULL)
    gtk_editable_set_text (GTK_EDITABLE (control->other_entry), other != NULL ? other : "");
}

static void
control_set_value (KpLayoutView *self,
                   Control      *control,
                   JsonNode     *value)
{
  const char *string = value_string (value);

  switch (control->kind)
    {
    case CONTROL_ENTRY:
      if (string != NULL)
        gtk_editable_set_text (GTK_EDITABLE (control->widget), string);
      break;

    case CONTROL_TEXT_VIEW:
      if (string != NULL)
        gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (control->widget)), string, -1);
      break;

    case CONTROL_DROP_DOWN:
      {
        guint index = index_of_value (control, string);

        if (index != GTK_INVALID_LIST_POSITION)
          gtk_drop_down_set_selected (GTK_DROP_DOWN (control->widget), index);
      }
      break;

    case CONTROL_TOGGLE:
      if (value != NULL && JSON_NODE_HOLDS_OBJECT (value))
        {
          JsonObject *states = json_node_get_object (value);
          const char *member = toggle_member (control->node);

          if (json_object_has_member (states, member))
            widget_set_active (control->widget, json_object_get_boolean_member (states, member));
        }
      break;

    case CONTROL_RADIO_GROUP:
    case CONTROL_CHOICE:
      set_choices (control, NULL, string);
      break;

    case CONTROL_MULTI:
      set_choices (control, value != NULL && JSON_NODE_HOLDS_ARRAY (value) ? json_node_get_array (value) : NULL,
                   NULL);
      break;

    case CONTROL_SLIDER:
      if (value != NULL && JSON_NODE_HOLDS_VALUE (value))
        {
          gtk_range_set_value (GTK_RANGE (control->widget), json_node_get_double (value));
          control->touched = TRUE;
        }
      break;

    case CONTROL_CANVAS:
      set_canvas_value (self, control, value);
      break;

    case CONTROL_AUDIO:
      if (!kp_audio_segmenter_set_value (KP_AUDIO_SEGMENTER (control->widget), value))
        g_debug ("The draft's value of %s is not segments", control->key);
      break;

    case CONTROL_VIDEO:
      if (!kp_video_tracker_set_value (KP_VIDEO_TRACKER (control->widget), value))
        g_debug ("The draft's value of %s is not tracks", control->key);
      break;

    case CONTROL_ENTITIES:
      set_entities_value (control, value);
      break;

    case CONTROL_SELECTION:
      set_selection_value (control, value);
      break;

    case CONTROL_FILE:
      if (value != NULL && JSON_NODE_HOLDS_OBJECT (value))
        {
          JsonObject *object = json_node_get_object (value);
          const char *key = json_object_get_string_member_with_default (object, "key", NULL);

          if (key != NULL)
            {
              g_free (control->file_key);
              control->file_key = g_strdup (key);
              control->file_size = json_object_get_int_member_with_default (object, "size", 0);
              gtk_label_set_text (GTK_LABEL (control->text_label), key);
            }
        }
      break;

    case CONTROL_NONE:
    default:
      break;
    }
}

void
kp_layout_view_set_values (KpLayoutView *self,
                           GHashTable   *values)
{
  g_return_if_fail (KP_IS_LAYOUT_VIEW (self));
  g_return_if_fail (values != NULL);

  ensure_built (self);

  self->setting = TRUE;
  for (guint i = 0; i < self->controls->len; i++)
    {
      Control *control = g_ptr_array_index (self->controls, i);
      JsonNode *value;

      if (control->key == NULL || !g_hash_table_lookup_extended (values, control->key, NULL, (gpointer *)&value))
        continue;
      control_set_value (self, control, value);
    }
  self->setting = FALSE;
}

JsonArray *
kp_layout_view_get_answer (KpLayoutView *self,
                           GPtrArray    *problems)
{
  g_autoptr(GHashTable) values = NULL;

  g_return_val_if_fail (KP_IS_LAYOUT_VIEW (self), NULL);

  if (self->layout == NULL)
    return NULL;

  values = kp_layout_view_dup_values (self);
  return kp_layout_form_answer (self->layout, NULL, values, problems);
}

static Control *
control_for_problem (KpLayoutView          *self,
                     const KpLayoutProblem *problem)
{
  g_autofree char *key = position_key (problem->line, problem->column);
  Control *control = g_hash_table_lookup (self->by_position, key);

  if (control != NULL)
    return control;

  /* QuestionForm constraints come from the answer XML, without a
   * position; their message names the question. */
  for (guint i = 0; i < self->controls->len; i++)
    {
      Control *c = g_ptr_array_index (self->controls, i);
      g_autofree char *quoted = c->key != NULL ? g_strdup_printf ("“%s”", c->key) : NULL;

      if (quoted != NULL && strstr (problem->message, quoted) != NULL)
        return c;
    }

  return NULL;
}

gboolean
kp_layout_view_validate (KpLayoutView *self)
{
  g_autoptr(GPtrArray) problems = kp_layout_problems_new ();
  g_autoptr(JsonArray) answer = NULL;
  Control *first = NULL;

  g_return_val_if_fail (KP_IS_LAYOUT_VIEW (self), FALSE);

  ensure_built (self);
  for (guint i = 0; i < self->controls->len; i++)
    {
      Control *control = g_ptr_array_index (self->controls, i);

      gtk_label_set_text (GTK_LABEL (control->error_label), "");
      gtk_widget_set_visible (control->error_label, FALSE);
    }

  answer = kp_layout_view_get_answer (self, problems);
  if (!kp_layout_problems_has_errors (problems))
    return TRUE;

  for (guint i = 0; i < problems->len; i++)
    {
      const KpLayoutProblem *problem = g_ptr_array_index (problems, i);
      Control *control;
      const char *old;

      if (problem->severity != KP_LAYOUT_SEVERITY_ERROR)
        continue;
      control = control_for_problem (self, problem);
      if (control == NULL)
        continue;

      old = gtk_label_get_text (GTK_LABEL (control->error_label));
      if (*old != '\0')
        {
          g_autofree char *both = g_strconcat (old, "\n", problem->message, NULL);

          gtk_label_set_text (GTK_LABEL (control->error_label), both);
        }
      else
        gtk_label_set_text (GTK_LABEL (control->error_label), problem->message);
      gtk_widget_set_visible (control->error_label, TRUE);
      gtk_accessible_update_state (GTK_ACCESSIBLE (control->widget), GTK_ACCESSIBLE_STATE_INVALID,
                                   GTK_ACCESSIBLE_INVALID_TRUE, -1);
      if (first == NULL)
        first = control;
    }

  if (first != NULL)
    {
      GtkWidget *target = first->widget;

      /* A group's box is not focusable: its first button is. */
      if (first->choices->len > 0 && !gtk_widget_get_focusable (target))
        target = g_ptr_array_index (first->choices, 0);
      gtk_widget_grab_focus (target);
    }

  return FALSE;
}

gboolean
kp_layout_view_submit (KpLayoutView *self)
{
  g_autoptr(JsonArray) answer = NULL;

  g_return_val_if_fail (KP_IS_LAYOUT_VIEW (self), FALSE);

  if (!kp_layout_view_validate (self))
    return FALSE;

  answer = kp_layout_view_get_answer (self, NULL);
  if (answer == NULL)
    return FALSE;

  g_signal_emit (self, signals[SUBMITTED], 0, answer);
  return TRUE;
}

static Control *
lookup_node_control (KpLayoutView       *self,
                     const KpLayoutNode *node)
{
  g_autofree char *key = position_key (node->line, node->column);

  return g_hash_table_lookup (self->by_position, key);
}

static Control *
lookup_control (KpLayoutView *self,
                const char   *name)
{
  Control *control = g_hash_table_lookup (self->by_key, name);

  if (control == NULL)
    {
      /* A radio button's name finds its group too. */
      for (guint i = 0; i < self->controls->len && control == NULL; i++)
        {
          Control *c = g_ptr_array_index (self->controls, i);

          if (c->kind != CONTROL_RADIO_GROUP)
            continue;
          for (guint j = 0; j < c->node->children->len; j++)
            if (g_strcmp0 (kp_layout_node_get_attribute (g_ptr_array_index (c->node->children, j), "name"),
                           name) == 0)
              control = c;
        }
    }

  return control;
}

GtkWidget *
kp_layout_view_get_control (KpLayoutView *self,
                            const char   *name)
{
  Control *control;

  g_return_val_if_fail (KP_IS_LAYOUT_VIEW (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  ensure_built (self);
  control = lookup_control (self, name);
  if (control == NULL)
    return NULL;

  if (control->kind == CONTROL_CANVAS)
    {
      g_autoptr(GError) error = NULL;

      /* A canvas edits its document only once the store exists. */
      if (!ensure_store (self, &error))
        g_debug ("Cannot keep the boxes of the layout: %s", error->message);
    }

  return control->widget;
}

GtkWidget *
kp_layout_view_get_choice (KpLayoutView *self,
                           const char   *name,
                           const char   *choice)
{
  g_return_val_if_fail (KP_IS_LAYOUT_VIEW (self), NULL);
  g_return_val_if_fail (name != NULL && choice != NULL, NULL);

  ensure_built (self);

  /* Toggles sharing a name: the one with that value. */
  for (guint i = 0; i < self->controls->len; i++)
    {
      Control *control = g_ptr_array_index (self->controls, i);

      if (control->kind == CONTROL_TOGGLE && g_strcmp0 (control->key, name) == 0 &&
          g_strcmp0 (toggle_member (control->node), choice) == 0)
        return control->widget;
    }

  {
    Control *control = lookup_control (self, name);

    if (control == NULL)
      return NULL;
    for (guint i = 0; i < control->choices->len; i++)
      if (g_strcmp0 (g_ptr_array_index (control->choice_values, i), choice) == 0)
        return g_ptr_array_index (control->choices, i);
  }

  return NULL;
}

const char *
kp_layout_view_get_error (KpLayoutView *self,
                          const char   *name)
{
  Control *control;

  g_return_val_if_fail (KP_IS_LAYOUT_VIEW (self), NULL);

  ensure_built (self);
  control = lookup_control (self, name);
  if (control == NULL || !gtk_widget_get_visible (control->error_label))
    return NULL;

  return gtk_label_get_text (GTK_LABEL (control->error_label));
}

GtkWidget *
kp_layout_view_get_page (KpLayoutView *self)
{
  g_return_val_if_fail (KP_IS_LAYOUT_VIEW (self), NULL);

  return self->content;
}

GtkWidget *
kp_layout_view_get_submit_button (KpLayoutView *self)
{
  g_return_val_if_fail (KP_IS_LAYOUT_VIEW (self), NULL);

  ensure_built (self);

  return self->submit_button;
}
