/* kp-question.c: MTurk question XML (QuestionForm, HTMLQuestion,
 * ExternalQuestion) and answer XML (QuestionFormAnswers)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <inttypes.h>

#include "kp-question.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

G_DEFINE_QUARK (kp-question-error-quark, kp_question_error)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlDoc, xmlFreeDoc)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (xmlParserCtxt, xmlFreeParserCtxt)

#define MTURK_NS_BASE "http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/"
#define ANSWERS_NS MTURK_NS_BASE "2005-10-01/QuestionFormAnswers.xsd"

/* libxml2 refuses deeper documents by itself unless XML_PARSE_HUGE is
 * given; we stop one level earlier with a message of our own. */
#define MAX_DEPTH 256

/* Marks a KpQuestionInfo made by kp_question_parse(), which carries the
 * private part below. */
#define INFO_MAGIC 0x4b705149u

/* The largest file MTurk let a FileUploadAnswer ask for. */
#define MAX_FILE_SIZE G_GINT64_CONSTANT (2000000000)

/* The namespaces MTurk publishes for each root element. */
static const struct {
  const char     *root;
  const char     *date;
  KpQuestionKind  kind;
} namespaces[] = {
  { "QuestionForm", "2005-10-01", KP_QUESTION_FORM },
  { "QuestionForm", "2017-11-06", KP_QUESTION_FORM },
  { "HTMLQuestion", "2011-11-11", KP_QUESTION_HTML },
  { "ExternalQuestion", "2006-07-14", KP_QUESTION_EXTERNAL },
};

typedef struct
{
  GRegex *regex;
  char   *error_text;              /* AnswerFormatRegex errorText, or NULL */
} AnswerRegex;

typedef struct
{
  gboolean   numeric;
  gboolean   has_min_value;
  gboolean   has_max_value;
  gint64     min_value;
  gint64     max_value;
  gint64     min_length;           /* -1: none */
  gint64     max_length;           /* -1: none */
  GPtrArray *regexes;              /* AnswerRegex */
} Constraints;

typedef enum
{
  ANSWER_FREE_TEXT,
  ANSWER_SELECTION,
  ANSWER_FILE_UPLOAD,
} AnswerKind;

typedef struct
{
  char        *id;
  gboolean     required;
  AnswerKind   kind;
  Constraints  text;               /* FreeTextAnswer */
  gint64       min_selections;
  gint64       max_selections;
  GHashTable  *selections;         /* SelectionIdentifier set */
  gboolean     has_other;
  Constraints  other;              /* OtherSelection */
  gint64       min_file_size;
  gint64       max_file_size;
} QuestionSpec;

typedef struct
{
  KpQuestionInfo  pub;             /* first, so the two pointers are the same */
  guint32         magic;
  GHashTable     *questions;       /* QuestionIdentifier -> QuestionSpec */
} QuestionInfo;

typedef enum
{
  DOC_QUESTION,
  DOC_ANSWERS,
} DocKind;

/* The state of one kp_question_parse() call. */
typedef struct
{
  const char   *ns;
  gboolean      v2017;
  QuestionInfo *info;
} Checker;

/* Lives in the parser context's _private while libxml2 reads. */
typedef struct
{
  long                   line;
  char                  *message;  /* set when we stopped the parser */
  long                   xml_line;
  char                  *xml_message; /* libxml2's first error */
  startElementNsSAX2Func start_element_ns;
} ReadState;

/* Errors */

static void G_GNUC_PRINTF (4, 5)
invalid (GError     **error,
         DocKind      doc,
         long         line,
         const char  *format,
         ...)
{
  g_autofree char *detail = NULL;
  va_list args;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);

  if (doc == DOC_QUESTION)
    {
      if (line > 0)
        g_set_error (error, KP_QUESTION_ERROR, KP_QUESTION_ERROR_INVALID,
                     _("Question is not valid: line %ld: %s"), line, detail);
      else
        g_set_error (error, KP_QUESTION_ERROR, KP_QUESTION_ERROR_INVALID,
                     _("Question is not valid: %s"), detail);
    }
  else
    {
      if (line > 0)
        g_set_error (error, KP_QUESTION_ERROR, KP_QUESTION_ERROR_INVALID,
                     _("QuestionFormAnswers is not valid: line %ld: %s"), line, detail);
      else
        g_set_error (error, KP_QUESTION_ERROR, KP_QUESTION_ERROR_INVALID,
                     _("QuestionFormAnswers is not valid: %s"), detail);
    }
}

#define node_name(node) ((const char *)(node)->name)
#define node_line(node) (xmlGetLineNo (node))

/* Reading XML safely */

static void
stop_reading (xmlParserCtxt *ctxt,
              const char    *message)
{
  ReadState *state = ctxt->_private;

  if (state->message == NULL)
    {
      state->message = g_strdup (message);
      state->line = xmlSAX2GetLineNumber (ctxt);
    }
  xmlStopParser (ctxt);
}

static void
refuse_doctype_cb (void          *user_data,
                   const xmlChar *name G_GNUC_UNUSED,
                   const xmlChar *external_id G_GNUC_UNUSED,
                   const xmlChar *system_id G_GNUC_UNUSED)
{
  stop_reading (user_data, _("a DOCTYPE is not allowed"));
}

static void
refuse_entity_cb (void          *user_data,
                  const xmlChar *name G_GNUC_UNUSED,
                  int            type G_GNUC_UNUSED,
                  const xmlChar *public_id G_GNUC_UNUSED,
                  const xmlChar *system_id G_GNUC_UNUSED,
                  xmlChar       *content G_GNUC_UNUSED)
{
  stop_reading (user_data, _("entity declarations are not allowed"));
}

static void
start_element_ns_cb (void           *user_data,
                     const xmlChar  *localname,
                     const xmlChar  *prefix,
                     const xmlChar  *uri,
                     int             n_namespaces,
                     const xmlChar **namespaces_,
                     int             n_attributes,
                     int             n_defaulted,
                     const xmlChar **attributes)
{
  xmlParserCtxt *ctxt = user_data;
  ReadState *state = ctxt->_private;

  /* nameNr counts the open elements around this one. */
  if (ctxt->nameNr >= MAX_DEPTH)
    {
      g_autofree char *message =
        g_strdup_printf (_("elements are nested more than %d deep"), MAX_DEPTH);

      stop_reading (ctxt, message);
      return;
    }

  state->start_element_ns (user_data, localname, prefix, uri,
                           n_namespaces, namespaces_,
                           n_attributes, n_defaulted, attributes);
}

/* Keeps the first error: the later ones are mostly its consequences. */
static void
record_error_cb (void     *user_data,
                 xmlError *xml_error)
{
  xmlParserCtxt *ctxt = user_data;
  ReadState *state = ctxt->_private;

  if (state->xml_message != NULL || xml_error == NULL || xml_error->level < XML_ERR_ERROR)
    return;

  state->xml_message = g_strstrip (g_strdup (xml_error->message != NULL
                                             ? xml_error->message : ""));
  state->xml_line = xml_error->line;
}

static void
ensure_libxml (void)
{
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      xmlInitParser ();
      g_once_init_leave (&initialized, 1);
    }
}

/* Reads xml (valid UTF-8, length bytes) into a tree without ever loading,
 * declaring or expanding an entity, touching the network or following
 * XInclude. */
static xmlDoc *
read_xml (const char  *xml,
          gsize        length,
          DocKind      doc_kind,
          GError     **error)
{
  g_autoptr(xmlParserCtxt) ctxt = NULL;
  g_autoptr(xmlDoc) doc = NULL;
  ReadState state = { 0 };
  const int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                      XML_PARSE_BIG_LINES | XML_PARSE_NOXINCNODE;

  ensure_libxml ();

  if (!g_utf8_validate (xml, length, NULL))
    {
      invalid (error, doc_kind, 0, _("it is not valid UTF-8 text"));
      return NULL;
    }
  if (length > G_MAXINT)
    {
      invalid (error, doc_kind, 0, _("it is too large"));
      return NULL;
    }

  ctxt = xmlNewParserCtxt ();
  if (ctxt == NULL)
    g_error ("Out of memory");

  ctxt->_private = &state;
  ctxt->sax->internalSubset = refuse_doctype_cb;
  ctxt->sax->externalSubset = refuse_doctype_cb;
  ctxt->sax->entityDecl = refuse_entity_cb;
  state.start_element_ns = ctxt->sax->startElementNs;
  ctxt->sax->startElementNs = start_element_ns_cb;
  ctxt->sax->serror = record_error_cb;

  doc = xmlCtxtReadMemory (ctxt, xml, (int)length, NULL, "UTF-8", options);

  if (state.message != NULL)
    {
      invalid (error, doc_kind, state.line, "%s", state.message);
      g_free (state.message);
      g_free (state.xml_message);
      return NULL;
    }

  if (doc == NULL || !ctxt->wellFormed)
    {
      const xmlError *xml_error = xmlCtxtGetLastError (ctxt);
      g_autofree char *message = g_steal_pointer (&state.xml_message);
      long line = state.xml_line;

      if (message == NULL && xml_error != NULL && xml_error->message != NULL)
        {
          message = g_strstrip (g_strdup (xml_error->message));
          line = xml_error->line;
        }
      if (message == NULL || *message == '\0')
        {
          g_free (message);
          message = g_strdup (_("unknown error"));
        }

      invalid (error, doc_kind, line, _("the XML is not well-formed: %s"), message);
      return NULL;
    }
  g_clear_pointer (&state.xml_message, g_free);

  if (doc->intSubset != NULL || doc->extSubset != NULL)
    {
      invalid (error, doc_kind, 0, _("a DOCTYPE is not allowed"));
      return NULL;
    }

  return g_steal_pointer (&doc);
}

