/* kp-sigv4.c: AWS Signature Version 4, verified by the server and made by clients
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Everything here follows the public description of SigV4 ("Create a signed
 * AWS API request"): a canonical request is hashed into a string to sign,
 * which is signed with a key derived from the secret and the credential
 * scope. The canonical URI and query string are built the way botocore
 * builds them for non-S3 services, since boto3 and the AWS CLI are the
 * clients that matter: dot segments and empty segments are removed from the
 * path and the result is percent-encoded once more (so "%20" signs as
 * "%2520"); each query key and value is decoded and encoded again with
 * RFC 3986's unreserved set, then the pairs are sorted.
 *
 * Everything in a request may be hostile, so the Authorization header is
 * parsed strictly, every length is bounded and no part of it that has not
 * been checked is ever copied into an error message (the server sends those
 * messages back as JSON, so they must stay valid UTF-8).
 */

#include "config.h"

#include "kp-sigv4.h"

#include <string.h>

#include <glib/gi18n-lib.h>

G_DEFINE_QUARK (kp-sigv4-error-quark, kp_sigv4_error)

#define ALGORITHM             "AWS4-HMAC-SHA256"
#define TERMINATOR            "aws4_request"
#define MAX_SKEW_S            (15 * 60)
#define MAX_AUTHORIZATION_LEN 8192
#define MAX_SIGNED_HEADERS    64
#define MAX_HEADER_NAME_LEN   256
#define MAX_ACCESS_KEY_LEN    128
#define MAX_SCOPE_PART_LEN    64
#define SHA256_LEN            32
#define SIGNATURE_HEX_LEN     (2 * SHA256_LEN)
#define AMZ_DATE_LEN          16 /* 20150830T123600Z */
#define SCOPE_DATE_LEN        8  /* 20150830 */

struct _KpSigv4Request
{
  char *method;
  char *path;
  char *query;
  GBytes *body;
  /* Lower-cased name → value; the values of a repeated header are joined
   * with ",". */
  GHashTable *headers;
  /* The SignedHeaders of the last successful kp_sigv4_parse(). */
  char **signed_names;
};

typedef struct
{
  char *access_key_id;
  char *date;
  char *region;
  char *service;
  char *terminator;
  char *signed_headers;   /* as sent: "host;x-amz-date" */
  char **signed_names;    /* the same, split */
  char *signature;
} Authorization;

static void
authorization_free (Authorization *auth)
{
  g_free (auth->access_key_id);
  g_free (auth->date);
  g_free (auth->region);
  g_free (auth->service);
  g_free (auth->terminator);
  g_free (auth->signed_headers);
  g_strfreev (auth->signed_names);
  g_free (auth->signature);
  g_free (auth);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Authorization, authorization_free)

/**
 * kp_sigv4_request_new:
 * @method: the HTTP method, as sent ("POST")
 * @path: the request path as sent, still percent-encoded
 * @query: (nullable): the raw query string without '?'
 * @body: (nullable): the request body; %NULL for none
 *
 * Describes a request to sign or to verify. Add its headers with
 * kp_sigv4_request_add_header().
 *
 * Returns: (transfer full): a new request, freed with kp_sigv4_request_free()
 */
KpSigv4Request *
kp_sigv4_request_new (const char *method,
                      const char *path,
                      const char *query,
                      GBytes     *body)
{
  KpSigv4Request *req;

  g_return_val_if_fail (method != NULL, NULL);
  g_return_val_if_fail (path != NULL, NULL);

  req = g_new0 (KpSigv4Request, 1);
  req->method = g_strdup (method);
  req->path = g_strdup (path);
  req->query = g_strdup (query != NULL ? query : "");
  req->body = body != NULL ? g_bytes_ref (body) : g_bytes_new_static ("", 0);
  req->headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);

  return req;
}

void
kp_sigv4_request_free (KpSigv4Request *req)
{
  if (req == NULL)
    return;

  g_free (req->method);
  g_free (req->path);
  g_free (req->query);
  g_bytes_unref (req->body);
  g_hash_table_unref (req->headers);
  g_strfreev (req->signed_names);
  g_free (req);
}

static gboolean
is_ows (char c)
{
  return c == ' ' || c == '\t';
}

/**
 * kp_sigv4_request_add_header:
 * @req: a #KpSigv4Request
 * @name: a header name, in any case
 * @value: its value; surrounding spaces and tabs are dropped
 *
 * Adds a header. Adding a name again appends ",@value" to its value, as
 * HTTP joins repeated fields.
 */
