/* kp-layout.c: HIT layouts as a tree of nodes, and their problems
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * HTML goes through libxml2's HTML parser in SAX mode: we build our own
 * tree from its events, so that nesting is bounded by an explicit stack
 * (never by recursion) and each node gets the line and column of its
 * start tag, computed from the parser's byte offset. QuestionForm XML is
 * validated by kp_question_parse() first, then walked as a libxml2 tree.
 */

#include "config.h"

#include "kp-layout-private.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include <glib/gi18n-lib.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>

#include "kp-question.h"

G_DEFINE_QUARK (kp-layout-error-quark, kp_layout_error)

/* Problems */

G_DEFINE_BOXED_TYPE (KpLayoutProblem, kp_layout_problem,
                     kp_layout_problem_copy, kp_layout_problem_free)

KpLayoutProblem *
kp_layout_problem_new (KpLayoutSeverity  severity,
                       int               line,
                       int               column,
                       const char       *message)
{
  KpLayoutProblem *problem = g_new0 (KpLayoutProblem, 1);

  problem->severity = severity;
  problem->line = line;
  problem->column = column;
  problem->message = g_strdup (message);

  return problem;
}

KpLayoutProblem *
kp_layout_problem_copy (const KpLayoutProblem *problem)
{
  g_return_val_if_fail (problem != NULL, NULL);

  return kp_layout_problem_new (problem->severity, problem->line, problem->column,
                                problem->message);
}

void
kp_layout_problem_free (KpLayoutProblem *problem)
{
  if (problem == NULL)
    return;

  g_free (problem->message);
  g_free (problem);
}

GPtrArray *
kp_layout_problems_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify)kp_layout_problem_free);
}

static void
problems_add_valist (GPtrArray        *problems,
                     KpLayoutSeverity  severity,
                     int               line,
                     int               column,
                     const char       *format,
                     va_list           args)
{
  g_autofree char *message = NULL;

  if (problems == NULL)
    return;

  message = g_strdup_vprintf (format, args);
  g_ptr_array_add (problems, kp_layout_problem_new (severity, line, column, message));
}

void
kp_layout_problems_add (GPtrArray        *problems,
                        KpLayoutSeverity  severity,
                        int               line,
                        int               column,
                        const char       *format,
                        ...)
{
  va_list args;

  va_start (args, format);
  problems_add_valist (problems, severity, line, column, format, args);
  va_end (args);
}

gboolean
kp_layout_problems_has_errors (GPtrArray *problems)
{
  if (problems == NULL)
    return FALSE;

  for (guint i = 0; i < problems->len; i++)
    {
      const KpLayoutProblem *problem = g_ptr_array_index (problems, i);

      if (problem->severity == KP_LAYOUT_SEVERITY_ERROR)
        return TRUE;
    }

  return FALSE;
}

void
_kp_layout_node_problem (GPtrArray          *problems,
                         const KpLayoutNode *node,
                         KpLayoutSeverity    severity,
                         const char         *format,
                         ...)
{
  va_list args;

  va_start (args, format);
  problems_add_valist (problems, severity, node != NULL ? node->line : 0,
                       node != NULL ? node->column : 0, format, args);
  va_end (args);
}

/* Kinds */

typedef struct
{
  const char       *tag;
  KpLayoutNodeKind  kind;
  int               level;
  /* Attributes MTurk's reference marks as required, space-separated. */
  const char       *required;
} KindInfo;

#define IMAGE_TOOL "name src labels header"

static const KindInfo kinds[] = {
  { "crowd-form", KP_LAYOUT_NODE_CROWD_FORM, 0, NULL },
  { "crowd-alert", KP_LAYOUT_NODE_CROWD_ALERT, 0, NULL },
  { "crowd-badge", KP_LAYOUT_NODE_CROWD_BADGE, 0, NULL },
  { "crowd-bounding-box", KP_LAYOUT_NODE_CROWD_BOUNDING_BOX, 0, IMAGE_TOOL },
  { "crowd-button", KP_LAYOUT_NODE_CROWD_BUTTON, 0, NULL },
  { "crowd-card", KP_LAYOUT_NODE_CROWD_CARD, 0, NULL },
  { "crowd-checkbox", KP_LAYOUT_NODE_CROWD_CHECKBOX, 0, "name" },
  { "crowd-classifier", KP_LAYOUT_NODE_CROWD_CLASSIFIER, 0, "name categories header" },
  { "crowd-classifier-multi-select", KP_LAYOUT_NODE_CROWD_CLASSIFIER_MULTI_SELECT, 0,
    "name categories header" },
  { "crowd-entity-annotation", KP_LAYOUT_NODE_CROWD_ENTITY_ANNOTATION, 0, "name header labels text" },
  { "crowd-fab", KP_LAYOUT_NODE_CROWD_FAB, 0, NULL },
  { "crowd-icon-button", KP_LAYOUT_NODE_CROWD_ICON_BUTTON, 0, NULL },
  { "crowd-image-classifier", KP_LAYOUT_NODE_CROWD_IMAGE_CLASSIFIER, 0, "name src categories header" },
  { "crowd-image-classifier-multi-select", KP_LAYOUT_NODE_CROWD_IMAGE_CLASSIFIER_MULTI_SELECT, 0,
    "name src categories header" },
  { "crowd-input", KP_LAYOUT_NODE_CROWD_INPUT, 0, "name" },
  { "crowd-instance-segmentation", KP_LAYOUT_NODE_CROWD_INSTANCE_SEGMENTATION, 0, IMAGE_TOOL },
  { "crowd-instructions", KP_LAYOUT_NODE_CROWD_INSTRUCTIONS, 0, NULL },
  { "crowd-keypoint", KP_LAYOUT_NODE_CROWD_KEYPOINT, 0, IMAGE_TOOL },
  /* MTurk's reference marks the header of the line tools optional. */
  { "crowd-line", KP_LAYOUT_NODE_CROWD_LINE, 0, "name src labels" },
  { "crowd-modal", KP_LAYOUT_NODE_CROWD_MODAL, 0, NULL },
  { "crowd-polygon", KP_LAYOUT_NODE_CROWD_POLYGON, 0, IMAGE_TOOL },
  { "crowd-polyline", KP_LAYOUT_NODE_CROWD_POLYLINE, 0, "name src labels" },
  { "crowd-radio-button", KP_LAYOUT_NODE_CROWD_RADIO_BUTTON, 0, "name" },
  { "crowd-radio-group", KP_LAYOUT_NODE_CROWD_RADIO_GROUP, 0, NULL },
  { "crowd-semantic-segmentation", KP_LAYOUT_NODE_CROWD_SEMANTIC_SEGMENTATION, 0, IMAGE_TOOL },
  { "crowd-slider", KP_LAYOUT_NODE_CROWD_SLIDER, 0, "name" },
  { "crowd-tab", KP_LAYOUT_NODE_CROWD_TAB, 0, "header" },
  { "crowd-tabs", KP_LAYOUT_NODE_CROWD_TABS, 0, NULL },
  { "crowd-text-area", KP_LAYOUT_NODE_CROWD_TEXT_AREA, 0, "name" },
  { "crowd-toggle-button", KP_LAYOUT_NODE_CROWD_TOGGLE_BUTTON, 0, "name" },
  { "short-instructions", KP_LAYOUT_NODE_REGION_SHORT_INSTRUCTIONS, 0, NULL },
  { "full-instructions", KP_LAYOUT_NODE_REGION_FULL_INSTRUCTIONS, 0, NULL },
  { "classification-target", KP_LAYOUT_NODE_REGION_CLASSIFICATION_TARGET, 0, NULL },
  { "short-summary", KP_LAYOUT_NODE_REGION_SHORT_SUMMARY, 0, NULL },
  { "detailed-instructions", KP_LAYOUT_NODE_REGION_DETAILED_INSTRUCTIONS, 0, NULL },
  { "positive-example", KP_LAYOUT_NODE_REGION_POSITIVE_EXAMPLE, 0, NULL },
  { "negative-example", KP_LAYOUT_NODE_REGION_NEGATIVE_EXAMPLE, 0, NULL },
  { "kp-audio-segmenter", KP_LAYOUT_NODE_KP_AUDIO_SEGMENTER, 0, "name src labels header" },
  { "kp-video-tracker", KP_LAYOUT_NODE_KP_VIDEO_TRACKER, 0, "name src labels header" },
  { "h1", KP_LAYOUT_NODE_HEADING, 1, NULL },
  { "h2", KP_LAYOUT_NODE_HEADING, 2, NULL },
  { "h3", KP_LAYOUT_NODE_HEADING, 3, NULL },
  { "h4", KP_LAYOUT_NODE_HEADING, 4, NULL },
  { "h5", KP_LAYOUT_NODE_HEADING, 5, NULL },
  { "h6", KP_LAYOUT_NODE_HEADING, 6, NULL },
  { "p", KP_LAYOUT_NODE_PARAGRAPH, 0, NULL },
  { "div", KP_LAYOUT_NODE_BLOCK, 0, NULL },
  { "section", KP_LAYOUT_NODE_BLOCK, 0, NULL },
  { "article", KP_LAYOUT_NODE_BLOCK, 0, NULL },
  { "header", KP_LAYOUT_NODE_BLOCK, 0, NULL },
  { "footer", KP_LAYOUT_NODE_BLOCK, 0, NULL },
  { "main", KP_LAYOUT_NODE_BLOCK, 0, NULL },
  { "nav", KP_LAYOUT_NODE_BLOCK, 0, NULL },
  { "aside", KP_LAYOUT_NODE_BLOCK, 0, NULL },
  { "form", KP_LAYOUT_NODE_BLOCK, 0, NULL },
  { "fieldset", KP_LAYOUT_NODE_BLOCK, 0, NULL },
  { "legend", KP_LAYOUT_NODE_BLOCK, 0, NULL },
  { "blockquote", KP_LAYOUT_NODE_BLOCK, 0, NULL },
  { "pre", KP_LAYOUT_NODE_BLOCK, 0, NULL },
  { "center", KP_LAYOUT_NODE_BLOCK, 0, NULL },
  { "figure", KP_LAYOUT_NODE_BLOCK, 0, NULL },
  { "figcaption", KP_LAYOUT_NODE_BLOCK, 0, NULL },
  { "details", KP_LAYOUT_NODE_BLOCK, 0, NULL },
  { "summary", KP_LAYOUT_NODE_BLOCK, 0, NULL },
  { "dl", KP_LAYOUT_NODE_BLOCK, 0, NULL },
  { "dt", KP_LAYOUT_NODE_BLOCK, 0, NULL },
  { "dd", KP_LAYOUT_NODE_BLOCK, 0, NULL },
  { "span", KP_LAYOUT_NODE_INLINE, 0, NULL },
  { "label", KP_LAYOUT_NODE_INLINE, 0, NULL },
  { "code", KP_LAYOUT_NODE_INLINE, 0, NULL },
  { "small", KP_LAYOUT_NODE_INLINE, 0, NULL },
  { "sub", KP_LAYOUT_NODE_INLINE, 0, NULL },
  { "sup", KP_LAYOUT_NODE_INLINE, 0, NULL },
  { "u", KP_LAYOUT_NODE_INLINE, 0, NULL },
  { "s", KP_LAYOUT_NODE_INLINE, 0, NULL },
  { "mark", KP_LAYOUT_NODE_INLINE, 0, NULL },
  { "font", KP_LAYOUT_NODE_INLINE, 0, NULL },
  { "tt", KP_LAYOUT_NODE_INLINE, 0, NULL },
  { "kbd", KP_LAYOUT_NODE_INLINE, 0, NULL },
  { "br", KP_LAYOUT_NODE_LINE_BREAK, 0, NULL },
  { "hr", KP_LAYOUT_NODE_LINE_BREAK, 1, NULL },
  { "ul", KP_LAYOUT_NODE_LIST, 0, NULL },
  { "ol", KP_LAYOUT_NODE_LIST, 1, NULL },
  { "li", KP_LAYOUT_NODE_LIST_ITEM, 0, NULL },
  { "em", KP_LAYOUT_NODE_EMPHASIS, 0, NULL },
  { "i", KP_LAYOUT_NODE_EMPHASIS, 0, NULL },
  { "strong", KP_LAYOUT_NODE_STRONG, 0, NULL },
  { "b", KP_LAYOUT_NODE_STRONG, 0, NULL },
  { "a", KP_LAYOUT_NODE_LINK, 0, NULL },
  { "img", KP_LAYOUT_NODE_IMAGE, 0, "src" },
  { "table", KP_LAYOUT_NODE_TABLE, 0, NULL },
  { "thead", KP_LAYOUT_NODE_BLOCK, 0, NULL },
  { "tbody", KP_LAYOUT_NODE_BLOCK, 0, NULL },
  { "tfoot", KP_LAYOUT_NODE_BLOCK, 0, NULL },
  { "caption", KP_LAYOUT_NODE_BLOCK, 0, NULL },
  { "tr", KP_LAYOUT_NODE_TABLE_ROW, 0, NULL },
  { "td", KP_LAYOUT_NODE_TABLE_CELL, 0, NULL },
  { "th", KP_LAYOUT_NODE_TABLE_CELL, 1, NULL },
  { "audio", KP_LAYOUT_NODE_AUDIO, 0, NULL },
  { "video", KP_LAYOUT_NODE_VIDEO, 0, NULL },
  { "input", KP_LAYOUT_NODE_INPUT, 0, NULL },
  { "textarea", KP_LAYOUT_NODE_TEXTAREA, 0, NULL },
  { "select", KP_LAYOUT_NODE_SELECT, 0, NULL },
  { "option", KP_LAYOUT_NODE_OPTION, 0, NULL },
};

