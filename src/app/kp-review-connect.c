/* kp-review-connect.c: the review desk's sign-in with requester keys
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * The secret is kept as the worker side keeps its tokens: a
 * KpAccountStore (keyring, or a 0600 file when no keyring answers) of its
 * own, whose "accounts" are (endpoint, access key id) pairs.
 */

#include "config.h"

#include "kp-review-connect.h"

#include <string.h>

#include <glib/gi18n.h>

#include "kp-accounts.h"

struct _KpReviewConnect
{
  AdwBin          parent_instance;

  GSettings      *settings;
  KpAccountStore *store;
  GCancellable   *cancellable;
  gboolean        store_loaded;
  gboolean        busy;

  GtkWidget      *endpoint_row;
  GtkWidget      *key_row;
  GtkWidget      *secret_row;
  GtkWidget      *profile_row;
  GtkWidget      *connect_button;
  GtkWidget      *spinner;
  GtkWidget      *error_label;
};

G_DEFINE_FINAL_TYPE (KpReviewConnect, kp_review_connect, ADW_TYPE_BIN)

enum {
  CONNECTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
set_busy (KpReviewConnect *self,
          gboolean         busy)
{
  self->busy = busy;
  gtk_widget_set_sensitive (self->connect_button, !busy);
  gtk_spinner_set_spinning (GTK_SPINNER (self->spinner), busy);
  gtk_widget_set_visible (self->spinner, busy);
}

void
kp_review_connect_set_error (KpReviewConnect *self,
                             const char      *message)
{
  g_return_if_fail (KP_IS_REVIEW_CONNECT (self));

  gtk_label_set_text (GTK_LABEL (self->error_label), message != NULL ? message : "");
  gtk_widget_set_visible (self->error_label, message != NULL);
}

const char *
kp_review_connect_get_error (KpReviewConnect *self)
{
  g_return_val_if_fail (KP_IS_REVIEW_CONNECT (self), NULL);

  if (!gtk_widget_get_visible (self->error_label))
    return NULL;
  return gtk_label_get_text (GTK_LABEL (self->error_label));
}

gboolean
kp_review_connect_get_busy (KpReviewConnect *self)
{
  g_return_val_if_fail (KP_IS_REVIEW_CONNECT (self), FALSE);
  return self->busy;
}

static const char *
row_text (GtkWidget *row)
{
  return gtk_editable_get_text (GTK_EDITABLE (row));
}

static char *
dup_endpoint (KpReviewConnect *self)
{
  g_autofree char *text = g_strstrip (g_strdup (row_text (self->endpoint_row)));

  if (*text == '\0')
    return g_strdup (KP_MTURK_DEFAULT_ENDPOINT);
  return g_steal_pointer (&text);
}

/* The saved account of (endpoint, access key id), if any. */
static KpAccount *
find_account (KpReviewConnect *self,
              const char      *endpoint,
              const char      *key)
{
  g_autofree char *server = kp_normalize_server_url (endpoint, NULL);
  guint n;

  if (!self->store_loaded || server == NULL)
    return NULL;
  n = g_list_model_get_n_items (G_LIST_MODEL (self->store));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(KpAccount) account = g_list_model_get_item (G_LIST_MODEL (self->store), i);

      if (g_strcmp0 (kp_account_get_server_url (account), server) == 0 &&
          g_strcmp0 (kp_account_get_worker_id (account), key) == 0)
        return account;
    }
  return NULL;
}

static void
show_error (KpReviewConnect *self,
            const GError    *error)
{
  g_autofree char *message = NULL;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  if (g_error_matches (error, KP_MTURK_ERROR, KP_MTURK_ERROR_UNAUTHORIZED))
    message = g_strdup_printf (_("The keys were refused: %s"), error->message);
  else if (g_error_matches (error, KP_MTURK_ERROR, KP_MTURK_ERROR_NETWORK))
    message = g_strdup_printf (_("The server cannot be reached: %s"), error->message);
  else
    message = g_strdup (error->message);
  kp_review_connect_set_error (self, message);
}

static void
stored_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(KpAccount) account = NULL;
  g_autoptr(GError) error = NULL;

  account = kp_account_store_add_finish (KP_ACCOUNT_STORE (object), result, &error);
  if (account == NULL)
    g_debug ("The requester secret was not saved: %s", error->message);
}

