/* kp-preview-window.c: the requester's preview of a HIT layout
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The template goes through the same steps as `kempelenctl layout
 * check` (placeholders from the CSV row, Liquid with the row as
 * task.input, then kp_layout_new_from_data()), so the side panel lists
 * exactly the problems the command prints, followed by those only the
 * view finds.
 *
 * The preview reloads, debounced, when an editor saves the template or
 * the data. GFileMonitor's inotify backend stops polling when it has
 * been idle and then looks for events only every 100 ms, which alone
 * is the whole reload budget; on Linux the window reads inotify itself
 * and keeps GFileMonitor for other systems.
 */

#include "config.h"

#include "kp-preview-window.h"

#include <string.h>

#include <glib/gi18n.h>

#ifdef __linux__
# include <errno.h>
# include <glib-unix.h>
# include <sys/inotify.h>
# include <unistd.h>
#endif

#define RELOAD_DELAY_MS 10
#define RELOAD_WRITING_DELAY_MS 200

struct _KpPreviewWindow
{
  AdwApplicationWindow  parent_instance;

  GtkWidget            *title;
  GtkWidget            *stack;
  GtkWidget            *view;
  GtkWidget            *status;
  GtkWidget            *problem_list;
  GtkWidget            *problem_count;
  AdwToastOverlay      *toasts;

  GFile                *template_file;
  GFile                *data_file;
  GFileMonitor         *template_monitor;
  GFileMonitor         *data_monitor;
  int                   inotify_fd;
  guint                 inotify_source;
  int                   template_wd;
  int                   data_wd;
  guint                 reload_id;
  guint                 row;
  guint                 n_rows;
  KpLayout             *layout;
  GPtrArray            *problems;
  guint                 n_check_problems;
  char                 *last_answer;
};

G_DEFINE_FINAL_TYPE (KpPreviewWindow, kp_preview_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  RELOADED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

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

static JsonNode *
row_to_json (GHashTable *row)
{
  JsonObject *object = json_object_new ();
  JsonNode *node = json_node_init_object (json_node_alloc (), object);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, row);
  while (g_hash_table_iter_next (&iter, &key, &value))
    json_object_set_string_member (object, key, value);

  json_object_unref (object);
  return node;
}

/* The data row, or NULL; an unreadable file is a problem. */
static GHashTable *
load_row (KpPreviewWindow *self,
          GPtrArray       *problems)
{
  g_autofree char *csv = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) records = NULL;
  GHashTable *row;
  gsize length;

  self->n_rows = 0;
  if (self->data_file == NULL)
    return NULL;

  if (!g_file_load_contents (self->data_file, NULL, &csv, &length, NULL, &error) ||
      (records = kp_template_parse_csv (csv, length, &error)) == NULL)
    {
      g_autofree char *name = g_file_get_parse_name (self->data_file);

      kp_layout_problems_add (problems, KP_LAYOUT_SEVERITY_ERROR, 0, 0, "%s: %s", name, error->message);
      return NULL;
    }

  self->n_rows = records->len > 0 ? records->len - 1 : 0;
  if (self->row >= self->n_rows && self->n_rows > 0)
    self->row = self->n_rows - 1;
  row = kp_template_csv_row (records, self->row);
  if (row == NULL)
    {
      g_autofree char *name = g_file_get_parse_name (self->data_file);

      kp_layout_problems_add (problems, KP_LAYOUT_SEVERITY_ERROR, 0, 0, _("%s has no row %u"),
                              name, self->row + 1);
    }

  return row;
}