/* Elements whose end tag HTML lets one leave out, and void elements. */
static const char * const optional_end_tags[] = {
  "p", "li", "dt", "dd", "tr", "td", "th", "thead", "tbody", "tfoot", "option", "optgroup",
  "html", "head", "body", "colgroup", "caption",
  "br", "hr", "img", "input", "meta", "link", "source", "track", "area", "base", "col",
  "embed", "param", "wbr",
};

/* Elements that hold no content for the worker. */
static const char * const dropped_tags[] = { "script", "style", "noscript", "template" };

/* Elements that only wrap the document. */
static const char * const transparent_tags[] = { "html", "head", "body", "tbody", "source", "track" };

/* Elements of the document head, which hold nothing to show. */
static const char * const head_tags[] = { "title", "meta", "link", "base" };

static const char * const kind_names[KP_LAYOUT_NODE_N_KINDS] = {
  [KP_LAYOUT_NODE_DOCUMENT] = "document",
  [KP_LAYOUT_NODE_BLOCK] = "block",
  [KP_LAYOUT_NODE_INLINE] = "inline",
  [KP_LAYOUT_NODE_HEADING] = "heading",
  [KP_LAYOUT_NODE_PARAGRAPH] = "paragraph",
  [KP_LAYOUT_NODE_LINE_BREAK] = "line-break",
  [KP_LAYOUT_NODE_LIST] = "list",
  [KP_LAYOUT_NODE_LIST_ITEM] = "list-item",
  [KP_LAYOUT_NODE_EMPHASIS] = "emphasis",
  [KP_LAYOUT_NODE_STRONG] = "strong",
  [KP_LAYOUT_NODE_LINK] = "link",
  [KP_LAYOUT_NODE_IMAGE] = "image",
  [KP_LAYOUT_NODE_TABLE] = "table",
  [KP_LAYOUT_NODE_TABLE_ROW] = "table-row",
  [KP_LAYOUT_NODE_TABLE_CELL] = "table-cell",
  [KP_LAYOUT_NODE_AUDIO] = "audio",
  [KP_LAYOUT_NODE_VIDEO] = "video",
  [KP_LAYOUT_NODE_INPUT] = "input",
  [KP_LAYOUT_NODE_TEXTAREA] = "textarea",
  [KP_LAYOUT_NODE_SELECT] = "select",
  [KP_LAYOUT_NODE_OPTION] = "option",
  [KP_LAYOUT_NODE_CHECKBOX] = "checkbox",
  [KP_LAYOUT_NODE_RADIO] = "radio",
  [KP_LAYOUT_NODE_TEXT] = "text",
  [KP_LAYOUT_NODE_UNKNOWN] = "unknown",
  [KP_LAYOUT_NODE_QF_OVERVIEW] = "qf-overview",
  [KP_LAYOUT_NODE_QF_QUESTION] = "qf-question",
  [KP_LAYOUT_NODE_QF_FREE_TEXT] = "qf-free-text",
  [KP_LAYOUT_NODE_QF_SELECTION] = "qf-selection",
  [KP_LAYOUT_NODE_QF_SELECTION_OPTION] = "qf-selection-option",
  [KP_LAYOUT_NODE_QF_FILE_UPLOAD] = "qf-file-upload",
  [KP_LAYOUT_NODE_EXTERNAL_QUESTION] = "external-question",
};

static GHashTable *
get_kind_table (void)
{
  static gsize table = 0;

  if (g_once_init_enter (&table))
    {
      GHashTable *t = g_hash_table_new (g_str_hash, g_str_equal);

      for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
        g_hash_table_insert (t, (gpointer)kinds[i].tag, (gpointer)&kinds[i]);

      g_once_init_leave (&table, (gsize)t);
    }

  return (GHashTable *)table;
}

static const KindInfo *
lookup_kind (const char *tag)
{
  return tag != NULL ? g_hash_table_lookup (get_kind_table (), tag) : NULL;
}

static const KindInfo *
lookup_kind_by_kind (KpLayoutNodeKind kind)
{
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    if (kinds[i].kind == kind)
      return &kinds[i];

  return NULL;
}

const char *
kp_layout_node_kind_to_string (KpLayoutNodeKind kind)
{
  const KindInfo *info;

  g_return_val_if_fail (kind < KP_LAYOUT_NODE_N_KINDS, NULL);

  if (kind_names[kind] != NULL)
    return kind_names[kind];

  info = lookup_kind_by_kind (kind);
  return info != NULL ? info->tag : "unknown";
}

KpLayoutNodeKind
kp_layout_node_kind_from_tag (const char *tag)
{
  const KindInfo *info = lookup_kind (tag);

  return info != NULL ? info->kind : KP_LAYOUT_NODE_UNKNOWN;
}

static gboolean
str_in (const char         *str,
        const char * const *list,
        gsize               n)
{
  for (gsize i = 0; i < n; i++)
    if (g_str_equal (str, list[i]))
      return TRUE;

  return FALSE;
}

static gboolean
kind_is_crowd (KpLayoutNodeKind kind)
{
  return kind >= KP_LAYOUT_NODE_CROWD_FORM && kind <= KP_LAYOUT_NODE_KP_VIDEO_TRACKER;
}

/* Nodes */

static void
layout_value_free (gpointer data)
{
  KpLayoutValue *value = data;

  g_clear_pointer (&value->json, json_node_unref);
  g_strfreev (value->strv);
  g_free (value);
}

static KpLayoutNode *
node_new (KpLayoutNodeKind  kind,
          const char       *tag,
          int               line,
          int               column)
{
  static GHashTable *empty = NULL;
  KpLayoutNode *node = g_new0 (KpLayoutNode, 1);

  /* Most nodes (text runs) have no attributes: they share one empty,
   * never changed table; node_attributes() gives a node its own. A node
   * gets its table of parsed values only when it has one. */
  if (g_once_init_enter (&empty))
    g_once_init_leave (&empty, g_hash_table_new (g_str_hash, g_str_equal));

  node->kind = kind;
  node->tag = g_strdup (tag);
  node->line = line;
  node->column = column;
  node->children = g_ptr_array_new ();
  node->attributes = g_hash_table_ref (empty);

  return node;
}

/* The attributes of a node, ready for an insertion. */
static GHashTable *
node_attributes (KpLayoutNode *node)
{
  if (g_hash_table_size (node->attributes) == 0)
    {
      g_hash_table_unref (node->attributes);
      node->attributes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    }

  return node->attributes;
}

static void
node_set_value (KpLayoutNode  *node,
                const char    *name,
                KpLayoutValue *value)
{
  if (node->values == NULL)
    node->values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, layout_value_free);
  g_hash_table_insert (node->values, g_strdup (name), value);
}

