/* fuzz-sigv4.c: libFuzzer target for SigV4 verification
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An input is an HTTP request as the server hands it to kp-sigv4:
 *
 *   METHOD\n PATH\n QUERY\n (NAME: VALUE\n)* \n BODY
 *
 * It goes through what kempelen-server does with a request to its MTurk
 * endpoint (kp_sigv4_parse(), the check that X-Amz-Target is signed, then
 * kp_sigv4_verify() with a fixed secret and clock), so every header value,
 * the canonical URI, the canonical query and the payload hash are under
 * the fuzzer's control. Error messages must stay valid UTF-8 (the server
 * sends them back in JSON).
 *
 * Then the same request is signed with kp_sigv4_sign() and verified: a
 * request the client signed must verify whatever its path, query, header
 * values and body are, must go stale 16 minutes later, and must stop
 * verifying when one byte of its body changes.
 */

#include "config.h"

#include <string.h>

#include "kp-core.h"

#include "fuzz-common.h"

#define SECRET     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SERVICE    "mturk-requester"
#define ACCESS_KEY "AKIAFUZZEXAMPLE"
#define REGION     "us-east-1"
/* 2026-01-01T00:00:00Z: the date of the seeds. */
#define NOW_S      G_GINT64_CONSTANT (1767225600)

/* What kp_sigv4_verify() accepts in SignedHeaders. */
#define MAX_SIGNED_HEADERS    64
#define MAX_HEADER_NAME_LEN   256
#define MAX_AUTHORIZATION_LEN 8192

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init_logging ();
  return 0;
}

/* The next line of data (without its '\n'), advancing *pos; NULL at the
 * end. */
static char *
next_line (const uint8_t *data,
           size_t         size,
           size_t        *pos)
{
  const uint8_t *start = data + *pos;
  const uint8_t *newline;
  size_t len;

  if (*pos >= size)
    return NULL;

  newline = memchr (start, '\n', size - *pos);
  len = newline != NULL ? (size_t)(newline - start) : size - *pos;
  *pos += len + (newline != NULL ? 1 : 0);

  return g_strndup ((const char *)start, len);
}

typedef struct
{
  KpSigv4Request *copy;
  GString        *signed_names;
  guint           n_names;
  gboolean        signable;
} CopyData;

static void
copy_header_cb (gpointer key,
                gpointer value,
                gpointer user_data)
{
  const char *name = key;
  CopyData *copy = user_data;

  kp_sigv4_request_add_header (copy->copy, name, value);

  if (g_str_equal (name, "authorization") || g_str_equal (name, "x-amz-date"))
    return;

  /* kp_sigv4_sign() signs every header; kp_sigv4_verify() only accepts
   * token names, and a bounded number and length of them. */
  copy->n_names++;
  g_string_append_printf (copy->signed_names, "%s;", name);
  if (strlen (name) > MAX_HEADER_NAME_LEN)
    copy->signable = FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr ("!#$%&'*+-.^_`|~", *p) == NULL)
      copy->signable = FALSE;
}

/* Signs a copy of req as a client would, and checks that the server side
 * accepts exactly that. */
