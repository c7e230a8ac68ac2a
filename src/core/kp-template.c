/* kp-template.c: batch placeholders, the Ground Truth Liquid subset, CSV
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "kp-template.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "kp-layout.h"

G_DEFINE_QUARK (kp-template-error-quark, kp_template_error)

/* Positions */

static void
advance_position (const char *from,
                  const char *to,
                  int        *line,
                  int        *column)
{
  for (const char *p = from; p < to; p++)
    {
      if (*p == '\n')
        {
          (*line)++;
          *column = 1;
        }
      else if (((guchar)*p & 0xc0) != 0x80)
        (*column)++;
    }
}

/* CSV */

GPtrArray *
kp_template_parse_csv (const char  *data,
                       gssize       length,
                       GError     **error)
{
  g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify)g_strfreev);
  g_autoptr(GPtrArray) fields = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GString) field = g_string_new (NULL);
  const char *p, *end;
  int line = 1;
  gboolean any = FALSE;

  g_return_val_if_fail (data != NULL || length == 0, NULL);

  if (length < 0)
    length = strlen (data);

  if (!g_utf8_validate_len (data, length, NULL))
    {
      g_set_error (error, KP_TEMPLATE_ERROR, KP_TEMPLATE_ERROR_INVALID,
                   _("The CSV data is not valid UTF-8 text"));
      return NULL;
    }

  p = data;
  end = data + length;
  if (length >= 3 && memcmp (p, "\xef\xbb\xbf", 3) == 0)
    p += 3;

  while (p < end)
    {
      if (*p == '"' && field->len == 0)
        {
          int start_line = line;

          p++;
          for (;;)
            {
              if (p >= end)
                {
                  g_set_error (error, KP_TEMPLATE_ERROR, KP_TEMPLATE_ERROR_INVALID,
                               _("Line %d: a quoted field is not closed"), start_line);
                  return NULL;
                }
              if (*p == '"')
                {
                  if (p + 1 < end && p[1] == '"')
                    {
                      g_string_append_c (field, '"');
                      p += 2;
                      continue;
                    }
                  p++;
                  break;
                }
              if (*p == '\n')
                line++;
              g_string_append_c (field, *p++);
            }

          if (p < end && *p != ',' && *p != '\n' && *p != '\r')
            {
              g_set_error (error, KP_TEMPLATE_ERROR, KP_TEMPLATE_ERROR_INVALID,
                           _("Line %d: text follows a closing quote"), line);
              return NULL;
            }
          any = TRUE;
          continue;
        }

      if (*p == ',')
        {
          g_ptr_array_add (fields, g_strndup (field->str, field->len));
          g_string_truncate (field, 0);
          any = TRUE;
          p++;
        }
      else if (*p == '\n' || *p == '\r')
        {
          if (*p == '\r' && p + 1 < end && p[1] == '\n')
            p++;
          p++;
          line++;
          g_ptr_array_add (fields, g_strndup (field->str, field->len));
          g_string_truncate (field, 0);
          g_ptr_array_add (fields, NULL);
          g_ptr_array_add (records, g_ptr_array_steal (fields, NULL));
          any = FALSE;
        }
      else
        {
          g_string_append_c (field, *p++);
          any = TRUE;
        }
    }

  if (any || field->len > 0)
    {
      g_ptr_array_add (fields, g_strndup (field->str, field->len));
      g_ptr_array_add (fields, NULL);
      g_ptr_array_add (records, g_ptr_array_steal (fields, NULL));
    }

  return g_steal_pointer (&records);
}

GHashTable *
kp_template_csv_row (GPtrArray *records,
                     guint      index)
{
  GHashTable *row;
  char **header;
  char **values;
  guint n_values;

  g_return_val_if_fail (records != NULL, NULL);

  if (records->len < 2 || index >= records->len - 1)
    return NULL;

  header = g_ptr_array_index (records, 0);
  values = g_ptr_array_index (records, index + 1);
  n_values = g_strv_length (values);

  row = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; header[i] != NULL; i++)
    if (!g_hash_table_contains (row, header[i]))
      g_hash_table_insert (row, g_strdup (header[i]), g_strdup (i < n_values ? values[i] : ""));

  return row;
}