static KpLayoutValue *
node_get_value (const KpLayoutNode *node,
                const char         *name)
{
  return node->values != NULL ? g_hash_table_lookup (node->values, name) : NULL;
}

static void
node_append (KpLayoutNode *parent,
             KpLayoutNode *child)
{
  child->parent = parent;
  g_ptr_array_add (parent->children, child);
}

/* Frees a whole tree without recursion, deepest first. */
static void
node_free_tree (KpLayoutNode *root)
{
  g_autoptr(GPtrArray) stack = NULL;

  if (root == NULL)
    return;

  stack = g_ptr_array_new ();
  g_ptr_array_add (stack, root);

  while (stack->len > 0)
    {
      KpLayoutNode *node = g_ptr_array_steal_index_fast (stack, stack->len - 1);

      for (guint i = 0; i < node->children->len; i++)
        g_ptr_array_add (stack, g_ptr_array_index (node->children, i));

      g_ptr_array_unref (node->children);
      g_hash_table_unref (node->attributes);
      g_clear_pointer (&node->values, g_hash_table_unref);
      g_free (node->tag);
      g_free (node->text);
      g_free (node);
    }
}

const char *
kp_layout_node_get_attribute (const KpLayoutNode *node,
                              const char         *name)
{
  g_return_val_if_fail (node != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  return g_hash_table_lookup (node->attributes, name);
}

gboolean
kp_layout_node_get_boolean (const KpLayoutNode *node,
                            const char         *name)
{
  const char *value = kp_layout_node_get_attribute (node, name);

  return value != NULL && g_ascii_strcasecmp (value, "false") != 0;
}

double
kp_layout_node_get_number (const KpLayoutNode *node,
                           const char         *name,
                           double              default_value)
{
  KpLayoutValue *value;

  g_return_val_if_fail (node != NULL, default_value);

  value = node_get_value (node, name);
  if (value == NULL || !value->is_number)
    return default_value;

  return value->number;
}

const char * const *
kp_layout_node_get_strv (const KpLayoutNode *node,
                         const char         *name)
{
  KpLayoutValue *value;

  g_return_val_if_fail (node != NULL, NULL);

  value = node_get_value (node, name);
  return value != NULL ? (const char * const *)value->strv : NULL;
}

JsonNode *
kp_layout_node_get_json (const KpLayoutNode *node,
                         const char         *name)
{
  KpLayoutValue *value;

  g_return_val_if_fail (node != NULL, NULL);

  value = node_get_value (node, name);
  return value != NULL ? value->json : NULL;
}

char *
kp_layout_node_dup_text (const KpLayoutNode *node)
{
  g_autoptr(GPtrArray) stack = NULL;
  GString *text;

  g_return_val_if_fail (node != NULL, NULL);

  text = g_string_new (NULL);
  stack = g_ptr_array_new ();
  g_ptr_array_add (stack, (gpointer)node);

  /* Depth-first, in document order: push children in reverse. */
  while (stack->len > 0)
    {
      const KpLayoutNode *n = g_ptr_array_steal_index (stack, stack->len - 1);

      if (n->text != NULL)
        {
          const char *t = n->text;

          if (text->len > 0 && text->str[text->len - 1] == ' ' && *t == ' ')
            t++;
          g_string_append (text, t);
        }

      for (guint i = n->children->len; i > 0; i--)
        g_ptr_array_add (stack, g_ptr_array_index (n->children, i - 1));
    }

  return g_strstrip (g_string_free (text, FALSE));
}

gboolean
kp_layout_node_is_answerable (const KpLayoutNode *node)
{
  g_return_val_if_fail (node != NULL, FALSE);

  switch (node->kind)
    {
    case KP_LAYOUT_NODE_CROWD_BOUNDING_BOX:
    case KP_LAYOUT_NODE_CROWD_CHECKBOX:
    case KP_LAYOUT_NODE_CROWD_CLASSIFIER:
    case KP_LAYOUT_NODE_CROWD_CLASSIFIER_MULTI_SELECT:
    case KP_LAYOUT_NODE_CROWD_ENTITY_ANNOTATION:
    case KP_LAYOUT_NODE_CROWD_IMAGE_CLASSIFIER:
    case KP_LAYOUT_NODE_CROWD_IMAGE_CLASSIFIER_MULTI_SELECT:
    case KP_LAYOUT_NODE_CROWD_INPUT:
    case KP_LAYOUT_NODE_CROWD_INSTANCE_SEGMENTATION:
    case KP_LAYOUT_NODE_CROWD_KEYPOINT:
    case KP_LAYOUT_NODE_CROWD_LINE:
    case KP_LAYOUT_NODE_CROWD_POLYGON:
    case KP_LAYOUT_NODE_CROWD_POLYLINE:
    case KP_LAYOUT_NODE_CROWD_RADIO_GROUP:
    case KP_LAYOUT_NODE_CROWD_SEMANTIC_SEGMENTATION:
    case KP_LAYOUT_NODE_CROWD_SLIDER:
    case KP_LAYOUT_NODE_CROWD_TEXT_AREA:
    case KP_LAYOUT_NODE_CROWD_TOGGLE_BUTTON:
    case KP_LAYOUT_NODE_KP_AUDIO_SEGMENTER:
    case KP_LAYOUT_NODE_KP_VIDEO_TRACKER:
    case KP_LAYOUT_NODE_QF_FREE_TEXT:
    case KP_LAYOUT_NODE_QF_SELECTION:
    case KP_LAYOUT_NODE_QF_FILE_UPLOAD:
      return TRUE;

    case KP_LAYOUT_NODE_CROWD_RADIO_BUTTON:
      /* Inside a group, the group answers for it. */
      return node->parent == NULL || node->parent->kind != KP_LAYOUT_NODE_CROWD_RADIO_GROUP;

    case KP_LAYOUT_NODE_INPUT:
    case KP_LAYOUT_NODE_TEXTAREA:
    case KP_LAYOUT_NODE_SELECT:
    case KP_LAYOUT_NODE_CHECKBOX:
    case KP_LAYOUT_NODE_RADIO:
      return kp_layout_node_get_attribute (node, "name") != NULL;

    default:
      return FALSE;
    }
}

/* Lenient JSON: MTurk's examples write labels="['Cat', 'Dog']" and
 * exclusion-category="{ text: 'None' }", which browsers evaluate as
 * JavaScript. We rewrite such text into strict JSON (double-quoted
 * strings, quoted keys, no trailing commas) and hand it to json-glib. */

#define MAX_JSON_DEPTH 64

static gboolean
lenient_to_strict (const char  *text,
                   GString     *out,
                   GError     **error)
{
  const char *p = text;
  int depth = 0;

  while (*p != '\0')
    {
      if (*p == '\'' || *p == '"')
        {
          char quote = *p++;

          g_string_append_c (out, '"');
          while (*p != quote)
            {
              if (*p == '\0')
                {
                  g_set_error (error, KP_LAYOUT_ERROR, KP_LAYOUT_ERROR_INVALID,
                               _("a string is not closed"));
                  return FALSE;
                }
              if (*p == '\\' && p[1] != '\0')
                {
                  if (p[1] == '\'')
                    g_string_append_c (out, '\'');
                  else
                    g_string_append_len (out, p, 2);
                  p += 2;
                }
              else if (*p == '"')
                {
                  g_string_append (out, "\\\"");
                  p++;
                }
              else if ((guchar)*p < 0x20)
                {
                  g_string_append_printf (out, "\\u%04x", (guint)(guchar)*p);
                  p++;
                }
              else
                g_string_append_c (out, *p++);
            }
          p++;
          g_string_append_c (out, '"');
        }
      else if (g_ascii_isalpha (*p) || *p == '_' || *p == '$')
        {
          const char *start = p;
          gsize len;

          while (g_ascii_isalnum (*p) || *p == '_' || *p == '$' || *p == '-')
            p++;
          len = p - start;

          if ((len == 4 && strncmp (start, "true", 4) == 0) ||
              (len == 5 && strncmp (start, "false", 5) == 0) ||
              (len == 4 && strncmp (start, "null", 4) == 0))
            g_string_append_len (out, start, len);
          else
            {
              g_string_append_c (out, '"');
              g_string_append_len (out, start, len);
              g_string_append_c (out, '"');
            }
        }
      else if (*p == ',')
        {
          const char *q = p + 1;

          while (g_ascii_isspace (*q))
            q++;
          /* A trailing comma, as in [ 'a', 'b', ]. */
          if (*q != ']' && *q != '}')
            g_string_append_c (out, ',');
          p++;
        }
      else
        {
          if (*p == '[' || *p == '{')
            {
              if (++depth > MAX_JSON_DEPTH)
                {
                  g_set_error (error, KP_LAYOUT_ERROR, KP_LAYOUT_ERROR_TOO_DEEP,
                               _("nested deeper than %d levels"), MAX_JSON_DEPTH);
                  return FALSE;
                }
            }
          else if (*p == ']' || *p == '}')
            depth--;
          g_string_append_c (out, *p++);
        }
    }

  return TRUE;
}

JsonNode *
kp_layout_parse_lenient_json (const char  *text,
                              GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GString) strict = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;

  g_return_val_if_fail (text != NULL, NULL);

  strict = g_string_new (NULL);
  if (!lenient_to_strict (text, strict, error))
    return NULL;

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, strict->str, strict->len, &local_error))
    {
      const char *message = local_error->message;

      /* json-glib names its input "<data>"; the attribute is named by
       * the caller. */
      if (g_str_has_prefix (message, "<data>:"))
        message += strlen ("<data>:");
      g_set_error_literal (error, KP_LAYOUT_ERROR, KP_LAYOUT_ERROR_INVALID, message);
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL)
    {
      g_set_error (error, KP_LAYOUT_ERROR, KP_LAYOUT_ERROR_INVALID, _("the value is empty"));
      return NULL;
    }

  return json_node_ref (root);
}

/* The layout */

struct _KpLayout
{
  GObject         parent_instance;

