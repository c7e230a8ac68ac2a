/* kp-window.h: the workstation window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "kp-application.h"
#include "kp-canvas.h"
#include "kp-core.h"

G_BEGIN_DECLS

#define KP_TYPE_WINDOW (kp_window_get_type ())
G_DECLARE_FINAL_TYPE (KpWindow, kp_window, KP, WINDOW, AdwApplicationWindow)

/* Properties (read-only, notified):
 *   "loading"          boolean  TRUE while a folder is being opened; FALSE
 *                               once it is open and the list interactive
 *   "current-media-id" gint64   the selected image, 0 for none
 *   "image-loading"    boolean  TRUE while the selected image is decoded
 *   "image-loaded"     boolean  TRUE when the canvas shows the selected image
 *   "image-error"      string   why the selected image cannot be shown, or NULL
 *   "info-pending"     boolean  TRUE while image sizes and hashes are probed
 *                               in the background
 *
 * Window actions (GActionMap, "win." prefix): open-folder, open-recent(s),
 * next-image, previous-image, mark-done (boolean state), undo, redo,
 * add-label, edit-label(x), delete-label(x), select-label(i),
 * export(s: "coco", "voc", "yolo"), zoom-in, zoom-out, zoom-fit, zoom-100,
 * show-help-overlay; since the annotation tools (session 4):
 * tool (string state: a kp_tool_kind_get_id () id), copy, paste,
 * duplicate, copy-previous, delete-selected, hide-selected, show-all,
 * lock-selected, raise-selected, lower-selected, accept-suggestion,
 * reject-suggestion, next-suggestion, accept-above, reject-below (the
 * suggestion bar's threshold), import-annotations(s: "file", "folder"),
 * show-crosshair (boolean state, the "show-crosshair" setting),
 * reset-adjustments, show-keymap. Their keys come from the keymap
 * (kp-keymap.h), which people change in the keymap editor.
 *
 * While an audio or video file is selected its page replaces the canvas
 * and undo/redo act on that page. */
KpWindow   *kp_window_new                   (KpApplication   *app);

/* Opens folder in a worker thread; "loading" goes FALSE when done. A
 * failure is shown in a dialog and recorded in "open-error". */
void        kp_window_open_folder           (KpWindow        *self,
                                             GFile           *folder);
gboolean    kp_window_get_loading           (KpWindow        *self);
const char *kp_window_get_open_error        (KpWindow        *self);

KpStore    *kp_window_get_store             (KpWindow        *self);
KpCanvas   *kp_window_get_canvas            (KpWindow        *self);
/* Element type KpMediaItem. */
GListModel *kp_window_get_media_model       (KpWindow        *self);
gboolean    kp_window_select_media          (KpWindow        *self,
                                             guint            position);
guint       kp_window_get_selected_position (KpWindow        *self);
gint64      kp_window_get_current_media_id  (KpWindow        *self);
KpDocument *kp_window_get_current_document  (KpWindow        *self);
gboolean    kp_window_get_image_loading     (KpWindow        *self);
gboolean    kp_window_get_image_loaded      (KpWindow        *self);
const char *kp_window_get_image_error       (KpWindow        *self);
gboolean    kp_window_get_info_pending      (KpWindow        *self);

/* Labels: reload after changing them in the store directly. */
void        kp_window_reload_labels         (KpWindow        *self);
gint64      kp_window_get_current_label_id  (KpWindow        *self);
/* Opens the label dialog (label_id 0: a new label); returns it. */
GtkWindow  *kp_window_show_label_dialog     (KpWindow        *self,
                                             gint64           label_id);

/* Exports in a worker thread; the result is the number of images written. */
void        kp_window_export_async          (KpWindow        *self,
                                             KpExportFormat   format,
                                             GFile           *output,
                                             GCancellable    *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer         user_data);
gboolean    kp_window_export_finish         (KpWindow        *self,
                                             GAsyncResult    *result,
                                             guint           *n_images,
                                             GError         **error);

/* Shows a transient message. */
void        kp_window_add_toast             (KpWindow        *self,
                                             const char      *title);

/* Benchmark hooks: print "<what> <ms since process start>" on stdout after
 * the next frame is painted (and quit when quit is TRUE). */
void        kp_window_report_after_frame    (KpWindow        *self,
                                             const char      *what,
                                             gboolean         quit);
/* Prints "interactive <ms>" after the first frame painted once a folder
 * finished opening, then quits. */
void        kp_window_report_when_interactive (KpWindow      *self);

G_END_DECLS
