/* test-accounts.c: join links, KpAccountStore and the token file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "kp-accounts.h"

static void
test_join_links (void)
{
  static const struct {
    const char *link;
    const char *server;
    const char *token;
    int         error;  /* -1: parses */
  } cases[] = {
    { "kempelen://join?server=https%3A%2F%2Fhost%3A8443&token=3q2-7wAbCdEf", "https://host:8443/", "3q2-7wAbCdEf", -1 },
    { "kempelen://join?token=3q2-7wAbCdEf&server=http%3A%2F%2F127.0.0.1%3A8470%2F", "http://127.0.0.1:8470/", "3q2-7wAbCdEf", -1 },
    { "KEMPELEN://JOIN?server=HTTPS%3A%2F%2FHost.Example.ORG&token=abcdefgh12", "https://host.example.org/", "abcdefgh12", -1 },
    { "kempelen:join?server=https%3A%2F%2Fh%2Fsub%2Fdir&token=abcdefgh12", "https://h/sub/dir/", "abcdefgh12", -1 },
    /* A token with + and = (base64) must come through as it is when encoded. */
    { "kempelen://join?server=https%3A%2F%2Fh&token=ab%2Bcd%3D%3Defgh", "https://h/", "ab+cd==efgh", -1 },
    { "https://host/join?server=x&token=y", NULL, NULL, KP_ACCOUNT_ERROR_INVALID_LINK },
    { "kempelen://leave?server=https%3A%2F%2Fh&token=abcdefgh12", NULL, NULL, KP_ACCOUNT_ERROR_INVALID_LINK },
    { "kempelen://join", NULL, NULL, KP_ACCOUNT_ERROR_INVALID_LINK },
    { "not a link at all", NULL, NULL, KP_ACCOUNT_ERROR_INVALID_LINK },
    { "", NULL, NULL, KP_ACCOUNT_ERROR_INVALID_LINK },
    { "kempelen://join?token=abcdefgh12", NULL, NULL, KP_ACCOUNT_ERROR_INVALID_SERVER },
    { "kempelen://join?server=&token=abcdefgh12", NULL, NULL, KP_ACCOUNT_ERROR_INVALID_SERVER },
    { "kempelen://join?server=ftp%3A%2F%2Fh&token=abcdefgh12", NULL, NULL, KP_ACCOUNT_ERROR_INVALID_SERVER },
    { "kempelen://join?server=host%3A8443&token=abcdefgh12", NULL, NULL, KP_ACCOUNT_ERROR_INVALID_SERVER },
    { "kempelen://join?server=https%3A%2F%2F&token=abcdefgh12", NULL, NULL, KP_ACCOUNT_ERROR_INVALID_SERVER },
    { "kempelen://join?server=https%3A%2F%2Fu%3Ap%40h&token=abcdefgh12", NULL, NULL, KP_ACCOUNT_ERROR_INVALID_SERVER },
    { "kempelen://join?server=https%3A%2F%2Fh", NULL, NULL, KP_ACCOUNT_ERROR_INVALID_TOKEN },
    { "kempelen://join?server=https%3A%2F%2Fh&token=", NULL, NULL, KP_ACCOUNT_ERROR_INVALID_TOKEN },
    { "kempelen://join?server=https%3A%2F%2Fh&token=short", NULL, NULL, KP_ACCOUNT_ERROR_INVALID_TOKEN },
    { "kempelen://join?server=https%3A%2F%2Fh&token=has%20space%20inside", NULL, NULL, KP_ACCOUNT_ERROR_INVALID_TOKEN },
    { "kempelen://join?server=https%3A%2F%2Fh&token=%0Anewline12", NULL, NULL, KP_ACCOUNT_ERROR_INVALID_TOKEN },
    { "kempelen://join?server=https%3A%2F%2Fh&token=abc%ZZdefgh", NULL, NULL, KP_ACCOUNT_ERROR_INVALID_LINK },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *server = NULL;
      g_autofree char *token = NULL;
      g_autoptr(GError) error = NULL;
      gboolean ok;

      g_test_message ("link %u: %s", i, cases[i].link);
      ok = kp_parse_join_link (cases[i].link, &server, &token, &error);
      if (cases[i].error < 0)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
          g_assert_cmpstr (server, ==, cases[i].server);
          g_assert_cmpstr (token, ==, cases[i].token);
        }
      else
        {
          g_assert_false (ok);
          g_assert_error (error, KP_ACCOUNT_ERROR, cases[i].error);
          g_assert_null (server);
          g_assert_null (token);
          /* A sentence for people, never the token itself. */
          g_assert_cmpuint (strlen (error->message), >, 10);
          g_assert_null (strstr (error->message, "abcdefgh12"));
        }
    }
}

