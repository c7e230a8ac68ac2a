/* test-sigv4.c: AWS Signature Version 4, against AWS's own example, itself and hostile input
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Run with --verify-stdin, the program instead reads a request described in
 * JSON on stdin and exits 0 if and only if its signature verifies; the
 * botocore cross-check (test-sigv4-boto3.py) drives it that way.
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "kp-core.h"
#include "kp-test-util.h"

#define ACCESS_KEY "AKIDEXAMPLE"
#define SECRET     "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SERVICE    "mturk-requester"
#define REGION     "us-east-1"
#define MTURK_BODY "{\"HITId\":\"3XYZ\",\"Note\":\"caf\xc3\xa9 \\u2603\"}"

static gint64
epoch_of (int year,
          int month,
          int day,
          int hour,
          int minute,
          int second)
{
  g_autoptr(GDateTime) dt = g_date_time_new_utc (year, month, day, hour, minute, second);

  g_assert_nonnull (dt);
  return g_date_time_to_unix (dt);
}

/* 2026-11-23 10:10:10 UTC, an arbitrary "now" for the tests. */
#define NOW (epoch_of (2026, 11, 23, 10, 10, 10))

static KpSigv4Request *
new_mturk_request (const char *body)
{
  g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));
  KpSigv4Request *req = kp_sigv4_request_new ("POST", "/", NULL, bytes);

  kp_sigv4_request_add_header (req, "Host", "127.0.0.1:8443");
  kp_sigv4_request_add_header (req, "Content-Type", "application/x-amz-json-1.1");
  kp_sigv4_request_add_header (req, "X-Amz-Target", "MTurkRequesterServiceV20170117.GetHIT");
  kp_sigv4_request_add_header (req, "User-Agent", "Boto3/1.26.27 Python/3.11.2");

  return req;
}

static void
assert_verify_error (KpSigv4Request *req,
                     gint64          now_s,
                     int             code)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (kp_sigv4_verify (req, SECRET, SERVICE, now_s, &error));
  g_assert_error (error, KP_SIGV4_ERROR, code);
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
  g_test_message ("%s", error->message);
}

/* The GET example of AWS's "Signature Version 4 signing process" pages (IAM
 * ListUsers). Its canonical request, built by hand from the spec, is
 *   GET\n/\nAction=ListUsers&Version=2010-05-08\n
 *   content-type:application/x-www-form-urlencoded; charset=utf-8\n
 *   host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n
 *   content-type;host;x-amz-date\n<SHA-256 of the empty body>
 * and the signature AWS publishes for it is EXAMPLE_SIGNATURE. */
#define EXAMPLE_SIGNATURE "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
#define EXAMPLE_AUTHORIZATION \
  "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, " \
  "SignedHeaders=content-type;host;x-amz-date, Signature=" EXAMPLE_SIGNATURE

static KpSigv4Request *
new_example_request (void)
{
  KpSigv4Request *req = kp_sigv4_request_new ("GET", "/", "Action=ListUsers&Version=2010-05-08", NULL);

  kp_sigv4_request_add_header (req, "Content-Type",
                               "application/x-www-form-urlencoded; charset=utf-8");
  kp_sigv4_request_add_header (req, "Host", "iam.amazonaws.com");

  return req;
}

