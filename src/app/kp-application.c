/* kp-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-application.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kp-keymap.h"
#include "kp-preview-window.h"
#include "kp-review-window.h"
#include "kp-window.h"
#include "kp-worker-window.h"

struct _KpApplication
{
  AdwApplication parent_instance;

  GSettings *settings;

  /* --preview TEMPLATE [--data ROWS.csv] [--row N] */
  char *preview_path;
  char *data_path;
  int   row;

  /* --review: the review desk instead of the annotation window */
  gboolean review;
};

G_DEFINE_FINAL_TYPE (KpApplication, kp_application, ADW_TYPE_APPLICATION)

static gint64 process_start_monotonic;

void
kp_application_mark_process_start (void)
{
  if (process_start_monotonic == 0)
    process_start_monotonic = g_get_monotonic_time ();
}

/* The kernel records when the process started (field 22 of /proc/self/stat,
 * in clock ticks of CLOCK_BOOTTIME); that includes the dynamic linking and
 * library constructors which run before main(). */
static gboolean
read_process_age_ms (double *age_ms)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) fields = NULL;
  const char *after_comm;
  struct timespec now;
  long ticks_per_second;
  guint64 start_ticks;

  if (!g_file_get_contents ("/proc/self/stat", &contents, NULL, NULL))
    return FALSE;

  /* The command name may contain spaces: count fields after its ')'. */
  after_comm = strrchr (contents, ')');
  if (after_comm == NULL)
    return FALSE;

  /* After ')': field 3 (state) is at index 0, so field 22 is at index 19. */
  fields = g_strsplit (after_comm + 2, " ", 21);
  if (g_strv_length (fields) < 20)
    return FALSE;

  start_ticks = g_ascii_strtoull (fields[19], NULL, 10);
  ticks_per_second = sysconf (_SC_CLK_TCK);
  if (ticks_per_second <= 0 || clock_gettime (CLOCK_BOOTTIME, &now) != 0)
    return FALSE;

  *age_ms = (now.tv_sec * 1000.0 + now.tv_nsec / 1e6) -
            (start_ticks * 1000.0 / ticks_per_second);

  return *age_ms >= 0;
}

double
kp_application_get_uptime_ms (void)
{
  double age_ms;

  if (read_process_age_ms (&age_ms))
    return age_ms;

  kp_application_mark_process_start ();
  return (g_get_monotonic_time () - process_start_monotonic) / 1000.0;
}

static KpWindow *
find_empty_window (KpApplication *self)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
    {
      if (KP_IS_WINDOW (l->data) && kp_window_get_store (l->data) == NULL &&
          !kp_window_get_loading (l->data))
        return l->data;
    }

  return NULL;
}

static void
setup_benchmark_reports (KpWindow *window)
{
  if (g_getenv ("KP_EXIT_AFTER_FIRST_FRAME") != NULL)
    kp_window_report_after_frame (window, "first-frame", TRUE);
  if (g_getenv ("KP_REPORT_INTERACTIVE") != NULL)
    kp_window_report_when_interactive (window);
}

static KpWindow *
create_window (KpApplication *self)
{
  KpWindow *window = kp_window_new (self);

  setup_benchmark_reports (window);

  return window;
}

static void
kp_application_activate (GApplication *app)
{
  KpApplication *self = KP_APPLICATION (app);
  GtkWindow *window;

  if (self->preview_path != NULL)
    {
      g_autoptr(GFile) template_file = g_file_new_for_commandline_arg (self->preview_path);
      g_autoptr(GFile) data_file = self->data_path != NULL ? g_file_new_for_commandline_arg (self->data_path) : NULL;

      window = GTK_WINDOW (kp_preview_window_new (GTK_APPLICATION (self), template_file, data_file,
                                                  self->row - 1));
      g_clear_pointer (&self->preview_path, g_free);
      gtk_window_present (window);
      return;
    }

  if (self->review)
    {
      self->review = FALSE;
      g_action_group_activate_action (G_ACTION_GROUP (self), "review", NULL);
      return;
    }

  window = gtk_application_get_active_window (GTK_APPLICATION (self));
  if (window == NULL)
    window = GTK_WINDOW (create_window (self));

  gtk_window_present (window);
}

/* The worker's window: one per application. */
static KpWorkerWindow *
show_worker_window (KpApplication *self)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
    {
      if (KP_IS_WORKER_WINDOW (l->data))
        {
          gtk_window_present (l->data);
          return l->data;
        }
    }

  {
    KpWorkerWindow *window = kp_worker_window_new (GTK_APPLICATION (self), NULL);

    gtk_window_present (GTK_WINDOW (window));
    return window;
  }
}