typedef struct
{
  KpAccountStore *store;
  char           *endpoint;
  char           *key;
  char           *secret;
} Store;

static void
removed_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Store *store = user_data;
  g_autoptr(GError) error = NULL;

  if (!kp_account_store_remove_finish (KP_ACCOUNT_STORE (object), result, &error))
    g_debug ("The old requester secret was not removed: %s", error->message);
  kp_account_store_add_async (store->store, store->endpoint, store->secret, store->key, store->key,
                              NULL, stored_cb, NULL);
  g_object_unref (store->store);
  g_free (store->endpoint);
  g_free (store->key);
  memset (store->secret, 0, strlen (store->secret));
  g_free (store->secret);
  g_free (store);
}

typedef struct
{
  KpReviewConnect *self;
  KpReviewModel   *model;
  char            *endpoint;
  char            *key;
  char            *secret;     /* typed in this time: to be saved */
  char            *profile;
} Attempt;

static void
attempt_free (Attempt *attempt)
{
  g_object_unref (attempt->self);
  g_clear_object (&attempt->model);
  g_free (attempt->endpoint);
  g_free (attempt->key);
  if (attempt->secret != NULL)
    memset (attempt->secret, 0, strlen (attempt->secret));
  g_free (attempt->secret);
  g_free (attempt->profile);
  g_free (attempt);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Attempt, attempt_free)

static void
remember (Attempt *attempt)
{
  KpReviewConnect *self = attempt->self;
  KpAccount *old;

  g_settings_set_string (self->settings, "review-endpoint", attempt->endpoint);
  g_settings_set_string (self->settings, "review-access-key-id", attempt->key != NULL ? attempt->key : "");
  g_settings_set_string (self->settings, "review-profile", attempt->profile != NULL ? attempt->profile : "");

  if (attempt->secret == NULL || !self->store_loaded)
    return;

  /* A new secret for the same keys replaces the old one, once it is
   * gone (both change the same files). */
  old = find_account (self, attempt->endpoint, attempt->key);
  if (old != NULL)
    {
      Store *store = g_new0 (Store, 1);

      store->store = g_object_ref (self->store);
      store->endpoint = g_strdup (attempt->endpoint);
      store->key = g_strdup (attempt->key);
      store->secret = g_strdup (attempt->secret);
      kp_account_store_remove_async (self->store, old, NULL, removed_cb, store);
      return;
    }
  kp_account_store_add_async (self->store, attempt->endpoint, attempt->secret, attempt->key,
                              attempt->key, NULL, stored_cb, NULL);
}

static void
connected_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(Attempt) attempt = user_data;
  KpReviewConnect *self = attempt->self;
  g_autoptr(GError) error = NULL;

  if (g_cancellable_is_cancelled (self->cancellable))
    return;
  set_busy (self, FALSE);

  if (!kp_review_model_connect_finish (KP_REVIEW_MODEL (object), result, &error))
    {
      show_error (self, error);
      return;
    }

  remember (attempt);
  gtk_editable_set_text (GTK_EDITABLE (self->secret_row), "");
  g_signal_emit (self, signals[CONNECTED], 0, attempt->model);
}

static void
connect_with (Attempt            *attempt,
              KpMturkCredentials *credentials)
{
  KpReviewConnect *self = attempt->self;

  attempt->model = kp_review_model_new (attempt->endpoint, credentials);
  kp_review_model_connect_async (attempt->model, self->cancellable, connected_cb, attempt);
}

static void
token_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  Attempt *attempt = user_data;
  KpReviewConnect *self = attempt->self;
  g_autoptr(GError) error = NULL;
  g_autofree char *secret = NULL;
  KpMturkCredentials credentials = { 0 };

  secret = kp_account_store_lookup_token_finish (KP_ACCOUNT_STORE (object), result, &error);
  if (secret == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          set_busy (self, FALSE);
          kp_review_connect_set_error (self, _("The saved secret is gone: type it in again"));
        }
      attempt_free (attempt);
      return;
    }

  credentials.access_key_id = attempt->key;
  credentials.secret_access_key = secret;
  connect_with (attempt, &credentials);
}

