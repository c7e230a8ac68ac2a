/* kp-client.c: the client side of the Kempelen server's API (libsoup)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-client.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_DEFINE_QUARK (kp-client-error-quark, kp_client_error)

#define REQUEST_TIMEOUT_SECONDS 30

struct _KpClient
{
  GObject      parent_instance;

  char        *base_url;
  GUri        *base_uri;   /* NULL when base_url is not a usable URL */
  SoupSession *session;
};

G_DEFINE_FINAL_TYPE (KpClient, kp_client, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_BASE_URL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Errors: the one place that turns transport and HTTP failures into
 * sentences for people. Cancellation passes through untouched. */

static void
propagate_transport_error (KpClient  *self,
                           GTask     *task,
                           GError    *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, error);
      return;
    }

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
    g_task_return_new_error (task, KP_CLIENT_ERROR, KP_CLIENT_ERROR_UNREACHABLE,
                             _("Cannot reach the server at %s: nothing answers there. "
                               "Check that the server is running and the address is right."),
                             self->base_url);
  else if (error->domain == G_IO_ERROR ||
           error->domain == G_RESOLVER_ERROR ||
           error->domain == G_TLS_ERROR)
    g_task_return_new_error (task, KP_CLIENT_ERROR, KP_CLIENT_ERROR_UNREACHABLE,
                             _("Cannot reach the server at %s: %s"),
                             self->base_url, error->message);
  else
    g_task_return_new_error (task, KP_CLIENT_ERROR, KP_CLIENT_ERROR_PROTOCOL,
                             _("The server at %s sent an answer that cannot be understood: %s"),
                             self->base_url, error->message);

  g_error_free (error);
}

/* Reads the "Message" of an MTurk-style JSON error body, if there is one. */
static char *
dup_error_message (GBytes *body)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *object;
  const char *data;
  gsize len;

  if (body == NULL)
    return NULL;

  data = g_bytes_get_data (body, &len);
  if (len == 0 || !json_parser_load_from_data (parser, data, len, NULL))
    return NULL;

  if (!JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return NULL;

  object = json_node_get_object (json_parser_get_root (parser));
  if (!json_object_has_member (object, "Message"))
    return NULL;

  return g_strdup (json_object_get_string_member_with_default (object, "Message", NULL));
}

static gboolean
check_status (KpClient     *self,
              SoupMessage  *msg,
              GBytes       *body,
              GError      **error)
{
  guint status = soup_message_get_status (msg);
  g_autofree char *message = NULL;

  if (SOUP_STATUS_IS_SUCCESSFUL (status))
    return TRUE;

  message = dup_error_message (body);
  if (message == NULL)
    message = g_strdup_printf ("%u %s", status,
                               soup_message_get_reason_phrase (msg) ? soup_message_get_reason_phrase (msg) : "");

  g_set_error (error, KP_CLIENT_ERROR, KP_CLIENT_ERROR_SERVER,
               _("The server at %s refused the request: %s"), self->base_url, message);
  return FALSE;
}

static JsonObject *
parse_object (KpClient  *self,
              GBytes    *body,
              GError   **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;
  const char *data;
  gsize len;

  data = g_bytes_get_data (body, &len);
  if (!json_parser_load_from_data (parser, data, len, &local_error))
    {
      g_set_error (error, KP_CLIENT_ERROR, KP_CLIENT_ERROR_PROTOCOL,
                   _("The server at %s sent an answer that cannot be understood: %s"),
                   self->base_url, local_error->message);
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, KP_CLIENT_ERROR, KP_CLIENT_ERROR_PROTOCOL,
                   _("The server at %s sent an answer that cannot be understood"),
                   self->base_url);
      return NULL;
    }

  return json_object_ref (json_node_get_object (root));
}

/* Requests */

static SoupMessage *
new_message (KpClient    *self,
             const char  *method,
             const char  *relative_path,
             GError     **error)
{
  g_autoptr(GUri) uri = NULL;

  if (self->base_uri == NULL)
    {
      g_set_error (error, KP_CLIENT_ERROR, KP_CLIENT_ERROR_INVALID_URL,
                   _("“%s” is not a server address; use one like http://127.0.0.1:8470/"),
                   self->base_url);
      return NULL;
    }

  uri = g_uri_parse_relative (self->base_uri, relative_path, G_URI_FLAGS_ENCODED, error);
  if (uri == NULL)
    return NULL;

  return soup_message_new_from_uri (method, uri);
}

