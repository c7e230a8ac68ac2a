/* kp-notify.c: delivery of MTurk notifications
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Transports. MTurk sends notifications to SQS queues, SNS topics or email
 * addresses; none of these exist here, so kempelen-server has one delivery
 * method, a webhook: the notification's JSON document (exactly the body
 * MTurk would put in the SQS message, see kp-notify-queue.c) is POSTed with
 * Content-Type application/json to the Destination URL. So:
 *
 *  - Transport "SQS" or "SNS" with an https:// Destination (an SQS queue URL
 *    is one, as is any HTTPS endpoint of the requester's): POSTed there;
 *  - an ARN Destination (an SNS topic), Transport "Email", or any other
 *    kind of URL: refused with a RequestError saying that only HTTPS
 *    endpoints are delivered here;
 *  - plain http:// only to this machine's loopback (127.0.0.1, ::1,
 *    localhost), which is what tests and a relay on the same host use;
 *    anything leaving the machine must be HTTPS.
 *
 * Certificates are checked against the system's trust store, or against a
 * CA file set with kp_notifier_set_ca_file() (e.g. for a private CA).
 * Redirects are not followed: a 3xx counts as a failed attempt.
 *
 * Delivery. Rows of notification_outbox whose next_attempt has come are
 * claimed (next_attempt moved a lease into the future, so that another
 * server process sharing the database, or a restart after a crash, leaves
 * them alone until the lease is over) and POSTed asynchronously with a
 * SoupSession; the main loop never waits. A 2xx answer deletes the row;
 * anything else counts an attempt and schedules the next one with
 * exponential back-off (10 s, 20 s, 40 s … at most 15 minutes apart). After
 * 24 hours a message is given up and logged. At most MAX_IN_FLIGHT POSTs
 * run at once, and at most MAX_PER_HOST to one host, so that one slow
 * destination cannot hold up everyone else's. The notifier's own writes are single autocommit statements;
 * if the server has a transaction open on the connection when one is due,
 * it is kept until the next kick instead of joining that transaction.
 *
 * Logs name the destination's host only (URLs may carry credentials in
 * their path or query) and never the message body.
 */

#include "config.h"

#include <inttypes.h>

#include "kp-notify.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>

#define MAX_IN_FLIGHT      16
#define MAX_PER_HOST       4
#define POST_TIMEOUT_S     30
#define LEASE_S            (2 * POST_TIMEOUT_S)
#define FIRST_RETRY_S      10
#define MAX_RETRY_S        (15 * 60)
#define GIVE_UP_S          (24 * 60 * 60)
#define MAX_ERROR_LENGTH   200

struct _KpNotifier
{
  GObject       parent_instance;

  KpDb         *db;
  SoupSession  *session;
  GCancellable *cancellable;
  GHashTable   *in_flight;     /* outbox id -> host */
  GQueue        outcomes;      /* Outcome *, waiting for the store to be free */
  char         *ca_bundle;     /* our temporary PEM file, see set_ca_file() */
  gboolean      stopped;
};

G_DEFINE_FINAL_TYPE (KpNotifier, kp_notifier, G_TYPE_OBJECT)

typedef struct
{
  char     *id;
  char     *host;
  gboolean  delivered;
  gint64    attempts;          /* before this one */
  gint64    created;
  char     *error_text;
} Outcome;

typedef struct
{
  KpNotifier  *self;
  SoupMessage *message;
  Outcome     *outcome;
} Delivery;

static void
outcome_free (Outcome *outcome)
{
  g_free (outcome->id);
  g_free (outcome->host);
  g_free (outcome->error_text);
  g_free (outcome);
}

static void
delivery_free (Delivery *delivery)
{
  g_clear_object (&delivery->self);
  g_clear_object (&delivery->message);
  g_clear_pointer (&delivery->outcome, outcome_free);
  g_free (delivery);
}

static gint64
now_seconds (void)
{
  /* Real (wall-clock) time, which libfaketime moves in the tests. */
  return g_get_real_time () / G_USEC_PER_SEC;
}

/* Destinations */

