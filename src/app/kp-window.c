/* kp-window.c: the project, the image list and the current image
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <inttypes.h>

#include "kp-window.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>

#include "kp-audio-page.h"
#include "kp-keymap.h"
#include "kp-label-row.h"
#include "kp-media-row.h"
#include "kp-media.h"
#include "kp-video-page.h"
#include "kp-window-private.h"

#define THUMBNAIL_SIZE 80
#define PREFETCH_DELAY_MS 100
#define MAX_RECENT_PROJECTS 10

G_DEFINE_FINAL_TYPE (KpWindow, kp_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_LOADING,
  PROP_CURRENT_MEDIA_ID,
  PROP_IMAGE_LOADING,
  PROP_IMAGE_LOADED,
  PROP_IMAGE_ERROR,
  PROP_INFO_PENDING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void show_item (KpWindow    *self,
                       KpMediaItem *item);

/* Project state */

static void
set_loading (KpWindow *self,
             gboolean  loading)
{
  loading = !!loading;
  if (loading == self->loading)
    return;

  self->loading = loading;
  gtk_spinner_set_spinning (self->loading_spinner, loading);
  _kp_window_update_actions (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LOADING]);
}

static void
set_info_pending (KpWindow *self,
                  gboolean  pending)
{
  pending = !!pending;
  if (pending == self->info_pending)
    return;

  self->info_pending = pending;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_INFO_PENDING]);
}

static void
set_image_state (KpWindow   *self,
                 gboolean    loading,
                 gboolean    loaded,
                 const char *error)
{
  g_object_freeze_notify (G_OBJECT (self));

  if (self->image_loading != !!loading)
    {
      self->image_loading = !!loading;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IMAGE_LOADING]);
    }

  if (self->image_loaded != !!loaded)
    {
      self->image_loaded = !!loaded;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IMAGE_LOADED]);
    }

  if (g_strcmp0 (self->image_error, error) != 0)
    {
      g_free (self->image_error);
      self->image_error = g_strdup (error);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IMAGE_ERROR]);
    }

  g_object_thaw_notify (G_OBJECT (self));

  _kp_window_update_actions (self);
}

static void
show_progress (KpWindow *self)
{
  guint total = g_hash_table_size (self->items_by_id);
  guint done = self->n_done;
  g_autofree char *text = NULL;

  /* Translators: shown above the image list, e.g. "3 of 120 done". */
  text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u of %u done", "%u of %u done", total),
                          done, total);
  gtk_label_set_label (self->progress_label, text);
  gtk_progress_bar_set_fraction (self->progress_bar, total > 0 ? (double)done / total : 0);
}

/* Counts the done images anew, after many items changed at once. */
static void
recount_progress (KpWindow *self)
{
  GHashTableIter iter;
  gpointer value;

  if (self->items_by_id == NULL)
    return;

  self->n_done = 0;
  g_hash_table_iter_init (&iter, self->items_by_id);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (kp_media_item_get_status (value) == KP_MEDIA_STATUS_DONE)
      self->n_done++;

  show_progress (self);
}

static void
update_current_labels (KpWindow *self)
{
  g_autofree char *name = NULL;
  g_autofree char *subtitle = NULL;
  g_autofree char *details = NULL;
  guint n_items;

  if (self->store == NULL)
    {
      adw_window_title_set_title (self->window_title, _("Kempelen"));
      adw_window_title_set_subtitle (self->window_title, NULL);
      gtk_window_set_title (GTK_WINDOW (self), _("Kempelen"));
      return;
    }

  name = kp_store_dup_name (self->store);
  adw_window_title_set_title (self->window_title, name);
  gtk_window_set_title (GTK_WINDOW (self), name);

  n_items = g_list_model_get_n_items (G_LIST_MODEL (self->media));
  if (self->current_item != NULL)
    {
      const KpMedia *media = kp_media_item_get_media (self->current_item);

      /* Translators: the window subtitle, e.g. "Image 3 of 120". */
      subtitle = g_strdup_printf (_("Image %u of %u"),
                                  gtk_single_selection_get_selected (self->selection) + 1,
                                  n_items);

      if (media->width > 0 && media->height > 0)
        /* Translators: file name, then width × height in pixels. */
        details = g_strdup_printf (_("%s — %d × %d"), media->path, media->width, media->height);
      else
        details = g_strdup (media->path);
    }
  else if (n_items == 0)
    {
      subtitle = g_strdup (_("No images"));
    }

  adw_window_title_set_subtitle (self->window_title, subtitle);
  gtk_label_set_label (self->media_label, details);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->media_label), details);
}

void
_kp_window_refresh_item (KpWindow *self,
                         gint64    media_id)
{
  g_autoptr(KpMedia) media = NULL;
  g_autoptr(GError) error = NULL;
  KpMediaItem *item;

  if (self->store == NULL)
    return;

  item = g_hash_table_lookup (self->items_by_id, &media_id);
  if (item == NULL)
    return;

  media = kp_store_get_media (self->store, media_id, &error);
  if (media == NULL)
    {
      g_debug ("Cannot refresh media %" PRId64 ": %s", media_id, error->message);
      return;
    }

  /* One item changed: adjust the count rather than walk every image. */
  if (kp_media_item_get_status (item) == KP_MEDIA_STATUS_DONE)
    self->n_done--;
  kp_media_item_update (item, media);
  if (kp_media_item_get_status (item) == KP_MEDIA_STATUS_DONE)
    self->n_done++;
  show_progress (self);
  if (item == self->current_item)
    {
      update_current_labels (self);
      _kp_window_update_actions (self);
    }
}

void
_kp_window_refresh_items (KpWindow  *self,
                          GPtrArray *media)
{
  if (self->store == NULL || media == NULL)
    return;

  for (guint i = 0; i < media->len; i++)
    {
      const KpMedia *m = g_ptr_array_index (media, i);
      KpMediaItem *item = g_hash_table_lookup (self->items_by_id, &m->id);

      if (item != NULL)
        kp_media_item_update (item, m);
    }

  recount_progress (self);
  update_current_labels (self);
  _kp_window_update_actions (self);
}

static void
document_changed_cb (KpDocument *document,
                     gint64      annotation_id,
                     KpWindow   *self)
{
  _kp_window_refresh_item (self, kp_document_get_media_id (document));
}

KpDocument *
_kp_window_ensure_document (KpWindow  *self,
                            gint64     media_id,
                            GError   **error)
{
  KpDocument *document;

  g_assert (self->store != NULL);

  document = g_hash_table_lookup (self->documents, &media_id);
  if (document != NULL)
    return document;

  document = kp_document_new (self->store, media_id, error);
  if (document == NULL)
    return NULL;

  g_signal_connect_object (document, "changed", G_CALLBACK (document_changed_cb), self, 0);
  g_hash_table_insert (self->documents, g_memdup2 (&media_id, sizeof media_id), document);

  return document;
}

/* Labels */

static void
labels_row_selected_cb (KpWindow      *self,
                        GtkListBoxRow *row,
                        GtkListBox    *list)
{
  if (self->updating_labels || row == NULL || !KP_IS_LABEL_ROW (row))
    return;

  _kp_window_set_current_label (self, kp_label_row_get_id (KP_LABEL_ROW (row)));
}

void
_kp_window_set_current_label (KpWindow *self,
                              gint64    label_id)
{
  g_autofree char *value = NULL;
  GtkWidget *child;

  /* The canvas holds the current label; the window keeps no copy. */
  kp_canvas_set_current_label_id (self->canvas, label_id);

  self->updating_labels = TRUE;
  gtk_list_box_unselect_all (self->labels_list);
  for (child = gtk_widget_get_first_child (GTK_WIDGET (self->labels_list));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (KP_IS_LABEL_ROW (child) && kp_label_row_get_id (KP_LABEL_ROW (child)) == label_id)
        gtk_list_box_select_row (self->labels_list, GTK_LIST_BOX_ROW (child));
    }
  self->updating_labels = FALSE;

  if (self->store != NULL)
    {
      value = g_strdup_printf ("%" PRId64, label_id);
      if (!kp_store_set_setting (self->store, "current-label-id", value, NULL))
        g_debug ("Cannot remember the current label");
    }
}

void
_kp_window_sync_labels (KpWindow *self)
{
  GtkListBoxRow *row;
  gboolean found = FALSE;

  self->updating_labels = TRUE;
  while ((row = gtk_list_box_get_row_at_index (self->labels_list, 0)) != NULL)
    gtk_list_box_remove (self->labels_list, GTK_WIDGET (row));

  for (guint i = 0; self->labels != NULL && i < self->labels->len; i++)
    {
      const KpLabel *label = g_ptr_array_index (self->labels, i);

      gtk_list_box_append (self->labels_list, kp_label_row_new (label));
      if (label->id == kp_canvas_get_current_label_id (self->canvas))
        found = TRUE;
    }
  self->updating_labels = FALSE;

  if (self->labels != NULL)
    kp_canvas_set_labels (self->canvas, self->labels);
  kp_object_list_set_labels (self->object_list, self->labels);
  kp_attribute_panel_set_labels (self->attribute_panel, self->labels);

  if (!found)
    {
      gint64 first = 0;

      if (self->labels != NULL && self->labels->len > 0)
        first = ((KpLabel *)g_ptr_array_index (self->labels, 0))->id;
      _kp_window_set_current_label (self, first);
    }
  else
    {
      _kp_window_set_current_label (self, kp_canvas_get_current_label_id (self->canvas));
    }
}