  KpLayoutNode   *root;
  KpLayoutFormat  format;
  KpQuestionInfo *question;  /* QUESTION format: what kp_question_parse() made */
  GPtrArray      *problems;
};

G_DEFINE_FINAL_TYPE (KpLayout, kp_layout, G_TYPE_OBJECT)

static void
kp_layout_finalize (GObject *object)
{
  KpLayout *self = (KpLayout *)object;

  node_free_tree (self->root);
  g_clear_pointer (&self->question, kp_question_info_free);
  g_clear_pointer (&self->problems, g_ptr_array_unref);

  G_OBJECT_CLASS (kp_layout_parent_class)->finalize (object);
}

static void
kp_layout_class_init (KpLayoutClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kp_layout_finalize;
}

static void
kp_layout_init (KpLayout *self)
{
  self->problems = kp_layout_problems_new ();
}

/* Positions: byte offsets to line and column (in characters). */

typedef struct
{
  const char *data;
  gsize       length;
  GArray     *line_starts;   /* gsize */
  int         line_offset;   /* added to every line (HTMLQuestion content) */
  /* The last position computed, to count characters incrementally. */
  guint       cache_line;
  gsize       cache_offset;
  int         cache_column;
} Positions;

static void
positions_init (Positions  *pos,
                const char *data,
                gsize       length,
                int         line_offset)
{
  gsize zero = 0;

  memset (pos, 0, sizeof *pos);
  pos->data = data;
  pos->length = length;
  pos->line_offset = line_offset;
  pos->line_starts = g_array_new (FALSE, FALSE, sizeof (gsize));
  g_array_append_val (pos->line_starts, zero);

  for (const char *p = memchr (data, '\n', length); p != NULL;
       p = memchr (p + 1, '\n', length - (p + 1 - data)))
    {
      gsize start = p + 1 - data;

      g_array_append_val (pos->line_starts, start);
      if (start >= length)
        break;
    }

  pos->cache_column = 1;
}

static void
positions_clear (Positions *pos)
{
  g_clear_pointer (&pos->line_starts, g_array_unref);
}

static void
positions_lookup (Positions *pos,
                  gsize      offset,
                  int       *line,
                  int       *column)
{
  guint lo = 0, hi = pos->line_starts->len;
  gsize line_start;
  const char *p, *end;
  int col;

  offset = MIN (offset, pos->length);

  while (hi - lo > 1)
    {
      guint mid = (lo + hi) / 2;

      if (g_array_index (pos->line_starts, gsize, mid) <= offset)
        lo = mid;
      else
        hi = mid;
    }

  line_start = g_array_index (pos->line_starts, gsize, lo);

  if (pos->cache_line == lo && pos->cache_offset <= offset && pos->cache_offset >= line_start)
    {
      p = pos->data + pos->cache_offset;
      col = pos->cache_column;
    }
  else
    {
      p = pos->data + line_start;
      col = 1;
    }

  end = pos->data + offset;
  for (; p < end; p++)
    if (((guchar)*p & 0xc0) != 0x80)
      col++;

  pos->cache_line = lo;
  pos->cache_offset = offset;
  pos->cache_column = col;

  *line = (int)lo + 1 + pos->line_offset;
  *column = col;
}

/* Building from HTML */

typedef struct
{
  KpLayout         *self;
  htmlParserCtxtPtr ctxt;
  Positions         pos;
  KpLayoutNode     *current;
  GPtrArray        *open;          /* KpLayoutNode * or NULL (transparent), per open element */
  int               skip_depth;    /* > 0 inside a dropped element */
  int               pre_depth;     /* > 0 inside <pre> or <textarea>: whitespace kept */
  gboolean          too_deep;
  int               too_deep_line;
  int               too_deep_column;
  GString          *text;
  int               text_line;
  int               text_column;
  gsize             last_end_offset;
  gboolean          have_last_end;
  guint             n_html_errors;
} Builder;

/* Garbage makes libxml2 complain at every other byte; past this many,
 * one more line says the rest were left out. */
#define MAX_HTML_ERRORS 50

static gsize
builder_offset (Builder *b)
{
  xmlParserInputPtr input = b->ctxt->input;

  if (input == NULL || input->cur == NULL || input->base == NULL)
    return b->pos.length;

  return (gsize)input->consumed + (gsize)(input->cur - input->base);
}

/* The offset of the start tag "<tag" that ends at the current offset. */
static gsize
builder_start_tag_offset (Builder    *b,
                          const char *tag)
{
  gsize offset = MIN (builder_offset (b), b->pos.length);
  gsize tag_len = strlen (tag);
  gsize i = offset;

  /* Bounded: a start tag longer than this points at its end instead. */
  for (gsize steps = 0; i > 0 && steps < 65536; steps++)
    {
      i--;
      if (b->pos.data[i] == '<' && i + 1 + tag_len <= b->pos.length &&
          g_ascii_strncasecmp (b->pos.data + i + 1, tag, tag_len) == 0)
        return i;
    }

  return offset;
}

static void
builder_flush_text (Builder *b)
{
  GString *collapsed;
  gboolean space = FALSE;
  gboolean any = FALSE;
  KpLayoutNode *node;

  if (b->text->len == 0)
    return;

  if (b->pre_depth > 0)
    {
      node = node_new (KP_LAYOUT_NODE_TEXT, NULL, b->text_line, b->text_column);
      node->text = g_strndup (b->text->str, b->text->len);
      node_append (b->current, node);
      g_string_truncate (b->text, 0);
      return;
    }

  collapsed = g_string_sized_new (b->text->len);
  for (gsize i = 0; i < b->text->len; i++)
    {
      char c = b->text->str[i];

      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f')
        space = TRUE;
      else
        {
          if (space)
            g_string_append_c (collapsed, ' ');
          space = FALSE;
          any = TRUE;
          g_string_append_c (collapsed, c);
        }
    }
  if (space)
    g_string_append_c (collapsed, ' ');

  g_string_truncate (b->text, 0);

  if (!any)
    {
      g_string_free (collapsed, TRUE);
      return;
    }

  node = node_new (KP_LAYOUT_NODE_TEXT, NULL, b->text_line, b->text_column);
  node->text = g_string_free (collapsed, FALSE);
  node_append (b->current, node);
}

static void
add_problem (Builder          *b,
             KpLayoutSeverity  severity,
             int               line,
             int               column,
             const char       *format,
             ...) G_GNUC_PRINTF (5, 6);

static void
add_problem (Builder          *b,
             KpLayoutSeverity  severity,
             int               line,
             int               column,
             const char       *format,
             ...)
{
  va_list args;

  va_start (args, format);
  problems_add_valist (b->self->problems, severity, line, column, format, args);
  va_end (args);
}

static KpLayoutNodeKind
input_kind (const char **attrs)
{
  for (guint i = 0; attrs != NULL && attrs[i] != NULL; i += 2)
    if (g_ascii_strcasecmp (attrs[i], "type") == 0 && attrs[i + 1] != NULL)
      {
        if (g_ascii_strcasecmp (attrs[i + 1], "checkbox") == 0)
          return KP_LAYOUT_NODE_CHECKBOX;
        if (g_ascii_strcasecmp (attrs[i + 1], "radio") == 0)
          return KP_LAYOUT_NODE_RADIO;
      }

  return KP_LAYOUT_NODE_INPUT;
}

static void
start_element_cb (void           *user_data,
                  const xmlChar  *xname,
                  const xmlChar **xattrs)
{
  Builder *b = user_data;
  const char *name = (const char *)xname;
  const char **attrs = (const char **)xattrs;
  g_autofree char *tag = NULL;
  const KindInfo *info;
  KpLayoutNodeKind kind;
  KpLayoutNode *node;
  int line, column;

  if (b->too_deep)
    return;

  builder_flush_text (b);

  if (b->skip_depth > 0)
    {
      b->skip_depth++;
      return;
    }

  tag = g_ascii_strdown (name, -1);
  positions_lookup (&b->pos, builder_start_tag_offset (b, tag), &line, &column);

  if (b->open->len >= KP_LAYOUT_MAX_DEPTH)
    {
      b->too_deep = TRUE;
      b->too_deep_line = line;
      b->too_deep_column = column;
      xmlStopParser (b->ctxt);
      return;
    }

  if (str_in (tag, dropped_tags, G_N_ELEMENTS (dropped_tags)) ||
      str_in (tag, head_tags, G_N_ELEMENTS (head_tags)))
    {
      gboolean stylesheet = FALSE;

      for (guint i = 0; attrs != NULL && attrs[i] != NULL; i += 2)
        if (g_ascii_strcasecmp (attrs[i], "rel") == 0 && attrs[i + 1] != NULL &&
            g_ascii_strcasecmp (attrs[i + 1], "stylesheet") == 0)
          stylesheet = TRUE;

      if (g_str_equal (tag, "script"))
        add_problem (b, KP_LAYOUT_SEVERITY_WARNING, line, column,
                     _("Scripts are not run; this <script> is left out"));
      else if (g_str_equal (tag, "style") || stylesheet)
        add_problem (b, KP_LAYOUT_SEVERITY_WARNING, line, column,
                     _("Style sheets are not applied; this <%s> is left out"), tag);
      else if (!str_in (tag, head_tags, G_N_ELEMENTS (head_tags)))
        add_problem (b, KP_LAYOUT_SEVERITY_WARNING, line, column,
                     _("<%s> is left out"), tag);
      b->skip_depth = 1;
      return;
    }

  if (str_in (tag, transparent_tags, G_N_ELEMENTS (transparent_tags)) &&
      !(g_str_equal (tag, "source") && b->current->kind != KP_LAYOUT_NODE_AUDIO &&
        b->current->kind != KP_LAYOUT_NODE_VIDEO))
    {
      /* <source> adds its src to the enclosing media element. */
      if (g_str_equal (tag, "source"))
        for (guint i = 0; attrs != NULL && attrs[i] != NULL; i += 2)
          if (g_ascii_strcasecmp (attrs[i], "src") == 0 && attrs[i + 1] != NULL &&
              !g_hash_table_contains (b->current->attributes, "src"))
            g_hash_table_insert (node_attributes (b->current), g_strdup ("src"), g_strdup (attrs[i + 1]));
      g_ptr_array_add (b->open, NULL);
      return;
    }

  info = lookup_kind (tag);
  kind = info != NULL ? info->kind : KP_LAYOUT_NODE_UNKNOWN;
  if (kind == KP_LAYOUT_NODE_INPUT)
    kind = input_kind (attrs);

  node = node_new (kind, tag, line, column);
  node->level = info != NULL ? info->level : 0;

  for (guint i = 0; attrs != NULL && attrs[i] != NULL; i += 2)
    {
      g_autofree char *attr = g_ascii_strdown (attrs[i], -1);

      if (g_hash_table_contains (node->attributes, attr))
        add_problem (b, KP_LAYOUT_SEVERITY_WARNING, line, column,
                     _("<%s> has the attribute %s twice; the first is used"), tag, attr);
      else
        g_hash_table_insert (node_attributes (node), g_steal_pointer (&attr),
                             g_strdup (attrs[i + 1] != NULL ? attrs[i + 1] : ""));
    }

  if (kind == KP_LAYOUT_NODE_UNKNOWN)
    {
      /* Report the outermost unknown element only: its content is shown
       * as text anyway. */
      gboolean inside_unknown = FALSE;

      for (const KpLayoutNode *n = b->current; n != NULL; n = n->parent)
        if (n->kind == KP_LAYOUT_NODE_UNKNOWN)
          inside_unknown = TRUE;

      if (g_str_has_prefix (tag, "crowd-") || g_str_has_prefix (tag, "kp-"))
        add_problem (b, KP_LAYOUT_SEVERITY_ERROR, line, column,
                     _("Unknown element <%s>"), tag);
      else if (!inside_unknown)
        add_problem (b, KP_LAYOUT_SEVERITY_WARNING, line, column,
                     _("<%s> is not rendered natively; its text is shown instead"), tag);
    }

  node_append (b->current, node);
  b->current = node;
  g_ptr_array_add (b->open, node);
  if (g_str_equal (tag, "pre") || g_str_equal (tag, "textarea"))
    b->pre_depth++;
}