/* Structure checks */

static gboolean
is_blank (const char *text)
{
  for (const char *p = text; *p; p++)
    if (!g_ascii_isspace (*p))
      return FALSE;
  return TRUE;
}

static gboolean
check_namespace (Checker  *c,
                 xmlNode  *node,
                 GError  **error)
{
  const char *href = node->ns != NULL ? (const char *)node->ns->href : NULL;

  if (href != NULL && g_str_equal (href, c->ns))
    return TRUE;

  if (href != NULL && g_str_has_prefix (href, "http://www.w3.org/") &&
      strstr (href, "XInclude") != NULL)
    invalid (error, DOC_QUESTION, node_line (node), _("XInclude is not allowed"));
  else if (href == NULL)
    invalid (error, DOC_QUESTION, node_line (node),
             _("element “%s” has no namespace; it must be in %s"),
             node_name (node), c->ns);
  else
    invalid (error, DOC_QUESTION, node_line (node),
             _("element “%s” is in the namespace %s instead of %s"),
             node_name (node), href, c->ns);
  return FALSE;
}

/* Checks that node holds only elements of the document's namespace, with
 * nothing but white space, comments and processing instructions between
 * them. */
static gboolean
check_element_only (Checker  *c,
                    xmlNode  *node,
                    GError  **error)
{
  for (xmlNode *child = node->children; child != NULL; child = child->next)
    {
      switch (child->type)
        {
        case XML_ELEMENT_NODE:
          if (!check_namespace (c, child, error))
            return FALSE;
          break;

        case XML_TEXT_NODE:
        case XML_CDATA_SECTION_NODE:
          if (!is_blank ((const char *)child->content))
            {
              invalid (error, DOC_QUESTION, node_line (child),
                       _("“%s” may only contain elements, not text"),
                       node_name (node));
              return FALSE;
            }
          break;

        case XML_COMMENT_NODE:
        case XML_PI_NODE:
          break;

        default:
          invalid (error, DOC_QUESTION, node_line (node),
                   _("“%s” contains an unexpected node"), node_name (node));
          return FALSE;
        }
    }

  return TRUE;
}

/* Unqualified attributes must be among allowed (a NULL-terminated list, or
 * NULL for none); attributes in a namespace, such as xml:lang or
 * xsi:schemaLocation, are left alone as a schema validator would. */
static gboolean
check_attributes (xmlNode            *node,
                  const char * const *allowed,
                  GError            **error)
{
  for (xmlAttr *attr = node->properties; attr != NULL; attr = attr->next)
    {
      if (attr->ns != NULL)
        continue;
      if (allowed == NULL || !g_strv_contains (allowed, (const char *)attr->name))
        {
          invalid (error, DOC_QUESTION, node_line (node),
                   _("“%s” has no attribute “%s”"),
                   node_name (node), (const char *)attr->name);
          return FALSE;
        }
    }

  return TRUE;
}

/* The text of an element that may hold only text (and CDATA). */
static char *
text_of (xmlNode  *node,
         gboolean  required,
         GError  **error)
{
  g_autofree char *text = NULL;
  xmlChar *content;

  if (!check_attributes (node, NULL, error))
    return NULL;

  for (xmlNode *child = node->children; child != NULL; child = child->next)
    {
      if (child->type == XML_ELEMENT_NODE)
        {
          invalid (error, DOC_QUESTION, node_line (child),
                   _("“%s” may only contain text, not “%s”"),
                   node_name (node), node_name (child));
          return NULL;
        }
      if (child->type != XML_TEXT_NODE && child->type != XML_CDATA_SECTION_NODE &&
          child->type != XML_COMMENT_NODE && child->type != XML_PI_NODE)
        {
          invalid (error, DOC_QUESTION, node_line (node),
                   _("“%s” contains an unexpected node"), node_name (node));
          return NULL;
        }
    }

  /* Moved from libxml2's allocator to GLib's. */
  content = xmlNodeGetContent (node);
  text = g_strdup (content != NULL ? (const char *)content : "");
  xmlFree (content);

  if (required && is_blank (text))
    {
      invalid (error, DOC_QUESTION, node_line (node),
               _("“%s” must not be empty"), node_name (node));
      return NULL;
    }

  return g_steal_pointer (&text);
}

static gboolean
parse_integer (xmlNode     *node,
               const char  *what,
               const char  *text,
               gint64       min,
               gint64       max,
               gint64      *out,
               GError     **error)
{
  g_autofree char *copy = g_strstrip (g_strdup (text));
  gint64 value;

  if (!g_ascii_string_to_signed (copy, 10, G_MININT64, G_MAXINT64, &value, NULL) ||
      value < min || value > max)
    {
      if (max == G_MAXINT)
        invalid (error, DOC_QUESTION, node_line (node),
                 _("%s must be a whole number of at least %" PRId64 ", not “%s”"),
                 what, min, copy);
      else
        invalid (error, DOC_QUESTION, node_line (node),
                 _("%s must be a whole number from %" PRId64 " to %" PRId64 ", not “%s”"),
                 what, min, max, copy);
      return FALSE;
    }

  *out = value;
  return TRUE;
}

static gboolean
integer_of (xmlNode  *node,
            gint64    min,
            gint64    max,
            gint64   *out,
            GError  **error)
{
  g_autofree char *text = text_of (node, TRUE, error);

  if (text == NULL)
    return FALSE;

  return parse_integer (node, node_name (node), text, min, max, out, error);
}

static gboolean
url_of (xmlNode   *node,
        gboolean   https_only,
        char     **out,
        GError   **error)
{
  g_autofree char *text = text_of (node, TRUE, error);
  g_autoptr(GUri) uri = NULL;
  const char *scheme;

  if (text == NULL)
    return FALSE;

  g_strstrip (text);
  uri = g_uri_parse (text, G_URI_FLAGS_NONE, NULL);
  if (uri == NULL)
    {
      invalid (error, DOC_QUESTION, node_line (node),
               _("%s “%s” is not a valid URL"), node_name (node), text);
      return FALSE;
    }

  scheme = g_uri_get_scheme (uri);
  if (https_only && g_ascii_strcasecmp (scheme, "https") != 0)
    {
      invalid (error, DOC_QUESTION, node_line (node),
               _("%s “%s” must be an https URL"), node_name (node), text);
      return FALSE;
    }
  if (!https_only && g_ascii_strcasecmp (scheme, "https") != 0 &&
      g_ascii_strcasecmp (scheme, "http") != 0)
    {
      invalid (error, DOC_QUESTION, node_line (node),
               _("%s “%s” must be an http or https URL"), node_name (node), text);
      return FALSE;
    }
  if (g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      invalid (error, DOC_QUESTION, node_line (node),
               _("%s “%s” is not a valid URL"), node_name (node), text);
      return FALSE;
    }

  if (out != NULL)
    *out = g_steal_pointer (&text);
  return TRUE;
}

typedef struct
{
  const char *name;
  guint       min;
  guint       max;                 /* 0: unbounded */
} Slot;

/* Checks that the element children of parent follow slots in order, each
 * appearing min to max times, as an xs:sequence does. */
