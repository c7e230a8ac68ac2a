/* kp-api.c: what every server operation shares
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <inttypes.h>

#include "kp-api.h"

#include <string.h>

#include <glib/gi18n.h>

G_DEFINE_QUARK (kp-api-error-quark, kp_api_error)

#define MAX_MONEY_CENTS ((gint64)100000000)  /* $1,000,000.00 */

/* Errors */

static gboolean
fail_valist (KpCtx       *ctx,
             GError     **error,
             KpApiError   code,
             const char  *turk_code,
             const char  *format,
             va_list      args)
{
  g_autofree char *raw = g_strdup_vprintf (format, args);
  /* Messages quote what clients sent (member names, values): a JSON
   * escape can make that invalid UTF-8, which must not reach the answer. */
  g_autofree char *message = g_utf8_make_valid (raw, -1);

  if (ctx != NULL)
    {
      g_free (ctx->turk_error_code);
      ctx->turk_error_code = g_strconcat ("AWS.MechanicalTurk.",
                                          turk_code != NULL ? turk_code : "RequestError",
                                          NULL);
    }

  g_set_error_literal (error, KP_API_ERROR, code, message);
  return FALSE;
}

gboolean
kp_api_fail (KpCtx       *ctx,
             GError     **error,
             KpApiError   code,
             const char  *turk_code,
             const char  *format,
             ...)
{
  va_list args;

  va_start (args, format);
  fail_valist (ctx, error, code, turk_code, format, args);
  va_end (args);

  return FALSE;
}

gboolean
kp_api_fail_db (KpCtx   *ctx,
                GError **error,
                GError  *db_error)
{
  if (db_error != NULL)
    g_warning ("Store error: %s", db_error->message);

  if (db_error != NULL && g_error_matches (db_error, KP_DB_ERROR, KP_DB_ERROR_BUSY))
    return kp_api_fail (ctx, error, KP_API_ERROR_THROTTLED, "ServiceUnavailable",
                        _("The server is busy; try again"));

  if (db_error != NULL && g_error_matches (db_error, KP_DB_ERROR, KP_DB_ERROR_UNAVAILABLE))
    return kp_api_fail (ctx, error, KP_API_ERROR_THROTTLED, "ServiceUnavailable",
                        _("The server cannot reach its database right now; nothing was "
                          "changed, try again"));

  if (db_error != NULL && g_error_matches (db_error, KP_DB_ERROR, KP_DB_ERROR_FULL))
    return kp_api_fail (ctx, error, KP_API_ERROR_SERVICE, "ServiceUnavailable",
                        _("The server cannot store anything right now (its disk is full); "
                          "nothing was changed, try again later"));

  return kp_api_fail (ctx, error, KP_API_ERROR_SERVICE, "ServiceFault",
                      _("The server could not complete the request; nothing was changed"));
}

/* Operations */

const KpOperation *
kp_api_find_operation (const char *name)
{
  const KpOperation * const tables[] = {
    kp_mturk_hits_operations,
    kp_mturk_assignments_operations,
    kp_mturk_quals_operations,
    kp_mturk_workers_operations,
    kp_mturk_consolidate_operations,
  };

  if (name == NULL)
    return NULL;

  for (guint t = 0; t < G_N_ELEMENTS (tables); t++)
    for (const KpOperation *op = tables[t]; op->name != NULL; op++)
      if (g_str_equal (op->name, name))
        return op;

  return NULL;
}

/* Answering later */

void
kp_api_defer (KpCtx                *ctx,
              KpDeferredThreadFunc  thread_func,
              KpDeferredFinishFunc  finish_func,
              gpointer              data,
              GDestroyNotify        data_free,
              GDestroyNotify        result_free)
{
  KpDeferred *deferred;

  g_return_if_fail (ctx != NULL);
  g_return_if_fail (thread_func != NULL);
  g_return_if_fail (finish_func != NULL);
  g_return_if_fail (ctx->deferred == NULL);

  deferred = g_new0 (KpDeferred, 1);
  deferred->thread_func = thread_func;
  deferred->finish_func = finish_func;
  deferred->data = data;
  deferred->data_free = data_free;
  deferred->result_free = result_free;
  ctx->deferred = deferred;
}