/* Whether the element just ended had its own end tag (or was written
 * <x/>), rather than being closed by the parser. */
static gboolean
builder_closed_explicitly (Builder    *b,
                           const char *tag)
{
  gsize offset = MIN (builder_offset (b), b->pos.length);
  gsize tag_len = strlen (tag);
  gsize i = offset;

  if (b->have_last_end && b->last_end_offset == offset)
    return FALSE;

  if (offset >= 2 && b->pos.data[offset - 1] == '>' && b->pos.data[offset - 2] == '/')
    return TRUE;

  for (gsize steps = 0; i > 1 && steps < 1024; steps++)
    {
      i--;
      if (b->pos.data[i] == '<')
        {
          if (i + 2 + tag_len <= b->pos.length && b->pos.data[i + 1] == '/' &&
              g_ascii_strncasecmp (b->pos.data + i + 2, tag, tag_len) == 0)
            {
              b->last_end_offset = offset;
              b->have_last_end = TRUE;
              return TRUE;
            }
          return FALSE;
        }
    }

  return FALSE;
}

static void
end_element_cb (void          *user_data,
                const xmlChar *xname)
{
  Builder *b = user_data;
  KpLayoutNode *node;

  if (b->too_deep)
    return;

  builder_flush_text (b);

  if (b->skip_depth > 0)
    {
      b->skip_depth--;
      return;
    }

  if (b->open->len == 0)
    return;

  node = g_ptr_array_steal_index (b->open, b->open->len - 1);
  if (node == NULL)
    return;

  if (g_str_equal (node->tag, "pre") || g_str_equal (node->tag, "textarea"))
    b->pre_depth--;

  if (!str_in (node->tag, optional_end_tags, G_N_ELEMENTS (optional_end_tags)) &&
      !builder_closed_explicitly (b, (const char *)xname))
    {
      if (kind_is_crowd (node->kind))
        _kp_layout_node_problem (b->self->problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                 _("<%s> is not closed"), node->tag);
      else
        _kp_layout_node_problem (b->self->problems, node, KP_LAYOUT_SEVERITY_WARNING,
                                 _("<%s> is not closed"), node->tag);
    }

  b->current = node->parent;
}

static void
characters_cb (void          *user_data,
               const xmlChar *ch,
               int            len)
{
  Builder *b = user_data;

  if (b->too_deep || b->skip_depth > 0 || len <= 0)
    return;

  if (b->text->len == 0)
    {
      gsize offset = builder_offset (b);

      positions_lookup (&b->pos, offset >= (gsize)len ? offset - len : 0,
                        &b->text_line, &b->text_column);
    }

  g_string_append_len (b->text, (const char *)ch, len);
}

static void
structured_error_cb (void        *user_data,
                     xmlErrorPtr  error)
{
  Builder *b = user_data;
  g_autofree char *message = NULL;

  if (b->too_deep || error == NULL || error->message == NULL)
    return;

  /* Unknown tags (crowd-*) are ours to judge; encoding hints are ignored
   * on purpose. */
  if (error->code == XML_HTML_UNKNOWN_TAG)
    return;

  if (++b->n_html_errors > MAX_HTML_ERRORS)
    {
      if (b->n_html_errors == MAX_HTML_ERRORS + 1)
        add_problem (b, KP_LAYOUT_SEVERITY_WARNING, error->line + b->pos.line_offset, error->int2,
                     _("HTML: more problems of the markup follow; only the first %d are listed"),
                     MAX_HTML_ERRORS);
      return;
    }

  message = g_strstrip (g_strdup (error->message));
  add_problem (b, KP_LAYOUT_SEVERITY_WARNING, error->line + b->pos.line_offset, error->int2,
               _("HTML: %s"), message);
}

static gboolean
build_html (KpLayout      *self,
            KpLayoutNode  *parent,
            const char    *data,
            gsize          length,
            int            line_offset,
            GError       **error)
{
  htmlSAXHandler sax;
  Builder b = { 0, };
  gboolean ok = TRUE;
  const char *entity;

  if (length == 0)
    return TRUE;

  /* libxml2's HTML parser ignores DTD internal subsets, so entity
   * declarations are never expanded; still, tell the requester. */
  entity = g_strstr_len (data, length, "<!ENTITY");
  if (entity != NULL)
    {
      Positions p;
      int line, column;

      positions_init (&p, data, length, line_offset);
      positions_lookup (&p, entity - data, &line, &column);
      positions_clear (&p);
      kp_layout_problems_add (self->problems, KP_LAYOUT_SEVERITY_ERROR, line, column,
                              _("Entity declarations are not allowed; they are not expanded"));
    }

  memset (&sax, 0, sizeof sax);
  sax.startElement = start_element_cb;
  sax.endElement = end_element_cb;
  sax.characters = characters_cb;
  sax.cdataBlock = characters_cb;
  sax.ignorableWhitespace = characters_cb;
  sax.serror = structured_error_cb;
  sax.initialized = XML_SAX2_MAGIC;

  b.ctxt = htmlCreateMemoryParserCtxt (data, (int)length);
  if (b.ctxt == NULL)
    {
      g_set_error (error, KP_LAYOUT_ERROR, KP_LAYOUT_ERROR_INVALID,
                   _("The template could not be read"));
      return FALSE;
    }

  /* Replace the default handler with ours; libxml2 frees ctxt->sax. */
  memcpy (b.ctxt->sax, &sax, sizeof sax);
  b.ctxt->userData = &b;
  htmlCtxtUseOptions (b.ctxt, HTML_PARSE_NONET | HTML_PARSE_IGNORE_ENC | HTML_PARSE_NOIMPLIED);
  xmlSwitchEncoding (b.ctxt, XML_CHAR_ENCODING_UTF8);

  b.self = self;
  positions_init (&b.pos, data, length, line_offset);
  b.current = parent;
  b.open = g_ptr_array_new ();
  b.text = g_string_new (NULL);

  htmlParseDocument (b.ctxt);

  if (!b.too_deep)
    builder_flush_text (&b);

  if (b.too_deep)
    {
      g_set_error (error, KP_LAYOUT_ERROR, KP_LAYOUT_ERROR_TOO_DEEP,
                   _("Line %d, column %d: elements are nested deeper than %d levels"),
                   b.too_deep_line, b.too_deep_column, KP_LAYOUT_MAX_DEPTH);
      ok = FALSE;
    }

  b.ctxt->sax->serror = NULL;
  htmlFreeParserCtxt (b.ctxt);
  positions_clear (&b.pos);
  g_ptr_array_unref (b.open);
  g_string_free (b.text, TRUE);

  return ok;
}

/* Building from QuestionForm XML */

static const char *
xml_name (xmlNode *node)
{
  return (const char *)node->name;
}

static char *
xml_text (xmlNode *node)
{
  xmlChar *content = xmlNodeGetContent (node);
  char *text = g_strdup (content != NULL ? g_strstrip ((char *)content) : "");

  xmlFree (content);
  return text;
}

static xmlNode *
xml_child (xmlNode    *node,
           const char *name)
{
  for (xmlNode *c = node->children; c != NULL; c = c->next)
    if (c->type == XML_ELEMENT_NODE && g_str_equal (xml_name (c), name))
      return c;

  return NULL;
}

static char *
xml_child_text (xmlNode    *node,
                const char *name)
{
  xmlNode *child = xml_child (node, name);

  return child != NULL ? xml_text (child) : NULL;
}

static KpLayoutNode *
qf_node (KpLayoutNode     *parent,
         KpLayoutNodeKind  kind,
         xmlNode          *source)
{
  KpLayoutNode *node = node_new (kind, xml_name (source), xmlGetLineNo (source), 1);

  node_append (parent, node);
  return node;
}

static void
qf_set (KpLayoutNode *node,
        const char   *name,
        char         *value)
{
  if (value != NULL)
    g_hash_table_insert (node_attributes (node), g_strdup (name), value);
}

static void
qf_text_node (KpLayoutNode *parent,
              char         *text,
              int           line)
{
  KpLayoutNode *node = node_new (KP_LAYOUT_NODE_TEXT, NULL, line, 1);

  node->text = text;
  node_append (parent, node);
}