void
kp_review_connect_start (KpReviewConnect *self)
{
  g_autoptr(Attempt) attempt = NULL;
  g_autoptr(GError) error = NULL;
  const char *profile;
  const char *key;
  const char *secret;

  g_return_if_fail (KP_IS_REVIEW_CONNECT (self));

  if (self->busy)
    return;

  kp_review_connect_set_error (self, NULL);
  attempt = g_new0 (Attempt, 1);
  attempt->self = g_object_ref (self);
  attempt->endpoint = dup_endpoint (self);

  if (!g_str_has_prefix (attempt->endpoint, "http://") && !g_str_has_prefix (attempt->endpoint, "https://"))
    {
      kp_review_connect_set_error (self, _("The endpoint must be an http or https address"));
      return;
    }

  profile = row_text (self->profile_row);
  key = row_text (self->key_row);
  secret = row_text (self->secret_row);

  if (*profile != '\0')
    {
      g_autoptr(KpMturkCredentials) credentials = kp_mturk_credentials_load (profile, &error);

      if (credentials == NULL)
        {
          show_error (self, error);
          return;
        }
      attempt->profile = g_strdup (profile);
      attempt->key = g_strdup (credentials->access_key_id);
      set_busy (self, TRUE);
      connect_with (g_steal_pointer (&attempt), credentials);
      return;
    }

  if (*key == '\0')
    {
      kp_review_connect_set_error (self, _("Type in an access key id, or the name of an AWS profile"));
      return;
    }
  attempt->key = g_strdup (key);

  if (*secret != '\0')
    {
      KpMturkCredentials credentials = { 0 };

      attempt->secret = g_strdup (secret);
      credentials.access_key_id = attempt->key;
      credentials.secret_access_key = attempt->secret;
      set_busy (self, TRUE);
      connect_with (g_steal_pointer (&attempt), &credentials);
      return;
    }

  {
    KpAccount *account = find_account (self, attempt->endpoint, attempt->key);

    if (account == NULL)
      {
        kp_review_connect_set_error (self, _("Type in the secret access key"));
        return;
      }
    set_busy (self, TRUE);
    kp_account_store_lookup_token_async (self->store, account, self->cancellable, token_cb,
                                         g_steal_pointer (&attempt));
  }
}

void
kp_review_connect_fill (KpReviewConnect *self,
                        const char      *endpoint,
                        const char      *access_key_id,
                        const char      *secret,
                        const char      *profile)
{
  g_return_if_fail (KP_IS_REVIEW_CONNECT (self));

  if (endpoint != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->endpoint_row), endpoint);
  if (access_key_id != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->key_row), access_key_id);
  if (secret != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->secret_row), secret);
  if (profile != NULL)
    gtk_editable_set_text (GTK_EDITABLE (self->profile_row), profile);
}

gboolean
kp_review_connect_get_secret_saved (KpReviewConnect *self)
{
  g_autofree char *endpoint = NULL;

  g_return_val_if_fail (KP_IS_REVIEW_CONNECT (self), FALSE);

  endpoint = dup_endpoint (self);
  return find_account (self, endpoint, row_text (self->key_row)) != NULL;
}

static void
update_secret_hint (KpReviewConnect *self)
{
  gboolean saved = kp_review_connect_get_secret_saved (self);

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->secret_row),
                                 saved ? _("Secret Access Key (saved in the keyring)")
                                       : _("Secret Access Key"));
}

static void
store_loaded_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(KpReviewConnect) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!kp_account_store_load_finish (KP_ACCOUNT_STORE (object), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("No saved requester keys: %s", error->message);
      return;
    }
  self->store_loaded = TRUE;
  update_secret_hint (self);
}

static void
connect_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  kp_review_connect_start (KP_REVIEW_CONNECT (widget));
}

static void
kp_review_connect_dispose (GObject *object)
{
  KpReviewConnect *self = KP_REVIEW_CONNECT (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->store);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (kp_review_connect_parent_class)->dispose (object);
}

