/* kp-object-list.c: the objects of the current image, beside the canvas
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-object-list.h"

#include <glib/gi18n.h>
#include <inttypes.h>

#include "kp-panel-common.h"

/* One row's object: only its id; everything else is read from the
 * document when the row is bound. */
struct _KpObjectItem
{
  GObject parent_instance;
  gint64  id;
};

G_DEFINE_FINAL_TYPE (KpObjectItem, kp_object_item, G_TYPE_OBJECT)

static void
kp_object_item_class_init (KpObjectItemClass *klass)
{
}

static void
kp_object_item_init (KpObjectItem *self)
{
}

gint64
kp_object_item_get_id (KpObjectItem *self)
{
  g_return_val_if_fail (KP_IS_OBJECT_ITEM (self), 0);

  return self->id;
}

/* The rows: an array of ids, items made when the list view asks. */
#define KP_TYPE_OBJECT_MODEL (kp_object_model_get_type ())
G_DECLARE_FINAL_TYPE (KpObjectModel, kp_object_model, KP, OBJECT_MODEL, GObject)

struct _KpObjectModel
{
  GObject     parent_instance;
  GArray     *ids;                /* gint64 */
  GHashTable *positions;          /* gint64* id -> position + 1, or NULL when stale */
};

static void kp_object_model_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (KpObjectModel, kp_object_model, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, kp_object_model_list_model_init))

static GType
kp_object_model_get_item_type (GListModel *model)
{
  return KP_TYPE_OBJECT_ITEM;
}

static guint
kp_object_model_get_n_items (GListModel *model)
{
  return KP_OBJECT_MODEL (model)->ids->len;
}

static gpointer
kp_object_model_get_item (GListModel *model,
                          guint       position)
{
  KpObjectModel *self = KP_OBJECT_MODEL (model);
  KpObjectItem *item;

  if (position >= self->ids->len)
    return NULL;

  item = g_object_new (KP_TYPE_OBJECT_ITEM, NULL);
  item->id = g_array_index (self->ids, gint64, position);

  return item;
}

static void
kp_object_model_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = kp_object_model_get_item_type;
  iface->get_n_items = kp_object_model_get_n_items;
  iface->get_item = kp_object_model_get_item;
}

static void
kp_object_model_finalize (GObject *object)
{
  KpObjectModel *self = (KpObjectModel *)object;

  g_array_unref (self->ids);
  g_clear_pointer (&self->positions, g_hash_table_unref);

  G_OBJECT_CLASS (kp_object_model_parent_class)->finalize (object);
}

static void
kp_object_model_class_init (KpObjectModelClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kp_object_model_finalize;
}

static void
kp_object_model_init (KpObjectModel *self)
{
  self->ids = g_array_new (FALSE, FALSE, sizeof (gint64));
}

static guint
kp_object_model_find (KpObjectModel *self,
                      gint64         id)
{
  gpointer value;

  if (self->positions == NULL)
    {
      self->positions = g_hash_table_new (g_int64_hash, g_int64_equal);
      for (guint i = 0; i < self->ids->len; i++)
        g_hash_table_insert (self->positions, &g_array_index (self->ids, gint64, i),
                             GUINT_TO_POINTER (i + 1));
    }

  value = g_hash_table_lookup (self->positions, &id);

  return value != NULL ? GPOINTER_TO_UINT (value) - 1 : GTK_INVALID_LIST_POSITION;
}

/* The hash table's keys point into the array: any change makes it stale. */
static void
kp_object_model_invalidate (KpObjectModel *self)
{
  g_clear_pointer (&self->positions, g_hash_table_unref);
}

/* The list */

struct _KpObjectList
{
  GtkWidget           parent_instance;

  KpCanvas           *canvas;
  KpDocument         *document;
  GPtrArray          *labels;         /* KpLabel */
  GPtrArray          *attributes;     /* KpAttribute */
  gint64              filter_label_id;

  KpObjectModel      *model;
  GtkMultiSelection  *selection;

