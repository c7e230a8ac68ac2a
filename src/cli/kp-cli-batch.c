/* kp-cli-batch.c: kempelenctl batch create | status | results | approve |
 * expire
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A batch is a layout filled with each row of a CSV file, one HIT per row,
 * made through the MTurk Requester API of kempelen-server or MTurk itself.
 * It is recorded in a batch file (JSON, keyed by batch id): the rows, their
 * HIT ids, the HIT type. Creating is safe to repeat after a crash: each
 * HIT's UniqueRequestToken and RequesterAnnotation are derived from the
 * batch id and the row, the batch id from the layout, the data and the HIT
 * settings, so a second run finds the HITs of the first one (through the
 * batch file, the token, or the annotations of ListHITs) instead of making
 * them twice. docs/batches.md is the user's reference.
 */

#include "config.h"

#include "kp-cli-batch.h"
#include "kp-cli-batch-private.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "kp-core.h"
#include "kp-mturk-client.h"

#define EXIT_USAGE 2
#define BATCH_FILE_VERSION 1
#define SAVE_EVERY 25
#define ANNOTATION_PREFIX "kempelen-batch:"
#define CROWD_HTML_SCRIPT "https://assets.crowd.aws/crowd-html-elements.js"
#define MAX_BATCH_ID 40

/* Options every subcommand takes. */
static char *opt_batch_file;
static char *opt_endpoint;
static char *opt_profile;

static const GOptionEntry common_entries[] = {
  { "batch-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_batch_file,
    N_("The batch file (default: batches.json in the user’s data folder)"), N_("FILE") },
  { "endpoint", 0, 0, G_OPTION_ARG_STRING, &opt_endpoint,
    N_("The MTurk API endpoint, e.g. a kempelen-server URL (default: the batch’s, or "
       "$KEMPELEN_ENDPOINT; required to create a batch)"),
    N_("URL") },
  { "profile", 0, 0, G_OPTION_ARG_STRING, &opt_profile,
    N_("Take the credentials from this profile of ~/.aws/credentials instead of "
       "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"), N_("NAME") },
  { NULL }
};

/* Reporting */

int
kp_batch_fail (const GError *error)
{
  g_printerr ("kempelenctl: %s\n", error->message);
  return EXIT_FAILURE;
}

int
kp_batch_fail_message (const char *format,
                       ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_printerr ("kempelenctl: %s\n", message);
  return EXIT_FAILURE;
}

int
kp_batch_usage_error (const char *command,
                      const char *format,
                      ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_printerr ("kempelenctl: %s\n", message);
  g_printerr (_("Run “kempelenctl batch %s --help” to see its options.\n"), command);
  return EXIT_USAGE;
}

static GOptionContext *
new_context (const char         *command,
             const char         *parameters,
             const char         *summary,
             const GOptionEntry *entries)
{
  g_autofree char *prgname = g_strdup_printf ("kempelenctl batch %s", command);
  GOptionContext *context;

  g_set_prgname (prgname);
  context = g_option_context_new (parameters);
  g_option_context_set_summary (context, summary);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, common_entries, GETTEXT_PACKAGE);

  return context;
}

/* Parsing values */

/* "90", "90s", "30m", "2h", "3d", "1w" → seconds. */
static gboolean
parse_duration (const char *text,
                gint64     *seconds)
{
  char *end = NULL;
  guint64 value;
  guint64 unit = 1;

  if (text == NULL || !g_ascii_isdigit (text[0]))
    return FALSE;

  errno = 0;
  value = g_ascii_strtoull (text, &end, 10);
  if (errno != 0)
    return FALSE;

  if (g_str_equal (end, "") || g_str_equal (end, "s"))
    unit = 1;
  else if (g_str_equal (end, "m"))
    unit = 60;
  else if (g_str_equal (end, "h"))
    unit = 3600;
  else if (g_str_equal (end, "d"))
    unit = 86400;
  else if (g_str_equal (end, "w"))
    unit = 7 * 86400;
  else
    return FALSE;

  if (value > G_MAXINT64 / unit / 2)
    return FALSE;

  *seconds = (gint64)(value * unit);
  return TRUE;
}

/* Dollars with at most two decimals, as MTurk's Reward: "0.05", "1". */
static gboolean
check_reward (const char *text)
{
  g_autoptr(GRegex) regex = g_regex_new ("^[0-9]{1,6}(\\.[0-9]{1,2})?$", 0, 0, NULL);

  return text != NULL && g_regex_match (regex, text, 0, NULL);
}

static gboolean
check_batch_id (const char *id)
{
  gsize length = strlen (id);

  if (length == 0 || length > MAX_BATCH_ID)
    return FALSE;
  for (const char *p = id; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
      return FALSE;

  return TRUE;
}

static gboolean
parse_int64 (const char *text,
             gint64     *value)
{
  return g_ascii_string_to_signed (text, 10, G_MININT32, G_MAXINT32, value, NULL);
}

/* TYPEID:Comparator[:Value[,Value…]] → a QualificationRequirement. Values
 * are integers, or locales ("US", "US-NY") for the Locale comparators. */
static JsonObject *
parse_qualification (const char  *text,
                     GError     **error)
{
  static const char * const comparators[] = {
    "LessThan", "LessThanOrEqualTo", "GreaterThan", "GreaterThanOrEqualTo", "EqualTo",
    "NotEqualTo", "Exists", "DoesNotExist", "In", "NotIn", NULL
  };
  g_auto(GStrv) parts = g_strsplit (text, ":", 3);
  g_autoptr(JsonObject) requirement = json_object_new ();
  gboolean needs_value;

  if (g_strv_length (parts) < 2 || parts[0][0] == '\0' ||
      !g_strv_contains (comparators, parts[1]))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--qualification “%s” is not TYPEID:COMPARATOR[:VALUE], with COMPARATOR "
                     "one of LessThan, LessThanOrEqualTo, GreaterThan, GreaterThanOrEqualTo, "
                     "EqualTo, NotEqualTo, Exists, DoesNotExist, In, NotIn"), text);
      return NULL;
    }

  needs_value = !g_str_equal (parts[1], "Exists") && !g_str_equal (parts[1], "DoesNotExist");
  if (needs_value != (parts[2] != NULL && parts[2][0] != '\0'))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   needs_value ? _("--qualification “%s” needs a value")
                               : _("--qualification “%s” takes no value"), text);
      return NULL;
    }

  json_object_set_string_member (requirement, "QualificationTypeId", parts[0]);
  json_object_set_string_member (requirement, "Comparator", parts[1]);

  if (needs_value)
    {
      g_auto(GStrv) values = g_strsplit (parts[2], ",", -1);
      JsonArray *integers = json_array_new ();
      JsonArray *locales = json_array_new ();

      for (guint i = 0; values[i] != NULL; i++)
        {
          gint64 number;

          if (parse_int64 (values[i], &number))
            json_array_add_int_element (integers, number);
          else
            {
              g_auto(GStrv) locale = g_strsplit (values[i], "-", 2);
              JsonObject *object = json_object_new ();

              json_object_set_string_member (object, "Country", locale[0]);
              if (locale[1] != NULL)
                json_object_set_string_member (object, "Subdivision", locale[1]);
              json_array_add_object_element (locales, object);
            }
        }

      if (json_array_get_length (integers) > 0 && json_array_get_length (locales) > 0)
        {
          json_array_unref (integers);
          json_array_unref (locales);
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("--qualification “%s” mixes numbers and locales"), text);
          return NULL;
        }

      if (json_array_get_length (integers) > 0)
        {
          json_object_set_array_member (requirement, "IntegerValues", integers);
          json_array_unref (locales);
        }
      else
        {
          json_object_set_array_member (requirement, "LocaleValues", locales);
          json_array_unref (integers);
        }
    }

  return g_steal_pointer (&requirement);
}

/* JSON helpers */

const char *
kp_batch_get_string (JsonObject *object,
                     const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  if (node == NULL || JSON_NODE_TYPE (node) != JSON_NODE_VALUE ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

gint64
kp_batch_get_int (JsonObject *object,
                  const char *name)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  if (node == NULL || JSON_NODE_TYPE (node) != JSON_NODE_VALUE)
    return 0;
  if (json_node_get_value_type (node) == G_TYPE_DOUBLE)
    return (gint64)json_node_get_double (node);
  if (json_node_get_value_type (node) == G_TYPE_INT64)
    return json_node_get_int (node);

  return 0;
}

/* An AWS JSON timestamp (epoch seconds) as ISO 8601 UTC, or NULL. */
char *
kp_batch_dup_time (JsonObject *object,
                   const char *name)
{
  JsonNode *node = json_object_get_member (object, name);
  g_autoptr(GDateTime) time = NULL;

  if (node == NULL || JSON_NODE_TYPE (node) != JSON_NODE_VALUE ||
      (json_node_get_value_type (node) != G_TYPE_DOUBLE &&
       json_node_get_value_type (node) != G_TYPE_INT64))
    return NULL;

  time = g_date_time_new_from_unix_utc (kp_batch_get_int (object, name));
  return time != NULL ? g_date_time_format_iso8601 (time) : NULL;
}

/* The text of a scalar (strings as they are, numbers as JSON writes them)
 * or the JSON of anything else. */
char *
kp_batch_dup_node_text (JsonNode *node)
{
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return g_strdup ("");
  if (JSON_NODE_TYPE (node) == JSON_NODE_VALUE && json_node_get_value_type (node) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (node));

  return json_to_string (node, FALSE);
}

/* The batch file */


void
kp_batch_file_free (KpBatchFile *file)
{
  g_free (file->path);
  g_clear_pointer (&file->root, json_object_unref);
  g_free (file);
}


static char *
dup_default_batch_file (void)
{
  return g_build_filename (g_get_user_data_dir (), "kempelen", "batches.json", NULL);
}

static KpBatchFile *
batch_file_open (GError **error)
{
  g_autoptr(KpBatchFile) file = g_new0 (KpBatchFile, 1);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;

  file->path = opt_batch_file != NULL ? g_strdup (opt_batch_file) : dup_default_batch_file ();

  if (!json_parser_load_from_file (parser, file->path, &local_error))
    {
      if (!g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, _("Cannot read %s: %s"),
                       file->path, local_error->message);
          return NULL;
        }
      file->root = json_object_new ();
      json_object_set_int_member (file->root, "version", BATCH_FILE_VERSION);
      json_object_set_object_member (file->root, "batches", json_object_new ());
    }
  else
    {
      root = json_parser_get_root (parser);
      if (!JSON_NODE_HOLDS_OBJECT (root) ||
          json_object_get_member (json_node_get_object (root), "batches") == NULL ||
          !JSON_NODE_HOLDS_OBJECT (json_object_get_member (json_node_get_object (root),
                                                           "batches")))
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                       _("%s is not a batch file"), file->path);
          return NULL;
        }
      file->root = json_object_ref (json_node_get_object (root));
    }

  file->batches = json_object_get_object_member (file->root, "batches");
  return g_steal_pointer (&file);
}

/* Written whole into a temporary file and renamed, so a crash leaves the
 * old or the new file, never half of one. */
static gboolean
batch_file_save (KpBatchFile  *file,
                 GError    **error)
{
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *dir = g_path_get_dirname (file->path);
  g_autofree char *text = NULL;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   _("Cannot make the folder %s: %s"), dir, g_strerror (saved_errno));
      return FALSE;
    }

  json_node_set_object (node, file->root);
  text = json_to_string (node, TRUE);

  return g_file_set_contents_full (file->path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT,
                                   0600, error);
}

static gboolean
member_holds (JsonObject *object,
              const char *name,
              JsonNodeType type)
{
  JsonNode *node = json_object_get_member (object, name);

  return node != NULL && JSON_NODE_TYPE (node) == type;
}

static gboolean
array_holds_strings (JsonArray *array)
{
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *node = json_array_get_element (array, i);

      if (JSON_NODE_TYPE (node) != JSON_NODE_VALUE ||
          json_node_get_value_type (node) != G_TYPE_STRING)
        return FALSE;
    }

  return TRUE;
}

/* What the commands rely on, so that a batch file edited by hand gives an
 * error rather than a crash. */
static gboolean
batch_check (JsonObject  *batch,
             const char  *path,
             GError     **error)
{
  JsonArray *rows;
  gboolean valid;

  valid = kp_batch_get_string (batch, "id") != NULL &&
          member_holds (batch, "rows", JSON_NODE_ARRAY) &&
          member_holds (batch, "columns", JSON_NODE_ARRAY) &&
          array_holds_strings (json_object_get_array_member (batch, "columns"));

  if (valid && json_object_has_member (batch, "bounding_box"))
    {
      JsonObject *box;

      valid = member_holds (batch, "bounding_box", JSON_NODE_OBJECT);
      box = valid ? json_object_get_object_member (batch, "bounding_box") : NULL;
      valid = valid && kp_batch_get_string (box, "name") != NULL &&
              member_holds (box, "labels", JSON_NODE_ARRAY) &&
              array_holds_strings (json_object_get_array_member (box, "labels"));
    }

  rows = valid ? json_object_get_array_member (batch, "rows") : NULL;
  for (guint i = 0; valid && i < json_array_get_length (rows); i++)
    {
      JsonNode *node = json_array_get_element (rows, i);
      JsonObject *row;

      valid = JSON_NODE_HOLDS_OBJECT (node);
      row = valid ? json_node_get_object (node) : NULL;
      valid = valid && kp_batch_get_int (row, "row") == i + 1 &&
              member_holds (row, "input", JSON_NODE_OBJECT);
    }

  if (!valid)
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
                 _("The batch “%s” in %s is damaged"),
                 kp_batch_get_string (batch, "id") != NULL ? kp_batch_get_string (batch, "id") : "?",
                 path);

  return valid;
}

/* The batch id, or with id NULL the batch created last. */
static JsonObject *
batch_file_find (KpBatchFile   *file,
                 const char  *id,
                 GError     **error)
{
  g_autoptr(GList) members = NULL;
  JsonObject *latest = NULL;
  const char *latest_created = NULL;

  if (id != NULL)
    {
      JsonNode *node = json_object_get_member (file->batches, id);

      if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                       _("There is no batch “%s” in %s"), id, file->path);
          return NULL;
        }
      if (!batch_check (json_node_get_object (node), file->path, error))
        return NULL;
      return json_node_get_object (node);
    }

  members = json_object_get_values (file->batches);
  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonObject *batch;
      const char *created;

      if (!JSON_NODE_HOLDS_OBJECT (l->data))
        continue;
      batch = json_node_get_object (l->data);
      created = kp_batch_get_string (batch, "created");
      if (latest == NULL || (created != NULL && latest_created != NULL &&
                             strcmp (created, latest_created) > 0))
        {
          latest = batch;
          latest_created = created;
        }
    }

  if (latest == NULL)
    g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT, _("There is no batch in %s"),
                 file->path);
  else if (!batch_check (latest, file->path, error))
    return NULL;

  return latest;
}

