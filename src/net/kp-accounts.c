/* kp-accounts.c: the worker's server accounts and where their tokens live
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-accounts.h"

#include <errno.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#ifdef HAVE_LIBSECRET
# include <libsecret/secret.h>
#endif

G_DEFINE_QUARK (kp-account-error-quark, kp_account_error)

static const GEnumValue token_storage_values[] = {
  { KP_TOKEN_STORAGE_AUTO, "KP_TOKEN_STORAGE_AUTO", "auto" },
  { KP_TOKEN_STORAGE_SECRET_SERVICE, "KP_TOKEN_STORAGE_SECRET_SERVICE", "secret-service" },
  { KP_TOKEN_STORAGE_FILE, "KP_TOKEN_STORAGE_FILE", "file" },
  { 0, NULL, NULL },
};

GType
kp_token_storage_get_type (void)
{
  static gsize type_id = 0;

  if (g_once_init_enter (&type_id))
    {
      GType type = g_enum_register_static (g_intern_static_string ("KpTokenStorage"),
                                           token_storage_values);
      g_once_init_leave (&type_id, type);
    }
  return type_id;
}

/* --- links and addresses --- */

char *
kp_normalize_server_url (const char  *url,
                         GError     **error)
{
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GUri) clean = NULL;
  g_autofree char *scheme = NULL;
  g_autofree char *host = NULL;
  g_autofree char *path = NULL;
  const char *p;

  if (url == NULL || *url == '\0')
    {
      g_set_error (error, KP_ACCOUNT_ERROR, KP_ACCOUNT_ERROR_INVALID_SERVER,
                   _("The server address is empty"));
      return NULL;
    }

  uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL || g_uri_get_scheme (uri) == NULL ||
      (g_ascii_strcasecmp (g_uri_get_scheme (uri), "http") != 0 &&
       g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") != 0))
    {
      g_set_error (error, KP_ACCOUNT_ERROR, KP_ACCOUNT_ERROR_INVALID_SERVER,
                   _("“%s” is not a server address; it must start with https:// or http://"),
                   url);
      return NULL;
    }
  if (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      g_set_error (error, KP_ACCOUNT_ERROR, KP_ACCOUNT_ERROR_INVALID_SERVER,
                   _("The server address “%s” names no host"), url);
      return NULL;
    }
  if (g_uri_get_user (uri) != NULL || g_uri_get_query (uri) != NULL ||
      g_uri_get_fragment (uri) != NULL)
    {
      g_set_error (error, KP_ACCOUNT_ERROR, KP_ACCOUNT_ERROR_INVALID_SERVER,
                   _("The server address “%s” must not contain a user name, a query or a fragment"),
                   url);
      return NULL;
    }

  scheme = g_ascii_strdown (g_uri_get_scheme (uri), -1);
  host = g_ascii_strdown (g_uri_get_host (uri), -1);
  p = g_uri_get_path (uri);
  path = g_str_has_suffix (p, "/") ? g_strdup (p) : g_strconcat (p, "/", NULL);
  clean = g_uri_build (G_URI_FLAGS_NONE, scheme, NULL, host, g_uri_get_port (uri), path,
                       NULL, NULL);
  return g_uri_to_string (clean);
}

static gboolean
is_valid_token (const char *token)
{
  gsize len;

  if (token == NULL)
    return FALSE;
  len = strlen (token);
  if (len < 8 || len > 512)
    return FALSE;
  for (const char *p = token; *p != '\0'; p++)
    if (!g_ascii_isgraph (*p))
      return FALSE;
  return TRUE;
}