  GtkWidget          *header;
  GtkLabel           *count_label;
  GtkDropDown        *filter;
  GtkStringList      *filter_names;
  GtkWidget          *scroller;
  GtkListView        *view;
  GHashTable         *bound;          /* Row* of the rows on screen */

  guint               syncing : 1;
  guint               updating_filter : 1;
};

G_DEFINE_FINAL_TYPE (KpObjectList, kp_object_list, GTK_TYPE_WIDGET)

enum {
  ERROR,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void sync_from_canvas (KpObjectList *self);
static void refresh_bound_rows (KpObjectList *self);

static gboolean
passes_filter (KpObjectList       *self,
               const KpAnnotation *annotation)
{
  return self->filter_label_id == 0 || annotation->label_id == self->filter_label_id;
}

static void
update_count (KpObjectList *self)
{
  g_autofree char *text = NULL;
  guint n = self->model->ids->len;

  /* Translators: the heading of the object list, with how many it shows. */
  text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u Object", "%u Objects", n), n);
  gtk_label_set_label (self->count_label, text);
}

/* Reads the ids again. Only the rows that differ (between the same first
 * and last ones) are reported: GTK's list machinery costs each added row
 * something, even off screen, so after adding 100 objects to 100,000 the
 * list hears of 100. Rows still on screen are refreshed in place. */
static void
rebuild (KpObjectList *self)
{
  GPtrArray *annotations = self->document ? kp_document_get_annotations (self->document) : NULL;
  g_autoptr(GArray) old_ids = self->model->ids;
  GArray *ids = g_array_sized_new (FALSE, FALSE, sizeof (gint64), annotations ? annotations->len : 0);
  guint prefix = 0, suffix = 0;

  for (guint i = 0; annotations != NULL && i < annotations->len; i++)
    {
      const KpAnnotation *annotation = g_ptr_array_index (annotations, i);

      if (passes_filter (self, annotation))
        g_array_append_val (ids, annotation->id);
    }

  while (prefix < old_ids->len && prefix < ids->len &&
         g_array_index (old_ids, gint64, prefix) == g_array_index (ids, gint64, prefix))
    prefix++;
  while (suffix < old_ids->len - prefix && suffix < ids->len - prefix &&
         g_array_index (old_ids, gint64, old_ids->len - 1 - suffix) ==
         g_array_index (ids, gint64, ids->len - 1 - suffix))
    suffix++;

  self->model->ids = ids;
  kp_object_model_invalidate (self->model);

  self->syncing = TRUE;
  if (old_ids->len - prefix - suffix > 0 || ids->len - prefix - suffix > 0)
    g_list_model_items_changed (G_LIST_MODEL (self->model), prefix,
                                old_ids->len - prefix - suffix, ids->len - prefix - suffix);
  self->syncing = FALSE;

  refresh_bound_rows (self);
  update_count (self);
  sync_from_canvas (self);
}

static void
document_changed_cb (KpObjectList *self,
                     gint64        annotation_id,
                     KpDocument   *document)
{
  const KpAnnotation *annotation;
  GPtrArray *annotations;
  gboolean shown;
  guint position;

  if (annotation_id == 0)
    {
      rebuild (self);
      return;
    }

  annotation = kp_document_lookup (document, annotation_id);
  shown = annotation != NULL && passes_filter (self, annotation);
  position = kp_object_model_find (self->model, annotation_id);

  self->syncing = TRUE;
  if (position != GTK_INVALID_LIST_POSITION && shown)
    {
      g_list_model_items_changed (G_LIST_MODEL (self->model), position, 1, 1);
    }
  else if (position != GTK_INVALID_LIST_POSITION)
    {
      g_array_remove_index (self->model->ids, position);
      kp_object_model_invalidate (self->model);
      g_list_model_items_changed (G_LIST_MODEL (self->model), position, 1, 0);
    }
  else if (shown)
    {
      annotations = kp_document_get_annotations (document);

      /* New objects go on top, at the end; anything else (an undone
       * delete in the middle) is rare enough to rebuild for. */
      if (annotations->len > 0 && g_ptr_array_index (annotations, annotations->len - 1) == annotation)
        {
          guint n = self->model->ids->len;

          g_array_append_val (self->model->ids, annotation_id);
          kp_object_model_invalidate (self->model);
          g_list_model_items_changed (G_LIST_MODEL (self->model), n, 0, 1);
        }
      else
        {
          self->syncing = FALSE;
          rebuild (self);
          return;
        }
    }
  self->syncing = FALSE;

  update_count (self);
  sync_from_canvas (self);
}

static void
set_document (KpObjectList *self,
              KpDocument   *document)
{
  if (kp_panel_follow_document (self, &self->document, document, "changed",
                                G_CALLBACK (document_changed_cb)))
    rebuild (self);
}

/* Selection, both ways */

static void
sync_from_canvas (KpObjectList *self)
{
  g_autoptr(GtkBitset) selected = NULL;
  g_autoptr(GtkBitset) mask = NULL;
  const gint64 *ids;
  guint n_ids = 0;
  guint last = GTK_INVALID_LIST_POSITION;

  if (self->canvas == NULL || self->syncing)
    return;

  ids = kp_canvas_get_selection (self->canvas, &n_ids);
  selected = gtk_bitset_new_empty ();
  for (guint i = 0; i < n_ids; i++)
    {
      guint position = kp_object_model_find (self->model, ids[i]);

      if (position != GTK_INVALID_LIST_POSITION)
        {
          gtk_bitset_add (selected, position);
          last = position;
        }
    }

  mask = gtk_bitset_new_range (0, self->model->ids->len);

  self->syncing = TRUE;
  gtk_selection_model_set_selection (GTK_SELECTION_MODEL (self->selection), selected, mask);
  self->syncing = FALSE;

  if (last != GTK_INVALID_LIST_POSITION)
    gtk_widget_activate_action (GTK_WIDGET (self->view), "list.scroll-to-item", "u", last);
}

static void
canvas_selection_changed_cb (KpObjectList *self,
                             KpCanvas     *canvas)
{
  sync_from_canvas (self);
}

static GArray *
dup_selected_ids (KpObjectList *self)
{
  g_autoptr(GtkBitset) selected = gtk_selection_model_get_selection (GTK_SELECTION_MODEL (self->selection));
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  GtkBitsetIter iter;
  guint position;

  for (gboolean ok = gtk_bitset_iter_init_first (&iter, selected, &position);
       ok;
       ok = gtk_bitset_iter_next (&iter, &position))
    if (position < self->model->ids->len)
      g_array_append_val (ids, g_array_index (self->model->ids, gint64, position));

  return ids;
}

static void
list_selection_changed_cb (KpObjectList      *self,
                           guint              position,
                           guint              n_items,
                           GtkSelectionModel *model)
{
  g_autoptr(GArray) ids = NULL;

  if (self->syncing || self->canvas == NULL)
    return;

  ids = dup_selected_ids (self);

  self->syncing = TRUE;
  kp_canvas_set_selection (self->canvas, (const gint64 *)ids->data, ids->len);
  self->syncing = FALSE;

  if (ids->len > 0)
    kp_canvas_zoom_to_selection (self->canvas);

  /* The canvas drops what it cannot select (hidden objects). */
  sync_from_canvas (self);
}

static void
canvas_document_cb (KpObjectList *self,
                    GParamSpec   *pspec,
                    KpCanvas     *canvas)
{
  set_document (self, kp_canvas_get_document (canvas));
}

/* Rows */

static void
report_error (KpObjectList *self,
              GError       *error)
{
  g_signal_emit (self, signals[ERROR], 0, error);
}

static void
toggle_flag (KpObjectList      *self,
             gint64             annotation_id,
             KpAnnotationFlags  flag)
{
  g_autoptr(GError) error = NULL;
  const KpAnnotation *annotation;

  if (self->document == NULL || (annotation = kp_document_lookup (self->document, annotation_id)) == NULL)
    return;

  if (!kp_document_set_flags (self->document, &annotation_id, 1, flag,
                              (annotation->flags & flag) == 0, &error))
    report_error (self, error);
}

void
kp_object_list_toggle_hidden (KpObjectList *self,
                              gint64        annotation_id)
{
  g_return_if_fail (KP_IS_OBJECT_LIST (self));

  toggle_flag (self, annotation_id, KP_ANNOTATION_HIDDEN);
}

void
kp_object_list_toggle_locked (KpObjectList *self,
                              gint64        annotation_id)
{
  g_return_if_fail (KP_IS_OBJECT_LIST (self));

  toggle_flag (self, annotation_id, KP_ANNOTATION_LOCKED);
}

typedef struct
{
  KpObjectList *list;             /* unowned: rows die with it */
  GtkListItem  *list_item;        /* unowned: owns the row */
  gint64        id;
  GdkRGBA       color;
  GtkWidget    *swatch;
  GtkImage     *shape;
  GtkLabel     *name;
  GtkLabel     *summary;
  GtkWidget    *hide;
  GtkWidget    *lock;
  gboolean      binding;
} Row;

static void
row_free (Row *row)
{
  g_free (row);
}

static void
swatch_draw_cb (GtkDrawingArea *area,
                cairo_t        *cr,
                int             width,
                int             height,
                gpointer        user_data)
{
  Row *row = user_data;

  gdk_cairo_set_source_rgba (cr, &row->color);
  cairo_arc (cr, width / 2.0, height / 2.0, MIN (width, height) / 2.0, 0, 2 * G_PI);
  cairo_fill (cr);
}

static void
row_hide_toggled_cb (GtkToggleButton *button,
                     Row             *row)
{
  if (!row->binding)
    kp_object_list_toggle_hidden (row->list, row->id);
}

static void
row_lock_toggled_cb (GtkToggleButton *button,
                     Row             *row)
{
  if (!row->binding)
    kp_object_list_toggle_locked (row->list, row->id);
}

static void
setup_cb (GtkSignalListItemFactory *factory,
          GtkListItem              *list_item,
          KpObjectList             *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *texts = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  Row *row = g_new0 (Row, 1);

  row->list = self;
  row->list_item = list_item;

  row->swatch = gtk_drawing_area_new ();
  gtk_drawing_area_set_content_width (GTK_DRAWING_AREA (row->swatch), 12);
  gtk_drawing_area_set_content_height (GTK_DRAWING_AREA (row->swatch), 12);
  gtk_widget_set_valign (row->swatch, GTK_ALIGN_CENTER);
  gtk_drawing_area_set_draw_func (GTK_DRAWING_AREA (row->swatch), swatch_draw_cb, row, NULL);
  gtk_box_append (GTK_BOX (box), row->swatch);

  row->shape = GTK_IMAGE (gtk_image_new ());
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (row->shape));