/* The client for a batch (or for create, with batch NULL). */
static KpMturkClient *
new_client (JsonObject  *batch,
            GError     **error)
{
  g_autoptr(KpMturkCredentials) credentials = NULL;
  g_autoptr(KpMturkClient) client = NULL;
  const char *endpoint = opt_endpoint;
  const char *delay;

  if (endpoint == NULL && batch != NULL)
    endpoint = kp_batch_get_string (batch, "endpoint");
  if (endpoint == NULL)
    endpoint = g_getenv ("KEMPELEN_ENDPOINT");
  if (endpoint == NULL)
    {
      /* Never Amazon's production service by default: it spends real
       * money. */
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("No endpoint: give --endpoint URL (a kempelen-server, or %s for "
                     "Amazon’s MTurk, which spends real money) or set KEMPELEN_ENDPOINT"),
                   KP_MTURK_DEFAULT_ENDPOINT);
      return NULL;
    }

  {
    g_autoptr(GUri) uri = g_uri_parse (endpoint, G_URI_FLAGS_NONE, NULL);

    if (uri == NULL || g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0' ||
        (g_ascii_strcasecmp (g_uri_get_scheme (uri), "http") != 0 &&
         g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") != 0))
      {
        g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                     _("The endpoint “%s” is not an http:// or https:// URL"), endpoint);
        return NULL;
      }
  }

  credentials = kp_mturk_credentials_load (opt_profile, error);
  if (credentials == NULL)
    return NULL;

  client = kp_mturk_client_new (endpoint, credentials);

  /* For tests of the back-off: the first delay, in milliseconds. */
  delay = g_getenv ("KEMPELENCTL_RETRY_DELAY_MS");
  if (delay != NULL)
    kp_mturk_client_set_retries (client, 5, (guint)g_ascii_strtoull (delay, NULL, 10));

  return g_steal_pointer (&client);
}

/* Every page of a List… operation: the objects of member. */
static GPtrArray *
list_all (KpMturkClient  *client,
          const char     *operation,
          JsonObject     *request,
          const char     *member,
          GError        **error)
{
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify)json_object_unref);
  g_autofree char *next = NULL;

  do
    {
      g_autoptr(JsonObject) answer = NULL;
      JsonArray *array;

      json_object_set_int_member (request, "MaxResults", 100);
      if (next != NULL)
        json_object_set_string_member (request, "NextToken", next);
      else if (json_object_has_member (request, "NextToken"))
        json_object_remove_member (request, "NextToken");

      answer = kp_mturk_client_call (client, operation, request, error);
      if (answer == NULL)
        return NULL;

      array = json_object_has_member (answer, member)
              ? json_object_get_array_member (answer, member) : NULL;
      for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
        {
          JsonNode *node = json_array_get_element (array, i);

          if (JSON_NODE_HOLDS_OBJECT (node))
            g_ptr_array_add (items, json_object_ref (json_node_get_object (node)));
        }

      g_free (next);
      next = g_strdup (kp_batch_get_string (answer, "NextToken"));
      if (array == NULL || json_array_get_length (array) == 0)
        g_clear_pointer (&next, g_free);
    }
  while (next != NULL);

  return g_steal_pointer (&items);
}

/* create */

static void
print_problem (const char            *file,
               const KpLayoutProblem *problem)
{
  /* As kempelenctl layout check prints them. */
  g_printerr ("%s:%d:%d: %s: %s\n", file, MAX (problem->line, 1), MAX (problem->column, 1),
              problem->severity == KP_LAYOUT_SEVERITY_ERROR ? "error" : "warning",
              problem->message);
}

static JsonNode *
row_to_json (GHashTable *row)
{
  JsonObject *object = json_object_new ();
  JsonNode *node = json_node_init_object (json_node_alloc (), object);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, row);
  while (g_hash_table_iter_next (&iter, &key, &value))
    json_object_set_string_member (object, key, value);

  json_object_unref (object);
  return node;
}

/* CDATA cannot hold "]]>": split it across two sections. */
static void
append_cdata (GString    *out,
              const char *text)
{
  g_autofree char *escaped = NULL;
  g_auto(GStrv) parts = g_strsplit (text, "]]>", -1);

  escaped = g_strjoinv ("]]]]><![CDATA[>", parts);
  g_string_append (out, "<![CDATA[");
  g_string_append (out, escaped);
  g_string_append (out, "]]>");
}

static gboolean
has_prefix_ci (const char *text,
               const char *prefix)
{
  while (g_ascii_isspace (*text))
    text++;

  return g_ascii_strncasecmp (text, prefix, strlen (prefix)) == 0;
}

/* An HTML template as MTurk's HTMLQuestion: a whole document, with the
 * crowd-html-elements script MTurk's own batches add when the template
 * uses crowd elements. */
static char *
wrap_html_question (const char *html)
{
  GString *content = g_string_new (NULL);
  GString *out = g_string_new (NULL);
  gboolean crowd = strstr (html, "<crowd-") != NULL && strstr (html, CROWD_HTML_SCRIPT) == NULL;

  if (has_prefix_ci (html, "<!DOCTYPE") || has_prefix_ci (html, "<html"))
    g_string_append (content, html);
  else
    {
      g_string_append (content, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">");
      if (crowd)
        g_string_append (content, "<script src=\"" CROWD_HTML_SCRIPT "\"></script>");
      g_string_append (content, "</head><body>\n");
      g_string_append (content, html);
      g_string_append (content, "\n</body></html>\n");
    }

  g_string_append (out, "<HTMLQuestion xmlns=\"http://mechanicalturk.amazonaws.com/"
                        "AWSMechanicalTurkDataSchemas/2011-11-11/HTMLQuestion.xsd\">"
                        "<HTMLContent>");
  append_cdata (out, content->str);
  g_string_append (out, "</HTMLContent><FrameHeight>0</FrameHeight></HTMLQuestion>");

  g_string_free (content, TRUE);
  return g_string_free (out, FALSE);
}

typedef struct
{
  char     *question;
  char     *image;       /* the first crowd-bounding-box's src, or NULL */
} RowQuestion;

static void
row_question_free (RowQuestion *row)
{
  g_free (row->question);
  g_free (row->image);
  g_free (row);
}

typedef struct
{
  char       *name;
  JsonArray  *labels;
} BoxInfo;

static void
box_info_clear (BoxInfo *box)
{
  g_clear_pointer (&box->name, g_free);
  g_clear_pointer (&box->labels, json_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (BoxInfo, box_info_clear)

static const KpLayoutNode *
find_node (const KpLayoutNode *node,
           KpLayoutNodeKind    kind)
{
  if (node->kind == kind)
    return node;

  for (guint i = 0; i < node->children->len; i++)
    {
      const KpLayoutNode *found = find_node (g_ptr_array_index (node->children, i), kind);

      if (found != NULL)
        return found;
    }

  return NULL;
}

/* Adds the names answers are given under: each answerable element's
 * name (or a radio group's id, a QuestionForm question's identifier). */
static void
collect_element_names (KpLayout   *layout,
                       GHashTable *names,
                       JsonObject *categories)
{
  g_autoptr(GPtrArray) nodes = kp_layout_dup_answerable (layout, NULL);
  static const char * const attributes[] = { "name", "id", "identifier" };

  for (guint i = 0; i < nodes->len; i++)
    {
      const KpLayoutNode *node = g_ptr_array_index (nodes, i);
      const char * const *classes = kp_layout_node_get_strv (node, "categories");
      const char *element = kp_layout_node_get_attribute (node, "name");

      for (guint j = 0; j < G_N_ELEMENTS (attributes); j++)
        {
          const char *name = kp_layout_node_get_attribute (node, attributes[j]);

          if (name != NULL && name[0] != '\0')
            g_hash_table_add (names, g_strdup (name));
        }

      /* A classifier's classes, in order: the class ids of Ground Truth
       * manifests. */
      if (classes != NULL && element != NULL && element[0] != '\0')
        {
          JsonArray *array = json_array_new ();

          for (guint j = 0; classes[j] != NULL; j++)
            json_array_add_string_element (array, classes[j]);
          json_object_set_array_member (categories, element, array);
        }
    }
}

/* Renders row index of records into a Question; problems get what the
 * layout check finds. box (if not yet set) gets the bounding box's name
 * and labels; names (unless NULL) the names of the answerable elements. */
static RowQuestion *
render_row (const char  *layout_text,
            GPtrArray   *records,
            guint        index,
            GPtrArray   *problems,
            BoxInfo     *box,
            GHashTable  *names,
            JsonObject  *categories)
{
  g_autoptr(GHashTable) row = kp_template_csv_row (records, index);
  g_autofree char *filled = NULL;
  g_autofree char *rendered = NULL;
  g_autoptr(KpLayout) layout = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(KpQuestionInfo) info = NULL;
  RowQuestion *result;
  const KpLayoutNode *box_node;
  const char *text;

  filled = kp_template_fill_placeholders (layout_text, row, problems);
  text = filled;
  if (kp_template_has_liquid (text))
    {
      g_autoptr(JsonNode) input = row_to_json (row);

      rendered = kp_template_render_liquid (text, input, problems);
      text = rendered;
    }

  layout = kp_layout_new_from_data (text, -1, KP_LAYOUT_FORMAT_AUTO, &error);
  if (layout == NULL)
    {
      kp_layout_problems_add (problems, KP_LAYOUT_SEVERITY_ERROR, 0, 0, "%s", error->message);
      return NULL;
    }
  g_ptr_array_extend (problems, kp_layout_get_problems (layout),
                      (GCopyFunc)kp_layout_problem_copy, NULL);
  if (kp_layout_problems_has_errors (problems))
    return NULL;

  if (names != NULL)
    collect_element_names (layout, names, categories);

  result = g_new0 (RowQuestion, 1);
  result->question = kp_layout_get_format (layout) == KP_LAYOUT_FORMAT_QUESTION
                     ? g_strdup (text) : wrap_html_question (text);

  info = kp_question_parse (result->question, -1, &error);
  if (info == NULL)
    {
      kp_layout_problems_add (problems, KP_LAYOUT_SEVERITY_ERROR, 0, 0, "%s", error->message);
      row_question_free (result);
      return NULL;
    }

  box_node = find_node (kp_layout_get_root (layout), KP_LAYOUT_NODE_CROWD_BOUNDING_BOX);
  if (box_node != NULL)
    {
      const char * const *labels = kp_layout_node_get_strv (box_node, "labels");

      result->image = g_strdup (kp_layout_node_get_attribute (box_node, "src"));
      if (box->labels == NULL)
        {
          box->name = g_strdup (kp_layout_node_get_attribute (box_node, "name"));
          box->labels = json_array_new ();
          for (guint i = 0; labels != NULL && labels[i] != NULL; i++)
            json_array_add_string_element (box->labels, labels[i]);
        }
    }

  return result;
}

static char *
dup_annotation (const char *batch_id,
                guint       row)
{
  return g_strdup_printf (ANNOTATION_PREFIX "%s:%u", batch_id, row);
}

/* Finds HITs of the batch that exist but are missing from the batch file
 * (a crash between CreateHIT and saving) through their annotations. */
static gboolean
recover_hits (KpMturkClient  *client,
              JsonObject     *batch,
              guint          *n_recovered,
              GError        **error)
{
  g_autoptr(JsonObject) request = json_object_new ();
  g_autoptr(GPtrArray) hits = NULL;
  g_autoptr(GHashTable) by_annotation = g_hash_table_new (g_str_hash, g_str_equal);
  JsonArray *rows = json_object_get_array_member (batch, "rows");
  const char *batch_id = kp_batch_get_string (batch, "id");

  hits = list_all (client, "ListHITs", request, "HITs", error);
  if (hits == NULL)
    return FALSE;

  for (guint i = 0; i < hits->len; i++)
    {
      const char *annotation = kp_batch_get_string (hits->pdata[i], "RequesterAnnotation");

      if (annotation != NULL && g_str_has_prefix (annotation, ANNOTATION_PREFIX))
        g_hash_table_insert (by_annotation, (gpointer)annotation, hits->pdata[i]);
    }

  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *row = json_array_get_object_element (rows, i);
      g_autofree char *annotation = NULL;
      JsonObject *hit;

      if (kp_batch_get_string (row, "hit_id") != NULL)
        continue;

      annotation = dup_annotation (batch_id, (guint)kp_batch_get_int (row, "row"));
      hit = g_hash_table_lookup (by_annotation, annotation);
      if (hit != NULL)
        {
          json_object_set_string_member (row, "hit_id", kp_batch_get_string (hit, "HITId"));
          (*n_recovered)++;
        }
    }

  return TRUE;
}

static char *
dup_batch_fingerprint (const char  *endpoint,
                       const char  *layout,
                       const char  *csv,
                       const char  *title,
                       const char  *description,
                       const char  *keywords,
                       const char  *reward,
                       gint64       assignments,
                       gint64       lifetime,
                       gint64       duration,
                       gint64       auto_approval,
                       JsonArray   *qualifications,
                       const char  *gold)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(JsonNode) quals = json_node_init_array (json_node_alloc (), qualifications);
  g_autofree char *quals_text = json_to_string (quals, FALSE);
  g_autofree char *numbers = g_strdup_printf ("%" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                                              " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT,
                                              assignments, lifetime, duration, auto_approval);
  const char *parts[] = { endpoint, layout, csv, title, description, keywords != NULL ? keywords : "",
                          reward, numbers, quals_text };

  /* Each part with its length, so that no two inputs hash alike. A batch
   * without gold hashes as before gold existed. */
  for (guint i = 0; i < G_N_ELEMENTS (parts) + (gold != NULL ? 1 : 0); i++)
    {
      const char *part = i < G_N_ELEMENTS (parts) ? parts[i] : gold;
      g_autofree char *length = g_strdup_printf ("%zu:", strlen (part));

      g_checksum_update (checksum, (const guchar *)length, -1);
      g_checksum_update (checksum, (const guchar *)part, -1);
    }

  return g_strdup (g_checksum_get_string (checksum));
}

/* Gold questions (--gold gold.csv): rows with known answers, made HITs of
 * the batch with MTurk's ScoreMyKnownAnswers review policy. */

#define GOLD_POLICY "ScoreMyKnownAnswers/2011-09-01"
#define GOLD_ANSWER_PREFIX "answer."

typedef struct
{
  char      *path;
  GPtrArray *records;       /* GStrv, the header first */
  GPtrArray *questions;     /* RowQuestion *, one per gold row */
  GPtrArray *known;         /* JsonObject *, one per gold row: element → known answer */
  char      *fingerprint;   /* the file and the options, for the batch id */
  gint64     approve_at;    /* percentages, or -1 */
  gint64     reject_below;
  gint64     min_score;
  gint64     min_answers;   /* or 0 */
  char      *reject_reason;
} Gold;

static void
gold_free (Gold *gold)
{
  g_free (gold->path);
  g_clear_pointer (&gold->records, g_ptr_array_unref);
  g_clear_pointer (&gold->questions, g_ptr_array_unref);
  g_clear_pointer (&gold->known, g_ptr_array_unref);
  g_free (gold->fingerprint);
  g_free (gold->reject_reason);
  g_free (gold);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Gold, gold_free)

gboolean
kp_batch_row_is_gold (JsonObject *row)
{
  JsonNode *node = json_object_get_member (row, "gold");

  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
         json_node_get_value_type (node) == G_TYPE_BOOLEAN && json_node_get_boolean (node);
}

G_GNUC_PRINTF (3, 4)
static int
gold_error (const char *path,
            guint       line,
            const char *format,
            ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_printerr ("kempelenctl: %s:%u: %s\n", path, line, message);
  return EXIT_USAGE;
}

static int
compare_strings (const void *a,
                 const void *b)
{
  return strcmp (*(const char * const *)a, *(const char * const *)b);
}

static char *
dup_sorted_names (GHashTable *names)
{
  g_autofree gpointer *keys = g_hash_table_get_keys_as_array (names, NULL);

  qsort (keys, g_hash_table_size (names), sizeof (gpointer), compare_strings);
  return g_strjoinv (", ", (char **)keys);
}