gboolean
kp_parse_join_link (const char  *link,
                    char       **server_url,
                    char       **token,
                    GError     **error)
{
  g_autoptr(GUri) uri = NULL;
  g_autoptr(GHashTable) params = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *server = NULL;
  const char *where;
  const char *server_param;
  const char *token_param;

  g_return_val_if_fail (link != NULL, FALSE);

  uri = g_uri_parse (link, G_URI_FLAGS_ENCODED_QUERY, &local_error);
  if (uri == NULL || g_ascii_strcasecmp (g_uri_get_scheme (uri), "kempelen") != 0)
    {
      g_set_error (error, KP_ACCOUNT_ERROR, KP_ACCOUNT_ERROR_INVALID_LINK,
                   _("This is not a Kempelen join link: it must start with kempelen://join?"));
      return FALSE;
    }

  /* kempelen://join?… names "join" as the host; kempelen:join?… as the path. */
  where = g_uri_get_host (uri);
  if (where == NULL || *where == '\0')
    where = g_uri_get_path (uri);
  if (g_ascii_strcasecmp (where, "join") != 0 &&
      g_ascii_strcasecmp (where, "join/") != 0)
    {
      g_set_error (error, KP_ACCOUNT_ERROR, KP_ACCOUNT_ERROR_INVALID_LINK,
                   _("This Kempelen link is not a join link (it asks for “%s”)"), where);
      return FALSE;
    }

  if (g_uri_get_query (uri) == NULL)
    {
      g_set_error (error, KP_ACCOUNT_ERROR, KP_ACCOUNT_ERROR_INVALID_LINK,
                   _("The join link has no server and no token"));
      return FALSE;
    }

  params = g_uri_parse_params (g_uri_get_query (uri), -1, "&", G_URI_PARAMS_NONE, &local_error);
  if (params == NULL)
    {
      g_set_error (error, KP_ACCOUNT_ERROR, KP_ACCOUNT_ERROR_INVALID_LINK,
                   _("The join link is damaged: %s"), local_error->message);
      return FALSE;
    }

  server_param = g_hash_table_lookup (params, "server");
  token_param = g_hash_table_lookup (params, "token");
  if (server_param == NULL || *server_param == '\0')
    {
      g_set_error (error, KP_ACCOUNT_ERROR, KP_ACCOUNT_ERROR_INVALID_SERVER,
                   _("The join link does not say which server to join"));
      return FALSE;
    }
  server = kp_normalize_server_url (server_param, error);
  if (server == NULL)
    return FALSE;
  if (token_param == NULL || *token_param == '\0')
    {
      g_set_error (error, KP_ACCOUNT_ERROR, KP_ACCOUNT_ERROR_INVALID_TOKEN,
                   _("The join link has no worker token"));
      return FALSE;
    }
  if (!is_valid_token (token_param))
    {
      g_set_error (error, KP_ACCOUNT_ERROR, KP_ACCOUNT_ERROR_INVALID_TOKEN,
                   _("The join link’s worker token is malformed; ask for a new link"));
      return FALSE;
    }

  if (server_url != NULL)
    *server_url = g_steal_pointer (&server);
  if (token != NULL)
    *token = g_strdup (token_param);
  return TRUE;
}

/* --- KpAccount --- */

struct _KpAccount
{
  GObject  parent_instance;

  char    *id;
  char    *server_url;
  char    *worker_id;
  char    *display_name;
};

G_DEFINE_FINAL_TYPE (KpAccount, kp_account, G_TYPE_OBJECT)

enum {
  ACCOUNT_PROP_0,
  ACCOUNT_PROP_ID,
  ACCOUNT_PROP_SERVER_URL,
  ACCOUNT_PROP_WORKER_ID,
  ACCOUNT_PROP_DISPLAY_NAME,
  ACCOUNT_N_PROPS
};

static GParamSpec *account_properties[ACCOUNT_N_PROPS];

static void
kp_account_finalize (GObject *object)
{
  KpAccount *self = (KpAccount *)object;

  g_free (self->id);
  g_free (self->server_url);
  g_free (self->worker_id);
  g_free (self->display_name);

  G_OBJECT_CLASS (kp_account_parent_class)->finalize (object);
}