static void
check_health_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  SoupSession *session = (SoupSession *)source;
  g_autoptr(GTask) task = user_data;
  KpClient *self = g_task_get_source_object (task);
  SoupMessage *msg = g_task_get_task_data (task);
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(GBytes) body = NULL;
  GError *error = NULL;
  const char *version;

  body = soup_session_send_and_read_finish (session, result, &error);
  if (body == NULL)
    {
      propagate_transport_error (self, task, error);
      return;
    }

  if (!check_status (self, msg, body, &error) ||
      (object = parse_object (self, body, &error)) == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  version = json_object_get_string_member_with_default (object, "version", NULL);
  if (version == NULL ||
      g_strcmp0 (json_object_get_string_member_with_default (object, "status", NULL), "ok") != 0)
    {
      g_task_return_new_error (task, KP_CLIENT_ERROR, KP_CLIENT_ERROR_PROTOCOL,
                               _("The server at %s does not report itself healthy"),
                               self->base_url);
      return;
    }

  g_task_return_pointer (task, g_strdup (version), g_free);
}

void
kp_client_check_health_async (KpClient            *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(SoupMessage) msg = NULL;
  GError *error = NULL;

  g_return_if_fail (KP_IS_CLIENT (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kp_client_check_health_async);

  msg = new_message (self, SOUP_METHOD_GET, "health", &error);
  if (msg == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  soup_message_headers_replace (soup_message_get_request_headers (msg),
                                "Accept", "application/json");
  g_task_set_task_data (task, g_object_ref (msg), g_object_unref);

  soup_session_send_and_read_async (self->session, msg, G_PRIORITY_DEFAULT, cancellable,
                                    check_health_cb, g_steal_pointer (&task));
}

char *
kp_client_check_health_finish (KpClient      *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (KP_IS_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == kp_client_check_health_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Object */

static void
set_base_url (KpClient   *self,
              const char *base_url)
{
  g_autoptr(GUri) uri = NULL;

  g_assert (self->base_url == NULL);

  /* Relative paths resolve against the last segment's folder, so the base
   * must end with a slash for "health" to land under it. */
  if (base_url != NULL && *base_url != '\0' && !g_str_has_suffix (base_url, "/"))
    self->base_url = g_strconcat (base_url, "/", NULL);
  else
    self->base_url = g_strdup (base_url != NULL ? base_url : "");

  uri = g_uri_parse (self->base_url, G_URI_FLAGS_ENCODED, NULL);
  if (uri != NULL &&
      g_uri_get_host (uri) != NULL &&
      (g_ascii_strcasecmp (g_uri_get_scheme (uri), "http") == 0 ||
       g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") == 0))
    self->base_uri = g_steal_pointer (&uri);
}

static void
kp_client_finalize (GObject *object)
{
  KpClient *self = (KpClient *)object;

  g_clear_pointer (&self->base_url, g_free);
  g_clear_pointer (&self->base_uri, g_uri_unref);

  G_OBJECT_CLASS (kp_client_parent_class)->finalize (object);
}

static void
kp_client_dispose (GObject *object)
{
  KpClient *self = (KpClient *)object;

  if (self->session != NULL)
    soup_session_abort (self->session);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (kp_client_parent_class)->dispose (object);
}

static void
kp_client_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  KpClient *self = KP_CLIENT (object);

  switch (prop_id)
    {
    case PROP_BASE_URL:
      g_value_set_string (value, kp_client_get_base_url (self));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_client_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  KpClient *self = KP_CLIENT (object);

  switch (prop_id)
    {
    case PROP_BASE_URL:
      set_base_url (self, g_value_get_string (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_client_class_init (KpClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kp_client_dispose;
  object_class->finalize = kp_client_finalize;
  object_class->get_property = kp_client_get_property;
  object_class->set_property = kp_client_set_property;

  properties[PROP_BASE_URL] =
    g_param_spec_string ("base-url", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
kp_client_init (KpClient *self)
{
  self->session = soup_session_new_with_options ("timeout", REQUEST_TIMEOUT_SECONDS,
                                                 "user-agent", "kempelen/" PACKAGE_VERSION " ",
                                                 NULL);
}

KpClient *
kp_client_new (const char *base_url)
{
  g_return_val_if_fail (base_url != NULL, NULL);

  return g_object_new (KP_TYPE_CLIENT, "base-url", base_url, NULL);
}

const char *
kp_client_get_base_url (KpClient *self)
{
  g_return_val_if_fail (KP_IS_CLIENT (self), NULL);

  return self->base_url;
}
