/* kp-server.c: the requester server's HTTP front (libsoup)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Requests go through one dispatcher: it finds the route, checks the
 * method, calls a thin handler, and turns any GError the handler returns
 * into a JSON error response in kp_server_respond_error(), the one place
 * where error domains meet HTTP status codes. The MTurk operations
 * (POST / with X-Amz-Target) will be routes of this table.
 */

#include "config.h"

#include "kp-server.h"

#include <string.h>

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_DEFINE_QUARK (kp-server-error-quark, kp_server_error)

struct _KpServer
{
  GObject     parent_instance;

  SoupServer *soup_server;
};

G_DEFINE_FINAL_TYPE (KpServer, kp_server, G_TYPE_OBJECT)

typedef gboolean (*KpRouteHandler) (KpServer           *self,
                                    SoupServerMessage  *msg,
                                    GHashTable         *query,
                                    GError            **error);

typedef struct
{
  const char     *path;
  const char     *methods;  /* space separated, as in the Allow header */
  KpRouteHandler  handler;
} KpRoute;

static gboolean handle_health (KpServer           *self,
                               SoupServerMessage  *msg,
                               GHashTable         *query,
                               GError            **error);

static const KpRoute routes[] = {
  { "/health", "GET HEAD", handle_health },
};

/* Responses */

static void
respond_json (SoupServerMessage *msg,
              guint              status,
              JsonNode          *root)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *body = NULL;
  gsize len = 0;

  json_generator_set_root (generator, root);
  body = json_generator_to_data (generator, &len);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json",
                                    SOUP_MEMORY_TAKE, g_steal_pointer (&body), len);
}

/* The one mapping from errors to HTTP: status code plus a JSON body with
 * MTurk's "__type" and "Message". Internal details are logged, not sent. */
static void
kp_server_respond_error (SoupServerMessage *msg,
                         const GError      *error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  const char *type = "ServiceFault";
  const char *message = error->message;
  guint status = SOUP_STATUS_INTERNAL_SERVER_ERROR;

  if (error->domain == KP_SERVER_ERROR)
    {
      switch ((KpServerError)error->code)
        {
        case KP_SERVER_ERROR_NOT_FOUND:
          status = SOUP_STATUS_NOT_FOUND;
          type = "NotFound";
          break;

        case KP_SERVER_ERROR_METHOD_NOT_ALLOWED:
          status = SOUP_STATUS_METHOD_NOT_ALLOWED;
          type = "MethodNotAllowed";
          break;

        case KP_SERVER_ERROR_INVALID_REQUEST:
          status = SOUP_STATUS_BAD_REQUEST;
          type = "RequestError";
          break;

        case KP_SERVER_ERROR_FAILED:
        default:
          break;
        }
    }

  if (status == SOUP_STATUS_INTERNAL_SERVER_ERROR)
    {
      g_message ("Internal error for %s %s: %s",
                 soup_server_message_get_method (msg),
                 g_uri_get_path (soup_server_message_get_uri (msg)),
                 error->message);
      message = _("The server could not complete the request");
    }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "__type");
  json_builder_add_string_value (builder, type);
  json_builder_set_member_name (builder, "Message");
  json_builder_add_string_value (builder, message);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);

  respond_json (msg, status, root);
}

/* Handlers */

static gboolean
handle_health (KpServer           *self,
               SoupServerMessage  *msg,
               GHashTable         *query,
               GError            **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, "ok");
  json_builder_set_member_name (builder, "version");
  json_builder_add_string_value (builder, PACKAGE_VERSION);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);

  respond_json (msg, SOUP_STATUS_OK, root);
  return TRUE;
}

/* Dispatch */

static gboolean
method_allowed (const char *methods,
                const char *method)
{
  g_auto(GStrv) allowed = g_strsplit (methods, " ", -1);

  return g_strv_contains ((const char * const *)allowed, method);
}

static void
dispatch_cb (SoupServer        *soup_server,
             SoupServerMessage *msg,
             const char        *path,
             GHashTable        *query,
             gpointer           user_data)
{
  KpServer *self = user_data;
  const char *method = soup_server_message_get_method (msg);
  g_autoptr(GError) error = NULL;
  const KpRoute *route = NULL;

  g_debug ("%s %s", method, path);

  for (guint i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      if (g_str_equal (routes[i].path, path))
        {
          route = &routes[i];
          break;
        }
    }

  if (route == NULL)
    {
      g_set_error (&error, KP_SERVER_ERROR, KP_SERVER_ERROR_NOT_FOUND,
                   _("There is nothing at “%s”"), path);
    }
  else if (!method_allowed (route->methods, method))
    {
      g_set_error (&error, KP_SERVER_ERROR, KP_SERVER_ERROR_METHOD_NOT_ALLOWED,
                   _("“%s” does not accept %s requests"), path, method);
    }
  else
    {
      route->handler (self, msg, query, &error);
    }

  if (error != NULL)
    {
      if (route != NULL &&
          g_error_matches (error, KP_SERVER_ERROR, KP_SERVER_ERROR_METHOD_NOT_ALLOWED))
        {
          g_auto(GStrv) methods = g_strsplit (route->methods, " ", -1);
          g_autofree char *allow = g_strjoinv (", ", methods);

          soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                        "Allow", allow);
        }

      kp_server_respond_error (msg, error);
    }
}

/* Object */

static void
kp_server_dispose (GObject *object)
{
  KpServer *self = (KpServer *)object;

  kp_server_stop (self);
  g_clear_object (&self->soup_server);

  G_OBJECT_CLASS (kp_server_parent_class)->dispose (object);
}

static void
kp_server_class_init (KpServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kp_server_dispose;
}

static void
kp_server_init (KpServer *self)
{
  self->soup_server = soup_server_new ("server-header", "kempelen-server/" PACKAGE_VERSION " ",
                                       NULL);
  soup_server_add_handler (self->soup_server, NULL, dispatch_cb, self, NULL);
}

KpServer *
kp_server_new (void)
{
  return g_object_new (KP_TYPE_SERVER, NULL);
}

gboolean
kp_server_listen (KpServer    *self,
                  const char  *address,
                  guint        port,
                  GError     **error)
{
  g_autoptr(GInetAddress) inet_address = NULL;
  g_autoptr(GSocketAddress) socket_address = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (KP_IS_SERVER (self), FALSE);
  g_return_val_if_fail (address != NULL, FALSE);
  g_return_val_if_fail (port <= G_MAXUINT16, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  inet_address = g_inet_address_new_from_string (address);
  if (inet_address == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not an IP address"), address);
      return FALSE;
    }

  socket_address = g_inet_socket_address_new (inet_address, port);
  if (!soup_server_listen (self->soup_server, socket_address, 0, &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE))
        g_set_error (error, local_error->domain, local_error->code,
                     _("Cannot listen on %s port %u: another program is already using that port"),
                     address, port);
      else
        g_set_error (error, local_error->domain, local_error->code,
                     _("Cannot listen on %s port %u: %s"),
                     address, port, local_error->message);
      return FALSE;
    }

  return TRUE;
}

char *
kp_server_dup_uri (KpServer *self)
{
  g_autoslist(GUri) uris = NULL;

  g_return_val_if_fail (KP_IS_SERVER (self), NULL);

  uris = soup_server_get_uris (self->soup_server);
  if (uris == NULL)
    return NULL;

  return g_uri_to_string (uris->data);
}

void
kp_server_stop (KpServer *self)
{
  g_return_if_fail (KP_IS_SERVER (self));

  if (self->soup_server != NULL)
    soup_server_disconnect (self->soup_server);
}