/* Reads and checks gold.csv: the input's columns (header in input_header)
 * and answer.ELEMENT columns naming elements of the layout (names), JSON
 * values that parse; renders every gold row. Returns EXIT_SUCCESS, or the
 * exit status after printing the problem with its line. */
static int
gold_load (Gold        *gold,
           const char  *layout_path,
           const char  *layout_text,
           const char  *input_path,
           GStrv        input_header,
           GHashTable  *names,
           BoxInfo     *box)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GPtrArray) answer_columns = g_ptr_array_new ();
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree char *options = NULL;
  GStrv header;

  if (!g_file_get_contents (gold->path, &text, NULL, &error))
    return kp_batch_fail (error);
  gold->records = kp_template_parse_csv (text, -1, &error);
  if (gold->records == NULL)
    return gold_error (gold->path, 1, "%s", error->message);
  if (gold->records->len < 2)
    return gold_error (gold->path, 1, _("no gold rows under the header"));

  header = g_ptr_array_index (gold->records, 0);
  for (guint i = 0; header[i] != NULL; i++)
    {
      if (g_str_has_prefix (header[i], GOLD_ANSWER_PREFIX))
        {
          const char *element = header[i] + strlen (GOLD_ANSWER_PREFIX);

          if (!g_hash_table_contains (names, element))
            {
              g_autofree char *known = dup_sorted_names (names);

              return gold_error (gold->path, 1,
                                 _("the column “%s” names no element of the layout %s "
                                   "(its elements: %s)"),
                                 header[i], layout_path, known);
            }
          g_ptr_array_add (answer_columns, header[i]);
        }
      else if (!g_strv_contains ((const char * const *)input_header, header[i]))
        return gold_error (gold->path, 1,
                           _("the column “%s” is not a column of %s (known answers go in "
                             "answer.ELEMENT columns)"), header[i], input_path);
    }
  for (guint i = 0; input_header[i] != NULL; i++)
    if (!g_strv_contains ((const char * const *)header, input_header[i]))
      return gold_error (gold->path, 1, _("the column “%s” of %s is missing"),
                         input_header[i], input_path);
  if (answer_columns->len == 0)
    return gold_error (gold->path, 1,
                       _("no answer.ELEMENT column: give each gold row’s known answers"));

  gold->questions = g_ptr_array_new_with_free_func ((GDestroyNotify)row_question_free);
  gold->known = g_ptr_array_new_with_free_func ((GDestroyNotify)json_object_unref);
  for (guint i = 0; i + 1 < gold->records->len; i++)
    {
      g_autoptr(GHashTable) row = kp_template_csv_row (gold->records, i);
      g_autoptr(GPtrArray) problems = kp_layout_problems_new ();
      g_autoptr(JsonObject) known = json_object_new ();
      RowQuestion *question;
      guint line = i + 2;

      for (guint j = 0; j < answer_columns->len; j++)
        {
          const char *column = g_ptr_array_index (answer_columns, j);
          const char *value = g_hash_table_lookup (row, column);
          const char *start = value;

          if (value == NULL || value[0] == '\0')
            continue;
          while (g_ascii_isspace (*start))
            start++;
          if (*start == '{' || *start == '[')
            {
              g_autoptr(JsonParser) parser = json_parser_new ();

              if (!json_parser_load_from_data (parser, value, -1, &error))
                return gold_error (gold->path, line, _("%s is not valid JSON: %s"), column,
                                   error->message);
              json_object_set_member (known, column + strlen (GOLD_ANSWER_PREFIX),
                                      json_node_copy (json_parser_get_root (parser)));
            }
          else
            json_object_set_string_member (known, column + strlen (GOLD_ANSWER_PREFIX), value);
        }
      if (json_object_get_size (known) == 0)
        return gold_error (gold->path, line, _("the row has no known answer"));

      question = render_row (layout_text, gold->records, i, problems, box, NULL, NULL);
      if (question == NULL)
        {
          g_printerr (_("kempelenctl: Row %u of %s:\n"), i + 1, gold->path);
          for (guint j = 0; j < problems->len; j++)
            print_problem (layout_path, g_ptr_array_index (problems, j));
          return kp_batch_fail_message (_("The layout has errors; no HIT was created."));
        }
      g_ptr_array_add (gold->questions, question);
      g_ptr_array_add (gold->known, g_steal_pointer (&known));
    }

  options = g_strdup_printf ("%" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                             " %" G_GINT64_FORMAT " ", gold->approve_at, gold->reject_below,
                             gold->min_score, gold->min_answers);
  g_checksum_update (checksum, (const guchar *)text, -1);
  g_checksum_update (checksum, (const guchar *)options, -1);
  g_checksum_update (checksum, (const guchar *)(gold->reject_reason != NULL ? gold->reject_reason
                                                                             : ""), -1);
  gold->fingerprint = g_strdup (g_checksum_get_string (checksum));

  return EXIT_SUCCESS;
}

static void
add_policy_value (JsonArray  *parameters,
                  const char *key,
                  const char *value)
{
  JsonObject *parameter = json_object_new ();
  JsonArray *values = json_array_new ();

  json_object_set_string_member (parameter, "Key", key);
  json_array_add_string_element (values, value);
  json_object_set_array_member (parameter, "Values", values);
  json_array_add_object_element (parameters, parameter);
}

static void
add_policy_int (JsonArray  *parameters,
                const char *key,
                gint64      value)
{
  g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, value);

  add_policy_value (parameters, key, text);
}

/* The ScoreMyKnownAnswers policy of a gold row. */
static JsonObject *
new_gold_policy (JsonObject *batch,
                 JsonObject *row)
{
  JsonObject *gold = json_object_get_object_member (batch, "gold");
  JsonObject *known = json_object_get_object_member (row, "known");
  JsonObject *policy = json_object_new ();
  JsonArray *parameters = json_array_new ();
  JsonObject *answer_key = json_object_new ();
  JsonArray *entries = json_array_new ();
  g_autoptr(GList) elements = json_object_get_members (known);
  const char *qualification = kp_batch_get_string (gold, "qualification_type_id");

  for (GList *l = elements; l != NULL; l = l->next)
    {
      JsonObject *entry = json_object_new ();
      JsonArray *values = json_array_new ();
      g_autofree char *text = kp_batch_dup_node_text (json_object_get_member (known, l->data));

      /* A class label or text as it is, a shape's answer as its JSON. */
      json_object_set_string_member (entry, "Key", l->data);
      json_array_add_string_element (values, text);
      json_object_set_array_member (entry, "Values", values);
      json_array_add_object_element (entries, entry);
    }
  json_object_set_string_member (answer_key, "Key", "AnswerKey");
  json_object_set_array_member (answer_key, "MapEntries", entries);
  json_array_add_object_element (parameters, answer_key);

  if (json_object_has_member (gold, "approve_at"))
    add_policy_int (parameters, "ApproveIfKnownAnswerScoreIsAtLeast",
                    kp_batch_get_int (gold, "approve_at"));
  if (json_object_has_member (gold, "reject_below"))
    {
      add_policy_int (parameters, "RejectIfKnownAnswerScoreIsLessThan",
                      kp_batch_get_int (gold, "reject_below"));
      add_policy_value (parameters, "RejectReason", kp_batch_get_string (gold, "reject_reason"));
    }
  if (qualification != NULL)
    add_policy_value (parameters, "ScoreQualificationTypeId", qualification);
  if (json_object_has_member (gold, "min_score"))
    add_policy_int (parameters, "RevokeScoreIfLessThan", kp_batch_get_int (gold, "min_score"));
  if (json_object_has_member (gold, "min_answers"))
    add_policy_int (parameters, "MinimumKnownAnswers", kp_batch_get_int (gold, "min_answers"));

  json_object_set_string_member (policy, "PolicyName", GOLD_POLICY);
  json_object_set_array_member (policy, "Parameters", parameters);
  return policy;
}

/* The worker score's qualification type, "Gold score: BATCH": found by
 * its name among the requester's types, else created, AutoGranted with
 * 100. */
static char *
ensure_score_type (KpMturkClient  *client,
                   const char     *batch_id,
                   GError        **error)
{
  g_autofree char *name = g_strdup_printf ("Gold score: %s", batch_id);
  g_autofree char *description = NULL;
  g_autoptr(JsonObject) request = json_object_new ();
  g_autoptr(JsonObject) answer = NULL;
  g_autoptr(GPtrArray) types = NULL;
  JsonNode *type;

  json_object_set_string_member (request, "Query", name);
  json_object_set_boolean_member (request, "MustBeRequestable", FALSE);
  json_object_set_boolean_member (request, "MustBeOwnedByCaller", TRUE);
  types = list_all (client, "ListQualificationTypes", request, "QualificationTypes", error);
  if (types == NULL)
    return NULL;
  for (guint i = 0; i < types->len; i++)
    if (g_strcmp0 (kp_batch_get_string (types->pdata[i], "Name"), name) == 0 &&
        kp_batch_get_string (types->pdata[i], "QualificationTypeId") != NULL)
      return g_strdup (kp_batch_get_string (types->pdata[i], "QualificationTypeId"));

  /* Not translated: the name and description are the requester's data. */
  description = g_strdup_printf ("The share of correct answers to the gold questions of "
                                 "batch %s, in percent", batch_id);
  g_clear_pointer (&request, json_object_unref);
  request = json_object_new ();
  json_object_set_string_member (request, "Name", name);
  json_object_set_string_member (request, "Description", description);
  json_object_set_string_member (request, "QualificationTypeStatus", "Active");
  json_object_set_boolean_member (request, "AutoGranted", TRUE);
  json_object_set_int_member (request, "AutoGrantedValue", 100);
  answer = kp_mturk_client_call (client, "CreateQualificationType", request, error);
  if (answer == NULL)
    return NULL;
  type = json_object_get_member (answer, "QualificationType");
  if (type == NULL || !JSON_NODE_HOLDS_OBJECT (type) ||
      kp_batch_get_string (json_node_get_object (type), "QualificationTypeId") == NULL)
    {
      g_set_error (error, KP_MTURK_ERROR, KP_MTURK_ERROR_FAILED,
                   _("CreateQualificationType answered without a QualificationTypeId"));
      return NULL;
    }

  return g_strdup (kp_batch_get_string (json_node_get_object (type), "QualificationTypeId"));
}

/* The order HITs are made in: with gold rows, a shuffle (the same for a
 * given batch id, so that a resumed create does the same), so that gold
 * HITs are spread among the others. */
static GArray *
dup_creation_order (const char *batch_id,
                    guint       n_rows,
                    gboolean    shuffle)
{
  GArray *order = g_array_sized_new (FALSE, FALSE, sizeof (guint), n_rows);
  g_autoptr(GRand) rand = g_rand_new_with_seed (g_str_hash (batch_id));

  for (guint i = 0; i < n_rows; i++)
    g_array_append_val (order, i);
  for (guint i = n_rows; shuffle && i > 1; i--)
    {
      guint j = (guint)g_rand_int_range (rand, 0, (gint32)i);
      guint tmp = g_array_index (order, guint, i - 1);

      g_array_index (order, guint, i - 1) = g_array_index (order, guint, j);
      g_array_index (order, guint, j) = tmp;
    }

  return order;
}