static gboolean
is_loopback_host (const char *host)
{
  g_autoptr(GInetAddress) address = NULL;

  if (host == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;

  address = g_inet_address_new_from_string (host);
  return address != NULL && g_inet_address_get_is_loopback (address);
}

gboolean
kp_notify_check_destination (KpCtx       *ctx,
                             const char  *destination,
                             GError     **error)
{
  g_autoptr(GUri) uri = NULL;
  const char *scheme;
  const char *host;

  g_return_val_if_fail (destination != NULL, FALSE);

  if (g_str_has_prefix (destination, "arn:"))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("The Destination “%s” is an ARN; this server delivers notifications "
                          "only to HTTPS endpoints (give the https:// URL of your queue or "
                          "webhook as the Destination)"), destination);

  uri = g_uri_parse (destination, G_URI_FLAGS_NONE, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  host = uri != NULL ? g_uri_get_host (uri) : NULL;

  if (scheme == NULL || host == NULL || *host == '\0' || g_uri_get_userinfo (uri) != NULL)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("The Destination must be an https:// URL; this server delivers "
                          "notifications only to HTTPS endpoints"));

  if (g_ascii_strcasecmp (scheme, "https") == 0)
    return TRUE;

  if (g_ascii_strcasecmp (scheme, "http") == 0 && is_loopback_host (host))
    return TRUE;

  if (g_ascii_strcasecmp (scheme, "http") == 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("The Destination must use https://; plain http:// is only "
                          "delivered to this machine (127.0.0.1, ::1 or localhost)"));

  return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                      _("The Destination must be an https:// URL; this server delivers "
                        "notifications only to HTTPS endpoints"));
}

static char *
dup_host (const char *destination)
{
  g_autoptr(GUri) uri = g_uri_parse (destination, G_URI_FLAGS_NONE, NULL);

  if (uri == NULL || g_uri_get_host (uri) == NULL)
    return g_strdup ("?");

  return g_strdup (g_uri_get_host (uri));
}

/* Recording outcomes */

static gint64
retry_delay (gint64 attempts)
{
  gint64 delay = FIRST_RETRY_S;

  for (gint64 i = 1; i < attempts && delay < MAX_RETRY_S; i++)
    delay *= 2;

  return MIN (delay, MAX_RETRY_S);
}

static void
record_outcome (KpNotifier *self,
                Outcome    *outcome)
{
  g_autoptr(GError) error = NULL;
  gint64 now = now_seconds ();
  gint64 attempts = outcome->attempts + 1;
  gboolean ok;

  if (outcome->delivered)
    {
      g_debug ("Delivered notification %s to %s", outcome->id, outcome->host);
      ok = kp_db_exec (self->db, NULL, &error,
                       "DELETE FROM notification_outbox WHERE id = $1",
                       "s", outcome->id);
    }
  else if (now - outcome->created >= GIVE_UP_S)
    {
      g_warning ("Giving up on notification %s to %s after %" PRId64
                 " attempts in 24 hours; the last one failed: %s",
                 outcome->id, outcome->host, attempts, outcome->error_text);
      ok = kp_db_exec (self->db, NULL, &error,
                       "DELETE FROM notification_outbox WHERE id = $1",
                       "s", outcome->id);
    }
  else
    {
      gint64 delay = retry_delay (attempts);

      g_message ("Notification %s to %s failed (attempt %" PRId64
                 "), retrying in %" PRId64 " s: %s",
                 outcome->id, outcome->host, attempts, delay, outcome->error_text);
      ok = kp_db_exec (self->db, NULL, &error,
                       "UPDATE notification_outbox "
                       "SET attempts = $2, next_attempt = $3, last_error = $4 "
                       "WHERE id = $1",
                       "siis", outcome->id, attempts, now + delay, outcome->error_text);
    }

  /* The row stays claimed until its lease is over, so a failed write only
   * delays the message. */
  if (!ok)
    g_warning ("Cannot record the delivery of notification %s: %s",
               outcome->id, error->message);
}

static void
flush_outcomes (KpNotifier *self)
{
  Outcome *outcome;

  while (!kp_db_in_transaction (self->db) &&
         (outcome = g_queue_pop_head (&self->outcomes)) != NULL)
    {
      record_outcome (self, outcome);
      g_hash_table_remove (self->in_flight, outcome->id);
      outcome_free (outcome);
    }
}

static void
send_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Delivery *delivery = user_data;
  g_autoptr(KpNotifier) self = g_steal_pointer (&delivery->self);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  Outcome *outcome;
  guint status;

  body = soup_session_send_and_read_finish (SOUP_SESSION (source), result, &error);

  /* Stopped: the store may be gone; the claimed row is retried after its
   * lease by the next start. */
  if (self->stopped || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      delivery_free (delivery);
      return;
    }

  outcome = g_steal_pointer (&delivery->outcome);
  status = soup_message_get_status (delivery->message);

  if (error != NULL)
    {
      outcome->error_text = g_utf8_make_valid (error->message, -1);
    }
  else if (SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      outcome->delivered = TRUE;
    }
  else
    {
      const char *reason = soup_message_get_reason_phrase (delivery->message);
      g_autofree char *text = g_strdup_printf ("HTTP %u %s", status, reason != NULL ? reason : "");

      outcome->error_text = g_utf8_make_valid (text, -1);
    }

  if (outcome->error_text != NULL && g_utf8_strlen (outcome->error_text, -1) > MAX_ERROR_LENGTH)
    {
      char *end = g_utf8_offset_to_pointer (outcome->error_text, MAX_ERROR_LENGTH);

      *end = '\0';
    }

  g_queue_push_tail (&self->outcomes, outcome);
  flush_outcomes (self);

  delivery_free (delivery);

  /* A slot is free: more may be due. */
  kp_notifier_kick (self);
}

