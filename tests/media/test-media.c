/* test-media.c: image probing, decoding, corruption detection, thumbnails
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "kp-image-pyramid.h"
#include "kp-media.h"
#include "../kp-test-privileges.h"

/* Checks error first, so a failure shows its message. */
#define assert_ok(expr) \
  G_STMT_START { \
    gboolean ok_ = (expr); \
    g_assert_no_error (error); \
    g_assert_true (ok_); \
  } G_STMT_END

/* Fixtures, made by the test itself */

static GdkPixbuf *
make_gradient (int width,
               int height)
{
  GdkPixbuf *pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  guint8 *pixels = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *p = pixels + y * stride + x * 3;

        p[0] = (guint8)(x * 255 / MAX (1, width - 1));
        p[1] = (guint8)(y * 255 / MAX (1, height - 1));
        p[2] = (guint8)(((x / 16) + (y / 16)) % 2 ? 200 : 40);
      }

  return pixbuf;
}

static char *
make_dir (void)
{
  char *dir = g_build_filename (g_get_user_data_dir (), "images", NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  return dir;
}

static char *
write_image (const char *dir,
             const char *name,
             const char *type,
             int         width,
             int         height)
{
  g_autoptr(GdkPixbuf) pixbuf = make_gradient (width, height);
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (dir, name, NULL);

  if (g_str_equal (type, "jpeg"))
    gdk_pixbuf_save (pixbuf, path, type, &error, "quality", "90", NULL);
  else
    gdk_pixbuf_save (pixbuf, path, type, &error, NULL);
  g_assert_no_error (error);

  return path;
}

/* Writes the first half of src to a new file. */
static char *
write_truncated (const char *src,
                 const char *dir,
                 const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL;
  char *path = g_build_filename (dir, name, NULL);
  gsize len;

  g_file_get_contents (src, &data, &len, &error);
  g_assert_no_error (error);
  g_file_set_contents (path, data, len / 2, &error);
  g_assert_no_error (error);

  return path;
}

/* Flips 256 bytes in the middle of src, keeping the length. */
static char *
write_damaged (const char *src,
               const char *dir,
               const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL;
  char *path = g_build_filename (dir, name, NULL);
  gsize len;

  g_file_get_contents (src, &data, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (len, >, 1024);
  for (gsize i = len / 3; i < len / 3 + 256; i++)
    data[i] ^= 0x5A;
  g_file_set_contents (path, data, len, &error);
  g_assert_no_error (error);

  return path;
}

static char *
write_text (const char *dir,
            const char *name,
            const char *text)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (dir, name, NULL);

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);

  return path;
}

static void
assert_message_names (const GError *error,
                      const char   *name)
{
  g_autofree char *quoted = g_strdup_printf ("“%s”", name);

  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, quoted));
}

/* Probe */

static void
test_probe_png (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *path = write_image (dir, "cat.png", "png", 64, 48);
  g_autoptr(GError) error = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *data = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *expected_hash = NULL;
  gsize len;
  int width = 0;
  int height = 0;

  assert_ok (kp_image_probe (path, &width, &height, &hash, NULL, &error));
  g_assert_cmpint (width, ==, 64);
  g_assert_cmpint (height, ==, 48);

  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  expected = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guint8 *)data, len);
  expected_hash = g_strconcat ("sha256:", expected, NULL);
  g_assert_cmpstr (hash, ==, expected_hash);
}

static void
test_probe_large_jpeg (void)
{
  g_autofree char *dir = make_dir ();
  /* Bigger than one read chunk, so hashing spans several reads. */
  g_autofree char *path = write_image (dir, "big.jpg", "jpeg", 2000, 1500);
  g_autoptr(GError) error = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *data = NULL;
  g_autofree char *expected = NULL;
  gsize len;
  int width = 0;
  int height = 0;

  g_file_get_contents (path, &data, &len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (len, >, 64 * 1024);

  assert_ok (kp_image_probe (path, &width, &height, &hash, NULL, &error));
  g_assert_cmpint (width, ==, 2000);
  g_assert_cmpint (height, ==, 1500);

  expected = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guint8 *)data, len);
  g_assert_true (g_str_has_prefix (hash, "sha256:"));
  g_assert_cmpstr (hash + strlen ("sha256:"), ==, expected);
}

