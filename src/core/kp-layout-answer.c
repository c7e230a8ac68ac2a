/* kp-layout-answer.c: the answers of a layout's elements, in MTurk's shapes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * A widget reports its state as a JSON value; kp_layout_node_answer()
 * checks it against the element and writes the JSON the crowd element
 * would have put into its crowd-form on MTurk. Members of objects come out
 * in alphabetical order, as MTurk's examples show them; coordinates of the
 * image tools are whole pixels.
 *
 * The widget values, per element (answer after the arrow):
 *
 *   crowd-bounding-box   {"boundingBoxes": [{"label", "left", "top", "width", "height"}],
 *                         "inputImageProperties": {"width", "height"}}
 *                        → the same, plus "initialValueModified" when the
 *                          element has an initial-value
 *   crowd-polygon        {"polygons": [{"label", "vertices": [{"x", "y"}, …≥3]}], "inputImageProperties"}
 *   crowd-keypoint       {"keypoints": [{"label", "x", "y"}], "inputImageProperties"}
 *   crowd-line           {"lines": [{"label", "vertices": [2 × {"x", "y"}]}], "inputImageProperties"}
 *   crowd-polyline       {"polylines": [{"label", "vertices": [≥2]}], "inputImageProperties"}
 *   crowd-semantic-segmentation
 *                        {"labeledImage": {"pngImageData": BASE64 PNG},
 *                         "labelMappings": {LABEL: {"color": "#rrggbb"}}, "inputImageProperties"}
 *   crowd-instance-segmentation
 *                        {"instances": [{"color", "label"}], "labeledImage": {"pngImageData"},
 *                         "inputImageProperties"}
 *   crowd-classifier, crowd-image-classifier
 *                        "Cat" → {"label": "Cat"}
 *   crowd-classifier-multi-select, crowd-image-classifier-multi-select
 *                        ["Cat", …] → {"labels": ["Cat", …]}
 *   crowd-entity-annotation
 *                        [{"label", "startOffset", "endOffset"}] → {"entities": [{"endOffset", "label",
 *                          "startOffset"}]} (offsets in UTF-16 code units of text=, as
 *                          JavaScript counts them)
 *   crowd-input, crowd-text-area, <input>, <textarea>, <select>
 *                        "text" → "text"
 *   crowd-checkbox, crowd-toggle-button, crowd-radio-button, <input type=checkbox>
 *                        true → {VALUE: true}, VALUE being the value attribute or "on";
 *                          toggles sharing a name share one object ({"Red": true,
 *                          "Green": false}), each reading its own member of an object value
 *   crowd-radio-group    "chosen button's value (or name)" → each button's {VALUE: bool}
 *                          under the button's name, merged into the form's object (the
 *                          group itself has no name)
 *   <input type=radio>   "chosen value" → {VALUE: bool, …} over the radios of that name
 *   crowd-slider         42 → 42
 *   kp-audio-segmenter   {"segments": [{"label", "startTime", "endTime"}]} (seconds)
 *   kp-video-tracker     {"tracks": [{"id", "label", "frames": [{"frame", "left", "top",
 *                          "width", "height"}]}]}
 *   QuestionForm         FreeText: "text"; Selection: ["id", …] or
 *                          {"selections": ["id", …], "other": "text"};
 *                          FileUpload: {"key", "size"}
 *                        → the entries of kp_question_answers_to_xml()
 *
 * A shortcut: the answer shape itself ({"label": "Cat"}, {"on": true},
 * {"labels": […]}, {"entities": […]}) is accepted as a value too.
 */

#include "config.h"

#include "kp-layout-private.h"
#include "kp-json-private.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

/* JSON helpers */

static gboolean
node_get_number (JsonNode *node,
                 double   *out)
{
  return _kp_json_node_get_number (node, out);
}

static const char *
node_get_string (JsonNode *node)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

static JsonNode *
object_member (JsonNode   *node,
               const char *member)
{
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;

  return json_object_get_member (json_node_get_object (node), member);
}

/* The array of a value: the value itself, or its member. */
static JsonArray *
value_array (JsonNode   *value,
             const char *member)
{
  JsonNode *node = value;

  if (value != NULL && JSON_NODE_HOLDS_OBJECT (value))
    node = object_member (value, member);

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return NULL;

  return json_node_get_array (node);
}

static gboolean
strv_contains (const char * const *strv,
               const char         *str)
{
  return strv != NULL && str != NULL && g_strv_contains (strv, str);
}

static void
check_label (GPtrArray          *problems,
             const KpLayoutNode *node,
             const char         *label)
{
  const char * const *labels = kp_layout_node_get_strv (node, "labels");

  if (label == NULL)
    _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                             _("An annotation of “%s” has no label"),
                             kp_layout_node_get_attribute (node, "name"));
  else if (labels != NULL && !strv_contains (labels, label))
    _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                             _("“%s” is not one of the labels of “%s”"), label,
                             kp_layout_node_get_attribute (node, "name"));
}

static void
add_int (JsonBuilder *builder,
         const char  *member,
         double       value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_int_value (builder, (gint64)lround (value));
}