static void
kp_account_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  KpAccount *self = KP_ACCOUNT (object);

  switch (prop_id)
    {
    case ACCOUNT_PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case ACCOUNT_PROP_SERVER_URL:
      g_value_set_string (value, self->server_url);
      break;
    case ACCOUNT_PROP_WORKER_ID:
      g_value_set_string (value, self->worker_id);
      break;
    case ACCOUNT_PROP_DISPLAY_NAME:
      g_value_set_string (value, self->display_name);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_account_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  KpAccount *self = KP_ACCOUNT (object);

  switch (prop_id)
    {
    case ACCOUNT_PROP_ID:
      self->id = g_value_dup_string (value);
      break;
    case ACCOUNT_PROP_SERVER_URL:
      self->server_url = g_value_dup_string (value);
      break;
    case ACCOUNT_PROP_WORKER_ID:
      kp_account_set_worker_id (self, g_value_get_string (value));
      break;
    case ACCOUNT_PROP_DISPLAY_NAME:
      kp_account_set_display_name (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_account_class_init (KpAccountClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags construct = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = kp_account_finalize;
  object_class->get_property = kp_account_get_property;
  object_class->set_property = kp_account_set_property;

  account_properties[ACCOUNT_PROP_ID] =
    g_param_spec_string ("id", NULL, NULL, NULL, construct);
  account_properties[ACCOUNT_PROP_SERVER_URL] =
    g_param_spec_string ("server-url", NULL, NULL, NULL, construct);
  account_properties[ACCOUNT_PROP_WORKER_ID] =
    g_param_spec_string ("worker-id", NULL, NULL, NULL, rw);
  account_properties[ACCOUNT_PROP_DISPLAY_NAME] =
    g_param_spec_string ("display-name", NULL, NULL, NULL, rw);

  g_object_class_install_properties (object_class, ACCOUNT_N_PROPS, account_properties);
}

static void
kp_account_init (KpAccount *self)
{
}

const char *
kp_account_get_id (KpAccount *self)
{
  g_return_val_if_fail (KP_IS_ACCOUNT (self), NULL);
  return self->id;
}

const char *
kp_account_get_server_url (KpAccount *self)
{
  g_return_val_if_fail (KP_IS_ACCOUNT (self), NULL);
  return self->server_url;
}

const char *
kp_account_get_worker_id (KpAccount *self)
{
  g_return_val_if_fail (KP_IS_ACCOUNT (self), NULL);
  return self->worker_id;
}

void
kp_account_set_worker_id (KpAccount  *self,
                          const char *worker_id)
{
  g_return_if_fail (KP_IS_ACCOUNT (self));

  if (g_strcmp0 (self->worker_id, worker_id) == 0)
    return;
  g_free (self->worker_id);
  self->worker_id = g_strdup (worker_id);
  g_object_notify_by_pspec (G_OBJECT (self), account_properties[ACCOUNT_PROP_WORKER_ID]);
}

const char *
kp_account_get_display_name (KpAccount *self)
{
  g_return_val_if_fail (KP_IS_ACCOUNT (self), NULL);
  return self->display_name;
}

void
kp_account_set_display_name (KpAccount  *self,
                             const char *display_name)
{
  g_return_if_fail (KP_IS_ACCOUNT (self));

  if (g_strcmp0 (self->display_name, display_name) == 0)
    return;
  g_free (self->display_name);
  self->display_name = g_strdup (display_name);
  g_object_notify_by_pspec (G_OBJECT (self), account_properties[ACCOUNT_PROP_DISPLAY_NAME]);
}

/* --- KpAccountStore --- */

struct _KpAccountStore
{
  GObject         parent_instance;

  char           *config_dir;
  KpTokenStorage  requested;
  KpTokenStorage  storage;     /* SECRET_SERVICE or FILE once loaded */
  GPtrArray      *accounts;
  GMutex          file_mutex;  /* the token file, written from worker threads */
};

static void kp_account_store_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (KpAccountStore, kp_account_store, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      kp_account_store_list_model_init))

enum {
  STORE_PROP_0,
  STORE_PROP_TOKENS_IN_FILE,
  STORE_N_PROPS
};

static GParamSpec *store_properties[STORE_N_PROPS];

static GType
kp_account_store_get_item_type (GListModel *model)
{
  return KP_TYPE_ACCOUNT;
}

static guint
kp_account_store_get_n_items (GListModel *model)
{
  return KP_ACCOUNT_STORE (model)->accounts->len;
}

static gpointer
kp_account_store_get_item (GListModel *model,
                           guint       position)
{
  KpAccountStore *self = KP_ACCOUNT_STORE (model);

  if (position >= self->accounts->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->accounts, position));
}

static void
kp_account_store_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = kp_account_store_get_item_type;
  iface->get_n_items = kp_account_store_get_n_items;
  iface->get_item = kp_account_store_get_item;
}

