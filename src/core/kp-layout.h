/* kp-layout.h: HIT layouts (crowd-html-elements, HTML, QuestionForm) as a
 * tree of nodes, their problems and the answers their elements produce
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#if !defined(KP_CORE_INSIDE) && !defined(KP_CORE_COMPILATION)
# error "Only <kp-core.h> can be included directly."
#endif

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define KP_LAYOUT_ERROR (kp_layout_error_quark ())

typedef enum
{
  KP_LAYOUT_ERROR_INVALID,
  KP_LAYOUT_ERROR_TOO_LARGE,
  KP_LAYOUT_ERROR_TOO_DEEP,
} KpLayoutError;

GQuark kp_layout_error_quark (void);

/* The largest template accepted, in bytes, and the deepest element
 * nesting. */
#define KP_LAYOUT_MAX_LENGTH (5 * 1024 * 1024)
#define KP_LAYOUT_MAX_DEPTH  512

/* MTurk's documented limit for crowd-image-classifier(-multi-select)
 * categories, and the limit we apply to every other labels= /
 * categories= list (Ground Truth's label-category limit for custom
 * templates). */
#define KP_LAYOUT_MAX_IMAGE_CATEGORIES 10
#define KP_LAYOUT_MAX_LABELS           50

typedef enum
{
  KP_LAYOUT_NODE_DOCUMENT,

  /* crowd-html-elements */
  KP_LAYOUT_NODE_CROWD_FORM,
  KP_LAYOUT_NODE_CROWD_ALERT,
  KP_LAYOUT_NODE_CROWD_BADGE,
  KP_LAYOUT_NODE_CROWD_BOUNDING_BOX,
  KP_LAYOUT_NODE_CROWD_BUTTON,
  KP_LAYOUT_NODE_CROWD_CARD,
  KP_LAYOUT_NODE_CROWD_CHECKBOX,
  KP_LAYOUT_NODE_CROWD_CLASSIFIER,
  KP_LAYOUT_NODE_CROWD_CLASSIFIER_MULTI_SELECT,
  KP_LAYOUT_NODE_CROWD_ENTITY_ANNOTATION,
  KP_LAYOUT_NODE_CROWD_FAB,
  KP_LAYOUT_NODE_CROWD_ICON_BUTTON,
  KP_LAYOUT_NODE_CROWD_IMAGE_CLASSIFIER,
  KP_LAYOUT_NODE_CROWD_IMAGE_CLASSIFIER_MULTI_SELECT,
  KP_LAYOUT_NODE_CROWD_INPUT,
  KP_LAYOUT_NODE_CROWD_INSTANCE_SEGMENTATION,
  KP_LAYOUT_NODE_CROWD_INSTRUCTIONS,
  KP_LAYOUT_NODE_CROWD_KEYPOINT,
  KP_LAYOUT_NODE_CROWD_LINE,
  KP_LAYOUT_NODE_CROWD_MODAL,
  KP_LAYOUT_NODE_CROWD_POLYGON,
  KP_LAYOUT_NODE_CROWD_POLYLINE,
  KP_LAYOUT_NODE_CROWD_RADIO_BUTTON,
  KP_LAYOUT_NODE_CROWD_RADIO_GROUP,
  KP_LAYOUT_NODE_CROWD_SEMANTIC_SEGMENTATION,
  KP_LAYOUT_NODE_CROWD_SLIDER,
  KP_LAYOUT_NODE_CROWD_TAB,
  KP_LAYOUT_NODE_CROWD_TABS,
  KP_LAYOUT_NODE_CROWD_TEXT_AREA,
  KP_LAYOUT_NODE_CROWD_TOGGLE_BUTTON,

  /* Regions of the crowd elements (the element's tag names them). */
  KP_LAYOUT_NODE_REGION_SHORT_INSTRUCTIONS,
  KP_LAYOUT_NODE_REGION_FULL_INSTRUCTIONS,
  KP_LAYOUT_NODE_REGION_CLASSIFICATION_TARGET,
  KP_LAYOUT_NODE_REGION_SHORT_SUMMARY,
  KP_LAYOUT_NODE_REGION_DETAILED_INSTRUCTIONS,
  KP_LAYOUT_NODE_REGION_POSITIVE_EXAMPLE,
  KP_LAYOUT_NODE_REGION_NEGATIVE_EXAMPLE,

  /* Ours, for what crowd-html-elements lacks. */
  KP_LAYOUT_NODE_KP_AUDIO_SEGMENTER,
  KP_LAYOUT_NODE_KP_VIDEO_TRACKER,

  /* HTML */
  KP_LAYOUT_NODE_HEADING,        /* level 1–6 */
  KP_LAYOUT_NODE_PARAGRAPH,
  KP_LAYOUT_NODE_BLOCK,          /* div, section, body, form, blockquote, pre, … */
  KP_LAYOUT_NODE_INLINE,         /* span, label, code, small, … */
  KP_LAYOUT_NODE_LINE_BREAK,     /* br, hr */
  KP_LAYOUT_NODE_LIST,           /* level 1 for <ol>, 0 for <ul> */
  KP_LAYOUT_NODE_LIST_ITEM,
  KP_LAYOUT_NODE_EMPHASIS,       /* em, i */
  KP_LAYOUT_NODE_STRONG,         /* strong, b */
  KP_LAYOUT_NODE_LINK,
  KP_LAYOUT_NODE_IMAGE,
  KP_LAYOUT_NODE_TABLE,
  KP_LAYOUT_NODE_TABLE_ROW,
  KP_LAYOUT_NODE_TABLE_CELL,     /* level 1 for <th> */
  KP_LAYOUT_NODE_AUDIO,
  KP_LAYOUT_NODE_VIDEO,
  KP_LAYOUT_NODE_INPUT,          /* <input> of a text-like type */
  KP_LAYOUT_NODE_TEXTAREA,
  KP_LAYOUT_NODE_SELECT,
  KP_LAYOUT_NODE_OPTION,
  KP_LAYOUT_NODE_CHECKBOX,       /* <input type=checkbox> */
  KP_LAYOUT_NODE_RADIO,          /* <input type=radio> */
  KP_LAYOUT_NODE_TEXT,           /* a run of text, in node->text */
  KP_LAYOUT_NODE_UNKNOWN,        /* shown as its text, with a warning */

  /* QuestionForm and ExternalQuestion */
  KP_LAYOUT_NODE_QF_OVERVIEW,
  KP_LAYOUT_NODE_QF_QUESTION,    /* attributes: identifier, display-name, required */
  KP_LAYOUT_NODE_QF_FREE_TEXT,   /* attributes: numeric, min-value, max-value, min-length,
                                  * max-length, pattern, pattern-error, default, lines */
  KP_LAYOUT_NODE_QF_SELECTION,   /* attributes: style, min-selections, max-selections, other */
  KP_LAYOUT_NODE_QF_SELECTION_OPTION, /* attribute: identifier; children: its content */
  KP_LAYOUT_NODE_QF_FILE_UPLOAD, /* attributes: min-size, max-size */
  KP_LAYOUT_NODE_EXTERNAL_QUESTION, /* attributes: src, frame-height */

  KP_LAYOUT_NODE_N_KINDS
} KpLayoutNodeKind;

