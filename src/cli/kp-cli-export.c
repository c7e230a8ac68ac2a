/* kp-cli-export.c: kempelenctl export, every shape in every format
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Writes a project's objects as COCO, Pascal VOC, YOLO, PNG label maps or
 * a SageMaker Ground Truth manifest, and says, per kind of shape, what
 * the format could not hold: converted (polylines as COCO boxes) or left
 * out (YOLO has no polylines). Never silent: the lines go to stderr, and
 * to the "cannot_hold" array of --json.
 */

#include "config.h"

#include "kp-cli-export.h"

#include <stdlib.h>

#include <glib/gi18n.h>

#include "kp-media.h"
#include "kp-cli-common.h"

void
kp_cli_print_message (const char *message)
{
  g_printerr ("kempelenctl: %s\n", message);
}

void
kp_cli_print_json (JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (generator, node);
  json_generator_set_pretty (generator, TRUE);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
}

KpStore *
kp_cli_open_project (const char    *folder,
                     GCancellable  *cancellable,
                     gboolean       verbose,
                     GError       **error)
{
  g_autoptr(KpStore) store = NULL;

  /* Check here so the message names what the user typed, and so nothing
   * is created next to a path that is not a project folder. */
  if (!g_file_test (folder, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                   _("The folder “%s” does not exist."), folder);
      return NULL;
    }
  if (!g_file_test (folder, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOTDIR,
                   _("“%s” is not a folder; give the folder that holds the images."), folder);
      return NULL;
    }

  store = kp_store_open (folder, error);
  if (store == NULL)
    return NULL;

  if (verbose)
    g_printerr (_("Project database: %s\n"), kp_store_get_database_path (store));

  if (!kp_store_scan (store, cancellable, error) ||
      !kp_media_ensure_info (store, cancellable, error))
    return NULL;

  return g_steal_pointer (&store);
}

static gboolean
media_is_exported (const KpMedia *media)
{
  return media->status != KP_MEDIA_STATUS_BROKEN &&
         media->status != KP_MEDIA_STATUS_MISSING &&
         media->width > 0 &&
         media->height > 0;
}

static JsonNode *
report_to_json (KpExportFormat        format,
                const char           *output,
                const KpExportReport *report,
                GPtrArray            *left_out)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  kp_cli_json_add_string (builder, "format", kp_export_format_to_string (format));
  kp_cli_json_add_string (builder, "output", output);
  kp_cli_json_add_int (builder, "images", report->n_images);
  kp_cli_json_add_int (builder, "objects", report->n_objects);
  kp_cli_json_add_int (builder, "suggestions_left_out", report->n_pending);

  /* One entry per kind of shape the format could not hold as it is. */
  json_builder_set_member_name (builder, "cannot_hold");
  json_builder_begin_array (builder);
  for (guint shape = 0; shape < KP_N_SHAPES; shape++)
    {
      if (report->converted[shape] > 0)
        {
          json_builder_begin_object (builder);
          kp_cli_json_add_string (builder, "shape", kp_shape_to_string (shape));
          kp_cli_json_add_int (builder, "count", report->converted[shape]);
          kp_cli_json_add_string (builder, "exported_as", kp_export_format_converts_to (format, shape));
          json_builder_end_object (builder);
        }
      if (report->dropped[shape] > 0)
        {
          json_builder_begin_object (builder);
          kp_cli_json_add_string (builder, "shape", kp_shape_to_string (shape));
          kp_cli_json_add_int (builder, "count", report->dropped[shape]);
          json_builder_set_member_name (builder, "exported_as");
          json_builder_add_null_value (builder);
          json_builder_end_object (builder);
        }
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "warnings");
  json_builder_begin_array (builder);
  for (guint i = 0; i < report->warnings->len; i++)
    json_builder_add_string_value (builder, report->warnings->pdata[i]);
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "images_left_out");
  json_builder_begin_array (builder);
  for (guint i = 0; i < left_out->len; i++)
    json_builder_add_string_value (builder, left_out->pdata[i]);
  json_builder_end_array (builder);

  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

