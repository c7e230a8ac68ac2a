/* kp-av-common.c: pieces the audio and video pages and elements share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include <glib/gi18n.h>

#include "kp-av-common.h"
#include "kp-json-private.h"
#include "kp-timeline.h"

/* The media file's name without its extension, then suffix. */
char *
kp_av_suggest_name (const char *media_path,
                    const char *suffix)
{
  g_autofree char *base = NULL;
  char *dot;

  g_return_val_if_fail (media_path != NULL, NULL);
  g_return_val_if_fail (suffix != NULL, NULL);

  base = g_path_get_basename (media_path);
  if ((dot = strrchr (base, '.')) != NULL)
    *dot = '\0';
  return g_strconcat (base, suffix, NULL);
}

typedef struct
{
  GtkWidget    *page;          /* owned */
  GtkWidget    *status_label;  /* owned */
  char         *format;
  KpAvFileFunc  func;
} FileDialogData;

static void
file_dialog_data_free (gpointer data)
{
  FileDialogData *d = data;

  g_object_unref (d->page);
  g_object_unref (d->status_label);
  g_free (d->format);
  g_free (d);
}

static void
file_dialog_response_cb (GtkNativeDialog *dialog,
                         int              response,
                         FileDialogData  *d)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr(GError) error = NULL;

      if (!d->func (d->page, d->format, path, &error))
        gtk_label_set_text (GTK_LABEL (d->status_label), error->message);
    }
  g_object_unref (dialog);
}

/* A modal file chooser over the page's window; once accepted, func gets the
 * file, and its error (if any) is shown in the status line. */
void
kp_av_file_dialog_show (GtkWidget            *page,
                        GtkWidget            *status_label,
                        GtkFileChooserAction  action,
                        const char           *title,
                        const char           *accept_label,
                        const char           *suggested_name,
                        const char           *format,
                        KpAvFileFunc          func)
{
  GtkNative *native = gtk_widget_get_native (page);
  GtkFileChooserNative *dialog;
  FileDialogData *d;

  g_return_if_fail (GTK_IS_WIDGET (page));
  g_return_if_fail (GTK_IS_LABEL (status_label));
  g_return_if_fail (func != NULL);

  dialog = gtk_file_chooser_native_new (title, GTK_IS_WINDOW (native) ? GTK_WINDOW (native) : NULL,
                                        action, accept_label, _("_Cancel"));
  if (suggested_name != NULL)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (dialog), suggested_name);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (dialog), TRUE);
  d = g_new0 (FileDialogData, 1);
  d->page = g_object_ref (page);
  d->status_label = g_object_ref (status_label);
  d->format = g_strdup (format);
  d->func = func;
  g_object_set_data_full (G_OBJECT (dialog), "kp-av-file-dialog", d, file_dialog_data_free);
  g_signal_connect (dialog, "response", G_CALLBACK (file_dialog_response_cb), d);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (dialog));
}

/* Problems with the annotation files are shown in the status line: they
 * are the person's to know about, not a programming error. */
void
kp_av_report (GtkWidget  *status_label,
              const char *format,
              ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_debug ("%s", text);
  gtk_label_set_text (GTK_LABEL (status_label), text);
}

/* Keeps the first error the media gave: TRUE if error is that one, FALSE if
 * one is kept already (later ones follow from it and are not shown). */
gboolean
kp_av_keep_error (GError       **slot,
                  const GError  *error)
{
  g_return_val_if_fail (slot != NULL, FALSE);
  g_return_val_if_fail (error != NULL, FALSE);

  if (*slot != NULL)
    return FALSE;
  *slot = g_error_copy (error);
  return TRUE;
}

/* The keys frame-by-frame video views share; prefix names the action group
 * ("video", "tracker"), which must have next-frame, previous-frame,
 * play-pause, add-keyframe and delete-track actions. */