  row->name = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (row->name, 0);
  gtk_label_set_ellipsize (row->name, PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (texts), GTK_WIDGET (row->name));

  row->summary = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (row->summary, 0);
  gtk_label_set_ellipsize (row->summary, PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (GTK_WIDGET (row->summary), "dim-label");
  gtk_widget_add_css_class (GTK_WIDGET (row->summary), "caption");
  gtk_box_append (GTK_BOX (texts), GTK_WIDGET (row->summary));

  gtk_widget_set_hexpand (texts, TRUE);
  gtk_widget_set_valign (texts, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (box), texts);

  row->hide = gtk_toggle_button_new ();
  gtk_widget_add_css_class (row->hide, "flat");
  gtk_widget_set_valign (row->hide, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (box), row->hide);
  g_signal_connect (row->hide, "toggled", G_CALLBACK (row_hide_toggled_cb), row);

  row->lock = gtk_toggle_button_new ();
  gtk_widget_add_css_class (row->lock, "flat");
  gtk_widget_set_valign (row->lock, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (box), row->lock);
  g_signal_connect (row->lock, "toggled", G_CALLBACK (row_lock_toggled_cb), row);

  g_object_set_data_full (G_OBJECT (list_item), "kp-row", row, (GDestroyNotify)row_free);
  gtk_widget_add_css_class (box, "kp-object-row");
  gtk_list_item_set_child (list_item, box);
}

static const char *
shape_icon_name (KpShape shape)
{
  switch (shape)
    {
    case KP_SHAPE_BOX:         return kp_tool_kind_get_icon_name (KP_TOOL_KIND_BOX);
    case KP_SHAPE_ROTATED_BOX: return kp_tool_kind_get_icon_name (KP_TOOL_KIND_ROTATED_BOX);
    case KP_SHAPE_POLYGON:     return kp_tool_kind_get_icon_name (KP_TOOL_KIND_POLYGON);
    case KP_SHAPE_POLYLINE:    return kp_tool_kind_get_icon_name (KP_TOOL_KIND_POLYLINE);
    case KP_SHAPE_LINE:        return kp_tool_kind_get_icon_name (KP_TOOL_KIND_LINE);
    case KP_SHAPE_POINT:       return kp_tool_kind_get_icon_name (KP_TOOL_KIND_POINT);
    case KP_SHAPE_MASK:        return kp_tool_kind_get_icon_name (KP_TOOL_KIND_BRUSH);
    default:                   return "image-missing-symbolic";
    }
}

static const char *
shape_name (KpShape shape)
{
  switch (shape)
    {
    case KP_SHAPE_BOX:         return _("Box");
    case KP_SHAPE_ROTATED_BOX: return _("Rotated box");
    case KP_SHAPE_POLYGON:     return _("Polygon");
    case KP_SHAPE_POLYLINE:    return _("Polyline");
    case KP_SHAPE_LINE:        return _("Line");
    case KP_SHAPE_POINT:       return _("Point");
    case KP_SHAPE_MASK:        return _("Mask");
    default:                   return _("Object");
    }
}

static char *
dup_summary (KpObjectList       *self,
             const KpAnnotation *annotation)
{
  GString *summary = g_string_new (NULL);

  if (annotation->review == KP_REVIEW_PENDING)
    /* Translators: an object list row of an imported suggestion, with its confidence. */
    g_string_append_printf (summary, _("Suggestion, %d %%"), (int)(annotation->confidence * 100 + 0.5));

  for (guint i = 0; i < annotation->n_attributes; i++)
    {
      const KpAttribute *attribute = kp_panel_find_attribute (self->attributes,
                                                              annotation->attributes[i].attribute_id);
      const char *value = annotation->attributes[i].value;

      if (attribute == NULL || value == NULL)
        continue;
      if (summary->len > 0)
        g_string_append (summary, ", ");

      if (attribute->kind == KP_ATTRIBUTE_CHECKBOX)
        {
          if (g_str_equal (value, "true"))
            g_string_append (summary, attribute->name);
          else
            /* Translators: an unchecked checkbox attribute in the object list. */
            g_string_append_printf (summary, _("not %s"), attribute->name);
        }
      else
        {
          g_string_append_printf (summary, "%s: %s", attribute->name, value);
        }
    }

  return g_string_free (summary, FALSE);
}

static void
bind_row (KpObjectList *self,
          Row          *row)
{
  GtkListItem *list_item = row->list_item;
  const KpAnnotation *annotation;
  const KpLabel *label;
  g_autofree char *name = NULL;
  g_autofree char *summary = NULL;
  gboolean hidden, locked;

  annotation = self->document ? kp_document_lookup (self->document, row->id) : NULL;
  if (annotation == NULL)
    return;

  label = kp_panel_find_label (self->labels, annotation->label_id);
  if (label == NULL || !gdk_rgba_parse (&row->color, label->color))
    row->color = (GdkRGBA) { 0.5, 0.5, 0.5, 1 };
  gtk_widget_queue_draw (row->swatch);

  gtk_image_set_from_icon_name (row->shape, shape_icon_name (annotation->shape));
  gtk_widget_set_tooltip_text (GTK_WIDGET (row->shape), shape_name (annotation->shape));

  /* Translators: an object list row: the label's name and the object's number. */
  name = g_strdup_printf (_("%s #%" PRId64), label ? label->name : _("No label"), annotation->id);
  gtk_label_set_label (row->name, name);

  summary = dup_summary (self, annotation);
  gtk_label_set_label (row->summary, summary);
  gtk_widget_set_visible (GTK_WIDGET (row->summary), *summary != '\0');

  hidden = (annotation->flags & KP_ANNOTATION_HIDDEN) != 0;
  locked = (annotation->flags & KP_ANNOTATION_LOCKED) != 0;

  row->binding = TRUE;
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (row->hide), hidden);
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (row->lock), locked);
  row->binding = FALSE;

  gtk_button_set_icon_name (GTK_BUTTON (row->hide), hidden ? "view-conceal-symbolic" : "view-reveal-symbolic");
  gtk_widget_set_tooltip_text (row->hide, hidden ? _("Show") : _("Hide"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (row->hide),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Hidden"), -1);
  gtk_button_set_icon_name (GTK_BUTTON (row->lock), locked ? "changes-prevent-symbolic" : "changes-allow-symbolic");
  gtk_widget_set_tooltip_text (row->lock, locked ? _("Unlock") : _("Lock"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (row->lock),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Locked"), -1);
  gtk_widget_set_opacity (gtk_list_item_get_child (list_item), hidden ? 0.6 : 1.0);
}

static void
bind_cb (GtkSignalListItemFactory *factory,
         GtkListItem              *list_item,
         KpObjectList             *self)
{
  Row *row = g_object_get_data (G_OBJECT (list_item), "kp-row");
  KpObjectItem *item = gtk_list_item_get_item (list_item);

  row->id = item->id;
  g_hash_table_add (self->bound, row);
  bind_row (self, row);
}

static void
unbind_cb (GtkSignalListItemFactory *factory,
           GtkListItem              *list_item,
           KpObjectList             *self)
{
  if (self->bound != NULL)
    g_hash_table_remove (self->bound, g_object_get_data (G_OBJECT (list_item), "kp-row"));
}

static void
teardown_cb (GtkSignalListItemFactory *factory,
             GtkListItem              *list_item,
             KpObjectList             *self)
{
  if (self->bound != NULL)
    g_hash_table_remove (self->bound, g_object_get_data (G_OBJECT (list_item), "kp-row"));
}

static void
refresh_bound_rows (KpObjectList *self)
{
  GHashTableIter iter;
  gpointer row;

  g_hash_table_iter_init (&iter, self->bound);
  while (g_hash_table_iter_next (&iter, &row, NULL))
    bind_row (self, row);
}

/* Filter */

static void
sync_filter_names (KpObjectList *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->filter_names));
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  guint selected = 0;

  g_ptr_array_add (names, (gpointer)_("All Labels"));
  for (guint i = 0; self->labels != NULL && i < self->labels->len; i++)
    {
      const KpLabel *label = g_ptr_array_index (self->labels, i);

      g_ptr_array_add (names, label->name);
      if (label->id == self->filter_label_id)
        selected = i + 1;
    }
  g_ptr_array_add (names, NULL);

  self->updating_filter = TRUE;
  gtk_string_list_splice (self->filter_names, 0, n, (const char * const *)names->pdata);
  gtk_drop_down_set_selected (self->filter, selected);
  self->updating_filter = FALSE;

  if (selected == 0 && self->filter_label_id != 0)
    kp_object_list_set_filter_label (self, 0);
}

static void
filter_selected_cb (KpObjectList *self,
                    GParamSpec   *pspec,
                    GtkDropDown  *filter)
{
  guint selected = gtk_drop_down_get_selected (filter);
  gint64 label_id = 0;

  if (self->updating_filter)
    return;

  if (selected != GTK_INVALID_LIST_POSITION && selected > 0 &&
      self->labels != NULL && selected - 1 < self->labels->len)
    label_id = ((KpLabel *)g_ptr_array_index (self->labels, selected - 1))->id;

  kp_object_list_set_filter_label (self, label_id);
}

static gboolean
delete_shortcut_cb (GtkWidget *widget,
                    GVariant  *args,
                    gpointer   user_data)
{
  return gtk_widget_activate_action (widget, "win.delete-selected", NULL);
}

/* GObject */

static void
kp_object_list_dispose (GObject *object)
{
  KpObjectList *self = (KpObjectList *)object;
  GtkWidget *child;

  kp_object_list_set_canvas (self, NULL);
  set_document (self, NULL);

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  g_clear_object (&self->selection);
  g_clear_object (&self->model);
  g_clear_pointer (&self->labels, g_ptr_array_unref);
  g_clear_pointer (&self->attributes, g_ptr_array_unref);
  g_clear_pointer (&self->bound, g_hash_table_unref);

  G_OBJECT_CLASS (kp_object_list_parent_class)->dispose (object);
}

static void
kp_object_list_class_init (KpObjectListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kp_object_list_dispose;

  signals[ERROR] = kp_panel_error_signal_new (G_TYPE_FROM_CLASS (klass));

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "kpobjectlist");
}