static GtkWidget *
problem_row (const KpLayoutProblem *problem,
             gboolean               preview_only)
{
  GtkWidget *row = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 8);
  GtkWidget *icon = gtk_image_new_from_icon_name (problem->severity == KP_LAYOUT_SEVERITY_ERROR
                                                  ? "dialog-error-symbolic" : "dialog-warning-symbolic");
  GtkWidget *position, *message;
  g_autofree char *where = g_strdup_printf ("%d:%d", MAX (problem->line, 1), MAX (problem->column, 1));
  g_autofree char *accessible = NULL;

  gtk_widget_add_css_class (icon, problem->severity == KP_LAYOUT_SEVERITY_ERROR ? "error" : "warning");
  gtk_widget_set_valign (icon, GTK_ALIGN_START);
  position = gtk_label_new (where);
  gtk_widget_add_css_class (position, "monospace");
  gtk_widget_add_css_class (position, "dim-label");
  gtk_widget_set_valign (position, GTK_ALIGN_START);
  message = gtk_label_new (problem->message);
  gtk_label_set_wrap (GTK_LABEL (message), TRUE);
  gtk_label_set_xalign (GTK_LABEL (message), 0);
  gtk_label_set_selectable (GTK_LABEL (message), FALSE);
  gtk_widget_set_hexpand (message, TRUE);
  if (preview_only)
    gtk_widget_set_tooltip_text (row, _("Found by the preview only"));

  gtk_widget_set_margin_start (row, 8);
  gtk_widget_set_margin_end (row, 8);
  gtk_widget_set_margin_top (row, 6);
  gtk_widget_set_margin_bottom (row, 6);
  gtk_box_append (GTK_BOX (row), icon);
  gtk_box_append (GTK_BOX (row), position);
  gtk_box_append (GTK_BOX (row), message);

  /* Translators: a problem as a screen reader reads it: severity, line:column, message. */
  accessible = g_strdup_printf (_("%s at %s: %s"),
                                problem->severity == KP_LAYOUT_SEVERITY_ERROR ? _("Error") : _("Warning"),
                                where, problem->message);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row), GTK_ACCESSIBLE_PROPERTY_LABEL, accessible, -1);

  return row;
}

static void
update_problem_list (KpPreviewWindow *self)
{
  GtkWidget *child;
  guint errors = 0, warnings = 0;
  g_autofree char *count = NULL;

  while ((child = gtk_widget_get_first_child (self->problem_list)) != NULL)
    gtk_list_box_remove (GTK_LIST_BOX (self->problem_list), child);

  for (guint i = 0; i < self->problems->len; i++)
    {
      const KpLayoutProblem *problem = g_ptr_array_index (self->problems, i);

      if (problem->severity == KP_LAYOUT_SEVERITY_ERROR)
        errors++;
      else
        warnings++;
      gtk_list_box_append (GTK_LIST_BOX (self->problem_list),
                           problem_row (problem, i >= self->n_check_problems));
    }

  if (self->problems->len == 0)
    count = g_strdup (_("No problems"));
  else
    /* Translators: the counts of the problem list's header. */
    count = g_strdup_printf (_("%u errors, %u warnings"), errors, warnings);
  gtk_label_set_text (GTK_LABEL (self->problem_count), count);
}

static void
update_title (KpPreviewWindow *self)
{
  g_autofree char *name = g_file_get_basename (self->template_file);
  g_autofree char *subtitle = NULL;

  if (self->data_file != NULL && self->n_rows > 0)
    subtitle = g_strdup_printf (_("Row %u of %u"), self->row + 1, self->n_rows);
  else
    subtitle = g_strdup (_("Preview"));

  adw_window_title_set_title (ADW_WINDOW_TITLE (self->title), name);
  adw_window_title_set_subtitle (ADW_WINDOW_TITLE (self->title), subtitle);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "preview.previous-row",
                                 self->data_file != NULL && self->row > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "preview.next-row",
                                 self->data_file != NULL && self->row + 1 < self->n_rows);
}