static void
kp_application_open (GApplication  *app,
                     GFile        **files,
                     int            n_files,
                     const char    *hint)
{
  KpApplication *self = KP_APPLICATION (app);

  for (int i = 0; i < n_files; i++)
    {
      KpWindow *window;

      /* kempelen://join?… links from a browser or an email. */
      if (g_file_has_uri_scheme (files[i], "kempelen"))
        {
          g_autofree char *uri = g_file_get_uri (files[i]);

          kp_worker_window_open_join_link (show_worker_window (self), uri);
          continue;
        }

      window = find_empty_window (self);

      if (window == NULL)
        window = create_window (self);

      kp_window_open_folder (window, files[i]);
      gtk_window_present (GTK_WINDOW (window));
    }
}

static void
quit_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  KpApplication *self = user_data;
  g_autoptr(GList) windows = NULL;

  /* Closing each window saves its state; edits are already in the store. */
  windows = g_list_copy (gtk_application_get_windows (GTK_APPLICATION (self)));
  for (GList *l = windows; l; l = l->next)
    gtk_window_close (l->data);

  g_application_quit (G_APPLICATION (self));
}

static void
about_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  KpApplication *self = user_data;
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  GtkWidget *about;
  const char *developers[] = { _("The Kempelen contributors"), NULL };

  about = adw_about_window_new ();
  gtk_window_set_transient_for (GTK_WINDOW (about), parent);
  adw_about_window_set_application_name (ADW_ABOUT_WINDOW (about), _("Kempelen"));
  adw_about_window_set_application_icon (ADW_ABOUT_WINDOW (about), APP_ID);
  adw_about_window_set_version (ADW_ABOUT_WINDOW (about), PACKAGE_VERSION);
  adw_about_window_set_developer_name (ADW_ABOUT_WINDOW (about), _("The Kempelen contributors"));
  adw_about_window_set_developers (ADW_ABOUT_WINDOW (about), developers);
  adw_about_window_set_comments (ADW_ABOUT_WINDOW (about),
                                 _("Label images with boxes, offline or for a crowd of workers."));
  adw_about_window_set_website (ADW_ABOUT_WINDOW (about), "https://github.com/kempelen/kempelen");
  adw_about_window_set_license_type (ADW_ABOUT_WINDOW (about), GTK_LICENSE_GPL_3_0);
  adw_about_window_set_translator_credits (ADW_ABOUT_WINDOW (about), _("translator-credits"));

  gtk_window_present (GTK_WINDOW (about));
}

static void
find_work_action (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  show_worker_window (user_data);
}

/* The requester's review desk: one per application. */
static void
review_action (GSimpleAction *action,
               GVariant      *parameter,
               gpointer       user_data)
{
  KpApplication *self = user_data;
  KpReviewWindow *window;

  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
    {
      if (KP_IS_REVIEW_WINDOW (l->data))
        {
          gtk_window_present (l->data);
          return;
        }
    }

  window = kp_review_window_new (GTK_APPLICATION (self));
  gtk_window_present (GTK_WINDOW (window));
}

static const GActionEntry app_actions[] = {
  { "quit", quit_action },
  { "find-work", find_work_action },
  { "review", review_action },
  { "about", about_action },
};

static void
keymap_changed_cb (KpApplication *self)
{
  kp_keymap_apply (GTK_APPLICATION (self), self->settings);
}

static void
kp_application_startup (GApplication *app)
{
  KpApplication *self = KP_APPLICATION (app);

  G_APPLICATION_CLASS (kp_application_parent_class)->startup (app);

  gtk_window_set_default_icon_name (APP_ID);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions,
                                   G_N_ELEMENTS (app_actions), self);

  /* Every key comes from the keymap, which people can change. */
  self->settings = g_settings_new (KP_SETTINGS_SCHEMA_ID);
  kp_keymap_apply (GTK_APPLICATION (self), self->settings);
  g_signal_connect_object (self->settings, "changed::keymap",
                           G_CALLBACK (keymap_changed_cb), self, G_CONNECT_SWAPPED);
}

static void
screenshot_painted_cb (GdkFrameClock *clock,
                       gboolean      *painted)
{
  *painted = TRUE;
}

