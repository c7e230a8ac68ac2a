/* fuzz-import.c: libFuzzer target for the COCO, Pascal VOC, YOLO and
 * Ground Truth importers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The first byte of an input picks the format ('c' COCO, 'v' VOC, 'y'
 * YOLO, 'g' Ground Truth manifest; upper case imports with
 * KP_IMPORT_FLAGS_ACCEPT; any other byte picks by its value), the rest is
 * the file:
 *
 * - COCO: the .json file; VOC: one .xml file; Ground Truth: the manifest.
 * - YOLO: NUL-separated files of one folder: first classes.txt (or
 *   data.yaml when it starts with "names:"), then label files named after
 *   the project's images in turn (and two names that match nothing).
 *
 * Everything is imported with kp_import() into one project made at start
 * (six empty image files, one without a known size, two labels with
 * attributes); Ground Truth label maps are "decoded" by a stand-in that
 * makes a small RGB image. Afterwards the report's problems must be UTF-8
 * for people, the store must hold exactly the objects the report counts,
 * and the project is put back as it was: objects and new labels deleted,
 * sizes restored.
 */

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "kp-core.h"

#include "fuzz-common.h"

static const struct {
  const char *path;
  int         width;
  int         height;
} images[] = {
  { "a.jpg", 640, 480 },
  { "photos/b.png", 100, 50 },
  { "photos/2024/c.JPG", 1920, 1080 },
  { "other/a.jpg", 32, 32 },
  { "nosize.png", 0, 0 },
  { "dir with space/\xc3\xa9t\xc3\xa9.jpg", 7, 5 },
};

/* The YOLO label file of each image, as kp_export() names them, then two
 * that match nothing. */
static const char * const yolo_names[] = {
  "a.txt", "photos_b.txt", "photos_2024_c.txt", "other_a.txt", "nosize.txt",
  "dir with space_\xc3\xa9t\xc3\xa9.txt", "b.txt", "zzz.txt",
};

static void make_input_files (void);

static char *tmp_dir;
static char *project_dir;
static char *input_dir;
static KpStore *store;
static gint64 media_ids[G_N_ELEMENTS (images)];
static GArray *initial_labels;   /* gint64 */

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR) || g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_remove (path);
      return;
    }

  dir = g_dir_open (path, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      remove_tree (child);
    }
  g_rmdir (path);
}

static void
cleanup (void)
{
  g_clear_object (&store);
  remove_tree (tmp_dir);
}

static gint64
add_label (const char *name,
           const char *color)
{
  g_autoptr(GError) error = NULL;
  gint64 id = kp_store_add_label (store, name, color, 0, &error);

  g_assert_no_error (error);
  g_array_append_val (initial_labels, id);
  return id;
}

static void
add_attribute (gint64           label,
               const char      *name,
               KpAttributeKind  kind,
               const char      *options)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) split = options != NULL ? g_strsplit (options, ",", -1) : NULL;
  KpAttribute attribute = {
    .label_id = label, .name = (char *)name, .kind = kind, .options = split,
    .min = kind == KP_ATTRIBUTE_NUMBER ? 0 : -G_MAXDOUBLE,
    .max = kind == KP_ATTRIBUTE_NUMBER ? 100 : G_MAXDOUBLE,
  };

  kp_store_add_attribute (store, &attribute, &error);
  g_assert_no_error (error);
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) media = NULL;
  gint64 cat, dog;

  fuzz_init_logging ();

  /* Making files is what an iteration spends most time on, so on a
   * tmpfs when there is one. */
  if (g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR) && g_access ("/dev/shm", W_OK) == 0)
    tmp_dir = g_mkdtemp (g_strdup ("/dev/shm/kp-fuzz-import-XXXXXX"));
  if (tmp_dir == NULL)
    {
      tmp_dir = g_dir_make_tmp ("kp-fuzz-import-XXXXXX", &error);
      g_assert_no_error (error);
    }
  atexit (cleanup);

  project_dir = g_build_filename (tmp_dir, "project", NULL);
  input_dir = g_build_filename (tmp_dir, "input", NULL);
  g_assert (g_mkdir (input_dir, 0700) == 0);
  make_input_files ();
  for (guint i = 0; i < G_N_ELEMENTS (images); i++)
    {
      g_autofree char *path = g_build_filename (project_dir, images[i].path, NULL);
      g_autofree char *dir = g_path_get_dirname (path);

      g_assert (g_mkdir_with_parents (dir, 0700) == 0);
      g_file_set_contents (path, "", 0, &error);
      g_assert_no_error (error);
    }

  store = kp_store_open (project_dir, &error);
  g_assert_no_error (error);
  kp_store_scan (store, NULL, &error);
  g_assert_no_error (error);

  media = kp_store_list_media (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (media->len, ==, G_N_ELEMENTS (images));
  for (guint i = 0; i < G_N_ELEMENTS (images); i++)
    {
      for (guint j = 0; j < media->len; j++)
        if (g_str_equal (((KpMedia *)media->pdata[j])->path, images[i].path))
          media_ids[i] = ((KpMedia *)media->pdata[j])->id;
      g_assert (media_ids[i] != 0);
      kp_store_set_media_info (store, media_ids[i], NULL, images[i].width, images[i].height, &error);
      g_assert_no_error (error);
    }

  initial_labels = g_array_new (FALSE, FALSE, sizeof (gint64));
  cat = add_label ("cat", "#e01b24");
  dog = add_label ("dog", "#3584e4");
  add_attribute (cat, "occluded", KP_ATTRIBUTE_CHECKBOX, NULL);
  add_attribute (cat, "breed", KP_ATTRIBUTE_CHOICE, "tabby,siamese");
  add_attribute (dog, "age", KP_ATTRIBUTE_NUMBER, NULL);
  add_attribute (dog, "name", KP_ATTRIBUTE_TEXT, NULL);

  return 0;
}