static void
test_probe_not_images (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *empty = write_text (dir, "empty.png", "");
  g_autofree char *text = write_text (dir, "cat.jpg", "This is a text file, not a cat.\n");
  g_autoptr(GError) error = NULL;
  g_autofree char *hash = NULL;
  int width = -1;

  g_assert_false (kp_image_probe (empty, &width, NULL, &hash, NULL, &error));
  g_assert_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_NOT_AN_IMAGE);
  assert_message_names (error, "empty.png");
  g_assert_null (hash);
  g_assert_cmpint (width, ==, -1);
  g_clear_error (&error);

  g_assert_false (kp_image_probe (text, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_NOT_AN_IMAGE);
  g_assert_cmpstr (error->message, ==, "“cat.jpg” is not an image the workstation can open");
  g_clear_error (&error);

  g_assert_false (kp_image_probe (dir, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_NOT_AN_IMAGE);
}

static void
test_probe_missing (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *path = g_build_filename (dir, "gone.png", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_false (kp_image_probe (path, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_UNREADABLE);
  assert_message_names (error, "gone.png");
}

/* As root too: the check runs in a child without the capabilities that
 * let root read anything. */
static void
test_probe_unreadable (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;

  if (!kp_test_run_without_dac ())
    return;

  dir = make_dir ();
  path = write_image (dir, "secret.png", "png", 16, 16);
  g_assert_cmpint (g_chmod (path, 0), ==, 0);
  g_assert_cmpint (g_access (path, R_OK), !=, 0);

  g_assert_false (kp_image_probe (path, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_UNREADABLE);
  assert_message_names (error, "secret.png");
  g_clear_error (&error);

  pixbuf = kp_image_load (path, NULL, &error);
  g_assert_null (pixbuf);
  g_assert_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_UNREADABLE);
}

static void
test_probe_cancelled (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *path = write_image (dir, "a.png", "png", 16, 16);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;

  g_cancellable_cancel (cancellable);
  g_assert_false (kp_image_probe (path, NULL, NULL, NULL, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* Load */

static void
assert_pixel_near (GdkPixbuf *pixbuf,
                   int        x,
                   int        y,
                   int        r,
                   int        g,
                   int        b,
                   int        tolerance)
{
  int n_channels = gdk_pixbuf_get_n_channels (pixbuf);
  const guint8 *p = gdk_pixbuf_read_pixels (pixbuf) +
                    y * gdk_pixbuf_get_rowstride (pixbuf) + x * n_channels;

  g_assert_cmpint (ABS (p[0] - r), <=, tolerance);
  g_assert_cmpint (ABS (p[1] - g), <=, tolerance);
  g_assert_cmpint (ABS (p[2] - b), <=, tolerance);
}

static void
test_load_good (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *png = write_image (dir, "a.png", "png", 100, 60);
  g_autofree char *jpeg = write_image (dir, "a.jpg", "jpeg", 100, 60);
  g_autoptr(GdkPixbuf) reference = make_gradient (100, 60);
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GError) error = NULL;

  pixbuf = kp_image_load (png, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, 100);
  g_assert_cmpint (gdk_pixbuf_get_height (pixbuf), ==, 60);
  /* Lossless: exactly the pixels we wrote, including the last row. */
  assert_pixel_near (pixbuf, 0, 0, 0, 0, 40, 0);
  assert_pixel_near (pixbuf, 99, 59, 255, 255, 200, 0);
  assert_pixel_near (pixbuf, 20, 5, 51, 21, 200, 0);
  g_clear_object (&pixbuf);

  pixbuf = kp_image_load (jpeg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, 100);
  g_assert_cmpint (gdk_pixbuf_get_height (pixbuf), ==, 60);
  /* JPEG is lossy, but the bottom rows must be the picture, not grey. */
  assert_pixel_near (pixbuf, 8, 56, 20, 242, 200, 40);
}

static void
test_load_truncated_jpeg (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *good = write_image (dir, "photo.jpg", "jpeg", 640, 480);
  g_autofree char *cut = write_truncated (good, dir, "cut.jpg");
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GError) error = NULL;

  /* gdk-pixbuf's JPEG loader itself accepts this file and fills the
   * missing half with grey: make sure the fixture is that kind of file. */
  {
    g_autoptr(GdkPixbufLoader) loader = gdk_pixbuf_loader_new_with_type ("jpeg", NULL);
    g_autofree char *data = NULL;
    gsize len;

    g_file_get_contents (cut, &data, &len, &error);
    g_assert_no_error (error);
    if (!gdk_pixbuf_loader_write (loader, (const guint8 *)data, len, NULL) ||
        !gdk_pixbuf_loader_close (loader, NULL))
      g_test_message ("This gdk-pixbuf rejects the truncated JPEG by itself");
    else
      g_assert_nonnull (gdk_pixbuf_loader_get_pixbuf (loader));
  }

  pixbuf = kp_image_load (cut, NULL, &error);
  g_assert_null (pixbuf);
  g_assert_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_CORRUPT);
  assert_message_names (error, "cut.jpg");
  g_clear_error (&error);

  /* Probing looks at the end of the file too. */
  g_assert_false (kp_image_probe (cut, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_CORRUPT);
  g_clear_error (&error);

  /* The untouched original still loads. */
  pixbuf = kp_image_load (good, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (pixbuf);
}

static void
test_load_truncated_png (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *good = write_image (dir, "chart.png", "png", 640, 480);
  g_autofree char *cut = write_truncated (good, dir, "cut.png");
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GError) error = NULL;

  pixbuf = kp_image_load (cut, NULL, &error);
  g_assert_null (pixbuf);
  g_assert_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_CORRUPT);
  assert_message_names (error, "cut.png");
  g_clear_error (&error);

  g_assert_false (kp_image_probe (cut, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_CORRUPT);
  assert_message_names (error, "cut.png");
}

static void
test_load_damaged (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *jpeg = write_image (dir, "photo.jpg", "jpeg", 640, 480);
  g_autofree char *png = write_image (dir, "chart.png", "png", 640, 480);
  g_autofree char *bad_jpeg = write_damaged (jpeg, dir, "bad.jpg");
  g_autofree char *bad_png = write_damaged (png, dir, "bad.png");
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GError) error = NULL;

  pixbuf = kp_image_load (bad_jpeg, NULL, &error);
  g_assert_null (pixbuf);
  g_assert_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_CORRUPT);
  g_clear_error (&error);

  pixbuf = kp_image_load (bad_png, NULL, &error);
  g_assert_null (pixbuf);
  g_assert_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_CORRUPT);
}

static void
test_load_not_images (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *empty = write_text (dir, "empty.jpg", "");
  g_autofree char *text = write_text (dir, "cat.jpg", "meow\n");
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GError) error = NULL;

  pixbuf = kp_image_load (empty, NULL, &error);
  g_assert_null (pixbuf);
  g_assert_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_NOT_AN_IMAGE);
  assert_message_names (error, "empty.jpg");
  g_clear_error (&error);

  pixbuf = kp_image_load (text, NULL, &error);
  g_assert_null (pixbuf);
  g_assert_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_NOT_AN_IMAGE);
  g_assert_cmpstr (error->message, ==, "“cat.jpg” is not an image the workstation can open");
}