void
kp_sigv4_request_add_header (KpSigv4Request *req,
                             const char     *name,
                             const char     *value)
{
  const char *start;
  const char *end;
  char *lower;
  const char *old;
  char *trimmed;

  g_return_if_fail (req != NULL);
  g_return_if_fail (name != NULL && *name != '\0');
  g_return_if_fail (value != NULL);

  /* HTTP ignores whitespace around a field value, and so does SigV4's
   * canonical form of each value before repeated values are joined. */
  start = value;
  end = value + strlen (value);
  while (start < end && is_ows (*start))
    start++;
  while (end > start && is_ows (end[-1]))
    end--;
  trimmed = g_strndup (start, end - start);

  lower = g_ascii_strdown (name, -1);
  old = g_hash_table_lookup (req->headers, lower);
  if (old != NULL)
    {
      char *joined = g_strconcat (old, ",", trimmed, NULL);

      g_free (trimmed);
      trimmed = joined;
    }

  g_hash_table_replace (req->headers, lower, trimmed);
}

/**
 * kp_sigv4_request_get_header:
 * @req: a #KpSigv4Request
 * @name: a header name, in any case
 *
 * Returns: (nullable): the header's value, or %NULL if @req has none
 */
const char *
kp_sigv4_request_get_header (KpSigv4Request *req,
                             const char     *name)
{
  g_autofree char *lower = NULL;

  g_return_val_if_fail (req != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  lower = g_ascii_strdown (name, -1);

  return g_hash_table_lookup (req->headers, lower);
}

/**
 * kp_sigv4_request_foreach_header:
 * @req: a #KpSigv4Request
 * @func: (scope call): called with each lower-case name and its value
 * @user_data: passed to @func
 *
 * Calls @func for every header, in no particular order; after
 * kp_sigv4_sign() these include X-Amz-Date and Authorization.
 */
void
kp_sigv4_request_foreach_header (KpSigv4Request *req,
                                 GHFunc          func,
                                 gpointer        user_data)
{
  g_return_if_fail (req != NULL);
  g_return_if_fail (func != NULL);

  g_hash_table_foreach (req->headers, func, user_data);
}

/* Hashing and signing */

static char *
sha256_hex (const void *data,
            gsize       len)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, len);
}

static void
hmac_sha256 (const guint8 *key,
             gsize         key_len,
             const char   *data,
             guint8        out[SHA256_LEN])
{
  g_autoptr(GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256, key, key_len);
  gsize len = SHA256_LEN;

  g_hmac_update (hmac, (const guchar *)data, strlen (data));
  g_hmac_get_digest (hmac, out, &len);
  g_assert (len == SHA256_LEN);
}

/* Writes the lower-case hex signature of string_to_sign, made with the key
 * derived from secret and the credential scope, into out. */
/* The signing key depends only on the secret and the credential scope, so
 * it is the same for every request of a client on one day: a few recent
 * ones are kept (a server verifies thousands of requests a second), which
 * saves four of the five HMACs of a verification. */
#define KEY_CACHE_SIZE 16

typedef struct
{
  char   *scope;              /* secret \n date \n region \n service */
  guint8  key[SHA256_LEN];
} CachedKey;

static CachedKey key_cache[KEY_CACHE_SIZE];
static guint key_cache_next;
G_LOCK_DEFINE_STATIC (key_cache);

static void
derive_signing_key (const char *secret,
                    const char *date,
                    const char *region,
                    const char *service,
                    guint8      key[SHA256_LEN])
{
  g_autofree char *scope = g_strjoin ("\n", secret, date, region, service, NULL);
  g_autofree char *first_key = NULL;
  guint8 next[SHA256_LEN];
  CachedKey *slot;

  G_LOCK (key_cache);
  for (guint i = 0; i < KEY_CACHE_SIZE; i++)
    {
      if (key_cache[i].scope != NULL && g_str_equal (key_cache[i].scope, scope))
        {
          memcpy (key, key_cache[i].key, SHA256_LEN);
          G_UNLOCK (key_cache);
          memset (scope, 0, strlen (scope));
          return;
        }
    }
  G_UNLOCK (key_cache);

  first_key = g_strconcat ("AWS4", secret, NULL);
  hmac_sha256 ((const guint8 *)first_key, strlen (first_key), date, key);
  hmac_sha256 (key, SHA256_LEN, region, next);
  hmac_sha256 (next, SHA256_LEN, service, key);
  hmac_sha256 (key, SHA256_LEN, TERMINATOR, next);
  memcpy (key, next, SHA256_LEN);
  memset (next, 0, sizeof next);
  memset (first_key, 0, strlen (first_key));

  G_LOCK (key_cache);
  slot = &key_cache[key_cache_next];
  key_cache_next = (key_cache_next + 1) % KEY_CACHE_SIZE;
  if (slot->scope != NULL)
    memset (slot->scope, 0, strlen (slot->scope));
  g_free (slot->scope);
  slot->scope = g_steal_pointer (&scope);
  memcpy (slot->key, key, SHA256_LEN);
  G_UNLOCK (key_cache);
}