void
kp_window_reload_labels (KpWindow *self)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *labels;

  g_return_if_fail (KP_IS_WINDOW (self));

  if (self->store == NULL)
    return;

  labels = kp_store_list_labels (self->store, &error);
  if (labels == NULL)
    {
      _kp_window_show_error (self, _("Cannot Read the Labels"), error->message);
      return;
    }

  g_clear_pointer (&self->labels, g_ptr_array_unref);
  self->labels = labels;
  _kp_window_sync_labels (self);
  _kp_window_reload_attributes (self);
}

void
_kp_window_reload_attributes (KpWindow *self)
{
  g_autoptr(GError) error = NULL;

  g_clear_pointer (&self->attributes, g_ptr_array_unref);
  if (self->store != NULL && (self->attributes = kp_store_list_all_attributes (self->store, &error)) == NULL)
    g_debug ("Cannot read the attributes: %s", error->message);

  kp_object_list_set_attributes (self->object_list, self->attributes);
  kp_attribute_panel_set_attributes (self->attribute_panel, self->attributes);
}

gint64
kp_window_get_current_label_id (KpWindow *self)
{
  g_return_val_if_fail (KP_IS_WINDOW (self), 0);

  return kp_canvas_get_current_label_id (self->canvas);
}

/* The image list */

static void
media_setup_cb (GtkSignalListItemFactory *factory,
                GtkListItem              *list_item,
                KpWindow                 *self)
{
  gtk_list_item_set_child (list_item, kp_media_row_new ());
}

static void
media_bind_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *list_item,
               KpWindow                 *self)
{
  KpMediaItem *item = gtk_list_item_get_item (list_item);
  KpMediaRow *row = KP_MEDIA_ROW (gtk_list_item_get_child (list_item));
  KpMediaStatus status = kp_media_item_get_status (item);

  kp_media_row_set_item (row, item);

  /* Thumbnails are made only for rows on screen, off the main thread. */
  if (self->thumbnailer != NULL && self->store != NULL &&
      kp_media_item_get_thumbnail (item) == NULL &&
      !kp_media_item_get_thumbnail_failed (item) &&
      status != KP_MEDIA_STATUS_MISSING &&
      status != KP_MEDIA_STATUS_BROKEN)
    {
      g_autofree char *path = kp_store_dup_media_file (self->store, kp_media_item_get_media (item));

      kp_thumbnailer_request (self->thumbnailer, item, path);
    }
}

static void
media_unbind_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *list_item,
                 KpWindow                 *self)
{
  KpMediaRow *row = KP_MEDIA_ROW (gtk_list_item_get_child (list_item));
  KpMediaItem *item = kp_media_row_get_item (row);

  if (item != NULL && self->thumbnailer != NULL)
    kp_thumbnailer_cancel (self->thumbnailer, item);

  kp_media_row_set_item (row, NULL);
}

static void
selection_changed_cb (KpWindow           *self,
                      GParamSpec         *pspec,
                      GtkSingleSelection *selection)
{
  show_item (self, gtk_single_selection_get_selected_item (selection));
}

gboolean
kp_window_select_media (KpWindow *self,
                        guint     position)
{
  g_return_val_if_fail (KP_IS_WINDOW (self), FALSE);

  if (position >= g_list_model_get_n_items (G_LIST_MODEL (self->media)))
    return FALSE;

  gtk_single_selection_set_selected (self->selection, position);
  gtk_widget_activate_action (GTK_WIDGET (self->media_view), "list.scroll-to-item", "u", position);

  return TRUE;
}

guint
kp_window_get_selected_position (KpWindow *self)
{
  g_return_val_if_fail (KP_IS_WINDOW (self), GTK_INVALID_LIST_POSITION);

  return gtk_single_selection_get_selected (self->selection);
}

/* The current image */

typedef struct
{
  KpWindow     *self;
  KpMediaItem  *item;
  GCancellable *cancellable;
} LoadData;

static void
load_data_free (LoadData *data)
{
  g_clear_object (&data->self);
  g_clear_object (&data->item);
  g_clear_object (&data->cancellable);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (LoadData, load_data_free)

static void schedule_prefetch (KpWindow *self);
static void canvas_error_cb (KpWindow     *self,
                             const GError *error,
                             KpCanvas     *canvas);

static gboolean
wants_layer (int width,
             int height)
{
  return width > 0 && height > 0 && kp_image_layer_wants_size (width, height);
}

/* Audio and video media: their own pages, in place of the canvas. */
static void
hide_media_page (KpWindow *self)
{
  if (self->shown_page == NULL)
    return;

  if (self->shown_page == self->audio_page)
    kp_audio_page_unload (KP_AUDIO_PAGE (self->audio_page));
  else if (self->shown_page == self->video_page)
    kp_video_page_unload (KP_VIDEO_PAGE (self->video_page));

  self->shown_page = NULL;
}

static void
show_media_page (KpWindow      *self,
                 const KpMedia *media)
{
  GtkWidget *page;

  if (kp_media_path_is_audio (media->path))
    {
      if (self->audio_page == NULL)
        {
          self->audio_page = kp_audio_page_new ();
          gtk_stack_add_named (self->canvas_stack, self->audio_page, "audio");
          g_signal_connect_object (self->audio_page, "error", G_CALLBACK (canvas_error_cb),
                                   self, G_CONNECT_SWAPPED);
        }
      page = self->audio_page;
      kp_audio_page_load (KP_AUDIO_PAGE (page), self->store, media);
    }
  else
    {
      if (self->video_page == NULL)
        {
          self->video_page = kp_video_page_new ();
          gtk_stack_add_named (self->canvas_stack, self->video_page, "video");
          g_signal_connect_object (self->video_page, "error", G_CALLBACK (canvas_error_cb),
                                   self, G_CONNECT_SWAPPED);
        }
      page = self->video_page;
      kp_video_page_load (KP_VIDEO_PAGE (page), self->store, media);
    }

  self->shown_page = page;
  /* Undo and redo follow the page while it is shown. */
  g_binding_group_set_source (self->document_bindings, page);
  gtk_stack_set_visible_child (self->canvas_stack, page);
  set_image_state (self, FALSE, FALSE, NULL);
}

GtkWidget *
_kp_window_get_media_page (KpWindow *self)
{
  return self->shown_page;
}

/* A large image's tiles are decoded after it is shown: say how that went
 * when it ends (a damaged file keeps the tiles decoded before the damage;
 * a truncated JPEG shows its missing part grey). */
static void
layer_building_cb (KpImageLayer *layer,
                   GParamSpec   *pspec,
                   KpWindow     *self)
{
  g_autofree char *warning = NULL;
  const GError *error;

  if (kp_image_layer_get_building (layer) ||
      kp_canvas_get_image_layer (self->canvas) != layer)
    return;

  error = kp_image_layer_get_error (layer);
  warning = kp_image_layer_dup_warning (layer);
  if (error != NULL)
    kp_window_add_toast (self, error->message);
  else if (warning != NULL)
    kp_window_add_toast (self, warning);
}

/* A thin bar over the canvas while the shown large image's full detail is
 * decoded (a 20,000 px PNG takes seconds): how far it got. */
static void
update_decode_bar (KpWindow *self)
{
  KpImageLayer *layer = kp_canvas_get_image_layer (self->canvas);
  gboolean building = layer != NULL && kp_image_layer_get_building (layer);
  double fraction = building ? kp_image_layer_get_progress (layer) : 0;

  gtk_widget_set_visible (GTK_WIDGET (self->decode_bar), building);
  /* In steps of 4 %: each change is a frame of the whole window, which
   * on a software renderer slows the decoding it reports. */
  if (building && (fraction == 0 || fraction >= 1 ||
                   fabs (fraction - gtk_progress_bar_get_fraction (self->decode_bar)) >= 0.04))
    gtk_progress_bar_set_fraction (self->decode_bar, fraction);
}

static void
layer_progress_cb (KpImageLayer *layer,
                   GParamSpec   *pspec,
                   KpWindow     *self)
{
  (void)pspec;
  if (kp_canvas_get_image_layer (self->canvas) == layer)
    update_decode_bar (self);
}

/* Shows the current image: a texture, or a tiled layer for large ones. */
static void
present_texture (KpWindow     *self,
                 GdkTexture   *texture,
                 KpImageLayer *layer)
{
  kp_layer_prefetcher_set_current (self->layer_prefetcher,
                                   kp_media_item_get_media_id (self->current_item), layer);
  if (layer != NULL)
    {
      kp_canvas_set_image_layer (self->canvas, layer);
      /* A prepared layer may have been shown before. */
      g_signal_handlers_disconnect_by_func (layer, layer_building_cb, self);
      g_signal_handlers_disconnect_by_func (layer, layer_progress_cb, self);
      g_signal_connect_object (layer, "notify::building",
                               G_CALLBACK (layer_building_cb), self, 0);
      g_signal_connect_object (layer, "notify::building",
                               G_CALLBACK (layer_progress_cb), self, 0);
      g_signal_connect_object (layer, "notify::progress",
                               G_CALLBACK (layer_progress_cb), self, 0);
      /* Already built from the disk cache, or failed at once. */
      layer_building_cb (layer, NULL, self);
    }
  else
    kp_canvas_set_texture (self->canvas, texture);
  kp_canvas_set_document (self->canvas, self->document);
  kp_canvas_zoom_fit (self->canvas);
  update_decode_bar (self);
  gtk_stack_set_visible_child_name (self->canvas_stack, "canvas");

  set_image_state (self, FALSE, TRUE, NULL);
  schedule_prefetch (self);
}

/* Documents of neighbouring images are read on worker threads through
 * one connection of their own (a KpStore is used by one thread at a
 * time: the lock), opened on first use, since opening checks the whole
 * database. The main thread only makes the document from what was read. */
typedef struct _KpDocumentReader
{
  GMutex   lock;
  char    *folder;
  KpStore *store;
} KpDocumentReader;

static KpDocumentReader *
document_reader_new (const char *folder)
{
  KpDocumentReader *reader = g_atomic_rc_box_new0 (KpDocumentReader);

  g_mutex_init (&reader->lock);
  reader->folder = g_strdup (folder);

  return reader;
}

static void
document_reader_clear (gpointer data)
{
  KpDocumentReader *reader = data;

  g_mutex_clear (&reader->lock);
  g_free (reader->folder);
  g_clear_object (&reader->store);
}

static void
document_reader_unref (KpDocumentReader *reader)
{
  g_atomic_rc_box_release_full (reader, document_reader_clear);
}

typedef struct
{
  KpDocumentReader *reader;
  gint64            media_id;
  gint64            data_version;  /* of the window's store at the request */
  guint             epoch;
} DocumentRead;

static void
document_read_free (DocumentRead *read)
{
  document_reader_unref (read->reader);
  g_free (read);
}

static void
read_document_thread (GTask        *task,
                      gpointer      source_object,
                      gpointer      task_data,
                      GCancellable *cancellable)
{
  DocumentRead *read = task_data;
  KpDocumentReader *reader = read->reader;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&reader->lock);
  KpDocumentContents *contents;
  GError *error = NULL;

  if (g_task_return_error_if_cancelled (task))
    return;

  if (reader->store == NULL && !(reader->store = kp_store_open (reader->folder, &error)))
    {
      g_task_return_error (task, error);
      return;
    }

  contents = kp_document_contents_read (reader->store, read->media_id, &error);
  if (contents == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, contents, (GDestroyNotify)kp_document_contents_free);
}

