/* kp-worker-client.c: a client of the server's worker API (/worker/v1/)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-worker-client.h"

#include <errno.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#ifdef HAVE_NETTLE
# include <nettle/sha2.h>
#endif

G_DEFINE_QUARK (kp-worker-error-quark, kp_worker_error)

#define REQUEST_TIMEOUT_SECONDS 60
#define DEFAULT_MAX_CONNECTIONS 8
#define READ_CHUNK (256 * 1024)
#define RESUME_HASH_CHUNK (1024 * 1024)

struct _KpWorkerClient
{
  GObject      parent_instance;

  char        *server_url;
  char        *api_url;
  GUri        *api_uri;        /* NULL when server_url is not usable */
  char        *authorization;  /* "Bearer …": never logged */
  SoupSession *session;
};

G_DEFINE_FINAL_TYPE (KpWorkerClient, kp_worker_client, G_TYPE_OBJECT)

/* --- errors --- */

static const struct {
  guint          status;
  const char    *code;
  KpWorkerError  error;
} error_map[] = {
  { 400, "invalid-request", KP_WORKER_ERROR_INVALID_REQUEST },
  { 401, "unauthorized", KP_WORKER_ERROR_UNAUTHORIZED },
  { 403, "forbidden", KP_WORKER_ERROR_FORBIDDEN },
  { 404, "not-found", KP_WORKER_ERROR_NOT_FOUND },
  { 405, "method-not-allowed", KP_WORKER_ERROR_METHOD_NOT_ALLOWED },
  { 409, "conflict", KP_WORKER_ERROR_CONFLICT },
  { 410, "gone", KP_WORKER_ERROR_GONE },
  { 413, "too-large", KP_WORKER_ERROR_TOO_LARGE },
  { 416, "range-not-satisfiable", KP_WORKER_ERROR_RANGE_NOT_SATISFIABLE },
  { 429, "too-many-requests", KP_WORKER_ERROR_RATE_LIMITED },
  { 500, "internal", KP_WORKER_ERROR_INTERNAL },
  { 503, "busy", KP_WORKER_ERROR_BUSY },
};

KpWorkerError
kp_worker_error_from_status (guint       status,
                             const char *error_code)
{
  if (error_code != NULL)
    for (guint i = 0; i < G_N_ELEMENTS (error_map); i++)
      if (strcmp (error_map[i].code, error_code) == 0)
        return error_map[i].error;

  for (guint i = 0; i < G_N_ELEMENTS (error_map); i++)
    if (error_map[i].status == status)
      return error_map[i].error;

  /* Statuses the API does not document: other 5xx are server trouble that
   * may pass, other 4xx are final. */
  if (status >= 500 && status < 600)
    return KP_WORKER_ERROR_INTERNAL;
  if (status == 408)
    return KP_WORKER_ERROR_NETWORK;
  return KP_WORKER_ERROR_FAILED;
}

gboolean
kp_worker_error_is_retryable (const GError *error)
{
  if (error == NULL || error->domain != KP_WORKER_ERROR)
    return FALSE;

  switch ((KpWorkerError)error->code)
    {
    case KP_WORKER_ERROR_NETWORK:
    case KP_WORKER_ERROR_RATE_LIMITED:
    case KP_WORKER_ERROR_INTERNAL:
    case KP_WORKER_ERROR_BUSY:
    case KP_WORKER_ERROR_CORRUPT:
      return TRUE;

    case KP_WORKER_ERROR_FAILED:
    case KP_WORKER_ERROR_INVALID_URL:
    case KP_WORKER_ERROR_PROTOCOL:
    case KP_WORKER_ERROR_INVALID_REQUEST:
    case KP_WORKER_ERROR_UNAUTHORIZED:
    case KP_WORKER_ERROR_FORBIDDEN:
    case KP_WORKER_ERROR_NOT_FOUND:
    case KP_WORKER_ERROR_METHOD_NOT_ALLOWED:
    case KP_WORKER_ERROR_CONFLICT:
    case KP_WORKER_ERROR_GONE:
    case KP_WORKER_ERROR_TOO_LARGE:
    case KP_WORKER_ERROR_RANGE_NOT_SATISFIABLE:
    default:
      return FALSE;
    }
}