static void
compute_signature (const char *secret,
                   const char *date,
                   const char *region,
                   const char *service,
                   const char *string_to_sign,
                   char        out[SIGNATURE_HEX_LEN + 1])
{
  static const char hex[] = "0123456789abcdef";
  guint8 key[SHA256_LEN];
  guint8 next[SHA256_LEN];

  derive_signing_key (secret, date, region, service, next);
  hmac_sha256 (next, SHA256_LEN, string_to_sign, key);

  for (guint i = 0; i < SHA256_LEN; i++)
    {
      out[2 * i] = hex[key[i] >> 4];
      out[2 * i + 1] = hex[key[i] & 0xf];
    }
  out[SIGNATURE_HEX_LEN] = '\0';

  /* The derived keys are as good as the secret for a day. */
  memset (key, 0, sizeof key);
  memset (next, 0, sizeof next);
}

/* Compares without an early exit, so that the time taken says nothing about
 * how much of a guessed signature was right. Both are SIGNATURE_HEX_LEN. */
static gboolean
equal_constant_time (const char *a,
                     const char *b)
{
  guint8 diff = 0;

  for (guint i = 0; i < SIGNATURE_HEX_LEN; i++)
    diff |= (guint8)a[i] ^ (guint8)b[i];

  return diff == 0;
}

/* Canonical request */

static gboolean
is_unreserved (guchar c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '_' || c == '.' || c == '~';
}

static void
append_uri_encoded (GString    *out,
                    const char *data,
                    gsize       len,
                    gboolean    keep_slash)
{
  static const char hex[] = "0123456789ABCDEF";

  for (gsize i = 0; i < len; i++)
    {
      guchar c = (guchar)data[i];

      if (is_unreserved (c) || (keep_slash && c == '/'))
        {
          g_string_append_c (out, c);
        }
      else
        {
          g_string_append_c (out, '%');
          g_string_append_c (out, hex[c >> 4]);
          g_string_append_c (out, hex[c & 0xf]);
        }
    }
}

/* The path without empty, "." and ".." segments, then encoded once more
 * with '/' kept, as botocore does for every service but S3. */
static void
append_canonical_uri (GString    *out,
                      const char *path)
{
  g_autoptr(GPtrArray) segments = g_ptr_array_new ();
  g_autoptr(GString) normalized = g_string_new (NULL);
  const char *p = path;
  gsize len = strlen (path);

  if (len == 0)
    {
      g_string_append_c (out, '/');
      return;
    }

  /* Segments point into path and end at the next '/' or the end. */
  while (*p != '\0')
    {
      const char *end = strchr (p, '/');
      gsize seg_len = end != NULL ? (gsize)(end - p) : strlen (p);

      if (seg_len == 0 || (seg_len == 1 && p[0] == '.'))
        ;
      else if (seg_len == 2 && p[0] == '.' && p[1] == '.')
        {
          if (segments->len > 0)
            g_ptr_array_remove_index (segments, segments->len - 1);
        }
      else
        g_ptr_array_add (segments, (gpointer)p);

      if (end == NULL)
        break;
      p = end + 1;
    }

  if (path[0] == '/')
    g_string_append_c (normalized, '/');
  for (guint i = 0; i < segments->len; i++)
    {
      const char *seg = g_ptr_array_index (segments, i);
      const char *end = strchr (seg, '/');

      if (i > 0)
        g_string_append_c (normalized, '/');
      g_string_append_len (normalized, seg, end != NULL ? end - seg : (gssize)strlen (seg));
    }
  if (path[len - 1] == '/' && segments->len > 0)
    g_string_append_c (normalized, '/');

  append_uri_encoded (out, normalized->str, normalized->len, TRUE);
}

static int
hex_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Decodes %XX escapes (an invalid escape stays as it is) and encodes the
 * result again, so that "%7e", "~" and "%7E" all sign as "~". */