static gboolean
add_image_properties (JsonBuilder        *builder,
                      const KpLayoutNode *node,
                      JsonNode           *value,
                      GPtrArray          *problems)
{
  JsonNode *props = object_member (value, "inputImageProperties");
  double width = 0, height = 0;

  if (!node_get_number (object_member (props, "width"), &width) ||
      !node_get_number (object_member (props, "height"), &height) || width <= 0 || height <= 0)
    {
      _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                               _("The answer of “%s” lacks the image’s size"),
                               kp_layout_node_get_attribute (node, "name"));
      return FALSE;
    }

  json_builder_set_member_name (builder, "inputImageProperties");
  json_builder_begin_object (builder);
  add_int (builder, "height", height);
  add_int (builder, "width", width);
  json_builder_end_object (builder);

  return TRUE;
}

/* Vertices: ≥ min points, exactly max when max > 0. */
static gboolean
add_vertices (JsonBuilder        *builder,
              const KpLayoutNode *node,
              JsonNode           *shape,
              guint               min,
              guint               max,
              GPtrArray          *problems)
{
  JsonNode *vertices_node = object_member (shape, "vertices");
  JsonArray *vertices;
  guint n;

  if (vertices_node == NULL || !JSON_NODE_HOLDS_ARRAY (vertices_node))
    return FALSE;

  vertices = json_node_get_array (vertices_node);
  n = json_array_get_length (vertices);
  if (n < min || (max > 0 && n != max))
    {
      _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                               _("A shape of “%s” has %u points"),
                               kp_layout_node_get_attribute (node, "name"), n);
      return FALSE;
    }

  json_builder_set_member_name (builder, "vertices");
  json_builder_begin_array (builder);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *v = json_array_get_element (vertices, i);
      double x, y;

      if (!node_get_number (object_member (v, "x"), &x) ||
          !node_get_number (object_member (v, "y"), &y))
        return FALSE;

      json_builder_begin_object (builder);
      add_int (builder, "x", x);
      add_int (builder, "y", y);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);

  return TRUE;
}

/* Image tools */

typedef enum
{
  SHAPE_BOX,
  SHAPE_POLYGON,
  SHAPE_KEYPOINT,
  SHAPE_LINE,
  SHAPE_POLYLINE,
} ShapeKind;

static gboolean
add_shape (JsonBuilder        *builder,
           const KpLayoutNode *node,
           ShapeKind           kind,
           JsonNode           *shape,
           GPtrArray          *problems)
{
  const char *label = node_get_string (object_member (shape, "label"));
  double left, top, width, height;

  if (shape == NULL || !JSON_NODE_HOLDS_OBJECT (shape))
    return FALSE;

  check_label (problems, node, label);

  json_builder_begin_object (builder);
  switch (kind)
    {
    case SHAPE_BOX:
      if (!node_get_number (object_member (shape, "left"), &left) ||
          !node_get_number (object_member (shape, "top"), &top) ||
          !node_get_number (object_member (shape, "width"), &width) ||
          !node_get_number (object_member (shape, "height"), &height))
        return FALSE;
      if (width <= 0 || height <= 0)
        _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                 _("A box of “%s” is empty"),
                                 kp_layout_node_get_attribute (node, "name"));
      add_int (builder, "height", height);
      json_builder_set_member_name (builder, "label");
      json_builder_add_string_value (builder, label != NULL ? label : "");
      add_int (builder, "left", left);
      add_int (builder, "top", top);
      add_int (builder, "width", width);
      break;

    case SHAPE_KEYPOINT:
      if (!node_get_number (object_member (shape, "x"), &left) ||
          !node_get_number (object_member (shape, "y"), &top))
        return FALSE;
      json_builder_set_member_name (builder, "label");
      json_builder_add_string_value (builder, label != NULL ? label : "");
      add_int (builder, "x", left);
      add_int (builder, "y", top);
      break;

    case SHAPE_POLYGON:
    case SHAPE_LINE:
    case SHAPE_POLYLINE:
      json_builder_set_member_name (builder, "label");
      json_builder_add_string_value (builder, label != NULL ? label : "");
      if (!add_vertices (builder, node, shape,
                         kind == SHAPE_POLYGON ? 3 : 2, kind == SHAPE_LINE ? 2 : 0, problems))
        return FALSE;
      break;

    default:
      g_assert_not_reached ();
    }
  json_builder_end_object (builder);

  return TRUE;
}