/* Turns a failure before any answer into NETWORK; cancellation passes. */
static GError *
transport_error (KpWorkerClient *self,
                 GError         *error)
{
  GError *mapped;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return error;

  if (error->domain == G_IO_ERROR || error->domain == G_RESOLVER_ERROR ||
      error->domain == G_TLS_ERROR)
    mapped = g_error_new (KP_WORKER_ERROR, KP_WORKER_ERROR_NETWORK,
                          _("Cannot reach the server at %s: %s"),
                          self->server_url, error->message);
  else
    mapped = g_error_new (KP_WORKER_ERROR, KP_WORKER_ERROR_PROTOCOL,
                          _("The server at %s sent an answer that cannot be understood: %s"),
                          self->server_url, error->message);
  g_error_free (error);
  return mapped;
}

static JsonObject *
parse_object (GBytes *body)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  const char *data;
  gsize len;

  if (body == NULL)
    return NULL;
  data = g_bytes_get_data (body, &len);
  if (len == 0 || !json_parser_load_from_data (parser, data, len, NULL))
    return NULL;
  if (json_parser_get_root (parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static GError *
status_error (KpWorkerClient *self,
              guint           status,
              const char     *reason_phrase,
              GBytes         *body)
{
  g_autoptr(JsonObject) object = parse_object (body);
  const char *code = NULL;
  const char *message = NULL;

  if (object != NULL)
    {
      code = json_object_get_string_member_with_default (object, "error", NULL);
      message = json_object_get_string_member_with_default (object, "message", NULL);
    }

  if (message != NULL)
    return g_error_new (KP_WORKER_ERROR, kp_worker_error_from_status (status, code),
                        "%s", message);

  return g_error_new (KP_WORKER_ERROR, kp_worker_error_from_status (status, code),
                      _("The server at %s answered %u %s"), self->server_url, status,
                      reason_phrase != NULL ? reason_phrase : "");
}

/* --- requests --- */

static SoupMessage *
new_message (KpWorkerClient  *self,
             const char      *method,
             const char      *relative,
             GError         **error)
{
  g_autoptr(GUri) uri = NULL;
  SoupMessage *msg;

  if (self->api_uri == NULL)
    {
      g_set_error (error, KP_WORKER_ERROR, KP_WORKER_ERROR_INVALID_URL,
                   _("“%s” is not a server address; use one like https://example.org:8443/"),
                   self->server_url);
      return NULL;
    }

  uri = g_uri_parse_relative (self->api_uri, relative, G_URI_FLAGS_ENCODED, error);
  if (uri == NULL)
    return NULL;

  msg = soup_message_new_from_uri (method, uri);
  soup_message_headers_replace (soup_message_get_request_headers (msg),
                                "Authorization", self->authorization);
  soup_message_headers_replace (soup_message_get_request_headers (msg),
                                "Accept", "application/json");
  return msg;
}

static char *
build_path (const char *format,
            const char *id)
{
  g_autofree char *escaped = g_uri_escape_string (id, NULL, FALSE);

  return g_strdup_printf (format, escaped);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *)a, *(const char * const *)b);
}

static char *
build_query (const char *path,
             GHashTable *params)
{
  g_autoptr(GString) out = g_string_new (path);
  g_autofree gpointer *keys = NULL;
  guint n_keys = 0;
  gboolean first = TRUE;

  if (params == NULL)
    return g_string_free (g_steal_pointer (&out), FALSE);

  keys = g_hash_table_get_keys_as_array (params, &n_keys);
  qsort (keys, n_keys, sizeof (gpointer), compare_strings);
  for (guint i = 0; i < n_keys; i++)
    {
      const char *value = g_hash_table_lookup (params, keys[i]);
      g_autofree char *k = NULL;
      g_autofree char *v = NULL;

      if (value == NULL)
        continue;
      k = g_uri_escape_string (keys[i], NULL, FALSE);
      v = g_uri_escape_string (value, NULL, FALSE);
      g_string_append_printf (out, "%c%s=%s", first ? '?' : '&', k, v);
      first = FALSE;
    }

  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
call_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KpWorkerClient *self = g_task_get_source_object (task);
  SoupMessage *msg = g_task_get_task_data (task);
  g_autoptr(GBytes) body = NULL;
  GError *error = NULL;
  JsonObject *object;
  guint status;

  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);
  if (body == NULL)
    {
      g_task_return_error (task, transport_error (self, error));
      return;
    }

  status = soup_message_get_status (msg);
  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      g_task_return_error (task, status_error (self, status,
                                               soup_message_get_reason_phrase (msg), body));
      return;
    }

  object = parse_object (body);
  if (object == NULL)
    {
      g_task_return_new_error (task, KP_WORKER_ERROR, KP_WORKER_ERROR_PROTOCOL,
                               _("The server at %s sent an answer that is not a JSON object"),
                               self->server_url);
      return;
    }

  g_task_return_pointer (task, object, (GDestroyNotify)json_object_unref);
}