/* ${column} */

static gboolean
is_column_char (char c)
{
  return c != '}' && c != '\n' && c != '\r' && c != '$' && c != '{' && c != '<' && c != '>' &&
         c != '"' && c != '\'';
}

char *
kp_template_fill_placeholders (const char *text,
                               GHashTable *row,
                               GPtrArray  *problems)
{
  GString *out;
  const char *p, *last;
  int line = 1, column = 1;

  g_return_val_if_fail (text != NULL, NULL);

  if (row == NULL)
    return g_strdup (text);

  out = g_string_sized_new (strlen (text));
  last = text;

  for (p = strstr (text, "${"); p != NULL; p = strstr (p, "${"))
    {
      const char *name = p + 2;
      const char *q = name;
      g_autofree char *column_name = NULL;
      const char *value;

      while (*q != '\0' && is_column_char (*q) && q - name < 256)
        q++;

      if (*q != '}' || q == name)
        {
          p += 2;
          continue;
        }

      g_string_append_len (out, last, p - last);
      advance_position (last, p, &line, &column);
      last = q + 1;

      column_name = g_strndup (name, q - name);
      value = g_hash_table_lookup (row, column_name);
      if (value == NULL)
        {
          kp_layout_problems_add (problems, KP_LAYOUT_SEVERITY_ERROR, line, column,
                                  _("The placeholder ${%s} has no column in the batch data"),
                                  column_name);
          g_string_append_len (out, p, last - p);
        }
      else
        {
          g_autofree char *escaped = g_markup_escape_text (value, -1);

          /* Line breaks as character references keep every line of
           * the template where it was, so the layout's problems point
           * into the template as written. */
          for (const char *c = escaped; *c != '\0'; c++)
            {
              if (*c == '\n')
                g_string_append (out, "&#10;");
              else if (*c == '\r')
                g_string_append (out, "&#13;");
              else
                g_string_append_c (out, *c);
            }
        }

      advance_position (p, last, &line, &column);
      p = last;
    }

  g_string_append (out, last);
  return g_string_free (out, FALSE);
}

/* Liquid */

gboolean
kp_template_has_liquid (const char *text)
{
  g_return_val_if_fail (text != NULL, FALSE);

  return strstr (text, "{{") != NULL || strstr (text, "{%") != NULL;
}

#define MAX_LIQUID_DEPTH 64

typedef enum
{
  TOKEN_TEXT,
  TOKEN_OUTPUT,
  TOKEN_TAG,
} TokenType;

typedef struct
{
  TokenType  type;
  char      *content;  /* TEXT: the text; else the trimmed inside */
  int        line;
  int        column;
} Token;

typedef enum
{
  LNODE_TEXT,
  LNODE_OUTPUT,
  LNODE_FOR,
  LNODE_IF,
  LNODE_ASSIGN,
  LNODE_CAPTURE,
} LNodeType;

typedef struct _LNode LNode;

struct _LNode
{
  LNodeType  type;
  Token     *token;
  /* FOR: variable and path; IF: every branch's condition (NULL for else),
   * and its body. */
  char      *variable;
  char      *path;
  GPtrArray *conditions;  /* char *, NULL entries for else */
  GPtrArray *bodies;      /* GPtrArray * of LNode * */
  gboolean   negate;      /* unless */
};

static void
lnode_free (gpointer data)
{
  LNode *node = data;

  g_free (node->variable);
  g_free (node->path);
  g_clear_pointer (&node->conditions, g_ptr_array_unref);
  g_clear_pointer (&node->bodies, g_ptr_array_unref);
  g_free (node);
}

static GPtrArray *
lnode_list_new (void)
{
  return g_ptr_array_new_with_free_func (lnode_free);
}

static void
token_clear (gpointer data)
{
  Token *token = data;

  g_free (token->content);
}

typedef struct
{
  GArray    *tokens;
  guint      pos;
  GPtrArray *problems;
} Parser;

