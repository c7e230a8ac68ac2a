/* kp-layout-media.c: http(s) media of a layout, fetched off the main thread
 * and cached
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * One SoupSession per KpLayoutMedia (the layout view keeps one for its
 * life, so a preview reload finds what it fetched before). libsoup's
 * I/O is asynchronous on the main context; the image decode, which is
 * the part that takes long, runs in a GTask thread.
 */

#include "config.h"

#include "kp-layout-media.h"

#include <glib/gi18n.h>
#include <libsoup/soup.h>

/* Large enough for any image a task shows; more is refused. */
#define MAX_IMAGE_BYTES (64 * 1024 * 1024)

typedef struct
{
  KpLayoutMediaState  state;
  gboolean            image;
  GdkTexture         *texture;
  GError             *error;
} Entry;

struct _KpLayoutMedia
{
  GObject       parent_instance;

  SoupSession  *session;
  GCancellable *cancellable;
  GHashTable   *entries;   /* uri → Entry */

  KpLayoutMediaAuthorizeFunc authorize;
  gpointer                   authorize_data;
  GDestroyNotify             authorize_destroy;
};

G_DEFINE_FINAL_TYPE (KpLayoutMedia, kp_layout_media, G_TYPE_OBJECT)

enum {
  FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct
{
  KpLayoutMedia *self;
  char          *uri;
} Request;

static void
request_free (Request *request)
{
  g_object_unref (request->self);
  g_free (request->uri);
  g_free (request);
}

static void
entry_free (Entry *entry)
{
  g_clear_object (&entry->texture);
  g_clear_error (&entry->error);
  g_free (entry);
}

static void
finish (Request    *request,
        GdkTexture *texture,
        GError     *error)
{
  Entry *entry = g_hash_table_lookup (request->self->entries, request->uri);

  if (entry == NULL)
    return;

  if (error != NULL)
    {
      entry->state = KP_LAYOUT_MEDIA_FAILED;
      entry->error = error;
    }
  else
    {
      entry->state = KP_LAYOUT_MEDIA_LOADED;
      g_set_object (&entry->texture, texture);
    }
  g_signal_emit (request->self, signals[FINISHED], 0, request->uri);
}

static void
decode_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  GBytes *bytes = task_data;
  GError *error = NULL;
  GdkTexture *texture = gdk_texture_new_from_bytes (bytes, &error);

  if (texture == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, texture, g_object_unref);
}

static void
decoded_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  Request *request = user_data;
  GError *error = NULL;
  g_autoptr(GdkTexture) texture = g_task_propagate_pointer (G_TASK (result), &error);

  if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      if (error != NULL)
        {
          GError *shown = g_error_new (error->domain, error->code,
                                       _("not an image the preview can read: %s"), error->message);

          g_error_free (error);
          error = shown;
        }
      finish (request, texture, error);
    }
  else
    g_error_free (error);
  request_free (request);
}

static GError *
status_error (SoupMessage *message)
{
  guint status = soup_message_get_status (message);

  if (SOUP_STATUS_IS_SUCCESSFUL (status))
    return NULL;

  /* Translators: an HTTP status, as "HTTP 404 Not Found". */
  return g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED, _("HTTP %u %s"), status,
                      soup_message_get_reason_phrase (message) != NULL
                      ? soup_message_get_reason_phrase (message) : "");
}

static void
read_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Request *request = user_data;
  SoupSession *session = SOUP_SESSION (source);
  SoupMessage *message = soup_session_get_async_result_message (session, result);
  GError *error = NULL;
  g_autoptr(GBytes) bytes = soup_session_send_and_read_finish (session, result, &error);
  g_autoptr(GTask) task = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_error_free (error);
      request_free (request);
      return;
    }
  if (error == NULL)
    error = status_error (message);
  if (error == NULL && g_bytes_get_size (bytes) > MAX_IMAGE_BYTES)
    error = g_error_new (G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE, _("larger than %d MB"),
                         MAX_IMAGE_BYTES / (1024 * 1024));
  if (error != NULL)
    {
      finish (request, NULL, error);
      request_free (request);
      return;
    }

  task = g_task_new (NULL, request->self->cancellable, decoded_cb, request);
  g_task_set_source_tag (task, read_cb);
  g_task_set_task_data (task, g_steal_pointer (&bytes), (GDestroyNotify)g_bytes_unref);
  g_task_run_in_thread (task, decode_thread);
}

static void
sent_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Request *request = user_data;
  SoupSession *session = SOUP_SESSION (source);
  SoupMessage *message = soup_session_get_async_result_message (session, result);
  GError *error = NULL;
  g_autoptr(GInputStream) stream = soup_session_send_finish (session, result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_error_free (error);
      request_free (request);
      return;
    }
  if (error == NULL)
    error = status_error (message);
  /* Reachable is all that is asked: the body is not read. */
  if (stream != NULL)
    g_input_stream_close_async (stream, G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  finish (request, NULL, error);
  request_free (request);
}