KpDeferred *
kp_api_steal_deferred (KpCtx *ctx)
{
  return g_steal_pointer (&ctx->deferred);
}

void
kp_deferred_free (KpDeferred *deferred)
{
  if (deferred == NULL)
    return;

  if (deferred->data_free != NULL && deferred->data != NULL)
    deferred->data_free (deferred->data);
  g_free (deferred);
}

/* Parameters */

static JsonNode *
get_member (JsonObject *request,
            const char *name)
{
  JsonNode *node;

  if (request == NULL)
    return NULL;

  node = json_object_get_member (request, name);
  if (node != NULL && JSON_NODE_HOLDS_NULL (node))
    return NULL;

  return node;
}

static gboolean
missing (KpCtx       *ctx,
         const char  *name,
         gboolean     required,
         GError     **error)
{
  if (!required)
    return TRUE;

  return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterMissing",
                      _("1 validation error detected: Value null at “%s” failed to satisfy "
                        "constraint: Member must not be null"), name);
}

static gboolean
node_is_type (JsonNode *node,
              GType     type)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == type;
}

static gboolean
wrong_type (KpCtx       *ctx,
            const char  *name,
            const char  *expected,
            GError     **error)
{
  return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                      _("The value of “%s” must be %s"), name, expected);
}

gboolean
kp_param_string (KpCtx        *ctx,
                 JsonObject   *request,
                 const char   *name,
                 gboolean      required,
                 gsize         min_length,
                 gsize         max_length,
                 const char  **out,
                 GError      **error)
{
  JsonNode *node = get_member (request, name);
  const char *value;
  gsize length;

  if (node == NULL)
    return missing (ctx, name, required, error);

  if (!node_is_type (node, G_TYPE_STRING))
    return wrong_type (ctx, name, _("a string"), error);

  value = json_node_get_string (node);
  if (!g_utf8_validate (value, -1, NULL))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("The value of “%s” is not valid UTF-8"), name);

  length = g_utf8_strlen (value, -1);
  if (length < min_length)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("1 validation error detected: Value at “%s” failed to satisfy "
                          "constraint: Member must have length greater than or equal to %"
                          "zu"), name, min_length);
  if (max_length > 0 && length > max_length)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("1 validation error detected: Value at “%s” failed to satisfy "
                          "constraint: Member must have length less than or equal to %"
                          "zu"), name, max_length);

  *out = value;
  return TRUE;
}

static gboolean
all_upper_alnum (const char *s)
{
  for (; *s != '\0'; s++)
    if (!g_ascii_isdigit (*s) && !g_ascii_isupper (*s))
      return FALSE;
  return TRUE;
}

gboolean
kp_param_entity_id (KpCtx        *ctx,
                    JsonObject   *request,
                    const char   *name,
                    gboolean      required,
                    const char  **out,
                    GError      **error)
{
  const char *value = NULL;

  if (!kp_param_string (ctx, request, name, required, 1, 64, &value, error))
    return FALSE;
  if (value == NULL)
    return TRUE;

  if (!all_upper_alnum (value))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("1 validation error detected: Value at “%s” failed to satisfy "
                          "constraint: Member must satisfy regular expression pattern: "
                          "^[A-Z0-9]+$"), name);

  *out = value;
  return TRUE;
}

gboolean
kp_param_customer_id (KpCtx        *ctx,
                      JsonObject   *request,
                      const char   *name,
                      gboolean      required,
                      const char  **out,
                      GError      **error)
{
  const char *value = NULL;

  if (!kp_param_string (ctx, request, name, required, 1, 64, &value, error))
    return FALSE;
  if (value == NULL)
    return TRUE;

  if (value[0] != 'A' || !all_upper_alnum (value))
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("1 validation error detected: Value at “%s” failed to satisfy "
                          "constraint: Member must satisfy regular expression pattern: "
                          "^A[A-Z0-9]+$"), name);

  *out = value;
  return TRUE;
}