typedef enum
{
  KP_LAYOUT_FORMAT_AUTO,     /* told by the root element and its namespace */
  KP_LAYOUT_FORMAT_HTML,     /* a crowd-html / HTML template */
  KP_LAYOUT_FORMAT_QUESTION, /* MTurk question XML (QuestionForm, HTMLQuestion, ExternalQuestion) */
} KpLayoutFormat;

typedef enum
{
  KP_LAYOUT_SEVERITY_ERROR,
  KP_LAYOUT_SEVERITY_WARNING,
} KpLayoutSeverity;

/* One problem of a layout, for the requester. line and column count from
 * 1; 0 when unknown. */
typedef struct
{
  KpLayoutSeverity  severity;
  int               line;
  int               column;
  char             *message;
} KpLayoutProblem;

#define KP_TYPE_LAYOUT_PROBLEM (kp_layout_problem_get_type ())

GType            kp_layout_problem_get_type (void) G_GNUC_CONST;
KpLayoutProblem *kp_layout_problem_new      (KpLayoutSeverity       severity,
                                             int                    line,
                                             int                    column,
                                             const char            *message);
KpLayoutProblem *kp_layout_problem_copy     (const KpLayoutProblem *problem);
void             kp_layout_problem_free     (KpLayoutProblem       *problem);
/* Appends a problem to an array made by kp_layout_problems_new(). */
void             kp_layout_problems_add     (GPtrArray             *problems,
                                             KpLayoutSeverity       severity,
                                             int                    line,
                                             int                    column,
                                             const char            *format,
                                             ...) G_GNUC_PRINTF (5, 6);