void
kp_preview_window_reload (KpPreviewWindow *self)
{
  g_autoptr(GPtrArray) problems = kp_layout_problems_new ();
  g_autoptr(GHashTable) row = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(KpLayout) layout = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *filled = NULL;
  g_autofree char *rendered = NULL;
  g_autoptr(GFile) base = NULL;
  const char *text = NULL;
  gsize length = 0;
  gint64 start = g_get_monotonic_time ();

  g_return_if_fail (KP_IS_PREVIEW_WINDOW (self));

  g_clear_handle_id (&self->reload_id, g_source_remove);
  row = load_row (self, problems);

  /* The steps of kempelenctl layout check, in its order. */
  if (!g_file_load_contents (self->template_file, NULL, &contents, &length, NULL, &error))
    kp_layout_problems_add (problems, KP_LAYOUT_SEVERITY_ERROR, 0, 0, "%s", error->message);
  else if (memchr (contents, '\0', length) != NULL || !g_utf8_validate_len (contents, length, NULL))
    kp_layout_problems_add (problems, KP_LAYOUT_SEVERITY_ERROR, 0, 0, "%s",
                            _("The template is not valid UTF-8 text"));
  else
    {
      if (length > KP_LAYOUT_MAX_LENGTH)
        text = contents;
      else
        {
          filled = kp_template_fill_placeholders (contents, row, problems);
          text = filled;
          if (kp_template_has_liquid (text))
            {
              g_autoptr(JsonNode) input = row != NULL ? row_to_json (row) : NULL;

              rendered = kp_template_render_liquid (text, input, problems);
              text = rendered;
            }
        }

      layout = kp_layout_new_from_data (text, -1, KP_LAYOUT_FORMAT_AUTO, &error);
      if (layout == NULL)
        kp_layout_problems_add (problems, KP_LAYOUT_SEVERITY_ERROR, 0, 0, "%s", error->message);
      else
        g_ptr_array_extend (problems, kp_layout_get_problems (layout),
                            (GCopyFunc)kp_layout_problem_copy, NULL);
    }
  g_ptr_array_sort (problems, compare_problems);

  /* The view's own problems follow once it is built (view_built_cb):
   * a long layout is built a slice at a time. */
  self->n_check_problems = problems->len;
  g_ptr_array_unref (self->problems);
  self->problems = g_steal_pointer (&problems);

  base = g_file_get_parent (self->template_file);
  kp_layout_view_set_base (KP_LAYOUT_VIEW (self->view), base);
  g_set_object (&self->layout, layout);
  /* A new layout object, even for the same text: the view rebuilds. */
  kp_layout_view_set_layout (KP_LAYOUT_VIEW (self->view), layout);

  if (layout != NULL)
    gtk_stack_set_visible_child (GTK_STACK (self->stack), self->view);
  else
    {
      adw_status_page_set_description (ADW_STATUS_PAGE (self->status),
                                       error != NULL ? error->message : "");
      gtk_stack_set_visible_child (GTK_STACK (self->stack), self->status);
    }

  update_problem_list (self);
  update_title (self);
  g_debug ("Preview reloaded in %.1f ms", (g_get_monotonic_time () - start) / 1000.0);
  g_signal_emit (self, signals[RELOADED], 0);
}

static void
view_built_cb (KpLayoutView    *view,
               KpPreviewWindow *self)
{
  g_ptr_array_set_size (self->problems, self->n_check_problems);
  g_ptr_array_extend (self->problems, kp_layout_view_get_problems (view),
                      (GCopyFunc)kp_layout_problem_copy, NULL);
  update_problem_list (self);
}

static gboolean
reload_timeout_cb (gpointer user_data)
{
  KpPreviewWindow *self = user_data;

  self->reload_id = 0;
  kp_preview_window_reload (self);

  return G_SOURCE_REMOVE;
}

static void
schedule_reload (KpPreviewWindow *self,
                 guint            delay)
{
  g_clear_handle_id (&self->reload_id, g_source_remove);
  self->reload_id = g_timeout_add (delay, reload_timeout_cb, self);
}

#ifdef __linux__
static gboolean
is_watched (KpPreviewWindow *self,
            int              wd,
            const char      *name)
{
  g_autofree char *template_name = g_file_get_basename (self->template_file);
  g_autofree char *data_name = self->data_file != NULL ? g_file_get_basename (self->data_file) : NULL;

  return (wd == self->template_wd && g_strcmp0 (name, template_name) == 0) ||
         (wd == self->data_wd && g_strcmp0 (name, data_name) == 0);
}

static gboolean
inotify_cb (int          fd,
            GIOCondition condition,
            gpointer     user_data)
{
  KpPreviewWindow *self = user_data;
  char buffer[4096] __attribute__ ((aligned (__alignof__ (struct inotify_event))));
  ssize_t length;

  while ((length = read (fd, buffer, sizeof buffer)) > 0)
    {
      const struct inotify_event *event;

      for (char *p = buffer; p < buffer + length; p += sizeof (struct inotify_event) + event->len)
        {
          event = (const struct inotify_event *)p;
          if (event->len == 0 || !is_watched (self, event->wd, event->name))
            continue;
          /* Written to, maybe not to the end: closing shortens the wait. */
          schedule_reload (self, (event->mask & IN_MODIFY) != 0 ? RELOAD_WRITING_DELAY_MS : RELOAD_DELAY_MS);
        }
    }

  return G_SOURCE_CONTINUE;
}