static char *
strip_dashes (const char *start,
              const char *end)
{
  if (start < end && *start == '-')
    start++;
  if (end > start && end[-1] == '-')
    end--;

  return g_strstrip (g_strndup (start, end - start));
}

static void
tokenize (const char *text,
          GArray     *tokens,
          GPtrArray  *problems)
{
  const char *p = text;
  int line = 1, column = 1;

  while (*p != '\0')
    {
      const char *open_out = strstr (p, "{{");
      const char *open_tag = strstr (p, "{%");
      const char *open;
      const char *close;
      gboolean is_tag;
      Token token = { 0, };

      if (open_out == NULL && open_tag == NULL)
        {
          token.type = TOKEN_TEXT;
          token.content = g_strdup (p);
          g_array_append_val (tokens, token);
          return;
        }

      is_tag = open_out == NULL || (open_tag != NULL && open_tag < open_out);
      open = is_tag ? open_tag : open_out;

      if (open > p)
        {
          token.type = TOKEN_TEXT;
          token.content = g_strndup (p, open - p);
          token.line = line;
          token.column = column;
          g_array_append_val (tokens, token);
          advance_position (p, open, &line, &column);
        }

      close = strstr (open + 2, is_tag ? "%}" : "}}");
      if (close == NULL)
        {
          Token rest = { TOKEN_TEXT, g_strdup (open), line, column };

          kp_layout_problems_add (problems, KP_LAYOUT_SEVERITY_ERROR, line, column,
                                  is_tag ? _("Liquid: “{%%” is not closed by “%%}”")
                                         : _("Liquid: “{{” is not closed by “}}”"));
          g_array_append_val (tokens, rest);
          return;
        }

      token.type = is_tag ? TOKEN_TAG : TOKEN_OUTPUT;
      token.content = strip_dashes (open + 2, close);
      token.line = line;
      token.column = column;
      g_array_append_val (tokens, token);
      advance_position (open, close + 2, &line, &column);
      p = close + 2;

      /* {% raw %} and {% comment %} swallow everything up to their end. */
      if (is_tag && (g_str_equal (token.content, "raw") || g_str_equal (token.content, "comment")))
        {
          const char *end_name = g_str_equal (token.content, "raw") ? "endraw" : "endcomment";
          const char *q = p;
          gboolean found = FALSE;

          g_free (g_array_index (tokens, Token, tokens->len - 1).content);
          tokens->len--;

          while ((q = strstr (q, "{%")) != NULL)
            {
              const char *qc = strstr (q + 2, "%}");
              g_autofree char *inner = NULL;

              if (qc == NULL)
                break;
              inner = strip_dashes (q + 2, qc);
              if (g_str_equal (inner, end_name))
                {
                  if (g_str_equal (end_name, "endraw") && q > p)
                    {
                      Token raw = { TOKEN_TEXT, g_strndup (p, q - p), line, column };

                      g_array_append_val (tokens, raw);
                    }
                  advance_position (p, qc + 2, &line, &column);
                  p = qc + 2;
                  found = TRUE;
                  break;
                }
              q = qc + 2;
            }

          if (!found)
            {
              kp_layout_problems_add (problems, KP_LAYOUT_SEVERITY_ERROR, token.line, token.column,
                                      _("Liquid: {%% %s %%} is not closed"),
                                      g_str_equal (end_name, "endraw") ? "raw" : "comment");
              return;
            }
        }
    }
}

static gboolean
tag_is (const Token *token,
        const char  *word)
{
  gsize len = strlen (word);

  return token->type == TOKEN_TAG && strncmp (token->content, word, len) == 0 &&
         (token->content[len] == '\0' || g_ascii_isspace (token->content[len]));
}

static const char *
tag_arguments (const Token *token)
{
  const char *p = token->content;

  while (*p != '\0' && !g_ascii_isspace (*p))
    p++;
  while (g_ascii_isspace (*p))
    p++;

  return p;
}

/* Parses tokens into nodes until one of the terminators (tag names,
 * NULL-terminated); returns that terminating token or NULL at the end. */