gboolean
kp_param_int (KpCtx        *ctx,
              JsonObject   *request,
              const char   *name,
              gboolean      required,
              gint64        min,
              gint64        max,
              gint64       *out,
              GError      **error)
{
  JsonNode *node = get_member (request, name);
  gint64 value;

  if (node == NULL)
    return missing (ctx, name, required, error);

  if (!node_is_type (node, G_TYPE_INT64))
    return wrong_type (ctx, name, _("an integer"), error);

  value = json_node_get_int (node);
  if (value < min || value > max)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("The value of “%s” must be between %" PRId64
                          " and %" PRId64 ", not %" PRId64),
                        name, min, max, value);

  *out = value;
  return TRUE;
}

gboolean
kp_param_bool (KpCtx        *ctx,
               JsonObject   *request,
               const char   *name,
               gboolean      required,
               gboolean     *out,
               GError      **error)
{
  JsonNode *node = get_member (request, name);

  if (node == NULL)
    return missing (ctx, name, required, error);

  if (!node_is_type (node, G_TYPE_BOOLEAN))
    return wrong_type (ctx, name, _("true or false"), error);

  *out = json_node_get_boolean (node);
  return TRUE;
}

gboolean
kp_param_money (KpCtx        *ctx,
                JsonObject   *request,
                const char   *name,
                gboolean      required,
                gint64       *cents,
                GError      **error)
{
  const char *value = NULL;
  const char *p;
  gint64 units = 0;
  gint64 fraction = 0;
  int n_digits = 0;
  int n_fraction = 0;

  if (!kp_param_string (ctx, request, name, required, 1, 16, &value, error))
    return FALSE;
  if (value == NULL)
    return TRUE;

  /* ^[0-9]+(\.)?[0-9]{0,2}$ */
  for (p = value; g_ascii_isdigit (*p); p++, n_digits++)
    {
      units = units * 10 + (*p - '0');
      if (units > MAX_MONEY_CENTS / 100)
        break;
    }
  if (*p == '.')
    for (p++; g_ascii_isdigit (*p) && n_fraction < 3; p++, n_fraction++)
      fraction = fraction * 10 + (*p - '0');

  if (n_digits == 0 || n_fraction > 2 || *p != '\0' || units > MAX_MONEY_CENTS / 100)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("The value of “%s” must be an amount in dollars such as "
                          "“0.10”, at most 1000000.00, not “%s”"), name, value);

  if (n_fraction == 1)
    fraction *= 10;

  *cents = units * 100 + fraction;
  return TRUE;
}

gboolean
kp_param_enum (KpCtx               *ctx,
               JsonObject          *request,
               const char          *name,
               gboolean             required,
               const char * const  *allowed,
               const char         **out,
               GError             **error)
{
  const char *value = NULL;
  g_autofree char *list = NULL;

  if (!kp_param_string (ctx, request, name, required, 0, 0, &value, error))
    return FALSE;
  if (value == NULL)
    return TRUE;

  if (g_strv_contains (allowed, value))
    {
      *out = value;
      return TRUE;
    }

  list = g_strjoinv (", ", (char **)allowed);
  return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                      _("1 validation error detected: Value at “%s” failed to satisfy "
                        "constraint: Member must satisfy enum value set: [%s]"), name, list);
}

gboolean
kp_param_timestamp (KpCtx        *ctx,
                    JsonObject   *request,
                    const char   *name,
                    gboolean      required,
                    gint64       *out,
                    GError      **error)
{
  JsonNode *node = get_member (request, name);
  double value;

  if (node == NULL)
    return missing (ctx, name, required, error);

  if (node_is_type (node, G_TYPE_INT64))
    value = json_node_get_int (node);
  else if (node_is_type (node, G_TYPE_DOUBLE))
    value = json_node_get_double (node);
  else
    return wrong_type (ctx, name, _("a time in seconds since 1970"), error);

  if (!(value >= 0 && value < 253402300800.0))  /* year 10000; also catches NaN */
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("The value of “%s” is not a valid time"), name);

  *out = (gint64)value;
  return TRUE;
}