static int
watch_folder_of (KpPreviewWindow *self,
                 GFile           *file)
{
  g_autoptr(GFile) parent = g_file_get_parent (file);
  const char *path = parent != NULL ? g_file_peek_path (parent) : NULL;

  if (path == NULL)
    return -1;

  return inotify_add_watch (self->inotify_fd, path,
                            IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_CREATE | IN_DELETE);
}

/* TRUE when inotify follows both files. */
static gboolean
watch_with_inotify (KpPreviewWindow *self)
{
  self->inotify_fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
  if (self->inotify_fd < 0)
    return FALSE;

  self->template_wd = watch_folder_of (self, self->template_file);
  self->data_wd = self->data_file != NULL ? watch_folder_of (self, self->data_file) : -1;
  if (self->template_wd < 0 || (self->data_file != NULL && self->data_wd < 0))
    {
      g_debug ("Cannot follow changes with inotify: %s", g_strerror (errno));
      close (self->inotify_fd);
      self->inotify_fd = -1;
      return FALSE;
    }

  self->inotify_source = g_unix_fd_add (self->inotify_fd, G_IO_IN, inotify_cb, self);
  return TRUE;
}
#endif

static void
file_changed_cb (GFileMonitor      *monitor,
                 GFile             *file,
                 GFile             *other,
                 GFileMonitorEvent  event,
                 KpPreviewWindow   *self)
{
  guint delay;

  switch (event)
    {
    case G_FILE_MONITOR_EVENT_CHANGED:
      /* Written to, maybe not to the end: the writer closing the file
       * (CHANGES_DONE_HINT) shortens the wait. */
      delay = RELOAD_WRITING_DELAY_MS;
      break;
    case G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT:
    case G_FILE_MONITOR_EVENT_CREATED:
    case G_FILE_MONITOR_EVENT_DELETED:
    case G_FILE_MONITOR_EVENT_MOVED_IN:
    case G_FILE_MONITOR_EVENT_RENAMED:
      /* Saved; editors may still rename or delete a backup right after. */
      delay = RELOAD_DELAY_MS;
      break;
    default:
      return;
    }

  schedule_reload (self, delay);
}

static GFileMonitor *
monitor_file (KpPreviewWindow *self,
              GFile           *file)
{
  g_autoptr(GError) error = NULL;
  GFileMonitor *monitor = g_file_monitor_file (file, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);

  if (monitor == NULL)
    {
      g_debug ("Cannot follow changes of a file: %s", error->message);
      return NULL;
    }
  g_signal_connect (monitor, "changed", G_CALLBACK (file_changed_cb), self);

  return monitor;
}

char *
kp_preview_window_format_answer (KpPreviewWindow  *self,
                                 JsonArray        *answer,
                                 GError          **error)
{
  g_return_val_if_fail (KP_IS_PREVIEW_WINDOW (self), NULL);
  g_return_val_if_fail (answer != NULL, NULL);

  if (self->layout != NULL && kp_layout_get_format (self->layout) == KP_LAYOUT_FORMAT_QUESTION &&
      json_array_get_length (answer) > 0 &&
      g_strcmp0 (json_object_get_string_member_with_default (json_array_get_object_element (answer, 0),
                                                             "QuestionIdentifier", NULL),
                 "taskAnswers") != 0)
    {
      g_autofree char *contents = NULL;
      g_autoptr(KpQuestionInfo) info = NULL;

      /* The question XML is the file, unless templating changed it: the
       * form's own checks apply to the answers either way. */
      if (g_file_load_contents (self->template_file, NULL, &contents, NULL, NULL, NULL))
        info = kp_question_parse (contents, -1, NULL);
      return kp_question_answers_to_xml (info, answer, error);
    }

  /* crowd-form: the taskAnswers FreeText, which is what a requester
   * reads from the assignment. */
  if (json_array_get_length (answer) == 1)
    {
      JsonObject *object = json_array_get_object_element (answer, 0);
      const char *free_text = json_object_get_string_member_with_default (object, "FreeText", NULL);

      if (free_text != NULL)
        return g_strdup (free_text);
    }

  {
    g_autoptr(JsonNode) node = json_node_init_array (json_node_alloc (), answer);

    return json_to_string (node, TRUE);
  }
}

