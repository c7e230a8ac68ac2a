/* kp-external.c: /mturk/externalSubmit
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * An ExternalQuestion page (or an HTMLQuestion with a plain form) is shown
 * with assignmentId, hitId, workerId and turkSubmitTo in its URL, and
 * posts its form to turkSubmitTo + "/mturk/externalSubmit". MTurk takes
 * the field assignmentId to find the assignment and every other field as
 * one answer: a QuestionFormAnswers Answer whose QuestionIdentifier is the
 * field's name and whose FreeText is its value, the values of a field
 * sent more than once joined with "|". A form must send at least one field
 * besides assignmentId. We do the same, and submit through
 * kp_hits_submit(), the transition the worker API uses, so deadlines,
 * notifications and the HIT's status are handled in one place.
 *
 * The assignment id is the credential here, as on MTurk: it is only ever
 * given to the worker who accepted the assignment.
 */

#include "config.h"

#include "kp-external.h"

#include <string.h>

#include <glib/gi18n.h>

#include "kp-core.h"
#include "kp-hits.h"

/* MTurk's assignmentId while a worker only previews a HIT. */
#define PREVIEW_ASSIGNMENT_ID "ASSIGNMENT_ID_NOT_AVAILABLE"
#define MAX_FIELDS 1000

typedef struct
{
  GPtrArray  *names;    /* char *, in the order first seen */
  GHashTable *values;   /* name → GString, values joined with "|" */
  char       *assignment_id;
} Form;

static void
form_clear (Form *form)
{
  g_clear_pointer (&form->names, g_ptr_array_unref);
  g_clear_pointer (&form->values, g_hash_table_unref);
  g_clear_pointer (&form->assignment_id, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Form, form_clear)

static void
string_free (gpointer string)
{
  g_string_free (string, TRUE);
}

static void
form_init (Form *form)
{
  form->names = g_ptr_array_new_with_free_func (g_free);
  form->values = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, string_free);
  form->assignment_id = NULL;
}

static gboolean
form_add (KpCtx       *ctx,
          Form        *form,
          const char  *name,
          const char  *value,
          gssize       value_length,
          GError     **error)
{
  GString *joined;

  if (value_length < 0)
    value_length = strlen (value);

  if (!g_utf8_validate (name, -1, NULL) ||
      !g_utf8_validate_len (value, value_length, NULL) ||
      memchr (value, '\0', value_length) != NULL)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL,
                        _("The form field “%s” is not valid UTF-8 text."),
                        g_utf8_validate (name, -1, NULL) ? name : "?");

  if (g_str_equal (name, "assignmentId"))
    {
      if (form->assignment_id != NULL)
        return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL,
                            _("The form sends assignmentId more than once."));
      form->assignment_id = g_strndup (value, value_length);
      return TRUE;
    }

  if (name[0] == '\0')
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL,
                        _("A form field has no name."));

  joined = g_hash_table_lookup (form->values, name);
  if (joined != NULL)
    {
      g_string_append_c (joined, '|');
      g_string_append_len (joined, value, value_length);
      return TRUE;
    }

  if (form->names->len >= MAX_FIELDS)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL,
                        _("The form has more than %d fields."), MAX_FIELDS);

  g_ptr_array_add (form->names, g_strdup (name));
  g_hash_table_insert (form->values, g_ptr_array_index (form->names, form->names->len - 1),
                       g_string_new_len (value, value_length));
  return TRUE;
}

/* application/x-www-form-urlencoded, and GET queries. */
static gboolean
parse_urlencoded (KpCtx       *ctx,
                  Form        *form,
                  const char  *text,
                  gssize       length,
                  GError     **error)
{
  GUriParamsIter iter;
  g_autoptr(GError) local_error = NULL;
  char *name = NULL;
  char *value = NULL;

  if (text == NULL || length == 0)
    return TRUE;

  g_uri_params_iter_init (&iter, text, length, "&", G_URI_PARAMS_WWW_FORM);
  while (g_uri_params_iter_next (&iter, &name, &value, &local_error))
    {
      gboolean ok = form_add (ctx, form, name, value, -1, error);

      g_free (name);
      g_free (value);
      if (!ok)
        return FALSE;
    }

  if (local_error != NULL)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL,
                        _("The form data cannot be read: %s"), local_error->message);

  return TRUE;
}