static int
run_create (int    argc,
            char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *layout_path = NULL;
  g_autofree char *input_path = NULL;
  g_autofree char *title = NULL;
  g_autofree char *description = NULL;
  g_autofree char *keywords = NULL;
  g_autofree char *reward = NULL;
  g_autofree char *lifetime_text = NULL;
  g_autofree char *duration_text = NULL;
  g_autofree char *auto_approval_text = NULL;
  g_autofree char *batch_id = NULL;
  g_auto(GStrv) qualification_texts = NULL;
  g_autofree char *layout_text = NULL;
  g_autofree char *csv_text = NULL;
  g_autofree char *fingerprint = NULL;
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(GPtrArray) questions = NULL;
  g_autoptr(JsonArray) qualifications = json_array_new ();
  g_autoptr(KpBatchFile) file = NULL;
  g_autoptr(KpMturkClient) client = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_auto(BoxInfo) box = { NULL, NULL };
  g_autoptr(GHashTable) element_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(JsonObject) categories = json_object_new ();
  g_autoptr(Gold) gold = NULL;
  g_autofree char *gold_path = NULL;
  g_autofree char *gold_reject_reason = NULL;
  g_autoptr(GArray) order = NULL;
  gint64 gold_approve_at = -1, gold_reject_below = -1, gold_min_score = -1, gold_min_answers = 0;
  guint n_gold = 0;
  const char *endpoint;
  JsonObject *batch;
  JsonArray *rows;
  gint64 assignments = 1;
  gint64 lifetime = 0, duration = 0, auto_approval = 3 * 86400;
  gboolean json = FALSE;
  gboolean quiet = FALSE;
  guint n_created = 0, n_existing = 0, n_recovered = 0, since_save = 0;
  guint n_rows;
  gboolean any_error = FALSE;
  int status = EXIT_SUCCESS;
  const GOptionEntry entries[] = {
    { "layout", 'l', 0, G_OPTION_ARG_FILENAME, &layout_path,
      N_("The HIT layout: a crowd-html template, or MTurk question XML (QuestionForm, "
         "HTMLQuestion, ExternalQuestion)"),
      N_("TEMPLATE") },
    { "input", 'i', 0, G_OPTION_ARG_FILENAME, &input_path,
      N_("The CSV file: a header of column names, then one HIT per row"), N_("ROWS.csv") },
    { "title", 0, 0, G_OPTION_ARG_STRING, &title, N_("The HITs’ title"), N_("TEXT") },
    { "description", 0, 0, G_OPTION_ARG_STRING, &description,
      N_("The HITs’ description (default: the title)"), N_("TEXT") },
    { "keywords", 0, 0, G_OPTION_ARG_STRING, &keywords,
      N_("Comma-separated keywords"), N_("WORDS") },
    { "reward", 0, 0, G_OPTION_ARG_STRING, &reward,
      N_("The reward per assignment in US dollars, e.g. 0.05"), N_("DOLLARS") },
    { "assignments", 0, 0, G_OPTION_ARG_INT64, &assignments,
      N_("Assignments (different workers) per HIT (default 1)"), N_("N") },
    { "lifetime", 0, 0, G_OPTION_ARG_STRING, &lifetime_text,
      N_("How long the HITs can be accepted, e.g. 3d, 12h"), N_("DURATION") },
    { "duration", 0, 0, G_OPTION_ARG_STRING, &duration_text,
      N_("How long a worker has for one assignment, e.g. 30m"), N_("DURATION") },
    { "auto-approval", 0, 0, G_OPTION_ARG_STRING, &auto_approval_text,
      N_("Approve submitted work by itself after this delay (default 3d)"), N_("DURATION") },
    { "qualification", 'q', 0, G_OPTION_ARG_STRING_ARRAY, &qualification_texts,
      N_("A qualification requirement, e.g. 000000000000000000L0:GreaterThanOrEqualTo:95 or "
         "00000000000000000071:In:US,CA (repeatable)"), N_("TYPEID:COMPARATOR[:VALUE]") },
    { "batch", 0, 0, G_OPTION_ARG_STRING, &batch_id,
      N_("Name the batch (letters, digits, - and _); by default the id is derived from the "
         "layout, the data and the settings, so that a repeated command resumes"), N_("ID") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the batch as JSON"), NULL },
    { "quiet", 0, 0, G_OPTION_ARG_NONE, &quiet, N_("Print only the batch id"), NULL },
    { "gold", 0, 0, G_OPTION_ARG_FILENAME, &gold_path,
      N_("Gold questions: a CSV file of the input’s columns plus answer.ELEMENT columns of "
         "known answers; each row becomes a HIT, shuffled among the others, that scores the "
         "workers"), N_("GOLD.csv") },
    { "gold-approve-at", 0, 0, G_OPTION_ARG_INT64, &gold_approve_at,
      N_("Approve a gold HIT’s assignment that scores at least PCT percent"), N_("PCT") },
    { "gold-reject-below", 0, 0, G_OPTION_ARG_INT64, &gold_reject_below,
      N_("Reject a gold HIT’s assignment that scores less than PCT percent"), N_("PCT") },
    { "gold-reject-reason", 0, 0, G_OPTION_ARG_STRING, &gold_reject_reason,
      N_("The reason sent with such a rejection"), N_("TEXT") },
    { "gold-min-score", 0, 0, G_OPTION_ARG_INT64, &gold_min_score,
      N_("Keep workers whose score on gold questions falls below PCT percent from taking "
         "more of the batch"), N_("PCT") },
    { "gold-min-answers", 0, 0, G_OPTION_ARG_INT64, &gold_min_answers,
      N_("Gold answers a worker gives before --gold-min-score applies (default 3)"), N_("N") },
    { NULL }
  };

  context = new_context ("create", NULL,
                         _("Makes one HIT per row of a CSV file, the layout filled with the "
                           "row’s ${column} placeholders, and records the batch. Running it "
                           "again after a failure creates only the HITs that are missing."),
                         entries);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return kp_batch_usage_error ("create", "%s", error->message);
  if (argc > 1)
    return kp_batch_usage_error ("create", _("Unexpected argument “%s”"), argv[1]);

  if (layout_path == NULL)
    return kp_batch_usage_error ("create", _("Which layout? Give it with --layout TEMPLATE"));
  if (input_path == NULL)
    return kp_batch_usage_error ("create", _("Which rows? Give the CSV file with --input ROWS.csv"));
  if (title == NULL || title[0] == '\0')
    return kp_batch_usage_error ("create", _("Give the HITs a --title"));
  if (reward == NULL)
    return kp_batch_usage_error ("create", _("How much per assignment? Give it with --reward DOLLARS"));
  if (!check_reward (reward))
    return kp_batch_usage_error ("create", _("--reward “%s” is not an amount of dollars like 0.05"),
                                 reward);
  if (assignments < 1 || assignments > 1000000000)
    return kp_batch_usage_error ("create", _("--assignments must be at least 1"));
  if (lifetime_text == NULL || !parse_duration (lifetime_text, &lifetime) || lifetime <= 0)
    return kp_batch_usage_error ("create", _("Give --lifetime as a duration such as 3d, 12h or 90m"));
  if (duration_text == NULL || !parse_duration (duration_text, &duration) || duration <= 0)
    return kp_batch_usage_error ("create", _("Give --duration as a duration such as 30m or 1h"));
  if (auto_approval_text != NULL && !parse_duration (auto_approval_text, &auto_approval))
    return kp_batch_usage_error ("create", _("Give --auto-approval as a duration such as 3d"));
  if (batch_id != NULL && !check_batch_id (batch_id))
    return kp_batch_usage_error ("create", _("--batch takes 1 to %d letters, digits, - and _"),
                                 MAX_BATCH_ID);
  {
    const struct { const char *name; gint64 value; } percentages[] = {
      { "--gold-approve-at", gold_approve_at }, { "--gold-reject-below", gold_reject_below },
      { "--gold-min-score", gold_min_score },
    };

    for (guint i = 0; i < G_N_ELEMENTS (percentages); i++)
      {
        if (percentages[i].value != -1 && gold_path == NULL)
          return kp_batch_usage_error ("create", _("%s needs --gold GOLD.csv"),
                                       percentages[i].name);
        if (percentages[i].value < -1 || percentages[i].value > 100)
          return kp_batch_usage_error ("create", _("%s takes a percentage from 0 to 100"),
                                       percentages[i].name);
      }
    if (gold_min_answers < 0 || gold_min_answers > 1000)
      return kp_batch_usage_error ("create", _("--gold-min-answers takes 0 to 1000"));
    if ((gold_min_answers > 0 || gold_reject_reason != NULL) && gold_path == NULL)
      return kp_batch_usage_error ("create", _("--gold-min-answers and --gold-reject-reason "
                                               "need --gold GOLD.csv"));
  }

  for (guint i = 0; qualification_texts != NULL && qualification_texts[i] != NULL; i++)
    {
      JsonObject *requirement = parse_qualification (qualification_texts[i], &error);

      if (requirement == NULL)
        return kp_batch_usage_error ("create", "%s", error->message);
      json_array_add_object_element (qualifications, requirement);
    }

  if (description == NULL)
    description = g_strdup (title);

  /* The layout and the rows. */
  if (!g_file_get_contents (layout_path, &layout_text, NULL, &error) ||
      !g_file_get_contents (input_path, &csv_text, NULL, &error))
    return kp_batch_fail (error);
  if (!g_utf8_validate (layout_text, -1, NULL))
    return kp_batch_fail_message (_("%s is not UTF-8 text"), layout_path);

  records = kp_template_parse_csv (csv_text, -1, &error);
  if (records == NULL)
    return kp_batch_fail_message ("%s: %s", input_path, error->message);
  if (records->len < 2)
    return kp_batch_fail_message (_("%s has no rows under its header"), input_path);
  n_rows = records->len - 1;

  /* Check every row's HIT before making any. */
  questions = g_ptr_array_new_with_free_func ((GDestroyNotify)row_question_free);
  for (guint i = 0; i < n_rows; i++)
    {
      g_autoptr(GPtrArray) problems = kp_layout_problems_new ();
      RowQuestion *question = render_row (layout_text, records, i, problems, &box,
                                          i == 0 ? element_names : NULL, categories);
      gboolean has_errors = kp_layout_problems_has_errors (problems);

      if (has_errors || (i == 0 && !quiet && problems->len > 0))
        {
          if (has_errors)
            g_printerr (_("kempelenctl: Row %u of %s:\n"), i + 1, input_path);
          for (guint j = 0; j < problems->len; j++)
            print_problem (layout_path, g_ptr_array_index (problems, j));
        }
      if (has_errors)
        {
          any_error = TRUE;
          continue;
        }
      g_ptr_array_add (questions, question);
    }
  if (any_error)
    {
      return kp_batch_fail_message (_("The layout has errors; no HIT was created."));
    }

  if (gold_path != NULL)
    {
      gold = g_new0 (Gold, 1);
      gold->path = g_strdup (gold_path);
      gold->approve_at = gold_approve_at;
      gold->reject_below = gold_reject_below;
      gold->min_score = gold_min_score;
      gold->min_answers = gold_min_answers;
      gold->reject_reason = g_strdup (gold_reject_reason);
      status = gold_load (gold, layout_path, layout_text, input_path,
                          g_ptr_array_index (records, 0), element_names, &box);
      if (status != EXIT_SUCCESS)
        return status;
      n_gold = gold->questions->len;
      g_ptr_array_extend_and_steal (questions, g_steal_pointer (&gold->questions));
    }

  endpoint = opt_endpoint != NULL ? opt_endpoint : g_getenv ("KEMPELEN_ENDPOINT");
  if (endpoint == NULL)
    return kp_batch_fail_message (_("No endpoint: give --endpoint URL (a kempelen-server, or "
                                    "https://mturk-requester.us-east-1.amazonaws.com for Amazon’s MTurk, "
                                    "which spends real money) or set KEMPELEN_ENDPOINT"));
  fingerprint = dup_batch_fingerprint (endpoint, layout_text, csv_text, title, description,
                                       keywords, reward, assignments, lifetime, duration,
                                       auto_approval, qualifications,
                                       gold != NULL ? gold->fingerprint : NULL);
  if (batch_id == NULL)
    batch_id = g_strndup (fingerprint, 16);

  client = new_client (NULL, &error);
  if (client == NULL)
    {
      return kp_batch_fail (error);
    }

  file = batch_file_open (&error);
  if (file == NULL)
    return kp_batch_fail (error);

  batch = NULL;
  if (json_object_has_member (file->batches, batch_id))
    {
      batch = batch_file_find (file, batch_id, &error);
      if (batch == NULL)
        {
          return kp_batch_fail (error);
        }
    }
  if (batch != NULL)
    {
      if (g_strcmp0 (kp_batch_get_string (batch, "fingerprint"), fingerprint) != 0)
        {
          return kp_batch_fail_message (_("The batch “%s” already exists with another layout, other rows "
                                          "or other settings; give another --batch"), batch_id);
        }
    }
  else
    {
      g_autofree char *created = g_date_time_format_iso8601 (now);
      JsonArray *columns = json_array_new ();
      GStrv header = g_ptr_array_index (records, 0);

      batch = json_object_new ();
      json_object_set_string_member (batch, "id", batch_id);
      json_object_set_string_member (batch, "fingerprint", fingerprint);
      json_object_set_string_member (batch, "created", created);
      json_object_set_string_member (batch, "endpoint", endpoint);
      json_object_set_string_member (batch, "layout", layout_path);
      json_object_set_string_member (batch, "input", input_path);
      json_object_set_string_member (batch, "title", title);
      json_object_set_string_member (batch, "reward", reward);
      json_object_set_int_member (batch, "assignments", assignments);
      json_object_set_int_member (batch, "lifetime", lifetime);
      json_object_set_int_member (batch, "duration", duration);
      json_object_set_null_member (batch, "hit_type_id");
      for (guint i = 0; header[i] != NULL; i++)
        json_array_add_string_element (columns, header[i]);
      json_object_set_array_member (batch, "columns", columns);
      if (json_object_get_size (categories) > 0)
        json_object_set_object_member (batch, "categories", json_object_ref (categories));

      if (box.name != NULL)
        {
          JsonObject *box_object = json_object_new ();

          json_object_set_string_member (box_object, "name", box.name);
          json_object_set_array_member (box_object, "labels", g_steal_pointer (&box.labels));
          json_object_set_object_member (batch, "bounding_box", box_object);
          g_clear_pointer (&box.name, g_free);
        }
      else
        g_clear_pointer (&box.labels, json_array_unref);

      rows = json_array_new ();
      for (guint i = 0; i < n_rows; i++)
        {
          g_autoptr(GHashTable) row = kp_template_csv_row (records, i);
          RowQuestion *question = g_ptr_array_index (questions, i);
          JsonObject *row_object = json_object_new ();

          json_object_set_int_member (row_object, "row", i + 1);
          json_object_set_member (row_object, "input", row_to_json (row));
          json_object_set_null_member (row_object, "hit_id");
          if (question->image != NULL)
            json_object_set_string_member (row_object, "image", question->image);
          json_array_add_object_element (rows, row_object);
        }
      for (guint i = 0; i < n_gold; i++)
        {
          g_autoptr(GHashTable) row = kp_template_csv_row (gold->records, i);
          RowQuestion *question = g_ptr_array_index (questions, n_rows + i);
          JsonObject *row_object = json_object_new ();
          JsonObject *input = json_object_new ();

          for (guint j = 0; header[j] != NULL; j++)
            json_object_set_string_member (input, header[j], g_hash_table_lookup (row, header[j]));
          json_object_set_int_member (row_object, "row", n_rows + i + 1);
          json_object_set_object_member (row_object, "input", input);
          json_object_set_null_member (row_object, "hit_id");
          if (question->image != NULL)
            json_object_set_string_member (row_object, "image", question->image);
          json_object_set_boolean_member (row_object, "gold", TRUE);
          json_object_set_int_member (row_object, "gold_line", i + 2);
          json_object_set_object_member (row_object, "known",
                                         json_object_ref (g_ptr_array_index (gold->known, i)));
          json_array_add_object_element (rows, row_object);
        }
      json_object_set_array_member (batch, "rows", rows);
      if (gold != NULL)
        {
          JsonObject *gold_object = json_object_new ();

          json_object_set_string_member (gold_object, "file", gold->path);
          json_object_set_int_member (gold_object, "rows", n_gold);
          if (gold->approve_at >= 0)
            json_object_set_int_member (gold_object, "approve_at", gold->approve_at);
          if (gold->reject_below >= 0)
            {
              json_object_set_int_member (gold_object, "reject_below", gold->reject_below);
              json_object_set_string_member (gold_object, "reject_reason",
                                             gold->reject_reason != NULL
                                             ? gold->reject_reason
                                             : _("Too many answers to questions with known "
                                                 "answers were wrong."));
            }
          if (gold->min_score >= 0)
            json_object_set_int_member (gold_object, "min_score", gold->min_score);
          if (gold->min_answers > 0)
            json_object_set_int_member (gold_object, "min_answers", gold->min_answers);
          json_object_set_null_member (gold_object, "qualification_type_id");
          json_object_set_object_member (batch, "gold", gold_object);
        }
      json_object_set_object_member (file->batches, batch_id, batch);

      /* Recorded before any HIT exists, so that a crash can be resumed. */
      if (!batch_file_save (file, &error))
        return kp_batch_fail (error);
    }

  rows = json_object_get_array_member (batch, "rows");

  if (gold != NULL &&
      kp_batch_get_string (json_object_get_object_member (batch, "gold"),
                           "qualification_type_id") == NULL)
    {
      g_autofree char *type_id = ensure_score_type (client, batch_id, &error);

      if (type_id == NULL)
        return kp_batch_fail (error);
      json_object_set_string_member (json_object_get_object_member (batch, "gold"),
                                     "qualification_type_id", type_id);
      if (!batch_file_save (file, &error))
        return kp_batch_fail (error);
    }

  if (kp_batch_get_string (batch, "hit_type_id") == NULL)
    {
      g_autoptr(JsonObject) request = json_object_new ();
      g_autoptr(JsonObject) answer = NULL;

      json_object_set_string_member (request, "Title", title);
      json_object_set_string_member (request, "Description", description);
      json_object_set_string_member (request, "Reward", reward);
      json_object_set_int_member (request, "AssignmentDurationInSeconds", duration);
      json_object_set_int_member (request, "AutoApprovalDelayInSeconds", auto_approval);
      if (keywords != NULL)
        json_object_set_string_member (request, "Keywords", keywords);
      if (gold != NULL && gold->min_score >= 0)
        {
          JsonObject *requirement = json_object_new ();
          JsonArray *values = json_array_new ();

          json_object_set_string_member (requirement, "QualificationTypeId",
                                         kp_batch_get_string (json_object_get_object_member (batch,
                                                                                             "gold"),
                                                              "qualification_type_id"));
          json_object_set_string_member (requirement, "Comparator", "GreaterThanOrEqualTo");
          json_array_add_int_element (values, gold->min_score);
          json_object_set_array_member (requirement, "IntegerValues", values);
          json_array_add_object_element (qualifications, requirement);
        }
      if (json_array_get_length (qualifications) > 0)
        json_object_set_array_member (request, "QualificationRequirements",
                                      json_array_ref (qualifications));

      answer = kp_mturk_client_call (client, "CreateHITType", request, &error);
      if (answer == NULL || kp_batch_get_string (answer, "HITTypeId") == NULL)
        return error != NULL ? kp_batch_fail (error)
                             : kp_batch_fail_message (_("CreateHITType answered without a HITTypeId"));
      json_object_set_string_member (batch, "hit_type_id", kp_batch_get_string (answer, "HITTypeId"));
      if (!batch_file_save (file, &error))
        return kp_batch_fail (error);
    }
  else
    {
      /* A resumed batch: HITs made just before a crash are found by their
       * annotations, whatever the age of their UniqueRequestToken. */
      for (guint i = 0; i < json_array_get_length (rows); i++)
        if (kp_batch_get_string (json_array_get_object_element (rows, i), "hit_id") == NULL)
          {
            if (!recover_hits (client, batch, &n_recovered, &error))
              return kp_batch_fail (error);
            break;
          }
    }

  order = dup_creation_order (batch_id, json_array_get_length (rows), n_gold > 0);
  for (guint k = 0; k < order->len; k++)
    {
      JsonObject *row = json_array_get_object_element (rows, g_array_index (order, guint, k));
      g_autoptr(JsonObject) request = NULL;
      g_autoptr(JsonObject) answer = NULL;
      g_autoptr(GError) local_error = NULL;
      g_autofree char *annotation = NULL;
      g_autofree char *token = NULL;
      RowQuestion *question;
      guint row_number = (guint)kp_batch_get_int (row, "row");

      if (kp_batch_get_string (row, "hit_id") != NULL)
        {
          n_existing++;
          continue;
        }

      g_assert (row_number >= 1 && row_number <= questions->len);
      question = g_ptr_array_index (questions, row_number - 1);
      annotation = dup_annotation (batch_id, row_number);
      token = g_strdup_printf ("kp-%s-%u", batch_id, row_number);

      request = json_object_new ();
      json_object_set_string_member (request, "HITTypeId", kp_batch_get_string (batch, "hit_type_id"));
      json_object_set_int_member (request, "MaxAssignments", assignments);
      json_object_set_int_member (request, "LifetimeInSeconds", lifetime);
      json_object_set_string_member (request, "Question", question->question);
      json_object_set_string_member (request, "RequesterAnnotation", annotation);
      json_object_set_string_member (request, "UniqueRequestToken", token);
      if (kp_batch_row_is_gold (row))
        json_object_set_object_member (request, "AssignmentReviewPolicy",
                                       new_gold_policy (batch, row));

      answer = kp_mturk_client_call (client, "CreateHITWithHITType", request, &local_error);
      if (answer == NULL &&
          g_error_matches (local_error, KP_MTURK_ERROR, KP_MTURK_ERROR_ALREADY_EXISTS))
        {
          /* Made by an earlier run whose batch file was not saved. */
          g_clear_error (&local_error);
          if (recover_hits (client, batch, &n_recovered, &local_error))
            {
              if (kp_batch_get_string (row, "hit_id") != NULL)
                continue;
              g_set_error (&local_error, KP_MTURK_ERROR, KP_MTURK_ERROR_FAILED,
                           _("Row %u’s HIT exists (its UniqueRequestToken was used) but cannot "
                             "be found by its annotation"), row_number);
            }
        }
      if (answer == NULL)
        {
          g_autoptr(GError) save_error = NULL;

          if (!batch_file_save (file, &save_error))
            g_printerr ("kempelenctl: %s\n", save_error->message);
          g_printerr (_("kempelenctl: Row %u: %s\n"), row_number, local_error->message);
          g_printerr (_("kempelenctl: %u HITs of batch %s were created; run the same command "
                        "again to create the rest.\n"), n_created + n_existing,
                      batch_id);
          return EXIT_FAILURE;
        }

      {
        JsonNode *hit = json_object_get_member (answer, "HIT");
        const char *hit_id = hit != NULL && JSON_NODE_HOLDS_OBJECT (hit)
                             ? kp_batch_get_string (json_node_get_object (hit), "HITId") : NULL;

        if (hit_id == NULL)
          return kp_batch_fail_message (_("CreateHITWithHITType answered without a HITId"));
        json_object_set_string_member (row, "hit_id", hit_id);
      }
      n_created++;

      if (++since_save >= SAVE_EVERY)
        {
          since_save = 0;
          if (!batch_file_save (file, &error))
            return kp_batch_fail (error);
        }
    }

  if (!batch_file_save (file, &error))
    return kp_batch_fail (error);

  if (json)
    {
      g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
      g_autofree char *text = NULL;
      JsonObject *summary = json_object_new ();

      json_object_set_string_member (summary, "BatchId", batch_id);
      json_object_set_string_member (summary, "HITTypeId", kp_batch_get_string (batch, "hit_type_id"));
      json_object_set_int_member (summary, "HITs", json_array_get_length (rows));
      json_object_set_int_member (summary, "GoldHITs", n_gold);
      json_object_set_int_member (summary, "Created", n_created);
      json_object_set_int_member (summary, "AlreadyCreated", json_array_get_length (rows) - n_created);
      json_object_set_string_member (summary, "KpBatchFile", file->path);
      json_node_take_object (node, summary);
      text = json_to_string (node, TRUE);
      g_print ("%s\n", text);
    }
  else if (quiet)
    g_print ("%s\n", batch_id);
  else
    {
      g_print (_("Batch:      %s\n"), batch_id);
      g_print (_("HIT type:   %s\n"), kp_batch_get_string (batch, "hit_type_id"));
      g_print (_("HITs:       %u (%u created now, %u already)\n"), json_array_get_length (rows),
               n_created, json_array_get_length (rows) - n_created);
      if (n_gold > 0)
        g_print (_("Gold HITs:  %u\n"), n_gold);
      g_print (_("Batch file: %s\n"), file->path);
    }

  return status;
}

/* Assignments of a batch */


void
kp_batch_work_free (KpBatchWork *work)
{
  json_object_unref (work->assignment);
  g_clear_pointer (&work->answer, json_node_unref);
  g_free (work);
}

/* QuestionFormAnswers XML as JSON, as the core reads it for the server
 * and the review desk (kp_answer_object_from_xml ()): a crowd-form's
 * answer as its object, as MTurk's crowd elements produce it; otherwise an
 * object of QuestionIdentifier → FreeText, SelectionIdentifier or
 * UploadedFileKey. */
static JsonNode *
answer_to_json (const char  *xml,
                GError     **error)
{
  g_autoptr(JsonObject) object = NULL;

  if (xml == NULL || xml[0] == '\0')
    object = json_object_new ();
  else
    object = kp_answer_object_from_xml (xml, error);
  if (object == NULL)
    return NULL;

  return json_node_init_object (json_node_alloc (), object);
}

/* Every Submitted, Approved and Rejected assignment of the batch's HITs. */
GPtrArray *
kp_batch_list_work (KpMturkClient  *client,
                    JsonObject     *batch,
                    GError        **error)
{
  g_autoptr(GPtrArray) works = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_batch_work_free);
  JsonArray *rows = json_object_get_array_member (batch, "rows");

  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *row = json_array_get_object_element (rows, i);
      g_autoptr(JsonObject) request = json_object_new ();
      g_autoptr(GPtrArray) assignments = NULL;
      const char *hit_id = kp_batch_get_string (row, "hit_id");
      JsonArray *statuses = json_array_new ();

      if (hit_id == NULL)
        {
          json_array_unref (statuses);
          continue;
        }

      json_object_set_string_member (request, "HITId", hit_id);
      json_array_add_string_element (statuses, "Submitted");
      json_array_add_string_element (statuses, "Approved");
      json_array_add_string_element (statuses, "Rejected");
      json_object_set_array_member (request, "AssignmentStatuses", statuses);

      assignments = list_all (client, "ListAssignmentsForHIT", request, "Assignments", error);
      if (assignments == NULL)
        return NULL;

      for (guint j = 0; j < assignments->len; j++)
        {
          g_autoptr(GError) local_error = NULL;
          KpBatchWork *work = g_new0 (KpBatchWork, 1);

          work->row = row;
          work->assignment = json_object_ref (assignments->pdata[j]);
          work->answer = answer_to_json (kp_batch_get_string (work->assignment, "Answer"),
                                         &local_error);
          if (work->answer == NULL)
            {
              g_set_error (error, KP_MTURK_ERROR, KP_MTURK_ERROR_FAILED,
                           _("The answer of assignment %s cannot be read: %s"),
                           kp_batch_get_string (work->assignment, "AssignmentId"),
                           local_error->message);
              kp_batch_work_free (work);
              return NULL;
            }
          g_ptr_array_add (works, work);
        }
    }

  return g_steal_pointer (&works);
}