const char *
kp_preview_window_get_last_answer_text (KpPreviewWindow *self)
{
  g_return_val_if_fail (KP_IS_PREVIEW_WINDOW (self), NULL);

  return self->last_answer;
}

static void
submitted_cb (KpLayoutView    *view,
              JsonArray       *answer,
              KpPreviewWindow *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = kp_preview_window_format_answer (self, answer, &error);
  GtkWidget *dialog, *scroller, *text_view;

  if (text == NULL)
    {
      adw_toast_overlay_add_toast (self->toasts, adw_toast_new (error->message));
      return;
    }

  g_free (self->last_answer);
  self->last_answer = g_strdup (text);

  dialog = adw_message_dialog_new (GTK_WINDOW (self), _("The Answer You Would Receive"),
                                   kp_layout_get_format (self->layout) == KP_LAYOUT_FORMAT_QUESTION
                                   ? _("QuestionFormAnswers XML, as GetAssignment returns it")
                                   : _("The taskAnswers JSON, as GetAssignment returns it"));
  text_view = gtk_text_view_new ();
  gtk_text_view_set_editable (GTK_TEXT_VIEW (text_view), FALSE);
  gtk_text_view_set_monospace (GTK_TEXT_VIEW (text_view), TRUE);
  gtk_text_view_set_wrap_mode (GTK_TEXT_VIEW (text_view), GTK_WRAP_CHAR);
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (text_view)), text, -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (text_view), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Answer"), -1);
  scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), text_view);
  gtk_scrolled_window_set_min_content_height (GTK_SCROLLED_WINDOW (scroller), 200);
  gtk_scrolled_window_set_min_content_width (GTK_SCROLLED_WINDOW (scroller), 420);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), scroller);
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
previous_row_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *parameter)
{
  KpPreviewWindow *self = KP_PREVIEW_WINDOW (widget);

  if (self->row > 0)
    kp_preview_window_set_row (self, self->row - 1);
}

static void
next_row_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *parameter)
{
  KpPreviewWindow *self = KP_PREVIEW_WINDOW (widget);

  if (self->row + 1 < self->n_rows)
    kp_preview_window_set_row (self, self->row + 1);
}

static void
reload_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  kp_preview_window_reload (KP_PREVIEW_WINDOW (widget));
}

static void
kp_preview_window_dispose (GObject *object)
{
  KpPreviewWindow *self = KP_PREVIEW_WINDOW (object);

  g_clear_handle_id (&self->reload_id, g_source_remove);
#ifdef __linux__
  g_clear_handle_id (&self->inotify_source, g_source_remove);
  if (self->inotify_fd >= 0)
    close (self->inotify_fd);
  self->inotify_fd = -1;
#endif
  if (self->template_monitor != NULL)
    g_file_monitor_cancel (self->template_monitor);
  if (self->data_monitor != NULL)
    g_file_monitor_cancel (self->data_monitor);
  g_clear_object (&self->template_monitor);
  g_clear_object (&self->data_monitor);
  g_clear_object (&self->template_file);
  g_clear_object (&self->data_file);
  g_clear_object (&self->layout);

  G_OBJECT_CLASS (kp_preview_window_parent_class)->dispose (object);
}

static void
kp_preview_window_finalize (GObject *object)
{
  KpPreviewWindow *self = KP_PREVIEW_WINDOW (object);

  g_ptr_array_unref (self->problems);
  g_free (self->last_answer);

  G_OBJECT_CLASS (kp_preview_window_parent_class)->finalize (object);
}