typedef struct
{
  GMainLoop *loop;
  GdkPixbuf *pixbuf;
  GError    *error;
} AsyncResult;

static void
load_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  AsyncResult *r = user_data;

  g_assert_null (source);
  r->pixbuf = kp_image_load_finish (result, &r->error);
  g_main_loop_quit (r->loop);
}

static void
test_load_async (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *good = write_image (dir, "a.png", "png", 32, 20);
  g_autofree char *cut = write_truncated (good, dir, "cut.png");
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  AsyncResult r = { loop, NULL, NULL };

  kp_image_load_async (good, NULL, load_done_cb, &r);
  g_main_loop_run (loop);
  g_assert_no_error (r.error);
  g_assert_nonnull (r.pixbuf);
  g_assert_cmpint (gdk_pixbuf_get_width (r.pixbuf), ==, 32);
  g_assert_cmpint (gdk_pixbuf_get_height (r.pixbuf), ==, 20);
  g_assert_finalize_object (r.pixbuf);
  r.pixbuf = NULL;

  kp_image_load_async (cut, NULL, load_done_cb, &r);
  g_main_loop_run (loop);
  g_assert_null (r.pixbuf);
  g_assert_error (r.error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_CORRUPT);
  g_clear_error (&r.error);
}

static void
test_load_async_cancelled (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *good = write_image (dir, "a.png", "png", 32, 20);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  AsyncResult r = { loop, NULL, NULL };

  g_cancellable_cancel (cancellable);
  kp_image_load_async (good, cancellable, load_done_cb, &r);
  g_main_loop_run (loop);
  g_assert_null (r.pixbuf);
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&r.error);
}