static void
kp_account_store_finalize (GObject *object)
{
  KpAccountStore *self = (KpAccountStore *)object;

  g_free (self->config_dir);
  g_ptr_array_unref (self->accounts);
  g_mutex_clear (&self->file_mutex);

  G_OBJECT_CLASS (kp_account_store_parent_class)->finalize (object);
}

static void
kp_account_store_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  KpAccountStore *self = KP_ACCOUNT_STORE (object);

  switch (prop_id)
    {
    case STORE_PROP_TOKENS_IN_FILE:
      g_value_set_boolean (value, kp_account_store_get_tokens_in_file (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kp_account_store_class_init (KpAccountStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = kp_account_store_finalize;
  object_class->get_property = kp_account_store_get_property;

  /* TRUE when tokens are in a file, not the keyring: show a warning. */
  store_properties[STORE_PROP_TOKENS_IN_FILE] =
    g_param_spec_boolean ("tokens-in-file", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, STORE_N_PROPS, store_properties);
}

static void
kp_account_store_init (KpAccountStore *self)
{
  self->accounts = g_ptr_array_new_with_free_func (g_object_unref);
  g_mutex_init (&self->file_mutex);
}

KpAccountStore *
kp_account_store_new (const char     *config_dir,
                      KpTokenStorage  storage)
{
  KpAccountStore *self = g_object_new (KP_TYPE_ACCOUNT_STORE, NULL);

  self->config_dir = config_dir != NULL ? g_strdup (config_dir)
                                        : g_build_filename (g_get_user_config_dir (), "kempelen",
                                                            NULL);
#ifndef HAVE_LIBSECRET
  if (storage == KP_TOKEN_STORAGE_SECRET_SERVICE)
    g_warning ("Kempelen was built without libsecret: worker tokens are kept in a file");
  storage = KP_TOKEN_STORAGE_FILE;
#endif
  self->requested = storage;
  self->storage = storage == KP_TOKEN_STORAGE_AUTO ? KP_TOKEN_STORAGE_FILE : storage;
  return self;
}

gboolean
kp_account_store_get_tokens_in_file (KpAccountStore *self)
{
  g_return_val_if_fail (KP_IS_ACCOUNT_STORE (self), TRUE);
  return self->storage == KP_TOKEN_STORAGE_FILE;
}

KpAccount *
kp_account_store_lookup (KpAccountStore *self,
                         const char     *account_id)
{
  g_return_val_if_fail (KP_IS_ACCOUNT_STORE (self), NULL);

  for (guint i = 0; i < self->accounts->len; i++)
    {
      KpAccount *account = g_ptr_array_index (self->accounts, i);

      if (g_strcmp0 (account->id, account_id) == 0)
        return account;
    }
  return NULL;
}

char *
kp_account_store_dup_cache_path (KpAccountStore *self,
                                 KpAccount      *account)
{
  g_autofree char *name = NULL;

  g_return_val_if_fail (KP_IS_ACCOUNT_STORE (self), NULL);
  g_return_val_if_fail (KP_IS_ACCOUNT (account), NULL);

  name = g_strconcat (account->id, ".sqlite", NULL);
  return g_build_filename (g_get_user_cache_dir (), "kempelen", "accounts", name, NULL);
}

static char *
accounts_path (KpAccountStore *self)
{
  return g_build_filename (self->config_dir, "accounts.ini", NULL);
}

static char *
tokens_path (KpAccountStore *self)
{
  return g_build_filename (self->config_dir, "tokens.ini", NULL);
}

/* Saves accounts.ini from the main side: the data is small, and the write
 * goes through a thread. */
static char *
accounts_to_data (KpAccountStore *self,
                  gsize          *len)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();

  for (guint i = 0; i < self->accounts->len; i++)
    {
      KpAccount *account = g_ptr_array_index (self->accounts, i);
      g_autofree char *group = g_strconcat ("account ", account->id, NULL);

      g_key_file_set_string (keyfile, group, "server", account->server_url);
      if (account->worker_id != NULL)
        g_key_file_set_string (keyfile, group, "worker-id", account->worker_id);
      if (account->display_name != NULL)
        g_key_file_set_string (keyfile, group, "display-name", account->display_name);
    }
  return g_key_file_to_data (keyfile, len, NULL);
}

static gboolean
write_private_file (const char  *path,
                    const char  *data,
                    gsize        len,
                    GError     **error)
{
  g_autofree char *dir = g_path_get_dirname (path);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   _("Cannot create the folder “%s”: %s"), dir, g_strerror (saved_errno));
      return FALSE;
    }
  return g_file_set_contents_full (path, data, len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}

/* The token file: read, change one entry, write back (0600). */
static gboolean
token_file_update (KpAccountStore  *self,
                   const char      *account_id,
                   const char      *token,
                   GError         **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autofree char *path = tokens_path (self);
  g_autofree char *data = NULL;
  gsize len = 0;
  gboolean ok;

  g_mutex_lock (&self->file_mutex);
  g_key_file_load_from_file (keyfile, path, G_KEY_FILE_NONE, NULL);
  if (token != NULL)
    g_key_file_set_string (keyfile, "tokens", account_id, token);
  else
    g_key_file_remove_key (keyfile, "tokens", account_id, NULL);
  data = g_key_file_to_data (keyfile, &len, NULL);
  ok = write_private_file (path, data, len, error);
  g_mutex_unlock (&self->file_mutex);
  return ok;
}

static char *
token_file_lookup (KpAccountStore  *self,
                   const char      *account_id,
                   GError         **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autofree char *path = tokens_path (self);
  char *token = NULL;

  g_mutex_lock (&self->file_mutex);
  if (g_key_file_load_from_file (keyfile, path, G_KEY_FILE_NONE, NULL))
    token = g_key_file_get_string (keyfile, "tokens", account_id, NULL);
  g_mutex_unlock (&self->file_mutex);

  if (token == NULL)
    g_set_error (error, KP_ACCOUNT_ERROR, KP_ACCOUNT_ERROR_NOT_FOUND,
                 _("The worker token of this account is gone; add the account again"));
  return token;
}

#ifdef HAVE_LIBSECRET
static const SecretSchema *
token_schema (void)
{
  static const SecretSchema schema = {
    "io.github.kempelen.Kempelen.WorkerToken", SECRET_SCHEMA_NONE,
    {
      { "account", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "server", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    }
  };
  return &schema;
}
#endif

/* --- load --- */

typedef struct
{
  char      *accounts_file;
  GPtrArray *accounts;
} LoadData;

static void
load_data_free (LoadData *data)
{
  g_free (data->accounts_file);
  g_clear_pointer (&data->accounts, g_ptr_array_unref);
  g_free (data);
}

static void
load_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  LoadData *data = task_data;
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) groups = NULL;

  data->accounts = g_ptr_array_new_with_free_func (g_object_unref);
  if (!g_key_file_load_from_file (keyfile, data->accounts_file, G_KEY_FILE_NONE, &error))
    {
      if (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_task_return_boolean (task, TRUE);
      else
        {
          g_prefix_error (&error, _("Cannot read the accounts: "));
          g_task_return_error (task, g_steal_pointer (&error));
        }
      return;
    }

  groups = g_key_file_get_groups (keyfile, NULL);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      g_autofree char *server = NULL;
      g_autofree char *worker_id = NULL;
      g_autofree char *name = NULL;

      if (!g_str_has_prefix (groups[i], "account "))
        continue;
      server = g_key_file_get_string (keyfile, groups[i], "server", NULL);
      if (server == NULL)
        continue;
      worker_id = g_key_file_get_string (keyfile, groups[i], "worker-id", NULL);
      name = g_key_file_get_string (keyfile, groups[i], "display-name", NULL);
      g_ptr_array_add (data->accounts,
                       g_object_new (KP_TYPE_ACCOUNT,
                                     "id", groups[i] + strlen ("account "),
                                     "server-url", server,
                                     "worker-id", worker_id,
                                     "display-name", name,
                                     NULL));
    }

  g_task_return_boolean (task, TRUE);
}