static void
kp_preview_window_class_init (KpPreviewWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kp_preview_window_dispose;
  object_class->finalize = kp_preview_window_finalize;

  signals[RELOADED] =
    g_signal_new ("reloaded", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  gtk_widget_class_install_action (widget_class, "preview.previous-row", NULL, previous_row_action);
  gtk_widget_class_install_action (widget_class, "preview.next-row", NULL, next_row_action);
  gtk_widget_class_install_action (widget_class, "preview.reload", NULL, reload_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Left, GDK_ALT_MASK,
                                       "preview.previous-row", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Right, GDK_ALT_MASK,
                                       "preview.next-row", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_r, GDK_CONTROL_MASK,
                                       "preview.reload", NULL);
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

static void
kp_preview_window_init (KpPreviewWindow *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *paned = gtk_paned_new (GTK_ORIENTATION_HORIZONTAL);
  GtkWidget *side = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *side_title = gtk_label_new (_("Problems"));
  GtkWidget *scroller = gtk_scrolled_window_new ();
  GtkWidget *rows = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);

  self->problems = kp_layout_problems_new ();
  self->inotify_fd = -1;

  self->title = adw_window_title_new (_("Preview"), NULL);
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), self->title);
  gtk_widget_add_css_class (rows, "linked");
  gtk_box_append (GTK_BOX (rows), icon_button ("go-previous-symbolic", "preview.previous-row",
                                               _("Previous Row (Alt+Left)")));
  gtk_box_append (GTK_BOX (rows), icon_button ("go-next-symbolic", "preview.next-row",
                                               _("Next Row (Alt+Right)")));
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), rows);
  adw_header_bar_pack_end (ADW_HEADER_BAR (header),
                           icon_button ("view-refresh-symbolic", "preview.reload", _("Reload (Ctrl+R)")));

  self->view = kp_layout_view_new ();
  gtk_widget_set_hexpand (self->view, TRUE);
  gtk_widget_set_vexpand (self->view, TRUE);
  g_signal_connect (self->view, "submitted", G_CALLBACK (submitted_cb), self);
  g_signal_connect (self->view, "built", G_CALLBACK (view_built_cb), self);
  g_signal_connect (self->view, "problems-changed", G_CALLBACK (view_built_cb), self);
  self->status = adw_status_page_new ();
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (self->status), "dialog-error-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (self->status), _("The Layout Cannot Be Shown"));
  self->stack = gtk_stack_new ();
  gtk_stack_add_child (GTK_STACK (self->stack), self->view);
  gtk_stack_add_child (GTK_STACK (self->stack), self->status);

  gtk_widget_add_css_class (side_title, "heading");
  gtk_label_set_xalign (GTK_LABEL (side_title), 0);
  self->problem_count = gtk_label_new (NULL);
  gtk_widget_add_css_class (self->problem_count, "dim-label");
  gtk_label_set_xalign (GTK_LABEL (self->problem_count), 0);
  self->problem_list = gtk_list_box_new ();
  gtk_list_box_set_selection_mode (GTK_LIST_BOX (self->problem_list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (self->problem_list, "navigation-sidebar");
  gtk_accessible_update_relation (GTK_ACCESSIBLE (self->problem_list),
                                  GTK_ACCESSIBLE_RELATION_LABELLED_BY, side_title, NULL, -1);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scroller), self->problem_list);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scroller), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_widget_set_vexpand (scroller, TRUE);
  gtk_widget_set_margin_start (side_title, 12);
  gtk_widget_set_margin_top (side_title, 12);
  gtk_widget_set_margin_start (self->problem_count, 12);
  gtk_box_append (GTK_BOX (side), side_title);
  gtk_box_append (GTK_BOX (side), self->problem_count);
  gtk_box_append (GTK_BOX (side), scroller);
  gtk_widget_set_size_request (side, 260, -1);

  gtk_paned_set_start_child (GTK_PANED (paned), self->stack);
  gtk_paned_set_end_child (GTK_PANED (paned), side);
  gtk_paned_set_resize_end_child (GTK_PANED (paned), FALSE);
  gtk_paned_set_shrink_end_child (GTK_PANED (paned), FALSE);
  gtk_paned_set_shrink_start_child (GTK_PANED (paned), FALSE);
  gtk_widget_set_vexpand (paned, TRUE);

  self->toasts = ADW_TOAST_OVERLAY (adw_toast_overlay_new ());
  adw_toast_overlay_set_child (self->toasts, paned);
  gtk_box_append (GTK_BOX (box), header);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->toasts));
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (self), box);
  gtk_window_set_default_size (GTK_WINDOW (self), 1100, 800);
}