static void
document_read_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  KpWindow *self = KP_WINDOW (object);
  DocumentRead *read = g_task_get_task_data (G_TASK (result));
  g_autoptr(KpDocumentContents) contents = NULL;
  g_autoptr(GError) error = NULL;
  KpDocument *document;

  contents = g_task_propagate_pointer (G_TASK (result), &error);
  if (self->document_reads != NULL)
    g_hash_table_remove (self->document_reads, &read->media_id);
  if (contents == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("Cannot read a document ahead: %s", error->message);
      return;
    }

  /* Read too early to trust: something wrote since, or the project
   * changed. The image's document is then read when it is shown. */
  if (self->store == NULL || read->epoch != self->document_epoch ||
      read->data_version != kp_store_get_data_version (self->store) ||
      g_hash_table_contains (self->documents, &read->media_id))
    return;

  document = kp_document_new_from_contents (self->store, g_steal_pointer (&contents));
  g_signal_connect_object (document, "changed", G_CALLBACK (document_changed_cb), self, 0);
  g_hash_table_insert (self->documents, g_memdup2 (&read->media_id, sizeof read->media_id), document);
  self->n_thread_reads++;
}

static void
prefetch_document (KpWindow *self,
                   gint64    media_id)
{
  g_autoptr(GTask) task = NULL;
  DocumentRead *read;

  if (g_hash_table_contains (self->documents, &media_id) ||
      g_hash_table_contains (self->document_reads, &media_id))
    return;

  if (self->document_reader == NULL)
    self->document_reader = document_reader_new (kp_store_get_folder (self->store));

  read = g_new0 (DocumentRead, 1);
  read->reader = g_atomic_rc_box_acquire (self->document_reader);
  read->media_id = media_id;
  read->data_version = kp_store_get_data_version (self->store);
  read->epoch = self->document_epoch;

  g_hash_table_add (self->document_reads, g_memdup2 (&media_id, sizeof media_id));
  task = g_task_new (self, self->project_cancellable, document_read_cb, NULL);
  g_task_set_source_tag (task, prefetch_document);
  g_task_set_task_data (task, read, (GDestroyNotify)document_read_free);
  g_task_run_in_thread (task, read_document_thread);
}

/* Prefetch: the images either side of the current one, decoded in worker
 * threads, and their documents read in another (prefetch_document). */
static gboolean
prefetch_idle_cb (gpointer user_data)
{
  KpWindow *self = user_data;
  guint position = gtk_single_selection_get_selected (self->selection);
  guint n_items = g_list_model_get_n_items (G_LIST_MODEL (self->media));
  const int offsets[] = { 0, 1, -1, 2 };
  gint64 keep[G_N_ELEMENTS (offsets)];
  guint n_keep = 0;
  KpLayerWish wishes[G_N_ELEMENTS (offsets)];
  char *wish_paths[G_N_ELEMENTS (offsets)];
  guint n_wishes = 0;

  self->prefetch_idle_id = 0;

  if (self->store == NULL || position == GTK_INVALID_LIST_POSITION)
    return G_SOURCE_REMOVE;

  for (guint i = 0; i < G_N_ELEMENTS (offsets); i++)
    {
      g_autoptr(KpMediaItem) item = NULL;
      g_autofree char *path = NULL;
      const KpMedia *media;
      int p = (int)position + offsets[i];

      if (p < 0 || (guint)p >= n_items)
        continue;

      item = g_list_model_get_item (G_LIST_MODEL (self->media), p);
      media = kp_media_item_get_media (item);
      keep[n_keep++] = media->id;

      if (offsets[i] == 0 ||
          media->status == KP_MEDIA_STATUS_BROKEN ||
          media->status == KP_MEDIA_STATUS_MISSING ||
          kp_media_path_is_audio (media->path) ||
          kp_media_path_is_video (media->path))
        continue;

      /* Large images: their tile pyramids, built one at a time once the
       * current image's is done (the next image first). */
      if (wants_layer (media->width, media->height))
        {
          if (offsets[i] == 1 || offsets[i] == -1)
            {
              wish_paths[n_wishes] = kp_store_dup_media_file (self->store, media);
              wishes[n_wishes].media_id = media->id;
              wishes[n_wishes].path = wish_paths[n_wishes];
              n_wishes++;
            }
          continue;
        }

      path = kp_store_dup_media_file (self->store, media);
      kp_image_prefetcher_request (self->prefetcher, media->id, path);

      /* On a worker thread; but a document of 100,000 objects is a lot to
       * keep for an image that may not be shown. */
      if (media->n_annotations < 10000)
        prefetch_document (self, media->id);
    }

  kp_image_prefetcher_keep_only (self->prefetcher, keep, n_keep);
  kp_layer_prefetcher_wish (self->layer_prefetcher, wishes, n_wishes);
  for (guint i = 0; i < n_wishes; i++)
    g_free (wish_paths[i]);

  return G_SOURCE_REMOVE;
}

/* A decoded image still has to reach the renderer: with GL, uploading
 * megapixels is most of a step's frame. Rendering it once into a single
 * pixel uploads it now, while the user looks at the current image; the
 * renderer keeps the upload with the texture for the real frame. */
static void
prefetch_ready_cb (KpWindow          *self,
                   gint64             media_id,
                   KpImagePrefetcher *prefetcher)
{
  g_autoptr(GdkTexture) texture = kp_image_prefetcher_lookup (prefetcher, media_id);
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) pixel = NULL;
  GskRenderer *renderer;

  if (texture == NULL || !gtk_widget_get_realized (GTK_WIDGET (self)))
    return;

  renderer = gtk_native_get_renderer (GTK_NATIVE (self));
  if (renderer == NULL || GSK_IS_CAIRO_RENDERER (renderer))
    return;

  node = gsk_texture_node_new (texture, &GRAPHENE_RECT_INIT (0, 0, 1, 1));
  pixel = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, 1, 1));
}

/* A large image's thumbnail is made from its pyramid, once built. */
static void
layer_built_cb (KpWindow          *self,
                gint64             media_id,
                KpLayerPrefetcher *prefetcher)
{
  KpMediaItem *item = g_hash_table_lookup (self->items_by_id, &media_id);
  g_autofree char *path = NULL;

  (void)prefetcher;
  if (item == NULL || self->store == NULL || self->thumbnailer == NULL ||
      kp_media_item_get_thumbnail (item) != NULL || kp_media_item_get_thumbnail_failed (item))
    return;

  path = kp_store_dup_media_file (self->store, kp_media_item_get_media (item));
  kp_thumbnailer_request (self->thumbnailer, item, path);
}