static void
kp_review_connect_class_init (KpReviewConnectClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kp_review_connect_dispose;

  signals[CONNECTED] = g_signal_new ("connected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                     0, NULL, NULL, NULL, G_TYPE_NONE, 1, KP_TYPE_REVIEW_MODEL);

  gtk_widget_class_install_action (widget_class, "review-connect.connect", NULL, connect_action);
}

static GtkWidget *
entry_row (const char *title)
{
  GtkWidget *row = adw_entry_row_new ();

  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  return row;
}

static void
kp_review_connect_init (KpReviewConnect *self)
{
  GtkWidget *page = adw_preferences_page_new ();
  GtkWidget *keys = adw_preferences_group_new ();
  GtkWidget *profile = adw_preferences_group_new ();
  GtkWidget *actions = adw_preferences_group_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);

  self->cancellable = g_cancellable_new ();

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (keys), _("Requester Keys"));
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (keys),
                                         _("Review the work on your HITs on MTurk or on a Kempelen server. "
                                           "The secret is kept in the keyring."));
  self->endpoint_row = entry_row (_("Endpoint (empty for MTurk)"));
  self->key_row = entry_row (_("Access Key ID"));
  self->secret_row = adw_password_entry_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->secret_row), _("Secret Access Key"));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (keys), self->endpoint_row);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (keys), self->key_row);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (keys), self->secret_row);

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (profile), _("Or an AWS Profile"));
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (profile),
                                         _("A profile of ~/.aws/credentials, used instead of the keys above"));
  self->profile_row = entry_row (_("Profile"));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (profile), self->profile_row);

  self->connect_button = gtk_button_new_with_mnemonic (_("_Connect"));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (self->connect_button), "review-connect.connect");
  gtk_widget_add_css_class (self->connect_button, "suggested-action");
  gtk_widget_add_css_class (self->connect_button, "pill");
  self->spinner = gtk_spinner_new ();
  gtk_widget_set_visible (self->spinner, FALSE);
  gtk_widget_set_halign (box, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (box), self->connect_button);
  gtk_box_append (GTK_BOX (box), self->spinner);

  self->error_label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->error_label), TRUE);
  gtk_label_set_selectable (GTK_LABEL (self->error_label), TRUE);
  gtk_widget_add_css_class (self->error_label, "error");
  gtk_widget_set_margin_top (self->error_label, 12);
  gtk_widget_set_visible (self->error_label, FALSE);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->error_label), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Connection error"), -1);

  {
    GtkWidget *inner = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);

    gtk_box_append (GTK_BOX (inner), box);
    gtk_box_append (GTK_BOX (inner), self->error_label);
    adw_preferences_group_add (ADW_PREFERENCES_GROUP (actions), inner);
  }

  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (keys));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (profile));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (actions));
  adw_bin_set_child (ADW_BIN (self), page);

  g_signal_connect_swapped (self->endpoint_row, "changed", G_CALLBACK (update_secret_hint), self);
  g_signal_connect_swapped (self->key_row, "changed", G_CALLBACK (update_secret_hint), self);
  g_signal_connect_swapped (self->key_row, "entry-activated", G_CALLBACK (kp_review_connect_start), self);
  g_signal_connect_swapped (self->secret_row, "entry-activated", G_CALLBACK (kp_review_connect_start), self);
  g_signal_connect_swapped (self->profile_row, "entry-activated", G_CALLBACK (kp_review_connect_start), self);
}

GtkWidget *
kp_review_connect_new (GSettings  *settings,
                       const char *config_dir)
{
  KpReviewConnect *self;
  g_autofree char *dir = NULL;
  g_autofree char *endpoint = NULL;
  g_autofree char *key = NULL;
  g_autofree char *profile = NULL;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (KP_TYPE_REVIEW_CONNECT, NULL);
  self->settings = g_object_ref (settings);

  dir = config_dir != NULL ? g_strdup (config_dir)
                           : g_build_filename (g_get_user_config_dir (), "kempelen", "review", NULL);
  self->store = kp_account_store_new (dir, KP_TOKEN_STORAGE_AUTO);
  kp_account_store_load_async (self->store, self->cancellable, store_loaded_cb, g_object_ref (self));

  endpoint = g_settings_get_string (settings, "review-endpoint");
  key = g_settings_get_string (settings, "review-access-key-id");
  profile = g_settings_get_string (settings, "review-profile");
  kp_review_connect_fill (self, endpoint, key, NULL, profile);

  return GTK_WIDGET (self);
}
