/* kp-window-private.h: what kp-window.c and kp-window-actions.c share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "kp-attribute-panel.h"
#include "kp-image-prefetcher.h"
#include "kp-layer-prefetcher.h"
#include "kp-media-item.h"
#include "kp-object-list.h"
#include "kp-suggestion-panel.h"
#include "kp-tag-bar.h"
#include "kp-thumbnailer.h"
#include "kp-tool-palette.h"
#include "kp-window.h"

G_BEGIN_DECLS

struct _KpWindow
{
  AdwApplicationWindow  parent_instance;

  GSettings            *settings;

  /* The open project; NULL on the welcome page. */
  KpStore              *store;
  GListStore           *media;           /* KpMediaItem */
  GtkSingleSelection   *selection;
  GHashTable           *items_by_id;     /* gint64* -> KpMediaItem* (borrowed) */
  guint                 n_done;          /* items whose status is DONE */
  GHashTable           *documents;       /* gint64* -> KpDocument* */
  GPtrArray            *labels;          /* KpLabel */
  GPtrArray            *attributes;      /* KpAttribute, of every label */
  KpImagePrefetcher    *prefetcher;
  /* Large neighbours' tile pyramids, built ahead (since session 6). */
  KpLayerPrefetcher    *layer_prefetcher;
  guint                 prefetch_idle_id;
  /* Documents of the neighbouring images, read on a worker thread with
   * the reader's own connection (since session 5). */
  struct _KpDocumentReader *document_reader;
  GHashTable           *document_reads;  /* gint64* media ids being read */
  guint                 document_epoch;  /* bumped when reads in flight go stale */
  guint                 n_thread_reads;  /* documents made from a thread's read */

  /* Writes by other connections (kempelenctl, an import thread, another
   * window): PRAGMA data_version as last seen, polled by a slow timer
   * and when the window becomes active (since session 5). */
  gint64                data_version;
  guint                 external_check_id;

  /* Copied objects (KpAnnotation), kept in the process: they paste into
   * any image of the project, whatever the system clipboard holds. */
  GPtrArray            *clipboard;
  gint64                clipboard_media_id;
  guint                 paste_count;
  /* What "copy" put on the system clipboard, to tell it from other
   * programs' text (since session 5). */
  GdkContentProvider   *clipboard_provider;
  KpThumbnailer        *thumbnailer;
  GCancellable         *project_cancellable;
  GCancellable         *open_cancellable;
  GCancellable         *image_cancellable;
  char                 *open_error;
  char                 *last_toast;      /* the newest toast's text, for tests */

  KpDocument           *document;        /* of the current image */
  KpMediaItem          *current_item;
  GBindingGroup        *document_bindings;

  /* Thumbnails and probing start after the first frame of a new project. */
  GdkFrameClock        *background_clock;
  gulong                background_paint_id;
  guint                 background_timeout_id;
  guint                 zoom_idle_id;
  guint                 help_overlay_idle_id;

  guint                 loading : 1;
  guint                 image_loading : 1;
  guint                 image_loaded : 1;
  guint                 info_pending : 1;
  guint                 exporting : 1;
  guint                 report_interactive : 1;
  guint                 updating_labels : 1;
  char                 *image_error;

  /* Template children. */
  AdwHeaderBar         *header_bar;
  AdwWindowTitle       *window_title;
  GtkWidget            *history_box;
  GtkWidget            *zoom_box;
  GtkLabel             *zoom_label;
  AdwToastOverlay      *toast_overlay;
  GtkStack             *main_stack;
  AdwStatusPage        *welcome_page;
  AdwPreferencesGroup  *recent_group;
  GtkListBox           *recent_list;
  GtkSpinner           *loading_spinner;
  GtkLabel             *loading_label;
  GtkPaned             *paned;
  GtkLabel             *progress_label;
  GtkProgressBar       *progress_bar;
  GtkListView          *media_view;
  GtkStack             *canvas_stack;
  KpCanvas             *canvas;
  GtkProgressBar       *decode_bar;      /* a large image's build, while it runs */
  AdwStatusPage        *image_error_page;
  GtkLabel             *media_label;
  GtkToggleButton      *done_button;
  GtkListBox           *labels_list;
  GtkWidget            *view_button;
  GtkRange             *brightness_scale;
  GtkRange             *contrast_scale;
  GtkRange             *gamma_scale;
  GtkBox               *tools_box;
  GtkWidget            *tools_separator;
  KpToolPalette        *tool_palette;
  KpTagBar             *tag_bar;
  KpSuggestionPanel    *suggestion_panel;
  GtkStack             *side_stack;
  KpObjectList         *object_list;
  KpAttributePanel     *attribute_panel;
  GtkWidget            *audio_page;      /* KpAudioPage, made when first needed */
  GtkWidget            *video_page;      /* KpVideoPage, made when first needed */
  GtkWidget            *shown_page;      /* the audio or video page in use, or NULL */
};

/* kp-window-actions.c */
void        _kp_window_init_actions       (KpWindow      *self);
void        _kp_window_update_actions     (KpWindow      *self);
void        _kp_window_show_error         (KpWindow      *self,
                                           const char    *heading,
                                           const char    *message);
GtkWindow  *_kp_window_ensure_help_overlay (KpWindow     *self);
/* Imports pre-annotations from file (format guessed) in a worker thread. */
void        _kp_window_import_file         (KpWindow     *self,
                                            GFile        *file);
/* Drops the shortcuts window, so that the next one shows the new keymap. */
void        _kp_window_reset_help_overlay  (KpWindow     *self);
/* The accelerator label of a keymap action, for tooltips (or NULL). */
char       *_kp_window_dup_accel_label     (KpWindow     *self,
                                            const char   *action);

/* kp-window.c */
void        _kp_window_refresh_item       (KpWindow      *self,
                                           gint64         media_id);
void        _kp_window_refresh_items      (KpWindow      *self,
                                           GPtrArray     *media);
void        _kp_window_set_current_label  (KpWindow      *self,
                                           gint64         label_id);
void        _kp_window_sync_labels        (KpWindow      *self);
KpDocument *_kp_window_ensure_document    (KpWindow      *self,
                                           gint64         media_id,
                                           GError       **error);
void        _kp_window_reload_attributes  (KpWindow      *self);
/* Reloads what other connections changed in the open documents, labels
 * and image list; TRUE when anything had changed. */
gboolean    _kp_window_check_external_changes (KpWindow  *self);
/* The shown page's undo/redo (audio, video), or NULL for the canvas. */
GtkWidget  *_kp_window_get_media_page     (KpWindow      *self);

G_END_DECLS