static void
kp_object_list_init (KpObjectList *self)
{
  GtkLayoutManager *layout = gtk_widget_get_layout_manager (GTK_WIDGET (self));
  g_autoptr(GtkListItemFactory) factory = NULL;
  GtkEventController *shortcuts;
  GtkWidget *box;
  GtkWidget *button;

  gtk_orientable_set_orientation (GTK_ORIENTABLE (layout), GTK_ORIENTATION_VERTICAL);

  self->bound = g_hash_table_new (NULL, NULL);
  self->model = g_object_new (KP_TYPE_OBJECT_MODEL, NULL);
  self->selection = gtk_multi_selection_new (g_object_ref (G_LIST_MODEL (self->model)));
  g_signal_connect_object (self->selection, "selection-changed",
                           G_CALLBACK (list_selection_changed_cb), self, G_CONNECT_SWAPPED);

  /* Header: count, label filter, z-order. */
  self->header = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_margin_top (self->header, 6);
  gtk_widget_set_margin_bottom (self->header, 6);
  gtk_widget_set_margin_start (self->header, 12);
  gtk_widget_set_margin_end (self->header, 6);
  gtk_widget_set_parent (self->header, GTK_WIDGET (self));

  self->count_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_xalign (self->count_label, 0);
  gtk_widget_set_hexpand (GTK_WIDGET (self->count_label), TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (self->count_label), "heading");
  gtk_box_append (GTK_BOX (self->header), GTK_WIDGET (self->count_label));

  self->filter_names = gtk_string_list_new (NULL);
  self->filter = GTK_DROP_DOWN (gtk_drop_down_new (G_LIST_MODEL (self->filter_names), NULL));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->filter), _("Show the Objects of One Label"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->filter),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Filter by Label"), -1);
  g_signal_connect_object (self->filter, "notify::selected",
                           G_CALLBACK (filter_selected_cb), self, G_CONNECT_SWAPPED);
  gtk_box_append (GTK_BOX (self->header), GTK_WIDGET (self->filter));

  box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
  gtk_widget_add_css_class (box, "linked");
  button = gtk_button_new_from_icon_name ("go-top-symbolic");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "win.raise-selected");
  gtk_widget_set_tooltip_text (button, _("Bring to Front (Ctrl+])"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Bring to Front"), -1);
  gtk_box_append (GTK_BOX (box), button);
  button = gtk_button_new_from_icon_name ("go-bottom-symbolic");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "win.lower-selected");
  gtk_widget_set_tooltip_text (button, _("Send to Back (Ctrl+[)"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Send to Back"), -1);
  gtk_box_append (GTK_BOX (box), button);
  gtk_box_append (GTK_BOX (self->header), box);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect_object (factory, "setup", G_CALLBACK (setup_cb), self, 0);
  g_signal_connect_object (factory, "bind", G_CALLBACK (bind_cb), self, 0);
  g_signal_connect_object (factory, "unbind", G_CALLBACK (unbind_cb), self, 0);
  g_signal_connect_object (factory, "teardown", G_CALLBACK (teardown_cb), self, 0);

  self->view = GTK_LIST_VIEW (gtk_list_view_new (g_object_ref (GTK_SELECTION_MODEL (self->selection)),
                                                 g_object_ref (factory)));
  gtk_widget_add_css_class (GTK_WIDGET (self->view), "navigation-sidebar");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->view),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Objects"), -1);

  shortcuts = gtk_shortcut_controller_new ();
  gtk_shortcut_controller_add_shortcut (GTK_SHORTCUT_CONTROLLER (shortcuts),
                                        gtk_shortcut_new (gtk_shortcut_trigger_parse_string ("Delete|BackSpace"),
                                                          gtk_callback_action_new (delete_shortcut_cb, NULL, NULL)));
  gtk_widget_add_controller (GTK_WIDGET (self->view), shortcuts);

  self->scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (self->scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scroller), GTK_WIDGET (self->view));
  gtk_widget_set_vexpand (self->scroller, TRUE);
  gtk_widget_set_parent (self->scroller, GTK_WIDGET (self));

  sync_filter_names (self);
  update_count (self);
}