static void
test_aws_example (void)
{
  g_autoptr(KpSigv4Request) req = new_example_request ();
  g_autoptr(KpSigv4Request) signed_req = new_example_request ();
  g_autoptr(GError) error = NULL;
  g_autofree char *access_key = NULL;
  g_autofree char *region = NULL;
  gint64 when = epoch_of (2015, 8, 30, 12, 36, 0);

  /* Verifying AWS's signature. */
  kp_sigv4_request_add_header (req, "X-Amz-Date", "20150830T123600Z");
  kp_sigv4_request_add_header (req, "Authorization", EXAMPLE_AUTHORIZATION);
  g_assert_true (kp_sigv4_verify (req, SECRET, "iam", when, &error));
  g_assert_no_error (error);
  g_assert_false (kp_sigv4_request_is_signed (req, "host"));
  g_assert_true (kp_sigv4_parse (req, &access_key, &region, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (access_key, ==, ACCESS_KEY);
  g_assert_cmpstr (region, ==, "us-east-1");
  /* The example signs content-type, host and x-amz-date, nothing else. */
  g_assert_true (kp_sigv4_request_is_signed (req, "host"));
  g_assert_true (kp_sigv4_request_is_signed (req, "x-amz-date"));
  g_assert_false (kp_sigv4_request_is_signed (req, "x-amz-target"));

  /* A different secret or service gives a different signature. */
  g_assert_false (kp_sigv4_verify (req, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ", "iam", when, &error));
  g_assert_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MISMATCH);
  g_clear_error (&error);

  /* Making it: the same header, byte for byte. */
  kp_sigv4_sign (signed_req, ACCESS_KEY, SECRET, "us-east-1", "iam", when);
  g_assert_cmpstr (kp_sigv4_request_get_header (signed_req, "x-amz-date"), ==, "20150830T123600Z");
  g_assert_cmpstr (kp_sigv4_request_get_header (signed_req, "authorization"), ==, EXAMPLE_AUTHORIZATION);

  /* Signing again replaces the date and signature rather than adding
   * to them. */
  kp_sigv4_sign (signed_req, ACCESS_KEY, SECRET, "us-east-1", "iam", when);
  g_assert_cmpstr (kp_sigv4_request_get_header (signed_req, "authorization"), ==, EXAMPLE_AUTHORIZATION);
}

static void
test_round_trip (void)
{
  g_autoptr(KpSigv4Request) req = new_mturk_request (MTURK_BODY);
  g_autoptr(GError) error = NULL;
  g_autofree char *access_key = NULL;
  g_autofree char *region = NULL;
  const char *auth;

  kp_sigv4_sign (req, "AKIAKEMPELEN0001", SECRET, "eu-central-1", SERVICE, NOW);
  auth = kp_sigv4_request_get_header (req, "Authorization");
  g_assert_nonnull (auth);
  g_assert_true (g_str_has_prefix (auth, "AWS4-HMAC-SHA256 Credential=AKIAKEMPELEN0001/20261123/"
                                         "eu-central-1/mturk-requester/aws4_request, "
                                         "SignedHeaders=content-type;host;user-agent;x-amz-date;"
                                         "x-amz-target, Signature="));
  g_assert_cmpstr (kp_sigv4_request_get_header (req, "X-AMZ-DATE"), ==, "20261123T101010Z");

  g_assert_true (kp_sigv4_verify (req, SECRET, SERVICE, NOW, &error));
  g_assert_no_error (error);

  g_assert_true (kp_sigv4_parse (req, &access_key, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (access_key, ==, "AKIAKEMPELEN0001");
  g_clear_pointer (&access_key, g_free);
  g_assert_true (kp_sigv4_parse (req, NULL, &region, &error));
  g_assert_cmpstr (region, ==, "eu-central-1");

  /* The wrong secret. */
  g_assert_false (kp_sigv4_verify (req, "not the secret", SERVICE, NOW, &error));
  g_assert_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MISMATCH);
}

static void
test_empty_body (void)
{
  g_autoptr(KpSigv4Request) req = kp_sigv4_request_new ("GET", "/worker/v1/media/ab", "", NULL);
  g_autoptr(GError) error = NULL;

  kp_sigv4_request_add_header (req, "host", "localhost");
  kp_sigv4_sign (req, ACCESS_KEY, SECRET, REGION, SERVICE, NOW);
  g_assert_true (kp_sigv4_verify (req, SECRET, SERVICE, NOW, &error));
  g_assert_no_error (error);
}

static void
copy_header_cb (gpointer key,
                gpointer value G_GNUC_UNUSED,
                gpointer user_data)
{
  g_ptr_array_add (user_data, g_strdup (key));
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char * const *)a, *(const char * const *)b);
}

static void
test_headers (void)
{
  g_autoptr(KpSigv4Request) req = kp_sigv4_request_new ("GET", "/", NULL, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  kp_sigv4_request_add_header (req, "X-Thing", "  one ");
  kp_sigv4_request_add_header (req, "x-THING", "two\t");
  kp_sigv4_request_add_header (req, "Host", "example.com");
  g_assert_cmpstr (kp_sigv4_request_get_header (req, "X-Thing"), ==, "one,two");
  g_assert_cmpstr (kp_sigv4_request_get_header (req, "x-thing"), ==, "one,two");
  g_assert_null (kp_sigv4_request_get_header (req, "X-Other"));

  kp_sigv4_request_foreach_header (req, copy_header_cb, names);
  g_ptr_array_sort (names, compare_strings);
  g_assert_cmpuint (names->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (names, 0), ==, "host");
  g_assert_cmpstr (g_ptr_array_index (names, 1), ==, "x-thing");
}

/* Builds the signed request again with exactly one thing changed. */
typedef enum
{
  TAMPER_NONE,
  TAMPER_METHOD,
  TAMPER_PATH,
  TAMPER_QUERY,
  TAMPER_BODY,
  TAMPER_HEADER,
} Tamper;

static KpSigv4Request *
copy_request (const char *method,
              const char *path,
              const char *query,
              const char *body,
              KpSigv4Request *from,
              const char *changed_header)
{
  g_autoptr(GBytes) bytes = g_bytes_new (body, strlen (body));
  KpSigv4Request *req = kp_sigv4_request_new (method, path, query, bytes);
  const char *names[] = { "authorization", "content-type", "host", "user-agent", "x-amz-date",
                          "x-amz-target", "x-amz-content-sha256" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      const char *value = kp_sigv4_request_get_header (from, names[i]);

      if (value == NULL)
        continue;
      if (g_strcmp0 (changed_header, names[i]) != 0)
        kp_sigv4_request_add_header (req, names[i], value);
      else if (strcmp (names[i], "x-amz-date") == 0)
        /* One second later: the same day and within the allowed skew, so
         * only the signature can notice. */
        kp_sigv4_request_add_header (req, names[i], "20261123T101011Z");
      else
        {
          g_autofree char *changed = g_strconcat (value, "x", NULL);

          kp_sigv4_request_add_header (req, names[i], changed);
        }
    }

  return req;
}

static void
check_tampering (gboolean with_content_hash)
{
  g_autoptr(KpSigv4Request) orig = NULL;
  g_autoptr(GBytes) bytes = g_bytes_new (MTURK_BODY, strlen (MTURK_BODY));
  g_autofree char *body_hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, MTURK_BODY, -1);
  const char *signed_headers[] = { "content-type", "host", "user-agent", "x-amz-date",
                                   "x-amz-target", "x-amz-content-sha256" };

  orig = kp_sigv4_request_new ("POST", "/a/b", "x=1&y=2", bytes);
  kp_sigv4_request_add_header (orig, "Host", "127.0.0.1:8443");
  kp_sigv4_request_add_header (orig, "Content-Type", "application/x-amz-json-1.1");
  kp_sigv4_request_add_header (orig, "X-Amz-Target", "MTurkRequesterServiceV20170117.GetHIT");
  kp_sigv4_request_add_header (orig, "User-Agent", "test");
  if (with_content_hash)
    kp_sigv4_request_add_header (orig, "X-Amz-Content-SHA256", body_hash);
  kp_sigv4_sign (orig, ACCESS_KEY, SECRET, REGION, SERVICE, NOW);

  /* The unchanged copy verifies, so each failure below is the change's. */
  {
    g_autoptr(KpSigv4Request) same = copy_request ("POST", "/a/b", "x=1&y=2", MTURK_BODY, orig, NULL);
    g_autoptr(GError) error = NULL;

    g_assert_true (kp_sigv4_verify (same, SECRET, SERVICE, NOW, &error));
    g_assert_no_error (error);
  }

  for (Tamper t = TAMPER_METHOD; t <= TAMPER_BODY; t++)
    {
      g_autoptr(KpSigv4Request) req =
        copy_request (t == TAMPER_METHOD ? "PUT" : "POST",
                      t == TAMPER_PATH ? "/a/c" : "/a/b",
                      t == TAMPER_QUERY ? "x=1&y=3" : "x=1&y=2",
                      t == TAMPER_BODY ? "{\"HITId\":\"3XYZ\"} " : MTURK_BODY,
                      orig, NULL);

      assert_verify_error (req, NOW, KP_SIGV4_ERROR_MISMATCH);
    }

  for (guint i = 0; i < G_N_ELEMENTS (signed_headers); i++)
    {
      g_autoptr(KpSigv4Request) req = NULL;

      if (!with_content_hash && strcmp (signed_headers[i], "x-amz-content-sha256") == 0)
        continue;

      req = copy_request ("POST", "/a/b", "x=1&y=2", MTURK_BODY, orig, signed_headers[i]);
      assert_verify_error (req, NOW, KP_SIGV4_ERROR_MISMATCH);
    }

  /* An added header that is not signed changes nothing. */
  {
    g_autoptr(KpSigv4Request) req = copy_request ("POST", "/a/b", "x=1&y=2", MTURK_BODY, orig, NULL);

    kp_sigv4_request_add_header (req, "X-Forwarded-For", "10.0.0.1");
    g_assert_true (kp_sigv4_verify (req, SECRET, SERVICE, NOW, NULL));
  }
}

static void
test_tamper (void)
{
  check_tampering (FALSE);
}

static void
test_tamper_content_hash (void)
{
  check_tampering (TRUE);
}

/* The content hash header must be the hash of the body even when the
 * signature is right for the header as sent. */
static void
test_content_hash_lie (void)
{
  g_autoptr(KpSigv4Request) req = new_mturk_request (MTURK_BODY);
  g_autofree char *other_hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, "{}", -1);
  g_autoptr(GError) error = NULL;

  kp_sigv4_request_add_header (req, "X-Amz-Content-SHA256", other_hash);
  kp_sigv4_sign (req, ACCESS_KEY, SECRET, REGION, SERVICE, NOW);
  g_assert_false (kp_sigv4_verify (req, SECRET, SERVICE, NOW, &error));
  g_assert_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MISMATCH);
  g_assert_nonnull (strstr (error->message, "x-amz-content-sha256"));
}