static gboolean
check_sequence (Checker     *c,
                xmlNode     *parent,
                const Slot  *slots,
                guint        n_slots,
                GError     **error)
{
  guint i = 0;
  guint count = 0;

  if (!check_element_only (c, parent, error) ||
      !check_attributes (parent, NULL, error))
    return FALSE;

  for (xmlNode *child = parent->children; child != NULL; child = child->next)
    {
      if (child->type != XML_ELEMENT_NODE)
        continue;

      while (i < n_slots && !g_str_equal (node_name (child), slots[i].name))
        {
          if (count < slots[i].min)
            {
              invalid (error, DOC_QUESTION, node_line (child),
                       _("“%s” lacks the required element “%s” before “%s”"),
                       node_name (parent), slots[i].name, node_name (child));
              return FALSE;
            }
          i++;
          count = 0;
        }

      if (i == n_slots)
        {
          for (guint j = 0; j < n_slots; j++)
            if (g_str_equal (node_name (child), slots[j].name))
              {
                invalid (error, DOC_QUESTION, node_line (child),
                         _("“%s” is out of place in “%s”"),
                         node_name (child), node_name (parent));
                return FALSE;
              }

          invalid (error, DOC_QUESTION, node_line (child),
                   _("“%s” is not allowed in “%s”"),
                   node_name (child), node_name (parent));
          return FALSE;
        }

      count++;
      if (slots[i].max != 0 && count > slots[i].max)
        {
          invalid (error, DOC_QUESTION, node_line (child),
                   _("“%s” may appear only once in “%s”"),
                   node_name (child), node_name (parent));
          return FALSE;
        }
    }

  for (; i < n_slots; i++, count = 0)
    if (count < slots[i].min)
      {
        invalid (error, DOC_QUESTION, node_line (parent),
                 _("“%s” lacks the required element “%s”"),
                 node_name (parent), slots[i].name);
        return FALSE;
      }

  return TRUE;
}

#define FOREACH_ELEMENT(child, parent) \
  for (xmlNode *child = (parent)->children; child != NULL; child = child->next) \
    if (child->type == XML_ELEMENT_NODE)

static gboolean
check_mime_type (Checker  *c,
                 xmlNode  *node,
                 GError  **error)
{
  static const Slot slots[] = { { "Type", 1, 1 }, { "SubType", 0, 1 } };

  if (!check_sequence (c, node, slots, G_N_ELEMENTS (slots), error))
    return FALSE;

  FOREACH_ELEMENT (child, node)
    {
      g_autofree char *text = text_of (child, TRUE, error);

      if (text == NULL)
        return FALSE;

      g_strstrip (text);
      if (g_str_equal (node_name (child), "Type") &&
          !g_str_equal (text, "image") && !g_str_equal (text, "audio") &&
          !g_str_equal (text, "video"))
        {
          invalid (error, DOC_QUESTION, node_line (child),
                   _("Type must be “image”, “audio” or “video”, not “%s”"), text);
          return FALSE;
        }
    }

  return TRUE;
}

static gboolean
check_binary (Checker  *c,
              xmlNode  *node,
              GError  **error)
{
  static const Slot slots[] = {
    { "MimeType", 1, 1 }, { "DataURL", 1, 1 }, { "AltText", 1, 1 },
  };

  if (!check_sequence (c, node, slots, G_N_ELEMENTS (slots), error))
    return FALSE;

  FOREACH_ELEMENT (child, node)
    {
      g_autofree char *text = NULL;

      if (g_str_equal (node_name (child), "MimeType"))
        {
          if (!check_mime_type (c, child, error))
            return FALSE;
        }
      else if (g_str_equal (node_name (child), "DataURL"))
        {
          if (!url_of (child, FALSE, NULL, error))
            return FALSE;
        }
      else if ((text = text_of (child, FALSE, error)) == NULL)
        return FALSE;
    }

  return TRUE;
}

static gboolean
check_embedded_binary (Checker  *c,
                       xmlNode  *node,
                       GError  **error)
{
  static const Slot slots[] = {
    { "EmbeddedMimeType", 1, 1 }, { "DataURL", 1, 1 }, { "AltText", 1, 1 },
    { "Width", 1, 1 }, { "Height", 1, 1 }, { "ApplicationParameter", 0, 0 },
  };
  static const Slot parameter_slots[] = { { "Name", 1, 1 }, { "Value", 1, 1 } };

  if (!check_sequence (c, node, slots, G_N_ELEMENTS (slots), error))
    return FALSE;

  FOREACH_ELEMENT (child, node)
    {
      const char *name = node_name (child);
      g_autofree char *text = NULL;

      if (g_str_equal (name, "EmbeddedMimeType"))
        {
          if (!check_mime_type (c, child, error))
            return FALSE;
        }
      else if (g_str_equal (name, "DataURL"))
        {
          if (!url_of (child, FALSE, NULL, error))
            return FALSE;
        }
      else if (g_str_equal (name, "ApplicationParameter"))
        {
          if (!check_sequence (c, child, parameter_slots, G_N_ELEMENTS (parameter_slots), error))
            return FALSE;
          FOREACH_ELEMENT (part, child)
            {
              g_autofree char *part_text = text_of (part, g_str_equal (node_name (part), "Name"), error);

              if (part_text == NULL)
                return FALSE;
            }
        }
      else if ((text = text_of (child, !g_str_equal (name, "AltText"), error)) == NULL)
        return FALSE;
    }

  return TRUE;
}

static gboolean
check_list (Checker  *c,
            xmlNode  *node,
            GError  **error)
{
  static const Slot slots[] = { { "ListItem", 1, 0 } };

  if (!check_sequence (c, node, slots, G_N_ELEMENTS (slots), error))
    return FALSE;

  FOREACH_ELEMENT (child, node)
    {
      g_autofree char *text = text_of (child, FALSE, error);

      if (text == NULL)
        return FALSE;
    }

  return TRUE;
}

static gboolean
check_content_element (Checker  *c,
                       xmlNode  *node,
                       GError  **error)
{
  const char *name = node_name (node);

  if (g_str_equal (name, "Title") || g_str_equal (name, "Text") ||
      g_str_equal (name, "FormattedContent"))
    {
      g_autofree char *text = text_of (node, g_str_equal (name, "FormattedContent"), error);

      return text != NULL;
    }
  if (g_str_equal (name, "List"))
    return check_list (c, node, error);
  if (g_str_equal (name, "Binary"))
    return check_binary (c, node, error);
  if (g_str_equal (name, "EmbeddedBinary"))
    return check_embedded_binary (c, node, error);
  if (g_str_equal (name, "Application"))
    {
      invalid (error, DOC_QUESTION, node_line (node),
               _("Application (Java applets and Flash) is no longer supported by MTurk; "
                 "use Binary, EmbeddedBinary or an HTMLQuestion instead"));
      return FALSE;
    }

  invalid (error, DOC_QUESTION, node_line (node),
           _("“%s” is not allowed in “%s”"), name, node_name (node->parent));
  return FALSE;
}

/* Overview and QuestionContent: one or more content elements, any order. */
static gboolean
check_content (Checker  *c,
               xmlNode  *node,
               GError  **error)
{
  guint n = 0;

  if (!check_element_only (c, node, error) || !check_attributes (node, NULL, error))
    return FALSE;

  FOREACH_ELEMENT (child, node)
    {
      if (!check_content_element (c, child, error))
        return FALSE;
      n++;
    }

  if (n == 0)
    {
      invalid (error, DOC_QUESTION, node_line (node),
               _("“%s” needs at least one of Title, Text, List, Binary, "
                 "EmbeddedBinary or FormattedContent"), node_name (node));
      return FALSE;
    }

  return TRUE;
}

static void
answer_regex_free (AnswerRegex *regex)
{
  g_clear_pointer (&regex->regex, g_regex_unref);
  g_free (regex->error_text);
  g_free (regex);
}

static void
constraints_init (Constraints *constraints)
{
  memset (constraints, 0, sizeof *constraints);
  constraints->min_length = -1;
  constraints->max_length = -1;
  constraints->regexes = g_ptr_array_new_with_free_func ((GDestroyNotify)answer_regex_free);
}

static void
constraints_clear (Constraints *constraints)
{
  g_clear_pointer (&constraints->regexes, g_ptr_array_unref);
}

static gboolean
int_attribute (xmlNode     *node,
               const char  *name,
               gint64       min,
               gint64       max,
               gboolean    *has,
               gint64      *out,
               GError     **error)
{
  xmlChar *value = xmlGetNoNsProp (node, (const xmlChar *)name);
  g_autofree char *what = NULL;
  gboolean ok;

  *has = value != NULL;
  if (value == NULL)
    return TRUE;

  what = g_strdup_printf ("%s %s", node_name (node), name);
  ok = parse_integer (node, what, (const char *)value, min, max, out, error);
  xmlFree (value);
  return ok;
}