static void
start_delivery (KpNotifier *self,
                const char *id,
                const char *destination,
                const char *body,
                gint64      attempts,
                gint64      created)
{
  g_autoptr(GBytes) bytes = NULL;
  Delivery *delivery;
  Outcome *outcome;

  outcome = g_new0 (Outcome, 1);
  outcome->id = g_strdup (id);
  outcome->host = dup_host (destination);
  outcome->attempts = attempts;
  outcome->created = created;

  g_hash_table_insert (self->in_flight, g_strdup (id), g_strdup (outcome->host));

  /* Checked when the settings were stored; checked again in case the rules
   * changed since, and never sent anywhere else. */
  if (!kp_notify_check_destination (NULL, destination, NULL))
    {
      outcome->error_text = g_strdup ("the destination is not an HTTPS URL");
      g_queue_push_tail (&self->outcomes, outcome);
      return;
    }

  delivery = g_new0 (Delivery, 1);
  delivery->self = g_object_ref (self);
  delivery->outcome = outcome;
  delivery->message = soup_message_new ("POST", destination);
  soup_message_add_flags (delivery->message, SOUP_MESSAGE_NO_REDIRECT);
  bytes = g_bytes_new (body, strlen (body));
  soup_message_set_request_body_from_bytes (delivery->message, "application/json", bytes);

  soup_session_send_and_read_async (self->session,
                                    delivery->message,
                                    G_PRIORITY_DEFAULT,
                                    self->cancellable,
                                    send_cb,
                                    delivery);
}

/* Object */

static void
remove_ca_bundle (KpNotifier *self)
{
  if (self->ca_bundle != NULL)
    g_unlink (self->ca_bundle);
  g_clear_pointer (&self->ca_bundle, g_free);
}


static void
kp_notifier_dispose (GObject *object)
{
  KpNotifier *self = (KpNotifier *)object;

  kp_notifier_stop (self);
  g_clear_object (&self->session);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (kp_notifier_parent_class)->dispose (object);
}

static void
kp_notifier_finalize (GObject *object)
{
  KpNotifier *self = (KpNotifier *)object;

  g_queue_clear_full (&self->outcomes, (GDestroyNotify)outcome_free);
  g_clear_pointer (&self->in_flight, g_hash_table_unref);
  remove_ca_bundle (self);

  G_OBJECT_CLASS (kp_notifier_parent_class)->finalize (object);
}

static void
kp_notifier_class_init (KpNotifierClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kp_notifier_dispose;
  object_class->finalize = kp_notifier_finalize;
}

static void
kp_notifier_init (KpNotifier *self)
{
  self->session = soup_session_new_with_options ("timeout", POST_TIMEOUT_S,
                                                 "user-agent", "kempelen-server/" PACKAGE_VERSION " ",
                                                 "max-conns", MAX_IN_FLIGHT,
                                                 "max-conns-per-host", MAX_PER_HOST,
                                                 NULL);
  self->cancellable = g_cancellable_new ();
  self->in_flight = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_queue_init (&self->outcomes);
}

KpNotifier *
kp_notifier_new (KpDb *db)
{
  KpNotifier *self;

  g_return_val_if_fail (db != NULL, NULL);

  self = g_object_new (KP_TYPE_NOTIFIER, NULL);
  self->db = db;

  return self;
}

/* The system's CA bundle on Debian and its relatives, and on Fedora. */
static const char * const system_bundles[] = {
  "/etc/ssl/certs/ca-certificates.crt",
  "/etc/pki/tls/certs/ca-bundle.crt",
};