static void
schedule_prefetch (KpWindow *self)
{
  /* Not in the frame that shows the current image: decoding the next one
   * would compete with it for the CPU. */
  if (self->prefetch_idle_id == 0)
    self->prefetch_idle_id = g_timeout_add_full (G_PRIORITY_LOW, PREFETCH_DELAY_MS,
                                                 prefetch_idle_cb, self, NULL);
}

static void
image_loaded_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(LoadData) data = user_data;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  g_autoptr(GError) error = NULL;
  KpWindow *self = data->self;
  gint64 media_id = kp_media_item_get_media_id (data->item);
  const KpMedia *media;

  pixbuf = kp_image_load_finish (result, &error);

  /* Another image was chosen meanwhile, or the project closed. */
  if (g_cancellable_is_cancelled (data->cancellable) || data->item != self->current_item)
    return;

  media = kp_media_item_get_media (data->item);

  if (pixbuf == NULL)
    {
      g_autofree char *escaped = g_markup_escape_text (error->message, -1);

      adw_status_page_set_description (self->image_error_page, escaped);
      gtk_stack_set_visible_child_name (self->canvas_stack, "error");

      /* Record what decoding found, so the list and the export know. */
      if (g_error_matches (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_NOT_AN_IMAGE) ||
          g_error_matches (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_CORRUPT))
        {
          if (media->status != KP_MEDIA_STATUS_BROKEN || g_strcmp0 (media->error, error->message) != 0)
            {
              g_autoptr(GError) store_error = NULL;

              if (kp_store_set_media_error (self->store, media_id, error->message, &store_error))
                _kp_window_refresh_item (self, media_id);
              else
                g_debug ("Cannot record the broken image: %s", store_error->message);
            }
        }

      set_image_state (self, FALSE, FALSE, error->message);
      return;
    }

  if (media->status == KP_MEDIA_STATUS_BROKEN ||
      media->width != gdk_pixbuf_get_width (pixbuf) ||
      media->height != gdk_pixbuf_get_height (pixbuf))
    {
      g_autoptr(GError) store_error = NULL;

      /* The file decodes after all (it was replaced, or fixed). */
      if ((media->status != KP_MEDIA_STATUS_BROKEN ||
           kp_store_set_media_error (self->store, media_id, NULL, &store_error)) &&
          kp_store_set_media_info (self->store, media_id, NULL,
                                   gdk_pixbuf_get_width (pixbuf),
                                   gdk_pixbuf_get_height (pixbuf),
                                   &store_error))
        _kp_window_refresh_item (self, media_id);
      else
        g_debug ("Cannot record the image size: %s", store_error->message);
    }

  texture = gdk_texture_new_for_pixbuf (pixbuf);
  kp_image_prefetcher_insert (self->prefetcher, media_id, texture);
  present_texture (self, texture, NULL);
}

static void
layer_loaded_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(LoadData) data = user_data;
  g_autoptr(KpImageLayer) layer = NULL;
  g_autoptr(GError) error = NULL;
  KpWindow *self = data->self;

  layer = kp_image_layer_new_finish (result, &error);

  if (g_cancellable_is_cancelled (data->cancellable) || data->item != self->current_item)
    return;

  if (layer == NULL)
    {
      g_autofree char *escaped = g_markup_escape_text (error->message, -1);

      adw_status_page_set_description (self->image_error_page, escaped);
      gtk_stack_set_visible_child_name (self->canvas_stack, "error");
      set_image_state (self, FALSE, FALSE, error->message);
      return;
    }

  present_texture (self, NULL, layer);
}

/* Large images are never decoded whole: tiles, off the main thread. */
static void
start_load (LoadData   *data,
            const char *path,
            int         width,
            int         height)
{
  if (wants_layer (width, height))
    {
      g_autoptr(GFile) file = g_file_new_for_path (path);

      kp_image_layer_new_async (file, NULL, data->cancellable, layer_loaded_cb, data);
      return;
    }

  kp_image_load_async (path, data->cancellable, image_loaded_cb, data);
}

static void
probe_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  int size[2] = { 0, 0 };

  /* The header only: the size decides how to decode. */
  gdk_pixbuf_get_file_info (task_data, &size[0], &size[1]);
  g_task_return_pointer (task, g_memdup2 (size, sizeof size), g_free);
}

static void
probed_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  LoadData *data = user_data;
  g_autofree int *size = g_task_propagate_pointer (G_TASK (result), NULL);
  const char *path = g_task_get_task_data (G_TASK (result));

  if (g_cancellable_is_cancelled (data->cancellable) || data->item != data->self->current_item)
    {
      load_data_free (data);
      return;
    }

  start_load (data, path, size ? size[0] : 0, size ? size[1] : 0);
}

/* The size is not known until the images are probed in the background. */
static void
probe_then_load (LoadData   *data,
                 const char *path)
{
  g_autoptr(GTask) task = g_task_new (NULL, data->cancellable, probed_cb, data);

  g_task_set_source_tag (task, probe_then_load);
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_run_in_thread (task, probe_thread);
}

static void
show_item (KpWindow    *self,
           KpMediaItem *item)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *value = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  KpDocument *document = NULL;
  const KpMedia *media;
  LoadData *data;
  gint64 media_id;

  if (item == self->current_item)
    return;

  g_set_object (&self->current_item, item);

  g_cancellable_cancel (self->image_cancellable);
  g_clear_object (&self->image_cancellable);

  kp_canvas_set_document (self->canvas, NULL);
  kp_canvas_set_texture (self->canvas, NULL);
  kp_canvas_set_selected_id (self->canvas, 0);
  update_decode_bar (self);
  hide_media_page (self);

  if (item == NULL || self->store == NULL)
    {
      g_clear_object (&self->document);
      g_binding_group_set_source (self->document_bindings, NULL);
      kp_tag_bar_set_document (self->tag_bar, NULL);
      kp_suggestion_panel_set_document (self->suggestion_panel, NULL);
      set_image_state (self, FALSE, FALSE, NULL);
      update_current_labels (self);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CURRENT_MEDIA_ID]);
      return;
    }

  media_id = kp_media_item_get_media_id (item);

  document = _kp_window_ensure_document (self, media_id, &error);
  if (document == NULL)
    kp_window_add_toast (self, error->message);
  g_clear_error (&error);
  g_set_object (&self->document, document);
  g_binding_group_set_source (self->document_bindings, document);
  kp_tag_bar_set_document (self->tag_bar, document);
  kp_suggestion_panel_set_document (self->suggestion_panel, document);

  value = g_strdup_printf ("%" PRId64, media_id);
  if (!kp_store_set_setting (self->store, "last-media-id", value, &error))
    g_debug ("Cannot remember the current image: %s", error->message);

  gtk_stack_set_visible_child_name (self->canvas_stack, "canvas");
  set_image_state (self, TRUE, FALSE, NULL);
  update_current_labels (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CURRENT_MEDIA_ID]);

  self->image_cancellable = g_cancellable_new ();
  media = kp_media_item_get_media (item);

  if (kp_media_path_is_audio (media->path) || kp_media_path_is_video (media->path))
    {
      show_media_page (self, media);
      return;
    }

  /* A large image prepared ahead (or shown before): its layer at once. */
  if (media->status != KP_MEDIA_STATUS_BROKEN && wants_layer (media->width, media->height))
    {
      KpImageLayer *layer = kp_layer_prefetcher_lookup (self->layer_prefetcher, media_id);

      if (layer != NULL &&
          kp_image_layer_get_width (layer) == media->width &&
          kp_image_layer_get_height (layer) == media->height)
        {
          present_texture (self, NULL, layer);
          return;
        }
    }

  /* Prefetched: shown in this very frame. */
  texture = kp_image_prefetcher_lookup (self->prefetcher, media_id);
  if (texture != NULL &&
      media->status != KP_MEDIA_STATUS_BROKEN &&
      !wants_layer (media->width, media->height) &&
      media->width == gdk_texture_get_width (texture) &&
      media->height == gdk_texture_get_height (texture))
    {
      present_texture (self, texture, NULL);
      return;
    }

  data = g_new0 (LoadData, 1);
  data->self = g_object_ref (self);
  data->item = g_object_ref (item);
  data->cancellable = g_object_ref (self->image_cancellable);

  path = kp_store_dup_media_file (self->store, media);

  if (media->width > 0 && media->height > 0)
    start_load (data, path, media->width, media->height);
  else
    probe_then_load (data, path);
  schedule_prefetch (self);
}

/* Other connections' writes */

#define EXTERNAL_CHECK_S 2

static gboolean
same_labels (GPtrArray *a,
             GPtrArray *b)
{
  guint n = a != NULL ? a->len : 0;

  if (n != (b != NULL ? b->len : 0))
    return FALSE;

  for (guint i = 0; i < n; i++)
    {
      const KpLabel *x = g_ptr_array_index (a, i);
      const KpLabel *y = g_ptr_array_index (b, i);

      if (x->id != y->id || x->key != y->key || x->position != y->position ||
          g_strcmp0 (x->name, y->name) != 0 || g_strcmp0 (x->color, y->color) != 0)
        return FALSE;
    }

  return TRUE;
}