static JsonNode *
answer_shapes (const KpLayoutNode *node,
               JsonNode           *value,
               ShapeKind           kind,
               const char         *member,
               GPtrArray          *problems)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  g_autoptr(JsonNode) shapes = NULL;
  JsonArray *array = value_array (value, member);
  JsonNode *initial = kp_layout_node_get_json (node, "initial-value");

  if (value == NULL)
    {
      _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                               _("“%s” has no answer"), kp_layout_node_get_attribute (node, "name"));
      return NULL;
    }

  json_builder_begin_array (builder);
  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    if (!add_shape (builder, node, kind, json_array_get_element (array, i), problems))
      {
        _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                 _("A shape of “%s” is not valid"),
                                 kp_layout_node_get_attribute (node, "name"));
        return NULL;
      }
  json_builder_end_array (builder);
  shapes = json_builder_get_root (builder);

  json_builder_reset (builder);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, member);
  json_builder_add_value (builder, json_node_ref (shapes));

  /* MTurk tracks whether the worker changed the boxes it was given. */
  if (kind == SHAPE_BOX && initial != NULL)
    {
      g_autoptr(JsonBuilder) ib = json_builder_new_immutable ();
      g_autoptr(JsonNode) initial_shapes = NULL;
      JsonArray *initial_array = JSON_NODE_HOLDS_ARRAY (initial) ? json_node_get_array (initial) : NULL;

      json_builder_begin_array (ib);
      for (guint i = 0; initial_array != NULL && i < json_array_get_length (initial_array); i++)
        add_shape (ib, node, kind, json_array_get_element (initial_array, i), NULL);
      json_builder_end_array (ib);
      initial_shapes = json_builder_get_root (ib);

      json_builder_set_member_name (builder, "initialValueModified");
      json_builder_add_boolean_value (builder, !json_node_equal (initial_shapes, shapes));
    }

  if (!add_image_properties (builder, node, value, problems))
    return NULL;
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static gboolean
check_png (const KpLayoutNode *node,
           const char         *data,
           GPtrArray          *problems)
{
  static const guchar signature[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  g_autofree guchar *decoded = NULL;
  gsize len = 0;

  if (data != NULL)
    {
      /* MTurk sends bare base64; a data: URL prefix is tolerated. */
      const char *comma = g_str_has_prefix (data, "data:") ? strchr (data, ',') : NULL;

      decoded = g_base64_decode (comma != NULL ? comma + 1 : data, &len);
    }

  if (decoded == NULL || len < sizeof signature || memcmp (decoded, signature, sizeof signature) != 0)
    {
      _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                               _("The labeled image of “%s” is not a base64 PNG"),
                               kp_layout_node_get_attribute (node, "name"));
      return FALSE;
    }

  return TRUE;
}

static void
add_labeled_image (JsonBuilder *builder,
                   const char  *png)
{
  json_builder_set_member_name (builder, "labeledImage");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "pngImageData");
  json_builder_add_string_value (builder, png);
  json_builder_end_object (builder);
}

static JsonNode *
answer_segmentation (const KpLayoutNode *node,
                     JsonNode           *value,
                     gboolean            instances,
                     GPtrArray          *problems)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  const char *png = node_get_string (object_member (object_member (value, "labeledImage"),
                                                    "pngImageData"));

  if (value == NULL || !check_png (node, png, problems))
    return NULL;

  json_builder_begin_object (builder);
  if (!add_image_properties (builder, node, value, problems))
    return NULL;

  if (instances)
    {
      JsonArray *array = value_array (object_member (value, "instances"), "instances");

      json_builder_set_member_name (builder, "instances");
      json_builder_begin_array (builder);
      for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
        {
          JsonNode *instance = json_array_get_element (array, i);
          const char *color = node_get_string (object_member (instance, "color"));
          const char *label = node_get_string (object_member (instance, "label"));

          check_label (problems, node, label);
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "color");
          json_builder_add_string_value (builder, color != NULL ? color : "");
          json_builder_set_member_name (builder, "label");
          json_builder_add_string_value (builder, label != NULL ? label : "");
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      add_labeled_image (builder, png);
    }
  else
    {
      JsonNode *mappings = object_member (value, "labelMappings");
      g_autoptr(GList) members = NULL;

      json_builder_set_member_name (builder, "labelMappings");
      json_builder_begin_object (builder);
      if (mappings != NULL && JSON_NODE_HOLDS_OBJECT (mappings))
        {
          members = json_object_get_members (json_node_get_object (mappings));
          members = g_list_sort (members, (GCompareFunc)strcmp);
        }
      for (GList *l = members; l != NULL; l = l->next)
        {
          const char *color = node_get_string (object_member (object_member (mappings, l->data),
                                                              "color"));

          check_label (problems, node, l->data);
          json_builder_set_member_name (builder, l->data);
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "color");
          json_builder_add_string_value (builder, color != NULL ? color : "");
          json_builder_end_object (builder);
        }
      json_builder_end_object (builder);
      add_labeled_image (builder, png);
    }
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* Classifiers */

static const char *
exclusion_text (const KpLayoutNode *node)
{
  return node_get_string (object_member (kp_layout_node_get_json (node, "exclusion-category"),
                                         "text"));
}

static JsonNode *
answer_classifier (const KpLayoutNode *node,
                   JsonNode           *value,
                   GPtrArray          *problems)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  const char * const *categories = kp_layout_node_get_strv (node, "categories");
  const char *label = node_get_string (value);

  if (label == NULL)
    label = node_get_string (object_member (value, "label"));

  if (label == NULL)
    {
      _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                               _("Choose a category for “%s”"), kp_layout_node_get_attribute (node, "name"));
      return NULL;
    }

  if (categories != NULL && !strv_contains (categories, label))
    _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                             _("“%s” is not one of the categories of “%s”"), label,
                             kp_layout_node_get_attribute (node, "name"));

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "label");
  json_builder_add_string_value (builder, label);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static JsonNode *