static gboolean build_qf_content (KpLayout      *self,
                                  KpLayoutNode  *parent,
                                  xmlNode       *content,
                                  GError       **error);

static gboolean
build_qf_content (KpLayout      *self,
                  KpLayoutNode  *parent,
                  xmlNode       *content,
                  GError       **error)
{
  for (xmlNode *c = content->children; c != NULL; c = c->next)
    {
      const char *name;
      KpLayoutNode *node;

      if (c->type != XML_ELEMENT_NODE)
        continue;

      name = xml_name (c);
      if (g_str_equal (name, "Title"))
        {
          node = qf_node (parent, KP_LAYOUT_NODE_HEADING, c);
          node->level = 2;
          qf_text_node (node, xml_text (c), node->line);
        }
      else if (g_str_equal (name, "Text"))
        {
          node = qf_node (parent, KP_LAYOUT_NODE_PARAGRAPH, c);
          qf_text_node (node, xml_text (c), node->line);
        }
      else if (g_str_equal (name, "List"))
        {
          node = qf_node (parent, KP_LAYOUT_NODE_LIST, c);
          for (xmlNode *item = c->children; item != NULL; item = item->next)
            if (item->type == XML_ELEMENT_NODE)
              {
                KpLayoutNode *li = qf_node (node, KP_LAYOUT_NODE_LIST_ITEM, item);

                qf_text_node (li, xml_text (item), li->line);
              }
        }
      else if (g_str_equal (name, "Binary") || g_str_equal (name, "EmbeddedBinary"))
        {
          xmlNode *mime = xml_child (c, "MimeType");
          g_autofree char *type = mime != NULL ? xml_child_text (mime, "Type") : NULL;
          KpLayoutNodeKind kind = KP_LAYOUT_NODE_IMAGE;

          if (g_strcmp0 (type, "audio") == 0)
            kind = KP_LAYOUT_NODE_AUDIO;
          else if (g_strcmp0 (type, "video") == 0)
            kind = KP_LAYOUT_NODE_VIDEO;
          else if (g_strcmp0 (type, "image") != 0)
            kind = KP_LAYOUT_NODE_LINK;

          node = qf_node (parent, kind, c);
          qf_set (node, kind == KP_LAYOUT_NODE_LINK ? "href" : "src", xml_child_text (c, "DataURL"));
          qf_set (node, "alt", xml_child_text (c, "AltText"));
          if (kind == KP_LAYOUT_NODE_LINK)
            qf_text_node (node, xml_child_text (c, "AltText"), node->line);
        }
      else if (g_str_equal (name, "FormattedContent"))
        {
          g_autofree char *html = xml_text (c);

          node = qf_node (parent, KP_LAYOUT_NODE_BLOCK, c);
          if (!build_html (self, node, html, strlen (html), node->line - 1, error))
            return FALSE;
        }
      else
        {
          node = qf_node (parent, KP_LAYOUT_NODE_UNKNOWN, c);
          qf_text_node (node, xml_text (c), node->line);
          _kp_layout_node_problem (self->problems, node, KP_LAYOUT_SEVERITY_WARNING,
                                   _("<%s> is not rendered natively; its text is shown instead"),
                                   name);
        }
    }

  return TRUE;
}

static gboolean
build_qf_answer (KpLayout      *self,
                 KpLayoutNode  *question,
                 xmlNode       *spec,
                 GError       **error)
{
  for (xmlNode *a = spec->children; a != NULL; a = a->next)
    {
      const char *name;
      KpLayoutNode *node;

      if (a->type != XML_ELEMENT_NODE)
        continue;

      name = xml_name (a);
      if (g_str_equal (name, "FreeTextAnswer"))
        {
          xmlNode *constraints = xml_child (a, "Constraints");
          xmlNode *lines = xml_child (a, "NumberOfLinesSuggestion");

          node = qf_node (question, KP_LAYOUT_NODE_QF_FREE_TEXT, a);
          qf_set (node, "default", xml_child_text (a, "DefaultText"));
          if (lines != NULL)
            qf_set (node, "lines", xml_text (lines));

          for (xmlNode *c = constraints != NULL ? constraints->children : NULL; c != NULL; c = c->next)
            {
              if (c->type != XML_ELEMENT_NODE)
                continue;
              if (g_str_equal (xml_name (c), "IsNumeric"))
                {
                  qf_set (node, "numeric", g_strdup (""));
                  qf_set (node, "min-value", (char *)xmlGetProp (c, (const xmlChar *)"minValue"));
                  qf_set (node, "max-value", (char *)xmlGetProp (c, (const xmlChar *)"maxValue"));
                }
              else if (g_str_equal (xml_name (c), "Length"))
                {
                  qf_set (node, "min-length", (char *)xmlGetProp (c, (const xmlChar *)"minLength"));
                  qf_set (node, "max-length", (char *)xmlGetProp (c, (const xmlChar *)"maxLength"));
                }
              else if (g_str_equal (xml_name (c), "AnswerFormatRegex") &&
                       !g_hash_table_contains (node->attributes, "pattern"))
                {
                  qf_set (node, "pattern", (char *)xmlGetProp (c, (const xmlChar *)"regex"));
                  qf_set (node, "pattern-error", (char *)xmlGetProp (c, (const xmlChar *)"errorText"));
                }
            }
        }
      else if (g_str_equal (name, "SelectionAnswer"))
        {
          xmlNode *selections = xml_child (a, "Selections");

          node = qf_node (question, KP_LAYOUT_NODE_QF_SELECTION, a);
          qf_set (node, "style", xml_child_text (a, "StyleSuggestion"));
          qf_set (node, "min-selections", xml_child_text (a, "MinSelectionCount"));
          qf_set (node, "max-selections", xml_child_text (a, "MaxSelectionCount"));

          for (xmlNode *s = selections != NULL ? selections->children : NULL; s != NULL; s = s->next)
            {
              KpLayoutNode *option;

              if (s->type != XML_ELEMENT_NODE)
                continue;

              if (g_str_equal (xml_name (s), "OtherSelection"))
                {
                  qf_set (node, "other", g_strdup (""));
                  continue;
                }

              option = qf_node (node, KP_LAYOUT_NODE_QF_SELECTION_OPTION, s);
              qf_set (option, "identifier", xml_child_text (s, "SelectionIdentifier"));
              if (xml_child (s, "Text") != NULL)
                qf_text_node (option, xml_child_text (s, "Text"), option->line);
              else if (!build_qf_content (self, option, s, error))
                return FALSE;
            }
        }
      else if (g_str_equal (name, "FileUploadAnswer"))
        {
          node = qf_node (question, KP_LAYOUT_NODE_QF_FILE_UPLOAD, a);
          qf_set (node, "min-size", xml_child_text (a, "MinFileSizeInBytes"));
          qf_set (node, "max-size", xml_child_text (a, "MaxFileSizeInBytes"));
        }
      else
        continue;

      /* The answer carries its question's identifier as its name. */
      qf_set (node, "name", g_strdup (kp_layout_node_get_attribute (question, "identifier")));
      if (kp_layout_node_get_boolean (question, "required"))
        qf_set (node, "required", g_strdup (""));
    }

  return TRUE;
}

static gboolean
build_question_form (KpLayout      *self,
                     const char    *data,
                     gsize          length,
                     GError       **error)
{
  xmlDoc *doc;
  xmlNode *root;
  gboolean ok = TRUE;

  doc = xmlReadMemory (data, (int)length, NULL, "UTF-8", XML_PARSE_NONET | XML_PARSE_NOERROR |
                       XML_PARSE_NOWARNING);
  if (doc == NULL || (root = xmlDocGetRootElement (doc)) == NULL)
    {
      g_set_error (error, KP_LAYOUT_ERROR, KP_LAYOUT_ERROR_INVALID,
                   _("The QuestionForm could not be read"));
      g_clear_pointer (&doc, xmlFreeDoc);
      return FALSE;
    }

  for (xmlNode *c = root->children; c != NULL && ok; c = c->next)
    {
      KpLayoutNode *node;

      if (c->type != XML_ELEMENT_NODE)
        continue;

      if (g_str_equal (xml_name (c), "Overview"))
        {
          node = qf_node (self->root, KP_LAYOUT_NODE_QF_OVERVIEW, c);
          ok = build_qf_content (self, node, c, error);
        }
      else if (g_str_equal (xml_name (c), "Question"))
        {
          xmlNode *content = xml_child (c, "QuestionContent");
          xmlNode *spec = xml_child (c, "AnswerSpecification");
          g_autofree char *required = xml_child_text (c, "IsRequired");

          node = qf_node (self->root, KP_LAYOUT_NODE_QF_QUESTION, c);
          qf_set (node, "identifier", xml_child_text (c, "QuestionIdentifier"));
          qf_set (node, "display-name", xml_child_text (c, "DisplayName"));
          if (g_strcmp0 (required, "true") == 0)
            qf_set (node, "required", g_strdup (""));
          if (content != NULL)
            ok = build_qf_content (self, node, content, error);
          if (ok && spec != NULL)
            ok = build_qf_answer (self, node, spec, error);
        }
    }

  xmlFreeDoc (doc);
  return ok;
}

/* Checks */

static const char * const list_attributes[] = { "labels", "categories" };
static const char * const json_attributes[] = {
  "labels", "categories", "initial-value", "overlay", "exclusion-category", "label-colors",
};
static const char * const number_attributes[] = {
  "min", "max", "step", "min-length", "max-length", "min-value", "max-value", "rows", "max-rows",
  "min-selections", "max-selections", "lines", "frame-height",
};
static const char * const media_attributes[] = { "src", "poster" };

static gboolean
has_template_syntax (const char *value)
{
  return strstr (value, "${") != NULL || strstr (value, "{{") != NULL || strstr (value, "{%") != NULL;
}