static gboolean
same_attributes (GPtrArray *a,
                 GPtrArray *b)
{
  guint n = a != NULL ? a->len : 0;

  if (n != (b != NULL ? b->len : 0))
    return FALSE;

  for (guint i = 0; i < n; i++)
    {
      const KpAttribute *x = g_ptr_array_index (a, i);
      const KpAttribute *y = g_ptr_array_index (b, i);

      if (x->id != y->id || x->label_id != y->label_id || x->kind != y->kind ||
          x->position != y->position || x->min != y->min || x->max != y->max ||
          g_strcmp0 (x->name, y->name) != 0 ||
          g_strcmp0 (x->default_value, y->default_value) != 0 ||
          (x->options == NULL) != (y->options == NULL) ||
          (x->options != NULL && !g_strv_equal ((const char *const *)x->options,
                                                (const char *const *)y->options)))
        return FALSE;
    }

  return TRUE;
}

gboolean
_kp_window_check_external_changes (KpWindow *self)
{
  g_autoptr(GPtrArray) labels = NULL;
  g_autoptr(GPtrArray) attributes = NULL;
  g_autoptr(GPtrArray) media = NULL;
  g_autoptr(GError) error = NULL;
  gboolean any = FALSE;
  GHashTableIter iter;
  gpointer value;
  gint64 version;

  if (self->store == NULL || self->loading)
    return FALSE;

  version = kp_store_get_data_version (self->store);
  if (version == self->data_version)
    return FALSE;
  self->data_version = version;
  /* Documents read ahead before this are stale. */
  self->document_epoch++;

  /* Labels first: objects may use labels made by the same import. */
  labels = kp_store_list_labels (self->store, &error);
  if (labels == NULL)
    g_debug ("Cannot read the labels again: %s", error->message);
  else if (!same_labels (labels, self->labels))
    {
      kp_window_reload_labels (self);
      any = TRUE;
    }
  g_clear_error (&error);

  /* Attribute definitions and tag groups another program added. */
  attributes = kp_store_list_all_attributes (self->store, &error);
  if (attributes == NULL)
    g_debug ("Cannot read the attributes again: %s", error->message);
  else if (!same_attributes (attributes, self->attributes))
    {
      _kp_window_reload_attributes (self);
      any = TRUE;
    }
  g_clear_error (&error);
  if (kp_tag_bar_reload_if_changed (self->tag_bar, self->store))
    any = TRUE;

  /* Each open document, only when its objects, tags or history differ:
   * the undo history lives in the store and follows; the canvas keeps
   * the selected objects that are still there. */
  g_hash_table_iter_init (&iter, self->documents);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      gboolean changed = FALSE;

      if (!kp_document_reload_if_changed (value, &changed, &error))
        {
          g_debug ("Cannot reload a document: %s", error->message);
          g_clear_error (&error);
        }
      any |= changed;
    }

  /* Counts and states in the image list. */
  media = kp_store_list_media (self->store, &error);
  if (media == NULL)
    g_debug ("Cannot read the image list again: %s", error->message);
  else
    _kp_window_refresh_items (self, media);

  return any;
}

static gboolean
external_check_cb (gpointer user_data)
{
  _kp_window_check_external_changes (user_data);

  return G_SOURCE_CONTINUE;
}

static void
active_changed_cb (KpWindow   *self,
                   GParamSpec *pspec,
                   gpointer    user_data)
{
  if (gtk_window_is_active (GTK_WINDOW (self)))
    _kp_window_check_external_changes (self);
}

/* Opening and closing a project */

static void cancel_background_work (KpWindow *self);

static void
close_project (KpWindow *self)
{
  cancel_background_work (self);
  g_cancellable_cancel (self->project_cancellable);
  g_clear_object (&self->project_cancellable);
  self->project_cancellable = g_cancellable_new ();

  if (self->thumbnailer != NULL)
    kp_thumbnailer_cancel_all (self->thumbnailer);
  g_clear_object (&self->thumbnailer);

  show_item (self, NULL);

  g_list_store_remove_all (self->media);
  g_hash_table_remove_all (self->items_by_id);
  g_hash_table_remove_all (self->documents);
  self->n_done = 0;

  g_clear_pointer (&self->labels, g_ptr_array_unref);
  kp_canvas_set_current_label_id (self->canvas, 0);
  _kp_window_sync_labels (self);

  g_clear_object (&self->store);
  kp_image_prefetcher_clear (self->prefetcher);
  kp_layer_prefetcher_clear (self->layer_prefetcher);
  g_clear_handle_id (&self->prefetch_idle_id, g_source_remove);
  g_clear_handle_id (&self->external_check_id, g_source_remove);
  g_clear_pointer (&self->document_reader, document_reader_unref);
  g_hash_table_remove_all (self->document_reads);
  self->document_epoch++;
  g_clear_pointer (&self->clipboard, g_ptr_array_unref);
  self->clipboard_media_id = 0;
  _kp_window_reload_attributes (self);
  kp_tag_bar_reload (self->tag_bar, NULL);
  set_info_pending (self, FALSE);
}

typedef struct
{
  char      *folder;
  KpStore   *store;
  GPtrArray *media;
  GPtrArray *labels;
} OpenData;

static void
open_data_free (OpenData *data)
{
  g_free (data->folder);
  g_clear_object (&data->store);
  g_clear_pointer (&data->media, g_ptr_array_unref);
  g_clear_pointer (&data->labels, g_ptr_array_unref);
  g_free (data);
}

static void
open_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  OpenData *data = task_data;
  g_autoptr(GFile) file = g_file_new_for_path (data->folder);
  g_autoptr(GError) error = NULL;
  g_autofree char *display = g_filename_display_name (data->folder);
  GFileType type;

  type = g_file_query_file_type (file, G_FILE_QUERY_INFO_NONE, cancellable);
  if (type == G_FILE_TYPE_UNKNOWN)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                               _("The folder “%s” does not exist."), display);
      return;
    }
  if (type != G_FILE_TYPE_DIRECTORY)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY,
                               _("“%s” is not a folder. Open the folder that holds the images."),
                               display);
      return;
    }

  data->store = kp_store_open (data->folder, &error);
  if (data->store == NULL ||
      !kp_store_scan (data->store, cancellable, &error) ||
      !(data->media = kp_store_list_media (data->store, &error)) ||
      !(data->labels = kp_store_list_labels (data->store, &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_boolean (task, TRUE);
}

static void
info_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  const char *folder = task_data;
  g_autoptr(KpStore) store = NULL;
  g_autoptr(GError) error = NULL;

  /* This thread's own connection: one KpStore per thread. */
  store = kp_store_open (folder, &error);
  if (store == NULL ||
      !kp_media_ensure_info (store, cancellable, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  g_task_return_boolean (task, TRUE);
}

static void
info_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  KpWindow *self = KP_WINDOW (object);
  g_autoptr(GPtrArray) media = NULL;
  g_autoptr(GError) error = NULL;
  gboolean checked = g_task_propagate_boolean (G_TASK (result), &error);

  if (g_cancellable_is_cancelled (g_task_get_cancellable (G_TASK (result))))
    return;

  set_info_pending (self, FALSE);

  if (!checked)
    {
      g_autofree char *message = g_strdup_printf (_("Could not check the images: %s"), error->message);

      kp_window_add_toast (self, message);
      return;
    }

  /* Read what the thread recorded through the window's own connection, so
   * the statuses include every edit made meanwhile: a list made in the
   * thread could be older than the last box drawn. */
  media = kp_store_list_media (self->store, &error);
  if (media == NULL)
    {
      g_debug ("Cannot list media: %s", error->message);
      return;
    }

  _kp_window_refresh_items (self, media);
  /* Now the sizes are known, the neighbours that are large images can be
   * prepared as such. */
  schedule_prefetch (self);
}

static void
start_info (KpWindow *self)
{
  g_autoptr(GTask) task = NULL;

  task = g_task_new (self, self->project_cancellable, info_done_cb, NULL);
  g_task_set_source_tag (task, start_info);
  g_task_set_task_data (task, g_strdup (kp_store_get_folder (self->store)), g_free);
  g_task_run_in_thread (task, info_thread);
}

static void
cancel_background_work (KpWindow *self)
{
  if (self->background_clock != NULL)
    {
      /* The clock drops its handlers itself when the window is unrealized. */
      if (g_signal_handler_is_connected (self->background_clock, self->background_paint_id))
        g_signal_handler_disconnect (self->background_clock, self->background_paint_id);
      self->background_paint_id = 0;
      g_clear_object (&self->background_clock);
    }
  g_clear_handle_id (&self->background_timeout_id, g_source_remove);
}

static void
start_background_work (KpWindow *self)
{
  cancel_background_work (self);

  if (self->thumbnailer != NULL)
    kp_thumbnailer_start (self->thumbnailer);
  if (self->store != NULL && self->info_pending)
    start_info (self);
}

static void
background_after_paint_cb (GdkFrameClock *clock,
                           KpWindow      *self)
{
  start_background_work (self);
}

static gboolean
background_timeout_cb (gpointer user_data)
{
  KpWindow *self = user_data;

  self->background_timeout_id = 0;
  start_background_work (self);

  return G_SOURCE_REMOVE;
}

/* Decoding thumbnails and probing files compete for the CPU with the first
 * frame of the list, so they wait for it (or for a short while, when the
 * window is not drawn at all, e.g. minimised). */
static void
schedule_background_work (KpWindow *self)
{
  cancel_background_work (self);

  if (gtk_widget_get_realized (GTK_WIDGET (self)))
    {
      self->background_clock = g_object_ref (gtk_widget_get_frame_clock (GTK_WIDGET (self)));
      self->background_paint_id = g_signal_connect (self->background_clock, "after-paint",
                                                    G_CALLBACK (background_after_paint_cb), self);
    }
  self->background_timeout_id = g_timeout_add (500, background_timeout_cb, self);
}

static void
add_recent_project (KpWindow   *self,
                    const char *folder)
{
  g_auto(GStrv) old = g_settings_get_strv (self->settings, "recent-projects");
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) recent = NULL;
  guint n = 1;

  g_strv_builder_add (builder, folder);
  for (guint i = 0; old[i] != NULL && n < MAX_RECENT_PROJECTS; i++)
    {
      if (g_strcmp0 (old[i], folder) == 0)
        continue;
      g_strv_builder_add (builder, old[i]);
      n++;
    }

  recent = g_strv_builder_end (builder);
  g_settings_set_strv (self->settings, "recent-projects", (const char * const *)recent);
}

static guint
find_position (KpWindow *self,
               gint64    media_id)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->media));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(KpMediaItem) item = g_list_model_get_item (G_LIST_MODEL (self->media), i);

      if (kp_media_item_get_media_id (item) == media_id)
        return i;
    }

  return GTK_INVALID_LIST_POSITION;
}

