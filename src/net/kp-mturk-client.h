/* kp-mturk-client.h: a small MTurk Requester API client (AWS JSON 1.1,
 * SigV4), for kempelenctl and the workstation's review desk.
 * Calls block: call from a worker thread (GTask) in a GUI; one client
 * must not be used by two threads at once
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

#define KP_MTURK_ERROR (kp_mturk_error_quark ())

typedef enum
{
  KP_MTURK_ERROR_FAILED,          /* the answer could not be read */
  KP_MTURK_ERROR_NETWORK,         /* no answer at all */
  KP_MTURK_ERROR_REQUEST,         /* RequestError (400) */
  KP_MTURK_ERROR_ALREADY_EXISTS,  /* a RequestError whose TurkErrorCode ends in AlreadyExists */
  KP_MTURK_ERROR_SERVICE,         /* ServiceFault / 5xx */
  KP_MTURK_ERROR_THROTTLED,       /* ThrottlingException, after the retries */
  KP_MTURK_ERROR_UNAUTHORIZED,    /* the credentials were refused */
  KP_MTURK_ERROR_CREDENTIALS,     /* no credentials could be found */
} KpMturkError;

GQuark kp_mturk_error_quark (void);

/* MTurk's production endpoint, the default. */
#define KP_MTURK_DEFAULT_ENDPOINT "https://mturk-requester.us-east-1.amazonaws.com"

/* Credentials, found as the AWS tools find them: with profile NULL, the
 * environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, optional
 * AWS_SESSION_TOKEN) and else the profile AWS_PROFILE or "default";
 * a profile is read from AWS_SHARED_CREDENTIALS_FILE or
 * ~/.aws/credentials. The region comes from AWS_REGION,
 * AWS_DEFAULT_REGION, the profile's region, else us-east-1. Error
 * messages never contain the secret. */
typedef struct
{
  char *access_key_id;
  char *secret_access_key;
  char *session_token;
  char *region;
} KpMturkCredentials;

KpMturkCredentials *kp_mturk_credentials_load (const char          *profile,
                                               GError             **error);
void                kp_mturk_credentials_free (KpMturkCredentials  *credentials);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpMturkCredentials, kp_mturk_credentials_free)

#define KP_TYPE_MTURK_CLIENT (kp_mturk_client_get_type ())

G_DECLARE_FINAL_TYPE (KpMturkClient, kp_mturk_client, KP, MTURK_CLIENT, GObject)

/* endpoint is a URL such as "http://127.0.0.1:8470" or
 * KP_MTURK_DEFAULT_ENDPOINT. */
KpMturkClient *kp_mturk_client_new             (const char                *endpoint,
                                                const KpMturkCredentials  *credentials);
/* How often a throttled or failed (5xx, no answer) call is tried again,
 * with exponential back-off starting at initial_delay_ms (defaults: 5,
 * 200 ms). */
void           kp_mturk_client_set_retries     (KpMturkClient             *self,
                                                guint                      retries,
                                                guint                      initial_delay_ms);
/* Calls operation ("CreateHIT") with request (a JSON object; NULL for
 * {}), blocking. Returns the answer object, or NULL with a
 * KP_MTURK_ERROR whose message is the server's. */
JsonObject    *kp_mturk_client_call            (KpMturkClient             *self,
                                                const char                *operation,
                                                JsonObject                *request,
                                                GError                   **error) G_GNUC_WARN_UNUSED_RESULT;
/* Whether url has the scheme, host and port of the client's endpoint.
 * Since session 5. */
gboolean       kp_mturk_client_owns_url        (KpMturkClient             *self,
                                                const char                *url);
/* Signs msg, a GET or HEAD without a body, with the client's keys
 * (SigV4, service mturk-requester): a kempelen-server then serves
 * /worker/v1/media/{sha256} to the requester. Since session 5. */
void           kp_mturk_client_sign_message    (KpMturkClient             *self,
                                                SoupMessage               *msg);
/* The TurkErrorCode of the last failed call ("AWS.MechanicalTurk.…"), or
 * NULL. */
const char    *kp_mturk_client_get_turk_code   (KpMturkClient             *self);

G_END_DECLS