typedef struct
{
  gboolean      done;
  GAsyncResult *result;
} Wait;

static void
wait_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Wait *w = user_data;

  w->result = g_object_ref (result);
  w->done = TRUE;
}

static GAsyncResult *
wait_result (Wait *w)
{
  while (!w->done)
    g_main_context_iteration (NULL, TRUE);
  w->done = FALSE;
  return w->result;
}

static KpAccount *
add_account (KpAccountStore  *store,
             const char      *server,
             const char      *token,
             const char      *worker_id,
             GError         **error)
{
  Wait w = { 0 };
  g_autoptr(GAsyncResult) result = NULL;

  kp_account_store_add_async (store, server, token, worker_id, "Ada", NULL, wait_cb, &w);
  result = wait_result (&w);
  return kp_account_store_add_finish (store, result, error);
}

static char *
lookup_token (KpAccountStore  *store,
              KpAccount       *account,
              GError         **error)
{
  Wait w = { 0 };
  g_autoptr(GAsyncResult) result = NULL;

  kp_account_store_lookup_token_async (store, account, NULL, wait_cb, &w);
  result = wait_result (&w);
  return kp_account_store_lookup_token_finish (store, result, error);
}

static void
load (KpAccountStore *store)
{
  Wait w = { 0 };
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  kp_account_store_load_async (store, NULL, wait_cb, &w);
  result = wait_result (&w);
  g_assert_true (kp_account_store_load_finish (store, result, &error));
  g_assert_no_error (error);
}