static void
test_stale (void)
{
  const struct {
    int offset_s;
    gboolean ok;
  } cases[] = {
    { 0, TRUE },
    { -14 * 60, TRUE },
    { 14 * 60, TRUE },
    { -15 * 60, TRUE },
    { 15 * 60, TRUE },
    { -15 * 60 - 1, FALSE },
    { 15 * 60 + 1, FALSE },
    { -16 * 60, FALSE },
    { 16 * 60, FALSE },
    { -86400 * 365, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(KpSigv4Request) req = new_mturk_request (MTURK_BODY);
      g_autoptr(GError) error = NULL;

      /* Signed at NOW + offset, verified at NOW. */
      kp_sigv4_sign (req, ACCESS_KEY, SECRET, REGION, SERVICE, NOW + cases[i].offset_s);
      if (cases[i].ok)
        {
          g_assert_true (kp_sigv4_verify (req, SECRET, SERVICE, NOW, &error));
          g_assert_no_error (error);
        }
      else
        {
          assert_verify_error (req, NOW, KP_SIGV4_ERROR_STALE);
        }
    }

  /* AWS's wording, with the dates in it. */
  {
    g_autoptr(KpSigv4Request) req = new_mturk_request (MTURK_BODY);
    g_autoptr(GError) error = NULL;

    kp_sigv4_sign (req, ACCESS_KEY, SECRET, REGION, SERVICE, NOW - 16 * 60);
    g_assert_false (kp_sigv4_verify (req, SECRET, SERVICE, NOW, &error));
    g_assert_cmpstr (error->message, ==,
                     "Signature expired: 20261123T095410Z is now earlier than "
                     "20261123T095510Z (20261123T101010Z - 15 min.)");
  }
}

/* A request carrying the Authorization header of a signed one with from
 * replaced by to, so that the scope can be changed behind the signature. */
static KpSigv4Request *
scope_request (const char *from,
               const char *to)
{
  g_autoptr(KpSigv4Request) model = new_mturk_request (MTURK_BODY);
  KpSigv4Request *req = new_mturk_request (MTURK_BODY);
  const char *auth;
  const char *at;
  g_autofree char *edited = NULL;

  kp_sigv4_sign (model, ACCESS_KEY, SECRET, REGION, SERVICE, NOW);
  auth = kp_sigv4_request_get_header (model, "authorization");
  at = strstr (auth, from);
  g_assert_nonnull (at);
  edited = g_strdup_printf ("%.*s%s%s", (int)(at - auth), auth, to, at + strlen (from));

  kp_sigv4_request_add_header (req, "X-Amz-Date", kp_sigv4_request_get_header (model, "x-amz-date"));
  kp_sigv4_request_add_header (req, "Authorization", edited);

  return req;
}

static void
test_scope (void)
{
  const struct {
    const char *from;
    const char *to;
    int code;
  } cases[] = {
    { "/mturk-requester/", "/iam/", KP_SIGV4_ERROR_SCOPE },
    { "/mturk-requester/", "/mturk-requester2/", KP_SIGV4_ERROR_SCOPE },
    { "/20261123/", "/20261122/", KP_SIGV4_ERROR_SCOPE },
    { "/20261123/", "/20261124/", KP_SIGV4_ERROR_SCOPE },
    { "/aws4_request", "/aws5_request", KP_SIGV4_ERROR_SCOPE },
    /* The region is not checked, only signed. (The access key id is not
     * signed at all: it only selects the secret.) */
    { "/us-east-1/", "/us-west-2/", KP_SIGV4_ERROR_MISMATCH },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(KpSigv4Request) req = scope_request (cases[i].from, cases[i].to);

      assert_verify_error (req, NOW, cases[i].code);
    }

  /* A service signed for something else is refused whatever the secret. */
  {
    g_autoptr(KpSigv4Request) req = new_mturk_request (MTURK_BODY);
    g_autoptr(GError) error = NULL;

    kp_sigv4_sign (req, ACCESS_KEY, SECRET, REGION, "sqs", NOW);
    g_assert_false (kp_sigv4_verify (req, SECRET, SERVICE, NOW, &error));
    g_assert_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_SCOPE);
    g_assert_cmpstr (error->message, ==, "Credential should be scoped to correct service: 'mturk-requester'.");
  }
}