/* The filter language of approve --where (docs/batches.md):
 *
 *   EXPR  := TERM ( "and" TERM )*
 *   TERM  := FIELD OP VALUE
 *   FIELD := worker | row | answer.PATH | input.COLUMN
 *   OP    := = | == | != | < | <= | > | >=
 *   VALUE := 'text' | "text" | a word or number
 *
 * PATH is dotted member names (numbers index arrays). A field that is
 * absent makes its term false. = and != compare numbers as numbers when
 * both sides are numbers, else text; < <= > >= need numbers. */

typedef enum
{
  OP_EQ,
  OP_NE,
  OP_LT,
  OP_LE,
  OP_GT,
  OP_GE,
} FilterOp;

typedef struct
{
  char     *field;
  FilterOp  op;
  char     *value;
} FilterTerm;

static void
filter_term_free (FilterTerm *term)
{
  g_free (term->field);
  g_free (term->value);
  g_free (term);
}

/* Splits into words, keeping quoted text (quotes removed) as one. */
static GPtrArray *
tokenize (const char  *text,
          GError     **error)
{
  g_autoptr(GPtrArray) tokens = g_ptr_array_new_with_free_func (g_free);
  const char *p = text;

  while (*p != '\0')
    {
      if (g_ascii_isspace (*p))
        {
          p++;
          continue;
        }

      if (*p == '\'' || *p == '"')
        {
          char quote = *p++;
          const char *end = strchr (p, quote);

          if (end == NULL)
            {
              g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           _("--where: a quote is left open"));
              return NULL;
            }
          /* A leading NUL marks quoted text, which is never an operator. */
          g_ptr_array_add (tokens, g_strdup_printf ("%c%.*s", 1, (int)(end - p), p));
          p = end + 1;
        }
      else if (strchr ("=!<>", *p) != NULL)
        {
          const char *start = p;

          while (*p != '\0' && strchr ("=!<>", *p) != NULL)
            p++;
          g_ptr_array_add (tokens, g_strndup (start, p - start));
        }
      else
        {
          const char *start = p;

          while (*p != '\0' && !g_ascii_isspace (*p) && strchr ("=!<>'\"", *p) == NULL)
            p++;
          g_ptr_array_add (tokens, g_strndup (start, p - start));
        }
    }

  return g_steal_pointer (&tokens);
}

static gboolean
parse_op (const char *text,
          FilterOp   *op)
{
  static const struct { const char *text; FilterOp op; } ops[] = {
    { "=", OP_EQ }, { "==", OP_EQ }, { "!=", OP_NE }, { "<", OP_LT }, { "<=", OP_LE },
    { ">", OP_GT }, { ">=", OP_GE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (ops); i++)
    if (g_str_equal (text, ops[i].text))
      {
        *op = ops[i].op;
        return TRUE;
      }

  return FALSE;
}

static const char *
token_text (const char *token)
{
  return token[0] == '\1' ? token + 1 : token;
}

static GPtrArray *
parse_filter (const char  *text,
              GError     **error)
{
  g_autoptr(GPtrArray) tokens = tokenize (text, error);
  g_autoptr(GPtrArray) terms = g_ptr_array_new_with_free_func ((GDestroyNotify)filter_term_free);
  guint i = 0;

  if (tokens == NULL)
    return NULL;

  while (TRUE)
    {
      FilterTerm *term;
      const char *field;
      FilterOp op;

      if (i + 3 > tokens->len)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("--where “%s”: expected FIELD OPERATOR VALUE"), text);
          return NULL;
        }

      field = tokens->pdata[i];
      if (!(g_str_equal (field, "worker") || g_str_equal (field, "row") ||
            (g_str_has_prefix (field, "answer.") && field[7] != '\0') ||
            (g_str_has_prefix (field, "input.") && field[6] != '\0')))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("--where: unknown field “%s”; use worker, row, answer.NAME or "
                         "input.COLUMN"), token_text (field));
          return NULL;
        }
      if (!parse_op (tokens->pdata[i + 1], &op))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("--where: unknown operator “%s”; use = != < <= > >="),
                       token_text (tokens->pdata[i + 1]));
          return NULL;
        }

      term = g_new0 (FilterTerm, 1);
      term->field = g_strdup (field);
      term->op = op;
      term->value = g_strdup (token_text (tokens->pdata[i + 2]));
      g_ptr_array_add (terms, term);
      i += 3;

      if (i == tokens->len)
        break;
      if (!g_str_equal (tokens->pdata[i], "and"))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _("--where: expected “and” before “%s”"), token_text (tokens->pdata[i]));
          return NULL;
        }
      i++;
    }

  return g_steal_pointer (&terms);
}

JsonNode *
kp_batch_lookup_path (JsonNode   *node,
                      const char *path)
{
  g_auto(GStrv) parts = g_strsplit (path, ".", -1);

  for (guint i = 0; node != NULL && parts[i] != NULL; i++)
    {
      if (JSON_NODE_HOLDS_OBJECT (node))
        node = json_object_get_member (json_node_get_object (node), parts[i]);
      else if (JSON_NODE_HOLDS_ARRAY (node))
        {
          guint64 index;
          JsonArray *array = json_node_get_array (node);

          if (!g_ascii_string_to_unsigned (parts[i], 10, 0, G_MAXUINT, &index, NULL) ||
              index >= json_array_get_length (array))
            return NULL;
          node = json_array_get_element (array, index);
        }
      else
        return NULL;
    }

  return node;
}

static gboolean
parse_number (const char *text,
              double     *value)
{
  char *end = NULL;

  if (text == NULL || text[0] == '\0')
    return FALSE;
  *value = g_ascii_strtod (text, &end);
  return *end == '\0' && isfinite (*value);
}

static gboolean
filter_matches (GPtrArray *terms,
                KpBatchWork      *work)
{
  for (guint i = 0; i < terms->len; i++)
    {
      FilterTerm *term = g_ptr_array_index (terms, i);
      g_autofree char *actual = NULL;
      double a, b;
      gboolean numeric;
      gboolean match;
      int cmp;

      if (g_str_equal (term->field, "worker"))
        actual = g_strdup (kp_batch_get_string (work->assignment, "WorkerId"));
      else if (g_str_equal (term->field, "row"))
        actual = g_strdup_printf ("%" G_GINT64_FORMAT, kp_batch_get_int (work->row, "row"));
      else if (g_str_has_prefix (term->field, "input."))
        {
          JsonObject *input = json_object_get_object_member (work->row, "input");

          actual = g_strdup (kp_batch_get_string (input, term->field + 6));
        }
      else
        {
          JsonNode *node = kp_batch_lookup_path (work->answer, term->field + 7);

          actual = node != NULL ? kp_batch_dup_node_text (node) : NULL;
        }

      if (actual == NULL)
        return FALSE;

      numeric = parse_number (actual, &a) && parse_number (term->value, &b);
      if (!numeric && term->op != OP_EQ && term->op != OP_NE)
        return FALSE;
      cmp = numeric ? (a < b ? -1 : a > b ? 1 : 0) : strcmp (actual, term->value);

      switch (term->op)
        {
        case OP_EQ: match = cmp == 0; break;
        case OP_NE: match = cmp != 0; break;
        case OP_LT: match = cmp < 0; break;
        case OP_LE: match = cmp <= 0; break;
        case OP_GT: match = cmp > 0; break;
        case OP_GE: match = cmp >= 0; break;
        default: g_assert_not_reached ();
        }

      if (!match)
        return FALSE;
    }

  return TRUE;
}

/* Subcommands on an existing batch share this. */


void
kp_batch_session_clear (KpBatchSession *session)
{
  g_clear_object (&session->client);
  g_clear_pointer (&session->file, kp_batch_file_free);
}