static void
call_async (KpWorkerClient      *self,
            const char          *method,
            const char          *relative,
            GBytes              *body,
            gpointer             source_tag,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(SoupMessage) msg = NULL;
  GError *error = NULL;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);

  msg = new_message (self, method, relative, &error);
  if (msg == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  if (body != NULL)
    soup_message_set_request_body_from_bytes (msg, "application/json", body);

  g_task_set_task_data (task, g_object_ref (msg), g_object_unref);
  soup_session_send_and_read_async (self->session, msg, G_PRIORITY_DEFAULT, cancellable,
                                    call_cb, g_steal_pointer (&task));
}

static GBytes *
node_to_bytes (JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  gsize len = 0;
  char *text;

  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, &len);
  return g_bytes_new_take (text, len);
}

JsonObject *
kp_worker_client_call_finish (KpWorkerClient  *self,
                              GAsyncResult    *result,
                              GError         **error)
{
  g_return_val_if_fail (KP_IS_WORKER_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

#define CHECK_ARGS(self, cancellable) \
  g_return_if_fail (KP_IS_WORKER_CLIENT (self)); \
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable))

void
kp_worker_client_get_me_async (KpWorkerClient      *self,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  CHECK_ARGS (self, cancellable);
  call_async (self, SOUP_METHOD_GET, "me", NULL, kp_worker_client_get_me_async,
              cancellable, callback, user_data);
}

void
kp_worker_client_list_groups_async (KpWorkerClient      *self,
                                    GHashTable          *params,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autofree char *path = NULL;

  CHECK_ARGS (self, cancellable);
  path = build_query ("groups", params);
  call_async (self, SOUP_METHOD_GET, path, NULL, kp_worker_client_list_groups_async,
              cancellable, callback, user_data);
}

static void
id_call (KpWorkerClient      *self,
         const char          *method,
         const char          *format,
         const char          *id,
         gpointer             source_tag,
         GCancellable        *cancellable,
         GAsyncReadyCallback  callback,
         gpointer             user_data)
{
  g_autofree char *path = build_path (format, id);

  call_async (self, method, path, NULL, source_tag, cancellable, callback, user_data);
}

/* The endpoints that name one object in their path, one line each. */
#define ID_ENDPOINT(name, method, format) \
  void \
  kp_worker_client_##name##_async (KpWorkerClient      *self, \
                                   const char          *id, \
                                   GCancellable        *cancellable, \
                                   GAsyncReadyCallback  callback, \
                                   gpointer             user_data) \
  { \
    CHECK_ARGS (self, cancellable); \
    g_return_if_fail (id != NULL); \
    id_call (self, method, format, id, kp_worker_client_##name##_async, \
             cancellable, callback, user_data); \
  }

ID_ENDPOINT (get_group, SOUP_METHOD_GET, "groups/%s")
ID_ENDPOINT (preview_group, SOUP_METHOD_GET, "groups/%s/preview")
ID_ENDPOINT (get_hit, SOUP_METHOD_GET, "hits/%s")
ID_ENDPOINT (accept_group, SOUP_METHOD_POST, "groups/%s/accept")
ID_ENDPOINT (accept_hit, SOUP_METHOD_POST, "hits/%s/accept")
ID_ENDPOINT (get_assignment, SOUP_METHOD_GET, "assignments/%s")
ID_ENDPOINT (return_assignment, SOUP_METHOD_POST, "assignments/%s/return")
ID_ENDPOINT (get_qualification_type, SOUP_METHOD_GET, "qualification-types/%s")