answer_multi_select (const KpLayoutNode *node,
                     JsonNode           *value,
                     GPtrArray          *problems)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  const char * const *categories = kp_layout_node_get_strv (node, "categories");
  const char *exclusion = exclusion_text (node);
  JsonArray *array = value_array (value, "labels");
  guint n = array != NULL ? json_array_get_length (array) : 0;

  if (value != NULL && array == NULL)
    return NULL;

  if (n == 0)
    _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                             _("Choose at least one category for “%s”"),
                             kp_layout_node_get_attribute (node, "name"));

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "labels");
  json_builder_begin_array (builder);
  for (guint i = 0; i < n; i++)
    {
      const char *label = node_get_string (json_array_get_element (array, i));

      if (label == NULL)
        return NULL;

      if (exclusion != NULL && g_str_equal (label, exclusion))
        {
          if (n > 1)
            _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                     _("“%s” excludes every other category of “%s”"), label,
                                     kp_layout_node_get_attribute (node, "name"));
        }
      else if (categories != NULL && !strv_contains (categories, label))
        _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                 _("“%s” is not one of the categories of “%s”"), label,
                                 kp_layout_node_get_attribute (node, "name"));

      json_builder_add_string_value (builder, label);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static JsonNode *
answer_entities (const KpLayoutNode *node,
                 JsonNode           *value,
                 GPtrArray          *problems)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  JsonArray *array = value_array (value, "entities");
  const char *text = kp_layout_node_get_attribute (node, "text");
  glong text_len = 0;

  /* Offsets count UTF-16 code units, as JavaScript indexes strings. */
  for (const char *p = text; p != NULL && *p != '\0'; p = g_utf8_next_char (p))
    text_len += g_utf8_get_char (p) > 0xffff ? 2 : 1;

  if (value != NULL && array == NULL)
    return NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "entities");
  json_builder_begin_array (builder);
  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonNode *entity = json_array_get_element (array, i);
      const char *label = node_get_string (object_member (entity, "label"));
      double start, end;

      if (!node_get_number (object_member (entity, "startOffset"), &start) ||
          !node_get_number (object_member (entity, "endOffset"), &end))
        return NULL;

      check_label (problems, node, label);
      if (start < 0 || end <= start || end > text_len)
        _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                 _("An entity of “%s” spans %g to %g, outside its text"),
                                 kp_layout_node_get_attribute (node, "name"), start, end);

      json_builder_begin_object (builder);
      add_int (builder, "endOffset", end);
      json_builder_set_member_name (builder, "label");
      json_builder_add_string_value (builder, label != NULL ? label : "");
      add_int (builder, "startOffset", start);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* Text fields */

static JsonNode *
answer_text (const KpLayoutNode *node,
             JsonNode           *value,
             GPtrArray          *problems)
{
  const char *name = kp_layout_node_get_attribute (node, "name");
  const char *pattern = kp_layout_node_get_attribute (node, "allowed-pattern");
  g_autofree char *text = NULL;
  double number;
  glong len;

  if (value == NULL)
    text = g_strdup (kp_layout_node_get_attribute (node, "value") != NULL
                     ? kp_layout_node_get_attribute (node, "value") : "");
  else if (node_get_string (value) != NULL)
    text = g_strdup (node_get_string (value));
  else if (node_get_number (value, &number))
    text = g_strdup_printf ("%g", number);
  else
    return NULL;

  len = g_utf8_strlen (text, -1);

  if (kp_layout_node_get_boolean (node, "required") && *text == '\0')
    _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR, _("“%s” is required"), name);

  if (*text != '\0')
    {
      double min_length = kp_layout_node_get_number (node, "min-length", 0);
      double max_length = kp_layout_node_get_number (node, "max-length", G_MAXDOUBLE);

      if (len < min_length)
        _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                 _("“%s” needs at least %g characters"), name, min_length);
      if (len > max_length)
        _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                 _("“%s” takes at most %g characters"), name, max_length);
    }

  /* crowd-input's allowed-pattern is a character class the worker's
   * typing is held to, one character at a time. */
  if (pattern != NULL && *text != '\0')
    {
      g_autoptr(GRegex) regex = g_regex_new (pattern, 0, 0, NULL);

      if (regex != NULL)
        for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
          {
            g_autofree char *c = g_strndup (p, g_utf8_next_char (p) - p);

            if (!g_regex_match (regex, c, 0, NULL))
              {
                _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                         _("“%s” does not allow the character “%s”"), name, c);
                break;
              }
          }
    }

  if (g_strcmp0 (kp_layout_node_get_attribute (node, "type"), "number") == 0 && *text != '\0')
    {
      char *end = NULL;
      double v = g_ascii_strtod (text, &end);

      if (end == NULL || *end != '\0')
        _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                 _("“%s” must be a number"), name);
      else if (v < kp_layout_node_get_number (node, "min-value", -G_MAXDOUBLE) ||
               v > kp_layout_node_get_number (node, "max-value", G_MAXDOUBLE) ||
               v < kp_layout_node_get_number (node, "min", -G_MAXDOUBLE) ||
               v > kp_layout_node_get_number (node, "max", G_MAXDOUBLE))
        _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                 _("“%s” is out of range"), name);
    }

  return json_node_init_string (json_node_alloc (), text);
}