gboolean
kp_batch_session_open (KpBatchSession  *session,
                       const char      *batch_id,
                       GError         **error)
{
  session->file = batch_file_open (error);
  if (session->file == NULL)
    return FALSE;

  session->batch = batch_file_find (session->file, batch_id, error);
  if (session->batch == NULL)
    return FALSE;

  session->client = new_client (session->batch, error);
  return session->client != NULL;
}

gboolean
kp_batch_parse_command (const char          *command,
                        const char          *summary,
                        const GOptionEntry  *entries,
                        int                 *argc,
                        char              ***argv,
                        const char         **batch_id,
                        int                 *status)
{
  g_autoptr(GOptionContext) context = new_context (command, _("[BATCH]"), summary, entries);
  g_autoptr(GError) error = NULL;

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      *status = kp_batch_usage_error (command, "%s", error->message);
      return FALSE;
    }
  if (*argc > 2)
    {
      *status = kp_batch_usage_error (command, _("Unexpected argument “%s”"), (*argv)[2]);
      return FALSE;
    }

  *batch_id = *argc == 2 ? (*argv)[1] : NULL;
  return TRUE;
}

/* status */

static int
run_status (int    argc,
            char **argv)
{
  g_auto(KpBatchSession) session = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) hit_statuses = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) status_names = g_ptr_array_new_with_free_func (g_free);
  const char *batch_id = NULL;
  gboolean json = FALSE;
  gint64 available = 0, pending = 0, submitted = 0, approved = 0, rejected = 0;
  gint64 requested = 0;
  gint64 gold_requested = 0, gold_submitted = 0, gold_approved = 0, gold_rejected = 0;
  guint n_hits = 0, n_gold_hits = 0, n_gold_rows = 0;
  JsonArray *rows;
  int status = EXIT_SUCCESS;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the figures as a JSON object"), NULL },
    { NULL }
  };

  if (!kp_batch_parse_command ("status",
                               _("Counts a batch’s HITs by status and its assignments by state: "
                                 "available, accepted (pending), submitted, approved, rejected. "
                                 "BATCH defaults to the batch created last."),
                               entries, &argc, &argv, &batch_id, &status))
    return status;

  if (!kp_batch_session_open (&session, batch_id, &error))
    return kp_batch_fail (error);

  rows = json_object_get_array_member (session.batch, "rows");
  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *row = json_array_get_object_element (rows, i);
      g_autoptr(JsonObject) request = json_object_new ();
      g_autoptr(JsonObject) answer = NULL;
      const char *hit_id = kp_batch_get_string (row, "hit_id");
      const char *hit_status;
      JsonObject *hit;
      gpointer key, count;

      if (kp_batch_row_is_gold (row))
        n_gold_rows++;
      if (hit_id == NULL)
        continue;

      json_object_set_string_member (request, "HITId", hit_id);
      answer = kp_mturk_client_call (session.client, "GetHIT", request, &error);
      if (answer == NULL)
        return kp_batch_fail (error);
      hit = json_object_get_object_member (answer, "HIT");

      /* Gold HITs are counted on their own. */
      if (kp_batch_row_is_gold (row))
        {
          n_gold_hits++;
          gold_requested += kp_batch_get_int (hit, "MaxAssignments");
          continue;
        }

      n_hits++;
      requested += kp_batch_get_int (hit, "MaxAssignments");
      available += kp_batch_get_int (hit, "NumberOfAssignmentsAvailable");
      pending += kp_batch_get_int (hit, "NumberOfAssignmentsPending");

      hit_status = kp_batch_get_string (hit, "HITStatus");
      if (hit_status == NULL)
        hit_status = "Unknown";
      if (!g_hash_table_lookup_extended (hit_statuses, hit_status, &key, &count))
        {
          key = g_strdup (hit_status);
          g_ptr_array_add (status_names, key);
          count = GUINT_TO_POINTER (0);
        }
      g_hash_table_insert (hit_statuses, key, GUINT_TO_POINTER (GPOINTER_TO_UINT (count) + 1));
    }

  {
    g_autoptr(GPtrArray) works = kp_batch_list_work (session.client, session.batch, &error);

    if (works == NULL)
      return kp_batch_fail (error);

    for (guint i = 0; i < works->len; i++)
      {
        KpBatchWork *work = g_ptr_array_index (works, i);
        const char *state = kp_batch_get_string (work->assignment, "AssignmentStatus");

        if (kp_batch_row_is_gold (work->row))
          {
            if (g_strcmp0 (state, "Submitted") == 0)
              gold_submitted++;
            else if (g_strcmp0 (state, "Approved") == 0)
              gold_approved++;
            else if (g_strcmp0 (state, "Rejected") == 0)
              gold_rejected++;
          }
        else if (g_strcmp0 (state, "Submitted") == 0)
          submitted++;
        else if (g_strcmp0 (state, "Approved") == 0)
          approved++;
        else if (g_strcmp0 (state, "Rejected") == 0)
          rejected++;
      }
  }

  if (json)
    {
      g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
      g_autofree char *text = NULL;
      JsonObject *object = json_object_new ();
      JsonObject *statuses = json_object_new ();
      JsonObject *counts = json_object_new ();

      json_object_set_string_member (object, "BatchId", kp_batch_get_string (session.batch, "id"));
      json_object_set_string_member (object, "HITTypeId",
                                     kp_batch_get_string (session.batch, "hit_type_id"));
      json_object_set_int_member (object, "Rows", json_array_get_length (rows) - n_gold_rows);
      json_object_set_int_member (object, "HITs", n_hits);
      for (guint i = 0; i < status_names->len; i++)
        json_object_set_int_member (statuses, status_names->pdata[i],
                                    GPOINTER_TO_UINT (g_hash_table_lookup (hit_statuses,
                                                                           status_names->pdata[i])));
      json_object_set_object_member (object, "HITStatuses", statuses);
      json_object_set_int_member (counts, "Requested", requested);
      json_object_set_int_member (counts, "Available", available);
      json_object_set_int_member (counts, "Pending", pending);
      json_object_set_int_member (counts, "Submitted", submitted);
      json_object_set_int_member (counts, "Approved", approved);
      json_object_set_int_member (counts, "Rejected", rejected);
      json_object_set_object_member (object, "Assignments", counts);
      json_object_set_double_member (object, "Progress",
                                     requested > 0
                                     ? (double)(submitted + approved + rejected) / requested : 0.0);
      if (n_gold_rows > 0)
        {
          JsonObject *gold = json_object_new ();

          json_object_set_int_member (gold, "Rows", n_gold_rows);
          json_object_set_int_member (gold, "HITs", n_gold_hits);
          json_object_set_int_member (gold, "Requested", gold_requested);
          json_object_set_int_member (gold, "Submitted", gold_submitted);
          json_object_set_int_member (gold, "Approved", gold_approved);
          json_object_set_int_member (gold, "Rejected", gold_rejected);
          json_object_set_object_member (object, "Gold", gold);
        }
      json_node_take_object (node, object);
      text = json_to_string (node, TRUE);
      g_print ("%s\n", text);
      return EXIT_SUCCESS;
    }

  g_print (_("Batch:        %s\n"), kp_batch_get_string (session.batch, "id"));
  g_print (_("HIT type:     %s\n"), kp_batch_get_string (session.batch, "hit_type_id"));
  g_print (_("HITs:         %u of %u rows\n"), n_hits, json_array_get_length (rows) - n_gold_rows);
  for (guint i = 0; i < status_names->len; i++)
    g_print ("  %-12s %u\n", (const char *)status_names->pdata[i],
             GPOINTER_TO_UINT (g_hash_table_lookup (hit_statuses, status_names->pdata[i])));
  g_print (_("Assignments:  %" PRId64 " requested\n"), requested);
  g_print (_("  Available:    %" PRId64 "\n"), available);
  g_print (_("  Accepted:     %" PRId64 "\n"), pending);
  g_print (_("  Submitted:    %" PRId64 "\n"), submitted);
  g_print (_("  Approved:     %" PRId64 "\n"), approved);
  g_print (_("  Rejected:     %" PRId64 "\n"), rejected);
  g_print (_("Progress:     %" PRId64 "/%" PRId64 " (%.0f%%)\n"),
           submitted + approved + rejected, requested,
           requested > 0 ? 100.0 * (submitted + approved + rejected) / requested : 0.0);
  if (n_gold_rows > 0)
    {
      g_print (_("Gold HITs:    %u of %u gold rows\n"), n_gold_hits, n_gold_rows);
      g_print (_("  Assignments: %" PRId64 " requested, %" PRId64 " submitted, %" PRId64
                 " approved, %" PRId64 " rejected\n"),
               gold_requested, gold_submitted, gold_approved, gold_rejected);
    }

  return EXIT_SUCCESS;
}

/* results */

typedef enum
{
  FORMAT_CSV,
  FORMAT_JSONL,
  FORMAT_GT_MANIFEST,
  FORMAT_COCO,
  FORMAT_VOC,
  FORMAT_YOLO,
} ResultFormat;

static void
append_csv_field (GString    *line,
                  const char *text)
{
  if (line->len > 0 && line->str[line->len - 1] != '\n')
    g_string_append_c (line, ',');

  if (strpbrk (text, ",\"\r\n") == NULL)
    {
      g_string_append (line, text);
      return;
    }

  g_string_append_c (line, '"');
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '"')
        g_string_append_c (line, '"');
      g_string_append_c (line, *p);
    }
  g_string_append_c (line, '"');
}

static void
add_assignment_members (JsonObject *object,
                        KpBatchWork       *work)
{
  static const char * const ids[] = { "HITId", "AssignmentId", "WorkerId", "AssignmentStatus" };
  static const char * const times[] = { "AcceptTime", "SubmitTime", "ApprovalTime", "RejectionTime" };

  for (guint i = 0; i < G_N_ELEMENTS (ids); i++)
    json_object_set_string_member (object, ids[i], kp_batch_get_string (work->assignment, ids[i]));
  for (guint i = 0; i < G_N_ELEMENTS (times); i++)
    {
      g_autofree char *time = kp_batch_dup_time (work->assignment, times[i]);

      if (time != NULL)
        json_object_set_string_member (object, times[i], time);
    }
}

void
kp_batch_write_line (GString    *out,
                     JsonObject *object)
{
  g_autoptr(JsonNode) node = json_node_init_object (json_node_alloc (), object);
  g_autofree char *text = json_to_string (node, FALSE);

  g_string_append (out, text);
  g_string_append_c (out, '\n');
}

static GString *
format_jsonl (JsonObject *batch,
              GPtrArray  *works)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < works->len; i++)
    {
      KpBatchWork *work = g_ptr_array_index (works, i);
      g_autoptr(JsonObject) object = json_object_new ();

      json_object_set_string_member (object, "BatchId", kp_batch_get_string (batch, "id"));
      json_object_set_int_member (object, "Row", kp_batch_get_int (work->row, "row"));
      add_assignment_members (object, work);
      json_object_set_member (object, "Input",
                              json_node_copy (json_object_get_member (work->row, "input")));
      json_object_set_member (object, "Answer", json_node_copy (work->answer));
      if (kp_batch_row_is_gold (work->row))
        {
          json_object_set_boolean_member (object, "Gold", TRUE);
          json_object_set_member (object, "Known",
                                  json_node_copy (json_object_get_member (work->row, "known")));
        }
      kp_batch_write_line (out, object);
    }

  return out;
}

/* As MTurk's batch results: one line per assignment, Input.COLUMN and
 * Answer.NAME columns (answers that are not text as JSON). */
static GString *
format_csv (JsonObject *batch,
            GPtrArray  *works)
{
  static const char * const fixed[] = {
    "HITId", "HITTypeId", "AssignmentId", "WorkerId", "AssignmentStatus", "AcceptTime",
    "SubmitTime", "ApprovalTime", "RejectionTime", "Row",
  };
  g_autoptr(GPtrArray) answer_names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  JsonArray *columns = json_object_get_array_member (batch, "columns");
  GString *out = g_string_new (NULL);
  GString *line = g_string_new (NULL);
  gboolean has_gold = json_object_has_member (batch, "gold");

  for (guint i = 0; i < works->len; i++)
    {
      KpBatchWork *work = g_ptr_array_index (works, i);
      g_autoptr(GList) names = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (work->answer))
        continue;
      names = json_object_get_members (json_node_get_object (work->answer));
      for (GList *l = names; l != NULL; l = l->next)
        if (!g_hash_table_contains (seen, l->data))
          {
            char *name = g_strdup (l->data);

            g_ptr_array_add (answer_names, name);
            g_hash_table_add (seen, name);
          }
    }

  for (guint i = 0; i < G_N_ELEMENTS (fixed); i++)
    append_csv_field (line, fixed[i]);
  for (guint i = 0; i < json_array_get_length (columns); i++)
    {
      g_autofree char *name = g_strconcat ("Input.", json_array_get_string_element (columns, i), NULL);

      append_csv_field (line, name);
    }
  for (guint i = 0; i < answer_names->len; i++)
    {
      g_autofree char *name = g_strconcat ("Answer.", (char *)answer_names->pdata[i], NULL);

      append_csv_field (line, name);
    }
  /* Batches with gold questions mark their rows. */
  if (has_gold)
    append_csv_field (line, "Gold");
  g_string_append (out, line->str);
  g_string_append (out, "\r\n");

  for (guint i = 0; i < works->len; i++)
    {
      KpBatchWork *work = g_ptr_array_index (works, i);
      JsonObject *input = json_object_get_object_member (work->row, "input");
      g_autofree char *row = g_strdup_printf ("%" G_GINT64_FORMAT, kp_batch_get_int (work->row, "row"));

      g_string_truncate (line, 0);
      for (guint j = 0; j < G_N_ELEMENTS (fixed); j++)
        {
          g_autofree char *time = NULL;
          const char *value;

          if (g_str_equal (fixed[j], "HITTypeId"))
            value = kp_batch_get_string (batch, "hit_type_id");
          else if (g_str_equal (fixed[j], "Row"))
            value = row;
          else if (g_str_has_suffix (fixed[j], "Time"))
            value = time = kp_batch_dup_time (work->assignment, fixed[j]);
          else
            value = kp_batch_get_string (work->assignment, fixed[j]);

          append_csv_field (line, value != NULL ? value : "");
        }
      for (guint j = 0; j < json_array_get_length (columns); j++)
        {
          const char *value = kp_batch_get_string (input, json_array_get_string_element (columns, j));

          append_csv_field (line, value != NULL ? value : "");
        }
      for (guint j = 0; j < answer_names->len; j++)
        {
          JsonNode *node = JSON_NODE_HOLDS_OBJECT (work->answer)
                           ? json_object_get_member (json_node_get_object (work->answer),
                                                     answer_names->pdata[j])
                           : NULL;
          g_autofree char *value = node != NULL ? kp_batch_dup_node_text (node) : g_strdup ("");

          append_csv_field (line, value);
        }
      if (has_gold)
        append_csv_field (line, kp_batch_row_is_gold (work->row) ? "true" : "false");
      g_string_append (out, line->str);
      g_string_append (out, "\r\n");
    }

  g_string_free (line, TRUE);
  return out;
}

/* A SageMaker Ground Truth output manifest, one line per row with
 * answers: the row's columns, and under LABEL the answers of every worker
 * as Ground Truth hands them to an annotation consolidation function. */