/* Thumbnails */

static guint
count_files (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  if (d == NULL)
    return 0;
  while (g_dir_read_name (d) != NULL)
    n++;
  return n;
}

static char *
find_one_file (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  g_assert_nonnull (d);
  name = g_dir_read_name (d);
  g_assert_nonnull (name);
  return g_build_filename (dir, name, NULL);
}

static void
test_thumbnail_cache (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *path = write_image (dir, "wide.jpg", "jpeg", 640, 480);
  g_autofree char *cache = g_build_filename (g_get_user_cache_dir (), "kempelen", "thumbnails", NULL);
  g_autofree char *cached_path = NULL;
  g_autoptr(GdkPixbuf) thumb = NULL;
  g_autoptr(GdkPixbuf) marker = NULL;
  g_autoptr(GFile) file = NULL;
  g_autoptr(GError) error = NULL;

  thumb = kp_image_load_thumbnail (path, 128, cache, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (thumb), ==, 128);
  g_assert_cmpint (gdk_pixbuf_get_height (thumb), ==, 96);
  g_assert_cmpuint (count_files (cache), ==, 1);
  g_clear_object (&thumb);

  /* Replace the cached file by something recognisable: the next call must
   * return it instead of decoding the image again. */
  cached_path = find_one_file (cache);
  g_assert_true (g_str_has_suffix (cached_path, ".png"));
  marker = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 7, 5);
  gdk_pixbuf_fill (marker, 0xff000000);
  gdk_pixbuf_save (marker, cached_path, "png", &error, NULL);
  g_assert_no_error (error);

  thumb = kp_image_load_thumbnail (path, 128, cache, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (thumb), ==, 7);
  g_clear_object (&thumb);

  /* A different size is a different cache entry. */
  thumb = kp_image_load_thumbnail (path, 64, cache, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (thumb), ==, 64);
  g_assert_cmpint (gdk_pixbuf_get_height (thumb), ==, 48);
  g_assert_cmpuint (count_files (cache), ==, 2);
  g_clear_object (&thumb);

  /* A changed file (new mtime) gets a new thumbnail. */
  file = g_file_new_for_path (path);
  g_file_set_attribute_uint64 (file, G_FILE_ATTRIBUTE_TIME_MODIFIED, 1000000000,
                               G_FILE_QUERY_INFO_NONE, NULL, &error);
  g_assert_no_error (error);
  thumb = kp_image_load_thumbnail (path, 128, cache, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (thumb), ==, 128);
  g_assert_cmpuint (count_files (cache), ==, 3);
}

static void
test_thumbnail_shapes (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *tall = write_image (dir, "tall.png", "png", 300, 600);
  g_autofree char *small = write_image (dir, "small.png", "png", 50, 40);
  g_autoptr(GdkPixbuf) thumb = NULL;
  g_autoptr(GError) error = NULL;

  thumb = kp_image_load_thumbnail (tall, 100, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (thumb), ==, 50);
  g_assert_cmpint (gdk_pixbuf_get_height (thumb), ==, 100);
  g_clear_object (&thumb);

  /* Never enlarged. */
  thumb = kp_image_load_thumbnail (small, 100, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (thumb), ==, 50);
  g_assert_cmpint (gdk_pixbuf_get_height (thumb), ==, 40);
}