/* Toggles */

/* The member a toggle writes its state under: its value attribute, or
 * "on" as crowd-html-elements defaults it. */
static const char *
toggle_member (const KpLayoutNode *node)
{
  const char *v = kp_layout_node_get_attribute (node, "value");

  return v != NULL && *v != '\0' ? v : "on";
}

/* A toggle's state from a widget value: a boolean, or the answer shape
 * {MEMBER: bool} (which several toggles sharing a name share, each
 * reading its own member), or, for radios, the chosen value. */
static gboolean
value_boolean (const KpLayoutNode *node,
               JsonNode           *value,
               gboolean           *out)
{
  const char *member = toggle_member (node);

  if (value == NULL)
    {
      *out = kp_layout_node_get_boolean (node, "checked");
      return TRUE;
    }

  if (JSON_NODE_HOLDS_OBJECT (value))
    {
      JsonNode *state = object_member (value, member);

      if (state == NULL)
        {
          *out = FALSE;
          return TRUE;
        }
      value = state;
    }

  if (node_get_string (value) != NULL &&
      (node->kind == KP_LAYOUT_NODE_RADIO || node->kind == KP_LAYOUT_NODE_CROWD_RADIO_BUTTON))
    {
      *out = g_str_equal (node_get_string (value), member);
      return TRUE;
    }

  if (!JSON_NODE_HOLDS_VALUE (value) || json_node_get_value_type (value) != G_TYPE_BOOLEAN)
    return FALSE;

  *out = json_node_get_boolean (value);
  return TRUE;
}

static JsonNode *
on_object (const char *member,
           gboolean    on)
{
  JsonObject *object = json_object_new ();
  JsonNode *node = json_node_init_object (json_node_alloc (), object);

  json_object_set_boolean_member (object, member, on);
  json_object_unref (object);

  return node;
}

static JsonNode *
answer_toggle (const KpLayoutNode *node,
               JsonNode           *value,
               GPtrArray          *problems)
{
  gboolean on;

  if (!value_boolean (node, value, &on))
    return NULL;

  if (!on && kp_layout_node_get_boolean (node, "required"))
    _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR, _("“%s” must be checked"),
                             kp_layout_node_get_attribute (node, "name"));

  return on_object (toggle_member (node), on);
}

/* A radio group: every button answers under its own name, as
 * {VALUE: bool}; buttons sharing a name share the object. The widget
 * value is the chosen button's value (or, lacking one, its name). */
static JsonNode *
answer_radio_group (const KpLayoutNode *node,
                    JsonNode           *value,
                    GPtrArray          *problems)
{
  g_autoptr(JsonObject) object = json_object_new ();
  const char *chosen = node_get_string (value);
  gboolean found = FALSE;

  if (value != NULL && chosen == NULL)
    return NULL;

  for (guint i = 0; i < node->children->len; i++)
    {
      const KpLayoutNode *button = g_ptr_array_index (node->children, i);
      const char *name = kp_layout_node_get_attribute (button, "name");
      const char *v = kp_layout_node_get_attribute (button, "value");
      JsonObject *states;
      gboolean on;

      if (button->kind != KP_LAYOUT_NODE_CROWD_RADIO_BUTTON || name == NULL)
        continue;

      if (chosen != NULL)
        on = !found && g_str_equal (chosen, v != NULL && *v != '\0' ? v : name);
      else
        on = !found && kp_layout_node_get_boolean (button, "checked");
      found |= on;

      states = json_object_has_member (object, name) ? json_object_get_object_member (object, name) : NULL;
      if (states == NULL)
        {
          states = json_object_new ();
          json_object_set_object_member (object, name, states);
        }
      json_object_set_boolean_member (states, toggle_member (button), on);
    }

  if (chosen != NULL && !found)
    _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                             _("“%s” is not a button of this radio group"), chosen);

  return json_node_init_object (json_node_alloc (), object);
}

static JsonNode *
answer_slider (const KpLayoutNode *node,
               JsonNode           *value,
               GPtrArray          *problems)
{
  double min = kp_layout_node_get_number (node, "min", 0);
  double max = kp_layout_node_get_number (node, "max", 100);
  double step = kp_layout_node_get_number (node, "step", 1);
  double v;

  if (value == NULL)
    {
      const char *initial = kp_layout_node_get_attribute (node, "value");

      v = initial != NULL ? g_ascii_strtod (initial, NULL) : min;
      if (kp_layout_node_get_boolean (node, "required"))
        _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR, _("“%s” is required"),
                                 kp_layout_node_get_attribute (node, "name"));
    }
  else if (!node_get_number (value, &v))
    return NULL;

  if (v < min || v > max)
    _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                             _("“%s” must be between %g and %g"),
                             kp_layout_node_get_attribute (node, "name"), min, max);
  else if (step > 0 && fabs (remainder (v - min, step)) > 1e-9 * MAX (1.0, fabs (v)))
    _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                             _("“%s” must move in steps of %g"),
                             kp_layout_node_get_attribute (node, "name"), step);

  if (v == floor (v) && fabs (v) < 1e15)
    return json_node_init_int (json_node_alloc (), (gint64)v);

  return json_node_init_double (json_node_alloc (), v);
}