static Token *
parse_block (Parser             *parser,
             GPtrArray          *out,
             const char * const *terminators,
             int                 depth)
{
  while (parser->pos < parser->tokens->len)
    {
      Token *token = &g_array_index (parser->tokens, Token, parser->pos++);
      LNode *node;

      if (token->type == TOKEN_TEXT || token->type == TOKEN_OUTPUT)
        {
          node = g_new0 (LNode, 1);
          node->type = token->type == TOKEN_TEXT ? LNODE_TEXT : LNODE_OUTPUT;
          node->token = token;
          g_ptr_array_add (out, node);
          continue;
        }

      for (guint i = 0; terminators != NULL && terminators[i] != NULL; i++)
        if (tag_is (token, terminators[i]))
          return token;

      if (tag_is (token, "for") || tag_is (token, "if") || tag_is (token, "unless"))
        {
          static const char * const for_end[] = { "endfor", NULL };
          static const char * const if_end[] = { "elsif", "else", "endif", NULL };
          static const char * const unless_end[] = { "else", "endunless", NULL };
          gboolean is_for = tag_is (token, "for");
          gboolean is_unless = tag_is (token, "unless");
          const char *closing = is_for ? "endfor" : is_unless ? "endunless" : "endif";
          GPtrArray *body;
          Token *end;

          if (depth >= MAX_LIQUID_DEPTH)
            {
              kp_layout_problems_add (parser->problems, KP_LAYOUT_SEVERITY_ERROR, token->line,
                                      token->column, _("Liquid: blocks are nested deeper than %d"),
                                      MAX_LIQUID_DEPTH);
              parser->pos = parser->tokens->len;
              return NULL;
            }

          node = g_new0 (LNode, 1);
          node->token = token;
          node->bodies = g_ptr_array_new_with_free_func ((GDestroyNotify)g_ptr_array_unref);
          g_ptr_array_add (out, node);

          if (is_for)
            {
              g_auto(GStrv) words = g_strsplit_set (tag_arguments (token), " \t\n", -1);
              g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
              g_auto(GStrv) parts = NULL;

              for (guint i = 0; words[i] != NULL; i++)
                if (*words[i] != '\0')
                  g_strv_builder_add (builder, words[i]);
              parts = g_strv_builder_end (builder);

              node->type = LNODE_FOR;
              if (g_strv_length (parts) != 3 || !g_str_equal (parts[1], "in"))
                kp_layout_problems_add (parser->problems, KP_LAYOUT_SEVERITY_ERROR, token->line,
                                        token->column, _("Liquid: write {%% for x in list %%}"));
              else
                {
                  node->variable = g_strdup (parts[0]);
                  node->path = g_strdup (parts[2]);
                }
            }
          else
            {
              node->type = LNODE_IF;
              node->negate = is_unless;
              node->conditions = g_ptr_array_new_with_free_func (g_free);
              g_ptr_array_add (node->conditions, g_strdup (tag_arguments (token)));
            }

          for (;;)
            {
              body = lnode_list_new ();
              g_ptr_array_add (node->bodies, body);
              end = parse_block (parser, body,
                                 is_for ? for_end : is_unless ? unless_end : if_end, depth + 1);
              if (end == NULL)
                {
                  kp_layout_problems_add (parser->problems, KP_LAYOUT_SEVERITY_ERROR, token->line,
                                          token->column, _("Liquid: {%% %s %%} is not closed by {%% %s %%}"),
                                          is_for ? "for" : is_unless ? "unless" : "if", closing);
                  return NULL;
                }
              if (tag_is (end, closing))
                break;
              if (tag_is (end, "elsif"))
                g_ptr_array_add (node->conditions, g_strdup (tag_arguments (end)));
              else
                g_ptr_array_add (node->conditions, NULL);
            }
          continue;
        }

      if (tag_is (token, "assign"))
        {
          const char *args = tag_arguments (token);
          const char *eq = strchr (args, '=');

          if (eq == NULL || eq == args || eq[1] == '=')
            {
              kp_layout_problems_add (parser->problems, KP_LAYOUT_SEVERITY_ERROR, token->line,
                                      token->column, _("Liquid: write {%% assign name = value %%}"));
              continue;
            }

          node = g_new0 (LNode, 1);
          node->type = LNODE_ASSIGN;
          node->token = token;
          node->variable = g_strstrip (g_strndup (args, eq - args));
          node->path = g_strdup (eq + 1);
          g_ptr_array_add (out, node);
          continue;
        }

      if (tag_is (token, "capture"))
        {
          static const char * const capture_end[] = { "endcapture", NULL };
          GPtrArray *body;

          if (depth >= MAX_LIQUID_DEPTH)
            {
              kp_layout_problems_add (parser->problems, KP_LAYOUT_SEVERITY_ERROR, token->line,
                                      token->column, _("Liquid: blocks are nested deeper than %d"),
                                      MAX_LIQUID_DEPTH);
              parser->pos = parser->tokens->len;
              return NULL;
            }

          node = g_new0 (LNode, 1);
          node->type = LNODE_CAPTURE;
          node->token = token;
          node->variable = g_strstrip (g_strdup (tag_arguments (token)));
          node->bodies = g_ptr_array_new_with_free_func ((GDestroyNotify)g_ptr_array_unref);
          body = lnode_list_new ();
          g_ptr_array_add (node->bodies, body);
          g_ptr_array_add (out, node);

          if (parse_block (parser, body, capture_end, depth + 1) == NULL)
            {
              kp_layout_problems_add (parser->problems, KP_LAYOUT_SEVERITY_ERROR, token->line,
                                      token->column, _("Liquid: {%% capture %%} is not closed by {%% endcapture %%}"));
              return NULL;
            }
          continue;
        }

      if (tag_is (token, "endfor") || tag_is (token, "endif") || tag_is (token, "endunless") ||
          tag_is (token, "endcapture") || tag_is (token, "else") || tag_is (token, "elsif"))
        kp_layout_problems_add (parser->problems, KP_LAYOUT_SEVERITY_ERROR, token->line, token->column,
                                _("Liquid: {%% %s %%} has no opening tag"), token->content);
      else
        kp_layout_problems_add (parser->problems, KP_LAYOUT_SEVERITY_ERROR, token->line, token->column,
                                _("Liquid: unknown tag {%% %s %%}"), token->content);
    }

  return NULL;
}

