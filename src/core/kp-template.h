/* kp-template.h: batch placeholders (${column}), the Ground Truth Liquid
 * subset, and CSV batch data
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#if !defined(KP_CORE_INSIDE) && !defined(KP_CORE_COMPILATION)
# error "Only <kp-core.h> can be included directly."
#endif

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define KP_TEMPLATE_ERROR (kp_template_error_quark ())

typedef enum
{
  KP_TEMPLATE_ERROR_INVALID,
} KpTemplateError;

GQuark      kp_template_error_quark          (void);

/* Reads CSV as RFC 4180 writes it: comma-separated fields, records ending
 * in CRLF or LF, fields in double quotes may hold commas, line breaks and
 * doubled quotes. A UTF-8 byte order mark is skipped; a last empty line
 * is not a record. Returns the records (each a GStrv), the header first.
 * Fails with KP_TEMPLATE_ERROR_INVALID for a quoted field left open, text
 * after a closing quote, or invalid UTF-8, naming the line. */
GPtrArray  *kp_template_parse_csv            (const char  *data,
                                              gssize       length,
                                              GError     **error) G_GNUC_WARN_UNUSED_RESULT;

/* The data row index (0 is the first record after the header) of records
 * as a table column name → value (missing fields are empty); NULL when
 * there is no such row. */
GHashTable *kp_template_csv_row              (GPtrArray   *records,
                                              guint        index) G_GNUC_WARN_UNUSED_RESULT;

/* Replaces MTurk's batch placeholders ${column} with the row's values,
 * HTML-escaped (the result is HTML). A placeholder whose column the row
 * lacks is left in place and reported as an error of problems
 * (KpLayoutProblem *, may be NULL) at its line and column. row NULL
 * leaves every placeholder in place, silently. */
char       *kp_template_fill_placeholders    (const char  *text,
                                              GHashTable  *row,
                                              GPtrArray   *problems) G_GNUC_WARN_UNUSED_RESULT;

/* Renders the Liquid subset of SageMaker Ground Truth templates with
 * input as task.input:
 *   {{ path }} where path is dotted members and [N] indexes from task,
 *     a for-loop variable, forloop.index / index0 / first / last, or a
 *     'string' / number literal;
 *   filters | to_json (JSON text), | escape (HTML-escaped),
 *     | grant_read_access (the URL unchanged: Ground Truth presigns S3
 *     URLs with it; we serve media as given);
 *   {% for x in path %}…{% endfor %} over arrays;
 *   {% if cond %}…{% elsif cond %}…{% else %}…{% endif %} and
 *     {% unless cond %}, with cond a value (true unless nil or false,
 *     as in Liquid) or "a == b" / "a != b";
 *   {% assign name = value | filters %} and
 *     {% capture name %}…{% endcapture %};
 *   {% raw %}…{% endraw %} and {% comment %}…{% endcomment %}.
 * Strings print as they are, numbers and booleans as text, objects and
 * arrays as JSON, nil as nothing. Unknown tags or filters, tags left
 * open, and blocks not closed are errors in problems; paths missing from
 * the input are warnings. Output of what could not be rendered is
 * empty. */
char       *kp_template_render_liquid        (const char  *text,
                                              JsonNode    *input,
                                              GPtrArray   *problems) G_GNUC_WARN_UNUSED_RESULT;

/* TRUE when text uses Liquid ({{ or {%). */
gboolean    kp_template_has_liquid           (const char  *text);

G_END_DECLS
