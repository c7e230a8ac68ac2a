/* kp-av-common.h: pieces the audio and video pages and elements share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Reads or writes the annotations at path; format is the one the dialog
 * was opened with (NULL for an import). */
typedef gboolean (*KpAvFileFunc) (GtkWidget   *page,
                                  const char  *format,
                                  const char  *path,
                                  GError     **error);

char       *kp_av_suggest_name        (const char            *media_path,
                                       const char            *suffix);
void        kp_av_file_dialog_show    (GtkWidget             *page,
                                       GtkWidget             *status_label,
                                       GtkFileChooserAction   action,
                                       const char            *title,
                                       const char            *accept_label,
                                       const char            *suggested_name,
                                       const char            *format,
                                       KpAvFileFunc           func);

void        kp_av_report              (GtkWidget             *status_label,
                                       const char            *format,
                                       ...) G_GNUC_PRINTF (2, 3);
gboolean    kp_av_keep_error          (GError               **slot,
                                       const GError          *error);

GtkWidget  *kp_av_bar_new             (void);
GtkWidget  *kp_av_error_revealer_new  (GtkWidget            **label);
GtkWidget  *kp_av_icon_button         (const char            *icon,
                                       const char            *tooltip,
                                       const char            *action);
GtkWidget  *kp_av_play_button_new     (void);
GtkWidget  *kp_av_labelled            (const char            *text,
                                       GtkWidget             *widget,
                                       int                    width_chars);
GtkWidget  *kp_av_element_begin       (GtkWidget             *box,
                                       const char            *header);

GtkWidget  *kp_av_timeline_new_for    (GtkWidget             *frame_view);
void        kp_av_add_frame_bindings  (GtkWidgetClass        *widget_class,
                                       const char            *prefix);
void        kp_av_forward_to_timeline (GtkWidget             *timeline,
                                       const char            *name);

gboolean    kp_av_json_member_number  (JsonObject            *object,
                                       const char            *name,
                                       double                *out);
gboolean    kp_av_annotation_paths    (const char            *database_path,
                                       gint64                 media_id,
                                       const char            *kind,
                                       const char            *suffix,
                                       char                 **dir,
                                       char                 **data_path,
                                       char                 **history_path);

GtkWidget  *kp_av_attribute_row_new   (const char            *name,
                                       const char            *value,
                                       const char            *remove_label,
                                       GCallback              activate_cb,
                                       GCallback              remove_cb,
                                       gpointer               data);
const char *kp_av_attribute_name      (gpointer               widget);
void        kp_av_box_remove_all      (GtkWidget             *box);

G_END_DECLS