#define GOOD_CREDENTIAL "Credential=AKIDEXAMPLE/20261123/us-east-1/mturk-requester/aws4_request"
#define GOOD_SIGNATURE  "Signature=" EXAMPLE_SIGNATURE

static void
test_malformed (void)
{
  g_autofree char *huge = NULL;
  g_autofree char *many = NULL;
  g_autoptr(GString) builder = g_string_new (NULL);
  const char *cases[] = {
    "",
    "AWS4-HMAC-SHA256",
    "AWS4-HMAC-SHA256 ",
    "AWS4-HMAC-SHA1 " GOOD_CREDENTIAL ", SignedHeaders=host;x-amz-date, " GOOD_SIGNATURE,
    "AWS4-HMAC-SHA256" GOOD_CREDENTIAL ", SignedHeaders=host;x-amz-date, " GOOD_SIGNATURE,
    "Bearer abcdef",
    "AWS4-HMAC-SHA256 Credential",
    "AWS4-HMAC-SHA256 Credential, SignedHeaders, Signature",
    "AWS4-HMAC-SHA256 ,,",
    "AWS4-HMAC-SHA256 ===,===,===",
    "AWS4-HMAC-SHA256 " GOOD_CREDENTIAL ", SignedHeaders=host;x-amz-date",
    "AWS4-HMAC-SHA256 " GOOD_CREDENTIAL ", SignedHeaders=host;x-amz-date, " GOOD_SIGNATURE ", Extra=1",
    "AWS4-HMAC-SHA256 " GOOD_CREDENTIAL ", " GOOD_CREDENTIAL ", " GOOD_SIGNATURE,
    "AWS4-HMAC-SHA256 " GOOD_CREDENTIAL ", SignedHeaders=host;x-amz-date, Signature=5d67",
    "AWS4-HMAC-SHA256 " GOOD_CREDENTIAL ", SignedHeaders=host;x-amz-date, Signature=" EXAMPLE_SIGNATURE "00",
    "AWS4-HMAC-SHA256 " GOOD_CREDENTIAL ", SignedHeaders=host;x-amz-date, Signature=5D672D79C15B13162D9279B0855CFBA6789A8EDB4C82C400E06B5924A6F2B5D7",
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/mturk-requester, SignedHeaders=host;x-amz-date, " GOOD_SIGNATURE,
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/mturk-requester/aws4_request/x, SignedHeaders=host;x-amz-date, " GOOD_SIGNATURE,
    "AWS4-HMAC-SHA256 Credential=/20261123/us-east-1/mturk-requester/aws4_request, SignedHeaders=host;x-amz-date, " GOOD_SIGNATURE,
    "AWS4-HMAC-SHA256 Credential=AKID EXAMPLE/20261123/us-east-1/mturk-requester/aws4_request, SignedHeaders=host;x-amz-date, " GOOD_SIGNATURE,
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2026112/us-east-1/mturk-requester/aws4_request, SignedHeaders=host;x-amz-date, " GOOD_SIGNATURE,
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/2026-11-23/us-east-1/mturk-requester/aws4_request, SignedHeaders=host;x-amz-date, " GOOD_SIGNATURE,
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123//mturk-requester/aws4_request, SignedHeaders=host;x-amz-date, " GOOD_SIGNATURE,
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261123/us-east-1/mturk-requester/aws4_request\xff, SignedHeaders=host;x-amz-date, " GOOD_SIGNATURE,
    "AWS4-HMAC-SHA256 " GOOD_CREDENTIAL ", SignedHeaders=, " GOOD_SIGNATURE,
    "AWS4-HMAC-SHA256 " GOOD_CREDENTIAL ", SignedHeaders=;, " GOOD_SIGNATURE,
    "AWS4-HMAC-SHA256 " GOOD_CREDENTIAL ", SignedHeaders=host;;x-amz-date, " GOOD_SIGNATURE,
    "AWS4-HMAC-SHA256 " GOOD_CREDENTIAL ", SignedHeaders=Host;X-Amz-Date, " GOOD_SIGNATURE,
    "AWS4-HMAC-SHA256 " GOOD_CREDENTIAL ", SignedHeaders=x-amz-date;host, " GOOD_SIGNATURE,
    "AWS4-HMAC-SHA256 " GOOD_CREDENTIAL ", SignedHeaders=host;host;x-amz-date, " GOOD_SIGNATURE,
    "AWS4-HMAC-SHA256 " GOOD_CREDENTIAL ", SignedHeaders=host;x amz date, " GOOD_SIGNATURE,
    /* Well formed, but host or x-amz-date is not signed, or a signed header
     * is not in the request: refused before any signature is computed. */
    "AWS4-HMAC-SHA256 " GOOD_CREDENTIAL ", SignedHeaders=x-amz-date, " GOOD_SIGNATURE,
    "AWS4-HMAC-SHA256 " GOOD_CREDENTIAL ", SignedHeaders=content-type;host, " GOOD_SIGNATURE,
    "AWS4-HMAC-SHA256 " GOOD_CREDENTIAL ", SignedHeaders=host;x-amz-date;x-missing, " GOOD_SIGNATURE,
    NULL, /* huge */
    NULL, /* too many signed headers */
  };
  guint n_cases = G_N_ELEMENTS (cases);

  huge = g_strnfill (9000, 'A');
  memcpy (huge, "AWS4-HMAC-SHA256 ", strlen ("AWS4-HMAC-SHA256 "));
  cases[n_cases - 2] = huge;

  g_string_append (builder, "AWS4-HMAC-SHA256 " GOOD_CREDENTIAL ", SignedHeaders=");
  for (guint i = 0; i < 65; i++)
    g_string_append_printf (builder, "%sh%03u", i > 0 ? ";" : "", i);
  g_string_append (builder, ", " GOOD_SIGNATURE);
  many = g_strdup (builder->str);
  cases[n_cases - 1] = many;

  for (guint i = 0; i < n_cases; i++)
    {
      g_autoptr(KpSigv4Request) req = new_mturk_request (MTURK_BODY);
      g_autoptr(GError) error = NULL;
      g_autofree char *access_key = NULL;
      gboolean parsed;

      g_test_message ("case %u", i);
      kp_sigv4_request_add_header (req, "X-Amz-Date", "20261123T101010Z");
      kp_sigv4_request_add_header (req, "Authorization", cases[i]);

      parsed = kp_sigv4_parse (req, &access_key, NULL, &error);
      if (parsed)
        {
          /* Only the last, well formed ones parse. */
          g_assert_no_error (error);
          g_assert_cmpstr (access_key, ==, "AKIDEXAMPLE");
          g_assert_cmpuint (i, >=, n_cases - 5);
          g_assert_cmpuint (i, <, n_cases - 2);
        }
      else
        {
          g_assert_true (g_error_matches (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MALFORMED) ||
                         g_error_matches (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MISSING));
          g_assert_null (access_key);
          g_assert_true (g_utf8_validate (error->message, -1, NULL));
          g_clear_error (&error);
        }

      g_assert_false (kp_sigv4_verify (req, SECRET, SERVICE, NOW, &error));
      g_assert_true (g_error_matches (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MALFORMED) ||
                     g_error_matches (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MISSING));
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
    }
}