static gboolean
check_regex (xmlNode      *node,
             Constraints  *constraints,
             GError      **error)
{
  static const char * const attributes[] = { "regex", "errorText", "flags", NULL };
  g_autoptr(GError) regex_error = NULL;
  GRegexCompileFlags flags = 0;
  xmlChar *pattern;
  xmlChar *error_text;
  xmlChar *flag_text;
  AnswerRegex *regex;
  gboolean ok = FALSE;

  if (!check_attributes (node, attributes, error))
    return FALSE;

  pattern = xmlGetNoNsProp (node, (const xmlChar *)"regex");
  error_text = xmlGetNoNsProp (node, (const xmlChar *)"errorText");
  flag_text = xmlGetNoNsProp (node, (const xmlChar *)"flags");

  if (pattern == NULL || *pattern == '\0')
    {
      invalid (error, DOC_QUESTION, node_line (node),
               _("AnswerFormatRegex needs a “regex” attribute"));
      goto out;
    }

  /* The flags are JavaScript's, as the regex runs in the worker's browser
   * on MTurk; g, u and y change nothing for a single test. */
  for (const xmlChar *f = flag_text; f != NULL && *f; f++)
    {
      switch (*f)
        {
        case 'i': flags |= G_REGEX_CASELESS; break;
        case 'm': flags |= G_REGEX_MULTILINE; break;
        case 's': flags |= G_REGEX_DOTALL; break;
        case 'g': case 'u': case 'y': break;
        default:
          invalid (error, DOC_QUESTION, node_line (node),
                   _("AnswerFormatRegex flags “%s” are not valid; use i, m or s"),
                   (const char *)flag_text);
          goto out;
        }
    }

  regex = g_new0 (AnswerRegex, 1);
  regex->regex = g_regex_new ((const char *)pattern, flags, 0, &regex_error);
  if (regex->regex == NULL)
    {
      answer_regex_free (regex);
      invalid (error, DOC_QUESTION, node_line (node),
               _("AnswerFormatRegex “%s” is not a valid regular expression: %s"),
               (const char *)pattern, regex_error->message);
      goto out;
    }
  if (error_text != NULL && *error_text != '\0')
    regex->error_text = g_strdup ((const char *)error_text);
  g_ptr_array_add (constraints->regexes, regex);
  ok = TRUE;

out:
  xmlFree (pattern);
  xmlFree (error_text);
  xmlFree (flag_text);
  return ok;
}

static gboolean
check_constraints (Checker      *c,
                   xmlNode      *node,
                   Constraints  *constraints,
                   GError      **error)
{
  static const Slot slots[] = {
    { "IsNumeric", 0, 1 }, { "Length", 0, 1 }, { "AnswerFormatRegex", 0, 0 },
  };
  static const char * const numeric_attributes[] = { "minValue", "maxValue", NULL };
  static const char * const length_attributes[] = { "minLength", "maxLength", NULL };

  if (!check_sequence (c, node, slots, G_N_ELEMENTS (slots), error))
    return FALSE;

  FOREACH_ELEMENT (child, node)
    {
      const char *name = node_name (child);
      gboolean has_min, has_max;

      if (!check_element_only (c, child, error))
        return FALSE;
      FOREACH_ELEMENT (inner, child)
        {
          invalid (error, DOC_QUESTION, node_line (inner),
                   _("“%s” is not allowed in “%s”"), node_name (inner), name);
          return FALSE;
        }

      if (g_str_equal (name, "IsNumeric"))
        {
          constraints->numeric = TRUE;
          if (!check_attributes (child, numeric_attributes, error) ||
              !int_attribute (child, "minValue", G_MININT32, G_MAXINT32,
                              &constraints->has_min_value, &constraints->min_value, error) ||
              !int_attribute (child, "maxValue", G_MININT32, G_MAXINT32,
                              &constraints->has_max_value, &constraints->max_value, error))
            return FALSE;
          if (constraints->has_min_value && constraints->has_max_value &&
              constraints->min_value > constraints->max_value)
            {
              invalid (error, DOC_QUESTION, node_line (child),
                       _("IsNumeric minValue is greater than maxValue"));
              return FALSE;
            }
        }
      else if (g_str_equal (name, "Length"))
        {
          if (!check_attributes (child, length_attributes, error) ||
              !int_attribute (child, "minLength", 0, G_MAXINT, &has_min,
                              &constraints->min_length, error) ||
              !int_attribute (child, "maxLength", 0, G_MAXINT, &has_max,
                              &constraints->max_length, error))
            return FALSE;
          if (!has_min)
            constraints->min_length = -1;
          if (!has_max)
            constraints->max_length = -1;
          if (has_min && has_max && constraints->min_length > constraints->max_length)
            {
              invalid (error, DOC_QUESTION, node_line (child),
                       _("Length minLength is greater than maxLength"));
              return FALSE;
            }
        }
      else if (!check_regex (child, constraints, error))
        return FALSE;
    }

  return TRUE;
}

/* FreeTextAnswer, and OtherSelection which has the same content. */
static gboolean
check_free_text (Checker      *c,
                 xmlNode      *node,
                 Constraints  *constraints,
                 GError      **error)
{
  static const Slot slots[] = {
    { "Constraints", 0, 1 }, { "DefaultText", 0, 1 }, { "NumberOfLinesSuggestion", 0, 1 },
  };

  if (!check_sequence (c, node, slots, G_N_ELEMENTS (slots), error))
    return FALSE;

  FOREACH_ELEMENT (child, node)
    {
      const char *name = node_name (child);
      gint64 lines;

      if (g_str_equal (name, "Constraints"))
        {
          if (!check_constraints (c, child, constraints, error))
            return FALSE;
        }
      else if (g_str_equal (name, "DefaultText"))
        {
          g_autofree char *text = text_of (child, FALSE, error);

          if (text == NULL)
            return FALSE;
        }
      else if (!integer_of (child, 1, G_MAXINT, &lines, error))
        return FALSE;
    }

  return TRUE;
}

static gboolean
check_selection (Checker       *c,
                 xmlNode       *node,
                 QuestionSpec  *spec,
                 GError       **error)
{
  guint n = 0;

  if (!check_element_only (c, node, error) || !check_attributes (node, NULL, error))
    return FALSE;

  FOREACH_ELEMENT (child, node)
    {
      const char *name = node_name (child);

      if (n == 0)
        {
          g_autofree char *id = NULL;

          if (!g_str_equal (name, "SelectionIdentifier"))
            {
              invalid (error, DOC_QUESTION, node_line (child),
                       _("Selection must start with SelectionIdentifier, not “%s”"), name);
              return FALSE;
            }
          if ((id = text_of (child, TRUE, error)) == NULL)
            return FALSE;
          if (g_hash_table_contains (spec->selections, id))
            {
              invalid (error, DOC_QUESTION, node_line (child),
                       _("SelectionIdentifier “%s” is used twice in question “%s”"),
                       id, spec->id);
              return FALSE;
            }
          g_hash_table_add (spec->selections, g_steal_pointer (&id));
        }
      else if (n == 1)
        {
          if (g_str_equal (name, "Text") || g_str_equal (name, "FormattedContent") ||
              g_str_equal (name, "Binary"))
            {
              if (!check_content_element (c, child, error))
                return FALSE;
            }
          else
            {
              invalid (error, DOC_QUESTION, node_line (child),
                       _("a Selection shows Text, FormattedContent or Binary, not “%s”"), name);
              return FALSE;
            }
        }
      else
        {
          invalid (error, DOC_QUESTION, node_line (child),
                   _("“%s” is not allowed here: a Selection has one SelectionIdentifier "
                     "and one Text, FormattedContent or Binary"), name);
          return FALSE;
        }
      n++;
    }

  if (n < 2)
    {
      invalid (error, DOC_QUESTION, node_line (node),
               _("a Selection needs a SelectionIdentifier and a Text, "
                 "FormattedContent or Binary"));
      return FALSE;
    }

  return TRUE;
}

static gboolean
check_selection_answer (Checker       *c,
                        xmlNode       *node,
                        QuestionSpec  *spec,
                        GError       **error)
{
  static const Slot slots[] = {
    { "MinSelectionCount", 0, 1 }, { "MaxSelectionCount", 0, 1 },
    { "StyleSuggestion", 0, 1 }, { "Selections", 1, 1 },
  };
  static const Slot selections_slots[] = { { "Selection", 1, 0 }, { "OtherSelection", 0, 1 } };
  static const char * const styles[] = {
    "radiobutton", "checkbox", "list", "dropdown", "combobox", "multichooser", NULL,
  };
  guint n_options;

  if (!check_sequence (c, node, slots, G_N_ELEMENTS (slots), error))
    return FALSE;

  spec->kind = ANSWER_SELECTION;
  spec->min_selections = 1;
  spec->max_selections = 1;

  FOREACH_ELEMENT (child, node)
    {
      const char *name = node_name (child);

      if (g_str_equal (name, "MinSelectionCount"))
        {
          if (!integer_of (child, 0, G_MAXINT, &spec->min_selections, error))
            return FALSE;
        }
      else if (g_str_equal (name, "MaxSelectionCount"))
        {
          if (!integer_of (child, 1, G_MAXINT, &spec->max_selections, error))
            return FALSE;
        }
      else if (g_str_equal (name, "StyleSuggestion"))
        {
          g_autofree char *style = text_of (child, TRUE, error);

          if (style == NULL)
            return FALSE;
          g_strstrip (style);
          if (!g_strv_contains (styles, style))
            {
              invalid (error, DOC_QUESTION, node_line (child),
                       _("StyleSuggestion must be radiobutton, checkbox, list, dropdown, "
                         "combobox or multichooser, not “%s”"), style);
              return FALSE;
            }
        }
      else
        {
          if (!check_sequence (c, child, selections_slots, G_N_ELEMENTS (selections_slots), error))
            return FALSE;
          FOREACH_ELEMENT (selection, child)
            {
              if (g_str_equal (node_name (selection), "Selection"))
                {
                  if (!check_selection (c, selection, spec, error))
                    return FALSE;
                }
              else
                {
                  spec->has_other = TRUE;
                  if (!check_free_text (c, selection, &spec->other, error))
                    return FALSE;
                }
            }
        }
    }

  if (spec->min_selections > spec->max_selections)
    {
      invalid (error, DOC_QUESTION, node_line (node),
               _("MinSelectionCount (%" PRId64 ") is greater than "
                 "MaxSelectionCount (%" PRId64 ")"),
               spec->min_selections, spec->max_selections);
      return FALSE;
    }

  n_options = g_hash_table_size (spec->selections) + (spec->has_other ? 1 : 0);
  if (spec->min_selections > n_options)
    {
      invalid (error, DOC_QUESTION, node_line (node),
               _("MinSelectionCount (%" PRId64 ") is more than the %u choices offered"),
               spec->min_selections, n_options);
      return FALSE;
    }

  return TRUE;
}

