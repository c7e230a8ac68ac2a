/* kp-preview-window.h: the requester's preview of a HIT layout
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "kp-layout-view.h"

G_BEGIN_DECLS

#define KP_TYPE_PREVIEW_WINDOW (kp_preview_window_get_type ())
G_DECLARE_FINAL_TYPE (KpPreviewWindow, kp_preview_window, KP, PREVIEW_WINDOW, AdwApplicationWindow)

/* Shows template as a worker sees it, filled with row (counting from 0)
 * of the CSV batch data when data is not NULL, beside a list of its
 * problems. It reloads when either file changes on disk, and steps
 * through the rows with the preview.previous-row / preview.next-row
 * actions (Alt+Left, Alt+Right). Submit shows the answer the requester
 * would receive.
 *
 * Signal "reloaded": the template was read and the view rebuilt. */
KpPreviewWindow *kp_preview_window_new            (GtkApplication   *application,
                                                   GFile            *template_file,
                                                   GFile            *data_file,
                                                   guint             row);

/* Reads the files again and rebuilds the view now. */
void             kp_preview_window_reload         (KpPreviewWindow  *self);
KpLayoutView    *kp_preview_window_get_view       (KpPreviewWindow  *self);
/* Every problem listed, in order (KpLayoutProblem *): first those
 * `kempelenctl layout check` prints for the same template and row, then
 * those only the preview finds (media it does not show). */
GPtrArray       *kp_preview_window_get_problems   (KpPreviewWindow  *self);
/* How many of them kempelenctl layout check reports too. */
guint            kp_preview_window_get_n_check_problems (KpPreviewWindow *self);
/* The list box of the side panel, one row per problem. */
GtkWidget       *kp_preview_window_get_problem_list (KpPreviewWindow *self);
guint            kp_preview_window_get_row        (KpPreviewWindow  *self);
/* The number of data rows, 0 without data. */
guint            kp_preview_window_get_n_rows     (KpPreviewWindow  *self);
void             kp_preview_window_set_row        (KpPreviewWindow  *self,
                                                   guint             row);
/* Text of an answer as the Submit dialog shows it: QuestionFormAnswers
 * XML for a QuestionForm, else the taskAnswers JSON MTurk returns. */
char            *kp_preview_window_format_answer  (KpPreviewWindow  *self,
                                                   JsonArray        *answer,
                                                   GError          **error) G_GNUC_WARN_UNUSED_RESULT;
/* The text of the last Submit dialog, or NULL. */
const char      *kp_preview_window_get_last_answer_text (KpPreviewWindow *self);

/* Renders the layout (its whole height, at the view's width) to a PNG
 * file; the window must have been shown. */
gboolean         kp_preview_window_save_screenshot (KpPreviewWindow *self,
                                                    const char      *path,
                                                    GError         **error);

G_END_DECLS