/* Our own elements */

static JsonNode *
answer_segments (const KpLayoutNode *node,
                 JsonNode           *value,
                 GPtrArray          *problems)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  JsonArray *array = value_array (value, "segments");

  if (value != NULL && array == NULL)
    return NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "segments");
  json_builder_begin_array (builder);
  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonNode *segment = json_array_get_element (array, i);
      const char *label = node_get_string (object_member (segment, "label"));
      double start, end;

      if (!node_get_number (object_member (segment, "startTime"), &start) ||
          !node_get_number (object_member (segment, "endTime"), &end))
        return NULL;

      check_label (problems, node, label);
      if (start < 0 || end <= start)
        _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                 _("A segment of “%s” ends before it starts"),
                                 kp_layout_node_get_attribute (node, "name"));

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "endTime");
      json_builder_add_double_value (builder, end);
      json_builder_set_member_name (builder, "label");
      json_builder_add_string_value (builder, label != NULL ? label : "");
      json_builder_set_member_name (builder, "startTime");
      json_builder_add_double_value (builder, start);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

static JsonNode *
answer_tracks (const KpLayoutNode *node,
               JsonNode           *value,
               GPtrArray          *problems)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  JsonArray *array = value_array (value, "tracks");

  if (value != NULL && array == NULL)
    return NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "tracks");
  json_builder_begin_array (builder);
  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonNode *track = json_array_get_element (array, i);
      const char *label = node_get_string (object_member (track, "label"));
      JsonArray *frames = value_array (object_member (track, "frames"), "frames");
      double id = i;

      node_get_number (object_member (track, "id"), &id);
      check_label (problems, node, label);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "frames");
      json_builder_begin_array (builder);
      for (guint j = 0; frames != NULL && j < json_array_get_length (frames); j++)
        {
          JsonNode *f = json_array_get_element (frames, j);
          double frame, left, top, width, height;

          if (!node_get_number (object_member (f, "frame"), &frame) ||
              !node_get_number (object_member (f, "left"), &left) ||
              !node_get_number (object_member (f, "top"), &top) ||
              !node_get_number (object_member (f, "width"), &width) ||
              !node_get_number (object_member (f, "height"), &height))
            return NULL;

          json_builder_begin_object (builder);
          add_int (builder, "frame", frame);
          add_int (builder, "height", height);
          add_int (builder, "left", left);
          add_int (builder, "top", top);
          add_int (builder, "width", width);
          json_builder_end_object (builder);
        }
      json_builder_end_array (builder);
      add_int (builder, "id", id);
      json_builder_set_member_name (builder, "label");
      json_builder_add_string_value (builder, label != NULL ? label : "");
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

/* QuestionForm */

static JsonNode *
answer_question_form (const KpLayoutNode *node,
                      JsonNode           *value,
                      GPtrArray          *problems)
{
  g_autoptr(JsonBuilder) builder = json_builder_new_immutable ();
  const char *id = kp_layout_node_get_attribute (node, "name");

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "QuestionIdentifier");
  json_builder_add_string_value (builder, id != NULL ? id : "");

  if (node->kind == KP_LAYOUT_NODE_QF_FREE_TEXT)
    {
      const char *text = node_get_string (value);

      if (value != NULL && text == NULL)
        return NULL;
      if (text == NULL)
        text = kp_layout_node_get_attribute (node, "default");
      if ((text == NULL || *text == '\0') && kp_layout_node_get_boolean (node, "required"))
        _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                 _("Question “%s” is required"), id);
      json_builder_set_member_name (builder, "FreeText");
      json_builder_add_string_value (builder, text != NULL ? text : "");
    }
  else if (node->kind == KP_LAYOUT_NODE_QF_SELECTION)
    {
      JsonArray *selections = value_array (value, "selections");
      const char *other = node_get_string (object_member (value, "other"));

      if (value != NULL && selections == NULL)
        return NULL;
      if ((selections == NULL || json_array_get_length (selections) == 0) && other == NULL &&
          kp_layout_node_get_boolean (node, "required"))
        _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                 _("Question “%s” is required"), id);

      json_builder_set_member_name (builder, "SelectionIdentifier");
      json_builder_begin_array (builder);
      for (guint i = 0; selections != NULL && i < json_array_get_length (selections); i++)
        {
          const char *s = node_get_string (json_array_get_element (selections, i));

          if (s == NULL)
            return NULL;
          json_builder_add_string_value (builder, s);
        }
      json_builder_end_array (builder);
      if (other != NULL)
        {
          json_builder_set_member_name (builder, "OtherSelectionText");
          json_builder_add_string_value (builder, other);
        }
    }
  else
    {
      const char *key = node_get_string (object_member (value, "key"));
      double size;

      if (key == NULL || !node_get_number (object_member (value, "size"), &size))
        {
          if (kp_layout_node_get_boolean (node, "required"))
            _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                     _("Question “%s” is required"), id);
          return NULL;
        }
      json_builder_set_member_name (builder, "UploadedFileKey");
      json_builder_add_string_value (builder, key);
      json_builder_set_member_name (builder, "UploadedFileSizeInBytes");
      json_builder_add_int_value (builder, (gint64)size);
    }
  json_builder_end_object (builder);

  return json_builder_get_root (builder);
}