#undef ID_ENDPOINT

void
kp_worker_client_accept_group_many_async (KpWorkerClient      *self,
                                          const char          *hit_type_id,
                                          guint                count,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data)
{
  g_autofree char *escaped = NULL;
  g_autofree char *path = NULL;

  CHECK_ARGS (self, cancellable);
  g_return_if_fail (hit_type_id != NULL);
  g_return_if_fail (count >= 1 && count <= 100);

  escaped = g_uri_escape_string (hit_type_id, NULL, FALSE);
  path = g_strdup_printf ("groups/%s/accept?count=%u", escaped, count);
  call_async (self, SOUP_METHOD_POST, path, NULL, kp_worker_client_accept_group_many_async,
              cancellable, callback, user_data);
}

void
kp_worker_client_list_assignments_async (KpWorkerClient      *self,
                                         GHashTable          *params,
                                         GCancellable        *cancellable,
                                         GAsyncReadyCallback  callback,
                                         gpointer             user_data)
{
  g_autofree char *path = NULL;

  CHECK_ARGS (self, cancellable);
  path = build_query ("assignments", params);
  call_async (self, SOUP_METHOD_GET, path, NULL, kp_worker_client_list_assignments_async,
              cancellable, callback, user_data);
}

void
kp_worker_client_submit_async (KpWorkerClient      *self,
                               const char          *assignment_id,
                               const char          *submission_id,
                               JsonNode            *answers,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autofree char *path = NULL;

  CHECK_ARGS (self, cancellable);
  g_return_if_fail (assignment_id != NULL);
  g_return_if_fail (submission_id != NULL);
  g_return_if_fail (answers != NULL);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "submission_id");
  json_builder_add_string_value (builder, submission_id);
  json_builder_set_member_name (builder, "answers");
  json_builder_add_value (builder, json_node_copy (answers));
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  body = node_to_bytes (root);

  path = build_path ("assignments/%s/submit", assignment_id);
  call_async (self, SOUP_METHOD_POST, path, body, kp_worker_client_submit_async,
              cancellable, callback, user_data);
}

void
kp_worker_client_sync_async (KpWorkerClient      *self,
                             GBytes              *body,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  CHECK_ARGS (self, cancellable);
  g_return_if_fail (body != NULL);

  call_async (self, SOUP_METHOD_POST, "sync", body, kp_worker_client_sync_async,
              cancellable, callback, user_data);
}

void
kp_worker_client_get_earnings_async (KpWorkerClient      *self,
                                     GHashTable          *params,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autofree char *path = NULL;

  CHECK_ARGS (self, cancellable);
  path = build_query ("earnings", params);
  call_async (self, SOUP_METHOD_GET, path, NULL, kp_worker_client_get_earnings_async,
              cancellable, callback, user_data);
}

void
kp_worker_client_list_messages_async (KpWorkerClient      *self,
                                      GHashTable          *params,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  g_autofree char *path = NULL;

  CHECK_ARGS (self, cancellable);
  path = build_query ("messages", params);
  call_async (self, SOUP_METHOD_GET, path, NULL, kp_worker_client_list_messages_async,
              cancellable, callback, user_data);
}

void
kp_worker_client_list_qualifications_async (KpWorkerClient      *self,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data)
{
  CHECK_ARGS (self, cancellable);
  call_async (self, SOUP_METHOD_GET, "qualifications", NULL,
              kp_worker_client_list_qualifications_async, cancellable, callback, user_data);
}