static GString *
format_gt_manifest (JsonObject *batch,
                    GPtrArray  *works,
                    const char *label)
{
  JsonArray *rows = json_object_get_array_member (batch, "rows");
  g_autofree char *metadata_name = g_strconcat (label, "-metadata", NULL);
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *row = json_array_get_object_element (rows, i);
      JsonObject *input = json_object_get_object_member (row, "input");
      g_autoptr(JsonObject) line = json_object_new ();
      g_autoptr(GList) columns = json_object_get_members (input);
      JsonArray *annotations = json_array_new ();
      JsonObject *labels = json_object_new ();
      JsonObject *metadata = json_object_new ();
      g_autofree char *created = NULL;
      gint64 last_submit = 0;

      for (GList *l = columns; l != NULL; l = l->next)
        json_object_set_string_member (line, l->data, kp_batch_get_string (input, l->data));

      for (guint j = 0; j < works->len; j++)
        {
          KpBatchWork *work = g_ptr_array_index (works, j);
          JsonObject *annotation;
          JsonObject *data;
          g_autofree char *content = NULL;

          if (work->row != row)
            continue;

          annotation = json_object_new ();
          data = json_object_new ();
          content = json_to_string (work->answer, FALSE);
          json_object_set_string_member (annotation, "workerId",
                                         kp_batch_get_string (work->assignment, "WorkerId"));
          json_object_set_string_member (data, "content", content);
          json_object_set_object_member (annotation, "annotationData", data);
          json_array_add_object_element (annotations, annotation);
          last_submit = MAX (last_submit, kp_batch_get_int (work->assignment, "SubmitTime"));
        }

      if (json_array_get_length (annotations) == 0)
        {
          json_array_unref (annotations);
          json_object_unref (labels);
          json_object_unref (metadata);
          continue;
        }

      json_object_set_array_member (labels, "annotationsFromAllWorkers", annotations);
      json_object_set_object_member (line, label, labels);

      {
        g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc (last_submit);

        created = g_date_time_format (time, "%Y-%m-%dT%H:%M:%S.000000");
      }
      json_object_set_string_member (metadata, "type", "groundtruth/custom");
      json_object_set_string_member (metadata, "job-name", kp_batch_get_string (batch, "id"));
      json_object_set_string_member (metadata, "human-annotated", "yes");
      json_object_set_string_member (metadata, "creation-date", created);
      json_object_set_object_member (line, metadata_name, metadata);

      kp_batch_write_line (out, line);
    }

  return out;
}

/* Image formats from crowd-bounding-box answers. */


void
kp_batch_image_free (KpBatchImage *image)
{
  g_free (image->image);
  g_free (image->name);
  g_ptr_array_unref (image->boxes);
  g_free (image);
}

/* A file name from an image URL or path: its base name without extension,
 * anything but letters, digits, - . _ replaced with _. */
static char *
dup_image_name (const char *image,
                gint64      row)
{
  g_autofree char *path = NULL;
  g_autofree char *base = NULL;
  char *dot;
  g_autoptr(GUri) uri = g_uri_parse (image, G_URI_FLAGS_NONE, NULL);

  path = g_strdup (uri != NULL ? g_uri_get_path (uri) : image);
  base = g_path_get_basename (path);
  dot = strrchr (base, '.');
  if (dot != NULL && dot != base)
    *dot = '\0';
  for (char *p = base; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
      *p = '_';

  if (base[0] == '\0' || g_str_equal (base, ".") || g_str_equal (base, "_"))
    return g_strdup_printf ("row%" G_GINT64_FORMAT, row);

  return g_steal_pointer (&base);
}

GPtrArray *
kp_batch_images_new (JsonObject  *batch,
                     gboolean     include_gold,
                     GError     **error)
{
  g_autoptr(GPtrArray) images = g_ptr_array_new_with_free_func ((GDestroyNotify)kp_batch_image_free);
  g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);
  JsonObject *box = json_object_has_member (batch, "bounding_box")
                    ? json_object_get_object_member (batch, "bounding_box") : NULL;
  const char *box_name = kp_batch_get_string (box, "name");
  JsonArray *rows = json_object_get_array_member (batch, "rows");

  if (box == NULL || box_name == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("The batch’s layout has no named crowd-bounding-box; coco, voc and yolo "
                     "export its boxes"));
      return NULL;
    }

  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *row = json_array_get_object_element (rows, i);
      KpBatchImage *image;
      gint64 row_number = kp_batch_get_int (row, "row");

      if (!include_gold && kp_batch_row_is_gold (row))
        continue;

      image = g_new0 (KpBatchImage, 1);
      image->row = row;
      image->image = g_strdup (kp_batch_get_string (row, "image"));
      if (image->image == NULL)
        image->image = g_strdup_printf ("row%" G_GINT64_FORMAT, row_number);
      image->name = dup_image_name (image->image, row_number);
      if (g_hash_table_contains (names, image->name))
        {
          char *unique = g_strdup_printf ("%s_%" G_GINT64_FORMAT, image->name, row_number);

          g_free (image->name);
          image->name = unique;
        }
      g_hash_table_add (names, image->name);
      image->boxes = g_ptr_array_new_with_free_func ((GDestroyNotify)json_object_unref);
      g_ptr_array_add (images, image);
    }

  return g_steal_pointer (&images);
}

void
kp_batch_image_add_answer (KpBatchImage *image,
                           JsonObject   *batch,
                           JsonNode     *answer,
                           const char   *worker_id,
                           const char   *assignment_id,
                           JsonArray    *objects)
{
  JsonObject *box = json_object_get_object_member (batch, "bounding_box");
  JsonNode *element = kp_batch_lookup_path (answer, kp_batch_get_string (box, "name"));
  JsonNode *properties;
  JsonNode *boxes;
  JsonArray *array;

  if (element == NULL || !JSON_NODE_HOLDS_OBJECT (element))
    return;

  properties = kp_batch_lookup_path (element, "inputImageProperties");
  if (properties != NULL && JSON_NODE_HOLDS_OBJECT (properties))
    {
      image->width = kp_batch_get_int (json_node_get_object (properties), "width");
      image->height = kp_batch_get_int (json_node_get_object (properties), "height");
    }

  boxes = kp_batch_lookup_path (element, "boundingBoxes");
  if (boxes == NULL || !JSON_NODE_HOLDS_ARRAY (boxes))
    return;
  array = json_node_get_array (boxes);

  for (guint k = 0; k < json_array_get_length (array); k++)
    {
      JsonNode *node = json_array_get_element (array, k);
      g_autoptr(JsonNode) copy = NULL;
      JsonObject *object;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      copy = json_node_copy (node);
      object = json_node_get_object (copy);
      if (worker_id != NULL)
        json_object_set_string_member (object, "workerId", worker_id);
      if (assignment_id != NULL)
        json_object_set_string_member (object, "assignmentId", assignment_id);
      if (objects != NULL && k < json_array_get_length (objects) &&
          JSON_NODE_HOLDS_OBJECT (json_array_get_element (objects, k)))
        {
          JsonObject *consolidated = json_array_get_object_element (objects, k);
          JsonNode *confidence = json_object_get_member (consolidated, "confidence");

          if (confidence != NULL && JSON_NODE_HOLDS_VALUE (confidence))
            json_object_set_double_member (object, "confidence",
                                           json_node_get_value_type (confidence) == G_TYPE_INT64
                                           ? (double)json_node_get_int (confidence)
                                           : json_node_get_double (confidence));
        }
      g_ptr_array_add (image->boxes, json_object_ref (object));
    }
}

GPtrArray *
kp_batch_collect_images (JsonObject  *batch,
                         GPtrArray   *works,
                         GError     **error)
{
  g_autoptr(GPtrArray) images = kp_batch_images_new (batch, TRUE, error);
  g_autoptr(GHashTable) by_row = g_hash_table_new (NULL, NULL);

  if (images == NULL)
    return NULL;

  for (guint i = 0; i < images->len; i++)
    {
      KpBatchImage *image = g_ptr_array_index (images, i);

      g_hash_table_insert (by_row, image->row, image);
    }

  for (guint j = 0; j < works->len; j++)
    {
      KpBatchWork *work = g_ptr_array_index (works, j);
      KpBatchImage *image = g_hash_table_lookup (by_row, work->row);

      if (image != NULL)
        kp_batch_image_add_answer (image, batch, work->answer,
                                   kp_batch_get_string (work->assignment, "WorkerId"),
                                   kp_batch_get_string (work->assignment, "AssignmentId"),
                                   NULL);
    }

  return g_steal_pointer (&images);
}

static double
box_number (JsonObject *box,
            const char *name)
{
  JsonNode *node = json_object_get_member (box, name);

  if (node == NULL || JSON_NODE_TYPE (node) != JSON_NODE_VALUE)
    return 0;
  return json_node_get_value_type (node) == G_TYPE_INT64 ? (double)json_node_get_int (node)
                                                          : json_node_get_double (node);
}

/* The class index of a box's label, or -1. */
static int
label_index (JsonArray  *labels,
             const char *label)
{
  for (guint i = 0; label != NULL && i < json_array_get_length (labels); i++)
    if (g_strcmp0 (json_array_get_string_element (labels, i), label) == 0)
      return (int)i;

  return -1;
}

GString *
kp_batch_format_coco (JsonObject *batch,
                      GPtrArray  *images)
{
  JsonArray *labels = json_object_get_array_member (json_object_get_object_member (batch,
                                                                                   "bounding_box"),
                                                    "labels");
  g_autoptr(JsonObject) root = json_object_new ();
  g_autoptr(JsonNode) node = NULL;
  JsonArray *image_array = json_array_new ();
  JsonArray *annotations = json_array_new ();
  JsonArray *categories = json_array_new ();
  g_autofree char *text = NULL;
  gint64 annotation_id = 1;
  GString *out;

  for (guint i = 0; i < json_array_get_length (labels); i++)
    {
      JsonObject *category = json_object_new ();

      json_object_set_int_member (category, "id", i + 1);
      json_object_set_string_member (category, "name", json_array_get_string_element (labels, i));
      json_array_add_object_element (categories, category);
    }

  for (guint i = 0; i < images->len; i++)
    {
      KpBatchImage *image = g_ptr_array_index (images, i);
      JsonObject *object = json_object_new ();
      gint64 image_id = kp_batch_get_int (image->row, "row");

      json_object_set_int_member (object, "id", image_id);
      json_object_set_string_member (object, "file_name", image->image);
      json_object_set_int_member (object, "width", image->width);
      json_object_set_int_member (object, "height", image->height);
      json_array_add_object_element (image_array, object);

      for (guint j = 0; j < image->boxes->len; j++)
        {
          JsonObject *box = g_ptr_array_index (image->boxes, j);
          JsonObject *annotation = json_object_new ();
          JsonArray *bbox = json_array_new ();
          JsonObject *attributes = json_object_new ();
          double w = box_number (box, "width"), h = box_number (box, "height");
          int index = label_index (labels, kp_batch_get_string (box, "label"));

          if (index < 0)
            {
              json_object_unref (annotation);
              json_array_unref (bbox);
              json_object_unref (attributes);
              continue;
            }

          json_array_add_double_element (bbox, box_number (box, "left"));
          json_array_add_double_element (bbox, box_number (box, "top"));
          json_array_add_double_element (bbox, w);
          json_array_add_double_element (bbox, h);
          json_object_set_int_member (annotation, "id", annotation_id++);
          json_object_set_int_member (annotation, "image_id", image_id);
          json_object_set_int_member (annotation, "category_id", index + 1);
          json_object_set_array_member (annotation, "bbox", bbox);
          json_object_set_double_member (annotation, "area", w * h);
          json_object_set_int_member (annotation, "iscrowd", 0);
          if (json_object_has_member (box, "confidence"))
            json_object_set_double_member (annotation, "score", box_number (box, "confidence"));
          if (kp_batch_get_string (box, "workerId") != NULL)
            {
              json_object_set_string_member (attributes, "worker_id",
                                             kp_batch_get_string (box, "workerId"));
              json_object_set_string_member (attributes, "assignment_id",
                                             kp_batch_get_string (box, "assignmentId"));
              json_object_set_object_member (annotation, "attributes", attributes);
            }
          else
            json_object_unref (attributes);
          json_array_add_object_element (annotations, annotation);
        }
    }

  json_object_set_array_member (root, "images", image_array);
  json_object_set_array_member (root, "annotations", annotations);
  json_object_set_array_member (root, "categories", categories);
  node = json_node_init_object (json_node_alloc (), root);
  text = json_to_string (node, TRUE);

  out = g_string_new (text);
  g_string_append_c (out, '\n');
  return out;
}

gboolean
kp_batch_write_file (const char  *path,
                     GString     *contents,
                     GError     **error)
{
  return g_file_set_contents_full (path, contents->str, contents->len,
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}

static gboolean
make_folder (const char  *path,
             GError     **error)
{
  if (g_mkdir_with_parents (path, 0755) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                   _("Cannot make the folder %s: %s"), path, g_strerror (saved_errno));
      return FALSE;
    }

  return TRUE;
}

/* Pascal VOC: one NAME.xml per image; boxes as 1-based pixel bndbox, as
 * core's exporter writes them. */
gboolean
kp_batch_write_voc (JsonObject  *batch,
                    GPtrArray   *images,
                    const char  *folder,
                    GError     **error)
{
  JsonArray *labels = json_object_get_array_member (json_object_get_object_member (batch,
                                                                                   "bounding_box"),
                                                    "labels");

  if (!make_folder (folder, error))
    return FALSE;

  for (guint i = 0; i < images->len; i++)
    {
      KpBatchImage *image = g_ptr_array_index (images, i);
      g_autofree char *file_name = g_strconcat (image->name, ".xml", NULL);
      g_autofree char *path = g_build_filename (folder, file_name, NULL);
      g_autoptr(GString) xml = g_string_new (NULL);
      g_autofree char *escaped = g_markup_escape_text (image->image, -1);

      g_string_append_printf (xml, "<annotation>\n  <folder></folder>\n"
                                   "  <filename>%s</filename>\n  <path>%s</path>\n"
                                   "  <source><database>Kempelen</database></source>\n"
                                   "  <size>\n    <width>%" G_GINT64_FORMAT "</width>\n"
                                   "    <height>%" G_GINT64_FORMAT "</height>\n"
                                   "    <depth>3</depth>\n  </size>\n  <segmented>0</segmented>\n",
                              escaped, escaped, image->width, image->height);
      for (guint j = 0; j < image->boxes->len; j++)
        {
          JsonObject *box = g_ptr_array_index (image->boxes, j);
          const char *label = kp_batch_get_string (box, "label");
          g_autofree char *escaped_label = NULL;
          double x = box_number (box, "left"), y = box_number (box, "top");

          if (label_index (labels, label) < 0)
            continue;
          escaped_label = g_markup_escape_text (label, -1);
          g_string_append_printf (xml, "  <object>\n    <name>%s</name>\n    <pose>Unspecified</pose>\n"
                                       "    <truncated>0</truncated>\n    <difficult>0</difficult>\n"
                                       "    <bndbox>\n      <xmin>%ld</xmin>\n      <ymin>%ld</ymin>\n"
                                       "      <xmax>%ld</xmax>\n      <ymax>%ld</ymax>\n"
                                       "    </bndbox>\n  </object>\n",
                                  escaped_label, lround (x) + 1, lround (y) + 1,
                                  lround (x + box_number (box, "width")),
                                  lround (y + box_number (box, "height")));
        }
      g_string_append (xml, "</annotation>\n");

      if (!kp_batch_write_file (path, xml, error))
        return FALSE;
    }

  return TRUE;
}

/* YOLO: classes.txt, images.txt and labels/NAME.txt of
 * "class cx cy w h" normalized to the image size, 6 decimals. */
