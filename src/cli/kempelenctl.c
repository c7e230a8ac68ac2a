/* kempelenctl.c: the requester's command line
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Data goes to stdout, diagnostics to stderr as "kempelenctl: <message>".
 * Exit status: 0 on success, 1 when the work failed, 2 for usage errors.
 */

#include "config.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "kp-core.h"
#include "kp-media.h"
#include "kp-cli-admin.h"
#include "kp-cli-batch.h"
#include "kp-cli-common.h"
#include "kp-cli-export.h"
#include "kp-cli-import.h"
#include "kp-cli-layout.h"

typedef struct
{
  const char *name;
  const char *summary;    /* N_() */
  int       (*run) (int    argc,
                    char **argv);
} Command;

static int run_export (int argc, char **argv);
static int run_import (int argc, char **argv);
static int run_status (int argc, char **argv);
static int run_help   (int argc, char **argv);
static int run_admin  (int argc, char **argv);
static int run_layout (int argc, char **argv);
static int run_batch  (int argc, char **argv);

static const Command commands[] = {
  { "export", N_("Export objects as COCO, VOC, YOLO, label maps or a Ground Truth manifest"), run_export },
  { "import", N_("Import pre-annotations as suggestions: COCO, VOC, YOLO, label maps, Ground Truth"),
    run_import },
  { "status", N_("Show how far the annotation of a project is"), run_status },
  { "admin", N_("Create a server’s requesters and workers, add funds"), run_admin },
  { "layout", N_("Check HIT layouts and print their problems"), run_layout },
  { "batch", N_("Create HITs from a CSV file and a layout, follow them, get the results"), run_batch },
  { "help", N_("Show the options of a command"), run_help },
};

/* Reporting */

static const Command *
find_command (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (commands[i].name, name))
      return &commands[i];

  return NULL;
}

/* A GOptionContext for one command. Its usage line reads
 * "kempelenctl COMMAND [OPTION…]". */
static GOptionContext *
new_command_context (const char         *name,
                     const char         *parameters,
                     const char         *summary,
                     const GOptionEntry *entries)
{
  g_autofree char *prgname = g_strdup_printf ("kempelenctl %s", name);
  GOptionContext *context;

  g_set_prgname (prgname);
  context = g_option_context_new (parameters);
  g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);

  return context;
}

static gboolean
parse_command_line (GOptionContext  *context,
                    int             *argc,
                    char          ***argv,
                    int             *status)
{
  g_autoptr(GError) error = NULL;

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      *status = kp_cli_usage_error ("%s", error->message);
      return FALSE;
    }

  if (*argc > 1)
    {
      *status = kp_cli_usage_error (_("Unexpected argument “%s”"), (*argv)[1]);
      return FALSE;
    }

  return TRUE;
}

/* export, import */

static int
run_export (int    argc,
            char **argv)
{
  return kp_cli_export_run (argc, argv);
}

static int
run_import (int    argc,
            char **argv)
{
  return kp_cli_import_run (argc, argv);
}

/* status */

typedef struct
{
  guint images;
  guint todo;
  guint in_progress;
  guint done;
  guint broken;
  guint missing;
  guint labels;
  guint boxes;                  /* every object, whatever its shape ("objects") */
  guint suggestions;            /* unreviewed suggestions among them */
  guint shapes[KP_N_SHAPES];
} Counts;