GPtrArray       *kp_layout_problems_new     (void) G_GNUC_WARN_UNUSED_RESULT;
/* TRUE when any problem is an error. */
gboolean         kp_layout_problems_has_errors (GPtrArray          *problems);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpLayoutProblem, kp_layout_problem_free)

/* One element or text run. Nodes belong to their KpLayout and live as long
 * as it does; read the fields, never change them. */
typedef struct _KpLayoutNode KpLayoutNode;

struct _KpLayoutNode
{
  KpLayoutNodeKind  kind;
  char             *tag;       /* the element's name in lower case; NULL for TEXT */
  char             *text;      /* TEXT: the text, whitespace collapsed; else NULL */
  int               level;     /* HEADING 1–6; LIST 1 when ordered; TABLE_CELL 1 for th */
  int               line;
  int               column;
  KpLayoutNode     *parent;
  GPtrArray        *children;  /* KpLayoutNode *, never NULL */
  GHashTable       *attributes;/* attribute name (lower case) → raw value, never NULL */
  GHashTable       *values;    /* private: parsed attribute values */
};

const char          *kp_layout_node_kind_to_string (KpLayoutNodeKind kind);
/* The kind of an element name ("crowd-polygon" →
 * KP_LAYOUT_NODE_CROWD_POLYGON); KP_LAYOUT_NODE_UNKNOWN for others. */
KpLayoutNodeKind     kp_layout_node_kind_from_tag  (const char     *tag);

/* The raw value of an attribute, or NULL when it is absent. */
const char          *kp_layout_node_get_attribute  (const KpLayoutNode *node,
                                                    const char         *name);
/* HTML boolean attributes: TRUE when present with any value other than
 * "false". */
gboolean             kp_layout_node_get_boolean    (const KpLayoutNode *node,
                                                    const char         *name);
/* A numeric attribute (min, max, step, min-length, …); default_value when
 * absent or not a number (a warning was reported then). */
double               kp_layout_node_get_number     (const KpLayoutNode *node,
                                                    const char         *name,
                                                    double              default_value);
/* A list attribute (labels, categories) as strings: the JSON array of
 * strings, single-quoted as MTurk's examples write them or not; for the
 * objects of crowd-entity-annotation's labels, their "label" members.
 * NULL when absent or invalid. */
const char * const  *kp_layout_node_get_strv       (const KpLayoutNode *node,
                                                    const char         *name);
/* A JSON attribute (initial-value, overlay, exclusion-category, labels, …)
 * parsed with MTurk's lenient syntax (single quotes, unquoted keys,
 * trailing commas). NULL when absent or invalid. */
JsonNode            *kp_layout_node_get_json       (const KpLayoutNode *node,
                                                    const char         *name);
/* The concatenated text of a node and its descendants, whitespace
 * collapsed. */
char                *kp_layout_node_dup_text       (const KpLayoutNode *node) G_GNUC_WARN_UNUSED_RESULT;
/* TRUE for elements whose answer goes into a crowd-form's output. */
gboolean             kp_layout_node_is_answerable  (const KpLayoutNode *node);