static gboolean
check_file_upload_answer (Checker       *c,
                          xmlNode       *node,
                          QuestionSpec  *spec,
                          GError       **error)
{
  static const Slot slots[] = { { "MaxFileSizeInBytes", 1, 1 }, { "MinFileSizeInBytes", 1, 1 } };

  if (c->v2017)
    {
      invalid (error, DOC_QUESTION, node_line (node),
               _("FileUploadAnswer is not part of the 2017-11-06 QuestionForm schema; "
                 "use the 2005-10-01 namespace or an HTMLQuestion"));
      return FALSE;
    }

  if (!check_sequence (c, node, slots, G_N_ELEMENTS (slots), error))
    return FALSE;

  spec->kind = ANSWER_FILE_UPLOAD;
  FOREACH_ELEMENT (child, node)
    {
      gint64 *out = g_str_equal (node_name (child), "MaxFileSizeInBytes")
                    ? &spec->max_file_size : &spec->min_file_size;

      if (!integer_of (child, 0, MAX_FILE_SIZE, out, error))
        return FALSE;
    }

  if (spec->min_file_size > spec->max_file_size)
    {
      invalid (error, DOC_QUESTION, node_line (node),
               _("MinFileSizeInBytes is greater than MaxFileSizeInBytes"));
      return FALSE;
    }

  return TRUE;
}

static gboolean
check_answer_specification (Checker       *c,
                            xmlNode       *node,
                            QuestionSpec  *spec,
                            GError       **error)
{
  xmlNode *answer = NULL;
  const char *name;

  if (!check_element_only (c, node, error) || !check_attributes (node, NULL, error))
    return FALSE;

  FOREACH_ELEMENT (child, node)
    {
      if (answer != NULL)
        {
          invalid (error, DOC_QUESTION, node_line (child),
                   _("AnswerSpecification must hold exactly one of FreeTextAnswer, "
                     "SelectionAnswer or FileUploadAnswer"));
          return FALSE;
        }
      answer = child;
    }

  if (answer == NULL)
    {
      invalid (error, DOC_QUESTION, node_line (node),
               _("AnswerSpecification must hold exactly one of FreeTextAnswer, "
                 "SelectionAnswer or FileUploadAnswer"));
      return FALSE;
    }

  name = node_name (answer);
  if (g_str_equal (name, "FreeTextAnswer"))
    {
      spec->kind = ANSWER_FREE_TEXT;
      return check_free_text (c, answer, &spec->text, error);
    }
  if (g_str_equal (name, "SelectionAnswer"))
    return check_selection_answer (c, answer, spec, error);
  if (g_str_equal (name, "FileUploadAnswer"))
    return check_file_upload_answer (c, answer, spec, error);

  invalid (error, DOC_QUESTION, node_line (answer),
           _("“%s” is not allowed in “%s”"), name, node_name (node));
  return FALSE;
}

static void
question_spec_free (QuestionSpec *spec)
{
  g_free (spec->id);
  constraints_clear (&spec->text);
  constraints_clear (&spec->other);
  g_clear_pointer (&spec->selections, g_hash_table_unref);
  g_free (spec);
}

