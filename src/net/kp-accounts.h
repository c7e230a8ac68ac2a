/* kp-accounts.h: the worker's server accounts and where their tokens live
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define KP_ACCOUNT_ERROR (kp_account_error_quark ())

typedef enum
{
  KP_ACCOUNT_ERROR_FAILED,
  KP_ACCOUNT_ERROR_INVALID_LINK,    /* not a kempelen://join link */
  KP_ACCOUNT_ERROR_INVALID_SERVER,  /* the server is not an http(s) URL with a host */
  KP_ACCOUNT_ERROR_INVALID_TOKEN,   /* missing, empty or malformed token */
  KP_ACCOUNT_ERROR_NOT_FOUND,       /* no such account, or its token is gone */
  KP_ACCOUNT_ERROR_EXISTS,          /* the same worker on the same server is there already */
} KpAccountError;

GQuark kp_account_error_quark (void);

/* Where tokens are kept. AUTO uses the Secret Service when one answers
 * (and Kempelen was built with libsecret), else FILE. */
typedef enum
{
  KP_TOKEN_STORAGE_AUTO,
  KP_TOKEN_STORAGE_SECRET_SERVICE,
  KP_TOKEN_STORAGE_FILE,
} KpTokenStorage;

#define KP_TYPE_TOKEN_STORAGE (kp_token_storage_get_type ())
GType kp_token_storage_get_type (void) G_GNUC_CONST;

/* Reads a join link, kempelen://join?server=<URL>&token=<token>, as an
 * administrator sends it. Both parts are required; the server must be an
 * http or https URL with a host. */
gboolean kp_parse_join_link (const char  *link,
                             char       **server_url,
                             char       **token,
                             GError     **error);
/* Checks a server address typed by the worker; returns it normalized
 * (scheme and host lower-case, ending in "/"). */
char    *kp_normalize_server_url (const char  *url,
                                  GError     **error) G_GNUC_WARN_UNUSED_RESULT;

#define KP_TYPE_ACCOUNT (kp_account_get_type ())
G_DECLARE_FINAL_TYPE (KpAccount, kp_account, KP, ACCOUNT, GObject)

const char *kp_account_get_id           (KpAccount  *self);
const char *kp_account_get_server_url   (KpAccount  *self);
const char *kp_account_get_worker_id    (KpAccount  *self);
void        kp_account_set_worker_id    (KpAccount  *self,
                                         const char *worker_id);
const char *kp_account_get_display_name (KpAccount  *self);
void        kp_account_set_display_name (KpAccount  *self,
                                         const char *display_name);

#define KP_TYPE_ACCOUNT_STORE (kp_account_store_get_type ())
G_DECLARE_FINAL_TYPE (KpAccountStore, kp_account_store, KP, ACCOUNT_STORE, GObject)

/* A GListModel of KpAccount. The accounts are saved in config_dir (NULL:
 * the user config dir's "kempelen") as accounts.ini, without tokens;
 * tokens go to the keyring, or to tokens.ini (mode 0600) in config_dir
 * with the "tokens-in-file" property set so the UI can warn. Each account
 * also has its own cache file, <cache dir>/kempelen/accounts/<id>.sqlite. */
KpAccountStore *kp_account_store_new            (const char      *config_dir,
                                                 KpTokenStorage   storage) G_GNUC_WARN_UNUSED_RESULT;
/* Reads accounts.ini (a missing file is no error) and, for AUTO, finds
 * out whether a Secret Service answers. */
void            kp_account_store_load_async     (KpAccountStore  *self,
                                                 GCancellable    *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer         user_data);
gboolean        kp_account_store_load_finish    (KpAccountStore  *self,
                                                 GAsyncResult    *result,
                                                 GError         **error);
/* TRUE when tokens are kept in a file rather than the keyring. */
gboolean        kp_account_store_get_tokens_in_file (KpAccountStore *self);
KpAccount      *kp_account_store_lookup         (KpAccountStore  *self,
                                                 const char      *account_id);
char           *kp_account_store_dup_cache_path (KpAccountStore  *self,
                                                 KpAccount       *account) G_GNUC_WARN_UNUSED_RESULT;

/* Adds an account (the worker id and name come from GET /me, which the
 * caller asked first), storing its token. Finishes with the new account. */
void            kp_account_store_add_async      (KpAccountStore  *self,
                                                 const char      *server_url,
                                                 const char      *token,
                                                 const char      *worker_id,
                                                 const char      *display_name,
                                                 GCancellable    *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer         user_data);
KpAccount      *kp_account_store_add_finish     (KpAccountStore  *self,
                                                 GAsyncResult    *result,
                                                 GError         **error) G_GNUC_WARN_UNUSED_RESULT;
void            kp_account_store_remove_async   (KpAccountStore  *self,
                                                 KpAccount       *account,
                                                 GCancellable    *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer         user_data);
gboolean        kp_account_store_remove_finish  (KpAccountStore  *self,
                                                 GAsyncResult    *result,
                                                 GError         **error);
void            kp_account_store_lookup_token_async  (KpAccountStore  *self,
                                                 KpAccount       *account,
                                                 GCancellable    *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer         user_data);
char           *kp_account_store_lookup_token_finish (KpAccountStore  *self,
                                                 GAsyncResult    *result,
                                                 GError         **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