static void
test_thumbnail_corrupt (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *good = write_image (dir, "photo.jpg", "jpeg", 640, 480);
  g_autofree char *cut = write_truncated (good, dir, "cut.jpg");
  g_autofree char *text = write_text (dir, "notes.png", "not a picture");
  g_autofree char *cache = g_build_filename (g_get_user_cache_dir (), "thumbs", NULL);
  g_autoptr(GdkPixbuf) thumb = NULL;
  g_autoptr(GError) error = NULL;

  thumb = kp_image_load_thumbnail (cut, 128, cache, NULL, &error);
  g_assert_null (thumb);
  g_assert_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_CORRUPT);
  g_clear_error (&error);

  thumb = kp_image_load_thumbnail (text, 128, cache, NULL, &error);
  g_assert_null (thumb);
  g_assert_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_NOT_AN_IMAGE);

  /* Nothing is cached for a file that failed. */
  g_assert_cmpuint (count_files (cache), ==, 0);
}

/* Store integration */

static const KpMedia *
find_media (GPtrArray  *list,
            const char *path)
{
  for (guint i = 0; i < list->len; i++)
    {
      const KpMedia *media = g_ptr_array_index (list, i);

      if (g_str_equal (media->path, path))
        return media;
    }

  g_assert_not_reached ();
  return NULL;
}

