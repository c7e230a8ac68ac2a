/* kp-media.c: image decoding off the main thread (GdkPixbuf; no GTK)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <inttypes.h>

#include "kp-media.h"
#include "kp-image-pyramid.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

G_DEFINE_QUARK (kp-media-error-quark, kp_media_error)

#define READ_CHUNK_SIZE (64 * 1024)

/* The thumbnail cache format; bump it when the way thumbnails are made
 * changes, so old cache entries are not reused. */
#define THUMBNAIL_VERSION "1"

/* Error helpers: every message is a sentence for people that names the
 * file by its display base name. */

static char *
dup_display_name (const char *path)
{
  return g_filename_display_basename (path);
}

static void
set_not_an_image (GError     **error,
                  const char  *path)
{
  g_autofree char *name = dup_display_name (path);

  g_set_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_NOT_AN_IMAGE,
               _("“%s” is not an image the workstation can open"), name);
}

static void
set_corrupt (GError     **error,
             const char  *path,
             const char  *detail)
{
  g_autofree char *name = dup_display_name (path);

  if (detail != NULL && *detail != '\0')
    g_set_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_CORRUPT,
                 _("“%s” is damaged or incomplete and cannot be opened (%s)"),
                 name, detail);
  else
    g_set_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_CORRUPT,
                 _("“%s” is damaged or incomplete and cannot be opened"), name);
}

/* Turns an error from GIO into a media error, keeping cancellation as it
 * is so callers can recognise it and stay silent. */
static void
propagate_io_error (GError     **error,
                    GError      *io_error,
                    const char  *path)
{
  g_autofree char *name = dup_display_name (path);

  if (g_error_matches (io_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_propagate_error (error, io_error);
      return;
    }

  if (g_error_matches (io_error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
    g_set_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_UNREADABLE,
                 _("You do not have permission to read “%s”"), name);
  else if (g_error_matches (io_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    g_set_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_UNREADABLE,
                 _("“%s” does not exist"), name);
  else if (g_error_matches (io_error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY))
    g_set_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_NOT_AN_IMAGE,
                 _("“%s” is a folder, not an image"), name);
  else
    g_set_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_UNREADABLE,
                 _("“%s” cannot be read: %s"), name, io_error->message);

  g_error_free (io_error);
}

static void
propagate_pixbuf_error (GError     **error,
                        GError      *pixbuf_error,
                        const char  *path)
{
  g_autofree char *name = dup_display_name (path);

  if (g_error_matches (pixbuf_error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_UNKNOWN_TYPE) ||
      g_error_matches (pixbuf_error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_UNSUPPORTED_OPERATION))
    set_not_an_image (error, path);
  else if (g_error_matches (pixbuf_error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY))
    g_set_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_FAILED,
                 _("“%s” is too large to open"), name);
  else
    set_corrupt (error, path, pixbuf_error->message);

  g_error_free (pixbuf_error);
}

/* Completeness checks. Some loaders accept a cut-off file without any
 * error: libjpeg fills the missing rows with grey and only warns. So we
 * check the container ourselves where that is cheap. */

static gboolean
jpeg_is_complete (const guint8 *data,
                  gsize         len)
{
  gsize i = 2;

  if (len < 4 || data[0] != 0xFF || data[1] != 0xD8)
    return FALSE;

  while (i + 1 < len)
    {
      guint8 marker;
      gsize seg_len;

      if (data[i] != 0xFF)
        return FALSE;

      marker = data[i + 1];

      /* Fill bytes before a marker. */
      if (marker == 0xFF)
        {
          i++;
          continue;
        }

      if (marker == 0xD9)
        return TRUE;

      /* Markers without a length. */
      if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7))
        {
          i += 2;
          continue;
        }

      if (i + 3 >= len)
        return FALSE;

      seg_len = ((gsize)data[i + 2] << 8) | data[i + 3];
      if (seg_len < 2)
        return FALSE;

      i += 2 + seg_len;

      /* Start of scan: entropy-coded data follows until the next marker
       * that is neither a stuffed 0xFF00 nor a restart marker. */
      if (marker == 0xDA)
        {
          while (i + 1 < len)
            {
              if (data[i] == 0xFF &&
                  data[i + 1] != 0x00 &&
                  !(data[i + 1] >= 0xD0 && data[i + 1] <= 0xD7))
                break;
              i++;
            }
        }
    }

  return FALSE;
}

