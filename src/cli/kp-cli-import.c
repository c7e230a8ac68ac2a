/* kp-cli-import.c: kempelenctl import, pre-annotations as suggestions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Reads COCO, Pascal VOC, YOLO, PNG label maps or a SageMaker Ground
 * Truth manifest into a project, each object a suggestion (review
 * pending) with its confidence, through KpDocument: each image gets its
 * objects as one undo step, as if someone had pasted them. Prints what
 * each image received (stdout) and what was skipped and why (stderr), or
 * all of it as one JSON object with --json.
 */

#include "config.h"

#include "kp-cli-import.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "kp-core.h"
#include "kp-media.h"
#include "kp-label-map.h"
#include "kp-cli-common.h"
#include "kp-cli-export.h"

static gboolean
parse_confidence (const char *text,
                  double     *value)
{
  char *end = NULL;

  *value = g_ascii_strtod (text, &end);

  return end != text && *end == '\0' && isfinite (*value) && *value >= 0 && *value <= 1;
}

static JsonNode *
report_to_json (KpImportFormat        format,
                const char           *input,
                gboolean              dry_run,
                const KpImportReport *report)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "dry_run");
  json_builder_add_boolean_value (builder, dry_run);
  kp_cli_json_add_string (builder, "format", kp_import_format_to_string (format));
  kp_cli_json_add_string (builder, "input", input);

  kp_cli_json_add_int (builder, "imported", report->n_objects);
  kp_cli_json_add_int (builder, "images_with_new_objects", report->n_images);
  kp_cli_json_add_int (builder, "labels_created", report->n_labels_created);
  kp_cli_json_add_int (builder, "duplicates", report->n_duplicates);
  kp_cli_json_add_int (builder, "below_confidence", report->n_below_confidence);
  kp_cli_json_add_int (builder, "replaced", report->n_replaced);
  kp_cli_json_add_int (builder, "skipped", report->problems->len);

  json_builder_set_member_name (builder, "images");
  json_builder_begin_array (builder);
  for (guint i = 0; i < report->images->len; i++)
    {
      const KpImportImageReport *image = report->images->pdata[i];

      json_builder_begin_object (builder);
      kp_cli_json_add_string (builder, "path", image->path);
      kp_cli_json_add_int (builder, "imported", image->n_objects);
      kp_cli_json_add_int (builder, "duplicates", image->n_duplicates);
      kp_cli_json_add_int (builder, "below_confidence", image->n_below_confidence);
      kp_cli_json_add_int (builder, "replaced", image->n_replaced);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  /* Each "where: why", where being FILE:LINE or FILE: $.json.path. */
  json_builder_set_member_name (builder, "problems");
  json_builder_begin_array (builder);
  for (guint i = 0; i < report->problems->len; i++)
    json_builder_add_string_value (builder, report->problems->pdata[i]);
  json_builder_end_array (builder);

  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static void
print_report (const KpImportReport *report,
              const char           *input,
              double                min_confidence,
              gboolean              dry_run,
              gboolean              quiet)
{
  GString *totals;

  for (guint i = 0; i < report->problems->len; i++)
    {
      /* Translators: a part of the input that was not imported, and why */
      g_autofree char *message = g_strdup_printf (_("Skipped %s"), (char *)report->problems->pdata[i]);

      kp_cli_print_message (message);
    }

  if (quiet)
    return;

  for (guint i = 0; i < report->images->len; i++)
    {
      const KpImportImageReport *image = report->images->pdata[i];
      GString *line = g_string_new (NULL);

      if (dry_run)
        /* Translators: "img/a.png: 4 to import", with --dry-run */
        g_string_append_printf (line, ngettext ("%s: %u to import", "%s: %u to import", image->n_objects),
                                image->path, image->n_objects);
      else
        /* Translators: "img/a.png: 4 imported" */
        g_string_append_printf (line, ngettext ("%s: %u imported", "%s: %u imported", image->n_objects),
                                image->path, image->n_objects);
      if (image->n_duplicates > 0)
        g_string_append_printf (line, ngettext (", %u already there", ", %u already there",
                                                image->n_duplicates), image->n_duplicates);
      if (image->n_below_confidence > 0)
        g_string_append_printf (line, ngettext (", %u below the minimum confidence",
                                                ", %u below the minimum confidence",
                                                image->n_below_confidence), image->n_below_confidence);
      if (image->n_replaced > 0)
        g_string_append_printf (line, ngettext (", %u old suggestion removed",
                                                ", %u old suggestions removed", image->n_replaced),
                                image->n_replaced);
      g_print ("%s\n", line->str);
      g_string_free (line, TRUE);
    }

  totals = g_string_new (NULL);
  if (dry_run)
    /* Translators: "Would import 12 objects into 3 images from coco.json" */
    g_string_append_printf (totals, ngettext ("Would import %u object", "Would import %u objects",
                                              report->n_objects), report->n_objects);
  else
    /* Translators: "Imported 12 objects into 3 images from coco.json" */
    g_string_append_printf (totals, ngettext ("Imported %u object", "Imported %u objects", report->n_objects),
                            report->n_objects);
  g_string_append_printf (totals, ngettext (" into %u image", " into %u images", report->n_images),
                          report->n_images);
  g_string_append_printf (totals, _(" from %s"), input);
  if (report->n_labels_created > 0)
    g_string_append_printf (totals, ngettext (", %u new label", ", %u new labels", report->n_labels_created),
                            report->n_labels_created);
  if (report->n_duplicates > 0)
    g_string_append_printf (totals, ngettext (", %u already there", ", %u already there",
                                              report->n_duplicates), report->n_duplicates);
  if (report->n_below_confidence > 0)
    g_string_append_printf (totals, ngettext (", %u below confidence %g", ", %u below confidence %g",
                                              report->n_below_confidence),
                            report->n_below_confidence, min_confidence);
  if (report->n_replaced > 0)
    g_string_append_printf (totals, ngettext (", %u old suggestion removed", ", %u old suggestions removed",
                                              report->n_replaced), report->n_replaced);
  if (report->problems->len > 0)
    g_string_append_printf (totals, ngettext (", %u skipped (see above)", ", %u skipped (see above)",
                                              report->problems->len), report->problems->len);
  g_print ("%s\n", totals->str);
  g_string_free (totals, TRUE);

  if (dry_run)
    g_print ("%s\n", _("Nothing was changed (--dry-run)."));
}

int
kp_cli_import_run (int    argc,
                   char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(KpStore) store = NULL;
  g_autoptr(KpImportReport) report = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *project = NULL;
  g_autofree char *format_name = NULL;
  g_autofree char *class_names = NULL;
  g_autofree char *min_confidence_text = NULL;
  gboolean replace = FALSE;
  gboolean allow_duplicates = FALSE;
  gboolean accept = FALSE;
  gboolean dry_run = FALSE;
  gboolean json = FALSE;
  gboolean verbose = FALSE;
  gboolean quiet = FALSE;
  KpImportFormat format;
  KpImportOptions options = { 0 };
  const char *input;
  const GOptionEntry entries[] = {
    { "project", 'p', 0, G_OPTION_ARG_FILENAME, &project,
      N_("The project: a folder of images"), N_("FOLDER") },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format_name,
      N_("coco, voc, yolo, labelmap or gt-manifest"), N_("FORMAT") },
    { "labels-from-file", 'l', 0, G_OPTION_ARG_FILENAME, &class_names,
      N_("yolo and labelmap: the class names, one a line (line N, from 0, is class N) or as "
         "“N name” lines, instead of the input’s classes.txt or data.yaml"), N_("FILE") },
    { "min-confidence", 'm', 0, G_OPTION_ARG_STRING, &min_confidence_text,
      N_("Leave out objects whose confidence is below X (0 to 1); objects without one count as 1"),
      N_("X") },
    { "replace", 0, 0, G_OPTION_ARG_NONE, &replace,
      N_("First remove the unreviewed suggestions an earlier import of the same file left on the "
         "images it names; objects people drew, accepted or changed stay"), NULL },
    { "allow-duplicates", 0, 0, G_OPTION_ARG_NONE, &allow_duplicates,
      N_("Import objects an image already has from the same file (by default they are counted as "
         "already there and left out)"), NULL },
    { "accept", 0, 0, G_OPTION_ARG_NONE, &accept,
      N_("Import as reviewed objects rather than suggestions, e.g. to convert a data set"), NULL },
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
      N_("Read and match everything and report what would be imported, but change nothing"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      N_("Print the report as a JSON object"), NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
      N_("Tell on stderr what is done"), NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet,
      N_("Print only what was skipped"), NULL },
    { NULL }
  };

  g_set_prgname ("kempelenctl import");
  context = g_option_context_new (_("INPUT"));
  g_option_context_set_summary (context,
                                _("Imports pre-annotations as suggestions with their confidence, for "
                                  "people to accept or reject in the workstation. Objects are matched "
                                  "to the project’s images by path, then by the end of the path, then "
                                  "by file name; labels by name, made when missing. Each image gets its "
                                  "objects as one step that Undo takes back."));
  g_option_context_set_description (context,
                                    _("INPUT for each format:\n"
                                      "  coco         a COCO .json file: boxes, polygons, RLE masks, "
                                      "keypoints, rotated boxes (CVAT’s rotation), “score”\n"
                                      "  voc          a folder of Pascal VOC .xml files, or one: "
                                      "bndbox, robndbox, “score”\n"
                                      "  yolo         a folder with classes.txt (or data.yaml names, or "
                                      "--labels-from-file) and labels/*.txt: boxes, a sixth column as "
                                      "confidence, YOLO-seg polygons; the images must have a known size\n"
                                      "  labelmap     a folder with classes.txt and NAME.png label maps: "
                                      "one mask per class\n"
                                      "  gt-manifest  a SageMaker Ground Truth output manifest: "
                                      "object-detection boxes with confidence, semantic-segmentation "
                                      "label maps (next to the manifest)\n"
                                      "Importing the same input again adds nothing already there.\n"
                                      "Exit status: 0 when everything was imported, 3 when some parts "
                                      "were skipped (each listed on stderr with file and line or JSON "
                                      "path), 1 when the input could not be read, 2 for usage errors."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return kp_cli_usage_error ("%s", error->message);

  if (project == NULL)
    return kp_cli_usage_error (_("Which project? Give it with --project FOLDER"));
  if (format_name == NULL)
    return kp_cli_usage_error (_("Which format? Give it with --format coco, voc, yolo, labelmap or gt-manifest"));
  if (!kp_import_format_from_string (format_name, &format))
    return kp_cli_usage_error (_("Unknown format “%s”; use coco, voc, yolo, labelmap or gt-manifest"),
                               format_name);
  if (argc < 2)
    return kp_cli_usage_error (_("What to import? Give the file or folder after the options"));
  if (argc > 2)
    return kp_cli_usage_error (_("Unexpected argument “%s”; import one file or folder at a time"), argv[2]);
  input = argv[1];

  if (class_names != NULL && format != KP_IMPORT_FORMAT_YOLO && format != KP_IMPORT_FORMAT_LABEL_MAP)
    return kp_cli_usage_error (_("--labels-from-file is for yolo and labelmap, whose files hold class "
                                 "numbers; %s files name their classes"),
                               kp_import_format_to_string (format));
  if (min_confidence_text != NULL && !parse_confidence (min_confidence_text, &options.min_confidence))
    return kp_cli_usage_error (_("--min-confidence needs a number from 0 to 1, not “%s”"), min_confidence_text);
  if (class_names != NULL && !g_file_test (class_names, G_FILE_TEST_IS_REGULAR))
    return kp_cli_failure (_("Could not read “%s”: there is no such file."), class_names);
  if (!g_file_test (input, G_FILE_TEST_EXISTS))
    return kp_cli_failure (_("Could not read “%s”: there is no such file or folder."), input);

  if (replace)
    options.flags |= KP_IMPORT_FLAGS_REPLACE;
  if (allow_duplicates)
    options.flags |= KP_IMPORT_FLAGS_ALLOW_DUPLICATES;
  if (accept)
    options.flags |= KP_IMPORT_FLAGS_ACCEPT;
  if (dry_run)
    options.flags |= KP_IMPORT_FLAGS_DRY_RUN;
  options.class_names_file = class_names;
  options.load_rgb = kp_label_map_load_rgb;

  store = kp_cli_open_project (project, NULL, verbose, &error);
  if (store == NULL)
    return kp_cli_fail (error);

  report = kp_import_full (store, format, input, &options, NULL, &error);
  if (report == NULL)
    return kp_cli_fail (error);

  if (json)
    {
      g_autoptr(JsonNode) node = report_to_json (format, input, dry_run, report);

      kp_cli_print_json (node);
    }
  else
    print_report (report, input, options.min_confidence, dry_run, quiet);

  return report->problems->len > 0 ? KP_CLI_EXIT_PARTIAL : EXIT_SUCCESS;
}