static void
install_project (KpWindow *self,
                 OpenData *data)
{
  g_autoptr(GPtrArray) items = NULL;
  g_autofree char *db_dir = NULL;
  g_autofree char *cache_dir = NULL;
  g_autofree char *last_media = NULL;
  g_autofree char *last_label = NULL;
  guint position = 0;

  close_project (self);

  self->store = g_steal_pointer (&data->store);
  self->labels = g_steal_pointer (&data->labels);
  self->data_version = kp_store_get_data_version (self->store);
  self->external_check_id = g_timeout_add_seconds_full (G_PRIORITY_LOW, EXTERNAL_CHECK_S,
                                                        external_check_cb, self, NULL);

  /* Before the items: the list view binds rows as soon as they arrive. */
  db_dir = g_path_get_dirname (kp_store_get_database_path (self->store));
  cache_dir = g_build_filename (db_dir, "thumbnails", NULL);
  self->thumbnailer = kp_thumbnailer_new (cache_dir, THUMBNAIL_SIZE);

  /* One GObject per image, but no widget and no decoding: the list view
   * makes rows only for what is on screen. */
  items = g_ptr_array_new_full (data->media->len, g_object_unref);
  for (guint i = 0; i < data->media->len; i++)
    {
      const KpMedia *media = g_ptr_array_index (data->media, i);
      KpMediaItem *item = kp_media_item_new (media);

      g_ptr_array_add (items, item);
      g_hash_table_insert (self->items_by_id, g_memdup2 (&media->id, sizeof media->id), item);
    }
  g_list_store_splice (self->media, 0, 0, items->pdata, items->len);


  last_label = kp_store_dup_setting (self->store, "current-label-id");
  kp_canvas_set_current_label_id (self->canvas,
                                  last_label ? g_ascii_strtoll (last_label, NULL, 10) : 0);
  _kp_window_sync_labels (self);
  _kp_window_reload_attributes (self);
  kp_tag_bar_reload (self->tag_bar, self->store);

  last_media = kp_store_dup_setting (self->store, "last-media-id");
  if (last_media != NULL)
    {
      position = find_position (self, g_ascii_strtoll (last_media, NULL, 10));
      if (position == GTK_INVALID_LIST_POSITION)
        position = 0;
    }

  recount_progress (self);
  gtk_widget_set_visible (self->history_box, TRUE);
  gtk_widget_set_visible (self->zoom_box, TRUE);
  gtk_widget_set_visible (self->view_button, TRUE);
  gtk_stack_set_visible_child_name (self->main_stack, "project");

  if (items->len == 0)
    gtk_stack_set_visible_child_name (self->canvas_stack, "empty");
  else
    kp_window_select_media (self, position);

  update_current_labels (self);
  add_recent_project (self, kp_store_get_folder (self->store));

  set_info_pending (self, items->len > 0);
  schedule_background_work (self);

  gtk_widget_grab_focus (items->len > 0 ? GTK_WIDGET (self->canvas) : GTK_WIDGET (self->media_view));
}

static void
open_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  KpWindow *self = KP_WINDOW (object);
  OpenData *data = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_autofree char *display = NULL;
      g_autofree char *heading = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;

      g_free (self->open_error);
      self->open_error = g_strdup (error->message);

      gtk_stack_set_visible_child_name (self->main_stack, self->store ? "project" : "welcome");
      set_loading (self, FALSE);

      display = g_filename_display_basename (data->folder);
      heading = g_strdup_printf (_("Cannot Open “%s”"), display);
      _kp_window_show_error (self, heading, error->message);

      if (self->report_interactive)
        {
          g_printerr ("interactive-failed %s\n", error->message);
          g_application_quit (G_APPLICATION (gtk_window_get_application (GTK_WINDOW (self))));
        }
      return;
    }

  install_project (self, data);
  set_loading (self, FALSE);

  if (self->report_interactive)
    {
      self->report_interactive = FALSE;
      kp_window_report_after_frame (self, "interactive", TRUE);
    }
}

void
kp_window_open_folder (KpWindow *self,
                       GFile    *folder)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *display = NULL;
  g_autofree char *message = NULL;
  OpenData *data;

  g_return_if_fail (KP_IS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (folder));

  g_cancellable_cancel (self->open_cancellable);
  g_clear_object (&self->open_cancellable);
  self->open_cancellable = g_cancellable_new ();
  g_clear_pointer (&self->open_error, g_free);

  data = g_new0 (OpenData, 1);
  data->folder = g_file_get_path (folder);

  task = g_task_new (self, self->open_cancellable, open_done_cb, NULL);
  g_task_set_source_tag (task, kp_window_open_folder);
  g_task_set_task_data (task, data, (GDestroyNotify)open_data_free);

  if (data->folder == NULL)
    {
      g_autofree char *uri = g_file_get_uri (folder);

      set_loading (self, TRUE);
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _("“%s” is not a local folder. Only folders on this computer can be opened."),
                               uri);
      data->folder = g_steal_pointer (&uri);
      return;
    }

  display = g_filename_display_basename (data->folder);
  /* Translators: shown while a folder is scanned for images. */
  message = g_strdup_printf (_("Opening “%s”…"), display);
  gtk_label_set_label (self->loading_label, message);
  gtk_stack_set_visible_child_name (self->main_stack, "loading");
  set_loading (self, TRUE);

  g_task_run_in_thread (task, open_thread);
}

/* Welcome page */

static void
sync_recent (KpWindow *self)
{
  g_auto(GStrv) recent = g_settings_get_strv (self->settings, "recent-projects");
  GtkWidget *child;
  guint n = 0;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->recent_list))) != NULL)
    gtk_list_box_remove (self->recent_list, child);

  for (guint i = 0; recent[i] != NULL; i++)
    {
      g_autofree char *name = NULL;
      g_autofree char *display = NULL;
      GtkWidget *row;

      if (!g_path_is_absolute (recent[i]) || !g_file_test (recent[i], G_FILE_TEST_IS_DIR))
        continue;

      name = g_filename_display_basename (recent[i]);
      display = g_filename_display_name (recent[i]);

      row = adw_action_row_new ();
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), display);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), gtk_image_new_from_icon_name ("go-next-symbolic"));
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      gtk_actionable_set_action_name (GTK_ACTIONABLE (row), "win.open-recent");
      gtk_actionable_set_action_target (GTK_ACTIONABLE (row), "s", recent[i]);
      gtk_list_box_append (self->recent_list, row);
      n++;
    }

  gtk_widget_set_visible (GTK_WIDGET (self->recent_group), n > 0);
}

static gboolean
drop_cb (KpWindow      *self,
         const GValue  *value,
         double         x,
         double         y,
         GtkDropTarget *target)
{
  GdkFileList *list;
  g_autoptr(GSList) files = NULL;

  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;

  list = g_value_get_boxed (value);
  files = gdk_file_list_get_files (list);
  if (files == NULL)
    return FALSE;

  kp_window_open_folder (self, files->data);

  return TRUE;
}

/* Canvas */

static gboolean
update_zoom_label_cb (gpointer user_data)
{
  KpWindow *self = user_data;
  g_autofree char *text = NULL;

  self->zoom_idle_id = 0;

  /* Translators: a zoom level in percent. */
  text = g_strdup_printf (_("%d %%"), (int)round (kp_canvas_get_zoom (self->canvas) * 100));
  gtk_label_set_label (self->zoom_label, text);

  return G_SOURCE_REMOVE;
}