static void
print_status_json (KpStore       *store,
                   const Counts  *counts,
                   GPtrArray     *media_list)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *name = kp_store_dup_name (store);

  json_builder_begin_object (builder);
  kp_cli_json_add_string (builder, "project", name);
  kp_cli_json_add_string (builder, "folder", kp_store_get_folder (store));
  kp_cli_json_add_string (builder, "database", kp_store_get_database_path (store));

  kp_cli_json_add_int (builder, "images", counts->images);
  kp_cli_json_add_int (builder, "todo", counts->todo);
  kp_cli_json_add_int (builder, "in_progress", counts->in_progress);
  kp_cli_json_add_int (builder, "done", counts->done);
  kp_cli_json_add_int (builder, "broken", counts->broken);
  kp_cli_json_add_int (builder, "missing", counts->missing);
  kp_cli_json_add_int (builder, "labels", counts->labels);
  kp_cli_json_add_int (builder, "boxes", counts->boxes);
  kp_cli_json_add_int (builder, "objects", counts->boxes);
  kp_cli_json_add_int (builder, "suggestions", counts->suggestions);

  json_builder_set_member_name (builder, "shapes");
  json_builder_begin_object (builder);
  for (guint shape = 0; shape < KP_N_SHAPES; shape++)
    {
      kp_cli_json_add_int (builder, kp_shape_to_string (shape), counts->shapes[shape]);
    }
  json_builder_end_object (builder);

  json_builder_set_member_name (builder, "broken_images");
  json_builder_begin_array (builder);
  for (guint i = 0; i < media_list->len; i++)
    {
      const KpMedia *media = g_ptr_array_index (media_list, i);

      if (media->status != KP_MEDIA_STATUS_BROKEN)
        continue;

      json_builder_begin_object (builder);
      kp_cli_json_add_string (builder, "path", media->path);
      kp_cli_json_add_string (builder, "error", media->error != NULL ? media->error : "");
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  kp_cli_print_json (root);
}

static void
print_status_text (KpStore       *store,
                   const Counts  *counts,
                   GPtrArray     *media_list)
{
  g_autofree char *name = kp_store_dup_name (store);

  g_print (_("Project:      %s\n"), name);
  g_print (_("Folder:       %s\n"), kp_store_get_folder (store));
  g_print (_("Images:       %u\n"), counts->images);
  g_print (_("  Done:         %u\n"), counts->done);
  g_print (_("  In progress:  %u\n"), counts->in_progress);
  g_print (_("  To do:        %u\n"), counts->todo);
  g_print (_("  Broken:       %u\n"), counts->broken);
  g_print (_("  Missing:      %u\n"), counts->missing);
  g_print (_("Labels:       %u\n"), counts->labels);
  /* Translators: every annotated object, whatever its shape */
  g_print (_("Objects:      %u\n"), counts->boxes);
  for (guint shape = 0; shape < KP_N_SHAPES; shape++)
    if (counts->shapes[shape] > 0)
      g_print ("  %-13s %u\n", kp_shape_to_string (shape), counts->shapes[shape]);
  g_print (_("Suggestions:  %u (not reviewed yet)\n"), counts->suggestions);

  for (guint i = 0; i < media_list->len; i++)
    {
      const KpMedia *media = g_ptr_array_index (media_list, i);

      if (media->status == KP_MEDIA_STATUS_BROKEN)
        g_print (_("Broken: %s: %s\n"), media->path,
                 media->error != NULL ? media->error : "");
    }
}

static int
run_status (int    argc,
            char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(KpStore) store = NULL;
  g_autoptr(GPtrArray) media_list = NULL;
  g_autoptr(GPtrArray) labels = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *project = NULL;
  gboolean json = FALSE;
  gboolean verbose = FALSE;
  Counts counts = { 0 };
  int status = EXIT_SUCCESS;
  const GOptionEntry entries[] = {
    { "project", 'p', 0, G_OPTION_ARG_FILENAME, &project,
      N_("The project: a folder of images"), N_("FOLDER") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      N_("Print the figures as a JSON object"), NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
      N_("Tell on stderr what is done"), NULL },
    { NULL }
  };

  context = new_command_context ("status", NULL,
                                 _("Counts the images of a project by state (done, in "
                                   "progress, to do, broken, missing), its labels, its "
                                   "objects by shape and the suggestions nobody reviewed. Looks at the folder first, so new and vanished "
                                   "images are counted."),
                                 entries);
  if (!parse_command_line (context, &argc, &argv, &status))
    return status;

  if (project == NULL)
    return kp_cli_usage_error (_("Which project? Give it with --project FOLDER"));

  store = kp_cli_open_project (project, NULL, verbose, &error);
  if (store == NULL)
    return kp_cli_fail (error);

  media_list = kp_store_list_media (store, &error);
  if (media_list == NULL)
    return kp_cli_fail (error);

  labels = kp_store_list_labels (store, &error);
  if (labels == NULL)
    return kp_cli_fail (error);

  counts.images = media_list->len;
  counts.labels = labels->len;

  for (guint i = 0; i < media_list->len; i++)
    {
      const KpMedia *media = g_ptr_array_index (media_list, i);

      counts.boxes += media->n_annotations;
      if (media->n_annotations > 0)
        {
          g_autoptr(GPtrArray) annotations = kp_store_list_annotations (store, media->id, &error);

          if (annotations == NULL)
            return kp_cli_fail (error);
          for (guint j = 0; j < annotations->len; j++)
            {
              const KpAnnotation *a = annotations->pdata[j];

              if ((guint)a->shape < KP_N_SHAPES)
                counts.shapes[a->shape]++;
              counts.suggestions += a->review == KP_REVIEW_PENDING;
            }
        }

      switch (media->status)
        {
        case KP_MEDIA_STATUS_TODO:
          counts.todo++;
          break;
        case KP_MEDIA_STATUS_IN_PROGRESS:
          counts.in_progress++;
          break;
        case KP_MEDIA_STATUS_DONE:
          counts.done++;
          break;
        case KP_MEDIA_STATUS_BROKEN:
          counts.broken++;
          break;
        case KP_MEDIA_STATUS_MISSING:
          counts.missing++;
          break;
        default:
          break;
        }
    }

  if (json)
    print_status_json (store, &counts, media_list);
  else
    print_status_text (store, &counts, media_list);

  return EXIT_SUCCESS;
}