static void
check_round_trip (KpSigv4Request *req,
                  const char     *method,
                  const char     *path,
                  const char     *query,
                  GBytes         *body)
{
  g_autoptr(KpSigv4Request) copy = kp_sigv4_request_new (method, path, query, body);
  g_autoptr(KpSigv4Request) altered = NULL;
  g_autoptr(GString) signed_names = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) other_body = NULL;
  g_autoptr(GBytes) other_bytes = NULL;
  g_autofree char *access_key_id = NULL;
  g_autofree char *region = NULL;
  g_autofree char *body_hash = NULL;
  CopyData data = { copy, signed_names, 0, TRUE };
  const char *content_hash;
  CopyData altered_data;

  kp_sigv4_request_foreach_header (req, copy_header_cb, &data);

  content_hash = kp_sigv4_request_get_header (copy, "x-amz-content-sha256");
  body_hash = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, body);
  if (kp_sigv4_request_get_header (copy, "host") == NULL ||
      !data.signable ||
      data.n_names + 1 > MAX_SIGNED_HEADERS ||
      signed_names->len + 256 > MAX_AUTHORIZATION_LEN ||
      (content_hash != NULL && strcmp (content_hash, body_hash) != 0))
    return;

  kp_sigv4_sign (copy, ACCESS_KEY, SECRET, REGION, SERVICE, NOW_S);
  g_assert (kp_sigv4_request_get_header (copy, "authorization") != NULL);
  g_assert (kp_sigv4_request_get_header (copy, "x-amz-date") != NULL);

  if (!kp_sigv4_parse (copy, &access_key_id, &region, &error))
    g_error ("A signed request does not parse: %s", error->message);
  g_assert_cmpstr (access_key_id, ==, ACCESS_KEY);
  g_assert_cmpstr (region, ==, REGION);
  g_assert (kp_sigv4_request_is_signed (copy, "host"));
  g_assert (kp_sigv4_request_is_signed (copy, "x-amz-date"));

  if (!kp_sigv4_verify (copy, SECRET, SERVICE, NOW_S, &error))
    g_error ("A signed request does not verify: %s", error->message);
  g_assert (kp_sigv4_verify (copy, SECRET, SERVICE, NOW_S + 14 * 60, NULL));

  g_assert (!kp_sigv4_verify (copy, SECRET, SERVICE, NOW_S + 16 * 60, &error));
  g_assert (g_error_matches (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_STALE));
  fuzz_assert_error (error);
  g_clear_error (&error);

  g_assert (!kp_sigv4_verify (copy, SECRET "x", SERVICE, NOW_S, &error));
  g_assert (g_error_matches (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MISMATCH));
  g_clear_error (&error);

  /* One more byte of body: the signature no longer holds. */
  other_body = g_byte_array_new ();
  g_byte_array_append (other_body, g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  g_byte_array_append (other_body, (const guint8 *)"!", 1);
  other_bytes = g_byte_array_free_to_bytes (g_steal_pointer (&other_body));
  altered = kp_sigv4_request_new (method, path, query, other_bytes);
  altered_data = (CopyData) { altered, g_string_new (NULL), 0, TRUE };
  kp_sigv4_request_foreach_header (copy, copy_header_cb, &altered_data);
  g_string_free (altered_data.signed_names, TRUE);

  g_assert (!kp_sigv4_verify (altered, SECRET, SERVICE, NOW_S, &error));
  g_assert (g_error_matches (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MISMATCH));
  fuzz_assert_error (error);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(KpSigv4Request) req = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *method = NULL;
  g_autofree char *path = NULL;
  g_autofree char *query = NULL;
  g_autofree char *access_key_id = NULL;
  g_autofree char *region = NULL;
  g_autoptr(GPtrArray) headers = NULL;
  size_t pos = 0;
  gboolean parsed;
  gboolean verified;

  /* The server refuses bodies over 8 MiB; a few KiB reach every path. */
  if (size > 64 * 1024)
    return 0;

  method = next_line (data, size, &pos);
  path = next_line (data, size, &pos);
  query = next_line (data, size, &pos);
  if (method == NULL || path == NULL || query == NULL)
    return 0;

  /* Headers up to the first empty line; the body is what follows. */
  headers = g_ptr_array_new_with_free_func (g_free);
  for (;;)
    {
      char *line = next_line (data, size, &pos);

      if (line == NULL || line[0] == '\0')
        {
          g_free (line);
          break;
        }
      g_ptr_array_add (headers, line);
    }
  body = g_bytes_new (data + MIN (pos, size), size - MIN (pos, size));

  req = kp_sigv4_request_new (method, path, query, body);
  for (guint i = 0; i < headers->len; i++)
    {
      char *line = g_ptr_array_index (headers, i);
      char *colon = strchr (line, ':');

      if (colon == NULL || colon == line)
        continue;
      *colon = '\0';
      kp_sigv4_request_add_header (req, line, colon + 1);
    }

  /* What kp-server.c does with a request to the MTurk endpoint. */
  parsed = kp_sigv4_parse (req, &access_key_id, &region, &error);
  if (parsed)
    {
      g_assert (access_key_id != NULL && access_key_id[0] != '\0');
      g_assert (region != NULL && region[0] != '\0');
      g_assert (g_utf8_validate (access_key_id, -1, NULL));
      (void)kp_sigv4_request_is_signed (req, "x-amz-target");
      g_assert (kp_sigv4_request_is_signed (req, "") == FALSE);
    }
  else
    {
      fuzz_assert_error (error);
      g_assert (error->domain == KP_SIGV4_ERROR);
      g_assert (!kp_sigv4_request_is_signed (req, "host"));
      g_clear_error (&error);
    }

  verified = kp_sigv4_verify (req, SECRET, SERVICE, NOW_S, &error);
  if (verified)
    g_assert (parsed);
  else
    {
      fuzz_assert_error (error);
      g_assert (error->domain == KP_SIGV4_ERROR);
    }

  check_round_trip (req, method, path, query, body);

  return 0;
}