static void
check_placeholders (KpLayout           *self,
                    const KpLayoutNode *node,
                    const char         *where,
                    const char         *value)
{
  const char *p;

  if (value == NULL)
    return;

  for (p = strstr (value, "${"); p != NULL; p = strstr (p + 2, "${"))
    {
      const char *end = strchr (p, '}');
      g_autofree char *placeholder = g_strndup (p, end != NULL ? (gsize)(end - p + 1) : strlen (p));

      _kp_layout_node_problem (self->problems, node, KP_LAYOUT_SEVERITY_WARNING,
                               _("The placeholder %s in %s is not filled; give batch data"),
                               placeholder, where);
    }

  if (strstr (value, "{{") != NULL || strstr (value, "{%") != NULL)
    _kp_layout_node_problem (self->problems, node, KP_LAYOUT_SEVERITY_WARNING,
                             _("Liquid template syntax in %s is not rendered; give task input"),
                             where);
}

static char **
json_to_strv (JsonNode *node,
              gboolean *ok)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  JsonArray *array;

  *ok = FALSE;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return NULL;

  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (JSON_NODE_HOLDS_VALUE (element) && json_node_get_value_type (element) == G_TYPE_STRING)
        g_strv_builder_add (builder, json_node_get_string (element));
      else if (JSON_NODE_HOLDS_OBJECT (element) &&
               json_object_has_member (json_node_get_object (element), "label") &&
               JSON_NODE_HOLDS_VALUE (json_object_get_member (json_node_get_object (element), "label")))
        g_strv_builder_add (builder, json_object_get_string_member_with_default (
                                       json_node_get_object (element), "label", ""));
      else
        return NULL;
    }

  *ok = TRUE;
  return g_strv_builder_end (builder);
}

static void
check_attributes (KpLayout     *self,
                  KpLayoutNode *node)
{
  const KindInfo *info = lookup_kind_by_kind (node->kind);
  GHashTableIter iter;
  gpointer key, val;

  if (kind_is_crowd (node->kind) && info != NULL && info->required != NULL)
    {
      g_auto(GStrv) required = g_strsplit (info->required, " ", -1);

      for (guint i = 0; required[i] != NULL; i++)
        {
          const char *value = kp_layout_node_get_attribute (node, required[i]);

          if (value == NULL)
            _kp_layout_node_problem (self->problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                     _("<%s> needs the attribute %s"), node->tag, required[i]);
          else if (*value == '\0' && !g_str_equal (required[i], "header"))
            _kp_layout_node_problem (self->problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                     _("The attribute %s of <%s> is empty"), required[i], node->tag);
        }
    }

  g_hash_table_iter_init (&iter, node->attributes);
  while (g_hash_table_size (node->attributes) > 0 && g_hash_table_iter_next (&iter, &key, &val))
    {
      const char *name = key;
      const char *value = val;

      if (has_template_syntax (value))
        {
          g_autofree char *where = g_strdup_printf ("%s=", name);

          check_placeholders (self, node, where, value);
          continue;
        }

      /* Event handlers: onclick, onload, … */
      if (g_str_has_prefix (name, "on") && name[2] != '\0' &&
          name[2 + strspn (name + 2, "abcdefghijklmnopqrstuvwxyz")] == '\0')
        {
          _kp_layout_node_problem (self->problems, node, KP_LAYOUT_SEVERITY_WARNING,
                                   _("Scripts are not run; the %s attribute of <%s> is ignored"),
                                   name, node->tag);
          continue;
        }

      if (g_ascii_strncasecmp (value + strspn (value, " \t\n\r\f"), "javascript:", 11) == 0)
        {
          _kp_layout_node_problem (self->problems, node, KP_LAYOUT_SEVERITY_WARNING,
                                   _("Scripts are not run; the javascript: URL in %s of <%s> is ignored"),
                                   name, node->tag);
          continue;
        }

      if (kind_is_crowd (node->kind) && str_in (name, json_attributes, G_N_ELEMENTS (json_attributes)))
        {
          g_autoptr(GError) error = NULL;
          g_autoptr(JsonNode) json = kp_layout_parse_lenient_json (value, &error);
          KpLayoutValue *parsed;

          if (json == NULL)
            {
              _kp_layout_node_problem (self->problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                       _("The attribute %s of <%s> is not valid JSON: %s"),
                                       name, node->tag, error->message);
              continue;
            }

          parsed = g_new0 (KpLayoutValue, 1);
          if (str_in (name, list_attributes, G_N_ELEMENTS (list_attributes)))
            {
              gboolean ok;

              parsed->strv = json_to_strv (json, &ok);
              if (!ok)
                _kp_layout_node_problem (self->problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                         _("The attribute %s of <%s> must be a JSON array of strings"),
                                         name, node->tag);
              else
                {
                  guint n = g_strv_length (parsed->strv);
                  guint max = (node->kind == KP_LAYOUT_NODE_CROWD_IMAGE_CLASSIFIER ||
                               node->kind == KP_LAYOUT_NODE_CROWD_IMAGE_CLASSIFIER_MULTI_SELECT)
                              ? KP_LAYOUT_MAX_IMAGE_CATEGORIES : KP_LAYOUT_MAX_LABELS;

                  if (n == 0)
                    _kp_layout_node_problem (self->problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                             _("The attribute %s of <%s> lists nothing"),
                                             name, node->tag);
                  else if (n > max)
                    _kp_layout_node_problem (self->problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                             _("<%s> has %u %s; MTurk allows at most %u"),
                                             node->tag, n, name, max);

                  for (guint i = 0; i < n; i++)
                    for (guint j = 0; j < i; j++)
                      if (g_str_equal (parsed->strv[i], parsed->strv[j]))
                        {
                          _kp_layout_node_problem (self->problems, node, KP_LAYOUT_SEVERITY_WARNING,
                                                   _("<%s> lists “%s” twice in %s"),
                                                   node->tag, parsed->strv[i], name);
                          break;
                        }
                }
            }
          parsed->json = g_steal_pointer (&json);
          node_set_value (node, name, parsed);
        }
      else if (str_in (name, number_attributes, G_N_ELEMENTS (number_attributes)))
        {
          char *end = NULL;
          double number = g_ascii_strtod (value, &end);
          KpLayoutValue *parsed;

          while (end != NULL && g_ascii_isspace (*end))
            end++;
          if (*value == '\0' || end == NULL || *end != '\0' || !isfinite (number))
            {
              _kp_layout_node_problem (self->problems, node, KP_LAYOUT_SEVERITY_WARNING,
                                       _("The attribute %s of <%s> is not a number: “%s”"),
                                       name, node->tag, value);
              continue;
            }
          parsed = g_new0 (KpLayoutValue, 1);
          parsed->number = number;
          parsed->is_number = TRUE;
          node_set_value (node, name, parsed);
        }
      else if (str_in (name, media_attributes, G_N_ELEMENTS (media_attributes)) ||
               (g_str_equal (name, "href") && node->kind == KP_LAYOUT_NODE_LINK))
        {
          const char *scheme = g_uri_peek_scheme (value);

          if (scheme != NULL && !g_str_equal (scheme, "http") && !g_str_equal (scheme, "https") &&
              !g_str_equal (scheme, "data") &&
              !(g_str_equal (name, "href") && g_str_equal (scheme, "mailto")))
            _kp_layout_node_problem (self->problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                     _("The URL “%s” in %s of <%s> is unreachable: only http, "
                                       "https, data and relative URLs can be loaded"),
                                     value, name, node->tag);
        }
      else if (g_str_equal (name, "allowed-pattern") || g_str_equal (name, "pattern"))
        {
          g_autoptr(GError) error = NULL;
          g_autoptr(GRegex) regex = g_regex_new (value, 0, 0, &error);

          if (regex == NULL)
            _kp_layout_node_problem (self->problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                     _("The attribute %s of <%s> is not a valid regular expression: %s"),
                                     name, node->tag, error->message);
        }
    }

  if (node->kind == KP_LAYOUT_NODE_TEXT)
    check_placeholders (self, node, _("the text"), node->text);

  if ((node->kind == KP_LAYOUT_NODE_AUDIO || node->kind == KP_LAYOUT_NODE_VIDEO) &&
      kp_layout_node_get_attribute (node, "src") == NULL)
    _kp_layout_node_problem (self->problems, node, KP_LAYOUT_SEVERITY_WARNING,
                             _("<%s> has no source"), node->tag);

  if (node->kind == KP_LAYOUT_NODE_CROWD_RADIO_BUTTON &&
      (node->parent == NULL || node->parent->kind != KP_LAYOUT_NODE_CROWD_RADIO_GROUP))
    _kp_layout_node_problem (self->problems, node, KP_LAYOUT_SEVERITY_WARNING,
                             _("<crowd-radio-button> outside a <crowd-radio-group> is not exclusive"));

  if (node->kind == KP_LAYOUT_NODE_CROWD_SLIDER)
    {
      double min = kp_layout_node_get_number (node, "min", 0);
      double max = kp_layout_node_get_number (node, "max", 100);

      if (min > max)
        _kp_layout_node_problem (self->problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                 _("<crowd-slider> has min greater than max"));
      if (kp_layout_node_get_number (node, "step", 1) <= 0)
        _kp_layout_node_problem (self->problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                 _("<crowd-slider> needs a positive step"));
    }
}

/* The crowd-form an element submits with; crowd-entity-annotation
 * submits by itself (MTurk's reference: "Do not use it with the
 * crowd-form element"), with what it holds. */
static const KpLayoutNode *
enclosing_form (const KpLayoutNode *node)
{
  for (const KpLayoutNode *n = node->parent; n != NULL; n = n->parent)
    if (n->kind == KP_LAYOUT_NODE_CROWD_FORM || n->kind == KP_LAYOUT_NODE_CROWD_ENTITY_ANNOTATION)
      return n;

  return NULL;
}

const char *
_kp_layout_node_answer_key (const KpLayoutNode *node)
{
  if (node->kind == KP_LAYOUT_NODE_CROWD_RADIO_GROUP)
    {
      const char *id = kp_layout_node_get_attribute (node, "id");

      if (id != NULL && *id != '\0')
        return id;

      for (guint i = 0; i < node->children->len; i++)
        {
          const KpLayoutNode *child = g_ptr_array_index (node->children, i);

          if (child->kind == KP_LAYOUT_NODE_CROWD_RADIO_BUTTON)
            return kp_layout_node_get_attribute (child, "name");
        }

      return NULL;
    }

  return kp_layout_node_get_attribute (node, "name");
}