/* Evaluation */

typedef struct
{
  JsonNode  *root;     /* {"task": {"input": …}} */
  JsonObject *globals; /* {% assign %} and {% capture %} variables */
  GPtrArray *scopes;   /* JsonObject *, innermost last */
  GPtrArray *problems;
  GString   *out;
} Renderer;

/* A literal or a path; returns a new reference, or NULL for nil. */
static JsonNode *
evaluate (Renderer    *r,
          const char  *expression,
          const Token *token,
          gboolean     report)
{
  g_autofree char *expr = g_strstrip (g_strdup (expression));
  const char *p = expr;
  JsonNode *current = NULL;
  char *end = NULL;
  double number;

  if (*p == '\0')
    return NULL;

  if (*p == '\'' || *p == '"')
    {
      gsize len = strlen (p);

      if (len >= 2 && p[len - 1] == *p)
        {
          g_autofree char *literal = g_strndup (p + 1, len - 2);

          return json_node_init_string (json_node_alloc (), literal);
        }
      return NULL;
    }

  number = g_ascii_strtod (p, &end);
  if (end != p && *end == '\0')
    {
      if (number == floor (number) && fabs (number) < 1e15)
        return json_node_init_int (json_node_alloc (), (gint64)number);
      return json_node_init_double (json_node_alloc (), number);
    }

  if (g_str_equal (p, "true") || g_str_equal (p, "false"))
    return json_node_init_boolean (json_node_alloc (), g_str_equal (p, "true"));
  if (g_str_equal (p, "nil") || g_str_equal (p, "null") || g_str_equal (p, "empty"))
    return NULL;

  /* A path: name(.name | [N] | ['key'])* */
  while (*p != '\0')
    {
      g_autofree char *key = NULL;
      gint64 index = -1;

      if (*p == '.')
        p++;

      if (*p == '[')
        {
          const char *close = strchr (p, ']');
          g_autofree char *inside = NULL;

          if (close == NULL)
            goto invalid;
          inside = g_strstrip (g_strndup (p + 1, close - p - 1));
          if (*inside == '\'' || *inside == '"')
            {
              gsize len = strlen (inside);

              if (len < 2)
                goto invalid;
              key = g_strndup (inside + 1, len - 2);
            }
          else
            {
              char *iend = NULL;

              index = g_ascii_strtoll (inside, &iend, 10);
              if (iend == inside || *iend != '\0')
                goto invalid;
            }
          p = close + 1;
        }
      else
        {
          const char *start = p;

          while (*p != '\0' && *p != '.' && *p != '[')
            p++;
          if (p == start)
            goto invalid;
          key = g_strndup (start, p - start);
        }

      if (current == NULL && key != NULL)
        {
          /* The first name: a loop variable or task. */
          for (guint i = r->scopes->len; i > 0 && current == NULL; i--)
            {
              JsonObject *scope = g_ptr_array_index (r->scopes, i - 1);

              if (json_object_has_member (scope, key))
                current = json_object_get_member (scope, key);
            }
          if (current == NULL && json_object_has_member (r->globals, key))
            current = json_object_get_member (r->globals, key);
          if (current == NULL)
            current = json_object_get_member (json_node_get_object (r->root), key);
        }
      else if (current != NULL && key != NULL && JSON_NODE_HOLDS_OBJECT (current))
        current = json_object_get_member (json_node_get_object (current), key);
      else if (current != NULL && key != NULL && JSON_NODE_HOLDS_ARRAY (current) &&
               (g_str_equal (key, "size") || g_str_equal (key, "first") || g_str_equal (key, "last")))
        {
          JsonArray *array = json_node_get_array (current);
          guint len = json_array_get_length (array);

          if (g_str_equal (key, "size"))
            return json_node_init_int (json_node_alloc (), len);
          current = len == 0 ? NULL : json_array_get_element (array, g_str_equal (key, "first") ? 0 : len - 1);
        }
      else if (current != NULL && index >= 0 && JSON_NODE_HOLDS_ARRAY (current) &&
               index < json_array_get_length (json_node_get_array (current)))
        current = json_array_get_element (json_node_get_array (current), (guint)index);
      else
        current = NULL;

      if (current == NULL)
        {
          if (report)
            kp_layout_problems_add (r->problems, KP_LAYOUT_SEVERITY_WARNING, token->line, token->column,
                                    _("Liquid: “%s” is not in the task input"), expr);
          return NULL;
        }
    }

  return current != NULL && !JSON_NODE_HOLDS_NULL (current) ? json_node_ref (current) : NULL;

invalid:
  kp_layout_problems_add (r->problems, KP_LAYOUT_SEVERITY_ERROR, token->line, token->column,
                          _("Liquid: “%s” is not a valid expression"), expr);
  return NULL;
}