static gboolean
parse_multipart (KpCtx              *ctx,
                 Form               *form,
                 SoupMessageHeaders *headers,
                 GBytes             *body,
                 GError            **error)
{
  g_autoptr(SoupMultipart) multipart = soup_multipart_new_from_message (headers, body);
  int n_parts;

  if (multipart == NULL)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL,
                        _("The multipart form data cannot be read."));

  n_parts = soup_multipart_get_length (multipart);
  for (int i = 0; i < n_parts; i++)
    {
      SoupMessageHeaders *part_headers = NULL;
      GBytes *part_body = NULL;
      g_autofree char *disposition = NULL;
      g_autoptr(GHashTable) params = NULL;
      const char *name;
      gsize size = 0;
      const char *data;

      if (!soup_multipart_get_part (multipart, i, &part_headers, &part_body) ||
          !soup_message_headers_get_content_disposition (part_headers, &disposition, &params) ||
          g_ascii_strcasecmp (disposition, "form-data") != 0 ||
          (name = g_hash_table_lookup (params, "name")) == NULL)
        return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL,
                            _("Part %d of the multipart form data is not a named form field."),
                            i + 1);

      if (g_hash_table_contains (params, "filename"))
        return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL,
                            _("The form field “%s” is a file; externalSubmit takes text fields "
                              "only."), name);

      data = g_bytes_get_data (part_body, &size);
      if (!form_add (ctx, form, name, data != NULL ? data : "", size, error))
        return FALSE;
    }

  return TRUE;
}

static gboolean
parse_form (KpCtx              *ctx,
            SoupServerMessage  *msg,
            Form               *form,
            GError            **error)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  const char *method = soup_server_message_get_method (msg);
  g_autoptr(GBytes) body = NULL;
  g_autoptr(GHashTable) params = NULL;
  const char *content_type;
  gsize length = 0;
  const char *data;

  if (g_str_equal (method, "GET"))
    {
      const char *query = g_uri_get_query (soup_server_message_get_uri (msg));

      return parse_urlencoded (ctx, form, query, -1, error);
    }

  body = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  data = g_bytes_get_data (body, &length);
  content_type = soup_message_headers_get_content_type (headers, &params);

  if (content_type == NULL || g_ascii_strcasecmp (content_type,
                                                  "application/x-www-form-urlencoded") == 0)
    return parse_urlencoded (ctx, form, data, length, error);
  if (g_ascii_strcasecmp (content_type, "multipart/form-data") == 0)
    return parse_multipart (ctx, form, headers, body, error);

  return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL,
                      _("Post the form as application/x-www-form-urlencoded or "
                        "multipart/form-data, not %s."), content_type);
}

static void
respond_html (SoupServerMessage *msg,
              guint              status,
              const char        *title,
              const char        *text)
{
  g_autofree char *escaped_title = g_markup_escape_text (title, -1);
  g_autofree char *escaped_text = g_markup_escape_text (text, -1);
  char *page = g_strdup_printf ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                                "<title>%s</title></head>\n<body><h1>%s</h1>\n<p>%s</p>"
                                "</body></html>\n",
                                escaped_title, escaped_title, escaped_text);

  soup_message_body_truncate (soup_server_message_get_response_body (msg));
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/html; charset=utf-8", SOUP_MEMORY_TAKE,
                                    page, strlen (page));
}