static char *
reencode_query_part (const char *data,
                     gsize       len)
{
  g_autoptr(GString) decoded = g_string_sized_new (len);
  GString *encoded;

  for (gsize i = 0; i < len; i++)
    {
      int hi, lo;

      if (data[i] == '%' && i + 2 < len && (hi = hex_value (data[i + 1])) >= 0 &&
          (lo = hex_value (data[i + 2])) >= 0)
        {
          g_string_append_c (decoded, (char)((hi << 4) | lo));
          i += 2;
        }
      else
        g_string_append_c (decoded, data[i]);
    }

  encoded = g_string_sized_new (decoded->len);
  append_uri_encoded (encoded, decoded->str, decoded->len, FALSE);

  return g_string_free (encoded, FALSE);
}

typedef struct
{
  char *key;
  char *value;
} QueryPair;

static void
query_pair_clear (QueryPair *pair)
{
  g_free (pair->key);
  g_free (pair->value);
}

static int
query_pair_compare (gconstpointer a,
                    gconstpointer b)
{
  const QueryPair *pa = a;
  const QueryPair *pb = b;
  int cmp = strcmp (pa->key, pb->key);

  return cmp != 0 ? cmp : strcmp (pa->value, pb->value);
}

static void
append_canonical_query (GString    *out,
                        const char *query)
{
  g_autoptr(GArray) pairs = NULL;
  const char *p = query;

  if (*query == '\0')
    return;

  pairs = g_array_new (FALSE, FALSE, sizeof (QueryPair));
  g_array_set_clear_func (pairs, (GDestroyNotify)query_pair_clear);

  /* Like botocore, an empty piece ("a=1&&b=2") is a pair of empty strings. */
  for (;;)
    {
      const char *end = strchr (p, '&');
      gsize piece_len = end != NULL ? (gsize)(end - p) : strlen (p);
      const char *eq = memchr (p, '=', piece_len);
      QueryPair pair;

      if (eq != NULL)
        {
          pair.key = reencode_query_part (p, eq - p);
          pair.value = reencode_query_part (eq + 1, piece_len - (eq - p) - 1);
        }
      else
        {
          pair.key = reencode_query_part (p, piece_len);
          pair.value = g_strdup ("");
        }
      g_array_append_val (pairs, pair);

      if (end == NULL)
        break;
      p = end + 1;
    }

  g_array_sort (pairs, query_pair_compare);

  for (guint i = 0; i < pairs->len; i++)
    {
      const QueryPair *pair = &g_array_index (pairs, QueryPair, i);

      if (i > 0)
        g_string_append_c (out, '&');
      g_string_append (out, pair->key);
      g_string_append_c (out, '=');
      g_string_append (out, pair->value);
    }
}

/* SigV4's Trimall: no whitespace at either end, runs of it become one
 * space. */
static void
append_trimmed_value (GString    *out,
                      const char *value)
{
  gboolean pending_space = FALSE;
  gboolean any = FALSE;

  for (const char *p = value; *p != '\0'; p++)
    {
      if (g_ascii_isspace (*p))
        {
          pending_space = any;
          continue;
        }
      if (pending_space)
        g_string_append_c (out, ' ');
      g_string_append_c (out, *p);
      pending_space = FALSE;
      any = TRUE;
    }
}

/* Every name in signed_names must be a header of req. */
static char *
build_canonical_request (KpSigv4Request     *req,
                         const char * const *signed_names,
                         const char         *signed_headers,
                         const char         *payload_hash)
{
  GString *cr = g_string_new (NULL);

  g_string_append (cr, req->method);
  g_string_append_c (cr, '\n');
  append_canonical_uri (cr, req->path);
  g_string_append_c (cr, '\n');
  append_canonical_query (cr, req->query);
  g_string_append_c (cr, '\n');
  for (guint i = 0; signed_names[i] != NULL; i++)
    {
      const char *value = g_hash_table_lookup (req->headers, signed_names[i]);

      g_assert (value != NULL);
      g_string_append (cr, signed_names[i]);
      g_string_append_c (cr, ':');
      append_trimmed_value (cr, value);
      g_string_append_c (cr, '\n');
    }
  g_string_append_c (cr, '\n');
  g_string_append (cr, signed_headers);
  g_string_append_c (cr, '\n');
  g_string_append (cr, payload_hash);

  return g_string_free (cr, FALSE);
}

static char *
build_string_to_sign (const char *amz_date,
                      const char *date,
                      const char *region,
                      const char *service,
                      const char *canonical_request)
{
  g_autofree char *hash = sha256_hex (canonical_request, strlen (canonical_request));

  return g_strdup_printf (ALGORITHM "\n%s\n%s/%s/%s/" TERMINATOR "\n%s",
                          amz_date, date, region, service, hash);
}