static char *
value_to_text (JsonNode *value)
{
  if (value == NULL || JSON_NODE_HOLDS_NULL (value))
    return g_strdup ("");

  if (JSON_NODE_HOLDS_VALUE (value))
    {
      GType type = json_node_get_value_type (value);

      if (type == G_TYPE_STRING)
        return g_strdup (json_node_get_string (value));
      if (type == G_TYPE_BOOLEAN)
        return g_strdup (json_node_get_boolean (value) ? "true" : "false");
      if (type == G_TYPE_INT64)
        return g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (value));
      if (type == G_TYPE_DOUBLE)
        {
          char buffer[G_ASCII_DTOSTR_BUF_SIZE];

          return g_strdup (g_ascii_dtostr (buffer, sizeof buffer, json_node_get_double (value)));
        }
    }

  return json_to_string (value, FALSE);
}

/* An expression with its filters: a new reference, or NULL for nil. */
static JsonNode *
evaluate_filtered (Renderer    *r,
                   const char  *content,
                   const Token *token)
{
  g_auto(GStrv) parts = g_strsplit (content, "|", -1);
  JsonNode *value;

  /* {{}}: nothing to print. */
  if (parts[0] == NULL)
    return NULL;

  value = evaluate (r, parts[0], token, TRUE);

  for (guint i = 1; parts[i] != NULL; i++)
    {
      g_autofree char *filter = g_strstrip (g_strdup (parts[i]));
      g_autofree char *text = NULL;

      if (g_str_equal (filter, "to_json"))
        {
          text = value != NULL ? json_to_string (value, FALSE) : g_strdup ("null");
          g_clear_pointer (&value, json_node_unref);
          value = json_node_init_string (json_node_alloc (), text);
        }
      else if (g_str_equal (filter, "escape"))
        {
          g_autofree char *plain = value_to_text (value);

          text = g_markup_escape_text (plain, -1);
          g_clear_pointer (&value, json_node_unref);
          value = json_node_init_string (json_node_alloc (), text);
        }
      else if (g_str_equal (filter, "grant_read_access"))
        {
          /* Ground Truth turns an s3:// URL into a presigned https URL;
           * we have no S3, so the URL stays as given. */
        }
      else
        kp_layout_problems_add (r->problems, KP_LAYOUT_SEVERITY_ERROR, token->line, token->column,
                                _("Liquid: unknown filter “%s”"), filter);
    }

  return value;
}