void
kp_notifier_set_ca_file (KpNotifier *self,
                         const char *ca_file)
{
  g_autoptr(GTlsDatabase) database = NULL;
  g_autoptr(GString) pem = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *tmp_path = NULL;
  int fd;
  gssize written = 0;

  g_return_if_fail (KP_IS_NOTIFIER (self));

  if (ca_file == NULL)
    {
      database = g_tls_backend_get_default_database (g_tls_backend_get_default ());
      soup_session_set_tls_database (self->session, database);
      remove_ca_bundle (self);
      return;
    }

  /* GTlsFileDatabase trusts exactly one PEM file; to trust the given CAs in
   * addition to the system's, both are joined in a temporary file of our
   * own, which the database reads when it verifies a certificate; it is
   * removed when the notifier goes. */
  if (!g_file_get_contents (ca_file, &contents, NULL, &error))
    {
      g_warning ("Cannot use “%s” as the notifications’ CA file: %s", ca_file, error->message);
      return;
    }

  pem = g_string_new (contents);
  g_string_append_c (pem, '\n');
  for (guint i = 0; i < G_N_ELEMENTS (system_bundles); i++)
    {
      g_autofree char *system = NULL;

      if (g_file_get_contents (system_bundles[i], &system, NULL, NULL))
        {
          g_string_append (pem, system);
          break;
        }
    }

  fd = g_file_open_tmp ("kempelen-ca-XXXXXX.pem", &tmp_path, &error);
  if (fd >= 0)
    {
      for (gsize done = 0; done < pem->len && written >= 0; done += written)
        written = write (fd, pem->str + done, pem->len - done);
      if (written < 0)
        g_set_error_literal (&error, G_IO_ERROR, g_io_error_from_errno (errno),
                             g_strerror (errno));
      g_close (fd, NULL);
    }
  if (error != NULL)
    {
      g_warning ("Cannot use “%s” as the notifications’ CA file: %s", ca_file, error->message);
      if (tmp_path != NULL)
        g_unlink (tmp_path);
      return;
    }

  database = g_tls_file_database_new (tmp_path, &error);
  if (database == NULL)
    {
      g_warning ("Cannot use “%s” as the notifications’ CA file: %s", ca_file, error->message);
      g_unlink (tmp_path);
      return;
    }

  remove_ca_bundle (self);
  self->ca_bundle = g_steal_pointer (&tmp_path);
  soup_session_set_tls_database (self->session, database);
}

static guint
count_host (KpNotifier *self,
            const char *destination)
{
  g_autofree char *host = dup_host (destination);
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, self->in_flight);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (g_ascii_strcasecmp (value, host) == 0)
      n++;

  return n;
}

void
kp_notifier_kick (KpNotifier *self)
{
  g_autoptr(KpRows) rows = NULL;
  g_autoptr(GError) error = NULL;
  guint n_in_flight;
  gint64 now;

  g_return_if_fail (KP_IS_NOTIFIER (self));

  if (self->stopped)
    return;

  flush_outcomes (self);

  /* Never mix our statements into a transaction of the server's. */
  if (kp_db_in_transaction (self->db))
    return;

  n_in_flight = g_hash_table_size (self->in_flight);
  if (n_in_flight >= MAX_IN_FLIGHT)
    return;

  now = now_seconds ();
  rows = kp_db_query (self->db, &error,
                      "SELECT id, destination, body, attempts, created FROM notification_outbox "
                      "WHERE next_attempt <= $1 ORDER BY next_attempt, id LIMIT $2",
                      "ii", now, (gint64)4 * MAX_IN_FLIGHT + n_in_flight);
  if (rows == NULL)
    {
      g_warning ("Cannot read the notification outbox: %s", error->message);
      return;
    }

  for (guint r = 0; r < kp_rows_get_n_rows (rows); r++)
    {
      const char *id = kp_rows_get_text (rows, r, 0);
      guint n_changed = 0;

      if (g_hash_table_size (self->in_flight) >= MAX_IN_FLIGHT)
        break;
      if (g_hash_table_contains (self->in_flight, id))
        continue;
      if (count_host (self, kp_rows_get_text (rows, r, 1)) >= MAX_PER_HOST)
        continue;

      /* Claim it for a lease, unless someone else just did. */
      if (!kp_db_exec (self->db, &n_changed, &error,
                       "UPDATE notification_outbox SET next_attempt = $2 "
                       "WHERE id = $1 AND next_attempt <= $3",
                       "sii", id, now + LEASE_S, now))
        {
          g_warning ("Cannot claim notification %s: %s", id, error->message);
          return;
        }
      if (n_changed != 1)
        continue;

      start_delivery (self, id,
                      kp_rows_get_text (rows, r, 1),
                      kp_rows_get_text (rows, r, 2),
                      kp_rows_get_int (rows, r, 3),
                      kp_rows_get_int (rows, r, 4));
    }

  flush_outcomes (self);
}

void
kp_notifier_stop (KpNotifier *self)
{
  g_return_if_fail (KP_IS_NOTIFIER (self));

  if (self->stopped)
    return;

  self->stopped = TRUE;
  g_cancellable_cancel (self->cancellable);
  g_queue_clear_full (&self->outcomes, (GDestroyNotify)outcome_free);
  g_hash_table_remove_all (self->in_flight);
}