static void
test_file_tokens (void)
{
  g_autofree char *dir = g_build_filename (g_get_user_config_dir (), "kempelen-test", NULL);
  g_autofree char *tokens = g_build_filename (dir, "tokens.ini", NULL);
  g_autofree char *accounts = g_build_filename (dir, "accounts.ini", NULL);
  g_autofree char *accounts_text = NULL;
  g_autofree char *token = NULL;
  g_autofree char *cache = NULL;
  g_autoptr(KpAccountStore) store = NULL;
  g_autoptr(KpAccount) one = NULL;
  g_autoptr(KpAccount) two = NULL;
  g_autoptr(KpAccount) dup = NULL;
  g_autoptr(KpAccount) first = NULL;
  g_autoptr(GError) error = NULL;
  Wait w = { 0 };
  g_autoptr(GAsyncResult) result = NULL;
  GStatBuf st;

  store = kp_account_store_new (dir, KP_TOKEN_STORAGE_FILE);
  load (store);
  g_assert_true (kp_account_store_get_tokens_in_file (store));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 0);

  one = add_account (store, "HTTPS://Host:8443", "secret-token-one", "AWORKER1", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kp_account_get_server_url (one), ==, "https://host:8443/");
  g_assert_cmpstr (kp_account_get_worker_id (one), ==, "AWORKER1");
  g_assert_cmpstr (kp_account_get_display_name (one), ==, "Ada");
  two = add_account (store, "http://127.0.0.1:8470/", "secret-token-two", "AWORKER2", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 2);

  /* The same worker on the same server twice is refused. */
  dup = add_account (store, "https://host:8443/", "secret-token-three", "AWORKER1", &error);
  g_assert_error (error, KP_ACCOUNT_ERROR, KP_ACCOUNT_ERROR_EXISTS);
  g_clear_error (&error);
  g_assert_null (add_account (store, "https://host:8443/", "tiny", "AWORKER9", &error));
  g_assert_error (error, KP_ACCOUNT_ERROR, KP_ACCOUNT_ERROR_INVALID_TOKEN);
  g_clear_error (&error);

  /* Tokens: only in the private token file, never in the accounts file. */
  g_assert_cmpint (g_stat (tokens, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_file_get_contents (accounts, &accounts_text, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (strstr (accounts_text, "secret-token"));
  g_assert_nonnull (strstr (accounts_text, "AWORKER1"));

  token = lookup_token (store, two, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (token, ==, "secret-token-two");
  g_clear_pointer (&token, g_free);

  cache = kp_account_store_dup_cache_path (store, one);
  g_assert_true (g_str_has_suffix (cache, ".sqlite"));
  g_assert_nonnull (strstr (cache, kp_account_get_id (one)));

  /* Another store on the same folder reads both back. */
  g_clear_object (&store);
  store = kp_account_store_new (dir, KP_TOKEN_STORAGE_FILE);
  load (store);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 2);
  first = kp_account_store_lookup (store, kp_account_get_id (one)) != NULL
            ? g_object_ref (kp_account_store_lookup (store, kp_account_get_id (one))) : NULL;
  g_assert_nonnull (first);
  g_assert_cmpstr (kp_account_get_server_url (first), ==, "https://host:8443/");
  token = lookup_token (store, first, &error);
  g_assert_cmpstr (token, ==, "secret-token-one");
  g_clear_pointer (&token, g_free);

  /* Removing an account removes its token. */
  kp_account_store_remove_async (store, first, NULL, wait_cb, &w);
  result = wait_result (&w);
  g_assert_true (kp_account_store_remove_finish (store, result, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 1);
  token = lookup_token (store, first, &error);
  g_assert_null (token);
  g_assert_error (error, KP_ACCOUNT_ERROR, KP_ACCOUNT_ERROR_NOT_FOUND);
  g_clear_error (&error);
}

static void
test_unsaved_account_is_forgotten (void)
{
  g_autofree char *file = g_build_filename (g_get_user_config_dir (), "not-a-folder", NULL);
  g_autofree char *dir = g_build_filename (file, "kempelen", NULL);
  g_autoptr(KpAccountStore) store = NULL;
  g_autoptr(GError) error = NULL;
  KpAccount *account;

  /* The config "folder" lies below a plain file: nothing can be saved. */
  g_mkdir_with_parents (g_get_user_config_dir (), 0700);
  g_file_set_contents (file, "", 0, &error);
  g_assert_no_error (error);
  store = kp_account_store_new (dir, KP_TOKEN_STORAGE_FILE);

  account = add_account (store, "https://host/", "secret-token-one", "AWORKER1", &error);
  g_assert_null (account);
  g_assert_nonnull (error);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (store)), ==, 0);
}

static void
test_auto_without_bus (void)
{
  g_autofree char *dir = g_build_filename (g_get_user_config_dir (), "kempelen-auto", NULL);
  g_autoptr(KpAccountStore) store = NULL;

  /* No session bus in the test: AUTO falls back to the file, and says so. */
  g_unsetenv ("DBUS_SESSION_BUS_ADDRESS");
  store = kp_account_store_new (dir, KP_TOKEN_STORAGE_AUTO);
  load (store);
  g_assert_true (kp_account_store_get_tokens_in_file (store));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/kempelen/net/accounts/join-links", test_join_links);
  g_test_add_func ("/kempelen/net/accounts/file-tokens", test_file_tokens);
  g_test_add_func ("/kempelen/net/accounts/unsaved", test_unsaved_account_is_forgotten);
  g_test_add_func ("/kempelen/net/accounts/auto-without-bus", test_auto_without_bus);

  return g_test_run ();
}