/* Stands in for kp_label_map_load_rgb(): a 6 × 4 image of three colours,
 * for any file that exists. */
static guint8 *
load_rgb (const char  *path,
          int         *width,
          int         *height,
          gpointer     user_data,
          GError     **error)
{
  static const guint8 colours[3][3] = { { 0, 0, 0 }, { 255, 0, 0 }, { 0, 255, 0 } };
  guint8 *rgb;

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error_literal (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, "not a file");
      return NULL;
    }

  *width = 6;
  *height = 4;
  rgb = g_new (guint8, 6 * 4 * 3);
  for (guint p = 0; p < 6 * 4; p++)
    memcpy (rgb + 3 * p, colours[(p / 2) % 3], 3);

  return rgb;
}

/* Replaces the contents of a file of the input folder in place: new
 * files cost more than the rest of an iteration. */
static char *
write_input (const char    *name,
             const uint8_t *data,
             size_t         size)
{
  char *path = g_build_filename (input_dir, name, NULL);
  FILE *file = fopen (path, "wb");

  g_assert (file != NULL);
  g_assert (size == 0 || fwrite (data, 1, size, file) == size);
  g_assert (fclose (file) == 0);

  return path;
}

/* Two YOLO folders, one with classes.txt and one with data.yaml, each
 * with a label file per name of yolo_names. */
static void
make_input_files (void)
{
  const char * const folders[] = { "yolo", "yolo-yaml" };

  for (guint i = 0; i < G_N_ELEMENTS (folders); i++)
    {
      g_autofree char *folder = g_build_filename (input_dir, folders[i], NULL);

      g_assert (g_mkdir (folder, 0700) == 0);
      g_free (write_input (i == 0 ? "yolo/classes.txt" : "yolo-yaml/data.yaml", NULL, 0));
      for (guint j = 0; j < G_N_ELEMENTS (yolo_names); j++)
        {
          g_autofree char *name = g_build_filename (folders[i], yolo_names[j], NULL);

          g_free (write_input (name, NULL, 0));
        }
    }

  /* A label map for Ground Truth manifests to name. */
  g_free (write_input ("map.png", NULL, 0));
}

/* classes.txt (or data.yaml), then a label file per name of yolo_names,
 * NUL-separated; files not in the input are left empty. */
static char *
write_yolo (const uint8_t *data,
            size_t         size)
{
  gboolean yaml = size >= 6 && memcmp (data, "names:", 6) == 0;
  const char *folder = yaml ? "yolo-yaml" : "yolo";
  const uint8_t *p = data;
  const uint8_t *end = data + size;

  for (guint i = 0; i <= G_N_ELEMENTS (yolo_names); i++)
    {
      const uint8_t *nul = p != NULL ? memchr (p, '\0', end - p) : NULL;
      size_t len = p == NULL ? 0 : nul != NULL ? (size_t)(nul - p) : (size_t)(end - p);
      g_autofree char *name = g_build_filename (folder,
                                                i == 0 ? (yaml ? "data.yaml" : "classes.txt")
                                                       : yolo_names[i - 1],
                                                NULL);

      g_free (write_input (name, p, len));
      p = nul != NULL ? nul + 1 : NULL;
    }

  return g_build_filename (input_dir, folder, NULL);
}