static QuestionSpec *
question_spec_new (void)
{
  QuestionSpec *spec = g_new0 (QuestionSpec, 1);

  constraints_init (&spec->text);
  constraints_init (&spec->other);
  spec->selections = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return spec;
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (QuestionSpec, question_spec_free)

static gboolean
check_question (Checker  *c,
                xmlNode  *node,
                GError  **error)
{
  static const Slot slots[] = {
    { "QuestionIdentifier", 1, 1 }, { "DisplayName", 0, 1 }, { "IsRequired", 0, 1 },
    { "QuestionContent", 1, 1 }, { "AnswerSpecification", 1, 1 },
  };
  g_autoptr(QuestionSpec) spec = question_spec_new ();

  if (!check_sequence (c, node, slots, G_N_ELEMENTS (slots), error))
    return FALSE;

  FOREACH_ELEMENT (child, node)
    {
      const char *name = node_name (child);

      if (g_str_equal (name, "QuestionIdentifier"))
        {
          if ((spec->id = text_of (child, TRUE, error)) == NULL)
            return FALSE;
          if (g_hash_table_contains (c->info->questions, spec->id))
            {
              invalid (error, DOC_QUESTION, node_line (child),
                       _("QuestionIdentifier “%s” is used twice"), spec->id);
              return FALSE;
            }
        }
      else if (g_str_equal (name, "DisplayName"))
        {
          g_autofree char *text = text_of (child, FALSE, error);

          if (text == NULL)
            return FALSE;
        }
      else if (g_str_equal (name, "IsRequired"))
        {
          g_autofree char *text = text_of (child, TRUE, error);

          if (text == NULL)
            return FALSE;
          g_strstrip (text);
          if (g_str_equal (text, "true") || g_str_equal (text, "1"))
            spec->required = TRUE;
          else if (g_str_equal (text, "false") || g_str_equal (text, "0"))
            spec->required = FALSE;
          else
            {
              invalid (error, DOC_QUESTION, node_line (child),
                       _("IsRequired must be “true” or “false”, not “%s”"), text);
              return FALSE;
            }
        }
      else if (g_str_equal (name, "QuestionContent"))
        {
          if (!check_content (c, child, error))
            return FALSE;
        }
      else if (!check_answer_specification (c, child, spec, error))
        return FALSE;
    }

  g_ptr_array_add (c->info->pub.question_ids, g_strdup (spec->id));
  g_hash_table_insert (c->info->questions, spec->id, spec);
  g_steal_pointer (&spec);
  return TRUE;
}

static gboolean
check_question_form (Checker  *c,
                     xmlNode  *root,
                     GError  **error)
{
  if (!check_element_only (c, root, error) || !check_attributes (root, NULL, error))
    return FALSE;

  FOREACH_ELEMENT (child, root)
    {
      const char *name = node_name (child);

      if (g_str_equal (name, "Overview"))
        {
          if (!check_content (c, child, error))
            return FALSE;
        }
      else if (g_str_equal (name, "Question"))
        {
          if (!check_question (c, child, error))
            return FALSE;
        }
      else
        {
          invalid (error, DOC_QUESTION, node_line (child),
                   _("QuestionForm may contain only Overview and Question, not “%s”"), name);
          return FALSE;
        }
    }

  if (c->info->pub.question_ids->len == 0)
    {
      invalid (error, DOC_QUESTION, node_line (root),
               _("QuestionForm needs at least one Question"));
      return FALSE;
    }

  return TRUE;
}

static gboolean
check_frame_question (Checker  *c,
                      xmlNode  *root,
                      GError  **error)
{
  static const Slot html_slots[] = { { "HTMLContent", 1, 1 }, { "FrameHeight", 1, 1 } };
  static const Slot external_slots[] = { { "ExternalURL", 1, 1 }, { "FrameHeight", 1, 1 } };
  KpQuestionInfo *info = &c->info->pub;

  if (info->kind == KP_QUESTION_HTML)
    {
      if (!check_sequence (c, root, html_slots, G_N_ELEMENTS (html_slots), error))
        return FALSE;
    }
  else if (!check_sequence (c, root, external_slots, G_N_ELEMENTS (external_slots), error))
    return FALSE;

  FOREACH_ELEMENT (child, root)
    {
      const char *name = node_name (child);
      gint64 height;

      if (g_str_equal (name, "HTMLContent"))
        {
          if ((info->html_content = text_of (child, TRUE, error)) == NULL)
            return FALSE;
        }
      else if (g_str_equal (name, "ExternalURL"))
        {
          if (!url_of (child, TRUE, &info->external_url, error))
            return FALSE;
        }
      else
        {
          if (!integer_of (child, 0, G_MAXINT, &height, error))
            return FALSE;
          info->frame_height = (int)height;
        }
    }

  return TRUE;
}

void
kp_question_info_free (KpQuestionInfo *info)
{
  QuestionInfo *self = (QuestionInfo *)info;

  if (info == NULL)
    return;

  g_return_if_fail (self->magic == INFO_MAGIC);

  g_free (info->external_url);
  g_free (info->html_content);
  g_clear_pointer (&info->question_ids, g_ptr_array_unref);
  g_clear_pointer (&self->questions, g_hash_table_unref);
  self->magic = 0;
  g_free (self);
}

KpQuestionInfo *
kp_question_parse (const char  *xml,
                   gssize       length,
                   GError     **error)
{
  g_autoptr(KpQuestionInfo) result = NULL;
  g_autoptr(xmlDoc) doc = NULL;
  QuestionInfo *info;
  Checker checker = { 0 };
  const char *href;
  xmlNode *root;
  gsize size;

  g_return_val_if_fail (xml != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  size = length < 0 ? strlen (xml) : (gsize)length;
  if (size > KP_QUESTION_MAX_LENGTH)
    {
      g_set_error (error, KP_QUESTION_ERROR, KP_QUESTION_ERROR_TOO_LARGE,
                   _("Question is too large: %" "zu" " bytes, "
                     "the most MTurk accepts is %d"),
                   size, KP_QUESTION_MAX_LENGTH);
      return NULL;
    }

  doc = read_xml (xml, size, DOC_QUESTION, error);
  if (doc == NULL)
    return NULL;

  root = xmlDocGetRootElement (doc);
  g_assert (root != NULL);

  info = g_new0 (QuestionInfo, 1);
  info->magic = INFO_MAGIC;
  info->pub.frame_height = -1;
  info->pub.question_ids = g_ptr_array_new_with_free_func (g_free);
  info->questions = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                           (GDestroyNotify)question_spec_free);
  result = &info->pub;
  checker.info = info;

  href = root->ns != NULL ? (const char *)root->ns->href : NULL;
  for (guint i = 0; i < G_N_ELEMENTS (namespaces); i++)
    {
      g_autofree char *ns = g_strconcat (MTURK_NS_BASE, namespaces[i].date, "/",
                                         namespaces[i].root, ".xsd", NULL);

      if (g_str_equal (node_name (root), namespaces[i].root) &&
          href != NULL && g_str_equal (href, ns))
        {
          checker.ns = href;
          checker.v2017 = g_str_equal (namespaces[i].date, "2017-11-06");
          info->pub.kind = namespaces[i].kind;
          break;
        }
    }

  if (checker.ns == NULL)
    {
      if (!g_str_equal (node_name (root), "QuestionForm") &&
          !g_str_equal (node_name (root), "HTMLQuestion") &&
          !g_str_equal (node_name (root), "ExternalQuestion"))
        invalid (error, DOC_QUESTION, node_line (root),
                 _("the root element must be QuestionForm, HTMLQuestion or "
                   "ExternalQuestion, not “%s”"), node_name (root));
      else if (href == NULL)
        invalid (error, DOC_QUESTION, node_line (root),
                 _("%s has no namespace; MTurk needs xmlns=\"%s\""), node_name (root),
                 g_str_equal (node_name (root), "QuestionForm")
                   ? MTURK_NS_BASE "2017-11-06/QuestionForm.xsd"
                   : g_str_equal (node_name (root), "HTMLQuestion")
                   ? MTURK_NS_BASE "2011-11-11/HTMLQuestion.xsd"
                   : MTURK_NS_BASE "2006-07-14/ExternalQuestion.xsd");
      else
        invalid (error, DOC_QUESTION, node_line (root),
                 _("%s is in the namespace %s, which is not one MTurk publishes for it"),
                 node_name (root), href);
      return NULL;
    }

  if (info->pub.kind == KP_QUESTION_FORM)
    {
      if (!check_question_form (&checker, root, error))
        return NULL;
    }
  else if (!check_frame_question (&checker, root, error))
    return NULL;

  return g_steal_pointer (&result);
}

/* Answers */

static void G_GNUC_PRINTF (4, 5)
answer_invalid (GError     **error,
                const char  *question_id,
                guint        index,
                const char  *format,
                ...)
{
  g_autofree char *detail = NULL;
  va_list args;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);

  if (question_id != NULL)
    g_set_error (error, KP_QUESTION_ERROR, KP_QUESTION_ERROR_INVALID,
                 _("Answer to question “%s” is not valid: %s"), question_id, detail);
  else
    g_set_error (error, KP_QUESTION_ERROR, KP_QUESTION_ERROR_INVALID,
                 _("Answer %u is not valid: %s"), index + 1, detail);
}

static gboolean
is_xml_char (gunichar c)
{
  return c == 0x9 || c == 0xA || c == 0xD ||
         (c >= 0x20 && c <= 0xD7FF) ||
         (c >= 0xE000 && c <= 0xFFFD) ||
         (c >= 0x10000 && c <= 0x10FFFF);
}

/* NULL if text is fine, else why not. */
static const char *
check_text (const char *text)
{
  if (!g_utf8_validate (text, -1, NULL))
    return _("it is not valid UTF-8 text");

  for (const char *p = text; *p; p = g_utf8_next_char (p))
    if (!is_xml_char (g_utf8_get_char (p)))
      return _("it contains a control character that XML cannot carry");

  return NULL;
}

/* Plain ASCII out: markup characters as entities, carriage returns and
 * everything beyond ASCII as character references, so that "]]>" and
 * friends can never close anything and the text survives any parser. */
static void
append_escaped (GString    *out,
                const char *text)
{
  for (const char *p = text; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      switch (c)
        {
        case '&': g_string_append (out, "&amp;"); break;
        case '<': g_string_append (out, "&lt;"); break;
        case '>': g_string_append (out, "&gt;"); break;
        case '"': g_string_append (out, "&quot;"); break;
        case '\'': g_string_append (out, "&apos;"); break;
        case '\r': g_string_append (out, "&#13;"); break;
        default:
          if (c < 0x80)
            g_string_append_c (out, (char)c);
          else
            g_string_append_printf (out, "&#%u;", c);
        }
    }
}

static void
append_element (GString    *out,
                const char *name,
                const char *text)
{
  g_string_append_printf (out, "<%s>", name);
  append_escaped (out, text);
  g_string_append_printf (out, "</%s>", name);
}

static gboolean
check_constraints_of (const QuestionSpec  *spec,
                      const Constraints   *constraints,
                      const char          *text,
                      GError             **error)
{
  if (constraints->numeric)
    {
      g_autofree char *copy = g_strstrip (g_strdup (text));
      char *end = NULL;
      double value = g_ascii_strtod (copy, &end);

      if (*copy == '\0' || *end != '\0' || !isfinite (value) ||
          g_ascii_isalpha (*copy) || strpbrk (copy, "xXpP") != NULL)
        {
          answer_invalid (error, spec->id, 0, _("“%s” is not a number"), text);
          return FALSE;
        }
      if (constraints->has_min_value && value < (double)constraints->min_value)
        {
          answer_invalid (error, spec->id, 0,
                          _("%s is less than the smallest value allowed, %" PRId64),
                          copy, constraints->min_value);
          return FALSE;
        }
      if (constraints->has_max_value && value > (double)constraints->max_value)
        {
          answer_invalid (error, spec->id, 0,
                          _("%s is more than the largest value allowed, %" PRId64),
                          copy, constraints->max_value);
          return FALSE;
        }
    }

  if (constraints->min_length >= 0 || constraints->max_length >= 0)
    {
      glong length = g_utf8_strlen (text, -1);

      if (constraints->min_length >= 0 && length < constraints->min_length)
        {
          answer_invalid (error, spec->id, 0,
                          _("it is %ld characters long, shorter than the %" PRId64 " required"),
                          length, constraints->min_length);
          return FALSE;
        }
      if (constraints->max_length >= 0 && length > constraints->max_length)
        {
          answer_invalid (error, spec->id, 0,
                          _("it is %ld characters long, longer than the %" PRId64 " allowed"),
                          length, constraints->max_length);
          return FALSE;
        }
    }

  for (guint i = 0; i < constraints->regexes->len; i++)
    {
      const AnswerRegex *regex = constraints->regexes->pdata[i];

      if (!g_regex_match (regex->regex, text, 0, NULL))
        {
          if (regex->error_text != NULL)
            answer_invalid (error, spec->id, 0, "%s", regex->error_text);
          else
            answer_invalid (error, spec->id, 0,
                            _("it does not match the pattern %s"),
                            g_regex_get_pattern (regex->regex));
          return FALSE;
        }
    }

  return TRUE;
}

