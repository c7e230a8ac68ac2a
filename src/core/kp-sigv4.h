/* kp-sigv4.h: AWS Signature Version 4, verified by the server and made by clients
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#if !defined(KP_CORE_INSIDE) && !defined(KP_CORE_COMPILATION)
# error "Only <kp-core.h> can be included directly."
#endif

#include <glib.h>

G_BEGIN_DECLS

#define KP_SIGV4_ERROR (kp_sigv4_error_quark ())

typedef enum
{
  KP_SIGV4_ERROR_MISSING,     /* no Authorization header / no X-Amz-Date */
  KP_SIGV4_ERROR_MALFORMED,   /* not "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…", bad date format, host not signed, … */
  KP_SIGV4_ERROR_SCOPE,       /* credential scope date != X-Amz-Date's date, wrong service, terminator not aws4_request */
  KP_SIGV4_ERROR_STALE,       /* X-Amz-Date more than 15 minutes from now (either way) */
  KP_SIGV4_ERROR_MISMATCH,    /* signature does not match */
} KpSigv4Error;

GQuark kp_sigv4_error_quark (void);

typedef struct _KpSigv4Request KpSigv4Request;

/* path is the raw request path as sent (percent-encoded), query the raw query
 * string without '?' (NULL or "" for none), body may be NULL (empty). */
KpSigv4Request *kp_sigv4_request_new            (const char     *method,
                                                 const char     *path,
                                                 const char     *query,
                                                 GBytes         *body);
void            kp_sigv4_request_free           (KpSigv4Request *req);

/* Header names are case-insensitive; adding the same name twice joins values
 * with "," as HTTP does. */
void            kp_sigv4_request_add_header     (KpSigv4Request *req,
                                                 const char     *name,
                                                 const char     *value);
const char     *kp_sigv4_request_get_header     (KpSigv4Request *req,
                                                 const char     *name);
/* Calls func for each header (name lower-cased) – used by clients to copy the
 * signed headers onto a SoupMessage. */
void            kp_sigv4_request_foreach_header (KpSigv4Request *req,
                                                 GHFunc          func,
                                                 gpointer        user_data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpSigv4Request, kp_sigv4_request_free)

/* Parses the Authorization header; returns the access key id (newly
 * allocated) and optionally the region of the credential scope. Does not need
 * the secret. */
gboolean kp_sigv4_parse  (KpSigv4Request *req,
                          char          **access_key_id,
                          char          **region,
                          GError        **error);
/* Whether the Authorization header that kp_sigv4_parse() last accepted
 * signs the header name (lower case); FALSE before a successful parse. */
gboolean kp_sigv4_request_is_signed (KpSigv4Request *req,
                                     const char     *name);
/* Full verification: canonical request (method, canonical URI, canonical
 * query string sorted by encoded key then value, canonical headers of exactly
 * the SignedHeaders – which must include host and x-amz-date (or the Date
 * header fallback is NOT accepted), trimmed/whitespace-collapsed values,
 * payload hash: x-amz-content-sha256 if present must equal the real body
 * hash, else computed from body), string to sign, signing key, constant-time
 * comparison. service must match the scope's service; now_s is the current
 * time (epoch seconds); max skew 15 minutes. */
gboolean kp_sigv4_verify (KpSigv4Request *req,
                          const char     *secret_access_key,
                          const char     *service,
                          gint64          now_s,
                          GError        **error);
/* Client side: sets Host must already be present as a header; adds X-Amz-Date
 * (from now_s) and Authorization (signing every header present,
 * lower-cased). */
void     kp_sigv4_sign   (KpSigv4Request *req,
                          const char     *access_key_id,
                          const char     *secret_access_key,
                          const char     *region,
                          const char     *service,
                          gint64          now_s);

G_END_DECLS