static void
render_output (Renderer    *r,
               const Token *token)
{
  g_autoptr(JsonNode) value = evaluate_filtered (r, token->content, token);
  g_autofree char *text = value_to_text (value);

  g_string_append (r->out, text);
}

static gboolean
values_equal (JsonNode *a,
              JsonNode *b)
{
  if (a == NULL || b == NULL)
    return a == b;

  if (JSON_NODE_HOLDS_VALUE (a) && JSON_NODE_HOLDS_VALUE (b))
    {
      g_autofree char *ta = value_to_text (a);
      g_autofree char *tb = value_to_text (b);

      /* Numbers compare by value (1 == 1.0); others by their text. */
      if (json_node_get_value_type (a) != G_TYPE_STRING && json_node_get_value_type (b) != G_TYPE_STRING &&
          json_node_get_value_type (a) != G_TYPE_BOOLEAN && json_node_get_value_type (b) != G_TYPE_BOOLEAN)
        return json_node_get_double (a) == json_node_get_double (b);

      return json_node_get_value_type (a) == json_node_get_value_type (b) && g_str_equal (ta, tb);
    }

  return json_node_equal (a, b);
}

static gboolean
evaluate_condition (Renderer    *r,
                    const char  *condition,
                    const Token *token)
{
  const char *op = strstr (condition, "==");
  gboolean negate = FALSE;

  if (op == NULL)
    {
      op = strstr (condition, "!=");
      negate = op != NULL;
    }

  if (op != NULL)
    {
      g_autofree char *left = g_strndup (condition, op - condition);
      g_autoptr(JsonNode) a = evaluate (r, left, token, FALSE);
      g_autoptr(JsonNode) b = evaluate (r, op + 2, token, FALSE);

      return values_equal (a, b) != negate;
    }
  else
    {
      g_autoptr(JsonNode) value = evaluate (r, condition, token, FALSE);

      /* Liquid: only nil and false are false. */
      if (value == NULL)
        return FALSE;
      if (JSON_NODE_HOLDS_VALUE (value) && json_node_get_value_type (value) == G_TYPE_BOOLEAN)
        return json_node_get_boolean (value);
      return TRUE;
    }
}

static void render_list (Renderer  *r,
                         GPtrArray *nodes);