/* The canvas changes its zoom while it is allocated (best fit follows the
 * size); the header bar is already laid out by then, so the label waits for
 * an idle instead of changing in the middle of the frame. */
static void
canvas_zoom_cb (KpWindow   *self,
                GParamSpec *pspec,
                KpCanvas   *canvas)
{
  if (self->zoom_idle_id == 0)
    self->zoom_idle_id = g_idle_add (update_zoom_label_cb, self);
}

static void
canvas_error_cb (KpWindow     *self,
                 const GError *error,
                 KpCanvas     *canvas)
{
  kp_window_add_toast (self, error->message);
}

/* Benchmark reports */

typedef struct
{
  KpWindow      *self;
  char          *what;
  gboolean       quit;
  GdkFrameClock *clock;
  gulong         handler_id;
} Report;

static void
report_free (Report *report)
{
  g_free (report->what);
  g_free (report);
}

static void
report_after_paint_cb (GdkFrameClock *clock,
                       Report        *report)
{
  GApplication *app;

  g_print ("%s %.1f\n", report->what, kp_application_get_uptime_ms ());
  fflush (stdout);

  app = G_APPLICATION (gtk_window_get_application (GTK_WINDOW (report->self)));
  g_signal_handler_disconnect (clock, report->handler_id);

  if (report->quit && app != NULL)
    g_application_quit (app);
}

static void
report_connect (KpWindow *self,
                Report   *report)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self));

  report->handler_id = g_signal_connect_data (clock, "after-paint",
                                              G_CALLBACK (report_after_paint_cb), report,
                                              (GClosureNotify)report_free, 0);
  gtk_widget_queue_draw (GTK_WIDGET (self));
}

static void
report_realize_cb (GtkWidget *widget,
                   Report    *report)
{
  g_signal_handlers_disconnect_by_func (widget, report_realize_cb, report);
  report_connect (KP_WINDOW (widget), report);
}

void
kp_window_report_after_frame (KpWindow   *self,
                              const char *what,
                              gboolean    quit)
{
  Report *report;

  g_return_if_fail (KP_IS_WINDOW (self));
  g_return_if_fail (what != NULL);

  report = g_new0 (Report, 1);
  report->self = self;
  report->what = g_strdup (what);
  report->quit = quit;

  if (gtk_widget_get_realized (GTK_WIDGET (self)))
    report_connect (self, report);
  else
    g_signal_connect (self, "realize", G_CALLBACK (report_realize_cb), report);
}

void
kp_window_report_when_interactive (KpWindow *self)
{
  g_return_if_fail (KP_IS_WINDOW (self));

  self->report_interactive = TRUE;
}

/* The shortcuts window */

static gboolean
help_overlay_idle_cb (gpointer user_data)
{
  KpWindow *self = user_data;

  self->help_overlay_idle_id = 0;
  _kp_window_ensure_help_overlay (self);

  return G_SOURCE_REMOVE;
}

/* GObject */

static void
kp_window_realize (GtkWidget *widget)
{
  KpWindow *self = KP_WINDOW (widget);

  GTK_WIDGET_CLASS (kp_window_parent_class)->realize (widget);

  /* Build the shortcuts window when the main loop is idle: the first frame
   * (GDK_PRIORITY_REDRAW) goes first. Ctrl+? builds it at once if needed. */
  if (self->help_overlay_idle_id == 0 &&
      gtk_application_window_get_help_overlay (GTK_APPLICATION_WINDOW (self)) == NULL)
    self->help_overlay_idle_id = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, help_overlay_idle_cb,
                                                  self, NULL);
}

static gboolean
kp_window_close_request (GtkWindow *window)
{
  KpWindow *self = KP_WINDOW (window);
  int width, height;

  gtk_window_get_default_size (window, &width, &height);
  g_settings_set_int (self->settings, "window-width", width);
  g_settings_set_int (self->settings, "window-height", height);
  g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (window));

  return GTK_WINDOW_CLASS (kp_window_parent_class)->close_request (window);
}

static void
kp_window_dispose (GObject *object)
{
  KpWindow *self = (KpWindow *)object;

  g_cancellable_cancel (self->open_cancellable);
  g_cancellable_cancel (self->project_cancellable);
  g_cancellable_cancel (self->image_cancellable);

  if (self->media != NULL)
    close_project (self);

  if (self->document_bindings != NULL)
    g_binding_group_set_source (self->document_bindings, NULL);

  gtk_widget_dispose_template (GTK_WIDGET (self), KP_TYPE_WINDOW);

  /* After the canvas is gone, so that nothing schedules it again. */
  g_clear_handle_id (&self->zoom_idle_id, g_source_remove);
  g_clear_handle_id (&self->help_overlay_idle_id, g_source_remove);
  g_clear_handle_id (&self->prefetch_idle_id, g_source_remove);
  if (self->prefetcher != NULL)
    kp_image_prefetcher_clear (self->prefetcher);
  g_clear_object (&self->prefetcher);
  if (self->layer_prefetcher != NULL)
    kp_layer_prefetcher_clear (self->layer_prefetcher);
  g_clear_object (&self->layer_prefetcher);
  g_clear_pointer (&self->clipboard, g_ptr_array_unref);
  g_clear_pointer (&self->attributes, g_ptr_array_unref);
  g_clear_object (&self->open_cancellable);
  g_clear_object (&self->project_cancellable);
  g_clear_object (&self->image_cancellable);
  g_clear_object (&self->document_bindings);
  g_clear_object (&self->selection);
  g_clear_object (&self->media);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->items_by_id, g_hash_table_unref);
  g_clear_pointer (&self->documents, g_hash_table_unref);
  g_clear_pointer (&self->document_reads, g_hash_table_unref);
  g_clear_handle_id (&self->external_check_id, g_source_remove);
  g_clear_pointer (&self->document_reader, document_reader_unref);
  g_clear_object (&self->clipboard_provider);

  G_OBJECT_CLASS (kp_window_parent_class)->dispose (object);
}

static void
kp_window_finalize (GObject *object)
{
  KpWindow *self = (KpWindow *)object;

  g_free (self->open_error);
  g_free (self->image_error);
  g_free (self->last_toast);

  G_OBJECT_CLASS (kp_window_parent_class)->finalize (object);
}

static void
kp_window_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  KpWindow *self = KP_WINDOW (object);

  switch (prop_id)
    {
    case PROP_LOADING:
      g_value_set_boolean (value, self->loading);
      break;

    case PROP_CURRENT_MEDIA_ID:
      g_value_set_int64 (value, kp_window_get_current_media_id (self));
      break;

    case PROP_IMAGE_LOADING:
      g_value_set_boolean (value, self->image_loading);
      break;

    case PROP_IMAGE_LOADED:
      g_value_set_boolean (value, self->image_loaded);
      break;

    case PROP_IMAGE_ERROR:
      g_value_set_string (value, self->image_error);
      break;

    case PROP_INFO_PENDING:
      g_value_set_boolean (value, self->info_pending);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_window_class_init (KpWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);
  GtkWindowClass *window_class = GTK_WINDOW_CLASS (klass);
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = kp_window_dispose;
  object_class->finalize = kp_window_finalize;
  object_class->get_property = kp_window_get_property;

  widget_class->realize = kp_window_realize;

  window_class->close_request = kp_window_close_request;

  properties[PROP_LOADING] =
    g_param_spec_boolean ("loading", NULL, NULL, FALSE, ro);
  properties[PROP_CURRENT_MEDIA_ID] =
    g_param_spec_int64 ("current-media-id", NULL, NULL, 0, G_MAXINT64, 0, ro);
  properties[PROP_IMAGE_LOADING] =
    g_param_spec_boolean ("image-loading", NULL, NULL, FALSE, ro);
  properties[PROP_IMAGE_LOADED] =
    g_param_spec_boolean ("image-loaded", NULL, NULL, FALSE, ro);
  properties[PROP_IMAGE_ERROR] =
    g_param_spec_string ("image-error", NULL, NULL, NULL, ro);
  properties[PROP_INFO_PENDING] =
    g_param_spec_boolean ("info-pending", NULL, NULL, FALSE, ro);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (KP_TYPE_CANVAS);
  g_type_ensure (KP_TYPE_TAG_BAR);
  g_type_ensure (KP_TYPE_SUGGESTION_PANEL);
  g_type_ensure (KP_TYPE_OBJECT_LIST);
  g_type_ensure (KP_TYPE_ATTRIBUTE_PANEL);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/kempelen/Kempelen/ui/kp-window.ui");
  gtk_widget_class_bind_template_child (widget_class, KpWindow, header_bar);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, history_box);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, zoom_box);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, zoom_label);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, welcome_page);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, recent_group);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, recent_list);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, loading_spinner);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, decode_bar);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, loading_label);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, paned);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, progress_label);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, media_view);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, canvas_stack);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, canvas);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, image_error_page);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, media_label);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, done_button);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, labels_list);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, view_button);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, brightness_scale);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, contrast_scale);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, gamma_scale);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, tools_box);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, tools_separator);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, tag_bar);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, suggestion_panel);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, side_stack);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, object_list);
  gtk_widget_class_bind_template_child (widget_class, KpWindow, attribute_panel);
}