#define KP_TYPE_LAYOUT (kp_layout_get_type ())

G_DECLARE_FINAL_TYPE (KpLayout, kp_layout, KP, LAYOUT, GObject)

/* Parses a template (at most KP_LAYOUT_MAX_LENGTH bytes; length -1 means
 * NUL-terminated) into a tree and checks it. HTML goes through libxml2's
 * HTML parser, tolerant of real-world HTML; MTurk question XML through
 * kp_question_parse() (an HTMLQuestion's content is then parsed as HTML).
 * Scripts and styles are dropped, and reported; elements not rendered
 * natively become UNKNOWN nodes holding their text, with a warning.
 *
 * Fails only for templates that cannot be shown at all: too large
 * (KP_LAYOUT_ERROR_TOO_LARGE), nested deeper than KP_LAYOUT_MAX_DEPTH
 * (KP_LAYOUT_ERROR_TOO_DEEP), invalid question XML or not UTF-8
 * (KP_LAYOUT_ERROR_INVALID). Everything else is a problem of the layout.
 * The parser never touches the network and never expands entities other
 * than HTML's predefined ones. Thread-safe. */
KpLayout            *kp_layout_new_from_data       (const char       *data,
                                                    gssize            length,
                                                    KpLayoutFormat    format,
                                                    GError          **error) G_GNUC_WARN_UNUSED_RESULT;

/* The DOCUMENT node. */
const KpLayoutNode  *kp_layout_get_root            (KpLayout         *self);
/* The format found (HTML or QUESTION). */
KpLayoutFormat       kp_layout_get_format          (KpLayout         *self);
/* Problems found while parsing and checking (KpLayoutProblem *), sorted
 * by position. */
GPtrArray           *kp_layout_get_problems        (KpLayout         *self);
/* The first crowd-form, or NULL. */
const KpLayoutNode  *kp_layout_get_form            (KpLayout         *self);
/* Every answerable node under node (or the whole layout when NULL), in
 * document order. */
GPtrArray           *kp_layout_dup_answerable      (KpLayout         *self,
                                                    const KpLayoutNode *node) G_GNUC_WARN_UNUSED_RESULT;

/* Answers.
 *
 * kp_layout_node_answer() turns what a widget reports for one element
 * into the JSON value MTurk's element puts into its form under its name
 * (see kp-layout-answer.c for every element's widget value and answer
 * shape), checks it against the element's constraints (required, min- and
 * max-length, allowed-pattern, min/max, labels and categories) and adds
 * a problem for each violation to problems (which may be NULL). Returns
 * NULL when the value cannot be turned into an answer at all. value NULL
 * means the worker left the element untouched. */
JsonNode            *kp_layout_node_answer         (const KpLayoutNode *node,
                                                    JsonNode           *value,
                                                    GPtrArray          *problems) G_GNUC_WARN_UNUSED_RESULT;

/* The answers of a crowd-form (form NULL: the layout's first one, or the
 * whole document), from the widgets' values (element name → JsonNode *;
 * crowd-radio-group by the radio-group's id or, lacking one, the name of
 * its first button) as MTurk returns them: a JSON array holding one
 * answer, {"QuestionIdentifier": "taskAnswers", "FreeText": "[{…}]"},
 * whose FreeText is a JSON array holding one object with every named
 * element's answer (members of the answers flattened to dotted keys when
 * the crowd-form has answer-format="flatten-objects"). For a
 * QuestionForm, the array holds one entry per question instead. Either
 * is ready for kp_question_answers_to_xml(). Problems as above; returns
 * NULL only when the layout has no answerable element. */
JsonArray           *kp_layout_form_answer         (KpLayout           *self,
                                                    const KpLayoutNode *form,
                                                    GHashTable         *values,
                                                    GPtrArray          *problems) G_GNUC_WARN_UNUSED_RESULT;

/* Parses MTurk's lenient attribute JSON (see kp_layout_node_get_json()). */
JsonNode            *kp_layout_parse_lenient_json  (const char         *text,
                                                    GError            **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