static gboolean
png_is_complete (const guint8 *data,
                 gsize         len)
{
  static const guint8 signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };
  gsize i = 8;

  if (len < 8 || memcmp (data, signature, 8) != 0)
    return FALSE;

  while (i + 8 <= len)
    {
      guint32 chunk_len = ((guint32)data[i] << 24) | ((guint32)data[i + 1] << 16) |
                          ((guint32)data[i + 2] << 8) | (guint32)data[i + 3];

      if (memcmp (data + i + 4, "IEND", 4) == 0)
        return i + 12 <= len;

      if ((gsize)chunk_len > len - i - 8)
        return FALSE;

      i += 12 + (gsize)chunk_len;
    }

  return FALSE;
}

static gboolean
data_is_complete (GdkPixbufFormat *format,
                  const guint8    *data,
                  gsize            len)
{
  g_autofree char *name = NULL;

  if (format == NULL)
    return TRUE;

  name = gdk_pixbuf_format_get_name (format);
  if (g_strcmp0 (name, "jpeg") == 0)
    return jpeg_is_complete (data, len);
  if (g_strcmp0 (name, "png") == 0)
    return png_is_complete (data, len);

  return TRUE;
}

/* Choosing a loader. gdk-pixbuf picks one through the shared-mime-info
 * database, which may be missing (minimal containers, tests with isolated
 * XDG dirs). The formats people annotate have unmistakable signatures, so
 * recognise those ourselves and fall back to gdk-pixbuf's guess. */

static const char *
sniff_loader_type (const guint8 *data,
                   gsize         len)
{
  if (len >= 8 && memcmp (data, "\x89PNG\r\n\x1a\n", 8) == 0)
    return "png";
  if (len >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
    return "jpeg";
  if (len >= 6 && (memcmp (data, "GIF87a", 6) == 0 || memcmp (data, "GIF89a", 6) == 0))
    return "gif";
  if (len >= 4 && (memcmp (data, "II*\0", 4) == 0 || memcmp (data, "MM\0*", 4) == 0))
    return "tiff";
  if (len >= 12 && memcmp (data, "RIFF", 4) == 0 && memcmp (data + 8, "WEBP", 4) == 0)
    return "webp";
  if (len >= 2 && data[0] == 'B' && data[1] == 'M')
    return "bmp";
  if (len >= 3 && data[0] == 'P' && data[1] >= '1' && data[1] <= '6' && g_ascii_isspace (data[2]))
    return "pnm";

  return NULL;
}

static GdkPixbufLoader *
create_loader (const guint8 *data,
               gsize         len)
{
  const char *type = sniff_loader_type (data, len);

  if (type != NULL)
    {
      g_autoptr(GError) error = NULL;
      GdkPixbufLoader *loader = gdk_pixbuf_loader_new_with_type (type, &error);

      if (loader != NULL)
        return loader;

      /* Not built with this format; gdk-pixbuf may still know better. */
      g_debug ("No %s loader: %s", type, error->message);
    }

  return gdk_pixbuf_loader_new ();
}

/* Reading */

static GBytes *
read_whole_file (const char    *path,
                 GChecksum     *checksum,
                 GCancellable  *cancellable,
                 GError       **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileInputStream) stream = NULL;
  g_autoptr(GByteArray) data = g_byte_array_new ();
  g_autofree guint8 *buffer = g_malloc (READ_CHUNK_SIZE);
  GError *local_error = NULL;

  stream = g_file_read (file, cancellable, &local_error);
  if (stream == NULL)
    {
      propagate_io_error (error, local_error, path);
      return NULL;
    }

  for (;;)
    {
      gssize n = g_input_stream_read (G_INPUT_STREAM (stream), buffer, READ_CHUNK_SIZE,
                                      cancellable, &local_error);

      if (n < 0)
        {
          propagate_io_error (error, local_error, path);
          return NULL;
        }
      if (n == 0)
        break;

      if (checksum != NULL)
        g_checksum_update (checksum, buffer, n);
      g_byte_array_append (data, buffer, n);
    }

  return g_byte_array_free_to_bytes (g_steal_pointer (&data));
}

/* Decoding */

typedef struct
{
  int requested_size;   /* 0: full size */
  int prepared_height;  /* height of the pixbuf the loader decodes into */
  int rows_done;        /* rows the loader reported as decoded */
} DecodeState;