gboolean
kp_external_submit (KpServer  *server G_GNUC_UNUSED,
                    KpCtx     *ctx,
                    gpointer   data,
                    GError   **error)
{
  SoupServerMessage *msg = data;
  g_auto(Form) form = { 0 };
  g_autoptr(GError) local_error = NULL;
  g_autoptr(KpRows) rows = NULL;
  g_autoptr(KpQuestionInfo) info = NULL;
  g_autoptr(JsonArray) answers = NULL;
  g_autofree char *answer_xml = NULL;

  form_init (&form);
  if (!parse_form (ctx, msg, &form, error))
    return FALSE;

  if (form.assignment_id == NULL || form.assignment_id[0] == '\0')
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL,
                        _("The form has no assignmentId field; copy the assignmentId the "
                          "page was opened with into the form."));
  if (g_str_equal (form.assignment_id, PREVIEW_ASSIGNMENT_ID))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL,
                        _("This is a preview of the HIT; accept it before submitting."));
  if (form.names->len == 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL,
                        _("The form has no field besides assignmentId; there is no answer to "
                          "submit."));

  rows = kp_db_query (ctx->db, &local_error,
                      "SELECT a.worker_id, h.question FROM assignments a "
                      "JOIN hits h ON h.id = a.hit_id WHERE a.id = $1",
                      "s", form.assignment_id);
  if (rows == NULL)
    return kp_api_fail_db (ctx, error, local_error);
  if (kp_rows_get_n_rows (rows) == 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_NOT_FOUND, "AssignmentDoesNotExist",
                        _("Assignment %s does not exist."), form.assignment_id);

  /* The HIT's question checks the answers when it is a QuestionForm;
   * any field is fine for an ExternalQuestion or HTMLQuestion. */
  info = kp_question_parse (kp_rows_get_text (rows, 0, 1), -1, NULL);

  answers = json_array_new ();
  for (guint i = 0; i < form.names->len; i++)
    {
      const char *name = g_ptr_array_index (form.names, i);
      GString *value = g_hash_table_lookup (form.values, name);
      JsonObject *answer = json_object_new ();

      json_object_set_string_member (answer, "QuestionIdentifier", name);
      json_object_set_string_member (answer, "FreeText", value->str);
      json_array_add_object_element (answers, answer);
    }

  answer_xml = kp_question_answers_to_xml (info, answers, &local_error);
  if (answer_xml == NULL)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, NULL, "%s", local_error->message);

  if (!kp_hits_submit (ctx, form.assignment_id, kp_rows_get_text (rows, 0, 0), answer_xml,
                       error))
    return FALSE;

  respond_html (msg, SOUP_STATUS_OK, _("Submitted"),
                _("Your answers were submitted. You can close this page."));
  return TRUE;
}

void
kp_external_respond_error (SoupServerMessage *msg,
                           const GError      *error)
{
  guint status = SOUP_STATUS_INTERNAL_SERVER_ERROR;
  const char *message = _("The server could not store the answers; try again later.");

  if (error->domain == KP_API_ERROR)
    {
      switch ((KpApiError)error->code)
        {
        case KP_API_ERROR_REQUEST:
          status = SOUP_STATUS_BAD_REQUEST;
          break;
        case KP_API_ERROR_NOT_FOUND:
          status = SOUP_STATUS_NOT_FOUND;
          break;
        case KP_API_ERROR_CONFLICT:
          status = SOUP_STATUS_CONFLICT;
          break;
        case KP_API_ERROR_GONE:
          status = SOUP_STATUS_GONE;
          break;
        case KP_API_ERROR_FORBIDDEN:
          status = SOUP_STATUS_FORBIDDEN;
          break;
        case KP_API_ERROR_UNAUTHORIZED:
          status = SOUP_STATUS_UNAUTHORIZED;
          break;
        case KP_API_ERROR_THROTTLED:
          status = SOUP_STATUS_SERVICE_UNAVAILABLE;
          soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                        "Retry-After", "1");
          break;
        case KP_API_ERROR_SERVICE:
        default:
          break;
        }

      /* kp_api_fail() messages are written for the client; store errors
       * were logged with their details and are not shown. */
      if (error->code != KP_API_ERROR_SERVICE)
        message = error->message;
    }
  else
    g_warning ("externalSubmit failed: %s", error->message);

  respond_html (msg, status, _("The answers were not submitted"), message);
}
