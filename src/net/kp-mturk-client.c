/* kp-mturk-client.c: a small MTurk Requester API client
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * POST / with X-Amz-Target: MTurkRequesterServiceV20170117.<Operation>,
 * a JSON body and a SigV4 Authorization made by core's kp_sigv4_sign(),
 * the code kempelen-server verifies with (and which botocore's signer
 * checks in tests/core). Throttling, 5xx answers and lost connections are
 * tried again with exponential back-off; callers make writes idempotent
 * with UniqueRequestToken.
 */

#include "config.h"

#include "kp-mturk-client.h"

#include <string.h>

#include <glib/gi18n.h>
#include <libsoup/soup.h>

#include "kp-core.h"

#define TARGET_PREFIX "MTurkRequesterServiceV20170117."
#define SERVICE       "mturk-requester"

G_DEFINE_QUARK (kp-mturk-error-quark, kp_mturk_error)

struct _KpMturkClient
{
  GObject             parent_instance;

  SoupSession        *session;
  GUri               *endpoint;
  KpMturkCredentials *credentials;
  guint               retries;
  guint               initial_delay_ms;
  char               *turk_code;
};

G_DEFINE_FINAL_TYPE (KpMturkClient, kp_mturk_client, G_TYPE_OBJECT)

/* Credentials */

void
kp_mturk_credentials_free (KpMturkCredentials *credentials)
{
  if (credentials == NULL)
    return;

  g_free (credentials->access_key_id);
  if (credentials->secret_access_key != NULL)
    memset (credentials->secret_access_key, 0, strlen (credentials->secret_access_key));
  g_free (credentials->secret_access_key);
  g_free (credentials->session_token);
  g_free (credentials->region);
  g_free (credentials);
}

static char *
dup_env_nonempty (const char *name)
{
  const char *value = g_getenv (name);

  return value != NULL && value[0] != '\0' ? g_strdup (value) : NULL;
}

static char *
dup_key_file_string (GKeyFile   *key_file,
                     const char *group,
                     const char *key)
{
  g_autofree char *value = g_key_file_get_string (key_file, group, key, NULL);

  if (value == NULL)
    return NULL;

  g_strstrip (value);
  return value[0] != '\0' ? g_steal_pointer (&value) : NULL;
}