static const char *
answer_kind_name (AnswerKind kind)
{
  switch (kind)
    {
    case ANSWER_FREE_TEXT: return "FreeText";
    case ANSWER_SELECTION: return "SelectionIdentifier";
    case ANSWER_FILE_UPLOAD: return "UploadedFileKey";
    default: g_assert_not_reached ();
    }
}

/* Checks one well-formed answer against its question. */
static gboolean
check_answer (const QuestionSpec  *spec,
              AnswerKind           kind,
              const char          *free_text,
              JsonArray           *selections,
              const char          *other_text,
              gint64               file_size,
              GError             **error)
{
  if (kind != spec->kind)
    {
      answer_invalid (error, spec->id, 0,
                      _("the question expects “%s”, not “%s”"),
                      answer_kind_name (spec->kind), answer_kind_name (kind));
      return FALSE;
    }

  switch (kind)
    {
    case ANSWER_FREE_TEXT:
      if (is_blank (free_text))
        {
          if (spec->required)
            {
              answer_invalid (error, spec->id, 0, _("the question requires an answer"));
              return FALSE;
            }
          return TRUE;
        }
      return check_constraints_of (spec, &spec->text, free_text, error);

    case ANSWER_SELECTION:
      {
        guint n = json_array_get_length (selections);
        g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
        gint64 count;

        for (guint i = 0; i < n; i++)
          {
            const char *id = json_array_get_string_element (selections, i);

            if (!g_hash_table_contains (spec->selections, id))
              {
                answer_invalid (error, spec->id, 0,
                                _("“%s” is not one of the question’s selections"), id);
                return FALSE;
              }
            if (!g_hash_table_add (seen, (gpointer)id))
              {
                answer_invalid (error, spec->id, 0, _("“%s” is selected twice"), id);
                return FALSE;
              }
          }

        if (other_text != NULL)
          {
            if (!spec->has_other)
              {
                answer_invalid (error, spec->id, 0,
                                _("the question has no OtherSelection for “OtherSelectionText”"));
                return FALSE;
              }
            if (!check_constraints_of (spec, &spec->other, other_text, error))
              return FALSE;
          }

        count = n + (other_text != NULL ? 1 : 0);
        if (count == 0 && !spec->required)
          return TRUE;
        if (count < spec->min_selections)
          {
            answer_invalid (error, spec->id, 0,
                            _("%" PRId64 " selected, at least %" PRId64 " required"),
                            count, MAX (spec->min_selections, 1));
            return FALSE;
          }
        if (count == 0)
          {
            answer_invalid (error, spec->id, 0, _("the question requires an answer"));
            return FALSE;
          }
        if (count > spec->max_selections)
          {
            answer_invalid (error, spec->id, 0,
                            _("%" PRId64 " selected, at most %" PRId64 " allowed"),
                            count, spec->max_selections);
            return FALSE;
          }
        return TRUE;
      }

    case ANSWER_FILE_UPLOAD:
      if (file_size < spec->min_file_size || file_size > spec->max_file_size)
        {
          answer_invalid (error, spec->id, 0,
                          _("the file has %" PRId64 " bytes, outside the %"
                            PRId64 " to %" PRId64 " allowed"),
                          file_size, spec->min_file_size, spec->max_file_size);
          return FALSE;
        }
      return TRUE;

    default:
      g_assert_not_reached ();
    }
}

static gboolean
get_string_member (JsonObject   *object,
                   const char   *member,
                   const char   *question_id,
                   guint         index,
                   const char  **out,
                   GError      **error)
{
  JsonNode *node = json_object_get_member (object, member);
  const char *problem;

  if (node == NULL)
    {
      *out = NULL;
      return TRUE;
    }
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      answer_invalid (error, question_id, index, _("“%s” must be a string"), member);
      return FALSE;
    }

  *out = json_node_get_string (node);
  if ((problem = check_text (*out)) != NULL)
    {
      answer_invalid (error, question_id, index, "%s: %s", member, problem);
      return FALSE;
    }
  return TRUE;
}