static void
set_storage (KpAccountStore *self,
             KpTokenStorage  storage)
{
  gboolean was_file = kp_account_store_get_tokens_in_file (self);

  self->storage = storage;
  if (was_file != kp_account_store_get_tokens_in_file (self))
    g_object_notify_by_pspec (G_OBJECT (self), store_properties[STORE_PROP_TOKENS_IN_FILE]);
}

static void
load_done (KpAccountStore *self,
           LoadData       *data)
{
  guint old = self->accounts->len;

  g_ptr_array_set_size (self->accounts, 0);
  for (guint i = 0; i < data->accounts->len; i++)
    g_ptr_array_add (self->accounts, g_object_ref (g_ptr_array_index (data->accounts, i)));
  g_list_model_items_changed (G_LIST_MODEL (self), 0, old, self->accounts->len);
}

#ifdef HAVE_LIBSECRET
static void
probe_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  KpAccountStore *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *ignored = secret_password_lookup_finish (result, &error);

  if (error != NULL)
    {
      g_debug ("No Secret Service (%s): keeping worker tokens in a file", error->message);
      set_storage (self, KP_TOKEN_STORAGE_FILE);
    }
  else
    set_storage (self, KP_TOKEN_STORAGE_SECRET_SERVICE);
  g_task_return_boolean (task, TRUE);
}
#endif