static void
test_missing (void)
{
  g_autoptr(GError) error = NULL;

  /* No Authorization at all. */
  {
    g_autoptr(KpSigv4Request) req = new_mturk_request (MTURK_BODY);

    g_assert_false (kp_sigv4_parse (req, NULL, NULL, &error));
    g_assert_error (error, KP_SIGV4_ERROR, KP_SIGV4_ERROR_MISSING);
    g_clear_error (&error);
    assert_verify_error (req, NOW, KP_SIGV4_ERROR_MISSING);
  }

  /* No X-Amz-Date; a Date header does not stand in for it. */
  {
    g_autoptr(KpSigv4Request) req = scope_request ("Credential", "Credential");
    g_autoptr(KpSigv4Request) bare = new_mturk_request (MTURK_BODY);

    kp_sigv4_request_add_header (bare, "Date", "Mon, 23 Nov 2026 10:10:10 GMT");
    kp_sigv4_request_add_header (bare, "Authorization", kp_sigv4_request_get_header (req, "authorization"));
    g_assert_true (kp_sigv4_verify (req, SECRET, SERVICE, NOW, NULL));
    assert_verify_error (bare, NOW, KP_SIGV4_ERROR_MISSING);
  }
}

static void
test_bad_dates (void)
{
  const char *dates[] = {
    "20261123T101010",
    "20261123T101010ZZ",
    "20261123 101010Z",
    "2026-11-23T10:10:10Z",
    "20261131T101010Z",
    "20261123T241010Z",
    "20261123T106010Z",
    "2026112xT101010Z",
    "+0261123T101010Z",
    "Mon, 23 Nov 2026 10:10:10 GMT",
    /* A second X-Amz-Date joins the first one. */
    "20261123T101010Z,20261123T101010Z",
  };

  for (guint i = 0; i < G_N_ELEMENTS (dates); i++)
    {
      g_autoptr(KpSigv4Request) model = scope_request ("Credential", "Credential");
      g_autoptr(KpSigv4Request) req = new_mturk_request (MTURK_BODY);

      kp_sigv4_request_add_header (req, "X-Amz-Date", dates[i]);
      kp_sigv4_request_add_header (req, "Authorization", kp_sigv4_request_get_header (model, "authorization"));
      assert_verify_error (req, NOW, KP_SIGV4_ERROR_MALFORMED);
    }
}