static char *
body_hash (KpSigv4Request *req)
{
  gsize len;
  const void *data = g_bytes_get_data (req->body, &len);

  return sha256_hex (data != NULL ? data : "", len);
}

/* Parsing the Authorization header */

static gboolean
is_token_char (guchar c)
{
  return g_ascii_isalnum (c) || strchr ("!#$%&'*+-.^_`|~", c) != NULL;
}

static gboolean
all_chars (const char *s,
           gsize       min_len,
           gsize       max_len,
           gboolean  (*allowed) (guchar c))
{
  gsize len = strlen (s);

  if (len < min_len || len > max_len)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!allowed ((guchar)s[i]))
      return FALSE;

  return TRUE;
}

static gboolean
is_access_key_char (guchar c)
{
  return g_ascii_isalnum (c) || c == '_' || c == '-' || c == '.';
}

static gboolean
is_scope_char (guchar c)
{
  return g_ascii_isalnum (c) || c == '_' || c == '-';
}

static gboolean
is_digit (guchar c)
{
  return g_ascii_isdigit (c);
}

static gboolean
is_lower_hex (guchar c)
{
  return g_ascii_isdigit (c) || (c >= 'a' && c <= 'f');
}

static gboolean
is_header_name_char (guchar c)
{
  return is_token_char (c) && !g_ascii_isupper (c);
}

static gboolean
parse_credential (Authorization *auth,
                  const char    *value,
                  GError       **error)
{
  g_auto(GStrv) parts = g_strsplit (value, "/", 6);

  if (g_strv_length (parts) != 5 ||
      !all_chars (parts[0], 1, MAX_ACCESS_KEY_LEN, is_access_key_char) ||
      !all_chars (parts[1], SCOPE_DATE_LEN, SCOPE_DATE_LEN, is_digit) ||
      !all_chars (parts[2], 1, MAX_SCOPE_PART_LEN, is_scope_char) ||
      !all_chars (parts[3], 1, MAX_SCOPE_PART_LEN, is_scope_char) ||
      !all_chars (parts[4], 1, MAX_SCOPE_PART_LEN, is_scope_char))
    {
      g_set_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MALFORMED,
                   _("The Credential of the Authorization header must have the form "
                     "ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/aws4_request."));
      return FALSE;
    }

  auth->access_key_id = g_strdup (parts[0]);
  auth->date = g_strdup (parts[1]);
  auth->region = g_strdup (parts[2]);
  auth->service = g_strdup (parts[3]);
  auth->terminator = g_strdup (parts[4]);

  return TRUE;
}

static gboolean
parse_signed_headers (Authorization *auth,
                      const char    *value,
                      GError       **error)
{
  g_auto(GStrv) names = g_strsplit (value, ";", MAX_SIGNED_HEADERS + 1);
  guint n = g_strv_length (names);

  if (n > MAX_SIGNED_HEADERS)
    {
      g_set_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MALFORMED,
                   _("The Authorization header lists more than %d signed headers."),
                   MAX_SIGNED_HEADERS);
      return FALSE;
    }

  /* g_strsplit() gives no names at all for "". */
  if (n == 0)
    {
      g_set_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MALFORMED,
                   _("The SignedHeaders of the Authorization header is empty."));
      return FALSE;
    }

  for (guint i = 0; i < n; i++)
    {
      if (!all_chars (names[i], 1, MAX_HEADER_NAME_LEN, is_header_name_char) ||
          (i > 0 && strcmp (names[i - 1], names[i]) >= 0))
        {
          g_set_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MALFORMED,
                       _("The SignedHeaders of the Authorization header must be lower-case "
                         "header names, sorted, without repeats and separated by ';'."));
          return FALSE;
        }
    }

  auth->signed_headers = g_strdup (value);
  auth->signed_names = g_steal_pointer (&names);

  return TRUE;
}