gboolean
kp_layout_media_is_remote (const char *uri)
{
  const char *scheme = uri != NULL ? g_uri_peek_scheme (uri) : NULL;

  return g_strcmp0 (scheme, "http") == 0 || g_strcmp0 (scheme, "https") == 0;
}

KpLayoutMediaState
kp_layout_media_request (KpLayoutMedia  *self,
                         const char     *uri,
                         gboolean        image,
                         GdkTexture    **texture,
                         const GError  **error)
{
  Entry *entry;

  g_return_val_if_fail (KP_IS_LAYOUT_MEDIA (self), KP_LAYOUT_MEDIA_FAILED);
  g_return_val_if_fail (uri != NULL, KP_LAYOUT_MEDIA_FAILED);

  entry = g_hash_table_lookup (self->entries, uri);
  /* Checked for reachability only, now wanted as an image. */
  if (entry != NULL && image && !entry->image && entry->state == KP_LAYOUT_MEDIA_LOADED)
    {
      g_hash_table_remove (self->entries, uri);
      entry = NULL;
    }

  if (entry == NULL)
    {
      g_autoptr(SoupMessage) message = NULL;
      Request *request;

      entry = g_new0 (Entry, 1);
      entry->image = image;
      g_hash_table_insert (self->entries, g_strdup (uri), entry);

      if (!kp_layout_media_is_remote (uri) ||
          (message = soup_message_new (SOUP_METHOD_GET, uri)) == NULL)
        {
          entry->state = KP_LAYOUT_MEDIA_FAILED;
          entry->error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                              _("not a valid http or https URL"));
        }
      else
        {
          entry->state = KP_LAYOUT_MEDIA_LOADING;
          request = g_new0 (Request, 1);
          request->self = g_object_ref (self);
          request->uri = g_strdup (uri);
          if (self->authorize != NULL)
            self->authorize (message, self->authorize_data);
          if (image)
            soup_session_send_and_read_async (self->session, message, G_PRIORITY_DEFAULT,
                                              self->cancellable, read_cb, request);
          else
            soup_session_send_async (self->session, message, G_PRIORITY_DEFAULT,
                                     self->cancellable, sent_cb, request);
        }
    }

  if (texture != NULL)
    *texture = entry->texture;
  if (error != NULL)
    *error = entry->error;

  return entry->state;
}

void
kp_layout_media_set_timeout (KpLayoutMedia *self,
                             guint          seconds)
{
  g_return_if_fail (KP_IS_LAYOUT_MEDIA (self));

  soup_session_set_timeout (self->session, seconds);
}

static void
kp_layout_media_dispose (GObject *object)
{
  KpLayoutMedia *self = KP_LAYOUT_MEDIA (object);

  g_cancellable_cancel (self->cancellable);
  if (self->session != NULL)
    soup_session_abort (self->session);
  g_clear_object (&self->session);
  kp_layout_media_set_authorizer (self, NULL, NULL, NULL);

  G_OBJECT_CLASS (kp_layout_media_parent_class)->dispose (object);
}

void
kp_layout_media_set_authorizer (KpLayoutMedia              *self,
                                KpLayoutMediaAuthorizeFunc  func,
                                gpointer                    user_data,
                                GDestroyNotify              destroy)
{
  g_return_if_fail (KP_IS_LAYOUT_MEDIA (self));

  if (self->authorize_destroy != NULL)
    self->authorize_destroy (self->authorize_data);

  self->authorize = func;
  self->authorize_data = user_data;
  self->authorize_destroy = destroy;
}

static void
kp_layout_media_finalize (GObject *object)
{
  KpLayoutMedia *self = KP_LAYOUT_MEDIA (object);

  g_clear_object (&self->cancellable);
  g_hash_table_unref (self->entries);

  G_OBJECT_CLASS (kp_layout_media_parent_class)->finalize (object);
}

static void
kp_layout_media_class_init (KpLayoutMediaClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kp_layout_media_dispose;
  object_class->finalize = kp_layout_media_finalize;

  signals[FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
kp_layout_media_init (KpLayoutMedia *self)
{
  self->session = soup_session_new_with_options ("timeout", 15,
                                                 "user-agent", "Kempelen/" PACKAGE_VERSION " ",
                                                 NULL);
  self->cancellable = g_cancellable_new ();
  self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)entry_free);
}

KpLayoutMedia *
kp_layout_media_new (void)
{
  return g_object_new (KP_TYPE_LAYOUT_MEDIA, NULL);
}