/* What the canonical form makes equal: paths with dot and empty segments,
 * query parameters in another order or with other escapes, header values
 * with other whitespace. Signed one way, verified the other. */
static void
test_canonical_equivalence (void)
{
  const struct {
    const char *path_a, *query_a, *value_a;
    const char *path_b, *query_b, *value_b;
    gboolean equal;
  } cases[] = {
    { "/a/b/c", NULL, "v", "/a/./b/../b//c", "", "v", TRUE },
    { "/a/b/", "", "v", "/a/b/", NULL, "v", TRUE },
    { "", "", "v", "/", "", "v", TRUE },
    { "/a%20b", "", "v", "/a%20b", "", "v", TRUE },
    { "/a%20b", "", "v", "/a b", "", "v", FALSE },
    { "/a/b/", "", "v", "/a/b", "", "v", FALSE },
    { "/", "b=2&a=1&a=0", "v", "/", "a=0&a=1&b=2", "v", TRUE },
    { "/", "k=%7e&s=a%20b", "v", "/", "k=~&s=a%20b", "v", TRUE },
    { "/", "k=a+b", "v", "/", "k=a%2Bb", "v", TRUE },
    { "/", "k=a+b", "v", "/", "k=a%20b", "v", FALSE },
    { "/", "flag", "v", "/", "flag=", "v", TRUE },
    { "/", "k=%zz%4", "v", "/", "k=%25zz%254", "v", TRUE },
    { "/", "", "a  b", "/", "", "a b", TRUE },
    { "/", "", "a \t b", "/", "", "a b", TRUE },
    { "/", "", "a b", "/", "", "ab", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(KpSigv4Request) a = kp_sigv4_request_new ("GET", cases[i].path_a, cases[i].query_a, NULL);
      g_autoptr(KpSigv4Request) b = kp_sigv4_request_new ("GET", cases[i].path_b, cases[i].query_b, NULL);
      g_autoptr(GError) error = NULL;

      g_test_message ("case %u", i);
      kp_sigv4_request_add_header (a, "Host", "localhost");
      kp_sigv4_request_add_header (a, "X-Value", cases[i].value_a);
      kp_sigv4_sign (a, ACCESS_KEY, SECRET, REGION, SERVICE, NOW);

      kp_sigv4_request_add_header (b, "Host", "localhost");
      kp_sigv4_request_add_header (b, "X-Value", cases[i].value_b);
      kp_sigv4_request_add_header (b, "X-Amz-Date", kp_sigv4_request_get_header (a, "x-amz-date"));
      kp_sigv4_request_add_header (b, "Authorization", kp_sigv4_request_get_header (a, "authorization"));

      if (cases[i].equal)
        {
          g_assert_true (kp_sigv4_verify (b, SECRET, SERVICE, NOW, &error));
          g_assert_no_error (error);
        }
      else
        assert_verify_error (b, NOW, KP_SIGV4_ERROR_MISMATCH);
    }
}

/* Hostile requests of every kind: whatever the bytes, verification fails
 * cleanly (the interesting part runs under ASan in _build-asan). */
static void
test_hostile_requests (void)
{
  GRand *rand = g_rand_new_with_seed (4242);
  const char *pieces[] = {
    "AWS4-HMAC-SHA256 ", "Credential=", "SignedHeaders=", "Signature=", ",", ";", "/", "=",
    " ", "\t", "host", "x-amz-date", "aws4_request", "20261123", "%", "%4", "\xff", "\xc3",
    EXAMPLE_SIGNATURE, "AKIDEXAMPLE", "mturk-requester", "..", ".", "&",
  };

  for (guint n = 0; n < 2000; n++)
    {
      g_autoptr(GString) auth = g_string_new (NULL);
      g_autoptr(GString) path = g_string_new ("/");
      g_autoptr(GString) query = g_string_new (NULL);
      g_autoptr(KpSigv4Request) req = NULL;
      g_autofree char *access_key = NULL;
      guint len = g_rand_int_range (rand, 0, 20);

      for (guint i = 0; i < len; i++)
        {
          g_string_append (auth, pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]);
          g_string_append (path, pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]);
          g_string_append (query, pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))]);
        }

      req = kp_sigv4_request_new ("POST", path->str, query->str, NULL);
      kp_sigv4_request_add_header (req, "Host", "localhost");
      kp_sigv4_request_add_header (req, "X-Amz-Date", "20261123T101010Z");
      kp_sigv4_request_add_header (req, "Authorization", auth->str);
      if (kp_sigv4_parse (req, &access_key, NULL, NULL))
        g_assert_nonnull (access_key);
      g_assert_false (kp_sigv4_verify (req, SECRET, SERVICE, NOW, NULL));

      /* Signing hostile paths and queries still round-trips. */
      g_clear_pointer (&req, kp_sigv4_request_free);
      req = kp_sigv4_request_new ("POST", path->str, query->str, NULL);
      kp_sigv4_request_add_header (req, "Host", "localhost");
      kp_sigv4_request_add_header (req, "X-Odd", auth->str);
      kp_sigv4_sign (req, ACCESS_KEY, SECRET, REGION, SERVICE, NOW);
      g_assert_true (kp_sigv4_verify (req, SECRET, SERVICE, NOW, NULL));
    }

  g_rand_free (rand);
}