int
kp_cli_export_run (int    argc,
                   char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(KpStore) store = NULL;
  g_autoptr(GPtrArray) media_list = NULL;
  g_autoptr(GPtrArray) left_out = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(KpExportReport) report = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *project = NULL;
  g_autofree char *format_name = NULL;
  g_autofree char *output = NULL;
  gboolean include_suggestions = FALSE;
  gboolean json = FALSE;
  gboolean verbose = FALSE;
  gboolean quiet = FALSE;
  KpExportFormat format;
  KpExportFlags flags = KP_EXPORT_FLAGS_NONE;
  const GOptionEntry entries[] = {
    { "project", 'p', 0, G_OPTION_ARG_FILENAME, &project,
      N_("The project: a folder of images"), N_("FOLDER") },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format_name,
      N_("coco (one JSON file), voc (a folder of XML files), yolo (a folder of text files), "
         "labelmap (a folder of PNG label maps) or gt-manifest (a folder with a SageMaker Ground "
         "Truth output.manifest)"),
      N_("FORMAT") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      N_("Where to write: a .json file for coco, a folder for the others"), N_("PATH") },
    { "include-suggestions", 's', 0, G_OPTION_ARG_NONE, &include_suggestions,
      N_("Also export imported suggestions nobody has reviewed yet"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json,
      N_("Print what was exported and what the format could not hold as a JSON object"), NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
      N_("Tell on stderr what is done, and which images are left out and why"), NULL },
    { "quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet,
      N_("Print nothing on success, not even what the format could not hold"), NULL },
    { NULL }
  };

  g_set_prgname ("kempelenctl export");
  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                _("Exports every image with its size and objects: boxes, rotated "
                                  "boxes, polygons, polylines, lines, points and masks. Images that "
                                  "cannot be decoded or have gone missing are left out. Every file "
                                  "is written completely or not at all."));
  g_option_context_set_description (context,
                                    _("What each format holds:\n"
                                      "  coco         everything but polylines and lines (exported as "
                                      "their bounding boxes); masks as RLE, points as keypoints, rotated "
                                      "boxes as corners with a rotation attribute\n"
                                      "  voc          boxes and rotated boxes (robndbox); the rest as "
                                      "bounding boxes\n"
                                      "  yolo         boxes and polygons (YOLO-seg); rotated boxes as "
                                      "polygons; no masks, lines, polylines or points\n"
                                      "  labelmap     masks, boxes, rotated boxes and polygons as "
                                      "pixels, one class a pixel; no lines or points\n"
                                      "  gt-manifest  boxes exactly; masks, rotated boxes and polygons "
                                      "as a semantic-segmentation label map; no lines or points\n"
                                      "What a format cannot hold is counted per kind of shape on "
                                      "stderr (and in --json), never left out silently.\n"
                                      "Exit status: 0 when exported, 1 on failure, 2 for usage errors."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);

  if (!g_option_context_parse (context, &argc, &argv, &error))
    return kp_cli_usage_error ("%s", error->message);
  if (argc > 1)
    return kp_cli_usage_error (_("Unexpected argument “%s”"), argv[1]);

  if (project == NULL)
    return kp_cli_usage_error (_("Which project? Give it with --project FOLDER"));
  if (format_name == NULL)
    return kp_cli_usage_error (_("Which format? Give it with --format coco, voc, yolo, labelmap or gt-manifest"));
  if (!kp_export_format_from_string (format_name, &format))
    return kp_cli_usage_error (_("Unknown format “%s”; use coco, voc, yolo, labelmap or gt-manifest"),
                               format_name);
  if (output == NULL)
    return kp_cli_usage_error (_("Where to? Give it with --output PATH"));
  if (include_suggestions)
    flags |= KP_EXPORT_FLAGS_INCLUDE_PENDING;

  store = kp_cli_open_project (project, NULL, verbose, &error);
  if (store == NULL)
    return kp_cli_fail (error);

  media_list = kp_store_list_media (store, &error);
  if (media_list == NULL)
    return kp_cli_fail (error);

  for (guint i = 0; i < media_list->len; i++)
    {
      const KpMedia *media = g_ptr_array_index (media_list, i);
      g_autofree char *message = NULL;

      if (media_is_exported (media) || !kp_media_path_is_image (media->path))
        continue;

      message = g_strdup_printf (_("Leaving out %s: %s"), media->path,
                                 media->status == KP_MEDIA_STATUS_MISSING ? _("the file is missing") :
                                 media->error != NULL ? media->error : _("its size is unknown"));
      /* Damaged images are bad input the user should hear about even
       * without --verbose; missing ones are expected. */
      if (verbose || (media->status == KP_MEDIA_STATUS_BROKEN && !quiet && !json))
        kp_cli_print_message (message);
      g_ptr_array_add (left_out, g_strdup (media->path));
    }

  report = kp_export_full (store, format, output, flags, NULL, &error);
  if (report == NULL)
    return kp_cli_fail (error);

  if (json)
    {
      g_autoptr(JsonNode) node = report_to_json (format, output, report, left_out);

      kp_cli_print_json (node);
      return EXIT_SUCCESS;
    }

  if (quiet)
    return EXIT_SUCCESS;

  /* What the format could not hold, and unreviewed suggestions left out. */
  for (guint i = 0; i < report->warnings->len; i++)
    kp_cli_print_message (report->warnings->pdata[i]);

  {
    g_autofree char *images = g_strdup_printf (ngettext ("%u image", "%u images", report->n_images),
                                               report->n_images);
    g_autofree char *objects = g_strdup_printf (ngettext ("%u object", "%u objects", report->n_objects),
                                                report->n_objects);

    /* Translators: "Exported 12 images, 34 objects to out.json" */
    g_print (_("Exported %s, %s to %s\n"), images, objects, output);
  }

  return EXIT_SUCCESS;
}