void
kp_av_add_frame_bindings (GtkWidgetClass *widget_class,
                          const char     *prefix)
{
  static const struct
  {
    guint key;
    const char *action;
  } bindings[] = {
    { GDK_KEY_Right, "next-frame" },
    { GDK_KEY_period, "next-frame" },
    { GDK_KEY_Left, "previous-frame" },
    { GDK_KEY_comma, "previous-frame" },
    { GDK_KEY_space, "play-pause" },
    { GDK_KEY_k, "add-keyframe" },
    { GDK_KEY_Delete, "delete-track" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bindings); i++)
    {
      g_autofree char *name = g_strconcat (prefix, ".", bindings[i].action, NULL);

      gtk_widget_class_add_binding_action (widget_class, bindings[i].key, 0, name, NULL);
    }
}

/* A row with a mnemonic label of width_chars before widget, which takes
 * the rest. */
GtkWidget *
kp_av_labelled (const char *text,
                GtkWidget  *widget,
                int         width_chars)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *label = gtk_label_new_with_mnemonic (text);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_width_chars (GTK_LABEL (label), width_chars);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), widget);
  gtk_widget_set_hexpand (widget, TRUE);
  gtk_box_append (GTK_BOX (row), label);
  gtk_box_append (GTK_BOX (row), widget);
  return row;
}

/* The hidden banner over a page that says why its media cannot be shown;
 * *label is where the text goes. */
GtkWidget *
kp_av_error_revealer_new (GtkWidget **label)
{
  GtkWidget *revealer = gtk_revealer_new ();

  *label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (*label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (*label), 0);
  gtk_widget_set_margin_start (*label, 12);
  gtk_widget_set_margin_end (*label, 12);
  gtk_widget_set_margin_top (*label, 6);
  gtk_widget_set_margin_bottom (*label, 6);
  gtk_widget_add_css_class (*label, "error");
  gtk_revealer_set_child (GTK_REVEALER (revealer), *label);
  return revealer;
}

/* A horizontal bar of controls, with a margin all round. */
GtkWidget *
kp_av_bar_new (void)
{
  GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

  gtk_widget_set_margin_start (bar, 6);
  gtk_widget_set_margin_end (bar, 6);
  gtk_widget_set_margin_top (bar, 6);
  gtk_widget_set_margin_bottom (bar, 6);
  return bar;
}

/* A button showing icon that activates action; tooltip is also its
 * accessible name. */
GtkWidget *
kp_av_icon_button (const char *icon,
                   const char *tooltip,
                   const char *action)
{
  GtkWidget *button = gtk_button_new_from_icon_name (icon);

  gtk_widget_set_tooltip_text (button, tooltip);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, tooltip, -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), action);
  return button;
}

/* The top of a layout element: its header (if any), then a hidden label
 * for load errors, which is returned. */
GtkWidget *
kp_av_element_begin (GtkWidget  *box,
                     const char *header)
{
  GtkWidget *error_label;

  if (header != NULL && *header != '\0')
    {
      GtkWidget *label = gtk_label_new (header);

      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_widget_add_css_class (label, "heading");
      gtk_box_append (GTK_BOX (box), label);
    }

  error_label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (error_label), TRUE);
  gtk_label_set_xalign (GTK_LABEL (error_label), 0);
  gtk_widget_add_css_class (error_label, "error");
  gtk_widget_set_visible (error_label, FALSE);
  gtk_box_append (GTK_BOX (box), error_label);
  return error_label;
}

/* A member of object that is a finite number, integer or not. */
gboolean
kp_av_json_member_number (JsonObject *object,
                          const char *name,
                          double     *out)
{
  return _kp_json_node_get_number (json_object_get_member (object, name), out);
}