static void
kp_window_init (KpWindow *self)
{
  g_autoptr(GtkListItemFactory) factory = NULL;
  GtkDropTarget *drop_target;
  GtkWidget *placeholder;
  int width, height;

  gtk_widget_init_template (GTK_WIDGET (self));

  /* The worker's side: find work on a Kempelen server (KpWorkerWindow);
   * the requester's: review the answers of their batches (KpReviewWindow). */
  {
    GMenuModel *menu = G_MENU_MODEL (gtk_widget_get_template_child (GTK_WIDGET (self), KP_TYPE_WINDOW,
                                                                    "primary_menu"));
    GMenuModel *section = menu != NULL ? g_menu_model_get_item_link (menu, 0, G_MENU_LINK_SECTION) : NULL;

    if (G_IS_MENU (section))
      {
        g_menu_append (G_MENU (section), _("Find _Work…"), "app.find-work");
        g_menu_append (G_MENU (section), _("_Review Desk…"), "app.review");
      }
    g_clear_object (&section);
  }

#if DEVELOPMENT_BUILD
  gtk_widget_add_css_class (GTK_WIDGET (self), "devel");
#endif

  self->settings = g_settings_new (KP_SETTINGS_SCHEMA_ID);
  kp_keymap_attach (GTK_WIDGET (self), self->settings);
  self->project_cancellable = g_cancellable_new ();
  self->items_by_id = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->documents = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_object_unref);
  self->document_reads = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  self->document_bindings = g_binding_group_new ();
  g_signal_connect (self, "notify::is-active", G_CALLBACK (active_changed_cb), NULL);

  width = g_settings_get_int (self->settings, "window-width");
  height = g_settings_get_int (self->settings, "window-height");
  gtk_window_set_default_size (GTK_WINDOW (self), MAX (width, 360), MAX (height, 294));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  /* The image list: a recycling list view over a plain list store. */
  self->media = g_list_store_new (KP_TYPE_MEDIA_ITEM);
  self->selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->media)));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, FALSE);
  g_signal_connect_object (self->selection, "notify::selected-item",
                           G_CALLBACK (selection_changed_cb), self, G_CONNECT_SWAPPED);

  factory = gtk_signal_list_item_factory_new ();
  g_signal_connect_object (factory, "setup", G_CALLBACK (media_setup_cb), self, 0);
  g_signal_connect_object (factory, "bind", G_CALLBACK (media_bind_cb), self, 0);
  g_signal_connect_object (factory, "unbind", G_CALLBACK (media_unbind_cb), self, 0);
  gtk_list_view_set_factory (self->media_view, factory);
  gtk_list_view_set_model (self->media_view, GTK_SELECTION_MODEL (self->selection));

  placeholder = gtk_label_new (_("No labels yet. Add one to start drawing boxes."));
  gtk_label_set_wrap (GTK_LABEL (placeholder), TRUE);
  gtk_label_set_justify (GTK_LABEL (placeholder), GTK_JUSTIFY_CENTER);
  gtk_widget_set_margin_top (placeholder, 12);
  gtk_widget_set_margin_bottom (placeholder, 12);
  gtk_widget_set_margin_start (placeholder, 12);
  gtk_widget_set_margin_end (placeholder, 12);
  /* Wrapped text is measured at its widest by the scrolled window around
   * the list, which then cut off its second line: keep it narrow. */
  gtk_label_set_max_width_chars (GTK_LABEL (placeholder), 28);
  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_list_box_set_placeholder (self->labels_list, placeholder);
  g_signal_connect_object (self->labels_list, "row-selected",
                           G_CALLBACK (labels_row_selected_cb), self, G_CONNECT_SWAPPED);

  /* The annotation tools around the canvas. */
  self->prefetcher = kp_image_prefetcher_new (4);
  self->layer_prefetcher = kp_layer_prefetcher_new (NULL);
  g_signal_connect_object (self->layer_prefetcher, "built", G_CALLBACK (layer_built_cb),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->prefetcher, "ready", G_CALLBACK (prefetch_ready_cb),
                           self, G_CONNECT_SWAPPED);
  self->tool_palette = KP_TOOL_PALETTE (kp_tool_palette_new (self->settings));
  gtk_box_append (self->tools_box, GTK_WIDGET (self->tool_palette));
  kp_object_list_set_canvas (self->object_list, self->canvas);
  kp_attribute_panel_set_canvas (self->attribute_panel, self->canvas);
  g_signal_connect_object (self->object_list, "error",
                           G_CALLBACK (canvas_error_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->attribute_panel, "error",
                           G_CALLBACK (canvas_error_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->tag_bar, "error",
                           G_CALLBACK (canvas_error_cb), self, G_CONNECT_SWAPPED);
  g_settings_bind (self->settings, "show-crosshair", self->canvas, "show-crosshair",
                   G_SETTINGS_BIND_GET);
  g_settings_bind (self->settings, "suggestion-threshold", self->suggestion_panel, "threshold",
                   G_SETTINGS_BIND_DEFAULT);
  g_object_bind_property (gtk_range_get_adjustment (self->brightness_scale), "value",
                          self->canvas, "brightness", G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_object_bind_property (gtk_range_get_adjustment (self->contrast_scale), "value",
                          self->canvas, "contrast", G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);
  g_object_bind_property (gtk_range_get_adjustment (self->gamma_scale), "value",
                          self->canvas, "gamma", G_BINDING_BIDIRECTIONAL | G_BINDING_SYNC_CREATE);

  g_signal_connect_object (self->canvas, "notify::zoom",
                           G_CALLBACK (canvas_zoom_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->canvas, "error",
                           G_CALLBACK (canvas_error_cb), self, G_CONNECT_SWAPPED);
  update_zoom_label_cb (self);
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (self->canvas), "show-captions") != NULL)
    g_settings_bind (self->settings, "show-box-captions", self->canvas, "show-captions",
                     G_SETTINGS_BIND_GET);

  drop_target = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect_object (drop_target, "drop", G_CALLBACK (drop_cb), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop_target));

  g_signal_connect_object (self->settings, "changed::recent-projects",
                           G_CALLBACK (sync_recent), self, G_CONNECT_SWAPPED);
  sync_recent (self);

  _kp_window_init_actions (self);
  update_current_labels (self);
  gtk_stack_set_visible_child_name (self->main_stack, "welcome");
}

KpWindow *
kp_window_new (KpApplication *app)
{
  g_return_val_if_fail (KP_IS_APPLICATION (app), NULL);

  return g_object_new (KP_TYPE_WINDOW,
                       "application", app,
                       NULL);
}

gboolean
kp_window_get_loading (KpWindow *self)
{
  g_return_val_if_fail (KP_IS_WINDOW (self), FALSE);

  return self->loading;
}

const char *
kp_window_get_open_error (KpWindow *self)
{
  g_return_val_if_fail (KP_IS_WINDOW (self), NULL);

  return self->open_error;
}

KpStore *
kp_window_get_store (KpWindow *self)
{
  g_return_val_if_fail (KP_IS_WINDOW (self), NULL);

  return self->store;
}

KpCanvas *
kp_window_get_canvas (KpWindow *self)
{
  g_return_val_if_fail (KP_IS_WINDOW (self), NULL);

  return self->canvas;
}

GListModel *
kp_window_get_media_model (KpWindow *self)
{
  g_return_val_if_fail (KP_IS_WINDOW (self), NULL);

  return G_LIST_MODEL (self->media);
}

gint64
kp_window_get_current_media_id (KpWindow *self)
{
  g_return_val_if_fail (KP_IS_WINDOW (self), 0);

  return self->current_item ? kp_media_item_get_media_id (self->current_item) : 0;
}

KpDocument *
kp_window_get_current_document (KpWindow *self)
{
  g_return_val_if_fail (KP_IS_WINDOW (self), NULL);

  return self->document;
}

gboolean
kp_window_get_image_loading (KpWindow *self)
{
  g_return_val_if_fail (KP_IS_WINDOW (self), FALSE);

  return self->image_loading;
}

gboolean
kp_window_get_image_loaded (KpWindow *self)
{
  g_return_val_if_fail (KP_IS_WINDOW (self), FALSE);

  return self->image_loaded;
}

const char *
kp_window_get_image_error (KpWindow *self)
{
  g_return_val_if_fail (KP_IS_WINDOW (self), NULL);

  return self->image_error;
}

gboolean
kp_window_get_info_pending (KpWindow *self)
{
  g_return_val_if_fail (KP_IS_WINDOW (self), FALSE);

  return self->info_pending;
}

void
kp_window_add_toast (KpWindow   *self,
                     const char *title)
{
  g_autofree char *escaped = NULL;

  g_return_if_fail (KP_IS_WINDOW (self));
  g_return_if_fail (title != NULL);

  g_free (self->last_toast);
  self->last_toast = g_strdup (title);

  /* Toast titles are Pango markup in libadwaita 1.2. */
  escaped = g_markup_escape_text (title, -1);
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (escaped));
}