static Authorization *
parse_authorization (KpSigv4Request *req,
                     GError        **error)
{
  g_autoptr(Authorization) auth = g_new0 (Authorization, 1);
  g_auto(GStrv) components = NULL;
  const char *header;
  const char *p;
  gboolean have_credential = FALSE;
  gboolean have_signed_headers = FALSE;
  gboolean have_signature = FALSE;

  header = kp_sigv4_request_get_header (req, "authorization");
  if (header == NULL || *header == '\0')
    {
      g_set_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MISSING,
                   _("The request has no Authorization header: it must be signed "
                     "with AWS Signature Version 4."));
      return NULL;
    }

  if (strlen (header) > MAX_AUTHORIZATION_LEN)
    {
      g_set_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MALFORMED,
                   _("The Authorization header is longer than %d bytes."),
                   MAX_AUTHORIZATION_LEN);
      return NULL;
    }

  if (!g_str_has_prefix (header, ALGORITHM) ||
      (header[strlen (ALGORITHM)] != ' ' && header[strlen (ALGORITHM)] != '\t'))
    {
      g_set_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MALFORMED,
                   _("The Authorization header must start with the algorithm "
                     "AWS4-HMAC-SHA256, the only one supported."));
      return NULL;
    }

  p = header + strlen (ALGORITHM);
  components = g_strsplit (p, ",", 4);
  if (g_strv_length (components) != 3)
    {
      g_set_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MALFORMED,
                   _("The Authorization header must have exactly three parameters: "
                     "Credential, SignedHeaders and Signature, separated by commas."));
      return NULL;
    }

  for (guint i = 0; components[i] != NULL; i++)
    {
      char *component = g_strstrip (components[i]);
      char *eq = strchr (component, '=');
      const char *key;
      const char *value;

      if (eq == NULL)
        {
          g_set_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MALFORMED,
                       _("Each parameter of the Authorization header must have the form "
                         "name=value."));
          return NULL;
        }
      *eq = '\0';
      key = component;
      value = eq + 1;

      if (strcmp (key, "Credential") == 0 && !have_credential)
        {
          if (!parse_credential (auth, value, error))
            return NULL;
          have_credential = TRUE;
        }
      else if (strcmp (key, "SignedHeaders") == 0 && !have_signed_headers)
        {
          if (!parse_signed_headers (auth, value, error))
            return NULL;
          have_signed_headers = TRUE;
        }
      else if (strcmp (key, "Signature") == 0 && !have_signature)
        {
          if (!all_chars (value, SIGNATURE_HEX_LEN, SIGNATURE_HEX_LEN, is_lower_hex))
            {
              g_set_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MALFORMED,
                           _("The Signature of the Authorization header must be %d "
                             "lower-case hexadecimal digits."),
                           SIGNATURE_HEX_LEN);
              return NULL;
            }
          auth->signature = g_strdup (value);
          have_signature = TRUE;
        }
      else
        {
          g_set_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MALFORMED,
                       _("The Authorization header must have exactly three parameters: "
                         "Credential, SignedHeaders and Signature, separated by commas."));
          return NULL;
        }
    }

  /* Three components, none repeated and none unknown: all three are there. */
  g_assert (have_credential && have_signed_headers && have_signature);

  return g_steal_pointer (&auth);
}

/**
 * kp_sigv4_parse:
 * @req: a #KpSigv4Request
 * @access_key_id: (out) (optional): the access key id of the credential
 * @region: (out) (optional): the region of the credential scope
 * @error: return location for a #KP_SIGV4_ERROR
 *
 * Reads the Authorization header without checking the signature, so that
 * the caller can look up the secret of @access_key_id.
 *
 * Returns: %TRUE if the header is well formed
 */
gboolean
kp_sigv4_parse (KpSigv4Request *req,
                char          **access_key_id,
                char          **region,
                GError        **error)
{
  g_autoptr(Authorization) auth = NULL;

  g_return_val_if_fail (req != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  auth = parse_authorization (req, error);
  if (auth == NULL)
    return FALSE;

  if (access_key_id != NULL)
    *access_key_id = g_steal_pointer (&auth->access_key_id);
  if (region != NULL)
    *region = g_steal_pointer (&auth->region);
  g_strfreev (req->signed_names);
  req->signed_names = g_steal_pointer (&auth->signed_names);

  return TRUE;
}

gboolean
kp_sigv4_request_is_signed (KpSigv4Request *req,
                            const char     *name)
{
  g_return_val_if_fail (req != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  return req->signed_names != NULL &&
         g_strv_contains ((const char * const *)req->signed_names, name);
}

/* X-Amz-Date is the ISO 8601 basic format, always in UTC:
 * YYYYMMDD'T'HHMMSS'Z'. */
static gboolean
parse_amz_date (const char *value,
                gint64     *time_s)
{
  g_autoptr(GDateTime) dt = NULL;
  int fields[6];
  static const guint offsets[6] = { 0, 4, 6, 9, 11, 13 };
  static const guint lengths[6] = { 4, 2, 2, 2, 2, 2 };

  if (strlen (value) != AMZ_DATE_LEN || value[8] != 'T' || value[15] != 'Z')
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      fields[i] = 0;
      for (guint j = 0; j < lengths[i]; j++)
        {
          char c = value[offsets[i] + j];

          if (!g_ascii_isdigit (c))
            return FALSE;
          fields[i] = fields[i] * 10 + (c - '0');
        }
    }

  /* GDateTime refuses the 31st of April, hour 24, second 60 and so on. */
  dt = g_date_time_new_utc (fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]);
  if (dt == NULL)
    return FALSE;

  *time_s = g_date_time_to_unix (dt);

  return TRUE;
}

