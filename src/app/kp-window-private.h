/* kp-window-private.h: what kp-window.c and kp-window-actions.c share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "kp-media-item.h"
#include "kp-thumbnailer.h"
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
  KpThumbnailer        *thumbnailer;
  GCancellable         *project_cancellable;
  GCancellable         *open_cancellable;
  GCancellable         *image_cancellable;
  char                 *open_error;

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
  AdwStatusPage        *image_error_page;
  GtkLabel             *media_label;
  GtkToggleButton      *done_button;
  GtkListBox           *labels_list;
};

/* kp-window-actions.c */
void        _kp_window_init_actions       (KpWindow      *self);
void        _kp_window_update_actions     (KpWindow      *self);
void        _kp_window_show_error         (KpWindow      *self,
                                           const char    *heading,
                                           const char    *message);
GtkWindow  *_kp_window_ensure_help_overlay (KpWindow     *self);

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

G_END_DECLS