static void
render_list (Renderer  *r,
             GPtrArray *nodes)
{
  for (guint i = 0; i < nodes->len; i++)
    {
      LNode *node = g_ptr_array_index (nodes, i);

      switch (node->type)
        {
        case LNODE_TEXT:
          g_string_append (r->out, node->token->content);
          break;

        case LNODE_OUTPUT:
          render_output (r, node->token);
          break;

        case LNODE_IF:
          for (guint b = 0; b < node->bodies->len; b++)
            {
              const char *condition = b < node->conditions->len ? g_ptr_array_index (node->conditions, b) : NULL;
              gboolean taken = condition == NULL || (evaluate_condition (r, condition, node->token) !=
                                                     (node->negate && b == 0));

              if (taken)
                {
                  render_list (r, g_ptr_array_index (node->bodies, b));
                  break;
                }
            }
          break;

        case LNODE_FOR:
          if (node->path != NULL)
            {
              g_autoptr(JsonNode) list = evaluate (r, node->path, node->token, TRUE);
              JsonArray *array;
              guint len;

              if (list == NULL)
                break;
              if (!JSON_NODE_HOLDS_ARRAY (list))
                {
                  kp_layout_problems_add (r->problems, KP_LAYOUT_SEVERITY_ERROR, node->token->line,
                                          node->token->column, _("Liquid: “%s” is not a list"), node->path);
                  break;
                }

              array = json_node_get_array (list);
              len = json_array_get_length (array);
              for (guint k = 0; k < len; k++)
                {
                  g_autoptr(JsonObject) scope = json_object_new ();
                  g_autoptr(JsonObject) forloop = json_object_new ();

                  json_object_set_member (scope, node->variable,
                                          json_node_copy (json_array_get_element (array, k)));
                  json_object_set_int_member (forloop, "index", k + 1);
                  json_object_set_int_member (forloop, "index0", k);
                  json_object_set_boolean_member (forloop, "first", k == 0);
                  json_object_set_boolean_member (forloop, "last", k + 1 == len);
                  json_object_set_int_member (forloop, "length", len);
                  json_object_set_object_member (scope, "forloop", g_steal_pointer (&forloop));

                  g_ptr_array_add (r->scopes, scope);
                  render_list (r, g_ptr_array_index (node->bodies, 0));
                  g_ptr_array_steal_index (r->scopes, r->scopes->len - 1);
                }
            }
          break;

        case LNODE_ASSIGN:
          {
            JsonNode *value = evaluate_filtered (r, node->path, node->token);

            json_object_set_member (r->globals, node->variable,
                                    value != NULL ? value : json_node_new (JSON_NODE_NULL));
          }
          break;

        case LNODE_CAPTURE:
          {
            GString *saved = r->out;

            r->out = g_string_new (NULL);
            render_list (r, g_ptr_array_index (node->bodies, 0));
            json_object_set_string_member (r->globals, node->variable, r->out->str);
            g_string_free (r->out, TRUE);
            r->out = saved;
          }
          break;

        default:
          g_assert_not_reached ();
        }
    }
}

char *
kp_template_render_liquid (const char *text,
                           JsonNode   *input,
                           GPtrArray  *problems)
{
  g_autoptr(GArray) tokens = NULL;
  g_autoptr(GPtrArray) nodes = NULL;
  g_autoptr(GPtrArray) scopes = NULL;
  g_autoptr(JsonObject) task = NULL;
  g_autoptr(JsonObject) root = NULL;
  g_autoptr(JsonNode) root_node = NULL;
  Parser parser = { 0, };
  Renderer r = { 0, };

  g_return_val_if_fail (text != NULL, NULL);

  tokens = g_array_new (FALSE, TRUE, sizeof (Token));
  g_array_set_clear_func (tokens, token_clear);
  tokenize (text, tokens, problems);

  parser.tokens = tokens;
  parser.problems = problems;
  nodes = lnode_list_new ();
  parse_block (&parser, nodes, NULL, 0);

  task = json_object_new ();
  json_object_set_member (task, "input",
                          input != NULL ? json_node_copy (input) : json_node_new (JSON_NODE_NULL));
  root = json_object_new ();
  json_object_set_object_member (root, "task", g_steal_pointer (&task));
  root_node = json_node_init_object (json_node_alloc (), root);

  scopes = g_ptr_array_new_with_free_func ((GDestroyNotify)json_object_unref);
  r.root = root_node;
  r.globals = json_object_new ();
  r.scopes = scopes;
  r.problems = problems;
  r.out = g_string_sized_new (strlen (text));
  render_list (&r, nodes);
  json_object_unref (r.globals);

  return g_string_free (r.out, FALSE);
}