/* --verify-stdin: {"method", "path", "query", "headers": [[name, value], …],
 * "body_base64", "secret", "service", "now"} on stdin. */
static int
verify_stdin (void)
{
  g_autoptr(GString) input = g_string_new (NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(KpSigv4Request) req = NULL;
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guchar *body_data = NULL;
  JsonObject *obj;
  JsonArray *headers;
  gsize body_len = 0;
  char buf[4096];
  size_t n;

  while ((n = fread (buf, 1, sizeof buf, stdin)) > 0)
    g_string_append_len (input, buf, n);

  if (!json_parser_load_from_data (parser, input->str, input->len, &error) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_printerr ("test-sigv4: bad input: %s\n", error != NULL ? error->message : "not an object");
      return 2;
    }

  obj = json_node_get_object (json_parser_get_root (parser));
  body_data = g_base64_decode (json_object_get_string_member_with_default (obj, "body_base64", ""),
                               &body_len);
  body = g_bytes_new (body_data, body_len);
  req = kp_sigv4_request_new (json_object_get_string_member (obj, "method"),
                              json_object_get_string_member (obj, "path"),
                              json_object_get_string_member_with_default (obj, "query", ""),
                              body);
  headers = json_object_get_array_member (obj, "headers");
  for (guint i = 0; i < json_array_get_length (headers); i++)
    {
      JsonArray *pair = json_array_get_array_element (headers, i);

      kp_sigv4_request_add_header (req,
                                   json_array_get_string_element (pair, 0),
                                   json_array_get_string_element (pair, 1));
    }

  if (!kp_sigv4_verify (req,
                        json_object_get_string_member (obj, "secret"),
                        json_object_get_string_member (obj, "service"),
                        json_object_get_int_member (obj, "now"),
                        &error))
    {
      g_printerr ("test-sigv4: %s\n", error->message);
      return 1;
    }

  return 0;
}

int
main (int   argc,
      char *argv[])
{
  if (argc == 2 && strcmp (argv[1], "--verify-stdin") == 0)
    return verify_stdin ();

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/kempelen/core/sigv4/aws-example", test_aws_example);
  g_test_add_func ("/kempelen/core/sigv4/round-trip", test_round_trip);
  g_test_add_func ("/kempelen/core/sigv4/empty-body", test_empty_body);
  g_test_add_func ("/kempelen/core/sigv4/headers", test_headers);
  g_test_add_func ("/kempelen/core/sigv4/tamper", test_tamper);
  g_test_add_func ("/kempelen/core/sigv4/tamper-content-hash", test_tamper_content_hash);
  g_test_add_func ("/kempelen/core/sigv4/content-hash-lie", test_content_hash_lie);
  g_test_add_func ("/kempelen/core/sigv4/stale", test_stale);
  g_test_add_func ("/kempelen/core/sigv4/scope", test_scope);
  g_test_add_func ("/kempelen/core/sigv4/malformed", test_malformed);
  g_test_add_func ("/kempelen/core/sigv4/missing", test_missing);
  g_test_add_func ("/kempelen/core/sigv4/bad-dates", test_bad_dates);
  g_test_add_func ("/kempelen/core/sigv4/canonical-equivalence", test_canonical_equivalence);
  g_test_add_func ("/kempelen/core/sigv4/hostile", test_hostile_requests);

  return g_test_run ();
}