void
kp_worker_client_request_qualification_async (KpWorkerClient      *self,
                                              const char          *qualification_type_id,
                                              JsonNode            *answers,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autofree char *path = NULL;

  CHECK_ARGS (self, cancellable);
  g_return_if_fail (qualification_type_id != NULL);

  json_builder_begin_object (builder);
  if (answers != NULL)
    {
      json_builder_set_member_name (builder, "answers");
      json_builder_add_value (builder, json_node_copy (answers));
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  body = node_to_bytes (root);

  path = build_path ("qualification-types/%s/request", qualification_type_id);
  call_async (self, SOUP_METHOD_POST, path, body,
              kp_worker_client_request_qualification_async, cancellable, callback, user_data);
}

/* --- media downloads --- */

/* SHA-256 while the bytes stream. Nettle's uses the CPU's SHA instructions
 * (about four times GChecksum's speed here), which matters when hashing
 * is what limits a prefetch; GChecksum otherwise. */
typedef struct
{
#ifdef HAVE_NETTLE
  struct sha256_ctx  ctx;
#else
  GChecksum         *checksum;
#endif
  char               hex[65];
} Hasher;

static Hasher *
hasher_new (void)
{
  Hasher *h = g_new0 (Hasher, 1);

#ifdef HAVE_NETTLE
  sha256_init (&h->ctx);
#else
  h->checksum = g_checksum_new (G_CHECKSUM_SHA256);
#endif
  return h;
}

static void
hasher_free (Hasher *h)
{
#ifndef HAVE_NETTLE
  g_checksum_free (h->checksum);
#endif
  g_free (h);
}

static void
hasher_reset (Hasher *h)
{
#ifdef HAVE_NETTLE
  sha256_init (&h->ctx);
#else
  g_checksum_reset (h->checksum);
#endif
}

static void
hasher_update (Hasher       *h,
               const guchar *data,
               gsize         len)
{
#ifdef HAVE_NETTLE
  sha256_update (&h->ctx, len, data);
#else
  g_checksum_update (h->checksum, data, len);
#endif
}

/* The lower-case hex digest; ends the hashing. */
static const char *
hasher_hex (Hasher *h)
{
#ifdef HAVE_NETTLE
  guint8 digest[SHA256_DIGEST_SIZE];

  sha256_digest (&h->ctx, sizeof digest, digest);
  for (guint i = 0; i < SHA256_DIGEST_SIZE; i++)
    g_snprintf (h->hex + 2 * i, 3, "%02x", digest[i]);
#else
  g_strlcpy (h->hex, g_checksum_get_string (h->checksum), sizeof h->hex);
#endif
  return h->hex;
}

typedef struct
{
  char           *sha256;
  char           *dest;
  char           *part;
  guint           attempt;
  guint           max_attempts;
  gboolean        no_resume;
  KpProgressFunc  progress;
  gpointer        progress_data;
  GDestroyNotify  progress_destroy;
  SoupMessage    *msg;
  GInputStream   *in;
  GOutputStream  *out;
  Hasher         *checksum;
  guint64         done;
  guint64         total;
  char           *content_type;
} Download;

static void
download_free (Download *d)
{
  if (d->progress_destroy != NULL)
    d->progress_destroy (d->progress_data);
  g_free (d->sha256);
  g_free (d->dest);
  g_free (d->part);
  g_clear_object (&d->msg);
  g_clear_object (&d->in);
  g_clear_object (&d->out);
  g_clear_pointer (&d->checksum, hasher_free);
  g_free (d->content_type);
  g_free (d);
}

static void download_start (GTask *task);

static void
download_reset_streams (Download *d)
{
  g_clear_object (&d->msg);
  g_clear_object (&d->in);
  if (d->out != NULL)
    g_output_stream_close (d->out, NULL, NULL);
  g_clear_object (&d->out);
  g_clear_pointer (&d->checksum, hasher_free);
}

static gboolean
download_retry_cb (gpointer user_data)
{
  download_start (g_object_ref (G_TASK (user_data)));
  return G_SOURCE_REMOVE;
}

/* Ends the attempt with error: retries what may pass, else fails. */
static void
download_fail (GTask  *task,
               GError *error)
{
  Download *d = g_task_get_task_data (task);
  g_autoptr(GSource) source = NULL;

  download_reset_streams (d);

  if (g_error_matches (error, KP_WORKER_ERROR, KP_WORKER_ERROR_CORRUPT))
    g_unlink (d->part);

  if (!kp_worker_error_is_retryable (error) || d->attempt >= d->max_attempts ||
      g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  g_debug ("Downloading media %s again (attempt %u): %s", d->sha256, d->attempt + 1,
           error->message);
  g_error_free (error);

  source = g_timeout_source_new (50 * d->attempt);
  g_task_attach_source (task, source, download_retry_cb);
  g_object_unref (task);
}

static void
download_read_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  Download *d = g_task_get_task_data (task);
  KpWorkerClient *self = g_task_get_source_object (task);
  g_autoptr(GBytes) bytes = NULL;
  GError *error = NULL;
  const char *digest;
  gsize len;

  bytes = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);
  if (bytes == NULL)
    {
      download_fail (task, transport_error (self, error));
      return;
    }

  len = g_bytes_get_size (bytes);
  if (len > 0)
    {
      const guchar *data = g_bytes_get_data (bytes, NULL);

      if (!g_output_stream_write_all (d->out, data, len, NULL, NULL, &error))
        {
          g_prefix_error (&error, _("Cannot store the media %s: "), d->sha256);
          download_reset_streams (d);
          g_task_return_error (task, error);
          g_object_unref (task);
          return;
        }
      hasher_update (d->checksum, data, len);
      d->done += len;
      if (d->progress != NULL)
        d->progress (d->done, d->total, d->progress_data);

      g_input_stream_read_bytes_async (d->in, READ_CHUNK, G_PRIORITY_DEFAULT,
                                       g_task_get_cancellable (task), download_read_cb, task);
      return;
    }

  /* The end: the file counts only when its bytes hash to its name. */
  if (!g_output_stream_close (d->out, NULL, &error))
    {
      download_reset_streams (d);
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  digest = hasher_hex (d->checksum);
  if (strcmp (digest, d->sha256) != 0)
    {
      download_fail (task, g_error_new (KP_WORKER_ERROR, KP_WORKER_ERROR_CORRUPT,
                                        _("The media %s arrived damaged (its bytes hash to %s)"),
                                        d->sha256, digest));
      return;
    }

  if (g_rename (d->part, d->dest) != 0)
    {
      int saved_errno = errno;

      download_reset_streams (d);
      g_task_return_new_error (task, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                               _("Cannot store the media %s: %s"), d->sha256,
                               g_strerror (saved_errno));
      g_object_unref (task);
      return;
    }

  download_reset_streams (d);
  g_task_return_boolean (task, TRUE);
  g_object_unref (task);
}

/* Feeds the bytes of an earlier partial download to the checksum. */
static gboolean
hash_existing_part (Download *d,
                    guint64  *size)
{
  g_autoptr(GFile) file = g_file_new_for_path (d->part);
  g_autoptr(GFileInputStream) in = g_file_read (file, NULL, NULL);
  g_autofree guchar *buffer = NULL;
  gssize n;

  *size = 0;
  if (in == NULL)
    return FALSE;

  buffer = g_malloc (RESUME_HASH_CHUNK);
  while ((n = g_input_stream_read (G_INPUT_STREAM (in), buffer, RESUME_HASH_CHUNK,
                                   NULL, NULL)) > 0)
    {
      hasher_update (d->checksum, buffer, n);
      *size += n;
    }
  return n == 0;
}

static void
download_send_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *task = user_data;
  Download *d = g_task_get_task_data (task);
  KpWorkerClient *self = g_task_get_source_object (task);
  g_autoptr(GFile) file = NULL;
  GError *error = NULL;
  SoupMessageHeaders *headers;
  goffset length;
  guint status;

  d->in = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (d->in == NULL)
    {
      download_fail (task, transport_error (self, error));
      return;
    }

  status = soup_message_get_status (d->msg);
  headers = soup_message_get_response_headers (d->msg);
  file = g_file_new_for_path (d->part);

  if (status == SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE && d->done > 0)
    {
      /* The part is as long as the file or longer: it cannot be resumed. */
      g_unlink (d->part);
      d->no_resume = TRUE;
      d->attempt--;
      download_fail (task, g_error_new (KP_WORKER_ERROR, KP_WORKER_ERROR_NETWORK,
                                        "range not satisfiable"));
      return;
    }

  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      download_fail (task, status_error (self, status,
                                         soup_message_get_reason_phrase (d->msg), NULL));
      return;
    }

  if (status == SOUP_STATUS_PARTIAL_CONTENT && d->done > 0)
    d->out = G_OUTPUT_STREAM (g_file_append_to (file, G_FILE_CREATE_PRIVATE, NULL, &error));
  else
    {
      /* The range was ignored: the whole file comes again. */
      hasher_reset (d->checksum);
      d->done = 0;
      d->out = G_OUTPUT_STREAM (g_file_replace (file, NULL, FALSE, G_FILE_CREATE_PRIVATE,
                                                NULL, &error));
    }
  if (d->out == NULL)
    {
      g_prefix_error (&error, _("Cannot store the media %s: "), d->sha256);
      download_reset_streams (d);
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }

  length = soup_message_headers_get_content_length (headers);
  d->total = length > 0 ? d->done + (guint64)length : 0;
  g_free (d->content_type);
  d->content_type = g_strdup (soup_message_headers_get_content_type (headers, NULL));
  if (d->progress != NULL)
    d->progress (d->done, d->total, d->progress_data);

  g_input_stream_read_bytes_async (d->in, READ_CHUNK, G_PRIORITY_DEFAULT,
                                   g_task_get_cancellable (task), download_read_cb, task);
}

