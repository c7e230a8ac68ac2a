/* kp-question.h: MTurk question XML (QuestionForm, HTMLQuestion,
 * ExternalQuestion) and answer XML (QuestionFormAnswers)
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

#define KP_QUESTION_ERROR (kp_question_error_quark ())

typedef enum
{
  KP_QUESTION_ERROR_INVALID,
  KP_QUESTION_ERROR_TOO_LARGE,
} KpQuestionError;

GQuark kp_question_error_quark (void);

typedef enum
{
  KP_QUESTION_FORM,
  KP_QUESTION_HTML,
  KP_QUESTION_EXTERNAL,
} KpQuestionKind;

/* The largest Question parameter MTurk accepts, in bytes. */
#define KP_QUESTION_MAX_LENGTH 131072

/* What kp_question_parse() returns. Only kp_question_parse() makes one:
 * it also keeps, out of sight, what kp_question_answers_to_xml() needs to
 * check answers against a QuestionForm (required questions, selections,
 * constraints). */
typedef struct
{
  KpQuestionKind  kind;
  char           *external_url;   /* ExternalQuestion: ExternalURL (https only, as MTurk), else NULL */
  char           *html_content;   /* HTMLQuestion: HTMLContent text (CDATA unwrapped), else NULL */
  int             frame_height;   /* HTMLQuestion / ExternalQuestion FrameHeight (0 = MTurk's "0" meaning full), -1 for QuestionForm */
  GPtrArray      *question_ids;   /* QuestionForm: every QuestionIdentifier (char *), in order; empty for the others */
} KpQuestionInfo;

void            kp_question_info_free (KpQuestionInfo *info);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (KpQuestionInfo, kp_question_info_free)

/* Parses and checks a Question parameter (at most KP_QUESTION_MAX_LENGTH
 * bytes, else KP_QUESTION_ERROR_TOO_LARGE; length -1 means NUL-terminated).
 *
 * The kind is told by the root element and its namespace,
 * http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/DATE/NAME.xsd:
 * QuestionForm with DATE 2005-10-01 or 2017-11-06, HTMLQuestion with
 * 2011-11-11, ExternalQuestion with 2006-07-14, as MTurk publishes them.
 *
 * A QuestionForm is checked against the structure of MTurk's schema:
 * (Overview | Question)+; each Question has a unique, non-empty
 * QuestionIdentifier, optional DisplayName and IsRequired, QuestionContent
 * and an AnswerSpecification holding one FreeTextAnswer, SelectionAnswer or
 * FileUploadAnswer (2005-10-01 only: the 2017-11-06 schema dropped it), in
 * the schema's order. Content is Title, Text, List/ListItem, Binary,
 * EmbeddedBinary and FormattedContent; Application (Java applets, Flash) is
 * refused, as MTurk no longer runs them. Regular expressions, numbers,
 * ranges and URLs are checked too.
 *
 * Anything else (another root or namespace, XML that is not well-formed, a
 * DOCTYPE or entity declaration, XInclude, nesting deeper than 256
 * elements, invalid UTF-8) is KP_QUESTION_ERROR_INVALID, with a message for
 * the requester naming the problem and its line, e.g.
 * "Question is not valid: line 3: QuestionIdentifier “q1” is used twice".
 * The parser never touches the network, never loads or substitutes
 * entities and keeps libxml2's size limits. Thread-safe. */
KpQuestionInfo *kp_question_parse          (const char            *xml,
                                            gssize                 length,
                                            GError               **error) G_GNUC_WARN_UNUSED_RESULT;

/* Turns a worker's answers into MTurk's QuestionFormAnswers XML (namespace
 * .../2005-10-01/QuestionFormAnswers.xsd), as GetAssignment returns it:
 * one line, encoding="ASCII", every other character as a character
 * reference.
 *
 * answers is a JSON array of objects, each
 *   {"QuestionIdentifier": "…", and exactly one of
 *    "FreeText": "…" |
 *    "SelectionIdentifier": ["a", …] (optionally "OtherSelectionText": "…") |
 *    "UploadedFileKey": "…", "UploadedFileSizeInBytes": N}.
 *
 * When info is a QuestionForm, every identifier must be one of its
 * questions and answered in the matching way, IsRequired questions must be
 * answered (non-empty text, at least one selection), selections must be
 * among the question's Selections ("OtherSelectionText" only with an
 * OtherSelection), Min/MaxSelectionCount hold, file sizes are within range,
 * and FreeText (and other-selection text) meets its Constraints: IsNumeric
 * with minValue/maxValue, Length, and every AnswerFormatRegex (its errorText
 * is the message). Constraints of an optional question are not applied to an
 * empty answer. For an HTMLQuestion or ExternalQuestion, or when info is
 * NULL, any identifiers are accepted (crowd-form sends one "taskAnswers"
 * FreeText holding a JSON array). Violations, invalid UTF-8 and characters
 * XML cannot carry are KP_QUESTION_ERROR_INVALID naming the question. */
char           *kp_question_answers_to_xml   (const KpQuestionInfo  *info,
                                              JsonArray             *answers,
                                              GError               **error) G_GNUC_WARN_UNUSED_RESULT;

/* The inverse: QuestionFormAnswers XML (in the namespace above) to the
 * JSON array above. An Answer with neither FreeText, selections nor a
 * file becomes an empty "SelectionIdentifier" list, as MTurk writes a
 * selection question the worker left empty. */
JsonArray      *kp_question_answers_from_xml (const char            *xml,
                                              GError               **error) G_GNUC_WARN_UNUSED_RESULT;

G_END_DECLS