JsonNode *
kp_layout_node_answer (const KpLayoutNode *node,
                       JsonNode           *value,
                       GPtrArray          *problems)
{
  g_return_val_if_fail (node != NULL, NULL);

  switch (node->kind)
    {
    case KP_LAYOUT_NODE_CROWD_BOUNDING_BOX:
      return answer_shapes (node, value, SHAPE_BOX, "boundingBoxes", problems);
    case KP_LAYOUT_NODE_CROWD_POLYGON:
      return answer_shapes (node, value, SHAPE_POLYGON, "polygons", problems);
    case KP_LAYOUT_NODE_CROWD_KEYPOINT:
      return answer_shapes (node, value, SHAPE_KEYPOINT, "keypoints", problems);
    case KP_LAYOUT_NODE_CROWD_LINE:
      return answer_shapes (node, value, SHAPE_LINE, "lines", problems);
    case KP_LAYOUT_NODE_CROWD_POLYLINE:
      return answer_shapes (node, value, SHAPE_POLYLINE, "polylines", problems);
    case KP_LAYOUT_NODE_CROWD_SEMANTIC_SEGMENTATION:
      return answer_segmentation (node, value, FALSE, problems);
    case KP_LAYOUT_NODE_CROWD_INSTANCE_SEGMENTATION:
      return answer_segmentation (node, value, TRUE, problems);
    case KP_LAYOUT_NODE_CROWD_CLASSIFIER:
    case KP_LAYOUT_NODE_CROWD_IMAGE_CLASSIFIER:
      return answer_classifier (node, value, problems);
    case KP_LAYOUT_NODE_CROWD_CLASSIFIER_MULTI_SELECT:
    case KP_LAYOUT_NODE_CROWD_IMAGE_CLASSIFIER_MULTI_SELECT:
      return answer_multi_select (node, value, problems);
    case KP_LAYOUT_NODE_CROWD_ENTITY_ANNOTATION:
      return answer_entities (node, value, problems);
    case KP_LAYOUT_NODE_CROWD_INPUT:
    case KP_LAYOUT_NODE_CROWD_TEXT_AREA:
    case KP_LAYOUT_NODE_INPUT:
    case KP_LAYOUT_NODE_TEXTAREA:
    case KP_LAYOUT_NODE_SELECT:
      return answer_text (node, value, problems);
    case KP_LAYOUT_NODE_CROWD_CHECKBOX:
    case KP_LAYOUT_NODE_CROWD_TOGGLE_BUTTON:
    case KP_LAYOUT_NODE_CROWD_RADIO_BUTTON:
    case KP_LAYOUT_NODE_CHECKBOX:
    case KP_LAYOUT_NODE_RADIO:
      return answer_toggle (node, value, problems);
    case KP_LAYOUT_NODE_CROWD_RADIO_GROUP:
      return answer_radio_group (node, value, problems);
    case KP_LAYOUT_NODE_CROWD_SLIDER:
      return answer_slider (node, value, problems);
    case KP_LAYOUT_NODE_KP_AUDIO_SEGMENTER:
      return answer_segments (node, value, problems);
    case KP_LAYOUT_NODE_KP_VIDEO_TRACKER:
      return answer_tracks (node, value, problems);
    case KP_LAYOUT_NODE_QF_FREE_TEXT:
    case KP_LAYOUT_NODE_QF_SELECTION:
    case KP_LAYOUT_NODE_QF_FILE_UPLOAD:
      return answer_question_form (node, value, problems);
    default:
      return NULL;
    }
}

static gboolean
is_toggle (const KpLayoutNode *node)
{
  return node->kind == KP_LAYOUT_NODE_CROWD_CHECKBOX || node->kind == KP_LAYOUT_NODE_CROWD_RADIO_BUTTON ||
         node->kind == KP_LAYOUT_NODE_CROWD_TOGGLE_BUTTON || node->kind == KP_LAYOUT_NODE_CHECKBOX ||
         node->kind == KP_LAYOUT_NODE_RADIO;
}

/* Toggles sharing a name share one object of states, as crowd-form
 * writes them: {"color": {"Red": true, "Green": false}}. */
static void
merge_states (JsonObject *form,
              const char *name,
              JsonNode   *states)
{
  JsonNode *existing = json_object_get_member (form, name);
  g_autoptr(GList) members = NULL;

  if (existing == NULL || !JSON_NODE_HOLDS_OBJECT (existing) || !JSON_NODE_HOLDS_OBJECT (states))
    {
      json_object_set_member (form, name, json_node_copy (states));
      return;
    }

  members = json_object_get_members (json_node_get_object (states));
  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonNode *state = json_object_get_member (json_node_get_object (states), l->data);
      JsonNode *old = json_object_get_member (json_node_get_object (existing), l->data);

      /* Two toggles with the same name and value: either one on is on. */
      if (old != NULL && JSON_NODE_HOLDS_VALUE (old) && json_node_get_value_type (old) == G_TYPE_BOOLEAN &&
          json_node_get_boolean (old))
        continue;
      json_object_set_member (json_node_get_object (existing), l->data, json_node_copy (state));
    }
}