static char *
format_amz_date (gint64 time_s)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc (time_s);

  if (dt == NULL)
    return g_strdup ("19700101T000000Z");

  return g_date_time_format (dt, "%Y%m%dT%H%M%SZ");
}

static int
compare_names (gconstpointer a,
               gconstpointer b,
               gpointer      user_data G_GNUC_UNUSED)
{
  return strcmp (*(const char * const *)a, *(const char * const *)b);
}

static gboolean
strv_has (char       **strv,
          const char  *s)
{
  return g_strv_contains ((const char * const *)strv, s);
}

/**
 * kp_sigv4_verify:
 * @req: a #KpSigv4Request with all its headers
 * @secret_access_key: the secret belonging to the credential's access key id
 * @service: the service the scope must name, such as "mturk-requester"
 * @now_s: the current time in seconds since the epoch
 * @error: return location for a #KP_SIGV4_ERROR
 *
 * Checks that @req carries a valid AWS Signature Version 4 made with
 * @secret_access_key for @service, dated within 15 minutes of @now_s.
 *
 * Returns: %TRUE if the signature is good
 */
gboolean
kp_sigv4_verify (KpSigv4Request *req,
                 const char     *secret_access_key,
                 const char     *service,
                 gint64          now_s,
                 GError        **error)
{
  g_autoptr(Authorization) auth = NULL;
  g_autofree char *real_hash = NULL;
  g_autofree char *canonical_request = NULL;
  g_autofree char *string_to_sign = NULL;
  const char *amz_date;
  const char *content_hash;
  gint64 date_s;
  char signature[SIGNATURE_HEX_LEN + 1];

  g_return_val_if_fail (req != NULL, FALSE);
  g_return_val_if_fail (secret_access_key != NULL, FALSE);
  g_return_val_if_fail (service != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  auth = parse_authorization (req, error);
  if (auth == NULL)
    return FALSE;

  amz_date = kp_sigv4_request_get_header (req, "x-amz-date");
  if (amz_date == NULL || *amz_date == '\0')
    {
      g_set_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MISSING,
                   _("Authorization header requires existence of a 'X-Amz-Date' header."));
      return FALSE;
    }
  if (!parse_amz_date (amz_date, &date_s))
    {
      g_set_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MALFORMED,
                   _("The X-Amz-Date header must be a date in UTC of the form "
                     "YYYYMMDD'T'HHMMSS'Z', such as 20150830T123600Z."));
      return FALSE;
    }

  if (!strv_has (auth->signed_names, "host") || !strv_has (auth->signed_names, "x-amz-date"))
    {
      g_set_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MALFORMED,
                   _("The SignedHeaders of the Authorization header must include "
                     "'host' and 'x-amz-date'."));
      return FALSE;
    }
  for (guint i = 0; auth->signed_names[i] != NULL; i++)
    {
      if (!g_hash_table_contains (req->headers, auth->signed_names[i]))
        {
          /* The name has been checked to be a plain header name. */
          g_set_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MALFORMED,
                       _("The header '%s' is listed in SignedHeaders but is not in the request."),
                       auth->signed_names[i]);
          return FALSE;
        }
    }

  if (strcmp (auth->terminator, TERMINATOR) != 0)
    {
      g_set_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_SCOPE,
                   _("Credential should be scoped with a valid terminator: 'aws4_request', not '%s'."),
                   auth->terminator);
      return FALSE;
    }
  if (strncmp (auth->date, amz_date, SCOPE_DATE_LEN) != 0)
    {
      g_set_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_SCOPE,
                   _("Date in Credential scope does not match YYYYMMDD from X-Amz-Date: "
                     "'%s' != '%.8s', from '%s'."),
                   auth->date, amz_date, amz_date);
      return FALSE;
    }
  if (strcmp (auth->service, service) != 0)
    {
      g_set_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_SCOPE,
                   _("Credential should be scoped to correct service: '%s'."),
                   service);
      return FALSE;
    }

  if (date_s < now_s - MAX_SKEW_S)
    {
      g_autofree char *earliest = format_amz_date (now_s - MAX_SKEW_S);
      g_autofree char *now = format_amz_date (now_s);

      g_set_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_STALE,
                   _("Signature expired: %s is now earlier than %s (%s - 15 min.)"),
                   amz_date, earliest, now);
      return FALSE;
    }
  if (date_s > now_s + MAX_SKEW_S)
    {
      g_autofree char *latest = format_amz_date (now_s + MAX_SKEW_S);
      g_autofree char *now = format_amz_date (now_s);

      g_set_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_STALE,
                   _("Signature not yet current: %s is still later than %s (%s + 15 min.)"),
                   amz_date, latest, now);
      return FALSE;
    }

  /* A client may send the payload hash itself (S3 clients do); it is signed
   * as sent, so it has to be the hash of the body that arrived. */
  real_hash = body_hash (req);
  content_hash = kp_sigv4_request_get_header (req, "x-amz-content-sha256");
  if (content_hash != NULL && strcmp (content_hash, real_hash) != 0)
    {
      g_set_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MISMATCH,
                   _("The provided 'x-amz-content-sha256' header does not match what was computed."));
      return FALSE;
    }

  canonical_request = build_canonical_request (req,
                                               (const char * const *)auth->signed_names,
                                               auth->signed_headers,
                                               real_hash);
  string_to_sign = build_string_to_sign (amz_date, auth->date, auth->region, auth->service,
                                         canonical_request);
  compute_signature (secret_access_key, auth->date, auth->region, auth->service,
                     string_to_sign, signature);

  if (!equal_constant_time (signature, auth->signature))
    {
      /* Names only: signed header values and the query may carry tokens. */
      g_debug ("SigV4 mismatch; signed headers: %s; method %s", auth->signed_headers, req->method);
      g_set_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MISMATCH,
                   _("The request signature we calculated does not match the signature you "
                     "provided. Check your AWS Secret Access Key and signing method. Consult "
                     "the service documentation for details."));
      return FALSE;
    }

  return TRUE;
}