KpPreviewWindow *
kp_preview_window_new (GtkApplication *application,
                       GFile          *template_file,
                       GFile          *data_file,
                       guint           row)
{
  KpPreviewWindow *self;

  g_return_val_if_fail (application == NULL || GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (G_IS_FILE (template_file), NULL);
  g_return_val_if_fail (data_file == NULL || G_IS_FILE (data_file), NULL);

  self = g_object_new (KP_TYPE_PREVIEW_WINDOW, "application", application, NULL);
  self->template_file = g_object_ref (template_file);
  self->data_file = data_file != NULL ? g_object_ref (data_file) : NULL;
  self->row = row;
#ifdef __linux__
  if (!watch_with_inotify (self))
#endif
    {
      self->template_monitor = monitor_file (self, template_file);
      if (data_file != NULL)
        self->data_monitor = monitor_file (self, data_file);
    }

  kp_preview_window_reload (self);

  return self;
}

KpLayoutView *
kp_preview_window_get_view (KpPreviewWindow *self)
{
  g_return_val_if_fail (KP_IS_PREVIEW_WINDOW (self), NULL);

  return KP_LAYOUT_VIEW (self->view);
}

GPtrArray *
kp_preview_window_get_problems (KpPreviewWindow *self)
{
  g_return_val_if_fail (KP_IS_PREVIEW_WINDOW (self), NULL);

  /* Finishes the view, which lists its problems then. */
  if (self->layout != NULL)
    kp_layout_view_get_problems (KP_LAYOUT_VIEW (self->view));

  return self->problems;
}

guint
kp_preview_window_get_n_check_problems (KpPreviewWindow *self)
{
  g_return_val_if_fail (KP_IS_PREVIEW_WINDOW (self), 0);

  return self->n_check_problems;
}

GtkWidget *
kp_preview_window_get_problem_list (KpPreviewWindow *self)
{
  g_return_val_if_fail (KP_IS_PREVIEW_WINDOW (self), NULL);

  if (self->layout != NULL)
    kp_layout_view_get_problems (KP_LAYOUT_VIEW (self->view));

  return self->problem_list;
}

guint
kp_preview_window_get_row (KpPreviewWindow *self)
{
  g_return_val_if_fail (KP_IS_PREVIEW_WINDOW (self), 0);

  return self->row;
}

guint
kp_preview_window_get_n_rows (KpPreviewWindow *self)
{
  g_return_val_if_fail (KP_IS_PREVIEW_WINDOW (self), 0);

  return self->n_rows;
}

void
kp_preview_window_set_row (KpPreviewWindow *self,
                           guint            row)
{
  g_return_if_fail (KP_IS_PREVIEW_WINDOW (self));

  if (row == self->row)
    return;

  self->row = row;
  kp_preview_window_reload (self);
}

gboolean
kp_preview_window_save_screenshot (KpPreviewWindow  *self,
                                   const char       *path,
                                   GError          **error)
{
  GtkWidget *target;
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GskRenderer) renderer = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GtkSnapshot *snapshot;
  int width, height;

  g_return_val_if_fail (KP_IS_PREVIEW_WINDOW (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  /* The layout's whole page: the content inside the view's scroller,
   * else the error page. */
  target = gtk_stack_get_visible_child (GTK_STACK (self->stack));
  if (target == self->view && kp_layout_view_get_page (KP_LAYOUT_VIEW (self->view)) != NULL)
    target = kp_layout_view_get_page (KP_LAYOUT_VIEW (self->view));

  width = gtk_widget_get_width (target);
  height = gtk_widget_get_height (target);
  if (width <= 0 || height <= 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("The preview has not been drawn yet"));
      return FALSE;
    }
  /* Cairo images stop at 32767 pixels. */
  height = MIN (height, 32000);

  paintable = gtk_widget_paintable_new (target);
  snapshot = gtk_snapshot_new ();
  /* A page has a background, as the window gives it. */
  gtk_snapshot_append_color (snapshot, &(GdkRGBA) { 1, 1, 1, 1 },
                             &GRAPHENE_RECT_INIT (0, 0, width, height));
  gdk_paintable_snapshot (paintable, snapshot, gtk_widget_get_width (target), gtk_widget_get_height (target));
  node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("The preview drew nothing"));
      return FALSE;
    }

  /* The cairo renderer needs no display surface, so this works headless. */
  renderer = gsk_cairo_renderer_new ();
  if (!gsk_renderer_realize (renderer, NULL, error))
    return FALSE;
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  gsk_renderer_unrealize (renderer);

  if (texture == NULL || !gdk_texture_save_to_png (texture, path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot write %s"), path);
      return FALSE;
    }

  return TRUE;
}