static void
size_prepared_cb (GdkPixbufLoader *loader,
                  int              width,
                  int              height,
                  gpointer         user_data)
{
  DecodeState *state = user_data;
  int size = state->requested_size;
  int new_width;
  int new_height;

  if (size <= 0 || (width <= size && height <= size) || width <= 0 || height <= 0)
    return;

  if (width >= height)
    {
      new_width = size;
      new_height = MAX (1, (int)((double)height * size / width + 0.5));
    }
  else
    {
      new_height = size;
      new_width = MAX (1, (int)((double)width * size / height + 0.5));
    }

  gdk_pixbuf_loader_set_size (loader, new_width, new_height);
}

static void
area_prepared_cb (GdkPixbufLoader *loader,
                  gpointer         user_data)
{
  DecodeState *state = user_data;
  GdkPixbuf *pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);

  if (pixbuf != NULL)
    state->prepared_height = gdk_pixbuf_get_height (pixbuf);
}

static void
area_updated_cb (GdkPixbufLoader *loader,
                 int              x,
                 int              y,
                 int              width,
                 int              height,
                 gpointer         user_data)
{
  DecodeState *state = user_data;

  state->rows_done = MAX (state->rows_done, y + height);
}

static GdkPixbuf *
decode_bytes (const char  *path,
              GBytes      *bytes,
              int          size,
              GError     **error)
{
  g_autoptr(GdkPixbufLoader) loader = NULL;
  g_autoptr(GError) write_error = NULL;
  g_autoptr(GError) close_error = NULL;
  GdkPixbufAnimation *animation;
  GdkPixbuf *pixbuf;
  DecodeState state = { size, 0, 0 };
  const guint8 *data;
  gsize len;
  gboolean complete = TRUE;

  data = g_bytes_get_data (bytes, &len);
  if (len == 0)
    {
      set_not_an_image (error, path);
      return NULL;
    }

  loader = create_loader (data, len);
  g_signal_connect (loader, "size-prepared", G_CALLBACK (size_prepared_cb), &state);
  g_signal_connect (loader, "area-prepared", G_CALLBACK (area_prepared_cb), &state);
  g_signal_connect (loader, "area-updated", G_CALLBACK (area_updated_cb), &state);

  /* The loader must always be closed, even after a write error, or it
   * complains when finalized. */
  gdk_pixbuf_loader_write (loader, data, len, &write_error);
  gdk_pixbuf_loader_close (loader, write_error == NULL ? &close_error : NULL);

  if (write_error != NULL)
    {
      propagate_pixbuf_error (error, g_steal_pointer (&write_error), path);
      return NULL;
    }
  if (close_error != NULL)
    {
      propagate_pixbuf_error (error, g_steal_pointer (&close_error), path);
      return NULL;
    }

  pixbuf = gdk_pixbuf_loader_get_pixbuf (loader);
  if (pixbuf == NULL)
    {
      set_corrupt (error, path, NULL);
      return NULL;
    }

  complete = data_is_complete (gdk_pixbuf_loader_get_format (loader), data, len);

  /* Loaders report the rows they decoded; fewer rows than the image has
   * means the data ended early. Animations update frames, not rows, so
   * they are left out. */
  animation = gdk_pixbuf_loader_get_animation (loader);
  if (complete &&
      animation != NULL &&
      gdk_pixbuf_animation_is_static_image (animation) &&
      state.prepared_height > 0 &&
      state.rows_done < state.prepared_height)
    complete = FALSE;

  if (!complete)
    {
      set_corrupt (error, path, NULL);
      return NULL;
    }

  return g_object_ref (pixbuf);
}

/* Probing */

typedef struct
{
  int      width;
  int      height;
  gboolean got_size;
} ProbeState;

static void
probe_size_prepared_cb (GdkPixbufLoader *loader,
                        int              width,
                        int              height,
                        gpointer         user_data)
{
  ProbeState *state = user_data;

  state->width = width;
  state->height = height;
  state->got_size = TRUE;

  /* We only want the size: ask for the smallest possible decode. */
  gdk_pixbuf_loader_set_size (loader, 1, 1);
}