static void
load_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  KpAccountStore *self = g_task_get_source_object (task);

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  load_done (self, g_task_get_task_data (G_TASK (result)));

#ifdef HAVE_LIBSECRET
  if (self->requested == KP_TOKEN_STORAGE_AUTO)
    {
      g_autofree char *bus = g_build_filename (g_get_user_runtime_dir (), "bus", NULL);

      /* Without a session bus, asking would try to start one. */
      if (g_getenv ("DBUS_SESSION_BUS_ADDRESS") == NULL && !g_file_test (bus, G_FILE_TEST_EXISTS))
        set_storage (self, KP_TOKEN_STORAGE_FILE);
      else
        {
          secret_password_lookup (token_schema (), g_task_get_cancellable (task), probe_cb,
                                  g_object_ref (task), "account", "probe", NULL);
          return;
        }
    }
#endif
  (void)self;
  g_task_return_boolean (task, TRUE);
}

void
kp_account_store_load_async (KpAccountStore      *self,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) inner = NULL;
  LoadData *data;

  g_return_if_fail (KP_IS_ACCOUNT_STORE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kp_account_store_load_async);

  data = g_new0 (LoadData, 1);
  data->accounts_file = accounts_path (self);
  inner = g_task_new (self, cancellable, load_cb, g_steal_pointer (&task));
  g_task_set_task_data (inner, data, (GDestroyNotify)load_data_free);
  g_task_run_in_thread (inner, load_thread);
}