static gboolean
is_toggle_kind (KpLayoutNodeKind kind)
{
  return kind == KP_LAYOUT_NODE_CROWD_CHECKBOX || kind == KP_LAYOUT_NODE_CROWD_RADIO_BUTTON ||
         kind == KP_LAYOUT_NODE_CROWD_TOGGLE_BUTTON;
}

static void
check_tree (KpLayout *self)
{
  g_autoptr(GPtrArray) stack = g_ptr_array_new ();
  g_autoptr(GHashTable) names = g_hash_table_new (g_direct_hash, g_direct_equal);
  guint n_forms = 0;

  g_ptr_array_add (stack, self->root);

  while (stack->len > 0)
    {
      KpLayoutNode *node = g_ptr_array_steal_index (stack, stack->len - 1);

      check_attributes (self, node);

      if (node->kind == KP_LAYOUT_NODE_CROWD_FORM && ++n_forms == 2)
        _kp_layout_node_problem (self->problems, node, KP_LAYOUT_SEVERITY_WARNING,
                                 _("Only the first <crowd-form> is submitted"));

      if (self->format == KP_LAYOUT_FORMAT_HTML && kind_is_crowd (node->kind) &&
          (kp_layout_node_is_answerable (node) || node->kind == KP_LAYOUT_NODE_CROWD_RADIO_BUTTON))
        {
          const KpLayoutNode *form = enclosing_form (node);

          if (node->kind == KP_LAYOUT_NODE_CROWD_ENTITY_ANNOTATION)
            {
              if (form != NULL)
                _kp_layout_node_problem (self->problems, node, KP_LAYOUT_SEVERITY_WARNING,
                                         _("<crowd-entity-annotation> submits by itself; MTurk "
                                           "asks not to put it in a <%s>"), form->tag);
            }
          else if (form == NULL)
            {
              if (node->kind != KP_LAYOUT_NODE_CROWD_RADIO_BUTTON ||
                  node->parent == NULL || node->parent->kind != KP_LAYOUT_NODE_CROWD_RADIO_GROUP)
                _kp_layout_node_problem (self->problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                         _("<%s> is outside a <crowd-form>; its answer is never submitted"),
                                         node->tag);
            }
          else
            {
              const char *name = kp_layout_node_get_attribute (node, "name");
              const KpLayoutNode *other;
              GHashTable *form_names;

              if (name != NULL && *name != '\0' && !has_template_syntax (name))
                {
                  form_names = g_hash_table_lookup (names, form);
                  if (form_names == NULL)
                    {
                      form_names = g_hash_table_new (g_str_hash, g_str_equal);
                      g_hash_table_insert (names, (gpointer)form, form_names);
                    }

                  other = g_hash_table_lookup (form_names, name);
                  /* Check boxes and radio buttons sharing a name share
                   * one answer object, keyed by their values. */
                  if (other != NULL && !(is_toggle_kind (other->kind) && is_toggle_kind (node->kind)))
                    _kp_layout_node_problem (self->problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                             _("The name “%s” is used twice in this <crowd-form>"),
                                             name);
                  else if (other == NULL)
                    g_hash_table_insert (form_names, (gpointer)name, node);
                }
            }
        }

      for (guint i = node->children->len; i > 0; i--)
        g_ptr_array_add (stack, g_ptr_array_index (node->children, i - 1));
    }

  {
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init (&iter, names);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      g_hash_table_unref (value);
  }
}

static int
compare_problems (gconstpointer a,
                  gconstpointer b)
{
  const KpLayoutProblem *pa = *(const KpLayoutProblem **)a;
  const KpLayoutProblem *pb = *(const KpLayoutProblem **)b;

  if (pa->line != pb->line)
    return pa->line < pb->line ? -1 : 1;
  if (pa->column != pb->column)
    return pa->column < pb->column ? -1 : 1;
  return 0;
}

/* Format detection: the first element's name. */
static KpLayoutFormat
detect_format (const char *data,
               gsize       length)
{
  const char *p = data;
  const char *end = data + length;

  while (p < end)
    {
      p = memchr (p, '<', end - p);
      if (p == NULL || p + 1 >= end)
        break;
      if (p[1] == '?' || p[1] == '!')
        {
          p++;
          continue;
        }
      p++;
      if ((gsize)(end - p) >= 12 && strncmp (p, "QuestionForm", 12) == 0)
        return KP_LAYOUT_FORMAT_QUESTION;
      if ((gsize)(end - p) >= 12 && strncmp (p, "HTMLQuestion", 12) == 0)
        return KP_LAYOUT_FORMAT_QUESTION;
      if ((gsize)(end - p) >= 16 && strncmp (p, "ExternalQuestion", 16) == 0)
        return KP_LAYOUT_FORMAT_QUESTION;
      break;
    }

  return KP_LAYOUT_FORMAT_HTML;
}

static int
count_lines_before (const char *data,
                    const char *at)
{
  int lines = 0;

  for (const char *p = data; p < at; p++)
    if (*p == '\n')
      lines++;

  return lines;
}

KpLayout *
kp_layout_new_from_data (const char      *data,
                         gssize           length,
                         KpLayoutFormat   format,
                         GError         **error)
{
  g_autoptr(KpLayout) self = NULL;
  gsize len;

  g_return_val_if_fail (data != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  len = length < 0 ? strlen (data) : (gsize)length;

  if (len > KP_LAYOUT_MAX_LENGTH)
    {
      g_set_error (error, KP_LAYOUT_ERROR, KP_LAYOUT_ERROR_TOO_LARGE,
                   _("The template is %" "zu" " bytes; at most %d are allowed"),
                   len, KP_LAYOUT_MAX_LENGTH);
      return NULL;
    }

  if (!g_utf8_validate_len (data, len, NULL))
    {
      g_set_error (error, KP_LAYOUT_ERROR, KP_LAYOUT_ERROR_INVALID,
                   _("The template is not valid UTF-8 text"));
      return NULL;
    }

  self = g_object_new (KP_TYPE_LAYOUT, NULL);
  self->root = node_new (KP_LAYOUT_NODE_DOCUMENT, NULL, 1, 1);
  self->format = format == KP_LAYOUT_FORMAT_AUTO ? detect_format (data, len) : format;

  if (self->format == KP_LAYOUT_FORMAT_QUESTION)
    {
      g_autoptr(KpQuestionInfo) info = NULL;
      g_autoptr(GError) local_error = NULL;

      info = kp_question_parse (data, len, &local_error);
      if (info == NULL)
        {
          g_set_error_literal (error, KP_LAYOUT_ERROR,
                               g_error_matches (local_error, KP_QUESTION_ERROR,
                                                KP_QUESTION_ERROR_TOO_LARGE)
                               ? KP_LAYOUT_ERROR_TOO_LARGE : KP_LAYOUT_ERROR_INVALID,
                               local_error->message);
          return NULL;
        }

      switch (info->kind)
        {
        case KP_QUESTION_FORM:
          if (!build_question_form (self, data, len, error))
            return NULL;
          break;

        case KP_QUESTION_HTML:
          {
            const char *content = info->html_content != NULL ? info->html_content : "";
            const char *at = g_strstr_len (data, len, content);
            int line_offset = at != NULL && *content != '\0' ? count_lines_before (data, at) : 0;

            if (!build_html (self, self->root, content, strlen (content), line_offset, error))
              return NULL;
          }
          break;

        case KP_QUESTION_EXTERNAL:
        default:
          {
            KpLayoutNode *node = node_new (KP_LAYOUT_NODE_EXTERNAL_QUESTION, "ExternalQuestion", 1, 1);

            qf_set (node, "src", g_strdup (info->external_url));
            qf_set (node, "frame-height", g_strdup_printf ("%d", info->frame_height));
            node_append (self->root, node);
          }
          break;
        }

      self->question = g_steal_pointer (&info);
    }
  else if (!build_html (self, self->root, data, len, 0, error))
    return NULL;

  check_tree (self);
  g_ptr_array_sort (self->problems, compare_problems);

  return g_steal_pointer (&self);
}

const KpQuestionInfo *
_kp_layout_get_question (KpLayout *self)
{
  return self->question;
}

const KpLayoutNode *
kp_layout_get_root (KpLayout *self)
{
  g_return_val_if_fail (KP_IS_LAYOUT (self), NULL);

  return self->root;
}

KpLayoutFormat
kp_layout_get_format (KpLayout *self)
{
  g_return_val_if_fail (KP_IS_LAYOUT (self), KP_LAYOUT_FORMAT_AUTO);

  return self->format;
}

GPtrArray *
kp_layout_get_problems (KpLayout *self)
{
  g_return_val_if_fail (KP_IS_LAYOUT (self), NULL);

  return self->problems;
}

static void
collect (const KpLayoutNode *root,
         GPtrArray          *out,
         gboolean            answerable,
         gboolean            first_form)
{
  g_autoptr(GPtrArray) stack = g_ptr_array_new ();

  g_ptr_array_add (stack, (gpointer)root);
  while (stack->len > 0)
    {
      const KpLayoutNode *node = g_ptr_array_steal_index (stack, stack->len - 1);

      if (first_form && node->kind == KP_LAYOUT_NODE_CROWD_FORM)
        {
          g_ptr_array_add (out, (gpointer)node);
          return;
        }
      if (answerable && kp_layout_node_is_answerable (node))
        g_ptr_array_add (out, (gpointer)node);

      for (guint i = node->children->len; i > 0; i--)
        g_ptr_array_add (stack, g_ptr_array_index (node->children, i - 1));
    }
}

const KpLayoutNode *
kp_layout_get_form (KpLayout *self)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new ();

  g_return_val_if_fail (KP_IS_LAYOUT (self), NULL);

  collect (self->root, found, FALSE, TRUE);
  return found->len > 0 ? g_ptr_array_index (found, 0) : NULL;
}

GPtrArray *
kp_layout_dup_answerable (KpLayout           *self,
                          const KpLayoutNode *node)
{
  GPtrArray *found = g_ptr_array_new ();

  g_return_val_if_fail (KP_IS_LAYOUT (self), found);

  collect (node != NULL ? node : self->root, found, TRUE, FALSE);
  return found;
}