gboolean
kp_param_array (KpCtx        *ctx,
                JsonObject   *request,
                const char   *name,
                gboolean      required,
                guint         min_length,
                guint         max_length,
                JsonArray   **out,
                GError      **error)
{
  JsonNode *node = get_member (request, name);
  JsonArray *array;
  guint length;

  if (node == NULL)
    return missing (ctx, name, required, error);

  if (!JSON_NODE_HOLDS_ARRAY (node))
    return wrong_type (ctx, name, _("a list"), error);

  array = json_node_get_array (node);
  length = json_array_get_length (array);
  if (length < min_length || (max_length > 0 && length > max_length))
    {
      if (max_length > 0)
        return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                            _("“%s” must have between %u and %u items, not %u"),
                            name, min_length, max_length, length);
      return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                          _("“%s” must have at least %u items"), name, min_length);
    }

  *out = array;
  return TRUE;
}

gboolean
kp_param_object (KpCtx        *ctx,
                 JsonObject   *request,
                 const char   *name,
                 gboolean      required,
                 JsonObject  **out,
                 GError      **error)
{
  JsonNode *node = get_member (request, name);

  if (node == NULL)
    return missing (ctx, name, required, error);

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return wrong_type (ctx, name, _("an object"), error);

  *out = json_node_get_object (node);
  return TRUE;
}

gboolean
kp_param_check_members (KpCtx       *ctx,
                        JsonObject  *object,
                        const char  *where,
                        const char  *members,
                        GError     **error)
{
  g_auto(GStrv) known = g_strsplit (members != NULL ? members : "", " ", -1);
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;

  json_object_iter_init (&iter, object);
  while (json_object_iter_next (&iter, &name, &node))
    {
      if (!g_strv_contains ((const char * const *)known, name))
        {
          if (where != NULL)
            return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                                _("“%s” has no member “%s”"), where, name);
          return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                              _("Unknown parameter “%s”"), name);
        }
    }

  return TRUE;
}

/* Pagination */

/* The database's own key (kp_meta, made by kp-schema.c), so that every
 * server process on one store accepts the others' tokens; a process-wide
 * random one if the store cannot be read. A process serves one store. */
static GBytes *
token_key (KpDb *db)
{
  static GBytes *key;

  if (g_once_init_enter (&key))
    {
      g_autoptr(KpRows) rows = NULL;
      GBytes *bytes = NULL;

      if (db != NULL)
        rows = kp_db_query (db, NULL, "SELECT value FROM kp_meta WHERE key = 'page_token_key'",
                            NULL);
      if (rows != NULL && kp_rows_get_n_rows (rows) == 1 &&
          strlen (kp_rows_get_text (rows, 0, 0)) >= 32)
        bytes = g_bytes_new (kp_rows_get_text (rows, 0, 0), strlen (kp_rows_get_text (rows, 0, 0)));
      else
        {
          guint8 random[32];

          for (guint i = 0; i < G_N_ELEMENTS (random); i++)
            random[i] = g_random_int_range (0, 256);
          bytes = g_bytes_new (random, sizeof random);
        }
      g_once_init_leave (&key, bytes);
    }

  return key;
}

static char *
token_mac (KpDb       *db,
           const char *operation,
           const char *cursor)
{
  g_autoptr(GHmac) hmac = NULL;
  gsize key_size = 0;
  const guint8 *key = g_bytes_get_data (token_key (db), &key_size);

  hmac = g_hmac_new (G_CHECKSUM_SHA256, key, key_size);
  g_hmac_update (hmac, (const guchar *)operation, strlen (operation) + 1);
  g_hmac_update (hmac, (const guchar *)cursor, strlen (cursor));

  return g_strndup (g_hmac_get_string (hmac), 32);
}

gboolean
kp_page_parse (KpCtx       *ctx,
               JsonObject  *request,
               const char  *operation,
               KpPage      *page,
               GError     **error)
{
  const char *token = NULL;
  g_autofree guchar *decoded = NULL;
  g_autofree char *text = NULL;
  g_autofree char *mac = NULL;
  gsize length = 0;
  const char *bar;

  page->max_results = 10;
  page->cursor = NULL;

  if (!kp_param_int (ctx, request, "MaxResults", FALSE, 1, 100, &page->max_results, error))
    return FALSE;
  if (!kp_param_string (ctx, request, "NextToken", FALSE, 1, 255, &token, error))
    return FALSE;
  if (token == NULL)
    return TRUE;

  /* base64("MAC|cursor") */
  decoded = g_base64_decode (token, &length);
  if (decoded != NULL)
    text = g_strndup ((const char *)decoded, length);
  bar = text != NULL ? strchr (text, '|') : NULL;
  if (bar != NULL && strlen (text) == length)
    mac = token_mac (ctx->db, operation, bar + 1);

  if (mac == NULL || (gsize)(bar - text) != strlen (mac) ||
      strncmp (text, mac, bar - text) != 0)
    return kp_api_fail (ctx, error, KP_API_ERROR_REQUEST, "ParameterValidation",
                        _("The NextToken is not valid for %s; use the one from the "
                          "previous response"), operation);

  page->cursor = g_strdup (bar + 1);
  return TRUE;
}