/* Our answers nest a few levels at most, so recursion is bounded. */
static void
flatten_into (JsonObject *flat,
              const char *prefix,
              JsonObject *object)
{
  g_autoptr(GList) members = json_object_get_members (object);

  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonNode *member = json_object_get_member (object, l->data);
      g_autofree char *key = prefix != NULL ? g_strdup_printf ("%s.%s", prefix, (char *)l->data)
                                            : g_strdup (l->data);

      if (JSON_NODE_HOLDS_OBJECT (member))
        flatten_into (flat, key, json_node_get_object (member));
      else
        json_object_set_member (flat, key, json_node_copy (member));
    }
}

JsonArray *
kp_layout_form_answer (KpLayout           *self,
                       const KpLayoutNode *form,
                       GHashTable         *values,
                       GPtrArray          *problems)
{
  g_autoptr(GPtrArray) nodes = NULL;
  g_autoptr(JsonObject) object = NULL;
  g_autoptr(JsonNode) object_node = NULL;
  g_autoptr(JsonArray) wrapper = NULL;
  g_autoptr(JsonArray) result = NULL;
  g_autoptr(JsonObject) answer = NULL;
  g_autofree char *text = NULL;
  gboolean question_form;

  g_return_val_if_fail (KP_IS_LAYOUT (self), NULL);

  if (form == NULL)
    form = kp_layout_get_form (self);

  nodes = kp_layout_dup_answerable (self, form);
  if (nodes->len == 0)
    return NULL;

  question_form = kp_layout_get_format (self) == KP_LAYOUT_FORMAT_QUESTION &&
                  ((const KpLayoutNode *)g_ptr_array_index (nodes, 0))->kind >= KP_LAYOUT_NODE_QF_OVERVIEW;
  result = json_array_new ();
  object = json_object_new ();

  for (guint i = 0; i < nodes->len; i++)
    {
      const KpLayoutNode *node = g_ptr_array_index (nodes, i);
      const char *key = _kp_layout_node_answer_key (node);
      JsonNode *value = key != NULL && values != NULL ? g_hash_table_lookup (values, key) : NULL;
      g_autoptr(JsonNode) node_answer = NULL;

      if (key == NULL || *key == '\0')
        continue;

      node_answer = kp_layout_node_answer (node, value, problems);
      if (node_answer == NULL)
        {
          if (value != NULL)
            _kp_layout_node_problem (problems, node, KP_LAYOUT_SEVERITY_ERROR,
                                     _("The value given for “%s” does not fit a <%s>"), key,
                                     node->tag != NULL ? node->tag : "");
          continue;
        }

      if (question_form)
        json_array_add_element (result, g_steal_pointer (&node_answer));
      else if (node->kind == KP_LAYOUT_NODE_CROWD_RADIO_GROUP)
        {
          JsonObject *group = json_node_get_object (node_answer);
          g_autoptr(GList) members = json_object_get_members (group);

          for (GList *l = members; l != NULL; l = l->next)
            merge_states (object, l->data, json_object_get_member (group, l->data));
        }
      else if (is_toggle (node))
        merge_states (object, key, node_answer);
      else
        json_object_set_member (object, key, g_steal_pointer (&node_answer));
    }

  if (question_form)
    {
      /* The QuestionForm's own constraints (IsNumeric, Length,
       * AnswerFormatRegex, selection counts) are checked where the
       * answer XML is made; report them before submitting. */
      g_autoptr(GError) error = NULL;
      g_autofree char *xml = kp_question_answers_to_xml (_kp_layout_get_question (self), result, &error);

      if (xml == NULL)
        kp_layout_problems_add (problems, KP_LAYOUT_SEVERITY_ERROR, 0, 0, "%s", error->message);

      return g_steal_pointer (&result);
    }

  /* <crowd-form answer-format="flatten-objects"> (MTurk's sample
   * templates use it) writes nested members as dotted keys. */
  if (form != NULL && g_strcmp0 (kp_layout_node_get_attribute (form, "answer-format"), "flatten-objects") == 0)
    {
      JsonObject *flat = json_object_new ();

      flatten_into (flat, NULL, object);
      g_clear_pointer (&object, json_object_unref);
      object = flat;
    }

  wrapper = json_array_new ();
  json_array_add_object_element (wrapper, json_object_ref (object));
  object_node = json_node_init_array (json_node_alloc (), wrapper);
  text = json_to_string (object_node, FALSE);

  answer = json_object_new ();
  json_object_set_string_member (answer, "QuestionIdentifier", "taskAnswers");
  json_object_set_string_member (answer, "FreeText", text);
  json_array_add_object_element (result, g_steal_pointer (&answer));

  return g_steal_pointer (&result);
}