/* Takes the reference of task. */
static void
download_start (GTask *task)
{
  KpWorkerClient *self = g_task_get_source_object (task);
  Download *d = g_task_get_task_data (task);
  g_autofree char *path = NULL;
  GError *error = NULL;
  guint64 existing = 0;

  d->attempt++;
  d->checksum = hasher_new ();
  d->done = 0;
  d->total = 0;

  path = g_strconcat ("media/", d->sha256, NULL);
  d->msg = new_message (self, SOUP_METHOD_GET, path, &error);
  if (d->msg == NULL)
    {
      download_reset_streams (d);
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  soup_message_headers_replace (soup_message_get_request_headers (d->msg), "Accept", "*/*");

  if (!d->no_resume && hash_existing_part (d, &existing) && existing > 0)
    {
      g_autofree char *etag = g_strdup_printf ("\"%s\"", d->sha256);

      d->done = existing;
      soup_message_headers_set_range (soup_message_get_request_headers (d->msg),
                                      (goffset)existing, -1);
      soup_message_headers_replace (soup_message_get_request_headers (d->msg),
                                    "If-Range", etag);
    }
  else
    hasher_reset (d->checksum);

  soup_session_send_async (self->session, d->msg, G_PRIORITY_DEFAULT,
                           g_task_get_cancellable (task), download_send_cb, task);
}

static gboolean
is_sha256 (const char *text)
{
  if (text == NULL || strlen (text) != 64)
    return FALSE;
  for (guint i = 0; i < 64; i++)
    if (!g_ascii_isxdigit (text[i]) || g_ascii_isupper (text[i]))
      return FALSE;
  return TRUE;
}

void
kp_worker_client_download_media_async (KpWorkerClient      *self,
                                       const char          *sha256,
                                       const char          *dest_path,
                                       guint                max_attempts,
                                       KpProgressFunc       progress,
                                       gpointer             progress_data,
                                       GDestroyNotify       progress_destroy,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  GTask *task;
  Download *d;

  CHECK_ARGS (self, cancellable);
  g_return_if_fail (sha256 != NULL);
  g_return_if_fail (dest_path != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kp_worker_client_download_media_async);

  d = g_new0 (Download, 1);
  d->sha256 = g_strdup (sha256);
  d->dest = g_strdup (dest_path);
  d->part = g_strconcat (dest_path, ".part", NULL);
  d->max_attempts = max_attempts > 0 ? max_attempts : 3;
  d->progress = progress;
  d->progress_data = progress_data;
  d->progress_destroy = progress_destroy;
  g_task_set_task_data (task, d, (GDestroyNotify)download_free);

  if (!is_sha256 (sha256))
    {
      g_task_return_new_error (task, KP_WORKER_ERROR, KP_WORKER_ERROR_NOT_FOUND,
                               _("“%s” is not the name of a media file (a SHA-256 in hex)"),
                               sha256);
      g_object_unref (task);
      return;
    }

  download_start (task);
}

gboolean
kp_worker_client_download_media_finish (KpWorkerClient  *self,
                                        GAsyncResult    *result,
                                        guint64         *size,
                                        char           **content_type,
                                        GError         **error)
{
  Download *d;

  g_return_val_if_fail (KP_IS_WORKER_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        kp_worker_client_download_media_async, FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;

  d = g_task_get_task_data (G_TASK (result));
  if (size != NULL)
    *size = d->done;
  if (content_type != NULL)
    *content_type = g_strdup (d->content_type);
  return TRUE;
}

/* --- object --- */

static void
kp_worker_client_dispose (GObject *object)
{
  KpWorkerClient *self = (KpWorkerClient *)object;

  if (self->session != NULL)
    soup_session_abort (self->session);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (kp_worker_client_parent_class)->dispose (object);
}

static void
kp_worker_client_finalize (GObject *object)
{
  KpWorkerClient *self = (KpWorkerClient *)object;

  g_free (self->server_url);
  g_free (self->api_url);
  g_clear_pointer (&self->api_uri, g_uri_unref);
  if (self->authorization != NULL)
    memset (self->authorization, 0, strlen (self->authorization));
  g_free (self->authorization);

  G_OBJECT_CLASS (kp_worker_client_parent_class)->finalize (object);
}

static void
kp_worker_client_class_init (KpWorkerClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kp_worker_client_dispose;
  object_class->finalize = kp_worker_client_finalize;
}

static void
kp_worker_client_init (KpWorkerClient *self)
{
  self->session = soup_session_new_with_options ("timeout", REQUEST_TIMEOUT_SECONDS,
                                                 "max-conns", DEFAULT_MAX_CONNECTIONS * 2,
                                                 "max-conns-per-host", DEFAULT_MAX_CONNECTIONS,
                                                 "user-agent", "kempelen/" PACKAGE_VERSION " ",
                                                 NULL);
}

static void
set_server_url (KpWorkerClient *self,
                const char     *server_url)
{
  g_autoptr(GUri) uri = NULL;
  g_autofree char *base = NULL;

  base = g_str_has_suffix (server_url, "/") ? g_strdup (server_url)
                                             : g_strconcat (server_url, "/", NULL);
  self->server_url = g_strdup (base);
  if (g_str_has_suffix (base, "/worker/v1/"))
    self->api_url = g_steal_pointer (&base);
  else
    self->api_url = g_strconcat (base, "worker/v1/", NULL);

  uri = g_uri_parse (self->api_url, G_URI_FLAGS_ENCODED, NULL);
  if (uri != NULL && g_uri_get_host (uri) != NULL && *g_uri_get_host (uri) != '\0' &&
      (g_ascii_strcasecmp (g_uri_get_scheme (uri), "http") == 0 ||
       g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") == 0))
    self->api_uri = g_steal_pointer (&uri);
}

KpWorkerClient *
kp_worker_client_new (const char *server_url,
                      const char *token)
{
  KpWorkerClient *self;

  g_return_val_if_fail (server_url != NULL, NULL);
  g_return_val_if_fail (token != NULL, NULL);

  self = g_object_new (KP_TYPE_WORKER_CLIENT, NULL);
  set_server_url (self, server_url);
  self->authorization = g_strconcat ("Bearer ", token, NULL);

  return self;
}

const char *
kp_worker_client_get_server_url (KpWorkerClient *self)
{
  g_return_val_if_fail (KP_IS_WORKER_CLIENT (self), NULL);
  return self->server_url;
}

const char *
kp_worker_client_get_api_url (KpWorkerClient *self)
{
  g_return_val_if_fail (KP_IS_WORKER_CLIENT (self), NULL);
  return self->api_url;
}

void
kp_worker_client_set_max_connections (KpWorkerClient *self,
                                      guint           n_connections)
{
  g_autoptr(SoupSession) session = NULL;

  g_return_if_fail (KP_IS_WORKER_CLIENT (self));
  g_return_if_fail (n_connections > 0);

  /* The limits are construct-only: a new session, and the old one ends. */
  session = g_steal_pointer (&self->session);
  soup_session_abort (session);
  self->session = soup_session_new_with_options ("timeout", REQUEST_TIMEOUT_SECONDS,
                                                 "max-conns", n_connections * 2,
                                                 "max-conns-per-host", n_connections,
                                                 "user-agent", "kempelen/" PACKAGE_VERSION " ",
                                                 NULL);
}