static void
test_ensure_info (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *good = write_image (dir, "good.png", "png", 80, 60);
  g_autofree char *text = write_text (dir, "text.jpg", "hello");
  g_autofree char *empty = write_text (dir, "empty.png", "");
  g_autofree char *photo = write_image (dir, "photo.jpg", "jpeg", 320, 240);
  g_autofree char *cut = write_truncated (photo, dir, "cut.jpg");
  g_autoptr(KpStore) store = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GError) error = NULL;
  const KpMedia *media;

  g_assert_cmpint (g_remove (photo), ==, 0);

  store = kp_store_open (dir, &error);
  g_assert_no_error (error);
  assert_ok (kp_store_scan (store, NULL, &error));

  assert_ok (kp_media_ensure_info (store, NULL, &error));

  list = kp_store_list_media (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 4);

  media = find_media (list, "good.png");
  g_assert_cmpint (media->width, ==, 80);
  g_assert_cmpint (media->height, ==, 60);
  g_assert_true (g_str_has_prefix (media->hash, "sha256:"));
  g_assert_cmpuint (strlen (media->hash), ==, strlen ("sha256:") + 64);
  g_assert_cmpint (media->status, !=, KP_MEDIA_STATUS_BROKEN);
  g_assert_null (media->error);

  media = find_media (list, "text.jpg");
  g_assert_cmpint (media->status, ==, KP_MEDIA_STATUS_BROKEN);
  g_assert_nonnull (strstr (media->error, "“text.jpg”"));

  media = find_media (list, "cut.jpg");
  g_assert_cmpint (media->status, ==, KP_MEDIA_STATUS_BROKEN);
  g_assert_nonnull (strstr (media->error, "“cut.jpg” is damaged"));

  media = find_media (list, "empty.png");
  g_assert_cmpint (media->status, ==, KP_MEDIA_STATUS_BROKEN);
  g_assert_nonnull (media->error);

  /* A second run is a no-op and still succeeds. */
  assert_ok (kp_media_ensure_info (store, NULL, &error));

  /* Cancellation is an error, not a broken file. */
  {
    g_autoptr(GCancellable) cancellable = g_cancellable_new ();
    g_autofree char *other = write_image (dir, "other.png", "png", 10, 10);

    assert_ok (kp_store_scan (store, NULL, &error));
    g_cancellable_cancel (cancellable);
    g_assert_false (kp_media_ensure_info (store, cancellable, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  }

  g_assert_finalize_object (g_steal_pointer (&store));
}

/* A large PNG is never decoded whole for its thumbnail: it waits for the
 * tile pyramid, then comes from its coarsest level. */
static void
test_thumbnail_large (void)
{
  g_autofree char *dir = make_dir ();
  g_autofree char *path = g_build_filename (dir, "strip.png", NULL);
  g_autofree char *cache = g_build_filename (g_get_user_cache_dir (), "thumbs", NULL);
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, KP_IMAGE_LARGE_SIDE, 256);
  g_autoptr(GdkPixbuf) thumb = NULL;
  g_autoptr(KpImagePyramid) pyramid = NULL;
  g_autoptr(GError) error = NULL;
  const guint8 *p;

  g_assert_true (kp_image_size_is_large (KP_IMAGE_LARGE_SIDE, 1));
  g_assert_true (kp_image_size_is_large (1, KP_IMAGE_LARGE_SIDE));
  g_assert_true (kp_image_size_is_large (8000, 8000));
  g_assert_false (kp_image_size_is_large (6000, 4000));

  /* Left half red, right half blue. */
  gdk_pixbuf_fill (pixbuf, 0x0000ffff);
  {
    g_autoptr(GdkPixbuf) half = gdk_pixbuf_new_subpixbuf (pixbuf, 0, 0, KP_IMAGE_LARGE_SIDE / 2, 256);

    gdk_pixbuf_fill (half, 0xff0000ff);
  }
  gdk_pixbuf_save (pixbuf, path, "png", &error, NULL);
  g_assert_no_error (error);

  thumb = kp_image_load_thumbnail (path, 128, cache, NULL, &error);
  g_assert_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_PENDING);
  g_assert_null (thumb);
  g_clear_error (&error);
  /* Nothing cached for it, nothing built. */
  g_assert_cmpuint (count_files (cache), ==, 0);

  pyramid = kp_image_pyramid_open (path, NULL, KP_IMAGE_PYRAMID_DEFAULT_TILE_SIZE, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (kp_image_pyramid_is_complete (pyramid));
  g_assert_true (kp_image_pyramid_build (pyramid, NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  thumb = kp_image_load_thumbnail (path, 128, cache, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (gdk_pixbuf_get_width (thumb), ==, 128);
  g_assert_cmpint (gdk_pixbuf_get_height (thumb), ==, 4);
  g_assert_cmpuint (count_files (cache), ==, 1);
  p = gdk_pixbuf_read_pixels (thumb);
  g_assert_cmpuint (p[0], >=, 250);
  g_assert_cmpuint (p[2], <=, 5);
  p += 127 * gdk_pixbuf_get_n_channels (thumb);
  g_assert_cmpuint (p[0], <=, 5);
  g_assert_cmpuint (p[2], >=, 250);
}

int
main (int   argc,
      char *argv[])
{
  kp_test_drop_dac_in_subprocess (argc, argv);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/kempelen/media/probe/png", test_probe_png);
  g_test_add_func ("/kempelen/media/probe/large-jpeg", test_probe_large_jpeg);
  g_test_add_func ("/kempelen/media/probe/not-images", test_probe_not_images);
  g_test_add_func ("/kempelen/media/probe/missing", test_probe_missing);
  g_test_add_func ("/kempelen/media/probe/unreadable", test_probe_unreadable);
  g_test_add_func ("/kempelen/media/probe/cancelled", test_probe_cancelled);
  g_test_add_func ("/kempelen/media/load/good", test_load_good);
  g_test_add_func ("/kempelen/media/load/truncated-jpeg", test_load_truncated_jpeg);
  g_test_add_func ("/kempelen/media/load/truncated-png", test_load_truncated_png);
  g_test_add_func ("/kempelen/media/load/damaged", test_load_damaged);
  g_test_add_func ("/kempelen/media/load/not-images", test_load_not_images);
  g_test_add_func ("/kempelen/media/load/async", test_load_async);
  g_test_add_func ("/kempelen/media/load/async-cancelled", test_load_async_cancelled);
  g_test_add_func ("/kempelen/media/thumbnail/cache", test_thumbnail_cache);
  g_test_add_func ("/kempelen/media/thumbnail/shapes", test_thumbnail_shapes);
  g_test_add_func ("/kempelen/media/thumbnail/corrupt", test_thumbnail_corrupt);
  g_test_add_func ("/kempelen/media/thumbnail/large", test_thumbnail_large);
  g_test_add_func ("/kempelen/media/ensure-info", test_ensure_info);

  return g_test_run ();
}