KpMturkCredentials *
kp_mturk_credentials_load (const char  *profile,
                           GError     **error)
{
  g_autoptr(KpMturkCredentials) credentials = g_new0 (KpMturkCredentials, 1);
  g_autofree char *path = NULL;
  g_autofree char *profile_region = NULL;
  g_autoptr(GKeyFile) key_file = NULL;
  g_autoptr(GError) local_error = NULL;

  if (profile == NULL)
    {
      credentials->access_key_id = dup_env_nonempty ("AWS_ACCESS_KEY_ID");
      credentials->secret_access_key = dup_env_nonempty ("AWS_SECRET_ACCESS_KEY");
      credentials->session_token = dup_env_nonempty ("AWS_SESSION_TOKEN");
      profile = g_getenv ("AWS_PROFILE");
      if (profile == NULL || profile[0] == '\0')
        profile = "default";
    }

  if (credentials->access_key_id == NULL || credentials->secret_access_key == NULL)
    {
      g_clear_pointer (&credentials->access_key_id, g_free);
      g_clear_pointer (&credentials->secret_access_key, g_free);
      g_clear_pointer (&credentials->session_token, g_free);

      path = dup_env_nonempty ("AWS_SHARED_CREDENTIALS_FILE");
      if (path == NULL)
        path = g_build_filename (g_get_home_dir (), ".aws", "credentials", NULL);

      key_file = g_key_file_new ();
      if (!g_key_file_load_from_file (key_file, path, G_KEY_FILE_NONE, &local_error))
        {
          if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            g_set_error (error, KP_MTURK_ERROR, KP_MTURK_ERROR_CREDENTIALS,
                         _("No credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                           "or write them into %s"), path);
          else
            g_set_error (error, KP_MTURK_ERROR, KP_MTURK_ERROR_CREDENTIALS,
                         _("Cannot read %s: %s"), path, local_error->message);
          return NULL;
        }

      credentials->access_key_id = dup_key_file_string (key_file, profile, "aws_access_key_id");
      credentials->secret_access_key = dup_key_file_string (key_file, profile,
                                                            "aws_secret_access_key");
      credentials->session_token = dup_key_file_string (key_file, profile, "aws_session_token");
      profile_region = dup_key_file_string (key_file, profile, "region");

      if (credentials->access_key_id == NULL || credentials->secret_access_key == NULL)
        {
          g_set_error (error, KP_MTURK_ERROR, KP_MTURK_ERROR_CREDENTIALS,
                       _("The profile “%s” of %s has no aws_access_key_id and "
                         "aws_secret_access_key"), profile, path);
          return NULL;
        }
    }

  credentials->region = dup_env_nonempty ("AWS_REGION");
  if (credentials->region == NULL)
    credentials->region = dup_env_nonempty ("AWS_DEFAULT_REGION");
  if (credentials->region == NULL)
    credentials->region = g_steal_pointer (&profile_region);
  if (credentials->region == NULL)
    credentials->region = g_strdup ("us-east-1");

  return g_steal_pointer (&credentials);
}

/* Object */

static void
kp_mturk_client_finalize (GObject *object)
{
  KpMturkClient *self = (KpMturkClient *)object;

  g_clear_object (&self->session);
  g_clear_pointer (&self->endpoint, g_uri_unref);
  g_clear_pointer (&self->credentials, kp_mturk_credentials_free);
  g_clear_pointer (&self->turk_code, g_free);

  G_OBJECT_CLASS (kp_mturk_client_parent_class)->finalize (object);
}

static void
kp_mturk_client_class_init (KpMturkClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kp_mturk_client_finalize;
}

static void
kp_mturk_client_init (KpMturkClient *self)
{
  self->retries = 5;
  self->initial_delay_ms = 200;
}

static KpMturkCredentials *
credentials_copy (const KpMturkCredentials *credentials)
{
  KpMturkCredentials *copy = g_new0 (KpMturkCredentials, 1);

  copy->access_key_id = g_strdup (credentials->access_key_id);
  copy->secret_access_key = g_strdup (credentials->secret_access_key);
  copy->session_token = g_strdup (credentials->session_token);
  copy->region = g_strdup (credentials->region != NULL ? credentials->region : "us-east-1");

  return copy;
}

KpMturkClient *
kp_mturk_client_new (const char               *endpoint,
                     const KpMturkCredentials *credentials)
{
  KpMturkClient *self;

  g_return_val_if_fail (endpoint != NULL, NULL);
  g_return_val_if_fail (credentials != NULL, NULL);

  self = g_object_new (KP_TYPE_MTURK_CLIENT, NULL);
  self->endpoint = g_uri_parse (endpoint, G_URI_FLAGS_NONE, NULL);

  /* "https://host" means "https://host/": the request line needs a path. */
  if (self->endpoint != NULL && g_uri_get_path (self->endpoint)[0] == '\0')
    {
      GUri *with_path = g_uri_build (g_uri_get_flags (self->endpoint),
                                     g_uri_get_scheme (self->endpoint),
                                     g_uri_get_userinfo (self->endpoint),
                                     g_uri_get_host (self->endpoint),
                                     g_uri_get_port (self->endpoint), "/",
                                     g_uri_get_query (self->endpoint),
                                     g_uri_get_fragment (self->endpoint));

      g_uri_unref (self->endpoint);
      self->endpoint = with_path;
    }
  self->credentials = credentials_copy (credentials);
  self->session = soup_session_new_with_options ("timeout", 60,
                                                 "user-agent", "kempelenctl/" PACKAGE_VERSION,
                                                 NULL);

  return self;
}

void
kp_mturk_client_set_retries (KpMturkClient *self,
                             guint          retries,
                             guint          initial_delay_ms)
{
  g_return_if_fail (KP_IS_MTURK_CLIENT (self));

  self->retries = retries;
  self->initial_delay_ms = initial_delay_ms;
}

const char *
kp_mturk_client_get_turk_code (KpMturkClient *self)
{
  g_return_val_if_fail (KP_IS_MTURK_CLIENT (self), NULL);

  return self->turk_code;
}

/* Calls */

static void
copy_header_cb (gpointer key,
                gpointer value,
                gpointer user_data)
{
  SoupMessageHeaders *headers = user_data;

  /* libsoup writes Host itself, from the same URI. */
  if (g_ascii_strcasecmp (key, "host") != 0)
    soup_message_headers_replace (headers, key, value);
}

static char *
dup_host_header (GUri *uri)
{
  const char *scheme = g_uri_get_scheme (uri);
  int port = g_uri_get_port (uri);
  gboolean default_port = port == -1 ||
                          (g_ascii_strcasecmp (scheme, "http") == 0 && port == 80) ||
                          (g_ascii_strcasecmp (scheme, "https") == 0 && port == 443);
  const char *host = g_uri_get_host (uri);

  /* IPv6 literals are bracketed in Host. */
  if (strchr (host, ':') != NULL)
    return default_port ? g_strdup_printf ("[%s]", host)
                        : g_strdup_printf ("[%s]:%d", host, port);

  return default_port ? g_strdup (host) : g_strdup_printf ("%s:%d", host, port);
}

static SoupMessage *
new_signed_message (KpMturkClient *self,
                    const char    *operation,
                    GBytes        *body)
{
  g_autoptr(KpSigv4Request) req = NULL;
  g_autofree char *target = g_strconcat (TARGET_PREFIX, operation, NULL);
  g_autofree char *host = dup_host_header (self->endpoint);
  const char *path = g_uri_get_path (self->endpoint);
  SoupMessage *msg;

  if (path == NULL || path[0] == '\0')
    path = "/";

  req = kp_sigv4_request_new ("POST", path, NULL, body);
  kp_sigv4_request_add_header (req, "Host", host);
  kp_sigv4_request_add_header (req, "Content-Type", "application/x-amz-json-1.1");
  kp_sigv4_request_add_header (req, "X-Amz-Target", target);
  if (self->credentials->session_token != NULL)
    kp_sigv4_request_add_header (req, "X-Amz-Security-Token", self->credentials->session_token);
  kp_sigv4_sign (req, self->credentials->access_key_id, self->credentials->secret_access_key,
                 self->credentials->region, SERVICE, g_get_real_time () / G_USEC_PER_SEC);

  msg = soup_message_new_from_uri ("POST", self->endpoint);
  kp_sigv4_request_foreach_header (req, copy_header_cb, soup_message_get_request_headers (msg));
  soup_message_set_request_body_from_bytes (msg, "application/x-amz-json-1.1", body);

  return msg;
}

gboolean
kp_mturk_client_owns_url (KpMturkClient *self,
                          const char    *url)
{
  g_autoptr(GUri) uri = NULL;

  g_return_val_if_fail (KP_IS_MTURK_CLIENT (self), FALSE);

  if (url == NULL || (uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL)) == NULL ||
      g_uri_get_host (uri) == NULL)
    return FALSE;

  return g_ascii_strcasecmp (g_uri_get_scheme (uri), g_uri_get_scheme (self->endpoint)) == 0 &&
         g_ascii_strcasecmp (g_uri_get_host (uri), g_uri_get_host (self->endpoint)) == 0 &&
         g_uri_get_port (uri) == g_uri_get_port (self->endpoint);
}

void
kp_mturk_client_sign_message (KpMturkClient *self,
                              SoupMessage   *msg)
{
  g_autoptr(KpSigv4Request) req = NULL;
  g_autoptr(GBytes) empty = g_bytes_new_static ("", 0);
  GUri *uri;
  g_autofree char *host = NULL;
  const char *path;

  g_return_if_fail (KP_IS_MTURK_CLIENT (self));
  g_return_if_fail (SOUP_IS_MESSAGE (msg));

  uri = soup_message_get_uri (msg);
  host = dup_host_header (uri);
  path = g_uri_get_path (uri);
  if (path == NULL || path[0] == '\0')
    path = "/";

  req = kp_sigv4_request_new (soup_message_get_method (msg), path, g_uri_get_query (uri), empty);
  kp_sigv4_request_add_header (req, "Host", host);
  if (self->credentials->session_token != NULL)
    kp_sigv4_request_add_header (req, "X-Amz-Security-Token", self->credentials->session_token);
  kp_sigv4_sign (req, self->credentials->access_key_id, self->credentials->secret_access_key,
                 self->credentials->region, SERVICE, g_get_real_time () / G_USEC_PER_SEC);
  kp_sigv4_request_foreach_header (req, copy_header_cb, soup_message_get_request_headers (msg));
}

/* Turns an error answer into a GError; returns TRUE when it is worth
 * trying again. */
static gboolean
set_answer_error (KpMturkClient  *self,
                  guint           status,
                  JsonObject     *answer,
                  GError        **error)
{
  const char *type = NULL;
  const char *message = NULL;
  const char *hash;
  KpMturkError code;

  if (answer != NULL)
    {
      type = json_object_get_string_member_with_default (answer, "__type", NULL);
      message = json_object_get_string_member_with_default (answer, "Message", NULL);
      if (message == NULL)
        message = json_object_get_string_member_with_default (answer, "message", NULL);
      g_free (self->turk_code);
      self->turk_code = g_strdup (json_object_get_string_member_with_default (answer,
                                                                              "TurkErrorCode",
                                                                              NULL));
    }

  /* AWS writes "namespace#Type" in some answers. */
  if (type != NULL && (hash = strrchr (type, '#')) != NULL)
    type = hash + 1;

  if (type != NULL && (g_str_equal (type, "ThrottlingException") ||
                       g_str_equal (type, "TooManyRequestsException")))
    code = KP_MTURK_ERROR_THROTTLED;
  else if (status == 401 || status == 403 ||
           (type != NULL && (g_str_equal (type, "UnrecognizedClientException") ||
                             g_str_equal (type, "InvalidSignatureException") ||
                             g_str_equal (type, "AccessDeniedException") ||
                             g_str_equal (type, "IncompleteSignatureException"))))
    code = KP_MTURK_ERROR_UNAUTHORIZED;
  else if (status >= 500 || (type != NULL && g_str_equal (type, "ServiceFault")))
    code = KP_MTURK_ERROR_SERVICE;
  else if (self->turk_code != NULL && g_str_has_suffix (self->turk_code, "AlreadyExists"))
    code = KP_MTURK_ERROR_ALREADY_EXISTS;
  else if (status == 400)
    code = KP_MTURK_ERROR_REQUEST;
  else
    code = KP_MTURK_ERROR_FAILED;

  if (message != NULL)
    g_set_error_literal (error, KP_MTURK_ERROR, code, message);
  else
    g_set_error (error, KP_MTURK_ERROR, code, _("The server answered with HTTP status %u"),
                 status);

  return code == KP_MTURK_ERROR_THROTTLED || code == KP_MTURK_ERROR_SERVICE;
}

static JsonObject *
call_once (KpMturkClient  *self,
           const char     *operation,
           GBytes         *body,
           gboolean       *retry,
           GError        **error)
{
  g_autoptr(SoupMessage) msg = new_signed_message (self, operation, body);
  g_autoptr(GBytes) answer_bytes = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  JsonObject *answer = NULL;
  const char *data;
  gsize length;
  guint status;

  *retry = FALSE;
  g_clear_pointer (&self->turk_code, g_free);

  answer_bytes = soup_session_send_and_read (self->session, msg, NULL, &local_error);
  if (answer_bytes == NULL)
    {
      *retry = TRUE;
      g_set_error (error, KP_MTURK_ERROR, KP_MTURK_ERROR_NETWORK,
                   _("No answer from %s: %s"), g_uri_get_host (self->endpoint),
                   local_error->message);
      return NULL;
    }

  status = soup_message_get_status (msg);
  data = g_bytes_get_data (answer_bytes, &length);
  if (length > 0 && json_parser_load_from_data (parser, data, length, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    answer = json_node_get_object (json_parser_get_root (parser));

  if (status == 200 && answer != NULL)
    return json_object_ref (answer);

  if (status == 200)
    {
      g_set_error (error, KP_MTURK_ERROR, KP_MTURK_ERROR_FAILED,
                   _("The answer to %s is not a JSON object"), operation);
      return NULL;
    }

  *retry = set_answer_error (self, status, answer, error);
  return NULL;
}

JsonObject *
kp_mturk_client_call (KpMturkClient  *self,
                      const char     *operation,
                      JsonObject     *request,
                      GError        **error)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(JsonObject) empty = NULL;
  char *text;
  gsize length;
  guint64 delay_ms;

  g_return_val_if_fail (KP_IS_MTURK_CLIENT (self), NULL);
  g_return_val_if_fail (operation != NULL, NULL);

  if (self->endpoint == NULL)
    {
      g_set_error (error, KP_MTURK_ERROR, KP_MTURK_ERROR_FAILED,
                   _("The endpoint is not a URL"));
      return NULL;
    }

  if (request == NULL)
    request = empty = json_object_new ();
  json_node_set_object (node, request);
  text = json_to_string (node, FALSE);
  length = strlen (text);
  body = g_bytes_new_take (text, length);

  delay_ms = self->initial_delay_ms;
  for (guint attempt = 0;; attempt++)
    {
      g_autoptr(GError) local_error = NULL;
      gboolean retry = FALSE;
      JsonObject *answer = call_once (self, operation, body, &retry, &local_error);

      if (answer != NULL)
        return answer;

      if (!retry || attempt >= self->retries)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }

      g_debug ("%s failed (%s); trying again in %" G_GUINT64_FORMAT " ms",
               operation, local_error->message, delay_ms);
      /* Full jitter keeps many clients from retrying in step. */
      g_usleep ((delay_ms / 2 + g_random_int_range (0, (gint32)MAX (delay_ms / 2, 1))) * 1000);
      delay_ms = MIN (delay_ms * 2, 20000);
    }
}