gboolean
kp_image_probe (const char    *path,
                int           *width,
                int           *height,
                char         **hash,
                GCancellable  *cancellable,
                GError       **error)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFileInputStream) stream = NULL;
  g_autoptr(GChecksum) checksum = NULL;
  g_autoptr(GdkPixbufLoader) loader = NULL;
  g_autoptr(GError) loader_error = NULL;
  g_autoptr(GByteArray) data = NULL;
  g_autofree guint8 *buffer = NULL;
  GError *local_error = NULL;
  ProbeState state = { 0, 0, FALSE };
  gsize total = 0;
  gboolean feeding = TRUE;
  gboolean keep_data = FALSE;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  file = g_file_new_for_path (path);
  stream = g_file_read (file, cancellable, &local_error);
  if (stream == NULL)
    {
      propagate_io_error (error, local_error, path);
      return FALSE;
    }

  checksum = g_checksum_new (G_CHECKSUM_SHA256);
  buffer = g_malloc (READ_CHUNK_SIZE);
  data = g_byte_array_new ();

  /* One pass over the file: every byte goes into the hash, and the first
   * bytes into a loader until it knows the dimensions. */
  for (;;)
    {
      gssize n = g_input_stream_read (G_INPUT_STREAM (stream), buffer, READ_CHUNK_SIZE,
                                      cancellable, &local_error);

      if (n < 0)
        {
          if (loader != NULL)
            gdk_pixbuf_loader_close (loader, NULL);
          propagate_io_error (error, local_error, path);
          return FALSE;
        }
      if (n == 0)
        break;

      total += n;
      g_checksum_update (checksum, buffer, n);

      if (loader == NULL)
        {
          const char *type = sniff_loader_type (buffer, n);

          /* Only the containers data_is_complete() checks need the whole
           * file in memory. */
          keep_data = g_strcmp0 (type, "jpeg") == 0 || g_strcmp0 (type, "png") == 0;
          loader = create_loader (buffer, n);
          g_signal_connect (loader, "size-prepared", G_CALLBACK (probe_size_prepared_cb), &state);
        }

      if (keep_data)
        g_byte_array_append (data, buffer, n);

      if (feeding && !state.got_size)
        {
          if (!gdk_pixbuf_loader_write (loader, buffer, n, &loader_error))
            feeding = FALSE;
        }
    }

  /* Closing a loader that has not seen the whole image is expected to
   * fail; only its error before the size was known matters. */
  if (total == 0)
    {
      set_not_an_image (error, path);
      return FALSE;
    }

  if (loader_error == NULL && !state.got_size)
    gdk_pixbuf_loader_close (loader, &loader_error);
  else
    gdk_pixbuf_loader_close (loader, NULL);

  if (!state.got_size || state.width <= 0 || state.height <= 0)
    {
      if (loader_error != NULL)
        propagate_pixbuf_error (error, g_steal_pointer (&loader_error), path);
      else
        set_corrupt (error, path, NULL);
      return FALSE;
    }

  /* A cut-off file has an intact header; its end tells. Checking the
   * container is cheap, unlike decoding the whole image. */
  if (keep_data && !data_is_complete (gdk_pixbuf_loader_get_format (loader), data->data, data->len))
    {
      set_corrupt (error, path, NULL);
      return FALSE;
    }

  if (width != NULL)
    *width = state.width;
  if (height != NULL)
    *height = state.height;
  if (hash != NULL)
    *hash = g_strconcat ("sha256:", g_checksum_get_string (checksum), NULL);

  return TRUE;
}

/* Loading */

GdkPixbuf *
kp_image_load (const char    *path,
               GCancellable  *cancellable,
               GError       **error)
{
  g_autoptr(GBytes) bytes = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  bytes = read_whole_file (path, NULL, cancellable, error);
  if (bytes == NULL)
    return NULL;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  return decode_bytes (path, bytes, 0, error);
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  const char *path = task_data;
  GError *error = NULL;
  GdkPixbuf *pixbuf;

  pixbuf = kp_image_load (path, cancellable, &error);
  if (pixbuf == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, pixbuf, g_object_unref);
}

void
kp_image_load_async (const char          *path,
                     GCancellable        *cancellable,
                     GAsyncReadyCallback  callback,
                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (path != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, kp_image_load_async);
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_run_in_thread (task, load_thread);
}

GdkPixbuf *
kp_image_load_finish (GAsyncResult  *result,
                      GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kp_image_load_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Thumbnails */

static char *
dup_thumbnail_path (const char *path,
                    int         size,
                    gint64      file_size,
                    gint64      mtime,
                    const char *cache_dir)
{
  g_autofree char *absolute = g_canonicalize_filename (path, NULL);
  g_autofree char *key = NULL;
  g_autofree char *digest = NULL;
  g_autofree char *basename = NULL;

  key = g_strdup_printf ("%s\n%s\n%d\n%" PRId64 "\n%" PRId64,
                         THUMBNAIL_VERSION, absolute, size, mtime, file_size);
  digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, key, -1);
  basename = g_strconcat (digest, ".png", NULL);

  return g_build_filename (cache_dir, basename, NULL);
}