/* Puts the project back as LLVMFuzzerInitialize() left it; returns the
 * number of objects that were there. */
static guint
reset_project (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) labels = NULL;
  g_autoptr(GPtrArray) media = NULL;
  guint n_objects = 0;

  for (guint i = 0; i < G_N_ELEMENTS (media_ids); i++)
    {
      g_autoptr(GPtrArray) annotations = kp_store_list_annotations (store, media_ids[i], &error);

      g_assert_no_error (error);
      n_objects += annotations->len;
      for (guint j = 0; j < annotations->len; j++)
        {
          const KpAnnotation *a = annotations->pdata[j];

          g_assert (a->media_id == media_ids[i]);
          kp_store_delete_annotation (store, a->id, &error);
          g_assert_no_error (error);
        }
    }

  labels = kp_store_list_labels (store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < labels->len; i++)
    {
      const KpLabel *label = labels->pdata[i];
      gboolean initial = FALSE;

      g_assert (label->name != NULL && g_utf8_validate (label->name, -1, NULL));
      for (guint j = 0; j < initial_labels->len; j++)
        initial |= g_array_index (initial_labels, gint64, j) == label->id;
      if (!initial)
        {
          kp_store_delete_label (store, label->id, &error);
          g_assert_no_error (error);
        }
    }

  media = kp_store_list_media (store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < media->len; i++)
    {
      const KpMedia *m = media->pdata[i];

      for (guint j = 0; j < G_N_ELEMENTS (images); j++)
        if (m->id == media_ids[j] && (m->width != images[j].width || m->height != images[j].height))
          {
            kp_store_set_media_info (store, m->id, NULL, images[j].width, images[j].height, &error);
            g_assert_no_error (error);
          }
    }

  return n_objects;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(KpImportReport) report = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *input = NULL;
  KpImportFormat format;
  KpImportFlags flags = KP_IMPORT_FLAGS_NONE;
  guint n_objects;

  if (size < 1 || size > 256 * 1024)
    return 0;

  switch (data[0])
    {
    case 'C': flags = KP_IMPORT_FLAGS_ACCEPT; G_GNUC_FALLTHROUGH;
    case 'c': format = KP_IMPORT_FORMAT_COCO; break;
    case 'V': flags = KP_IMPORT_FLAGS_ACCEPT; G_GNUC_FALLTHROUGH;
    case 'v': format = KP_IMPORT_FORMAT_VOC; break;
    case 'Y': flags = KP_IMPORT_FLAGS_ACCEPT; G_GNUC_FALLTHROUGH;
    case 'y': format = KP_IMPORT_FORMAT_YOLO; break;
    case 'G': flags = KP_IMPORT_FLAGS_ACCEPT; G_GNUC_FALLTHROUGH;
    case 'g': format = KP_IMPORT_FORMAT_GROUND_TRUTH; break;
    default: format = (KpImportFormat)(data[0] % 4); break;
    }

  switch (format)
    {
    case KP_IMPORT_FORMAT_COCO:
      input = write_input ("instances.json", data + 1, size - 1);
      break;
    case KP_IMPORT_FORMAT_VOC:
      input = write_input ("a.xml", data + 1, size - 1);
      break;
    case KP_IMPORT_FORMAT_YOLO:
      input = write_yolo (data + 1, size - 1);
      break;
    case KP_IMPORT_FORMAT_GROUND_TRUTH:
      input = write_input ("output.manifest", data + 1, size - 1);
      break;
    default:
      g_assert_not_reached ();
    }

  report = kp_import (store, format, input, flags, load_rgb, NULL, NULL, &error);
  if (report == NULL)
    {
      fuzz_assert_error (error);
      g_assert (error->domain == KP_IMPORT_ERROR);
    }
  else
    {
      for (guint i = 0; i < report->problems->len; i++)
        {
          const char *problem = g_ptr_array_index (report->problems, i);

          g_assert (problem != NULL && problem[0] != '\0');
          if (!g_utf8_validate (problem, -1, NULL))
            g_error ("A problem of the import report is not UTF-8: %s", problem);
        }
      g_assert_cmpuint (report->n_images, <=, G_N_ELEMENTS (images));
    }

  n_objects = reset_project ();
  if (report != NULL)
    g_assert_cmpuint (n_objects, ==, report->n_objects);

  return 0;
}