void
kp_page_finish (KpCtx       *ctx,
                JsonBuilder *response,
                const char  *operation,
                guint        num_results,
                const char  *next_cursor)
{
  if (next_cursor != NULL)
    {
      g_autofree char *mac = token_mac (ctx->db, operation, next_cursor);
      g_autofree char *text = g_strconcat (mac, "|", next_cursor, NULL);
      g_autofree char *token = g_base64_encode ((const guchar *)text, strlen (text));

      kp_json_add_string (response, "NextToken", token);
    }

  kp_json_add_int (response, "NumResults", num_results);
}

void
kp_page_clear (KpPage *page)
{
  g_clear_pointer (&page->cursor, g_free);
}

/* Output */

void
kp_json_add_string (JsonBuilder *builder,
                    const char  *name,
                    const char  *value)
{
  if (value == NULL)
    return;

  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, value);
}

void
kp_json_add_int (JsonBuilder *builder,
                 const char  *name,
                 gint64       value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

void
kp_json_add_bool (JsonBuilder *builder,
                  const char  *name,
                  gboolean     value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_boolean_value (builder, value);
}

char *
kp_money_to_string (gint64 cents)
{
  const char *sign = cents < 0 ? "-" : "";
  guint64 magnitude = cents < 0 ? -(guint64)cents : (guint64)cents;

  return g_strdup_printf ("%s%" PRIu64 ".%02u", sign,
                          magnitude / 100, (guint)(magnitude % 100));
}

void
kp_json_add_money (JsonBuilder *builder,
                   const char  *name,
                   gint64       cents)
{
  g_autofree char *text = kp_money_to_string (cents);

  kp_json_add_string (builder, name, text);
}

void
kp_json_add_timestamp (JsonBuilder *builder,
                       const char  *name,
                       gint64       epoch)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, epoch);
}

void
kp_json_add_raw (JsonBuilder *builder,
                 const char  *name,
                 const char  *json)
{
  g_autoptr(JsonNode) node = NULL;

  if (json == NULL)
    return;

  /* The usual case, without a parser. */
  if (g_str_equal (json, "[]"))
    {
      json_builder_set_member_name (builder, name);
      json_builder_begin_array (builder);
      json_builder_end_array (builder);
      return;
    }

  node = json_from_string (json, NULL);
  if (node == NULL)
    {
      g_warning ("Stored JSON for “%s” does not parse", name);
      return;
    }

  json_builder_set_member_name (builder, name);
  json_builder_add_value (builder, g_steal_pointer (&node));
}

/* Ids */

static char *
random_id (const char *prefix,
           guint       length)
{
  static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  GString *id = g_string_new (prefix);

  while (id->len < length)
    g_string_append_c (id, alphabet[g_random_int_range (0, sizeof alphabet - 1)]);

  return g_string_free (id, FALSE);
}

/* "3", then the time in milliseconds in base 36 (9 characters, so ids made
 * later sort later), then 20 random characters (about 103 bits). Ids made
 * close together land next to each other in the store's B-trees, so a
 * group of new assignments dirties a few pages instead of one each. */
char *
kp_api_new_id (void)
{
  static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
  guint64 ms = g_get_real_time () / 1000;
  char prefix[11];

  prefix[0] = '3';
  for (int i = 9; i >= 1; i--)
    {
      prefix[i] = digits[ms % 36];
      ms /= 36;
    }
  prefix[10] = '\0';

  return random_id (prefix, 30);
}

char *
kp_api_new_customer_id (void)
{
  return random_id ("A", 14);
}

char *
kp_api_sha256_hex (const char *text)
{
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, text, -1);
}