static void
store_thumbnail (GdkPixbuf  *thumbnail,
                 const char *cache_dir,
                 const char *thumbnail_path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *buffer = NULL;
  gsize len = 0;

  if (g_mkdir_with_parents (cache_dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_debug ("Cannot create thumbnail cache %s: %s", cache_dir, g_strerror (saved_errno));
      return;
    }

  if (!gdk_pixbuf_save_to_buffer (thumbnail, &buffer, &len, "png", &error, NULL))
    {
      g_debug ("Cannot encode thumbnail: %s", error->message);
      return;
    }

  /* A crash while writing must never leave a half thumbnail behind that a
   * later run would trust, so write to a temporary file and rename. */
  if (!g_file_set_contents_full (thumbnail_path, buffer, len,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
    g_debug ("Cannot write thumbnail %s: %s", thumbnail_path, error->message);
}

gboolean
kp_image_size_is_large (int width,
                        int height)
{
  return width >= KP_IMAGE_LARGE_SIDE || height >= KP_IMAGE_LARGE_SIDE ||
         (gint64)width * height >= KP_IMAGE_LARGE_PIXELS;
}

/* A large image's thumbnail from the coarsest level of its tile pyramid,
 * a single tile: decoding the file whole would take gigabytes. */
static GdkPixbuf *
thumbnail_from_pyramid (KpImagePyramid  *pyramid,
                        const char      *path,
                        int              size,
                        GError         **error)
{
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GBytes) bytes = NULL;
  const guint8 *pixels;
  guint8 *out;
  int level, width = 0, height = 0, out_stride, tw, th;
  double scale;

  if (!kp_image_pyramid_is_complete (pyramid))
    {
      g_autofree char *name = g_filename_display_basename (path);

      g_set_error (error, KP_MEDIA_ERROR, KP_MEDIA_ERROR_PENDING,
                   _("The thumbnail of “%s” is made once its tiles are built."), name);
      return NULL;
    }

  level = kp_image_pyramid_get_n_levels (pyramid) - 1;
  bytes = kp_image_pyramid_read_tile (pyramid, level, 0, 0, &width, &height, error);
  if (bytes == NULL)
    return NULL;

  /* Cairo's premultiplied native-endian ARGB32 to GdkPixbuf's RGBA. */
  pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, TRUE, 8, width, height);
  out = gdk_pixbuf_get_pixels (pixbuf);
  out_stride = gdk_pixbuf_get_rowstride (pixbuf);
  pixels = g_bytes_get_data (bytes, NULL);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint32 v;
        guint8 a, *p = out + (gsize)y * out_stride + x * 4;

        memcpy (&v, pixels + ((gsize)y * width + x) * 4, 4);
        a = v >> 24;
        p[3] = a;
        if (a == 0)
          p[0] = p[1] = p[2] = 0;
        else
          {
            p[0] = (((v >> 16) & 0xff) * 255 + a / 2) / a;
            p[1] = (((v >> 8) & 0xff) * 255 + a / 2) / a;
            p[2] = ((v & 0xff) * 255 + a / 2) / a;
          }
      }

  scale = MIN (1.0, (double)size / MAX (width, height));
  tw = MAX (1, (int)round (width * scale));
  th = MAX (1, (int)round (height * scale));
  if (tw == width && th == height)
    return g_steal_pointer (&pixbuf);

  return gdk_pixbuf_scale_simple (pixbuf, tw, th, GDK_INTERP_BILINEAR);
}