gboolean
kp_account_store_load_finish (KpAccountStore  *self,
                              GAsyncResult    *result,
                              GError         **error)
{
  g_return_val_if_fail (KP_IS_ACCOUNT_STORE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* --- add, remove, tokens --- */

typedef struct
{
  KpAccount *account;
  char      *token;
  char      *accounts_file;
  char      *accounts_data;
  gsize      accounts_len;
  gboolean   token_to_file;
  gboolean   remove;
} ChangeData;

/* An account whose token or file could not be saved leaves the list. */
static void
forget_account (KpAccountStore *self,
                KpAccount      *account)
{
  guint position;

  if (g_ptr_array_find (self->accounts, account, &position))
    {
      g_ptr_array_remove_index (self->accounts, position);
      g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);
    }
}

static void
change_data_free (ChangeData *data)
{
  g_clear_object (&data->account);
  if (data->token != NULL)
    memset (data->token, 0, strlen (data->token));
  g_free (data->token);
  g_free (data->accounts_file);
  g_free (data->accounts_data);
  g_free (data);
}

static void
change_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  KpAccountStore *self = source_object;
  ChangeData *data = task_data;
  GError *error = NULL;

  if (data->token_to_file &&
      !token_file_update (self, data->account->id, data->remove ? NULL : data->token, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  if (!write_private_file (data->accounts_file, data->accounts_data, data->accounts_len, &error))
    {
      g_prefix_error (&error, _("Cannot save the accounts: "));
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
change_done_cb (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ChangeData *data = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!data->remove)
        forget_account (KP_ACCOUNT_STORE (source), data->account);
      g_task_return_error (task, error);
    }
  else
    g_task_return_boolean (task, TRUE);
}

static void
run_change (KpAccountStore *self,
            GTask          *outer,
            ChangeData     *data)
{
  g_autoptr(GTask) inner = g_task_new (self, g_task_get_cancellable (outer), change_done_cb, outer);

  data->accounts_file = accounts_path (self);
  data->accounts_data = accounts_to_data (self, &data->accounts_len);
  g_task_set_task_data (inner, data, (GDestroyNotify)change_data_free);
  g_task_run_in_thread (inner, change_thread);
}

#ifdef HAVE_LIBSECRET
static void
secret_stored_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  GTask *outer = user_data;
  KpAccountStore *self = g_task_get_source_object (outer);
  ChangeData *data = g_object_get_data (G_OBJECT (outer), "kp-change");
  GError *error = NULL;

  g_object_steal_data (G_OBJECT (outer), "kp-change");
  if (!secret_password_store_finish (result, &error))
    {
      g_prefix_error (&error, _("Cannot keep the worker token in the keyring: "));
      forget_account (self, data->account);
      change_data_free (data);
      g_task_return_error (outer, error);
      g_object_unref (outer);
      return;
    }
  run_change (self, outer, data);
}
#endif

void
kp_account_store_add_async (KpAccountStore      *self,
                            const char          *server_url,
                            const char          *token,
                            const char          *worker_id,
                            const char          *display_name,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *server = NULL;
  g_autofree char *id = NULL;
  GError *error = NULL;
  ChangeData *data;
  KpAccount *account;

  g_return_if_fail (KP_IS_ACCOUNT_STORE (self));
  g_return_if_fail (server_url != NULL);
  g_return_if_fail (token != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kp_account_store_add_async);

  server = kp_normalize_server_url (server_url, &error);
  if (server == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  if (!is_valid_token (token))
    {
      g_task_return_new_error (task, KP_ACCOUNT_ERROR, KP_ACCOUNT_ERROR_INVALID_TOKEN,
                               _("This worker token is malformed"));
      return;
    }
  for (guint i = 0; worker_id != NULL && i < self->accounts->len; i++)
    {
      KpAccount *other = g_ptr_array_index (self->accounts, i);

      if (g_strcmp0 (other->server_url, server) == 0 && g_strcmp0 (other->worker_id, worker_id) == 0)
        {
          g_task_return_new_error (task, KP_ACCOUNT_ERROR, KP_ACCOUNT_ERROR_EXISTS,
                                   _("The worker %s on %s is already an account here"),
                                   worker_id, server);
          return;
        }
    }

  id = g_uuid_string_random ();
  account = g_object_new (KP_TYPE_ACCOUNT,
                          "id", id,
                          "server-url", server,
                          "worker-id", worker_id,
                          "display-name", display_name,
                          NULL);
  g_ptr_array_add (self->accounts, account);
  g_list_model_items_changed (G_LIST_MODEL (self), self->accounts->len - 1, 0, 1);
  g_task_set_task_data (task, g_object_ref (account), g_object_unref);

  data = g_new0 (ChangeData, 1);
  data->account = g_object_ref (account);
  data->token = g_strdup (token);
  data->token_to_file = self->storage == KP_TOKEN_STORAGE_FILE;

#ifdef HAVE_LIBSECRET
  if (!data->token_to_file)
    {
      g_autofree char *label = g_strdup_printf (_("Kempelen worker token for %s"), server);

      g_object_set_data (G_OBJECT (task), "kp-change", data);
      secret_password_store (token_schema (), SECRET_COLLECTION_DEFAULT, label, token,
                             cancellable, secret_stored_cb, g_steal_pointer (&task),
                             "account", id, "server", server, NULL);
      return;
    }
#endif
  run_change (self, g_steal_pointer (&task), data);
}

KpAccount *
kp_account_store_add_finish (KpAccountStore  *self,
                             GAsyncResult    *result,
                             GError         **error)
{
  g_return_val_if_fail (KP_IS_ACCOUNT_STORE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return NULL;
  return g_object_ref (g_task_get_task_data (G_TASK (result)));
}

void
kp_account_store_remove_async (KpAccountStore      *self,
                               KpAccount           *account,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  ChangeData *data;
  guint position;

  g_return_if_fail (KP_IS_ACCOUNT_STORE (self));
  g_return_if_fail (KP_IS_ACCOUNT (account));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kp_account_store_remove_async);

  if (!g_ptr_array_find (self->accounts, account, &position))
    {
      g_task_return_new_error (task, KP_ACCOUNT_ERROR, KP_ACCOUNT_ERROR_NOT_FOUND,
                               _("There is no such account"));
      return;
    }

  data = g_new0 (ChangeData, 1);
  data->account = g_object_ref (account);
  data->remove = TRUE;
  /* Remove a file token in any case: it may predate the keyring. */
  data->token_to_file = TRUE;

  g_ptr_array_remove_index (self->accounts, position);
  g_list_model_items_changed (G_LIST_MODEL (self), position, 1, 0);

#ifdef HAVE_LIBSECRET
  if (self->storage == KP_TOKEN_STORAGE_SECRET_SERVICE)
    secret_password_clear (token_schema (), NULL, NULL, NULL,
                           "account", kp_account_get_id (account), NULL);
#endif
  run_change (self, g_steal_pointer (&task), data);
}

gboolean
kp_account_store_remove_finish (KpAccountStore  *self,
                                GAsyncResult    *result,
                                GError         **error)
{
  g_return_val_if_fail (KP_IS_ACCOUNT_STORE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
lookup_file_thread (GTask        *task,
                    gpointer      source_object,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  GError *error = NULL;
  char *token = token_file_lookup (source_object, task_data, &error);

  if (token == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, token, g_free);
}

#ifdef HAVE_LIBSECRET
static void
secret_lookup_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  char *token = secret_password_lookup_finish (result, &error);

  if (token == NULL && error == NULL)
    {
      /* Not in the keyring: an older file token, perhaps. */
      g_task_run_in_thread (task, lookup_file_thread);
      return;
    }
  if (token == NULL)
    g_task_return_error (task, error);
  else
    {
      char *copy = g_strdup (token);

      secret_password_free (token);
      g_task_return_pointer (task, copy, g_free);
    }
}
#endif

void
kp_account_store_lookup_token_async (KpAccountStore      *self,
                                     KpAccount           *account,
                                     GCancellable        *cancellable,
                                     GAsyncReadyCallback  callback,
                                     gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (KP_IS_ACCOUNT_STORE (self));
  g_return_if_fail (KP_IS_ACCOUNT (account));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, kp_account_store_lookup_token_async);
  g_task_set_task_data (task, g_strdup (kp_account_get_id (account)), g_free);

#ifdef HAVE_LIBSECRET
  if (self->storage == KP_TOKEN_STORAGE_SECRET_SERVICE)
    {
      secret_password_lookup (token_schema (), cancellable, secret_lookup_cb,
                              g_steal_pointer (&task), "account", kp_account_get_id (account),
                              NULL);
      return;
    }
#endif
  g_task_run_in_thread (task, lookup_file_thread);
}

char *
kp_account_store_lookup_token_finish (KpAccountStore  *self,
                                      GAsyncResult    *result,
                                      GError         **error)
{
  g_return_val_if_fail (KP_IS_ACCOUNT_STORE (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