/* The audio play/pause button, which the player's state re-icons. */
GtkWidget *
kp_av_play_button_new (void)
{
  GtkWidget *button = gtk_button_new_from_icon_name ("media-playback-start-symbolic");

  gtk_widget_set_tooltip_text (button, _("Play or Pause (Space)"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Play or Pause"), -1);
  return button;
}

/* Activates "timeline.<action>" on timeline for the action called
 * "<group>.<action>". */
void
kp_av_forward_to_timeline (GtkWidget  *timeline,
                           const char *name)
{
  const char *dot = strchr (name, '.');
  g_autofree char *target = g_strconcat ("timeline.", dot != NULL ? dot + 1 : name, NULL);

  gtk_widget_activate_action (timeline, target, NULL);
}

/* Where a page keeps its annotations of one media file: a folder named
 * kind beside the project database, made if missing, holding
 * "<media id><suffix>" (*data_path) and "<media id>.history.json"
 * (*history_path). FALSE, with errno set, when the folder cannot be made;
 * the paths and *dir are set in all cases. */
gboolean
kp_av_annotation_paths (const char  *database_path,
                        gint64       media_id,
                        const char  *kind,
                        const char  *suffix,
                        char       **dir,
                        char       **data_path,
                        char       **history_path)
{
  g_autofree char *db_dir = g_path_get_dirname (database_path);
  g_autofree char *name = g_strdup_printf ("%" G_GINT64_FORMAT "%s", media_id, suffix);
  g_autofree char *history = g_strdup_printf ("%" G_GINT64_FORMAT ".history.json", media_id);
  gboolean made;
  int saved_errno;

  *dir = g_build_filename (db_dir, kind, NULL);
  made = g_mkdir_with_parents (*dir, 0755) == 0;
  saved_errno = errno;
  *data_path = g_build_filename (*dir, name, NULL);
  *history_path = g_build_filename (*dir, history, NULL);
  errno = saved_errno;
  return made;
}

#define ATTRIBUTE_KEY "kp-av-attribute"

/* A row of the attribute editor: name, an entry with value whose
 * "activate" runs activate_cb, and a button with remove_label whose
 * "clicked" runs remove_cb; both get data, and the attribute's name from
 * kp_av_attribute_name() on the entry or button. */
GtkWidget *
kp_av_attribute_row_new (const char *name,
                         const char *value,
                         const char *remove_label,
                         GCallback   activate_cb,
                         GCallback   remove_cb,
                         gpointer    data)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *label = gtk_label_new (name);
  GtkWidget *entry = gtk_entry_new ();
  GtkWidget *remove = gtk_button_new_from_icon_name ("list-remove-symbolic");

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_width_chars (GTK_LABEL (label), 10);
  gtk_editable_set_text (GTK_EDITABLE (entry), value != NULL ? value : "");
  gtk_widget_set_hexpand (entry, TRUE);
  g_object_set_data_full (G_OBJECT (entry), ATTRIBUTE_KEY, g_strdup (name), g_free);
  g_signal_connect (entry, "activate", activate_cb, data);
  g_object_set_data_full (G_OBJECT (remove), ATTRIBUTE_KEY, g_strdup (name), g_free);
  gtk_widget_set_tooltip_text (remove, remove_label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (remove), GTK_ACCESSIBLE_PROPERTY_LABEL, remove_label, -1);
  g_signal_connect (remove, "clicked", remove_cb, data);
  gtk_box_append (GTK_BOX (row), label);
  gtk_box_append (GTK_BOX (row), entry);
  gtk_box_append (GTK_BOX (row), remove);
  return row;
}

const char *
kp_av_attribute_name (gpointer widget)
{
  return g_object_get_data (G_OBJECT (widget), ATTRIBUTE_KEY);
}

void
kp_av_box_remove_all (GtkWidget *box)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (box)) != NULL)
    gtk_box_remove (GTK_BOX (box), child);
}

/* A timeline that shows, and moves, frame_view's frame and selected
 * track. */
GtkWidget *
kp_av_timeline_new_for (GtkWidget *frame_view)
{
  GtkWidget *timeline = kp_timeline_new ();

  g_object_bind_property (timeline, "frame", frame_view, "frame", G_BINDING_BIDIRECTIONAL);
  g_object_bind_property (timeline, "selected-track", frame_view, "selected-track", G_BINDING_BIDIRECTIONAL);
  return timeline;
}