char *
kp_question_answers_to_xml (const KpQuestionInfo  *info,
                            JsonArray             *answers,
                            GError               **error)
{
  static const char * const members[] = {
    "QuestionIdentifier", "FreeText", "SelectionIdentifier", "OtherSelectionText",
    "UploadedFileKey", "UploadedFileSizeInBytes", NULL,
  };
  const QuestionInfo *form = NULL;
  g_autoptr(GString) out = NULL;
  g_autoptr(GHashTable) answered = NULL;
  guint n;

  g_return_val_if_fail (answers != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (info != NULL && info->kind == KP_QUESTION_FORM)
    {
      form = (const QuestionInfo *)info;
      g_return_val_if_fail (form->magic == INFO_MAGIC, NULL);
    }

  answered = g_hash_table_new (g_str_hash, g_str_equal);
  out = g_string_new ("<?xml version=\"1.0\" encoding=\"ASCII\"?>"
                      "<QuestionFormAnswers xmlns=\"" ANSWERS_NS "\">");

  n = json_array_get_length (answers);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (answers, i);
      JsonObject *object;
      g_autoptr(GList) names = NULL;
      const char *id = NULL;
      const char *free_text = NULL;
      const char *other_text = NULL;
      const char *file_key = NULL;
      JsonArray *selections = NULL;
      JsonNode *member;
      gint64 file_size = -1;
      AnswerKind kind;
      guint n_kinds = 0;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        {
          answer_invalid (error, NULL, i, _("it is not a JSON object"));
          return NULL;
        }
      object = json_node_get_object (node);

      names = json_object_get_members (object);
      for (GList *l = names; l != NULL; l = l->next)
        if (!g_strv_contains (members, l->data))
          {
            const char *problem = check_text (l->data);

            if (problem != NULL)
              answer_invalid (error, NULL, i, _("a member name: %s"), problem);
            else
              answer_invalid (error, NULL, i, _("unknown member “%s”"), (const char *)l->data);
            return NULL;
          }

      if (!get_string_member (object, "QuestionIdentifier", NULL, i, &id, error))
        return NULL;
      if (id == NULL || *id == '\0')
        {
          answer_invalid (error, NULL, i, _("it needs a non-empty “QuestionIdentifier”"));
          return NULL;
        }
      if (!g_hash_table_add (answered, (gpointer)id))
        {
          answer_invalid (error, id, i, _("the question is answered twice"));
          return NULL;
        }

      if (!get_string_member (object, "FreeText", id, i, &free_text, error) ||
          !get_string_member (object, "OtherSelectionText", id, i, &other_text, error) ||
          !get_string_member (object, "UploadedFileKey", id, i, &file_key, error))
        return NULL;

      if ((member = json_object_get_member (object, "SelectionIdentifier")) != NULL)
        {
          if (!JSON_NODE_HOLDS_ARRAY (member))
            {
              answer_invalid (error, id, i, _("“SelectionIdentifier” must be an array of strings"));
              return NULL;
            }
          selections = json_node_get_array (member);
          for (guint j = 0; j < json_array_get_length (selections); j++)
            {
              JsonNode *element = json_array_get_element (selections, j);
              const char *problem;

              if (!JSON_NODE_HOLDS_VALUE (element) ||
                  json_node_get_value_type (element) != G_TYPE_STRING)
                {
                  answer_invalid (error, id, i, _("“SelectionIdentifier” must be an array of strings"));
                  return NULL;
                }
              if ((problem = check_text (json_node_get_string (element))) != NULL)
                {
                  answer_invalid (error, id, i, "SelectionIdentifier: %s", problem);
                  return NULL;
                }
            }
        }

      if ((member = json_object_get_member (object, "UploadedFileSizeInBytes")) != NULL)
        {
          if (!JSON_NODE_HOLDS_VALUE (member) ||
              json_node_get_value_type (member) != G_TYPE_INT64 ||
              json_node_get_int (member) < 0)
            {
              answer_invalid (error, id, i,
                              _("“UploadedFileSizeInBytes” must be a whole number of bytes"));
              return NULL;
            }
          file_size = json_node_get_int (member);
        }

      n_kinds = (free_text != NULL) + (selections != NULL) + (file_key != NULL);
      if (n_kinds != 1)
        {
          answer_invalid (error, id, i,
                          _("it needs exactly one of “FreeText”, “SelectionIdentifier” "
                            "or “UploadedFileKey”"));
          return NULL;
        }
      if (other_text != NULL && selections == NULL)
        {
          answer_invalid (error, id, i,
                          _("“OtherSelectionText” goes only with “SelectionIdentifier”"));
          return NULL;
        }
      if ((file_key != NULL) != (file_size >= 0))
        {
          answer_invalid (error, id, i,
                          _("“UploadedFileKey” and “UploadedFileSizeInBytes” go together"));
          return NULL;
        }
      if (file_key != NULL && *file_key == '\0')
        {
          answer_invalid (error, id, i, _("“UploadedFileKey” must not be empty"));
          return NULL;
        }

      kind = free_text != NULL ? ANSWER_FREE_TEXT
             : selections != NULL ? ANSWER_SELECTION : ANSWER_FILE_UPLOAD;

      if (form != NULL)
        {
          const QuestionSpec *spec = g_hash_table_lookup (form->questions, id);

          if (spec == NULL)
            {
              answer_invalid (error, id, i, _("the form has no such question"));
              return NULL;
            }
          if (!check_answer (spec, kind, free_text, selections, other_text, file_size, error))
            return NULL;
        }

      g_string_append (out, "<Answer>");
      append_element (out, "QuestionIdentifier", id);
      switch (kind)
        {
        case ANSWER_FREE_TEXT:
          append_element (out, "FreeText", free_text);
          break;

        case ANSWER_SELECTION:
          for (guint j = 0; j < json_array_get_length (selections); j++)
            append_element (out, "SelectionIdentifier",
                            json_array_get_string_element (selections, j));
          if (other_text != NULL)
            append_element (out, "OtherSelectionText", other_text);
          break;

        case ANSWER_FILE_UPLOAD:
          g_string_append_printf (out, "<UploadedFileSizeInBytes>%" PRId64
                                  "</UploadedFileSizeInBytes>", file_size);
          append_element (out, "UploadedFileKey", file_key);
          break;

        default:
          g_assert_not_reached ();
        }
      g_string_append (out, "</Answer>");
    }

  if (form != NULL)
    {
      for (guint i = 0; i < form->pub.question_ids->len; i++)
        {
          const char *id = form->pub.question_ids->pdata[i];
          const QuestionSpec *spec = g_hash_table_lookup (form->questions, id);

          if (spec->required && !g_hash_table_contains (answered, id))
            {
              answer_invalid (error, id, 0, _("the question requires an answer"));
              return NULL;
            }
        }
    }

  g_string_append (out, "</QuestionFormAnswers>");
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Reading answers back */

static char *
answer_text_of (xmlNode  *node,
                GError  **error)
{
  char *text;
  char *copy;

  for (xmlNode *child = node->children; child != NULL; child = child->next)
    if (child->type == XML_ELEMENT_NODE)
      {
        invalid (error, DOC_ANSWERS, node_line (child),
                 _("“%s” may only contain text, not “%s”"),
                 node_name (node), node_name (child));
        return NULL;
      }

  text = (char *)xmlNodeGetContent (node);
  copy = g_strdup (text != NULL ? text : "");
  xmlFree (text);
  return copy;
}

static gboolean
is_answers_element (xmlNode *node)
{
  return node->type == XML_ELEMENT_NODE && node->ns != NULL &&
         g_str_equal ((const char *)node->ns->href, ANSWERS_NS);
}

static JsonObject *
read_answer (xmlNode  *answer,
             GError  **error)
{
  g_autoptr(JsonObject) object = json_object_new ();
  g_autoptr(JsonArray) selections = json_array_new ();
  g_autofree char *id = NULL;
  g_autofree char *free_text = NULL;
  g_autofree char *other_text = NULL;
  g_autofree char *file_key = NULL;
  gint64 file_size = -1;

  for (xmlNode *child = answer->children; child != NULL; child = child->next)
    {
      const char *name = node_name (child);
      g_autofree char *text = NULL;
      char **slot = NULL;

      if (child->type == XML_TEXT_NODE || child->type == XML_CDATA_SECTION_NODE)
        {
          if (!is_blank ((const char *)child->content))
            {
              invalid (error, DOC_ANSWERS, node_line (child),
                       _("“%s” may only contain elements, not text"), "Answer");
              return NULL;
            }
          continue;
        }
      if (child->type != XML_ELEMENT_NODE)
        continue;
      if (!is_answers_element (child))
        {
          invalid (error, DOC_ANSWERS, node_line (child),
                   _("element “%s” is not in the namespace %s"), name, ANSWERS_NS);
          return NULL;
        }

      if ((text = answer_text_of (child, error)) == NULL)
        return NULL;

      if (g_str_equal (name, "QuestionIdentifier"))
        slot = &id;
      else if (g_str_equal (name, "FreeText"))
        slot = &free_text;
      else if (g_str_equal (name, "OtherSelectionText"))
        slot = &other_text;
      else if (g_str_equal (name, "UploadedFileKey"))
        slot = &file_key;
      else if (g_str_equal (name, "SelectionIdentifier"))
        {
          json_array_add_string_element (selections, text);
          continue;
        }
      else if (g_str_equal (name, "UploadedFileSizeInBytes") && file_size < 0)
        {
          g_strstrip (text);
          if (!g_ascii_string_to_signed (text, 10, 0, G_MAXINT64, &file_size, NULL))
            {
              invalid (error, DOC_ANSWERS, node_line (child),
                       _("UploadedFileSizeInBytes must be a whole number, not “%s”"), text);
              return NULL;
            }
          continue;
        }
      else
        {
          invalid (error, DOC_ANSWERS, node_line (child),
                   _("“%s” is not allowed in “%s”"), name, "Answer");
          return NULL;
        }

      if (*slot != NULL)
        {
          invalid (error, DOC_ANSWERS, node_line (child),
                   _("“%s” may appear only once in “%s”"), name, "Answer");
          return NULL;
        }
      *slot = g_steal_pointer (&text);
    }

  if (id == NULL)
    {
      invalid (error, DOC_ANSWERS, node_line (answer),
               _("“%s” lacks the required element “%s”"), "Answer", "QuestionIdentifier");
      return NULL;
    }

  json_object_set_string_member (object, "QuestionIdentifier", id);

  if (free_text != NULL)
    {
      if (json_array_get_length (selections) > 0 || other_text != NULL ||
          file_key != NULL || file_size >= 0)
        {
          invalid (error, DOC_ANSWERS, node_line (answer),
                   _("an Answer with FreeText holds nothing else"));
          return NULL;
        }
      json_object_set_string_member (object, "FreeText", free_text);
    }
  else if (file_key != NULL || file_size >= 0)
    {
      if (file_key == NULL || file_size < 0 ||
          json_array_get_length (selections) > 0 || other_text != NULL)
        {
          invalid (error, DOC_ANSWERS, node_line (answer),
                   _("an uploaded file’s Answer needs UploadedFileKey and "
                     "UploadedFileSizeInBytes, and nothing else"));
          return NULL;
        }
      json_object_set_string_member (object, "UploadedFileKey", file_key);
      json_object_set_int_member (object, "UploadedFileSizeInBytes", file_size);
    }
  else
    {
      json_object_set_array_member (object, "SelectionIdentifier", g_steal_pointer (&selections));
      if (other_text != NULL)
        json_object_set_string_member (object, "OtherSelectionText", other_text);
    }

  return g_steal_pointer (&object);
}

JsonArray *
kp_question_answers_from_xml (const char  *xml,
                              GError     **error)
{
  g_autoptr(xmlDoc) doc = NULL;
  g_autoptr(JsonArray) answers = NULL;
  xmlNode *root;

  g_return_val_if_fail (xml != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  doc = read_xml (xml, strlen (xml), DOC_ANSWERS, error);
  if (doc == NULL)
    return NULL;

  root = xmlDocGetRootElement (doc);
  if (!g_str_equal (node_name (root), "QuestionFormAnswers") || !is_answers_element (root))
    {
      invalid (error, DOC_ANSWERS, node_line (root),
               _("the root element must be QuestionFormAnswers in the namespace %s"),
               ANSWERS_NS);
      return NULL;
    }

  answers = json_array_new ();
  for (xmlNode *child = root->children; child != NULL; child = child->next)
    {
      JsonObject *answer;

      if (child->type == XML_TEXT_NODE || child->type == XML_CDATA_SECTION_NODE)
        {
          if (!is_blank ((const char *)child->content))
            {
              invalid (error, DOC_ANSWERS, node_line (child),
                       _("“%s” may only contain elements, not text"), "QuestionFormAnswers");
              return NULL;
            }
          continue;
        }
      if (child->type != XML_ELEMENT_NODE)
        continue;
      if (!is_answers_element (child) || !g_str_equal (node_name (child), "Answer"))
        {
          invalid (error, DOC_ANSWERS, node_line (child),
                   _("“%s” is not allowed in “%s”"), node_name (child), "QuestionFormAnswers");
          return NULL;
        }

      if ((answer = read_answer (child, error)) == NULL)
        return NULL;
      json_array_add_object_element (answers, answer);
    }

  return g_steal_pointer (&answers);
}