/* --screenshot: shows the preview, renders it once drawn, and exits;
 * run before the application registers, so no other instance is asked. */
/* Wakes the loop that waits for media, so its deadline is seen. */
static gboolean
screenshot_tick_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static int
save_screenshot (KpApplication *self,
                 const char    *png)
{
  g_autoptr(GFile) template_file = g_file_new_for_commandline_arg (self->preview_path);
  g_autoptr(GFile) data_file = self->data_path != NULL ? g_file_new_for_commandline_arg (self->data_path) : NULL;
  g_autoptr(GError) error = NULL;
  KpPreviewWindow *window;
  GdkFrameClock *clock;
  gboolean painted = FALSE;
  gint64 deadline;
  gulong handler;
  int status = EXIT_SUCCESS;

  if (!g_file_query_exists (template_file, NULL))
    {
      g_printerr ("kempelen: %s: %s\n", self->preview_path, _("No such file"));
      return EXIT_FAILURE;
    }

  if (!gtk_init_check ())
    {
      g_printerr ("kempelen: %s\n", _("Cannot open a display; run under a display server or xvfb-run"));
      return EXIT_FAILURE;
    }
  adw_init ();

  window = kp_preview_window_new (NULL, template_file, data_file, self->row - 1);
  gtk_window_present (GTK_WINDOW (window));

  /* Wait for the first frame: then everything is laid out. */
  clock = gtk_widget_get_frame_clock (GTK_WIDGET (window));
  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  handler = clock != NULL ? g_signal_connect (clock, "after-paint", G_CALLBACK (screenshot_painted_cb), &painted) : 0;
  while (!painted && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  if (clock != NULL)
    g_signal_handler_disconnect (clock, handler);

  /* A long layout is built a slice at a time: finish it, and draw it
   * once more. */
  if (painted)
    {
      kp_layout_view_get_problems (kp_preview_window_get_view (window));
      painted = FALSE;
      g_signal_connect (clock, "after-paint", G_CALLBACK (screenshot_painted_cb), &painted);
      gtk_widget_queue_resize (GTK_WIDGET (window));
      while (!painted && g_get_monotonic_time () < deadline)
        g_main_context_iteration (NULL, TRUE);
      g_signal_handlers_disconnect_by_func (clock, screenshot_painted_cb, &painted);
    }

  /* Remote images show placeholders while they are fetched: wait for
   * them (each fetch has its own timeout), and draw the page again. */
  if (painted && kp_layout_view_is_loading_media (kp_preview_window_get_view (window)))
    {
      guint tick = g_timeout_add (100, screenshot_tick_cb, NULL);

      while (kp_layout_view_is_loading_media (kp_preview_window_get_view (window))
             && g_get_monotonic_time () < deadline)
        g_main_context_iteration (NULL, TRUE);
      g_source_remove (tick);

      if (kp_layout_view_is_loading_media (kp_preview_window_get_view (window)))
        g_printerr ("kempelen: %s\n", _("Some media was still being fetched; placeholders show in its place"));
      else
        {
          painted = FALSE;
          g_signal_connect (clock, "after-paint", G_CALLBACK (screenshot_painted_cb), &painted);
          gtk_widget_queue_resize (GTK_WIDGET (window));
          while (!painted && g_get_monotonic_time () < deadline)
            g_main_context_iteration (NULL, TRUE);
          g_signal_handlers_disconnect_by_func (clock, screenshot_painted_cb, &painted);
        }
    }

  if (!painted)
    {
      g_printerr ("kempelen: %s\n", _("The preview was not drawn in time"));
      status = EXIT_FAILURE;
    }
  else if (!kp_preview_window_save_screenshot (window, png, &error))
    {
      g_printerr ("kempelen: %s\n", error->message);
      status = EXIT_FAILURE;
    }
  else if (kp_layout_view_get_layout (kp_preview_window_get_view (window)) == NULL)
    {
      /* The page was written, but the layout could not be shown at all. */
      GPtrArray *problems = kp_preview_window_get_problems (window);

      for (guint i = 0; i < problems->len; i++)
        g_printerr ("kempelen: %s\n", ((KpLayoutProblem *)g_ptr_array_index (problems, i))->message);
      status = EXIT_FAILURE;
    }

  gtk_window_destroy (GTK_WINDOW (window));
  return status;
}

static int
kp_application_handle_local_options (GApplication *app,
                                     GVariantDict *options)
{
  KpApplication *self = KP_APPLICATION (app);
  const char *png = NULL;

  g_variant_dict_lookup (options, "preview", "^ay", &self->preview_path);
  g_variant_dict_lookup (options, "data", "^ay", &self->data_path);
  g_variant_dict_lookup (options, "screenshot", "^&ay", &png);
  self->row = 1;
  g_variant_dict_lookup (options, "row", "i", &self->row);

  if (g_variant_dict_contains (options, "review"))
    {
      g_autoptr(GError) error = NULL;

      if (self->preview_path != NULL)
        {
          g_printerr ("kempelen: %s\n", _("--review and --preview cannot be used together"));
          return EXIT_FAILURE;
        }
      if (!g_application_register (app, NULL, &error))
        {
          g_printerr ("kempelen: %s\n", error->message);
          return EXIT_FAILURE;
        }
      /* Another instance runs: it opens the desk. */
      if (g_application_get_is_remote (app))
        {
          g_action_group_activate_action (G_ACTION_GROUP (app), "review", NULL);
          return EXIT_SUCCESS;
        }
      self->review = TRUE;
      return -1;
    }

  if (self->preview_path == NULL)
    {
      if (self->data_path != NULL || png != NULL || g_variant_dict_contains (options, "row"))
        {
          g_printerr ("kempelen: %s\n", _("--data, --row and --screenshot need --preview TEMPLATE"));
          return EXIT_FAILURE;
        }
      return -1;
    }

  if (self->row < 1)
    {
      g_printerr ("kempelen: %s\n", _("--row counts from 1"));
      return EXIT_FAILURE;
    }

  if (png != NULL)
    return save_screenshot (self, png);

  /* A preview is its own process, whatever else runs. */
  g_application_set_flags (app, g_application_get_flags (app) | G_APPLICATION_NON_UNIQUE);

  return -1;
}

static void
kp_application_finalize (GObject *object)
{
  KpApplication *self = KP_APPLICATION (object);

  g_free (self->preview_path);
  g_free (self->data_path);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (kp_application_parent_class)->finalize (object);
}

static void
kp_application_constructed (GObject *object)
{
  G_OBJECT_CLASS (kp_application_parent_class)->constructed (object);

  /* Set explicitly, so the .Devel app id finds the same resources. */
  g_application_set_resource_base_path (G_APPLICATION (object), RESOURCE_BASE_PATH);
}

static void
kp_application_class_init (KpApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->constructed = kp_application_constructed;
  object_class->finalize = kp_application_finalize;

  app_class->activate = kp_application_activate;
  app_class->open = kp_application_open;
  app_class->startup = kp_application_startup;
  app_class->handle_local_options = kp_application_handle_local_options;
}

static void
kp_application_init (KpApplication *self)
{
  const GOptionEntry entries[] = {
    { "preview", 0, 0, G_OPTION_ARG_FILENAME, NULL,
      N_("Preview a HIT layout (crowd-html template, HTMLQuestion, QuestionForm or "
         "ExternalQuestion XML) as a worker sees it"), N_("TEMPLATE") },
    { "data", 0, 0, G_OPTION_ARG_FILENAME, NULL,
      N_("With --preview: fill ${column} placeholders and Liquid from this CSV batch data"),
      N_("ROWS.csv") },
    { "row", 0, 0, G_OPTION_ARG_INT, NULL,
      N_("With --data: the row to show first, counting from 1 (default 1)"), N_("N") },
    { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, NULL,
      N_("With --preview: render the preview to a PNG file and exit"), N_("PNG") },
    { "review", 0, 0, G_OPTION_ARG_NONE, NULL,
      N_("Open the review desk: a requester's batches, their HITs by disagreement, and "
         "approving, rejecting, bonuses and blocks"), NULL },
    { NULL }
  };

  g_application_add_main_option_entries (G_APPLICATION (self), entries);
  /* Shown by `kempelen --help`. */
  g_application_set_option_context_parameter_string (G_APPLICATION (self), _("[FOLDER…]"));
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Annotate a folder of images with bounding boxes.\n"
                                              "Every edit is saved at once in FOLDER/.kempelen/project.db "
                                              "(or beside FOLDER when it is read-only)."));
  g_application_set_option_context_description (G_APPLICATION (self),
                                                _("Export with “kempelenctl export --project FOLDER "
                                                  "--format coco|voc|yolo --output PATH”."));
}

KpApplication *
kp_application_new (void)
{
  return g_object_new (KP_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_HANDLES_OPEN,
                       NULL);
}