GdkPixbuf *
kp_image_load_thumbnail (const char    *path,
                         int            size,
                         const char    *cache_dir,
                         GCancellable  *cancellable,
                         GError       **error)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GdkPixbuf) thumbnail = NULL;
  g_autofree char *thumbnail_path = NULL;
  GError *local_error = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (size > 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  file = g_file_new_for_path (path);
  info = g_file_query_info (file,
                            G_FILE_ATTRIBUTE_STANDARD_SIZE ","
                            G_FILE_ATTRIBUTE_TIME_MODIFIED,
                            G_FILE_QUERY_INFO_NONE, cancellable, &local_error);
  if (info == NULL)
    {
      propagate_io_error (error, local_error, path);
      return NULL;
    }

  if (cache_dir != NULL)
    {
      thumbnail_path = dup_thumbnail_path (path, size,
                                           g_file_info_get_size (info),
                                           (gint64)g_file_info_get_attribute_uint64 (info, G_FILE_ATTRIBUTE_TIME_MODIFIED),
                                           cache_dir);

      if (g_file_test (thumbnail_path, G_FILE_TEST_IS_REGULAR))
        {
          g_autoptr(GError) cache_error = NULL;
          g_autoptr(GBytes) cached = NULL;

          cached = read_whole_file (thumbnail_path, NULL, cancellable, &cache_error);
          if (cached != NULL)
            thumbnail = decode_bytes (thumbnail_path, cached, 0, &cache_error);
          if (thumbnail != NULL)
            return g_steal_pointer (&thumbnail);
          if (g_error_matches (cache_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              g_propagate_error (error, g_steal_pointer (&cache_error));
              return NULL;
            }

          /* A damaged cache entry is not the user's problem: make it again. */
          g_debug ("Ignoring thumbnail %s: %s", thumbnail_path, cache_error->message);
        }
    }

  /* A large PNG or TIFF (the header only tells): from its tiles. A large
   * JPEG decodes reduced (DCT scaling) below. */
  {
    guint8 magic[8] = { 0 };
    FILE *fp = g_fopen (path, "rb");
    gsize n = fp != NULL ? fread (magic, 1, sizeof magic, fp) : 0;
    const char *type = sniff_loader_type (magic, n);

    if (fp != NULL)
      fclose (fp);
    if (g_strcmp0 (type, "png") == 0 || g_strcmp0 (type, "tiff") == 0 ||
        (n >= 4 && memcmp (magic, "II+\0", 4) == 0) || (n >= 4 && memcmp (magic, "MM\0+", 4) == 0))
      {
        g_autoptr(KpImagePyramid) pyramid = NULL;

        pyramid = kp_image_pyramid_open (path, NULL, KP_IMAGE_PYRAMID_DEFAULT_TILE_SIZE, cancellable, NULL);
        if (pyramid != NULL &&
            kp_image_size_is_large (kp_image_pyramid_get_width (pyramid), kp_image_pyramid_get_height (pyramid)))
          {
            thumbnail = thumbnail_from_pyramid (pyramid, path, size, error);
            if (thumbnail == NULL)
              return NULL;
          }
      }
  }

  if (thumbnail == NULL)
    {
      bytes = read_whole_file (path, NULL, cancellable, error);
      if (bytes == NULL)
        return NULL;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;

      thumbnail = decode_bytes (path, bytes, size, error);
      if (thumbnail == NULL)
        return NULL;
    }

  if (thumbnail_path != NULL)
    store_thumbnail (thumbnail, cache_dir, thumbnail_path);

  return g_steal_pointer (&thumbnail);
}

/* Store integration */

gboolean
kp_media_ensure_info (KpStore       *store,
                      GCancellable  *cancellable,
                      GError       **error)
{
  g_autoptr(GPtrArray) media_list = NULL;

  g_return_val_if_fail (KP_IS_STORE (store), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  media_list = kp_store_list_media (store, error);
  if (media_list == NULL)
    return FALSE;

  for (guint i = 0; i < media_list->len; i++)
    {
      const KpMedia *media = g_ptr_array_index (media_list, i);
      g_autofree char *file = NULL;
      g_autofree char *hash = NULL;
      g_autoptr(GError) probe_error = NULL;
      int width = 0;
      int height = 0;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;

      if (media->status == KP_MEDIA_STATUS_MISSING)
        continue;
      if (media->hash != NULL && media->width > 0 && media->height > 0)
        continue;

      file = kp_store_dup_media_file (store, media);

      if (!kp_image_probe (file, &width, &height, &hash, cancellable, &probe_error))
        {
          if (g_error_matches (probe_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              g_propagate_error (error, g_steal_pointer (&probe_error));
              return FALSE;
            }

          g_debug ("Marking %s broken: %s", media->path, probe_error->message);
          if (!kp_store_set_media_error (store, media->id, probe_error->message, error))
            return FALSE;
          continue;
        }

      if (!kp_store_set_media_info (store, media->id, hash, width, height, error))
        return FALSE;

      if (media->error != NULL &&
          !kp_store_set_media_error (store, media->id, NULL, error))
        return FALSE;
    }

  return TRUE;
}