gboolean
kp_batch_write_yolo (JsonObject  *batch,
                     GPtrArray   *images,
                     const char  *folder,
                     GError     **error)
{
  JsonArray *labels = json_object_get_array_member (json_object_get_object_member (batch,
                                                                                   "bounding_box"),
                                                    "labels");
  g_autofree char *labels_folder = g_build_filename (folder, "labels", NULL);
  g_autofree char *classes_path = g_build_filename (folder, "classes.txt", NULL);
  g_autofree char *images_path = g_build_filename (folder, "images.txt", NULL);
  g_autoptr(GString) classes = g_string_new (NULL);
  g_autoptr(GString) image_list = g_string_new (NULL);

  if (!make_folder (labels_folder, error))
    return FALSE;

  for (guint i = 0; i < json_array_get_length (labels); i++)
    g_string_append_printf (classes, "%s\n", json_array_get_string_element (labels, i));

  for (guint i = 0; i < images->len; i++)
    {
      KpBatchImage *image = g_ptr_array_index (images, i);
      g_autofree char *file_name = g_strconcat (image->name, ".txt", NULL);
      g_autofree char *path = g_build_filename (labels_folder, file_name, NULL);
      g_autoptr(GString) lines = g_string_new (NULL);

      g_string_append_printf (image_list, "%s\n", image->image);
      for (guint j = 0; j < image->boxes->len; j++)
        {
          JsonObject *box = g_ptr_array_index (image->boxes, j);
          int index = label_index (labels, kp_batch_get_string (box, "label"));
          double w = box_number (box, "width"), h = box_number (box, "height");
          char cx[G_ASCII_DTOSTR_BUF_SIZE], cy[G_ASCII_DTOSTR_BUF_SIZE];
          char nw[G_ASCII_DTOSTR_BUF_SIZE], nh[G_ASCII_DTOSTR_BUF_SIZE];

          if (index < 0 || image->width <= 0 || image->height <= 0)
            continue;
          g_ascii_formatd (cx, sizeof cx, "%.6f", (box_number (box, "left") + w / 2) / image->width);
          g_ascii_formatd (cy, sizeof cy, "%.6f", (box_number (box, "top") + h / 2) / image->height);
          g_ascii_formatd (nw, sizeof nw, "%.6f", w / image->width);
          g_ascii_formatd (nh, sizeof nh, "%.6f", h / image->height);
          g_string_append_printf (lines, "%d %s %s %s %s\n", index, cx, cy, nw, nh);
        }

      if (!kp_batch_write_file (path, lines, error))
        return FALSE;
    }

  return kp_batch_write_file (classes_path, classes, error) && kp_batch_write_file (images_path, image_list, error);
}

static int
run_results (int    argc,
             char **argv)
{
  g_auto(KpBatchSession) session = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) works = NULL;
  g_autoptr(GString) out = NULL;
  g_autofree char *format_name = NULL;
  g_autofree char *output = NULL;
  g_autofree char *statuses = NULL;
  g_autofree char *label = NULL;
  g_auto(GStrv) wanted = NULL;
  const char *batch_id = NULL;
  ResultFormat format;
  int status = EXIT_SUCCESS;
  const GOptionEntry entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format_name,
      N_("csv, jsonl, gt-manifest, or from crowd-bounding-box answers coco (a .json file), "
         "voc or yolo (folders)"), N_("FORMAT") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
      N_("Where to write (default: standard output; a folder for voc and yolo)"), N_("PATH") },
    { "status", 0, 0, G_OPTION_ARG_STRING, &statuses,
      N_("Only assignments in these states (default Submitted,Approved)"), N_("STATES") },
    { "label-attribute", 0, 0, G_OPTION_ARG_STRING, &label,
      N_("gt-manifest: the label attribute name (default: annotations)"), N_("NAME") },
    { NULL }
  };

  if (!kp_batch_parse_command ("results",
                               _("Writes the answers of a batch’s assignments: csv (as MTurk’s batch "
                                 "results), jsonl (one assignment a line, answers as the crowd "
                                 "elements give them), gt-manifest (a Ground Truth output "
                                 "manifest), coco, voc or yolo (the boxes of crowd-bounding-box)."),
                               entries, &argc, &argv, &batch_id, &status))
    return status;

  if (format_name == NULL)
    return kp_batch_usage_error ("results", _("Which format? Give it with --format"));
  if (g_str_equal (format_name, "csv"))
    format = FORMAT_CSV;
  else if (g_str_equal (format_name, "jsonl"))
    format = FORMAT_JSONL;
  else if (g_str_equal (format_name, "gt-manifest"))
    format = FORMAT_GT_MANIFEST;
  else if (g_str_equal (format_name, "coco"))
    format = FORMAT_COCO;
  else if (g_str_equal (format_name, "voc"))
    format = FORMAT_VOC;
  else if (g_str_equal (format_name, "yolo"))
    format = FORMAT_YOLO;
  else
    return kp_batch_usage_error ("results", _("Unknown format “%s”; use csv, jsonl, gt-manifest, coco, "
                                              "voc or yolo"), format_name);
  if ((format == FORMAT_VOC || format == FORMAT_YOLO) && output == NULL)
    return kp_batch_usage_error ("results", _("voc and yolo write a folder: give it with --output"));

  wanted = g_strsplit (statuses != NULL ? statuses : "Submitted,Approved", ",", -1);
  for (guint i = 0; wanted[i] != NULL; i++)
    if (!g_str_equal (wanted[i], "Submitted") && !g_str_equal (wanted[i], "Approved") &&
        !g_str_equal (wanted[i], "Rejected"))
      return kp_batch_usage_error ("results", _("--status takes Submitted, Approved and Rejected, not "
                                                "“%s”"), wanted[i]);

  if (!kp_batch_session_open (&session, batch_id, &error))
    return kp_batch_fail (error);

  works = kp_batch_list_work (session.client, session.batch, &error);
  if (works == NULL)
    return kp_batch_fail (error);

  for (guint i = works->len; i > 0; i--)
    {
      KpBatchWork *work = g_ptr_array_index (works, i - 1);
      const char *state = kp_batch_get_string (work->assignment, "AssignmentStatus");

      if (state == NULL || !g_strv_contains ((const char * const *)wanted, state))
        g_ptr_array_remove_index (works, i - 1);
    }

  switch (format)
    {
    case FORMAT_CSV:
      out = format_csv (session.batch, works);
      break;
    case FORMAT_JSONL:
      out = format_jsonl (session.batch, works);
      break;
    case FORMAT_GT_MANIFEST:
      out = format_gt_manifest (session.batch, works, label != NULL ? label : "annotations");
      break;
    case FORMAT_COCO:
    case FORMAT_VOC:
    case FORMAT_YOLO:
      {
        g_autoptr(GPtrArray) images = kp_batch_collect_images (session.batch, works, &error);

        if (images == NULL)
          return kp_batch_fail (error);
        if (format == FORMAT_COCO)
          out = kp_batch_format_coco (session.batch, images);
        else if (!(format == FORMAT_VOC ? kp_batch_write_voc (session.batch, images, output, &error)
                                        : kp_batch_write_yolo (session.batch, images, output, &error)))
          return kp_batch_fail (error);
      }
      break;
    default:
      g_assert_not_reached ();
    }

  if (out != NULL)
    {
      if (output == NULL)
        fwrite (out->str, 1, out->len, stdout);
      else if (!kp_batch_write_file (output, out, &error))
        return kp_batch_fail (error);
    }

  if (output != NULL)
    g_printerr (ngettext ("Wrote %u assignment to %s\n", "Wrote %u assignments to %s\n",
                          works->len), works->len, output);

  return EXIT_SUCCESS;
}

/* approve */

static int
run_approve (int    argc,
             char **argv)
{
  g_auto(KpBatchSession) session = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) works = NULL;
  g_autoptr(GPtrArray) terms = NULL;
  g_autofree char *where = NULL;
  g_autofree char *feedback = NULL;
  const char *batch_id = NULL;
  gboolean all = FALSE;
  gboolean dry_run = FALSE;
  guint n_approved = 0, n_failed = 0;
  int status = EXIT_SUCCESS;
  const GOptionEntry entries[] = {
    { "all", 0, 0, G_OPTION_ARG_NONE, &all, N_("Approve every submitted assignment"), NULL },
    { "where", 0, 0, G_OPTION_ARG_STRING, &where,
      N_("Approve the submitted assignments that match, e.g. "
         "\"answer.category.label = Cat and worker != A1B2C3\" (see docs/batches.md)"),
      N_("EXPR") },
    { "feedback", 0, 0, G_OPTION_ARG_STRING, &feedback,
      N_("A message to the workers"), N_("TEXT") },
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &dry_run,
      N_("Print the assignments that would be approved, and approve none"), NULL },
    { NULL }
  };

  if (!kp_batch_parse_command ("approve",
                               _("Approves a batch’s submitted assignments: all of them, or those "
                                 "--where an expression over worker, row, answer.NAME and "
                                 "input.COLUMN holds. Prints each approved assignment id."),
                               entries, &argc, &argv, &batch_id, &status))
    return status;

  if (all == (where != NULL))
    return kp_batch_usage_error ("approve", _("Give either --all or --where EXPR"));
  if (where != NULL)
    {
      terms = parse_filter (where, &error);
      if (terms == NULL)
        return kp_batch_usage_error ("approve", "%s", error->message);
    }

  if (!kp_batch_session_open (&session, batch_id, &error))
    return kp_batch_fail (error);

  works = kp_batch_list_work (session.client, session.batch, &error);
  if (works == NULL)
    return kp_batch_fail (error);

  for (guint i = 0; i < works->len; i++)
    {
      KpBatchWork *work = g_ptr_array_index (works, i);
      const char *assignment_id = kp_batch_get_string (work->assignment, "AssignmentId");
      g_autoptr(JsonObject) request = NULL;
      g_autoptr(JsonObject) answer = NULL;
      g_autoptr(GError) local_error = NULL;

      if (g_strcmp0 (kp_batch_get_string (work->assignment, "AssignmentStatus"), "Submitted") != 0)
        continue;
      if (terms != NULL && !filter_matches (terms, work))
        continue;

      if (dry_run)
        {
          g_print ("%s\n", assignment_id);
          continue;
        }

      request = json_object_new ();
      json_object_set_string_member (request, "AssignmentId", assignment_id);
      if (feedback != NULL)
        json_object_set_string_member (request, "RequesterFeedback", feedback);
      answer = kp_mturk_client_call (session.client, "ApproveAssignment", request, &local_error);
      if (answer == NULL)
        {
          g_printerr ("kempelenctl: %s: %s\n", assignment_id, local_error->message);
          n_failed++;
          continue;
        }
      g_print ("%s\n", assignment_id);
      n_approved++;
    }

  if (!dry_run)
    g_printerr (ngettext ("Approved %u assignment\n", "Approved %u assignments\n", n_approved),
                n_approved);

  return n_failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* expire */

static int
run_expire (int    argc,
            char **argv)
{
  g_auto(KpBatchSession) session = { 0 };
  g_autoptr(GError) error = NULL;
  const char *batch_id = NULL;
  guint n_expired = 0, n_failed = 0;
  JsonArray *rows;
  int status = EXIT_SUCCESS;
  const GOptionEntry entries[] = {
    { NULL }
  };

  if (!kp_batch_parse_command ("expire",
                               _("Expires every HIT of a batch now: no new worker can accept them; "
                                 "work already accepted can still be submitted."),
                               entries, &argc, &argv, &batch_id, &status))
    return status;

  if (!kp_batch_session_open (&session, batch_id, &error))
    return kp_batch_fail (error);

  rows = json_object_get_array_member (session.batch, "rows");
  for (guint i = 0; i < json_array_get_length (rows); i++)
    {
      JsonObject *row = json_array_get_object_element (rows, i);
      const char *hit_id = kp_batch_get_string (row, "hit_id");
      g_autoptr(JsonObject) request = NULL;
      g_autoptr(JsonObject) answer = NULL;
      g_autoptr(GError) local_error = NULL;

      if (hit_id == NULL)
        continue;

      request = json_object_new ();
      json_object_set_string_member (request, "HITId", hit_id);
      /* A time in the past expires the HIT at once, as MTurk documents. */
      json_object_set_int_member (request, "ExpireAt", 0);
      answer = kp_mturk_client_call (session.client, "UpdateExpirationForHIT", request,
                                     &local_error);
      if (answer == NULL)
        {
          g_printerr ("kempelenctl: %s: %s\n", hit_id, local_error->message);
          n_failed++;
          continue;
        }
      n_expired++;
    }

  g_print (ngettext ("Expired %u HIT of batch %s\n", "Expired %u HITs of batch %s\n", n_expired),
           n_expired, kp_batch_get_string (session.batch, "id"));

  return n_failed > 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Dispatch */

typedef struct
{
  const char *name;
  const char *usage;
  const char *summary;  /* N_() */
  int       (*run) (int argc, char **argv);
} Subcommand;

static const Subcommand subcommands[] = {
  { "create", "--layout T --input ROWS.csv --title … --reward D --lifetime D --duration D",
    N_("Create one HIT per CSV row and record the batch"), run_create },
  { "status", "[BATCH]", N_("Count the HITs and assignments of a batch"), run_status },
  { "results", "[BATCH] --format csv|jsonl|gt-manifest|coco|voc|yolo [--output PATH]",
    N_("Write the answers of a batch"), run_results },
  { "approve", "[BATCH] --all | --where EXPR", N_("Approve submitted assignments"), run_approve },
  { "expire", "[BATCH]", N_("Expire every HIT of a batch now"), run_expire },
  { "consolidate", "[BATCH] [--method dawid-skene|one-coin|majority] "
                   "[--format jsonl|gt-manifest|coco|voc|yolo] [--output PATH]",
    N_("Turn each HIT’s answers into one, with its confidence"), kp_batch_run_consolidate },
  { "scores", "[BATCH] [--json] [--method …]",
    N_("Rate the workers of a batch: agreement, estimated accuracy, gold answers"),
    kp_batch_run_scores },
};

int
kp_cli_batch_run (int    argc,
                  char **argv)
{
  int status;

  if (argc >= 2 && (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") ||
                    g_str_equal (argv[1], "help")))
    {
      g_print ("%s\n", _("Usage: kempelenctl batch COMMAND [OPTION…]"));
      for (guint i = 0; i < G_N_ELEMENTS (subcommands); i++)
        g_print ("\n  %s %s\n      %s\n", subcommands[i].name, subcommands[i].usage,
                 _(subcommands[i].summary));
      g_print ("\n%s\n", _("Run “kempelenctl batch COMMAND --help” to see the options of a "
                           "command."));
      return EXIT_SUCCESS;
    }

  if (argc < 2)
    {
      g_printerr ("kempelenctl: %s\n",
                  _("Which batch command? Use create, status, results, approve, expire, consolidate "
                    "or scores"));
      return EXIT_USAGE;
    }

  for (guint i = 0; i < G_N_ELEMENTS (subcommands); i++)
    if (g_str_equal (argv[1], subcommands[i].name))
      {
        status = subcommands[i].run (argc - 1, argv + 1);
        g_clear_pointer (&opt_batch_file, g_free);
        g_clear_pointer (&opt_endpoint, g_free);
        g_clear_pointer (&opt_profile, g_free);
        return status;
      }

  g_printerr ("kempelenctl: %s\n",
              _("Unknown batch command; use create, status, results, approve, expire, consolidate "
                "or scores"));
  return EXIT_USAGE;
}