GtkWidget *
kp_object_list_new (void)
{
  return g_object_new (KP_TYPE_OBJECT_LIST, NULL);
}

void
kp_object_list_set_canvas (KpObjectList *self,
                           KpCanvas     *canvas)
{
  g_return_if_fail (KP_IS_OBJECT_LIST (self));
  g_return_if_fail (canvas == NULL || KP_IS_CANVAS (canvas));

  if (kp_panel_follow_canvas (self, &self->canvas, canvas,
                              G_CALLBACK (canvas_selection_changed_cb), G_CALLBACK (canvas_document_cb)))
    set_document (self, canvas != NULL ? kp_canvas_get_document (canvas) : NULL);
}

static void
refresh_rows (KpObjectList *self)
{
  refresh_bound_rows (self);
}

void
kp_object_list_set_labels (KpObjectList *self,
                           GPtrArray    *labels)
{
  g_return_if_fail (KP_IS_OBJECT_LIST (self));

  g_clear_pointer (&self->labels, g_ptr_array_unref);
  self->labels = kp_panel_copy_labels (labels);
  sync_filter_names (self);
  refresh_rows (self);
}

void
kp_object_list_set_attributes (KpObjectList *self,
                               GPtrArray    *attributes)
{
  g_return_if_fail (KP_IS_OBJECT_LIST (self));

  g_clear_pointer (&self->attributes, g_ptr_array_unref);
  self->attributes = kp_panel_copy_attributes (attributes);
  refresh_rows (self);
}

void
kp_object_list_set_filter_label (KpObjectList *self,
                                 gint64        label_id)
{
  g_return_if_fail (KP_IS_OBJECT_LIST (self));

  if (self->filter_label_id == label_id)
    return;

  self->filter_label_id = label_id;
  sync_filter_names (self);
  rebuild (self);
}

gint64
kp_object_list_get_filter_label (KpObjectList *self)
{
  g_return_val_if_fail (KP_IS_OBJECT_LIST (self), 0);

  return self->filter_label_id;
}

GtkSelectionModel *
kp_object_list_get_selection_model (KpObjectList *self)
{
  g_return_val_if_fail (KP_IS_OBJECT_LIST (self), NULL);

  return GTK_SELECTION_MODEL (self->selection);
}

guint
kp_object_list_find (KpObjectList *self,
                     gint64        annotation_id)
{
  g_return_val_if_fail (KP_IS_OBJECT_LIST (self), GTK_INVALID_LIST_POSITION);

  return kp_object_model_find (self->model, annotation_id);
}