/**
 * kp_sigv4_sign:
 * @req: a #KpSigv4Request with a Host header
 * @access_key_id: the access key id
 * @secret_access_key: its secret
 * @region: the region of the scope, such as "us-east-1"
 * @service: the service of the scope, such as "mturk-requester"
 * @now_s: the signing time in seconds since the epoch
 *
 * Signs every header of @req: sets X-Amz-Date and Authorization,
 * replacing those of an earlier signature.
 */
void
kp_sigv4_sign (KpSigv4Request *req,
               const char     *access_key_id,
               const char     *secret_access_key,
               const char     *region,
               const char     *service,
               gint64          now_s)
{
  g_autofree char *amz_date = NULL;
  g_autofree char *payload_hash = NULL;
  g_autofree char *signed_headers = NULL;
  g_autofree char *canonical_request = NULL;
  g_autofree char *string_to_sign = NULL;
  g_autofree const char **names = NULL;
  const char *content_hash;
  char signature[SIGNATURE_HEX_LEN + 1];
  char date[SCOPE_DATE_LEN + 1];

  g_return_if_fail (req != NULL);
  g_return_if_fail (access_key_id != NULL);
  g_return_if_fail (secret_access_key != NULL);
  g_return_if_fail (region != NULL);
  g_return_if_fail (service != NULL);
  g_return_if_fail (g_hash_table_contains (req->headers, "host"));

  /* Signing again replaces the previous signature and date. */
  g_hash_table_remove (req->headers, "authorization");
  amz_date = format_amz_date (now_s);
  g_hash_table_replace (req->headers, g_strdup ("x-amz-date"), g_strdup (amz_date));
  memcpy (date, amz_date, SCOPE_DATE_LEN);
  date[SCOPE_DATE_LEN] = '\0';

  names = (const char **)g_hash_table_get_keys_as_array (req->headers, NULL);
  g_qsort_with_data (names, g_hash_table_size (req->headers), sizeof (char *),
                     compare_names, NULL);
  signed_headers = g_strjoinv (";", (char **)names);

  content_hash = kp_sigv4_request_get_header (req, "x-amz-content-sha256");
  payload_hash = content_hash != NULL ? g_strdup (content_hash) : body_hash (req);

  canonical_request = build_canonical_request (req, names, signed_headers, payload_hash);
  string_to_sign = build_string_to_sign (amz_date, date, region, service, canonical_request);
  compute_signature (secret_access_key, date, region, service, string_to_sign, signature);

  g_hash_table_replace (req->headers,
                        g_strdup ("authorization"),
                        g_strdup_printf (ALGORITHM " Credential=%s/%s/%s/%s/" TERMINATOR ", "
                                         "SignedHeaders=%s, Signature=%s",
                                         access_key_id, date, region, service,
                                         signed_headers, signature));
}