/* admin */

static int
run_admin (int    argc,
           char **argv)
{
  return kp_cli_admin_run (argc, argv);
}

/* layout */

static int
run_layout (int    argc,
            char **argv)
{
  return kp_cli_layout_run (argc, argv);
}

/* batch */

static int
run_batch (int    argc,
           char **argv)
{
  return kp_cli_batch_run (argc, argv);
}

/* help */

static char *
dup_commands_summary (void)
{
  GString *summary = g_string_new (_("Commands:"));

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    g_string_append_printf (summary, "\n  %-8s %s", commands[i].name, _(commands[i].summary));

  g_string_append (summary, "\n\n");
  g_string_append (summary, _("Run “kempelenctl COMMAND --help” to see the options of a command."));

  return g_string_free (summary, FALSE);
}

static int
run_help (int    argc,
          char **argv)
{
  const Command *command;
  char *help_argv[] = { NULL, (char *)"--help", NULL };

  if (argc < 2)
    {
      g_autofree char *summary = dup_commands_summary ();

      g_print ("%s\n", summary);
      return EXIT_SUCCESS;
    }

  if (argc > 2)
    return kp_cli_usage_error (_("Unexpected argument “%s”"), argv[2]);

  command = find_command (argv[1]);
  if (command == NULL || command->run == run_help)
    return kp_cli_usage_error (_("There is no command “%s”. Run “kempelenctl --help” to see the commands."),
                               argv[1]);

  /* The command's own option parser prints its help and exits. */
  help_argv[0] = argv[1];
  return command->run (2, help_argv);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *summary = NULL;
  const Command *command;
  gboolean version = FALSE;
  const GOptionEntry entries[] = {
    { "version", 0, 0, G_OPTION_ARG_NONE, &version, N_("Show the version and exit"), NULL },
    { NULL }
  };

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("kempelenctl");

  summary = dup_commands_summary ();
  context = g_option_context_new (_("COMMAND [OPTION…]"));
  g_option_context_set_summary (context, _("Works with Kempelen projects from scripts."));
  g_option_context_set_description (context, summary);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  /* Stop at the command name; what follows belongs to the command. */
  g_option_context_set_strict_posix (context, TRUE);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return kp_cli_usage_error ("%s", error->message);

  if (version)
    {
      g_print ("kempelenctl %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }

  if (argc < 2)
    return kp_cli_usage_error (_("No command given. Run “kempelenctl --help” to see the commands."));

  command = find_command (argv[1]);
  if (command == NULL)
    return kp_cli_usage_error (_("There is no command “%s”. Run “kempelenctl --help” to see the commands."),
                               argv[1]);

  return command->run (argc - 1, argv + 1);
}
